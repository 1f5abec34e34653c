/*
 * Sparse fake guest memory: see fake-mem.h.
 *
 * Frames of 4 KiB live in an open-addressing hash table keyed by frame
 * number.  The table doubles when half full; frames are never removed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "fake-mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fake_frame {
    uint64_t fn;            /* frame number + 1; 0 = empty slot */
    uint8_t *data;
    bool abort;
} fake_frame;

struct fake_mem {
    vi_mem vi;
    fake_frame *slots;
    size_t nslots;          /* power of two */
    size_t used;
    fake_frame *last;       /* one-entry lookup cache */
    uint64_t next_alloc;
    fake_mem_stats stats;
};

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);
    if (!p) {
        fprintf(stderr, "fake-mem: out of memory\n");
        exit(1);
    }
    return p;
}

static size_t frame_hash(uint64_t fn, size_t mask)
{
    fn ^= fn >> 31;
    fn *= 0x9e3779b97f4a7c15ull;
    fn ^= fn >> 29;
    return (size_t)fn & mask;
}

static fake_frame *frame_find(fake_mem *fm, uint64_t fn)
{
    size_t mask = fm->nslots - 1;
    size_t i;

    if (fm->last && fm->last->fn == fn + 1) {
        return fm->last;
    }
    for (i = frame_hash(fn, mask);; i = (i + 1) & mask) {
        fake_frame *f = &fm->slots[i];
        if (f->fn == fn + 1) {
            fm->last = f;
            return f;
        }
        if (f->fn == 0) {
            return NULL;
        }
    }
}

static void frame_insert_slot(fake_frame *slots, size_t nslots, const fake_frame *src)
{
    size_t mask = nslots - 1;
    size_t i;

    for (i = frame_hash(src->fn - 1, mask); slots[i].fn; i = (i + 1) & mask) {
        /* probe */
    }
    slots[i] = *src;
}

static fake_frame *frame_get(fake_mem *fm, uint64_t fn)
{
    fake_frame *f = frame_find(fm, fn);
    fake_frame nf;

    if (f) {
        return f;
    }
    if ((fm->used + 1) * 2 > fm->nslots) {
        size_t n = fm->nslots * 2;
        fake_frame *slots = xcalloc(n, sizeof(*slots));
        for (size_t i = 0; i < fm->nslots; i++) {
            if (fm->slots[i].fn) {
                frame_insert_slot(slots, n, &fm->slots[i]);
            }
        }
        free(fm->slots);
        fm->slots = slots;
        fm->nslots = n;
    }
    nf.fn = fn + 1;
    nf.data = xcalloc(1, FAKE_MEM_FRAME_SIZE);
    nf.abort = false;
    frame_insert_slot(fm->slots, fm->nslots, &nf);
    fm->used++;
    fm->last = NULL;
    return frame_find(fm, fn);
}

/*
 * Walk [pa, pa + len) frame by frame.  Returns false if some byte is not
 * backed (*bad set) or lies in an aborting frame.
 */
static bool range_ok(fake_mem *fm, uint64_t pa, size_t len, bool *bad)
{
    uint64_t end = pa + len;

    *bad = false;
    if (len == 0) {
        return true;
    }
    if (end < pa) {
        *bad = true;
        return false;
    }
    for (uint64_t fn = pa >> FAKE_MEM_FRAME_SHIFT;
         fn <= (end - 1) >> FAKE_MEM_FRAME_SHIFT; fn++) {
        fake_frame *f = frame_find(fm, fn);
        if (!f) {
            *bad = true;
            return false;
        }
        if (f->abort) {
            return false;
        }
    }
    return true;
}

static void copy_io(fake_mem *fm, uint64_t pa, void *buf, size_t len, bool to_mem)
{
    uint8_t *p = buf;

    while (len) {
        fake_frame *f = frame_get(fm, pa >> FAKE_MEM_FRAME_SHIFT);
        size_t off = pa & (FAKE_MEM_FRAME_SIZE - 1);
        size_t n = FAKE_MEM_FRAME_SIZE - off;
        if (n > len) {
            n = len;
        }
        if (to_mem) {
            memcpy(f->data + off, p, n);
        } else {
            memcpy(p, f->data + off, n);
        }
        p += n;
        pa += n;
        len -= n;
    }
}

static vi_mem_result fm_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
    fake_mem *fm = opaque;
    bool bad;

    fm->stats.reads++;
    /* Fast path: an 8-byte aligned read inside one frame. */
    if (len == 8 && !(pa & 7)) {
        fake_frame *f = frame_find(fm, pa >> FAKE_MEM_FRAME_SHIFT);
        if (f && !f->abort) {
            memcpy(buf, f->data + (pa & (FAKE_MEM_FRAME_SIZE - 1)), 8);
            return VI_MEM_OK;
        }
    }
    if (!range_ok(fm, pa, len, &bad)) {
        fm->stats.bad += bad;
        fm->stats.aborts++;
        return VI_MEM_ABORT;
    }
    copy_io(fm, pa, buf, len, false);
    return VI_MEM_OK;
}

static vi_mem_result fm_write(void *opaque, uint64_t pa, const void *buf, size_t len)
{
    fake_mem *fm = opaque;
    bool bad;

    fm->stats.writes++;
    if (!range_ok(fm, pa, len, &bad)) {
        fm->stats.bad += bad;
        fm->stats.aborts++;
        return VI_MEM_ABORT;
    }
    copy_io(fm, pa, (void *)buf, len, true);
    return VI_MEM_OK;
}

