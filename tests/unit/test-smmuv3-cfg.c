/*
 * Tests of the SMMUv3 configuration lookup and decoding (smmuv3-cfg.c):
 * stream tables and CD tables built in fake memory, every legal
 * configuration decoded to the right fields, every illegal value to the
 * right event.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/smmuv3-cfg.h"
#include "hw/viommu/core/cfg-cache.h"

/* Put value v in bits [hi:lo] of *w (test-side encoder, independent of the
 * decoder's macros so a wrong macro shows up). */
static void setf(uint64_t *w, unsigned hi, unsigned lo, uint64_t v)
{
    uint64_t m = ((hi == 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);

    *w = (*w & ~m) | ((v << lo) & m);
}

static void poke_words(fake_mem *fm, uint64_t pa, const uint64_t *w, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        fake_mem_poke64(fm, pa + 8 * i, w[i]);
    }
}

static vi_smmu_caps caps_all(void)
{
    vi_smmu_caps c;

    vi_smmu_caps_default(&c);
    c.gran16k = true;
    return c;
}

/* A valid S2 part: 4K granule, 40-bit IPA (T0SZ 24), SL0 1 (level 1). */
static void ste_set_s2(uint64_t *ste, uint64_t ttb)
{
    setf(&ste[2], 15, 0, 0x1234);   /* VMID */
    setf(&ste[2], 37, 32, 24);      /* T0SZ */
    setf(&ste[2], 39, 38, 1);       /* SL0 */
    setf(&ste[2], 41, 40, 1);       /* IR0 */
    setf(&ste[2], 43, 42, 2);       /* OR0 */
    setf(&ste[2], 45, 44, 3);       /* SH0 */
    setf(&ste[2], 47, 46, 0);       /* TG 4K */
    setf(&ste[2], 50, 48, 5);       /* PS 48 */
    setf(&ste[2], 51, 51, 1);       /* AA64 */
    setf(&ste[3], 51, 4, ttb >> 4);
}

static void ste_make(uint64_t *ste, unsigned config)
{
    memset(ste, 0, 8 * sizeof(*ste));
    setf(&ste[0], 0, 0, 1);
    setf(&ste[0], 3, 1, config);
}

/* A valid CD: 4K TG0, T0SZ 16, TTB1 disabled, ASID 0xabcd, IPS 48. */
static void cd_make(uint64_t *cd, uint64_t ttb0)
{
    memset(cd, 0, 8 * sizeof(*cd));
    setf(&cd[0], 5, 0, 16);
    setf(&cd[0], 7, 6, 0);          /* TG0 4K */
    setf(&cd[0], 30, 30, 1);        /* EPD1 */
    setf(&cd[0], 31, 31, 1);        /* V */
    setf(&cd[0], 34, 32, 5);        /* IPS 48 */
    setf(&cd[0], 41, 41, 1);        /* AA64 */
    setf(&cd[0], 46, 46, 1);        /* A */
    setf(&cd[0], 63, 48, 0xabcd);
    setf(&cd[1], 51, 4, ttb0 >> 4);
    cd[3] = 0x44ff04ull;
}

static int ste_dec(const vi_smmu_caps *c, const uint64_t *ste, vi_smmu_ste *out)
{
    vi_smmu_cfg_fault f = { .event = 0xff };
    int r = vi_smmu_ste_decode(c, ste, out, &f);

    g_assert_cmpint(r, ==, f.event);
    return r;
}

static int cd_dec(const vi_smmu_caps *c, const uint64_t *cd, vi_smmu_cd *out)
{
    vi_smmu_cfg_fault f = { .event = 0xff };
    int r = vi_smmu_cd_decode(c, NULL, cd, out, &f);

    g_assert_cmpint(r, ==, f.event);
    return r;
}

/* ------------------------------------------------------------------------ */

static void test_strtab_linear(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    vi_smmu_caps c = caps_all();
    uint64_t base = fake_mem_alloc(fm, 64 * 256, 4096), ste[8], got[8];
    uint32_t cfg = 8;               /* LOG2SIZE 8, FMT linear */
    vi_smmu_cfg_fault f;

    for (unsigned sid = 0; sid < 256; sid += 51) {
        ste_make(ste, VI_SMMU_STE_CFG_BYPASS);
        ste[7] = 0x1000 + sid;
        poke_words(fm, base + 64 * sid, ste, 8);
    }
    for (unsigned sid = 0; sid < 256; sid += 51) {
        g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base | VI_SMMU_STRTAB_BASE_RA, cfg,
                                          sid, got, &f), ==, 0);
        g_assert_cmpint(f.event, ==, 0);
        g_assert_cmpuint(got[7], ==, 0x1000 + sid);
        g_assert_cmpuint(got[0], ==, 9);
    }
    /* Out of the table. */
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, cfg, 256, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, cfg, 0xffffffffu, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    /* LOG2SIZE above SIDSIZE is capped at SIDSIZE. */
    c.sidsize = 4;
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, 20, 16, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, 20, 15, got, &f), ==, 0);
    c.sidsize = 16;
    /* Reserved FMT. */
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, cfg | (2u << 16), 0, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    /* External abort on the STE: F_STE_FETCH with the STE address. */
    fake_mem_set_abort(fm, base + 0x1000, 0x1000, true);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, cfg, 70, got, &f), ==,
                    VI_SMMU_EVT_F_STE_FETCH);
    g_assert_cmpuint(f.addr, ==, base + 70 * 64);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, cfg, 63, got, &f), ==, 0);
    /* Table beyond mapped memory: also an abort. */
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, base, 16, 0x1000, got, &f), ==,
                    VI_SMMU_EVT_F_STE_FETCH);
    fake_mem_free(fm);
}

