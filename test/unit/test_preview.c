/* SPDX-License-Identifier: GPL-3.0-or-later */
/* imc_preview (`imc plan`): plans for new infrastructures and against ones the engine made,
 * with the Dummy connector, FakeCloud (whose cloud is a log the test reads to prove nothing
 * was created) and a test cloud defined here that picks flavours, GPUs included, from a
 * table.  The store is a real SQLite file in /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakecloud.h"
#include "imc/alloc.h"
#include "imc/engine.h"
#include "imc/radl.h"

/* --- a cloud with flavours ---------------------------------------------------------------- */

static const struct flavour {
  const char *name;
  int cpus, mem_mb, gpus;
  const char *gpu_vendor, *gpu_model;
} flavours[] = {
  {"small", 1, 1024, 0, NULL, NULL},
  {"large", 4, 8192, 0, NULL, NULL},
  {"gpu1", 4, 8192, 1, "nvidia", "T4"},
};

static unsigned flav_launches;

struct flav_ctx {
  int unused;
};

static int flav_open(void *ctx, const struct imc_auth_entry *auth, struct imc_http *http,
                     struct imc_err *err)
{
  return 0;
}

static void flav_close(void *ctx)
{
}

/* The smallest flavour with the cpus and memory asked for; with GPUs when any are asked for,
 * whatever their number (the engine checks the count, as IM_FEATURES §4.2). */
static const struct flavour *pick(const struct imc_elem *s)
{
  double cpus = 1, mem = 0, gpus = 0;

  imc_features_num(&s->feats, "cpu.count", NULL, &cpus);
  imc_features_num(&s->feats, "memory.size", "M", &mem);
  imc_features_num(&s->feats, "gpu.count", NULL, &gpus);
  for (size_t i = 0; i < sizeof flavours / sizeof flavours[0]; i++)
    if (flavours[i].cpus >= cpus && flavours[i].mem_mb >= mem &&
        (gpus > 0) == (flavours[i].gpus > 0))
      return &flavours[i];
  return NULL;
}

