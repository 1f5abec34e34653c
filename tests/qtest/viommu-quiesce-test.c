/*
 * qtests for the quiescence of the shared lock-free hit path
 * (hw/viommu/viommu-common.c): an invalidation's completion (viommu-smmuv3's
 * CMD_SYNC, viommu-vtd's wait descriptor) waits for the translations that
 * were in flight when it started.
 *
 * The translating thread is virtio-blk's iothread (translate() without the
 * BQL).  The devices' test hook x-fast-stall holds any hit of a thread
 * without the BQL right after its lookup; x-fast-stalled counts the threads
 * held.  With one held, TLBI + CMD_SYNC (or an IOTLB invalidation + wait
 * descriptor) must not complete; released, it completes and the held
 * request finishes with correct data.
 *
 * The stress: the iothread reads into IOVA V while the test thread remaps V
 * from page P_old to P_new, invalidates and waits (TLBI + CMD_SYNC, or IOTLB
 * invalidation + wait descriptor), then poisons P_old and reads into V
 * again: that read must land in P_new and P_old must stay poisoned (a stale
 * hit would write P_old).  STRESS_ROUNDS rounds per device (bounded by
 * libqos's virtqueue, which does not recycle descriptors).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "standard-headers/linux/virtio_blk.h"
#include "standard-headers/linux/virtio_config.h"
#include "smmuv3-drv.h"
#include "vtd-drv.h"

#define IOMMU_PATH      "/machine/peripheral/viommu0"
#define BLK_DEVFN       0x28                /* 05.0 */
#define BLK_SECTORS     256
#define BLK_ARGS        "-object iothread,id=io0 -drive if=none,id=d0,format=raw,file=%s " \
                        "-device virtio-blk-pci,drive=d0,iothread=io0,iommu_platform=on," \
                        "disable-legacy=on,addr=05.0"
/* Polling bound for conditions another thread makes true (not a timing check). */
#define POLL_LIMIT_US   (20 * G_USEC_PER_SEC)

static uint32_t blk_word(uint64_t off)
{
    return (uint32_t)(off * 2654435761u) ^ 0xa5a5a5a5u;
}

static char *blk_image(void)
{
    g_autofree uint32_t *data = g_new(uint32_t, BLK_SECTORS * 128);
    char *path = g_strdup_printf("%s/viommu-quiesce-%d", g_get_tmp_dir(), getpid());

    for (uint64_t i = 0; i < BLK_SECTORS * 128; i++) {
        data[i] = cpu_to_le32(blk_word(i * 4));
    }
    g_assert_true(g_file_set_contents(path, (char *)data, BLK_SECTORS * 512, NULL));
    return path;
}

/* ------------------------------------------------------------------------
 * The test hook
 */
/* A property of the IOMMU (qom-set / qom-get of an integer or bool). */
static void iommu_prop_set(QTestState *qts, const char *prop, int64_t val, bool is_bool)
{
    QDict *r = is_bool ?
        qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': {'path': %s, 'property': %s, "
                  "'value': %i}}", IOMMU_PATH, prop, (bool)val) :
        qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': {'path': %s, 'property': %s, "
                  "'value': %" PRId64 "}}", IOMMU_PATH, prop, val);

    g_assert_true(qdict_haskey(r, "return"));
    qobject_unref(r);
}

static int64_t iommu_prop_get(QTestState *qts, const char *prop)
{
    QDict *r = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {'path': %s, "
                         "'property': %s}}", IOMMU_PATH, prop);
    int64_t n = qdict_get_int(r, "return");

    qobject_unref(r);
    return n;
}

static void stall_set(QTestState *qts, bool on)
{
    iommu_prop_set(qts, "x-fast-stall", on, true);
}

static int64_t stalled(QTestState *qts)
{
    return iommu_prop_get(qts, "x-fast-stalled");
}

static void wait_stalled(QTestState *qts)
{
    gint64 start = g_get_monotonic_time();

    while (stalled(qts) < 1) {
        g_assert_cmpint(g_get_monotonic_time() - start, <, POLL_LIMIT_US);
        g_usleep(1000);
    }
}

/* ------------------------------------------------------------------------
 * virtio-blk
 */
