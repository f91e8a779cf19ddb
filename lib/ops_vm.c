/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's operations on one VM: GetVMInfo, GetVMProperty, GetVMContMsg, AlterVM,
 * CreateDiskSnapshot (start, stop and reboot are in ops_change.c). */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* The VM's document: its system with IM's `state` feature, and the networks it is on.  Under
 * inf->mu. */
static int vm_doc(const struct infra *inf, unsigned id, struct imc_doc **out,
                  struct imc_err *err)
{
  const struct evm *v = &inf->vms[id];
  struct imc_doc *doc = imc_doc_new(NULL);
  struct imc_elem *sys = v->vm->system ? imc_elem_clone(v->vm->system) : NULL;
  char name[64];
  int r;

  if (!doc || !sys || imc_features_set_str(&sys->feats, "state", imc_vm_state_name(evm_state(v))))
    goto nomem;
  for (unsigned i = 0;; i++) {
    const char *net;
    const struct imc_elem *n;
    struct imc_elem *copy;

    snprintf(name, sizeof name, "net_interface.%u.connection", i);
    if (!(net = imc_features_str(&sys->feats, name)))
      break;
    if (imc_doc_network(doc, net) || !(n = inf->doc ? imc_doc_network(inf->doc, net) : NULL))
      continue;
    if (!(copy = imc_elem_clone(n)))
      goto nomem;
    if ((r = imc_doc_add_elem(doc, copy, IMC_IFPRESENT_IGNORE, NULL, err)) != 0)
      goto fail;
  }
  if ((r = imc_doc_add_elem(doc, sys, IMC_IFPRESENT_ERROR, NULL, err)) != 0) {
    sys = NULL;
    goto fail;
  }
  *out = doc;
  return 0;
nomem:
  r = nomem(err);
fail:
  imc_elem_free(sys);
  imc_doc_free(doc);
  return r;
}

/* Finds the VM, looks at its cloud (rate-limited), and gives its document. */
static int vm_read(struct imc_engine *e, const char *id, unsigned vm, const struct imc_auth *auth,
                   struct imc_doc **out, struct imc_err *err)
{
  struct infra *inf;
  int r;

  *out = NULL;
  if ((r = engine_enter_vm(e, id, vm, auth, &inf, err)) != 0 ||
      (r = infra_refresh(e, inf, auth, &vm, 1, err)) != 0)
    return r;
  pthread_mutex_lock(&inf->mu);
  if ((r = vm_check(inf, vm, err)) == 0)
    r = vm_doc(inf, vm, out, err);
  pthread_mutex_unlock(&inf->mu);
  return r;
}

int imc_vm_info(struct imc_engine *e, const char *id, unsigned vm, const struct imc_auth *auth,
                struct imc_doc **out, struct imc_err *err)
{
  return vm_read(e, id, vm, auth, out, err);
}

int imc_vm_property(struct imc_engine *e, const char *id, unsigned vm, const char *name,
                    const struct imc_auth *auth, struct imc_feature **out, struct imc_err *err)
{
  struct imc_doc *doc = NULL;
  const struct imc_feature *f;
  int r;

  *out = NULL;
  if ((r = vm_read(e, id, vm, auth, &doc, err)) != 0)
    return r;
  f = imc_features_get(&doc->systems[doc->nsystems - 1]->feats, name);
  if (!f)
    r = imc_fail(err, IMC_E_NOTFOUND, "Invalid property %s of VM %u", name, vm);
  else if (!(*out = imc_feature_clone(f)))
    r = nomem(err);
  imc_doc_free(doc);
  return r;
}

int imc_vm_contmsg(struct imc_engine *e, const char *id, unsigned vm,
                   const struct imc_auth *auth, struct imc_buf *out, struct imc_err *err)
{
  struct infra *inf;
  int r;

  if ((r = engine_enter_vm(e, id, vm, auth, &inf, err)) != 0)
    return r;
  return imc_store_get_log(e->store, id, (int)vm, out, err);
}

