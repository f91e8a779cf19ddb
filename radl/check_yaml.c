/* SPDX-License-Identifier: GPL-3.0-or-later */
/* radl_check's recipe validation: IM's yaml.safe_load on libyaml events, bounded. */
#include "imc/alloc.h"
#include "imc/radl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "check_int.h"

/* Beyond IM: PyYAML builds aliases as shared references, so IM accepts a "billion laughs"
 * recipe; whatever later expands it (Ansible, a JSON dump) would not survive it. */
#define YAML_MAX_ALIASES 10000
#define YAML_MAX_EXPANSION 1000000 /* nodes that aliases stand for, counted expanded */
#define YAML_MAX_DEPTH 1000

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

struct anchor {
  char *name;
  size_t size; /* nodes in the anchored subtree, aliases expanded */
  bool open;   /* its collection has not ended yet (an alias to it is recursive) */
  enum node_kind kind;
};

struct frame {
  enum node_kind kind;
  size_t size, children;
  const char *anchor; /* the table's copy of the name (slots move when the table grows) */
};

struct yaml_check {
  struct check *c;
  const struct imc_configure *k;
  struct anchor *anchors; /* open-addressing hash table */
  size_t nanchors, cap_anchors;
  struct frame *stack;
  size_t depth, cap_stack;
  size_t documents, aliases, expanded;
};

/* The position in the RADL document of a mark inside the recipe.  A recipe that does not
 * come from text (recipe_pos 0) is reported at its configure. */
static struct imc_pos recipe_pos(const struct imc_configure *k, size_t line, size_t column)
{
  struct imc_pos pos = k->pos;

  if (k->recipe_pos.line > 0 && line < (size_t)INT_MAX - (size_t)k->recipe_pos.line &&
      column < (size_t)INT_MAX - (size_t)k->recipe_pos.col) {
    pos.line = k->recipe_pos.line + (int)line;
    pos.col = (line == 0 ? k->recipe_pos.col : 1) + (int)column;
  }
  return pos;
}

static int yaml_fail(struct yaml_check *y, yaml_mark_t mark, const char *fmt, ...)
  IMC_PRINTF(3, 4);

static int yaml_fail(struct yaml_check *y, yaml_mark_t mark, const char *fmt, ...)
{
  char why[IMC_ERR_MSG_MAX];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return fail_pos(y->c, recipe_pos(y->k, mark.line, mark.column),
                  "invalid YAML in configure '%.80s': %s", text(y->k->id), why);
}

/* libyaml's reader errors carry a byte offset instead of a mark. */
static yaml_mark_t mark_at_offset(const char *recipe, size_t offset)
{
  yaml_mark_t m = {0};

  for (size_t i = 0; i < offset && recipe[i]; i++) {
    if (recipe[i] == '\n') {
      m.line++;
      m.column = 0;
    } else if (((unsigned char)recipe[i] & 0xC0) != 0x80) {
      m.column++;
    }
  }
  return m;
}

static int parser_error(struct yaml_check *y, const yaml_parser_t *p)
{
  yaml_mark_t mark = p->problem_mark;
  const char *problem = p->problem ? p->problem : "unknown error";

  if (p->error == YAML_MEMORY_ERROR)
    return nomem(y->c);
  if (p->error == YAML_READER_ERROR)
    mark = mark_at_offset(y->k->recipe, p->problem_offset);
  if (p->context)
    return yaml_fail(y, mark, "%s, %s", p->context, problem);
  return yaml_fail(y, mark, "%s", problem);
}

