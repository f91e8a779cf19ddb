/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_print: the canonical layout of every construct, the values RADL text cannot hold, and
 * print -> parse -> equal over rich documents. */
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

/* --- building documents ---------------------------------------------------------------- */

static struct imc_feature *fnum(const char *name, enum imc_op op, int64_t v, const char *unit)
{
  struct imc_feature *f = imc_feature_new(name, op, IMC_V_NUM);

  assert_non_null(f);
  f->num.i = v;
  if (unit)
    assert_non_null(f->unit = imc_strdup(unit));
  return f;
}

static struct imc_feature *ffloat(const char *name, enum imc_op op, double v, const char *unit)
{
  struct imc_feature *f = fnum(name, op, 0, unit);

  f->num.is_float = true;
  f->num.f = v;
  return f;
}

static struct imc_feature *fstr(const char *name, enum imc_op op, const char *s)
{
  struct imc_feature *f = imc_feature_new(name, op, IMC_V_STR);

  assert_non_null(f);
  assert_non_null(f->str = imc_strdup(s));
  return f;
}

static struct imc_feature *flist(const char *name, size_t n, const char *const *items)
{
  struct imc_feature *f = imc_feature_new(name, IMC_OP_EQ, IMC_V_LIST);

  assert_non_null(f);
  if (n)
    assert_non_null(f->list = imc_calloc(n, sizeof *f->list));
  for (; f->nlist < n; f->nlist++)
    assert_non_null(f->list[f->nlist] = imc_strdup(items[f->nlist]));
  return f;
}

static void add(struct imc_features *fs, struct imc_feature *f)
{
  struct imc_err err;

  imc_err_clear(&err);
  assert_int_equal(imc_features_add(fs, f, IMC_POLICY_ERROR, IMC_POLICY_OTHER, NULL, &err), 0);
}

/* A `contains` or `soft` feature holding the features given (NULL-terminated). */
static struct imc_feature *fgroup(const char *name, int64_t weight, ...)
{
  struct imc_feature *f = imc_feature_new(name, name ? IMC_OP_CONTAINS : IMC_OP_SOFT,
                                          IMC_V_FEATURES);
  struct imc_feature *x;
  va_list ap;

  assert_non_null(f);
  assert_non_null(f->sub = imc_features_new());
  f->num.i = weight;
  va_start(ap, weight);
  while ((x = va_arg(ap, struct imc_feature *)) != NULL)
    add(f->sub, x);
  va_end(ap);
  return f;
}

static struct imc_elem *elem(struct imc_doc *doc, enum imc_elem_kind kind, const char *id)
{
  struct imc_elem *e = imc_elem_new(kind, id);
  struct imc_err err;

  assert_non_null(e);
  imc_err_clear(&err);
  assert_int_equal(imc_doc_add_elem(doc, e, IMC_IFPRESENT_ERROR, NULL, &err), 0);
  return e;
}

static struct imc_configure *configure(struct imc_doc *doc, const char *id, const char *recipe)
{
  struct imc_configure *c = imc_configure_new(id);
  struct imc_err err;

  assert_non_null(c);
  if (recipe)
    assert_non_null(c->recipe = imc_strdup(recipe));
  imc_err_clear(&err);
  assert_int_equal(imc_doc_add_configure(doc, c, IMC_IFPRESENT_ERROR, NULL, &err), 0);
  return c;
}

static void deploy(struct imc_doc *doc, const char *system, int64_t n, const char *cloud)
{
  struct imc_deploy *d = imc_calloc(1, sizeof *d);

  assert_non_null(d);
  assert_non_null(d->system = imc_strdup(system));
  d->count.i = n;
  if (cloud)
    assert_non_null(d->cloud = imc_strdup(cloud));
  assert_int_equal(imc_doc_add_deploy(doc, d, NULL), 0);
}

static void ctxt_item(struct imc_doc *doc, const char *system, const char *conf, int64_t step,
                      const char *tool)
{
  struct imc_ctxt_item *it = imc_calloc(1, sizeof *it);

  assert_non_null(it);
  assert_non_null(it->system = imc_strdup(system));
  assert_non_null(it->configure = imc_strdup(conf));
  it->step.i = step;
  if (tool)
    assert_non_null(it->tool = imc_strdup(tool));
  doc->ctxt.present = true;
  assert_int_equal(imc_ctxt_add_item(&doc->ctxt, it), 0);
}

static struct imc_doc *new_doc(void)
{
  struct imc_doc *doc = imc_doc_new("t.radl");

  assert_non_null(doc);
  return doc;
}

/* A system "s" holding one feature, for the value tests. */
static struct imc_doc *doc_with(struct imc_feature *f)
{
  struct imc_doc *doc = new_doc();

  add(&elem(doc, IMC_ELEM_SYSTEM, "s")->feats, f);
  return doc;
}

/* --- printing --------------------------------------------------------------------------- */

