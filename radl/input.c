/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Parametric values: `@input.NAME@` anywhere in the text (strings, recipes, bare), replaced
 * by a value the user gives, as im-client does before it sends a document.  The substituted
 * text keeps a map back to the original, so every message still points into the user's file. */
#include <string.h>

#include "imc/alloc.h"
#include "input.h"

#define INPUT_PREFIX "@input."
#define INPUT_PREFIX_LEN (sizeof INPUT_PREFIX - 1)

static bool is_name_char(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '-';
}

/* If text[i] starts `@input.NAME@`, sets *name and *nlen and returns the reference's length. */
static size_t match_ref(const char *text, size_t len, size_t i, const char **name, size_t *nlen)
{
  size_t j;

  if (len - i <= INPUT_PREFIX_LEN || memcmp(text + i, INPUT_PREFIX, INPUT_PREFIX_LEN) != 0)
    return 0;
  j = i + INPUT_PREFIX_LEN;
  while (j < len && is_name_char((unsigned char)text[j]))
    j++;
  if (j == i + INPUT_PREFIX_LEN || j >= len || text[j] != '@')
    return 0;
  *name = text + i + INPUT_PREFIX_LEN;
  *nlen = j - (i + INPUT_PREFIX_LEN);
  return j + 1 - i;
}

static const char *lookup(const struct radl_input *values, size_t n, const char *name,
                          size_t nlen)
{
  for (size_t i = 0; i < n; i++)
    if (strlen(values[i].name) == nlen && memcmp(values[i].name, name, nlen) == 0)
      return values[i].value;
  return NULL;
}

/* Advances a line:col position over n bytes of text. */
static void move_pos(struct imc_pos *p, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\n') {
      p->line++;
      p->col = 1;
    } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
      p->col++;
    }
  }
}

int radl_subst_inputs(const char *source, const char *text, size_t len,
                      const struct radl_input *values, size_t nvalues, struct radl_subst *out,
                      struct imc_err *err)
{
  struct imc_buf buf;
  struct imc_pos pos = {1, 1};
  size_t copied = 0;
  int r = 0;

  memset(out, 0, sizeof *out);
  imc_buf_init(&buf, IMC_MAX_DOC);
  for (size_t i = 0; i < len;) {
    const char *name, *value;
    size_t nlen, ref = match_ref(text, len, i, &name, &nlen);
    struct radl_seg *seg;

    if (!ref) {
      i++;
      continue;
    }
    move_pos(&pos, text + copied, i - copied);
    if (!(value = lookup(values, nvalues, name, nlen))) {
      r = imc_fail_at(err, IMC_E_INVAL, source, pos.line, pos.col, "no value for input '%.*s'",
                      (int)nlen, name);
      goto out;
    }
    if (imc_grow((void **)&out->segs, &out->cap_segs, out->nsegs + 1, sizeof *out->segs)) {
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
      goto out;
    }
    imc_buf_add(&buf, text + copied, i - copied);
    seg = &out->segs[out->nsegs++];
    seg->start = buf.len;
    seg->at = pos;
    imc_buf_adds(&buf, value);
    seg->end = buf.len;
    move_pos(&pos, text + i, ref);
    seg->after = pos;
    i += ref;
    copied = i;
  }
  imc_buf_add(&buf, text + copied, len - copied);
  if (imc_buf_err(&buf)) {
    if (imc_buf_err(&buf) == IMC_E_NOMEM)
      r = imc_fail(err, IMC_E_NOMEM, "out of memory");
    else
      r = imc_fail(err, IMC_E_TOOBIG, "%s: document too large after substituting inputs",
                   source ? source : "RADL");
    goto out;
  }
  out->text = imc_buf_take(&buf, &out->len);
  if (!out->text)
    r = imc_fail(err, IMC_E_NOMEM, "out of memory");
out:
  imc_buf_free(&buf);
  if (r)
    radl_subst_free(out);
  return r;
}

void radl_subst_free(struct radl_subst *s)
{
  imc_free(s->text);
  imc_free(s->segs);
  memset(s, 0, sizeof *s);
}

void radl_input_refs_free(struct radl_input_ref *refs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    imc_free(refs[i].name);
  imc_free(refs);
}

int radl_inputs_missing(const char *text, size_t len, const struct radl_input *values,
                        size_t nvalues, struct radl_input_ref **out, size_t *nout,
                        struct imc_err *err)
{
  struct radl_input_ref *refs = NULL;
  size_t n = 0, cap = 0, at = 0;
  struct imc_pos pos = {1, 1};

  *out = NULL;
  *nout = 0;
  for (size_t i = 0; i < len;) {
    const char *name;
    size_t nlen, ref = match_ref(text, len, i, &name, &nlen);
    bool seen = false;

    if (!ref) {
      i++;
      continue;
    }
    move_pos(&pos, text + at, i - at);
    at = i;
    for (size_t k = 0; k < n && !seen; k++)
      seen = strlen(refs[k].name) == nlen && memcmp(refs[k].name, name, nlen) == 0;
    if (!seen && !lookup(values, nvalues, name, nlen)) {
      if (imc_grow((void **)&refs, &cap, n + 1, sizeof *refs) ||
          !(refs[n].name = imc_strndup(name, nlen))) {
        radl_input_refs_free(refs, n);
        return imc_fail(err, IMC_E_NOMEM, "out of memory");
      }
      refs[n].line = pos.line;
      refs[n].col = pos.col;
      n++;
    }
    i += ref;
  }
  *out = refs;
  *nout = n;
  return 0;
}
