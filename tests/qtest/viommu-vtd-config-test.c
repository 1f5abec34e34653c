/*
 * qtests for viommu-vtd features and non-default configurations, driven
 * like the intel-iommu driver (vtd-drv.c) with viommu-testdev doing the DMA
 * and MSI-X: x2APIC interrupt remapping (EIM), IRTE FPD / SQ / SVT /
 * destination decoding, page-selective invalidation with an address mask,
 * units without first stage, second stage or nesting, per-PASID nesting,
 * and migration of a unit with nested PASIDs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"
#include "vtd-drv.h"

#define TD_ARGS     "-device viommu-testdev,addr=04.0"
#define SID         TD_DEVFN            /* 00:04.0 */
#define DID         5
#define GPA_OFF     0x100000000ull      /* nested: FS tables at GPA = PA + 4 GiB */
#define IOVA_A      0x12345000ull

static TdMachine *start(const char *vtd_opts, const char *extra)
{
    g_autofree char *args = g_strdup_printf("-device viommu-vtd%s%s " TD_ARGS " %s",
                                            vtd_opts ? "," : "", vtd_opts ? vtd_opts : "",
                                            extra ? extra : "");

    return td_machine_start("kernel-irqchip=split", args);
}

static void assert_pasid_reads(Td *td, uint32_t pasid, uint64_t iova, uint32_t tag)
{
    td_assert_pasid_reads(td, pasid ? TD_PASID_VALID | pasid : 0, iova, tag);
}

/* ------------------------------------------------------------------------
 * Interrupt remapping: IRTE fields as the intel-iommu driver writes them
 */

static void irte_raw(Vtd *v, unsigned i, uint64_t lo, uint64_t hi)
{
    qtest_writeq(v->qts, v->irt + i * 16ull + 8, hi);
    qtest_writeq(v->qts, v->irt + i * 16ull, lo);
}

/* The test device's MSI-X vector 0 to addr/data, sent once. */
static void msi_fire(Td *td, uint32_t addr, uint32_t data)
{
    uint64_t buf = td_alloc(td->m, 4096);

    td_msix_setup(td, 0, addr, data);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 0);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, buf, 4), ==, TD_ERR_NONE);
    td_writel(td, TD_IRQ, 0);
}

static void assert_remaps(QTestState *qts, unsigned handle, uint64_t addr, uint32_t data)
{
    g_autofree char *want = g_strdup_printf("0 0x%" PRIx64 " 0x%x", addr, data);
    g_autofree char *got = vtd_int_remap_fixup(qts, VIVTD_MSI_REMAP_ADDR(handle, 0), 0, SID);

    g_assert_cmpstr(got, ==, want);
}

/* Interrupt message fields (Intel SDM vol. 3 11.11; VT-d 5.1.5). */
#define MSI_ADDR(dest, dm, rh) \
    (0xfee00000ull | (((uint64_t)(dest) & 0xff) << 12) | ((dm) ? 4 : 0) | ((rh) ? 8 : 0) | \
     (((uint64_t)(dest) & 0xffffff00ull) << 32))
#define MSI_DATA(vec, dlm, tm)  ((vec) | ((dlm) << 8) | (1u << 14) | ((tm) ? 1u << 15 : 0))

static Vtd *ir_setup(TdMachine *m, Td *td, bool eim)
{
    Vtd *v = vtd_new(m, false);

    vtd_ctx_legacy(v, SID, 2, 0, 2, DID);           /* DMA pass-through */
    vtd_enable(v);
    vtd_enable_ir(v, 7, eim);                       /* 256 entries */
    return v;
}

/*
 * eim=on: ECAP.EIM, IRTA.EIME, 32-bit x2APIC destination IDs (9.10 DST
 * bits 31:0), and compatibility-format interrupts blocked even with CFI
 * (5.1.4).
 */
