/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SQLite store: one connection in WAL mode, every statement prepared once at open and
 * always bound (no SQL is ever built from values), a recursive mutex that serialises the
 * connection between threads and is held from begin to the outermost commit, so that a
 * transaction sees no other thread's writes and no other thread's rollback undoes them.
 *
 * Messages carry ids and SQLite's words, never row contents: radl and extra may hold secrets. */
#include "imc/alloc.h"
#include "imc/store.h"
#include "store_int.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000

/* Each entry moves the schema from version i to i + 1 and records the new version; the
 * schema version this build knows is the number of entries. */
static const char *const migrations[] = {
  "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
  "CREATE TABLE infra(id TEXT PRIMARY KEY, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
  " deleted INTEGER NOT NULL DEFAULT 0, radl TEXT, extra TEXT);"
  "CREATE TABLE infra_owner(infra_id TEXT NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
  " owner TEXT NOT NULL, PRIMARY KEY(infra_id, owner));"
  "CREATE INDEX infra_owner_by_owner ON infra_owner(owner);"
  "CREATE TABLE vm(infra_id TEXT NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
  " id INTEGER NOT NULL, launch TEXT NOT NULL, state TEXT NOT NULL,"
  " destroyed INTEGER NOT NULL DEFAULT 0, cloud_id TEXT, cloud_type TEXT, instance_id TEXT,"
  " client_token TEXT, system TEXT, error TEXT, PRIMARY KEY(infra_id, id));"
  /* Open intents are found by launch and listed by (infra_id, id): the index does both. */
  "CREATE INDEX vm_by_launch ON vm(launch, infra_id, id);"
  "CREATE TABLE log(infra_id TEXT NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
  " vm_id INTEGER NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
  " text TEXT NOT NULL);"
  "CREATE INDEX log_by_vm ON log(infra_id, vm_id, seq);"
  "INSERT INTO meta(key, value) VALUES('schema_version', 1);",
};

#define SCHEMA_VERSION ((long long)(sizeof migrations / sizeof migrations[0]))

#define VM_COLUMNS                                                                            \
  "infra_id, id, launch, state, destroyed, cloud_id, cloud_type, instance_id, client_token, " \
  "system, error"

/* The statements, prepared once at open. */
#define STORE_STMTS(X)                                                                         \
  X(ST_BEGIN, "BEGIN IMMEDIATE")                                                               \
  X(ST_COMMIT, "COMMIT")                                                                       \
  X(ST_ROLLBACK, "ROLLBACK")                                                                   \
  X(ST_PUT_INFRA, "INSERT INTO infra(id, created, updated, deleted, radl, extra) "             \
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET "              \
                  "created = excluded.created, updated = excluded.updated, "                   \
                  "deleted = excluded.deleted, radl = excluded.radl, extra = excluded.extra")  \
  X(ST_DEL_OWNERS, "DELETE FROM infra_owner WHERE infra_id = ?1")                              \
  X(ST_ADD_OWNER, "INSERT OR IGNORE INTO infra_owner(infra_id, owner) VALUES(?1, ?2)")         \
  X(ST_GET_INFRA, "SELECT created, updated, deleted, radl, extra FROM infra WHERE id = ?1")    \
  X(ST_GET_OWNERS, "SELECT owner FROM infra_owner WHERE infra_id = ?1 ORDER BY rowid")         \
  X(ST_HAS_INFRA, "SELECT 1 FROM infra WHERE id = ?1")                                         \
  X(ST_LIST_ALL, "SELECT id FROM infra WHERE ?1 OR deleted = 0 ORDER BY created, rowid")       \
  X(ST_LIST_OWNER, "SELECT i.id FROM infra AS i JOIN infra_owner AS o ON o.infra_id = i.id "   \
                   "WHERE o.owner = ?1 AND (?2 OR i.deleted = 0) ORDER BY i.created, i.rowid") \
  X(ST_PUT_VM, "INSERT OR REPLACE INTO vm(" VM_COLUMNS ") "                                    \
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")                         \
  X(ST_GET_VMS, "SELECT " VM_COLUMNS " FROM vm WHERE infra_id = ?1 ORDER BY id")               \
  X(ST_INTENTS, "SELECT " VM_COLUMNS " FROM vm WHERE launch = ?1 ORDER BY infra_id, id")       \
  X(ST_ADD_LOG, "INSERT INTO log(infra_id, vm_id, at, text) VALUES(?1, ?2, ?3, ?4)")           \
  X(ST_GET_LOG, "SELECT text FROM log WHERE infra_id = ?1 AND vm_id = ?2 ORDER BY seq")

