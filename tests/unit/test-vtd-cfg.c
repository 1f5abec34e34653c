/*
 * Tests of the VT-d root / context / PASID structure lookup and decoding
 * (vtd-cfg.c): tables built in fake memory, every legal configuration
 * decoded to the right fields, every illegal value to the right fault reason.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/vtd-cfg.h"

/* Test-side field encoder, independent of the decoder's macros. */
static void setf(uint64_t *w, unsigned hi, unsigned lo, uint64_t v)
{
    uint64_t m = ((hi == 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);

    *w = (*w & ~m) | ((v << lo) & m);
}

static vi_vtd_caps caps_all(void)
{
    vi_vtd_caps c;

    vi_vtd_caps_default(&c);
    return c;
}

#define REQ(s) ((vi_vtd_req){ .sid = (s) })

/* ------------------------------------------------------------------------
 * Legacy mode
 */

typedef struct legacy_env {
    fake_mem *fm;
    const vi_mem *m;
    uint64_t rt, ct;
} legacy_env;

static void legacy_setup(legacy_env *e)
{
    e->fm = fake_mem_new();
    e->m = fake_mem_vi(e->fm);
    e->rt = fake_mem_alloc_page(e->fm, 4096);
    e->ct = fake_mem_alloc_page(e->fm, 4096);
    /* Bus 3 -> ct; devfn 0x10: TT 0, AW 48-bit, DID 0x42, SLPTPTR 0x7000000. */
    fake_mem_poke64(e->fm, e->rt + 16 * 3, e->ct | 1);
    fake_mem_poke64(e->fm, e->ct + 16 * 0x10, 0x7000000ull | 1);
    fake_mem_poke64(e->fm, e->ct + 16 * 0x10 + 8, (0x42ull << 8) | VI_VTD_AW_48);
}

static int legacy_lookup(legacy_env *e, const vi_vtd_caps *c, vi_vtd_req req,
                         vi_vtd_cfg *cfg, vi_vtd_fault *f)
{
    int r = vi_vtd_cfg_lookup(e->m, c, e->rt, &req, cfg, f);

    g_assert_cmpint(r, ==, f->reason);
    return r;
}

static void test_legacy_lookup(void)
{
    legacy_env e;
    vi_vtd_caps c = caps_all();
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    uint64_t ce0 = 0x7000000ull | 1, ce1 = (0x42ull << 8) | VI_VTD_AW_48;
    uint64_t cpa;
    vi_vtd_req req;

    legacy_setup(&e);
    cpa = e.ct + 16 * 0x10;
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    g_assert_false(cfg.ctx.scalable);
    g_assert_false(cfg.has_pe);
    g_assert_cmpuint(cfg.ctx.tt, ==, VI_VTD_TT_MULTI_LEVEL);
    g_assert_cmpuint(cfg.ctx.slptptr, ==, 0x7000000ull);
    g_assert_cmpuint(cfg.ctx.aw, ==, VI_VTD_AW_48);
    g_assert_cmpuint(cfg.ctx.aw_bits, ==, 48);
    g_assert_cmpuint(cfg.ctx.levels, ==, 4);
    g_assert_cmpuint(cfg.ctx.did, ==, 0x42);
    g_assert_false(cfg.ctx.fpd);
    g_assert_false(f.fpd);

    /* Not present root (bus 4) / context (devfn 0x11). */
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x410), &cfg, &f), ==,
                    VI_VTD_FR_ROOT_NOT_PRESENT);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x311), &cfg, &f), ==,
                    VI_VTD_FR_CTX_NOT_PRESENT);
    /* Root reserved bits: low word [11:1], high word, CTP above HAW. */
    fake_mem_poke64(e.fm, e.rt + 16 * 3, e.ct | 1 | (1 << 5));
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_ROOT_RSVD);
    fake_mem_poke64(e.fm, e.rt + 16 * 3, e.ct | 1 | (1ull << 46));
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_ROOT_RSVD);
    c.haw = 48;
    fake_mem_poke64(e.fm, e.rt + 16 * 3 + 8, 1);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_ROOT_RSVD);
    c.haw = 46;
    fake_mem_poke64(e.fm, e.rt + 16 * 3 + 8, 0);
    fake_mem_poke64(e.fm, e.rt + 16 * 3, e.ct | 1);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);

    /* Context reserved bits. */
    {
        static const struct { unsigned word, bit; } rsvd[] = {
            { 0, 4 }, { 0, 11 }, { 1, 7 }, { 1, 24 }, { 1, 63 }, { 0, 46 },
        };
        for (unsigned i = 0; i < G_N_ELEMENTS(rsvd); i++) {
            fake_mem_poke64(e.fm, cpa + 8 * rsvd[i].word,
                            (rsvd[i].word ? ce1 : ce0) | (1ull << rsvd[i].bit));
            g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==,
                            VI_VTD_FR_CTX_RSVD);
            fake_mem_poke64(e.fm, cpa, ce0);
            fake_mem_poke64(e.fm, cpa + 8, ce1);
        }
    }
    /* AVAIL bits [6:3] are ignored. */
    fake_mem_poke64(e.fm, cpa + 8, ce1 | (0xf << 3));
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    /* DID wider than CAP.ND allows. */
    c.nd = 2;               /* 8-bit DIDs */
    fake_mem_poke64(e.fm, cpa + 8, (0x142ull << 8) | VI_VTD_AW_48);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_CTX_RSVD);
    fake_mem_poke64(e.fm, cpa + 8, (0xffull << 8) | VI_VTD_AW_48);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ctx.did, ==, 0xff);
    c.nd = 6;
    /* AW: 3-level ok, 5-level not in SAGAW, 0 and 4+ never valid. */
    fake_mem_poke64(e.fm, cpa + 8, VI_VTD_AW_39);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ctx.levels, ==, 3);
    g_assert_cmpuint(cfg.ctx.aw_bits, ==, 39);
    for (unsigned aw = 0; aw < 8; aw++) {
        if (aw == 1 || aw == 2) {
            continue;
        }
        fake_mem_poke64(e.fm, cpa + 8, aw);
        g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==,
                        VI_VTD_FR_CTX_INVALID);
    }
    c.sagaw |= 1u << VI_VTD_AW_57;
    fake_mem_poke64(e.fm, cpa + 8, VI_VTD_AW_57);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ctx.levels, ==, 5);
    fake_mem_poke64(e.fm, cpa + 8, ce1);

    /* TT: reserved, and modes needing DT / PT. */
    fake_mem_poke64(e.fm, cpa, ce0 | (3 << 2));
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_CTX_INVALID);
    fake_mem_poke64(e.fm, cpa, ce0 | (1 << 2));
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ctx.tt, ==, VI_VTD_TT_DEV_TLB);
    c.dt = false;
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_CTX_INVALID);
    c.dt = true;
    /* Pass-through: AW and SLPTPTR ignored. */
    fake_mem_poke64(e.fm, cpa, (1ull << 50) | (2 << 2) | 1);
    fake_mem_poke64(e.fm, cpa + 8, (0x42ull << 8) | 7);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.ctx.tt, ==, VI_VTD_TT_PASS_THROUGH);
    g_assert_cmpuint(cfg.ctx.did, ==, 0x42);
    g_assert_cmpuint(cfg.ctx.slptptr, ==, 0);
    c.pt = false;
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_CTX_INVALID);
    c.pt = true;
    fake_mem_poke64(e.fm, cpa, ce0);
    fake_mem_poke64(e.fm, cpa + 8, ce1);

    /* Request checks. */
    req = REQ(0x310);
    req.has_pasid = true;
    g_assert_cmpint(legacy_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_TTM_PASID);
    req = REQ(0x310);
    req.page_req = true;
    g_assert_cmpint(legacy_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_TTM_PRQ);
    req = REQ(0x310);
    req.ats = true;
    g_assert_cmpint(legacy_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_TT_BLOCKED);
    g_assert_false(f.fpd);
    /* ... and its recording is suppressed by the context entry's FPD. */
    fake_mem_poke64(e.fm, cpa, ce0 | 2);
    g_assert_cmpint(legacy_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_TT_BLOCKED);
    g_assert_true(f.fpd);
    /* A reserved-bit fault in the entry does not trust its own FPD. */
    fake_mem_poke64(e.fm, cpa, ce0 | 2 | (1 << 5));
    g_assert_cmpint(legacy_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_CTX_RSVD);
    g_assert_false(f.fpd);
    fake_mem_poke64(e.fm, cpa, ce0 | (1 << 2));
    g_assert_cmpint(legacy_lookup(&e, &c, req, &cfg, &f), ==, 0);
    fake_mem_poke64(e.fm, cpa, ce0);

    /* Fetch errors. */
    fake_mem_set_abort(e.fm, e.ct, 4096, true);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_CTX_ACCESS);
    g_assert_cmpuint(f.addr, ==, cpa);
    fake_mem_set_abort(e.fm, e.rt, 4096, true);
    g_assert_cmpint(legacy_lookup(&e, &c, REQ(0x310), &cfg, &f), ==, VI_VTD_FR_ROOT_ACCESS);
    g_assert_cmpuint(f.addr, ==, e.rt + 16 * 3);
    fake_mem_free(e.fm);
}

