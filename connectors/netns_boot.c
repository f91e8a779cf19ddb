/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Booting a Netns host.  The caller may be a threaded server, so the children run only
 * async-signal-safe system calls on strings prepared beforehand, and exec:
 *   A (fork of the caller): setsid, stdio to the host's boot.log, every other descriptor
 *     closed, enters the host's netns, unshares mount, UTS and PID namespaces, forks B, sends
 *     B's pid on the pipe and exits;
 *   B (pid 1 of the new PID namespace): makes its mounts private, mounts the overlayfs root
 *     (lower: the machine's /, upper: the host's own) with a new /proc, /sys, /run and the
 *     machine's /dev (so loop devices work inside), pivots into it and drops every other
 *     mount (other hosts' netns files included), sets the hostname and becomes sshd -D.
 * sshd reaps every orphan, as an init must; when it dies the kernel kills the whole host.
 * A failing step of B writes {step, errno} on the pipe; success closes it at exec. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns_int.h"

struct boot {
  char ns[NN_PATH], log[NN_PATH], opts[3 * NN_PATH], root[NN_PATH];
  char proc[NN_PATH], dev[NN_PATH], sys[NN_PATH], run[NN_PATH], run_sshd[NN_PATH];
  char hostname[64];
};

struct boot_fail {
  int step, errnum;
};

static const char *const step_names[] = {
  "",     "private mounts", "overlayfs root", "/proc",    "/dev",      "/sys",
  "/run", "/run/sshd",      "pivot_root",     "hostname", "exec sshd",
};

/* Without -e: sshd's early failures still reach boot.log on stderr, but its per-connection
 * lines go to syslog (which a host lacks), so the log does not grow with every login. */
static char *const sshd_argv[] = {"/usr/sbin/sshd", "-D", "-f", "/etc/ssh/sshd_config", NULL};
static char *const sshd_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL};

static void fail_at(int fd, int step)
{
  struct boot_fail f = {step, errno};

  (void)!write(fd, &f, sizeof f);
  _exit(127);
}

