/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's JSON form of auth data: reading a JSON list of objects, and writing one (redacted or
 * not).  Values are credentials: no message quotes one, and jansson's copies are wiped. */
#include "auth_int.h"
#include "json_secret.h"
#include "imc/alloc.h"
#include "imc/auth.h"

#include <jansson.h>
#include <string.h>

/* --- the JSON form ------------------------------------------------------------------------ */

/* jansson's own messages quote the text near the error, which may be a password: a message of
 * ours for each error code instead. */
static const struct {
  enum json_error_code code;
  const char *msg;
} json_messages[] = {
  {json_error_invalid_syntax, "invalid JSON syntax"},
  {json_error_premature_end_of_input, "JSON auth data ends too early"},
  {json_error_end_of_input_expected, "text after the end of the JSON auth data"},
  {json_error_invalid_utf8, "invalid UTF-8 in auth data"},
  {json_error_null_character, "NUL character in a JSON string"},
  {json_error_stack_overflow, "JSON nested too deeply"},
  {json_error_numeric_overflow, "JSON number out of range"},
};

static int json_syntax_error(struct rd *rd, const json_error_t *je)
{
  enum json_error_code code = json_error_code(je);
  const char *msg = "invalid JSON";

  if (code == json_error_out_of_memory)
    return imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
  for (size_t i = 0; i < sizeof json_messages / sizeof json_messages[0]; i++)
    if (json_messages[i].code == code)
      msg = json_messages[i].msg;
  return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, je->line > 0 ? je->line : 1,
                     je->column > 0 ? je->column : 1, "%s", msg);
}

/* A cursor over JSON text jansson has accepted, to give each item of the top-level list the
 * line and column where it starts (jansson keeps no positions).  Only strings and nesting need
 * care; every step stays within end all the same. */
struct jcur {
  const char *p, *end;
  int line, col;
};

static void jcur_step(struct jcur *c)
{
  unsigned char ch = (unsigned char)*c->p++;

  if (ch == '\n') {
    c->line++;
    c->col = 1;
  } else if ((ch & 0xC0) != 0x80) {
    c->col++;
  }
}

static void jcur_skip_space(struct jcur *c)
{
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
    jcur_step(c);
}

static void jcur_skip_string(struct jcur *c)
{
  jcur_step(c);
  while (c->p < c->end && *c->p != '"') {
    if (*c->p == '\\' && c->p + 1 < c->end)
      jcur_step(c);
    jcur_step(c);
  }
  if (c->p < c->end)
    jcur_step(c);
}

/* Moves past the value under the cursor. */
static void jcur_skip_value(struct jcur *c)
{
  int depth = 0;

  while (c->p < c->end) {
    char ch = *c->p;

    if (ch == '"') {
      jcur_skip_string(c);
    } else if (ch == '[' || ch == '{') {
      depth++;
      jcur_step(c);
    } else if (ch == ']' || ch == '}') {
      if (depth == 0)
        return;
      depth--;
      jcur_step(c);
    } else if (depth == 0 && (ch == ',' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')) {
      return;
    } else {
      jcur_step(c);
    }
    if (depth == 0 && (ch == '"' || ch == ']' || ch == '}'))
      return;
  }
}

/* Moves to the start of the next item of the list: past the `[` for the first one. */
static void jcur_next(struct jcur *c, bool first)
{
  jcur_skip_space(c);
  if (first) {
    if (c->p < c->end)
      jcur_step(c);
  } else {
    jcur_skip_value(c);
    jcur_skip_space(c);
    if (c->p < c->end && *c->p == ',')
      jcur_step(c);
  }
  jcur_skip_space(c);
}

/* Reads one object of the list, starting at line:col, as a new entry. */
static int read_json_entry(struct rd *rd, struct imc_auth *a, json_t *obj, size_t index, int col)
{
  struct imc_auth_entry *e;
  const char *k;
  json_t *v;
  int r;

  if (!json_is_object(obj))
    return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, col,
                       "item %zu of the JSON auth list is not an object", index + 1);
  if (!(e = imc_auth_add_entry(a)))
    return imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
  e->line = rd->line;
  json_object_foreach(obj, k, v)
  {
    char *key, *value;

    if (!json_is_string(v))
      return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, col,
                         "the value of \"%.64s\" is not a string", k);
    if (!*k)
      return imc_fail_at(rd->err, IMC_E_PARSE, rd->source, rd->line, col,
                         "an auth entry has an empty key");
    key = imc_strdup(k);
    value = imc_strndup(json_string_value(v), json_string_length(v));
    if (!key || !value) {
      imc_free(key);
      imc_free_secret(value);
      return imc_fail(rd->err, IMC_E_NOMEM, "out of memory reading auth data");
    }
    if ((r = auth_resolve_file(rd, key, &value, col)) != 0) {
      imc_free(key);
      imc_free_secret(value);
      return r;
    }
    if ((r = auth_entry_put(e, key, value)) != 0)
      return imc_fail(rd->err, r, "out of memory reading auth data");
  }
  return 0;
}

