/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store's backend-independent parts: the URL, freeing what the store hands out, argument
 * checks, and the state every backend shares (the mutex, transaction nesting, claims).  Each
 * public function checks its arguments, takes the mutex and calls the backend's operation.
 *
 * The mutex is recursive and held from begin to the outermost commit, so that a transaction
 * sees no other thread's writes and no other thread's rollback undoes them. */
#include "imc/store.h"
#include "imc/alloc.h"
#include "store_int.h"

#include <string.h>

/* How a URL names its backend; a string with no "://" is a SQLite path. */
static const struct {
  const char *prefix;
  bool strip; /* the backend gets what follows the prefix (SQLite: the path) */
  int (*open)(const char *arg, struct imc_store **out, struct imc_err *err);
} schemes[] = {
  {"sqlite://", true, store_sqlite_open},
  {"postgresql://", false, store_pg_open},
  {"postgres://", false, store_pg_open},
};

#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static const char *const launch_names[] = {
  [IMC_LAUNCH_INTENT] = "intent",
  [IMC_LAUNCH_DONE] = "done",
  [IMC_LAUNCH_FAILED] = "failed",
};

#define NLAUNCH (sizeof launch_names / sizeof launch_names[0])

/* --- what the store hands out ----------------------------------------------------------- */

void imc_store_infra_cleanup(struct imc_store_infra *inf)
{
  imc_free_secret(inf->radl); /* the document may carry passwords of the systems */
  imc_free_secret(inf->extra);
  imc_store_ids_free(inf->owners, inf->nowners);
  inf->radl = inf->extra = NULL;
  inf->owners = NULL;
  inf->nowners = 0;
}

void imc_store_vm_cleanup(struct imc_store_vm *vm)
{
  for (size_t i = 0; i < STORE_VM_NSTR; i++) {
    imc_free_secret(*store_vm_str(vm, i));
    *store_vm_str(vm, i) = NULL;
  }
}

void imc_store_vms_free(struct imc_store_vm *vms, size_t n)
{
  if (!vms)
    return;
  for (size_t i = 0; i < n; i++)
    imc_store_vm_cleanup(&vms[i]);
  imc_free(vms);
}

void imc_store_ids_free(char **ids, size_t n)
{
  if (!ids)
    return;
  for (size_t i = 0; i < n; i++)
    imc_free(ids[i]);
  imc_free(ids);
}

/* --- helpers for the backends ------------------------------------------------------------ */

const char *store_launch_name(enum imc_launch_state l)
{
  return launch_names[l];
}

int store_launch_parse(const char *text)
{
  for (size_t i = 0; i < NLAUNCH; i++)
    if (strcmp(launch_names[i], text) == 0)
      return (int)i;
  return -1;
}

/* In column order; the count must match STORE_VM_NSTR. */
static const size_t vm_str_fields[] = {
  offsetof(struct imc_store_vm, cloud_id),    offsetof(struct imc_store_vm, cloud_type),
  offsetof(struct imc_store_vm, instance_id), offsetof(struct imc_store_vm, client_token),
  offsetof(struct imc_store_vm, system),      offsetof(struct imc_store_vm, error),
};

_Static_assert(sizeof vm_str_fields / sizeof vm_str_fields[0] == STORE_VM_NSTR,
               "STORE_VM_NSTR names every string field");

char **store_vm_str(struct imc_store_vm *vm, size_t i)
{
  return (char **)(void *)((char *)vm + vm_str_fields[i]);
}

int store_vm_set_infra_id(struct imc_store_vm *vm, const char *id, size_t n, const char *where,
                          struct imc_err *err)
{
  if (!id || n == 0 || n >= IMC_INFRA_ID_MAX)
    return imc_fail(err, IMC_E_INTERNAL, "store %s: VM row with a bad infrastructure id", where);
  memcpy(vm->infra_id, id, n);
  vm->infra_id[n] = '\0';
  return 0;
}

int store_vm_set_names(struct imc_store_vm *vm, const char *launch, const char *state,
                       const char *where, struct imc_err *err)
{
  int l = launch ? store_launch_parse(launch) : -1, v = state ? imc_vm_state_parse(state) : -1;

  if (l < 0 || v < 0)
    return imc_fail(err, IMC_E_INTERNAL, "store %s: VM %s/%u has an unknown %s '%.32s'", where,
                    vm->infra_id, vm->id, l < 0 ? "launch" : "state",
                    l < 0 ? (launch ? launch : "") : (state ? state : ""));
  vm->launch = (enum imc_launch_state)l;
  vm->state = (enum imc_vm_state)v;
  return 0;
}

