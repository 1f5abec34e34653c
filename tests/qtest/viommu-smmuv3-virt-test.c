/*
 * viommu-smmuv3 on virt: how the guest is told about it, with one instance
 * and with a second one serving a pxb-pcie root bus.
 *
 * - iort/...: the IORT as the firmware gets it (fw_cfg file etc/acpi/tables),
 *   parsed here by the layout of Arm DEN 0049E.e (independently of
 *   hw/viommu/smmuv3-iort.c): node types, identifiers, SMMUv3 base, flags,
 *   GSIVs, the DeviceID mapping of the SMMU's own MSIs, the root complex's ID
 *   mappings per host bridge range and which node each one names.
 * - dt/...: the device tree (QMP dumpdtb), parsed here: one arm,smmu-v3 node
 *   per instance with its registers, SPIs and msi-parent, and the PCIe host
 *   bridge's iommu-map sending each host bridge's RIDs to its instance.
 * - place/...: each instance's registers answer where both tables say, and the
 *   placement refuses what cannot work (same root bus twice, a non-root
 *   primary-bus, two instances with one msi-devid).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "qobject/qdict.h"

#define VIRT_FW_CFG_BASE    0x09020000ull
#define SMMU0_BASE          0x09050000ull
#define SMMU1_BASE          0x090c0000ull
#define SMMU0_SPI           74
#define SMMU1_SPI           78
#define SMMU_IDR0           0x0
#define SMMU_IDR1           0x4
#define SMMU_AIDR           0x1c

#define PXB_OPTS            "-device pxb-pcie,id=pcie.1,bus_nr=0x80,bus=pcie.0"
#define TWO_SMMUS           PXB_OPTS " -device viommu-smmuv3 " \
                            "-device viommu-smmuv3,primary-bus=pcie.1,msi-devid=0xff01"

static QTestState *start(const char *extra)
{
    return qtest_initf("-M virt,gic-version=3 -cpu max -m 256M -nic none -display none %s",
                       extra);
}

/* ------------------------------------------------------------------ IORT */

static uint32_t le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

static uint64_t le64(const uint8_t *p)
{
    return le(p, 4) | (uint64_t)le(p + 4, 4) << 32;
}

typedef struct {
    uint8_t *blob;
    size_t len;
    const uint8_t *t;       /* the IORT within blob */
    uint32_t tlen;
} Iort;

/*
 * virt's fw_cfg (docs/specs/fw_cfg.rst): data at +0, a big-endian selector
 * at +8 (libqos' mm_fw_cfg has another layout).
 */
static void fwcfg_select(QTestState *qts, uint16_t key)
{
    qtest_writew(qts, VIRT_FW_CFG_BASE + 8, bswap16(key));
}

static void fwcfg_read(QTestState *qts, void *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        ((uint8_t *)buf)[i] = qtest_readb(qts, VIRT_FW_CFG_BASE);
    }
}

#define FW_CFG_FILE_DIR     0x19

/* The tables are laid out one after the other in etc/acpi/tables. */
static void iort_fetch(QTestState *qts, Iort *io)
{
    uint32_t n, be;
    size_t off = 0;

    fwcfg_select(qts, FW_CFG_FILE_DIR);
    fwcfg_read(qts, &be, 4);
    n = be32_to_cpu(be);
    io->len = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct { uint32_t size; uint16_t select, reserved; char name[56]; } f;

        fwcfg_read(qts, &f, sizeof(f));
        if (!strcmp(f.name, "etc/acpi/tables")) {
            io->len = be32_to_cpu(f.size);
            fwcfg_select(qts, be16_to_cpu(f.select));
            break;
        }
    }
    g_assert_cmpuint(io->len, >, 36);
    io->blob = g_malloc0(io->len);
    fwcfg_read(qts, io->blob, io->len);
    io->t = NULL;
    while (off + 36 <= io->len) {
        uint32_t l = le(io->blob + off + 4, 4);

        if (l < 36 || off + l > io->len) {
            break;
        }
        if (!memcmp(io->blob + off, "IORT", 4)) {
            io->t = io->blob + off;
            io->tlen = l;
            break;
        }
        off += l;
    }
    g_assert_nonnull(io->t);
}

