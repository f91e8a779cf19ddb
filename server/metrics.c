/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Prometheus metrics: fixed tables of series under one mutex.  A request holds it for a
 * lookup and a few additions (well under a microsecond), so it costs nothing next to the
 * request itself; series are found by their labels' addresses, which are static. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/vm.h"
#include "metrics.h"

#define MAX_COUNTERS 512 /* (route, status, outcome) series */
#define MAX_ROUTES 128   /* latency histograms, one per route */
#define NO_ROUTE "none"  /* the label of requests that matched no route */

/* Seconds; Prometheus' own default buckets, with finer ones below 5 ms (the API's target). */
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                 0.1,    0.25,  0.5,    1,     2.5,   5,     10};
#define NBUCKETS (sizeof buckets / sizeof *buckets)

struct route_key {
  const char *api, *method, *route;
};

struct counter {
  struct route_key k;
  unsigned status;
  bool failed;
  uint64_t n;
};

struct histogram {
  struct route_key k;
  uint64_t le[NBUCKETS]; /* cumulative when rendered, per bucket while counting */
  uint64_t n;
  double sum;
};

struct metrics {
  pthread_mutex_t mu;
  struct counter counters[MAX_COUNTERS];
  size_t ncounters;
  uint64_t dropped; /* observations past the tables' bounds */
  struct histogram hist[MAX_ROUTES];
  size_t nhist;
  time_t started;
};

int metrics_new(struct metrics **out, struct imc_err *err)
{
  struct metrics *m = imc_calloc(1, sizeof *m);

  *out = NULL;
  if (!m)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  pthread_mutex_init(&m->mu, NULL);
  m->started = time(NULL);
  *out = m;
  return 0;
}

void metrics_free(struct metrics *m)
{
  if (!m)
    return;
  pthread_mutex_destroy(&m->mu);
  imc_free(m);
}

static bool same_key(const struct route_key *a, const struct route_key *b)
{
  return a->api == b->api && a->method == b->method && a->route == b->route;
}

static struct counter *counter_for(struct metrics *m, const struct route_key *k,
                                   unsigned status, bool failed)
{
  for (size_t i = 0; i < m->ncounters; i++) {
    struct counter *c = &m->counters[i];

    if (same_key(&c->k, k) && c->status == status && c->failed == failed)
      return c;
  }
  if (m->ncounters == MAX_COUNTERS)
    return NULL;
  m->counters[m->ncounters] = (struct counter){.k = *k, .status = status, .failed = failed};
  return &m->counters[m->ncounters++];
}

static struct histogram *histogram_for(struct metrics *m, const struct route_key *k)
{
  for (size_t i = 0; i < m->nhist; i++)
    if (same_key(&m->hist[i].k, k))
      return &m->hist[i];
  if (m->nhist == MAX_ROUTES)
    return NULL;
  m->hist[m->nhist] = (struct histogram){.k = *k};
  return &m->hist[m->nhist++];
}

void metrics_end(struct metrics *m, const char *api, const char *method, const char *route,
                 unsigned status, bool failed, double seconds)
{
  struct route_key k = {api, route ? method : NULL, route ? route : NO_ROUTE};
  struct counter *c;
  struct histogram *h;
  size_t b = 0;

  while (b < NBUCKETS && seconds > buckets[b])
    b++;
  pthread_mutex_lock(&m->mu);
  if ((c = counter_for(m, &k, status, failed)) != NULL)
    c->n++;
  if ((h = histogram_for(m, &k)) != NULL) {
    if (b < NBUCKETS)
      h->le[b]++;
    h->n++;
    h->sum += seconds;
  }
  if (!c || !h)
    m->dropped++;
  pthread_mutex_unlock(&m->mu);
}

/* The labels of a route, as `api="rest",method="GET",route="/version"`. */
static void add_key(struct imc_buf *out, const struct route_key *k)
{
  imc_buf_addf(out, "api=\"%s\",", k->api);
  if (k->method)
    imc_buf_addf(out, "method=\"%s\",", k->method);
  imc_buf_addf(out, "route=\"%s\"", k->route);
}

