/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd's Prometheus metrics (metrics.c): requests by API, route, status and outcome, their
 * latencies, and at scrape time the requests in flight, the engine's counts, the queues and
 * the process's memory.  Labels come from fixed tables (route patterns, XML-RPC method names), never from
 * what a client sends, so the number of series is bounded. */
#ifndef IMCD_METRICS_H
#define IMCD_METRICS_H

#include <stdbool.h>

#include "imc/buf.h"
#include "imc/engine.h"
#include "imc/pool.h"

struct metrics;

int metrics_new(struct metrics **out, struct imc_err *err);
void metrics_free(struct metrics *m);

/* A request answered.  api: "xmlrpc" or "rest"; method and route: static strings of the
 * front end's tables (NULL when the request matched none); failed: the call did not succeed
 * (an error status, or XML-RPC's false). */
void metrics_end(struct metrics *m, const char *api, const char *method, const char *route,
                 unsigned status, bool failed, double seconds);

/* What a scrape shows besides the requests counted here. */
struct metrics_view {
  const struct imc_engine_counts *engine; /* NULL: no engine series */
  struct imc_pool *blocking; /* imcd's lane for requests that may wait on a cloud; may be NULL */
  unsigned in_flight;        /* requests received and not yet answered (the scrape included) */
};

/* The metrics in Prometheus' text format (version 0.0.4). */
void metrics_render(struct metrics *m, const struct metrics_view *v, struct imc_buf *out);

#endif
