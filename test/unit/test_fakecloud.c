/* SPDX-License-Identifier: GPL-3.0-or-later */
/* FakeCloud, the test connector whose cloud is an event log outside the process: launch,
 * update, finalize, power and find round trips, the log's torn last line, simulated capacity
 * failures, credentials, image selection, and a launch that survives the kill -9 of its
 * process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakecloud.h"
#include "imc/alloc.h"
#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/radl.h"

static const char radl[] =
  "network net (outbound = 'no')\n"
  "system node (cpu.count >= 1 and net_interface.0.connection = 'net' and "
  "disk.0.image.url = 'fake://img')\n"
  "system other (disk.0.image.url = 'one://host/img')\n"
  "system bare (cpu.count >= 1)\n"
  "system listed (disk.0.image.url = ['one://host/img', 'fake://second'])\n"
  "deploy node 1\n";

struct fx {
  char dir[64];
  char events[96];
  struct imc_auth auth;
  void *ctx;
  bool opened;
  struct imc_doc *doc;
};

static int setup(void **state)
{
  struct fx *f = imc_calloc(1, sizeof *f);
  struct imc_err err = {0};

  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/imc-fakecloud-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->events, sizeof f->events, "%s/%s", f->dir, FAKECLOUD_EVENTS);
  imc_auth_init(&f->auth);
  if (radl_parse("t.radl", radl, strlen(radl), NULL, &f->doc, &err))
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fx *f = *state;

  if (f->ctx) {
    imc_fake_cloud.close(f->ctx);
    imc_free(f->ctx);
  }
  imc_auth_cleanup(&f->auth);
  imc_doc_free(f->doc);
  unlink(f->events);
  rmdir(f->dir);
  imc_free(f);
  return 0;
}

/* Opens a context on auth text (FakeCloud's entry); returns open()'s result. */
static int open_auth(struct fx *f, const char *text, struct imc_err *err)
{
  struct imc_err perr = {0};

  assert_int_equal(imc_auth_parse("auth", text, strlen(text), IMC_AUTH_CLIENT, &f->auth, &perr), 0);
  f->ctx = imc_calloc(1, imc_fake_cloud.ctx_size);
  assert_non_null(f->ctx);
  return imc_fake_cloud.open(f->ctx, &f->auth.entries[f->auth.n - 1], NULL, err);
}

/* Opens a context on the fixture's cloud; extra is appended to the auth line. */
static void open_cloud(struct fx *f, const char *extra)
{
  char text[256];
  struct imc_err err = {0};

  snprintf(text, sizeof text, "type = FakeCloud; host = %s; username = u; password = p%s", f->dir,
           extra);
  assert_int_equal(open_auth(f, text, &err), 0);
}

/* Launches one VM of system (concrete first) with token; on success *out is the VM. */
static int launch(struct fx *f, const char *system, const char *token, struct imc_vm **out,
                  struct imc_err *err)
{
  struct imc_elem *sys = NULL;
  struct imc_launch rq = {.infra_id = "inf", .vm_id = 0, .client_token = token, .doc = f->doc};
  struct imc_vm *vm;
  double score;
  int r;

  *out = NULL;
  assert_int_equal(
    imc_fake_cloud.concrete(f->ctx, imc_doc_system(f->doc, system), &sys, &score, err), 0);
  vm = imc_vm_new(0, sys);
  assert_non_null(vm);
  rq.system = sys;
  r = imc_fake_cloud.launch(f->ctx, &rq, vm, err);
  imc_elem_free(sys);
  if (r == 0)
    *out = vm;
  else
    imc_vm_free(vm);
  return r;
}

static struct imc_vm *launch_ok(struct fx *f, const char *token)
{
  struct imc_vm *vm;
  struct imc_err err = {0};

  assert_int_equal(launch(f, "node", token, &vm, &err), 0);
  return vm;
}

/* The live instance ids: n of them, caller frees. */
static char **live(struct fx *f, size_t *n)
{
  char **ids = NULL;
  struct imc_err err = {0};

  assert_int_equal(fakecloud_live(f->dir, &ids, n, &err), 0);
  return ids;
}