static void print_is(const struct imc_doc *doc, const char *want)
{
  struct imc_buf out;
  struct imc_err err;

  imc_err_clear(&err);
  imc_buf_init(&out, IMC_MAX_DOC);
  assert_int_equal(radl_print(doc, &out, &err), 0);
  assert_int_equal(err.code, IMC_OK);
  assert_string_equal(imc_buf_cstr(&out), want);
  imc_buf_free(&out);
}

/* Frees doc. */
static void print_is_free(struct imc_doc *doc, const char *want)
{
  print_is(doc, want);
  imc_doc_free(doc);
}

/* Frees doc.  The output buffer must be left as it was. */
static void print_fails_free(struct imc_doc *doc, int code, const char *msg)
{
  struct imc_buf out;
  struct imc_err err;

  imc_err_clear(&err);
  imc_buf_init(&out, IMC_MAX_DOC);
  imc_buf_adds(&out, "kept");
  assert_int_equal(radl_print(doc, &out, &err), code);
  assert_int_equal(err.code, code);
  assert_string_equal(err.msg, msg);
  assert_string_equal(imc_buf_cstr(&out), "kept");
  imc_buf_free(&out);
  imc_doc_free(doc);
}

/* The value of feature "v" of system "s" printed alone. */
static void value_is(struct imc_feature *f, const char *want_line)
{
  char want[512];

  snprintf(want, sizeof want, "system s (\n  %s\n)\n", want_line);
  print_is_free(doc_with(f), want);
}

static struct imc_doc *parse_ok(const char *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_parse("rt.radl", text, strlen(text), NULL, &doc, &err) != 0)
    fail_msg("parse failed: %s\n--- text ---\n%s", err.msg, text);
  return doc;
}

/* print -> parse gives an equal document, and printing that again gives the same text. */
static void assert_round_trip(const struct imc_doc *doc)
{
  struct imc_buf a, b;
  struct imc_err err;
  struct imc_doc *back;

  imc_err_clear(&err);
  imc_buf_init(&a, IMC_MAX_DOC);
  imc_buf_init(&b, IMC_MAX_DOC);
  assert_int_equal(radl_print(doc, &a, &err), 0);
  back = parse_ok(imc_buf_cstr(&a));
  if (!imc_doc_equal(doc, back))
    fail_msg("not equal after print -> parse:\n%s", imc_buf_cstr(&a));
  assert_int_equal(radl_print(back, &b, &err), 0);
  assert_string_equal(imc_buf_cstr(&a), imc_buf_cstr(&b));
  imc_doc_free(back);
  imc_buf_free(&a);
  imc_buf_free(&b);
}

/* --- layout ---------------------------------------------------------------------------- */

static void test_print_empty_document_is_empty_text(void **state)
{
  (void)state;
  print_is_free(new_doc(), "");
}

static void test_print_full_layout_matches_canonical_form(void **state)
{
  static const char *const urls[] = {"one://a/1", "one://b/2"};
  struct imc_doc *doc = new_doc();
  struct imc_elem *e;
  struct imc_feature *opt;

  (void)state;
  add(&elem(doc, IMC_ELEM_DESCRIPTION, "app")->feats, fstr("name", IMC_OP_EQ, "My app"));
  e = elem(doc, IMC_ELEM_NETWORK, "public");
  add(&e->feats, fstr("outbound", IMC_OP_EQ, "yes"));
  add(&e->feats, fstr("outports", IMC_OP_EQ, "22,80"));
  e = elem(doc, IMC_ELEM_SYSTEM, "front");
  add(&e->feats, fnum("cpu.count", IMC_OP_GE, 2, NULL));
  add(&e->feats, fnum("memory.size", IMC_OP_GE, 512, "M"));
  add(&e->feats, flist("disk.0.image.url", 2, urls));
  add(&e->feats, fgroup("disk.0.applications", 0,
                        fstr("name", IMC_OP_EQ, "ansible.roles.grycap.slurm"),
                        fstr("version", IMC_OP_EQ, "1.0"), NULL));
  add(&e->feats, fgroup(NULL, 10, fstr("cpu.arch", IMC_OP_EQ, "x86_64"), NULL));
  configure(doc, "front", "---\n- tasks: ...");
  doc->ctxt.max_time.i = 1200;
  opt = fstr("ansible_version", IMC_OP_GE, "2.9");
  assert_int_equal(imc_ctxt_add_option(&doc->ctxt, opt), 0);
  ctxt_item(doc, "front", "front", 1, NULL);
  ctxt_item(doc, "wn", "wn", 0, "cloud_init");
  deploy(doc, "front", 1, NULL);
  deploy(doc, "wn", 2, "cloud1");
  print_is_free(doc, "description app (\n"
                     "  name = 'My app'\n"
                     ")\n"
                     "\n"
                     "network public (\n"
                     "  outbound = 'yes' and\n"
                     "  outports = '22,80'\n"
                     ")\n"
                     "\n"
                     "system front (\n"
                     "  cpu.count >= 2 and\n"
                     "  memory.size >= 512M and\n"
                     "  disk.0.image.url = ['one://a/1', 'one://b/2'] and\n"
                     "  disk.0.applications contains (\n"
                     "    name = 'ansible.roles.grycap.slurm' and\n"
                     "    version = '1.0'\n"
                     "  ) and\n"
                     "  soft 10 (\n"
                     "    cpu.arch = 'x86_64'\n"
                     "  )\n"
                     ")\n"
                     "\n"
                     "configure front (\n"
                     "@begin\n"
                     "---\n"
                     "- tasks: ...\n"
                     "@end\n"
                     ")\n"
                     "\n"
                     "contextualize 1200 (\n"
                     "  option ansible_version >= '2.9'\n"
                     "  system front configure front step 1\n"
                     "  system wn configure wn with cloud_init\n"
                     ")\n"
                     "\n"
                     "deploy front 1\n"
                     "deploy wn 2 cloud1\n");
}

