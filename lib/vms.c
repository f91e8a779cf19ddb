/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The VMs of an infrastructure: the state IM shows, looks at the clouds (rate-limited),
 * settling launch intents left by a crash, and deletions.  Cloud calls work on a private copy
 * of the VM and never hold infra->mu; the copy replaces the VM only if nobody replaced it in
 * the meantime (evm.gen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"

#define MAX_JOINED_ERRORS 8 /* messages kept when many VMs fail at once */

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

enum imc_vm_state evm_state(const struct evm *v)
{
  if (v->destroyed)
    return IMC_VM_OFF;
  if (v->launch == IMC_LAUNCH_INTENT)
    return v->in_flight ? IMC_VM_PENDING : IMC_VM_UNKNOWN;
  if (v->launch == IMC_LAUNCH_FAILED)
    return IMC_VM_FAILED;
  /* A contextualization outcome rewrites a running VM's state, and a pending or unknown one's:
   * the cloud's last word may predate the SSH work that settled it (IM: unconfigured covers an
   * unreachable VM too). */
  if ((v->vm->state == IMC_VM_RUNNING || v->vm->state == IMC_VM_PENDING ||
       v->vm->state == IMC_VM_UNKNOWN) && v->ctxt != CTXT_NONE)
    return v->ctxt ? IMC_VM_CONFIGURED : IMC_VM_UNCONFIGURED;
  return v->vm->state;
}

int infra_append_vm(struct infra *inf, struct imc_vm *vm, enum imc_launch_state launch,
                    unsigned *id, struct imc_err *err)
{
  struct evm *v;

  if (imc_grow((void **)&inf->vms, &inf->cap_vms, inf->nvms + 1, sizeof *inf->vms)) {
    imc_vm_free(vm);
    return nomem(err);
  }
  v = &inf->vms[inf->nvms];
  memset(v, 0, sizeof *v);
  v->vm = vm;
  v->launch = launch;
  v->ctxt = CTXT_NONE;
  vm->id = (unsigned)inf->nvms;
  *id = vm->id;
  inf->nvms++;
  return 0;
}

struct imc_vm *vm_clone(const struct imc_vm *vm)
{
  struct imc_vm *c = imc_vm_new(vm->id, vm->system);

  if (!c)
    return NULL;
  c->state = vm->state;
  if (imc_vm_set(&c->cloud_id, vm->cloud_id) || imc_vm_set(&c->cloud_type, vm->cloud_type) ||
      imc_vm_set(&c->instance_id, vm->instance_id) ||
      imc_vm_set(&c->client_token, vm->client_token) || imc_vm_set(&c->error, vm->error)) {
    imc_vm_free(c);
    return NULL;
  }
  return c;
}

bool evm_replace(struct evm *v, unsigned gen, struct imc_vm *c)
{
  if (v->gen != gen || v->destroyed) {
    imc_vm_free(c);
    return false;
  }
  imc_vm_free(v->vm);
  v->vm = c;
  v->gen++;
  return true;
}

size_t infra_live_vms(const struct infra *inf)
{
  size_t n = 0;

  for (size_t i = 0; i < inf->nvms; i++)
    n += !inf->vms[i].destroyed && inf->vms[i].launch != IMC_LAUNCH_FAILED;
  return n;
}

size_t infra_destroyed(const struct infra *inf)
{
  size_t n = 0;

  for (size_t i = 0; i < inf->nvms; i++)
    n += inf->vms[i].destroyed;
  return n;
}

int infra_vm_ids(struct infra *inf, struct imc_vm_ids *out, struct imc_err *err)
{
  int r = 0;

  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&inf->mu);
  if (inf->nvms && !(out->v = imc_calloc(inf->nvms, sizeof *out->v)))
    r = nomem(err);
  for (size_t i = 0; i < inf->nvms && !r; i++)
    if (!inf->vms[i].destroyed)
      out->v[out->n++] = (unsigned)i;
  pthread_mutex_unlock(&inf->mu);
  return r;
}

static const struct imc_auth_entry no_credentials;

const struct imc_auth_entry *vm_auth(const struct imc_engine *e, const struct imc_auth *auth,
                                     const struct imc_vm *vm)
{
  const struct imc_connector *conn = engine_connector(e, vm->cloud_type);
  const struct imc_auth_entry *en;

  if (!conn)
    return NULL;
  if (vm->cloud_id && (en = auth_for_cloud(auth, vm->cloud_id)) != NULL &&
      strcmp(imc_auth_get(en, "type"), vm->cloud_type) == 0)
    return en;
  /* IM looks the cloud up by type (and host), so the same auth id is not required. */
  for (size_t pos = 0; (en = imc_auth_next_of_type(auth, vm->cloud_type, NULL, &pos));)
    return en;
  return (conn->caps & IMC_CAP_NO_AUTH) ? &no_credentials : NULL;
}

