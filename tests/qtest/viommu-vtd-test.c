/*
 * qtests for viommu-vtd on q35, driven like a guest driver (vtd-drv.c) with
 * viommu-testdev doing the DMA: legacy and scalable translation (first stage
 * 4/5-level, second stage, nested, pass-through), PASID-tagged DMA, every
 * invalidation proven with a stale translation, fault recording and
 * overflow, interrupt remapping, migration and hostile programming.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "qemu/bswap.h"
#include "libqos/fw_cfg.h"
#include "libqos/virtio-pci.h"
#include "libqos/virtio.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_config.h"
#include "vtd-drv.h"

#define TD_ARGS     "-device viommu-testdev,addr=04.0"
#define SID         TD_DEVFN            /* bus 0 */
#define DID         5
#define GPA_OFF     0x100000000ull      /* nested: FS tables at GPA = PA + 4 GiB */
#define IOVA_A      0x12345000ull
#define IOVA_B      0x7f000000ull
#define IOVA_C      0x40000000ull

static TdMachine *start(const char *vtd_opts)
{
    g_autofree char *extra = g_strdup_printf("-device viommu-vtd%s%s " TD_ARGS,
                                             vtd_opts ? "," : "", vtd_opts ? vtd_opts : "");

    return td_machine_start("kernel-irqchip=split", extra);
}

/* ------------------------------------------------------------------------
 * Capabilities and properties
 */

static void test_caps(void)
{
    TdMachine *m = start(NULL);
    Vtd *v = vtd_new(m, true);
    uint64_t cap = vtd_rd64(v, VIVTD_CAP), ecap = vtd_rd64(v, VIVTD_ECAP);

    g_assert_cmphex(vtd_rd32(v, VIVTD_VER), ==, VIVTD_VER_VALUE);
    /* The documented defaults (docs/vtd.rst), then field by field. */
    g_assert_cmphex(cap, ==, 0xd1d2078c222f0606ull);
    g_assert_cmphex(ecap, ==, 0x1ed9ca4f020cfull);
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0x6);            /* SAGAW 39, 48 */
    g_assert_cmpuint((cap >> 16) & 0x3f, ==, 47);           /* MGAW */
    g_assert_cmphex((cap >> 24) & 0x3ff, ==, VIVTD_FRO);
    g_assert_cmpuint((cap >> 40) & 0xff, ==, VIVTD_NUM_FRCD - 1);
    g_assert_true(cap & VIVTD_CAP_PSI);
    g_assert_true(cap & VIVTD_CAP_FL1GP);
    g_assert_true(cap & VIVTD_CAP_FL5LP);              /* SVA with LA57 CPUs */
    g_assert_cmphex((ecap >> 8) & 0x3ff, ==, VIVTD_IRO);
    for (uint64_t bit = 1; bit; bit <<= 1) {
        uint64_t want = VIVTD_ECAP_QI | VIVTD_ECAP_IR | VIVTD_ECAP_PT | VIVTD_ECAP_SC |
                        VIVTD_ECAP_NEST | VIVTD_ECAP_PASID | VIVTD_ECAP_SMTS | VIVTD_ECAP_FLTS |
                        VIVTD_ECAP_SLTS | VIVTD_ECAP_SRS | VIVTD_ECAP_EAFS | VIVTD_ECAP_SLADS |
                        VIVTD_ECAP_PRS | VIVTD_ECAP_PDS |
                        VIVTD_ECAP_DT;     /* SVA needs ATS enabled */
        if (want & bit) {
            g_assert_true(ecap & bit);
        }
    }
    g_assert_cmpuint((ecap >> 35) & 0x1f, ==, 19);          /* PSS: 20-bit PASIDs */
    g_assert_cmphex(vtd_rd32(v, VIVTD_GSTS), ==, 0);
    g_assert_cmphex(vtd_rd32(v, VIVTD_FECTL), ==, VIVTD_CTL_IM);
    /* Read-only registers ignore writes. */
    vtd_wr64(v, VIVTD_CAP, 0);
    g_assert_cmphex(vtd_rd64(v, VIVTD_CAP), ==, cap);
    vtd_free(v);
    td_machine_stop(m);

    m = start("aw-bits=57,intremap=off");
    v = vtd_new(m, true);
    cap = vtd_rd64(v, VIVTD_CAP);
    ecap = vtd_rd64(v, VIVTD_ECAP);
    g_assert_cmphex((cap >> 8) & 0x1f, ==, 0xe);
    g_assert_true(cap & VIVTD_CAP_FL5LP);
    g_assert_false(ecap & VIVTD_ECAP_IR);
    vtd_free(v);
    td_machine_stop(m);

    m = start("scalable-mode=off");
    v = vtd_new(m, false);
    ecap = vtd_rd64(v, VIVTD_ECAP);
    g_assert_false(ecap & (VIVTD_ECAP_SMTS | VIVTD_ECAP_PASID | VIVTD_ECAP_NEST | VIVTD_ECAP_FLTS |
                           VIVTD_ECAP_PRS | VIVTD_ECAP_PDS));
    vtd_free(v);
    td_machine_stop(m);
}

static void test_bad_properties(void)
{
    static const char *const bad[][2] = {
        { "aw-bits=40", "aw-bits must be 39, 48 or 57" },
        { "pasid-bits=21", "pasid-bits must be" },
        { "nesting=on,fs=off", "nesting=on needs fs=on and ss=on" },
        { "fs=off,ss=off", "scalable mode needs" },
        { "iotlb-size=0", "iotlb-size" },
        { "intremap=off,eim=on", "eim=on needs intremap=on" },
        { "scalable-mode=off,prs=on", "prs=on needs scalable-mode=on" },
    };
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *cmd = g_strdup_printf("%s -M q35,kernel-irqchip=split -accel qtest "
                                               "-display none -nic none -L /usr/share/seabios "
                                               "-L /usr/share/qemu -S -device viommu-vtd,%s",
                                               qemu, bad[i][0]);
        g_autofree char *out = NULL, *err = NULL;
        int status = 0;

        g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
        g_assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        g_assert_nonnull(strstr(err, bad[i][1]));
    }
}

/* System reset: everything back to its reset value, and translation off. */
static void test_reset(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t a = td_page_tagged(m, 5);

    vtd_enable(v);
    vtd_enable_ir(v, 3, false);
    g_assert_cmpuint(td_dma_sum(td, a, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    qtest_qmp_assert_success(m->qts, "{ 'execute': 'system_reset' }");
    qtest_qmp_eventwait(m->qts, "RESET");
    g_assert_cmphex(vtd_rd32(v, VIVTD_GSTS), ==, 0);
    g_assert_cmphex(vtd_rd64(v, VIVTD_RTADDR), ==, 0);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQA), ==, 0);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IRTA), ==, 0);
    g_assert_cmphex(vtd_rd32(v, VIVTD_FSTS), ==, 0);
    g_assert_cmphex(vtd_frcd_hi(v, 0), ==, 0);
    g_assert_cmphex(vtd_rd32(v, VIVTD_FECTL), ==, VIVTD_CTL_IM);
    td_close(td);
    td = td_open(m, TD_DEVFN);
    td_assert_reads(td, a, 5);                 /* untranslated again */
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* The DMAR table the acpi_build() hook adds, as the guest's firmware gets it. */
static const uint8_t *find_dmar(const uint8_t *blob, size_t len)
{
    for (size_t i = 0; i + 36 <= len; i++) {
        if (!memcmp(blob + i, "DMAR", 4)) {
            uint32_t tlen = ldl_le_p(blob + i + 4);

            /* (The checksum is the firmware's job: a linker-loader command.) */
            if (tlen < 48 || i + tlen > len) {
                continue;
            }
            return blob + i;
        }
    }
    return NULL;
}

static void check_dmar(const char *opts, uint8_t haw, uint8_t flags)
{
    TdMachine *m = start(opts);
    QFWCFG *fw = pc_fw_cfg_init(m->qts);
    size_t cap = 1 << 20, len;
    g_autofree uint8_t *blob = g_malloc0(cap);
    const uint8_t *d, *drhd;

    len = qfw_cfg_get_file(fw, "etc/acpi/tables", blob, cap);
    g_assert_cmpuint(len, >, 0);
    d = find_dmar(blob, MIN(len, cap));
    g_assert_nonnull(d);
    g_assert_cmpuint(d[36], ==, haw - 1);           /* host address width - 1 */
    g_assert_cmphex(d[37], ==, flags);
    drhd = d + 48;
    g_assert_cmpuint(lduw_le_p(drhd), ==, 0);        /* DRHD */
    g_assert_cmpuint(lduw_le_p(drhd + 2), ==, 24);
    g_assert_cmphex(drhd[4], ==, 1);                 /* INCLUDE_PCI_ALL */
    g_assert_cmphex(ldq_le_p(drhd + 8), ==, VIVTD_MMIO_BASE);
    g_assert_cmphex(drhd[16], ==, 3);                /* IOAPIC scope ... */
    g_assert_cmphex(drhd[21], ==, 0xff);             /* ... at ff:00.0 */
    g_assert_cmphex(drhd[22], ==, 0);
    g_assert_cmphex(drhd[23], ==, 0);
    pc_fw_cfg_uninit(fw);
    td_machine_stop(m);
}

static void test_dmar(void)
{
    check_dmar(NULL, 48, 0x3);                  /* IR on, no EIM: x2APIC opt-out */
    check_dmar("aw-bits=39,intremap=off", 39, 0x0);
}

/* ------------------------------------------------------------------------
 * Legacy mode
 */

#define TD2_DEVFN   0x28                /* a second test device, 00:05.0 */

static void test_legacy_ss(void)
{
    TdMachine *m = td_machine_start("kernel-irqchip=split",
                                    "-device viommu-vtd,scalable-mode=off,aw-bits=39 " TD_ARGS
                                    " -device viommu-testdev,addr=05.0");
    Td *td = td_open(m, TD_DEVFN), *td2 = td_open(m, TD2_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t slpt = vtd_table(v), a = td_page_tagged(m, 1), b = td_alloc(m, 4096), ro = td_page_tagged(m, 3);
    uint64_t big = td_alloc(m, 4 << 20) , hi, lo;

    big = (big + 0x1fffff) & ~0x1fffffull;      /* a 2 MiB aligned block */
    qtest_writel(m->qts, big + 0x1234, 0xb16b00b5);
    vtd_map(v, slpt, 3, IOVA_A, 1, a, SS_RW, SS_RW);
    vtd_map(v, slpt, 3, IOVA_B, 1, b, SS_RW, SS_RW);
    vtd_map(v, slpt, 3, IOVA_C, 1, ro, SS_R, SS_RW);
    vtd_map(v, slpt, 3, 0x200000, 2, big, SS_RW | SS_PS, SS_RW);
    vtd_ctx_legacy(v, SID, 0, slpt, 1, DID);
    vtd_enable(v);

    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A + 8, IOVA_B + 16, 32), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, b + 16), ==, 1 * 0x10001u + 2);
    td_assert_reads(td, IOVA_C, 3);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, 0x201234, IOVA_B, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0xb16b00b5);

    /* Write to a read-only page: reason 5, a write, at that page. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A, IOVA_C + 64, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, &lo), ==, 0x05);
    g_assert_cmphex(hi & 0xffff, ==, SID);
    g_assert_false(hi & VIVTD_FRCD_T);
    g_assert_cmphex(lo, ==, IOVA_C);
    /* Unmapped read: reason 6. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY, 0x3000000, IOVA_B, 4), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x06);
    g_assert_true(hi & VIVTD_FRCD_T);
    /* Beyond the 39-bit AW: reason 4. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY, 1ull << 39, IOVA_B, 4), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x04);
    /* Another device on the same bus (root entry present, no context entry): reason 2. */
    g_assert_cmpuint(td_do(td2, TD_OP_COPY, IOVA_A, IOVA_B, 4), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x02);
    g_assert_cmphex(hi & 0xffff, ==, TD2_DEVFN);
    /*
     * A write to the interrupt window (0xFEEx_xxxx) is an interrupt request,
     * not DMA (3.14): not translated (the second stage maps nothing there),
     * no fault, and with IR off it reaches the local APIC as it is.
     */
    td_writel(td, TD_PATTERN, 0x5e);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, 0xfee00000ull, 4), ==, TD_ERR_NONE);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    g_assert_true(vtd_lapic_irr(m->qts, 0x5e));
    td_close(td2);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

