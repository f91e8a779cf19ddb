/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal to the engine files (engine*.c, caller.c, deploy.c, ops_*.c, persist.c, pool.c).
 *
 * Locking, from outside in:
 *   infra "op" claim (busy flag + condition): one changing operation per infrastructure at a
 *     time, held for the whole operation (a deployment may take minutes); reads never take it.
 *   infra->save_mu: orders the writes of one infrastructure to the store, so the last
 *     snapshot taken is the last one written.
 *   infra->mu: guards the fields of the infrastructure and its VMs; held for copies only,
 *     never across a cloud call or a store write.
 *   engine->mu: guards the list of infrastructures and its index; innermost. */
#ifndef IMC_ENGINE_INT_H
#define IMC_ENGINE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imc/engine.h"
#include "imc/index.h"
#include "imc/pool.h"

#define ENGINE_SALT_KEY "owner_salt" /* store meta key of the owner-key salt */
#define OWNER_KEY_MAX 400            /* "name\t" + 64 hex digits; names are bounded by it */
#define CTXT_NONE -1                 /* contextualization flag: not run or not finished */
#define AUTO_CLOUD_PREFIX_MAX 64

/* A VM as the engine keeps it.  The struct imc_vm is replaced, not edited, when a cloud call
 * returns a new copy, so a reader that copied what it needed under infra->mu is never hurt. */
struct evm {
  struct imc_vm *vm;
  enum imc_launch_state launch;
  bool destroyed;
  bool in_flight;         /* a launch or a delete of this process is working on it */
  int ctxt;               /* CTXT_NONE, 0 failed, 1 configured */
  bool ctxt_here;         /* this process's contextualizer is on it: memory is ahead of the store */
  unsigned gen;           /* bumped whenever vm is replaced or its record changes */
  int64_t updated_at;     /* last look at the cloud (seconds) */
  int64_t unreachable_at; /* first failed look since the last good one; 0 when none */
};

struct infra {
  char id[IMC_INFRA_ID_MAX];
  pthread_mutex_t mu, save_mu;
  pthread_cond_t idle;
  unsigned refs; /* guarded by engine->mu */
  bool busy;     /* the op claim, guarded by mu */

  int64_t created, updated;
  bool deleted, deleting, adding;
  int configured; /* CTXT_NONE, 0, 1: IM's inf.configured */
  struct imc_doc *doc; /* NULL once deleted */
  struct evm *vms;     /* by id: vms[i].vm->id == i */
  size_t nvms, cap_vms;
  char **owners; /* owner keys */
  size_t nowners;
  json_t *private_nets; /* {network id: cloud id}: where later VMs on that network must go */
  json_t *snapshots;    /* [{"url", "cloud_id", "cloud_type"}] to delete with the infra */
  /* {"private", "public"}: the infrastructure's own SSH key pair (IM's agent key), made at its
   * first launch of a VM that gets contextualized; NULL until then. */
  json_t *ssh_key;
  /* {"VM id": {"host", "pid", "started"}}: VMs whose contextualization a process runs, so that
   * one that died (kill -9) is seen and its VMs are not left `running` forever. */
  json_t *ctxt_runs;
  unsigned ctxt_here; /* its VMs with ctxt_here set; while not 0, reload() keeps memory */
};

/* Who calls: IM's check_auth_data. */
struct caller {
  char **keys;  /* one owner key per InfrastructureManager entry */
  char **names; /* their user names */
  size_t n;
  bool admin;
};


struct imc_engine {
  const struct imc_config *cfg;
  const struct imc_connector *const *connectors;
  struct imc_store *store;
  bool shared;
  const struct imc_contextualizer *ctxr;
  char salt[65];
  char **admin_keys; /* owner keys of ADMIN_USER */
  size_t nadmins;

  pthread_mutex_t mu;
  struct infra **infras; /* creation order; deleted ones stay as tombstones */
  size_t ninfras, cap_infras;
  struct imc_index index; /* infras by id */
  struct imc_pool *pool;
};

