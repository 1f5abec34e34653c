/*
 * libFuzzer target for the page-table walkers of both IOMMUs (VMSAv8-64
 * stage 1, stage 2, nested; x86 first stage, VT-d second stage, nested) and
 * the IOTLB: arbitrary memory contents and walk parameters.
 *
 * Input: 48 bytes of parameters, then the guest memory image, mapped at
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
#define PARAMS      48

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

/*
 * The VT-d walkers on the same image: first stage, second stage, nested.
 * Parameters 40..47: FS / SS table offsets, levels, widths and flags,
 * clamped to what the device can configure (the configurations it cannot
 * express are the decoders' business: fuzz-cfg).
 */
static void fuzz_x86(const uint8_t *data, const vi_mem *mem, fuzz_mem *fm, uint64_t in,
                     uint32_t acc)
{
    static const uint8_t aw[4] = { 39, 48, 57, 48 };
    vi_x86_fs_cfg fs = {
        .ptptr = FUZZ_BASE + (get64(data + 40) & 0xffff),
        .levels = (data[44] & 1) ? 5 : 4,
        .haw = (uint8_t)(32 + data[46] % 21),
        .fl1gp = data[44] & 2,
        .wpe = data[44] & 4,
        .eafe = data[44] & 8,
    };
    vi_vtd_ss_cfg ss = {
        .ptptr = FUZZ_BASE + ((get64(data + 40) >> 16) & 0xffff),
        .aw_bits = aw[data[45] & 3],
        .haw = (uint8_t)(32 + data[47] % 21),
        .sllps = (data[45] >> 2) & 3,
        .slee = data[45] & 0x10,
        .slade = data[45] & 0x20,
    };
    vi_pt_result r;
    vi_fault f;
    unsigned s2_fetches;
    bool ok;

    if (data[44] & 0x10) {
        fs.ptptr |= (get64(data + 40) >> 32) << 40;     /* maybe beyond the HAW */
    }
    ok = vi_x86_fs_translate(&fs, mem, in, acc, &r, &f);
    check(ok, &r, &f, fm, 6 * 10);
    ok = vi_vtd_ss_translate(&ss, mem, in, acc, &r, &f);
    check(ok, &r, &f, fm, 6 * 10);
    ok = vi_vtd_nested_translate(&fs, &ss, mem, in, acc, &r, &f, &s2_fetches);
    /* Each first-stage fetch and the output: one second-stage walk each. */
    if (s2_fetches > 6 * 10 + 1) {
        abort();
    }
    check(ok, &r, &f, fm, 6 * 10 * 6 * 10 * 2);
}

/* ------------------------------------------------------------------------
 * Invalidation: whatever the IOTLB's fast paths (set probes by address),
 * every entry a scope covers by the rules of iotlb.h is gone afterwards.
 * The rules are written again here, from the header, not from iotlb.c.
 */

#define TLB_RECS    16
#define TLB_REC     24

typedef struct tlb_rec {
    vi_iotlb_tag tag;
    uint64_t iova;
    vi_pt_result r;
    int s2_level;
    bool live;
} tlb_rec;

/* Does the block [base, base + 2^shift) overlap [a, a + len) (len 0: 1 byte)? */
static bool block_overlaps(uint64_t base, unsigned shift, uint64_t a, uint64_t len)
{
    uint64_t last = base + ((1ull << shift) - 1), alast = a + (len ? len - 1 : 0);

    if (alast < a) {
        alast = UINT64_MAX;
    }
    return base <= alast && a <= last;
}

static bool scope_covers(const vi_iotlb_scope *sc, const tlb_rec *e)
{
    unsigned shift = (unsigned)__builtin_ctzll(e->r.size);
    uint64_t base = e->iova & ~(e->r.size - 1), ipa = e->r.ipa & ~(e->r.size - 1);
    bool ranged = sc->match & (VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA);

    if (sc->stages && !(sc->stages & (1u << e->tag.stage))) {
        return false;
    }
    if (((sc->match & VI_IOTLB_M_SID) && e->tag.sid != sc->tag.sid) ||
        ((sc->match & VI_IOTLB_M_VMID) && e->tag.vmid != sc->tag.vmid)) {
        return false;
    }
    if (sc->match & (VI_IOTLB_M_ASID | VI_IOTLB_M_SSID)) {
        if (e->r.global && !sc->tagged_global) {
            if (!ranged) {
                return false;           /* kept by ASID / PASID-selective */
            }
        } else if (((sc->match & VI_IOTLB_M_ASID) && e->tag.asid != sc->tag.asid) ||
                   ((sc->match & VI_IOTLB_M_SSID) && e->tag.ssid != sc->tag.ssid)) {
            return false;
        }
    }
    if (sc->match & VI_IOTLB_M_ADDR) {
        if (!block_overlaps(base, shift, sc->addr, sc->len) ||
            ((sc->match & VI_IOTLB_M_LEVEL) && e->r.level != sc->level)) {
            return false;
        }
    }
    if (sc->match & VI_IOTLB_M_IPA) {
        int l2 = e->s2_level >= 0 ? e->s2_level : e->r.level;

        if (e->tag.stage == VI_IOTLB_STAGE1 ||
            !block_overlaps(e->tag.stage == VI_IOTLB_STAGE2 ? base : ipa, shift,
                            sc->addr, sc->len) ||
            ((sc->match & VI_IOTLB_M_LEVEL) && l2 != sc->level)) {
            return false;
        }
    }
    return true;
}

