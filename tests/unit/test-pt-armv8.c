/*
 * Unit tests of the VMSAv8-64 stage-1 and stage-2 walkers, on real tables
 * built in a fake memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/pt-armv8.h"

#define RW_PRIV (VI_ACC_R | VI_ACC_W | VI_ACC_PRIV)
#define RD_PRIV (VI_ACC_R | VI_ACC_PRIV)

static const vi_armv8_granule granules[] = { VI_ARMV8_4K, VI_ARMV8_16K, VI_ARMV8_64K };

/* A stage-1 config with only TTB0 enabled. */
static vi_armv8_s1_cfg s1_cfg(vi_armv8_granule g, unsigned tsz, uint64_t ttb0)
{
    vi_armv8_s1_cfg c;

    memset(&c, 0, sizeof(c));
    c.tt[0].ttb = ttb0;
    c.tt[0].tsz = (uint8_t)tsz;
    c.tt[0].granule = g;
    c.tt[1].epd = true;
    c.oas = 48;
    return c;
}

/* Start level and start bits the architecture gives a stage-1 range. */
static void s1_geometry(unsigned g, unsigned ia, int *start, unsigned *bits)
{
    unsigned stride = g - 3, levels = (ia - g + stride - 1) / stride;

    *start = 4 - (int)levels;
    *bits = ia - (g + stride * (levels - 1));
}

static void prepare_s1(const vi_armv8_s1_cfg *c, vi_armv8_s1 *s1)
{
    g_assert_cmpint(vi_armv8_s1_prepare(c, s1), ==, VI_ARMV8_CFG_OK);
}

typedef struct s1_env {
    fake_mem *fm;
    ptb m;
    vi_armv8_s1_cfg cfg;
    vi_armv8_s1 s1;
} s1_env;

static void s1_env_init(s1_env *e, vi_armv8_granule g, unsigned tsz)
{
    int start;
    unsigned bits;

    e->fm = fake_mem_new();
    s1_geometry(g, 64 - tsz, &start, &bits);
    ptb_init_armv8(&e->m, fake_mem_builder_ops(e->fm), g, start, bits, 0);
    e->cfg = s1_cfg(g, tsz, ptb_root(&e->m));
    prepare_s1(&e->cfg, &e->s1);
}

static void s1_env_free(s1_env *e)
{
    fake_mem_free(e->fm);
}

static bool s1_xlate(s1_env *e, uint64_t va, uint32_t acc, vi_pt_result *r, vi_fault *f)
{
    return vi_armv8_s1_translate(&e->s1, fake_mem_vi(e->fm), va, acc, r, f);
}

static void expect_fault(bool ok, const vi_fault *f, vi_fault_kind kind, int level)
{
    g_assert_false(ok);
    g_assert_cmpstr(vi_fault_kind_name(f->kind), ==, vi_fault_kind_name(kind));
    if (level != 99) {
        g_assert_cmpint(f->level, ==, level);
    }
}

/* Every granule, every leaf level the granule allows, 48-bit VA. */
static void test_s1_levels(void)
{
    for (unsigned gi = 0; gi < 3; gi++) {
        vi_armv8_granule g = granules[gi];
        for (int level = 0; level <= 3; level++) {
            s1_env e;
            vi_pt_result r;
            vi_fault f;
            uint64_t va = 0x0000123456789abcull, out = 0x0000876543210000ull;
            unsigned shift;
            bool block_ok = level == 3 || (g == VI_ARMV8_4K && (level == 1 || level == 2)) ||
                            (g != VI_ARMV8_4K && level == 2);
            bool ok;

            s1_env_init(&e, g, 16);
            if (level < e.m.start_level) {
                s1_env_free(&e);
                continue;
            }
            shift = ptb_shift(&e.m, level);
            ptb_map(&e.m, va, out, level, PTB_ARMV8_AF);
            fake_mem_reset_stats(e.fm);
            ok = s1_xlate(&e, va, RD_PRIV, &r, &f);
            if (!block_ok) {
                expect_fault(ok, &f, VI_FAULT_TRANSLATION, level);
                g_assert_cmpuint(f.stage, ==, 1);
                g_assert_cmphex(f.addr, ==, va);
                s1_env_free(&e);
                continue;
            }
            g_assert_true(ok);
            g_assert_cmpuint(r.size, ==, 1ull << shift);
            g_assert_cmphex(r.out, ==, (out & ~((1ull << shift) - 1)) |
                            (va & ((1ull << shift) - 1)));
            g_assert_cmpint(r.level, ==, level);
            g_assert_true(r.global);
            g_assert_cmpuint(fake_mem_reads(e.fm), ==, (unsigned)(level - e.m.start_level + 1));
            /* A neighbouring address in an unmapped slot faults at the leaf level. */
            ok = s1_xlate(&e, va ^ (1ull << shift), RD_PRIV, &r, &f);
            expect_fault(ok, &f, VI_FAULT_TRANSLATION, level);
            s1_env_free(&e);
        }
    }
}

/* Different TxSZ give the architected start level and table size. */
static void test_s1_tsz_start_levels(void)
{
    for (unsigned gi = 0; gi < 3; gi++) {
        for (unsigned tsz = 16; tsz <= 39; tsz++) {
            s1_env e;
            vi_pt_result r;
            vi_fault f;
            uint64_t va = 0x0000fedcba987654ull & ((1ull << (64 - tsz)) - 1);
            uint64_t top = (1ull << (64 - tsz));

            s1_env_init(&e, granules[gi], tsz);
            g_assert_cmpint(e.s1.tt[0].start_level, ==, e.m.start_level);
            g_assert_cmpuint(e.s1.tt[0].start_bits, ==, e.m.start_bits);
            ptb_map(&e.m, va, 0x40000000, 3, PTB_ARMV8_AF);
            g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
            g_assert_cmphex(r.out, ==, 0x40000000 | (va & ((1ull << granules[gi]) - 1)));
            /* The first address above the range faults without a fetch. */
            if (64 - tsz < 55) {
                fake_mem_reset_stats(e.fm);
                expect_fault(s1_xlate(&e, va | top, RD_PRIV, &r, &f), &f,
                             VI_FAULT_TRANSLATION, 99);
                g_assert_cmpuint(fake_mem_reads(e.fm), ==, 0);
            }
            s1_env_free(&e);
        }
    }
}