enum store_stmt {
#define STORE_STMT_ENUM(name, sql) name,
  STORE_STMTS(STORE_STMT_ENUM)
#undef STORE_STMT_ENUM
    ST_COUNT
};

static const char *const stmt_sql[] = {
#define STORE_STMT_SQL(name, sql) sql,
  STORE_STMTS(STORE_STMT_SQL)
#undef STORE_STMT_SQL
};

/* Stored by name, so the file reads well and does not depend on the enum's order. */
static const char *const launch_names[] = {
  [IMC_LAUNCH_INTENT] = "intent",
  [IMC_LAUNCH_DONE] = "done",
  [IMC_LAUNCH_FAILED] = "failed",
};

#define NLAUNCH (sizeof launch_names / sizeof launch_names[0])

struct imc_store {
  sqlite3 *db;
  pthread_mutex_t lock; /* recursive: held by the thread inside a transaction */
  unsigned depth;       /* begin/commit nesting of that thread */
  bool doomed;          /* an inner level rolled back: the outermost one must too */
  char *path;           /* for messages */
  sqlite3_stmt *stmt[ST_COUNT];
};

/* --- errors and statements --------------------------------------------------------------- */

/* The connection's last failure as an imc error; call before resetting the statement. */
static int db_fail(struct imc_store *st, const char *what, struct imc_err *err)
{
  if ((sqlite3_errcode(st->db) & 0xff) == SQLITE_NOMEM)
    return imc_fail(err, IMC_E_NOMEM, "store: %s: out of memory", what);
  return imc_fail(err, IMC_E_IO, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

/* Leaves a statement ready for its next use. */
static void stmt_done(sqlite3_stmt *s)
{
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
}

static int bind_str(sqlite3_stmt *s, int col, const char *v)
{
  /* SQLITE_STATIC: the statement is stepped and reset before the caller's string can go. */
  return v ? sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, col);
}

/* Steps a statement that returns no rows, then resets it. */
static int stmt_run(struct imc_store *st, sqlite3_stmt *s, const char *what, struct imc_err *err)
{
  int r = 0;

  if (sqlite3_step(s) != SQLITE_DONE)
    r = db_fail(st, what, err);
  stmt_done(s);
  return r;
}

/* A copy of a text column into *out: NULL stays NULL, "" stays "". */
static int column_dup(sqlite3_stmt *s, int col, char **out)
{
  const unsigned char *p;

  *out = NULL;
  if (sqlite3_column_type(s, col) == SQLITE_NULL)
    return 0;
  p = sqlite3_column_text(s, col);
  if (!p)
    return IMC_E_NOMEM; /* SQLite could not convert the value */
  *out = imc_strndup((const char *)p, (size_t)sqlite3_column_bytes(s, col));
  return *out ? 0 : IMC_E_NOMEM;
}

static void lock(struct imc_store *st)
{
  pthread_mutex_lock(&st->lock);
}

static void unlock(struct imc_store *st)
{
  pthread_mutex_unlock(&st->lock);
}

/* --- transactions (lock held) ------------------------------------------------------------ */

static int tx_begin(struct imc_store *st, struct imc_err *err)
{
  if (st->depth == 0) {
    int r = stmt_run(st, st->stmt[ST_BEGIN], "begin", err);

    if (r)
      return r;
    st->doomed = false;
  }
  st->depth++;
  return 0;
}

/* Ends the transaction; a failed statement may already have ended it inside SQLite. */
static void tx_abort(struct imc_store *st)
{
  if (!sqlite3_get_autocommit(st->db))
    stmt_run(st, st->stmt[ST_ROLLBACK], "rollback", NULL);
}

static void tx_rollback(struct imc_store *st)
{
  if (--st->depth > 0) {
    st->doomed = true;
    return;
  }
  tx_abort(st);
}

static int tx_commit(struct imc_store *st, struct imc_err *err)
{
  int r;

  if (--st->depth > 0)
    return 0;
  if (st->doomed) {
    tx_abort(st);
    return imc_fail(err, IMC_E_IO, "store: commit: a nested transaction was rolled back");
  }
  if ((r = stmt_run(st, st->stmt[ST_COMMIT], "commit", err)) != 0)
    tx_abort(st);
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

/* --- open and close ---------------------------------------------------------------------- */

/* Runs one pragma and checks the value it reports, when it reports one. */
static int pragma(struct imc_store *st, const char *sql, const char *want, struct imc_err *err)
{
  sqlite3_stmt *s = NULL;
  int r = 0, rc;

  /* A file that is not a database fails here first: name it. */
  if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(st, st->path, err);
  rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    r = db_fail(st, st->path, err);
  else if (want && (rc != SQLITE_ROW ||
                    sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), want) != 0))
    r = imc_fail(err, IMC_E_IO, "store: %s: %s did not take effect", st->path, sql);
  sqlite3_finalize(s);
  return r;
}

