/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl/value.c: a feature's value as IM's getValue() gives it (JSON), Python's str() of that
 * value and Python's repr() of a float, against what Python and IM print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"

/* --- helpers ----------------------------------------------------------------------------- */

/* The first system of a RADL text; the caller frees the document. */
static const struct imc_features *system_of(const char *text, struct imc_doc **doc)
{
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_parse("t.radl", text, strlen(text), NULL, doc, &err) != 0)
    fail_msg("RADL parse failed: %s", err.msg);
  assert_true((*doc)->nsystems > 0);
  return &(*doc)->systems[0]->feats;
}

/* Asserts that radl_feature_json of f is the JSON text want, of the same types (jansson's
 * json_equal tells 2 from 2.0). */
static void json_is(const struct imc_feature *f, const char *want)
{
  json_error_t jerr;
  json_t *w = json_loads(want, JSON_DECODE_ANY, &jerr), *got = radl_feature_json(f);

  assert_non_null(w);
  assert_non_null(got);
  if (!json_equal(got, w)) {
    char *text = json_dumps(got, JSON_ENCODE_ANY | JSON_SORT_KEYS);

    fail_msg("got %s, want %s", text ? text : "?", want);
  }
  json_decref(w);
  json_decref(got);
}

/* The value of name in the first system of text, as JSON. */
static void prop_json_is(const char *text, const char *name, const char *want)
{
  struct imc_doc *doc = NULL;
  const struct imc_features *fs = system_of(text, &doc);
  const struct imc_feature *f = imc_features_get(fs, name);

  assert_non_null(f);
  json_is(f, want);
  imc_doc_free(doc);
}

/* A number feature built in code (units the checker would refuse, values no text gives). */
static struct imc_feature *num_feature(bool is_float, int64_t i, double d, const char *unit)
{
  struct imc_feature *f = imc_feature_new("x", IMC_OP_EQ, IMC_V_NUM);

  assert_non_null(f);
  f->num.is_float = is_float;
  f->num.i = i;
  f->num.f = d;
  if (unit)
    assert_non_null(f->unit = imc_strdup(unit));
  return f;
}

static const char *py(const json_t *v)
{
  static char text[512];
  struct imc_buf b;

  imc_buf_init(&b, 4096);
  radl_py_str(v, &b);
  assert_int_equal(imc_buf_err(&b), 0);
  snprintf(text, sizeof text, "%s", imc_buf_cstr(&b));
  imc_buf_free(&b);
  return text;
}

/* Python's str() of the JSON text j. */
static const char *py_of(const char *j)
{
  static char text[512];
  json_error_t jerr;
  json_t *v = json_loads(j, JSON_DECODE_ANY, &jerr);

  assert_non_null(v);
  snprintf(text, sizeof text, "%s", py(v));
  json_decref(v);
  return text;
}

static const char *repr(double v)
{
  static char out[40];

  radl_float_repr(v, out, sizeof out);
  return out;
}

/* --- getValue() as JSON: numbers -------------------------------------------------------- */

static void test_feature_json_integer_without_unit_stays_integer(void **state)
{
  (void)state;
  prop_json_is("system s (cpu.count >= 2)", "cpu.count", "2");
}

static void test_feature_json_float_without_unit_stays_real(void **state)
{
  (void)state;
  prop_json_is("system s (cpu.performance >= 2.0)", "cpu.performance", "2.0");
  prop_json_is("system s (cpu.performance >= 1.5)", "cpu.performance", "1.5");
}

/* IM: int(round(float(value * UnitToValue(unit)))): bytes, an integer still. */
static void test_feature_json_integer_with_unit_is_integer_in_base_units(void **state)
{
  (void)state;
  prop_json_is("system s (memory.size >= 512M)", "memory.size", "512000000");
  prop_json_is("system s (memory.size >= 512m)", "memory.size", "512000000");
  prop_json_is("system s (memory.size >= 2GB)", "memory.size", "2000000000");
  prop_json_is("system s (memory.size >= 2Gi)", "memory.size", "2147483648");
  prop_json_is("system s (memory.size >= 3KiB)", "memory.size", "3072");
  prop_json_is("system s (memory.size >= 7B)", "memory.size", "7");
  prop_json_is("system s (disk.0.size >= 1T)", "disk.0.size", "1000000000000");
}

