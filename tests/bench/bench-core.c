/*
 * Benchmark of the translation core (make bench): per walker, IOTLB hit,
 * miss with a 4-level walk and miss with a nested 4x4 walk, in ns per
 * translation (median of repeated runs) and memory reads per translation,
 * plus the IOTLB memory use against its bound, and the cost of page- and
 * domain-selective invalidations against the number of entries cached.
 *
 * Walkers: Arm VMSAv8-64 (stage 1, nested stage 1 over stage 2), VT-d first
 * stage (x86-64 4-level paging), VT-d second stage (4-level), VT-d nested
 * (first stage over second stage).
 *
 * Usage: bench-core [FILTER]   only rows whose "walker: case" contains
 * FILTER (e.g. "hit", for a callgrind count of the hit path alone).
 * VI_BENCH_RUNS=n changes the number of runs (default 15).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-mem.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/nested.h"

#define NPAGES      4096        /* distinct pages translated */
#define HOT         256         /* pages in the hot working set */
#define MAX_RUNS    101
#define IPA_OFF     0x100000000ull
#define OUT_BASE    0x80000000ull
#define OUT2_BASE   0x800000000ull

/* CPU time of this thread: time the machine gives other work does not count. */
static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define FS_TBL  (VI_X86_FS_P | VI_X86_FS_RW | VI_X86_FS_US | VI_X86_FS_A)
#define FS_LEAF (FS_TBL | VI_X86_FS_D)
#define SS_RW   (VI_VTD_SS_R | VI_VTD_SS_W)

typedef struct bench_env {
    fake_mem *fm;
    const vi_mem *mem;
    /* Arm */
    vi_armv8_s1 s1, s1n;
    vi_armv8_s2 s2;
    /* VT-d */
    vi_x86_fs_cfg fs, fsn;
    vi_vtd_ss_cfg ss, ssn;
    uint64_t va[NPAGES];
} bench_env;

static volatile uint64_t sink;

/* VAs spread so every walk needs distinct tables at each level. */
static uint64_t bench_va(unsigned i)
{
    return ((uint64_t)(i & 7) << 39) | ((uint64_t)((i >> 3) & 7) << 30) |
           ((uint64_t)((i >> 6) & 7) << 21) | ((uint64_t)(i >> 9) << 12);
}

static void setup_armv8(bench_env *e)
{
    vi_armv8_s1_cfg c1;
    vi_armv8_s2_cfg c2;
    ptb m1, m2, mn;

    /* Stage 1 (plain): 4K, 48-bit, 4 levels, page mappings. */
    ptb_init_armv8(&m1, fake_mem_builder_ops(e->fm), VI_ARMV8_4K, 0, 9, 0);
    for (unsigned i = 0; i < NPAGES; i++) {
        ptb_map(&m1, e->va[i], OUT_BASE + ((uint64_t)i << 12), 3,
                       PTB_ARMV8_AF | VI_ARMV8_DESC_AP1);
    }
    memset(&c1, 0, sizeof(c1));
    c1.tt[0].ttb = ptb_root(&m1);
    c1.tt[0].tsz = 16;
    c1.tt[0].granule = VI_ARMV8_4K;
    c1.tt[1].epd = true;
    c1.oas = 48;
    if (vi_armv8_s1_prepare(&c1, &e->s1)) {
        abort();
    }
    /* Nested: the same stage-1 tables seen at IPA = PA + IPA_OFF, and a
     * 4-level stage 2 (4K, 48-bit IPA) mapping them and the outputs with
     * 4K pages. */
    memset(&c2, 0, sizeof(c2));
    c2.granule = VI_ARMV8_4K;
    c2.tsz = 16;
    c2.sl0 = 2;
    c2.oas = 48;
    ptb_init_armv8(&m2, fake_mem_builder_ops(e->fm), VI_ARMV8_4K, 0, 9, 0);
    c2.ttb = ptb_root(&m2);
    if (vi_armv8_s2_prepare(&c2, &e->s2)) {
        abort();
    }
    ptb_init_armv8(&mn, fake_mem_builder_ops(e->fm), VI_ARMV8_4K, 0, 9, 0);
    mn.addr_offset = IPA_OFF;
    for (unsigned i = 0; i < NPAGES; i++) {
        ptb_map(&mn, e->va[i], OUT_BASE + ((uint64_t)i << 12), 3,
                       PTB_ARMV8_AF | VI_ARMV8_DESC_AP1);
        ptb_map(&m2, OUT_BASE + ((uint64_t)i << 12),
                       OUT2_BASE + ((uint64_t)i << 12), 3,
                       PTB_ARMV8_AF | VI_ARMV8_DESC_AP1 | VI_ARMV8_DESC_AP2);
        for (int l = 0; l <= 3; l++) {
            uint64_t t = ptb_entry(&mn, e->va[i], l) & ~0xfffull;
            ptb_map(&m2, t + IPA_OFF, t, 3,
                           PTB_ARMV8_AF | VI_ARMV8_DESC_AP1 | VI_ARMV8_DESC_AP2);
        }
    }
    c1.tt[0].ttb = ptb_root(&mn);
    if (vi_armv8_s1_prepare(&c1, &e->s1n)) {
        abort();
    }
}

