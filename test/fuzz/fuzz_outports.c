/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A network's outports string: parse it, and hold the parser to what it returns (ports in
 * range, a range never upside down, a known protocol, a terminated CIDR). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "imc/alloc.h"
#include "imc/radl.h"

/* What every parsed item must satisfy; a violation aborts. */
static void check_item(const struct radl_outport *o)
{
  if (o->port_init > 65535 || o->port_end > 65535)
    abort();
  if (o->is_range && o->port_init > o->port_end)
    abort();
  if (radl_proto_name(o->proto) == NULL)
    abort();
  if (memchr(o->cidr, '\0', sizeof o->cidr) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct radl_outport *items = NULL;
  struct imc_err err;
  size_t n = 0;
  char *text;

  /* The parser takes a C string: inputs with a NUL inside are cut there, as C callers would. */
  text = imc_strndup((const char *)data, size);
  if (text == NULL)
    return 0;
  imc_err_clear(&err);
  if (radl_outports_parse(text, &items, &n, &err) == 0) {
    for (size_t i = 0; i < n; i++)
      check_item(&items[i]);
  }
  imc_free(items);
  imc_free(text);
  return 0;
}
