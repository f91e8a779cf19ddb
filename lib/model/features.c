/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A set of features and IM's rules for adding one more (Features.addFeature): numbers narrow
 * an interval, strings must agree, `contains` merges by inner name, soft groups append. */
#include "imc/alloc.h"
#include "imc/model.h"
#include "model_int.h"

#include <math.h>
#include <string.h>

void imc_features_init(struct imc_features *fs)
{
  fs->props = NULL;
  fs->nprops = fs->cap_props = 0;
  imc_index_init(&fs->index);
}

static void prop_cleanup(struct imc_prop *p);

/* Empties p for a new kind of value, keeping its name: needs no allocation. */
static void prop_reset(struct imc_prop *p, enum imc_prop_kind kind)
{
  char *name = p->name;

  p->name = NULL;
  prop_cleanup(p);
  p->kind = kind;
  p->name = name;
}

static void prop_cleanup(struct imc_prop *p)
{
  imc_free(p->name);
  imc_feature_free(p->value);
  imc_feature_free(p->lo);
  imc_feature_free(p->hi);
  for (size_t i = 0; i < p->nitems; i++)
    imc_feature_free(p->items[i]);
  imc_free(p->items);
  imc_index_free(&p->item_index);
  memset(p, 0, sizeof *p);
}

void imc_features_cleanup(struct imc_features *fs)
{
  for (size_t i = 0; i < fs->nprops; i++)
    prop_cleanup(&fs->props[i]);
  imc_free(fs->props);
  imc_index_free(&fs->index);
  imc_features_init(fs);
}

struct imc_features *imc_features_new(void)
{
  struct imc_features *fs = imc_malloc(sizeof *fs);

  if (fs)
    imc_features_init(fs);
  return fs;
}

void imc_features_free(struct imc_features *fs)
{
  if (!fs)
    return;
  imc_features_cleanup(fs);
  imc_free(fs);
}

/* Soft groups have no name: they live in the one prop of kind SOFT, indexed under NULL. */
static bool prop_is(const struct imc_prop *p, const char *name)
{
  return name ? p->kind != IMC_PROP_SOFT && strcmp(p->name, name) == 0 : p->kind == IMC_PROP_SOFT;
}

static bool prop_eq(const void *ctx, size_t pos, const void *key)
{
  return prop_is(&((const struct imc_features *)ctx)->props[pos], key);
}

static uint64_t prop_hash(const void *ctx, size_t pos)
{
  const struct imc_prop *p = &((const struct imc_features *)ctx)->props[pos];

  return imc_hash_str(p->kind == IMC_PROP_SOFT ? NULL : p->name);
}

static struct imc_prop *find_prop(const struct imc_features *fs, const char *name, bool soft)
{
  const char *key = soft ? NULL : name;
  size_t pos;

  if (!soft && !name)
    return NULL;
  if (imc_index_built(&fs->index)) {
    pos = imc_index_find(&fs->index, imc_hash_str(key), key, prop_eq, fs);
    return pos == SIZE_MAX ? NULL : &fs->props[pos];
  }
  for (size_t i = 0; i < fs->nprops; i++)
    if (prop_is(&fs->props[i], key))
      return &fs->props[i];
  return NULL;
}

static struct imc_prop *append_prop(struct imc_features *fs, enum imc_prop_kind kind,
                                    const char *name)
{
  struct imc_prop *p;

  if (imc_grow((void **)&fs->props, &fs->cap_props, fs->nprops + 1, sizeof *fs->props))
    return NULL;
  p = &fs->props[fs->nprops];
  memset(p, 0, sizeof *p);
  p->kind = kind;
  if (name && !(p->name = imc_strdup(name)))
    return NULL;
  fs->nprops++;
  imc_index_note_append(&fs->index, fs->nprops, imc_hash_str(name), prop_hash, fs);
  return p;
}

/* A contains item is known by the `name` among its inner features (NULL when it has none). */
static const char *item_key(const struct imc_feature *item)
{
  return item->sub ? imc_features_str(item->sub, "name") : NULL;
}

