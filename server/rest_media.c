/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Content negotiation and the values of query arguments, read as IM's REST.py reads them
 * (Python's str.split, int(), .lower()), so that a client sees the same answers. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imc/alloc.h"
#include "rest_int.h"

static bool is_blank(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

/* --- media types -------------------------------------------------------------------------- */

void rest_media_parse(const char *header, struct rest_media *out)
{
  const char *p = header;

  out->n = 0;
  if (!p || !*p)
    return;
  for (;;) {
    size_t len = strcspn(p, ","), type_len = strcspn(p, ";,");
    const char *b = p, *e = p + (type_len < len ? type_len : len);

    while (b < e && is_blank(*b))
      b++;
    while (e > b && is_blank(e[-1]))
      e--;
    if (out->n < REST_MAX_MEDIA) {
      char *v = out->v[out->n++];
      size_t n = (size_t)(e - b) < REST_MEDIA_LEN ? (size_t)(e - b) : REST_MEDIA_LEN - 1;

      memcpy(v, b, n);
      v[n] = '\0';
      if (strcmp(v, "text/x-yaml") == 0 || strcmp(v, "application/yaml") == 0)
        memcpy(v, "text/yaml", sizeof "text/yaml");
    }
    if (p[len] != ',')
      break;
    p += len + 1;
  }
}

bool rest_media_has(const struct rest_media *m, const char *type)
{
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->v[i], type) == 0)
      return true;
  return false;
}

/* Appends s to out (kept NUL-terminated within size); what does not fit is left out. */
static void put(char *out, size_t size, size_t *len, const char *s, size_t n)
{
  if (*len + n >= size)
    return;
  memcpy(out + *len, s, n);
  *len += n;
  out[*len] = '\0';
}

/* Appends s as Python's repr of a str would. */
static void repr_str(const char *s, char *out, size_t size, size_t *len)
{
  char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';

  put(out, size, len, &q, 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    char tmp[8];

    if (*c == (unsigned char)q || *c == '\\')
      snprintf(tmp, sizeof tmp, "\\%c", *c);
    else if (*c < 0x20 || *c == 0x7f)
      snprintf(tmp, sizeof tmp, "\\x%02x", *c);
    else
      snprintf(tmp, sizeof tmp, "%c", *c);
    put(out, size, len, tmp, strlen(tmp));
  }
  put(out, size, len, &q, 1);
}

void rest_media_repr(const struct rest_media *m, char *out, size_t size)
{
  size_t len = 0;

  if (size == 0)
    return;
  out[0] = '\0';
  put(out, size - 1, &len, "[", 1); /* size - 1: room for the "]" */
  for (size_t i = 0; i < m->n; i++) {
    if (i > 0)
      put(out, size - 1, &len, ", ", 2);
    repr_str(m->v[i], out, size - 1, &len);
  }
  put(out, size, &len, "]", 1);
}

enum rest_out rest_media_choose(const struct rest_media *accept, const char *default_type)
{
  if (accept->n == 0)
    return REST_OUT_DEFAULT;
  for (size_t i = 0; i < accept->n; i++) {
    const char *t = accept->v[i];

    if (strcmp(t, "application/json") == 0 || strcmp(t, "application/*") == 0)
      return REST_OUT_JSON;
    if (strcmp(t, default_type) == 0 || strcmp(t, "*/*") == 0 || strcmp(t, "text/*") == 0)
      return REST_OUT_DEFAULT;
  }
  return REST_OUT_NONE;
}

bool rest_media_json_ok(const struct rest_media *accept)
{
  return accept->n == 0 || rest_media_has(accept, "application/json") ||
         rest_media_has(accept, "*/*") || rest_media_has(accept, "application/*");
}

enum rest_body rest_media_body(const struct rest_media *ct)
{
  if (ct->n == 0)
    return REST_BODY_RADL;
  if (rest_media_has(ct, "application/json"))
    return REST_BODY_JSON;
  if (rest_media_has(ct, "text/yaml"))
    return REST_BODY_TOSCA;
  if (rest_media_has(ct, "text/plain") || rest_media_has(ct, "*/*") ||
      rest_media_has(ct, "text/*"))
    return REST_BODY_RADL;
  return REST_BODY_UNSUPPORTED;
}

/* --- query values ------------------------------------------------------------------------- */

