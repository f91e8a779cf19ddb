/* SPDX-License-Identifier: GPL-3.0-or-later */
/* server/rest_media.c: media types and query values as IM's REST.py reads them (Python's
 * str.split, int(), repr()), so that a client sees IM's answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "rest_int.h"

/* Fails naming the first text of the list that ok accepts. */
static void assert_none(bool (*ok)(const char *), const char *const *list)
{
  for (; *list; list++)
    if (ok(*list))
      fail_msg("\"%s\" accepted", *list);
}

#define ASSERT_NONE(ok, ...) assert_none(ok, (const char *const[]){__VA_ARGS__, NULL})

/* --- media types -------------------------------------------------------------------------- */

static struct rest_media media(const char *header)
{
  struct rest_media m;

  rest_media_parse(header, &m);
  return m;
}

/* The parsed list as "a|b|c". */
static const char *types(const char *header)
{
  static char out[512];
  struct rest_media m = media(header);
  size_t len = 0;

  out[0] = '\0';
  for (size_t i = 0; i < m.n; i++)
    len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "", m.v[i]);
  return out;
}

static void test_media_parse_null_and_empty_give_none(void **state)
{
  assert_int_equal(media(NULL).n, 0);
  assert_int_equal(media("").n, 0);
}

static void test_media_parse_drops_parameters_and_blanks(void **state)
{
  assert_string_equal(types(" application/json ; q=0.9 ,\ttext/plain;charset=utf-8\t"),
                      "application/json|text/plain");
}

static void test_media_parse_keeps_empty_items(void **state)
{
  assert_int_equal(media("a/b,,c/d,").n, 4);
  assert_string_equal(types("a/b,,c/d,"), "a/b||c/d|");
}

static void test_media_parse_yaml_aliases_become_text_yaml(void **state)
{
  assert_string_equal(types("text/x-yaml, application/yaml;v=1, text/yaml, text/YAML"),
                      "text/yaml|text/yaml|text/yaml|text/YAML");
}

static void test_media_parse_keeps_at_most_max_types(void **state)
{
  char header[REST_MAX_MEDIA * 8 + 64] = "";
  struct rest_media m;
  size_t len = 0;

  for (int i = 0; i < REST_MAX_MEDIA + 5; i++)
    len += (size_t)snprintf(header + len, sizeof header - len, "t/%d,", i);
  m = media(header);
  assert_int_equal(m.n, REST_MAX_MEDIA);
  assert_string_equal(m.v[REST_MAX_MEDIA - 1], "t/31");
}

static void test_media_parse_cuts_long_type(void **state)
{
  char header[200];
  struct rest_media m;

  memset(header, 'x', sizeof header - 1);
  header[sizeof header - 1] = '\0';
  m = media(header);
  assert_int_equal(m.n, 1);
  assert_int_equal(strlen(m.v[0]), REST_MEDIA_LEN - 1);
}

static void test_media_has_is_exact_and_case_sensitive(void **state)
{
  struct rest_media m = media("application/json, text/*");

  assert_true(rest_media_has(&m, "application/json") && rest_media_has(&m, "text/*"));
  assert_false(rest_media_has(&m, "Application/JSON"));
  assert_false(rest_media_has(&m, "text/plain"));
  assert_false(rest_media_has(&m, "application/json "));
}

static void test_media_repr_is_python_list(void **state)
{
  struct rest_media m = media("text/html, x/y"), none = media(NULL);
  char out[64];

  rest_media_repr(&m, out, sizeof out);
  assert_string_equal(out, "['text/html', 'x/y']");
  rest_media_repr(&none, out, sizeof out);
  assert_string_equal(out, "[]");
}

static void test_media_repr_quotes_as_python(void **state)
{
  struct rest_media m = {.n = 4};
  char out[128];

  memcpy(m.v[0], "it's", 5);
  memcpy(m.v[1], "a\"b'c", 6);
  memcpy(m.v[2], "back\\slash", 11);
  memcpy(m.v[3], "c\x01\x7f", 4);
  rest_media_repr(&m, out, sizeof out);
  assert_string_equal(out, "[\"it's\", 'a\"b\\'c', 'back\\\\slash', 'c\\x01\\x7f']");
}