int cloud_open(const struct imc_connector *conn, const struct imc_auth_entry *auth, void **ctx,
               struct imc_err *err)
{
  int r;

  if (!(*ctx = imc_calloc(1, conn->ctx_size ? conn->ctx_size : 1)))
    return nomem(err);
  if ((r = conn->open(*ctx, auth, NULL, err)) != 0) {
    cloud_close(conn, *ctx);
    *ctx = NULL;
  }
  return r;
}

void cloud_close(const struct imc_connector *conn, void *ctx)
{
  if (!ctx)
    return;
  conn->close(ctx);
  imc_free(ctx);
}

/* --- looking at the clouds ------------------------------------------------------------------ */

enum look { LOOK_NONE, LOOK_UPDATE, LOOK_SETTLE };

struct refresh {
  struct imc_engine *e;
  struct infra *inf;
  const struct imc_auth *auth;
  unsigned *ids;
  bool *changed;
  int64_t now;
  bool may_settle; /* no other process is working on the infrastructure */
};

/* What VM v needs now: a look at its cloud (at most one per VM_INFO_UPDATE_FREQUENCY), the
 * settling of a launch intent a crash left open, or nothing.  Under inf->mu. */
static enum look look_needed(const struct refresh *rf, const struct evm *v)
{
  if (v->destroyed || v->in_flight)
    return LOOK_NONE;
  if (v->launch == IMC_LAUNCH_INTENT)
    return rf->may_settle ? LOOK_SETTLE : LOOK_NONE;
  if (v->launch == IMC_LAUNCH_DONE &&
      rf->now - v->updated_at >= rf->e->cfg->vm_info_update_frequency)
    return LOOK_UPDATE;
  return LOOK_NONE;
}

/* Settles one launch intent: the resource its token names is adopted, or the VM failed. */
static void settle(const struct imc_connector *conn, void *ctx, struct imc_vm *c, bool *found,
                   struct imc_err *err)
{
  *found = false;
  if (!(conn->caps & IMC_CAP_FIND) || !conn->find) {
    imc_vm_set(&c->error, "The launch was interrupted by a restart of imc and this cloud "
                          "cannot tell whether the VM was created.");
    return;
  }
  if (conn->find(ctx, c->client_token, c, err) == 0) {
    *found = true;
    return;
  }
  if (err->code == IMC_E_NOTFOUND)
    imc_vm_set(&c->error, "The launch was interrupted by a restart of imc before the cloud "
                          "created the VM.");
}

static void refresh_one(void *arg, size_t i)
{
  struct refresh *rf = arg;
  struct infra *inf = rf->inf;
  struct imc_err err = {0};
  const struct imc_connector *conn;
  const struct imc_auth_entry *en;
  struct imc_vm *c = NULL;
  struct evm *v;
  enum look look = LOOK_NONE;
  unsigned gen = 0;
  void *ctx = NULL;
  bool found = false;
  int r;

  pthread_mutex_lock(&inf->mu);
  v = &inf->vms[rf->ids[i]];
  if ((look = look_needed(rf, v)) != LOOK_NONE) {
    gen = v->gen;
    c = vm_clone(v->vm);
  }
  pthread_mutex_unlock(&inf->mu);
  if (!c)
    return;
  conn = engine_connector(rf->e, c->cloud_type);
  en = conn ? vm_auth(rf->e, rf->auth, c) : NULL;
  if (!en) { /* the caller did not bring this cloud's credentials: nothing to look at */
    imc_vm_free(c);
    return;
  }
  if ((r = cloud_open(conn, en, &ctx, &err)) == 0) {
    if (look == LOOK_SETTLE)
      settle(conn, ctx, c, &found, &err);
    else
      r = conn->update(ctx, c, &err);
  }
  cloud_close(conn, ctx);

  pthread_mutex_lock(&inf->mu);
  v = &inf->vms[rf->ids[i]];
  if (look == LOOK_SETTLE && (found || err.code == IMC_E_NOTFOUND || !conn->find)) {
    enum imc_launch_state launch = found ? IMC_LAUNCH_DONE : IMC_LAUNCH_FAILED;

    if (evm_replace(v, gen, c)) {
      v->launch = launch;
      v->updated_at = rf->now;
      rf->changed[i] = true;
    }
    c = NULL;
  } else if (look == LOOK_UPDATE && r == 0) {
    if (evm_replace(v, gen, c)) {
      v->updated_at = rf->now;
      v->unreachable_at = 0;
      rf->changed[i] = true;
    }
    c = NULL;
  } else if (look == LOOK_UPDATE) {
    /* IM keeps the last state for a grace period, then says unknown. */
    if (!v->unreachable_at)
      v->unreachable_at = rf->now;
    if (rf->now - v->unreachable_at >= rf->e->cfg->vm_info_update_error_grace_period &&
        v->vm->state != IMC_VM_UNKNOWN) {
      v->vm->state = IMC_VM_UNKNOWN;
      rf->changed[i] = true;
    }
  }
  pthread_mutex_unlock(&inf->mu);
  imc_vm_free(c);
  if (err.code && err.code != IMC_E_NOTFOUND)
    imc_log(IMC_LOG_WARN, "infrastructure %s, VM %u: %s", inf->id, rf->ids[i], err.msg);
}