static void test_feature_json_float_with_unit_is_real_in_base_units(void **state)
{
  (void)state;
  prop_json_is("system s (memory.size >= 1.5K)", "memory.size", "1500.0");
  prop_json_is("system s (memory.size >= 0.5Gi)", "memory.size", "536870912.0");
  prop_json_is("system s (memory.size >= 2.0M)", "memory.size", "2000000.0");
}

/* UnitToValue gives 1 for a unit it does not know. */
static void test_feature_json_unknown_unit_counts_as_one(void **state)
{
  (void)state;
  prop_json_is("system s (memory.size >= 5 parsecs)", "memory.size", "5");
}

/* Python multiplies exactly, then float() rounds: 2^53 + 1 bytes come out as 2^53. */
static void test_feature_json_large_integer_rounds_through_double(void **state)
{
  struct imc_feature *f = num_feature(false, 9007199254740993, 0, "B");

  (void)state;
  json_is(f, "9007199254740992");
  imc_feature_free(f);
  /* Without a unit getValue returns the value itself, not rounded. */
  f = num_feature(false, 9007199254740993, 0, NULL);
  json_is(f, "9007199254740993");
  imc_feature_free(f);
}

/* Python's int has no limit; JSON integers here stop at int64, past which a real is the
 * nearest there is. */
static void test_feature_json_integer_past_int64_becomes_real(void **state)
{
  struct imc_feature *f = num_feature(false, 10000000, 0, "T");

  (void)state;
  json_is(f, "1e19");
  imc_feature_free(f);
}

/* --- getValue() as JSON: strings, lists, contains -------------------------------------- */

static void test_feature_json_string_is_string(void **state)
{
  (void)state;
  prop_json_is("system s (disk.0.os.name = 'linux' and net_interface.0.ip = '10.0.0.1')",
               "net_interface.0.ip", "\"10.0.0.1\"");
}

static void test_feature_json_string_not_utf8_gets_question_marks(void **state)
{
  struct imc_feature *f = imc_feature_new("x", IMC_OP_EQ, IMC_V_STR);

  (void)state;
  assert_non_null(f);
  assert_non_null(f->str = imc_strdup("a\xff\x62\xc3"));
  json_is(f, "\"a?b?\"");
  imc_feature_free(f);
}

static void test_feature_json_list_is_list_of_strings(void **state)
{
  (void)state;
  prop_json_is("system s (disk.0.os.credentials.public_key = ['k1', \"it's\", ''])",
               "disk.0.os.credentials.public_key", "[\"k1\", \"it's\", \"\"]");
}

/* IM's contains: the inner features by name; a range gives its lower bound. */
static void test_feature_json_contains_is_object_of_inner_features(void **state)
{
  struct imc_doc *doc = NULL;
  const struct imc_features *fs =
    system_of("system s (disk.0.applications contains (name = 'app' and version = '1.0' and "
              "port >= 80 and size >= 1K))",
              &doc);
  const struct imc_prop *p = imc_features_prop(fs, "disk.0.applications");

  (void)state;
  assert_non_null(p);
  assert_int_equal(p->kind, IMC_PROP_CONTAINS);
  assert_int_equal(p->nitems, 1);
  json_is(p->items[0], "{\"name\": \"app\", \"version\": \"1.0\", \"port\": 80, \"size\": 1000}");
  imc_doc_free(doc);
}