static void test_legacy_pt_and_cfg_faults(void)
{
    TdMachine *m = start("scalable-mode=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t a = td_page_tagged(m, 7), ce;

    vtd_enable(v);
    /* No root entry: reason 1. */
    g_assert_cmpuint(td_dma_sum(td, a, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x01);
    /* Pass-through context entry: untranslated. */
    vtd_ctx_legacy(v, SID, 2, 0, 2, DID);
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, a, 7);
    /* Reserved bit in the context entry: reason 0xb. */
    ce = (qtest_readq(m->qts, v->root) & ~0xfffull) + SID * 16;
    qtest_writeq(m->qts, ce, qtest_readq(m->qts, ce) | (1ull << 5));
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(3) | VIVTD_CC_SID(SID), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_dma_sum(td, a, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x0b);
    /* FPD: the DMA is still blocked, nothing is recorded. */
    qtest_writeq(m->qts, ce + 8, 2 | (DID << 8));
    qtest_writeq(m->qts, ce, vtd_table(v) | 2 | 1);     /* FPD, empty second stage */
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(3) | VIVTD_CC_SID(SID), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_dma_sum(td, a, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Scalable mode
 */

static void test_sm_first_stage(gconstpointer opaque)
{
    bool level5 = GPOINTER_TO_INT(opaque);
    /* Default properties: FL5LP does not need aw-bits=57 (first-stage inputs are not MGAW-bound). */
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), a = td_page_tagged(m, 11), b = td_alloc(m, 4096), sup = td_page_tagged(m, 12);
    uint64_t dir, pe[8], leaf_b;
    uint64_t iova_a = level5 ? 0x00ab000012345000ull : 0x00007f0012345000ull;
    int top = level5 ? 5 : 4;

    vtd_map(v, fs, top, iova_a, 1, a, FS_PRW, FS_PRW);
    leaf_b = vtd_map(v, fs, top, IOVA_B, 1, b, FS_PRW, FS_PRW);
    vtd_map(v, fs, top, IOVA_C, 1, sup, FS_P | FS_RW, FS_PRW);  /* supervisor page */
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, level5, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);

    td_assert_reads(td, iova_a, 11);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, iova_a, IOVA_B + 8, 16), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, b + 8), ==, 11 * 0x10001u);
    /* Hardware set A and D in the written page's entry. */
    g_assert_cmphex(qtest_readq(m->qts, leaf_b) & (FS_A | FS_D), ==, FS_A | FS_D);
    /* Requests without PASID are user requests: a supervisor page is refused. */
    g_assert_cmpuint(td_dma_sum(td, IOVA_C, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x81);
    /* Non-canonical input. */
    g_assert_cmpuint(td_dma_sum(td, level5 ? 1ull << 60 : 1ull << 50, &(uint64_t){0}), ==,
                     TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x80);
    /* Not present. */
    g_assert_cmpuint(td_dma_sum(td, 0x5000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x71);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

static void test_sm_second_stage_and_pt(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t ss = vtd_table(v), a = td_page_tagged(m, 21), ro = td_page_tagged(m, 22), dir, pe[8], hi;

    vtd_map(v, ss, 4, IOVA_A, 1, a, SS_RW, SS_RW);
    vtd_map(v, ss, 4, IOVA_C, 1, ro, SS_R, SS_RW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_ss(pe, ss, 2, DID);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);
    td_assert_reads(td, IOVA_A, 21);
    td_assert_reads(td, IOVA_C, 22);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A, IOVA_C, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x85);
    g_assert_false(hi & VIVTD_FRCD_PP);           /* request without PASID */
    g_assert_cmpuint(td_dma_sum(td, 0x9000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x79);

    /* Pass-through PASID entry: untranslated. */
    vtd_pe_pt(pe, DID + 1);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, ro, 22);
    /* Not present PASID entry: reason 0x59. */
    qtest_writeq(m->qts, (qtest_readq(m->qts, dir) & ~0xfffull), 0);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(3), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_dma_sum(td, ro, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x59);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

typedef struct NestEnv {
    TdMachine *m;
    Td *td;
    Vtd *v;
    uint64_t fs, ss, out, fs_tables[5];
    uint64_t dir;               /* the device's PASID directory */
} NestEnv;

#define NEST_OUT_GPA 0x80000000ull

/* FS (4-level, GPAs) maps IOVA_A -> NEST_OUT_GPA; SS maps FS tables and the output. */
static void nest_setup(NestEnv *e)
{
    uint64_t dir, pe[8];

    e->m = start(NULL);
    e->td = td_open(e->m, TD_DEVFN);
    e->v = vtd_new(e->m, true);
    e->out = td_page_tagged(e->m, 31);
    e->fs = vtd_table(e->v);
    e->ss = vtd_table(e->v);
    e->v->gpa_off = GPA_OFF;
    vtd_map(e->v, e->fs, 4, IOVA_A, 1, NEST_OUT_GPA, FS_PRW, FS_PRW);
    for (int l = 4; l >= 1; l--) {
        e->fs_tables[l] = vtd_entry(e->v, e->fs, 4, IOVA_A, l) & ~0xfffull;
    }
    e->v->gpa_off = 0;
    for (int l = 4; l >= 1; l--) {
        vtd_map(e->v, e->ss, 4, e->fs_tables[l] + GPA_OFF, 1, e->fs_tables[l], SS_RW, SS_RW);
    }
    vtd_map(e->v, e->ss, 4, NEST_OUT_GPA, 1, e->out, SS_RW, SS_RW);
    dir = e->dir = vtd_ctx_sm(e->v, SID, 0, 0, 0);
    vtd_pe_nested(pe, e->fs + GPA_OFF, e->ss, 2, DID);
    vtd_pasid_entry(e->v, dir, 0, pe);
    vtd_enable(e->v);
}

static void nest_flush(NestEnv *e)
{
    vtd_qi_add(e->v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(e->v);
}

static void test_sm_nested(void)
{
    NestEnv e;
    uint64_t slot, saved, hi, lo;

    nest_setup(&e);
    td_assert_reads(e.td, IOVA_A, 31);
    g_assert_cmpuint(td_do(e.td, TD_OP_FILL, 0, IOVA_A + 64, 4), ==, TD_ERR_NONE);
    /* A/D of the FS leaf were written through the second stage. */
    g_assert_true(qtest_readq(e.m->qts, vtd_entry(e.v, e.fs_tables[1], 1, IOVA_A, 1)) & FS_D);

    /* Stage-1 fault: FS leaf not present. */
    slot = e.fs_tables[1] + ((IOVA_A >> 12) & 511) * 8;
    saved = qtest_readq(e.m->qts, slot);
    qtest_writeq(e.m->qts, slot, 0);
    nest_flush(&e);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, &lo), ==, 0x71);
    g_assert_cmphex(lo, ==, IOVA_A);
    qtest_writeq(e.m->qts, slot, saved);

    /* Stage-2 fault on each FS table fetch. */
    for (int l = 4; l >= 1; l--) {
        uint64_t s2 = vtd_entry(e.v, e.ss, 4, e.fs_tables[l] + GPA_OFF, 1);

        saved = qtest_readq(e.m->qts, s2);
        qtest_writeq(e.m->qts, s2, 0);
        nest_flush(&e);
        g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
        g_assert_cmphex(vtd_take_fault(e.v, &hi, &lo), ==, 0x79);
        g_assert_cmphex(lo, ==, IOVA_A);
        qtest_writeq(e.m->qts, s2, saved);
        /* Read-only FS table in stage 2: the A/D write-back is refused (0x77). */
        qtest_writeq(e.m->qts, s2, saved & ~SS_W);
        slot = e.fs_tables[l] + ((IOVA_A >> (12 + 9 * (l - 1))) & 511) * 8;
        qtest_writeq(e.m->qts, slot, qtest_readq(e.m->qts, slot) & ~FS_A);
        nest_flush(&e);
        g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
        g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x77);
        qtest_writeq(e.m->qts, s2, saved);
        nest_flush(&e);
        td_assert_reads(e.td, IOVA_A, 31);
    }
    /* The parent (second stage) remaps the output GPA: page-selective IOTLB
     * invalidation of that GPA reaches the nested translation of IOVA_A. */
    slot = vtd_entry(e.v, e.ss, 4, NEST_OUT_GPA, 1);
    qtest_writeq(e.m->qts, slot, td_page_tagged(e.m, 32) | SS_RW);
    td_assert_reads(e.td, IOVA_A, 31);                 /* cached */
    vtd_qi_add(e.v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), NEST_OUT_GPA + 0x10000000);
    vtd_qi_sync(e.v);
    td_assert_reads(e.td, IOVA_A, 31);                 /* another GPA */
    vtd_qi_add(e.v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), NEST_OUT_GPA);
    vtd_qi_sync(e.v);
    td_assert_reads(e.td, IOVA_A, 32);
    /* Stage-2 fault on the output: read-only output page refuses a write. */
    qtest_writeq(e.m->qts, slot, e.out | SS_R);
    nest_flush(&e);
    td_assert_reads(e.td, IOVA_A, 31);
    g_assert_cmpuint(td_do(e.td, TD_OP_FILL, 0, IOVA_A, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x85);
    /* And not present at all. */
    qtest_writeq(e.m->qts, slot, 0);
    nest_flush(&e);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x79);
    td_close(e.td);
    vtd_free(e.v);
    td_machine_stop(e.m);
}

/*
 * Second-stage A/D flags, as Linux's dirty tracking uses them (ECAP.SSADS,
 * PASID entry SSADE; VT-d rev 4 3.8 / 9.8): a read sets A on every entry of
 * the walk and D nowhere, a write sets D on the leaf, a write after a read
 * of the same page (its read-only-clean translation cached) still sets D, a
 * D the driver cleared is set again by the next write (with or without an
 * IOTLB invalidation in between), a refused write sets nothing, and with SSADE = 0 nothing is
 * ever set.
 */
static uint64_t ss_flags(TdMachine *m, uint64_t entry)
{
    return qtest_readq(m->qts, entry) & (SS_A | SS_D);
}