/* The schema version in the file; 0 for a new file. */
static int schema_version(struct imc_store *st, long long *version, struct imc_err *err)
{
  static const char *const sql[] = {
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
    "SELECT value FROM meta WHERE key = 'schema_version'",
  };
  int r = 0;

  *version = 0;
  for (size_t i = 0; i < 2 && r == 0; i++) {
    sqlite3_stmt *s = NULL;
    int rc;

    if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK)
      return db_fail(st, "read schema version", err);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
      *version = sqlite3_column_int64(s, 0);
    else if (rc != SQLITE_DONE)
      r = db_fail(st, "read schema version", err);
    sqlite3_finalize(s);
    if (*version == 0)
      break; /* no meta table, or no version row in it */
  }
  return r;
}

/* Brings the schema to SCHEMA_VERSION in one transaction (another process may race us). */
static int migrate(struct imc_store *st, struct imc_err *err)
{
  long long v;
  int r;

  if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(st, "begin schema update", err);
  if ((r = schema_version(st, &v, err)) != 0)
    goto out;
  if (v > SCHEMA_VERSION || v < 0) {
    r = imc_fail(err, IMC_E_INVAL, "store %s has schema version %lld; this imc knows up to %lld",
                 st->path, v, SCHEMA_VERSION);
    goto out;
  }
  for (; v < SCHEMA_VERSION; v++)
    if (sqlite3_exec(st->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
      r = db_fail(st, "update schema", err);
      goto out;
    }
  if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    r = db_fail(st, "commit schema update", err);
out:
  if (!sqlite3_get_autocommit(st->db)) /* the statements are not prepared yet */
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return r;
}

static int prepare_all(struct imc_store *st, struct imc_err *err)
{
  for (size_t i = 0; i < ST_COUNT; i++)
    if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                           NULL) != SQLITE_OK)
      return db_fail(st, "prepare", err);
  return 0;
}

