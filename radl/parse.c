/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RADL parser: recursive descent over IM's grammar (radl_parse.py), one token of look-ahead.
 * Elements are added to the document as they are read, so duplicates fail at the duplicate. */
#include <stdio.h>
#include <string.h>

#include "imc/alloc.h"
#include "imc/radl.h"
#include "input.h"
#include "lex.h"

/* contains (...) and soft (...) nest; a hostile document must not exhaust the stack. */
#define RADL_MAX_DEPTH 64

struct parser {
  struct radl_lexer lx;
  struct radl_token tok;
  const char *source;
  struct imc_doc *doc;
  struct imc_err *err;
};

static int next(struct parser *ps)
{
  imc_free(ps->tok.str);
  ps->tok.str = NULL;
  return radl_lex_next(&ps->lx, &ps->tok, ps->err);
}

static int fail_here(struct parser *ps, const char *what)
{
  char found[96];

  radl_tok_describe(&ps->tok, found, sizeof found);
  return imc_fail_at(ps->err, IMC_E_PARSE, ps->source, ps->tok.pos.line, ps->tok.pos.col,
                     "expected %s, found %s", what, found);
}

static int expect(struct parser *ps, enum radl_tok type, const char *what)
{
  if (ps->tok.type != type)
    return fail_here(ps, what);
  return next(ps);
}

static int nomem(struct parser *ps)
{
  return imc_fail(ps->err, IMC_E_NOMEM, "out of memory");
}

/* Copies the current identifier into *out and moves on. */
static int take_ident(struct parser *ps, const char *what, char **out)
{
  if (ps->tok.type != RADL_T_VAR)
    return fail_here(ps, what);
  int r;

  if (!(*out = imc_strndup(ps->tok.p, ps->tok.n)))
    return nomem(ps);
  if ((r = next(ps)) != 0) {
    imc_free(*out);
    *out = NULL;
  }
  return r;
}

static bool is_comparator(enum radl_tok t, enum imc_op *op)
{
  static const struct {
    enum radl_tok tok;
    enum imc_op op;
  } table[] = {
    {RADL_T_EQ, IMC_OP_EQ}, {RADL_T_LT, IMC_OP_LT}, {RADL_T_GT, IMC_OP_GT},
    {RADL_T_LE, IMC_OP_LE}, {RADL_T_GE, IMC_OP_GE},
  };

  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    if (table[i].tok == t) {
      *op = table[i].op;
      return true;
    }
  }
  return false;
}

static int parse_features(struct parser *ps, struct imc_features *fs, int depth);

/* `( features )` into a new feature set, for contains and soft. */
static int parse_group(struct parser *ps, struct imc_feature *f, int depth)
{
  int r;

  if (depth > RADL_MAX_DEPTH)
    return imc_fail_at(ps->err, IMC_E_TOOBIG, ps->source, ps->tok.pos.line, ps->tok.pos.col,
                       "features nested deeper than %d levels", RADL_MAX_DEPTH);
  if ((r = expect(ps, RADL_T_LPAREN, "'('")) != 0)
    return r;
  if (!(f->sub = imc_features_new()))
    return nomem(ps);
  if ((r = parse_features(ps, f->sub, depth + 1)) != 0)
    return r;
  return expect(ps, RADL_T_RPAREN, "')' or 'and'");
}

/* `[ 'a', 'b' ]`.  As in IM's grammar, a list may start with a comma (`[, 'a']`). */
static int parse_list(struct parser *ps, struct imc_feature *f)
{
  size_t cap = 0;
  int r;

  if ((r = next(ps)) != 0)
    return r;
  f->type = IMC_V_LIST;
  if (ps->tok.type != RADL_T_STRING && ps->tok.type != RADL_T_COMMA)
    return expect(ps, RADL_T_RBRACK, "a string or ']'");
  for (bool first = true;; first = false) {
    if (!first || ps->tok.type == RADL_T_COMMA) {
      if (ps->tok.type != RADL_T_COMMA)
        break;
      if ((r = next(ps)) != 0)
        return r;
    }
    if (ps->tok.type != RADL_T_STRING)
      return fail_here(ps, "a string");
    if (imc_grow((void **)&f->list, &cap, f->nlist + 1, sizeof *f->list))
      return nomem(ps);
    f->list[f->nlist++] = ps->tok.str;
    ps->tok.str = NULL;
    if ((r = next(ps)) != 0)
      return r;
  }
  return expect(ps, RADL_T_RBRACK, "',' or ']'");
}

