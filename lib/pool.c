/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Worker threads: a pool for queued jobs (the engine's asynchronous calls, imcd's blocking
 * requests) and a bounded parallel loop for the launches and deletions of one call. */
#include <pthread.h>
#include <stdbool.h>

#include "imc/alloc.h"
#include "imc/pool.h"

struct job {
  imc_pool_fn fn;
  void *arg;
  struct job *next;
};

struct imc_pool {
  pthread_mutex_t mu;
  pthread_cond_t more;
  struct job *head, *tail;
  bool stopping;
  pthread_t *threads;
  unsigned nthreads;
  size_t queued, running; /* for the server's metrics */
};

static void *worker(void *arg)
{
  struct imc_pool *p = arg;

  for (;;) {
    struct job *j;

    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stopping)
      pthread_cond_wait(&p->more, &p->mu);
    if (!p->head) { /* stopping and nothing left */
      pthread_mutex_unlock(&p->mu);
      return NULL;
    }
    j = p->head;
    p->head = j->next;
    if (!p->head)
      p->tail = NULL;
    p->queued--;
    p->running++;
    pthread_mutex_unlock(&p->mu);
    j->fn(j->arg);
    imc_free(j);
    pthread_mutex_lock(&p->mu);
    p->running--;
    pthread_mutex_unlock(&p->mu);
  }
}

int imc_pool_start(unsigned workers, struct imc_pool **out, struct imc_err *err)
{
  struct imc_pool *p = imc_calloc(1, sizeof *p);

  *out = NULL;
  if (!p || !(p->threads = imc_calloc(workers, sizeof *p->threads))) {
    imc_free(p);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->more, NULL);
  for (; p->nthreads < workers; p->nthreads++) {
    if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0) {
      imc_pool_stop(p);
      return imc_fail(err, IMC_E_INTERNAL, "cannot start the engine's worker threads");
    }
  }
  *out = p;
  return 0;
}

int imc_pool_submit(struct imc_pool *p, imc_pool_fn fn, void *arg, struct imc_err *err)
{
  struct job *j = imc_calloc(1, sizeof *j);

  if (!j)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  j->fn = fn;
  j->arg = arg;
  pthread_mutex_lock(&p->mu);
  if (p->tail)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  p->queued++;
  pthread_cond_signal(&p->more);
  pthread_mutex_unlock(&p->mu);
  return 0;
}

void imc_pool_depth(struct imc_pool *p, size_t *queued, size_t *running)
{
  pthread_mutex_lock(&p->mu);
  *queued = p->queued;
  *running = p->running;
  pthread_mutex_unlock(&p->mu);
}

void imc_pool_stop(struct imc_pool *p)
{
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_broadcast(&p->more);
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < p->nthreads; i++)
    pthread_join(p->threads[i], NULL);
  /* No worker left: run what was queued after the last one looked, so no job is lost. */
  while (p->head) {
    struct job *j = p->head;

    p->head = j->next;
    j->fn(j->arg);
    imc_free(j);
  }
  pthread_cond_destroy(&p->more);
  pthread_mutex_destroy(&p->mu);
  imc_free(p->threads);
  imc_free(p);
}

struct loop {
  void (*fn)(void *arg, size_t i);
  void *arg;
  size_t n;
  pthread_mutex_t mu;
  size_t next;
};

static void *loop_run(void *arg)
{
  struct loop *l = arg;

  for (;;) {
    size_t i;

    pthread_mutex_lock(&l->mu);
    i = l->next < l->n ? l->next++ : l->n;
    pthread_mutex_unlock(&l->mu);
    if (i == l->n)
      return NULL;
    l->fn(l->arg, i);
  }
}

void imc_parallel_for(size_t n, unsigned width, void (*fn)(void *arg, size_t i), void *arg)
{
  struct loop l = {.fn = fn, .arg = arg, .n = n};
  pthread_t threads[64];
  unsigned extra = 0;

  if (width > 64)
    width = 64;
  pthread_mutex_init(&l.mu, NULL);
  /* The caller is one of the threads; a thread that cannot start only makes it slower. */
  while (extra + 1 < width && extra + 1 < n &&
         pthread_create(&threads[extra], NULL, loop_run, &l) == 0)
    extra++;
  loop_run(&l);
  for (unsigned i = 0; i < extra; i++)
    pthread_join(threads[i], NULL);
  pthread_mutex_destroy(&l.mu);
}
