/*
 * qtests for viommu-smmuv3: a guest-driver-like setup (smmuv3-drv.c) of
 * stream tables, CDs and page tables in guest RAM, with viommu-testdev doing
 * the DMA (and MSI-X writes) that the SMMU translates.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "smmuv3-drv.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"

#define TD_ARGS         "-device viommu-testdev,addr=04.0"
#define SID             TD_DEVFN            /* bus 0, 04.0 */
#define UNBACKED_PA     0x3f00000000ull     /* nothing there */

typedef SmmuEnv Env;

static Env *env_start_args(const char *smmu_props, bool st_2lvl, unsigned cmdq_log2,
                           unsigned evtq_log2, const char *extra)
{
    return smmu_env_start(smmu_props, st_2lvl, cmdq_log2, evtq_log2, extra);
}

static Env *env_start(const char *smmu_props, bool st_2lvl)
{
    return smmu_env_start(smmu_props, st_2lvl, 8, 6, NULL);
}

static void env_stop(Env *e)
{
    smmu_env_stop(e);
}

/* ------------------------------------------------------------------------
 * Registers, properties, reset
 */
static void test_registers(void)
{
    Env *e = env_start_args(NULL, false, 0, 0, NULL);
    QTestState *qts = e->m->qts;
    uint32_t idr0 = qtest_readl(qts, SMMU_BASE + SMMU_IDR0);
    uint32_t idr1 = qtest_readl(qts, SMMU_BASE + SMMU_IDR1);
    uint32_t idr3 = qtest_readl(qts, SMMU_BASE + SMMU_IDR3);
    uint32_t idr5 = qtest_readl(qts, SMMU_BASE + SMMU_IDR5);
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096);

    /* Defaults that let Linux enable nesting and PASID. */
    g_assert_cmphex(idr0 & 3, ==, 3);                   /* S1P, S2P */
    g_assert_cmphex((idr0 >> 2) & 3, ==, 2);            /* TTF AArch64 */
    g_assert_true(idr0 & (1u << 4));                    /* COHACC */
    g_assert_cmphex((idr0 >> 6) & 3, ==, 2);            /* HTTU: access flag + dirty */
    g_assert_true(idr0 & (1u << 12));                   /* ASID16 */
    g_assert_true(idr0 & (1u << 13));                   /* MSI */
    g_assert_true(idr0 & (1u << 18));                   /* VMID16 */
    g_assert_true(idr0 & (1u << 19));                   /* CD2L */
    g_assert_cmphex((idr0 >> 21) & 3, ==, 2);           /* little-endian tables */
    g_assert_cmphex((idr0 >> 27) & 3, ==, 1);           /* 2-level stream table */
    g_assert_true(idr0 & (1u << 16));                   /* PRI */
    g_assert_true(idr0 & (1u << 10));                   /* ATS */
    g_assert_true(idr0 & (1u << 11));                   /* NS1ATS: no split-stage ATS */
    g_assert_cmpuint((idr1 >> 11) & 0x1f, ==, 12);      /* PRIQS */
    g_assert_true(idr3 & (1u << 5));                    /* PPS */
    g_assert_cmpuint(idr1 & 0x3f, ==, 16);              /* SIDSIZE */
    g_assert_cmpuint((idr1 >> 6) & 0x1f, ==, 20);       /* SSIDSIZE */
    g_assert_cmpuint((idr1 >> 21) & 0x1f, >, 6);        /* CMDQS > log2(64) */
    g_assert_true(idr3 & (1u << 8));                    /* FWB */
    g_assert_true(idr3 & (1u << 10));                   /* RIL */
    g_assert_cmphex(idr5 & 7, ==, 6);                   /* OAS 52: SVA with -cpu max */
    g_assert_cmphex(idr5 & 0x70, ==, 0x70);             /* 4K, 16K, 64K */
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_AIDR), ==, 2);

    /* Reset state: disabled, GBPA bypass: DMA passes untranslated. */
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_CR0), ==, 0);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_GBPA) & GBPA_ABORT, ==, 0);
    qtest_writel(qts, a, 0x11223344);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(qts, b), ==, 0x11223344);

    /* GBPA: a write without Update does nothing; with it, takes effect at once. */
    qtest_writel(qts, SMMU_BASE + SMMU_GBPA, GBPA_ABORT);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_GBPA) & GBPA_ABORT, ==, 0);
    qtest_writel(qts, SMMU_BASE + SMMU_GBPA, GBPA_ABORT | GBPA_UPDATE);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_GBPA), ==, GBPA_ABORT);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 4), ==, TD_ERR_READ_FAULT);
    qtest_writel(qts, SMMU_BASE + SMMU_GBPA, GBPA_UPDATE);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 4), ==, TD_ERR_NONE);

    /* CR0ACK follows CR0; reserved CR0 bits stay clear (ATSCHK, bit 4, exists with ATS). */
    qtest_writel(qts, SMMU_BASE + SMMU_CR0, 0xfffffff0u);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_CR0ACK), ==, 0x10);
    qtest_writel(qts, SMMU_BASE + SMMU_CR0, 0);
    /* 64-bit registers in 32-bit halves; page-1 aliases of the event queue pointers. */
    qtest_writel(qts, SMMU_BASE + SMMU_STRTAB_BASE, 0x12345678);
    qtest_writel(qts, SMMU_BASE + SMMU_STRTAB_BASE + 4, 0x9);
    g_assert_cmphex(qtest_readq(qts, SMMU_BASE + SMMU_STRTAB_BASE), ==, 0x912345640ull);
    qtest_writel(qts, SMMU_BASE + SMMU_EVENTQ_CONS, 0x5);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + 0xac), ==, 5);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_EVENTQ_PROD), ==,
                    qtest_readl(qts, SMMU_BASE + 0xa8));

    /* system_reset brings the registers back. */
    qtest_qmp_assert_success(qts, "{ 'execute': 'system_reset' }");
    g_assert_cmphex(qtest_readq(qts, SMMU_BASE + SMMU_STRTAB_BASE), ==, 0);
    g_assert_cmphex(qtest_readl(qts, SMMU_BASE + SMMU_EVENTQ_CONS), ==, 0);
    env_stop(e);
}

/* Bad properties fail with a clear message. */
static void test_properties(void)
{
    static const struct {
        const char *props, *msg;
    } bad[] = {
        { "stages=s3", "stages must be" },
        { "ssidsize=21", "ssidsize must be" },
        { "oas=47", "oas must be" },
        { "gran4k=off,gran16k=off,gran64k=off", "at least one of" },
        { "stages=s1,fwb=on", "fwb needs stage 2" },
        { "cmdq-log2size=3", "cmdq-log2size" },
    };
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");

    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *cmd = g_strdup_printf("%s -M virt,gic-version=3 -cpu max -nic none "
                                               "-display none -S -device viommu-smmuv3,%s",
                                               qemu, bad[i].props);
        g_autofree char *out = NULL, *err = NULL;
        int status;

        g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
        g_assert_nonnull(strstr(err, bad[i].msg));
    }
    {
        g_autofree char *cmd = g_strdup_printf("%s -M virt,gic-version=3,iommu=smmuv3 -cpu max "
                                               "-nic none -display none -S "
                                               "-device viommu-smmuv3", qemu);
        g_autofree char *out = NULL, *err = NULL;
        int status;

        g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
        g_assert_nonnull(strstr(err, "conflicts with"));
    }
}

/* ------------------------------------------------------------------------
 * Stage 1
 */
static void test_s1(gconstpointer data)
{
    unsigned gshift = GPOINTER_TO_UINT(data);
    uint64_t page = 1ull << gshift;
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t a = smmu_alloc(e->m, page, page), b = smmu_alloc(e->m, page, page);
    uint64_t ro = smmu_alloc(e->m, page, page), msi = smmu_alloc(e->m, page, page);
    const uint64_t iova_a = 0x0000123400000000ull, iova_b = 0x7f0000000000ull;
    const uint64_t iova_ro = 0x40000000ull, iova_msi = 0x8000000ull;
    uint64_t ev[4];

    smmu_s1_setup(e, &s, gshift, 7);
    smmu_pt_map(&s.pt, iova_a, a, page, PT_R | PT_W);
    smmu_pt_map(&s.pt, iova_b, b, page, PT_R | PT_W);
    smmu_pt_map(&s.pt, iova_ro, ro, page, PT_R);
    smmu_pt_map(&s.pt, iova_msi, msi, page, PT_R | PT_W);

    smmu_check_copy(e, iova_a + 8, a + 8, iova_b + page - 8, b + page - 8, 0x0123456789abcdefull);
    smmu_expect_no_event(e);

    /* MSI-X through stage 1 lands at the translated address. */
    td_msix_setup(e->td, 0, iova_msi + 0x40, 0xabcd0001);
    td_writel(e->td, TD_IRQ, TD_IRQ_ENABLE | 0);
    smmu_check_copy(e, iova_a, a, iova_b, b, 42);
    g_assert_cmphex(qtest_readl(e->m->qts, msi + 0x40), ==, 0xabcd0001);
    td_writel(e->td, TD_IRQ, 0);

    /* Unmapped: the device sees a read fault, the SMMU records F_TRANSLATION. */
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova_a + page, iova_b, 8), ==,
                     TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmphex(EVT_ADDR(ev), ==, iova_a + page);
    g_assert_cmpuint(EVT_RNW(ev), ==, 1);
    g_assert_cmpuint(EVT_S2(ev), ==, 0);
    g_assert_cmpuint(EVT_CLASS(ev), ==, 2);
    g_assert_cmpuint(EVT_SSV(ev), ==, 0);

    /* Read-only: reads pass, writes fault with F_PERMISSION (RnW = 0). */
    smmu_check_copy(e, iova_ro, ro, iova_b, b, 0x5555);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova_a, iova_ro + 16, 8), ==,
                     TD_ERR_WRITE_FAULT);
    smmu_expect_event(e, EVT_F_PERMISSION, ev);
    g_assert_cmphex(EVT_ADDR(ev), ==, iova_ro + 16);
    g_assert_cmpuint(EVT_RNW(ev), ==, 0);
    g_assert_cmphex(qtest_readq(e->m->qts, ro + 16), ==, 0);
    env_stop(e);
}

/* Stage-1 descriptor and CD bits the hardware-update tests set or read. */
#define AF      (1ull << 10)
#define AP2     (1ull << 7)
#define DBM     (1ull << 51)
#define CD0_HD  (1ull << 42)
#define CD0_HA  (1ull << 43)

/* A stage-1 set-up with CD.HA and HD set (hardware Access flag and dirty state). */
static void s1_setup_hahd(Env *e, SmmuS1 *s, int levels)
{
    smmu_s1_setup(e, s, 12, levels);
    s->cd[0] |= CD0_HA | CD0_HD;
    smmu_write_cd(e->d, s->cdtab, s->cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32), 1), ==, 0);
}

/* 0x10000 -> a read-only with AF = 0, 0x20000 -> b read-only writable-clean (DBM). */
static void map_noaf_dbm(Env *e, SmmuS1 *s, uint64_t a, uint64_t b, uint64_t *pte_a,
                         uint64_t *pte_b)
{
    smmu_pt_map(&s->pt, 0x10000, a, 4096, PT_R | PT_NOAF);
    smmu_pt_map(&s->pt, 0x20000, b, 4096, PT_R);
    *pte_a = smmu_pt_leaf(&s->pt, 0x10000);
    *pte_b = smmu_pt_leaf(&s->pt, 0x20000);
    qtest_writeq(e->m->qts, *pte_b, qtest_readq(e->m->qts, *pte_b) | DBM);
}

/* httu=on: the SMMU sets the Access flag and clears AP[2] of DBM entries itself. */
static void test_httu(void)
{
    Env *e = env_start("httu=on", false);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), pte_a, pte_b;

    g_assert_cmphex((smmu_readl(e->d, SMMU_IDR0) >> 6) & 3, ==, 2);
    s1_setup_hahd(e, &s, 2);
    map_noaf_dbm(e, &s, a, b, &pte_a, &pte_b);
    g_assert_false(qtest_readq(e->m->qts, pte_a) & AF);

    smmu_check_copy(e, 0x10000, a, 0x20000, b, 0xacce55);
    g_assert_true(qtest_readq(e->m->qts, pte_a) & AF);             /* AF set */
    g_assert_false(qtest_readq(e->m->qts, pte_b) & AP2);           /* dirty: AP[2] = 0 */
    smmu_expect_no_event(e);
    env_stop(e);
}

/*
 * Dirty tracking the way Linux's arm-smmu-v3 does it (IOMMU_HWPT_ALLOC_
 * DIRTY_TRACKING: CD.HA + HD, io-pgtable-arm's ARM_HD quirk mapping every
 * writable page writable-clean, DBM + AP[2]): the SMMU marks a page dirty by
 * clearing AP[2] (IHI 0070 3.13, VMSA dirty state) on a write, never on a
 * read; a page read first (its read-only translation cached) is still marked
 * by a write; a page software cleaned again (AP[2] set, as
 * read_and_clear_dirty() does, with no TLB invalidation since Linux 7.3's
 * gather has no page size) is marked again by the next write; a page
 * without DBM refuses the write and stays as it is, and with CD.HD = 0 DBM
 * means nothing.  httu is on by default.
 */
