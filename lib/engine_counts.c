/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine's figures for a server's metrics: states counted from memory, never from a
 * cloud, so a scrape costs microseconds per infrastructure and cannot hit a rate limit. */
#include <string.h>

#include "engine_int.h"
#include "imc/alloc.h"

/* The states of one infrastructure's VMs need room for them all. */
struct scratch {
  enum imc_vm_state *states;
  size_t cap;
};

/* Counts inf (when not deleted).  *need > 0 when scratch is too small: grow it and retry. */
static void count_infra(struct infra *inf, const struct scratch *s,
                        struct imc_engine_counts *out, size_t *need)
{
  size_t n = 0;

  *need = 0;
  pthread_mutex_lock(&inf->mu);
  if (inf->nvms > s->cap) { /* counted again with room: nothing counted before this */
    *need = inf->nvms;
    goto out;
  }
  out->ctxt_running += inf->ctxt_here;
  if (inf->deleted)
    goto out;
  for (size_t i = 0; i < inf->nvms; i++) {
    if (inf->vms[i].destroyed)
      continue;
    s->states[n] = evm_state(&inf->vms[i]);
    out->vms[s->states[n++]]++;
  }
  out->infras[imc_infra_state_aggregate(s->states, n, inf->configured, inf->deleting)]++;
out:
  pthread_mutex_unlock(&inf->mu);
}

int imc_engine_counts(struct imc_engine *e, struct imc_engine_counts *out, struct imc_err *err)
{
  struct infra **list = NULL;
  struct scratch s = {0};
  size_t n, need;
  int r = 0;

  memset(out, 0, sizeof *out);
  /* A copy of the list, so no infrastructure lock is taken under engine->mu (innermost).
   * Infrastructures stay in the list until the engine closes: the pointers stay valid. */
  pthread_mutex_lock(&e->mu);
  n = e->ninfras;
  if (n && (list = imc_calloc(n, sizeof *list)) != NULL)
    memcpy(list, e->infras, n * sizeof *list);
  pthread_mutex_unlock(&e->mu);
  if (n && !list)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    count_infra(list[i], &s, out, &need);
    if (need == 0)
      continue;
    imc_free(s.states);
    s.cap = need * 2;
    if (!(s.states = imc_calloc(s.cap, sizeof *s.states))) {
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
      goto out;
    }
    i--; /* the same infrastructure again, with room */
  }
  imc_pool_depth(e->pool, &out->jobs_queued, &out->jobs_running);
out:
  imc_free(s.states);
  imc_free(list);
  return r;
}
