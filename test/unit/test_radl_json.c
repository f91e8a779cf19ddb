/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_json_print and radl_json_parse: IM's JSON form of RADL, exact output for small
 * documents, every class and feature form on input, errors with their line:col, round trips
 * through text and JSON, and allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"

/* --- helpers --------------------------------------------------------------------------------- */

static struct imc_doc *text_ok(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_parse("t.radl", text, strlen(text), NULL, &doc, &err) != 0)
    fail_msg("RADL parse failed: %s", err.msg);
  return doc;
}

static struct imc_doc *json_ok(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_json_parse("t.json", text, strlen(text), &doc, &err) != 0)
    fail_msg("JSON parse failed: %s", err.msg);
  assert_int_equal(err.code, IMC_OK);
  return doc;
}

static void json_fails(const char *text, int code, const char *msg)
{
  struct imc_doc *doc = (struct imc_doc *)&doc; /* must be reset to NULL */
  struct imc_err err;

  imc_err_clear(&err);
  assert_int_equal(radl_json_parse("t.json", text, strlen(text), &doc, &err), code);
  assert_int_equal(err.code, code);
  assert_string_equal(err.msg, msg);
  assert_null(doc);
}

/* The JSON of doc; caller frees. */
static char *to_json(const struct imc_doc *doc, bool pretty)
{
  struct imc_buf out;
  struct imc_err err;

  imc_err_clear(&err);
  imc_buf_init(&out, IMC_MAX_DOC);
  if (radl_json_print(doc, pretty, &out, &err) != 0)
    fail_msg("JSON print failed: %s", err.msg);
  return imc_buf_take(&out, NULL);
}

static void json_is(const struct imc_doc *doc, bool pretty, const char *want)
{
  char *got = to_json(doc, pretty);

  assert_string_equal(got, want);
  imc_free(got);
}

/* RADL text -> JSON (compact) is want. */
static void text_json_is(const char *text, const char *want)
{
  struct imc_doc *doc = text_ok(text);

  json_is(doc, false, want);
  imc_doc_free(doc);
}

/* RADL text -> JSON fails with code and msg. */
static void text_json_fails(const char *text, int code, const char *msg)
{
  struct imc_doc *doc = text_ok(text);
  struct imc_buf out;
  struct imc_err err;

  imc_err_clear(&err);
  imc_buf_init(&out, IMC_MAX_DOC);
  imc_buf_adds(&out, "kept");
  assert_int_equal(radl_json_print(doc, false, &out, &err), code);
  assert_string_equal(err.msg, msg);
  assert_string_equal(imc_buf_cstr(&out), "kept");
  imc_buf_free(&out);
  imc_doc_free(doc);
}

/* JSON in -> RADL text out. */
static void json_text_is(const char *json, const char *want)
{
  struct imc_doc *doc = json_ok(json);
  struct imc_buf out;
  struct imc_err err;

  imc_buf_init(&out, IMC_MAX_DOC);
  assert_int_equal(radl_print(doc, &out, &err), 0);
  assert_string_equal(imc_buf_cstr(&out), want);
  imc_buf_free(&out);
  imc_doc_free(doc);
}

/* --- printing -------------------------------------------------------------------------------- */

static void test_json_print_empty_document_is_empty_list(void **state)
{
  struct imc_doc *doc = imc_doc_new(NULL);

  (void)state;
  json_is(doc, false, "[]");
  json_is(doc, true, "[]");
  imc_doc_free(doc);
}

static void test_json_print_compact_keeps_feature_order(void **state)
{
  (void)state;
  text_json_is("system front (name = 'x' and cpu.count >= 2 and memory.size >= 512M)",
               "[{\"class\":\"system\",\"id\":\"front\",\"name\":\"x\",\"cpu.count_min\":2,"
               "\"memory.size_min\":512000000}]");
}

static void test_json_print_pretty_indents_and_sorts_keys(void **state)
{
  struct imc_doc *doc = text_ok("system front (name = 'x' and cpu.count >= 2 and "
                                "memory.size >= 512M)\ndeploy front 1");

  (void)state;
  json_is(doc, true,
          "[\n"
          "  {\n"
          "    \"class\": \"system\",\n"
          "    \"cpu.count_min\": 2,\n"
          "    \"id\": \"front\",\n"
          "    \"memory.size_min\": 512000000,\n"
          "    \"name\": \"x\"\n"
          "  },\n"
          "  {\n"
          "    \"class\": \"deploy\",\n"
          "    \"system\": \"front\",\n"
          "    \"vm_number\": 1\n"
          "  }\n"
          "]");
  imc_doc_free(doc);
}

static void test_json_print_orders_objects_as_im(void **state)
{
  (void)state;
  text_json_is("description d\nansible a (host = 'h')\nnetwork n\nsystem s\nconfigure c\n"
               "contextualize ()\ndeploy s 1",
               "[{\"class\":\"ansible\",\"id\":\"a\",\"host\":\"h\"},"
               "{\"class\":\"network\",\"id\":\"n\",\"reference\":true},"
               "{\"class\":\"system\",\"id\":\"s\",\"reference\":true},"
               "{\"class\":\"configure\",\"id\":\"c\",\"reference\":true},"
               "{\"class\":\"deploy\",\"system\":\"s\",\"vm_number\":1},"
               "{\"class\":\"contextualize\"},"
               "{\"class\":\"description\",\"id\":\"d\",\"reference\":true}]");
}

