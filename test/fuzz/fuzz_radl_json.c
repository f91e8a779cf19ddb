/* SPDX-License-Identifier: GPL-3.0-or-later */
/* JSON RADL: parse, check, print as JSON (pretty and compact) and as RADL text.  Whatever
 * prints must read back: compact JSON and RADL text to an equal document (radl_print promises
 * it, so it must refuse what text cannot say), pretty JSON to the same bytes.  A broken
 * promise aborts. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "imc/buf.h"
#include "imc/radl.h"

static void ignore_warning(void *ctx, const char *msg)
{
  (void)ctx;
  (void)msg;
}

/* Compact JSON keeps the features in document order, so it must read back as an equal
 * document.  Pretty JSON sorts the keys (as IM's dump_radl) and so may reorder features:
 * what it prints must instead read back to a document that pretty-prints the same bytes. */
static void json_round_trip(const struct imc_doc *doc, bool pretty)
{
  struct imc_doc *again = NULL;
  struct imc_buf out, out2;
  struct imc_err err;

  imc_buf_init(&out, IMC_MAX_DOC);
  imc_buf_init(&out2, IMC_MAX_DOC);
  imc_err_clear(&err);
  if (radl_json_print(doc, pretty, &out, &err) == 0) {
    if (radl_json_parse("printed.json", imc_buf_cstr(&out), out.len, &again, &err) != 0)
      abort();
    if (!pretty && !imc_doc_equal(doc, again))
      abort();
    if (pretty) {
      if (radl_json_print(again, true, &out2, &err) != 0)
        abort();
      if (out.len != out2.len || memcmp(imc_buf_cstr(&out), imc_buf_cstr(&out2), out.len) != 0)
        abort();
    }
  }
  imc_doc_free(again);
  imc_buf_free(&out);
  imc_buf_free(&out2);
}

/* Prints doc as RADL text and checks that it reads back as the same document. */
static void text_round_trip(const struct imc_doc *doc)
{
  struct radl_parse_opts opts = {.strict = true, .warn = ignore_warning};
  struct imc_doc *again = NULL;
  struct imc_buf out;
  struct imc_err err;

  imc_buf_init(&out, IMC_MAX_DOC);
  imc_err_clear(&err);
  if (radl_print(doc, &out, &err) == 0) {
    if (radl_parse("printed.radl", imc_buf_cstr(&out), out.len, &opts, &again, &err) != 0)
      abort();
    if (!imc_doc_equal(doc, again))
      abort();
  }
  imc_doc_free(again);
  imc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct imc_doc *doc = NULL;
  struct imc_err err;

  imc_err_clear(&err);
  if (radl_json_parse("fuzz.json", (const char *)data, size, &doc, &err) != 0)
    return 0;
  imc_err_clear(&err);
  (void)radl_check(doc, &err);
  json_round_trip(doc, true);
  json_round_trip(doc, false);
  text_round_trip(doc);
  imc_doc_free(doc);
  return 0;
}