/* ------------------------------------------------------------------------
 * Scalable mode
 */

typedef struct sm_env {
    fake_mem *fm;
    const vi_mem *m;
    uint64_t rt, ctlo, cthi, dir, pt;
    uint64_t rtaddr;
} sm_env;

/* PASID 0x12345: directory index 0x48d, table index 5. */
#define TEST_PASID  0x12345u

static void pe_make(uint64_t *pe, unsigned pgtt)
{
    memset(pe, 0, 8 * sizeof(*pe));
    setf(&pe[0], 0, 0, 1);
    setf(&pe[0], 8, 6, pgtt);
    setf(&pe[0], 4, 2, VI_VTD_AW_48);
    setf(&pe[0], 63, 12, 0x5000000ull >> 12);
    setf(&pe[1], 15, 0, 0x77);
    setf(&pe[2], 63, 12, 0x6000000ull >> 12);
}

static void poke_pe(sm_env *e, uint32_t pasid_idx, const uint64_t *pe)
{
    for (unsigned i = 0; i < 8; i++) {
        fake_mem_poke64(e->fm, e->pt + 64 * pasid_idx + 8 * i, pe[i]);
    }
}

static void sm_setup(sm_env *e)
{
    uint64_t pe[8];

    e->fm = fake_mem_new();
    e->m = fake_mem_vi(e->fm);
    e->rt = fake_mem_alloc_page(e->fm, 4096);
    e->ctlo = fake_mem_alloc_page(e->fm, 4096);
    e->cthi = fake_mem_alloc_page(e->fm, 4096);
    e->dir = fake_mem_alloc(e->fm, 8 << 11, 4096);      /* PDTS 4: 2^11 entries */
    e->pt = fake_mem_alloc_page(e->fm, 4096);
    e->rtaddr = e->rt | (VI_VTD_TTM_SCALABLE << 10);
    /* Bus 5: lower half -> ctlo, upper half -> cthi. */
    fake_mem_poke64(e->fm, e->rt + 16 * 5, e->ctlo | 1);
    fake_mem_poke64(e->fm, e->rt + 16 * 5 + 8, e->cthi | 1);
    /* devfn 0x08 (lower): PASIDE, PDTS 4, RID_PASID 0x12345 -> same entry. */
    fake_mem_poke64(e->fm, e->ctlo + 32 * 8, e->dir | (4 << 9) | (1 << 3) | 1);
    fake_mem_poke64(e->fm, e->ctlo + 32 * 8 + 8, TEST_PASID);
    /* devfn 0x88 (upper): PDTS 0, no PASIDE, RID_PASID 0. */
    fake_mem_poke64(e->fm, e->cthi + 32 * 8, e->dir | 1);
    fake_mem_poke64(e->fm, e->dir + 8 * 0x48d, e->pt | 1);
    fake_mem_poke64(e->fm, e->dir + 8 * 0, e->pt | 1);
    pe_make(pe, VI_VTD_PGTT_SS);
    poke_pe(e, 5, pe);
    pe_make(pe, VI_VTD_PGTT_PT);
    setf(&pe[1], 15, 0, 0x99);
    poke_pe(e, 0, pe);
}