/* The value after a comparator: NUMBER [unit] | STRING | [ list ]. */
static int parse_value(struct parser *ps, struct imc_feature *f)
{
  int r;

  switch (ps->tok.type) {
  case RADL_T_NUMBER:
    f->type = IMC_V_NUM;
    f->num = ps->tok.num;
    if ((r = next(ps)) != 0)
      return r;
    if (ps->tok.type == RADL_T_VAR)
      return take_ident(ps, "a unit", &f->unit);
    return 0;
  case RADL_T_STRING:
    f->type = IMC_V_STR;
    f->str = ps->tok.str;
    ps->tok.str = NULL;
    return next(ps);
  case RADL_T_LBRACK:
    return parse_list(ps, f);
  default:
    return fail_here(ps, "a number, a string or a list");
  }
}

/* soft W ( ... ) | NAME contains ( ... ) | NAME op value.  *out is set even on failure
 * (so the caller frees what was built). */
static int parse_feature(struct parser *ps, struct imc_feature **out, int depth)
{
  struct imc_pos pos = ps->tok.pos;
  struct imc_feature *f;
  char *name = NULL;
  enum imc_op op;
  int r;

  *out = NULL;
  if (ps->tok.type == RADL_T_SOFT) {
    if (!(*out = f = imc_feature_new(NULL, IMC_OP_SOFT, IMC_V_FEATURES)))
      return nomem(ps);
    f->pos = pos;
    if ((r = next(ps)) != 0)
      return r;
    if (ps->tok.type != RADL_T_NUMBER)
      return fail_here(ps, "the weight of the soft group");
    f->num = ps->tok.num;
    if ((r = next(ps)) != 0)
      return r;
    return parse_group(ps, f, depth);
  }
  if ((r = take_ident(ps, "a feature name or 'soft'", &name)) != 0)
    return r;
  if (!(*out = f = imc_feature_new(NULL, IMC_OP_EQ, IMC_V_STR))) {
    imc_free(name);
    return nomem(ps);
  }
  f->name = name;
  f->pos = pos;
  if (ps->tok.type == RADL_T_CONTAINS) {
    f->op = IMC_OP_CONTAINS;
    f->type = IMC_V_FEATURES;
    if ((r = next(ps)) != 0)
      return r;
    return parse_group(ps, f, depth);
  }
  if (!is_comparator(ps->tok.type, &op))
    return fail_here(ps, "'=', '<', '>', '<=', '>=' or 'contains'");
  f->op = op;
  if ((r = next(ps)) != 0)
    return r;
  return parse_value(ps, f);
}

/* features := empty | feature ('and' feature)*, added under IM's parse policy (conflicts are
 * errors, new names are added). */
static int parse_features(struct parser *ps, struct imc_features *fs, int depth)
{
  if (ps->tok.type == RADL_T_RPAREN)
    return 0;
  for (;;) {
    struct imc_feature *f;
    int r = parse_feature(ps, &f, depth);

    if (r) {
      imc_feature_free(f);
      return r;
    }
    if ((r = imc_features_add(fs, f, IMC_POLICY_ERROR, IMC_POLICY_OTHER, ps->source, ps->err)))
      return r;
    if (ps->tok.type != RADL_T_AND)
      return 0;
    if ((r = next(ps)) != 0)
      return r;
  }
}

/* network|system|description NAME [( features )], ansible NAME ( features ). */
static int parse_elem(struct parser *ps, enum imc_elem_kind kind, bool body_required)
{
  struct imc_pos pos = ps->tok.pos;
  struct imc_elem *e = NULL;
  char *id = NULL;
  int r;

  if ((r = next(ps)) != 0 || (r = take_ident(ps, "a name", &id)) != 0)
    goto out;
  if (!(e = imc_elem_new(kind, NULL))) {
    r = nomem(ps);
    goto out;
  }
  e->id = id;
  id = NULL;
  e->pos = pos;
  if (ps->tok.type == RADL_T_LPAREN) {
    if ((r = next(ps)) != 0 || (r = parse_features(ps, &e->feats, 1)) != 0 ||
        (r = expect(ps, RADL_T_RPAREN, "')' or 'and'")) != 0)
      goto out;
  } else if (body_required) {
    r = fail_here(ps, "'('");
    goto out;
  } else {
    e->reference = true;
  }
  r = imc_doc_add_elem(ps->doc, e, IMC_IFPRESENT_ERROR, NULL, ps->err);
  e = NULL; /* transferred, even on error */
out:
  imc_free(id);
  imc_elem_free(e);
  return r;
}

static int parse_network(struct parser *ps)
{
  return parse_elem(ps, IMC_ELEM_NETWORK, false);
}

static int parse_system(struct parser *ps)
{
  return parse_elem(ps, IMC_ELEM_SYSTEM, false);
}

static int parse_ansible(struct parser *ps)
{
  return parse_elem(ps, IMC_ELEM_ANSIBLE, true);
}