int store_base_init(struct imc_store *st, const struct store_ops *ops, struct imc_err *err)
{
  pthread_mutexattr_t attr;
  int r;

  st->ops = ops;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  r = pthread_mutex_init(&st->lock, &attr);
  pthread_mutexattr_destroy(&attr);
  if (r != 0)
    return imc_fail(err, IMC_E_INTERNAL, "store: cannot create a mutex");
  return 0;
}

void store_base_cleanup(struct imc_store *st)
{
  pthread_mutex_destroy(&st->lock);
  imc_free(st->claims);
  st->claims = NULL;
  st->nclaims = st->claims_cap = 0;
}

/* --- open and close ---------------------------------------------------------------------- */

int imc_store_open(const char *url, struct imc_store **out, struct imc_err *err)
{
  const char *sep;

  *out = NULL;
  if (!url || !*url)
    return imc_fail(err, IMC_E_INVAL, "store: empty store URL");
  for (size_t i = 0; i < NSCHEMES; i++) {
    size_t n = strlen(schemes[i].prefix);

    if (strncmp(url, schemes[i].prefix, n) != 0)
      continue;
    if (schemes[i].strip && url[n] != '/')
      /* Not the URL itself: DATA_DB is a secret setting. */
      return imc_fail(err, IMC_E_INVAL, "store: expected sqlite:///absolute/path after sqlite://");
    return schemes[i].open(schemes[i].strip ? url + n : url, out, err);
  }
  if ((sep = strstr(url, "://")) != NULL)
    /* Only the scheme goes into the message: the rest of a URL may hold a password. */
    return imc_fail(err, IMC_E_INVAL,
                    "store: unsupported store URL scheme '%.*s' (sqlite:///PATH, a path, "
                    "or postgresql://...)",
                    (int)(sep - url < 32 ? sep - url : 32), url);
  return store_sqlite_open(url, out, err);
}

static void lock(struct imc_store *st)
{
  pthread_mutex_lock(&st->lock);
}

static void unlock(struct imc_store *st)
{
  pthread_mutex_unlock(&st->lock);
}

void imc_store_close(struct imc_store *st)
{
  if (!st)
    return;
  if (st->depth > 0)
    st->ops->abort(st); /* a transaction left open: nothing of it was committed */
  /* imc_store_begin keeps one lock level per open transaction level: give them back before
   * the mutex is destroyed (destroying a locked mutex is undefined). */
  for (; st->depth > 0; st->depth--)
    unlock(st);
  st->ops->close(st);
}

/* --- claims (lock held) ------------------------------------------------------------------ */

static struct store_claim *find_claim(struct imc_store *st, const char *id)
{
  for (size_t i = 0; i < st->nclaims; i++)
    if (strcmp(st->claims[i].id, id) == 0)
      return &st->claims[i];
  return NULL;
}

static void drop_claim(struct imc_store *st, struct store_claim *c)
{
  st->ops->release(st, c->id);
  *c = st->claims[--st->nclaims];
}

/* Claims whose last unlock came inside the transaction that just ended. */
static void release_deferred(struct imc_store *st)
{
  for (size_t i = st->nclaims; i-- > 0;)
    if (st->claims[i].count == 0)
      drop_claim(st, &st->claims[i]);
}

/* --- transactions (lock held) ------------------------------------------------------------ */

static int tx_begin(struct imc_store *st, struct imc_err *err)
{
  if (st->depth == 0) {
    int r = st->ops->begin(st, err);

    if (r)
      return r;
    st->doomed = false;
  }
  st->depth++;
  return 0;
}

static void tx_rollback(struct imc_store *st)
{
  if (--st->depth > 0) {
    st->doomed = true;
    return;
  }
  st->ops->abort(st);
  release_deferred(st);
}

static int tx_commit(struct imc_store *st, struct imc_err *err)
{
  int r = 0;

  if (--st->depth > 0)
    return 0;
  if (st->doomed) {
    st->ops->abort(st);
    r = imc_fail(err, IMC_E_IO, "store: commit: a nested transaction was rolled back or failed");
  } else if ((r = st->ops->commit(st, err)) != 0) {
    st->ops->abort(st);
  }
  release_deferred(st);
  return r;
}

