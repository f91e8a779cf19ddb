/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store, on either backend: round trips, filters, transactions, crash survival, threads,
 * meta values and infrastructure claims.  IMC_TEST_PG_URL unset: SQLite in a temporary file;
 * set (test/pg/with-postgres does it): that PostgreSQL database.  The tests every backend must
 * pass run on both; a few run on one backend only (files and WAL for SQLite; connections and
 * sessions for PostgreSQL, in test_store_pg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/store.h"

#define NTHREADS       4
#define VMS_PER_THREAD 200

/* test_store_pg.c */
void pg_raw_exec(const char *sql);
long long pg_raw_count(const char *sql);
void pg_wait_claims_gone(void);
void test_store_pg_unreachable_server_error_hides_url(void **state);
void test_store_pg_malformed_url_error_hides_it(void **state);
void test_store_pg_claim_ends_with_its_session(void **state);
void test_store_pg_lost_session_is_reopened(void **state);

/* One temporary directory per test, holding the SQLite database and its -wal and -shm files. */
static char dir[64];
static char path[128];
static const char *pg_url; /* NULL: the tests run on SQLite */

/* The store under test. */
static const char *store_url(void)
{
  return pg_url ? pg_url : path;
}

/* Each test starts from an empty store: a new file, or an empty PostgreSQL schema. */
static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/imc-store-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(path, sizeof path, "%s/imc.db", dir);
  if (pg_url)
    pg_raw_exec("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
  return 0;
}

static int teardown(void **state)
{
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  char name[160];

  (void)state;
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
    unlink(name);
  }
  return rmdir(dir);
}

static struct imc_store *open_store(void)
{
  struct imc_store *st = NULL;
  struct imc_err err = {0};

  assert_int_equal(imc_store_open(store_url(), &st, &err), 0);
  assert_non_null(st);
  return st;
}

/* An infrastructure with every field set; owners must outlive the struct's use. */
static struct imc_store_infra make_infra(const char *id, int64_t created, char **owners,
                                         size_t nowners)
{
  struct imc_store_infra inf = {.created = created,
                                .updated = created + 1,
                                .radl = "[radl]",
                                .extra = "{\"x\":1}",
                                .owners = owners,
                                .nowners = nowners};

  snprintf(inf.id, sizeof inf.id, "%s", id);
  return inf;
}

static void put_infra(struct imc_store *st, const char *id, int64_t created, const char *owner,
                      bool deleted)
{
  char *owners[] = {(char *)owner};
  struct imc_store_infra inf = make_infra(id, created, owners, owner ? 1 : 0);
  struct imc_err err = {0};

  inf.deleted = deleted;
  assert_int_equal(imc_store_put_infra(st, &inf, &err), 0);
}

static struct imc_store_vm make_vm(const char *infra_id, unsigned id, enum imc_launch_state launch)
{
  struct imc_store_vm vm = {.id = id,
                            .launch = launch,
                            .state = IMC_VM_RUNNING,
                            .cloud_id = "one",
                            .cloud_type = "Dummy",
                            .instance_id = "i-1",
                            .client_token = "tok",
                            .system = "{\"class\":\"system\"}",
                            .error = NULL};

  snprintf(vm.infra_id, sizeof vm.infra_id, "%s", infra_id);
  return vm;
}

static void put_vm(struct imc_store *st, const char *infra_id, unsigned id, enum imc_launch_state l)
{
  struct imc_store_vm vm = make_vm(infra_id, id, l);
  struct imc_err err = {0};

  assert_int_equal(imc_store_put_vm(st, &vm, &err), 0);
}

/* Runs one statement on a plain second connection, as another tool would. */
static void raw_exec(const char *sql)
{
  sqlite3 *db = NULL;

  if (pg_url) {
    pg_raw_exec(sql);
    return;
  }
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

/* How many infra rows a second connection sees (committed data only). */
static int raw_count_infras(void)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;
  int n;

  if (pg_url)
    return (int)pg_raw_count("SELECT count(*) FROM infra");
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM infra", -1, &s, NULL), 0);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  n = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return n;
}

static void assert_ids(char **ids, size_t n, const char *const *want, size_t nwant)
{
  assert_int_equal(n, nwant);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(ids[i], want[i]);
}

static void assert_list(struct imc_store *st, const char *owner, bool deleted,
                        const char *const *want, size_t nwant)
{
  struct imc_err err = {0};
  char **ids = NULL;
  size_t n = 0;

  assert_int_equal(imc_store_list_infras(st, owner, deleted, &ids, &n, &err), 0);
  assert_ids(ids, n, want, nwant);
  imc_store_ids_free(ids, n);
}