static void test_json_print_equal_bounds_give_plain_name(void **state)
{
  (void)state;
  text_json_is("system s (cpu.count >= 2 and cpu.count <= 2 and disk.0.size = 1GiB)",
               "[{\"class\":\"system\",\"id\":\"s\",\"cpu.count\":2,"
               "\"disk.0.size\":1073741824}]");
}

static void test_json_print_interval_gives_min_and_max(void **state)
{
  (void)state;
  text_json_is("system s (memory.size > 1G and memory.size < 4Gi)",
               "[{\"class\":\"system\",\"id\":\"s\",\"memory.size_min\":1000000000,"
               "\"memory.size_max\":4294967296}]");
}

static void test_json_print_float_in_base_units_is_real(void **state)
{
  (void)state;
  text_json_is("system s (memory.size = 1.5G and price <= 0.1 and w = 2.0)",
               "[{\"class\":\"system\",\"id\":\"s\",\"memory.size\":1500000000.0,"
               "\"price_max\":0.1,\"w\":2.0}]");
}

static void test_json_print_float_needing_17_digits_reads_back(void **state)
{
  struct imc_doc *doc = text_ok("system s (x = 0.30000000000000004 and y = 0.5)");
  struct imc_doc *back;
  char *json = to_json(doc, false);

  (void)state;
  assert_string_equal(json, "[{\"class\":\"system\",\"id\":\"s\",\"x\":0.30000000000000004,"
                            "\"y\":0.5}]");
  back = json_ok(json);
  assert_true(imc_doc_equal(doc, back));
  imc_free(json);
  imc_doc_free(back);
  imc_doc_free(doc);
}

static void test_json_print_list_and_contains(void **state)
{
  (void)state;
  text_json_is("system s (disk.0.image.url = ['a', 'b'] and "
               "disk.0.applications contains (name = 'x' and version = '1') and "
               "disk.0.applications contains (name = 'y'))",
               "[{\"class\":\"system\",\"id\":\"s\",\"disk.0.image.url\":[\"a\",\"b\"],"
               "\"disk.0.applications\":[{\"name\":\"x\",\"version\":\"1\"},{\"name\":\"y\"}]}]");
}

static void test_json_print_soft_groups(void **state)
{
  (void)state;
  text_json_is("system s (soft 10 (cpu.count >= 4) and soft 2.5 ())",
               "[{\"class\":\"system\",\"id\":\"s\",\"softs\":[{\"weight\":10,\"items\":"
               "{\"cpu.count_min\":4}},{\"weight\":2.5,\"items\":{}}]}]");
}

static void test_json_print_configures(void **state)
{
  (void)state;
  text_json_is("configure a (\n@begin\n- x: 1\n@end\n)\nconfigure b ()\nconfigure c",
               "[{\"class\":\"configure\",\"id\":\"a\",\"recipes\":\"- x: 1\"},"
               "{\"class\":\"configure\",\"id\":\"b\",\"recipes\":null},"
               "{\"class\":\"configure\",\"id\":\"c\",\"reference\":true}]");
}

static void test_json_print_deploy_cloud_only_when_set(void **state)
{
  (void)state;
  text_json_is("deploy a 2 one\ndeploy b 0",
               "[{\"class\":\"deploy\",\"system\":\"a\",\"vm_number\":2,\"cloud\":\"one\"},"
               "{\"class\":\"deploy\",\"system\":\"b\",\"vm_number\":0}]");
}

static void test_json_print_contextualize_fields(void **state)
{
  (void)state;
  text_json_is("contextualize 600 (option ansible_version = '2.9' option retries >= 2 "
               "system a configure b system c configure d step 2 with cloud_init)",
               "[{\"class\":\"contextualize\",\"max_time\":600,\"items\":["
               "{\"system\":\"a\",\"configure\":\"b\"},"
               "{\"system\":\"c\",\"configure\":\"d\",\"step\":2,\"ctxt_tool\":\"cloud_init\"}],"
               "\"options\":{\"ansible_version\":\"2.9\",\"retries_min\":2}}]");
}

static void test_json_print_version_operator_is_dropped_as_im(void **state)
{
  (void)state;
  text_json_is("system s (disk.0.os.version >= '7')",
               "[{\"class\":\"system\",\"id\":\"s\",\"disk.0.os.version\":\"7\"}]");
}

static void test_json_print_non_utf8_value_fails(void **state)
{
  (void)state;
  text_json_fails("system s (x = 'a\xff')", IMC_E_INVAL,
                  "value of 'x' is not valid UTF-8 and cannot be written as JSON");
}

static void test_json_print_reserved_feature_name_fails(void **state)
{
  (void)state;
  text_json_fails("system s (id = 'x')", IMC_E_INVAL,
                  "feature 'id' cannot be written as JSON: the key is reserved");
}

static void test_json_print_numeric_name_ending_in_min_fails(void **state)
{
  (void)state;
  text_json_fails("system s (size_min = 3)", IMC_E_INVAL,
                  "numeric feature 'size_min' cannot be written as JSON: its name would read "
                  "as a bound");
}

static void test_json_print_colliding_keys_fail(void **state)
{
  (void)state;
  text_json_fails("system s (x_min = 'a' and x >= 2)", IMC_E_INVAL,
                  "feature 'x_min' cannot be written as JSON: its key is already used");
}

static void test_json_print_integer_overflow_in_base_units_fails(void **state)
{
  (void)state;
  text_json_fails("system s (disk.0.size = 10000000T)", IMC_E_INVAL,
                  "value of 'disk.0.size' is too large for JSON");
}

