/*
 * viommu-vtd ATS (ECAP.DT, device-iotlb=on) with viommu-testdev's Address
 * Translation Cache: Translation Requests answered from the remapping
 * unit's translation (no fault record for a page that does not translate),
 * Translated requests allowed by a legacy context entry with TT = 01b or a
 * scalable one with DTE and blocked otherwise (fault recorded), the ATC
 * outliving an IOTLB invalidation until a device-TLB (or PASID-based
 * device-TLB) invalidate descriptor removes the entry, and the wait
 * descriptor after it completing only once the device completed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "vtd-drv.h"
#include "hw/viommu/pasid-dma.h"

#define TD_ARGS     "-device viommu-testdev,addr=04.0"
#define SID         TD_DEVFN
#define DID         3
#define TT_DEVTLB   1
#define SCE0_DTE    (1ull << 2)
#define IOVA        0x12345000ull
#define IOVA_RO     0x22345000ull
#define IOVA_BLK    0x40000000ull

typedef struct AtsEnv {
    TdMachine *m;
    Td *td;
    Vtd *v;
    uint64_t slpt;
    uint64_t dir;           /* scalable: the PASID directory */
} AtsEnv;

static AtsEnv *ats_start(bool scalable, uint64_t ctx_bits)
{
    AtsEnv *a = g_new0(AtsEnv, 1);
    g_autofree char *args = g_strdup_printf("-device viommu-vtd,device-iotlb=on%s " TD_ARGS,
                                            scalable ? "" : ",scalable-mode=off");

    a->m = td_machine_start("kernel-irqchip=split", args);
    a->td = td_open(a->m, TD_DEVFN);
    a->v = vtd_new(a->m, scalable);
    a->slpt = vtd_table(a->v);
    if (scalable) {
        uint64_t pe[8];

        a->dir = vtd_ctx_sm(a->v, SID, 0, 0, ctx_bits);
        vtd_pe_ss(pe, a->slpt, 2, DID);
        vtd_pasid_entry(a->v, a->dir, 0, pe);
    } else {
        vtd_ctx_legacy(a->v, SID, ctx_bits, a->slpt, 1, DID);
    }
    vtd_enable(a->v);
    td_cfg_writew(a->td, TD_CFG_ATS + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE);
    return a;
}

static void ats_stop(AtsEnv *a)
{
    td_close(a->td);
    vtd_free(a->v);
    td_machine_stop(a->m);
    g_free(a);
}

static uint32_t translate(AtsEnv *a, uint64_t iova, bool ro, uint64_t *entry)
{
    uint32_t err = td_do(a->td, ro ? TD_OP_TRANSLATE_RO : TD_OP_TRANSLATE, iova, 0, 1);

    *entry = td_readq(a->td, TD_RESULT_LO);
    return err;
}

static uint32_t ats_sum(AtsEnv *a, uint64_t iova, uint64_t *sum)
{
    uint32_t err = td_do(a->td, TD_OP_CHECKSUM | TD_OP_ATS, iova, 0, 64);

    *sum = td_readq(a->td, TD_RESULT_LO);
    return err;
}

static void assert_ats_reads(AtsEnv *a, uint64_t iova, uint32_t tag)
{
    uint64_t sum;

    g_assert_cmpuint(ats_sum(a, iova, &sum), ==, TD_ERR_NONE);
    g_assert_cmphex(sum, ==, td_page_tagged_sum(tag));
}

