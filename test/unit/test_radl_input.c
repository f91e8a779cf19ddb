/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Parametric values @input.NAME@: listing what is missing, substitution and positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "input.h"

static void test_input_lists_each_missing_name_once_with_position(void **state)
{
  const char *text = "system s (\n  a = '@input.user@' and b = '@input.pass@'\n)\n"
                     "deploy s @input.user@";
  const struct radl_input given[] = {{"pass", "x"}};
  struct radl_input_ref *refs;
  size_t n;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_inputs_missing(text, strlen(text), given, 1, &refs, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_string_equal(refs[0].name, "user");
  assert_int_equal(refs[0].line, 2);
  assert_int_equal(refs[0].col, 8);
  radl_input_refs_free(refs, n);
  assert_int_equal(radl_inputs_missing(text, strlen(text), NULL, 0, &refs, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(refs[1].name, "pass");
  assert_int_equal(refs[1].col, 31);
  radl_input_refs_free(refs, n);
}

static void test_input_ignores_text_that_is_not_a_reference(void **state)
{
  const char *text = "@input. @input.a b@ @input.@ user@input.x";
  struct radl_input_ref *refs;
  size_t n;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_inputs_missing(text, strlen(text), NULL, 0, &refs, &n, &err), 0);
  assert_int_equal(n, 0);
  assert_null(refs);
}

static void test_input_substitution_maps_positions_back(void **state)
{
  const char *text = "ab @input.v@ cd\nef";
  const struct radl_input values[] = {{"v", "1\n2\n3"}};
  struct radl_subst s;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_subst_inputs("f", text, strlen(text), values, 1, &s, &err), 0);
  assert_string_equal(s.text, "ab 1\n2\n3 cd\nef");
  assert_int_equal(s.len, strlen(s.text));
  assert_int_equal(s.nsegs, 1);
  assert_int_equal(s.segs[0].start, 3);
  assert_int_equal(s.segs[0].end, 8);
  assert_int_equal(s.segs[0].at.line, 1);
  assert_int_equal(s.segs[0].at.col, 4);
  assert_int_equal(s.segs[0].after.line, 1);
  assert_int_equal(s.segs[0].after.col, 13);
  radl_subst_free(&s);
}

static void test_input_empty_value_is_allowed(void **state)
{
  const struct radl_input values[] = {{"v", ""}};
  struct radl_parse_opts opts = {.inputs = true, .values = values, .nvalues = 1};
  const char *text = "system s ( x = '@input.v@' and y = @input.v@ )";
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_parse("t", text, strlen(text), &opts, &doc, &err), IMC_E_PARSE);
  /* The ")" after the empty value keeps its own place in the original text. */
  assert_string_equal(err.msg, "t:1:46: expected a number, a string or a list, found ')'");
  text = "system s ( x = '@input.v@' )";
  imc_err_clear(&err);
  assert_int_equal(radl_parse("t", text, strlen(text), &opts, &doc, &err), 0);
  assert_string_equal(imc_features_str(&doc->systems[0]->feats, "x"), "");
  imc_doc_free(doc);
}

static void test_input_substitution_survives_allocation_failures(void **state)
{
  const char *text = "a @input.x@ b @input.y@ c";
  const struct radl_input values[] = {{"x", "1"}, {"y", "2"}};

  (void)state;
  for (unsigned long n = 1;; n++) {
    struct radl_subst s;
    struct imc_err err = {0};
    int r;

    imc_alloc_fail_at(n);
    r = radl_subst_inputs("f", text, strlen(text), values, 2, &s, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_string_equal(s.text, "a 1 b 2 c");
      radl_subst_free(&s);
      break;
    }
    assert_int_equal(r, IMC_E_NOMEM);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_input_lists_each_missing_name_once_with_position),
    cmocka_unit_test(test_input_ignores_text_that_is_not_a_reference),
    cmocka_unit_test(test_input_substitution_maps_positions_back),
    cmocka_unit_test(test_input_empty_value_is_allowed),
    cmocka_unit_test(test_input_substitution_survives_allocation_failures),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
