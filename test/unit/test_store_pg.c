/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The store test program's PostgreSQL side: a plain libpq connection that looks at the
 * database as another tool would, and the tests only a PostgreSQL store has (connection
 * errors, sessions that end under the store).  test_store.c runs these when IMC_TEST_PG_URL
 * names a server (test/pg/with-postgres starts one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <libpq-fe.h>

#include "imc/alloc.h"
#include "imc/store.h"

/* Shared with test_store.c, which defines no header of its own for three functions. */
void pg_raw_exec(const char *sql);
long long pg_raw_count(const char *sql);
void pg_wait_claims_gone(void);
void test_store_pg_unreachable_server_error_hides_url(void **state);
void test_store_pg_malformed_url_error_hides_it(void **state);
void test_store_pg_claim_ends_with_its_session(void **state);
void test_store_pg_lost_session_is_reopened(void **state);

static PGconn *raw_connect(void)
{
  const char *url = getenv("IMC_TEST_PG_URL");
  PGconn *c;

  assert_non_null(url);
  c = PQconnectdb(url);
  assert_int_equal(PQstatus(c), CONNECTION_OK);
  PQclear(PQexec(c, "SET client_min_messages = warning")); /* no NOTICE lines on stderr */
  return c;
}

/* Runs sql (several statements allowed, no parameters) on a connection of its own. */
void pg_raw_exec(const char *sql)
{
  PGconn *c = raw_connect();
  PGresult *res = PQexec(c, sql);
  ExecStatusType s = PQresultStatus(res);

  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  PQclear(res);
  PQfinish(c);
}

/* The single number sql answers, as a second connection sees it (committed data only). */
long long pg_raw_count(const char *sql)
{
  PGconn *c = raw_connect();
  PGresult *res = PQexec(c, sql);
  long long n;

  assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
  assert_int_equal(PQntuples(res), 1);
  n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  PQclear(res);
  PQfinish(c);
  return n;
}

/* The server ends a dead client's session when it reads the closed socket, which may come
 * after waitpid() returns.  Waits for that without a clock: takes, blocking, every claim key
 * another session still holds (granted only once that session is gone), then lets go. */
void pg_wait_claims_gone(void)
{
  pg_raw_exec("SELECT pg_advisory_lock((l.classid::bigint << 32) | l.objid::bigint)"
              " FROM pg_locks AS l WHERE l.locktype = 'advisory' AND l.objsubid = 1"
              " AND l.granted AND l.pid <> pg_backend_pid();"
              "SELECT pg_advisory_unlock_all()");
}

static struct imc_store *open_pg(void)
{
  struct imc_store *st = NULL;
  struct imc_err err = {0};

  assert_int_equal(imc_store_open(getenv("IMC_TEST_PG_URL"), &st, &err), 0);
  return st;
}

/* Port 1 of the loopback address: refused at once, and nothing leaves the machine. */
void test_store_pg_unreachable_server_error_hides_url(void **state)
{
  static const char url[] = "postgresql://imc:s3cret-pw@127.0.0.1:1/imc";
  struct imc_store *st = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_open(url, &st, &err), IMC_E_IO);
  assert_null(st);
  assert_non_null(strstr(err.msg, "store: postgresql: connect: "));
  assert_non_null(strstr(err.msg, "refused"));
  assert_null(strstr(err.msg, "s3cret-pw"));
  assert_null(strstr(err.msg, "://"));
}

/* libpq's own parse errors quote the URL near the fault: here, next to the password. */
void test_store_pg_malformed_url_error_hides_it(void **state)
{
  struct imc_store *st = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_open("postgres://imc:s3cret%zz@127.0.0.1:1/imc", &st, &err),
                   IMC_E_INVAL);
  assert_null(st);
  assert_non_null(strstr(err.msg, "postgresql"));
  assert_null(strstr(err.msg, "s3cret"));
}

/* The server ends a claim with the session that holds it, whatever the client does. */
void test_store_pg_claim_ends_with_its_session(void **state)
{
  struct imc_store *holder = open_pg(), *other = open_pg();
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(imc_store_lock_infra(holder, "inf", &err), 0);
  assert_int_equal(imc_store_lock_infra(other, "inf", &err), IMC_E_CONFLICT);
  /* With a timeout, pg_terminate_backend returns once the session has ended. */
  assert_int_equal(pg_raw_count("WITH h AS MATERIALIZED (SELECT pid FROM pg_locks"
                                " WHERE locktype = 'advisory' AND granted)"
                                " SELECT count(*) FROM h WHERE pg_terminate_backend(pid, 60000)"),
                   1);
  imc_err_clear(&err);
  assert_int_equal(imc_store_lock_infra(other, "inf", &err), 0);
  imc_store_close(holder); /* its connection is gone: closing must still be clean */
  imc_store_close(other);
}

/* A session the server ended fails the statement that meets it; the next one reconnects. */
void test_store_pg_lost_session_is_reopened(void **state)
{
  struct imc_store *st = open_pg();
  struct imc_err err = {0};
  char **ids = NULL;
  size_t n = 0;

  (void)state;
  assert_int_equal(pg_raw_count("WITH h AS MATERIALIZED (SELECT pid FROM pg_stat_activity"
                                " WHERE datname = current_database() AND pid <> pg_backend_pid())"
                                " SELECT count(*) FROM h WHERE pg_terminate_backend(pid, 60000)"),
                   1);
  assert_int_equal(imc_store_list_infras(st, NULL, true, &ids, &n, &err), IMC_E_IO);
  assert_non_null(strstr(err.msg, "store: "));
  imc_err_clear(&err);
  assert_int_equal(imc_store_list_infras(st, NULL, true, &ids, &n, &err), 0);
  assert_int_equal(n, 0);
  imc_store_ids_free(ids, n);
  imc_store_close(st);
}