static uint64_t hash_name(const char *s)
{
  uint64_t h = 1469598103934665603u; /* FNV-1a */

  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* The slot of name, or the empty slot where it would go. */
static struct anchor *anchor_slot(const struct yaml_check *y, const char *name)
{
  size_t i = (size_t)hash_name(name) & (y->cap_anchors - 1);

  while (y->anchors[i].name && strcmp(y->anchors[i].name, name) != 0)
    i = (i + 1) & (y->cap_anchors - 1);
  return &y->anchors[i];
}

static struct anchor *anchor_find(const struct yaml_check *y, const char *name)
{
  struct anchor *a = y->cap_anchors ? anchor_slot(y, name) : NULL;

  return a && a->name ? a : NULL;
}

/* Keeps the table at most half full; the capacity is a power of two. */
static int anchors_reserve(struct yaml_check *y)
{
  struct anchor *old = y->anchors;
  size_t oldcap = y->cap_anchors, cap = oldcap ? oldcap * 2 : 16;

  if (2 * (y->nanchors + 1) <= oldcap)
    return 0;
  if (!(y->anchors = imc_calloc(cap, sizeof *y->anchors))) {
    y->anchors = old;
    return nomem(y->c);
  }
  y->cap_anchors = cap;
  for (size_t i = 0; i < oldcap; i++)
    if (old[i].name)
      *anchor_slot(y, old[i].name) = old[i];
  imc_free(old);
  return 0;
}

/* PyYAML's composer refuses a second anchor of the same name in one document. */
static int anchor_add(struct yaml_check *y, const yaml_event_t *ev, const char *name,
                      enum node_kind kind, const char **ref)
{
  struct anchor *a;
  int r;

  if (anchor_find(y, name))
    return yaml_fail(y, ev->start_mark, "duplicate anchor '&%.80s'", name);
  if ((r = anchors_reserve(y)) != 0)
    return r;
  a = anchor_slot(y, name);
  if (!(a->name = imc_strdup(name)))
    return nomem(y->c);
  a->size = 1;
  a->open = kind != NODE_SCALAR;
  a->kind = kind;
  y->nanchors++;
  *ref = a->name;
  return 0;
}

/* A node of size n is complete: count it in its parent. */
static void node_done(struct yaml_check *y, size_t n)
{
  if (y->depth > 0) {
    struct frame *top = &y->stack[y->depth - 1];

    top->size = top->size + n < top->size ? SIZE_MAX : top->size + n;
    top->children++;
  }
}

/* PyYAML's SafeConstructor: a collection (or an alias to one) cannot be a mapping key. */
static bool in_key_position(const struct yaml_check *y)
{
  return y->depth > 0 && y->stack[y->depth - 1].kind == NODE_MAP &&
         y->stack[y->depth - 1].children % 2 == 0;
}

/* SafeConstructor's tags, and the kind of node each one builds from.  Any other explicit
 * tag ("!vault", "!unsafe", "!!python/object") has no constructor there. */
static int check_tag(struct yaml_check *y, const yaml_event_t *ev, const yaml_char_t *tag,
                     enum node_kind kind)
{
  static const struct {
    const char *name;
    enum node_kind kind;
  } tags[] = {
    {"null", NODE_SCALAR}, {"bool", NODE_SCALAR},   {"int", NODE_SCALAR},
    {"float", NODE_SCALAR}, {"binary", NODE_SCALAR}, {"timestamp", NODE_SCALAR},
    {"str", NODE_SCALAR},  {"seq", NODE_SEQ},       {"omap", NODE_SEQ},
    {"pairs", NODE_SEQ},   {"map", NODE_MAP},       {"set", NODE_MAP},
  };
  static const char *const kinds[] = {"a scalar", "a sequence", "a mapping"};
  static const char prefix[] = "tag:yaml.org,2002:";
  const char *t = (const char *)tag;

  if (!t || strcmp(t, "!") == 0)
    return 0;
  if (strncmp(t, prefix, sizeof prefix - 1) == 0) {
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
      if (strcmp(t + sizeof prefix - 1, tags[i].name) != 0)
        continue;
      if (tags[i].kind == kind)
        return 0;
      return yaml_fail(y, ev->start_mark, "tag '!!%s' needs %s, not %s", tags[i].name,
                       kinds[tags[i].kind], kinds[kind]);
    }
    return yaml_fail(y, ev->start_mark, "unknown tag '!!%.80s'", t + sizeof prefix - 1);
  }
  return yaml_fail(y, ev->start_mark, "unknown tag '%.80s'", t);
}

