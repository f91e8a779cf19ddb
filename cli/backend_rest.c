/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The REST backend: im-client's operations as calls to an IM server's REST API (IM 1.19.2's
 * routes, as imcd serves them), with libcurl.  The auth data travels in IM's Authorization
 * header as its JSON list form; the header's buffer is wiped when the backend closes.  An
 * error answer's text is the operation's message, as im-client prints it. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "backend.h"
#include "imc/alloc.h"
#include "imc/vm.h"

#define MAX_ANSWER (64u * 1024 * 1024)

struct rest {
  CURL *curl;
  char *root;             /* the URL without a trailing '/' */
  struct curl_slist *auth; /* "Authorization: [...]"; secret */
  struct imc_buf header;   /* its text, wiped at close */
  bool verify;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  struct imc_buf *b = arg;

  imc_buf_add(b, p, size * n);
  return imc_buf_err(b) ? 0 : size * n;
}

/* One call: method on root + path, with body (may be NULL) of type ctype, asking for accept.
 * The answer's body goes to out; an answer that is not 200 is IMC_E_IO with its text. */
static int call(struct rest *r, const char *method, const char *path, const char *ctype,
                const char *body, size_t len, const char *accept, struct imc_buf *out,
                struct imc_err *err)
{
  struct curl_slist *h, *tail;
  char url[4096], line[160];
  long status = 0;
  CURLcode c;

  if ((size_t)snprintf(url, sizeof url, "%s%s", r->root, path) >= sizeof url)
    return imc_fail(err, IMC_E_INVAL, "the URL is too long");
  curl_easy_reset(r->curl);
  /* The Authorization line (one node, made once) is chained in front of this call's headers
   * and unchained after, so the secret is not copied for every call. */
  h = r->auth;
  snprintf(line, sizeof line, "Accept: %s", accept);
  tail = curl_slist_append(NULL, line);
  if (ctype) {
    snprintf(line, sizeof line, "Content-Type: %s", ctype);
    tail = curl_slist_append(tail, line);
  }
  if (!tail)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (h)
    h->next = tail;
  else
    h = tail;
  curl_easy_setopt(r->curl, CURLOPT_URL, url);
  curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
  curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
  curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT, 30L);
  if (body) {
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  } else if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
  }
  c = curl_easy_perform(r->curl);
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
  if (r->auth)
    r->auth->next = NULL; /* give the Authorization line back its own list */
  curl_slist_free_all(tail);
  if (c != CURLE_OK)
    return imc_fail(err, IMC_E_IO, "%s: %s", r->root, curl_easy_strerror(c));
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "the answer is too large");
  if (status != 200) {
    const char *text = out->len ? imc_buf_cstr(out) : "";
    size_t n = strlen(text);

    while (n > 0 && text[n - 1] == '\n')
      n--;
    return imc_fail(err, IMC_E_IO, "%.*s", (int)(n > 900 ? 900 : n),
                    n ? text : "the server answered with an error");
  }
  return 0;
}

/* The last path segment of each line of a uri-list. */
static int ids_of(const struct imc_buf *b, struct imc_strs *ids, struct imc_err *err)
{
  const char *p = b->len ? imc_buf_cstr(b) : "";

  memset(ids, 0, sizeof *ids);
  while (*p) {
    size_t len = strcspn(p, "\r\n");
    const char *slash = p + len;
    char **grown;

    while (slash > p && slash[-1] != '/')
      slash--;
    if (slash < p + len) {
      if (!(grown = imc_realloc(ids->v, (ids->n + 1) * sizeof *ids->v)))
        return imc_fail(err, IMC_E_NOMEM, "out of memory");
      ids->v = grown;
      if (!(ids->v[ids->n] = imc_strndup(slash, (size_t)(p + len - slash))))
        return imc_fail(err, IMC_E_NOMEM, "out of memory");
      ids->n++;
    }
    p += len;
    p += strspn(p, "\r\n");
  }
  return 0;
}

