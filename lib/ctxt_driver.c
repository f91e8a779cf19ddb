/* SPDX-License-Identifier: GPL-3.0-or-later */
/* struct imc_contextualizer over SSH and Ansible: one thread per run (start never blocks),
 * joined when the next run starts or at close.  See imc/ctxt_driver.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctxt_job.h"
#include "imc/alloc.h"
#include "imc/ctxt_driver.h"
#include "imc/log.h"

#define CTXR_PROGRAM     "ansible-playbook"
#define CTXR_SSH_PAUSE_S 5
#define CTXR_CP_NAME     27 /* "d07a471614.gHwibkIp9MtwTBBU": ssh's socket while it binds */

/* --- small helpers --------------------------------------------------------------------- */

/* One line of the log of VM vm (-1: the infrastructure's). */
static void job_vlog(struct job *j, int vm, const char *fmt, va_list ap) IMC_PRINTF(3, 0);
static void job_vlog(struct job *j, int vm, const char *fmt, va_list ap)
{
  struct imc_buf b;

  imc_buf_init(&b, 4096);
  imc_buf_vaddf(&b, fmt, ap);
  imc_buf_addc(&b, '\n');
  if (!imc_buf_err(&b))
    imc_engine_ctxt_log(j->run->e, j->run->id, vm, imc_buf_cstr(&b), NULL);
  imc_buf_free(&b);
}

static void ilog(struct job *j, const char *fmt, ...) IMC_PRINTF(2, 3);
static void ilog(struct job *j, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  job_vlog(j, -1, fmt, ap);
  va_end(ap);
}

static int write_buf(const char *dir, const char *name, struct imc_buf *b, mode_t mode,
                     struct imc_err *err)
{
  int r = ctxt_write_file(dir, name, imc_buf_cstr(b), mode, err);