/* B.  fd 3 is the pipe. */
static void host_init(const struct boot *b)
{
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    fail_at(3, 1);
  if (mount("overlay", b->root, "overlay", 0, b->opts) != 0)
    fail_at(3, 2);
  if (mount("proc", b->proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    fail_at(3, 3);
  if (mount("/dev", b->dev, NULL, MS_BIND | MS_REC, NULL) != 0)
    fail_at(3, 4);
  if (mount("sysfs", b->sys, "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    fail_at(3, 5);
  if (mount("tmpfs", b->run, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755") != 0)
    fail_at(3, 6);
  if (mkdir(b->run_sshd, 0755) != 0)
    fail_at(3, 7);
  if (chdir(b->root) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 ||
      umount2(".", MNT_DETACH) != 0 || chdir("/") != 0)
    fail_at(3, 8);
  if (sethostname(b->hostname, strlen(b->hostname)) != 0)
    fail_at(3, 9);
  execve(sshd_argv[0], sshd_argv, sshd_env);
  fail_at(3, 10);
}

/* A.  wfd is the pipe's write end. */
static void host_starter(const struct boot *b, int wfd)
{
  int w = fcntl(wfd, F_DUPFD_CLOEXEC, 10), null = open("/dev/null", O_RDONLY), log, ns;
  sigset_t none;
  pid_t pid;

  /* The caller's signal mask and ignored signals (a server's SIGPIPE) would survive exec. */
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    signal(s, SIG_DFL);
  setsid();
  log = open(b->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (w < 0 || null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
      dup3(w, 3, O_CLOEXEC) < 0)
    _exit(126);
  /* The caller's descriptors (listening sockets, the store) must not live on in the host. */
  syscall(SYS_close_range, 4u, ~0u, 0u);
  ns = open(b->ns, O_RDONLY | O_CLOEXEC);
  if (ns < 0 || setns(ns, CLONE_NEWNET) != 0 ||
      unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWPID) != 0)
    fail_at(3, 0);
  close(ns);
  pid = _Fork();
  if (pid == 0)
    host_init(b);
  if (pid < 0)
    fail_at(3, 0);
  (void)!write(3, &pid, sizeof pid);
  _exit(0);
}

static int prepare(const struct nn_ctx *c, const char *host, struct boot *b, struct imc_err *err)
{
  char dir[NN_PATH], text[NN_SMALL];
  int r;

  if ((r = nn_path(dir, sizeof dir, err, "%s/hosts/%s", c->dir, host)) ||
      (r = nn_path(b->ns, sizeof b->ns, err, "/run/netns/%s", host)) ||
      (r = nn_path(b->log, sizeof b->log, err, "%s/boot.log", dir)) ||
      (r = nn_path(b->opts, sizeof b->opts, err, "lowerdir=/,upperdir=%s/upper,workdir=%s/work",
                   dir, dir)) ||
      (r = nn_path(b->root, sizeof b->root, err, "%s/root", dir)) ||
      (r = nn_path(b->proc, sizeof b->proc, err, "%s/root/proc", dir)) ||
      (r = nn_path(b->dev, sizeof b->dev, err, "%s/root/dev", dir)) ||
      (r = nn_path(b->sys, sizeof b->sys, err, "%s/root/sys", dir)) ||
      (r = nn_path(b->run, sizeof b->run, err, "%s/root/run", dir)) ||
      (r = nn_path(b->run_sshd, sizeof b->run_sshd, err, "%s/root/run/sshd", dir)) ||
      (r = nn_path(text, sizeof text, err, "%s/host", dir)) ||
      (r = nn_read_file(text, text, sizeof text, err)))
    return r;
  if (!nn_kv(text, "hostname", b->hostname, sizeof b->hostname))
    snprintf(b->hostname, sizeof b->hostname, "%s", host);
  return 0;
}

/* Reads exactly n bytes within the boot deadline; 0 at a clean end of file. */
static ssize_t read_full(int fd, void *p, size_t n)
{
  size_t got = 0;

  while (got < n) {
    ssize_t r;

    if (poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, NN_WAIT_MS) <= 0)
      return -1;
    r = read(fd, (char *)p + got, n - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return got ? -1 : 0;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

static int wait_boot(int rfd, pid_t starter, pid_t *init, struct imc_err *err)
{
  struct boot_fail f;
  int status = 0;
  ssize_t k = read_full(rfd, init, sizeof *init);

  while (waitpid(starter, &status, 0) < 0 && errno == EINTR)
    ;
  if (k != (ssize_t)sizeof *init || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return imc_fail(err, IMC_E_CLOUD, "Netns: cannot enter the host's namespaces (status %d)",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  k = read_full(rfd, &f, sizeof f);
  if (k == 0)
    return 0;
  if (k == (ssize_t)sizeof f && f.step > 0 &&
      (size_t)f.step < sizeof step_names / sizeof *step_names)
    return imc_fail(err, IMC_E_CLOUD, "Netns: host boot failed at %s: %s", step_names[f.step],
                    strerror(f.errnum));
  return imc_fail(err, IMC_E_CLOUD, "Netns: host boot did not finish");
}

int nn_boot(struct nn_ctx *c, const char *host, struct imc_err *err)
{
  struct boot b;
  char path[NN_PATH];
  int p[2], r;
  pid_t starter, init = 0;

  if ((r = prepare(c, host, &b, err)) != 0)
    return r;
  if (pipe2(p, O_CLOEXEC) != 0)
    return imc_fail(err, IMC_E_IO, "Netns: pipe: %s", strerror(errno));
  starter = fork();
  if (starter == 0)
    host_starter(&b, p[1]);
  close(p[1]);
  if (starter < 0) {
    close(p[0]);
    return imc_fail(err, IMC_E_IO, "Netns: fork: %s", strerror(errno));
  }
  r = wait_boot(p[0], starter, &init, err);
  close(p[0]);
  if (r == 0 && (r = nn_path(path, sizeof path, err, "%s/hosts/%s/pid", c->dir, host)) == 0) {
    remove(path); /* a stale pid file of an earlier boot */
    r = nn_write_pid(path, init, err);
  }
  if (r && init > 0)
    nn_kill_wait(init, NULL);
  if (r == 0 && nn_path(path, sizeof path, NULL, "%s/hosts/%s/stopped", c->dir, host) == 0)
    remove(path);
  return r;
}