static vi_mem_result fm_cmpxchg64(void *opaque, uint64_t pa, uint64_t *expected,
                                  uint64_t desired, bool *swapped)
{
    fake_mem *fm = opaque;
    uint8_t raw[8];
    uint64_t cur;
    bool bad;

    fm->stats.cmpxchgs++;
    *swapped = false;
    if ((pa & 7) || !range_ok(fm, pa, 8, &bad)) {
        fm->stats.bad += (pa & 7) ? 0 : bad;
        fm->stats.aborts++;
        return VI_MEM_ABORT;
    }
    copy_io(fm, pa, raw, 8, false);
    cur = vi_le64_to_cpu(raw);
    if (cur == *expected) {
        vi_cpu_to_le64(raw, desired);
        copy_io(fm, pa, raw, 8, true);
        *swapped = true;
    }
    *expected = cur;
    return VI_MEM_OK;
}

static const vi_mem_ops fake_mem_ops = {
    .read = fm_read,
    .write = fm_write,
    .cmpxchg64 = fm_cmpxchg64,
};

fake_mem *fake_mem_new(void)
{
    fake_mem *fm = xcalloc(1, sizeof(*fm));

    fm->nslots = 256;
    fm->slots = xcalloc(fm->nslots, sizeof(*fm->slots));
    fm->vi.ops = &fake_mem_ops;
    fm->vi.opaque = fm;
    fm->next_alloc = 0x10000000;
    return fm;
}

void fake_mem_free(fake_mem *fm)
{
    if (!fm) {
        return;
    }
    for (size_t i = 0; i < fm->nslots; i++) {
        free(fm->slots[i].data);
    }
    free(fm->slots);
    free(fm);
}

const vi_mem *fake_mem_vi(fake_mem *fm)
{
    return &fm->vi;
}

void fake_mem_map(fake_mem *fm, uint64_t pa, uint64_t size)
{
    if (!size) {
        return;
    }
    for (uint64_t fn = pa >> FAKE_MEM_FRAME_SHIFT;
         fn <= (pa + size - 1) >> FAKE_MEM_FRAME_SHIFT; fn++) {
        frame_get(fm, fn);
    }
}

bool fake_mem_is_mapped(fake_mem *fm, uint64_t pa, uint64_t len)
{
    bool bad;

    return range_ok(fm, pa, len, &bad) || !bad;
}

void fake_mem_set_alloc_base(fake_mem *fm, uint64_t base)
{
    fm->next_alloc = base;
}

uint64_t fake_mem_alloc(fake_mem *fm, uint64_t size, uint64_t align)
{
    uint64_t pa;

    if (align < 8) {
        align = 8;
    }
    pa = (fm->next_alloc + align - 1) & ~(align - 1);
    fm->next_alloc = pa + size;
    fake_mem_map(fm, pa, size);
    return pa;
}

uint64_t fake_mem_alloc_page(fake_mem *fm, uint64_t page_size)
{
    return fake_mem_alloc(fm, page_size, page_size);
}

void fake_mem_poke(fake_mem *fm, uint64_t pa, const void *buf, size_t len)
{
    copy_io(fm, pa, (void *)buf, len, true);
}

void fake_mem_poke64(fake_mem *fm, uint64_t pa, uint64_t val)
{
    uint8_t raw[8];

    vi_cpu_to_le64(raw, val);
    copy_io(fm, pa, raw, 8, true);
}

uint64_t fake_mem_peek64(fake_mem *fm, uint64_t pa)
{
    uint8_t raw[8];
    bool bad;

    if (!range_ok(fm, pa, 8, &bad) && bad) {
        return 0;
    }
    copy_io(fm, pa, raw, 8, false);
    return vi_le64_to_cpu(raw);
}

void fake_mem_set_abort(fake_mem *fm, uint64_t pa, uint64_t size, bool abort)
{
    if (!size) {
        return;
    }
    for (uint64_t fn = pa >> FAKE_MEM_FRAME_SHIFT;
         fn <= (pa + size - 1) >> FAKE_MEM_FRAME_SHIFT; fn++) {
        frame_get(fm, fn)->abort = abort;
    }
}

const fake_mem_stats *fake_mem_get_stats(fake_mem *fm)
{
    return &fm->stats;
}

void fake_mem_reset_stats(fake_mem *fm)
{
    memset(&fm->stats, 0, sizeof(fm->stats));
}

uint64_t fake_mem_reads(fake_mem *fm)
{
    return fm->stats.reads;
}

static uint64_t builder_read64(void *opaque, uint64_t addr)
{
    return fake_mem_peek64(opaque, addr);
}

static void builder_write64(void *opaque, uint64_t addr, uint64_t val)
{
    fake_mem_poke64(opaque, addr, val);
}

static uint64_t builder_alloc_table(void *opaque, uint64_t size)
{
    return fake_mem_alloc_page(opaque, size);
}

ptb_ops fake_mem_builder_ops(fake_mem *fm)
{
    ptb_ops ops = {
        .read64 = builder_read64,
        .write64 = builder_write64,
        .alloc_table = builder_alloc_table,
        .opaque = fm,
    };

    return ops;
}
