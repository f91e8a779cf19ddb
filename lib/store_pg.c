/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The PostgreSQL store, for several imcd sharing one database.  One libpq connection per
 * handle; store.c holds the handle's mutex around every operation here, and from begin to the
 * outermost commit.  Every statement is parameterised (PQexecParams): no SQL is ever built
 * from values.  Numbers travel as decimal text, log chunks as bytea in binary form (a
 * contextualization log need not be valid UTF-8; a text column would refuse it).
 *
 * Claims are session advisory locks on a 64-bit key derived from the infrastructure id: the
 * server ends them when the session ends, so a process killed with -9 holds nothing.  A lost
 * connection is opened again before the next statement, but only when no transaction and no
 * claim was open on it: the server has ended those, and going on would hide it.
 *
 * Messages name the scheme ("postgresql") and the server's words, never the URL, which may
 * hold a password, and never row contents. */
#include "imc/alloc.h"
#include "imc/store.h"
#include "store_int.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHERE     "postgresql" /* how messages name this store */
#define BYTEA_OID 17           /* pg_type.h; libpq does not export the constants */
#define NUM_MAX   24           /* a decimal int64 and its NUL */

/* As store_sqlite.c: entry i moves the schema from version i to i + 1.  Ids compare bytewise
 * (COLLATE "C"), as in SQLite, whatever the database's locale.  seq keeps insertion order,
 * which SQLite's rowid gives. */
static const char *const migrations[] = {
  "CREATE TABLE meta(key TEXT COLLATE \"C\" PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE infra(id TEXT COLLATE \"C\" PRIMARY KEY,"
  " seq BIGINT GENERATED ALWAYS AS IDENTITY, created BIGINT NOT NULL,"
  " updated BIGINT NOT NULL, deleted BOOLEAN NOT NULL DEFAULT false, radl TEXT, extra TEXT);"
  "CREATE TABLE infra_owner(infra_id TEXT COLLATE \"C\" NOT NULL"
  " REFERENCES infra(id) ON DELETE CASCADE, owner TEXT COLLATE \"C\" NOT NULL,"
  " seq BIGINT GENERATED ALWAYS AS IDENTITY, PRIMARY KEY(infra_id, owner));"
  "CREATE INDEX infra_owner_by_owner ON infra_owner(owner);"
  "CREATE TABLE vm(infra_id TEXT COLLATE \"C\" NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
  " id BIGINT NOT NULL, launch TEXT NOT NULL, state TEXT NOT NULL,"
  " destroyed BOOLEAN NOT NULL DEFAULT false, cloud_id TEXT, cloud_type TEXT, instance_id TEXT,"
  " client_token TEXT, system TEXT, error TEXT, PRIMARY KEY(infra_id, id));"
  "CREATE INDEX vm_by_launch ON vm(launch, infra_id, id);"
  "CREATE TABLE log(seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
  " infra_id TEXT COLLATE \"C\" NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
  " vm_id INTEGER NOT NULL, at BIGINT NOT NULL, text BYTEA NOT NULL);"
  "CREATE INDEX log_by_vm ON log(infra_id, vm_id, seq);"
  "INSERT INTO meta(key, value) VALUES('schema_version', '1');",
};

#define SCHEMA_VERSION ((long long)(sizeof migrations / sizeof migrations[0]))

/* Processes starting together queue here to create or update the schema: the two-key form of
 * advisory locks, which never meets the one-key claims ("imc" in hex, 0). */
#define LOCK_SCHEMA "SELECT pg_advisory_xact_lock(6909283, 0)"

#define VM_COLUMNS                                                                            \
  "infra_id, id, launch, state, destroyed, cloud_id, cloud_type, instance_id, client_token, " \
  "system, error"

/* A row is written only when its infrastructure exists: a foreign key failure would abort the
 * caller's whole transaction, where SQLite fails only the statement. */
#define IF_INFRA " WHERE EXISTS (SELECT 1 FROM infra WHERE id = $1)"

