/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A growable byte buffer with a hard size limit and a sticky error: append freely,
 * check imc_buf_err() once at the end (as SQLite's StrAccum). */
#ifndef IMC_BUF_H
#define IMC_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "imc/err.h"

struct imc_buf {
  char *data; /* NUL-terminated whenever len > 0 */
  size_t len, cap, max;
  int err; /* first failure (IMC_E_NOMEM or IMC_E_TOOBIG), sticky */
};

/* A borrowed view of bytes; never freed through the view. */
struct imc_str {
  const char *p;
  size_t n;
};

/* No allocation, cannot fail.  max bounds len (excluding the terminating NUL). */
void imc_buf_init(struct imc_buf *b, size_t max);
void imc_buf_add(struct imc_buf *b, const void *p, size_t n);
void imc_buf_adds(struct imc_buf *b, const char *s);
void imc_buf_addc(struct imc_buf *b, char c);
void imc_buf_addf(struct imc_buf *b, const char *fmt, ...) IMC_PRINTF(2, 3);
void imc_buf_vaddf(struct imc_buf *b, const char *fmt, va_list ap) IMC_PRINTF(2, 0);
/* Appends all n bytes or nothing, and leaves b (its error included) as it was when it
 * fails: for writers that promise to leave the caller's buffer untouched on failure.
 * Returns 0, IMC_E_TOOBIG or IMC_E_NOMEM (or b's own earlier failure, changing nothing). */
int imc_buf_add_whole(struct imc_buf *b, const void *p, size_t n);
/* Returns 0 or the first failure. */
int imc_buf_err(const struct imc_buf *b);
/* The contents as a C string (never NULL; "" when empty).  Borrowed. */
const char *imc_buf_cstr(const struct imc_buf *b);
/* Hands the contents (NUL-terminated, never NULL unless out of memory) to the caller,
 * who frees them with imc_free(); b is reset to empty.  *len may be NULL. */
char *imc_buf_take(struct imc_buf *b, size_t *len);
void imc_buf_reset(struct imc_buf *b);
void imc_buf_free(struct imc_buf *b);

/* Named limits. */
#define IMC_MAX_DOC (64u * 1024 * 1024) /* one RADL/JSON/TOSCA document */

/* Reads a whole file into b (appending).  Errors: IMC_E_IO with the path and the reason,
 * IMC_E_TOOBIG past b->max. */
int imc_read_file(const char *path, struct imc_buf *b, struct imc_err *err);
/* The same for an open stream (standard input); name is used in messages. */
int imc_read_stream(FILE *f, const char *name, struct imc_buf *b, struct imc_err *err);

#endif
