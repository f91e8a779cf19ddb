/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The table that maps an auth `type` to its connector. */
#include <string.h>

#include "imc/alloc.h"
#include "imc/connector.h"

extern const struct imc_connector imc_connector_dummy;
extern const struct imc_connector imc_connector_netns;

const struct imc_connector *const imc_connectors_builtin[] = {
  &imc_connector_dummy,
  &imc_connector_netns,
  NULL,
};

/* IM loads a connector by its type's exact name, so the match is case-sensitive. */
const struct imc_connector *imc_connector_find(const struct imc_connector *const *table,
                                               const char *type)
{
  if (!type)
    return NULL;
  for (; *table; table++)
    if (strcmp((*table)->name, type) == 0)
      return *table;
  return NULL;
}

void imc_images_free(struct imc_image *images, size_t n)
{
  if (!images)
    return;
  for (size_t i = 0; i < n; i++) {
    imc_free(images[i].uri);
    imc_free(images[i].name);
  }
  imc_free(images);
}
