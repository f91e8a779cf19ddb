/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to radl_check: what check.c (the rules) and check_yaml.c (recipe YAML) share. */
#ifndef RADL_CHECK_INT_H
#define RADL_CHECK_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "imc/err.h"
#include "imc/radl.h"

/* The state of one radl_check() run. */
struct check {
  const struct imc_doc *doc;
  struct imc_err *err;
  const char *outer; /* the `contains` feature whose inner features are being checked */
};

/* Names and strings for messages: a document built by hand may leave one NULL. */
static inline const char *text(const char *s)
{
  return s ? s : "";
}

static inline int nomem(struct check *c)
{
  return imc_fail(c->err, IMC_E_NOMEM, "out of memory");
}

/* An IMC_E_INVAL about the document: "file:line:col: <message>". */
static inline int fail_pos(struct check *c, struct imc_pos pos, const char *fmt, ...)
  IMC_PRINTF(3, 4);

static inline int fail_pos(struct check *c, struct imc_pos pos, const char *fmt, ...)
{
  char msg[IMC_ERR_MSG_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return imc_fail_at(c->err, IMC_E_INVAL, c->doc->source, pos.line, pos.col, "%s", msg);
}

/* Validates the recipe of configure k (neither a reference nor NULL) as YAML, as IM's
 * configure.check does with yaml.safe_load; the first problem is an IMC_E_INVAL at its
 * line:col in the document (check_yaml.c). */
int radl_check_recipe(struct check *c, const struct imc_configure *k);

#endif
