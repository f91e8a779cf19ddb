/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A virtual machine of an infrastructure, as the engine and the connectors share it. */
#ifndef IMC_VM_H
#define IMC_VM_H

#include <stdbool.h>

#include "imc/model.h"

/* IM's VM states, in IM's spelling (imc_vm_state_name). */
#define IMC_VM_STATES(X)               \
  X(IMC_VM_PENDING, "pending")         \
  X(IMC_VM_RUNNING, "running")         \
  X(IMC_VM_CONFIGURED, "configured")   \
  X(IMC_VM_UNCONFIGURED, "unconfigured") \
  X(IMC_VM_STOPPED, "stopped")         \
  X(IMC_VM_OFF, "off")                 \
  X(IMC_VM_FAILED, "failed")           \
  X(IMC_VM_UNKNOWN, "unknown")         \
  X(IMC_VM_DELETING, "deleting")

enum imc_vm_state {
#define IMC_VM_STATE_ENUM(name, text) name,
  IMC_VM_STATES(IMC_VM_STATE_ENUM)
#undef IMC_VM_STATE_ENUM
  IMC_VM_NSTATES /* how many there are; not a state */
};

const char *imc_vm_state_name(enum imc_vm_state s);
/* The state named text, or -1. */
int imc_vm_state_parse(const char *text);

struct imc_vm {
  unsigned id;           /* position in the infrastructure; never reused */
  char *cloud_id;        /* the `id` of the auth entry it was launched with */
  char *cloud_type;      /* the connector's name ("Dummy", "OpenStack") */
  char *instance_id;     /* the provider's id for it; NULL until launched */
  char *client_token;    /* attached to what the provider creates, to find it after a crash */
  enum imc_vm_state state;
  struct imc_elem *system; /* the concrete system; connectors write what they learn here
                            * (net_interface.N.ip, provider.type, instance_id, ...) */
  char *error;           /* why it failed; NULL otherwise */
};

/* A VM with the given id and a copy of system (may be NULL).  NULL on failure. */
struct imc_vm *imc_vm_new(unsigned id, const struct imc_elem *system);
void imc_vm_free(struct imc_vm *vm);
/* Replaces a string field (cloud_id, instance_id, error, ...) by a copy of value (may be
 * NULL).  0 or IMC_E_NOMEM. */
int imc_vm_set(char **field, const char *value);

#endif
