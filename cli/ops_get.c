/* SPDX-License-Identifier: GPL-3.0-or-later */
/* im-client's operations that read: each prints im-client 1.8.4's text, or with --json one
 * JSON value. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "ops_int.h"

#define MAX_ANSWER (64u * 1024 * 1024)

/* A list of strings as JSON, or NULL when out of memory. */
static json_t *strs_json(const struct imc_strs *s)
{
  json_t *list = json_array();

  for (size_t i = 0; list && i < s->n; i++)
    if (json_array_append_new(list, json_string(s->v[i])) != 0) {
      json_decref(list);
      list = NULL;
    }
  return list;
}

/* The name in an infrastructure's description, or "N/A" (im-client's list -n). */
static void infra_name(struct op_ctx *c, const char *id, char *out, size_t size)
{
  struct imc_buf text;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  const char *name = NULL;

  imc_buf_init(&text, IMC_MAX_DOC);
  if (c->b->radl(c->b->ctx, id, &text, &err) == 0 &&
      radl_parse(NULL, text.len ? text.data : "", text.len, NULL, &doc, &err) == 0 &&
      doc->description)
    name = imc_features_str(&doc->description->feats, "name");
  snprintf(out, size, "%s", name ? name : "N/A");
  imc_doc_free(doc);
  imc_buf_free(&text);
}

static int list_names(struct op_ctx *c, const struct imc_strs *ids)
{
  json_t *all = cli_global.quiet || cli_global.json ? json_object() : NULL;
  char name[256];

  if (!all && op_chatty()) {
    printf("Infrastructure ID                       Name\n");
    printf("====================================    ====\n");
  }
  for (size_t i = 0; i < ids->n; i++) {
    infra_name(c, ids->v[i], name, sizeof name);
    if (all)
      json_object_set_new(all, ids->v[i], json_string(name));
    else
      printf("%s    %s\n", ids->v[i], name);
  }
  return all ? op_print_json(all) : CLI_OK;
}

int op_list(struct op_ctx *c)
{
  struct imc_strs ids = {0};
  struct imc_err err = {0};
  int r = CLI_OK;

  if (c->b->list(c->b->ctx, c->argc > 1 ? c->argv[1] : NULL, &ids, &err) != 0)
    return op_failed("ERROR listing then infrastructures", &err);
  if (ids.n == 0 && !cli_global.json) {
    if (!cli_global.quiet)
      printf("No Infrastructures.\n");
  } else if (cli_global.name) {
    r = list_names(c, &ids);
  } else if (cli_global.quiet || cli_global.json) {
    r = op_print_json(strs_json(&ids));
  } else {
    printf("Infrastructure IDs: \n");
    for (size_t i = 0; i < ids.n; i++)
      printf("  %s\n", ids.v[i]);
  }
  imc_strs_free(&ids);
  return r;
}

/* One feature of the first system of a VM's RADL as Python's str() of IM's getValue ("None"
 * when absent). */
static int radl_value(const char *radl, size_t len, const char *prop, struct imc_buf *out,
                      struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  const struct imc_feature *f;
  json_t *v = NULL;
  int r = radl_parse(NULL, radl, len, NULL, &doc, err);

  if (r == 0) {
    f = doc->nsystems ? imc_features_get(&doc->systems[0]->feats, prop) : NULL;
    if (!f)
      imc_buf_adds(out, "None");
    else if ((v = radl_feature_json(f)))
      radl_py_str(v, out);
    else
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  json_decref(v);
  imc_doc_free(doc);
  return r;
}

/* im-client's getvminfo(inf, vm, prop, system_name): the VM's RADL, or one property of it;
 * with a system name, nothing for the VMs of other systems. */
static int vm_info(struct op_ctx *c, const char *id, unsigned vm, const char *prop,
                   struct imc_buf *out, struct imc_err *err)
{
  const char *sys = cli_global.system_name;
  struct imc_buf radl;
  struct imc_doc *doc = NULL;
  int r;

  if (prop && !sys)
    return strcmp(prop, "contmsg") == 0 ? c->b->vm_contmsg(c->b->ctx, id, vm, out, err)
                                        : c->b->vm_property(c->b->ctx, id, vm, prop, out, err);
  imc_buf_init(&radl, IMC_MAX_DOC);
  if ((r = c->b->vm_radl(c->b->ctx, id, vm, &radl, err)) != 0 || !sys) {
    imc_buf_add(out, radl.data ? radl.data : "", radl.len);
    goto out;
  }
  if ((r = radl_parse(NULL, radl.len ? radl.data : "", radl.len, NULL, &doc, err)) != 0)
    goto out;
  if (doc->nsystems && strcmp(doc->systems[0]->id, sys) == 0) {
    if (prop)
      r = radl_value(radl.data, radl.len, prop, out, err);
    else
      imc_buf_add(out, radl.data, radl.len);
  }
out:
  imc_doc_free(doc);
  imc_buf_free(&radl);
  return r;
}

int op_getinfo(struct op_ctx *c)
{
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};
  struct imc_buf text;
  json_t *all = cli_global.json ? json_object() : NULL;
  char id[IMC_INFRA_ID_MAX], key[16];

  if (op_infra_id(c, id, &err) != 0 || c->b->info(c->b->ctx, id, &vms, &err) != 0) {
    json_decref(all);
    return op_failed("ERROR getting the information about infrastructure", &err);
  }
  imc_buf_init(&text, MAX_ANSWER);
  for (size_t i = 0; i < vms.n; i++) {
    struct imc_err verr = {0};
    int r;

    if (op_chatty())
      printf("Info about VM with ID: %u\n", vms.v[i]);
    imc_buf_reset(&text);
    r = vm_info(c, id, vms.v[i], c->argc > 2 ? c->argv[2] : NULL, &text, &verr);
    snprintf(key, sizeof key, "%u", vms.v[i]);
    if (all)
      json_object_set_new(all, key,
                          r ? json_pack("{s:s}", "error", verr.msg)
                            : json_stringn(text.data ? text.data : "", text.len));
    else if (r)
      printf("ERROR getting the information about the VM: %s\n", verr.msg);
    else if (!cli_global.system_name || text.len)
      op_print_text(text.data, text.len);
  }
  imc_buf_free(&text);
  imc_vm_ids_free(&vms);
  return all ? op_print_json(all) : CLI_OK;
}

