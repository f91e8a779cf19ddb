/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Runs every document of test/data/radl through the readers, the checker and the writers.
 * valid/NAME.radl must parse, check, print, re-parse to an equal document, print the same
 * text twice, and survive a trip through the JSON form; its warnings must be exactly those
 * of valid/NAME.warn (none when that file is absent); a valid/NAME.nojson marker says, with
 * the exact failure, why IM's JSON form cannot carry that document.  invalid/NAME.radl must
 * fail, in parse or in check, with exactly the first line of invalid/NAME.err.
 * json/NAME.json must parse, check, and print back to JSON and to RADL text that parse to an
 * equal document.  Each document is read with its base name as the source, so messages read
 * "NAME.radl:L:C: ...".  A failure names the file; every file is tried before the test fails,
 * so one run shows them all.  test/data/radl/README.md describes the layout. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imc/alloc.h"
#include "imc/buf.h"
#include "imc/err.h"
#include "imc/model.h"
#include "imc/radl.h"

#define CORPUS_DIR IMC_TEST_DATA "/radl"
#define MAX_FILES  512
#define MAX_PATH   4096
#define MAX_NAME   256 /* a file name, sidecar names included */
#define MAX_TEXT   (8u * 1024 * 1024)

/* The sorted names (with the suffix) of the files of one corpus directory. */
struct listing {
  char *names[MAX_FILES];
  size_t n;
};

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);

  return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Lists sub/ *suffix; a directory that cannot be read fails the test at once. */
static void list_dir(const char *sub, const char *suffix, struct listing *out)
{
  char dir[MAX_PATH];
  struct dirent *de;
  DIR *d;

  out->n = 0;
  snprintf(dir, sizeof dir, "%s/%s", CORPUS_DIR, sub);
  d = opendir(dir);
  if (d == NULL)
    fail_msg("cannot open the corpus directory %s", dir);
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.' || !has_suffix(de->d_name, suffix))
      continue;
    if (out->n == MAX_FILES)
      fail_msg("%s holds more than %d documents", dir, MAX_FILES);
    out->names[out->n] = imc_strdup(de->d_name);
    assert_non_null(out->names[out->n]);
    out->n++;
  }
  closedir(d);
  qsort(out->names, out->n, sizeof out->names[0], cmp_names);
}

static void listing_free(struct listing *l)
{
  for (size_t i = 0; i < l->n; i++)
    imc_free(l->names[i]);
  l->n = 0;
}

/* Reads sub/name into b (reset first).  Returns false when the file does not exist. */
static bool read_doc(const char *sub, const char *name, struct imc_buf *b)
{
  char path[MAX_PATH];
  struct imc_err err;

  imc_err_clear(&err);
  imc_buf_reset(b);
  snprintf(path, sizeof path, "%s/%s/%s", CORPUS_DIR, sub, name);
  return imc_read_file(path, b, &err) == 0;
}

/* NAME.radl -> NAME<ext> */
static void sidecar(const char *name, const char *ext, char *out, size_t n)
{
  size_t base = strlen(name) - strlen(".radl");

  snprintf(out, n, "%.*s%s", (int)base, name, ext);
}

/* Collects every warning, one per line. */
static void collect_warning(void *ctx, const char *msg)
{
  struct imc_buf *b = ctx;

  imc_buf_adds(b, msg);
  imc_buf_addc(b, '\n');
}

/* Parses text; the warnings go to warnings, or nowhere when it is NULL. */
static int parse_text(const char *source, const char *text, size_t len, bool strict,
                      struct imc_buf *warnings, struct imc_doc **out, struct imc_err *err)
{
  struct imc_buf discard;
  struct radl_parse_opts opts = {
    .strict = strict,
    .inputs = false,
    .warn = collect_warning,
    .warn_ctx = warnings ? warnings : &discard,
  };
  int r;

  imc_buf_init(&discard, MAX_TEXT);
  imc_err_clear(err);
  r = radl_parse(source, text, len, &opts, out, err);
  imc_buf_free(&discard);
  return r;
}

