/*
 * qemu-viommu translation core: the generic page-table walk iterator.
 *
 * One iterator (pt.c) walks every radix page-table format; a format only
 * says how to start a walk (vi_pt_walk_setup() with its top table) and how
 * to decode one entry.  The formats, one file each in the manner of Linux's
 * generic_pt: Arm VMSAv8-64 stage 1 and stage 2 (pt-armv8.c), x86-64 first
 * stage (pt-x86-fs.c) and VT-d second stage (pt-vtd-ss.c); nesting any
 * stage 1 in any stage 2 is nested.c.  The iterator owns the loop, the
 * table fetches, the external-abort handling, the compare-and-swap of
 * hardware A/D updates and the bound on the number of steps.
 *
 * Invariants (stated once, relied upon everywhere):
 *   - A walk performs at most VI_PT_MAX_LEVELS table fetches and at most
 *     VI_PT_MAX_UPDATE_RETRIES lost compare-and-swap races per level, so it
 *     terminates whatever the guest put in memory.
 *   - A walk returns true with *res filled, or false with *fault filled;
 *     never both, never neither.  Nothing is printed, nothing asserts.
 *   - Every guest memory access goes through vi_mem; an access that returns
 *     VI_MEM_ABORT ends the walk with VI_FAULT_WALK_EABT.
 *   - Entries are 64-bit little-endian words, entry i of a table at
 *     table + 8 * i.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_PT_H
#define VI_CORE_PT_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/bits.h"
#include "hw/viommu/core/fault.h"
#include "hw/viommu/core/mem.h"

#define VI_PT_MAX_LEVELS          6
#define VI_PT_MAX_UPDATE_RETRIES  8

/*
 * Effective permissions of a translation, for both privilege levels, so a
 * cached translation can answer any later access.
 */
#define VI_PERM_R   0x01u   /* privileged read */
#define VI_PERM_W   0x02u   /* privileged write */
#define VI_PERM_X   0x04u   /* privileged execute */
#define VI_PERM_UR  0x08u   /* unprivileged read */
#define VI_PERM_UW  0x10u   /* unprivileged write */
#define VI_PERM_UX  0x20u   /* unprivileged execute */
#define VI_PERM_ALL 0x3fu

/* The permission bits an access needs (all of them). */
static inline uint32_t vi_perm_needed(uint32_t access)
{
    uint32_t p = 0;

    if (access & VI_ACC_R) {
        p |= VI_PERM_R;
    }
    if (access & VI_ACC_W) {
        p |= VI_PERM_W;
    }
    if (access & VI_ACC_X) {
        p |= VI_PERM_X;
    }
    return (access & VI_ACC_PRIV) ? p : p << 3;
}

static inline bool vi_perm_allows(uint32_t perm, uint32_t access)
{
    uint32_t need = vi_perm_needed(access);

    return (perm & need) == need;
}

/* The result of a successful translation. */
typedef struct vi_pt_result {
    uint64_t out;       /* output address of the input address */
    uint64_t size;      /* size of the mapping containing it (a power of two;
                         * out & ~(size - 1) is its base); for a nested
                         * translation the smaller of the two stages */
    uint64_t ipa;       /* nested: the intermediate address (stage-1 output) */
    uint32_t perm;      /* VI_PERM_* granted by the entry as it now is in
                         * memory (a write that needs a dirty-state update is
                         * not granted until the update is made) */
    uint32_t attrs;     /* format-defined memory attributes (pt-armv8.h) */
    int8_t level;       /* level of the leaf entry (stage 1 for nested) */
    int8_t s2_level;    /* nested: level of the stage-2 leaf of the output;
                         * Arm walks: = level; else unspecified */
    bool global;        /* not tagged by ASID (Arm nG == 0, x86 G) */
    bool dirty_tracked; /* the write permission rests on a dirty state the
                         * hardware manages and software may clean at any
                         * time (Arm DBM under HD, VT-d second stage with
                         * SSADE): a cached copy must not grant writes, so
                         * every write reads the entry as it is in memory
                         * (vi_iotlb_insert() drops them) */
} vi_pt_result;

