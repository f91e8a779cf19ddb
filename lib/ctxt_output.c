/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What a contextualization run says: Ansible's output read line by line (per-VM lines with
 * the PLAY/TASK line above them, Ansible's own warnings for the infrastructure, the recap's
 * outcome per VM, the marker plays of site.yml), passwords scrubbed, handed to the engine's
 * logs as they come; and imc's own lines. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctxt_job.h"
#include "imc/alloc.h"

/* One line of the log of VM vm (-1: the infrastructure's). */
static void job_vlog(struct job *j, int vm, const char *fmt, va_list ap) IMC_PRINTF(3, 0);
static void job_vlog(struct job *j, int vm, const char *fmt, va_list ap)
{
  struct imc_buf b;

  imc_buf_init(&b, 4096);
  imc_buf_vaddf(&b, fmt, ap);
  imc_buf_addc(&b, '\n');
  if (!imc_buf_err(&b))
    imc_engine_ctxt_log(j->run->e, j->run->id, vm, imc_buf_cstr(&b), NULL);
  imc_buf_free(&b);
}

void ctxt_ilog(struct job *j, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  job_vlog(j, -1, fmt, ap);
  va_end(ap);
}

void ctxt_vm_log(struct job *j, size_t i, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  job_vlog(j, (int)j->nodes[i].vmid, fmt, ap);
  va_end(ap);
}

void ctxt_fail_vm(struct job *j, size_t i, const char *why)
{
  j->target[i] = false;
  ctxt_vm_log(j, i, "%s", why);
}

/* Replaces every password of the run by "***" in line (in place, same length or shorter). */
static void scrub(const struct job *j, struct imc_buf *line)
{
  for (size_t i = 0; i < j->n; i++) {
    const char *secrets[2] = {j->nodes[i].password, j->nodes[i].new_password};

    for (size_t k = 0; k < 2; k++) {
      size_t sl = secrets[k] ? strlen(secrets[k]) : 0, from = 0;
      char *at;

      if (sl < 3)
        continue;
      /* The search goes on after each "***", which may itself match a secret. */
      while (from < line->len &&
             (at = memmem(line->data + from, line->len - from, secrets[k], sl)) != NULL) {
        memcpy(at, "***", 3);
        memmove(at + 3, at + sl, line->len - (size_t)(at - line->data) - sl);
        line->len -= sl - 3;
        line->data[line->len] = '\0';
        from = (size_t)(at - line->data) + 3;
      }
    }
  }
}

static ssize_t node_by_name(const struct job *j, const char *name, size_t n)
{
  for (size_t i = 0; i < j->n; i++) {
    if (strlen(j->nodes[i].name) == n && memcmp(j->nodes[i].name, name, n) == 0)
      return (ssize_t)i;
  }
  return -1;
}

/* Ansible's own messages (not about one host) go to the infrastructure's log: warnings and
 * errors, with the lines that continue them (up to a blank line or a line about a host). */
static bool infra_line(struct job *j, const char *line, size_t n)
{
  static const char *const starts[] = {"ERROR!", "[ERROR]", "[WARNING]", "[DEPRECATION"};
  struct imc_str host;
  char *rh;
  bool failed;

  if (!n || ctxt_host_line(line, n, &host)) {
    j->in_msg = false;
    return false;
  }
  if (ctxt_recap_line(line, n, &rh, &failed)) {
    imc_free(rh);
    j->in_msg = false;
    return false;
  }
  for (size_t k = 0; k < sizeof starts / sizeof starts[0] && !j->in_msg; k++)
    j->in_msg = n >= strlen(starts[k]) && memcmp(line, starts[k], strlen(starts[k])) == 0;
  if (!j->in_msg)
    return false;
  imc_buf_add(&j->infra, line, n);
  imc_buf_addc(&j->infra, '\n');
  return true;
}

/* A PLAY line: a part's marker, or a play of the part, whose first play starts the part in the
 * infrastructure's log (the marker that ends a run after a failure starts nothing). */
static void play_line(struct job *j, const char *line, size_t n)
{
  long k = ctxt_part_marker(line, n);

  long play = ctxt_play_marker(line, n);

  j->in_marker = k >= 0 && (size_t)k <= j->nparts; /* nparts: the end marker */
  if (j->in_marker) {
    j->part = k;
    j->play = -1;
    return;
  }
  if (play >= 0)
    j->play = play;
  if (j->part < 0 || j->part == j->running)
    return;
  if (j->running >= 0)
    imc_buf_addf(&j->infra, "Step %s: done.\n", j->parts[j->running].label);
  imc_buf_addf(&j->infra, "Step %s: running.\n", j->parts[j->part].label);
  j->running = j->part;
}

static void route_line(struct job *j, const char *line, size_t n)
{
  struct imc_str host;
  ssize_t i = -1;
  char *rh = NULL;
  bool failed;

  if ((n >= 6 && memcmp(line, "TASK [", 6) == 0) || (n >= 6 && memcmp(line, "PLAY [", 6) == 0)) {
    snprintf(j->header, sizeof j->header, "%.*s", (int)n, line);
    memset(j->header_sent, 0, j->n * sizeof *j->header_sent);
    j->last = -1;
    j->in_msg = false;
    if (line[0] == 'P')
      play_line(j, line, n);
    return;
  }
  if (infra_line(j, line, n))
    return;
  if (ctxt_host_line(line, n, &host)) {
    i = j->last = node_by_name(j, host.p, host.n);
    if (i >= 0 && j->in_marker) {
      j->stopper[i] = true; /* its marker task failed on purpose: not a failure of the VM */
      j->last = -1;
      return;
    }
    if (i >= 0)
      j->part_of[i] = j->part;
  } else if (ctxt_recap_line(line, n, &rh, &failed)) {
    i = node_by_name(j, rh, strlen(rh));
    j->last = -1;
    imc_free(rh);
    if (i >= 0) {
      failed = failed && !j->stopper[i];
      j->ok[i] = !failed;
      j->bad[i] = failed;
    }
  } else if (n && (line[0] == ' ' || line[0] == '}' || line[0] == ']')) {
    i = j->last; /* the rest of a result printed on several lines */
  } else {
    j->last = -1;
  }
  if (i < 0)
    return;
  if (!j->header_sent[i] && j->header[0]) {
    imc_buf_addf(&j->logs[i], "%s\n", j->header);
    j->header_sent[i] = true;
  }
  imc_buf_add(&j->logs[i], line, n);
  imc_buf_addc(&j->logs[i], '\n');
}

void ctxt_flush_logs(struct job *j)
{
  if (j->infra.len) {
    scrub(j, &j->infra);
    imc_engine_ctxt_log(j->run->e, j->run->id, -1, imc_buf_cstr(&j->infra), NULL);
    imc_buf_reset(&j->infra);
  }
  for (size_t i = 0; i < j->n; i++) {
    if (!j->logs[i].len)
      continue;
    scrub(j, &j->logs[i]);
    imc_engine_ctxt_log(j->run->e, j->run->id, (int)j->nodes[i].vmid, imc_buf_cstr(&j->logs[i]),
                        NULL);
    imc_buf_reset(&j->logs[i]);
  }
}

/* ctxt_run's output callback: per-VM lines, and recap results. */
void ctxt_on_output(void *ctx, const char *text, size_t len)
{
  struct job *j = ctx;
  const char *p = text, *end = text + len;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

    route_line(j, p, n);
    p += n + (nl ? 1 : 0);
  }
  ctxt_flush_logs(j);
}