/* Parses and checks one valid document; prints the reason and returns NULL on failure. */
static struct imc_doc *load_valid(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  if (!read_doc("valid", name, text)) {
    print_error("valid/%s: cannot read the file\n", name);
    return NULL;
  }
  if (parse_text(name, imc_buf_cstr(text), text->len, false, NULL, &doc, &err) != 0) {
    print_error("valid/%s: parse failed: %s\n", name, err.msg);
    return NULL;
  }
  imc_err_clear(&err);
  if (radl_check(doc, &err) != 0) {
    print_error("valid/%s: check failed: %s\n", name, err.msg);
    imc_doc_free(doc);
    return NULL;
  }
  return doc;
}

/* Prints doc; false (with the reason printed) on failure. */
static bool print_doc(const char *what, const struct imc_doc *doc, struct imc_buf *out)
{
  struct imc_err err;

  imc_err_clear(&err);
  imc_buf_reset(out);
  if (radl_print(doc, out, &err) != 0) {
    print_error("%s: print failed: %s\n", what, err.msg);
    return false;
  }
  return true;
}

/* Each test walks every file of one directory and counts the files that fail. */
typedef bool (*file_fn)(const char *name, struct imc_buf *scratch);

static void for_each_file(const char *sub, const char *suffix, file_fn fn)
{
  struct listing files;
  struct imc_buf scratch;
  size_t failed = 0;

  list_dir(sub, suffix, &files);
  imc_buf_init(&scratch, MAX_TEXT);
  for (size_t i = 0; i < files.n; i++) {
    if (!fn(files.names[i], &scratch))
      failed++;
  }
  imc_buf_free(&scratch);
  if (files.n == 0) {
    listing_free(&files);
    fail_msg("%s/%s holds no *%s document", CORPUS_DIR, sub, suffix);
  }
  if (failed != 0)
    print_error("%zu of %zu documents in %s/ failed\n", failed, files.n, sub);
  listing_free(&files);
  assert_int_equal(failed, 0);
}

/* --- directories ------------------------------------------------------------------------- */

static void assert_dir_has(const char *sub, const char *suffix, size_t at_least)
{
  struct listing files;
  size_t n;

  list_dir(sub, suffix, &files);
  n = files.n;
  listing_free(&files);
  if (n < at_least)
    fail_msg("%s/%s holds %zu *%s documents, expected at least %zu", CORPUS_DIR, sub, n, suffix,
             at_least);
}

static void test_corpus_valid_dir_is_not_empty(void **state)
{
  (void)state;
  assert_dir_has("valid", ".radl", 20);
}

static void test_corpus_invalid_dir_is_not_empty(void **state)
{
  (void)state;
  assert_dir_has("invalid", ".radl", 20);
}

static void test_corpus_json_dir_is_not_empty(void **state)
{
  (void)state;
  assert_dir_has("json", ".json", 3);
}

/* Whether sub/ holds the document a sidecar file (NAME.err, NAME.warn, NAME.nojson) is about. */
static bool sidecar_has_doc(const char *sub, const char *name, const char *suffix,
                            struct imc_buf *scratch)
{
  char other[MAX_NAME];

  snprintf(other, sizeof other, "%.*s.radl", (int)(strlen(name) - strlen(suffix)), name);
  if (!read_doc(sub, other, scratch)) {
    print_error("%s/%s: no %s beside it\n", sub, name, other);
    return false;
  }
  return true;
}

/* Every invalid/NAME.radl has its NAME.err and every NAME.err its document. */
static bool err_pairs_with_doc(const char *name, struct imc_buf *scratch)
{
  char other[MAX_NAME];

  if (!has_suffix(name, ".radl"))
    return sidecar_has_doc("invalid", name, ".err", scratch);
  sidecar(name, ".err", other, sizeof other);
  if (!read_doc("invalid", other, scratch)) {
    print_error("invalid/%s: no %s beside it\n", name, other);
    return false;
  }
  return true;
}

static void test_corpus_invalid_docs_pair_with_err_files(void **state)
{
  (void)state;
  for_each_file("invalid", ".radl", err_pairs_with_doc);
  for_each_file("invalid", ".err", err_pairs_with_doc);
}

/* A .warn file must belong to a document. */
static bool warn_pairs_with_doc(const char *name, struct imc_buf *scratch)
{
  return sidecar_has_doc("valid", name, ".warn", scratch);
}

static void test_corpus_warn_files_pair_with_docs(void **state)
{
  (void)state;
  for_each_file("valid", ".warn", warn_pairs_with_doc);
}

/* A .nojson marker must belong to a document. */
static bool nojson_pairs_with_doc(const char *name, struct imc_buf *scratch)
{
  return sidecar_has_doc("valid", name, ".nojson", scratch);
}

