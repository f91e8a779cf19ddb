/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal: the option table of config.c, shared with the doc writer in config_doc.c. */
#ifndef IMC_CONFIG_INT_H
#define IMC_CONFIG_INT_H

#include <stddef.h>

#include "imc/config.h"

enum opt_type { T_INT, T_BOOL, T_STRING, T_LIST, T_USERS };

struct opt {
  const char *name;
  enum opt_type type;
  const char *def, *im_def;
  long min, max;
  const char *(*check)(const char *s); /* NULL or "what was expected" */
  unsigned flags;
  size_t off;
  const char *help;
};

/* One row per X of IMC_CONFIG_OPTIONS, so the count is a constant in every file. */
#define CONFIG_COUNT_OPT(...) +1
#define CONFIG_N_OPTS         (0 IMC_CONFIG_OPTIONS(CONFIG_COUNT_OPT))

/* The options, in IMC_CONFIG_OPTIONS's order (config.c). */
extern const struct opt config_opts[CONFIG_N_OPTS];

/* Options of IM 1.19.2 that imc reads and ignores (config.c). */
extern const char *const config_im_unsupported[];
extern const size_t config_n_im_unsupported;

/* The name of a value type in the documentation's Type column. */
const char *config_type_doc(enum opt_type t);

#endif
