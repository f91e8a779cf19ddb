/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to the JSON RADL files: what json_write.c and json_read.c share. */
/* IM's JSON form of RADL (radl_json.py): a list of objects with a "class".  Features become
 * flat keys: numbers in base units, intervals as NAME_min / NAME_max, `contains` as a list of
 * objects, soft groups under "softs".  jansson does the JSON; json_write.c and json_read.c map
 * it to the model and back, and json_read.c finds line:col in the raw text for the errors
 * jansson cannot place. */
#ifndef RADL_JSON_INT_H
#define RADL_JSON_INT_H

#include <stdbool.h>
#include <string.h>

#include "imc/err.h"

/* Points jansson's allocator at imc's wrappers, once per process (in json_read.c, which also
 * watches for jansson's allocation failures).  Call before any other jansson call. */
void radl_json_alloc_init(void);

static inline int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

static inline bool ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), t = strlen(tail);

  return n >= t && strcmp(s + n - t, tail) == 0;
}

#endif
