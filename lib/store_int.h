/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal: the store's table of operations, the state every backend shares, and the helpers
 * store.c offers the backends (store_sqlite.c, store_pg.c).
 *
 * store.c owns what must behave the same on every backend: argument checks, the mutex, the
 * begin/commit nesting and the per-handle nesting of infrastructure claims.  A backend only
 * talks to its database. */
#ifndef IMC_STORE_INT_H
#define IMC_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "imc/err.h"
#include "imc/store.h"

/* One infrastructure this handle has claimed; count 0 with the claim still held means "give
 * it back when the open transaction ends". */
struct store_claim {
  char id[IMC_INFRA_ID_MAX];
  unsigned count;
};

/* Every operation runs with st->lock held.  Arguments are checked by store.c already; the
 * "out" parameters start zeroed / NULL and store.c frees what they hold on failure. */
struct store_ops {
  /* Gives back every claim, closes the connection, store_base_cleanup(st), frees st.  Called
   * with no transaction open and the mutex not held. */
  void (*close)(struct imc_store *st);
  /* The outermost BEGIN and COMMIT; abort ends the open transaction, if the database still
   * has one (a failed statement may have ended it). */
  int (*begin)(struct imc_store *st, struct imc_err *err);
  int (*commit)(struct imc_store *st, struct imc_err *err);
  void (*abort)(struct imc_store *st);
  /* Inside a transaction store.c opened: the row, then the owner list. */
  int (*put_infra)(struct imc_store *st, const struct imc_store_infra *inf, struct imc_err *err);
  /* Fills everything but inf->id, which store.c set. */
  int (*get_infra)(struct imc_store *st, struct imc_store_infra *inf, struct imc_err *err);
  int (*list_infras)(struct imc_store *st, const char *owner, bool include_deleted, char ***ids,
                     size_t *n, struct imc_err *err);
  int (*put_vm)(struct imc_store *st, const struct imc_store_vm *vm, struct imc_err *err);
  int (*get_vms)(struct imc_store *st, const char *infra_id, struct imc_store_vm **vms, size_t *n,
                 struct imc_err *err);
  int (*open_intents)(struct imc_store *st, struct imc_store_vm **vms, size_t *n,
                      struct imc_err *err);
  int (*append_log)(struct imc_store *st, const char *infra_id, int vm_id, int64_t when,
                    const char *text, struct imc_err *err);
  int (*get_log)(struct imc_store *st, const char *infra_id, int vm_id, struct imc_buf *out,
                 struct imc_err *err);
  int (*get_meta)(struct imc_store *st, const char *key, char **value, struct imc_err *err);
  int (*init_meta)(struct imc_store *st, const char *key, const char *value, char **winner,
                   struct imc_err *err);
  /* The first claim of id by this handle (never inside a transaction): IMC_E_CONFLICT when
   * another handle holds it.  release gives it back; a failure there has no one to tell, and
   * the claim ends with the handle or the process anyway. */
  int (*claim)(struct imc_store *st, const char *id, struct imc_err *err);
  void (*release)(struct imc_store *st, const char *id);
};

/* The first member of every backend's own struct. */
struct imc_store {
  const struct store_ops *ops;
  pthread_mutex_t lock; /* recursive: held by the thread inside a transaction */
  unsigned depth;       /* begin/commit nesting of that thread */
  bool doomed;          /* an inner level rolled back, or a statement failed: roll back */
  struct store_claim *claims;
  size_t nclaims, claims_cap;
};

int store_base_init(struct imc_store *st, const struct store_ops *ops, struct imc_err *err);
void store_base_cleanup(struct imc_store *st);

/* Opens the SQLite store at path (a file name, used as given; never a URI). */
int store_sqlite_open(const char *path, struct imc_store **out, struct imc_err *err);
/* Opens the PostgreSQL store at url (libpq's URI form, handed to libpq as given). */
int store_pg_open(const char *url, struct imc_store **out, struct imc_err *err);

/* --- helpers for the backends (store.c) ------------------------------------------------- */

/* Launch states are stored by name ("intent", "done", "failed"), so that the data reads well
 * and does not depend on the enum's order.  parse: the launch named text, or -1. */
const char *store_launch_name(enum imc_launch_state l);
int store_launch_parse(const char *text);

/* The VM's string fields in column order (cloud_id .. error): STORE_VM_NSTR of them. */
#define STORE_VM_NSTR 6
char **store_vm_str(struct imc_store_vm *vm, size_t i);

/* Fill a VM read back from the database; where names the store in messages (a SQLite path or
 * the scheme, never a URL).  set_infra_id: IMC_E_INTERNAL when id is empty or too long.
 * set_names: vm->launch and vm->state from their names; IMC_E_INTERNAL naming a bad one. */
int store_vm_set_infra_id(struct imc_store_vm *vm, const char *id, size_t n, const char *where,
                          struct imc_err *err);
int store_vm_set_names(struct imc_store_vm *vm, const char *launch, const char *state,
                       const char *where, struct imc_err *err);

/* --- processes (store_sqlite_proc.c) ---------------------------------------------------- */

/* The start time of process pid (field 22 of /proc/PID/stat, clock ticks since boot). */
int store_proc_start(pid_t pid, int64_t *started);
/* Whether process pid, which started at started, still runs: false when it is gone or its
 * pid now names a newer process. */
bool store_proc_alive(pid_t pid, int64_t started);

#endif
