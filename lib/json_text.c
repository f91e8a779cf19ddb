/* SPDX-License-Identifier: GPL-3.0-or-later */
/* JSON strings from text that may not be UTF-8. */
#include <string.h>

#include "imc/alloc.h"
#include "imc/json.h"
#include "imc/utf8.h"

json_t *imc_json_textn(const char *s, size_t n)
{
  json_t *j;
  char *copy;
  size_t o = 0;

  if (!s)
    return json_null();
  if ((j = json_stringn(s, n)) || !(copy = imc_malloc(n + 1)))
    return j;
  for (size_t i = 0; i < n;) {
    size_t k = s[i] ? imc_utf8_seq((const unsigned char *)s + i, n - i) : 0;

    if (k == 0) { /* a NUL or a byte that starts no UTF-8 sequence */
      copy[o++] = '?';
      i++;
      continue;
    }
    memcpy(copy + o, s + i, k);
    o += k;
    i += k;
  }
  j = json_stringn(copy, o);
  imc_free(copy);
  return j;
}

json_t *imc_json_text(const char *s)
{
  return imc_json_textn(s, s ? strlen(s) : 0);
}