static void test_store_infra_round_trips_every_field(void **state)
{
  struct imc_store *st = open_store();
  char *owners[] = {"alice", "bob"};
  struct imc_store_infra in = make_infra("inf-1", 1000, owners, 2), out = {0};
  struct imc_err err = {0};

  (void)state;
  in.deleted = true;
  assert_int_equal(imc_store_put_infra(st, &in, &err), 0);
  assert_int_equal(imc_store_get_infra(st, "inf-1", &out, &err), 0);
  assert_string_equal(out.id, "inf-1");
  assert_int_equal(out.created, 1000);
  assert_int_equal(out.updated, 1001);
  assert_true(out.deleted);
  assert_string_equal(out.radl, "[radl]");
  assert_string_equal(out.extra, "{\"x\":1}");
  assert_int_equal(out.nowners, 2);
  assert_string_equal(out.owners[0], "alice");
  assert_string_equal(out.owners[1], "bob");
  imc_store_infra_cleanup(&out);
  imc_store_close(st);
}

static void test_store_infra_null_stays_null_and_empty_stays_empty(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_infra in = make_infra("inf-1", 5, NULL, 0), out = {0};
  struct imc_err err = {0};

  (void)state;
  in.radl = NULL;
  in.extra = "";
  assert_int_equal(imc_store_put_infra(st, &in, &err), 0);
  assert_int_equal(imc_store_get_infra(st, "inf-1", &out, &err), 0);
  assert_null(out.radl);
  assert_non_null(out.extra);
  assert_string_equal(out.extra, "");
  assert_false(out.deleted);
  assert_int_equal(out.nowners, 0);
  imc_store_infra_cleanup(&out);
  imc_store_close(st);
}

static void test_store_put_infra_replaces_row_and_owners(void **state)
{
  struct imc_store *st = open_store();
  char *first[] = {"alice", "bob"}, *second[] = {"carol"};
  struct imc_store_infra in = make_infra("inf-1", 5, first, 2), out = {0};
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_put_infra(st, &in, &err), 0);
  in = make_infra("inf-1", 5, second, 1);
  in.updated = 99;
  in.radl = "new";
  assert_int_equal(imc_store_put_infra(st, &in, &err), 0);
  assert_int_equal(imc_store_get_infra(st, "inf-1", &out, &err), 0);
  assert_int_equal(out.updated, 99);
  assert_string_equal(out.radl, "new");
  assert_int_equal(out.nowners, 1);
  assert_string_equal(out.owners[0], "carol");
  imc_store_infra_cleanup(&out);
  assert_list(st, "alice", true, NULL, 0);
  imc_store_close(st);
}

static void test_store_get_missing_infra_is_notfound(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_infra out = {0};
  struct imc_store_vm *vms = NULL;
  struct imc_buf log;
  struct imc_err err = {0};
  size_t n = 0;

  (void)state;
  assert_int_equal(imc_store_get_infra(st, "nope", &out, &err), IMC_E_NOTFOUND);
  assert_non_null(strstr(err.msg, "nope"));
  imc_err_clear(&err);
  assert_int_equal(imc_store_get_vms(st, "nope", &vms, &n, &err), IMC_E_NOTFOUND);
  assert_null(vms);
  imc_buf_init(&log, 1024);
  imc_err_clear(&err);
  assert_int_equal(imc_store_get_log(st, "nope", -1, &log, &err), IMC_E_NOTFOUND);
  imc_buf_free(&log);
  imc_store_close(st);
}

static void test_store_list_filters_by_owner(void **state)
{
  static const char *const alice[] = {"a1", "a2"}, *const bob[] = {"b1"},
                           *const all[] = {"a1", "b1", "a2"};
  struct imc_store *st = open_store();

  (void)state;
  put_infra(st, "a1", 10, "alice", false);
  put_infra(st, "b1", 20, "bob", false);
  put_infra(st, "a2", 30, "alice", false);
  assert_list(st, "alice", false, alice, 2);
  assert_list(st, "bob", false, bob, 1);
  assert_list(st, "nobody", false, NULL, 0);
  assert_list(st, NULL, false, all, 3);
  imc_store_close(st);
}

static void test_store_list_excludes_deleted_and_orders_by_creation(void **state)
{
  static const char *const live[] = {"early", "late"}, *const every[] = {"early", "same-1",
                                                                         "same-2", "late"};
  struct imc_store *st = open_store();

  (void)state;
  put_infra(st, "late", 300, "alice", false);
  put_infra(st, "same-1", 200, "alice", true); /* equal times: insertion order decides */
  put_infra(st, "same-2", 200, "alice", true);
  put_infra(st, "early", 100, "alice", false);
  assert_list(st, NULL, false, live, 2);
  assert_list(st, NULL, true, every, 4);
  assert_list(st, "alice", false, live, 2);
  assert_list(st, "alice", true, every, 4);
  imc_store_close(st);
}