static void test_feature_json_nested_contains_by_item_name(void **state)
{
  struct imc_doc *doc = NULL;
  const struct imc_features *fs =
    system_of("system s (x contains (name = 'outer' and parts contains (name = 'a' and n = 1) "
              "and parts contains (name = 'b')))",
              &doc);
  const struct imc_prop *p = imc_features_prop(fs, "x");

  (void)state;
  assert_non_null(p);
  json_is(p->items[0], "{\"name\": \"outer\", \"parts\": {\"a\": {\"name\": \"a\", \"n\": 1}, "
                       "\"b\": {\"name\": \"b\"}}}");
  imc_doc_free(doc);
}

/* Each allocation in turn fails (ours copies a string that is not UTF-8; jansson's go through
 * imc's wrappers once radl's JSON reader has set them up): NULL each time, no leak, then the
 * whole value. */
static void test_feature_json_without_memory_gives_null(void **state)
{
  struct imc_feature *f = imc_feature_new("x", IMC_OP_EQ, IMC_V_LIST);
  json_t *v = NULL;
  unsigned long n;

  (void)state;
  assert_non_null(f);
  assert_non_null(f->list = imc_calloc(2, sizeof *f->list));
  f->nlist = 2;
  assert_non_null(f->list[0] = imc_strdup("ok"));
  assert_non_null(f->list[1] = imc_strdup("bad\xff"));
  for (n = 1; !v && n < 100; n++) {
    imc_alloc_fail_at(n);
    v = radl_feature_json(f);
    imc_alloc_fail_at(0);
  }
  assert_true(n > 2); /* the first allocation did fail */
  json_is(f, "[\"ok\", \"bad?\"]");
  json_decref(v);
  imc_feature_free(f);
}

/* --- Python's repr() of a float --------------------------------------------------------- */

static void test_float_repr_integral_values_end_in_point_zero(void **state)
{
  (void)state;
  assert_string_equal(repr(2.0), "2.0");
  assert_string_equal(repr(512.0), "512.0");
  assert_string_equal(repr(0.0), "0.0");
  assert_string_equal(repr(-0.0), "-0.0");
  assert_string_equal(repr(1e15), "1000000000000000.0");
  assert_string_equal(repr(9999999999999998.0), "9999999999999998.0");
}

static void test_float_repr_shortest_round_trip_digits(void **state)
{
  (void)state;
  assert_string_equal(repr(1.5), "1.5");
  assert_string_equal(repr(0.1), "0.1");
  assert_string_equal(repr(123.456), "123.456");
  assert_string_equal(repr(-2.5), "-2.5");
  assert_string_equal(repr(0.1 + 0.2), "0.30000000000000004");
  assert_string_equal(repr(1.0 / 3.0), "0.3333333333333333");
  assert_string_equal(repr(0.0001), "0.0001");
}

static void test_float_repr_exponent_forms(void **state)
{
  (void)state;
  assert_string_equal(repr(1e20), "1e+20");
  assert_string_equal(repr(1e16), "1e+16");
  assert_string_equal(repr(1e-05), "1e-05");
  assert_string_equal(repr(-1.5e-7), "-1.5e-07");
  assert_string_equal(repr(12345678901234567890.0), "1.2345678901234567e+19");
  assert_string_equal(repr(1.7976931348623157e308), "1.7976931348623157e+308");
  assert_string_equal(repr(5e-324), "5e-324");
}

static void test_float_repr_non_finite_as_python(void **state)
{
  (void)state;
  assert_string_equal(repr(NAN), "nan");
  assert_string_equal(repr(-NAN), "nan");
  assert_string_equal(repr(INFINITY), "inf");
  assert_string_equal(repr(-INFINITY), "-inf");
}

static void test_float_repr_longest_fits_25_bytes(void **state)
{
  char out[25];

  (void)state;
  radl_float_repr(-2.2250738585072014e-308, out, sizeof out);
  assert_string_equal(out, "-2.2250738585072014e-308");
}