/* --- engine.c: the list of infrastructures ------------------------------------------------ */
int64_t engine_now(void);
struct infra *infra_new(const char *id);
void infra_free(struct infra *inf);
/* Frees the document and the VMs (a deleted infrastructure keeps only its record); under mu. */
void infra_free_contents(struct infra *inf);
/* Exchanges what the store holds of inf with fresh (a reload); takes inf->mu. */
void infra_swap_contents(struct infra *inf, struct infra *fresh);
/* Adds inf (a new reference is taken) to the list.  0 or IMC_E_NOMEM. */
int engine_add(struct imc_engine *e, struct infra *inf, struct imc_err *err);
/* The infrastructure id for c: IM's errors for unknown, not owned and deleted ones.
 * Infrastructures stay in the list until the engine closes, so the pointer stays valid. */
int engine_get(struct imc_engine *e, const char *id, const struct caller *c, struct infra **out,
               struct imc_err *err);
/* The infrastructure id whoever asks, NULL when unknown. */
struct infra *engine_find(struct imc_engine *e, const char *id);
enum enter_kind { ENTER_READ, ENTER_CHANGE, ENTER_DELETE };
/* The start of every call on one infrastructure: BOOT_MODE for changes, who calls, and the
 * infrastructure with IM's access rules. */
int engine_enter(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                 enum enter_kind kind, struct infra **inf, struct imc_err *err);
/* engine_enter for a read about one VM, which must exist and not be removed. */
int engine_enter_vm(struct imc_engine *e, const char *id, unsigned vm,
                    const struct imc_auth *auth, struct infra **inf, struct imc_err *err);
/* Takes and releases the op claim (and, when shared, the store's claim). */
int infra_begin_op(struct imc_engine *e, struct infra *inf, struct imc_err *err);
void infra_end_op(struct imc_engine *e, struct infra *inf);
/* IMC_E_FORBIDDEN "Function currently disabled." when BOOT_MODE forbids a change (delete:
 * the call only deletes, which BOOT_MODE 2 allows). */
int engine_check_boot_mode(const struct imc_engine *e, bool delete_only, struct imc_err *err);
/* The connector serving a type, NULL when none. */
const struct imc_connector *engine_connector(const struct imc_engine *e, const char *type);
void engine_new_id(char id[IMC_INFRA_ID_MAX]);

/* --- caller.c ------------------------------------------------------------------------------- */
int caller_identify(const struct imc_engine *e, const struct imc_auth *auth, struct caller *out,
                    struct imc_err *err);
void caller_cleanup(struct caller *c);
bool caller_owns(const struct caller *c, const struct infra *inf);
/* Makes c's users the owners of a new infrastructure.  0 or IMC_E_NOMEM. */
int caller_set_owners(const struct caller *c, struct infra *inf);
/* The owner key of a user (hex SHA-256 of the salt, name and password after the name). */
int owner_key(const char *salt, const char *name, const char *password, char **out);
/* The name part of an owner key (a new string), NULL when out of memory. */
char *owner_key_name(const char *key);

/* --- persist.c: infrastructures and VMs to and from the store ------------------------------ */
int persist_infra(struct imc_engine *e, struct infra *inf, struct imc_err *err);
int persist_vm(struct imc_engine *e, struct infra *inf, unsigned vm_id, struct imc_err *err);
int persist_all(struct imc_engine *e, struct infra *inf, struct imc_err *err);
/* Reads infrastructure id with its VMs into a new struct infra. */
int persist_load(struct imc_engine *e, const char *id, struct infra **out, struct imc_err *err);
/* Appends a line to the log of the infrastructure (vm -1) or of a VM, with IM's time stamp. */
void persist_log(struct imc_engine *e, const char *id, int vm, const char *fmt, ...)
  IMC_PRINTF(4, 5);
/* One system as IM's JSON RADL, and back (a new element). */
int persist_system_json(const struct imc_elem *system, char **out, struct imc_err *err);
int persist_system_parse(const char *text, struct imc_elem **out, struct imc_err *err);

