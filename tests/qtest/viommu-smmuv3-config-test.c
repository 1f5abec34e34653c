/*
 * qtests for viommu-smmuv3 features and non-default configurations, driven
 * like Linux's arm-smmu-v3 driver (smmuv3-drv.c) with viommu-testdev doing
 * the DMA: wired interrupts (msi=off), the GERROR MSI abort errors, one
 * stage only (stages=s1 / s2), linear-only stream and CD tables
 * (st-2lvl=off, cd-2lvl=off), no range invalidation (ril=off), caches small
 * enough to evict all the time, and substreams with nesting.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

#define SID             SMMU_TD_SID
#define UNBACKED_PA     0x3f00000000ull     /* nothing there */

typedef SmmuEnv Env;

static uint32_t gerror_active(Env *e)
{
    return smmu_readl(e->d, SMMU_GERROR) ^ smmu_readl(e->d, SMMU_GERRORN);
}

static void gerror_ack(Env *e)
{
    smmu_writel(e->d, SMMU_GERRORN, smmu_readl(e->d, SMMU_GERROR));
}

/* CMD_SYNC with completion signal cs (MSI to msi_addr when cs is IRQ). */
static void sync_cs(Env *e, unsigned cs, uint64_t msi_addr, uint32_t msi_data)
{
    smmu_cmd(e->d, CMD_SYNC | ((uint64_t)cs << 12) | (3u << 22) | (0xfu << 24) |
             ((uint64_t)msi_data << 32), msi_addr);
    smmu_writel(e->d, SMMU_CMDQ_PROD, e->d->cmdq_prod);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CMDQ_CONS), ==, e->d->cmdq_prod);
}

/* ------------------------------------------------------------------------
 * msi=off: the four wired interrupts of the virt machine's SMMU node
 * ("eventq", "priq", "cmdq-sync", "gerror": SPIs 74..77), seen as a Linux
 * interrupt handler would, in the GIC distributor's pending bits.
 */
#define GICD_BASE       0x08000000ull
#define GICD_ISPENDR    0x200
#define GICD_ICPENDR    0x280
#define GICD_ICFGR      0xc00
#define SMMU_SPI_BASE   74

enum { LINE_EVTQ, LINE_PRIQ, LINE_SYNC, LINE_GERROR, NLINES };

static unsigned line_intid(int line)
{
    return 32 + SMMU_SPI_BASE + line;
}

static void gic_set_edge(QTestState *qts, unsigned intid)
{
    uint64_t a = GICD_BASE + GICD_ICFGR + (intid / 16) * 4;

    qtest_writel(qts, a, qtest_readl(qts, a) | (2u << (intid % 16) * 2));
}

static bool gic_pending(QTestState *qts, unsigned intid)
{
    return (qtest_readl(qts, GICD_BASE + GICD_ISPENDR + (intid / 32) * 4) >> (intid % 32)) & 1;
}

static void gic_clear_all(QTestState *qts)
{
    for (int l = 0; l < NLINES; l++) {
        unsigned id = line_intid(l);

        qtest_writel(qts, GICD_BASE + GICD_ICPENDR + (id / 32) * 4, 1u << (id % 32));
        g_assert_false(gic_pending(qts, id));
    }
}

/* Exactly the lines in mask pending; then cleared. */
static void expect_lines(QTestState *qts, unsigned mask)
{
    for (int l = 0; l < NLINES; l++) {
        g_assert_cmpint(gic_pending(qts, line_intid(l)), ==, !!(mask & (1u << l)));
    }
    gic_clear_all(qts);
}

