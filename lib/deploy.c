/* SPDX-License-Identifier: GPL-3.0-or-later */
/* AddResource: IM's cloud selection and launches.  For each deployed system every cloud of the
 * caller's auth is asked to concrete it (image, flavour, score); deploys sharing a private
 * network form a group that goes to one cloud; each group goes to the cloud with the highest
 * summed score (auth order breaks ties), or to the one its deploy names.  VMs are written as
 * launch intents, then launched in parallel up to MAX_SIMULTANEOUS_LAUNCHES; a failed launch is
 * tried again up to MAX_VM_FAILS times, on the next cloud that fits when the VM is on no
 * private network (cloud bursting), on the same one otherwise. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deploy_int.h"
#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/radl.h"
#include "imc/ssh_key.h"

#define ATTEMPTS_LOG_MAX 1024

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* --- one launch, with retries ----------------------------------------------------------- */

struct launches {
  struct imc_engine *e;
  struct infra *inf;
  const struct plan *plan;
  const struct imc_doc *doc;
  const struct imc_auth *auth;
  const unsigned *ids;    /* the new VMs */
  const size_t *deploy_of; /* their deploy in the plan */
};

/* The infrastructure's key pair, made and recorded before the first VM that is given it is
 * launched (the VM will accept it, so the store must know it first).  Under nothing. */
static int infra_key(struct launches *l, json_t **key, struct imc_err *err)
{
  char *priv = NULL, *pub = NULL;
  json_t *made;
  int r;

  pthread_mutex_lock(&l->inf->mu);
  *key = json_incref(l->inf->ssh_key);
  pthread_mutex_unlock(&l->inf->mu);
  if (*key)
    return 0;
  if ((r = imc_ssh_keypair(IMC_SSH_KEY_ED25519, l->inf->id, &priv, &pub, err)) != 0)
    return r;
  made = json_pack("{s:s, s:s}", "private", priv, "public", pub);
  imc_free_secret(priv);
  imc_free(pub);
  if (!made)
    return nomem(err);
  pthread_mutex_lock(&l->inf->mu);
  if (!l->inf->ssh_key) /* launches run in parallel: the first one made it */
    l->inf->ssh_key = json_incref(made);
  *key = json_incref(l->inf->ssh_key);
  pthread_mutex_unlock(&l->inf->mu);
  json_decref(made);
  return persist_infra(l->e, l->inf, err);
}

/* A VM that will be contextualized and brings no credentials of its own logs in with the
 * infrastructure's key, as IM's VMs do with the key it makes. */
static int give_key(struct launches *l, const struct cloud *c, struct imc_elem *system,
                    struct imc_err *err)
{
  json_t *key = NULL;
  int r;

  if (c->conn->caps & IMC_CAP_NO_CTXT)
    return 0;
  if ((r = infra_key(l, &key, err)) != 0) /* the cloud installs it on every such VM */
    return r;
  if (imc_features_str(&system->feats, "disk.0.os.credentials.private_key") ||
      imc_features_str(&system->feats, "disk.0.os.credentials.password")) {
    json_decref(key);
    return 0;
  }
  if (imc_features_set_str(&system->feats, "disk.0.os.credentials.private_key",
                           json_string_value(json_object_get(key, "private"))) ||
      imc_features_set_str(&system->feats, "disk.0.os.credentials.public_key",
                           json_string_value(json_object_get(key, "public"))))
    r = nomem(err);
  json_decref(key);
  return r;
}

/* Points the call's VM i at attempt k's cloud: its concrete system there and a new client
 * token, and writes the intent.  Under nothing; takes inf->mu. */
static int aim(struct launches *l, size_t i, size_t cloud, unsigned attempt, struct imc_err *err)
{
  const struct plan_deploy *pd = &l->plan->deploys[l->deploy_of[i]];
  unsigned id = l->ids[i];
  const struct imc_elem *sys = plan_concrete(l->plan, cloud, pd->system);
  struct imc_elem *copy = sys ? imc_elem_clone(sys) : NULL;
  char token[IMC_INFRA_ID_MAX + 32];
  struct evm *v;
  int r = 0;

  if (!copy || vm_set_names(copy, id, l->e->cfg))
    goto nomem;
  if ((r = give_key(l, &l->plan->clouds[cloud], copy, err)) != 0) {
    imc_elem_free(copy);
    return r;
  }
  snprintf(token, sizeof token, "imc-%s-%u-%u", l->inf->id, id, attempt);
  pthread_mutex_lock(&l->inf->mu);
  v = &l->inf->vms[id];
  imc_elem_free(v->vm->system);
  v->vm->system = copy;
  v->launch = IMC_LAUNCH_INTENT;
  v->gen++;
  if (imc_vm_set(&v->vm->cloud_id, l->plan->clouds[cloud].id) ||
      imc_vm_set(&v->vm->cloud_type, l->plan->clouds[cloud].conn->name) ||
      imc_vm_set(&v->vm->client_token, token))
    r = IMC_E_NOMEM;
  pthread_mutex_unlock(&l->inf->mu);
  if (r)
    return nomem(err);
  return persist_vm(l->e, l->inf, id, err);
nomem:
  imc_elem_free(copy);
  return nomem(err);
}

