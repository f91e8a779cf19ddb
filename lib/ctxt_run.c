/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs ansible-playbook: posix_spawn from an argv array (never a shell), in its own process
 * group so that a deadline or a cancel kills it with every ssh it started, output read as it
 * comes and handed over line by line.  When it ends, whatever is left of its group (an ssh
 * ControlPersist master) is killed too, before the process is reaped so that its group id
 * cannot have been reused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctxt_int.h"
#include "imc/alloc.h"

extern char **environ;

#define RUN_POLL_MS      200
#define RUN_MAX_PENDING  (64u * 1024) /* a line longer than this is handed over in pieces */
#define RUN_KILL_GRACE_S 3.0
#define RUN_RECORD       "ansible.pid" /* in the run directory, while ansible-playbook runs */

double ctxt_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The environment of the child: ours, with Ansible told where its configuration is, to
 * write unbuffered and without colours. */
static const char *const env_drop[] = {
  "ANSIBLE_CONFIG=", "PYTHONUNBUFFERED=", "ANSIBLE_FORCE_COLOR=", "ANSIBLE_NOCOLOR=", NULL};

static bool dropped(const char *e)
{
  for (size_t i = 0; env_drop[i]; i++) {
    if (strncmp(e, env_drop[i], strlen(env_drop[i])) == 0)
      return true;
  }
  return false;
}

static char **child_env(const char *cfg)
{
  size_t n = 0, k = 0;
  char **env;

  while (environ[n])
    n++;
  if (!(env = imc_calloc(n + 5, sizeof *env)))
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (!dropped(environ[i]))
      env[k++] = environ[i];
  }
  env[k++] = (char *)cfg;
  env[k++] = "PYTHONUNBUFFERED=1";
  env[k++] = "ANSIBLE_NOCOLOR=1";
  env[k++] = "ANSIBLE_FORCE_COLOR=0";
  env[k] = NULL;
  return env;
}