static void test_print_orders_sections_as_im(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  /* Added in the reverse of the printing order. */
  deploy(doc, "a", 1, NULL);
  doc->ctxt.present = true;
  configure(doc, "c", NULL);
  elem(doc, IMC_ELEM_SYSTEM, "a");
  elem(doc, IMC_ELEM_NETWORK, "n");
  add(&elem(doc, IMC_ELEM_ANSIBLE, "h")->feats, fstr("host", IMC_OP_EQ, "x"));
  elem(doc, IMC_ELEM_DESCRIPTION, "d")->reference = true;
  print_is_free(doc, "description d\n\nansible h (\n  host = 'x'\n)\n\nnetwork n ()\n\n"
                     "system a ()\n\nconfigure c ()\n\ncontextualize ()\n\ndeploy a 1\n");
}

static void test_print_references_are_one_line(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_configure *c;

  (void)state;
  elem(doc, IMC_ELEM_NETWORK, "net")->reference = true;
  elem(doc, IMC_ELEM_SYSTEM, "front")->reference = true;
  c = configure(doc, "x", NULL);
  c->reference = true;
  print_is_free(doc, "network net\n\nsystem front\n\nconfigure x\n");
}

static void test_print_element_without_features_has_empty_parens(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  elem(doc, IMC_ELEM_SYSTEM, "front");
  elem(doc, IMC_ELEM_SYSTEM, "back");
  print_is_free(doc, "system front ()\n\nsystem back ()\n");
}

static void test_print_ansible_reference_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  elem(doc, IMC_ELEM_ANSIBLE, "h")->reference = true;
  print_fails_free(doc, IMC_E_INVAL,
                   "ansible host 'h' is a reference, which RADL text cannot write");
}

static void test_print_description_alone_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  elem(doc, IMC_ELEM_DESCRIPTION, "d");
  print_fails_free(doc, IMC_E_INVAL, "a description alone cannot be written as RADL text: the "
                                     "grammar needs another sentence after it");
}

/* --- numbers ----------------------------------------------------------------------------- */

static void test_print_range_with_equal_bounds_is_one_feature(void **state)
{
  (void)state;
  value_is(fnum("cpu.count", IMC_OP_EQ, 4, NULL), "cpu.count = 4");
}

static void test_print_range_prints_lower_then_upper(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_elem *e = elem(doc, IMC_ELEM_SYSTEM, "s");

  (void)state;
  add(&e->feats, fnum("memory.size", IMC_OP_LT, 8, "G"));
  add(&e->feats, fnum("memory.size", IMC_OP_GT, 1024, "M"));
  print_is_free(doc, "system s (\n  memory.size > 1024M and\n  memory.size < 8G\n)\n");
}

static void test_print_range_of_equal_values_with_other_operators_keeps_both(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_elem *e = elem(doc, IMC_ELEM_SYSTEM, "s");

  (void)state;
  add(&e->feats, fnum("cpu.count", IMC_OP_GE, 2, NULL));
  add(&e->feats, fnum("cpu.count", IMC_OP_LE, 2, NULL));
  print_is_free(doc, "system s (\n  cpu.count >= 2 and\n  cpu.count <= 2\n)\n");
}

static void test_print_range_bound_written_with_equals_becomes_inclusive(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_elem *e = elem(doc, IMC_ELEM_SYSTEM, "s");
  struct imc_prop *p;

  (void)state;
  add(&e->feats, fnum("cpu.count", IMC_OP_EQ, 2, NULL));
  /* A hand-made interval [2, 8] whose bounds both say '=': only >= and <= read back so. */
  p = &e->feats.props[0];
  p->hi->num.i = 8;
  print_is(doc, "system s (\n  cpu.count >= 2 and\n  cpu.count <= 8\n)\n");
  assert_round_trip(doc);
  imc_doc_free(doc);
}

static void test_print_integer_with_unit_has_no_space(void **state)
{
  (void)state;
  value_is(fnum("disk.0.size", IMC_OP_GE, 20, "GB"), "disk.0.size >= 20GB");
}

static void test_print_float_with_unit_has_no_space(void **state)
{
  (void)state;
  value_is(ffloat("memory.size", IMC_OP_GE, 1.5, "G"), "memory.size >= 1.5G");
}