static void setup_x86(bench_env *e)
{
    ptb_ops ops = fake_mem_builder_ops(e->fm);
    ptb fs, ss, fsn, ssn;

    /* First stage alone: 4 levels, 4K pages, A/D already set (no updates). */
    ptb_init_x86(&fs, ops, PTB_X86_FS, 4, FS_TBL, 0);
    /* Second stage alone: 4 levels (AW 48), 4K pages. */
    ptb_init_x86(&ss, ops, PTB_VTD_SS, 4, SS_RW, 0);
    /* Nested: first-stage tables at GPA = PA + IPA_OFF, a second stage
     * mapping them and the first-stage outputs with 4K pages. */
    ptb_init_x86(&fsn, ops, PTB_X86_FS, 4, FS_TBL, 0);
    fsn.addr_offset = IPA_OFF;
    ptb_init_x86(&ssn, ops, PTB_VTD_SS, 4, SS_RW, 0);
    for (unsigned i = 0; i < NPAGES; i++) {
        uint64_t out = OUT_BASE + ((uint64_t)i << 12);

        ptb_map(&fs, e->va[i], out, 1, FS_LEAF);
        ptb_map(&ss, e->va[i], out, 1, SS_RW);
        ptb_map(&fsn, e->va[i], out, 1, FS_LEAF);
        ptb_map(&ssn, out, OUT2_BASE + ((uint64_t)i << 12), 1, SS_RW);
    }
    /* Every first-stage table page of the nested tables, at its GPA. */
    for (unsigned i = 0; i < NPAGES; i++) {
        for (int l = 1; l <= 4; l++) {
            uint64_t t = ptb_entry(&fsn, e->va[i], l) & ~0xfffull;

            ptb_map(&ssn, t + IPA_OFF, t, 1, SS_RW);
        }
    }
    e->fs = (vi_x86_fs_cfg) { .ptptr = ptb_root(&fs), .levels = 4, .haw = 48 };
    e->ss = (vi_vtd_ss_cfg) { .ptptr = ss.root, .aw_bits = 48, .haw = 48, .sllps = 3 };
    e->fsn = (vi_x86_fs_cfg) { .ptptr = ptb_root(&fsn), .levels = 4, .haw = 48 };
    e->ssn = (vi_vtd_ss_cfg) { .ptptr = ssn.root, .aw_bits = 48, .haw = 48, .sllps = 3 };
}

/* One translation without the IOTLB: true and *r, or false. */
typedef bool (*xlate_fn)(const bench_env *e, uint64_t va, vi_pt_result *r);

