/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The RADL parser: every sentence of IM's grammar, the model it builds, and its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/radl.h"

static struct imc_doc *parse_ok(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  int r = radl_parse("t.radl", text, strlen(text), NULL, &doc, &err);

  if (r)
    fail_msg("unexpected error: %s", err.msg);
  return doc;
}

/* Parses text that must fail and checks the whole message. */
static void parse_fails(const char *text, enum imc_code code, const char *msg)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  assert_int_equal(radl_parse("t.radl", text, strlen(text), NULL, &doc, &err), code);
  assert_null(doc);
  assert_string_equal(err.msg, msg);
}

static void test_parse_empty_and_comment_only_documents(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("");
  assert_true(imc_doc_empty(doc));
  imc_doc_free(doc);
  doc = parse_ok("# nothing here\n\n   # still nothing\n");
  assert_true(imc_doc_empty(doc));
  imc_doc_free(doc);
}

static void test_parse_network_definition_and_reference(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("network pub (outbound = 'yes')\nnetwork priv\nnetwork empty ()");
  assert_int_equal(doc->nnetworks, 3);
  assert_string_equal(doc->networks[0]->id, "pub");
  assert_false(doc->networks[0]->reference);
  assert_string_equal(imc_features_str(&doc->networks[0]->feats, "outbound"), "yes");
  assert_true(doc->networks[1]->reference);
  assert_false(doc->networks[2]->reference);
  assert_int_equal(doc->networks[2]->feats.nprops, 0);
  assert_int_equal(doc->networks[0]->pos.line, 1);
  assert_int_equal(doc->networks[1]->pos.line, 2);
  imc_doc_free(doc);
}

static void test_parse_system_feature_kinds(void **state)
{
  struct imc_doc *doc;
  const struct imc_features *fs;
  const struct imc_feature *f;
  const struct imc_prop *p;
  double v;

  (void)state;
  doc = parse_ok("system s (\n"
                 "  cpu.count >= 2 and\n"
                 "  memory.size >= 1.5G and\n"
                 "  disk.0.image.url = ['one://a/1', 'one://b/2'] and\n"
                 "  disk.0.os.name = 'linux' and\n"
                 "  disk.0.applications contains (name = 'app' and version = '1.2')\n"
                 ")");
  fs = &doc->systems[0]->feats;
  assert_true(imc_features_num(fs, "cpu.count", NULL, &v));
  assert_true(v == 2.0);
  f = imc_features_get(fs, "memory.size");
  assert_non_null(f);
  assert_true(f->num.is_float);
  assert_string_equal(f->unit, "G");
  assert_int_equal(f->op, IMC_OP_GE);
  assert_true(imc_features_num(fs, "memory.size", "M", &v));
  assert_true(v == 1500.0);
  f = imc_features_get(fs, "disk.0.image.url");
  assert_int_equal(f->type, IMC_V_LIST);
  assert_int_equal(f->nlist, 2);
  assert_string_equal(f->list[1], "one://b/2");
  p = imc_features_prop(fs, "disk.0.applications");
  assert_int_equal(p->kind, IMC_PROP_CONTAINS);
  assert_int_equal(p->nitems, 1);
  assert_string_equal(imc_features_str(p->items[0]->sub, "version"), "1.2");
  imc_doc_free(doc);
}


static void test_parse_ranges_narrow_and_strict_operators_kept(void **state)
{
  struct imc_doc *doc;
  const struct imc_prop *p;

  (void)state;
  doc = parse_ok("system s ( cpu.count > 1 and cpu.count <= 8 and memory.size = 2G and "
                 "memory.size >= 1G )");
  p = imc_features_prop(&doc->systems[0]->feats, "cpu.count");
  assert_int_equal(p->kind, IMC_PROP_RANGE);
  assert_int_equal(p->lo->op, IMC_OP_GT);
  assert_int_equal(p->hi->op, IMC_OP_LE);
  p = imc_features_prop(&doc->systems[0]->feats, "memory.size");
  assert_int_equal(p->lo->op, IMC_OP_EQ);
  assert_int_equal(p->hi->op, IMC_OP_EQ);
  imc_doc_free(doc);
}