static void test_print_unit_starting_with_dot_is_spaced(void **state)
{
  (void)state;
  /* "2.G" would read as the float 2. with unit G. */
  value_is(fnum("x", IMC_OP_EQ, 2, ".G"), "x = 2 .G");
}

static void test_print_float_whole_keeps_point_zero(void **state)
{
  (void)state;
  value_is(ffloat("x", IMC_OP_EQ, 2.0, NULL), "x = 2.0");
}

static void test_print_float_tenth_is_shortest(void **state)
{
  (void)state;
  value_is(ffloat("x", IMC_OP_EQ, 0.1, NULL), "x = 0.1");
}

static void test_print_float_small_has_no_exponent(void **state)
{
  (void)state;
  value_is(ffloat("x", IMC_OP_EQ, 0.001, NULL), "x = 0.001");
}

static void test_print_float_large_has_no_exponent(void **state)
{
  (void)state;
  value_is(ffloat("x", IMC_OP_EQ, 1e20, NULL), "x = 100000000000000000000.0");
}

static void test_print_float_zero_is_point_zero(void **state)
{
  (void)state;
  value_is(ffloat("x", IMC_OP_EQ, 0.0, NULL), "x = 0.0");
}

static void test_print_float_needing_17_digits_reads_back(void **state)
{
  struct imc_doc *doc = doc_with(ffloat("x", IMC_OP_EQ, 0.1 + 0.2, NULL));

  (void)state;
  print_is(doc, "system s (\n  x = 0.30000000000000004\n)\n");
  assert_round_trip(doc);
  imc_doc_free(doc);
}

static void test_print_float_extremes_read_back(void **state)
{
  static const double values[] = {5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                                  123456.789, 1e-7, 3.0e15};

  (void)state;
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    struct imc_doc *doc = doc_with(ffloat("x", IMC_OP_GE, values[i], NULL));

    assert_round_trip(doc);
    imc_doc_free(doc);
  }
}

static void test_print_negative_integer_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(fnum("cpu.count", IMC_OP_GE, -1, NULL)), IMC_E_INVAL,
                   "value of 'cpu.count': a negative or infinite number cannot be written as "
                   "RADL text");
}

static void test_print_negative_float_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(ffloat("price", IMC_OP_LE, -0.5, NULL)), IMC_E_INVAL,
                   "value of 'price': a negative or infinite number cannot be written as RADL "
                   "text");
}

static void test_print_infinite_float_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(ffloat("price", IMC_OP_LE, INFINITY, NULL)), IMC_E_INVAL,
                   "value of 'price': a negative or infinite number cannot be written as RADL "
                   "text");
}

/* --- strings ------------------------------------------------------------------------------ */

static void test_print_string_uses_single_quotes(void **state)
{
  (void)state;
  value_is(fstr("x", IMC_OP_EQ, "plain text"), "x = 'plain text'");
}

static void test_print_string_escapes_single_quote(void **state)
{
  (void)state;
  value_is(fstr("x", IMC_OP_EQ, "it's"), "x = 'it\\'s'");
}

static void test_print_string_keeps_backslash_pairs(void **state)
{
  (void)state;
  value_is(fstr("x", IMC_OP_EQ, "a\\nb\\\\c"), "x = 'a\\nb\\\\c'");
}

static void test_print_string_backslash_before_quote_uses_double_quotes(void **state)
{
  (void)state;
  /* The value a\'b: in single quotes the backslash would pair with the escape's backslash. */
  value_is(fstr("x", IMC_OP_EQ, "a\\'b"), "x = \"a\\'b\"");
}

static void test_print_string_with_both_quotes_escapes_double(void **state)
{
  (void)state;
  value_is(fstr("x", IMC_OP_EQ, "\\'\""), "x = \"\\'\\\"\"");
}

static void test_print_string_with_newline_is_kept(void **state)
{
  (void)state;
  value_is(fstr("x", IMC_OP_EQ, "line1\nline2"), "x = 'line1\nline2'");
}

static void test_print_string_ending_in_backslash_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(fstr("x", IMC_OP_EQ, "a\\")), IMC_E_INVAL,
                   "value of 'x' cannot be written as RADL text");
}

static void test_print_string_no_quoting_reads_back_fails(void **state)
{
  (void)state;
  /* a\'b\"c: the backslash pairs with the escape in either quoting. */
  print_fails_free(doc_with(fstr("x", IMC_OP_EQ, "a\\'b\\\"c")), IMC_E_INVAL,
                   "value of 'x' cannot be written as RADL text");
}

static void test_print_string_random_literal_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(fstr("pass", IMC_OP_EQ, "random(8)")), IMC_E_INVAL,
                   "value of 'pass' cannot be written as RADL text");
}

static void test_print_string_almost_random_is_written(void **state)
{
  (void)state;
  value_is(fstr("x", IMC_OP_EQ, "random(8a)"), "x = 'random(8a)'");
}