/* TTB0 / TTB1 selection by VA[55], the sign-extension check and TBI. */
static void test_s1_ttbr_split(void)
{
    fake_mem *fm = fake_mem_new();
    ptb m0, m1;
    vi_armv8_s1_cfg c;
    vi_armv8_s1 s1;
    vi_pt_result r;
    vi_fault f;
    const vi_mem *mem = fake_mem_vi(fm);
    uint64_t lo = 0x0000000012345000ull, hi = 0xffffff8012345000ull;

    ptb_init_armv8(&m0, fake_mem_builder_ops(fm), VI_ARMV8_4K, 1, 9, 0);        /* 39-bit, 4K */
    ptb_init_armv8(&m1, fake_mem_builder_ops(fm), VI_ARMV8_64K, 2, 10, 0);      /* 39-bit... 64K: 3 levels? */
    /* 64K with 39-bit: (39 - 16) / 13 -> 2 levels, start level 2 with 10 bits. */
    c = s1_cfg(VI_ARMV8_4K, 25, ptb_root(&m0));
    c.tt[1].epd = false;
    c.tt[1].ttb = ptb_root(&m1);
    c.tt[1].tsz = 25;
    c.tt[1].granule = VI_ARMV8_64K;
    prepare_s1(&c, &s1);
    g_assert_cmpint(s1.tt[1].start_level, ==, 2);
    g_assert_cmpuint(s1.tt[1].start_bits, ==, 10);
    ptb_map(&m0, lo, 0x1000000, 3, PTB_ARMV8_AF);
    ptb_map(&m1, hi, 0x2000000, 3, PTB_ARMV8_AF);

    g_assert_true(vi_armv8_s1_translate(&s1, mem, lo + 0x123, RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, 0x1000123);
    g_assert_cmpuint(r.size, ==, 0x1000);
    g_assert_true(vi_armv8_s1_translate(&s1, mem, hi + 0x123, RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, 0x2005123);    /* 64K page: hi bits 15:12 = 5 */
    g_assert_cmpuint(r.size, ==, 0x10000);
    /* Not sign-extended: translation fault. */
    expect_fault(vi_armv8_s1_translate(&s1, mem, lo | (1ull << 40), RD_PRIV, &r, &f), &f,
                 VI_FAULT_TRANSLATION, 99);
    expect_fault(vi_armv8_s1_translate(&s1, mem, hi & ~(1ull << 60), RD_PRIV, &r, &f), &f,
                 VI_FAULT_TRANSLATION, 99);
    /* Top byte: checked without TBI, ignored with it. */
    expect_fault(vi_armv8_s1_translate(&s1, mem, lo | (0x5aull << 56), RD_PRIV, &r, &f),
                 &f, VI_FAULT_TRANSLATION, 99);
    c.tt[0].tbi = true;
    c.tt[1].tbi = true;
    prepare_s1(&c, &s1);
    g_assert_true(vi_armv8_s1_translate(&s1, mem, lo | (0x5aull << 56), RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, 0x1000000);
    g_assert_true(vi_armv8_s1_translate(&s1, mem, (hi & ~(0xffull << 56)) | (0x11ull << 56),
                                        RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, 0x2005000);
    /* EPD0 / EPD1: translation fault, no fetch. */
    c.tt[0].epd = true;
    prepare_s1(&c, &s1);
    fake_mem_reset_stats(fm);
    expect_fault(vi_armv8_s1_translate(&s1, mem, lo, RD_PRIV, &r, &f), &f,
                 VI_FAULT_TRANSLATION, 99);
    g_assert_true(vi_armv8_s1_translate(&s1, mem, hi, RD_PRIV, &r, &f));
    c.tt[0].epd = false;
    c.tt[1].epd = true;
    prepare_s1(&c, &s1);
    expect_fault(vi_armv8_s1_translate(&s1, mem, hi, RD_PRIV, &r, &f), &f,
                 VI_FAULT_TRANSLATION, 99);
    g_assert_true(vi_armv8_s1_translate(&s1, mem, lo, RD_PRIV, &r, &f));
    g_assert_cmpuint(fake_mem_reads(fm), ==, 5);
    fake_mem_free(fm);
}

typedef struct perm_case {
    uint64_t leaf;          /* extra leaf bits */
    uint64_t table;         /* bits set in the level-2 table descriptor */
    bool hpd, wxn;
    uint32_t perm;          /* expected VI_PERM_* */
    bool pan, one_el;
} perm_case;

#define AP1 VI_ARMV8_DESC_AP1
#define AP2 VI_ARMV8_DESC_AP2
#define PXN VI_ARMV8_DESC_PXN
#define UXN VI_ARMV8_DESC_UXN
#define P_R VI_PERM_R
#define P_W VI_PERM_W
#define P_X VI_PERM_X
#define P_UR VI_PERM_UR
#define P_UW VI_PERM_UW
#define P_UX VI_PERM_UX

static const perm_case perm_cases[] = {
    { 0, 0, false, false, P_R | P_W | P_X | P_UX },
    { AP1, 0, false, false, P_R | P_W | P_UR | P_UW | P_UX },      /* EL0 writable -> PXN */
    { AP2, 0, false, false, P_R | P_X | P_UX },
    { AP1 | AP2, 0, false, false, P_R | P_UR | P_X | P_UX },
    { AP1 | AP2 | PXN, 0, false, false, P_R | P_UR | P_UX },
    { AP1 | AP2 | UXN, 0, false, false, P_R | P_UR | P_X },
    { PXN | UXN, 0, false, false, P_R | P_W },
    /* WXN: writable at EL1 is execute-never at EL1 and EL0 (issue 10 item 9). */
    { 0, 0, false, true, P_R | P_W },
    { AP1, 0, false, true, P_R | P_W | P_UR | P_UW },
    { AP2, 0, false, true, P_R | P_X | P_UX },
    /* PAN: no privileged data access to EL0-accessible pages; fetches unaffected. */
    { AP1, 0, false, false, P_UR | P_UW | P_UX, true },
    { AP1 | AP2, 0, false, false, P_UR | P_X | P_UX, true },
    { 0, 0, false, false, P_R | P_W | P_X | P_UX, true },
    { AP1 | AP2, 0, false, true, P_UR | P_X | P_UX, true },
    /* One Exception level (EL2 without E2H): AP[1], PXN, APTable[0] unused. */
    { AP1, 0, false, false, P_R | P_W | P_X | P_UR | P_UW | P_UX, false, true },
    { AP2 | PXN, 0, false, false, P_R | P_X | P_UR | P_UX, false, true },
    { UXN, 0, false, false, P_R | P_W | P_UR | P_UW, false, true },
    { 0, 0, false, true, P_R | P_W | P_UR | P_UW, false, true },
    { AP1, VI_ARMV8_DESC_APTABLE0, false, false, P_R | P_W | P_X | P_UR | P_UW | P_UX,
      true, true },
    { AP1, VI_ARMV8_DESC_APTABLE0, false, false, P_R | P_W | P_X | P_UX },
    { AP1, VI_ARMV8_DESC_APTABLE1, false, false, P_R | P_UR | P_X | P_UX },
    { AP1 | AP2, VI_ARMV8_DESC_PXNTABLE, false, false, P_R | P_UR | P_UX },
    { AP1 | AP2, VI_ARMV8_DESC_UXNTABLE, false, false, P_R | P_UR | P_X },
    { AP1 | AP2, VI_ARMV8_DESC_UXNTABLE | VI_ARMV8_DESC_PXNTABLE, true, false,
      P_R | P_UR | P_X | P_UX },                                   /* HPD */
    { AP1, VI_ARMV8_DESC_APTABLE0 | VI_ARMV8_DESC_APTABLE1, true, false,
      P_R | P_W | P_UR | P_UW | P_UX },
};

static void test_s1_permissions(void)
{
    static const uint32_t accs[] = {
        VI_ACC_R | VI_ACC_PRIV, VI_ACC_W | VI_ACC_PRIV, VI_ACC_X | VI_ACC_PRIV,
        VI_ACC_R, VI_ACC_W, VI_ACC_X, VI_ACC_R | VI_ACC_W,
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(perm_cases); i++) {
        const perm_case *pc = &perm_cases[i];
        s1_env e;
        uint64_t va = 0x7f0000201000ull;

        s1_env_init(&e, VI_ARMV8_4K, 16);
        e.cfg.tt[0].hpd = pc->hpd;
        e.cfg.wxn = pc->wxn;
        e.cfg.pan = pc->pan;
        e.cfg.one_el = pc->one_el;
        prepare_s1(&e.cfg, &e.s1);
        ptb_map(&e.m, va, 0x80000000, 3, PTB_ARMV8_AF | pc->leaf);
        ptb_table_bits(&e.m, va, 2, pc->table);
        for (unsigned a = 0; a < G_N_ELEMENTS(accs); a++) {
            vi_pt_result r;
            vi_fault f;
            bool ok = s1_xlate(&e, va, accs[a], &r, &f);

            if (vi_perm_allows(pc->perm, accs[a])) {
                g_assert_true(ok);
                g_assert_cmphex(r.perm, ==, pc->perm);
            } else {
                expect_fault(ok, &f, VI_FAULT_PERMISSION, 3);
                g_assert_cmphex(f.access, ==, accs[a]);
            }
        }
        s1_env_free(&e);
    }
}

/* AF = 0: fault; AFFD: no fault; HA: set with a compare-and-swap. */
static void test_s1_access_flag(void)
{
    s1_env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t va = 0x40201000, pte;

    s1_env_init(&e, VI_ARMV8_16K, 20);
    pte = ptb_map(&e.m, va, 0x90000000, 2, 0);
    expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_ACCESS, 2);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & PTB_ARMV8_AF, ==, 0);

    e.cfg.affd = true;
    prepare_s1(&e.cfg, &e.s1);
    g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & PTB_ARMV8_AF, ==, 0);

    e.cfg.affd = false;
    e.cfg.ha = true;
    prepare_s1(&e.cfg, &e.s1);
    /* A permission fault does not set AF. */
    fake_mem_poke64(e.fm, pte, fake_mem_peek64(e.fm, pte) | AP2);
    expect_fault(s1_xlate(&e, va, RW_PRIV, &r, &f), &f, VI_FAULT_PERMISSION, 2);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & PTB_ARMV8_AF, ==, 0);
    fake_mem_reset_stats(e.fm);
    g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & PTB_ARMV8_AF, ==, PTB_ARMV8_AF);
    g_assert_cmpuint(fake_mem_get_stats(e.fm)->cmpxchgs, ==, 1);
    /* Already set: no further update. */
    g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
    g_assert_cmpuint(fake_mem_get_stats(e.fm)->cmpxchgs, ==, 1);
    s1_env_free(&e);
}

