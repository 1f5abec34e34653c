/*
 * qtest SMMUv3 driver (see smmuv3-drv.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "smmuv3-drv.h"
#include "pt-builder.h"

#define MASK(hi, lo)    ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

uint32_t smmu_readl(SmmuDrv *d, uint64_t off)
{
    return qtest_readl(d->qts, SMMU_BASE + off);
}

void smmu_writel(SmmuDrv *d, uint64_t off, uint32_t v)
{
    qtest_writel(d->qts, SMMU_BASE + off, v);
}

void smmu_writeq(SmmuDrv *d, uint64_t off, uint64_t v)
{
    qtest_writeq(d->qts, SMMU_BASE + off, v);
}

uint64_t smmu_alloc(TdMachine *m, size_t size, size_t align)
{
    uint64_t a;

    if (align < 4096) {
        align = 4096;
    }
    a = td_alloc(m, size + align);
    return (a + align - 1) & ~(uint64_t)(align - 1);
}

static void smmu_cr0(SmmuDrv *d, uint32_t v)
{
    smmu_writel(d, SMMU_CR0, v);
    g_assert_cmphex(smmu_readl(d, SMMU_CR0ACK), ==, v);
}

static void write_abort_stes(SmmuDrv *d, uint64_t base, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        qtest_writeq(d->qts, base + i * 64, 1);    /* V, Config = abort */
    }
}

static SmmuDrv *drv_init(TdMachine *m, bool st_2lvl, unsigned cmdq_log2, unsigned evtq_log2,
                         bool lenient)
{
    SmmuDrv *d = g_new0(SmmuDrv, 1);
    uint32_t idr0;
    unsigned r;

    d->lenient = lenient;
    d->m = m;
    d->qts = m->qts;
    d->st_2lvl = st_2lvl;
    idr0 = smmu_readl(d, SMMU_IDR0);
    g_assert_cmpuint((idr0 >> 2) & 3, ==, 2);           /* TTF: AArch64 */
    g_assert_true(idr0 & 3);                            /* S1P or S2P */

    /* Disable, then program tables and queues with the unit off. */
    smmu_cr0(d, 0);
    smmu_writel(d, SMMU_GERRORN, smmu_readl(d, SMMU_GERROR));  /* no stale errors */
    smmu_writel(d, SMMU_CR1, 0xd75);    /* queues and tables: WB, inner shareable */
    smmu_writel(d, SMMU_CR2, CR2_RECINVSID | (1u << 2));
    if (st_2lvl) {
        d->sid_bits = 16;
        d->strtab = smmu_alloc(m, 256 * 8, 4096);      /* L1: 256 descriptors, SPLIT 8 */
        smmu_writeq(d, SMMU_STRTAB_BASE, d->strtab | (1ull << 62));
        smmu_writel(d, SMMU_STRTAB_BASE_CFG, (1u << 16) | (8u << 6) | 16);
    } else {
        d->sid_bits = 8;
        d->strtab = smmu_alloc(m, 256 * 64, 4096);
        write_abort_stes(d, d->strtab, 256);
        smmu_writeq(d, SMMU_STRTAB_BASE, d->strtab | (1ull << 62));
        smmu_writel(d, SMMU_STRTAB_BASE_CFG, 8);
    }
    d->cmdq_log2 = cmdq_log2;
    d->cmdq = smmu_alloc(m, 16u << cmdq_log2, 16u << cmdq_log2);
    smmu_writeq(d, SMMU_CMDQ_BASE, d->cmdq | (1ull << 62) | cmdq_log2);
    smmu_writel(d, SMMU_CMDQ_PROD, 0);
    smmu_writel(d, SMMU_CMDQ_CONS, 0);
    smmu_cr0(d, CR0_CMDQEN);
    r = smmu_cmd_sync(d, CMD_CFGI_STE_RANGE, 31);      /* CFGI_ALL */
    r |= smmu_cmd_sync(d, CMD_TLBI_NSNH_ALL, 0);
    g_assert_true(lenient || !r);

    d->evtq_log2 = evtq_log2;
    d->evtq = smmu_alloc(m, 32u << evtq_log2, 32u << evtq_log2);
    smmu_writeq(d, SMMU_EVENTQ_BASE, d->evtq | (1ull << 62) | evtq_log2);
    smmu_writel(d, SMMU_EVENTQ_PROD, 0);
    smmu_writel(d, SMMU_EVENTQ_CONS, 0);
    smmu_cr0(d, CR0_CMDQEN | CR0_EVENTQEN);
    smmu_writel(d, SMMU_IRQ_CTRL, IRQ_CTRL_GERROR | IRQ_CTRL_EVENTQ);
    g_assert_cmphex(smmu_readl(d, SMMU_IRQ_CTRLACK), ==, IRQ_CTRL_GERROR | IRQ_CTRL_EVENTQ);
    smmu_cr0(d, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN);
    return d;
}

