/* SPDX-License-Identifier: GPL-3.0-or-later */
/* JSON strings from text that may not be UTF-8 (logs, names read from documents, answers of
 * clouds): jansson refuses those, and an answer must not fail for one bad byte. */
#ifndef IMC_JSON_H
#define IMC_JSON_H

#include <stddef.h>

#include <jansson.h>

/* s (n bytes; NULL is JSON null) as a JSON string, each byte that is not UTF-8 replaced by
 * '?'.  NULL only when out of memory. */
json_t *imc_json_textn(const char *s, size_t n);
/* The same for a NUL-terminated string. */
json_t *imc_json_text(const char *s);

#endif
