/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Open addressing with linear probing, kept at most half full. */
#include "imc/index.h"
#include "imc/alloc.h"
#include "imc/err.h"

uint64_t imc_hash_str(const char *s)
{
  uint64_t h = 1469598103934665603ull;

  if (!s)
    return 0x9e3779b97f4a7c15ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t imc_hash_mix(uint64_t a, uint64_t b)
{
  return (a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2))) * 1099511628211ull;
}

void imc_index_init(struct imc_index *ix)
{
  ix->slots = NULL;
  ix->cap = ix->n = 0;
}

void imc_index_free(struct imc_index *ix)
{
  imc_free(ix->slots);
  imc_index_init(ix);
}

size_t imc_index_find(const struct imc_index *ix, uint64_t hash, const void *key, imc_index_eq eq,
                      const void *ctx)
{
  size_t mask = ix->cap - 1;

  if (!ix->cap)
    return SIZE_MAX;
  for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
    size_t slot = ix->slots[i];

    if (slot == 0)
      return SIZE_MAX;
    if (eq(ctx, slot - 1, key))
      return slot - 1;
  }
}

static void insert(struct imc_index *ix, uint64_t hash, size_t pos)
{
  size_t mask = ix->cap - 1, i = (size_t)hash & mask;

  while (ix->slots[i] != 0)
    i = (i + 1) & mask;
  ix->slots[i] = pos + 1;
  ix->n++;
}

/* Rebuilds with room for at least need elements at half load. */
static int rebuild(struct imc_index *ix, size_t need, imc_index_hash hash_of, const void *ctx,
                   size_t count)
{
  size_t cap = 32;
  size_t *slots;

  while (cap < need * 2) {
    if (cap > SIZE_MAX / 4)
      return IMC_E_NOMEM;
    cap *= 2;
  }
  if (!(slots = imc_calloc(cap, sizeof *slots)))
    return IMC_E_NOMEM;
  imc_free(ix->slots);
  ix->slots = slots;
  ix->cap = cap;
  ix->n = 0;
  for (size_t pos = 0; pos < count; pos++)
    insert(ix, hash_of(ctx, pos), pos);
  return 0;
}

int imc_index_build(struct imc_index *ix, size_t n, imc_index_hash hash_of, const void *ctx)
{
  if (rebuild(ix, n + 1, hash_of, ctx, n)) {
    imc_index_free(ix);
    return IMC_E_NOMEM;
  }
  return 0;
}

int imc_index_add(struct imc_index *ix, uint64_t hash, size_t pos, imc_index_hash hash_of,
                  const void *ctx)
{
  if ((ix->n + 1) * 2 > ix->cap && rebuild(ix, ix->n + 1, hash_of, ctx, pos)) {
    imc_index_free(ix);
    return IMC_E_NOMEM;
  }
  insert(ix, hash, pos);
  return 0;
}

void imc_index_note_append(struct imc_index *ix, size_t n, uint64_t hash, imc_index_hash hash_of,
                           const void *ctx)
{
  if (imc_index_built(ix))
    imc_index_add(ix, hash, n - 1, hash_of, ctx);
  else if (n >= IMC_INDEX_MIN)
    imc_index_build(ix, n, hash_of, ctx);
}