static void test_corpus_nojson_markers_pair_with_docs(void **state)
{
  (void)state;
  for_each_file("valid", ".nojson", nojson_pairs_with_doc);
}

/* --- valid documents ----------------------------------------------------------------------- */

static bool valid_parses_and_checks(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = load_valid(name, text);

  imc_doc_free(doc);
  return doc != NULL;
}

static void test_corpus_valid_docs_parse_and_check(void **state)
{
  (void)state;
  for_each_file("valid", ".radl", valid_parses_and_checks);
}

/* Warnings equal NAME.warn exactly; no warning at all without one. */
static bool valid_warns_as_expected(const char *name, struct imc_buf *text)
{
  char wname[MAX_NAME];
  struct imc_buf want, got;
  struct imc_doc *doc = NULL;
  struct imc_err err;
  bool ok = false;

  imc_buf_init(&want, MAX_TEXT);
  imc_buf_init(&got, MAX_TEXT);
  sidecar(name, ".warn", wname, sizeof wname);
  if (!read_doc("valid", wname, &want))
    imc_buf_reset(&want);
  if (!read_doc("valid", name, text)) {
    print_error("valid/%s: cannot read the file\n", name);
    goto out;
  }
  if (parse_text(name, imc_buf_cstr(text), text->len, false, &got, &doc, &err) != 0) {
    print_error("valid/%s: parse failed: %s\n", name, err.msg);
    goto out;
  }
  if (strcmp(imc_buf_cstr(&want), imc_buf_cstr(&got)) != 0) {
    print_error("valid/%s: warnings differ\n--- expected (%s)\n%s--- got\n%s", name, wname,
                imc_buf_cstr(&want), imc_buf_cstr(&got));
    goto out;
  }
  ok = true;
out:
  imc_doc_free(doc);
  imc_buf_free(&want);
  imc_buf_free(&got);
  return ok;
}

static void test_corpus_valid_docs_warn_exactly_as_expected(void **state)
{
  (void)state;
  for_each_file("valid", ".radl", valid_warns_as_expected);
}

/* With strict, a document with expected warnings fails where the first of them is; the
 * others parse. */
static bool valid_strict_fails_only_when_warned(const char *name, struct imc_buf *text)
{
  char wname[MAX_NAME], where[IMC_ERR_MSG_MAX];
  struct imc_buf want;
  struct imc_doc *doc = NULL;
  struct imc_err err;
  const char *first, *cut;
  bool warned, ok = false;
  int r;

  imc_buf_init(&want, MAX_TEXT);
  sidecar(name, ".warn", wname, sizeof wname);
  warned = read_doc("valid", wname, &want) && want.len > 0;
  if (!read_doc("valid", name, text)) {
    print_error("valid/%s: cannot read the file\n", name);
    goto out;
  }
  r = parse_text(name, imc_buf_cstr(text), text->len, true, NULL, &doc, &err);
  if (!warned) {
    if (r != 0)
      print_error("valid/%s: strict parse failed: %s\n", name, err.msg);
    ok = r == 0;
    goto out;
  }
  if (r == 0) {
    print_error("valid/%s: strict parse accepted a document with warnings\n", name);
    goto out;
  }
  /* "NAME.radl:L:C: warning: ..." -> the error must start with "NAME.radl:L:C: ". */
  first = imc_buf_cstr(&want);
  cut = strstr(first, "warning: ");
  if (cut == NULL) {
    print_error("valid/%s: the first line of %s is no warning\n", name, wname);
    goto out;
  }
  snprintf(where, sizeof where, "%.*s", (int)(cut - first), first);
  if (strncmp(err.msg, where, strlen(where)) != 0) {
    print_error("valid/%s: strict error\n  expected at: %s\n  got:         %s\n", name, where,
                err.msg);
    goto out;
  }
  ok = true;
out:
  imc_doc_free(doc);
  imc_buf_free(&want);
  return ok;
}

static void test_corpus_valid_docs_strict_fails_only_when_warned(void **state)
{
  (void)state;
  for_each_file("valid", ".radl", valid_strict_fails_only_when_warned);
}

