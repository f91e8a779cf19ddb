/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Child processes of the Netns backend: ip, losetup, ssh-keygen, nsenter.  Each starts from an
 * argv array with posix_spawn (never a shell), with a small fixed environment, and is waited
 * for at most NN_WAIT_MS through a pidfd, so an operation stays one bounded step. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "netns_int.h"

#define NN_STDERR_MAX 512

static char *const child_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", "LC_ALL=C", NULL};

static int pidfd_of(pid_t pid)
{
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static long long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is there; false at end of file or on an error. */
static bool drain(int fd, struct imc_buf *into, char *errbuf, size_t *errlen)
{
  char chunk[1024];
  ssize_t r = read(fd, chunk, sizeof chunk);

  if (r < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (r <= 0)
    return false;
  if (into)
    imc_buf_add(into, chunk, (size_t)r);
  if (errbuf) {
    size_t k = (size_t)r < NN_STDERR_MAX - 1 - *errlen ? (size_t)r : NN_STDERR_MAX - 1 - *errlen;

    memcpy(errbuf + *errlen, chunk, k);
    *errlen += k;
    errbuf[*errlen] = '\0';
  }
  return true;
}

/* Pumps the child's stdout and stderr until both close, then waits for its exit. */
static int collect(pid_t pid, int out_fd, int err_fd, struct imc_buf *out, char *errbuf,
                   int *status)
{
  long long deadline = now_ms() + NN_WAIT_MS;
  size_t errlen = 0;
  int pfd = pidfd_of(pid);

  while (out_fd >= 0 || err_fd >= 0) {
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    long long left = deadline - now_ms();

    if (left <= 0 || poll(p, 2, (int)left) == 0)
      break;
    if (p[0].revents && !drain(out_fd, out, NULL, NULL)) {
      close(out_fd);
      out_fd = -1;
    }
    if (p[1].revents && !drain(err_fd, NULL, errbuf, &errlen)) {
      close(err_fd);
      err_fd = -1;
    }
  }
  /* Without a pidfd (an old kernel) the wait below is not bounded; with one it is. */
  if (out_fd >= 0 || err_fd >= 0 ||
      (pfd >= 0 && poll(&(struct pollfd){.fd = pfd, .events = POLLIN}, 1,
                        (int)(deadline > now_ms() ? deadline - now_ms() : 0)) <= 0))
    kill(pid, SIGKILL);
  if (out_fd >= 0)
    close(out_fd);
  if (err_fd >= 0)
    close(err_fd);
  if (pfd >= 0)
    close(pfd);
  while (waitpid(pid, status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

/* MSG_NOSIGNAL: a child that exits before reading its input must not kill us with SIGPIPE
 * (stdin is a socket pair for this reason, not a pipe). */
static int feed(int fd, const char *in)
{
  size_t len = in ? strlen(in) : 0, done = 0;

  while (done < len) {
    ssize_t w = send(fd, in + done, len - done, MSG_NOSIGNAL);

    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      return -1;
    done += (size_t)w;
  }
  return 0;
}

int nn_run(const char *const argv[], const char *in, struct imc_buf *out, struct imc_err *err)
{
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, status = 0, r = 0;
  char errbuf[NN_STDERR_MAX] = "";
  posix_spawn_file_actions_t fa;
  pid_t pid;

  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pin) || pipe2(pout, O_CLOEXEC) ||
      pipe2(perr, O_CLOEXEC)) {
    r = imc_fail(err, IMC_E_IO, "Netns: pipe: %s", strerror(errno));
    goto out;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
  posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
  posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
  r = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, child_env);
  posix_spawn_file_actions_destroy(&fa);
  close(pin[0]);
  close(pout[1]);
  close(perr[1]);
  pin[0] = pout[1] = perr[1] = -1;
  if (r != 0) {
    r = imc_fail(err, IMC_E_CLOUD, "Netns: cannot run %s: %s", argv[0], strerror(r));
    goto out;
  }
  /* The input is a line or two (chpasswd's), far below a socket buffer's capacity. */
  feed(pin[1], in);
  shutdown(pin[1], SHUT_WR);
  close(pin[1]);
  pin[1] = -1;
  if (collect(pid, pout[0], perr[0], out, errbuf, &status) != 0)
    status = -1;
  pout[0] = perr[0] = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errbuf[strcspn(errbuf, "\n")] = '\0';
    r = imc_fail(err, IMC_E_CLOUD, "Netns: %s %s failed (%s%d)%s%s", argv[0],
                 argv[1] ? argv[1] : "", WIFEXITED(status) ? "status " : "signal ",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *errbuf ? ": " : "",
                 errbuf);
  }
out:
  for (int i = 0; i < 2; i++) {
    if (pin[i] >= 0)
      close(pin[i]);
    if (pout[i] >= 0)
      close(pout[i]);
    if (perr[i] >= 0)
      close(perr[i]);
  }
  return r;
}

int nn_kill_wait(pid_t pid, struct imc_err *err)
{
  int pfd = pidfd_of(pid), r = 0;

  if (pfd < 0)
    return errno == ESRCH ? 0 : imc_fail(err, IMC_E_IO, "Netns: pidfd_open: %s", strerror(errno));
  if (syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) != 0 && errno != ESRCH)
    r = imc_fail(err, IMC_E_IO, "Netns: cannot kill process %d: %s", (int)pid, strerror(errno));
  else if (poll(&(struct pollfd){.fd = pfd, .events = POLLIN}, 1, NN_WAIT_MS) <= 0)
    r = imc_fail(err, IMC_E_TIMEOUT, "Netns: process %d did not end after SIGKILL", (int)pid);
  close(pfd);
  return r;
}
