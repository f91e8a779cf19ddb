/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's operations that change an existing infrastructure: AddResource, RemoveResource,
 * Start/Stop/Reboot, Reconfigure, ChangeInfrastructureAuth. */
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/radl.h"

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* IM's get_vm: ids of VMs removed earlier are "Deleted VM.", unknown ones "Invalid VM ID".
 * Under mu. */
int vm_check(const struct infra *inf, unsigned vm, struct imc_err *err)
{
  if (vm >= inf->nvms)
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid VM ID");
  if (inf->vms[vm].destroyed)
    return imc_fail(err, IMC_E_NOTFOUND, "Deleted VM.");
  return 0;
}

static int vm_check_all(struct infra *inf, const unsigned *ids, size_t n, struct imc_err *err)
{
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  for (size_t i = 0; i < n && !r; i++)
    r = vm_check(inf, ids[i], err);
  pthread_mutex_unlock(&inf->mu);
  return r;
}

int imc_infra_add(struct imc_engine *e, const char *id, const struct imc_doc *doc,
                  const struct imc_auth *auth, bool context, struct imc_vm_ids *vms,
                  struct imc_err *err)
{
  struct infra *inf;
  int r;

  memset(vms, 0, sizeof *vms);
  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if ((r = infra_begin_op(e, inf, err)) == 0) {
    /* A destroy may have run while this call waited for its turn. */
    pthread_mutex_lock(&inf->mu);
    if (inf->deleted)
      r = imc_fail(err, IMC_E_NOTFOUND, "Deleted infrastructure.");
    pthread_mutex_unlock(&inf->mu);
    if (!r)
      r = deploy_add(e, inf, doc, auth, context, vms, err);
    infra_end_op(e, inf);
  }
  return r;
}

int imc_infra_remove(struct imc_engine *e, const char *id, const unsigned *vm_ids, size_t n,
                     const struct imc_auth *auth, bool context, unsigned *removed,
                     struct imc_err *err)
{
  struct infra *inf;
  size_t before, after;
  int r, rd;

  *removed = 0;
  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if ((r = infra_begin_op(e, inf, err)) != 0)
    return r;
  if ((r = vm_check_all(inf, vm_ids, n, err)) != 0)
    goto end;
  pthread_mutex_lock(&inf->mu);
  before = inf->nvms - infra_destroyed(inf);
  pthread_mutex_unlock(&inf->mu);
  rd = infra_delete_vms(e, inf, vm_ids, n, auth, err);
  pthread_mutex_lock(&inf->mu);
  after = inf->nvms - infra_destroyed(inf);
  pthread_mutex_unlock(&inf->mu);
  *removed = (unsigned)(before - after);
  persist_log(e, inf->id, -1, "%u VMs successfully removed", *removed);
  if (context && *removed > 0 && (r = ctxt_start(e, inf, NULL, 0, auth, err)) != 0)
    goto end;
  if (rd)
    r = imc_err_prefix(err, "Error removing resources: ");
end:
  infra_end_op(e, inf);
  return r;
}

/* --- power ------------------------------------------------------------------------------- */

/* IM's messages. */
static const struct {
  const char *infra_error, *vm_error;
} power_words[] = {
  [IMC_POWER_START] = {"Error starting the infrastructure", "Error starting the VM"},
  [IMC_POWER_STOP] = {"Error stopping the infrastructure", "Error stopping the VM"},
  [IMC_POWER_REBOOT] = {"Error rebooting the infrastructure", "Error rebooting the VM"},
};