typedef struct vi_pt_walk vi_pt_walk;

/* What a format's decode step tells the iterator. */
typedef enum vi_pt_step {
    VI_PT_STEP_TABLE,   /* descend: w->table, level, shift, bits updated */
    VI_PT_STEP_LEAF,    /* done: *w->res filled */
    VI_PT_STEP_UPDATE,  /* store w->update over the entry just read
                         * (compare-and-swap), then decode again */
    VI_PT_STEP_FAULT,   /* done: fault kind in w->fault_kind */
} vi_pt_step;

typedef struct vi_pt_fmt {
    const char *name;
    uint8_t stage;
    /* Decode entry pte, read from level w->level.  Must not touch memory. */
    vi_pt_step (*decode)(vi_pt_walk *w, uint64_t pte);
} vi_pt_fmt;

/*
 * Optional hook translating the address of an entry before it is accessed:
 * nesting uses it to send every stage-1 table access through stage 2.
 * write is set for the write-back of a hardware update.  Returns false with
 * *f filled to end the walk with that fault.
 */
typedef bool (*vi_pt_fetch_fn)(void *opaque, const vi_pt_walk *w, uint64_t addr,
                               bool write, uint64_t *pa, vi_fault *f);

struct vi_pt_walk {
    /* Set up by the format's init function. */
    const vi_pt_fmt *fmt;
    const void *cfg;            /* the format's prepared configuration */
    const vi_mem *mem;
    uint64_t in;                /* input address */
    uint32_t access;            /* VI_ACC_* */
    vi_pt_fetch_fn fetch;       /* NULL: table addresses are physical */
    void *fetch_opaque;

    /* Iterator state, updated by the format's decode step. */
    uint64_t table;             /* base of the current table */
    int level;                  /* its level */
    unsigned shift;             /* lowest input bit indexing it */
    unsigned bits;              /* number of input bits indexing it */
    uint32_t tbl;               /* format-private: restrictions inherited
                                 * from table entries so far */
    uint64_t update;            /* VI_PT_STEP_UPDATE: new entry value */
    vi_fault_kind fault_kind;   /* VI_PT_STEP_FAULT: the fault */

    /* Outputs. */
    vi_pt_result *res;
    uint32_t reads;             /* table fetches made */
    uint32_t updates;           /* successful hardware updates */
};

/* Where a walk starts: the top table and how the input indexes it. */
typedef struct vi_pt_start {
    uint64_t table;
    int level;
    unsigned shift;             /* lowest input bit indexing the table */
    unsigned bits;              /* number of input bits indexing it */
} vi_pt_start;

/*
 * Set up w for a walk of fmt (the one set-up every format's walk_init uses):
 * no fetch hook, no inherited restrictions, nothing read yet.
 */
void vi_pt_walk_setup(vi_pt_walk *w, const vi_pt_fmt *fmt, const void *cfg,
                      const vi_mem *mem, uint64_t in, uint32_t access,
                      vi_pt_result *res, vi_pt_start start);

/*
 * Run a walk set up by a format's init function.  Returns true and fills
 * *w->res, or returns false and fills *f.
 */
bool vi_pt_run(vi_pt_walk *w, vi_fault *f);

/* Fill *f for a fault of w at its current level, before or during a walk. */
void vi_pt_set_fault(const vi_pt_walk *w, vi_fault *f, vi_fault_kind kind);

/* For a decode step: end the walk with a fault of the given kind. */
static inline vi_pt_step vi_pt_step_fault(vi_pt_walk *w, vi_fault_kind kind)
{
    w->fault_kind = kind;
    return VI_PT_STEP_FAULT;
}

#endif /* VI_CORE_PT_H */
