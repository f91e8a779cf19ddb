/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Engine benchmark: creates N infrastructures of 10 Dummy VMs each (synchronously, as IM's
 * CreateInfrastructure), then lists them once, asks each one's info (GetInfrastructureInfo)
 * and state (GetInfrastructureState, twice in a row: once when every VM is due a look at
 * its cloud, then again at once), and destroys them all.  The store is SQLite in a fresh temporary file,
 * the configuration the defaults.  It prints one line per phase (wall seconds, microseconds
 * per infrastructure; per-call median and 99th percentile where calls are timed one by one),
 * the peak RSS, and a last `row` line for bench/run's table.
 * usage: bench_engine N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/auth.h"
#include "imc/config.h"
#include "imc/engine.h"
#include "imc/log.h"
#include "imc/radl.h"
#include "imc/store.h"

#define VMS_PER_INFRA 10
#define MAX_INFRAS    1000000

static const char deployment[] =
  "system node (\n"
  "  cpu.count >= 1 and memory.size >= 1G and disk.0.os.name = 'linux' and\n"
  "  disk.0.image.url = 'mock0://linux.for.ev.er/image'\n"
  ")\n"
  "deploy node 10\n";

struct bench {
  char dir[64], db[96];
  struct imc_config cfg;
  struct imc_store *store;
  struct imc_engine *eng;
  struct imc_auth auth;
  struct imc_doc *doc;
};

static double now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct imc_err *err)
{
  fprintf(stderr, "bench_engine: %s: %s\n", what, err ? err->msg : "out of memory");
  exit(1);
}

/* A server writes its log to a file: the lines are formatted (that cost is measured), then
 * dropped rather than filling the terminal. */
static void drop_log(enum imc_log_level level, const char *file, int line, const char *msg,
                     void *ctx)
{
}

static void bench_open(struct bench *b)
{
  static const char auth[] =
    "id = im; type = InfrastructureManager; username = bench; password = bench-pass\n"
    "id = dummy; type = Dummy\n";
  struct imc_engine_opts opts = {0};
  struct imc_err err = {0};

  snprintf(b->dir, sizeof b->dir, "/tmp/imc-bench-XXXXXX");
  if (!mkdtemp(b->dir)) {
    perror("bench_engine: mkdtemp");
    exit(1);
  }
  snprintf(b->db, sizeof b->db, "%s/imc.db", b->dir);
  imc_auth_init(&b->auth);
  if (imc_auth_parse("bench-auth", auth, strlen(auth), IMC_AUTH_CLIENT, &b->auth, &err) ||
      radl_parse("bench.radl", deployment, strlen(deployment), NULL, &b->doc, &err) ||
      imc_config_init(&b->cfg, &err) || imc_store_open(b->db, &b->store, &err))
    die("set-up", &err);
  opts.config = &b->cfg;
  opts.connectors = imc_connectors_builtin;
  opts.store = b->store;
  if (imc_engine_open(&opts, &b->eng, &err))
    die("engine", &err);
}

static void bench_close(struct bench *b)
{
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  char name[128];

  imc_engine_close(b->eng);
  imc_store_close(b->store);
  imc_doc_free(b->doc);
  imc_auth_cleanup(&b->auth);
  imc_config_cleanup(&b->cfg);
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    snprintf(name, sizeof name, "%s%s", b->db, suffixes[i]);
    unlink(name);
  }
  rmdir(b->dir);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* The q-quantile (0..1) of n sorted values, nearest rank. */
static double quantile(const double *v, size_t n, double q)
{
  size_t k = (size_t)(q * (double)n + 0.5);

  return v[k == 0 ? 0 : (k > n ? n - 1 : k - 1)];
}

static void phase(const char *name, double wall, size_t n, const double *calls)
{
  printf("%-8s %10.3f %14.1f", name, wall, wall * 1e6 / (double)n);
  if (calls)
    printf(" %11.1f %9.1f", quantile(calls, n, 0.5) * 1e6, quantile(calls, n, 0.99) * 1e6);
  printf("\n");
}

static void nap(double seconds)
{
  struct timespec ts = {.tv_sec = (time_t)seconds,
                        .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};

  while (nanosleep(&ts, &ts) != 0)
    ;
}

/* imc_infra_state on every infrastructure, twice in a row: the first call looks at the cloud
 * (the VMs are due), the second gets what the first fetched.  The time of each call goes to
 * due[i] and cached[i]; the totals to *t_due and *t_cached. */
static void time_states(struct bench *b, char (*ids)[IMC_INFRA_ID_MAX], size_t n, double *due,
                        double *cached, double *t_due, double *t_cached)
{
  struct imc_err err = {0};
  double *t[2] = {due, cached}, t0;

  *t_due = *t_cached = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < 2; k++) {
      struct imc_infra_state s = {0};

      t0 = now();
      if (imc_infra_state(b->eng, ids[i], &b->auth, &s, &err))
        die("state", &err);
      t[k][i] = now() - t0;
      *(k ? t_cached : t_due) += t[k][i];
      imc_infra_state_free(&s);
    }
}

