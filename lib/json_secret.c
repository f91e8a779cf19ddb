/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Wiping jansson trees that may hold credentials. */
#include "json_secret.h"

#include <string.h>

void imc_json_wipe(json_t *j)
{
  const char *k;
  json_t *v;
  size_t i;

  if (json_is_string(j)) {
    explicit_bzero((char *)json_string_value(j), json_string_length(j));
  } else if (json_is_array(j)) {
    json_array_foreach(j, i, v) imc_json_wipe(v);
  } else if (json_is_object(j)) {
    json_object_foreach(j, k, v) imc_json_wipe(v);
  }
}