static int on_alias(struct yaml_check *y, const yaml_event_t *ev)
{
  const char *name = (const char *)ev->data.alias.anchor;
  const struct anchor *a = anchor_find(y, name);
  size_t n;

  if (!a)
    return yaml_fail(y, ev->start_mark, "undefined alias '*%.80s'", name);
  if (a->kind != NODE_SCALAR && in_key_position(y))
    return yaml_fail(y, ev->start_mark, "a mapping key cannot be a sequence or a mapping");
  if (++y->aliases > YAML_MAX_ALIASES)
    return yaml_fail(y, ev->start_mark, "more than %d aliases", YAML_MAX_ALIASES);
  /* An alias to a collection still open is recursive: PyYAML builds a cycle; count it once. */
  n = a->open ? 1 : a->size;
  if (n > YAML_MAX_EXPANSION - y->expanded)
    return yaml_fail(y, ev->start_mark, "aliases expand to more than %d nodes",
                     YAML_MAX_EXPANSION);
  y->expanded += n;
  node_done(y, n);
  return 0;
}

static int on_scalar(struct yaml_check *y, const yaml_event_t *ev)
{
  const char *ref;
  int r;

  if ((r = check_tag(y, ev, ev->data.scalar.tag, NODE_SCALAR)) != 0)
    return r;
  if (ev->data.scalar.anchor &&
      (r = anchor_add(y, ev, (const char *)ev->data.scalar.anchor, NODE_SCALAR, &ref)) != 0)
    return r;
  node_done(y, 1);
  return 0;
}

static int on_start(struct yaml_check *y, const yaml_event_t *ev, enum node_kind kind)
{
  const yaml_char_t *tag = kind == NODE_SEQ ? ev->data.sequence_start.tag
                                            : ev->data.mapping_start.tag;
  const yaml_char_t *anchor = kind == NODE_SEQ ? ev->data.sequence_start.anchor
                                               : ev->data.mapping_start.anchor;
  const char *ref = NULL;
  int r;

  if (in_key_position(y))
    return yaml_fail(y, ev->start_mark, "a mapping key cannot be a sequence or a mapping");
  if ((r = check_tag(y, ev, tag, kind)) != 0)
    return r;
  if (y->depth >= YAML_MAX_DEPTH)
    return yaml_fail(y, ev->start_mark, "nested deeper than %d levels", YAML_MAX_DEPTH);
  if (anchor && (r = anchor_add(y, ev, (const char *)anchor, kind, &ref)) != 0)
    return r;
  if (imc_grow((void **)&y->stack, &y->cap_stack, y->depth + 1, sizeof *y->stack))
    return nomem(y->c);
  y->stack[y->depth++] = (struct frame){kind, 1, 0, ref};
  return 0;
}

static void on_end(struct yaml_check *y)
{
  struct frame f = y->stack[--y->depth];

  if (f.anchor) {
    struct anchor *a = anchor_find(y, f.anchor);

    a->size = f.size;
    a->open = false;
  }
  node_done(y, f.size);
}

/* One event; *done is set at the end of the stream. */
static int on_event(struct yaml_check *y, const yaml_event_t *ev, bool *done)
{
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    if (++y->documents > 1)
      return yaml_fail(y, ev->start_mark, "expected a single document, found another one");
    return 0;
  case YAML_ALIAS_EVENT:
    return on_alias(y, ev);
  case YAML_SCALAR_EVENT:
    return on_scalar(y, ev);
  case YAML_SEQUENCE_START_EVENT:
    return on_start(y, ev, NODE_SEQ);
  case YAML_MAPPING_START_EVENT:
    return on_start(y, ev, NODE_MAP);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    on_end(y);
    return 0;
  case YAML_STREAM_END_EVENT:
    *done = true;
    return 0;
  default:
    return 0;
  }
}

/* IM's configure.check: yaml.safe_load(recipe) must succeed, for every recipe (cloud-init
 * ones too). */
int radl_check_recipe(struct check *c, const struct imc_configure *k)
{
  struct yaml_check y = {.c = c, .k = k};
  yaml_parser_t parser;
  bool done = false;
  int r = 0;

  if (!yaml_parser_initialize(&parser))
    return nomem(c);
  yaml_parser_set_input_string(&parser, (const unsigned char *)k->recipe, strlen(k->recipe));
  while (!done && !r) {
    yaml_event_t ev;

    if (!yaml_parser_parse(&parser, &ev)) {
      r = parser_error(&y, &parser);
      break;
    }
    r = on_event(&y, &ev, &done);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  for (size_t i = 0; i < y.cap_anchors; i++)
    imc_free(y.anchors[i].name);
  imc_free(y.anchors);
  imc_free(y.stack);
  return r;
}
