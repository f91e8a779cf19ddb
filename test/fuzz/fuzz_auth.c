/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Auth data: parse as the server and as the client, check, look up, and print as JSON.  What
 * prints must read back as the same entries; a broken promise aborts. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "imc/auth.h"
#include "imc/buf.h"

static bool same_entries(const struct imc_auth *a, const struct imc_auth *b)
{
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++) {
    const struct imc_auth_entry *x = &a->entries[i], *y = &b->entries[i];

    if (x->n != y->n)
      return false;
    for (size_t j = 0; j < x->n; j++)
      if (strcmp(x->kv[j].key, y->kv[j].key) != 0 || strcmp(x->kv[j].value, y->kv[j].value) != 0)
        return false;
  }
  return true;
}

/* Prints a as JSON (plain and redacted) and reads the plain form back on the server side.  A
 * value that reads file(...) is refused there, as it should be: no comparison then. */
static void json_round_trip(const struct imc_auth *a)
{
  struct imc_auth again;
  struct imc_buf out;
  struct imc_err err;
  int r;

  imc_auth_init(&again);
  imc_buf_init(&out, IMC_MAX_DOC);
  imc_err_clear(&err);
  if (imc_auth_to_json(a, false, &out, &err) != 0)
    abort();
  r = imc_auth_parse("printed.json", imc_buf_cstr(&out), out.len, IMC_AUTH_SERVER, &again, &err);
  if (r != 0 && r != IMC_E_AUTH)
    abort();
  if (r == 0 && !same_entries(a, &again))
    abort();
  imc_buf_reset(&out);
  if (imc_auth_to_json(a, true, &out, &err) != 0)
    abort();
  imc_buf_free(&out);
  imc_auth_cleanup(&again);
}

static void exercise(const struct imc_auth *a)
{
  struct imc_err err;
  size_t pos = 0;

  imc_err_clear(&err);
  (void)imc_auth_check(a, &err);
  (void)imc_auth_by_id(a, "one");
  while (imc_auth_next_of_type(a, "OpenStack", "h", &pos))
    ;
  json_round_trip(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct imc_auth a;
  struct imc_err err;

  imc_auth_init(&a);
  imc_err_clear(&err);
  if (imc_auth_parse("fuzz.dat", (const char *)data, size, IMC_AUTH_SERVER, &a, &err) == 0)
    exercise(&a);
  imc_auth_cleanup(&a);
  /* The client reads the files that file() values name: only inputs without a '/', whose
   * file() names are then relative to the working directory (run the fuzzer from one without
   * FIFOs), so that no input can make it read a device or a FIFO and block.  It also runs
   * the commands that command() values name: inputs with one are never parsed as a client's,
   * or the fuzzer would run whatever program it spells. */
  if (!memchr(data, '/', size) && !memmem(data, size, "command(", 8)) {
    imc_err_clear(&err);
    if (imc_auth_parse("fuzz.dat", (const char *)data, size, IMC_AUTH_CLIENT, &a, &err) == 0)
      exercise(&a);
    imc_auth_cleanup(&a);
  }
  return 0;
}
