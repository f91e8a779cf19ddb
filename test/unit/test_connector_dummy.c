/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The Dummy connector behaves as IM's, and the registry finds connectors by auth type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/connector.h"
#include "imc/radl.h"

struct fixture {
  const struct imc_connector *c;
  void *ctx;
  struct imc_doc *doc;
};

static int setup(void **state)
{
  static const char text[] =
    "network net ()\n"
    "system front ( cpu.count >= 2 and memory.size >= 1G and "
    "net_interface.0.connection = 'net' and disk.0.image.url = 'mock0://x/y' )\n"
    "system named ( disk.0.os.credentials.username = 'root' )\n"
    "deploy front 1";
  struct fixture *f = imc_calloc(1, sizeof *f);
  struct imc_err err = {0};

  f->c = imc_connector_find(imc_connectors_builtin, "Dummy");
  assert_non_null(f->c);
  f->ctx = imc_calloc(1, f->c->ctx_size);
  assert_int_equal(f->c->open(f->ctx, NULL, NULL, &err), 0);
  assert_int_equal(radl_parse("t", text, strlen(text), NULL, &f->doc, &err), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;

  f->c->close(f->ctx);
  imc_free(f->ctx);
  imc_doc_free(f->doc);
  imc_free(f);
  return 0;
}

static struct imc_vm *launch(struct fixture *f, const char *token)
{
  struct imc_elem *sys = NULL;
  struct imc_launch rq = {.infra_id = "inf", .client_token = token, .doc = f->doc};
  struct imc_vm *vm;
  struct imc_err err = {0};
  double score;

  assert_int_equal(f->c->concrete(f->ctx, imc_doc_system(f->doc, "front"), &sys, &score, &err),
                   0);
  rq.system = sys;
  vm = imc_vm_new(0, sys);
  assert_int_equal(f->c->launch(f->ctx, &rq, vm, &err), 0);
  imc_elem_free(sys);
  return vm;
}

static void test_dummy_registered_by_exact_type(void **state)
{
  (void)state;
  assert_non_null(imc_connector_find(imc_connectors_builtin, "Dummy"));
  assert_null(imc_connector_find(imc_connectors_builtin, "dummy"));
  assert_null(imc_connector_find(imc_connectors_builtin, "Nope"));
  assert_null(imc_connector_find(imc_connectors_builtin, NULL));
  assert_int_equal(imc_connector_find(imc_connectors_builtin, "Dummy")->abi, IMC_CONNECTOR_ABI);
}

static void test_dummy_concrete_adds_default_username_only_when_missing(void **state)
{
  struct fixture *f = *state;
  struct imc_elem *out = NULL;
  struct imc_err err = {0};
  double score = -1;

  assert_int_equal(f->c->concrete(f->ctx, imc_doc_system(f->doc, "front"), &out, &score, &err), 0);
  assert_string_equal(imc_features_str(&out->feats, "disk.0.os.credentials.username"),
                      "username");
  assert_string_equal(imc_features_str(&out->feats, "disk.0.image.url"), "mock0://x/y");
  assert_true(score == 0);
  imc_elem_free(out);
  assert_int_equal(f->c->concrete(f->ctx, imc_doc_system(f->doc, "named"), &out, &score, &err), 0);
  assert_string_equal(imc_features_str(&out->feats, "disk.0.os.credentials.username"), "root");
  imc_elem_free(out);
}

static void test_dummy_launch_runs_at_once_with_ims_fake_data(void **state)
{
  struct fixture *f = *state;
  struct imc_vm *vm = launch(f, "tok-1");
  const struct imc_features *fs = &vm->system->feats;

  assert_int_equal(vm->state, IMC_VM_RUNNING);
  assert_string_equal(vm->instance_id, "dummy-tok-1");
  assert_string_equal(vm->cloud_type, "Dummy");
  assert_string_equal(imc_features_str(fs, "net_interface.0.ip"), "10.0.0.1");
  assert_string_equal(imc_features_str(fs, "provider.type"), "Dummy");
  assert_string_equal(imc_features_str(fs, "disk.0.os.credentials.username"), "username");
  assert_string_equal(imc_features_str(fs, "disk.0.os.credentials.password"), "password");
  imc_vm_free(vm);
}

static void test_dummy_power_sets_states(void **state)
{
  struct fixture *f = *state;
  struct imc_vm *vm = launch(f, "tok-2");
  struct imc_err err = {0};

  assert_int_equal(f->c->power(f->ctx, vm, IMC_POWER_STOP, &err), 0);
  assert_int_equal(vm->state, IMC_VM_STOPPED);
  assert_int_equal(f->c->power(f->ctx, vm, IMC_POWER_START, &err), 0);
  assert_int_equal(vm->state, IMC_VM_RUNNING);
  assert_int_equal(f->c->power(f->ctx, vm, IMC_POWER_REBOOT, &err), 0);
  assert_int_equal(vm->state, IMC_VM_RUNNING);
  assert_int_equal(f->c->update(f->ctx, vm, &err), 0);
  assert_int_equal(vm->state, IMC_VM_RUNNING);
  assert_int_equal(f->c->finalize(f->ctx, vm, true, &err), 0);
  imc_vm_free(vm);
}

static void test_dummy_alter_copies_cpu_and_memory_in_megabytes(void **state)
{
  struct fixture *f = *state;
  struct imc_vm *vm = launch(f, "tok-3");
  struct imc_doc *changes = NULL;
  struct imc_err err = {0};
  const char *text = "system front ( cpu.count = 4 and memory.size = 2G )";
  const struct imc_feature *mem;
  double v;

  assert_int_equal(radl_parse("c", text, strlen(text), NULL, &changes, &err), 0);
  assert_int_equal(f->c->alter(f->ctx, vm, changes->systems[0], &err), 0);
  assert_true(imc_features_num(&vm->system->feats, "cpu.count", NULL, &v));
  assert_true(v == 4.0);
  mem = imc_features_get(&vm->system->feats, "memory.size");
  assert_string_equal(mem->unit, "M");
  assert_int_equal(mem->num.i, 2000);
  assert_int_equal(mem->op, IMC_OP_EQ);
  imc_doc_free(changes);
  imc_vm_free(vm);
}

static void test_dummy_alter_refuses_memory_beyond_int64(void **state)
{
  struct fixture *f = *state;
  struct imc_vm *vm = launch(f, "tok-5");
  struct imc_doc *changes = NULL;
  struct imc_err err = {0};
  const char *text = "system front ( memory.size = 9000000000000000000T )";

  assert_int_equal(radl_parse("c", text, strlen(text), NULL, &changes, &err), 0);
  assert_int_equal(f->c->alter(f->ctx, vm, changes->systems[0], &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "memory.size is out of range");
  imc_doc_free(changes);
  imc_vm_free(vm);
}

static void test_dummy_snapshot_images_and_quotas_are_ims(void **state)
{
  struct fixture *f = *state;
  struct imc_vm *vm = launch(f, "tok-4");
  struct imc_quota q[IMC_MAX_QUOTAS];
  struct imc_image *images;
  struct imc_err err = {0};
  char *url = NULL;
  size_t n;

  assert_int_equal(f->c->snapshot(f->ctx, vm, 0, "backup", true, &url, &err), 0);
  assert_string_equal(url, "mock0://linux.for.ev.er/backup");
  assert_int_equal(f->c->delete_image(f->ctx, url, &err), 0);
  imc_free(url);
  assert_int_equal(f->c->list_images(f->ctx, NULL, &images, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(images[0].uri, "mock0://linux.for.ev.er/image1");
  assert_string_equal(images[1].name, "Image Name2");
  imc_images_free(images, n);
  assert_int_equal(f->c->quotas(f->ctx, q, &n, &err), 0);
  assert_int_equal(n, 5);
  assert_string_equal(q[0].name, "cores");
  assert_string_equal(q[4].name, "security_groups");
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(q[i].used, 1);
    assert_int_equal(q[i].limit, 10);
  }
  imc_vm_free(vm);
}

static void test_dummy_out_of_memory_is_a_clean_error(void **state)
{
  struct fixture *f = *state;

  for (unsigned long n = 1;; n++) {
    struct imc_elem *sys = imc_elem_clone(imc_doc_system(f->doc, "front"));
    struct imc_vm *vm = imc_vm_new(0, sys);
    struct imc_launch rq = {.client_token = "t", .doc = f->doc, .system = sys};
    struct imc_image *images = NULL;
    struct imc_err err = {0};
    size_t count = 0;
    int r1, r2;

    imc_alloc_fail_at(n);
    r1 = f->c->launch(f->ctx, &rq, vm, &err);
    imc_err_clear(&err);
    r2 = f->c->list_images(f->ctx, NULL, &images, &count, &err);
    imc_alloc_fail_at(0);
    assert_true(r1 == 0 || r1 == IMC_E_NOMEM);
    assert_true(r2 == 0 || r2 == IMC_E_NOMEM);
    imc_images_free(images, count);
    imc_vm_free(vm);
    imc_elem_free(sys);
    if (r1 == 0 && r2 == 0)
      break;
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dummy_registered_by_exact_type),
    cmocka_unit_test_setup_teardown(test_dummy_concrete_adds_default_username_only_when_missing,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_dummy_launch_runs_at_once_with_ims_fake_data, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_dummy_power_sets_states, setup, teardown),
    cmocka_unit_test_setup_teardown(test_dummy_alter_copies_cpu_and_memory_in_megabytes, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_dummy_alter_refuses_memory_beyond_int64, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_dummy_snapshot_images_and_quotas_are_ims, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_dummy_out_of_memory_is_a_clean_error, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
