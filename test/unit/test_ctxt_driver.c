/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The contextualizer behind the engine (lib/ctxt_driver.c), with a test cloud whose VMs sit at
 * 127.0.0.1 behind a public network whose outports send a closed port to 22: no SSH ever
 * answers, so nothing runs on this machine.  What is checked: the VM becomes unconfigured
 * with a log that says why, `configure S ()` needs no SSH, close stops a run that waits, the
 * run directory (keys included) is removed, and no secret reaches the logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/ctxt_driver.h"
#include "imc/engine.h"
#include "imc/radl.h"
#include "imc/ssh_key.h"

/* --- a cloud whose VMs are at 127.0.0.1 ----------------------------------------------- */

static int lc_open(void *ctx, const struct imc_auth_entry *auth, struct imc_http *http,
                   struct imc_err *err)
{
  return 0;
}

static void lc_close(void *ctx)
{
}

static int lc_concrete(void *ctx, const struct imc_elem *system, struct imc_elem **out,
                       double *score, struct imc_err *err)
{
  if (!(*out = imc_elem_clone(system)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  *score = 1;
  return 0;
}

static int lc_launch(void *ctx, const struct imc_launch *rq, struct imc_vm *vm, struct imc_err *err)
{
  imc_vm_set(&vm->instance_id, rq->client_token);
  vm->state = IMC_VM_RUNNING;
  /* A system with test.no_ip never gets an address. */
  if (imc_features_str(&vm->system->feats, "test.no_ip"))
    return 0;
  return imc_features_set_str(&vm->system->feats, "net_interface.0.ip", "127.0.0.1");
}

static int lc_update(void *ctx, struct imc_vm *vm, struct imc_err *err)
{
  return 0;
}

static int lc_finalize(void *ctx, struct imc_vm *vm, bool last, struct imc_err *err)
{
  return 0;
}

static int lc_power(void *ctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err)
{
  return 0;
}

static const struct imc_connector local_cloud = {
  .name = "LocalTest",
  .abi = IMC_CONNECTOR_ABI,
  .caps = IMC_CAP_NO_AUTH,
  .open = lc_open,
  .close = lc_close,
  .concrete = lc_concrete,
  .launch = lc_launch,
  .update = lc_update,
  .finalize = lc_finalize,
  .power = lc_power,
};

static const struct imc_connector *connectors[] = {&local_cloud, NULL};

/* --- fixture ---------------------------------------------------------------------------- */

struct fx {
  char db[64], work[64];
  struct imc_config cfg;
  struct imc_store *store;
  struct imc_engine *e;
  struct imc_contextualizer ctxr;
  struct imc_auth auth;
  int closed_port;
  char *priv;
};

/* A port nothing listens on: bound, then closed. */
static int closed_port(void)
{
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int s = socket(AF_INET, SOCK_STREAM, 0);

  assert_true(s >= 0);
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

static void start(struct fx *f, long wait_ssh)
{
  struct imc_engine_opts o = {
    .config = &f->cfg, .connectors = connectors, .store = f->store, .contextualizer = &f->ctxr};
  struct imc_err err = {0};

  f->cfg.wait_ssh_acccess_timeout = wait_ssh;
  assert_int_equal(imc_ctxr_open(&f->cfg, f->work, &f->ctxr, &err), 0);
  if (imc_engine_open(&o, &f->e, &err) != 0)
    fail_msg("engine: %s", err.msg);
}

static int setup(void **state)
{
  struct fx *f = imc_calloc(1, sizeof *f);
  const char *text = "type = InfrastructureManager; username = u; password = p\n"
                     "id = c1; type = LocalTest\n";
  struct imc_err err = {0};
  char *pub;
  int fd;

  snprintf(f->db, sizeof f->db, "/tmp/imc-ctxtdrv-XXXXXX");
  assert_true((fd = mkstemp(f->db)) >= 0);
  close(fd);
  snprintf(f->work, sizeof f->work, "/tmp/imc-ctxtwork-XXXXXX");
  assert_non_null(mkdtemp(f->work));
  assert_int_equal(imc_config_init(&f->cfg, &err), 0);
  f->cfg.workers = 2;
  assert_int_equal(imc_store_open(f->db, &f->store, &err), 0);
  imc_auth_init(&f->auth);
  assert_int_equal(imc_auth_parse("auth", text, strlen(text), IMC_AUTH_SERVER, &f->auth, &err), 0);
  f->closed_port = closed_port();
  assert_int_equal(imc_ssh_keypair(IMC_SSH_KEY_ED25519, NULL, &f->priv, &pub, &err), 0);
  imc_free(pub);
  *state = f;
  return 0;
}

static void rm_rf(const char *dir)
{
  const char *argv[] = {"rm", "-rf", dir, NULL};
  pid_t pid = fork();

  if (pid == 0) {
    execvp("rm", (char *const *)argv);
    _exit(127);
  }
  while (pid > 0 && waitpid(pid, NULL, 0) < 0)
    ;
}

static int teardown(void **state)
{
  struct fx *f = *state;
  char side[80];

  imc_ctxr_close(&f->ctxr);
  imc_engine_close(f->e);
  imc_store_close(f->store);
  imc_config_cleanup(&f->cfg);
  imc_auth_cleanup(&f->auth);
  imc_free_secret(f->priv);
  unlink(f->db);
  snprintf(side, sizeof side, "%s-wal", f->db);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", f->db);
  unlink(side);
  rm_rf(f->work);
  imc_free(f);
  return 0;
}

/* The recipe: one system at 127.0.0.1 whose SSH port (outports N-22) is closed. */
static void create(struct fx *f, const char *extra, char id[IMC_INFRA_ID_MAX])
{
  struct imc_buf t;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  imc_buf_init(&t, 1 << 20);
  imc_buf_addf(&t,
               "network pub (outbound = 'yes' and outports = '%d-22')\n"
               "system s (net_interface.0.connection = 'pub' and "
               "disk.0.image.url = 'x://y' and disk.0.os.credentials.username = 'root' and "
               "disk.0.os.credentials.private_key = '%s')\n"
               "configure s (\n@begin\n- ansible.builtin.debug: msg=hi\n@end\n)\n"
               "%s\ndeploy s 1 c1\n",
               f->closed_port, f->priv, extra);
  if (radl_parse("t.radl", imc_buf_cstr(&t), t.len, NULL, &doc, &err) != 0)
    fail_msg("parse: %s", err.msg);
  if (imc_infra_create(f->e, doc, &f->auth, false, id, &err) != 0)
    fail_msg("create: %s", err.msg);
  imc_doc_free(doc);
  imc_buf_free(&t);
}

static enum imc_vm_state vm_state(struct fx *f, const char *id)
{
  struct imc_infra_state st;
  struct imc_err err = {0};
  enum imc_vm_state s;

  assert_int_equal(imc_infra_state(f->e, id, &f->auth, &st, &err), 0);
  assert_int_equal(st.n, 1);
  s = st.vm_states[0];
  imc_infra_state_free(&st);
  return s;
}

/* Waits (bounded) for the run to report the VM. */
static enum imc_vm_state settled(struct fx *f, const char *id)
{
  enum imc_vm_state s = vm_state(f, id);

  for (int i = 0; i < 1200 && s == IMC_VM_RUNNING; i++) {
    usleep(100 * 1000);
    s = vm_state(f, id);
  }
  return s;
}

static char *contmsg(struct fx *f, const char *id)
{
  struct imc_buf b;
  struct imc_err err = {0};

  imc_buf_init(&b, 1 << 22);
  assert_int_equal(imc_infra_contmsg(f->e, id, &f->auth, false, &b, &err), 0);
  return imc_buf_take(&b, NULL);
}

static void assert_no_secret(struct fx *f, const char *log)
{
  assert_null(strstr(log, "PRIVATE KEY"));
  assert_null(strstr(log, f->priv + 40));
}

static void test_driver_vm_without_ssh_ends_unconfigured(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], want[64], run[160];
  char *log;
  struct stat st;

  start(f, 1);
  create(f, "", id);
  assert_int_equal(settled(f, id), IMC_VM_UNCONFIGURED);
  log = contmsg(f, id);
  snprintf(want, sizeof want, "127.0.0.1:%d", f->closed_port);
  assert_non_null(strstr(log, "Contextualization started"));
  assert_non_null(strstr(log, want));
  assert_non_null(strstr(log, "no SSH access"));
  /* No step runs for a VM that is out of the run. */
  assert_null(strstr(log, "Step basic"));
  assert_non_null(strstr(log, "Contextualization failed: the VM is unconfigured."));
  assert_no_secret(f, log);
  imc_free(log);
  /* The run directory and its key files are gone; the infrastructure's directory stays. */
  imc_ctxr_close(&f->ctxr);
  snprintf(run, sizeof run, "%s/%s/run-1", f->work, id);
  assert_int_not_equal(stat(run, &st), 0);
  snprintf(run, sizeof run, "%s/%s", f->work, id);
  assert_int_equal(stat(run, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_driver_empty_configure_needs_no_ssh(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  char *log;
  struct imc_doc *doc = NULL;
  struct imc_buf t;
  struct imc_err err = {0};

  start(f, 1);
  /* A system whose configure is `()`: its VMs are configured without any SSH. */
  imc_buf_init(&t, 1 << 20);
  imc_buf_addf(&t,
               "network pub (outbound = 'yes' and outports = '%d-22')\n"
               "system s (net_interface.0.connection = 'pub' and disk.0.image.url = 'x://y' "
               "and disk.0.os.credentials.username = 'root' and "
               "disk.0.os.credentials.password = 'Pw-never-used-1')\n"
               "configure s ()\ndeploy s 1 c1\n",
               f->closed_port);
  assert_int_equal(radl_parse("t.radl", imc_buf_cstr(&t), t.len, NULL, &doc, &err), 0);
  assert_int_equal(imc_infra_create(f->e, doc, &f->auth, false, id, &err), 0);
  imc_doc_free(doc);
  imc_buf_free(&t);
  assert_int_equal(settled(f, id), IMC_VM_CONFIGURED);
  log = contmsg(f, id);
  assert_non_null(strstr(log, "Contextualization disabled for system s."));
  assert_null(strstr(log, "Waiting for SSH access"));
  assert_null(strstr(log, "Pw-never-used-1"));
  imc_free(log);
}

static void test_driver_vm_without_ip_ends_unconfigured(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  char *log;
  struct imc_doc *doc = NULL;
  struct imc_buf t;
  struct imc_err err = {0};

  f->cfg.wait_running_vm_timeout = 1;
  start(f, 1);
  imc_buf_init(&t, 1 << 20);
  imc_buf_adds(&t, "network pub (outbound = 'yes')\n"
                   "system s (net_interface.0.connection = 'pub' and disk.0.image.url = 'x://y' "
                   "and disk.0.os.credentials.username = 'root' and test.no_ip = 'yes' and "
                   "disk.0.os.credentials.password = 'Pw-never-used-2')\n"
                   "configure s (\n@begin\n- ansible.builtin.debug: msg=hi\n@end\n)\n"
                   "deploy s 1 c1\n");
  assert_int_equal(radl_parse("t.radl", imc_buf_cstr(&t), t.len, NULL, &doc, &err), 0);
  assert_int_equal(imc_infra_create(f->e, doc, &f->auth, false, id, &err), 0);
  imc_doc_free(doc);
  imc_buf_free(&t);
  assert_int_equal(settled(f, id), IMC_VM_UNCONFIGURED);
  log = contmsg(f, id);
  assert_non_null(strstr(log, "VM 0 has no IP address yet"));
  assert_null(strstr(log, "Pw-never-used-2"));
  imc_free(log);
}

static void test_driver_close_stops_a_run_waiting_for_ssh(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];

  start(f, 3600);
  create(f, "", id);
  /* Close stops the wait (an hour long) and reports the VM. */
  imc_ctxr_close(&f->ctxr);
  assert_int_equal(vm_state(f, id), IMC_VM_UNCONFIGURED);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_driver_vm_without_ssh_ends_unconfigured, setup, teardown),
    cmocka_unit_test_setup_teardown(test_driver_empty_configure_needs_no_ssh, setup, teardown),
    cmocka_unit_test_setup_teardown(test_driver_vm_without_ip_ends_unconfigured, setup, teardown),
    cmocka_unit_test_setup_teardown(test_driver_close_stops_a_run_waiting_for_ssh, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
