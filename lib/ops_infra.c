/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's operations on a whole infrastructure. */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"
#include "imc/radl.h"

#define STARS "***************************************************************************\n"

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* --- create ------------------------------------------------------------------------------- */

struct async_job {
  struct imc_engine *e;
  struct infra *inf;
  struct imc_doc *doc;
  struct imc_auth auth;
  bool force;
};

static void job_free(struct async_job *j)
{
  imc_doc_free(j->doc);
  imc_auth_cleanup(&j->auth);
  imc_free(j);
}

/* The infrastructure is deleted (what is left of it kept for history, as IM). */
static int mark_deleted(struct imc_engine *e, struct infra *inf, struct imc_err *err)
{
  int r;

  pthread_mutex_lock(&inf->mu);
  inf->deleted = true;
  inf->deleting = inf->adding = false;
  pthread_mutex_unlock(&inf->mu);
  r = persist_infra(e, inf, err);
  if (e->ctxr && e->ctxr->forget)
    e->ctxr->forget(e->ctxr->ctx, inf->id);
  pthread_mutex_lock(&inf->mu);
  infra_free_contents(inf);
  pthread_mutex_unlock(&inf->mu);
  return r;
}

static void job_create(void *arg)
{
  struct async_job *j = arg;
  struct imc_vm_ids ids = {0};
  struct imc_err err = {0};

  if (deploy_add(j->e, j->inf, j->doc, &j->auth, true, &ids, &err) != 0)
    imc_log(IMC_LOG_WARN, "infrastructure %s: %s", j->inf->id, err.msg);
  imc_vm_ids_free(&ids);
  pthread_mutex_lock(&j->inf->mu);
  j->inf->adding = false;
  pthread_mutex_unlock(&j->inf->mu);
  infra_end_op(j->e, j->inf);
  job_free(j);
}

/* A job that runs fn on a worker with copies of what the call brought. */
static int submit(struct imc_engine *e, struct infra *inf, const struct imc_doc *doc,
                  const struct imc_auth *auth, bool force, imc_pool_fn fn, struct imc_err *err)
{
  struct async_job *j = imc_calloc(1, sizeof *j);

  if (!j)
    return nomem(err);
  j->e = e;
  j->inf = inf;
  j->force = force;
  imc_auth_init(&j->auth);
  if ((doc && !(j->doc = imc_doc_clone(doc))) || auth_copy(auth, &j->auth)) {
    job_free(j);
    return nomem(err);
  }
  if (imc_pool_submit(e->pool, fn, j, err) != 0) {
    job_free(j);
    return nomem(err);
  }
  return 0;
}

