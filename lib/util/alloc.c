/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "imc/alloc.h"
#include "imc/err.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong alloc_count;
static atomic_ulong fail_at; /* absolute allocation number that fails; 0 = none */

void imc_alloc_fail_at(unsigned long n)
{
  atomic_store(&fail_at, n ? atomic_load(&alloc_count) + n : 0);
}

unsigned long imc_alloc_count(void)
{
  return atomic_load(&alloc_count);
}

/* Counts an allocation and says whether the test hook wants it to fail. */
static int injected_failure(void)
{
  unsigned long nth = atomic_fetch_add(&alloc_count, 1) + 1;
  unsigned long target = atomic_load(&fail_at);

  return target != 0 && nth == target;
}

void *imc_malloc(size_t n)
{
  if (injected_failure())
    return NULL;
  return malloc(n ? n : 1);
}

void *imc_calloc(size_t count, size_t size)
{
  if (injected_failure())
    return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *imc_realloc(void *p, size_t n)
{
  if (injected_failure())
    return NULL;
  return realloc(p, n ? n : 1);
}

char *imc_strndup(const char *s, size_t n)
{
  size_t len = strnlen(s, n);
  char *d = imc_malloc(len + 1);

  if (!d)
    return NULL;
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *imc_strdup(const char *s)
{
  return imc_strndup(s, SIZE_MAX);
}

void imc_free(void *p)
{
  free(p);
}

void imc_free_secret(char *s)
{
  if (!s)
    return;
  explicit_bzero(s, strlen(s));
  free(s);
}

int imc_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
  size_t ncap = *cap ? *cap : 4;
  size_t bytes;
  void *p;

  if (need <= *cap)
    return 0;
  while (ncap < need) {
    if (__builtin_mul_overflow(ncap, 2, &ncap))
      return IMC_E_NOMEM;
  }
  if (__builtin_mul_overflow(ncap, elem, &bytes))
    return IMC_E_NOMEM;
  p = imc_realloc(*arr, bytes);
  if (!p)
    return IMC_E_NOMEM;
  *arr = p;
  *cap = ncap;
  return 0;
}