static int sqlite_connect(struct imc_store *st, struct imc_err *err)
{
  /* No SQLITE_OPEN_URI: the name is always a file name.  SQLite's unix VFS opens every file
   * with O_CLOEXEC itself, so the database does not leak into ssh or ansible children. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  int r;

#ifdef SQLITE_OPEN_EXRESCODE
  flags |= SQLITE_OPEN_EXRESCODE;
#endif
  if (sqlite3_open_v2(st->path, &st->db, flags, NULL) != SQLITE_OK) {
    if (!st->db)
      return imc_fail(err, IMC_E_NOMEM, "store: open %s: out of memory", st->path);
    return imc_fail(err, IMC_E_IO, "store: open %s: %s", st->path, sqlite3_errmsg(st->db));
  }
  sqlite3_extended_result_codes(st->db, 1);
  sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
  if ((r = pragma(st, "PRAGMA journal_mode=WAL", "wal", err)) != 0 ||
      (r = pragma(st, "PRAGMA synchronous=NORMAL", NULL, err)) != 0 ||
      (r = pragma(st, "PRAGMA foreign_keys=ON", NULL, err)) != 0 ||
      (r = pragma(st, "PRAGMA foreign_keys", "1", err)) != 0 || (r = migrate(st, err)) != 0)
    return r;
  return prepare_all(st, err);
}

void imc_store_close(struct imc_store *st)
{
  if (!st)
    return;
  if (st->db && st->depth > 0)
    tx_abort(st); /* a transaction left open: nothing of it was committed */
  /* imc_store_begin keeps one lock level per open transaction level: give them back before
   * the mutex is destroyed (destroying a locked mutex is undefined). */
  for (; st->depth > 0; st->depth--)
    unlock(st);
  for (size_t i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(st->stmt[i]);
  sqlite3_close(st->db);
  pthread_mutex_destroy(&st->lock);
  imc_free(st->path);
  imc_free(st);
}

int store_sqlite_open(const char *path, struct imc_store **out, struct imc_err *err)
{
  struct imc_store *st = NULL;
  pthread_mutexattr_t attr;
  int r;

  *out = NULL;
  if (!(st = imc_calloc(1, sizeof *st)) || !(st->path = imc_strdup(path))) {
    imc_free(st);
    return imc_fail(err, IMC_E_NOMEM, "store: out of memory");
  }
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  r = pthread_mutex_init(&st->lock, &attr);
  pthread_mutexattr_destroy(&attr);
  if (r != 0) {
    imc_free(st->path);
    imc_free(st);
    return imc_fail(err, IMC_E_INTERNAL, "store: cannot create a mutex");
  }
  if ((r = sqlite_connect(st, err)) != 0) {
    imc_store_close(st);
    return r;
  }
  *out = st;
  return 0;
}

/* --- infrastructures --------------------------------------------------------------------- */

static int put_owners(struct imc_store *st, const struct imc_store_infra *inf, struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_DEL_OWNERS];
  int r = 0;

  if (bind_str(s, 1, inf->id) != SQLITE_OK) {
    r = db_fail(st, "put owners", err);
    stmt_done(s);
    return r;
  }
  if ((r = stmt_run(st, s, "put owners", err)) != 0)
    return r;
  s = st->stmt[ST_ADD_OWNER];
  for (size_t i = 0; i < inf->nowners && r == 0; i++) {
    if (bind_str(s, 1, inf->id) != SQLITE_OK || bind_str(s, 2, inf->owners[i]) != SQLITE_OK) {
      r = db_fail(st, "put owners", err);
      stmt_done(s);
    } else {
      r = stmt_run(st, s, "put owners", err);
    }
  }
  return r;
}

static int put_infra_row(struct imc_store *st, const struct imc_store_infra *inf,
                         struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_PUT_INFRA];
  int r;

  if (bind_str(s, 1, inf->id) != SQLITE_OK || sqlite3_bind_int64(s, 2, inf->created) ||
      sqlite3_bind_int64(s, 3, inf->updated) || sqlite3_bind_int(s, 4, inf->deleted) ||
      bind_str(s, 5, inf->radl) != SQLITE_OK || bind_str(s, 6, inf->extra) != SQLITE_OK) {
    r = db_fail(st, "put infrastructure", err);
    stmt_done(s);
    return r;
  }
  return stmt_run(st, s, "put infrastructure", err);
}

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
  if ((r = imc_store_begin(st, err)) != 0)
    return r;
  if ((r = put_infra_row(st, inf, err)) != 0 || (r = put_owners(st, inf, err)) != 0) {
    imc_store_rollback(st);
    return r;
  }
  return imc_store_commit(st, err);
}

