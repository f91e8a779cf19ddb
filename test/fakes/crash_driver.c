/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The process test/integration/test_crash.py kills with SIGKILL, and the checker it runs
 * after each kill.
 *
 *   crash_driver run STORE CLOUD_DIR ACKFILE
 *     Deploys for ever on FakeCloud (whose cloud is CLOUD_DIR, outside this process): each
 *     round creates an infrastructure of three VMs (two systems deployed 2 and 1 times) and
 *     appends "created ID" to ACKFILE once the call has returned; every third round then
 *     appends "destroying ID", destroys it, and appends "destroyed ID" once that returned.
 *   crash_driver check STORE CLOUD_DIR ACKFILE
 *     Opens the engine on the store (which settles what the kills left open), asks the state
 *     of every infrastructure (bringing the cloud's credentials, which settles the launch
 *     intents that need them), then prints one line per broken promise and exits 1 if any:
 *       (a) an infrastructure acknowledged as created, and never handed to destroy, is listed;
 *       (b) every live instance of the cloud is a VM the store has, not destroyed, of a
 *           listed infrastructure: no cloud resource is forgotten;
 *       (c) no VM is in state unknown, and no VM row is still a launch intent;
 *       (d) the VMs of an infrastructure of (a) are three, launched, and live in the cloud.
 *     The last line gives the counts: "infras N vms N live-instances N".
 * An infrastructure whose destroy was interrupted may or may not be listed: the kill may have
 * come before or after the destroy was recorded.  Both are right, and (b) and (c) still hold
 * for it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakecloud.h"
#include "imc/alloc.h"
#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/config.h"
#include "imc/engine.h"
#include "imc/radl.h"
#include "imc/store.h"

#define VMS_PER_INFRA 3
#define MAX_ACKS      (64u * 1024 * 1024)

static const char deployment[] =
  "network net (outbound = 'no')\n"
  "system front (\n"
  "  cpu.count >= 1 and memory.size >= 512M and net_interface.0.connection = 'net' and\n"
  "  disk.0.os.name = 'linux' and disk.0.image.url = 'fake://img'\n"
  ")\n"
  "system wn (\n"
  "  cpu.count >= 1 and memory.size >= 512M and net_interface.0.connection = 'net' and\n"
  "  disk.0.os.name = 'linux' and disk.0.image.url = 'fake://img'\n"
  ")\n"
  "deploy front 2\n"
  "deploy wn 1\n";

struct env {
  struct imc_config cfg;
  bool cfg_init;
  struct imc_store *store;
  struct imc_engine *eng;
  struct imc_auth auth;
  const struct imc_connector *connectors[3];
};

static void die(const char *what, const struct imc_err *err)
{
  fprintf(stderr, "crash_driver: %s: %s\n", what, err->msg);
  exit(2);
}

static void add_entry(struct imc_auth *a, const char *const *kv, size_t n)
{
  struct imc_auth_entry *e = imc_auth_add_entry(a);
  struct imc_err err = {.code = IMC_E_NOMEM, .msg = "out of memory"};

  if (!e)
    die("auth", &err);
  for (size_t i = 0; i + 1 < n; i += 2)
    if (imc_auth_entry_set(e, kv[i], kv[i + 1]))
      die("auth", &err);
}

/* The caller and the cloud: built entry by entry, so the directory needs no quoting.
 * serial: one cloud call at a time (MAX_SIMULTANEOUS_LAUNCHES = 1), for the checker, whose
 * findings do not depend on it and whose every call would otherwise start threads. */
static void env_open(struct env *env, const char *store, const char *cloud, bool serial)
{
  const char *const im[] = {"id",       "im",    "type",     "InfrastructureManager",
                            "username", "crash", "password", "crash-pass"};
  const char *const fc[] = {"id",  "fc",       "type", "FakeCloud", "host",
                            cloud, "username", "u",    "password",  "p"};
  struct imc_engine_opts opts = {0};
  struct imc_err err = {0};

  memset(env, 0, sizeof *env);
  env->connectors[0] = &imc_fake_cloud;
  env->connectors[1] = imc_connector_find(imc_connectors_builtin, "Dummy");
  imc_auth_init(&env->auth);
  add_entry(&env->auth, im, sizeof im / sizeof im[0]);
  add_entry(&env->auth, fc, sizeof fc / sizeof fc[0]);
  env->cfg_init = true;
  if (imc_config_init(&env->cfg, &err))
    die("config", &err);
  if (serial)
    env->cfg.max_simultaneous_launches = 1;
  if (imc_store_open(store, &env->store, &err))
    die("store", &err);
  opts.config = &env->cfg;
  opts.connectors = env->connectors;
  opts.store = env->store;
  if (imc_engine_open(&opts, &env->eng, &err))
    die("engine", &err);
}