static void clean(Env *e, uint64_t pte)
{
    qtest_writeq(e->m->qts, pte, qtest_readq(e->m->qts, pte) | AP2 | DBM);
}

static bool dirty(Env *e, uint64_t pte)
{
    return !(qtest_readq(e->m->qts, pte) & AP2);
}

static void test_s1_dirty_tracking(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t pa[4], pte[4], iova[4], ev[4];

    g_assert_cmphex(FIELD_EX32(smmu_readl(e->d, SMMU_IDR0), VISMMU_IDR0, HTTU), ==, 2);
    s1_setup_hahd(e, &s, 3);
    for (int i = 0; i < 4; i++) {
        pa[i] = td_alloc(e->m, 4096);
        iova[i] = 0x100000ull + i * 0x1000ull;
        smmu_pt_map(&s.pt, iova[i], pa[i], 4096, PT_R | PT_W);
        pte[i] = smmu_pt_leaf(&s.pt, iova[i]);
        clean(e, pte[i]);
    }
    /* 3: read-only, no DBM. */
    qtest_writeq(e->m->qts, pte[3], (qtest_readq(e->m->qts, pte[3]) | AP2) & ~DBM);

    /* Copy 0 -> 1: the source stays clean, the destination is dirty. */
    smmu_check_copy(e, iova[0], pa[0], iova[1], pa[1], 0xd1d1d1d1ull);
    g_assert_false(dirty(e, pte[0]));
    g_assert_true(dirty(e, pte[1]));
    g_assert_false(dirty(e, pte[2]));
    /* 0 was read (cached without write): a write still marks it. */
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, iova[0] + 8, 8), ==, TD_ERR_NONE);
    g_assert_true(dirty(e, pte[0]));
    /* Cleaned again without a TLBI: the next write marks it again. */
    clean(e, pte[1]);
    smmu_check_copy(e, iova[2], pa[2], iova[1] + 16, pa[1] + 16, 0x2222ull);
    g_assert_true(dirty(e, pte[1]));
    g_assert_false(dirty(e, pte[2]));
    /* No DBM: the write is refused (F_PERMISSION) and AP[2] stays set. */
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, iova[3], 8), ==, TD_ERR_WRITE_FAULT);
    smmu_expect_event(e, EVT_F_PERMISSION, ev);
    g_assert_cmphex(EVT_ADDR(ev), ==, iova[3]);
    g_assert_false(dirty(e, pte[3]));
    smmu_expect_no_event(e);

    /* CD.HD = 0 (HA alone): DBM is ignored, a write to a clean page faults. */
    s.cd[0] &= ~CD0_HD;
    smmu_write_cd(e->d, s.cdtab, s.cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32), 1), ==, 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_ASID | (3ull << 48), 0), ==, 0);
    clean(e, pte[2]);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, iova[2], 8), ==, TD_ERR_WRITE_FAULT);
    smmu_expect_event(e, EVT_F_PERMISSION, ev);
    g_assert_false(dirty(e, pte[2]));
    env_stop(e);
}

/*
 * httu=off: IDR0.HTTU = 0 and CD.HA/HD are ignored: an AF = 0 page is an
 * access fault and a DBM page stays read-only (the SMMU updates nothing).
 */
static void test_s1_httu_off(void)
{
    Env *e = env_start("httu=off", false);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), pte_a, pte_b, ev[4];

    g_assert_cmphex(FIELD_EX32(smmu_readl(e->d, SMMU_IDR0), VISMMU_IDR0, HTTU), ==, 0);
    s1_setup_hahd(e, &s, 2);
    map_noaf_dbm(e, &s, a, b, &pte_a, &pte_b);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x10000, 0x20000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_ACCESS, ev);
    g_assert_false(qtest_readq(e->m->qts, pte_a) & AF);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, 0x20000, 8), ==, TD_ERR_WRITE_FAULT);
    smmu_expect_event(e, EVT_F_PERMISSION, ev);
    g_assert_true(qtest_readq(e->m->qts, pte_b) & AP2);
    env_stop(e);
}

/*
 * Stage 2 with S2HA + S2HD: a write to a DBM page sets S2AP[1] (the stage-2
 * dirty state), a read does not, and a page cleaned again without a TLBI is
 * marked by the next write.
 */
static void test_s2_dirty_tracking(void)
{
    Env *e = env_start(NULL, false);
    SmmuPt s2;
    uint64_t ste[8], a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), pte_a, pte_b;
    const uint64_t ipa_a = 0x40001000ull, ipa_b = 0x40002000ull;

    smmu_pt_init(&s2, e->m, true, 12, 40, 1);
    smmu_pt_map(&s2, ipa_a, a, 4096, PT_R);
    smmu_pt_map(&s2, ipa_b, b, 4096, PT_R);
    pte_a = smmu_pt_leaf(&s2, ipa_a);
    pte_b = smmu_pt_leaf(&s2, ipa_b);
    qtest_writeq(e->m->qts, pte_a, qtest_readq(e->m->qts, pte_a) | DBM);
    qtest_writeq(e->m->qts, pte_b, qtest_readq(e->m->qts, pte_b) | DBM);
    smmu_ste_s2(ste, &s2, 4);
    ste[2] |= (1ull << 56) | (1ull << 55);      /* S2HA, S2HD */
    smmu_write_ste(e->d, SID, ste);

    smmu_check_copy(e, ipa_a, a, ipa_b, b, 0x5252ull);
    g_assert_false(qtest_readq(e->m->qts, pte_a) & AP2);   /* S2AP[1] = 0: clean */
    g_assert_true(qtest_readq(e->m->qts, pte_b) & AP2);    /* dirty, writable */
    qtest_writeq(e->m->qts, pte_b, qtest_readq(e->m->qts, pte_b) & ~AP2);
    smmu_check_copy(e, ipa_a, a, ipa_b + 8, b + 8, 0x5353ull);
    g_assert_true(qtest_readq(e->m->qts, pte_b) & AP2);
    smmu_expect_no_event(e);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Stage 2 (concatenated start-level tables)
 */
static void test_s2_concat(void)
{
    Env *e = env_start(NULL, false);
    SmmuPt s2;
    uint64_t ste[8] = { 0 }, ev[4];
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), msi = td_alloc(e->m, 4096);
    /* 40-bit IPA starting at level 1: two concatenated tables, IPA[39] picks one. */
    const uint64_t ipa_a = 0x8000001000ull, ipa_b = 0x0000002000ull, ipa_msi = 0x8000003000ull;

    smmu_pt_init(&s2, e->m, true, 12, 40, 1);
    g_assert_cmpuint(s2.table_size[0], ==, 8192);
    smmu_pt_map(&s2, ipa_a, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, ipa_b, b, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, ipa_msi, msi, 4096, PT_W);
    smmu_ste_s2(ste, &s2, 3);
    ste[1] |= 1ull << 25;                   /* S2FWB */
    smmu_write_ste(e->d, SID, ste);

    smmu_check_copy(e, ipa_a, a, ipa_b + 8, b + 8, 0xfeedfacecafebeefull);
    smmu_check_copy(e, ipa_b, b, ipa_a + 16, a + 16, 0x77);
    td_msix_setup(e->td, 1, ipa_msi + 4, 0x51);
    td_writel(e->td, TD_IRQ, TD_IRQ_ENABLE | 1);
    smmu_check_copy(e, ipa_a, a, ipa_b, b, 0x99);
    g_assert_cmphex(qtest_readl(e->m->qts, msi + 4), ==, 0x51);
    td_writel(e->td, TD_IRQ, 0);
    smmu_expect_no_event(e);

    /* Stage-2 fault: S2 = 1, CLASS = IN, IPA given. */
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x8000005000ull, ipa_b, 8), ==,
                     TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmpuint(EVT_S2(ev), ==, 1);
    g_assert_cmpuint(EVT_CLASS(ev), ==, 2);
    g_assert_cmphex(EVT_IPA(ev), ==, 0x8000005000ull);
    /* Write-only page: reads are refused at stage 2. */
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, ipa_msi, ipa_b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_PERMISSION, ev);
    g_assert_cmpuint(EVT_S2(ev), ==, 1);
    /* With S2R = 0 stage-2 faults are not recorded (the access still fails). */
    ste[2] &= ~(1ull << 58);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x8000005000ull, ipa_b, 8), ==,
                     TD_ERR_READ_FAULT);
    smmu_expect_no_event(e);
    env_stop(e);
}

static void test_s2_granules(void)
{
    for (unsigned g = 14; g <= 16; g += 2) {
        Env *e = env_start(NULL, false);
        SmmuPt s2;
        uint64_t ste[8] = { 0 };
        uint64_t page = 1ull << g;
        uint64_t a = smmu_alloc(e->m, page, page), b = smmu_alloc(e->m, page, page);

        smmu_pt_init(&s2, e->m, true, g, 42, -1);
        smmu_pt_map(&s2, 0x20000000000ull, a, page, PT_R | PT_W);
        smmu_pt_map(&s2, 0x10000, b, page, PT_R | PT_W);
        smmu_ste_s2(ste, &s2, 9);
        smmu_write_ste(e->d, SID, ste);
        smmu_check_copy(e, 0x20000000000ull + 24, a + 24, 0x10000, b, 0x1600 + g);
        smmu_expect_no_event(e);
        env_stop(e);
    }
}

/* ------------------------------------------------------------------------
 * Nested: the CD and the stage-1 tables are IPAs, fetched through stage 2.
 */
static void test_nested(void)
{
    Env *e = env_start(NULL, false);
    SmmuPt s1, s2;
    uint64_t ste[8], cd[8], ev[4];
    uint64_t cd_pa = smmu_alloc(e->m, 4096, 4096);
    const uint64_t cd_ipa = 0x7000000000ull;           /* IPA != PA */
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), msi = td_alloc(e->m, 4096);
    const uint64_t va_a = 0x1000000, va_b = 0x2000000, va_msi = 0x3000000;
    const uint64_t ipa_a = 0x5000000000ull, ipa_b = 0x5000001000ull, ipa_msi = 0x5000002000ull;

    smmu_pt_init(&s2, e->m, true, 12, 48, 0);
    smmu_pt_init(&s1, e->m, false, 12, 48, -1);
    smmu_pt_map(&s1, va_a, ipa_a, 4096, PT_R | PT_W);
    smmu_pt_map(&s1, va_b, ipa_b, 4096, PT_R | PT_W);
    smmu_pt_map(&s1, va_msi, ipa_msi, 4096, PT_R | PT_W);
    /* Stage 1's tables live at IPA == PA: map exactly those pages. */
    for (unsigned i = 0; i < s1.ntables; i++) {
        smmu_pt_map(&s2, s1.tables[i], s1.tables[i], 4096, PT_R | PT_W);
    }
    smmu_pt_map(&s2, cd_ipa, cd_pa, 4096, PT_R);
    smmu_pt_map(&s2, ipa_a, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, ipa_b, b, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, ipa_msi, msi, 4096, PT_R | PT_W);

    smmu_cd(cd, &s1, 5);
    smmu_write_cd(e->d, cd_pa, cd);
    smmu_ste_s1(ste, cd_ipa, 0, 0, 0);
    smmu_ste_s2(ste, &s2, 2);
    g_assert_cmpuint((ste[0] >> 1) & 7, ==, STE_CFG_NESTED);
    smmu_write_ste(e->d, SID, ste);

    smmu_check_copy(e, va_a + 8, a + 8, va_b, b, 0x1122334455667788ull);
    td_msix_setup(e->td, 2, va_msi, 0x7777);
    td_writel(e->td, TD_IRQ, TD_IRQ_ENABLE | 2);
    smmu_check_copy(e, va_a, a, va_b, b, 3);
    g_assert_cmphex(qtest_readl(e->m->qts, msi), ==, 0x7777);
    td_writel(e->td, TD_IRQ, 0);
    smmu_expect_no_event(e);

    /* Stage-1 output not mapped at stage 2: S2 fault, CLASS = IN, IPA = S1 output. */
    smmu_pt_map(&s1, va_a + 0x1000, 0x5000009000ull, 4096, PT_R | PT_W);   /* same tables */
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va_a + 0x1000, va_b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmpuint(EVT_S2(ev), ==, 1);
    g_assert_cmpuint(EVT_CLASS(ev), ==, 2);
    g_assert_cmphex(EVT_IPA(ev), ==, 0x5000009000ull);
    g_assert_cmphex(EVT_ADDR(ev), ==, va_a + 0x1000);

    /* A stage-1 table page unmapped at stage 2: S2 fault with CLASS = TT. */
    qtest_writeq(e->m->qts, smmu_pt_leaf(&s2, smmu_pt_leaf(&s1, va_a) & ~0xfffull), 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_S12_VMALL | (2ull << 32), 0), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va_a, va_b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmpuint(EVT_S2(ev), ==, 1);
    g_assert_cmpuint(EVT_CLASS(ev), ==, 1);
    g_assert_cmphex(EVT_IPA(ev), ==, smmu_pt_leaf(&s1, va_a) & ~0xfffull);

    /* The CD's IPA unmapped: S2 fault with CLASS = CD (after CFGI_CD). */
    qtest_writeq(e->m->qts, smmu_pt_leaf(&s2, cd_ipa), 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32), 1), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va_a, va_b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmpuint(EVT_S2(ev), ==, 1);
    g_assert_cmpuint(EVT_CLASS(ev), ==, 0);
    g_assert_cmphex(EVT_IPA(ev), ==, cd_ipa);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * 2-level stream table
 */