static void test_wired_irqs(void)
{
    Env *e = smmu_env_start("msi=off", false, 0, 0, NULL);
    QTestState *qts = e->m->qts;
    uint64_t box = td_alloc(e->m, 4096), a = td_alloc(e->m, 4096), rec[2];
    uint64_t ste[8] = { 0 };
    SmmuS1 s;
    unsigned prgi;

    e->d = smmu_drv_init_lenient(e->m, 8, 6);  /* no MSI: CMD_SYNC is polled */
    g_assert_false(smmu_readl(e->d, SMMU_IDR0) & R_VISMMU_IDR0_MSI_MASK);
    /* The MSI configuration registers are RES0 without MSI support. */
    smmu_writeq(e->d, SMMU_EVENTQ_IRQ_CFG0, box);
    smmu_writel(e->d, SMMU_EVENTQ_IRQ_CFG1, 0xe0e0);
    smmu_writeq(e->d, SMMU_GERROR_IRQ_CFG0, box + 8);
    smmu_writel(e->d, SMMU_GERROR_IRQ_CFG1, 0x6e6e);
    smmu_writeq(e->d, SMMU_PRIQ_IRQ_CFG0, box + 16);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG1, 0x9e9e);
    g_assert_cmphex(qtest_readq(qts, SMMU_BASE + SMMU_EVENTQ_IRQ_CFG0), ==, 0);
    g_assert_cmphex(qtest_readq(qts, SMMU_BASE + SMMU_GERROR_IRQ_CFG0), ==, 0);
    for (int l = 0; l < NLINES; l++) {
        gic_set_edge(qts, line_intid(l));
    }
    gic_clear_all(qts);

    /* An event: the eventq line, no write anywhere. */
    smmu_write_ste(e->d, SID, ste);                 /* V = 0: C_BAD_STE */
    gic_clear_all(qts);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, a + 8, 8), ==, TD_ERR_READ_FAULT);
    sync_cs(e, VISMMU_SYNC_CS_NONE, 0, 0);
    smmu_expect_event(e, EVT_C_BAD_STE, (uint64_t[4]){ 0 });
    expect_lines(qts, 1u << LINE_EVTQ);
    /* ... and none with EVENTQ_IRQEN clear. */
    smmu_writel(e->d, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR);
    g_assert_cmphex(smmu_readl(e->d, SMMU_IRQ_CTRLACK), ==, IRQ_CTRL_GERROR);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, a + 8, 8), ==, TD_ERR_READ_FAULT);
    sync_cs(e, VISMMU_SYNC_CS_NONE, 0, 0);
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 1);
    expect_lines(qts, 0);
    smmu_writel(e->d, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR | IRQ_CTRL_EVENTQ);

    /* CMD_SYNC with CS = IRQ: the cmdq-sync line; CS = none: nothing. */
    sync_cs(e, VISMMU_SYNC_CS_IRQ, 0, 0);
    expect_lines(qts, 1u << LINE_SYNC);
    sync_cs(e, VISMMU_SYNC_CS_NONE, 0, 0);
    expect_lines(qts, 0);

    /* A page request: the priq line. */
    smmu_s1_setup(e, &s, 12, 3);
    smmu_priq_init(e->d, 4);
    td_pri_enable(e->td, 8);
    gic_clear_all(qts);
    td_program(e->td, TD_OP_FILL | TD_OP_PRI, 0, 0x40000, 8);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
    g_assert_true(smmu_next_ppr(e->d, rec));
    g_assert_cmphex(PRIQ_SID(rec), ==, SID);
    prgi = PRIQ_PRGI(rec);
    /* The refused write is also an F_TRANSLATION event. */
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 1);
    expect_lines(qts, (1u << LINE_PRIQ) | (1u << LINE_EVTQ));
    smmu_cmd(e->d, CMD_PRI_RESP | ((uint64_t)SID << 32), prgi | (PRI_RESP_FAILURE << 12));
    sync_cs(e, VISMMU_SYNC_CS_NONE, 0, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_FAILURE);
    expect_lines(qts, 0);

    /* A global error: the gerror line. */
    smmu_cmd(e->d, 0xff, 0);
    smmu_writel(e->d, SMMU_CMDQ_PROD, e->d->cmdq_prod);
    g_assert_cmpuint(CMDQ_CONS_ERR(smmu_readl(e->d, SMMU_CMDQ_CONS)), ==, CERROR_ILL);
    g_assert_cmphex(gerror_active(e), ==, GERROR_CMDQ_ERR);
    expect_lines(qts, 1u << LINE_GERROR);
    /* Nothing was written to the would-be MSI addresses. */
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(qtest_readl(qts, box + 4 * i), ==, 0);
    }
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * GERROR.MSI_*_ABT_ERR: an SMMU MSI that aborts (IHI 0070 7.5).  The
 * interrupt's own source still works; the GERROR MSI tells software.
 */