static bool item_eq(const void *ctx, size_t pos, const void *key)
{
  return imc_str_eq_opt(item_key(((const struct imc_prop *)ctx)->items[pos]), key);
}

static uint64_t item_hash(const void *ctx, size_t pos)
{
  return imc_hash_str(item_key(((const struct imc_prop *)ctx)->items[pos]));
}

static struct imc_feature *find_item(const struct imc_prop *p, const char *key)
{
  size_t pos;

  if (imc_index_built(&p->item_index)) {
    pos = imc_index_find(&p->item_index, imc_hash_str(key), key, item_eq, p);
    return pos == SIZE_MAX ? NULL : p->items[pos];
  }
  for (size_t i = 0; i < p->nitems; i++)
    if (imc_str_eq_opt(item_key(p->items[i]), key))
      return p->items[i];
  return NULL;
}

static int push_item(struct imc_prop *p, struct imc_feature *f)
{
  if (imc_grow((void **)&p->items, &p->cap_items, p->nitems + 1, sizeof *p->items))
    return IMC_E_NOMEM;
  p->items[p->nitems++] = f;
  if (p->kind == IMC_PROP_CONTAINS)
    imc_index_note_append(&p->item_index, p->nitems, imc_hash_str(item_key(f)), item_hash, p);
  return 0;
}

/* Appends f to p's items; on failure frees f and drops p if that leaves it empty (a prop
 * just created for f). */
static int push_item_or_drop(struct imc_features *fs, struct imc_prop *p, struct imc_feature *f)
{
  if (push_item(p, f) == 0)
    return 0;
  imc_feature_free(f);
  if (p->nitems == 0) {
    prop_cleanup(p);
    fs->nprops--; /* an empty prop was the last one appended */
    imc_index_free(&fs->index); /* it named that position; the next append rebuilds it */
  }
  return IMC_E_NOMEM;
}

static int conflict_error(const struct imc_feature *f, const char *file, struct imc_err *err,
                          const char *why)
{
  return imc_fail_at(err, IMC_E_INVAL, file, f->pos.line, f->pos.col, "%s '%s'", why,
                     f->name ? f->name : "soft");
}

/* IM's _applyInter: the intersection of [lo0, hi0] and [lo1, hi1], where a missing lower
 * bound is -inf and a missing upper bound is +inf.  Writes which bounds survive; returns
 * false when the intervals are disjoint. */
static bool intersect(const struct imc_feature *lo0, const struct imc_feature *hi0,
                      const struct imc_feature *lo1, const struct imc_feature *hi1,
                      const struct imc_feature **lo, const struct imc_feature **hi)
{
  double l0 = lo0 ? imc_feature_num_in(lo0, NULL) : -INFINITY;
  double l1 = lo1 ? imc_feature_num_in(lo1, NULL) : -INFINITY;
  double h0 = hi0 ? imc_feature_num_in(hi0, NULL) : INFINITY;
  double h1 = hi1 ? imc_feature_num_in(hi1, NULL) : INFINITY;

  if (h0 < l1 || h1 < l0)
    return false;
  /* Ties: a new lower bound wins, an old upper bound stays (IM's order of cases). */
  *lo = lo1 && (!lo0 || l1 >= l0) ? lo1 : lo0;
  *hi = hi1 && (!hi0 || h1 < h0) ? hi1 : hi0;
  return true;
}

/* Takes ownership of lo1/hi1 (the new bounds); frees every bound that does not survive. */
static int add_range(struct imc_prop *p, struct imc_feature *lo1, struct imc_feature *hi1,
                     enum imc_policy conflict, const char *file, struct imc_err *err)
{
  const struct imc_feature *lo, *hi;
  struct imc_feature *all[4] = {p->lo, p->hi, lo1, hi1};
  const struct imc_feature *culprit = lo1 ? lo1 : hi1;

