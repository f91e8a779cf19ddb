/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal: the INI reader of imcd's configuration (ini.c), which config.c uses. */
#ifndef IMC_INI_H
#define IMC_INI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imc/buf.h"
#include "imc/err.h"

#define INI_NONE      SIZE_MAX /* no section, no entry */
#define INI_MAX_DEPTH 10       /* of %(name)s references: ConfigParser's MAX_INTERPOLATION_DEPTH */

/* --- the INI text, cut as ConfigParser cuts it --------------------------------------- */

struct ini_sect {
  struct imc_str name;
  int line, col;
};

struct ini_ent {
  size_t sect;
  struct imc_str name; /* as written; compared ignoring case (ConfigParser lowercases) */
  int line, col, vcol;
  bool multi;           /* continued on later lines */
  struct imc_buf value; /* joined lines; only for [im] and [DEFAULT] */
};

/* Set source, and im and def to INI_NONE, before ini_read(); ini_free() in every case after.
 * Names and sections point into the text, which must outlive the struct. */
struct ini {
  const char *source;
  struct ini_sect *sects;
  size_t ns, cap_sects;
  struct ini_ent *ents;
  size_t ne, cap_ents;
  const char *main;        /* the section kept as [im] is (NULL: "im") */
  size_t im, def;          /* that section and [DEFAULT], or INI_NONE */
  struct ini_ent **sorted; /* by section, name, line */
};

/* Cuts text (already checked: UTF-8, no NUL) into sections and entries; the values of [im]
 * and [DEFAULT] are kept, joined and stripped.  Fails with source:line:col. */
int ini_read(struct ini *ini, const char *text, size_t len, struct imc_err *err);

/* Sorts the entries for ini_find(), and fails on a section or an option given twice. */
int ini_index(struct ini *ini, struct imc_err *err);

/* The entry of name p[0..n) in section sect (INI_NONE: none), or NULL; after ini_index(). */
const struct ini_ent *ini_find(const struct ini *ini, size_t sect, const char *p, size_t n);

/* Appends e's value to out with its %(name)s references (to [im], then [DEFAULT]) expanded
 * and %% made %; messages name the option label, at e's line and value column. */
int ini_interpolate(const struct ini *ini, const struct ini_ent *e, const char *label,
                    struct imc_buf *out, struct imc_err *err);

void ini_free(struct ini *ini);

/* Where text[at] is, 1-based, lines ending at \n, \r\n or \r as ini_read() sees them. */
void ini_position(const char *text, size_t at, int *line, int *col);

/* --- small text helpers, shared with config.c ----------------------------------------- */

bool ini_is_space(char c);
char ini_lower(char c);
int ini_code_points(const char *p, size_t n);
size_t ini_bad_text_at(const char *p, size_t n);
void ini_excerpt(char *dst, size_t cap, const char *s, size_t n);
int ini_nomem(struct imc_err *err);
void ini_buf_wipe_free(struct imc_buf *b);

#endif