static void test_st_2lvl(void)
{
    Env *e = env_start(NULL, true);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), ev[4];

    smmu_s1_setup(e, &s, 12, 1);
    smmu_pt_map(&s.pt, 0x10000, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, 0x20000, b, 4096, PT_R | PT_W);
    smmu_check_copy(e, 0x10000, a, 0x20000, b, 0xabcdef);
    smmu_expect_no_event(e);

    /* L1 descriptor with Span 0: the StreamID is out of range (RECINVSID is set). */
    qtest_writeq(e->m->qts, e->d->strtab, 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE | ((uint64_t)SID << 32), 1), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x10000, 0x20000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STREAMID, ev);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Substreams: 2-level CD table driven by PASID-tagged DMA; S1DSS.
 */
static uint64_t s1_pte(uint64_t pa)
{
    return pa | 3 | (3u << 8) | (1u << 10) | (1u << 6) | (1u << 11);
}

#define NPASID 4
static const uint32_t pasids[NPASID] = { 1, 65, 700, 1023 };

static void set_pasid(Env *e, uint32_t pasid)
{
    td_writel(e->td, TD_PASID, pasid == UINT32_MAX ? 0 : TD_PASID_VALID | pasid);
}

static void test_pasid(void)
{
    Env *e = env_start(NULL, false);
    SmmuPt pt[NPASID + 1];
    uint64_t pa[NPASID + 1], cd[8], ste[8], ev[4];
    uint64_t l1 = smmu_alloc(e->m, 16 * 8, 4096);      /* 1024 CDs: 16 L2 tables of 64 */
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t iova = 0x100000, scratch_iova = 0x200000;

    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    g_assert_true(td_readl(e->td, TD_CAPS) & TD_CAPS_PASID_PATH);
    /* Index NPASID is CD 0 (non-PASID traffic with S1DSS = substream 0). */
    for (int i = 0; i <= NPASID; i++) {
        uint32_t ssid = i < NPASID ? pasids[i] : 0;
        uint64_t l1d = qtest_readq(e->m->qts, l1 + (ssid / 64) * 8);

        if (!(l1d & 1)) {
            l1d = smmu_alloc(e->m, 64 * 64, 4096) | 1;
            qtest_writeq(e->m->qts, l1 + (ssid / 64) * 8, l1d);
        }
        pa[i] = td_alloc(e->m, 4096);
        qtest_writeq(e->m->qts, pa[i], 0x1000 + i);
        smmu_pt_init(&pt[i], e->m, false, 12, 48, -1);
        smmu_pt_map(&pt[i], iova, pa[i], 4096, PT_R | PT_W);
        smmu_pt_map(&pt[i], scratch_iova, scratch, 4096, PT_R | PT_W);
        smmu_cd(cd, &pt[i], 100 + i);
        smmu_write_cd(e->d, (l1d & ~0xfffull) + (ssid % 64) * 64, cd);
    }
    smmu_ste_s1(ste, l1, 1, 10, S1DSS_SSID0);
    smmu_write_ste(e->d, SID, ste);

    for (int i = 0; i < NPASID; i++) {
        set_pasid(e, pasids[i]);
        g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x1000 + i);
    }
    set_pasid(e, UINT32_MAX);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x1000 + NPASID);
    smmu_expect_no_event(e);

    /* SSID 0 is reserved for non-PASID traffic with S1DSS = substream 0. */
    set_pasid(e, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_SUBSTREAMID, ev);
    g_assert_cmpuint(EVT_SSV(ev), ==, 1);
    /* A PASID whose L1CD is invalid. */
    set_pasid(e, 130);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_SUBSTREAMID, ev);
    g_assert_cmpuint(EVT_SSID(ev), ==, 130);
    /* A PASID beyond S1CDMax. */
    set_pasid(e, 5000);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_SUBSTREAMID, ev);
    /* A valid L1CD but an invalid CD. */
    set_pasid(e, 2);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_CD, ev);
    g_assert_cmpuint(EVT_SSID(ev), ==, 2);

    /* S1DSS = bypass: non-PASID traffic is untranslated, PASID traffic still is. */
    ste[1] = (ste[1] & ~3ull) | S1DSS_BYPASS;
    smmu_write_ste(e->d, SID, ste);
    set_pasid(e, UINT32_MAX);
    qtest_writeq(e->m->qts, scratch, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, pa[1], scratch, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(e->m->qts, scratch), ==, 0x1001);
    set_pasid(e, pasids[2]);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x1002);

    /* S1DSS = terminate: non-PASID traffic gets F_STREAM_DISABLED. */
    ste[1] &= ~3ull;
    smmu_write_ste(e->d, SID, ste);
    set_pasid(e, UINT32_MAX);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_STREAM_DISABLED, ev);
    set_pasid(e, pasids[3]);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x1003);

    /* CFGI_CD of one substream makes its new CD visible. */
    qtest_writeq(e->m->qts, smmu_pt_leaf(&pt[3], iova),
                 s1_pte(pa[0]));
    smmu_pt_init(&pt[NPASID], e->m, false, 12, 48, -1);
    smmu_pt_map(&pt[NPASID], iova, pa[2], 4096, PT_R);
    smmu_pt_map(&pt[NPASID], scratch_iova, scratch, 4096, PT_R | PT_W);
    smmu_cd(cd, &pt[NPASID], 200);
    {
        uint64_t l1d = qtest_readq(e->m->qts, l1 + (pasids[3] / 64) * 8);

        smmu_write_cd(e->d, (l1d & ~0xfffull) + (pasids[3] % 64) * 64, cd);
    }
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32) |
                                   ((uint64_t)pasids[3] << 12), 1), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x1002);
    set_pasid(e, UINT32_MAX);
    smmu_expect_no_event(e);
    env_stop(e);
}


/*
 * A PASID's address space is the device's only while it issues requests: a
 * guest cycling through more PASIDs than the IOMMU keeps idle spaces for
 * (VIOMMU_SPACES_IDLE_MAX, 32) leaves at most that many, and the spaces made
 * again for PASIDs that come back translate as before.
 */
#define NCYCLE 40

static void test_pasid_spaces_bounded(void)
{
    Env *e = env_start("id=iommu", false);
    QTestState *qts = e->m->qts;
    uint64_t l1 = smmu_alloc(e->m, 16 * 8, 4096), l2 = smmu_alloc(e->m, 64 * 64, 4096);
    uint64_t scratch = td_alloc(e->m, 4096), cd[8], ste[8], ev[4];
    const uint64_t iova = 0x100000, scratch_iova = 0x200000;
    SmmuPt pt;
    QDict *r;

    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    qtest_writeq(qts, l1, l2 | 1);
    for (int i = 1; i <= NCYCLE; i++) {
        uint64_t pa = td_alloc(e->m, 4096);

        qtest_writeq(qts, pa, 0x2000 + i);
        smmu_pt_init(&pt, e->m, false, 12, 48, -1);
        smmu_pt_map(&pt, iova, pa, 4096, PT_R | PT_W);
        smmu_pt_map(&pt, scratch_iova, scratch, 4096, PT_R | PT_W);
        smmu_cd(cd, &pt, 100 + i);
        smmu_write_cd(e->d, l2 + i * 64, cd);
    }
    smmu_ste_s1(ste, l1, 1, 10, S1DSS_SSID0);
    smmu_write_ste(e->d, SID, ste);

    for (int round = 0; round < 3; round++) {
        for (int i = 1; i <= NCYCLE; i++) {
            set_pasid(e, i);
            g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x2000 + i);
        }
    }
    smmu_expect_no_event(e);
    /* PASIDs without a valid CD: refused, and their spaces do not pile up either. */
    for (int i = NCYCLE + 1; i < NCYCLE + 1 + 200; i++) {
        set_pasid(e, i);
        g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
        /* L1 descriptor 0 is valid (its CDs are not), the others are not. */
        smmu_expect_event(e, i < 64 ? EVT_C_BAD_CD : EVT_C_BAD_SUBSTREAMID, ev);
        g_assert_cmpuint(EVT_SSID(ev), ==, i);
    }
    r = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {'path': '/machine/peripheral/iommu',"
                  " 'property': 'x-pasid-spaces'}}");
    g_assert_cmpint(qdict_get_int(r, "return"), <=, 32);
    g_assert_cmpint(qdict_get_int(r, "return"), >=, 1);
    qobject_unref(r);
    set_pasid(e, 7);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==, 0x2000 + 7);
    set_pasid(e, UINT32_MAX);
    env_stop(e);
}
/* ------------------------------------------------------------------------
 * Invalidation: each command removes the stale entry it names.
 */

static void test_invalidation(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t p1 = td_alloc(e->m, 4096), p2 = td_alloc(e->m, 4096);
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t iova = 0x7654321000ull, scratch_iova = 0x1000;
    const uint16_t asid = 0x1234;
    uint64_t pte;
    struct {
        const char *name;
        uint64_t w0, w1;
    } cmds[] = {
        { "NH_VA", CMD_TLBI_NH_VA | ((uint64_t)asid << 48), iova },
        { "NH_VA leaf", CMD_TLBI_NH_VA | ((uint64_t)asid << 48), iova | 1 },
        /* RIL: TG 4K, SCALE 1, NUM 3: (3 + 1) << 1 = 8 pages from iova - 0x3000. */
        { "NH_VA range", CMD_TLBI_NH_VA | ((uint64_t)asid << 48) | (3u << 12) | (1u << 20),
          (iova - 0x3000) | (1u << 10) | (3u << 8) },
        { "NH_VAA", CMD_TLBI_NH_VAA, iova },
        { "NH_ASID", CMD_TLBI_NH_ASID | ((uint64_t)asid << 48), 0 },
        { "NH_ALL", CMD_TLBI_NH_ALL, 0 },
        { "NSNH_ALL", CMD_TLBI_NSNH_ALL, 0 },
        { "S12_VMALL", CMD_TLBI_S12_VMALL, 0 },
    };
    /* Commands that must leave the entry alone. */
    struct {
        const char *name;
        uint64_t w0, w1;
    } misses[] = {
        { "NH_VA other ASID", CMD_TLBI_NH_VA | ((uint64_t)(asid + 1) << 48), iova },
        { "NH_VA other page", CMD_TLBI_NH_VA | ((uint64_t)asid << 48), iova + 0x1000 },
        { "NH_ASID other", CMD_TLBI_NH_ASID | ((uint64_t)(asid + 1) << 48), 0 },
        { "NH_ALL other VMID", CMD_TLBI_NH_ALL | (5ull << 32), 0 },
        { "S2_IPA", CMD_TLBI_S2_IPA, iova },
        { "range elsewhere", CMD_TLBI_NH_VA | ((uint64_t)asid << 48) | (1u << 12),
          (iova + 0x10000) | (1u << 10) },
    };

    smmu_s1_setup(e, &s, 12, asid);
    smmu_pt_map(&s.pt, iova, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, scratch_iova, scratch, 4096, PT_R | PT_W);
    qtest_writeq(e->m->qts, p1, 0x1111);
    qtest_writeq(e->m->qts, p2, 0x2222);
    pte = smmu_pt_leaf(&s.pt, iova);

    for (int i = 0; i < ARRAY_SIZE(cmds); i++) {
        uint64_t from = i & 1 ? p2 : p1, to = i & 1 ? p1 : p2;

        g_test_message("invalidation by %s", cmds[i].name);
        g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==,
                        qtest_readq(e->m->qts, from));
        qtest_writeq(e->m->qts, pte, s1_pte(to));
        /* The model caches: without the command the old page is still seen. */
        g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==,
                        qtest_readq(e->m->qts, from));
        for (int j = 0; j < ARRAY_SIZE(misses); j++) {
            g_test_message("  not by %s", misses[j].name);
            g_assert_cmpuint(smmu_cmd_sync(e->d, misses[j].w0, misses[j].w1), ==, 0);
            g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==,
                            qtest_readq(e->m->qts, from));
        }
        g_assert_cmpuint(smmu_cmd_sync(e->d, cmds[i].w0, cmds[i].w1), ==, 0);
        g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), ==,
                        qtest_readq(e->m->qts, to));
    }

    /* CFGI_STE: the STE becomes Abort. */
    qtest_writeq(e->m->qts, smmu_ste_addr(e->d, SID), 1);
    g_assert_cmphex(smmu_dma_read(e, iova, scratch_iova, scratch), !=, 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE | ((uint64_t)SID << 32), 1), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_no_event(e);                     /* Config abort records nothing */
    env_stop(e);
}

