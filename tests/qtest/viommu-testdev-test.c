/*
 * qtests for viommu-testdev: its config space, its DMA engine with no IOMMU on
 * q35 and virt, DMA through upstream's intel-iommu (q35) and arm-smmuv3 (virt)
 * programmed here like a guest driver would, faults surfacing as the device's
 * error status, MSI-X completion, and hostile register programming.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "testdev-drv.h"

#define TD_ARGS "-device viommu-testdev,addr=04.0"

/* A physical address with no RAM or device behind it on both machines. */
#define UNBACKED_ADDR   0x3f00000000ull

static void fill_random(uint8_t *buf, size_t len, uint32_t seed)
{
    GRand *r = g_rand_new_with_seed(seed);

    for (size_t i = 0; i < len; i++) {
        buf[i] = g_rand_int(r);
    }
    g_rand_free(r);
}

static void test_config_space(void)
{
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint8_t pcie = qpci_find_capability(td->dev, PCI_CAP_ID_EXP, 0);
    uint32_t hdr;

    g_assert_cmpuint(pcie, ==, TD_CFG_PCIE_CAP);
    /* End-End TLP prefix supported: Linux wants it before it enables PASID. */
    g_assert_true(qpci_config_readl(td->dev, pcie + PCI_EXP_DEVCAP2) & PCI_EXP_DEVCAP2_EE_PREFIX);
    g_assert_cmpuint(qpci_msix_table_size(td->dev), ==, VIOMMU_TESTDEV_MSIX_VECTORS);

    /* Extended capability chain: ATS -> PASID -> PRI -> end. */
    hdr = td_cfg_readl(td, TD_CFG_ATS);
    g_assert_cmphex(PCI_EXT_CAP_ID(hdr), ==, PCI_EXT_CAP_ID_ATS);
    g_assert_cmphex(PCI_EXT_CAP_NEXT(hdr), ==, TD_CFG_PASID);
    hdr = td_cfg_readl(td, TD_CFG_PASID);
    g_assert_cmphex(PCI_EXT_CAP_ID(hdr), ==, PCI_EXT_CAP_ID_PASID);
    g_assert_cmphex(PCI_EXT_CAP_NEXT(hdr), ==, TD_CFG_PRI);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PASID + PCI_PASID_CAP), ==,
                    PCI_PASID_CAP_EXEC | PCI_PASID_CAP_PRIV | (20 << 8));
    hdr = td_cfg_readl(td, TD_CFG_PRI);
    g_assert_cmphex(PCI_EXT_CAP_ID(hdr), ==, PCI_EXT_CAP_ID_PRI);
    g_assert_cmphex(PCI_EXT_CAP_NEXT(hdr), ==, 0);
    g_assert_cmpuint(td_cfg_readl(td, TD_CFG_PRI + PCI_PRI_MAX_REQ), ==, TD_PRI_CAPACITY);
    g_assert_true(td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_STATUS) & PCI_PRI_STATUS_STOPPED);

    /* PASID control is writable in its three bits only. */
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, 0xffff);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PASID + PCI_PASID_CTRL), ==,
                    PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_EXEC | PCI_PASID_CTRL_PRIV);

    g_assert_cmphex(td_readl(td, TD_VERSION), ==, TD_VERSION_VALUE);
    g_assert_cmpuint(td_readl(td, TD_MAX_LEN), ==, TD_MAX_LEN_VALUE);
    g_assert_cmphex(td_readl(td, TD_CAPS) & TD_CAPS_PASID_PATH, ==, 0);
    td_close(td);
    td_machine_stop(m);
}