SmmuDrv *smmu_drv_init(TdMachine *m, bool st_2lvl, unsigned cmdq_log2, unsigned evtq_log2)
{
    return drv_init(m, st_2lvl, cmdq_log2, evtq_log2, false);
}

SmmuDrv *smmu_drv_init_lenient(TdMachine *m, unsigned cmdq_log2, unsigned evtq_log2)
{
    return drv_init(m, false, cmdq_log2, evtq_log2, true);
}

void smmu_drv_free(SmmuDrv *d)
{
    g_free(d);
}

static uint32_t q_next(uint32_t p, unsigned log2)
{
    uint32_t mask = (2u << log2) - 1;

    return (p & ~mask) | ((p + 1) & mask);
}

static uint64_t cmd_slot(SmmuDrv *d)
{
    return d->cmdq + (uint64_t)(d->cmdq_prod & ((1u << d->cmdq_log2) - 1)) * 16;
}

void smmu_cmd(SmmuDrv *d, uint64_t w0, uint64_t w1)
{
    uint64_t a = cmd_slot(d);

    qtest_writeq(d->qts, a, w0);
    qtest_writeq(d->qts, a + 8, w1);
    d->cmdq_prod = q_next(d->cmdq_prod, d->cmdq_log2);
}

unsigned smmu_sync(SmmuDrv *d)
{
    uint64_t a = cmd_slot(d);
    uint32_t cons;

    /* CS = IRQ with an MSI of 0 to the SYNC entry itself, as Linux does. */
    smmu_cmd(d, CMD_SYNC | (1u << 12) | (3u << 22) | (0xfu << 24), a);
    smmu_writel(d, SMMU_CMDQ_PROD, d->cmdq_prod);
    cons = smmu_readl(d, SMMU_CMDQ_CONS);
    /* A SYNC after ATC_INV completes once the device answered (its bottom half or timer). */
    for (int i = 0; i < 1000 && !CMDQ_CONS_ERR(cons) && (cons & 0xfffff) != d->cmdq_prod; i++) {
        qtest_clock_step(d->qts, 100000);
        cons = smmu_readl(d, SMMU_CMDQ_CONS);
    }
    if (CMDQ_CONS_ERR(cons)) {
        return CMDQ_CONS_ERR(cons);
    }
    if (d->lenient) {
        return (cons & 0xfffff) == d->cmdq_prod && !qtest_readl(d->qts, a) ? 0 : 0x80;
    }
    g_assert_cmphex(cons & 0xfffff, ==, d->cmdq_prod);
    g_assert_cmphex(qtest_readl(d->qts, a), ==, 0);    /* the MSI landed */
    return 0;
}

unsigned smmu_cmd_sync(SmmuDrv *d, uint64_t w0, uint64_t w1)
{
    smmu_cmd(d, w0, w1);
    return smmu_sync(d);
}

uint64_t smmu_ste_addr(SmmuDrv *d, uint32_t sid)
{
    uint64_t l1, desc;

    if (!d->st_2lvl) {
        g_assert_cmpuint(sid, <, 256);
        return d->strtab + sid * 64;
    }
    l1 = d->strtab + (sid >> 8) * 8;
    desc = qtest_readq(d->qts, l1);
    if (!(desc & 0x1f)) {
        uint64_t l2 = smmu_alloc(d->m, 256 * 64, 4096);

        write_abort_stes(d, l2, 256);
        desc = l2 | 9;          /* Span = SPLIT + 1 */
        qtest_writeq(d->qts, l1, desc);
    }
    return (desc & MASK(51, 6)) + (sid & 0xff) * 64;
}