static void test_print_version_string_keeps_operator(void **state)
{
  (void)state;
  value_is(fstr("disk.0.os.version", IMC_OP_GE, "7"), "disk.0.os.version >= '7'");
}

static void test_print_list_quotes_each_item(void **state)
{
  static const char *const items[] = {"a", "it's", "c"};

  (void)state;
  value_is(flist("x", 3, items), "x = ['a', 'it\\'s', 'c']");
}

static void test_print_empty_list_is_brackets(void **state)
{
  (void)state;
  value_is(flist("x", 0, NULL), "x = []");
}

static void test_print_list_item_random_fails(void **state)
{
  static const char *const items[] = {"a", "random(3)"};

  (void)state;
  print_fails_free(doc_with(flist("x", 2, items)), IMC_E_INVAL,
                   "value of 'x' cannot be written as RADL text");
}

/* --- identifiers ---------------------------------------------------------------------------- */

static void test_print_feature_name_with_space_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(fstr("x y", IMC_OP_EQ, "v")), IMC_E_INVAL,
                   "'x y' cannot be written as a RADL identifier");
}

static void test_print_reserved_word_id_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  elem(doc, IMC_ELEM_SYSTEM, "contains");
  print_fails_free(doc, IMC_E_INVAL, "'contains' cannot be written as a RADL identifier");
}

static void test_print_id_starting_with_digit_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  elem(doc, IMC_ELEM_NETWORK, "0net");
  print_fails_free(doc, IMC_E_INVAL, "'0net' cannot be written as a RADL identifier");
}

static void test_print_unit_that_is_not_identifier_fails(void **state)
{
  (void)state;
  print_fails_free(doc_with(fnum("x", IMC_OP_EQ, 1, "G B")), IMC_E_INVAL,
                   "'G B' cannot be written as a RADL identifier");
}

static void test_print_deploy_cloud_must_be_identifier(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  elem(doc, IMC_ELEM_SYSTEM, "s");
  deploy(doc, "s", 1, "my cloud");
  print_fails_free(doc, IMC_E_INVAL, "'my cloud' cannot be written as a RADL identifier");
}

/* --- nested features ------------------------------------------------------------------------ */

static void test_print_empty_contains_is_empty_parens(void **state)
{
  (void)state;
  value_is(fgroup("disk.0.applications", 0, NULL), "disk.0.applications contains ()");
}

static void test_print_soft_group_with_weight(void **state)
{
  (void)state;
  value_is(fgroup(NULL, 25, fnum("cpu.count", IMC_OP_GE, 4, NULL), NULL),
           "soft 25 (\n    cpu.count >= 4\n  )");
}

static void test_print_nested_groups_indent_two_more(void **state)
{
  struct imc_feature *inner = fgroup("apps", 0, fstr("name", IMC_OP_EQ, "a"), NULL);

  (void)state;
  value_is(fgroup(NULL, 5, inner, fstr("y", IMC_OP_EQ, "z"), NULL),
           "soft 5 (\n    apps contains (\n      name = 'a'\n    ) and\n    y = 'z'\n  )");
}

static void test_print_several_contains_items_in_order(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_elem *e = elem(doc, IMC_ELEM_SYSTEM, "s");

  (void)state;
  add(&e->feats, fgroup("apps", 0, fstr("name", IMC_OP_EQ, "b"), NULL));
  add(&e->feats, fgroup("apps", 0, fstr("name", IMC_OP_EQ, "a"), NULL));
  print_is_free(doc, "system s (\n  apps contains (\n    name = 'b'\n  ) and\n"
                     "  apps contains (\n    name = 'a'\n  )\n)\n");
}

/* --- configure ---------------------------------------------------------------------------- */

static void test_print_configure_without_recipe_is_empty_parens(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  configure(doc, "front", NULL);
  print_is_free(doc, "configure front ()\n");
}

static void test_print_configure_recipe_between_begin_and_end(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  configure(doc, "front", "- hosts: all\n  tasks: []\n");
  print_is(doc, "configure front (\n@begin\n- hosts: all\n  tasks: []\n\n@end\n)\n");
  assert_round_trip(doc);
  imc_doc_free(doc);
}

static void test_print_configure_empty_recipe_reads_back(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  configure(doc, "front", "");
  print_is(doc, "configure front (\n@begin\n\n@end\n)\n");
  assert_round_trip(doc);
  imc_doc_free(doc);
}

static void test_print_configure_recipe_with_end_line_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  configure(doc, "front", "a: 1\n@end of it\nb: 2");
  print_fails_free(doc, IMC_E_INVAL, "the recipe of configure 'front' has a line starting with "
                                     "@end, which RADL text cannot hold");
}

static void test_print_configure_recipe_starting_with_end_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  configure(doc, "front", "@end");
  print_fails_free(doc, IMC_E_INVAL, "the recipe of configure 'front' has a line starting with "
                                     "@end, which RADL text cannot hold");
}