/* Copy, fill, compare and checksum, at unaligned addresses across pages. */
static void test_dma_ops(void)
{
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    const uint32_t len = 3 * 4096 + 123;
    uint64_t src = td_alloc(m, 4 * 4096) + 5, dst = td_alloc(m, 4 * 4096) + 1001;
    g_autofree uint8_t *data = g_malloc(len), *back = g_malloc(len);

    fill_random(data, len, 1);
    qtest_memwrite(m->qts, src, data, len);

    g_assert_cmpuint(td_do(td, TD_OP_COPY, src, dst, len), ==, TD_ERR_NONE);
    qtest_memread(m->qts, dst, back, len);
    g_assert_cmpmem(back, len, data, len);
    /* Nothing written past the end. */
    g_assert_cmpuint(qtest_readb(m->qts, dst + len), ==, 0);

    g_assert_cmpuint(td_do(td, TD_OP_COMPARE, src, dst, len), ==, TD_ERR_NONE);
    g_assert_false(td_readl(td, TD_STATUS) & TD_STATUS_MISMATCH);
    g_assert_cmphex(td_readq(td, TD_RESULT_LO), ==, TD_COMPARE_EQUAL);
    qtest_writeb(m->qts, dst + 4097, data[4097] ^ 0x40);
    g_assert_cmpuint(td_do(td, TD_OP_COMPARE, src, dst, len), ==, TD_ERR_NONE);
    g_assert_true(td_readl(td, TD_STATUS) & TD_STATUS_MISMATCH);
    g_assert_cmpuint(td_readq(td, TD_RESULT_LO), ==, 4097);

    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM, src, 0, len), ==, TD_ERR_NONE);
    g_assert_cmphex(td_readq(td, TD_RESULT_LO), ==, td_fnv1a64(data, len));

    td_writel(td, TD_PATTERN, 0xa1b2c3d4);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, dst + 2, 4099), ==, TD_ERR_NONE);
    qtest_memread(m->qts, dst + 2, back, 4099);
    for (int i = 0; i < 4099; i++) {
        g_assert_cmphex(back[i], ==, (0xa1b2c3d4u >> (8 * (i & 3))) & 0xff);
    }
    g_assert_cmphex(qtest_readb(m->qts, dst + 1), ==, data[1]);
    g_assert_cmpuint(td_readl(td, TD_COMPLETED), ==, 5);
    td_close(td);
    td_machine_stop(m);
}

static void test_msix_completion(void)
{
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t buf = td_alloc(m, 4096), msi = td_alloc(m, 4096);

    /* An MSI is a posted write: aim vector 2 at RAM and watch it land. */
    td_msix_setup(td, 2, msi, 0x5a5a0002);
    td_msix_setup(td, 1, msi + 8, 0x5a5a0001);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 2);
    td_writel(td, TD_PATTERN, 0x11111111);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, buf, 64), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, msi), ==, 0x5a5a0002);
    g_assert_cmphex(qtest_readl(m->qts, msi + 8), ==, 0);

    /* Errors complete with an interrupt too. */
    qtest_writel(m->qts, msi, 0);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, UNBACKED_ADDR, buf, 64), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(qtest_readl(m->qts, msi), ==, 0x5a5a0002);

    /* Interrupt disabled: no write. */
    qtest_writel(m->qts, msi, 0);
    td_writel(td, TD_IRQ, 2);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, buf, 64), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, msi), ==, 0);

    /* Masked vector: the PBA records it instead. */
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 1);
    qpci_io_writel(td->dev, td->dev->msix_table_bar, td->dev->msix_table_off +
                   PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, buf, 64), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, msi + 8), ==, 0);
    g_assert_true(qpci_msix_pending(td->dev, 1));
    td_close(td);
    td_machine_stop(m);
}

/* The device still works after each refusal: a good copy follows every bad one. */
static void assert_still_works(TdMachine *m, Td *td, uint64_t a, uint64_t b)
{
    qtest_writel(m->qts, a, 0xfeedf00d);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0xfeedf00d);
    qtest_writel(m->qts, b, 0);
}