  imc_buf_free(b);
  return r;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void rm_tree(const char *dir)
{
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_dir(const char *path, struct imc_err *err)
{
  if (mkdir(path, 0700) != 0 && errno != EEXIST)
    return imc_fail(err, IMC_E_IO, "cannot create %s: %s", path, strerror(errno));
  return 0;
}

/* --- logs ----------------------------------------------------------------------------- */

/* Replaces every password of the run by "***" in line (in place, same length or shorter). */
static void scrub(const struct job *j, struct imc_buf *line)
{
  for (size_t i = 0; i < j->n; i++) {
    const char *secrets[2] = {j->nodes[i].password, j->nodes[i].new_password};

    for (size_t k = 0; k < 2; k++) {
      size_t sl = secrets[k] ? strlen(secrets[k]) : 0, from = 0;
      char *at;

      if (sl < 3)
        continue;
      /* The search goes on after each "***", which may itself match a secret. */
      while (from < line->len &&
             (at = memmem(line->data + from, line->len - from, secrets[k], sl)) != NULL) {
        memcpy(at, "***", 3);
        memmove(at + 3, at + sl, line->len - (size_t)(at - line->data) - sl);
        line->len -= sl - 3;
        line->data[line->len] = '\0';
        from = (size_t)(at - line->data) + 3;
      }
    }
  }
}

static ssize_t node_by_name(const struct job *j, const char *name, size_t n)
{
  for (size_t i = 0; i < j->n; i++) {
    if (strlen(j->nodes[i].name) == n && memcmp(j->nodes[i].name, name, n) == 0)
      return (ssize_t)i;
  }
  return -1;
}

/* Ansible's own messages (not about one host) go to the infrastructure's log: warnings and
 * errors, with the lines that continue them (up to a blank line or a line about a host). */
static bool infra_line(struct job *j, const char *line, size_t n)
{
  static const char *const starts[] = {"ERROR!", "[ERROR]", "[WARNING]", "[DEPRECATION"};
  struct imc_str host;
  char *rh;
  bool failed;

  if (!n || ctxt_host_line(line, n, &host)) {
    j->in_msg = false;
    return false;
  }
  if (ctxt_recap_line(line, n, &rh, &failed)) {
    imc_free(rh);
    j->in_msg = false;
    return false;
  }
  for (size_t k = 0; k < sizeof starts / sizeof starts[0] && !j->in_msg; k++)
    j->in_msg = n >= strlen(starts[k]) && memcmp(line, starts[k], strlen(starts[k])) == 0;
  if (!j->in_msg)
    return false;
  imc_buf_add(&j->infra, line, n);
  imc_buf_addc(&j->infra, '\n');
  return true;
}

static void route_line(struct job *j, const char *line, size_t n)
{
  struct imc_str host;
  ssize_t i = -1;
  char *rh = NULL;
  bool failed;

  if ((n >= 6 && memcmp(line, "TASK [", 6) == 0) || (n >= 6 && memcmp(line, "PLAY [", 6) == 0)) {
    snprintf(j->header, sizeof j->header, "%.*s", (int)n, line);
    memset(j->header_sent, 0, j->n * sizeof *j->header_sent);
    j->last = -1;
    j->in_msg = false;
    return;
  }
  if (infra_line(j, line, n))
    return;
  if (ctxt_host_line(line, n, &host)) {
    i = j->last = node_by_name(j, host.p, host.n);
  } else if (ctxt_recap_line(line, n, &rh, &failed)) {
    i = node_by_name(j, rh, strlen(rh));
    j->last = -1;
    imc_free(rh);
    if (i >= 0) {
      j->ok[i] = !failed;
      j->bad[i] = failed;
    }
  } else if (n && (line[0] == ' ' || line[0] == '}' || line[0] == ']')) {
    i = j->last; /* the rest of a result printed on several lines */
  } else {
    j->last = -1;
  }
  if (i < 0)
    return;
  if (!j->header_sent[i] && j->header[0]) {
    imc_buf_addf(&j->logs[i], "%s\n", j->header);
    j->header_sent[i] = true;
  }
  imc_buf_add(&j->logs[i], line, n);
  imc_buf_addc(&j->logs[i], '\n');
}

static void flush_logs(struct job *j)
{
  if (j->infra.len) {
    scrub(j, &j->infra);
    imc_engine_ctxt_log(j->run->e, j->run->id, -1, imc_buf_cstr(&j->infra), NULL);
    imc_buf_reset(&j->infra);
  }
  for (size_t i = 0; i < j->n; i++) {
    if (!j->logs[i].len)
      continue;
    scrub(j, &j->logs[i]);
    imc_engine_ctxt_log(j->run->e, j->run->id, (int)j->nodes[i].vmid, imc_buf_cstr(&j->logs[i]),
                        NULL);
    imc_buf_reset(&j->logs[i]);
  }
}

/* ctxt_run's output callback: per-VM lines, and recap results. */
static void on_output(void *ctx, const char *text, size_t len)
{
  struct job *j = ctx;
  const char *p = text, *end = text + len;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

    route_line(j, p, n);
    p += n + (nl ? 1 : 0);
  }
  flush_logs(j);
}

/* --- the run -------------------------------------------------------------------------- */

void ctxt_job_pause(struct job *j, double secs)
{
  double until = ctxt_now() + secs;

  while (ctxt_now() < until && !atomic_load(&j->run->c->stop))
    usleep(100 * 1000);
}

static void vm_log(struct job *j, size_t i, const char *fmt, ...) IMC_PRINTF(3, 4);
static void vm_log(struct job *j, size_t i, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  job_vlog(j, (int)j->nodes[i].vmid, fmt, ap);
  va_end(ap);
}

/* Waits until node i answers over SSH (and records its host key). */
static int wait_ssh(struct job *j, size_t i, double until)
{
  const struct ctxt_node *n = &j->nodes[i];
  const struct imc_config *cfg = j->run->c->cfg;
  struct ssh_target proxy = {0}, t = {.host = n->address,
                                      .port = n->port,
                                      .user = n->user,
                                      .password = n->password,
                                      .known_hosts = j->known_hosts,
                                      .timeout = 20};
  struct imc_buf key, pkey, ppass;
  long errors = 0;
  int r = IMC_E_TIMEOUT;
  struct imc_err e;

  imc_buf_init(&key, 1024 * 1024);
  imc_buf_init(&pkey, 1024 * 1024);
  imc_buf_init(&ppass, 64 * 1024);
  if (n->key_file && imc_read_file(n->key_file, &key, NULL) == 0)
    t.key = imc_buf_cstr(&key);
  if (n->proxy) {
    proxy = (struct ssh_target){.host = n->proxy->host,
                                .port = n->proxy->port,
                                .user = n->proxy->user,
                                .known_hosts = j->known_hosts,
                                .timeout = 20};
    if (n->proxy->key_file && imc_read_file(n->proxy->key_file, &pkey, NULL) == 0)
      proxy.key = imc_buf_cstr(&pkey);
    if (n->proxy->password_file && imc_read_file(n->proxy->password_file, &ppass, NULL) == 0)
      proxy.password = imc_buf_cstr(&ppass);
    t.proxy = &proxy;
  }
  while (ctxt_now() < until && !atomic_load(&j->run->c->stop)) {
    imc_err_clear(&e);
    if ((r = ssh_probe(&t, &e)) == 0)
      break;
    vm_log(j, i, "Waiting for SSH access: %s", e.msg);
    /* A changed host key or refused credentials do not get better by waiting long. */
    if (r == IMC_E_AUTH && ++errors >= cfg->max_ssh_errors)
      break;
    ctxt_job_pause(j, CTXR_SSH_PAUSE_S);
  }
  if (key.data)
    explicit_bzero(key.data, key.len);
  if (pkey.data)
    explicit_bzero(pkey.data, pkey.len);
  if (ppass.data)
    explicit_bzero(ppass.data, ppass.len);
  imc_buf_free(&key);
  imc_buf_free(&pkey);
  imc_buf_free(&ppass);
  return r;
}

static void fail_vm(struct job *j, size_t i, const char *why)
{
  j->target[i] = false;
  vm_log(j, i, "%s", why);
}

static void wait_all_ssh(struct job *j)
{
  double until = ctxt_now() + (double)j->run->c->cfg->wait_ssh_acccess_timeout;

  if (until > j->deadline)
    until = j->deadline;
  ilog(j, "Wait for SSH access to the VMs.");
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i] && wait_ssh(j, i, until) != 0)
      fail_vm(j, i, "ERROR: no SSH access to the VM: it stays unconfigured.");
  }
}

