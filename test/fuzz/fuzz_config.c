/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd.conf text, then the same bytes as environment variables (one per line, IMC_ put in
 * front).  Either may be rejected, but a rejection must carry its message, and a rejected load
 * must leave the configuration as it was (the defaults, here). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "imc/alloc.h"
#include "imc/config.h"
#include "imc/log.h"

#define MAX_VARS 32

/* A rejected load or environment leaves every value as it was. */
static void check_unchanged(const struct imc_config *c)
{
  if (c->rest_port != 8800 || strcmp(c->admin_user, "[]") != 0 || c->private_net_masks.n != 7 ||
      strcmp(c->cors_origin, "*") != 0)
    abort();
}

static void check_rejection(const struct imc_err *err, const char *prefix)
{
  if (err->code == IMC_OK || strncmp(err->msg, prefix, strlen(prefix)) != 0)
    abort();
}

/* The input's lines as IMC_ variables. */
static void fuzz_env(const char *data, size_t size)
{
  char *vars[MAX_VARS + 1] = {NULL};
  struct imc_config cfg;
  struct imc_err err;
  size_t n = 0, start = 0;

  imc_err_clear(&err);
  if (imc_config_init(&cfg, &err) != 0)
    abort();
  for (size_t i = 0; i <= size && n < MAX_VARS; i++) {
    if (i < size && data[i] != '\n')
      continue;
    vars[n] = imc_malloc(i - start + 5);
    if (!vars[n])
      break;
    memcpy(vars[n], "IMC_", 4);
    memcpy(vars[n] + 4, data + start, i - start);
    vars[n][i - start + 4] = '\0';
    n++;
    start = i + 1;
  }
  if (imc_config_env(&cfg, vars, &err) != 0) {
    check_rejection(&err, "environment variable ");
    check_unchanged(&cfg);
  }
  for (size_t i = 0; i < n; i++)
    imc_free(vars[i]);
  imc_config_cleanup(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct imc_config cfg;
  struct imc_err err;

  imc_log_set_level(IMC_LOG_ERROR); /* unknown options are warnings: keep them quiet */
  imc_err_clear(&err);
  if (imc_config_init(&cfg, &err) != 0)
    abort();
  if (imc_config_load(&cfg, "fuzz.conf", (const char *)data, size, &err) == 0) {
    imc_err_clear(&err);
    (void)imc_config_check(&cfg, &err);
  } else {
    check_rejection(&err, "fuzz.conf");
    check_unchanged(&cfg);
  }
  imc_config_cleanup(&cfg);
  if (!memchr(data, '\0', size))
    fuzz_env((const char *)data, size);
  return 0;
}
