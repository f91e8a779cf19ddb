/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine's life (open, close) and its list of infrastructures: lookups with IM's access
 * rules, the per-infrastructure op claim, ids. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "engine_int.h"
#include "imc/alloc.h"
#include "imc/log.h"

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

int64_t engine_now(void)
{
  return (int64_t)time(NULL);
}

const char *imc_engine_version(void)
{
  return IMC_VERSION_STRING;
}

void engine_new_id(char id[IMC_INFRA_ID_MAX])
{
  unsigned char b[16];

  /* RAND_bytes only fails when the system has no entropy at all; then the clock and the
   * address of a stack buffer still keep ids apart within this process. */
  if (RAND_bytes(b, sizeof b) != 1) {
    uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&b;

    for (size_t i = 0; i < sizeof b; i++)
      b[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)(i * 131);
  }
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* a version 4 (random) UUID */
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(id, IMC_INFRA_ID_MAX,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
           b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
}

const struct imc_connector *engine_connector(const struct imc_engine *e, const char *type)
{
  return type ? imc_connector_find(e->connectors, type) : NULL;
}

int engine_check_boot_mode(const struct imc_engine *e, bool delete_only, struct imc_err *err)
{
  long mode = e->cfg->boot_mode;

  if (mode == 1 || (mode == 2 && !delete_only))
    return imc_fail(err, IMC_E_FORBIDDEN, "Function currently disabled.");
  return 0;
}

/* --- infrastructures ---------------------------------------------------------------------- */

struct infra *infra_new(const char *id)
{
  struct infra *inf = imc_calloc(1, sizeof *inf);

  if (!inf)
    return NULL;
  snprintf(inf->id, sizeof inf->id, "%s", id);
  pthread_mutex_init(&inf->mu, NULL);
  pthread_mutex_init(&inf->save_mu, NULL);
  pthread_cond_init(&inf->idle, NULL);
  inf->configured = CTXT_NONE;
  if (!(inf->private_nets = json_object()) || !(inf->snapshots = json_array()) ||
      !(inf->ctxt_runs = json_object())) {
    infra_free(inf);
    return NULL;
  }
  return inf;
}

void infra_free_contents(struct infra *inf)
{
  for (size_t i = 0; i < inf->nvms; i++)
    imc_vm_free(inf->vms[i].vm);
  imc_free(inf->vms);
  inf->vms = NULL;
  inf->nvms = inf->cap_vms = 0;
  imc_doc_free(inf->doc);
  inf->doc = NULL;
}

void infra_free(struct infra *inf)
{
  if (!inf)
    return;
  infra_free_contents(inf);
  imc_store_ids_free(inf->owners, inf->nowners);
  json_decref(inf->private_nets);
  json_decref(inf->snapshots);
  json_decref(inf->ssh_key);
  json_decref(inf->ctxt_runs);
  pthread_cond_destroy(&inf->idle);
  pthread_mutex_destroy(&inf->save_mu);
  pthread_mutex_destroy(&inf->mu);
  imc_free(inf);
}

static bool infra_has_id(const void *ctx, size_t pos, const void *key)
{
  const struct imc_engine *e = ctx;

  return strcmp(e->infras[pos]->id, key) == 0;
}

static uint64_t infra_hash(const void *ctx, size_t pos)
{
  const struct imc_engine *e = ctx;

  return imc_hash_str(e->infras[pos]->id);
}

/* Under e->mu. */
static struct infra *find_locked(struct imc_engine *e, const char *id)
{
  size_t pos;

  if (imc_index_built(&e->index)) {
    pos = imc_index_find(&e->index, imc_hash_str(id), id, infra_has_id, e);
    return pos == SIZE_MAX ? NULL : e->infras[pos];
  }
  for (size_t i = 0; i < e->ninfras; i++)
    if (strcmp(e->infras[i]->id, id) == 0)
      return e->infras[i];
  return NULL;
}

int engine_add(struct imc_engine *e, struct infra *inf, struct imc_err *err)
{
  int r = 0;

  pthread_mutex_lock(&e->mu);
  if (imc_grow((void **)&e->infras, &e->cap_infras, e->ninfras + 1, sizeof *e->infras)) {
    r = nomem(err);
  } else {
    e->infras[e->ninfras++] = inf;
    imc_index_note_append(&e->index, e->ninfras, imc_hash_str(inf->id), infra_hash, e);
  }
  pthread_mutex_unlock(&e->mu);
  return r;
}

/* The infrastructure id as the store has it now, replacing what memory holds (shared mode:
 * another process may have changed it).  The in-memory one is kept when this process is
 * working on it. */
static int reload(struct imc_engine *e, const char *id, struct infra **inout, struct imc_err *err)
{
  struct infra *fresh = NULL, *inf = *inout;
  int r;

  if (inf) {
    bool busy;

    pthread_mutex_lock(&inf->mu);
    busy = inf->busy || inf->ctxt_here > 0; /* an op or a contextualization of ours */
    pthread_mutex_unlock(&inf->mu);
    if (busy)
      return 0;
  }
  if ((r = persist_load(e, id, &fresh, err)) != 0)
    return r;
  if (!inf) {
    if ((r = engine_add(e, fresh, err)) != 0) {
      infra_free(fresh);
      return r;
    }
    *inout = fresh;
    return 0;
  }
  infra_swap_contents(inf, fresh);
  infra_free(fresh);
  return 0;
}

int engine_get(struct imc_engine *e, const char *id, const struct caller *c, struct infra **out,
               struct imc_err *err)
{
  struct infra *inf;
  bool owned, deleted;
  int r;

  *out = NULL;
  if (!id || !*id || strlen(id) >= IMC_INFRA_ID_MAX)
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid infrastructure ID or access not granted.");
  pthread_mutex_lock(&e->mu);
  inf = find_locked(e, id);
  pthread_mutex_unlock(&e->mu);
  if (e->shared && (r = reload(e, id, &inf, err)) != 0 && r != IMC_E_NOTFOUND)
    return r;
  if (!inf)
    return imc_fail(err, IMC_E_NOTFOUND, "Invalid infrastructure ID or access not granted.");
  pthread_mutex_lock(&inf->mu);
  owned = caller_owns(c, inf);
  deleted = inf->deleted;
  pthread_mutex_unlock(&inf->mu);
  if (!owned)
    return imc_fail(err, IMC_E_FORBIDDEN, "Access to this infrastructure not granted.");
  if (deleted)
    return imc_fail(err, IMC_E_NOTFOUND, "Deleted infrastructure.");
  *out = inf;
  return 0;
}

int infra_begin_op(struct imc_engine *e, struct infra *inf, struct imc_err *err)
{
  int r;

  pthread_mutex_lock(&inf->mu);
  while (inf->busy)
    pthread_cond_wait(&inf->idle, &inf->mu);
  inf->busy = true;
  pthread_mutex_unlock(&inf->mu);
  if (e->shared && (r = imc_store_lock_infra(e->store, inf->id, err)) != 0) {
    pthread_mutex_lock(&inf->mu);
    inf->busy = false;
    pthread_cond_signal(&inf->idle);
    pthread_mutex_unlock(&inf->mu);
    return r; /* the store's error names who holds the claim */
  }
  return 0;
}

void infra_end_op(struct imc_engine *e, struct infra *inf)
{
  if (e->shared)
    imc_store_unlock_infra(e->store, inf->id);
  pthread_mutex_lock(&inf->mu);
  inf->busy = false;
  pthread_cond_signal(&inf->idle);
  pthread_mutex_unlock(&inf->mu);
}

/* --- open and close ------------------------------------------------------------------------ */

static int load_salt(struct imc_engine *e, struct imc_err *err)
{
  unsigned char b[32];
  char hex[65], *winner = NULL;
  int r;

  if (RAND_bytes(b, sizeof b) != 1)
    return imc_fail(err, IMC_E_INTERNAL, "no randomness for the owner-key salt");
  for (size_t i = 0; i < sizeof b; i++)
    snprintf(hex + 2 * i, 3, "%02x", b[i]);
  if ((r = imc_store_init_meta(e->store, ENGINE_SALT_KEY, hex, &winner, err)) != 0)
    return r;
  snprintf(e->salt, sizeof e->salt, "%s", winner);
  imc_free(winner);
  return 0;
}

/* ADMIN_USER: a JSON list of {"username", "password"}; kept as owner keys. */
static int load_admins(struct imc_engine *e, struct imc_err *err)
{
  json_error_t jerr;
  json_t *list = json_loads(e->cfg->admin_user, 0, &jerr), *u;
  size_t i;
  int r = 0;

  if (!json_is_array(list)) {
    json_decref(list);
    return imc_fail(err, IMC_E_INVAL, "ADMIN_USER: expected a list of users");
  }
  if (json_array_size(list) &&
      !(e->admin_keys = imc_calloc(json_array_size(list), sizeof *e->admin_keys))) {
    r = nomem(err);
    goto out;
  }
  json_array_foreach(list, i, u)
  {
    const char *name = json_string_value(json_object_get(u, "username"));
    const char *pass = json_string_value(json_object_get(u, "password"));

    if (!name || !pass)
      continue; /* imc_config_check has refused such entries already */
    if (owner_key(e->salt, name, pass, &e->admin_keys[e->nadmins])) {
      r = nomem(err);
      goto out;
    }
    e->nadmins++;
  }
out:
  json_decref(list);
  return r;
}

static int load_all(struct imc_engine *e, struct imc_err *err)
{
  char **ids = NULL;
  size_t n = 0;
  int r;

  if ((r = imc_store_list_infras(e->store, NULL, false, &ids, &n, err)) != 0)
    return r;
  for (size_t i = 0; i < n && !r; i++) {
    struct infra *inf = NULL;

    if ((r = persist_load(e, ids[i], &inf, err)) == 0 && (r = engine_add(e, inf, err)) != 0)
      infra_free(inf);
  }
  imc_store_ids_free(ids, n);
  return r;
}

/* Launch intents of connectors that need no credentials are settled now (DECISIONS.md). */
static void settle_credentialless(struct imc_engine *e)
{
  struct imc_auth none;
  struct imc_err err = {0};

  imc_auth_init(&none);
  for (size_t i = 0; i < e->ninfras; i++) {
    if (infra_refresh(e, e->infras[i], &none, NULL, 0, &err) != 0)
      imc_log(IMC_LOG_WARN, "infrastructure %s: %s", e->infras[i]->id, err.msg);
    imc_err_clear(&err);
  }
  imc_auth_cleanup(&none);
}

int imc_engine_open(const struct imc_engine_opts *opts, struct imc_engine **out,
                    struct imc_err *err)
{
  struct imc_engine *e = imc_calloc(1, sizeof *e);
  int r;

  *out = NULL;
  if (!e)
    return nomem(err);
  e->cfg = opts->config;
  e->connectors = opts->connectors;
  e->store = opts->store;
  e->shared = opts->shared;
  e->ctxr = opts->contextualizer;
  pthread_mutex_init(&e->mu, NULL);
  imc_index_init(&e->index);
  if ((r = load_salt(e, err)) != 0 || (r = load_admins(e, err)) != 0 ||
      (r = load_all(e, err)) != 0)
    goto fail;
  settle_credentialless(e);
  ctxt_settle_stopped(e);
  if ((r = imc_pool_start((unsigned)e->cfg->workers, &e->pool, err)) != 0)
    goto fail;
  imc_log(IMC_LOG_INFO, "engine: %zu infrastructures loaded", e->ninfras);
  *out = e;
  return 0;
fail:
  imc_engine_close(e);
  return r;
}

void imc_engine_close(struct imc_engine *e)
{
  if (!e)
    return;
  imc_pool_stop(e->pool);
  for (size_t i = 0; i < e->ninfras; i++)
    infra_free(e->infras[i]);
  imc_free(e->infras);
  imc_index_free(&e->index);
  for (size_t i = 0; i < e->nadmins; i++)
    imc_free(e->admin_keys[i]);
  imc_free(e->admin_keys);
  pthread_mutex_destroy(&e->mu);
  imc_free(e);
}

/* --- result helpers ------------------------------------------------------------------------ */

void imc_strs_free(struct imc_strs *s)
{
  if (!s)
    return;
  imc_store_ids_free(s->v, s->n);
  s->v = NULL;
  s->n = 0;
}

void imc_vm_ids_free(struct imc_vm_ids *ids)
{
  if (!ids)
    return;
  imc_free(ids->v);
  ids->v = NULL;
  ids->n = 0;
}

void imc_infra_state_free(struct imc_infra_state *s)
{
  if (!s)
    return;
  imc_free(s->vm_ids);
  imc_free(s->vm_states);
  s->vm_ids = NULL;
  s->vm_states = NULL;
  s->n = 0;
}

/* --- entering a call ------------------------------------------------------------------------ */

struct infra *engine_find(struct imc_engine *e, const char *id)
{
  struct infra *inf;

  pthread_mutex_lock(&e->mu);
  inf = find_locked(e, id);
  pthread_mutex_unlock(&e->mu);
  return inf;
}

int engine_enter(struct imc_engine *e, const char *id, const struct imc_auth *auth,
                 enum enter_kind kind, struct infra **inf, struct imc_err *err)
{
  struct caller c = {0};
  int r;

  *inf = NULL;
  if (kind != ENTER_READ && (r = engine_check_boot_mode(e, kind == ENTER_DELETE, err)) != 0)
    return r;
  if ((r = caller_identify(e, auth, &c, err)) != 0)
    return r;
  r = engine_get(e, id, &c, inf, err);
  caller_cleanup(&c);
  return r;
}

int engine_enter_vm(struct imc_engine *e, const char *id, unsigned vm,
                    const struct imc_auth *auth, struct infra **inf, struct imc_err *err)
{
  int r;

  if ((r = engine_enter(e, id, auth, ENTER_READ, inf, err)) != 0)
    return r;
  pthread_mutex_lock(&(*inf)->mu);
  r = vm_check(*inf, vm, err);
  pthread_mutex_unlock(&(*inf)->mu);
  return r;
}

void infra_swap_contents(struct infra *inf, struct infra *fresh)
{
  pthread_mutex_lock(&inf->mu);
#define SWAP(field)                \
  do {                             \
    __typeof__(inf->field) t = inf->field; \
    inf->field = fresh->field;     \
    fresh->field = t;              \
  } while (0)
  SWAP(created);
  SWAP(updated);
  SWAP(deleted);
  SWAP(configured);
  SWAP(doc);
  SWAP(vms);
  SWAP(nvms);
  SWAP(cap_vms);
  SWAP(owners);
  SWAP(nowners);
  SWAP(private_nets);
  SWAP(snapshots);
  SWAP(ssh_key);
  SWAP(ctxt_runs);
#undef SWAP
  pthread_mutex_unlock(&inf->mu);
}

int auth_copy(const struct imc_auth *src, struct imc_auth *dst)
{
  for (size_t i = 0; i < src->n; i++) {
    const struct imc_auth_entry *s = &src->entries[i];
    struct imc_auth_entry *d = imc_auth_add_entry(dst);

    if (!d)
      return IMC_E_NOMEM;
    d->line = s->line;
    for (size_t k = 0; k < s->n; k++)
      if (imc_auth_entry_set(d, s->kv[k].key, s->kv[k].value))
        return IMC_E_NOMEM;
  }
  return 0;
}
