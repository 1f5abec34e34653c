/*
 * The naive reference model of the VT-d page walks (first stage, second
 * stage, nested), written from the Intel VT-d specification's description
 * of the translation: one plain loop per stage and no code shared with the
 * core beyond mem.h and the fake memory (ref-harness.h).  Used by the
 * reference check (test-ref-x86.c) and the differential fuzzer
 * (tests/fuzz/fuzz-ref.c); test-ref-x86.c states the conventions it takes
 * where the specification leaves a choice.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_REF_MODEL_X86_H
#define VI_REF_MODEL_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "ref-harness.h"

#define REF_SS_STRICT_RSVD 0

/* ---------------------------------------------------------------------- */
/* Entry bits, as the specification names them (chapter 9). */

/* First-stage paging entries (IA-32e format). */
#define FS_P        (1ull << 0)
#define FS_RW       (1ull << 1)
#define FS_US       (1ull << 2)
#define FS_PWT      (1ull << 3)
#define FS_PCD      (1ull << 4)
#define FS_A        (1ull << 5)
#define FS_D        (1ull << 6)
#define FS_PS       (1ull << 7)     /* PAT in a 4-KByte page entry */
#define FS_G        (1ull << 8)
#define FS_EA       (1ull << 10)
#define FS_XD       (1ull << 63)

/* Second-stage paging entries. */
#define SS_R        (1ull << 0)
#define SS_W        (1ull << 1)
#define SS_X        (1ull << 2)
#define SS_PS       (1ull << 7)
#define SS_A        (1ull << 8)
#define SS_D        (1ull << 9)
#define SS_SNP      (1ull << 11)
#define SS_B62      (1ull << 62)

/* Bits [hi:lo] set. */
static inline uint64_t mask_of(unsigned hi, unsigned lo)
{
    uint64_t m = 0;

    for (unsigned b = lo; b <= hi; b++) {
        m |= 1ull << b;
    }
    return m;
}

/* The address an entry holds: bits 51:12. */
static inline uint64_t entry_addr(uint64_t e)
{
    return e & mask_of(51, 12);
}

/* Bytes an entry at level maps: 4K at level 1, 512 times more per level. */
static inline unsigned level_shift(int level)
{
    return 12 + 9 * (unsigned)(level - 1);
}

typedef struct ref_x86_cfg {
    /* first stage */
    uint64_t fs_ptptr;
    unsigned fs_levels, fs_haw;
    bool fl1gp, wpe, eafe;
    /* second stage */
    uint64_t ss_ptptr;
    unsigned ss_aw, ss_haw, sllps;
    bool slee, slade;
} ref_x86_cfg;

typedef struct ref_x86_ctx {
    const ref_x86_cfg *c;
    bool nested;
    ref_mem m;
} ref_x86_ctx;

/* Levels of a second stage of address width aw (39, 48 or 57). */
int ref_x86_ss_levels(unsigned aw);
/* Translate gpa with the access acc (VI_ACC_*) through the second stage. */
ref_out ref_x86_ss(ref_x86_ctx *x, uint64_t gpa, uint32_t acc);
/* Translate va through the first stage (nested: and the second). */
ref_out ref_x86_fs(ref_x86_ctx *x, uint64_t va, uint32_t acc);

#endif /* VI_REF_MODEL_X86_H */
