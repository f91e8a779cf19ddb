/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/metrics.c: request series, latency histograms, in-flight gauge, engine counts and the
 * Prometheus text they render to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "metrics.h"

static const char ROUTE_INFO[] = "/infrastructures/{InfId}";
static const char ROUTE_VERSION[] = "/version";

static int setup(void **state)
{
  struct metrics *m;
  struct imc_err err = {0};

  if (metrics_new(&m, &err) != 0)
    return -1;
  *state = m;
  return 0;
}

static int teardown(void **state)
{
  metrics_free(*state);
  return 0;
}

/* The rendered text (caller frees). */
static char *render_view(struct metrics *m, const struct metrics_view *v)
{
  struct imc_buf b;
  char *text;

  imc_buf_init(&b, 1024 * 1024);
  metrics_render(m, v, &b);
  assert_int_equal(imc_buf_err(&b), 0);
  text = imc_buf_take(&b, NULL);
  assert_non_null(text);
  return text;
}

static char *render(struct metrics *m, const struct imc_engine_counts *counts)
{
  return render_view(m, &(struct metrics_view){.engine = counts, .in_flight = 1});
}

static void assert_has_line(const char *text, const char *line)
{
  const char *p = text;
  size_t n = strlen(line);

  while ((p = strstr(p, line)) != NULL) {
    if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
      return;
    p += n;
  }
  fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void observe(struct metrics *m, const char *api, const char *method, const char *route,
                    unsigned status, bool failed, double seconds)
{
  metrics_end(m, api, method, route, status, failed, seconds);
}

static void test_metrics_counts_requests_by_route_and_status(void **state)
{
  struct metrics *m = *state;
  char *text;

  observe(m, "rest", "GET", ROUTE_INFO, 200, false, 0.001);
  observe(m, "rest", "GET", ROUTE_INFO, 200, false, 0.002);
  observe(m, "rest", "GET", ROUTE_INFO, 404, true, 0.001);
  observe(m, "rest", "GET", ROUTE_VERSION, 200, false, 0.0001);
  text = render(m, NULL);
  assert_has_line(text, "imcd_requests_total{api=\"rest\",method=\"GET\",route=\"/infrastructures/"
                        "{InfId}\",status=\"200\",outcome=\"ok\"} 2");
  assert_has_line(text, "imcd_requests_total{api=\"rest\",method=\"GET\",route=\"/infrastructures/"
                        "{InfId}\",status=\"404\",outcome=\"failed\"} 1");
  assert_has_line(text, "imcd_requests_total{api=\"rest\",method=\"GET\",route=\"/version\","
                        "status=\"200\",outcome=\"ok\"} 1");
  imc_free(text);
}

static void test_metrics_xmlrpc_false_answer_is_failed_with_200(void **state)
{
  struct metrics *m = *state;
  char *text;

  observe(m, "xmlrpc", "POST", "GetInfrastructureInfo", 200, true, 0.001);
  text = render(m, NULL);
  assert_has_line(text, "imcd_requests_total{api=\"xmlrpc\",method=\"POST\",route=\""
                        "GetInfrastructureInfo\",status=\"200\",outcome=\"failed\"} 1");
  imc_free(text);
}

static void test_metrics_unmatched_request_has_route_none_and_no_method(void **state)
{
  struct metrics *m = *state;
  char *text;

  observe(m, "rest", "BREW", NULL, 404, true, 0.001);
  text = render(m, NULL);
  assert_has_line(text, "imcd_requests_total{api=\"rest\",route=\"none\",status=\"404\","
                        "outcome=\"failed\"} 1");
  assert_null(strstr(text, "BREW"));
  imc_free(text);
}

static void test_metrics_histogram_buckets_are_cumulative(void **state)
{
  struct metrics *m = *state;
  char *text;

  observe(m, "rest", "GET", ROUTE_VERSION, 200, false, 0.0004); /* le 0.0005 */
  observe(m, "rest", "GET", ROUTE_VERSION, 200, false, 0.003);  /* le 0.005 */
  observe(m, "rest", "GET", ROUTE_VERSION, 200, false, 0.005);  /* le 0.005: bounds included */
  observe(m, "rest", "GET", ROUTE_VERSION, 200, false, 60);     /* only +Inf */
  text = render(m, NULL);
  assert_has_line(text, "imcd_request_duration_seconds_bucket{api=\"rest\",method=\"GET\","
                        "route=\"/version\",le=\"0.0005\"} 1");
  assert_has_line(text, "imcd_request_duration_seconds_bucket{api=\"rest\",method=\"GET\","
                        "route=\"/version\",le=\"0.0025\"} 1");
  assert_has_line(text, "imcd_request_duration_seconds_bucket{api=\"rest\",method=\"GET\","
                        "route=\"/version\",le=\"0.005\"} 3");
  assert_has_line(text, "imcd_request_duration_seconds_bucket{api=\"rest\",method=\"GET\","
                        "route=\"/version\",le=\"10\"} 3");
  assert_has_line(text, "imcd_request_duration_seconds_bucket{api=\"rest\",method=\"GET\","
                        "route=\"/version\",le=\"+Inf\"} 4");
  assert_has_line(text, "imcd_request_duration_seconds_count{api=\"rest\",method=\"GET\","
                        "route=\"/version\"} 4");
  assert_has_line(text, "imcd_request_duration_seconds_sum{api=\"rest\",method=\"GET\","
                        "route=\"/version\"} 60.008400");
  imc_free(text);
}

static void test_metrics_in_flight_is_the_servers_count(void **state)
{
  char *text = render_view(*state, &(struct metrics_view){.in_flight = 3});

  assert_has_line(text, "imcd_requests_in_flight 3");
  assert_has_line(text, "# TYPE imcd_requests_in_flight gauge");
  imc_free(text);
}

static void test_metrics_renders_engine_counts_for_every_state(void **state)
{
  struct metrics *m = *state;
  struct imc_engine_counts c = {.jobs_queued = 3, .jobs_running = 2};
  char *text;

  c.infras[IMC_VM_CONFIGURED] = 5;
  c.vms[IMC_VM_RUNNING] = 7;
  text = render(m, &c);
  assert_has_line(text, "imcd_infrastructures{state=\"configured\"} 5");
  assert_has_line(text, "imcd_infrastructures{state=\"pending\"} 0");
  assert_has_line(text, "imcd_vms{state=\"running\"} 7");
  assert_has_line(text, "imcd_vms{state=\"unconfigured\"} 0");
  assert_has_line(text, "imcd_jobs_queued 3");
  assert_has_line(text, "imcd_jobs_running 2");
  assert_has_line(text, "# TYPE imcd_infrastructures gauge");
  imc_free(text);
}

static void test_metrics_without_engine_has_no_engine_series(void **state)
{
  char *text = render(*state, NULL);

  assert_null(strstr(text, "imcd_infrastructures"));
  assert_null(strstr(text, "imcd_jobs_queued"));
  assert_non_null(strstr(text, "process_resident_memory_bytes "));
  assert_null(strstr(text, "process_resident_memory_bytes 0\n"));
  imc_free(text);
}

/* A job that says it started and then waits to be let go. */
struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool started, open;
};

