/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/xmlrpc_values.c: call arguments read by a format, IM's auth parameter (an array of
 * structs), filters, JSON results as XML-RPC values, and the <i8> guard that keeps malformed
 * values away from Debian's xmlrpc-c (1.33.14 crashes on them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "imc/alloc.h"
#include "xmlrpc_int.h"

/* One environment for the program: every call must leave it without a fault. */
static xmlrpc_env env;
static struct imc_err err;

static int env_setup(void **state)
{
  xmlrpc_env_init(&env);
  return 0;
}

static int env_teardown(void **state)
{
  xmlrpc_env_clean(&env);
  return 0;
}

/* xmlrpc_build_value: "(...)" an array, "{s:v,...}" a struct, s i b d n as xmlrpc-c has them. */
static xmlrpc_value *build(const char *fmt, ...)
{
  xmlrpc_value *v = NULL;
  const char *tail = NULL;
  va_list ap;

  va_start(ap, fmt);
  xmlrpc_build_value_va(&env, fmt, ap, &v, &tail);
  va_end(ap);
  assert_false(env.fault_occurred);
  return v;
}

static void assert_msg(const char *want)
{
  if (!strstr(err.msg, want))
    fail_msg("message \"%s\" does not say \"%s\"", err.msg, want);
}

/* --- xr_args_read ------------------------------------------------------------------------- */

static struct xr_args args;

/* Reads params (released here) with fmt; the caller calls xr_args_cleanup(&args). */
static int read_args(const char *fmt, xmlrpc_value *params)
{
  int r;

  imc_err_clear(&err);
  r = xr_args_read(&env, params, fmt, &args, &err);
  xmlrpc_DECREF(params);
  assert_false(env.fault_occurred); /* a failure leaves the environment clean */
  assert_int_equal(err.code, r);
  return r;
}

static void args_fail(const char *fmt, xmlrpc_value *params, enum imc_code code, const char *msg)
{
  assert_int_equal(read_args(fmt, params), code);
  assert_msg(msg);
  xr_args_cleanup(&args);
}

static void test_args_strings_and_bools_are_read(void **state)
{
  assert_int_equal(read_args("sbsb", build("(sbsb)", "inf-1", 1, "radl", 0)), 0);
  assert_string_equal(args.s[0], "inf-1");
  assert_string_equal(args.s[1], "radl");
  assert_true(args.b[0] && !args.b[1]);
  assert_int_equal(args.given, 4);
  xr_args_cleanup(&args);
}

static void test_args_int_and_bool_read_as_string(void **state)
{
  assert_int_equal(read_args("ss", build("(ib)", -12, 1)), 0);
  assert_string_equal(args.s[0], "-12");
  assert_string_equal(args.s[1], "true");
  xr_args_cleanup(&args);
}

static void test_args_non_scalar_as_string_fails(void **state)
{
  args_fail("s", build("(d)", 1.5), IMC_E_INVAL, "parameter 1 must be a string");
  args_fail("ss", build("(s(s))", "ok", "x"), IMC_E_INVAL, "parameter 2 must be a string");
  args_fail("s", build("({s:s})", "k", "v"), IMC_E_INVAL, "parameter 1 must be a string");
  args_fail("s", build("(n)"), IMC_E_INVAL, "parameter 1 must be a string");
}

static void test_args_missing_parameter_fails(void **state)
{
  args_fail("ssb", build("(s)", "only"), IMC_E_INVAL, "expected more parameters (1 given)");
  args_fail("s", build("()"), IMC_E_INVAL, "expected more parameters (0 given)");
}

static void test_args_optional_may_be_left_out(void **state)
{
  assert_int_equal(read_args("s|b", build("(s)", "x")), 0);
  assert_false(args.b[0]);
  assert_int_equal(args.given, 1);
  xr_args_cleanup(&args);
}

static void test_args_optional_given_is_read(void **state)
{
  assert_int_equal(read_args("s|b", build("(sb)", "x", 1)), 0);
  assert_true(args.b[0]);
  assert_int_equal(args.given, 2);
  xr_args_cleanup(&args);
}