static int sm_lookup(sm_env *e, const vi_vtd_caps *c, vi_vtd_req req,
                     vi_vtd_cfg *cfg, vi_vtd_fault *f)
{
    int r = vi_vtd_cfg_lookup(e->m, c, e->rtaddr, &req, cfg, f);

    g_assert_cmpint(r, ==, f->reason);
    return r;
}

static void test_sm_lookup(void)
{
    sm_env e;
    vi_vtd_caps c = caps_all();
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    vi_vtd_req req;
    uint64_t rtaddr;

    sm_setup(&e);
    /* Request with PASID through devfn 0x08. */
    req = REQ(0x508);
    req.has_pasid = true;
    req.pasid = TEST_PASID;
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, 0);
    g_assert_true(cfg.ctx.scalable);
    g_assert_true(cfg.ctx.paside);
    g_assert_cmpuint(cfg.ctx.pdts, ==, 4);
    g_assert_cmpuint(cfg.ctx.pasid_dir, ==, e.dir);
    g_assert_cmpuint(cfg.ctx.rid_pasid, ==, TEST_PASID);
    g_assert_true(cfg.has_pe);
    g_assert_cmpuint(cfg.pasid, ==, TEST_PASID);
    g_assert_cmpuint(cfg.pe.pgtt, ==, VI_VTD_PGTT_SS);
    g_assert_cmpuint(cfg.pe.slptptr, ==, 0x5000000ull);
    g_assert_cmpuint(cfg.pe.ss_levels, ==, 4);
    g_assert_cmpuint(cfg.pe.did, ==, 0x77);
    /* Without PASID, RID_PASID selects the same entry. */
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.pasid, ==, TEST_PASID);
    g_assert_cmpuint(cfg.pe.did, ==, 0x77);
    /* devfn 0x88 comes from the upper half; RID_PASID 0 -> the PT entry. */
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x588), &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.pe.pgtt, ==, VI_VTD_PGTT_PT);
    g_assert_cmpuint(cfg.pe.did, ==, 0x99);
    /* ... which has no PASIDE. */
    req = REQ(0x588);
    req.has_pasid = true;
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_CTX_PASIDE);
    /* Upper half not present, lower present (and vice versa). */
    fake_mem_poke64(e.fm, e.rt + 16 * 5 + 8, e.cthi);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x588), &cfg, &f), ==,
                    VI_VTD_FR_SM_ROOT_NOT_PRESENT);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, 0);
    fake_mem_poke64(e.fm, e.rt + 16 * 5 + 8, e.cthi | 1);
    fake_mem_poke64(e.fm, e.rt + 16 * 5, e.ctlo);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==,
                    VI_VTD_FR_SM_ROOT_NOT_PRESENT);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x588), &cfg, &f), ==, 0);
    /* Root reserved bits, only in the half used. */
    fake_mem_poke64(e.fm, e.rt + 16 * 5, e.ctlo | 1 | (1 << 4));
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_ROOT_RSVD);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x588), &cfg, &f), ==, 0);
    fake_mem_poke64(e.fm, e.rt + 16 * 5, e.ctlo | 1 | (1ull << 50));
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_ROOT_RSVD);
    fake_mem_poke64(e.fm, e.rt + 16 * 5, e.ctlo | 1);
    /* Context entry not present (devfn 0x09). */
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x509), &cfg, &f), ==,
                    VI_VTD_FR_SM_CTX_NOT_PRESENT);

    /* Translation-table mode. */
    rtaddr = e.rtaddr;
    e.rtaddr = e.rt | (2 << 10);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_RTADDR_INV);
    e.rtaddr = e.rt | (3 << 10);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_RTADDR_INV);
    e.rtaddr = rtaddr;
    c.smts = false;
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_RTADDR_INV);
    c.smts = true;

    /* Fetch errors at each level, with the address. */
    fake_mem_set_abort(e.fm, e.pt, 4096, true);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_PE_ACCESS);
    g_assert_cmpuint(f.addr, ==, e.pt + 64 * 5);
    fake_mem_set_abort(e.fm, e.dir, 8 << 11, true);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_PDE_ACCESS);
    g_assert_cmpuint(f.addr, ==, e.dir + 8 * 0x48d);
    fake_mem_set_abort(e.fm, e.ctlo, 4096, true);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_CTX_ACCESS);
    g_assert_cmpuint(f.addr, ==, e.ctlo + 32 * 8);
    fake_mem_set_abort(e.fm, e.rt, 4096, true);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_ROOT_ACCESS);
    g_assert_cmpuint(f.addr, ==, e.rt + 16 * 5);
    fake_mem_free(e.fm);
}

/*
 * A page request is checked up to the context entry (PRE, PASIDE, the PASID
 * range): the PASID entry plays no part, even when it is not present.
 */
static void test_sm_page_request(void)
{
    sm_env e;
    vi_vtd_caps c = caps_all();
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    vi_vtd_req req = REQ(0x508);

    sm_setup(&e);
    c.prs = true;
    req.page_req = true;
    req.has_pasid = true;
    req.pasid = 7;                          /* directory entry 0, PASID entry 7: absent */
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_CTX_PRE);
    fake_mem_poke64(e.fm, e.ctlo + 32 * 8, e.dir | (4 << 9) | (1 << 4) | (1 << 3) | 1);
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, 0);
    g_assert_true(cfg.ctx.pre);
    g_assert_false(cfg.has_pe);
    g_assert_cmpuint(cfg.pasid, ==, 7);
    /* The same PASID for DMA faults at the PASID entry. */
    req.page_req = false;
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);
    /* PASID beyond the directory (PDTS 4: 2^17 PASIDs). */
    req.page_req = true;
    req.pasid = 1u << 17;
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_CTX_PASID_RANGE);
    /* Without PRS the PRE bit is reserved. */
    c.prs = false;
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_CTX_RSVD);
    fake_mem_free(e.fm);
}

/*
 * The device's lookup (through the context / PASID caches): hits return what
 * was decoded until an invalidation, request checks still run on every hit.
 */
