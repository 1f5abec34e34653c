/*
 * qtest driver for viommu-testdev (see testdev-drv.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqos/pci-pc.h"
#include "qobject/qdict.h"
#include "testdev-drv.h"

/* Guest RAM handed to the allocator: clear of firmware, DTB and low memory. */
#define X86_ALLOC_START     0x01000000ull
#define X86_ALLOC_END       0x06000000ull
#define ARM_ALLOC_START     0x44000000ull
#define ARM_ALLOC_END       0x4c000000ull
#define Q35_MCH_PCIEXBAR    0x60
#define Q35_ECAM_BASE       0xb0000000ull

TdMachine *td_machine_start(const char *machine_opts, const char *extra)
{
    TdMachine *m = g_new0(TdMachine, 1);

    m->is_arm = !strcmp(qtest_get_arch(), "aarch64");
    if (m->is_arm) {
        m->qts = qtest_initf("-M virt,gic-version=3%s%s -cpu max -m 256M -nic none %s",
                             machine_opts ? "," : "", machine_opts ? machine_opts : "",
                             extra ? extra : "");
        alloc_init(&m->alloc, 0, ARM_ALLOC_START, ARM_ALLOC_END, 4096);
        qpci_init_generic(&m->gbus, m->qts, &m->alloc, false);
        m->bus = &m->gbus.bus;
        m->ecam = m->gbus.ecam_alloc_ptr;
    } else {
        QPCIDevice *mch;

        m->qts = qtest_initf("-M q35%s%s -m 256M -nic none -vga none -L /usr/share/seabios -L /usr/share/qemu %s",
                             machine_opts ? "," : "", machine_opts ? machine_opts : "",
                             extra ? extra : "");
        alloc_init(&m->alloc, 0, X86_ALLOC_START, X86_ALLOC_END, 4096);
        m->bus = qpci_new_pc(m->qts, &m->alloc);
        /* What firmware does: open the MCH's MMCONFIG window (256 buses). */
        mch = qpci_device_find(m->bus, 0);
        qpci_config_writel(mch, Q35_MCH_PCIEXBAR + 4, 0);
        qpci_config_writel(mch, Q35_MCH_PCIEXBAR, Q35_ECAM_BASE | 1);
        g_free(mch);
        m->ecam = Q35_ECAM_BASE;
    }
    return m;
}

void td_machine_stop(TdMachine *m)
{
    if (!m->is_arm) {
        qpci_free_pc(m->bus);
    }
    alloc_destroy(&m->alloc);
    qtest_quit(m->qts);
    g_free(m);
}

uint64_t td_alloc(TdMachine *m, size_t size)
{
    uint64_t a = guest_alloc(&m->alloc, size);

    g_assert(a);
    qtest_memset(m->qts, a, 0, size);
    return a;
}

Td *td_open(TdMachine *m, int devfn)
{
    Td *td = g_new0(Td, 1);

    td->m = m;
    td->dev = qpci_device_find(m->bus, devfn);
    g_assert(td->dev);
    g_assert_cmphex(qpci_config_readw(td->dev, PCI_VENDOR_ID), ==, VIOMMU_TESTDEV_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(td->dev, PCI_DEVICE_ID), ==, VIOMMU_TESTDEV_DEVICE_ID);
    qpci_device_enable(td->dev);
    td->bar = qpci_iomap(td->dev, VIOMMU_TESTDEV_REG_BAR, NULL);
    g_assert_cmphex(td_readl(td, TD_ID), ==, TD_ID_VALUE);
    return td;
}

void td_close(Td *td)
{
    if (td->dev->msix_enabled) {
        qpci_msix_disable(td->dev);
    }
    qpci_iounmap(td->dev, td->bar);
    g_free(td->dev);
    g_free(td);
}

uint32_t td_readl(Td *td, uint32_t reg)
{
    return qpci_io_readl(td->dev, td->bar, reg);
}

void td_writel(Td *td, uint32_t reg, uint32_t val)
{
    qpci_io_writel(td->dev, td->bar, reg, val);
}

uint64_t td_readq(Td *td, uint32_t reg_lo)
{
    return td_readl(td, reg_lo) | (uint64_t)td_readl(td, reg_lo + 4) << 32;
}

void td_writeq(Td *td, uint32_t reg_lo, uint64_t val)
{
    td_writel(td, reg_lo, val);
    td_writel(td, reg_lo + 4, val >> 32);
}

void td_program(Td *td, uint32_t op, uint64_t src, uint64_t dst, uint32_t len)
{
    td_writeq(td, TD_SRC_LO, src);
    td_writeq(td, TD_DST_LO, dst);
    td_writel(td, TD_LEN, len);
    td_writel(td, TD_OP, op);
}

void td_start(Td *td)
{
    td_writel(td, TD_CMD, TD_CMD_GO);
}

/*
 * Let the machine run a little: 100 us of virtual time.  Not "to the next
 * deadline": work pending in bottom halves (a chain of them, with PRI) has
 * none, and qtest refuses that step when no timer is armed.
 */
static void td_step(Td *td)
{
    qtest_clock_step(td->m->qts, 100000);
}

