/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "imc/buf.h"
#include "imc/alloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void imc_buf_init(struct imc_buf *b, size_t max)
{
  b->data = NULL;
  b->len = b->cap = 0;
  b->max = max;
  b->err = 0;
}

/* Makes room for n more bytes plus the NUL.  Sets the sticky error on failure. */
static int reserve(struct imc_buf *b, size_t n)
{
  size_t need, ncap;
  char *p;

  if (b->err)
    return b->err;
  if (__builtin_add_overflow(b->len, n, &need) || need > b->max) {
    b->err = IMC_E_TOOBIG;
    return b->err;
  }
  need += 1;
  if (need <= b->cap)
    return 0;
  ncap = b->cap ? b->cap : 64;
  while (ncap < need)
    ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
  p = imc_realloc(b->data, ncap);
  if (!p) {
    b->err = IMC_E_NOMEM;
    return b->err;
  }
  b->data = p;
  b->cap = ncap;
  return 0;
}

void imc_buf_add(struct imc_buf *b, const void *p, size_t n)
{
  if (reserve(b, n))
    return;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

int imc_buf_add_whole(struct imc_buf *b, const void *p, size_t n)
{
  int r;

  if (b->err)
    return b->err;
  imc_buf_add(b, p, n);
  r = b->err;
  b->err = 0; /* a failed add changed nothing else */
  return r;
}

void imc_buf_adds(struct imc_buf *b, const char *s)
{
  imc_buf_add(b, s, strlen(s));
}

void imc_buf_addc(struct imc_buf *b, char c)
{
  imc_buf_add(b, &c, 1);
}

void imc_buf_vaddf(struct imc_buf *b, const char *fmt, va_list ap)
{
  va_list copy;
  int n;

  if (b->err)
    return;
  va_copy(copy, ap);
  n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0) {
    b->err = IMC_E_INTERNAL;
    return;
  }
  if (reserve(b, (size_t)n))
    return;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void imc_buf_addf(struct imc_buf *b, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  imc_buf_vaddf(b, fmt, ap);
  va_end(ap);
}

int imc_buf_err(const struct imc_buf *b)
{
  return b->err;
}

const char *imc_buf_cstr(const struct imc_buf *b)
{
  return b->data ? b->data : "";
}

char *imc_buf_take(struct imc_buf *b, size_t *len)
{
  char *d = b->data;

  if (!d)
    d = imc_strdup("");
  if (len)
    *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  b->err = 0;
  return d;
}

void imc_buf_reset(struct imc_buf *b)
{
  b->len = 0;
  b->err = 0;
  if (b->data)
    b->data[0] = '\0';
}

void imc_buf_free(struct imc_buf *b)
{
  imc_free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

int imc_read_stream(FILE *f, const char *name, struct imc_buf *b, struct imc_err *err)
{
  char chunk[65536];
  size_t n;

  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    imc_buf_add(b, chunk, n);
    if (imc_buf_err(b))
      break;
  }
  explicit_bzero(chunk, sizeof chunk); /* what was read may be a config or auth file */
  if (ferror(f))
    return imc_fail(err, IMC_E_IO, "%s: read error: %s", name, strerror(errno));
  if (imc_buf_err(b) == IMC_E_TOOBIG)
    return imc_fail(err, IMC_E_TOOBIG, "%s: larger than the limit of %zu bytes", name, b->max);
  if (imc_buf_err(b))
    return imc_fail(err, IMC_E_NOMEM, "%s: out of memory", name);
  return 0;
}

int imc_read_file(const char *path, struct imc_buf *b, struct imc_err *err)
{
  FILE *f;
  int r;

  f = fopen(path, "rbe");
  if (!f)
    return imc_fail(err, IMC_E_IO, "%s: %s", path, strerror(errno));
  r = imc_read_stream(f, path, b, err);
  fclose(f);
  return r;
}