void smmu_write_ste(SmmuDrv *d, uint32_t sid, const uint64_t ste[8])
{
    uint64_t a = smmu_ste_addr(d, sid);
    unsigned r;

    /* Not hitless: V=0 first, then the rest, then word 0. */
    qtest_writeq(d->qts, a, 0);
    for (int i = 1; i < 8; i++) {
        qtest_writeq(d->qts, a + 8 * i, ste[i]);
    }
    qtest_writeq(d->qts, a, ste[0]);
    r = smmu_cmd_sync(d, CMD_CFGI_STE | ((uint64_t)sid << 32), 1);
    g_assert_true(d->lenient || !r);
}

void smmu_ste_s1(uint64_t ste[8], uint64_t cdptr, unsigned s1fmt, unsigned cdmax,
                 unsigned s1dss)
{
    memset(ste, 0, 64);
    ste[0] = 1 | (STE_CFG_S1 << 1) | ((uint64_t)s1fmt << 4) | (cdptr & MASK(51, 6)) |
             ((uint64_t)cdmax << 59);
    ste[1] = s1dss | (1u << 2) | (1u << 4) | (3u << 6);
}

unsigned smmu_pt_sl0(const SmmuPt *pt)
{
    return pt->gshift == 12 ? 2 - pt->start_level : 3 - pt->start_level;
}

void smmu_ste_s2(uint64_t ste[8], const SmmuPt *s2, uint16_t vmid)
{
    unsigned cfg = (ste[0] >> 1) & 7;
    unsigned tg = s2->gshift == 12 ? 0 : s2->gshift == 16 ? 1 : 2;

    ste[0] = (ste[0] & ~0xeull) | 1 | ((cfg == STE_CFG_S1 ? STE_CFG_NESTED : STE_CFG_S2) << 1);
    ste[2] = vmid | ((uint64_t)(64 - s2->ia) << 32) | ((uint64_t)smmu_pt_sl0(s2) << 38) |
             (1ull << 40) | (1ull << 42) | (3ull << 44) | ((uint64_t)tg << 46) |
             (5ull << 48) | (1ull << 51) | (1ull << 58);
    ste[3] = s2->root & MASK(51, 4);
}

void smmu_cd(uint64_t cd[8], const SmmuPt *s1, uint16_t asid)
{
    unsigned tg = s1->gshift == 12 ? 0 : s1->gshift == 16 ? 1 : 2;

    memset(cd, 0, 64);
    cd[0] = (64 - s1->ia) | (tg << 6) | (1u << 8) | (1u << 10) | (3u << 12) |
            (1ull << 30) | (1ull << 31) | (5ull << 32) | (1ull << 41) | (1ull << 45) |
            (1ull << 46) | ((uint64_t)asid << 48);
    cd[1] = s1->root & MASK(51, 4);
    cd[3] = 0xff;               /* MAIR: attribute 0 = Normal write-back */
}

void smmu_write_cd(SmmuDrv *d, uint64_t addr, const uint64_t cd[8])
{
    qtest_writeq(d->qts, addr, 0);
    for (int i = 1; i < 8; i++) {
        qtest_writeq(d->qts, addr + 8 * i, cd[i]);
    }
    qtest_writeq(d->qts, addr, cd[0]);
}

bool smmu_next_event(SmmuDrv *d, uint64_t ev[4])
{
    uint32_t prod = smmu_readl(d, SMMU_EVENTQ_PROD);
    uint32_t mask = (2u << d->evtq_log2) - 1;
    uint64_t a;

    if ((prod & mask) == (d->evtq_cons & mask)) {
        return false;
    }
    a = d->evtq + (uint64_t)(d->evtq_cons & ((1u << d->evtq_log2) - 1)) * 32;
    for (int i = 0; i < 4; i++) {
        ev[i] = qtest_readq(d->qts, a + 8 * i);
    }
    d->evtq_cons = q_next(d->evtq_cons, d->evtq_log2);
    smmu_writel(d, SMMU_EVENTQ_CONS, d->evtq_cons | (prod & (1u << 31)));
    return true;
}

