/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Infrastructures and VMs to and from the store.  The document and each VM's system are kept
 * in IM's JSON form of RADL; what the engine adds (contextualization flag, networks pinned to a
 * cloud, snapshots to delete) is a small JSON object.  A snapshot of the fields is taken under
 * infra->mu and written under infra->save_mu, so writes of one infrastructure land in order. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/radl.h"

#define MAX_STORED_DOC IMC_MAX_DOC
#define MAX_LOG_LINE 4096

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

int persist_system_json(const struct imc_elem *system, char **out, struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, MAX_STORED_DOC);
  if ((r = radl_json_print_elem(system, &b, err)) != 0) {
    imc_buf_free(&b);
    return r;
  }
  if (!(*out = imc_buf_take(&b, NULL)))
    return nomem(err);
  return 0;
}

int persist_system_parse(const char *text, struct imc_elem **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  int r;

  *out = NULL;
  if ((r = radl_json_parse("stored VM", text, strlen(text), &doc, err)) != 0)
    return r;
  if (doc->nsystems != 1)
    r = imc_fail(err, IMC_E_INTERNAL, "stored VM: expected one system");
  else if (!(*out = imc_elem_clone(doc->systems[0])))
    r = nomem(err);
  imc_doc_free(doc);
  return r;
}

static char *extra_json(const struct infra *inf)
{
  json_t *o = json_object();
  char *text = NULL;

  if (o && !json_object_set_new(o, "configured", json_integer(inf->configured)) &&
      !json_object_set(o, "private_networks", inf->private_nets) &&
      !json_object_set(o, "snapshots", inf->snapshots) &&
      !json_object_set(o, "ctxt_runs", inf->ctxt_runs) &&
      (!inf->ssh_key || !json_object_set(o, "ssh_key", inf->ssh_key)))
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(o);
  return text;
}

/* Copies what the store row needs; under inf->mu. */
static int snapshot_infra(const struct infra *inf, struct imc_store_infra *row,
                          struct imc_err *err)
{
  struct imc_buf b;
  int r;

  memset(row, 0, sizeof *row);
  snprintf(row->id, sizeof row->id, "%s", inf->id);
  row->created = inf->created;
  row->updated = inf->updated;
  row->deleted = inf->deleted;
  imc_buf_init(&b, MAX_STORED_DOC);
  if (inf->doc && (r = radl_json_print(inf->doc, false, &b, err)) != 0) {
    imc_buf_free(&b);
    return r;
  }
  if (!inf->doc)
    imc_buf_adds(&b, "[]");
  if (!(row->radl = imc_buf_take(&b, NULL)) || !(row->extra = extra_json(inf)))
    goto nomem;
  if (inf->nowners && !(row->owners = imc_calloc(inf->nowners, sizeof *row->owners)))
    goto nomem;
  for (; row->nowners < inf->nowners; row->nowners++)
    if (!(row->owners[row->nowners] = imc_strdup(inf->owners[row->nowners])))
      goto nomem;
  return 0;
nomem:
  imc_store_infra_cleanup(row);
  return nomem(err);
}

int persist_infra(struct imc_engine *e, struct infra *inf, struct imc_err *err)
{
  struct imc_store_infra row;
  int r;

  pthread_mutex_lock(&inf->save_mu);
  pthread_mutex_lock(&inf->mu);
  inf->updated = engine_now();
  r = snapshot_infra(inf, &row, err);
  pthread_mutex_unlock(&inf->mu);
  if (r == 0) {
    r = imc_store_put_infra(e->store, &row, err);
    imc_store_infra_cleanup(&row);
  }
  pthread_mutex_unlock(&inf->save_mu);
  return r;
}

static int snapshot_vm(const struct infra *inf, const struct evm *v, struct imc_store_vm *row,
                       struct imc_err *err)
{
  const struct imc_vm *vm = v->vm;
  struct {
    char **dst;
    const char *src;
  } strs[] = {
    {&row->cloud_id, vm->cloud_id},         {&row->cloud_type, vm->cloud_type},
    {&row->instance_id, vm->instance_id},   {&row->client_token, vm->client_token},
    {&row->error, vm->error},
  };
  int r;

  memset(row, 0, sizeof *row);
  snprintf(row->infra_id, sizeof row->infra_id, "%s", inf->id);
  row->id = vm->id;
  row->launch = v->launch;
  row->state = evm_state(v);
  row->destroyed = v->destroyed;
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    if (strs[i].src && !(*strs[i].dst = imc_strdup(strs[i].src))) {
      imc_store_vm_cleanup(row);
      return nomem(err);
    }
  if (vm->system && (r = persist_system_json(vm->system, &row->system, err)) != 0) {
    imc_store_vm_cleanup(row);
    return r;
  }
  return 0;
}

int persist_vm(struct imc_engine *e, struct infra *inf, unsigned vm_id, struct imc_err *err)
{
  struct imc_store_vm row;
  int r;

  pthread_mutex_lock(&inf->save_mu);
  pthread_mutex_lock(&inf->mu);
  r = vm_id < inf->nvms ? snapshot_vm(inf, &inf->vms[vm_id], &row, err)
                        : imc_fail(err, IMC_E_INTERNAL, "no VM %u to save", vm_id);
  pthread_mutex_unlock(&inf->mu);
  if (r == 0) {
    r = imc_store_put_vm(e->store, &row, err);
    imc_store_vm_cleanup(&row);
  }
  pthread_mutex_unlock(&inf->save_mu);
  return r;
}