#define PG_STMTS(X)                                                                            \
  X(PG_PUT_INFRA, "INSERT INTO infra(id, created, updated, deleted, radl, extra) "             \
                  "VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT(id) DO UPDATE SET "              \
                  "created = excluded.created, updated = excluded.updated, "                   \
                  "deleted = excluded.deleted, radl = excluded.radl, extra = excluded.extra")  \
  X(PG_DEL_OWNERS, "DELETE FROM infra_owner WHERE infra_id = $1")                              \
  X(PG_ADD_OWNER, "INSERT INTO infra_owner(infra_id, owner) VALUES($1, $2) "                   \
                  "ON CONFLICT DO NOTHING")                                                    \
  X(PG_GET_INFRA, "SELECT created, updated, deleted, radl, extra FROM infra WHERE id = $1")    \
  X(PG_GET_OWNERS, "SELECT owner FROM infra_owner WHERE infra_id = $1 ORDER BY seq")           \
  X(PG_HAS_INFRA, "SELECT 1 FROM infra WHERE id = $1")                                         \
  X(PG_LIST_ALL, "SELECT id FROM infra WHERE $1::boolean OR NOT deleted "                      \
                 "ORDER BY created, seq")                                                      \
  X(PG_LIST_OWNER, "SELECT i.id FROM infra AS i JOIN infra_owner AS o ON o.infra_id = i.id "   \
                   "WHERE o.owner = $1 AND ($2::boolean OR NOT i.deleted) "                    \
                   "ORDER BY i.created, i.seq")                                                \
  X(PG_PUT_VM, "INSERT INTO vm(" VM_COLUMNS ") SELECT $1, $2::bigint, $3, $4, $5::boolean, "   \
               "$6, $7, $8, $9, $10, $11" IF_INFRA " ON CONFLICT(infra_id, id) DO UPDATE SET " \
               "launch = excluded.launch, state = excluded.state, "                            \
               "destroyed = excluded.destroyed, cloud_id = excluded.cloud_id, "                \
               "cloud_type = excluded.cloud_type, instance_id = excluded.instance_id, "        \
               "client_token = excluded.client_token, system = excluded.system, "              \
               "error = excluded.error")                                                       \
  X(PG_GET_VMS, "SELECT " VM_COLUMNS " FROM vm WHERE infra_id = $1 ORDER BY id")               \
  X(PG_INTENTS, "SELECT " VM_COLUMNS " FROM vm WHERE launch = $1 ORDER BY infra_id, id")       \
  X(PG_ADD_LOG, "INSERT INTO log(infra_id, vm_id, at, text) "                                  \
                "SELECT $1, $2::integer, $3::bigint, $4::bytea" IF_INFRA)                      \
  X(PG_GET_LOG, "SELECT text FROM log WHERE infra_id = $1 AND vm_id = $2::integer "            \
                "ORDER BY seq")                                                                \
  X(PG_GET_META, "SELECT value FROM meta WHERE key = $1")                                      \
  X(PG_INIT_META, "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT(key) DO NOTHING")   \
  X(PG_CLAIM, "SELECT pg_try_advisory_lock($1::bigint)")                                       \
  X(PG_RELEASE, "SELECT pg_advisory_unlock($1::bigint)")

enum pg_stmt {
#define PG_STMT_ENUM(name, sql) name,
  PG_STMTS(PG_STMT_ENUM)
#undef PG_STMT_ENUM
    PG_COUNT
};

static const char *const pg_sql[] = {
#define PG_STMT_SQL(name, sql) sql,
  PG_STMTS(PG_STMT_SQL)
#undef PG_STMT_SQL
};

struct pg_store {
  struct imc_store base; /* first: store.c sees only this */
  PGconn *conn;
};

static struct pg_store *pg(struct imc_store *st)
{
  return (struct pg_store *)st;
}

/* --- errors and statements --------------------------------------------------------------- */

/* The first line of libpq's message, for "store: postgresql: <line>". */
static int conn_fail(PGconn *conn, const char *what, struct imc_err *err)
{
  const char *msg, *pw;
  size_t n;

  if (!conn)
    return imc_fail(err, IMC_E_NOMEM, "store: " WHERE ": %s: out of memory", what);
  msg = PQerrorMessage(conn);
  pw = PQpass(conn);
  n = strcspn(msg, "\n");
  /* libpq does not repeat passwords in its messages; make sure of it all the same. */
  if (pw && *pw && memmem(msg, n, pw, strlen(pw)))
    return imc_fail(err, IMC_E_IO, "store: " WHERE ": %s failed", what);
  return imc_fail(err, IMC_E_IO, "store: " WHERE ": %s: %.*s", what, (int)n, msg);
}

