/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_check: IM's validity rules for a document (recipes' YAML is checked in check_yaml.c). */
/* IM's RADL.check() and the check() of each class in grycap/RADL radl/radl.py,
 * with IM's terse messages (a Python type name, a line at most) reworded as sentences that
 * start with the position of the offending feature or element.
 *
 * The order is IM's, so that the first error reported is the one IM would raise: networks,
 * ansible hosts, systems, deploys, configures, contextualize, then duplicate ids.  Within a
 * system: the plain features (soft groups included, recursively) in order of first
 * appearance, then the indexed `net_interface.N.*` and `disk.N.*` features, then the
 * contiguity of the indices, then the connections.
 *
 * Where we go beyond IM (every case is noted where it happens): contextualize steps and deploy
 * counts must be whole numbers, and recipe YAML is bounded against alias bombs. */
#include "imc/alloc.h"
#include "imc/radl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_int.h"

/* Soft groups nest; the parser already bounds nesting, this guards other producers. */
#define MAX_SOFT_DEPTH 256

/* "file:l:c: feature 'NAME': <why>", or "feature 'NAME' of 'OUTER'" inside `contains`. */
static int fail_feat(struct check *c, const struct imc_feature *f, const char *fmt, ...)
  IMC_PRINTF(3, 4);

static int fail_feat(struct check *c, const struct imc_feature *f, const char *fmt, ...)
{
  char why[IMC_ERR_MSG_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  if (c->outer)
    return fail_pos(c, f->pos, "feature '%.80s' of '%.80s': %s", f->name, c->outer, why);
  return fail_pos(c, f->pos, "feature '%.80s': %s", f->name, why);
}

/* --- rules ----------------------------------------------------------------------------- */

/* IM's expected types: float (int or float), int, str, str or list, Features. */
enum want { W_NUM, W_INT, W_STR, W_STR_LIST, W_CONTAINS };

struct units {
  const char *const *names; /* upper case, "" when a number may go without a unit */
  const char *text;         /* for messages */
};

struct rule {
  const char *name;
  enum want want;
  const char *const *choices; /* allowed strings, compared ignoring case (IM upper-cases) */
  int (*valid)(struct check *c, const struct imc_feature *f);
  const struct units *units; /* NULL: a number must have no unit */
};

static const char *const yes_no[] = {"yes", "no", NULL};
static const char *const image_types[] = {"vmdk", "qcow", "qcow2", "raw", NULL};
static const char *const cpu_archs[] = {"i386", "x86_64", NULL};
static const char *const os_names[] = {"linux", "windows", "mac os x", NULL};

/* IM's mem_units, as IM has them: "TI" is missing (while "TIB" is there), so `1Ti` is refused
 * by IM and by us. */
static const char *const mem_unit_names[] = {"",   "B",  "K",  "M",   "G",   "T",
                                             "KB", "MB", "GB", "TB",  "KI",  "MI",
                                             "GI", "KIB", "MIB", "GIB", "TIB", NULL};
static const struct units mem_units = {
  mem_unit_names, "B, K, M, G, T, KB, MB, GB, TB, Ki, Mi, Gi, KiB, MiB, GiB or TiB"};
static const char *const perf_unit_names[] = {"ECU", "GCEU", "HRZ", NULL};
static const struct units perf_units = {perf_unit_names, "ECU, GCEU or HRZ"};

static int v_positive(struct check *c, const struct imc_feature *f)
{
  if (imc_num_value(f->num) >= 0)
    return 0;
  return fail_feat(c, f, "must not be negative");
}

static int v_nonempty(struct check *c, const struct imc_feature *f)
{
  return f->str[0] ? 0 : fail_feat(c, f, "must not be empty");
}

/* IM's is_version: empty, or dot-separated runs of digits.  Python's isdigit() also takes
 * non-ASCII digits such as '²'; we take ASCII digits only. */
static int v_version(struct check *c, const struct imc_feature *f)
{
  const char *s = f->str;
  bool digits = false;

  if (!*s)
    return 0;
  for (;; s++) {
    if (*s >= '0' && *s <= '9') {
      digits = true;
    } else if ((*s == '.' || !*s) && digits) {
      if (!*s)
        return 0;
      digits = false;
    } else {
      return fail_feat(c, f, "invalid version '%.80s'; expected numbers separated by dots",
                       f->str);
    }
  }
}

/* IM's check_password: more than 6 characters, an upper-case letter, a digit and a character
 * that is neither a letter nor a digit.  Python counts code points and knows non-ASCII
 * letters; we count code points and treat every non-ASCII character as a lower-case letter,
 * which can only make us stricter.  The message never repeats the password. */
static int v_password(struct check *c, const struct imc_feature *f)
{
  size_t chars = 0;
  bool upper = false, digit = false, symbol = false;

  for (const unsigned char *p = (const unsigned char *)f->str; *p; p++) {
    if ((*p & 0xC0) != 0x80)
      chars++;
    if (*p >= 'A' && *p <= 'Z')
      upper = true;
    else if (*p >= '0' && *p <= '9')
      digit = true;
    else if (*p < 0x80 && !(*p >= 'a' && *p <= 'z'))
      symbol = true;
  }
  if (chars > 6 && upper && digit && symbol)
    return 0;
  return fail_feat(c, f, "the password is too weak: it needs more than 6 characters, an "
                         "upper-case letter, a digit and a symbol");
}

static int v_ansible_host(struct check *c, const struct imc_feature *f)
{
  if (imc_doc_ansible(c->doc, f->str))
    return 0;
  return fail_feat(c, f, "ansible host '%.80s' is not defined", f->str);
}

static int v_network(struct check *c, const struct imc_feature *f)
{
  if (imc_doc_network(c->doc, f->str))
    return 0;
  return fail_feat(c, f, "network '%.80s' is not defined", f->str);
}

static int v_outports(struct check *c, const struct imc_feature *f)
{
  struct radl_outport *ports = NULL;
  struct imc_err why;
  size_t n;
  int r;

  imc_err_clear(&why);
  r = radl_outports_parse(f->str, &ports, &n, &why);
  imc_free(ports);
  if (r == IMC_E_NOMEM)
    return nomem(c);
  if (r)
    return fail_feat(c, f, "%s", why.msg);
  return 0;
}

static int check_simple(struct check *c, const struct imc_features *fs, const struct rule *rules,
                        size_t nrules, int depth);

static const struct rule app_rules[] = {
  {"name", W_STR, NULL, v_nonempty, NULL},
  {"path", W_STR, NULL, v_nonempty, NULL},
  {"version", W_STR, NULL, v_version, NULL},
  {"preinstalled", W_STR, yes_no, NULL, NULL},
};

/* IM's FeaturesApp.check on the inner features of `disk.N.applications contains (...)`. */
static int v_app(struct check *c, const struct imc_feature *f)
{
  const char *outer = c->outer;
  int r;

  c->outer = f->name;
  r = check_simple(c, f->sub, app_rules, sizeof app_rules / sizeof app_rules[0], -1);
  c->outer = outer;
  return r;
}

static const struct rule network_rules[] = {
  {"outbound", W_STR, yes_no, NULL, NULL},
  {"outports", W_STR, NULL, v_outports, NULL},
  {"provider_id", W_STR, NULL, NULL, NULL},
};

static const struct rule ansible_rules[] = {
  {"host", W_STR, NULL, NULL, NULL},
  {"credentials.username", W_STR, NULL, NULL, NULL},
  {"credentials.password", W_STR, NULL, NULL, NULL},
  {"credentials.private_key", W_STR, NULL, NULL, NULL},
};

static const struct rule system_rules[] = {
  {"spot", W_STR, yes_no, NULL, NULL},
  {"image_type", W_STR, image_types, NULL, NULL},
  {"virtual_system_type", W_STR, NULL, NULL, NULL},
  {"price", W_NUM, NULL, v_positive, NULL},
  {"cpu.count", W_NUM, NULL, v_positive, NULL},
  {"cpu.arch", W_STR, cpu_archs, NULL, NULL},
  {"cpu.performance", W_NUM, NULL, v_positive, &perf_units},
  {"memory.size", W_INT, NULL, v_positive, &mem_units},
  {"disk.0.os.credentials.new.password", W_STR, NULL, v_password, NULL},
  {"ansible_host", W_STR, NULL, v_ansible_host, NULL},
};

static const struct rule net_interface_rules[] = {
  {"connection", W_STR, NULL, v_network, NULL},
  {"ip", W_STR, NULL, NULL, NULL},
  {"dns_name", W_STR, NULL, NULL, NULL},
};

static const struct rule disk_rules[] = {
  {"image.url", W_STR_LIST, NULL, NULL, NULL},
  {"image.name", W_STR, NULL, NULL, NULL},
  {"type", W_STR, NULL, NULL, NULL},
  {"device", W_STR, NULL, NULL, NULL},
  {"mount_path", W_STR, NULL, NULL, NULL},
  {"fstype", W_STR, NULL, NULL, NULL},
  {"size", W_NUM, NULL, v_positive, &mem_units},
  {"free_size", W_NUM, NULL, v_positive, &mem_units},
  {"os.name", W_STR, os_names, NULL, NULL},
  {"os.flavour", W_STR, NULL, NULL, NULL},
  {"os.version", W_STR, NULL, v_version, NULL},
  {"os.credentials.username", W_STR, NULL, NULL, NULL},
  {"os.credentials.password", W_STR, NULL, NULL, NULL},
  {"os.credentials.private_key", W_STR, NULL, NULL, NULL},
  {"os.credentials.public_key", W_STR, NULL, NULL, NULL},
  {"applications", W_CONTAINS, NULL, v_app, NULL},
};

/* The indexed prefixes of a system (IM's NUM_FEATURES). */
static const struct {
  const char *prefix;
  const struct rule *rules;
  size_t nrules;
} indexed[] = {
  {"net_interface", net_interface_rules,
   sizeof net_interface_rules / sizeof net_interface_rules[0]},
  {"disk", disk_rules, sizeof disk_rules / sizeof disk_rules[0]},
};

#define NINDEXED (sizeof indexed / sizeof indexed[0])

static const struct rule *find_rule(const struct rule *rules, size_t n, const char *name,
                                    size_t len)
{
  for (size_t i = 0; i < n; i++)
    if (strlen(rules[i].name) == len && memcmp(rules[i].name, name, len) == 0)
      return &rules[i];
  return NULL;
}

/* --- one feature: IM's Feature._check (type, operator, value, unit) -------------------- */

static int check_type(struct check *c, const struct rule *rule, const struct imc_feature *f)
{
  static const char *const expected[] = {
    [W_NUM] = "a number",
    [W_INT] = "a whole number",
    [W_STR] = "a string",
    [W_STR_LIST] = "a string or a list of strings",
    [W_CONTAINS] = "'contains (...)'",
  };
  bool ok;

  switch (rule->want) {
  case W_NUM:
    ok = f->type == IMC_V_NUM;
    break;
  case W_INT:
    ok = f->type == IMC_V_NUM && !f->num.is_float;
    break;
  case W_STR:
    ok = f->type == IMC_V_STR && f->str;
    break;
  case W_STR_LIST:
    ok = (f->type == IMC_V_STR && f->str) || f->type == IMC_V_LIST;
    break;
  default:
    ok = f->type == IMC_V_FEATURES && f->op != IMC_OP_SOFT;
    break;
  }
  return ok ? 0 : fail_feat(c, f, "expected %s", expected[rule->want]);
}

/* IM decides on the value's type: strings take only `=` unless the name contains "version";
 * numbers (and "version" features) take any comparison; nested features take `contains`.
 * Lists are not checked, as in IM. */
static int check_op(struct check *c, const struct imc_feature *f)
{
  bool version = strstr(f->name, "version") != NULL;

  if (f->type == IMC_V_STR && !version) {
    if (f->op != IMC_OP_EQ)
      return fail_feat(c, f, "invalid operator '%s'; expected '='", imc_op_text(f->op));
  } else if (f->type == IMC_V_NUM || version) {
    if (f->op == IMC_OP_CONTAINS || f->op == IMC_OP_SOFT)
      return fail_feat(c, f, "invalid operator '%s'; expected '=', '<', '>', '<=' or '>='",
                       imc_op_text(f->op));
  } else if (f->type == IMC_V_FEATURES && f->op != IMC_OP_CONTAINS) {
    return fail_feat(c, f, "invalid operator '%s'; expected 'contains'", imc_op_text(f->op));
  }
  return 0;
}

static int check_choice(struct check *c, const struct rule *rule, const struct imc_feature *f)
{
  char list[128] = "";
  size_t used = 0;

  for (size_t i = 0; rule->choices[i]; i++)
    if (strcasecmp(f->str, rule->choices[i]) == 0)
      return 0;
  for (size_t i = 0; rule->choices[i] && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             rule->choices[i]);
  return fail_feat(c, f, "invalid value '%.80s'; expected one of %s", f->str, list);
}

static int check_unit(struct check *c, const struct rule *rule, const struct imc_feature *f)
{
  const char *unit = f->unit ? f->unit : "";

  if (!rule->units)
    return *unit ? fail_feat(c, f, "unexpected unit '%.20s'", unit) : 0;
  for (size_t i = 0; rule->units->names[i]; i++)
    if (strcasecmp(unit, rule->units->names[i]) == 0)
      return 0;
  if (!*unit)
    return fail_feat(c, f, "expected a unit: %s", rule->units->text);
  return fail_feat(c, f, "invalid unit '%.20s'; expected %s", unit, rule->units->text);
}

static int check_feature(struct check *c, const struct rule *rule, const struct imc_feature *f)
{
  int r;

  if ((r = check_type(c, rule, f)) != 0 || (r = check_op(c, f)) != 0)
    return r;
  if (rule->choices && (r = check_choice(c, rule, f)) != 0)
    return r;
  if (rule->valid && (r = rule->valid(c, f)) != 0)
    return r;
  if (f->type == IMC_V_NUM)
    return check_unit(c, rule, f);
  return 0;
}

/* --- features of an element -------------------------------------------------------------- */

/* The features of a prop in IM's Features.features order: an interval pinned by two equal
 * `=` bounds counts once. */
static size_t prop_features(const struct imc_prop *p, const struct imc_feature **two,
                            const struct imc_feature *const **out)
{
  size_t n = 0;

  switch (p->kind) {
  case IMC_PROP_VALUE:
    two[n++] = p->value;
    break;
  case IMC_PROP_RANGE:
    if (p->lo)
      two[n++] = p->lo;
    if (p->hi && !(p->lo && p->lo->op == IMC_OP_EQ && p->hi->op == IMC_OP_EQ &&
                   imc_feature_equal(p->lo, p->hi)))
      two[n++] = p->hi;
    break;
  default:
    *out = (const struct imc_feature *const *)p->items;
    return p->nitems;
  }
  *out = two;
  return n;
}

static int check_system(struct check *c, const struct imc_features *fs, int depth);

/* IM's Features.check_simple: every feature whose name has a rule.  depth >= 0 means soft
 * groups are checked too, each as a system of its own (IM's SoftFeatures.check). */
static int check_simple(struct check *c, const struct imc_features *fs, const struct rule *rules,
                        size_t nrules, int depth)
{
  for (size_t i = 0; fs && i < fs->nprops; i++) {
    const struct imc_prop *p = &fs->props[i];
    const struct imc_feature *two[2];
    const struct imc_feature *const *list;
    const struct rule *rule = NULL;
    size_t n = prop_features(p, two, &list);
    int r;

    if (p->kind != IMC_PROP_SOFT &&
        (!p->name || !(rule = find_rule(rules, nrules, p->name, strlen(p->name)))))
      continue;
    for (size_t j = 0; j < n; j++) {
      if (!rule && depth < 0)
        break;
      if (!rule && depth >= MAX_SOFT_DEPTH)
        return fail_pos(c, list[j]->pos, "soft groups nested deeper than %d levels",
                        MAX_SOFT_DEPTH);
      r = rule ? check_feature(c, rule, list[j]) : check_system(c, list[j]->sub, depth + 1);
      if (r)
        return r;
    }
  }
  return 0;
}

/* --- indexed features: net_interface.N.*, disk.N.* ----------------------------------- */

struct use {
  long long index;
  size_t order; /* of the feature in the element, to report the first one */
  const struct imc_feature *f;
  bool connection;
};

struct uses {
  struct use *v;
  size_t n, cap;
};

/* Python's int() on the text between the dots: an optional '-' (a '+' cannot be in a RADL
 * name), digits, single underscores between digits.  Saturates: an index that large can
 * never be contiguous anyway. */
static bool parse_index(const char *s, size_t n, long long *out)
{
  bool neg = n > 0 && s[0] == '-';
  unsigned long long v = 0;
  size_t i = neg ? 1 : 0;

  if (i >= n || s[i] < '0' || s[i] > '9' || s[n - 1] < '0' || s[n - 1] > '9')
    return false;
  for (; i < n; i++) {
    if (s[i] == '_' && s[i + 1] != '_')
      continue;
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v > LLONG_MAX / 10 ? (unsigned long long)LLONG_MAX : v * 10 + (unsigned)(s[i] - '0');
  }
  if (v > LLONG_MAX)
    v = LLONG_MAX;
  *out = neg ? -(long long)v : (long long)v;
  return true;
}

static int cmp_use(const void *a, const void *b)
{
  const struct use *x = a, *y = b;

  if (x->index != y->index)
    return x->index < y->index ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* One feature of a system: nothing happens unless its name is PREFIX.N.SUFFIX with a known
 * prefix; then N must be an index, and a known suffix is checked and its index recorded. */
static int check_indexed_feature(struct check *c, const struct imc_feature *f, size_t order,
                                 struct uses *uses)
{
  const char *dot = strchr(f->name, '.'), *tail, *dot2;
  const struct rule *rule;
  long long index;
  size_t k;
  int r;

  if (!dot)
    return 0;
  for (k = 0; k < NINDEXED; k++)
    if (strlen(indexed[k].prefix) == (size_t)(dot - f->name) &&
        memcmp(indexed[k].prefix, f->name, (size_t)(dot - f->name)) == 0)
      break;
  if (k == NINDEXED)
    return 0;
  tail = dot + 1;
  dot2 = strchr(tail, '.');
  if (!parse_index(tail, dot2 ? (size_t)(dot2 - tail) : strlen(tail), &index))
    return fail_feat(c, f, "expected an index after '%s.'", indexed[k].prefix);
  if (!dot2 || !(rule = find_rule(indexed[k].rules, indexed[k].nrules, dot2 + 1,
                                  strlen(dot2 + 1))))
    return 0;
  if ((r = check_feature(c, rule, f)) != 0)
    return r;
  if (imc_grow((void **)&uses[k].v, &uses[k].cap, uses[k].n + 1, sizeof *uses[k].v))
    return nomem(c);
  uses[k].v[uses[k].n++] = (struct use){index, order, f, rule->valid == v_network};
  return 0;
}

/* The end of IM's check_num: the indices of a prefix must be 0, 1, ... without gaps.
 * u is sorted by index, then by order. */
static int check_contiguous(struct check *c, const char *prefix, const struct uses *u)
{
  long long want = 0;

  for (size_t i = 0; i < u->n; i++) {
    if (i > 0 && u->v[i].index == u->v[i - 1].index)
      continue;
    if (u->v[i].index < 0)
      return fail_feat(c, u->v[i].f, "'%s' indices must not be negative", prefix);
    if (u->v[i].index != want)
      return fail_feat(c, u->v[i].f, "'%s' indices must run from 0 without gaps, but '%s.%lld' "
                                      "is not used", prefix, prefix, want);
    want++;
  }
  return 0;
}

/* The end of IM's system.check: every interface index in use needs a connection. */
static int check_connections(struct check *c, const struct uses *u)
{
  for (size_t i = 0; i < u->n;) {
    size_t j = i;
    bool connected = false;

    for (; j < u->n && u->v[j].index == u->v[i].index; j++)
      connected = connected || u->v[j].connection;
    if (!connected)
      return fail_feat(c, u->v[i].f, "net_interface.%lld has no connection", u->v[i].index);
    i = j;
  }
  return 0;
}

/* IM's Features.check_num and what system.check does after it. */
static int check_indices(struct check *c, const struct imc_features *fs)
{
  struct uses uses[NINDEXED] = {{0}};
  size_t order = 0, first[NINDEXED];
  int r = 0;

  for (size_t i = 0; i < fs->nprops && !r; i++) {
    const struct imc_feature *two[2];
    const struct imc_feature *const *list;
    size_t n = fs->props[i].kind == IMC_PROP_SOFT ? 0 : prop_features(&fs->props[i], two, &list);

    for (size_t j = 0; j < n && !r; j++)
      r = check_indexed_feature(c, list[j], order++, uses);
  }
  /* Contiguity per prefix, in order of each prefix's first checked feature (IM's dict). */
  for (size_t k = 0; k < NINDEXED; k++) {
    first[k] = uses[k].n ? uses[k].v[0].order : SIZE_MAX;
    if (uses[k].n)
      qsort(uses[k].v, uses[k].n, sizeof *uses[k].v, cmp_use);
  }
  for (size_t pass = 0; pass < NINDEXED && !r; pass++) {
    size_t k = first[0] <= first[1] ? pass : NINDEXED - 1 - pass;

    r = check_contiguous(c, indexed[k].prefix, &uses[k]);
  }
  if (!r)
    r = check_connections(c, &uses[0]); /* indexed[0] is net_interface */
  for (size_t k = 0; k < NINDEXED; k++)
    imc_free(uses[k].v);
  return r;
}

static int check_system(struct check *c, const struct imc_features *fs, int depth)
{
  int r;

  if (!fs)
    return 0;
  r = check_simple(c, fs, system_rules, sizeof system_rules / sizeof system_rules[0], depth);
  return r ? r : check_indices(c, fs);
}

/* --- elements ------------------------------------------------------------------------ */

static int check_network(struct check *c, const struct imc_elem *e)
{
  return check_simple(c, &e->feats, network_rules,
                      sizeof network_rules / sizeof network_rules[0], -1);
}

static bool has_str(const struct imc_elem *e, const char *name)
{
  const char *s = imc_features_str(&e->feats, name);

  return s && *s;
}

/* IM's ansible.check: typed features, then a host, a username, and a password or a key. */
static int check_ansible(struct check *c, const struct imc_elem *e)
{
  int r = check_simple(c, &e->feats, ansible_rules,
                       sizeof ansible_rules / sizeof ansible_rules[0], -1);

  if (r)
    return r;
  if (!has_str(e, "host"))
    return fail_pos(c, e->pos, "ansible '%.80s' has no host", text(e->id));
  if (!has_str(e, "credentials.username"))
    return fail_pos(c, e->pos, "ansible '%.80s' has no credentials.username", text(e->id));
  if (!has_str(e, "credentials.password") && !has_str(e, "credentials.private_key"))
    return fail_pos(c, e->pos,
                    "ansible '%.80s' needs credentials.password or credentials.private_key",
                    text(e->id));
  return 0;
}

static bool whole(struct imc_num n)
{
  return !n.is_float && n.i >= 0;
}

/* IM checks only that the system exists and the count is not negative; a fractional count
 * is refused here as well. */
static int check_deploy(struct check *c, const struct imc_deploy *d)
{
  if (!imc_doc_system(c->doc, d->system))
    return fail_pos(c, d->pos, "deploy: system '%.80s' is not defined", text(d->system));
  if (!whole(d->count))
    return fail_pos(c, d->pos, "deploy '%.80s': the number of VMs must be a whole number >= 0",
                    text(d->system));
  return 0;
}

/* IM checks max_time and that each item names a defined system and configure; steps must
 * also be whole numbers here. */
static int check_ctxt(struct check *c, const struct imc_ctxt *x)
{
  if (!whole(x->max_time))
    return fail_pos(c, x->pos, "contextualize: max_time must be a whole number >= 0");
  for (size_t i = 0; i < x->nitems; i++) {
    const struct imc_ctxt_item *it = x->items[i];

    if (!imc_doc_system(c->doc, it->system))
      return fail_pos(c, it->pos, "contextualize: system '%.80s' is not defined",
                      text(it->system));
    if (!imc_doc_configure(c->doc, it->configure))
      return fail_pos(c, it->pos, "contextualize: configure '%.80s' is not defined",
                      text(it->configure));
    if (!whole(it->step))
      return fail_pos(c, it->pos, "contextualize: the step must be a whole number >= 0");
  }
  return 0;
}

/* --- the document -------------------------------------------------------------------- */

struct placed {
  const struct imc_elem *e;
  size_t at; /* position in the document's list */
};

static const char *id_of(const struct imc_elem *e)
{
  return text(e->id);
}

static int cmp_placed(const void *a, const void *b)
{
  const struct placed *x = a, *y = b;
  int d = strcmp(id_of(x->e), id_of(y->e));

  return d ? d : (x->at < y->at ? -1 : x->at > y->at);
}

/* The end of IM's RADL.check: no id twice (normally caught earlier by imc_doc_add_elem).  Reports
 * the first element, in document order, whose id was used before it; sorting keeps this
 * O(n log n) on hostile documents. */
static int check_duplicates(struct check *c, struct imc_elem *const *v, size_t n)
{
  struct placed *sorted;
  const struct placed *dup = NULL;

  if (n < 2)
    return 0;
  if (!(sorted = imc_calloc(n, sizeof *sorted)))
    return nomem(c);
  for (size_t i = 0; i < n; i++)
    sorted[i] = (struct placed){v[i], i};
  qsort(sorted, n, sizeof *sorted, cmp_placed);
  /* In a run of equal ids the second entry is the first redefinition. */
  for (size_t i = 1; i < n; i++)
    if (strcmp(id_of(sorted[i].e), id_of(sorted[i - 1].e)) == 0 &&
        (i < 2 || strcmp(id_of(sorted[i - 1].e), id_of(sorted[i - 2].e)) != 0) &&
        (!dup || sorted[i].at < dup->at))
      dup = &sorted[i];
  if (dup) {
    struct imc_pos pos = dup->e->pos;
    int r = fail_pos(c, pos, "%s '%.80s' is defined twice", imc_elem_kind_name(dup->e->kind),
                     id_of(dup->e));

    imc_free(sorted);
    return r;
  }
  imc_free(sorted);
  return 0;
}

int radl_check(const struct imc_doc *doc, struct imc_err *err)
{
  struct check c = {.doc = doc, .err = err};
  int r = 0;

  for (size_t i = 0; i < doc->nnetworks && !r; i++)
    if (!doc->networks[i]->reference)
      r = check_network(&c, doc->networks[i]);
  for (size_t i = 0; i < doc->nansibles && !r; i++)
    r = check_ansible(&c, doc->ansibles[i]);
  for (size_t i = 0; i < doc->nsystems && !r; i++)
    if (!doc->systems[i]->reference)
      r = check_system(&c, &doc->systems[i]->feats, 0);
  for (size_t i = 0; i < doc->ndeploys && !r; i++)
    r = check_deploy(&c, doc->deploys[i]);
  for (size_t i = 0; i < doc->nconfigures && !r; i++)
    if (!doc->configures[i]->reference && doc->configures[i]->recipe)
      r = radl_check_recipe(&c, doc->configures[i]);
  if (!r)
    r = check_ctxt(&c, &doc->ctxt);
  if (!r)
    r = check_duplicates(&c, doc->systems, doc->nsystems);
  if (!r)
    r = check_duplicates(&c, doc->networks, doc->nnetworks);
  return r;
}
