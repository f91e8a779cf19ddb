/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RADL reader and writer benchmark.  Generates realistic documents of 100, 1,000 and 10,000
 * systems in memory (each system with ~15 features, an application, two interfaces, a disk,
 * a soft group, a ten-line recipe, a contextualize item and a deploy) and reads the small
 * real-sized documents of test/data/radl/valid.  For each it reports the best parse time of
 * several runs and the throughput it gives, the allocations one parse makes, and the check
 * and print times.  The times are CLOCK_MONOTONIC; "best of" hides the noise of a shared
 * machine, and the generated sizes show whether the reader stays linear.
 * usage: bench_radl [DATA_DIR]   (default: the source tree's test/data/radl/valid) */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/err.h"
#include "imc/radl.h"

#ifndef IMC_BENCH_DATA
#define IMC_BENCH_DATA "test/data/radl/valid"
#endif

#define BENCH_MAX_FILES    256
#define BENCH_TARGET_BYTES (96.0 * 1024 * 1024) /* parse about this much per row */
#define BENCH_MIN_RUNS     3
#define BENCH_MAX_RUNS     2000

struct sample {
  char name[48];
  size_t bytes;         /* input size */
  size_t systems;       /* systems in the document */
  double parse_s;       /* best parse time */
  double check_s;       /* best check time */
  double print_s;       /* best print time */
  size_t print_len;     /* bytes printed */
  unsigned long allocs; /* allocations of one parse */
  int runs;
};

static double now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct imc_err *err)
{
  fprintf(stderr, "bench_radl: %s: %s\n", what, err ? err->msg : "out of memory");
  exit(1);
}

/* --- the generated document ---------------------------------------------------------------- */

static const char *const flavours[] = {"ubuntu", "rocky", "debian", "almalinux"};
static const char *const versions[] = {"22.04", "9", "12", "8.8"};
static const char *const apps[] = {"nginx", "postgresql", "redis", "openmpi", "slurm-wlm"};

static void gen_system(struct imc_buf *b, size_t i)
{
  size_t k = i % 4;

  imc_buf_addf(
    b,
    "system node%zu (\n"
    "  cpu.arch = 'x86_64' and\n"
    "  cpu.count >= %zu and\n"
    "  memory.size >= %zuG and\n"
    "  net_interface.0.connection = 'private' and\n"
    "  net_interface.0.dns_name = 'node%zu-#N#' and\n"
    "  net_interface.1.connection = 'public' and\n"
    "  disk.0.os.name = 'linux' and\n"
    "  disk.0.os.flavour = '%s' and\n"
    "  disk.0.os.version >= '%s' and\n"
    "  disk.0.image.url = ['ost://keystone.example.org/%08zx-1111-4222-8333-444455556666', "
    "'one://one.example.org/%zu'] and\n"
    "  disk.0.os.credentials.username = 'cloudadm' and\n"
    "  disk.0.os.credentials.new.password = 'Bench!Pass%zu' and\n"
    "  disk.1.size = %zuGB and\n"
    "  disk.1.device = 'vdb' and\n"
    "  disk.1.fstype = 'ext4' and\n"
    "  disk.1.mount_path = '/data%zu' and\n"
    "  instance_tags = 'tier=%zu,owner=bench' and\n"
    "  disk.0.applications contains (name = '%s' and version >= '1.%zu') and\n"
    "  soft %zu (\n"
    "    memory.size >= %zuG\n"
    "  )\n"
    ")\n\n",
    i, 1 + i % 8, 2 + i % 30, i, flavours[k], versions[k], i, i, i, 10 + i % 500, i, i % 3,
    apps[i % 5], i % 10, 10 + i % 90, 4 + i % 60);
}

static void gen_configure(struct imc_buf *b, size_t i)
{
  imc_buf_addf(b,
               "configure node%zu (\n"
               "@begin\n"
               "---\n"
               "- hosts: node%zu\n"
               "  become: true\n"
               "  vars:\n"
               "    service_port: %zu\n"
               "  tasks:\n"
               "    - name: install the service\n"
               "      ansible.builtin.package: name=%s state=present\n"
               "    - name: open the port\n"
               "      ansible.builtin.command: echo \"port {{ service_port }}\"\n"
               "@end\n"
               ")\n\n",
               i, i, 8000 + i % 1000, apps[i % 5]);
}