static void test_args_extra_parameters_are_ignored(void **state)
{
  assert_int_equal(read_args("s", build("(ss)", "a", "b")), 0);
  assert_string_equal(args.s[0], "a");
  assert_null(args.s[1]);
  xr_args_cleanup(&args);
}

static void test_args_bool_accepts_old_clients_forms(void **state)
{
  assert_int_equal(read_args("bbbb", build("(isss)", 1, "yes", "Y", "TRUE")), 0);
  assert_true(args.b[0] && args.b[1] && args.b[2] && args.b[3]);
  xr_args_cleanup(&args);
  assert_int_equal(read_args("bbbb", build("(nsis)", "N", 0, "")), 0);
  assert_true(!args.b[0] && !args.b[1] && !args.b[2] && !args.b[3]);
  xr_args_cleanup(&args);
}

static void test_args_bool_bad_value_fails(void **state)
{
  args_fail("sb", build("(ss)", "x", "maybe"), IMC_E_INVAL, "parameter 2 must be a boolean");
  args_fail("b", build("(i)", 2), IMC_E_INVAL, "parameter 1 must be a boolean");
  args_fail("b", build("(d)", 1.0), IMC_E_INVAL, "parameter 1 must be a boolean");
}

static void test_args_ids_from_int_string_and_array(void **state)
{
  assert_int_equal(read_args("I", build("((is(is)))", 3, "4, 5,6", 7, "8")), 0);
  assert_int_equal(args.ids.n, 6);
  for (unsigned i = 0; i < 6; i++)
    assert_int_equal(args.ids.v[i], i + 3);
  xr_args_cleanup(&args);
}

static void test_args_ids_empty_string_is_no_ids(void **state)
{
  assert_int_equal(read_args("I", build("(s)", "")), 0);
  assert_int_equal(args.ids.n, 0);
  xr_args_cleanup(&args);
}

static void test_args_ids_bad_forms_fail(void **state)
{
  static const char *const bad[] = {"1,x", "-1", "2147483648", "1.5", "a"};

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    args_fail("sI", build("(ss)", "inf", bad[i]), IMC_E_INVAL, "parameter 2 must list VM ids");
  args_fail("I", build("(i)", -3), IMC_E_INVAL, "must list VM ids");
  args_fail("I", build("((ib))", 1, 1), IMC_E_INVAL, "must list VM ids");
  args_fail("I", build("(d)", 2.0), IMC_E_INVAL, "must list VM ids");
}

static void test_args_filters_struct_is_kept(void **state)
{
  assert_int_equal(read_args("F", build("({s:s})", "region", "eu")), 0);
  assert_non_null(args.filters);
  assert_int_equal(xmlrpc_value_type(args.filters), XMLRPC_TYPE_STRUCT);
  xr_args_cleanup(&args);
}

static void test_args_filters_nil_is_none(void **state)
{
  assert_int_equal(read_args("F", build("(n)")), 0);
  assert_null(args.filters);
  xr_args_cleanup(&args);
}

static void test_args_filters_not_struct_fails(void **state)
{
  args_fail("F", build("(s)", "region=eu"), IMC_E_INVAL, "parameter 1 must be a struct");
  args_fail("F", build("((s))", "region=eu"), IMC_E_INVAL, "parameter 1 must be a struct");
}

static void test_args_auth_and_second_auth_are_read(void **state)
{
  assert_int_equal(
    read_args("sAN", build("(s({s:s,s:s})({s:s,s:s}))", "inf", "type", "InfrastructureManager",
                           "token", "t1", "type", "InfrastructureManager", "username", "new")),
    0);
  assert_int_equal(args.auth.n, 1);
  assert_int_equal(args.auth2.n, 1);
  assert_string_equal(imc_auth_get(&args.auth.entries[0], "token"), "t1");
  assert_string_equal(imc_auth_get(&args.auth2.entries[0], "username"), "new");
  xr_args_cleanup(&args);
}

static void test_args_bad_auth_fails_with_auth_code(void **state)
{
  args_fail("sA", build("(ss)", "inf", "type = InfrastructureManager"), IMC_E_AUTH,
            "array of structs");
  args_fail("sA", build("(s({s:d}))", "inf", "type", 1.0), IMC_E_AUTH, "must be strings");
}