static void test_json_print_past_buffer_max_is_toobig(void **state)
{
  struct imc_doc *doc = text_ok("deploy a 1");
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  imc_err_clear(&err);
  imc_buf_init(&out, 10);
  assert_int_equal(radl_json_print(doc, false, &out, &err), IMC_E_TOOBIG);
  assert_string_equal(err.msg, "JSON RADL larger than 10 bytes");
  imc_buf_free(&out);
  imc_doc_free(doc);
}

/* --- parsing --------------------------------------------------------------------------------- */

static void test_json_parse_every_class(void **state)
{
  struct imc_doc *doc = json_ok(
    "[{\"class\": \"ansible\", \"id\": \"a\", \"host\": \"h\"},\n"
    " {\"class\": \"network\", \"id\": \"n\", \"outbound\": \"yes\"},\n"
    " {\"class\": \"system\", \"id\": \"s\", \"cpu.count\": 2},\n"
    " {\"class\": \"configure\", \"id\": \"s\", \"recipes\": \"- a: 1\"},\n"
    " {\"class\": \"deploy\", \"system\": \"s\", \"vm_number\": 3, \"cloud\": \"c1\"},\n"
    " {\"class\": \"contextualize\", \"max_time\": 60},\n"
    " {\"class\": \"description\", \"id\": \"d\", \"name\": \"app\"}]");
  double v;

  (void)state;
  assert_int_equal(doc->nansibles, 1);
  assert_string_equal(imc_features_str(&doc->ansibles[0]->feats, "host"), "h");
  assert_string_equal(imc_features_str(&imc_doc_network(doc, "n")->feats, "outbound"), "yes");
  assert_true(imc_features_num(&imc_doc_system(doc, "s")->feats, "cpu.count", NULL, &v));
  assert_true(v == 2);
  assert_string_equal(imc_doc_configure(doc, "s")->recipe, "- a: 1");
  assert_int_equal(doc->ndeploys, 1);
  assert_int_equal(doc->deploys[0]->count.i, 3);
  assert_string_equal(doc->deploys[0]->cloud, "c1");
  assert_true(doc->ctxt.present);
  assert_int_equal(doc->ctxt.max_time.i, 60);
  assert_string_equal(doc->description->id, "d");
  assert_string_equal(imc_features_str(&doc->description->feats, "name"), "app");
  imc_doc_free(doc);
}

static void test_json_parse_min_max_give_inclusive_bounds(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"m_min\":512,"
                                "\"m_max\":1024.5}]");
  const struct imc_prop *p = imc_features_prop(&doc->systems[0]->feats, "m");

  (void)state;
  assert_non_null(p);
  assert_int_equal(p->kind, IMC_PROP_RANGE);
  assert_int_equal(p->lo->op, IMC_OP_GE);
  assert_false(p->lo->num.is_float);
  assert_int_equal(p->lo->num.i, 512);
  assert_int_equal(p->hi->op, IMC_OP_LE);
  assert_true(p->hi->num.is_float);
  assert_true(p->hi->num.f == 1024.5);
  imc_doc_free(doc);
}

static void test_json_parse_min_with_string_is_plain_feature(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"x_min\":\"low\"}]");

  (void)state;
  assert_string_equal(imc_features_str(&doc->systems[0]->feats, "x_min"), "low");
  imc_doc_free(doc);
}

static void test_json_parse_string_array_is_list(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"u\":[\"a\",\"b\"],"
                                "\"e\":[]}]");
  const struct imc_feature *u = imc_features_get(&doc->systems[0]->feats, "u");
  const struct imc_feature *e = imc_features_get(&doc->systems[0]->feats, "e");

  (void)state;
  assert_int_equal(u->type, IMC_V_LIST);
  assert_int_equal(u->nlist, 2);
  assert_string_equal(u->list[1], "b");
  assert_int_equal(e->type, IMC_V_LIST);
  assert_int_equal(e->nlist, 0);
  imc_doc_free(doc);
}

static void test_json_parse_object_array_is_contains(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"apps\":["
                                "{\"name\":\"a\",\"v\":\"1\"},{\"name\":\"b\"}]}]");
  const struct imc_prop *p = imc_features_prop(&doc->systems[0]->feats, "apps");

  (void)state;
  assert_int_equal(p->kind, IMC_PROP_CONTAINS);
  assert_int_equal(p->nitems, 2);
  assert_int_equal(p->items[0]->op, IMC_OP_CONTAINS);
  assert_string_equal(imc_features_str(p->items[0]->sub, "v"), "1");
  assert_string_equal(imc_features_str(p->items[1]->sub, "name"), "b");
  imc_doc_free(doc);
}

static void test_json_parse_softs_with_defaults(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"softs\":["
                                "{\"weight\":5,\"items\":{\"x\":1}},{}]}]");
  const struct imc_prop *p = &doc->systems[0]->feats.props[0];

  (void)state;
  assert_int_equal(p->kind, IMC_PROP_SOFT);
  assert_int_equal(p->nitems, 2);
  assert_int_equal(p->items[0]->num.i, 5);
  assert_int_equal(p->items[0]->sub->nprops, 1);
  assert_int_equal(p->items[1]->num.i, 0);
  assert_int_equal(p->items[1]->sub->nprops, 0);
  imc_doc_free(doc);
}

static void test_json_parse_integer_and_real_stay_apart(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"i\":2,\"r\":2.0}]");

  (void)state;
  assert_false(imc_features_get(&doc->systems[0]->feats, "i")->num.is_float);
  assert_true(imc_features_get(&doc->systems[0]->feats, "r")->num.is_float);
  imc_doc_free(doc);
}