/* Dirty state: DBM + HD turns a write to a read-only entry into AP[2] clear. */
static void test_s1_dirty(void)
{
    s1_env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t va = 0x1000, pte;

    s1_env_init(&e, VI_ARMV8_4K, 25);
    pte = ptb_map(&e.m, va, 0x5000, 3, AP2 | VI_ARMV8_DESC_DBM);
    e.cfg.ha = true;
    prepare_s1(&e.cfg, &e.s1);
    /* HD off: write is a permission fault. */
    expect_fault(s1_xlate(&e, va, RW_PRIV, &r, &f), &f, VI_FAULT_PERMISSION, 3);
    e.cfg.hd = true;
    prepare_s1(&e.cfg, &e.s1);
    /* A read sets AF only and is cached without write permission. */
    g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
    g_assert_cmphex(r.perm & P_W, ==, 0);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & (AP2 | PTB_ARMV8_AF), ==, AP2 | PTB_ARMV8_AF);
    /* A user write is still not allowed (AP[1] = 0): no update. */
    expect_fault(s1_xlate(&e, va, VI_ACC_W, &r, &f), &f, VI_FAULT_PERMISSION, 3);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & AP2, ==, AP2);
    g_assert_true(s1_xlate(&e, va, RW_PRIV, &r, &f));
    g_assert_cmphex(r.perm & P_W, ==, P_W);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & AP2, ==, 0);
    /* Writable-dirty still rests on the dirty state: not to be cached for writes. */
    g_assert_true(r.dirty_tracked);
    /* Cleaned by software (AP[2] set again): the next write clears it again. */
    fake_mem_poke64(e.fm, pte, fake_mem_peek64(e.fm, pte) | AP2);
    g_assert_true(s1_xlate(&e, va, RW_PRIV, &r, &f));
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & AP2, ==, 0);
    /* Without DBM, HD does nothing. */
    fake_mem_poke64(e.fm, pte, (fake_mem_peek64(e.fm, pte) | AP2) & ~VI_ARMV8_DESC_DBM);
    expect_fault(s1_xlate(&e, va, RW_PRIV, &r, &f), &f, VI_FAULT_PERMISSION, 3);
    fake_mem_poke64(e.fm, pte, fake_mem_peek64(e.fm, pte) & ~AP2);
    g_assert_true(s1_xlate(&e, va, RW_PRIV, &r, &f));
    g_assert_false(r.dirty_tracked);
    s1_env_free(&e);
}