static void test_gerror_msi_abort(void)
{
    Env *e = smmu_env_start(NULL, false, 8, 6, NULL);
    QTestState *qts = e->m->qts;
    uint64_t box = td_alloc(e->m, 4096), a = td_alloc(e->m, 4096), ste[8] = { 0 }, ev[4];
    uint64_t rec[2];
    SmmuS1 s;

    smmu_writeq(e->d, SMMU_GERROR_IRQ_CFG0, box);
    smmu_writel(e->d, SMMU_GERROR_IRQ_CFG1, 0x6e01);

    /* Event queue MSI aborts: MSI_EVENTQ_ABT_ERR; the record is in the queue. */
    smmu_writeq(e->d, SMMU_EVENTQ_IRQ_CFG0, UNBACKED_PA);
    smmu_writel(e->d, SMMU_EVENTQ_IRQ_CFG1, 0xe0e0);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, a + 8, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);
    g_assert_cmphex(gerror_active(e), ==, R_VISMMU_GERROR_MSI_EVENTQ_ABT_ERR_MASK);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x6e01);
    gerror_ack(e);
    qtest_writel(qts, box, 0);
    /* Acknowledged, with a good address: the MSI arrives, no new error. */
    smmu_writeq(e->d, SMMU_EVENTQ_IRQ_CFG0, box + 0x10);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, a + 8, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);
    g_assert_cmphex(qtest_readl(qts, box + 0x10), ==, 0xe0e0);
    g_assert_cmphex(gerror_active(e), ==, 0);

    /* CMD_SYNC completion MSI aborts: MSI_CMDQ_ABT_ERR, the SYNC completes. */
    smmu_writel(e->d, SMMU_GERROR_IRQ_CFG1, 0x6e02);
    sync_cs(e, VISMMU_SYNC_CS_IRQ, UNBACKED_PA, 1);
    g_assert_cmphex(gerror_active(e), ==, R_VISMMU_GERROR_MSI_CMDQ_ABT_ERR_MASK);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x6e02);
    gerror_ack(e);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);        /* the queue goes on */

    /* PRI queue MSI aborts: MSI_PRIQ_ABT_ERR; the request is in the queue. */
    smmu_writel(e->d, SMMU_GERROR_IRQ_CFG1, 0x6e03);
    smmu_s1_setup(e, &s, 12, 3);
    smmu_writeq(e->d, SMMU_PRIQ_IRQ_CFG0, UNBACKED_PA);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG1, 0x9e1);
    smmu_priq_init(e->d, 4);
    td_pri_enable(e->td, 8);
    td_program(e->td, TD_OP_FILL | TD_OP_PRI, 0, 0x40000, 8);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
    g_assert_true(smmu_next_ppr(e->d, rec));
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 1);
    g_assert_cmphex(gerror_active(e), ==, R_VISMMU_GERROR_MSI_PRIQ_ABT_ERR_MASK);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x6e03);
    gerror_ack(e);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_FAILURE), ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_FAILURE);

    /*
     * The GERROR MSI itself aborts: MSI_GERROR_ABT_ERR is recorded with the
     * error that raised it, and raises nothing further.
     */
    smmu_writeq(e->d, SMMU_GERROR_IRQ_CFG0, UNBACKED_PA);
    qtest_writel(qts, box, 0);
    smmu_cmd(e->d, 0xff, 0);
    smmu_writel(e->d, SMMU_CMDQ_PROD, e->d->cmdq_prod);
    g_assert_cmpuint(CMDQ_CONS_ERR(smmu_readl(e->d, SMMU_CMDQ_CONS)), ==, CERROR_ILL);
    g_assert_cmphex(gerror_active(e), ==,
                    GERROR_CMDQ_ERR | R_VISMMU_GERROR_MSI_GERROR_ABT_ERR_MASK);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * One stage only: the other stage's STE configurations are C_BAD_STE.
 */
