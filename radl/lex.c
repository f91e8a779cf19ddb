/* SPDX-License-Identifier: GPL-3.0-or-later */
/* RADL lexer.  It follows IM's PLY lexer (radl_parse.py) rule for rule, in the same order of
 * precedence: comments, comparators (inside parentheses only), brackets, 'random(N)', numbers,
 * strings, identifiers and reserved words, @begin blocks.  Characters IM skips silently are
 * reported as warnings (errors with opts->strict). */
#include "lex.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "imc/alloc.h"
#include "imc/log.h"

/* 'random(N)' makes an N-character secret; a bound keeps a hostile N from exhausting memory. */
#define RADL_RANDOM_MAX 4096

static const struct {
  const char *word;
  enum radl_tok type;
} keywords[] = {
  {"network", RADL_T_NETWORK},
  {"system", RADL_T_SYSTEM},
  {"ansible", RADL_T_ANSIBLE},
  {"configure", RADL_T_CONFIGURE},
  {"contextualize", RADL_T_CONTEXTUALIZE},
  {"deploy", RADL_T_DEPLOY},
  {"description", RADL_T_DESCRIPTION},
  {"step", RADL_T_STEP},
  {"with", RADL_T_WITH},
  {"option", RADL_T_OPTION},
  {"soft", RADL_T_SOFT},
  {"and", RADL_T_AND},
  {"contains", RADL_T_CONTAINS},
};

enum radl_tok radl_keyword(const char *s, size_t n)
{
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, s, n) == 0)
      return keywords[i].type;
  return RADL_T_VAR;
}

static bool is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static bool is_ident_start(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '.';
}

static bool is_ident_char(unsigned char c)
{
  return is_ident_start(c) || is_digit(c) || c == '-' || c >= 0x80;
}

bool radl_is_identifier(const char *s, size_t n)
{
  if (n == 0 || !is_ident_start((unsigned char)s[0]))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!is_ident_char((unsigned char)s[i]))
      return false;
  return true;
}

/* Leaves every substituted stretch that ends at the current offset (empty values too). */
static void leave_segments(struct radl_lexer *lx)
{
  while (lx->seg < lx->nsegs && lx->segs[lx->seg].end <= lx->off &&
         lx->segs[lx->seg].start <= lx->off) {
    lx->line = lx->segs[lx->seg].after.line;
    lx->col = lx->segs[lx->seg].after.col;
    lx->seg++;
  }
}

void radl_lex_init(struct radl_lexer *lx, const char *source, const char *text, size_t len,
                   const struct radl_seg *segs, size_t nsegs, const struct radl_parse_opts *opts)
{
  memset(lx, 0, sizeof *lx);
  lx->source = source;
  lx->text = text;
  lx->len = len;
  lx->line = lx->col = 1;
  lx->segs = segs;
  lx->nsegs = nsegs;
  lx->opts = opts;
  leave_segments(lx);
}

/* Moves n bytes on, keeping line:col in the coordinates of the original text. */
static void advance(struct radl_lexer *lx, size_t n)
{
  while (n-- > 0 && lx->off < lx->len) {
    unsigned char c = (unsigned char)lx->text[lx->off];
    bool substituted = lx->seg < lx->nsegs && lx->off >= lx->segs[lx->seg].start;

    lx->off++;
    if (!substituted) {
      if (c == '\n') {
        lx->line++;
        lx->col = 1;
      } else if ((c & 0xC0) != 0x80) {
        lx->col++;
      }
    }
    leave_segments(lx);
  }
}

static struct imc_pos here(const struct radl_lexer *lx)
{
  struct imc_pos p = {lx->line, lx->col};

  return p;
}

static int peek(const struct radl_lexer *lx, size_t ahead)
{
  return lx->off + ahead < lx->len ? (unsigned char)lx->text[lx->off + ahead] : -1;
}

/* A character IM's lexer skips without a word: warn (or fail when strict) and skip it.
 * hint (may be "") is appended to say why, when the lexer knows. */
