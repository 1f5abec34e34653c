/*
 * qtests for viommu-smmuv3 against the letter of IHI 0070 (issue 10 items
 * 6-9): event record types and fields, ID registers consistent with the
 * version claimed (and the Hyp / EL2 stage 1 that v3.2 requires), ILLEGAL
 * commands, and the CMD_SYNC wired interrupt, TLBI_S2_IPA's TTL on nested
 * entries.  Same driver as viommu-smmuv3-test (smmuv3-drv.c), with
 * viommu-testdev doing the DMA.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

#define SID             SMMU_TD_SID
#define MASK(hi, lo)    VI_MASK(hi, lo)
#define UNBACKED_PA     0x3f00000000ull     /* nothing there */

/* virt's GICv3 distributor and the SMMU's CMD_SYNC SPI (76: INTID 108). */
#define GICD_BASE       0x08000000ull
#define GICD_ISPENDR    0x200
#define GICD_ICPENDR    0x280
#define GICD_ICFGR      0xc00
#define SYNC_INTID      (32 + 76)

/* TLBI range fields (IHI 0070 4.4.1.1). */
#define TLBI_NUM(n)     ((uint64_t)(n) << 12)
#define TLBI_SCALE(s)   ((uint64_t)(s) << 20)
#define TLBI_VMID(v)    ((uint64_t)(v) << 32)
#define TLBI_ASID(a)    ((uint64_t)(a) << 48)
#define TLBI_TTL(l)     ((uint64_t)(l) << 8)
#define TLBI_TG(g)      ((uint64_t)(g) << 10)

#define CMD_TLBI_EL2_ASID   VISMMU_CMD_TLBI_EL2_ASID
#define CMD_TLBI_EL2_VA     VISMMU_CMD_TLBI_EL2_VA
#define CMD_TLBI_EL2_VAA    VISMMU_CMD_TLBI_EL2_VAA

typedef SmmuEnv Env;

static Env *env_start(const char *props)
{
    return smmu_env_start(props, false, 8, 6, NULL);
}

/*
 * Issue one command and a SYNC; when the command is ILLEGAL, check the
 * queue stopped at it, and recover as Linux does (the command replaced by a
 * harmless one, GERRORN acknowledged).  Returns CMDQ_CONS.ERR.
 */
static unsigned cmd_err(Env *e, uint64_t w0, uint64_t w1)
{
    SmmuDrv *d = e->d;
    uint32_t bad = d->cmdq_prod, mask = (1u << d->cmdq_log2) - 1;
    uint64_t slot = d->cmdq + (uint64_t)(bad & mask) * 16;
    unsigned err;

    smmu_cmd(d, w0, w1);
    err = smmu_sync(d);
    if (err) {
        g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, bad);
        g_assert_cmphex(smmu_readl(d, SMMU_GERROR) ^ smmu_readl(d, SMMU_GERRORN), ==,
                        GERROR_CMDQ_ERR);
        qtest_writeq(e->m->qts, slot, CMD_PREFETCH_CONFIG);
        qtest_writeq(e->m->qts, slot + 8, 0);
        smmu_writel(d, SMMU_GERRORN, smmu_readl(d, SMMU_GERROR));
        g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS), ==, d->cmdq_prod);
    }
    return err;
}

/* ------------------------------------------------------------------------
 * Item 8: CERROR_ILL
 */

/* Reserved TG/TTL/NUM/SCALE combinations (defaults), ATC_INV without ATS (ats=off). */
static void test_ill_range(void)
{
    Env *e = env_start(NULL);
    const uint64_t va = 0x12345000;

    /* TG != 0 with NUM = SCALE = 0 and no level hint: Reserved (4.4.1.1). */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA | TLBI_ASID(1), va | TLBI_TG(1)), ==,
                     CERROR_ILL);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VAA, va | TLBI_TG(3)), ==, CERROR_ILL);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA | TLBI_VMID(1), va | TLBI_TG(1)), ==,
                     CERROR_ILL);
    /* 16K with TTL = 1 (no level-1 leaf without DS) is TTL 0: the same. */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA, va | TLBI_TG(2) | TLBI_TTL(1)), ==,
                     CERROR_ILL);
    /* Legal neighbours. */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA | TLBI_NUM(1), va | TLBI_TG(2) |
                             TLBI_TTL(1)), ==, 0);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA, va | TLBI_TG(1) | TLBI_TTL(3)), ==, 0);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA | TLBI_SCALE(1), va | TLBI_TG(1)), ==, 0);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA | TLBI_NUM(3), va | TLBI_TG(3)), ==, 0);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA, va), ==, 0);         /* TG 0: no range */
    smmu_env_stop(e);

    /* No ATS (IDR0.ATS = 0): ATC_INV is ILLEGAL (4.5.1). */
    e = env_start("ats=off,pri=off");
    g_assert_false(smmu_readl(e->d, SMMU_IDR0) & (1u << 10));
    g_assert_cmpuint(cmd_err(e, CMD_ATC_INV | ((uint64_t)SID << 32), 0), ==, CERROR_ILL);
    smmu_env_stop(e);

    /* Without RIL the range fields are RES0: the same command is a plain TLBI. */
    e = env_start("ril=off");
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_NH_VA | TLBI_ASID(1), va | TLBI_TG(1)), ==, 0);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA, va | TLBI_TG(1)), ==, 0);
    smmu_env_stop(e);
}