static void test_sm_lookup_cached(void)
{
    sm_env e;
    vi_vtd_caps c = caps_all();
    vi_cfg_cache *cache = vi_vtd_cfg_cache_new(16, 16);
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    vi_vtd_req req = REQ(0x508);
    uint64_t pe[8];

    g_assert_nonnull(cache);
    sm_setup(&e);
    req.has_pasid = true;
    req.pasid = TEST_PASID;
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &req, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.pe.did, ==, 0x77);
    /* The guest rewrites the entry (FPD, new DID) without invalidating: stale hit. */
    pe_make(pe, VI_VTD_PGTT_SS);
    setf(&pe[0], 1, 1, 1);
    setf(&pe[1], 15, 0, 0x78);
    poke_pe(&e, 5, pe);
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &req, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.pe.did, ==, 0x77);
    g_assert_false(cfg.fpd);
    g_assert_cmpint(vi_vtd_cfg_lookup(e.m, &c, e.rtaddr, &req, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.pe.did, ==, 0x78);
    g_assert_true(cfg.fpd);
    /* PASID-selective PASID-cache invalidation of the old DID: the new entry. */
    vi_cfg_cache_inv_sub_tag_ssid(cache, 0x77, TEST_PASID);
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &req, &cfg, &f), ==, 0);
    g_assert_cmpuint(cfg.pe.did, ==, 0x78);
    g_assert_true(cfg.fpd);
    g_assert_true(f.fpd);
    /* A cached context entry without PASIDE still refuses PASID requests. */
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &REQ(0x588), &cfg, &f),
                    ==, 0);
    req.sid = 0x588;
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &req, &cfg, &f), ==,
                    VI_VTD_FR_SM_CTX_PASIDE);
    /* A context entry made not present stays cached until invalidated. */
    fake_mem_poke64(e.fm, e.cthi + 32 * 8, 0);
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &REQ(0x588), &cfg, &f),
                    ==, 0);
    vi_cfg_cache_inv_sid(cache, 0x588);
    g_assert_cmpint(vi_vtd_cfg_lookup_cached(e.m, cache, &c, e.rtaddr, &REQ(0x588), &cfg, &f),
                    ==, VI_VTD_FR_SM_CTX_NOT_PRESENT);
    vi_cfg_cache_free(cache);
    fake_mem_free(e.fm);
}

/*
 * FPD is read in entries that are not present (Linux tears entries down to
 * FPD alone), and the PASID directory / table access errors are recorded
 * whatever the context entry's FPD says.
 */
static void test_fpd_not_present(void)
{
    vi_vtd_caps c = caps_all();
    legacy_env l;
    sm_env e;
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    uint64_t pe[8], cpa, sce;

    legacy_setup(&l);
    cpa = l.ct + 16 * 0x10;
    fake_mem_poke64(l.fm, cpa, 2);                              /* FPD, P = 0 */
    g_assert_cmpint(legacy_lookup(&l, &c, REQ(0x310), &cfg, &f), ==,
                    VI_VTD_FR_CTX_NOT_PRESENT);
    g_assert_true(f.fpd);
    fake_mem_poke64(l.fm, cpa, 0);
    g_assert_cmpint(legacy_lookup(&l, &c, REQ(0x310), &cfg, &f), ==,
                    VI_VTD_FR_CTX_NOT_PRESENT);
    g_assert_false(f.fpd);
    fake_mem_free(l.fm);

    sm_setup(&e);
    sce = fake_mem_peek64(e.fm, e.ctlo + 32 * 8);
    /* Scalable context entry, FPD only. */
    fake_mem_poke64(e.fm, e.ctlo + 32 * 8, 2);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==,
                    VI_VTD_FR_SM_CTX_NOT_PRESENT);
    g_assert_true(f.fpd);
    fake_mem_poke64(e.fm, e.ctlo + 32 * 8, sce);
    /* PASID table entry, FPD only. */
    memset(pe, 0, sizeof(pe));
    pe[0] = 2;
    poke_pe(&e, 5, pe);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);
    g_assert_true(f.fpd);
    pe[0] = 0;
    poke_pe(&e, 5, pe);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);
    g_assert_false(f.fpd);
    /* PASID directory entry, FPD only. */
    fake_mem_poke64(e.fm, e.dir + 8 * 0x48d, 2);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==,
                    VI_VTD_FR_SM_PDE_NOT_PRESENT);
    g_assert_true(f.fpd);
    fake_mem_poke64(e.fm, e.dir + 8 * 0x48d, e.pt | 1);
    /* Access errors with the context entry's FPD set: still recorded. */
    fake_mem_poke64(e.fm, e.ctlo + 32 * 8, sce | 2);
    fake_mem_set_abort(e.fm, e.pt, 4096, true);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_PE_ACCESS);
    g_assert_false(f.fpd);
    fake_mem_set_abort(e.fm, e.dir, 8 << 11, true);
    g_assert_cmpint(sm_lookup(&e, &c, REQ(0x508), &cfg, &f), ==, VI_VTD_FR_SM_PDE_ACCESS);
    g_assert_false(f.fpd);
    fake_mem_free(e.fm);
}

