/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The REST backend: im-client's operations as calls to an IM server's REST API (IM 1.19.2's
 * routes, as imcd serves them), with libcurl.  Each operation sends what im-client 1.8.4
 * sends: the same method, route, query flags and Accept type.  The auth data travels in IM's
 * Authorization header as its JSON list form; the header's buffer is wiped when the backend
 * closes.  An error answer's text is the operation's message, as im-client prints it. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "backend.h"
#include "imc/alloc.h"
#include "imc/vm.h"

#define MAX_ANSWER (64u * 1024 * 1024)
#define MAX_URL    (64u * 1024)   /* the root, escaped ids, a list of VM ids */
#define MAX_AUTH   (1024u * 1024) /* one auth entry as JSON */

struct rest {
  CURL *curl;
  char *root;              /* the URL without a trailing '/' */
  char *shown;             /* root without any user:password@, for messages */
  struct curl_slist *auth; /* "Authorization: [...]"; secret */
  struct imc_buf header;   /* its text, wiped at close */
  bool verify;
};

/* One request.  The URL starts with the root; helpers below append escaped parts. */
struct req {
  const char *method;
  const char *accept;
  const char *ctype; /* NULL: no Content-Type, as im-client sends none for RADL text */
  const char *body;  /* NULL: no body */
  size_t len;
  struct imc_buf url;
};

static void req_init(struct rest *r, struct req *q, const char *method, const char *accept)
{
  *q = (struct req){.method = method, .accept = accept};
  imc_buf_init(&q->url, MAX_URL);
  imc_buf_adds(&q->url, r->root);
}

/* Appends text escaped (a path segment or a query value cannot name another route). */
static void url_escaped(struct rest *r, struct imc_buf *url, const char *text)
{
  char *q = curl_easy_escape(r->curl, text, 0);

  if (!q) {
    if (!url->err) /* the buffer's sticky error: call() reports it */
      url->err = IMC_E_NOMEM;
    return;
  }
  imc_buf_adds(url, q);
  curl_free(q);
}

/* "/infrastructures/ID" then tail (not escaped: a literal of ours). */
static void url_infra(struct rest *r, struct req *q, const char *id, const char *tail)
{
  imc_buf_adds(&q->url, "/infrastructures/");
  url_escaped(r, &q->url, id);
  imc_buf_adds(&q->url, tail);
}

/* "?key=value" or "&key=value", value escaped. */
static void url_param(struct rest *r, struct req *q, const char *key, const char *value)
{
  imc_buf_addc(&q->url, strchr(imc_buf_cstr(&q->url), '?') ? '&' : '?');
  imc_buf_adds(&q->url, key);
  imc_buf_addc(&q->url, '=');
  url_escaped(r, &q->url, value);
}

/* "1,2,5", as im-client joins VM ids. */
static void url_vm_list(struct req *q, const struct imc_vm_ids *vms)
{
  for (size_t i = 0; i < vms->n; i++)
    imc_buf_addf(&q->url, i ? ",%u" : "%u", vms->v[i]);
}

/* A document as q's body.  im-client names its type only when it is JSON (RADL's JSON form)
 * or YAML; this client reads no TOSCA, and JSON text starts with a list or an object. */
static void req_doc(struct req *q, const char *text, size_t len)
{
  size_t i = 0;

  while (i < len && text[i] && strchr(" \t\r\n", text[i]))
    i++;
  q->body = len ? text : ""; /* a POST or PUT always has a body, maybe empty */
  q->len = len;
  q->ctype = i < len && (text[i] == '[' || text[i] == '{') ? "application/json" : NULL;
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  struct imc_buf *b = arg;

  imc_buf_add(b, p, size * n);
  return imc_buf_err(b) ? 0 : size * n;
}

/* The headers of q after the Authorization line: Accept, and Content-Type for a body ("an
 * empty Content-Type:" tells curl to send none instead of its form type). */
static struct curl_slist *req_headers(const struct req *q)
{
  char line[160];
  struct curl_slist *h;