static int try_launch(struct launches *l, unsigned id, size_t cloud, struct imc_err *err)
{
  const struct cloud *c = &l->plan->clouds[cloud];
  struct imc_launch rq = {.infra_id = l->inf->id, .vm_id = id, .doc = l->doc};
  json_t *key;
  struct imc_vm *vm;
  void *ctx = NULL;
  unsigned gen;
  int r;

  pthread_mutex_lock(&l->inf->mu);
  vm = vm_clone(l->inf->vms[id].vm);
  gen = l->inf->vms[id].gen;
  pthread_mutex_unlock(&l->inf->mu);
  if (!vm)
    return nomem(err);
  rq.client_token = vm->client_token;
  rq.system = vm->system;
  pthread_mutex_lock(&l->inf->mu);
  key = json_incref(l->inf->ssh_key);
  pthread_mutex_unlock(&l->inf->mu);
  rq.public_key = json_string_value(json_object_get(key, "public"));
  if ((r = cloud_open(c->conn, c->auth, &ctx, err)) == 0)
    r = c->conn->launch(ctx, &rq, vm, err);
  cloud_close(c->conn, ctx);
  json_decref(key);
  if (r) {
    imc_vm_free(vm);
    return r;
  }
  pthread_mutex_lock(&l->inf->mu);
  if (evm_replace(&l->inf->vms[id], gen, vm)) {
    l->inf->vms[id].launch = IMC_LAUNCH_DONE;
    l->inf->vms[id].updated_at = engine_now();
  }
  pthread_mutex_unlock(&l->inf->mu);
  return persist_vm(l->e, l->inf, id, err);
}

static void launch_one(void *arg, size_t i)
{
  struct launches *l = arg;
  unsigned id = l->ids[i];
  const struct plan_deploy *pd = &l->plan->deploys[l->deploy_of[i]];
  const struct plan_group *g = &l->plan->groups[pd->group];
  long attempts = l->e->cfg->max_vm_fails;
  char log[ATTEMPTS_LOG_MAX] = "";
  size_t used = 0, cloud = g->clouds[0];
  struct imc_err err = {0};
  bool ok = false;

  for (long k = 0; k < attempts && !ok; k++) {
    /* Only a VM on no private network may move to another cloud. */
    cloud = g->clouds[g->private ? 0 : (size_t)k % g->nclouds];
    imc_err_clear(&err);
    if (k > 0) {
      if (l->e->cfg->delay_between_vm_retries > 0)
        sleep((unsigned)l->e->cfg->delay_between_vm_retries);
      if (aim(l, i, cloud, (unsigned)k, &err) != 0)
        break;
    }
    ok = try_launch(l, id, cloud, &err) == 0;
    if (!ok && used < sizeof log)
      used += (size_t)snprintf(log + used, sizeof log - used, "%sAttempt %ld: %s",
                               k ? " " : "", k + 1, err.msg);
    if (!ok && err.code == IMC_E_NOMEM)
      break;
  }
  if (ok)
    return;
  pthread_mutex_lock(&l->inf->mu);
  {
    struct evm *v = &l->inf->vms[id];
    char msg[ATTEMPTS_LOG_MAX + 256];

    snprintf(msg, sizeof msg, "Error launching the VMs of type %s to cloud ID %s of type %s. %s",
             pd->system, l->plan->clouds[cloud].id, l->plan->clouds[cloud].conn->name, log);
    v->launch = IMC_LAUNCH_FAILED;
    v->vm->state = IMC_VM_FAILED;
    v->gen++;
    if (imc_vm_set(&v->vm->error, msg))
      imc_log(IMC_LOG_ERROR, "infrastructure %s, VM %u: out of memory", l->inf->id, id);
  }
  pthread_mutex_unlock(&l->inf->mu);
  persist_log(l->e, l->inf->id, -1, "Error launching VM %u: %s", id, log);
  imc_err_clear(&err);
  if (persist_vm(l->e, l->inf, id, &err) != 0)
    imc_log(IMC_LOG_ERROR, "infrastructure %s, VM %u: %s", l->inf->id, id, err.msg);
}

/* --- the VM records ------------------------------------------------------------------------ */

