/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SQLite store: one connection in WAL mode, every statement prepared once at open and
 * always bound (no SQL is ever built from values).  store.c holds the mutex around every
 * operation here, and from begin to the outermost commit.
 *
 * Claims are rows of infra_lock naming the handle (a random id), its process and the process's
 * start time; a row whose process is gone, or whose pid now names a newer process, is stale and
 * may be taken over.  Two handles of one process exclude each other: their ids differ.
 *
 * Messages carry ids and SQLite's words, never row contents: radl and extra may hold secrets. */
#include "imc/alloc.h"
#include "imc/store.h"
#include "store_int.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
#define HOLDER_BYTES    16

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
  /* meta holds the engine's values too: an INTEGER column would turn "0123" into 123. */
  "CREATE TABLE meta_text(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "INSERT INTO meta_text(key, value) SELECT key, CAST(value AS TEXT) FROM meta;"
  "DROP TABLE meta;"
  "ALTER TABLE meta_text RENAME TO meta;"
  "CREATE TABLE infra_lock(infra_id TEXT PRIMARY KEY, holder TEXT NOT NULL,"
  " pid INTEGER NOT NULL, started INTEGER NOT NULL);"
  "UPDATE meta SET value = '2' WHERE key = 'schema_version';",
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
  X(ST_GET_LOG, "SELECT text FROM log WHERE infra_id = ?1 AND vm_id = ?2 ORDER BY seq")        \
  X(ST_GET_META, "SELECT value FROM meta WHERE key = ?1")                                      \
  X(ST_INIT_META, "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO NOTHING")   \
  X(ST_GET_CLAIM, "SELECT holder, pid, started FROM infra_lock WHERE infra_id = ?1")           \
  X(ST_PUT_CLAIM, "INSERT OR REPLACE INTO infra_lock(infra_id, holder, pid, started) "         \
                  "VALUES(?1, ?2, ?3, ?4)")                                                    \
  X(ST_DEL_CLAIM, "DELETE FROM infra_lock WHERE infra_id = ?1 AND holder = ?2")                \
  X(ST_DEL_CLAIMS, "DELETE FROM infra_lock WHERE holder = ?1")

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

struct sqlite_store {
  struct imc_store base; /* first: store.c sees only this */
  sqlite3 *db;
  char *path;                        /* for messages */
  char holder[2 * HOLDER_BYTES + 1]; /* this handle's id in infra_lock */
  sqlite3_stmt *stmt[ST_COUNT];
};

static struct sqlite_store *sq(struct imc_store *st)
{
  return (struct sqlite_store *)st;
}

/* --- errors and statements --------------------------------------------------------------- */