static int spawn(const struct ctxt_run *rq, int out_fd, pid_t *pid, struct imc_err *err)
{
  const char *argv[CTXT_RUN_MAX_ARGS + 2];
  char cfg[4200];
  char **env = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  size_t k = 0;
  int rc;

  if ((size_t)snprintf(cfg, sizeof cfg, "ANSIBLE_CONFIG=%s/ansible.cfg", rq->dir) >= sizeof cfg)
    return imc_fail(err, IMC_E_INVAL, "the run directory's path is too long");
  argv[k++] = rq->program;
  for (size_t i = 0; rq->args && rq->args[i] && i < CTXT_RUN_MAX_ARGS; i++)
    argv[k++] = rq->args[i];
  if (!rq->args)
    argv[k++] = rq->playbook;
  if (!rq->args && rq->limit) {
    argv[k++] = "--limit";
    argv[k++] = rq->limit;
  }
  argv[k] = NULL;
  if (!(env = child_env(cfg)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
  posix_spawn_file_actions_addchdir_np(&fa, rq->dir);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
  rc = posix_spawnp(pid, rq->program, &fa, &at, (char *const *)argv, env);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  imc_free(env);
  if (rc != 0)
    return imc_fail(err, IMC_E_IO, "cannot start %s: %s", rq->program, strerror(rc));
  return 0;
}

/* Hands the complete lines of pending over, keeps the rest (or all of it past the limit). */
static void deliver(const struct ctxt_run *rq, struct imc_buf *pending, bool all)
{
  const char *nl;
  size_t n;

  if (!pending->len)
    return;
  nl = memrchr(pending->data, '\n', pending->len);
  if (!nl && !all && pending->len < RUN_MAX_PENDING)
    return;
  n = nl && !all ? (size_t)(nl - pending->data) + 1 : pending->len;
  if (rq->output)
    rq->output(rq->ctx, pending->data, n);
  memmove(pending->data, pending->data + n, pending->len - n);
  pending->len -= n;
  pending->data[pending->len] = '\0';
}

static bool child_done(pid_t pid)
{
  siginfo_t si = {0};

  /* WNOWAIT: the child stays a zombie, so its pid (our group id) stays ours. */
  return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Reads until the child has exited and its output is drained, or the deadline or a cancel
 * comes; then kills the group.  *killed says whether it had to. */
static void watch(const struct ctxt_run *rq, pid_t pid, int fd, bool *killed, bool *timed_out)
{
  struct imc_buf pending;
  char chunk[8192];
  bool open = true;
  double kill_at = 0;

  imc_buf_init(&pending, RUN_MAX_PENDING * 2);
  *killed = *timed_out = false;
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    bool done = child_done(pid);

    if (done && !open)
      break;
    if (!*killed && (ctxt_now() >= rq->deadline || (rq->cancel && atomic_load(rq->cancel)))) {
      *timed_out = ctxt_now() >= rq->deadline;
      *killed = true;
      kill(-pid, SIGTERM);
      kill_at = ctxt_now() + RUN_KILL_GRACE_S;
    }
    if (*killed && ctxt_now() >= kill_at)
      kill(-pid, SIGKILL);
    if (!open) {
      poll(NULL, 0, RUN_POLL_MS / 4);
      continue;
    }
    if (poll(&p, 1, done ? 0 : RUN_POLL_MS) > 0) {
      ssize_t n = read(fd, chunk, sizeof chunk);

      if (n > 0) {
        imc_buf_add(&pending, chunk, (size_t)n);
        deliver(rq, &pending, false);
      } else if (n == 0 || errno != EINTR) {
        open = false;
      }
    } else if (done) {
      /* Exited, and nothing to read right now: ControlPersist masters may hold the pipe. */
      open = false;
    }
  }
  deliver(rq, &pending, true);
  imc_buf_free(&pending);
  kill(-pid, SIGTERM); /* what is left of the group: ssh masters */
}

/* Tells every ssh master in dir to exit (`ssh -O exit`), and waits for each answer. */
static void close_masters(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *de;

  if (!d)
    return;
  while ((de = readdir(d)) != NULL) {
    char opt[4400];
    const char *argv[] = {"ssh", "-o", opt, "-O", "exit", "imc-mux", NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int ws;

    if (de->d_name[0] == '.' ||
        (size_t)snprintf(opt, sizeof opt, "ControlPath=%s/%s", dir, de->d_name) >= sizeof opt)
      continue;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid, "ssh", &fa, NULL, (char *const *)argv, environ) == 0) {
      while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  closedir(d);
}

/* The start time (clock ticks since boot) of process pid, or 0 when it is gone: with the pid
 * it names one process, whatever pid reuse happens later. */
static unsigned long long proc_start(pid_t pid)
{
  char path[64], text[1024], *p;
  unsigned long long start = 0;
  ssize_t n;
  int fd;

  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return 0;
  n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0)
    return 0;
  text[n] = '\0';
  /* Field 22; the command (field 2) may hold spaces, so count from its closing parenthesis. */
  if (!(p = strrchr(text, ')')))
    return 0;
  for (int field = 2; field < 22 && p; field++)
    p = strchr(p + 1, ' ');
  if (p)
    start = strtoull(p + 1, NULL, 10);
  return start;
}

/* dir/RUN_RECORD says which process group runs there, for which process, and where its ssh
 * masters are: what ctxt_run_sweep needs once that process is gone. */
static void record_run(const struct ctxt_run *rq, pid_t pgid)
{
  char path[4200], text[4400];
  int fd, n;

  if ((size_t)snprintf(path, sizeof path, "%s/%s", rq->dir, RUN_RECORD) >= sizeof path)
    return;
  n = snprintf(text, sizeof text, "%ld %ld %llu\n%s\n", (long)pgid, (long)getpid(),
               proc_start(getpid()), rq->control_dir ? rq->control_dir : "");
  if (n < 0 || (size_t)n >= sizeof text)
    return;
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return;
  if (write(fd, text, (size_t)n) != n)
    unlink(path);
  close(fd);
}

/* The run in run_dir, when the process that started it is gone: its ansible-playbook group is
 * killed (if the group's leader still works in run_dir) and its ssh masters told to exit. */
static void sweep_run(const char *run_dir)
{
  char path[4400], text[4400], cwd[4400], link[64], *nl;
  long pgid, owner;
  unsigned long long start;
  ssize_t n;
  int fd;

  if ((size_t)snprintf(path, sizeof path, "%s/%s", run_dir, RUN_RECORD) >= sizeof path ||
      (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
    return;
  n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0)
    return;
  text[n] = '\0';
  if (sscanf(text, "%ld %ld %llu", &pgid, &owner, &start) != 3 || pgid <= 1 ||
      (owner > 0 && proc_start((pid_t)owner) == start))
    return; /* unreadable, or its process still runs it */
  snprintf(link, sizeof link, "/proc/%ld/cwd", pgid);
  n = readlink(link, cwd, sizeof cwd - 1);
  if (n > 0) {
    cwd[n] = '\0';
    if (strcmp(cwd, run_dir) == 0)
      kill(-(pid_t)pgid, SIGKILL);
  }
  if ((nl = strchr(text, '\n')) != NULL && nl[1] && nl[1] != '\n') {
    char *end = strchr(nl + 1, '\n');

    if (end)
      *end = '\0';
    close_masters(nl + 1);
    rmdir(nl + 1); /* empty once its masters are gone: a directory of its own under /tmp too */
  }
  unlink(path);
}

void ctxt_run_sweep(const char *work_dir)
{
  DIR *d = opendir(work_dir);
  struct dirent *de;

  if (!d)
    return;
  while ((de = readdir(d)) != NULL) {
    char infra[4200];
    DIR *runs;
    struct dirent *re;

    if (de->d_name[0] == '.' ||
        (size_t)snprintf(infra, sizeof infra, "%s/%s", work_dir, de->d_name) >= sizeof infra ||
        !(runs = opendir(infra)))
      continue;
    while ((re = readdir(runs)) != NULL) {
      char run_dir[4400];

      if (strncmp(re->d_name, "run-", 4) == 0 &&
          (size_t)snprintf(run_dir, sizeof run_dir, "%s/%s", infra, re->d_name) < sizeof run_dir)
        sweep_run(run_dir);
    }
    closedir(runs);
  }
  closedir(d);
}

int ctxt_run_playbook(const struct ctxt_run *rq, int *status, bool *timed_out, struct imc_err *err)
{
  int fds[2], ws = 0, r;
  pid_t pid;
  bool killed;

  *status = -1;
  *timed_out = false;
  if (pipe2(fds, O_CLOEXEC) != 0)
    return imc_fail(err, IMC_E_IO, "pipe: %s", strerror(errno));
  r = spawn(rq, fds[1], &pid, err);
  close(fds[1]);
  if (r) {
    close(fds[0]);
    return r;
  }
  record_run(rq, pid);
  watch(rq, pid, fds[0], &killed, timed_out);
  close(fds[0]);
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
    ;
  if (!killed && WIFEXITED(ws))
    *status = WEXITSTATUS(ws);
  if (rq->control_dir)
    close_masters(rq->control_dir);
  {
    char path[4200];

    if ((size_t)snprintf(path, sizeof path, "%s/%s", rq->dir, RUN_RECORD) < sizeof path)
      unlink(path);
  }
  return 0;
}

/* The digits at p (up to end) as a count; -1 when there are none.  The line is not a C
 * string: strtol could read past its end. */
static long count_at(const char *p, const char *end)
{
  long v = -1;

  for (; p < end && *p >= '0' && *p <= '9' && v < 1000000000L; p++)
    v = (v < 0 ? 0 : v * 10) + (*p - '0');
  return v;
}

bool ctxt_recap_line(const char *line, size_t n, char **host, bool *failed)
{
  const char *colon = memchr(line, ':', n), *p;
  size_t hl;
  long unreachable = -1, nfailed = -1;

  *host = NULL;
  if (!colon)
    return false;
  for (p = colon + 1; p < line + n && *p == ' '; p++)
    ;
  if ((size_t)(line + n - p) < 3 || memcmp(p, "ok=", 3) != 0)
    return false;
  /* "unreachable=N" and "failed=N" follow "ok=N changed=N". */
  for (const char *q = p; q < line + n; q++) {
    if (q + 12 <= line + n && memcmp(q, "unreachable=", 12) == 0)
      unreachable = count_at(q + 12, line + n);
    else if (q + 7 <= line + n && memcmp(q, "failed=", 7) == 0 && (q == p || q[-1] == ' '))
      nfailed = count_at(q + 7, line + n);
  }
  if (unreachable < 0 || nfailed < 0)
    return false;
  hl = (size_t)(colon - line);
  while (hl && line[hl - 1] == ' ')
    hl--;
  if (!hl || !(*host = imc_strndup(line, hl)))
    return false;
  *failed = unreachable > 0 || nfailed > 0;
  return true;
}

/* Task result prefixes: "ok: [h]", "changed: [h]", "fatal: [h]: FAILED!", ... */
static const char *const host_prefixes[] = {
  "ok: [",          "changed: [",           "fatal: [", "failed: [", "skipping: [",
  "unreachable: [", "FAILED - RETRYING: [", NULL};

bool ctxt_host_line(const char *line, size_t n, struct imc_str *host)
{
  for (size_t i = 0; host_prefixes[i]; i++) {
    size_t pl = strlen(host_prefixes[i]);
    const char *start, *end;

    if (n < pl || memcmp(line, host_prefixes[i], pl) != 0)
      continue;
    start = memchr(line, '[', n);
    if (!start)
      return false;
    start++;
    end = start;
    while (end < line + n && *end != ']' && *end != ' ')
      end++;
    if (end == start || end >= line + n)
      return false;
    host->p = start;
    host->n = (size_t)(end - start);
    return true;
  }
  return false;
}