/*
 * TBI (CD.TBI0): the top byte of the VA is not part of the address, so the
 * IOTLB entry a tagged DMA creates is the untagged address's, and
 * TLBI_NH_VA(A) on the untagged VA removes it (IHI 0070 3.4.1).
 */
static void test_tbi(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t p1 = td_alloc(e->m, 4096), p2 = td_alloc(e->m, 4096);
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t va = 0x7654321000ull, scratch_va = 0x1000;
    const uint64_t tagged = va | (0x5aull << 56), tagged2 = va | (0xa5ull << 56);
    const uint16_t asid = 7;

    smmu_s1_setup(e, &s, 12, asid);
    s.cd[0] |= 1ull << 38;                              /* TBI0 */
    smmu_write_cd(e->d, s.cdtab, s.cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD_ALL | ((uint64_t)SID << 32), 0), ==, 0);
    smmu_pt_map(&s.pt, va, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, scratch_va, scratch, 4096, PT_R | PT_W);
    qtest_writeq(e->m->qts, p1, 0x1111);
    qtest_writeq(e->m->qts, p2, 0x2222);
    g_assert_cmphex(smmu_dma_read(e, tagged, scratch_va, scratch), ==, 0x1111);
    g_assert_cmphex(smmu_dma_read(e, tagged2, scratch_va, scratch), ==, 0x1111);
    /* Remap, invalidate the untagged VA: both tags see the new page. */
    qtest_writeq(e->m->qts, smmu_pt_leaf(&s.pt, va), 0);
    smmu_pt_map(&s.pt, va, p2, 4096, PT_R | PT_W);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_VA | ((uint64_t)asid << 48), va), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, tagged, scratch_va, scratch), ==, 0x2222);
    g_assert_cmphex(smmu_dma_read(e, tagged2, scratch_va, scratch), ==, 0x2222);
    g_assert_cmphex(smmu_dma_read(e, va, scratch_va, scratch), ==, 0x2222);
    /* A tagged TLBI address names the same page. */
    qtest_writeq(e->m->qts, smmu_pt_leaf(&s.pt, va), 0);
    smmu_pt_map(&s.pt, va, p1, 4096, PT_R | PT_W);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_VAA, tagged2), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, tagged, scratch_va, scratch), ==, 0x1111);
    smmu_expect_no_event(e);
    env_stop(e);
}

static void test_invalidation_s2(void)
{
    Env *e = env_start(NULL, false);
    SmmuPt s2;
    uint64_t ste[8] = { 0 };
    uint64_t p1 = td_alloc(e->m, 4096), p2 = td_alloc(e->m, 4096);
    uint64_t scratch = td_alloc(e->m, 4096);
    const uint64_t ipa = 0x3000000, scratch_ipa = 0x1000;
    const uint16_t vmid = 77;
    uint64_t pte;
    const uint64_t s2attr = 3 | (0xfu << 2) | (3u << 6) | (3u << 8) | (1u << 10);

    smmu_pt_init(&s2, e->m, true, 12, 40, 1);
    smmu_pt_map(&s2, ipa, p1, 4096, PT_R | PT_W);
    smmu_pt_map(&s2, scratch_ipa, scratch, 4096, PT_R | PT_W);
    smmu_ste_s2(ste, &s2, vmid);
    smmu_write_ste(e->d, SID, ste);
    qtest_writeq(e->m->qts, p1, 0x1111);
    qtest_writeq(e->m->qts, p2, 0x2222);
    pte = smmu_pt_leaf(&s2, ipa);

    g_assert_cmphex(smmu_dma_read(e, ipa, scratch_ipa, scratch), ==, 0x1111);
    qtest_writeq(e->m->qts, pte, p2 | s2attr);
    g_assert_cmphex(smmu_dma_read(e, ipa, scratch_ipa, scratch), ==, 0x1111);
    /* TLBI_NH_* do not touch stage-2-only entries; other VMIDs neither. */
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_ALL | ((uint64_t)vmid << 32), 0), ==, 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_S2_IPA | ((uint64_t)(vmid + 1) << 32),
                                   ipa), ==, 0);
    g_assert_cmphex(smmu_dma_read(e, ipa, scratch_ipa, scratch), ==, 0x1111);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_S2_IPA | ((uint64_t)vmid << 32), ipa),
                     ==, 0);
    g_assert_cmphex(smmu_dma_read(e, ipa, scratch_ipa, scratch), ==, 0x2222);

    qtest_writeq(e->m->qts, pte, p1 | s2attr);
    g_assert_cmphex(smmu_dma_read(e, ipa, scratch_ipa, scratch), ==, 0x2222);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_S12_VMALL | ((uint64_t)vmid << 32), 0),
                     ==, 0);
    g_assert_cmphex(smmu_dma_read(e, ipa, scratch_ipa, scratch), ==, 0x1111);
    smmu_expect_no_event(e);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Events
 */
static void test_events(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), ev[4], ste[8];
    const uint64_t va = 0x10000, vb = 0x20000;

    smmu_s1_setup(e, &s, 12, 3);
    smmu_pt_map(&s.pt, va, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, vb, b, 4096, PT_R | PT_W);
    smmu_check_copy(e, va, a, vb, b, 1);

    /* F_ACCESS: AF = 0 without hardware update. */
    smmu_pt_map(&s.pt, 0x30000, a, 4096, PT_R | PT_W | PT_NOAF);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x30000, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_ACCESS, ev);

    /* F_ADDR_SIZE: an output address beyond CD.IPS (32 bits). */
    s.cd[0] &= ~(7ull << 32);
    smmu_write_cd(e->d, s.cdtab, s.cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD_ALL | ((uint64_t)SID << 32), 0), ==, 0);
    smmu_pt_map(&s.pt, 0x40000, 0x100000000ull, 4096, PT_R | PT_W);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x40000, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_ADDR_SIZE, ev);

    /* Record suppression: CD.R = 0 -> the fault is not recorded. */
    s.cd[0] &= ~(1ull << 45);
    smmu_write_cd(e->d, s.cdtab, s.cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32), 1), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x50000, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_no_event(e);
    s.cd[0] |= (1ull << 45) | (5ull << 32);

    /* F_WALK_EABT: TTB0 points at nothing. */
    s.cd[1] = UNBACKED_PA;
    smmu_write_cd(e->d, s.cdtab, s.cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32), 1), ==, 0);
    /* CFGI_CD does not touch the TLB: the guest also invalidates the ASID. */
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_ASID | (3ull << 48), 0), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_WALK_EABT, ev);
    g_assert_cmphex(ev[3] & ~0xfffull, ==, UNBACKED_PA);

    /* C_BAD_CD: CD.V = 0. */
    s.cd[0] &= ~(1ull << 31);
    smmu_write_cd(e->d, s.cdtab, s.cd);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_CD | ((uint64_t)SID << 32), 1), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_CD, ev);

    /* F_CD_FETCH: S1ContextPtr points at nothing. */
    smmu_ste_s1(ste, UNBACKED_PA, 0, 0, 0);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_CD_FETCH, ev);
    g_assert_cmphex(ev[3], ==, UNBACKED_PA);

    /* C_BAD_SUBSTREAMID: PASID-tagged DMA on a stream without substreams. */
    smmu_ste_s1(ste, s.cdtab, 0, 0, 0);
    smmu_write_ste(e->d, SID, ste);
    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    set_pasid(e, 3);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_SUBSTREAMID, ev);
    set_pasid(e, UINT32_MAX);

    /* C_BAD_STE: V = 0, and a reserved Config. */
    ste[0] &= ~1ull;
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);
    ste[0] = 1 | (2 << 1);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STE, ev);

    /* Bypass STE: untranslated. */
    memset(ste, 0, sizeof(ste));
    ste[0] = 1 | (STE_CFG_BYPASS << 1);
    smmu_write_ste(e->d, SID, ste);
    smmu_check_copy(e, a, a, b, b, 0xb1a5);
    smmu_expect_no_event(e);

    /* C_BAD_STREAMID: the stream table is shorter than the StreamID. */
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN);
    smmu_writel(e->d, SMMU_STRTAB_BASE_CFG, 5);        /* 32 STEs: SID 0x20 is out */
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE_RANGE, 31), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_C_BAD_STREAMID, ev);
    /* ... not recorded without CR2.RECINVSID. */
    smmu_writel(e->d, SMMU_CR2, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_no_event(e);

    /* F_STE_FETCH: the stream table is nowhere. */
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN);
    smmu_writeq(e->d, SMMU_STRTAB_BASE, UNBACKED_PA);
    smmu_writel(e->d, SMMU_STRTAB_BASE_CFG, 8);
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE_RANGE, 31), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_STE_FETCH, ev);
    g_assert_cmphex(ev[3], ==, UNBACKED_PA + SID * 64);

    /* Tables are fetched from RAM only: a stream table in a device's BAR aborts. */
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN);
    smmu_writeq(e->d, SMMU_STRTAB_BASE, e->td->bar.addr - SID * 64);
    smmu_writel(e->d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE_RANGE, 31), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, b, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_STE_FETCH, ev);
    g_assert_cmphex(ev[3], ==, e->td->bar.addr);
    env_stop(e);
}

/*
 * An event queue placed on a device's BAR (IHI 0070 7.2.2): the record write
 * is an abort (EVENTQ_ABT_ERR), nothing reaches the device, and the record
 * is not written from inside the DMA that faulted (the test device, busy
 * with that DMA, would flag a register write with STATUS.REJECTED).
 */
static void test_evtq_mmio(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t b = td_alloc(e->m, 4096), ev[4];
    const uint64_t va = 0x10000, vb = 0x20000;
    uint32_t cr0 = smmu_readl(e->d, SMMU_CR0);

    smmu_s1_setup(e, &s, 12, 3);
    smmu_pt_map(&s.pt, vb, b, 4096, PT_R | PT_W);
    smmu_writel(e->d, SMMU_CR0, cr0 & ~CR0_EVENTQEN);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR0ACK) & CR0_EVENTQEN, ==, 0);
    smmu_writeq(e->d, SMMU_EVENTQ_BASE, e->td->bar.addr | 5);
    smmu_writel(e->d, SMMU_EVENTQ_PROD, 0);
    smmu_writel(e->d, SMMU_EVENTQ_CONS, 0);
    smmu_writel(e->d, SMMU_CR0, cr0);

    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    g_assert_cmphex(smmu_readl(e->d, SMMU_GERROR) ^ smmu_readl(e->d, SMMU_GERRORN), ==,
                    R_VISMMU_GERROR_EVENTQ_ABT_ERR_MASK);
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_PROD) & 0xfffff, ==, 0);
    g_assert_cmphex(td_readl(e->td, TD_STATUS) & TD_STATUS_REJECTED, ==, 0);
    g_assert_cmphex(td_readq(e->td, TD_SRC_LO), ==, va);
    g_assert_cmphex(td_readq(e->td, TD_DST_LO), ==, vb);

    /* While EVENTQ_ABT_ERR is active nothing is written, even to RAM (7.2.2). */
    smmu_writel(e->d, SMMU_CR0, cr0 & ~CR0_EVENTQEN);
    smmu_writeq(e->d, SMMU_EVENTQ_BASE, e->d->evtq | e->d->evtq_log2);
    smmu_writel(e->d, SMMU_EVENTQ_PROD, 0);
    smmu_writel(e->d, SMMU_EVENTQ_CONS, 0);
    e->d->evtq_cons = 0;
    smmu_writel(e->d, SMMU_CR0, cr0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_PROD) & 0xfffff, ==, 0);
    /* Acknowledged: the next record is written. */
    smmu_writel(e->d, SMMU_GERRORN, smmu_readl(e->d, SMMU_GERROR));
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);

    /*
     * The SMMU's own registers as the queue: slot 1 would be CR0..CR2, and
     * the record's first word (type, StreamID) written there would turn the
     * SMMU off.
     */
    smmu_writel(e->d, SMMU_GERRORN, smmu_readl(e->d, SMMU_GERROR));
    smmu_writel(e->d, SMMU_CR0, cr0 & ~CR0_EVENTQEN);
    smmu_writeq(e->d, SMMU_EVENTQ_BASE, SMMU_BASE | 5);
    smmu_writel(e->d, SMMU_EVENTQ_PROD, 1);
    smmu_writel(e->d, SMMU_EVENTQ_CONS, 1);
    smmu_writel(e->d, SMMU_CR0, cr0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, va, vb, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(smmu_sync(e->d), ==, 0);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR0), ==, cr0);
    g_assert_cmphex(smmu_readl(e->d, SMMU_GERROR) ^ smmu_readl(e->d, SMMU_GERRORN), ==,
                    R_VISMMU_GERROR_EVENTQ_ABT_ERR_MASK);
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_PROD) & 0xfffff, ==, 1);
    env_stop(e);
}