static void test_strtab_2lvl(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    vi_smmu_caps c = caps_all();
    uint64_t l1 = fake_mem_alloc(fm, 4096, 4096);
    uint64_t l2a = fake_mem_alloc(fm, 64 * 256, 4096);    /* span 9: 256 STEs */
    uint64_t l2b = fake_mem_alloc(fm, 64 * 4, 4096);      /* span 3: 4 STEs */
    uint32_t cfg = 16 | (8u << 6) | (1u << 16);           /* 2^16 SIDs, split 8 */
    uint64_t got[8], ste[8];
    vi_smmu_cfg_fault f;

    fake_mem_poke64(fm, l1 + 8 * 1, l2a | 9);
    fake_mem_poke64(fm, l1 + 8 * 2, l2b | 3);
    fake_mem_poke64(fm, l1 + 8 * 3, l2a | 0);            /* span 0: invalid */
    fake_mem_poke64(fm, l1 + 8 * 4, l2a | 10);           /* span > split+1 */
    ste_make(ste, VI_SMMU_STE_CFG_BYPASS);
    ste[6] = 0xaaa;
    poke_words(fm, l2a + 64 * 0x37, ste, 8);
    ste[6] = 0xbbb;
    poke_words(fm, l2b + 64 * 3, ste, 8);

    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x137, got, &f), ==, 0);
    g_assert_cmpuint(got[6], ==, 0xaaa);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x203, got, &f), ==, 0);
    g_assert_cmpuint(got[6], ==, 0xbbb);
    /* Beyond the L2 span. */
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x204, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    /* Invalid L1 descriptors. */
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x300, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x400, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x000, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    /* Beyond LOG2SIZE. */
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x10000, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    /* Abort on the L1 descriptor: F_STE_FETCH at the L1 descriptor. */
    fake_mem_set_abort(fm, l1, 4096, true);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x137, got, &f), ==,
                    VI_SMMU_EVT_F_STE_FETCH);
    g_assert_cmpuint(f.addr, ==, l1 + 8);
    fake_mem_set_abort(fm, l1, 4096, false);
    /* Abort on the L2 STE. */
    fake_mem_set_abort(fm, l2b, 4096, true);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x201, got, &f), ==,
                    VI_SMMU_EVT_F_STE_FETCH);
    g_assert_cmpuint(f.addr, ==, l2b + 64);
    fake_mem_set_abort(fm, l2b, 4096, false);
    /* Reserved SPLIT 7 behaves as 6: L1 index = sid >> 6. */
    fake_mem_poke64(fm, l1 + 8 * 5, l2b | 3);
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, (cfg & ~(0x1fu << 6)) | (7u << 6),
                                      (5 << 6) | 3, got, &f), ==, 0);
    g_assert_cmpuint(got[6], ==, 0xbbb);
    /* No 2-level support. */
    c.st_2lvl = false;
    g_assert_cmpint(vi_smmu_ste_fetch(m, &c, l1, cfg, 0x137, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    fake_mem_free(fm);
}

static void test_ste_config(void)
{
    vi_smmu_caps c = caps_all();
    uint64_t ste[8];
    vi_smmu_ste s;

    /* V = 0 */
    ste_make(ste, VI_SMMU_STE_CFG_BYPASS);
    ste[0] &= ~1ull;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    /* Reserved Config values. */
    for (unsigned cf = 1; cf <= 3; cf++) {
        ste_make(ste, cf);
        g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    }
    /* Abort: nothing else checked. */
    ste_make(ste, VI_SMMU_STE_CFG_ABORT);
    ste[2] = ~0ull;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.config, ==, VI_SMMU_STE_CFG_ABORT);
    g_assert_false(s.s1_enabled || s.s2_enabled);
    /* Bypass: attributes decoded, S1/S2 fields not checked. */
    ste_make(ste, VI_SMMU_STE_CFG_BYPASS);
    setf(&ste[1], 35, 32, 0xf);     /* MemAttr */
    setf(&ste[1], 36, 36, 1);       /* MTCFG */
    setf(&ste[1], 40, 37, 0xa);     /* ALLOCCFG */
    setf(&ste[1], 45, 44, 2);       /* SHCFG */
    setf(&ste[1], 49, 48, 3);       /* PRIVCFG */
    setf(&ste[1], 51, 50, 2);       /* INSTCFG */
    setf(&ste[2], 47, 46, 3);       /* reserved TG: ignored */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.config, ==, VI_SMMU_STE_CFG_BYPASS);
    g_assert_cmpuint(s.memattr, ==, 0xf);
    g_assert_cmpuint(s.mtcfg, ==, 1);
    g_assert_cmpuint(s.alloccfg, ==, 0xa);
    g_assert_cmpuint(s.shcfg, ==, 2);
    g_assert_cmpuint(s.privcfg, ==, 3);
    g_assert_cmpuint(s.instcfg, ==, 2);
    /* Stage not implemented. */
    ste_make(ste, VI_SMMU_STE_CFG_S1);
    c.s1 = false;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c = caps_all();
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x80000);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    c.s2 = false;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    ste_make(ste, VI_SMMU_STE_CFG_NESTED);
    ste_set_s2(ste, 0x80000);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
}

static void test_ste_s1(void)
{
    vi_smmu_caps c = caps_all();
    uint64_t ste[8];
    vi_smmu_ste s;

    ste_make(ste, VI_SMMU_STE_CFG_S1);
    setf(&ste[0], 5, 4, 2);             /* S1Fmt 2-level 64K */
    ste[0] = (ste[0] & ~VI_MASK(51, 6)) | 0x12345678c0ull;
    setf(&ste[0], 63, 59, 12);          /* S1CDMax */
    setf(&ste[1], 1, 0, 2);             /* S1DSS substream0 */
    setf(&ste[1], 3, 2, 1);
    setf(&ste[1], 5, 4, 2);
    setf(&ste[1], 7, 6, 3);
    setf(&ste[1], 19, 19, 1);           /* MEV */
    setf(&ste[1], 31, 30, 0);
    setf(&ste[2], 15, 0, 0x3456);       /* VMID still tags S1-only */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s1_enabled);
    g_assert_false(s.s2_enabled);
    g_assert_cmpuint(s.s1_ctxptr, ==, 0x12345678c0ull);
    g_assert_cmpuint(s.s1_fmt, ==, VI_SMMU_S1FMT_2LVL_64K);
    g_assert_cmpuint(s.s1_cdmax, ==, 12);
    g_assert_cmpuint(s.s1_dss, ==, VI_SMMU_S1DSS_SUBSTREAM0);
    g_assert_cmpuint(s.s1_cir, ==, 1);
    g_assert_cmpuint(s.s1_cor, ==, 2);
    g_assert_cmpuint(s.s1_csh, ==, 3);
    g_assert_cmpuint(s.strw, ==, VI_SMMU_STRW_EL1);
    g_assert_cmpuint(s.s2.vmid, ==, 0x3456);
    g_assert_false(s.mev);              /* no IDR3.MEV */
    c.mev = true;
    c.vmid16 = false;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.mev);
    g_assert_cmpuint(s.s2.vmid, ==, 0x56);
    c = caps_all();

    /* S1CDMax beyond SSIDSIZE. */
    c.ssidsize = 11;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c = caps_all();
    /* Reserved S1Fmt / S1DSS, and 2-level without CD2L. */
    setf(&ste[0], 5, 4, 3);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[0], 5, 4, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    c.cd_2lvl = false;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c = caps_all();
    setf(&ste[1], 1, 0, 3);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    /* With S1CDMax == 0, S1Fmt and S1DSS are ignored. */
    setf(&ste[0], 5, 4, 3);
    setf(&ste[0], 63, 59, 0);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.s1_fmt, ==, VI_SMMU_S1FMT_LINEAR);
    g_assert_cmpuint(s.s1_cdmax, ==, 0);
    setf(&ste[0], 5, 4, 0);
    setf(&ste[1], 1, 0, 0);

    /* S1ContextPtr beyond the OAS with stage 2 bypassed. */
    ste[0] = (ste[0] & ~VI_MASK(51, 6)) | (1ull << 48);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.oas = 52;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    c.oas = 48;
    /* ... but it is an IPA with stage 2 enabled. */
    setf(&ste[0], 3, 1, VI_SMMU_STE_CFG_NESTED);
    ste_set_s2(ste, 0x40000);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.s1_ctxptr, ==, 1ull << 48);
    /* STRW ignored with stage 2 enabled. */
    setf(&ste[1], 31, 30, 3);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.strw, ==, VI_SMMU_STRW_EL1);
    setf(&ste[0], 3, 1, VI_SMMU_STE_CFG_S1);
    ste[0] &= ~VI_MASK(51, 6);
    /* STRW: EL2 needs Hyp, 0b01 and 0b11 are reserved. */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[1], 31, 30, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[1], 31, 30, 2);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.hyp = true;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.strw, ==, VI_SMMU_STRW_EL2);
    setf(&ste[1], 31, 30, 0);
    /* S1STALLD with stall forced. */
    setf(&ste[1], 27, 27, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s1_stalld);
    c.stall_model = VI_SMMU_STALL_MODEL_FORCED;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.stall_model = VI_SMMU_STALL_MODEL_TERM;
    setf(&ste[1], 27, 27, 0);
    /*
     * EATS: ignored without ATS; with it, 0b11 (DPT, not implemented) behaves
     * as 0b00 and split-stage is checked.
     */
    setf(&ste[1], 29, 28, 3);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.eats, ==, 0);
    c.ats = true;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.eats, ==, VI_SMMU_EATS_ABORT);
    setf(&ste[1], 29, 28, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.eats, ==, VI_SMMU_EATS_TRANS);
    setf(&ste[1], 29, 28, 2);
    c.ats_s1chk = true;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE); /* not nested */
    setf(&ste[0], 3, 1, VI_SMMU_STE_CFG_NESTED);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.eats, ==, VI_SMMU_EATS_S1CHK);
    c.ats_s1chk = false;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
}