static void test_media_repr_small_buffer_stays_bounded(void **state)
{
  struct rest_media m = media("text/html");
  char out[10], one[1] = {'x'};

  rest_media_repr(&m, out, sizeof out);
  assert_true(strlen(out) < sizeof out);
  assert_true(out[0] == '[' && out[strlen(out) - 1] == ']');
  rest_media_repr(&m, one, sizeof one);
  assert_int_equal(one[0], '\0');
}

static enum rest_out choose(const char *accept, const char *default_type)
{
  struct rest_media m = media(accept);

  return rest_media_choose(&m, default_type);
}

static bool json_ok(const char *accept)
{
  struct rest_media m = media(accept);

  return rest_media_json_ok(&m);
}

static enum rest_body body(const char *content_type)
{
  struct rest_media m = media(content_type);

  return rest_media_body(&m);
}

static void test_media_choose_no_accept_is_default(void **state)
{
  assert_int_equal(choose(NULL, "text/plain"), REST_OUT_DEFAULT);
  assert_int_equal(choose("", "text/plain"), REST_OUT_DEFAULT);
}

static void test_media_choose_json_types_are_json(void **state)
{
  assert_int_equal(choose("application/json", "text/plain"), REST_OUT_JSON);
  assert_int_equal(choose("application/*;q=1", "text/plain"), REST_OUT_JSON);
}

static void test_media_choose_default_and_wildcards_are_default(void **state)
{
  assert_int_equal(choose("text/uri-list", "text/uri-list"), REST_OUT_DEFAULT);
  assert_int_equal(choose("*/*", "text/uri-list"), REST_OUT_DEFAULT);
  assert_int_equal(choose("text/*", "text/uri-list"), REST_OUT_DEFAULT);
}

static void test_media_choose_first_acceptable_wins(void **state)
{
  assert_int_equal(choose("image/png, text/plain, application/json", "text/plain"),
                   REST_OUT_DEFAULT);
  assert_int_equal(choose("image/png, application/json, text/plain", "text/plain"), REST_OUT_JSON);
}

static void test_media_choose_unknown_types_are_none(void **state)
{
  assert_int_equal(choose("text/html, image/png", "text/plain"), REST_OUT_NONE);
  assert_int_equal(choose(",", "text/plain"), REST_OUT_NONE);
  assert_int_equal(choose("text/plain", "text/uri-list"), REST_OUT_NONE);
}

static void test_media_json_ok_accepts_json_and_wildcards(void **state)
{
  assert_true(json_ok(NULL) && json_ok("application/json"));
  assert_true(json_ok("text/html, */*") && json_ok("application/*"));
}

static void test_media_json_ok_refuses_other_types(void **state)
{
  assert_false(json_ok("text/plain"));
  assert_false(json_ok("text/*"));
  assert_false(json_ok("text/html, application/xml"));
}

static void test_media_body_plain_and_wildcards_are_radl(void **state)
{
  assert_int_equal(body(NULL), REST_BODY_RADL);
  assert_int_equal(body("text/plain; charset=utf-8"), REST_BODY_RADL);
  assert_int_equal(body("*/*"), REST_BODY_RADL);
  assert_int_equal(body("text/*"), REST_BODY_RADL);
}

static void test_media_body_json_is_tested_first(void **state)
{
  assert_int_equal(body("application/json"), REST_BODY_JSON);
  assert_int_equal(body("text/plain, text/yaml, application/json"), REST_BODY_JSON);
}

static void test_media_body_yaml_types_are_tosca(void **state)
{
  assert_int_equal(body("text/yaml"), REST_BODY_TOSCA);
  assert_int_equal(body("application/yaml"), REST_BODY_TOSCA);
  assert_int_equal(body("text/x-yaml, text/plain"), REST_BODY_TOSCA);
}

