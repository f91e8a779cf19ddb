/* SPDX-License-Identifier: GPL-3.0-or-later */
/* struct imc_contextualizer over SSH and Ansible: one thread per run (start never blocks),
 * joined when the next run starts or at close.  See imc/ctxt_driver.h.  A run here: its
 * directory and files, the SSH waits, the Galaxy installs; its ansible-playbook runs are
 * ctxt_parts.c's, its logs ctxt_output.c's. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
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

#define CTXR_GALAXY      "ansible-galaxy"
#define CTXR_SSH_PAUSE_S 5
#define CTXR_SSH_WAITERS 16 /* SSH probes at once */
#define CTXR_CP_NAME     27 /* "d07a471614.gHwibkIp9MtwTBBU": ssh's socket while it binds */

/* --- small helpers --------------------------------------------------------------------- */

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

/* --- the run -------------------------------------------------------------------------- */

void ctxt_job_pause(struct job *j, double secs)
{
  double until = ctxt_now() + secs;

  while (ctxt_now() < until && !atomic_load(&j->run->c->stop))
    usleep(100 * 1000);
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
  } else if (j->remote.on) {
    t.proxy = &j->remote.target; /* Ansible reaches the VM from there */
  }
  while (ctxt_now() < until && !atomic_load(&j->run->c->stop)) {
    imc_err_clear(&e);
    if ((r = ssh_probe(&t, &e)) == 0)
      break;
    ctxt_vm_log(j, i, "Waiting for SSH access: %s", e.msg);
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

struct ssh_waits {
  struct job *j;
  double until;
  atomic_size_t next;
};

static void *ssh_waiter(void *arg)
{
  struct ssh_waits *w = arg;
  size_t i;

  while ((i = atomic_fetch_add(&w->next, 1)) < w->j->n) {
    if (w->j->target[i] && wait_ssh(w->j, i, w->until) != 0)
      ctxt_fail_vm(w->j, i, "ERROR: no SSH access to the VM: it stays unconfigured.");
  }
  return NULL;
}

/* Waits for the VMs side by side (a VM still booting does not hold up the others' probes);
 * each waiter takes the next VM not taken yet, and touches only that VM's entries. */
static void wait_all_ssh(struct job *j)
{
  struct ssh_waits w = {.j = j, .until = ctxt_now() + (double)j->run->c->cfg->wait_ssh_acccess_timeout};
  pthread_t th[CTXR_SSH_WAITERS];
  size_t started = 0;

  if (w.until > j->deadline)
    w.until = j->deadline;
  atomic_init(&w.next, 0);
  ctxt_ilog(j, "Wait for SSH access to the VMs.");
  while (started < CTXR_SSH_WAITERS && started + 1 < j->n &&
         pthread_create(&th[started], NULL, ssh_waiter, &w) == 0)
    started++;
  ssh_waiter(&w);
  for (size_t t = 0; t < started; t++)
    pthread_join(th[t], NULL);
}

/* --- roles and collections ------------------------------------------------------------ */

/* ansible-galaxy's output: all of it to the infrastructure's log. */
static void on_galaxy_output(void *ctx, const char *text, size_t len)
{
  struct job *j = ctx;

  imc_buf_add(&j->infra, text, len);
  ctxt_flush_logs(j);
}

/* Installs the roles and collections of disk.0.applications into the run directory (roles/,
 * collections/, where its ansible.cfg looks first).  False when that failed: no VM can be
 * configured without them. */
static bool job_galaxy(struct job *j)
{
  const struct imc_config *cfg = j->run->c->cfg;
  static const char *const kinds[] = {"role", "collection"};
  bool want[2] = {false, false};
  struct imc_buf b;
  struct imc_err e;
  bool ok = true;

  imc_err_clear(&e);
  imc_buf_init(&b, CTXT_MAX_REQUIREMENTS);
  if (ctxt_galaxy_requirements(j->doc, cfg->galaxy_offline_source, &b, &want[0], &want[1], &e) ||
      ((want[0] || want[1]) && ctxt_write_buf(j->dir, "requirements.yml", &b, 0600, &e))) {
    ctxt_ilog(j, "ERROR: Ansible roles and collections: %s", e.msg);
    imc_buf_free(&b);
    return false;
  }
  imc_buf_free(&b);
  for (size_t k = 0; k < 2 && ok; k++) {
    const char *args[] = {kinds[k], "install", "-r", "requirements.yml",
                          "-p", k ? "collections" : "roles", NULL, NULL};
    struct ctxt_run rq = {.program = CTXR_GALAXY,
                          .dir = j->dir,
                          .args = args,
                          .deadline = j->deadline,
                          .cancel = &j->run->c->stop,
                          .output = on_galaxy_output,
                          .ctx = j};
    bool timed_out = false;
    int status = -1;

    if (!want[k])
      continue;
    if (k && *cfg->galaxy_offline_source)
      args[6] = "--offline"; /* no Galaxy server asked about dependencies either */
    ctxt_ilog(j, "Installing the Ansible %ss of disk.0.applications with ansible-galaxy.", kinds[k]);
    if (ctxt_run_playbook(&rq, &status, &timed_out, &e) != 0)
      ctxt_ilog(j, "ERROR: %s", e.msg);
    ok = status == 0;
  }
  if (!ok)
    ctxt_ilog(j, "ERROR: ansible-galaxy could not install what disk.0.applications asks for.");
  return ok;
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

/* The VMs of the step's systems. */
static void step_nodes(const struct job *j, const struct ctxt_step *st, bool *which)
{
  for (size_t i = 0; i < j->n; i++) {
    which[i] = false;
    for (size_t p = 0; p < st->n; p++)
      which[i] |= strcmp(st->plays[p].system, j->nodes[i].system) == 0;
  }
}

/* Writes text as the playbook of a new part (its label, file name and node set are kept by
 * the job); *which is the part's node set, for the caller to fill. */
static int add_part(struct job *j, const char *label, const char *file, struct imc_buf *text,
                    bool **which, struct imc_err *err)
{
  struct ctxt_part *p = &j->parts[j->nparts];
  int r;

  if ((r = ctxt_write_buf(j->dir, file, text, 0600, err)) != 0)
    return r;
  if (!(p->label = ctxt_job_own_printf(j, "%s", label)) ||
      !(p->file = ctxt_job_own_printf(j, "%s", file)) ||
      !(p->which = imc_calloc(j->n + 1, sizeof *p->which)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  j->nparts++;
  *which = p->which;
  return 0;
}

static int job_files(struct job *j, const struct ctxt_steps *steps, struct imc_err *err)
{
  struct imc_buf b;
  bool *which, any = false;
  int r;

  if (!(j->parts = imc_calloc(steps->n + 2, sizeof *j->parts)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  imc_buf_init(&b, CTXT_MAX_INVENTORY);
  if ((r = ctxt_inventory(&j->inf, &b, err)) != 0 ||
      (r = ctxt_write_buf(j->dir, "hosts", &b, 0600, err)) != 0)
    goto out;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if ((r = ctxt_ansible_cfg(&j->inf, j->content_dir, &b, err)) != 0 ||
      (r = ctxt_write_buf(j->dir, "ansible.cfg", &b, 0600, err)) != 0)
    goto out;
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if ((r = ctxt_basic_playbook(&j->inf, &b, err)) != 0 ||
      (r = add_part(j, "basic", "basic.yml", &b, &which, err)) != 0)
    goto out;
  for (size_t i = 0; i < j->n; i++)
    which[i] = true;
  for (size_t s = 0; s < steps->n; s++) {
    char name[64], label[64];

    for (size_t p = 0; p < steps->v[s].n; p++) {
      char *file = NULL;

      imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
      if ((r = ctxt_recipe_file(j->doc, &steps->v[s].plays[p], &file, &b, err)) == 0)
        r = ctxt_write_buf(j->dir, file, &b, 0600, err);
      imc_free(file);
      if (r)
        goto out;
    }
    imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
    snprintf(name, sizeof name, "step_%zu.yml", s);
    snprintf(label, sizeof label, "%g", steps->v[s].step);
    if ((r = ctxt_step_playbook(j->doc, &steps->v[s], 0, &b, err)) != 0 ||
        (r = add_part(j, label, name, &b, &which, err)) != 0)
      goto out;
    j->parts[j->nparts - 1].step = &steps->v[s];
    step_nodes(j, &steps->v[s], which);
  }
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if ((r = ctxt_creds_playbook(&j->inf, &any, &b, err)) != 0 ||
      (any && (r = add_part(j, "credentials", "creds.yml", &b, &which, err)) != 0))
    goto out;
  for (size_t i = 0; any && i < j->n; i++)
    which[i] = j->nodes[i].new_password || j->nodes[i].new_public_key;
out:
  imc_buf_free(&b);
  return r;
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
  for (size_t k = 0; k < j->nparts; k++)
    imc_free(j->parts[k].which);
  imc_free(j->parts);
  imc_free(j->part_of);
  imc_free(j->stopper);
  ctxt_remote_free(j);
  imc_free(j->logs);
  imc_doc_free(j->doc);
}

/* Sets the targets of systems with `configure X ()` aside (configured at once, as IM). */
static void job_disabled(struct job *j)
{
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i] && ctxt_system_disabled(j->doc, j->nodes[i].system)) {
      j->target[i] = false;
      ctxt_vm_log(j, i, "Contextualization disabled for system %s.", j->nodes[i].system);
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
  j->content_dir = j->dir;
  if ((r = ctxt_remote_setup(j, err)) != 0)
    return r;
  if (j->remote.on)
    ctxt_ilog(j, "Ansible runs on the Ansible host %s (in %s there).", j->remote.host, j->remote.dir);
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
  ctxt_ilog(&j, "Contextualization started (Ansible on this host).");
  if ((r = job_prepare(&j, &steps, &e)) != 0) {
    ctxt_ilog(&j, "ERROR: contextualization could not start: %s", e.msg);
    if (!j.vmids) {
      /* Nothing known about the VMs: report the ones asked for. */
      for (size_t i = 0; i < run->nvms; i++)
        imc_engine_ctxt_done(run->e, run->id, run->vms[i], false, NULL, NULL);
    } else {
      job_report(&j, true);
    }
  } else {
    if (job_galaxy(&j)) {
      wait_all_ssh(&j);
    } else {
      for (size_t i = 0; i < j.n; i++)
        if (j.target[i])
          ctxt_fail_vm(&j, i, "ERROR: the Ansible roles and collections of disk.0.applications could "
                         "not be installed (the infrastructure's log says why).");
    }
    ctxt_job_parts(&j);
    /* Before the outcome: once every VM has one, local mode may close the contextualizer. */
    ctxt_remote_cleanup(&j);
    job_report(&j, false);
    ctxt_ilog(&j, "Contextualization finished.");
  }
  ctxt_steps_free(&steps);
  if (j.dir[0])
    rm_tree(j.dir);
  if (j.cp_own)
    rm_tree(j.cp);
  if (atomic_load(&run->forgotten) && j.base[0])
    rm_tree(j.base);
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
  atomic_init(&run->forgotten, false);
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

/* Removes the infrastructure's directory (known_hosts); a run still on it removes it when it
 * ends, as it may write there until then. */
static void ctxr_forget(void *ctx, const char *infra_id)
{
  struct ctxr *c = ctx;
  struct imc_buf path;

  if (!*infra_id || strchr(infra_id, '/') || strcmp(infra_id, "..") == 0 ||
      strcmp(infra_id, ".") == 0)
    return;
  pthread_mutex_lock(&c->mu);
  for (struct run *run = c->runs; run; run = run->next) {
    if (strcmp(run->id, infra_id) == 0)
      atomic_store(&run->forgotten, true);
  }
  pthread_mutex_unlock(&c->mu);
  imc_buf_init(&path, 8192);
  imc_buf_addf(&path, "%s/%s", c->work_dir, infra_id);
  if (!imc_buf_err(&path))
    rm_tree(imc_buf_cstr(&path));
  imc_buf_free(&path);
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
  out->forget = ctxr_forget;
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