/* Fills created..extra from the current row of ST_GET_INFRA. */
static int read_infra_row(sqlite3_stmt *s, struct imc_store_infra *inf)
{
  int r;

  inf->created = sqlite3_column_int64(s, 0);
  inf->updated = sqlite3_column_int64(s, 1);
  inf->deleted = sqlite3_column_int(s, 2) != 0;
  if ((r = column_dup(s, 3, &inf->radl)) != 0 || (r = column_dup(s, 4, &inf->extra)) != 0)
    return r;
  return 0;
}

/* Appends the first column of every row of s (bound by the caller) to *ids. */
static int collect_ids(struct imc_store *st, sqlite3_stmt *s, const char *what, char ***ids,
                       size_t *n, struct imc_err *err)
{
  size_t cap = *n;
  int rc = SQLITE_DONE, r = 0;

  while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    char *id;

    if ((r = imc_grow((void **)ids, &cap, *n + 1, sizeof **ids)) != 0 ||
        (r = column_dup(s, 0, &id)) != 0)
      break;
    if (!id) {
      r = imc_fail(err, IMC_E_INTERNAL, "store: %s: NULL value in %s", st->path, what);
      break;
    }
    (*ids)[(*n)++] = id;
  }
  if (r == IMC_E_NOMEM)
    imc_fail(err, r, "store: %s: out of memory", what);
  else if (r == 0 && rc != SQLITE_DONE)
    r = db_fail(st, what, err);
  stmt_done(s);
  return r;
}

static int get_infra_locked(struct imc_store *st, const char *id, struct imc_store_infra *inf,
                            struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_GET_INFRA];
  int r = 0, rc;

  if (bind_str(s, 1, id) != SQLITE_OK) {
    r = db_fail(st, "get infrastructure", err);
    stmt_done(s);
    return r;
  }
  rc = sqlite3_step(s);
  if (rc == SQLITE_ROW && read_infra_row(s, inf) != 0)
    r = imc_fail(err, IMC_E_NOMEM, "store: get infrastructure: out of memory");
  else if (rc == SQLITE_DONE)
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", id);
  else if (rc != SQLITE_ROW)
    r = db_fail(st, "get infrastructure", err);
  stmt_done(s);
  if (r)
    return r;
  s = st->stmt[ST_GET_OWNERS];
  if (bind_str(s, 1, id) != SQLITE_OK) {
    r = db_fail(st, "get owners", err);
    stmt_done(s);
    return r;
  }
  return collect_ids(st, s, "get owners", &inf->owners, &inf->nowners, err);
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
  r = get_infra_locked(st, id, &inf, err);
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
  sqlite3_stmt *s = st->stmt[owner ? ST_LIST_OWNER : ST_LIST_ALL];
  char **list = NULL;
  size_t count = 0;
  int r;

  *ids = NULL;
  *n = 0;
  lock(st);
  if ((owner && bind_str(s, 1, owner) != SQLITE_OK) ||
      sqlite3_bind_int(s, owner ? 2 : 1, include_deleted) != SQLITE_OK) {
    r = db_fail(st, "list infrastructures", err);
    stmt_done(s);
  } else {
    r = collect_ids(st, s, "list infrastructures", &list, &count, err);
  }
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

/* The VM's string fields, in column order from column 5. */
static const size_t vm_str_fields[] = {
  offsetof(struct imc_store_vm, cloud_id),    offsetof(struct imc_store_vm, cloud_type),
  offsetof(struct imc_store_vm, instance_id), offsetof(struct imc_store_vm, client_token),
  offsetof(struct imc_store_vm, system),      offsetof(struct imc_store_vm, error),
};

#define VM_STR_COL 5
#define NVM_STR    (sizeof vm_str_fields / sizeof vm_str_fields[0])

static char **vm_str(struct imc_store_vm *vm, size_t i)
{
  return (char **)(void *)((char *)vm + vm_str_fields[i]);
}

