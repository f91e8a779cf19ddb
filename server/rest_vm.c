/* SPDX-License-Identifier: GPL-3.0-or-later */
/* REST routes on /infrastructures/{InfId}/vms/{VMId}: info, alter, remove, properties,
 * start/stop/reboot, disk snapshots. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "rest_int.h"

#define VM_PROP_WHAT "Error Getting VM. property"

/* A VM's document: RADL text, or {"radl": [RADL JSON]} (IM's radlToSimple). */
static void send_vm_doc(struct rest_ctx *c, enum rest_out how, const struct imc_doc *doc)
{
  struct imc_buf text;
  struct imc_err err;
  json_error_t jerr;

  imc_err_clear(&err);
  imc_buf_init(&text, IMC_MAX_DOC);
  if (how == REST_OUT_JSON) {
    if (radl_json_print(doc, false, &text, &err) != 0)
      rest_fail(c, &err);
    else
      rest_send_json(c, "radl", json_loadb(text.data ? text.data : "", text.len, 0, &jerr));
  } else {
    if (radl_print(doc, &text, &err) != 0)
      rest_fail(c, &err);
    else
      rest_send_text(c, "text/plain", imc_buf_cstr(&text), text.len);
  }
  imc_buf_free(&text);
}

void rest_vm_info(struct rest_ctx *c)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;
  enum rest_out how;

  c->what = "Error Getting VM. info";
  imc_err_clear(&err);
  if (imc_vm_info(c->d->engine, c->params[0], rest_vm_id(c->params[1]), &c->auth, &doc,
                  &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/plain", &how))
    send_vm_doc(c, how, doc);
  imc_doc_free(doc);
}

void rest_vm_alter(struct rest_ctx *c)
{
  struct imc_doc *doc = NULL, *res = NULL;
  struct imc_err err;
  enum rest_out how;

  c->what = "Error modifying resources";
  imc_err_clear(&err);
  if (!rest_body_doc(c, &doc))
    return;
  if (rest_negotiate(c, "text/plain", &how)) {
    if (imc_vm_alter(c->d->engine, c->params[0], rest_vm_id(c->params[1]), doc, &c->auth, &res,
                     &err) != 0)
      rest_fail(c, &err);
    else
      send_vm_doc(c, how, res);
  }
  imc_doc_free(res);
  imc_doc_free(doc);
}

/* `vm` may be a comma list ("1,3"), as IM's RemoveResource reads it. */
void rest_vm_remove(struct rest_ctx *c)
{
  unsigned *ids = NULL, removed = 0;
  size_t n = 0;
  struct imc_err err;
  bool context;

  c->what = "Error Removing resources";
  imc_err_clear(&err);
  if (!rest_query_bool(c, "context", true, &context))
    return;
  if (!rest_parse_vm_list(c->params[1], false, &ids, &n)) {
    rest_error(c, 500, "Out of memory");
    return;
  }
  if (imc_infra_remove(c->d->engine, c->params[0], ids, n, &c->auth, context, &removed,
                       &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_text(c, "text/plain", "", 0);
  imc_free(ids);
}

void rest_vm_contmsg(struct rest_ctx *c)
{
  struct imc_buf log;
  struct imc_err err;
  enum rest_out how;

  c->what = VM_PROP_WHAT;
  imc_err_clear(&err);
  imc_buf_init(&log, IMC_MAX_DOC);
  if (imc_vm_contmsg(c->d->engine, c->params[0], rest_vm_id(c->params[1]), &c->auth, &log,
                     &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/plain", &how))
    rest_send_str(c, how, "text/plain", "contmsg", imc_buf_cstr(&log));
  imc_buf_free(&log);
}

/* The reverse-SSH bootstrap script of IM's SSH_REVERSE_TUNNELS: it belongs to the
 * contextualization over SSH, not in this build.  The caller's access is checked first, as
 * IM does, so the refusal tells nothing to a stranger. */
void rest_vm_command(struct rest_ctx *c)
{
  const char *step = c->rq->query(c->rq, "step");
  struct imc_vm_ids vms = {0};
  struct imc_err err;
  long long s;

  c->what = VM_PROP_WHAT;
  imc_err_clear(&err);
  if (step && !rest_parse_int(step, &s)) {
    rest_error(c, 400, "%s: step must be a number", c->what);
    return;
  }
  if (imc_infra_info(c->d->engine, c->params[0], &c->auth, &vms, &err) != 0)
    rest_fail(c, &err);
  else
    rest_error(c, 404, "Incorrect property command for VM ID %s: the reverse SSH tunnel "
               "command (SSH_REVERSE_TUNNELS) is not supported by this build", c->params[1]);
  imc_vm_ids_free(&vms);
}

void rest_vm_property(struct rest_ctx *c)
{
  struct imc_feature *f = NULL;
  struct imc_buf text;
  struct imc_err err;
  enum rest_out how;
  json_t *v = NULL;

  c->what = VM_PROP_WHAT;
  imc_err_clear(&err);
  imc_buf_init(&text, IMC_MAX_DOC);
  if (imc_vm_property(c->d->engine, c->params[0], rest_vm_id(c->params[1]), c->params[2],
                      &c->auth, &f, &err) != 0) {
    rest_fail(c, &err);
    goto out;
  }
  if (!rest_negotiate(c, "text/plain", &how)) {
    goto out;
  } else if (!(v = radl_feature_json(f))) {
    rest_error(c, 500, "Out of memory");
  } else if (how == REST_OUT_JSON) {
    rest_send_json(c, c->params[2], v);
    v = NULL;
  } else {
    radl_py_str(v, &text);
    if (imc_buf_err(&text))
      rest_error(c, 500, "Out of memory");
    else
      rest_send_text(c, "text/plain", imc_buf_cstr(&text), text.len);
  }
out:
  json_decref(v);
  imc_feature_free(f);
  imc_buf_free(&text);
}

void rest_vm_power(struct rest_ctx *c)
{
  char what[64];
  struct imc_err err;
  const char *name;
  enum imc_power op = rest_power_op(c->route->id, &name);

  snprintf(what, sizeof what, "Error in %s op in VM", name);
  c->what = what;
  imc_err_clear(&err);
  if (imc_vm_power(c->d->engine, c->params[0], rest_vm_id(c->params[1]), op, &c->auth, &err) !=
      0)
    rest_fail(c, &err);
  else
    rest_send_text(c, "text/plain", "", 0);
  c->what = "Error";
}

void rest_vm_op_other(struct rest_ctx *c)
{
  rest_error(c, 404, "Error in %s op in VM: unknown operation (start, stop or reboot)",
             c->params[2]);
}

void rest_vm_snapshot(struct rest_ctx *c)
{
  const char *name = c->rq->query(c->rq, "image_name");
  char *url = NULL;
  struct imc_err err;
  long long disk;
  bool auto_delete;

  c->what = "Error creating snapshot";
  imc_err_clear(&err);
  if (!name) {
    rest_error(c, 400, "Parameter image_name required.");
    return;
  }
  if (!rest_query_bool(c, "auto_delete", false, &auto_delete))
    return;
  if (!rest_parse_int(c->params[2], &disk) || disk < 0 || disk > 1000000) {
    rest_error(c, 400, "%s: invalid disk number", c->what);
    return;
  }
  if (imc_vm_snapshot(c->d->engine, c->params[0], rest_vm_id(c->params[1]), (unsigned)disk, name,
                      auto_delete, &c->auth, &url, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_text(c, "text/plain", url, strlen(url));
  imc_free(url);
}