unsigned smmu_drain_events(SmmuDrv *d)
{
    uint64_t ev[4];
    unsigned n = 0;

    while (smmu_next_event(d, ev)) {
        n++;
    }
    return n;
}

void smmu_priq_init(SmmuDrv *d, unsigned log2)
{
    uint32_t cr0 = smmu_readl(d, SMMU_CR0), irq = smmu_readl(d, SMMU_IRQ_CTRL);

    d->priq_log2 = log2;
    d->priq = smmu_alloc(d->m, 16u << log2, 16u << log2);
    d->priq_cons = 0;
    smmu_cr0(d, cr0 & ~CR0_PRIQEN);
    smmu_writeq(d, SMMU_PRIQ_BASE, d->priq | (1ull << 62) | log2);
    smmu_writel(d, SMMU_PRIQ_PROD, 0);
    smmu_writel(d, SMMU_PRIQ_CONS, 0);
    smmu_cr0(d, cr0 | CR0_PRIQEN);
    smmu_writel(d, SMMU_IRQ_CTRL, irq | IRQ_CTRL_PRIQ);
    g_assert_cmphex(smmu_readl(d, SMMU_IRQ_CTRLACK), ==, irq | IRQ_CTRL_PRIQ);
}

bool smmu_next_ppr(SmmuDrv *d, uint64_t rec[2])
{
    uint32_t prod = smmu_readl(d, SMMU_PRIQ_PROD);
    uint32_t mask = (2u << d->priq_log2) - 1;
    uint64_t a;

    if ((prod & mask) == (d->priq_cons & mask)) {
        return false;
    }
    a = d->priq + (uint64_t)(d->priq_cons & ((1u << d->priq_log2) - 1)) * 16;
    rec[0] = qtest_readq(d->qts, a);
    rec[1] = qtest_readq(d->qts, a + 8);
    d->priq_cons = q_next(d->priq_cons, d->priq_log2);
    smmu_writel(d, SMMU_PRIQ_CONS, d->priq_cons | (prod & Q_OVFLG));
    return true;
}

unsigned smmu_pri_resp(SmmuDrv *d, uint32_t sid, bool ssv, uint32_t ssid, unsigned prgi,
                       unsigned resp)
{
    return smmu_cmd_sync(d, CMD_PRI_RESP | ((uint64_t)ssv << 11) |
                         ((uint64_t)(ssid & 0xfffff) << 12) | ((uint64_t)sid << 32),
                         (prgi & 0x1ff) | ((uint64_t)resp << 12));
}

/* ------------------------------------------------------------------------
 * Page tables
 */
static unsigned lvl_shift(const SmmuPt *pt, int level)
{
    return pt->gshift + (3 - level) * (pt->gshift - 3);
}

/* ptb callbacks: guest memory through qtest, tables from smmu_alloc(). */
static uint64_t pt_read64(void *opaque, uint64_t addr)
{
    SmmuPt *pt = opaque;

    return qtest_readq(pt->m->qts, addr);
}

static void pt_write64(void *opaque, uint64_t addr, uint64_t val)
{
    SmmuPt *pt = opaque;

    qtest_writeq(pt->m->qts, addr, val);
}

static uint64_t pt_alloc_table(void *opaque, uint64_t size)
{
    SmmuPt *pt = opaque;
    uint64_t a = smmu_alloc(pt->m, size, size);

    g_assert_cmpuint(pt->ntables, <, ARRAY_SIZE(pt->tables));
    pt->tables[pt->ntables] = a;
    pt->table_size[pt->ntables++] = size;
    return a;
}

/* A VMSAv8-64 builder over pt's tables (made per call: SmmuPt may be copied). */
static void pt_builder(SmmuPt *pt, ptb *b)
{
    ptb_ops ops = {
        .read64 = pt_read64,
        .write64 = pt_write64,
        .alloc_table = pt_alloc_table,
        .opaque = pt,
    };

    ptb_init_armv8(b, ops, pt->gshift, pt->start_level,
                   pt->ia - lvl_shift(pt, pt->start_level), pt->root);
}