static void test_json_parse_references(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"system\",\"id\":\"s\",\"reference\":true},"
                                "{\"class\":\"network\",\"id\":\"n\",\"reference\":false,"
                                "\"x\":\"y\"},"
                                "{\"class\":\"configure\",\"id\":\"c\",\"reference\":true}]");

  (void)state;
  assert_true(doc->systems[0]->reference);
  assert_false(doc->networks[0]->reference);
  assert_string_equal(imc_features_str(&doc->networks[0]->feats, "x"), "y");
  assert_true(doc->configures[0]->reference);
  assert_null(doc->configures[0]->recipe);
  imc_doc_free(doc);
}

static void test_json_parse_null_recipes_is_no_recipe(void **state)
{
  struct imc_doc *doc = json_ok("[{\"class\":\"configure\",\"id\":\"c\",\"recipes\":null}]");

  (void)state;
  assert_false(doc->configures[0]->reference);
  assert_null(doc->configures[0]->recipe);
  imc_doc_free(doc);
}

static void test_json_parse_contextualize_items_and_options(void **state)
{
  struct imc_doc *doc = json_ok(
    "[{\"class\":\"contextualize\",\"max_time\":10,\"items\":["
    "{\"system\":\"a\",\"configure\":\"b\",\"step\":2,\"ctxt_tool\":\"cloud_init\"},"
    "{\"system\":\"c\",\"configure\":\"d\",\"ctxt_tool\":null}],"
    "\"options\":{\"ansible_version\":\"2.9\",\"r_max\":4}},"
    "{\"class\":\"contextualize\",\"max_time\":5,\"items\":["
    "{\"system\":\"a\",\"configure\":\"b\"}]}]");
  const struct imc_ctxt *c = &doc->ctxt;

  (void)state;
  assert_int_equal(c->max_time.i, 10);
  assert_int_equal(c->nitems, 2);
  /* The second object's (a, b) replaced the first in place, as IM's dict update. */
  assert_int_equal(c->items[0]->step.i, 0);
  assert_null(c->items[0]->tool);
  assert_string_equal(c->items[1]->system, "c");
  assert_null(c->items[1]->tool);
  assert_int_equal(c->noptions, 2);
  assert_string_equal(c->options[0]->str, "2.9");
  assert_string_equal(c->options[1]->name, "r");
  assert_int_equal(c->options[1]->op, IMC_OP_LE);
  assert_int_equal(c->options[1]->num.i, 4);
  imc_doc_free(doc);
}

static void test_json_parse_positions_point_at_objects_and_keys(void **state)
{
  struct imc_doc *doc = json_ok("[\n"
                                "  {\"class\": \"system\", \"id\": \"s\",\n"
                                "   \"cpu.count\": 1,\n"
                                "   \"apps\": [{\"name\": \"é\", \"v\": \"x\"}]},\n"
                                "  {\"class\": \"configure\", \"id\": \"c\", \"recipes\": \"r\"}\n"
                                "]");
  const struct imc_prop *apps = imc_features_prop(&doc->systems[0]->feats, "apps");
  const struct imc_prop *v = &apps->items[0]->sub->props[1];

  (void)state;
  assert_int_equal(doc->systems[0]->pos.line, 2);
  assert_int_equal(doc->systems[0]->pos.col, 3);
  assert_int_equal(doc->systems[0]->feats.props[0].lo->pos.line, 3);
  assert_int_equal(doc->systems[0]->feats.props[0].lo->pos.col, 4);
  /* Columns count characters: the é is one. */
  assert_int_equal(v->value->pos.line, 4);
  assert_int_equal(v->value->pos.col, 27);
  assert_int_equal(doc->configures[0]->pos.line, 5);
  assert_int_equal(doc->configures[0]->recipe_pos.line, 5);
  assert_int_equal(doc->configures[0]->recipe_pos.col, 48);
  imc_doc_free(doc);
}

static void test_json_parse_json_to_text(void **state)
{
  (void)state;
  json_text_is("[{\"class\":\"system\",\"id\":\"s\",\"memory.size_min\":512000000,"
               "\"apps\":[{\"name\":\"a\"}],\"softs\":[{\"weight\":1,\"items\":{\"x\":\"y\"}}]},"
               "{\"class\":\"deploy\",\"system\":\"s\",\"vm_number\":1}]",
               "system s (\n  memory.size >= 512000000 and\n  apps contains (\n"
               "    name = 'a'\n  ) and\n  soft 1 (\n    x = 'y'\n  )\n)\n\ndeploy s 1\n");
}

/* --- errors ---------------------------------------------------------------------------------- */

static void test_json_parse_syntax_error_has_position(void **state)
{
  (void)state;
  json_fails("[\n  {\"class\": }]", IMC_E_PARSE, "t.json:2:13: unexpected token");
}

static void test_json_parse_empty_text_fails(void **state)
{
  (void)state;
  json_fails("", IMC_E_PARSE, "t.json:1:1: unexpected token near end of file");
}

static void test_json_parse_invalid_utf8_fails(void **state)
{
  (void)state;
  json_fails("[\"\xff\"]", IMC_E_PARSE, "t.json:1:2: unable to decode byte 0xff");
}

static void test_json_parse_duplicate_key_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":1,\n\"x\":2}]", IMC_E_PARSE,
             "t.json:2:3: duplicate object key");
}

static void test_json_parse_top_level_object_fails(void **state)
{
  (void)state;
  json_fails("  {\"class\": \"system\"}", IMC_E_PARSE,
             "t.json:1:3: a JSON RADL must be a list of objects");
}

