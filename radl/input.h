/* SPDX-License-Identifier: GPL-3.0-or-later */
/* `@input.NAME@` substitution, as im-client does it before it sends a RADL. */
#ifndef RADL_INPUT_H
#define RADL_INPUT_H

#include "lex.h"

struct radl_subst {
  char *text; /* the substituted text */
  size_t len;
  struct radl_seg *segs; /* one per substituted reference, in order */
  size_t nsegs, cap_segs;
};

/* Replaces every `@input.NAME@` of text by its value.  A reference with no value fails with
 * "source:line:col: no value for input 'NAME'".  On success the caller frees *out with
 * radl_subst_free(). */
int radl_subst_inputs(const char *source, const char *text, size_t len,
                      const struct radl_input *values, size_t nvalues, struct radl_subst *out,
                      struct imc_err *err);
void radl_subst_free(struct radl_subst *s);

#endif