static void test_bad_input(void)
{
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t a = td_alloc(m, 8192), b = td_alloc(m, 8192);
    uint64_t bar = td->bar.addr;
    uint32_t st;

    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 0), ==, TD_ERR_BAD_LEN);
    st = td_readl(td, TD_STATUS);
    g_assert_true(st & TD_STATUS_ERROR);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, TD_MAX_LEN_VALUE + 1), ==, TD_ERR_BAD_LEN);
    g_assert_cmpuint(td_do(td, TD_OP_MAX + 1, a, b, 4), ==, TD_ERR_BAD_OP);
    g_assert_cmpuint(td_do(td, 0xffffffff, a, b, 4), ==, TD_ERR_BAD_OP);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, UINT64_MAX - 2, b, 4), ==, TD_ERR_ADDR_WRAP);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, UINT64_MAX, 2), ==, TD_ERR_ADDR_WRAP);
    assert_still_works(m, td, a, b);

    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 200);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_BAD_VECTOR);
    td_writel(td, TD_IRQ, 0);

    /* A read from nothing: refused, reported at the failing page, no zeros written. */
    qtest_writel(m->qts, b, 0x12345678);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, UNBACKED_ADDR + 8, b, 64), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, UNBACKED_ADDR + 8);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0x12345678);
    /* A copy running off the end of RAM-backed pages into nothing faults at the boundary. */
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, UNBACKED_ADDR + 4096 * 3, 5000), ==,
                     TD_ERR_WRITE_FAULT);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, UNBACKED_ADDR + 4096 * 3);
    assert_still_works(m, td, a, b);

    /* Peer-to-peer into its own registers is refused, and changes nothing. */
    td_writel(td, TD_PATTERN, 0);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, bar + TD_LEN, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmpuint(td_readl(td, TD_LEN), ==, 4);
    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM, bar, 0, 64), ==, TD_ERR_READ_FAULT);
    assert_still_works(m, td, a, b);

    /* PASID-tagged DMA needs PASID enabled in config space, then a PASID-capable IOMMU. */
    td_writel(td, TD_PASID, TD_PASID_VALID | 5);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_PASID_DISABLED);
    td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
    td_writel(td, TD_PASID, TD_PASID_VALID | TD_PASID_PRIV | 5);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_PASID_DISABLED);
    td_writel(td, TD_PASID, TD_PASID_VALID | 5);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_NO_PASID_PATH);
    td_writel(td, TD_PASID, 0);
    assert_still_works(m, td, a, b);

    /* Bus mastering off: the device must not reach memory. */
    qpci_config_writew(td->dev, PCI_COMMAND, PCI_COMMAND_MEMORY);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_NO_BUS_MASTER);
    qpci_config_writew(td->dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_still_works(m, td, a, b);

    /* Unknown registers and 64-bit accesses. */
    td_writel(td, 0x800, 0xffffffff);
    g_assert_cmpuint(td_readl(td, 0x800), ==, 0);
    qpci_io_writeq(td->dev, td->bar, TD_SRC_LO, 0x1122334455667788ull);
    g_assert_cmphex(qpci_io_readq(td->dev, td->bar, TD_SRC_LO), ==, 0x1122334455667788ull);
    td_close(td);
    td_machine_stop(m);
}

/* A delayed completion makes "busy" observable: reprogramming is refused, RESET is not. */
static void test_busy(void)
{
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t a = td_alloc(m, 4096), b = td_alloc(m, 4096);
    uint32_t done;

    qtest_writel(m->qts, a, 0xcafe0001);
    td_writel(td, TD_DELAY_NS, 1000000);
    td_program(td, TD_OP_COPY, a, b, 4);
    td_start(td);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, TD_STATUS_BUSY);
    td_writel(td, TD_LEN, 4096);
    td_writel(td, TD_CMD, TD_CMD_GO);
    g_assert_cmpuint(td_readl(td, TD_LEN), ==, 4);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_REJECTED);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0);
    qtest_clock_step(m->qts, 1000000);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, TD_STATUS_DONE | TD_STATUS_REJECTED);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0xcafe0001);
    done = td_readl(td, TD_COMPLETED);

    /* RESET while busy drops the operation: nothing is written, nothing completes. */
    qtest_writel(m->qts, a, 0xcafe0002);
    td_start(td);
    g_assert_true(td_readl(td, TD_STATUS) & TD_STATUS_BUSY);
    td_writel(td, TD_CMD, TD_CMD_RESET);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, 0);
    qtest_clock_step(m->qts, 2000000);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, 0);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0xcafe0001);
    g_assert_cmpuint(td_readl(td, TD_COMPLETED), ==, done);
    td_close(td);
    td_machine_stop(m);
}

/*
 * DMA from MMIO (the ECAM window: absent functions read as ones) is bounded
 * per run: within TD_MMIO_BUDGET it works, beyond it the operation ends
 * with MMIO_LIMIT instead of keeping the main loop busy.
 */
static void test_mmio_budget(void)
{
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t absent = m->ecam + (1ull << 20);        /* bus 1: no such bus */
    g_autofree uint8_t *ones = g_malloc(TD_MMIO_BUDGET);

    memset(ones, 0xff, TD_MMIO_BUDGET);
    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM, absent, 0, TD_MMIO_BUDGET), ==, TD_ERR_NONE);
    g_assert_cmphex(td_readq(td, TD_RESULT_LO), ==, td_fnv1a64(ones, TD_MMIO_BUDGET));
    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM, absent, 0, TD_MMIO_BUDGET + 4096), ==,
                     TD_ERR_MMIO_LIMIT);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, absent + TD_MMIO_BUDGET);
    td_close(td);
    td_machine_stop(m);
}

/*
 * PRI without an IOMMU that takes page requests: config space behaves, a
 * fault with PRI disabled (or not asked for) is a plain fault, one with PRI
 * enabled and asked for ends with NO_PRI_PATH.  extra: an IOMMU to put in front.
 */
