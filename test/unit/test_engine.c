/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine: every IM operation with the Dummy connector and with a test cloud defined here
 * (credentials required, scripted failures, a gate that holds launches, find by token), on a
 * real SQLite store in a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>

#include "imc/alloc.h"
#include "imc/engine.h"
#include "imc/radl.h"

/* --- a test cloud ------------------------------------------------------------------------ */

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  bool gate_on;      /* launches wait while it is on */
  unsigned waiting;  /* launches waiting at the gate */
  unsigned launches, finalized, finalized_last;
  char tokens[64][96]; /* what was created, by client token */
  size_t ntokens;
  char public_key[256]; /* the key the last launch was asked to install */
} tc = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

struct tc_ctx {
  long fail;   /* auth `fail`: this cloud refuses every launch */
  bool no_gpu; /* auth `gpus = 0`: no flavour has GPUs */
};

static int tc_open(void *ctx, const struct imc_auth_entry *auth, struct imc_http *http,
                   struct imc_err *err)
{
  struct tc_ctx *c = ctx;
  const char *v;

  if (!imc_auth_get(auth, "password"))
    return imc_fail(err, IMC_E_AUTH, "Test: missing credentials");
  c->fail = (v = imc_auth_get(auth, "fail")) != NULL && strcmp(v, "yes") == 0;
  c->no_gpu = (v = imc_auth_get(auth, "gpus")) != NULL && strcmp(v, "0") == 0;
  return 0;
}

static void tc_close(void *ctx)
{
}

static int tc_concrete(void *ctx, const struct imc_elem *system, struct imc_elem **out,
                       double *score, struct imc_err *err)
{
  struct tc_ctx *c = ctx;

  if (!(*out = imc_elem_clone(system)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  if (c->no_gpu)
    imc_features_del(&(*out)->feats, "gpu.count");
  *score = 1;
  return 0;
}

static int tc_launch(void *ctx, const struct imc_launch *rq, struct imc_vm *vm,
                     struct imc_err *err)
{
  struct tc_ctx *c = ctx;
  int r = 0;

  pthread_mutex_lock(&tc.mu);
  tc.waiting++;
  pthread_cond_broadcast(&tc.cond);
  while (tc.gate_on)
    pthread_cond_wait(&tc.cond, &tc.mu);
  tc.waiting--;
  tc.launches++;
  if (c->fail) {
    r = imc_fail(err, IMC_E_CLOUD, "Test: no capacity");
  } else if (tc.ntokens < 64) {
    snprintf(tc.tokens[tc.ntokens++], sizeof tc.tokens[0], "%s", rq->client_token);
  }
  snprintf(tc.public_key, sizeof tc.public_key, "%s", rq->public_key ? rq->public_key : "");
  pthread_mutex_unlock(&tc.mu);
  if (r)
    return r;
  imc_vm_set(&vm->instance_id, rq->client_token);
  vm->state = IMC_VM_RUNNING;
  return imc_features_set_str(&vm->system->feats, "net_interface.0.ip", "10.9.0.1");
}

static int tc_update(void *ctx, struct imc_vm *vm, struct imc_err *err)
{
  return 0;
}

static int tc_finalize(void *ctx, struct imc_vm *vm, bool last, struct imc_err *err)
{
  pthread_mutex_lock(&tc.mu);
  tc.finalized++;
  tc.finalized_last += last;
  pthread_mutex_unlock(&tc.mu);
  return 0;
}

static int tc_power(void *ctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err)
{
  vm->state = op == IMC_POWER_STOP ? IMC_VM_STOPPED : IMC_VM_RUNNING;
  return 0;
}

static int tc_find(void *ctx, const char *token, struct imc_vm *vm, struct imc_err *err)
{
  bool found = false;

  pthread_mutex_lock(&tc.mu);
  for (size_t i = 0; i < tc.ntokens && !found; i++)
    found = strcmp(tc.tokens[i], token) == 0;
  pthread_mutex_unlock(&tc.mu);
  if (!found)
    return imc_fail(err, IMC_E_NOTFOUND, "Test: no VM with that token");
  imc_vm_set(&vm->instance_id, token);
  vm->state = IMC_VM_RUNNING;
  return 0;
}

static const struct imc_connector test_cloud = {
  .name = "Test",
  .abi = IMC_CONNECTOR_ABI,
  .caps = IMC_CAP_FIND,
  .ctx_size = sizeof(struct tc_ctx),
  .open = tc_open,
  .close = tc_close,
  .concrete = tc_concrete,
  .launch = tc_launch,
  .update = tc_update,
  .finalize = tc_finalize,
  .power = tc_power,
  .find = tc_find,
};

static const struct imc_connector *connectors[3];

/* --- fixture ------------------------------------------------------------------------------ */

struct fx {
  char path[64];
  struct imc_config cfg;
  struct imc_store *store;
  struct imc_engine *e;
  struct imc_auth alice, bob, dummy_only;
};

static void auth_of(struct imc_auth *a, const char *text)
{
  struct imc_err err = {0};

  imc_auth_init(a);
  assert_int_equal(imc_auth_parse("auth", text, strlen(text), IMC_AUTH_SERVER, a, &err), 0);
}

static void engine_start(struct fx *f)
{
  struct imc_engine_opts o = {.config = &f->cfg, .connectors = connectors, .store = f->store};
  struct imc_err err = {0};

  if (imc_engine_open(&o, &f->e, &err) != 0)
    fail_msg("engine: %s", err.msg);
}

static int setup(void **state)
{
  struct fx *f = imc_calloc(1, sizeof *f);
  struct imc_err err = {0};
  int fd;

  connectors[0] = imc_connector_find(imc_connectors_builtin, "Dummy");
  connectors[1] = &test_cloud;
  snprintf(f->path, sizeof f->path, "/tmp/imc-engine-XXXXXX");
  assert_true((fd = mkstemp(f->path)) >= 0);
  close(fd);
  assert_int_equal(imc_config_init(&f->cfg, &err), 0);
  f->cfg.delay_between_vm_retries = 0;
  f->cfg.workers = 2;
  assert_int_equal(imc_store_open(f->path, &f->store, &err), 0);
  engine_start(f);
  auth_of(&f->alice, "type = InfrastructureManager; username = alice; password = alice-Secret9\n"
                     "id = dummy; type = Dummy\n"
                     "id = t1; type = Test; password = s\n");
  auth_of(&f->bob, "type = InfrastructureManager; username = bob; password = b1\n"
                   "id = dummy; type = Dummy\n");
  auth_of(&f->dummy_only, "type = InfrastructureManager; username = alice; password = alice-Secret9\n"
                          "id = dummy; type = Dummy\n");
  pthread_mutex_lock(&tc.mu);
  tc.gate_on = false;
  tc.launches = tc.finalized = tc.finalized_last = 0;
  tc.ntokens = 0;
  pthread_mutex_unlock(&tc.mu);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fx *f = *state;

  imc_engine_close(f->e);
  imc_store_close(f->store);
  imc_config_cleanup(&f->cfg);
  imc_auth_cleanup(&f->alice);
  imc_auth_cleanup(&f->bob);
  imc_auth_cleanup(&f->dummy_only);
  unlink(f->path);
  {
    char side[80];

    snprintf(side, sizeof side, "%s-wal", f->path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", f->path);
    unlink(side);
  }
  imc_free(f);
  return 0;
}

static struct imc_doc *doc_of(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  if (radl_parse("t.radl", text, strlen(text), NULL, &doc, &err) != 0)
    fail_msg("parse: %s", err.msg);
  return doc;
}

static const char two_systems[] =
  "network pub (outbound = 'yes')\n"
  "network priv ()\n"
  "system front (cpu.count >= 1 and memory.size >= 512M and net_interface.0.connection = 'pub'"
  " and net_interface.1.connection = 'priv' and disk.0.image.url = 'mock0://x/y')\n"
  "system wn (net_interface.0.connection = 'priv' and disk.0.image.url = 'mock0://x/y' and"
  " net_interface.0.dns_name = 'wn-#N#')\n"
  "deploy front 1 dummy\n"
  "deploy wn 2 dummy\n";

/* Creates an infrastructure of text for auth, synchronously. */
static void create(struct fx *f, const char *text, const struct imc_auth *auth, char *id)
{
  struct imc_doc *doc = doc_of(text);
  struct imc_err err = {0};

  if (imc_infra_create(f->e, doc, auth, false, id, &err) != 0)
    fail_msg("create: %s", err.msg);
  imc_doc_free(doc);
}

static size_t vm_count(struct fx *f, const char *id, const struct imc_auth *auth)
{
  struct imc_vm_ids vms;
  struct imc_err err = {0};
  size_t n;

  assert_int_equal(imc_infra_info(f->e, id, auth, &vms, &err), 0);
  n = vms.n;
  imc_vm_ids_free(&vms);
  return n;
}

static enum imc_vm_state infra_state(struct fx *f, const char *id, const struct imc_auth *auth)
{
  struct imc_infra_state st;
  struct imc_err err = {0};
  enum imc_vm_state s;

  assert_int_equal(imc_infra_state(f->e, id, auth, &st, &err), 0);
  s = st.state;
  imc_infra_state_free(&st);
  return s;
}

static char *vm_prop(struct fx *f, const char *id, unsigned vm, const char *name)
{
  struct imc_feature *feat = NULL;
  struct imc_err err = {0};
  char *v;

  if (imc_vm_property(f->e, id, vm, name, &f->alice, &feat, &err) != 0)
    return NULL;
  v = feat->type == IMC_V_STR ? imc_strdup(feat->str) : NULL;
  imc_feature_free(feat);
  return v;
}

/* --- create, read, destroy ------------------------------------------------------------------ */

static void test_create_launches_every_deploy_in_order(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_vm_ids vms;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(strlen(id), 36);
  assert_int_equal(imc_infra_info(f->e, id, &f->alice, &vms, &err), 0);
  assert_int_equal(vms.n, 3);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(vms.v[i], i);
  imc_vm_ids_free(&vms);
}

static void test_create_dummy_vms_become_configured(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_infra_state st;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_state(f->e, id, &f->alice, &st, &err), 0);
  assert_int_equal(st.state, IMC_VM_CONFIGURED);
  assert_int_equal(st.n, 3);
  for (size_t i = 0; i < st.n; i++)
    assert_int_equal(st.vm_states[i], IMC_VM_CONFIGURED);
  imc_infra_state_free(&st);
}

static void test_create_replaces_hash_n_in_dns_names(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], *front, *wn2;

  create(f, two_systems, &f->alice, id);
  front = vm_prop(f, id, 0, "net_interface.0.dns_name");
  wn2 = vm_prop(f, id, 2, "net_interface.0.dns_name");
  assert_string_equal(front, "vnode-0"); /* DEFAULT_VM_NAME */
  assert_string_equal(wn2, "wn-2");
  imc_free(front);
  imc_free(wn2);
}

static void test_create_checks_the_document(void **state)
{
  struct fx *f = *state;
  struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'mock0://x/y')\ndeploy s 1\n"
                               "contextualize (system s configure missing)");
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  assert_int_equal(imc_infra_create(f->e, doc, &f->alice, false, id, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "t.radl:3:"));
  imc_doc_free(doc);
}