static void test_eim_x2apic(void)
{
    TdMachine *m = start("scalable-mode=off,eim=on,id=iommu", NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v;
    const uint64_t sv = VIVTD_IRTE_SID(SID) | VIVTD_IRTE_SVT(1);

    g_assert_true(vtd_rd64(&(Vtd){ .qts = m->qts }, VIVTD_ECAP) & VIVTD_ECAP_EIM);
    v = ir_setup(m, td, true);
    g_assert_true(vtd_rd64(v, VIVTD_IRTA) & VIVTD_IRTA_EIME);
    /* x2APIC ID 0x12345: bits 7:0 in address 19:12, 31:8 in the upper address. */
    irte_raw(v, 3, VIVTD_IRTE_P | VIVTD_IRTE_V(0x41) | VIVTD_IRTE_DST(0x12345), sv);
    irte_raw(v, 4, VIVTD_IRTE_P | VIVTD_IRTE_V(0x42) | VIVTD_IRTE_DST(0xfffffffe) |
             VIVTD_IRTE_DM | VIVTD_IRTE_RH | VIVTD_IRTE_TM | VIVTD_IRTE_DLM(1), sv);
    irte_raw(v, 5, VIVTD_IRTE_P | VIVTD_IRTE_V(0x71) | VIVTD_IRTE_DST(0), sv);
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);
    assert_remaps(m->qts, 3, MSI_ADDR(0x12345, 0, 0), MSI_DATA(0x41, 0, 0));
    assert_remaps(m->qts, 4, MSI_ADDR(0xfffffffe, 1, 1), MSI_DATA(0x42, 1, 1));
    /* A real request to x2APIC ID 0 reaches CPU 0. */
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(5, 0), 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x71));
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    /* Compatibility format with CFI: still blocked in x2APIC mode. */
    vtd_gcmd(v, VIVTD_GCMD_CFI, true);
    msi_fire(td, 0xfee00000, 0x72);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_COMPAT);
    g_assert_false(vtd_lapic_irr(m->qts, 0x72));
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * eim=off (xAPIC): no ECAP.EIM, IRTA.EIME reads as 0, DST holds the 8-bit
 * APIC ID in bits 15:8 and the other bits are reserved (9.10); the
 * compatibility format passes with CFI.
 */
static void test_xapic_dest(void)
{
    TdMachine *m = start("scalable-mode=off,eim=off,id=iommu", NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v;
    const uint64_t sv = VIVTD_IRTE_SID(SID) | VIVTD_IRTE_SVT(1);
    uint64_t lo;

    g_assert_false(vtd_rd64(&(Vtd){ .qts = m->qts }, VIVTD_ECAP) & VIVTD_ECAP_EIM);
    v = ir_setup(m, td, true);
    g_assert_false(vtd_rd64(v, VIVTD_IRTA) & VIVTD_IRTA_EIME);
    irte_raw(v, 3, VIVTD_IRTE_P | VIVTD_IRTE_V(0x43) | VIVTD_IRTE_DST(0x5a00) |
             VIVTD_IRTE_DLM(4), sv);                        /* APIC 0x5a, NMI */
    irte_raw(v, 4, VIVTD_IRTE_P | VIVTD_IRTE_V(0x44) | VIVTD_IRTE_DST(0x12345), sv);
    irte_raw(v, 5, VIVTD_IRTE_P | VIVTD_IRTE_V(0x45) | VIVTD_IRTE_DST(0x0001), sv);
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);
    assert_remaps(m->qts, 3, MSI_ADDR(0x5a, 0, 0), MSI_DATA(0x43, 4, 0));
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(4, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, &lo), ==, VIVTD_FR_IR_IRTE_RSVD);
    g_assert_cmphex(lo >> 48, ==, 4);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(5, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_IRTE_RSVD);
    g_assert_false(vtd_lapic_irr(m->qts, 0x44));
    g_assert_false(vtd_lapic_irr(m->qts, 0x45));
    vtd_gcmd(v, VIVTD_GCMD_CFI, true);
    msi_fire(td, 0xfee00000, 0x46);
    g_assert_true(vtd_lapic_irr(m->qts, 0x46));
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * Source-id validation (9.10 SVT, SQ) and fault processing disable: the test
 * device is 00:04.0 (0x0020).
 */