static int bind_vm(sqlite3_stmt *s, const struct imc_store_vm *vm)
{
  int rc = bind_str(s, 1, vm->infra_id);

  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(s, 2, vm->id);
  if (rc == SQLITE_OK)
    rc = bind_str(s, 3, launch_names[vm->launch]);
  if (rc == SQLITE_OK)
    rc = bind_str(s, 4, imc_vm_state_name(vm->state));
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int(s, 5, vm->destroyed);
  for (size_t i = 0; i < NVM_STR && rc == SQLITE_OK; i++)
    rc = bind_str(s, VM_STR_COL + 1 + (int)i, *vm_str((struct imc_store_vm *)vm, i));
  return rc;
}

/* A missing infrastructure shows as a foreign key failure: say it in the user's words. */
static int vm_fail(struct imc_store *st, const char *what, const char *infra_id,
                   struct imc_err *err)
{
  if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
    return imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", infra_id);
  return db_fail(st, what, err);
}

int imc_store_put_vm(struct imc_store *st, const struct imc_store_vm *vm, struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_PUT_VM];
  int r = 0;

  if ((r = check_id(vm->infra_id, err)) != 0)
    return r;
  if ((unsigned)vm->launch >= NLAUNCH ||
      (unsigned)vm->state >= IMC_VM_NSTATES)
    return imc_fail(err, IMC_E_INVAL, "store: VM %s/%u: bad launch or state", vm->infra_id, vm->id);
  lock(st);
  if (bind_vm(s, vm) != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE)
    r = vm_fail(st, "put VM", vm->infra_id, err);
  stmt_done(s);
  unlock(st);
  return r;
}

static int parse_launch(const char *text)
{
  for (size_t i = 0; i < NLAUNCH; i++)
    if (strcmp(launch_names[i], text) == 0)
      return (int)i;
  return -1;
}

/* Reads the names in columns 2 and 3 of a VM row. */
static int read_vm_names(struct imc_store *st, sqlite3_stmt *s, struct imc_store_vm *vm,
                         struct imc_err *err)
{
  const char *launch = (const char *)sqlite3_column_text(s, 2);
  const char *state = (const char *)sqlite3_column_text(s, 3);
  int l = launch ? parse_launch(launch) : -1, v = state ? imc_vm_state_parse(state) : -1;

  if (l < 0 || v < 0)
    return imc_fail(err, IMC_E_INTERNAL, "store %s: VM %s/%u has an unknown %s '%.32s'", st->path,
                    vm->infra_id, vm->id, l < 0 ? "launch" : "state",
                    l < 0 ? (launch ? launch : "") : state);
  vm->launch = (enum imc_launch)l;
  vm->state = (enum imc_vm_state)v;
  return 0;
}

/* Fills vm (zeroed by the caller) from the current row of a VM_COLUMNS select. */
static int read_vm(struct imc_store *st, sqlite3_stmt *s, struct imc_store_vm *vm,
                   struct imc_err *err)
{
  const unsigned char *id = sqlite3_column_text(s, 0);
  size_t n = (size_t)sqlite3_column_bytes(s, 0);
  int r;

  if (!id || n == 0 || n >= IMC_INFRA_ID_MAX)
    return imc_fail(err, IMC_E_INTERNAL, "store %s: VM row with a bad infrastructure id", st->path);
  memcpy(vm->infra_id, id, n + 1);
  vm->id = (unsigned)sqlite3_column_int64(s, 1);
  vm->destroyed = sqlite3_column_int(s, 4) != 0;
  if ((r = read_vm_names(st, s, vm, err)) != 0)
    return r;
  for (size_t i = 0; i < NVM_STR; i++)
    if (column_dup(s, VM_STR_COL + (int)i, vm_str(vm, i)) != 0)
      return imc_fail(err, IMC_E_NOMEM, "store: get VMs: out of memory");
  return 0;
}

/* Collects every row of s (bound by the caller) into *vms; resets s. */
static int collect_vms(struct imc_store *st, sqlite3_stmt *s, struct imc_store_vm **vms, size_t *n,
                       struct imc_err *err)
{
  size_t cap = 0;
  int rc = SQLITE_DONE, r = 0;

  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (imc_grow((void **)vms, &cap, *n + 1, sizeof **vms) != 0) {
      r = imc_fail(err, IMC_E_NOMEM, "store: get VMs: out of memory");
      break;
    }
    memset(&(*vms)[*n], 0, sizeof **vms);
    (*n)++; /* counted before it is filled, so that a failure frees what it got */
    if ((r = read_vm(st, s, &(*vms)[*n - 1], err)) != 0)
      break;
  }
  if (r == 0 && rc != SQLITE_DONE)
    r = db_fail(st, "get VMs", err);
  stmt_done(s);
  return r;
}