static void test_args_unknown_format_is_internal(void **state)
{
  args_fail("z", build("(s)", "x"), IMC_E_INTERNAL, "bad argument format");
}

/* --- xr_auth ------------------------------------------------------------------------------ */

static struct imc_auth auth;

/* Reads v (released here); the caller calls imc_auth_cleanup(&auth). */
static int auth_of(xmlrpc_value *v)
{
  int r;

  imc_auth_init(&auth);
  imc_err_clear(&err);
  r = xr_auth(&env, v, &auth, &err);
  xmlrpc_DECREF(v);
  assert_false(env.fault_occurred);
  return r;
}

static void auth_fails(xmlrpc_value *v, const char *msg)
{
  assert_int_equal(auth_of(v), IMC_E_AUTH);
  assert_msg(msg);
  imc_auth_cleanup(&auth);
}

static void test_xr_auth_array_of_structs_gives_entries(void **state)
{
  assert_int_equal(
    auth_of(build("({s:s,s:s,s:s}{s:s,s:s,s:i,s:b})", "type", "InfrastructureManager", "username",
                  "u", "password", "p", "id", "one", "type", "Dummy", "port", 22, "ssl", 1)),
    0);
  assert_int_equal(auth.n, 2);
  assert_string_equal(imc_auth_get(&auth.entries[0], "password"), "p");
  assert_string_equal(imc_auth_get(&auth.entries[1], "id"), "one");
  assert_string_equal(imc_auth_get(&auth.entries[1], "port"), "22");
  assert_string_equal(imc_auth_get(&auth.entries[1], "ssl"), "true");
  assert_int_equal(auth.entries[1].line, 2);
  imc_auth_cleanup(&auth);
}

static void test_xr_auth_empty_array_gives_no_entry(void **state)
{
  assert_int_equal(auth_of(build("()")), 0);
  assert_int_equal(auth.n, 0);
  imc_auth_cleanup(&auth);
}

static void test_xr_auth_not_an_array_fails(void **state)
{
  auth_fails(build("{s:s}", "type", "Dummy"), "the auth parameter must be an array of structs");
  auth_fails(build("s", "type = Dummy"), "the auth parameter must be an array of structs");
}

static void test_xr_auth_member_not_struct_fails(void **state)
{
  auth_fails(build("({s:s}s)", "type", "Dummy", "type = Dummy"), "auth item 2 is not a struct");
  auth_fails(build("((s))", "x"), "auth item 1 is not a struct");
}

static void test_xr_auth_non_string_value_fails_without_secret(void **state)
{
  auth_fails(build("({s:s,s:s,s:d})", "type", "InfrastructureManager", "password", "Pw-9z7y",
                   "timeout", 2.5),
             "auth item 1: values must be strings");
  assert_null(strstr(err.msg, "Pw-9z7y"));
  auth_fails(build("({s:s}{s:(s)})", "type", "Dummy", "type", "Dummy"),
             "auth item 2: values must be strings");
  auth_fails(build("({s:n})", "type"), "auth item 1: values must be strings");
}

static void test_xr_auth_entry_without_type_fails(void **state)
{
  auth_fails(build("({s:s})", "username", "u"), "has no type");
}

static void test_xr_auth_invalid_id_fails(void **state)
{
  auth_fails(build("({s:s,s:s})", "id", "1bad id", "type", "Dummy"), "invalid id");
}

/* --- xr_filters --------------------------------------------------------------------------- */

static void test_xr_filters_null_is_none(void **state)
{
  static const struct imc_auth_entry sentinel;
  const struct imc_auth_entry *e = &sentinel;

  imc_auth_init(&auth);
  assert_int_equal(xr_filters(&env, NULL, &auth, &e, &err), 0);
  assert_null(e);
  assert_int_equal(auth.n, 0);
}

