/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Is the process that wrote a claim row still there?  The SQLite store's claims outlive a
 * killed process as rows; these two functions tell a live holder from a dead one.  A pid alone
 * is not enough: after a crash the kernel may give the same pid to a new process, so a row
 * also records its process's start time, which a reused pid does not share.
 *
 * Linux only (/proc/PID/stat), as the rest of imc. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STAT_MAX         1024 /* a stat line is ~300 bytes; the command name is at most 64 */
#define STAT_START_FIELD 22   /* starttime, proc(5) */

/* Reads /proc/PID/stat into buf (NUL-terminated).  IMC_E_NOTFOUND when the process is gone. */
static int read_stat(pid_t pid, char *buf, size_t size)
{
  char path[64];
  ssize_t n;
  int fd;

  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
    return errno == ENOENT ? IMC_E_NOTFOUND : IMC_E_IO;
  do
    n = read(fd, buf, size - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n < 0)
    return errno == ESRCH ? IMC_E_NOTFOUND : IMC_E_IO;
  buf[n] = '\0';
  return 0;
}

int store_proc_start(pid_t pid, int64_t *started)
{
  char buf[STAT_MAX], *p, *end;
  long long v;
  int r;

  if ((r = read_stat(pid, buf, sizeof buf)) != 0)
    return r;
  /* "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields are counted
   * from the last ')', after which field 3 starts. */
  if (!(p = strrchr(buf, ')')))
    return IMC_E_PARSE;
  p++;
  for (int field = 3; field < STAT_START_FIELD; field++) {
    while (*p == ' ')
      p++;
    while (*p && *p != ' ')
      p++;
  }
  errno = 0;
  v = strtoll(p, &end, 10);
  if (end == p || errno != 0 || v < 0)
    return IMC_E_PARSE;
  *started = v;
  return 0;
}

bool store_proc_alive(pid_t pid, int64_t started)
{
  int64_t now;
  int r;

  if (pid <= 0)
    return false;
  if (kill(pid, 0) != 0 && errno == ESRCH)
    return false;
  r = store_proc_start(pid, &now);
  if (r == IMC_E_NOTFOUND)
    return false; /* it ended between the two looks */
  if (r != 0)
    return true; /* cannot tell: never take over a claim that may be live */
  return now == started;
}