/* The --limit list: the VMs still on track among those a playbook is for. */
static char *limit_of(struct job *j, const bool *which)
{
  struct imc_buf b;

  imc_buf_init(&b, 1024 * 1024);
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i] && which[i])
      imc_buf_addf(&b, "%s%s", b.len ? "," : "", j->nodes[i].name);
  }
  if (imc_buf_err(&b) || !b.len) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

/* Runs a playbook on the nodes of which (still on track), PLAYBOOK_RETRIES times for those
 * that fail; the ones that fail every time leave the run.  A VM fails when its recap line
 * says so, or when the run failed and gave no recap line for it.  Returns false when the run
 * had to be killed (deadline or close). */
static bool run_playbook(struct job *j, const char *label, const char *file, const bool *which)
{
  long tries = j->run->c->cfg->playbook_retries;
  bool *todo = imc_calloc(j->n + 1, sizeof *todo);
  bool alive = true, ran = false;

  if (!todo) {
    ilog(j, "ERROR: out of memory");
    return false;
  }
  memcpy(todo, which, j->n * sizeof *todo);
  for (long t = 0; t < tries && alive; t++) {
    char *limit = limit_of(j, todo);
    struct ctxt_run rq = {.program = CTXR_PROGRAM,
                          .dir = j->dir,
                          .playbook = file,
                          .limit = limit,
                          .control_dir = j->cp,
                          .deadline = j->deadline,
                          .cancel = &j->run->c->stop,
                          .output = on_output,
                          .ctx = j};
    struct imc_err e;
    int status;
    bool timed_out = false, any = false;

    if (!limit)
      break;
    ran = true;
    imc_err_clear(&e);
    memset(j->ok, 0, j->n * sizeof *j->ok);
    memset(j->bad, 0, j->n * sizeof *j->bad);
    ilog(j, "Step %s: running%s.", label, t ? " again for the VMs that failed" : "");
    j->header[0] = '\0';
    if (ctxt_run_playbook(&rq, &status, &timed_out, &e) != 0) {
      ilog(j, "ERROR: step %s: %s", label, e.msg);
      status = -1;
    }
    flush_logs(j);
    imc_free(limit);
    if (status == -1 && (timed_out || atomic_load(&j->run->c->stop))) {
      ilog(j, "ERROR: %s", timed_out ? "Max contextualization time passed" : "stopped");
      alive = false;
      break;
    }
    for (size_t i = 0; i < j->n; i++) {
      todo[i] = todo[i] && j->target[i] && (j->bad[i] || (status != 0 && !j->ok[i]));
      any |= todo[i];
    }
    if (!any)
      break;
  }
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i] && todo[i] && (!alive || j->bad[i] || !j->ok[i])) {
      fail_vm(j, i, "ERROR: the VM failed this step: it stays unconfigured.");
      ilog(j, "Step %s: VM %u failed.", label, j->nodes[i].vmid);
    }
  }
  if (alive && ran)
    ilog(j, "Step %s: done.", label);
  imc_free(todo);
  return alive;
}