/* configure NAME | configure NAME () | configure NAME ( @begin ... @end ). */
static int parse_configure(struct parser *ps)
{
  struct imc_configure *c;
  int r;

  if (!(c = imc_configure_new(NULL)))
    return nomem(ps);
  c->pos = ps->tok.pos;
  if ((r = next(ps)) != 0 || (r = take_ident(ps, "a name", &c->id)) != 0)
    goto fail;
  if (ps->tok.type != RADL_T_LPAREN) {
    c->reference = true;
  } else {
    if ((r = next(ps)) != 0)
      goto fail;
    if (ps->tok.type == RADL_T_RECIPE) {
      c->recipe = ps->tok.str;
      c->recipe_pos = ps->tok.str_pos;
      ps->tok.str = NULL;
      if ((r = next(ps)) != 0)
        goto fail;
    }
    if ((r = expect(ps, RADL_T_RPAREN, "@begin or ')'")) != 0)
      goto fail;
  }
  return imc_doc_add_configure(ps->doc, c, IMC_IFPRESENT_ERROR, NULL, ps->err);
fail:
  imc_configure_free(c);
  return r;
}

/* option NAME op (STRING | NUMBER) */
static int parse_option(struct parser *ps, struct imc_ctxt *ctxt)
{
  struct imc_feature *f;
  enum imc_op op;
  int r;

  if (!(f = imc_feature_new(NULL, IMC_OP_EQ, IMC_V_STR)))
    return nomem(ps);
  if ((r = next(ps)) != 0)
    goto fail;
  f->pos = ps->tok.pos;
  if ((r = take_ident(ps, "an option name", &f->name)) != 0)
    goto fail;
  if (!is_comparator(ps->tok.type, &op)) {
    r = fail_here(ps, "'=', '<', '>', '<=' or '>='");
    goto fail;
  }
  f->op = op;
  if ((r = next(ps)) != 0)
    goto fail;
  if (ps->tok.type == RADL_T_STRING) {
    f->str = ps->tok.str;
    ps->tok.str = NULL;
  } else if (ps->tok.type == RADL_T_NUMBER) {
    f->type = IMC_V_NUM;
    f->num = ps->tok.num;
  } else {
    r = fail_here(ps, "a string or a number");
    goto fail;
  }
  if ((r = next(ps)) != 0)
    goto fail;
  return imc_ctxt_add_option(ctxt, f) ? nomem(ps) : 0;
fail:
  imc_feature_free(f);
  return r;
}

/* system S configure C [step N] [with TOOL] */
static int parse_ctxt_item(struct parser *ps, struct imc_ctxt *ctxt)
{
  struct imc_ctxt_item *it = imc_calloc(1, sizeof *it);
  int r;

  if (!it)
    return nomem(ps);
  it->pos = ps->tok.pos;
  if ((r = next(ps)) != 0 || (r = take_ident(ps, "a system name", &it->system)) != 0 ||
      (r = expect(ps, RADL_T_CONFIGURE, "'configure'")) != 0 ||
      (r = take_ident(ps, "a configure name", &it->configure)) != 0)
    goto fail;
  if (ps->tok.type == RADL_T_STEP) {
    if ((r = next(ps)) != 0)
      goto fail;
    if (ps->tok.type != RADL_T_NUMBER) {
      r = fail_here(ps, "a step number");
      goto fail;
    }
    it->step = ps->tok.num;
    if ((r = next(ps)) != 0)
      goto fail;
  }
  if (ps->tok.type == RADL_T_WITH &&
      ((r = next(ps)) != 0 || (r = take_ident(ps, "a tool name", &it->tool)) != 0))
    goto fail;
  return imc_ctxt_add_item(ctxt, it) ? nomem(ps) : 0;
fail:
  imc_ctxt_item_free(it);
  return r;
}

/* contextualize [MAX_TIME] ( option* item* ); several sentences merge (IM's update). */
static int parse_contextualize(struct parser *ps)
{
  struct imc_ctxt ctxt;
  int r;

  imc_ctxt_init(&ctxt);
  ctxt.present = true;
  ctxt.pos = ps->tok.pos;
  if ((r = next(ps)) != 0)
    goto out;
  if (ps->tok.type == RADL_T_NUMBER) {
    ctxt.max_time = ps->tok.num;
    if ((r = next(ps)) != 0)
      goto out;
  }
  if ((r = expect(ps, RADL_T_LPAREN, "'(' or the maximum time")) != 0)
    goto out;
  while (ps->tok.type == RADL_T_OPTION)
    if ((r = parse_option(ps, &ctxt)) != 0)
      goto out;
  while (ps->tok.type == RADL_T_SYSTEM)
    if ((r = parse_ctxt_item(ps, &ctxt)) != 0)
      goto out;
  if ((r = expect(ps, RADL_T_RPAREN, "'system', 'option' or ')'")) != 0)
    goto out;
  if (imc_ctxt_merge(&ps->doc->ctxt, &ctxt))
    r = nomem(ps);
out:
  imc_ctxt_cleanup(&ctxt);
  return r;
}

