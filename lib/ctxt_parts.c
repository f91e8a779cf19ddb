/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The runs of a contextualization: its parts (basic step, user steps, credential changes) in
 * as few ansible-playbook runs as it can, from where each VM stands (see ctxt_job_parts). */
#include <stdio.h>
#include <string.h>

#include "ctxt_job.h"
#include "imc/alloc.h"

#define CTXR_PROGRAM "ansible-playbook"

/* The --limit list: the VMs still on track among those a playbook is for. */
static char *limit_of(struct job *j, const bool *which)
{
  struct imc_buf b;

  imc_buf_init(&b, 1024 * 1024);
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i] && which[i])
      imc_buf_addf(&b, "%s%s", b.len ? "," : "", j->nodes[i].name);
  }
  if (imc_buf_err(&b) || !b.len) {
    imc_buf_free(&b);
    return NULL;
  }
  return imc_buf_take(&b, NULL);
}

/* True when node i, on track and in the run's --limit, failed it: its recap line says so, or
 * the run failed and gave no recap line for it. */
static bool node_failed(const struct job *j, size_t i, const bool *limit, int status)
{
  return j->target[i] && limit[i] && (j->bad[i] || (status != 0 && !j->ok[i]));
}

/* Starts reading a new run's output, which begins in part `part`. */
static void run_reset(struct job *j, long part)
{
  memset(j->ok, 0, j->n * sizeof *j->ok);
  memset(j->bad, 0, j->n * sizeof *j->bad);
  memset(j->stopper, 0, j->n * sizeof *j->stopper);
  for (size_t i = 0; i < j->n; i++)
    j->part_of[i] = -1;
  j->header[0] = '\0';
  j->part = part;
  j->play = -1;
  j->running = part;
  j->in_marker = false;
}

/* One ansible-playbook run of file on the nodes of limit (still on track); *status is its exit
 * status.  Returns false when it had to be killed (deadline or close): the run is over. */
static bool run_once(struct job *j, const char *file, const bool *limit, int *status)
{
  char *list = limit_of(j, limit);
  struct ctxt_run rq = {.program = CTXR_PROGRAM,
                        .dir = j->dir,
                        .playbook = file,
                        .limit = list,
                        .control_dir = j->cp,
                        .deadline = j->deadline,
                        .cancel = &j->run->c->stop,
                        .output = ctxt_on_output,
                        .ctx = j};
  bool timed_out = false;
  struct imc_err e;
  int r;

  *status = 0;
  if (!list)
    return true; /* nothing on track to run it on */
  imc_err_clear(&e);
  r = j->remote.on ? ctxt_remote_run(j, file, list, ctxt_on_output, status, &timed_out, &e)
                   : ctxt_run_playbook(&rq, status, &timed_out, &e);
  if (r != 0) {
    ctxt_ilog(j, "ERROR: %s: %s", file, e.msg);
    *status = -1;
  }
  ctxt_flush_logs(j);
  imc_free(list);
  if (*status == -1 && (timed_out || atomic_load(&j->run->c->stop))) {
    ctxt_ilog(j, "ERROR: %s", timed_out ? "Max contextualization time passed" : "stopped");
    return false;
  }
  return true;
}

/* Where each VM stands: the part it runs next and the play of that part (a user step's plays
 * are numbered; nparts: all done), and its tries left. */
struct progress {
  size_t *at, *play;
  long *tries;
  bool *limit;
};

/* Moves node i past the parts that have no play for it, or no play left. */
static void skip_empty_parts(const struct job *j, struct progress *p, size_t i)
{
  while (p->at[i] < j->nparts &&
         (!j->parts[p->at[i]].which[i] ||
          (j->parts[p->at[i]].step && p->play[i] >= j->parts[p->at[i]].step->n))) {
    p->at[i]++;
    p->play[i] = 0;
  }
}

static bool behind(const struct progress *p, size_t a, size_t b)
{
  return p->at[a] < p->at[b] || (p->at[a] == p->at[b] && p->play[a] < p->play[b]);
}

/* The node the next run starts with: on track, the furthest behind (-1 when all are done), and
 * whether every part from there can run in one go: it can when every VM on track stands at the
 * same place.  Otherwise the run is that part alone, for the VMs that stand there. */
static ssize_t next_run(const struct job *j, struct progress *p, bool *together)
{
  ssize_t low = -1;

  *together = true;
  for (size_t i = 0; i < j->n; i++) {
    if (!j->target[i])
      continue;
    skip_empty_parts(j, p, i);
    if (p->at[i] >= j->nparts)
      continue;
    if (low >= 0 && (behind(p, i, (size_t)low) || behind(p, (size_t)low, i)))
      *together = false;
    if (low < 0 || behind(p, i, (size_t)low))
      low = (ssize_t)i;
  }
  for (size_t i = 0; i < j->n; i++)
    p->limit[i] = low >= 0 && j->target[i] && p->at[i] == p->at[low] &&
                  p->play[i] == p->play[low];
  return low;
}