static void test_parse_disjoint_interval_fails_at_feature(void **state)
{
  (void)state;
  parse_fails("system s (\n  cpu.count >= 4 and\n  cpu.count <= 2\n)", IMC_E_INVAL,
              "t.radl:3:3: disjoint intervals for 'cpu.count'");
}

static void test_parse_conflicting_strings_fail_same_value_ok(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("system s ( a = 'x' and a = 'x' )");
  assert_int_equal(doc->systems[0]->feats.nprops, 1);
  imc_doc_free(doc);
  parse_fails("system s ( a = 'x' and\n a = 'y' )", IMC_E_INVAL,
              "t.radl:2:2: conflicting values for 'a'");
}

static void test_parse_contains_with_same_name_merges(void **state)
{
  struct imc_doc *doc;
  const struct imc_prop *p;

  (void)state;
  doc = parse_ok("system s ( disk.0.applications contains (name = 'a') and "
                 "disk.0.applications contains (name = 'b') and "
                 "disk.0.applications contains (name = 'a' and version = '2') )");
  p = imc_features_prop(&doc->systems[0]->feats, "disk.0.applications");
  assert_int_equal(p->nitems, 2);
  assert_string_equal(imc_features_str(p->items[0]->sub, "version"), "2");
  imc_doc_free(doc);
}

static void test_parse_soft_groups_nest_and_keep_weight(void **state)
{
  struct imc_doc *doc;
  const struct imc_prop *p;

  (void)state;
  doc = parse_ok("system s ( cpu.count >= 1 and soft 10 ( memory.size >= 2G ) and "
                 "soft 2.5 ( soft 1 ( cpu.arch = 'x86_64' ) ) )");
  p = &doc->systems[0]->feats.props[1];
  assert_int_equal(p->kind, IMC_PROP_SOFT);
  assert_null(p->name);
  assert_int_equal(p->nitems, 2);
  assert_int_equal(p->items[0]->num.i, 10);
  assert_true(p->items[1]->num.is_float);
  assert_int_equal(p->items[1]->sub->props[0].kind, IMC_PROP_SOFT);
  imc_doc_free(doc);
}

static void test_parse_nesting_limit(void **state)
{
  char text[2048];
  size_t n = 0;

  (void)state;
  n += (size_t)snprintf(text + n, sizeof text - n, "system s ( ");
  for (int i = 0; i < 70; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, "soft 1 ( ");
  for (int i = 0; i < 70; i++)
    n += (size_t)snprintf(text + n, sizeof text - n, ") ");
  snprintf(text + n, sizeof text - n, ")");
  parse_fails(text, IMC_E_TOOBIG, "t.radl:1:595: features nested deeper than 64 levels");
}

static void test_parse_configure_forms(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("configure a (\n@begin\n---\n- hosts: all\n@end\n)\n"
                 "configure b ()\nconfigure c");
  assert_int_equal(doc->nconfigures, 3);
  assert_string_equal(doc->configures[0]->recipe, "---\n- hosts: all");
  assert_int_equal(doc->configures[0]->recipe_pos.line, 3);
  assert_null(doc->configures[1]->recipe);
  assert_false(doc->configures[1]->reference);
  assert_true(doc->configures[2]->reference);
  imc_doc_free(doc);
}

static void test_parse_contextualize_forms(void **state)
{
  struct imc_doc *doc;
  const struct imc_ctxt *c;

  (void)state;
  doc = parse_ok("contextualize 1200 (\n"
                 "  option ansible_version >= '2.9'\n"
                 "  system a configure x step 2\n"
                 "  system b configure y with cloud_init\n"
                 "  system c configure z step 3 with Ansible\n"
                 "  system d configure w\n)");
  c = &doc->ctxt;
  assert_true(c->present);
  assert_int_equal(c->max_time.i, 1200);
  assert_int_equal(c->noptions, 1);
  assert_int_equal(c->options[0]->op, IMC_OP_GE);
  assert_string_equal(c->options[0]->str, "2.9");
  assert_int_equal(c->nitems, 4);
  assert_int_equal(c->items[0]->step.i, 2);
  assert_null(c->items[0]->tool);
  assert_string_equal(c->items[1]->tool, "cloud_init");
  assert_int_equal(c->items[2]->step.i, 3);
  assert_string_equal(c->items[2]->tool, "Ansible");
  assert_int_equal(c->items[3]->step.i, 0);
  imc_doc_free(doc);
}

