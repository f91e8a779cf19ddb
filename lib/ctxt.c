/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The seam to contextualization: which VMs need it, and their outcome.  The work itself (SSH,
 * Ansible) belongs to a contextualizer given at open; without one, VMs that need it stay
 * `running` and the log says why.  As in IM, `contextualize ()` disables it, and so does a
 * connector whose VMs cannot be reached (Dummy): those VMs become `configured` at once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"
#include "store_int.h"

/* Who runs a contextualization: this process, on this machine. */
static json_t *run_mark(void)
{
  char host[256] = "";
  int64_t started = 0;

  gethostname(host, sizeof host - 1);
  if (store_proc_start(getpid(), &started) != 0)
    return NULL;
  return json_pack("{s:s, s:I, s:I}", "host", host, "pid", (json_int_t)getpid(), "started",
                   (json_int_t)started);
}

static bool run_stopped(const json_t *mark)
{
  char host[256] = "";
  const char *its_host = json_string_value(json_object_get(mark, "host"));
  json_int_t pid = json_integer_value(json_object_get(mark, "pid"));

  gethostname(host, sizeof host - 1);
  /* A run of another machine (imcds sharing PostgreSQL) is that machine's to judge. */
  if (!its_host || strcmp(its_host, host) != 0)
    return false;
  return pid <= 0 || pid != (pid_t)pid ||
         !store_proc_alive((pid_t)pid, json_integer_value(json_object_get(mark, "started")));
}

/* IM's Contextualize(): no Ansible item in a contextualize sentence means none. */
static bool ctxt_disabled(const struct imc_doc *doc)
{
  if (!doc->ctxt.present)
    return false;
  for (size_t i = 0; i < doc->ctxt.nitems; i++) {
    const char *tool = doc->ctxt.items[i]->tool;

    if (!tool || strcmp(tool, "Ansible") == 0)
      return false;
  }
  return true;
}

static bool needs_ctxt(const struct imc_engine *e, const struct evm *v)
{
  const struct imc_connector *conn = engine_connector(e, v->vm->cloud_type);

  return !(conn && (conn->caps & IMC_CAP_NO_CTXT));
}

/* Recomputes IM's infrastructure flag from its VMs: done when every live VM is.  Under mu. */
static void update_configured(struct infra *inf)
{
  int all = 1;

  for (size_t i = 0; i < inf->nvms; i++) {
    const struct evm *v = &inf->vms[i];

    if (v->destroyed || v->launch != IMC_LAUNCH_DONE)
      continue;
    if (v->ctxt == CTXT_NONE) {
      all = CTXT_NONE;
      break;
    }
    if (v->ctxt == 0)
      all = 0;
  }
  inf->configured = all;
}

/* The contextualizer refused the run: its VMs end unconfigured, with the reason. */
static void not_started(struct imc_engine *e, struct infra *inf, const unsigned *ids, size_t n,
                        const struct imc_err *why)
{
  pthread_mutex_lock(&inf->mu);
  for (size_t i = 0; i < n; i++) {
    struct evm *v = &inf->vms[ids[i]];
    char key[16];

    snprintf(key, sizeof key, "%u", ids[i]);
    json_object_del(inf->ctxt_runs, key);
    v->ctxt = 0;
    v->gen++;
    if (v->ctxt_here) {
      v->ctxt_here = false;
      inf->ctxt_here--;
    }
  }
  update_configured(inf);
  pthread_mutex_unlock(&inf->mu);
  persist_log(e, inf->id, -1, "Contextualization could not start: %s", why->msg);
}

int ctxt_start(struct imc_engine *e, struct infra *inf, const unsigned *ids, size_t n,
               const struct imc_auth *auth, struct imc_err *err)
{
  unsigned *todo = NULL;
  size_t ntodo = 0, count;
  json_t *mark = run_mark();
  bool disabled;
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  count = n ? n : inf->nvms;
  disabled = inf->doc && ctxt_disabled(inf->doc);
  if (count && !(todo = imc_calloc(count, sizeof *todo))) {
    pthread_mutex_unlock(&inf->mu);
    json_decref(mark);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < count; i++) {
    struct evm *v = &inf->vms[n ? ids[i] : i];
    char key[16];

    if (v->destroyed || v->launch != IMC_LAUNCH_DONE)
      continue;
    v->gen++;
    if (disabled || !needs_ctxt(e, v)) {
      v->ctxt = 1;
    } else {
      v->ctxt = CTXT_NONE;
      todo[ntodo++] = v->vm->id;
      snprintf(key, sizeof key, "%u", v->vm->id);
      if (e->ctxr && mark)
        json_object_set(inf->ctxt_runs, key, mark);
      if (e->ctxr && !v->ctxt_here) {
        v->ctxt_here = true;
        inf->ctxt_here++;
      }
    }
  }
  update_configured(inf);
  pthread_mutex_unlock(&inf->mu);
  json_decref(mark);

  if (disabled)
    persist_log(e, inf->id, -1, "Contextualization disabled by the RADL/TOSCA template.");
  if (ntodo && e->ctxr) {
    if ((r = e->ctxr->start(e->ctxr->ctx, e, inf->id, todo, ntodo, auth, err)) != 0)
      not_started(e, inf, todo, ntodo, err);
  } else if (ntodo) {
    persist_log(e, inf->id, -1,
                "Contextualization is not available in this build: %zu VM(s) stay running.",
                ntodo);
  }
  for (size_t i = 0; i < count && !r; i++)
    r = persist_vm(e, inf, n ? ids[i] : (unsigned)i, err);
  if (!r)
    r = persist_infra(e, inf, err);
  imc_free(todo);
  return r;
}

