/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Canonical RADL text.  The output must read back (radl_parse) as a document equal to the
 * one printed, so every value is checked against what the lexer would make of it, and what
 * RADL text cannot say (negative numbers, odd identifiers, strings no quoting survives) is
 * refused with IMC_E_INVAL instead of being printed wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "lex.h"

/* The parser refuses contains/soft groups nested deeper than this; so does the printer,
 * which also keeps a hand-built document from exhausting the stack. */
#define PRINT_MAX_DEPTH 64

struct printer {
  struct imc_buf *b;
  struct imc_err *err;
};

/* --- identifiers and numbers ---------------------------------------------------------- */

static bool is_ident(const char *s)
{
  size_t n = s ? strlen(s) : 0;

  return n > 0 && radl_is_identifier(s, n) && radl_keyword(s, n) == RADL_T_VAR;
}

static int add_ident(struct printer *p, const char *s)
{
  if (!is_ident(s))
    return imc_fail(p->err, IMC_E_INVAL, "'%.100s' cannot be written as a RADL identifier",
                    s ? s : "");
  imc_buf_adds(p->b, s);
  return 0;
}

/* Writes a finite v >= 0 with the fewest significant digits that read back as v, in
 * positional form (the lexer knows no exponent) and always with a '.', so that the reader
 * sees a float again: 1.0, 2.5, 0.001, 100000000000000000000.0. */
static void add_float(struct imc_buf *b, double v)
{
  char sci[40], digits[24];
  int exp, nd = 0;

  for (int prec = 0; prec < 17; prec++) {
    snprintf(sci, sizeof sci, "%.*e", prec, v);
    if (strtod(sci, NULL) == v)
      break;
  }
  /* sci is "D.DDDDe[+-]XX": collect the digits, then place the point by the exponent. */
  for (const char *c = sci; *c && *c != 'e'; c++)
    if (*c >= '0' && *c <= '9')
      digits[nd++] = *c;
  exp = (int)strtol(strchr(sci, 'e') + 1, NULL, 10);
  while (nd > 1 && digits[nd - 1] == '0')
    nd--;
  if (exp < 0) {
    imc_buf_adds(b, "0.");
    for (int i = -1; i > exp; i--)
      imc_buf_addc(b, '0');
    imc_buf_add(b, digits, (size_t)nd);
    return;
  }
  for (int i = 0; i <= exp; i++)
    imc_buf_addc(b, i < nd ? digits[i] : '0');
  imc_buf_addc(b, '.');
  if (nd > exp + 1)
    imc_buf_add(b, digits + exp + 1, (size_t)(nd - exp - 1));
  else
    imc_buf_addc(b, '0');
}

/* A number as the lexer reads it (`\d+\.?\d*`): no sign, no exponent. */
static int add_num(struct printer *p, const char *what, struct imc_num n)
{
  if (n.is_float ? !isfinite(n.f) || n.f < 0 : n.i < 0)
    return imc_fail(p->err, IMC_E_INVAL, "%s: a negative or infinite number cannot be written "
                    "as RADL text", what);
  if (n.is_float)
    add_float(p->b, n.f);
  else
    imc_buf_addf(p->b, "%lld", (long long)n.i);
  return 0;
}

/* --- strings -------------------------------------------------------------------------- */

/* What the lexer makes of the literal lit[0..n) (quotes included): true when it is one whole
 * string token whose value is want.  It mirrors lex.c: a backslash takes the next byte with
 * it when finding the end, and only an escaped quote loses its backslash. */
static bool reads_back(const char *lit, size_t n, const char *want)
{
  char quote = lit[0];
  size_t end = 0, w = 0;

  for (size_t i = 1; i < n; i++) {
    if (lit[i] == '\\' && i + 1 < n) {
      i++;
    } else if (lit[i] == quote) {
      end = i;
      break;
    }
  }
  if (end != n - 1)
    return false;
  for (size_t i = 1; i < end; i++) {
    char c = lit[i];

    if (c == '\\' && i + 1 < end && lit[i + 1] == quote)
      c = lit[++i];
    if (want[w++] != c)
      return false;
  }
  return want[w] == '\0';
}