static int r_list(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_buf b;
  char path[1024] = "/infrastructures";
  int rc;

  if (filter) {
    char *q = curl_easy_escape(r->curl, filter, 0);

    if (!q)
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    rc = snprintf(path, sizeof path, "/infrastructures?filter=%s", q) >= (int)sizeof path;
    curl_free(q);
    if (rc)
      return imc_fail(err, IMC_E_INVAL, "the filter is too long");
  }
  imc_buf_init(&b, MAX_ANSWER);
  rc = call(r, "GET", path, NULL, NULL, 0, "text/uri-list", &b, err);
  if (rc == 0 && (rc = ids_of(&b, ids, err)) != 0)
    imc_strs_free(ids);
  imc_buf_free(&b);
  return rc;
}

static int r_create(void *ctx, const struct imc_doc *doc, const char *text, size_t len,
                    char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_buf b;
  struct imc_strs ids = {0};
  int rc;

  imc_buf_init(&b, MAX_ANSWER);
  rc = call(r, "POST", "/infrastructures", "text/plain", text, len, "text/uri-list", &b, err);
  if (rc == 0 && (rc = ids_of(&b, &ids, err)) == 0) {
    if (ids.n != 1 || strlen(ids.v[0]) >= IMC_INFRA_ID_MAX)
      rc = imc_fail(err, IMC_E_IO, "the server's answer is not an infrastructure URI");
    else
      memcpy(id, ids.v[0], strlen(ids.v[0]) + 1);
  }
  imc_strs_free(&ids);
  imc_buf_free(&b);
  return rc;
}

/* An infrastructure id as a path segment: escaped, so that it cannot name another route. */
static int infra_path(struct rest *r, const char *id, const char *rest, char *out, size_t size,
                      struct imc_err *err)
{
  char *q = curl_easy_escape(r->curl, id, 0);
  int n;

  if (!q)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  n = snprintf(out, size, "/infrastructures/%s%s", q, rest);
  curl_free(q);
  if (n < 0 || (size_t)n >= size)
    return imc_fail(err, IMC_E_INVAL, "the infrastructure id is too long");
  return 0;
}

static int get_text(struct rest *r, const char *id, const char *rest, struct imc_buf *out,
                    struct imc_err *err)
{
  char path[1024];
  int rc = infra_path(r, id, rest, path, sizeof path, err);

  return rc ? rc : call(r, "GET", path, NULL, NULL, 0, "text/plain", out, err);
}

static int r_destroy(void *ctx, const char *id, bool force, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_buf b;
  char path[1024];
  int rc = infra_path(r, id, force ? "?force=yes" : "", path, sizeof path, err);

  if (rc)
    return rc;
  imc_buf_init(&b, MAX_ANSWER);
  rc = call(r, "DELETE", path, NULL, NULL, 0, "text/plain", &b, err);
  imc_buf_free(&b);
  return rc;
}

static int r_info(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_strs uris = {0};
  struct imc_buf b;
  char path[1024];
  int rc = infra_path(r, id, "", path, sizeof path, err);

  memset(vms, 0, sizeof *vms);
  if (rc)
    return rc;
  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = call(r, "GET", path, NULL, NULL, 0, "text/uri-list", &b, err)) == 0 &&
      (rc = ids_of(&b, &uris, err)) == 0)
    rc = cli_vm_ids_of(&uris, vms, err);
  imc_strs_free(&uris);
  imc_buf_free(&b);
  return rc;
}

static int r_vm_radl(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                     struct imc_err *err)
{
  char rest[32];

  snprintf(rest, sizeof rest, "/vms/%u", vm);
  return get_text(ctx, id, rest, out, err);
}

static int r_radl(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  return get_text(ctx, id, "/radl", out, err);
}

static int r_contmsg(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  return get_text(ctx, id, "/contmsg", out, err);
}

