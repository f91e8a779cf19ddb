/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RADL text: parse, check, print; whatever prints must parse back to an equal document and
 * print to the same bytes again (radl_print's promise).  Breaking that promise aborts: it is
 * a real bug, not a rejected input. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct radl_parse_opts opts = {.strict = false, .warn = ignore_warning};
  struct imc_doc *doc = NULL, *again = NULL;
  struct imc_buf first, second;
  struct imc_err err;

  imc_buf_init(&first, IMC_MAX_DOC);
  imc_buf_init(&second, IMC_MAX_DOC);
  imc_err_clear(&err);
  if (radl_parse("fuzz.radl", (const char *)data, size, &opts, &doc, &err) != 0)
    goto out;
  imc_err_clear(&err);
  (void)radl_check(doc, &err);
  imc_err_clear(&err);
  if (radl_print(doc, &first, &err) != 0)
    goto out;
  /* Strict: the writer never emits a character the reader would have to skip. */
  opts.strict = true;
  if (radl_parse("printed.radl", imc_buf_cstr(&first), first.len, &opts, &again, &err) != 0)
    abort();
  if (!imc_doc_equal(doc, again))
    abort();
  if (radl_print(again, &second, &err) != 0)
    abort();
  if (first.len != second.len ||
      memcmp(imc_buf_cstr(&first), imc_buf_cstr(&second), first.len) != 0)
    abort();
out:
  imc_doc_free(doc);
  imc_doc_free(again);
  imc_buf_free(&first);
  imc_buf_free(&second);
  return 0;
}