/* Commands of a stage the SMMU does not have (4.3.3, 4.3.4, 4.4.2, 4.4.3). */
static void test_ill_stages(void)
{
    static const uint64_t s1_cmds[][2] = {
        { CMD_TLBI_NH_ALL, 0 },
        { CMD_TLBI_NH_ASID | TLBI_ASID(1), 0 },
        { CMD_TLBI_NH_VA | TLBI_ASID(1), 0x1000 },
        { CMD_TLBI_NH_VAA, 0x1000 },
        { CMD_CFGI_CD | ((uint64_t)SID << 32), 1 },
        { CMD_CFGI_CD_ALL | ((uint64_t)SID << 32), 0 },
    };
    Env *e = env_start("stages=s2,ssidsize=0");

    for (int i = 0; i < ARRAY_SIZE(s1_cmds); i++) {
        g_assert_cmpuint(cmd_err(e, s1_cmds[i][0], s1_cmds[i][1]), ==, CERROR_ILL);
    }
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S12_VMALL | TLBI_VMID(1), 0), ==, 0);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA | TLBI_VMID(1), 0x1000), ==, 0);
    smmu_env_stop(e);

    e = env_start("stages=s1,fwb=off");
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S12_VMALL | TLBI_VMID(1), 0), ==, CERROR_ILL);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA | TLBI_VMID(1), 0x1000), ==, CERROR_ILL);
    for (int i = 0; i < ARRAY_SIZE(s1_cmds); i++) {
        g_assert_cmpuint(cmd_err(e, s1_cmds[i][0], s1_cmds[i][1]), ==, 0);
    }
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * Item 7: ID registers and version
 */
static void check_ids(const char *props, unsigned aidr, bool hyp, bool had, bool xnx,
                      bool ril)
{
    Env *e = smmu_env_start(props, false, 0, 0, NULL);
    QTestState *qts = e->m->qts;
    uint32_t idr0 = qtest_readl(qts, SMMU_BASE + SMMU_IDR0);
    uint32_t idr3 = qtest_readl(qts, SMMU_BASE + SMMU_IDR3);

    g_test_message("%s: IDR0 %08x IDR3 %08x", props ? props : "defaults", idr0, idr3);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_AIDR), ==, aidr);
    g_assert_cmpuint(FIELD_EX32(idr0, VISMMU_IDR0, HYP), ==, hyp);
    g_assert_cmpuint(FIELD_EX32(idr3, VISMMU_IDR3, HAD), ==, had);
    g_assert_cmpuint(FIELD_EX32(idr3, VISMMU_IDR3, XNX), ==, xnx);
    g_assert_cmpuint(FIELD_EX32(idr3, VISMMU_IDR3, RIL), ==, ril);
    /* BBML 1 or 2 (2 here) from v3.2; FWB with stage 2 (IHI 0070 6.3.4). */
    g_assert_cmpuint(FIELD_EX32(idr3, VISMMU_IDR3, BBML), ==, 2);
    if (aidr == VISMMU_AIDR_V3_2 && (idr0 & 1)) {
        g_assert_cmpuint(FIELD_EX32(idr3, VISMMU_IDR3, FWB), ==, 1);
    }
    smmu_env_stop(e);
}

static void test_ids(void)
{
    /*                      AIDR              Hyp    HAD    XNX    RIL */
    check_ids(NULL,         VISMMU_AIDR_V3_2, true,  true,  true,  true);
    check_ids("ril=off",    VISMMU_AIDR_V3_1, true,  true,  true,  false);
    check_ids("fwb=off",    VISMMU_AIDR_V3_1, true,  true,  true,  true);
    /* Hyp is RES0 without both stages; HAD only with stage 1, XNX with stage 2. */
    check_ids("stages=s2,ssidsize=0", VISMMU_AIDR_V3_2, false, false, true, true);
    check_ids("stages=s1,fwb=off", VISMMU_AIDR_V3_2, false, true, false, true);
}