static void test_sm_ss_dirty(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t ss = vtd_table(v), dir, pe[8], la, lb, lc, hi;

    g_assert_true(vtd_rd64(v, VIVTD_ECAP) & VIVTD_ECAP_SLADS);
    la = vtd_map(v, ss, 4, IOVA_A, 1, td_page_tagged(m, 81), SS_RW, SS_RW);
    lb = vtd_map(v, ss, 4, IOVA_B, 1, td_page_tagged(m, 82), SS_RW, SS_RW);
    lc = vtd_map(v, ss, 4, IOVA_C, 1, td_page_tagged(m, 83), SS_R, SS_RW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_ss(pe, ss, 2, DID);
    pe[0] |= PE0_SSADE;
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);

    /* Read: A on the leaf and every table entry above it, no D. */
    td_assert_reads(td, IOVA_A, 81);
    g_assert_cmphex(ss_flags(m, la), ==, SS_A);
    for (int l = 4; l >= 2; l--) {
        g_assert_cmphex(ss_flags(m, vtd_entry(v, ss, 4, IOVA_A, l)), ==, SS_A);
    }
    g_assert_cmphex(ss_flags(m, lb), ==, 0);
    /* Write (the source only read): D on the destination leaf alone. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A, IOVA_B + 8, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, lb), ==, SS_A | SS_D);
    g_assert_cmphex(ss_flags(m, la), ==, SS_A);
    /* A was read and its translation cached without write: a write sets D. */
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, IOVA_A + 16, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, la), ==, SS_A | SS_D);
    /* Read-only leaf: the write is refused (0x85) and sets no D. */
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, IOVA_C, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x85);
    g_assert_cmphex(ss_flags(m, lc), ==, 0);
    td_assert_reads(td, IOVA_C, 83);
    g_assert_cmphex(ss_flags(m, lc), ==, SS_A);

    /* The driver reads and clears D (Linux's read_and_clear_dirty), flushes
     * the page: the next write sets it again, a read does not. */
    qtest_writeq(m->qts, lb, qtest_readq(m->qts, lb) & ~SS_D);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), IOVA_B);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_dma_sum(td, IOVA_B, &(uint64_t){0}), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, lb), ==, SS_A);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, IOVA_B + 32, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, lb), ==, SS_A | SS_D);
    /* Cleared without an invalidation: still set by the next write, since a
     * translation of an SSADE entry is never cached writable (docs/vtd.rst). */
    qtest_writeq(m->qts, lb, qtest_readq(m->qts, lb) & ~SS_D);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, IOVA_B + 40, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, lb), ==, SS_A | SS_D);

    /* SSADE = 0 (tracking off): flags cleared, PASID cache and IOTLB
     * invalidated; reads and writes set nothing. */
    vtd_pe_ss(pe, ss, 2, DID);
    vtd_pasid_entry(v, dir, 0, pe);
    qtest_writeq(m->qts, la, qtest_readq(m->qts, la) & ~(SS_A | SS_D));
    qtest_writeq(m->qts, lb, qtest_readq(m->qts, lb) & ~(SS_A | SS_D));
    for (int l = 4; l >= 2; l--) {
        uint64_t t = vtd_entry(v, ss, 4, IOVA_A, l);

        qtest_writeq(m->qts, t, qtest_readq(m->qts, t) & ~(SS_A | SS_D));
    }
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A, IOVA_B, 64), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, la), ==, 0);
    g_assert_cmphex(ss_flags(m, lb), ==, 0);
    for (int l = 4; l >= 2; l--) {
        g_assert_cmphex(ss_flags(m, vtd_entry(v, ss, 4, IOVA_A, l)), ==, 0);
    }
    /* SSADE on again: tracking resumes. */
    pe[0] |= PE0_SSADE;
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A, IOVA_B, 64), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(m, la), ==, SS_A);
    g_assert_cmphex(ss_flags(m, lb), ==, SS_A | SS_D);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * Nested with SSADE (Linux sets it on a nested domain whose parent tracks
 * dirty pages): the second stage marks the output page dirty on a write and
 * only accessed on a read, and the first-stage A/D write-backs, writes to
 * the FS table pages through the second stage, mark those pages dirty.
 */
static void test_sm_nested_dirty(void)
{
    NestEnv e;
    uint64_t pe[8], out_leaf, fs_leaf_page;

    nest_setup(&e);
    vtd_pe_nested(pe, e.fs + GPA_OFF, e.ss, 2, DID);
    pe[0] |= PE0_SSADE;
    vtd_pasid_entry(e.v, e.dir, 0, pe);
    vtd_qi_add(e.v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID), 0);
    nest_flush(&e);
    out_leaf = vtd_entry(e.v, e.ss, 4, NEST_OUT_GPA, 1);
    fs_leaf_page = vtd_entry(e.v, e.ss, 4, e.fs_tables[1] + GPA_OFF, 1);

    td_assert_reads(e.td, IOVA_A, 31);
    g_assert_cmphex(ss_flags(e.m, out_leaf), ==, SS_A);
    /* The FS leaf got A: a write to its table page, dirty in stage 2. */
    g_assert_cmphex(ss_flags(e.m, fs_leaf_page), ==, SS_A | SS_D);
    g_assert_cmpuint(td_do(e.td, TD_OP_FILL, 0, IOVA_A + 64, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(e.m, out_leaf), ==, SS_A | SS_D);
    /* The nested translation is not cached writable either. */
    qtest_writeq(e.m->qts, out_leaf, qtest_readq(e.m->qts, out_leaf) & ~SS_D);
    g_assert_cmpuint(td_do(e.td, TD_OP_FILL, 0, IOVA_A + 72, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(ss_flags(e.m, out_leaf), ==, SS_A | SS_D);
    td_close(e.td);
    vtd_free(e.v);
    td_machine_stop(e.m);
}

static void test_pasid_dma(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs0 = vtd_table(v), fs5 = vtd_table(v), fs9 = vtd_table(v), ss = vtd_table(v);
    uint64_t dir, pe[8], hi;

    vtd_map(v, fs0, 4, IOVA_A, 1, td_page_tagged(m, 40), FS_PRW, FS_PRW);
    vtd_map(v, fs5, 4, IOVA_A, 1, td_page_tagged(m, 45), FS_PRW, FS_PRW);
    vtd_map(v, fs5, 4, IOVA_C, 1, td_page_tagged(m, 46), FS_P | FS_RW, FS_PRW);   /* supervisor */
    vtd_map(v, fs9, 4, IOVA_A, 1, td_page_tagged(m, 49), FS_PRW, FS_PRW);
    vtd_map(v, ss, 4, IOVA_A, 1, td_page_tagged(m, 50), SS_RW, SS_RW);
    dir = vtd_ctx_sm(v, SID, 2, 0, 0);          /* 512 directory entries */
    vtd_pe_fs(pe, fs0, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_pe_fs(pe, fs5, false, DID + 1, true);
    vtd_pasid_entry(v, dir, 5, pe);
    vtd_pe_fs(pe, fs9, false, DID + 2, false);
    vtd_pasid_entry(v, dir, 9, pe);
    vtd_pe_ss(pe, ss, 2, DID + 3);
    vtd_pasid_entry(v, dir, 0x4321, pe);        /* another directory entry */
    vtd_enable(v);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL,
                  PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV);
    g_assert_true(td_readl(td, TD_CAPS) & TD_CAPS_PASID_PATH);

    td_assert_reads(td, IOVA_A, 40);                               /* RID_PASID 0 */
    td_assert_pasid_reads(td, TD_PASID_VALID | 5, IOVA_A, 45);
    td_assert_pasid_reads(td, TD_PASID_VALID | 9, IOVA_A, 49);
    td_assert_pasid_reads(td, TD_PASID_VALID | 0x4321, IOVA_A, 50);
    /* Supervisor request: allowed by SRE on PASID 5, to a supervisor page. */
    td_assert_pasid_reads(td, TD_PASID_VALID | TD_PASID_PRIV | 5, IOVA_C, 46);
    td_writel(td, TD_PASID, TD_PASID_VALID | 5);
    g_assert_cmpuint(td_dma_sum(td, IOVA_C, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x81);
    g_assert_true(hi & VIVTD_FRCD_PP);
    g_assert_cmphex((hi >> VIVTD_FRCD_PV_SHIFT) & 0xfffff, ==, 5);
    /* ... refused by SRE = 0 on PASID 9 (0x5d). */
    td_writel(td, TD_PASID, TD_PASID_VALID | TD_PASID_PRIV | 9);
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x5d);
    g_assert_true(hi & VIVTD_FRCD_PRIV);
    /* A PASID without an entry: 0x59, and one beyond the directory: 0x46... */
    td_writel(td, TD_PASID, TD_PASID_VALID | 7);
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x59);
    g_assert_cmphex((hi >> VIVTD_FRCD_PV_SHIFT) & 0xfffff, ==, 7);
    td_writel(td, TD_PASID, TD_PASID_VALID | 0x10000);
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x46);
    /* ... or a directory entry that is not present: 0x51. */
    td_writel(td, TD_PASID, TD_PASID_VALID | 0x2000);
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x51);
    td_writel(td, TD_PASID, 0);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}


/*
 * A PASID's address space is the device's only while it issues requests: a
 * guest cycling through more PASIDs than the unit keeps idle spaces for
 * (VIOMMU_SPACES_IDLE_MAX, 32) leaves at most that many, and the spaces made
 * again for PASIDs that come back translate as before.
 */
#define NCYCLE 40

static void test_pasid_spaces_bounded(void)
{
    TdMachine *m = start("id=iommu");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t dir, pe[8], hi;
    QDict *r;

    dir = vtd_ctx_sm(v, SID, 2, 0, 0);          /* 512 directory entries */
    for (int i = 1; i <= NCYCLE; i++) {
        uint64_t fs = vtd_table(v);

        vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 100 + i), FS_PRW, FS_PRW);
        vtd_pe_fs(pe, fs, false, DID + i, false);
        vtd_pasid_entry(v, dir, i, pe);
    }
    vtd_enable(v);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    for (int round = 0; round < 3; round++) {
        for (int i = 1; i <= NCYCLE; i++) {
            td_assert_pasid_reads(td, TD_PASID_VALID | i, IOVA_A, 100 + i);
        }
    }
    /* PASIDs without an entry: refused (0x59; 0x51 past directory entry 0), not piling up. */
    for (int i = NCYCLE + 1; i < NCYCLE + 1 + 200; i++) {
        td_writel(td, TD_PASID, TD_PASID_VALID | i);
        g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
        g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, i < 64 ? 0x59 : 0x51);
        g_assert_cmphex((hi >> VIVTD_FRCD_PV_SHIFT) & 0xfffff, ==, i);
    }
    r = qtest_qmp(m->qts, "{'execute': 'qom-get', 'arguments': {'path': "
                  "'/machine/peripheral/iommu', 'property': 'x-pasid-spaces'}}");
    g_assert_cmpint(qdict_get_int(r, "return"), <=, 32);
    g_assert_cmpint(qdict_get_int(r, "return"), >=, 1);
    qobject_unref(r);
    td_assert_pasid_reads(td, TD_PASID_VALID | 7, IOVA_A, 107);
    td_writel(td, TD_PASID, 0);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}
/*
 * Translated addresses in the interrupt range 0xFEEx_xxxx are blocked with
 * reason 0x87 (3.14): through a first-stage page (walked, then from the
 * IOTLB), a second-stage 1 GiB page holding the range, and PASID
 * pass-through; the DMA never reaches the local APIC.
 */