static void test_json_parse_element_not_object_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"contextualize\"},\n 7]", IMC_E_PARSE,
             "t.json:2:2: element 2 of the list is not an object");
}

static void test_json_parse_missing_class_fails(void **state)
{
  (void)state;
  json_fails("[ {\"id\": \"a\"}]", IMC_E_PARSE, "t.json:1:3: missing \"class\"");
}

static void test_json_parse_class_not_string_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\": 1}]", IMC_E_PARSE, "t.json:1:12: \"class\" must be a string");
}

static void test_json_parse_unknown_class_fails(void **state)
{
  (void)state;
  json_fails("[{\"id\": \"a\", \"class\": \"server\"}]", IMC_E_PARSE,
             "t.json:1:23: unknown class 'server'");
}

static void test_json_parse_missing_id_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\": \"system\", \"cpu.count\": 1}]", IMC_E_PARSE,
             "t.json:1:2: missing \"id\"");
}

static void test_json_parse_empty_id_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\": \"network\", \"id\": \"\"}]", IMC_E_PARSE,
             "t.json:1:29: \"id\" must be a non-empty string");
}

static void test_json_parse_boolean_value_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\n  \"public\": true}]", IMC_E_PARSE,
             "t.json:2:13: value of 'public' must be a string, a number or a list");
}

static void test_json_parse_null_value_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":null}]", IMC_E_PARSE,
             "t.json:1:33: value of 'x' must be a string, a number or a list");
}

static void test_json_parse_object_value_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":{\"a\":1}}]", IMC_E_PARSE,
             "t.json:1:33: value of 'x' must be a string, a number or a list");
}

static void test_json_parse_mixed_array_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":[\"a\", {}]}]", IMC_E_PARSE,
             "t.json:1:39: the items of 'x' must be all strings or all objects");
}

static void test_json_parse_number_array_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":[1]}]", IMC_E_PARSE,
             "t.json:1:34: the items of 'x' must be all strings or all objects");
}

static void test_json_parse_element_inside_contains_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":[{\"class\":\"system\"}]}]",
             IMC_E_PARSE,
             "t.json:1:35: an element (\"class\") inside a feature is not supported");
}

static void test_json_parse_reference_not_boolean_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"reference\":\"yes\"}]", IMC_E_PARSE,
             "t.json:1:41: \"reference\" must be true or false");
}

static void test_json_parse_ansible_reference_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"ansible\",\"id\":\"a\",\"reference\":true}]", IMC_E_PARSE,
             "t.json:1:42: an ansible host cannot be a reference");
}

static void test_json_parse_configure_without_recipes_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"configure\",\"id\":\"c\"}]", IMC_E_PARSE,
             "t.json:1:2: configure 'c' has neither \"recipes\" nor \"reference\"");
}

static void test_json_parse_recipes_not_string_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"configure\",\"id\":\"c\",\"recipes\":[]}]", IMC_E_PARSE,
             "t.json:1:42: \"recipes\" must be a string or null");
}

static void test_json_parse_deploy_without_count_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"deploy\",\"system\":\"s\"}]", IMC_E_PARSE,
             "t.json:1:2: missing \"vm_number\"");
}

static void test_json_parse_deploy_count_not_number_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"deploy\",\"system\":\"s\",\"vm_number\":\"2\"}]", IMC_E_PARSE,
             "t.json:1:45: \"vm_number\" must be a number");
}

static void test_json_parse_contextualize_items_not_list_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"contextualize\",\"items\":{}}]", IMC_E_PARSE,
             "t.json:1:35: \"items\" must be a list of objects");
}

static void test_json_parse_contextualize_item_without_system_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"contextualize\",\"items\":[\n {\"configure\":\"c\"}]}]",
             IMC_E_PARSE, "t.json:2:2: missing \"system\"");
}

static void test_json_parse_contextualize_option_list_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"contextualize\",\"options\":{\"o\":[\"a\"]}}]", IMC_E_PARSE,
             "t.json:1:42: option 'o' must be a string or a number");
}

static void test_json_parse_soft_weight_not_number_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"softs\":[{\"weight\":\"1\"}]}]",
             IMC_E_PARSE, "t.json:1:48: \"weight\" must be a number");
}

static void test_json_parse_duplicate_system_fails_at_second(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\"},\n   {\"class\":\"system\",\"id\":\"s\"}]",
             IMC_E_INVAL, "t.json:2:4: system 's' is defined twice");
}

static void test_json_parse_second_description_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"description\",\"id\":\"a\"},\n"
             " {\"class\":\"description\",\"id\":\"b\"}]",
             IMC_E_INVAL, "t.json:2:2: description can only be defined once");
}

static void test_json_parse_disjoint_interval_fails_at_key(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"x\":1,\n  \"x_min\":5}]", IMC_E_INVAL,
             "t.json:2:3: disjoint intervals for 'x'");
}

static void test_json_parse_conflicting_contains_fails(void **state)
{
  (void)state;
  json_fails("[{\"class\":\"system\",\"id\":\"s\",\"a\":[{\"name\":\"n\",\"v\":\"1\"},"
             "{\"name\":\"n\",\"v\":\"2\"}]}]",
             IMC_E_INVAL, "t.json:1:67: conflicting values for 'v'");
}

static void test_json_parse_deep_nesting_is_toobig(void **state)
{
  char text[300];
  size_t n = 0;

  (void)state;
  for (int i = 0; i < 65; i++)
    text[n++] = '[';
  for (int i = 0; i < 65; i++)
    text[n++] = ']';
  text[n] = '\0';
  json_fails(text, IMC_E_TOOBIG, "t.json:1:65: JSON nested deeper than 64 levels");
}

