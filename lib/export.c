/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ExportInfrastructure and ImportInfrastructure: an infrastructure as one JSON object that
 * another imc (or this one) reads back.  It carries the document, the VMs with their cloud ids
 * and the engine's own data, never an owner or a credential: the importer becomes the owner,
 * as in IM, and clouds are reached with the auth data of each call. */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/radl.h"

#define EXPORT_FORMAT "imc-infrastructure"
#define EXPORT_VERSION 1

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

static const char *const launch_names[] = {"intent", "done", "failed"};

static json_t *export_vm(const struct evm *v, struct imc_err *err)
{
  char *sys = NULL;
  json_t *o;

  if (v->vm->system && persist_system_json(v->vm->system, &sys, err) != 0)
    return NULL;
  o = json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:s, s:s, s:b, s:s?, s:s?}", "id",
                (json_int_t)v->vm->id, "cloud_id", v->vm->cloud_id, "cloud_type",
                v->vm->cloud_type, "instance_id", v->vm->instance_id, "client_token",
                v->vm->client_token, "state", imc_vm_state_name(evm_state(v)), "launch",
                launch_names[v->launch], "destroyed", v->destroyed, "error", v->vm->error,
                "system", sys);
  imc_free_secret(sys);
  if (!o)
    nomem(err);
  return o;
}