/* A memory whose cmpxchg loses races: the walker retries, bounded. */
typedef struct racy_mem {
    vi_mem vi;
    const vi_mem *inner;
    fake_mem *fm;
    int losses;             /* races still to lose; -1: always */
    bool abort_cas;         /* cmpxchg answers VI_MEM_ABORT */
    unsigned calls;
} racy_mem;

static vi_mem_result racy_read(void *o, uint64_t pa, void *buf, size_t len)
{
    racy_mem *rm = o;
    return vi_mem_read(rm->inner, pa, buf, len);
}

static vi_mem_result racy_write(void *o, uint64_t pa, const void *buf, size_t len)
{
    racy_mem *rm = o;
    return rm->inner->ops->write(rm->inner->opaque, pa, buf, len);
}

static vi_mem_result racy_cmpxchg(void *o, uint64_t pa, uint64_t *exp, uint64_t des,
                                  bool *swapped)
{
    racy_mem *rm = o;

    rm->calls++;
    if (rm->abort_cas) {
        return VI_MEM_ABORT;
    }
    if (rm->losses != 0) {
        /* Someone else changed an ignored bit (bit 58) meanwhile. */
        uint64_t cur = fake_mem_peek64(rm->fm, pa) ^ (1ull << 58);
        fake_mem_poke64(rm->fm, pa, cur);
        if (rm->losses > 0) {
            rm->losses--;
        }
    }
    return vi_mem_cmpxchg64(rm->inner, pa, exp, des, swapped);
}

static const vi_mem_ops racy_ops = { racy_read, racy_write, racy_cmpxchg };

static void test_s1_update_races(void)
{
    s1_env e;
    racy_mem rm;
    vi_pt_result r;
    vi_fault f;
    uint64_t va = 0x3000, pte;

    s1_env_init(&e, VI_ARMV8_4K, 25);
    e.cfg.ha = true;
    prepare_s1(&e.cfg, &e.s1);
    pte = ptb_map(&e.m, va, 0x7000, 3, 0);
    rm.vi.ops = &racy_ops;
    rm.vi.opaque = &rm;
    rm.inner = fake_mem_vi(e.fm);
    rm.fm = e.fm;
    rm.losses = 2;
    rm.calls = 0;
    rm.abort_cas = false;
    g_assert_true(vi_armv8_s1_translate(&e.s1, &rm.vi, va, RD_PRIV, &r, &f));
    g_assert_cmpuint(rm.calls, ==, 3);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & PTB_ARMV8_AF, ==, PTB_ARMV8_AF);
    /* Always losing: the walk still ends, with a fault. */
    fake_mem_poke64(e.fm, pte, fake_mem_peek64(e.fm, pte) & ~PTB_ARMV8_AF);
    rm.losses = -1;
    rm.calls = 0;
    g_assert_false(vi_armv8_s1_translate(&e.s1, &rm.vi, va, RD_PRIV, &r, &f));
    g_assert_cmpuint(rm.calls, ==, VI_PT_MAX_UPDATE_RETRIES);
    g_assert_cmpint(f.kind, ==, VI_FAULT_ACCESS);
    /* An update that aborts is an external abort. */
    rm.losses = 0;
    rm.abort_cas = true;
    g_assert_false(vi_armv8_s1_translate(&e.s1, &rm.vi, va, RD_PRIV, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_WALK_EABT);
    g_assert_cmphex(f.fetch_pa, ==, pte);
    g_assert_cmpint(f.level, ==, 3);
    s1_env_free(&e);
}