static int flav_concrete(void *ctx, const struct imc_elem *system, struct imc_elem **out,
                         double *score, struct imc_err *err)
{
  const struct flavour *fl = pick(system);
  struct imc_elem *c;
  int r;

  *out = NULL;
  if (!fl)
    return imc_fail(err, IMC_E_NOTFOUND, "Flav: no flavour for system %s", system->id);
  if (!(c = imc_elem_clone(system)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  imc_features_del(&c->feats, "gpu.count");
  imc_features_del(&c->feats, "gpu.vendor");
  imc_features_del(&c->feats, "gpu.model");
  r = imc_features_set_str(&c->feats, "instance_type", fl->name) ||
      imc_features_set_num(&c->feats, "cpu.count", (struct imc_num){.i = fl->cpus}, NULL) ||
      imc_features_set_num(&c->feats, "memory.size", (struct imc_num){.i = fl->mem_mb}, "M");
  if (!r && fl->gpus)
    r = imc_features_set_num(&c->feats, "gpu.count", (struct imc_num){.i = fl->gpus}, NULL) ||
        imc_features_set_str(&c->feats, "gpu.vendor", fl->gpu_vendor) ||
        imc_features_set_str(&c->feats, "gpu.model", fl->gpu_model);
  if (r) {
    imc_elem_free(c);
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  }
  *out = c;
  *score = 1; /* preferred to Dummy's 0 */
  return 0;
}

/* Counted so that a test can prove a plan never launches; it creates nothing anyway. */
static int flav_launch(void *ctx, const struct imc_launch *rq, struct imc_vm *vm,
                       struct imc_err *err)
{
  flav_launches++;
  return imc_fail(err, IMC_E_CLOUD, "Flav: this test cloud creates nothing");
}

static int flav_update(void *ctx, struct imc_vm *vm, struct imc_err *err)
{
  return 0;
}

static int flav_finalize(void *ctx, struct imc_vm *vm, bool last, struct imc_err *err)
{
  return 0;
}

static int flav_power(void *ctx, struct imc_vm *vm, enum imc_power op, struct imc_err *err)
{
  return 0;
}

static const struct imc_connector flav_cloud = {
  .name = "Flav",
  .abi = IMC_CONNECTOR_ABI,
  .caps = IMC_CAP_NO_AUTH,
  .ctx_size = sizeof(struct flav_ctx),
  .open = flav_open,
  .close = flav_close,
  .concrete = flav_concrete,
  .launch = flav_launch,
  .update = flav_update,
  .finalize = flav_finalize,
  .power = flav_power,
};

static const struct imc_connector *connectors[4];

/* --- fixture ------------------------------------------------------------------------------ */

#define IM_LINE "type = InfrastructureManager; username = alice; password = alice-Secret9\n"

struct fx {
  char path[64], cloud_dir[64];
  struct imc_config cfg;
  struct imc_store *store;
  struct imc_engine *e;
  struct imc_auth dummy, flav, mixed, fake;
};

static void auth_of(struct imc_auth *a, const char *text)
{
  struct imc_err err = {0};

  imc_auth_init(a);
  if (imc_auth_parse("auth", text, strlen(text), IMC_AUTH_SERVER, a, &err) != 0)
    fail_msg("auth: %s", err.msg);
}

static int setup(void **state)
{
  struct imc_engine_opts o = {.connectors = connectors};
  struct fx *f = imc_calloc(1, sizeof *f);
  struct imc_err err = {0};
  char text[256];
  int fd;

  connectors[0] = imc_connector_find(imc_connectors_builtin, "Dummy");
  connectors[1] = &flav_cloud;
  connectors[2] = &imc_fake_cloud;
  snprintf(f->path, sizeof f->path, "/tmp/imc-preview-XXXXXX");
  snprintf(f->cloud_dir, sizeof f->cloud_dir, "/tmp/imc-preview-cloud-XXXXXX");
  assert_true((fd = mkstemp(f->path)) >= 0);
  close(fd);
  assert_non_null(mkdtemp(f->cloud_dir));
  assert_int_equal(imc_config_init(&f->cfg, &err), 0);
  f->cfg.delay_between_vm_retries = 0;
  f->cfg.workers = 1;
  assert_int_equal(imc_store_open(f->path, &f->store, &err), 0);
  o.config = &f->cfg;
  o.store = f->store;
  if (imc_engine_open(&o, &f->e, &err) != 0)
    fail_msg("engine: %s", err.msg);
  auth_of(&f->dummy, IM_LINE "id = dummy; type = Dummy\n");
  auth_of(&f->flav, IM_LINE "id = f; type = Flav; host = https://keystone:5000/v3\n");
  auth_of(&f->mixed, IM_LINE "id = dummy; type = Dummy\nid = f; type = Flav\n");
  snprintf(text, sizeof text,
           IM_LINE "id = fc; type = FakeCloud; host = %s; username = u; "
                   "password = p\n",
           f->cloud_dir);
  auth_of(&f->fake, text);
  flav_launches = 0;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fx *f = *state;
  char side[96];

  imc_engine_close(f->e);
  imc_store_close(f->store);
  imc_config_cleanup(&f->cfg);
  imc_auth_cleanup(&f->dummy);
  imc_auth_cleanup(&f->flav);
  imc_auth_cleanup(&f->mixed);
  imc_auth_cleanup(&f->fake);
  unlink(f->path);
  snprintf(side, sizeof side, "%s-wal", f->path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", f->path);
  unlink(side);
  snprintf(side, sizeof side, "%s/%s", f->cloud_dir, FAKECLOUD_EVENTS);
  unlink(side);
  rmdir(f->cloud_dir);
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

static void create(struct fx *f, const char *text, const struct imc_auth *auth, char *id)
{
  struct imc_doc *doc = doc_of(text);
  struct imc_err err = {0};

  if (imc_infra_create(f->e, doc, auth, false, id, &err) != 0)
    fail_msg("create: %s", err.msg);
  imc_doc_free(doc);
}

/* imc_preview of text, for a new infrastructure (id NULL) or against infrastructure id read as
 * `imc plan` reads it (GetInfrastructureRADL, GetInfrastructureInfo, GetVMInfo of each VM).
 * Returns its result; *res is the JSON on success. */
static int preview(struct fx *f, const char *text, const char *id, const struct imc_auth *auth,
                   json_t **res, struct imc_err *err)
{
  struct imc_doc *doc = doc_of(text), *current = NULL;
  struct imc_vm_ids ids = {0};
  struct imc_preview_vm *vms = NULL;
  int r;

  if (id) {
    assert_int_equal(imc_infra_radl(f->e, id, auth, &current, err), 0);
    assert_int_equal(imc_infra_info(f->e, id, auth, &ids, err), 0);
    vms = imc_calloc(ids.n + 1, sizeof *vms);
    for (size_t i = 0; i < ids.n; i++) {
      struct imc_doc *info = NULL;

      vms[i].id = ids.v[i];
      assert_int_equal(imc_vm_info(f->e, id, ids.v[i], auth, &info, err), 0);
      vms[i].info = info;
    }
  }
  r = imc_preview(f->e, doc, current, vms, ids.n, auth, res, err);
  for (size_t i = 0; i < ids.n; i++)
    imc_doc_free((struct imc_doc *)vms[i].info);
  imc_free(vms);
  imc_vm_ids_free(&ids);
  imc_doc_free(current);
  imc_doc_free(doc);
  return r;
}

static json_t *plan_of(struct fx *f, const char *text, const char *id, const struct imc_auth *auth)
{
  struct imc_err err = {0};
  json_t *res = NULL;

  if (preview(f, text, id, auth, &res, &err) != 0)
    fail_msg("preview: %s", err.msg);
  return res;
}

/* The entry of system name in a plan; fails the test when absent. */
static json_t *sys_of(json_t *res, const char *name)
{
  json_t *v;
  size_t i;

  json_array_foreach(json_object_get(res, "systems"), i, v)
    if (strcmp(json_string_value(json_object_get(v, "system")), name) == 0)
      return v;
  fail_msg("no system %s in the plan", name);
  return NULL;
}

static json_t *deploy_of(json_t *res, const char *name, size_t k)
{
  json_t *d = json_array_get(json_object_get(sys_of(res, name), "deploys"), k);

  assert_non_null(d);
  return d;
}

static long long num(json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);

  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static const char *str(json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);

  assert_true(json_is_string(v));
  return json_string_value(v);
}

/* The ids in a JSON list, as "3,2". */
static void ids_text(json_t *list, char *out, size_t len)
{
  size_t i, used = 0;
  json_t *v;

  out[0] = '\0';
  json_array_foreach(list, i, v)
    used += (size_t)snprintf(out + used, len - used, "%s%lld", i ? "," : "",
                             (long long)json_integer_value(v));
}

static void assert_summary(json_t *res, long long create_n, long long change_n, long long rm)
{
  json_t *s = json_object_get(res, "summary");

  assert_int_equal(num(s, "create"), create_n);
  assert_int_equal(num(s, "change"), change_n);
  assert_int_equal(num(s, "remove"), rm);
}

static const char two_systems[] =
  "network pub (outbound = 'yes' and outports = '22/tcp,8000:8100/tcp,10.0.0.0/8-5432/tcp')\n"
  "network net ()\n"
  "system front (cpu.count >= 2 and memory.size >= 2048M and net_interface.0.connection = 'pub'"
  " and net_interface.1.connection = 'net' and disk.0.image.url = 'mock0://img/front')\n"
  "system wn (memory.size >= 1024M and net_interface.0.connection = 'net' and"
  " disk.0.image.url = 'mock0://img/wn')\n"
  "deploy front 1\n"
  "deploy wn %d\n";

static const char *with_wn(int n, char *buf, size_t len)
{
  snprintf(buf, len, two_systems, n);
  return buf;
}

/* --- a new infrastructure ------------------------------------------------------------------ */

static void test_new_infra_shows_cloud_image_and_sizes(void **state)
{
  struct fx *f = *state;
  char text[1024];
  json_t *res = plan_of(f, with_wn(2, text, sizeof text), NULL, &f->dummy), *d;

  assert_true(json_is_true(json_object_get(res, "new_infrastructure")));
  assert_string_equal(str(sys_of(res, "front"), "action"), "create");
  assert_int_equal(num(sys_of(res, "wn"), "create"), 2);
  d = deploy_of(res, "front", 0);
  assert_int_equal(num(d, "count"), 1);
  assert_string_equal(str(json_object_get(d, "cloud"), "id"), "dummy");
  assert_string_equal(str(json_object_get(d, "cloud"), "type"), "Dummy");
  assert_true(json_is_null(json_object_get(json_object_get(d, "cloud"), "host")));
  assert_string_equal(str(d, "image"), "mock0://img/front");
  assert_true(json_is_null(json_object_get(d, "flavour"))); /* Dummy chooses none */
  assert_int_equal(num(d, "cpu"), 2);
  assert_int_equal(num(d, "memory_mb"), 2048);
  assert_true(json_is_null(json_object_get(d, "gpu")));
  assert_summary(res, 3, 0, 0);
  json_decref(res);
}

static void test_new_infra_lists_networks_and_security_rules(void **state)
{
  struct fx *f = *state;
  char text[1024];
  json_t *res = plan_of(f, with_wn(1, text, sizeof text), NULL, &f->dummy);
  json_t *nets = json_object_get(res, "networks"), *pub = json_array_get(nets, 0), *ports;

  assert_int_equal(json_array_size(nets), 2);
  assert_string_equal(str(pub, "network"), "pub");
  assert_string_equal(str(pub, "action"), "create");
  assert_true(json_is_true(json_object_get(pub, "public")));
  ports = json_object_get(pub, "outports");
  assert_int_equal(json_array_size(ports), 3);
  assert_int_equal(num(json_array_get(ports, 0), "remote_port"), 22);
  assert_string_equal(str(json_array_get(ports, 0), "cidr"), "0.0.0.0/0");
  assert_int_equal(num(json_array_get(ports, 1), "port_min"), 8000);
  assert_int_equal(num(json_array_get(ports, 1), "port_max"), 8100);
  assert_string_equal(str(json_array_get(ports, 2), "cidr"), "10.0.0.0/8");
  assert_true(json_is_false(json_object_get(json_array_get(nets, 1), "public")));
  assert_int_equal(json_array_size(json_object_get(json_array_get(nets, 1), "outports")), 0);
  json_decref(res);
}

static void test_new_infra_without_image_takes_the_catalogues_first(void **state)
{
  struct fx *f = *state;
  json_t *res =
    plan_of(f, "system s (disk.0.os.flavour = 'ubuntu')\ndeploy s 1\n", NULL, &f->dummy);

  assert_string_equal(str(deploy_of(res, "s", 0), "image"), "mock0://linux.for.ev.er/image1");
  json_decref(res);
}

static void test_plan_creates_nothing_in_the_cloud_or_the_store(void **state)
{
  struct fx *f = *state;
  char **live = NULL;
  size_t n = 99;
  struct imc_strs ids = {0};
  struct imc_err err = {0};
  json_t *res =
    plan_of(f, "system s (disk.0.image.url = 'fake://img')\ndeploy s 2\n", NULL, &f->fake);

  assert_string_equal(str(json_object_get(deploy_of(res, "s", 0), "cloud"), "type"), "FakeCloud");
  assert_int_equal(fakecloud_live(f->cloud_dir, &live, &n, &err), 0);
  assert_int_equal(n, 0);
  assert_int_equal(imc_infra_list(f->e, &f->fake, NULL, &ids, &err), 0);
  assert_int_equal(ids.n, 0);
  fakecloud_ids_free(live, n);
  imc_strs_free(&ids);
  json_decref(res);
}

static void test_flavour_and_gpus_of_the_cloud_are_shown(void **state)
{
  struct fx *f = *state;
  json_t *res = plan_of(f,
                        "system g (gpu.count >= 1 and gpu.vendor = 'nvidia' and "
                        "disk.0.image.url = 'ost://keystone/img')\ndeploy g 1\n",
                        NULL, &f->flav);
  json_t *d = deploy_of(res, "g", 0), *gpu = json_object_get(d, "gpu");

  assert_string_equal(str(d, "flavour"), "gpu1");
  assert_int_equal(num(d, "cpu"), 4);
  assert_int_equal(num(d, "memory_mb"), 8192);
  assert_int_equal(num(gpu, "count"), 1);
  assert_string_equal(str(gpu, "vendor"), "nvidia");
  assert_string_equal(str(gpu, "model"), "T4");
  json_decref(res);
}

static void test_endpoint_credentials_are_not_shown(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  json_t *res, *cloud;

  auth_of(&a, IM_LINE "id = f; type = Flav; host = https://admin:Pa55w0rd@keystone:5000/v3\n");
  res = plan_of(f, "system s (disk.0.image.url = 'ost://k/i')\ndeploy s 1\n", NULL, &a);
  cloud = json_object_get(deploy_of(res, "s", 0), "cloud");
  assert_string_equal(str(cloud, "host"), "https://keystone:5000/v3");
  json_decref(res);
  imc_auth_cleanup(&a);
}

static void test_gpu_request_no_cloud_serves_is_a_clear_error(void **state)
{
  struct fx *f = *state;
  struct imc_err err = {0};
  json_t *res = NULL;

  assert_int_equal(preview(f,
                           "system g (gpu.count >= 2 and disk.0.image.url = 'ost://k/i')\n"
                           "deploy g 1\n",
                           NULL, &f->flav, &res, &err),
                   IMC_E_CLOUD);
  assert_null(res);
  assert_non_null(strstr(err.msg, "No cloud provider available"));
  assert_non_null(strstr(err.msg, "cloud f: no flavour with 2 GPUs for system 'g'"));
}

static void test_private_network_keeps_its_deploys_on_one_cloud(void **state)
{
  struct fx *f = *state;
  json_t *res = plan_of(f,
                        "network priv ()\nnetwork pub (outbound = 'yes')\n"
                        "system a (net_interface.0.connection = 'priv' and "
                        "disk.0.image.url = 'mock0://i')\n"
                        "system b (net_interface.0.connection = 'priv' and "
                        "disk.0.image.url = 'mock0://i')\n"
                        "system c (net_interface.0.connection = 'pub' and "
                        "disk.0.image.url = 'mock0://i')\n"
                        "deploy a 1 dummy\ndeploy b 1\ndeploy c 1\n",
                        NULL, &f->mixed);

  /* b alone would go to f (the better score), as c does; its network binds it to a's cloud. */
  assert_string_equal(str(json_object_get(deploy_of(res, "b", 0), "cloud"), "id"), "dummy");
  assert_int_equal(num(deploy_of(res, "a", 0), "group"), num(deploy_of(res, "b", 0), "group"));
  assert_string_equal(str(json_object_get(deploy_of(res, "c", 0), "cloud"), "id"), "f");
  json_decref(res);
}

/* --- errors -------------------------------------------------------------------------------- */

static void test_caller_without_im_credentials_is_refused(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  struct imc_err err = {0};
  json_t *res = NULL;

  auth_of(&a, "id = dummy; type = Dummy\n");
  assert_int_equal(preview(f, "system s ()\ndeploy s 1\n", NULL, &a, &res, &err), IMC_E_AUTH);
  assert_null(res);
  imc_auth_cleanup(&a);
}

static void test_auth_without_a_cloud_is_refused(void **state)
{
  struct fx *f = *state;
  struct imc_auth a;
  struct imc_err err = {0};
  json_t *res = NULL;

  auth_of(&a, IM_LINE);
  assert_int_equal(
    preview(f, "system s (disk.0.image.url = 'mock0://i')\ndeploy s 1\n", NULL, &a, &res, &err),
    IMC_E_AUTH);
  assert_non_null(strstr(err.msg, "No cloud provider available"));
  imc_auth_cleanup(&a);
}

static void test_document_error_names_its_position(void **state)
{
  struct fx *f = *state;
  struct imc_err err = {0};
  json_t *res = NULL;

  assert_int_equal(
    preview(f, "system s ()\nsystem ghost\ndeploy s 1\n", NULL, &f->dummy, &res, &err),
    IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "t.radl:2:"));
  assert_non_null(strstr(err.msg, "ghost"));
}

/* --- against an infrastructure ------------------------------------------------------------- */

static void test_unchanged_document_plans_nothing(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], text[1024];
  json_t *res;

  create(f, with_wn(2, text, sizeof text), &f->dummy, id);
  res = plan_of(f, text, id, &f->dummy);
  assert_true(json_is_false(json_object_get(res, "new_infrastructure")));
  assert_string_equal(str(sys_of(res, "wn"), "action"), "none");
  assert_int_equal(num(sys_of(res, "wn"), "vms_now"), 2);
  assert_string_equal(str(json_array_get(json_object_get(res, "networks"), 0), "action"), "none");
  assert_summary(res, 0, 0, 0);
  json_decref(res);
}

static void test_growth_creates_only_the_missing_vms(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], text[1024];
  json_t *res, *wn;

  create(f, with_wn(2, text, sizeof text), &f->dummy, id);
  res = plan_of(f, with_wn(4, text, sizeof text), id, &f->dummy);
  wn = sys_of(res, "wn");
  assert_string_equal(str(wn, "action"), "update");
  assert_int_equal(num(wn, "vms_now"), 2);
  assert_int_equal(num(wn, "vms_wanted"), 4);
  assert_int_equal(num(wn, "create"), 2);
  assert_int_equal(num(deploy_of(res, "wn", 0), "count"), 2);
  assert_int_equal(json_array_size(json_object_get(sys_of(res, "front"), "deploys")), 0);
  assert_summary(res, 2, 0, 0);
  json_decref(res);
}

