/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IM's JSON form of RADL (radl_json.py): a list of objects with a "class".  Features become
 * flat keys: numbers in base units, intervals as NAME_min / NAME_max, `contains` as a list of
 * objects, soft groups under "softs".  jansson does the JSON; this file maps it to the model
 * and back, and finds line:col in the raw text for the errors jansson cannot place. */
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"

/* Nesting of JSON arrays and objects accepted by the reader. */
#define JSON_MAX_DEPTH 64
/* The writer's bound on nested contains/soft groups (as the text parser's). */
#define JSON_MAX_FEATURE_DEPTH 64

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;
/* Set when an allocation of jansson's fails: jansson reports some of them as syntax errors
 * ("string or '}' expected"), and the caller must hear "out of memory" instead. */
static _Thread_local bool json_alloc_failed;

static void *json_alloc(size_t n)
{
  void *p = imc_malloc(n);

  if (!p)
    json_alloc_failed = true;
  return p;
}

/* jansson allocates through imc's wrappers, so that allocation failures can be tested and no
 * allocation escapes the project's accounting.  imc_free is free(), so memory jansson took
 * before this ran is still released correctly. */
static void use_imc_alloc(void)
{
  json_set_alloc_funcs(json_alloc, imc_free);
}

/* Reserved keys: "class" and "id" name the object (IM's p_features skips them at every
 * level), "softs" holds soft groups, and in an element "reference" marks a bare reference. */
static bool reserved_key(const char *key, bool elem)
{
  return strcmp(key, "class") == 0 || strcmp(key, "id") == 0 || strcmp(key, "softs") == 0 ||
         (elem && strcmp(key, "reference") == 0);
}

static bool ends_with(const char *s, const char *tail)
{
  size_t n = strlen(s), t = strlen(tail);

  return n >= t && strcmp(s + n - t, tail) == 0;
}

/* ===================================================================================== */
/* Writing                                                                               */
/* ===================================================================================== */

struct jw {
  struct imc_err *err;
};

static int nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory");
}