/* The connection's last failure as an imc error; call before resetting the statement. */
static int db_fail(struct sqlite_store *s, const char *what, struct imc_err *err)
{
  if ((sqlite3_errcode(s->db) & 0xff) == SQLITE_NOMEM)
    return imc_fail(err, IMC_E_NOMEM, "store: %s: out of memory", what);
  return imc_fail(err, IMC_E_IO, "store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* Leaves a statement ready for its next use. */
static void stmt_done(sqlite3_stmt *stmt)
{
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

static int bind_str(sqlite3_stmt *stmt, int col, const char *v)
{
  /* SQLITE_STATIC: the statement is stepped and reset before the caller's string can go. */
  return v ? sqlite3_bind_text(stmt, col, v, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, col);
}

/* Steps a statement that returns no rows, then resets it. */
static int stmt_run(struct sqlite_store *s, sqlite3_stmt *stmt, const char *what,
                    struct imc_err *err)
{
  int r = 0;

  if (sqlite3_step(stmt) != SQLITE_DONE)
    r = db_fail(s, what, err);
  stmt_done(stmt);
  return r;
}

/* For a statement whose binding failed: the error, and the statement reset. */
static int bind_fail(struct sqlite_store *s, sqlite3_stmt *stmt, const char *what,
                     struct imc_err *err)
{
  int r = db_fail(s, what, err);

  stmt_done(stmt);
  return r;
}

/* A copy of a text column into *out: NULL stays NULL, "" stays "". */
static int column_dup(sqlite3_stmt *stmt, int col, char **out)
{
  const unsigned char *p;

  *out = NULL;
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
    return 0;
  p = sqlite3_column_text(stmt, col);
  if (!p)
    return IMC_E_NOMEM; /* SQLite could not convert the value */
  *out = imc_strndup((const char *)p, (size_t)sqlite3_column_bytes(stmt, col));
  return *out ? 0 : IMC_E_NOMEM;
}

/* --- transactions ------------------------------------------------------------------------ */

static int sq_begin(struct imc_store *st, struct imc_err *err)
{
  return stmt_run(sq(st), sq(st)->stmt[ST_BEGIN], "begin", err);
}

static int sq_commit(struct imc_store *st, struct imc_err *err)
{
  return stmt_run(sq(st), sq(st)->stmt[ST_COMMIT], "commit", err);
}

/* A failed statement may already have ended the transaction inside SQLite. */
static void sq_abort(struct imc_store *st)
{
  if (!sqlite3_get_autocommit(sq(st)->db))
    stmt_run(sq(st), sq(st)->stmt[ST_ROLLBACK], "rollback", NULL);
}

/* --- open and close ---------------------------------------------------------------------- */

/* Runs one pragma and checks the value it reports, when it reports one. */
static int pragma(struct sqlite_store *s, const char *sql, const char *want, struct imc_err *err)
{
  sqlite3_stmt *stmt = NULL;
  int r = 0, rc;

  /* A file that is not a database fails here first: name it. */
  if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    return db_fail(s, s->path, err);
  rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    r = db_fail(s, s->path, err);
  else if (want && (rc != SQLITE_ROW ||
                    sqlite3_stricmp((const char *)sqlite3_column_text(stmt, 0), want) != 0))
    r = imc_fail(err, IMC_E_IO, "store: %s: %s did not take effect", s->path, sql);
  sqlite3_finalize(stmt);
  return r;
}

/* The schema version in the file; 0 for a new file. */
static int schema_version(struct sqlite_store *s, long long *version, struct imc_err *err)
{
  static const char *const sql[] = {
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
    "SELECT value FROM meta WHERE key = 'schema_version'",
  };
  int r = 0;

  *version = 0;
  for (size_t i = 0; i < 2 && r == 0; i++) {
    sqlite3_stmt *stmt = NULL;
    int rc;

    if (sqlite3_prepare_v2(s->db, sql[i], -1, &stmt, NULL) != SQLITE_OK)
      return db_fail(s, "read schema version", err);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
      *version = sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE)
      r = db_fail(s, "read schema version", err);
    sqlite3_finalize(stmt);
    if (*version == 0)
      break; /* no meta table, or no version row in it */
  }
  return r;
}

/* Brings the schema to SCHEMA_VERSION in one transaction (another process may race us). */
static int migrate(struct sqlite_store *s, struct imc_err *err)
{
  long long v;
  int r;

  if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(s, "begin schema update", err);
  if ((r = schema_version(s, &v, err)) != 0)
    goto out;
  if (v > SCHEMA_VERSION || v < 0) {
    r = imc_fail(err, IMC_E_INVAL, "store %s has schema version %lld; this imc knows up to %lld",
                 s->path, v, SCHEMA_VERSION);
    goto out;
  }
  for (; v < SCHEMA_VERSION; v++)
    if (sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
      r = db_fail(s, "update schema", err);
      goto out;
    }
  if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    r = db_fail(s, "commit schema update", err);
out:
  if (!sqlite3_get_autocommit(s->db)) /* the statements are not prepared yet */
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  return r;
}

static int prepare_all(struct sqlite_store *s, struct imc_err *err)
{
  for (size_t i = 0; i < ST_COUNT; i++)
    if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) !=
        SQLITE_OK)
      return db_fail(s, "prepare", err);
  return 0;
}

static int sqlite_connect(struct sqlite_store *s, struct imc_err *err)
{
  /* No SQLITE_OPEN_URI: the name is always a file name.  SQLite's unix VFS opens every file
   * with O_CLOEXEC itself, so the database does not leak into ssh or ansible children. */
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  int r;

#ifdef SQLITE_OPEN_EXRESCODE
  flags |= SQLITE_OPEN_EXRESCODE;
#endif
  if (sqlite3_open_v2(s->path, &s->db, flags, NULL) != SQLITE_OK) {
    if (!s->db)
      return imc_fail(err, IMC_E_NOMEM, "store: open %s: out of memory", s->path);
    return imc_fail(err, IMC_E_IO, "store: open %s: %s", s->path, sqlite3_errmsg(s->db));
  }
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
  if ((r = pragma(s, "PRAGMA journal_mode=WAL", "wal", err)) != 0 ||
      (r = pragma(s, "PRAGMA synchronous=NORMAL", NULL, err)) != 0 ||
      (r = pragma(s, "PRAGMA foreign_keys=ON", NULL, err)) != 0 ||
      (r = pragma(s, "PRAGMA foreign_keys", "1", err)) != 0 || (r = migrate(s, err)) != 0)
    return r;
  return prepare_all(s, err);
}