static bool xl_armv8_s1(const bench_env *e, uint64_t va, vi_pt_result *r)
{
    vi_fault f;

    return vi_armv8_s1_translate(&e->s1, e->mem, va, VI_ACC_R, r, &f);
}

static bool xl_armv8_nested(const bench_env *e, uint64_t va, vi_pt_result *r)
{
    vi_fault f;

    return vi_armv8_nested_translate(&e->s1n, &e->s2, e->mem, va, VI_ACC_R, r, &f);
}

static bool xl_x86_fs(const bench_env *e, uint64_t va, vi_pt_result *r)
{
    vi_fault f;

    return vi_x86_fs_translate(&e->fs, e->mem, va, VI_ACC_R, r, &f);
}

static bool xl_vtd_ss(const bench_env *e, uint64_t va, vi_pt_result *r)
{
    vi_fault f;

    return vi_vtd_ss_translate(&e->ss, e->mem, va, VI_ACC_R, r, &f);
}

static bool xl_vtd_nested(const bench_env *e, uint64_t va, vi_pt_result *r)
{
    vi_fault f;

    return vi_vtd_nested_translate(&e->fsn, &e->ssn, e->mem, va, VI_ACC_R, r, &f, NULL);
}

typedef enum { B_HIT, B_HIT_HOT, B_MISS } bench_kind;

/*
 * One run: ns per translation through the IOTLB (a hit row fills it first,
 * a miss row empties it first); *reads = memory reads per translation.
 */
static double run(bench_env *e, vi_iotlb *tlb, xlate_fn xl, uint8_t stage, bench_kind k,
                  double *reads)
{
    vi_iotlb_tag tag = { .sid = 1, .ssid = 0, .asid = 1, .vmid = 1, .stage = stage };
    uint64_t r0;
    double t0, t1;

    vi_iotlb_inval_all(tlb);
    if (k != B_MISS) {
        for (unsigned i = 0; i < NPAGES; i++) {
            vi_pt_result r;

            if (!xl(e, e->va[i], &r)) {
                abort();
            }
            vi_iotlb_insert(tlb, &tag, e->va[i], &r, -1);
        }
        /* Hot pages: one untimed pass, so the walks of the fill are out of the caches. */
        for (unsigned i = 0; i < NPAGES; i++) {
            vi_iotlb_entry ent;
            uint64_t va = e->va[(i * 2654435761u) % (k == B_HIT_HOT ? HOT : NPAGES)] + 0x10;

            sink += vi_iotlb_lookup(tlb, &tag, va, &ent);
        }
    }
    r0 = fake_mem_reads(e->fm);
    t0 = now_ns();
    for (unsigned i = 0; i < NPAGES; i++) {
        vi_iotlb_entry ent;
        vi_pt_result r;
        uint64_t va = e->va[(i * 2654435761u) % (k == B_HIT_HOT ? HOT : NPAGES)] + 0x10;

        if (vi_iotlb_lookup(tlb, &tag, va, &ent) && vi_perm_allows(ent.perm, VI_ACC_R)) {
            sink += vi_iotlb_entry_out(&ent, va);
            continue;
        }
        if (!xl(e, va, &r)) {
            abort();
        }
        vi_iotlb_insert(tlb, &tag, va, &r, -1);
        sink += r.out;
    }
    t1 = now_ns();
    *reads = (double)(fake_mem_reads(e->fm) - r0) / NPAGES;
    return (t1 - t0) / NPAGES;
}

typedef struct bench_row {
    const char *walker;
    const char *name;
    xlate_fn xl;
    uint8_t stage;
    bench_kind k;
    double target;
} bench_row;