/* begin takes the lock and keeps it until the outermost commit or rollback releases it. */
int imc_store_begin(struct imc_store *st, struct imc_err *err)
{
  int r;

  lock(st);
  if ((r = tx_begin(st, err)) != 0)
    unlock(st);
  return r;
}

int imc_store_commit(struct imc_store *st, struct imc_err *err)
{
  int r;

  lock(st);
  if (st->depth == 0) {
    unlock(st);
    return imc_fail(err, IMC_E_INTERNAL, "store: commit without begin");
  }
  r = tx_commit(st, err);
  unlock(st);
  unlock(st); /* the level taken by imc_store_begin */
  return r;
}

void imc_store_rollback(struct imc_store *st)
{
  lock(st);
  if (st->depth == 0) {
    unlock(st);
    return;
  }
  tx_rollback(st);
  unlock(st);
  unlock(st);
}

/* --- infrastructures --------------------------------------------------------------------- */

static int check_id(const char *id, struct imc_err *err)
{
  size_t n = id ? strnlen(id, IMC_INFRA_ID_MAX) : 0;

  if (n == 0 || n == IMC_INFRA_ID_MAX)
    return imc_fail(err, IMC_E_INVAL, "store: infrastructure id empty or too long");
  return 0;
}

int imc_store_put_infra(struct imc_store *st, const struct imc_store_infra *inf,
                        struct imc_err *err)
{
  int r;

  if ((r = check_id(inf->id, err)) != 0)
    return r;
  if (inf->nowners && !inf->owners)
    return imc_fail(err, IMC_E_INVAL, "store: %s: owner list missing", inf->id);
  for (size_t i = 0; i < inf->nowners; i++)
    if (!inf->owners[i])
      return imc_fail(err, IMC_E_INVAL, "store: %s: owner %zu missing", inf->id, i);
  if ((r = imc_store_begin(st, err)) != 0) /* holds the lock until commit or rollback */
    return r;
  if ((r = st->ops->put_infra(st, inf, err)) != 0) {
    imc_store_rollback(st);
    return r;
  }
  return imc_store_commit(st, err);
}

int imc_store_get_infra(struct imc_store *st, const char *id, struct imc_store_infra *out,
                        struct imc_err *err)
{
  struct imc_store_infra inf = {0};
  size_t n = strnlen(id, IMC_INFRA_ID_MAX);
  int r;

  if (n == IMC_INFRA_ID_MAX) /* never stored: put_infra refuses such ids */
    return imc_fail(err, IMC_E_NOTFOUND, "infrastructure %.*s... not found", 40, id);
  memcpy(inf.id, id, n + 1);
  lock(st);
  r = st->ops->get_infra(st, &inf, err);
  unlock(st);
  if (r) {
    imc_store_infra_cleanup(&inf);
    return r;
  }
  *out = inf;
  return 0;
}

int imc_store_list_infras(struct imc_store *st, const char *owner, bool include_deleted,
                          char ***ids, size_t *n, struct imc_err *err)
{
  char **list = NULL;
  size_t count = 0;
  int r;

  *ids = NULL;
  *n = 0;
  lock(st);
  r = st->ops->list_infras(st, owner, include_deleted, &list, &count, err);
  unlock(st);
  if (r) {
    imc_store_ids_free(list, count);
    return r;
  }
  *ids = list;
  *n = count;
  return 0;
}

/* --- VMs --------------------------------------------------------------------------------- */

int imc_store_put_vm(struct imc_store *st, const struct imc_store_vm *vm, struct imc_err *err)
{
  int r;

  if ((r = check_id(vm->infra_id, err)) != 0)
    return r;
  if ((unsigned)vm->launch >= NLAUNCH || (unsigned)vm->state >= IMC_VM_NSTATES)
    return imc_fail(err, IMC_E_INVAL, "store: VM %s/%u: bad launch or state", vm->infra_id, vm->id);
  lock(st);
  r = st->ops->put_vm(st, vm, err);
  unlock(st);
  return r;
}

/* Runs get_vms (key: the infrastructure) or open_intents (key NULL). */
static int select_vms(struct imc_store *st, const char *key, struct imc_store_vm **vms, size_t *n,
                      struct imc_err *err)
{
  struct imc_store_vm *list = NULL;
  size_t count = 0;
  int r;