static void env_close(struct env *env)
{
  imc_engine_close(env->eng);
  imc_store_close(env->store);
  imc_auth_cleanup(&env->auth);
  if (env->cfg_init)
    imc_config_cleanup(&env->cfg);
}

/* --- run ---------------------------------------------------------------------------------- */

/* One write(2) on an O_APPEND descriptor: the line is whole or absent when we are killed. */
static void ack(int fd, const char *what, const char *id)
{
  char line[128];
  int n = snprintf(line, sizeof line, "%s %s\n", what, id);

  if (n < 0 || (size_t)n >= sizeof line || write(fd, line, (size_t)n) != n) {
    fprintf(stderr, "crash_driver: cannot write the acknowledgement file: %s\n", strerror(errno));
    exit(2);
  }
}

static int run(const char *store, const char *cloud, const char *ackfile)
{
  struct env env;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX];
  int fd;

  if (radl_parse("crash.radl", deployment, strlen(deployment), NULL, &doc, &err))
    die("radl", &err);
  if ((fd = open(ackfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
    fprintf(stderr, "crash_driver: cannot open %s: %s\n", ackfile, strerror(errno));
    return 2;
  }
  env_open(&env, store, cloud, false);
  for (unsigned long round = 1;; round++) {
    if (imc_infra_create(env.eng, doc, &env.auth, false, id, &err))
      die("create", &err);
    ack(fd, "created", id);
    if (round % 3 != 0)
      continue;
    ack(fd, "destroying", id);
    if (imc_infra_destroy(env.eng, id, &env.auth, false, false, &err))
      die("destroy", &err);
    ack(fd, "destroyed", id);
  }
}

/* --- check -------------------------------------------------------------------------------- */

/* A sorted set of strings, for lookups among thousands of ids. */
struct set {
  char **v;
  size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_add(struct set *s, const char *str, size_t len)
{
  struct imc_err err = {.code = IMC_E_NOMEM, .msg = "out of memory"};

  if (imc_grow((void **)&s->v, &s->cap, s->n + 1, sizeof *s->v) ||
      !(s->v[s->n] = imc_strndup(str, len)))
    die("set", &err);
  s->n++;
}

static void set_sort(struct set *s)
{
  if (s->n)
    qsort(s->v, s->n, sizeof *s->v, cmp_str);
}

static bool set_has(const struct set *s, const char *str)
{
  return s->n && bsearch(&str, s->v, s->n, sizeof *s->v, cmp_str) != NULL;
}

static void set_free(struct set *s)
{
  for (size_t i = 0; i < s->n; i++)
    imc_free(s->v[i]);
  imc_free(s->v);
  memset(s, 0, sizeof *s);
}

/* What the driver acknowledged.  A last line without its newline was being written when the
 * driver died: the call it reports had returned, but a torn line cannot be read. */
struct acks {
  struct set created, destroying; /* created and never handed to destroy; handed to it */
};

static void read_acks(const char *path, struct acks *a)
{
  struct set created = {0}, destroying = {0};
  struct imc_buf b;
  struct imc_err err = {0};
  const char *p, *nl;

  imc_buf_init(&b, MAX_ACKS);
  if (imc_read_file(path, &b, &err))
    die("acks", &err);
  for (p = imc_buf_cstr(&b); (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
    const char *sp = memchr(p, ' ', (size_t)(nl - p));

    if (!sp)
      continue;
    if ((size_t)(sp - p) == 7 && memcmp(p, "created", 7) == 0)
      set_add(&created, sp + 1, (size_t)(nl - sp - 1));
    else if ((size_t)(sp - p) == 10 && memcmp(p, "destroying", 10) == 0)
      set_add(&destroying, sp + 1, (size_t)(nl - sp - 1));
  }
  imc_buf_free(&b);
  set_sort(&destroying);
  memset(a, 0, sizeof *a);
  for (size_t i = 0; i < created.n; i++)
    if (!set_has(&destroying, created.v[i]))
      set_add(&a->created, created.v[i], strlen(created.v[i]));
  set_sort(&a->created);
  a->destroying = destroying;
  set_free(&created);
}

struct tally {
  unsigned long findings;
  size_t vms;
};

static void finding(struct tally *t, const char *fmt, ...) IMC_PRINTF(2, 3);

static void finding(struct tally *t, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  t->findings++;
}

/* (c) from the engine: no VM in state unknown. */
static void check_states(struct env *env, const struct imc_strs *ids, struct tally *t)
{
  for (size_t i = 0; i < ids->n; i++) {
    struct imc_infra_state s = {0};
    struct imc_err err = {0};

    if (imc_infra_state(env->eng, ids->v[i], &env->auth, &s, &err)) {
      finding(t, "infrastructure %s: state: %s", ids->v[i], err.msg);
      continue;
    }
    for (size_t k = 0; k < s.n; k++)
      if (s.vm_states[k] == IMC_VM_UNKNOWN)
        finding(t, "infrastructure %s: VM %u is in state unknown", ids->v[i], s.vm_ids[k]);
    imc_infra_state_free(&s);
  }
}

/* (c) and (d) from the store's rows; collects the instances of VMs not destroyed. */
static void check_rows(struct env *env, const struct imc_strs *ids, const struct set *live,
                       const struct acks *acks, struct set *known, struct tally *t)
{
  for (size_t i = 0; i < ids->n; i++) {
    struct imc_store_vm *rows = NULL;
    struct imc_err err = {0};
    bool acked = set_has(&acks->created, ids->v[i]);
    size_t n = 0, alive = 0;

    if (imc_store_get_vms(env->store, ids->v[i], &rows, &n, &err)) {
      finding(t, "infrastructure %s: store: %s", ids->v[i], err.msg);
      continue;
    }
    for (size_t k = 0; k < n; k++) {
      const struct imc_store_vm *r = &rows[k];

      if (r->launch == IMC_LAUNCH_INTENT)
        finding(t, "infrastructure %s: VM %u is still a launch intent", ids->v[i], r->id);
      if (r->destroyed)
        continue;
      alive++;
      if (r->instance_id)
        set_add(known, r->instance_id, strlen(r->instance_id));
      if (acked &&
          (r->launch != IMC_LAUNCH_DONE || !r->instance_id || !set_has(live, r->instance_id)))
        finding(t, "infrastructure %s: VM %u, created and acknowledged, is not live in the cloud",
                ids->v[i], r->id);
    }
    if (acked && alive != VMS_PER_INFRA)
      finding(t, "infrastructure %s: %zu VMs, %d were created and acknowledged", ids->v[i], alive,
              VMS_PER_INFRA);
    t->vms += alive;
    imc_store_vms_free(rows, n);
  }
}

static int check(const char *store, const char *cloud, const char *ackfile)
{
  struct env env;
  struct acks acks;
  struct imc_strs ids = {0};
  struct set listed = {0}, live = {0}, known = {0};
  struct tally t = {0};
  struct imc_err err = {0};
  char **inst = NULL;
  size_t ninst = 0;

  read_acks(ackfile, &acks);
  env_open(&env, store, cloud, true);
  if (imc_infra_list(env.eng, &env.auth, NULL, &ids, &err))
    die("list", &err);
  for (size_t i = 0; i < ids.n; i++)
    set_add(&listed, ids.v[i], strlen(ids.v[i]));
  set_sort(&listed);
  for (size_t i = 0; i < acks.created.n; i++) /* (a) */
    if (!set_has(&listed, acks.created.v[i]))
      finding(&t, "infrastructure %s was created and acknowledged but is not listed",
              acks.created.v[i]);
  check_states(&env, &ids, &t);
  /* The cloud is read after the engine settled everything it could. */
  if (fakecloud_live(cloud, &inst, &ninst, &err))
    die("cloud", &err);
  for (size_t i = 0; i < ninst; i++)
    set_add(&live, inst[i], strlen(inst[i]));
  set_sort(&live);
  check_rows(&env, &ids, &live, &acks, &known, &t);
  set_sort(&known);
  for (size_t i = 0; i < ninst; i++) /* (b) */
    if (!set_has(&known, inst[i]))
      finding(&t, "instance %s is live in the cloud but no VM of the store has it", inst[i]);
  printf("infras %zu vms %zu live-instances %zu\n", ids.n, t.vms, ninst);
  fakecloud_ids_free(inst, ninst);
  imc_strs_free(&ids);
  set_free(&listed);
  set_free(&live);
  set_free(&known);
  set_free(&acks.created);
  set_free(&acks.destroying);
  env_close(&env);
  return t.findings ? 1 : 0;
}

int main(int argc, char **argv)
{
  if (argc == 5 && strcmp(argv[1], "run") == 0)
    return run(argv[2], argv[3], argv[4]);
  if (argc == 5 && strcmp(argv[1], "check") == 0)
    return check(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: crash_driver run|check STORE CLOUD_DIR ACKFILE\n");
  return 2;
}