typedef struct Blk {
    TdMachine *m;
    QVirtioPCIDevice *vp;
    QVirtQueue *vq;
    uint64_t req;               /* header at 0, status at 64, data at 4096 */
    uint32_t head;
} Blk;

static void blk_open(Blk *b, TdMachine *m)
{
    uint64_t features;

    b->m = m;
    b->vp = virtio_pci_new(m->bus, &(QPCIAddress) { .devfn = BLK_DEVFN });
    g_assert_nonnull(b->vp);
    qvirtio_pci_device_enable(b->vp);
    qvirtio_start_device(&b->vp->vdev);
    features = qvirtio_get_features(&b->vp->vdev);
    g_assert_true(features & (1ull << VIRTIO_F_ACCESS_PLATFORM));
    features &= (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_ACCESS_PLATFORM);
    qvirtio_set_features(&b->vp->vdev, features);
    b->vq = qvirtqueue_setup(&b->vp->vdev, &m->alloc, 0);
    qvirtio_set_driver_ok(&b->vp->vdev);
    b->req = td_alloc(m, 8192);
}

static void blk_close(Blk *b)
{
    qvirtqueue_cleanup(b->vp->vdev.bus, b->vq, &b->m->alloc);
    qvirtio_pci_device_disable(b->vp);
    g_free(b->vp->pdev);
    g_free(b->vp);
}

/* Queue a read of one page at sector into data (an IOVA) and kick. */
static void blk_submit_to(Blk *b, uint64_t sector, uint64_t data)
{
    QTestState *qts = b->m->qts;

    qtest_writel(qts, b->req, VIRTIO_BLK_T_IN);
    qtest_writel(qts, b->req + 4, 0);
    qtest_writeq(qts, b->req + 8, sector);
    qtest_writeb(qts, b->req + 64, 0xff);
    b->head = qvirtqueue_add(qts, b->vq, b->req, 16, false, true);
    qvirtqueue_add(qts, b->vq, data, 4096, true, true);
    qvirtqueue_add(qts, b->vq, b->req + 64, 1, true, false);
    qvirtqueue_kick(qts, &b->vp->vdev, b->vq, b->head);
}

static void blk_submit(Blk *b, uint64_t sector)
{
    qtest_memset(b->m->qts, b->req + 4096, 0, 4096);
    blk_submit_to(b, sector, b->req + 4096);
}

/* Wait for the request to complete with status OK. */
static void blk_wait(Blk *b)
{
    QTestState *qts = b->m->qts;
    gint64 start = g_get_monotonic_time();
    uint32_t idx;

    while (!qvirtqueue_get_buf(qts, b->vq, &idx, NULL)) {
        g_assert_cmpint(g_get_monotonic_time() - start, <, POLL_LIMIT_US);
        qtest_clock_step(qts, 100);
    }
    g_assert_cmpuint(idx, ==, b->head);
    g_assert_cmpuint(qtest_readb(qts, b->req + 64), ==, VIRTIO_BLK_S_OK);
}

/* Whether page pa holds sector's data (first, middle and last words). */
static bool page_has(QTestState *qts, uint64_t pa, uint64_t sector)
{
    static const unsigned words[] = { 0, 511, 1023 };

    for (unsigned i = 0; i < ARRAY_SIZE(words); i++) {
        if (qtest_readl(qts, pa + words[i] * 4) != blk_word(sector * 512 + words[i] * 4)) {
            return false;
        }
    }
    return true;
}

#define POISON          0xdeadbeefu
/*
 * libqos's virtqueue never recycles descriptors (6 per round): the rounds
 * one queue of the device allows.
 */
#define STRESS_ROUNDS   150

/* Wait for the request into the data buffer; check its status and data. */
static void blk_complete(Blk *b, uint64_t sector)
{
    g_autofree uint32_t *buf = g_new(uint32_t, 1024);

    blk_wait(b);
    qtest_memread(b->m->qts, b->req + 4096, buf, 4096);
    for (unsigned i = 0; i < 1024; i++) {
        g_assert_cmphex(le32_to_cpu(buf[i]), ==, blk_word(sector * 512 + i * 4));
    }
}