/* A short buffer gets the start of the text, terminated; never a text with a hole. */
static void test_float_repr_short_buffer_gets_prefix(void **state)
{
  char out[6];

  (void)state;
  memset(out, 'x', sizeof out);
  radl_float_repr(-1.7976931348623157e308, out, sizeof out);
  assert_string_equal(out, "-1.79");
  radl_float_repr(1.0, out, 1);
  assert_int_equal(out[0], '\0');
  out[0] = 'x';
  radl_float_repr(1.0, out, 0);
  assert_int_equal(out[0], 'x');
}

/* --- Python's str() ---------------------------------------------------------------------- */

static void test_py_str_scalars_as_python_prints_them(void **state)
{
  (void)state;
  assert_string_equal(py_of("\"plain 'text' \\\"as is\\\"\""), "plain 'text' \"as is\"");
  assert_string_equal(py_of("512000000"), "512000000");
  assert_string_equal(py_of("-3"), "-3");
  assert_string_equal(py_of("1536.0"), "1536.0");
  assert_string_equal(py_of("1e20"), "1e+20");
  assert_string_equal(py_of("0.00001"), "1e-05");
  assert_string_equal(py_of("true"), "True");
  assert_string_equal(py_of("false"), "False");
  assert_string_equal(py_of("null"), "None");
}

/* str() of a list is the repr() of each item: quotes chosen as Python chooses them. */
static void test_py_str_list_quotes_as_python_repr(void **state)
{
  (void)state;
  assert_string_equal(py_of("[\"a\", \"b\"]"), "['a', 'b']");
  assert_string_equal(py_of("[\"it's\"]"), "[\"it's\"]");
  assert_string_equal(py_of("[\"say \\\"hi\\\"\"]"), "['say \"hi\"']");
  assert_string_equal(py_of("[\"both ' and \\\"\"]"), "['both \\' and \"']");
  assert_string_equal(py_of("[]"), "[]");
  assert_string_equal(py_of("[\"\"]"), "['']");
}

static void test_py_str_list_escapes_as_python_repr(void **state)
{
  (void)state;
  assert_string_equal(py_of("[\"back\\\\slash\"]"), "['back\\\\slash']");
  assert_string_equal(py_of("[\"l1\\nl2\\tt\\r\"]"), "['l1\\nl2\\tt\\r']");
  assert_string_equal(py_of("[\"\\u0001\\u007f\"]"), "['\\x01\\x7f']");
  /* Non-ASCII letters print; a no-break space, a line separator and a BOM do not. */
  assert_string_equal(py_of("[\"ñ€\"]"), "['ñ€']");
  assert_string_equal(py_of("[\"a\\u00a0b\\u2028\\ufeff\"]"), "['a\\xa0b\\u2028\\ufeff']");
  assert_string_equal(py_of("[\"\\udb80\\udc00\"]"), "['\\U000f0000']");
}

static void test_py_str_list_of_mixed_items(void **state)
{
  (void)state;
  assert_string_equal(py_of("[1, 2.5, true, null, [\"x\"]]"), "[1, 2.5, True, None, ['x']]");
}

static void test_py_str_object_as_python_dict(void **state)
{
  (void)state;
  assert_string_equal(py_of("{\"name\": \"app\", \"port\": 80, \"v\": [\"1\"]}"),
                      "{'name': 'app', 'port': 80, 'v': ['1']}");
  assert_string_equal(py_of("{}"), "{}");
}

static void test_py_str_appends_to_buffer(void **state)
{
  struct imc_buf b;
  json_t *v = json_integer(7);

  (void)state;
  imc_buf_init(&b, 64);
  imc_buf_adds(&b, "n=");
  radl_py_str(v, &b);
  assert_string_equal(imc_buf_cstr(&b), "n=7");
  imc_buf_free(&b);
  json_decref(v);
}