typedef struct {
    unsigned off;           /* from the start of the table */
    uint8_t type, rev;
    uint16_t len;
    uint32_t id, nmaps, map_off;
} IortNode;

typedef struct {
    uint32_t in, count, out, ref, flags;    /* count: number of IDs, not minus 1 */
} IortMap;

/* Node i (0-based) of the table, checked to lie within it. */
static IortNode iort_node(const Iort *io, unsigned idx)
{
    uint32_t n = le(io->t + 36, 4), off = le(io->t + 40, 4);
    IortNode nd;

    g_assert_cmpuint(idx, <, n);
    for (unsigned i = 0;; i++) {
        g_assert_cmpuint(off + 16, <=, io->tlen);
        nd.off = off;
        nd.type = io->t[off];
        nd.len = le(io->t + off + 1, 2);
        nd.rev = io->t[off + 3];
        nd.id = le(io->t + off + 4, 4);
        nd.nmaps = le(io->t + off + 8, 4);
        nd.map_off = le(io->t + off + 12, 4);
        g_assert_cmpuint(nd.len, >=, 16);
        g_assert_cmpuint(off + nd.len, <=, io->tlen);
        g_assert_cmpuint(nd.map_off + nd.nmaps * 20, <=, nd.len);
        if (i == idx) {
            return nd;
        }
        off += nd.len;
    }
}

static IortMap iort_map(const Iort *io, const IortNode *nd, unsigned i)
{
    const uint8_t *m = io->t + nd->off + nd->map_off + 20 * i;

    g_assert_cmpuint(i, <, nd->nmaps);
    return (IortMap) { le(m, 4), le(m + 4, 4) + 1, le(m + 8, 4), le(m + 12, 4), le(m + 16, 4) };
}

static void check_header(const Iort *io, unsigned nodes)
{
    g_assert_cmpuint(io->t[8], ==, 6);                     /* revision (E.e) */
    g_assert_cmpuint(le(io->t + 36, 4), ==, nodes);
    g_assert_cmpuint(le(io->t + 40, 4), ==, 48);
}

static void check_its_group(const Iort *io, const IortNode *its)
{
    g_assert_cmpuint(its->type, ==, 0);
    g_assert_cmpuint(its->len, ==, 24);
    g_assert_cmpuint(its->nmaps, ==, 0);
    g_assert_cmpuint(le(io->t + its->off + 16, 4), ==, 1);     /* one ITS */
    g_assert_cmpuint(le(io->t + its->off + 20, 4), ==, 0);     /* its ID */
}

/*
 * An SMMUv3 node of ours: base, COHACC, the HTTU override (2: HA + HD, with
 * httu on, the default; Linux takes HTTU from here on ACPI), GSIVs = SPI +
 * 32, maps to the ITS.
 */
static void check_smmu_httu(const Iort *io, const IortNode *nd, uint64_t base, int spi,
                            uint32_t msi_devid, unsigned its_off, unsigned httu)
{
    const uint8_t *p = io->t + nd->off;
    unsigned idx;
    IortMap m;

    g_assert_cmpuint(nd->type, ==, 4);
    g_assert_cmpuint(nd->rev, ==, 5);
    g_assert_cmpuint(nd->map_off, ==, 68);
    g_assert_cmphex(le64(p + 16), ==, base);
    /* COHACC override, HTTU override, DeviceID valid */
    g_assert_cmphex(le(p + 24, 4), ==, 1 | httu << 1 | 1 << 4);
    g_assert_cmphex(le64(p + 32), ==, 0);                      /* no VATOS */
    g_assert_cmpuint(le(p + 44, 4), ==, spi + 32 + 0);         /* event: eventq */
    g_assert_cmpuint(le(p + 48, 4), ==, spi + 32 + 1);         /* PRI: priq */
    g_assert_cmpuint(le(p + 52, 4), ==, spi + 32 + 3);         /* GERR: gerror */
    g_assert_cmpuint(le(p + 56, 4), ==, spi + 32 + 2);         /* sync: cmdq-sync */
    g_assert_cmpuint(nd->nmaps, ==, 2);
    /* StreamIDs (RIDs) go to the ITS unchanged. */
    m = iort_map(io, nd, 0);
    g_assert_cmphex(m.in, ==, 0);
    g_assert_cmphex(m.count, ==, 0x10000);
    g_assert_cmphex(m.out, ==, 0);
    g_assert_cmpuint(m.ref, ==, its_off);
    g_assert_cmphex(m.flags, ==, 0);
    /* The DeviceID mapping index names a single mapping: msi-devid at the ITS. */
    idx = le(p + 64, 4);
    g_assert_cmpuint(idx, ==, 1);
    m = iort_map(io, nd, idx);
    g_assert_cmphex(m.flags, ==, 1);
    g_assert_cmphex(m.out, ==, msi_devid);
    g_assert_cmpuint(m.ref, ==, its_off);
}