static size_t live_count(struct fx *f)
{
  size_t n;
  char **ids = live(f, &n);

  fakecloud_ids_free(ids, n);
  return n;
}

/* The log's contents; caller frees. */
static char *read_events(struct fx *f)
{
  struct imc_buf b;
  struct imc_err err = {0};
  char *text;

  imc_buf_init(&b, 1u << 20);
  assert_int_equal(imc_read_file(f->events, &b, &err), 0);
  text = imc_buf_take(&b, NULL);
  assert_non_null(text);
  return text;
}

static size_t count_lines(struct fx *f)
{
  char *text = read_events(f);
  size_t n = 0;

  for (const char *p = text; *p; p++)
    n += *p == '\n';
  imc_free(text);
  return n;
}

static void append_raw(struct fx *f, const char *bytes)
{
  int fd = open(f->events, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

  assert_true(fd >= 0);
  assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
  close(fd);
}

/* --- launch, update, finalize, power ---------------------------------------------------- */

static void test_launch_creates_pending_instance(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  const char *ip;
  char **ids;
  size_t n;

  open_cloud(f, "");
  vm = launch_ok(f, "tok-1");
  assert_non_null(vm->instance_id);
  assert_int_equal(strlen(vm->instance_id), 19);
  assert_memory_equal(vm->instance_id, "fc-", 3);
  assert_string_equal(vm->cloud_type, "FakeCloud");
  assert_int_equal(vm->state, IMC_VM_PENDING);
  ip = imc_features_str(&vm->system->feats, "net_interface.0.ip");
  assert_non_null(ip);
  assert_memory_equal(ip, "10.99.", 6);
  ids = live(f, &n);
  assert_int_equal(n, 1);
  assert_string_equal(ids[0], vm->instance_id);
  fakecloud_ids_free(ids, n);
  imc_vm_free(vm);
}

static void test_launch_logs_create_with_token(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  char want[128], *text;

  open_cloud(f, "");
  vm = launch_ok(f, "tok-logged");
  snprintf(want, sizeof want, "create %s tok-logged\n", vm->instance_id);
  text = read_events(f);
  assert_string_equal(text, want);
  imc_free(text);
  imc_vm_free(vm);
}

static void test_launch_without_token_is_refused(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};

  open_cloud(f, "");
  assert_int_equal(launch(f, "node", NULL, &vm, &err), IMC_E_INVAL);
  assert_int_equal(launch(f, "node", "two words", &vm, &err), IMC_E_INVAL);
  assert_int_equal(live_count(f), 0);
}

static void test_update_moves_pending_to_running(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};
  char want[256], *text;

  open_cloud(f, "");
  vm = launch_ok(f, "tok-up");
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_RUNNING);
  /* A second look changes nothing, so writes nothing. */
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_RUNNING);
  snprintf(want, sizeof want, "create %s tok-up\nstate %s running\n", vm->instance_id,
           vm->instance_id);
  text = read_events(f);
  assert_string_equal(text, want);
  imc_free(text);
  imc_vm_free(vm);
}

/* The log is the truth: a change another process made is seen by the next look. */
static void test_update_sees_delete_by_another_process(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};
  char line[64];

  open_cloud(f, "");
  vm = launch_ok(f, "tok-other");
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  snprintf(line, sizeof line, "delete %s\n", vm->instance_id);
  append_raw(f, line);
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_OFF);
  imc_vm_free(vm);
}

static void test_finalize_deletes_instance(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};

  open_cloud(f, "");
  vm = launch_ok(f, "tok-fin");
  assert_int_equal(imc_fake_cloud.finalize(f->ctx, vm, true, &err), 0);
  assert_int_equal(live_count(f), 0);
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_OFF);
  imc_vm_free(vm);
}

static void test_finalize_of_deleted_instance_succeeds(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};

  open_cloud(f, "");
  vm = launch_ok(f, "tok-twice");
  assert_int_equal(imc_fake_cloud.finalize(f->ctx, vm, true, &err), 0);
  assert_int_equal(imc_fake_cloud.finalize(f->ctx, vm, true, &err), 0);
  assert_int_equal(count_lines(f), 2); /* one create, one delete */
  imc_vm_free(vm);
}

