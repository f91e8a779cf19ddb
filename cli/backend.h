/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Where im-client's operations run: the engine in this process on the local store
 * (backend_local.c), or an IM server's XML-RPC API (backend_xmlrpc.c) or REST API
 * (backend_rest.c).  The operations (ops.c) print the same text whichever answers. */
#ifndef IMC_CLI_BACKEND_H
#define IMC_CLI_BACKEND_H

#include <stdbool.h>

#include <jansson.h>

#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/connector.h"
#include "imc/engine.h"

struct cli_backend {
  void *ctx;
  /* ids: caller frees with imc_strs_free. */
  int (*list)(void *ctx, const char *filter, struct imc_strs *ids, struct imc_err *err);
  /* doc was read from a file and checked to parse; text is that file's text (every operation
   * that takes a document gets both: the local backend uses doc, the servers get text).
   * async: return once the server has accepted it (im-client's default on REST). */
  int (*create)(void *ctx, const struct imc_doc *doc, const char *text, size_t len, bool async,
                char id[IMC_INFRA_ID_MAX], struct imc_err *err);
  int (*destroy)(void *ctx, const char *id, bool force, struct imc_err *err);
  int (*info)(void *ctx, const char *id, struct imc_vm_ids *vms, struct imc_err *err);
  /* RADL text, appended to out. */
  int (*vm_radl)(void *ctx, const char *id, unsigned vm, struct imc_buf *out, struct imc_err *err);
  int (*radl)(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err);
  int (*contmsg)(void *ctx, const char *id, struct imc_buf *out, struct imc_err *err);
  int (*state)(void *ctx, const char *id, struct imc_infra_state *st, struct imc_err *err);
  int (*version)(void *ctx, struct imc_buf *out, struct imc_err *err);
  void (*close)(void *ctx);

  /* context: -1 the server's default (contextualize), 0 no, 1 yes.  vms receives the new VMs'
   * ids (caller frees with imc_vm_ids_free). */
  int (*add)(void *ctx, const char *id, const struct imc_doc *doc, const char *text, size_t len,
             int context, struct imc_vm_ids *vms, struct imc_err *err);
  int (*remove)(void *ctx, const char *id, const struct imc_vm_ids *vms, int context,
                struct imc_err *err);
  /* The VM's new RADL text is appended to out. */
  int (*alter)(void *ctx, const char *id, unsigned vm, const struct imc_doc *doc, const char *text,
               size_t len, struct imc_buf *out, struct imc_err *err);
  /* doc NULL and len 0: no new document.  vms empty: every VM. */
  int (*reconfigure)(void *ctx, const char *id, const struct imc_doc *doc, const char *text,
                     size_t len, const struct imc_vm_ids *vms, struct imc_err *err);
  /* vm NULL: every VM of the infrastructure (start and stop only, as IM). */
  int (*power)(void *ctx, const char *id, const unsigned *vm, enum imc_power op,
               struct imc_err *err);
  /* One feature of the VM's system as Python's str() prints IM's getValue (a string as it is,
   * 2, 1.5, ['a', 'b']), appended to out.  IMC_E_NOTFOUND when the system has none. */
  int (*vm_property)(void *ctx, const char *id, unsigned vm, const char *name, struct imc_buf *out,
                     struct imc_err *err);
  int (*vm_contmsg)(void *ctx, const char *id, unsigned vm, struct imc_buf *out,
                    struct imc_err *err);
  /* The TOSCA outputs object (caller decrefs).  A RADL infrastructure has none: an error. */
  int (*outputs)(void *ctx, const char *id, json_t **out, struct imc_err *err);
  /* The exported JSON text appended to out. */
  int (*export_data)(void *ctx, const char *id, bool delete_it, struct imc_buf *out,
                     struct imc_err *err);
  int (*import_data)(void *ctx, const char *text, size_t len, char id[IMC_INFRA_ID_MAX],
                     struct imc_err *err);
  /* IM's answers as JSON (caller decrefs): the image list [{"uri":..,"name":..}, ...], the
   * quotas object, EstimateResources' object, GetStats' list. */
  int (*cloud_images)(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err);
  int (*cloud_quotas)(void *ctx, const char *cloud_id, json_t **out, struct imc_err *err);
  int (*estimate)(void *ctx, const struct imc_doc *doc, const char *text, size_t len, json_t **out,
                  struct imc_err *err);
  /* dates "YYYY-MM-DD" or NULL. */
  int (*stats)(void *ctx, const char *init_date, const char *end_date, json_t **out,
               struct imc_err *err);
  /* new_im: an auth entry of type InfrastructureManager. */
  int (*change_auth)(void *ctx, const char *id, const struct imc_auth_entry *new_im, bool overwrite,
                     struct imc_err *err);
  int (*owners)(void *ctx, const char *id, struct imc_strs *names, struct imc_err *err);
};

/* backend.c: a VM id as servers write it ("3"); false for anything else. */
bool cli_parse_vm_id(const char *text, unsigned *out);
/* The VM ids of a list of strings; IMC_E_IO when one is not a VM id. */
int cli_vm_ids_of(const struct imc_strs *ids, struct imc_vm_ids *out, struct imc_err *err);
/* Adds one VM's state to st, keeping the VMs in id order (st has room for it). */
void cli_state_add(struct imc_infra_state *st, unsigned vm, enum imc_vm_state state);

/* The backend the options name (cli_global): -r's REST API, -u's XML-RPC API, else (or with
 * --local) the local store.  auth is borrowed and must outlive the backend. */
int cli_backend_open(const struct imc_auth *auth, struct cli_backend *out, struct imc_err *err);
/* auth is borrowed and must outlive the backend. */
int cli_backend_local(const struct imc_auth *auth, struct cli_backend *out, struct imc_err *err);
/* The local store's directory ($IMC_DATA_DIR, else $XDG_DATA_HOME/imc, else
 * ~/.local/share/imc), created 0700 when missing. */
int cli_local_data_dir(char *out, size_t size, struct imc_err *err);
/* url: the XML-RPC endpoint ("http://host:8899"); verify: check the server's certificate. */
int cli_backend_xmlrpc(const char *url, const struct imc_auth *auth, bool verify,
                       struct cli_backend *out, struct imc_err *err);
/* url: the REST API's root ("http://host:8800"); verify: check the server's certificate. */
int cli_backend_rest(const char *url, const struct imc_auth *auth, bool verify,
                     struct cli_backend *out, struct imc_err *err);

#endif