static void check_rc_header(const Iort *io, const IortNode *rc, unsigned nmaps)
{
    const uint8_t *p = io->t + rc->off;

    g_assert_cmpuint(rc->type, ==, 2);
    g_assert_cmpuint(rc->map_off, ==, 36);
    g_assert_cmpuint(rc->nmaps, ==, nmaps);
    g_assert_cmpuint(le(p + 16, 4), ==, 1);                    /* CCA: coherent */
    g_assert_cmphex(p[23], ==, 3);                             /* CPM | DACS */
    g_assert_cmpuint(le(p + 28, 4), ==, 0);                    /* segment 0 */
    g_assert_cmpuint(p[32], ==, 64);                           /* address size limit */
    g_assert_cmpuint(le(p + 33, 2), ==, 20);                   /* PASID width: ssidsize */
}

static void check_rc_map(const Iort *io, const IortNode *rc, unsigned i, uint32_t in,
                         uint32_t count, unsigned ref)
{
    IortMap m = iort_map(io, rc, i);

    g_assert_cmphex(m.in, ==, in);
    g_assert_cmphex(m.count, ==, count);
    g_assert_cmphex(m.out, ==, in);                            /* RID = StreamID */
    g_assert_cmpuint(m.ref, ==, ref);
    g_assert_cmphex(m.flags, ==, 0);
}

static void check_smmu(const Iort *io, const IortNode *nd, uint64_t base, int spi,
                       uint32_t msi_devid, unsigned its_off)
{
    check_smmu_httu(io, nd, base, spi, msi_devid, its_off, 2);
}

static void test_iort_one(void)
{
    QTestState *qts = start("-device viommu-smmuv3");
    Iort io;
    IortNode its, smmu, rc;

    iort_fetch(qts, &io);
    check_header(&io, 3);
    its = iort_node(&io, 0);
    smmu = iort_node(&io, 1);
    rc = iort_node(&io, 2);
    check_its_group(&io, &its);
    check_smmu(&io, &smmu, SMMU0_BASE, SMMU0_SPI, 0xff00, its.off);
    check_rc_header(&io, &rc, 1);
    check_rc_map(&io, &rc, 0, 0, 0x10000, smmu.off);
    /* Identifiers are unique. */
    g_assert_cmpuint(its.id, !=, smmu.id);
    g_assert_cmpuint(smmu.id, !=, rc.id);
    g_assert_cmpuint(its.id, !=, rc.id);
    g_free(io.blob);
    qtest_quit(qts);
}

/* httu=off: no HTTU override (ACPI Linux then enables no HA / HD). */
static void test_iort_httu_off(void)
{
    QTestState *qts = start("-device viommu-smmuv3,httu=off");
    Iort io;
    IortNode its, smmu;

    iort_fetch(qts, &io);
    its = iort_node(&io, 0);
    smmu = iort_node(&io, 1);
    check_smmu_httu(&io, &smmu, SMMU0_BASE, SMMU0_SPI, 0xff00, its.off, 0);
    g_free(io.blob);
    qtest_quit(qts);
}