/* TLBI_EL2_* are ILLEGAL without Hyp. */
static void test_el2_cmds_without_hyp(void)
{
    Env *e = env_start("stages=s2,ssidsize=0");

    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_ALL, 0), ==, CERROR_ILL);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_ASID, 0), ==, CERROR_ILL);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_VA, 0x1000), ==, CERROR_ILL);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_VAA, 0x1000), ==, CERROR_ILL);
    smmu_env_stop(e);
}

/*
 * Hyp: a stage-1 STE with STRW = EL2.  Without CR2.E2H the CD has one range
 * (TTB0) and no ASID, TLBI_EL2_VA ignores the ASID; with E2H (EL2-E2H) both
 * ranges and ASIDs, TLBI_EL2_ASID by ASID.  EL1 invalidations need not reach
 * EL2 entries, EL2 ones must.
 */
static void test_hyp_el2(void)
{
    Env *e = env_start(NULL);
    QTestState *qts = e->m->qts;
    SmmuPt pt0, pt1;
    uint64_t cdtab = smmu_alloc(e->m, 64, 64), cd[8], ste[8], ev[4];
    uint64_t p1 = td_alloc(e->m, 4096), p2 = td_alloc(e->m, 4096);
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t va = 0x40000000ull, sva = 0x50000000ull;
    const uint64_t hva = 0xffff800000001000ull, hsva = 0xffff800000002000ull;
    uint64_t pte;

    qtest_writeq(qts, p1, 0x1111);
    qtest_writeq(qts, p2, 0x2222);
    smmu_pt_init(&pt0, e->m, false, 12, 48, -1);
    smmu_pt_map(&pt0, va, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&pt0, sva, scratch, 4096, PT_R | PT_W);
    smmu_pt_init(&pt1, e->m, false, 12, 48, -1);
    smmu_pt_map(&pt1, hva, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&pt1, hsva, scratch, 4096, PT_R | PT_W);

    /* TTB1 described too (T1SZ 16, TG1 4K, EPD1 = 0): used with E2H only. */
    smmu_cd(cd, &pt0, 7);
    cd[0] &= ~(1ull << 30);
    cd[0] |= (16ull << 16) | (2ull << 22);
    cd[2] = pt1.root;
    smmu_write_cd(e->d, cdtab, cd);
    smmu_ste_s1(ste, cdtab, 0, 0, 0);
    ste[1] |= 2ull << 30;                       /* STRW = EL2 */
    smmu_write_ste(e->d, SID, ste);

    /* EL2 (E2H = 0): TTB0 translates, TTB1 is not there. */
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x1111);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, hva, sva, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    pte = smmu_pt_leaf(&pt0, va);
    qtest_writeq(qts, pte, (qtest_readq(qts, pte) & ~MASK(47, 12)) | p2);
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x1111);     /* cached */
    /* No ASID in EL2: TLBI_EL2_VA with any ASID removes it. */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_VA | TLBI_ASID(0x55), va), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x2222);
    qtest_writeq(qts, pte, (qtest_readq(qts, pte) & ~MASK(47, 12)) | p1);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_ALL, 0), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x1111);

    /* EL2-E2H: both ranges, ASID-tagged entries. */
    smmu_writel(e->d, SMMU_CR2, smmu_readl(e->d, SMMU_CR2) | R_VISMMU_CR2_E2H_MASK);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR2) & R_VISMMU_CR2_E2H_MASK, ==,
                    R_VISMMU_CR2_E2H_MASK);
    g_assert_cmpuint(cmd_err(e, CMD_CFGI_STE_RANGE, 31), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, hva, hsva, scratch), ==, 0x1111);
    pte = smmu_pt_leaf(&pt1, hva);
    qtest_writeq(qts, pte, (qtest_readq(qts, pte) & ~MASK(47, 12)) | p2);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_ASID | TLBI_ASID(8), 0), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, hva, hsva, scratch), ==, 0x1111);   /* other ASID */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_ASID | TLBI_ASID(7), 0), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, hva, hsva, scratch), ==, 0x2222);
    qtest_writeq(qts, pte, (qtest_readq(qts, pte) & ~MASK(47, 12)) | p1);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_VA | TLBI_ASID(8), hva), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, hva, hsva, scratch), ==, 0x2222);   /* other ASID */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_EL2_VAA, hva), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, hva, hsva, scratch), ==, 0x1111);
    smmu_expect_no_event(e);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * Item 6: event types and fields
 */