static void gated_job(void *arg)
{
  struct gate *g = arg;

  pthread_mutex_lock(&g->mu);
  g->started = true;
  pthread_cond_broadcast(&g->cv);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

static void test_metrics_show_the_blocking_lane(void **state)
{
  struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
  struct imc_pool *pool;
  struct imc_err err = {0};
  char *text;

  assert_int_equal(imc_pool_start(1, &pool, &err), 0);
  assert_int_equal(imc_pool_submit(pool, gated_job, &g, &err), 0);
  pthread_mutex_lock(&g.mu);
  while (!g.started)
    pthread_cond_wait(&g.cv, &g.mu);
  pthread_mutex_unlock(&g.mu);
  /* The one worker is held: a second job waits in the queue. */
  assert_int_equal(imc_pool_submit(pool, gated_job, &g, &err), 0);
  text = render_view(*state, &(struct metrics_view){.blocking = pool});
  assert_has_line(text, "imcd_blocking_requests_queued 1");
  assert_has_line(text, "imcd_blocking_requests_running 1");
  pthread_mutex_lock(&g.mu);
  g.open = true;
  pthread_cond_broadcast(&g.cv);
  pthread_mutex_unlock(&g.mu);
  imc_pool_stop(pool);
  imc_free(text);
}

static void test_metrics_full_tables_count_dropped(void **state)
{
  struct metrics *m = *state;
  static const char routes[600]; /* 600 distinct static addresses, one per "route" */
  char *text;

  for (size_t i = 0; i < sizeof routes; i++)
    observe(m, "rest", "GET", &routes[i], 200, false, 0.001);
  text = render(m, NULL);
  /* 512 counter series and 128 histograms fit: 600 - 128 observations lost a histogram. */
  assert_has_line(text, "imcd_metrics_dropped_total 472");
  imc_free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_metrics_counts_requests_by_route_and_status, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_metrics_xmlrpc_false_answer_is_failed_with_200, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_metrics_unmatched_request_has_route_none_and_no_method,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_metrics_histogram_buckets_are_cumulative, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_metrics_in_flight_is_the_servers_count, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_metrics_renders_engine_counts_for_every_state, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_metrics_without_engine_has_no_engine_series, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_metrics_show_the_blocking_lane, setup, teardown),
    cmocka_unit_test_setup_teardown(test_metrics_full_tables_count_dropped, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