static void test_store_vm_round_trips_every_field(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_vm in = make_vm("inf-1", 7, IMC_LAUNCH_FAILED), in2, *vms = NULL;
  struct imc_err err = {0};
  size_t n = 0;

  (void)state;
  put_infra(st, "inf-1", 1, "alice", false);
  in.state = IMC_VM_DELETING;
  in.destroyed = true;
  in.error = "quota exceeded";
  in2 = make_vm("inf-1", 2, IMC_LAUNCH_DONE);
  in2.cloud_id = NULL;
  in2.instance_id = "";
  assert_int_equal(imc_store_put_vm(st, &in, &err), 0);
  assert_int_equal(imc_store_put_vm(st, &in2, &err), 0);
  assert_int_equal(imc_store_get_vms(st, "inf-1", &vms, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_int_equal(vms[0].id, 2); /* by id */
  assert_null(vms[0].cloud_id);
  assert_string_equal(vms[0].instance_id, "");
  assert_null(vms[0].error);
  assert_int_equal(vms[0].launch, IMC_LAUNCH_DONE);
  assert_string_equal(vms[1].infra_id, "inf-1");
  assert_int_equal(vms[1].id, 7);
  assert_int_equal(vms[1].launch, IMC_LAUNCH_FAILED);
  assert_int_equal(vms[1].state, IMC_VM_DELETING);
  assert_true(vms[1].destroyed);
  assert_string_equal(vms[1].cloud_id, "one");
  assert_string_equal(vms[1].cloud_type, "Dummy");
  assert_string_equal(vms[1].instance_id, "i-1");
  assert_string_equal(vms[1].client_token, "tok");
  assert_string_equal(vms[1].system, "{\"class\":\"system\"}");
  assert_string_equal(vms[1].error, "quota exceeded");
  imc_store_vms_free(vms, n);
  imc_store_close(st);
}

static void test_store_open_intents_span_infrastructures(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_vm *vms = NULL;
  struct imc_err err = {0};
  size_t n = 0;

  (void)state;
  put_infra(st, "b", 1, NULL, false);
  put_infra(st, "a", 2, NULL, false);
  put_vm(st, "b", 0, IMC_LAUNCH_INTENT);
  put_vm(st, "b", 1, IMC_LAUNCH_DONE);
  put_vm(st, "a", 3, IMC_LAUNCH_INTENT);
  put_vm(st, "a", 1, IMC_LAUNCH_FAILED);
  assert_int_equal(imc_store_open_intents(st, &vms, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(vms[0].infra_id, "a");
  assert_int_equal(vms[0].id, 3);
  assert_string_equal(vms[1].infra_id, "b");
  assert_int_equal(vms[1].id, 0);
  imc_store_vms_free(vms, n);
  put_vm(st, "a", 3, IMC_LAUNCH_DONE); /* the outcome settles the intent */
  assert_int_equal(imc_store_open_intents(st, &vms, &n, &err), 0);
  assert_int_equal(n, 1);
  imc_store_vms_free(vms, n);
  imc_store_close(st);
}

static void test_store_put_vm_of_missing_infra_is_notfound(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_vm vm = make_vm("ghost", 0, IMC_LAUNCH_INTENT);
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_put_vm(st, &vm, &err), IMC_E_NOTFOUND);
  assert_non_null(strstr(err.msg, "ghost"));
  imc_store_close(st);
}

static void test_store_logs_append_in_order(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  struct imc_buf b;

  (void)state;
  put_infra(st, "inf", 1, NULL, false);
  assert_int_equal(imc_store_append_log(st, "inf", -1, 1, "infra one\n", &err), 0);
  assert_int_equal(imc_store_append_log(st, "inf", 0, 2, "vm0 one\n", &err), 0);
  assert_int_equal(imc_store_append_log(st, "inf", -1, 3, "infra two\n", &err), 0);
  assert_int_equal(imc_store_append_log(st, "inf", 0, 4, "vm0 two\n", &err), 0);
  imc_buf_init(&b, 4096);
  assert_int_equal(imc_store_get_log(st, "inf", -1, &b, &err), 0);
  assert_string_equal(imc_buf_cstr(&b), "infra one\ninfra two\n");
  imc_buf_reset(&b);
  assert_int_equal(imc_store_get_log(st, "inf", 0, &b, &err), 0);
  assert_string_equal(imc_buf_cstr(&b), "vm0 one\nvm0 two\n");
  imc_buf_reset(&b);
  assert_int_equal(imc_store_get_log(st, "inf", 5, &b, &err), 0);
  assert_int_equal(b.len, 0);
  imc_buf_free(&b);
  imc_store_close(st);
}

static void test_store_nested_transactions_commit_once(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_begin(st, &err), 0);
  put_infra(st, "one", 1, "alice", false); /* its own begin/commit nests inside ours */
  assert_int_equal(imc_store_begin(st, &err), 0);
  put_infra(st, "two", 2, "alice", false);
  assert_int_equal(imc_store_commit(st, &err), 0);
  assert_int_equal(raw_count_infras(), 0); /* the inner commit committed nothing */
  assert_int_equal(imc_store_commit(st, &err), 0);
  assert_int_equal(raw_count_infras(), 2);
  assert_int_equal(imc_store_commit(st, &err), IMC_E_INTERNAL); /* no begin left */
  imc_store_close(st);
}

static void test_store_rollback_discards_writes(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_infra out = {0};
  struct imc_err err = {0};

  (void)state;
  put_infra(st, "kept", 1, NULL, false);
  assert_int_equal(imc_store_begin(st, &err), 0);
  put_infra(st, "gone", 2, NULL, false);
  put_vm(st, "kept", 0, IMC_LAUNCH_INTENT);
  imc_store_rollback(st);
  assert_int_equal(imc_store_get_infra(st, "gone", &out, &err), IMC_E_NOTFOUND);
  {
    struct imc_store_vm *vms = NULL;
    size_t n = 9;

    assert_int_equal(imc_store_get_vms(st, "kept", &vms, &n, &err), 0);
    assert_int_equal(n, 0);
    imc_store_vms_free(vms, n);
  }
  imc_store_close(st);
}

static void test_store_inner_rollback_undoes_the_outermost(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_begin(st, &err), 0);
  put_infra(st, "one", 1, NULL, false);
  assert_int_equal(imc_store_begin(st, &err), 0);
  put_infra(st, "two", 2, NULL, false);
  imc_store_rollback(st);
  put_infra(st, "three", 3, NULL, false);
  assert_int_equal(imc_store_commit(st, &err), IMC_E_IO);
  assert_list(st, NULL, true, NULL, 0);
  put_infra(st, "after", 4, NULL, false); /* the store works on afterwards */
  assert_int_equal(raw_count_infras(), 1);
  imc_store_close(st);
}

static void test_store_reopen_sees_everything(void **state)
{
  static const char *const ids[] = {"inf"};
  struct imc_store *st = open_store();
  struct imc_store_vm *vms = NULL;
  struct imc_err err = {0};
  struct imc_buf b;
  size_t n = 0;

  (void)state;
  put_infra(st, "inf", 1, "alice", false);
  put_vm(st, "inf", 0, IMC_LAUNCH_INTENT);
  assert_int_equal(imc_store_append_log(st, "inf", -1, 1, "hello", &err), 0);
  imc_store_close(st);
  st = open_store();
  assert_list(st, "alice", false, ids, 1);
  assert_int_equal(imc_store_open_intents(st, &vms, &n, &err), 0);
  assert_int_equal(n, 1);
  imc_store_vms_free(vms, n);
  imc_buf_init(&b, 64);
  assert_int_equal(imc_store_get_log(st, "inf", -1, &b, &err), 0);
  assert_string_equal(imc_buf_cstr(&b), "hello");
  imc_buf_free(&b);
  imc_store_close(st);
}

/* Closing with a transaction still open commits nothing of it and releases the store's lock. */
static void test_store_close_inside_transaction_keeps_nothing(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_infra got = {0};
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_begin(st, &err), 0);
  assert_int_equal(imc_store_begin(st, &err), 0);
  put_infra(st, "half", 1, "alice", false);
  imc_store_close(st);
  st = open_store();
  assert_int_equal(imc_store_get_infra(st, "half", &got, &err), IMC_E_NOTFOUND);
  imc_store_close(st);
}

