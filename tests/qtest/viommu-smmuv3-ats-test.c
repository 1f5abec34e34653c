/*
 * viommu-smmuv3 ATS (IHI 0070 3.9.1, 4.5.1, 4.7.3) with viommu-testdev's
 * Address Translation Cache: Translation Requests answered from the SMMU's
 * translation without fault events, Translated requests checked against
 * STE.EATS (CR0.ATSCHK), ATC entries that outlive a TLBI until CMD_ATC_INV
 * removes them, and CMD_SYNC waiting for the Invalidate Completions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"
#include "hw/viommu/pasid-dma.h"

#define SID             SMMU_TD_SID
#define ASID            7
#define STE1_EATS(v)    ((uint64_t)(v) << 28)
#define CR0_ATSCHK      R_VISMMU_CR0_ATSCHK_MASK
#define EVT_F_BAD_ATS_TREQ      VI_SMMU_EVT_F_BAD_ATS_TREQ
#define EVT_F_TRANSL_FORBIDDEN  VI_SMMU_EVT_F_TRANSL_FORBIDDEN
/* CMD_ATC_INV (4.5.1): SID, SSV/SSID, Global; Size (2^Size pages) and Address. */
#define ATC_INV(sid)    (CMD_ATC_INV | ((uint64_t)(sid) << 32))
#define ATC_GLOBAL      (1ull << 9)
#define ATC_SIZE_ALL    52

typedef struct AtsEnv {
    SmmuEnv *e;
    SmmuS1 s;
} AtsEnv;

static void set_cr0(SmmuDrv *d, uint32_t set, uint32_t clear)
{
    uint32_t v = (smmu_readl(d, SMMU_CR0) | set) & ~clear;

    smmu_writel(d, SMMU_CR0, v);
    g_assert_cmphex(smmu_readl(d, SMMU_CR0ACK), ==, v);
}

static void write_ste_eats(AtsEnv *a, unsigned eats)
{
    uint64_t ste[8];

    smmu_ste_s1(ste, a->s.cdtab, 0, 0, 0);
    ste[1] |= STE1_EATS(eats);
    smmu_write_ste(a->e->d, SID, ste);
}

/* Stage 1 for the device, STE.EATS = eats, CR0.ATSCHK as Linux sets it, ATS enabled. */
static AtsEnv *ats_start(const char *props, unsigned eats)
{
    AtsEnv *a = g_new0(AtsEnv, 1);

    a->e = smmu_env_start(props, false, 8, 6, NULL);
    smmu_s1_setup(a->e, &a->s, 12, ASID);
    write_ste_eats(a, eats);
    set_cr0(a->e->d, CR0_ATSCHK, 0);
    td_cfg_writew(a->e->td, TD_CFG_ATS + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE);
    return a;
}

static void ats_stop(AtsEnv *a)
{
    smmu_env_stop(a->e);
    g_free(a);
}

/* One Translation Request for iova: TD_ERR_*, the completion data entry in *entry. */
static uint32_t translate(AtsEnv *a, uint64_t iova, bool ro, uint64_t *entry)
{
    uint32_t err = td_do(a->e->td, ro ? TD_OP_TRANSLATE_RO : TD_OP_TRANSLATE, iova, 0, 1);

    *entry = td_readq(a->e->td, TD_RESULT_LO);
    return err;
}

/* A checksum of 64 bytes at iova as Translated requests: TD_ERR_*, the sum in *sum. */
static uint32_t ats_sum(AtsEnv *a, uint64_t iova, uint64_t *sum)
{
    uint32_t err = td_do(a->e->td, TD_OP_CHECKSUM | TD_OP_ATS, iova, 0, 64);

    *sum = td_readq(a->e->td, TD_RESULT_LO);
    return err;
}

static void assert_ats_reads(AtsEnv *a, uint64_t iova, uint32_t tag)
{
    uint64_t sum;

    g_assert_cmpuint(ats_sum(a, iova, &sum), ==, TD_ERR_NONE);
    g_assert_cmphex(sum, ==, td_page_tagged_sum(tag));
}

