/*
 * The naive reference model of the VMSAv8-64 walks (stage 1, stage 2,
 * nested), written straight from the architecture's description: recursive,
 * one function per rule, no code shared with the core beyond mem.h and the
 * fake memory (ref-harness.h).  Used by the reference check
 * (test-ref-armv8.c) and the differential fuzzer (tests/fuzz/fuzz-ref.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_REF_MODEL_ARMV8_H
#define VI_REF_MODEL_ARMV8_H

#include <stdbool.h>
#include <stdint.h>

#include "ref-harness.h"

typedef struct ref_armv8_range {
    uint64_t ttb;
    unsigned tsz, pgshift;
    bool epd, tbi, hpd;
} ref_armv8_range;

typedef struct ref_armv8_cfg {
    /* stage 1 */
    ref_armv8_range r[2];
    unsigned s1_oas;
    bool s1_ha, s1_hd, s1_affd, wxn;
    /* stage 2 */
    uint64_t s2_ttb;
    unsigned s2_tsz, s2_sl0, s2_pgshift, s2_oas;
    bool s2_ha, s2_hd, s2_affd, xnx;
} ref_armv8_cfg;

typedef struct ref_armv8_ctx {
    const ref_armv8_cfg *c;
    bool nested;
    ref_mem m;
} ref_armv8_ctx;

/* Bits [hi:lo] of v, as a number. */
uint64_t ref_field(uint64_t v, unsigned hi, unsigned lo);
/* PA size: 52 only with 64K pages; otherwise at most 48. */
unsigned ref_armv8_oas(unsigned oas, unsigned pgshift);
/* Start level of a stage-1 walk of an ia-bit range. */
int ref_armv8_s1_start(unsigned ia, unsigned pgshift);
/* Lowest input bit resolved at level. */
unsigned ref_armv8_lsb(unsigned pgshift, int level);
/* May level hold a block (level 3: a page)? */
bool ref_armv8_block_ok(unsigned pgshift, int level, unsigned oas);
/* Stage-2 start level from SL0 (-1: reserved), and validity of the config. */
int ref_armv8_s2_start(const ref_armv8_cfg *c);
bool ref_armv8_s2_valid(const ref_armv8_cfg *c);

/* Translations: stage 2 alone, stage 1 (nested when x->nested). */
ref_out ref_armv8_s2(ref_armv8_ctx *x, uint64_t ipa, bool wr, bool priv, bool ex, bool rd);
ref_out ref_armv8_s1(ref_armv8_ctx *x, uint64_t va, bool rd, bool wr, bool ex, bool priv);

#endif /* VI_REF_MODEL_ARMV8_H */