static void test_one_stage(gconstpointer data)
{
    bool s2_only = GPOINTER_TO_INT(data);
    Env *e = smmu_env_start(s2_only ? "stages=s2,ssidsize=0" : "stages=s1,fwb=off", false, 8, 6,
                            NULL);
    uint32_t idr0 = smmu_readl(e->d, SMMU_IDR0), idr1 = smmu_readl(e->d, SMMU_IDR1);
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), ste[8], cd[8], ev[4];
    uint64_t cdtab = smmu_alloc(e->m, 64, 64);
    SmmuPt s1, s2;

    g_assert_cmpint(FIELD_EX32(idr0, VISMMU_IDR0, S1P), ==, !s2_only);
    g_assert_cmpint(FIELD_EX32(idr0, VISMMU_IDR0, S2P), ==, s2_only);
    g_assert_cmpint(FIELD_EX32(idr0, VISMMU_IDR0, VMID16), ==, s2_only);
    if (s2_only) {
        g_assert_cmpuint(FIELD_EX32(idr1, VISMMU_IDR1, SSIDSIZE), ==, 0);
    }
    smmu_pt_init(&s1, e->m, false, 12, 48, -1);
    smmu_pt_map(&s1, 0x10000, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s1, 0x20000, b, 4096, PT_R | PT_W);
    smmu_cd(cd, &s1, 1);
    smmu_write_cd(e->d, cdtab, cd);
    smmu_pt_init(&s2, e->m, true, 12, 48, 0);
    smmu_pt_map(&s2, 0x10000, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, 0x20000, b, 4096, PT_R | PT_W);

    /* The stage the unit has translates. */
    if (s2_only) {
        memset(ste, 0, sizeof(ste));
        smmu_ste_s2(ste, &s2, 4);
    } else {
        smmu_ste_s1(ste, cdtab, 0, 0, 0);
    }
    smmu_write_ste(e->d, SID, ste);
    smmu_check_copy(e, 0x10000, a, 0x20000, b, 0x51 + s2_only);
    smmu_expect_no_event(e);
    /* The other one, and nesting, are a bad STE. */
    if (s2_only) {
        smmu_ste_s1(ste, cdtab, 0, 0, 0);
    } else {
        memset(ste, 0, sizeof(ste));
        smmu_ste_s2(ste, &s2, 4);
    }
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x10000, 0x20000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);
    smmu_ste_s1(ste, cdtab, 0, 0, 0);
    smmu_ste_s2(ste, &s2, 4);
    g_assert_cmpuint((ste[0] >> 1) & 7, ==, STE_CFG_NESTED);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x10000, 0x20000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * st-2lvl=off: IDR0.ST_LEVEL = 0, a linear table works, a 2-level one
 * cannot be walked (C_BAD_STREAMID).
 */