static void test_idr(void)
{
    SmmuEnv *e = smmu_env_start(NULL, false, 8, 6, NULL);
    uint32_t idr0 = smmu_readl(e->d, SMMU_IDR0);

    g_assert_true(FIELD_EX32(idr0, VISMMU_IDR0, ATS));
    g_assert_true(FIELD_EX32(idr0, VISMMU_IDR0, NS1ATS));     /* no split-stage ATS */
    set_cr0(e->d, CR0_ATSCHK, 0);
    set_cr0(e->d, 0, CR0_ATSCHK);
    smmu_env_stop(e);

    /* ats=off: no IDR0.ATS, ATSCHK RES0, CMD_ATC_INV ILLEGAL (4.5.1). */
    e = smmu_env_start("ats=off,pri=off", false, 8, 6, NULL);
    g_assert_false(FIELD_EX32(smmu_readl(e->d, SMMU_IDR0), VISMMU_IDR0, ATS));
    smmu_writel(e->d, SMMU_CR0, smmu_readl(e->d, SMMU_CR0) | CR0_ATSCHK);
    g_assert_false(smmu_readl(e->d, SMMU_CR0ACK) & CR0_ATSCHK);
    g_assert_cmpuint(smmu_cmd_sync(e->d, ATC_INV(SID), 0), ==, CERROR_ILL);
    smmu_env_stop(e);
}

/* Translation Completions (3.9.1.2): size, permissions, and failures without events. */
static void test_translate(void)
{
    AtsEnv *a = ats_start(NULL, 1);
    uint64_t pa = td_alloc(a->e->m, 4096), blk = 0x48000000, entry, base;
    const uint64_t iova = 0x100000, iova_ro = 0x200000, iova_blk = 0x40000000;

    smmu_pt_map(&a->s.pt, iova, pa, 4096, PT_R | PT_W);
    smmu_pt_map(&a->s.pt, iova_ro, pa, 4096, PT_R);
    smmu_pt_map_block(&a->s.pt, 2, iova_blk, blk, PT_R | PT_W);

    /* A read-write page: its PA, 4 KiB (S = 0), R and W. */
    g_assert_cmpuint(translate(a, iova + 0x123, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, pa | VIOMMU_ATS_CPL_R | VIOMMU_ATS_CPL_W);
    /* NW: read only, whatever the page allows. */
    g_assert_cmpuint(translate(a, iova, true, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, pa | VIOMMU_ATS_CPL_R);
    /* A read-only page asked for write: read is granted, write is not. */
    g_assert_cmpuint(translate(a, iova_ro, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, pa | VIOMMU_ATS_CPL_R);
    /* A 2 MiB block: the whole block, its size in the S encoding. */
    g_assert_cmpuint(translate(a, iova_blk + 0x12345, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry & 3, ==, VIOMMU_ATS_CPL_R | VIOMMU_ATS_CPL_W);
    g_assert_true(entry & VIOMMU_ATS_S);
    g_assert_cmpuint(viommu_ats_range_decode(entry & ~0x7ffull, &base), ==, 21);
    g_assert_cmphex(base, ==, blk);
    /* Unmapped: Success with R = W = 0 for one 4 KiB page, and no event. */
    g_assert_cmpuint(translate(a, 0x300000, false, &entry), ==, TD_ERR_NONE);
    g_assert_cmphex(entry, ==, 0x300000);
    smmu_expect_no_event(a->e);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 3);     /* R = W = 0 is not cached */

    /* EATS = 0b00: UR and F_BAD_ATS_TREQ. */
    write_ste_eats(a, 0);
    {
        uint64_t ev[4];

        g_assert_cmpuint(translate(a, iova, false, &entry), ==, TD_ERR_ATS_UR);
        smmu_expect_event(a->e, EVT_F_BAD_ATS_TREQ, ev);
        g_assert_cmphex(EVT_ADDR(ev), ==, iova);
    }
    /* An Abort STE: UR without an event; a bad CD: Completer Abort, no event. */
    {
        uint64_t ste[8] = { 1 | (STE_CFG_ABORT << 1) };

        smmu_write_ste(a->e->d, SID, ste);
        g_assert_cmpuint(translate(a, iova, false, &entry), ==, TD_ERR_ATS_UR);
        smmu_expect_no_event(a->e);
        qtest_writeq(a->e->m->qts, a->s.cdtab, 0);          /* CD.V = 0: C_BAD_CD */
        smmu_ste_s1(ste, a->s.cdtab, 0, 0, 0);
        ste[1] |= STE1_EATS(1);
        smmu_write_ste(a->e->d, SID, ste);
        smmu_cmd_sync(a->e->d, CMD_CFGI_CD_ALL | ((uint64_t)SID << 32), 0);
        g_assert_cmpuint(translate(a, iova, false, &entry), ==, TD_ERR_ATS_CA);
        smmu_expect_no_event(a->e);
    }
    /* SMMUEN = 0: UR and F_BAD_ATS_TREQ (it still goes to the queue: EVENTQEN stays). */
    ats_stop(a);
}

/* Translated requests (3.9.1.3): EATS lets them pass; EATS = 0 with ATSCHK aborts them. */
static void test_translated_eats(void)
{
    AtsEnv *a = ats_start(NULL, 1);
    uint64_t page = td_page_tagged(a->e->m, 5), ev[4];
    const uint64_t iova = 0x100000;

    smmu_pt_map(&a->s.pt, iova, page, 4096, PT_R | PT_W);
    assert_ats_reads(a, iova, 5);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_MISSES), ==, 1);
    assert_ats_reads(a, iova, 5);                           /* from the ATC */
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_MISSES), ==, 1);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_HITS), >=, 1);
    smmu_expect_no_event(a->e);

    /* EATS cleared (the ATC still holds the translation): aborted, F_TRANSL_FORBIDDEN. */
    write_ste_eats(a, 0);
    {
        uint64_t sum;

        g_assert_cmpuint(ats_sum(a, iova, &sum), ==, TD_ERR_READ_FAULT);
        smmu_expect_event(a->e, EVT_F_TRANSL_FORBIDDEN, ev);
        g_assert_cmphex(EVT_ADDR(ev), ==, page);
        g_assert_true(EVT_RNW(ev));
    }
    /* ATSCHK = 0: Translated traffic is not checked (fast mode). */
    set_cr0(a->e->d, 0, CR0_ATSCHK);
    assert_ats_reads(a, iova, 5);
    smmu_expect_no_event(a->e);
    /*
     * SMMUEN = 0: aborted (F_TRANSL_FORBIDDEN, which the event queue does not
     * take while SMMUEN is 0), whatever ATSCHK says.
     */
    set_cr0(a->e->d, CR0_ATSCHK, CR0_SMMUEN);
    {
        uint64_t sum;

        g_assert_cmpuint(ats_sum(a, iova, &sum), ==, TD_ERR_READ_FAULT);
        set_cr0(a->e->d, CR0_SMMUEN, 0);
        smmu_expect_no_event(a->e);
    }
    /* ATS disabled in the device: the operation is refused before any request. */
    td_cfg_writew(a->e->td, TD_CFG_ATS + PCI_ATS_CTRL, 0);
    {
        uint64_t sum;

        g_assert_cmpuint(ats_sum(a, iova, &sum), ==, TD_ERR_ATS_DISABLED);
    }
    ats_stop(a);
}