static void test_create_without_im_credentials_is_refused(void **state)
{
  struct fx *f = *state;
  struct imc_doc *doc = doc_of(two_systems);
  struct imc_auth a;
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  auth_of(&a, "id = dummy; type = Dummy\n");
  assert_int_equal(imc_infra_create(f->e, doc, &a, false, id, &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "No credentials provided for the InfrastructureManager.");
  imc_auth_cleanup(&a);
  imc_doc_free(doc);
}

static void test_token_credentials_are_an_explicit_unsupported_error(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  struct imc_strs ids;
  struct imc_err err = {0};

  auth_of(&a, "type = InfrastructureManager; token = abc\n");
  assert_int_equal(imc_infra_list(f->e, &a, NULL, &ids, &err), IMC_E_UNSUPPORTED);
  assert_non_null(strstr(err.msg, "not supported by this build"));
  assert_null(strstr(err.msg, "abc"));
  imc_auth_cleanup(&a);
}

static void test_openid_user_names_need_a_token(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  struct imc_strs ids;
  struct imc_err err = {0};

  auth_of(&a, "type = InfrastructureManager; username = __OPENID__x; password = p\n");
  assert_int_equal(imc_infra_list(f->e, &a, NULL, &ids, &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "Invalid username used for the InfrastructureManager.");
  imc_auth_cleanup(&a);
}

static void test_unknown_infrastructure_is_not_found(void **state)
{
  struct fx *f = *state;
  struct imc_vm_ids vms;
  struct imc_err err = {0};

  assert_int_equal(imc_infra_info(f->e, "no-such-id", &f->alice, &vms, &err), IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Invalid infrastructure ID or access not granted.");
}

static void test_other_users_cannot_see_or_touch_it(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_vm_ids vms;
  struct imc_strs ids;
  struct imc_auth wrong_pass;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_info(f->e, id, &f->bob, &vms, &err), IMC_E_FORBIDDEN);
  assert_string_equal(err.msg, "Access to this infrastructure not granted.");
  imc_err_clear(&err);
  assert_int_equal(imc_infra_destroy(f->e, id, &f->bob, false, false, &err), IMC_E_FORBIDDEN);
  imc_err_clear(&err);
  assert_int_equal(imc_infra_list(f->e, &f->bob, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 0);
  imc_strs_free(&ids);
  /* the same name with another password is another user */
  auth_of(&wrong_pass, "type = InfrastructureManager; username = alice; password = nope\n");
  assert_int_equal(imc_infra_info(f->e, id, &wrong_pass, &vms, &err), IMC_E_FORBIDDEN);
  imc_auth_cleanup(&wrong_pass);
  assert_int_equal(vm_count(f, id, &f->alice), 3);
}

static void test_list_filters_with_a_regex_on_the_radl(void **state)
{
  struct fx *f = *state;
  char a[IMC_INFRA_ID_MAX], b[IMC_INFRA_ID_MAX];
  struct imc_strs ids;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, a);
  create(f, "system other (disk.0.image.url = 'mock0://x/z')\ndeploy other 1\n", &f->alice, b);
  assert_int_equal(imc_infra_list(f->e, &f->alice, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 2);
  assert_string_equal(ids.v[0], a); /* creation order */
  imc_strs_free(&ids);
  assert_int_equal(imc_infra_list(f->e, &f->alice, "system oth[e]r", &ids, &err), 0);
  assert_int_equal(ids.n, 1);
  assert_string_equal(ids.v[0], b);
  imc_strs_free(&ids);
  assert_int_equal(imc_infra_list(f->e, &f->alice, "(", &ids, &err), IMC_E_INVAL);
}

/* The metrics' view: no cloud call, deleted infrastructures and removed VMs left out. */
static void test_counts_are_by_state_without_deleted_ones(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], gone[IMC_INFRA_ID_MAX];
  struct imc_engine_counts c;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  create(f, two_systems, &f->bob, gone);
  assert_int_equal(imc_infra_destroy(f->e, gone, &f->bob, false, false, &err), 0);
  assert_int_equal(imc_engine_counts(f->e, &c, &err), 0);
  assert_int_equal(c.infras[IMC_VM_CONFIGURED], 1);
  assert_int_equal(c.vms[IMC_VM_CONFIGURED], 3);
  for (int s = 0; s < IMC_VM_NSTATES; s++) {
    if (s != IMC_VM_CONFIGURED) {
      assert_int_equal(c.infras[s], 0);
      assert_int_equal(c.vms[s], 0);
    }
  }
  assert_int_equal(c.jobs_queued, 0);
  assert_int_equal(c.jobs_running, 0);
}

static void test_destroy_marks_it_deleted(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_vm_ids vms;
  struct imc_strs ids;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_destroy(f->e, id, &f->alice, false, false, &err), 0);
  assert_int_equal(imc_infra_info(f->e, id, &f->alice, &vms, &err), IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Deleted infrastructure.");
  assert_int_equal(imc_infra_list(f->e, &f->alice, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 0);
  imc_strs_free(&ids);
}

static void test_destroy_deletes_the_last_vm_of_a_cloud_last(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 3 t1\n", &f->alice, id);
  assert_int_equal(imc_infra_destroy(f->e, id, &f->alice, false, false, &err), 0);
  assert_int_equal(tc.finalized, 3);
  assert_int_equal(tc.finalized_last, 1);
}

static void test_destroy_without_the_cloud_credentials_fails_unless_forced(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 1 t1\n", &f->alice, id);
  assert_int_equal(imc_infra_destroy(f->e, id, &f->dummy_only, false, false, &err), IMC_E_CLOUD);
  assert_non_null(strstr(err.msg, "Error destroying the infrastructure"));
  assert_non_null(strstr(err.msg, "No auth data for cloud with ID: t1"));
  assert_int_equal(vm_count(f, id, &f->alice), 1);
  imc_err_clear(&err);
  assert_int_equal(imc_infra_destroy(f->e, id, &f->dummy_only, true, false, &err), 0);
  assert_int_equal(imc_infra_info(f->e, id, &f->alice, &(struct imc_vm_ids){0}, &err),
                   IMC_E_NOTFOUND);
}

static void test_boot_mode_read_only_disables_changes(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_doc *doc = doc_of(two_systems);
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  f->cfg.boot_mode = 1;
  assert_int_equal(imc_infra_create(f->e, doc, &f->alice, false, id, &err), IMC_E_FORBIDDEN);
  assert_string_equal(err.msg, "Function currently disabled.");
  imc_err_clear(&err);
  assert_int_equal(vm_count(f, id, &f->alice), 3); /* reads still work */
  f->cfg.boot_mode = 2;                            /* read and delete */
  assert_int_equal(imc_infra_power(f->e, id, IMC_POWER_STOP, &f->alice, &err),
                   IMC_E_FORBIDDEN);
  imc_err_clear(&err);
  assert_int_equal(imc_infra_destroy(f->e, id, &f->alice, false, false, &err), 0);
  f->cfg.boot_mode = 0;
  imc_doc_free(doc);
}

/* --- the state table ------------------------------------------------------------------------- */

static void test_state_aggregate_follows_im(void **state)
{
  static const struct {
    enum imc_vm_state vms[3];
    size_t n;
    int configured;
    bool deleting;
    enum imc_vm_state want;
  } cases[] = {
    {{IMC_VM_RUNNING, IMC_VM_FAILED, IMC_VM_UNKNOWN}, 3, -1, false, IMC_VM_FAILED},
    {{IMC_VM_UNKNOWN, IMC_VM_FAILED}, 2, -1, false, IMC_VM_UNKNOWN},
    {{IMC_VM_PENDING, IMC_VM_RUNNING}, 2, -1, false, IMC_VM_PENDING},
    {{IMC_VM_RUNNING, IMC_VM_PENDING}, 2, -1, false, IMC_VM_PENDING},
    {{IMC_VM_CONFIGURED, IMC_VM_RUNNING}, 2, -1, false, IMC_VM_RUNNING},
    {{IMC_VM_CONFIGURED, IMC_VM_UNCONFIGURED}, 2, 1, false, IMC_VM_UNCONFIGURED},
    {{IMC_VM_UNCONFIGURED, IMC_VM_CONFIGURED}, 2, 1, false, IMC_VM_UNCONFIGURED},
    {{IMC_VM_STOPPED, IMC_VM_CONFIGURED}, 2, 1, false, IMC_VM_STOPPED},
    {{IMC_VM_OFF, IMC_VM_STOPPED}, 2, 1, false, IMC_VM_OFF},
    {{IMC_VM_STOPPED, IMC_VM_UNCONFIGURED}, 2, 1, false, IMC_VM_STOPPED},
    {{IMC_VM_CONFIGURED}, 1, 1, false, IMC_VM_CONFIGURED},
    {{IMC_VM_DELETING}, 1, 1, false, IMC_VM_UNKNOWN},
    {{0}, 0, 0, false, IMC_VM_FAILED},
    {{0}, 0, -1, false, IMC_VM_PENDING},
    {{0}, 0, 1, false, IMC_VM_UNKNOWN},
    {{IMC_VM_CONFIGURED}, 1, 1, true, IMC_VM_DELETING},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    enum imc_vm_state got = imc_infra_state_aggregate(cases[i].vms, cases[i].n,
                                                      cases[i].configured, cases[i].deleting);
    if (got != cases[i].want)
      fail_msg("case %zu: %s, want %s", i, imc_vm_state_name(got),
               imc_vm_state_name(cases[i].want));
  }
}

/* --- documents and logs ----------------------------------------------------------------------- */

static void test_radl_is_the_document_asked_for(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_doc *got = NULL, *want = doc_of(two_systems);
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_radl(f->e, id, &f->alice, &got, &err), 0);
  assert_true(imc_doc_equal(got, want));
  imc_doc_free(got);
  imc_doc_free(want);
}

static void test_vm_info_has_the_cloud_facts_and_state(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], *ip, *st;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_vm_info(f->e, id, 0, &f->alice, &doc, &err), 0);
  assert_int_equal(doc->nsystems, 1);
  assert_int_equal(doc->nnetworks, 2); /* the networks it is on */
  imc_doc_free(doc);
  ip = vm_prop(f, id, 0, "net_interface.0.ip");
  st = vm_prop(f, id, 0, "state");
  assert_string_equal(ip, "10.0.0.1");
  assert_string_equal(st, "configured");
  imc_free(ip);
  imc_free(st);
  assert_null(vm_prop(f, id, 0, "no.such.feature"));
  assert_int_equal(imc_vm_info(f->e, id, 9, &f->alice, &doc, &err), IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Invalid VM ID");
}

static void test_contmsg_has_the_infrastructure_log_and_vm_logs(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_buf b;
  struct imc_err err = {0};

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 1 t1\n", &f->alice, id);
  imc_buf_init(&b, 1 << 20);
  assert_int_equal(imc_infra_contmsg(f->e, id, &f->alice, false, &b, &err), 0);
  assert_non_null(strstr(imc_buf_cstr(&b), "Contextualization is not available"));
  imc_buf_reset(&b);
  /* what a contextualizer reports shows under the VM */
  assert_int_equal(imc_engine_ctxt_done(f->e, id, 0, true, "TASK [ok]", &err), 0);
  assert_int_equal(imc_infra_contmsg(f->e, id, &f->alice, false, &b, &err), 0);
  assert_non_null(strstr(imc_buf_cstr(&b), "VM 0:\n"));
  assert_non_null(strstr(imc_buf_cstr(&b), "TASK [ok]"));
  imc_buf_reset(&b);
  assert_int_equal(imc_vm_contmsg(f->e, id, 0, &f->alice, &b, &err), 0);
  assert_string_equal(imc_buf_cstr(&b), "TASK [ok]");
  imc_buf_reset(&b);
  assert_int_equal(imc_vm_contmsg(f->e, id, 3, &f->alice, &b, &err), IMC_E_NOTFOUND);
  imc_err_clear(&err);
  assert_int_equal(imc_infra_contmsg(f->e, id, &f->alice, true, &b, &err), 0);
  assert_null(strstr(imc_buf_cstr(&b), "VM 0:"));
  imc_buf_free(&b);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_CONFIGURED);
}