/* A random id for this handle's rows in infra_lock. */
static int make_holder(struct sqlite_store *s, struct imc_err *err)
{
  unsigned char raw[HOLDER_BYTES];

  if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
    return imc_fail(err, IMC_E_IO, "store: no random bytes for a handle id");
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(s->holder + 2 * i, 3, "%02x", raw[i]);
  return 0;
}

static void sq_close(struct imc_store *st)
{
  struct sqlite_store *s = sq(st);

  /* The claims end with the handle; a failure here leaves rows of a live process, which the
   * others take over once this process ends. */
  if (st->nclaims > 0 && s->stmt[ST_DEL_CLAIMS] &&
      bind_str(s->stmt[ST_DEL_CLAIMS], 1, s->holder) == SQLITE_OK)
    stmt_run(s, s->stmt[ST_DEL_CLAIMS], "give back claims", NULL);
  for (size_t i = 0; i < ST_COUNT; i++)
    sqlite3_finalize(s->stmt[i]);
  sqlite3_close(s->db);
  store_base_cleanup(st);
  imc_free(s->path);
  imc_free(s);
}

static const struct store_ops sqlite_ops;

int store_sqlite_open(const char *path, struct imc_store **out, struct imc_err *err)
{
  struct sqlite_store *s = NULL;
  int r;

  *out = NULL;
  if (!(s = imc_calloc(1, sizeof *s)) || !(s->path = imc_strdup(path))) {
    imc_free(s);
    return imc_fail(err, IMC_E_NOMEM, "store: out of memory");
  }
  if ((r = store_base_init(&s->base, &sqlite_ops, err)) != 0) {
    imc_free(s->path);
    imc_free(s);
    return r;
  }
  if ((r = make_holder(s, err)) != 0 || (r = sqlite_connect(s, err)) != 0) {
    sq_close(&s->base);
    return r;
  }
  *out = &s->base;
  return 0;
}

/* --- infrastructures --------------------------------------------------------------------- */

static int put_owners(struct sqlite_store *s, const struct imc_store_infra *inf,
                      struct imc_err *err)
{
  sqlite3_stmt *stmt = s->stmt[ST_DEL_OWNERS];
  int r = 0;

  if (bind_str(stmt, 1, inf->id) != SQLITE_OK)
    return bind_fail(s, stmt, "put owners", err);
  if ((r = stmt_run(s, stmt, "put owners", err)) != 0)
    return r;
  stmt = s->stmt[ST_ADD_OWNER];
  for (size_t i = 0; i < inf->nowners && r == 0; i++) {
    if (bind_str(stmt, 1, inf->id) != SQLITE_OK || bind_str(stmt, 2, inf->owners[i]) != SQLITE_OK)
      r = bind_fail(s, stmt, "put owners", err);
    else
      r = stmt_run(s, stmt, "put owners", err);
  }
  return r;
}

static int sq_put_infra(struct imc_store *st, const struct imc_store_infra *inf,
                        struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_PUT_INFRA];
  int r;

  if (bind_str(stmt, 1, inf->id) != SQLITE_OK || sqlite3_bind_int64(stmt, 2, inf->created) ||
      sqlite3_bind_int64(stmt, 3, inf->updated) || sqlite3_bind_int(stmt, 4, inf->deleted) ||
      bind_str(stmt, 5, inf->radl) != SQLITE_OK || bind_str(stmt, 6, inf->extra) != SQLITE_OK)
    return bind_fail(s, stmt, "put infrastructure", err);
  if ((r = stmt_run(s, stmt, "put infrastructure", err)) != 0)
    return r;
  return put_owners(s, inf, err);
}

/* Appends the first column of every row of stmt (bound by the caller) to *ids. */
static int collect_ids(struct sqlite_store *s, sqlite3_stmt *stmt, const char *what, char ***ids,
                       size_t *n, struct imc_err *err)
{
  size_t cap = *n;
  int rc = SQLITE_DONE, r = 0;

  while (r == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    char *id;

    if ((r = imc_grow((void **)ids, &cap, *n + 1, sizeof **ids)) != 0 ||
        (r = column_dup(stmt, 0, &id)) != 0)
      break;
    if (!id) {
      r = imc_fail(err, IMC_E_INTERNAL, "store: %s: NULL value in %s", s->path, what);
      break;
    }
    (*ids)[(*n)++] = id;
  }
  if (r == IMC_E_NOMEM)
    imc_fail(err, r, "store: %s: out of memory", what);
  else if (r == 0 && rc != SQLITE_DONE)
    r = db_fail(s, what, err);
  stmt_done(stmt);
  return r;
}

