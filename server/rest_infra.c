/* SPDX-License-Identifier: GPL-3.0-or-later */
/* REST routes on /infrastructures and /infrastructures/{InfId}: list, create (and dry run),
 * import, VM list, add, destroy, reconfigure, start/stop/reboot, change of owners. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "rest_int.h"

#define IM_TYPE "InfrastructureManager"

/* Sends ids as URIs (infrastructures, or the VMs of infra_id when it is not NULL). */
static void send_uris(struct rest_ctx *c, enum rest_out how, const char *infra_id,
                      const struct imc_strs *infras, const struct imc_vm_ids *vms)
{
  size_t n = infra_id ? vms->n : infras->n;
  char **uris = imc_calloc(n ? n : 1, sizeof *uris);
  bool ok = uris != NULL;

  for (size_t i = 0; ok && i < n; i++) {
    uris[i] = infra_id ? rest_vm_uri(c, infra_id, vms->v[i]) : rest_infra_uri(c, infras->v[i]);
    ok = uris[i] != NULL;
  }
  if (ok)
    rest_send_list(c, how, "text/uri-list", "uri-list", "uri", (const char *const *)uris, n);
  else
    rest_error(c, 500, "Out of memory");
  for (size_t i = 0; uris && i < n; i++)
    imc_free(uris[i]);
  imc_free(uris);
}

/* Sends the URI of one infrastructure: text/uri-list or {"uri": ...}. */
static void send_infra_uri(struct rest_ctx *c, enum rest_out how, const char *id)
{
  char *uri = rest_infra_uri(c, id);

  if (!uri) {
    rest_error(c, 500, "Out of memory");
    return;
  }
  rest_send_str(c, how, "text/uri-list", "uri", uri);
  imc_free(uri);
}