typedef struct s2_case {
    unsigned tg, tsz, sl0;
    bool valid;
    int start;
    unsigned concat;
} s2_case;

static void test_ste_s2(void)
{
    /* TG coding: 0 4K, 1 64K, 2 16K. */
    static const s2_case cases[] = {
        { 0, 24, 1, true, 1, 2 },   /* 4K 40-bit from level 1: 2 tables */
        { 0, 25, 1, true, 1, 1 },   /* 4K 39-bit from level 1 */
        { 0, 16, 2, true, 0, 1 },   /* 4K 48-bit from level 0 */
        { 0, 16, 1, false, 0, 0 },  /* 4K 48-bit from level 1: 512 tables */
        { 0, 22, 1, true, 1, 8 },   /* 4K 42-bit from level 1: 8 tables */
        { 0, 23, 1, true, 1, 4 },   /* 4K 41-bit from level 1: 4 tables */
        { 0, 21, 1, true, 1, 16 },  /* 4K 43-bit from level 1: 16 tables */
        { 0, 20, 1, false, 0, 0 },  /* 44 bits from level 1: 32 tables */
        { 0, 32, 0, true, 2, 4 },   /* 4K 32-bit from level 2: 4 tables */
        { 0, 33, 2, false, 0, 0 },  /* 31 bits from level 0: level 0 unused */
        { 0, 39, 0, true, 2, 1 },   /* 4K 25-bit from level 2 */
        { 0, 40, 0, false, 0, 0 },  /* T0SZ 40 needs small tables */
        { 0, 15, 2, false, 0, 0 },  /* 49 bits: beyond 48 */
        { 0, 32, 3, false, 0, 0 },  /* SL0 3 with 4K needs small tables */
        { 1, 16, 2, true, 1, 1 },   /* 64K 48-bit from level 1 */
        { 1, 22, 1, true, 2, 1 },   /* 64K 42-bit from level 2 */
        { 1, 24, 0, false, 0, 0 },  /* 64K 40-bit from level 3: 2^11 tables */
        { 1, 33, 0, true, 3, 4 },   /* 64K 31-bit from level 3: 4 tables */
        { 1, 30, 0, false, 0, 0 },  /* 64K 34-bit from level 3: 32 tables */
        { 1, 16, 3, false, 0, 0 },  /* reserved SL0 */
        { 2, 16, 2, true, 1, 2 },   /* 16K 48-bit from level 1: 2 tables */
        { 2, 27, 1, true, 2, 2 },   /* 16K 37-bit from level 2: 2 tables */
        { 2, 16, 3, false, 0, 0 },  /* 16K level 0 reserved here */
        { 3, 24, 1, false, 0, 0 },  /* reserved TG */
    };
    vi_smmu_caps c = caps_all();
    uint64_t ste[8];
    vi_smmu_ste s;

    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        const s2_case *k = &cases[i];

        ste_make(ste, VI_SMMU_STE_CFG_S2);
        ste_set_s2(ste, 0x7654321000ull);
        setf(&ste[2], 47, 46, k->tg);
        setf(&ste[2], 37, 32, k->tsz);
        setf(&ste[2], 39, 38, k->sl0);
        if (g_test_verbose()) {
            g_test_message("case %u", i);
        }
        if (!k->valid) {
            g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
            continue;
        }
        g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
        g_assert_cmpint(s.s2.start_level, ==, k->start);
        g_assert_cmpuint(s.s2.concat, ==, k->concat);
        g_assert_cmpuint(s.s2.tsz, ==, k->tsz);
        g_assert_cmpuint(s.s2.granule_shift, ==, k->tg == 0 ? 12 : k->tg == 1 ? 16 : 14);
        /* The walker accepts it and agrees on the geometry. */
        {
            vi_armv8_s2_cfg wc;
            vi_armv8_s2 w;

            vi_smmu_ste_to_armv8_s2(&c, &s, &wc);
            g_assert_cmpint(vi_armv8_s2_prepare(&wc, &w), ==, VI_ARMV8_CFG_OK);
            g_assert_cmpint(w.tt.start_level, ==, k->start);
            g_assert_cmpuint(w.tt.pgshift, ==, s.s2.granule_shift);
            g_assert_cmpuint(w.tt.ia, ==, 64 - k->tsz);
            if (k->concat > 1) {
                g_assert_cmpuint(w.tt.start_bits, ==,
                                 (s.s2.granule_shift - 3) + g_bit_nth_lsf(k->concat, -1));
            } else {
                g_assert_cmpuint(w.tt.start_bits, <=, s.s2.granule_shift - 3);
            }
        }
    }

    /* Small translation tables allow T0SZ 40+ and 4K SL0 = 3 (level 3). */
    c.ttst = true;
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x1000);
    setf(&ste[2], 37, 32, 44);
    setf(&ste[2], 39, 38, 3);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpint(s.s2.start_level, ==, 3);
    g_assert_cmpuint(s.s2.concat, ==, 1);
    setf(&ste[2], 37, 32, 49);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c = caps_all();

    /*
     * 52-bit IPA (64K granule, OAS 52): accepted with S2PS 52 -- and then
     * the walker takes it -- refused with a smaller S2PS, which the walker
     * could not set up.
     */
    c.oas = 52;
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x10000);
    setf(&ste[2], 47, 46, 1);       /* 64K */
    setf(&ste[2], 37, 32, 12);
    setf(&ste[2], 39, 38, 2);       /* level 1 */
    setf(&ste[2], 50, 48, 6);       /* PS 52 */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpint(s.s2.start_level, ==, 1);
    {
        vi_armv8_s2_cfg wc;
        vi_armv8_s2 w;

        vi_smmu_ste_to_armv8_s2(&c, &s, &wc);
        g_assert_cmpint(vi_armv8_s2_prepare(&wc, &w), ==, VI_ARMV8_CFG_OK);
        g_assert_cmpint(w.tt.start_level, ==, 1);
    }
    setf(&ste[2], 50, 48, 5);       /* PS 48 */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[2], 37, 32, 16);      /* 48-bit IPA: fine with PS 48 */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    c = caps_all();

    /* Full field decode. */
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0xfedcba9870ull);
    setf(&ste[2], 53, 53, 1);       /* AFFD */
    setf(&ste[2], 54, 54, 1);       /* PTW */
    setf(&ste[2], 55, 55, 1);       /* HD */
    setf(&ste[2], 56, 56, 1);       /* HA */
    setf(&ste[2], 58, 58, 1);       /* R */
    setf(&ste[1], 25, 25, 1);       /* S2FWB */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s2_enabled);
    g_assert_false(s.s1_enabled);
    g_assert_cmpuint(s.s2.ttb, ==, 0xfedcba9870ull);
    g_assert_cmpuint(s.s2.vmid, ==, 0x1234);
    g_assert_cmpuint(s.s2.oas, ==, 48);
    g_assert_cmpuint(s.s2.irgn, ==, 1);
    g_assert_cmpuint(s.s2.orgn, ==, 2);
    g_assert_cmpuint(s.s2.sh, ==, 3);
    g_assert_true(s.s2.affd && s.s2.ptw && s.s2.record);
    g_assert_false(s.s2.ha || s.s2.hd || s.s2.fwb || s.s2.stall || s.s2.endi);
    c.httu_a = true;
    c.s2fwb = true;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s2.ha && s.s2.fwb);
    g_assert_false(s.s2.hd);
    c.httu_d = true;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s2.hd);
    /* PS capped at OAS; a small PS is kept. */
    setf(&ste[2], 50, 48, 6);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.s2.oas, ==, 48);
    setf(&ste[2], 50, 48, 2);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_cmpuint(s.s2.oas, ==, 40);
    /* AArch32 tables. */
    setf(&ste[2], 51, 51, 0);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[2], 51, 51, 1);
    /* Big-endian tables on a little-endian-only SMMU. */
    setf(&ste[2], 52, 52, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.ttendian = VI_SMMU_TTENDIAN_MIXED;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s2.endi);
    c.ttendian = VI_SMMU_TTENDIAN_BE;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    setf(&ste[2], 52, 52, 0);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.ttendian = VI_SMMU_TTENDIAN_LE;
    /* Unsupported granule. */
    setf(&ste[2], 47, 46, 2);       /* 16K, T0SZ 24 SL0 1 -> level 2, 2 tables */
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    c.gran16k = false;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.gran16k = true;
    setf(&ste[2], 47, 46, 0);
    /* IPA larger than the OAS. */
    c.oas = 36;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.oas = 48;
    /* S2S: illegal without stall support, forced with forced stall. */
    setf(&ste[2], 57, 57, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    c.stall_model = VI_SMMU_STALL_MODEL_BOTH;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s2.stall);
    setf(&ste[2], 57, 57, 0);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_false(s.s2.stall);
    /* S2S with EATS is ILLEGAL (5.2). */
    c.ats = true;
    setf(&ste[2], 57, 57, 1);
    setf(&ste[1], 29, 28, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[1], 29, 28, 0);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    c.ats = false;
    setf(&ste[2], 57, 57, 0);
    /* Stalls forced: S2S = 0 is ILLEGAL, S2S = 1 stalls (IHI 0070 5.5). */
    c.stall_model = VI_SMMU_STALL_MODEL_FORCED;
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[2], 57, 57, 1);
    g_assert_cmpint(ste_dec(&c, ste, &s), ==, 0);
    g_assert_true(s.s2.stall);
}