static void test_media_body_other_types_are_unsupported(void **state)
{
  assert_int_equal(body("application/xml"), REST_BODY_UNSUPPORTED);
  assert_int_equal(body("text/html"), REST_BODY_UNSUPPORTED);
}

/* --- booleans and integers ---------------------------------------------------------------- */

static bool is_bool(const char *text)
{
  bool b = true, r = rest_parse_bool(text, &b);

  assert_true(r || b); /* untouched when refused */
  return r;
}

static void test_parse_bool_accepts_im_words_any_case(void **state)
{
  static const char *const yes[] = {"yes", "YES", "True", "true", "1"};
  static const char *const no[] = {"no", "No", "FALSE", "false", "0"};

  for (size_t i = 0; i < 5; i++) {
    bool b = false, c = true;

    assert_true(rest_parse_bool(yes[i], &b) && b);
    assert_true(rest_parse_bool(no[i], &c) && !c);
  }
}

static void test_parse_bool_refuses_other_text(void **state)
{
  ASSERT_NONE(is_bool, "", "y", "n", "on", "2", " true", "true ", "yess", "01");
}

static bool is_int(const char *text)
{
  long long v = 99;
  bool r = rest_parse_int(text, &v);

  assert_true(r || v == 99); /* untouched when refused */
  return r;
}

static long long int_of(const char *text)
{
  long long v = -12345;

  if (!rest_parse_int(text, &v))
    fail_msg("\"%s\" refused", text);
  return v;
}

static void test_parse_int_reads_python_ints(void **state)
{
  assert_int_equal(int_of("42"), 42);
  assert_int_equal(int_of("  42\t"), 42);
  assert_int_equal(int_of("\n-7\r\n\v\f"), -7);
  assert_int_equal(int_of("+5"), 5);
  assert_int_equal(int_of("007"), 7);
  assert_int_equal(int_of("-0"), 0);
}

static void test_parse_int_underscores_between_digits(void **state)
{
  assert_int_equal(int_of("1_000"), 1000);
  assert_int_equal(int_of("-1_2_3"), -123);
}

static void test_parse_int_refuses_non_numbers(void **state)
{
  ASSERT_NONE(is_int, "", "   ", "-", "+", "+-1", "--1", "1.0", "0x10", "1e3", "1 2", "_1", "1_",
              "1__0", "-_1", "abc", "12a", "+ 1", "1,000");
}

static void test_parse_int_limits_are_long_long(void **state)
{
  assert_int_equal(int_of("9223372036854775807"), INT64_MAX);
  assert_int_equal(int_of("-9223372036854775807"), -INT64_MAX);
}

static void test_parse_int_most_negative_long_long_is_read(void **state)
{
  assert_true(int_of("-9223372036854775808") == INT64_MIN);
}

static void test_parse_int_overflow_is_refused(void **state)
{
  ASSERT_NONE(is_int, "9223372036854775808", "-9223372036854775809", "18446744073709551616",
              "99999999999999999999999999", "1_000_000_000_000_000_000_0");
}

/* --- VM ids, filters, dates --------------------------------------------------------------- */

static void test_vm_id_numbers_name_vms(void **state)
{
  assert_int_equal(rest_vm_id("0"), 0);
  assert_int_equal(rest_vm_id(" 12 "), 12);
  assert_int_equal(rest_vm_id("1_0"), 10);
  assert_int_equal(rest_vm_id("4294967294"), 4294967294u);
}

static bool names_vm(const char *text)
{
  return rest_vm_id(text) != REST_NO_VM;
}

static void test_vm_id_other_text_is_no_vm(void **state)
{
  ASSERT_NONE(names_vm, "", "x", "-1", "1.5", "4294967295", "99999999999");
}

