/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The seam to contextualization: which VMs need it, and their outcome.  The work itself (SSH,
 * Ansible) belongs to a contextualizer given at open; without one, VMs that need it stay
 * `running` and the log says why.  As in IM, `contextualize ()` disables it, and so does a
 * connector whose VMs cannot be reached (Dummy): those VMs become `configured` at once. */
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"

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

int ctxt_start(struct imc_engine *e, struct infra *inf, const unsigned *ids, size_t n,
               const struct imc_auth *auth, struct imc_err *err)
{
  unsigned *todo = NULL;
  size_t ntodo = 0, count;
  bool disabled;
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  count = n ? n : inf->nvms;
  disabled = inf->doc && ctxt_disabled(inf->doc);
  if (count && !(todo = imc_calloc(count, sizeof *todo))) {
    pthread_mutex_unlock(&inf->mu);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < count; i++) {
    struct evm *v = &inf->vms[n ? ids[i] : i];

    if (v->destroyed || v->launch != IMC_LAUNCH_DONE)
      continue;
    v->gen++;
    if (disabled || !needs_ctxt(e, v)) {
      v->ctxt = 1;
    } else {
      v->ctxt = CTXT_NONE;
      todo[ntodo++] = v->vm->id;
    }
  }
  update_configured(inf);
  pthread_mutex_unlock(&inf->mu);

  if (disabled)
    persist_log(e, inf->id, -1, "Contextualization disabled by the RADL/TOSCA template.");
  if (ntodo && e->ctxr) {
    r = e->ctxr->start(e->ctxr->ctx, e, inf->id, todo, ntodo, auth, err);
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
    inf->vms[vm].ctxt = ok;
    inf->vms[vm].gen++;
    update_configured(inf);
  }
  pthread_mutex_unlock(&inf->mu);
  if (r)
    return r;
  /* The contextualizer's log is kept as it wrote it (it may be long: no line prefix). */
  if (log && *log && (r = imc_store_append_log(e->store, id, (int)vm, engine_now(), log, err)))
    return r;
  if ((r = persist_vm(e, inf, vm, err)) == 0)
    r = persist_infra(e, inf, err);
  return r;
}

int imc_engine_ctxt_log(struct imc_engine *e, const char *id, int vm, const char *text,
                        struct imc_err *err)
{
  if (!engine_find(e, id))
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid infrastructure ID or access not granted.");
  return imc_store_append_log(e->store, id, vm, engine_now(), text, err);
}