/*
 * Records of transactions terminated before a CMD_SYNC are visible when it
 * completes (IHI 0070 4.7.3), and clearing EVENTQEN writes out committed
 * records first (7.2.1), even those whose bottom half has not run yet.  Two
 * test devices with virtual-time delays act within one qtest clock step, so
 * no bottom half runs between them: A's DMA faults, then B's DMA writes the
 * SMMU's registers (an IOVA mapped to page 0):
 *   mode 0: CMDQ_PROD, running a CMD_SYNC whose completion MSI targets the
 *           event queue slot: the record must be there before that MSI
 *           lands on its first word;
 *   mode 1: CR0 without EVENTQEN: the record must have been written.
 */
static void test_event_visibility(gconstpointer data)
{
    int mode = GPOINTER_TO_INT(data);
    Env *e = env_start_args(NULL, false, 8, 6, "-device viommu-testdev,addr=05.0");
    Td *tdb = td_open(e->m, 0x28);
    SmmuS1 s;
    SmmuPt ptb;
    uint64_t a = td_alloc(e->m, 4096), cdb = smmu_alloc(e->m, 64, 64), ste[8], cd[8], ev[4];
    const uint64_t va = 0x10000, vb = 0x20000, va_regs = 0x30000;
    uint32_t prod = smmu_readl(e->d, SMMU_EVENTQ_PROD) & ((1u << e->d->evtq_log2) - 1);
    uint32_t cr0 = smmu_readl(e->d, SMMU_CR0);
    uint64_t slot = e->d->evtq + prod * 32;

    smmu_s1_setup(e, &s, 12, 3);
    smmu_pt_map(&s.pt, vb, a, 4096, PT_R | PT_W);
    smmu_pt_init(&ptb, e->m, false, 12, 48, -1);
    smmu_pt_map(&ptb, va_regs, SMMU_BASE, 4096, PT_R | PT_W);
    smmu_cd(cd, &ptb, 4);
    smmu_write_cd(e->d, cdb, cd);
    smmu_ste_s1(ste, cdb, 0, 0, 0);
    smmu_write_ste(e->d, 0x28, ste);

    qtest_writeq(e->m->qts, slot, 0);
    td_program(e->td, TD_OP_COPY, va, vb, 8);               /* faults */
    td_writel(e->td, TD_DELAY_NS, 1000);
    td_start(e->td);
    if (mode == 0) {
        /* A CMD_SYNC signalling 0xd00df00d to the event queue slot, not yet kicked. */
        smmu_cmd(e->d, CMD_SYNC | (1u << 12) | (0xd00df00dull << 32), slot);
        td_writel(tdb, TD_PATTERN, e->d->cmdq_prod);
        td_program(tdb, TD_OP_FILL, 0, va_regs + SMMU_CMDQ_PROD, 4);
    } else {
        td_writel(tdb, TD_PATTERN, cr0 & ~CR0_EVENTQEN);
        td_program(tdb, TD_OP_FILL, 0, va_regs + SMMU_CR0, 4);
    }
    td_writel(tdb, TD_DELAY_NS, 2000);
    td_start(tdb);
    qtest_clock_step(e->m->qts, 3000);

    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_READ_FAULT);
    g_assert_cmpuint(td_wait(tdb), ==, TD_ERR_NONE);
    if (mode == 0) {
        g_assert_cmphex(smmu_readl(e->d, SMMU_CMDQ_CONS) & 0xfffff, ==, e->d->cmdq_prod);
        g_assert_cmphex(qtest_readl(e->m->qts, slot), ==, 0xd00df00d);
    } else {
        g_assert_cmphex(smmu_readl(e->d, SMMU_CR0), ==, cr0 & ~CR0_EVENTQEN);
        g_assert_cmphex(qtest_readl(e->m->qts, slot) & 0xff, ==, EVT_F_TRANSLATION);
    }
    g_assert_true(smmu_next_event(e->d, ev));
    g_assert_cmphex(EVT_SID(ev), ==, SID);
    g_assert_cmphex(EVT_ADDR(ev), ==, va);
    td_close(tdb);
    env_stop(e);
}

/* The event queue wraps, overflows (OVFLG) and recovers. */
static void test_evtq_wrap(void)
{
    Env *e = env_start_args(NULL, false, 8, 2, NULL);   /* 4-entry event queue */
    uint64_t ste[8] = { 0 }, ev[4];
    uint64_t a = td_alloc(e->m, 4 * 4096), b = td_alloc(e->m, 4096);
    uint32_t prod;

    smmu_write_ste(e->d, SID, ste);         /* V = 0: C_BAD_STE on every access */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++) {
            g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a + 0x1000 * i, b, 8), ==,
                             TD_ERR_READ_FAULT);
        }
        for (int i = 0; i < 3; i++) {
            g_assert_true(smmu_next_event(e->d, ev));
            g_assert_cmphex(EVT_TYPE(ev), ==, EVT_C_BAD_STE);
        }
        smmu_expect_no_event(e);
    }
    /* 9 records through a 4-entry queue: the wrap bit has flipped. */
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_PROD) & 7, ==, 9 & 7);

    /* Six faults into four slots: two records lost, OVFLG toggled. */
    for (int i = 0; i < 6; i++) {
        td_do(e->td, TD_OP_COPY, a, b, 8);
    }
    prod = smmu_readl(e->d, SMMU_EVENTQ_PROD);
    g_assert_true(prod & (1u << 31));
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 4);
    /* Acknowledged by the CONS write (OVACKFLG = OVFLG): no new overflow flagged. */
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_CONS) & (1u << 31), ==, 1u << 31);
    td_do(e->td, TD_OP_COPY, a, b, 8);
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 1);
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_PROD) & (1u << 31), ==, 1u << 31);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Command queue errors and wrap
 */
static void test_cmdq(void)
{
    Env *e = env_start_args(NULL, false, 7, 4, NULL);   /* 128-entry command queue */
    SmmuDrv *d = e->d;
    uint32_t cons, bad;
    uint64_t slot;

    /* Wrap: 300 entries through 128 slots. */
    for (int i = 0; i < 150; i++) {
        g_assert_cmpuint(smmu_cmd_sync(d, CMD_PREFETCH_CONFIG | ((uint64_t)SID << 32), 0),
                         ==, 0);
    }
    cons = smmu_readl(e->d, SMMU_CMDQ_CONS);
    g_assert_cmphex(cons, ==, d->cmdq_prod);
    g_assert_cmphex(cons & 0xff, ==, (300 + 4) & 0xff);     /* + the 4 of the reset */

    /* An unknown opcode: CERROR_ILL, GERROR.CMDQ_ERR, CONS stops at it. */
    static const uint64_t illegal[][2] = {
        { 0xff, 0 },                            /* unknown opcode */
        { CMD_PRI_RESP, 3u << 12 },             /* reserved Resp */
        { CMD_RESUME, 0 },                      /* no stall */
        { CMD_SYNC | (3u << 12), 0 },           /* reserved CS */
        { CMD_CFGI_STE | (1u << 10), 0 },       /* SSec: no Secure state */
    };
    for (int i = 0; i < ARRAY_SIZE(illegal); i++) {
        uint32_t g;

        bad = d->cmdq_prod;
        slot = d->cmdq + (bad & 127) * 16;
        smmu_cmd(d, illegal[i][0], illegal[i][1]);
        g_assert_cmpuint(smmu_sync(d), ==, CERROR_ILL);
        cons = smmu_readl(d, SMMU_CMDQ_CONS);
        g_assert_cmphex(cons & 0xfffff, ==, bad);
        g = smmu_readl(d, SMMU_GERROR) ^ smmu_readl(d, SMMU_GERRORN);
        g_assert_cmphex(g, ==, GERROR_CMDQ_ERR);
        /* Nothing runs while the error is active. */
        smmu_writel(d, SMMU_CMDQ_PROD, d->cmdq_prod);
        g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff, ==, bad);
        /* Like Linux: replace the bad command with a harmless one, then acknowledge. */
        qtest_writeq(e->m->qts, slot, CMD_PREFETCH_CONFIG);
        smmu_writel(d, SMMU_GERRORN, smmu_readl(d, SMMU_GERROR));
        g_assert_cmphex(smmu_readl(d, SMMU_CMDQ_CONS), ==, d->cmdq_prod);
        g_assert_cmpuint(qtest_readl(e->m->qts, d->cmdq + ((d->cmdq_prod - 1) & 127) * 16),
                         ==, 0);
    }
    /* With Hyp (both stages), TLBI_EL2_* are commands like the others. */
    g_assert_cmpuint(smmu_cmd_sync(d, CMD_TLBI_EL2_ALL, 0), ==, 0);

    /* CERROR_ABT: the queue in nothing. */
    smmu_writel(d, SMMU_CR0, CR0_EVENTQEN | CR0_SMMUEN);
    smmu_writeq(d, SMMU_CMDQ_BASE, UNBACKED_PA | 7);
    smmu_writel(d, SMMU_CMDQ_PROD, 0);
    smmu_writel(d, SMMU_CMDQ_CONS, 0);
    smmu_writel(d, SMMU_CR0, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    smmu_writel(d, SMMU_CMDQ_PROD, 1);
    cons = smmu_readl(d, SMMU_CMDQ_CONS);
    g_assert_cmpuint(CMDQ_CONS_ERR(cons), ==, CERROR_ABT);
    g_assert_cmphex(cons & 0xfffff, ==, 0);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * MSIs: an unmapped doorbell is a translation fault and no write.
 */
static void test_msi_unmapped(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), msi = td_alloc(e->m, 4096), ev[4];
    /* The ITS doorbell (GITS_TRANSLATER) as an IOVA nobody mapped. */
    const uint64_t doorbell = 0x08090040;

    smmu_s1_setup(e, &s, 12, 9);
    smmu_pt_map(&s.pt, 0x10000, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, doorbell & ~0xfffull, msi, 4096, PT_R | PT_W);
    td_msix_setup(e->td, 3, doorbell, 0x42);
    td_writel(e->td, TD_IRQ, TD_IRQ_ENABLE | 3);
    td_writel(e->td, TD_PATTERN, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, 0x10000, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(e->m->qts, msi + 0x40), ==, 0x42);
    smmu_expect_no_event(e);

    qtest_writel(e->m->qts, msi + 0x40, 0);
    qtest_writeq(e->m->qts, smmu_pt_leaf(&s.pt, doorbell), 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NH_VA | (9ull << 48), doorbell), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, 0x10000, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(e->m->qts, msi + 0x40), ==, 0);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmphex(EVT_ADDR(ev), ==, doorbell);
    g_assert_cmpuint(EVT_RNW(ev), ==, 0);
    env_stop(e);
}

/*
 * MSI-X to the GICv3 ITS doorbell through stage 1, stage 2 or nested: the
 * write reaches GITS_TRANSLATER with the device's requester ID (seen by the
 * ITS's own trace point), and once unmapped it is a translation fault and no
 * write reaches the ITS.
 */
#define ITS_TRANSLATER_PAGE 0x08090000ull      /* ITS at 0x08080000 + 64K frame */
#define MSI_IOVA            0x08000000ull      /* Linux's MSI_IOVA_BASE */