/* Entries and a scope from the image: few distinct tag values, so they collide. */
static void fuzz_iotlb(const uint8_t *p, size_t len)
{
    vi_iotlb *tlb = vi_iotlb_new(64);
    tlb_rec rec[TLB_RECS];
    vi_iotlb_scope sc;
    vi_iotlb_stats st;
    unsigned n = 0;
    uint32_t removed, covered = 0;

    if (!tlb || len < TLB_REC) {
        vi_iotlb_free(tlb);
        return;
    }
    memset(&sc, 0, sizeof(sc));
    sc.match = p[0] & (VI_IOTLB_M_SID | VI_IOTLB_M_SSID | VI_IOTLB_M_ASID | VI_IOTLB_M_VMID |
                       VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA | VI_IOTLB_M_LEVEL);
    sc.tag = (vi_iotlb_tag) { .sid = p[1] & 3, .ssid = (p[1] >> 2) & 3,
                              .asid = (p[1] >> 4) & 3, .vmid = p[1] >> 6 };
    sc.addr = get64(p + 8) & 0x3ffffffffull;
    sc.len = get64(p + 16) >> (p[2] & 63);
    sc.level = (int8_t)(p[3] & 3);
    sc.stages = (p[3] >> 2) & 0xe;
    sc.tagged_global = p[3] & 0x40;
    p += TLB_REC;
    len -= TLB_REC;
    for (; n < TLB_RECS && len >= TLB_REC; p += TLB_REC, len -= TLB_REC) {
        tlb_rec *e = &rec[n];

        memset(e, 0, sizeof(*e));
        e->tag = (vi_iotlb_tag) { .sid = p[0] & 3, .ssid = (p[0] >> 2) & 3,
                                  .asid = (p[0] >> 4) & 3, .vmid = p[0] >> 6,
                                  .stage = (uint8_t)(1 + p[1] % 3) };
        e->r.size = 1ull << (12 + p[2] % 19);           /* 4K .. 1G */
        e->iova = get64(p + 8) & 0x3ffffffffull;
        e->r.out = get64(p + 16) & ~(e->r.size - 1) & 0xffffffffffull;
        e->r.ipa = e->tag.stage == VI_IOTLB_NESTED ?
                   (get64(p + 16) >> 24) & 0x3ffffffffull : 0;
        e->r.perm = VI_PERM_R | VI_PERM_W;
        e->r.level = (int8_t)(p[3] & 3);
        e->r.global = e->tag.stage != VI_IOTLB_STAGE2 && (p[1] & 0x80);
        e->s2_level = e->tag.stage == VI_IOTLB_NESTED ? (p[3] >> 2) & 3 : -1;
        if (!vi_iotlb_insert(tlb, &e->tag, e->iova, &e->r, e->s2_level)) {
            abort();                    /* every record is a valid translation */
        }
        /* The same tag and block replaces an older entry. */
        for (unsigned i = 0; i < n; i++) {
            if (!memcmp(&rec[i].tag, &e->tag, sizeof(e->tag)) &&
                rec[i].r.size == e->r.size &&
                (rec[i].iova & ~(e->r.size - 1)) == (e->iova & ~(e->r.size - 1))) {
                rec[i].live = false;
            }
        }
        e->live = true;
        n++;
    }
    removed = vi_iotlb_invalidate(tlb, &sc);
    for (unsigned i = 0; i < n; i++) {
        vi_iotlb_entry hit;

        if (!rec[i].live || !scope_covers(&sc, &rec[i])) {
            continue;
        }
        covered++;
        if (vi_iotlb_lookup(tlb, &rec[i].tag, rec[i].iova, &hit) &&
            hit.iova == (rec[i].iova & ~(rec[i].r.size - 1)) &&
            (1ull << hit.size_shift) == rec[i].r.size) {
            abort();                    /* covered by the scope, still cached */
        }
    }
    /* A full set evicts (hashes of similar tags collide): those are gone too. */
    vi_iotlb_get_stats(tlb, &st);
    if (removed + st.evictions < covered || vi_iotlb_count(tlb) + removed > n) {
        abort();
    }
    vi_iotlb_free(tlb);
}

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
    fuzz_x86(data, &mem, &fm, in, acc);
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
    fuzz_iotlb(data + PARAMS, size - PARAMS);
    free(fm.buf);
    return 0;
}