/* Under inf->mu. */
static int export_json(const struct infra *inf, json_t **out, struct imc_err *err)
{
  struct imc_buf radl;
  json_t *o = NULL, *vms;
  int r;

  imc_buf_init(&radl, IMC_MAX_DOC);
  if ((r = radl_json_print(inf->doc, false, &radl, err)) != 0)
    goto out;
  o = json_pack("{s:s, s:i, s:s, s:I, s:i, s:O, s:O, s:s, s:[]}", "format", EXPORT_FORMAT,
                "version", EXPORT_VERSION, "id", inf->id, "created", (json_int_t)inf->created,
                "configured", inf->configured, "private_networks", inf->private_nets,
                "snapshots", inf->snapshots, "radl", imc_buf_cstr(&radl), "vms");
  if (!o) {
    r = nomem(err);
    goto out;
  }
  vms = json_object_get(o, "vms");
  for (size_t i = 0; i < inf->nvms && !r; i++) {
    json_t *v = export_vm(&inf->vms[i], err);

    if (!v || json_array_append_new(vms, v))
      r = err->code ? (int)err->code : nomem(err);
  }
out:
  imc_buf_free(&radl);
  if (r) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

int imc_infra_export(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                     bool delete_it, struct imc_buf *out, struct imc_err *err)
{
  struct infra *inf;
  json_t *o = NULL;
  char *text = NULL;
  int r;

  if ((r = engine_enter(e, id, auth, delete_it ? ENTER_DELETE : ENTER_READ, &inf, err)))
    return r;
  if (delete_it && (r = infra_begin_op(e, inf, err)) != 0)
    goto out;
  pthread_mutex_lock(&inf->mu);
  r = inf->deleted ? imc_fail(err, IMC_E_NOTFOUND, "Deleted infrastructure.")
                   : export_json(inf, &o, err);
  pthread_mutex_unlock(&inf->mu);
  if (!r && !(text = json_dumps(o, JSON_COMPACT)))
    r = nomem(err);
  if (!r && (r = imc_buf_add_whole(out, text, strlen(text))) != 0)
    imc_fail(err, r, "exported infrastructure too large");
  if (!r && delete_it) {
    /* Marked deleted here; its VMs keep running for whoever imports it. */
    pthread_mutex_lock(&inf->mu);
    inf->deleted = true;
    pthread_mutex_unlock(&inf->mu);
    r = persist_infra(e, inf, err);
    pthread_mutex_lock(&inf->mu);
    infra_free_contents(inf);
    pthread_mutex_unlock(&inf->mu);
  }
  if (delete_it)
    infra_end_op(e, inf);
out:
  imc_free_secret(text);
  json_decref(o);
  return r;
}

/* --- import ------------------------------------------------------------------------------ */

static int bad(struct imc_err *err, const char *what)
{
  return imc_fail(err, IMC_E_INVAL, "Error importing the infrastructure, incorrect data: %s",
                  what);
}

static int import_vm(struct infra *inf, json_t *o, struct imc_err *err)
{
  const char *state = json_string_value(json_object_get(o, "state"));
  const char *launch = json_string_value(json_object_get(o, "launch"));
  const char *sys = json_string_value(json_object_get(o, "system"));
  json_int_t id = json_integer_value(json_object_get(o, "id"));
  struct imc_elem *system = NULL;
  struct imc_vm *vm;
  struct evm *v;
  unsigned got;
  int st, ln = -1, r;

  if (!json_is_object(o) || !state || (st = imc_vm_state_parse(state)) < 0 || !launch ||
      (size_t)id != inf->nvms)
    return bad(err, "a VM record");
  for (size_t i = 0; i < sizeof launch_names / sizeof launch_names[0]; i++)
    if (strcmp(launch, launch_names[i]) == 0)
      ln = (int)i;
  if (ln < 0)
    return bad(err, "a VM launch state");
  if (sys && (r = persist_system_parse(sys, &system, err)) != 0)
    return r;
  if (!(vm = imc_vm_new((unsigned)id, NULL))) {
    imc_elem_free(system);
    return nomem(err);
  }
  vm->system = system;
  vm->state = (enum imc_vm_state)st;
  if (imc_vm_set(&vm->cloud_id, json_string_value(json_object_get(o, "cloud_id"))) ||
      imc_vm_set(&vm->cloud_type, json_string_value(json_object_get(o, "cloud_type"))) ||
      imc_vm_set(&vm->instance_id, json_string_value(json_object_get(o, "instance_id"))) ||
      imc_vm_set(&vm->client_token, json_string_value(json_object_get(o, "client_token"))) ||
      imc_vm_set(&vm->error, json_string_value(json_object_get(o, "error")))) {
    imc_vm_free(vm);
    return nomem(err);
  }
  if ((r = infra_append_vm(inf, vm, (enum imc_launch_state)ln, &got, err)) != 0)
    return r;
  v = &inf->vms[got];
  v->destroyed = json_is_true(json_object_get(o, "destroyed"));
  if (st == IMC_VM_CONFIGURED || st == IMC_VM_UNCONFIGURED) {
    v->ctxt = st == IMC_VM_CONFIGURED;
    vm->state = IMC_VM_RUNNING;
  }
  return 0;
}

static int import_json(struct infra *inf, const json_t *o, struct imc_err *err)
{
  const char *radl = json_string_value(json_object_get(o, "radl"));
  json_t *vms = json_object_get(o, "vms"), *v, *x;
  size_t i;
  int r;

  if (!json_is_object(o) ||
      !json_is_string(json_object_get(o, "format")) ||
      strcmp(json_string_value(json_object_get(o, "format")), EXPORT_FORMAT) != 0)
    return bad(err, "not an exported imc infrastructure");
  if (json_integer_value(json_object_get(o, "version")) != EXPORT_VERSION)
    return bad(err, "unknown version");
  if (!radl || !json_is_array(vms))
    return bad(err, "missing radl or vms");
  if ((r = radl_json_parse("imported radl", radl, strlen(radl), &inf->doc, err)) != 0)
    return r;
  inf->created = json_integer_value(json_object_get(o, "created"));
  if (json_is_integer(x = json_object_get(o, "configured")))
    inf->configured = (int)json_integer_value(x);
  if (json_is_object(x = json_object_get(o, "private_networks")))
    json_object_update(inf->private_nets, x);
  if (json_is_array(x = json_object_get(o, "snapshots")))
    json_array_extend(inf->snapshots, x);
  json_array_foreach(vms, i, v)
  {
    if ((r = import_vm(inf, v, err)) != 0)
      return r;
  }
  return 0;
}

int imc_infra_import(struct imc_engine *e, const char *text, size_t len,
                     const struct imc_auth *auth, char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct caller c = {0};
  struct infra *inf = NULL;
  json_error_t jerr;
  json_t *o = NULL;
  int r;

  if ((r = engine_check_boot_mode(e, false, err)) != 0 ||
      (r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  if (!(o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr))) {
    r = imc_fail(err, IMC_E_INVAL,
                 "Error importing the infrastructure, incorrect data: %d:%d: %s", jerr.line,
                 jerr.column, jerr.text);
    goto out;
  }
  engine_new_id(id);
  if (!(inf = infra_new(id)) || caller_set_owners(&c, inf)) {
    r = nomem(err);
    goto out;
  }
  if ((r = import_json(inf, o, err)) != 0)
    goto out;
  inf->updated = engine_now();
  if (!inf->created)
    inf->created = inf->updated;
  if ((r = persist_all(e, inf, err)) != 0 || (r = engine_add(e, inf, err)) != 0)
    goto out;
  inf = NULL;
out:
  if (r)
    id[0] = '\0';
  infra_free(inf);
  json_decref(o);
  caller_cleanup(&c);
  return r;
}