static void test_iort_two(void)
{
    QTestState *qts = start(TWO_SMMUS);
    Iort io;
    IortNode its, s0, s1, rc;

    iort_fetch(qts, &io);
    check_header(&io, 4);
    its = iort_node(&io, 0);
    s0 = iort_node(&io, 1);
    s1 = iort_node(&io, 2);
    rc = iort_node(&io, 3);
    check_its_group(&io, &its);
    check_smmu(&io, &s0, SMMU0_BASE, SMMU0_SPI, 0xff00, its.off);
    check_smmu(&io, &s1, SMMU1_BASE, SMMU1_SPI, 0xff01, its.off);
    check_rc_header(&io, &rc, 2);
    /* pcie.0 owns buses 0..0x7f, the pxb-pcie 0x80..0xff, each its own SMMU. */
    check_rc_map(&io, &rc, 0, 0x0000, 0x8000, s0.off);
    check_rc_map(&io, &rc, 1, 0x8000, 0x8000, s1.off);
    g_assert_cmpuint(s0.id, !=, s1.id);
    g_free(io.blob);
    qtest_quit(qts);
}

/* A pxb-pcie without an SMMU of its own is translated by pcie.0's (walk-up). */
static void test_iort_pxb_shared(void)
{
    QTestState *qts = start(PXB_OPTS " -device viommu-smmuv3");
    Iort io;
    IortNode smmu, rc;

    iort_fetch(qts, &io);
    check_header(&io, 3);
    smmu = iort_node(&io, 1);
    rc = iort_node(&io, 2);
    check_rc_header(&io, &rc, 2);
    check_rc_map(&io, &rc, 0, 0x0000, 0x8000, smmu.off);
    check_rc_map(&io, &rc, 1, 0x8000, 0x8000, smmu.off);
    g_free(io.blob);
    qtest_quit(qts);
}

/* A pxb-pcie with bypass_iommu: its RIDs go straight to the ITS. */
static void test_iort_pxb_bypass(void)
{
    QTestState *qts = start("-device pxb-pcie,id=pcie.1,bus_nr=0x40,bus=pcie.0,"
                            "bypass_iommu=on -device viommu-smmuv3");
    Iort io;
    IortNode its, smmu, rc;

    iort_fetch(qts, &io);
    its = iort_node(&io, 0);
    smmu = iort_node(&io, 1);
    rc = iort_node(&io, 2);
    check_rc_header(&io, &rc, 2);
    check_rc_map(&io, &rc, 0, 0x0000, 0x4000, smmu.off);
    check_rc_map(&io, &rc, 1, 0x4000, 0xc000, its.off);
    g_free(io.blob);
    qtest_quit(qts);
}

/* Without our device, virt's own IORT is left alone (the hook returns false). */
static void test_iort_upstream(void)
{
    QTestState *qts = qtest_init("-M virt,gic-version=3,iommu=smmuv3 -cpu max -m 256M "
                                 "-nic none -display none");
    Iort io;
    IortNode smmu;

    iort_fetch(qts, &io);
    g_assert_cmpuint(io.t[8], ==, 3);                      /* virt's: E.b */
    g_assert_cmpuint(le(io.t + 36, 4), ==, 3);
    smmu = iort_node(&io, 1);
    g_assert_cmpuint(smmu.type, ==, 4);
    g_assert_cmpuint(smmu.nmaps, ==, 1);     /* ours always has 2 with msi=on */
    g_free(io.blob);
    qtest_quit(qts);
}

/* ------------------------------------------------------------ device tree */

#define FDT_BEGIN_NODE  1
#define FDT_END_NODE    2
#define FDT_PROP        3
#define FDT_NOP         4
#define FDT_END         9

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

/*
 * The property NAME of the node whose path is PATH (unit addresses
 * included), or NULL; *len its length.
 */