static void test_vms_needing_contextualization_stay_running_without_it(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 2 t1\n", &f->alice, id);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_RUNNING);
  assert_int_equal(imc_engine_ctxt_done(f->e, id, 0, true, NULL, &err), 0);
  assert_int_equal(imc_engine_ctxt_done(f->e, id, 1, false, "failed task", &err), 0);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_UNCONFIGURED);
}

static const char *vm_feature(struct fx *f, const char *id, unsigned vm, const char *name,
                              struct imc_doc **doc)
{
  struct imc_err err = {0};

  assert_int_equal(imc_vm_info(f->e, id, vm, &f->alice, doc, &err), 0);
  return imc_features_str(&(*doc)->systems[0]->feats, name);
}

static void test_vms_to_configure_get_the_infrastructure_key(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], id2[IMC_INFRA_ID_MAX];
  struct imc_doc *d0 = NULL, *d1 = NULL, *d2 = NULL;
  const char *pub;

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 2 t1\n", &f->alice, id);
  pub = vm_feature(f, id, 0, "disk.0.os.credentials.public_key", &d0);
  assert_non_null(pub);
  assert_true(strncmp(pub, "ssh-ed25519 ", 12) == 0);
  assert_string_equal(tc.public_key, pub); /* the cloud was asked to install it */
  assert_non_null(strstr(vm_feature(f, id, 0, "disk.0.os.credentials.private_key", &d1),
                         "BEGIN OPENSSH PRIVATE KEY"));
  imc_doc_free(d1);
  /* one key per infrastructure, kept across a restart */
  imc_engine_close(f->e);
  engine_start(f);
  assert_string_equal(vm_feature(f, id, 1, "disk.0.os.credentials.public_key", &d1), pub);
  /* a VM with a password of its own keeps it; its cloud still gets the key */
  create(f, "system s (disk.0.image.url = 'x://y' and disk.0.os.credentials.password = 'pw')\n"
            "deploy s 1 t1\n", &f->alice, id2);
  assert_null(vm_feature(f, id2, 0, "disk.0.os.credentials.private_key", &d2));
  assert_true(strncmp(tc.public_key, "ssh-ed25519 ", 12) == 0);
  assert_string_not_equal(tc.public_key, pub);
  imc_doc_free(d0);
  imc_doc_free(d1);
  imc_doc_free(d2);
}