static void test_py_str_past_buffer_limit_fails(void **state)
{
  struct imc_buf b;
  json_t *v = json_string("0123456789");

  (void)state;
  imc_buf_init(&b, 4);
  radl_py_str(v, &b);
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  imc_buf_free(&b);
  json_decref(v);
}

static void test_py_str_too_deep_fails(void **state)
{
  struct imc_buf b;
  json_t *v = json_array(), *top = v;

  (void)state;
  for (int i = 0; i < 70; i++) {
    json_t *inner = json_array();

    assert_int_equal(json_array_append_new(v, inner), 0);
    v = inner;
  }
  imc_buf_init(&b, 4096);
  radl_py_str(top, &b);
  assert_int_equal(imc_buf_err(&b), IMC_E_TOOBIG);
  imc_buf_free(&b);
  json_decref(top);
}

/* --- both together: what a property answers ---------------------------------------------- */

static void test_py_str_of_feature_values_as_im_prints_them(void **state)
{
  static const struct {
    const char *feature, *name, *text;
  } cases[] = {
    {"memory.size >= 512M", "memory.size", "512000000"},
    {"memory.size >= 1.5K", "memory.size", "1500.0"},
    {"cpu.performance >= 0.1", "cpu.performance", "0.1"},
    {"disk.0.os.name = 'linux'", "disk.0.os.name", "linux"},
    {"x = ['a', \"it's\"]", "x", "['a', \"it's\"]"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[256];
    struct imc_doc *doc = NULL;
    const struct imc_features *fs;
    json_t *v;

    snprintf(text, sizeof text, "system s (%s)", cases[i].feature);
    fs = system_of(text, &doc);
    v = radl_feature_json(imc_features_get(fs, cases[i].name));
    assert_non_null(v);
    assert_string_equal(py(v), cases[i].text);
    json_decref(v);
    imc_doc_free(doc);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_feature_json_integer_without_unit_stays_integer),
    cmocka_unit_test(test_feature_json_float_without_unit_stays_real),
    cmocka_unit_test(test_feature_json_integer_with_unit_is_integer_in_base_units),
    cmocka_unit_test(test_feature_json_float_with_unit_is_real_in_base_units),
    cmocka_unit_test(test_feature_json_unknown_unit_counts_as_one),
    cmocka_unit_test(test_feature_json_large_integer_rounds_through_double),
    cmocka_unit_test(test_feature_json_integer_past_int64_becomes_real),
    cmocka_unit_test(test_feature_json_string_is_string),
    cmocka_unit_test(test_feature_json_string_not_utf8_gets_question_marks),
    cmocka_unit_test(test_feature_json_list_is_list_of_strings),
    cmocka_unit_test(test_feature_json_contains_is_object_of_inner_features),
    cmocka_unit_test(test_feature_json_nested_contains_by_item_name),
    cmocka_unit_test(test_feature_json_without_memory_gives_null),
    cmocka_unit_test(test_float_repr_integral_values_end_in_point_zero),
    cmocka_unit_test(test_float_repr_shortest_round_trip_digits),
    cmocka_unit_test(test_float_repr_exponent_forms),
    cmocka_unit_test(test_float_repr_non_finite_as_python),
    cmocka_unit_test(test_float_repr_longest_fits_25_bytes),
    cmocka_unit_test(test_float_repr_short_buffer_gets_prefix),
    cmocka_unit_test(test_py_str_scalars_as_python_prints_them),
    cmocka_unit_test(test_py_str_list_quotes_as_python_repr),
    cmocka_unit_test(test_py_str_list_escapes_as_python_repr),
    cmocka_unit_test(test_py_str_list_of_mixed_items),
    cmocka_unit_test(test_py_str_object_as_python_dict),
    cmocka_unit_test(test_py_str_appends_to_buffer),
    cmocka_unit_test(test_py_str_past_buffer_limit_fails),
    cmocka_unit_test(test_py_str_too_deep_fails),
    cmocka_unit_test(test_py_str_of_feature_values_as_im_prints_them),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