  snprintf(line, sizeof line, "Accept: %s", q->accept);
  if (!(h = curl_slist_append(NULL, line)) || !q->body)
    return h;
  snprintf(line, sizeof line, "Content-Type:%s%s", q->ctype ? " " : "", q->ctype ? q->ctype : "");
  if (!curl_slist_append(h, line)) {
    curl_slist_free_all(h);
    return NULL;
  }
  return h;
}

/* An answer that is not 200: IMC_E_IO with its text (err->status set).  IM words an error as
 * {"message": M, "code": N} when the call asked for JSON: the message is M. */
static int answer_error(long status, const struct imc_buf *out, struct imc_err *err)
{
  json_t *j = json_loadb(out->len ? out->data : "", out->len, 0, NULL);
  const char *text = json_string_value(json_object_get(j, "message"));
  size_t n;
  int rc;

  if (!text)
    text = out->len ? imc_buf_cstr(out) : "";
  n = strlen(text);
  while (n > 0 && text[n - 1] == '\n')
    n--;
  rc = imc_fail(err, IMC_E_IO, "%.*s", (int)(n > 900 ? 900 : n),
                n ? text : "the server answered with an error");
  json_decref(j);
  if (err)
    err->status = (int)status;
  return rc;
}

/* Sends q; the answer's body is appended to out. */
static int call(struct rest *r, const struct req *q, struct imc_buf *out, struct imc_err *err)
{
  char detail[CURL_ERROR_SIZE] = "";
  struct curl_slist *h, *tail;
  long status = 0;
  CURLcode c;
  int rc;

  if ((rc = imc_buf_err(&q->url)) != 0)
    return imc_fail(err, rc, rc == IMC_E_TOOBIG ? "the URL is too long" : "out of memory");
  if (!(tail = req_headers(q)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  curl_easy_reset(r->curl);
  /* The Authorization line (one node, made once) is chained in front of this call's headers
   * and unchained after, so the secret is not copied for every call. */
  h = r->auth;
  if (h)
    h->next = tail;
  else
    h = tail;
  curl_easy_setopt(r->curl, CURLOPT_URL, imc_buf_cstr(&q->url));
  curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, q->method);
  curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
  curl_easy_setopt(r->curl, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
  curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT, 30L);
  if (q->body) {
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, q->body);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->len);
  } else if (strcmp(q->method, "GET") == 0) {
    curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
  }
  c = curl_easy_perform(r->curl);
  curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, NULL);
  if (r->auth)
    r->auth->next = NULL; /* give the Authorization line back its own list */
  curl_slist_free_all(tail);
  if (c != CURLE_OK)
    return imc_fail(err, IMC_E_IO, "%s: %s", r->shown, detail[0] ? detail : curl_easy_strerror(c));
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "the answer is too large");
  return status == 200 ? 0 : answer_error(status, out, err);
}

/* Sends q (and frees its URL); the answer is appended to out when it is not NULL, and left
 * untouched on failure. */
static int run_text(struct rest *r, struct req *q, struct imc_buf *out, struct imc_err *err)
{
  struct imc_buf b;
  int rc;

  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = call(r, q, &b, err)) == 0 && out && (rc = imc_buf_add_whole(out, b.data, b.len)))
    rc = imc_fail(err, rc, "the answer is too large");
  imc_buf_free(&b);
  imc_buf_free(&q->url);
  return rc;
}

/* Sends q (and frees its URL); *out (caller decrefs) is the answer's member field (the whole
 * answer when field is NULL), which must be of type want. */
static int run_json(struct rest *r, struct req *q, const char *field, json_type want, json_t **out,
                    struct imc_err *err)
{
  struct imc_buf b;
  json_t *j = NULL, *v;
  int rc;