void smmu_pt_init(SmmuPt *pt, TdMachine *m, bool s2, unsigned gshift, unsigned ia,
                  int start_level)
{
    size_t size;

    pt->m = m;
    pt->s2 = s2;
    pt->gshift = gshift;
    pt->ia = ia;
    if (start_level < 0) {
        start_level = 3;
        while (lvl_shift(pt, start_level) + (gshift - 3) < ia) {
            start_level--;
        }
    }
    pt->start_level = start_level;
    size = (size_t)8 << (ia - lvl_shift(pt, start_level));
    pt->root = smmu_alloc(m, size, MAX(size, 1u << gshift));
    pt->ntables = 0;
    pt->tables[pt->ntables] = pt->root;
    pt->table_size[pt->ntables++] = MAX(size, 4096);
}

static uint64_t leaf_attrs(const SmmuPt *pt, unsigned perm)
{
    uint64_t a = (3u << 8) | ((perm & PT_NOAF) ? 0 : PTB_ARMV8_AF);

    if (pt->s2) {
        a |= (0xfu << 2) | ((perm & PT_R) ? (1u << 6) : 0) | ((perm & PT_W) ? (1u << 7) : 0);
    } else {
        a |= (1u << 6) | ((perm & PT_W) ? 0 : (1u << 7)) | (1u << 11);  /* EL0, RO/RW, nG */
    }
    return a;
}

void smmu_pt_map_block(SmmuPt *pt, int level, uint64_t va, uint64_t pa, unsigned perm)
{
    ptb b;

    g_assert_cmpint(level, <, 3);
    pt_builder(pt, &b);
    g_assert_cmpuint(ptb_map(&b, va, pa, level, leaf_attrs(pt, perm)), !=, 0);
}

void smmu_pt_map(SmmuPt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned perm)
{
    uint64_t page = 1ull << pt->gshift;
    ptb b;

    pt_builder(pt, &b);
    for (uint64_t off = 0; off < size; off += page) {
        g_assert_cmpuint(ptb_map(&b, va + off, pa + off, 3, leaf_attrs(pt, perm)), !=, 0);
    }
}

uint64_t smmu_pt_leaf(SmmuPt *pt, uint64_t va)
{
    ptb b;

    pt_builder(pt, &b);
    return ptb_lookup(&b, va, 3);
}

SmmuEnv *smmu_env_start(const char *smmu_props, bool st_2lvl, unsigned cmdq_log2,
                        unsigned evtq_log2, const char *extra)
{
    SmmuEnv *e = g_new0(SmmuEnv, 1);
    g_autofree char *args = g_strdup_printf("-device viommu-smmuv3%s%s "
                                            "-device viommu-testdev,addr=04.0 %s",
                                            smmu_props ? "," : "",
                                            smmu_props ? smmu_props : "",
                                            extra ? extra : "");

    e->m = td_machine_start(NULL, args);
    e->td = td_open(e->m, TD_DEVFN);
    if (cmdq_log2) {
        e->d = smmu_drv_init(e->m, st_2lvl, cmdq_log2, evtq_log2);
    }
    return e;
}

void smmu_env_stop(SmmuEnv *e)
{
    td_close(e->td);
    if (e->d) {
        smmu_drv_free(e->d);
    }
    td_machine_stop(e->m);
    g_free(e);
}

void smmu_s1_setup(SmmuEnv *e, SmmuS1 *s, unsigned gshift, uint16_t asid)
{
    uint64_t ste[8];

    smmu_pt_init(&s->pt, e->m, false, gshift, 48, -1);
    s->cdtab = smmu_alloc(e->m, 64, 64);
    smmu_cd(s->cd, &s->pt, asid);
    smmu_write_cd(e->d, s->cdtab, s->cd);
    smmu_ste_s1(ste, s->cdtab, 0, 0, 0);
    smmu_write_ste(e->d, SMMU_TD_SID, ste);
}

