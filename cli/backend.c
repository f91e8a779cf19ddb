/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the backends share: opening the one the options name, reading the VM ids and states
 * servers answer with. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "imc/alloc.h"

bool cli_parse_vm_id(const char *text, unsigned *out)
{
  char *end;
  unsigned long v = strtoul(text, &end, 10);

  if (end == text || *end || text[0] == '-' || text[0] == '+' || v > 0xffffffffUL)
    return false;
  *out = (unsigned)v;
  return true;
}

int cli_vm_ids_of(const struct imc_strs *ids, struct imc_vm_ids *out, struct imc_err *err)
{
  memset(out, 0, sizeof *out);
  if (ids->n && !(out->v = imc_calloc(ids->n, sizeof *out->v)))
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  for (size_t i = 0; i < ids->n; i++) {
    if (!cli_parse_vm_id(ids->v[i], &out->v[out->n])) {
      imc_vm_ids_free(out);
      return imc_fail(err, IMC_E_IO, "the server's answer is not a list of VMs");
    }
    out->n++;
  }
  return 0;
}

void cli_state_add(struct imc_infra_state *st, unsigned vm, enum imc_vm_state state)
{
  size_t at = st->n;

  while (at > 0 && st->vm_ids[at - 1] > vm) { /* servers send the VMs in any order */
    st->vm_ids[at] = st->vm_ids[at - 1];
    st->vm_states[at] = st->vm_states[at - 1];
    at--;
  }
  st->vm_ids[at] = vm;
  st->vm_states[at] = state;
  st->n++;
}

int cli_backend_open(const struct imc_auth *auth, struct cli_backend *out, struct imc_err *err)
{
  const struct cli_global *g = &cli_global;

  if (g->rest_url && !g->local)
    return cli_backend_rest(g->rest_url, auth, g->verify, out, err);
  if (g->xmlrpc_url && !g->local)
    return cli_backend_xmlrpc(g->xmlrpc_url, auth, g->verify, out, err);
  return cli_backend_local(auth, out, err);
}