static void pri_no_path(const char *machine, const char *extra)
{
    g_autofree char *args = g_strdup_printf("%s " TD_ARGS, extra ? extra : "");
    TdMachine *m = td_machine_start(machine, args);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t b = td_alloc(m, 4096);
    uint16_t st;

    /* Enable clears Stopped; Reset is write-only; RF and UPRGI start clear. */
    st = td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_STATUS);
    g_assert_cmphex(st, ==, PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
    td_pri_enable(td, 4);
    g_assert_cmpuint(td_cfg_readl(td, TD_CFG_PRI + PCI_PRI_ALLOC_REQ), ==, 4);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_STATUS), ==, PCI_PRI_STATUS_PASID);
    td_cfg_writew(td, TD_CFG_PRI + PCI_PRI_CTRL, PCI_PRI_CTRL_RESET);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_CTRL), ==, 0);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_STATUS), ==,
                    PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
    /* Status is read-only but for the two write-1-to-clear bits. */
    td_cfg_writew(td, TD_CFG_PRI + PCI_PRI_STATUS, 0xffff);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_STATUS), ==,
                    PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);

    /* PRI disabled in config space: the TD_OP_PRI flag changes nothing. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY | TD_OP_PRI, UNBACKED_ADDR + 16, b, 8), ==,
                     TD_ERR_READ_FAULT);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, UNBACKED_ADDR + 16);
    g_assert_cmpuint(td_readl(td, TD_PRI_REQUESTS), ==, 0);

    /* Enabled, but the flag not given: a plain fault too. */
    td_pri_enable(td, 4);
    td_writel(td, TD_PATTERN, 0x01020304);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, UNBACKED_ADDR, 8), ==, TD_ERR_WRITE_FAULT);

    /* Enabled and asked for: nobody takes the page request. */
    g_assert_cmpuint(td_do(td, TD_OP_FILL | TD_OP_PRI, 0, UNBACKED_ADDR + 4096, 8), ==,
                     TD_ERR_NO_PRI_PATH);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, UNBACKED_ADDR + 4096);
    g_assert_true(td_readl(td, TD_STATUS) & TD_STATUS_ERROR);
    /* No allocation granted: no request may be sent at all. */
    td_cfg_writel(td, TD_CFG_PRI + PCI_PRI_ALLOC_REQ, 0);
    g_assert_cmpuint(td_do(td, TD_OP_COPY | TD_OP_PRI, UNBACKED_ADDR, b, 8), ==,
                     TD_ERR_PRI_LIMIT);
    td_pri_enable(td, 4);

    /* An access that does not fault completes as usual with the flag set. */
    td_writel(td, TD_PATTERN, 0x55aa55aa);
    g_assert_cmpuint(td_do(td, TD_OP_FILL | TD_OP_PRI, 0, b, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(m->qts, b), ==, 0x55aa55aa55aa55aaull);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_PRI + PCI_PRI_STATUS), ==, PCI_PRI_STATUS_PASID);
    /* Unknown op codes stay bad ones with the flag. */
    g_assert_cmpuint(td_do(td, (TD_OP_MAX + 1) | TD_OP_PRI, 0, b, 8), ==, TD_ERR_BAD_OP);
    td_close(td);
    td_machine_stop(m);
}

static void test_pri_no_iommu(void)
{
    pri_no_path(NULL, NULL);
}

static void test_pri_upstream_iommu(void)
{
    if (!strcmp(qtest_get_arch(), "aarch64")) {
        /* Upstream's SMMUv3 in bypass (SMMUEN clear) takes no page requests. */
        pri_no_path("iommu=smmuv3", NULL);
    } else {
        pri_no_path("kernel-irqchip=split", "-device intel-iommu,aw-bits=39");
    }
}

/*
 * ATS without an IOMMU that takes it: ATS Control is writable (Enable, STU
 * bits 4:0), ATS operations need Enable, and then find no ATS path; device
 * reset clears Enable; ats=off removes the capability.
 */