static bool page_poisoned(QTestState *qts, uint64_t pa)
{
    return qtest_readl(qts, pa) == POISON && qtest_readl(qts, pa + 2044) == POISON &&
           qtest_readl(qts, pa + 4092) == POISON;
}

/* Point V at pa, invalidate it and wait for the invalidation to complete. */
typedef void RemapFn(void *opaque, uint64_t pa);

static void stress(Blk *b, uint64_t v_iova, const uint64_t pa[2], RemapFn *remap,
                   void *opaque)
{
    QTestState *qts = b->m->qts;
    unsigned stale = 0, k = 0;
    GRand *r = g_rand_new_with_seed(4242);
    uint32_t poison[1024];

    for (unsigned i = 0; i < 1024; i++) {
        poison[i] = cpu_to_le32(POISON);
    }

    remap(opaque, pa[0]);
    for (unsigned round = 0; round < STRESS_ROUNDS; round++) {
        uint64_t sa = g_rand_int_range(r, 0, BLK_SECTORS - 8);
        uint64_t sb = g_rand_int_range(r, 0, BLK_SECTORS - 8);

        /* A request in flight while V moves: it lands in one of the two pages. */
        blk_submit_to(b, sa, v_iova);
        remap(opaque, pa[k ^ 1]);
        blk_wait(b);
        g_assert_true(page_has(qts, pa[0], sa) || page_has(qts, pa[1], sa));
        k ^= 1;
        /* After the completed invalidation: the old page is no longer V. */
        qtest_memset(qts, pa[k], 0, 4096);
        qtest_memwrite(qts, pa[k ^ 1], poison, sizeof(poison));
        blk_submit_to(b, sb, v_iova);
        blk_wait(b);
        if (!page_poisoned(qts, pa[k ^ 1]) || !page_has(qts, pa[k], sb)) {
            stale++;
        }
    }
    g_test_message("%u rounds, %u stale", STRESS_ROUNDS, stale);
    g_assert_cmpuint(stale, ==, 0);
    g_rand_free(r);
}

/* ------------------------------------------------------------------------
 * viommu-smmuv3: CMD_SYNC waits for a held hit
 */
static void test_smmuv3_sync_waits(void)
{
    g_autofree char *img = blk_image();
    g_autofree char *extra = g_strdup_printf(BLK_ARGS, img);
    SmmuEnv *e = smmu_env_start("id=viommu0", false, 8, 6, extra);
    SmmuDrv *d = e->d;
    SmmuPt pt;
    uint64_t ste[8], cd[8], cdtab, sync_slot;
    uint32_t sync_idx, cons;
    gint64 start;
    Blk b;

    /* Stage 1, identity over the RAM the allocator hands out, 2 MiB blocks. */
    smmu_pt_init(&pt, e->m, false, 12, 48, -1);
    for (uint64_t a = 0x40000000ull; a < 0x50000000ull; a += 0x200000) {
        smmu_pt_map_block(&pt, 2, a, a, PT_R | PT_W);
    }
    cdtab = smmu_alloc(e->m, 64, 64);
    smmu_cd(cd, &pt, 11);
    smmu_write_cd(d, cdtab, cd);
    smmu_ste_s1(ste, cdtab, 0, 0, S1DSS_SSID0);
    smmu_write_ste(d, BLK_DEVFN, ste);

    blk_open(&b, e->m);
    blk_submit(&b, 3);              /* fills the fast path (rings, buffers) */
    blk_complete(&b, 3);

    stall_set(e->m->qts, true);
    blk_submit(&b, 7);
    wait_stalled(e->m->qts);        /* the iothread holds a hit of the old generation */

    /* TLBI + CMD_SYNC (CS = IRQ, MSI of 0 to the SYNC entry, as smmu_sync()). */
    smmu_cmd(d, CMD_TLBI_NSNH_ALL, 0);
    sync_idx = d->cmdq_prod & ((1u << d->cmdq_log2) - 1);
    sync_slot = d->cmdq + sync_idx * 16ull;
    smmu_cmd(d, CMD_SYNC | (1u << 12) | (3u << 22) | (0xfu << 24), sync_slot);
    smmu_writel(d, SMMU_CMDQ_PROD, d->cmdq_prod);
    for (int i = 0; i < 20; i++) {
        qtest_clock_step(e->m->qts, 1000);
        cons = smmu_readl(d, SMMU_CMDQ_CONS);
        g_assert_cmphex(CMDQ_CONS_ERR(cons), ==, 0);
        /* The TLBI ran, the SYNC did not complete: CONS stays at it, no MSI. */
        g_assert_cmphex(cons & ((1u << d->cmdq_log2) - 1), ==, sync_idx);
        g_assert_cmphex(qtest_readl(e->m->qts, sync_slot), !=, 0);
    }
    g_assert_cmpint(stalled(e->m->qts), ==, 1);

    stall_set(e->m->qts, false);
    start = g_get_monotonic_time();
    while ((smmu_readl(d, SMMU_CMDQ_CONS) & 0xfffff) != d->cmdq_prod) {
        g_assert_cmpint(g_get_monotonic_time() - start, <, POLL_LIMIT_US);
        qtest_clock_step(e->m->qts, 1000);
    }
    g_assert_cmphex(qtest_readl(e->m->qts, sync_slot), ==, 0);     /* the MSI landed */
    blk_complete(&b, 7);
    g_assert_cmpint(stalled(e->m->qts), ==, 0);
    /* And the queue goes on as before. */
    g_assert_cmpuint(smmu_cmd_sync(d, CMD_TLBI_NSNH_ALL, 0), ==, 0);
    blk_submit(&b, 11);
    blk_complete(&b, 11);

    blk_close(&b);
    smmu_env_stop(e);
    unlink(img);
}