/* The VM's copy, checked and claimed for a change by its connector.  Under nothing. */
static int vm_for_change(struct imc_engine *e, struct infra *inf, unsigned vm, unsigned cap,
                         const struct imc_auth *auth, struct imc_vm **copy, unsigned *gen,
                         const struct imc_connector **conn, void **ctx, struct imc_err *err)
{
  const struct imc_auth_entry *en;
  int r;

  *copy = NULL;
  *ctx = NULL;
  pthread_mutex_lock(&inf->mu);
  if ((r = vm_check(inf, vm, err)) == 0 && inf->vms[vm].launch != IMC_LAUNCH_DONE)
    r = imc_fail(err, IMC_E_CONFLICT, "VM %u was never created", vm);
  if (!r && !(*copy = vm_clone(inf->vms[vm].vm)))
    r = nomem(err);
  if (!r)
    *gen = inf->vms[vm].gen;
  pthread_mutex_unlock(&inf->mu);
  if (r)
    return r;
  *conn = engine_connector(e, (*copy)->cloud_type);
  if (!*conn || !((*conn)->caps & cap))
    r = imc_fail(err, IMC_E_UNSUPPORTED, "the cloud of VM %u (%s) cannot do this", vm,
                 (*copy)->cloud_type ? (*copy)->cloud_type : "?");
  else if (!(en = vm_auth(e, auth, *copy)))
    r = imc_fail(err, IMC_E_AUTH, "No auth data for cloud with ID: %s",
                 (*copy)->cloud_id ? (*copy)->cloud_id : "?");
  else
    r = cloud_open(*conn, en, ctx, err);
  if (r) {
    imc_vm_free(*copy);
    *copy = NULL;
  }
  return r;
}

int imc_vm_alter(struct imc_engine *e, const char *id, unsigned vm, const struct imc_doc *doc,
                 const struct imc_auth *auth, struct imc_doc **out, struct imc_err *err)
{
  const struct imc_connector *conn = NULL;
  struct infra *inf;
  struct imc_vm *copy = NULL;
  unsigned gen = 0;
  void *ctx = NULL;
  int r;

  *out = NULL;
  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if (doc->nsystems == 0) {
    r = imc_fail(err, IMC_E_INVAL, "Error modifying the information about the VM %u: the RADL "
                                   "has no system", vm);
    return r;
  }
  if ((r = infra_begin_op(e, inf, err)) != 0)
    return r;
  if ((r = vm_for_change(e, inf, vm, IMC_CAP_ALTER, auth, &copy, &gen, &conn, &ctx, err)) == 0 &&
      (r = conn->alter(ctx, copy, doc->systems[0], err)) == 0) {
    pthread_mutex_lock(&inf->mu);
    evm_replace(&inf->vms[vm], gen, copy);
    copy = NULL;
    pthread_mutex_unlock(&inf->mu);
    if ((r = persist_vm(e, inf, vm, err)) == 0) {
      pthread_mutex_lock(&inf->mu);
      r = vm_doc(inf, vm, out, err);
      pthread_mutex_unlock(&inf->mu);
    }
  } else if (r != IMC_E_NOTFOUND) {
    imc_err_prefix(err, "Error modifying the information about the VM %u: ", vm);
  }
  if (conn)
    cloud_close(conn, ctx);
  imc_vm_free(copy);
  infra_end_op(e, inf);
  return r;
}

int imc_vm_snapshot(struct imc_engine *e, const char *id, unsigned vm, unsigned disk,
                    const char *image_name, bool auto_delete, const struct imc_auth *auth,
                    char **image_url, struct imc_err *err)
{
  const struct imc_connector *conn = NULL;
  struct infra *inf;
  struct imc_vm *copy = NULL;
  unsigned gen = 0;
  void *ctx = NULL;
  int r;

  *image_url = NULL;
  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if (!image_name || !*image_name) {
    r = imc_fail(err, IMC_E_INVAL, "Error creating snapshot: no image name");
    return r;
  }
  if ((r = vm_for_change(e, inf, vm, IMC_CAP_SNAPSHOT, auth, &copy, &gen, &conn, &ctx, err)) ==
        0 &&
      (r = conn->snapshot(ctx, copy, disk, image_name, auto_delete, image_url, err)) == 0 &&
      auto_delete) {
    json_t *s = json_pack("{s:s, s:s, s:s}", "url", *image_url, "cloud_id", copy->cloud_id,
                          "cloud_type", copy->cloud_type);

    pthread_mutex_lock(&inf->mu);
    if (!s || json_array_append_new(inf->snapshots, s))
      r = nomem(err);
    pthread_mutex_unlock(&inf->mu);
    if (!r)
      r = persist_infra(e, inf, err);
  }
  if (r && r != IMC_E_NOTFOUND && r != IMC_E_NOMEM) {
    imc_err_prefix(err, "Error creating snapshot: ");
  }
  if (r) {
    imc_free(*image_url);
    *image_url = NULL;
  }
  if (conn)
    cloud_close(conn, ctx);
  imc_vm_free(copy);
  return r;
}
