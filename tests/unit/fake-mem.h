/*
 * A sparse fake guest memory for the translation-core tests, benchmarks and
 * fuzzers.  It backs a vi_mem (hw/viommu/core/mem.h).
 *
 * Memory exists only where it was allocated or mapped, in 4 KiB frames.  Any
 * access touching a byte that was never handed out returns VI_MEM_ABORT (and
 * is counted as a "bad" access), so walkers are tested against external aborts
 * and a fuzzer sees every stray read.  Frames can also be marked to abort on
 * purpose (fake_mem_set_abort) to inject external aborts on table fetches.
 *
 * Not thread-safe: one fake_mem per thread, or lock around it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_TESTS_FAKE_MEM_H
#define VI_TESTS_FAKE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/viommu/core/mem.h"
#include "pt-builder.h"

#define FAKE_MEM_FRAME_SHIFT 12
#define FAKE_MEM_FRAME_SIZE  (1ull << FAKE_MEM_FRAME_SHIFT)

typedef struct fake_mem fake_mem;

typedef struct fake_mem_stats {
    uint64_t reads;         /* read callbacks (any result) */
    uint64_t writes;        /* write callbacks */
    uint64_t cmpxchgs;      /* cmpxchg64 callbacks */
    uint64_t bad;           /* accesses that touched memory never handed out */
    uint64_t aborts;        /* accesses answered with VI_MEM_ABORT (bad + injected) */
} fake_mem_stats;

fake_mem *fake_mem_new(void);
void fake_mem_free(fake_mem *fm);

/* The vi_mem to hand to the core; valid until fake_mem_free(). */
const vi_mem *fake_mem_vi(fake_mem *fm);

/*
 * Allocate size bytes of zeroed memory aligned to align (a power of two,
 * at least 8), from a bump allocator starting at 0x10000000 (or the base set
 * with fake_mem_set_alloc_base).  Returns the physical address.
 */
uint64_t fake_mem_alloc(fake_mem *fm, uint64_t size, uint64_t align);
/* A zeroed naturally aligned page (table) of page_size bytes. */
uint64_t fake_mem_alloc_page(fake_mem *fm, uint64_t page_size);
void fake_mem_set_alloc_base(fake_mem *fm, uint64_t base);

/* Make [pa, pa + size) exist (zero-filled where new), at a fixed address. */
void fake_mem_map(fake_mem *fm, uint64_t pa, uint64_t size);
/* Is every byte of [pa, pa + len) backed? */
bool fake_mem_is_mapped(fake_mem *fm, uint64_t pa, uint64_t len);

/*
 * Backdoor accesses for test set-up: no counting, no injected aborts.  Poke
 * maps the frame first if needed; peek of unmapped memory returns 0.
 */
void fake_mem_poke64(fake_mem *fm, uint64_t pa, uint64_t val);
uint64_t fake_mem_peek64(fake_mem *fm, uint64_t pa);
void fake_mem_poke(fake_mem *fm, uint64_t pa, const void *buf, size_t len);

/* Make accesses to the frames covering [pa, pa + size) abort (or not). */
void fake_mem_set_abort(fake_mem *fm, uint64_t pa, uint64_t size, bool abort);

const fake_mem_stats *fake_mem_get_stats(fake_mem *fm);
void fake_mem_reset_stats(fake_mem *fm);
/* Shorthand for fake_mem_get_stats(fm)->reads. */
uint64_t fake_mem_reads(fake_mem *fm);

/*
 * The page-table builder's callbacks (tests/common/pt-builder.h) on fm:
 * backdoor reads and writes, tables from fake_mem_alloc_page().
 */
ptb_ops fake_mem_builder_ops(fake_mem *fm);

#endif /* VI_TESTS_FAKE_MEM_H */
