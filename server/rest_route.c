/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The REST route table and its matcher: IM's Flask rules, first match wins. */
#include <string.h>

#include "rest_int.h"

const struct rest_route rest_routes[REST_NROUTES] = {
#define REST_ROUTE_ENTRY(id_, method_, pattern_, fn, flags_) \
  {.id = REST_R_##id_, .method = method_, .pattern = pattern_, .flags = flags_},
  REST_ROUTES(REST_ROUTE_ENTRY)
#undef REST_ROUTE_ENTRY
};

/* Splits path ("/a/b") into its segments; false when it has more than max or does not start
 * with '/'.  "/" has none; "/a/" has "a" and "" (an empty segment matches nothing). */
static bool split_path(char *path, char *seg[], size_t max, size_t *n)
{
  char *p = path;

  *n = 0;
  if (*p != '/')
    return false;
  if (p[1] == '\0')
    return true;
  while (*p == '/') {
    *p++ = '\0';
    if (*n == max)
      return false;
    seg[(*n)++] = p;
    p += strcspn(p, "/");
  }
  return true;
}

/* Whether pattern matches the segments; params receive the {Name} values. */
static bool pattern_match(const char *pattern, char *const seg[], size_t n,
                          const char *params[REST_MAX_PARAMS])
{
  const char *p = pattern;
  size_t i = 0, np = 0;

  if (strcmp(pattern, "/") == 0)
    return n == 0;
  while (*p == '/') {
    size_t len;

    p++;
    len = strcspn(p, "/");
    if (i == n)
      return false;
    if (*p == '{') {
      if (seg[i][0] == '\0' || np == REST_MAX_PARAMS)
        return false;
      params[np++] = seg[i];
    } else if (strlen(seg[i]) != len || memcmp(seg[i], p, len) != 0) {
      return false;
    }
    i++;
    p += len;
  }
  return i == n;
}

/* The methods an Allow header may list, in the order it lists them. */
static const char *const allow_methods[] = {"DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"};

static unsigned method_bit(const char *method)
{
  for (size_t i = 0; i < sizeof allow_methods / sizeof *allow_methods; i++)
    if (strcmp(allow_methods[i], method) == 0)
      return 1u << i;
  return 0;
}

static void allow_write(unsigned bits, char *allow, size_t size)
{
  size_t len = 0;

  for (size_t i = 0; i < sizeof allow_methods / sizeof *allow_methods; i++) {
    size_t mlen = strlen(allow_methods[i]);

    if (!(bits & (1u << i)))
      continue;
    if (len + mlen + 3 > size)
      break;
    if (len > 0) {
      memcpy(allow + len, ", ", 2);
      len += 2;
    }
    memcpy(allow + len, allow_methods[i], mlen + 1);
    len += mlen;
  }
}

int rest_route_match(const char *method, char *path, const struct rest_route **out,
                     const char *params[REST_MAX_PARAMS], char *allow, size_t allow_size)
{
  char *seg[REST_MAX_SEGMENTS];
  const char *tmp[REST_MAX_PARAMS] = {NULL};
  const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
  unsigned bits = 0;
  size_t n;

  *out = NULL;
  if (allow_size > 0)
    allow[0] = '\0';
  if (!split_path(path, seg, REST_MAX_SEGMENTS, &n))
    return 404;
  for (size_t i = 0; i < REST_NROUTES; i++) {
    const struct rest_route *r = &rest_routes[i];

    memset(tmp, 0, sizeof tmp);
    if (!pattern_match(r->pattern, seg, n, tmp))
      continue;
    if (strcmp(r->method, want) == 0) {
      memcpy(params, tmp, sizeof tmp);
      *out = r;
      return 0;
    }
    /* Flask answers HEAD for every GET rule and OPTIONS for every rule. */
    bits |= method_bit(r->method) | method_bit("OPTIONS");
    if (strcmp(r->method, "GET") == 0)
      bits |= method_bit("HEAD");
  }
  if (!bits)
    return 404;
  if (allow_size > 0)
    allow_write(bits, allow, allow_size);
  return 405;
}