int persist_all(struct imc_engine *e, struct infra *inf, struct imc_err *err)
{
  size_t n;
  int r;

  if ((r = imc_store_begin(e->store, err)) != 0)
    return r;
  r = persist_infra(e, inf, err);
  pthread_mutex_lock(&inf->mu);
  n = inf->nvms;
  pthread_mutex_unlock(&inf->mu);
  for (size_t i = 0; i < n && !r; i++)
    r = persist_vm(e, inf, (unsigned)i, err);
  if (r) {
    imc_store_rollback(e->store);
    return r;
  }
  return imc_store_commit(e->store, err);
}

/* --- loading ------------------------------------------------------------------------------ */

static int load_extra(struct infra *inf, const char *text, struct imc_err *err)
{
  json_error_t jerr;
  json_t *o = json_loads(text ? text : "{}", 0, &jerr), *v;

  if (!json_is_object(o)) {
    json_decref(o);
    return imc_fail(err, IMC_E_INTERNAL, "infrastructure %s: bad stored data", inf->id);
  }
  if (json_is_integer(v = json_object_get(o, "configured")))
    inf->configured = (int)json_integer_value(v);
  if (json_is_object(v = json_object_get(o, "private_networks"))) {
    json_decref(inf->private_nets);
    inf->private_nets = json_incref(v);
  }
  if (json_is_array(v = json_object_get(o, "snapshots"))) {
    json_decref(inf->snapshots);
    inf->snapshots = json_incref(v);
  }
  if (json_is_object(v = json_object_get(o, "ctxt_runs"))) {
    json_decref(inf->ctxt_runs);
    inf->ctxt_runs = json_incref(v);
  }
  if (json_is_object(v = json_object_get(o, "ssh_key"))) {
    json_decref(inf->ssh_key);
    inf->ssh_key = json_incref(v);
  }
  json_decref(o);
  return 0;
}

static int load_vm(struct infra *inf, const struct imc_store_vm *row, struct imc_err *err)
{
  struct imc_elem *system = NULL;
  struct imc_vm *vm;
  struct evm *v;
  unsigned id;
  int r;

  if (row->id != inf->nvms)
    return imc_fail(err, IMC_E_INTERNAL, "infrastructure %s: VM %u missing", inf->id,
                    (unsigned)inf->nvms);
  if (row->system && (r = persist_system_parse(row->system, &system, err)) != 0)
    return r;
  vm = imc_vm_new(row->id, NULL);
  if (!vm || imc_vm_set(&vm->cloud_id, row->cloud_id) ||
      imc_vm_set(&vm->cloud_type, row->cloud_type) ||
      imc_vm_set(&vm->instance_id, row->instance_id) ||
      imc_vm_set(&vm->client_token, row->client_token) || imc_vm_set(&vm->error, row->error)) {
    imc_vm_free(vm);
    imc_elem_free(system);
    return nomem(err);
  }
  vm->system = system;
  vm->state = row->state;
  if ((r = infra_append_vm(inf, vm, row->launch, &id, err)) != 0)
    return r;
  v = &inf->vms[id];
  v->destroyed = row->destroyed;
  /* IM keeps the contextualization outcome apart from the cloud's state; the row has the
   * state shown, which says both. */
  if (row->state == IMC_VM_CONFIGURED || row->state == IMC_VM_UNCONFIGURED) {
    v->ctxt = row->state == IMC_VM_CONFIGURED;
    vm->state = IMC_VM_RUNNING;
  }
  return 0;
}

int persist_load(struct imc_engine *e, const char *id, struct infra **out, struct imc_err *err)
{
  struct imc_store_infra row = {0};
  struct imc_store_vm *vms = NULL;
  struct infra *inf = NULL;
  size_t nvms = 0;
  int r;

  *out = NULL;
  if ((r = imc_store_get_infra(e->store, id, &row, err)) != 0)
    return r;
  if (!(inf = infra_new(id))) {
    r = nomem(err);
    goto out;
  }
  inf->created = row.created;
  inf->updated = row.updated;
  inf->deleted = row.deleted;
  inf->owners = row.owners;
  inf->nowners = row.nowners;
  row.owners = NULL;
  row.nowners = 0;
  if ((r = load_extra(inf, row.extra, err)) != 0)
    goto out;
  if (!row.deleted) {
    if ((r = radl_json_parse(id, row.radl, strlen(row.radl), &inf->doc, err)) != 0 ||
        (r = imc_store_get_vms(e->store, id, &vms, &nvms, err)) != 0)
      goto out;
    for (size_t i = 0; i < nvms && !r; i++)
      r = load_vm(inf, &vms[i], err);
  }
out:
  imc_store_infra_cleanup(&row);
  imc_store_vms_free(vms, nvms);
  if (r) {
    infra_free(inf);
    return r;
  }
  *out = inf;
  return 0;
}

/* --- logs --------------------------------------------------------------------------------- */

void persist_log(struct imc_engine *e, const char *id, int vm, const char *fmt, ...)
{
  char line[MAX_LOG_LINE];
  struct timeval tv;
  struct tm tm;
  struct imc_err err = {0};
  size_t len;
  va_list ap;

  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  /* IM's add_cont_msg: str(datetime.now()) + ": " + msg */
  len = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
  len += (size_t)snprintf(line + len, sizeof line - len, ".%06ld: ", (long)tv.tv_usec);
  va_start(ap, fmt);
  vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
  va_end(ap);
  len = strlen(line);
  line[len] = '\n';
  line[len + 1] = '\0';
  if (imc_store_append_log(e->store, id, vm, (int64_t)tv.tv_sec, line, &err) != 0)
    imc_log(IMC_LOG_WARN, "infrastructure %s: log not saved: %s", id, err.msg);
}