/* After a successful credentials step the new values are the VM's credentials (IM's
 * updateNewCredentialValues): disk.0.os.credentials.new.X replaces .X.  Under inf->mu. */
static int take_new_credentials(struct imc_elem *system)
{
  static const char *const names[] = {"password", "public_key", "private_key"};

  for (size_t i = 0; system && i < sizeof names / sizeof names[0]; i++) {
    char from[64], to[64];
    const char *v;

    snprintf(from, sizeof from, "disk.0.os.credentials.new.%s", names[i]);
    snprintf(to, sizeof to, "disk.0.os.credentials.%s", names[i]);
    if (!(v = imc_features_str(&system->feats, from)))
      continue;
    if (imc_features_set_str(&system->feats, to, v))
      return IMC_E_NOMEM;
    imc_features_del(&system->feats, from);
  }
  return 0;
}

int imc_engine_ctxt_done(struct imc_engine *e, const char *id, unsigned vm, bool ok,
                         const char *log, struct imc_err *err)
{
  struct infra *inf = engine_find(e, id);
  int r = 0;

  if (!inf)
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid infrastructure ID or access not granted.");
  pthread_mutex_lock(&inf->mu);
  if (vm >= inf->nvms || inf->vms[vm].destroyed) {
    r = imc_fail(err, IMC_E_NOTFOUND, "Invalid VM ID");
  } else {
    char key[16];

    snprintf(key, sizeof key, "%u", vm);
    json_object_del(inf->ctxt_runs, key);
    inf->vms[vm].ctxt = ok;
    inf->vms[vm].gen++;

    update_configured(inf);
    if (ok && take_new_credentials(inf->vms[vm].vm->system))
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  pthread_mutex_unlock(&inf->mu);
  /* The contextualizer's log is kept as it wrote it (it may be long: no line prefix). */
  if (r == 0 && log && *log)
    r = imc_store_append_log(e->store, id, (int)vm, engine_now(), log, err);
  if (r == 0 && (r = persist_vm(e, inf, vm, err)) == 0)
    r = persist_infra(e, inf, err);
  /* Only now may a shared store's copy replace memory (reload): it has the outcome. */
  pthread_mutex_lock(&inf->mu);
  if (vm < inf->nvms && inf->vms[vm].ctxt_here) {
    inf->vms[vm].ctxt_here = false;
    inf->ctxt_here--;
  }
  pthread_mutex_unlock(&inf->mu);
  return r;
}

int imc_engine_ctxt_log(struct imc_engine *e, const char *id, int vm, const char *text,
                        struct imc_err *err)
{
  if (!engine_find(e, id))
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid infrastructure ID or access not granted.");
  return imc_store_append_log(e->store, id, vm, engine_now(), text, err);
}

/* One infrastructure's stopped runs; returns how many VMs it settled. */
static size_t settle_infra(struct imc_engine *e, struct infra *inf)
{
  unsigned *settled;
  size_t n = 0, dropped = 0;
  const char *key;
  json_t *mark, *tmp;
  struct imc_err err = {0};

  pthread_mutex_lock(&inf->mu);
  if (!(settled = imc_calloc(json_object_size(inf->ctxt_runs), sizeof *settled))) {
    pthread_mutex_unlock(&inf->mu);
    return 0; /* the next open tries again */
  }
  json_object_foreach_safe(inf->ctxt_runs, tmp, key, mark)
  {
    char *end;
    unsigned long vm = strtoul(key, &end, 10);
    bool bad_key = *end != '\0';

    if (!run_stopped(mark))
      continue;
    json_object_del(inf->ctxt_runs, key); /* frees key; a VM gone meanwhile needs no more */
    dropped++;
    if (bad_key || vm >= inf->nvms || inf->vms[vm].destroyed)
      continue;
    inf->vms[vm].ctxt = 0;
    inf->vms[vm].gen++;
    settled[n++] = (unsigned)vm;
  }
  update_configured(inf);
  pthread_mutex_unlock(&inf->mu);
  for (size_t i = 0; i < n; i++) {
    persist_log(e, inf->id, (int)settled[i],
                "Contextualization stopped: the process running it ended before it finished. "
                "Reconfigure runs it again.");
    persist_vm(e, inf, settled[i], &err);
  }
  if (dropped)
    persist_infra(e, inf, &err);
  imc_free(settled);
  return n;
}

void ctxt_settle_stopped(struct imc_engine *e)
{
  for (size_t i = 0; i < e->ninfras; i++) {
    struct infra *inf = e->infras[i];
    size_t n;

    if (inf->deleted || json_object_size(inf->ctxt_runs) == 0)
      continue;
    if ((n = settle_infra(e, inf)) > 0)
      imc_log(IMC_LOG_WARN, "infrastructure %s: %zu VM(s) whose contextualization stopped "
                            "with its process are now unconfigured", inf->id, n);
  }
}
