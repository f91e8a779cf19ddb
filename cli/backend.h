/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where im-client's operations run: the engine in this process on the local store
 * (backend_local.c), or an IM server's XML-RPC API (backend_xmlrpc.c) or REST API
 * (backend_rest.c).  The operations (ops.c) print the same text whichever answers. */
#ifndef IMC_CLI_BACKEND_H
#define IMC_CLI_BACKEND_H

#include <stdbool.h>

#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/engine.h"

struct cli_backend {
  void *ctx;
  /* ids: caller frees with imc_strs_free. */
  int (*list)(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err);
  /* doc was read from a file and checked to parse; text is that file's text. */
  int (*create)(void *ctx, const struct imc_doc *doc, const char *text, size_t len,
                char id[IMC_INFRA_ID_MAX], struct imc_err *err);
  int (*destroy)(void *ctx, const char *id, bool force, struct imc_err *err);
  int (*info)(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err);
  /* RADL text, appended to out. */
  int (*vm_radl)(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                 struct imc_err *err);
  int (*radl)(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err);
  int (*contmsg)(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err);
  int (*state)(void *ctx, const char *id, struct imc_infra_state *st, struct imc_err *err);
  int (*version)(void *ctx, struct imc_buf *out, struct imc_err *err);
  void (*close)(void *ctx);
};

/* backend.c: a VM id as servers write it ("3"); false for anything else. */
bool cli_parse_vm_id(const char *text, unsigned *out);
/* The VM ids of a list of strings; IMC_E_IO when one is not a VM id. */
int cli_vm_ids_of(const struct imc_strs *ids, struct imc_vm_ids *out, struct imc_err *err);
/* Adds one VM's state to st, keeping the VMs in id order (st has room for it). */
void cli_state_add(struct imc_infra_state *st, unsigned vm, enum imc_vm_state state);

/* auth is borrowed and must outlive the backend. */
int cli_backend_local(const struct imc_auth *auth, struct cli_backend *out, struct imc_err *err);
/* url: the XML-RPC endpoint ("http://host:8899"); verify: check the server's certificate. */
int cli_backend_xmlrpc(const char *url, const struct imc_auth *auth, bool verify,
                       struct cli_backend *out, struct imc_err *err);
/* url: the REST API's root ("http://host:8800"); verify: check the server's certificate. */
int cli_backend_rest(const char *url, const struct imc_auth *auth, bool verify,
                     struct cli_backend *out, struct imc_err *err);

#endif