/* --- files ---------------------------------------------------------------------------- */

/* Where ssh's ControlMaster sockets go.  A socket path holds at most sun_path bytes and ssh
 * names the socket "<10 hex digits>.<16 random characters>" while it binds it (Ansible's
 * ControlPath): a deep work directory (a long IMC_DATA_DIR, say) gets a short directory of its
 * own under /tmp instead, removed with the run. */
static int control_dir(struct job *j, struct imc_err *err)
{
  const size_t room = sizeof(((struct sockaddr_un *)0)->sun_path);

  if (strlen(j->dir) + sizeof "/cp/" + CTXR_CP_NAME < room) {
    snprintf(j->cp, sizeof j->cp, "%s/cp", j->dir);
    return 0;
  }
  snprintf(j->cp, sizeof j->cp, "/tmp/imc-cp-XXXXXX");
  if (!mkdtemp(j->cp)) {
    int e = errno;

    j->cp[0] = '\0';
    return imc_fail(err, IMC_E_IO, "cannot create a directory under /tmp: %s", strerror(e));
  }
  j->cp_own = true;
  return 0;
}

static int job_dirs(struct job *j, struct imc_err *err)
{
  struct ctxr *c = j->run->c;
  unsigned seq;
  int r;

  pthread_mutex_lock(&c->mu);
  seq = ++c->seq;
  pthread_mutex_unlock(&c->mu);
  if ((size_t)snprintf(j->base, sizeof j->base, "%s/%s", c->work_dir, j->run->id) >=
        sizeof j->base ||
      (size_t)snprintf(j->dir, sizeof j->dir, "%s/run-%u", j->base, seq) >= sizeof j->dir)
    return imc_fail(err, IMC_E_INVAL, "the work directory's path is too long");
  snprintf(j->known_hosts, sizeof j->known_hosts, "%s/known_hosts", j->base);
  snprintf(j->facts, sizeof j->facts, "%s/facts", j->dir);
  rm_tree(j->dir); /* a run of an earlier process that died */
  if ((r = make_dir(j->base, err)) != 0 || (r = make_dir(j->dir, err)) != 0)
    return r;
  snprintf(j->facts, sizeof j->facts, "%s/keys", j->dir);
  if ((r = make_dir(j->facts, err)) != 0)
    return r;
  snprintf(j->facts, sizeof j->facts, "%s/facts", j->dir);
  if ((r = make_dir(j->facts, err)) != 0)
    return r;
  return control_dir(j, err);
}