/* The list's ids as "1,2,3", or "!" when refused (and then *ids must be NULL and *n 0). */
static const char *vm_list(const char *text, bool strict)
{
  static char out[128];
  static unsigned sentinel;
  unsigned *ids = &sentinel;
  size_t n = 7, len = 0;

  if (!rest_parse_vm_list(text, strict, &ids, &n)) {
    assert_true(ids == NULL && n == 0);
    return "!";
  }
  out[0] = '\0';
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, sizeof out - len, "%s%u", i ? "," : "", ids[i]);
  imc_free(ids);
  return out;
}

static bool vm_list_strict_ok(const char *text)
{
  return strcmp(vm_list(text, true), "!") != 0;
}

static void test_vm_list_strict_reads_every_id(void **state)
{
  assert_string_equal(vm_list("1, 2 ,30", true), "1,2,30");
  assert_string_equal(vm_list("7", true), "7");
}

static void test_vm_list_strict_refuses_non_number(void **state)
{
  ASSERT_NONE(vm_list_strict_ok, "1,x", "", "1,,2", "1,", ",1", "1;2", "1.0");
}

static void test_vm_list_strict_negative_is_no_vm(void **state)
{
  /* int("-1") is a number: it names no VM, and the engine says so. */
  assert_string_equal(vm_list("-1,2", true), "4294967295,2");
}

static void test_vm_list_lenient_maps_bad_items_to_no_vm(void **state)
{
  assert_string_equal(vm_list("4,x,,5", false), "4,4294967295,4294967295,5");
  assert_string_equal(vm_list("", false), "4294967295");
}

static bool filters_ok(const char *text)
{
  struct imc_auth a;
  bool r;

  imc_auth_init(&a);
  r = rest_parse_filters(text, &a);
  imc_auth_cleanup(&a);
  return r;
}

static void test_filters_give_one_entry(void **state)
{
  struct imc_auth a;

  imc_auth_init(&a);
  assert_true(rest_parse_filters("region=eu-west,distro=ubuntu,empty=,k=1,k=2", &a));
  assert_int_equal(a.n, 1);
  assert_string_equal(imc_auth_get(&a.entries[0], "region"), "eu-west");
  assert_string_equal(imc_auth_get(&a.entries[0], "distro"), "ubuntu");
  assert_string_equal(imc_auth_get(&a.entries[0], "empty"), "");
  assert_string_equal(imc_auth_get(&a.entries[0], "k"), "2"); /* a dict: the last wins */
  imc_auth_cleanup(&a);
}

static void test_filters_item_not_one_equals_is_refused(void **state)
{
  ASSERT_NONE(filters_ok, "", "k", "a=b=c", "k=v,", "k=v,,j=w", "k=v,j");
}

static const char *date_of(const char *text)
{
  static char out[11];

  return rest_parse_date(text, out) ? out : "!";
}

static bool is_date(const char *text)
{
  return strcmp(date_of(text), "!") != 0;
}

static void test_date_both_separators_give_iso(void **state)
{
  assert_string_equal(date_of("2024-03-05"), "2024-03-05");
  assert_string_equal(date_of("2024/3/5"), "2024-03-05");
  assert_string_equal(date_of("2024-03/05"), "2024-03-05"); /* IM replaces '/' by '-' */
  assert_string_equal(date_of("970/1/1"), "0970-01-01");
  assert_string_equal(date_of(" 2024 - 12 - 31 "), "2024-12-31"); /* each part by int() */
}

static void test_date_month_lengths_are_real(void **state)
{
  assert_string_equal(date_of("2023-01-31"), "2023-01-31");
  assert_string_equal(date_of("2023-04-30"), "2023-04-30");
  ASSERT_NONE(is_date, "2023-04-31", "2023-06-31", "2023-09-31", "2023-11-31", "2023-01-32",
              "2023-12-32");
}

static void test_date_leap_years_follow_gregorian_rules(void **state)
{
  assert_string_equal(date_of("2024-02-29"), "2024-02-29");
  assert_string_equal(date_of("2000-02-29"), "2000-02-29");
  ASSERT_NONE(is_date, "2023-02-29", "1900-02-29", "2100/2/29", "2024-02-30");
}