static int sq_get_infra(struct imc_store *st, struct imc_store_infra *inf, struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_GET_INFRA];
  int r = 0, rc;

  if (bind_str(stmt, 1, inf->id) != SQLITE_OK)
    return bind_fail(s, stmt, "get infrastructure", err);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    inf->created = sqlite3_column_int64(stmt, 0);
    inf->updated = sqlite3_column_int64(stmt, 1);
    inf->deleted = sqlite3_column_int(stmt, 2) != 0;
    if (column_dup(stmt, 3, &inf->radl) != 0 || column_dup(stmt, 4, &inf->extra) != 0)
      r = imc_fail(err, IMC_E_NOMEM, "store: get infrastructure: out of memory");
  } else if (rc == SQLITE_DONE) {
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", inf->id);
  } else {
    r = db_fail(s, "get infrastructure", err);
  }
  stmt_done(stmt);
  if (r)
    return r;
  stmt = s->stmt[ST_GET_OWNERS];
  if (bind_str(stmt, 1, inf->id) != SQLITE_OK)
    return bind_fail(s, stmt, "get owners", err);
  return collect_ids(s, stmt, "get owners", &inf->owners, &inf->nowners, err);
}

static int sq_list_infras(struct imc_store *st, const char *owner, bool include_deleted,
                          char ***ids, size_t *n, struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[owner ? ST_LIST_OWNER : ST_LIST_ALL];

  if ((owner && bind_str(stmt, 1, owner) != SQLITE_OK) ||
      sqlite3_bind_int(stmt, owner ? 2 : 1, include_deleted) != SQLITE_OK)
    return bind_fail(s, stmt, "list infrastructures", err);
  return collect_ids(s, stmt, "list infrastructures", ids, n, err);
}

/* --- VMs --------------------------------------------------------------------------------- */

#define VM_STR_COL 5 /* the first string column of a VM row */

static int bind_vm(sqlite3_stmt *stmt, const struct imc_store_vm *vm)
{
  int rc = bind_str(stmt, 1, vm->infra_id);

  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int64(stmt, 2, vm->id);
  if (rc == SQLITE_OK)
    rc = bind_str(stmt, 3, store_launch_name(vm->launch));
  if (rc == SQLITE_OK)
    rc = bind_str(stmt, 4, imc_vm_state_name(vm->state));
  if (rc == SQLITE_OK)
    rc = sqlite3_bind_int(stmt, 5, vm->destroyed);
  for (size_t i = 0; i < STORE_VM_NSTR && rc == SQLITE_OK; i++)
    rc = bind_str(stmt, VM_STR_COL + 1 + (int)i, *store_vm_str((struct imc_store_vm *)vm, i));
  return rc;
}

/* A missing infrastructure shows as a foreign key failure: say it in the user's words. */
static int vm_fail(struct sqlite_store *s, const char *what, const char *infra_id,
                   struct imc_err *err)
{
  if (sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
    return imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", infra_id);
  return db_fail(s, what, err);
}

static int sq_put_vm(struct imc_store *st, const struct imc_store_vm *vm, struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_PUT_VM];
  int r = 0;

  if (bind_vm(stmt, vm) != SQLITE_OK || sqlite3_step(stmt) != SQLITE_DONE)
    r = vm_fail(s, "put VM", vm->infra_id, err);
  stmt_done(stmt);
  return r;
}

/* Fills vm (zeroed by the caller) from the current row of a VM_COLUMNS select. */
static int read_vm(struct sqlite_store *s, sqlite3_stmt *stmt, struct imc_store_vm *vm,
                   struct imc_err *err)
{
  int r;

  if ((r = store_vm_set_infra_id(vm, (const char *)sqlite3_column_text(stmt, 0),
                                 (size_t)sqlite3_column_bytes(stmt, 0), s->path, err)) != 0)
    return r;
  vm->id = (unsigned)sqlite3_column_int64(stmt, 1);
  vm->destroyed = sqlite3_column_int(stmt, 4) != 0;
  if ((r = store_vm_set_names(vm, (const char *)sqlite3_column_text(stmt, 2),
                              (const char *)sqlite3_column_text(stmt, 3), s->path, err)) != 0)
    return r;
  for (size_t i = 0; i < STORE_VM_NSTR; i++)
    if (column_dup(stmt, VM_STR_COL + (int)i, store_vm_str(vm, i)) != 0)
      return imc_fail(err, IMC_E_NOMEM, "store: get VMs: out of memory");
  return 0;
}