static void assert_no_fault(AtsEnv *a)
{
    g_assert_false(vtd_rd32(a->v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
}

/* Device-TLB invalidate descriptor (6.5.2.5) for the 2^log2 range at addr. */
static void devtlb_inv(AtsEnv *a, uint64_t addr, unsigned log2)
{
    uint64_t r = viommu_ats_range_encode(addr, log2);

    vtd_qi_add(a->v, VIVTD_INV_DEVTLB | VIVTD_DTLB_SID(SID),
               (r & ~0xfffull) | ((r & VIOMMU_ATS_S) ? VIVTD_DTLB_S : 0));
}

/* Legacy mode, TT = 01b: Translation Completions and Translated requests. */
static void test_legacy(void)
{
    AtsEnv *a = ats_start(false, TT_DEVTLB);
    uint64_t pa = td_page_tagged(a->m, 4), entry, base, hi;
    uint64_t blk = (td_alloc(a->m, 4 << 20) + 0x1fffff) & ~0x1fffffull;

    g_assert_true(vtd_rd64(a->v, VIVTD_ECAP) & VIVTD_ECAP_DT);
    vtd_map(a->v, a->slpt, 3, IOVA, 1, pa, SS_RW, SS_RW);
    vtd_map(a->v, a->slpt, 3, IOVA_RO, 1, pa, SS_R, SS_RW);
    vtd_map(a->v, a->slpt, 3, IOVA_BLK, 2, blk, SS_RW | SS_PS, SS_RW);

    g_assert_cmpuint(translate(a, IOVA + 0x10, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, pa | VIOMMU_ATS_CPL_R | VIOMMU_ATS_CPL_W);
    g_assert_cmpuint(translate(a, IOVA, true, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, pa | VIOMMU_ATS_CPL_R);
    g_assert_cmpuint(translate(a, IOVA_RO, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, pa | VIOMMU_ATS_CPL_R);
    g_assert_cmpuint(translate(a, IOVA_BLK + 0x54321, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmpuint(viommu_ats_range_decode(entry & ~0x7ffull, &base), ==, 21);
    g_assert_cmphex(base, ==, blk);
    /* Not present: Success, R = W = 0, one 4 KiB page, nothing recorded (4.2.3). */
    g_assert_cmpuint(translate(a, 0x3000000, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, 0x3000000);
    assert_no_fault(a);

    /* Translated requests pass with TT = 01b. */
    assert_ats_reads(a, IOVA, 4);
    assert_no_fault(a);

    /* TT = 00b: a Translation Request is UR (fault 0xD); a Translated request is blocked. */
    vtd_ctx_legacy(a->v, SID, 0, a->slpt, 1, DID);
    vtd_qi_add(a->v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_sync(a->v);
    {
        uint64_t sum;

        g_assert_cmpuint(ats_sum(a, IOVA, &sum), ==, TD_ERR_READ_FAULT);  /* ATC hit, refused */
        g_assert_cmphex(vtd_take_fault(a->v, &hi, NULL), ==, 0x0d);
        g_assert_cmphex(hi & 0xffff, ==, SID);
        g_assert_cmpuint(translate(a, 0x5000000, false, &entry), ==, TD_ERR_ATS_UR);
        g_assert_cmphex(vtd_take_fault(a->v, NULL, NULL), ==, 0x0d);
    }
    /* Untranslated DMA still works with TT = 00b. */
    td_assert_reads(a->td, IOVA, 4);
    /* Remapping off: a Translation Request is UR, Translated requests pass. */
    vtd_ctx_legacy(a->v, SID, TT_DEVTLB, a->slpt, 1, DID);
    vtd_gcmd(a->v, VIVTD_GCMD_TE, false);
    g_assert_cmpuint(translate(a, IOVA, false, &entry), ==, TD_ERR_ATS_UR);
    assert_no_fault(a);
    ats_stop(a);
}

/* The ATC caches; device-TLB invalidations remove entries; the wait waits for them. */
static void test_devtlb_inv(void)
{
    AtsEnv *a = ats_start(false, TT_DEVTLB);
    QTestState *qts = a->m->qts;
    uint64_t p1 = td_page_tagged(a->m, 1), p2 = td_page_tagged(a->m, 2), leaf;
    const uint64_t other = IOVA + 0x40000;

    leaf = vtd_map(a->v, a->slpt, 3, IOVA, 1, p1, SS_RW, SS_RW);
    vtd_map(a->v, a->slpt, 3, other, 1, p1, SS_RW, SS_RW);
    assert_ats_reads(a, IOVA, 1);
    assert_ats_reads(a, other, 1);
    /* Remap IOVA to p2; invalidate the IOTLB only. */
    qtest_writeq(qts, leaf, p2 | SS_RW);
    vtd_qi_add(a->v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(a->v);
    td_assert_reads(a->td, IOVA, 2);               /* untranslated: the new mapping */
    assert_ats_reads(a, IOVA, 1);                  /* translated: the stale ATC entry */

    /* Another page: the entry stays; IOVA's page: it goes, the next DMA translates. */
    devtlb_inv(a, 0x7000000, 12);
    vtd_qi_sync(a->v);
    assert_ats_reads(a, IOVA, 1);
    devtlb_inv(a, IOVA, 12);
    vtd_qi_sync(a->v);
    g_assert_cmpuint(td_readl(a->td, TD_ATC_VALID), ==, 1);
    assert_ats_reads(a, IOVA, 2);
    g_assert_cmpuint(td_readl(a->td, TD_ATC_MISSES), ==, 3);
    /* A ranged one (S = 1: the 1 MiB holding both pages) removes both. */
    devtlb_inv(a, IOVA & ~0xfffffull, 20);
    vtd_qi_sync(a->v);
    g_assert_cmpuint(td_readl(a->td, TD_ATC_VALID), ==, 0);
    g_assert_cmpuint(td_readl(a->td, TD_ATS_INVALS), ==, 3);
    /* One for a SID with no device-TLB: nothing is sent. */
    vtd_qi_add(a->v, VIVTD_INV_DEVTLB | VIVTD_DTLB_SID(SID + 8), 0);
    vtd_qi_sync(a->v);
    g_assert_cmpuint(td_readl(a->td, TD_ATS_INVALS), ==, 3);
    /* Reserved bits: an invalidation queue error. */
    vtd_qi_add(a->v, VIVTD_INV_DEVTLB | VIVTD_DTLB_SID(SID), 0x2);
    vtd_qi_kick(a->v);
    g_assert_true(vtd_rd32(a->v, VIVTD_FSTS) & VIVTD_FSTS_IQE);
    vtd_frcd_clear_all(a->v);

    ats_stop(a);
}

/* The wait descriptor after a device-TLB invalidation completes after the device did. */
static void test_wait_order(void)
{
    AtsEnv *a = ats_start(false, TT_DEVTLB);
    QTestState *qts = a->m->qts;
    uint64_t p1 = td_page_tagged(a->m, 1), wait_at;
    uint32_t seq;

    vtd_map(a->v, a->slpt, 3, IOVA, 1, p1, SS_RW, SS_RW);
    assert_ats_reads(a, IOVA, 1);
    td_writel(a->td, TD_ATS_INV_DELAY_NS, 5000000);
    devtlb_inv(a, IOVA, 12);
    wait_at = a->v->iq_tail;
    seq = ++a->v->wait_seq;
    vtd_qi_add(a->v, VIVTD_INV_WAIT | VIVTD_WAIT_SW | VIVTD_WAIT_SDATA(seq), a->v->status);
    vtd_qi_kick(a->v);
    g_assert_cmphex(qtest_readl(qts, a->v->status), !=, seq);
    g_assert_cmphex(vtd_rd64(a->v, VIVTD_IQH), ==, wait_at * (a->v->wide ? 32 : 16));
    qtest_clock_step(qts, 4000000);
    g_assert_cmphex(qtest_readl(qts, a->v->status), !=, seq);
    g_assert_cmpuint(td_readl(a->td, TD_ATC_VALID), ==, 1);
    qtest_clock_step(qts, 2000000);
    g_assert_cmphex(qtest_readl(qts, a->v->status), ==, seq);
    g_assert_cmphex(vtd_rd64(a->v, VIVTD_IQH), ==, vtd_rd64(a->v, VIVTD_IQT));
    g_assert_cmpuint(td_readl(a->td, TD_ATC_VALID), ==, 0);

    /* 40 of them: 32 ITags outstanding at most, the rest wait; the wait after all. */
    td_writel(a->td, TD_ATS_INV_DELAY_NS, 1000000);
    for (int i = 0; i < 40; i++) {
        devtlb_inv(a, IOVA + i * 4096, 12);
    }
    vtd_qi_sync(a->v);
    g_assert_cmpuint(td_readl(a->td, TD_ATS_INVALS), ==, 41);
    ats_stop(a);
}

/* Scalable mode: DTE allows ATS; PASID-based device-TLB invalidation. */
static void test_scalable(void)
{
    AtsEnv *a = ats_start(true, SCE0_DTE);
    uint64_t p1 = td_page_tagged(a->m, 6), p2 = td_page_tagged(a->m, 7), entry, leaf;

    leaf = vtd_map(a->v, a->slpt, 4, IOVA, 1, p1, SS_RW, SS_RW);
    g_assert_cmpuint(translate(a, IOVA, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, p1 | VIOMMU_ATS_CPL_R | VIOMMU_ATS_CPL_W);
    assert_ats_reads(a, IOVA, 6);
    qtest_writeq(a->m->qts, leaf, p2 | SS_RW);
    vtd_qi_add(a->v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(a->v);
    assert_ats_reads(a, IOVA, 6);                  /* stale in the ATC */
    /* PASID-based, PASID 5: not the entries of requests without PASID ... */
    vtd_qi_add(a->v, VIVTD_INV_PDEVTLB | VIVTD_PDTLB_SID(SID) | VIVTD_INV_PASID(5),
               (UINT64_MAX >> 1 & ~0xfffull) | VIVTD_PDTLB_S);
    vtd_qi_sync(a->v);
    g_assert_cmpuint(td_readl(a->td, TD_ATC_VALID), ==, 1);
    /* ... with G (Global Invalidate), every PASID's and those. */
    vtd_qi_add(a->v, VIVTD_INV_PDEVTLB | VIVTD_PDTLB_SID(SID) | VIVTD_INV_PASID(5),
               (UINT64_MAX >> 1 & ~0xfffull) | VIVTD_PDTLB_S | VIVTD_PDTLB_G);
    vtd_qi_sync(a->v);
    g_assert_cmpuint(td_readl(a->td, TD_ATC_VALID), ==, 0);
    assert_ats_reads(a, IOVA, 7);
    ats_stop(a);

    /* DTE clear: Translation Requests and Translated requests are refused (SCT.4). */
    a = ats_start(true, 0);
    vtd_map(a->v, a->slpt, 4, IOVA, 1, p1, SS_RW, SS_RW);
    g_assert_cmpuint(translate(a, IOVA, false, &entry), ==, TD_ERR_ATS_UR);
    g_assert_cmphex(vtd_take_fault(a->v, NULL, NULL), ==, 0x44);
    ats_stop(a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-vtd/ats/legacy", test_legacy);
    qtest_add_func("/viommu-vtd/ats/devtlb-inv", test_devtlb_inv);
    qtest_add_func("/viommu-vtd/ats/wait-order", test_wait_order);
    qtest_add_func("/viommu-vtd/ats/scalable", test_scalable);
    return g_test_run();
}
