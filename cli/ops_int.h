/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to im-client's operations (ops*.c): what one run of an operation has, and the
 * helpers the operations share for reading arguments and printing. */
#ifndef IMC_CLI_OPS_INT_H
#define IMC_CLI_OPS_INT_H

#include <stdbool.h>

#include <jansson.h>

#include "backend.h"
#include "cli.h"

struct op_ctx {
  struct cli_backend *b;
  const struct imc_auth *auth;
  int argc; /* the operands: argv[0] is the operation's name */
  char **argv;
  bool server; /* an IM server answers (REST or XML-RPC), not the local store */
  bool rest;
};

/* A document read from a file for an operation: doc to hand to the local engine, text (RADL)
 * to send to a server. */
struct op_doc {
  struct imc_doc *doc;
  struct imc_buf text;
};

/* --- printing ------------------------------------------------------------------------------ */

/* Prints "what: message" on stderr (im-client's ERROR line; with --json also {"error": ...}
 * on stdout) and returns CLI_FAIL. */
int op_failed(const char *what, const struct imc_err *err);
/* The same for a message of the operation's own. */
int op_failed_msg(const char *what, const char *msg);
/* v (stolen) as Python's json.dumps(v, indent=4) prints it. */
int op_print_json(json_t *v);
/* Text, with a newline after it unless it ends with one. */
void op_print_text(const char *text, size_t len);
/* im-client's text output is wanted: neither -q nor --json. */
bool op_chatty(void);

/* --- arguments ----------------------------------------------------------------------------- */

/* The infrastructure argument (operand 1): its id, or with -n the id of the infrastructure
 * whose description has that name.  id has IMC_INFRA_ID_MAX bytes. */
int op_infra_id(struct op_ctx *c, char *id, struct imc_err *err);
/* Operand i as a VM id; prints the usage error itself (CLI_USAGE) when it is not one. */
int op_vm_id(const struct op_ctx *c, int i, unsigned *vm);
/* Optional operand i as im-client's 0/1 flag: *flag stays as it was when absent; fails with
 * "The NAME flag must be 0 or 1". */
int op_flag(const struct op_ctx *c, int i, const char *name, int *flag, struct imc_err *err);
/* "1,2,3" as VM ids. */
int op_vm_list(const char *text, struct imc_vm_ids *out, struct imc_err *err);
/* Reads a document file as im-client does: .yaml/.yml is TOSCA (refused by this build), .json
 * is RADL's JSON form, anything else RADL with its @input.NAME@ parameters asked for on the
 * terminal.  whole: checked as a complete document (create, estimate); otherwise it may name
 * the infrastructure's systems and networks without defining them (AddResource, Alter,
 * Reconfigure), and the engine checks it once completed from the infrastructure, as IM's
 * complete_radl.  Free with op_doc_free. */
int op_doc_read(const char *path, bool whole, struct op_doc *d, struct imc_err *err);
void op_doc_free(struct op_doc *d);

/* --- the operations ------------------------------------------------------------------------ */

/* ops_get.c: what reads */
int op_list(struct op_ctx *c);
int op_getinfo(struct op_ctx *c);
int op_getradl(struct op_ctx *c);
int op_getcontmsg(struct op_ctx *c);
int op_getstate(struct op_ctx *c);
int op_getvminfo(struct op_ctx *c);
int op_getvmcontmsg(struct op_ctx *c);
int op_getoutputs(struct op_ctx *c);
int op_export(struct op_ctx *c);
int op_cloudusage(struct op_ctx *c);
int op_cloudimages(struct op_ctx *c);
int op_getversion(struct op_ctx *c);
int op_getowners(struct op_ctx *c);
int op_estimate(struct op_ctx *c);
int op_stats(struct op_ctx *c);
/* ops_change.c: what changes */
int op_create(struct op_ctx *c);
int op_destroy(struct op_ctx *c);
int op_addresource(struct op_ctx *c);
int op_removeresource(struct op_ctx *c);
int op_alter(struct op_ctx *c);
int op_reconfigure(struct op_ctx *c);
int op_start(struct op_ctx *c);
int op_stop(struct op_ctx *c);
int op_reboot(struct op_ctx *c);
int op_startvm(struct op_ctx *c);
int op_stopvm(struct op_ctx *c);
int op_rebootvm(struct op_ctx *c);
int op_import(struct op_ctx *c);
int op_change_auth(struct op_ctx *c);
/* ops_wait.c */
int op_wait(struct op_ctx *c);
int op_create_wait_outputs(struct op_ctx *c);
/* Waits until the infrastructure id is configured (0), or fails (CLI_FAIL) with its state,
 * timing out after max_time seconds; shows progress unless -q. */
int op_wait_for(struct op_ctx *c, const char *id, long max_time, struct imc_err *err);
int op_ssh(struct op_ctx *c); /* ops_ssh.c: ssh, sshvm, put(vm), get(vm) */

#endif