static void test_select_cd(void)
{
    vi_smmu_ste s = { 0 };
    vi_smmu_s1_sel sel;
    vi_smmu_cfg_fault f;
    uint32_t idx;

    s.s1_enabled = true;
    /* No substreams. */
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, false, 0, &sel, &idx, &f), ==, 0);
    g_assert_cmpint(sel, ==, VI_SMMU_S1_SEL_CD);
    g_assert_cmpuint(idx, ==, 0);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 0, &sel, &idx, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    /* 16 substreams. */
    s.s1_cdmax = 4;
    s.s1_dss = VI_SMMU_S1DSS_TERMINATE;
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 15, &sel, &idx, &f), ==, 0);
    g_assert_cmpuint(idx, ==, 15);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 0, &sel, &idx, &f), ==, 0);
    g_assert_cmpuint(idx, ==, 0);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 16, &sel, &idx, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(f.event, ==, VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 0xffffffffu, &sel, &idx, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, false, 0, &sel, &idx, &f), ==,
                    VI_SMMU_EVT_F_STREAM_DISABLED);
    s.s1_dss = VI_SMMU_S1DSS_BYPASS;
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, false, 0, &sel, &idx, &f), ==, 0);
    g_assert_cmpint(sel, ==, VI_SMMU_S1_SEL_BYPASS);
    s.s1_dss = VI_SMMU_S1DSS_SUBSTREAM0;
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, false, 0, &sel, &idx, &f), ==, 0);
    g_assert_cmpint(sel, ==, VI_SMMU_S1_SEL_CD);
    g_assert_cmpuint(idx, ==, 0);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 0, &sel, &idx, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(vi_smmu_ste_select_cd(&s, true, 1, &sel, &idx, &f), ==, 0);
    g_assert_cmpuint(idx, ==, 1);
}