static void test_st_linear_only(void)
{
    Env *e = smmu_env_start("st-2lvl=off", false, 8, 6, NULL);
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), ev[4];
    uint64_t l1 = smmu_alloc(e->m, 4096, 4096);
    SmmuS1 s;

    g_assert_cmpuint(FIELD_EX32(smmu_readl(e->d, SMMU_IDR0), VISMMU_IDR0, ST_LEVEL), ==, 0);
    smmu_s1_setup(e, &s, 12, 1);
    smmu_pt_map(&s.pt, 0x10000, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, 0x20000, b, 4096, PT_R | PT_W);
    smmu_check_copy(e, 0x10000, a, 0x20000, b, 0x2a);
    smmu_expect_no_event(e);
    /* The same STE behind a valid 2-level table the unit does not walk. */
    qtest_writeq(e->m->qts, l1, e->d->strtab | 9);          /* L2 of 256, SPLIT 8 */
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR0ACK), ==, CR0_CMDQEN | CR0_EVENTQEN);
    smmu_writeq(e->d, SMMU_STRTAB_BASE, l1 | (1ull << 62));
    smmu_writel(e->d, SMMU_STRTAB_BASE_CFG, (1u << 16) | (8u << 6) | 16);
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE_RANGE, 31), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x10000, 0x20000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STREAMID, ev);
    smmu_env_stop(e);
}

/*
 * cd-2lvl=off: IDR0.CD2L = 0, a linear CD table of several substreams
 * works, S1Fmt 2-level is a bad STE.
 */
static void test_cd_linear_only(void)
{
    Env *e = smmu_env_start("cd-2lvl=off", false, 8, 6, NULL);
    uint64_t cdtab = smmu_alloc(e->m, 8 * 64, 4096), scratch = td_alloc(e->m, 4096);
    uint64_t pa[4], cd[8], ste[8], ev[4];
    SmmuPt pt[4];
    const uint64_t iova = 0x100000, scratch_iova = 0x200000;

    g_assert_false(smmu_readl(e->d, SMMU_IDR0) & R_VISMMU_IDR0_CD2L_MASK);
    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    for (int i = 0; i < 4; i++) {
        pa[i] = td_alloc(e->m, 4096);
        qtest_writeq(e->m->qts, pa[i], 0xc0 + i);
        smmu_pt_init(&pt[i], e->m, false, 12, 48, -1);
        smmu_pt_map(&pt[i], iova, pa[i], 4096, PT_R | PT_W);
        smmu_pt_map(&pt[i], scratch_iova, scratch, 4096, PT_R | PT_W);
        smmu_cd(cd, &pt[i], 10 + i);
        smmu_write_cd(e->d, cdtab + (i ? 2 * i + 1 : 0) * 64, cd);    /* SSIDs 0, 3, 5, 7 */
    }
    smmu_ste_s1(ste, cdtab, 0, 3, S1DSS_SSID0);
    smmu_write_ste(e->d, SID, ste);
    for (int i = 1; i < 4; i++) {
        td_writel(e->td, TD_PASID, TD_PASID_VALID | (2 * i + 1));
        g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0xc0 + i);
    }
    td_writel(e->td, TD_PASID, 0);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0xc0);
    smmu_expect_no_event(e);
    /* S1Fmt 2-level (4K leaf tables) without CD2L. */
    smmu_ste_s1(ste, cdtab, 1, 3, S1DSS_SSID0);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * ril=off: IDR3.RIL = 0, so TG/NUM/SCALE/TTL of a TLBI are RES0 and
 * ignored: a TLBI_NH_VA whose (ignored) TTL says "level 3" still removes a
 * 2 MiB block entry at level 2 (IHI 0070 4.4.1).
 */