  *out = NULL;
  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = call(r, q, &b, err)) != 0)
    goto out;
  j = json_loadb(b.len ? b.data : "", b.len, 0, NULL);
  v = field ? json_object_get(j, field) : j;
  if (!v || json_typeof(v) != want) {
    rc = imc_fail(err, IMC_E_IO, "the server's answer is not IM's (%s)",
                  field ? field : "a JSON object");
    goto out;
  }
  *out = json_incref(v);
out:
  json_decref(j);
  imc_buf_free(&b);
  imc_buf_free(&q->url);
  return rc;
}

/* Appends a copy of p[0..n) to s. */
static int strs_add(struct imc_strs *s, const char *p, size_t n, struct imc_err *err)
{
  char **grown = imc_realloc(s->v, (s->n + 1) * sizeof *s->v);

  if (!grown)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  s->v = grown;
  if (!(s->v[s->n] = imc_strndup(p, n)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  s->n++;
  return 0;
}

/* The last path segment of a URI (os.path.basename, as im-client takes ids). */
static const char *last_segment(const char *p, size_t len)
{
  const char *s = p + len;

  while (s > p && s[-1] != '/')
    s--;
  return s;
}

/* The last path segment of each line of a uri-list. */
static int ids_of(const struct imc_buf *b, struct imc_strs *ids, struct imc_err *err)
{
  const char *p = b->len ? imc_buf_cstr(b) : "";
  int rc = 0;

  memset(ids, 0, sizeof *ids);
  while (*p && rc == 0) {
    size_t len = strcspn(p, "\r\n");
    const char *s = last_segment(p, len);

    if (s < p + len)
      rc = strs_add(ids, s, (size_t)(p + len - s), err);
    p += len;
    p += strspn(p, "\r\n");
  }
  return rc;
}

/* The one id of an answer's uri-list (create, import). */
static int one_id(const struct imc_buf *b, char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct imc_strs ids = {0};
  int rc = ids_of(b, &ids, err);

  if (rc == 0 && (ids.n != 1 || strlen(ids.v[0]) >= IMC_INFRA_ID_MAX))
    rc = imc_fail(err, IMC_E_IO, "the server's answer is not an infrastructure URI");
  else if (rc == 0)
    memcpy(id, ids.v[0], strlen(ids.v[0]) + 1);
  imc_strs_free(&ids);
  return rc;
}

/* Sends q (and frees its URL); its text/uri-list answer names one infrastructure. */
static int run_id(struct rest *r, struct req *q, char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct imc_buf b;
  int rc;

  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = run_text(r, q, &b, err)) == 0)
    rc = one_id(&b, id, err);
  imc_buf_free(&b);
  return rc;
}

static int r_list(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_buf b;
  struct req q;
  int rc;

  memset(ids, 0, sizeof *ids);
  req_init(r, &q, "GET", "text/uri-list");
  imc_buf_adds(&q.url, "/infrastructures");
  if (filter)
    url_param(r, &q, "filter", filter);
  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = run_text(r, &q, &b, err)) == 0 && (rc = ids_of(&b, ids, err)) != 0)
    imc_strs_free(ids);
  imc_buf_free(&b);
  return rc;
}

/* POST /infrastructures: create, or with dry_run IM's estimate (init only: the caller sends). */
static void req_post_doc(struct rest *r, struct req *q, const char *text, size_t len,
                         const char *accept)
{
  req_init(r, q, "POST", accept);
  imc_buf_adds(&q->url, "/infrastructures");
  req_doc(q, text, len);
}

static int r_create(void *ctx, const struct imc_doc *doc, const char *text, size_t len, bool async,
                    char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_post_doc(r, &q, text, len, "text/uri-list");
  if (async)
    url_param(r, &q, "async", "yes");
  return run_id(r, &q, id, err);
}

static int r_destroy(void *ctx, const char *id, bool force, struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_init(r, &q, "DELETE", "text/plain");
  url_infra(r, &q, id, force ? "?force=yes" : "");
  return run_text(r, &q, NULL, err);
}

