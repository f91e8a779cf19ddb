/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imcd: IM's XML-RPC and REST APIs over libimc.  Reads the configuration, opens the store
 * and the engine, listens, and on SIGTERM or SIGINT stops accepting, lets the requests in
 * flight and the background work finish, and closes the store (everything is already
 * written: a kill -9 loses nothing either). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "imc/alloc.h"
#include "imc/ctxt_driver.h"
#include "imc/log.h"
#include "imc/store.h"
#include "logfile.h"
#include "metrics.h"

extern char **environ;

static const char usage[] = "Usage: imcd [-c FILE] [--check] [--help] [--version]\n";

static void help(void)
{
  fputs(usage, stdout);
  fputs("\nimcd serves GRyCAP IM's XML-RPC and REST APIs (IM 1.19.2) over imc's engine.\n\n"
        "  -c, --config FILE  the configuration (default " IMC_CONFIG_PATH "; the defaults\n"
        "                     apply when that file does not exist)\n"
        "      --check        read and check the configuration, then exit\n"
        "  -h, --help         show this help and exit\n"
        "  -V, --version      print the version and exit\n"
        "\nIMC_<OPTION> environment variables override the file (doc/configuration.md).\n"
        "Exit status: 0 stopped by a signal, 1 failed to start, 2 usage error.\n",
        stdout);
}

static struct logfile *log_file;

/* One line, "2026-01-02 03:04:05 INFO message", to the log file (ctx), or to standard error
 * when ctx is NULL. */
static void log_line(enum imc_log_level level, const char *file, int line, const char *msg,
                     void *ctx)
{
  static const char *const names[] = {"ERROR", "WARNING", "INFO", "DEBUG"};
  char when[32], text[8192];
  time_t now = time(NULL);
  struct tm tm;

  gmtime_r(&now, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  snprintf(text, sizeof text, "%s %s %s", when, names[level], msg);
  if (ctx) {
    logfile_write(ctx, text);
  } else {
    fprintf(stderr, "%s\n", text);
    fflush(stderr);
  }
}

/* LOG_FILE, rotated at LOG_FILE_MAX_SIZE, or standard error when it cannot be opened (said
 * once). */
static void open_log(const struct imc_config *cfg)
{
  struct imc_err err = {0};

  imc_log_set_level(imc_config_log_level(cfg));
  if (*cfg->log_file &&
      logfile_open(cfg->log_file, cfg->log_file_max_size, &log_file, &err) == 0) {
    imc_log_set_sink(log_line, log_file);
    return;
  }
  imc_log_set_sink(log_line, NULL);
  if (*cfg->log_file)
    imc_log(IMC_LOG_WARN, "%s: logging to standard error", err.msg);
}

static int load_config(const char *path, struct imc_config *cfg, struct imc_err *err)
{
  int r;

  if ((r = imc_config_init(cfg, err)) != 0)
    return r;
  r = path ? imc_config_load_file(cfg, path, err)
           : imc_config_load_optional(cfg, IMC_CONFIG_PATH, NULL, err);
  if (r == 0)
    r = imc_config_env(cfg, environ, err);
  if (r == 0)
    r = imc_config_check(cfg, err);
  return r;
}

/* The directory of the default SQLite file is created on first start (a fresh install). */
static void make_store_dir(const char *url)
{
  char dir[4096];
  char *slash;

  if (strstr(url, "://") && strncmp(url, "sqlite://", 9) != 0)
    return;
  if (strncmp(url, "sqlite://", 9) == 0)
    url += 9;
  snprintf(dir, sizeof dir, "%s", url);
  if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
    return;
  *slash = '\0';
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    imc_log(IMC_LOG_WARN, "cannot create %s: %s", dir, strerror(errno));
}

/* CTXT_WORK_DIR, or by default ctxt/ beside a SQLite store (/var/lib/imc/ctxt for another). */
static void ctxt_work_dir(const struct imc_config *cfg, char *out, size_t size)
{
  const char *db = cfg->data_db, *slash;

  if (cfg->ctxt_work_dir && *cfg->ctxt_work_dir) {
    snprintf(out, size, "%s", cfg->ctxt_work_dir);
    return;
  }
  if (strncmp(db, "sqlite://", 9) == 0)
    db += 9;
  if (strstr(db, "://") || !(slash = strrchr(db, '/'))) {
    snprintf(out, size, "%s", strstr(db, "://") ? "/var/lib/imc/ctxt" : "ctxt");
    return;
  }
  snprintf(out, size, "%.*s/ctxt", (int)(slash - db), db);
}

static int serve(const struct imc_config *cfg, struct imc_err *err)
{
  struct imc_contextualizer ctxr = {0};
  char work_dir[4096];
  struct imc_store *store = NULL;
  struct imc_engine *engine = NULL;
  struct http *http = NULL;
  struct imcd d = {.cfg = cfg};
  struct imc_engine_opts o = {.config = cfg, .connectors = imc_connectors_builtin};
  sigset_t stop;
  int r, sig = 0;

  /* Only this thread takes the stop signals: block them before any thread starts. */
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  make_store_dir(cfg->data_db);
  if ((r = imc_store_open(cfg->data_db, &store, err)) != 0)
    goto out;
  o.store = store;
  o.shared = strstr(cfg->data_db, "postgres") == cfg->data_db; /* several imcd share it */
  ctxt_work_dir(cfg, work_dir, sizeof work_dir);
  if ((r = imc_ctxr_open(cfg, work_dir, &ctxr, err)) != 0)
    goto out;
  o.contextualizer = &ctxr;
  if ((r = imc_engine_open(&o, &engine, err)) != 0)
    goto out;
  d.engine = engine;
  if (cfg->metrics && (r = metrics_new(&d.metrics, err)) != 0)
    goto out;
  if ((r = http_start(&d, &http, err)) != 0)
    goto out;
  imc_log(IMC_LOG_INFO, "imcd %s ready", imc_engine_version());
  sigwait(&stop, &sig);
  imc_log(IMC_LOG_INFO, "signal %d: stopping (requests in flight finish first)", sig);
out:
  http_stop(http);
  imc_ctxr_close(&ctxr); /* its runs report to the engine: they end first */
  imc_engine_close(engine);
  imc_store_close(store);
  metrics_free(d.metrics);
  return r;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 'k'},
    {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  const char *path = NULL;
  bool check_only = false;
  struct imc_config cfg = {0};
  struct imc_err err = {0};
  int c, r;

  while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
    switch (c) {
    case 'c':
      path = optarg;
      break;
    case 'k':
      check_only = true;
      break;
    case 'h':
      help();
      return 0;
    case 'V':
      printf("imcd %s\n", imc_engine_version());
      return 0;
    default:
      fputs(usage, stderr);
      return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "imcd: unexpected argument '%s'\n%s", argv[optind], usage);
    return 2;
  }
  if (load_config(path, &cfg, &err) != 0) {
    fprintf(stderr, "imcd: %s\n", err.msg);
    imc_config_cleanup(&cfg);
    return 1;
  }
  if (check_only) {
    printf("imcd: configuration ok\n");
    imc_config_cleanup(&cfg);
    return 0;
  }
  open_log(&cfg);
  r = serve(&cfg, &err);
  if (r)
    imc_log(IMC_LOG_ERROR, "%s", err.msg);
  imc_log_set_sink(NULL, NULL);
  logfile_close(log_file);
  imc_config_cleanup(&cfg);
  if (r)
    fprintf(stderr, "imcd: %s\n", err.msg);
  return r ? 1 : 0;
}