/* A document of n systems: two networks, n systems, n configures, one contextualize with n
 * items and n deploys. */
static void gen_doc(struct imc_buf *b, size_t n)
{
  imc_buf_adds(b, "description bench (name = 'generated benchmark document')\n\n");
  imc_buf_adds(b, "network public (outbound = 'yes' and outports = '22/tcp,80/tcp,443/tcp')\n");
  imc_buf_adds(b, "network private (outbound = 'no')\n\n");
  for (size_t i = 0; i < n; i++)
    gen_system(b, i);
  for (size_t i = 0; i < n; i++)
    gen_configure(b, i);
  imc_buf_adds(b, "contextualize 3600 (\n  option ansible_version = '2.16.3'\n");
  for (size_t i = 0; i < n; i++)
    imc_buf_addf(b, "  system node%zu configure node%zu step %zu\n", i, i, 1 + i % 5);
  imc_buf_adds(b, ")\n\n");
  for (size_t i = 0; i < n; i++)
    imc_buf_addf(b, "deploy node%zu %zu\n", i, 1 + i % 4);
}

/* --- measuring ----------------------------------------------------------------------------- */

/* Warnings (stray_quote.radl has one) are part of the work measured, not of the output. */
static void count_warning(void *ctx, const char *msg)
{
  unsigned long *n = ctx;

  (void)msg;
  (*n)++;
}

static struct imc_doc *parse_once(const char *name, const struct imc_buf *text)
{
  static unsigned long warnings;
  struct radl_parse_opts opts = {.strict = false, .warn = count_warning, .warn_ctx = &warnings};
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_parse(name, imc_buf_cstr(text), text->len, &opts, &doc, &err) != 0)
    die(name, &err);
  return doc;
}

static int runs_for(size_t bytes)
{
  double r = BENCH_TARGET_BYTES / (double)(bytes ? bytes : 1);

  if (r < BENCH_MIN_RUNS)
    return BENCH_MIN_RUNS;
  return r > BENCH_MAX_RUNS ? BENCH_MAX_RUNS : (int)r;
}

static void measure(const char *name, const struct imc_buf *text, struct sample *s)
{
  struct imc_buf out;
  struct imc_err err;
  unsigned long before;
  struct imc_doc *doc;

  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "%s", name);
  s->bytes = text->len;
  s->runs = runs_for(text->len);
  s->parse_s = s->check_s = s->print_s = 1e30;
  before = imc_alloc_count();
  doc = parse_once(name, text);
  s->allocs = imc_alloc_count() - before;
  s->systems = doc->nsystems;
  imc_doc_free(doc);
  imc_buf_init(&out, IMC_MAX_DOC);
  for (int r = 0; r < s->runs; r++) {
    double t0 = now(), t1, t2, t3;

    doc = parse_once(name, text);
    t1 = now();
    imc_err_clear(&err);
    if (radl_check(doc, &err) != 0)
      die(name, &err);
    t2 = now();
    imc_buf_reset(&out);
    if (radl_print(doc, &out, &err) != 0)
      die(name, &err);
    t3 = now();
    imc_doc_free(doc);
    s->parse_s = t1 - t0 < s->parse_s ? t1 - t0 : s->parse_s;
    s->check_s = t2 - t1 < s->check_s ? t2 - t1 : s->check_s;
    s->print_s = t3 - t2 < s->print_s ? t3 - t2 : s->print_s;
  }
  s->print_len = out.len;
  imc_buf_free(&out);
}

static double mbps(size_t bytes, double secs)
{
  return secs > 0 ? (double)bytes / secs / (1024.0 * 1024.0) : 0;
}

static void print_header(void)
{
  printf("%-30s %9s %7s %5s %10s %10s %10s %9s %10s %10s\n", "document", "KiB", "systems", "runs",
         "parse ms", "parse MB/s", "allocs", "check ms", "print ms", "print MB/s");
}

