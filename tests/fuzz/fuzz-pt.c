/*
 * libFuzzer target for the page-table walkers (stage 1, stage 2, nested)
 * and the IOTLB: arbitrary memory contents and walk parameters.
 *
 * Input: 40 bytes of parameters, then the guest memory image, mapped at
 * FUZZ_BASE.  The memory callback hands out exactly those bytes (a buffer
 * of the image's exact size, so ASan sees any overrun) and answers every
 * other address with VI_MEM_ABORT.  Checks: no crash, no sanitizer report,
 * a bounded number of memory accesses per walk, exactly one of result and
 * fault filled, results consistent (size a power of two, out inside it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/nested.h"

#define FUZZ_BASE   0x10000ull
#define PARAMS      40

typedef struct fuzz_mem {
    uint8_t *buf;
    size_t len;
    unsigned accesses;
} fuzz_mem;

static bool in_window(const fuzz_mem *m, uint64_t pa, size_t len)
{
    return pa >= FUZZ_BASE && len <= m->len && pa - FUZZ_BASE <= m->len - len;
}

static vi_mem_result fm_read(void *o, uint64_t pa, void *buf, size_t len)
{
    fuzz_mem *m = o;

    m->accesses++;
    if (!in_window(m, pa, len)) {
        return VI_MEM_ABORT;
    }
    memcpy(buf, m->buf + (pa - FUZZ_BASE), len);
    return VI_MEM_OK;
}

static vi_mem_result fm_write(void *o, uint64_t pa, const void *buf, size_t len)
{
    fuzz_mem *m = o;

    m->accesses++;
    if (!in_window(m, pa, len)) {
        return VI_MEM_ABORT;
    }
    memcpy(m->buf + (pa - FUZZ_BASE), buf, len);
    return VI_MEM_OK;
}

static vi_mem_result fm_cmpxchg(void *o, uint64_t pa, uint64_t *exp, uint64_t des,
                                bool *swapped)
{
    fuzz_mem *m = o;
    uint64_t cur;

    m->accesses++;
    *swapped = false;
    if (!in_window(m, pa, 8)) {
        return VI_MEM_ABORT;
    }
    cur = vi_le64_to_cpu(m->buf + (pa - FUZZ_BASE));
    if (cur == *exp) {
        vi_cpu_to_le64(m->buf + (pa - FUZZ_BASE), des);
        *swapped = true;
    }
    *exp = cur;
    return VI_MEM_OK;
}

static const vi_mem_ops fuzz_ops = { fm_read, fm_write, fm_cmpxchg };

static uint64_t get64(const uint8_t *p)
{
    return vi_le64_to_cpu(p);
}

static void check(bool ok, const vi_pt_result *r, const vi_fault *f, fuzz_mem *m,
                  unsigned max_accesses)
{
    if (m->accesses > max_accesses) {
        abort();                        /* a walk that is not bounded */
    }
    if (ok) {
        if (!r->size || (r->size & (r->size - 1)) || r->size < 0x1000) {
            abort();
        }
        if (r->perm & ~VI_PERM_ALL) {
            abort();
        }
    } else if (f->kind == VI_FAULT_NONE || (f->stage != 1 && f->stage != 2)) {
        abort();
    }
    m->accesses = 0;
}

