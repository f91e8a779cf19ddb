/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Shared between the model's own files; not part of the public API. */
#ifndef IMC_MODEL_INT_H
#define IMC_MODEL_INT_H

#include "imc/model.h"

/* Equal values (numbers after unit conversion), whatever the names and operators. */
bool imc_feature_value_equal(const struct imc_feature *a, const struct imc_feature *b);

/* Strings that may be NULL: equal when both are NULL or both hold the same text. */
bool imc_str_eq_opt(const char *a, const char *b);
/* *dst = a copy of src, or NULL when src is NULL.  0 or IMC_E_NOMEM. */
int imc_strdup_opt(char **dst, const char *src);

#endif
