/* SPDX-License-Identifier: GPL-3.0-or-later */
/* lib/auth.c: IM's auth data (lines and JSON), file() on both sides, errors that name lines
 * and columns but never values, lookups, IM's checks, redacted JSON, allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imc/alloc.h"
#include "imc/auth.h"
#include "imc/buf.h"
#include "imc/err.h"

#define DATA IMC_TEST_DATA "/auth/"

/* Every sample holding a credential that must never reach a message uses this one. */
#define SECRET "S3CR3T"

static int parse(const char *text, enum imc_auth_side side, struct imc_auth *a,
                 struct imc_err *err)
{
  imc_err_clear(err);
  return imc_auth_parse("t.dat", text, strlen(text), side, a, err);
}

/* Parses text on the client side, expecting success; the caller cleans up. */
static void parse_ok(const char *text, struct imc_auth *a)
{
  struct imc_err err;

  imc_auth_init(a);
  if (parse(text, IMC_AUTH_CLIENT, a, &err) != 0)
    fail_msg("unexpected error: %s", err.msg);
}

/* Parses text, expecting failure with code and exactly msg; checks that nothing was kept. */
static void parse_fails(const char *text, enum imc_auth_side side, int code, const char *msg)
{
  struct imc_auth a;
  struct imc_err err;

  imc_auth_init(&a);
  assert_int_equal(parse(text, side, &a, &err), code);
  assert_int_equal(err.code, code);
  assert_string_equal(err.msg, msg);
  assert_null(strstr(err.msg, SECRET));
  assert_int_equal(a.n, 0);
  imc_auth_cleanup(&a);
}

static const char *val(const struct imc_auth *a, size_t i, const char *key)
{
  assert_true(i < a->n);
  return imc_auth_get(&a->entries[i], key);
}

/* Writes a temporary file; path receives its name.  The caller unlinks it. */
static void write_temp(const char *content, size_t n, char path[64])
{
  int fd;

  snprintf(path, 64, "/tmp/imc-auth-test-XXXXXX");
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, content, n), (ssize_t)n);
  assert_int_equal(close(fd), 0);
}

/* --- the line form ------------------------------------------------------------------------ */

static void test_parse_file_reads_entries_in_order(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse_file(DATA "basic.dat", IMC_AUTH_CLIENT, &a, &err), 0);
  assert_int_equal(a.n, 5);
  assert_string_equal(val(&a, 0, "type"), "InfrastructureManager");
  assert_string_equal(val(&a, 0, "username"), "user");
  assert_string_equal(val(&a, 0, "password"), "pass");
  assert_null(val(&a, 0, "id"));
  assert_string_equal(val(&a, 1, "id"), "one");
  assert_string_equal(val(&a, 1, "host"), "server1.com:2633");
  assert_string_equal(val(&a, 2, "type"), "OpenStack");
  assert_string_equal(val(&a, 2, "tenant"), "t");
  assert_string_equal(val(&a, 3, "username"), "ACCESS_KEY");
  assert_string_equal(val(&a, 4, "host"), "http://server:8080");
  /* Keys in the order written. */
  assert_int_equal(a.entries[1].n, 5);
  assert_string_equal(a.entries[1].kv[0].key, "id");
  assert_string_equal(a.entries[1].kv[4].key, "password");
  imc_auth_cleanup(&a);
}

static void test_parse_skips_comments_and_blank_lines(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse_file(DATA "basic.dat", IMC_AUTH_CLIENT, &a, &err), 0);
  /* Lines 1 (comment), 3 (blank) and 4 (indented comment) give no entry. */
  assert_int_equal(a.entries[0].line, 2);
  assert_int_equal(a.entries[1].line, 5);
  assert_int_equal(a.entries[4].line, 8);
  imc_auth_cleanup(&a);

  parse_ok("\n\n   \t\n# only = comments; type = x\n  #x=y\n", &a);
  assert_int_equal(a.n, 0);
  imc_auth_cleanup(&a);
}

static void test_parse_trims_whitespace_around_keys_and_values(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("  \t id\t=  one ;type=EC2;   username   =\tu\t  \n", &a);
  assert_int_equal(a.n, 1);
  assert_string_equal(val(&a, 0, "id"), "one");
  assert_string_equal(val(&a, 0, "type"), "EC2");
  assert_string_equal(val(&a, 0, "username"), "u");
  imc_auth_cleanup(&a);
}

static void test_parse_single_quotes_protect_semicolon_and_equals(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = VMRC; password = 'a;b=c\"d'; username = u", &a);
  assert_string_equal(val(&a, 0, "password"), "a;b=c\"d");
  assert_string_equal(val(&a, 0, "username"), "u");
  imc_auth_cleanup(&a);
}

static void test_parse_double_quotes_protect_semicolon_and_equals(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = VMRC; password = \"a;b=c'd\"; username = u", &a);
  assert_string_equal(val(&a, 0, "password"), "a;b=c'd");
  assert_string_equal(val(&a, 0, "username"), "u");
  imc_auth_cleanup(&a);
}

/* The lines of IM's own test_auth_read give IM's dicts. */
static void test_parse_matches_im_unit_test(void **state)
{
  static const char text[] =
    "id = a1; type = InfrastructureManager; username = someuser; password = somepass \n"
    "id = a2; type = VMRC; username = someuser; password = somepass; \n"
    "id = a3; type = OpenNebula; username = someuser; password   =   \"some;'pass\" \n"
    "id = a4; type = EC2; username =someuser; password='some;\"pass' \n";
  struct imc_auth a;

  (void)state;
  parse_ok(text, &a);
  assert_int_equal(a.n, 4);
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(a.entries[i].n, 4);
  assert_string_equal(val(&a, 0, "password"), "somepass");
  assert_string_equal(val(&a, 1, "password"), "somepass");
  assert_string_equal(val(&a, 2, "password"), "some;'pass");
  assert_string_equal(val(&a, 3, "password"), "some;\"pass");
  assert_string_equal(val(&a, 3, "username"), "someuser");
  imc_auth_cleanup(&a);
}

static void test_parse_quotes_are_removed_wherever_they_are(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; password = ab'c;d'e\"f=g\"h; 'user name' = u", &a);
  assert_string_equal(val(&a, 0, "password"), "abc;def=gh");
  assert_string_equal(val(&a, 0, "user name"), "u");
  imc_auth_cleanup(&a);
}

/* IM removes the quotes, then strips: quotes protect `;` and `=`, not blanks. */
static void test_parse_strips_blanks_inside_quotes_as_im(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; password = '  p w  ' ; other = \" \"; ' k ' = v", &a);
  assert_string_equal(val(&a, 0, "password"), "p w");
  assert_string_equal(val(&a, 0, "other"), "");
  assert_string_equal(val(&a, 0, "k"), "v");
  imc_auth_cleanup(&a);
}

/* Python's strip() knows more blanks than C's isspace(): a no-break space, U+3000 and the
 * ASCII separators \x1c-\x1f; a zero-width space is not one. */