static int job_files(struct job *j, const struct ctxt_steps *steps, struct imc_err *err)
{
  struct imc_buf b;
  int r;

  imc_buf_init(&b, CTXT_MAX_INVENTORY);
  if ((r = ctxt_inventory(&j->inf, &b, err)) != 0 ||
      (r = write_buf(j->dir, "hosts", &b, 0600, err)) != 0)
    goto out;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if ((r = ctxt_ansible_cfg(&j->inf, j->dir, &b, err)) != 0 ||
      (r = write_buf(j->dir, "ansible.cfg", &b, 0600, err)) != 0)
    goto out;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if ((r = ctxt_basic_playbook(&j->inf, &b, err)) != 0 ||
      (r = write_buf(j->dir, "basic.yml", &b, 0600, err)) != 0)
    goto out;
  for (size_t s = 0; s < steps->n; s++) {
    char name[64];

    for (size_t p = 0; p < steps->v[s].n; p++) {
      char *file = NULL;

      imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
      if ((r = ctxt_recipe_file(j->doc, &steps->v[s].plays[p], &file, &b, err)) == 0)
        r = write_buf(j->dir, file, &b, 0600, err);
      imc_free(file);
      if (r)
        goto out;
    }
    imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
    snprintf(name, sizeof name, "step_%zu.yml", s);
    if ((r = ctxt_step_playbook(j->doc, &steps->v[s], &b, err)) != 0 ||
        (r = write_buf(j->dir, name, &b, 0600, err)) != 0)
      goto out;
  }
out:
  imc_buf_free(&b);
  return r;
}

/* The VMs of the step's systems. */
static void step_nodes(const struct job *j, const struct ctxt_step *st, bool *which)
{
  for (size_t i = 0; i < j->n; i++) {
    which[i] = false;
    for (size_t p = 0; p < st->n; p++)
      which[i] |= strcmp(st->plays[p].system, j->nodes[i].system) == 0;
  }
}

static void job_steps(struct job *j, const struct ctxt_steps *steps)
{
  bool *which = imc_calloc(j->n + 1, sizeof *which);
  struct imc_buf b;
  bool any = false;

  if (!which)
    return;
  for (size_t i = 0; i < j->n; i++)
    which[i] = true;
  if (!run_playbook(j, "basic", "basic.yml", which))
    goto out;
  for (size_t s = 0; s < steps->n; s++) {
    char name[64], label[64];

    snprintf(name, sizeof name, "step_%zu.yml", s);
    snprintf(label, sizeof label, "%g", steps->v[s].step);
    step_nodes(j, &steps->v[s], which);
    if (!run_playbook(j, label, name, which))
      goto out;
  }
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if (ctxt_creds_playbook(&j->inf, &any, &b, NULL) == 0 && any &&
      write_buf(j->dir, "creds.yml", &b, 0600, NULL) == 0) {
    for (size_t i = 0; i < j->n; i++)
      which[i] = j->nodes[i].new_password || j->nodes[i].new_public_key;
    run_playbook(j, "credentials", "creds.yml", which);
  }
  imc_buf_free(&b);
out:
  imc_free(which);
}

static bool sshpass_found(void)
{
  return access("/usr/bin/sshpass", X_OK) == 0 || access("/usr/local/bin/sshpass", X_OK) == 0;
}

static void job_free(struct job *j)
{
  for (size_t i = 0; i < j->n; i++) {
    imc_doc_free(j->infos ? j->infos[i] : NULL);
    if (j->disks)
      imc_free(j->disks[i]);
    if (j->ifaces)
      imc_free(j->ifaces[i]);
    if (j->logs)
      imc_buf_free(&j->logs[i]);
  }
  for (size_t i = 0; i < j->nowned; i++)
    imc_free_secret(j->owned[i]);
  imc_free(j->owned);
  imc_free(j->infos);
  imc_free(j->nodes);
  imc_free(j->proxies);
  imc_free(j->disks);
  imc_free(j->vmids);
  imc_buf_free(&j->infra);
  imc_free(j->ifaces);
  imc_free(j->target);
  imc_free(j->ok);
  imc_free(j->bad);
  imc_free(j->header_sent);
  imc_free(j->logs);
  imc_doc_free(j->doc);
}