void smmu_expect_event(SmmuEnv *e, unsigned type, uint64_t ev[4])
{
    uint64_t tmp[4];

    g_assert_true(smmu_next_event(e->d, ev));
    g_assert_cmphex(EVT_TYPE(ev), ==, type);
    g_assert_cmphex(EVT_SID(ev), ==, SMMU_TD_SID);
    if (smmu_next_event(e->d, tmp)) {
        g_test_message("extra event %016" PRIx64 " %016" PRIx64 " %016" PRIx64
                       " %016" PRIx64, tmp[0], tmp[1], tmp[2], tmp[3]);
        g_assert_not_reached();
    }
}

void smmu_expect_no_event(SmmuEnv *e)
{
    uint64_t ev[4];

    g_assert_false(smmu_next_event(e->d, ev));
}

uint64_t smmu_dma_read(SmmuEnv *e, uint64_t iova, uint64_t scratch_iova, uint64_t scratch_pa)
{
    qtest_writeq(e->m->qts, scratch_pa, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, iova, scratch_iova, 8), ==, TD_ERR_NONE);
    return qtest_readq(e->m->qts, scratch_pa);
}

void smmu_check_copy(SmmuEnv *e, uint64_t src, uint64_t src_pa, uint64_t dst, uint64_t dst_pa,
                     uint64_t val)
{
    qtest_writeq(e->m->qts, src_pa, val);
    qtest_writeq(e->m->qts, dst_pa, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_COPY, src, dst, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(e->m->qts, dst_pa), ==, val);
}

/* ------------------------------------------------------------------------
 * Live STE / CD updates as Linux's arm_smmu_write_entry() makes them
 */
/* STE fields (IHI 0070 5.2) the update rules look at. */
#define STE0_V              MASK(0, 0)
#define STE0_CFG            MASK(3, 1)
#define STE0_S1_FIELDS      (MASK(5, 4) | MASK(51, 6) | MASK(63, 59))  /* S1Fmt, S1ContextPtr, S1CDMax */
#define STE1_S1DSS          MASK(1, 0)
#define STE1_S1_FIELDS      (STE1_S1DSS | MASK(3, 2) | MASK(5, 4) | MASK(7, 6) | \
                             MASK(27, 27) | MASK(31, 30))   /* S1C{IR,OR,SH}, S1STALLD, STRW */
#define STE1_MEV            MASK(19, 19)
#define STE1_S2FWB          MASK(25, 25)
#define STE1_EATS           MASK(29, 28)
#define STE1_SHCFG          MASK(45, 44)
#define STE2_VMID           MASK(15, 0)
#define STE2_S2_FIELDS      (MASK(50, 32) | MASK(52, 51) | MASK(54, 54) | MASK(58, 57))
                            /* VTCR, S2AA64, S2ENDI, S2PTW, S2S, S2R */
#define STE3_S2TTB          MASK(51, 4)

/* CD fields (IHI 0070 5.4). */
#define CD0_V               MASK(31, 31)
#define CD0_EPD0            MASK(14, 14)
#define CD0_TT0_FIELDS      MASK(13, 0)     /* T0SZ, TG0, IR0, OR0, SH0 */
#define CD1_TTB0            MASK(51, 4)

struct SmmuEntryLayout {
    const char *name;
    void (*used)(const uint64_t *e, uint64_t *used);
    void (*safe)(const uint64_t *cur, const uint64_t *tgt, uint64_t *safe);
    uint64_t v_bit;                 /* in qword 0 */
    unsigned bad_event;             /* what an entry with V = 0 raises */
};

/* What an STE of each Config reads (what Linux assumes the SMMU reads). */
static void ste_used(const uint64_t *e, uint64_t *used)
{
    unsigned cfg = (e[0] & STE0_CFG) >> 1;

    memset(used, 0, 64);
    used[0] = STE0_V;
    if (!(e[0] & STE0_V)) {
        return;
    }
    used[0] |= STE0_CFG;
    if (cfg & 1) {                  /* stage 1 translates */
        used[0] |= STE0_S1_FIELDS;
        used[1] |= STE1_S1_FIELDS | STE1_EATS | STE1_MEV;
        used[2] |= STE2_VMID;
        if ((e[1] & STE1_S1DSS) == S1DSS_BYPASS) {
            used[1] |= STE1_SHCFG;
        }
    }
    if (cfg & 2) {                  /* stage 2 translates */
        used[1] |= STE1_S2FWB | STE1_EATS | STE1_SHCFG | STE1_MEV;
        used[2] |= STE2_VMID | STE2_S2_FIELDS;
        used[3] |= STE3_S2TTB;
    }
    if (cfg == STE_CFG_BYPASS) {
        used[1] |= STE1_SHCFG;
    }
}