static void test_parse_empty_contextualize_is_present(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("system a ()\ncontextualize ()");
  assert_true(doc->ctxt.present);
  assert_int_equal(doc->ctxt.nitems, 0);
  imc_doc_free(doc);
  doc = parse_ok("system a ()");
  assert_false(doc->ctxt.present);
  imc_doc_free(doc);
}

static void test_parse_contextualize_sentences_merge(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("contextualize 10 ( system a configure x step 1 )\n"
                 "contextualize 5 ( system b configure y system a configure x step 4 )");
  assert_int_equal(doc->ctxt.max_time.i, 10);
  assert_int_equal(doc->ctxt.nitems, 2);
  assert_string_equal(doc->ctxt.items[0]->system, "a");
  assert_int_equal(doc->ctxt.items[0]->step.i, 4);
  imc_doc_free(doc);
}

static void test_parse_option_after_item_fails(void **state)
{
  (void)state;
  parse_fails("contextualize ( system a configure b option x = 'y' )", IMC_E_PARSE,
              "t.radl:1:38: expected 'system', 'option' or ')', found keyword 'option'");
}

static void test_parse_deploy_forms(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("deploy front 1\ndeploy wn 3 cloud_one\ndeploy front 2");
  assert_int_equal(doc->ndeploys, 3);
  assert_string_equal(doc->deploys[1]->cloud, "cloud_one");
  assert_int_equal(doc->deploys[1]->count.i, 3);
  assert_null(doc->deploys[0]->cloud);
  imc_doc_free(doc);
  parse_fails("deploy front", IMC_E_PARSE,
              "t.radl:1:13: expected the number of VMs, found end of input");
}

static void test_parse_description_rules(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("description d (name = 'My infra' and owner = 'me')\nsystem s ()");
  assert_string_equal(doc->description->id, "d");
  assert_string_equal(imc_features_str(&doc->description->feats, "name"), "My infra");
  imc_doc_free(doc);
  parse_fails("description d ()", IMC_E_PARSE,
              "t.radl:1:1: a description must be followed by at least one other sentence");
  parse_fails("system s ()\ndescription d ()", IMC_E_PARSE,
              "t.radl:2:1: the description must come before every other sentence");
  parse_fails("description d ()\ndescription e ()\nsystem s ()", IMC_E_INVAL,
              "t.radl:2:1: description can only be defined once");
}

static void test_parse_ansible_requires_body(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("ansible ans (host = 'h' and credentials.username = 'u' and "
                 "credentials.password = 'p')");
  assert_int_equal(doc->nansibles, 1);
  assert_string_equal(imc_features_str(&doc->ansibles[0]->feats, "host"), "h");
  imc_doc_free(doc);
  parse_fails("ansible ans\nsystem s ()", IMC_E_PARSE,
              "t.radl:2:1: expected '(', found keyword 'system'");
}

static void test_parse_duplicate_ids_fail(void **state)
{
  (void)state;
  parse_fails("system a ()\nsystem a", IMC_E_INVAL, "t.radl:2:1: system 'a' is defined twice");
  parse_fails("network n ()\n\nnetwork n ()", IMC_E_INVAL,
              "t.radl:3:1: network 'n' is defined twice");
  parse_fails("configure c ()\n  configure c ()", IMC_E_INVAL,
              "t.radl:2:3: configure 'c' is defined twice");
}

