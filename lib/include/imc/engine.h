/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine: IM's InfrastructureManager operations, one function each, taking the caller's
 * auth data (IM's auth lines: the InfrastructureManager entry says who calls, the others carry
 * one cloud's credentials each and are never stored).  imcd's XML-RPC methods and REST routes
 * and imc's local mode are thin translations of these calls.
 *
 * Infrastructures live in memory and in the store; every change is written before the call
 * returns, and before each cloud create call a launch intent is written, so a crashed process
 * loses nothing (see store.h).  Calls on one infrastructure that change it run one at a time;
 * reads never wait for them; different infrastructures proceed in parallel.
 *
 * Errors follow IM's: IMC_E_AUTH for missing or invalid IM credentials, IMC_E_FORBIDDEN for a
 * caller who does not own the infrastructure or a call BOOT_MODE disables, IMC_E_NOTFOUND for an
 * unknown or deleted infrastructure or VM, IMC_E_CONFLICT for a destroy while resources are
 * being added, IMC_E_INVAL for a bad document (with its file:line:col). */
#ifndef IMC_ENGINE_H
#define IMC_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/config.h"
#include "imc/connector.h"
#include "imc/err.h"
#include "imc/model.h"
#include "imc/store.h"
#include "imc/vm.h"

#define IMC_VERSION_STRING "1.19.2-imc-0.1.0" /* IM's API level, then imc's own version */

struct imc_engine;

/* Contextualization (configuring VMs over SSH with Ansible) plugs in here.  The engine calls
 * start when new VMs run (AddResource with context, Reconfigure, RemoveResource with context);
 * the contextualizer reports each VM's outcome with imc_engine_ctxt_done. */
struct imc_contextualizer {
  void *ctx;
  /* vm_ids: the VMs to configure (all when n is 0).  Must not block: runs the work elsewhere. */
  int (*start)(void *ctx, struct imc_engine *e, const char *infra_id, const unsigned *vm_ids,
               size_t n, const struct imc_auth *auth, struct imc_err *err);
  /* The infrastructure is destroyed: drop what was kept for it (its recorded host keys).  May
   * be NULL. */
  void (*forget)(void *ctx, const char *infra_id);
};

struct imc_engine_opts {
  const struct imc_config *config;               /* borrowed, must outlive the engine */
  const struct imc_connector *const *connectors; /* NULL-terminated, borrowed */
  struct imc_store *store;                       /* borrowed */
  /* Several processes share the store (PostgreSQL, or imc's local mode next to a background
   * worker): reads look at the store instead of trusting memory, and changes take the
   * store's per-infrastructure claim. */
  bool shared;
  /* NULL: VMs that need contextualization stay `running` with a log line that says it is not
   * available.  VMs of connectors with IMC_CAP_NO_CTXT (Dummy) and documents with
   * `contextualize ()` never need it and become `configured` at once, as in IM. */
  const struct imc_contextualizer *contextualizer;
};

/* Loads every infrastructure of the store and settles the launch intents that need no
 * credentials (see DECISIONS: the others wait for their owner's next call).  Starts the
 * background workers (config WORKERS). */
int imc_engine_open(const struct imc_engine_opts *opts, struct imc_engine **out,
                    struct imc_err *err);
/* Lets running background work finish, then stops the workers and frees everything.  Queued
 * async work that has not started stays recorded: its infrastructure's VMs were written as
 * launch intents or not at all. */
void imc_engine_close(struct imc_engine *e);

/* --- results ----------------------------------------------------------------------------- */

struct imc_strs {
  char **v;
  size_t n;
};
void imc_strs_free(struct imc_strs *s); /* frees the strings and the array; keeps s itself */

struct imc_vm_ids {
  unsigned *v;
  size_t n;
};
void imc_vm_ids_free(struct imc_vm_ids *ids);

struct imc_infra_state {
  enum imc_vm_state state; /* IM's aggregate */
  unsigned *vm_ids;        /* the VMs not removed, in id order, and their states */
  enum imc_vm_state *vm_states;
  size_t n;
};
void imc_infra_state_free(struct imc_infra_state *s);

/* IM's aggregate of VM states (InfrastructureManager.GetInfrastructureState): configured is
 * the flag of the infrastructure's contextualization (-1 none yet, 0 failed, 1 done). */
enum imc_vm_state imc_infra_state_aggregate(const enum imc_vm_state *states, size_t n,
                                            int configured, bool deleting);

/* --- infrastructures ------------------------------------------------------------------- */

/* Creates an infrastructure from doc (checked with radl_check) owned by the caller.  Sync: the
 * VMs are launched before it returns, and if every one failed the infrastructure is destroyed
 * and the launch errors are the answer.  Async: returns at once; the launch runs on a worker.
 * id receives the new id (a UUID). */
int imc_infra_create(struct imc_engine *e, const struct imc_doc *doc, const struct imc_auth *auth,
                     bool async, char id[IMC_INFRA_ID_MAX], struct imc_err *err);
/* Deletes every VM (last first) and marks the infrastructure deleted.  force: deleted even when
 * some cloud deletions fail.  async: returns once it is marked `deleting`. */
int imc_infra_destroy(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                      bool force, bool async, struct imc_err *err);
/* The caller's infrastructures in creation order; filter (may be NULL) is a POSIX extended
 * regular expression searched in each one's RADL text, as IM's re.search. */
int imc_infra_list(struct imc_engine *e, const struct imc_auth *auth, const char *filter,
                   struct imc_strs *ids, struct imc_err *err);
/* The ids of the VMs not removed. */
int imc_infra_info(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                   struct imc_vm_ids *vms, struct imc_err *err);
/* Refreshes each VM from its cloud (at most once per VM_INFO_UPDATE_FREQUENCY). */
int imc_infra_state(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                    struct imc_infra_state *out, struct imc_err *err);
/* The infrastructure's document (what was asked, merged over its life), without the
 * engine's internal systems.  Caller frees *out. */
int imc_infra_radl(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                   struct imc_doc **out, struct imc_err *err);
/* The contextualization log: the infrastructure's own, then (unless header_only) each VM's
 * after a "VM N:" line and followed by a line of asterisks, as IM.  Appends to out. */
int imc_infra_contmsg(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                      bool header_only, struct imc_buf *out, struct imc_err *err);
/* TOSCA outputs.  A RADL infrastructure has none: IMC_E_FORBIDDEN, as IM's REST API says. */
int imc_infra_outputs(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                      json_t **out, struct imc_err *err);
/* Adds the systems, networks and deploys of doc (references completed from the stored
 * document, IM's merge rules) and launches the new VMs; vms receives their ids.  context: run
 * the contextualization afterwards.  A document with no deploy only updates definitions. */
int imc_infra_add(struct imc_engine *e, const char *id, const struct imc_doc *doc,
                  const struct imc_auth *auth, bool context, struct imc_vm_ids *vms,
                  struct imc_err *err);
/* Deletes the VMs listed; *removed counts them. */
int imc_infra_remove(struct imc_engine *e, const char *id, const unsigned *vm_ids, size_t n,
                     const struct imc_auth *auth, bool context, unsigned *removed,
                     struct imc_err *err);
/* Starts, stops or reboots every VM (in parallel up to MAX_SIMULTANEOUS_LAUNCHES); the
 * errors of all VMs are gathered in one message. */
int imc_infra_power(struct imc_engine *e, const char *id, enum imc_power op,
                    const struct imc_auth *auth, struct imc_err *err);
/* Merges the configures and contextualize of doc (may be NULL) and contextualizes again the
 * VMs listed (all when n is 0). */
int imc_infra_reconfigure(struct imc_engine *e, const char *id, const struct imc_doc *doc,
                          const unsigned *vm_ids, size_t n, const struct imc_auth *auth,
                          struct imc_err *err);
/* The infrastructure as JSON (no owner, no credential) that imc_infra_import reads back, on
 * this server or another.  delete: it is then marked deleted here, its VMs left running. */
int imc_infra_export(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                     bool delete_it, struct imc_buf *out, struct imc_err *err);
int imc_infra_import(struct imc_engine *e, const char *text, size_t len,
                     const struct imc_auth *auth, char id[IMC_INFRA_ID_MAX], struct imc_err *err);
/* Adds the InfrastructureManager entry of new_auth as an owner, or with overwrite makes it the
 * only one. */
int imc_infra_change_auth(struct imc_engine *e, const char *id, const struct imc_auth *new_auth,
                          bool overwrite, const struct imc_auth *auth, struct imc_err *err);
/* The owners' user names. */
int imc_infra_owners(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                     struct imc_strs *names, struct imc_err *err);

/* --- VMs --------------------------------------------------------------------------------- */

/* The VM's document: its system (as its cloud reports it now) and the networks it uses. */
int imc_vm_info(struct imc_engine *e, const char *id, unsigned vm, const struct imc_auth *auth,
                struct imc_doc **out, struct imc_err *err);
/* A copy of one feature of the VM's system; IMC_E_NOTFOUND when it has none of that name. */
int imc_vm_property(struct imc_engine *e, const char *id, unsigned vm, const char *name,
                    const struct imc_auth *auth, struct imc_feature **out, struct imc_err *err);
int imc_vm_contmsg(struct imc_engine *e, const char *id, unsigned vm,
                   const struct imc_auth *auth, struct imc_buf *out, struct imc_err *err);
/* Resizes the VM from the features of doc's first system; *out is the VM's new document. */
int imc_vm_alter(struct imc_engine *e, const char *id, unsigned vm, const struct imc_doc *doc,
                 const struct imc_auth *auth, struct imc_doc **out, struct imc_err *err);
int imc_vm_power(struct imc_engine *e, const char *id, unsigned vm, enum imc_power op,
                 const struct imc_auth *auth, struct imc_err *err);
/* Snapshot of disk number disk; *image_url (caller frees) in the cloud's URL scheme.
 * auto_delete: the image goes when the infrastructure is destroyed. */
int imc_vm_snapshot(struct imc_engine *e, const char *id, unsigned vm, unsigned disk,
                    const char *image_name, bool auto_delete, const struct imc_auth *auth,
                    char **image_url, struct imc_err *err);

/* Reports the contextualization outcome of one VM (for contextualizers). */
int imc_engine_ctxt_done(struct imc_engine *e, const char *id, unsigned vm, bool ok,
                         const char *log, struct imc_err *err);
/* Appends text to the contextualization log of VM vm (-1: the infrastructure's own log) while
 * the work goes on, so GetVMContMsg shows steps as they happen. */
int imc_engine_ctxt_log(struct imc_engine *e, const char *id, int vm, const char *text,
                        struct imc_err *err);

/* --- clouds and the server ------------------------------------------------------------- */

/* The images of the cloud whose auth entry has id cloud_id; filters (may be NULL) are
 * connector-specific key=value pairs (an auth entry used as a dictionary). */
int imc_cloud_images(struct imc_engine *e, const char *cloud_id,
                     const struct imc_auth_entry *filters, const struct imc_auth *auth,
                     struct imc_image **images, size_t *n, struct imc_err *err);
int imc_cloud_quotas(struct imc_engine *e, const char *cloud_id, const struct imc_auth *auth,
                     struct imc_quota quotas[IMC_MAX_QUOTAS], size_t *n, struct imc_err *err);
/* IM's JSON of those answers: [{"uri": U, "name": N}, ...] (a missing name is "", bytes that
 * are not UTF-8 become '?') and {NAME: {"used": U, "limit": L}, ...}.  NULL when out of
 * memory; caller decrefs. */
json_t *imc_images_json(const struct imc_image *images, size_t n);
json_t *imc_quotas_json(const struct imc_quota *quotas, size_t n);
/* What doc would take, per cloud, without launching anything: IM's EstimateResources JSON
 * ({cloud_id: {cloudType, cloudEndpoint, compute: [...], storage: [...]}}).  Caller decrefs. */
int imc_estimate(struct imc_engine *e, const struct imc_doc *doc, const struct imc_auth *auth,
                 json_t **out, struct imc_err *err);

/* One VM of the infrastructure a plan is made against. */
struct imc_preview_vm {
  unsigned id;
  /* Its document as GetVMInfo gives it (borrowed): the system it was deployed from is the
   * document's last system, whose `provider.type` (and `provider.host`, when given) name the
   * cloud it runs on. */
  const struct imc_doc *info;
};

/* `imc plan`: what doc would do, with nothing launched, stored or changed anywhere; only the
 * clouds' read-only calls (concrete, list_images) run, as in imc_estimate.
 *
 * current NULL: doc creates a new infrastructure (CreateInfrastructure).  Otherwise current is
 * the infrastructure's document as GetInfrastructureRADL gives it and vms (nvms of them) its
 * VMs as GetInfrastructureInfo lists them, and doc is the desired state: references in doc
 * are completed from current (IM's complete_radl), and for each system the VMs to create are
 * the VMs doc deploys minus the VMs of that system now (taken from doc's first deploys of it,
 * so new VMs go where its last deploys say); a system with more VMs now than doc deploys
 * (none when doc does not deploy it) loses its newest VMs, as IM's RemoveResource of the
 * highest ids; a system whose definition in doc differs from current's lists the feature
 * changes and its VMs that stay (IM changes them with AlterVM, one VM at a time).  New VMs on
 * a private network that VMs of a known cloud already use go to that cloud, as AddResource.
 *
 * *out (caller decrefs), see doc/cli.md §plan:
 *   {"new_infrastructure": bool,
 *    "networks": [{"network", "action": "create"|"none"|"ignored", "public", "provider_id",
 *                  "outports": [{"protocol", "cidr", "remote_port", "local_port"} or
 *                               {"protocol", "cidr", "port_min", "port_max"}]}],
 *    "systems": [{"system", "action": "create"|"update"|"remove"|"none", "vms_now",
 *                 "vms_wanted", "create", "remove_vms": [newest first], "alter_vms",
 *                 "changes": [{"feature", "old", "new"}],
 *                 "deploys": [{"count", "group", "cloud": {"id", "type", "host"}, "image",
 *                              "flavour", "cpu", "memory_mb", "disk_gb",
 *                              "gpu": {"count", "vendor", "model"} or null}]}],
 *    "summary": {"create", "change", "remove"}}   (counts of VMs)
 * Errors: those of caller_identify (IMC_E_AUTH), a document error (IMC_E_INVAL, with
 * FILE:LINE:COL), plan_make's (IMC_E_CLOUD "No cloud provider available: ..." naming why each
 * cloud does not fit, IMC_E_AUTH when the auth data has no cloud this build serves). */
int imc_preview(struct imc_engine *e, const struct imc_doc *doc, const struct imc_doc *current,
                const struct imc_preview_vm *vms, size_t nvms, const struct imc_auth *auth,
                json_t **out, struct imc_err *err);
/* IM's GetStats: one object per infrastructure of the caller (of everyone for an admin)
 * created between the dates ("YYYY-MM-DD"; NULL: unbounded), deleted ones included. */
int imc_stats(struct imc_engine *e, const char *init_date, const char *end_date,
              const struct imc_auth *auth, json_t **out, struct imc_err *err);
const char *imc_engine_version(void);

/* What a server's metrics show, without any cloud call: the infrastructures not deleted by
 * IM's aggregate state and their VMs (not removed) by state, as this process last saw them,
 * and the asynchronous calls waiting for a worker or running. */
struct imc_engine_counts {
  size_t infras[IMC_VM_NSTATES];
  size_t vms[IMC_VM_NSTATES];
  size_t jobs_queued, jobs_running;
  size_t ctxt_running; /* VMs this process's contextualizer is configuring */
};
int imc_engine_counts(struct imc_engine *e, struct imc_engine_counts *out, struct imc_err *err);

#endif
