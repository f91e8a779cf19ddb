/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The ansible-playbook runner (lib/ctxt_run.c): its parsers of Ansible's output, and the
 * spawn, capture, deadline and cancel with plain programs standing in for ansible-playbook
 * (echo, sleep): the runner passes them the playbook name as their argument. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

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
  const char *lines[] = {"TASK [x] ****", "ok: [h]", "PLAY RECAP *****", "a : something=1",
                         "fatal: [h]: FAILED! => {\"msg\": \"ok=1 failed=0\"}"};
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
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
