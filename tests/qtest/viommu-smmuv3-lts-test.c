/*
 * qtest: a virtio device behind viommu-smmuv3 whose used ring straddles two
 * IOVA pages that stage 1 maps to physically discontiguous pages (issue 15).
 *
 * Linux allocates a vring with dma_alloc_coherent(), whose pages are
 * contiguous only in IOVA space, and an 8-byte used-ring element is only
 * 4-byte aligned, so now and then one element straddles two pages.  QEMU's
 * vring caches translate such a write once; without the split of
 * include/hw/viommu/cached-split.h the element's second half (len) went to
 * the physical page after the first one, which with Debian's 6.12 kernel
 * held virtio-net's avail ring (its index then read 0, and the NIC hung).
 *
 * The test drives virtio-rng-pci (modern, iommu_platform=on) by hand: the
 * used ring starts 8 bytes before the end of IOVA page A, so used element 0
 * is A+0xffc..A+0x1003; page A maps to PA x, page A+0x1000 to PA x+0x2000,
 * and PA x+0x1000 (the page physically after x) holds a canary.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

/* virtio-rng-pci at 05.0: StreamID = RID. */
#define RNG_DEVFN           QPCI_DEVFN(5, 0)

/* Virtio 1.x over PCI (virtio spec 4.1.4): vendor capability types. */
#define VIRTIO_CAP_COMMON   1
#define VIRTIO_CAP_NOTIFY   2
/* The common configuration structure (4.1.4.3). */
#define CC_DFSELECT         0x00
#define CC_DF               0x04
#define CC_GFSELECT         0x08
#define CC_GF               0x0c
#define CC_STATUS           0x14
#define CC_Q_SELECT         0x16
#define CC_Q_SIZE           0x18
#define CC_Q_MSIX           0x1a
#define CC_Q_ENABLE         0x1c
#define CC_Q_NOFF           0x1e
#define CC_Q_DESC           0x20
#define CC_Q_AVAIL          0x28
#define CC_Q_USED           0x30
/* Device status (2.1) and the feature bits of the high word (6). */
#define ST_ACK              1
#define ST_DRIVER           2
#define ST_DRIVER_OK        4
#define ST_FEATURES_OK      8
#define F_HI_VERSION_1      (1u << 0)       /* bit 32 */
#define F_HI_ACCESS_PLATFORM (1u << 1)      /* bit 33 */
#define VRING_DESC_F_WRITE  2

#define QSIZE               8
#define IOVA_A              0x10000000ull
#define CANARY              0xa5a5a5a5u

typedef struct Vio {
    QPCIDevice *dev;
    QPCIBar bar[6];
    bool mapped[6];
    int common_bar, notify_bar;
    uint32_t common, notify, notify_mult;
} Vio;

/* Find the common and notify structures in the vendor capabilities. */
static void vio_open(TdMachine *m, Vio *v)
{
    uint8_t cap = 0;

    memset(v, 0, sizeof(*v));
    v->dev = qpci_device_find(m->bus, RNG_DEVFN);
    g_assert_nonnull(v->dev);
    qpci_device_enable(v->dev);
    v->common_bar = v->notify_bar = -1;
    while ((cap = qpci_find_capability(v->dev, PCI_CAP_ID_VNDR, cap))) {
        uint8_t type = qpci_config_readb(v->dev, cap + 3);
        uint8_t bar = qpci_config_readb(v->dev, cap + 4);
        uint32_t off = qpci_config_readl(v->dev, cap + 8);

        if (type != VIRTIO_CAP_COMMON && type != VIRTIO_CAP_NOTIFY) {
            continue;
        }
        g_assert_cmpuint(bar, <, 6);
        if (!v->mapped[bar]) {
            v->bar[bar] = qpci_iomap(v->dev, bar, NULL);
            v->mapped[bar] = true;
        }
        if (type == VIRTIO_CAP_COMMON) {
            v->common_bar = bar;
            v->common = off;
        } else {
            v->notify_bar = bar;
            v->notify = off;
            v->notify_mult = qpci_config_readl(v->dev, cap + 16);
        }
    }
    g_assert_cmpint(v->common_bar, >=, 0);
    g_assert_cmpint(v->notify_bar, >=, 0);
}

static void vio_close(Vio *v)
{
    for (int i = 0; i < 6; i++) {
        if (v->mapped[i]) {
            qpci_iounmap(v->dev, v->bar[i]);
        }
    }
    g_free(v->dev);
}

static void cc_w8(Vio *v, uint32_t off, uint8_t val)
{
    qpci_io_writeb(v->dev, v->bar[v->common_bar], v->common + off, val);
}

static void cc_w16(Vio *v, uint32_t off, uint16_t val)
{
    qpci_io_writew(v->dev, v->bar[v->common_bar], v->common + off, val);
}

static void cc_w32(Vio *v, uint32_t off, uint32_t val)
{
    qpci_io_writel(v->dev, v->bar[v->common_bar], v->common + off, val);
}

static void cc_w64(Vio *v, uint32_t off, uint64_t val)
{
    cc_w32(v, off, (uint32_t)val);
    cc_w32(v, off + 4, val >> 32);
}

static uint32_t cc_r(Vio *v, uint32_t off, unsigned size)
{
    QPCIBar b = v->bar[v->common_bar];

    return size == 1 ? qpci_io_readb(v->dev, b, v->common + off) :
           size == 2 ? qpci_io_readw(v->dev, b, v->common + off) :
                       qpci_io_readl(v->dev, b, v->common + off);
}

