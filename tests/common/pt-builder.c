/*
 * Test helper: page-table builder for every format (see pt-builder.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "pt-builder.h"

#define ARMV8_VALID     (1ull << 0)
#define ARMV8_TABLE     (1ull << 1)     /* table (levels 0-2) or page (level 3) */
#define ARMV8_OA_MASK   0x0000ffffffffffffull
#define X86_ADDR_MASK   0x000ffffffffff000ull

static void init_common(ptb *b, ptb_ops ops, ptb_format fmt, uint64_t root)
{
    uint64_t size = 8ull << b->start_bits;

    b->ops = ops;
    b->fmt = fmt;
    b->lpa = false;
    b->addr_offset = 0;
    b->tables = 1;
    if (size < 64) {
        size = 64;
    }
    /* Tables handed out are at least 4 KiB so any allocator can serve them. */
    b->root = root ? root : ops.alloc_table(ops.opaque, size < 4096 ? 4096 : size);
}

void ptb_init_armv8(ptb *b, ptb_ops ops, unsigned pgshift, int start_level,
                    unsigned start_bits, uint64_t root)
{
    b->pgshift = pgshift;
    b->start_level = start_level;
    b->start_bits = start_bits;
    b->table_bits = 0;
    init_common(b, ops, PTB_ARMV8, root);
}

void ptb_init_x86(ptb *b, ptb_ops ops, ptb_format fmt, int levels, uint64_t table_bits,
                  uint64_t root)
{
    b->pgshift = 12;
    b->start_level = levels;
    b->start_bits = 9;
    if (!table_bits) {
        table_bits = fmt == PTB_X86_FS ? PTB_FS_P | PTB_FS_RW | PTB_FS_US :
                                         PTB_SS_R | PTB_SS_W | PTB_SS_X;
    }
    b->table_bits = table_bits;
    init_common(b, ops, fmt, root);
}

uint64_t ptb_root(const ptb *b)
{
    return b->root + b->addr_offset;
}

unsigned ptb_shift(const ptb *b, int level)
{
    if (b->fmt == PTB_ARMV8) {
        return b->pgshift + (b->pgshift - 3) * (unsigned)(3 - level);
    }
    return 12u + 9u * (unsigned)(level - 1);
}

int ptb_page_level(const ptb *b)
{
    return b->fmt == PTB_ARMV8 ? 3 : 1;
}

int ptb_next_level(const ptb *b, int level)
{
    return b->fmt == PTB_ARMV8 ? level + 1 : level - 1;
}

uint64_t ptb_oa(const ptb *b, uint64_t addr)
{
    uint64_t v;

    if (b->fmt != PTB_ARMV8) {
        return addr & X86_ADDR_MASK;
    }
    v = addr & ARMV8_OA_MASK;
    if (b->lpa) {
        v |= ((addr >> 48) & 0xf) << 12;
    }
    return v;
}

/* The table address an entry holds (as written by ptb_oa()). */
static uint64_t entry_addr(const ptb *b, uint64_t e)
{
    uint64_t a;

    if (b->fmt != PTB_ARMV8) {
        return e & X86_ADDR_MASK;
    }
    a = e & ARMV8_OA_MASK & ~((1ull << b->pgshift) - 1);
    if (b->lpa) {
        a |= ((e >> 12) & 0xf) << 48;
    }
    return a;
}

static bool entry_present(const ptb *b, uint64_t e)
{
    switch (b->fmt) {
    case PTB_ARMV8:
        return e & ARMV8_VALID;
    case PTB_X86_FS:
        return e & PTB_FS_P;
    case PTB_VTD_SS:
        return e & (PTB_SS_R | PTB_SS_W);
    }
    return false;
}

/* Is e, present at level, a pointer to a next-level table? */
static bool entry_is_table(const ptb *b, uint64_t e, int level)
{
    if (level == ptb_page_level(b)) {
        return false;
    }
    if (b->fmt == PTB_ARMV8) {
        return e & ARMV8_TABLE;
    }
    return !(e & PTB_FS_PS);        /* PS is bit 7 in both x86 formats */
}

static uint64_t table_entry(const ptb *b, uint64_t table)
{
    uint64_t e = ptb_oa(b, table + b->addr_offset) | b->table_bits;

    return b->fmt == PTB_ARMV8 ? e | ARMV8_VALID | ARMV8_TABLE : e;
}

static uint64_t index_of(const ptb *b, uint64_t in, int level)
{
    unsigned bits = level == b->start_level ? b->start_bits :
                    b->fmt == PTB_ARMV8 ? b->pgshift - 3 : 9;

    return (in >> ptb_shift(b, level)) & ((1ull << bits) - 1);
}

uint64_t ptb_entry(ptb *b, uint64_t in, int level)
{
    uint64_t table = b->root;

    for (int l = b->start_level;; l = ptb_next_level(b, l)) {
        uint64_t ea = table + 8 * index_of(b, in, l), e;

        if (l == level) {
            return ea;
        }
        e = b->ops.read64(b->ops.opaque, ea);
        if (entry_present(b, e)) {
            if (!entry_is_table(b, e, l)) {
                return 0;           /* a leaf above level */
            }
            table = entry_addr(b, e) - b->addr_offset;
            continue;
        }
        table = b->ops.alloc_table(b->ops.opaque, 1ull << b->pgshift);
        b->tables++;
        b->ops.write64(b->ops.opaque, ea, table_entry(b, table));
    }
}

uint64_t ptb_lookup(const ptb *b, uint64_t in, int level)
{
    uint64_t table = b->root;

    for (int l = b->start_level; l != level; l = ptb_next_level(b, l)) {
        uint64_t e = b->ops.read64(b->ops.opaque, table + 8 * index_of(b, in, l));

        table = entry_addr(b, e) - b->addr_offset;
    }
    return table + 8 * index_of(b, in, level);
}

uint64_t ptb_map(ptb *b, uint64_t in, uint64_t out, int level, uint64_t attrs)
{
    uint64_t ea = ptb_entry(b, in, level);
    uint64_t size = 1ull << ptb_shift(b, level);
    uint64_t e = ptb_oa(b, out & ~(size - 1)) | attrs;
    bool page = level == ptb_page_level(b);

    if (!ea) {
        return 0;
    }
    switch (b->fmt) {
    case PTB_ARMV8:
        e |= ARMV8_VALID | (page ? ARMV8_TABLE : 0);
        break;
    case PTB_X86_FS:
        e |= PTB_FS_P | (page ? 0 : PTB_FS_PS);
        break;
    case PTB_VTD_SS:
        e |= page ? 0 : PTB_SS_PS;
        break;
    }
    b->ops.write64(b->ops.opaque, ea, e);
    return ea;
}

void ptb_table_bits(ptb *b, uint64_t in, int level, uint64_t bits)
{
    uint64_t ea = ptb_entry(b, in, level);

    if (ea) {
        b->ops.write64(b->ops.opaque, ea, b->ops.read64(b->ops.opaque, ea) | bits);
    }
}
