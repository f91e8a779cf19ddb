/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The log file with rotation.  One mutex orders the lines of every thread and the rotation:
 * a line is never split across two files.  A rotation that fails (a read-only directory) is
 * reported once on standard error and the log goes on in the same file. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "logfile.h"

struct logfile {
  pthread_mutex_t mu;
  FILE *f;
  char *path;
  long max;
  long size;
  bool rotate_failed; /* said once */
};

static FILE *open_append(const char *path, long *size)
{
  FILE *f = fopen(path, "a");

  if (f && fseek(f, 0, SEEK_END) == 0)
    *size = ftell(f);
  return f;
}

int logfile_open(const char *path, long max_size, struct logfile **out, struct imc_err *err)
{
  struct logfile *lf = imc_calloc(1, sizeof *lf);

  *out = NULL;
  if (!lf || !(lf->path = imc_strdup(path))) {
    imc_free(lf);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  if (!(lf->f = open_append(path, &lf->size))) {
    int e = errno;

    imc_free(lf->path);
    imc_free(lf);
    return imc_fail(err, IMC_E_IO, "cannot open %s: %s", path, strerror(e));
  }
  lf->max = max_size;
  pthread_mutex_init(&lf->mu, NULL);
  *out = lf;
  return 0;
}

/* path.N into out; false when it does not fit. */
static bool backup_name(const char *path, int n, char *out, size_t size)
{
  int w = snprintf(out, size, "%s.%d", path, n);

  return w > 0 && (size_t)w < size;
}

/* path.2 -> path.3, path.1 -> path.2, path -> path.1, then a new path.  Under mu. */
static int rotate(struct logfile *lf)
{
  char from[4096], to[4096];
  FILE *f;

  for (int i = LOGFILE_BACKUPS - 1; i >= 1; i--) {
    if (!backup_name(lf->path, i, from, sizeof from) ||
        !backup_name(lf->path, i + 1, to, sizeof to))
      return ENAMETOOLONG;
    if (rename(from, to) != 0 && errno != ENOENT)
      return errno;
  }
  if (!backup_name(lf->path, 1, to, sizeof to))
    return ENAMETOOLONG;
  if (rename(lf->path, to) != 0)
    return errno;
  if (!(f = open_append(lf->path, &lf->size)))
    return errno;
  fclose(lf->f);
  lf->f = f;
  lf->size = 0;
  return 0;
}

void logfile_write(struct logfile *lf, const char *line)
{
  long len = (long)strlen(line) + 1;

  pthread_mutex_lock(&lf->mu);
  if (lf->max > 0 && lf->size > 0 && lf->size + len >= lf->max) {
    int e = rotate(lf);

    if (e && !lf->rotate_failed) {
      fprintf(stderr, "imcd: cannot rotate %s (%s): the log goes on in the same file\n",
              lf->path, strerror(e));
      lf->rotate_failed = true;
    }
  }
  if (fprintf(lf->f, "%s\n", line) > 0)
    lf->size += len;
  fflush(lf->f);
  pthread_mutex_unlock(&lf->mu);
}

void logfile_close(struct logfile *lf)
{
  if (!lf)
    return;
  fclose(lf->f);
  pthread_mutex_destroy(&lf->mu);
  imc_free(lf->path);
  imc_free(lf);
}