static void test_json_parse_nesting_at_limit_is_parsed(void **state)
{
  char text[300];
  size_t n = 0;

  (void)state;
  /* 64 levels are fine for the reader; the inner lists are not RADL, so the error is about
   * the element, not the depth. */
  for (int i = 0; i < 64; i++)
    text[n++] = '[';
  for (int i = 0; i < 64; i++)
    text[n++] = ']';
  text[n] = '\0';
  json_fails(text, IMC_E_PARSE, "t.json:1:2: element 1 of the list is not an object");
}

static void test_json_parse_brackets_in_strings_do_not_nest(void **state)
{
  char text[400];
  size_t n = 0;
  struct imc_doc *doc;

  (void)state;
  n += (size_t)snprintf(text, sizeof text, "[{\"class\":\"system\",\"id\":\"s\",\"x\":\"");
  for (int i = 0; i < 100; i++)
    text[n++] = '[';
  snprintf(text + n, sizeof text - n, "\\\"\"}]");
  doc = json_ok(text);
  assert_int_equal(strlen(imc_features_str(&doc->systems[0]->feats, "x")), 101);
  imc_doc_free(doc);
}

static void test_json_parse_document_too_large_fails(void **state)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  (void)state;
  imc_err_clear(&err);
  /* The size is checked before a byte is read. */
  assert_int_equal(radl_json_parse("big.json", "[]", (size_t)IMC_MAX_DOC + 1, &doc, &err),
                   IMC_E_TOOBIG);
  assert_string_equal(err.msg, "big.json: document larger than 67108864 bytes");
  assert_null(doc);
}

/* --- round trips ----------------------------------------------------------------------------- */

static const char stable_json[] =
  "[\n"
  "  {\n"
  "    \"class\": \"network\",\n"
  "    \"id\": \"pub\",\n"
  "    \"outbound\": \"yes\",\n"
  "    \"outports\": \"22,80\"\n"
  "  },\n"
  "  {\n"
  "    \"class\": \"system\",\n"
  "    \"cpu.count_max\": 8,\n"
  "    \"cpu.count_min\": 2,\n"
  "    \"disk.0.applications\": [\n"
  "      {\n"
  "        \"name\": \"ansible.roles.a\",\n"
  "        \"version\": \"1.0\"\n"
  "      }\n"
  "    ],\n"
  "    \"disk.0.image.url\": [\n"
  "      \"one://h/1\",\n"
  "      \"one://h/2\"\n"
  "    ],\n"
  "    \"id\": \"front\",\n"
  "    \"memory.size\": 1500000000.0,\n"
  "    \"price_max\": 0.1,\n"
  "    \"softs\": [\n"
  "      {\n"
  "        \"items\": {\n"
  "          \"gpu.count\": 1\n"
  "        },\n"
  "        \"weight\": 10\n"
  "      }\n"
  "    ]\n"
  "  },\n"
  "  {\n"
  "    \"class\": \"configure\",\n"
  "    \"id\": \"front\",\n"
  "    \"recipes\": \"---\\n- hosts: all\\n  tasks: []\"\n"
  "  },\n"
  "  {\n"
  "    \"class\": \"deploy\",\n"
  "    \"cloud\": \"one\",\n"
  "    \"system\": \"front\",\n"
  "    \"vm_number\": 2\n"
  "  },\n"
  "  {\n"
  "    \"class\": \"contextualize\",\n"
  "    \"items\": [\n"
  "      {\n"
  "        \"configure\": \"front\",\n"
  "        \"step\": 1,\n"
  "        \"system\": \"front\"\n"
  "      }\n"
  "    ],\n"
  "    \"max_time\": 900,\n"
  "    \"options\": {\n"
  "      \"ansible_version\": \"2.9\"\n"
  "    }\n"
  "  },\n"
  "  {\n"
  "    \"class\": \"description\",\n"
  "    \"id\": \"desc\",\n"
  "    \"name\": \"app\"\n"
  "  }\n"
  "]";

static void test_json_round_trip_json_doc_json_is_stable(void **state)
{
  struct imc_doc *doc = json_ok(stable_json);

  (void)state;
  json_is(doc, true, stable_json);
  imc_doc_free(doc);
}

static void test_json_round_trip_compact_reads_back_equal(void **state)
{
  struct imc_doc *doc = json_ok(stable_json), *back;
  char *compact = to_json(doc, false);

  (void)state;
  assert_null(strchr(compact, '\n'));
  back = json_ok(compact);
  assert_true(imc_doc_equal(doc, back));
  imc_free(compact);
  imc_doc_free(back);
  imc_doc_free(doc);
}