/* print -> parse gives an equal document that still checks. */
static bool valid_print_reparses_equal(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = load_valid(name, text), *again = NULL;
  struct imc_buf printed;
  struct imc_err err;
  bool ok = false;

  imc_buf_init(&printed, MAX_TEXT);
  if (doc == NULL || !print_doc(name, doc, &printed))
    goto out;
  if (parse_text(name, imc_buf_cstr(&printed), printed.len, true, NULL, &again, &err) != 0) {
    print_error("valid/%s: the printed text does not parse: %s\n--- printed\n%s\n", name, err.msg,
                imc_buf_cstr(&printed));
    goto out;
  }
  if (!imc_doc_equal(doc, again)) {
    print_error("valid/%s: the printed text parses to a different document\n--- printed\n%s\n",
                name, imc_buf_cstr(&printed));
    goto out;
  }
  imc_err_clear(&err);
  if (radl_check(again, &err) != 0) {
    print_error("valid/%s: the printed text fails check: %s\n", name, err.msg);
    goto out;
  }
  ok = true;
out:
  imc_doc_free(doc);
  imc_doc_free(again);
  imc_buf_free(&printed);
  return ok;
}

static void test_corpus_valid_docs_print_reparses_equal(void **state)
{
  (void)state;
  for_each_file("valid", ".radl", valid_print_reparses_equal);
}

/* Printing the re-parsed document gives the same bytes: the writer's form is a fixed point. */
static bool valid_print_is_idempotent(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = load_valid(name, text), *again = NULL;
  struct imc_buf first, second;
  struct imc_err err;
  bool ok = false;

  imc_buf_init(&first, MAX_TEXT);
  imc_buf_init(&second, MAX_TEXT);
  if (doc == NULL || !print_doc(name, doc, &first))
    goto out;
  if (parse_text(name, imc_buf_cstr(&first), first.len, true, NULL, &again, &err) != 0) {
    print_error("valid/%s: the printed text does not parse: %s\n", name, err.msg);
    goto out;
  }
  if (!print_doc(name, again, &second))
    goto out;
  if (first.len != second.len ||
      memcmp(imc_buf_cstr(&first), imc_buf_cstr(&second), first.len) != 0) {
    print_error("valid/%s: printing twice differs\n--- first\n%s\n--- second\n%s\n", name,
                imc_buf_cstr(&first), imc_buf_cstr(&second));
    goto out;
  }
  ok = true;
out:
  imc_doc_free(doc);
  imc_doc_free(again);
  imc_buf_free(&first);
  imc_buf_free(&second);
  return ok;
}

static void test_corpus_valid_docs_print_is_idempotent(void **state)
{
  (void)state;
  for_each_file("valid", ".radl", valid_print_is_idempotent);
}

/* RADL -> JSON -> RADL -> text -> RADL, then check.  JSON drops units and strictness, so the
 * documents need not be equal.  Returns true when every step works; otherwise why holds the
 * first failure and detail what the step saw. */
static bool json_trip(const char *name, const struct imc_doc *doc, char *why, size_t whylen,
                      struct imc_buf *detail)
{
  struct imc_doc *from_json = NULL, *again = NULL;
  struct imc_buf json, printed;
  struct imc_err err;
  bool ok = false;

  imc_buf_init(&json, MAX_TEXT);
  imc_buf_init(&printed, MAX_TEXT);
  imc_buf_reset(detail);
  imc_err_clear(&err);
  if (radl_json_print(doc, true, &json, &err) != 0) {
    snprintf(why, whylen, "JSON print: %s", err.msg);
    goto out;
  }
  imc_buf_adds(detail, imc_buf_cstr(&json));
  if (radl_json_parse(name, imc_buf_cstr(&json), json.len, &from_json, &err) != 0) {
    snprintf(why, whylen, "JSON parse: %s", err.msg);
    goto out;
  }
  imc_buf_reset(detail);
  if (radl_print(from_json, &printed, &err) != 0) {
    snprintf(why, whylen, "print: %s", err.msg);
    goto out;
  }
  imc_buf_adds(detail, imc_buf_cstr(&printed));
  if (parse_text(name, imc_buf_cstr(&printed), printed.len, true, NULL, &again, &err) != 0) {
    snprintf(why, whylen, "parse: %s", err.msg);
    goto out;
  }
  imc_err_clear(&err);
  if (radl_check(again, &err) != 0) {
    snprintf(why, whylen, "check: %s", err.msg);
    goto out;
  }
  ok = true;
out:
  imc_doc_free(from_json);
  imc_doc_free(again);
  imc_buf_free(&json);
  imc_buf_free(&printed);
  return ok;
}

