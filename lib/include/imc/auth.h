/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's authorisation data: one entry per line of an auth file
 *   id = one; type = OpenStack; host = https://keystone:5000; username = u; password = 'p;q'
 * or one JSON list of objects.  The entry of type InfrastructureManager identifies the caller
 * (username and password, or token); the others carry one cloud's credentials each, chosen by
 * `id` (a deploy's cloud id) or by `type`.  Values are secrets as often as not: they are wiped
 * when freed and redacted wherever they could be printed. */
#ifndef IMC_AUTH_H
#define IMC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "imc/buf.h"
#include "imc/err.h"

struct imc_auth_kv {
  char *key;
  char *value;
};

struct imc_auth_entry {
  struct imc_auth_kv *kv; /* in the order written */
  size_t n, cap;
  int line; /* where it was read; 0 when built in code */
};

struct imc_auth {
  struct imc_auth_entry *entries;
  size_t n, cap;
};

/* Where the data is read.  A client resolves `file(PATH)` values by reading PATH, as
 * im-client does; a server must never read files a caller names, so there it is an error. */
enum imc_auth_side { IMC_AUTH_CLIENT, IMC_AUTH_SERVER };

void imc_auth_init(struct imc_auth *a);
/* Frees every entry, wiping keys' values first. */
void imc_auth_cleanup(struct imc_auth *a);

/* Parses auth data: a JSON list of objects, or lines as IM's read_auth_data reads them
 * (`#` comments, blank lines, `;`-separated `key = value` pairs, single or double quotes
 * protecting `;` and `=`, `\n` in a value meaning a newline).  Appends to *a.  Errors are
 * "source:line:col: message" and never contain a value. */
int imc_auth_parse(const char *source, const char *text, size_t len, enum imc_auth_side side,
                   struct imc_auth *a, struct imc_err *err);
int imc_auth_parse_file(const char *path, enum imc_auth_side side, struct imc_auth *a,
                        struct imc_err *err);

/* Appends an empty entry (for auth data that arrives as XML-RPC structs); NULL on failure.
 * The pointer is valid until the next append. */
struct imc_auth_entry *imc_auth_add_entry(struct imc_auth *a);
/* Sets key to value in e (replacing an earlier value).  0 or IMC_E_NOMEM. */
int imc_auth_entry_set(struct imc_auth_entry *e, const char *key, const char *value);

/* The value of key in e, or NULL.  Borrowed. */
const char *imc_auth_get(const struct imc_auth_entry *e, const char *key);
/* The first entry with that id, or NULL. */
const struct imc_auth_entry *imc_auth_by_id(const struct imc_auth *a, const char *id);
/* The entries of a type, in order: call with *pos = 0, then again while it returns non-NULL.
 * host, when not NULL, must appear in the entry's host (IM's getAuthInfo). */
const struct imc_auth_entry *imc_auth_next_of_type(const struct imc_auth *a, const char *type,
                                                   const char *host, size_t *pos);

/* Validates IM's rules: an `id` matches [a-zA-Z_.][A-Za-z0-9_.-]*; every entry has a type.
 * Returns IMC_E_AUTH with a message naming the entry's line. */
int imc_auth_check(const struct imc_auth *a, struct imc_err *err);

/* True for keys whose values must never be shown (password, token, private keys, ...). */
bool imc_auth_key_is_secret(const char *key);

/* Writes the entries as IM's JSON list; with redact, secret values become "***".
 * Appends to out. */
int imc_auth_to_json(const struct imc_auth *a, bool redact, struct imc_buf *out,
                     struct imc_err *err);

#endif