static void test_intr_range_blocked(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), ss = vtd_table(v), dir, pe[8], hi, lo;

    vtd_map(v, fs, 4, IOVA_A, 1, VIVTD_IR_BASE, FS_PRW, FS_PRW);
    vtd_map(v, fs, 4, IOVA_B, 1, td_page_tagged(m, 80), FS_PRW, FS_PRW);
    vtd_map(v, ss, 4, 0x40000000ull, 3, 0xc0000000ull, SS_RW | SS_PS, SS_RW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_pe_ss(pe, ss, 2, DID + 1);
    vtd_pasid_entry(v, dir, 2, pe);
    vtd_pe_pt(pe, DID + 2);
    vtd_pasid_entry(v, dir, 3, pe);
    vtd_enable(v);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);

    td_assert_reads(td, IOVA_B, 80);
    for (int i = 0; i < 2; i++) {
        g_assert_cmpuint(td_dma_sum(td, IOVA_A + 0x10, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
        g_assert_cmphex(vtd_take_fault(v, NULL, &lo), ==, 0x87);
        g_assert_cmphex(lo, ==, IOVA_A);
    }
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_B, IOVA_A, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x87);
    /* Second stage: the 1 GiB page at 3 GiB holds the range. */
    td_writel(td, TD_PASID, TD_PASID_VALID | 2);
    g_assert_cmpuint(td_dma_sum(td, 0x40000000ull + 0x3ee00000ull, &(uint64_t){0}), ==,
                     TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x87);
    /* Pass-through: the input address is the output. */
    td_writel(td, TD_PASID, TD_PASID_VALID | 3);
    g_assert_cmpuint(td_dma_sum(td, VIVTD_IR_BASE, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x87);
    g_assert_true(hi & VIVTD_FRCD_PP);
    /* ... and a write there (an MSI around remapping) is refused too. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY, td_page_tagged(m, 81), VIVTD_IR_BASE, 4), ==,
                     TD_ERR_WRITE_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x87);
    td_writel(td, TD_PASID, 0);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * FPD of an entry that is not present (Linux tears a PASID entry down to
 * FPD alone) suppresses the record; a PASID table fetch error (0x58) is
 * recorded even with the context entry's FPD set.
 */
static void test_fpd_teardown(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), dir, pe[8], pea, hi;

    vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 90), FS_PRW, FS_PRW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, false, DID, false);
    pea = vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);
    td_assert_reads(td, IOVA_A, 90);

    qtest_writeq(m->qts, pea, 2);                   /* FPD, P = 0 */
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID) | VIVTD_INV_PASID(0), 0);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    qtest_writeq(m->qts, pea, 0);                   /* without FPD: recorded */
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, 0x59);

    /* Context FPD, the PASID table of PASID 64 in MMIO (the unit's registers). */
    dir = vtd_ctx_sm(v, SID, 0, 0, 2);
    qtest_writeq(m->qts, dir + 8, VIVTD_MMIO_BASE | 1);
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(3), 0);
    vtd_qi_sync(v);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    td_writel(td, TD_PASID, TD_PASID_VALID | 64);
    g_assert_cmpuint(td_dma_sum(td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, 0x58);
    g_assert_cmphex((hi >> VIVTD_FRCD_PV_SHIFT) & 0xfffff, ==, 64);
    td_writel(td, TD_PASID, 0);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Invalidations: each one removes exactly its scope.
 */

static void test_inv_piotlb_and_pasid_cache(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), fs2 = vtd_table(v), dir, pe[8], la, lb;

    la = vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 60), FS_PRW, FS_PRW);
    lb = vtd_map(v, fs, 4, IOVA_B, 1, td_page_tagged(m, 61), FS_PRW, FS_PRW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);
    td_assert_reads(td, IOVA_A, 60);
    td_assert_reads(td, IOVA_B, 61);

    /* Change both PTEs: the cached translations stay until invalidated. */
    qtest_writeq(m->qts, la, td_page_tagged(m, 62) | FS_PRW);
    qtest_writeq(m->qts, lb, td_page_tagged(m, 63) | FS_PRW);
    td_assert_reads(td, IOVA_A, 60);
    /* Page-selective P_IOTLB of another PASID / DID: nothing changes. */
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID) | VIVTD_INV_PASID(1), IOVA_A);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID + 1), IOVA_A);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 60);
    /* Page-selective for page A: A is new, B still stale. */
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), IOVA_A);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 62);
    td_assert_reads(td, IOVA_B, 61);
    /* All of PASID 0 (non-global): B too. */
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_B, 63);

    /* A new PASID entry (another FS table): cached until a PASID-cache invalidation. */
    vtd_map(v, fs2, 4, IOVA_A, 1, td_page_tagged(m, 64), FS_PRW, FS_PRW);
    vtd_pe_fs(pe, fs2, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 62);                   /* old entry, walked again */
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID + 1), 0);    /* other DID */
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 62);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(1) | VIVTD_INV_DID(DID), 0);        /* PASID-sel. */
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 64);
    /* Domain-selective PASID-cache and global, each with the IOTLB flush. */
    vtd_pe_fs(pe, fs, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(0) | VIVTD_INV_DID(DID), 0);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 62);
    vtd_pe_fs(pe, fs2, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(3), 0);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 64);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * A global (G) first-stage page goes with a domain-selective IOTLB
 * invalidation (6.5.2.3: G only matters to non-global PASID-selective
 * invalidation); a PASID-based page-selective invalidation accepts every
 * address mask, 19 (Linux's for ranges across 1 GiB) and 63 (everything)
 * included.
 */
static void test_inv_global_and_large_am(void)
{
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), dir, pe[8], la;

    la = vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 70), FS_PRW | FS_G, FS_PRW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);
    td_assert_reads(td, IOVA_A, 70);

    qtest_writeq(m->qts, la, td_page_tagged(m, 71) | FS_PRW | FS_G);
    td_assert_reads(td, IOVA_A, 70);                   /* cached */
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 71);

    /* AM 19: 2 GiB from 0, IOVA_A inside. */
    qtest_writeq(m->qts, la, td_page_tagged(m, 72) | FS_PRW | FS_G);
    td_assert_reads(td, IOVA_A, 71);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), VIVTD_INV_AM(19));
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 72);
    /* AM 63: the whole input space (the size does not fit 64 bits). */
    qtest_writeq(m->qts, la, td_page_tagged(m, 73) | FS_PRW);
    td_assert_reads(td, IOVA_A, 72);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID),
               0x7f0000000000ull | VIVTD_INV_AM(63));
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 73);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

static void test_inv_iotlb_and_context(void)
{
    TdMachine *m = start("scalable-mode=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t ss = vtd_table(v), ss2 = vtd_table(v), la, lb;

    la = vtd_map(v, ss, 4, IOVA_A, 1, td_page_tagged(m, 70), SS_RW, SS_RW);
    lb = vtd_map(v, ss, 4, IOVA_B, 1, td_page_tagged(m, 71), SS_RW, SS_RW);
    vtd_map(v, ss2, 4, IOVA_A, 1, td_page_tagged(m, 72), SS_RW, SS_RW);
    vtd_ctx_legacy(v, SID, 0, ss, 2, DID);
    vtd_enable(v);
    td_assert_reads(td, IOVA_A, 70);
    td_assert_reads(td, IOVA_B, 71);
    qtest_writeq(m->qts, la, td_page_tagged(m, 73) | SS_RW);
    qtest_writeq(m->qts, lb, td_page_tagged(m, 74) | SS_RW);
    /* PSI of another domain, then of page A (AM 0). */
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID + 1), IOVA_A);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 70);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(DID), IOVA_A);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 73);
    td_assert_reads(td, IOVA_B, 71);
    /* DSI of another domain, then of ours. */
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID + 1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_B, 71);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_B, 74);
    /* Global. */
    qtest_writeq(m->qts, lb, td_page_tagged(m, 75) | SS_RW);
    td_assert_reads(td, IOVA_B, 74);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_B, 75);

    /* Context entry now points at ss2: cached until a context-cache invalidation. */
    vtd_ctx_legacy(v, SID, 0, ss2, 2, DID);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 73);
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(3) | VIVTD_CC_SID(SID + 1), 0);     /* another device */
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(2) | VIVTD_INV_DID(DID + 1), 0);    /* another domain */
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 73);
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(3) | VIVTD_CC_SID(SID), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 72);
    /* Domain-selective and global context-cache invalidations. */
    vtd_ctx_legacy(v, SID, 0, ss, 2, DID);
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 73);
    vtd_ctx_legacy(v, SID, 0, ss2, 2, DID);
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 72);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* Register-based invalidation (CCMD, IOTLB_REG) before queued invalidation is on. */
static void test_inv_registers(void)
{
    TdMachine *m = start("scalable-mode=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t ss = vtd_table(v), ss2 = vtd_table(v), la, r;

    la = vtd_map(v, ss, 4, IOVA_A, 1, td_page_tagged(m, 80), SS_RW, SS_RW);
    vtd_map(v, ss2, 4, IOVA_A, 1, td_page_tagged(m, 81), SS_RW, SS_RW);
    vtd_ctx_legacy(v, SID, 0, ss, 2, DID);
    vtd_wr64(v, VIVTD_RTADDR, v->root);
    vtd_gcmd(v, VIVTD_GCMD_SRTP, true);
    vtd_gcmd(v, VIVTD_GCMD_TE, true);
    td_assert_reads(td, IOVA_A, 80);
    qtest_writeq(m->qts, la, td_page_tagged(m, 82) | SS_RW);
    td_assert_reads(td, IOVA_A, 80);
    vtd_wr64(v, VIVTD_IVA, IOVA_A);
    vtd_wr64(v, VIVTD_IOTLB, VIVTD_IOTLB_IVT | VIVTD_IOTLB_PSI | VIVTD_IOTLB_DID(DID));
    r = vtd_rd64(v, VIVTD_IOTLB);
    g_assert_false(r & VIVTD_IOTLB_IVT);
    g_assert_cmpuint((r >> VIVTD_IOTLB_IAIG_SHIFT) & 3, ==, 3);
    td_assert_reads(td, IOVA_A, 82);
    vtd_ctx_legacy(v, SID, 0, ss2, 2, DID);
    vtd_wr64(v, VIVTD_IOTLB, VIVTD_IOTLB_IVT | VIVTD_IOTLB_GLOBAL);
    td_assert_reads(td, IOVA_A, 82);
    vtd_wr64(v, VIVTD_CCMD, VIVTD_CCMD_ICC | VIVTD_CCMD_DEVICE | ((uint64_t)SID << 16));
    r = vtd_rd64(v, VIVTD_CCMD);
    g_assert_false(r & VIVTD_CCMD_ICC);
    g_assert_cmpuint((r >> VIVTD_CCMD_CAIG_SHIFT) & 3, ==, 3);
    vtd_wr64(v, VIVTD_IOTLB, VIVTD_IOTLB_IVT | VIVTD_IOTLB_DSI | VIVTD_IOTLB_DID(DID));
    td_assert_reads(td, IOVA_A, 81);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* Queue errors: IQE with IQERCD, the queue stops at the bad descriptor. */
static void test_qi_errors(void)
{
    TdMachine *m = start(NULL);
    Vtd *v = vtd_new(m, true);
    uint64_t h;

    vtd_enable(v);
    vtd_qi_add(v, 0xf, 0);                          /* unknown type */
    vtd_qi_kick(v);
    g_assert_true(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE);
    g_assert_cmpuint(vtd_rd64(v, VIVTD_IQERCD) & 0xf, ==, VIVTD_IQEI_TYPE);
    h = vtd_rd64(v, VIVTD_IQH);
    g_assert_cmphex(h, ==, ((v->iq_tail + 127) % 128) * 32ull);   /* wide: 128 slots */
    /* Fix the descriptor, clear IQE: the queue resumes from IQH. */
    qtest_writeq(m->qts, v->iq + h, VIVTD_INV_IEC);
    vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_IQE);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), ==, vtd_rd64(v, VIVTD_IQT));
    vtd_qi_sync(v);
    /* Reserved bits and a misaligned tail. */
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(1), 1);
    vtd_qi_kick(v);
    g_assert_cmpuint(vtd_rd64(v, VIVTD_IQERCD) & 0xf, ==, VIVTD_IQEI_RSVD);
    h = vtd_rd64(v, VIVTD_IQH);
    qtest_writeq(m->qts, v->iq + h + 8, 0);
    vtd_frcd_clear_all(v);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), ==, vtd_rd64(v, VIVTD_IQT));
    g_assert_cmpuint(vtd_rd64(v, VIVTD_IQERCD) & 0xf, ==, 0);
    vtd_wr64(v, VIVTD_IQT, 16);
    g_assert_cmpuint(vtd_rd64(v, VIVTD_IQERCD) & 0xf, ==, VIVTD_IQEI_TAIL);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * Descriptors the unit rejects with IQE (reserved field, IQEI 4, or a type
 * it does not have, IQEI 3): one at a time at the queue head, each then
 * replaced by a good one.
 */
