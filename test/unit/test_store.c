/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The SQLite store: round trips, filters, transactions, crash survival, threads. */
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
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/store.h"

#define NTHREADS       4
#define VMS_PER_THREAD 200

/* One temporary directory per test, holding the database and its -wal and -shm files. */
static char dir[64];
static char path[128];

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/imc-store-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(path, sizeof path, "%s/imc.db", dir);
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

  assert_int_equal(imc_store_open(path, &st, &err), 0);
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

static struct imc_store_vm make_vm(const char *infra_id, unsigned id, enum imc_launch launch)
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

static void put_vm(struct imc_store *st, const char *infra_id, unsigned id, enum imc_launch l)
{
  struct imc_store_vm vm = make_vm(infra_id, id, l);
  struct imc_err err = {0};

  assert_int_equal(imc_store_put_vm(st, &vm, &err), 0);
}

/* Runs one statement on a plain second connection, as another tool would. */
static void raw_exec(const char *sql)
{
  sqlite3 *db = NULL;

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
  assert_int_equal(imc_store_open("postgresql://u:secret@h/db", &st, &err), IMC_E_INVAL);
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
  raw_exec("UPDATE meta SET value = 2 WHERE key = 'schema_version'");
  st = NULL;
  assert_int_equal(imc_store_open(path, &st, &err), IMC_E_INVAL);
  assert_null(st);
  assert_non_null(strstr(err.msg, "has schema version 2; this imc knows up to 1"));
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

    if (imc_store_open(path, &st, &err) || imc_store_put_infra(st, &inf, &err) ||
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
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
    T(test_store_nested_transactions_commit_once),
    T(test_store_rollback_discards_writes),
    T(test_store_inner_rollback_undoes_the_outermost),
    T(test_store_reopen_sees_everything),
    T(test_store_close_inside_transaction_keeps_nothing),
    T(test_store_url_forms),
    T(test_store_runs_in_wal_mode),
    T(test_store_open_of_non_database_is_io_error),
    T(test_store_open_does_not_create_directories),
    T(test_store_files_are_close_on_exec),
    T(test_store_newer_schema_is_refused),
    T(test_store_unknown_state_name_is_internal_error),
    T(test_store_committed_data_survives_writer_crash),
    T(test_store_threads_share_one_store),
    T(test_store_allocation_failures_are_clean),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