static int idle_start(void *ctx, struct imc_engine *e, const char *infra_id, const unsigned *vm_ids,
                      size_t n, const struct imc_auth *auth, struct imc_err *err)
{
  return 0; /* a run that never ends: its process dies first */
}

static void test_contextualization_of_a_dead_process_ends_unconfigured(void **state)
{
  struct fx *f = *state;
  struct imc_contextualizer idle = {.start = idle_start};
  struct imc_strs ids = {0};
  struct imc_buf log;
  struct imc_err err = {0};
  int status = 0;
  pid_t pid;

  imc_engine_close(f->e); /* the child gets the store to itself */
  f->e = NULL;
  if ((pid = fork()) == 0) {
    struct imc_engine_opts o = {.config = &f->cfg, .connectors = connectors, .store = f->store,
                                .contextualizer = &idle};
    struct imc_engine *e = NULL;
    char id[IMC_INFRA_ID_MAX];

    struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'x://y')\ndeploy s 2 t1\n");

    if (imc_engine_open(&o, &e, &err) != 0 ||
        imc_infra_create(e, doc, &f->alice, false, id, &err) != 0)
      _exit(1);
    _exit(0); /* as kill -9 would: mid-contextualization */
  }
  assert_true(pid > 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  engine_start(f);
  assert_int_equal(imc_infra_list(f->e, &f->alice, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 1);
  assert_int_equal(infra_state(f, ids.v[0], &f->alice), IMC_VM_UNCONFIGURED);
  imc_buf_init(&log, 1 << 16);
  assert_int_equal(imc_vm_contmsg(f->e, ids.v[0], 1, &f->alice, &log, &err), 0);
  assert_non_null(strstr(imc_buf_cstr(&log), "Contextualization stopped: the process"));
  imc_buf_free(&log);
  imc_strs_free(&ids);
}

static void test_new_credentials_replace_the_old_once_configured(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  create(f, "system s (disk.0.image.url = 'x://y' and disk.0.os.credentials.password = 'old' "
            "and disk.0.os.credentials.new.password = 'N3w-Secret')\ndeploy s 2 t1\n", &f->alice, id);
  assert_int_equal(imc_engine_ctxt_done(f->e, id, 0, true, NULL, &err), 0);
  assert_int_equal(imc_engine_ctxt_done(f->e, id, 1, false, NULL, &err), 0);
  assert_string_equal(vm_feature(f, id, 0, "disk.0.os.credentials.password", &doc), "N3w-Secret");
  assert_null(imc_features_str(&doc->systems[0]->feats, "disk.0.os.credentials.new.password"));
  imc_doc_free(doc);
  /* a VM whose contextualization failed may not have the new password: it keeps both */
  assert_string_equal(vm_feature(f, id, 1, "disk.0.os.credentials.password", &doc), "old");
  imc_doc_free(doc);
}

static void test_empty_contextualize_configures_at_once(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 1 t1\ncontextualize ()\n",
         &f->alice, id);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_CONFIGURED);
}