/* IM's lexer turns a literal 'random(N)' into random text, whatever the quotes. */
static bool is_random(const char *s)
{
  size_t n = strlen(s), d = 7;

  if (n < 9 || strncmp(s, "random(", 7) != 0 || s[n - 1] != ')')
    return false;
  while (d < n - 1 && s[d] >= '0' && s[d] <= '9')
    d++;
  return d == n - 1;
}

/* Quotes s with quote into q (reset first), escaping that quote only. */
static void quote_into(struct imc_buf *q, const char *s, char quote)
{
  imc_buf_reset(q);
  imc_buf_addc(q, quote);
  for (; *s; s++) {
    if (*s == quote)
      imc_buf_addc(q, '\\');
    imc_buf_addc(q, *s);
  }
  imc_buf_addc(q, quote);
}

static int add_string(struct printer *p, const char *name, const char *s)
{
  static const char quotes[] = {'\'', '"'};
  struct imc_buf q;
  int r = IMC_E_INVAL;

  imc_buf_init(&q, IMC_MAX_DOC);
  for (size_t i = 0; i < sizeof quotes && !is_random(s); i++) {
    quote_into(&q, s, quotes[i]);
    if (imc_buf_err(&q)) {
      r = imc_buf_err(&q);
      break;
    }
    if (reads_back(q.data, q.len, s)) {
      imc_buf_add(p->b, q.data, q.len);
      r = 0;
      break;
    }
  }
  imc_buf_free(&q);
  if (r == IMC_E_INVAL)
    return imc_fail(p->err, IMC_E_INVAL, "value of '%.100s' cannot be written as RADL text",
                    name);
  if (r)
    return imc_fail(p->err, r, "out of memory");
  return 0;
}

/* --- features ------------------------------------------------------------------------- */

static void add_indent(struct imc_buf *b, int indent)
{
  for (int i = 0; i < indent; i++)
    imc_buf_addc(b, ' ');
}

static int add_features(struct printer *p, const struct imc_features *fs, int indent,
                        int depth);

/* `( ... )` of a contains item or soft group; `()` when empty. */
static int add_group(struct printer *p, const struct imc_features *sub, int indent, int depth)
{
  int r;

  if (depth > PRINT_MAX_DEPTH)
    return imc_fail(p->err, IMC_E_TOOBIG, "features nested deeper than %d levels",
                    PRINT_MAX_DEPTH);
  if (!sub || sub->nprops == 0) {
    imc_buf_adds(p->b, "()");
    return 0;
  }
  imc_buf_adds(p->b, "(\n");
  if ((r = add_features(p, sub, indent + 2, depth + 1)) != 0)
    return r;
  imc_buf_addc(p->b, '\n');
  add_indent(p->b, indent);
  imc_buf_addc(p->b, ')');
  return 0;
}

static int add_list(struct printer *p, const struct imc_feature *f)
{
  int r;

  imc_buf_addc(p->b, '[');
  for (size_t i = 0; i < f->nlist; i++) {
    if (i > 0)
      imc_buf_adds(p->b, ", ");
    if ((r = add_string(p, f->name, f->list[i])) != 0)
      return r;
  }
  imc_buf_addc(p->b, ']');
  return 0;
}

/* A unit is an identifier right after the number.  One starting with '.' would glue to an
 * integer as its decimal point ("2.G" reads as 2.0 G), so it gets a space. */
static int add_unit(struct printer *p, const char *unit)
{
  if (!unit || !*unit)
    return 0;
  if (unit[0] == '.')
    imc_buf_addc(p->b, ' ');
  return add_ident(p, unit);
}