static void test_sm_ctx(void)
{
    vi_vtd_caps c = caps_all();
    uint64_t ce[4] = { 0 };
    vi_vtd_ctx x;
    vi_vtd_fault f;
    vi_vtd_req req;
    uint32_t pasid;

    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, VI_VTD_FR_SM_CTX_NOT_PRESENT);
    ce[0] = 0x3000000ull | (7 << 9) | (1 << 4) | (1 << 3) | (1 << 2) | (1 << 1) | 1;
    ce[1] = 0xabcde;
    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, VI_VTD_FR_SM_CTX_RSVD); /* PRE */
    c.prs = true;
    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, 0);
    g_assert_true(x.scalable && x.fpd && x.dte && x.paside && x.pre);
    g_assert_false(x.rid_priv);
    g_assert_true(f.fpd);
    g_assert_cmpuint(x.pdts, ==, 7);
    g_assert_cmpuint(x.pasid_dir, ==, 0x3000000ull);
    g_assert_cmpuint(x.rid_pasid, ==, 0xabcde);
    /* Reserved bits in every word; feature bits without the feature. */
    {
        static const struct { unsigned word, bit; } rsvd[] = {
            { 0, 5 }, { 0, 8 }, { 0, 46 }, { 1, 21 }, { 1, 63 }, { 2, 0 }, { 3, 40 },
        };
        for (unsigned i = 0; i < G_N_ELEMENTS(rsvd); i++) {
            uint64_t bad[4] = { ce[0], ce[1], ce[2], ce[3] };

            bad[rsvd[i].word] |= 1ull << rsvd[i].bit;
            g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, bad, &x, &f), ==,
                            VI_VTD_FR_SM_CTX_RSVD);
            g_assert_false(f.fpd);
        }
    }
    c.dt = false;
    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, VI_VTD_FR_SM_CTX_RSVD);
    c.dt = true;
    c.pasid = false;
    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, VI_VTD_FR_SM_CTX_RSVD);
    c.pasid = true;
    ce[1] |= 1u << 20;
    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, VI_VTD_FR_SM_CTX_RSVD);
    c.rpriv = true;
    g_assert_cmpint(vi_vtd_sm_ctx_decode(&c, ce, &x, &f), ==, 0);
    g_assert_true(x.rid_priv);
    g_assert_cmpuint(x.rid_pasid, ==, 0xabcde);

    /* Request checks. */
    req = REQ(0);
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, 0);
    g_assert_cmpuint(pasid, ==, 0xabcde);
    req.has_pasid = true;
    req.pasid = 0x55;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, 0);
    g_assert_cmpuint(pasid, ==, 0x55);
    c.pss = 7;              /* 8-bit PASIDs */
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, 0);
    req.pasid = 0x100;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==,
                    VI_VTD_FR_SM_CTX_PASID_RANGE);
    req.has_pasid = false;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==,
                    VI_VTD_FR_SM_CTX_RID_PASID);
    c.pss = 19;
    req = REQ(0);
    req.ats = true;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, 0);
    x.dte = false;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, VI_VTD_FR_SM_CTX_DTE);
    req = REQ(0);
    req.page_req = true;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, 0);
    x.pre = false;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==, VI_VTD_FR_SM_CTX_PRE);
    req = REQ(0);
    req.has_pasid = true;
    x.paside = false;
    g_assert_cmpint(vi_vtd_ctx_check_req(&c, &x, &req, &pasid, &f), ==,
                    VI_VTD_FR_SM_CTX_PASIDE);
}

static void test_pasid_fetch(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    vi_vtd_caps c = caps_all();
    uint64_t dir = fake_mem_alloc_page(fm, 4096), pt = fake_mem_alloc_page(fm, 4096);
    uint64_t pe[8];
    vi_vtd_ctx x = { .scalable = true, .pasid_dir = dir, .pdts = 0 };
    vi_vtd_fault f;
    bool pde_fpd;

    /* PDTS 0: 128 directory entries, PASIDs 0..0x1fff. */
    fake_mem_poke64(fm, dir + 8 * 0x7f, pt | 1);
    fake_mem_poke64(fm, pt + 64 * 0x3f + 8, 0xbeef);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x1fff, pe, &pde_fpd, &f), ==, 0);
    g_assert_cmpuint(pe[1], ==, 0xbeef);
    g_assert_false(pde_fpd || f.fpd);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x2000, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_CTX_PASID_RANGE);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0xffffffffu, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_CTX_PASID_RANGE);
    x.pdts = 7;             /* 2^14 entries: all 20-bit PASIDs */
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x1fff, pe, &pde_fpd, &f), ==, 0);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0xfffff, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_PDE_ACCESS);
    g_assert_cmpuint(f.addr, ==, dir + 8 * 0x3fff);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x100000, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_CTX_PASID_RANGE);
    /* Not present / reserved directory entries. */
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x40, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_PDE_NOT_PRESENT);
    fake_mem_poke64(fm, dir + 8 * 1, pt | 1 | (1 << 2));
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x40, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_PDE_RSVD);
    fake_mem_poke64(fm, dir + 8 * 1, pt | 1 | (1ull << 47));
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x40, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_PDE_RSVD);
    /* FPD in the directory entry, and inherited from the context entry. */
    fake_mem_poke64(fm, dir + 8 * 1, pt | 3);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x40, pe, &pde_fpd, &f), ==, 0);
    g_assert_true(pde_fpd && f.fpd);
    fake_mem_poke64(fm, dir + 8 * 1, pt | 1);
    x.fpd = true;
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x40, pe, &pde_fpd, &f), ==, 0);
    g_assert_true(f.fpd);
    g_assert_false(pde_fpd);
    g_assert_cmpint(vi_vtd_pasid_fetch(m, &c, &x, 0x80, pe, &pde_fpd, &f), ==,
                    VI_VTD_FR_SM_PDE_NOT_PRESENT);
    g_assert_true(f.fpd);
    fake_mem_free(fm);
}

static int pe_dec(const vi_vtd_caps *c, const uint64_t *pe, vi_vtd_pe *out)
{
    vi_vtd_fault f = { .reason = 0xff };
    int r = vi_vtd_pe_decode(c, pe, out, &f);

    g_assert_cmpint(r, ==, f.reason);
    return r;
}

/*
 * A guest rewriting a PASID entry on another vCPU while the unit copies it:
 * this memory performs the guest's stores (next[] into the entry, in word
 * order, as Linux's WRITE_ONCE()s do) in the middle of the unit's multi-word
 * read, after word 0 was copied.  Without a consistent read the unit sees the
 * old word 0 (P=1) with the new words 1-7.  The single-word read of a PASID
 * directory entry is never torn.
 */
typedef struct race_mem {
    vi_mem vi;
    const vi_mem *inner;
    fake_mem *fm;
    uint64_t entry;             /* the entry's address */
    unsigned tears;             /* how many multi-word reads to tear */
    bool alternate;             /* each tear writes the other of next[] / alt[] */
    uint64_t next[8], alt[8];
} race_mem;