/* The ATC really caches: a TLBI alone leaves it stale, CMD_ATC_INV removes the entry. */
static void test_atc_inv(void)
{
    AtsEnv *a = ats_start(NULL, 1);
    QTestState *qts = a->e->m->qts;
    uint64_t p1 = td_page_tagged(a->e->m, 1), p2 = td_page_tagged(a->e->m, 2);
    uint64_t leaf, pte;
    const uint64_t iova = 0x100000, other = 0x180000;

    smmu_pt_map(&a->s.pt, iova, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&a->s.pt, other, p1, 4096, PT_R | PT_W);
    assert_ats_reads(a, iova, 1);
    assert_ats_reads(a, other, 1);
    /* Remap iova to p2 and invalidate the SMMU's TLB only. */
    leaf = smmu_pt_leaf(&a->s.pt, iova);
    pte = qtest_readq(qts, leaf);
    qtest_writeq(qts, leaf, (pte & ~0x0000fffffffff000ull) | p2);
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, CMD_TLBI_NSNH_ALL, 0), ==, 0);
    td_assert_reads(a->e->td, iova, 2);            /* untranslated: the new mapping */
    assert_ats_reads(a, iova, 1);                  /* translated: the stale ATC entry */

    /* An ATC_INV for another page leaves it; one for iova's page removes it alone. */
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID), 0x500000), ==, 0);
    assert_ats_reads(a, iova, 1);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATS_INVALS), ==, 1);
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID), iova), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATS_INVALS), ==, 2);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 1);
    assert_ats_reads(a, iova, 2);                  /* translated again */
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_MISSES), ==, 3);
    /* A ranged one (Size = 9: 2 MiB) covers both pages; a StreamID without ATC: nothing. */
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID + 1), 0), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATS_INVALS), ==, 2);
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID), 9), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 0);
    /* Entries of a PASID are not those of requests without one, unless Global. */
    assert_ats_reads(a, iova, 2);
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID) | (1ull << 11) | (3ull << 12),
                                   ATC_SIZE_ALL), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 1);
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID) | ATC_GLOBAL, ATC_SIZE_ALL), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 0);
    ats_stop(a);
}