/* Sets the targets of systems with `configure X ()` aside (configured at once, as IM). */
static void job_disabled(struct job *j)
{
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i] && ctxt_system_disabled(j->doc, j->nodes[i].system)) {
      j->target[i] = false;
      vm_log(j, i, "Contextualization disabled for system %s.", j->nodes[i].system);
      imc_engine_ctxt_done(j->run->e, j->run->id, j->nodes[i].vmid, true, NULL, NULL);
    }
  }
}

static int job_prepare(struct job *j, struct ctxt_steps *steps, struct imc_err *err)
{
  const char **systems;
  long max = j->run->c->cfg->max_contextualization_time;
  int r;

  if ((r = job_dirs(j, err)) != 0 || (r = ctxt_job_nodes(j, err)) != 0)
    return r;
  if (j->doc->ctxt.max_time.i > 0 && !j->doc->ctxt.max_time.is_float)
    max = (long)j->doc->ctxt.max_time.i;
  j->deadline = ctxt_now() + (double)max;
  j->inf = (struct ctxt_infra){.id = j->run->id,
                               .known_hosts = j->known_hosts,
                               .facts_dir = j->facts,
                               .control_dir = j->cp,
                               .have_sshpass = sshpass_found(),
                               .nodes = j->nodes,
                               .n = j->n,
                               .master = 0};
  if (!(systems = imc_calloc(j->n + 1, sizeof *systems)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < j->n; i++)
    systems[i] = j->nodes[i].system;
  r = ctxt_steps_plan(j->doc, systems, j->n, steps, err);
  imc_free(systems);
  if (!r)
    job_disabled(j);
  if (!r)
    r = job_files(j, steps, err);
  return r;
}

static void job_report(struct job *j, bool all_failed)
{
  for (size_t i = 0; i < j->n; i++) {
    /* A VM that could not be read may have no system: it is not disabled, it failed. */
    bool disabled = j->nodes[i].system && ctxt_system_disabled(j->doc, j->nodes[i].system);
    bool ok = !all_failed && j->target[i];

    if (!ctxt_job_asked(j->run, j->vmids[i]) || disabled)
      continue;
    imc_engine_ctxt_done(j->run->e, j->run->id, j->vmids[i], ok,
                         ok ? "Contextualization finished: the VM is configured.\n"
                            : "Contextualization failed: the VM is unconfigured.\n",
                         NULL);
  }
}

static void *run_main(void *arg)
{
  struct run *run = arg;
  struct job j = {.run = run, .last = -1};
  struct ctxt_steps steps = {0};
  struct imc_err e;
  int r;

  imc_err_clear(&e);
  imc_buf_init(&j.infra, CTXR_MAX_LOG);
  ilog(&j, "Contextualization started (Ansible on this host).");
  if ((r = job_prepare(&j, &steps, &e)) != 0) {
    ilog(&j, "ERROR: contextualization could not start: %s", e.msg);
    if (!j.vmids) {
      /* Nothing known about the VMs: report the ones asked for. */
      for (size_t i = 0; i < run->nvms; i++)
        imc_engine_ctxt_done(run->e, run->id, run->vms[i], false, NULL, NULL);
    } else {
      job_report(&j, true);
    }
  } else {
    wait_all_ssh(&j);
    job_steps(&j, &steps);
    job_report(&j, false);
    ilog(&j, "Contextualization finished.");
  }
  ctxt_steps_free(&steps);
  if (j.dir[0])
    rm_tree(j.dir);
  if (j.cp_own)
    rm_tree(j.cp);
  job_free(&j);
  atomic_store(&run->finished, true);
  return NULL;
}

/* --- the contextualizer ---------------------------------------------------------------- */

static int auth_copy(struct imc_auth *dst, const struct imc_auth *src)
{
  imc_auth_init(dst);
  for (size_t i = 0; src && i < src->n; i++) {
    struct imc_auth_entry *e = imc_auth_add_entry(dst);

    if (!e)
      return IMC_E_NOMEM;
    for (size_t k = 0; k < src->entries[i].n; k++) {
      if (imc_auth_entry_set(e, src->entries[i].kv[k].key, src->entries[i].kv[k].value))
        return IMC_E_NOMEM;
    }
  }
  return 0;
}

static void run_free(struct run *run)
{
  imc_auth_cleanup(&run->auth);
  imc_free(run->id);
  imc_free(run->vms);
  imc_free(run);
}

/* Joins the runs that have finished (they touch c->mu no more).  Under c->mu. */
static void reap_finished(struct ctxr *c)
{
  struct run **pp = &c->runs;

  while (*pp) {
    struct run *run = *pp;

    if (atomic_load(&run->finished)) {
      pthread_join(run->th, NULL);
      *pp = run->next;
      run_free(run);
    } else {
      pp = &run->next;
    }
  }
}

static int ctxr_start(void *ctx, struct imc_engine *e, const char *infra_id, const unsigned *vm_ids,
                      size_t n, const struct imc_auth *auth, struct imc_err *err)
{
  struct ctxr *c = ctx;
  struct run *run = imc_calloc(1, sizeof *run);

  if (!run)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  run->c = c;
  run->e = e;
  run->nvms = n;
  atomic_init(&run->finished, false);
  if (!(run->id = imc_strdup(infra_id)) || (n && !(run->vms = imc_calloc(n, sizeof *run->vms))) ||
      auth_copy(&run->auth, auth)) {
    run_free(run);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  if (n)
    memcpy(run->vms, vm_ids, n * sizeof *vm_ids);
  pthread_mutex_lock(&c->mu);
  reap_finished(c);
  if (atomic_load(&c->stop) || pthread_create(&run->th, NULL, run_main, run) != 0) {
    pthread_mutex_unlock(&c->mu);
    run_free(run);
    return imc_fail(err, IMC_E_INTERNAL, "cannot start the contextualization thread");
  }
  run->next = c->runs;
  c->runs = run;
  pthread_mutex_unlock(&c->mu);
  return 0;
}

int imc_ctxr_open(const struct imc_config *cfg, const char *work_dir,
                  struct imc_contextualizer *out, struct imc_err *err)
{
  struct ctxr *c;

  if (mkdir(work_dir, 0700) != 0 && errno != EEXIST)
    return imc_fail(err, IMC_E_IO, "cannot create %s: %s", work_dir, strerror(errno));
  if (!(c = imc_calloc(1, sizeof *c)) || !(c->work_dir = imc_strdup(work_dir))) {
    imc_free(c);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  ctxt_run_sweep(work_dir);
  c->cfg = cfg;
  pthread_mutex_init(&c->mu, NULL);
  atomic_init(&c->stop, false);
  out->ctx = c;
  out->start = ctxr_start;
  return 0;
}

void imc_ctxr_close(struct imc_contextualizer *cz)
{
  struct ctxr *c = cz ? cz->ctx : NULL;
  struct run *runs;

  if (!c)
    return;
  atomic_store(&c->stop, true);
  /* Runs take c->mu themselves: join them outside it.  No run starts once stop is set. */
  pthread_mutex_lock(&c->mu);
  runs = c->runs;
  c->runs = NULL;
  pthread_mutex_unlock(&c->mu);
  while (runs) {
    struct run *next = runs->next;

    pthread_join(runs->th, NULL);
    run_free(runs);
    runs = next;
  }
  pthread_mutex_destroy(&c->mu);
  imc_free(c->work_dir);
  imc_free(c);
  cz->ctx = NULL;
}