/* After a run that started at part k, play p0: a VM that failed goes back to the start of the
 * part it failed (its tries run out: it leaves the run); the others go to the last marker the
 * run reached.  That is the end marker when it ran through, the marker that stopped it after
 * a failed part, or, when Ansible ended it early (it does when every VM of a play failed), the
 * play after the last one it started. */
static void run_account(struct job *j, struct progress *p, size_t k, size_t p0, int status)
{
  size_t at = k, play = p0;

  if (j->part >= (long)k) {
    at = (size_t)j->part;
    play = at == k && j->play < (long)p0 ? p0 : (size_t)(j->play + 1);
  }
  for (size_t i = 0; i < j->n; i++) {
    if (!p->limit[i] || !j->target[i])
      continue;
    if (!node_failed(j, i, p->limit, status)) {
      p->at[i] = at;
      p->play[i] = play;
      continue;
    }
    p->at[i] = j->part_of[i] >= (long)k ? (size_t)j->part_of[i] : k;
    p->play[i] = 0;
    if (--p->tries[i] <= 0) {
      ctxt_fail_vm(j, i, "ERROR: the VM failed this step: it stays unconfigured.");
      ctxt_ilog(j, "Step %s: VM %u failed.", j->parts[p->at[i]].label, j->nodes[i].vmid);
    }
  }
}

/* Writes site.yml for a run from part k, play p0 (the rest of a user step in a file of its
 * own when p0 is not its first play). */
static int write_site(struct job *j, size_t k, size_t p0, bool together, bool stops)
{
  char rest[64];
  struct imc_buf b;
  int r = 0;

  if (p0 > 0 && j->parts[k].step) {
    snprintf(rest, sizeof rest, "rest_%zu_%zu.yml", k, p0);
    imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
    if ((r = ctxt_step_playbook(j->doc, j->parts[k].step, p0, &b, NULL)) != 0) {
      imc_buf_free(&b);
      return r;
    }
    if ((r = ctxt_write_buf(j->dir, rest, &b, 0600, NULL)) != 0)
      return r;
  }
  imc_buf_init(&b, CTXT_MAX_PLAYBOOK);
  if ((r = ctxt_site_playbook(j->parts, k, together ? j->nparts : k + 1,
                              p0 > 0 && j->parts[k].step ? rest : NULL, stops, &b, NULL)) != 0) {
    imc_buf_free(&b);
    return r;
  }
  return ctxt_write_buf(j->dir, "site.yml", &b, 0600, NULL);
}

/* Runs the parts (basic step, user steps, credential changes) in as few ansible-playbook runs
 * as it can: all of them in one when nothing fails, as a VM that fails a part drops out of the
 * later ones on its own.  With PLAYBOOK_RETRIES above 1 a run stops at the end of the first
 * part a VM failed (the markers of site.yml); that part runs again alone for the VMs that failed
 * it, up to their tries, before one run of the parts after it goes on for all. */
void ctxt_job_parts(struct job *j)
{
  struct progress p = {.at = imc_calloc(j->n + 1, sizeof *p.at),
                       .play = imc_calloc(j->n + 1, sizeof *p.play),
                       .tries = imc_calloc(j->n + 1, sizeof *p.tries),
                       .limit = imc_calloc(j->n + 1, sizeof *p.limit)};
  long tries = j->run->c->cfg->playbook_retries;
  ssize_t low;
  bool together;

  if (!p.at || !p.play || !p.tries || !p.limit) {
    ctxt_ilog(j, "ERROR: out of memory");
    goto killed;
  }
  for (size_t i = 0; i < j->n; i++)
    p.tries[i] = tries;
  while ((low = next_run(j, &p, &together)) >= 0) {
    size_t k = p.at[low], p0 = p.play[low];
    struct imc_buf again;
    int status = 0;

    imc_buf_init(&again, 64 * 1024);
    for (size_t i = 0; i < j->n; i++) {
      if (p.limit[i] && p.tries[i] < tries)
        imc_buf_addf(&again, "%s%u", again.len ? ", " : "", j->nodes[i].vmid);
    }
    if (again.len)
      ctxt_ilog(j, "Step %s: running again for VM %s.", j->parts[k].label, imc_buf_cstr(&again));
    imc_buf_free(&again);
    if (write_site(j, k, p0, together, tries > 1) != 0) {
      ctxt_ilog(j, "ERROR: cannot write site.yml");
      goto killed;
    }
    run_reset(j, -1);
    if (!run_once(j, "site.yml", p.limit, &status))
      goto killed;
    if (j->running >= 0 && j->part > j->running)
      ctxt_ilog(j, "Step %s: done.", j->parts[j->running].label);
    run_account(j, &p, k, p0, status);
  }
  goto out;
killed:
  for (size_t i = 0; i < j->n; i++) {
    if (j->target[i])
      ctxt_fail_vm(j, i, "ERROR: the contextualization stopped before the VM was configured.");
  }
out:
  imc_free(p.at);
  imc_free(p.play);
  imc_free(p.tries);
  imc_free(p.limit);
}