static void expect_iqe(Vtd *v, uint64_t qw0, uint64_t qw1, unsigned iqei)
{
    uint64_t h;

    vtd_qi_add(v, qw0, qw1);
    vtd_qi_kick(v);
    g_assert_true(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE);
    g_assert_cmpuint(vtd_rd64(v, VIVTD_IQERCD) & 0xf, ==, iqei);
    h = vtd_rd64(v, VIVTD_IQH);
    qtest_writeq(v->qts, v->iq + h, VIVTD_INV_IEC);
    qtest_writeq(v->qts, v->iq + h + 8, 0);
    vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_IQE);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), ==, vtd_rd64(v, VIVTD_IQT));
}

static void test_qi_reserved(gconstpointer opaque)
{
    bool dt = GPOINTER_TO_INT(opaque);
    TdMachine *m = start(dt ? NULL : "device-iotlb=off");
    Vtd *v = vtd_new(m, true);

    vtd_enable(v);
    /* PASID-based IOTLB: granularities 00b and 01b are reserved (6.5.2.4). */
    expect_iqe(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(0) | VIVTD_INV_DID(DID), 0, VIVTD_IQEI_RSVD);
    expect_iqe(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(1) | VIVTD_INV_DID(DID), 0, VIVTD_IQEI_RSVD);
    /* IEC: bits 8:5, 26:12, 63:48 and the whole second word are reserved. */
    expect_iqe(v, VIVTD_INV_IEC | (1ull << 5), 0, VIVTD_IQEI_RSVD);
    expect_iqe(v, VIVTD_INV_IEC | (1ull << 20), 0, VIVTD_IQEI_RSVD);
    expect_iqe(v, VIVTD_INV_IEC | VIVTD_IEC_G_INDEX | (1ull << 50), 0, VIVTD_IQEI_RSVD);
    expect_iqe(v, VIVTD_INV_IEC, 1, VIVTD_IQEI_RSVD);
    /* Wait: bits 31:12, a misaligned status address (PD: viommu-vtd-prq-test). */
    expect_iqe(v, VIVTD_INV_WAIT | (1ull << 13), 0, VIVTD_IQEI_RSVD);
    expect_iqe(v, VIVTD_INV_WAIT | VIVTD_WAIT_SW, v->status | 2, VIVTD_IQEI_RSVD);
    if (dt) {
        /* With ECAP.DT the device-TLB types exist and complete in order. */
        vtd_qi_add(v, VIVTD_INV_DEVTLB | ((uint64_t)SID << 32), 0xfffff000ull);
        vtd_qi_add(v, VIVTD_INV_PDEVTLB | VIVTD_INV_PASID(0) | ((uint64_t)SID << 16), 0);
        vtd_qi_sync(v);
        g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE);
    } else {
        /* Without ECAP.DT they are invalid types (6.5.2.5, 6.5.2.6). */
        expect_iqe(v, VIVTD_INV_DEVTLB | ((uint64_t)SID << 32), 0, VIVTD_IQEI_TYPE);
        expect_iqe(v, VIVTD_INV_PDEVTLB | ((uint64_t)SID << 16), 0, VIVTD_IQEI_TYPE);
    }
    vtd_qi_sync(v);
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Fault recording, overflow and the fault event
 */

static void test_fault_records(void)
{
    TdMachine *m = start("scalable-mode=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t ss = vtd_table(v);

    vtd_ctx_legacy(v, SID, 0, ss, 2, DID);
    vtd_enable(v);
    /* Fault event: vector 0x61 to APIC 0, masked at first. */
    vtd_wr32(v, VIVTD_FEDATA, 0x61);
    vtd_wr32(v, VIVTD_FEADDR, 0xfee00000);
    g_assert_cmpuint(td_dma_sum(td, 0x10000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_true(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);
    g_assert_false(vtd_lapic_irr(m->qts, 0x61));
    vtd_wr32(v, VIVTD_FECTL, 0);                      /* unmask: the pending event goes */
    g_assert_false(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);
    g_assert_true(vtd_lapic_irr(m->qts, 0x61));
    g_assert_cmpuint((vtd_rd32(v, VIVTD_FSTS) >> VIVTD_FSTS_FRI_SHIFT) & 0xff, ==, 0);

    /* Fill all records, then overflow. */
    for (int i = 1; i < VIVTD_NUM_FRCD + 3; i++) {
        g_assert_cmpuint(td_dma_sum(td, 0x10000 + i * 0x1000ull, &(uint64_t){0}), ==,
                         TD_ERR_READ_FAULT);
    }
    for (int i = 0; i < VIVTD_NUM_FRCD; i++) {
        g_assert_true(vtd_frcd_hi(v, i) & VIVTD_FRCD_F);
        g_assert_cmphex(VIVTD_FRCD_FR(vtd_frcd_hi(v, i)), ==, 0x06);
        g_assert_cmphex(vtd_frcd_lo(v, i), ==, 0x10000 + i * 0x1000ull);
    }
    g_assert_true(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PFO);
    g_assert_true(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    /* Software frees one record; PFO still set: nothing more is logged. */
    vtd_wr32(v, VIVTD_FRCD(0) + 12, 1u << 31);
    g_assert_cmpuint(td_dma_sum(td, 0x90000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_false(vtd_frcd_hi(v, 0) & VIVTD_FRCD_F);
    /* PFO cleared: the next fault lands in the next record of the ring. */
    vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_PFO);
    g_assert_cmpuint(td_dma_sum(td, 0x91000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_true(vtd_frcd_hi(v, 0) & VIVTD_FRCD_F);
    g_assert_cmphex(vtd_frcd_lo(v, 0), ==, 0x91000);
    vtd_frcd_clear_all(v);
    g_assert_cmphex(vtd_rd32(v, VIVTD_FSTS) & (VIVTD_FSTS_PPF | VIVTD_FSTS_PFO), ==, 0);
    /* After service, the next fault raises a new event. */
    vtd_wr32(v, VIVTD_FEDATA, 0x62);
    g_assert_cmpuint(td_dma_sum(td, 0x92000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_true(vtd_lapic_irr(m->qts, 0x62));
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * FECTL.IP follows the fault conditions: a masked event leaves IP set until
 * software services every condition (F bits and FSTS.PFO / IQE), then it
 * clears and unmasking sends nothing (7.3.1).
 */
static void test_fault_event_ip(void)
{
    TdMachine *m = start("scalable-mode=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);

    vtd_ctx_legacy(v, SID, 0, vtd_table(v), 2, DID);
    vtd_enable(v);
    vtd_wr32(v, VIVTD_FEDATA, 0x63);
    vtd_wr32(v, VIVTD_FEADDR, 0xfee00000);
    g_assert_cmpuint(td_dma_sum(td, 0x10000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_true(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);
    vtd_wr32(v, VIVTD_FRCD(0) + 12, 1u << 31);        /* the only condition: serviced */
    g_assert_false(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);
    vtd_wr32(v, VIVTD_FECTL, 0);
    g_assert_false(vtd_lapic_irr(m->qts, 0x63));
    /* An invalidation queue error with a fault record: IP stays until both go. */
    vtd_wr32(v, VIVTD_FECTL, VIVTD_CTL_IM);
    g_assert_cmpuint(td_dma_sum(td, 0x11000, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    vtd_qi_add(v, 0xf, 0);
    vtd_qi_kick(v);
    g_assert_true(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);
    qtest_writeq(m->qts, v->iq + vtd_rd64(v, VIVTD_IQH), VIVTD_INV_IEC);
    vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_IQE);
    g_assert_true(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);   /* F still set */
    vtd_frcd_clear_all(v);
    g_assert_false(vtd_rd32(v, VIVTD_FECTL) & VIVTD_CTL_IP);
    vtd_wr32(v, VIVTD_FECTL, 0);
    g_assert_false(vtd_lapic_irr(m->qts, 0x63));
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * Fault reasons of the root table FSPTPTR names (SFS.4-6), pass-through
 * beyond HAW, and FSPTPTR bits 63:52.
 */
static void set_pe_and_flush(Vtd *v, uint64_t dir, const uint64_t pe[8])
{
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(3), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
}

static void test_fault_reasons_fsptptr(void)
{
    NestEnv e;
    uint64_t s2, saved, pe[8], fs;

    nest_setup(&e);
    td_assert_reads(e.td, IOVA_A, 31);
    /* Nested: the second stage refuses reading the FS root table: 0x75. */
    s2 = vtd_entry(e.v, e.ss, 4, e.fs_tables[4] + GPA_OFF, 1);
    saved = qtest_readq(e.m->qts, s2);
    qtest_writeq(e.m->qts, s2, saved & ~SS_R);
    nest_flush(&e);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x75);
    qtest_writeq(e.m->qts, s2, saved);
    /* ... a lower table: 0x76. */
    s2 = vtd_entry(e.v, e.ss, 4, e.fs_tables[3] + GPA_OFF, 1);
    saved = qtest_readq(e.m->qts, s2);
    qtest_writeq(e.m->qts, s2, saved & ~SS_R);
    nest_flush(&e);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x76);
    qtest_writeq(e.m->qts, s2, saved);
    /* Nested FSPTPTR beyond the second stage's AW (39 bits), below HAW: 0x74. */
    vtd_pe_nested(pe, 1ull << 40, e.ss, 1, DID);
    set_pe_and_flush(e.v, e.dir, pe);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x74);
    /* FSPTPTR bits 63:52 are reserved, nested (a GPA) or not: 0x5a. */
    vtd_pe_nested(pe, (e.fs + GPA_OFF) | (1ull << 55), e.ss, 2, DID);
    set_pe_and_flush(e.v, e.dir, pe);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x5a);
    /* First stage only: the root table is not RAM: 0x73; a lower table: 0x70. */
    vtd_pe_fs(pe, 0x200000000ull, false, DID, false);
    set_pe_and_flush(e.v, e.dir, pe);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x73);
    fs = vtd_table(e.v);
    qtest_writeq(e.m->qts, fs + ((IOVA_A >> 39) & 511) * 8, 0x200000000ull | FS_PRW);
    vtd_pe_fs(pe, fs, false, DID, false);
    set_pe_and_flush(e.v, e.dir, pe);
    g_assert_cmpuint(td_dma_sum(e.td, IOVA_A, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x70);
    /* Pass-through: an output (= input) beyond HAW (48 bits): 0x84. */
    vtd_pe_pt(pe, DID);
    set_pe_and_flush(e.v, e.dir, pe);
    td_assert_reads(e.td, e.out, 31);
    g_assert_cmpuint(td_dma_sum(e.td, 1ull << 50, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(e.v, NULL, NULL), ==, 0x84);
    td_close(e.td);
    vtd_free(e.v);
    td_machine_stop(e.m);
}

/* ------------------------------------------------------------------------
 * Interrupt remapping of the test device's MSI-X
 */

static void msi_fire(Td *td, uint32_t addr, uint32_t data)
{
    uint64_t buf = td_alloc(td->m, 4096);

    td_msix_setup(td, 0, addr, data);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 0);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, buf, 4), ==, TD_ERR_NONE);
    td_writel(td, TD_IRQ, 0);
}

static void test_interrupt_remapping(void)
{
    TdMachine *m = start("scalable-mode=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, false);
    uint64_t hi, lo;

    vtd_ctx_legacy(v, SID, 2, 0, 2, DID);           /* DMA pass-through */
    vtd_enable(v);
    vtd_enable_ir(v, 7, false);                     /* 256 entries */
    vtd_irte(v, 3, 0x55, 0, SID, 1, true);          /* SID verified, all bits */
    vtd_irte(v, 10, 0x56, 0, SID, 0, true);
    vtd_irte(v, 4, 0x57, 0, SID, 1, false);         /* not present */
    vtd_irte(v, 5, 0x5a, 0, 0x0030, 1, true);       /* someone else's */
    vtd_irte(v, 6, 0x5b, 0, 0x0028, 2, true);       /* SVT 2: bus 0..0x28 */
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);

    msi_fire(td, VIVTD_MSI_REMAP_ADDR(3, 0), 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x55));
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(8, 1), 2);      /* handle 8 + subhandle 2 */
    g_assert_true(vtd_lapic_irr(m->qts, 0x56));
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(6, 0), 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x5b));
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);

    /* Bad requests: each blocked with its fault, nothing delivered. */
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(4, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, &hi, &lo), ==, VIVTD_FR_IR_NOT_PRESENT);
    g_assert_cmphex(lo >> 48, ==, 4);
    g_assert_cmphex(hi & 0xffff, ==, SID);
    g_assert_false(vtd_lapic_irr(m->qts, 0x57));
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(5, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_SID);
    g_assert_false(vtd_lapic_irr(m->qts, 0x5a));
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(300, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_INDEX);
    /* Compatibility format: blocked, then allowed with CFI. */
    msi_fire(td, 0xfee00000, 0x58);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_COMPAT);
    g_assert_false(vtd_lapic_irr(m->qts, 0x58));
    vtd_gcmd(v, VIVTD_GCMD_CFI, true);
    msi_fire(td, 0xfee00000, 0x58);
    g_assert_true(vtd_lapic_irr(m->qts, 0x58));
    /*
     * An IRTE changed: the interrupt entry cache holds the old one until an
     * IEC invalidation covers its index (4 or 12-15 do not; index 0
     * with mask 2 covers 0-3); a global one covers everything.
     */
    vtd_irte(v, 3, 0x59, 0, SID, 1, true);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(3, 0), 0);
    g_assert_false(vtd_lapic_irr(m->qts, 0x59));
    vtd_qi_add(v, VIVTD_INV_IEC | VIVTD_IEC_G_INDEX | VIVTD_IEC_IDX(4), 0);
    vtd_qi_add(v, VIVTD_INV_IEC | VIVTD_IEC_G_INDEX | VIVTD_IEC_IDX(12) | VIVTD_IEC_IM(2), 0);
    vtd_qi_sync(v);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(3, 0), 0);
    g_assert_false(vtd_lapic_irr(m->qts, 0x59));
    vtd_qi_add(v, VIVTD_INV_IEC | VIVTD_IEC_G_INDEX | VIVTD_IEC_IDX(0) | VIVTD_IEC_IM(2), 0);
    vtd_qi_sync(v);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(3, 0), 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x59));
    vtd_irte(v, 3, 0x5c, 0, SID, 1, true);
    vtd_irte(v, 10, 0x5d, 0, SID, 0, true);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(10, 0), 0);
    g_assert_false(vtd_lapic_irr(m->qts, 0x5d));
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(3, 0), 0);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(10, 0), 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x5c));
    g_assert_true(vtd_lapic_irr(m->qts, 0x5d));
    /* A reserved bit in the IRTE (seen after the invalidation). */
    qtest_writeq(m->qts, v->irt + 3 * 16, qtest_readq(m->qts, v->irt + 3 * 16) | (1ull << 13));
    vtd_qi_add(v, VIVTD_INV_IEC | VIVTD_IEC_G_INDEX | VIVTD_IEC_IDX(3), 0);
    vtd_qi_sync(v);
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(3, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_IRTE_RSVD);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/* The IOAPIC's interrupts: remapped with source-id ff:00.0 (its DMAR scope). */
static void ioapic_rte(QTestState *qts, int pin, uint64_t rte)
{
    qtest_writel(qts, 0xfec00000, 0x10 + 2 * pin + 1);
    qtest_writel(qts, 0xfec00010, rte >> 32);
    qtest_writel(qts, 0xfec00000, 0x10 + 2 * pin);
    qtest_writel(qts, 0xfec00010, (uint32_t)rte);
}