/* The VMs among the candidates that need a look, into rf->ids; under inf->mu. */
static size_t select_looks(struct refresh *rf, const unsigned *only, size_t n)
{
  const struct infra *inf = rf->inf;
  size_t k = 0, count = only ? n : inf->nvms;

  for (size_t i = 0; i < count; i++) {
    unsigned id = only ? only[i] : (unsigned)i;

    if (id < inf->nvms && look_needed(rf, &inf->vms[id]) != LOOK_NONE)
      rf->ids[k++] = id;
  }
  return k;
}

int infra_refresh(struct imc_engine *e, struct infra *inf, const struct imc_auth *auth,
                  const unsigned *only, size_t n, struct imc_err *err)
{
  struct refresh rf = {.e = e, .inf = inf, .auth = auth, .now = engine_now(), .may_settle = true};
  size_t count;
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  count = only ? n : inf->nvms;
  if (count && (!(rf.ids = imc_calloc(count, sizeof *rf.ids)) ||
                !(rf.changed = imc_calloc(count, sizeof *rf.changed))))
    r = nomem(err);
  else if (count)
    count = select_looks(&rf, only, n);
  pthread_mutex_unlock(&inf->mu);
  if (r || count == 0)
    goto out;
  /* An intent of another process that is still launching is not a crash's leftover: with a
   * shared store, intents are settled only by whoever holds the infrastructure's claim. */
  if (e->shared && imc_store_lock_infra(e->store, inf->id, &(struct imc_err){0}) != 0) {
    rf.may_settle = false;
    pthread_mutex_lock(&inf->mu);
    count = select_looks(&rf, only, n);
    pthread_mutex_unlock(&inf->mu);
  }
  imc_parallel_for(count, (unsigned)e->cfg->max_simultaneous_launches, refresh_one, &rf);
  if (e->shared && rf.may_settle)
    imc_store_unlock_infra(e->store, inf->id);
  for (size_t i = 0; i < count && !r; i++)
    if (rf.changed[i])
      r = persist_vm(e, inf, rf.ids[i], err);
out:
  imc_free(rf.ids);
  imc_free(rf.changed);
  return r;
}

/* --- deleting ------------------------------------------------------------------------------- */

struct deletion {
  struct imc_engine *e;
  struct infra *inf;
  const struct imc_auth *auth;
  const unsigned *ids; /* this phase's VMs */
  const bool *last;
  pthread_mutex_t mu;
  struct imc_buf errors;
  size_t nerrors;
};

static void delete_failed(struct deletion *d, unsigned id, const char *msg)
{
  pthread_mutex_lock(&d->mu);
  if (d->nerrors++ < MAX_JOINED_ERRORS)
    imc_buf_addf(&d->errors, "VM %u: %s\n", id, msg);
  pthread_mutex_unlock(&d->mu);
}

