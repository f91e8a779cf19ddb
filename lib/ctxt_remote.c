/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An external Ansible host (the RADL `ansible` sentence): Ansible runs there instead of on this
 * host, as IM runs its agent there.  The run directory is written here as usual, with the paths
 * it names (inventory, keys, known_hosts, facts, ssh's sockets) rewritten to a directory of
 * its own there (REMOTE_CONF_DIR/<infrastructure>/run-N); before each ansible-playbook it is
 * sent over SSH as one tar stream and unpacked, and ansible-playbook's output comes back over
 * the same connection as it is printed.  The Ansible host needs ansible-playbook, tar and
 * timeout (coreutils); nothing is installed on it.  The VMs are also probed through it, as
 * they need to be reachable from there, not from here. */
#include <string.h>
#include <unistd.h>

#include "ctxt_job.h"
#include "imc/alloc.h"

#define REMOTE_MAX_UPLOAD (512u * 1024 * 1024)
#define REMOTE_SETUP_S    300 /* seconds for the upload and the clean-up commands */
#define CP_SOCKET_ROOM    28  /* ssh's ControlPath socket name under the cp directory */

/* The `ansible` element the infrastructure uses: the one its systems name in ansible_host
 * (all the same), else the first. */
static int pick(const struct imc_doc *doc, const struct imc_elem **out, struct imc_err *err)
{
  const char *named = NULL;

  for (size_t s = 0; s < doc->nsystems; s++) {
    const char *h = imc_features_str(&doc->systems[s]->feats, "ansible_host");

    if (!h)
      continue;
    if (named && strcmp(named, h) != 0)
      return imc_fail(err, IMC_E_INVAL,
                      "systems name different Ansible hosts (%s, %s): this version of imc "
                      "runs one per infrastructure",
                      named, h);
    named = h;
  }
  *out = named ? imc_doc_ansible(doc, named) : doc->ansibles[0];
  if (!*out)
    return imc_fail(err, IMC_E_INVAL, "ansible_host %s names no ansible sentence", named);
  return 0;
}

/* A path of the run directory here (under j->dir), as the same path there; NULL for NULL. */
static const char *there(struct job *j, const char *path)
{
  size_t n = strlen(j->dir);

  if (!path || strncmp(path, j->dir, n) != 0)
    return path;
  return ctxt_job_own_printf(j, "%s%s", j->remote.dir, path + n);
}

/* The nodes as the inventory written for the Ansible host names them. */
static int nodes_there(struct job *j, struct imc_err *err)
{
  if (!(j->remote.nodes = imc_calloc(j->n + 1, sizeof *j->remote.nodes)) ||
      !(j->remote.proxies = imc_calloc(j->n + 1, sizeof *j->remote.proxies)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < j->n; i++) {
    struct ctxt_node *n = &j->remote.nodes[i];

    *n = j->nodes[i];
    if (n->key_file && !(n->key_file = there(j, n->key_file)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if (!n->proxy)
      continue;
    j->remote.proxies[i] = *n->proxy;
    n->proxy = &j->remote.proxies[i];
    if ((j->remote.proxies[i].key_file &&
         !(j->remote.proxies[i].key_file = there(j, j->remote.proxies[i].key_file))) ||
        (j->remote.proxies[i].password_file &&
         !(j->remote.proxies[i].password_file = there(j, j->remote.proxies[i].password_file))))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  return 0;
}

int ctxt_remote_setup(struct job *j, struct imc_err *err)
{
  struct remote *rm = &j->remote;
  const struct imc_elem *a;
  const char *host, *run = strrchr(j->dir, '/');
  struct ssh_proxy hp;
  int r;

  if (!j->doc->nansibles)
    return 0;
  if ((r = pick(j->doc, &a, err)) != 0)
    return r;
  if (!(host = imc_features_str(&a->feats, "host")) || !*host)
    return imc_fail(err, IMC_E_INVAL, "ansible %s has no host", a->id);
  /* "host" or "host:port", read as a proxy_host without user */
  if ((r = ssh_proxy_parse(host, &hp, err)) != 0)
    return imc_err_prefix(err, "ansible %s: ", a->id);
  rm->host = ctxt_job_own(j, hp.host);
  hp.host = NULL;
  rm->target.port = hp.port;
  ssh_proxy_cleanup(&hp);
  if (!rm->host)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  rm->target.host = rm->host;
  rm->target.user = imc_features_str(&a->feats, "credentials.username");
  if (!rm->target.user)
    rm->target.user = "root";
  rm->target.password = imc_features_str(&a->feats, "credentials.password");
  rm->target.key = imc_features_str(&a->feats, "credentials.private_key");
  rm->target.known_hosts = j->known_hosts;
  rm->target.timeout = 30;
  if ((size_t)snprintf(rm->dir, sizeof rm->dir, "%s/%s%s", j->run->c->cfg->remote_conf_dir,
                       j->run->id, run ? run : "/run") >= sizeof rm->dir ||
      strlen(rm->dir) + sizeof "/cp/" + CP_SOCKET_ROOM >= 108)
    return imc_fail(err, IMC_E_INVAL,
                    "REMOTE_CONF_DIR is too long for ssh's sockets on the Ansible host");
  if ((r = nodes_there(j, err)) != 0)
    return r;
  rm->on = true;
  j->content_dir = rm->dir;
  j->inf.nodes = rm->nodes;
  if (!(j->inf.known_hosts = ctxt_job_own_printf(j, "%s/known_hosts", rm->dir)) ||
      !(j->inf.facts_dir = ctxt_job_own_printf(j, "%s/facts", rm->dir)) ||
      !(j->inf.control_dir = ctxt_job_own_printf(j, "%s/cp", rm->dir)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  /* sshpass on the Ansible host is not known: passwords need it there */
  return 0;
}

/* Runs cmd on the Ansible host (input: its standard input); a clean-up is not cancelled by the
 * contextualizer's close. */
static int remote_exec(struct job *j, struct ssh_conn *c, const char *cmd, const struct imc_buf *in,
                       bool cleanup, struct imc_err *err)
{
  struct imc_buf out;
  const struct ssh_exec x = {.cmd = cmd,
                             .input = in ? in->data : NULL,
                             .input_len = in ? in->len : 0,
                             .deadline = ctxt_now() + REMOTE_SETUP_S,
                             .cancel = cleanup ? NULL : &j->run->c->stop,
                             .out = &out};
  int status, r;

  imc_buf_init(&out, 64 * 1024);
  if ((r = ssh_conn_run(c, &x, &status, err)) == 0 && status != 0)
    r = imc_fail(err, IMC_E_IO, "on the Ansible host %s, `%.80s...` failed (status %d): %.400s",
                 j->remote.host, cmd, status, imc_buf_cstr(&out));
  imc_buf_free(&out);
  return r;
}

static void ignore_output(void *ctx, const char *text, size_t n)
{
  (void)ctx;
  (void)text;
  (void)n;
}

/* The run directory (with the infrastructure's known_hosts) as a tar.gz in *tgz.  The file
 * tar writes (beside the run directory, named after it) holds the VMs' keys: it is removed on
 * every path. */
static int pack(struct job *j, struct imc_buf *tgz, struct imc_err *err)
{
  const char *run = strrchr(j->dir, '/');
  char path[4200], rel[128];
  /* ansible.pid: ctxt_run's record of this very tar; cp: this side's ssh sockets */
  const char *args[] = {"-C", j->dir, "--exclude=./ansible.pid", "--exclude=./cp", "-czf", rel,
                        ".",  NULL};
  struct ctxt_run rq = {.program = "tar", .dir = j->dir, .args = args,
                        .deadline = ctxt_now() + REMOTE_SETUP_S, .cancel = &j->run->c->stop,
                        .output = ignore_output};
  struct imc_buf kh;
  bool timed_out;
  int status = -1, r;

  imc_buf_init(&kh, 16u * 1024 * 1024);
  if (imc_read_file(j->known_hosts, &kh, NULL) == 0)
    r = ctxt_write_file(j->dir, "known_hosts", imc_buf_cstr(&kh), 0600, err);
  else
    r = ctxt_write_file(j->dir, "known_hosts", "", 0600, err);
  imc_buf_free(&kh);
  if (r)
    return r;
  /* run-N.tgz: one file per run, as two runs of one infrastructure may overlap */
  snprintf(rel, sizeof rel, "..%s.tgz", run ? run : "/run");
  snprintf(path, sizeof path, "%s.tgz", j->dir);
  if ((r = ctxt_run_playbook(&rq, &status, &timed_out, err)) == 0 && status != 0)
    r = imc_fail(err, IMC_E_IO, "tar could not pack the run directory (status %d)", status);
  if (r == 0)
    r = imc_read_file(path, tgz, err);
  unlink(path);
  return r;
}

/* ansible-playbook's output comes in pieces; the driver reads whole lines. */
struct lines {
  struct imc_buf pending;
  void (*output)(void *ctx, const char *text, size_t n);
  void *ctx;
};

static void by_lines(void *ctx, const char *text, size_t n)
{
  struct lines *l = ctx;
  const char *last;
  size_t used;

  imc_buf_add(&l->pending, text, n);
  last = l->pending.len ? memrchr(l->pending.data, '\n', l->pending.len) : NULL;
  if (!last)
    return;
  used = (size_t)(last - l->pending.data) + 1;
  l->output(l->ctx, l->pending.data, used);
  memmove(l->pending.data, l->pending.data + used, l->pending.len - used);
  l->pending.len -= used;
}

/* A best-effort command on a connection of its own (the run's may be gone); cmd is freed. */
static void remote_tidy(struct job *j, struct imc_buf *cmd)
{
  struct ssh_conn *c = NULL;
  struct imc_err e;

  imc_err_clear(&e);
  if (!imc_buf_err(cmd) && ssh_conn_open(&j->remote.target, &c, &e) == 0)
    remote_exec(j, c, imc_buf_cstr(cmd), NULL, true, &e);
  ssh_conn_close(c);
  imc_buf_free(cmd);
}

/* Kills the process group of the run there (run.pgid): after a cancel or a lost connection,
 * ansible-playbook would otherwise go on configuring the VMs until the deadline. */
static void remote_kill(struct job *j)
{
  struct imc_buf cmd;

  imc_buf_init(&cmd, 8192);
  imc_buf_adds(&cmd, "cd ");
  ctxt_sh_quote(&cmd, j->remote.dir);
  imc_buf_adds(&cmd, " && kill -KILL -- -\"$(cat run.pgid)\" 2>/dev/null; true");
  remote_tidy(j, &cmd);
}

int ctxt_remote_run(struct job *j, const char *playbook, const char *limit,
                    void (*output)(void *ctx, const char *text, size_t n), int *status,
                    bool *timed_out, struct imc_err *err)
{
  struct remote *rm = &j->remote;
  struct lines lines = {.output = output, .ctx = j};
  struct imc_buf tgz, cmd, inner;
  struct ssh_conn *c = NULL;
  long secs = (long)(j->deadline - ctxt_now()) + 1;
  int r;

  *status = -1;
  *timed_out = false;
  if (secs < 1) {
    *timed_out = true;
    return 0;
  }
  imc_buf_init(&tgz, REMOTE_MAX_UPLOAD);
  imc_buf_init(&cmd, 64 * 1024);
  imc_buf_init(&inner, 64 * 1024);
  imc_buf_init(&lines.pending, 1024 * 1024);
  if ((r = pack(j, &tgz, err)) != 0 || (r = ssh_conn_open(&rm->target, &c, err)) != 0)
    goto out;
  imc_buf_adds(&cmd, "umask 077 && rm -rf ");
  ctxt_sh_quote(&cmd, rm->dir);
  imc_buf_adds(&cmd, " && mkdir -p ");
  ctxt_sh_quote(&cmd, rm->dir);
  imc_buf_adds(&cmd, " && tar -xzf - -C ");
  ctxt_sh_quote(&cmd, rm->dir);
  if ((r = remote_exec(j, c, imc_buf_cstr(&cmd), &tgz, false, err)) != 0)
    goto out;
  imc_buf_reset(&cmd);
  imc_buf_adds(&cmd, "cd ");
  ctxt_sh_quote(&cmd, rm->dir);
  imc_buf_adds(&cmd, " && mkdir -p cp facts tmp && ANSIBLE_CONFIG=");
  ctxt_sh_quote(&cmd, rm->dir);
  imc_buf_adds(&cmd, "/ansible.cfg ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PYTHONUNBUFFERED=1 ");
  /* A process group of its own, recorded for remote_kill; the deadline holds there too,
   * whether or not this side is still listening. */
  imc_buf_addf(&inner, "echo $$ > run.pgid && exec timeout -s KILL %ld ansible-playbook ", secs);
  ctxt_sh_quote(&inner, playbook);
  if (limit) {
    imc_buf_adds(&inner, " --limit ");
    ctxt_sh_quote(&inner, limit);
  }
  imc_buf_adds(&inner, " 2>&1");
  imc_buf_adds(&cmd, "exec setsid -w sh -c ");
  ctxt_sh_quote(&cmd, imc_buf_cstr(&inner));
  if (imc_buf_err(&cmd) || imc_buf_err(&inner)) {
    r = imc_fail(err, IMC_E_TOOBIG, "the Ansible host's command is too long");
    goto out;
  }
  {
    const struct ssh_exec x = {.cmd = imc_buf_cstr(&cmd),
                               .deadline = j->deadline + 5,
                               .cancel = &j->run->c->stop,
                               .output = by_lines,
                               .ctx = &lines};

    r = ssh_conn_run(c, &x, status, err);
    if (lines.pending.len)
      output(j, lines.pending.data, lines.pending.len);
    if (r)
      remote_kill(j);
    if (r == IMC_E_TIMEOUT || *status == 137) {
      *timed_out = ctxt_now() >= j->deadline;
      *status = -1;
      r = 0;
    }
  }
out:
  ssh_conn_close(c);
  if (tgz.data)
    explicit_bzero(tgz.data, tgz.len); /* it holds the VMs' keys */
  imc_buf_free(&tgz);
  imc_buf_free(&cmd);
  imc_buf_free(&inner);
  imc_buf_free(&lines.pending);
  return r;
}

void ctxt_remote_cleanup(struct job *j)
{
  struct imc_buf cmd;
  char *slash;

  if (!j->remote.on)
    return;
  imc_buf_init(&cmd, 8192);
  imc_buf_adds(&cmd, "rm -rf ");
  ctxt_sh_quote(&cmd, j->remote.dir);
  /* and the infrastructure's directory there, once no other run uses it */
  if ((slash = strrchr(j->remote.dir, '/')) != NULL) {
    *slash = '\0';
    imc_buf_adds(&cmd, "; rmdir ");
    ctxt_sh_quote(&cmd, j->remote.dir);
    imc_buf_adds(&cmd, " 2>/dev/null; true");
    *slash = '/';
  }
  remote_tidy(j, &cmd);
}

void ctxt_remote_free(struct job *j)
{
  imc_free(j->remote.nodes);
  imc_free(j->remote.proxies);
}