static int skip_illegal(struct radl_lexer *lx, const char *hint, struct imc_err *err)
{
  unsigned char c = (unsigned char)lx->text[lx->off];
  char shown[8];
  char where[240], msg[IMC_ERR_MSG_MAX];
  struct imc_pos p = here(lx);

  if (c >= 0x20 && c < 0x7f)
    snprintf(shown, sizeof shown, "'%c'", c);
  else
    snprintf(shown, sizeof shown, "\\x%02x", c);
  if (lx->opts && lx->opts->strict)
    return imc_fail_at(err, IMC_E_PARSE, lx->source, p.line, p.col, "unexpected character %s%s",
                       shown, hint);
  if (lx->source)
    snprintf(where, sizeof where, "%.200s:%d:%d", lx->source, p.line, p.col);
  else
    snprintf(where, sizeof where, "%d:%d", p.line, p.col);
  if (lx->opts && lx->opts->warn) {
    snprintf(msg, sizeof msg, "%s: warning: skipped character %s%s", where, shown, hint);
    lx->opts->warn(lx->opts->warn_ctx, msg);
  } else {
    imc_log(IMC_LOG_WARN, "%s: skipped character %s%s", where, shown, hint);
  }
  advance(lx, 1);
  return 0;
}

/* Skips blanks and comments.  Carriage returns are blanks too (CRLF files), silently. */
static void skip_blanks(struct radl_lexer *lx)
{
  for (;;) {
    int c = peek(lx, 0);

    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      advance(lx, 1);
    } else if (c == '#') {
      while (lx->off < lx->len && lx->text[lx->off] != '\n')
        advance(lx, 1);
    } else {
      return;
    }
  }
}

/* `\d+\.?\d*`: an integer unless it has a dot.  Integers must fit in int64. */
static int lex_number(struct radl_lexer *lx, struct radl_token *t, struct imc_err *err)
{
  size_t i = 0;
  bool dot = false;
  char digits[400];

  while (peek(lx, i) >= 0 && is_digit((unsigned char)peek(lx, i)))
    i++;
  if (peek(lx, i) == '.') {
    dot = true;
    i++;
    while (peek(lx, i) >= 0 && is_digit((unsigned char)peek(lx, i)))
      i++;
  }
  if (i >= sizeof digits)
    return imc_fail_at(err, IMC_E_PARSE, lx->source, t->pos.line, t->pos.col,
                       "number with more than %zu digits", sizeof digits - 1);
  memcpy(digits, lx->text + lx->off, i);
  digits[i] = '\0';
  errno = 0;
  t->num.is_float = dot;
  if (dot) {
    t->num.f = strtod(digits, NULL);
    /* Past DBL_MAX strtod gives inf, which no writer can print back: refuse it here.  An
     * underflow to 0 or a denormal is a number still. */
    if (errno == ERANGE && isinf(t->num.f))
      return imc_fail_at(err, IMC_E_PARSE, lx->source, t->pos.line, t->pos.col,
                         "number %.40s... is too large", digits);
  } else {
    long long v = strtoll(digits, NULL, 10);

    if (errno == ERANGE)
      return imc_fail_at(err, IMC_E_PARSE, lx->source, t->pos.line, t->pos.col,
                         "number %s is too large", digits);
    t->num.i = v;
  }
  t->type = RADL_T_NUMBER;
  t->n = i;
  advance(lx, i);
  return 0;
}

/* Finds the closing quote of a string starting at the current offset (a quote).  Inside,
 * a backslash takes the next byte with it, as IM's '([^\\']|\\.)*'.  Returns the length of
 * the whole literal, quotes included, or 0 when it is not closed. */
static size_t string_extent(const struct radl_lexer *lx, char quote)
{
  size_t i = 1;

  while (lx->off + i < lx->len) {
    char c = lx->text[lx->off + i];

    if (c == '\\' && lx->off + i + 1 < lx->len)
      i += 2;
    else if (c == quote)
      return i + 1;
    else
      i++;
  }
  return 0;
}

/* Fills buf with n random letters and digits from the kernel's generator: random(N) values
 * are often passwords. */
static int random_alnum(char *buf, size_t n)
{
  static const char alphabet[] =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  size_t done = 0;

  while (done < n) {
    unsigned char bytes[64];
    ssize_t got = getrandom(bytes, sizeof bytes, 0);

    if (got < 0) {
      if (errno == EINTR)
        continue;
      return IMC_E_IO;
    }
    /* 248 = 4 * 62: rejecting larger bytes keeps every character equally likely. */
    for (ssize_t i = 0; i < got && done < n; i++)
      if (bytes[i] < 248)
        buf[done++] = alphabet[bytes[i] % 62];
  }
  buf[n] = '\0';
  return 0;
}