/* Prints a text answer, or {field: text} with --json. */
static int print_answer(const char *field, const struct imc_buf *text)
{
  if (cli_global.json)
    return op_print_json(json_pack("{s:s%}", field, text->data ? text->data : "", text->len));
  op_print_text(text->data, text->len);
  return CLI_OK;
}

/* A text answer about the infrastructure or one of its VMs. */
typedef int (*text_getter)(struct op_ctx *c, const char *id, unsigned vm, struct imc_buf *out,
                           struct imc_err *err);

/* An operation that prints one text answer: the infrastructure is operand 1, the VM (when
 * vm_at > 0) operand vm_at. */
static int text_op(struct op_ctx *c, int vm_at, text_getter get, const char *what,
                   const char *field)
{
  struct imc_err err = {0};
  struct imc_buf text;
  char id[IMC_INFRA_ID_MAX];
  unsigned vm = 0;
  int r;

  if (vm_at > 0 && (r = op_vm_id(c, vm_at, &vm)) != CLI_OK)
    return r;
  imc_buf_init(&text, MAX_ANSWER);
  if ((r = op_infra_id(c, id, &err)) == 0)
    r = get(c, id, vm, &text, &err);
  r = r ? op_failed(what, &err) : print_answer(field, &text);
  imc_buf_free(&text);
  return r;
}

static int get_vminfo(struct op_ctx *c, const char *id, unsigned vm, struct imc_buf *out,
                      struct imc_err *err)
{
  return vm_info(c, id, vm, c->argc > 3 ? c->argv[3] : NULL, out, err);
}

static int get_vmcontmsg(struct op_ctx *c, const char *id, unsigned vm, struct imc_buf *out,
                         struct imc_err *err)
{
  return c->b->vm_contmsg(c->b->ctx, id, vm, out, err);
}

static int get_radl(struct op_ctx *c, const char *id, unsigned vm, struct imc_buf *out,
                    struct imc_err *err)
{
  return c->b->radl(c->b->ctx, id, out, err);
}

int op_getvminfo(struct op_ctx *c)
{
  return text_op(c, 2, get_vminfo, "ERROR getting the VM info", c->argc > 3 ? "value" : "radl");
}

int op_getvmcontmsg(struct op_ctx *c)
{
  return text_op(c, 2, get_vmcontmsg, "Error getting VM contextualization message", "contmsg");
}

int op_getradl(struct op_ctx *c)
{
  return text_op(c, 0, get_radl, "ERROR getting the infrastructure RADL", "radl");
}

int op_getcontmsg(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct imc_buf text;
  char id[IMC_INFRA_ID_MAX];
  int r;

  imc_buf_init(&text, MAX_ANSWER);
  if ((r = op_infra_id(c, id, &err)) == 0)
    r = c->b->contmsg(c->b->ctx, id, &text, &err);
  if (r)
    r = op_failed("Error getting infrastructure contextualization message", &err);
  else if (cli_global.json)
    r = print_answer("contmsg", &text);
  else if (text.len > 0) {
    if (!cli_global.quiet)
      printf("Msg Contextualizator: \n\n");
    op_print_text(text.data, text.len);
  } else if (!cli_global.quiet) {
    printf("No Msg Contextualizator avaliable\n\n");
  }
  imc_buf_free(&text);
  return r;
}