int imc_infra_create(struct imc_engine *e, const struct imc_doc *doc, const struct imc_auth *auth,
                     bool async, char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct caller c = {0};
  struct infra *inf = NULL;
  int r;

  if ((r = engine_check_boot_mode(e, false, err)) != 0 ||
      (r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  if ((r = radl_check(doc, err)) != 0)
    goto out;
  engine_new_id(id);
  if (!(inf = infra_new(id)) || caller_set_owners(&c, inf) || !(inf->doc = imc_doc_new(NULL))) {
    infra_free(inf);
    r = nomem(err);
    goto out;
  }
  inf->created = inf->updated = engine_now();
  inf->busy = true; /* the op claim, taken before anybody can see it */
  inf->adding = async;
  /* A shared store's claim too: another process must not change it while it launches. */
  if (e->shared && (r = imc_store_lock_infra(e->store, id, err)) != 0) {
    infra_free(inf);
    goto out;
  }
  if ((r = persist_infra(e, inf, err)) != 0 || (r = engine_add(e, inf, err)) != 0) {
    if (e->shared)
      imc_store_unlock_infra(e->store, id);
    infra_free(inf);
    goto out;
  }
  /* From here on the engine's list owns inf. */
  imc_log(IMC_LOG_INFO, "Creating new Inf ID: %s by %s", id, c.names[0]);
  if (async) {
    r = submit(e, inf, doc, auth, false, job_create, err);
  } else {
    struct imc_vm_ids ids = {0};

    r = deploy_add(e, inf, doc, auth, true, &ids, err);
    imc_vm_ids_free(&ids);
  }
  if (r) {
    /* IM: a create that fails leaves nothing behind but the record of it. */
    struct imc_err derr = {0};

    mark_deleted(e, inf, &derr);
  }
  if (r || !async)
    infra_end_op(e, inf);
out:
  if (r)
    id[0] = '\0';
  caller_cleanup(&c);
  return r;
}

/* --- destroy ------------------------------------------------------------------------------- */

static void delete_snapshots(struct imc_engine *e, struct infra *inf, const struct imc_auth *auth)
{
  json_t *snaps, *s;
  size_t i;

  pthread_mutex_lock(&inf->mu);
  snaps = json_incref(inf->snapshots);
  pthread_mutex_unlock(&inf->mu);
  json_array_foreach(snaps, i, s)
  {
    const char *url = json_string_value(json_object_get(s, "url"));
    struct imc_vm fake = {
      .cloud_id = (char *)json_string_value(json_object_get(s, "cloud_id")),
      .cloud_type = (char *)json_string_value(json_object_get(s, "cloud_type")),
    };
    const struct imc_connector *conn = engine_connector(e, fake.cloud_type);
    const struct imc_auth_entry *en = conn ? vm_auth(e, auth, &fake) : NULL;
    struct imc_err err = {0};
    void *ctx = NULL;

    if (!url || !en || !conn->delete_image)
      continue;
    if (cloud_open(conn, en, &ctx, &err) == 0 && conn->delete_image(ctx, url, &err) != 0)
      persist_log(e, inf->id, -1, "Error deleting snapshot %s: %s", url, err.msg);
    cloud_close(conn, ctx);
  }
  json_decref(snaps);
}

static int destroy_now(struct imc_engine *e, struct infra *inf, const struct imc_auth *auth,
                       bool force, struct imc_err *err)
{
  struct imc_vm_ids ids;
  int r = infra_vm_ids(inf, &ids, err);

  if (!r && (r = infra_delete_vms(e, inf, ids.v, ids.n, auth, err)) != 0)
    imc_err_prefix(err, "Error destroying the infrastructure: \n");
  imc_vm_ids_free(&ids);
  /* force gives up on clouds that refuse, never on this process running out of memory (the
   * VMs it did not reach would be forgotten). */
  if (r && (!force || r == IMC_E_NOMEM)) {
    pthread_mutex_lock(&inf->mu);
    inf->deleting = false;
    pthread_mutex_unlock(&inf->mu);
    return r;
  }
  if (r)
    persist_log(e, inf->id, -1, "Destroyed with force: %s", err->msg);
  imc_err_clear(err);
  delete_snapshots(e, inf, auth);
  imc_log(IMC_LOG_INFO, "Inf ID: %s: Successfully destroyed", inf->id);
  return mark_deleted(e, inf, err);
}

static void job_destroy(void *arg)
{
  struct async_job *j = arg;
  struct imc_err err = {0};

  if (infra_begin_op(j->e, j->inf, &err) == 0) {
    if (destroy_now(j->e, j->inf, &j->auth, j->force, &err) != 0)
      persist_log(j->e, j->inf->id, -1, "%s", err.msg);
    infra_end_op(j->e, j->inf);
  } else {
    imc_log(IMC_LOG_WARN, "infrastructure %s: %s", j->inf->id, err.msg);
  }
  job_free(j);
}

int imc_infra_destroy(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                      bool force, bool async, struct imc_err *err)
{
  struct infra *inf;
  int r;

  if ((r = engine_enter(e, id, auth, ENTER_DELETE, &inf, err)) != 0)
    return r;
  pthread_mutex_lock(&inf->mu);
  if (inf->adding)
    r = imc_fail(err, IMC_E_CONFLICT, "Invalid State to perform this operation.");
  else
    inf->deleting = true;
  pthread_mutex_unlock(&inf->mu);
  if (r)
    return r;
  if (async) {
    if ((r = submit(e, inf, NULL, auth, force, job_destroy, err)) != 0)
      goto undo;
    return r;
  }
  if ((r = infra_begin_op(e, inf, err)) != 0)
    goto undo;
  r = destroy_now(e, inf, auth, force, err);
  infra_end_op(e, inf);
  return r;
undo:
  pthread_mutex_lock(&inf->mu);
  inf->deleting = false;
  pthread_mutex_unlock(&inf->mu);
  return r;
}

/* --- reads ------------------------------------------------------------------------------- */

/* The RADL text of inf for the list filter; under nothing. */
static bool matches(struct infra *inf, const regex_t *re)
{
  struct imc_buf b;
  struct imc_err err = {0};
  bool hit = false;

  imc_buf_init(&b, IMC_MAX_DOC);
  pthread_mutex_lock(&inf->mu);
  if (inf->doc && radl_print(inf->doc, &b, &err) == 0)
    hit = regexec(re, imc_buf_cstr(&b), 0, NULL, 0) == 0;
  pthread_mutex_unlock(&inf->mu);
  imc_buf_free(&b);
  return hit;
}

/* In shared mode the store knows infrastructures this process has not seen yet. */
static int load_unseen(struct imc_engine *e, const struct caller *c, struct imc_err *err)
{
  for (size_t k = 0; k < c->n; k++) {
    char **ids = NULL;
    size_t n = 0;
    int r;

    if ((r = imc_store_list_infras(e->store, c->admin ? NULL : c->keys[k], false, &ids, &n,
                                   err)) != 0)
      return r;
    for (size_t i = 0; i < n && !r; i++) {
      struct infra *inf = NULL;

      if (engine_find(e, ids[i]))
        continue;
      if ((r = persist_load(e, ids[i], &inf, err)) == 0 && (r = engine_add(e, inf, err)) != 0)
        infra_free(inf);
    }
    imc_store_ids_free(ids, n);
    if (r)
      return r;
  }
  return 0;
}

int imc_infra_list(struct imc_engine *e, const struct imc_auth *auth, const char *filter,
                   struct imc_strs *ids, struct imc_err *err)
{
  struct caller c = {0};
  struct infra **all = NULL;
  regex_t re;
  bool have_re = false;
  size_t n = 0;
  int r;

  memset(ids, 0, sizeof *ids);
  if ((r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  if (filter && *filter) {
    char msg[128];

    if ((r = regcomp(&re, filter, REG_EXTENDED | REG_NOSUB)) != 0) {
      regerror(r, &re, msg, sizeof msg);
      r = imc_fail(err, IMC_E_INVAL, "Invalid filter regular expression: %s", msg);
      goto out;
    }
    have_re = true;
  }
  if (e->shared && (r = load_unseen(e, &c, err)) != 0)
    goto out;
  pthread_mutex_lock(&e->mu);
  n = e->ninfras;
  if (n && !(all = imc_calloc(n, sizeof *all)))
    r = nomem(err);
  else if (n)
    memcpy(all, e->infras, n * sizeof *all);
  pthread_mutex_unlock(&e->mu);
  if (r)
    goto out;
  if (n && !(ids->v = imc_calloc(n, sizeof *ids->v))) {
    r = nomem(err);
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    bool take;

    pthread_mutex_lock(&all[i]->mu);
    take = !all[i]->deleted && caller_owns(&c, all[i]);
    pthread_mutex_unlock(&all[i]->mu);
    if (take && have_re)
      take = matches(all[i], &re);
    if (take && !(ids->v[ids->n++] = imc_strdup(all[i]->id))) {
      ids->n--;
      r = nomem(err);
      break;
    }
  }
out:
  if (r)
    imc_strs_free(ids);
  if (have_re)
    regfree(&re);
  imc_free(all);
  caller_cleanup(&c);
  return r;
}

int imc_infra_info(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                   struct imc_vm_ids *vms, struct imc_err *err)
{
  struct infra *inf;
  int r;

  memset(vms, 0, sizeof *vms);
  if ((r = engine_enter(e, id, auth, ENTER_READ, &inf, err)) != 0)
    return r;
  return infra_vm_ids(inf, vms, err);
}

enum imc_vm_state imc_infra_state_aggregate(const enum imc_vm_state *states, size_t n,
                                            int configured, bool deleting)
{
  int state = -1; /* IM's None */

  for (size_t i = 0; i < n; i++) {
    enum imc_vm_state s = states[i];

    if (s == IMC_VM_FAILED || s == IMC_VM_UNKNOWN) {
      state = (int)s;
      break;
    }
    if (s == IMC_VM_PENDING)
      state = IMC_VM_PENDING;
    else if (s == IMC_VM_RUNNING && state != IMC_VM_PENDING)
      state = IMC_VM_RUNNING;
    else if ((s == IMC_VM_STOPPED || s == IMC_VM_OFF || s == IMC_VM_CONFIGURED) && state < 0)
      state = (int)s;
    else if (s == IMC_VM_UNCONFIGURED && (state < 0 || state == IMC_VM_CONFIGURED))
      state = IMC_VM_UNCONFIGURED;
  }
  if (state < 0) {
    if (configured == 0)
      state = IMC_VM_FAILED;
    else if (n == 0 && configured == CTXT_NONE)
      state = IMC_VM_PENDING;
    else
      state = IMC_VM_UNKNOWN;
  }
  return deleting ? IMC_VM_DELETING : (enum imc_vm_state)state;
}

int imc_infra_state(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                    struct imc_infra_state *out, struct imc_err *err)
{
  struct infra *inf;
  int r;

  memset(out, 0, sizeof *out);
  if ((r = engine_enter(e, id, auth, ENTER_READ, &inf, err)) != 0)
    return r;
  if ((r = infra_refresh(e, inf, auth, NULL, 0, err)) != 0)
    goto out;
  pthread_mutex_lock(&inf->mu);
  if (inf->nvms && (!(out->vm_ids = imc_calloc(inf->nvms, sizeof *out->vm_ids)) ||
                    !(out->vm_states = imc_calloc(inf->nvms, sizeof *out->vm_states)))) {
    r = nomem(err);
  } else {
    for (size_t i = 0; i < inf->nvms; i++) {
      if (inf->vms[i].destroyed)
        continue;
      out->vm_ids[out->n] = (unsigned)i;
      out->vm_states[out->n++] = evm_state(&inf->vms[i]);
    }
    out->state =
      imc_infra_state_aggregate(out->vm_states, out->n, inf->configured, inf->deleting);
  }
  pthread_mutex_unlock(&inf->mu);
out:
  if (r)
    imc_infra_state_free(out);
  return r;
}

int imc_infra_radl(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                   struct imc_doc **out, struct imc_err *err)
{
  struct infra *inf;
  int r;

  *out = NULL;
  if ((r = engine_enter(e, id, auth, ENTER_READ, &inf, err)) != 0)
    return r;
  pthread_mutex_lock(&inf->mu);
  if (!(*out = inf->doc ? imc_doc_clone(inf->doc) : imc_doc_new(NULL)))
    r = nomem(err);
  pthread_mutex_unlock(&inf->mu);
  return r;
}

int imc_infra_contmsg(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                      bool header_only, struct imc_buf *out, struct imc_err *err)
{
  struct imc_vm_ids vms = {0};
  struct infra *inf;
  int r;

  if ((r = engine_enter(e, id, auth, ENTER_READ, &inf, err)) != 0)
    return r;
  if ((r = imc_store_get_log(e->store, id, -1, out, err)) != 0 || header_only)
    return r;
  if ((r = infra_vm_ids(inf, &vms, err)) != 0)
    return r;
  for (size_t i = 0; i < vms.n && !r; i++) {
    struct imc_buf log;

    imc_buf_init(&log, out->max);
    if ((r = imc_store_get_log(e->store, id, (int)vms.v[i], &log, err)) == 0 && log.len) {
      imc_buf_addf(out, "VM %u:\n", vms.v[i]);
      imc_buf_add(out, log.data, log.len);
      imc_buf_adds(out, "\n" STARS);
      if (imc_buf_err(out))
        r = imc_fail(err, imc_buf_err(out), "contextualization log too large");
    }
    imc_buf_free(&log);
  }
  imc_vm_ids_free(&vms);
  return r;
}

int imc_infra_outputs(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                      json_t **out, struct imc_err *err)
{
  struct infra *inf;
  int r;

  *out = NULL;
  if ((r = engine_enter(e, id, auth, ENTER_READ, &inf, err)) != 0)
    return r;
  /* Only TOSCA infrastructures have outputs, and this build reads no TOSCA. */
  return imc_fail(err, IMC_E_FORBIDDEN,
                  "'outputs' infrastructure property is not valid in this infrastructure");
}

int imc_infra_owners(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                     struct imc_strs *names, struct imc_err *err)
{
  struct infra *inf;
  int r;

  memset(names, 0, sizeof *names);
  if ((r = engine_enter(e, id, auth, ENTER_READ, &inf, err)) != 0)
    return r;
  pthread_mutex_lock(&inf->mu);
  if (inf->nowners && !(names->v = imc_calloc(inf->nowners, sizeof *names->v)))
    r = nomem(err);
  for (size_t i = 0; i < inf->nowners && !r; i++)
    if (!(names->v[names->n++] = owner_key_name(inf->owners[i]))) {
      names->n--;
      r = nomem(err);
    }
  pthread_mutex_unlock(&inf->mu);
  if (r)
    imc_strs_free(names);
  return r;
}
