/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Without libFuzzer: feeds every regular file of the directories (or the files) named on the
 * command line to LLVMFuzzerTestOneInput, so the seed corpora and every saved crash run as a
 * plain test.  Fails when it finds nothing to run (a test that runs nothing proves nothing)
 * or cannot read an input; a target that finds a bug aborts, which fails the test too. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "imc/buf.h"
#include "imc/err.h"

#define REPLAY_MAX_INPUT (1024u * 1024) /* seeds are small; libFuzzer runs use -max_len */

/* Runs one file; returns 0 or 1 (not readable). */
static int replay_file(const char *path)
{
  struct imc_buf b;
  struct imc_err err;
  int bad = 0;

  imc_buf_init(&b, REPLAY_MAX_INPUT);
  imc_err_clear(&err);
  if (imc_read_file(path, &b, &err) != 0) {
    fprintf(stderr, "replay: %s\n", err.msg);
    bad = 1;
  } else {
    (void)LLVMFuzzerTestOneInput((const uint8_t *)imc_buf_cstr(&b), b.len);
  }
  imc_buf_free(&b);
  return bad;
}

/* Runs every regular file directly inside dir (in directory order: the inputs are
 * independent).  Adds to *ran and *bad. */
static void replay_dir(const char *dir, unsigned *ran, unsigned *bad)
{
  char path[4096];
  struct dirent *de;
  struct stat st;
  DIR *d = opendir(dir);

  if (d == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", dir);
    (*bad)++;
    return;
  }
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) {
      fprintf(stderr, "replay: path too long in %s\n", dir);
      (*bad)++;
      continue;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    *bad += (unsigned)replay_file(path);
    (*ran)++;
  }
  closedir(d);
}

int main(int argc, char **argv)
{
  unsigned ran = 0, bad = 0;
  struct stat st;

  if (argc < 2) {
    fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
      replay_dir(argv[i], &ran, &bad);
    } else {
      bad += (unsigned)replay_file(argv[i]);
      ran++;
    }
  }
  printf("replay: %u inputs, %u unreadable\n", ran, bad);
  if (ran == 0) {
    fprintf(stderr, "replay: no input found\n");
    return 1;
  }
  return bad == 0 ? 0 : 1;
}