/* One VM's power operation; the new state is saved. */
int vm_power_one(struct imc_engine *e, struct infra *inf, unsigned id, enum imc_power op,
                 const struct imc_auth *auth, struct imc_err *err)
{
  const struct imc_connector *conn;
  const struct imc_auth_entry *en;
  struct imc_vm *c;
  unsigned gen;
  void *ctx = NULL;
  int r;

  pthread_mutex_lock(&inf->mu);
  if ((r = vm_check(inf, id, err)) == 0 && inf->vms[id].launch != IMC_LAUNCH_DONE)
    r = imc_fail(err, IMC_E_CONFLICT, "VM %u was never created", id);
  c = r ? NULL : vm_clone(inf->vms[id].vm);
  gen = inf->vms[id < inf->nvms ? id : 0].gen;
  pthread_mutex_unlock(&inf->mu);
  if (r)
    return r;
  if (!c)
    return nomem(err);
  conn = engine_connector(e, c->cloud_type);
  if (!conn || !(en = vm_auth(e, auth, c))) {
    r = imc_fail(err, IMC_E_AUTH, "No auth data for cloud with ID: %s",
                 c->cloud_id ? c->cloud_id : "?");
  } else if ((r = cloud_open(conn, en, &ctx, err)) == 0) {
    r = conn->power(ctx, c, op, err);
  }
  cloud_close(conn, ctx);
  if (r) {
    imc_vm_free(c);
    return r;
  }
  pthread_mutex_lock(&inf->mu);
  if (evm_replace(&inf->vms[id], gen, c))
    inf->vms[id].updated_at = engine_now();
  pthread_mutex_unlock(&inf->mu);
  return persist_vm(e, inf, id, err);
}

struct power_all {
  struct imc_engine *e;
  struct infra *inf;
  const struct imc_auth *auth;
  enum imc_power op;
  const unsigned *ids;
  pthread_mutex_t mu;
  struct imc_buf errors;
};

static void power_one(void *arg, size_t i)
{
  struct power_all *p = arg;
  struct imc_err err = {0};

  if (vm_power_one(p->e, p->inf, p->ids[i], p->op, p->auth, &err) != 0) {
    pthread_mutex_lock(&p->mu);
    imc_buf_addf(&p->errors, "%s\n", err.msg);
    pthread_mutex_unlock(&p->mu);
  }
}

int imc_infra_power(struct imc_engine *e, const char *id, enum imc_power op,
                    const struct imc_auth *auth, struct imc_err *err)
{
  struct power_all p = {.e = e, .auth = auth, .op = op};
  unsigned *ids = NULL;
  size_t n = 0;
  int r;

  if ((unsigned)op >= sizeof power_words / sizeof power_words[0])
    return imc_fail(err, IMC_E_INVAL, "unknown power operation");
  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &p.inf, err)) != 0)
    return r;
  if ((r = infra_begin_op(e, p.inf, err)) != 0)
    goto out;
  /* Every live VM, last created first, as IM. */
  pthread_mutex_lock(&p.inf->mu);
  if (p.inf->nvms && !(ids = imc_calloc(p.inf->nvms, sizeof *ids)))
    r = nomem(err);
  for (size_t i = p.inf->nvms; i-- > 0 && !r;)
    if (!p.inf->vms[i].destroyed && p.inf->vms[i].launch == IMC_LAUNCH_DONE)
      ids[n++] = (unsigned)i;
  pthread_mutex_unlock(&p.inf->mu);
  if (!r) {
    p.ids = ids;
    pthread_mutex_init(&p.mu, NULL);
    imc_buf_init(&p.errors, IMC_ERR_MSG_MAX);
    imc_parallel_for(n, (unsigned)e->cfg->max_simultaneous_launches, power_one, &p);
    if (p.errors.len)
      r = imc_fail(err, IMC_E_CLOUD, "%s: %s", power_words[op].infra_error,
                   imc_buf_cstr(&p.errors));
    imc_buf_free(&p.errors);
    pthread_mutex_destroy(&p.mu);
  }
  infra_end_op(e, p.inf);
out:
  imc_free(ids);
  return r;
}

int imc_vm_power(struct imc_engine *e, const char *id, unsigned vm, enum imc_power op,
                 const struct imc_auth *auth, struct imc_err *err)
{
  struct infra *inf;
  int r;

  if ((unsigned)op >= sizeof power_words / sizeof power_words[0])
    return imc_fail(err, IMC_E_INVAL, "unknown power operation");
  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if ((r = infra_begin_op(e, inf, err)) == 0) {
    if ((r = vm_power_one(e, inf, vm, op, auth, err)) != 0 && r != IMC_E_NOTFOUND) {
      imc_err_prefix(err, "%s: ", power_words[op].vm_error);
    }
    infra_end_op(e, inf);
  }
  return r;
}

