/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/logfile.c: appending, rotation at the size limit to .1/.2/.3 (IM's
 * RotatingFileHandler with backupCount 3), whole lines under many threads, failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "logfile.h"

struct dir {
  char path[64];
  char log[96];
};

static int setup(void **state)
{
  struct dir *d = imc_calloc(1, sizeof *d);

  if (!d)
    return -1;
  snprintf(d->path, sizeof d->path, "/tmp/imc-logfile-XXXXXX");
  if (!mkdtemp(d->path))
    return -1;
  snprintf(d->log, sizeof d->log, "%s/imcd.log", d->path);
  *state = d;
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path);
}

static int teardown(void **state)
{
  struct dir *d = *state;

  nftw(d->path, remove_one, 8, FTW_DEPTH | FTW_PHYS);
  imc_free(d);
  return 0;
}

/* The file's contents ("" when absent); caller frees. */
static char *slurp(const char *path)
{
  FILE *f = fopen(path, "r");
  struct imc_buf b;
  char chunk[4096];
  size_t n;

  imc_buf_init(&b, 64 * 1024 * 1024);
  imc_buf_adds(&b, "");
  if (f) {
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
      imc_buf_add(&b, chunk, n);
    fclose(f);
  }
  return imc_buf_take(&b, NULL);
}

static char *backup(const struct dir *d, int n)
{
  char path[128];

  snprintf(path, sizeof path, "%s.%d", d->log, n);
  return slurp(path);
}

static bool exists(const char *path)
{
  struct stat st;

  return stat(path, &st) == 0;
}

static void test_logfile_appends_lines(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  char *text;

  assert_int_equal(logfile_open(d->log, 0, &lf, &err), 0);
  logfile_write(lf, "one");
  logfile_write(lf, "two");
  logfile_close(lf);
  assert_int_equal(logfile_open(d->log, 0, &lf, &err), 0);
  logfile_write(lf, "three");
  logfile_close(lf);
  text = slurp(d->log);
  assert_string_equal(text, "one\ntwo\nthree\n");
  imc_free(text);
}

static void test_logfile_rotates_before_reaching_the_limit(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  char *now, *one;

  /* Lines of 10 bytes with their newline, limit 25: two fit, the third rotates. */
  assert_int_equal(logfile_open(d->log, 25, &lf, &err), 0);
  logfile_write(lf, "line-0001");
  logfile_write(lf, "line-0002");
  logfile_write(lf, "line-0003");
  logfile_close(lf);
  now = slurp(d->log);
  one = backup(d, 1);
  assert_string_equal(one, "line-0001\nline-0002\n");
  assert_string_equal(now, "line-0003\n");
  imc_free(now);
  imc_free(one);
}

static void test_logfile_keeps_three_backups(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  char line[16], path[128], *v[4];

  assert_int_equal(logfile_open(d->log, 15, &lf, &err), 0); /* one 10-byte line a file */
  for (int i = 1; i <= 6; i++) {
    snprintf(line, sizeof line, "line-%04d", i);
    logfile_write(lf, line);
  }
  logfile_close(lf);
  v[0] = slurp(d->log);
  for (int i = 1; i <= 3; i++)
    v[i] = backup(d, i);
  assert_string_equal(v[0], "line-0006\n");
  assert_string_equal(v[1], "line-0005\n");
  assert_string_equal(v[2], "line-0004\n");
  assert_string_equal(v[3], "line-0003\n");
  snprintf(path, sizeof path, "%s.4", d->log);
  assert_false(exists(path));
  for (int i = 0; i < 4; i++)
    imc_free(v[i]);
}

static void test_logfile_zero_never_rotates(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  char path[128];

  assert_int_equal(logfile_open(d->log, 0, &lf, &err), 0);
  for (int i = 0; i < 1000; i++)
    logfile_write(lf, "a line of the log");
  logfile_close(lf);
  snprintf(path, sizeof path, "%s.1", d->log);
  assert_false(exists(path));
}

static void test_logfile_long_line_in_an_empty_file_is_not_rotated(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  char path[128], *text;

  assert_int_equal(logfile_open(d->log, 5, &lf, &err), 0);
  logfile_write(lf, "longer than five");
  logfile_close(lf);
  snprintf(path, sizeof path, "%s.1", d->log);
  assert_false(exists(path));
  text = slurp(d->log);
  assert_string_equal(text, "longer than five\n");
  imc_free(text);
}

static void test_logfile_unopenable_path_is_an_io_error_naming_it(void **state)
{
  struct dir *d = *state;
  struct logfile *lf = (struct logfile *)1;
  struct imc_err err = {0};
  char path[128];

  snprintf(path, sizeof path, "%s/no/such/dir/imcd.log", d->path);
  assert_int_equal(logfile_open(path, 0, &lf, &err), IMC_E_IO);
  assert_null(lf);
  assert_non_null(strstr(err.msg, path));
}

static void test_logfile_failed_rotation_keeps_logging(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  char blocker[160], *text;

  /* imcd.log.3 is a directory and imcd.log.2 a file: renaming the file onto it fails. */
  snprintf(blocker, sizeof blocker, "%s.3", d->log);
  assert_int_equal(mkdir(blocker, 0700), 0);
  snprintf(blocker, sizeof blocker, "%s.2", d->log);
  fclose(fopen(blocker, "w"));
  assert_int_equal(logfile_open(d->log, 15, &lf, &err), 0);
  logfile_write(lf, "line-0001");
  logfile_write(lf, "line-0002");
  logfile_write(lf, "line-0003");
  logfile_close(lf);
  text = slurp(d->log);
  assert_string_equal(text, "line-0001\nline-0002\nline-0003\n");
  imc_free(text);
}

#define THREADS 4
#define LINES 2000

static void *writer(void *arg)
{
  struct logfile *lf = arg;

  for (int i = 0; i < LINES; i++)
    logfile_write(lf, "0123456789abcdefghijklmnopqrstuvwxyz");
  return NULL;
}

/* Every line whole and exactly LINE; returns how many. */
static size_t count_whole_lines(const char *text)
{
  size_t n = 0;

  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n');

    assert_non_null(nl);
    assert_int_equal((size_t)(nl - p), 36);
    assert_memory_equal(p, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    n++;
    p = nl + 1;
  }
  return n;
}

static void test_logfile_threads_never_split_a_line(void **state)
{
  struct dir *d = *state;
  struct logfile *lf;
  struct imc_err err = {0};
  pthread_t t[THREADS];
  size_t total = 0;
  char *text;

  /* Big enough that all lines fit in the file and its three backups. */
  assert_int_equal(logfile_open(d->log, 100000, &lf, &err), 0);
  for (int i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, writer, lf), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  logfile_close(lf);
  text = slurp(d->log);
  total += count_whole_lines(text);
  imc_free(text);
  for (int i = 1; i <= 3; i++) {
    text = backup(d, i);
    total += count_whole_lines(text);
    imc_free(text);
  }
  assert_int_equal(total, THREADS * LINES);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_logfile_appends_lines, setup, teardown),
    cmocka_unit_test_setup_teardown(test_logfile_rotates_before_reaching_the_limit, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_logfile_keeps_three_backups, setup, teardown),
    cmocka_unit_test_setup_teardown(test_logfile_zero_never_rotates, setup, teardown),
    cmocka_unit_test_setup_teardown(test_logfile_long_line_in_an_empty_file_is_not_rotated,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_logfile_unopenable_path_is_an_io_error_naming_it,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_logfile_failed_rotation_keeps_logging, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_logfile_threads_never_split_a_line, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
