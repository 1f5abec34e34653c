/*
 * Benchmark of the translation core (make bench): per walker, IOTLB hit,
 * miss with a 4-level stage-1 walk and miss with a nested 4x4 walk, in ns
 * per translation (median of repeated runs) and memory reads per
 * translation, plus the IOTLB memory use against its bound.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "armv8-map.h"
#include "fake-mem.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/pt-armv8.h"

#define NPAGES      4096        /* distinct pages translated */
#define RUNS        15
#define IPA_OFF     0x100000000ull

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct bench_env {
    fake_mem *fm;
    armv8_map m1, m2;
    vi_armv8_s1 s1, s1n;
    vi_armv8_s2 s2;
    vi_iotlb *tlb;
    uint64_t va[NPAGES];
} bench_env;

static volatile uint64_t sink;

/* VAs spread so every walk needs distinct tables at each level. */
static uint64_t bench_va(unsigned i)
{
    return ((uint64_t)(i & 7) << 39) | ((uint64_t)((i >> 3) & 7) << 30) |
           ((uint64_t)((i >> 6) & 7) << 21) | ((uint64_t)(i >> 9) << 12);
}

static void setup(bench_env *e)
{
    vi_armv8_s1_cfg c1;
    vi_armv8_s2_cfg c2;

    e->fm = fake_mem_new();
    /* Stage 1 (plain): 4K, 48-bit, 4 levels, page mappings. */
    armv8_map_init(&e->m1, e->fm, VI_ARMV8_4K, 0, 9);
    for (unsigned i = 0; i < NPAGES; i++) {
        e->va[i] = bench_va(i);
        armv8_map_leaf(&e->m1, e->va[i], 0x80000000ull + ((uint64_t)i << 12), 3,
                       ARMV8_MAP_AF | VI_ARMV8_DESC_AP1);
    }
    memset(&c1, 0, sizeof(c1));
    c1.tt[0].ttb = armv8_map_root(&e->m1);
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
    {
        armv8_map mn;
        memset(&c2, 0, sizeof(c2));
        c2.granule = VI_ARMV8_4K;
        c2.tsz = 16;
        c2.sl0 = 2;
        c2.oas = 48;
        armv8_map_init(&e->m2, e->fm, VI_ARMV8_4K, 0, 9);
        c2.ttb = armv8_map_root(&e->m2);
        if (vi_armv8_s2_prepare(&c2, &e->s2)) {
            abort();
        }
        armv8_map_init(&mn, e->fm, VI_ARMV8_4K, 0, 9);
        mn.addr_offset = IPA_OFF;
        for (unsigned i = 0; i < NPAGES; i++) {
            armv8_map_leaf(&mn, e->va[i], 0x80000000ull + ((uint64_t)i << 12), 3,
                           ARMV8_MAP_AF | VI_ARMV8_DESC_AP1);
            armv8_map_leaf(&e->m2, 0x80000000ull + ((uint64_t)i << 12),
                           0x800000000ull + ((uint64_t)i << 12), 3,
                           ARMV8_MAP_AF | VI_ARMV8_DESC_AP1 | VI_ARMV8_DESC_AP2);
            for (int l = 0; l <= 3; l++) {
                uint64_t t = armv8_map_entry_pa(&mn, e->va[i], l) & ~0xfffull;
                armv8_map_leaf(&e->m2, t + IPA_OFF, t, 3,
                               ARMV8_MAP_AF | VI_ARMV8_DESC_AP1 | VI_ARMV8_DESC_AP2);
            }
        }
        c1.tt[0].ttb = armv8_map_root(&mn);
        if (vi_armv8_s1_prepare(&c1, &e->s1n)) {
            abort();
        }
    }
}

typedef enum { B_HIT, B_HIT_HOT, B_S1_MISS, B_NESTED_MISS } bench_kind;

#define HOT 256                 /* pages in the hot working set */