static void test_ir_ioapic(void)
{
    TdMachine *m = start("scalable-mode=off");
    Vtd *v = vtd_new(m, false);
    /* Remappable RTE: bit 48 format, bits 63:49 handle[14:0], bit 11 handle[15]. */
    const uint64_t rte = (1ull << 48) | (12ull << 49);

    vtd_enable(v);
    vtd_enable_ir(v, 7, false);
    vtd_irte(v, 12, 0x6a, 0, 0xff00, 1, true);
    ioapic_rte(m->qts, 5, rte);
    qtest_set_irq_in(m->qts, "/machine/q35/ioapic", NULL, 5, 1);
    qtest_set_irq_in(m->qts, "/machine/q35/ioapic", NULL, 5, 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x6a));
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    /* An IRTE that names another source: blocked, source-id ff00 recorded. */
    vtd_irte(v, 12, 0x6b, 0, 0x0020, 1, true);
    vtd_qi_add(v, VIVTD_INV_IEC | VIVTD_IEC_G_INDEX | VIVTD_IEC_IDX(12), 0);
    vtd_qi_sync(v);
    qtest_set_irq_in(m->qts, "/machine/q35/ioapic", NULL, 5, 1);
    qtest_set_irq_in(m->qts, "/machine/q35/ioapic", NULL, 5, 0);
    g_assert_false(vtd_lapic_irr(m->qts, 0x6b));
    {
        uint64_t hi;

        g_assert_cmphex(vtd_take_fault(v, &hi, NULL), ==, VIVTD_FR_IR_SID);
        g_assert_cmphex(hi & 0xffff, ==, 0xff00);
    }
    vtd_free(v);
    td_machine_stop(m);
}

static void test_ir_route_fixup(void)
{
    TdMachine *m = start("scalable-mode=off,id=iommu");
    Vtd *v = vtd_new(m, false);
    Td *td = td_open(m, TD_DEVFN);
    char *r;

    vtd_ctx_legacy(v, SID, 2, 0, 2, DID);           /* DMA pass-through */
    vtd_enable(v);
    vtd_enable_ir(v, 7, false);
    vtd_irte(v, 12, 0x6a, 3, 0xff00, 1, true);       /* the IOAPIC's, destination 3 */
    vtd_irte(v, 13, 0x6b, 0, 0x0020, 1, true);       /* 00:04.0's */
    vtd_irte(v, 14, 0x6c, 0, 0xff00, 1, false);      /* not present */
    /* The IOAPIC's route: no source-id, translated (0x26 before the fix). */
    r = vtd_int_remap_fixup(m->qts, VIVTD_MSI_REMAP_ADDR(12, 0), 0, 0xffff);
    g_assert_cmpstr(r, ==, "0 0xfee03000 0x406a");
    g_free(r);
    r = vtd_int_remap_fixup(m->qts, VIVTD_MSI_REMAP_ADDR(13, 0), 0, 0xffff);
    g_assert_cmpstr(r, ==, "0 0xfee00000 0x406b");
    g_free(r);
    /* A device's route is still verified, and refused quietly. */
    r = vtd_int_remap_fixup(m->qts, VIVTD_MSI_REMAP_ADDR(12, 0), 0, 0x0020);
    g_assert_cmpint(atoi(r), !=, 0);
    g_free(r);
    r = vtd_int_remap_fixup(m->qts, VIVTD_MSI_REMAP_ADDR(14, 0), 0, 0xffff);
    g_assert_cmpint(atoi(r), !=, 0);
    g_free(r);
    r = vtd_int_remap_fixup(m->qts, 0xfee00000, 0x30, 0xffff);     /* compatibility format */
    g_assert_cmpint(atoi(r), !=, 0);
    g_free(r);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & (VIVTD_FSTS_PPF | VIVTD_FSTS_PFO));
    g_assert_false(vtd_frcd_hi(v, 0) >> 63);
    /* The same IRTE still verifies a real request from 00:04.0 and records it. */
    msi_fire(td, VIVTD_MSI_REMAP_ADDR(12, 0), 0);
    g_assert_cmphex(vtd_take_fault(v, NULL, NULL), ==, VIVTD_FR_IR_SID);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * The same under KVM's split irqchip where the machine has KVM: the
 * IOAPIC's redirection entry becomes a KVM route through
 * kvm_arch_fixup_msi_route(), and its interrupt reaches the in-kernel local
 * APIC (vCPUs stopped: -S).
 */
static void test_ir_ioapic_kvm(void)
{
    TdMachine *m;
    Vtd *v;

    if (access("/dev/kvm", R_OK | W_OK) || !qtest_has_accel("kvm")) {
        g_test_skip("no KVM in this QEMU build or on this machine");
        return;
    }
    m = td_machine_start("kernel-irqchip=split", "-accel kvm -S -device viommu-vtd,scalable-mode=off");
    v = vtd_new(m, false);
    vtd_enable(v);
    vtd_enable_ir(v, 7, false);
    vtd_irte(v, 12, 0x6a, 0, 0xff00, 1, true);
    ioapic_rte(m->qts, 5, (1ull << 48) | (12ull << 49));
    qtest_set_irq_in(m->qts, "/machine/q35/ioapic", NULL, 5, 1);
    qtest_set_irq_in(m->qts, "/machine/q35/ioapic", NULL, 5, 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x6a));
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    vtd_free(v);
    td_machine_stop(m);
}

