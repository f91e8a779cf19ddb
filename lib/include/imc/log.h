/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Leveled logging.  imc_log tests the level before it evaluates its arguments.
 * Log ids (infrastructure, VM, auth entry), never credentials or bodies carrying them. */
#ifndef IMC_LOG_H
#define IMC_LOG_H

#include "imc/err.h"

enum imc_log_level { IMC_LOG_ERROR, IMC_LOG_WARN, IMC_LOG_INFO, IMC_LOG_DEBUG };

/* Where log lines go.  The default sink writes "imc: LEVEL: message" to stderr. */
typedef void (*imc_log_sink)(enum imc_log_level level, const char *file, int line,
                             const char *msg, void *ctx);

extern enum imc_log_level imc_log_threshold;

void imc_log_set_level(enum imc_log_level level);
/* Parses "error", "warn"(ing), "info", "debug"; returns -1 for anything else. */
int imc_log_level_parse(const char *name);
void imc_log_set_sink(imc_log_sink sink, void *ctx);
void imc_log_write(enum imc_log_level level, const char *file, int line, const char *fmt, ...)
  IMC_PRINTF(4, 5);

#define imc_log(level, ...)                                    \
  do {                                                         \
    if ((level) <= imc_log_threshold)                          \
      imc_log_write((level), __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#endif