/* One run: ns per translation; *reads = memory reads per translation. */
static double run(bench_env *e, bench_kind k, double *reads)
{
    vi_iotlb_tag tag = { .sid = 1, .ssid = 0, .asid = 1, .vmid = 1,
                         .stage = k == B_NESTED_MISS ? VI_IOTLB_NESTED : VI_IOTLB_STAGE1 };
    const vi_mem *mem = fake_mem_vi(e->fm);
    uint64_t r0;
    double t0, t1;

    if (k == B_HIT || k == B_HIT_HOT) {
        for (unsigned i = 0; i < NPAGES; i++) {
            vi_pt_result r;
            vi_fault f;
            if (!vi_armv8_s1_translate(&e->s1, mem, e->va[i], VI_ACC_R, &r, &f)) {
                abort();
            }
            vi_iotlb_insert(e->tlb, &tag, e->va[i], &r, -1);
        }
    } else {
        vi_iotlb_inval_all(e->tlb);
    }
    r0 = fake_mem_reads(e->fm);
    t0 = now_ns();
    for (unsigned i = 0; i < NPAGES; i++) {
        vi_iotlb_entry ent;
        vi_pt_result r;
        vi_fault f;
        uint64_t va = e->va[(i * 2654435761u) % (k == B_HIT_HOT ? HOT : NPAGES)] + 0x10;

        if (vi_iotlb_lookup(e->tlb, &tag, va, &ent) && vi_perm_allows(ent.perm, VI_ACC_R)) {
            sink += vi_iotlb_entry_out(&ent, va);
            continue;
        }
        if (k == B_NESTED_MISS) {
            if (!vi_armv8_nested_translate(&e->s1n, &e->s2, mem, va, VI_ACC_R, &r, &f)) {
                abort();
            }
        } else if (!vi_armv8_s1_translate(&e->s1, mem, va, VI_ACC_R, &r, &f)) {
            abort();
        }
        vi_iotlb_insert(e->tlb, &tag, va, &r, -1);
        sink += r.out;
    }
    t1 = now_ns();
    *reads = (double)(fake_mem_reads(e->fm) - r0) / NPAGES;
    return (t1 - t0) / NPAGES;
}

int main(int argc, char **argv)
{
    static const struct { bench_kind k; const char *name; double target; } rows[] = {
        { B_HIT_HOT, "IOTLB hit (256 hot pages)", 25 },
        { B_HIT, "IOTLB hit (4096 pages)", 25 },
        { B_S1_MISS, "miss, 4-level stage-1 walk", 400 },
        { B_NESTED_MISS, "miss, nested 4x4 walk", 2000 },
    };
    bench_env e;
    uint32_t max_entries = 16384;

    setup(&e);
    e.tlb = vi_iotlb_new(max_entries);
    if (!e.tlb) {
        return 1;
    }
    printf("walker: armv8 (VMSAv8-64, 4K granule, 48-bit); %u distinct pages, "
           "median of %d runs\n", NPAGES, RUNS);
    printf("%-30s %12s %10s %14s\n", "case", "ns/transl", "target", "reads/transl");
    for (unsigned i = 0; i < 4; i++) {
        double ns[RUNS], reads = 0;

        for (int r = 0; r < RUNS; r++) {
            ns[r] = run(&e, rows[i].k, &reads);
        }
        qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
        printf("%-30s %12.1f %8s%.0f %14.2f  %s\n", rows[i].name, ns[RUNS / 2], "<= ",
               rows[i].target, reads, ns[RUNS / 2] <= rows[i].target ? "ok" : "OVER TARGET");
    }
    printf("IOTLB: %u entries (max %u), memory %zu bytes, bound %zu bytes: %s\n",
           vi_iotlb_count(e.tlb), vi_iotlb_capacity(e.tlb), vi_iotlb_mem_bytes(e.tlb),
           vi_iotlb_mem_bound(max_entries),
           vi_iotlb_mem_bytes(e.tlb) <= vi_iotlb_mem_bound(max_entries) ? "within" : "EXCEEDED");
    vi_iotlb_free(e.tlb);
    fake_mem_free(e.fm);
    return 0;
}