static void test_used_ring_straddles_iova_pages(void)
{
    SmmuEnv *e = smmu_env_start(NULL, false, 8, 6,
                                "-device virtio-rng-pci,addr=05.0,iommu_platform=on,"
                                "disable-legacy=on");
    QTestState *qts = e->m->qts;
    uint32_t sid = RNG_DEVFN;
    uint64_t x = smmu_alloc(e->m, 3 * 4096, 4096);
    uint64_t canary = x + 0x1000, y = x + 0x2000;
    uint64_t desc = IOVA_A, avail = IOVA_A + 0x100, used = IOVA_A + 0xff8;
    uint64_t buf = IOVA_A + 0x200, cdtab, cd[8], ste[8];
    uint16_t noff;
    SmmuPt pt;
    Vio v;
    int i;

    /* Stage 1 for the RNG's StreamID: A -> x, A + 4K -> y (not x + 4K). */
    smmu_pt_init(&pt, e->m, false, 12, 48, -1);
    smmu_pt_map(&pt, IOVA_A, x, 4096, PT_R | PT_W);
    smmu_pt_map(&pt, IOVA_A + 0x1000, y, 4096, PT_R | PT_W);
    cdtab = smmu_alloc(e->m, 64, 64);
    smmu_cd(cd, &pt, 5);
    smmu_write_cd(e->d, cdtab, cd);
    smmu_ste_s1(ste, cdtab, 0, 0, 0);
    smmu_write_ste(e->d, sid, ste);

    qtest_memset(qts, x, 0, 3 * 4096);
    for (i = 0; i < 1024; i++) {
        qtest_writel(qts, canary + 4 * i, CANARY);
    }
    /* One device-writable 16-byte buffer in descriptor 0, made available. */
    qtest_writeq(qts, x + (desc - IOVA_A), buf);
    qtest_writel(qts, x + (desc - IOVA_A) + 8, 16);
    qtest_writew(qts, x + (desc - IOVA_A) + 12, VRING_DESC_F_WRITE);
    qtest_writew(qts, x + (avail - IOVA_A) + 4, 0);       /* ring[0] = desc 0 */
    qtest_writew(qts, x + (avail - IOVA_A) + 2, 1);       /* idx */

    /* Initialisation (virtio spec 3.1.1), negotiating ACCESS_PLATFORM. */
    vio_open(e->m, &v);
    cc_w8(&v, CC_STATUS, 0);
    cc_w8(&v, CC_STATUS, ST_ACK | ST_DRIVER);
    cc_w32(&v, CC_DFSELECT, 1);
    g_assert_cmphex(cc_r(&v, CC_DF, 4) & (F_HI_VERSION_1 | F_HI_ACCESS_PLATFORM), ==,
                    F_HI_VERSION_1 | F_HI_ACCESS_PLATFORM);
    cc_w32(&v, CC_GFSELECT, 1);
    cc_w32(&v, CC_GF, F_HI_VERSION_1 | F_HI_ACCESS_PLATFORM);
    cc_w32(&v, CC_GFSELECT, 0);
    cc_w32(&v, CC_GF, 0);
    cc_w8(&v, CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    g_assert_cmphex(cc_r(&v, CC_STATUS, 1) & ST_FEATURES_OK, ==, ST_FEATURES_OK);
    cc_w16(&v, CC_Q_SELECT, 0);
    g_assert_cmpuint(cc_r(&v, CC_Q_SIZE, 2), >=, QSIZE);
    cc_w16(&v, CC_Q_SIZE, QSIZE);
    cc_w16(&v, CC_Q_MSIX, 0xffff);
    cc_w64(&v, CC_Q_DESC, desc);
    cc_w64(&v, CC_Q_AVAIL, avail);
    cc_w64(&v, CC_Q_USED, used);
    cc_w16(&v, CC_Q_ENABLE, 1);
    noff = cc_r(&v, CC_Q_NOFF, 2);
    cc_w8(&v, CC_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);

    /* Kick queue 0; the entropy comes from a bottom half: poll, bounded. */
    qpci_io_writew(v.dev, v.bar[v.notify_bar], v.notify + noff * v.notify_mult, 0);
    for (i = 0; i < 10000 && qtest_readw(qts, x + (used - IOVA_A) + 2) != 1; i++) {
        qtest_clock_step(qts, 1000);
    }
    g_assert_cmpuint(qtest_readw(qts, x + (used - IOVA_A) + 2), ==, 1);

    /* Used element 0: id in page A (PA x), len in page A + 4K (PA y). */
    g_assert_cmpuint(qtest_readl(qts, x + 0xffc), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, y), ==, 16);
    /* Nothing went to the page physically after x. */
    for (i = 0; i < 1024; i++) {
        g_assert_cmphex(qtest_readl(qts, canary + 4 * i), ==, CANARY);
    }
    g_assert_cmpuint(smmu_drain_events(e->d), ==, 0);

    vio_close(&v);
    smmu_env_stop(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (strcmp(qtest_get_arch(), "aarch64")) {
        g_test_skip("viommu-smmuv3 is an aarch64 virt device");
        return g_test_run();
    }
    g_assert_true(qtest_has_device("viommu-smmuv3"));
    qtest_add_func("/viommu-smmuv3/lts/used-ring-straddles-iova-pages",
                   test_used_ring_straddles_iova_pages);
    return g_test_run();
}
