/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/rest_auth.c: IM's Authorization header (auth lines joined by the two characters
 * `\n`, a JSON list, Basic or Bearer) and the base64 decoder behind Basic.  Errors are
 * IMC_E_AUTH and never quote a value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "imc/alloc.h"
#include "rest_int.h"

#define NO_AUTH "No authentication data provided"

struct parsed {
  struct imc_auth a;
  struct imc_err err;
  int r;
};

static void parse(struct parsed *p, const char *header)
{
  imc_auth_init(&p->a);
  imc_err_clear(&p->err);
  p->r = rest_auth_parse(header, &p->a, &p->err);
}

static void done(struct parsed *p)
{
  imc_auth_cleanup(&p->a);
}

/* The parse failed with IMC_E_AUTH, added nothing, and its message does not hold secret. */
static void assert_refused(struct parsed *p, const char *secret)
{
  assert_int_equal(p->r, IMC_E_AUTH);
  assert_int_equal(p->err.code, IMC_E_AUTH);
  assert_int_equal(p->a.n, 0);
  assert_true(p->err.msg[0] != '\0');
  if (secret && strstr(p->err.msg, secret))
    fail_msg("the message quotes the secret: %s", p->err.msg);
}

static const char *get(const struct parsed *p, size_t i, const char *key)
{
  assert_true(i < p->a.n);
  return imc_auth_get(&p->a.entries[i], key);
}

/* --- no data ------------------------------------------------------------------------------ */

static void test_auth_null_header_is_no_auth_data(void **state)
{
  struct parsed p;

  parse(&p, NULL);
  assert_refused(&p, NULL);
  assert_string_equal(p.err.msg, NO_AUTH);
  done(&p);
}

static void test_auth_blank_header_is_no_auth_data(void **state)
{
  static const char *const blank[] = {"", " ", " \t  "};
  struct parsed p;

  for (size_t i = 0; i < sizeof blank / sizeof blank[0]; i++) {
    parse(&p, blank[i]);
    assert_refused(&p, NULL);
    assert_string_equal(p.err.msg, NO_AUTH);
    done(&p);
  }
}

static void test_auth_only_comments_is_no_auth_data(void **state)
{
  struct parsed p;

  parse(&p, "# nothing here\\n\\n# nor here");
  assert_refused(&p, NULL);
  assert_string_equal(p.err.msg, NO_AUTH);
  done(&p);
}

static void test_auth_empty_json_list_is_no_auth_data(void **state)
{
  struct parsed p;

  parse(&p, "[]");
  assert_refused(&p, NULL);
  assert_string_equal(p.err.msg, NO_AUTH);
  done(&p);
}

/* --- IM's line form ----------------------------------------------------------------------- */

static void test_auth_lines_joined_by_backslash_n_give_entries(void **state)
{
  struct parsed p;

  parse(&p, "id = im; type = InfrastructureManager; username = ana; password = pw1"
            "\\nid = os; type = OpenStack; host = https://keystone:5000; password = pw2");
  assert_int_equal(p.r, 0);
  assert_int_equal(p.a.n, 2);
  assert_string_equal(get(&p, 0, "type"), "InfrastructureManager");
  assert_string_equal(get(&p, 0, "username"), "ana");
  assert_string_equal(get(&p, 0, "password"), "pw1");
  assert_string_equal(get(&p, 1, "id"), "os");
  assert_string_equal(get(&p, 1, "host"), "https://keystone:5000");
  assert_string_equal(get(&p, 1, "password"), "pw2");
  done(&p);
}

static void test_auth_lines_skip_blank_and_comment_lines(void **state)
{
  struct parsed p;

  parse(&p, "# mine\\n\\ntype = InfrastructureManager; token = t\\n  \\n");
  assert_int_equal(p.r, 0);
  assert_int_equal(p.a.n, 1);
  assert_string_equal(get(&p, 0, "token"), "t");
  done(&p);
}

static void test_auth_escaped_backslash_n_is_newline_in_value(void **state)
{
  struct parsed p;

  /* The three characters `\\n` inside a value: a newline, and no new line of auth data. */
  parse(&p, "type = OpenStack; proxy = line1\\\\nline2\\ntype = InfrastructureManager; "
            "token = t");
  assert_int_equal(p.r, 0);
  assert_int_equal(p.a.n, 2);
  assert_string_equal(get(&p, 0, "proxy"), "line1\nline2");
  assert_string_equal(get(&p, 1, "type"), "InfrastructureManager");
  done(&p);
}

static void test_auth_quoted_value_keeps_semicolon(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; username = u; password = 'a;b=c'");
  assert_int_equal(p.r, 0);
  assert_string_equal(get(&p, 0, "password"), "a;b=c");
  done(&p);
}

