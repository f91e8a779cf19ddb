/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A command-line handle on the contextualizer's pieces for test_ctxt_local.py:
 *   ctxt_tool keypair PRIV PUB                  writes a new ed25519 pair (PRIV 0600)
 *   ctxt_tool probe HOST PORT USER KEY|- KNOWN  ssh_probe; KEY "-" means the password in
 *                                               $IMC_TEST_PASSWORD
 *   ctxt_tool exec HOST PORT USER KEY KNOWN CMD prints the output, exits with CMD's status
 *   ctxt_tool execin HOST PORT USER KEY KNOWN CMD   the same with ssh_conn_run: its standard
 *                                               input goes to CMD's, the output is printed in
 *                                               the pieces it comes in
 *   ctxt_tool proxyexec HOST PORT USER KEY KNOWN PHOST PPORT PUSER CMD   the same, through a
 *                                               bastion that takes the same key
 *   ctxt_tool prepare DIR HOST PORT USER KEY KNOWN   inventory (group "local") + ansible.cfg
 *   ctxt_tool prepareproxy DIR HOST PORT USER KEY KNOWN PHOST PPORT PUSER   the same, the
 *                                               host behind a bastion that takes the same key
 *   ctxt_tool run DIR PLAYBOOK SECONDS          ctxt_run_playbook; prints the output, then
 *                                               "status=N timed_out=B" and "recap HOST ok|failed"
 *   ctxt_tool deploy WORK RADL RETRIES          an engine (SQLite store in WORK) with the
 *                                               contextualizer (WORK/ctxt) and a cloud whose VMs
 *                                               are at 127.0.0.1: creates RADL, waits until no
 *                                               VM is running, prints "infra ID", "vm N STATE"
 *                                               and the contextualization log
 * Errors print "error CODE: message" on stderr and exit 2 (exec: 2 too, before the command). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctxt_int.h"
#include "imc/alloc.h"
#include "imc/ctxt_driver.h"
#include "imc/engine.h"
#include "imc/radl.h"
#include "imc/ssh_key.h"

static int fail(const struct imc_err *err)
{
  fprintf(stderr, "error %s: %s\n", imc_code_name(err->code), err->msg);
  return 2;
}

static char *slurp(const char *path)
{
  struct imc_buf b;
  struct imc_err err = {0};

  imc_buf_init(&b, 1024 * 1024);
  if (imc_read_file(path, &b, &err) != 0) {
    fail(&err);
    exit(2);
  }
  return imc_buf_take(&b, NULL);
}

static int put(const char *path, const char *text, mode_t mode)
{
  FILE *f;

  umask(077);
  if (!(f = fopen(path, "w")))
    return -1;
  fputs(text, f);
  fclose(f);
  return chmod(path, mode);
}

static int cmd_keypair(char **argv)
{
  struct imc_err err = {0};
  char *priv, *pub;
  int r;

  if (imc_ssh_keypair(IMC_SSH_KEY_ED25519, "imc-test", &priv, &pub, &err))
    return fail(&err);
  r = put(argv[0], priv, 0600) || put(argv[1], pub, 0644);
  imc_free_secret(priv);
  imc_free(pub);
  return r ? 2 : 0;
}

static void target(struct ssh_target *t, char **argv, char **key)
{
  *t = (struct ssh_target){.host = argv[0],
                           .port = (int)strtol(argv[1], NULL, 10),
                           .user = argv[2],
                           .known_hosts = argv[4],
                           .timeout = 20};
  *key = NULL;
  if (strcmp(argv[3], "-") == 0)
    t->password = getenv("IMC_TEST_PASSWORD");
  else
    t->key = *key = slurp(argv[3]);
}

static int cmd_probe(char **argv)
{
  struct ssh_target t;
  struct imc_err err = {0};
  char *key;
  int r;

  target(&t, argv, &key);
  r = ssh_probe(&t, &err);
  imc_free_secret(key);
  return r ? fail(&err) : 0;
}

static int exec_on(const struct ssh_target *t, const char *cmd)
{
  struct ssh_conn *c;
  struct imc_buf out;
  struct imc_err err = {0};
  int status = -1;

  if (ssh_conn_open(t, &c, &err))
    return fail(&err);
  imc_buf_init(&out, SSH_CONN_MAX_OUTPUT);
  if (ssh_conn_exec(c, cmd, &status, &out, &err)) {
    ssh_conn_close(c);
    imc_buf_free(&out);
    return fail(&err);
  }
  fputs(imc_buf_cstr(&out), stdout);
  imc_buf_free(&out);
  ssh_conn_close(c);
  return status;
}

static int cmd_exec(char **argv)
{
  struct ssh_target t;
  char *key;
  int r;

  target(&t, argv, &key);
  r = exec_on(&t, argv[5]);
  imc_free_secret(key);
  return r;
}