/* Every valid document survives the JSON form, but those with a NAME.nojson: IM's JSON form
 * cannot carry what they say, and the first line of that file is the exact failure expected
 * ("STEP: message").  When such a document starts to survive, the marker must go. */
static bool valid_survives_json(const char *name, struct imc_buf *text)
{
  char mname[MAX_NAME], why[2 * IMC_ERR_MSG_MAX], want[2 * IMC_ERR_MSG_MAX];
  struct imc_doc *doc = load_valid(name, text);
  struct imc_buf marker, detail;
  bool ok = false, expect_fail, survived;

  imc_buf_init(&marker, MAX_TEXT);
  imc_buf_init(&detail, MAX_TEXT);
  sidecar(name, ".nojson", mname, sizeof mname);
  expect_fail = read_doc("valid", mname, &marker);
  snprintf(want, sizeof want, "%.*s", (int)strcspn(imc_buf_cstr(&marker), "\n"),
           imc_buf_cstr(&marker));
  if (doc == NULL)
    goto out;
  why[0] = '\0';
  survived = json_trip(name, doc, why, sizeof why, &detail);
  if (survived && expect_fail) {
    print_error("valid/%s: survives the JSON form now: remove %s\n", name, mname);
  } else if (!survived && !expect_fail) {
    print_error("valid/%s: JSON round trip, %s\n--- last text\n%s\n", name, why,
                imc_buf_cstr(&detail));
  } else if (!survived && strcmp(why, want) != 0) {
    print_error("valid/%s: JSON round trip fails otherwise than %s says\n  expected: %s\n"
                "  got:      %s\n",
                name, mname, want, why);
  } else {
    ok = true;
  }
out:
  imc_doc_free(doc);
  imc_buf_free(&marker);
  imc_buf_free(&detail);
  return ok;
}

static void test_corpus_valid_docs_survive_json_round_trip(void **state)
{
  (void)state;
  for_each_file("valid", ".radl", valid_survives_json);
}

/* --- invalid documents --------------------------------------------------------------------- */

static bool invalid_fails_as_expected(const char *name, struct imc_buf *text)
{
  char ename[MAX_NAME], want[IMC_ERR_MSG_MAX];
  struct imc_buf expected;
  struct imc_doc *doc = NULL;
  struct imc_err err;
  const char *stage = "parse";
  bool ok = false;

  imc_buf_init(&expected, MAX_TEXT);
  sidecar(name, ".err", ename, sizeof ename);
  if (!read_doc("invalid", ename, &expected)) {
    print_error("invalid/%s: no %s beside it\n", name, ename);
    goto out;
  }
  snprintf(want, sizeof want, "%.*s", (int)strcspn(imc_buf_cstr(&expected), "\n"),
           imc_buf_cstr(&expected));
  if (!read_doc("invalid", name, text)) {
    print_error("invalid/%s: cannot read the file\n", name);
    goto out;
  }
  if (parse_text(name, imc_buf_cstr(text), text->len, false, NULL, &doc, &err) == 0) {
    stage = "check";
    imc_err_clear(&err);
    if (radl_check(doc, &err) == 0) {
      print_error("invalid/%s: accepted; expected: %s\n", name, want);
      goto out;
    }
  }
  if (strcmp(want, err.msg) != 0) {
    print_error("invalid/%s: %s error\n  expected: %s\n  got:      %s\n", name, stage, want,
                err.msg);
    goto out;
  }
  ok = true;
out:
  imc_doc_free(doc);
  imc_buf_free(&expected);
  return ok;
}

static void test_corpus_invalid_docs_fail_with_expected_error(void **state)
{
  (void)state;
  for_each_file("invalid", ".radl", invalid_fails_as_expected);
}

/* --- JSON documents ------------------------------------------------------------------------ */

static struct imc_doc *load_json(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (!read_doc("json", name, text)) {
    print_error("json/%s: cannot read the file\n", name);
    return NULL;
  }
  if (radl_json_parse(name, imc_buf_cstr(text), text->len, &doc, &err) != 0) {
    print_error("json/%s: parse failed: %s\n", name, err.msg);
    return NULL;
  }
  if (radl_check(doc, &err) != 0) {
    print_error("json/%s: check failed: %s\n", name, err.msg);
    imc_doc_free(doc);
    return NULL;
  }
  return doc;
}