static void test_irte_sq_svt_fpd(void)
{
    static const struct {
        uint16_t sid;
        unsigned sq, svt;
        bool fpd, delivered;
        unsigned reason;            /* when blocked and recorded */
    } c[] = {
        { 0x0024, 0, 1, false, false, VIVTD_FR_IR_SID },  /* all 16 bits compared */
        { 0x0024, 1, 1, false, true, 0 },                 /* SQ 01b: ignore bit 2 */
        { 0x0022, 1, 1, false, false, VIVTD_FR_IR_SID },
        { 0x0026, 2, 1, false, true, 0 },                 /* SQ 10b: ignore bits 2:1 */
        { 0x0021, 2, 1, false, false, VIVTD_FR_IR_SID },
        { 0x0027, 3, 1, false, true, 0 },                 /* SQ 11b: ignore bits 2:0 */
        { 0x0028, 3, 1, false, false, VIVTD_FR_IR_SID },
        { 0x0000, 0, 2, false, true, 0 },                 /* SVT 10b: bus 0..0 */
        { 0x0101, 0, 2, false, false, VIVTD_FR_IR_SID },  /* bus 1..1 */
        { 0x0030, 0, 0, false, true, 0 },                 /* SVT 00b: no check */
        { 0x0020, 0, 3, false, false, VIVTD_FR_IR_IRTE_RSVD },   /* SVT 11b */
        { 0x0030, 0, 1, true, false, 0 },                 /* FPD: blocked, not recorded */
        { 0x0020, 0, 3, true, false, 0 },
    };
    TdMachine *m = start("scalable-mode=off", NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = ir_setup(m, td, false);

    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        irte_raw(v, 16 + i, VIVTD_IRTE_P | (c[i].fpd ? VIVTD_IRTE_FPD : 0) |
                 VIVTD_IRTE_V(0x80 + i), VIVTD_IRTE_SID(c[i].sid) | VIVTD_IRTE_SQ(c[i].sq) |
                 VIVTD_IRTE_SVT(c[i].svt));
    }
    /* Not present with FPD: blocked without a record; without FPD: 0x22. */
    irte_raw(v, 40, VIVTD_IRTE_FPD | VIVTD_IRTE_V(0x60), VIVTD_IRTE_SID(SID) | VIVTD_IRTE_SVT(1));
    irte_raw(v, 41, VIVTD_IRTE_V(0x61), VIVTD_IRTE_SID(SID) | VIVTD_IRTE_SVT(1));
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);

    for (unsigned i = 0; i < G_N_ELEMENTS(c); i++) {
        g_test_message("IRTE %u: sid 0x%04x sq %u svt %u fpd %d", 16 + i, c[i].sid, c[i].sq,
                       c[i].svt, c[i].fpd);
        msi_fire(td, VIVTD_MSI_REMAP_ADDR(16 + i, 0), 0);
        g_assert_cmpint(vtd_lapic_irr(m->qts, 0x80 + i), ==, c[i].delivered);
        if (c[i].reason) {
            uint64_t hi;

            g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, c[i].reason);
            g_assert_cmphex(hi & 0xffff, ==, SID);
        } else {
            g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
        }
    }
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(40, 0), 0);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    g_assert_false(vtd_lapic_irr(m->qts, 0x60));
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(41, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_NOT_PRESENT);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Page-selective invalidation with an address mask (6.5.2.3: AM selects the
 * 2^AM pages naturally aligned around ADDR), queued and through IVA.
 */
#define PSI_BASE    0x400000ull         /* 32 KiB aligned: 8 pages */

static void psi_remap_all(TdMachine *m, Vtd *v, uint64_t ss, uint32_t tag)
{
    for (int i = 0; i < 8; i++) {
        qtest_writeq(m->qts, vtd_entry(v, ss, 4, PSI_BASE + i * 4096ull, 1),
                     td_page_tagged(m, tag + i) | SS_RW);
    }
}

static void assert_psi_pages(Td *td, uint32_t tag_lo, uint32_t tag_hi, int first_hi)
{
    for (int i = 0; i < 8; i++) {
        td_assert_reads(td, PSI_BASE + i * 4096ull, (i < first_hi ? tag_lo : tag_hi) + i);
    }
}