static void test_store_url_forms(void **state)
{
  char url[160];
  struct imc_store *st = NULL;
  struct imc_err err = {0};

  (void)state;
  snprintf(url, sizeof url, "sqlite://%s", path);
  assert_int_equal(imc_store_open(url, &st, &err), 0);
  put_infra(st, "x", 1, NULL, false);
  imc_store_close(st);
  assert_int_equal(raw_count_infras(), 1);
  assert_int_equal(imc_store_open("sqlite://relative.db", &st, &err), IMC_E_INVAL);
  assert_null(st);
  imc_err_clear(&err);
  imc_err_clear(&err);
  assert_int_equal(imc_store_open("mysql://u:secret@h/db", &st, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "'mysql'"));
  assert_null(strstr(err.msg, "secret"));
}

static void test_store_runs_in_wal_mode(void **state)
{
  struct imc_store *st = open_store();
  sqlite3 *db = NULL;
  sqlite3_stmt *s = NULL;

  (void)state;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
  sqlite3_finalize(s);
  sqlite3_close(db);
  imc_store_close(st);
}

static void test_store_open_of_non_database_is_io_error(void **state)
{
  struct imc_store *st = NULL;
  struct imc_err err = {0};
  FILE *f = fopen(path, "w");

  (void)state;
  assert_non_null(f);
  for (int i = 0; i < 100; i++)
    fputs("this is not an SQLite database\n", f);
  fclose(f);
  assert_int_equal(imc_store_open(path, &st, &err), IMC_E_IO);
  assert_null(st);
  assert_non_null(strstr(err.msg, path));
}

static void test_store_open_does_not_create_directories(void **state)
{
  char missing[160];
  struct imc_store *st = NULL;
  struct imc_err err = {0};

  (void)state;
  snprintf(missing, sizeof missing, "%s/no/such/dir/imc.db", dir);
  assert_int_equal(imc_store_open(missing, &st, &err), IMC_E_IO);
  assert_null(st);
  assert_int_equal(access(missing, F_OK), -1);
}