static void test_outputs_of_a_radl_infrastructure_are_forbidden(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  json_t *out = NULL;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_outputs(f->e, id, &f->alice, &out, &err), IMC_E_FORBIDDEN);
  assert_null(out);
}

/* --- changes ----------------------------------------------------------------------------------- */

static void test_add_resource_completes_references_and_appends_ids(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  /* as in IM, the networks the system is on are named too (references) */
  struct imc_doc *more = doc_of("network priv\nsystem wn\ndeploy wn 2\n");
  struct imc_vm_ids vms;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_add(f->e, id, more, &f->alice, true, &vms, &err), 0);
  assert_int_equal(vms.n, 2);
  assert_int_equal(vms.v[0], 3);
  assert_int_equal(vms.v[1], 4);
  imc_vm_ids_free(&vms);
  assert_int_equal(vm_count(f, id, &f->alice), 5);
  imc_doc_free(more);
  more = doc_of("system ghost\ndeploy ghost 1\n");
  assert_int_equal(imc_infra_add(f->e, id, more, &f->alice, true, &vms, &err), IMC_E_INVAL);
  imc_doc_free(more);
}

static void test_add_without_deploys_only_updates_definitions(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_doc *more = doc_of("system extra (cpu.count = 4)\n"), *got = NULL;
  struct imc_vm_ids vms;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_add(f->e, id, more, &f->alice, true, &vms, &err), 0);
  assert_int_equal(vms.n, 0);
  assert_int_equal(imc_infra_radl(f->e, id, &f->alice, &got, &err), 0);
  assert_non_null(imc_doc_system(got, "extra"));
  imc_doc_free(got);
  imc_doc_free(more);
}

static void test_remove_resource_counts_and_hides_the_vms(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  unsigned ids[] = {1, 2}, bad[] = {7}, removed = 0;
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_remove(f->e, id, ids, 2, &f->alice, true, &removed, &err), 0);
  assert_int_equal(removed, 2);
  assert_int_equal(vm_count(f, id, &f->alice), 1);
  assert_int_equal(imc_vm_info(f->e, id, 1, &f->alice, &doc, &err), IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Deleted VM.");
  imc_err_clear(&err);
  assert_int_equal(imc_infra_remove(f->e, id, bad, 1, &f->alice, true, &removed, &err),
                   IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Invalid VM ID");
}

static void test_alter_resizes_the_vm(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_doc *change = doc_of("system front (cpu.count = 4 and memory.size = 2G)"), *out = NULL;
  struct imc_feature *cpu = NULL;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_vm_alter(f->e, id, 0, change, &f->alice, &out, &err), 0);
  assert_non_null(out);
  imc_doc_free(out);
  assert_int_equal(imc_vm_property(f->e, id, 0, "cpu.count", &f->alice, &cpu, &err), 0);
  assert_int_equal(cpu->num.i, 4);
  imc_feature_free(cpu);
  imc_doc_free(change);
}

static void test_stop_and_start_change_the_states(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_power(f->e, id, IMC_POWER_STOP, &f->alice, &err), 0);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_STOPPED);
  assert_int_equal(imc_vm_power(f->e, id, 0, IMC_POWER_START, &f->alice, &err), 0);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_CONFIGURED); /* first seen wins */
  assert_int_equal(imc_vm_power(f->e, id, 0, IMC_POWER_STOP, &f->alice, &err), 0);
  assert_int_equal(imc_vm_power(f->e, id, 1, IMC_POWER_START, &f->alice, &err), 0);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_STOPPED);
  assert_int_equal(imc_infra_power(f->e, id, IMC_POWER_START, &f->alice, &err), 0);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_CONFIGURED);
  assert_int_equal(imc_vm_power(f->e, id, 1, IMC_POWER_REBOOT, &f->alice, &err), 0);
  assert_int_equal(imc_infra_power(f->e, id, IMC_POWER_REBOOT, &f->alice, &err), 0);
  assert_int_equal(imc_vm_power(f->e, id, 8, IMC_POWER_STOP, &f->alice, &err), IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Invalid VM ID");
}

static void test_snapshot_gives_the_image_url(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], *url = NULL;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_vm_snapshot(f->e, id, 0, 0, "saved", true, &f->alice, &url, &err), 0);
  assert_string_equal(url, "mock0://linux.for.ev.er/saved");
  imc_free(url);
  /* the Test cloud takes no snapshots: an explicit error */
  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 1 t1\n", &f->alice, id);
  assert_int_equal(imc_vm_snapshot(f->e, id, 0, 0, "n", false, &f->alice, &url, &err),
                   IMC_E_UNSUPPORTED);
  assert_non_null(strstr(err.msg, "Error creating snapshot"));
}

static void test_reconfigure_checks_vm_ids_and_recipes(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  unsigned bad[] = {5};
  struct imc_doc *bad_yaml = doc_of("configure front (\n@begin\n- a: [\n@end\n)\n");
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_reconfigure(f->e, id, NULL, NULL, 0, &f->alice, &err), 0);
  assert_int_equal(imc_infra_reconfigure(f->e, id, NULL, bad, 1, &f->alice, &err),
                   IMC_E_NOTFOUND);
  imc_err_clear(&err);
  assert_int_equal(imc_infra_reconfigure(f->e, id, bad_yaml, NULL, 0, &f->alice, &err),
                   IMC_E_INVAL);
  imc_doc_free(bad_yaml);
}

static void test_change_auth_adds_or_replaces_owners(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_strs names;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_change_auth(f->e, id, &f->bob, false, &f->alice, &err), 0);
  assert_int_equal(imc_infra_owners(f->e, id, &f->bob, &names, &err), 0);
  assert_int_equal(names.n, 2);
  assert_string_equal(names.v[0], "alice");
  assert_string_equal(names.v[1], "bob");
  imc_strs_free(&names);
  assert_int_equal(imc_infra_change_auth(f->e, id, &f->bob, true, &f->alice, &err), 0);
  assert_int_equal(vm_count(f, id, &f->bob), 3);
  assert_int_equal(imc_infra_owners(f->e, id, &f->alice, &names, &err), IMC_E_FORBIDDEN);
}

