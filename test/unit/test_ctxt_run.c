/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ansible-playbook runner (lib/ctxt_run.c): its parsers of Ansible's output, and the
 * spawn, capture, deadline and cancel with plain programs standing in for ansible-playbook
 * (echo, sleep): the runner passes them the playbook name as their argument.  The sweep of
 * runs left by a dead process, with `sleep` standing in for the orphaned ansible-playbook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxt_int.h"
#include "imc/alloc.h"

static void test_recap_line_ok_host(void **state)
{
  const char *l = "head.localdomain           : ok=3    changed=1    unreachable=0    failed=0    "
                  "skipped=8    rescued=0    ignored=0";
  char *host;
  bool failed = true;

  (void)state;
  assert_true(ctxt_recap_line(l, strlen(l), &host, &failed));
  assert_string_equal(host, "head.localdomain");
  assert_false(failed);
  imc_free(host);
}

static void test_recap_line_failed_or_unreachable_host(void **state)
{
  const char *f = "a : ok=0 changed=0 unreachable=0 failed=1 skipped=0";
  const char *u = "b : ok=0 changed=0 unreachable=1 failed=0 skipped=0";
  char *host;
  bool failed = false;

  (void)state;
  assert_true(ctxt_recap_line(f, strlen(f), &host, &failed));
  assert_true(failed);
  imc_free(host);
  failed = false;
  assert_true(ctxt_recap_line(u, strlen(u), &host, &failed));
  assert_string_equal(host, "b");
  assert_true(failed);
  imc_free(host);
}

static void test_recap_line_rejects_other_lines(void **state)
{
  /* The last ones end where a count should be: found by fuzz_ctxt_output, when the count
   * was read with strtol past the end of the line. */
  const char *lines[] = {"TASK [x] ****", "ok: [h]", "PLAY RECAP *****", "a : something=1",
                         "fatal: [h]: FAILED! => {\"msg\": \"ok=1 failed=0\"}",
                         "h : ok=1 changed=0 unreachable=0 failed=",
                         "h : ok=1 changed=0 unreachable= failed=0"};
  char *host = (char *)1;
  bool failed;

  (void)state;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    assert_false(ctxt_recap_line(lines[i], strlen(lines[i]), &host, &failed));
    assert_null(host);
  }
}

static void test_host_line_names_the_host(void **state)
{
  const char *lines[] = {"ok: [h1]",
                         "changed: [h1] => (item=x)",
                         "fatal: [h1]: FAILED! => {}",
                         "skipping: [h1]",
                         "changed: [h1 -> other]",
                         "FAILED - RETRYING: [h1]: wait (3 retries left)."};
  struct imc_str h;

  (void)state;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    assert_true(ctxt_host_line(lines[i], strlen(lines[i]), &h));
    assert_int_equal(h.n, 2);
    assert_memory_equal(h.p, "h1", 2);
  }
}

static void test_host_line_rejects_headers(void **state)
{
  const char *lines[] = {"TASK [ok: [h1]] ***", "PLAY [all] ***", "ok:", "ok: [", ""};
  struct imc_str h;

  (void)state;
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
    assert_false(ctxt_host_line(lines[i], strlen(lines[i]), &h));
}

static void collect(void *ctx, const char *lines, size_t n)
{
  imc_buf_add(ctx, lines, n);
}

static void test_run_captures_output_and_status(void **state)
{
  struct imc_buf out;
  struct ctxt_run rq = {.program = "echo",
                        .dir = "/tmp",
                        .playbook = "hello",
                        .limit = "h1,h2",
                        .output = collect,
                        .ctx = &out};
  struct imc_err err = {0};
  int status;
  bool timed_out = true;

  (void)state;
  imc_buf_init(&out, 4096);
  rq.deadline = ctxt_now() + 600;
  assert_int_equal(ctxt_run_playbook(&rq, &status, &timed_out, &err), 0);
  assert_int_equal(status, 0);
  assert_false(timed_out);
  assert_string_equal(imc_buf_cstr(&out), "hello --limit h1,h2\n");
  imc_buf_free(&out);
}

static void test_run_reports_a_missing_program(void **state)
{
  struct ctxt_run rq = {
    .program = "/nonexistent/ansible-playbook", .dir = "/tmp", .playbook = "x.yml"};
  struct imc_err err = {0};
  int status = 0;
  bool timed_out;

  (void)state;
  rq.deadline = ctxt_now() + 600;
  assert_int_equal(ctxt_run_playbook(&rq, &status, &timed_out, &err), IMC_E_IO);
  assert_non_null(strstr(err.msg, "/nonexistent/ansible-playbook"));
  assert_int_equal(status, -1);
}

static void test_run_deadline_kills_the_process(void **state)
{
  struct ctxt_run rq = {.program = "sleep", .dir = "/tmp", .playbook = "600"};
  struct imc_err err = {0};
  int status = 0;
  bool timed_out = false;

  (void)state;
  rq.deadline = ctxt_now() + 0.5;
  assert_int_equal(ctxt_run_playbook(&rq, &status, &timed_out, &err), 0);
  assert_int_equal(status, -1);
  assert_true(timed_out);
}