/* viommu-smmuv3 stress: V is a 4 KiB page of the stage-1 table. */
typedef struct SmmuRemap {
    SmmuEnv *e;
    uint64_t pte;               /* V's leaf entry */
} SmmuRemap;

#define SMMU_V_IOVA     0x80000000ull

static void smmu_remap(void *opaque, uint64_t pa)
{
    SmmuRemap *r = opaque;
    QTestState *qts = r->e->m->qts;
    uint64_t pte = qtest_readq(qts, r->pte);

    qtest_writeq(qts, r->pte, (pte & ~0x0000fffffffff000ull) | pa);
    /* TLBI_NH_VA for ASID 11, then CMD_SYNC: it must complete at once. */
    smmu_cmd(r->e->d, CMD_TLBI_NH_VA | (11ull << 48), SMMU_V_IOVA);
    g_assert_cmpuint(smmu_sync(r->e->d), ==, 0);
}

static void test_smmuv3_stress(void)
{
    g_autofree char *img = blk_image();
    g_autofree char *extra = g_strdup_printf(BLK_ARGS, img);
    SmmuEnv *e = smmu_env_start("id=viommu0", false, 8, 6, extra);
    SmmuRemap rm = { .e = e };
    uint64_t ste[8], cd[8], cdtab, pa[2];
    SmmuPt pt;
    Blk b;

    smmu_pt_init(&pt, e->m, false, 12, 48, -1);
    for (uint64_t a = 0x40000000ull; a < 0x50000000ull; a += 0x200000) {
        smmu_pt_map_block(&pt, 2, a, a, PT_R | PT_W);
    }
    pa[0] = td_alloc(e->m, 4096);
    pa[1] = td_alloc(e->m, 4096);
    smmu_pt_map(&pt, SMMU_V_IOVA, pa[0], 4096, PT_R | PT_W);
    rm.pte = smmu_pt_leaf(&pt, SMMU_V_IOVA);
    cdtab = smmu_alloc(e->m, 64, 64);
    smmu_cd(cd, &pt, 11);
    smmu_write_cd(e->d, cdtab, cd);
    smmu_ste_s1(ste, cdtab, 0, 0, S1DSS_SSID0);
    smmu_write_ste(e->d, BLK_DEVFN, ste);

    blk_open(&b, e->m);
    stress(&b, SMMU_V_IOVA, pa, smmu_remap, &rm);
    blk_close(&b);
    smmu_env_stop(e);
    unlink(img);
}

