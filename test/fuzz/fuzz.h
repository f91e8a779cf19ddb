/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one entry point every fuzz target defines, called by libFuzzer (-Dfuzz=true) or by
 * replay.c (a plain test that feeds it every file of the seed corpora). */
#ifndef IMC_FUZZ_H
#define IMC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