/* Stage 1 bypassed, stage 2 on: an IPA beyond IAS is a stage-1 Address Size fault. */
static void test_s2_ipa_beyond_ias(void)
{
    Env *e = env_start(NULL);
    SmmuPt s2;
    uint64_t ste[8] = { 0 }, ev[4];
    uint64_t p = td_alloc(e->m, 4096), scratch = td_alloc(e->m, 4096);
    const uint64_t big = 1ull << 52;            /* IAS = OAS = 52 */

    smmu_pt_init(&s2, e->m, true, 12, 40, 1);
    smmu_pt_map(&s2, 0x1000, scratch, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, 0x2000, p, 4096, PT_R | PT_W);
    smmu_ste_s2(ste, &s2, 9);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x2000, 0x1000, 8), ==, TD_ERR_NONE);

    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, big | 0x2000, 0x1000, 8), ==,
                     TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_ADDR_SIZE, ev);
    g_assert_false(EVT_S2(ev));
    g_assert_cmphex(EVT_ADDR(ev), ==, big | 0x2000);
    /* Within IAS but beyond S2T0SZ (40 bits): stage-2 Translation fault. */
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, (1ull << 40) | 0x2000, 0x1000, 8), ==,
                     TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_true(EVT_S2(ev));
    smmu_env_stop(e);
}

/*
 * F_STE_FETCH / F_CD_FETCH carry FetchAddr and nothing else (RnW, PnU, InD,
 * InputAddr are not fields of theirs: RES0), and a nested CD fetch that
 * aborts after stage 2 reports the PA it read.
 */
static void test_fetch_events(void)
{
    Env *e = env_start(NULL);
    SmmuPt s2;
    uint64_t ste[8], ev[4];
    const uint64_t cd_ipa = 0x7000000000ull;

    /* F_CD_FETCH, stage 2 bypassed. */
    smmu_ste_s1(ste, UNBACKED_PA, 0, 0, 0);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x1000, 0x2000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_CD_FETCH, ev);
    g_assert_cmphex(ev[3], ==, UNBACKED_PA);
    g_assert_cmphex(ev[1], ==, 0);
    g_assert_cmphex(ev[2], ==, 0);

    /* Nested: the CD's IPA maps (stage 2 succeeds) to a PA with nothing there. */
    smmu_pt_init(&s2, e->m, true, 12, 48, 0);
    smmu_pt_map(&s2, cd_ipa, UNBACKED_PA + 0x5000, 4096, PT_R);
    smmu_ste_s1(ste, cd_ipa + 0x40, 0, 0, 0);
    smmu_ste_s2(ste, &s2, 3);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x1000, 0x2000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_CD_FETCH, ev);
    g_assert_cmphex(ev[3], ==, UNBACKED_PA + 0x5040);
    g_assert_false(EVT_S2(ev));
    g_assert_cmphex(ev[1], ==, 0);
    g_assert_cmphex(ev[2], ==, 0);

    /* F_STE_FETCH: the stream table is nowhere. */
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN);
    smmu_writeq(e->d, SMMU_STRTAB_BASE, UNBACKED_PA);
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmpuint(cmd_err(e, CMD_CFGI_STE_RANGE, 31), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x1000, 0x2000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_STE_FETCH, ev);
    g_assert_cmphex(ev[3], ==, UNBACKED_PA + SID * 64);
    g_assert_cmphex(ev[1], ==, 0);
    g_assert_cmphex(ev[2], ==, 0);
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * Item 9
 */

/* CMD_SYNC with CS = IRQ pulses the wired interrupt, with an MSI or not. */
static void test_sync_wired_irq(void)
{
    Env *e = env_start(NULL);
    QTestState *qts = e->m->qts;
    uint64_t cfg = GICD_BASE + GICD_ICFGR + (SYNC_INTID / 16) * 4;
    uint64_t pend = GICD_BASE + GICD_ISPENDR + (SYNC_INTID / 32) * 4;
    uint64_t clr = GICD_BASE + GICD_ICPENDR + (SYNC_INTID / 32) * 4;
    uint32_t bit = 1u << (SYNC_INTID % 32);

    /* Edge-triggered, as the DT says, so that a pulse latches pending. */
    qtest_writel(qts, cfg, qtest_readl(qts, cfg) | (2u << ((SYNC_INTID % 16) * 2)));
    qtest_writel(qts, clr, bit);
    g_assert_false(qtest_readl(qts, pend) & bit);
    /* The driver's SYNC: CS = IRQ with an MSI to its own entry (smmuv3-drv.c). */
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    g_assert_true(qtest_readl(qts, pend) & bit);
    qtest_writel(qts, clr, bit);
    /* CS = IRQ without MSIAddress: the wire alone. */
    smmu_cmd(e->d, CMD_SYNC | (1u << 12), 0);
    smmu_writel(e->d, SMMU_CMDQ_PROD, e->d->cmdq_prod);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CMDQ_CONS), ==, e->d->cmdq_prod);
    g_assert_true(qtest_readl(qts, pend) & bit);
    qtest_writel(qts, clr, bit);
    /* CS = NONE: nothing. */
    smmu_cmd(e->d, CMD_SYNC, 0);
    smmu_writel(e->d, SMMU_CMDQ_PROD, e->d->cmdq_prod);
    g_assert_false(qtest_readl(qts, pend) & bit);
    smmu_env_stop(e);
}

