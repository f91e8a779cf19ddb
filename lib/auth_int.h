/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal: what auth.c (entries, the line form) and auth_json.c (the JSON form) share. */
#ifndef IMC_AUTH_INT_H
#define IMC_AUTH_INT_H

#include <stddef.h>

#include "imc/auth.h"
#include "imc/err.h"

/* What one reading needs to report errors. */
struct rd {
  const char *source;
  enum imc_auth_side side;
  struct imc_err *err;
  int line;        /* current line, 1-based */
  const char *bol; /* start of the current line, for columns */
};

/* --- auth.c ------------------------------------------------------------------------------- */

/* Sets key to value in e, taking both strings (also on failure); 0 or IMC_E_NOMEM. */
int auth_entry_put(struct imc_auth_entry *e, char *key, char *value);

/* Resolves im-client's file(PATH) and command(CMD) values on a client: *value is replaced by
 * the file's contents (stripped) or by what CMD prints (newlines removed; CMD split on single
 * spaces, run without a shell).  A server refuses both with IMC_E_AUTH.  Other values are
 * left alone.  col is where the value starts, for messages. */
int auth_resolve_file(struct rd *rd, const char *key, char **value, int col);

/* Offset of the first NUL byte or invalid UTF-8 sequence in s, or n when there is none. */
size_t auth_first_bad_byte(const char *s, size_t n);

/* --- auth_json.c -------------------------------------------------------------------------- */

/* Reads IM's JSON form (a list of objects of strings) into new entries of a. */
int auth_read_json(struct rd *rd, struct imc_auth *a, const char *text, size_t len);

#endif