static void test_xr_filters_struct_gives_one_entry(void **state)
{
  xmlrpc_value *s = build("{s:s,s:i}", "region", "eu-west", "min_cpu", 2);
  const struct imc_auth_entry *e = NULL;

  imc_auth_init(&auth);
  assert_int_equal(xr_filters(&env, s, &auth, &e, &err), 0);
  assert_int_equal(auth.n, 1);
  assert_ptr_equal(e, &auth.entries[0]);
  assert_string_equal(imc_auth_get(e, "region"), "eu-west");
  assert_string_equal(imc_auth_get(e, "min_cpu"), "2");
  xmlrpc_DECREF(s);
  imc_auth_cleanup(&auth);
}

static void test_xr_filters_non_scalar_value_fails(void **state)
{
  xmlrpc_value *s = build("{s:d}", "ratio", 0.5);
  const struct imc_auth_entry *e = NULL;

  imc_auth_init(&auth);
  imc_err_clear(&err);
  assert_int_equal(xr_filters(&env, s, &auth, &e, &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "filters must map names to strings");
  assert_null(e);
  assert_false(env.fault_occurred);
  xmlrpc_DECREF(s);
  imc_auth_cleanup(&auth);
}

/* --- xr_json ------------------------------------------------------------------------------ */

/* Converts JSON text; the caller DECREFs the result. */
static xmlrpc_value *from_json(const char *text)
{
  json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  xmlrpc_value *v;

  assert_non_null(j);
  v = xr_json(&env, j, 0);
  json_decref(j);
  assert_false(env.fault_occurred);
  assert_non_null(v);
  return v;
}

static void test_xr_json_object_becomes_struct(void **state)
{
  xmlrpc_value *v = from_json("{\"state\": \"running\", \"n\": 3, \"list\": [true, 1.5]}");
  xmlrpc_value *list = NULL;
  const char *str = NULL;
  int n = 0;

  assert_int_equal(xmlrpc_value_type(v), XMLRPC_TYPE_STRUCT);
  assert_int_equal(xmlrpc_struct_size(&env, v), 3);
  xmlrpc_decompose_value(&env, v, "{s:s,s:i,s:A,*}", "state", &str, "n", &n, "list", &list);
  assert_false(env.fault_occurred);
  assert_string_equal(str, "running");
  assert_int_equal(n, 3);
  assert_int_equal(xmlrpc_array_size(&env, list), 2);
  imc_free((void *)str);
  xmlrpc_DECREF(list);
  xmlrpc_DECREF(v);
}

static void test_xr_json_integers_beyond_int_become_i8(void **state)
{
  static const struct {
    const char *text;
    xmlrpc_type type;
    long long value;
  } cases[] = {
    {"2147483647", XMLRPC_TYPE_INT, 2147483647LL},
    {"-2147483648", XMLRPC_TYPE_INT, -2147483648LL},
    {"2147483648", XMLRPC_TYPE_I8, 2147483648LL},
    {"-2147483649", XMLRPC_TYPE_I8, -2147483649LL},
    {"9223372036854775807", XMLRPC_TYPE_I8, INT64_MAX},
  };

  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    xmlrpc_value *v = from_json(cases[k].text);
    xmlrpc_int64 i8 = 0;
    int i = 0;

    assert_int_equal(xmlrpc_value_type(v), cases[k].type);
    if (cases[k].type == XMLRPC_TYPE_I8)
      xmlrpc_read_i8(&env, v, &i8);
    else
      xmlrpc_read_int(&env, v, &i);
    assert_true((cases[k].type == XMLRPC_TYPE_I8 ? i8 : i) == cases[k].value);
    xmlrpc_DECREF(v);
  }
}

static void test_xr_json_scalars_keep_their_types(void **state)
{
  static const struct {
    const char *text;
    xmlrpc_type type;
  } cases[] = {{"null", XMLRPC_TYPE_NIL},   {"0.25", XMLRPC_TYPE_DOUBLE},
               {"false", XMLRPC_TYPE_BOOL}, {"\"x\"", XMLRPC_TYPE_STRING},
               {"[]", XMLRPC_TYPE_ARRAY},   {"{}", XMLRPC_TYPE_STRUCT}};

  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    xmlrpc_value *v = from_json(cases[k].text);

    assert_int_equal(xmlrpc_value_type(v), cases[k].type);
    xmlrpc_DECREF(v);
  }
}