/* --- clouds ------------------------------------------------------------------------------------ */

static void test_hybrid_retry_moves_to_the_next_cloud(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  char id[IMC_INFRA_ID_MAX];
  struct imc_buf b;
  json_t *o;
  struct imc_err err = {0};

  auth_of(&a, "type = InfrastructureManager; username = alice; password = alice-Secret9\n"
              "id = bad; type = Test; password = s; fail = yes\n"
              "id = good; type = Test; password = s\n");
  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 1\n", &a, id);
  assert_int_equal(infra_state(f, id, &a), IMC_VM_RUNNING);
  assert_int_equal(tc.launches, 2);
  imc_buf_init(&b, 1 << 20);
  assert_int_equal(imc_infra_export(f->e, id, &a, false, &b, &err), 0);
  o = json_loads(imc_buf_cstr(&b), 0, NULL);
  assert_string_equal(
    json_string_value(json_object_get(json_array_get(json_object_get(o, "vms"), 0), "cloud_id")),
    "good");
  json_decref(o);
  imc_buf_free(&b);
  imc_auth_cleanup(&a);
}

static void test_all_failed_sync_create_is_an_error_and_leaves_nothing(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'x://y')\ndeploy s 2\n");
  struct imc_strs ids;
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  auth_of(&a, "type = InfrastructureManager; username = alice; password = alice-Secret9\n"
              "id = bad; type = Test; password = s; fail = yes\n");
  assert_int_equal(imc_infra_create(f->e, doc, &a, false, id, &err), IMC_E_CLOUD);
  assert_non_null(strstr(err.msg, "Attempt 3: Test: no capacity"));
  assert_int_equal(tc.launches, 6); /* MAX_VM_FAILS = 3 per VM */
  imc_err_clear(&err);
  assert_int_equal(imc_infra_list(f->e, &a, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 0);
  imc_strs_free(&ids);
  imc_auth_cleanup(&a);
  imc_doc_free(doc);
}

static void test_unknown_cloud_id_in_a_deploy_is_an_error(void **state)
{
  struct fx *f = *state;
  struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'x://y')\ndeploy s 1 nowhere\n");
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  assert_int_equal(imc_infra_create(f->e, doc, &f->alice, false, id, &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "No auth data for cloud with ID: nowhere");
  imc_doc_free(doc);
}

static void test_gpu_requests_are_honoured_or_refused(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'x://y' and gpu.count >= 2)\n"
                               "deploy s 1\n");
  char id[IMC_INFRA_ID_MAX];
  struct imc_err err = {0};

  auth_of(&a, "type = InfrastructureManager; username = alice; password = alice-Secret9\n"
              "id = cpuonly; type = Test; password = s; gpus = 0\n");
  assert_int_equal(imc_infra_create(f->e, doc, &a, false, id, &err), IMC_E_CLOUD);
  assert_non_null(strstr(err.msg, "no flavour with 2 GPUs"));
  imc_auth_cleanup(&a);
  imc_doc_free(doc);
}

static void test_cloud_images_quotas_and_unknown_clouds(void **state)
{
  struct fx *f = *state;
  struct imc_image *images = NULL;
  struct imc_quota q[IMC_MAX_QUOTAS];
  size_t n = 0;
  struct imc_err err = {0};

  assert_int_equal(imc_cloud_images(f->e, "dummy", NULL, &f->alice, &images, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(images[0].uri, "mock0://linux.for.ev.er/image1");
  imc_images_free(images, n);
  assert_int_equal(imc_cloud_quotas(f->e, "dummy", &f->alice, q, &n, &err), 0);
  assert_int_equal(n, 5);
  assert_string_equal(q[0].name, "cores");
  assert_int_equal(imc_cloud_quotas(f->e, "t9", &f->alice, q, &n, &err), IMC_E_NOTFOUND);
  assert_string_equal(err.msg, "Cloud ID t9 not found.");
}

static void test_estimate_reports_per_cloud_without_launching(void **state)
{
  struct fx *f = *state;
  struct imc_doc *doc = doc_of(two_systems);
  json_t *out = NULL, *d;
  struct imc_err err = {0};

  assert_int_equal(imc_estimate(f->e, doc, &f->alice, &out, &err), 0);
  d = json_object_get(out, "dummy");
  assert_non_null(d);
  assert_string_equal(json_string_value(json_object_get(d, "cloudType")), "Dummy");
  assert_int_equal(json_array_size(json_object_get(d, "compute")), 3);
  assert_int_equal(json_integer_value(
                     json_object_get(json_array_get(json_object_get(d, "compute"), 0), "publicIP")),
                   1);
  assert_int_equal(tc.launches, 0);
  json_decref(out);
  imc_doc_free(doc);
}

static void test_stats_count_vms_and_users(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  json_t *out = NULL, *s;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_stats(f->e, "1970-01-01", NULL, &f->alice, &out, &err), 0);
  assert_int_equal(json_array_size(out), 1);
  s = json_array_get(out, 0);
  assert_int_equal(json_integer_value(json_object_get(s, "vm_count")), 3);
  assert_string_equal(json_string_value(json_object_get(s, "im_user")), "alice");
  assert_string_equal(json_string_value(json_object_get(s, "cloud_type")), "Dummy");
  json_decref(out);
  assert_int_equal(imc_stats(f->e, "23-11-2026", NULL, &f->alice, &out, &err), IMC_E_INVAL);
}

static void test_version_names_the_im_api_level(void **state)
{
  (void)state;
  assert_non_null(strstr(imc_engine_version(), "1.19.2"));
}

/* --- export, persistence, recovery --------------------------------------------------------- */

static void test_export_import_round_trip(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], id2[IMC_INFRA_ID_MAX];
  struct imc_buf b;
  struct imc_doc *d1 = NULL, *d2 = NULL;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  imc_buf_init(&b, 1 << 20);
  assert_int_equal(imc_infra_export(f->e, id, &f->alice, true, &b, &err), 0);
  assert_null(strstr(imc_buf_cstr(&b), "alice-Secret9")); /* no owner password */
  assert_int_equal(imc_infra_info(f->e, id, &f->alice, &(struct imc_vm_ids){0}, &err),
                   IMC_E_NOTFOUND);
  imc_err_clear(&err);
  assert_int_equal(imc_infra_import(f->e, b.data, b.len, &f->bob, id2, &err), 0);
  assert_string_not_equal(id, id2);
  assert_int_equal(vm_count(f, id2, &f->bob), 3);
  assert_int_equal(infra_state(f, id2, &f->bob), IMC_VM_CONFIGURED);
  assert_int_equal(imc_infra_radl(f->e, id2, &f->bob, &d2, &err), 0);
  d1 = doc_of(two_systems);
  assert_true(imc_doc_equal(d1, d2));
  imc_doc_free(d1);
  imc_doc_free(d2);
  assert_int_equal(imc_infra_import(f->e, "{\"x\": 1}", 8, &f->bob, id2, &err), IMC_E_INVAL);
  imc_buf_free(&b);
}