/*
 * Nested: a stage-1 2 MiB block over stage-2 4 KiB pages.  The combined
 * entry is removed by TLBI_S2_IPA (which the model does for nested entries
 * too) with the TTL of its stage-2 leaf (3), not with the stage-1 level (2).
 */
static void test_nested_s2_ttl(void)
{
    Env *e = env_start(NULL);
    QTestState *qts = e->m->qts;
    SmmuPt s1, s2;
    uint64_t ste[8], cd[8];
    uint64_t cd_pa = smmu_alloc(e->m, 4096, 4096);
    uint64_t p1 = td_alloc(e->m, 4096), p2 = td_alloc(e->m, 4096);
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t va = 0x40000000ull, sva = 0x60000000ull;
    const uint64_t ipa = 0x5000000000ull, sipa = 0x5100000000ull;
    const uint16_t vmid = 4;
    uint64_t s2pte;

    qtest_writeq(qts, p1, 0x1111);
    qtest_writeq(qts, p2, 0x2222);
    smmu_pt_init(&s2, e->m, true, 12, 48, 0);
    smmu_pt_init(&s1, e->m, false, 12, 48, -1);
    smmu_pt_map_block(&s1, 2, va, ipa, PT_R | PT_W);
    smmu_pt_map(&s1, sva, sipa, 4096, PT_R | PT_W);
    for (unsigned i = 0; i < s1.ntables; i++) {
        smmu_pt_map(&s2, s1.tables[i], s1.tables[i], 4096, PT_R | PT_W);
    }
    smmu_pt_map(&s2, cd_pa, cd_pa, 4096, PT_R);
    smmu_pt_map(&s2, ipa, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, sipa, scratch, 4096, PT_R | PT_W);
    smmu_cd(cd, &s1, 5);
    smmu_write_cd(e->d, cd_pa, cd);
    smmu_ste_s1(ste, cd_pa, 0, 0, 0);
    smmu_ste_s2(ste, &s2, vmid);
    smmu_write_ste(e->d, SID, ste);

    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x1111);
    s2pte = smmu_pt_leaf(&s2, ipa);
    qtest_writeq(qts, s2pte, (qtest_readq(qts, s2pte) & ~MASK(47, 12)) | p2);
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x1111);     /* cached */
    /* TTL 2 names stage-2 level-2 leaves: not this entry's. */
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA | TLBI_VMID(vmid),
                             ipa | TLBI_TG(1) | TLBI_TTL(2)), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x1111);
    g_assert_cmpuint(cmd_err(e, CMD_TLBI_S2_IPA | TLBI_VMID(vmid),
                             ipa | TLBI_TG(1) | TLBI_TTL(3)), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, va, sva, scratch), ==, 0x2222);
    smmu_expect_no_event(e);
    smmu_env_stop(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-smmuv3-spec/cmdq/ill-range", test_ill_range);
    qtest_add_func("/viommu-smmuv3-spec/cmdq/ill-stages", test_ill_stages);
    qtest_add_func("/viommu-smmuv3-spec/cmdq/el2-without-hyp", test_el2_cmds_without_hyp);
    qtest_add_func("/viommu-smmuv3-spec/ids", test_ids);
    qtest_add_func("/viommu-smmuv3-spec/hyp-el2", test_hyp_el2);
    qtest_add_func("/viommu-smmuv3-spec/events/s2-ipa-beyond-ias", test_s2_ipa_beyond_ias);
    qtest_add_func("/viommu-smmuv3-spec/events/fetch", test_fetch_events);
    qtest_add_func("/viommu-smmuv3-spec/sync-wired-irq", test_sync_wired_irq);
    qtest_add_func("/viommu-smmuv3-spec/nested-s2-ttl", test_nested_s2_ttl);
    return g_test_run();
}