/* CMD_SYNC completes only after the Invalidate Completions of the ATC_INVs before it. */
static void test_sync_waits(void)
{
    AtsEnv *a = ats_start(NULL, 1);
    SmmuDrv *d = a->e->d;
    QTestState *qts = a->e->m->qts;
    uint64_t page = td_page_tagged(a->e->m, 3), box = td_alloc(a->e->m, 4096);
    const uint64_t iova = 0x100000;
    uint32_t sync_at;

    smmu_pt_map(&a->s.pt, iova, page, 4096, PT_R | PT_W);
    assert_ats_reads(a, iova, 3);
    td_writel(a->e->td, TD_ATS_INV_DELAY_NS, 5000000);     /* 5 ms per completion */

    /* ATC_INV, then CMD_SYNC with an MSI to box (CS = IRQ, MSIData 0x5a). */
    qtest_writel(qts, box, 0);
    smmu_cmd(d, ATC_INV(SID), iova);
    sync_at = d->cmdq_prod;
    smmu_cmd(d, CMD_SYNC | (1u << 12) | (3u << 22) | (0x5aull << 32), box);
    smmu_writel(d, SMMU_CMDQ_PROD, d->cmdq_prod);
    g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, sync_at);
    qtest_clock_step(qts, 4000000);
    g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, sync_at);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 1);  /* not yet applied */
    qtest_clock_step(qts, 2000000);
    g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, d->cmdq_prod);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x5a);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 0);

    /* 40 ATC_INVs: only 32 ITags, the rest wait for completions; then SYNC. */
    td_writel(a->e->td, TD_ATS_INV_DELAY_NS, 1000000);
    for (int i = 0; i < 40; i++) {
        smmu_cmd(d, ATC_INV(SID), iova + i * 4096);
    }
    g_assert_cmpuint(smmu_sync(d), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATS_INVALS), ==, 41);

    /* The device reset drops what it had not answered: the SYNC completes. */
    td_writel(a->e->td, TD_ATS_INV_DELAY_NS, 1000000000);
    smmu_cmd(d, ATC_INV(SID), iova);
    sync_at = d->cmdq_prod;
    smmu_cmd(d, CMD_SYNC | (3u << 22), 0);
    smmu_writel(d, SMMU_CMDQ_PROD, d->cmdq_prod);
    g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, sync_at);
    td_cfg_writew(a->e->td, TD_CFG_ATS + PCI_ATS_CTRL, 0);      /* ATS disabled: detached */
    qtest_clock_step(qts, 100000);
    g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, d->cmdq_prod);
    ats_stop(a);
}

/* Migration: the ATC is flushed at load, ATS stays enabled and invalidations reach it. */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-smmuv3-ats-mig-%d", g_get_tmp_dir(),
                                            getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    AtsEnv *a = ats_start(NULL, 1);
    uint64_t page = td_page_tagged(a->e->m, 9);
    const uint64_t iova = 0x100000;
    SmmuDrv saved;

    smmu_pt_map(&a->s.pt, iova, page, 4096, PT_R | PT_W);
    assert_ats_reads(a, iova, 9);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 1);
    qtest_qmp_assert_success(a->e->m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(a->e->m->qts);
    saved = *a->e->d;
    smmu_env_stop(a->e);

    a->e = smmu_env_start(NULL, false, 0, 0, incoming);
    td_wait_migration(a->e->m->qts);
    a->e->d = g_new(SmmuDrv, 1);
    *a->e->d = saved;
    a->e->d->qts = a->e->m->qts;
    a->e->d->m = a->e->m;
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 0);     /* flushed */
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_MISSES), ==, 1);    /* counters migrated */
    g_assert_cmphex(td_cfg_readw(a->e->td, TD_CFG_ATS + PCI_ATS_CTRL), ==, PCI_ATS_CTRL_ENABLE);
    assert_ats_reads(a, iova, 9);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_MISSES), ==, 2);
    /* Attached again at load: the invalidation reaches the ATC. */
    g_assert_cmpuint(smmu_cmd_sync(a->e->d, ATC_INV(SID), iova), ==, 0);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATS_INVALS), ==, 1);
    g_assert_cmpuint(td_readl(a->e->td, TD_ATC_VALID), ==, 0);
    ats_stop(a);
    unlink(file);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-smmuv3/ats/idr", test_idr);
    qtest_add_func("/viommu-smmuv3/ats/translate", test_translate);
    qtest_add_func("/viommu-smmuv3/ats/translated-eats", test_translated_eats);
    qtest_add_func("/viommu-smmuv3/ats/atc-inv", test_atc_inv);
    qtest_add_func("/viommu-smmuv3/ats/sync-waits", test_sync_waits);
    qtest_add_func("/viommu-smmuv3/ats/migration", test_migration);
    return g_test_run();
}