static void test_everything_survives_a_restart(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  unsigned gone[] = {1}, removed;
  struct imc_infra_state st;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  assert_int_equal(imc_infra_remove(f->e, id, gone, 1, &f->alice, false, &removed, &err), 0);
  assert_int_equal(imc_vm_power(f->e, id, 2, IMC_POWER_STOP, &f->alice, &err), 0);
  imc_engine_close(f->e);
  engine_start(f);
  assert_int_equal(imc_infra_state(f->e, id, &f->alice, &st, &err), 0);
  assert_int_equal(st.n, 2);
  assert_int_equal(st.vm_ids[0], 0);
  assert_int_equal(st.vm_ids[1], 2);
  assert_int_equal(st.vm_states[0], IMC_VM_CONFIGURED);
  assert_int_equal(st.vm_states[1], IMC_VM_STOPPED);
  imc_infra_state_free(&st);
  assert_int_equal(imc_infra_info(f->e, id, &f->bob, &(struct imc_vm_ids){0}, &err),
                   IMC_E_FORBIDDEN);
}

/* A crash between the intent and the outcome: the row says INTENT. */
static void write_intent(struct fx *f, const char *id, unsigned vm, const char *type,
                         const char *cloud, const char *token)
{
  struct imc_store_vm row = {0};
  struct imc_err err = {0};

  snprintf(row.infra_id, sizeof row.infra_id, "%s", id);
  row.id = vm;
  row.launch = IMC_LAUNCH_INTENT;
  row.state = IMC_VM_PENDING;
  row.cloud_type = (char *)type;
  row.cloud_id = (char *)cloud;
  row.client_token = (char *)token;
  row.system = (char *)"[{\"class\":\"system\",\"id\":\"s\"}]";
  assert_int_equal(imc_store_put_vm(f->store, &row, &err), 0);
}

static void test_intents_are_settled_after_a_crash(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct imc_infra_state st;
  struct imc_err err = {0};

  create(f, "system s (disk.0.image.url = 'x://y')\ndeploy s 1 t1\n", &f->alice, id);
  imc_engine_close(f->e);
  /* VM 1: the Test cloud made it before the crash; VM 2: it never did; VM 3: Dummy. */
  pthread_mutex_lock(&tc.mu);
  snprintf(tc.tokens[tc.ntokens++], sizeof tc.tokens[0], "tok-made");
  pthread_mutex_unlock(&tc.mu);
  write_intent(f, id, 1, "Test", "t1", "tok-made");
  write_intent(f, id, 2, "Test", "t1", "tok-never");
  write_intent(f, id, 3, "Dummy", "dummy", "tok-d");
  engine_start(f);
  /* Without the Test cloud's credentials its intents stay unknown, never dropped. */
  assert_int_equal(imc_infra_state(f->e, id, &f->dummy_only, &st, &err), 0);
  assert_int_equal(st.n, 4);
  assert_int_equal(st.vm_states[1], IMC_VM_UNKNOWN);
  assert_int_equal(st.vm_states[2], IMC_VM_UNKNOWN);
  assert_int_equal(st.vm_states[3], IMC_VM_FAILED); /* settled at open: Dummy needs none */
  imc_infra_state_free(&st);
  assert_int_equal(imc_infra_state(f->e, id, &f->alice, &st, &err), 0);
  assert_int_equal(st.vm_states[1], IMC_VM_RUNNING); /* adopted */
  assert_int_equal(st.vm_states[2], IMC_VM_FAILED);
  imc_infra_state_free(&st);
}

/* --- concurrency --------------------------------------------------------------------------- */

struct add_call {
  struct fx *f;
  const char *id;
  int r;
  size_t n;
};

static void *add_thread(void *arg)
{
  struct add_call *a = arg;
  struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'x://y')\ndeploy s 2 t1\n");
  struct imc_vm_ids vms = {0};
  struct imc_err err = {0};

  a->r = imc_infra_add(a->f->e, a->id, doc, &a->f->alice, true, &vms, &err);
  a->n = vms.n;
  imc_vm_ids_free(&vms);
  imc_doc_free(doc);
  return NULL;
}

static void test_reads_do_not_wait_for_a_deployment(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct add_call call = {.f = f};
  pthread_t t;

  create(f, two_systems, &f->alice, id);
  call.id = id;
  pthread_mutex_lock(&tc.mu);
  tc.gate_on = true;
  pthread_mutex_unlock(&tc.mu);
  assert_int_equal(pthread_create(&t, NULL, add_thread, &call), 0);
  pthread_mutex_lock(&tc.mu);
  while (tc.waiting < 2) /* both new VMs are inside the cloud call */
    pthread_cond_wait(&tc.cond, &tc.mu);
  pthread_mutex_unlock(&tc.mu);
  /* If reads waited for the claim this would never return (the test would time out). */
  assert_int_equal(vm_count(f, id, &f->alice), 5);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_PENDING);
  pthread_mutex_lock(&tc.mu);
  tc.gate_on = false;
  pthread_cond_broadcast(&tc.cond);
  pthread_mutex_unlock(&tc.mu);
  pthread_join(t, NULL);
  assert_int_equal(call.r, 0);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_RUNNING);
}