static void print_row(const struct sample *s)
{
  printf("%-30s %9.1f %7zu %5d %10.3f %10.1f %10lu %9.3f %10.3f %10.1f\n", s->name,
         (double)s->bytes / 1024.0, s->systems, s->runs, s->parse_s * 1e3,
         mbps(s->bytes, s->parse_s), s->allocs, s->check_s * 1e3, s->print_s * 1e3,
         mbps(s->print_len, s->print_s));
}

/* --- the real-sized documents -------------------------------------------------------------- */

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Measures every *.radl of dir and adds the totals to *sum (a row of its own). */
static void bench_dir(const char *dir, struct sample *sum)
{
  char *names[BENCH_MAX_FILES], path[4096];
  size_t n = 0, len;
  struct dirent *de;
  DIR *d = opendir(dir);

  memset(sum, 0, sizeof *sum);
  snprintf(sum->name, sizeof sum->name, "all valid/ documents");
  if (d == NULL) {
    fprintf(stderr, "bench_radl: cannot open %s\n", dir);
    exit(1);
  }
  while ((de = readdir(d)) != NULL && n < BENCH_MAX_FILES) {
    len = strlen(de->d_name);
    if (len > 5 && strcmp(de->d_name + len - 5, ".radl") == 0 &&
        (names[n] = imc_strdup(de->d_name)) != NULL)
      n++;
  }
  closedir(d);
  qsort(names, n, sizeof names[0], cmp_names);
  for (size_t i = 0; i < n; i++) {
    struct imc_buf text;
    struct imc_err err;
    struct sample s;

    imc_buf_init(&text, IMC_MAX_DOC);
    imc_err_clear(&err);
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    if (imc_read_file(path, &text, &err) != 0)
      die(path, &err);
    measure(names[i], &text, &s);
    print_row(&s);
    sum->bytes += s.bytes;
    sum->systems += s.systems;
    sum->parse_s += s.parse_s;
    sum->check_s += s.check_s;
    sum->print_s += s.print_s;
    sum->print_len += s.print_len;
    sum->allocs += s.allocs;
    sum->runs = s.runs > sum->runs ? s.runs : sum->runs;
    imc_buf_free(&text);
    imc_free(names[i]);
  }
}

int main(int argc, char **argv)
{
  static const size_t sizes[] = {100, 1000, 10000};
  struct sample gen[3], sum;
  const char *dir = argc > 1 ? argv[1] : IMC_BENCH_DATA;

  printf("RADL benchmark: best of several runs; MB = 2^20 bytes; allocs = one parse\n\n");
  print_header();
  for (size_t i = 0; i < 3; i++) {
    struct imc_buf text;
    char name[48];

    imc_buf_init(&text, IMC_MAX_DOC);
    gen_doc(&text, sizes[i]);
    if (imc_buf_err(&text) != 0)
      die("generating the document", NULL);
    snprintf(name, sizeof name, "generated %zu systems", sizes[i]);
    measure(name, &text, &gen[i]);
    print_row(&gen[i]);
    imc_buf_free(&text);
  }
  printf("\n");
  print_header();
  bench_dir(dir, &sum);
  printf("\n");
  print_row(&sum);
  printf("\nlinearity (parse ns per byte): 100 -> %.2f, 1,000 -> %.2f, 10,000 -> %.2f "
         "(10,000 / 100 = %.2f)\n",
         gen[0].parse_s * 1e9 / (double)gen[0].bytes, gen[1].parse_s * 1e9 / (double)gen[1].bytes,
         gen[2].parse_s * 1e9 / (double)gen[2].bytes,
         (gen[2].parse_s / (double)gen[2].bytes) / (gen[0].parse_s / (double)gen[0].bytes));
  printf("allocations per system: 100 -> %.1f, 1,000 -> %.1f, 10,000 -> %.1f\n",
         (double)gen[0].allocs / 100.0, (double)gen[1].allocs / 1000.0,
         (double)gen[2].allocs / 10000.0);
  return 0;
}