  if (!intersect(p->lo, p->hi, lo1, hi1, &lo, &hi)) {
    switch (conflict) {
    case IMC_POLICY_ERROR: {
      int r = conflict_error(culprit, file, err, "disjoint intervals for");

      imc_feature_free(lo1);
      imc_feature_free(hi1);
      return r;
    }
    case IMC_POLICY_OTHER:
      lo = lo1;
      hi = hi1;
      break;
    default: /* ME and IGNORE keep what was there */
      lo = p->lo;
      hi = p->hi;
      break;
    }
  }
  for (size_t i = 0; i < 4; i++)
    if (all[i] && all[i] != lo && all[i] != hi)
      imc_feature_free(all[i]);
  p->lo = (struct imc_feature *)lo;
  p->hi = (struct imc_feature *)hi;
  return 0;
}

static int add_number(struct imc_features *fs, struct imc_prop *p, struct imc_feature *f,
                      enum imc_policy conflict, const char *file, struct imc_err *err)
{
  struct imc_feature *lo = NULL, *hi = NULL;

  if (p && p->kind != IMC_PROP_RANGE && conflict != IMC_POLICY_OTHER) {
    int r = 0;

    if (conflict == IMC_POLICY_ERROR)
      r = conflict_error(f, file, err, "a number conflicts with the earlier value of");
    imc_feature_free(f);
    return r;
  }
  switch (f->op) {
  case IMC_OP_EQ:
    lo = f;
    if (!(hi = imc_feature_clone(f))) {
      imc_feature_free(f);
      return IMC_E_NOMEM;
    }
    break;
  case IMC_OP_LT:
  case IMC_OP_LE:
    hi = f;
    break;
  default:
    lo = f;
    break;
  }
  /* Both bounds exist before anything changes, so a failure leaves no empty range behind. */
  if (p && p->kind != IMC_PROP_RANGE)
    prop_reset(p, IMC_PROP_RANGE);
  if (!p && !(p = append_prop(fs, IMC_PROP_RANGE, f->name))) {
    imc_feature_free(lo);
    imc_feature_free(hi);
    return IMC_E_NOMEM;
  }
  return add_range(p, lo, hi, conflict, file, err);
}

static int add_contains(struct imc_features *fs, struct imc_prop *p, struct imc_feature *f,
                        enum imc_policy conflict, enum imc_policy missing, const char *file,
                        struct imc_err *err)
{
  const char *key = item_key(f);
  struct imc_feature *old;
  int r;

  if (p && p->kind != IMC_PROP_CONTAINS) {
    r = conflict_error(f, file, err, "'contains' conflicts with the earlier value of");
    imc_feature_free(f);
    return r;
  }
  if (!p && !(p = append_prop(fs, IMC_PROP_CONTAINS, f->name))) {
    imc_feature_free(f);
    return IMC_E_NOMEM;
  }
  if ((old = find_item(p, key)) != NULL) {
    /* The merge cannot change the item's name (a conflicting name fails or is ignored). */
    r = imc_features_apply(old->sub, f->sub, conflict, missing, file, err);
    imc_feature_free(f);
    return r;
  }
  return push_item_or_drop(fs, p, f);
}

static int add_value(struct imc_features *fs, struct imc_prop *p, struct imc_feature *f,
                     enum imc_policy conflict, const char *file, struct imc_err *err)
{
  int r = 0;

  if (!p) {
    if (!(p = append_prop(fs, IMC_PROP_VALUE, f->name)))
      r = IMC_E_NOMEM;
    else
      p->value = f, f = NULL;
  } else if (conflict == IMC_POLICY_OTHER) {
    prop_reset(p, IMC_PROP_VALUE);
    p->value = f;
    f = NULL;
  } else if (conflict == IMC_POLICY_ERROR &&
             (p->kind != IMC_PROP_VALUE || !imc_feature_value_equal(p->value, f))) {
    r = conflict_error(f, file, err, "conflicting values for");
  }
  imc_feature_free(f);
  return r;
}