static void test_cd_table(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    uint64_t lin = fake_mem_alloc(fm, 64 * 16, 4096);
    uint64_t l1 = fake_mem_alloc(fm, 8 * 64, 4096);
    uint64_t l2a = fake_mem_alloc(fm, 4096, 4096);
    uint64_t l2b = fake_mem_alloc(fm, 65536, 65536);
    uint64_t cd[8], got[8];
    vi_smmu_caps caps = caps_all();
    vi_smmu_ste s = { 0 };
    vi_smmu_cfg_fault f;

    s.s1_enabled = true;
    /* Linear, 16 CDs. */
    s.s1_ctxptr = lin;
    s.s1_cdmax = 4;
    for (unsigned i = 0; i < 16; i++) {
        cd_make(cd, 0x1000 * i);
        poke_words(fm, lin + 64 * i, cd, 8);
    }
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, 9, got, &f), ==, 0);
    g_assert_cmpuint(got[1], ==, 0x9000);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, 16, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);

    /* 2-level, 4K leaves (64 CDs each), S1CDMax 12: L1 index = ssid >> 6. */
    s.s1_ctxptr = l1;
    s.s1_cdmax = 12;
    s.s1_fmt = VI_SMMU_S1FMT_2LVL_4K;
    fake_mem_poke64(fm, l1 + 8 * 3, l2a | 1);
    fake_mem_poke64(fm, l1 + 8 * 4, l2a);           /* V = 0 */
    cd_make(cd, 0xabc000);
    poke_words(fm, l2a + 64 * 5, cd, 8);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (3 << 6) | 5, got, &f), ==, 0);
    g_assert_cmpuint(got[1], ==, 0xabc000);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (4 << 6) | 5, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, 1 << 12, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    /* Abort on the L1CD. */
    fake_mem_set_abort(fm, l1, 4096, true);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (3 << 6) | 5, got, &f), ==,
                    VI_SMMU_EVT_F_CD_FETCH);
    g_assert_cmpuint(f.addr, ==, l1 + 8 * 3);
    fake_mem_set_abort(fm, l1, 4096, false);
    /* Abort on the CD. */
    fake_mem_set_abort(fm, l2a, 4096, true);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (3 << 6) | 5, got, &f), ==,
                    VI_SMMU_EVT_F_CD_FETCH);
    g_assert_cmpuint(f.addr, ==, l2a + 64 * 5);
    fake_mem_set_abort(fm, l2a, 4096, false);

    /* 2-level, 64K leaves (1024 CDs each): L1 index = ssid >> 10. */
    s.s1_fmt = VI_SMMU_S1FMT_2LVL_64K;
    fake_mem_poke64(fm, l1 + 8 * 2, l2b | 1);
    cd_make(cd, 0xdef000);
    poke_words(fm, l2b + 64 * 1000, cd, 8);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (2 << 10) | 1000, got, &f), ==, 0);
    g_assert_cmpuint(got[1], ==, 0xdef000);
    /* L1CD L2Ptr uses bits [51:12] only. */
    fake_mem_poke64(fm, l1 + 8 * 2, l2b | 0xff1);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (2 << 10) | 1000, got, &f), ==, 0);
    g_assert_cmpuint(got[1], ==, 0xdef000);
    /* An L2Ptr beyond the OAS: C_BAD_SUBSTREAMID, nothing fetched (issue 10 item 6). */
    fake_mem_poke64(fm, l1 + 8 * 2, l2b | (1ull << caps.oas) | 1);
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (2 << 10) | 1000, got, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    caps.oas = 52;
    g_assert_cmpint(vi_smmu_cd_fetch(m, &caps, &s, (2 << 10) | 1000, got, &f), ==,
                    VI_SMMU_EVT_F_CD_FETCH);
    fake_mem_free(fm);
}

static void test_cd_decode(void)
{
    vi_smmu_caps c = caps_all();
    uint64_t cd[8], ttb0;
    vi_smmu_cd d;

    cd_make(cd, 0x123456789000ull);
    setf(&cd[0], 9, 8, 1);
    setf(&cd[0], 11, 10, 2);
    setf(&cd[0], 13, 12, 3);
    setf(&cd[0], 30, 30, 0);        /* TTB1 enabled: */
    setf(&cd[0], 21, 16, 25);       /* T1SZ 25 */
    setf(&cd[0], 23, 22, 3);        /* TG1 64K */
    setf(&cd[0], 35, 35, 1);        /* AFFD */
    setf(&cd[0], 36, 36, 1);        /* WXN */
    setf(&cd[0], 39, 38, 2);        /* TBI1 */
    setf(&cd[0], 40, 40, 1);        /* PAN */
    setf(&cd[0], 45, 45, 1);        /* R */
    setf(&cd[0], 47, 47, 1);        /* ASET */
    setf(&cd[1], 1, 1, 1);          /* HAD0 */
    setf(&cd[2], 51, 4, 0x55550000ull >> 4);
    cd[4] = 0x77;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpuint(d.tt[0].ttb, ==, 0x123456789000ull);
    g_assert_cmpuint(d.tt[0].granule_shift, ==, 12);
    g_assert_cmpuint(d.tt[0].tsz, ==, 16);
    g_assert_cmpint(d.tt[0].start_level, ==, 0);
    g_assert_false(d.tt[0].epd);
    g_assert_true(d.tt[0].had);
    g_assert_false(d.tt[0].tbi);
    g_assert_cmpuint(d.tt[0].irgn, ==, 1);
    g_assert_cmpuint(d.tt[0].orgn, ==, 2);
    g_assert_cmpuint(d.tt[0].sh, ==, 3);
    g_assert_cmpuint(d.tt[1].ttb, ==, 0x55550000ull);
    g_assert_cmpuint(d.tt[1].granule_shift, ==, 16);
    g_assert_cmpuint(d.tt[1].tsz, ==, 25);
    g_assert_cmpint(d.tt[1].start_level, ==, 2);    /* 39 bits, 64K: 2 levels */
    g_assert_true(d.tt[1].tbi);
    g_assert_false(d.tt[1].had);
    g_assert_cmpuint(d.oas, ==, 48);
    g_assert_cmpuint(d.asid, ==, 0xabcd);
    g_assert_cmpuint(d.mair, ==, 0x44ff04ull);
    g_assert_cmpuint(d.amair, ==, 0x77);
    g_assert_true(d.aa64 && d.affd && d.wxn && d.pan && d.record && d.abort && d.aset);
    g_assert_false(d.uwxn || d.endi || d.ha || d.hd || d.stall);
    {
        vi_armv8_s1_cfg wc;
        vi_armv8_s1 w;

        vi_smmu_cd_to_armv8(&c, &d, &wc);
        g_assert_cmpint(vi_armv8_s1_prepare(&wc, &w), ==, VI_ARMV8_CFG_OK);
        g_assert_cmpint(w.tt[0].start_level, ==, d.tt[0].start_level);
        g_assert_cmpint(w.tt[1].start_level, ==, d.tt[1].start_level);
        g_assert_cmpuint(w.tt[1].pgshift, ==, 16);
        g_assert_cmpuint(w.tt[0].oas, ==, 48);
        g_assert_true(w.tt[0].hpd && w.tt[0].wxn && w.tt[0].affd);
        g_assert_false(w.tt[1].tbi == false);
    }

    /* Start levels for other granules / sizes. */
    setf(&cd[0], 7, 6, 2);          /* TG0 16K */
    setf(&cd[0], 5, 0, 16);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 0);
    g_assert_cmpuint(d.tt[0].granule_shift, ==, 14);
    setf(&cd[0], 5, 0, 17);         /* 47 bits with 16K: 3 levels */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 1);
    setf(&cd[0], 7, 6, 1);          /* TG0 64K, 47 bits: 3 levels */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 1);
    g_assert_cmpuint(d.tt[0].granule_shift, ==, 16);
    setf(&cd[0], 5, 0, 22);         /* 42 bits with 64K: 2 levels */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 2);
    setf(&cd[0], 7, 6, 0);
    setf(&cd[0], 5, 0, 30);         /* 34 bits with 4K: 3 levels */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 1);

    /* TxSZ range. */
    setf(&cd[0], 5, 0, 15);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 5, 0, 39);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 2);
    setf(&cd[0], 5, 0, 40);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.ttst = true;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    setf(&cd[0], 5, 0, 48);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 3);
    setf(&cd[0], 5, 0, 49);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.ttst = false;
    setf(&cd[0], 5, 0, 16);
    /* 52-bit VA with 64K only with VAX. */
    setf(&cd[0], 7, 6, 1);
    setf(&cd[0], 5, 0, 12);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.vax52 = true;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpint(d.tt[0].start_level, ==, 1);
    setf(&cd[0], 7, 6, 0);          /* but not with 4K */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.vax52 = false;
    setf(&cd[0], 5, 0, 16);
    /* T1SZ out of range is checked too, but not when EPD1. */
    setf(&cd[0], 21, 16, 8);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 30, 30, 1);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.tt[1].epd);
    /* EL2 stream world: only TTB0, TTB1 fields not checked. */
    setf(&cd[0], 30, 30, 0);
    {
        vi_smmu_ste s = { .strw = VI_SMMU_STRW_EL2 };
        vi_smmu_cfg_fault f;

        g_assert_cmpint(vi_smmu_cd_decode(&c, &s, cd, &d, &f), ==, 0);
        g_assert_true(d.tt[1].epd);
        g_assert_false(d.tt[0].epd);
    }
    setf(&cd[0], 21, 16, 25);
    /* Reserved TG1 (0b00) and TG0 (0b11); unsupported granule. */
    setf(&cd[0], 23, 22, 0);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 23, 22, 2);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpuint(d.tt[1].granule_shift, ==, 12);
    setf(&cd[0], 23, 22, 1);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpuint(d.tt[1].granule_shift, ==, 14);
    c.gran16k = false;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.gran16k = true;
    setf(&cd[0], 7, 6, 3);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 14, 14, 1);        /* EPD0: TG0 ignored */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.tt[0].epd);
    setf(&cd[0], 14, 14, 0);
    setf(&cd[0], 7, 6, 0);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);

    /* V, AA64, ENDI. */
    setf(&cd[0], 31, 31, 0);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 31, 31, 1);
    setf(&cd[0], 41, 41, 0);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 41, 41, 1);
    setf(&cd[0], 15, 15, 1);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.ttendian = VI_SMMU_TTENDIAN_MIXED;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.endi);
    c.ttendian = VI_SMMU_TTENDIAN_LE;
    setf(&cd[0], 15, 15, 0);

    /* IPS capped by OAS. */
    setf(&cd[0], 34, 32, 6);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpuint(d.oas, ==, 48);
    setf(&cd[0], 34, 32, 1);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);  /* TTB0 beyond */
    ttb0 = cd[1];
    cd[1] = 0x1000;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpuint(d.oas, ==, 36);
    cd[1] = ttb0;
    setf(&cd[0], 34, 32, 5);
    /* 8-bit ASIDs. */
    c.asid16 = false;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_cmpuint(d.asid, ==, 0xcd);
    c.asid16 = true;
    /* HA / HD follow HTTU. */
    setf(&cd[0], 43, 42, 3);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_false(d.ha || d.hd);
    c.httu_a = true;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.ha);
    g_assert_false(d.hd);
    c.httu_d = true;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.ha && d.hd);
    /* S: illegal without stall; STE.S1STALLD clears it. */
    setf(&cd[0], 44, 44, 1);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.stall_model = VI_SMMU_STALL_MODEL_BOTH;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.stall);
    {
        vi_smmu_ste s = { .s1_stalld = true };
        vi_smmu_cfg_fault f;

        /* S = 1 under STE.S1STALLD is ILLEGAL (IHI 0070 5.4.2). */
        g_assert_cmpint(vi_smmu_cd_decode(&c, &s, cd, &d, &f), ==, VI_SMMU_EVT_C_BAD_CD);
    }
    setf(&cd[0], 44, 44, 0);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_false(d.stall);
    /* Stalls forced: S = 0 is ILLEGAL, S = 1 stalls. */
    c.stall_model = VI_SMMU_STALL_MODEL_FORCED;
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 44, 44, 1);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    g_assert_true(d.stall);
}