static void test_its(gconstpointer data)
{
    int mode = GPOINTER_TO_INT(data);      /* 0: S1, 1: S2, 2: nested */
    g_autofree char *log = g_strdup_printf("%s/viommu-smmuv3-its-%d-%d", g_get_tmp_dir(),
                                           getpid(), mode);
    g_autofree char *extra = g_strdup_printf("-trace enable=gicv3_its_translation_write,"
                                             "file=%s", log);
    Env *e = env_start_args(NULL, false, 8, 6, extra);
    SmmuPt s1, s2;
    uint64_t ste[8] = { 0 }, cd[8], ev[4], leaf;
    uint64_t cd_pa = smmu_alloc(e->m, 4096, 4096), a = td_alloc(e->m, 4096);
    const uint64_t ipa_db = 0x6000000000ull;
    g_autofree char *text = NULL;
    g_autofree char *needle = g_strdup_printf("requester_id 0x%x", SID);
    unsigned hits = 0;

    if (mode != 1) {
        smmu_pt_init(&s1, e->m, false, 12, 48, -1);
        smmu_pt_map(&s1, 0x10000, a, 4096, PT_R | PT_W);
        smmu_pt_map(&s1, MSI_IOVA, mode == 2 ? ipa_db : ITS_TRANSLATER_PAGE, 4096,
                     PT_R | PT_W);
        smmu_cd(cd, &s1, 1);
        smmu_write_cd(e->d, cd_pa, cd);
        smmu_ste_s1(ste, cd_pa, 0, 0, 0);
    }
    if (mode != 0) {
        smmu_pt_init(&s2, e->m, true, 12, 48, 0);
        if (mode == 2) {
            for (unsigned i = 0; i < s1.ntables; i++) {
                smmu_pt_map(&s2, s1.tables[i], s1.tables[i], 4096, PT_R | PT_W);
            }
            smmu_pt_map(&s2, cd_pa, cd_pa, 4096, PT_R);
            smmu_pt_map(&s2, a, a, 4096, PT_R | PT_W);
            smmu_pt_map(&s2, ipa_db, ITS_TRANSLATER_PAGE, 4096, PT_R | PT_W);
            smmu_pt_map(&s2, 0x10000, a, 4096, PT_R | PT_W);
        } else {
            smmu_pt_map(&s2, 0x10000, a, 4096, PT_R | PT_W);
            smmu_pt_map(&s2, MSI_IOVA, ITS_TRANSLATER_PAGE, 4096, PT_R | PT_W);
        }
        smmu_ste_s2(ste, &s2, 1);
    }
    smmu_write_ste(e->d, SID, ste);

    td_msix_setup(e->td, 0, MSI_IOVA + 0x40, 0);
    td_writel(e->td, TD_IRQ, TD_IRQ_ENABLE | 0);
    td_writel(e->td, TD_PATTERN, 0x01020304);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, 0x10000, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(e->m->qts, a), ==, 0x01020304);
    smmu_expect_no_event(e);

    /* Unmap the doorbell: the MSI write faults and never reaches the ITS. */
    leaf = mode == 0 ? smmu_pt_leaf(&s1, MSI_IOVA) :
           mode == 1 ? smmu_pt_leaf(&s2, MSI_IOVA) : smmu_pt_leaf(&s2, ipa_db);
    qtest_writeq(e->m->qts, leaf, 0);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NSNH_ALL, 0), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL, 0, 0x10000, 8), ==, TD_ERR_NONE);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmphex(EVT_ADDR(ev), ==, MSI_IOVA + 0x40);
    g_assert_cmpuint(EVT_RNW(ev), ==, 0);
    g_assert_cmpuint(EVT_S2(ev), ==, mode != 0);
    env_stop(e);

    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    for (const char *p = text; (p = strstr(p, "GICv3 ITS TRANSLATER write")); p++) {
        const char *eol = strchr(p, '\n');
        g_autofree char *line = g_strndup(p, eol ? eol - p : strlen(p));

        g_assert_nonnull(strstr(line, needle));
        hits++;
    }
    g_assert_cmpuint(hits, ==, 1);
    unlink(log);
}

/* The SMMU's own event interrupt as an MSI (EVENTQ_IRQ_CFG0/1). */
static void test_queue_msi(void)
{
    Env *e = env_start(NULL, false);
    uint64_t ste[8] = { 0 }, box = td_alloc(e->m, 4096);
    uint64_t a = td_alloc(e->m, 4096);

    smmu_writeq(e->d, SMMU_EVENTQ_IRQ_CFG0, box);
    smmu_writel(e->d, SMMU_EVENTQ_IRQ_CFG1, 0xe0e0);
    smmu_writeq(e->d, SMMU_GERROR_IRQ_CFG0, box + 8);
    smmu_writel(e->d, SMMU_GERROR_IRQ_CFG1, 0x6e6e);
    smmu_write_ste(e->d, SID, ste);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, a, a + 8, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(qtest_readl(e->m->qts, box), ==, 0xe0e0);
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 1);
    smmu_cmd(e->d, 0xfe, 0);
    g_assert_cmpuint(smmu_sync(e->d), ==, CERROR_ILL);
    g_assert_cmphex(qtest_readl(e->m->qts, box + 8), ==, 0x6e6e);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * PRI: the test device's page requests in the PRI queue, PRG Responses back.
 */
#define PRI_ALLOC       8

static uint16_t pri_status(Env *e)
{
    return td_cfg_readw(e->td, TD_CFG_PRI + PCI_PRI_STATUS);
}

/* Start op with TD_OP_PRI, wait for its page request and return its record. */
static void pri_start(Env *e, uint32_t op, uint64_t src, uint64_t dst, uint32_t len,
                      uint64_t rec[2])
{
    td_program(e->td, op | TD_OP_PRI, src, dst, len);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
    g_assert_true(smmu_next_ppr(e->d, rec));
    g_assert_cmphex(PRIQ_SID(rec), ==, SID);
    g_assert_cmpuint(PRIQ_PRGI(rec), ==, td_readl(e->td, TD_PRI_PRGI));
    g_assert_true(PRIQ_LAST(rec));
}

/* Stage 1 for the device, PRI queue of 16 with its MSI aimed at box, PRI enabled. */
static void pri_setup(Env *e, SmmuS1 *s, uint64_t box)
{
    smmu_s1_setup(e, s, 12, 3);
    smmu_writeq(e->d, SMMU_PRIQ_IRQ_CFG0, box);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG1, 0x9e1);
    smmu_priq_init(e->d, 4);
    td_pri_enable(e->td, PRI_ALLOC);
}

static void test_pri(void)
{
    Env *e = env_start(NULL, false);
    QTestState *qts = e->m->qts;
    SmmuS1 s;
    const uint32_t len = 3 * 4096;
    uint64_t a = td_alloc(e->m, len), b = td_alloc(e->m, len), box = td_alloc(e->m, 4096);
    const uint64_t iova_a = 0x100000, iova_b = 0x200000, iova_c = 0x300000;
    g_autofree uint8_t *data = g_malloc(len), *back = g_malloc(len);
    uint64_t rec[2], ev[4];
    unsigned prgi;

    pri_setup(e, &s, box);
    smmu_pt_map(&s.pt, iova_a, a, len, PT_R | PT_W);
    smmu_pt_map(&s.pt, iova_b, b, 4096, PT_R | PT_W);  /* pages 2 and 3 of b: unmapped */
    for (uint32_t i = 0; i < len; i++) {
        data[i] = i * 7 + 3;
    }
    qtest_memwrite(qts, a, data, len);

    /* The write to the second destination page is refused: a page request. */
    pri_start(e, TD_OP_COPY, iova_a, iova_b, len, rec);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    g_assert_cmphex(td_readq(e->td, TD_FAULT_ADDR_LO), ==, iova_b + 4096);
    g_assert_cmphex(PRIQ_ADDR(rec), ==, iova_b + 4096);
    g_assert_true(PRIQ_WRITE(rec));
    g_assert_false(PRIQ_READ(rec) || PRIQ_SSV(rec) || PRIQ_PRIV(rec) || PRIQ_EXEC(rec));
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x9e1);      /* the PRI queue's MSI */
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);
    /* The refused write is also an F_TRANSLATION event (CD.R = 1). */
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_cmphex(EVT_ADDR(ev), ==, iova_b + 4096);
    /* No response, no progress. */
    qtest_clock_step(qts, 10000000);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    g_assert_false(smmu_next_ppr(e->d, rec));
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, 1);

    /* Success with nothing mapped: the device asks again, with the next PRGI. */
    prgi = PRIQ_PRGI(rec);
    qtest_writel(qts, box, 0);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, prgi, PRI_RESP_SUCCESS), ==, 0);
    g_assert_true(td_wait_pri(e->td));
    g_assert_true(smmu_next_ppr(e->d, rec));
    g_assert_cmpuint(PRIQ_PRGI(rec), ==, (prgi + 1) & 511);
    g_assert_cmphex(PRIQ_ADDR(rec), ==, iova_b + 4096);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x9e1);

    /* Mapped now: Success resumes the copy, which stops again at the third page. */
    smmu_pt_map(&s.pt, iova_b + 4096, b + 4096, 4096, PT_R | PT_W);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_true(td_wait_pri(e->td));
    g_assert_true(smmu_next_ppr(e->d, rec));
    g_assert_cmphex(PRIQ_ADDR(rec), ==, iova_b + 8192);
    smmu_pt_map(&s.pt, iova_b + 8192, b + 8192, 4096, PT_R | PT_W);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    qtest_memread(qts, b, back, len);
    g_assert_cmpmem(back, len, data, len);
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, 3);
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 2);     /* one per refused write */
    g_assert_false(smmu_next_ppr(e->d, rec));

    /* A response nothing waits for: the device flags Unexpected PRG Index. */
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, 300, PRI_RESP_SUCCESS), ==, 0);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_UPRGI);
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS, PCI_PRI_STATUS_UPRGI);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);
    /* One for a StreamID with no PRI requester behind it: nothing happens. */
    g_assert_cmpuint(smmu_pri_resp(e->d, SID + 1, false, 0, 0, PRI_RESP_SUCCESS), ==, 0);

    /* Invalid Request: the operation fails with PRI_DENIED at the refused read. */
    pri_start(e, TD_OP_CHECKSUM, iova_c + 8, 0, 64, rec);
    g_assert_true(PRIQ_READ(rec) && !PRIQ_WRITE(rec));
    g_assert_cmphex(PRIQ_ADDR(rec), ==, iova_c);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_INVALID),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    g_assert_cmphex(td_readq(e->td, TD_FAULT_ADDR_LO), ==, iova_c + 8);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);

    /* Response Failure (what Linux calls DENY): RF, and PRI stops until RF is cleared. */
    pri_start(e, TD_OP_CHECKSUM, iova_c, 0, 64, rec);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_FAILURE),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_FAILURE);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_RF);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, iova_c, 0, 64), ==,
                     TD_ERR_READ_FAULT);
    g_assert_false(smmu_next_ppr(e->d, rec));
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS, PCI_PRI_STATUS_RF);
    pri_start(e, TD_OP_CHECKSUM, iova_c, 0, 64, rec);
    smmu_pt_map(&s.pt, iova_c, a, 4096, PT_R);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    g_assert_cmphex(td_readq(e->td, TD_RESULT_LO), ==, td_fnv1a64(data, 64));
    smmu_drain_events(e->d);
    env_stop(e);
}

/* PASID-tagged DMA: the record has SSV, the SubstreamID and Priv; so must the response. */
static void test_pri_pasid(void)
{
    Env *e = env_start(NULL, false);
    QTestState *qts = e->m->qts;
    uint64_t cdtab = smmu_alloc(e->m, 8 * 64, 64), box = td_alloc(e->m, 4096);
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096);
    const uint64_t iova_a = 0x100000, iova_b = 0x200000;
    uint64_t cd[8], ste[8], rec[2];
    SmmuPt pt;

    /* Linear CD table of 8; PASID 5 has its own tables (CD 0 has none: invalid). */
    smmu_pt_init(&pt, e->m, false, 12, 48, -1);
    smmu_pt_map(&pt, iova_a, a, 4096, PT_R | PT_W);
    smmu_cd(cd, &pt, 9);
    smmu_write_cd(e->d, cdtab + 5 * 64, cd);
    smmu_ste_s1(ste, cdtab, 0, 3, S1DSS_TERMINATE);
    smmu_write_ste(e->d, SID, ste);
    smmu_writeq(e->d, SMMU_PRIQ_IRQ_CFG0, box);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG1, 1);
    smmu_priq_init(e->d, 4);
    td_pri_enable(e->td, PRI_ALLOC);
    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL,
                  PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV);
    td_writel(e->td, TD_PASID, TD_PASID_VALID | TD_PASID_PRIV | 5);
    qtest_writeq(qts, a, 0x0badc0de5eedf00dull);

    pri_start(e, TD_OP_COPY, iova_a, iova_b + 0x10, 8, rec);
    g_assert_true(PRIQ_SSV(rec));
    g_assert_cmphex(PRIQ_SSID(rec), ==, 5);
    g_assert_true(PRIQ_PRIV(rec) && PRIQ_WRITE(rec));
    g_assert_false(PRIQ_EXEC(rec) || PRIQ_READ(rec));
    g_assert_cmphex(PRIQ_ADDR(rec), ==, iova_b);
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 1);

    /* A response naming another PASID is not this group's. */
    smmu_pt_map(&pt, iova_b, b, 4096, PT_R | PT_W);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, true, 6, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_UPRGI);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, true, 5, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(qts, b + 0x10), ==, 0x0badc0de5eedf00dull);
    smmu_expect_no_event(e);
    env_stop(e);
}

/*
 * PRI queue interrupt: on empty -> non-empty only, or with PRIQ_IRQ_CFG2.LO on
 * every Last request; the IRQ_CFG registers are Guarded by PRIQ_IRQEN.
 */
