/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Ansible's output, line by line, as the contextualizer reads it (lib/ctxt_run.c,
 * lib/ctxt_playbook.c): task results carry text from the VMs, so every byte may be anyone's.
 * Holds the readers to what they return: a host name inside its line, a recap host that is a
 * string of its own, marker numbers in range. */
#include <stdlib.h>
#include <string.h>

#include "ctxt_int.h"
#include "fuzz.h"
#include "imc/alloc.h"

static void check_line(const char *line, size_t n)
{
  struct imc_str host;
  char *name = NULL;
  bool failed;
  long k;

  if (ctxt_host_line(line, n, &host) &&
      (host.p < line || host.p + host.n > line + n || host.n == 0))
    abort();
  if (ctxt_recap_line(line, n, &name, &failed)) {
    if (!name || strlen(name) > n)
      abort();
    imc_free(name);
  }
  if ((k = ctxt_part_marker(line, n)) < -1 || k > 1000000)
    abort();
  if ((k = ctxt_play_marker(line, n)) < -1 || k > 1000000)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    /* A line of its own, so that a reader that runs past n touches memory ASan watches. */
    char *line = imc_malloc(n + 1);

    if (!line)
      return 0;
    memcpy(line, p, n);
    line[n] = '\n';
    check_line(line, n);
    imc_free(line);
    p += n + (nl ? 1 : 0);
  }
  return 0;
}