static void test_shrink_removes_the_newest_vms_first(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], text[1024], ids[64];
  json_t *res;

  create(f, with_wn(3, text, sizeof text), &f->dummy, id); /* front 0, wn 1 2 3 */
  res = plan_of(f, with_wn(1, text, sizeof text), id, &f->dummy);
  ids_text(json_object_get(sys_of(res, "wn"), "remove_vms"), ids, sizeof ids);
  assert_string_equal(ids, "3,2");
  assert_string_equal(str(sys_of(res, "wn"), "action"), "update");
  assert_summary(res, 0, 0, 2);
  json_decref(res);
}

static void test_system_left_out_of_the_document_is_removed(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], text[1024], ids[64];
  json_t *res;

  create(f, with_wn(2, text, sizeof text), &f->dummy, id);
  res = plan_of(f,
                "network pub (outbound = 'yes')\nnetwork net ()\n"
                "system front\ndeploy front 1\n",
                id, &f->dummy);
  assert_string_equal(str(sys_of(res, "wn"), "action"), "remove");
  ids_text(json_object_get(sys_of(res, "wn"), "remove_vms"), ids, sizeof ids);
  assert_string_equal(ids, "2,1");
  assert_string_equal(str(sys_of(res, "front"), "action"), "none");
  assert_summary(res, 0, 0, 2);
  json_decref(res);
}