/* The VM ids of a JSON uri-list: [{"uri": ".../vms/3"}, ...]. */
static int vm_ids_of_json(json_t *list, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct imc_strs ids = {0};
  size_t i;
  json_t *elem;
  int rc = 0;

  json_array_foreach(list, i, elem)
  {
    const char *uri = json_string_value(json_object_get(elem, "uri"));
    const char *s = uri ? last_segment(uri, strlen(uri)) : NULL;

    if (!s) {
      rc = imc_fail(err, IMC_E_IO, "the server's answer is not a list of VMs");
      break;
    }
    if ((rc = strs_add(&ids, s, strlen(s), err)) != 0)
      break;
  }
  if (rc == 0)
    rc = cli_vm_ids_of(&ids, vms, err);
  imc_strs_free(&ids);
  return rc;
}

static int r_info(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_strs uris = {0};
  struct imc_buf b;
  struct req q;
  int rc;

  memset(vms, 0, sizeof *vms);
  req_init(r, &q, "GET", "text/uri-list");
  url_infra(r, &q, id, "");
  imc_buf_init(&b, MAX_ANSWER);
  if ((rc = run_text(r, &q, &b, err)) == 0 && (rc = ids_of(&b, &uris, err)) == 0)
    rc = cli_vm_ids_of(&uris, vms, err);
  imc_strs_free(&uris);
  imc_buf_free(&b);
  return rc;
}

/* GET /infrastructures/ID[/vms/VM]tail as text, appended to out.  vm NULL: the
 * infrastructure's property. */
static int get_text(struct rest *r, const char *id, const unsigned *vm, const char *tail,
                    struct imc_buf *out, struct imc_err *err)
{
  struct req q;

  req_init(r, &q, "GET", "text/plain");
  url_infra(r, &q, id, "");
  if (vm)
    imc_buf_addf(&q.url, "/vms/%u", *vm);
  imc_buf_adds(&q.url, tail);
  return run_text(r, &q, out, err);
}

static int r_vm_radl(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                     struct imc_err *err)
{
  return get_text(ctx, id, &vm, "", out, err);
}

static int r_radl(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  return get_text(ctx, id, NULL, "/radl", out, err);
}

static int r_contmsg(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  return get_text(ctx, id, NULL, "/contmsg", out, err);
}

static int r_vm_contmsg(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                        struct imc_err *err)
{
  return get_text(ctx, id, &vm, "/contmsg", out, err);
}

/* A 404 for a feature the VM's system lacks: IM's "Incorrect property X for VM ID N", or
 * imcd's "Error Getting VM. property: Invalid property X of VM N".  Any other 404 is an
 * unknown infrastructure or VM. */
