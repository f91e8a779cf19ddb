/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The REST request path without the engine: an Authorization header, a path, a query string
 * and a body, each through the parsers imcd runs on it (server/rest_auth.c, rest_media.c,
 * rest_route.c, doc.c).  The input is four fields: line 1 the header, line 2 the path, line 3
 * the query ("k=v&k2=v2"), the rest the body.  Besides no crash and no leak, it checks what the
 * parsers promise: a matched route has its method and non-empty parameters, 405 comes with an
 * Allow list, a float's repr reads back as the same number, a root URL built from forwarding
 * headers is an http(s) URL with nothing a header could inject. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "imc/alloc.h"
#include "imc/model.h"
#include "rest_int.h"

#define MAX_FIELD 4096

/* The next line of [*p, end) as a NUL-terminated copy (caller frees). */
static char *next_field(const char **p, const char *end)
{
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  char *s = imc_strndup(*p, (size_t)(stop - *p) < MAX_FIELD ? (size_t)(stop - *p) : MAX_FIELD);

  *p = nl ? nl + 1 : end;
  return s;
}

static void check(bool cond)
{
  if (!cond)
    abort();
}

static void fuzz_auth(const char *header)
{
  struct imc_auth a;
  struct imc_err err;
  char *out = NULL;
  size_t n = 0;

  imc_auth_init(&a);
  imc_err_clear(&err);
  if (rest_auth_parse(header, &a, &err) == 0)
    check(a.n > 0);
  else
    check(err.msg[0] != '\0');
  imc_auth_cleanup(&a);
  imc_err_clear(&err);
  if (rest_base64_decode(header, strlen(header), &out, &n, &err) == 0) {
    check(n <= strlen(header));
    imc_free_secret(out);
  }
}

static void fuzz_path(const char *path)
{
  static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};

  for (size_t m = 0; m < sizeof methods / sizeof *methods; m++) {
    const struct rest_route *route;
    const char *params[REST_MAX_PARAMS];
    char allow[64], *copy = imc_strdup(path);
    int r;

    if (!copy)
      return;
    r = rest_route_match(methods[m], copy, &route, params, allow, sizeof allow);
    if (r == 0) {
      size_t want = 0;

      for (const char *p = route->pattern; *p; p++)
        want += *p == '{';
      check(strcmp(route->method, m == 1 ? "GET" : methods[m]) == 0);
      for (size_t i = 0; i < want; i++) {
        unsigned *ids = NULL;
        size_t n = 0;

        check(params[i] && params[i][0] != '\0' && !strchr(params[i], '/'));
        (void)rest_vm_id(params[i]);
        if (rest_parse_vm_list(params[i], false, &ids, &n))
          check(n >= 1);
        imc_free(ids);
      }
    } else {
      check(r == 404 || (r == 405 && allow[0] != '\0'));
    }
    imc_free(copy);
  }
}

/* A header value as every forwarding header at once, and as Host alone. */
static void fuzz_url_root(const char *v)
{
  const struct rest_forwarded all = {v, v, v, v, v}, host = {.host_header = v};
  const struct rest_forwarded *cases[] = {&all, &host};
  char root[1100];

  for (size_t i = 0; i < 2; i++) {
    if (!rest_url_root(cases[i], false, "127.0.0.1", 8800, root, sizeof root))
      continue;
    check(strncmp(root, "http://", 7) == 0 || strncmp(root, "https://", 8) == 0);
    check(root[strlen(root) - 1] == '/' && !strpbrk(root, " \t\r\n\"<>\\"));
  }
}

/* Every query value through every reader. */
static void fuzz_value(const char *v)
{
  struct rest_media media;
  struct imc_auth filters;
  char repr[REST_MAX_MEDIA * (REST_MEDIA_LEN * 2 + 4) + 4], date[11], num[64];
  unsigned *ids = NULL;
  size_t n = 0;
  long long i;
  bool b;
  double d;

  (void)rest_parse_bool(v, &b);
  (void)rest_parse_int(v, &i);
  if (rest_parse_date(v, date))
    check(strlen(date) == 10 && date[4] == '-' && date[7] == '-');
  if (rest_parse_vm_list(v, true, &ids, &n))
    check(n >= 1);
  imc_free(ids);
  imc_auth_init(&filters);
  if (rest_parse_filters(v, &filters))
    check(filters.n == 1);
  imc_auth_cleanup(&filters);
  rest_media_parse(v, &media);
  check(media.n <= REST_MAX_MEDIA);
  rest_media_repr(&media, repr, sizeof repr);
  check(repr[0] == '[' && repr[strlen(repr) - 1] == ']');
  (void)rest_media_choose(&media, "text/plain");
  (void)rest_media_choose(&media, "application/json");
  (void)rest_media_json_ok(&media);
  (void)rest_media_body(&media);
  fuzz_url_root(v);
  d = strtod(v, NULL);
  radl_float_repr(d, num, sizeof num);
  if (isfinite(d))
    check(strtod(num, NULL) == d);
}

static void fuzz_query(char *query)
{
  char *p = query;

  for (;;) {
    size_t len = strcspn(p, "&");
    bool last = p[len] == '\0';
    char *eq;

    p[len] = '\0';
    eq = strchr(p, '=');
    fuzz_value(eq ? eq + 1 : p);
    if (last)
      break;
    p += len + 1;
  }
}

static void fuzz_body(const char *body, size_t len)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  (void)imcd_is_tosca(body, len);
  for (int json = 0; json < 2; json++) {
    imc_err_clear(&err);
    if (imcd_parse_doc("body", body, len, json == 1, &doc, &err) == 0)
      check(doc != NULL);
    else
      check(doc == NULL && err.msg[0] != '\0');
    imc_doc_free(doc);
    doc = NULL;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;
  char *auth = next_field(&p, end), *path = next_field(&p, end);
  char *query = next_field(&p, end);

  if (auth && path && query) {
    fuzz_auth(auth);
    fuzz_path(path);
    fuzz_query(query);
    fuzz_body(p, (size_t)(end - p));
  }
  imc_free_secret(auth);
  imc_free(path);
  imc_free(query);
  return 0;
}