/* Invalidation-wait with the interrupt flag: ICS.IWC and the completion event. */
static void test_inv_wait_interrupt(void)
{
    TdMachine *m = start(NULL);
    Vtd *v = vtd_new(m, true);

    vtd_enable(v);
    vtd_wr32(v, VIVTD_IEDATA, 0x6c);
    vtd_wr32(v, VIVTD_IEADDR, 0xfee00000);
    vtd_qi_add(v, VIVTD_INV_WAIT | VIVTD_WAIT_IF, 0);
    vtd_qi_sync(v);
    g_assert_true(vtd_rd32(v, VIVTD_ICS) & VIVTD_ICS_IWC);
    g_assert_true(vtd_rd32(v, VIVTD_IECTL) & VIVTD_CTL_IP);     /* masked at reset */
    g_assert_false(vtd_lapic_irr(m->qts, 0x6c));
    vtd_wr32(v, VIVTD_IECTL, 0);
    g_assert_true(vtd_lapic_irr(m->qts, 0x6c));
    g_assert_false(vtd_rd32(v, VIVTD_IECTL) & VIVTD_CTL_IP);
    vtd_wr32(v, VIVTD_ICS, VIVTD_ICS_IWC);
    g_assert_false(vtd_rd32(v, VIVTD_ICS) & VIVTD_ICS_IWC);
    vtd_wr32(v, VIVTD_IEDATA, 0x6d);
    vtd_qi_add(v, VIVTD_INV_WAIT | VIVTD_WAIT_IF, 0);
    vtd_qi_sync(v);
    g_assert_true(vtd_lapic_irr(m->qts, 0x6d));
    vtd_free(v);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Migration
 */

static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-vtd-mig-%d", g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-device viommu-vtd " TD_ARGS " -incoming %s",
                                                uri);
    TdMachine *m = start(NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t fs = vtd_table(v), dir, pe[8], regs[6];
    static const uint32_t offs[6] = { VIVTD_RTADDR, VIVTD_IQA, VIVTD_IQH, VIVTD_IRTA, VIVTD_FRCD(0) + 8,
                                      VIVTD_FRCD(0) };

    vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 90), FS_PRW, FS_PRW);
    dir = vtd_ctx_sm(v, SID, 0, 0, 0);
    vtd_pe_fs(pe, fs, false, DID, false);
    vtd_pasid_entry(v, dir, 0, pe);
    vtd_enable(v);
    vtd_enable_ir(v, 7, false);
    td_assert_reads(td, IOVA_A, 90);
    g_assert_cmpuint(td_dma_sum(td, IOVA_B, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    for (int i = 0; i < 6; i++) {
        regs[i] = vtd_rd64(v, offs[i]);
    }
    g_assert_true(regs[4] & VIVTD_FRCD_F);
    qtest_qmp_assert_success(m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(m->qts);
    td_close(td);
    td_machine_stop(m);

    m = td_machine_start("kernel-irqchip=split", incoming);
    td_wait_migration(m->qts);
    td = td_open(m, TD_DEVFN);
    v->m = m;
    v->qts = m->qts;
    for (int i = 0; i < 6; i++) {
        g_assert_cmphex(vtd_rd64(v, offs[i]), ==, regs[i]);
    }
    g_assert_cmphex(vtd_rd32(v, VIVTD_GSTS) & (VIVTD_GCMD_TE | VIVTD_GCMD_QIE | VIVTD_GCMD_IRE), ==,
                    VIVTD_GCMD_TE | VIVTD_GCMD_QIE | VIVTD_GCMD_IRE);
    /* Translation works from the (empty) caches; the queue goes on. */
    td_assert_reads(td, IOVA_A, 90);
    vtd_frcd_clear_all(v);
    vtd_qi_add(v, VIVTD_INV_PIOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(DID), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 90);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
    unlink(file);
}

/* ------------------------------------------------------------------------
 * Concurrency: DMA from an I/O thread (virtio-blk with iothread=, so the
 * IOMMU translates outside the BQL) while the guest side invalidates and
 * switches page tables in a loop on the main thread.
 */
#define BLK_DEVFN       0x28
#define BLK_SECTORS     2048                /* 1 MiB image */
#define RAM_MAP         (256ull << 20)

static uint32_t blk_word(uint64_t off)
{
    return (uint32_t)(off * 2654435761u) ^ 0x5a5a5a5a;
}

/*
 * Four second-stage tables: identity over RAM (2 MiB pages) for the rings
 * and the request header, and the data buffer's IOVA BLK_IOVA mapped to
 * buf[t] in tables ss[t][0] and ss[t][1] (the same translation, other table
 * pages).  Each request is aimed at buf[t] by switching the context entry
 * to ss[t][0] while the device is idle (context-cache and IOTLB
 * invalidation); while it is in flight the context flips between ss[t][0]
 * and ss[t][1] with more invalidations.  The data must land in buf[t] and
 * buf[1 - t] stay untouched: a context entry or an IOTLB entry surviving
 * its invalidation would send it to the other buffer.
 */
#define BLK_IOVA        0x40000000ull       /* above RAM: only the 4 KiB leaf maps it */
#define BLK_POISON      0xee

static void test_concurrent_iothread(void)
{
    g_autofree char *img = g_strdup_printf("%s/viommu-vtd-blk-%d", g_get_tmp_dir(), getpid());
    g_autofree char *args = NULL, *cmdline = NULL;
    g_autofree uint32_t *data = g_new(uint32_t, BLK_SECTORS * 128);
    g_autofree uint8_t *poison = g_malloc(4096);
    TdMachine *m;
    Vtd *v;
    QVirtioPCIDevice *vp;
    QVirtQueue *vq;
    uint64_t ss[2][2], buf[2], req, features;
    GRand *r = g_rand_new_with_seed(77);
    unsigned invalidations = 0, flips = 0;

    for (uint64_t i = 0; i < BLK_SECTORS * 128; i++) {
        data[i] = cpu_to_le32(blk_word(i * 4));
    }
    memset(poison, BLK_POISON, 4096);
    g_assert_true(g_file_set_contents(img, (char *)data, BLK_SECTORS * 512, NULL));
    args = g_strdup_printf("-object iothread,id=io0 -drive if=none,id=d0,format=raw,"
                           "file=%s -device virtio-blk-pci,drive=d0,iothread=io0,"
                           "iommu_platform=on,disable-legacy=on,addr=05.0", img);
    cmdline = g_strdup_printf("-device viommu-vtd,scalable-mode=off %s", args);
    m = td_machine_start("kernel-irqchip=split", cmdline);
    v = vtd_new(m, false);
    for (int t = 0; t < 2; t++) {
        buf[t] = td_alloc(m, 4096);
        for (int k = 0; k < 2; k++) {
            ss[t][k] = vtd_table(v);
            for (uint64_t a = 0; a < RAM_MAP; a += 2 << 20) {
                vtd_map(v, ss[t][k], 3, a, 2, a, SS_RW | SS_PS, SS_RW);
            }
            vtd_map(v, ss[t][k], 3, BLK_IOVA, 1, buf[t], SS_RW, SS_RW);
        }
    }
    vtd_ctx_legacy(v, BLK_DEVFN, 0, ss[0][0], 1, DID);
    vtd_enable(v);

    vp = virtio_pci_new(m->bus, &(QPCIAddress) { .devfn = BLK_DEVFN });
    g_assert_nonnull(vp);
    qvirtio_pci_device_enable(vp);
    qvirtio_start_device(&vp->vdev);
    features = qvirtio_get_features(&vp->vdev);
    g_assert_true(features & (1ull << VIRTIO_F_ACCESS_PLATFORM));
    features &= (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_ACCESS_PLATFORM);
    qvirtio_set_features(&vp->vdev, features);
    vq = qvirtqueue_setup(&vp->vdev, &m->alloc, 0);
    qvirtio_set_driver_ok(&vp->vdev);
    req = td_alloc(m, 4096);

    for (int n = 0; n < 64; n++) {
        uint64_t sector = g_rand_int_range(r, 0, BLK_SECTORS - 8);
        int t = g_rand_int_range(r, 0, 2);
        uint32_t head, idx;
        bool done = false;
        g_autofree uint8_t *got = g_malloc(4096);

        /* Idle: aim the device at buf[t]; after the wait nothing uses the old tables. */
        vtd_ctx_legacy(v, BLK_DEVFN, 0, ss[t][0], 1, DID);
        vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(3) | VIVTD_CC_SID(BLK_DEVFN), 0);
        vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(g_rand_int_range(r, 1, 4)) |
                   VIVTD_INV_DID(DID), BLK_IOVA);
        vtd_qi_sync(v);
        qtest_memwrite(m->qts, buf[0], poison, 4096);
        qtest_memwrite(m->qts, buf[1], poison, 4096);

        qtest_writel(m->qts, req, VIRTIO_BLK_T_IN);
        qtest_writel(m->qts, req + 4, 0);
        qtest_writeq(m->qts, req + 8, sector);
        qtest_writeb(m->qts, req + 64, 0xff);
        head = qvirtqueue_add(m->qts, vq, req, 16, false, true);
        qvirtqueue_add(m->qts, vq, BLK_IOVA, 4096, true, true);
        qvirtqueue_add(m->qts, vq, req + 64, 1, true, false);
        qvirtqueue_kick(m->qts, &vp->vdev, vq, head);
        /* While the I/O thread works: flip between equivalent tables, invalidate. */
        for (int spin = 0; spin < 20000 && !done; spin++) {
            if (spin & 1) {
                vtd_ctx_legacy(v, BLK_DEVFN, 0, ss[t][g_rand_int_range(r, 0, 2)], 1, DID);
                vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(3) | VIVTD_CC_SID(BLK_DEVFN), 0);
                flips++;
            }
            vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(g_rand_int_range(r, 1, 4)) |
                       VIVTD_INV_DID(DID), BLK_IOVA);
            vtd_qi_sync(v);
            invalidations++;
            done = qvirtqueue_get_buf(m->qts, vq, &idx, NULL);
        }
        g_assert_true(done);
        g_assert_cmpuint(idx, ==, head);
        g_assert_cmpuint(qtest_readb(m->qts, req + 64), ==, VIRTIO_BLK_S_OK);
        qtest_memread(m->qts, buf[t], got, 4096);
        g_assert_cmpmem(got, 4096, data + sector * 128, 4096);
        qtest_memread(m->qts, buf[1 - t], got, 4096);
        g_assert_cmpmem(got, 4096, poison, 4096);
    }
    g_assert_cmpuint(invalidations, >=, 64);
    g_test_message("%u invalidations, %u table flips in flight", invalidations, flips);
    /* No fault was ever recorded: no stale or torn translation was seen. */
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & (VIVTD_FSTS_PPF | VIVTD_FSTS_IQE));
    qvirtqueue_cleanup(vp->vdev.bus, vq, &m->alloc);
    qvirtio_pci_device_disable(vp);
    g_free(vp);
    g_rand_free(r);
    vtd_free(v);
    td_machine_stop(m);
    unlink(img);
}

/* ------------------------------------------------------------------------
 * Hostile input: random structures, descriptors, registers, test-device
 * registers and PCIe capabilities, and device DMA into the remapping unit's
 * own registers and the interrupt window; scalable and legacy mode.
 */

/*
 * VIOMMU_HOSTILE_SEED, VIOMMU_HOSTILE_COUNT: seed and count for long soaks
 * (VIOMMU_HOSTILE_PROPS: the unit's properties).
 */
static uint32_t hostile_env(const char *name, uint32_t dflt)
{
    const char *s = getenv(name);

    return s && *s ? (uint32_t)strtoul(s, NULL, 0) : dflt;
}

/*
 * After the storm, a driver that starts over (as Linux does after kexec:
 * everything off, faults cleared, new tables, the enable sequence) gets a
 * working unit: translation, its faults and interrupt remapping as on a
 * fresh one, whatever the caches held before.
 */
static void hostile_recover(TdMachine *m, Td *td, bool legacy)
{
    Vtd *v = vtd_new(m, !legacy);
    uint64_t t = vtd_table(v), dir, pe[8], hi, lo;
    uint64_t a = td_page_tagged(m, 97), b = td_alloc(m, 4096);
    unsigned vec = 0xef;

    td_writel(td, TD_CMD, TD_CMD_RESET);
    td_writel(td, TD_DELAY_NS, 0);
    td_writel(td, TD_PASID, 0);
    td_writel(td, TD_IRQ, 0);
    vtd_wr32(v, VIVTD_GCMD, 0);
    g_assert_cmphex(vtd_rd32(v, VIVTD_GSTS) & (VIVTD_GCMD_TE | VIVTD_GCMD_QIE | VIVTD_GCMD_IRE),
                    ==, 0);
    vtd_wr32(v, VIVTD_PMEN, 0);
    vtd_wr32(v, VIVTD_FECTL, VIVTD_CTL_IM);
    vtd_wr32(v, VIVTD_IECTL, VIVTD_CTL_IM);
    vtd_frcd_clear_all(v);
    g_assert_cmphex(vtd_rd32(v, VIVTD_FSTS), ==, 0);

    /* The same IOVAs as during the storm, now to other pages. */
    if (legacy) {
        vtd_map(v, t, 3, IOVA_A, 1, a, SS_RW, SS_RW);
        vtd_map(v, t, 3, IOVA_B, 1, b, SS_RW, SS_RW);
        vtd_ctx_legacy(v, SID, 0, t, 1, DID + 1);
    } else {
        vtd_map(v, t, 4, IOVA_A, 1, a, FS_PRW, FS_PRW);
        vtd_map(v, t, 4, IOVA_B, 1, b, FS_PRW, FS_PRW);
        dir = vtd_ctx_sm(v, SID, 0, 0, 0);
        vtd_pe_fs(pe, t, false, DID + 1, false);
        vtd_pasid_entry(v, dir, 0, pe);
    }
    vtd_enable(v);
    vtd_enable_ir(v, 3, false);
    td_assert_reads(td, IOVA_A, 97);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, IOVA_A, IOVA_B + 8, 16), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, b + 8), ==, 97 * 0x10001u);
    g_assert_cmpuint(td_dma_sum(td, IOVA_C, &(uint64_t){0}), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(vtd_take_fault(v, &hi, &lo), ==, legacy ? 0x06 : 0x71);
    g_assert_cmphex(hi & 0xffff, ==, SID);
    g_assert_cmphex(lo, ==, IOVA_C);
    /* Interrupt remapping: the completion MSI through IRTE 1, to a vector not yet pending. */
    while (vec > 0x30 && vtd_lapic_irr(m->qts, vec)) {
        vec--;
    }
    vtd_irte(v, 1, vec, 0, SID, 1, true);
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);
    td_msix_setup(td, 0, VIVTD_MSI_REMAP_ADDR(1, 0), 0);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 0);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, IOVA_B, 4), ==, TD_ERR_NONE);
    td_writel(td, TD_IRQ, 0);
    g_assert_true(vtd_lapic_irr(m->qts, vec));
    /* ... and an invalidation still takes effect. */
    qtest_writeq(m->qts, vtd_entry(v, t, legacy ? 3 : 4, IOVA_A, 1),
                 td_page_tagged(m, 96) | (legacy ? SS_RW : FS_PRW));
    vtd_qi_add(v, (legacy ? VIVTD_INV_IOTLB : VIVTD_INV_PIOTLB) | VIVTD_INV_G(2) |
               VIVTD_INV_DID(DID + 1), 0);
    vtd_qi_sync(v);
    td_assert_reads(td, IOVA_A, 96);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & (VIVTD_FSTS_PPF | VIVTD_FSTS_IQE | VIVTD_FSTS_PFO));
    vtd_free(v);
}

