/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "imc/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum imc_log_level imc_log_threshold = IMC_LOG_WARN;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

static void stderr_sink(enum imc_log_level level, const char *file, int line, const char *msg,
                        void *ctx)
{
  (void)file;
  (void)line;
  (void)ctx;
  fprintf(stderr, "imc: %s: %s\n", level_names[level], msg);
}

static imc_log_sink sink = stderr_sink;
static void *sink_ctx;

void imc_log_set_level(enum imc_log_level level)
{
  imc_log_threshold = level;
}

int imc_log_level_parse(const char *name)
{
  static const struct {
    const char *name;
    enum imc_log_level level;
  } table[] = {
    {"error", IMC_LOG_ERROR}, {"warn", IMC_LOG_WARN}, {"warning", IMC_LOG_WARN},
    {"info", IMC_LOG_INFO},   {"debug", IMC_LOG_DEBUG},
  };

  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcasecmp(name, table[i].name) == 0)
      return (int)table[i].level;
  return -1;
}

void imc_log_set_sink(imc_log_sink s, void *ctx)
{
  sink = s ? s : stderr_sink;
  sink_ctx = s ? ctx : NULL;
}

void imc_log_write(enum imc_log_level level, const char *file, int line, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sink(level, file, line, msg, sink_ctx);
}