static void test_print_configure_recipe_with_end_inside_a_line_is_written(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  configure(doc, "front", "msg: ' @end'");
  print_is(doc, "configure front (\n@begin\nmsg: ' @end'\n@end\n)\n");
  assert_round_trip(doc);
  imc_doc_free(doc);
}

/* --- contextualize and deploy ---------------------------------------------------------------- */

static void test_print_contextualize_empty(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  doc->ctxt.present = true;
  print_is_free(doc, "contextualize ()\n");
}

static void test_print_contextualize_empty_with_max_time(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  doc->ctxt.present = true;
  doc->ctxt.max_time.i = 300;
  print_is_free(doc, "contextualize 300 ()\n");
}

static void test_print_contextualize_float_zero_max_time_is_omitted(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  doc->ctxt.present = true;
  doc->ctxt.max_time.is_float = true;
  print_is_free(doc, "contextualize ()\n");
}

static void test_print_contextualize_absent_prints_nothing(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  doc->ctxt.max_time.i = 300; /* not present: ignored */
  print_is_free(doc, "");
}

static void test_print_contextualize_item_with_step_and_tool(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  ctxt_item(doc, "front", "conf", 3, "cloud_init");
  print_is_free(doc, "contextualize (\n  system front configure conf step 3 with cloud_init\n)\n");
}

static void test_print_contextualize_numeric_option(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  doc->ctxt.present = true;
  assert_int_equal(imc_ctxt_add_option(&doc->ctxt, fnum("retries", IMC_OP_LE, 3, NULL)), 0);
  print_is_free(doc, "contextualize (\n  option retries <= 3\n)\n");
}

static void test_print_contextualize_option_with_unit_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  doc->ctxt.present = true;
  assert_int_equal(imc_ctxt_add_option(&doc->ctxt, fnum("mem", IMC_OP_EQ, 3, "G")), 0);
  print_fails_free(doc, IMC_E_INVAL, "option 'mem' cannot be written as RADL text: options take "
                                     "a string or a number without unit");
}

static void test_print_deploys_are_consecutive_lines(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  deploy(doc, "a", 1, NULL);
  deploy(doc, "b", 0, "c1");
  deploy(doc, "a", 2, NULL);
  print_is_free(doc, "deploy a 1\ndeploy b 0 c1\ndeploy a 2\n");
}

static void test_print_negative_deploy_count_fails(void **state)
{
  struct imc_doc *doc = new_doc();

  (void)state;
  deploy(doc, "a", -1, NULL);
  print_fails_free(doc, IMC_E_INVAL, "deploy count: a negative or infinite number cannot be "
                                     "written as RADL text");
}

/* --- the output buffer ------------------------------------------------------------------------ */

static void test_print_appends_to_buffer(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  deploy(doc, "a", 1, NULL);
  imc_buf_init(&out, 100);
  imc_buf_adds(&out, "# head\n");
  assert_int_equal(radl_print(doc, &out, &err), 0);
  assert_string_equal(imc_buf_cstr(&out), "# head\ndeploy a 1\n");
  imc_buf_free(&out);
  imc_doc_free(doc);
}

static void test_print_past_buffer_max_is_toobig(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  deploy(doc, "a", 1, NULL);
  imc_err_clear(&err);
  imc_buf_init(&out, 5);
  assert_int_equal(radl_print(doc, &out, &err), IMC_E_TOOBIG);
  assert_string_equal(err.msg, "RADL text larger than 5 bytes");
  assert_int_equal(out.len, 0);
  imc_buf_free(&out);
  imc_doc_free(doc);
}

static const char rich_text[] =
  "description app (\n"
  "  name = 'Cluster' and\n"
  "  owner = 'it\\'s me'\n"
  ")\n"
  "ansible master (host = 'ans.example.org' and credentials.username = 'u' and\n"
  "  credentials.password = 'p')\n"
  "network publica (outbound = 'yes' and outports = '22,8899/tcp-8800/tcp')\n"
  "network privada ()\n"
  "network referenced\n"
  "system front (\n"
  "  cpu.arch = 'x86_64' and cpu.count >= 2 and cpu.count <= 16 and\n"
  "  memory.size >= 1.5G and memory.size < 16GiB and price <= 0.25 and\n"
  "  net_interface.0.connection = 'publica' and net_interface.0.dns_name = 'front' and\n"
  "  net_interface.1.connection = 'privada' and\n"
  "  disk.0.image.url = ['one://server/1', \"docker://img:latest\"] and\n"
  "  disk.0.os.name = 'linux' and disk.0.os.version >= '7' and\n"
  "  disk.0.os.credentials.password = 'Pa\\\\ss' and\n"
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
  "configure front (\n"
  "@begin\n"
  "---\n"
  "- hosts: all\n"
  "  tasks:\n"
  "  - debug: msg=\"hello @end\"\n"
  "\n"
  "@end\n"
  ")\n"
  "configure wn ()\n"
  "configure referenced\n"
  "contextualize 1800 (\n"
  "  option ansible_version >= '2.9'\n"
  "  option retries = 3\n"
  "  system front configure front step 1\n"
  "  system wn configure wn step 2 with cloud_init\n"
  "  system wn configure front\n"
  ")\n"
  "deploy front 1\n"
  "deploy wn 3 cloud1\n"
  "deploy wn 0\n";