/* ssh and ansible children must not inherit the database, its -wal or its -shm. */
static void test_store_files_are_close_on_exec(void **state)
{
  struct imc_store *st = open_store();
  struct dirent *e;
  DIR *d = opendir("/proc/self/fd");
  int seen = 0;

  (void)state;
  put_infra(st, "x", 1, NULL, false); /* the -wal and -shm files are open by now */
  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    char link[300], target[256];
    ssize_t n;

    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
      continue;
    target[n] = '\0';
    if (strncmp(target, path, strlen(path)) != 0)
      continue;
    seen++;
    assert_true(fcntl((int)strtol(e->d_name, NULL, 10), F_GETFD) & FD_CLOEXEC);
  }
  closedir(d);
  assert_true(seen >= 2);
  imc_store_close(st);
}

static void test_store_newer_schema_is_refused(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};

  (void)state;
  imc_store_close(st);
  raw_exec("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
  st = NULL;
  assert_int_equal(imc_store_open(store_url(), &st, &err), IMC_E_INVAL);
  assert_null(st);
  assert_non_null(strstr(err.msg, "has schema version 99; this imc knows up to "));
}

static void test_store_unknown_state_name_is_internal_error(void **state)
{
  struct imc_store *st = open_store();
  struct imc_store_vm *vms = NULL;
  struct imc_err err = {0};
  size_t n = 0;

  (void)state;
  put_infra(st, "inf", 1, NULL, false);
  put_vm(st, "inf", 0, IMC_LAUNCH_INTENT);
  raw_exec("UPDATE vm SET state = 'exploded'");
  assert_int_equal(imc_store_get_vms(st, "inf", &vms, &n, &err), IMC_E_INTERNAL);
  assert_null(vms);
  assert_non_null(strstr(err.msg, "exploded"));
  imc_err_clear(&err);
  assert_int_equal(imc_store_open_intents(st, &vms, &n, &err), IMC_E_INTERNAL);
  imc_store_close(st);
}