static void test_psi_address_mask(void)
{
    TdMachine *m = start("scalable-mode=off", NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t ss = vtd_table(v);

    for (int i = 0; i < 8; i++) {
        vtd_map(v, ss, 4, PSI_BASE + i * 4096ull, 1, td_page_tagged(m, 100 + i), SS_RW, SS_RW);
    }
    vtd_ctx_legacy(v, SID, 0, ss, 2, DID);
    vtd_enable(v);
    assert_psi_pages(td, 100, 100, 8);

    /* AM 2 at page 1: pages 0-3 go, 4-7 are still cached. */
    psi_remap_all(m, v, ss, 200);
    assert_psi_pages(td, 100, 100, 8);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID),
               (PSI_BASE + 0x1000) | VIVTD_INV_AM(2));
    vtd_qi_sync(v);
    assert_psi_pages(td, 200, 100, 4);
    /* AM 3 at page 6: all eight. */
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID),
               (PSI_BASE + 0x6000) | VIVTD_INV_AM(3));
    vtd_qi_sync(v);
    assert_psi_pages(td, 200, 200, 8);
    /* AM 1 of another domain: nothing. */
    psi_remap_all(m, v, ss, 300);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID + 1),
               PSI_BASE | VIVTD_INV_AM(1));
    vtd_qi_sync(v);
    assert_psi_pages(td, 200, 200, 8);

    /* Register-based: IVA.AM 1 at page 5 covers pages 4 and 5 only. */
    vtd_gcmd(v, VIVTD_GCMD_QIE, false);
    vtd_wr64(v, VIVTD_IVA, (PSI_BASE + 0x5000) | 1);
    vtd_wr64(v, VIVTD_IOTLB, VIVTD_IOTLB_IVT | VIVTD_IOTLB_PSI | VIVTD_IOTLB_DID(DID));
    g_assert_false(vtd_rd64(v, VIVTD_IOTLB) & VIVTD_IOTLB_IVT);
    for (int i = 0; i < 8; i++) {
        td_assert_reads(td, PSI_BASE + i * 4096ull, (i == 4 || i == 5 ? 300 : 200) + i);
    }
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Units without first stage, second stage or nesting: what is left works,
 * what is not advertised is invalid programming (0x5b, 9.6 PGTT).
 */
typedef enum { NO_FS, NO_SS, NO_NEST } Missing;

static void test_stage_off(gconstpointer data)
{
    Missing what = GPOINTER_TO_INT(data);
    static const char *const opts[] = {
        [NO_FS] = "fs=off,nesting=off", [NO_SS] = "ss=off,nesting=off",
        [NO_NEST] = "nesting=off",
    };
    TdMachine *m = start(opts[what], NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), ss = vtd_table(v), nfs = vtd_table(v), dir, pe[8];
    uint64_t ecap = vtd_rd64(v, VIVTD_ECAP), cap = vtd_rd64(v, VIVTD_CAP);
    bool has_fs = what != NO_FS, has_ss = what != NO_SS;

    g_assert_cmpint(!!(ecap & VIVTD_ECAP_FLTS), ==, has_fs);
    g_assert_cmpint(!!(ecap & VIVTD_ECAP_SLTS), ==, has_ss);
    g_assert_false(ecap & VIVTD_ECAP_NEST);
    g_assert_cmpint(!!(cap & VIVTD_CAP_FL1GP), ==, has_fs);
    g_assert_true(ecap & VIVTD_ECAP_SMTS);

    vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 1), FS_PRW, FS_PRW);
    vtd_map(v, ss, 4, IOVA_A, 1, td_page_tagged(m, 2), SS_RW, SS_RW);
    /* Nested: FS at PA (identity second stage for its tables) -> page 3. */
    vtd_map(v, nfs, 4, IOVA_A, 1, 0x80000000ull, FS_PRW, FS_PRW);
    for (int l = 4; l >= 1; l--) {
        uint64_t t = vtd_entry(v, nfs, 4, IOVA_A, l) & ~0xfffull;

        vtd_map(v, ss, 4, t, 1, t, SS_RW, SS_RW);
    }
    vtd_map(v, ss, 4, 0x80000000ull, 1, td_page_tagged(m, 3), SS_RW, SS_RW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, false, DID, false);
    vtd_pasid_entry(v, dir, 1, pe);
    vtd_pe_ss(pe, ss, 2, DID + 1);
    vtd_pasid_entry(v, dir, 2, pe);
    vtd_pe_nested(pe, nfs, ss, 2, DID + 2);
    vtd_pasid_entry(v, dir, 3, pe);
    vtd_pe_pt(pe, DID + 3);
    vtd_pasid_entry(v, dir, 4, pe);
    vtd_enable(v);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);

    for (uint32_t pasid = 1; pasid <= 3; pasid++) {
        bool ok = pasid == 1 ? has_fs : pasid == 2 ? has_ss : false;

        if (ok) {
            assert_pasid_reads(td, pasid, IOVA_A, pasid);
        } else {
            td_writel(td, TD_PASID, TD_PASID_VALID | pasid);
            g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
            td_writel(td, TD_PASID, 0);
            g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x5b);
        }
    }
    /* Pass-through is there in every configuration. */
    {
        uint64_t a = td_page_tagged(m, 4);

        assert_pasid_reads(td, 4, a, 4);
    }
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Per-PASID nesting: each PASID entry with its own first stage (GPAs) over
 * its own or a shared second stage, and its own domain.
 */