static void test_xr_json_string_keeps_nul_bytes(void **state)
{
  xmlrpc_value *v = from_json("\"a\\u0000b\\u00e9\"");
  const char *s = NULL;
  size_t len = 0;

  xmlrpc_read_string_lp(&env, v, &len, &s);
  assert_false(env.fault_occurred);
  assert_int_equal(len, 5);
  assert_memory_equal(s, "a\0b\xc3\xa9", 5);
  imc_free((void *)s);
  xmlrpc_DECREF(v);
}

static void test_xr_json_depth_limit_gives_nil(void **state)
{
  char text[2 * 100 + 2];
  xmlrpc_value *cur;
  int levels = 0;

  memset(text, '[', 100);
  text[100] = '7';
  memset(text + 101, ']', 100);
  text[201] = '\0';
  for (cur = from_json(text); xmlrpc_value_type(cur) == XMLRPC_TYPE_ARRAY; levels++) {
    xmlrpc_value *next = NULL;

    assert_int_equal(xmlrpc_array_size(&env, cur), 1);
    xmlrpc_array_read_item(&env, cur, 0, &next);
    xmlrpc_DECREF(cur);
    cur = next;
  }
  /* Depths 0 to 64 are converted, what is deeper is cut to nil (MAX_JSON_DEPTH). */
  assert_int_equal(levels, 65);
  assert_int_equal(xmlrpc_value_type(cur), XMLRPC_TYPE_NIL);
  xmlrpc_DECREF(cur);
}

/* --- xr_i8_safe --------------------------------------------------------------------------- */

static bool i8_safe(const char *body)
{
  return xr_i8_safe(body, strlen(body));
}

static void assert_i8(bool want, const char *const *list)
{
  for (; *list; list++)
    if (i8_safe(*list) != want)
      fail_msg("%s: %s", want ? "refused" : "accepted", *list);
}

#define I8_OK(...)      assert_i8(true, (const char *const[]){__VA_ARGS__, NULL})
#define I8_REFUSED(...) assert_i8(false, (const char *const[]){__VA_ARGS__, NULL})

static void test_i8_safe_accepts_well_formed_values(void **state)
{
  I8_OK("<params><param><value><string>no eight</string></value></param></params>",
        "<value><i8>42</i8></value>", "<i8>+5</i8><i8>-0</i8>", "<i8>9223372036854775807</i8>",
        "<i8>-9223372036854775808</i8>", "<ex:i8>-17</ex:i8>", "<i8\n>5</i8 >", "<i8/><i8 />",
        "<i8></i8>", "<i8x>not one</i8x>");
}

static void test_i8_safe_rejects_text_that_is_not_a_number(void **state)
{
  I8_REFUSED("<i8>abc</i8>", "<i8>12a</i8>", "<i8>1.5</i8>", "<i8>1 2</i8>", "<ex:i8>x</ex:i8>",
             "<value><i8>1</i8><i8>oops</i8></value>", "<value><ex:i8>1</ex:i8><i8>?</i8>");
}

static void test_i8_safe_rejects_out_of_range(void **state)
{
  I8_REFUSED("<i8>9223372036854775808</i8>", "<i8>-9223372036854775809</i8>",
             "<i8>99999999999999999999</i8>", "<ex:i8>18446744073709551616</ex:i8>");
}

static void test_i8_safe_rejects_markup_inside(void **state)
{
  I8_REFUSED("<i8>&#49;</i8>", "<i8><![CDATA[1]]></i8>", "<i8>1<!-- c --></i8>",
             "<i8><b>1</b></i8>");
}

static void test_i8_safe_rejects_unterminated_element(void **state)
{
  I8_REFUSED("<i8>5", "<i8", "<i8 ", "<i8>5</i", "<i8>5</i9>", "<i8>5</", "<ex:i8>5</i8>");
}

static void test_i8_safe_reads_only_len_bytes(void **state)
{
  const char *body = "<i8>5</i8><i8>crash</i8>";

  assert_true(xr_i8_safe(body, strlen("<i8>5</i8>")));
  assert_false(xr_i8_safe(body, strlen("<i8>5</i8><i8>cr")));
}