static vi_mem_result race_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
    race_mem *rm = opaque;
    vi_mem_result r;

    if (pa != rm->entry || len <= 8 || !rm->tears) {
        return vi_mem_read(rm->inner, pa, buf, len);
    }
    rm->tears--;
    r = vi_mem_read(rm->inner, pa, buf, 8);
    for (unsigned i = 0; i < 8; i++) {
        fake_mem_poke64(rm->fm, pa + 8 * i, rm->next[i]);
    }
    if (rm->alternate) {
        uint64_t t[8];

        memcpy(t, rm->next, sizeof(t));
        memcpy(rm->next, rm->alt, sizeof(t));
        memcpy(rm->alt, t, sizeof(t));
    }
    return r ? r : vi_mem_read(rm->inner, pa + 8, (uint8_t *)buf + 8, len - 8);
}

static vi_mem_result race_write(void *opaque, uint64_t pa, const void *buf, size_t len)
{
    race_mem *rm = opaque;

    return rm->inner->ops->write(rm->inner->opaque, pa, buf, len);
}

static const vi_mem_ops race_ops = { .read = race_read, .write = race_write };

static void test_pasid_fetch_racing_guest(void)
{
    fake_mem *fm = fake_mem_new();
    vi_vtd_caps c = caps_all();
    uint64_t dir = fake_mem_alloc_page(fm, 4096), pt = fake_mem_alloc_page(fm, 4096);
    race_mem rm = { .vi = { &race_ops, &rm }, .inner = fake_mem_vi(fm), .fm = fm, .entry = pt + 64 * 5 };
    vi_vtd_ctx x = { .scalable = true, .pasid_dir = dir, .pdts = 0 };
    uint64_t old[8], pe[8];
    vi_vtd_fault f;
    vi_vtd_pe d;
    bool pde_fpd;

    fake_mem_poke64(fm, dir, pt | 1);
    pe_make(old, VI_VTD_PGTT_FS);

    /*
     * Linux's teardown (intel_pasid_clear_entry(): word 0 = FPD, words 1-7 = 0)
     * during the read: the result is the old entry or the not-present one,
     * never P=1 with DID 0 and a zero first-stage pointer.
     */
    for (unsigned i = 0; i < 8; i++) {
        fake_mem_poke64(fm, rm.entry + 8 * i, old[i]);
    }
    memset(rm.next, 0, sizeof(rm.next));
    rm.next[0] = 1ull << 1;             /* FPD, P clear */
    rm.tears = 1;
    g_assert_cmpint(vi_vtd_pasid_fetch(&rm.vi, &c, &x, 5, pe, &pde_fpd, &f), ==, 0);
    g_assert_cmpint(rm.tears, ==, 0);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);

    /* A whole-entry replace (*pte = new) during the read: exactly the new entry. */
    for (unsigned i = 0; i < 8; i++) {
        fake_mem_poke64(fm, rm.entry + 8 * i, old[i]);
    }
    pe_make(rm.next, VI_VTD_PGTT_FS);
    setf(&rm.next[1], 15, 0, 0x99);
    setf(&rm.next[2], 63, 12, 0x8000000ull >> 12);
    rm.tears = 1;
    g_assert_cmpint(vi_vtd_pasid_fetch(&rm.vi, &c, &x, 5, pe, &pde_fpd, &f), ==, 0);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.did, ==, 0x99);
    g_assert_cmpuint(d.fsptptr, ==, 0x8000000ull);

    /*
     * In-place replaces back and forth between entries that share word 0 (P,
     * PGTT) during every copy: never a mix, and a bounded read that ends in
     * the not-present state.
     */
    memcpy(rm.alt, old, sizeof(old));
    rm.alternate = true;
    rm.tears = 1000;
    g_assert_cmpint(vi_vtd_pasid_fetch(&rm.vi, &c, &x, 5, pe, &pde_fpd, &f), ==, 0);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);
    g_assert_cmpuint(1000 - rm.tears, ==, VI_MEM_ENTRY_TRIES + 1);
    fake_mem_free(fm);
}