/* Nested: a vi_mem that maps IPA -> PA by adding an offset, counting calls. */
typedef struct ipa_mem {
    vi_mem vi;
    const vi_mem *pa;
    uint64_t offset;
    unsigned calls;
    bool fault;
} ipa_mem;

static vi_mem_result ipa_read(void *opaque, uint64_t ipa, void *buf, size_t len)
{
    ipa_mem *im = opaque;

    if (im->fault) {
        return VI_MEM_ABORT;
    }
    return vi_mem_read(im->pa, ipa + im->offset, buf, len);
}

static const vi_mem_ops ipa_ops = { .read = ipa_read };

static const vi_mem *ipa_mem_for(void *opaque, const vi_smmu_ste *ste)
{
    ipa_mem *im = opaque;

    im->calls++;
    g_assert_true(ste->s2_enabled);
    g_assert_cmpuint(ste->s2.vmid, ==, 0x1234);
    return &im->vi;
}

static void test_cfg_lookup(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    vi_smmu_caps c = caps_all();
    uint64_t st = fake_mem_alloc(fm, 64 * 16, 4096);
    uint64_t cdt = fake_mem_alloc(fm, 64 * 4, 4096);
    uint64_t ste[8], cd[8];
    ipa_mem im = { .vi = { &ipa_ops, &im }, .pa = m, .offset = 0x10000000ull };
    vi_smmu_cfg cfg;
    vi_smmu_cfg_fault f;

    /* sid 1: S1 with 4 CDs, S1DSS substream0; sid 2: bypass; sid 3: abort;
     * sid 4: nested, CD table at IPA cdt - offset; sid 5: S2 only; sid 6: V=0. */
    ste_make(ste, VI_SMMU_STE_CFG_S1);
    ste[0] |= cdt;
    setf(&ste[0], 63, 59, 2);
    setf(&ste[1], 1, 0, VI_SMMU_S1DSS_SUBSTREAM0);
    poke_words(fm, st + 64 * 1, ste, 8);
    ste_make(ste, VI_SMMU_STE_CFG_BYPASS);
    poke_words(fm, st + 64 * 2, ste, 8);
    ste_make(ste, VI_SMMU_STE_CFG_ABORT);
    poke_words(fm, st + 64 * 3, ste, 8);
    ste_make(ste, VI_SMMU_STE_CFG_NESTED);
    ste[0] |= cdt - im.offset;
    ste_set_s2(ste, 0x1000);
    poke_words(fm, st + 64 * 4, ste, 8);
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x1000);
    poke_words(fm, st + 64 * 5, ste, 8);
    for (unsigned i = 0; i < 4; i++) {
        cd_make(cd, 0x100000 * (i + 1));
        poke_words(fm, cdt + 64 * i, cd, 8);
    }
    setf(&cd[0], 31, 31, 0);
    poke_words(fm, cdt + 64 * 3, cd, 8);

    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 1, true, 2, &cfg, &f), ==, 0);
    g_assert_true(cfg.s1_translate);
    g_assert_cmpuint(cfg.cd_index, ==, 2);
    g_assert_cmpuint(cfg.cd.tt[0].ttb, ==, 0x300000);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 1, false, 0, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.cd_index, ==, 0);
    g_assert_cmpuint(cfg.cd.tt[0].ttb, ==, 0x100000);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 1, true, 0, &cfg, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 1, true, 4, &cfg, &f), ==,
                    VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 1, true, 3, &cfg, &f), ==,
                    VI_SMMU_EVT_C_BAD_CD);
    g_assert_cmpint(f.event, ==, VI_SMMU_EVT_C_BAD_CD);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 2, false, 0, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ste.config, ==, VI_SMMU_STE_CFG_BYPASS);
    g_assert_false(cfg.s1_translate);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 3, false, 0, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ste.config, ==, VI_SMMU_STE_CFG_ABORT);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 6, false, 0, &cfg, &f), ==,
                    VI_SMMU_EVT_C_BAD_STE);
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 16, false, 0, &cfg, &f), ==,
                    VI_SMMU_EVT_C_BAD_STREAMID);
    /* S2 only: no CD fetch, the callback is not consulted. */
    g_assert_cmpint(vi_smmu_cfg_lookup(m, ipa_mem_for, &im, &c, st, 4, 5, false, 0, &cfg, &f),
                    ==, 0);
    g_assert_false(cfg.s1_translate);
    g_assert_true(cfg.ste.s2_enabled);
    g_assert_cmpuint(im.calls, ==, 0);
    /* Nested: the CD is fetched through the stage-2 vi_mem. */
    g_assert_cmpint(vi_smmu_cfg_lookup(m, ipa_mem_for, &im, &c, st, 4, 4, false, 0, &cfg, &f),
                    ==, 0);
    g_assert_cmpuint(im.calls, ==, 1);
    g_assert_true(cfg.s1_translate && cfg.ste.s2_enabled);
    g_assert_cmpuint(cfg.cd.tt[0].ttb, ==, 0x100000);
    /* Without the callback the IPA is read as a PA: nothing there. */
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 4, 4, false, 0, &cfg, &f), ==,
                    VI_SMMU_EVT_F_CD_FETCH);
    g_assert_cmpuint(f.addr, ==, cdt - im.offset);
    /* Stage-2 fault on the CD fetch: F_CD_FETCH with the IPA. */
    im.fault = true;
    g_assert_cmpint(vi_smmu_cfg_lookup(m, ipa_mem_for, &im, &c, st, 4, 4, false, 0, &cfg, &f),
                    ==, VI_SMMU_EVT_F_CD_FETCH);
    g_assert_cmpuint(f.addr, ==, cdt - im.offset);
    fake_mem_free(fm);
}

