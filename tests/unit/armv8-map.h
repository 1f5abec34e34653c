/*
 * Test helper: builds VMSAv8-64 translation tables in a fake_mem.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_TESTS_ARMV8_MAP_H
#define VI_TESTS_ARMV8_MAP_H

#include <stdint.h>

#include "fake-mem.h"

typedef struct armv8_map {
    fake_mem *fm;
    unsigned pgshift;       /* 12, 14, 16 */
    int start_level;
    unsigned start_bits;    /* index bits of the start table (> pgshift - 3:
                             * concatenated tables) */
    bool lpa;               /* 64K: store OA[51:48] in descriptor [15:12] */
    uint64_t addr_offset;   /* table addresses written into descriptors (and
                             * root) are PA + addr_offset (IPA for nesting) */
    uint64_t root_pa;
    uint64_t tables;        /* tables allocated, incl. the root */
} armv8_map;

void armv8_map_init(armv8_map *m, fake_mem *fm, unsigned pgshift, int start_level,
                    unsigned start_bits);
/* The address to configure as TTB (PA + addr_offset). */
uint64_t armv8_map_root(const armv8_map *m);
/* Lowest input bit at level (= entry size shift there). */
unsigned armv8_map_shift(const armv8_map *m, int level);
/* Encode an output / table address into descriptor address bits. */
uint64_t armv8_map_oa(const armv8_map *m, uint64_t addr);
/*
 * Map in -> out with a leaf at level: creates missing tables, writes the
 * leaf with the given attribute bits (AF, AP, XN, ...; the valid / type bits
 * are added).  Returns the PA of the leaf entry.
 */
uint64_t armv8_map_leaf(armv8_map *m, uint64_t in, uint64_t out, int level, uint64_t attrs);
/* PA of the entry for in at level, creating tables down to level; 0 if a
 * leaf sits above level. */
uint64_t armv8_map_entry_pa(armv8_map *m, uint64_t in, int level);
/* OR bits into the table descriptor at level (for APTable, XNTable...). */
void armv8_map_table_bits(armv8_map *m, uint64_t in, int level, uint64_t bits);

/* Standard leaf attributes: AF, inner-shareable, AttrIndx 0. */
#define ARMV8_MAP_AF   (1ull << 10)

#endif