/* ------------------------------------------------------------------------
 * viommu-vtd: a wait descriptor waits for a held hit
 */
#define VTD_DID         5
#define VTD_RAM_MAP     (256ull << 20)

/*
 * q35 with viommu-vtd (legacy mode) and virtio-blk on img, translating
 * through *ss: identity over RAM in 2 MiB pages.
 */
static Vtd *vtd_blk_start(const char *img, uint64_t *ss)
{
    g_autofree char *args = g_strdup_printf("-device viommu-vtd,id=viommu0,scalable-mode=off "
                                            BLK_ARGS, img);
    Vtd *v = vtd_new(td_machine_start("kernel-irqchip=split", args), false);

    *ss = vtd_table(v);
    for (uint64_t a = 0; a < VTD_RAM_MAP; a += 2 << 20) {
        vtd_map(v, *ss, 3, a, 2, a, SS_RW | SS_PS, SS_RW);
    }
    vtd_ctx_legacy(v, BLK_DEVFN, 0, *ss, 1, VTD_DID);
    vtd_enable(v);
    return v;
}

static void test_vtd_wait_waits(void)
{
    g_autofree char *img = blk_image();
    uint64_t ss;
    Vtd *v = vtd_blk_start(img, &ss);
    TdMachine *m = v->m;
    uint32_t seq;
    gint64 start;
    Blk b;

    blk_open(&b, m);
    blk_submit(&b, 3);
    blk_complete(&b, 3);

    stall_set(m->qts, true);
    blk_submit(&b, 7);
    wait_stalled(m->qts);

    /* Global IOTLB invalidation, then a wait descriptor with a status write. */
    seq = ++v->wait_seq;
    qtest_writel(m->qts, v->status, 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_add(v, VIVTD_INV_WAIT | VIVTD_WAIT_SW | VIVTD_WAIT_FN | VIVTD_WAIT_SDATA(seq),
               v->status);
    vtd_qi_kick(v);
    for (int i = 0; i < 20; i++) {
        qtest_clock_step(m->qts, 1000);
        g_assert_cmphex(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE, ==, 0);
        g_assert_cmphex(qtest_readl(m->qts, v->status), ==, 0);
        g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), !=, vtd_rd64(v, VIVTD_IQT));
    }
    g_assert_cmpint(stalled(m->qts), ==, 1);

    stall_set(m->qts, false);
    start = g_get_monotonic_time();
    while (qtest_readl(m->qts, v->status) != seq) {
        g_assert_cmpint(g_get_monotonic_time() - start, <, POLL_LIMIT_US);
        qtest_clock_step(m->qts, 1000);
    }
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), ==, vtd_rd64(v, VIVTD_IQT));
    blk_complete(&b, 7);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    blk_submit(&b, 11);
    blk_complete(&b, 11);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & (VIVTD_FSTS_PPF | VIVTD_FSTS_IQE));

    blk_close(&b);
    vtd_free(v);
    td_machine_stop(m);
    unlink(img);
}

/* viommu-vtd stress: V is a 4 KiB page of the second-stage table. */
typedef struct VtdRemap {
    Vtd *v;
    uint64_t pte;
} VtdRemap;

#define VTD_V_IOVA      0x40000000ull

static void vtd_remap(void *opaque, uint64_t pa)
{
    VtdRemap *r = opaque;
    QTestState *qts = r->v->m->qts;

    qtest_writeq(qts, r->pte, pa | SS_RW);
    /* Page-selective IOTLB invalidation of V, then a wait descriptor. */
    vtd_qi_add(r->v, VIVTD_INV_IOTLB | VIVTD_INV_G(3) | VIVTD_INV_DID(VTD_DID), VTD_V_IOVA);
    vtd_qi_sync(r->v);
}

static void test_vtd_stress(void)
{
    g_autofree char *img = blk_image();
    uint64_t ss, pa[2];
    Vtd *v = vtd_blk_start(img, &ss);
    TdMachine *m = v->m;
    VtdRemap rm = { .v = v };
    Blk b;

    pa[0] = td_alloc(m, 4096);
    pa[1] = td_alloc(m, 4096);
    rm.pte = vtd_map(v, ss, 3, VTD_V_IOVA, 1, pa[0], SS_RW, SS_RW);

    blk_open(&b, m);
    stress(&b, VTD_V_IOVA, pa, vtd_remap, &rm);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & (VIVTD_FSTS_PPF | VIVTD_FSTS_IQE));
    blk_close(&b);
    vtd_free(v);
    td_machine_stop(m);
    unlink(img);
}

