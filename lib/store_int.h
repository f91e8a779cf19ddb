/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internal: what store.c (the backend-independent parts) asks of a store backend. */
#ifndef IMC_STORE_INT_H
#define IMC_STORE_INT_H

#include "imc/err.h"
#include "imc/store.h"

/* Opens the SQLite store at path (a file name, used as given; never a URI). */
int store_sqlite_open(const char *path, struct imc_store **out, struct imc_err *err);

#endif