static int add_feature(struct imc_features *fs, struct imc_feature *f, enum imc_policy conflict,
                       enum imc_policy missing, const char *file, struct imc_err *err)
{
  bool soft = f->op == IMC_OP_SOFT;
  struct imc_prop *p = find_prop(fs, f->name, soft);
  int r;

  if (!p && missing == IMC_POLICY_ERROR) {
    r = conflict_error(f, file, err, "no earlier value for");
    imc_feature_free(f);
    return r;
  }
  if (!p && (missing == IMC_POLICY_IGNORE || missing == IMC_POLICY_ME)) {
    imc_feature_free(f);
    return 0;
  }
  if (soft) {
    if (!p && !(p = append_prop(fs, IMC_PROP_SOFT, NULL))) {
      imc_feature_free(f);
      return IMC_E_NOMEM;
    }
    return push_item_or_drop(fs, p, f);
  }
  if (f->op == IMC_OP_CONTAINS)
    return add_contains(fs, p, f, conflict, missing, file, err);
  if (f->type == IMC_V_NUM)
    return add_number(fs, p, f, conflict, file, err);
  return add_value(fs, p, f, conflict, file, err);
}

int imc_features_add(struct imc_features *fs, struct imc_feature *f, enum imc_policy conflict,
                     enum imc_policy missing, const char *file, struct imc_err *err)
{
  int r = add_feature(fs, f, conflict, missing, file, err);

  if (r == IMC_E_NOMEM)
    imc_fail(err, r, "out of memory");
  return r;
}

/* Every feature of a prop, in printing order; *n is set to the count (at most 2 for ranges). */
static size_t prop_features(const struct imc_prop *p, const struct imc_feature **buf2,
                            const struct imc_feature *const **out)
{
  switch (p->kind) {
  case IMC_PROP_VALUE:
    buf2[0] = p->value;
    *out = buf2;
    return 1;
  case IMC_PROP_RANGE: {
    size_t n = 0;

    if (p->lo)
      buf2[n++] = p->lo;
    if (p->hi)
      buf2[n++] = p->hi;
    *out = buf2;
    return n;
  }
  default:
    *out = (const struct imc_feature *const *)p->items;
    return p->nitems;
  }
}

int imc_features_apply(struct imc_features *fs, const struct imc_features *src,
                       enum imc_policy conflict, enum imc_policy missing, const char *file,
                       struct imc_err *err)
{
  for (size_t i = 0; i < src->nprops; i++) {
    const struct imc_feature *buf2[2];
    const struct imc_feature *const *list;
    size_t n = prop_features(&src->props[i], buf2, &list);

    for (size_t j = 0; j < n; j++) {
      struct imc_feature *c = imc_feature_clone(list[j]);
      int r;

      if (!c)
        return imc_fail(err, IMC_E_NOMEM, "out of memory");
      if ((r = imc_features_add(fs, c, conflict, missing, file, err)) != 0)
        return r;
    }
  }
  return 0;
}

int imc_features_copy(struct imc_features *dst, const struct imc_features *src)
{
  /* A copy of valid features never conflicts, so every failure here is memory. */
  return imc_features_apply(dst, src, IMC_POLICY_OTHER, IMC_POLICY_OTHER, NULL, NULL)
           ? IMC_E_NOMEM
           : 0;
}

static bool items_equal(const struct imc_prop *a, const struct imc_prop *b)
{
  if (a->nitems != b->nitems)
    return false;
  for (size_t i = 0; i < a->nitems; i++)
    if (!imc_feature_equal(a->items[i], b->items[i]))
      return false;
  return true;
}

static bool bound_equal(const struct imc_feature *a, const struct imc_feature *b)
{
  if (!a || !b)
    return a == b;
  return imc_feature_value_equal(a, b);
}