#define NP_N        3
static const uint32_t np_pasid[NP_N] = { 0, 7, 0x300 };    /* 0x300: another dir entry */
static const uint16_t np_did[NP_N] = { DID, DID, DID + 1 };

typedef struct NestPasid {
    TdMachine *m;
    Td *td;
    Vtd *v;
    uint64_t ss[2];             /* ss[0]: PASIDs 0 and 7; ss[1]: PASID 0x300 */
    uint64_t fs[NP_N], out_gpa[NP_N], dir;
} NestPasid;

/* Map fs's tables (PA) at PA + GPA_OFF in second stage ss. */
static void np_map_fs_tables(NestPasid *e, uint64_t ss, uint64_t fs, uint64_t iova)
{
    for (int l = 4; l >= 1; l--) {
        uint64_t t;

        e->v->gpa_off = GPA_OFF;
        t = vtd_entry(e->v, fs, 4, iova, l) & ~0xfffull;
        e->v->gpa_off = 0;
        vtd_map(e->v, ss, 4, t + GPA_OFF, 1, t, SS_RW, SS_RW);
    }
}

static void np_build(NestPasid *e)
{
    uint64_t pe[8];

    e->v = vtd_new(e->m, true);
    e->ss[0] = vtd_table(e->v);
    e->ss[1] = vtd_table(e->v);
    for (int i = 0; i < NP_N; i++) {
        /* PASIDs 0 and 0x300 use the same output GPA, in different second stages. */
        e->out_gpa[i] = i == 1 ? 0x81000000ull : 0x80000000ull;
        e->fs[i] = vtd_table(e->v);
        e->v->gpa_off = GPA_OFF;
        vtd_map(e->v, e->fs[i], 4, IOVA_A, 1, e->out_gpa[i], FS_PRW, FS_PRW);
        e->v->gpa_off = 0;
        np_map_fs_tables(e, e->ss[i == 2], e->fs[i], IOVA_A);
        vtd_map(e->v, e->ss[i == 2], 4, e->out_gpa[i], 1, td_page_tagged(e->m, 10 + i), SS_RW, SS_RW);
    }
    e->dir = vtd_ctx_sm(e->v, SID, 4, 0, 0);
    for (int i = 0; i < NP_N; i++) {
        vtd_pe_nested(pe, e->fs[i] + GPA_OFF, e->ss[i == 2], 2, np_did[i]);
        vtd_pasid_entry(e->v, e->dir, np_pasid[i], pe);
    }
    vtd_enable(e->v);
}

