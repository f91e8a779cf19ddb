/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_json_parse: IM's JSON form of RADL into a document, with each value's line:col. */
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "json_int.h"

/* Nesting of JSON arrays and objects accepted by the reader. */
#define JSON_MAX_DEPTH 64

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

void radl_json_alloc_init(void)
{
  pthread_once(&alloc_once, use_imc_alloc);
}

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
  const char *near;
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
  /* jansson ends its text with " near '<token>'", and the token can be part of a password:
   * the position already says where. */
  near = strstr(jerr.text, " near '");
  return imc_fail_at(j->err, IMC_E_PARSE, j->source, jerr.line > 0 ? jerr.line : 1,
                     jerr.column > 0 ? jerr.column : 1, "%.*s",
                     near ? (int)(near - jerr.text) : (int)strlen(jerr.text), jerr.text);
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
  radl_json_alloc_init();
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