static void delete_one(void *arg, size_t i)
{
  struct deletion *d = arg;
  struct infra *inf = d->inf;
  struct imc_err err = {0};
  const struct imc_connector *conn;
  const struct imc_auth_entry *en;
  struct imc_vm *c = NULL;
  struct evm *v;
  enum imc_launch_state launch;
  void *ctx = NULL;
  unsigned id = d->ids[i];
  bool found = true;
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  v = &inf->vms[id];
  if (!v->destroyed && !v->in_flight && (c = vm_clone(v->vm)) != NULL)
    v->in_flight = true;
  launch = v->launch;
  pthread_mutex_unlock(&inf->mu);
  if (!c)
    return;
  /* A VM whose launch failed, or that the cloud never made, has nothing to delete there. */
  if (launch != IMC_LAUNCH_FAILED && (c->instance_id || launch == IMC_LAUNCH_INTENT)) {
    conn = engine_connector(d->e, c->cloud_type);
    if (!conn || !(en = vm_auth(d->e, d->auth, c))) {
      r = imc_fail(&err, IMC_E_AUTH, "No auth data for cloud with ID: %s",
                   c->cloud_id ? c->cloud_id : "?");
    } else if ((r = cloud_open(conn, en, &ctx, &err)) == 0) {
      if (launch == IMC_LAUNCH_INTENT)
        settle(conn, ctx, c, &found, &err);
      r = found ? conn->finalize(ctx, c, d->last[i], &err) : 0;
    }
    cloud_close(conn, ctx);
  }
  pthread_mutex_lock(&inf->mu);
  v = &inf->vms[id];
  v->in_flight = false;
  if (r == 0) {
    v->destroyed = true;
    v->vm->state = IMC_VM_OFF;
    v->gen++;
  }
  pthread_mutex_unlock(&inf->mu);
  imc_vm_free(c);
  if (r) {
    delete_failed(d, id, err.msg);
    return;
  }
  if (persist_vm(d->e, inf, id, &err) != 0)
    delete_failed(d, id, err.msg);
}

static bool listed(const unsigned *ids, size_t n, size_t id)
{
  for (size_t i = 0; i < n; i++)
    if (ids[i] == id)
      return true;
  return false;
}

static int by_id_descending(const void *a, const void *b)
{
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

  return x < y ? 1 : x > y ? -1 : 0;
}

static bool same_cloud(const struct evm *a, const struct evm *b)
{
  return a->vm->cloud_id && b->vm->cloud_id && strcmp(a->vm->cloud_id, b->vm->cloud_id) == 0;
}

/* Sorts ids last created first (IM deletes in reverse) and marks the VM that empties its
 * cloud: it goes in a second phase, after the others of that cloud, with last = true so the
 * connector removes what the infrastructure shares there.  Returns how many go first.
 * Under inf->mu. */
static size_t delete_order(const struct infra *inf, const unsigned *ids, unsigned *order,
                           bool *last, size_t n)
{
  unsigned *tail = order + n;
  size_t nfirst = 0, nlast = 0;

  qsort(order, n, sizeof *order, by_id_descending);
  for (size_t i = 0; i < n; i++) {
    const struct evm *x = &inf->vms[order[i]];
    bool more = false;

    for (size_t j = 0; j < inf->nvms && !more; j++) {
      const struct evm *y = &inf->vms[j];

      if (j == order[i] || y->destroyed || y->launch == IMC_LAUNCH_FAILED || !same_cloud(x, y))
        continue;
      /* a VM that stays, or one of the set deleted after x (a lower id) */
      more = !listed(ids, n, j) || j < x->vm->id;
    }
    if (more)
      order[nfirst++] = order[i];
    else
      tail[nlast++] = order[i]; /* scratch space after order: see the caller's allocation */
  }
  for (size_t k = 0; k < nlast; k++) {
    order[nfirst + k] = tail[k];
    last[nfirst + k] = true;
  }
  return nfirst;
}

int infra_delete_vms(struct imc_engine *e, struct infra *inf, const unsigned *ids, size_t n,
                     const struct imc_auth *auth, struct imc_err *err)
{
  struct deletion d = {.e = e, .inf = inf, .auth = auth};
  unsigned *order = NULL;
  bool *last = NULL;
  size_t nfirst;
  int r = 0;

  if (n == 0)
    return 0;
  if (!(order = imc_calloc(2 * n, sizeof *order)) || !(last = imc_calloc(n, sizeof *last))) {
    r = nomem(err);
    goto out;
  }
  memcpy(order, ids, n * sizeof *ids);
  pthread_mutex_lock(&inf->mu);
  nfirst = delete_order(inf, ids, order, last, n);
  pthread_mutex_unlock(&inf->mu);
  pthread_mutex_init(&d.mu, NULL);
  imc_buf_init(&d.errors, IMC_ERR_MSG_MAX * 2);
  d.ids = order;
  d.last = last;
  imc_parallel_for(nfirst, (unsigned)e->cfg->max_simultaneous_launches, delete_one, &d);
  d.ids = order + nfirst;
  d.last = last + nfirst;
  imc_parallel_for(n - nfirst, (unsigned)e->cfg->max_simultaneous_launches, delete_one, &d);
  if (d.nerrors)
    r = imc_fail(err, IMC_E_CLOUD, "%s", imc_buf_cstr(&d.errors));
  imc_buf_free(&d.errors);
  pthread_mutex_destroy(&d.mu);
out:
  imc_free(order);
  imc_free(last);
  return r;
}