static void test_pri_irq(void)
{
    Env *e = env_start(NULL, false);
    QTestState *qts = e->m->qts;
    uint64_t box = td_alloc(e->m, 4096), rec[2];
    uint32_t irq;
    SmmuS1 s;

    pri_setup(e, &s, box);
    td_program(e->td, TD_OP_CHECKSUM | TD_OP_PRI, 0x100000, 0, 8);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x9e1);
    /* The record stays unread: the next one finds the queue non-empty. */
    qtest_writel(qts, box, 0);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, td_readl(e->td, TD_PRI_PRGI),
                                   PRI_RESP_SUCCESS), ==, 0);
    g_assert_true(td_wait_pri(e->td));
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_PROD), ==, 2);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0);

    /* LO: every Last request interrupts.  Writable only with PRIQ_IRQEN clear. */
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG2, 1u << 31);
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_IRQ_CFG2), ==, 0);
    irq = smmu_readl(e->d, SMMU_IRQ_CTRL);
    smmu_writel(e->d, SMMU_IRQ_CTRL, irq & ~IRQ_CTRL_PRIQ);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG2, 1u << 31);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG1, 0x10);
    smmu_writel(e->d, SMMU_IRQ_CTRL, irq);
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_IRQ_CFG2), ==, 1u << 31);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, td_readl(e->td, TD_PRI_PRGI),
                                   PRI_RESP_SUCCESS), ==, 0);
    g_assert_true(td_wait_pri(e->td));
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_PROD), ==, 3);
    g_assert_cmphex(qtest_readl(qts, box), ==, 0x10);
    for (int i = 0; i < 3; i++) {
        g_assert_true(smmu_next_ppr(e->d, rec));
        g_assert_cmphex(PRIQ_ADDR(rec), ==, 0x100000);
    }
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_INVALID),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    smmu_drain_events(e->d);
    env_stop(e);
}

/*
 * A one-entry PRI queue that software does not drain: the next request
 * overflows (OVFLG), gets an automatic Success, and the device's retries end
 * at its per-page budget.
 */
static void test_pri_overflow(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), box = td_alloc(e->m, 4096), rec[2];
    const uint64_t iova = 0x100000;
    uint32_t prod;
    unsigned prgi;

    smmu_s1_setup(e, &s, 12, 3);
    smmu_writeq(e->d, SMMU_PRIQ_IRQ_CFG0, box);
    smmu_writel(e->d, SMMU_PRIQ_IRQ_CFG1, 1);
    smmu_priq_init(e->d, 0);
    td_pri_enable(e->td, PRI_ALLOC);
    td_program(e->td, TD_OP_CHECKSUM | TD_OP_PRI, iova, 0, 16);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
    prgi = td_readl(e->td, TD_PRI_PRGI);
    prod = smmu_readl(e->d, SMMU_PRIQ_PROD);
    g_assert_cmphex(prod, ==, 1);                       /* one record, wrap bit set */
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, prgi, PRI_RESP_SUCCESS), ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_LIMIT);
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, TD_PRI_PAGE_TRIES);
    prod = smmu_readl(e->d, SMMU_PRIQ_PROD);
    g_assert_cmphex(prod, ==, Q_OVFLG | 1);             /* overflow, nothing more written */
    g_assert_true(smmu_next_ppr(e->d, rec));            /* consumes and acknowledges */
    g_assert_cmpuint(PRIQ_PRGI(rec), ==, prgi);
    g_assert_false(smmu_next_ppr(e->d, rec));
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_CONS), ==, Q_OVFLG | 1);

    /* Out of overflow: the next request is recorded again. */
    pri_start(e, TD_OP_CHECKSUM, iova, 0, 16, rec);
    g_assert_cmpuint(PRIQ_PRGI(rec), ==, (prgi + TD_PRI_PAGE_TRIES) & 511);
    smmu_pt_map(&s.pt, iova, a, 4096, PT_R);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    smmu_drain_events(e->d);
    env_stop(e);
}

/*
 * Automatic Response Failure with the PRI queue off; a device reset (and the
 * device's RESET command) drops an outstanding request and its routing.
 */
static void test_pri_auto(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t rec[2];
    uint32_t cr0;

    smmu_s1_setup(e, &s, 12, 3);
    td_pri_enable(e->td, PRI_ALLOC);
    /* PRIQEN = 0: the request is discarded with an automatic Response Failure. */
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, 0x100000, 0, 8), ==,
                     TD_ERR_PRI_FAILURE);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_RF);
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, 1);
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS, PCI_PRI_STATUS_RF);
    smmu_drain_events(e->d);

    /* The queue base is read-only while the queue is enabled. */
    smmu_priq_init(e->d, 4);
    smmu_writeq(e->d, SMMU_PRIQ_BASE, 0x1234000);
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_BASE) & ~0x1fu, ==, (uint32_t)e->d->priq);
    /* Page-0 aliases of the pointers. */
    g_assert_cmphex(qtest_readl(e->m->qts, SMMU_BASE + 0xcc), ==,
                    smmu_readl(e->d, SMMU_PRIQ_CONS));

    /* CMD RESET while waiting: the response that follows reaches nobody. */
    pri_start(e, TD_OP_CHECKSUM, 0x100000, 0, 8, rec);
    td_writel(e->td, TD_CMD, TD_CMD_RESET);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, 0);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, PRIQ_PRGI(rec), PRI_RESP_SUCCESS),
                     ==, 0);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, 0);

    /* PRI Control.Reset with Enable clear drops it too; the operation fails. */
    pri_start(e, TD_OP_CHECKSUM, 0x100000, 0, 8, rec);
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_CTRL, 0);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);      /* not Stopped yet */
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_CTRL, PCI_PRI_CTRL_RESET);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_STOPPED);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_FAILURE);

    /* SMMUEN = 0: PRIQEN is off in effect; and PRI_RESP is ignored. */
    td_pri_enable(e->td, PRI_ALLOC);
    cr0 = smmu_readl(e->d, SMMU_CR0);
    smmu_writel(e->d, SMMU_CR0, cr0 & ~CR0_SMMUEN);
    g_assert_cmpuint(td_do(e->td, TD_OP_FILL | TD_OP_PRI, 0, UNBACKED_PA, 8), ==,
                     TD_ERR_PRI_FAILURE);
    smmu_writel(e->d, SMMU_CR0, cr0);
    smmu_drain_events(e->d);
    env_stop(e);
}

/*
 * A PRI queue on the SMMU's own registers (IHI 0070 7.2.2, 8.2): the record
 * write is an abort, PRIQ_ABT_ERR, and the Last request gets an automatic
 * Response Failure; slot 2 would be CR0..CR2, and the record's first word
 * (the StreamID) written there would turn the SMMU off.
 */
static void test_priq_mmio(void)
{
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint32_t cr0;

    pri_setup(e, &s, td_alloc(e->m, 4096));
    cr0 = smmu_readl(e->d, SMMU_CR0);
    smmu_writel(e->d, SMMU_CR0, cr0 & ~CR0_PRIQEN);
    smmu_writeq(e->d, SMMU_PRIQ_BASE, SMMU_BASE | 4);
    smmu_writel(e->d, SMMU_PRIQ_PROD, 2);
    smmu_writel(e->d, SMMU_PRIQ_CONS, 2);
    smmu_writel(e->d, SMMU_CR0, cr0);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, 0x100000, 0, 8), ==,
                     TD_ERR_PRI_FAILURE);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR0), ==, cr0);
    g_assert_cmphex(smmu_readl(e->d, SMMU_GERROR) ^ smmu_readl(e->d, SMMU_GERRORN), ==,
                    GERROR_PRIQ_ABT_ERR);
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_PROD) & 0xfffff, ==, 2);
    smmu_drain_events(e->d);
    env_stop(e);
}

/* pri=off: IDR0.PRI = 0, CMD_PRI_RESP is ILLEGAL, devices find no PRI path. */
static void test_pri_off(void)
{
    Env *e = env_start("pri=off", false);
    SmmuS1 s;
    uint32_t bad;

    g_assert_false(smmu_readl(e->d, SMMU_IDR0) & (1u << 16));
    g_assert_cmpuint((smmu_readl(e->d, SMMU_IDR1) >> 11) & 0x1f, ==, 0);
    g_assert_false(smmu_readl(e->d, SMMU_IDR3) & (1u << 5));
    smmu_writeq(e->d, SMMU_PRIQ_BASE, 0x1234000);
    g_assert_cmphex(smmu_readl(e->d, SMMU_PRIQ_BASE), ==, 0);
    smmu_writel(e->d, SMMU_CR0, smmu_readl(e->d, SMMU_CR0) | CR0_PRIQEN);
    g_assert_false(smmu_readl(e->d, SMMU_CR0ACK) & CR0_PRIQEN);

    bad = e->d->cmdq_prod;
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, 0, PRI_RESP_SUCCESS), ==, CERROR_ILL);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CMDQ_CONS) & 0xfffff, ==, bad);
    qtest_writeq(e->m->qts, e->d->cmdq + (bad & 255) * 16, CMD_PREFETCH_CONFIG);
    smmu_writel(e->d, SMMU_GERRORN, smmu_readl(e->d, SMMU_GERROR));
    g_assert_cmphex(smmu_readl(e->d, SMMU_CMDQ_CONS), ==, e->d->cmdq_prod);

    smmu_s1_setup(e, &s, 12, 3);
    td_pri_enable(e->td, PRI_ALLOC);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, 0x100000, 0, 8), ==,
                     TD_ERR_NO_PRI_PATH);
    smmu_drain_events(e->d);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Migration with a translated DMA pending.
 */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-smmuv3-mig-%d", g_get_tmp_dir(),
                                            getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    Env *e = env_start(NULL, false);
    SmmuS1 s;
    uint64_t a = smmu_alloc(e->m, 0x10000, 0x10000), b = smmu_alloc(e->m, 0x10000, 0x10000);
    uint64_t c = smmu_alloc(e->m, 0x10000, 0x10000);
    uint64_t ev[4];
    uint32_t evprod, cmdprod;
    SmmuDrv saved;

    smmu_s1_setup(e, &s, 16, 4);
    smmu_pt_map(&s.pt, 0x100000, a, 0x10000, PT_R | PT_W);
    smmu_pt_map(&s.pt, 0x200000, b, 0x10000, PT_R | PT_W);
    smmu_check_copy(e, 0x100000, a, 0x200000, b, 0x600d);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x900000, 0x200000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    qtest_writeq(e->m->qts, a + 0x100, 0xdeadbeef12345678ull);
    td_writel(e->td, TD_DELAY_NS, 500000);
    td_program(e->td, TD_OP_COPY, 0x100100, 0x200100, 8);
    td_start(e->td);
    evprod = smmu_readl(e->d, SMMU_EVENTQ_PROD);
    cmdprod = smmu_readl(e->d, SMMU_CMDQ_PROD);
    qtest_qmp_assert_success(e->m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(e->m->qts);
    saved = *e->d;
    env_stop(e);

    e = env_start_args(NULL, false, 0, 0, incoming);
    td_wait_migration(e->m->qts);
    e->d = g_new(SmmuDrv, 1);
    *e->d = saved;
    e->d->qts = e->m->qts;
    e->d->m = e->m;
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR0), ==, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    g_assert_cmphex(smmu_readl(e->d, SMMU_EVENTQ_PROD), ==, evprod);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CMDQ_PROD), ==, cmdprod);
    /* The pending DMA completes through the (re-fetched) translation. */
    qtest_clock_step(e->m->qts, 500000);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_DONE);
    g_assert_cmphex(qtest_readq(e->m->qts, b + 0x100), ==, 0xdeadbeef12345678ull);
    td_writel(e->td, TD_DELAY_NS, 0);
    /* Commands, events and new translations keep working. */
    s.pt.m = e->m;
    smmu_pt_map(&s.pt, 0x300000, c, 0x10000, PT_R | PT_W);
    smmu_check_copy(e, 0x100000, a, 0x300000, c, 0x5eed);
    g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NSNH_ALL, 0), ==, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, 0x900000, 0x200000, 8), ==, TD_ERR_READ_FAULT);
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    env_stop(e);
    unlink(file);
}

/*
 * Migration while the device waits for a PRG Response: the record is in the
 * PRI queue on the destination, and the response there completes the DMA.
 */