static void test_pe_decode(void)
{
    vi_vtd_caps c = caps_all();
    uint64_t pe[8];
    vi_vtd_pe d;

    /* Second stage. */
    pe_make(pe, VI_VTD_PGTT_SS);
    setf(&pe[0], 1, 1, 1);          /* FPD */
    setf(&pe[0], 5, 5, 1);          /* SLEE */
    setf(&pe[0], 9, 9, 1);          /* SLADE */
    setf(&pe[1], 23, 23, 1);        /* PWSNP */
    setf(&pe[1], 24, 24, 1);        /* PGSNP */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.pgtt, ==, VI_VTD_PGTT_SS);
    g_assert_cmpuint(d.slptptr, ==, 0x5000000ull);
    g_assert_cmpuint(d.aw, ==, VI_VTD_AW_48);
    g_assert_cmpuint(d.aw_bits, ==, 48);
    g_assert_cmpuint(d.ss_levels, ==, 4);
    g_assert_cmpuint(d.did, ==, 0x77);
    g_assert_true(d.fpd && d.slee && d.slade && d.pwsnp && d.pgsnp);
    g_assert_cmpuint(d.fsptptr, ==, 0);     /* not used for SS */
    g_assert_cmpuint(d.fs_levels, ==, 0);
    c.slads = false;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    c.slads = true;
    setf(&pe[0], 4, 2, VI_VTD_AW_57);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    setf(&pe[0], 4, 2, 0);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    setf(&pe[0], 4, 2, VI_VTD_AW_39);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.ss_levels, ==, 3);
    setf(&pe[0], 50, 50, 1);        /* SLPTPTR above HAW */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    setf(&pe[0], 50, 50, 0);
    c.slts = false;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    c.slts = true;

    /* First stage. */
    pe_make(pe, VI_VTD_PGTT_FS);
    setf(&pe[0], 4, 2, 7);          /* AW unused by first stage */
    setf(&pe[0], 63, 12, ~0ull);    /* SLPTPTR unused too */
    setf(&pe[2], 0, 0, 1);          /* SRE */
    setf(&pe[2], 4, 4, 1);          /* WPE */
    setf(&pe[1], 25, 25, 1);        /* CD */
    setf(&pe[1], 26, 26, 1);        /* EMTE */
    setf(&pe[1], 29, 27, 6);        /* EMT */
    setf(&pe[1], 30, 30, 1);        /* PWT */
    setf(&pe[1], 31, 31, 1);        /* PCD */
    setf(&pe[1], 63, 32, 0x07050601u);  /* PAT */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.pgtt, ==, VI_VTD_PGTT_FS);
    g_assert_cmpuint(d.fsptptr, ==, 0x6000000ull);
    g_assert_cmpuint(d.fs_levels, ==, 4);
    g_assert_cmpuint(d.flpm, ==, VI_VTD_FLPM_4LEVEL);
    g_assert_true(d.sre && d.wpe && d.cd && d.emte && d.pwt && d.pcd);
    g_assert_false(d.ere || d.eafe || d.fpd);
    g_assert_cmpuint(d.emt, ==, 6);
    g_assert_cmpuint(d.pat, ==, 0x07050601u);
    g_assert_cmpuint(d.slptptr, ==, 0);
    /* 5-level needs FS5LP; FLPM 2/3 reserved. */
    setf(&pe[2], 3, 2, VI_VTD_FLPM_5LEVEL);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    c.fs5lp = true;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.fs_levels, ==, 5);
    setf(&pe[2], 3, 2, 2);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    setf(&pe[2], 3, 2, 3);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    setf(&pe[2], 3, 2, 0);
    /* Capability-dependent bits. */
    c.srs = false;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    c.srs = true;
    setf(&pe[2], 7, 7, 1);          /* EAFE */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    c.eafs = true;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_true(d.eafe);
    setf(&pe[2], 1, 1, 1);          /* ERE */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    c.ers = true;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_true(d.ere);
    /*
     * FSPTPTR above HAW: reserved for first-stage only, fine when nested (a
     * GPA the second stage checks); bits 63:52 are reserved either way.
     */
    setf(&pe[2], 50, 50, 1);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    setf(&pe[0], 8, 6, VI_VTD_PGTT_NESTED);
    setf(&pe[0], 4, 2, VI_VTD_AW_48);
    setf(&pe[0], 63, 12, 0x5000000ull >> 12);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.pgtt, ==, VI_VTD_PGTT_NESTED);
    g_assert_cmpuint(d.fsptptr, ==, (1ull << 50) | 0x6000000ull);
    g_assert_cmpint(pe_dec(&c, (uint64_t[8]){ pe[0], pe[1], pe[2] | (1ull << 55) },
                           &(vi_vtd_pe){ 0 }), ==, VI_VTD_FR_SM_PE_RSVD);
    g_assert_cmpuint(d.slptptr, ==, 0x5000000ull);
    g_assert_cmpuint(d.ss_levels, ==, 4);
    g_assert_cmpuint(d.fs_levels, ==, 4);
    c.nest = false;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    c.nest = true;
    setf(&pe[2], 55, 55, 0);
    setf(&pe[0], 8, 6, VI_VTD_PGTT_FS);
    c.flts = false;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    c.flts = true;

    /* Pass-through. */
    pe_make(pe, VI_VTD_PGTT_PT);
    setf(&pe[0], 4, 2, 0);          /* AW not used */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
    g_assert_cmpuint(d.pgtt, ==, VI_VTD_PGTT_PT);
    g_assert_cmpuint(d.did, ==, 0x77);
    c.pt = false;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    c.pt = true;

    /* Reserved PGTT values. */
    for (unsigned pgtt = 0; pgtt < 8; pgtt += (pgtt == 0 ? 5 : 1)) {
        pe_make(pe, pgtt);
        g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_INVALID);
    }
    /* Not present. */
    pe_make(pe, VI_VTD_PGTT_SS);
    pe[0] &= ~1ull;
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);
    /* Reserved bits in every word. */
    {
        static const struct { unsigned word, bit; } rsvd[] = {
            { 0, 10 }, { 0, 11 }, { 1, 16 }, { 1, 22 }, { 2, 8 }, { 2, 9 }, { 2, 10 },
            { 2, 11 }, { 3, 0 }, { 4, 17 }, { 5, 63 }, { 6, 1 }, { 7, 33 },
        };
        for (unsigned i = 0; i < G_N_ELEMENTS(rsvd); i++) {
            pe_make(pe, VI_VTD_PGTT_SS);
            g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
            pe[rsvd[i].word] |= 1ull << rsvd[i].bit;
            g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
        }
    }
    /* DID wider than CAP.ND. */
    pe_make(pe, VI_VTD_PGTT_SS);
    setf(&pe[1], 15, 0, 0x1000);
    c.nd = 4;               /* 12-bit DIDs */
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, VI_VTD_FR_SM_PE_RSVD);
    setf(&pe[1], 15, 0, 0xfff);
    g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
}

static void test_pe_check_req(void)
{
    sm_env e;
    vi_vtd_caps c = caps_all();
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    vi_vtd_req req;
    uint64_t pe[8];

    sm_setup(&e);
    req = REQ(0x508);
    req.has_pasid = true;
    req.pasid = TEST_PASID;
    req.priv = true;
    req.exec = true;
    /* Second stage only: the qualifiers are not checked. */
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, 0);
    /* First stage, SRE = 0. */
    pe_make(pe, VI_VTD_PGTT_FS);
    setf(&pe[0], 1, 1, 1);          /* FPD */
    poke_pe(&e, 5, pe);
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_PE_SRE);
    g_assert_true(f.fpd);
    setf(&pe[0], 1, 1, 0);
    setf(&pe[2], 0, 0, 1);
    poke_pe(&e, 5, pe);
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_PE_ERE);
    g_assert_false(f.fpd);
    c.ers = true;
    setf(&pe[2], 1, 1, 1);
    poke_pe(&e, 5, pe);
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, 0);
    g_assert_true(cfg.pe.sre && cfg.pe.ere);
    /* PASID entry not present. */
    pe[0] = 0;
    poke_pe(&e, 5, pe);
    g_assert_cmpint(sm_lookup(&e, &c, req, &cfg, &f), ==, VI_VTD_FR_SM_PE_NOT_PRESENT);
    g_assert_false(cfg.has_pe);
    fake_mem_free(e.fm);
}