static const uint8_t *fdt_prop(const uint8_t *fdt, size_t size, const char *path,
                               const char *name, uint32_t *len)
{
    uint32_t st = be32(fdt + 8), strs = be32(fdt + 12), st_size = be32(fdt + 36);
    GString *cur = g_string_new("");
    size_t saved[64];       /* path length before each open node */
    unsigned depth = 0;
    const uint8_t *found = NULL;
    size_t off = st;

    g_assert_cmphex(be32(fdt), ==, 0xd00dfeed);
    g_assert_cmpuint(st + st_size, <=, size);
    while (off + 4 <= st + st_size && !found) {
        uint32_t tok = be32(fdt + off);

        off += 4;
        if (tok == FDT_BEGIN_NODE) {
            const char *n = (const char *)fdt + off;
            size_t l = strnlen(n, st + st_size - off);

            g_assert_cmpuint(depth, <, ARRAY_SIZE(saved));
            saved[depth++] = cur->len;
            if (cur->len != 1) {
                g_string_append_c(cur, '/');    /* the root ("") becomes "/" */
            }
            g_string_append_len(cur, n, l);
            off += ROUND_UP(l + 1, 4);
        } else if (tok == FDT_END_NODE) {
            g_assert_cmpuint(depth, >, 0);
            g_string_truncate(cur, saved[--depth]);
        } else if (tok == FDT_PROP) {
            uint32_t plen = be32(fdt + off), noff = be32(fdt + off + 4);

            if (!strcmp(cur->str, path) &&
                !strcmp((const char *)fdt + strs + noff, name)) {
                found = fdt + off + 8;
                *len = plen;
            }
            off += 8 + ROUND_UP(plen, 4);
        } else if (tok != FDT_NOP) {
            break;
        }
    }
    g_string_free(cur, true);
    return found;
}

static uint8_t *dump_dtb(QTestState *qts, size_t *size)
{
    g_autofree char *path = g_strdup_printf("%s/viommu-virt-%d.dtb", g_get_tmp_dir(), getpid());
    char *dtb = NULL;

    qtest_qmp_assert_success(qts, "{'execute': 'dumpdtb', 'arguments': {'filename': %s}}", path);
    g_assert_true(g_file_get_contents(path, &dtb, size, NULL));
    unlink(path);
    return (uint8_t *)dtb;
}

static uint32_t check_dt_smmu(const uint8_t *fdt, size_t size, uint64_t base, int spi,
                              uint32_t msi_devid)
{
    g_autofree char *node = g_strdup_printf("/smmuv3@%" PRIx64, base);
    const uint8_t *p;
    uint32_t len;

    p = fdt_prop(fdt, size, node, "compatible", &len);
    g_assert_nonnull(p);
    g_assert_cmpstr((const char *)p, ==, "arm,smmu-v3");
    p = fdt_prop(fdt, size, node, "reg", &len);
    g_assert_cmpuint(len, ==, 16);
    g_assert_cmphex((uint64_t)be32(p) << 32 | be32(p + 4), ==, base);
    g_assert_cmphex(be32(p + 12), ==, 0x20000);
    p = fdt_prop(fdt, size, node, "interrupts", &len);
    g_assert_cmpuint(len, ==, 4 * 12);
    for (int i = 0; i < 4; i++) {
        g_assert_cmpuint(be32(p + 12 * i), ==, 0);                 /* SPI */
        g_assert_cmpuint(be32(p + 12 * i + 4), ==, spi + i);
    }
    p = fdt_prop(fdt, size, node, "msi-parent", &len);
    g_assert_cmpuint(len, ==, 8);
    g_assert_cmphex(be32(p + 4), ==, msi_devid);
    p = fdt_prop(fdt, size, node, "phandle", &len);
    g_assert_cmpuint(len, ==, 4);
    return be32(p);
}

static void test_dt_one(void)
{
    QTestState *qts = start("-device viommu-smmuv3");
    size_t size;
    g_autofree uint8_t *fdt = dump_dtb(qts, &size);
    uint32_t ph = check_dt_smmu(fdt, size, SMMU0_BASE, SMMU0_SPI, 0xff00), len;
    const uint8_t *map = fdt_prop(fdt, size, "/pcie@10000000", "iommu-map", &len);
    static const uint32_t want[4] = { 0, 0, 0, 0x10000 };

    g_assert_nonnull(map);
    g_assert_cmpuint(len, ==, 16);
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(be32(map + 4 * i), ==, i == 1 ? ph : want[i]);
    }
    qtest_quit(qts);
}