static void print_piece(void *ctx, const char *text, size_t n)
{
  (void)ctx;
  fwrite(text, 1, n, stdout);
}

static int cmd_execin(char **argv)
{
  struct ssh_target t;
  struct ssh_conn *c = NULL;
  struct imc_buf in;
  struct imc_err err = {0};
  char *key;
  int status = -1, r;

  target(&t, argv, &key);
  imc_buf_init(&in, 64u * 1024 * 1024);
  if ((r = imc_read_stream(stdin, "standard input", &in, &err)) == 0 &&
      (r = ssh_conn_open(&t, &c, &err)) == 0) {
    const struct ssh_exec x = {
      .cmd = argv[5], .input = in.data, .input_len = in.len, .output = print_piece};

    r = ssh_conn_run(c, &x, &status, &err);
  }
  ssh_conn_close(c);
  imc_buf_free(&in);
  imc_free_secret(key);
  return r ? fail(&err) : status;
}

static int cmd_proxyexec(char **argv)
{
  struct ssh_target t, p;
  char *key;
  int r;

  target(&t, argv, &key);
  p = t;
  p.host = argv[5];
  p.port = (int)strtol(argv[6], NULL, 10);
  p.user = argv[7];
  t.proxy = &p;
  r = exec_on(&t, argv[8]);
  imc_free_secret(key);
  return r;
}

static int prepare(char **argv, const struct ctxt_proxy *proxy)
{
  const char *dir = argv[0];
  char facts[4096], path[4200];
  struct ctxt_node n = {.vmid = 0,
                        .name = "local0",
                        .system = "local",
                        .hostname = "local0",
                        .domain = "localdomain",
                        .private_ip = argv[1],
                        .address = argv[1],
                        .port = (int)strtol(argv[2], NULL, 10),
                        .user = argv[3],
                        .key_file = argv[4],
                        .cloud_type = "Test",
                        .proxy = proxy};
  struct ctxt_infra inf = {
    .id = "test-infra", .known_hosts = argv[5], .facts_dir = facts, .nodes = &n, .n = 1};
  struct imc_buf b;
  struct imc_err err = {0};

  snprintf(facts, sizeof facts, "%s/facts", dir);
  imc_buf_init(&b, CTXT_MAX_INVENTORY);
  if (ctxt_inventory(&inf, &b, &err))
    return fail(&err);
  snprintf(path, sizeof path, "%s/hosts", dir);
  put(path, imc_buf_cstr(&b), 0600);
  imc_buf_reset(&b);
  if (ctxt_ansible_cfg(&inf, dir, &b, &err))
    return fail(&err);
  snprintf(path, sizeof path, "%s/ansible.cfg", dir);
  put(path, imc_buf_cstr(&b), 0600);
  imc_buf_free(&b);
  return 0;
}

static int cmd_prepare(char **argv)
{
  return prepare(argv, NULL);
}

static int cmd_prepareproxy(char **argv)
{
  struct ctxt_proxy p = {
    .host = argv[6], .port = (int)strtol(argv[7], NULL, 10), .user = argv[8], .key_file = argv[4]};

  return prepare(argv, &p);
}

static void print_recap(const char *text, size_t len)
{
  const char *p = text, *end = text + len;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    char *host;
    bool failed;

    if (ctxt_recap_line(p, n, &host, &failed)) {
      printf("recap %s %s\n", host, failed ? "failed" : "ok");
      imc_free(host);
    }
    p += n + 1;
  }
}

static void on_output(void *ctx, const char *lines, size_t n)
{
  struct imc_buf *all = ctx;

  imc_buf_add(all, lines, n);
}

static int cmd_run(char **argv)
{
  struct imc_buf all;
  char cp[4200];
  struct ctxt_run rq = {.program = "ansible-playbook",
                        .dir = argv[0],
                        .playbook = argv[1],
                        .control_dir = cp,
                        .deadline = ctxt_now() + strtod(argv[2], NULL),
                        .output = on_output,
                        .ctx = &all};
  struct imc_err err = {0};
  int status;
  bool timed_out;

  snprintf(cp, sizeof cp, "%s/cp", argv[0]);
  imc_buf_init(&all, 16 * 1024 * 1024);
  if (ctxt_run_playbook(&rq, &status, &timed_out, &err)) {
    imc_buf_free(&all);
    return fail(&err);
  }
  fputs(imc_buf_cstr(&all), stdout);
  printf("status=%d timed_out=%d\n", status, timed_out ? 1 : 0);
  print_recap(imc_buf_cstr(&all), all.len);
  imc_buf_free(&all);
  return 0;
}