/* A RADL text with nothing JSON folds (string operators, units that make an integer a real). */
static const char rich_text[] =
  "description app (name = 'Cluster' and owner = 'it\\'s me')\n"
  "ansible master (host = 'a.example.org' and credentials.username = 'u')\n"
  "network publica (outbound = 'yes' and outports = '22,8899/tcp-8800/tcp')\n"
  "network privada ()\n"
  "network referenced\n"
  "system front (\n"
  "  cpu.arch = 'x86_64' and cpu.count >= 2 and cpu.count <= 16 and\n"
  "  memory.size >= 1.5G and memory.size < 16GiB and price <= 0.25 and\n"
  "  net_interface.0.connection = 'publica' and net_interface.1.connection = 'privada' and\n"
  "  disk.0.image.url = ['one://server/1', 'docker://img:latest'] and\n"
  "  disk.0.os.name = 'linux' and\n"
  "  disk.0.applications contains (name = 'ansible.roles.grycap.slurm' and version = '1.0')"
  " and\n"
  "  disk.0.applications contains (name = 'app2') and\n"
  "  disk.1.size = 20GB and disk.1.mount_path = '/mnt/d' and\n"
  "  soft 10 (cpu.count >= 4 and memory.size >= 8G) and\n"
  "  soft 2.5 (gpu.count = 1 and apps contains (name = 'cuda' and v contains (name = 'x')))\n"
  ")\n"
  "system wn (cpu.count = 1 and ec3_max_instances = 10 and ratio = 0.5)\n"
  "system empty ()\n"
  "system referenced\n"
  "configure front (\n@begin\n---\n- hosts: all\n  tasks: []\n@end\n)\n"
  "configure wn ()\n"
  "configure referenced\n"
  "contextualize 1800 (\n"
  "  option ansible_version = '2.9'\n"
  "  option retries >= 3\n"
  "  system front configure front step 1\n"
  "  system wn configure wn step 2 with cloud_init\n"
  ")\n"
  "deploy front 1\n"
  "deploy wn 3 cloud1\n";

static void test_json_round_trip_text_doc_json_doc_is_equal(void **state)
{
  struct imc_doc *doc = text_ok(rich_text), *back;
  /* Compact: pretty output sorts the keys, and features are compared in order. */
  char *json = to_json(doc, false);

  (void)state;
  back = json_ok(json);
  if (!imc_doc_equal(doc, back))
    fail_msg("not equal after text -> JSON -> doc:\n%s", json);
  imc_free(json);
  imc_doc_free(back);
  imc_doc_free(doc);
}

static void test_json_round_trip_json_doc_text_doc_is_equal(void **state)
{
  struct imc_doc *doc = json_ok(stable_json), *back;
  struct imc_buf text;
  struct imc_err err;

  (void)state;
  imc_err_clear(&err);
  imc_buf_init(&text, IMC_MAX_DOC);
  assert_int_equal(radl_print(doc, &text, &err), 0);
  back = text_ok(imc_buf_cstr(&text));
  assert_true(imc_doc_equal(doc, back));
  imc_buf_free(&text);
  imc_doc_free(back);
  imc_doc_free(doc);
}

/* --- allocation failures --------------------------------------------------------------------- */

static void test_json_parse_allocation_failures_are_clean(void **state)
{
  bool done = false;

  (void)state;
  for (unsigned long n = 1; !done && n < 100000; n++) {
    struct imc_doc *doc = NULL;
    struct imc_err err;
    int r;

    imc_err_clear(&err);
    imc_alloc_fail_at(n);
    r = radl_json_parse("t.json", stable_json, strlen(stable_json), &doc, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      done = true;
      assert_non_null(doc);
    } else {
      if (r != IMC_E_NOMEM)
        fail_msg("allocation %lu: %s", n, err.msg);
      assert_string_equal(err.msg, "out of memory");
      assert_null(doc);
    }
    imc_doc_free(doc);
  }
  assert_true(done);
}

static void test_json_print_allocation_failures_are_clean(void **state)
{
  struct imc_doc *doc = text_ok(rich_text);
  bool done = false;

  (void)state;
  for (unsigned long n = 1; !done && n < 100000; n++) {
    struct imc_buf out;
    struct imc_err err;
    int r;

    imc_err_clear(&err);
    imc_buf_init(&out, IMC_MAX_DOC);
    imc_alloc_fail_at(n);
    r = radl_json_print(doc, n % 2 == 0, &out, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      done = true;
    } else {
      assert_int_equal(r, IMC_E_NOMEM);
      assert_string_equal(err.msg, "out of memory");
    }
    imc_buf_free(&out);
  }
  assert_true(done);
  imc_doc_free(doc);
}

/* jansson quotes the text near a syntax error, which may be a password: we never do. */
static void test_json_syntax_errors_never_quote_the_text(void **state)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;
  const char *text = "[{\"class\": \"system\", \"id\": \"s\",\n"
                     " \"disk.0.os.credentials.password\": \"S3cret!Pass\n\"}]";

  (void)state;
  imc_err_clear(&err);
  assert_int_equal(radl_json_parse("t.json", text, strlen(text), &doc, &err), IMC_E_PARSE);
  assert_null(strstr(err.msg, "S3cret"));
  assert_non_null(strstr(err.msg, "t.json:2:"));
}