/* Collects every row of stmt (bound by the caller) into *vms; resets stmt. */
static int collect_vms(struct sqlite_store *s, sqlite3_stmt *stmt, struct imc_store_vm **vms,
                       size_t *n, struct imc_err *err)
{
  size_t cap = 0;
  int rc = SQLITE_DONE, r = 0;

  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (imc_grow((void **)vms, &cap, *n + 1, sizeof **vms) != 0) {
      r = imc_fail(err, IMC_E_NOMEM, "store: get VMs: out of memory");
      break;
    }
    memset(&(*vms)[*n], 0, sizeof **vms);
    (*n)++; /* counted before it is filled, so that a failure frees what it got */
    if ((r = read_vm(s, stmt, &(*vms)[*n - 1], err)) != 0)
      break;
  }
  if (r == 0 && rc != SQLITE_DONE)
    r = db_fail(s, "get VMs", err);
  stmt_done(stmt);
  return r;
}

static int has_infra(struct sqlite_store *s, const char *id, struct imc_err *err)
{
  sqlite3_stmt *stmt = s->stmt[ST_HAS_INFRA];
  int r = 0, rc = bind_str(stmt, 1, id);

  if (rc == SQLITE_OK)
    rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE)
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", id);
  else if (rc != SQLITE_ROW)
    r = db_fail(s, "find infrastructure", err);
  stmt_done(stmt);
  return r;
}

/* Runs a VM select whose ?1 is key. */
static int select_vms(struct sqlite_store *s, enum store_stmt which, const char *key,
                      struct imc_store_vm **vms, size_t *n, struct imc_err *err)
{
  sqlite3_stmt *stmt = s->stmt[which];

  if (bind_str(stmt, 1, key) != SQLITE_OK)
    return bind_fail(s, stmt, "get VMs", err);
  return collect_vms(s, stmt, vms, n, err);
}

static int sq_get_vms(struct imc_store *st, const char *infra_id, struct imc_store_vm **vms,
                      size_t *n, struct imc_err *err)
{
  int r;

  if ((r = has_infra(sq(st), infra_id, err)) != 0)
    return r;
  return select_vms(sq(st), ST_GET_VMS, infra_id, vms, n, err);
}

static int sq_open_intents(struct imc_store *st, struct imc_store_vm **vms, size_t *n,
                           struct imc_err *err)
{
  return select_vms(sq(st), ST_INTENTS, store_launch_name(IMC_LAUNCH_INTENT), vms, n, err);
}

/* --- logs -------------------------------------------------------------------------------- */

static int sq_append_log(struct imc_store *st, const char *infra_id, int vm_id, int64_t when,
                         const char *text, struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_ADD_LOG];
  int r = 0;

  if (bind_str(stmt, 1, infra_id) != SQLITE_OK || sqlite3_bind_int(stmt, 2, vm_id) != SQLITE_OK ||
      sqlite3_bind_int64(stmt, 3, when) != SQLITE_OK || bind_str(stmt, 4, text) != SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_DONE)
    r = vm_fail(s, "append log", infra_id, err);
  stmt_done(stmt);
  return r;
}

static int read_log(struct sqlite_store *s, sqlite3_stmt *stmt, struct imc_buf *out,
                    struct imc_err *err)
{
  int rc;

  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char *p = sqlite3_column_text(stmt, 0);

    if (!p)
      return imc_fail(err, IMC_E_NOMEM, "store: get log: out of memory");
    imc_buf_add(out, p, (size_t)sqlite3_column_bytes(stmt, 0));
  }
  if (rc != SQLITE_DONE)
    return db_fail(s, "get log", err);
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "store: get log: %s",
                    imc_buf_err(out) == IMC_E_NOMEM ? "out of memory" : "log too long");
  return 0;
}

static int sq_get_log(struct imc_store *st, const char *infra_id, int vm_id, struct imc_buf *out,
                      struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_GET_LOG];
  int r;

  if ((r = has_infra(s, infra_id, err)) != 0)
    return r;
  if (bind_str(stmt, 1, infra_id) != SQLITE_OK || sqlite3_bind_int(stmt, 2, vm_id) != SQLITE_OK)
    r = db_fail(s, "get log", err);
  else
    r = read_log(s, stmt, out, err);
  stmt_done(stmt);
  return r;
}