static void test_ril_off(void)
{
    Env *e = smmu_env_start("ril=off", false, 8, 6, NULL);
    uint64_t blk = smmu_alloc(e->m, 2 << 20, 2 << 20), blk2 = smmu_alloc(e->m, 2 << 20, 2 << 20);
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t va = 0x40000000ull, scratch_iova = 0x10000;
    SmmuS1 s;

    g_assert_false(smmu_readl(e->d, SMMU_IDR3) & R_VISMMU_IDR3_RIL_MASK);
    smmu_s1_setup(e, &s, 12, 6);
    smmu_pt_map_block(&s.pt, 2, va, blk, PT_R | PT_W);
    smmu_pt_map(&s.pt, scratch_iova, scratch, 4096, PT_R | PT_W);
    qtest_writeq(e->m->qts, blk + 0x3000, 0xb10c1);
    qtest_writeq(e->m->qts, blk2 + 0x3000, 0xb10c2);
    g_assert_cmphex(smmu_dma_read(e, va + 0x3000, scratch_iova, scratch), ==, 0xb10c1);
    smmu_pt_map_block(&s.pt, 2, va, blk2, PT_R | PT_W);        /* the same entry */
    g_assert_cmphex(smmu_dma_read(e, va + 0x3000, scratch_iova, scratch), ==, 0xb10c1);   /* cached */
    /* TG = 4K, NUM = 0, SCALE = 0, TTL = 3: as if TG = 0, the plain VA form. */
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_VA | (6ull << 48),
                                   (va + 0x3000) | (1ull << 10) | (3ull << 8)), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, va + 0x3000, scratch_iova, scratch), ==, 0xb10c2);
    smmu_expect_no_event(e);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * Small caches (iotlb-entries=8, cfg-entries=4): far more pages and
 * substreams than entries, so every pass evicts; every DMA must still see
 * its own mapping, and invalidations still work.
 */
#define SC_PAGES    48
#define SC_SSIDS    28

static void test_small_caches(void)
{
    Env *e = smmu_env_start("iotlb-entries=8,cfg-entries=4", false, 8, 6, NULL);
    QTestState *qts = e->m->qts;
    uint64_t cdtab = smmu_alloc(e->m, 32 * 64, 4096), scratch = td_alloc(e->m, 4096);
    uint64_t data = td_alloc(e->m, (SC_PAGES + SC_SSIDS) * 4096), cd[8], ste[8];
    SmmuPt pt[SC_SSIDS];
    GRand *r = g_rand_new_with_seed(12);
    const uint64_t base = 0x1000000, scratch_iova = 0x100000;

    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    for (int i = 0; i < SC_PAGES + SC_SSIDS; i++) {
        qtest_writeq(qts, data + i * 4096ull, 0x5c000 + i);
    }
    /* SSID 0: SC_PAGES pages; SSID j: base -> its own page. */
    for (int j = 0; j < SC_SSIDS; j++) {
        smmu_pt_init(&pt[j], e->m, false, 12, 48, -1);
        smmu_pt_map(&pt[j], scratch_iova, scratch, 4096, PT_R | PT_W);
        if (j == 0) {
            for (int i = 0; i < SC_PAGES; i++) {
                smmu_pt_map(&pt[0], base + i * 4096ull, data + i * 4096ull, 4096, PT_R);
            }
        } else {
            smmu_pt_map(&pt[j], base, data + (SC_PAGES + j) * 4096ull, 4096, PT_R);
        }
        smmu_cd(cd, &pt[j], 30 + j);
        smmu_write_cd(e->d, cdtab + j * 64, cd);
    }
    smmu_ste_s1(ste, cdtab, 0, 5, S1DSS_SSID0);
    smmu_write_ste(e->d, SID, ste);

    for (int pass = 0; pass < 3; pass++) {
        for (int n = 0; n < SC_PAGES; n++) {
            int i = g_rand_int_range(r, 0, SC_PAGES);

            td_writel(e->td, TD_PASID, 0);
            g_assert_cmphex(smmu_dma_read(e, base + i * 4096ull, scratch_iova, scratch), ==,
                            0x5c000 + i);
            if (n % 4 == 0) {
                int j = g_rand_int_range(r, 1, SC_SSIDS);

                td_writel(e->td, TD_PASID, TD_PASID_VALID | j);
                g_assert_cmphex(smmu_dma_read(e, base, scratch_iova, scratch), ==,
                                0x5c000 + SC_PAGES + j);
            }
        }
    }
    smmu_expect_no_event(e);
    /* Remap every page of SSID 0 one further; one TLBI by ASID takes them all. */
    td_writel(e->td, TD_PASID, 0);
    for (int i = 0; i < SC_PAGES; i++) {
        smmu_dma_read(e, base + i * 4096ull, scratch_iova, scratch);
        qtest_writeq(qts, smmu_pt_leaf(&pt[0], base + i * 4096ull),
                     (qtest_readq(qts, smmu_pt_leaf(&pt[0], base + i * 4096ull)) &
                      ~0x0000fffffffff000ull) | (data + ((i + 1) % SC_PAGES) * 4096ull));
    }
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_ASID | (30ull << 48), 0), ==, 0);
    for (int i = SC_PAGES - 1; i >= 0; i--) {
        g_assert_cmphex(smmu_dma_read(e, base + i * 4096ull, scratch_iova, scratch), ==,
                        0x5c000 + (i + 1) % SC_PAGES);
    }
    /* A new CD for SSID 5 (SSID 0's tables): CFGI_CD of it alone. */
    for (int j = 1; j < SC_SSIDS; j++) {
        td_writel(e->td, TD_PASID, TD_PASID_VALID | j);
        smmu_dma_read(e, base, scratch_iova, scratch);
    }
    smmu_cd(cd, &pt[0], 99);
    smmu_write_cd(e->d, cdtab + 5 * 64, cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32) | (5ull << 12), 1),
                     ==, 0);
    for (int j = 1; j < SC_SSIDS; j++) {
        td_writel(e->td, TD_PASID, TD_PASID_VALID | j);
        g_assert_cmphex(smmu_dma_read(e, base, scratch_iova, scratch), ==,
                        j == 5 ? 0x5c000 + 1 : 0x5c000 + SC_PAGES + j);
    }
    td_writel(e->td, TD_PASID, 0);
    smmu_expect_no_event(e);
    g_rand_free(r);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * Substreams with nesting: the CD table is an IPA, each CD has its own
 * stage 1 (tables at IPA == PA) over the one stage 2.
 */