/* The engine stores each VM's system alone: one element reads back as a one-system document. */
static void test_json_print_elem_reads_back_as_that_system(void **state)
{
  struct imc_doc *doc = text_ok("network n ()\nsystem s (cpu.count >= 2 and memory.size >= 1G "
                                "and net_interface.0.connection = 'n')\n");
  struct imc_doc *back;
  struct imc_buf b;
  struct imc_err err = {0};

  (void)state;
  imc_buf_init(&b, 1 << 16);
  assert_int_equal(radl_json_print_elem(doc->systems[0], &b, &err), 0);
  assert_int_equal(imc_buf_cstr(&b)[0], '[');
  back = json_ok(imc_buf_cstr(&b));
  assert_int_equal(back->nsystems, 1);
  assert_int_equal(back->nnetworks, 0);
  assert_true(imc_elem_equal(back->systems[0], doc->systems[0]));
  imc_doc_free(back);
  imc_buf_free(&b);
  imc_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_json_print_empty_document_is_empty_list),
    cmocka_unit_test(test_json_print_compact_keeps_feature_order),
    cmocka_unit_test(test_json_print_pretty_indents_and_sorts_keys),
    cmocka_unit_test(test_json_print_orders_objects_as_im),
    cmocka_unit_test(test_json_print_equal_bounds_give_plain_name),
    cmocka_unit_test(test_json_print_interval_gives_min_and_max),
    cmocka_unit_test(test_json_print_float_in_base_units_is_real),
    cmocka_unit_test(test_json_print_float_needing_17_digits_reads_back),
    cmocka_unit_test(test_json_print_list_and_contains),
    cmocka_unit_test(test_json_print_soft_groups),
    cmocka_unit_test(test_json_print_configures),
    cmocka_unit_test(test_json_print_deploy_cloud_only_when_set),
    cmocka_unit_test(test_json_print_contextualize_fields),
    cmocka_unit_test(test_json_print_version_operator_is_dropped_as_im),
    cmocka_unit_test(test_json_print_non_utf8_value_fails),
    cmocka_unit_test(test_json_print_reserved_feature_name_fails),
    cmocka_unit_test(test_json_print_numeric_name_ending_in_min_fails),
    cmocka_unit_test(test_json_print_colliding_keys_fail),
    cmocka_unit_test(test_json_print_integer_overflow_in_base_units_fails),
    cmocka_unit_test(test_json_print_past_buffer_max_is_toobig),
    cmocka_unit_test(test_json_parse_every_class),
    cmocka_unit_test(test_json_parse_min_max_give_inclusive_bounds),
    cmocka_unit_test(test_json_parse_min_with_string_is_plain_feature),
    cmocka_unit_test(test_json_parse_string_array_is_list),
    cmocka_unit_test(test_json_parse_object_array_is_contains),
    cmocka_unit_test(test_json_parse_softs_with_defaults),
    cmocka_unit_test(test_json_parse_integer_and_real_stay_apart),
    cmocka_unit_test(test_json_parse_references),
    cmocka_unit_test(test_json_parse_null_recipes_is_no_recipe),
    cmocka_unit_test(test_json_parse_contextualize_items_and_options),
    cmocka_unit_test(test_json_parse_positions_point_at_objects_and_keys),
    cmocka_unit_test(test_json_parse_json_to_text),
    cmocka_unit_test(test_json_parse_syntax_error_has_position),
    cmocka_unit_test(test_json_parse_empty_text_fails),
    cmocka_unit_test(test_json_parse_invalid_utf8_fails),
    cmocka_unit_test(test_json_parse_duplicate_key_fails),
    cmocka_unit_test(test_json_parse_top_level_object_fails),
    cmocka_unit_test(test_json_parse_element_not_object_fails),
    cmocka_unit_test(test_json_parse_missing_class_fails),
    cmocka_unit_test(test_json_parse_class_not_string_fails),
    cmocka_unit_test(test_json_parse_unknown_class_fails),
    cmocka_unit_test(test_json_parse_missing_id_fails),
    cmocka_unit_test(test_json_parse_empty_id_fails),
    cmocka_unit_test(test_json_parse_boolean_value_fails),
    cmocka_unit_test(test_json_parse_null_value_fails),
    cmocka_unit_test(test_json_parse_object_value_fails),
    cmocka_unit_test(test_json_parse_mixed_array_fails),
    cmocka_unit_test(test_json_parse_number_array_fails),
    cmocka_unit_test(test_json_parse_element_inside_contains_fails),
    cmocka_unit_test(test_json_parse_reference_not_boolean_fails),
    cmocka_unit_test(test_json_parse_ansible_reference_fails),
    cmocka_unit_test(test_json_parse_configure_without_recipes_fails),
    cmocka_unit_test(test_json_parse_recipes_not_string_fails),
    cmocka_unit_test(test_json_parse_deploy_without_count_fails),
    cmocka_unit_test(test_json_parse_deploy_count_not_number_fails),
    cmocka_unit_test(test_json_parse_contextualize_items_not_list_fails),
    cmocka_unit_test(test_json_parse_contextualize_item_without_system_fails),
    cmocka_unit_test(test_json_parse_contextualize_option_list_fails),
    cmocka_unit_test(test_json_parse_soft_weight_not_number_fails),
    cmocka_unit_test(test_json_parse_duplicate_system_fails_at_second),
    cmocka_unit_test(test_json_parse_second_description_fails),
    cmocka_unit_test(test_json_parse_disjoint_interval_fails_at_key),
    cmocka_unit_test(test_json_parse_conflicting_contains_fails),
    cmocka_unit_test(test_json_parse_deep_nesting_is_toobig),
    cmocka_unit_test(test_json_parse_nesting_at_limit_is_parsed),
    cmocka_unit_test(test_json_parse_brackets_in_strings_do_not_nest),
    cmocka_unit_test(test_json_parse_document_too_large_fails),
    cmocka_unit_test(test_json_round_trip_json_doc_json_is_stable),
    cmocka_unit_test(test_json_round_trip_compact_reads_back_equal),
    cmocka_unit_test(test_json_round_trip_text_doc_json_doc_is_equal),
    cmocka_unit_test(test_json_round_trip_json_doc_text_doc_is_equal),
    cmocka_unit_test(test_json_parse_allocation_failures_are_clean),
    cmocka_unit_test(test_json_print_allocation_failures_are_clean),
    cmocka_unit_test(test_json_syntax_errors_never_quote_the_text),
    cmocka_unit_test(test_json_print_elem_reads_back_as_that_system),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