/* {"state": {"state": S, "vm_states": {"0": S, ...}}} into st, VMs in id order. */
static int state_of(json_t *j, struct imc_infra_state *st, struct imc_err *err)
{
  json_t *s = json_object_get(json_object_get(j, "state"), "state");
  json_t *vms = json_object_get(json_object_get(j, "state"), "vm_states");
  const char *key;
  json_t *v;
  int state;

  memset(st, 0, sizeof *st);
  if (!json_is_string(s) || !json_is_object(vms) ||
      (state = imc_vm_state_parse(json_string_value(s))) < 0)
    return imc_fail(err, IMC_E_IO, "the server's state answer is not IM's");
  st->state = (enum imc_vm_state)state;
  if (json_object_size(vms) &&
      (!(st->vm_ids = imc_calloc(json_object_size(vms), sizeof *st->vm_ids)) ||
       !(st->vm_states = imc_calloc(json_object_size(vms), sizeof *st->vm_states))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  json_object_foreach(vms, key, v)
  {
    unsigned vm;

    if (!cli_parse_vm_id(key, &vm) || !json_is_string(v) ||
        (state = imc_vm_state_parse(json_string_value(v))) < 0)
      return imc_fail(err, IMC_E_IO, "the server's state answer is not IM's");
    cli_state_add(st, vm, (enum imc_vm_state)state);
  }
  return 0;
}

static int r_state(void *ctx, const char *id, struct imc_infra_state *st, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_buf b;
  char path[1024];
  json_t *j = NULL;
  int rc = infra_path(r, id, "/state", path, sizeof path, err);

  memset(st, 0, sizeof *st);
  if (rc)
    return rc;
  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = call(r, "GET", path, NULL, NULL, 0, "application/json", &b, err)) == 0) {
    if (!(j = json_loadb(b.len ? b.data : "", b.len, 0, NULL)))
      rc = imc_fail(err, IMC_E_IO, "the server's state answer is not JSON");
    else if ((rc = state_of(j, st, err)) != 0)
      imc_infra_state_free(st);
  }
  json_decref(j);
  imc_buf_free(&b);
  return rc;
}

static int r_version(void *ctx, struct imc_buf *out, struct imc_err *err)
{
  int rc = call(ctx, "GET", "/version", NULL, NULL, 0, "text/plain", out, err);

  while (rc == 0 && out->len && out->data[out->len - 1] == '\n')
    out->data[--out->len] = '\0';
  return rc;
}

static void r_close(void *ctx)
{
  struct rest *r = ctx;

  if (!r)
    return;
  if (r->auth) /* curl's copy of the Authorization line */
    memset(r->auth->data, 0, strlen(r->auth->data));
  curl_slist_free_all(r->auth);
  if (r->header.data)
    memset(r->header.data, 0, r->header.cap);
  imc_buf_free(&r->header);
  if (r->curl)
    curl_easy_cleanup(r->curl);
  imc_free(r->root);
  imc_free(r);
  curl_global_cleanup();
}

int cli_backend_rest(const char *url, const struct imc_auth *auth, bool verify,
                     struct cli_backend *out, struct imc_err *err)
{
  struct rest *r = imc_calloc(1, sizeof *r);
  size_t n = strlen(url);
  int rc = 0;

  if (!r)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  r->verify = verify;
  imc_buf_init(&r->header, 1024 * 1024);
  while (n > 0 && url[n - 1] == '/')
    n--;
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
    rc = imc_fail(err, IMC_E_INVAL, "-r needs an http:// or https:// URL");
    goto out;
  }
  if (!(r->root = imc_strndup(url, n)) || !(r->curl = curl_easy_init())) {
    rc = imc_fail(err, IMC_E_NOMEM, "out of memory");
    goto out;
  }
  if (auth->n) {
    imc_buf_adds(&r->header, "Authorization: ");
    if ((rc = imc_auth_to_json(auth, false, &r->header, err)) != 0)
      goto out;
    /* The header is one line: the JSON has no raw newline (json escapes them). */
    if (imc_buf_err(&r->header) || !(r->auth = curl_slist_append(NULL, imc_buf_cstr(&r->header)))) {
      rc = imc_fail(err, IMC_E_NOMEM, "out of memory");
      goto out;
    }
  }
out:
  if (rc) {
    r_close(r);
    return rc;
  }
  *out = (struct cli_backend){r,         r_list,    r_create,  r_destroy, r_info, r_vm_radl,
                              r_radl,    r_contmsg, r_state,   r_version, r_close};
  return 0;
}