static void test_print_round_trips_rich_text(void **state)
{
  struct imc_doc *doc = parse_ok(rich_text);

  (void)state;
  assert_round_trip(doc);
  imc_doc_free(doc);
}

static void test_print_round_trips_small_texts(void **state)
{
  static const char *const texts[] = {
    "system s (x = 1 and x = 1)",
    "system s (x > 1 and x < 1000.0)",
    "system s (x >= 5 and x = 5)",
    "system s (x <= 5 and x = 5)",
    "system s (a = '' and b = [] and c = [''])",
    "system s (a = 'tab\there' and b = 'quote\\' and back\\\\slash')",
    "system s (a = \"dq\\\"x\" and b = \"sq'x\")",
    "system s (soft 0 () and soft 1 (x = 1) and x contains ())",
    "network n (outbound = 'no')\nsystem s (net_interface.0.connection = 'n')\ndeploy s 2",
    "description d\nsystem s",
    "contextualize ()",
    "contextualize 10 ()\ncontextualize 5 (system a configure b)",
    "contextualize (option o = 1.5 option p < 'v')",
    "configure c (\n@begin\n\n\nx\n\n@end\n)",
    "configure c (\n@begin\r\nline\r\n@end\n)",
    "deploy a 1.0 c\ndeploy b 2",
  };

  (void)state;
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    struct imc_doc *doc = parse_ok(texts[i]);

    assert_round_trip(doc);
    imc_doc_free(doc);
  }
}

static void test_print_round_trips_tricky_strings(void **state)
{
  static const char *const values[] = {
    "", "'", "\"", "\\\\", "\\'", "\\\"", "'\"", "a\\'b", "\\n", "x'\\\\", "random",
    "random()", "random(1", "ünïcödé", "#not a comment", "@end", "\n@end\n",
  };

  (void)state;
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    struct imc_doc *doc = doc_with(fstr("v", IMC_OP_EQ, values[i]));

    assert_round_trip(doc);
    imc_doc_free(doc);
  }
}

static void test_print_round_trips_built_document(void **state)
{
  struct imc_doc *doc = new_doc();
  struct imc_elem *e;

  (void)state;
  e = elem(doc, IMC_ELEM_SYSTEM, "s");
  add(&e->feats, ffloat("a", IMC_OP_GT, 0.1, NULL));
  add(&e->feats, fnum("b", IMC_OP_LT, 10, "Ki"));
  add(&e->feats, fgroup(NULL, 3, fgroup("c", 0, fstr("name", IMC_OP_EQ, "n"), NULL), NULL));
  configure(doc, "s", "x\n");
  ctxt_item(doc, "s", "s", 2, "Ansible");
  doc->ctxt.max_time.is_float = true;
  doc->ctxt.max_time.f = 12.5;
  deploy(doc, "s", 7, "cloud-1.a");
  assert_round_trip(doc);
  imc_doc_free(doc);
}

/* Every allocation of a print fails in turn: each run ends in IMC_E_NOMEM or success. */
static void test_print_allocation_failures_are_clean(void **state)
{
  struct imc_doc *doc = parse_ok(rich_text);
  bool done = false;

  (void)state;
  for (unsigned long n = 1; !done && n < 100000; n++) {
    struct imc_buf out;
    struct imc_err err;
    int r;

    imc_err_clear(&err);
    imc_buf_init(&out, IMC_MAX_DOC);
    imc_alloc_fail_at(n);
    r = radl_print(doc, &out, &err);
    imc_alloc_fail_at(0);
    if (r == 0) {
      done = true;
    } else {
      assert_int_equal(r, IMC_E_NOMEM);
      assert_string_equal(err.msg, "out of memory");
      assert_int_equal(out.len, 0);
    }
    imc_buf_free(&out);
  }
  assert_true(done);
  imc_doc_free(doc);
}