static void ats_no_path(const char *machine, const char *extra)
{
    g_autofree char *args = g_strdup_printf("%s " TD_ARGS, extra ? extra : "");
    TdMachine *m = td_machine_start(machine, args);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t b = td_alloc(m, 4096);

    g_assert_cmphex(td_cfg_readw(td, TD_CFG_ATS + PCI_ATS_CTRL), ==, 0);
    g_assert_cmpuint(td_do(td, TD_OP_TRANSLATE, b, 0, 1), ==, TD_ERR_ATS_DISABLED);
    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM | TD_OP_ATS, b, 0, 8), ==, TD_ERR_ATS_DISABLED);
    td_cfg_writew(td, TD_CFG_ATS + PCI_ATS_CTRL, 0xffff);
    g_assert_cmphex(td_cfg_readw(td, TD_CFG_ATS + PCI_ATS_CTRL), ==, PCI_ATS_CTRL_ENABLE | 0x1f);
    td_cfg_writew(td, TD_CFG_ATS + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE);
    g_assert_cmpuint(td_do(td, TD_OP_TRANSLATE_RO, b, 0, 1), ==, TD_ERR_NO_ATS_PATH);
    g_assert_cmpuint(td_do(td, TD_OP_COPY | TD_OP_ATS, b, b + 8, 8), ==, TD_ERR_NO_ATS_PATH);
    g_assert_cmpuint(td_readl(td, TD_ATC_MISSES), ==, 0);
    /* Untranslated DMA is unaffected by ATS Enable. */
    g_assert_cmpuint(td_do(td, TD_OP_COPY, b, b + 8, 8), ==, TD_ERR_NONE);
    /* Unknown op codes stay bad ones with the ATS flag. */
    g_assert_cmpuint(td_do(td, (TD_OP_MAX + 1) | TD_OP_ATS, 0, b, 8), ==, TD_ERR_BAD_OP);
    td_close(td);
    td_machine_stop(m);
}

static void test_ats_no_iommu(void)
{
    ats_no_path(NULL, NULL);
}

static void test_ats_upstream_iommu(void)
{
    if (!strcmp(qtest_get_arch(), "aarch64")) {
        ats_no_path("iommu=smmuv3", NULL);
    } else {
        ats_no_path("kernel-irqchip=split", "-device intel-iommu,aw-bits=39,device-iotlb=on");
    }
}

static void test_ats_off(void)
{
    TdMachine *m = td_machine_start(NULL, "-device viommu-testdev,addr=04.0,ats=off");
    Td *td = td_open(m, TD_DEVFN);

    /* A Null Extended Capability heads the list; PASID and PRI follow. */
    g_assert_cmphex(PCI_EXT_CAP_ID(td_cfg_readl(td, TD_CFG_ATS)), ==, 0);
    g_assert_cmphex(PCI_EXT_CAP_NEXT(td_cfg_readl(td, TD_CFG_ATS)), ==, TD_CFG_PASID);
    g_assert_cmphex(PCI_EXT_CAP_ID(td_cfg_readl(td, TD_CFG_PASID)), ==, PCI_EXT_CAP_ID_PASID);
    g_assert_cmpuint(td_do(td, TD_OP_TRANSLATE, td_alloc(m, 4096), 0, 1), ==,
                     TD_ERR_ATS_DISABLED);
    td_close(td);
    td_machine_stop(m);
}

/* pri=off: no PRI capability, so the flag never sends anything. */
static void test_pri_off(void)
{
    TdMachine *m = td_machine_start(NULL, "-device viommu-testdev,addr=04.0,pri=off");
    Td *td = td_open(m, TD_DEVFN);
    uint32_t hdr = td_cfg_readl(td, TD_CFG_PASID);

    g_assert_cmphex(PCI_EXT_CAP_NEXT(hdr), ==, 0);
    g_assert_cmpuint(td_do(td, TD_OP_COPY | TD_OP_PRI, UNBACKED_ADDR, td_alloc(m, 4096), 8),
                     ==, TD_ERR_READ_FAULT);
    td_close(td);
    td_machine_stop(m);
}