bool rest_parse_bool(const char *text, bool *out)
{
  static const char *const yes[] = {"yes", "true", "1"}, *const no[] = {"no", "false", "0"};

  for (size_t i = 0; i < 3; i++) {
    if (strcasecmp(text, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(text, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

bool rest_parse_int(const char *text, long long *out)
{
  const char *p = text, *end = text + strlen(text);
  bool neg = false, digit = false;
  unsigned long long v = 0;

  while (p < end && is_blank(*p))
    p++;
  while (end > p && is_blank(end[-1]))
    end--;
  if (p < end && (*p == '+' || *p == '-'))
    neg = *p++ == '-';
  for (; p < end; p++) {
    if (*p == '_' && digit && p + 1 < end && p[1] >= '0' && p[1] <= '9')
      continue;
    if (*p < '0' || *p > '9')
      return false;
    if (v > (ULLONG_MAX - 9) / 10)
      return false;
    v = v * 10 + (unsigned long long)(*p - '0');
    digit = true;
  }
  /* The magnitude of LLONG_MIN is one more than LLONG_MAX. */
  if (!digit || v > (unsigned long long)LLONG_MAX + (neg ? 1u : 0u))
    return false;
  *out = !neg ? (long long)v : v == 0 ? 0 : -(long long)(v - 1) - 1;
  return true;
}

unsigned rest_vm_id(const char *text)
{
  long long v;

  if (!rest_parse_int(text, &v) || v < 0 || v >= (long long)REST_NO_VM)
    return REST_NO_VM;
  return (unsigned)v;
}

/* Calls fn on each comma-separated item of text (as Python's split(","): empty items too),
 * in a bounded copy.  Returns false when fn does or the copy fails. */
static bool for_each_item(const char *text, bool (*fn)(void *ctx, char *item), void *ctx)
{
  char *copy = imc_strdup(text), *p = copy;
  bool ok = copy != NULL;

  while (ok) {
    size_t len = strcspn(p, ",");
    bool last = p[len] == '\0';

    p[len] = '\0';
    ok = fn(ctx, p);
    if (last)
      break;
    p += len + 1;
  }
  imc_free(copy);
  return ok;
}

struct vm_list {
  unsigned *ids;
  size_t n;
  bool strict;
};

static bool vm_list_item(void *ctx, char *item)
{
  struct vm_list *l = ctx;
  long long v;

  if (l->strict && !rest_parse_int(item, &v))
    return false;
  l->ids[l->n++] = rest_vm_id(item);
  return true;
}

bool rest_parse_vm_list(const char *text, bool strict, unsigned **ids, size_t *n)
{
  struct vm_list l = {.strict = strict};
  size_t count = 1;

  *ids = NULL;
  *n = 0;
  for (const char *p = text; *p; p++)
    count += *p == ',';
  if (!(l.ids = imc_calloc(count, sizeof *l.ids)))
    return false;
  if (!for_each_item(text, vm_list_item, &l)) {
    imc_free(l.ids);
    return false;
  }
  *ids = l.ids;
  *n = l.n;
  return true;
}

static bool filter_item(void *ctx, char *item)
{
  struct imc_auth_entry *e = ctx;
  char *eq = strchr(item, '=');

  if (!eq || strchr(eq + 1, '='))
    return false;
  *eq = '\0';
  return imc_auth_entry_set(e, item, eq + 1) == 0;
}

bool rest_parse_filters(const char *text, struct imc_auth *a)
{
  struct imc_auth_entry *e = imc_auth_add_entry(a);

  return e && for_each_item(text, filter_item, e);
}

bool rest_parse_date(const char *text, char out[11])
{
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  char copy[128], *part[3], *p = copy;
  long long v[3];
  size_t len = strlen(text);

  if (len >= sizeof copy)
    return false;
  memcpy(copy, text, len + 1);
  for (size_t i = 0; i < 3; i++) {
    size_t n = strcspn(p, "-/");

    part[i] = p;
    if (p[n] == '\0' && i < 2)
      return false;
    p[n] = '\0';
    if (i < 2)
      p += n + 1;
    if (!rest_parse_int(part[i], &v[i]))
      return false;
  }
  if (v[0] < 1 || v[0] > 9999 || v[1] < 1 || v[1] > 12 || v[2] < 1)
    return false;
  if (v[2] > mdays[v[1] - 1] + (v[1] == 2 && v[0] % 4 == 0 && (v[0] % 100 != 0 || v[0] % 400 == 0)))
    return false;
  /* YYYY-MM-DD, each part in range by now. */
  for (int i = 3; i >= 0; i--, v[0] /= 10)
    out[i] = (char)('0' + v[0] % 10);
  out[4] = out[7] = '-';
  out[5] = (char)('0' + v[1] / 10);
  out[6] = (char)('0' + v[1] % 10);
  out[8] = (char)('0' + v[2] / 10);
  out[9] = (char)('0' + v[2] % 10);
  out[10] = '\0';
  return true;
}
