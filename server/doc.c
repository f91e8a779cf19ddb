/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Request bodies as documents, for both front ends. */
#include <string.h>

#include "imc/radl.h"
#include "imcd.h"

int imcd_parse_doc(const char *source, const char *body, size_t len, bool json,
                   struct imc_doc **out, struct imc_err *err)
{
  *out = NULL;
  if (imcd_is_tosca(body, len))
    return imc_fail(err, IMC_E_UNSUPPORTED, IMCD_TOSCA_UNSUPPORTED);
  if (json)
    return radl_json_parse(source, body, len, out, err);
  return radl_parse(source, body, len, NULL, out, err);
}

/* TOSCA templates start (after comments and blank lines) with tosca_definitions_version. */
bool imcd_is_tosca(const char *text, size_t len)
{
  static const char key[] = "tosca_definitions_version";
  size_t i = 0;

  while (i < len) {
    size_t end = i;

    while (end < len && text[end] != '\n')
      end++;
    while (i < end && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r'))
      i++;
    if (i < end && text[i] != '#')
      return end - i >= sizeof key - 1 && memcmp(text + i, key, sizeof key - 1) == 0;
    i = end + 1;
  }
  return false;
}
