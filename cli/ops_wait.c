/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Waiting for an infrastructure to be configured (im-client's wait, create_wait_outputs and
 * imc's create --wait): its state is polled, and shown as it changes (progress.c: in place
 * on a terminal, a line per change otherwise).  Ctrl-C stops the waiting, not the work: the
 * infrastructure keeps going, and the last state seen is said. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "ops_int.h"
#include "progress.h"

#define POLL_SECONDS 2 /* im-client polls every 30 s; a state read is cheap for imcd */
#define MAX_UNKNOWN  3 /* im-client gives up after three unknown states in a row */
#define MAX_STEP     256

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
  (void)sig;
  interrupted = 1;
}

static bool waiting_state(enum imc_vm_state s)
{
  return s == IMC_VM_PENDING || s == IMC_VM_RUNNING || s == IMC_VM_UNKNOWN;
}

/* The last non-empty line of a VM's contextualization log: the step it is at. */
static void last_step(struct op_ctx *c, const char *id, unsigned vm, char *out, size_t size)
{
  struct imc_buf log;
  struct imc_err err = {0};
  size_t end, start;

  out[0] = '\0';
  imc_buf_init(&log, 16u * 1024 * 1024);
  if (c->b->vm_contmsg(c->b->ctx, id, vm, &log, &err) == 0 && log.len) {
    end = log.len;
    while (end > 0 && (log.data[end - 1] == '\n' || log.data[end - 1] == '\r'))
      end--;
    start = end;
    while (start > 0 && log.data[start - 1] != '\n')
      start--;
    snprintf(out, size, "%.*s", (int)(end - start), log.data + start);
  }
  imc_buf_free(&log);
}

static void show(struct op_ctx *c, struct cli_progress *p, const char *id,
                 const struct imc_infra_state *st, unsigned elapsed)
{
  struct cli_progress_vm *vms = st->n ? imc_calloc(st->n, sizeof *vms) : NULL;
  char(*steps)[MAX_STEP] = st->n ? imc_calloc(st->n, sizeof *steps) : NULL;
  struct imc_err err = {0};

  for (size_t i = 0; vms && steps && i < st->n; i++) {
    vms[i] = (struct cli_progress_vm){st->vm_ids[i], st->vm_states[i], NULL};
    if (st->vm_states[i] == IMC_VM_RUNNING) { /* being configured: say at which step */
      last_step(c, id, st->vm_ids[i], steps[i], sizeof steps[i]);
      vms[i].step = steps[i][0] ? steps[i] : NULL;
    }
  }
  if (!st->n || (vms && steps))
    cli_progress_show(p, id, st->state, vms, st->n, elapsed, &err);
  imc_free(vms);
  imc_free(steps);
}

static unsigned terminal_width(void)
{
  struct winsize ws;

  return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 80;
}

int op_wait_for(struct op_ctx *c, const char *id, long max_time, struct imc_err *err)
{
  struct sigaction sa = {.sa_handler = on_interrupt}, old;
  struct cli_progress p;
  struct timespec start, now;
  enum imc_vm_state state = IMC_VM_PENDING;
  bool chatty = op_chatty();
  int unknown = 0;
  long waited = 0;

  cli_progress_init(&p, stdout, isatty(STDOUT_FILENO), terminal_width());
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old); /* no SA_RESTART: Ctrl-C cuts the sleep short */
  interrupted = 0;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (waiting_state(state) && unknown < MAX_UNKNOWN && waited < max_time && !interrupted) {
    struct imc_infra_state st = {0};
    struct imc_err serr = {0};

    state = c->b->state(c->b->ctx, id, &st, &serr) == 0 ? st.state : IMC_VM_UNKNOWN;
    unknown = state == IMC_VM_UNKNOWN ? unknown + 1 : 0;
    clock_gettime(CLOCK_MONOTONIC, &now);
    waited = (long)(now.tv_sec - start.tv_sec);
    if (chatty)
      show(c, &p, id, &st, (unsigned)waited);
    imc_infra_state_free(&st);
    if (waiting_state(state) && !interrupted)
      sleep(POLL_SECONDS);
  }
  sigaction(SIGINT, &old, NULL);
  cli_progress_end(&p);
  cli_progress_free(&p);
  if (interrupted)
    return imc_fail(err, IMC_E_INVAL,
                    "Interrupted: the infrastructure %s is in state %s and goes on without "
                    "waiting (imc wait %s)",
                    id, imc_vm_state_name(state), id);
  if (state == IMC_VM_CONFIGURED)
    return 0;
  if (waited >= max_time)
    return imc_fail(err, IMC_E_INVAL, "Timeout waiting.");
  return imc_fail(err, IMC_E_INVAL, "The infrastructure is in state: %s", imc_vm_state_name(state));
}

int op_wait(struct op_ctx *c)
{
  struct imc_err err = {0};
  char id[IMC_INFRA_ID_MAX], *end;
  long max_time = 36000; /* im-client's 10 h */

  if (c->argc > 2) {
    max_time = strtol(c->argv[2], &end, 10);
    if (end == c->argv[2] || *end || max_time < 0)
      return cli_usage_error(NULL, "max_time '%s' is not a number of seconds", c->argv[2]);
  }
  if (op_infra_id(c, id, &err) != 0 || op_wait_for(c, id, max_time, &err) != 0) {
    fprintf(stderr, "%s\n", err.msg);
    if (cli_global.json)
      op_print_json(json_pack("{s:s, s:s}", "id", c->argv[1], "error", err.msg));
    return CLI_FAIL;
  }
  if (cli_global.json)
    return op_print_json(json_pack("{s:s, s:s}", "id", id, "state", "configured"));
  if (!cli_global.quiet)
    printf("The infrastructure is in state: configured\n");
  return CLI_OK;
}

/* Prints one JSON object on one line, as Python's json.dumps without indent. */
static int print_line(json_t *v)
{
  char *text = v ? json_dumps(v, JSON_PRESERVE_ORDER) : NULL;

  json_decref(v);
  if (!text)
    return CLI_FAIL;
  printf("%s\n", text);
  imc_free(text);
  return CLI_OK;
}

int op_create_wait_outputs(struct op_ctx *c)
{
  struct imc_err err = {0};
  struct op_doc d;
  char id[IMC_INFRA_ID_MAX];
  json_t *outputs = NULL;
  bool quiet = cli_global.quiet;
  int r;

  if ((r = op_doc_read(c->argv[1], true, &d, &err)) == 0)
    r =
      c->b->create(c->b->ctx, d.doc, d.text.data ? d.text.data : "", d.text.len, c->rest, id, &err);
  op_doc_free(&d);
  if (r) {
    print_line(json_pack("{s:s}", "error", err.msg));
    return CLI_FAIL;
  }
  cli_global.quiet = true; /* im-client's output is the one JSON line */
  r = op_wait_for(c, id, 36000, &err);
  cli_global.quiet = quiet;
  if (r) {
    print_line(json_pack("{s:s, s:s}", "error", err.msg, "infid", id));
    return CLI_FAIL;
  }
  if (c->b->outputs(c->b->ctx, id, &outputs, &err) != 0) {
    printf("{\"infid\": \"%s\", \"outputs\": {}}\n", id);
    return CLI_OK;
  }
  json_object_set_new(outputs, "infid", json_string(id));
  return print_line(outputs);
}