/* --- reconfigure --------------------------------------------------------------------------- */

/* IM's Reconfigure: configures of doc replace the stored ones, its contextualize merges. */
static int merge_configures(struct infra *inf, const struct imc_doc *doc, struct imc_err *err)
{
  struct imc_doc *m;
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  if (!(m = imc_doc_clone(inf->doc))) {
    pthread_mutex_unlock(&inf->mu);
    return nomem(err);
  }
  pthread_mutex_unlock(&inf->mu);
  for (size_t i = 0; i < doc->nconfigures && !r; i++) {
    struct imc_configure *cf = imc_configure_clone(doc->configures[i]);

    r = cf ? imc_doc_add_configure(m, cf, IMC_IFPRESENT_REPLACE, NULL, err) : nomem(err);
  }
  if (!r && doc->ctxt.present && imc_ctxt_merge(&m->ctxt, &doc->ctxt))
    r = nomem(err);
  if (!r)
    r = radl_check(m, err);
  if (r) {
    imc_doc_free(m);
    return r;
  }
  pthread_mutex_lock(&inf->mu);
  imc_doc_free(inf->doc);
  inf->doc = m;
  pthread_mutex_unlock(&inf->mu);
  return 0;
}

int imc_infra_reconfigure(struct imc_engine *e, const char *id, const struct imc_doc *doc,
                          const unsigned *vm_ids, size_t n, const struct imc_auth *auth,
                          struct imc_err *err)
{
  struct infra *inf;
  int r;

  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if ((r = infra_begin_op(e, inf, err)) != 0)
    return r;
  if ((r = vm_check_all(inf, vm_ids, n, err)) == 0 &&
      (!doc || (r = merge_configures(inf, doc, err)) == 0)) {
    persist_log(e, inf->id, -1, "Reconfiguring the infrastructure.");
    r = ctxt_start(e, inf, vm_ids, n, auth, err);
  }
  infra_end_op(e, inf);
  return r;
}

/* --- owners ---------------------------------------------------------------------------- */

int imc_infra_change_auth(struct imc_engine *e, const char *id, const struct imc_auth *new_auth,
                          bool overwrite, const struct imc_auth *auth, struct imc_err *err)
{
  struct caller nc = {0};
  struct infra *inf;
  char **owners = NULL;
  size_t n = 0;
  int r;

  if ((r = engine_enter(e, id, auth, ENTER_CHANGE, &inf, err)) != 0)
    return r;
  if ((r = caller_identify(e, new_auth, &nc, err)) != 0) {
    imc_err_prefix(err, "Invalid new infrastructure data provided: ");
    goto out;
  }
  pthread_mutex_lock(&inf->mu);
  if (!(owners = imc_calloc(inf->nowners + nc.n, sizeof *owners)))
    r = nomem(err);
  for (size_t i = 0; !r && !overwrite && i < inf->nowners; i++)
    if (!(owners[n++] = imc_strdup(inf->owners[i])))
      r = nomem(err);
  for (size_t i = 0; !r && i < nc.n; i++) {
    bool have = false;

    for (size_t k = 0; k < n && !have; k++)
      have = strcmp(owners[k], nc.keys[i]) == 0;
    if (!have && !(owners[n++] = imc_strdup(nc.keys[i])))
      r = nomem(err);
  }
  if (!r) {
    imc_store_ids_free(inf->owners, inf->nowners);
    inf->owners = owners;
    inf->nowners = n;
    owners = NULL;
  }
  pthread_mutex_unlock(&inf->mu);
  imc_store_ids_free(owners, n);
  if (!r)
    r = persist_infra(e, inf, err);
out:
  caller_cleanup(&nc);
  return r;
}
