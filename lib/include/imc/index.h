/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A hash index over an array the caller owns: it maps keys to positions in that array, so
 * lookups by name stay O(1) however large a (possibly hostile) document grows.  The index
 * stores positions only; the caller supplies hashes and comparisons, so one type serves
 * feature sets, contains items and document lists.  Small arrays are cheaper to scan, so
 * callers build an index only past IMC_INDEX_MIN elements. */
#ifndef IMC_INDEX_H
#define IMC_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMC_INDEX_MIN 16

struct imc_index {
  size_t *slots; /* position + 1; 0 = empty */
  size_t cap;    /* 0: not built */
  size_t n;
};

/* Does the element at pos have this key? */
typedef bool (*imc_index_eq)(const void *ctx, size_t pos, const void *key);
/* The hash of the element at pos (to rehash on growth). */
typedef uint64_t (*imc_index_hash)(const void *ctx, size_t pos);

/* FNV-1a; NULL hashes to a fixed value.  imc_hash_mix combines two hashes. */
uint64_t imc_hash_str(const char *s);
uint64_t imc_hash_mix(uint64_t a, uint64_t b);

void imc_index_init(struct imc_index *ix);
void imc_index_free(struct imc_index *ix);
static inline bool imc_index_built(const struct imc_index *ix)
{
  return ix->cap != 0;
}
/* The position of the element with key, or SIZE_MAX. */
size_t imc_index_find(const struct imc_index *ix, uint64_t hash, const void *key, imc_index_eq eq,
                      const void *ctx);
/* Records the element at pos.  Returns 0 or IMC_E_NOMEM (the index is then dropped, and the
 * caller falls back to scanning: a failed index never loses an element). */
int imc_index_add(struct imc_index *ix, uint64_t hash, size_t pos, imc_index_hash hash_of,
                  const void *ctx);
/* Builds the index over positions 0..n-1. */
int imc_index_build(struct imc_index *ix, size_t n, imc_index_hash hash_of, const void *ctx);
/* Keeps ix in step with an array that just grew to n elements (the new one last, with this
 * hash): adds it when the index exists, builds the index once n reaches IMC_INDEX_MIN.
 * Failing to index is not an error: lookups then scan. */
void imc_index_note_append(struct imc_index *ix, size_t n, uint64_t hash, imc_index_hash hash_of,
                           const void *ctx);

#endif