/* --- an engine with a cloud whose VMs are at 127.0.0.1 ---------------------------------- */

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
  /* As IM's connectors do, it says which cloud the VM is on. */
  if (imc_features_set_str(&vm->system->feats, "provider.type", "LocalTest"))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  return imc_features_set_str(&vm->system->feats, "net_interface.0.ip", "127.0.0.1");
}

static int lc_nop(void *ctx, struct imc_vm *vm, struct imc_err *err)
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
  .update = lc_nop,
  .finalize = lc_finalize,
  .power = lc_power,
};

static const struct imc_connector *const local_clouds[] = {&local_cloud, NULL};

static bool any_running(struct imc_engine *e, const char *id, const struct imc_auth *auth)
{
  struct imc_infra_state st;
  struct imc_err err = {0};
  bool running = false;

  if (imc_infra_state(e, id, auth, &st, &err) != 0)
    return false;
  for (size_t i = 0; i < st.n; i++)
    running |= st.vm_states[i] == IMC_VM_RUNNING;
  imc_infra_state_free(&st);
  return running;
}

static int deploy_report(struct imc_engine *e, const char *id, const struct imc_auth *auth)
{
  struct imc_infra_state st;
  struct imc_buf log;
  struct imc_err err = {0};

  if (imc_infra_state(e, id, auth, &st, &err) != 0)
    return fail(&err);
  printf("infra %s\n", id);
  for (size_t i = 0; i < st.n; i++)
    printf("vm %u %s\n", st.vm_ids[i], imc_vm_state_name(st.vm_states[i]));
  imc_infra_state_free(&st);
  imc_buf_init(&log, 1 << 24);
  if (imc_infra_contmsg(e, id, auth, false, &log, &err) != 0) {
    imc_buf_free(&log);
    return fail(&err);
  }
  printf("--- log\n%s\n", imc_buf_cstr(&log));
  imc_buf_free(&log);
  return 0;
}

static int cmd_deploy(char **argv)
{
  const char *auth_text = "type = InfrastructureManager; username = u; password = p\n"
                          "id = c1; type = LocalTest\n";
  char db[4200], work[4200], id[IMC_INFRA_ID_MAX];
  struct imc_config cfg;
  struct imc_store *store = NULL;
  struct imc_engine *e = NULL;
  struct imc_contextualizer ctxr = {0};
  struct imc_auth auth;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  char *radl = slurp(argv[1]);
  int r = 2;

  snprintf(db, sizeof db, "%s/imc.db", argv[0]);
  snprintf(work, sizeof work, "%s/ctxt", argv[0]);
  imc_auth_init(&auth);
  if (imc_config_init(&cfg, &err) != 0)
    goto out;
  cfg.playbook_retries = strtol(argv[2], NULL, 10);
  cfg.wait_ssh_acccess_timeout = 120;
  if (imc_auth_parse("auth", auth_text, strlen(auth_text), IMC_AUTH_SERVER, &auth, &err) ||
      radl_parse(argv[1], radl, strlen(radl), NULL, &doc, &err) ||
      imc_store_open(db, &store, &err) || imc_ctxr_open(&cfg, work, &ctxr, &err))
    goto out;
  {
    struct imc_engine_opts o = {
      .config = &cfg, .connectors = local_clouds, .store = store, .contextualizer = &ctxr};

    if (imc_engine_open(&o, &e, &err) || imc_infra_create(e, doc, &auth, false, id, &err))
      goto out;
  }
  /* Bounded: the contextualizer reports every VM before its own deadlines pass. */
  for (int i = 0; i < 6000 && any_running(e, id, &auth); i++)
    usleep(100 * 1000);
  r = deploy_report(e, id, &auth);
out:
  if (r == 2 && err.code)
    fail(&err);
  imc_ctxr_close(&ctxr);
  imc_engine_close(e);
  imc_store_close(store);
  imc_doc_free(doc);
  imc_auth_cleanup(&auth);
  imc_config_cleanup(&cfg);
  imc_free(radl);
  return r;
}

static const struct {
  const char *name;
  int nargs;
  int (*fn)(char **argv);
} cmds[] = {
  {"keypair", 2, cmd_keypair}, {"probe", 5, cmd_probe},
  {"exec", 6, cmd_exec},       {"proxyexec", 9, cmd_proxyexec},
  {"execin", 6, cmd_execin},
  {"prepare", 6, cmd_prepare}, {"run", 3, cmd_run},
  {"deploy", 3, cmd_deploy},   {"prepareproxy", 9, cmd_prepareproxy},
};

int main(int argc, char **argv)
{
  for (size_t i = 0; argc > 1 && i < sizeof cmds / sizeof cmds[0]; i++) {
    if (strcmp(argv[1], cmds[i].name) == 0 && argc - 2 == cmds[i].nargs)
      return cmds[i].fn(argv + 2);
  }
  fprintf(stderr, "usage: see the comment at the top of ctxt_tool.c\n");
  return 2;
}
