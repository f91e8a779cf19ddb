/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The local backend: the engine in this process on a SQLite store in the user's data
 * directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "imc/alloc.h"
#include "imc/config.h"
#include "imc/connector.h"
#include "imc/ctxt_driver.h"
#include "imc/radl.h"
#include "imc/store.h"
#include "worker.h"

#define IDLE_POLL_NS 100000000L /* how often close looks whether the engine's work is done */

struct local {
  struct imc_config cfg;
  struct imc_store *store;
  struct imc_engine *engine;
  const struct imc_auth *auth;
  struct imc_contextualizer ctxr;
  char touched[IMC_INFRA_ID_MAX]; /* the infrastructure the operation changes, to report on */
};

/* The engine's options from the environment, as imcd reads them (IMC_PLAYBOOK_RETRIES, ...):
 * local mode has no configuration file of its own.  The command line's own IMC_ variables
 * are left out, or the option reader would take IMC_DATA_DIR for a misspelt IMC_DATA_DB. */
static int engine_env(struct imc_config *cfg, struct imc_err *err)
{
  static const char *const own[] = {"IMC_DATA_DIR=", "IMC_CONFIG=", "IMC_AUTH_FILE=",
                                    "IMC_XMLRPC_URL=", "IMC_REST_URL="};
  size_t n = 0, k = 0;
  char **env;
  int r;

  while (environ[n])
    n++;
  if (!(env = imc_calloc(n + 1, sizeof *env)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    bool skip = false;

    for (size_t o = 0; o < sizeof own / sizeof own[0] && !skip; o++)
      skip = strncmp(environ[i], own[o], strlen(own[o])) == 0;
    if (!skip)
      env[k++] = environ[i];
  }
  r = imc_config_env(cfg, env, err);
  imc_free(env);
  return r;
}

/* The directory of the local store: $IMC_DATA_DIR, else $XDG_DATA_HOME/imc, else
 * ~/.local/share/imc.  Created (0700) with its parents under $HOME when missing. */
int cli_local_data_dir(char *out, size_t size, struct imc_err *err)
{
  const char *v;
  int n;

  if ((v = getenv("IMC_DATA_DIR")) && *v)
    n = snprintf(out, size, "%s", v);
  else if ((v = getenv("XDG_DATA_HOME")) && *v)
    n = snprintf(out, size, "%s/imc", v);
  else if ((v = getenv("HOME")) && *v)
    n = snprintf(out, size, "%s/.local/share/imc", v);
  else
    return imc_fail(err, IMC_E_INVAL, "no HOME: set IMC_DATA_DIR to the local store's directory");
  if (n < 0 || (size_t)n >= size)
    return imc_fail(err, IMC_E_INVAL, "the local store's directory name is too long");
  for (char *p = out + 1; *p; p++) { /* mkdir -p */
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(out, 0700) != 0 && errno != EEXIST) {
      int e = errno;

      *p = '/';
      return imc_fail(err, IMC_E_IO, "cannot create %s: %s", out, strerror(e));
    }
    *p = '/';
  }
  if (mkdir(out, 0700) != 0 && errno != EEXIST)
    return imc_fail(err, IMC_E_IO, "cannot create %s: %s", out, strerror(errno));
  return 0;
}

static int l_list(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_list(l->engine, l->auth, filter, ids, err);
}

static int l_create(void *ctx, const struct imc_doc *doc, const char *text, size_t len, bool async,
                    char id[IMC_INFRA_ID_MAX], struct imc_err *err)
{
  struct local *l = ctx;
  /* In-process work ends with the process, so local mode waits for it: in the operation, or
   * after it in the background worker of --detach. */
  int r = imc_infra_create(l->engine, doc, l->auth, cli_global.detach, id, err);

  if (r == 0)
    snprintf(l->touched, sizeof l->touched, "%s", id);
  return r;
}

static int l_destroy(void *ctx, const char *id, bool force, struct imc_err *err)
{
  struct local *l = ctx;

  snprintf(l->touched, sizeof l->touched, "%s", id);
  return imc_infra_destroy(l->engine, id, l->auth, force, cli_global.detach, err);
}

static int l_info(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_info(l->engine, id, l->auth, vms, err);
}

/* doc printed as RADL text onto out, then freed. */
static int print_doc(struct imc_doc *doc, struct imc_buf *out, struct imc_err *err)
{
  int r = radl_print(doc, out, err);

  imc_doc_free(doc);
  return r;
}

static int l_vm_radl(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                     struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_doc *doc = NULL;
  int r = imc_vm_info(l->engine, id, vm, l->auth, &doc, err);

  return r ? r : print_doc(doc, out, err);
}

static int l_radl(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_doc *doc = NULL;
  int r = imc_infra_radl(l->engine, id, l->auth, &doc, err);

  return r ? r : print_doc(doc, out, err);
}

