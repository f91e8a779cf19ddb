/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the model's own files; not part of the public API. */
#ifndef IMC_MODEL_INT_H
#define IMC_MODEL_INT_H

#include "imc/model.h"

/* Equal values (numbers after unit conversion), whatever the names and operators. */
bool imc_feature_value_equal(const struct imc_feature *a, const struct imc_feature *b);

#endif