static void test_auth_lines_append_to_existing_entries(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; token = one");
  assert_int_equal(p.r, 0);
  assert_int_equal(rest_auth_parse("type = Dummy", &p.a, &p.err), 0);
  assert_int_equal(p.a.n, 2);
  assert_string_equal(get(&p, 0, "token"), "one");
  assert_string_equal(get(&p, 1, "type"), "Dummy");
  done(&p);
}

static void test_auth_item_without_equals_is_refused_without_value(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; username = u; password = s3cr3tPW; hunter2word");
  assert_refused(&p, "s3cr3tPW");
  assert_null(strstr(p.err.msg, "hunter2word"));
  assert_non_null(strstr(p.err.msg, "Invalid authentication data"));
  done(&p);
}

static void test_auth_unclosed_quote_is_refused_without_value(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; username = u; password = 'Xyzzy-secret");
  assert_refused(&p, "Xyzzy-secret");
  done(&p);
}

static void test_auth_bad_second_line_keeps_no_entry(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; token = T0kenValue\\n= orphan-value");
  assert_refused(&p, "T0kenValue");
  assert_null(strstr(p.err.msg, "orphan-value"));
  done(&p);
}

static void test_auth_file_reference_is_refused_on_server(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; username = u; password = file(/etc/hostname)");
  assert_refused(&p, NULL);
  assert_non_null(strstr(p.err.msg, "file()"));
  done(&p);
}

static void test_auth_invalid_utf8_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "type = InfrastructureManager; username = u; password = \xff\xfe");
  assert_refused(&p, "\xff\xfe");
  done(&p);
}

/* --- the JSON form ------------------------------------------------------------------------ */

static void test_auth_json_list_gives_entries(void **state)
{
  struct parsed p;

  parse(&p, "[{\"type\": \"InfrastructureManager\", \"username\": \"u\", \"password\": \"p\"},"
            " {\"id\": \"one\", \"type\": \"Dummy\"}]");
  assert_int_equal(p.r, 0);
  assert_int_equal(p.a.n, 2);
  assert_string_equal(get(&p, 0, "username"), "u");
  assert_string_equal(get(&p, 0, "password"), "p");
  assert_string_equal(get(&p, 1, "id"), "one");
  done(&p);
}

static void test_auth_json_escape_newline_is_newline(void **state)
{
  struct parsed p;

  parse(&p, "[{\"type\": \"OpenStack\", \"proxy\": \"a\\nb\"}]");
  assert_int_equal(p.r, 0);
  assert_string_equal(get(&p, 0, "proxy"), "a\nb");
  done(&p);
}

static void test_auth_json_syntax_error_is_refused_without_value(void **state)
{
  struct parsed p;

  parse(&p, "[{\"type\": \"InfrastructureManager\", \"password\": \"JsonSecret9\"");
  assert_refused(&p, "JsonSecret9");
  assert_non_null(strstr(p.err.msg, "Invalid authentication data"));
  done(&p);
}

static void test_auth_json_object_not_list_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "{\"type\": \"InfrastructureManager\", \"token\": \"ObjToken77\"}");
  assert_refused(&p, "ObjToken77");
  done(&p);
}

static void test_auth_json_non_string_value_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "[{\"type\": \"InfrastructureManager\", \"password\": 12345678}]");
  assert_refused(&p, "12345678");
  done(&p);
}

/* --- Basic and Bearer --------------------------------------------------------------------- */

static void test_auth_basic_gives_im_user_and_password(void **state)
{
  struct parsed p;

  parse(&p, "Basic YW5hOnMzY3IzdA=="); /* ana:s3cr3t */
  assert_int_equal(p.r, 0);
  assert_int_equal(p.a.n, 1);
  assert_string_equal(get(&p, 0, "type"), "InfrastructureManager");
  assert_string_equal(get(&p, 0, "username"), "ana");
  assert_string_equal(get(&p, 0, "password"), "s3cr3t");
  assert_null(get(&p, 0, "token"));
  done(&p);
}

static void test_auth_basic_password_keeps_later_colons(void **state)
{
  struct parsed p;

  parse(&p, "Basic dXNlcjpwYTpzcw=="); /* user:pa:ss */
  assert_int_equal(p.r, 0);
  assert_string_equal(get(&p, 0, "username"), "user");
  assert_string_equal(get(&p, 0, "password"), "pa:ss");
  done(&p);
}

static void test_auth_basic_empty_password_is_kept(void **state)
{
  struct parsed p;

  parse(&p, "Basic dXNlcjo="); /* user: */
  assert_int_equal(p.r, 0);
  assert_string_equal(get(&p, 0, "username"), "user");
  assert_string_equal(get(&p, 0, "password"), "");
  done(&p);
}