static void test_reason_names(void)
{
    g_assert_cmpint(VI_VTD_FR_CTX_RSVD, ==, 0x0b);
    g_assert_cmpint(VI_VTD_FR_SM_PE_INVALID, ==, 0x5b);
    g_assert_cmpstr(vi_vtd_fault_reason_name(VI_VTD_FR_ROOT_NOT_PRESENT), ==,
                    "root entry not present");
    g_assert_cmpstr(vi_vtd_fault_reason_name(0xee), ==, "unknown");
}

/*
 * PASID entries as a Linux guest writes them (drivers/iommu/intel/pasid.h
 * setters: P, FPD, AW, PGTT, SSADE, SLPTPTR in qw0; DID, PWSNP, PGSNP in
 * qw1; SRE, FLPM, WPE, EAFE, FLPTPTR in qw2; qw3..qw7 cleared) decode without
 * a reserved-field fault, for first-stage, second-stage, nested and
 * pass-through; and qw2 bits 6:5 (NXE / SMEP in revision 3) are accepted.
 */
static void test_pe_guest_entries(void)
{
    static const unsigned pgtts[] = {
        VI_VTD_PGTT_FS, VI_VTD_PGTT_SS, VI_VTD_PGTT_NESTED, VI_VTD_PGTT_PT,
    };
    vi_vtd_caps c = caps_all();
    uint64_t pe[8];
    vi_vtd_pe d;

    c.srs = c.eafs = c.slads = c.fs5lp = true;
    for (unsigned i = 0; i < G_N_ELEMENTS(pgtts); i++) {
        for (unsigned flags = 0; flags < 32; flags++) {
            pe_make(pe, pgtts[i]);
            setf(&pe[0], 9, 9, pgtts[i] == VI_VTD_PGTT_SS || pgtts[i] == VI_VTD_PGTT_NESTED ?
                 flags & 1 : 0);                            /* SSADE */
            setf(&pe[1], 23, 23, (flags >> 1) & 1);         /* PWSNP */
            setf(&pe[1], 24, 24, (flags >> 2) & 1);         /* PGSNP */
            setf(&pe[2], 0, 0, (flags >> 3) & 1);           /* SRE */
            setf(&pe[2], 3, 2, (flags >> 4) & 1);           /* FLPM */
            setf(&pe[2], 4, 4, (flags >> 2) & 1);           /* WPE */
            setf(&pe[2], 7, 7, (flags >> 1) & 1);           /* EAFE */
            g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
            g_assert_cmpuint(d.pgtt, ==, pgtts[i]);
            setf(&pe[2], 6, 5, 3);                          /* NXE, SMEP (rev 3) */
            g_assert_cmpint(pe_dec(&c, pe, &d), ==, 0);
        }
    }
}

/*
 * Scalable-mode fault reason codes, checked against the specification's
 * numbering (RTA.1-3 0x30-0x32, SRT.1-3 0x38-0x3a, SCT.1-9 0x40-0x48,
 * SPD.1-3 0x50-0x52, SPT.1-6 0x58-0x5d).
 */
static void test_sm_reason_codes(void)
{
    static const struct { unsigned code, spec; } r[] = {
        { VI_VTD_FR_SM_RTADDR_INV, 0x30 }, { VI_VTD_FR_SM_TTM_PASID, 0x31 },
        { VI_VTD_FR_SM_TTM_PRQ, 0x32 },
        { VI_VTD_FR_SM_ROOT_ACCESS, 0x38 }, { VI_VTD_FR_SM_ROOT_NOT_PRESENT, 0x39 },
        { VI_VTD_FR_SM_ROOT_RSVD, 0x3a },
        { VI_VTD_FR_SM_CTX_ACCESS, 0x40 }, { VI_VTD_FR_SM_CTX_NOT_PRESENT, 0x41 },
        { VI_VTD_FR_SM_CTX_RSVD, 0x42 }, { VI_VTD_FR_SM_CTX_INVALID, 0x43 },
        { VI_VTD_FR_SM_CTX_DTE, 0x44 }, { VI_VTD_FR_SM_CTX_PASIDE, 0x45 },
        { VI_VTD_FR_SM_CTX_PASID_RANGE, 0x46 }, { VI_VTD_FR_SM_CTX_PRE, 0x47 },
        { VI_VTD_FR_SM_CTX_RID_PASID, 0x48 },
        { VI_VTD_FR_SM_PDE_ACCESS, 0x50 }, { VI_VTD_FR_SM_PDE_NOT_PRESENT, 0x51 },
        { VI_VTD_FR_SM_PDE_RSVD, 0x52 },
        { VI_VTD_FR_SM_PE_ACCESS, 0x58 }, { VI_VTD_FR_SM_PE_NOT_PRESENT, 0x59 },
        { VI_VTD_FR_SM_PE_RSVD, 0x5a }, { VI_VTD_FR_SM_PE_INVALID, 0x5b },
        { VI_VTD_FR_SM_PE_ERE, 0x5c }, { VI_VTD_FR_SM_PE_SRE, 0x5d },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(r); i++) {
        g_assert_cmphex(r[i].code, ==, r[i].spec);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vtd-cfg/legacy/lookup", test_legacy_lookup);
    g_test_add_func("/vtd-cfg/sm/lookup", test_sm_lookup);
    g_test_add_func("/vtd-cfg/sm/lookup-cached", test_sm_lookup_cached);
    g_test_add_func("/vtd-cfg/sm/page-request", test_sm_page_request);
    g_test_add_func("/vtd-cfg/fpd-not-present", test_fpd_not_present);
    g_test_add_func("/vtd-cfg/sm/context", test_sm_ctx);
    g_test_add_func("/vtd-cfg/sm/pasid-fetch", test_pasid_fetch);
    g_test_add_func("/vtd-cfg/sm/pasid-fetch-racing-guest", test_pasid_fetch_racing_guest);
    g_test_add_func("/vtd-cfg/sm/pasid-entry", test_pe_decode);
    g_test_add_func("/vtd-cfg/sm/pasid-entry-guest", test_pe_guest_entries);
    g_test_add_func("/vtd-cfg/sm/request-checks", test_pe_check_req);
    g_test_add_func("/vtd-cfg/reason-names", test_reason_names);
    g_test_add_func("/vtd-cfg/sm-reason-codes", test_sm_reason_codes);
    return g_test_run();
}
