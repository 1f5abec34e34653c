/*
 * make demo (until the guest Linux demo lands): drive viommu-testdev through
 * an IOMMU the way a guest driver would, and say what happened at each step.
 *
 * On x86_64 it runs q35 with intel-iommu in legacy mode and a second-stage
 * page table; on aarch64 it runs virt with arm-smmuv3 and a bypass STE.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "testdev-drv.h"

#define VTD_BASE 0xfed90000ull

static int failures;

static void say(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void expect(bool ok, const char *what)
{
    say("  %-58s %s", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

static void map_4k(TdMachine *m, uint64_t l3, uint64_t iova, uint64_t pa, uint64_t perm)
{
    uint64_t table = l3;

    for (int shift = 30; shift > 12; shift -= 9) {
        uint64_t slot = table + ((iova >> shift) & 0x1ff) * 8;
        uint64_t e = qtest_readq(m->qts, slot);

        if (!(e & 1)) {
            e = td_alloc(m, 4096) | 3;
            qtest_writeq(m->qts, slot, e);
        }
        table = e & ~0xfffull;
    }
    qtest_writeq(m->qts, table + ((iova >> 12) & 0x1ff) * 8, pa | perm);
}

static void demo_x86(void)
{
    TdMachine *m = td_machine_start("kernel-irqchip=split",
                                    "-device intel-iommu,aw-bits=39 "
                                    "-device viommu-testdev,addr=04.0");
    Td *td = td_open(m, TD_DEVFN);
    const uint32_t len = 64 * 1024;
    uint64_t root = td_alloc(m, 4096), ctx = td_alloc(m, 4096), l3 = td_alloc(m, 4096);
    uint64_t src = td_alloc(m, len), dst = td_alloc(m, len), msi = td_alloc(m, 4096);
    const uint64_t iova_src = 0x10000000, iova_dst = 0x20000000, iova_msi = 0x30000000;
    g_autofree uint8_t *data = g_malloc(len), *back = g_malloc(len);
    uint32_t err;

    say("q35 + intel-iommu (legacy mode) + viommu-testdev at 00:04.0");
    qtest_writeq(m->qts, root, ctx | 1);
    qtest_writeq(m->qts, ctx + TD_DEVFN * 16, l3 | 1);
    qtest_writeq(m->qts, ctx + TD_DEVFN * 16 + 8, 1 | (1 << 8));
    for (uint32_t off = 0; off < len; off += 4096) {
        map_4k(m, l3, iova_src + off, src + off, 1);        /* read-only */
        map_4k(m, l3, iova_dst + off, dst + off, 3);        /* read-write */
    }
    map_4k(m, l3, iova_msi, msi, 3);
    say("  second-stage table at 0x%" PRIx64 ": IOVA 0x%" PRIx64 " -> GPA 0x%" PRIx64
        " (RO), IOVA 0x%" PRIx64 " -> GPA 0x%" PRIx64 " (RW), %u KiB each",
        l3, iova_src, src, iova_dst, dst, len / 1024);
    qtest_writeq(m->qts, VTD_BASE + 0x20, root);
    qtest_writel(m->qts, VTD_BASE + 0x18, 1u << 30);        /* SRTP */
    qtest_writel(m->qts, VTD_BASE + 0x18, 1u << 31);        /* TE */
    say("  root table set, translation enabled (GSTS 0x%08x)",
        qtest_readl(m->qts, VTD_BASE + 0x1c));

    for (uint32_t i = 0; i < len; i++) {
        data[i] = i * 7 + 3;
    }
    qtest_memwrite(m->qts, src, data, len);
    td_msix_setup(td, 1, iova_msi, 0xd0e);
    td_writel(td, TD_IRQ, TD_IRQ_ENABLE | 1);
    err = td_do(td, TD_OP_COPY, iova_src, iova_dst, len);
    qtest_memread(m->qts, dst, back, len);
    say("  DMA copy of %u KiB, IOVA 0x%" PRIx64 " -> IOVA 0x%" PRIx64 ": error %u",
        len / 1024, iova_src, iova_dst, err);
    expect(err == TD_ERR_NONE && !memcmp(back, data, len),
           "destination GPA holds the source bytes");
    expect(qtest_readl(m->qts, msi) == 0xd0e, "MSI-X completion written through the IOMMU");

    err = td_do(td, TD_OP_CHECKSUM, iova_dst, 0, len);
    expect(err == TD_ERR_NONE && td_readq(td, TD_RESULT_LO) == td_fnv1a64(data, len),
           "device checksum of the copy matches");

    err = td_do(td, TD_OP_COPY, iova_dst, iova_src, 4096);
    say("  DMA write to the read-only IOVA 0x%" PRIx64 ": error %u at 0x%" PRIx64,
        iova_src, err, td_readq(td, TD_FAULT_ADDR_LO));
    expect(err == TD_ERR_WRITE_FAULT, "refused by the IOMMU, reported by the device");
    td_close(td);
    td_machine_stop(m);
}

static void demo_arm(void)
{
    TdMachine *m = td_machine_start("iommu=smmuv3", "-device viommu-testdev,addr=04.0");
    Td *td = td_open(m, TD_DEVFN);
    uint64_t strtab = td_alloc(m, 64 * 64), a = td_alloc(m, 4096), b = td_alloc(m, 4096);
    uint32_t err;

    say("virt (GICv3) + arm-smmuv3 + viommu-testdev at 00:04.0 (StreamID 0x%x)", TD_DEVFN);
    qtest_writeq(m->qts, strtab + TD_DEVFN * 64, 1 | (4 << 1));     /* V, bypass */
    qtest_writeq(m->qts, 0x09050000 + 0x80, strtab);
    qtest_writel(m->qts, 0x09050000 + 0x88, 6);
    qtest_writel(m->qts, 0x09050000 + 0x20, 1);
    say("  linear stream table at 0x%" PRIx64 ", STE %u = bypass, SMMUEN set", strtab, TD_DEVFN);
    td_writel(td, TD_PATTERN, 0x600dcafe);
    err = td_do(td, TD_OP_FILL, 0, b, 4096);
    expect(err == TD_ERR_NONE && qtest_readl(m->qts, b + 4092) == 0x600dcafe,
           "DMA fill of 4 KiB through a bypass STE");
    qtest_writel(m->qts, a, 0x0badf00d);
    err = td_do(td, TD_OP_COPY, a, b, 4);
    expect(err == TD_ERR_NONE && qtest_readl(m->qts, b) == 0x0badf00d,
           "DMA copy through a bypass STE");
    td_close(td);
    td_machine_stop(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!strcmp(qtest_get_arch(), "x86_64")) {
        demo_x86();
    } else {
        demo_arm();
    }
    say("%s", failures ? "demo: FAILED" : "demo: all steps ok");
    return failures ? 1 : 0;
}