static void test_changed_system_lists_its_features_and_vms(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX], text[1024], ids[64];
  json_t *res, *ch;

  create(f, with_wn(2, text, sizeof text), &f->dummy, id);
  res = plan_of(f,
                "network pub\nnetwork net ()\nsystem front\n"
                "system wn (memory.size >= 4096M and net_interface.0.connection = 'net' and "
                "disk.0.image.url = 'mock0://img/wn')\ndeploy front 1\ndeploy wn 2\n",
                id, &f->dummy);
  ch = json_object_get(sys_of(res, "wn"), "changes");
  assert_int_equal(json_array_size(ch), 1);
  assert_string_equal(str(json_array_get(ch, 0), "feature"), "memory.size");
  assert_string_equal(str(json_array_get(ch, 0), "old"), ">= 1024M");
  assert_string_equal(str(json_array_get(ch, 0), "new"), ">= 4096M");
  ids_text(json_object_get(sys_of(res, "wn"), "alter_vms"), ids, sizeof ids);
  assert_string_equal(ids, "1,2");
  assert_int_equal(json_array_size(json_object_get(sys_of(res, "front"), "changes")), 0);
  assert_summary(res, 0, 2, 0);
  json_decref(res);
}

static void test_changed_numbers_are_shown_in_the_new_unit(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  json_t *res, *ch;

  /* A document read back from the store has its sizes in bytes, as IM's JSON RADL. */
  create(f,
         "system s (disk.0.image.url = 'mock0://i' and memory.size >= 1024000000)\n"
         "deploy s 1\n",
         &f->dummy, id);
  res = plan_of(f,
                "system s (disk.0.image.url = 'mock0://i' and memory.size >= 4096M)\n"
                "deploy s 1\n",
                id, &f->dummy);
  ch = json_array_get(json_object_get(sys_of(res, "s"), "changes"), 0);
  assert_string_equal(str(ch, "old"), ">= 1024M");
  assert_string_equal(str(ch, "new"), ">= 4096M");
  json_decref(res);
}