static void test_dt_two(void)
{
    QTestState *qts = start(TWO_SMMUS);
    size_t size;
    g_autofree uint8_t *fdt = dump_dtb(qts, &size);
    uint32_t ph0 = check_dt_smmu(fdt, size, SMMU0_BASE, SMMU0_SPI, 0xff00);
    uint32_t ph1 = check_dt_smmu(fdt, size, SMMU1_BASE, SMMU1_SPI, 0xff01), len;
    const uint8_t *map = fdt_prop(fdt, size, "/pcie@10000000", "iommu-map", &len);
    uint32_t want[8] = { 0, ph0, 0, 0x8000, 0x8000, ph1, 0x8000, 0x8000 };

    g_assert_cmpuint(ph0, !=, ph1);
    g_assert_nonnull(map);
    g_assert_cmpuint(len, ==, sizeof(want));
    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(be32(map + 4 * i), ==, want[i]);
    }
    qtest_quit(qts);
}

/* -------------------------------------------------------------- placement */

/* Both instances answer at the bases both tables give, as the same model. */
static void test_place_registers(void)
{
    QTestState *qts = start(TWO_SMMUS);

    g_assert_cmphex(qtest_readl(qts, SMMU1_BASE + SMMU_IDR0), !=, 0);
    g_assert_cmphex(qtest_readl(qts, SMMU1_BASE + SMMU_IDR0), ==,
                    qtest_readl(qts, SMMU0_BASE + SMMU_IDR0));
    g_assert_cmphex(qtest_readl(qts, SMMU1_BASE + SMMU_IDR1), ==,
                    qtest_readl(qts, SMMU0_BASE + SMMU_IDR1));
    g_assert_cmphex(qtest_readl(qts, SMMU1_BASE + SMMU_AIDR), ==,
                    qtest_readl(qts, SMMU0_BASE + SMMU_AIDR));
    qtest_quit(qts);
}

static void test_place_refused(void)
{
    static const struct {
        const char *opts, *msg;
    } bad[] = {
        { "-device viommu-smmuv3 -device viommu-smmuv3", "already has an IOMMU" },
        { PXB_OPTS " -device viommu-smmuv3,primary-bus=pcie.1 "
          "-device viommu-smmuv3,primary-bus=pcie.1,msi-devid=0xff02", "already has an IOMMU" },
        { PXB_OPTS " -device viommu-smmuv3 -device viommu-smmuv3,primary-bus=pcie.1",
          "msi-devid 0xff00 is another" },
        { "-device pcie-root-port,id=rp0,chassis=1 -device viommu-smmuv3,primary-bus=rp0",
          "must be a PCIe root bus" },
    };
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");

    for (int i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *cmd = g_strdup_printf("%s -M virt,gic-version=3 -cpu max -nic none "
                                               "-display none -S %s", qemu, bad[i].opts);
        g_autofree char *out = NULL, *err = NULL;
        int status;

        g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, NULL));
        g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
        if (!strstr(err, bad[i].msg)) {
            g_test_message("'%s': %s", bad[i].opts, err);
        }
        g_assert_nonnull(strstr(err, bad[i].msg));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("viommu-smmuv3-virt/iort/one", test_iort_one);
    qtest_add_func("viommu-smmuv3-virt/iort/httu-off", test_iort_httu_off);
    qtest_add_func("viommu-smmuv3-virt/iort/two", test_iort_two);
    qtest_add_func("viommu-smmuv3-virt/iort/pxb-shared", test_iort_pxb_shared);
    qtest_add_func("viommu-smmuv3-virt/iort/pxb-bypass", test_iort_pxb_bypass);
    qtest_add_func("viommu-smmuv3-virt/iort/upstream", test_iort_upstream);
    qtest_add_func("viommu-smmuv3-virt/dt/one", test_dt_one);
    qtest_add_func("viommu-smmuv3-virt/dt/two", test_dt_two);
    qtest_add_func("viommu-smmuv3-virt/place/registers", test_place_registers);
    qtest_add_func("viommu-smmuv3-virt/place/refused", test_place_refused);
    return g_test_run();
}