static void test_concurrent_changes_to_one_infrastructure_are_serialised(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  struct add_call calls[4];
  pthread_t t[4];
  struct imc_vm_ids vms;
  struct imc_err err = {0};

  create(f, two_systems, &f->alice, id);
  for (int i = 0; i < 4; i++) {
    calls[i] = (struct add_call){.f = f, .id = id};
    assert_int_equal(pthread_create(&t[i], NULL, add_thread, &calls[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(calls[i].r, 0);
    assert_int_equal(calls[i].n, 2);
  }
  assert_int_equal(imc_infra_info(f->e, id, &f->alice, &vms, &err), 0);
  assert_int_equal(vms.n, 11);
  for (size_t i = 0; i < vms.n; i++)
    assert_int_equal(vms.v[i], i); /* no id given twice */
  imc_vm_ids_free(&vms);
}

static void test_async_create_returns_at_once_and_finishes(void **state)
{
  struct fx *f = *state;
  struct imc_doc *doc = doc_of("system s (disk.0.image.url = 'x://y')\ndeploy s 2 t1\n");
  struct imc_doc *none = doc_of("system extra (cpu.count = 1)\n");
  char id[IMC_INFRA_ID_MAX];
  struct imc_vm_ids vms;
  struct imc_err err = {0};

  pthread_mutex_lock(&tc.mu);
  tc.gate_on = true;
  pthread_mutex_unlock(&tc.mu);
  assert_int_equal(imc_infra_create(f->e, doc, &f->alice, true, id, &err), 0);
  /* still launching: a destroy now is refused as IM refuses it (409) */
  assert_int_equal(imc_infra_destroy(f->e, id, &f->alice, false, false, &err), IMC_E_CONFLICT);
  imc_err_clear(&err);
  pthread_mutex_lock(&tc.mu);
  tc.gate_on = false;
  pthread_cond_broadcast(&tc.cond);
  pthread_mutex_unlock(&tc.mu);
  /* a change waits for its turn, so after it the async launch is done */
  assert_int_equal(imc_infra_add(f->e, id, none, &f->alice, false, &vms, &err), 0);
  imc_vm_ids_free(&vms);
  assert_int_equal(vm_count(f, id, &f->alice), 2);
  assert_int_equal(infra_state(f, id, &f->alice), IMC_VM_RUNNING);
  imc_doc_free(doc);
  imc_doc_free(none);
}

/* Two engines (two processes' worth: each its own store handle) sharing one database. */
static void test_shared_store_one_worker_per_infrastructure(void **state)
{
  struct fx *f = *state;
  struct imc_store *st2 = NULL;
  struct imc_engine *e2 = NULL;
  struct imc_engine_opts o = {.config = &f->cfg, .connectors = connectors, .shared = true};
  struct imc_doc *more = doc_of("system s (disk.0.image.url = 'x://y')\ndeploy s 1 t1\n");
  char id[IMC_INFRA_ID_MAX];
  struct add_call call = {.f = f};
  struct imc_strs ids;
  struct imc_vm_ids vms;
  struct imc_err err = {0};
  pthread_t t;

  imc_engine_close(f->e);
  {
    struct imc_engine_opts shared = {.config = &f->cfg, .connectors = connectors,
                                     .store = f->store, .shared = true};

    assert_int_equal(imc_engine_open(&shared, &f->e, &err), 0);
  }
  assert_int_equal(imc_store_open(f->path, &st2, &err), 0);
  o.store = st2;
  assert_int_equal(imc_engine_open(&o, &e2, &err), 0);
  create(f, two_systems, &f->alice, id);
  /* the other process sees what this one made */
  assert_int_equal(imc_infra_list(e2, &f->alice, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 1);
  imc_strs_free(&ids);
  assert_int_equal(imc_infra_info(e2, id, &f->alice, &vms, &err), 0);
  assert_int_equal(vms.n, 3);
  imc_vm_ids_free(&vms);
  /* while this one works on it, the other reads it but may not change it */
  call.id = id;
  pthread_mutex_lock(&tc.mu);
  tc.gate_on = true;
  pthread_mutex_unlock(&tc.mu);
  assert_int_equal(pthread_create(&t, NULL, add_thread, &call), 0);
  pthread_mutex_lock(&tc.mu);
  while (tc.waiting < 2)
    pthread_cond_wait(&tc.cond, &tc.mu);
  pthread_mutex_unlock(&tc.mu);
  assert_int_equal(imc_infra_add(e2, id, more, &f->alice, true, &vms, &err), IMC_E_CONFLICT);
  assert_int_equal(imc_infra_info(e2, id, &f->alice, &vms, &err), 0);
  assert_int_equal(vms.n, 5);
  imc_vm_ids_free(&vms);
  /* its state read must not settle the first one's launches in flight as crash leftovers */
  {
    struct imc_infra_state st;

    assert_int_equal(imc_infra_state(e2, id, &f->alice, &st, &err), 0);
    assert_int_equal(st.vm_states[3], IMC_VM_UNKNOWN);
    imc_infra_state_free(&st);
  }
  pthread_mutex_lock(&tc.mu);
  tc.gate_on = false;
  pthread_cond_broadcast(&tc.cond);
  pthread_mutex_unlock(&tc.mu);
  pthread_join(t, NULL);
  assert_int_equal(call.r, 0);
  /* now it may, and the first sees the result */
  imc_err_clear(&err);
  assert_int_equal(imc_infra_add(e2, id, more, &f->alice, true, &vms, &err), 0);
  imc_vm_ids_free(&vms);
  assert_int_equal(vm_count(f, id, &f->alice), 6);
  imc_engine_close(e2);
  imc_store_close(st2);
  imc_doc_free(more);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    T(test_create_launches_every_deploy_in_order),
    T(test_create_dummy_vms_become_configured),
    T(test_create_replaces_hash_n_in_dns_names),
    T(test_create_checks_the_document),
    T(test_create_without_im_credentials_is_refused),
    T(test_token_credentials_are_an_explicit_unsupported_error),
    T(test_openid_user_names_need_a_token),
    T(test_unknown_infrastructure_is_not_found),
    T(test_other_users_cannot_see_or_touch_it),
    T(test_list_filters_with_a_regex_on_the_radl),
    T(test_counts_are_by_state_without_deleted_ones),
    T(test_destroy_marks_it_deleted),
    T(test_destroy_deletes_the_last_vm_of_a_cloud_last),
    T(test_destroy_without_the_cloud_credentials_fails_unless_forced),
    T(test_boot_mode_read_only_disables_changes),
    cmocka_unit_test(test_state_aggregate_follows_im),
    T(test_radl_is_the_document_asked_for),
    T(test_vm_info_has_the_cloud_facts_and_state),
    T(test_contmsg_has_the_infrastructure_log_and_vm_logs),
    T(test_vms_needing_contextualization_stay_running_without_it),
    T(test_vms_to_configure_get_the_infrastructure_key),
    T(test_contextualization_of_a_dead_process_ends_unconfigured),
    T(test_new_credentials_replace_the_old_once_configured),
    T(test_empty_contextualize_configures_at_once),
    T(test_outputs_of_a_radl_infrastructure_are_forbidden),
    T(test_add_resource_completes_references_and_appends_ids),
    T(test_add_without_deploys_only_updates_definitions),
    T(test_remove_resource_counts_and_hides_the_vms),
    T(test_alter_resizes_the_vm),
    T(test_stop_and_start_change_the_states),
    T(test_snapshot_gives_the_image_url),
    T(test_reconfigure_checks_vm_ids_and_recipes),
    T(test_change_auth_adds_or_replaces_owners),
    T(test_hybrid_retry_moves_to_the_next_cloud),
    T(test_all_failed_sync_create_is_an_error_and_leaves_nothing),
    T(test_unknown_cloud_id_in_a_deploy_is_an_error),
    T(test_gpu_requests_are_honoured_or_refused),
    T(test_cloud_images_quotas_and_unknown_clouds),
    T(test_estimate_reports_per_cloud_without_launching),
    T(test_stats_count_vms_and_users),
    cmocka_unit_test(test_version_names_the_im_api_level),
    T(test_export_import_round_trip),
    T(test_everything_survives_a_restart),
    T(test_intents_are_settled_after_a_crash),
    T(test_reads_do_not_wait_for_a_deployment),
    T(test_concurrent_changes_to_one_infrastructure_are_serialised),
    T(test_async_create_returns_at_once_and_finishes),
    T(test_shared_store_one_worker_per_infrastructure),
#undef T
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