/* Appends one intent per VM of the plan and writes them in one step. */
static int add_intents(struct imc_engine *e, struct infra *inf, const struct plan *plan,
                       unsigned **ids_out, size_t **deploy_out, size_t *n_out,
                       struct imc_err *err)
{
  size_t total = 0, k = 0;
  unsigned *ids = NULL;
  size_t *deploy_of = NULL;
  int r = 0;

  for (size_t d = 0; d < plan->ndeploys; d++)
    total += plan->deploys[d].count;
  *ids_out = NULL;
  *deploy_out = NULL;
  *n_out = 0;
  if (total == 0)
    return 0;
  if (!(ids = imc_calloc(total, sizeof *ids)) ||
      !(deploy_of = imc_calloc(total, sizeof *deploy_of))) {
    r = nomem(err);
    goto out;
  }
  pthread_mutex_lock(&inf->mu);
  for (size_t d = 0; d < plan->ndeploys && !r; d++) {
    const struct plan_deploy *pd = &plan->deploys[d];

    for (size_t j = 0; j < pd->count && !r; j++) {
      struct imc_vm *vm = imc_vm_new(0, NULL);

      if (!vm) {
        r = nomem(err);
        break;
      }
      if ((r = infra_append_vm(inf, vm, IMC_LAUNCH_INTENT, &ids[k], err)) == 0) {
        inf->vms[ids[k]].in_flight = true;
        deploy_of[k++] = d;
      }
    }
  }
  pthread_mutex_unlock(&inf->mu);
  if (r)
    goto out;
  if ((r = imc_store_begin(e->store, err)) != 0)
    goto out;
  {
    struct launches l = {.e = e, .inf = inf, .plan = plan, .ids = ids, .deploy_of = deploy_of};

    for (size_t i = 0; i < k && !r; i++)
      r = aim(&l, i, plan->groups[plan->deploys[deploy_of[i]].group].clouds[0], 0, err);
  }
  if (r)
    imc_store_rollback(e->store);
  else
    r = imc_store_commit(e->store, err);
out:
  if (r) {
    /* The records stay (ids are never reused) but are failed, and saved as such if possible. */
    pthread_mutex_lock(&inf->mu);
    for (size_t i = 0; i < k; i++) {
      inf->vms[ids[i]].launch = IMC_LAUNCH_FAILED;
      inf->vms[ids[i]].in_flight = false;
      inf->vms[ids[i]].destroyed = true;
    }
    pthread_mutex_unlock(&inf->mu);
    imc_free(ids);
    imc_free(deploy_of);
    return r;
  }
  *ids_out = ids;
  *deploy_out = deploy_of;
  *n_out = k;
  return 0;
}

/* --- AddResource ------------------------------------------------------------------------ */

/* IM's complete_radl + update_radl: rq with its references filled from the stored document,
 * merged into a copy of it.  *merged replaces the stored one only once everything checked. */
static int merge_request(struct infra *inf, const struct imc_doc *rq, struct imc_doc **req,
                         struct imc_doc **merged, struct imc_err *err)
{
  struct imc_doc *r1 = NULL, *m = NULL;
  int r;

  pthread_mutex_lock(&inf->mu);
  r1 = imc_doc_clone(rq);
  m = inf->doc ? imc_doc_clone(inf->doc) : imc_doc_new(NULL);
  if (!r1 || !m)
    r = nomem(err);
  else if ((r = radl_complete(r1, inf->doc, err)) == 0)
    r = radl_merge(m, r1, err);
  pthread_mutex_unlock(&inf->mu);
  if (r == 0)
    r = radl_check(r1, err);
  if (r) {
    imc_doc_free(r1);
    imc_doc_free(m);
    return r;
  }
  *req = r1;
  *merged = m;
  return 0;
}

static int set_adding(struct infra *inf, bool on, struct imc_err *err)
{
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  if (on && inf->deleting)
    r = imc_fail(err, IMC_E_CONFLICT, "Infrastructure deleted. Do not add resources.");
  else
    inf->adding = on;
  pthread_mutex_unlock(&inf->mu);
  return r;
}

/* Networks of the systems that got VMs are pinned to their cloud for later additions. */
static int pin_private_networks(struct infra *inf, const struct plan *plan, const unsigned *ids,
                                const size_t *deploy_of, size_t n)
{
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  for (size_t i = 0; i < n && !r; i++) {
    const struct evm *v = &inf->vms[ids[i]];
    const struct plan_deploy *pd = &plan->deploys[deploy_of[i]];

    if (v->launch != IMC_LAUNCH_DONE)
      continue;
    for (size_t k = 0; k < pd->nprivate && !r; k++)
      if (!json_object_get(inf->private_nets, pd->private_nets[k]))
        r = json_object_set_new(inf->private_nets, pd->private_nets[k],
                                json_string(v->vm->cloud_id))
              ? IMC_E_NOMEM
              : 0;
  }
  pthread_mutex_unlock(&inf->mu);
  return r;
}