int op_getstate(struct op_ctx *c)
{
  struct imc_infra_state st = {0};
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  json_t *vms, *all;

  if (op_infra_id(c, id, &err) != 0 || c->b->state(c->b->ctx, id, &st, &err) != 0)
    return op_failed("Error getting infrastructure state", &err);
  if (op_chatty()) {
    printf("The infrastructure is in state: %s\n", imc_vm_state_name(st.state));
    for (size_t i = 0; i < st.n; i++)
      printf("VM ID: %u is in state: %s.\n", st.vm_ids[i], imc_vm_state_name(st.vm_states[i]));
    imc_infra_state_free(&st);
    return CLI_OK;
  }
  vms = json_object();
  all =
    vms ? json_pack("{s:s, s:o}", "state", imc_vm_state_name(st.state), "vm_states", vms) : NULL;
  for (size_t i = 0; all && i < st.n; i++) {
    char key[16];

    snprintf(key, sizeof key, "%u", st.vm_ids[i]);
    if (json_object_set_new(vms, key, json_string(imc_vm_state_name(st.vm_states[i]))) != 0) {
      json_decref(all);
      all = NULL;
    }
  }
  imc_infra_state_free(&st);
  return op_print_json(all);
}

int op_getoutputs(struct op_ctx *c)
{
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  json_t *outputs = NULL, *v;
  const char *key;

  if (op_infra_id(c, id, &err) != 0 || c->b->outputs(c->b->ctx, id, &outputs, &err) != 0)
    return op_failed("ERROR getting the infrastructure outputs", &err);
  if (!op_chatty())
    return op_print_json(outputs);
  printf("The infrastructure outputs:\n\n");
  json_object_foreach(outputs, key, v)
  {
    struct imc_buf text;

    imc_buf_init(&text, MAX_ANSWER);
    radl_py_str(v, &text);
    printf("%s = %s\n", key, imc_buf_cstr(&text));
    imc_buf_free(&text);
  }
  json_decref(outputs);
  return CLI_OK;
}

int op_export(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct imc_buf text;
  char id[IMC_INFRA_ID_MAX];
  int del = 0, r;

  imc_buf_init(&text, MAX_ANSWER);
  if ((r = op_infra_id(c, id, &err)) == 0 && (r = op_flag(c, 2, "delete", &del, &err)) == 0)
    r = c->b->export_data(c->b->ctx, id, del, &text, &err);
  if (r)
    r = op_failed("ERROR exporting data", &err);
  else if (cli_global.json) /* the data itself, not im-client's JSON string of it */
    r = op_print_json(json_loadb(text.data ? text.data : "", text.len, 0, NULL));
  else /* im-client prints json.dumps of the string the server sent */
    r = op_print_json(json_stringn(text.data ? text.data : "", text.len));
  imc_buf_free(&text);
  return r;
}

/* The JSON answers: printed as they are, -q or not. */
static int json_answer(const char *what, int r, json_t *v, const struct imc_err *err)
{
  return r ? op_failed(what, err) : op_print_json(v);
}

int op_cloudusage(struct op_ctx *c)
{
  struct imc_err err = {0};
  json_t *v = NULL;
  int r = c->b->cloud_quotas(c->b->ctx, c->argv[1], &v, &err);

  return json_answer("ERROR getting cloud usage", r, v, &err);
}

int op_cloudimages(struct op_ctx *c)
{
  struct imc_err err = {0};
  json_t *v = NULL;
  int r = c->b->cloud_images(c->b->ctx, c->argv[1], &v, &err);

  return json_answer("ERROR getting cloud image list", r, v, &err);
}

int op_estimate(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct op_doc d;
  json_t *v = NULL;
  int r;

  if ((r = op_doc_read(c->argv[1], true, &d, &err)) == 0)
    r = c->b->estimate(c->b->ctx, d.doc, d.text.data, d.text.len, &v, &err);
  op_doc_free(&d);
  return json_answer("ERROR estimating the resources", r, v, &err);
}

int op_stats(struct op_ctx *c)
{
  struct imc_err err = {0};
  json_t *v = NULL;
  int r = c->b->stats(c->b->ctx, c->argc > 1 ? c->argv[1] : NULL, c->argc > 2 ? c->argv[2] : NULL,
                      &v, &err);

  return json_answer("ERROR getting the stats", r, v, &err);
}

int op_getowners(struct op_ctx *c)
{
  struct imc_strs names = {0};
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  int r = CLI_OK;

  if (op_infra_id(c, id, &err) != 0 || c->b->owners(c->b->ctx, id, &names, &err) != 0)
    return op_failed("ERROR getting the infrastructure owners", &err);
  if (!op_chatty()) {
    r = op_print_json(strs_json(&names));
  } else {
    printf("Infrastructure owners: \n");
    for (size_t i = 0; i < names.n; i++)
      printf("  %s\n", names.v[i]);
  }
  imc_strs_free(&names);
  return r;
}

int op_getversion(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct imc_buf text;
  int r;

  imc_buf_init(&text, 4096);
  if ((r = c->b->version(c->b->ctx, &text, &err)) != 0)
    r = op_failed("ERROR getting IM service version", &err);
  else if (cli_global.json)
    r = print_answer("version", &text);
  else
    printf("%s%s\n", cli_global.quiet ? "" : "IM service version: ", imc_buf_cstr(&text));
  imc_buf_free(&text);
  return r;
}
