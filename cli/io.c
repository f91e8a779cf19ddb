/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Files for the command line: reading a document from a path or standard input, and
 * replacing a file atomically (`imc radl fmt -w`). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_read_input(const char *path, struct imc_buf *b, struct imc_err *err)
{
  if (strcmp(path, "-") == 0)
    return imc_read_stream(stdin, "<stdin>", b, err);
  return imc_read_file(path, b, err);
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Makes the rename itself durable.  Failing here is not worth reporting: the new contents
 * are already in place and synced. */
static void sync_dir_of(const char *file)
{
  char dir[PATH_MAX];
  const char *slash = strrchr(file, '/');
  size_t n = slash ? (size_t)(slash - file) : 0;
  int fd;

  if (n == 0 || n >= sizeof dir)
    return;
  memcpy(dir, file, n);
  dir[n] = '\0';
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return;
  (void)fsync(fd);
  close(fd);
}

int cli_write_atomic(const char *path, const char *data, size_t len, struct imc_err *err)
{
  char target[PATH_MAX];
  struct imc_buf tmp;
  struct stat st;
  bool made = false;
  int fd = -1, r;

  imc_buf_init(&tmp, PATH_MAX);
  /* Write through a symlink to the file it names: renaming over the link would replace the
   * link by a plain file. */
  if (!realpath(path, target) || stat(target, &st) != 0) {
    r = imc_fail(err, IMC_E_IO, "%s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    r = imc_fail(err, IMC_E_IO, "%s: not a regular file", path);
    goto out;
  }
  imc_buf_addf(&tmp, "%s.tmp.%ld", target, (long)getpid());
  if (imc_buf_err(&tmp)) {
    r = imc_fail(err, IMC_E_TOOBIG, "%s: path too long for a temporary file", path);
    goto out;
  }
  fd = open(imc_buf_cstr(&tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    r = imc_fail(err, IMC_E_IO, "%s: %s", imc_buf_cstr(&tmp), strerror(errno));
    goto out;
  }
  made = true;
  /* The umask trimmed open()'s mode; the original owner matters when root rewrites a user's
   * file, and failing to keep it (not root) leaves the file ours, which is what we can do. */
  if ((st.st_uid != geteuid() || st.st_gid != getegid()) && fchown(fd, st.st_uid, st.st_gid))
    errno = 0;
  if (fchmod(fd, st.st_mode & 07777) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
    r = imc_fail(err, IMC_E_IO, "%s: cannot write: %s", path, strerror(errno));
    goto out;
  }
  r = close(fd);
  fd = -1;
  if (r != 0 || rename(imc_buf_cstr(&tmp), target) != 0) {
    r = imc_fail(err, IMC_E_IO, "%s: cannot write: %s", path, strerror(errno));
    goto out;
  }
  made = false;
  sync_dir_of(target);
  r = 0;
out:
  if (fd >= 0)
    close(fd);
  if (made)
    unlink(imc_buf_cstr(&tmp));
  imc_buf_free(&tmp);
  return r;
}
