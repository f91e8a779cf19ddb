/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Long operations in local mode: the interrupt handler and --detach's fork (see worker.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "worker.h"

static volatile sig_atomic_t interrupts;

/* Only async-signal-safe calls here: write(2) and _exit(2). */
static void say(const char *text, size_t len)
{
  ssize_t w = write(STDERR_FILENO, text, len);

  (void)w; /* nothing to do when stderr is gone (a closed terminal) */
}

static void on_interrupt(int sig)
{
  static const char first[] = "\nimc: interrupted: stopping at the next safe point so the store "
                              "stays consistent (interrupt again to leave at once)\n";
  static const char second[] = "\nimc: leaving now: the store is consistent, and the next imc "
                               "command settles the cloud calls that were in flight\n";
  int saved = errno;

  (void)sig;
  if (interrupts == 0) {
    interrupts = 1;
    say(first, sizeof first - 1);
    errno = saved;
    return;
  }
  say(second, sizeof second - 1);
  _exit(130);
}

void cli_interrupt_arm(void)
{
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  /* SA_RESTART: the engine's threads are in the middle of system calls the signal must not
   * break; the operation looks at the flag at its safe points instead. */
  struct sigaction sa = {.sa_handler = on_interrupt, .sa_flags = SA_RESTART};

  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset(&sa.sa_mask, sigs[i]); /* one handler at a time */
  interrupts = 0;
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
}

bool cli_interrupted(void)
{
  return interrupts != 0;
}

int cli_detach(const char *log_path, int *verdict_fd)
{
  unsigned char status = CLI_FAIL;
  ssize_t n;
  pid_t pid;
  int p[2];

  fflush(NULL); /* nothing buffered may be written twice */
  if (pipe2(p, O_CLOEXEC) != 0) {
    fprintf(stderr, "imc: cannot start a background worker: %s\n", strerror(errno));
    return CLI_FAIL;
  }
  if ((pid = fork()) < 0) {
    fprintf(stderr, "imc: cannot start a background worker: %s\n", strerror(errno));
    close(p[0]);
    close(p[1]);
    return CLI_FAIL;
  }
  if (pid == 0) {
    close(p[0]);
    setsid();                 /* no terminal: closing it sends no SIGHUP here */
    signal(SIGPIPE, SIG_IGN); /* a caller that is gone must not kill the work */
    *verdict_fd = p[1];
    return -1;
  }
  close(p[1]);
  do
    n = read(p[0], &status, 1);
  while (n < 0 && errno == EINTR);
  close(p[0]);
  if (n != 1) {
    fprintf(stderr, "imc: the background worker (process %ld) stopped before it answered\n",
            (long)pid);
    return CLI_FAIL;
  }
  if (status == CLI_OK && !cli_global.quiet && !cli_global.json)
    fprintf(stderr, "imc: background worker %ld carries on; its log: %s\n", (long)pid, log_path);
  return status;
}

void cli_detach_answer(int verdict_fd, int status, const char *log_path)
{
  unsigned char b = (unsigned char)status;
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int out = log >= 0 ? log : null;
  ssize_t w;

  fflush(stdout);
  fflush(stderr);
  /* The streams move before the answer, so nothing the worker writes later reaches the
   * terminal after its caller has returned. */
  if (null >= 0)
    dup2(null, STDIN_FILENO);
  if (out >= 0) {
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
  }
  if (null >= 0)
    close(null);
  if (log >= 0)
    close(log);
  w = write(verdict_fd, &b, 1);
  (void)w; /* a caller that is gone needs no answer */
  close(verdict_fd);
}