/*
 * The device's path: the same lookup through a configuration cache.  Hits
 * return what was decoded (walkers included) until CFGI-style invalidation;
 * a SubstreamID to a stream without stage 1 is refused either way.
 */
static void test_cfg_lookup_cached(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    vi_smmu_caps c = caps_all();
    vi_cfg_cache *cache = vi_smmu_cfg_cache_new(8, 32);
    uint64_t st = fake_mem_alloc(fm, 64 * 4, 4096);
    uint64_t cdt = fake_mem_alloc(fm, 64 * 4, 4096);
    uint64_t ste[8], cd[8];
    vi_smmu_cfg cfg, ref;
    vi_smmu_cfg_fault f;

    g_assert_nonnull(cache);
    ste_make(ste, VI_SMMU_STE_CFG_S1);
    ste[0] |= cdt;
    poke_words(fm, st + 64 * 1, ste, 8);
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x1000);
    poke_words(fm, st + 64 * 2, ste, 8);
    cd_make(cd, 0x100000);
    poke_words(fm, cdt, cd, 8);

    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 2, 1, false, 0, &ref, &f), ==, 0);
    g_assert_cmpint(vi_smmu_cfg_lookup_cached(m, NULL, NULL, cache, &c, st, 2, 1, false, 0,
                                              &cfg, &f), ==, 0);
    g_assert_true(cfg.ste_fetched && cfg.cd_fetched);
    g_assert_true(cfg.s1_translate);
    g_assert_cmpmem(&cfg.cd, sizeof(cfg.cd), &ref.cd, sizeof(ref.cd));
    g_assert_cmpmem(&cfg.s1w, sizeof(cfg.s1w), &ref.s1w, sizeof(ref.s1w));
    /* A hit: the CD changed in memory without CFGI is not seen. */
    cd_make(cd, 0x200000);
    poke_words(fm, cdt, cd, 8);
    g_assert_cmpint(vi_smmu_cfg_lookup_cached(m, NULL, NULL, cache, &c, st, 2, 1, false, 0,
                                              &cfg, &f), ==, 0);
    g_assert_false(cfg.ste_fetched || cfg.cd_fetched);
    g_assert_cmpuint(cfg.cd.tt[0].ttb, ==, 0x100000);
    g_assert_cmpmem(&cfg.s1w, sizeof(cfg.s1w), &ref.s1w, sizeof(ref.s1w));
    /* CFGI_CD: the CD is fetched again, the STE still hits. */
    vi_cfg_cache_inv_ssid(cache, 1, 0);
    g_assert_cmpint(vi_smmu_cfg_lookup_cached(m, NULL, NULL, cache, &c, st, 2, 1, false, 0,
                                              &cfg, &f), ==, 0);
    g_assert_true(!cfg.ste_fetched && cfg.cd_fetched);
    g_assert_cmpuint(cfg.cd.tt[0].ttb, ==, 0x200000);
    /* Stage 2 only: the walker comes from the cache too; no SSID allowed. */
    g_assert_cmpint(vi_smmu_cfg_lookup(m, NULL, NULL, &c, st, 2, 2, false, 0, &ref, &f), ==, 0);
    for (int i = 0; i < 2; i++) {
        g_assert_cmpint(vi_smmu_cfg_lookup_cached(m, NULL, NULL, cache, &c, st, 2, 2, false, 0,
                                                  &cfg, &f), ==, 0);
        g_assert_cmpint(cfg.ste_fetched, ==, i == 0);
        g_assert_cmpmem(&cfg.s2w, sizeof(cfg.s2w), &ref.s2w, sizeof(ref.s2w));
        g_assert_cmpint(vi_smmu_cfg_lookup_cached(m, NULL, NULL, cache, &c, st, 2, 2, true, 1,
                                                  &cfg, &f), ==, VI_SMMU_EVT_C_BAD_SUBSTREAMID);
    }
    /* CFGI_STE drops the STE and its CDs. */
    ste_make(ste, VI_SMMU_STE_CFG_ABORT);
    poke_words(fm, st + 64 * 1, ste, 8);
    vi_cfg_cache_inv_sid(cache, 1);
    g_assert_cmpint(vi_smmu_cfg_lookup_cached(m, NULL, NULL, cache, &c, st, 2, 1, false, 0,
                                              &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ste.config, ==, VI_SMMU_STE_CFG_ABORT);
    vi_cfg_cache_free(cache);
    fake_mem_free(fm);
}

