/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The INI reader of imcd's configuration: Python ConfigParser's rules (strict mode, both
 * separators, [DEFAULT], continuation lines, BasicInterpolation), keeping lines and columns. */
#include "ini.h"
#include "imc/alloc.h"
#include "imc/config.h"
#include "imc/utf8.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- small text helpers --------------------------------------------------------------- */

/* Python's str.strip() for the ASCII whitespace a line can hold. */
bool ini_is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

char ini_lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Code points in p[0..n): the column arithmetic of struct imc_pos. */
int ini_code_points(const char *p, size_t n)
{
  int cols = 0;

  for (size_t i = 0; i < n; i++)
    cols += ((unsigned char)p[i] & 0xC0) != 0x80;
  return cols;
}

/* Offset of the first NUL or invalid UTF-8 byte, or n. */
size_t ini_bad_text_at(const char *p, size_t n)
{
  size_t i = 0, len;

  while (i < n) {
    len = p[i] ? imc_utf8_seq((const unsigned char *)p + i, n - i) : 0;
    if (len == 0)
      return i;
    i += len;
  }
  return n;
}

/* Copies at most ~40 bytes of s into dst for a message: whole code points only, control
 * characters shown as '?', "..." when cut. */
void ini_excerpt(char *dst, size_t cap, const char *s, size_t n)
{
  size_t i = 0, o = 0, len;

  while (i < n && o + 8 < cap && i < 40) {
    len = imc_utf8_seq((const unsigned char *)s + i, n - i);
    if (len <= 1) {
      dst[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7F || len == 0) ? '?' : s[i];
      i++;
      continue;
    }
    memcpy(dst + o, s + i, len);
    o += len;
    i += len;
  }
  if (i < n && o + 4 <= cap) {
    memcpy(dst + o, "...", 3);
    o += 3;
  }
  dst[o] = '\0';
}

/* The one out-of-memory message of the configuration reader. */
int ini_nomem(struct imc_err *err)
{
  return imc_fail(err, IMC_E_NOMEM, "out of memory reading the configuration");
}

/* A buffer that may hold a secret value. */
void ini_buf_wipe_free(struct imc_buf *b)
{
  if (b->data)
    explicit_bzero(b->data, b->cap);
  imc_buf_free(b);
}

/* --- the INI text, cut as ConfigParser cuts it --------------------------------------- */

struct reader {
  size_t sect, ent; /* current section and option, or INI_NONE */
  size_t indent;    /* of the current option's line: deeper lines continue its value */
};

void ini_free(struct ini *ini)
{
  for (size_t i = 0; i < ini->ne; i++)
    ini_buf_wipe_free(&ini->ents[i].value);
  imc_free(ini->ents);
  imc_free(ini->sects);
  imc_free(ini->sorted);
}

static bool tracked(const struct ini *ini, size_t sect)
{
  return sect != INI_NONE && (sect == ini->im || sect == ini->def);
}

static int ini_header(struct ini *ini, struct reader *rd, const char *name, size_t n, int line,
                      int col, struct imc_err *err)
{
  bool is_default = n == 7 && memcmp(name, "DEFAULT", 7) == 0;
  const char *main = ini->main ? ini->main : "im";

  rd->ent = INI_NONE;
  /* [DEFAULT] may appear more than once; its parts are one section. */
  if (is_default && ini->def != INI_NONE) {
    rd->sect = ini->def;
    return 0;
  }
  if (imc_grow((void **)&ini->sects, &ini->cap_sects, ini->ns + 1, sizeof *ini->sects))
    return ini_nomem(err);
  ini->sects[ini->ns] = (struct ini_sect){{name, n}, line, col};
  if (is_default)
    ini->def = ini->ns;
  else if (n == strlen(main) && memcmp(name, main, n) == 0 && ini->im == INI_NONE)
    ini->im = ini->ns;
  rd->sect = ini->ns++;
  return 0;
}

