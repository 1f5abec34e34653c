/*
 * qemu-viommu translation core: how the core reads and updates guest memory.
 *
 * The core never includes QEMU headers.  Everything it fetches (table entries,
 * descriptors, page-table entries) comes through a vi_mem, which the QEMU glue
 * backs with address_space_* and the unit tests, fuzzers and benchmarks back
 * with a fake memory.  Every access has an explicit result, so an external
 * abort on a table fetch becomes the architected fault, not a read of zeros.
 *
 * Table entries are little-endian in memory (SMMUv3 and VT-d both fix that for
 * the tables the core walks); the helpers below do the conversion once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_MEM_H
#define VI_CORE_MEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum vi_mem_result {
    VI_MEM_OK = 0,
    VI_MEM_ABORT,       /* nothing there, or the bus refused: an external abort */
} vi_mem_result;

typedef struct vi_mem_ops {
    /* Read len bytes at physical address pa into buf. */
    vi_mem_result (*read)(void *opaque, uint64_t pa, void *buf, size_t len);
    /* Write len bytes from buf at physical address pa. */
    vi_mem_result (*write)(void *opaque, uint64_t pa, const void *buf, size_t len);
    /*
     * Atomic 64-bit compare-and-swap of a little-endian word at pa, for
     * hardware access/dirty-flag updates.  On return *expected holds the value
     * that was in memory; *swapped says whether desired was stored.
     */
    vi_mem_result (*cmpxchg64)(void *opaque, uint64_t pa, uint64_t *expected,
                               uint64_t desired, bool *swapped);
} vi_mem_ops;

typedef struct vi_mem {
    const vi_mem_ops *ops;
    void *opaque;
} vi_mem;

static inline uint64_t vi_le64_to_cpu(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static inline void vi_cpu_to_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline vi_mem_result vi_mem_read(const vi_mem *m, uint64_t pa, void *buf, size_t len)
{
    return m->ops->read(m->opaque, pa, buf, len);
}

/* Read n consecutive little-endian 64-bit words (an STE, CD, PASID entry...). */
static inline vi_mem_result vi_mem_read_le64s(const vi_mem *m, uint64_t pa,
                                              uint64_t *out, size_t n)
{
    uint8_t raw[64];
    vi_mem_result r;

    if (n > sizeof(raw) / 8) {
        return VI_MEM_ABORT;
    }
    r = m->ops->read(m->opaque, pa, raw, n * 8);
    if (r != VI_MEM_OK) {
        return r;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = vi_le64_to_cpu(raw + 8 * i);
    }
    return VI_MEM_OK;
}

static inline vi_mem_result vi_mem_read_le64(const vi_mem *m, uint64_t pa, uint64_t *out)
{
    return vi_mem_read_le64s(m, pa, out, 1);
}

/* How often an entry rewritten under our read is read again before giving up. */
#define VI_MEM_ENTRY_TRIES 4

/*
 * Read an n-word table entry that software may be rewriting on another vCPU,
 * as one whole version of it.  A single copy may mix words from before and
 * after a guest store (Linux clears, fills and replaces PASID entries with one
 * WRITE_ONCE() per word); two consecutive copies that agree cannot, given that
 * a guest's stores become visible in its program order: a copy that saw a
 * later store and missed an earlier one is followed by a copy that sees both.
 * *stable is false when the entry kept changing for VI_MEM_ENTRY_TRIES copies:
 * the caller treats it as the not-present state such an entry passes through.
 */
static inline vi_mem_result vi_mem_read_entry(const vi_mem *m, uint64_t pa, uint64_t *out,
                                              size_t n, bool *stable)
{
    uint64_t again[8];
    vi_mem_result r;

    *stable = false;
    if (n > 8) {
        return VI_MEM_ABORT;
    }
    r = vi_mem_read_le64s(m, pa, out, n);
    for (int i = 0; i < VI_MEM_ENTRY_TRIES && r == VI_MEM_OK; i++) {
        atomic_thread_fence(memory_order_acquire);
        r = vi_mem_read_le64s(m, pa, again, n);
        if (r == VI_MEM_OK && !memcmp(again, out, n * sizeof(*out))) {
            *stable = true;
            break;
        }
        memcpy(out, again, n * sizeof(*out));
    }
    return r;
}

static inline vi_mem_result vi_mem_cmpxchg64(const vi_mem *m, uint64_t pa, uint64_t *expected,
                                             uint64_t desired, bool *swapped)
{
    return m->ops->cmpxchg64(m->opaque, pa, expected, desired, swapped);
}

#endif /* VI_CORE_MEM_H */
