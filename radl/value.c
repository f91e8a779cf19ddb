/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One feature's value as IM hands it out: RADL's getValue() as JSON (REST and XML-RPC
 * properties, the command line), Python's str() of it (the text/plain answers, what
 * im-client prints) and Python's repr() of a float.  imcd and imc share these, so that a
 * value reads the same whichever way it is asked for. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imc/json.h"
#include "imc/radl.h"

/* The parser refuses contains groups nested deeper than this; a hand-built value that goes
 * further fails rather than exhausting the stack. */
#define VALUE_MAX_DEPTH 64

/* --- Python's repr() of a float ---------------------------------------------------------- */

/* Appends n bytes of s to out (len bytes used, cap bytes in all, one kept for the NUL). */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
  if (*len + n >= cap)
    return;
  memcpy(out + *len, s, n);
  *len += n;
  out[*len] = '\0';
}

/* repr() into a buffer that holds any double ("-2.2250738585072014e-308" is 24 bytes). */
static void float_repr(double v, char out[40])
{
  char buf[40], digits[24], zeros[24];
  int prec, exp10, nd = 0;
  size_t len = 0;
  const char *p;

  out[0] = '\0';
  if (isnan(v) || isinf(v)) {
    snprintf(out, 40, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
    return;
  }
  /* The fewest significant digits that read back as v, as Python's repr (up to 17). */
  for (prec = 1; prec < 17; prec++) {
    snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
  p = buf;
  if (*p == '-')
    put(out, 40, &len, p++, 1);
  for (; *p && *p != 'e' && nd < (int)sizeof digits - 1; p++)
    if (*p != '.')
      digits[nd++] = *p;
  exp10 = *p == 'e' ? (int)strtol(p + 1, NULL, 10) : 0;
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  memset(zeros, '0', sizeof zeros);
  /* Python's float_repr_style "short": an exponent below 1e-4 and from 1e16 on. */
  if (exp10 < -4 || exp10 >= 16) { /* d[.ddd]e+XX */
    put(out, 40, &len, digits, 1);
    if (nd > 1) {
      put(out, 40, &len, ".", 1);
      put(out, 40, &len, digits + 1, (size_t)nd - 1);
    }
    snprintf(buf, sizeof buf, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    put(out, 40, &len, buf, strlen(buf));
  } else if (exp10 < 0) { /* 0.000ddd */
    put(out, 40, &len, "0.", 2);
    put(out, 40, &len, zeros, (size_t)(-exp10 - 1));
    put(out, 40, &len, digits, (size_t)nd);
  } else if (nd <= exp10 + 1) { /* ddd00.0 */
    put(out, 40, &len, digits, (size_t)nd);
    put(out, 40, &len, zeros, (size_t)(exp10 + 1 - nd));
    put(out, 40, &len, ".0", 2);
  } else { /* dd.ddd */
    put(out, 40, &len, digits, (size_t)exp10 + 1);
    put(out, 40, &len, ".", 1);
    put(out, 40, &len, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
  }
}

void radl_float_repr(double v, char *out, size_t size)
{
  char text[40];

  if (size == 0)
    return;
  float_repr(v, text);
  snprintf(out, size, "%s", text); /* a prefix when size is short, never a gap */
}

/* --- getValue() as JSON ------------------------------------------------------------------ */

static json_t *feature_json(const struct imc_feature *f, int depth);

/* IM's getValue(): with a unit, float(value * UnitToValue(unit)), and int(round()) of that
 * for an integer.  The product of two integers is exact in Python before float() rounds it,
 * so it is computed exactly here too, then rounded through a double as Python does. */
static json_t *num_json(const struct imc_feature *f)
{
  double factor, d;
  int64_t exact;

  if (!f->unit || !*f->unit)
    return f->num.is_float ? json_real(f->num.f) : json_integer((json_int_t)f->num.i);
  imc_unit_factor(f->unit, &factor);
  if (f->num.is_float)
    return json_real(f->num.f * factor);
  /* Every factor is a whole power of 1000 or 1024 below 2^63. */
  if (__builtin_mul_overflow(f->num.i, (int64_t)factor, &exact))
    return json_real((double)f->num.i * factor); /* past int64: Python's big int, as a real */
  d = (double)exact;
  if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
    return json_real(d);
  return json_integer((json_int_t)d);
}

/* A RADL string list; the items are strings whatever bytes they hold. */
static json_t *list_json(const struct imc_feature *f)
{
  json_t *v = json_array();

  for (size_t i = 0; v && i < f->nlist; i++)
    if (json_array_append_new(v, imc_json_text(f->list[i])) != 0) {
      json_decref(v);
      v = NULL;
    }
  return v;
}

/* obj[key] = v, taking v whatever happens; a key that is not UTF-8 gets '?' for its bad
 * bytes, as values do.  0, or -1 when out of memory. */
static int set_key(json_t *obj, const char *key, json_t *v)
{
  json_t *k = imc_json_text(key);
  int r = -1;

  if (k && v)
    r = json_object_set(obj, json_string_value(k), v);
  json_decref(k);
  json_decref(v);
  return r;
}

/* A `contains` group item by item, keyed by each item's inner `name` (IM keeps them in a dict
 * by that name). */
static json_t *contains_json(const struct imc_prop *p, int depth)
{
  json_t *v = json_object();

  for (size_t i = 0; v && i < p->nitems; i++) {
    const struct imc_feature *item = p->items[i];
    const char *name = item->sub ? imc_features_str(item->sub, "name") : NULL;

    if (set_key(v, name ? name : "", feature_json(item, depth + 1)) != 0) {
      json_decref(v);
      v = NULL;
    }
  }
  return v;
}

/* The inner features of `contains (...)` as an object: each name with its value (a range
 * gives its lower bound, as getValue); soft groups have no name and are left out. */
static json_t *features_json(const struct imc_features *fs, int depth)
{
  json_t *v = json_object();

  for (size_t i = 0; v && fs && i < fs->nprops; i++) {
    const struct imc_prop *p = &fs->props[i];
    const struct imc_feature *sf;
    json_t *item = NULL;

    if (!p->name || p->kind == IMC_PROP_SOFT)
      continue;
    if (p->kind == IMC_PROP_CONTAINS)
      item = contains_json(p, depth);
    else if ((sf = imc_features_get(fs, p->name)) != NULL)
      item = feature_json(sf, depth + 1);
    else
      continue;
    if (set_key(v, p->name, item) != 0) {
      json_decref(v);
      v = NULL;
    }
  }
  return v;
}

static json_t *feature_json(const struct imc_feature *f, int depth)
{
  switch (f->type) {
  case IMC_V_NUM:
    return num_json(f);
  case IMC_V_STR:
    return imc_json_text(f->str);
  case IMC_V_LIST:
    return list_json(f);
  case IMC_V_FEATURES:
    return depth < VALUE_MAX_DEPTH ? features_json(f->sub, depth) : NULL;
  }
  return json_null();
}

json_t *radl_feature_json(const struct imc_feature *f)
{
  return feature_json(f, 0);
}

/* --- Python's str() ---------------------------------------------------------------------- */

/* Code points Python's str.isprintable() refuses, beyond the ASCII controls: the C1
 * controls, spaces other than ' ' (Zs), line and paragraph separators, common format
 * characters (Cf) and the private use areas (Co).  Unassigned code points, which Python
 * also escapes, are not listed: that needs the whole Unicode database. */
static const struct {
  uint32_t lo, hi;
} unprintable[] = {
  {0x7F, 0xA0},     {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},      {0x6DD, 0x6DD},
  {0x70F, 0x70F},   {0x1680, 0x1680},   {0x180E, 0x180E},   {0x2000, 0x200F},    {0x2028, 0x202F},
  {0x205F, 0x2064}, {0x2066, 0x206F},   {0x3000, 0x3000},   {0xD800, 0xF8FF},    {0xFEFF, 0xFEFF},
  {0xFFF9, 0xFFFB}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
};

static bool printable(uint32_t c)
{
  if (c < 0x20)
    return false;
  for (size_t i = 0; i < sizeof unprintable / sizeof unprintable[0]; i++)
    if (c >= unprintable[i].lo && c <= unprintable[i].hi)
      return false;
  return true;
}

/* The code point of the UTF-8 sequence at s (n bytes left; jansson's strings are valid
 * UTF-8) and its length in *len. */
static uint32_t decode(const unsigned char *s, size_t n, size_t *len)
{
  static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  size_t k = s[0] < 0x80 ? 1 : s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
  uint32_t c;

  if (k > n)
    k = 1;
  c = s[0] & lead_mask[k];
  for (size_t i = 1; i < k; i++)
    c = (c << 6) | (s[i] & 0x3F);
  *len = k;
  return c;
}

/* Python's repr() of a str: single quotes unless the text holds a single quote and no
 * double one; backslash escapes for the quote, '\\', tab, newline, carriage return and every
 * character Python does not print. */
static void repr_str(const char *s, size_t n, struct imc_buf *out)
{
  const unsigned char *p = (const unsigned char *)s;
  char q = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';

  imc_buf_addc(out, q);
  for (size_t i = 0, len; i < n; i += len) {
    uint32_t c = decode(p + i, n - i, &len);

    if (c == (uint32_t)q || c == '\\')
      imc_buf_addf(out, "\\%c", (char)c);
    else if (c == '\t' || c == '\n' || c == '\r')
      imc_buf_addf(out, "\\%c", c == '\t' ? 't' : c == '\n' ? 'n' : 'r');
    else if (printable(c))
      imc_buf_add(out, p + i, len);
    else if (c < 0x100)
      imc_buf_addf(out, "\\x%02x", (unsigned)c);
    else if (c < 0x10000)
      imc_buf_addf(out, "\\u%04x", (unsigned)c);
    else
      imc_buf_addf(out, "\\U%08x", (unsigned)c);
  }
  imc_buf_addc(out, q);
}

static void py_out(const json_t *v, bool repr, struct imc_buf *out, int depth);

/* A list's items or a dict's pairs, each item as repr() shows it (what str() of a list or a
 * dict does). */
static void py_container(const json_t *v, struct imc_buf *out, int depth)
{
  const char *key;
  json_t *item;
  size_t i;

  if (json_is_array(v)) {
    imc_buf_addc(out, '[');
    json_array_foreach(v, i, item)
    {
      imc_buf_adds(out, i > 0 ? ", " : "");
      py_out(item, true, out, depth + 1);
    }
    imc_buf_addc(out, ']');
    return;
  }
  imc_buf_addc(out, '{');
  i = 0;
  json_object_foreach((json_t *)v, key, item)
  {
    imc_buf_adds(out, i++ > 0 ? ", " : "");
    repr_str(key, strlen(key), out);
    imc_buf_adds(out, ": ");
    py_out(item, true, out, depth + 1);
  }
  imc_buf_addc(out, '}');
}

static void py_out(const json_t *v, bool repr, struct imc_buf *out, int depth)
{
  char num[40];

  if (json_is_string(v) && !repr) {
    imc_buf_add(out, json_string_value(v), json_string_length(v));
  } else if (json_is_string(v)) {
    repr_str(json_string_value(v), json_string_length(v), out);
  } else if (json_is_integer(v)) {
    imc_buf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
  } else if (json_is_real(v)) {
    float_repr(json_real_value(v), num);
    imc_buf_adds(out, num);
  } else if (json_is_boolean(v)) {
    imc_buf_adds(out, json_is_true(v) ? "True" : "False");
  } else if ((json_is_array(v) || json_is_object(v)) && depth < VALUE_MAX_DEPTH) {
    py_container(v, out, depth);
  } else if (json_is_array(v) || json_is_object(v)) {
    if (!out->err)
      out->err = IMC_E_TOOBIG;
  } else {
    imc_buf_adds(out, "None");
  }
}

void radl_py_str(const json_t *v, struct imc_buf *out)
{
  py_out(v, false, out, 0);
}