static void np_start(NestPasid *e, const char *extra)
{
    e->m = start(NULL, extra);
    e->td = td_open(e->m, TD_DEVFN);
    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
}

static void np_assert_all(NestPasid *e, const uint32_t tags[NP_N])
{
    for (int i = 0; i < NP_N; i++) {
        assert_pasid_reads(e->td, np_pasid[i], IOVA_A, tags[i]);
    }
    g_assert_false(vtd_rd32(e->v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
}

/* Point PASID i's first-stage leaf at a new output GPA mapped to page tag. */
static void np_retarget(NestPasid *e, int i, uint64_t gpa, uint32_t tag)
{
    uint64_t leaf;

    vtd_map(e->v, e->ss[i == 2], 4, gpa, 1, td_page_tagged(e->m, tag), SS_RW, SS_RW);
    e->v->gpa_off = GPA_OFF;
    leaf = vtd_entry(e->v, e->fs[i], 4, IOVA_A, 1);
    e->v->gpa_off = 0;
    qtest_writeq(e->m->qts, leaf, gpa | FS_PRW | FS_A);
}

static void test_pasid_nesting(void)
{
    NestPasid e;
    uint64_t leaf;

    np_start(&e, NULL);
    np_build(&e);
    np_assert_all(&e, (uint32_t[]){ 10, 11, 12 });
    /* A/D of each PASID's own first-stage leaf, written through its second stage. */
    td_writel(e.td, TD_PASID, TD_PASID_VALID | 7);
    g_assert_cmpuint(td_do(e.td, TD_OP_FILL, 0, IOVA_A + 0x100, 4), ==, TD_ERR_NONE);
    td_writel(e.td, TD_PASID, 0);
    e.v->gpa_off = GPA_OFF;
    leaf = vtd_entry(e.v, e.fs[1], 4, IOVA_A, 1);
    e.v->gpa_off = 0;
    g_assert_true(qtest_readq(e.m->qts, leaf) & FS_D);

    /* PASID-selective first-stage invalidation: only PASID 7 sees its new leaf. */
    np_retarget(&e, 0, 0x82000000ull, 20);
    np_retarget(&e, 1, 0x83000000ull, 21);
    np_assert_all(&e, (uint32_t[]){ 10, 11, 12 });
    vtd_qi_add(e.v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID) | VIVTD_INV_PASID(7),
               IOVA_A);
    vtd_qi_sync(e.v);
    np_assert_all(&e, (uint32_t[]){ 10, 21, 12 });
    vtd_qi_add(e.v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID) | VIVTD_INV_PASID(0),
               0);
    vtd_qi_sync(e.v);
    np_assert_all(&e, (uint32_t[]){ 20, 21, 12 });

    /*
     * Second-stage change of GPA 0x80000000 in PASID 0x300's own second
     * stage: a page-selective IOTLB invalidation of that GPA in its domain
     * reaches its nested translation; the other domain's is not named.
     */
    qtest_writeq(e.m->qts, vtd_entry(e.v, e.ss[1], 4, 0x80000000ull, 1), td_page_tagged(e.m, 22) | SS_RW);
    np_assert_all(&e, (uint32_t[]){ 20, 21, 12 });
    vtd_qi_add(e.v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), 0x80000000ull);
    vtd_qi_sync(e.v);
    np_assert_all(&e, (uint32_t[]){ 20, 21, 12 });
    vtd_qi_add(e.v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID + 1), 0x80000000ull);
    vtd_qi_sync(e.v);
    np_assert_all(&e, (uint32_t[]){ 20, 21, 22 });

    /* A stage-2 fault on one PASID's first-stage table: only that PASID faults. */
    {
        uint64_t t, s2, saved, hi;

        e.v->gpa_off = GPA_OFF;
        t = vtd_entry(e.v, e.fs[1], 4, IOVA_A, 1) & ~0xfffull;
        e.v->gpa_off = 0;
        s2 = vtd_entry(e.v, e.ss[0], 4, t + GPA_OFF, 1);
        saved = qtest_readq(e.m->qts, s2);
        qtest_writeq(e.m->qts, s2, 0);
        vtd_qi_add(e.v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
        vtd_qi_sync(e.v);
        td_writel(e.td, TD_PASID, TD_PASID_VALID | 7);
        g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
        td_writel(e.td, TD_PASID, 0);
        g_assert_cmphex(vtd_take_fault(e.v, &hi, NULL), ==, 0x79);
        g_assert_true(hi & VIVTD_FRCD_PP);
        g_assert_cmphex((hi >> VIVTD_FRCD_PV_SHIFT) & 0xfffff, ==, 7);
        assert_pasid_reads(e.td, 0, IOVA_A, 20);
        assert_pasid_reads(e.td, 0x300, IOVA_A, 22);
        qtest_writeq(e.m->qts, s2, saved);
    }
    td_close(e.td);
    vtd_free(e.v);
    td_machine_stop(e.m);
}