/* NAME OP VALUE with op as given (ranges pass a normalised one). */
static int add_simple(struct printer *p, const struct imc_feature *f, enum imc_op op)
{
  char what[160];
  int r;

  if ((r = add_ident(p, f->name)) != 0)
    return r;
  imc_buf_addf(p->b, " %s ", imc_op_text(op));
  switch (f->type) {
  case IMC_V_NUM:
    snprintf(what, sizeof what, "value of '%.100s'", f->name);
    if ((r = add_num(p, what, f->num)) != 0)
      return r;
    return add_unit(p, f->unit);
  case IMC_V_STR:
    return add_string(p, f->name, f->str ? f->str : "");
  case IMC_V_LIST:
    return add_list(p, f);
  default:
    return imc_fail(p->err, IMC_E_INVAL, "'%.100s' has nested features but no 'contains'",
                    f->name);
  }
}

/* One item of a CONTAINS or SOFT prop. */
static int add_item(struct printer *p, const struct imc_feature *f, int indent, int depth)
{
  int r;

  if (f->op == IMC_OP_SOFT) {
    imc_buf_adds(p->b, "soft ");
    if ((r = add_num(p, "soft weight", f->num)) != 0)
      return r;
    imc_buf_addc(p->b, ' ');
  } else {
    if ((r = add_ident(p, f->name)) != 0)
      return r;
    imc_buf_adds(p->b, " contains ");
  }
  return add_group(p, f->sub, indent, depth);
}

/* Starts the next feature line: " and\n" after the first, then the indentation. */
static void next_line(struct printer *p, bool *first, int indent)
{
  if (!*first)
    imc_buf_adds(p->b, " and\n");
  *first = false;
  add_indent(p->b, indent);
}

/* A range reads back as the same interval whatever its bounds' operators, as long as the
 * lower bound is written with '>' or '>=' and the upper with '<' or '<='; '=' only for a
 * single value.  The original operators are kept where they already say that. */
static int add_range(struct printer *p, const struct imc_prop *pr, bool *first, int indent)
{
  const struct imc_feature *lo = pr->lo, *hi = pr->hi;
  int r;

  if (lo && hi && lo->op == IMC_OP_EQ && hi->op == IMC_OP_EQ &&
      lo->num.is_float == hi->num.is_float &&
      imc_feature_num_in(lo, NULL) == imc_feature_num_in(hi, NULL)) {
    next_line(p, first, indent);
    return add_simple(p, lo, IMC_OP_EQ);
  }
  if (lo) {
    next_line(p, first, indent);
    if ((r = add_simple(p, lo, lo->op == IMC_OP_GT ? IMC_OP_GT : IMC_OP_GE)) != 0)
      return r;
  }
  if (hi) {
    next_line(p, first, indent);
    if ((r = add_simple(p, hi, hi->op == IMC_OP_LT ? IMC_OP_LT : IMC_OP_LE)) != 0)
      return r;
  }
  return 0;
}

/* Every feature of fs, one per line at indent, joined by " and", no final newline. */
static int add_features(struct printer *p, const struct imc_features *fs, int indent, int depth)
{
  bool first = true;
  int r = 0;

  for (size_t i = 0; i < fs->nprops && r == 0; i++) {
    const struct imc_prop *pr = &fs->props[i];

    switch (pr->kind) {
    case IMC_PROP_VALUE:
      next_line(p, &first, indent);
      r = add_simple(p, pr->value, pr->value->op);
      break;
    case IMC_PROP_RANGE:
      r = add_range(p, pr, &first, indent);
      break;
    default:
      for (size_t j = 0; j < pr->nitems && r == 0; j++) {
        next_line(p, &first, indent);
        r = add_item(p, pr->items[j], indent, depth);
      }
      break;
    }
  }
  return r;
}

/* --- sentences ------------------------------------------------------------------------ */