/* A print that does not fit leaves the caller's buffer as it was, error state included. */
static void test_print_too_large_leaves_out_untouched(void **state)
{
  struct imc_doc *doc = parse_ok("system s ( cpu.count >= 1 )");
  struct imc_buf out;
  struct imc_err err;

  (void)state;
  imc_err_clear(&err);
  imc_buf_init(&out, 16);
  imc_buf_adds(&out, "before");
  assert_int_equal(radl_print(doc, &out, &err), IMC_E_TOOBIG);
  assert_string_equal(imc_buf_cstr(&out), "before");
  assert_int_equal(imc_buf_err(&out), 0);
  imc_err_clear(&err);
  assert_int_equal(radl_json_print(doc, false, &out, &err), IMC_E_TOOBIG);
  assert_string_equal(imc_buf_cstr(&out), "before");
  assert_int_equal(imc_buf_err(&out), 0);
  imc_buf_free(&out);
  imc_doc_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_print_empty_document_is_empty_text),
    cmocka_unit_test(test_print_full_layout_matches_canonical_form),
    cmocka_unit_test(test_print_orders_sections_as_im),
    cmocka_unit_test(test_print_references_are_one_line),
    cmocka_unit_test(test_print_element_without_features_has_empty_parens),
    cmocka_unit_test(test_print_ansible_reference_fails),
    cmocka_unit_test(test_print_description_alone_fails),
    cmocka_unit_test(test_print_range_with_equal_bounds_is_one_feature),
    cmocka_unit_test(test_print_range_prints_lower_then_upper),
    cmocka_unit_test(test_print_range_of_equal_values_with_other_operators_keeps_both),
    cmocka_unit_test(test_print_range_bound_written_with_equals_becomes_inclusive),
    cmocka_unit_test(test_print_integer_with_unit_has_no_space),
    cmocka_unit_test(test_print_float_with_unit_has_no_space),
    cmocka_unit_test(test_print_unit_starting_with_dot_is_spaced),
    cmocka_unit_test(test_print_float_whole_keeps_point_zero),
    cmocka_unit_test(test_print_float_tenth_is_shortest),
    cmocka_unit_test(test_print_float_small_has_no_exponent),
    cmocka_unit_test(test_print_float_large_has_no_exponent),
    cmocka_unit_test(test_print_float_zero_is_point_zero),
    cmocka_unit_test(test_print_float_needing_17_digits_reads_back),
    cmocka_unit_test(test_print_float_extremes_read_back),
    cmocka_unit_test(test_print_negative_integer_fails),
    cmocka_unit_test(test_print_negative_float_fails),
    cmocka_unit_test(test_print_infinite_float_fails),
    cmocka_unit_test(test_print_string_uses_single_quotes),
    cmocka_unit_test(test_print_string_escapes_single_quote),
    cmocka_unit_test(test_print_string_keeps_backslash_pairs),
    cmocka_unit_test(test_print_string_backslash_before_quote_uses_double_quotes),
    cmocka_unit_test(test_print_string_with_both_quotes_escapes_double),
    cmocka_unit_test(test_print_string_with_newline_is_kept),
    cmocka_unit_test(test_print_string_ending_in_backslash_fails),
    cmocka_unit_test(test_print_string_no_quoting_reads_back_fails),
    cmocka_unit_test(test_print_string_random_literal_fails),
    cmocka_unit_test(test_print_string_almost_random_is_written),
    cmocka_unit_test(test_print_version_string_keeps_operator),
    cmocka_unit_test(test_print_list_quotes_each_item),
    cmocka_unit_test(test_print_empty_list_is_brackets),
    cmocka_unit_test(test_print_list_item_random_fails),
    cmocka_unit_test(test_print_feature_name_with_space_fails),
    cmocka_unit_test(test_print_reserved_word_id_fails),
    cmocka_unit_test(test_print_id_starting_with_digit_fails),
    cmocka_unit_test(test_print_unit_that_is_not_identifier_fails),
    cmocka_unit_test(test_print_deploy_cloud_must_be_identifier),
    cmocka_unit_test(test_print_empty_contains_is_empty_parens),
    cmocka_unit_test(test_print_soft_group_with_weight),
    cmocka_unit_test(test_print_nested_groups_indent_two_more),
    cmocka_unit_test(test_print_several_contains_items_in_order),
    cmocka_unit_test(test_print_configure_without_recipe_is_empty_parens),
    cmocka_unit_test(test_print_configure_recipe_between_begin_and_end),
    cmocka_unit_test(test_print_configure_empty_recipe_reads_back),
    cmocka_unit_test(test_print_configure_recipe_with_end_line_fails),
    cmocka_unit_test(test_print_configure_recipe_starting_with_end_fails),
    cmocka_unit_test(test_print_configure_recipe_with_end_inside_a_line_is_written),
    cmocka_unit_test(test_print_contextualize_empty),
    cmocka_unit_test(test_print_contextualize_empty_with_max_time),
    cmocka_unit_test(test_print_contextualize_float_zero_max_time_is_omitted),
    cmocka_unit_test(test_print_contextualize_absent_prints_nothing),
    cmocka_unit_test(test_print_contextualize_item_with_step_and_tool),
    cmocka_unit_test(test_print_contextualize_numeric_option),
    cmocka_unit_test(test_print_contextualize_option_with_unit_fails),
    cmocka_unit_test(test_print_deploys_are_consecutive_lines),
    cmocka_unit_test(test_print_negative_deploy_count_fails),
    cmocka_unit_test(test_print_appends_to_buffer),
    cmocka_unit_test(test_print_past_buffer_max_is_toobig),
    cmocka_unit_test(test_print_round_trips_rich_text),
    cmocka_unit_test(test_print_round_trips_small_texts),
    cmocka_unit_test(test_print_round_trips_tricky_strings),
    cmocka_unit_test(test_print_round_trips_built_document),
    cmocka_unit_test(test_print_allocation_failures_are_clean),
    cmocka_unit_test(test_print_too_large_leaves_out_untouched),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