/* The child commits rows and dies without closing: the parent must still see them. */
static void test_store_committed_data_survives_writer_crash(void **state)
{
  struct imc_store_vm *vms = NULL;
  struct imc_store *st;
  struct imc_err err = {0};
  size_t n = 0;
  int status = -1;
  pid_t pid;

  (void)state;
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct imc_store_infra inf = make_infra("crash", 1, NULL, 0);
    struct imc_store_vm vm = make_vm("crash", 4, IMC_LAUNCH_INTENT);

    if (imc_store_open(store_url(), &st, &err) || imc_store_put_infra(st, &inf, &err) ||
        imc_store_put_vm(st, &vm, &err))
      _exit(1);
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  st = open_store();
  assert_int_equal(imc_store_open_intents(st, &vms, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(vms[0].infra_id, "crash");
  assert_int_equal(vms[0].id, 4);
  imc_store_vms_free(vms, n);
  imc_store_close(st);
}

struct worker {
  struct imc_store *st;
  unsigned base;
  int failures;
};

static void *put_many(void *arg)
{
  struct worker *w = arg;

  for (unsigned i = 0; i < VMS_PER_THREAD; i++) {
    struct imc_store_vm vm = make_vm("shared", w->base + i, IMC_LAUNCH_DONE);
    struct imc_err err = {0};

    if (imc_store_put_vm(w->st, &vm, &err) != 0)
      w->failures++;
  }
  return NULL;
}

static void test_store_threads_share_one_store(void **state)
{
  struct imc_store *st = open_store();
  struct worker w[NTHREADS];
  pthread_t t[NTHREADS];
  struct imc_store_vm *vms = NULL;
  struct imc_err err = {0};
  size_t n = 0;

  (void)state;
  put_infra(st, "shared", 1, NULL, false);
  for (unsigned i = 0; i < NTHREADS; i++) {
    w[i] = (struct worker){.st = st, .base = i * VMS_PER_THREAD};
    assert_int_equal(pthread_create(&t[i], NULL, put_many, &w[i]), 0);
  }
  for (unsigned i = 0; i < NTHREADS; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(w[i].failures, 0);
  }
  assert_int_equal(imc_store_get_vms(st, "shared", &vms, &n, &err), 0);
  assert_int_equal(n, NTHREADS * VMS_PER_THREAD);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(vms[i].id, i);
  imc_store_vms_free(vms, n);
  imc_store_close(st);
}

/* Runs the three readers with the n-th allocation failing; 1 when all three succeeded. */
static int read_all_failing_at(struct imc_store *st, unsigned long nth)
{
  struct imc_store_infra inf = {0};
  struct imc_store_vm *vms = NULL;
  struct imc_err err = {0};
  char **ids = NULL;
  size_t n = 0;
  int r[3];

  imc_alloc_fail_at(nth);
  r[0] = imc_store_get_infra(st, "inf", &inf, &err);
  imc_alloc_fail_at(nth);
  r[1] = imc_store_get_vms(st, "inf", &vms, &n, &err);
  imc_alloc_fail_at(nth);
  r[2] = imc_store_list_infras(st, NULL, true, &ids, &n, &err);
  imc_alloc_fail_at(0);
  for (int i = 0; i < 3; i++)
    assert_true(r[i] == 0 || r[i] == IMC_E_NOMEM);
  assert_true(r[1] == 0 || vms == NULL);
  assert_true(r[2] == 0 || ids == NULL);
  imc_store_infra_cleanup(&inf);
  imc_store_vms_free(vms, r[1] == 0 ? 3 : 0);
  imc_store_ids_free(ids, r[2] == 0 ? 2 : 0);
  return r[0] == 0 && r[1] == 0 && r[2] == 0;
}

static void test_store_allocation_failures_are_clean(void **state)
{
  struct imc_store *st = open_store();
  unsigned long nth = 1;

  (void)state;
  put_infra(st, "inf", 1, "alice", false);
  put_infra(st, "other", 2, "bob", false);
  for (unsigned id = 0; id < 3; id++)
    put_vm(st, "inf", id, IMC_LAUNCH_DONE);
  while (!read_all_failing_at(st, nth))
    nth++;
  assert_true(nth > 5); /* the loop really failed allocations on the way */
  imc_store_close(st);
}

/* A contextualization log is whatever the tools printed: not always UTF-8. */
static void test_store_log_keeps_bytes_that_are_not_utf8(void **state)
{
  static const char chunk[] = "caf\xe9 \xff\xfe ok\n";
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  struct imc_buf b;

  (void)state;
  put_infra(st, "inf", 1, NULL, false);
  assert_int_equal(imc_store_append_log(st, "inf", 0, 1, chunk, &err), 0);
  imc_buf_init(&b, 4096);
  assert_int_equal(imc_store_get_log(st, "inf", 0, &b, &err), 0);
  assert_int_equal(b.len, strlen(chunk));
  assert_memory_equal(b.data, chunk, b.len);
  imc_buf_free(&b);
  imc_store_close(st);
}

/* --- meta -------------------------------------------------------------------------------- */

static void test_store_meta_unset_key_is_notfound(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  char *v = (char *)"untouched";

  (void)state;
  assert_int_equal(imc_store_get_meta(st, "secret_key", &v, &err), IMC_E_NOTFOUND);
  assert_null(v);
  imc_err_clear(&err);
  assert_int_equal(imc_store_get_meta(st, "", &v, &err), IMC_E_INVAL);
  imc_store_close(st);
}

/* The first value set wins; the text comes back as given (no number conversion). */
static void test_store_meta_init_keeps_the_first_value(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  char *v = NULL;

  (void)state;
  assert_int_equal(imc_store_init_meta(st, "k", "0123", &v, &err), 0);
  assert_string_equal(v, "0123");
  imc_free(v);
  assert_int_equal(imc_store_init_meta(st, "k", "other", &v, &err), 0);
  assert_string_equal(v, "0123");
  imc_free(v);
  assert_int_equal(imc_store_get_meta(st, "k", &v, &err), 0);
  assert_string_equal(v, "0123");
  imc_free(v);
  imc_store_close(st);
}

/* Two handles (two processes, in effect) initialising one key agree on its value. */
static void test_store_meta_handles_agree_on_the_winner(void **state)
{
  struct imc_store *a = open_store(), *b = open_store();
  struct imc_err err = {0};
  char *va = NULL, *vb = NULL;

  (void)state;
  assert_int_equal(imc_store_init_meta(a, "node", "from-a", &va, &err), 0);
  assert_int_equal(imc_store_init_meta(b, "node", "from-b", &vb, &err), 0);
  assert_string_equal(va, "from-a");
  assert_string_equal(vb, "from-a");
  imc_free(va);
  imc_free(vb);
  imc_store_close(a);
  imc_store_close(b);
}

/* --- claims ------------------------------------------------------------------------------ */

static void test_store_lock_excludes_another_handle(void **state)
{
  struct imc_store *a = open_store(), *b = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), 0);
  assert_int_equal(imc_store_lock_infra(b, "inf", &err), IMC_E_CONFLICT);
  assert_non_null(strstr(err.msg, "inf"));
  imc_err_clear(&err);
  assert_int_equal(imc_store_lock_infra(b, "other", &err), 0); /* claims are per id */
  imc_store_unlock_infra(a, "inf");
  assert_int_equal(imc_store_lock_infra(b, "inf", &err), 0);
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), IMC_E_CONFLICT);
  imc_store_close(a);
  imc_store_close(b);
}