/* data: 0 scalable mode, first stage; 1 legacy mode, second stage. */
static void test_hostile(gconstpointer data)
{
    bool legacy = GPOINTER_TO_INT(data);
    uint32_t seed = hostile_env("VIOMMU_HOSTILE_SEED", legacy ? 0x1e6ac : 0x7d7d);
    uint32_t count = hostile_env("VIOMMU_HOSTILE_COUNT", legacy ? 1500 : 3000);
    const char *props = getenv("VIOMMU_HOSTILE_PROPS");    /* the unit's properties */
    TdMachine *m = start(props && *props ? props : NULL);
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, !legacy);
    GRand *r = g_rand_new_with_seed(seed);
    uint64_t pages[8], fs = vtd_table(v), dir, pe[8];

    for (int i = 0; i < 8; i++) {
        pages[i] = vtd_table(v);
    }
    /* IOVA_B: the device can write the remapping unit's own registers. */
    if (legacy) {
        vtd_map(v, fs, 3, IOVA_A, 1, td_page_tagged(m, 99), SS_RW, SS_RW);
        vtd_map(v, fs, 3, IOVA_B, 1, VIVTD_MMIO_BASE, SS_RW, SS_RW);
        vtd_ctx_legacy(v, SID, 0, fs, 1, DID);
    } else {
        vtd_map(v, fs, 4, IOVA_A, 1, td_page_tagged(m, 99), FS_PRW, FS_PRW);
        vtd_map(v, fs, 4, IOVA_B, 1, VIVTD_MMIO_BASE, FS_PRW, FS_PRW);
        dir = vtd_ctx_sm(v, SID, 0, 0, 0);
        vtd_pe_fs(pe, fs, false, DID, false);
        vtd_pasid_entry(v, dir, 0, pe);
    }
    vtd_enable(v);
    vtd_enable_ir(v, 3, false);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    td_msix_setup(td, 0, VIVTD_MSI_REMAP_ADDR(1, 0), 0);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE);

    g_test_message("hostile seed 0x%x count %u props %s", seed, count,
                   props && *props ? props : "(default)");
    for (uint32_t i = 0; i < count; i++) {
        uint64_t val = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
        unsigned what = g_rand_int_range(r, 0, 11);

        /* Entries mostly point at our pages, so the walks go somewhere. */
        if (g_rand_boolean(r)) {
            val = (val & 0xfff) | pages[g_rand_int_range(r, 0, 8)] |
                  (g_rand_int_range(r, 0, 4) == 0 ? val & (0xfffull << 52) : 0);
        }
        switch (what) {
        case 0:     /* root entries */
            qtest_writeq(m->qts, v->root + g_rand_int_range(r, 0, 512) * 8, val);
            break;
        case 1:     /* our context / PASID directory / PASID table / FS tables */
        case 2:
            qtest_writeq(m->qts, pages[g_rand_int_range(r, 0, 8)] +
                         g_rand_int_range(r, 0, 512) * 8, val);
            break;
        case 3:
            qtest_writeq(m->qts, (qtest_readq(m->qts, v->root) & 0xfffff000) +
                         g_rand_int_range(r, 0, 512) * 8, val);
            break;
        case 4:     /* descriptors, then a tail write */
            vtd_qi_add(v, val, ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r));
            if (g_rand_boolean(r)) {
                vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_IQE);
            }
            vtd_qi_kick(v);
            break;
        case 5: {   /* registers, any offset */
            uint32_t off = g_rand_int_range(r, 0, VIVTD_MMIO_SIZE / 4) * 4;

            /* Mostly keep the event messages sane; now and then anything. */
            if ((off == VIVTD_FEADDR || off == VIVTD_IEADDR || off == VIVTD_FEUADDR ||
                 off == VIVTD_IEUADDR || off == VIVTD_FEDATA || off == VIVTD_IEDATA) &&
                g_rand_int_range(r, 0, 4)) {
                break;
            }
            vtd_wr32(v, off, val);
            break;
        }
        case 6:     /* IRTEs */
            qtest_writeq(m->qts, v->irt + g_rand_int_range(r, 0, 32) * 8, val);
            break;
        case 7:     /* test device registers and PASID/PRI/ATS capabilities */
            if (g_rand_boolean(r)) {
                td_writel(td, g_rand_int_range(r, 0, 0x80 / 4) * 4, val);
            } else {
                td_cfg_writel(td, TD_CFG_ATS + g_rand_int_range(r, 0, 0x30 / 4) * 4, val);
            }
            td_writel(td, TD_CMD, TD_CMD_RESET);
            td_writel(td, TD_DELAY_NS, 0);
            td_writel(td, TD_IRQ, TD_IRQ_ENABLE);
            td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
            break;
        default: {  /* DMA, with or without a PASID, from anywhere */
            uint64_t a = g_rand_boolean(r) ? IOVA_A : val;
            uint32_t err;

            td_writel(td, TD_PASID, g_rand_boolean(r) ? 0 :
                      TD_PASID_VALID | g_rand_int_range(r, 0, 1 << 20));
            if (g_rand_int_range(r, 0, 4)) {
                err = td_do(td, g_rand_boolean(r) ? TD_OP_CHECKSUM : TD_OP_FILL, a, a, 64);
            } else {
                td_writel(td, TD_PATTERN, val >> 32);
                /* ... or random interrupt requests to 0xfeex_xxxx */
                err = td_do(td, TD_OP_FILL, 0, g_rand_boolean(r) ? IOVA_B + (val & 0xffc) :
                            0xfee00000ull + (val & 0xffffc), g_rand_int_range(r, 1, 17) * 4);
            }
            g_assert_true(err == TD_ERR_NONE || err == TD_ERR_READ_FAULT ||
                          err == TD_ERR_WRITE_FAULT || err == TD_ERR_ADDR_WRAP ||
                          err == TD_ERR_PASID_DISABLED || err == TD_ERR_NO_PASID_PATH);
            break;
        }
        }
    }
    /* Still alive and still a VT-d. */
    g_assert_cmphex(vtd_rd32(v, VIVTD_VER), ==, VIVTD_VER_VALUE);
    g_rand_free(r);
    hostile_recover(m, td, legacy);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (strcmp(qtest_get_arch(), "x86_64")) {
        return g_test_run();        /* viommu-vtd is a q35 device */
    }
    g_assert_true(qtest_has_device("viommu-vtd"));
    qtest_add_func("/viommu-vtd/caps", test_caps);
    qtest_add_func("/viommu-vtd/bad-properties", test_bad_properties);
    qtest_add_func("/viommu-vtd/reset", test_reset);
    qtest_add_func("/viommu-vtd/acpi-dmar", test_dmar);
    qtest_add_func("/viommu-vtd/legacy/second-stage", test_legacy_ss);
    qtest_add_func("/viommu-vtd/legacy/pass-through-and-config-faults",
                   test_legacy_pt_and_cfg_faults);
    qtest_add_data_func("/viommu-vtd/scalable/first-stage-4level", GINT_TO_POINTER(0),
                        test_sm_first_stage);
    qtest_add_data_func("/viommu-vtd/scalable/first-stage-5level", GINT_TO_POINTER(1),
                        test_sm_first_stage);
    qtest_add_func("/viommu-vtd/scalable/second-stage-and-pass-through",
                   test_sm_second_stage_and_pt);
    qtest_add_func("/viommu-vtd/scalable/nested", test_sm_nested);
    qtest_add_func("/viommu-vtd/scalable/second-stage-dirty", test_sm_ss_dirty);
    qtest_add_func("/viommu-vtd/scalable/nested-dirty", test_sm_nested_dirty);
    qtest_add_func("/viommu-vtd/scalable/pasid-dma", test_pasid_dma);
    qtest_add_func("/viommu-vtd/scalable/pasid-spaces-bounded", test_pasid_spaces_bounded);
    qtest_add_func("/viommu-vtd/scalable/interrupt-range-blocked", test_intr_range_blocked);
    qtest_add_func("/viommu-vtd/faults/fpd-teardown", test_fpd_teardown);
    qtest_add_func("/viommu-vtd/invalidation/piotlb-pasid-cache",
                   test_inv_piotlb_and_pasid_cache);
    qtest_add_func("/viommu-vtd/invalidation/iotlb-context-cache", test_inv_iotlb_and_context);
    qtest_add_func("/viommu-vtd/invalidation/global-and-large-mask",
                   test_inv_global_and_large_am);
    qtest_add_func("/viommu-vtd/invalidation/registers", test_inv_registers);
    qtest_add_func("/viommu-vtd/invalidation/queue-errors", test_qi_errors);
    qtest_add_data_func("/viommu-vtd/invalidation/reserved-descriptors", GINT_TO_POINTER(0),
                        test_qi_reserved);
    qtest_add_data_func("/viommu-vtd/invalidation/reserved-descriptors-dt", GINT_TO_POINTER(1),
                        test_qi_reserved);
    qtest_add_func("/viommu-vtd/faults/event-ip", test_fault_event_ip);
    qtest_add_func("/viommu-vtd/faults/fsptptr-reasons", test_fault_reasons_fsptptr);
    qtest_add_func("/viommu-vtd/faults/records-overflow-event", test_fault_records);
    qtest_add_func("/viommu-vtd/interrupt-remapping", test_interrupt_remapping);
    qtest_add_func("/viommu-vtd/interrupt-remapping/ioapic", test_ir_ioapic);
    qtest_add_func("/viommu-vtd/interrupt-remapping/route-fixup", test_ir_route_fixup);
    qtest_add_func("/viommu-vtd/interrupt-remapping/ioapic-kvm", test_ir_ioapic_kvm);
    qtest_add_func("/viommu-vtd/invalidation/wait-interrupt", test_inv_wait_interrupt);
    qtest_add_func("/viommu-vtd/migration", test_migration);
    qtest_add_func("/viommu-vtd/concurrent-iothread", test_concurrent_iothread);
    qtest_add_data_func("/viommu-vtd/hostile", GINT_TO_POINTER(0), test_hostile);
    qtest_add_data_func("/viommu-vtd/hostile-legacy", GINT_TO_POINTER(1), test_hostile);
    return g_test_run();
}