/* Migration with an operation pending: registers, MSI-X and the timer travel. */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-testdev-mig-%d", g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf(TD_ARGS " -incoming %s", uri);
    TdMachine *m = td_machine_start(NULL, TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t a = td_alloc(m, 4096), b = td_alloc(m, 4096), msi = td_alloc(m, 4096);

    qtest_writeq(m->qts, a, 0x0123456789abcdefull);
    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM, a, 0, 8), ==, TD_ERR_NONE);
    td_msix_setup(td, 3, msi, 0x1003);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 3);
    td_writel(td, TD_DELAY_NS, 500000);
    td_program(td, TD_OP_COPY, a, b, 8);
    td_start(td);
    g_assert_true(td_readl(td, TD_STATUS) & TD_STATUS_BUSY);
    qtest_qmp_assert_success(m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(m->qts);
    td_close(td);
    td_machine_stop(m);

    m = td_machine_start(NULL, incoming);
    td_wait_migration(m->qts);
    td = td_open(m, TD_DEVFN);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, TD_STATUS_BUSY);
    g_assert_cmphex(td_readq(td, TD_SRC_LO), ==, a);
    g_assert_cmphex(td_readq(td, TD_DST_LO), ==, b);
    g_assert_cmpuint(td_readl(td, TD_COMPLETED), ==, 1);
    g_assert_cmphex(qtest_readq(m->qts, b), ==, 0);
    qtest_clock_step(m->qts, 500000);
    g_assert_cmphex(td_readl(td, TD_STATUS), ==, TD_STATUS_DONE);
    g_assert_cmphex(qtest_readq(m->qts, b), ==, 0x0123456789abcdefull);
    g_assert_cmphex(qtest_readl(m->qts, msi), ==, 0x1003);
    g_assert_cmpuint(td_readl(td, TD_COMPLETED), ==, 2);
    td_close(td);
    td_machine_stop(m);
    unlink(file);
}

/* ------------------------------------------------------------------------
 * Through upstream intel-iommu (q35): legacy mode, 3-level second stage.
 */
#define VTD_BASE            0xfed90000ull
#define VTD_GCMD            0x18
#define VTD_GSTS            0x1c
#define VTD_RTADDR          0x20
#define VTD_FSTS            0x34
#define VTD_GCMD_TE         (1u << 31)
#define VTD_GCMD_SRTP       (1u << 30)
#define VTD_FSTS_PPF        (1u << 1)
#define VTD_SL_R            (1ull << 0)
#define VTD_SL_W            (1ull << 1)

static void vtd_gcmd(QTestState *qts, uint32_t bit)
{
    uint32_t sts = qtest_readl(qts, VTD_BASE + VTD_GSTS) & (VTD_GCMD_TE);

    qtest_writel(qts, VTD_BASE + VTD_GCMD, sts | bit);
    g_assert_true(qtest_readl(qts, VTD_BASE + VTD_GSTS) & bit);
}

static void vtd_map(TdMachine *m, uint64_t l3, uint64_t iova, uint64_t pa, uint64_t perm)
{
    uint64_t table = l3;

    /* 39-bit, 3 levels: index bits 38:30, 29:21, 20:12. */
    for (int shift = 30; shift > 12; shift -= 9) {
        uint64_t slot = table + ((iova >> shift) & 0x1ff) * 8;
        uint64_t e = qtest_readq(m->qts, slot);

        if (!(e & VTD_SL_R)) {
            e = td_alloc(m, 4096) | VTD_SL_R | VTD_SL_W;
            qtest_writeq(m->qts, slot, e);
        }
        table = e & ~0xfffull;
    }
    qtest_writeq(m->qts, table + ((iova >> 12) & 0x1ff) * 8, pa | perm);
}

static void test_intel_iommu(void)
{
    TdMachine *m = td_machine_start("kernel-irqchip=split",
                                    "-device intel-iommu,aw-bits=39 " TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t root = td_alloc(m, 4096), ctx = td_alloc(m, 4096), l3 = td_alloc(m, 4096);
    uint64_t a = td_alloc(m, 4096), b = td_alloc(m, 4096), ro = td_alloc(m, 4096);
    uint64_t msi = td_alloc(m, 4096);
    const uint64_t iova_a = 0x12345000, iova_b = 0x7f000000, iova_ro = 0x40000000;
    const uint64_t iova_msi = 0x200000;

    /* Root entry for bus 0 -> context table; context entry for 00:04.0:
     * present, translation type 0 (second stage), AW 1 (39-bit), domain 7. */
    qtest_writeq(m->qts, root, ctx | 1);
    qtest_writeq(m->qts, ctx + TD_DEVFN * 16, l3 | 1);
    qtest_writeq(m->qts, ctx + TD_DEVFN * 16 + 8, 1 | (7 << 8));
    vtd_map(m, l3, iova_a, a, VTD_SL_R | VTD_SL_W);
    vtd_map(m, l3, iova_b, b, VTD_SL_R | VTD_SL_W);
    vtd_map(m, l3, iova_ro, ro, VTD_SL_R);
    vtd_map(m, l3, iova_msi, msi, VTD_SL_R | VTD_SL_W);
    qtest_writeq(m->qts, VTD_BASE + VTD_RTADDR, root);
    vtd_gcmd(m->qts, VTD_GCMD_SRTP);
    vtd_gcmd(m->qts, VTD_GCMD_TE);

    /* Translated copy: the bytes land at the physical page behind iova_b. */
    qtest_writeq(m->qts, a + 8, 0x0123456789abcdefull);
    td_msix_setup(td, 0, iova_msi, 0x77);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 0);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, iova_a + 8, iova_b + 16, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(m->qts, b + 16), ==, 0x0123456789abcdefull);
    g_assert_cmphex(qtest_readl(m->qts, msi), ==, 0x77);   /* MSI-X translated too */

    /* Untranslated address: the IOMMU refuses, the device reports it, VT-d records a fault. */
    g_assert_cmphex(qtest_readl(m->qts, VTD_BASE + VTD_FSTS) & VTD_FSTS_PPF, ==, 0);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, iova_b, 8), ==, TD_ERR_READ_FAULT);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, a);
    g_assert_true(qtest_readl(m->qts, VTD_BASE + VTD_FSTS) & VTD_FSTS_PPF);

    /* Read-only mapping: reads pass, writes fault. */
    qtest_writel(m->qts, ro, 0xabcd);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, iova_ro, iova_b, 4), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(m->qts, b), ==, 0xabcd);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, iova_a, iova_ro + 64, 4), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, iova_ro + 64);
    g_assert_cmphex(qtest_readl(m->qts, ro + 64), ==, 0);
    td_close(td);
    td_machine_stop(m);
}

