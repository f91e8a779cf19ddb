/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Worker threads (lib/pool.c): a pool that runs queued jobs, for the engine's asynchronous
 * calls and imcd's blocking requests, and a bounded parallel loop. */
#ifndef IMC_POOL_H
#define IMC_POOL_H

#include <stddef.h>

#include "imc/err.h"

struct imc_pool;
typedef void (*imc_pool_fn)(void *arg);

int imc_pool_start(unsigned workers, struct imc_pool **out, struct imc_err *err);
/* Queues fn(arg); fn owns arg.  0 or IMC_E_NOMEM. */
int imc_pool_submit(struct imc_pool *p, imc_pool_fn fn, void *arg, struct imc_err *err);
/* Runs every queued job, then stops the workers. */
void imc_pool_stop(struct imc_pool *p);
/* Jobs waiting for a worker and jobs running. */
void imc_pool_depth(struct imc_pool *p, size_t *queued, size_t *running);
/* Runs fn(arg, i) for i in 0..n-1 on up to `width` threads (the caller's included) and
 * returns when all are done. */
void imc_parallel_for(size_t n, unsigned width, void (*fn)(void *arg, size_t i), void *arg);

#endif