static void test_store_lock_nests_per_handle(void **state)
{
  struct imc_store *a = open_store(), *b = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), 0);
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), 0);
  imc_store_unlock_infra(a, "inf");
  assert_int_equal(imc_store_lock_infra(b, "inf", &err), IMC_E_CONFLICT);
  imc_err_clear(&err);
  imc_store_unlock_infra(a, "inf");
  assert_int_equal(imc_store_lock_infra(b, "inf", &err), 0);
  imc_store_unlock_infra(a, "inf"); /* one unlock too many changes nothing */
  imc_store_unlock_infra(a, "never-locked");
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), IMC_E_CONFLICT);
  imc_store_close(a);
  imc_store_close(b);
}

static void test_store_lock_ends_with_close(void **state)
{
  struct imc_store *a = open_store(), *b = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), 0);
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), 0);
  imc_store_close(a);
  assert_int_equal(imc_store_lock_infra(b, "inf", &err), 0);
  imc_store_close(b);
}

static void test_store_lock_bad_id_is_invalid(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  char longid[IMC_INFRA_ID_MAX + 1];

  (void)state;
  memset(longid, 'x', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  assert_int_equal(imc_store_lock_infra(st, "", &err), IMC_E_INVAL);
  imc_err_clear(&err);
  assert_int_equal(imc_store_lock_infra(st, longid, &err), IMC_E_INVAL);
  imc_store_close(st);
}

/* A claim is not part of a transaction: taking a new one inside one is refused. */
static void test_store_lock_inside_transaction_is_refused(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_lock_infra(st, "held", &err), 0);
  assert_int_equal(imc_store_begin(st, &err), 0);
  assert_int_equal(imc_store_lock_infra(st, "new", &err), IMC_E_INTERNAL);
  imc_err_clear(&err);
  assert_int_equal(imc_store_lock_infra(st, "held", &err), 0); /* nesting is always allowed */
  assert_int_equal(imc_store_commit(st, &err), 0);
  assert_int_equal(imc_store_lock_infra(st, "new", &err), 0);
  imc_store_close(st);
}

/* The last unlock inside a transaction takes effect when it ends, even by a rollback. */
static void test_store_unlock_inside_transaction_waits_for_its_end(void **state)
{
  struct imc_store *a = open_store(), *b = open_store();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_lock_infra(a, "inf", &err), 0);
  assert_int_equal(imc_store_begin(a, &err), 0);
  put_infra(a, "inf", 1, NULL, false);
  imc_store_unlock_infra(a, "inf");
  imc_store_rollback(a);
  assert_int_equal(imc_store_lock_infra(b, "inf", &err), 0);
  imc_store_close(a);
  imc_store_close(b);
}

/* A worker killed with -9 leaves no claim that blocks the others. */
static void test_store_lock_of_killed_process_is_released(void **state)
{
  struct imc_store *st;
  struct imc_err err = {0};
  int ready[2], status = -1;
  char c = 0;
  pid_t pid;

  (void)state;
  assert_int_equal(pipe(ready), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(ready[0]);
    if (imc_store_open(store_url(), &st, &err) || imc_store_lock_infra(st, "inf", &err) ||
        write(ready[1], "x", 1) != 1)
      _exit(1);
    for (;;)
      pause(); /* holds the claim until killed */
  }
  close(ready[1]);
  assert_int_equal(read(ready[0], &c, 1), 1); /* the child holds the claim */
  close(ready[0]);
  st = open_store();
  assert_int_equal(imc_store_lock_infra(st, "inf", &err), IMC_E_CONFLICT);
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  if (pg_url)
    pg_wait_claims_gone();
  imc_err_clear(&err);
  assert_int_equal(imc_store_lock_infra(st, "inf", &err), 0);
  imc_store_close(st);
}

/* --- SQLite only ------------------------------------------------------------------------- */

/* A claim row of a process that is gone (pid ended, start time 0 never matches). */
static void test_store_sqlite_stale_claim_of_dead_process_is_taken_over(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  char sql[200];
  int status;
  pid_t pid = fork();

  (void)state;
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  snprintf(sql, sizeof sql,
           "INSERT INTO infra_lock(infra_id, holder, pid, started) VALUES('inf', 'gone', %ld, 0)",
           (long)pid);
  raw_exec(sql);
  assert_int_equal(imc_store_lock_infra(st, "inf", &err), 0);
  imc_store_close(st);
}

/* A claim row naming a live pid with another start time: the pid was reused. */
static void test_store_sqlite_stale_claim_of_reused_pid_is_taken_over(void **state)
{
  struct imc_store *st = open_store();
  struct imc_err err = {0};
  char sql[200];

  (void)state;
  snprintf(sql, sizeof sql,
           "INSERT INTO infra_lock(infra_id, holder, pid, started) VALUES('inf', 'old', %ld, 1)",
           (long)getpid());
  raw_exec(sql);
  assert_int_equal(imc_store_lock_infra(st, "inf", &err), 0);
  imc_store_close(st);
}

/* A file of schema version 1 (meta values as integers, no claims table) is brought up to date
 * and keeps its rows. */