static int has_infra(struct imc_store *st, const char *id, struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_HAS_INFRA];
  int r = 0, rc = bind_str(s, 1, id);

  if (rc == SQLITE_OK)
    rc = sqlite3_step(s);
  if (rc == SQLITE_DONE)
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", id);
  else if (rc != SQLITE_ROW)
    r = db_fail(st, "find infrastructure", err);
  stmt_done(s);
  return r;
}

/* Runs a VM select whose ?1 is key; owner of the result is the caller. */
static int select_vms(struct imc_store *st, enum store_stmt which, const char *key,
                      struct imc_store_vm **vms, size_t *n, struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[which];
  struct imc_store_vm *list = NULL;
  size_t count = 0;
  int r;

  *vms = NULL;
  *n = 0;
  lock(st);
  if (which == ST_GET_VMS && (r = has_infra(st, key, err)) != 0) {
    unlock(st);
    return r;
  }
  if (bind_str(s, 1, key) != SQLITE_OK) {
    r = db_fail(st, "get VMs", err);
    stmt_done(s);
  } else {
    r = collect_vms(st, s, &list, &count, err);
  }
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
  return select_vms(st, ST_GET_VMS, infra_id, vms, n, err);
}

int imc_store_open_intents(struct imc_store *st, struct imc_store_vm **vms, size_t *n,
                           struct imc_err *err)
{
  return select_vms(st, ST_INTENTS, launch_names[IMC_LAUNCH_INTENT], vms, n, err);
}

/* --- logs -------------------------------------------------------------------------------- */

int imc_store_append_log(struct imc_store *st, const char *infra_id, int vm_id, int64_t when,
                         const char *text, struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_ADD_LOG];
  int r;

  if ((r = check_id(infra_id, err)) != 0)
    return r;
  if (!text)
    return imc_fail(err, IMC_E_INVAL, "store: append log: no text");
  lock(st);
  if (bind_str(s, 1, infra_id) != SQLITE_OK || sqlite3_bind_int(s, 2, vm_id) != SQLITE_OK ||
      sqlite3_bind_int64(s, 3, when) != SQLITE_OK || bind_str(s, 4, text) != SQLITE_OK ||
      sqlite3_step(s) != SQLITE_DONE)
    r = vm_fail(st, "append log", infra_id, err);
  stmt_done(s);
  unlock(st);
  return r;
}

static int read_log(struct imc_store *st, sqlite3_stmt *s, struct imc_buf *out, struct imc_err *err)
{
  int rc;

  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const unsigned char *p = sqlite3_column_text(s, 0);

    if (!p)
      return imc_fail(err, IMC_E_NOMEM, "store: get log: out of memory");
    imc_buf_add(out, p, (size_t)sqlite3_column_bytes(s, 0));
  }
  if (rc != SQLITE_DONE)
    return db_fail(st, "get log", err);
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "store: get log: %s",
                    imc_buf_err(out) == IMC_E_NOMEM ? "out of memory" : "log too long");
  return 0;
}

int imc_store_get_log(struct imc_store *st, const char *infra_id, int vm_id, struct imc_buf *out,
                      struct imc_err *err)
{
  sqlite3_stmt *s = st->stmt[ST_GET_LOG];
  int r;

  lock(st);
  if ((r = has_infra(st, infra_id, err)) == 0) {
    if (bind_str(s, 1, infra_id) != SQLITE_OK || sqlite3_bind_int(s, 2, vm_id) != SQLITE_OK)
      r = db_fail(st, "get log", err);
    else
      r = read_log(st, s, out, err);
    stmt_done(s);
  }
  unlock(st);
  return r;
}