void rest_infra_list(struct rest_ctx *c)
{
  struct imc_strs ids = {0};
  struct imc_err err;
  enum rest_out how;

  c->what = "Error Getting Inf. List";
  imc_err_clear(&err);
  if (imc_infra_list(c->d->engine, &c->auth, c->rq->query(c->rq, "filter"), &ids, &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/uri-list", &how))
    send_uris(c, how, NULL, &ids, NULL);
  imc_strs_free(&ids);
}

/* dry_run: IM's EstimateResources, the plan as JSON. */
static void estimate(struct rest_ctx *c, const struct imc_doc *doc)
{
  struct imc_err err;
  enum rest_out how;
  json_t *res = NULL;

  imc_err_clear(&err);
  if (!rest_negotiate(c, "application/json", &how))
    return;
  if (imc_estimate(c->d->engine, doc, &c->auth, &res, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_json(c, NULL, res);
}

void rest_infra_create(struct rest_ctx *c)
{
  char id[IMC_INFRA_ID_MAX];
  struct imc_doc *doc = NULL;
  struct imc_err err;
  enum rest_out how;
  bool async, dry_run;

  c->what = "Error Creating Inf.";
  imc_err_clear(&err);
  if (!rest_query_bool(c, "async", false, &async) ||
      !rest_query_bool(c, "dry_run", false, &dry_run) || !rest_body_doc(c, &doc))
    return;
  if (dry_run) {
    estimate(c, doc);
  } else if (rest_negotiate(c, "text/uri-list", &how)) {
    if (imc_infra_create(c->d->engine, doc, &c->auth, async, id, &err) != 0) {
      rest_fail(c, &err);
    } else {
      send_infra_uri(c, how, id);
      rest_header(c, "InfID", id);
    }
  }
  imc_doc_free(doc);
}

void rest_infra_import(struct rest_ctx *c)
{
  char id[IMC_INFRA_ID_MAX], repr[REST_MAX_MEDIA * (REST_MEDIA_LEN * 2 + 4) + 4];
  struct rest_media ct;
  struct imc_err err;
  enum rest_out how;

  c->what = "Error Importing Inf.";
  imc_err_clear(&err);
  rest_media_parse(c->rq->header(c->rq, "Content-Type"), &ct);
  if (ct.n > 0 && !rest_media_has(&ct, "application/json")) {
    rest_media_repr(&ct, repr, sizeof repr);
    rest_error(c, 415, "Unsupported Media Type %s", repr);
    return;
  }
  if (!rest_negotiate(c, "text/uri-list", &how))
    return;
  if (imc_infra_import(c->d->engine, c->rq->body, c->rq->body_len, &c->auth, id, &err) != 0)
    rest_fail(c, &err);
  else
    send_infra_uri(c, how, id);
}

void rest_infra_info(struct rest_ctx *c)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err;
  enum rest_out how;

  c->what = "Error Getting Inf. info";
  imc_err_clear(&err);
  if (imc_infra_info(c->d->engine, c->params[0], &c->auth, &vms, &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/uri-list", &how))
    send_uris(c, how, c->params[0], NULL, &vms);
  imc_vm_ids_free(&vms);
}

void rest_infra_add(struct rest_ctx *c)
{
  const char *id = c->params[0];
  struct imc_vm_ids vms = {0};
  struct imc_doc *doc = NULL;
  struct imc_err err;
  enum rest_out how;
  bool context;

  c->what = "Error Adding resources";
  imc_err_clear(&err);
  if (!rest_query_bool(c, "context", true, &context) || !rest_body_doc(c, &doc))
    return;
  if (!rest_negotiate(c, "text/uri-list", &how))
    goto out;
  if (imc_infra_add(c->d->engine, id, doc, &c->auth, context, &vms, &err) != 0 ||
      /* IM: a document that adds no VM contextualizes the infrastructure again. */
      (vms.n == 0 && context &&
       imc_infra_reconfigure(c->d->engine, id, NULL, NULL, 0, &c->auth, &err) != 0)) {
    rest_fail(c, &err);
    goto out;
  }
  send_uris(c, how, id, NULL, &vms);
  /* The id for HAProxy stickiness, when the infrastructure is being configured. */
  if (context)
    rest_header(c, "InfID", id);
out:
  imc_vm_ids_free(&vms);
  imc_doc_free(doc);
}

void rest_infra_destroy(struct rest_ctx *c)
{
  struct imc_err err;
  bool force, async;

  c->what = "Error Destroying Inf";
  imc_err_clear(&err);
  if (!rest_query_bool(c, "force", false, &force) || !rest_query_bool(c, "async", false, &async))
    return;
  if (imc_infra_destroy(c->d->engine, c->params[0], &c->auth, force, async, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_text(c, "text/plain", "", 0);
}

void rest_infra_reconfigure(struct rest_ctx *c)
{
  const char *list = c->rq->query(c->rq, "vm_list");
  struct imc_doc *doc = NULL;
  unsigned *ids = NULL;
  size_t n = 0;
  struct imc_err err;

  c->what = "Error reconfiguring infrastructure";
  imc_err_clear(&err);
  if (list && !rest_parse_vm_list(list, true, &ids, &n)) {
    rest_error(c, 400, "Incorrect vm_list format.");
    return;
  }
  /* The document is optional: an empty body reconfigures with what is there. */
  if (c->rq->body_len > 0 && !rest_body_doc(c, &doc))
    goto out;
  if (imc_infra_reconfigure(c->d->engine, c->params[0], doc, ids, n, &c->auth, &err) != 0) {
    rest_fail(c, &err);
    goto out;
  }
  rest_send_text(c, "text/plain", "", 0);
  rest_header(c, "InfID", c->params[0]);
out:
  imc_doc_free(doc);
  imc_free(ids);
}

void rest_infra_power(struct rest_ctx *c)
{
  char what[64];
  struct imc_err err;
  const char *name;
  enum imc_power op = rest_power_op(c->route->id, &name);

  snprintf(what, sizeof what, "Error in %s operation", name);
  c->what = what;
  imc_err_clear(&err);
  if (imc_infra_power(c->d->engine, c->params[0], op, &c->auth, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_text(c, "text/plain", "", 0);
  c->what = "Error";
}

void rest_infra_op_other(struct rest_ctx *c)
{
  rest_error(c, 404, "Error in %s operation: unknown operation (start, stop, reboot or "
             "reconfigure)", c->params[1]);
}

/* The body of a change of owners: one JSON object ({username, password}) or a list of them;
 * an entry without a type is an InfrastructureManager one, as IM reads it. */
static int new_owners(struct rest_ctx *c, struct imc_auth *a, struct imc_err *err)
{
  const char *p = c->rq->body, *end = p + c->rq->body_len;
  char *text;
  int r;

  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  if (p == end || (*p != '{' && *p != '['))
    return imc_fail(err, IMC_E_INVAL, "expected a JSON object or a list of objects");
  if (*p == '[') {
    r = imc_auth_parse("body", p, (size_t)(end - p), IMC_AUTH_SERVER, a, err);
  } else {
    /* One object: a list of one for the auth reader; the copy holds a password. */
    size_t n = (size_t)(end - p);

    if (!(text = imc_malloc(n + 3)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    text[0] = '[';
    memcpy(text + 1, p, n);
    text[n + 1] = ']';
    text[n + 2] = '\0';
    r = imc_auth_parse("body", text, n + 2, IMC_AUTH_SERVER, a, err);
    explicit_bzero(text, n + 2);
    imc_free(text);
  }
  for (size_t i = 0; r == 0 && i < a->n; i++)
    if (!imc_auth_get(&a->entries[i], "type") &&
        imc_auth_entry_set(&a->entries[i], "type", IM_TYPE) != 0)
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  return r;
}

void rest_infra_change_auth(struct rest_ctx *c)
{
  char repr[REST_MAX_MEDIA * (REST_MEDIA_LEN * 2 + 4) + 4];
  struct rest_media ct;
  struct imc_auth owners;
  struct imc_err err;
  bool overwrite;

  c->what = "Error modifying infrastructure owner";
  imc_err_clear(&err);
  imc_auth_init(&owners);
  if (!rest_query_bool(c, "overwrite", false, &overwrite))
    return;
  rest_media_parse(c->rq->header(c->rq, "Content-Type"), &ct);
  if (ct.n > 0 && !rest_media_has(&ct, "application/json")) {
    rest_media_repr(&ct, repr, sizeof repr);
    rest_error(c, 415, "Unsupported Media Type %s", repr);
    return;
  }
  if (new_owners(c, &owners, &err) != 0) {
    rest_error(c, err.code == IMC_E_NOMEM ? 500 : 400, "%s: %s", c->what, err.msg);
  } else if (imc_infra_change_auth(c->d->engine, c->params[0], &owners, overwrite, &c->auth,
                                   &err) != 0) {
    rest_fail(c, &err);
  } else {
    rest_send_text(c, "text/plain", "", 0);
  }
  imc_auth_cleanup(&owners);
}