static const bench_row rows[] = {
    { "armv8", "IOTLB hit (256 hot pages)", xl_armv8_s1, VI_IOTLB_STAGE1, B_HIT_HOT, 25 },
    { "armv8", "IOTLB hit (4096 pages)", xl_armv8_s1, VI_IOTLB_STAGE1, B_HIT, 25 },
    { "armv8", "miss, 4-level stage-1 walk", xl_armv8_s1, VI_IOTLB_STAGE1, B_MISS, 400 },
    { "armv8", "miss, nested 4x4 walk", xl_armv8_nested, VI_IOTLB_NESTED, B_MISS, 2000 },
    { "x86-fs", "IOTLB hit (256 hot pages)", xl_x86_fs, VI_IOTLB_STAGE1, B_HIT_HOT, 25 },
    { "x86-fs", "IOTLB hit (4096 pages)", xl_x86_fs, VI_IOTLB_STAGE1, B_HIT, 25 },
    { "x86-fs", "miss, 4-level first-stage walk", xl_x86_fs, VI_IOTLB_STAGE1, B_MISS, 400 },
    { "vtd-ss", "IOTLB hit (256 hot pages)", xl_vtd_ss, VI_IOTLB_STAGE2, B_HIT_HOT, 25 },
    { "vtd-ss", "IOTLB hit (4096 pages)", xl_vtd_ss, VI_IOTLB_STAGE2, B_HIT, 25 },
    { "vtd-ss", "miss, 4-level second-stage walk", xl_vtd_ss, VI_IOTLB_STAGE2, B_MISS, 400 },
    { "vtd-nested", "IOTLB hit (4096 pages)", xl_vtd_nested, VI_IOTLB_NESTED, B_HIT, 25 },
    { "vtd-nested", "miss, nested 4x4 walk", xl_vtd_nested, VI_IOTLB_NESTED, B_MISS, 2000 },
};

static const char *const walker_desc[][2] = {
    { "armv8", "Arm VMSAv8-64, 4K granule, 48-bit; nested: stage 1 over a 4-level stage 2" },
    { "x86-fs", "VT-d first stage, x86-64 4-level paging, 4K pages" },
    { "vtd-ss", "VT-d second stage, 4-level (AW 48), 4K pages" },
    { "vtd-nested", "VT-d nested, 4-level first stage over 4-level second stage" },
};

/*
 * Invalidation cost on a full IOTLB of n entries (VT-d tags: second stage,
 * 4K pages): 16 domains of 64 entries each that the invalidations name,
 * and n - 1024 entries of 64 other domains that they do not.  Per
 * page-selective invalidation of one present page (the two calls
 * viommu-vtd makes: by address, then by IPA) and per domain-selective
 * invalidation of a 64-entry domain; for scale, a scope that must visit
 * every entry (by stream, matching nothing).  The first two should not grow
 * with n (only cache misses in a bigger array), the last does.
 */
#define INV_NAMED   16          /* named domains, DIDs 1..16 */
#define INV_PER     64          /* entries each */

static void inv_fill(vi_iotlb *tlb, uint32_t n)
{
    vi_iotlb_inval_all(tlb);
    /* Unrelated entries first: the named ones, newest, survive a full set. */
    for (uint32_t j = 0; j < n; j++) {
        uint32_t i = (j + INV_NAMED * INV_PER) % n;
        bool named = i < INV_NAMED * INV_PER;
        vi_iotlb_tag tag = { .sid = 8, .asid = named ? 1 + i / INV_PER : 100 + i % 64,
                             .stage = VI_IOTLB_STAGE2 };
        uint64_t iova = named ? (uint64_t)(i % INV_PER) << 12 : (uint64_t)(i / 64) << 12;
        vi_pt_result r = { .out = OUT_BASE + ((uint64_t)i << 12), .size = 4096,
                           .perm = VI_PERM_R | VI_PERM_W, .level = 1 };

        vi_iotlb_insert(tlb, &tag, iova, &r, -1);
    }
}

/* Entries the last measured invalidations compared, per invalidation. */
static double inv_visits;

static uint64_t inv_visited(vi_iotlb *tlb)
{
    vi_iotlb_stats st;

    vi_iotlb_get_stats(tlb, &st);
    return st.inval_visited;
}

