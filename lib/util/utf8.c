/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "imc/utf8.h"

#include <stdint.h>
#include <string.h>

size_t imc_utf8_seq(const unsigned char *p, size_t n)
{
  size_t len;
  uint32_t cp;

  if (p[0] < 0x80)
    return 1;
  len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
  if (len == 0 || len > n || p[0] > 0xF4)
    return 0;
  cp = p[0] & (0x7Fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3Fu);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

bool imc_utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);

  for (size_t i = 0, len; i < n; i += len)
    if (!(len = imc_utf8_seq(p + i, n - i)))
      return false;
  return true;
}