static void test_store_sqlite_version_1_file_is_migrated(void **state)
{
  struct imc_store *st;
  struct imc_store_infra inf = {0};
  struct imc_err err = {0};
  char *v = NULL;

  (void)state;
  raw_exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
           "CREATE TABLE infra(id TEXT PRIMARY KEY, created INTEGER NOT NULL,"
           " updated INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, radl TEXT, extra TEXT);"
           "CREATE TABLE infra_owner(infra_id TEXT NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
           " owner TEXT NOT NULL, PRIMARY KEY(infra_id, owner));"
           "CREATE TABLE vm(infra_id TEXT NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
           " id INTEGER NOT NULL, launch TEXT NOT NULL, state TEXT NOT NULL,"
           " destroyed INTEGER NOT NULL DEFAULT 0, cloud_id TEXT, cloud_type TEXT,"
           " instance_id TEXT, client_token TEXT, system TEXT, error TEXT,"
           " PRIMARY KEY(infra_id, id));"
           "CREATE TABLE log(infra_id TEXT NOT NULL REFERENCES infra(id) ON DELETE CASCADE,"
           " vm_id INTEGER NOT NULL, seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
           " text TEXT NOT NULL);"
           "INSERT INTO meta(key, value) VALUES('schema_version', 1);"
           "INSERT INTO infra(id, created, updated) VALUES('old', 7, 8);");
  st = open_store();
  assert_int_equal(imc_store_get_infra(st, "old", &inf, &err), 0);
  assert_int_equal(inf.created, 7);
  imc_store_infra_cleanup(&inf);
  assert_int_equal(imc_store_get_meta(st, "schema_version", &v, &err), 0);
  assert_string_equal(v, "2");
  imc_free(v);
  assert_int_equal(imc_store_init_meta(st, "k", "007", &v, &err), 0);
  assert_string_equal(v, "007");
  imc_free(v);
  assert_int_equal(imc_store_lock_infra(st, "old", &err), 0);
  imc_store_close(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
  const struct CMUnitTest common[] = {
    T(test_store_infra_round_trips_every_field),
    T(test_store_infra_null_stays_null_and_empty_stays_empty),
    T(test_store_put_infra_replaces_row_and_owners),
    T(test_store_get_missing_infra_is_notfound),
    T(test_store_list_filters_by_owner),
    T(test_store_list_excludes_deleted_and_orders_by_creation),
    T(test_store_vm_round_trips_every_field),
    T(test_store_open_intents_span_infrastructures),
    T(test_store_put_vm_of_missing_infra_is_notfound),
    T(test_store_logs_append_in_order),
    T(test_store_log_keeps_bytes_that_are_not_utf8),
    T(test_store_nested_transactions_commit_once),
    T(test_store_rollback_discards_writes),
    T(test_store_inner_rollback_undoes_the_outermost),
    T(test_store_reopen_sees_everything),
    T(test_store_close_inside_transaction_keeps_nothing),
    T(test_store_newer_schema_is_refused),
    T(test_store_unknown_state_name_is_internal_error),
    T(test_store_committed_data_survives_writer_crash),
    T(test_store_threads_share_one_store),
    T(test_store_allocation_failures_are_clean),
    T(test_store_meta_unset_key_is_notfound),
    T(test_store_meta_init_keeps_the_first_value),
    T(test_store_meta_handles_agree_on_the_winner),
    T(test_store_lock_excludes_another_handle),
    T(test_store_lock_nests_per_handle),
    T(test_store_lock_ends_with_close),
    T(test_store_lock_bad_id_is_invalid),
    T(test_store_lock_inside_transaction_is_refused),
    T(test_store_unlock_inside_transaction_waits_for_its_end),
    T(test_store_lock_of_killed_process_is_released),
  };
  const struct CMUnitTest sqlite_only[] = {
    T(test_store_url_forms),
    T(test_store_runs_in_wal_mode),
    T(test_store_open_of_non_database_is_io_error),
    T(test_store_open_does_not_create_directories),
    T(test_store_files_are_close_on_exec),
    T(test_store_sqlite_stale_claim_of_dead_process_is_taken_over),
    T(test_store_sqlite_stale_claim_of_reused_pid_is_taken_over),
    T(test_store_sqlite_version_1_file_is_migrated),
  };
  const struct CMUnitTest pg_only[] = {
    T(test_store_pg_unreachable_server_error_hides_url),
    T(test_store_pg_malformed_url_error_hides_it),
    T(test_store_pg_claim_ends_with_its_session),
    T(test_store_pg_lost_session_is_reopened),
  };
  int failed;

  pg_url = getenv("IMC_TEST_PG_URL");
  if (pg_url && !*pg_url)
    pg_url = NULL;
  if (pg_url) {
    failed = cmocka_run_group_tests_name("store on postgresql", common, NULL, NULL);
    failed += cmocka_run_group_tests_name("postgresql only", pg_only, NULL, NULL);
  } else {
    failed = cmocka_run_group_tests_name("store on sqlite", common, NULL, NULL);
    failed += cmocka_run_group_tests_name("sqlite only", sqlite_only, NULL, NULL);
  }
  return failed;
}