static const vi_armv8_granule gran[4] = { VI_ARMV8_4K, VI_ARMV8_16K, VI_ARMV8_64K, VI_ARMV8_4K };
static const uint8_t oas[8] = { 32, 36, 40, 42, 44, 48, 52, 47 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vi_armv8_s1_cfg c1;
    vi_armv8_s2_cfg c2;
    vi_armv8_s1 s1;
    vi_armv8_s2 s2;
    fuzz_mem fm;
    vi_mem mem = { &fuzz_ops, &fm };
    vi_pt_result r;
    vi_fault f;
    uint64_t in;
    uint32_t acc;
    bool s1_ok, s2_ok, ok;
    static vi_iotlb *tlb;

    if (size < PARAMS) {
        return 0;
    }
    if (!tlb) {
        tlb = vi_iotlb_new(64);
    }
    memset(&c1, 0, sizeof(c1));
    memset(&c2, 0, sizeof(c2));
    /* Table bases are offsets into the image (plus random high bits). */
    c1.tt[0].ttb = FUZZ_BASE + (get64(data) & 0xffff) + ((get64(data) >> 60) << 44);
    c1.tt[1].ttb = FUZZ_BASE + (get64(data + 8) & 0xffff);
    c2.ttb = FUZZ_BASE + (get64(data + 16) & 0xffff);
    in = get64(data + 24);
    c1.tt[0].tsz = data[32] & 63;
    c1.tt[1].tsz = data[33] & 63;
    c1.tt[0].granule = gran[data[34] & 3];
    c1.tt[1].granule = gran[(data[34] >> 2) & 3];
    c1.tt[0].epd = data[34] & 0x10;
    c1.tt[1].epd = data[34] & 0x20;
    c1.tt[0].tbi = data[34] & 0x40;
    c1.tt[1].hpd = data[34] & 0x80;
    c1.oas = oas[data[35] & 7];
    c1.ha = data[35] & 0x08;
    c1.hd = data[35] & 0x10;
    c1.affd = data[35] & 0x20;
    c1.wxn = data[35] & 0x40;
    c1.lva = data[35] & 0x80;
    c2.tsz = data[36] & 63;
    c2.sl0 = (data[36] >> 6) & 3;
    c2.granule = gran[data[37] & 3];
    c2.oas = oas[(data[37] >> 2) & 7];
    c2.ha = data[37] & 0x20;
    c2.hd = data[37] & 0x40;
    c2.xnx = data[37] & 0x80;
    c2.affd = data[38] & 1;
    c2.ttst = data[38] & 2;
    c1.ttst = data[38] & 4;
    acc = data[39] & 15;

    /* The memory image: exactly the remaining bytes, in a buffer of its own. */
    fm.len = size - PARAMS;
    fm.buf = malloc(fm.len ? fm.len : 1);
    if (!fm.buf) {
        return 0;
    }
    memcpy(fm.buf, data + PARAMS, fm.len);
    fm.accesses = 0;

    s1_ok = vi_armv8_s1_prepare(&c1, &s1) == VI_ARMV8_CFG_OK;
    s2_ok = vi_armv8_s2_prepare(&c2, &s2) == VI_ARMV8_CFG_OK;
    /* Unprepared configurations must fault too, never crash. */
    if (!s1_ok) {
        memset(&s1, 0, sizeof(s1));
    }
    if (!s2_ok) {
        memset(&s2, 0, sizeof(s2));
    }
    /* One stage: <= 6 fetches, each with <= 8 update attempts + translation. */
    ok = vi_armv8_s1_translate(&s1, &mem, in, acc, &r, &f);
    check(ok, &r, &f, &fm, 6 * 10);
    ok = vi_armv8_s2_translate(&s2, &mem, in, acc, &r, &f);
    check(ok, &r, &f, &fm, 6 * 10);
    ok = vi_armv8_nested_translate(&s1, &s2, &mem, in, acc, &r, &f);
    check(ok, &r, &f, &fm, 6 * 10 * 6 * 10 * 2);
    if (ok) {
        vi_iotlb_tag tag = { .sid = data[0], .asid = data[1], .vmid = data[2],
                             .stage = VI_IOTLB_NESTED };
        vi_iotlb_entry e;
        vi_iotlb_scope sc = { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_IPA,
                              .tag.vmid = data[2], .addr = r.ipa, .len = data[3] };

        vi_iotlb_insert(tlb, &tag, in, &r, -1);
        if (vi_iotlb_lookup(tlb, &tag, in, &e) && vi_iotlb_entry_out(&e, in) != r.out) {
            abort();
        }
        vi_iotlb_invalidate(tlb, &sc);
        if (vi_iotlb_lookup(tlb, &tag, in, &e)) {
            abort();                    /* the IPA scope must have removed it */
        }
        if (vi_iotlb_count(tlb) > vi_iotlb_capacity(tlb)) {
            abort();
        }
    }
    free(fm.buf);
    return 0;
}
