/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Netns backend's state directory: small files, the lock, process identities. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns_int.h"

int nn_path(char *out, size_t n, struct imc_err *err, const char *fmt, ...)
{
  va_list ap;
  int k;

  va_start(ap, fmt);
  k = vsnprintf(out, n, fmt, ap);
  va_end(ap);
  if (k < 0 || (size_t)k >= n)
    return imc_fail(err, IMC_E_TOOBIG, "Netns: a path in the state directory is too long");
  return 0;
}

/* Written beside and renamed into place: readers that take no lock (update, find) see the
 * old file or the new one, never half of it. */
int nn_write_file(const char *path, const char *data, size_t len, mode_t mode, struct imc_err *err)
{
  char tmp[NN_PATH + 8];
  size_t done = 0;
  int fd, r;

  if ((r = nn_path(tmp, sizeof tmp, err, "%s.tmp", path)) != 0)
    return r;
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)) < 0)
    return imc_fail(err, IMC_E_IO, "Netns: cannot write %s: %s", path, strerror(errno));
  while (done < len) {
    ssize_t w = write(fd, data + done, len - done);

    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0)
      break;
    done += (size_t)w;
  }
  if (done < len || close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;

    if (done < len)
      close(fd);
    remove(tmp);
    return imc_fail(err, IMC_E_IO, "Netns: cannot write %s: %s", path, strerror(e));
  }
  return 0;
}

int nn_read_file(const char *path, char *out, size_t n, struct imc_err *err)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  size_t len = 0;

  out[0] = '\0';
  if (fd < 0 && errno == ENOENT)
    return imc_fail(err, IMC_E_NOTFOUND, "Netns: %s does not exist", path);
  if (fd < 0)
    return imc_fail(err, IMC_E_IO, "Netns: cannot read %s: %s", path, strerror(errno));
  while (len + 1 < n) {
    ssize_t r = read(fd, out + len, n - 1 - len);

    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  close(fd);
  out[len] = '\0';
  return 0;
}

bool nn_kv(const char *text, const char *key, char *out, size_t n)
{
  size_t klen = strlen(key);

  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);

    if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == ' ') {
      if (len - klen - 1 >= n)
        return false;
      memcpy(out, p + klen + 1, len - klen - 1);
      out[len - klen - 1] = '\0';
      return true;
    }
  }
  return false;
}

bool nn_exists(const char *path)
{
  struct stat st;

  return lstat(path, &st) == 0;
}

/* /proc/PID/stat: "pid (comm) state ppid ... starttime" with starttime the 22nd field; comm
 * may hold spaces and parentheses, so fields are counted after the last ')'. */
bool nn_proc_alive(pid_t pid, unsigned long long *start)
{
  char path[64], text[1024], *p;
  char state;

  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if (pid <= 0 || nn_read_file(path, text, sizeof text, NULL) != 0 || !(p = strrchr(text, ')')) ||
      p[1] != ' ')
    return false;
  state = p[2];
  p += 2;
  for (int field = 3; field < 22 && p; field++)
    if ((p = strchr(p, ' ')))
      p++;
  if (!p)
    return false;
  *start = strtoull(p, NULL, 10);
  return state != 'Z' && state != 'X';
}

int nn_write_pid(const char *path, pid_t pid, struct imc_err *err)
{
  unsigned long long start = 0;
  char line[64];
  int k;

  if (!nn_proc_alive(pid, &start))
    return imc_fail(err, IMC_E_CLOUD, "Netns: process %d ended at once", (int)pid);
  k = snprintf(line, sizeof line, "%d %llu\n", (int)pid, start);
  return nn_write_file(path, line, (size_t)k, 0644, err);
}

bool nn_pid_file_alive(const char *path, pid_t *pid)
{
  unsigned long long want, start = 0;
  char text[64];
  int p;

  *pid = 0;
  if (nn_read_file(path, text, sizeof text, NULL) != 0 || sscanf(text, "%d %llu", &p, &want) != 2)
    return false;
  *pid = (pid_t)p;
  return nn_proc_alive(*pid, &start) && start == want;
}

/* Depth-first with *at() calls relative to directory descriptors, so a symbolic link inside
 * a host's upper layer (which the host's root user controls) is removed, never followed. */
static int remove_at(int parent, const char *name, int depth, struct imc_err *err)
{
  struct dirent *de;
  DIR *d;
  int fd, r = 0;

  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return imc_fail(err, IMC_E_IO, "Netns: cannot remove %s: %s", name, strerror(errno));
  if (depth > 256)
    return imc_fail(err, IMC_E_IO, "Netns: %s is nested too deeply to remove", name);
  fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || !(d = fdopendir(fd))) {
    if (fd >= 0)
      close(fd);
    return imc_fail(err, IMC_E_IO, "Netns: cannot open %s: %s", name, strerror(errno));
  }
  while (r == 0 && (de = readdir(d)))
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      r = remove_at(dirfd(d), de->d_name, depth + 1, err);
  closedir(d);
  if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    r = imc_fail(err, IMC_E_IO, "Netns: cannot remove %s: %s", name, strerror(errno));
  return r;
}

int nn_remove_tree(const char *path, struct imc_err *err)
{
  return remove_at(AT_FDCWD, path, 0, err);
}

int nn_lock(struct nn_ctx *c, struct imc_err *err)
{
  char path[NN_PATH];
  int r;

  if (c->lock_fd >= 0)
    return 0;
  if ((r = nn_path(path, sizeof path, err, "%s/lock", c->dir)) != 0)
    return r;
  c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (c->lock_fd < 0)
    return imc_fail(err, IMC_E_IO, "Netns: cannot open %s: %s", path, strerror(errno));
  while (flock(c->lock_fd, LOCK_EX) != 0)
    if (errno != EINTR) {
      close(c->lock_fd);
      c->lock_fd = -1;
      return imc_fail(err, IMC_E_IO, "Netns: cannot lock %s: %s", path, strerror(errno));
    }
  return 0;
}

void nn_unlock(struct nn_ctx *c)
{
  if (c->lock_fd >= 0)
    close(c->lock_fd);
  c->lock_fd = -1;
}

int nn_each_name(const char *dir, int (*fn)(const char *name, void *arg), void *arg)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  int r = 0;

  if (!d)
    return 0;
  while (r == 0 && (de = readdir(d)))
    if (de->d_name[0] != '.')
      r = fn(de->d_name, arg);
  closedir(d);
  return r;
}