static void test_auth_basic_without_colon_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "Basic dXNlcnBhc3M="); /* userpass */
  assert_refused(&p, "userpass");
  assert_string_equal(p.err.msg, "Invalid Basic authorization: expected user:password");
  done(&p);
}

static void test_auth_basic_not_base64_is_refused_without_value(void **state)
{
  struct parsed p;

  parse(&p, "Basic Zm9v*mFy");
  assert_refused(&p, "Zm9v");
  assert_non_null(strstr(p.err.msg, "Invalid Basic authorization"));
  done(&p);
}

static void test_auth_basic_bad_length_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "Basic YW5hOnMzY3IzdA"); /* ana:s3cr3t without its padding */
  assert_refused(&p, "YW5hOnMzY3IzdA");
  done(&p);
}

static void test_auth_basic_with_nul_byte_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "Basic dXNlcgA6UXc5ekxr"); /* user NUL :Qw9zLk */
  assert_refused(&p, "Qw9zLk");
  done(&p);
}

static void test_auth_basic_empty_credentials_is_refused(void **state)
{
  struct parsed p;

  parse(&p, "Basic ");
  assert_refused(&p, NULL);
  done(&p);
}

static void test_auth_bearer_gives_im_token(void **state)
{
  struct parsed p;

  parse(&p, "Bearer eyJhbGciOi.eyJzdWIi.sig-_");
  assert_int_equal(p.r, 0);
  assert_int_equal(p.a.n, 1);
  assert_string_equal(get(&p, 0, "type"), "InfrastructureManager");
  assert_string_equal(get(&p, 0, "token"), "eyJhbGciOi.eyJzdWIi.sig-_");
  assert_null(get(&p, 0, "username"));
  done(&p);
}

static void test_auth_bearer_token_is_trimmed(void **state)
{
  struct parsed p;

  parse(&p, "  Bearer \t tok123 \t ");
  assert_int_equal(p.r, 0);
  assert_string_equal(get(&p, 0, "token"), "tok123");
  done(&p);
}

static void test_auth_scheme_is_case_sensitive(void **state)
{
  struct parsed p;

  /* IM tests startswith("Bearer "): any other spelling is read as an auth line. */
  parse(&p, "bearer LowerTok42");
  assert_refused(&p, "LowerTok42");
  done(&p);
}

/* --- base64 ------------------------------------------------------------------------------- */

struct decoded {
  char *out;
  size_t n;
  struct imc_err err;
  int r;
};

static void decode(struct decoded *d, const char *in, size_t len)
{
  static char untouched[] = "untouched";

  imc_err_clear(&d->err);
  d->out = untouched;
  d->n = 99;
  d->r = rest_base64_decode(in, len, &d->out, &d->n, &d->err);
}

static void assert_decodes(const char *in, const char *want, size_t want_n)
{
  struct decoded d;

  decode(&d, in, strlen(in));
  assert_int_equal(d.r, 0);
  assert_int_equal(d.n, want_n);
  assert_memory_equal(d.out, want, want_n);
  assert_int_equal(d.out[want_n], '\0');
  imc_free_secret(d.out);
}

static void assert_not_base64(const char *in, size_t len)
{
  struct decoded d;

  decode(&d, in, len);
  if (d.r != IMC_E_INVAL)
    fail_msg("\"%.*s\" decoded (r = %d)", (int)len, in, d.r);
  assert_null(d.out);
  assert_true(d.err.msg[0] != '\0');
}

static void test_base64_empty_is_empty(void **state)
{
  assert_decodes("", "", 0);
}

static void test_base64_no_padding_decodes_three_bytes(void **state)
{
  assert_decodes("TWFu", "Man", 3);
}

static void test_base64_one_pad_decodes_two_bytes(void **state)
{
  assert_decodes("TWE=", "Ma", 2);
}

static void test_base64_two_pads_decode_one_byte(void **state)
{
  assert_decodes("TQ==", "M", 1);
  assert_decodes("TWFuTQ==", "ManM", 4);
}

static void test_base64_binary_bytes_decode_with_nul(void **state)
{
  assert_decodes("AP8A", "\x00\xff\x00", 3);
  assert_decodes("+/+/", "\xfb\xff\xbf", 3);
}

static void test_base64_reads_only_len_bytes(void **state)
{
  struct decoded d;

  decode(&d, "TWFu!!!!", 4);
  assert_int_equal(d.r, 0);
  assert_string_equal(d.out, "Man");
  imc_free_secret(d.out);
}