static void test_power_stop_then_start(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};

  open_cloud(f, "");
  vm = launch_ok(f, "tok-power");
  assert_int_equal(imc_fake_cloud.power(f->ctx, vm, IMC_POWER_STOP, &err), 0);
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_STOPPED);
  assert_int_equal(imc_fake_cloud.power(f->ctx, vm, IMC_POWER_START, &err), 0);
  assert_int_equal(imc_fake_cloud.update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_RUNNING);
  imc_vm_free(vm);
}

static void test_power_on_deleted_instance_is_notfound(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};

  open_cloud(f, "");
  vm = launch_ok(f, "tok-gone");
  assert_int_equal(imc_fake_cloud.finalize(f->ctx, vm, true, &err), 0);
  assert_int_equal(imc_fake_cloud.power(f->ctx, vm, IMC_POWER_START, &err), IMC_E_NOTFOUND);
  imc_vm_free(vm);
}

/* --- find --------------------------------------------------------------------------------- */

static void test_find_returns_instance_by_token(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm, *found = imc_vm_new(0, NULL);
  struct imc_err err = {0};

  open_cloud(f, "");
  vm = launch_ok(f, "tok-a");
  imc_vm_free(launch_ok(f, "tok-b"));
  assert_int_equal(imc_fake_cloud.find(f->ctx, "tok-a", found, &err), 0);
  assert_string_equal(found->instance_id, vm->instance_id);
  assert_string_equal(found->cloud_type, "FakeCloud");
  assert_int_equal(found->state, IMC_VM_PENDING);
  imc_vm_free(found);
  imc_vm_free(vm);
}

static void test_find_unknown_token_is_notfound(void **state)
{
  struct fx *f = *state;
  struct imc_vm *found = imc_vm_new(0, NULL);
  struct imc_err err = {0};

  open_cloud(f, "");
  imc_vm_free(launch_ok(f, "tok-a"));
  assert_int_equal(imc_fake_cloud.find(f->ctx, "tok-z", found, &err), IMC_E_NOTFOUND);
  assert_null(found->instance_id);
  imc_vm_free(found);
}

static void test_find_skips_deleted_instance(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm, *found = imc_vm_new(0, NULL);
  struct imc_err err = {0};

  open_cloud(f, "");
  vm = launch_ok(f, "tok-del");
  assert_int_equal(imc_fake_cloud.finalize(f->ctx, vm, true, &err), 0);
  assert_int_equal(imc_fake_cloud.find(f->ctx, "tok-del", found, &err), IMC_E_NOTFOUND);
  imc_vm_free(found);
  imc_vm_free(vm);
}

/* --- the log ------------------------------------------------------------------------------ */

static void test_live_ignores_torn_last_line(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  char **ids;
  size_t n;

  open_cloud(f, "");
  vm = launch_ok(f, "tok-whole");
  append_raw(f, "create fc-00000000000000aa tok-torn"); /* no newline: the writer died */
  ids = live(f, &n);
  assert_int_equal(n, 1);
  assert_string_equal(ids[0], vm->instance_id);
  fakecloud_ids_free(ids, n);
  imc_vm_free(vm);
}

/* The next writer cuts the torn line off, so its own line is not glued to it. */
static void test_launch_after_torn_line_cuts_it_off(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  char want[128], *text;

  open_cloud(f, "");
  append_raw(f, "create fc-00000000000000aa tok-t");
  vm = launch_ok(f, "tok-after");
  snprintf(want, sizeof want, "create %s tok-after\n", vm->instance_id);
  text = read_events(f);
  assert_string_equal(text, want);
  imc_free(text);
  assert_int_equal(live_count(f), 1);
  imc_vm_free(vm);
}

static void test_malformed_event_is_an_error(void **state)
{
  struct fx *f = *state;
  char **ids = NULL;
  size_t n = 0;
  struct imc_err err = {0};

  append_raw(f, "create fc-00000000000000aa tok\nexplode fc-00000000000000aa\n");
  assert_int_equal(fakecloud_live(f->dir, &ids, &n, &err), IMC_E_IO);
  assert_null(ids);
  assert_non_null(strstr(err.msg, ":2: malformed event"));
}

