/* SPDX-License-Identifier: GPL-3.0-or-later */
/* UTF-8 as Python's strict decoder takes it (IM is Python): overlong forms, surrogates and
 * code points past U+10FFFF are not UTF-8.  One definition for every reader and writer. */
#ifndef IMC_UTF8_H
#define IMC_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the UTF-8 sequence at p (n > 0 bytes left), or 0 when it is not one. */
size_t imc_utf8_seq(const unsigned char *p, size_t n);
/* True when the NUL-terminated s is all UTF-8. */
bool imc_utf8_valid(const char *s);

#endif
