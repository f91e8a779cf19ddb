/* SPDX-License-Identifier: GPL-3.0-or-later */
/* VM records and IM's state names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/vm.h"

static void test_vm_state_names_are_ims(void **state)
{
  static const char *const names[] = {"pending", "running", "configured", "unconfigured",
                                      "stopped", "off",     "failed",     "unknown",
                                      "deleting"};

  (void)state;
  for (int i = 0; i < 9; i++) {
    assert_string_equal(imc_vm_state_name((enum imc_vm_state)i), names[i]);
    assert_int_equal(imc_vm_state_parse(names[i]), i);
  }
  assert_int_equal(imc_vm_state_parse("Running"), -1);
  assert_string_equal(imc_vm_state_name((enum imc_vm_state)99), "unknown");
}

static void test_vm_new_copies_system_and_starts_pending(void **state)
{
  struct imc_elem *sys = imc_elem_new(IMC_ELEM_SYSTEM, "front");
  struct imc_vm *vm;

  (void)state;
  assert_int_equal(imc_features_set_str(&sys->feats, "disk.0.os.name", "linux"), 0);
  vm = imc_vm_new(3, sys);
  imc_elem_free(sys);
  assert_int_equal(vm->id, 3);
  assert_int_equal(vm->state, IMC_VM_PENDING);
  assert_string_equal(imc_features_str(&vm->system->feats, "disk.0.os.name"), "linux");
  assert_int_equal(imc_vm_set(&vm->instance_id, "i-1"), 0);
  assert_int_equal(imc_vm_set(&vm->instance_id, "i-2"), 0);
  assert_string_equal(vm->instance_id, "i-2");
  assert_int_equal(imc_vm_set(&vm->instance_id, NULL), 0);
  assert_null(vm->instance_id);
  imc_vm_free(vm);
}

static void test_vm_allocation_failures_are_clean(void **state)
{
  struct imc_elem *sys = imc_elem_new(IMC_ELEM_SYSTEM, "front");

  (void)state;
  assert_int_equal(imc_features_set_str(&sys->feats, "a", "b"), 0);
  for (unsigned long n = 1;; n++) {
    struct imc_vm *vm;

    imc_alloc_fail_at(n);
    vm = imc_vm_new(0, sys);
    imc_alloc_fail_at(0);
    if (vm) {
      imc_vm_free(vm);
      break;
    }
  }
  imc_alloc_fail_at(1);
  {
    char *field = NULL;

    assert_int_equal(imc_vm_set(&field, "x"), IMC_E_NOMEM);
    assert_null(field);
  }
  imc_alloc_fail_at(0);
  imc_elem_free(sys);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vm_state_names_are_ims),
    cmocka_unit_test(test_vm_new_copies_system_and_starts_pending),
    cmocka_unit_test(test_vm_allocation_failures_are_clean),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
