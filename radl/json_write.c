/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_json_print: a document as IM's JSON form of RADL (see json_int.h for the format). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "imc/utf8.h"
#include "json_int.h"

/* The writer's bound on nested contains/soft groups (as the text parser's). */
#define JSON_MAX_FEATURE_DEPTH 64

/* Reserved keys: "class" and "id" name the object (IM's p_features skips them at every
 * level), "softs" holds soft groups, and in an element "reference" marks a bare reference. */
static bool reserved_key(const char *key, bool elem)
{
  return strcmp(key, "class") == 0 || strcmp(key, "id") == 0 || strcmp(key, "softs") == 0 ||
         (elem && strcmp(key, "reference") == 0);
}

struct jw {
  struct imc_err *err;
};

/* A new JSON string; IMC_E_INVAL (naming the key) when s is not UTF-8: jansson would refuse
 * it later without saying which value. */
static int jstr(struct jw *w, const char *key, const char *s, json_t **out)
{
  if (!imc_utf8_valid(s))
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
  if (!imc_utf8_valid(key)) {
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

/* Writes list (a JSON RADL list) to out. */
static int dump(json_t *list, bool pretty, struct imc_buf *out, struct imc_err *err)
{
  char *text;
  int r, prec = 1;
  size_t flags;

  /* jansson writes every real with one precision (17 digits unless told): use the least
   * that gives each real back, so 0.1 is written 0.1 as IM (Python) does. */
  real_precision(list, true, &prec);
  real_precision(list, false, &prec);
  flags = (pretty ? JSON_INDENT(2) | JSON_SORT_KEYS : JSON_COMPACT) | JSON_REAL_PRECISION(prec);
  if (!(text = json_dumps(list, flags)))
    return nomem(err);
  if ((r = imc_buf_add_whole(out, text, strlen(text))) == IMC_E_TOOBIG)
    imc_fail(err, r, "JSON RADL larger than %zu bytes", out->max);
  else if (r)
    nomem(err);
  imc_free(text);
  return r;
}

int radl_json_print(const struct imc_doc *doc, bool pretty, struct imc_buf *out,
                    struct imc_err *err)
{
  struct jw w = {.err = err};
  json_t *list;
  int r;

  radl_json_alloc_init();
  if (!(list = json_array()))
    return nomem(err);
  if ((r = jdoc(&w, doc, list)) == 0)
    r = dump(list, pretty, out, err);
  json_decref(list);
  return r;
}

int radl_json_print_elem(const struct imc_elem *e, struct imc_buf *out, struct imc_err *err)
{
  struct jw w = {.err = err};
  json_t *list, *obj = NULL;
  int r;

  radl_json_alloc_init();
  if (!(list = json_array()))
    return nomem(err);
  if ((r = jelem(&w, e, &obj)) == 0 && (r = jappend(&w, list, obj)) == 0)
    r = dump(list, false, out, err);
  json_decref(list);
  return r;
}