static bool starts_with(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool no_such_property(const struct imc_err *err)
{
  static const char what[] = "Error Getting VM. property: ";
  const char *m = err->msg;

  if (err->status != 404)
    return false;
  if (starts_with(m, what))
    m += sizeof what - 1;
  return starts_with(m, "Incorrect property ") || starts_with(m, "Invalid property ");
}

/* The REST route answers Python's str() of the value already. */
static int r_vm_property(void *ctx, const char *id, unsigned vm, const char *name,
                         struct imc_buf *out, struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;
  int rc;

  req_init(r, &q, "GET", "text/plain");
  url_infra(r, &q, id, "");
  imc_buf_addf(&q.url, "/vms/%u/", vm);
  url_escaped(r, &q.url, name);
  if ((rc = run_text(r, &q, out, err)) != 0 && err && no_such_property(err))
    rc = err->code = IMC_E_NOTFOUND;
  return rc;
}

/* {"state": {"state": S, "vm_states": {"0": S, ...}}} into st, VMs in id order. */
static int state_of(json_t *j, struct imc_infra_state *st, struct imc_err *err)
{
  json_t *s = json_object_get(j, "state");
  json_t *vms = json_object_get(j, "vm_states");
  const char *key;
  json_t *v;
  int state;

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

/* GET /infrastructures/ID/tail as JSON: *out is the answer's member field. */
static int get_infra_json(struct rest *r, const char *id, const char *tail, const char *field,
                          json_type want, json_t **out, struct imc_err *err)
{
  struct req q;

  req_init(r, &q, "GET", "application/json");
  url_infra(r, &q, id, tail);
  return run_json(r, &q, field, want, out, err);
}

static int r_state(void *ctx, const char *id, struct imc_infra_state *st, struct imc_err *err)
{
  json_t *j = NULL;
  int rc;

  memset(st, 0, sizeof *st);
  if ((rc = get_infra_json(ctx, id, "/state", "state", JSON_OBJECT, &j, err)) == 0 &&
      (rc = state_of(j, st, err)) != 0)
    imc_infra_state_free(st);
  json_decref(j);
  return rc;
}

static int r_version(void *ctx, struct imc_buf *out, struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;
  int rc;

  req_init(r, &q, "GET", "text/plain");
  imc_buf_adds(&q.url, "/version");
  rc = run_text(r, &q, out, err);
  while (rc == 0 && out->len && out->data[out->len - 1] == '\n')
    out->data[--out->len] = '\0';
  return rc;
}

static int r_add(void *ctx, const char *id, const struct imc_doc *doc, const char *text, size_t len,
                 int context, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct rest *r = ctx;
  json_t *list = NULL;
  struct req q;
  int rc;

  memset(vms, 0, sizeof *vms);
  req_init(r, &q, "POST", "application/json");
  url_infra(r, &q, id, context == 0 ? "?context=0" : "");
  req_doc(&q, text, len);
  if ((rc = run_json(r, &q, "uri-list", JSON_ARRAY, &list, err)) == 0)
    rc = vm_ids_of_json(list, vms, err);
  json_decref(list);
  return rc;
}

static int r_remove(void *ctx, const char *id, const struct imc_vm_ids *vms, int context,
                    struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  if (vms->n == 0)
    return imc_fail(err, IMC_E_INVAL, "VM ID to remove not specified");
  req_init(r, &q, "DELETE", "text/plain");
  url_infra(r, &q, id, "/vms/");
  url_vm_list(&q, vms);
  if (context == 0)
    imc_buf_adds(&q.url, "?context=0");
  return run_text(r, &q, NULL, err);
}

static int r_alter(void *ctx, const char *id, unsigned vm, const struct imc_doc *doc,
                   const char *text, size_t len, struct imc_buf *out, struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_init(r, &q, "PUT", "text/plain");
  url_infra(r, &q, id, "");
  imc_buf_addf(&q.url, "/vms/%u", vm);
  req_doc(&q, text, len);
  return run_text(r, &q, out, err);
}

static int r_reconfigure(void *ctx, const char *id, const struct imc_doc *doc, const char *text,
                         size_t len, const struct imc_vm_ids *vms, struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_init(r, &q, "PUT", "text/plain");
  url_infra(r, &q, id, "/reconfigure");
  if (vms->n) {
    imc_buf_adds(&q.url, "?vm_list=");
    url_vm_list(&q, vms);
  }
  /* No document: im-client sends an empty body, which IM reads as "what is there". */
  req_doc(&q, text, len);
  return run_text(r, &q, NULL, err);
}

/* The last segment of the power routes, by operation. */
static const char *const power_names[] = {
  [IMC_POWER_START] = "start",
  [IMC_POWER_STOP] = "stop",
  [IMC_POWER_REBOOT] = "reboot",
};

static int r_power(void *ctx, const char *id, const unsigned *vm, enum imc_power op,
                   struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  if ((size_t)op >= sizeof power_names / sizeof *power_names)
    return imc_fail(err, IMC_E_INVAL, "Invalid Operation.");
  req_init(r, &q, "PUT", "text/plain");
  url_infra(r, &q, id, "");
  if (vm)
    imc_buf_addf(&q.url, "/vms/%u", *vm);
  imc_buf_addf(&q.url, "/%s", power_names[op]);
  q.body = ""; /* as requests, a PUT with Content-Length: 0 */
  return run_text(r, &q, NULL, err);
}

static int r_outputs(void *ctx, const char *id, json_t **out, struct imc_err *err)
{
  return get_infra_json(ctx, id, "/outputs", "outputs", JSON_OBJECT, out, err);
}

static int r_export_data(void *ctx, const char *id, bool delete_it, struct imc_buf *out,
                         struct imc_err *err)
{
  json_t *data = NULL;
  int rc = get_infra_json(ctx, id, delete_it ? "/data?delete=yes" : "/data", "data", JSON_STRING,
                          &data, err);

  if (rc == 0 && (rc = imc_buf_add_whole(out, json_string_value(data), json_string_length(data))))
    rc = imc_fail(err, rc, "the exported data is too large");
  json_decref(data);
  return rc;
}

static int r_import_data(void *ctx, const char *text, size_t len, char id[IMC_INFRA_ID_MAX],
                         struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_init(r, &q, "PUT", "text/uri-list");
  imc_buf_adds(&q.url, "/infrastructures");
  q.body = text;
  q.len = len;
  return run_id(r, &q, id, err);
}

/* GET /clouds/ID/what: {"what": value}. */
static int get_cloud(struct rest *r, const char *cloud_id, const char *what, json_type want,
                     json_t **out, struct imc_err *err)
{
  struct req q;

  req_init(r, &q, "GET", "application/json");
  imc_buf_adds(&q.url, "/clouds/");
  url_escaped(r, &q.url, cloud_id);
  imc_buf_addf(&q.url, "/%s", what);
  return run_json(r, &q, what, want, out, err);
}

static int r_cloud_images(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err)
{
  return get_cloud(ctx, cloud_id, "images", JSON_ARRAY, out, err);
}

static int r_cloud_quotas(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err)
{
  return get_cloud(ctx, cloud_id, "quotas", JSON_OBJECT, out, err);
}

/* IM 1.19.2 (and imcd) estimate on POST /infrastructures?dry_run=yes: the answer is
 * EstimateResources' object itself. */
static int r_estimate(void *ctx, const struct imc_doc *doc, const char *text, size_t len,
                      json_t **out, struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_post_doc(r, &q, text, len, "application/json");
  url_param(r, &q, "dry_run", "yes");
  return run_json(r, &q, NULL, JSON_OBJECT, out, err);
}

/* A date left out is the server's default (init: 1970-01-01, end: none). */
static int r_stats(void *ctx, const char *init_date, const char *end_date, json_t **out,
                   struct imc_err *err)
{
  struct rest *r = ctx;
  struct req q;

  req_init(r, &q, "GET", "application/json");
  imc_buf_adds(&q.url, "/stats");
  if (init_date)
    url_param(r, &q, "init_date", init_date);
  if (end_date)
    url_param(r, &q, "end_date", end_date);
  return run_json(r, &q, "stats", JSON_ARRAY, out, err);
}

/* The body is the entry as one JSON object (im-client's json.dumps(new_auth_data[0])); it
 * holds a password, so its buffer is wiped. */
static int r_change_auth(void *ctx, const char *id, const struct imc_auth_entry *new_im,
                         bool overwrite, struct imc_err *err)
{
  struct rest *r = ctx;
  struct imc_auth_entry entry = *new_im; /* a borrowed view: nothing of it is freed here */
  const struct imc_auth one = {.entries = &entry, .n = 1, .cap = 1};
  struct imc_buf body;
  struct req q;
  int rc;

  imc_buf_init(&body, MAX_AUTH);
  if ((rc = imc_auth_to_json(&one, false, &body, err)) == 0) {
    req_init(r, &q, "POST", "text/plain");
    url_infra(r, &q, id, overwrite ? "/authorization?overwrite=1" : "/authorization");
    q.ctype = "application/json";
    q.body = body.data + 1; /* the list's one object, without its brackets */
    q.len = body.len - 2;
    rc = run_text(r, &q, NULL, err);
  }
  if (body.data)
    explicit_bzero(body.data, body.cap);
  imc_buf_free(&body);
  return rc;
}

/* IM answers the owners' names as {"authorization": [...]}. */
static int r_owners(void *ctx, const char *id, struct imc_strs *names, struct imc_err *err)
{
  json_t *list = NULL, *name;
  size_t i;
  int rc;

  memset(names, 0, sizeof *names);
  rc = get_infra_json(ctx, id, "/authorization", "authorization", JSON_ARRAY, &list, err);
  json_array_foreach(list, i, name)
  {
    if (!json_is_string(name))
      rc = imc_fail(err, IMC_E_IO, "the server's answer is not a list of names");
    else
      rc = strs_add(names, json_string_value(name), json_string_length(name), err);
    if (rc)
      break;
  }
  if (rc)
    imc_strs_free(names);
  json_decref(list);
  return rc;
}

static void r_close(void *ctx)
{
  struct rest *r = ctx;

  if (!r)
    return;
  if (r->auth) /* curl's copy of the Authorization line */
    explicit_bzero(r->auth->data, strlen(r->auth->data));
  curl_slist_free_all(r->auth);
  if (r->header.data)
    explicit_bzero(r->header.data, r->header.cap);
  imc_buf_free(&r->header);
  if (r->curl)
    curl_easy_cleanup(r->curl);
  imc_free(r->root);
  imc_free(r->shown);
  imc_free(r);
  curl_global_cleanup();
}

/* root without the user:password@ a URL may carry, for messages. */
static char *shown_root(const char *root)
{
  const char *sep = strstr(root, "://");
  const char *host = sep ? sep + 3 : root;
  size_t n = strcspn(host, "/?#");
  const char *at = memrchr(host, '@', n);
  struct imc_buf b;

  imc_buf_init(&b, strlen(root));
  imc_buf_add(&b, root, (size_t)(host - root));
  imc_buf_adds(&b, at ? at + 1 : host);
  if (imc_buf_err(&b)) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

/* The Authorization header line: IM's JSON list of the entries. */
static int auth_header(struct rest *r, const struct imc_auth *auth, struct imc_err *err)
{
  int rc;

  imc_buf_adds(&r->header, "Authorization: ");
  if ((rc = imc_auth_to_json(auth, false, &r->header, err)) != 0)
    return rc;
  /* The header is one line: the JSON has no raw newline (json escapes them). */
  if (imc_buf_err(&r->header) || !(r->auth = curl_slist_append(NULL, imc_buf_cstr(&r->header))))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  return 0;
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
  if (!(r->root = imc_strndup(url, n)) || !(r->shown = shown_root(r->root)) ||
      !(r->curl = curl_easy_init())) {
    rc = imc_fail(err, IMC_E_NOMEM, "out of memory");
    goto out;
  }
  if (auth->n)
    rc = auth_header(r, auth, err);
out:
  if (rc) {
    r_close(r);
    return rc;
  }
  *out = (struct cli_backend){.ctx = r,
                              .list = r_list,
                              .create = r_create,
                              .destroy = r_destroy,
                              .info = r_info,
                              .vm_radl = r_vm_radl,
                              .radl = r_radl,
                              .contmsg = r_contmsg,
                              .state = r_state,
                              .version = r_version,
                              .close = r_close,
                              .add = r_add,
                              .remove = r_remove,
                              .alter = r_alter,
                              .reconfigure = r_reconfigure,
                              .power = r_power,
                              .vm_property = r_vm_property,
                              .vm_contmsg = r_vm_contmsg,
                              .outputs = r_outputs,
                              .export_data = r_export_data,
                              .import_data = r_import_data,
                              .cloud_images = r_cloud_images,
                              .cloud_quotas = r_cloud_quotas,
                              .estimate = r_estimate,
                              .stats = r_stats,
                              .change_auth = r_change_auth,
                              .owners = r_owners};
  return 0;
}