/* --- vms.c: the VM list of an infrastructure ------------------------------------------------ */
/* The state IM shows for a VM: the cloud's, rewritten by the contextualization outcome. */
enum imc_vm_state evm_state(const struct evm *v);
/* Appends a VM (taking vm) and returns its id.  Under inf->mu. */
int infra_append_vm(struct infra *inf, struct imc_vm *vm, enum imc_launch_state launch,
                    unsigned *id, struct imc_err *err);
/* A deep copy of a VM, NULL when out of memory. */
struct imc_vm *vm_clone(const struct imc_vm *vm);
/* Replaces v's VM by c (taken) when v still holds the VM the copy was made from (gen); under
 * mu.  False when c was dropped. */
bool evm_replace(struct evm *v, unsigned gen, struct imc_vm *c);
/* VMs neither destroyed nor failed, and destroyed VMs; under mu. */
size_t infra_live_vms(const struct infra *inf);
size_t infra_destroyed(const struct infra *inf);
/* The ids of the VMs not removed, in order; takes mu. */
int infra_vm_ids(struct infra *inf, struct imc_vm_ids *out, struct imc_err *err);
/* IM's get_vm: "Invalid VM ID" for an unknown id, "Deleted VM." for a removed one; under mu. */
int vm_check(const struct infra *inf, unsigned vm, struct imc_err *err);
/* Starts, stops or reboots one VM and saves its new state. */
int vm_power_one(struct imc_engine *e, struct infra *inf, unsigned id, enum imc_power op,
                 const struct imc_auth *auth, struct imc_err *err);
/* A context of conn opened with auth; cloud_close frees it (NULL is fine). */
int cloud_open(const struct imc_connector *conn, const struct imc_auth_entry *auth, void **ctx,
               struct imc_err *err);
void cloud_close(const struct imc_connector *conn, void *ctx);
/* The cloud entry of auth with that cloud id (its id, or TYPE + position), NULL if none. */
const struct imc_auth_entry *auth_for_cloud(const struct imc_auth *auth, const char *cloud_id);
/* The auth entry for a VM's cloud: the entry with its cloud id, else the first of its type;
 * an empty entry for connectors that need no credentials.  NULL when the caller brought none. */
const struct imc_auth_entry *vm_auth(const struct imc_engine *e, const struct imc_auth *auth,
                                     const struct imc_vm *vm);
/* Refreshes the VMs of inf from their clouds (rate-limited), settles open launch intents
 * whose cloud the caller brought, and saves what changed. */
int infra_refresh(struct imc_engine *e, struct infra *inf, const struct imc_auth *auth,
                  const unsigned *only, size_t n, struct imc_err *err);
/* Deletes the VMs listed (ids) from their clouds, last first, in parallel up to
 * MAX_SIMULTANEOUS_LAUNCHES; marks each deleted one destroyed.  Messages of the failures are
 * joined in err (IMC_E_CLOUD). */
int infra_delete_vms(struct imc_engine *e, struct infra *inf, const unsigned *ids, size_t n,
                     const struct imc_auth *auth, struct imc_err *err);

/* --- deploy.c: AddResource ----------------------------------------------------------------- */
/* Merges rq into the infrastructure and launches its deploys.  new_vms: the ids made (failed
 * ones included). */
int deploy_add(struct imc_engine *e, struct infra *inf, const struct imc_doc *rq,
               const struct imc_auth *auth, bool context, struct imc_vm_ids *new_vms,
               struct imc_err *err);
/* EstimateResources: the plan for doc as IM's JSON. */
int deploy_estimate(struct imc_engine *e, const struct imc_doc *doc, const struct imc_auth *auth,
                    json_t **out, struct imc_err *err);
/* Starts the contextualization of the VMs listed (all when n is 0), or marks them configured
 * when nothing needs it. */
int ctxt_start(struct imc_engine *e, struct infra *inf, const unsigned *ids, size_t n,
               const struct imc_auth *auth, struct imc_err *err);
/* At open: the VMs of contextualization runs whose process (on this machine) is gone become
 * unconfigured, with a log line that says so. */
void ctxt_settle_stopped(struct imc_engine *e);

/* auth copies for background work */
int auth_copy(const struct imc_auth *src, struct imc_auth *dst);

#endif
