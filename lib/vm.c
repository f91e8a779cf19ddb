/* SPDX-License-Identifier: GPL-3.0-or-later */
/* VM records and IM's state names. */
#include "imc/vm.h"
#include "imc/alloc.h"

#include <string.h>

static const char *const state_names[] = {
#define IMC_VM_STATE_NAME(name, text) text,
  IMC_VM_STATES(IMC_VM_STATE_NAME)
#undef IMC_VM_STATE_NAME
};

_Static_assert(sizeof state_names / sizeof state_names[0] == IMC_VM_NSTATES,
               "one name per state");
#define NSTATES IMC_VM_NSTATES

const char *imc_vm_state_name(enum imc_vm_state s)
{
  return (unsigned)s < NSTATES ? state_names[s] : "unknown";
}

int imc_vm_state_parse(const char *text)
{
  for (size_t i = 0; i < NSTATES; i++)
    if (strcmp(state_names[i], text) == 0)
      return (int)i;
  return -1;
}

struct imc_vm *imc_vm_new(unsigned id, const struct imc_elem *system)
{
  struct imc_vm *vm = imc_calloc(1, sizeof *vm);

  if (!vm)
    return NULL;
  vm->id = id;
  vm->state = IMC_VM_PENDING;
  if (system && !(vm->system = imc_elem_clone(system))) {
    imc_free(vm);
    return NULL;
  }
  return vm;
}

void imc_vm_free(struct imc_vm *vm)
{
  if (!vm)
    return;
  imc_free(vm->cloud_id);
  imc_free(vm->cloud_type);
  imc_free(vm->instance_id);
  imc_free(vm->client_token);
  imc_elem_free(vm->system);
  imc_free(vm->error);
  imc_free(vm);
}

int imc_vm_set(char **field, const char *value)
{
  char *copy = NULL;

  if (value && !(copy = imc_strdup(value)))
    return IMC_E_NOMEM;
  imc_free(*field);
  *field = copy;
  return 0;
}