/* xmlrpc-c 1.33.14 crashes (SIGSEGV in xmlrpc_parse_call) on each of these: a sign and no
 * digit, ... */
static void test_i8_safe_rejects_sign_without_digits(void **state)
{
  I8_REFUSED("<i8>-</i8>", "<i8>+</i8>", "<ex:i8>-</ex:i8>");
}

/* ... blanks after the digits (blanks before them get a clean fault), ... */
static void test_i8_safe_rejects_trailing_blanks(void **state)
{
  I8_REFUSED("<i8>5 </i8>", "<i8>-5\n</i8>", "<ex:i8>7\t</ex:i8>");
}

/* ... and any of the above in an element with an attribute, which the parser reads as <i8>. */
static void test_i8_safe_checks_elements_with_attributes(void **state)
{
  I8_REFUSED("<i8 a=\"1\">abc</i8>", "<ex:i8 x='y'>zz</ex:i8>", "<i8\tfoo=\"bar\">-</i8>");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_args_strings_and_bools_are_read),
    cmocka_unit_test(test_args_int_and_bool_read_as_string),
    cmocka_unit_test(test_args_non_scalar_as_string_fails),
    cmocka_unit_test(test_args_missing_parameter_fails),
    cmocka_unit_test(test_args_optional_may_be_left_out),
    cmocka_unit_test(test_args_optional_given_is_read),
    cmocka_unit_test(test_args_extra_parameters_are_ignored),
    cmocka_unit_test(test_args_bool_accepts_old_clients_forms),
    cmocka_unit_test(test_args_bool_bad_value_fails),
    cmocka_unit_test(test_args_ids_from_int_string_and_array),
    cmocka_unit_test(test_args_ids_empty_string_is_no_ids),
    cmocka_unit_test(test_args_ids_bad_forms_fail),
    cmocka_unit_test(test_args_filters_struct_is_kept),
    cmocka_unit_test(test_args_filters_nil_is_none),
    cmocka_unit_test(test_args_filters_not_struct_fails),
    cmocka_unit_test(test_args_auth_and_second_auth_are_read),
    cmocka_unit_test(test_args_bad_auth_fails_with_auth_code),
    cmocka_unit_test(test_args_unknown_format_is_internal),
    cmocka_unit_test(test_xr_auth_array_of_structs_gives_entries),
    cmocka_unit_test(test_xr_auth_empty_array_gives_no_entry),
    cmocka_unit_test(test_xr_auth_not_an_array_fails),
    cmocka_unit_test(test_xr_auth_member_not_struct_fails),
    cmocka_unit_test(test_xr_auth_non_string_value_fails_without_secret),
    cmocka_unit_test(test_xr_auth_entry_without_type_fails),
    cmocka_unit_test(test_xr_auth_invalid_id_fails),
    cmocka_unit_test(test_xr_filters_null_is_none),
    cmocka_unit_test(test_xr_filters_struct_gives_one_entry),
    cmocka_unit_test(test_xr_filters_non_scalar_value_fails),
    cmocka_unit_test(test_xr_json_object_becomes_struct),
    cmocka_unit_test(test_xr_json_integers_beyond_int_become_i8),
    cmocka_unit_test(test_xr_json_scalars_keep_their_types),
    cmocka_unit_test(test_xr_json_string_keeps_nul_bytes),
    cmocka_unit_test(test_xr_json_depth_limit_gives_nil),
    cmocka_unit_test(test_i8_safe_accepts_well_formed_values),
    cmocka_unit_test(test_i8_safe_rejects_text_that_is_not_a_number),
    cmocka_unit_test(test_i8_safe_rejects_out_of_range),
    cmocka_unit_test(test_i8_safe_rejects_markup_inside),
    cmocka_unit_test(test_i8_safe_rejects_unterminated_element),
    cmocka_unit_test(test_i8_safe_reads_only_len_bytes),
    cmocka_unit_test(test_i8_safe_rejects_sign_without_digits),
    cmocka_unit_test(test_i8_safe_rejects_trailing_blanks),
    cmocka_unit_test(test_i8_safe_checks_elements_with_attributes),
  };

  return cmocka_run_group_tests(tests, env_setup, env_teardown);
}
