/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Numbers, units and single features. */
#include "imc/alloc.h"
#include "imc/model.h"
#include "model_int.h"

#include <math.h>
#include <string.h>
#include <strings.h>

const char *imc_op_text(enum imc_op op)
{
  static const char *const text[] = {"=", "<", ">", "<=", ">=", "contains", "soft"};

  return (unsigned)op < sizeof text / sizeof text[0] ? text[op] : "?";
}

double imc_num_value(struct imc_num n)
{
  return n.is_float ? n.f : (double)n.i;
}

bool imc_num_equal(struct imc_num a, struct imc_num b)
{
  if (a.is_float != b.is_float)
    return false;
  return a.is_float ? a.f == b.f : a.i == b.i;
}

bool imc_unit_factor(const char *unit, double *factor)
{
  static const struct {
    const char *name;
    double factor;
  } units[] = {
    {"", 1.0},          {"K", 1e3},           {"KI", 1024.0},
    {"M", 1e6},         {"MI", 1048576.0},    {"G", 1e9},
    {"GI", 1073741824.0}, {"T", 1e12},        {"TI", 1099511627776.0},
  };
  char up[8];
  size_t n;

  *factor = 1.0;
  if (!unit)
    return true;
  n = strlen(unit);
  /* An optional trailing B ("MB", "GiB", "B"). */
  if (n > 0 && (unit[n - 1] == 'B' || unit[n - 1] == 'b'))
    n--;
  if (n >= sizeof up)
    return false;
  for (size_t i = 0; i < n; i++)
    up[i] = (char)((unit[i] >= 'a' && unit[i] <= 'z') ? unit[i] - 32 : unit[i]);
  up[n] = '\0';
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(up, units[i].name) == 0) {
      *factor = units[i].factor;
      return true;
    }
  }
  return false;
}

struct imc_feature *imc_feature_new(const char *name, enum imc_op op, enum imc_vtype type)
{
  struct imc_feature *f = imc_calloc(1, sizeof *f);

  if (!f)
    return NULL;
  f->op = op;
  f->type = type;
  if (name && !(f->name = imc_strdup(name))) {
    imc_free(f);
    return NULL;
  }
  return f;
}

void imc_feature_free(struct imc_feature *f)
{
  if (!f)
    return;
  imc_free(f->name);
  imc_free(f->unit);
  imc_free(f->str);
  for (size_t i = 0; i < f->nlist; i++)
    imc_free(f->list[i]);
  imc_free(f->list);
  imc_features_free(f->sub);
  imc_free(f);
}

int imc_strdup_opt(char **dst, const char *src)
{
  *dst = NULL;
  if (src && !(*dst = imc_strdup(src)))
    return IMC_E_NOMEM;
  return 0;
}

struct imc_feature *imc_feature_clone(const struct imc_feature *f)
{
  struct imc_feature *c = imc_feature_new(f->name, f->op, f->type);

  if (!c)
    return NULL;
  c->num = f->num;
  c->pos = f->pos;
  if (imc_strdup_opt(&c->unit, f->unit) || imc_strdup_opt(&c->str, f->str))
    goto fail;
  if (f->nlist) {
    c->list = imc_calloc(f->nlist, sizeof *c->list);
    if (!c->list)
      goto fail;
    for (; c->nlist < f->nlist; c->nlist++)
      if (imc_strdup_opt(&c->list[c->nlist], f->list[c->nlist]))
        goto fail;
  }
  if (f->sub) {
    c->sub = imc_features_new();
    if (!c->sub || imc_features_copy(c->sub, f->sub))
      goto fail;
  }
  return c;
fail:
  imc_feature_free(c);
  return NULL;
}

double imc_feature_num_in(const struct imc_feature *f, const char *unit)
{
  double from, to;

  double v;

  imc_unit_factor(f->unit, &from);
  imc_unit_factor(unit, &to);
  v = imc_num_value(f->num) * from / to;
  /* IM's getValue(unit) rounds an integer's conversion (1500M in G is 2); nearbyint rounds
   * half to even, as Python's round(). */
  return f->num.is_float ? v : nearbyint(v);
}

bool imc_str_eq_opt(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

/* Values only: the operator and name are compared by the callers that need them. */
bool imc_feature_value_equal(const struct imc_feature *a, const struct imc_feature *b)
{
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case IMC_V_NUM:
    return imc_feature_num_in(a, NULL) == imc_feature_num_in(b, NULL) &&
           a->num.is_float == b->num.is_float;
  case IMC_V_STR:
    return imc_str_eq_opt(a->str, b->str);
  case IMC_V_LIST:
    if (a->nlist != b->nlist)
      return false;
    for (size_t i = 0; i < a->nlist; i++)
      if (!imc_str_eq_opt(a->list[i], b->list[i]))
        return false;
    return true;
  case IMC_V_FEATURES:
    return imc_features_equal(a->sub, b->sub);
  }
  return false;
}

bool imc_feature_equal(const struct imc_feature *a, const struct imc_feature *b)
{
  if (!a || !b)
    return a == b;
  if (a->op != b->op || !imc_str_eq_opt(a->name, b->name))
    return false;
  if (a->op == IMC_OP_SOFT && !imc_num_equal(a->num, b->num))
    return false;
  return imc_feature_value_equal(a, b);
}