static void render_requests(const struct metrics *m, struct imc_buf *out)
{
  imc_buf_adds(out, "# HELP imcd_requests_total Requests answered, by API, route, HTTP status "
                    "and outcome (XML-RPC's false answers are failures with status 200).\n"
                    "# TYPE imcd_requests_total counter\n");
  for (size_t i = 0; i < m->ncounters; i++) {
    const struct counter *c = &m->counters[i];

    imc_buf_adds(out, "imcd_requests_total{");
    add_key(out, &c->k);
    imc_buf_addf(out, ",status=\"%u\",outcome=\"%s\"} %llu\n", c->status,
                 c->failed ? "failed" : "ok", (unsigned long long)c->n);
  }
  imc_buf_adds(out, "# HELP imcd_request_duration_seconds Time from a request's headers to "
                    "its answer, by API and route.\n"
                    "# TYPE imcd_request_duration_seconds histogram\n");
  for (size_t i = 0; i < m->nhist; i++) {
    const struct histogram *h = &m->hist[i];
    uint64_t below = 0;

    for (size_t b = 0; b < NBUCKETS; b++) {
      below += h->le[b];
      imc_buf_adds(out, "imcd_request_duration_seconds_bucket{");
      add_key(out, &h->k);
      imc_buf_addf(out, ",le=\"%g\"} %llu\n", buckets[b], (unsigned long long)below);
    }
    imc_buf_adds(out, "imcd_request_duration_seconds_bucket{");
    add_key(out, &h->k);
    imc_buf_addf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)h->n);
    imc_buf_adds(out, "imcd_request_duration_seconds_sum{");
    add_key(out, &h->k);
    imc_buf_addf(out, "} %.6f\n", h->sum);
    imc_buf_adds(out, "imcd_request_duration_seconds_count{");
    add_key(out, &h->k);
    imc_buf_addf(out, "} %llu\n", (unsigned long long)h->n);
  }
  imc_buf_addf(out, "# HELP imcd_metrics_dropped_total Observations not counted because the "
                    "series tables were full.\n"
                    "# TYPE imcd_metrics_dropped_total counter\n"
                    "imcd_metrics_dropped_total %llu\n",
               (unsigned long long)m->dropped);
}

static void render_states(const char *name, const char *help, const size_t by_state[],
                          struct imc_buf *out)
{
  imc_buf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
  for (int s = 0; s < IMC_VM_NSTATES; s++)
    imc_buf_addf(out, "%s{state=\"%s\"} %zu\n", name, imc_vm_state_name((enum imc_vm_state)s),
                 by_state[s]);
}

static void render_engine(const struct imc_engine_counts *c, struct imc_buf *out)
{
  render_states("imcd_infrastructures", "Infrastructures not destroyed, by IM's state as last "
                "seen (a scrape never asks a cloud).", c->infras, out);
  render_states("imcd_vms", "VMs of those infrastructures, by state as last seen.", c->vms, out);
  imc_buf_addf(out, "# HELP imcd_jobs_queued Asynchronous calls waiting for a worker.\n"
                    "# TYPE imcd_jobs_queued gauge\nimcd_jobs_queued %zu\n"
                    "# HELP imcd_jobs_running Asynchronous calls a worker is running.\n"
                    "# TYPE imcd_jobs_running gauge\nimcd_jobs_running %zu\n",
               c->jobs_queued, c->jobs_running);
}

/* Resident memory in bytes from /proc/self/statm; 0 when unreadable. */
static unsigned long long resident_bytes(void)
{
  unsigned long long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");

  if (!f)
    return 0;
  if (fscanf(f, "%llu %llu", &size, &resident) != 2)
    resident = 0;
  fclose(f);
  return resident * (unsigned long long)sysconf(_SC_PAGESIZE);
}

static void render_blocking(struct imc_pool *blocking, struct imc_buf *out)
{
  size_t queued, running;

  imc_pool_depth(blocking, &queued, &running);
  imc_buf_addf(out, "# HELP imcd_blocking_requests_queued Requests that may wait on a cloud, "
                    "waiting for a worker.\n"
                    "# TYPE imcd_blocking_requests_queued gauge\n"
                    "imcd_blocking_requests_queued %zu\n"
                    "# HELP imcd_blocking_requests_running Requests that may wait on a cloud, "
                    "on a worker.\n"
                    "# TYPE imcd_blocking_requests_running gauge\n"
                    "imcd_blocking_requests_running %zu\n",
               queued, running);
}

void metrics_render(struct metrics *m, const struct metrics_view *v, struct imc_buf *out)
{
  pthread_mutex_lock(&m->mu);
  render_requests(m, out);
  pthread_mutex_unlock(&m->mu);
  imc_buf_addf(out, "# HELP imcd_requests_in_flight Requests received and not yet answered.\n"
                    "# TYPE imcd_requests_in_flight gauge\nimcd_requests_in_flight %u\n",
               v->in_flight);
  if (v->engine)
    render_engine(v->engine, out);
  if (v->blocking)
    render_blocking(v->blocking, out);
  imc_buf_addf(out, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                    "# TYPE process_resident_memory_bytes gauge\n"
                    "process_resident_memory_bytes %llu\n"
                    "# HELP process_start_time_seconds Start time of the process since the "
                    "Unix epoch in seconds.\n"
                    "# TYPE process_start_time_seconds gauge\n"
                    "process_start_time_seconds %lld\n",
               resident_bytes(), (long long)m->started);
}