/* IM's JSON form (1.19.1): a list of objects whose values are all strings.  IM takes these
 * values as they are; file() values are resolved (or refused) here as in the line form. */
int auth_read_json(struct rd *rd, struct imc_auth *a, const char *text, size_t len)
{
  struct jcur cur = {.p = text, .end = text + len, .line = 1, .col = 1};
  json_error_t je;
  json_t *root = json_loadb(text, len, 0, &je), *obj;
  size_t i;
  int r = 0;

  if (!root)
    return json_syntax_error(rd, &je);
  jcur_skip_space(&cur);
  if (!json_is_array(root)) {
    r = imc_fail_at(rd->err, IMC_E_PARSE, rd->source, cur.line, cur.col,
                    "JSON auth data must be a list of objects");
    goto out;
  }
  jcur_next(&cur, true);
  json_array_foreach(root, i, obj)
  {
    if (i > 0)
      jcur_next(&cur, false);
    rd->line = cur.line;
    if ((r = read_json_entry(rd, a, obj, i, cur.col)) != 0)
      goto out;
  }
out:
  imc_json_wipe(root);
  json_decref(root);
  return r;
}

/* --- writing ---------------------------------------------------------------------------- */

/* Appends s as a JSON string: the escapes JSON requires, UTF-8 as it is. */
static void json_string_out(struct imc_buf *b, const char *s)
{
  static const char hex[] = "0123456789abcdef";

  imc_buf_addc(b, '"');
  while (*s) {
    size_t plain = 0;
    unsigned char c;

    while (s[plain] && s[plain] != '"' && s[plain] != '\\' && (unsigned char)s[plain] >= 0x20)
      plain++;
    imc_buf_add(b, s, plain);
    s += plain;
    if (!(c = (unsigned char)*s))
      break;
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};

      imc_buf_add(b, esc, 2);
    } else if (c == '\n') {
      imc_buf_adds(b, "\\n");
    } else if (c == '\t') {
      imc_buf_adds(b, "\\t");
    } else if (c == '\r') {
      imc_buf_adds(b, "\\r");
    } else {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

      imc_buf_add(b, esc, 6);
    }
    s++;
  }
  imc_buf_addc(b, '"');
}

/* Entries built in code may hold bytes JSON cannot carry. */
static int check_utf8(const struct imc_auth *a, struct imc_err *err)
{
  for (size_t i = 0; i < a->n; i++) {
    const struct imc_auth_entry *e = &a->entries[i];

    for (size_t j = 0; j < e->n; j++) {
      const char *k = e->kv[j].key, *v = e->kv[j].value;

      if (auth_first_bad_byte(k, strlen(k)) != strlen(k) ||
          auth_first_bad_byte(v, strlen(v)) != strlen(v))
        return imc_fail(err, IMC_E_INVAL, "auth entry %zu holds text that is not UTF-8", i + 1);
    }
  }
  return 0;
}

/* Takes back what a failed print appended, wiping it: it may hold credentials. */
static void unappend(struct imc_buf *out, size_t len, int old_err)
{
  if (out->data && out->len > len) {
    explicit_bzero(out->data + len, out->len - len);
    out->data[len] = '\0';
  }
  out->len = len;
  out->err = old_err;
}

/* Written as Python's json.dumps writes IM's list: `[{"k": "v", ...}, ...]`. */
int imc_auth_to_json(const struct imc_auth *a, bool redact, struct imc_buf *out,
                     struct imc_err *err)
{
  size_t len0 = out->len;
  int err0 = out->err, r;

  if ((r = check_utf8(a, err)) != 0)
    return r;
  imc_buf_addc(out, '[');
  for (size_t i = 0; i < a->n; i++) {
    const struct imc_auth_entry *e = &a->entries[i];

    imc_buf_adds(out, i ? ", {" : "{");
    for (size_t j = 0; j < e->n; j++) {
      const struct imc_auth_kv *kv = &e->kv[j];

      if (j)
        imc_buf_adds(out, ", ");
      json_string_out(out, kv->key);
      imc_buf_adds(out, ": ");
      json_string_out(out, redact && imc_auth_key_is_secret(kv->key) ? "***" : kv->value);
    }
    imc_buf_addc(out, '}');
  }
  imc_buf_addc(out, ']');
  if ((r = imc_buf_err(out)) == 0)
    return 0;
  unappend(out, len0, err0);
  if (r == IMC_E_TOOBIG)
    return imc_fail(err, IMC_E_TOOBIG, "auth data larger than the output limit of %zu bytes",
                    out->max);
  return imc_fail(err, IMC_E_NOMEM, "out of memory writing auth data");
}