static void test_live_of_untouched_cloud_is_empty(void **state)
{
  struct fx *f = *state;

  assert_int_equal(live_count(f), 0);
}

/* --- simulated failures ------------------------------------------------------------------ */

static void test_fail_launch_every_refuses_third_launch(void **state)
{
  struct fx *f = *state;
  struct imc_vm *vm;
  struct imc_err err = {0};

  open_cloud(f, "; fail_launch_every = 3");
  imc_vm_free(launch_ok(f, "t1"));
  imc_vm_free(launch_ok(f, "t2"));
  assert_int_equal(launch(f, "node", "t3", &vm, &err), IMC_E_CLOUD);
  assert_null(vm);
  assert_true(err.retry);
  assert_string_equal(err.msg, "FakeCloud: no capacity (simulated)");
  assert_int_equal(live_count(f), 2);
  /* The refused request counts: the next two go through, the sixth fails. */
  imc_vm_free(launch_ok(f, "t4"));
  imc_vm_free(launch_ok(f, "t5"));
  imc_err_clear(&err);
  assert_int_equal(launch(f, "node", "t6", &vm, &err), IMC_E_CLOUD);
  assert_int_equal(live_count(f), 4);
}

static void test_fail_launch_every_must_be_positive(void **state)
{
  struct fx *f = *state;
  char text[256];
  struct imc_err err = {0};

  snprintf(text, sizeof text,
           "type = FakeCloud; host = %s; username = u; password = p; fail_launch_every = 0",
           f->dir);
  assert_int_equal(open_auth(f, text, &err), IMC_E_INVAL);
}

/* --- open and concrete -------------------------------------------------------------------- */