static double inv_psi(vi_iotlb *tlb, uint32_t n)
{
    double t0, t1;
    uint64_t v0;

    inv_fill(tlb, n);
    v0 = inv_visited(tlb);
    t0 = now_ns();
    for (uint32_t k = 0; k < INV_PER; k++) {
        vi_iotlb_scope sc = { .match = VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR, .tag.asid = 1,
                              .addr = (uint64_t)k << 12, .len = 4096, .tagged_global = true };

        sink += vi_iotlb_invalidate(tlb, &sc);
        sc.match = VI_IOTLB_M_ASID | VI_IOTLB_M_IPA;
        sink += vi_iotlb_invalidate(tlb, &sc);
    }
    t1 = now_ns();
    inv_visits = (double)(inv_visited(tlb) - v0) / INV_PER;
    return (t1 - t0) / INV_PER;
}

static double inv_dsi(vi_iotlb *tlb, uint32_t n)
{
    double t0, t1;
    uint64_t v0;

    inv_fill(tlb, n);
    v0 = inv_visited(tlb);
    t0 = now_ns();
    for (unsigned k = 0; k < INV_NAMED; k++) {
        vi_iotlb_scope sc = { .match = VI_IOTLB_M_ASID, .tag.asid = 1 + k,
                              .tagged_global = true };

        sink += vi_iotlb_invalidate(tlb, &sc);
    }
    t1 = now_ns();
    inv_visits = (double)(inv_visited(tlb) - v0) / INV_NAMED;
    return (t1 - t0) / INV_NAMED;
}

static double inv_scan(vi_iotlb *tlb, uint32_t n)
{
    vi_iotlb_scope sc = { .match = VI_IOTLB_M_SID, .tag.sid = 9 };
    double t0, t1;

    inv_fill(tlb, n);
    t0 = now_ns();
    sink += vi_iotlb_invalidate(tlb, &sc);
    t1 = now_ns();
    return t1 - t0;
}

static double median_of(double (*fn)(vi_iotlb *, uint32_t), vi_iotlb *tlb, uint32_t n,
                        int runs)
{
    double ns[MAX_RUNS];

    for (int r = 0; r < runs; r++) {
        ns[r] = fn(tlb, n);
    }
    qsort(ns, runs, sizeof(ns[0]), cmp_double);
    return ns[runs / 2];
}

#define INV_SIZES   4

