/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every allocation of libimc goes through these wrappers, so that tests can make the
 * Nth allocation fail and check that each failure ends in a clean error with no leak. */
#ifndef IMC_ALLOC_H
#define IMC_ALLOC_H

#include <stddef.h>

void *imc_malloc(size_t n);
void *imc_calloc(size_t count, size_t size);
void *imc_realloc(void *p, size_t n);
/* Both return NULL on allocation failure; imc_strndup copies at most n bytes. */
char *imc_strdup(const char *s);
char *imc_strndup(const char *s, size_t n);
void imc_free(void *p);
/* Wipes a secret (password, key, token) before freeing it. */
void imc_free_secret(char *s);

/* Grows *arr (of elements of size elem) so that it holds at least need elements.
 * Returns 0, or IMC_E_NOMEM (and leaves *arr untouched) on failure or overflow. */
int imc_grow(void **arr, size_t *cap, size_t need, size_t elem);

/* Test hooks.  imc_alloc_fail_at(n): the n-th allocation from now fails (0 = never).
 * imc_alloc_count(): allocations made since the process started. */
void imc_alloc_fail_at(unsigned long n);
unsigned long imc_alloc_count(void);

#endif
