/*
 * viommu-smmuv3 DMA figures (make bench; not a test: nothing is asserted
 * about speed, and meson does not run it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

#define TD_ARGS         "-device viommu-testdev,addr=04.0"
#define SID             SMMU_TD_SID

/*
 * 1 MiB copies by the test device with no IOMMU, through this SMMU (stage 1
 * and nested) and through upstream's arm-smmuv3 (stage 1 of stage=nested).
 *
 * The machine running this is usually shared: a mode timed alone for a few
 * milliseconds measures mostly what the neighbours did meanwhile.  So the
 * four machines run side by side and are timed in short batches, round after
 * round, in a rotating order; each figure is the median over the rounds, and
 * each ratio the median of the ratios within a round (both sides timed
 * moments apart).  A freshly set-up machine copies markedly slower for its
 * first tens of milliseconds, so untimed rounds come first.
 */
#define BENCH_LEN       (1u << 20)
#define BENCH_BATCH     16          /* copies per timed batch */
#define BENCH_ROUNDS    31          /* timed batches per mode */
#define BENCH_WARMUP    2           /* untimed batches per mode first */
#define BENCH_MODES     4

typedef struct BenchSetup {
    TdMachine *m;
    Td *td;
    SmmuDrv *d;
    uint64_t src, dst;
} BenchSetup;

/* MiB/s of one batch of copies. */
static double bench_batch(BenchSetup *b)
{
    gint64 t0 = g_get_monotonic_time();

    for (int i = 0; i < BENCH_BATCH; i++) {
        g_assert_cmpuint(td_do(b->td, TD_OP_COPY, b->src, b->dst, BENCH_LEN), ==,
                         TD_ERR_NONE);
    }
    return BENCH_BATCH * (double)G_USEC_PER_SEC / (g_get_monotonic_time() - t0);
}

/* mode 0: no IOMMU, 1: ours S1, 2: ours nested, 3: upstream arm-smmuv3 S1. */
static void bench_setup(BenchSetup *b, int mode)
{
    const uint64_t va_src = 0x10000000, va_dst = 0x20000000;
    TdMachine *m;
    SmmuPt s1, s2;
    uint64_t src, dst, cdtab, ste[8] = { 0 }, cd[8];

    m = td_machine_start(mode == 3 ? "iommu=smmuv3" : NULL,
                         mode == 0 || mode == 3 ? TD_ARGS : "-device viommu-smmuv3 " TD_ARGS);
    *b = (BenchSetup) { .m = m, .td = td_open(m, TD_DEVFN) };
    src = smmu_alloc(m, BENCH_LEN, BENCH_LEN);
    dst = smmu_alloc(m, BENCH_LEN, BENCH_LEN);
    if (mode == 0) {
        b->src = src;
        b->dst = dst;
    } else {
        SmmuDrv *d = mode == 3 ? smmu_drv_init_lenient(m, 8, 6) :
                                 smmu_drv_init(m, false, 8, 6);

        smmu_pt_init(&s1, m, false, 12, 48, -1);
        smmu_pt_map(&s1, va_src, mode == 2 ? va_src : src, BENCH_LEN, PT_R | PT_W);
        smmu_pt_map(&s1, va_dst, mode == 2 ? va_dst : dst, BENCH_LEN, PT_R | PT_W);
        cdtab = smmu_alloc(m, 64, 64);
        smmu_cd(cd, &s1, 1);
        smmu_write_cd(d, cdtab, cd);
        smmu_ste_s1(ste, cdtab, 0, 0, 0);
        if (mode == 2) {
            smmu_pt_init(&s2, m, true, 12, 48, 0);
            for (unsigned i = 0; i < s1.ntables; i++) {
                smmu_pt_map(&s2, s1.tables[i], s1.tables[i], 4096, PT_R | PT_W);
            }
            smmu_pt_map(&s2, cdtab & ~0xfffull, cdtab & ~0xfffull, 4096, PT_R);
            smmu_pt_map(&s2, va_src, src, BENCH_LEN, PT_R | PT_W);
            smmu_pt_map(&s2, va_dst, dst, BENCH_LEN, PT_R | PT_W);
            smmu_ste_s2(ste, &s2, 1);
        }
        smmu_write_ste(d, SID, ste);
        b->d = d;
        b->src = va_src;
        b->dst = va_dst;
    }
    /* First touches of RAM, caches filled. */
    g_assert_cmpuint(td_do(b->td, TD_OP_COPY, b->src, b->dst, BENCH_LEN), ==, TD_ERR_NONE);
}

static void bench_teardown(BenchSetup *b)
{
    if (b->d) {
        smmu_drv_free(b->d);
    }
    td_close(b->td);
    td_machine_stop(b->m);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void test_bench(void)
{
    static const char *names[] = { "no IOMMU", "viommu-smmuv3 S1", "viommu-smmuv3 nested",
                                   "upstream arm-smmuv3 S1" };
    BenchSetup b[BENCH_MODES];
    double mibs[BENCH_MODES][BENCH_ROUNDS], ratio[BENCH_MODES][BENCH_ROUNDS];
    double vs_up[BENCH_ROUNDS];

    for (int i = 0; i < BENCH_MODES; i++) {
        bench_setup(&b[i], i);
    }
    for (int r = 0; r < BENCH_WARMUP; r++) {
        for (int i = 0; i < BENCH_MODES; i++) {
            bench_batch(&b[i]);
        }
    }
    for (int r = 0; r < BENCH_ROUNDS; r++) {
        for (int k = 0; k < BENCH_MODES; k++) {
            int i = (r + k) % BENCH_MODES;

            mibs[i][r] = bench_batch(&b[i]);
        }
        for (int i = 0; i < BENCH_MODES; i++) {
            ratio[i][r] = mibs[i][r] / mibs[0][r];
        }
        vs_up[r] = mibs[1][r] / mibs[3][r];
    }
    for (int i = 0; i < BENCH_MODES; i++) {
        g_test_message("%-24s %8.1f MiB/s (%.2fx no IOMMU)", names[i],
                       median(mibs[i], BENCH_ROUNDS), median(ratio[i], BENCH_ROUNDS));
    }
    g_test_message("ours S1 / upstream S1: %.2fx", median(vs_up, BENCH_ROUNDS));
    for (int i = 0; i < BENCH_MODES; i++) {
        bench_teardown(&b[i]);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-smmuv3/perf/dma-1m", test_bench);
    return g_test_run();
}