static void bench_inval(int runs)
{
    static const uint32_t sizes[INV_SIZES] = { 2048, 4096, 16384, 65536 };
    double psi[INV_SIZES], dsi[INV_SIZES], scan[INV_SIZES], vpsi[INV_SIZES], vdsi[INV_SIZES];
    double vpsi_max = 0, vdsi_max = 0;

    printf("invalidation on a full IOTLB (VT-d second stage, 4K pages; %d named domains of "
           "%d entries, the rest unrelated)\n", INV_NAMED, INV_PER);
    printf("  %-8s %12s %14s %14s %16s %14s\n", "entries", "PSI ns/page", "PSI visited",
           "DSI ns", "DSI visited", "scan-all ns");
    for (unsigned i = 0; i < INV_SIZES; i++) {
        vi_iotlb *tlb = vi_iotlb_new(sizes[i]);

        if (!tlb) {
            abort();
        }
        psi[i] = median_of(inv_psi, tlb, sizes[i], runs);
        vpsi[i] = inv_visits;
        dsi[i] = median_of(inv_dsi, tlb, sizes[i], runs);
        vdsi[i] = inv_visits;
        scan[i] = median_of(inv_scan, tlb, sizes[i], runs);
        printf("  %-8u %12.1f %14.2f %14.1f %16.2f %14.1f\n", vi_iotlb_capacity(tlb), psi[i],
               vpsi[i], dsi[i], vdsi[i], scan[i]);
        vpsi_max = vpsi[i] > vpsi_max ? vpsi[i] : vpsi_max;
        vdsi_max = vdsi[i] > vdsi_max ? vdsi[i] : vdsi_max;
        vi_iotlb_free(tlb);
    }
    /*
     * Goals: entries visited per invalidation do not grow with the number
     * of unrelated entries: a PSI compares at most 2 (its page, and a rare
     * fingerprint collision), a DSI at most its domain's 64 (a scan visits
     * all).  Time also carries the cache misses of a bigger array.
     */
    printf("  PSI visits at most %.2f entries per page at any size (goal <= 2): %s\n", vpsi_max,
           vpsi_max <= 2 ? "ok" : "OVER TARGET");
    printf("  DSI visits at most %.2f entries per 64-entry domain (goal <= 64): %s\n", vdsi_max,
           vdsi_max <= 64 ? "ok" : "OVER TARGET");
    printf("  PSI time, %u / %u entries: %.2fx (scan-all: %.0fx)\n", sizes[INV_SIZES - 1],
           sizes[0], psi[INV_SIZES - 1] / psi[0], scan[INV_SIZES - 1] / scan[0]);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    const char *env_runs = getenv("VI_BENCH_RUNS");
    int runs = env_runs ? atoi(env_runs) : 15;
    uint32_t max_entries = 16384;
    const char *cur = NULL;
    bool within = true;
    unsigned at_goal = 0, measured = 0;
    bench_env e;
    vi_iotlb *tlb;

    if (runs < 1 || runs > MAX_RUNS) {
        runs = 15;
    }
    e.fm = fake_mem_new();
    e.mem = fake_mem_vi(e.fm);
    for (unsigned i = 0; i < NPAGES; i++) {
        e.va[i] = bench_va(i);
    }
    setup_armv8(&e);
    setup_x86(&e);
    tlb = vi_iotlb_new(max_entries);
    if (!tlb) {
        return 1;
    }
    printf("%u distinct pages, median of %d runs\n", NPAGES, runs);
    for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const bench_row *row = &rows[i];
        double ns[MAX_RUNS], reads = 0;
        char full[128];

        snprintf(full, sizeof(full), "%s: %s", row->walker, row->name);
        if (filter && !strstr(full, filter)) {
            continue;
        }
        if (!cur || strcmp(cur, row->walker)) {
            cur = row->walker;
            for (unsigned w = 0; w < sizeof(walker_desc) / sizeof(walker_desc[0]); w++) {
                if (!strcmp(walker_desc[w][0], cur)) {
                    printf("walker: %s (%s)\n", cur, walker_desc[w][1]);
                }
            }
            printf("  %-32s %12s %10s %14s\n", "case", "ns/transl", "target", "reads/transl");
        }
        for (int r = 0; r < runs; r++) {
            ns[r] = run(&e, tlb, row->xl, row->stage, row->k, &reads);
        }
        qsort(ns, runs, sizeof(ns[0]), cmp_double);
        printf("  %-32s %12.1f %8s%.0f %14.2f  %s\n", row->name, ns[runs / 2], "<= ",
               row->target, reads, ns[runs / 2] <= row->target ? "ok" : "OVER TARGET");
        measured++;
        at_goal += ns[runs / 2] <= row->target;
        within &= vi_iotlb_mem_bytes(tlb) <= vi_iotlb_mem_bound(max_entries);
    }
    printf("IOTLB: %u entries (max %u), memory %zu bytes, bound %zu bytes: %s\n",
           vi_iotlb_count(tlb), vi_iotlb_capacity(tlb), vi_iotlb_mem_bytes(tlb),
           vi_iotlb_mem_bound(max_entries), within ? "within" : "EXCEEDED");
    if (measured) {
        /* Goals (issue 14): hit <= 25 ns, stage-1 miss <= 400 ns, nested miss <= 2 us. */
        printf("core figures at goal: %u of %u%s\n", at_goal, measured,
               at_goal == measured ? "" : " (OVER TARGET rows above)");
    }
    if (!filter || strstr("invalidation", filter)) {
        bench_inval(runs);
    }
    vi_iotlb_free(tlb);
    fake_mem_free(e.fm);
    return 0;
}