/* deploy SYSTEM COUNT [CLOUD_ID] */
static int parse_deploy(struct parser *ps)
{
  struct imc_deploy *d = imc_calloc(1, sizeof *d);
  int r;

  if (!d)
    return nomem(ps);
  d->pos = ps->tok.pos;
  if ((r = next(ps)) != 0 || (r = take_ident(ps, "a system name", &d->system)) != 0)
    goto fail;
  if (ps->tok.type != RADL_T_NUMBER) {
    r = fail_here(ps, "the number of VMs");
    goto fail;
  }
  d->count = ps->tok.num;
  if ((r = next(ps)) != 0)
    goto fail;
  if (ps->tok.type == RADL_T_VAR && (r = take_ident(ps, "a cloud id", &d->cloud)) != 0)
    goto fail;
  return imc_doc_add_deploy(ps->doc, d, ps->err);
fail:
  imc_deploy_free(d);
  return r;
}

static const struct {
  enum radl_tok keyword;
  int (*parse)(struct parser *ps);
} sentences[] = {
  {RADL_T_NETWORK, parse_network},
  {RADL_T_SYSTEM, parse_system},
  {RADL_T_ANSIBLE, parse_ansible},
  {RADL_T_CONFIGURE, parse_configure},
  {RADL_T_CONTEXTUALIZE, parse_contextualize},
  {RADL_T_DEPLOY, parse_deploy},
};

/* IM's grammar: descriptions come first and are followed by at least one other sentence. */
static int parse_document(struct parser *ps)
{
  bool other = false;
  int r;

  if ((r = next(ps)) != 0)
    return r;
  while (ps->tok.type != RADL_T_EOF) {
    size_t i;

    if (ps->tok.type == RADL_T_DESCRIPTION) {
      if (other)
        return imc_fail_at(ps->err, IMC_E_PARSE, ps->source, ps->tok.pos.line, ps->tok.pos.col,
                           "the description must come before every other sentence");
      if ((r = parse_elem(ps, IMC_ELEM_DESCRIPTION, false)) != 0)
        return r;
      continue;
    }
    for (i = 0; i < sizeof sentences / sizeof sentences[0]; i++)
      if (sentences[i].keyword == ps->tok.type)
        break;
    if (i == sizeof sentences / sizeof sentences[0])
      return fail_here(ps, "network, system, ansible, configure, contextualize, deploy or "
                           "description");
    if ((r = sentences[i].parse(ps)) != 0)
      return r;
    other = true;
  }
  if (ps->doc->description && !other)
    return imc_fail_at(ps->err, IMC_E_PARSE, ps->source, ps->doc->description->pos.line,
                       ps->doc->description->pos.col,
                       "a description must be followed by at least one other sentence");
  return 0;
}

int radl_parse(const char *source, const char *text, size_t len,
               const struct radl_parse_opts *opts, struct imc_doc **out, struct imc_err *err)
{
  struct radl_subst subst = {0};
  struct parser ps;
  int r;

  *out = NULL;
  if (len > IMC_MAX_DOC)
    return imc_fail(err, IMC_E_TOOBIG, "%s: document larger than %u bytes",
                    source ? source : "RADL", IMC_MAX_DOC);
  if (opts && opts->inputs) {
    if ((r = radl_subst_inputs(source, text, len, opts->values, opts->nvalues, &subst, err)))
      return r;
    text = subst.text;
    len = subst.len;
  }
  memset(&ps, 0, sizeof ps);
  ps.source = source;
  ps.err = err;
  radl_lex_init(&ps.lx, source, text, len, subst.segs, subst.nsegs, opts);
  if (!(ps.doc = imc_doc_new(source))) {
    r = nomem(&ps);
    goto out;
  }
  if ((r = parse_document(&ps)) != 0)
    goto out;
  *out = ps.doc;
  ps.doc = NULL;
out:
  imc_free(ps.tok.str);
  imc_doc_free(ps.doc);
  radl_subst_free(&subst);
  return r;
}

int radl_parse_file(const char *path, const struct radl_parse_opts *opts, struct imc_doc **out,
                    struct imc_err *err)
{
  struct imc_buf text;
  int r;

  *out = NULL;
  imc_buf_init(&text, IMC_MAX_DOC);
  if ((r = imc_read_file(path, &text, err)) == 0)
    r = radl_parse(path, imc_buf_cstr(&text), text.len, opts, out, err);
  imc_buf_free(&text);
  return r;
}