/* `system front`, `system front ()` or `system front (\n ... \n)`, then a newline. */
static int add_elem(struct printer *p, const struct imc_elem *e)
{
  int r;

  if (e->reference && e->kind == IMC_ELEM_ANSIBLE)
    return imc_fail(p->err, IMC_E_INVAL, "ansible host '%.100s' is a reference, which RADL "
                    "text cannot write", e->id ? e->id : "");
  imc_buf_adds(p->b, imc_elem_kind_name(e->kind));
  imc_buf_addc(p->b, ' ');
  if ((r = add_ident(p, e->id)) != 0)
    return r;
  if (!e->reference) {
    imc_buf_addc(p->b, ' ');
    if ((r = add_group(p, &e->feats, 0, 1)) != 0)
      return r;
  }
  imc_buf_addc(p->b, '\n');
  return 0;
}

/* The parser ends a recipe at the first line that starts with @end. */
static bool recipe_has_end(const char *s)
{
  for (const char *line = s; line; line = strchr(line, '\n')) {
    if (*line == '\n')
      line++;
    if (strncmp(line, "@end", 4) == 0)
      return true;
  }
  return false;
}

static int add_configure(struct printer *p, const struct imc_configure *c)
{
  int r;

  imc_buf_adds(p->b, "configure ");
  if ((r = add_ident(p, c->id)) != 0)
    return r;
  if (c->reference) {
    imc_buf_addc(p->b, '\n');
  } else if (!c->recipe) {
    imc_buf_adds(p->b, " ()\n");
  } else {
    if (recipe_has_end(c->recipe))
      return imc_fail(p->err, IMC_E_INVAL, "the recipe of configure '%.100s' has a line "
                      "starting with @end, which RADL text cannot hold", c->id);
    imc_buf_adds(p->b, " (\n@begin\n");
    imc_buf_adds(p->b, c->recipe);
    imc_buf_adds(p->b, "\n@end\n)\n");
  }
  return 0;
}

/* `option NAME OP VALUE`: the grammar takes a string or a number without unit. */
static int add_option(struct printer *p, const struct imc_feature *o)
{
  char what[160];
  int r;

  if (o->op == IMC_OP_CONTAINS || o->op == IMC_OP_SOFT ||
      (o->type != IMC_V_NUM && o->type != IMC_V_STR) ||
      (o->type == IMC_V_NUM && o->unit && *o->unit))
    return imc_fail(p->err, IMC_E_INVAL, "option '%.100s' cannot be written as RADL text: "
                    "options take a string or a number without unit", o->name ? o->name : "");
  imc_buf_adds(p->b, "  option ");
  if ((r = add_ident(p, o->name)) != 0)
    return r;
  imc_buf_addf(p->b, " %s ", imc_op_text(o->op));
  if (o->type == IMC_V_STR) {
    r = add_string(p, o->name, o->str ? o->str : "");
  } else {
    snprintf(what, sizeof what, "value of option '%.100s'", o->name);
    r = add_num(p, what, o->num);
  }
  imc_buf_addc(p->b, '\n');
  return r;
}

static int add_ctxt_item(struct printer *p, const struct imc_ctxt_item *it)
{
  int r;

  imc_buf_adds(p->b, "  system ");
  if ((r = add_ident(p, it->system)) != 0)
    return r;
  imc_buf_adds(p->b, " configure ");
  if ((r = add_ident(p, it->configure)) != 0)
    return r;
  if (it->step.is_float || it->step.i != 0) {
    imc_buf_adds(p->b, " step ");
    if ((r = add_num(p, "contextualize step", it->step)) != 0)
      return r;
  }
  if (it->tool) {
    imc_buf_adds(p->b, " with ");
    if ((r = add_ident(p, it->tool)) != 0)
      return r;
  }
  imc_buf_addc(p->b, '\n');
  return 0;
}