static void test_base64_missing_padding_is_invalid(void **state)
{
  assert_not_base64("TWE", 3);
  assert_not_base64("TQ", 2);
  assert_not_base64("T", 1);
}

static void test_base64_three_pads_is_invalid(void **state)
{
  assert_not_base64("T===", 4);
  assert_not_base64("====", 4);
}

static void test_base64_pad_before_data_is_invalid(void **state)
{
  assert_not_base64("TQ=A", 4);
  assert_not_base64("TQ==TWFu", 8);
  assert_not_base64("TW=u", 4);
}

static void test_base64_invalid_char_is_invalid_with_position(void **state)
{
  struct decoded d;

  decode(&d, "TW!u", 4);
  assert_int_equal(d.r, IMC_E_INVAL);
  assert_null(d.out);
  assert_non_null(strstr(d.err.msg, "byte 3"));
}

static void test_base64_url_safe_alphabet_is_invalid(void **state)
{
  assert_not_base64("-_-_", 4);
}

static void test_base64_white_space_is_invalid(void **state)
{
  assert_not_base64("TW Fu", 5);
  assert_not_base64("TWFu\n", 5);
  assert_not_base64("TW\nFu===", 8);
}

static void test_base64_high_bytes_are_invalid(void **state)
{
  assert_not_base64("TW\xc3\xa9", 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_auth_null_header_is_no_auth_data),
    cmocka_unit_test(test_auth_blank_header_is_no_auth_data),
    cmocka_unit_test(test_auth_only_comments_is_no_auth_data),
    cmocka_unit_test(test_auth_empty_json_list_is_no_auth_data),
    cmocka_unit_test(test_auth_lines_joined_by_backslash_n_give_entries),
    cmocka_unit_test(test_auth_lines_skip_blank_and_comment_lines),
    cmocka_unit_test(test_auth_escaped_backslash_n_is_newline_in_value),
    cmocka_unit_test(test_auth_quoted_value_keeps_semicolon),
    cmocka_unit_test(test_auth_lines_append_to_existing_entries),
    cmocka_unit_test(test_auth_item_without_equals_is_refused_without_value),
    cmocka_unit_test(test_auth_unclosed_quote_is_refused_without_value),
    cmocka_unit_test(test_auth_bad_second_line_keeps_no_entry),
    cmocka_unit_test(test_auth_file_reference_is_refused_on_server),
    cmocka_unit_test(test_auth_invalid_utf8_is_refused),
    cmocka_unit_test(test_auth_json_list_gives_entries),
    cmocka_unit_test(test_auth_json_escape_newline_is_newline),
    cmocka_unit_test(test_auth_json_syntax_error_is_refused_without_value),
    cmocka_unit_test(test_auth_json_object_not_list_is_refused),
    cmocka_unit_test(test_auth_json_non_string_value_is_refused),
    cmocka_unit_test(test_auth_basic_gives_im_user_and_password),
    cmocka_unit_test(test_auth_basic_password_keeps_later_colons),
    cmocka_unit_test(test_auth_basic_empty_password_is_kept),
    cmocka_unit_test(test_auth_basic_without_colon_is_refused),
    cmocka_unit_test(test_auth_basic_not_base64_is_refused_without_value),
    cmocka_unit_test(test_auth_basic_bad_length_is_refused),
    cmocka_unit_test(test_auth_basic_with_nul_byte_is_refused),
    cmocka_unit_test(test_auth_basic_empty_credentials_is_refused),
    cmocka_unit_test(test_auth_bearer_gives_im_token),
    cmocka_unit_test(test_auth_bearer_token_is_trimmed),
    cmocka_unit_test(test_auth_scheme_is_case_sensitive),
    cmocka_unit_test(test_base64_empty_is_empty),
    cmocka_unit_test(test_base64_no_padding_decodes_three_bytes),
    cmocka_unit_test(test_base64_one_pad_decodes_two_bytes),
    cmocka_unit_test(test_base64_two_pads_decode_one_byte),
    cmocka_unit_test(test_base64_binary_bytes_decode_with_nul),
    cmocka_unit_test(test_base64_reads_only_len_bytes),
    cmocka_unit_test(test_base64_missing_padding_is_invalid),
    cmocka_unit_test(test_base64_three_pads_is_invalid),
    cmocka_unit_test(test_base64_pad_before_data_is_invalid),
    cmocka_unit_test(test_base64_invalid_char_is_invalid_with_position),
    cmocka_unit_test(test_base64_url_safe_alphabet_is_invalid),
    cmocka_unit_test(test_base64_white_space_is_invalid),
    cmocka_unit_test(test_base64_high_bytes_are_invalid),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
