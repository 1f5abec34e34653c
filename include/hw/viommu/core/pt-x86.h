/*
 * qemu-viommu translation core: what the two x86-family page-table formats
 * share.
 *
 * VT-d walks two radix formats with the same geometry: the first stage
 * (x86-64 paging, pt-x86-fs.h) and its own second stage (pt-vtd-ss.h).
 * Both have 512-entry tables of 64-bit entries, the address of the next
 * table or page in bits 51:12, and levels numbered the x86 way: the leaf
 * level of a 4 KiB page is 1, a 2 MiB page 2, a 1 GiB page 3; the top level
 * is 4 or 5 (3 for a 39-bit second stage).  An entry at level L maps
 * 2^(12 + 9 (L - 1)) bytes.  This header holds that geometry and the decode
 * helpers built on it, for the two format files only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_PT_X86_H
#define VI_CORE_PT_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/pt.h"

/* Entry address field: bits 51:12 (bits at and above haw are reserved). */
#define VI_X86_ADDR_MASK    0x000ffffffffff000ull

/* vi_pt_result.attrs for these formats: the leaf's bits [11:0]. */
#define VI_X86_ATTRS(e)     ((uint32_t)((e) & 0xfff))

/* Lowest input bit indexing a table at level (the entry size shift there). */
static inline unsigned vi_x86_level_shift(int level)
{
    return 12u + 9u * (unsigned)(level - 1);
}

/* The start of a walk from the table at ptptr with levels levels. */
static inline vi_pt_start vi_x86_start(uint64_t ptptr, int levels)
{
    vi_pt_start s = {
        .table = ptptr & VI_X86_ADDR_MASK,
        .level = levels,
        .shift = vi_x86_level_shift(levels),
        .bits = 9,
    };

    return s;
}

/* Address bits 51:12 at or above haw (haw <= 52): reserved. */
static inline uint64_t vi_x86_addr_rsvd(uint8_t haw)
{
    return haw >= 52 ? 0 : (VI_X86_ADDR_MASK & ~((1ull << haw) - 1));
}

/*
 * The checks at the start of a walk of either format, in the order VT-d
 * reports them: the input (in_ok false: address-size fault), then the
 * table pointer (bits at or above haw: reserved).
 */
static inline bool vi_x86_walk_checks(const vi_pt_walk *w, bool in_ok, uint64_t ptptr,
                                      uint8_t haw, vi_fault *f)
{
    if (!in_ok) {
        vi_pt_set_fault(w, f, VI_FAULT_ADDR_SIZE);
        return false;
    }
    if (ptptr & vi_x86_addr_rsvd(haw)) {
        vi_pt_set_fault(w, f, VI_FAULT_RESERVED);
        return false;
    }
    return true;
}

/* Decode step: descend to the table entry e points to. */
static inline vi_pt_step vi_x86_descend(vi_pt_walk *w, uint64_t e)
{
    w->table = e & VI_X86_ADDR_MASK;
    w->level--;
    w->shift -= 9;
    w->bits = 9;
    return VI_PT_STEP_TABLE;
}

/* Decode step: the leaf e at the current level grants perm. */
static inline vi_pt_step vi_x86_leaf(vi_pt_walk *w, uint64_t e, uint32_t perm,
                                     bool global)
{
    vi_pt_result *res = w->res;
    uint64_t size = 1ull << w->shift;

    res->out = (e & VI_X86_ADDR_MASK & ~(size - 1)) | (w->in & (size - 1));
    res->size = size;
    res->ipa = 0;
    res->perm = perm;
    res->attrs = VI_X86_ATTRS(e);
    res->level = (int8_t)w->level;
    res->global = global;
    res->dirty_tracked = false;
    return VI_PT_STEP_LEAF;
}

#endif /* VI_CORE_PT_X86_H */