/* `name = value` or `name: value` in p[s..e), split at the first = or :. */
static int ini_option(struct ini *ini, struct reader *rd, const char *p, size_t s, size_t e,
                      int line, struct imc_err *err)
{
  size_t d = s, ne, vs;
  struct ini_ent *ent;

  /* The text is not NUL-terminated: no strcspn. */
  while (d < e && p[d] != '=' && p[d] != ':')
    d++;
  ne = d;
  vs = d + 1;

  if (d >= e)
    return imc_fail_at(err, IMC_E_INVAL, ini->source, line, ini_code_points(p, s) + 1,
                       "expected 'name = value', 'name: value' or a [section] header");
  while (ne > s && ini_is_space(p[ne - 1]))
    ne--;
  if (ne == s)
    return imc_fail_at(err, IMC_E_INVAL, ini->source, line, ini_code_points(p, d) + 1,
                       "an option name must come before '%c'", p[d]);
  while (vs < e && ini_is_space(p[vs]))
    vs++;
  if (imc_grow((void **)&ini->ents, &ini->cap_ents, ini->ne + 1, sizeof *ini->ents))
    return ini_nomem(err);
  ent = &ini->ents[ini->ne];
  *ent = (struct ini_ent){.sect = rd->sect,
                          .name = {p + s, ne - s},
                          .line = line,
                          .col = ini_code_points(p, s) + 1,
                          .vcol = ini_code_points(p, vs) + 1};
  imc_buf_init(&ent->value, IMC_MAX_CONFIG);
  rd->ent = ini->ne++;
  if (tracked(ini, rd->sect))
    imc_buf_add(&ent->value, p + vs, e - vs);
  return imc_buf_err(&ent->value) ? ini_nomem(err) : 0;
}

/* One line, p[0..n) without its end. */
static int ini_line(struct ini *ini, struct reader *rd, const char *p, size_t n, int line,
                    struct imc_err *err)
{
  size_t s = 0, e = n;
  const char *close;

  while (s < e && ini_is_space(p[s]))
    s++;
  while (e > s && ini_is_space(p[e - 1]))
    e--;
  if (s == e || p[s] == '#' || p[s] == ';') {
    /* A blank line inside a value is kept (empty_lines_in_values); comments are not. */
    if (s == e && rd->ent != INI_NONE && tracked(ini, rd->sect)) {
      imc_buf_addc(&ini->ents[rd->ent].value, '\n');
      if (imc_buf_err(&ini->ents[rd->ent].value))
        return ini_nomem(err);
    }
    return 0;
  }
  if (rd->ent != INI_NONE && s > rd->indent) {
    struct ini_ent *ent = &ini->ents[rd->ent];

    ent->multi = true;
    if (tracked(ini, rd->sect)) {
      imc_buf_addc(&ent->value, '\n');
      imc_buf_add(&ent->value, p + s, e - s);
    }
    return imc_buf_err(&ent->value) ? ini_nomem(err) : 0;
  }
  rd->indent = s;
  /* ConfigParser's \[(?P<header>.+)\]: up to the last ']', whatever follows it. */
  close = p[s] == '[' ? memrchr(p + s + 1, ']', e - s - 1) : NULL;
  if (close && close > p + s + 1)
    return ini_header(ini, rd, p + s + 1, (size_t)(close - p - s - 1), line,
                      ini_code_points(p, s) + 1, err);
  if (rd->sect == INI_NONE)
    return imc_fail_at(err, IMC_E_INVAL, ini->source, line, ini_code_points(p, s) + 1,
                       "expected a [section] header before the first option");
  return ini_option(ini, rd, p, s, e, line, err);
}

/* Where text[at] is: lines end at \n, \r\n or \r (Python's universal newlines). */
void ini_position(const char *text, size_t at, int *line, int *col)
{
  size_t start = 0;

  *line = 1;
  for (size_t i = 0; i < at; i++) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= at || text[i + 1] != '\n'))) {
      (*line)++;
      start = i + 1;
    }
  }
  *col = ini_code_points(text + start, at - start) + 1;
}

