/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The RADL lexer: IM's PLY token rules, with exact line:col positions. */
#ifndef RADL_LEX_H
#define RADL_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "imc/model.h"
#include "imc/radl.h"

enum radl_tok {
  RADL_T_EOF,
  RADL_T_LPAREN,
  RADL_T_RPAREN,
  RADL_T_LBRACK,
  RADL_T_RBRACK,
  RADL_T_COMMA,
  RADL_T_EQ,
  RADL_T_LT,
  RADL_T_GT,
  RADL_T_LE,
  RADL_T_GE,
  RADL_T_NUMBER,
  RADL_T_STRING, /* 'random(N)' arrives as a STRING with its random text already made */
  RADL_T_VAR,
  RADL_T_RECIPE, /* a whole @begin ... @end block */
  /* reserved words */
  RADL_T_NETWORK,
  RADL_T_SYSTEM,
  RADL_T_ANSIBLE,
  RADL_T_CONFIGURE,
  RADL_T_CONTEXTUALIZE,
  RADL_T_DEPLOY,
  RADL_T_DESCRIPTION,
  RADL_T_STEP,
  RADL_T_WITH,
  RADL_T_OPTION,
  RADL_T_SOFT,
  RADL_T_AND,
  RADL_T_CONTAINS,
};

struct radl_token {
  enum radl_tok type;
  const char *p; /* raw bytes in the (substituted) text */
  size_t n;
  struct imc_pos pos;
  struct imc_num num;   /* NUMBER */
  char *str;            /* STRING, RECIPE: decoded text, owned until taken */
  struct imc_pos str_pos; /* RECIPE: where the recipe text starts */
};

/* A stretch of substituted text standing for an `@input.NAME@` of the original: positions
 * inside it are reported at the reference, and after it continue from the original. */
struct radl_seg {
  size_t start, end;           /* in the substituted text */
  struct imc_pos at, after;    /* in the original text */
};

struct radl_lexer {
  const char *source;
  const char *text;
  size_t len, off;
  int line, col;
  int depth; /* open parentheses: comparators and double quotes only count inside */
  const struct radl_seg *segs;
  size_t nsegs, seg; /* next segment not yet left */
  const struct radl_parse_opts *opts;
};

void radl_lex_init(struct radl_lexer *lx, const char *source, const char *text, size_t len,
                   const struct radl_seg *segs, size_t nsegs, const struct radl_parse_opts *opts);
/* Reads the next token into *t (whose str the caller has taken or freed). */
int radl_lex_next(struct radl_lexer *lx, struct radl_token *t, struct imc_err *err);
/* A short description for messages: "'('", "identifier 'front'", "end of input". */
void radl_tok_describe(const struct radl_token *t, char *buf, size_t size);
/* True for [a-zA-Z_.][A-Za-z0-9_.-]* (bytes >= 0x80 allowed after the first, as IM's \w). */
bool radl_is_identifier(const char *s, size_t n);
/* The token type of a reserved word, or RADL_T_VAR. */
enum radl_tok radl_keyword(const char *s, size_t n);

#endif