#define NS_N    3

static void test_pasid_nested(void)
{
    Env *e = smmu_env_start(NULL, false, 8, 6, NULL);
    QTestState *qts = e->m->qts;
    SmmuPt s1[NS_N + 1], s2;
    uint64_t cdtab = smmu_alloc(e->m, 8 * 64, 4096), scratch = td_alloc(e->m, 4096);
    uint64_t pa[NS_N + 1], cd[8], ste[8] = { 0 }, ev[4];
    const uint64_t cd_ipa = 0x7000000000ull, out_ipa = 0x5000000000ull;
    const uint64_t va = 0x1000000, scratch_iova = 0x2000000;
    static const uint32_t ssid[NS_N] = { 0, 2, 6 };

    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    smmu_pt_init(&s2, e->m, true, 12, 48, 0);
    smmu_pt_map(&s2, cd_ipa, cdtab, 4096, PT_R);
    smmu_pt_map(&s2, scratch, scratch, 4096, PT_R | PT_W);
    for (int i = 0; i <= NS_N; i++) {
        pa[i] = td_alloc(e->m, 4096);
        qtest_writeq(qts, pa[i], 0xa0 + i);
        /* Each substream's VA goes to its own IPA, mapped to its own page. */
        smmu_pt_map(&s2, out_ipa + i * 0x1000, pa[i], 4096, PT_R | PT_W);
        smmu_pt_init(&s1[i], e->m, false, 12, 48, -1);
        smmu_pt_map(&s1[i], va, out_ipa + i * 0x1000, 4096, PT_R | PT_W);
        smmu_pt_map(&s1[i], scratch_iova, scratch, 4096, PT_R | PT_W);
        for (unsigned t = 0; t < s1[i].ntables; t++) {
            smmu_pt_map(&s2, s1[i].tables[t], s1[i].tables[t], 4096, PT_R | PT_W);
        }
        if (i < NS_N) {
            smmu_cd(cd, &s1[i], 40 + i);
            smmu_write_cd(e->d, cdtab + ssid[i] * 64, cd);
        }
    }
    smmu_ste_s1(ste, cd_ipa, 0, 3, S1DSS_SSID0);
    smmu_ste_s2(ste, &s2, 7);
    g_assert_cmpuint((ste[0] >> 1) & 7, ==, STE_CFG_NESTED);
    smmu_write_ste(e->d, SID, ste);
    for (int i = 0; i < NS_N; i++) {
        td_writel(e->td, TD_PASID, i ? TD_PASID_VALID | ssid[i] : 0);
        g_assert_cmphex(smmu_dma_read(e, va, scratch_iova, scratch), ==, 0xa0 + i);
    }
    smmu_expect_no_event(e);

    /* One substream's output IPA unmapped at stage 2: its S2 fault alone. */
    qtest_writeq(qts, smmu_pt_leaf(&s2, out_ipa + 0x1000), 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_S2_IPA | (7ull << 32),
                                   (out_ipa + 0x1000) >> 12 << 12), ==, 0);
    td_writel(e->td, TD_PASID, TD_PASID_VALID | ssid[1]);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_true(EVT_S2(ev));
    g_assert_true(EVT_SSV(ev));
    g_assert_cmpuint(EVT_SSID(ev), ==, ssid[1]);
    g_assert_cmphex(EVT_IPA(ev), ==, out_ipa + 0x1000);
    td_writel(e->td, TD_PASID, TD_PASID_VALID | ssid[2]);
    g_assert_cmphex(smmu_dma_read(e, va, scratch_iova, scratch), ==, 0xa2);

    /* A new CD (stage 1 of index NS_N) for SSID 6, read through stage 2. */
    smmu_cd(cd, &s1[NS_N], 50);
    smmu_write_cd(e->d, cdtab + ssid[2] * 64, cd);
    g_assert_cmphex(smmu_dma_read(e, va, scratch_iova, scratch), ==, 0xa2);      /* cached */
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32) |
                                   ((uint64_t)ssid[2] << 12), 1), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, va, scratch_iova, scratch), ==, 0xa0 + NS_N);
    /* The CD table's IPA unmapped: the CD fetch faults at stage 2 (CLASS = CD). */
    qtest_writeq(qts, smmu_pt_leaf(&s2, cd_ipa), 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_S12_VMALL | (7ull << 32), 0), ==, 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD_ALL | ((uint64_t)SID << 32), 0), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_true(EVT_S2(ev));
    g_assert_cmpuint(EVT_CLASS(ev), ==, 0);
    g_assert_cmphex(EVT_IPA(ev), ==, cd_ipa + ssid[2] * 64 - (cd_ipa + ssid[2] * 64) % 4096);
    td_writel(e->td, TD_PASID, 0);
    smmu_env_stop(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (strcmp(qtest_get_arch(), "aarch64")) {
        return g_test_run();
    }
    qtest_add_func("/viommu-smmuv3/config/wired-irqs", test_wired_irqs);
    qtest_add_func("/viommu-smmuv3/config/gerror-msi-abort", test_gerror_msi_abort);
    qtest_add_data_func("/viommu-smmuv3/config/stages-s1", GINT_TO_POINTER(0), test_one_stage);
    qtest_add_data_func("/viommu-smmuv3/config/stages-s2", GINT_TO_POINTER(1), test_one_stage);
    qtest_add_func("/viommu-smmuv3/config/st-2lvl-off", test_st_linear_only);
    qtest_add_func("/viommu-smmuv3/config/cd-2lvl-off", test_cd_linear_only);
    qtest_add_func("/viommu-smmuv3/config/ril-off", test_ril_off);
    qtest_add_func("/viommu-smmuv3/config/small-caches", test_small_caches);
    qtest_add_func("/viommu-smmuv3/config/pasid-nested", test_pasid_nested);
    return g_test_run();
}