uint32_t td_wait(Td *td)
{
    uint32_t status = 0;

    /* The engine completes from a bottom half or a virtual-clock timer. */
    for (int i = 0; i < 1000; i++) {
        status = td_readl(td, TD_STATUS);
        if (!(status & TD_STATUS_BUSY)) {
            break;
        }
        td_step(td);
    }
    g_assert_false(status & TD_STATUS_BUSY);
    g_assert_true(status & TD_STATUS_DONE);
    return td_readl(td, TD_ERROR);
}

uint32_t td_do(Td *td, uint32_t op, uint64_t src, uint64_t dst, uint32_t len)
{
    td_program(td, op, src, dst, len);
    td_start(td);
    return td_wait(td);
}

static uint64_t td_cfg_addr(Td *td, uint16_t off)
{
    return td->m->ecam + ((uint64_t)td->dev->devfn << 12) + off;
}

uint32_t td_cfg_readl(Td *td, uint16_t off)
{
    return qtest_readl(td->m->qts, td_cfg_addr(td, off));
}

uint16_t td_cfg_readw(Td *td, uint16_t off)
{
    return qtest_readw(td->m->qts, td_cfg_addr(td, off));
}

void td_cfg_writew(Td *td, uint16_t off, uint16_t val)
{
    qtest_writew(td->m->qts, td_cfg_addr(td, off), val);
}

void td_cfg_writel(Td *td, uint16_t off, uint32_t val)
{
    qtest_writel(td->m->qts, td_cfg_addr(td, off), val);
}

void td_pri_enable(Td *td, uint32_t alloc)
{
    /* The order Linux's pci_enable_pri() uses: allocation, then Enable. */
    td_cfg_writew(td, TD_CFG_PRI + PCI_PRI_CTRL, 0);
    td_cfg_writel(td, TD_CFG_PRI + PCI_PRI_ALLOC_REQ, alloc);
    if (alloc) {
        td_cfg_writew(td, TD_CFG_PRI + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE);
    }
}

/* Step time until STATUS has bit (the device waits for something) or BUSY clears. */
static bool td_wait_status(Td *td, uint32_t bit)
{
    uint32_t status = 0;

    for (int i = 0; i < 1000; i++) {
        status = td_readl(td, TD_STATUS);
        if ((status & bit) || !(status & TD_STATUS_BUSY)) {
            break;
        }
        td_step(td);
    }
    g_assert_true((status & bit) || !(status & TD_STATUS_BUSY));
    return status & bit;
}

bool td_wait_pri(Td *td)
{
    return td_wait_status(td, TD_STATUS_PRI_WAIT);
}

bool td_wait_stall(Td *td)
{
    return td_wait_status(td, TD_STATUS_STALLED);
}

void td_msix_setup(Td *td, unsigned v, uint64_t addr, uint32_t data)
{
    uint64_t e;

    if (!td->dev->msix_enabled) {
        qpci_msix_enable(td->dev);
    }
    e = td->dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;
    qpci_io_writel(td->dev, td->dev->msix_table_bar, e + PCI_MSIX_ENTRY_LOWER_ADDR, addr);
    qpci_io_writel(td->dev, td->dev->msix_table_bar, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(td->dev, td->dev->msix_table_bar, e + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(td->dev, td->dev->msix_table_bar, e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
}

uint64_t td_fnv1a64(const uint8_t *buf, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ buf[i]) * 0x100000001b3ull;
    }
    return h;
}

void td_wait_migration(QTestState *qts)
{
    for (int i = 0; i < 3000; i++) {
        QDict *rsp = qtest_qmp(qts, "{ 'execute': 'query-migrate' }");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *st = qdict_haskey(ret, "status") ? qdict_get_str(ret, "status") : "";
        bool done = !strcmp(st, "completed");

        g_assert_cmpstr(st, !=, "failed");
        qobject_unref(rsp);
        if (done) {
            return;
        }
        g_usleep(10000);
    }
    g_assert_not_reached();
}

uint64_t td_page_tagged(TdMachine *m, uint32_t tag)
{
    uint64_t a = td_alloc(m, 4096);

    for (int i = 0; i < 16; i++) {
        qtest_writel(m->qts, a + 4 * i, tag * 0x10001u + i);
    }
    return a;
}

uint64_t td_page_tagged_sum(uint32_t tag)
{
    uint32_t w[16];

    for (int i = 0; i < 16; i++) {
        w[i] = cpu_to_le32(tag * 0x10001u + i);
    }
    return td_fnv1a64((uint8_t *)w, sizeof(w));
}

uint32_t td_dma_sum(Td *td, uint64_t iova, uint64_t *sum)
{
    uint32_t err = td_do(td, TD_OP_CHECKSUM, iova, 0, 64);

    *sum = td_readq(td, TD_RESULT_LO);
    return err;
}

void td_assert_reads(Td *td, uint64_t iova, uint32_t tag)
{
    uint64_t sum;

    g_assert_cmpuint(td_dma_sum(td, iova, &sum), ==, TD_ERR_NONE);
    g_assert_cmphex(sum, ==, td_page_tagged_sum(tag));
}

void td_assert_pasid_reads(Td *td, uint32_t pasid_reg, uint64_t iova, uint32_t tag)
{
    td_writel(td, TD_PASID, pasid_reg);
    td_assert_reads(td, iova, tag);
    td_writel(td, TD_PASID, 0);
}