/*
 * Migration of a unit translating nested PASIDs: the destination walks the
 * same structures (caches start empty) and its queue goes on invalidating.
 */
static void test_migration_nested_pasid(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-vtd-cfg-mig-%d", g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    NestPasid e;

    np_start(&e, NULL);
    np_build(&e);
    np_assert_all(&e, (uint32_t[]){ 10, 11, 12 });
    /* Stale on purpose: PASID 7's leaf changed, not invalidated, before migrating. */
    np_retarget(&e, 1, 0x83000000ull, 21);
    np_assert_all(&e, (uint32_t[]){ 10, 11, 12 });
    qtest_qmp_assert_success(e.m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(e.m->qts);
    td_close(e.td);
    td_machine_stop(e.m);

    e.m = start(NULL, incoming);
    td_wait_migration(e.m->qts);
    e.td = td_open(e.m, TD_DEVFN);
    e.v->m = e.m;
    e.v->qts = e.m->qts;
    g_assert_cmphex(vtd_rd32(e.v, VIVTD_GSTS) & (VIVTD_GCMD_TE | VIVTD_GCMD_QIE), ==,
                    VIVTD_GCMD_TE | VIVTD_GCMD_QIE);
    g_assert_true(td_cfg_readw(e.td, TD_CFG_PASID + PCI_PASID_CTRL) & PCI_PASID_CTRL_ENABLE);
    /* Caches start empty: every PASID walks what is in memory. */
    np_assert_all(&e, (uint32_t[]){ 10, 21, 12 });
    np_retarget(&e, 2, 0x84000000ull, 23);
    np_assert_all(&e, (uint32_t[]){ 10, 21, 12 });
    vtd_qi_add(e.v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID + 1) |
               VIVTD_INV_PASID(0x300), 0);
    vtd_qi_sync(e.v);
    np_assert_all(&e, (uint32_t[]){ 10, 21, 23 });
    td_close(e.td);
    vtd_free(e.v);
    td_machine_stop(e.m);
    unlink(file);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (strcmp(qtest_get_arch(), "x86_64")) {
        return g_test_run();        /* viommu-vtd is a q35 device */
    }
    qtest_add_func("/viommu-vtd/config/ir-eim-x2apic", test_eim_x2apic);
    qtest_add_func("/viommu-vtd/config/ir-xapic-destination", test_xapic_dest);
    qtest_add_func("/viommu-vtd/config/ir-irte-sq-svt-fpd", test_irte_sq_svt_fpd);
    qtest_add_func("/viommu-vtd/config/psi-address-mask", test_psi_address_mask);
    qtest_add_data_func("/viommu-vtd/config/fs-off", GINT_TO_POINTER(NO_FS), test_stage_off);
    qtest_add_data_func("/viommu-vtd/config/ss-off", GINT_TO_POINTER(NO_SS), test_stage_off);
    qtest_add_data_func("/viommu-vtd/config/nesting-off", GINT_TO_POINTER(NO_NEST),
                        test_stage_off);
    qtest_add_func("/viommu-vtd/config/pasid-nesting", test_pasid_nesting);
    qtest_add_func("/viommu-vtd/config/migration-nested-pasid", test_migration_nested_pasid);
    return g_test_run();
}