/* Output, table and TTB addresses beyond the output size. */
static void test_s1_addr_size(void)
{
    s1_env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t va = 0x200000, tpa;

    s1_env_init(&e, VI_ARMV8_4K, 16);
    e.cfg.oas = 40;
    prepare_s1(&e.cfg, &e.s1);
    ptb_map(&e.m, va, 1ull << 40, 2, PTB_ARMV8_AF);
    expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_ADDR_SIZE, 2);
    ptb_map(&e.m, va, (1ull << 40) - (1ull << 21), 2, PTB_ARMV8_AF);
    g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, (1ull << 40) - (1ull << 21));
    /* A table descriptor pointing beyond 40 bits. */
    tpa = ptb_entry(&e.m, va, 1);
    fake_mem_poke64(e.fm, tpa, fake_mem_peek64(e.fm, tpa) | (1ull << 42));
    expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_ADDR_SIZE, 1);
    /* The TTB itself. */
    e.cfg.tt[0].ttb |= 1ull << 41;
    prepare_s1(&e.cfg, &e.s1);
    fake_mem_reset_stats(e.fm);
    expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_ADDR_SIZE, 0);
    g_assert_cmpuint(fake_mem_reads(e.fm), ==, 0);
    /* 52-bit IPS with a 4K granule is 48 bits effective. */
    e.cfg = s1_cfg(VI_ARMV8_4K, 16, ptb_root(&e.m));
    e.cfg.oas = 52;
    prepare_s1(&e.cfg, &e.s1);
    g_assert_cmpuint(e.s1.tt[0].oas, ==, 48);
    s1_env_free(&e);
}

/* External abort on a table fetch, at every level. */
static void test_s1_walk_eabt(void)
{
    for (int level = 0; level <= 3; level++) {
        s1_env e;
        vi_pt_result r;
        vi_fault f;
        uint64_t va = 0x123456789000ull, epa;

        s1_env_init(&e, VI_ARMV8_4K, 16);
        ptb_map(&e.m, va, 0x1000, 3, PTB_ARMV8_AF);
        epa = ptb_entry(&e.m, va, level);
        fake_mem_set_abort(e.fm, epa, 8, true);
        expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_WALK_EABT, level);
        g_assert_cmphex(f.fetch_pa, ==, epa);
        g_assert_cmpuint(f.stage, ==, 1);
        /* Tables that are not there at all: also an external abort. */
        fake_mem_set_abort(e.fm, epa, 8, false);
        g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
        s1_env_free(&e);
    }
}

/* Invalid and reserved encodings at every level. */
static void test_s1_invalid_entries(void)
{
    for (unsigned gi = 0; gi < 3; gi++) {
        s1_env e;
        vi_pt_result r;
        vi_fault f;
        uint64_t va = 0x0000a5a5a5a5a000ull, epa;

        s1_env_init(&e, granules[gi], 16);
        ptb_map(&e.m, va, 0x1000000, 3, PTB_ARMV8_AF);
        for (int level = e.m.start_level; level <= 3; level++) {
            uint64_t old;

            epa = ptb_entry(&e.m, va, level);
            old = fake_mem_peek64(e.fm, epa);
            fake_mem_poke64(e.fm, epa, old & ~1ull);            /* invalid */
            expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_TRANSLATION, level);
            fake_mem_poke64(e.fm, epa, old & ~2ull);            /* block / reserved */
            if (level == 3 || !(level == 2 || (granules[gi] == VI_ARMV8_4K && level == 1))) {
                expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f,
                             VI_FAULT_TRANSLATION, level);
            } else {
                /* A table address read as a block (AF = 0 here): access fault. */
                expect_fault(s1_xlate(&e, va, RD_PRIV, &r, &f), &f, VI_FAULT_ACCESS, level);
            }
            fake_mem_poke64(e.fm, epa, old);
        }
        g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
        s1_env_free(&e);
    }
}

/* The contiguous hint is accepted and the entry size still reported. */
static void test_s1_contiguous(void)
{
    s1_env e;
    vi_pt_result r;
    vi_fault f;

    s1_env_init(&e, VI_ARMV8_64K, 22);
    for (unsigned i = 0; i < 32; i++) {
        ptb_map(&e.m, 0x20000000ull + i * 0x10000, 0x60000000ull + i * 0x10000, 3,
                       PTB_ARMV8_AF | VI_ARMV8_DESC_CONT);
    }
    g_assert_true(s1_xlate(&e, 0x20000000ull + 5 * 0x10000 + 4, RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, 0x60000000ull + 5 * 0x10000 + 4);
    g_assert_cmpuint(r.size, ==, 0x10000);
    s1_env_free(&e);
}

/* 52-bit VA and OA with the 64K granule, and the 4 TB level-1 block. */
static void test_s1_52bit(void)
{
    s1_env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t va = 0x000f123456789abcull, out = 0x000a876543210000ull;

    e.fm = fake_mem_new();
    ptb_init_armv8(&e.m, fake_mem_builder_ops(e.fm), VI_ARMV8_64K, 1, 10, 0);
    e.m.lpa = true;
    e.cfg = s1_cfg(VI_ARMV8_64K, 12, ptb_root(&e.m));
    e.cfg.oas = 52;
    g_assert_cmpint(vi_armv8_s1_prepare(&e.cfg, &e.s1), ==, VI_ARMV8_CFG_BAD_TSZ);
    e.cfg.lva = true;
    prepare_s1(&e.cfg, &e.s1);
    g_assert_cmpint(e.s1.tt[0].start_level, ==, 1);
    g_assert_cmpuint(e.s1.tt[0].start_bits, ==, 10);
    ptb_map(&e.m, va, out, 3, PTB_ARMV8_AF);
    g_assert_true(s1_xlate(&e, va, RD_PRIV, &r, &f));
    g_assert_cmphex(r.out, ==, out | (va & 0xffff));
    ptb_map(&e.m, 0x0008000000000000ull, out, 1, PTB_ARMV8_AF);
    g_assert_true(s1_xlate(&e, 0x0008000000001234ull, RD_PRIV, &r, &f));
    g_assert_cmpuint(r.size, ==, 1ull << 42);
    g_assert_cmphex(r.out, ==, (out & ~((1ull << 42) - 1)) | 0x1234);
    /* With a 48-bit output the level-1 block is not allowed and OA[51:48]
     * are not decoded (descriptor [15:12] ignored). */
    e.cfg.oas = 48;
    e.cfg.lva = true;
    prepare_s1(&e.cfg, &e.s1);
    expect_fault(s1_xlate(&e, 0x0008000000001234ull, RD_PRIV, &r, &f), &f,
                 VI_FAULT_TRANSLATION, 1);
    s1_env_free(&e);
}

static void test_s1_validation(void)
{
    vi_armv8_s1_cfg c = s1_cfg(VI_ARMV8_4K, 16, 0x1000);
    vi_armv8_s1 s1;

    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_OK);
    c.tt[0].tsz = 15;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_BAD_TSZ);
    c.tt[0].tsz = 40;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_BAD_TSZ);
    c.ttst = true;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_OK);
    c.tt[0].tsz = 48;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_OK);
    g_assert_cmpint(s1.tt[0].start_level, ==, 3);
    c.tt[0].tsz = 49;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_BAD_TSZ);
    c.tt[0].tsz = 16;
    c.tt[0].granule = (vi_armv8_granule)13;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_BAD_GRANULE);
    /* A disabled range is not validated. */
    c.tt[0].epd = true;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_OK);
    c.oas = 47;
    g_assert_cmpint(vi_armv8_s1_prepare(&c, &s1), ==, VI_ARMV8_CFG_BAD_OAS);
}