/*
 * viommu-vtd: an IOTLB invalidation reaches a notifier registered as
 * IOMMU_NOTIFIER_DEVIOTLB_UNMAP (vhost with ATS) as a device-TLB unmap.  The
 * x-deviotlb-probe hook registers one on the test device's space, as no
 * qtest-visible device registers one itself (vhost needs a kernel or
 * vhost-user backend).
 */
static uint32_t probe_events(QTestState *qts)
{
    return iommu_prop_get(qts, "x-deviotlb-events");
}

static void test_vtd_deviotlb_notifier(void)
{
    TdMachine *m = td_machine_start("kernel-irqchip=split", "-device viommu-vtd,id=viommu0,"
                                    "scalable-mode=off -device viommu-testdev,addr=04.0");
    Vtd *v = vtd_new(m, false);
    uint32_t before;

    vtd_ctx_legacy(v, TD_DEVFN, 0, vtd_table(v), 1, VTD_DID);
    vtd_enable(v);
    iommu_prop_set(m->qts, "x-deviotlb-probe", TD_DEVFN, false);

    before = probe_events(m->qts);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(2) | VIVTD_INV_DID(VTD_DID), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(probe_events(m->qts), >, before);
    before = probe_events(m->qts);
    /* A global invalidation too. */
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    vtd_qi_sync(v);
    g_assert_cmpuint(probe_events(m->qts), >, before);

    vtd_free(v);
    td_machine_stop(m);
}

/*
 * Both vIOMMUs refuse MAP notifiers (they do not shadow guest tables for vfio
 * device assignment): registering one, as vfio does, must fail with the
 * IOMMU's reason rather than silently get no MAP events; the requester's
 * space stays usable for UNMAP-only consumers afterwards.
 */
static void map_probe_refused(const char *machine_opts, const char *iommu)
{
    g_autofree char *extra = g_strdup_printf("-device %s,id=viommu0 "
                                             "-device viommu-testdev,addr=04.0", iommu);
    TdMachine *m = td_machine_start(machine_opts, extra);
    QDict *r, *err;

    r = qtest_qmp(m->qts, "{'execute': 'qom-set', 'arguments': {'path': %s, "
                  "'property': 'x-map-probe', 'value': %d}}", IOMMU_PATH, TD_DEVFN);
    g_assert_false(qdict_haskey(r, "return"));
    err = qdict_get_qdict(r, "error");
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(qdict_get_str(err, "desc"), "MAP"));
    qobject_unref(r);
    iommu_prop_set(m->qts, "x-deviotlb-probe", TD_DEVFN, false);
    td_machine_stop(m);
}

static void test_smmuv3_map_refused(void)
{
    map_probe_refused(NULL, "viommu-smmuv3");
}

static void test_vtd_map_refused(void)
{
    map_probe_refused("kernel-irqchip=split", "viommu-vtd");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!strcmp(qtest_get_arch(), "aarch64")) {
        qtest_add_func("/viommu-smmuv3/quiesce/sync-waits-for-hit", test_smmuv3_sync_waits);
        qtest_add_func("/viommu-smmuv3/quiesce/stress", test_smmuv3_stress);
        qtest_add_func("/viommu-smmuv3/notifier/map-refused", test_smmuv3_map_refused);
    } else if (!strcmp(qtest_get_arch(), "x86_64")) {
        qtest_add_func("/viommu-vtd/quiesce/wait-waits-for-hit", test_vtd_wait_waits);
        qtest_add_func("/viommu-vtd/quiesce/stress", test_vtd_stress);
        qtest_add_func("/viommu-vtd/notifier/deviotlb-unmap", test_vtd_deviotlb_notifier);
        qtest_add_func("/viommu-vtd/notifier/map-refused", test_vtd_map_refused);
    }
    return g_test_run();
}