static void test_intel_iommu_no_context(void)
{
    TdMachine *m = td_machine_start("kernel-irqchip=split",
                                    "-device intel-iommu,aw-bits=39 " TD_ARGS);
    Td *td = td_open(m, TD_DEVFN);
    uint64_t root = td_alloc(m, 4096), a = td_alloc(m, 4096);

    /* Translation on with an empty root table: every DMA of the device is blocked. */
    qtest_writeq(m->qts, VTD_BASE + VTD_RTADDR, root);
    vtd_gcmd(m->qts, VTD_GCMD_SRTP);
    vtd_gcmd(m->qts, VTD_GCMD_TE);
    td_writel(td, TD_PATTERN, 0xffffffff);
    g_assert_cmpuint(td_do(td, TD_OP_FILL, 0, a, 16), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmphex(qtest_readq(m->qts, a), ==, 0);
    g_assert_true(qtest_readl(m->qts, VTD_BASE + VTD_FSTS) & VTD_FSTS_PPF);
    td_close(td);
    td_machine_stop(m);
}

/* ------------------------------------------------------------------------
 * Through upstream arm-smmuv3 (virt, iommu=smmuv3): linear stream table.
 */
#define SMMU_BASE           0x09050000ull
#define SMMU_CR0            0x20
#define SMMU_CR0ACK         0x24
#define SMMU_STRTAB_BASE    0x80
#define SMMU_STRTAB_CFG     0x88
#define SMMU_STE_V          1ull
#define SMMU_STE_CFG_ABORT  (0ull << 1)
#define SMMU_STE_CFG_BYPASS (4ull << 1)

static TdMachine *smmu_start(uint64_t ste0, Td **td)
{
    TdMachine *m = td_machine_start("iommu=smmuv3", TD_ARGS);
    uint64_t strtab = td_alloc(m, 64 * 64);     /* 64 STEs: SIDs 0..63 */

    *td = td_open(m, TD_DEVFN);
    qtest_writeq(m->qts, strtab + TD_DEVFN * 64, ste0);
    qtest_writeq(m->qts, SMMU_BASE + SMMU_STRTAB_BASE, strtab);
    qtest_writel(m->qts, SMMU_BASE + SMMU_STRTAB_CFG, 6);   /* linear, LOG2SIZE 6 */
    qtest_writel(m->qts, SMMU_BASE + SMMU_CR0, 1);          /* SMMUEN */
    g_assert_cmphex(qtest_readl(m->qts, SMMU_BASE + SMMU_CR0ACK) & 1, ==, 1);
    return m;
}

static void test_smmuv3_bypass(void)
{
    Td *td;
    TdMachine *m = smmu_start(SMMU_STE_V | SMMU_STE_CFG_BYPASS, &td);
    uint64_t a = td_alloc(m, 4096), b = td_alloc(m, 4096), msi = td_alloc(m, 4096);

    td_msix_setup(td, 3, msi, 0x33);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 3);
    qtest_writeq(m->qts, a, 0x5555aaaa5555aaaaull);
    g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 8), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(m->qts, b), ==, 0x5555aaaa5555aaaaull);
    g_assert_cmphex(qtest_readl(m->qts, msi), ==, 0x33);
    td_close(td);
    td_machine_stop(m);
}