/* The messages of the failed VMs among ids, one per line. */
static bool all_failed(struct infra *inf, const unsigned *ids, size_t n, struct imc_buf *msgs)
{
  bool all = n > 0;

  pthread_mutex_lock(&inf->mu);
  for (size_t i = 0; i < n; i++) {
    const struct evm *v = &inf->vms[ids[i]];

    if (v->launch != IMC_LAUNCH_FAILED)
      all = false;
    else if (v->vm->error)
      imc_buf_addf(msgs, "%s\n", v->vm->error);
  }
  pthread_mutex_unlock(&inf->mu);
  return all;
}

int deploy_add(struct imc_engine *e, struct infra *inf, const struct imc_doc *rq,
               const struct imc_auth *auth, bool context, struct imc_vm_ids *new_vms,
               struct imc_err *err)
{
  struct imc_doc *req = NULL, *merged = NULL;
  struct plan plan;
  unsigned *ids = NULL;
  size_t *deploy_of = NULL, n = 0;
  struct imc_buf msgs;
  int r;

  memset(new_vms, 0, sizeof *new_vms);
  plan_init(&plan);
  imc_buf_init(&msgs, IMC_ERR_MSG_MAX);
  if ((r = merge_request(inf, rq, &req, &merged, err)) != 0) {
    pthread_mutex_lock(&inf->mu);
    inf->configured = 0;
    pthread_mutex_unlock(&inf->mu);
    persist_log(e, inf->id, -1, "Error parsing RADL: %s", err->msg);
    goto out;
  }
  pthread_mutex_lock(&inf->mu);
  imc_doc_free(inf->doc);
  inf->doc = merged;
  merged = NULL;
  pthread_mutex_unlock(&inf->mu);
  if ((r = persist_infra(e, inf, err)) != 0)
    goto out;
  if (req->ndeploys == 0) {
    pthread_mutex_lock(&inf->mu);
    if (inf->configured == CTXT_NONE)
      inf->configured = 0;
    pthread_mutex_unlock(&inf->mu);
    persist_log(e, inf->id, -1, "Infrastructure without any deploy. Exiting.");
    r = persist_infra(e, inf, err);
    goto out;
  }
  if ((r = plan_make(e, inf, req, auth, &plan, err)) != 0) {
    pthread_mutex_lock(&inf->mu);
    inf->configured = 0;
    pthread_mutex_unlock(&inf->mu);
    persist_log(e, inf->id, -1, "%s", err->msg);
    goto out;
  }
  if ((r = set_adding(inf, true, err)) != 0)
    goto out;
  if ((r = add_intents(e, inf, &plan, &ids, &deploy_of, &n, err)) == 0) {
    struct launches l = {.e = e, .inf = inf, .plan = &plan, .doc = req, .auth = auth,
                         .ids = ids, .deploy_of = deploy_of};

    imc_parallel_for(n, (unsigned)e->cfg->max_simultaneous_launches, launch_one, &l);
    pthread_mutex_lock(&inf->mu);
    for (size_t i = 0; i < n; i++)
      inf->vms[ids[i]].in_flight = false;
    pthread_mutex_unlock(&inf->mu);
    if (pin_private_networks(inf, &plan, ids, deploy_of, n))
      r = nomem(err);
  }
  set_adding(inf, false, err);
  if (r)
    goto out;
  if (all_failed(inf, ids, n, &msgs)) {
    struct imc_err derr = {0};

    persist_log(e, inf->id, -1, "All VMs failed. No contextualize.");
    if (infra_delete_vms(e, inf, ids, n, auth, &derr) != 0)
      imc_buf_addf(&msgs, "%s\n", derr.msg);
    pthread_mutex_lock(&inf->mu);
    if (!infra_live_vms(inf))
      inf->configured = 0;
    pthread_mutex_unlock(&inf->mu);
    persist_infra(e, inf, &derr);
    r = imc_fail(err, IMC_E_CLOUD, "Error adding VMs: %s", imc_buf_cstr(&msgs));
    goto out;
  }
  if ((r = persist_infra(e, inf, err)) != 0)
    goto out;
  if (context && (r = ctxt_start(e, inf, ids, n, auth, err)) != 0)
    goto out;
  new_vms->v = ids;
  new_vms->n = n;
  ids = NULL;
out:
  imc_buf_free(&msgs);
  imc_free(ids);
  imc_free(deploy_of);
  plan_cleanup(&plan);
  imc_doc_free(req);
  imc_doc_free(merged);
  return r;
}