static void test_open_without_password_fails(void **state)
{
  struct fx *f = *state;
  char text[256];
  struct imc_err err = {0};

  snprintf(text, sizeof text, "type = FakeCloud; host = %s; username = someuser", f->dir);
  assert_int_equal(open_auth(f, text, &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "FakeCloud: missing credentials");
}

static void test_open_without_username_fails(void **state)
{
  struct fx *f = *state;
  char text[256];
  struct imc_err err = {0};

  snprintf(text, sizeof text, "type = FakeCloud; host = %s; password = s3cret", f->dir);
  assert_int_equal(open_auth(f, text, &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "FakeCloud: missing credentials");
}

static void test_open_missing_directory_fails(void **state)
{
  struct fx *f = *state;
  char text[256];
  struct imc_err err = {0};

  snprintf(text, sizeof text, "type = FakeCloud; host = %s/nope; username = u; password = p",
           f->dir);
  assert_int_equal(open_auth(f, text, &err), IMC_E_CLOUD);
  assert_non_null(strstr(err.msg, "/nope"));
}

static void test_concrete_refuses_other_scheme(void **state)
{
  struct fx *f = *state;
  struct imc_elem *out = NULL;
  struct imc_err err = {0};
  double score;

  open_cloud(f, "");
  assert_int_equal(
    imc_fake_cloud.concrete(f->ctx, imc_doc_system(f->doc, "other"), &out, &score, &err),
    IMC_E_NOTFOUND);
  assert_null(out);
}

static void test_concrete_accepts_system_without_image(void **state)
{
  struct fx *f = *state;
  struct imc_elem *out = NULL;
  struct imc_err err = {0};
  double score;

  open_cloud(f, "");
  assert_int_equal(
    imc_fake_cloud.concrete(f->ctx, imc_doc_system(f->doc, "bare"), &out, &score, &err), 0);
  assert_true(imc_elem_equal(out, imc_doc_system(f->doc, "bare")));
  imc_elem_free(out);
}

static void test_concrete_picks_fake_image_from_list(void **state)
{
  struct fx *f = *state;
  struct imc_elem *out = NULL;
  struct imc_err err = {0};
  double score;

  open_cloud(f, "");
  assert_int_equal(
    imc_fake_cloud.concrete(f->ctx, imc_doc_system(f->doc, "listed"), &out, &score, &err), 0);
  assert_string_equal(imc_features_str(&out->feats, "disk.0.image.url"), "fake://second");
  imc_elem_free(out);
}

/* --- outside the process ------------------------------------------------------------------- */

/* A second context (another infrastructure's) sees the first one's instance. */
static void test_second_context_finds_instance(void **state)
{
  struct fx *f = *state;
  void *ctx2 = imc_calloc(1, imc_fake_cloud.ctx_size);
  struct imc_vm *vm, *found = imc_vm_new(0, NULL);
  struct imc_err err = {0};

  open_cloud(f, "");
  assert_int_equal(imc_fake_cloud.open(ctx2, &f->auth.entries[0], NULL, &err), 0);
  vm = launch_ok(f, "tok-shared");
  assert_int_equal(imc_fake_cloud.find(ctx2, "tok-shared", found, &err), 0);
  assert_string_equal(found->instance_id, vm->instance_id);
  imc_fake_cloud.close(ctx2);
  imc_free(ctx2);
  imc_vm_free(found);
  imc_vm_free(vm);
}

/* The child launches, tells the parent the instance id, and is killed with SIGKILL while it
 * waits: the create it wrote is in the cloud all the same. */
static void test_killed_child_leaves_create_visible(void **state)
{
  struct fx *f = *state;
  int up[2], hold[2], status;
  char id[32] = "";
  char **ids;
  size_t n;
  pid_t pid;

  open_cloud(f, "");
  assert_int_equal(pipe(up), 0);
  assert_int_equal(pipe(hold), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* No cmocka assertion here: a failure is the exit status the parent never sees. */
    struct imc_elem *sys = NULL;
    struct imc_launch rq = {.infra_id = "inf", .client_token = "tok-killed", .doc = f->doc};
    struct imc_vm *vm = NULL;
    struct imc_err err = {0};
    double score;
    char c;

    close(up[0]);
    close(hold[1]);
    if (imc_fake_cloud.concrete(f->ctx, imc_doc_system(f->doc, "node"), &sys, &score, &err) ||
        !(vm = imc_vm_new(0, sys)))
      _exit(3);
    rq.system = sys;
    if (imc_fake_cloud.launch(f->ctx, &rq, vm, &err) ||
        write(up[1], vm->instance_id, strlen(vm->instance_id)) < 0)
      _exit(3);
    close(up[1]);
    while (read(hold[0], &c, 1) < 0)
      ;
    _exit(4); /* not reached: killed first */
  }
  close(up[1]);
  close(hold[0]);
  assert_true(read(up[0], id, sizeof id - 1) > 0);
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  close(up[0]);
  close(hold[1]);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  ids = live(f, &n);
  assert_int_equal(n, 1);
  assert_string_equal(ids[0], id);
  fakecloud_ids_free(ids, n);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
    T(test_launch_creates_pending_instance),
    T(test_launch_logs_create_with_token),
    T(test_launch_without_token_is_refused),
    T(test_update_moves_pending_to_running),
    T(test_update_sees_delete_by_another_process),
    T(test_finalize_deletes_instance),
    T(test_finalize_of_deleted_instance_succeeds),
    T(test_power_stop_then_start),
    T(test_power_on_deleted_instance_is_notfound),
    T(test_find_returns_instance_by_token),
    T(test_find_unknown_token_is_notfound),
    T(test_find_skips_deleted_instance),
    T(test_live_ignores_torn_last_line),
    T(test_launch_after_torn_line_cuts_it_off),
    T(test_malformed_event_is_an_error),
    T(test_live_of_untouched_cloud_is_empty),
    T(test_fail_launch_every_refuses_third_launch),
    T(test_fail_launch_every_must_be_positive),
    T(test_open_without_password_fails),
    T(test_open_without_username_fails),
    T(test_open_missing_directory_fails),
    T(test_concrete_refuses_other_scheme),
    T(test_concrete_accepts_system_without_image),
    T(test_concrete_picks_fake_image_from_list),
    T(test_second_context_finds_instance),
    T(test_killed_child_leaves_create_visible),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
