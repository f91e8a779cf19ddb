/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's complete_radl and update_radl: references filled in from what is stored, and a new
 * RADL merged into an infrastructure's document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/radl.h"

static const char stored_text[] =
  "description d (name = 'first')\n"
  "network pub (outbound = 'yes')\n"
  "network priv ()\n"
  "system front (\n"
  "  cpu.count >= 1 and\n"
  "  net_interface.0.connection = 'pub' and\n"
  "  net_interface.1.connection = 'priv'\n"
  ")\n"
  "system wn (\n"
  "  cpu.count >= 2 and\n"
  "  net_interface.0.connection = 'priv'\n"
  ")\n"
  "configure front (\n@begin\n- hosts: front\n@end\n)\n"
  "configure wn (\n@begin\n- hosts: wn\n@end\n)\n"
  "contextualize 100 (\n  system front configure front step 1\n)\n"
  "deploy front 1\n"
  "deploy wn 2\n";

static struct imc_doc *parse(const char *source, const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  if (radl_parse(source, text, strlen(text), NULL, &doc, &err))
    fail_msg("parse: %s", err.msg);
  return doc;
}

static void test_complete_replaces_references(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *add = parse("add", "network priv\nsystem wn\nconfigure wn\ndeploy wn 3");
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_complete(add, stored, &err), 0);
  assert_false(add->systems[0]->reference);
  assert_true(imc_elem_equal(add->systems[0], imc_doc_system(stored, "wn")));
  assert_string_equal(add->configures[0]->recipe, "- hosts: wn");
  assert_false(add->networks[0]->reference);
  imc_doc_free(add);
  imc_doc_free(stored);
}

static void test_complete_unknown_reference_fails(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *add = parse("add", "network priv\n\nsystem db\ndeploy db 1");
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_complete(add, stored, &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "add:3:1: unknown reference to system 'db'");
  imc_doc_free(add);
  imc_doc_free(stored);
}

static void test_complete_checks_the_result(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *add = parse("add", "network priv\nsystem wn\ndeploy nothere 1");
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_complete(add, stored, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "add:3:1:"));
  imc_doc_free(add);
  imc_doc_free(stored);
}

static void test_merge_follows_im_rules(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *update = parse("update",
                                 "description d2 (name = 'second')\n"
                                 "network pub (outbound = 'no')\n"
                                 "network extra ()\n"
                                 "system wn ( cpu.count >= 8 and net_interface.0.connection = 'extra' )\n"
                                 "configure wn (\n@begin\n- hosts: new\n@end\n)\n"
                                 "contextualize 50 ( system wn configure wn step 2 )\n"
                                 "deploy wn 1");
  struct imc_err err = {0};
  double v;

  (void)state;
  assert_int_equal(radl_merge(stored, update, &err), 0);
  /* description replaced */
  assert_string_equal(stored->description->id, "d2");
  /* networks only added when new: pub keeps outbound = yes */
  assert_int_equal(stored->nnetworks, 3);
  assert_string_equal(imc_features_str(&imc_doc_network(stored, "pub")->feats, "outbound"), "yes");
  /* systems and configures replaced */
  assert_true(imc_features_num(&imc_doc_system(stored, "wn")->feats, "cpu.count", NULL, &v));
  assert_true(v == 8.0);
  assert_string_equal(imc_doc_configure(stored, "wn")->recipe, "- hosts: new");
  /* contextualize merged: max of max_time, items added */
  assert_int_equal(stored->ctxt.max_time.i, 100);
  assert_int_equal(stored->ctxt.nitems, 2);
  /* deploys overwritten */
  assert_int_equal(stored->ndeploys, 1);
  assert_string_equal(stored->deploys[0]->system, "wn");
  assert_int_equal(stored->deploys[0]->count.i, 1);
  /* the stored document keeps its name */
  assert_string_equal(stored->source, "stored");
  imc_doc_free(update);
  imc_doc_free(stored);
}

static void test_merge_without_deploys_keeps_old_ones(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *update = parse("update", "configure front ()");
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_merge(stored, update, &err), 0);
  assert_int_equal(stored->ndeploys, 2);
  assert_null(imc_doc_configure(stored, "front")->recipe);
  imc_doc_free(update);
  imc_doc_free(stored);
}

static void test_merge_invalid_result_leaves_stored_untouched(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *before = imc_doc_clone(stored);
  struct imc_doc *update =
    parse("update", "system wn ( net_interface.0.connection = 'nowhere' )\ndeploy wn 1");
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_merge(stored, update, &err), IMC_E_INVAL);
  assert_non_null(strstr(err.msg, "update:1:13:"));
  assert_true(imc_doc_equal(stored, before));
  imc_doc_free(update);
  imc_doc_free(before);
  imc_doc_free(stored);
}

static void test_merge_ignores_references_in_update(void **state)
{
  struct imc_doc *stored = parse("stored", stored_text);
  struct imc_doc *before = imc_doc_clone(stored);
  struct imc_doc *update = parse("update", "system wn\nnetwork priv\nconfigure wn");
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_merge(stored, update, &err), 0);
  assert_true(imc_doc_equal(stored, before));
  imc_doc_free(update);
  imc_doc_free(before);
  imc_doc_free(stored);
}

static void test_merge_survives_every_allocation_failure(void **state)
{
  (void)state;
  for (unsigned long n = 1;; n++) {
    struct imc_doc *stored = parse("stored", stored_text);
    struct imc_doc *before = imc_doc_clone(stored);
    struct imc_doc *update = parse("update", "system db ( cpu.count >= 1 )\ndeploy db 1");
    struct imc_err err = {0};
    int r;

    imc_alloc_fail_at(n);
    r = radl_merge(stored, update, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_non_null(imc_doc_system(stored, "db"));
    } else {
      assert_int_equal(r, IMC_E_NOMEM);
      assert_true(imc_doc_equal(stored, before));
    }
    imc_doc_free(update);
    imc_doc_free(before);
    imc_doc_free(stored);
    if (r == 0)
      break;
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_complete_replaces_references),
    cmocka_unit_test(test_complete_unknown_reference_fails),
    cmocka_unit_test(test_complete_checks_the_result),
    cmocka_unit_test(test_merge_follows_im_rules),
    cmocka_unit_test(test_merge_without_deploys_keeps_old_ones),
    cmocka_unit_test(test_merge_invalid_result_leaves_stored_untouched),
    cmocka_unit_test(test_merge_ignores_references_in_update),
    cmocka_unit_test(test_merge_survives_every_allocation_failure),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
