/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Wiping jansson trees that may hold credentials (auth data, ADMIN_USER). */
#ifndef IMC_JSON_SECRET_H
#define IMC_JSON_SECRET_H

#include <jansson.h>

/* Wipes every string of j's tree (call before json_decref): they may be credentials,
 * whatever shape the text had.  jansson nests at most 2048 levels, so the recursion is
 * bounded. */
void imc_json_wipe(json_t *j);

#endif