int main(int argc, char **argv)
{
  struct bench b;
  struct imc_strs list = {0};
  struct imc_err err = {0};
  struct rusage ru;
  char(*ids)[IMC_INFRA_ID_MAX];
  double *info, *state, *cached, t0, t_create, t_created, t_list, t_info, t_state, t_cached;
  double t_destroy, waited;
  char *end = NULL;
  size_t n;

  n = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
  if (argc != 2 || *end || n == 0 || n > MAX_INFRAS) {
    fprintf(stderr, "usage: bench_engine N   (1 <= N <= %u)\n", MAX_INFRAS);
    return 2;
  }
  ids = imc_calloc(n, sizeof *ids);
  info = imc_calloc(n, sizeof *info);
  state = imc_calloc(n, sizeof *state);
  cached = imc_calloc(n, sizeof *cached);
  if (!ids || !info || !state || !cached)
    die("set-up", NULL);
  imc_log_set_sink(drop_log, NULL);
  memset(&b, 0, sizeof b);
  bench_open(&b);

  t0 = now();
  for (size_t i = 0; i < n; i++)
    if (imc_infra_create(b.eng, b.doc, &b.auth, false, ids[i], &err))
      die("create", &err);
  t_created = now();
  t_create = t_created - t0;

  t0 = now();
  if (imc_infra_list(b.eng, &b.auth, NULL, &list, &err))
    die("list", &err);
  t_list = now() - t0;
  if (list.n != n) {
    fprintf(stderr, "bench_engine: list gave %zu infrastructures, not %zu\n", list.n, n);
    return 1;
  }
  imc_strs_free(&list);

  t_info = 0;
  for (size_t i = 0; i < n; i++) {
    struct imc_vm_ids vms = {0};

    t0 = now();
    if (imc_infra_info(b.eng, ids[i], &b.auth, &vms, &err))
      die("info", &err);
    info[i] = now() - t0;
    t_info += info[i];
    if (vms.n != VMS_PER_INFRA) {
      fprintf(stderr, "bench_engine: %s has %zu VMs, not %d\n", ids[i], vms.n, VMS_PER_INFRA);
      return 1;
    }
    imc_vm_ids_free(&vms);
  }

  /* Each VM's state is looked up at its cloud at most once per VM_INFO_UPDATE_FREQUENCY
   * seconds.  The state phase starts once every VM is due a look, however long the creates
   * took, so that its figures do not depend on N. */
  waited = (double)b.cfg.vm_info_update_frequency + 1 - (now() - t_created);
  if (waited > 0)
    nap(waited);
  time_states(&b, ids, n, state, cached, &t_state, &t_cached);

  t0 = now();
  for (size_t i = 0; i < n; i++)
    if (imc_infra_destroy(b.eng, ids[i], &b.auth, false, false, &err))
      die("destroy", &err);
  t_destroy = now() - t0;

  qsort(info, n, sizeof *info, cmp_double);
  qsort(state, n, sizeof *state, cmp_double);
  qsort(cached, n, sizeof *cached, cmp_double);
  getrusage(RUSAGE_SELF, &ru);
  printf("engine benchmark: %zu infrastructures of %d Dummy VMs, SQLite store, default "
         "configuration\n",
         n, VMS_PER_INFRA);
  printf("%-8s %10s %14s %11s %9s\n", "phase", "wall s", "us per infra", "median us", "p99 us");
  phase("create", t_create, n, NULL);
  phase("list", t_list, n, NULL);
  phase("info", t_info, n, info);
  phase("state", t_state, n, state);
  phase("state2", t_cached, n, cached);
  phase("destroy", t_destroy, n, NULL);
  printf("state: every VM due a look at its cloud (after waiting %.1f s); state2: the same "
         "call again at once\n",
         waited > 0 ? waited : 0);
  printf("peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
  /* For bench/run: N, create s, list s, info median and p99 us, state and state2 median us,
   * destroy s, peak RSS MB. */
  printf("row %zu %.3f %.6f %.1f %.1f %.1f %.1f %.3f %.1f\n", n, t_create, t_list,
         quantile(info, n, 0.5) * 1e6, quantile(info, n, 0.99) * 1e6, quantile(state, n, 0.5) * 1e6,
         quantile(cached, n, 0.5) * 1e6, t_destroy, (double)ru.ru_maxrss / 1024.0);
  bench_close(&b);
  imc_free(ids);
  imc_free(info);
  imc_free(state);
  imc_free(cached);
  return 0;
}
