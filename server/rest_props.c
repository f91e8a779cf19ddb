/* SPDX-License-Identifier: GPL-3.0-or-later */
/* REST routes GET /infrastructures/{InfId}/{Prop}: contmsg, radl, state, outputs, tosca, data
 * and authorization (the owners).  state, outputs, data and tosca answer JSON only. */
#include <stdio.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "imc/json.h"
#include "rest_int.h"

#define PROP_WHAT "Error Getting Inf. prop"

void rest_infra_contmsg(struct rest_ctx *c)
{
  struct imc_buf log;
  struct imc_err err;
  enum rest_out how;
  bool header_only;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  imc_buf_init(&log, IMC_MAX_DOC);
  if (!rest_query_bool(c, "headeronly", false, &header_only))
    goto out;
  if (imc_infra_contmsg(c->d->engine, c->params[0], &c->auth, header_only, &log, &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/plain", &how))
    rest_send_str(c, how, "text/plain", "contmsg", imc_buf_cstr(&log));
out:
  imc_buf_free(&log);
}

/* IM's GetInfrastructureRADL answers the text, so JSON is {"radl": "<text>"}. */
void rest_infra_radl(struct rest_ctx *c)
{
  struct imc_doc *doc = NULL;
  struct imc_buf text;
  struct imc_err err;
  enum rest_out how;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  imc_buf_init(&text, IMC_MAX_DOC);
  if (imc_infra_radl(c->d->engine, c->params[0], &c->auth, &doc, &err) != 0 ||
      radl_print(doc, &text, &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/plain", &how))
    rest_send_str(c, how, "text/plain", "radl", imc_buf_cstr(&text));
  imc_doc_free(doc);
  imc_buf_free(&text);
}

/* {"state": IM-state, "vm_states": {"0": state, ...}} */
static json_t *state_json(const struct imc_infra_state *st)
{
  json_t *vms = json_object();
  char key[16];

  for (size_t i = 0; vms && i < st->n; i++) {
    snprintf(key, sizeof key, "%u", st->vm_ids[i]);
    if (json_object_set_new(vms, key, json_string(imc_vm_state_name(st->vm_states[i]))) != 0) {
      json_decref(vms);
      vms = NULL;
    }
  }
  return vms ? json_pack("{s:s, s:o}", "state", imc_vm_state_name(st->state), "vm_states", vms)
             : NULL;
}

void rest_infra_state(struct rest_ctx *c)
{
  struct imc_infra_state st = {0};
  struct imc_err err;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  if (!rest_want_json(c))
    return;
  if (imc_infra_state(c->d->engine, c->params[0], &c->auth, &st, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_json(c, "state", state_json(&st));
  imc_infra_state_free(&st);
}

void rest_infra_outputs(struct rest_ctx *c)
{
  struct imc_err err;
  json_t *out = NULL;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  if (!rest_want_json(c))
    return;
  if (imc_infra_outputs(c->d->engine, c->params[0], &c->auth, &out, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_json(c, "outputs", out);
}

/* The TOSCA template of an infrastructure made from one.  This build reads no TOSCA, so every
 * infrastructure is a RADL one: IM's 403, once the caller is known to own it. */
void rest_infra_tosca(struct rest_ctx *c)
{
  struct imc_strs owners = {0};
  struct imc_err err;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  if (!rest_want_json(c))
    return;
  if (imc_infra_owners(c->d->engine, c->params[0], &c->auth, &owners, &err) != 0)
    rest_fail(c, &err);
  else
    rest_error(c, 403, "%s: 'tosca' infrastructure property is not valid in this "
               "infrastructure", c->what);
  imc_strs_free(&owners);
}

/* IM's ExportInfrastructure answers a JSON text, so this is {"data": "<text>"}. */
void rest_infra_data(struct rest_ctx *c)
{
  struct imc_buf data;
  struct imc_err err;
  bool delete_it;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  imc_buf_init(&data, IMC_MAX_DOC);
  if (!rest_want_json(c) || !rest_query_bool(c, "delete", false, &delete_it))
    goto out;
  if (imc_infra_export(c->d->engine, c->params[0], &c->auth, delete_it, &data, &err) != 0)
    rest_fail(c, &err);
  else
    rest_send_json(c, "data", imc_json_textn(imc_buf_cstr(&data), data.len));
out:
  imc_buf_free(&data);
}

void rest_infra_owners(struct rest_ctx *c)
{
  struct imc_strs names = {0};
  struct imc_err err;
  enum rest_out how;

  c->what = PROP_WHAT;
  imc_err_clear(&err);
  if (imc_infra_owners(c->d->engine, c->params[0], &c->auth, &names, &err) != 0)
    rest_fail(c, &err);
  else if (rest_negotiate(c, "text/plain", &how))
    rest_send_list(c, how, "text/plain", "authorization", NULL, (const char *const *)names.v,
                   names.n);
  imc_strs_free(&names);
}

void rest_infra_prop_other(struct rest_ctx *c)
{
  rest_error(c, 404, "Incorrect infrastructure property");
}