static int result_fail(struct pg_store *p, PGresult *res, const char *what, struct imc_err *err)
{
  const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

  if (!res)
    return imc_fail(err, IMC_E_NOMEM, "store: %s: out of memory", what);
  if (!primary) /* a client-side failure (connection lost): libpq's own words */
    return conn_fail(p->conn, what, err);
  return imc_fail(err, IMC_E_IO, "store: %s: %s", what, primary);
}

/* Opens the connection again when the server ended it, if nothing was lost with it. */
static int conn_ready(struct pg_store *p, struct imc_err *err)
{
  if (PQstatus(p->conn) == CONNECTION_OK)
    return 0;
  if (p->base.depth > 0 || p->base.nclaims > 0)
    return imc_fail(err, IMC_E_IO, "store: " WHERE ": connection lost with %s open",
                    p->base.depth > 0 ? "a transaction" : "infrastructure claims");
  PQreset(p->conn);
  if (PQstatus(p->conn) != CONNECTION_OK)
    return conn_fail(p->conn, "reconnect", err);
  return 0;
}

/* Runs a statement with n text parameters (NULL: SQL NULL) and text results.  *out gets the
 * result (caller PQclears) when out is not NULL.  A failure inside a transaction dooms it:
 * the server has aborted it already. */
static int run_full(struct pg_store *p, const char *sql, int n, const char *const *vals,
                    const Oid *types, const int *lens, const int *fmts, int result_fmt,
                    const char *what, PGresult **out, struct imc_err *err)
{
  PGresult *res;
  ExecStatusType s;
  int r;

  if (out)
    *out = NULL;
  if ((r = conn_ready(p, err)) == 0) {
    res = PQexecParams(p->conn, sql, n, types, vals, lens, fmts, result_fmt);
    s = PQresultStatus(res);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
      if (out)
        *out = res;
      else
        PQclear(res);
      return 0;
    }
    r = result_fail(p, res, what, err);
    PQclear(res);
  }
  if (p->base.depth > 0)
    p->base.doomed = true;
  return r;
}

static int run(struct pg_store *p, enum pg_stmt which, int n, const char *const *vals,
               const char *what, PGresult **out, struct imc_err *err)
{
  return run_full(p, pg_sql[which], n, vals, NULL, NULL, NULL, 0, what, out, err);
}

static const char *num(char buf[NUM_MAX], int64_t v)
{
  snprintf(buf, NUM_MAX, "%" PRId64, v);
  return buf;
}

static const char *boolean(bool v)
{
  return v ? "t" : "f";
}