bool imc_features_equal(const struct imc_features *a, const struct imc_features *b)
{
  if (!a || !b)
    return a == b;
  if (a->nprops != b->nprops)
    return false;
  for (size_t i = 0; i < a->nprops; i++) {
    const struct imc_prop *pa = &a->props[i], *pb = &b->props[i];

    if (pa->kind != pb->kind || !imc_str_eq_opt(pa->name, pb->name))
      return false;
    switch (pa->kind) {
    case IMC_PROP_VALUE:
      if (!imc_feature_equal(pa->value, pb->value))
        return false;
      break;
    case IMC_PROP_RANGE:
      if (!bound_equal(pa->lo, pb->lo) || !bound_equal(pa->hi, pb->hi))
        return false;
      break;
    default:
      if (!items_equal(pa, pb))
        return false;
      break;
    }
  }
  return true;
}

const struct imc_prop *imc_features_prop(const struct imc_features *fs, const char *name)
{
  return fs ? find_prop(fs, name, false) : NULL;
}

const struct imc_feature *imc_features_get(const struct imc_features *fs, const char *name)
{
  const struct imc_prop *p = imc_features_prop(fs, name);

  if (!p)
    return NULL;
  if (p->kind == IMC_PROP_VALUE)
    return p->value;
  if (p->kind == IMC_PROP_RANGE)
    return p->lo ? p->lo : p->hi;
  return NULL;
}

const char *imc_features_str(const struct imc_features *fs, const char *name)
{
  const struct imc_feature *f = imc_features_get(fs, name);

  return f && f->type == IMC_V_STR ? f->str : NULL;
}

bool imc_features_num(const struct imc_features *fs, const char *name, const char *unit,
                      double *out)
{
  const struct imc_feature *f = imc_features_get(fs, name);

  if (!f || f->type != IMC_V_NUM)
    return false;
  *out = imc_feature_num_in(f, unit);
  return true;
}

void imc_features_del(struct imc_features *fs, const char *name)
{
  struct imc_prop *p = find_prop(fs, name, false);
  size_t i;

  if (!p)
    return;
  i = (size_t)(p - fs->props);
  prop_cleanup(p);
  memmove(&fs->props[i], &fs->props[i + 1], (fs->nprops - i - 1) * sizeof *fs->props);
  fs->nprops--;
  imc_index_free(&fs->index); /* positions moved; the next append rebuilds it */
}

/* Replaces name's prop (in place, keeping its position) by f as IM's setValue does. */
static int set_feature(struct imc_features *fs, struct imc_feature *f)
{
  struct imc_prop *p = find_prop(fs, f->name, false);
  struct imc_feature *hi = NULL;

  /* A number is a range with equal bounds: make the second bound before changing anything. */
  if (f->type == IMC_V_NUM && !(hi = imc_feature_clone(f))) {
    imc_feature_free(f);
    return IMC_E_NOMEM;
  }
  if (p) {
    prop_reset(p, f->type == IMC_V_NUM ? IMC_PROP_RANGE : IMC_PROP_VALUE);
  } else if (!(p = append_prop(fs, f->type == IMC_V_NUM ? IMC_PROP_RANGE : IMC_PROP_VALUE,
                               f->name))) {
    imc_feature_free(f);
    imc_feature_free(hi);
    return IMC_E_NOMEM;
  }
  if (f->type == IMC_V_NUM) {
    p->lo = f;
    p->hi = hi;
  } else {
    p->value = f;
  }
  return 0;
}

int imc_features_set_str(struct imc_features *fs, const char *name, const char *value)
{
  struct imc_feature *f = imc_feature_new(name, IMC_OP_EQ, IMC_V_STR);

  if (!f || !(f->str = imc_strdup(value))) {
    imc_feature_free(f);
    return IMC_E_NOMEM;
  }
  return set_feature(fs, f);
}

int imc_features_set_num(struct imc_features *fs, const char *name, struct imc_num value,
                         const char *unit)
{
  struct imc_feature *f = imc_feature_new(name, IMC_OP_EQ, IMC_V_NUM);

  if (!f || (unit && *unit && !(f->unit = imc_strdup(unit)))) {
    imc_feature_free(f);
    return IMC_E_NOMEM;
  }
  f->num = value;
  return set_feature(fs, f);
}