/* --- meta -------------------------------------------------------------------------------- */

static int sq_get_meta(struct imc_store *st, const char *key, char **value, struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_GET_META];
  int r = 0, rc;

  if (bind_str(stmt, 1, key) != SQLITE_OK)
    return bind_fail(s, stmt, "get meta", err);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && column_dup(stmt, 0, value) != 0)
    r = imc_fail(err, IMC_E_NOMEM, "store: get meta: out of memory");
  else if (rc == SQLITE_DONE)
    r = imc_fail(err, IMC_E_NOTFOUND, "store: no value for '%.64s'", key);
  else if (rc != SQLITE_ROW)
    r = db_fail(s, "get meta", err);
  stmt_done(stmt);
  return r;
}

/* The insert does nothing when the key is set: the value read back is whoever won. */
static int sq_init_meta(struct imc_store *st, const char *key, const char *value, char **winner,
                        struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_INIT_META];
  int r;

  if (bind_str(stmt, 1, key) != SQLITE_OK || bind_str(stmt, 2, value) != SQLITE_OK)
    return bind_fail(s, stmt, "init meta", err);
  if ((r = stmt_run(s, stmt, "init meta", err)) != 0)
    return r;
  return sq_get_meta(st, key, winner, err);
}

/* --- claims ------------------------------------------------------------------------------ */

/* IMC_E_CONFLICT when the row of id names another handle whose process still runs. */
static int claim_free(struct sqlite_store *s, const char *id, struct imc_err *err)
{
  sqlite3_stmt *stmt = s->stmt[ST_GET_CLAIM];
  int r = 0, rc;

  if (bind_str(stmt, 1, id) != SQLITE_OK)
    return bind_fail(s, stmt, "claim", err);
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW) {
    const char *holder = (const char *)sqlite3_column_text(stmt, 0);
    int64_t pid = sqlite3_column_int64(stmt, 1), started = sqlite3_column_int64(stmt, 2);

    if (holder && strcmp(holder, s->holder) != 0 && pid > 0 && pid == (pid_t)pid &&
        store_proc_alive((pid_t)pid, started))
      r = imc_fail(err, IMC_E_CONFLICT,
                   "Infrastructure %s is being changed by another worker (process %" PRId64 ")", id,
                   pid);
  } else if (rc != SQLITE_DONE) {
    r = db_fail(s, "claim", err);
  }
  stmt_done(stmt);
  return r;
}

static int sq_claim(struct imc_store *st, const char *id, struct imc_err *err)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_PUT_CLAIM];
  pid_t pid = getpid();
  int64_t started;
  int r;

  if (store_proc_start(pid, &started) != 0)
    return imc_fail(err, IMC_E_IO, "store: claim %s: cannot read this process's start time", id);
  if ((r = sq_begin(st, err)) != 0)
    return r;
  if ((r = claim_free(s, id, err)) == 0) {
    if (bind_str(stmt, 1, id) != SQLITE_OK || bind_str(stmt, 2, s->holder) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 3, pid) != SQLITE_OK ||
        sqlite3_bind_int64(stmt, 4, started) != SQLITE_OK)
      r = bind_fail(s, stmt, "claim", err);
    else
      r = stmt_run(s, stmt, "claim", err);
  }
  if (r == 0)
    r = sq_commit(st, err);
  if (r)
    sq_abort(st);
  return r;
}

static void sq_release(struct imc_store *st, const char *id)
{
  struct sqlite_store *s = sq(st);
  sqlite3_stmt *stmt = s->stmt[ST_DEL_CLAIM];

  if (bind_str(stmt, 1, id) != SQLITE_OK || bind_str(stmt, 2, s->holder) != SQLITE_OK)
    stmt_done(stmt);
  else
    stmt_run(s, stmt, "release", NULL);
}

static const struct store_ops sqlite_ops = {
  .close = sq_close,
  .begin = sq_begin,
  .commit = sq_commit,
  .abort = sq_abort,
  .put_infra = sq_put_infra,
  .get_infra = sq_get_infra,
  .list_infras = sq_list_infras,
  .put_vm = sq_put_vm,
  .get_vms = sq_get_vms,
  .open_intents = sq_open_intents,
  .append_log = sq_append_log,
  .get_log = sq_get_log,
  .get_meta = sq_get_meta,
  .init_meta = sq_init_meta,
  .claim = sq_claim,
  .release = sq_release,
};
