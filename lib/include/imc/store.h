/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store: everything that must survive a crash (kill -9, OOM kill), behind one interface
 * with one backend per process: SQLite in WAL mode by default, PostgreSQL when several imcd
 * share the load (DATA_DB = postgresql://...).
 *
 * The unit of crash safety is the VM row.  Before a cloud create call the engine writes the VM
 * with launch IMC_LAUNCH_INTENT and its client token; after the call it writes the outcome
 * (IMC_LAUNCH_DONE with the instance id, or IMC_LAUNCH_FAILED).  After a restart,
 * imc_store_open_intents() lists what may have been created with no record of it. */
#ifndef IMC_STORE_H
#define IMC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imc/buf.h"
#include "imc/err.h"
#include "imc/vm.h"

#define IMC_INFRA_ID_MAX 64 /* a UUID is 36 characters */

struct imc_store;

/* One infrastructure.  The store does not interpret the texts. */
struct imc_store_infra {
  char id[IMC_INFRA_ID_MAX];
  int64_t created, updated; /* seconds since the epoch */
  bool deleted;             /* destroyed or exported with delete: kept for history, as IM */
  char *radl;               /* the document in IM's JSON form of RADL (radl_json_print) */
  char *extra;              /* the engine's own JSON: private networks, snapshots, flags */
  char **owners;            /* owner keys (the engine derives them from the IM auth entry) */
  size_t nowners;
};

/* Where a VM's creation stands. */
enum imc_launch_state { IMC_LAUNCH_INTENT, IMC_LAUNCH_DONE, IMC_LAUNCH_FAILED };

struct imc_store_vm {
  char infra_id[IMC_INFRA_ID_MAX];
  unsigned id;
  enum imc_launch_state launch;
  enum imc_vm_state state;
  bool destroyed; /* removed from the infrastructure; the row stays so ids are never reused */
  char *cloud_id, *cloud_type, *instance_id, *client_token;
  char *system; /* the concrete system, IM's JSON form of one RADL system */
  char *error;
};

/* Frees the strings inside (not the struct itself); safe on a zeroed struct. */
void imc_store_infra_cleanup(struct imc_store_infra *inf);
void imc_store_vm_cleanup(struct imc_store_vm *vm);
void imc_store_vms_free(struct imc_store_vm *vms, size_t n);

/* Opens (creating when needed) the store named by url: a path or "sqlite:///path" for SQLite,
 * "postgresql://..." or "postgres://..." (libpq's URI form) for PostgreSQL.
 * SQLite runs in WAL mode with synchronous=NORMAL: the crash model is a process crash, which
 * loses nothing committed.  The schema carries a version; a newer one than this build knows
 * is an error, an older one is migrated.  The store may be used from several threads. */
int imc_store_open(const char *url, struct imc_store **out, struct imc_err *err);
void imc_store_close(struct imc_store *st);

/* Groups writes into one durable step (the bench writes thousands of rows).  Calls nest:
 * only the outermost commit commits.  rollback undoes the outermost transaction. */
int imc_store_begin(struct imc_store *st, struct imc_err *err);
int imc_store_commit(struct imc_store *st, struct imc_err *err);
void imc_store_rollback(struct imc_store *st);

/* Inserts or replaces the infrastructure and its owner list. */
int imc_store_put_infra(struct imc_store *st, const struct imc_store_infra *inf,
                        struct imc_err *err);
/* Fills *out (caller cleans up); IMC_E_NOTFOUND when absent. */
int imc_store_get_infra(struct imc_store *st, const char *id, struct imc_store_infra *out,
                        struct imc_err *err);
/* Ids of the infrastructures with owner among their owners (NULL: all), in creation order,
 * deleted ones only when asked.  *ids: n strings, caller frees with imc_store_ids_free. */
int imc_store_list_infras(struct imc_store *st, const char *owner, bool include_deleted,
                          char ***ids, size_t *n, struct imc_err *err);
void imc_store_ids_free(char **ids, size_t n);

/* Inserts or replaces a VM row (key: infra_id, id). */
int imc_store_put_vm(struct imc_store *st, const struct imc_store_vm *vm, struct imc_err *err);
/* Every VM row of an infrastructure, destroyed ones included, by id. */
int imc_store_get_vms(struct imc_store *st, const char *infra_id, struct imc_store_vm **vms,
                      size_t *n, struct imc_err *err);
/* Every VM row, of any infrastructure, whose launch is still IMC_LAUNCH_INTENT. */
int imc_store_open_intents(struct imc_store *st, struct imc_store_vm **vms, size_t *n,
                           struct imc_err *err);

/* Contextualization logs: vm_id -1 is the infrastructure's own log.  Appends one chunk. */
int imc_store_append_log(struct imc_store *st, const char *infra_id, int vm_id, int64_t when,
                         const char *text, struct imc_err *err);
/* Appends the whole log, chunks in order, to out. */
int imc_store_get_log(struct imc_store *st, const char *infra_id, int vm_id, struct imc_buf *out,
                      struct imc_err *err);

/* --- values the engine keeps with the data ---------------------------------------------- */

/* *value (caller frees with imc_free) is the value of key; IMC_E_NOTFOUND when unset. */
int imc_store_get_meta(struct imc_store *st, const char *key, char **value, struct imc_err *err);
/* Sets key to value unless it is set already, and gives in *winner (caller frees) the value
 * that is stored now: processes racing to initialise a key all end up with the same value. */
int imc_store_init_meta(struct imc_store *st, const char *key, const char *value, char **winner,
                        struct imc_err *err);

/* --- one worker per infrastructure across processes ------------------------------------- */

/* Claims infrastructure id for this store handle, so that several processes sharing the data
 * never change one infrastructure at the same time (others still read it).  IMC_E_CONFLICT
 * when another handle (of this or another process) holds it.  Claims nest per handle.  A claim
 * ends with imc_store_unlock_infra, imc_store_close, or the end of its process: a process
 * killed with -9 leaves no claim behind that blocks the others. */
int imc_store_lock_infra(struct imc_store *st, const char *id, struct imc_err *err);
void imc_store_unlock_infra(struct imc_store *st, const char *id);

#endif