static bool json_parses_and_checks(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = load_json(name, text);

  imc_doc_free(doc);
  return doc != NULL;
}

static void test_corpus_json_docs_parse_and_check(void **state)
{
  (void)state;
  for_each_file("json", ".json", json_parses_and_checks);
}

/* JSON print (pretty and compact) -> JSON parse gives an equal document. */
static bool json_round_trips_equal(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = load_json(name, text);
  struct imc_buf json;
  struct imc_err err;
  bool ok = doc != NULL;

  imc_buf_init(&json, MAX_TEXT);
  for (int pretty = 0; ok && pretty <= 1; pretty++) {
    struct imc_doc *again = NULL;

    imc_err_clear(&err);
    imc_buf_reset(&json);
    if (radl_json_print(doc, pretty, &json, &err) != 0) {
      print_error("json/%s: print (pretty=%d) failed: %s\n", name, pretty, err.msg);
      ok = false;
    } else if (radl_json_parse(name, imc_buf_cstr(&json), json.len, &again, &err) != 0) {
      print_error("json/%s: the printed JSON (pretty=%d) does not parse: %s\n", name, pretty,
                  err.msg);
      ok = false;
    } else if (!imc_doc_equal(doc, again)) {
      print_error("json/%s: the printed JSON (pretty=%d) parses to a different document\n%s\n",
                  name, pretty, imc_buf_cstr(&json));
      ok = false;
    }
    imc_doc_free(again);
  }
  imc_doc_free(doc);
  imc_buf_free(&json);
  return ok;
}

static void test_corpus_json_docs_round_trip_equal(void **state)
{
  (void)state;
  for_each_file("json", ".json", json_round_trips_equal);
}

/* JSON -> RADL text -> RADL gives an equal document: the text form holds all JSON says. */
static bool json_prints_as_radl(const char *name, struct imc_buf *text)
{
  struct imc_doc *doc = load_json(name, text), *again = NULL;
  struct imc_buf printed;
  struct imc_err err;
  bool ok = false;

  imc_buf_init(&printed, MAX_TEXT);
  if (doc == NULL || !print_doc(name, doc, &printed))
    goto out;
  if (parse_text(name, imc_buf_cstr(&printed), printed.len, true, NULL, &again, &err) != 0) {
    print_error("json/%s: the RADL printed from it does not parse: %s\n--- printed\n%s\n", name,
                err.msg, imc_buf_cstr(&printed));
    goto out;
  }
  if (!imc_doc_equal(doc, again)) {
    print_error("json/%s: the RADL printed from it parses to a different document\n%s\n", name,
                imc_buf_cstr(&printed));
    goto out;
  }
  ok = true;
out:
  imc_doc_free(doc);
  imc_doc_free(again);
  imc_buf_free(&printed);
  return ok;
}

static void test_corpus_json_docs_print_as_equal_radl(void **state)
{
  (void)state;
  for_each_file("json", ".json", json_prints_as_radl);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_corpus_valid_dir_is_not_empty),
    cmocka_unit_test(test_corpus_invalid_dir_is_not_empty),
    cmocka_unit_test(test_corpus_json_dir_is_not_empty),
    cmocka_unit_test(test_corpus_invalid_docs_pair_with_err_files),
    cmocka_unit_test(test_corpus_warn_files_pair_with_docs),
    cmocka_unit_test(test_corpus_nojson_markers_pair_with_docs),
    cmocka_unit_test(test_corpus_valid_docs_parse_and_check),
    cmocka_unit_test(test_corpus_valid_docs_warn_exactly_as_expected),
    cmocka_unit_test(test_corpus_valid_docs_strict_fails_only_when_warned),
    cmocka_unit_test(test_corpus_valid_docs_print_reparses_equal),
    cmocka_unit_test(test_corpus_valid_docs_print_is_idempotent),
    cmocka_unit_test(test_corpus_valid_docs_survive_json_round_trip),
    cmocka_unit_test(test_corpus_invalid_docs_fail_with_expected_error),
    cmocka_unit_test(test_corpus_json_docs_parse_and_check),
    cmocka_unit_test(test_corpus_json_docs_round_trip_equal),
    cmocka_unit_test(test_corpus_json_docs_print_as_equal_radl),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