static void test_sensitive_features_are_not_shown(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  json_t *res, *ch;

  create(f,
         "system s (disk.0.image.url = 'mock0://i' and "
         "disk.0.os.credentials.password = 'Old-pass1')\ndeploy s 1\n",
         &f->dummy, id);
  res = plan_of(f,
                "system s (disk.0.image.url = 'mock0://i' and "
                "disk.0.os.credentials.password = 'New-pass2')\ndeploy s 1\n",
                id, &f->dummy);
  ch = json_array_get(json_object_get(sys_of(res, "s"), "changes"), 0);
  assert_string_equal(str(ch, "feature"), "disk.0.os.credentials.password");
  assert_string_equal(str(ch, "old"), "(sensitive)");
  assert_string_equal(str(ch, "new"), "(sensitive)");
  json_decref(res);
}

static void test_growth_on_a_private_network_joins_the_cloud_of_its_vms(void **state)
{
  struct fx *f = *state;
  char id[IMC_INFRA_ID_MAX];
  static const char text[] = "network priv ()\nsystem wn (net_interface.0.connection = 'priv' and "
                             "disk.0.image.url = 'mock0://i')\ndeploy wn %d%s\n";
  char doc[512];
  json_t *res;

  snprintf(doc, sizeof doc, text, 1, " dummy");
  create(f, doc, &f->mixed, id);
  snprintf(doc, sizeof doc, text, 3, "");
  res = plan_of(f, doc, id, &f->mixed);
  /* f scores better, but the VM already on priv runs on dummy (its provider.type). */
  assert_int_equal(num(deploy_of(res, "wn", 0), "count"), 2);
  assert_string_equal(str(json_object_get(deploy_of(res, "wn", 0), "cloud"), "id"), "dummy");
  assert_int_equal(flav_launches, 0);
  json_decref(res);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    T(test_new_infra_shows_cloud_image_and_sizes),
    T(test_new_infra_lists_networks_and_security_rules),
    T(test_new_infra_without_image_takes_the_catalogues_first),
    T(test_plan_creates_nothing_in_the_cloud_or_the_store),
    T(test_flavour_and_gpus_of_the_cloud_are_shown),
    T(test_endpoint_credentials_are_not_shown),
    T(test_gpu_request_no_cloud_serves_is_a_clear_error),
    T(test_private_network_keeps_its_deploys_on_one_cloud),
    T(test_caller_without_im_credentials_is_refused),
    T(test_auth_without_a_cloud_is_refused),
    T(test_document_error_names_its_position),
    T(test_unchanged_document_plans_nothing),
    T(test_growth_creates_only_the_missing_vms),
    T(test_shrink_removes_the_newest_vms_first),
    T(test_system_left_out_of_the_document_is_removed),
    T(test_changed_system_lists_its_features_and_vms),
    T(test_changed_numbers_are_shown_in_the_new_unit),
    T(test_sensitive_features_are_not_shown),
    T(test_growth_on_a_private_network_joins_the_cloud_of_its_vms),
#undef T
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