  *vms = NULL;
  *n = 0;
  lock(st);
  if (key)
    r = st->ops->get_vms(st, key, &list, &count, err);
  else
    r = st->ops->open_intents(st, &list, &count, err);
  unlock(st);
  if (r) {
    imc_store_vms_free(list, count);
    return r;
  }
  *vms = list;
  *n = count;
  return 0;
}

int imc_store_get_vms(struct imc_store *st, const char *infra_id, struct imc_store_vm **vms,
                      size_t *n, struct imc_err *err)
{
  return select_vms(st, infra_id, vms, n, err);
}

int imc_store_open_intents(struct imc_store *st, struct imc_store_vm **vms, size_t *n,
                           struct imc_err *err)
{
  return select_vms(st, NULL, vms, n, err);
}

/* --- logs -------------------------------------------------------------------------------- */

int imc_store_append_log(struct imc_store *st, const char *infra_id, int vm_id, int64_t when,
                         const char *text, struct imc_err *err)
{
  int r;

  if ((r = check_id(infra_id, err)) != 0)
    return r;
  if (!text)
    return imc_fail(err, IMC_E_INVAL, "store: append log: no text");
  lock(st);
  r = st->ops->append_log(st, infra_id, vm_id, when, text, err);
  unlock(st);
  return r;
}

int imc_store_get_log(struct imc_store *st, const char *infra_id, int vm_id, struct imc_buf *out,
                      struct imc_err *err)
{
  int r;

  lock(st);
  r = st->ops->get_log(st, infra_id, vm_id, out, err);
  unlock(st);
  return r;
}

/* --- meta -------------------------------------------------------------------------------- */

int imc_store_get_meta(struct imc_store *st, const char *key, char **value, struct imc_err *err)
{
  char *v = NULL;
  int r;

  *value = NULL;
  if (!key || !*key)
    return imc_fail(err, IMC_E_INVAL, "store: get meta: empty key");
  lock(st);
  r = st->ops->get_meta(st, key, &v, err);
  unlock(st);
  if (r) {
    imc_free(v);
    return r;
  }
  *value = v;
  return 0;
}

int imc_store_init_meta(struct imc_store *st, const char *key, const char *value, char **winner,
                        struct imc_err *err)
{
  char *v = NULL;
  int r;

  *winner = NULL;
  if (!key || !*key || !value)
    return imc_fail(err, IMC_E_INVAL, "store: init meta: empty key or no value");
  lock(st);
  r = st->ops->init_meta(st, key, value, &v, err);
  unlock(st);
  if (r) {
    imc_free(v);
    return r;
  }
  *winner = v;
  return 0;
}

/* --- claims ------------------------------------------------------------------------------ */

/* A claim taken inside a transaction would be undone by its rollback on SQLite (the claim is
 * a row there) and not on PostgreSQL (a session lock): both backends refuse it, so that they
 * behave alike.  A nested claim changes only the count and is always allowed. */
static int claim_locked(struct imc_store *st, const char *id, struct imc_err *err)
{
  struct store_claim *c = find_claim(st, id);
  int r;

  if (c) {
    c->count++;
    return 0;
  }
  if (st->depth > 0)
    return imc_fail(err, IMC_E_INTERNAL, "store: infrastructure %s claimed inside a transaction",
                    id);
  if (imc_grow((void **)&st->claims, &st->claims_cap, st->nclaims + 1, sizeof *st->claims) != 0)
    return imc_fail(err, IMC_E_NOMEM, "store: claim %s: out of memory", id);
  if ((r = st->ops->claim(st, id, err)) != 0)
    return r;
  c = &st->claims[st->nclaims++];
  memcpy(c->id, id, strlen(id) + 1);
  c->count = 1;
  return 0;
}

int imc_store_lock_infra(struct imc_store *st, const char *id, struct imc_err *err)
{
  int r;

  if ((r = check_id(id, err)) != 0)
    return r;
  lock(st);
  r = claim_locked(st, id, err);
  unlock(st);
  return r;
}

/* The last unlock inside a transaction waits for its end (release_deferred): a rollback must
 * not bring back, on SQLite, a claim row nobody counts any more. */
void imc_store_unlock_infra(struct imc_store *st, const char *id)
{
  struct store_claim *c;

  if (check_id(id, NULL) != 0)
    return;
  lock(st);
  c = find_claim(st, id);
  if (c && c->count > 0 && --c->count == 0 && st->depth == 0)
    drop_claim(st, c);
  unlock(st);
}