static void test_parse_syntax_errors_point_at_token(void **state)
{
  (void)state;
  parse_fails("system s (\n  cpu.count >= \n)", IMC_E_PARSE,
              "t.radl:3:1: expected a number, a string or a list, found ')'");
  parse_fails("system s ( cpu.count 2 )", IMC_E_PARSE,
              "t.radl:1:22: expected '=', '<', '>', '<=', '>=' or 'contains', found number 2");
  parse_fails("system s ( a = 'x' b = 'y' )", IMC_E_PARSE,
              "t.radl:1:20: expected ')' or 'and', found identifier 'b'");
  parse_fails("frobnicate", IMC_E_PARSE,
              "t.radl:1:1: expected network, system, ansible, configure, contextualize, deploy "
              "or description, found identifier 'frobnicate'");
  parse_fails("system s ( x = ['a',] )", IMC_E_PARSE,
              "t.radl:1:21: expected a string, found ']'");
  parse_fails("system s (", IMC_E_PARSE,
              "t.radl:1:11: expected a feature name or 'soft', found end of input");
}

static void test_parse_lists_as_im_grammar(void **state)
{
  struct imc_doc *doc;

  (void)state;
  doc = parse_ok("system s ( a = [] and b = [, 'x'] and c = ['y'] )");
  assert_int_equal(imc_features_get(&doc->systems[0]->feats, "a")->nlist, 0);
  assert_int_equal(imc_features_get(&doc->systems[0]->feats, "b")->nlist, 1);
  assert_string_equal(imc_features_get(&doc->systems[0]->feats, "c")->list[0], "y");
  imc_doc_free(doc);
}

static void test_parse_inputs_substituted_when_asked(void **state)
{
  const struct radl_input values[] = {{"user", "alice"}, {"n", "3"}};
  struct radl_parse_opts opts = {.inputs = true, .values = values, .nvalues = 2};
  const char *text = "system s ( disk.0.os.credentials.username = '@input.user@' )\n"
                     "deploy s @input.n@";
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_parse("t.radl", text, strlen(text), &opts, &doc, &err), 0);
  assert_string_equal(imc_features_str(&doc->systems[0]->feats, "disk.0.os.credentials.username"),
                      "alice");
  assert_int_equal(doc->deploys[0]->count.i, 3);
  imc_doc_free(doc);
  /* Without the option the server leaves them alone, as IM does. */
  doc = parse_ok("system s ( x = '@input.user@' )");
  assert_string_equal(imc_features_str(&doc->systems[0]->feats, "x"), "@input.user@");
  imc_doc_free(doc);
}

static void test_parse_error_after_substitution_points_into_original(void **state)
{
  const struct radl_input values[] = {{"long", "a\nvery\nlong\nvalue"}};
  struct radl_parse_opts opts = {.inputs = true, .values = values, .nvalues = 1};
  const char *text = "system s ( x = '@input.long@' and ) ";
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_parse("t.radl", text, strlen(text), &opts, &doc, &err), IMC_E_PARSE);
  assert_string_equal(err.msg, "t.radl:1:35: expected a feature name or 'soft', found ')'");
}

static void test_parse_missing_input_fails(void **state)
{
  struct radl_parse_opts opts = {.inputs = true};
  const char *text = "system s (\n x = '@input.pass@' )";
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_parse("t.radl", text, strlen(text), &opts, &doc, &err), IMC_E_INVAL);
  assert_string_equal(err.msg, "t.radl:2:7: no value for input 'pass'");
}

static void test_parse_file_reads_and_names_source(void **state)
{
  char path[] = "/tmp/imc-parse-XXXXXX";
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};
  char expected[128];
  int fd = mkstemp(path);
  FILE *f;

  (void)state;
  assert_true(fd >= 0);
  f = fdopen(fd, "w");
  fputs("network n ()\nsystem s (x = )\n", f);
  fclose(f);
  assert_int_equal(radl_parse_file(path, NULL, &doc, &err), IMC_E_PARSE);
  snprintf(expected, sizeof expected, "%s:2:15: expected a number, a string or a list, found ')'",
           path);
  assert_string_equal(err.msg, expected);
  unlink(path);
  imc_err_clear(&err);
  assert_int_equal(radl_parse_file(path, NULL, &doc, &err), IMC_E_IO);
}