/*
 * TTBx beyond the effective IPS is C_BAD_CD, S2TTB beyond the effective S2PS
 * C_BAD_STE (IHI 0070 5.4 / 5.2; issue 10 item 6), not a walk's Address Size
 * fault; CD.PAN reaches the walker (item 9).
 */
static void test_ttb_bounds_pan(void)
{
    vi_smmu_caps c = caps_all();
    uint64_t cd[8], ste[8];
    vi_armv8_s1_cfg w;
    vi_smmu_cd d;
    vi_smmu_ste st;

    cd_make(cd, 0x100000000ull);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    setf(&cd[0], 34, 32, 0);                /* IPS 32 bits: TTB0 at 4 GiB is beyond */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    setf(&cd[0], 34, 32, 1);                /* IPS 36 */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    c.oas = 32;                             /* effective IPS = min(IPS, OAS) */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);
    c.oas = 48;
    setf(&cd[0], 34, 32, 0);
    setf(&cd[0], 14, 14, 1);                /* EPD0: TTB0 is not used */
    setf(&cd[0], 30, 30, 0);                /* TTB1 in range */
    setf(&cd[0], 21, 16, 16);
    setf(&cd[0], 23, 22, 2);                /* TG1 4K */
    setf(&cd[2], 51, 4, 0x1000 >> 4);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    setf(&cd[2], 51, 4, 0x100000000ull >> 4);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, VI_SMMU_EVT_C_BAD_CD);

    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x100000000ull);
    g_assert_cmpint(ste_dec(&c, ste, &st), ==, 0);
    setf(&ste[2], 50, 48, 0);               /* S2PS 32 */
    g_assert_cmpint(ste_dec(&c, ste, &st), ==, VI_SMMU_EVT_C_BAD_STE);
    setf(&ste[2], 50, 48, 1);
    g_assert_cmpint(ste_dec(&c, ste, &st), ==, 0);

    cd_make(cd, 0x1000);
    setf(&cd[0], 40, 40, 1);                /* PAN */
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    vi_smmu_cd_to_armv8(&c, &d, &w);
    g_assert_true(w.pan);
    setf(&cd[0], 40, 40, 0);
    g_assert_cmpint(cd_dec(&c, cd, &d), ==, 0);
    vi_smmu_cd_to_armv8(&c, &d, &w);
    g_assert_false(w.pan);
}

/* STRW = EL2 (IDR0.Hyp): EL2 has one range and no ASID, EL2-E2H both (item 7). */
static void test_el2(void)
{
    vi_smmu_caps c = caps_all();
    vi_smmu_cfg_fault f;
    uint64_t ste[8], cd[8];
    vi_armv8_s1_cfg w;
    vi_armv8_s2_cfg w2;
    vi_smmu_ste st;
    vi_smmu_cd d;

    /* IDR3.XNX: the stage-2 walker gets two-bit XN. */
    ste_make(ste, VI_SMMU_STE_CFG_S2);
    ste_set_s2(ste, 0x1000);
    g_assert_cmpint(ste_dec(&c, ste, &st), ==, 0);
    c.xnx = true;
    vi_smmu_ste_to_armv8_s2(&c, &st, &w2);
    g_assert_true(w2.xnx);
    c.xnx = false;
    vi_smmu_ste_to_armv8_s2(&c, &st, &w2);
    g_assert_false(w2.xnx);

    ste_make(ste, VI_SMMU_STE_CFG_S1);
    setf(&ste[1], 31, 30, VI_SMMU_STRW_EL2);
    c.hyp = false;
    g_assert_cmpint(ste_dec(&c, ste, &st), ==, VI_SMMU_EVT_C_BAD_STE);
    c.hyp = true;
    g_assert_cmpint(ste_dec(&c, ste, &st), ==, 0);
    g_assert_cmpuint(st.strw, ==, VI_SMMU_STRW_EL2);

    cd_make(cd, 0x1000);
    setf(&cd[0], 30, 30, 0);                /* TTB1: T1SZ 16, TG1 4K */
    setf(&cd[0], 21, 16, 16);
    setf(&cd[0], 23, 22, 2);
    setf(&cd[0], 40, 40, 1);                /* PAN */
    setf(&cd[2], 51, 4, 0x2000 >> 4);
    g_assert_cmpint(vi_smmu_cd_decode(&c, &st, cd, &d, &f), ==, 0);
    g_assert_true(d.one_el);
    g_assert_true(d.tt[1].epd);
    g_assert_cmpuint(d.asid, ==, 0);
    vi_smmu_cd_to_armv8(&c, &d, &w);
    g_assert_true(w.one_el);
    g_assert_false(w.pan);                  /* no EL0 */
    c.e2h = true;
    g_assert_cmpint(vi_smmu_cd_decode(&c, &st, cd, &d, &f), ==, 0);
    g_assert_false(d.one_el);
    g_assert_false(d.tt[1].epd);
    g_assert_cmpuint(d.tt[1].ttb, ==, 0x2000);
    g_assert_cmpuint(d.asid, ==, 0xabcd);
    vi_smmu_cd_to_armv8(&c, &d, &w);
    g_assert_false(w.one_el);
    g_assert_true(w.pan);
}

static void test_event_names(void)
{
    g_assert_cmpstr(vi_smmu_event_name(VI_SMMU_EVT_C_BAD_STE), ==, "C_BAD_STE");
    g_assert_cmpstr(vi_smmu_event_name(VI_SMMU_EVT_F_CFG_CONFLICT), ==, "F_CFG_CONFLICT");
    g_assert_cmpstr(vi_smmu_event_name(0x77), ==, "unknown");
    g_assert_cmpint(VI_SMMU_EVT_C_BAD_SUBSTREAMID, ==, 0x08);
    g_assert_cmpint(VI_SMMU_EVT_F_WALK_EABT, ==, 0x0b);
    g_assert_cmpint(VI_SMMU_EVT_F_TLB_CONFLICT, ==, 0x20);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/smmuv3-cfg/strtab/linear", test_strtab_linear);
    g_test_add_func("/smmuv3-cfg/strtab/2lvl", test_strtab_2lvl);
    g_test_add_func("/smmuv3-cfg/ste/config", test_ste_config);
    g_test_add_func("/smmuv3-cfg/ste/s1", test_ste_s1);
    g_test_add_func("/smmuv3-cfg/ste/s2", test_ste_s2);
    g_test_add_func("/smmuv3-cfg/cd/select", test_select_cd);
    g_test_add_func("/smmuv3-cfg/cd/table", test_cd_table);
    g_test_add_func("/smmuv3-cfg/cd/decode", test_cd_decode);
    g_test_add_func("/smmuv3-cfg/lookup", test_cfg_lookup);
    g_test_add_func("/smmuv3-cfg/lookup-cached", test_cfg_lookup_cached);
    g_test_add_func("/smmuv3-cfg/ttb-bounds-pan", test_ttb_bounds_pan);
    g_test_add_func("/smmuv3-cfg/el2", test_el2);
    g_test_add_func("/smmuv3-cfg/event-names", test_event_names);
    return g_test_run();
}
