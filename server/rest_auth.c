/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's Authorization header as auth data.  Everything here may be a secret: the copies are
 * wiped before they are freed, and messages name positions, never values. */
#include <string.h>

#include "imc/alloc.h"
#include "rest_int.h"

#define IM_TYPE      "InfrastructureManager"
#define NO_AUTH_DATA "No authentication data provided"

/* The value of a base64 digit, or -1. */
static int b64_value(unsigned char ch)
{
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

int rest_base64_decode(const char *in, size_t len, char **out, size_t *n, struct imc_err *err)
{
  char *buf;
  size_t o = 0;

  *out = NULL;
  if (len % 4 != 0)
    return imc_fail(err, IMC_E_INVAL, "base64 text of a length that is not a multiple of 4");
  if (!(buf = imc_malloc(len / 4 * 3 + 1)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < len; i += 4) {
    int v[4];
    size_t pad = 0;

    for (size_t k = 0; k < 4; k++) {
      unsigned char ch = (unsigned char)in[i + k];

      /* '=' only at the end, at most two, and nothing after it. */
      if (ch == '=' && i + 4 == len && k >= 2 && (k == 3 || in[i + 3] == '=')) {
        v[k] = 0;
        pad++;
        continue;
      }
      if ((v[k] = b64_value(ch)) < 0) {
        explicit_bzero(buf, o);
        imc_free(buf);
        return imc_fail(err, IMC_E_INVAL, "not base64 text (at byte %zu)", i + k + 1);
      }
    }
    buf[o++] = (char)(v[0] << 2 | v[1] >> 4);
    if (pad < 2)
      buf[o++] = (char)((v[1] & 0xf) << 4 | v[2] >> 2);
    if (pad < 1)
      buf[o++] = (char)((v[2] & 0x3) << 6 | v[3]);
  }
  buf[o] = '\0';
  *out = buf;
  *n = o;
  return 0;
}

/* Appends an InfrastructureManager entry with key1 = v1 and key2 = v2 (v2 may be NULL). */
static int add_im_entry(struct imc_auth *a, const char *key1, const char *v1, const char *key2,
                        const char *v2, struct imc_err *err)
{
  struct imc_auth_entry *e = imc_auth_add_entry(a);

  if (!e || imc_auth_entry_set(e, "type", IM_TYPE) || imc_auth_entry_set(e, key1, v1) ||
      (v2 && imc_auth_entry_set(e, key2, v2)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory reading the Authorization header");
  return 0;
}

/* `Basic base64(user:pass)`: the user and password of the InfrastructureManager. */
static int auth_basic(const char *b64, struct imc_auth *a, struct imc_err *err)
{
  struct imc_err derr;
  char *text = NULL, *colon;
  size_t n = 0;
  int r;

  imc_err_clear(&derr);
  if (rest_base64_decode(b64, strlen(b64), &text, &n, &derr) != 0)
    return imc_fail(err, IMC_E_AUTH, "Invalid Basic authorization: %s", derr.msg);
  colon = strchr(text, ':');
  if (strlen(text) != n || !colon) {
    r = imc_fail(err, IMC_E_AUTH, "Invalid Basic authorization: expected user:password");
    goto out;
  }
  *colon = '\0'; /* RFC 7617: the user name ends at the first colon */
  r = add_im_entry(a, "username", text, "password", colon + 1, err);
out:
  explicit_bzero(text, n); /* all n bytes: the text may hold a NUL */
  imc_free(text);
  return r;
}

/* IM's own form: lines joined by the two characters `\n`; inside a value the three
 * characters `\\n` stand for a newline.  The lines are handed to imc_auth_parse, which reads
 * `\n` in a value as a newline, so `\\n` becomes `\n` and the separator a real newline. */
static int auth_lines(const char *h, struct imc_auth *a, struct imc_err *err)
{
  struct imc_err perr;
  size_t len = strlen(h), o = 0;
  char *text = imc_malloc(len + 1);
  int r;

  if (!text)
    return imc_fail(err, IMC_E_NOMEM, "out of memory reading the Authorization header");
  for (size_t i = 0; i < len;) {
    if (h[i] == '\\' && h[i + 1] == '\\' && h[i + 2] == 'n') {
      text[o++] = '\\';
      text[o++] = 'n';
      i += 3;
    } else if (h[i] == '\\' && h[i + 1] == 'n') {
      text[o++] = '\n';
      i += 2;
    } else {
      text[o++] = h[i++];
    }
  }
  text[o] = '\0';
  imc_err_clear(&perr);
  r = imc_auth_parse("Authorization", text, o, IMC_AUTH_SERVER, a, &perr);
  if (r == IMC_E_NOMEM)
    r = imc_fail(err, r, "%s", perr.msg);
  else if (r)
    r = imc_fail(err, IMC_E_AUTH, "Invalid authentication data: %s", perr.msg);
  imc_free_secret(text);
  return r;
}

/* A JSON list (IM >= 1.19.1 reads a one-line header as JSON first): as it is, since JSON
 * has its own escapes. */
static int auth_json(const char *h, struct imc_auth *a, struct imc_err *err)
{
  struct imc_err perr;
  int r;

  imc_err_clear(&perr);
  r = imc_auth_parse("Authorization", h, strlen(h), IMC_AUTH_SERVER, a, &perr);
  if (r == IMC_E_NOMEM)
    return imc_fail(err, r, "%s", perr.msg);
  if (r)
    return imc_fail(err, IMC_E_AUTH, "Invalid authentication data: %s", perr.msg);
  return 0;
}

int rest_auth_parse(const char *header, struct imc_auth *a, struct imc_err *err)
{
  const char *p = header;
  size_t before = a->n;
  int r;

  if (p)
    p += strspn(p, " \t");
  if (!p || !*p)
    return imc_fail(err, IMC_E_AUTH, NO_AUTH_DATA);
  if (strncmp(p, "Basic ", 6) == 0)
    r = auth_basic(p + 6 + strspn(p + 6, " \t"), a, err);
  else if (strncmp(p, "Bearer ", 7) == 0) {
    const char *t = p + 7 + strspn(p + 7, " \t");
    size_t tlen = strlen(t);
    char *token;

    while (tlen > 0 && (t[tlen - 1] == ' ' || t[tlen - 1] == '\t'))
      tlen--;
    if (!(token = imc_strndup(t, tlen)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory reading the Authorization header");
    r = add_im_entry(a, "token", token, NULL, NULL, err);
    imc_free_secret(token);
  } else if (*p == '[' || *p == '{') {
    r = auth_json(p, a, err);
  } else {
    r = auth_lines(p, a, err);
  }
  if (r == 0 && a->n == before)
    r = imc_fail(err, IMC_E_AUTH, NO_AUTH_DATA);
  return r;
}