static void test_date_out_of_range_parts_are_refused(void **state)
{
  ASSERT_NONE(is_date, "0-01-01", "10000-01-01", "2024-0-10", "2024-13-01", "2024-01-00",
              "-2024-01-01", "2024--01-01", "2024-01--1", "9223372036854775808-01-01");
}

static void test_date_malformed_text_is_refused(void **state)
{
  ASSERT_NONE(is_date, "", "2024", "2024-01", "2024-01-", "20240101", "a-b-c", "2024.01.01",
              "2024-01-01T00:00");
}

/* A bounded copy: no date is that long, even if int() would skip the blanks. */
static void test_date_long_text_is_refused(void **state)
{
  char text[300];

  memset(text, ' ', sizeof text - 1);
  memcpy(text + sizeof text - 11, "2024-01-01", 11);
  assert_false(is_date(text));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_media_parse_null_and_empty_give_none),
    cmocka_unit_test(test_media_parse_drops_parameters_and_blanks),
    cmocka_unit_test(test_media_parse_keeps_empty_items),
    cmocka_unit_test(test_media_parse_yaml_aliases_become_text_yaml),
    cmocka_unit_test(test_media_parse_keeps_at_most_max_types),
    cmocka_unit_test(test_media_parse_cuts_long_type),
    cmocka_unit_test(test_media_has_is_exact_and_case_sensitive),
    cmocka_unit_test(test_media_repr_is_python_list),
    cmocka_unit_test(test_media_repr_quotes_as_python),
    cmocka_unit_test(test_media_repr_small_buffer_stays_bounded),
    cmocka_unit_test(test_media_choose_no_accept_is_default),
    cmocka_unit_test(test_media_choose_json_types_are_json),
    cmocka_unit_test(test_media_choose_default_and_wildcards_are_default),
    cmocka_unit_test(test_media_choose_first_acceptable_wins),
    cmocka_unit_test(test_media_choose_unknown_types_are_none),
    cmocka_unit_test(test_media_json_ok_accepts_json_and_wildcards),
    cmocka_unit_test(test_media_json_ok_refuses_other_types),
    cmocka_unit_test(test_media_body_plain_and_wildcards_are_radl),
    cmocka_unit_test(test_media_body_json_is_tested_first),
    cmocka_unit_test(test_media_body_yaml_types_are_tosca),
    cmocka_unit_test(test_media_body_other_types_are_unsupported),
    cmocka_unit_test(test_parse_bool_accepts_im_words_any_case),
    cmocka_unit_test(test_parse_bool_refuses_other_text),
    cmocka_unit_test(test_parse_int_reads_python_ints),
    cmocka_unit_test(test_parse_int_underscores_between_digits),
    cmocka_unit_test(test_parse_int_refuses_non_numbers),
    cmocka_unit_test(test_parse_int_limits_are_long_long),
    cmocka_unit_test(test_parse_int_most_negative_long_long_is_read),
    cmocka_unit_test(test_parse_int_overflow_is_refused),
    cmocka_unit_test(test_vm_id_numbers_name_vms),
    cmocka_unit_test(test_vm_id_other_text_is_no_vm),
    cmocka_unit_test(test_vm_list_strict_reads_every_id),
    cmocka_unit_test(test_vm_list_strict_refuses_non_number),
    cmocka_unit_test(test_vm_list_strict_negative_is_no_vm),
    cmocka_unit_test(test_vm_list_lenient_maps_bad_items_to_no_vm),
    cmocka_unit_test(test_filters_give_one_entry),
    cmocka_unit_test(test_filters_item_not_one_equals_is_refused),
    cmocka_unit_test(test_date_both_separators_give_iso),
    cmocka_unit_test(test_date_month_lengths_are_real),
    cmocka_unit_test(test_date_leap_years_follow_gregorian_rules),
    cmocka_unit_test(test_date_out_of_range_parts_are_refused),
    cmocka_unit_test(test_date_malformed_text_is_refused),
    cmocka_unit_test(test_date_long_text_is_refused),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