/* A column's text, NULL for SQL NULL. */
static const char *value(const PGresult *res, int row, int col)
{
  return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* A copy of a column into *out: NULL stays NULL, "" stays "". */
static int column_dup(const PGresult *res, int row, int col, char **out)
{
  const char *v = value(res, row, col);

  *out = NULL;
  if (!v)
    return 0;
  *out = imc_strndup(v, (size_t)PQgetlength(res, row, col));
  return *out ? 0 : IMC_E_NOMEM;
}

static int64_t column_int(const PGresult *res, int row, int col)
{
  const char *v = value(res, row, col);

  return v ? strtoll(v, NULL, 10) : 0;
}

static bool column_bool(const PGresult *res, int row, int col)
{
  const char *v = value(res, row, col);

  return v && v[0] == 't';
}

/* --- transactions ------------------------------------------------------------------------ */

static int exec_simple(struct pg_store *p, const char *sql, const char *what, PGresult **out,
                       struct imc_err *err)
{
  return run_full(p, sql, 0, NULL, NULL, NULL, NULL, 0, what, out, err);
}

static int pg_begin(struct imc_store *st, struct imc_err *err)
{
  return exec_simple(pg(st), "BEGIN", "begin", NULL, err);
}

/* COMMIT of a transaction the server aborted answers ROLLBACK, not an error. */
static int pg_commit(struct imc_store *st, struct imc_err *err)
{
  PGresult *res;
  int r;

  if ((r = exec_simple(pg(st), "COMMIT", "commit", &res, err)) != 0)
    return r;
  if (strcmp(PQcmdStatus(res), "COMMIT") != 0)
    r = imc_fail(err, IMC_E_IO, "store: commit: the server rolled the transaction back");
  PQclear(res);
  return r;
}

static void pg_abort(struct imc_store *st)
{
  PGTransactionStatusType t = PQtransactionStatus(pg(st)->conn);

  if (t == PQTRANS_INTRANS || t == PQTRANS_INERROR)
    PQclear(PQexec(pg(st)->conn, "ROLLBACK"));
}

/* --- open and close ---------------------------------------------------------------------- */

/* libpq prints notices (a redundant unlock, a rollback outside a transaction) on stderr; the
 * library stays quiet. */
static void quiet(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

/* The schema version in the database; 0 for a new one. */
static int schema_version(struct pg_store *p, long long *version, struct imc_err *err)
{
  static const char *const key[] = {"schema_version"};
  PGresult *res;
  bool exists;
  int r;

  *version = 0;
  if ((r = exec_simple(p, "SELECT to_regclass('meta') IS NOT NULL", "read schema version", &res,
                       err)) != 0)
    return r;
  exists = PQntuples(res) == 1 && column_bool(res, 0, 0);
  PQclear(res);
  if (!exists)
    return 0;
  if ((r = run(p, PG_GET_META, 1, key, "read schema version", &res, err)) != 0)
    return r;
  if (PQntuples(res) == 1)
    *version = column_int(res, 0, 0);
  PQclear(res);
  return 0;
}

/* Brings the schema to SCHEMA_VERSION in one transaction, under LOCK_SCHEMA. */
static int migrate(struct pg_store *p, struct imc_err *err)
{
  long long v;
  int r;

  if ((r = exec_simple(p, "BEGIN", "begin schema update", NULL, err)) != 0)
    return r;
  if ((r = exec_simple(p, LOCK_SCHEMA, "lock schema", NULL, err)) != 0 ||
      (r = schema_version(p, &v, err)) != 0)
    goto out;
  if (v > SCHEMA_VERSION || v < 0) {
    r = imc_fail(err, IMC_E_INVAL, "store %s has schema version %lld; this imc knows up to %lld",
                 WHERE, v, SCHEMA_VERSION);
    goto out;
  }
  for (; v < SCHEMA_VERSION && r == 0; v++) {
    PGresult *res = PQexec(p->conn, migrations[v]); /* constant DDL, several statements */

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
      r = result_fail(p, res, "update schema", err);
    PQclear(res);
  }
  if (r == 0)
    r = pg_commit(&p->base, err);
out:
  pg_abort(&p->base);
  return r;
}

static int pg_connect(struct pg_store *p, const char *url, struct imc_err *err)
{
  /* expand_dbname: the URL supplies everything; the later keys override it. */
  static const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name",
                                     NULL};
  const char *vals[] = {url, "UTF8", "imc", NULL};
  PQconninfoOption *opts;
  char *msg = NULL;

  /* Checked first because libpq's parse errors quote the part of the URL they stumble on. */
  if (!(opts = PQconninfoParse(url, &msg))) {
    if (!msg)
      return imc_fail(err, IMC_E_NOMEM, "store: " WHERE ": out of memory");
    PQfreemem(msg);
    return imc_fail(err, IMC_E_INVAL, "store: " WHERE ": the URL is not valid libpq URI syntax");
  }
  PQconninfoFree(opts);
  p->conn = PQconnectdbParams(keys, vals, 1);
  if (!p->conn || PQstatus(p->conn) != CONNECTION_OK)
    return conn_fail(p->conn, "connect", err);
  PQsetNoticeProcessor(p->conn, quiet, NULL);
  return migrate(p, err);
}

static void pg_close(struct imc_store *st)
{
  struct pg_store *p = pg(st);

  /* The server would end the claims with the session anyway, but only once it has noticed
   * the end: giving them back first lets another handle take them as soon as this returns. */
  if (st->nclaims > 0 && PQstatus(p->conn) == CONNECTION_OK)
    PQclear(PQexec(p->conn, "SELECT pg_advisory_unlock_all()"));
  PQfinish(p->conn);
  store_base_cleanup(st);
  imc_free(p);
}

static const struct store_ops pg_ops;

int store_pg_open(const char *url, struct imc_store **out, struct imc_err *err)
{
  struct pg_store *p;
  int r;

  *out = NULL;
  if (!(p = imc_calloc(1, sizeof *p)))
    return imc_fail(err, IMC_E_NOMEM, "store: out of memory");
  if ((r = store_base_init(&p->base, &pg_ops, err)) != 0) {
    imc_free(p);
    return r;
  }
  if ((r = pg_connect(p, url, err)) != 0) {
    pg_close(&p->base);
    return r;
  }
  *out = &p->base;
  return 0;
}

/* --- infrastructures --------------------------------------------------------------------- */

static int pg_put_infra(struct imc_store *st, const struct imc_store_infra *inf,
                        struct imc_err *err)
{
  struct pg_store *p = pg(st);
  char created[NUM_MAX], updated[NUM_MAX];
  const char *row[] = {inf->id,
                       num(created, inf->created),
                       num(updated, inf->updated),
                       boolean(inf->deleted),
                       inf->radl,
                       inf->extra};
  int r;

  if ((r = run(p, PG_PUT_INFRA, 6, row, "put infrastructure", NULL, err)) != 0 ||
      (r = run(p, PG_DEL_OWNERS, 1, row, "put owners", NULL, err)) != 0)
    return r;
  for (size_t i = 0; i < inf->nowners && r == 0; i++) {
    const char *owner[] = {inf->id, inf->owners[i]};

    r = run(p, PG_ADD_OWNER, 2, owner, "put owners", NULL, err);
  }
  return r;
}

/* Appends the first column of every row of res to *ids. */
static int collect_ids(const PGresult *res, const char *what, char ***ids, size_t *n,
                       struct imc_err *err)
{
  size_t cap = *n;

  for (int i = 0; i < PQntuples(res); i++) {
    char *id;

    if (imc_grow((void **)ids, &cap, *n + 1, sizeof **ids) != 0 || column_dup(res, i, 0, &id) != 0)
      return imc_fail(err, IMC_E_NOMEM, "store: %s: out of memory", what);
    if (!id)
      return imc_fail(err, IMC_E_INTERNAL, "store " WHERE ": %s: NULL value", what);
    (*ids)[(*n)++] = id;
  }
  return 0;
}

/* Runs a statement and collects its first column. */
static int select_ids(struct pg_store *p, enum pg_stmt which, int n, const char *const *vals,
                      const char *what, char ***ids, size_t *count, struct imc_err *err)
{
  PGresult *res;
  int r;

  if ((r = run(p, which, n, vals, what, &res, err)) != 0)
    return r;
  r = collect_ids(res, what, ids, count, err);
  PQclear(res);
  return r;
}

static int pg_get_infra(struct imc_store *st, struct imc_store_infra *inf, struct imc_err *err)
{
  struct pg_store *p = pg(st);
  const char *id[] = {inf->id};
  PGresult *res;
  int r = 0;

  if ((r = run(p, PG_GET_INFRA, 1, id, "get infrastructure", &res, err)) != 0)
    return r;
  if (PQntuples(res) == 0) {
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", inf->id);
  } else {
    inf->created = column_int(res, 0, 0);
    inf->updated = column_int(res, 0, 1);
    inf->deleted = column_bool(res, 0, 2);
    if (column_dup(res, 0, 3, &inf->radl) != 0 || column_dup(res, 0, 4, &inf->extra) != 0)
      r = imc_fail(err, IMC_E_NOMEM, "store: get infrastructure: out of memory");
  }
  PQclear(res);
  if (r)
    return r;
  return select_ids(p, PG_GET_OWNERS, 1, id, "get owners", &inf->owners, &inf->nowners, err);
}

static int pg_list_infras(struct imc_store *st, const char *owner, bool include_deleted,
                          char ***ids, size_t *n, struct imc_err *err)
{
  const char *vals[] = {owner, boolean(include_deleted)};

  if (owner)
    return select_ids(pg(st), PG_LIST_OWNER, 2, vals, "list infrastructures", ids, n, err);
  return select_ids(pg(st), PG_LIST_ALL, 1, vals + 1, "list infrastructures", ids, n, err);
}

/* --- VMs --------------------------------------------------------------------------------- */

#define VM_STR_COL 5 /* the first string column of a VM row */

static int pg_put_vm(struct imc_store *st, const struct imc_store_vm *vm, struct imc_err *err)
{
  char id[NUM_MAX];
  const char *row[VM_STR_COL + STORE_VM_NSTR] = {
    vm->infra_id, num(id, vm->id), store_launch_name(vm->launch), imc_vm_state_name(vm->state),
    boolean(vm->destroyed)};
  PGresult *res;
  int r;

  for (size_t i = 0; i < STORE_VM_NSTR; i++)
    row[VM_STR_COL + i] = *store_vm_str((struct imc_store_vm *)vm, i);
  if ((r = run(pg(st), PG_PUT_VM, VM_STR_COL + STORE_VM_NSTR, row, "put VM", &res, err)) != 0)
    return r;
  if (strcmp(PQcmdTuples(res), "0") == 0)
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", vm->infra_id);
  PQclear(res);
  return r;
}

/* Fills vm (zeroed by the caller) from row i of a VM_COLUMNS select. */
static int read_vm(const PGresult *res, int i, struct imc_store_vm *vm, struct imc_err *err)
{
  int r;

  if ((r = store_vm_set_infra_id(vm, value(res, i, 0), (size_t)PQgetlength(res, i, 0), WHERE,
                                 err)) != 0)
    return r;
  vm->id = (unsigned)column_int(res, i, 1);
  vm->destroyed = column_bool(res, i, 4);
  if ((r = store_vm_set_names(vm, value(res, i, 2), value(res, i, 3), WHERE, err)) != 0)
    return r;
  for (size_t f = 0; f < STORE_VM_NSTR; f++)
    if (column_dup(res, i, VM_STR_COL + (int)f, store_vm_str(vm, f)) != 0)
      return imc_fail(err, IMC_E_NOMEM, "store: get VMs: out of memory");
  return 0;
}

static int select_vms(struct pg_store *p, enum pg_stmt which, const char *key,
                      struct imc_store_vm **vms, size_t *n, struct imc_err *err)
{
  const char *vals[] = {key};
  size_t cap = 0;
  PGresult *res;
  int r;

  if ((r = run(p, which, 1, vals, "get VMs", &res, err)) != 0)
    return r;
  for (int i = 0; i < PQntuples(res) && r == 0; i++) {
    if (imc_grow((void **)vms, &cap, *n + 1, sizeof **vms) != 0) {
      r = imc_fail(err, IMC_E_NOMEM, "store: get VMs: out of memory");
      break;
    }
    memset(&(*vms)[*n], 0, sizeof **vms);
    (*n)++; /* counted before it is filled, so that a failure frees what it got */
    r = read_vm(res, i, &(*vms)[*n - 1], err);
  }
  PQclear(res);
  return r;
}

static int has_infra(struct pg_store *p, const char *id, struct imc_err *err)
{
  const char *vals[] = {id};
  PGresult *res;
  int r;

  if ((r = run(p, PG_HAS_INFRA, 1, vals, "find infrastructure", &res, err)) != 0)
    return r;
  if (PQntuples(res) == 0)
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", id);
  PQclear(res);
  return r;
}

static int pg_get_vms(struct imc_store *st, const char *infra_id, struct imc_store_vm **vms,
                      size_t *n, struct imc_err *err)
{
  int r;

  if ((r = has_infra(pg(st), infra_id, err)) != 0)
    return r;
  return select_vms(pg(st), PG_GET_VMS, infra_id, vms, n, err);
}

static int pg_open_intents(struct imc_store *st, struct imc_store_vm **vms, size_t *n,
                           struct imc_err *err)
{
  return select_vms(pg(st), PG_INTENTS, store_launch_name(IMC_LAUNCH_INTENT), vms, n, err);
}

/* --- logs -------------------------------------------------------------------------------- */

static int pg_append_log(struct imc_store *st, const char *infra_id, int vm_id, int64_t when,
                         const char *text, struct imc_err *err)
{
  static const Oid types[] = {0, 0, 0, BYTEA_OID};
  static const int fmts[] = {0, 0, 0, 1};
  char vm[NUM_MAX], at[NUM_MAX];
  const char *vals[] = {infra_id, num(vm, vm_id), num(at, when), text};
  size_t len = strlen(text);
  int lens[] = {0, 0, 0, (int)len};
  PGresult *res;
  int r;

  if (len > INT32_MAX)
    return imc_fail(err, IMC_E_TOOBIG, "store: append log: chunk too long");
  if ((r = run_full(pg(st), pg_sql[PG_ADD_LOG], 4, vals, types, lens, fmts, 0, "append log", &res,
                    err)) != 0)
    return r;
  if (strcmp(PQcmdTuples(res), "0") == 0)
    r = imc_fail(err, IMC_E_NOTFOUND, "infrastructure %s not found", infra_id);
  PQclear(res);
  return r;
}

static int pg_get_log(struct imc_store *st, const char *infra_id, int vm_id, struct imc_buf *out,
                      struct imc_err *err)
{
  char vm[NUM_MAX];
  const char *vals[] = {infra_id, num(vm, vm_id)};
  PGresult *res;
  int r;

  if ((r = has_infra(pg(st), infra_id, err)) != 0)
    return r;
  /* Binary results: the bytes as appended, not bytea's hex text. */
  if ((r = run_full(pg(st), pg_sql[PG_GET_LOG], 2, vals, NULL, NULL, NULL, 1, "get log", &res,
                    err)) != 0)
    return r;
  for (int i = 0; i < PQntuples(res); i++)
    imc_buf_add(out, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
  PQclear(res);
  if (imc_buf_err(out))
    return imc_fail(err, imc_buf_err(out), "store: get log: %s",
                    imc_buf_err(out) == IMC_E_NOMEM ? "out of memory" : "log too long");
  return 0;
}

/* --- meta -------------------------------------------------------------------------------- */

static int pg_get_meta(struct imc_store *st, const char *key, char **v, struct imc_err *err)
{
  const char *vals[] = {key};
  PGresult *res;
  int r;

  if ((r = run(pg(st), PG_GET_META, 1, vals, "get meta", &res, err)) != 0)
    return r;
  if (PQntuples(res) == 0)
    r = imc_fail(err, IMC_E_NOTFOUND, "store: no value for '%.64s'", key);
  else if (column_dup(res, 0, 0, v) != 0)
    r = imc_fail(err, IMC_E_NOMEM, "store: get meta: out of memory");
  PQclear(res);
  return r;
}

/* The insert does nothing when the key is set: the value read back is whoever won. */
static int pg_init_meta(struct imc_store *st, const char *key, const char *v, char **winner,
                        struct imc_err *err)
{
  const char *vals[] = {key, v};
  int r;

  if ((r = run(pg(st), PG_INIT_META, 2, vals, "init meta", NULL, err)) != 0)
    return r;
  return pg_get_meta(st, key, winner, err);
}

/* --- claims ------------------------------------------------------------------------------ */

/* FNV-1a, 64 bits, as the signed key the advisory lock functions take. */
static const char *claim_key(char buf[NUM_MAX], const char *id)
{
  uint64_t h = 0xcbf29ce484222325u;

  for (const unsigned char *c = (const unsigned char *)id; *c; c++)
    h = (h ^ *c) * 0x100000001b3u;
  /* The two's complement reading of h, without the implementation-defined conversion. */
  return num(buf, h > INT64_MAX ? -(int64_t)(~h) - 1 : (int64_t)h);
}

static int pg_claim(struct imc_store *st, const char *id, struct imc_err *err)
{
  char key[NUM_MAX];
  const char *vals[] = {claim_key(key, id)};
  PGresult *res;
  int r;

  if ((r = run(pg(st), PG_CLAIM, 1, vals, "claim", &res, err)) != 0)
    return r;
  if (PQntuples(res) != 1 || !column_bool(res, 0, 0))
    r = imc_fail(err, IMC_E_CONFLICT, "Infrastructure %s is being changed by another worker", id);
  PQclear(res);
  return r;
}

static void pg_release(struct imc_store *st, const char *id)
{
  char key[NUM_MAX];
  const char *vals[] = {claim_key(key, id)};

  run(pg(st), PG_RELEASE, 1, vals, "release", NULL, NULL);
}

static const struct store_ops pg_ops = {
  .close = pg_close,
  .begin = pg_begin,
  .commit = pg_commit,
  .abort = pg_abort,
  .put_infra = pg_put_infra,
  .get_infra = pg_get_infra,
  .list_infras = pg_list_infras,
  .put_vm = pg_put_vm,
  .get_vms = pg_get_vms,
  .open_intents = pg_open_intents,
  .append_log = pg_append_log,
  .get_log = pg_get_log,
  .get_meta = pg_get_meta,
  .init_meta = pg_init_meta,
  .claim = pg_claim,
  .release = pg_release,
};
