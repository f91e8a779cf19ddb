/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The contextualizer imcd and imc's local mode give the engine: it configures VMs over SSH
 * with Ansible, run on this host (Debian's ansible-playbook with OpenSSH's client) against
 * every VM; nothing is installed on the VMs.
 *
 * Per run: it waits for SSH on each VM (WAIT_SSH_ACCCESS_TIMEOUT, through the network's
 * proxy_host when the VM has no public IP), writes an inventory, an ansible.cfg and the
 * playbooks into WORK_DIR/<infra id>/run-N/ (0700, keys 0600, removed afterwards; the
 * infrastructure's known_hosts stays in WORK_DIR/<infra id>/), runs IM's basic step, the user
 * steps of the contextualize sentence and the credential changes, and reports each VM with
 * imc_engine_ctxt_done.  Its output goes to the engine's contextualization logs as it comes,
 * with no password or private key in them. */
#ifndef IMC_CTXT_DRIVER_H
#define IMC_CTXT_DRIVER_H

#include "imc/config.h"
#include "imc/engine.h"
#include "imc/err.h"

/* Fills *out (its ctx is new).  cfg is borrowed and must outlive the contextualizer.
 * work_dir is created (0700) when missing.  Errors: IMC_E_IO (work_dir), IMC_E_NOMEM. */
int imc_ctxr_open(const struct imc_config *cfg, const char *work_dir,
                  struct imc_contextualizer *out, struct imc_err *err);
/* Stops the runs under way (their ansible-playbook is killed; their VMs are reported
 * unconfigured), waits for their threads and frees everything.  Call it before
 * imc_engine_close.  NULL ctx is a no-op. */
void imc_ctxr_close(struct imc_contextualizer *c);

#endif