/* jansson refuses strings that are not UTF-8; say which value instead of failing later. */
static bool utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;

  while (*p) {
    unsigned c = *p++;
    int more;
    unsigned cp, min;

    if (c < 0x80)
      continue;
    if (c >= 0xC2 && c <= 0xDF)
      more = 1, cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
      more = 2, cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
      more = 3, cp = c & 0x07, min = 0x10000;
    else
      return false;
    for (int i = 0; i < more; i++, p++) {
      if ((*p & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (*p & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
  }
  return true;
}

/* A new JSON string; IMC_E_INVAL (naming the key) when s is not UTF-8. */
static int jstr(struct jw *w, const char *key, const char *s, json_t **out)
{
  if (!utf8_valid(s))
    return imc_fail(w->err, IMC_E_INVAL, "value of '%.100s' is not valid UTF-8 and cannot be "
                    "written as JSON", key);
  if (!(*out = json_string(s)))
    return nomem(w->err);
  return 0;
}

/* Sets obj[key] = v, taking v whatever happens.  A key already set means two features would
 * share one JSON key (a string feature "x_min" and the lower bound of "x"): IMC_E_INVAL. */
static int jset(struct jw *w, json_t *obj, const char *key, json_t *v)
{
  if (!v)
    return nomem(w->err);
  if (!utf8_valid(key)) {
    json_decref(v);
    return imc_fail(w->err, IMC_E_INVAL, "feature name '%.100s' is not valid UTF-8", key);
  }
  if (json_object_get(obj, key)) {
    json_decref(v);
    return imc_fail(w->err, IMC_E_INVAL, "feature '%.100s' cannot be written as JSON: its key "
                    "is already used", key);
  }
  return json_object_set_new(obj, key, v) ? nomem(w->err) : 0;
}

static int jset_str(struct jw *w, json_t *obj, const char *key, const char *s)
{
  json_t *v = NULL;
  int r;

  if ((r = jstr(w, key, s, &v)) != 0)
    return r;
  return jset(w, obj, key, v);
}

/* A number in base units, as IM's featureToSimple: an integer stays one (every unit factor
 * is whole), a float becomes a real. */
static int jnum(struct jw *w, const char *name, struct imc_num n, const char *unit,
                json_t **out)
{
  double factor;
  int64_t i;

  imc_unit_factor(unit, &factor);
  if (!n.is_float && factor == floor(factor) && factor < 9.2e18) {
    if (__builtin_mul_overflow(n.i, (int64_t)factor, &i))
      return imc_fail(w->err, IMC_E_INVAL, "value of '%.100s' is too large for JSON", name);
    *out = json_integer(i);
  } else {
    double v = imc_num_value(n) * factor;

    if (!isfinite(v))
      return imc_fail(w->err, IMC_E_INVAL, "value of '%.100s' is not a finite number", name);
    *out = json_real(v);
  }
  return *out ? 0 : nomem(w->err);
}

static int jset_num(struct jw *w, json_t *obj, const char *key, const char *name,
                    struct imc_num n, const char *unit)
{
  json_t *v = NULL;
  int r;

  if ((r = jnum(w, name, n, unit, &v)) != 0)
    return r;
  return jset(w, obj, key, v);
}

/* obj[name + suffix] = f's number. */
static int jset_bound(struct jw *w, json_t *obj, const char *name, const char *suffix,
                      const struct imc_feature *f)
{
  struct imc_buf key;
  int r;

  imc_buf_init(&key, IMC_MAX_DOC);
  imc_buf_adds(&key, name);
  imc_buf_adds(&key, suffix);
  if (imc_buf_err(&key))
    r = nomem(w->err);
  else
    r = jset_num(w, obj, imc_buf_cstr(&key), name, f->num, f->unit);
  imc_buf_free(&key);
  return r;
}

static int jlist(struct jw *w, const struct imc_feature *f, json_t **out)
{
  json_t *a = json_array();
  int r = 0;

  if (!a)
    return nomem(w->err);
  for (size_t i = 0; i < f->nlist && r == 0; i++) {
    json_t *s;

    if ((r = jstr(w, f->name, f->list[i], &s)) == 0 && json_array_append_new(a, s))
      r = nomem(w->err);
  }
  if (r) {
    json_decref(a);
    return r;
  }
  *out = a;
  return 0;
}

/* A string or list feature (and a contextualize option): the operator is not written, as in
 * IM, so `os.version >= '7'` comes back as `=`. */
static int jset_value(struct jw *w, json_t *obj, const struct imc_feature *f)
{
  json_t *v = NULL;
  int r;

  if (f->type == IMC_V_LIST) {
    if ((r = jlist(w, f, &v)) != 0)
      return r;
    return jset(w, obj, f->name, v);
  }
  return jset_str(w, obj, f->name, f->str ? f->str : "");
}

/* A number: NAME when lo and hi hold the same value, else NAME_min and/or NAME_max.  IM
 * writes only the _min when both bounds differ; both are written here. */
static int jset_range(struct jw *w, json_t *obj, const char *name, const struct imc_feature *lo,
                      const struct imc_feature *hi)
{
  int r;

  /* A number under a name ending in _min/_max would read back as a bound of another name. */
  if (ends_with(name, "_min") || ends_with(name, "_max"))
    return imc_fail(w->err, IMC_E_INVAL, "numeric feature '%.100s' cannot be written as JSON: "
                    "its name would read as a bound", name);
  if (lo && hi && lo->num.is_float == hi->num.is_float &&
      imc_feature_num_in(lo, NULL) == imc_feature_num_in(hi, NULL))
    return jset_num(w, obj, name, name, lo->num, lo->unit);
  if (lo && (r = jset_bound(w, obj, name, "_min", lo)) != 0)
    return r;
  if (hi && (r = jset_bound(w, obj, name, "_max", hi)) != 0)
    return r;
  return 0;
}

static int jfeatures(struct jw *w, const struct imc_features *fs, bool elem, int depth,
                     json_t *obj);

/* A new object holding fs (an empty one for NULL). */
static int jsub(struct jw *w, const struct imc_features *fs, int depth, json_t **out)
{
  json_t *o = json_object();
  int r;

  if (!o)
    return nomem(w->err);
  if (depth > JSON_MAX_FEATURE_DEPTH) {
    json_decref(o);
    return imc_fail(w->err, IMC_E_TOOBIG, "features nested deeper than %d levels",
                    JSON_MAX_FEATURE_DEPTH);
  }
  if (fs && (r = jfeatures(w, fs, false, depth, o)) != 0) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

/* "softs": [{"weight": W, "items": {...}}, ...] */
static int jsofts(struct jw *w, const struct imc_prop *p, int depth, json_t **out)
{
  json_t *a = json_array();
  int r = 0;

  if (!a)
    return nomem(w->err);
  for (size_t i = 0; i < p->nitems && r == 0; i++) {
    json_t *g = json_object(), *items = NULL;

    if (!g) {
      r = nomem(w->err);
      break;
    }
    if ((r = jset_num(w, g, "weight", "soft weight", p->items[i]->num, NULL)) == 0 &&
        (r = jsub(w, p->items[i]->sub, depth + 1, &items)) == 0)
      r = jset(w, g, "items", items);
    if (r == 0 && json_array_append_new(a, g))
      r = nomem(w->err);
    else if (r)
      json_decref(g);
  }
  if (r) {
    json_decref(a);
    return r;
  }
  *out = a;
  return 0;
}

/* NAME: [{inner features}, ...] for the items of a contains. */
static int jcontains(struct jw *w, const struct imc_prop *p, int depth, json_t **out)
{
  json_t *a = json_array();
  int r = 0;

  if (!a)
    return nomem(w->err);
  for (size_t i = 0; i < p->nitems && r == 0; i++) {
    json_t *o = NULL;

    if ((r = jsub(w, p->items[i]->sub, depth + 1, &o)) == 0 && json_array_append_new(a, o))
      r = nomem(w->err);
  }
  if (r) {
    json_decref(a);
    return r;
  }
  *out = a;
  return 0;
}

static int jprop(struct jw *w, const struct imc_prop *p, int depth, json_t *obj)
{
  json_t *v = NULL;
  int r;

  switch (p->kind) {
  case IMC_PROP_VALUE:
    return jset_value(w, obj, p->value);
  case IMC_PROP_RANGE:
    return jset_range(w, obj, p->name, p->lo, p->hi);
  case IMC_PROP_CONTAINS:
    if ((r = jcontains(w, p, depth, &v)) != 0)
      return r;
    return jset(w, obj, p->name, v);
  default:
    if ((r = jsofts(w, p, depth, &v)) != 0)
      return r;
    return jset(w, obj, "softs", v);
  }
}

static int jfeatures(struct jw *w, const struct imc_features *fs, bool elem, int depth,
                     json_t *obj)
{
  int r;

  for (size_t i = 0; i < fs->nprops; i++) {
    const struct imc_prop *p = &fs->props[i];

    if (p->kind != IMC_PROP_SOFT && (!p->name || reserved_key(p->name, elem)))
      return imc_fail(w->err, IMC_E_INVAL, "feature '%.100s' cannot be written as JSON: the "
                      "key is reserved", p->name ? p->name : "");
    if ((r = jprop(w, p, depth, obj)) != 0)
      return r;
  }
  return 0;
}

/* {"class": CLASS, "id": ID} plus the rest of the object. */
static int jhead(struct jw *w, const char *cls, const char *id, json_t **out)
{
  json_t *o = json_object();
  int r;

  if (!o)
    return nomem(w->err);
  if ((r = jset_str(w, o, "class", cls)) != 0 ||
      (id && (r = jset_str(w, o, "id", id)) != 0)) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

static int jelem(struct jw *w, const struct imc_elem *e, json_t **out)
{
  json_t *o = NULL;
  int r;

  if (!e->id)
    return imc_fail(w->err, IMC_E_INVAL, "%s without an id", imc_elem_kind_name(e->kind));
  if ((r = jhead(w, imc_elem_kind_name(e->kind), e->id, &o)) != 0)
    return r;
  if (e->reference)
    r = jset(w, o, "reference", json_true());
  else
    r = jfeatures(w, &e->feats, true, 1, o);
  if (r) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

static int jconfigure(struct jw *w, const struct imc_configure *c, json_t **out)
{
  json_t *o, *recipe = NULL;
  int r;

  if (!c->id)
    return imc_fail(w->err, IMC_E_INVAL, "configure without an id");
  if ((r = jhead(w, "configure", c->id, &o)) != 0)
    return r;
  if (c->reference)
    r = jset(w, o, "reference", json_true());
  else if (!c->recipe)
    r = jset(w, o, "recipes", json_null());
  else if ((r = jstr(w, "recipes", c->recipe, &recipe)) == 0)
    r = jset(w, o, "recipes", recipe);
  if (r) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

static int jdeploy(struct jw *w, const struct imc_deploy *d, json_t **out)
{
  json_t *o = NULL;
  int r;

  if ((r = jhead(w, "deploy", NULL, &o)) != 0)
    return r;
  if ((r = jset_str(w, o, "system", d->system ? d->system : "")) == 0 &&
      (r = jset_num(w, o, "vm_number", "vm_number", d->count, NULL)) == 0 && d->cloud)
    r = jset_str(w, o, "cloud", d->cloud);
  if (r) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

static bool num_zero(struct imc_num n)
{
  return !n.is_float && n.i == 0;
}

static int jctxt_item(struct jw *w, const struct imc_ctxt_item *it, json_t *items)
{
  json_t *o = json_object();
  int r;

  if (!o)
    return nomem(w->err);
  if ((r = jset_str(w, o, "system", it->system ? it->system : "")) == 0 &&
      (r = jset_str(w, o, "configure", it->configure ? it->configure : "")) == 0 &&
      !num_zero(it->step))
    r = jset_num(w, o, "step", "step", it->step, NULL);
  if (r == 0 && it->tool)
    r = jset_str(w, o, "ctxt_tool", it->tool);
  if (r) {
    json_decref(o);
    return r;
  }
  return json_array_append_new(items, o) ? nomem(w->err) : 0;
}

/* Options are features too in IM's JSON: a number with `>=` is NAME_min.  Only strings and
 * numbers, which is what the reader takes back. */
static int joption(struct jw *w, const struct imc_feature *o, json_t *obj)
{
  bool lower = o->op == IMC_OP_GE || o->op == IMC_OP_GT;
  bool upper = o->op == IMC_OP_LE || o->op == IMC_OP_LT;

  if (!o->name || reserved_key(o->name, false) || o->type == IMC_V_FEATURES ||
      o->type == IMC_V_LIST)
    return imc_fail(w->err, IMC_E_INVAL, "option '%.100s' cannot be written as JSON",
                    o->name ? o->name : "");
  if (o->type != IMC_V_NUM)
    return jset_value(w, obj, o);
  return jset_range(w, obj, o->name, upper ? NULL : o, lower ? NULL : o);
}

static int jctxt(struct jw *w, const struct imc_ctxt *c, json_t **out)
{
  json_t *o, *items = NULL, *opts = NULL;
  int r;

  if ((r = jhead(w, "contextualize", NULL, &o)) != 0)
    return r;
  if (!num_zero(c->max_time))
    r = jset_num(w, o, "max_time", "max_time", c->max_time, NULL);
  if (r == 0 && c->nitems && (r = jset(w, o, "items", items = json_array())) == 0)
    for (size_t i = 0; i < c->nitems && r == 0; i++)
      r = jctxt_item(w, c->items[i], items);
  if (r == 0 && c->noptions && (r = jset(w, o, "options", opts = json_object())) == 0)
    for (size_t i = 0; i < c->noptions && r == 0; i++)
      r = joption(w, c->options[i], opts);
  if (r) {
    json_decref(o);
    return r;
  }
  *out = o;
  return 0;
}

static int jappend(struct jw *w, json_t *list, json_t *v)
{
  return json_array_append_new(list, v) ? nomem(w->err) : 0;
}

/* IM's radlToSimple order: ansible hosts, networks, systems, configures, deploys,
 * contextualize, description. */
static int jdoc(struct jw *w, const struct imc_doc *doc, json_t *list)
{
  const struct {
    struct imc_elem *const *v;
    size_t n;
  } groups[] = {
    {doc->ansibles, doc->nansibles},
    {doc->networks, doc->nnetworks},
    {doc->systems, doc->nsystems},
  };
  json_t *v = NULL;
  int r = 0;

  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
    for (size_t i = 0; i < groups[g].n && r == 0; i++)
      if ((r = jelem(w, groups[g].v[i], &v)) == 0)
        r = jappend(w, list, v);
  for (size_t i = 0; i < doc->nconfigures && r == 0; i++)
    if ((r = jconfigure(w, doc->configures[i], &v)) == 0)
      r = jappend(w, list, v);
  for (size_t i = 0; i < doc->ndeploys && r == 0; i++)
    if ((r = jdeploy(w, doc->deploys[i], &v)) == 0)
      r = jappend(w, list, v);
  if (r == 0 && doc->ctxt.present && (r = jctxt(w, &doc->ctxt, &v)) == 0)
    r = jappend(w, list, v);
  if (r == 0 && doc->description && (r = jelem(w, doc->description, &v)) == 0)
    r = jappend(w, list, v);
  return r;
}

/* The fewest significant digits (1..17) with which "%.*g" gives back v; with fewer digits
 * than its integer part %g would switch to an exponent, so those count too (up to 16, where
 * Python's repr switches as well). */
static int real_digits(double v)
{
  char s[40];
  int p = 1;

  for (; p < 17; p++) {
    snprintf(s, sizeof s, "%.*g", p, v);
    if (strtod(s, NULL) == v)
      break;
  }
  if (v != 0 && isfinite(v)) {
    int mag = (int)floor(log10(fabs(v))) + 1;

    if (mag > p && mag <= 16)
      p = mag;
  }
  return p;
}

/* Walks every real of v: max_digits raises *p to what each needs; otherwise checks that each
 * reads back at precision *p (and sets it to 17 when one does not). */
static void real_precision(json_t *v, bool max_digits, int *p)
{
  const char *key;
  json_t *x;
  size_t i;
  char s[40];

  if (json_is_real(v)) {
    double d = json_real_value(v);

    if (max_digits) {
      int need = real_digits(d);

      *p = need > *p ? need : *p;
    } else {
      snprintf(s, sizeof s, "%.*g", *p, d);
      if (strtod(s, NULL) != d)
        *p = 17;
    }
  } else if (json_is_array(v)) {
    json_array_foreach(v, i, x)
      real_precision(x, max_digits, p);
  } else if (json_is_object(v)) {
    json_object_foreach(v, key, x)
      real_precision(x, max_digits, p);
  }
}

int radl_json_print(const struct imc_doc *doc, bool pretty, struct imc_buf *out,
                    struct imc_err *err)
{
  struct jw w = {.err = err};
  json_t *list;
  char *text = NULL;
  int r, prec = 1;
  size_t flags;

  pthread_once(&alloc_once, use_imc_alloc);
  if (!(list = json_array()))
    return nomem(err);
  if ((r = jdoc(&w, doc, list)) != 0)
    goto out;
  /* jansson writes every real with one precision (17 digits unless told): use the least
   * that gives each real back, so 0.1 is written 0.1 as IM (Python) does. */
  real_precision(list, true, &prec);
  real_precision(list, false, &prec);
  flags = (pretty ? JSON_INDENT(2) | JSON_SORT_KEYS : JSON_COMPACT) | JSON_REAL_PRECISION(prec);
  if (!(text = json_dumps(list, flags))) {
    r = nomem(err);
    goto out;
  }
  imc_buf_add(out, text, strlen(text));
  if ((r = imc_buf_err(out)) == IMC_E_TOOBIG)
    imc_fail(err, r, "JSON RADL larger than %zu bytes", out->max);
  else if (r)
    nomem(err);
out:
  imc_free(text);
  json_decref(list);
  return r;
}

/* ===================================================================================== */
/* Reading                                                                               */
/* ===================================================================================== */

#define NPOS SIZE_MAX

/* The reader walks jansson's tree and, in step with it, the raw text (jansson keeps object
 * members in text order and duplicates are refused), so that every element and feature gets
 * the line:col of its text.  The text is valid JSON by then, but every step is still bounded
 * by len. */
struct jr {
  const char *source;
  const char *text;
  size_t len;
  struct imc_err *err;
  struct imc_doc *doc;
  size_t at_off; /* line:col cache: positions are asked for mostly in increasing order */
  int at_line, at_col;
};

static struct imc_pos pos_of(struct jr *j, size_t off)
{
  struct imc_pos p;

  if (off == NPOS)
    off = 0;
  if (off < j->at_off) {
    j->at_off = 0;
    j->at_line = j->at_col = 1;
  }
  for (; j->at_off < off && j->at_off < j->len; j->at_off++) {
    unsigned char c = (unsigned char)j->text[j->at_off];

    if (c == '\n') {
      j->at_line++;
      j->at_col = 1;
    } else if ((c & 0xC0) != 0x80) {
      j->at_col++;
    }
  }
  p.line = j->at_line;
  p.col = j->at_col;
  return p;
}

static int jr_fail(struct jr *j, enum imc_code code, size_t off, const char *fmt, ...)
  IMC_PRINTF(4, 5);

static int jr_fail(struct jr *j, enum imc_code code, size_t off, const char *fmt, ...)
{
  struct imc_pos p = pos_of(j, off);
  char msg[IMC_ERR_MSG_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return imc_fail_at(j->err, code, j->source, p.line, p.col, "%s", msg);
}

/* Model calls report memory failures by code only. */
static int model_err(struct jr *j, int r)
{
  if (r == IMC_E_NOMEM)
    nomem(j->err);
  return r;
}

/* --- the raw-text cursor ---------------------------------------------------------------- */

static size_t skip_ws(const struct jr *j, size_t off)
{
  while (off < j->len && (j->text[off] == ' ' || j->text[off] == '\t' || j->text[off] == '\n' ||
                          j->text[off] == '\r'))
    off++;
  return off < j->len ? off : NPOS;
}

/* off at an opening quote; returns the offset just past the closing one. */
static size_t skip_string(const struct jr *j, size_t off)
{
  for (off++; off < j->len; off++) {
    if (j->text[off] == '\\')
      off++;
    else if (j->text[off] == '"')
      return off + 1;
  }
  return NPOS;
}

/* off at the first byte of a value; returns the offset just past it. */
static size_t skip_value(const struct jr *j, size_t off)
{
  int depth = 0;

  if (off == NPOS)
    return NPOS;
  while (off < j->len) {
    char c = j->text[off];

    if (c == '"') {
      off = skip_string(j, off);
      if (depth == 0 || off == NPOS)
        return off;
      continue;
    }
    if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (depth == 0)
        return off;
      if (--depth == 0)
        return off + 1;
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      return off;
    }
    off++;
  }
  return off;
}

/* off at '{' or '['; the first key (object) or value (array), NPOS when empty. */
static size_t first_in(const struct jr *j, size_t off)
{
  if (off == NPOS || off >= j->len)
    return NPOS;
  off = skip_ws(j, off + 1);
  if (off == NPOS || j->text[off] == '}' || j->text[off] == ']')
    return NPOS;
  return off;
}

/* off at a member's key; the offset of its value. */
static size_t member_value(const struct jr *j, size_t off)
{
  if (off == NPOS || (off = skip_string(j, off)) == NPOS || (off = skip_ws(j, off)) == NPOS ||
      j->text[off] != ':')
    return NPOS;
  return skip_ws(j, off + 1);
}

/* off at a value in an array or object; the next value (array) or key (object) after it. */
static size_t next_in(const struct jr *j, size_t off)
{
  if ((off = skip_value(j, off)) == NPOS || (off = skip_ws(j, off)) == NPOS ||
      j->text[off] != ',')
    return NPOS;
  return skip_ws(j, off + 1);
}

/* --- a node: a jansson value and where its text starts ------------------------------------ */

struct jnode {
  json_t *v;
  size_t off; /* first byte of the value */
  size_t key; /* for a member: its key's opening quote; else the same as off */
};

/* Member key of obj, found in step with jansson's order; (NULL, NPOS) when absent. */
static struct jnode member(const struct jr *j, struct jnode obj, const char *key)
{
  struct jnode m = {json_object_get(obj.v, key), NPOS, NPOS};
  size_t k = first_in(j, obj.off);
  const char *name;
  json_t *v = NULL;

  if (!m.v)
    return m;
  json_object_foreach(obj.v, name, v) {
    if (strcmp(name, key) == 0) {
      m.key = k;
      m.off = member_value(j, k);
      break;
    }
    k = next_in(j, member_value(j, k));
  }
  if (m.off == NPOS)
    m.off = m.key = obj.off;
  return m;
}

/* Iterates the members of obj: call with *iter = NULL first; fills the node of each. */
static bool next_member(const struct jr *j, struct jnode obj, void **iter, size_t *k,
                        const char **name, struct jnode *m)
{
  bool first = *iter == NULL;

  *iter = first ? json_object_iter(obj.v) : json_object_iter_next(obj.v, *iter);
  if (!*iter)
    return false;
  *k = first ? first_in(j, obj.off) : next_in(j, member_value(j, *k));
  *name = json_object_iter_key(*iter);
  m->v = json_object_iter_value(*iter);
  m->key = *k;
  m->off = member_value(j, *k);
  if (m->off == NPOS)
    m->off = m->key = obj.off;
  return true;
}

/* Iterates the values of an array: *i counts from 0. */
static bool next_item(const struct jr *j, struct jnode arr, size_t *i, struct jnode *it)
{
  if (*i >= json_array_size(arr.v))
    return false;
  it->off = *i == 0 ? first_in(j, arr.off) : next_in(j, it->off);
  it->v = json_array_get(arr.v, *i);
  it->key = it->off;
  (*i)++;
  if (it->off == NPOS)
    it->off = it->key = arr.off;
  return true;
}

/* --- values ------------------------------------------------------------------------------ */

static bool is_null_or_absent(struct jnode n)
{
  return !n.v || json_is_null(n.v);
}

static struct imc_num num_of(json_t *v)
{
  struct imc_num n = {0};

  if (json_is_integer(v)) {
    n.i = json_integer_value(v);
  } else {
    n.is_float = true;
    n.f = json_real_value(v);
  }
  return n;
}

/* A required or optional (NULL/absent allowed when opt) string member. */
static int get_str(struct jr *j, struct jnode obj, const char *key, bool opt, bool nonempty,
                   const char **out)
{
  struct jnode m = member(j, obj, key);

  *out = NULL;
  if (opt && is_null_or_absent(m))
    return 0;
  if (!m.v)
    return jr_fail(j, IMC_E_PARSE, obj.off, "missing \"%s\"", key);
  if (!json_is_string(m.v) || (nonempty && json_string_length(m.v) == 0))
    return jr_fail(j, IMC_E_PARSE, m.off, "\"%s\" must be a%s string", key,
                   nonempty ? " non-empty" : "");
  *out = json_string_value(m.v);
  return 0;
}

static int get_num(struct jr *j, struct jnode obj, const char *key, bool opt,
                   struct imc_num *out)
{
  struct jnode m = member(j, obj, key);

  if (opt && is_null_or_absent(m))
    return 0;
  if (!m.v)
    return jr_fail(j, IMC_E_PARSE, obj.off, "missing \"%s\"", key);
  if (!json_is_number(m.v))
    return jr_fail(j, IMC_E_PARSE, m.off, "\"%s\" must be a number", key);
  *out = num_of(m.v);
  return 0;
}

/* "reference": true | false; anything else is an error. */
static int get_reference(struct jr *j, struct jnode obj, bool *out)
{
  struct jnode m = member(j, obj, "reference");

  *out = false;
  if (!m.v)
    return 0;
  if (!json_is_boolean(m.v))
    return jr_fail(j, IMC_E_PARSE, m.off, "\"reference\" must be true or false");
  *out = json_is_true(m.v);
  return 0;
}

/* --- features ---------------------------------------------------------------------------- */

static int read_features(struct jr *j, struct jnode obj, bool elem, struct imc_features *fs);

static int add_feature(struct jr *j, struct imc_features *fs, struct imc_feature *f)
{
  return model_err(j, imc_features_add(fs, f, IMC_POLICY_ERROR, IMC_POLICY_OTHER, j->source,
                                       j->err));
}

/* A new feature of name (may be NULL) with the position of node n's key. */
static int new_feature(struct jr *j, const char *name, size_t namelen, enum imc_op op,
                       enum imc_vtype type, struct jnode n, struct imc_feature **out)
{
  struct imc_feature *f = imc_feature_new(NULL, op, type);

  if (!f || (name && !(f->name = imc_strndup(name, namelen)))) {
    imc_feature_free(f);
    return nomem(j->err);
  }
  f->pos = pos_of(j, n.key);
  *out = f;
  return 0;
}

/* The features of object n (none when n.v is NULL) into a new set: soft groups, contains
 * items. */
static int read_group(struct jr *j, struct jnode n, struct imc_feature *f)
{
  if (!(f->sub = imc_features_new()))
    return nomem(j->err);
  return n.v ? read_features(j, n, false, f->sub) : 0;
}

/* "softs": [{"weight": W, "items": {...}}]; IM's defaults: weight 0, no items. */
static int read_softs(struct jr *j, struct imc_features *fs, struct jnode arr)
{
  struct jnode g;
  size_t i = 0;
  int r;

  if (!json_is_array(arr.v))
    return jr_fail(j, IMC_E_PARSE, arr.off, "\"softs\" must be a list of objects");
  while (next_item(j, arr, &i, &g)) {
    struct imc_num weight = {0};
    struct imc_feature *f = NULL;
    struct jnode items;

    if (!json_is_object(g.v))
      return jr_fail(j, IMC_E_PARSE, g.off, "a soft group must be an object");
    items = member(j, g, "items");
    if (items.v && !json_is_object(items.v))
      return jr_fail(j, IMC_E_PARSE, items.off, "\"items\" must be an object");
    if ((r = get_num(j, g, "weight", true, &weight)) != 0 ||
        (r = new_feature(j, NULL, 0, IMC_OP_SOFT, IMC_V_FEATURES, g, &f)) != 0)
      return r;
    f->num = weight;
    if ((r = read_group(j, items, f)) != 0) {
      imc_feature_free(f);
      return r;
    }
    if ((r = add_feature(j, fs, f)) != 0)
      return r;
  }
  return 0;
}

/* An array: strings make a list feature, objects make `contains` items; [] is an empty list. */
static int read_array(struct jr *j, struct imc_features *fs, const char *name, struct jnode arr)
{
  bool objects = json_array_size(arr.v) > 0 && json_is_object(json_array_get(arr.v, 0));
  struct imc_feature *list = NULL;
  struct jnode it;
  size_t i = 0;
  int r = 0;

  if (!objects && (r = new_feature(j, name, SIZE_MAX, IMC_OP_EQ, IMC_V_LIST, arr, &list)) != 0)
    return r;
  if (list && json_array_size(arr.v) &&
      !(list->list = imc_calloc(json_array_size(arr.v), sizeof *list->list)))
    r = nomem(j->err);
  while (r == 0 && next_item(j, arr, &i, &it)) {
    struct imc_feature *f = NULL;

    if (objects != json_is_object(it.v) || (!objects && !json_is_string(it.v))) {
      r = jr_fail(j, IMC_E_PARSE, it.off, "the items of '%.100s' must be all strings or all "
                  "objects", name);
    } else if (!objects) {
      if (!(list->list[list->nlist] = imc_strdup(json_string_value(it.v))))
        r = nomem(j->err);
      else
        list->nlist++;
    } else if ((r = new_feature(j, name, SIZE_MAX, IMC_OP_CONTAINS, IMC_V_FEATURES, it,
                                &f)) == 0) {
      if ((r = read_group(j, it, f)) == 0)
        r = add_feature(j, fs, f);
      else
        imc_feature_free(f);
    }
  }
  if (r) {
    imc_feature_free(list);
    return r;
  }
  return list ? add_feature(j, fs, list) : 0;
}

/* One member NAME: VALUE of a features object, as IM's p_features. */
static int read_member(struct jr *j, struct imc_features *fs, const char *name, struct jnode m)
{
  size_t n = strlen(name);
  bool bound = (ends_with(name, "_min") || ends_with(name, "_max")) && json_is_number(m.v);
  struct imc_feature *f = NULL;
  int r;

  if (strcmp(name, "softs") == 0)
    return read_softs(j, fs, m);
  if (json_is_array(m.v))
    return read_array(j, fs, name, m);
  if (bound) {
    r = new_feature(j, name, n - 4, name[n - 2] == 'i' ? IMC_OP_GE : IMC_OP_LE, IMC_V_NUM, m,
                    &f);
  } else if (json_is_number(m.v)) {
    r = new_feature(j, name, n, IMC_OP_EQ, IMC_V_NUM, m, &f);
  } else if (json_is_string(m.v)) {
    if ((r = new_feature(j, name, n, IMC_OP_EQ, IMC_V_STR, m, &f)) == 0 &&
        !(f->str = imc_strdup(json_string_value(m.v)))) {
      imc_feature_free(f);
      r = nomem(j->err);
    }
    return r ? r : add_feature(j, fs, f);
  } else {
    return jr_fail(j, IMC_E_PARSE, m.off, "value of '%.100s' must be a string, a number or a "
                   "list", name);
  }
  if (r)
    return r;
  f->num = num_of(m.v);
  return add_feature(j, fs, f);
}

/* The members of obj as features; "class" and "id" name the object (IM skips them), and in
 * an element "reference" was read already.  An object with a "class" inside a contains
 * would be an element (IM's p_cfeatures), which the model does not hold. */
static int read_features(struct jr *j, struct jnode obj, bool elem, struct imc_features *fs)
{
  const char *name;
  struct jnode m;
  void *iter = NULL;
  size_t k = NPOS;
  int r;

  while (next_member(j, obj, &iter, &k, &name, &m)) {
    if (!elem && strcmp(name, "class") == 0)
      return jr_fail(j, IMC_E_PARSE, m.key, "an element (\"class\") inside a feature is not "
                     "supported");
    if (strcmp(name, "class") == 0 || strcmp(name, "id") == 0 ||
        (elem && strcmp(name, "reference") == 0))
      continue;
    if ((r = read_member(j, fs, name, m)) != 0)
      return r;
  }
  return 0;
}

/* --- the objects of the list --------------------------------------------------------------- */

static int read_elem(struct jr *j, struct jnode obj, enum imc_elem_kind kind)
{
  struct imc_elem *e;
  const char *id;
  bool ref;
  int r;

  if ((r = get_str(j, obj, "id", false, true, &id)) != 0 ||
      (r = get_reference(j, obj, &ref)) != 0)
    return r;
  if (ref && kind == IMC_ELEM_ANSIBLE)
    return jr_fail(j, IMC_E_PARSE, member(j, obj, "reference").off,
                   "an ansible host cannot be a reference");
  if (!(e = imc_elem_new(kind, id)))
    return nomem(j->err);
  e->pos = pos_of(j, obj.off);
  e->reference = ref;
  if (!ref && (r = read_features(j, obj, true, &e->feats)) != 0) {
    imc_elem_free(e);
    return r;
  }
  return model_err(j, imc_doc_add_elem(j->doc, e, IMC_IFPRESENT_ERROR, NULL, j->err));
}

static int read_system(struct jr *j, struct jnode obj)
{
  return read_elem(j, obj, IMC_ELEM_SYSTEM);
}

static int read_network(struct jr *j, struct jnode obj)
{
  return read_elem(j, obj, IMC_ELEM_NETWORK);
}

static int read_ansible(struct jr *j, struct jnode obj)
{
  return read_elem(j, obj, IMC_ELEM_ANSIBLE);
}

static int read_description(struct jr *j, struct jnode obj)
{
  return read_elem(j, obj, IMC_ELEM_DESCRIPTION);
}

/* {"id", "recipes": TEXT | null} or {"id", "reference": true}. */
static int read_configure(struct jr *j, struct jnode obj)
{
  struct imc_configure *c;
  struct jnode recipes = member(j, obj, "recipes");
  const char *id;
  bool ref;
  int r;

  if ((r = get_str(j, obj, "id", false, true, &id)) != 0 ||
      (r = get_reference(j, obj, &ref)) != 0)
    return r;
  if (!ref && !recipes.v)
    return jr_fail(j, IMC_E_PARSE, obj.off, "configure '%.100s' has neither \"recipes\" nor "
                   "\"reference\"", id);
  if (!ref && !json_is_string(recipes.v) && !json_is_null(recipes.v))
    return jr_fail(j, IMC_E_PARSE, recipes.off, "\"recipes\" must be a string or null");
  if (!(c = imc_configure_new(id)))
    return nomem(j->err);
  c->pos = pos_of(j, obj.off);
  c->reference = ref;
  if (!ref && json_is_string(recipes.v)) {
    c->recipe_pos = pos_of(j, recipes.off);
    if (!(c->recipe = imc_strdup(json_string_value(recipes.v)))) {
      imc_configure_free(c);
      return nomem(j->err);
    }
  }
  return model_err(j, imc_doc_add_configure(j->doc, c, IMC_IFPRESENT_ERROR, NULL, j->err));
}

/* {"system", "vm_number", "cloud"?} */
static int read_deploy(struct jr *j, struct jnode obj)
{
  struct imc_deploy *d;
  const char *system, *cloud;
  struct imc_num count;
  int r;

  if ((r = get_str(j, obj, "system", false, true, &system)) != 0 ||
      (r = get_num(j, obj, "vm_number", false, &count)) != 0 ||
      (r = get_str(j, obj, "cloud", true, false, &cloud)) != 0)
    return r;
  if (!(d = imc_calloc(1, sizeof *d)))
    return nomem(j->err);
  d->count = count;
  d->pos = pos_of(j, obj.off);
  if (!(d->system = imc_strdup(system)) || (cloud && !(d->cloud = imc_strdup(cloud)))) {
    imc_deploy_free(d);
    return nomem(j->err);
  }
  return model_err(j, imc_doc_add_deploy(j->doc, d, j->err));
}

/* {"system", "configure", "step"?, "ctxt_tool"?} */
static int read_ctxt_item(struct jr *j, struct jnode obj)
{
  struct imc_ctxt_item *it;
  const char *system, *configure, *tool;
  struct imc_num step = {0};
  int r;

  if (!json_is_object(obj.v))
    return jr_fail(j, IMC_E_PARSE, obj.off, "a contextualize item must be an object");
  if ((r = get_str(j, obj, "system", false, true, &system)) != 0 ||
      (r = get_str(j, obj, "configure", false, true, &configure)) != 0 ||
      (r = get_num(j, obj, "step", true, &step)) != 0 ||
      (r = get_str(j, obj, "ctxt_tool", true, false, &tool)) != 0)
    return r;
  if (!(it = imc_calloc(1, sizeof *it)))
    return nomem(j->err);
  it->step = step;
  it->pos = pos_of(j, obj.off);
  if (!(it->system = imc_strdup(system)) || !(it->configure = imc_strdup(configure)) ||
      (tool && !(it->tool = imc_strdup(tool)))) {
    imc_ctxt_item_free(it);
    return nomem(j->err);
  }
  return model_err(j, imc_ctxt_add_item(&j->doc->ctxt, it));
}

/* "options": {NAME: VALUE}: one per name (IM keeps them in a dict by name), so NAME_min and
 * NAME_max of one name leave the last. */
static int read_options(struct jr *j, struct jnode obj)
{
  const char *name;
  struct jnode m;
  void *iter = NULL;
  size_t k = NPOS;
  int r;

  if (!json_is_object(obj.v))
    return jr_fail(j, IMC_E_PARSE, obj.off, "\"options\" must be an object");
  while (next_member(j, obj, &iter, &k, &name, &m)) {
    struct imc_features one;


    if (strcmp(name, "class") == 0 || strcmp(name, "id") == 0)
      continue;
    if (!json_is_string(m.v) && !json_is_number(m.v))
      return jr_fail(j, IMC_E_PARSE, m.off, "option '%.100s' must be a string or a number",
                     name);
    /* The feature reader does the NAME_min/_max parsing; take its one feature back. */
    imc_features_init(&one);
    if ((r = read_member(j, &one, name, m)) == 0 && one.nprops == 1) {
      struct imc_prop *p = &one.props[0];
      struct imc_feature **slot = p->kind == IMC_PROP_VALUE ? &p->value
                                  : p->lo                   ? &p->lo
                                                            : &p->hi;
      struct imc_feature *f = *slot;

      *slot = NULL;
      r = model_err(j, imc_ctxt_add_option(&j->doc->ctxt, f));
    }
    imc_features_cleanup(&one);
    if (r)
      return r;
  }
  return 0;
}

/* Several contextualize objects merge as IM's contextualize.update. */
static int read_ctxt(struct jr *j, struct jnode obj)
{
  struct imc_ctxt *c = &j->doc->ctxt;
  struct jnode items = member(j, obj, "items"), opts = member(j, obj, "options"), it;
  struct imc_num max_time = {0};
  size_t i = 0;
  int r;

  if ((r = get_num(j, obj, "max_time", true, &max_time)) != 0)
    return r;
  if (!c->present) {
    c->present = true;
    c->pos = pos_of(j, obj.off);
  }
  if (imc_num_value(max_time) > imc_num_value(c->max_time))
    c->max_time = max_time;
  if (!is_null_or_absent(items)) {
    if (!json_is_array(items.v))
      return jr_fail(j, IMC_E_PARSE, items.off, "\"items\" must be a list of objects");
    while (next_item(j, items, &i, &it))
      if ((r = read_ctxt_item(j, it)) != 0)
        return r;
  }
  return is_null_or_absent(opts) ? 0 : read_options(j, opts);
}

static const struct {
  const char *name;
  int (*read)(struct jr *j, struct jnode obj);
} classes[] = {
  {"system", read_system},         {"network", read_network},
  {"ansible", read_ansible},       {"description", read_description},
  {"configure", read_configure},   {"deploy", read_deploy},
  {"contextualize", read_ctxt},
};

static int read_object(struct jr *j, struct jnode obj, size_t index)
{
  struct jnode cls;
  const char *name;

  if (!json_is_object(obj.v))
    return jr_fail(j, IMC_E_PARSE, obj.off, "element %zu of the list is not an object",
                   index + 1);
  cls = member(j, obj, "class");
  if (!cls.v)
    return jr_fail(j, IMC_E_PARSE, obj.off, "missing \"class\"");
  if (!json_is_string(cls.v))
    return jr_fail(j, IMC_E_PARSE, cls.off, "\"class\" must be a string");
  name = json_string_value(cls.v);
  for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
    if (strcmp(classes[i].name, name) == 0)
      return classes[i].read(j, obj);
  return jr_fail(j, IMC_E_PARSE, cls.off, "unknown class '%.60s'", name);
}

/* The first bracket nested deeper than JSON_MAX_DEPTH, or NPOS. */
static size_t too_deep(const struct jr *j)
{
  int depth = 0;

  for (size_t off = 0; off < j->len; off++) {
    char c = j->text[off];

    if (c == '"') {
      if ((off = skip_string(j, off)) == NPOS)
        return NPOS;
      off--;
    } else if (c == '[' || c == '{') {
      if (++depth > JSON_MAX_DEPTH)
        return off;
    } else if (c == ']' || c == '}') {
      depth--;
    }
  }
  return NPOS;
}

static int load(struct jr *j, json_t **root)
{
  json_error_t jerr;
  size_t deep;

  if (j->len > IMC_MAX_DOC)
    return imc_fail(j->err, IMC_E_TOOBIG, "%s: document larger than %u bytes",
                    j->source ? j->source : "JSON RADL", IMC_MAX_DOC);
  if ((deep = too_deep(j)) != NPOS)
    return jr_fail(j, IMC_E_TOOBIG, deep, "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
  /* Python's json keeps the last of two equal keys; a duplicate feature is a mistake more
   * likely than a wish, and refusing it keeps jansson's order the text's order. */
  json_alloc_failed = false;
  *root = json_loadb(j->text, j->len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (*root)
    return 0;
  if (json_alloc_failed || json_error_code(&jerr) == json_error_out_of_memory)
    return nomem(j->err);
  return imc_fail_at(j->err, IMC_E_PARSE, j->source, jerr.line > 0 ? jerr.line : 1,
                     jerr.column > 0 ? jerr.column : 1, "%s", jerr.text);
}

int radl_json_parse(const char *source, const char *text, size_t len, struct imc_doc **out,
                    struct imc_err *err)
{
  struct jr j = {.source = source, .text = text, .len = len, .err = err, .at_line = 1,
                 .at_col = 1};
  struct jnode top, it;
  json_t *root = NULL;
  size_t i = 0;
  int r;

  *out = NULL;
  pthread_once(&alloc_once, use_imc_alloc);
  if ((r = load(&j, &root)) != 0)
    return r;
  top.v = root;
  top.off = top.key = skip_ws(&j, 0);
  if (!json_is_array(root)) {
    r = jr_fail(&j, IMC_E_PARSE, top.off, "a JSON RADL must be a list of objects");
    goto out;
  }
  if (!(j.doc = imc_doc_new(source))) {
    r = nomem(err);
    goto out;
  }
  while (next_item(&j, top, &i, &it))
    if ((r = read_object(&j, it, i - 1)) != 0)
      goto out;
  *out = j.doc;
  j.doc = NULL;
out:
  imc_doc_free(j.doc);
  json_decref(root);
  return r;
}