/* An all-zero (never prepared) configuration faults, it does not crash. */
static void test_unprepared(void)
{
    fake_mem *fm = fake_mem_new();
    vi_armv8_s1 s1;
    vi_armv8_s2 s2;
    vi_pt_result r;
    vi_fault f;

    memset(&s1, 0, sizeof(s1));
    memset(&s2, 0, sizeof(s2));
    g_assert_false(vi_armv8_s1_translate(&s1, fake_mem_vi(fm), 0x1000, RD_PRIV, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_BAD_CONFIG);
    g_assert_false(vi_armv8_s2_translate(&s2, fake_mem_vi(fm), 0x1000, RD_PRIV, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_BAD_CONFIG);
    fake_mem_free(fm);
}

/* ---- stage 2 ---- */

typedef struct sl_case {
    vi_armv8_granule g;
    unsigned tsz, sl0;
    bool ttst;
    vi_armv8_cfg_err err;
    int start;
    unsigned bits;
} sl_case;

static const sl_case sl_cases[] = {
    /* 4K */
    { VI_ARMV8_4K, 16, 2, false, VI_ARMV8_CFG_OK, 0, 9 },
    { VI_ARMV8_4K, 24, 2, false, VI_ARMV8_CFG_OK, 0, 1 },     /* 40 bits from level 0 */
    { VI_ARMV8_4K, 25, 2, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 0, 0 },
    { VI_ARMV8_4K, 24, 1, false, VI_ARMV8_CFG_OK, 1, 10 },    /* 2 concatenated */
    { VI_ARMV8_4K, 21, 1, false, VI_ARMV8_CFG_OK, 1, 13 },    /* 16 concatenated */
    { VI_ARMV8_4K, 20, 1, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 1, 0 },   /* 32: too many */
    { VI_ARMV8_4K, 25, 1, false, VI_ARMV8_CFG_OK, 1, 9 },
    { VI_ARMV8_4K, 33, 1, false, VI_ARMV8_CFG_OK, 1, 1 },
    { VI_ARMV8_4K, 34, 1, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 1, 0 },
    { VI_ARMV8_4K, 30, 0, false, VI_ARMV8_CFG_OK, 2, 13 },
    { VI_ARMV8_4K, 29, 0, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 2, 0 },
    { VI_ARMV8_4K, 39, 0, false, VI_ARMV8_CFG_OK, 2, 4 },
    { VI_ARMV8_4K, 39, 3, false, VI_ARMV8_CFG_BAD_SL0, 0, 0 },
    { VI_ARMV8_4K, 42, 3, true, VI_ARMV8_CFG_OK, 3, 10 },
    /* 16K */
    { VI_ARMV8_16K, 16, 2, false, VI_ARMV8_CFG_OK, 1, 12 },   /* 2 concatenated */
    { VI_ARMV8_16K, 17, 2, false, VI_ARMV8_CFG_OK, 1, 11 },
    { VI_ARMV8_16K, 16, 1, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 2, 0 },
    { VI_ARMV8_16K, 22, 1, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 2, 0 },
    { VI_ARMV8_16K, 30, 1, false, VI_ARMV8_CFG_OK, 2, 9 },
    { VI_ARMV8_16K, 26, 0, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 3, 0 },
    { VI_ARMV8_16K, 36, 0, false, VI_ARMV8_CFG_OK, 3, 14 },   /* 8 concatenated */
    { VI_ARMV8_16K, 16, 3, false, VI_ARMV8_CFG_BAD_SL0, 0, 0 },
    /* 64K */
    { VI_ARMV8_64K, 16, 2, false, VI_ARMV8_CFG_OK, 1, 6 },
    { VI_ARMV8_64K, 16, 1, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 2, 0 },
    { VI_ARMV8_64K, 22, 1, false, VI_ARMV8_CFG_OK, 2, 13 },
    { VI_ARMV8_64K, 22, 0, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 3, 0 },
    { VI_ARMV8_64K, 25, 0, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 3, 0 },
    { VI_ARMV8_64K, 32, 0, false, VI_ARMV8_CFG_OK, 3, 16 },   /* 8 concatenated */
    { VI_ARMV8_64K, 31, 0, false, VI_ARMV8_CFG_OK, 3, 17 },   /* 16 concatenated */
    { VI_ARMV8_64K, 30, 0, false, VI_ARMV8_CFG_BAD_SL0_TSZ, 3, 0 },
    { VI_ARMV8_64K, 16, 3, false, VI_ARMV8_CFG_BAD_SL0, 0, 0 },
};

static void test_s2_sl0_tsz(void)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(sl_cases); i++) {
        const sl_case *c = &sl_cases[i];
        vi_armv8_s2_cfg cfg;
        vi_armv8_s2 s2;
        vi_armv8_cfg_err err;

        memset(&cfg, 0, sizeof(cfg));
        cfg.granule = c->g;
        cfg.tsz = (uint8_t)c->tsz;
        cfg.sl0 = (uint8_t)c->sl0;
        cfg.ttst = c->ttst;
        cfg.oas = 48;
        err = vi_armv8_s2_prepare(&cfg, &s2);
        if (err != c->err) {
            g_test_message("case %u: %s", i, vi_armv8_cfg_err_name(err));
        }
        g_assert_cmpint(err, ==, c->err);
        if (err == VI_ARMV8_CFG_OK) {
            g_assert_cmpint(s2.tt.start_level, ==, c->start);
            g_assert_cmpuint(s2.tt.start_bits, ==, c->bits);
        }
    }
}