static int l_contmsg(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_contmsg(l->engine, id, l->auth, false, out, err);
}

static int l_state(void *ctx, const char *id, struct imc_infra_state *st, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_state(l->engine, id, l->auth, st, err);
}

static int l_version(void *ctx, struct imc_buf *out, struct imc_err *err)
{
  imc_buf_adds(out, imc_engine_version());
  return 0;
}

static int l_add(void *ctx, const char *id, const struct imc_doc *doc, const char *text, size_t len,
                 int context, struct imc_vm_ids *vms, struct imc_err *err)
{
  struct local *l = ctx;

  snprintf(l->touched, sizeof l->touched, "%s", id);
  return imc_infra_add(l->engine, id, doc, l->auth, context != 0, vms, err);
}

static int l_remove(void *ctx, const char *id, const struct imc_vm_ids *vms, int context,
                    struct imc_err *err)
{
  struct local *l = ctx;
  unsigned removed = 0;

  return imc_infra_remove(l->engine, id, vms->v, vms->n, l->auth, context != 0, &removed, err);
}

static int l_alter(void *ctx, const char *id, unsigned vm, const struct imc_doc *doc,
                   const char *text, size_t len, struct imc_buf *out, struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_doc *res = NULL;
  int r = imc_vm_alter(l->engine, id, vm, doc, l->auth, &res, err);

  return r ? r : print_doc(res, out, err);
}

static int l_reconfigure(void *ctx, const char *id, const struct imc_doc *doc, const char *text,
                         size_t len, const struct imc_vm_ids *vms, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_reconfigure(l->engine, id, doc, vms->v, vms->n, l->auth, err);
}

static int l_power(void *ctx, const char *id, const unsigned *vm, enum imc_power op,
                   struct imc_err *err)
{
  struct local *l = ctx;

  return vm ? imc_vm_power(l->engine, id, *vm, op, l->auth, err)
            : imc_infra_power(l->engine, id, op, l->auth, err);
}

static int l_vm_property(void *ctx, const char *id, unsigned vm, const char *name,
                         struct imc_buf *out, struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_feature *f = NULL;
  json_t *v;
  int r = imc_vm_property(l->engine, id, vm, name, l->auth, &f, err);

  if (r)
    return r;
  if ((v = radl_feature_json(f)))
    radl_py_str(v, out);
  json_decref(v);
  imc_feature_free(f);
  return v && !imc_buf_err(out) ? 0 : imc_fail(err, IMC_E_NOMEM, "out of memory");
}

static int l_vm_contmsg(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                        struct imc_err *err)
{
  struct local *l = ctx;

  return imc_vm_contmsg(l->engine, id, vm, l->auth, out, err);
}

static int l_outputs(void *ctx, const char *id, json_t **out, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_outputs(l->engine, id, l->auth, out, err);
}

static int l_export(void *ctx, const char *id, bool delete_it, struct imc_buf *out,
                    struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_export(l->engine, id, l->auth, delete_it, out, err);
}

static int l_import(void *ctx, const char *text, size_t len, char id[IMC_INFRA_ID_MAX],
                    struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_import(l->engine, text, len, l->auth, id, err);
}

static int l_cloud_images(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_image *images = NULL;
  size_t n = 0;
  int r = imc_cloud_images(l->engine, cloud_id, NULL, l->auth, &images, &n, err);

  if (r == 0 && !(*out = imc_images_json(images, n)))
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  imc_images_free(images, n);
  return r;
}

static int l_cloud_quotas(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_quota quotas[IMC_MAX_QUOTAS];
  size_t n = 0;
  int r = imc_cloud_quotas(l->engine, cloud_id, l->auth, quotas, &n, err);

  if (r == 0 && !(*out = imc_quotas_json(quotas, n)))
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
  return r;
}

static int l_estimate(void *ctx, const struct imc_doc *doc, const char *text, size_t len,
                      json_t **out, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_estimate(l->engine, doc, l->auth, out, err);
}

static int l_stats(void *ctx, const char *init_date, const char *end_date, json_t **out,
                   struct imc_err *err)
{
  struct local *l = ctx;

  return imc_stats(l->engine, init_date, end_date, l->auth, out, err);
}

static int l_change_auth(void *ctx, const char *id, const struct imc_auth_entry *new_im,
                         bool overwrite, struct imc_err *err)
{
  struct local *l = ctx;
  struct imc_auth one = {.entries = (struct imc_auth_entry *)new_im, .n = 1, .cap = 1};

  return imc_infra_change_auth(l->engine, id, &one, overwrite, l->auth, err);
}

static int l_owners(void *ctx, const char *id, struct imc_strs *names, struct imc_err *err)
{
  struct local *l = ctx;

  return imc_infra_owners(l->engine, id, l->auth, names, err);
}