static void test_run_cancel_kills_the_process(void **state)
{
  atomic_bool cancel;
  struct ctxt_run rq = {.program = "sleep", .dir = "/tmp", .playbook = "600", .cancel = &cancel};
  struct imc_err err = {0};
  int status = 0;
  bool timed_out = true;

  (void)state;
  atomic_init(&cancel, true);
  rq.deadline = ctxt_now() + 600;
  assert_int_equal(ctxt_run_playbook(&rq, &status, &timed_out, &err), 0);
  assert_int_equal(status, -1);
  assert_false(timed_out);
}

/* --- the sweep of runs whose process died ---------------------------------------------- */

struct orphan {
  char work[64], run[128];
  pid_t pid; /* `sleep`, leader of its own group, working in run */
};

/* A run directory work/inf/run-1 with a process group working in it, as an ansible-playbook
 * whose imcd was killed leaves it.  Returns once the process runs in that directory. */
static void orphan_start(struct orphan *o)
{
  char inf[96], byte;
  int fds[2];

  snprintf(o->work, sizeof o->work, "/tmp/imc-test-sweep-XXXXXX");
  assert_non_null(mkdtemp(o->work));
  snprintf(inf, sizeof inf, "%s/inf", o->work);
  snprintf(o->run, sizeof o->run, "%s/run-1", inf);
  assert_int_equal(mkdir(inf, 0700), 0);
  assert_int_equal(mkdir(o->run, 0700), 0);
  assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
  o->pid = fork();
  assert_true(o->pid >= 0);
  if (o->pid == 0) {
    if (setpgid(0, 0) != 0 || chdir(o->run) != 0)
      _exit(127);
    execlp("sleep", "sleep", "600", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  /* EOF once exec closed the child's end: by then it works in o->run. */
  while (read(fds[0], &byte, 1) > 0)
    ;
  close(fds[0]);
}

static void orphan_record(const struct orphan *o, long owner, unsigned long long start)
{
  char path[160];
  FILE *f;

  snprintf(path, sizeof path, "%s/ansible.pid", o->run);
  assert_non_null(f = fopen(path, "w"));
  fprintf(f, "%ld %ld %llu\n\n", (long)o->pid, owner, start);
  fclose(f);
}

/* Ends the process (SIGTERM, unless the sweep killed it before) and says which signal did. */
static int orphan_end(struct orphan *o)
{
  char path[160];
  int ws = 0;

  kill(o->pid, SIGTERM);
  assert_int_equal(waitpid(o->pid, &ws, 0), o->pid);
  snprintf(path, sizeof path, "%s/ansible.pid", o->run);
  unlink(path);
  rmdir(o->run);
  snprintf(path, sizeof path, "%s/inf", o->work);
  rmdir(path);
  rmdir(o->work);
  return WIFSIGNALED(ws) ? WTERMSIG(ws) : -1;
}

static unsigned long long self_start(void)
{
  char text[1024], *p;
  FILE *f = fopen("/proc/self/stat", "r");
  size_t n;

  assert_non_null(f);
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  p = strrchr(text, ')');
  for (int field = 2; field < 22 && p; field++)
    p = strchr(p + 1, ' ');
  assert_non_null(p);
  return strtoull(p + 1, NULL, 10);
}

static void test_sweep_kills_the_group_of_a_dead_process(void **state)
{
  struct orphan o;
  pid_t dead = fork();

  (void)state;
  assert_true(dead >= 0);
  if (dead == 0)
    _exit(0);
  assert_int_equal(waitpid(dead, NULL, 0), dead);
  orphan_start(&o);
  orphan_record(&o, (long)dead, 1);
  ctxt_run_sweep(o.work);
  assert_int_equal(orphan_end(&o), SIGKILL);
}

static void test_sweep_leaves_the_run_of_a_live_process(void **state)
{
  struct orphan o;

  (void)state;
  orphan_start(&o);
  orphan_record(&o, (long)getpid(), self_start());
  ctxt_run_sweep(o.work);
  assert_int_equal(orphan_end(&o), SIGTERM);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_recap_line_ok_host),
    cmocka_unit_test(test_recap_line_failed_or_unreachable_host),
    cmocka_unit_test(test_recap_line_rejects_other_lines),
    cmocka_unit_test(test_host_line_names_the_host),
    cmocka_unit_test(test_host_line_rejects_headers),
    cmocka_unit_test(test_run_captures_output_and_status),
    cmocka_unit_test(test_run_reports_a_missing_program),
    cmocka_unit_test(test_run_deadline_kills_the_process),
    cmocka_unit_test(test_run_cancel_kills_the_process),
    cmocka_unit_test(test_sweep_kills_the_group_of_a_dead_process),
    cmocka_unit_test(test_sweep_leaves_the_run_of_a_live_process),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
