/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "imc/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void imc_err_clear(struct imc_err *e)
{
  if (!e)
    return;
  e->code = IMC_OK;
  e->retry = false;
  e->status = 0;
  e->msg[0] = '\0';
}

static int fail_v(struct imc_err *e, enum imc_code code, const char *prefix, const char *fmt,
                  va_list ap) IMC_PRINTF(4, 0);

static int fail_v(struct imc_err *e, enum imc_code code, const char *prefix, const char *fmt,
                  va_list ap)
{
  size_t used;

  if (!e || e->code != IMC_OK)
    return code;
  e->code = code;
  e->retry = false;
  snprintf(e->msg, sizeof e->msg, "%s", prefix);
  used = strlen(e->msg);
  vsnprintf(e->msg + used, sizeof e->msg - used, fmt, ap);
  return code;
}

int imc_fail(struct imc_err *e, enum imc_code code, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fail_v(e, code, "", fmt, ap);
  va_end(ap);
  return code;
}

int imc_fail_at(struct imc_err *e, enum imc_code code, const char *file, int line, int col,
                const char *fmt, ...)
{
  char prefix[192];
  va_list ap;

  if (file)
    snprintf(prefix, sizeof prefix, "%.150s:%d:%d: ", file, line, col);
  else
    snprintf(prefix, sizeof prefix, "%d:%d: ", line, col);
  va_start(ap, fmt);
  fail_v(e, code, prefix, fmt, ap);
  va_end(ap);
  return code;
}

const char *imc_code_name(enum imc_code code)
{
  static const char *const names[] = {
#define IMC_CODE_NAME(name, text) text,
    IMC_CODES(IMC_CODE_NAME)
#undef IMC_CODE_NAME
  };

  if ((unsigned)code >= sizeof names / sizeof names[0])
    return "unknown";
  return names[code];
}

int imc_err_prefix(struct imc_err *e, const char *fmt, ...)
{
  char old[IMC_ERR_MSG_MAX];
  size_t n;
  va_list ap;

  if (!e)
    return IMC_E_INTERNAL;
  snprintf(old, sizeof old, "%s", e->msg);
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  n = strlen(e->msg);
  snprintf(e->msg + n, sizeof e->msg - n, "%s", old);
  return e->code;
}