static void test_parse_strips_python_whitespace(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("\xE3\x80\x80# a comment after an ideographic space\n"
           "\x1ctype = x;\xC2\xA0password = pw\xC2\xA0\xE2\x80\x83; z = \xE2\x80\x8Bzw\x1f\n",
           &a);
  assert_int_equal(a.n, 1);
  assert_int_equal(a.entries[0].line, 2);
  assert_string_equal(val(&a, 0, "type"), "x");
  assert_string_equal(val(&a, 0, "password"), "pw");
  assert_string_equal(val(&a, 0, "z"), "\xE2\x80\x8Bzw");
  imc_auth_cleanup(&a);
}
/* IM splits an item on every `=` outside quotes and skips the rest of the line unless there
 * are exactly two parts, or reads `a = b =` as "b": a base64 token must be quoted. */
static void test_parse_second_equals_outside_quotes_fails(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_fails("type = x; password = " SECRET "==; host = h", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:28: a second '=' outside quotes: quote a value that holds '='");
  parse_fails("type = x; token = " SECRET " =", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:26: a second '=' outside quotes: quote a value that holds '='");
  parse_ok("type = x; password = 'YWJj=='; token = a\"=\"b; 'k=1' = v", &a);
  assert_string_equal(val(&a, 0, "password"), "YWJj==");
  assert_string_equal(val(&a, 0, "token"), "a=b");
  assert_string_equal(val(&a, 0, "k=1"), "v");
  imc_auth_cleanup(&a);
}
static void test_parse_backslash_n_becomes_newline(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; private_key = '-----BEGIN-----\\nMIIE\\n-----END-----'; "
           "two = a\\\\nb; keyname\\n = v",
           &a);
  assert_string_equal(val(&a, 0, "private_key"), "-----BEGIN-----\nMIIE\n-----END-----");
  /* As Python's str.replace: `\\n` is a backslash, then the `\n` pair. */
  assert_string_equal(val(&a, 0, "two"), "a\\\nb");
  /* Keys are left alone. */
  assert_string_equal(val(&a, 0, "keyname\\n"), "v");
  imc_auth_cleanup(&a);
}

/* Python's split drops a blank last part unless the item holds a quote: `a =` is no item for
 * IM (and the rest of its line is lost), `a = ''` is the empty value. */
static void test_parse_empty_value_needs_quotes(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; b = ''; c = \"\"; d = '   '; 'e' =", &a);
  assert_int_equal(a.entries[0].n, 5);
  assert_string_equal(val(&a, 0, "b"), "");
  assert_string_equal(val(&a, 0, "c"), "");
  assert_string_equal(val(&a, 0, "d"), "");
  assert_string_equal(val(&a, 0, "e"), "");
  imc_auth_cleanup(&a);
  parse_fails("type = x; a = ; password = " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:13: no value after '=' (write '' for an empty value)");
  parse_fails("type = x\ntype = y; d =", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:13: no value after '=' (write '' for an empty value)");
}
/* Blank items at the end of a line change nothing in IM either. */
static void test_parse_trailing_empty_items_are_nothing(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x;\ntype = y; ;  ;\ntype = 'z';;\n", &a);
  assert_int_equal(a.n, 3);
  for (size_t i = 0; i < 3; i++)
    assert_int_equal(a.entries[i].n, 1);
  assert_string_equal(val(&a, 2, "type"), "z");
  imc_auth_cleanup(&a);
}

/* IM stops reading a line at a blank item: what follows it would be lost. */
static void test_parse_empty_item_before_another_fails(void **state)
{
  (void)state;
  parse_fails(";type = x", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:1: empty item: IM ignores the rest of the line after it (remove the "
              "extra ';')");
  parse_fails("type = x;; password = " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:10: empty item: IM ignores the rest of the line after it (remove the "
              "extra ';')");
  parse_fails("type = w\n  type = x;  ; password = " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:12: empty item: IM ignores the rest of the line after it (remove the "
              "extra ';')");
}
static void test_parse_later_duplicate_key_replaces_value(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("password = one; type = x; password = two", &a);
  assert_int_equal(a.entries[0].n, 2);
  assert_string_equal(a.entries[0].kv[0].key, "password");
  assert_string_equal(a.entries[0].kv[0].value, "two");
  imc_auth_cleanup(&a);
}

static void test_parse_hash_after_value_is_part_of_value(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; password = ab # not a comment", &a);
  assert_string_equal(val(&a, 0, "password"), "ab # not a comment");
  imc_auth_cleanup(&a);
}

static void test_parse_accepts_crlf_and_cr_line_ends(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = a; x = 1\r\n\r\ntype = b\rtype = c\n", &a);
  assert_int_equal(a.n, 3);
  assert_string_equal(val(&a, 0, "x"), "1");
  assert_string_equal(val(&a, 1, "type"), "b");
  assert_int_equal(a.entries[1].line, 3);
  assert_int_equal(a.entries[2].line, 4);
  imc_auth_cleanup(&a);
}

static void test_parse_skips_byte_order_mark(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("\xEF\xBB\xBFtype = x", &a);
  assert_string_equal(a.entries[0].kv[0].key, "type");
  imc_auth_cleanup(&a);
}

static void test_parse_appends_to_existing_entries(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  parse_ok("type = a", &a);
  assert_int_equal(parse("type = b\ntype = c", IMC_AUTH_CLIENT, &a, &err), 0);
  assert_int_equal(a.n, 3);
  assert_string_equal(val(&a, 0, "type"), "a");
  assert_string_equal(val(&a, 2, "type"), "c");
  imc_auth_cleanup(&a);
}

static void test_parse_empty_text_gives_no_entries(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse("t.dat", NULL, 0, IMC_AUTH_SERVER, &a, &err), 0);
  assert_int_equal(a.n, 0);
  imc_auth_cleanup(&a);
}

/* --- errors ------------------------------------------------------------------------------- */

static void test_parse_unclosed_quote_fails_at_quote(void **state)
{
  (void)state;
  parse_fails("type = a\nid = a; password = 'x" SECRET ";rest = y", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:20: this single quote is never closed on its line");
  parse_fails("type = \"" SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:8: this double quote is never closed on its line");
}

static void test_parse_item_without_equals_fails_at_item(void **state)
{
  (void)state;
  /* IM keeps `id` and `type` and silently drops the rest of the line. */
  parse_fails("id = one; type = OpenStack;  " SECRET " ; host = h", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:30: expected 'key = value' (this item has no '=')");
  parse_fails("Bearer " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:1: expected 'key = value' (this item has no '=')");
}

static void test_parse_columns_count_characters(void **state)
{
  (void)state;
  /* "ñ" and "€" take 2 and 3 bytes but one column each. */
  parse_fails("type = ñ€; " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:12: expected 'key = value' (this item has no '=')");
}

static void test_parse_empty_key_fails(void **state)
{
  (void)state;
  parse_fails("type = x;  = " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:12: no key before '='");
  parse_fails("type = x; '' = " SECRET, IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:14: no key before '='");
}

static void test_parse_error_files_name_line_and_column(void **state)
{
  static const struct {
    const char *file, *msg;
    int code;
  } cases[] = {
    {"bad_quote.dat", "bad_quote.dat:2:46: this single quote is never closed on its line",
     IMC_E_PARSE},
    {"no_equals.dat", "no_equals.dat:2:30: expected 'key = value' (this item has no '=')",
     IMC_E_PARSE},
    {"bad.json", "bad.json:3:31: invalid JSON syntax", IMC_E_PARSE},
    {"server_file.dat",
     "server_file.dat:2:41: the value of \"proxy\" is a file() reference: file() references are "
     "not allowed in auth data sent to the server",
     IMC_E_AUTH},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[256], want[512];
    struct imc_auth a;
    struct imc_err err;

    snprintf(path, sizeof path, DATA "%s", cases[i].file);
    snprintf(want, sizeof want, IMC_TEST_DATA "/auth/%s", cases[i].msg);
    imc_auth_init(&a);
    imc_err_clear(&err);
    assert_int_equal(imc_auth_parse_file(path, IMC_AUTH_SERVER, &a, &err), cases[i].code);
    assert_string_equal(err.msg, want);
    assert_null(strstr(err.msg, SECRET));
    assert_int_equal(a.n, 0);
    imc_auth_cleanup(&a);
  }
}

static void test_parse_error_leaves_entries_unchanged(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  parse_ok("type = a; password = p", &a);
  assert_int_equal(parse("type = b\ntype = c; oops", IMC_AUTH_CLIENT, &a, &err), IMC_E_PARSE);
  assert_int_equal(a.n, 1);
  assert_string_equal(val(&a, 0, "type"), "a");
  assert_string_equal(val(&a, 0, "password"), "p");
  imc_auth_cleanup(&a);
}

static void test_parse_rejects_invalid_utf8_at_its_position(void **state)
{
  (void)state;
  parse_fails("type = a\r\ntype = b; password = ab\xC3(", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:24: invalid UTF-8 in auth data");
  parse_fails("type = a; p = \xED\xA0\x80", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:15: invalid UTF-8 in auth data");
}

static void test_parse_rejects_nul_byte(void **state)
{
  static const char text[] = "type = a\npassword = x\0y";
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse("t.dat", text, sizeof text - 1, IMC_AUTH_CLIENT, &a, &err),
                   IMC_E_PARSE);
  assert_string_equal(err.msg, "t.dat:2:13: NUL byte in auth data");
  imc_auth_cleanup(&a);
}

static void test_parse_rejects_text_past_limit(void **state)
{
  size_t n = 5u * 1024 * 1024;
  char *big = malloc(n);
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  assert_non_null(big);
  memset(big, '#', n);
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse("big.dat", big, n, IMC_AUTH_CLIENT, &a, &err), IMC_E_TOOBIG);
  assert_non_null(strstr(err.msg, "big.dat: auth data larger than the limit"));
  imc_auth_cleanup(&a);
  free(big);
}

static void test_parse_file_missing_reports_io(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse_file(DATA "missing.dat", IMC_AUTH_CLIENT, &a, &err), IMC_E_IO);
  assert_string_equal(err.msg, DATA "missing.dat: No such file or directory");
  imc_auth_cleanup(&a);
}

/* --- the JSON form ------------------------------------------------------------------------ */

static void test_parse_json_file_gives_im_entries(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_parse_file(DATA "auth.json", IMC_AUTH_SERVER, &a, &err), 0);
  assert_int_equal(a.n, 3);
  assert_string_equal(val(&a, 0, "type"), "InfrastructureManager");
  assert_string_equal(val(&a, 1, "host"), "server:2633");
  assert_string_equal(val(&a, 2, "password"), "some\nonsense");
  assert_string_equal(val(&a, 2, "project"), "project");
  /* Each entry's line is where its object starts. */
  assert_int_equal(a.entries[0].line, 2);
  assert_int_equal(a.entries[1].line, 7);
  assert_int_equal(a.entries[2].line, 8);
  imc_auth_cleanup(&a);
}

static void test_parse_json_keeps_key_order(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("[{\"z\": \"1\", \"type\": \"x\", \"a\": \"\\\\n\"}]", &a);
  assert_int_equal(a.entries[0].n, 3);
  assert_string_equal(a.entries[0].kv[0].key, "z");
  assert_string_equal(a.entries[0].kv[1].key, "type");
  assert_string_equal(a.entries[0].kv[2].key, "a");
  /* JSON has its own escapes: no `\n` rule on top of them. */
  assert_string_equal(val(&a, 0, "a"), "\\n");
  imc_auth_cleanup(&a);
}

static void test_parse_json_empty_list_gives_no_entries(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("  \n [ ] \n", &a);
  assert_int_equal(a.n, 0);
  imc_auth_cleanup(&a);
}

static void test_parse_json_rejects_non_list(void **state)
{
  (void)state;
  parse_fails("\n  {\"type\": \"x\", \"password\": \"" SECRET "\"}", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:3: JSON auth data must be a list of objects");
}

static void test_parse_json_rejects_item_not_object(void **state)
{
  (void)state;
  parse_fails("[{\"type\": \"x\"},\n   [\"" SECRET "\"]]", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:4: item 2 of the JSON auth list is not an object");
  parse_fails("[{\"t\": \"[{\\\"\"}, {\"type\": \"x\"}, 3]", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:32: item 3 of the JSON auth list is not an object");
}

static void test_parse_json_rejects_value_not_string(void **state)
{
  (void)state;
  parse_fails("[\n {\"type\": \"x\", \"port\": 5000}]", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:2:2: the value of \"port\" is not a string");
  parse_fails("[{\"type\": \"x\", \"password\": null}]", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:2: the value of \"password\" is not a string");
}

static void test_parse_json_rejects_empty_key(void **state)
{
  (void)state;
  parse_fails("[{\"type\": \"x\", \"\": \"" SECRET "\"}]", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:2: an auth entry has an empty key");
}

/* jansson's own message would quote the text near the error: the password here. */
static void test_parse_bad_json_reports_position_without_value(void **state)
{
  (void)state;
  parse_fails("[{\"type\": \"x\",\n  \"password\": \"" SECRET "\nmore\"}]", IMC_AUTH_CLIENT,
              IMC_E_PARSE, "t.dat:2:21: invalid JSON syntax");
  parse_fails("[{\"type\": \"x\", \"password\": \"" SECRET "\"}", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:36: JSON auth data ends too early");
  parse_fails("[{\"password\": \"" SECRET "\"}] x", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:26: text after the end of the JSON auth data");
  parse_fails("[{\"password\": \"\\u0000" SECRET "\"}]", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:28: NUL character in a JSON string");
}

/* --- file() ------------------------------------------------------------------------------- */

static void test_client_reads_file_reference(void **state)
{
  static const char pem[] = "-----BEGIN RSA PRIVATE KEY-----\nMIIEo\n-----END RSA PRIVATE KEY-----";
  char path[64], text[256], content[256];
  struct imc_auth a;

  (void)state;
  /* The newline `echo` adds is not part of the credential. */
  snprintf(content, sizeof content, "%s\n", pem);
  write_temp(content, strlen(content), path);
  snprintf(text, sizeof text, "id = occi; type = OCCI; proxy = file(%s); host = h", path);
  parse_ok(text, &a);
  assert_string_equal(val(&a, 0, "proxy"), pem);
  assert_string_equal(val(&a, 0, "host"), "h");
  imc_auth_cleanup(&a);

  /* Quotes are removed before the test for file(...), as in IM. */
  snprintf(text, sizeof text, "type = x; password = 'file(%s)'", path);
  parse_ok(text, &a);
  assert_string_equal(val(&a, 0, "password"), pem);
  imc_auth_cleanup(&a);
  unlink(path);
}

static void test_client_reads_file_reference_in_json(void **state)
{
  char path[64], text[256];
  struct imc_auth a;

  (void)state;
  write_temp("  tok\n", 6, path);
  snprintf(text, sizeof text, "[{\"type\": \"Kubernetes\", \"token\": \"file(%s)\"}]", path);
  parse_ok(text, &a);
  assert_string_equal(val(&a, 0, "token"), "tok");
  imc_auth_cleanup(&a);
  unlink(path);
}

static void test_client_unreadable_file_names_key_and_path(void **state)
{
  (void)state;
  parse_fails("type = x;\n proxy = file(/nonexistent/imc/p.pem)", IMC_AUTH_CLIENT, IMC_E_IO,
              "t.dat:2:10: cannot read the file() of \"proxy\": /nonexistent/imc/p.pem: "
              "No such file or directory");
  parse_fails("type = x; proxy = file(/)", IMC_AUTH_CLIENT, IMC_E_IO,
              "t.dat:1:19: cannot read the file() of \"proxy\": /: Is a directory");
}

static void test_client_file_with_empty_path_fails(void **state)
{
  (void)state;
  parse_fails("type = x; proxy = file()", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:19: the file() of \"proxy\" names no file");
}

static void test_client_file_too_big_fails(void **state)
{
  size_t n = 2u * 1024 * 1024;
  char *big = malloc(n), path[64], text[128], want[256];

  (void)state;
  assert_non_null(big);
  memset(big, 'k', n);
  write_temp(big, n, path);
  free(big);
  snprintf(text, sizeof text, "type = x; key = file(%s)", path);
  snprintf(want, sizeof want, "t.dat:1:17: the file() of \"key\" is larger than 1048576 bytes: %s",
           path);
  parse_fails(text, IMC_AUTH_CLIENT, IMC_E_TOOBIG, want);
  unlink(path);
}

static void test_client_file_not_text_fails(void **state)
{
  char path[64], text[128], want[256];

  (void)state;
  write_temp("PK\x03\x04\xff\x00" SECRET, 12, path);
  snprintf(text, sizeof text, "type = GCE; password = file(%s)", path);
  snprintf(want, sizeof want, "t.dat:1:24: the file() of \"password\" is not UTF-8 text: %s",
           path);
  parse_fails(text, IMC_AUTH_CLIENT, IMC_E_AUTH, want);
  unlink(path);
}

/* The path exists and is readable: refusing it is the point, not failing to read it. */
static void test_server_refuses_file_reference(void **state)
{
  char path[64], text[128];

  (void)state;
  write_temp(SECRET, strlen(SECRET), path);
  snprintf(text, sizeof text, "type = x; password = file(%s)", path);
  parse_fails(text, IMC_AUTH_SERVER, IMC_E_AUTH,
              "t.dat:1:22: the value of \"password\" is a file() reference: file() references "
              "are not allowed in auth data sent to the server");
  snprintf(text, sizeof text, "[{\"type\": \"x\", \"token\": \"file(%s)\"}]", path);
  parse_fails(text, IMC_AUTH_SERVER, IMC_E_AUTH,
              "t.dat:1:2: the value of \"token\" is a file() reference: file() references "
              "are not allowed in auth data sent to the server");
  unlink(path);
}

static void test_values_like_file_but_not_file_refs_are_kept(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  assert_int_equal(parse("type = x; a = file(x; b = myfile(x); c = (file(x)) ", IMC_AUTH_SERVER,
                         &a, &err),
                   0);
  assert_string_equal(val(&a, 0, "a"), "file(x");
  assert_string_equal(val(&a, 0, "b"), "myfile(x)");
  assert_string_equal(val(&a, 0, "c"), "(file(x))");
  imc_auth_cleanup(&a);
  /* Trailing spaces are trimmed before the test, so c is a reference. */
  assert_int_equal(parse("c = file(x) ", IMC_AUTH_SERVER, &a, &err), IMC_E_AUTH);
  imc_auth_cleanup(&a);
}

/* --- command() ---------------------------------------------------------------------------- */

/* Writes an executable shell script; path receives its name.  The caller unlinks it. */
static void write_script(const char *body, char path[64])
{
  char text[512];

  snprintf(text, sizeof text, "#!/bin/sh\n%s\n", body);
  write_temp(text, strlen(text), path);
  assert_int_equal(chmod(path, 0700), 0);
}

/* Parses `type = x; password = command(CMD)` on the client, expecting failure with code and
 * exactly the message fmt gives (its arguments usually name cmd again). */
static void command_fails(const char *cmd, int code, const char *fmt, ...) IMC_PRINTF(3, 4);

static void command_fails(const char *cmd, int code, const char *fmt, ...)
{
  char text[256], want[512];
  va_list ap;

  snprintf(text, sizeof text, "type = x; password = command(%s)", cmd);
  va_start(ap, fmt);
  vsnprintf(want, sizeof want, fmt, ap);
  va_end(ap);
  parse_fails(text, IMC_AUTH_CLIENT, code, want);
}

/* No child of the test is left running or unreaped. */
static void assert_no_child(void)
{
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
}

static void test_client_runs_command_reference(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; password = command(/bin/echo " SECRET "); host = h", &a);
  assert_string_equal(val(&a, 0, "password"), SECRET);
  assert_string_equal(val(&a, 0, "host"), "h");
  imc_auth_cleanup(&a);
  /* Quotes keep `;` in the command; they are gone before the test for command(...). */
  parse_ok("type = x; password = 'command(/bin/echo a;b)'", &a);
  assert_string_equal(val(&a, 0, "password"), "a;b");
  imc_auth_cleanup(&a);
  assert_no_child();
}

/* A name without '/' is looked up in PATH, as Popen does. */
static void test_client_command_found_in_path(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; token = command(echo t0k)", &a);
  assert_string_equal(val(&a, 0, "token"), "t0k");
  imc_auth_cleanup(&a);
}

/* im-client: cmd.split(' '), no shell: two spaces make an empty argument, and shell syntax
 * is passed as it is. */
static void test_client_command_splits_on_single_spaces(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; a = command(/bin/echo  x); b = command(/bin/echo $HOME|*)", &a);
  assert_string_equal(val(&a, 0, "a"), " x");
  assert_string_equal(val(&a, 0, "b"), "$HOME|*");
  imc_auth_cleanup(&a);
}

/* Every newline goes, not only the last one; other blanks stay. */
static void test_client_command_removes_every_newline(void **state)
{
  char path[64], text[128];
  struct imc_auth a;

  (void)state;
  write_script("printf ' l1\\nl2\\r\\n\\n'", path);
  snprintf(text, sizeof text, "type = x; private_key = command(%s)", path);
  parse_ok(text, &a);
  assert_string_equal(val(&a, 0, "private_key"), " l1l2\r");
  imc_auth_cleanup(&a);
  unlink(path);
}

static void test_client_command_with_no_output_gives_empty_value(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("type = x; password = command(/bin/true)", &a);
  assert_string_equal(val(&a, 0, "password"), "");
  imc_auth_cleanup(&a);
}

/* im-client quotes the error output of a failed command, or else its output: here only the
 * error output, since the output may be the secret. */
static void test_client_failing_command_shows_error_output_only(void **state)
{
  char path[64];

  (void)state;
  write_script("echo " SECRET "\necho 'no such\tentry' >&2\necho more >&2\nexit 3", path);
  command_fails(path, IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command %s: no such "
                "entry more", path);
  unlink(path);
  assert_no_child();
}

static void test_client_failing_command_without_error_output_gives_status(void **state)
{
  char path[64];

  (void)state;
  write_script("echo " SECRET "\nexit 3", path);
  command_fails(path, IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command %s: exit "
                "status 3", path);
  unlink(path);
  command_fails("/bin/false", IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command "
                "/bin/false: exit status 1");
  write_script("echo " SECRET "\nkill -9 $$", path);
  command_fails(path, IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command %s: killed "
                "by signal 9", path);
  unlink(path);
  assert_no_child();
}

static void test_client_missing_command_fails(void **state)
{
  (void)state;
  command_fails("/nonexistent/imc/get-secret --id 1", IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command "
                "/nonexistent/imc/get-secret --id 1: No such file or directory");
  command_fails("imc-no-such-command-in-path", IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command "
                "imc-no-such-command-in-path: No such file or directory");
  command_fails(" /bin/echo", IMC_E_IO,
                "t.dat:1:22: Failed to get auth value of \"password\" using command  "
                "/bin/echo: No such file or directory");
  assert_no_child();
}

static void test_client_command_with_empty_text_fails(void **state)
{
  (void)state;
  parse_fails("type = x; password = command()", IMC_AUTH_CLIENT, IMC_E_PARSE,
              "t.dat:1:22: the command() of \"password\" names no command");
}

/* An endless output is cut at the file() limit: the command is killed and reaped. */
static void test_client_command_huge_output_fails(void **state)
{
  (void)state;
  command_fails("/usr/bin/yes y", IMC_E_TOOBIG,
                "t.dat:1:22: the output of command /usr/bin/yes y for \"password\" is larger "
                "than 1048576 bytes");
  assert_no_child();
}

static void test_client_command_output_not_text_fails(void **state)
{
  char path[64];

  (void)state;
  write_script("printf '" SECRET "\\377'", path);
  command_fails(path, IMC_E_AUTH,
                "t.dat:1:22: the output of command %s for \"password\" is not UTF-8 text", path);
  unlink(path);
}

static void test_client_runs_command_in_json(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok("[{\"type\": \"Kubernetes\", \"token\": \"command(/bin/echo tok)\"}]", &a);
  assert_string_equal(val(&a, 0, "token"), "tok");
  imc_auth_cleanup(&a);
}

/* The server runs nothing a caller names: the command would show that it ran. */
static void test_server_refuses_command_reference(void **state)
{
  char mark[64], text[160];

  (void)state;
  snprintf(mark, sizeof mark, "/tmp/imc-auth-test-ran-%ld", (long)getpid());
  unlink(mark);
  snprintf(text, sizeof text, "type = x; password = command(/usr/bin/touch %s)", mark);
  parse_fails(text, IMC_AUTH_SERVER, IMC_E_AUTH,
              "t.dat:1:22: the value of \"password\" is a command() reference: command() "
              "references are not allowed in auth data sent to the server");
  snprintf(text, sizeof text, "[{\"type\": \"x\", \"token\": \"command(/usr/bin/touch %s)\"}]",
           mark);
  parse_fails(text, IMC_AUTH_SERVER, IMC_E_AUTH,
              "t.dat:1:2: the value of \"token\" is a command() reference: command() "
              "references are not allowed in auth data sent to the server");
  assert_int_equal(access(mark, F_OK), -1);
  assert_no_child();
}

static void test_values_like_command_but_not_refs_are_kept(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  assert_int_equal(parse("type = x; a = command(x; b = my_command(x); c = Command(x)",
                         IMC_AUTH_SERVER, &a, &err),
                   0);
  assert_string_equal(val(&a, 0, "a"), "command(x");
  assert_string_equal(val(&a, 0, "b"), "my_command(x)");
  assert_string_equal(val(&a, 0, "c"), "Command(x)");
  imc_auth_cleanup(&a);
}

/* --- lookups ------------------------------------------------------------------------------ */

static const char lookup_text[] =
  "type = InfrastructureManager; username = u; password = p\n"
  "id = os1; type = OpenStack; host = https://keystone.a.org:5000\n"
  "id = os2; type = OpenStack; host = https://keystone.b.org:5000\n"
  "id = os1; type = EC2\n"
  "id = os3; type = OpenStack\n";

static void test_by_id_returns_first_match(void **state)
{
  struct imc_auth a;
  const struct imc_auth_entry *e;

  (void)state;
  parse_ok(lookup_text, &a);
  e = imc_auth_by_id(&a, "os1");
  assert_ptr_equal(e, &a.entries[1]);
  assert_string_equal(imc_auth_get(e, "type"), "OpenStack");
  assert_ptr_equal(imc_auth_by_id(&a, "os3"), &a.entries[4]);
  assert_null(imc_auth_by_id(&a, "OS1"));
  assert_null(imc_auth_by_id(&a, ""));
  imc_auth_cleanup(&a);
}

static void test_get_returns_null_for_missing_key(void **state)
{
  struct imc_auth a;

  (void)state;
  parse_ok(lookup_text, &a);
  assert_null(imc_auth_get(&a.entries[0], "token"));
  assert_null(imc_auth_get(&a.entries[0], "Username"));
  assert_string_equal(imc_auth_get(&a.entries[0], "username"), "u");
  imc_auth_cleanup(&a);
}

static void test_next_of_type_walks_entries_in_order(void **state)
{
  struct imc_auth a;
  size_t pos = 0;

  (void)state;
  parse_ok(lookup_text, &a);
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", NULL, &pos), &a.entries[1]);
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", NULL, &pos), &a.entries[2]);
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", NULL, &pos), &a.entries[4]);
  assert_null(imc_auth_next_of_type(&a, "OpenStack", NULL, &pos));
  assert_null(imc_auth_next_of_type(&a, "OpenStack", NULL, &pos));
  pos = 0;
  assert_null(imc_auth_next_of_type(&a, "openstack", NULL, &pos));
  imc_auth_cleanup(&a);
}

static void test_next_of_type_matches_host_substring(void **state)
{
  struct imc_auth a;
  size_t pos = 0;

  (void)state;
  parse_ok(lookup_text, &a);
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", "b.org", &pos), &a.entries[2]);
  assert_null(imc_auth_next_of_type(&a, "OpenStack", "b.org", &pos));
  pos = 0;
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", "keystone", &pos), &a.entries[1]);
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", "keystone", &pos), &a.entries[2]);
  /* os3 has no host: a host filter never matches it. */
  assert_null(imc_auth_next_of_type(&a, "OpenStack", "keystone", &pos));
  imc_auth_cleanup(&a);
}

static void test_next_of_type_empty_host_filters_nothing(void **state)
{
  struct imc_auth a;
  size_t pos = 3;

  (void)state;
  parse_ok(lookup_text, &a);
  assert_ptr_equal(imc_auth_next_of_type(&a, "OpenStack", "", &pos), &a.entries[4]);
  imc_auth_cleanup(&a);
}

/* --- building in code --------------------------------------------------------------------- */

static void test_entries_built_in_code(void **state)
{
  struct imc_auth a;
  struct imc_auth_entry *e;

  (void)state;
  imc_auth_init(&a);
  assert_non_null(e = imc_auth_add_entry(&a));
  assert_int_equal(e->line, 0);
  assert_int_equal(e->n, 0);
  assert_int_equal(imc_auth_entry_set(e, "type", "EC2"), 0);
  assert_int_equal(imc_auth_entry_set(e, "password", "one"), 0);
  assert_int_equal(imc_auth_entry_set(e, "password", "two"), 0);
  assert_int_equal(e->n, 2);
  assert_string_equal(imc_auth_get(e, "password"), "two");
  assert_string_equal(e->kv[1].key, "password");
  assert_non_null(imc_auth_add_entry(&a));
  assert_int_equal(a.n, 2);
  imc_auth_cleanup(&a);
  assert_int_equal(a.n, 0);
  assert_null(a.entries);
  imc_auth_cleanup(&a); /* twice is harmless */
}

/* --- checks ------------------------------------------------------------------------------- */

static int check(const char *text, struct imc_err *err)
{
  struct imc_auth a;
  int r;

  parse_ok(text, &a);
  imc_err_clear(err);
  r = imc_auth_check(&a, err);
  imc_auth_cleanup(&a);
  return r;
}

static void test_check_accepts_valid_data(void **state)
{
  struct imc_err err;

  (void)state;
  assert_int_equal(check(lookup_text, &err), 0);
  assert_int_equal(check("id = _a.b-c9; type = x\nid = .x; type = y\nid = Z; type = z", &err), 0);
}

static void test_check_accepts_empty_id(void **state)
{
  struct imc_err err;

  (void)state;
  assert_int_equal(check("id = ''; type = VMRC", &err), 0);
}

static void test_check_allows_duplicate_ids(void **state)
{
  struct imc_err err;

  (void)state;
  assert_int_equal(check("id = a; type = x\nid = a; type = y", &err), 0);
}

static void test_check_rejects_invalid_id(void **state)
{
  static const char *const bad[] = {"1a", "c&h", "-a", "a b", "a:b", "ñ"};
  struct imc_err err;

  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[64];

    snprintf(text, sizeof text, "type = IM\n\nid = '%s'; type = x", bad[i]);
    assert_int_equal(check(text, &err), IMC_E_AUTH);
    assert_string_equal(err.msg, "auth entry at line 3 has an invalid id (it must match "
                                 "[a-zA-Z_.][A-Za-z0-9_.-]*)");
  }
}

static void test_check_requires_type(void **state)
{
  struct imc_err err;

  (void)state;
  assert_int_equal(check("type = a\nid = b; username = " SECRET, &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "auth entry at line 2 has no type");
  assert_int_equal(check("type = a\n\n;", &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "auth entry at line 3 has no type");
  assert_int_equal(check("type = ''", &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "auth entry at line 1 has no type");
}

static void test_check_names_place_of_entries_built_in_code(void **state)
{
  struct imc_auth a;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  assert_int_equal(imc_auth_entry_set(imc_auth_add_entry(&a), "type", "x"), 0);
  assert_non_null(imc_auth_add_entry(&a));
  imc_err_clear(&err);
  assert_int_equal(imc_auth_check(&a, &err), IMC_E_AUTH);
  assert_string_equal(err.msg, "auth entry 2 has no type");
  imc_auth_cleanup(&a);
}

/* --- secrets and JSON output -------------------------------------------------------------- */

static void test_key_is_secret_covers_connector_credentials(void **state)
{
  static const char *const secret[] = {
    "password", "token", "private_key", "key", "secret", "secret_key", "proxy", "client_secret",
    "auth_token", "PASSWORD", "Token", "db_password", "x-secret-y", "access_token", "api_key",
    "passphrase", "private_key_data",
  };
  static const char *const plain[] = {
    "id", "type", "host", "username", "tenant", "domain", "project", "region", "subscription_id",
    "client_id", "public_key", "vo", "namespace", "auth_version", "keystone", "role", "path",
  };

  (void)state;
  for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
    if (!imc_auth_key_is_secret(secret[i]))
      fail_msg("%s should be secret", secret[i]);
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (imc_auth_key_is_secret(plain[i]))
      fail_msg("%s should not be secret", plain[i]);
  assert_false(imc_auth_key_is_secret(NULL));
}

static void test_to_json_writes_entries_in_order(void **state)
{
  struct imc_auth a;
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  parse_ok("type = IM; username = u; password = p\n;\nid = b; type = EC2", &a);
  imc_buf_init(&out, 1 << 16);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_to_json(&a, false, &out, &err), 0);
  assert_string_equal(imc_buf_cstr(&out), "[{\"type\": \"IM\", \"username\": \"u\", \"password\": "
                                          "\"p\"}, {}, {\"id\": \"b\", \"type\": \"EC2\"}]");
  imc_buf_free(&out);
  imc_auth_cleanup(&a);
}

static void test_to_json_redacts_secret_values(void **state)
{
  struct imc_auth a;
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  parse_ok("type = OpenStack; username = u; password = " SECRET "; auth_token = " SECRET
           "; proxy = " SECRET "; host = h",
           &a);
  imc_buf_init(&out, 1 << 16);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_to_json(&a, true, &out, &err), 0);
  assert_string_equal(imc_buf_cstr(&out),
                      "[{\"type\": \"OpenStack\", \"username\": \"u\", \"password\": \"***\", "
                      "\"auth_token\": \"***\", \"proxy\": \"***\", \"host\": \"h\"}]");
  assert_null(strstr(imc_buf_cstr(&out), SECRET));
  imc_buf_free(&out);
  imc_auth_cleanup(&a);
}

static void test_to_json_escapes_and_reads_back(void **state)
{
  struct imc_auth a, b;
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  struct imc_auth_entry *e = imc_auth_add_entry(&a);
  assert_non_null(e);
  assert_int_equal(imc_auth_entry_set(e, "type", "x"), 0);
  assert_int_equal(imc_auth_entry_set(e, "k\"ey", "a\"b\\c\nd\te\rf\x01g\x1fh ñ"), 0);
  imc_buf_init(&out, 1 << 16);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_to_json(&a, false, &out, &err), 0);
  assert_string_equal(imc_buf_cstr(&out), "[{\"type\": \"x\", \"k\\\"ey\": "
                                          "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh ñ\"}]");
  parse_ok(imc_buf_cstr(&out), &b);
  assert_int_equal(b.n, 1);
  assert_string_equal(val(&b, 0, "k\"ey"), "a\"b\\c\nd\te\rf\x01g\x1fh ñ");
  imc_auth_cleanup(&b);
  imc_buf_free(&out);
  imc_auth_cleanup(&a);
}

static void test_to_json_appends_to_buffer(void **state)
{
  struct imc_auth a;
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  imc_buf_init(&out, 1 << 16);
  imc_buf_adds(&out, "auth: ");
  imc_err_clear(&err);
  assert_int_equal(imc_auth_to_json(&a, true, &out, &err), 0);
  assert_string_equal(imc_buf_cstr(&out), "auth: []");
  imc_buf_free(&out);
  imc_auth_cleanup(&a);
}

static void test_to_json_past_limit_leaves_buffer_unchanged(void **state)
{
  struct imc_auth a;
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  parse_ok("type = x; password = " SECRET, &a);
  imc_buf_init(&out, 30);
  imc_buf_adds(&out, "prefix");
  imc_err_clear(&err);
  assert_int_equal(imc_auth_to_json(&a, false, &out, &err), IMC_E_TOOBIG);
  assert_string_equal(err.msg, "auth data larger than the output limit of 30 bytes");
  assert_string_equal(imc_buf_cstr(&out), "prefix");
  assert_int_equal(imc_buf_err(&out), 0);
  /* What was written and taken back is wiped, not just cut off. */
  assert_null(memmem(out.data, out.cap, SECRET, strlen(SECRET)));
  imc_buf_free(&out);
  imc_auth_cleanup(&a);
}

static void test_to_json_rejects_invalid_utf8_from_code(void **state)
{
  struct imc_auth a;
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  imc_auth_init(&a);
  assert_int_equal(imc_auth_entry_set(imc_auth_add_entry(&a), "type", "x"), 0);
  assert_int_equal(imc_auth_entry_set(imc_auth_add_entry(&a), "password", "\xff" SECRET), 0);
  imc_buf_init(&out, 1 << 16);
  imc_err_clear(&err);
  assert_int_equal(imc_auth_to_json(&a, true, &out, &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "auth entry 2 holds text that is not UTF-8");
  assert_int_equal(out.len, 0);
  imc_buf_free(&out);
  imc_auth_cleanup(&a);
}

/* --- allocation failures ------------------------------------------------------------------ */

/* Fails the 1st, 2nd, ... allocation of one parse until it succeeds: each failure is a clean
 * IMC_E_NOMEM that keeps no entry (ASan checks the leaks). */
static void parse_under_failures(const char *text, size_t want_entries)
{
  unsigned long n;

  for (n = 1;; n++) {
    struct imc_auth a;
    struct imc_err err;
    int r;

    imc_auth_init(&a);
    assert_int_equal(parse("type = kept", IMC_AUTH_CLIENT, &a, &err), 0);
    imc_alloc_fail_at(n);
    r = parse(text, IMC_AUTH_CLIENT, &a, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_int_equal(a.n, want_entries + 1);
      imc_auth_cleanup(&a);
      break;
    }
    assert_int_equal(r, IMC_E_NOMEM);
    assert_int_equal(err.code, IMC_E_NOMEM);
    assert_int_equal(a.n, 1);
    assert_string_equal(val(&a, 0, "type"), "kept");
    imc_auth_cleanup(&a);
  }
  assert_true(n > 10);
}

static void test_parse_without_memory_fails_cleanly(void **state)
{
  char path[64], text[512];

  (void)state;
  write_temp("-----BEGIN-----\nxyz\n-----END-----\n", 34, path);
  snprintf(text, sizeof text,
           "# c\ntype = InfrastructureManager; username = u; password = 'p;w'\n"
           "id = a; type = OpenStack; host = h; proxy = file(%s); x = 1; y = 2; z = 3\n"
           "id = b; type = EC2; username = k; password = s\\nt; password = again\n"
           "id = c; type = d\nid = e; type = f\n",
           path);
  parse_under_failures(text, 5);
  snprintf(text, sizeof text,
           "[{\"type\": \"IM\", \"username\": \"u\", \"password\": \"p\", \"a\": \"1\"},"
           " {\"id\": \"a\", \"type\": \"x\", \"token\": \"file(%s)\"}, {}, {}, {}, {}]",
           path);
  parse_under_failures(text, 6);
  unlink(path);
}

/* Each allocation in turn fails while a command is resolved: a clean error, no leak, and
 * the child reaped whenever it started. */
static void test_command_without_memory_fails_cleanly(void **state)
{
  (void)state;
  parse_under_failures("type = x; a = 1; b = 2; c = 3\n"
                       "type = y; password = command(/bin/echo  p w); user = u\n",
                       2);
  assert_no_child();
}

static void test_parse_file_without_memory_fails_cleanly(void **state)
{
  unsigned long n;

  (void)state;
  for (n = 1;; n++) {
    struct imc_auth a;
    struct imc_err err;
    int r;

    imc_auth_init(&a);
    imc_err_clear(&err);
    imc_alloc_fail_at(n);
    r = imc_auth_parse_file(DATA "basic.dat", IMC_AUTH_CLIENT, &a, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_int_equal(a.n, 5);
      imc_auth_cleanup(&a);
      break;
    }
    assert_int_equal(r, IMC_E_NOMEM);
    assert_int_equal(a.n, 0);
    imc_auth_cleanup(&a);
  }
  assert_true(n > 10);
}

static void test_to_json_without_memory_fails_cleanly(void **state)
{
  struct imc_auth a;
  unsigned long n;

  (void)state;
  parse_ok("type = IM; username = u; password = p\nid = a; type = EC2; token = t", &a);
  for (n = 1;; n++) {
    struct imc_buf out;
    struct imc_err err;
    int r;

    imc_buf_init(&out, 1 << 16);
    imc_buf_adds(&out, "x");
    imc_err_clear(&err);
    imc_alloc_fail_at(n);
    r = imc_auth_to_json(&a, false, &out, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_string_equal(imc_buf_cstr(&out), "x[{\"type\": \"IM\", \"username\": \"u\", "
                                              "\"password\": \"p\"}, {\"id\": \"a\", \"type\": "
                                              "\"EC2\", \"token\": \"t\"}]");
      imc_buf_free(&out);
      break;
    }
    assert_int_equal(r, IMC_E_NOMEM);
    assert_string_equal(imc_buf_cstr(&out), "x");
    imc_buf_free(&out);
  }
  assert_true(n > 1);
  imc_auth_cleanup(&a);
}

static void test_entry_set_without_memory_keeps_entry(void **state)
{
  struct imc_auth a;
  struct imc_auth_entry *e;

  (void)state;
  imc_auth_init(&a);
  assert_non_null(e = imc_auth_add_entry(&a));
  assert_int_equal(imc_auth_entry_set(e, "type", "x"), 0);
  for (unsigned long n = 1; n <= 3; n++) {
    imc_alloc_fail_at(n);
    if (imc_auth_entry_set(e, "password", "p") == 0) {
      imc_alloc_fail_at(0);
      break;
    }
    imc_alloc_fail_at(0);
    assert_int_equal(e->n, 1);
    assert_null(imc_auth_get(e, "password"));
  }
  assert_string_equal(imc_auth_get(e, "password"), "p");
  imc_alloc_fail_at(1);
  assert_int_equal(imc_auth_entry_set(e, "password", "q"), IMC_E_NOMEM);
  imc_alloc_fail_at(0);
  assert_string_equal(imc_auth_get(e, "password"), "p");
  imc_auth_cleanup(&a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_file_reads_entries_in_order),
    cmocka_unit_test(test_parse_skips_comments_and_blank_lines),
    cmocka_unit_test(test_parse_trims_whitespace_around_keys_and_values),
    cmocka_unit_test(test_parse_single_quotes_protect_semicolon_and_equals),
    cmocka_unit_test(test_parse_double_quotes_protect_semicolon_and_equals),
    cmocka_unit_test(test_parse_matches_im_unit_test),
    cmocka_unit_test(test_parse_quotes_are_removed_wherever_they_are),
    cmocka_unit_test(test_parse_strips_blanks_inside_quotes_as_im),
    cmocka_unit_test(test_parse_strips_python_whitespace),
    cmocka_unit_test(test_parse_second_equals_outside_quotes_fails),
    cmocka_unit_test(test_parse_backslash_n_becomes_newline),
    cmocka_unit_test(test_parse_empty_value_needs_quotes),
    cmocka_unit_test(test_parse_trailing_empty_items_are_nothing),
    cmocka_unit_test(test_parse_empty_item_before_another_fails),
    cmocka_unit_test(test_parse_later_duplicate_key_replaces_value),
    cmocka_unit_test(test_parse_hash_after_value_is_part_of_value),
    cmocka_unit_test(test_parse_accepts_crlf_and_cr_line_ends),
    cmocka_unit_test(test_parse_skips_byte_order_mark),
    cmocka_unit_test(test_parse_appends_to_existing_entries),
    cmocka_unit_test(test_parse_empty_text_gives_no_entries),
    cmocka_unit_test(test_parse_unclosed_quote_fails_at_quote),
    cmocka_unit_test(test_parse_item_without_equals_fails_at_item),
    cmocka_unit_test(test_parse_columns_count_characters),
    cmocka_unit_test(test_parse_empty_key_fails),
    cmocka_unit_test(test_parse_error_files_name_line_and_column),
    cmocka_unit_test(test_parse_error_leaves_entries_unchanged),
    cmocka_unit_test(test_parse_rejects_invalid_utf8_at_its_position),
    cmocka_unit_test(test_parse_rejects_nul_byte),
    cmocka_unit_test(test_parse_rejects_text_past_limit),
    cmocka_unit_test(test_parse_file_missing_reports_io),
    cmocka_unit_test(test_parse_json_file_gives_im_entries),
    cmocka_unit_test(test_parse_json_keeps_key_order),
    cmocka_unit_test(test_parse_json_empty_list_gives_no_entries),
    cmocka_unit_test(test_parse_json_rejects_non_list),
    cmocka_unit_test(test_parse_json_rejects_item_not_object),
    cmocka_unit_test(test_parse_json_rejects_value_not_string),
    cmocka_unit_test(test_parse_json_rejects_empty_key),
    cmocka_unit_test(test_parse_bad_json_reports_position_without_value),
    cmocka_unit_test(test_client_reads_file_reference),
    cmocka_unit_test(test_client_reads_file_reference_in_json),
    cmocka_unit_test(test_client_unreadable_file_names_key_and_path),
    cmocka_unit_test(test_client_file_with_empty_path_fails),
    cmocka_unit_test(test_client_file_too_big_fails),
    cmocka_unit_test(test_client_file_not_text_fails),
    cmocka_unit_test(test_server_refuses_file_reference),
    cmocka_unit_test(test_values_like_file_but_not_file_refs_are_kept),
    cmocka_unit_test(test_client_runs_command_reference),
    cmocka_unit_test(test_client_command_found_in_path),
    cmocka_unit_test(test_client_command_splits_on_single_spaces),
    cmocka_unit_test(test_client_command_removes_every_newline),
    cmocka_unit_test(test_client_command_with_no_output_gives_empty_value),
    cmocka_unit_test(test_client_failing_command_shows_error_output_only),
    cmocka_unit_test(test_client_failing_command_without_error_output_gives_status),
    cmocka_unit_test(test_client_missing_command_fails),
    cmocka_unit_test(test_client_command_with_empty_text_fails),
    cmocka_unit_test(test_client_command_huge_output_fails),
    cmocka_unit_test(test_client_command_output_not_text_fails),
    cmocka_unit_test(test_client_runs_command_in_json),
    cmocka_unit_test(test_server_refuses_command_reference),
    cmocka_unit_test(test_values_like_command_but_not_refs_are_kept),
    cmocka_unit_test(test_by_id_returns_first_match),
    cmocka_unit_test(test_get_returns_null_for_missing_key),
    cmocka_unit_test(test_next_of_type_walks_entries_in_order),
    cmocka_unit_test(test_next_of_type_matches_host_substring),
    cmocka_unit_test(test_next_of_type_empty_host_filters_nothing),
    cmocka_unit_test(test_entries_built_in_code),
    cmocka_unit_test(test_check_accepts_valid_data),
    cmocka_unit_test(test_check_accepts_empty_id),
    cmocka_unit_test(test_check_allows_duplicate_ids),
    cmocka_unit_test(test_check_rejects_invalid_id),
    cmocka_unit_test(test_check_requires_type),
    cmocka_unit_test(test_check_names_place_of_entries_built_in_code),
    cmocka_unit_test(test_key_is_secret_covers_connector_credentials),
    cmocka_unit_test(test_to_json_writes_entries_in_order),
    cmocka_unit_test(test_to_json_redacts_secret_values),
    cmocka_unit_test(test_to_json_escapes_and_reads_back),
    cmocka_unit_test(test_to_json_appends_to_buffer),
    cmocka_unit_test(test_to_json_past_limit_leaves_buffer_unchanged),
    cmocka_unit_test(test_to_json_rejects_invalid_utf8_from_code),
    cmocka_unit_test(test_parse_without_memory_fails_cleanly),
    cmocka_unit_test(test_command_without_memory_fails_cleanly),
    cmocka_unit_test(test_parse_file_without_memory_fails_cleanly),
    cmocka_unit_test(test_to_json_without_memory_fails_cleanly),
    cmocka_unit_test(test_entry_set_without_memory_keeps_entry),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