static void test_smmuv3_abort(void)
{
    static const uint64_t stes[] = {
        SMMU_STE_V | SMMU_STE_CFG_ABORT,    /* Config abort */
        SMMU_STE_CFG_BYPASS,                /* V=0: C_BAD_STE, the transaction aborts */
    };

    for (int i = 0; i < ARRAY_SIZE(stes); i++) {
        Td *td;
        TdMachine *m = smmu_start(stes[i], &td);
        uint64_t a = td_alloc(m, 4096), b = td_alloc(m, 4096);

        qtest_writel(m->qts, a, 0x1234);
        g_assert_cmpuint(td_do(td, TD_OP_COPY, a, b, 4), ==, TD_ERR_READ_FAULT);
        g_assert_cmphex(td_readq(td, TD_FAULT_ADDR_LO), ==, a);
        g_assert_cmphex(qtest_readl(m->qts, b), ==, 0);
        td_close(td);
        td_machine_stop(m);
    }
}

/*
 * DMA into the device's own configuration space (through ECAM, with no IOMMU
 * in the way): from the bottom half and from the delay timer, with patterns
 * that clear and that set every writable bit.  QEMU survives; config space
 * stays readable.
 */
static void test_dma_own_config(void)
{
    static const uint32_t patterns[] = { 0, 0xffffffff, 0x00100006 };

    for (int i = 0; i < 2 * ARRAY_SIZE(patterns); i++) {
        TdMachine *m = td_machine_start(NULL, TD_ARGS);
        Td *td = td_open(m, TD_DEVFN);
        uint64_t cfg = m->ecam + ((uint64_t)TD_DEVFN << 12);
        uint32_t id = td_cfg_readl(td, PCI_VENDOR_ID);

        td_cfg_writew(td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
        td_pri_enable(td, 32);
        td_writel(td, TD_PATTERN, patterns[i / 2]);
        td_writel(td, TD_DELAY_NS, i & 1 ? 100000 : 0);
        td_program(td, TD_OP_FILL | TD_OP_PRI, 0, cfg, 4096);
        td_start(td);
        for (int j = 0; j < 10; j++) {
            qtest_clock_step(m->qts, 100000);
        }
        g_assert_cmphex(td_cfg_readl(td, PCI_VENDOR_ID), ==, id);
        td_close(td);
        td_machine_stop(m);
    }
}

int main(int argc, char **argv)
{
    const char *arch = qtest_get_arch();

    g_test_init(&argc, &argv, NULL);
    /* Built into both targets by hw/viommu/Kconfig: its absence is a failure. */
    g_assert_true(qtest_has_device("viommu-testdev"));
    qtest_add_func("/viommu-testdev/config-space", test_config_space);
    qtest_add_func("/viommu-testdev/dma-ops", test_dma_ops);
    qtest_add_func("/viommu-testdev/msix-completion", test_msix_completion);
    qtest_add_func("/viommu-testdev/bad-input", test_bad_input);
    qtest_add_func("/viommu-testdev/busy", test_busy);
    qtest_add_func("/viommu-testdev/mmio-budget", test_mmio_budget);
    qtest_add_func("/viommu-testdev/dma-own-config", test_dma_own_config);
    qtest_add_func("/viommu-testdev/migration", test_migration);
    qtest_add_func("/viommu-testdev/pri/no-iommu", test_pri_no_iommu);
    qtest_add_func("/viommu-testdev/pri/upstream-iommu", test_pri_upstream_iommu);
    qtest_add_func("/viommu-testdev/pri/off", test_pri_off);
    qtest_add_func("/viommu-testdev/ats/no-iommu", test_ats_no_iommu);
    qtest_add_func("/viommu-testdev/ats/upstream-iommu", test_ats_upstream_iommu);
    qtest_add_func("/viommu-testdev/ats/off", test_ats_off);
    if (!strcmp(arch, "x86_64")) {
        qtest_add_func("/viommu-testdev/intel-iommu/translate", test_intel_iommu);
        qtest_add_func("/viommu-testdev/intel-iommu/no-context", test_intel_iommu_no_context);
    } else if (!strcmp(arch, "aarch64")) {
        qtest_add_func("/viommu-testdev/arm-smmuv3/bypass", test_smmuv3_bypass);
        qtest_add_func("/viommu-testdev/arm-smmuv3/abort", test_smmuv3_abort);
    }
    return g_test_run();
}