typedef struct s2_env {
    fake_mem *fm;
    ptb m;
    vi_armv8_s2_cfg cfg;
    vi_armv8_s2 s2;
} s2_env;

static void s2_env_init(s2_env *e, vi_armv8_granule g, unsigned tsz, unsigned sl0)
{
    e->fm = fake_mem_new();
    memset(&e->cfg, 0, sizeof(e->cfg));
    e->cfg.granule = g;
    e->cfg.tsz = (uint8_t)tsz;
    e->cfg.sl0 = (uint8_t)sl0;
    e->cfg.oas = 48;
    g_assert_cmpint(vi_armv8_s2_prepare(&e->cfg, &e->s2), ==, VI_ARMV8_CFG_OK);
    ptb_init_armv8(&e->m, fake_mem_builder_ops(e->fm), g, e->s2.tt.start_level, e->s2.tt.start_bits, 0);
    e->cfg.ttb = ptb_root(&e->m);
    g_assert_cmpint(vi_armv8_s2_prepare(&e->cfg, &e->s2), ==, VI_ARMV8_CFG_OK);
}

static bool s2_xlate(s2_env *e, uint64_t ipa, uint32_t acc, vi_pt_result *r, vi_fault *f)
{
    return vi_armv8_s2_translate(&e->s2, fake_mem_vi(e->fm), ipa, acc, r, f);
}

#define S2_RW (AP1 | AP2 | PTB_ARMV8_AF)

/* Concatenated start tables: every one of them is used. */
static void test_s2_concatenated(void)
{
    static const struct { vi_armv8_granule g; unsigned tsz, sl0, ntables; } cases[] = {
        { VI_ARMV8_4K, 24, 1, 2 }, { VI_ARMV8_4K, 21, 1, 16 }, { VI_ARMV8_4K, 30, 0, 16 },
        { VI_ARMV8_16K, 16, 2, 2 }, { VI_ARMV8_16K, 36, 0, 8 },
        { VI_ARMV8_64K, 32, 0, 8 }, { VI_ARMV8_64K, 31, 0, 16 }, { VI_ARMV8_64K, 22, 1, 1 },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        s2_env e;
        unsigned ia = 64 - cases[i].tsz;

        s2_env_init(&e, cases[i].g, cases[i].tsz, cases[i].sl0);
        for (unsigned t = 0; t < cases[i].ntables; t++) {
            /* An address in each concatenated table, near its end. */
            uint64_t per = 1ull << (ia - __builtin_ctz(cases[i].ntables)) ;
            uint64_t ipa = t * per + per - (1ull << cases[i].g) + 0x18;
            vi_pt_result r;
            vi_fault f;

            ptb_map(&e.m, ipa, 0x100000000ull + (uint64_t)t * 0x1000000, 3, S2_RW);
            if (!s2_xlate(&e, ipa, RD_PRIV, &r, &f)) {
                g_test_message("case %u table %u ipa %" G_GINT64_MODIFIER "x: %s level %d",
                               i, t, ipa, vi_fault_kind_name(f.kind), f.level);
            }
            g_assert_true(s2_xlate(&e, ipa, RD_PRIV, &r, &f));
            g_assert_cmphex(r.out, ==, 0x100000000ull + (uint64_t)t * 0x1000000 + 0x18);
            /* Every concatenated table is a distinct page of the start table. */
            g_assert_cmphex(ptb_entry(&e.m, ipa, e.m.start_level) - e.m.root, >=,
                            (uint64_t)t << e.cfg.granule);
        }
        /* Beyond the IPA size: translation fault, no fetch. */
        {
            vi_pt_result r;
            vi_fault f;
            fake_mem_reset_stats(e.fm);
            expect_fault(s2_xlate(&e, 1ull << ia, RD_PRIV, &r, &f), &f,
                         VI_FAULT_TRANSLATION, 99);
            g_assert_cmpuint(f.stage, ==, 2);
            g_assert_cmphex(f.ipa, ==, 1ull << ia);
            g_assert_cmpuint(fake_mem_reads(e.fm), ==, 0);
        }
        fake_mem_free(e.fm);
    }
}

/* Stage-2 leaves at every level, every granule. */
static void test_s2_levels(void)
{
    for (unsigned gi = 0; gi < 3; gi++) {
        vi_armv8_granule g = granules[gi];
        unsigned sl0 = g == VI_ARMV8_4K ? 2 : 2;     /* start at level 0 (4K) / 1 */
        s2_env e;

        s2_env_init(&e, g, g == VI_ARMV8_16K ? 17 : 16, sl0);
        for (int level = e.m.start_level; level <= 3; level++) {
            uint64_t ipa = 0x0000123456789000ull + ((uint64_t)level << 40);
            unsigned shift = ptb_shift(&e.m, level);
            bool block_ok = level == 3 || level == 2 || (g == VI_ARMV8_4K && level == 1);
            vi_pt_result r;
            vi_fault f;
            bool ok;

            if (!ptb_map(&e.m, ipa, 0x0000400000000000ull, level, S2_RW)) {
                continue;
            }
            ok = s2_xlate(&e, ipa, RW_PRIV, &r, &f);
            if (!block_ok) {
                expect_fault(ok, &f, VI_FAULT_TRANSLATION, level);
                continue;
            }
            g_assert_true(ok);
            g_assert_cmpuint(r.size, ==, 1ull << shift);
            g_assert_cmphex(r.out, ==, 0x0000400000000000ull | (ipa & ((1ull << shift) - 1)));
        }
        fake_mem_free(e.fm);
    }
}