static void test_parse_too_large_document_fails(void **state)
{
  struct imc_doc *doc = NULL;
  struct imc_err err = {0};

  (void)state;
  assert_int_equal(radl_parse("big", "", (size_t)IMC_MAX_DOC + 1, NULL, &doc, &err),
                   IMC_E_TOOBIG);
}

/* Every allocation of a full parse may fail; each failure must end in IMC_E_NOMEM, no leak. */
static void test_parse_survives_every_allocation_failure(void **state)
{
  const char *text = "description d (name = 'x')\n"
                     "network n (outbound = 'yes')\n"
                     "system s ( cpu.count >= 1 and disk.0.image.url = ['a', 'b'] and "
                     "disk.0.applications contains (name = 'a') and soft 1 ( x = 'y' ) )\n"
                     "configure s (\n@begin\n- hosts: all\n@end\n)\n"
                     "contextualize 5 ( option o = 'v' system s configure s step 1 )\n"
                     "deploy s 1 c";
  int failures = 0;

  (void)state;
  for (unsigned long n = 1;; n++) {
    struct imc_doc *doc = NULL;
    struct imc_err err = {0};
    int r;

    imc_alloc_fail_at(n);
    r = radl_parse("t.radl", text, strlen(text), NULL, &doc, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      assert_int_equal(doc->nsystems, 1);
      imc_doc_free(doc);
      break;
    }
    assert_int_equal(r, IMC_E_NOMEM);
    assert_null(doc);
    failures++;
  }
  assert_true(failures > 20);
}

/* A string in the wrong place is named as "a string": its text may be a password. */
static void test_parse_errors_never_quote_a_string(void **state)
{
  (void)state;
  parse_fails("system a ( disk.0.os.credentials.password 'S3cr3t!Pass' )", IMC_E_PARSE,
              "t.radl:1:43: expected '=', '<', '>', '<=', '>=' or 'contains', found a string");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_parse_empty_and_comment_only_documents),
    cmocka_unit_test(test_parse_network_definition_and_reference),
    cmocka_unit_test(test_parse_system_feature_kinds),
    cmocka_unit_test(test_parse_ranges_narrow_and_strict_operators_kept),
    cmocka_unit_test(test_parse_disjoint_interval_fails_at_feature),
    cmocka_unit_test(test_parse_conflicting_strings_fail_same_value_ok),
    cmocka_unit_test(test_parse_contains_with_same_name_merges),
    cmocka_unit_test(test_parse_soft_groups_nest_and_keep_weight),
    cmocka_unit_test(test_parse_nesting_limit),
    cmocka_unit_test(test_parse_configure_forms),
    cmocka_unit_test(test_parse_contextualize_forms),
    cmocka_unit_test(test_parse_empty_contextualize_is_present),
    cmocka_unit_test(test_parse_contextualize_sentences_merge),
    cmocka_unit_test(test_parse_option_after_item_fails),
    cmocka_unit_test(test_parse_deploy_forms),
    cmocka_unit_test(test_parse_description_rules),
    cmocka_unit_test(test_parse_ansible_requires_body),
    cmocka_unit_test(test_parse_duplicate_ids_fail),
    cmocka_unit_test(test_parse_syntax_errors_point_at_token),
    cmocka_unit_test(test_parse_lists_as_im_grammar),
    cmocka_unit_test(test_parse_inputs_substituted_when_asked),
    cmocka_unit_test(test_parse_error_after_substitution_points_into_original),
    cmocka_unit_test(test_parse_missing_input_fails),
    cmocka_unit_test(test_parse_file_reads_and_names_source),
    cmocka_unit_test(test_parse_too_large_document_fails),
    cmocka_unit_test(test_parse_survives_every_allocation_failure),
    cmocka_unit_test(test_parse_errors_never_quote_a_string),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
