/*
 * Test helper: builds page tables of every format the core walks, writing
 * guest memory through callbacks, so one builder serves every kind of test:
 *
 *   - the core's unit tests, benchmarks and fuzzers (tests/unit, tests/bench,
 *     tests/fuzz): memory is a fake_mem; fake_mem_builder_ops() in
 *     tests/unit/fake-mem.h gives the callbacks;
 *   - the qtest drivers (tests/qtest/smmuv3-drv.c, vtd-drv.c): read64 /
 *     write64 wrap qtest_readq() / qtest_writeq() on the machine's guest
 *     memory and alloc_table wraps the driver's guest allocator; add
 *     ../common/pt-builder.c to the qtest's sources and
 *     include_directories('../common');
 *   - the guest program (tests/guest/viommu-guest-test.c): the tables live in
 *     a buffer the program mmap()ed and mapped at an IOVA; read64 / write64
 *     access the buffer at (addr - buffer IOVA), alloc_table hands out pages
 *     of it, and addr_offset is 0 (entries hold IOVAs / IPAs directly).
 *     Compile pt-builder.c into the static binary with -I tests/common.
 *
 * Plain C11: no GLib, no QEMU, no core headers (the entry bits below are
 * spelled out again from the specifications, so the tests do not check the
 * core against itself), no allocation of its own, no printing.
 *
 * Addresses: the builder reads and writes tables at "memory addresses", as
 * the callbacks understand them; a table address written into an entry (or
 * returned by ptb_root()) is the memory address + addr_offset, which lets a
 * test place stage-1 tables at IPA/GPA = PA + offset for nesting.
 *
 * Levels are each format's own: VMSAv8-64 start_level..3 (3 holds pages);
 * x86 first stage and VT-d second stage levels..1 (1 holds 4 KiB pages).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_TESTS_PT_BUILDER_H
#define VI_TESTS_PT_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ptb_ops {
    /* Read / write the little-endian 64-bit entry at memory address addr. */
    uint64_t (*read64)(void *opaque, uint64_t addr);
    void (*write64)(void *opaque, uint64_t addr, uint64_t val);
    /* A zeroed table of size bytes aligned to size: its memory address. */
    uint64_t (*alloc_table)(void *opaque, uint64_t size);
    void *opaque;
} ptb_ops;

typedef enum ptb_format {
    PTB_ARMV8,          /* VMSAv8-64, stage 1 or stage 2 (the caller's attrs) */
    PTB_X86_FS,         /* x86-64 paging, the VT-d first stage */
    PTB_VTD_SS,         /* VT-d second stage */
} ptb_format;

typedef struct ptb {
    ptb_ops ops;
    ptb_format fmt;
    unsigned pgshift;       /* 12, 14, 16 (x86: 12) */
    int start_level;        /* the root's level */
    unsigned start_bits;    /* index bits of the root (VMSAv8-64: more than
                             * pgshift - 3 for concatenated tables) */
    bool lpa;               /* VMSAv8-64 64K: OA[51:48] in descriptor [15:12] */
    uint64_t addr_offset;   /* table addresses in entries: memory address +
                             * addr_offset */
    uint64_t table_bits;    /* OR-ed into every new table entry (x86: the
                             * P / R / W / U/S / X bits a table entry needs) */
    uint64_t root;          /* memory address of the root table */
    uint64_t tables;        /* tables allocated, the root included */
} ptb;

/* VMSAv8-64 descriptor bits the tests name (Arm ARM D8.3). */
#define PTB_ARMV8_AF        (1ull << 10)

/* x86 first-stage entry bits (VT-d spec 9.7). */
#define PTB_FS_P            (1ull << 0)
#define PTB_FS_RW           (1ull << 1)
#define PTB_FS_US           (1ull << 2)
#define PTB_FS_A            (1ull << 5)
#define PTB_FS_D            (1ull << 6)
#define PTB_FS_PS           (1ull << 7)
/* VT-d second-stage entry bits (VT-d spec 9.8). */
#define PTB_SS_R            (1ull << 0)
#define PTB_SS_W            (1ull << 1)
#define PTB_SS_X            (1ull << 2)
#define PTB_SS_PS           (1ull << 7)

/*
 * VMSAv8-64 tables with granule 2^pgshift, root at start_level indexed by
 * start_bits input bits.  root: an existing root table, or 0 to allocate one.
 */
void ptb_init_armv8(ptb *b, ptb_ops ops, unsigned pgshift, int start_level,
                    unsigned start_bits, uint64_t root);
/*
 * x86 first-stage (PTB_X86_FS) or VT-d second-stage (PTB_VTD_SS) tables of
 * levels levels; new table entries get table_bits (0: all permissions).
 */
void ptb_init_x86(ptb *b, ptb_ops ops, ptb_format fmt, int levels, uint64_t table_bits,
                  uint64_t root);

/* The root as a table pointer (memory address + addr_offset). */
uint64_t ptb_root(const ptb *b);
/* Lowest input bit indexing level (= entry size shift there). */
unsigned ptb_shift(const ptb *b, int level);
/* The level holding the smallest pages (VMSAv8-64 3, x86 1). */
int ptb_page_level(const ptb *b);
/* The level one step further from the root than level. */
int ptb_next_level(const ptb *b, int level);
/* Encode an output / table address into an entry's address bits. */
uint64_t ptb_oa(const ptb *b, uint64_t addr);

/*
 * Memory address of the entry for in at level, creating missing tables above
 * it; 0 if a leaf (block / large page) sits above level.
 */
uint64_t ptb_entry(ptb *b, uint64_t in, int level);
/*
 * Memory address of the entry for in at level on the path as it is in memory
 * now, following the address field of every entry above level whatever its
 * other bits (so a test finds the entries it broke on purpose); writes
 * nothing.  The tables above level must exist.
 */
uint64_t ptb_lookup(const ptb *b, uint64_t in, int level);
/*
 * Map in -> out with a leaf at level: creates missing tables and writes the
 * leaf with attrs (permissions, AF, A/D, ...) plus the bits that make it a
 * valid leaf at that level (VMSAv8-64 valid / page, x86 P and PS, VT-d PS;
 * a VT-d leaf is present only with R or W in attrs).  Returns the memory
 * address of the leaf entry, 0 if a leaf sits above level.
 */
uint64_t ptb_map(ptb *b, uint64_t in, uint64_t out, int level, uint64_t attrs);
/* OR bits into the table entry at level on in's path (APTable, R/W...). */
void ptb_table_bits(ptb *b, uint64_t in, int level, uint64_t bits);

#endif /* VI_TESTS_PT_BUILDER_H */