/* After an interrupt: says where the infrastructure stands and leaves without waiting for the
 * rest (what has not started stays recorded, as after a crash). */
static void leave_interrupted(struct local *l)
{
  struct imc_infra_state st = {0};
  struct imc_err err = {0};

  imc_ctxr_close(&l->ctxr); /* its ansible-playbook runs stop; their VMs are unconfigured */
  if (!l->touched[0]) {
    fputs("imc: interrupted\n", stderr);
  } else if (imc_infra_state(l->engine, l->touched, l->auth, &st, &err) != 0) {
    fprintf(stderr, "imc: interrupted: infrastructure %s: %s\n", l->touched, err.msg);
  } else {
    fprintf(stderr, "imc: interrupted: infrastructure %s is %s", l->touched,
            imc_vm_state_name(st.state));
    for (size_t i = 0; i < st.n; i++)
      fprintf(stderr, "%s VM %u %s", i ? "," : ";", st.vm_ids[i],
              imc_vm_state_name(st.vm_states[i]));
    fprintf(stderr, ". What is left stays recorded: `imc getstate %s` shows it, `imc "
                    "reconfigure %s` configures it again, `imc destroy %s` removes it.\n",
            l->touched, l->touched, l->touched);
    imc_infra_state_free(&st);
  }
  fflush(NULL);
  _exit(130);
}

/* The engine's background work (async jobs, contextualization) dies with this process, so it
 * ends first. */
static void wait_idle(struct local *l)
{
  const struct timespec tick = {0, IDLE_POLL_NS};
  bool said = cli_global.quiet || cli_global.json;

  for (;;) {
    struct imc_engine_counts n;
    struct imc_err err = {0};

    if (imc_engine_counts(l->engine, &n, &err) != 0 ||
        n.jobs_queued + n.jobs_running + n.ctxt_running == 0)
      return;
    if (!said && n.ctxt_running && l->touched[0]) {
      fprintf(stderr, "imc: configuring %zu VM(s) of %s with Ansible; `imc getcontmsg %s` shows "
                      "the steps\n", n.ctxt_running, l->touched, l->touched);
      said = true;
    }
    if (cli_interrupted())
      leave_interrupted(l);
    nanosleep(&tick, NULL);
  }
}

static void l_close(void *ctx)
{
  struct local *l = ctx;

  if (!l)
    return;
  if (l->engine)
    wait_idle(l);
  imc_ctxr_close(&l->ctxr); /* its runs report to the engine: they end first */
  imc_engine_close(l->engine);
  imc_store_close(l->store);
  imc_config_cleanup(&l->cfg);
  imc_free(l);
}

int cli_backend_local(const struct imc_auth *auth, struct cli_backend *out, struct imc_err *err)
{
  struct local *l = imc_calloc(1, sizeof *l);
  /* Shared: another imc process (a --detach worker) may work on the same store. */
  struct imc_engine_opts o = {.connectors = imc_connectors_builtin, .shared = true};
  char dir[4000], url[4096];
  int r;

  if (!l)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  l->auth = auth;
  o.config = &l->cfg;
  if ((r = imc_config_init(&l->cfg, err)) != 0 || (r = engine_env(&l->cfg, err)) != 0 ||
      (r = imc_config_check(&l->cfg, err)) != 0 ||
      (r = cli_local_data_dir(dir, sizeof dir, err)) != 0)
    goto out;
  snprintf(url, sizeof url, "sqlite://%s/imc.db", dir);
  if ((r = imc_store_open(url, &l->store, err)) != 0)
    goto out;
  snprintf(url, sizeof url, "%s/ctxt", dir);
  if ((r = imc_ctxr_open(&l->cfg, url, &l->ctxr, err)) != 0)
    goto out;
  o.contextualizer = &l->ctxr;
  o.store = l->store;
  r = imc_engine_open(&o, &l->engine, err);
out:
  if (r) {
    l_close(l);
    return r;
  }
  *out = (struct cli_backend){.ctx = l,
                              .list = l_list,
                              .create = l_create,
                              .destroy = l_destroy,
                              .info = l_info,
                              .vm_radl = l_vm_radl,
                              .radl = l_radl,
                              .contmsg = l_contmsg,
                              .state = l_state,
                              .version = l_version,
                              .close = l_close,
                              .add = l_add,
                              .remove = l_remove,
                              .alter = l_alter,
                              .reconfigure = l_reconfigure,
                              .power = l_power,
                              .vm_property = l_vm_property,
                              .vm_contmsg = l_vm_contmsg,
                              .outputs = l_outputs,
                              .export_data = l_export,
                              .import_data = l_import,
                              .cloud_images = l_cloud_images,
                              .cloud_quotas = l_cloud_quotas,
                              .estimate = l_estimate,
                              .stats = l_stats,
                              .change_auth = l_change_auth,
                              .owners = l_owners};
  return 0;
}