static void test_pri_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-smmuv3-pri-mig-%d", g_get_tmp_dir(),
                                            getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    Env *e = env_start(NULL, false);
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), box = td_alloc(e->m, 4096);
    /* One leaf table for both: the destination's allocator knows nothing of the source's. */
    const uint64_t iova_a = 0x100000, iova_b = 0x180000;
    uint64_t rec[2];
    unsigned prgi;
    SmmuDrv saved;
    SmmuS1 s;

    pri_setup(e, &s, box);
    smmu_pt_map(&s.pt, iova_a, a, 4096, PT_R | PT_W);
    qtest_writeq(e->m->qts, a + 0x20, 0x1122334455667788ull);
    td_program(e->td, TD_OP_COPY | TD_OP_PRI, iova_a + 0x20, iova_b + 0x40, 8);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
    prgi = td_readl(e->td, TD_PRI_PRGI);
    qtest_qmp_assert_success(e->m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(e->m->qts);
    saved = *e->d;
    env_stop(e);

    e = env_start_args(NULL, false, 0, 0, incoming);
    td_wait_migration(e->m->qts);
    e->d = g_new(SmmuDrv, 1);
    *e->d = saved;
    e->d->qts = e->m->qts;
    e->d->m = e->m;
    s.pt.m = e->m;
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    g_assert_cmphex(smmu_readl(e->d, SMMU_CR0) & CR0_PRIQEN, ==, CR0_PRIQEN);
    g_assert_true(smmu_next_ppr(e->d, rec));
    g_assert_cmpuint(PRIQ_PRGI(rec), ==, prgi);
    g_assert_cmphex(PRIQ_ADDR(rec), ==, iova_b);
    smmu_pt_map(&s.pt, iova_b, b, 4096, PT_R | PT_W);
    g_assert_cmpuint(smmu_pri_resp(e->d, SID, false, 0, prgi, PRI_RESP_SUCCESS), ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(e->m->qts, b + 0x40), ==, 0x1122334455667788ull);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);
    env_stop(e);
    unlink(file);
}

/* ------------------------------------------------------------------------
 * Concurrency: virtio-blk in an iothread translates (without the BQL) while
 * the guest invalidates in a loop (mode 0) or replaces the device's STE
 * between two identity configurations, stage 1 and stage 2, with Linux's
 * hitless sequence (mode 1); every read returns the right data.  Real
 * threads, so which intermediate state a request meets is left to timing:
 * viommu-smmuv3-replace-test visits each one deterministically.
 */
#define DISK_SECTORS    2048
#define VBLK_DEVFN      0x28                /* 05.0 */

static uint64_t sector_word(uint64_t sector, unsigned i)
{
    return 0xd15c000000000000ull | (sector << 8) | i;
}

/* After each store of a live STE update: CFGI_STE + CMD_SYNC, as Linux does. */
static void vblk_ste_sync(void *opaque, bool valid)
{
    g_assert_true(valid);
    g_assert_cmpuint(smmu_cmd_sync(opaque, CMD_CFGI_STE | ((uint64_t)VBLK_DEVFN << 32), 1),
                     ==, 0);
}

static void test_concurrency(gconstpointer data)
{
    int mode = GPOINTER_TO_INT(data);
    g_autofree char *disk = NULL;
    int fd = g_file_open_tmp("viommu-smmuv3-disk-XXXXXX", &disk, NULL);
    g_autofree uint64_t *img = g_new(uint64_t, DISK_SECTORS * 64);
    g_autofree char *extra = NULL;
    QPCIAddress addr = { .devfn = VBLK_DEVFN };
    QVirtioPCIDevice *vp;
    QVirtioDevice *vd;
    QVirtQueue *vq;
    Env *e;
    SmmuPt pt, pt2;
    uint64_t ste[8], ste1[8], ste2[8] = { 0 }, cd[8], cdtab, feat;
    GRand *r = g_rand_new_with_seed(42);
    unsigned syncs = 0, replaces = 0;

    g_assert_cmpint(fd, >=, 0);
    for (uint64_t sct = 0; sct < DISK_SECTORS; sct++) {
        for (unsigned i = 0; i < 64; i++) {
            img[sct * 64 + i] = cpu_to_le64(sector_word(sct, i));
        }
    }
    g_assert_cmpint(write(fd, img, DISK_SECTORS * 512), ==, DISK_SECTORS * 512);
    close(fd);
    extra = g_strdup_printf("-object iothread,id=io0 -drive if=none,id=d0,file=%s,"
                            "format=raw -device virtio-blk-pci,drive=d0,iothread=io0,"
                            "iommu_platform=on,disable-legacy=on,addr=05.0", disk);
    e = env_start_args(NULL, false, 8, 6, extra);

    /* Stage 1, identity for the guest RAM the allocator hands out, 2 MiB blocks. */
    smmu_pt_init(&pt, e->m, false, 12, 48, -1);
    for (uint64_t a = 0x40000000ull; a < 0x50000000ull; a += 0x200000) {
        smmu_pt_map_block(&pt, 2, a, a, PT_R | PT_W);
    }
    cdtab = smmu_alloc(e->m, 64, 64);
    smmu_cd(cd, &pt, 11);
    smmu_write_cd(e->d, cdtab, cd);
    smmu_ste_s1(ste, cdtab, 0, 0, S1DSS_SSID0);
    smmu_write_ste(e->d, VBLK_DEVFN, ste);
    /* The same identity at stage 2 (VMID 0, as a stage-1 STE has: hitless). */
    smmu_pt_init(&pt2, e->m, true, 12, 48, 0);
    for (uint64_t a = 0x40000000ull; a < 0x50000000ull; a += 0x200000) {
        smmu_pt_map_block(&pt2, 2, a, a, PT_R | PT_W);
    }
    smmu_ste_s2(ste2, &pt2, 0);
    memcpy(ste1, ste, sizeof(ste1));

    vp = virtio_pci_new(e->m->bus, &addr);
    vd = &vp->vdev;
    qvirtio_pci_device_enable(vp);
    qvirtio_start_device(vd);
    feat = qvirtio_get_features(vd);
    g_assert_true(feat & (1ull << 33));             /* VIRTIO_F_ACCESS_PLATFORM */
    qvirtio_set_features(vd, feat & ((1ull << 32) | (1ull << 33)));
    vq = qvirtqueue_setup(vd, &e->m->alloc, 0);
    qvirtio_set_driver_ok(vd);

    for (int round = 0; round < 40; round++) {
        enum { B = 8 };
        uint64_t req[B], sector[B];
        uint32_t head[B];

        for (int k = 0; k < B; k++) {
            uint8_t hdr[16] = { 0 };    /* type 0 = read, ioprio 0, sector */
            uint8_t status = 0xff;

            sector[k] = g_rand_int_range(r, 0, DISK_SECTORS);
            stq_le_p(hdr + 8, sector[k]);
            req[k] = guest_alloc(&e->m->alloc, 16 + 512 + 1);
            qtest_memwrite(e->m->qts, req[k], hdr, 16);
            qtest_memset(e->m->qts, req[k] + 16, 0, 512);
            qtest_memwrite(e->m->qts, req[k] + 16 + 512, &status, 1);
            head[k] = qvirtqueue_add(e->m->qts, vq, req[k], 16, false, true);
            qvirtqueue_add(e->m->qts, vq, req[k] + 16, 512, true, true);
            qvirtqueue_add(e->m->qts, vq, req[k] + 16 + 512, 1, true, false);
            qvirtqueue_kick(e->m->qts, vd, vq, head[k]);
            if (mode == 1) {
                /* While the iothread works: S1 <-> S2, hitless, store by store. */
                g_assert_true(smmu_entry_update(e->m->qts, &smmu_ste_layout,
                                                smmu_ste_addr(e->d, VBLK_DEVFN),
                                                replaces++ & 1 ? ste1 : ste2,
                                                vblk_ste_sync, e->d));
                continue;
            }
            /* While the iothread works: invalidate everything, and wait for it. */
            g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_TLBI_NSNH_ALL, 0), ==, 0);
            g_assert_cmpuint(smmu_cmd_sync(e->d, CMD_CFGI_STE | ((uint64_t)VBLK_DEVFN << 32),
                                           1), ==, 0);
            syncs += 2;
        }
        /* Collect the completions (in any order), then check every buffer. */
        for (int done = 0; done < B; ) {
            gint64 start = g_get_monotonic_time();
            uint32_t got;

            while (!qvirtqueue_get_buf(e->m->qts, vq, &got, NULL)) {
                g_assert_cmpint(g_get_monotonic_time() - start, <, 10 * G_USEC_PER_SEC);
                qtest_clock_step(e->m->qts, 100);
            }
            done++;
        }
        for (int k = 0; k < B; k++) {
            g_assert_cmpuint(qtest_readb(e->m->qts, req[k] + 16 + 512), ==, 0);
            for (unsigned i = 0; i < 64; i += 21) {
                g_assert_cmphex(qtest_readq(e->m->qts, req[k] + 16 + i * 8), ==,
                                sector_word(sector[k], i));
            }
            guest_free(&e->m->alloc, req[k]);
        }
    }
    g_assert_cmpuint(mode ? replaces : syncs, ==, mode ? 40 * 8 : 40 * 8 * 2);
    smmu_expect_no_event(e);
    qvirtqueue_cleanup(vd->bus, vq, &e->m->alloc);
    qvirtio_pci_device_disable(vp);
    g_free(vp->pdev);
    g_free(vp);
    g_rand_free(r);
    env_stop(e);
    unlink(disk);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (strcmp(qtest_get_arch(), "aarch64")) {
        g_test_skip("viommu-smmuv3 is an aarch64 virt device");
        return g_test_run();
    }
    g_assert_true(qtest_has_device("viommu-smmuv3"));
    qtest_add_func("/viommu-smmuv3/registers", test_registers);
    qtest_add_func("/viommu-smmuv3/properties", test_properties);
    qtest_add_data_func("/viommu-smmuv3/s1/4k", GUINT_TO_POINTER(12), test_s1);
    qtest_add_data_func("/viommu-smmuv3/s1/16k", GUINT_TO_POINTER(14), test_s1);
    qtest_add_data_func("/viommu-smmuv3/s1/64k", GUINT_TO_POINTER(16), test_s1);
    qtest_add_func("/viommu-smmuv3/s1/httu", test_httu);
    qtest_add_func("/viommu-smmuv3/s1/dirty-tracking", test_s1_dirty_tracking);
    qtest_add_func("/viommu-smmuv3/s1/httu-off", test_s1_httu_off);
    qtest_add_func("/viommu-smmuv3/s2/dirty-tracking", test_s2_dirty_tracking);
    qtest_add_func("/viommu-smmuv3/s2/concatenated", test_s2_concat);
    qtest_add_func("/viommu-smmuv3/s2/16k-64k", test_s2_granules);
    qtest_add_func("/viommu-smmuv3/nested", test_nested);
    qtest_add_func("/viommu-smmuv3/st-2lvl", test_st_2lvl);
    qtest_add_func("/viommu-smmuv3/pasid-cd-2lvl", test_pasid);
    qtest_add_func("/viommu-smmuv3/pasid-spaces-bounded", test_pasid_spaces_bounded);
    qtest_add_func("/viommu-smmuv3/invalidation/s1", test_invalidation);
    qtest_add_func("/viommu-smmuv3/invalidation/s2", test_invalidation_s2);
    qtest_add_func("/viommu-smmuv3/invalidation/tbi", test_tbi);
    qtest_add_func("/viommu-smmuv3/events", test_events);
    qtest_add_func("/viommu-smmuv3/evtq-wrap", test_evtq_wrap);
    qtest_add_func("/viommu-smmuv3/evtq-mmio", test_evtq_mmio);
    qtest_add_data_func("/viommu-smmuv3/events/visible-at-sync", GINT_TO_POINTER(0),
                        test_event_visibility);
    qtest_add_data_func("/viommu-smmuv3/events/written-before-eventqen-clear",
                        GINT_TO_POINTER(1), test_event_visibility);
    qtest_add_func("/viommu-smmuv3/cmdq", test_cmdq);
    qtest_add_func("/viommu-smmuv3/msi-unmapped", test_msi_unmapped);
    qtest_add_func("/viommu-smmuv3/queue-msi", test_queue_msi);
    qtest_add_data_func("/viommu-smmuv3/its/s1", GINT_TO_POINTER(0), test_its);
    qtest_add_data_func("/viommu-smmuv3/its/s2", GINT_TO_POINTER(1), test_its);
    qtest_add_data_func("/viommu-smmuv3/its/nested", GINT_TO_POINTER(2), test_its);
    qtest_add_func("/viommu-smmuv3/migration", test_migration);
    qtest_add_func("/viommu-smmuv3/pri/basic", test_pri);
    qtest_add_func("/viommu-smmuv3/pri/pasid", test_pri_pasid);
    qtest_add_func("/viommu-smmuv3/pri/irq", test_pri_irq);
    qtest_add_func("/viommu-smmuv3/pri/overflow", test_pri_overflow);
    qtest_add_func("/viommu-smmuv3/pri/auto-response-and-reset", test_pri_auto);
    qtest_add_func("/viommu-smmuv3/pri/off", test_pri_off);
    qtest_add_func("/viommu-smmuv3/pri/queue-not-ram", test_priq_mmio);
    qtest_add_func("/viommu-smmuv3/pri/migration", test_pri_migration);
    qtest_add_data_func("/viommu-smmuv3/concurrency/iothread", GINT_TO_POINTER(0),
                        test_concurrency);
    qtest_add_data_func("/viommu-smmuv3/concurrency/iothread-replace", GINT_TO_POINTER(1),
                        test_concurrency);
    return g_test_run();
}