static void test_s2_permissions(void)
{
    static const struct { uint64_t bits; bool xnx; uint32_t perm; } cases[] = {
        { 0, false, P_X | P_UX },
        { AP1, false, P_R | P_UR | P_X | P_UX },
        { AP2, false, P_W | P_UW | P_X | P_UX },
        { AP1 | AP2 | UXN, false, P_R | P_UR | P_W | P_UW },
        { AP1 | PXN, false, P_R | P_UR | P_X | P_UX },        /* XN[0] ignored w/o XNX */
        { AP1 | PXN, true, P_R | P_UR | P_UX },                /* 01: EL1 XN */
        { AP1 | UXN, true, P_R | P_UR },                       /* 10: both XN */
        { AP1 | UXN | PXN, true, P_R | P_UR | P_X },           /* 11: EL0 XN */
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        s2_env e;
        vi_pt_result r;
        vi_fault f;
        uint32_t accs[] = { RD_PRIV, VI_ACC_W, VI_ACC_X | VI_ACC_PRIV, VI_ACC_X };

        s2_env_init(&e, VI_ARMV8_4K, 24, 1);
        e.cfg.xnx = cases[i].xnx;
        g_assert_cmpint(vi_armv8_s2_prepare(&e.cfg, &e.s2), ==, VI_ARMV8_CFG_OK);
        ptb_map(&e.m, 0x5000, 0x9000, 3, PTB_ARMV8_AF | cases[i].bits);
        for (unsigned a = 0; a < G_N_ELEMENTS(accs); a++) {
            bool ok = s2_xlate(&e, 0x5000, accs[a], &r, &f);
            if (vi_perm_allows(cases[i].perm, accs[a])) {
                g_assert_true(ok);
                g_assert_cmphex(r.perm, ==, cases[i].perm);
            } else {
                expect_fault(ok, &f, VI_FAULT_PERMISSION, 3);
                g_assert_cmpuint(f.stage, ==, 2);
                g_assert_cmphex(f.ipa, ==, 0x5000);
            }
        }
        fake_mem_free(e.fm);
    }
}

static void test_s2_af_dirty_addr_size(void)
{
    s2_env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t pte;

    s2_env_init(&e, VI_ARMV8_64K, 24, 1);
    pte = ptb_map(&e.m, 0x30000, 0x50000, 3, AP1 | VI_ARMV8_DESC_DBM);
    expect_fault(s2_xlate(&e, 0x30000, RD_PRIV, &r, &f), &f, VI_FAULT_ACCESS, 3);
    e.cfg.ha = true;
    e.cfg.hd = true;
    g_assert_cmpint(vi_armv8_s2_prepare(&e.cfg, &e.s2), ==, VI_ARMV8_CFG_OK);
    g_assert_true(s2_xlate(&e, 0x30000, RD_PRIV, &r, &f));
    g_assert_cmphex(r.perm & P_W, ==, 0);
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & (AP2 | PTB_ARMV8_AF), ==, PTB_ARMV8_AF);
    g_assert_true(s2_xlate(&e, 0x30000, RW_PRIV, &r, &f));
    g_assert_cmphex(fake_mem_peek64(e.fm, pte) & AP2, ==, AP2);
    g_assert_true(r.dirty_tracked);
    /* Output beyond PS. */
    e.cfg.oas = 36;
    g_assert_cmpint(vi_armv8_s2_prepare(&e.cfg, &e.s2), ==, VI_ARMV8_CFG_OK);
    ptb_map(&e.m, 0x30000, 1ull << 36, 3, S2_RW);
    expect_fault(s2_xlate(&e, 0x30000, RD_PRIV, &r, &f), &f, VI_FAULT_ADDR_SIZE, 3);
    g_assert_cmpuint(f.stage, ==, 2);
    fake_mem_free(e.fm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/armv8/s1/levels", test_s1_levels);
    g_test_add_func("/armv8/s1/tsz-start-levels", test_s1_tsz_start_levels);
    g_test_add_func("/armv8/s1/ttbr-split-tbi-epd", test_s1_ttbr_split);
    g_test_add_func("/armv8/s1/permissions", test_s1_permissions);
    g_test_add_func("/armv8/s1/access-flag", test_s1_access_flag);
    g_test_add_func("/armv8/s1/dirty", test_s1_dirty);
    g_test_add_func("/armv8/s1/update-races", test_s1_update_races);
    g_test_add_func("/armv8/s1/addr-size", test_s1_addr_size);
    g_test_add_func("/armv8/s1/walk-eabt", test_s1_walk_eabt);
    g_test_add_func("/armv8/s1/invalid-entries", test_s1_invalid_entries);
    g_test_add_func("/armv8/s1/contiguous", test_s1_contiguous);
    g_test_add_func("/armv8/s1/52bit", test_s1_52bit);
    g_test_add_func("/armv8/s1/validation", test_s1_validation);
    g_test_add_func("/armv8/unprepared", test_unprepared);
    g_test_add_func("/armv8/s2/sl0-tsz", test_s2_sl0_tsz);
    g_test_add_func("/armv8/s2/concatenated", test_s2_concatenated);
    g_test_add_func("/armv8/s2/levels", test_s2_levels);
    g_test_add_func("/armv8/s2/permissions", test_s2_permissions);
    g_test_add_func("/armv8/s2/af-dirty-addr-size", test_s2_af_dirty_addr_size);
    return g_test_run();
}