/* MEV only changes how many records are written: it may change at any time. */
static void ste_safe(const uint64_t *cur, const uint64_t *tgt, uint64_t *safe)
{
    memset(safe, 0, 64);
    safe[1] = STE1_MEV;
}

/* A valid CD uses every bit, but the TTB0 walk's fields with EPD0 set. */
static void cd_used(const uint64_t *e, uint64_t *used)
{
    memset(used, 0, 64);
    used[0] = CD0_V;
    if (!(e[0] & CD0_V)) {
        return;
    }
    memset(used, 0xff, 64);
    if (e[0] & CD0_EPD0) {
        used[0] &= ~CD0_TT0_FIELDS;
        used[1] &= ~CD1_TTB0;
    }
}

const SmmuEntryLayout smmu_ste_layout = {
    .name = "STE", .used = ste_used, .safe = ste_safe,
    .v_bit = STE0_V, .bad_event = EVT_C_BAD_STE,
};

const SmmuEntryLayout smmu_cd_layout = {
    .name = "CD", .used = cd_used,
    .v_bit = CD0_V, .bad_event = EVT_C_BAD_CD,
};

/*
 * Which qwords must change in used bits once the unused ones are updated
 * (a bit per qword), and that intermediate value in mid.
 */
static unsigned qword_diff(const SmmuEntryLayout *l, const uint64_t *cur, const uint64_t *tgt,
                           uint64_t *mid)
{
    uint64_t used_c[8], used_t[8], safe[8] = { 0 };
    unsigned diff = 0;

    l->used(cur, used_c);
    l->used(tgt, used_t);
    if (l->safe) {
        l->safe(cur, tgt, safe);
    }
    for (int i = 0; i < 8; i++) {
        uint64_t keep = used_c[i] & ~(safe[i] & used_c[i] & used_t[i]);

        g_assert_cmphex(tgt[i] & ~used_t[i], ==, 0);    /* targets set used bits only */
        mid[i] = (cur[i] & keep) | (tgt[i] & ~keep);
        if ((mid[i] & used_t[i]) != tgt[i]) {
            diff |= 1u << i;
        }
    }
    return diff;
}

/* Store the qwords [first, first + n) of want that differ from memory. */
static void entry_set(QTestState *qts, uint64_t addr, const uint64_t *want, int first, int n,
                      SmmuStoreFn *fn, void *opaque, const SmmuEntryLayout *l)
{
    for (int i = first; i < first + n; i++) {
        if (qtest_readq(qts, addr + 8 * i) != want[i]) {
            qtest_writeq(qts, addr + 8 * i, want[i]);
            fn(opaque, qtest_readq(qts, addr) & l->v_bit);
        }
    }
}

bool smmu_entry_update(QTestState *qts, const SmmuEntryLayout *l, uint64_t addr,
                       const uint64_t target[8], SmmuStoreFn *fn, void *opaque)
{
    uint64_t cur[8], mid[8];
    unsigned diff;

    for (int i = 0; i < 8; i++) {
        cur[i] = qtest_readq(qts, addr + 8 * i);
    }
    diff = qword_diff(l, cur, target, mid);
    if (ctpop32(diff) == 1) {
        int crit = ctz32(diff);

        mid[crit] = cur[crit];
        entry_set(qts, addr, mid, 0, 8, fn, opaque, l);
        entry_set(qts, addr, target, crit, 1, fn, opaque, l);
        entry_set(qts, addr, target, 0, 8, fn, opaque, l);
    } else if (diff) {
        uint64_t zero[8] = { 0 };

        entry_set(qts, addr, zero, 0, 1, fn, opaque, l);
        entry_set(qts, addr, target, 1, 7, fn, opaque, l);
        entry_set(qts, addr, target, 0, 1, fn, opaque, l);
    } else {
        entry_set(qts, addr, target, 0, 8, fn, opaque, l);
    }
    return ctpop32(diff) <= 1;
}