/* `'random(N)'` (either quote): IM turns it into N random alphanumerics. */
static bool is_random_literal(const char *s, size_t n, unsigned long *count)
{
  size_t i = 8;

  if (n < 11 || memcmp(s + 1, "random(", 7) != 0 || s[n - 1] != s[0] || s[n - 2] != ')')
    return false;
  if (!is_digit((unsigned char)s[i]))
    return false;
  *count = 0;
  for (; i < n - 2; i++) {
    if (!is_digit((unsigned char)s[i]))
      return false;
    if (*count <= RADL_RANDOM_MAX)
      *count = *count * 10 + (unsigned long)(s[i] - '0');
  }
  return true;
}

static int lex_string(struct radl_lexer *lx, struct radl_token *t, size_t extent,
                      struct imc_err *err)
{
  const char *s = lx->text + lx->off;
  char quote = s[0];
  unsigned long count;
  char *out;
  size_t o = 0;

  if (is_random_literal(s, extent, &count)) {
    if (count > RADL_RANDOM_MAX)
      return imc_fail_at(err, IMC_E_PARSE, lx->source, t->pos.line, t->pos.col,
                         "random(N) takes N up to %d", RADL_RANDOM_MAX);
    if (!(out = imc_malloc(count + 1)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    if (random_alnum(out, count)) {
      imc_free(out);
      return imc_fail(err, IMC_E_IO, "cannot read random bytes for random(%lu)", count);
    }
  } else {
    if (!(out = imc_malloc(extent)))
      return imc_fail(err, IMC_E_NOMEM, "out of memory");
    /* Only an escaped quote loses its backslash; IM keeps every other pair verbatim. */
    for (size_t i = 1; i < extent - 1; i++) {
      if (s[i] == '\\' && s[i + 1] == quote && i + 1 < extent - 1) {
        out[o++] = quote;
        i++;
      } else {
        out[o++] = s[i];
      }
    }
    out[o] = '\0';
  }
  t->type = RADL_T_STRING;
  t->str = out;
  t->n = extent;
  advance(lx, extent);
  return 0;
}

/* Reads `@begin` ... up to a line that starts with `@end`.  The rest of the @begin line is
 * dropped when blank, and so is the newline before @end, so that printing a recipe between
 * "@begin\n" and "\n@end" reads back the same text. */
static int lex_recipe(struct radl_lexer *lx, struct radl_token *t, struct imc_err *err)
{
  struct imc_buf text;
  size_t line_start;
  bool first = true;

  imc_buf_init(&text, IMC_MAX_DOC);
  advance(lx, 6); /* "@begin" */
  for (;;) {
    size_t end;
    bool blank = true;

    line_start = lx->off;
    if (!first && lx->len - lx->off >= 4 && memcmp(lx->text + lx->off, "@end", 4) == 0)
      break;
    if (first && lx->len - lx->off >= 4 && memcmp(lx->text + lx->off, "@end", 4) == 0) {
      imc_buf_free(&text);
      return imc_fail_at(err, IMC_E_PARSE, lx->source, lx->line, lx->col,
                         "expected the recipe on the lines after @begin");
    }
    if (lx->off >= lx->len) {
      imc_buf_free(&text);
      return imc_fail_at(err, IMC_E_PARSE, lx->source, t->pos.line, t->pos.col,
                         "@begin without a line starting with @end");
    }
    end = line_start;
    while (end < lx->len && lx->text[end] != '\n')
      blank = blank && (lx->text[end] == ' ' || lx->text[end] == '\t' || lx->text[end] == '\r'),
      end++;
    if (end < lx->len)
      end++;
    if (first && blank) {
      t->str_pos.line = lx->line + 1;
      t->str_pos.col = 1;
    } else {
      if (first)
        t->str_pos = here(lx);
      imc_buf_add(&text, lx->text + line_start, end - line_start);
    }
    advance(lx, end - line_start);
    first = false;
  }
  advance(lx, 4); /* "@end" */
  if (text.len > 0 && text.data[text.len - 1] == '\n')
    text.data[--text.len] = '\0';
  if (imc_buf_err(&text)) {
    int code = imc_buf_err(&text);

    imc_buf_free(&text);
    return imc_fail(err, code, code == IMC_E_NOMEM ? "out of memory" : "recipe too large");
  }
  t->type = RADL_T_RECIPE;
  t->str = imc_buf_take(&text, NULL);
  if (!t->str)
    return imc_fail(err, IMC_E_NOMEM, "out of memory");
  return 0;
}

static int lex_punct(struct radl_lexer *lx, struct radl_token *t, int c)
{
  static const struct {
    char text[3];
    enum radl_tok type;
    bool in_body; /* IM knows comparators only inside parentheses */
  } punct[] = {
    {"<=", RADL_T_LE, true}, {">=", RADL_T_GE, true}, {"=", RADL_T_EQ, true},
    {"<", RADL_T_LT, true},  {">", RADL_T_GT, true},  {"(", RADL_T_LPAREN, false},
    {")", RADL_T_RPAREN, false}, {"[", RADL_T_LBRACK, true}, {"]", RADL_T_RBRACK, true},
    {",", RADL_T_COMMA, true},
  };

  for (size_t i = 0; i < sizeof punct / sizeof punct[0]; i++) {
    size_t n = strlen(punct[i].text);

    if (punct[i].text[0] != c || (n == 2 && peek(lx, 1) != punct[i].text[1]))
      continue;
    if (punct[i].in_body && lx->depth == 0)
      return 0;
    t->type = punct[i].type;
    t->n = n;
    if (t->type == RADL_T_LPAREN)
      lx->depth++;
    else if (t->type == RADL_T_RPAREN && lx->depth > 0)
      lx->depth--;
    advance(lx, n);
    return 1;
  }
  return 0;
}

int radl_lex_next(struct radl_lexer *lx, struct radl_token *t, struct imc_err *err)
{
  memset(t, 0, sizeof *t);
  for (;;) {
    int c, r;
    size_t extent;
    bool quote;

    skip_blanks(lx);
    t->pos = here(lx);
    t->p = lx->text + lx->off;
    if ((c = peek(lx, 0)) < 0) {
      t->type = RADL_T_EOF;
      return 0;
    }
    if (lex_punct(lx, t, c))
      return 0;
    if (is_digit((unsigned char)c))
      return lex_number(lx, t, err);
    /* Double quotes are our extension; outside parentheses no string can stand, and a stray
     * '"' there is one of the characters IM skips (its own test files have one). */
    quote = c == '\'' || (c == '"' && lx->depth > 0);
    if (quote && (extent = string_extent(lx, (char)c)))
      return lex_string(lx, t, extent, err);
    if (is_ident_start((unsigned char)c)) {
      size_t n = 1;

      while (peek(lx, n) >= 0 && is_ident_char((unsigned char)peek(lx, n)))
        n++;
      t->n = n;
      t->type = radl_keyword(t->p, n);
      advance(lx, n);
      return 0;
    }
    if (c == '@' && lx->len - lx->off >= 6 && memcmp(lx->text + lx->off, "@begin", 6) == 0)
      return lex_recipe(lx, t, err);
    /* IM skips a quote that is never closed and reads on; say so, since what follows is
     * read as RADL and the next error would otherwise make little sense. */
    if ((r = skip_illegal(lx, quote ? " (a string with no closing quote)" : "", err)) != 0)
      return r;
  }
}

void radl_tok_describe(const struct radl_token *t, char *buf, size_t size)
{
  static const char *const names[] = {
    [RADL_T_EOF] = "end of input", [RADL_T_LPAREN] = "'('",    [RADL_T_RPAREN] = "')'",
    [RADL_T_LBRACK] = "'['",       [RADL_T_RBRACK] = "']'",    [RADL_T_COMMA] = "','",
    [RADL_T_EQ] = "'='",           [RADL_T_LT] = "'<'",        [RADL_T_GT] = "'>'",
    [RADL_T_LE] = "'<='",          [RADL_T_GE] = "'>='",       [RADL_T_RECIPE] = "a recipe block",
  };

  switch (t->type) {
  case RADL_T_NUMBER:
    snprintf(buf, size, "number %.*s", (int)(t->n > 40 ? 40 : t->n), t->p);
    break;
  case RADL_T_STRING:
    /* Never its contents: strings hold passwords and keys. */
    snprintf(buf, size, "a string");
    break;
  case RADL_T_VAR:
    snprintf(buf, size, "identifier '%.*s'", (int)(t->n > 60 ? 60 : t->n), t->p);
    break;
  default:
    if (t->type >= RADL_T_NETWORK)
      snprintf(buf, size, "keyword '%.*s'", (int)t->n, t->p);
    else
      snprintf(buf, size, "%s", names[t->type]);
    break;
  }
}