int ini_read(struct ini *ini, const char *text, size_t len, struct imc_err *err)
{
  struct reader rd = {.sect = INI_NONE, .ent = INI_NONE, .indent = 0};
  size_t pos = 0, start, end;
  int line = 0, r = 0;

  /* A UTF-8 byte order mark, as some editors write, is not part of the first line. */
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    pos = 3;
  while (pos < len && r == 0) {
    start = pos;
    while (pos < len && text[pos] != '\n' && text[pos] != '\r')
      pos++;
    end = pos;
    if (pos < len)
      pos += (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') ? 2 : 1;
    r = ini_line(ini, &rd, text + start, end - start, ++line, err);
  }
  /* ConfigParser joins the lines and strips the end: blank lines kept above go. */
  for (size_t i = 0; i < ini->ne && r == 0; i++) {
    struct imc_buf *v = &ini->ents[i].value;

    while (v->len > 0 && ini_is_space(v->data[v->len - 1]))
      v->data[--v->len] = '\0';
  }
  return r;
}

static int cmp_name(struct imc_str a, struct imc_str b)
{
  size_t n = a.n < b.n ? a.n : b.n;

  for (size_t i = 0; i < n; i++)
    if (ini_lower(a.p[i]) != ini_lower(b.p[i]))
      return (unsigned char)ini_lower(a.p[i]) < (unsigned char)ini_lower(b.p[i]) ? -1 : 1;
  return a.n < b.n ? -1 : a.n > b.n;
}

static int cmp_ent(const void *pa, const void *pb)
{
  const struct ini_ent *a = *(const struct ini_ent *const *)pa;
  const struct ini_ent *b = *(const struct ini_ent *const *)pb;
  int c;

  if (a->sect != b->sect)
    return a->sect < b->sect ? -1 : 1;
  if ((c = cmp_name(a->name, b->name)) != 0)
    return c;
  return (a->line > b->line) - (a->line < b->line);
}

/* Section names are compared with their case, as ConfigParser does. */
static int cmp_sect(const void *pa, const void *pb)
{
  const struct ini_sect *a = *(const struct ini_sect *const *)pa;
  const struct ini_sect *b = *(const struct ini_sect *const *)pb;
  size_t n = a->name.n < b->name.n ? a->name.n : b->name.n;
  int c = memcmp(a->name.p, b->name.p, n);

  if (c == 0)
    c = (a->name.n > b->name.n) - (a->name.n < b->name.n);
  return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* The entry of name in section sect, or NULL. */
const struct ini_ent *ini_find(const struct ini *ini, size_t sect, const char *p, size_t n)
{
  struct ini_ent key = {.sect = sect, .name = {p, n}, .line = 0};
  size_t lo = 0, hi = ini->ne;

  if (sect == INI_NONE)
    return NULL;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct ini_ent *k = &key;

    if (cmp_ent(&ini->sorted[mid], &k) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < ini->ne && ini->sorted[lo]->sect == sect &&
      cmp_name(ini->sorted[lo]->name, key.name) == 0)
    return ini->sorted[lo];
  return NULL;
}

/* ConfigParser's strict mode: a section twice, or an option twice in one section, is an
 * error.  Sorting finds them without comparing every pair. */
int ini_index(struct ini *ini, struct imc_err *err)
{
  const struct ini_sect **ss = imc_calloc(ini->ns, sizeof *ss), *dup_s = NULL, *first_s = NULL;
  const struct ini_ent *dup_e = NULL, *first_e = NULL;
  char a[64], b[64];

  ini->sorted = imc_calloc(ini->ne, sizeof *ini->sorted);
  if (!ss || !ini->sorted) {
    imc_free(ss);
    return ini_nomem(err);
  }
  for (size_t i = 0; i < ini->ns; i++)
    ss[i] = &ini->sects[i];
  qsort(ss, ini->ns, sizeof *ss, cmp_sect);
  for (size_t i = 1; i < ini->ns; i++)
    if (ss[i - 1]->name.n == ss[i]->name.n &&
        memcmp(ss[i - 1]->name.p, ss[i]->name.p, ss[i]->name.n) == 0 &&
        (!dup_s || ss[i]->line < dup_s->line)) {
      dup_s = ss[i];
      first_s = ss[i - 1];
    }
  for (size_t i = 0; i < ini->ne; i++)
    ini->sorted[i] = &ini->ents[i];
  qsort(ini->sorted, ini->ne, sizeof *ini->sorted, cmp_ent);
  for (size_t i = 1; i < ini->ne; i++)
    if (ini->sorted[i - 1]->sect == ini->sorted[i]->sect &&
        cmp_name(ini->sorted[i - 1]->name, ini->sorted[i]->name) == 0 &&
        (!dup_e || ini->sorted[i]->line < dup_e->line)) {
      dup_e = ini->sorted[i];
      first_e = ini->sorted[i - 1];
    }
  if (dup_s) {
    ini_excerpt(a, sizeof a, dup_s->name.p, dup_s->name.n);
    imc_fail_at(err, IMC_E_INVAL, ini->source, dup_s->line, dup_s->col,
                "section [%s] appears twice (first at line %d)", a, first_s->line);
  } else if (dup_e) {
    ini_excerpt(a, sizeof a, dup_e->name.p, dup_e->name.n);
    ini_excerpt(b, sizeof b, ini->sects[dup_e->sect].name.p, ini->sects[dup_e->sect].name.n);
    imc_fail_at(err, IMC_E_INVAL, ini->source, dup_e->line, dup_e->col,
                "option '%s' appears twice in [%s] (first at line %d)", a, b, first_e->line);
  }
  imc_free(ss);
  return dup_s || dup_e ? IMC_E_INVAL : 0;
}

/* --- interpolation: ConfigParser's BasicInterpolation -------------------------------- */

struct interp {
  const struct ini *ini;
  const struct ini_ent *e; /* the entry expanded: its line and value column for messages */
  const char *label;       /* the option's name in messages */
  struct imc_buf *out;
  size_t steps; /* references expanded: bounds the work of references that fan out */
};

static int interp_some(struct interp *it, const char *s, size_t n, int depth, struct imc_err *err);

static int too_big(const struct interp *it, struct imc_err *err)
{
  if (imc_buf_err(it->out) == IMC_E_NOMEM)
    return ini_nomem(err);
  return imc_fail_at(err, IMC_E_TOOBIG, it->ini->source, it->e->line, it->e->vcol,
                     "option %s: its %%(name)s references expand past %u bytes", it->label,
                     IMC_MAX_CONFIG_VALUE);
}

static int interp_bad(const struct interp *it, struct imc_err *err, const char *fmt, ...)
  IMC_PRINTF(3, 4);

/* An invalid value, as config.c words it for a file: "source:line:col: option NAME: <what>",
 * at the column where the value starts (expanded text no longer lines up with the file). */
static int interp_bad(const struct interp *it, struct imc_err *err, const char *fmt, ...)
{
  char what[160];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return imc_fail_at(err, IMC_E_INVAL, it->ini->source, it->e->line, it->e->vcol, "option %s: %s",
                     it->label, what);
}

/* %(name)s at *s: the value of name in [im], else in [DEFAULT], itself interpolated. */
static int interp_ref(struct interp *it, const char **s, size_t *n, int depth, struct imc_err *err)
{
  const char *name = *s + 2, *close = memchr(name, ')', *n - 2);
  const struct ini_ent *ref;
  const struct imc_buf *v;
  size_t used;
  char ex[64];

  if (!close || close == name || close + 1 >= *s + *n || close[1] != 's')
    return interp_bad(it, err, "'%%(' must start a %%(name)s reference");
  ref = ini_find(it->ini, it->ini->im, name, (size_t)(close - name));
  if (!ref)
    ref = ini_find(it->ini, it->ini->def, name, (size_t)(close - name));
  if (!ref) {
    ini_excerpt(ex, sizeof ex, name, (size_t)(close - name));
    return interp_bad(it, err, "%%(%s)s names no option of [im] or [DEFAULT]", ex);
  }
  v = &ref->value;
  if (v->len > 0 && memchr(v->data, '%', v->len)) {
    int r = interp_some(it, v->data, v->len, depth + 1, err);

    if (r)
      return r;
  } else {
    imc_buf_add(it->out, imc_buf_cstr(v), v->len);
  }
  used = (size_t)(close + 2 - *s);
  *s += used;
  *n -= used;
  return 0;
}

static int interp_some(struct interp *it, const char *s, size_t n, int depth, struct imc_err *err)
{
  const char *pc;
  size_t k;
  int r;

  if (depth > INI_MAX_DEPTH)
    return interp_bad(it, err, "%%(name)s references nest deeper than %d levels", INI_MAX_DEPTH);
  while (n > 0) {
    pc = memchr(s, '%', n);
    k = pc ? (size_t)(pc - s) : n;
    imc_buf_add(it->out, s, k);
    s += k;
    n -= k;
    if (imc_buf_err(it->out) || ++it->steps > IMC_MAX_CONFIG_VALUE)
      return too_big(it, err);
    if (n == 0)
      break;
    if (n >= 2 && s[1] == '%') {
      imc_buf_addc(it->out, '%');
      s += 2;
      n -= 2;
    } else if (n >= 2 && s[1] == '(') {
      if ((r = interp_ref(it, &s, &n, depth, err)) != 0)
        return r;
    } else {
      return interp_bad(it, err, "'%%' must be followed by '%%' or '('");
    }
  }
  return 0;
}

int ini_interpolate(const struct ini *ini, const struct ini_ent *e, const char *label,
                    struct imc_buf *out, struct imc_err *err)
{
  struct interp it = {ini, e, label, out, 0};

  return interp_some(&it, e->value.data, e->value.len, 1, err);
}