static int add_ctxt(struct printer *p, const struct imc_ctxt *c)
{
  int r;

  imc_buf_adds(p->b, "contextualize ");
  /* 0 is the default: the reader keeps the larger of the times it sees, so even 0.0 is 0. */
  if (imc_num_value(c->max_time) != 0) {
    if ((r = add_num(p, "contextualize max_time", c->max_time)) != 0)
      return r;
    imc_buf_addc(p->b, ' ');
  }
  if (c->nitems == 0 && c->noptions == 0) {
    imc_buf_adds(p->b, "()\n");
    return 0;
  }
  imc_buf_adds(p->b, "(\n");
  for (size_t i = 0; i < c->noptions; i++)
    if ((r = add_option(p, c->options[i])) != 0)
      return r;
  for (size_t i = 0; i < c->nitems; i++)
    if ((r = add_ctxt_item(p, c->items[i])) != 0)
      return r;
  imc_buf_adds(p->b, ")\n");
  return 0;
}

static int add_deploy(struct printer *p, const struct imc_deploy *d)
{
  int r;

  imc_buf_adds(p->b, "deploy ");
  if ((r = add_ident(p, d->system)) != 0)
    return r;
  imc_buf_addc(p->b, ' ');
  if ((r = add_num(p, "deploy count", d->count)) != 0)
    return r;
  if (d->cloud) {
    imc_buf_addc(p->b, ' ');
    if ((r = add_ident(p, d->cloud)) != 0)
      return r;
  }
  imc_buf_addc(p->b, '\n');
  return 0;
}

/* A blank line between sentences, none before the first. */
static void separate(struct printer *p)
{
  if (p->b->len > 0)
    imc_buf_addc(p->b, '\n');
}

static int add_elems(struct printer *p, struct imc_elem *const *v, size_t n)
{
  int r;

  for (size_t i = 0; i < n; i++) {
    separate(p);
    if ((r = add_elem(p, v[i])) != 0)
      return r;
  }
  return 0;
}

static int add_doc(struct printer *p, const struct imc_doc *doc)
{
  int r;

  /* IM's grammar wants a sentence after the description; without one the text would not
   * read back. */
  if (doc->description && !doc->nansibles && !doc->nnetworks && !doc->nsystems &&
      !doc->nconfigures && !doc->ndeploys && !doc->ctxt.present)
    return imc_fail(p->err, IMC_E_INVAL, "a description alone cannot be written as RADL "
                    "text: the grammar needs another sentence after it");
  if (doc->description && (r = add_elem(p, doc->description)) != 0)
    return r;
  if ((r = add_elems(p, doc->ansibles, doc->nansibles)) != 0 ||
      (r = add_elems(p, doc->networks, doc->nnetworks)) != 0 ||
      (r = add_elems(p, doc->systems, doc->nsystems)) != 0)
    return r;
  for (size_t i = 0; i < doc->nconfigures; i++) {
    separate(p);
    if ((r = add_configure(p, doc->configures[i])) != 0)
      return r;
  }
  if (doc->ctxt.present) {
    separate(p);
    if ((r = add_ctxt(p, &doc->ctxt)) != 0)
      return r;
  }
  if (doc->ndeploys)
    separate(p);
  for (size_t i = 0; i < doc->ndeploys; i++)
    if ((r = add_deploy(p, doc->deploys[i])) != 0)
      return r;
  return 0;
}

int radl_print(const struct imc_doc *doc, struct imc_buf *out, struct imc_err *err)
{
  struct imc_buf text;
  struct printer p = {.b = &text, .err = err};
  int r;

  /* Printed aside and appended whole, so that out is untouched when printing fails. */
  imc_buf_init(&text, out->max);
  if ((r = add_doc(&p, doc)) != 0)
    goto out;
  if ((r = imc_buf_err(&text)) == 0 && text.len > 0)
    r = imc_buf_add_whole(out, text.data, text.len);
  if (r == IMC_E_TOOBIG)
    imc_fail(err, r, "RADL text larger than %zu bytes", out->max);
  else if (r)
    imc_fail(err, r, "out of memory");
out:
  imc_buf_free(&text);
  return r;
}
