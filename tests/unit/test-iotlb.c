/*
 * Unit tests of the IOTLB: lookups for every block size, the size bound and
 * eviction, and every invalidation scope removing exactly what it should.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "hw/viommu/core/iotlb.h"

static vi_pt_result mkres(uint64_t out, uint64_t size, uint32_t perm, int level, bool global)
{
    vi_pt_result r;

    memset(&r, 0, sizeof(r));
    r.out = out;
    r.size = size;
    r.perm = perm;
    r.level = (int8_t)level;
    r.global = global;
    return r;
}

static vi_iotlb_tag mktag(uint32_t sid, uint32_t ssid, uint16_t asid, uint16_t vmid,
                          uint8_t stage)
{
    vi_iotlb_tag t = { .sid = sid, .ssid = ssid, .asid = asid, .vmid = vmid, .stage = stage };
    return t;
}

static void test_basic(void)
{
    vi_iotlb *t = vi_iotlb_new(1024);
    vi_iotlb_tag tag = mktag(3, 1, 7, 2, VI_IOTLB_STAGE1), o;
    vi_pt_result r = mkres(0xabc000 + 0x123, 0x1000, VI_PERM_R | VI_PERM_W, 3, false);
    vi_iotlb_entry e;
    vi_iotlb_stats st;

    g_assert_nonnull(t);
    g_assert_cmpuint(vi_iotlb_capacity(t), ==, 1024);
    g_assert_false(vi_iotlb_lookup(t, &tag, 0x5000, &e));
    g_assert_true(vi_iotlb_insert(t, &tag, 0x5123, &r, -1));
    g_assert_true(vi_iotlb_lookup(t, &tag, 0x5fff, &e));
    g_assert_cmphex(vi_iotlb_entry_out(&e, 0x5fff), ==, 0xabcfff);
    g_assert_cmphex(e.perm, ==, VI_PERM_R | VI_PERM_W);
    g_assert_cmpint(e.level, ==, 3);
    g_assert_false(vi_iotlb_lookup(t, &tag, 0x6000, &e));
    g_assert_false(vi_iotlb_lookup(t, &tag, 0x4fff, &e));
    /* Any differing tag field misses. */
    o = tag; o.sid++;
    g_assert_false(vi_iotlb_lookup(t, &o, 0x5000, &e));
    o = tag; o.ssid++;
    g_assert_false(vi_iotlb_lookup(t, &o, 0x5000, &e));
    o = tag; o.asid++;
    g_assert_false(vi_iotlb_lookup(t, &o, 0x5000, &e));
    o = tag; o.vmid++;
    g_assert_false(vi_iotlb_lookup(t, &o, 0x5000, &e));
    o = tag; o.stage = VI_IOTLB_NESTED;
    g_assert_false(vi_iotlb_lookup(t, &o, 0x5000, &e));
    /* Same key again: replaced, not duplicated. */
    r.out = 0xdef000;
    g_assert_true(vi_iotlb_insert(t, &tag, 0x5000, &r, -1));
    g_assert_cmpuint(vi_iotlb_count(t), ==, 1);
    g_assert_true(vi_iotlb_lookup(t, &tag, 0x5000, &e));
    g_assert_cmphex(e.out, ==, 0xdef000);
    /* Sizes that are not a power of two in [4K, 2^52]: refused. */
    r.size = 0x3000;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x5000, &r, -1));
    r.size = 0x800;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x5000, &r, -1));
    r.size = 0;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x5000, &r, -1));
    r.size = 1ull << 53;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x5000, &r, -1));
    g_assert_cmpuint(vi_iotlb_count(t), ==, 1);
    vi_iotlb_get_stats(t, &st);
    g_assert_cmpuint(st.hits, ==, 2);
    g_assert_cmpuint(st.inserts, ==, 2);
    g_assert_null(vi_iotlb_new(0));
    vi_iotlb_free(t);
}

/* Every page / block size of every granule. */
/*
 * A result whose write permission rests on hardware-managed dirty state
 * (dirty_tracked) is cached without it: a write misses and walks again.
 */
static void test_dirty_tracked(void)
{
    vi_iotlb *t = vi_iotlb_new(64);
    vi_iotlb_tag tag = mktag(3, 0, 7, 2, VI_IOTLB_STAGE1), o = mktag(3, 0, 8, 2, VI_IOTLB_STAGE1);
    vi_pt_result r = mkres(0xabc000, 0x1000, VI_PERM_R | VI_PERM_W | VI_PERM_UR | VI_PERM_UW,
                           3, false);
    vi_iotlb_entry e;

    r.dirty_tracked = true;
    g_assert_true(vi_iotlb_insert(t, &tag, 0x5000, &r, -1));
    g_assert_true(vi_iotlb_lookup(t, &tag, 0x5000, &e));
    g_assert_cmphex(e.perm, ==, VI_PERM_R | VI_PERM_UR);
    r.dirty_tracked = false;
    g_assert_true(vi_iotlb_insert(t, &o, 0x5000, &r, -1));
    g_assert_true(vi_iotlb_lookup(t, &o, 0x5000, &e));
    g_assert_cmphex(e.perm, ==, VI_PERM_R | VI_PERM_W | VI_PERM_UR | VI_PERM_UW);
    vi_iotlb_free(t);
}

static void test_block_sizes(void)
{
    static const unsigned shifts[] = { 12, 14, 16, 21, 25, 29, 30, 36, 39, 42, 47, 52 };
    vi_iotlb *t = vi_iotlb_new(256);
    vi_iotlb_tag tag = mktag(1, 0, 1, 1, VI_IOTLB_STAGE1);
    vi_iotlb_entry e;

    for (unsigned i = 0; i < G_N_ELEMENTS(shifts); i++) {
        uint64_t size = 1ull << shifts[i];
        /* Block i lives at i * 2^52 ... no: keep each in its own region. */
        uint64_t iova = ((uint64_t)(i + 1) << 53) | (size * 3);
        vi_pt_result r = mkres(size * 5, size, VI_PERM_R, 2, false);

        g_assert_true(vi_iotlb_insert(t, &tag, iova, &r, -1));
    }
    for (unsigned i = 0; i < G_N_ELEMENTS(shifts); i++) {
        uint64_t size = 1ull << shifts[i];
        uint64_t iova = ((uint64_t)(i + 1) << 53) | (size * 3);

        g_assert_true(vi_iotlb_lookup(t, &tag, iova + size - 1, &e));
        g_assert_cmpuint(e.size_shift, ==, shifts[i]);
        g_assert_cmphex(vi_iotlb_entry_out(&e, iova + size - 8), ==, size * 6 - 8);
        g_assert_false(vi_iotlb_lookup(t, &tag, iova + size, &e));
        g_assert_false(vi_iotlb_lookup(t, &tag, iova - 1, &e));
    }
    vi_iotlb_free(t);
}

/* The bound holds whatever is inserted; LRU picks the victim in a set. */
static void test_bound_and_lru(void)
{
    vi_iotlb *t = vi_iotlb_new(100);
    vi_iotlb_tag tag = mktag(1, 0, 1, 1, VI_IOTLB_STAGE1);
    vi_iotlb_entry e;
    vi_iotlb_stats st;
    vi_pt_result r = mkres(0, 0x1000, VI_PERM_R, 3, false);

    g_assert_cmpuint(vi_iotlb_capacity(t), <=, 100);
    g_assert_cmpuint(vi_iotlb_capacity(t), >=, 50);
    g_assert_cmpuint(vi_iotlb_mem_bytes(t), <=, vi_iotlb_mem_bound(100));
    for (uint64_t i = 0; i < 20000; i++) {
        tag.sid = (uint32_t)(i % 7);
        r.out = i << 12;
        g_assert_true(vi_iotlb_insert(t, &tag, i << 12, &r, -1));
        g_assert_cmpuint(vi_iotlb_count(t), <=, vi_iotlb_capacity(t));
    }
    g_assert_cmpuint(vi_iotlb_count(t), >, 0);
    vi_iotlb_get_stats(t, &st);
    g_assert_cmpuint(st.evictions, ==, 20000 - vi_iotlb_count(t));
    vi_iotlb_free(t);

    /* One set of 8 ways: touch entry 0, insert a 9th: entry 1 goes. */
    t = vi_iotlb_new(8);
    g_assert_cmpuint(vi_iotlb_capacity(t), ==, 8);
    tag.sid = 0;
    for (uint64_t i = 0; i < 8; i++) {
        g_assert_true(vi_iotlb_insert(t, &tag, i << 12, &r, -1));
    }
    g_assert_true(vi_iotlb_lookup(t, &tag, 0, &e));
    g_assert_true(vi_iotlb_insert(t, &tag, 8 << 12, &r, -1));
    g_assert_cmpuint(vi_iotlb_count(t), ==, 8);
    g_assert_true(vi_iotlb_lookup(t, &tag, 0, &e));
    g_assert_false(vi_iotlb_lookup(t, &tag, 1 << 12, &e));
    for (uint64_t i = 2; i <= 8; i++) {
        g_assert_true(vi_iotlb_lookup(t, &tag, i << 12, &e));
    }
    /* Tiny IOTLBs work too. */
    vi_iotlb_free(t);
    t = vi_iotlb_new(1);
    g_assert_cmpuint(vi_iotlb_capacity(t), ==, 1);
    g_assert_true(vi_iotlb_insert(t, &tag, 0, &r, -1));
    g_assert_true(vi_iotlb_insert(t, &tag, 0x1000, &r, -1));
    g_assert_cmpuint(vi_iotlb_count(t), ==, 1);
    g_assert_true(vi_iotlb_lookup(t, &tag, 0x1000, &e));
    vi_iotlb_free(t);
}

/*
 * The invalidation matrix: a population of entries over every tag field,
 * sizes, stages and global / non-global; each scope is checked against a
 * predicate written out for that scope from the architecture's definition.
 */
typedef struct pop_entry {
    vi_iotlb_tag tag;
    uint64_t iova, ipa;
    unsigned shift;
    int level, s2_level;
    bool global;
} pop_entry;

#define POP_MAX 4096

static unsigned populate(vi_iotlb *t, pop_entry *p)
{
    static const struct { unsigned shift; int level; } sz[] = {
        { 12, 3 }, { 21, 2 }, { 16, 3 }, { 30, 1 },
    };
    unsigned n = 0;

    for (uint32_t sid = 1; sid <= 2; sid++) {
        for (uint32_t ssid = 0; ssid <= 1; ssid++) {
            for (uint16_t asid = 1; asid <= 2; asid++) {
                for (uint16_t vmid = 1; vmid <= 2; vmid++) {
                    for (uint8_t stage = 1; stage <= 3; stage++) {
                        for (unsigned s = 0; s < G_N_ELEMENTS(sz); s++) {
                            for (unsigned k = 0; k < 3; k++) {
                                pop_entry *e = &p[n];
                                vi_pt_result r;
                                uint64_t size = 1ull << sz[s].shift;

                                e->tag = mktag(sid, ssid, asid, vmid, stage);
                                /* Address 0x4000_0000 region + k-th block */
                                e->iova = 0x40000000ull +
                                          (uint64_t)(k + s * 4 + sid * 16 + ssid * 32) * size;
                                e->ipa = stage == VI_IOTLB_NESTED ? 0x800000000ull + k * size : 0;
                                e->shift = sz[s].shift;
                                e->level = sz[s].level;
                                e->s2_level = stage == VI_IOTLB_NESTED ? 3 - (int)(k % 2) : e->level;
                                e->global = stage != VI_IOTLB_STAGE2 && (k == 2);
                                r = mkres(0x10000000000ull, size, VI_PERM_R, e->level, e->global);
                                r.ipa = e->ipa;
                                g_assert_true(vi_iotlb_insert(t, &e->tag, e->iova, &r,
                                                              stage == VI_IOTLB_NESTED ?
                                                              e->s2_level : -1));
                                n++;
                            }
                        }
                    }
                }
            }
        }
    }
    g_assert_cmpuint(vi_iotlb_count(t), ==, n);
    return n;
}

static bool ovl(uint64_t base, unsigned shift, uint64_t a, uint64_t len)
{
    return base < a + len && a < base + (1ull << shift);
}

typedef struct inval_case {
    const char *name;
    vi_iotlb_scope sc;
} inval_case;

/* What each scope must remove, stated per scope from the definitions. */
static bool expect_removed(const inval_case *c, const pop_entry *e)
{
    const vi_iotlb_scope *s = &c->sc;
    const char *n = c->name;

    if (!strcmp(n, "all")) {
        return true;
    }
    if (!strcmp(n, "vmid")) {
        return e->tag.vmid == 2;
    }
    if (!strcmp(n, "asid")) {   /* non-global S1 / nested entries of ASID 1 in VMID 2 */
        return e->tag.vmid == 2 && e->tag.asid == 1 && !e->global &&
               e->tag.stage != VI_IOTLB_STAGE2;
    }
    if (!strcmp(n, "va-asid") || !strcmp(n, "va-asid-range") || !strcmp(n, "va-asid-big")) {
        /* entries of ASID 1 or global, VMID 1, overlapping the range */
        return e->tag.vmid == 1 && (e->tag.asid == 1 || e->global) &&
               ovl(e->iova, e->shift, s->addr, s->len ? s->len : 1);
    }
    if (!strcmp(n, "va-ttl")) {
        return e->tag.vmid == 1 && (e->tag.asid == 2 || e->global) &&
               ovl(e->iova, e->shift, s->addr, s->len) && e->level == 2;
    }
    if (!strcmp(n, "vaa")) {            /* any ASID, VMID 2, range */
        return e->tag.vmid == 2 && ovl(e->iova, e->shift, s->addr, s->len);
    }
    if (!strcmp(n, "ipa") || !strcmp(n, "ipa-nested")) {            /* S2 entries by input, nested by IPA */
        if (e->tag.vmid != 1) {
            return false;
        }
        if (e->tag.stage == VI_IOTLB_STAGE2) {
            return ovl(e->iova, e->shift, s->addr, s->len);
        }
        return e->tag.stage == VI_IOTLB_NESTED && ovl(e->ipa, e->shift, s->addr, s->len);
    }
    if (!strcmp(n, "ipa-ttl")) {
        if (e->tag.vmid != 1) {
            return false;
        }
        if (e->tag.stage == VI_IOTLB_STAGE2) {
            return ovl(e->iova, e->shift, s->addr, s->len) && e->level == 3;
        }
        return e->tag.stage == VI_IOTLB_NESTED && ovl(e->ipa, e->shift, s->addr, s->len) &&
               e->s2_level == 3;
    }
    if (!strcmp(n, "pasid")) {          /* VT-d: DID 2, PASID 1, non-global */
        return e->tag.asid == 2 && e->tag.ssid == 1 && !e->global;
    }
    if (!strcmp(n, "pasid-addr")) {     /* DID 2, PASID 1 or global, address */
        return e->tag.asid == 2 && (e->tag.ssid == 1 || e->global) &&
               ovl(e->iova, e->shift, s->addr, 1);
    }
    if (!strcmp(n, "did")) {            /* ASID without address: globals kept */
        return e->tag.asid == 1 && !e->global;
    }
    if (!strcmp(n, "vtd-did")) {        /* VT-d domain-selective: all of DID 1 */
        return e->tag.asid == 1;
    }
    if (!strcmp(n, "vtd-pasid-addr")) { /* VT-d page-selective in PASID: global or not */
        return e->tag.asid == 2 && e->tag.ssid == 1 && ovl(e->iova, e->shift, s->addr, 1);
    }
    if (!strcmp(n, "sid")) {
        return e->tag.sid == 2;
    }
    if (!strcmp(n, "stage2")) {
        return e->tag.stage == VI_IOTLB_STAGE2;
    }
    g_assert_not_reached();
}

static void test_inval_scopes(void)
{
    inval_case cases[] = {
        { "all", { .match = 0 } },
        { "vmid", { .match = VI_IOTLB_M_VMID, .tag.vmid = 2 } },
        { "asid", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID, .tag.vmid = 2, .tag.asid = 1,
                    .stages = (1 << VI_IOTLB_STAGE1) | (1 << VI_IOTLB_NESTED) } },
        { "va-asid", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR,
                       .tag.vmid = 1, .tag.asid = 1, .addr = 0x40011234 } },
        { "va-asid-range", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR,
                             .tag.vmid = 1, .tag.asid = 1, .addr = 0x40010000, .len = 0x3000,
                             .leaf_only = true } },
        { "va-asid-big", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR,
                           .tag.vmid = 1, .tag.asid = 1, .addr = 0x40000000,
                           .len = 0x100000000ull } },
        { "va-ttl", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR |
                               VI_IOTLB_M_LEVEL,
                      .tag.vmid = 1, .tag.asid = 2, .addr = 0x40000000, .len = 0x10000000,
                      .level = 2 } },
        { "vaa", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ADDR, .tag.vmid = 2,
                   .addr = 0x40010000, .len = 0x20000 } },
        { "ipa", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_IPA, .tag.vmid = 1,
                   .addr = 0x40010000, .len = 0x1000 } },
        { "ipa-nested", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_IPA, .tag.vmid = 1,
                          .addr = 0x800000000ull, .len = 0x1000 } },
        { "ipa-ttl", { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_IPA | VI_IOTLB_M_LEVEL,
                       .tag.vmid = 1, .addr = 0x800000000ull, .len = 0x100000000ull,
                       .level = 3 } },
        { "pasid", { .match = VI_IOTLB_M_ASID | VI_IOTLB_M_SSID, .tag.asid = 2, .tag.ssid = 1 } },
        { "pasid-addr", { .match = VI_IOTLB_M_ASID | VI_IOTLB_M_SSID | VI_IOTLB_M_ADDR,
                          .tag.asid = 2, .tag.ssid = 1, .addr = 0x40030000 } },
        { "did", { .match = VI_IOTLB_M_ASID, .tag.asid = 1 } },
        { "vtd-did", { .match = VI_IOTLB_M_ASID, .tag.asid = 1, .tagged_global = true } },
        { "vtd-pasid-addr", { .match = VI_IOTLB_M_ASID | VI_IOTLB_M_SSID | VI_IOTLB_M_ADDR,
                              .tag.asid = 2, .tag.ssid = 1, .addr = 0x40030000,
                              .tagged_global = true } },
        { "sid", { .match = VI_IOTLB_M_SID, .tag.sid = 2 } },
        { "stage2", { .match = 0, .stages = 1 << VI_IOTLB_STAGE2 } },
    };
    pop_entry *pop = g_new0(pop_entry, POP_MAX);

    for (unsigned c = 0; c < G_N_ELEMENTS(cases); c++) {
        /* Roomy enough that no set overflows: nothing is evicted. */
        vi_iotlb *t = vi_iotlb_new(65536);
        unsigned n = populate(t, pop), expect = 0, removed;

        for (unsigned i = 0; i < n; i++) {
            expect += expect_removed(&cases[c], &pop[i]);
        }
        removed = vi_iotlb_invalidate(t, &cases[c].sc);
        g_test_message("%s: %u of %u removed", cases[c].name, removed, n);
        /* Each scope removes something and keeps something (except "all"). */
        g_assert_cmpuint(expect, >, 0);
        if (strcmp(cases[c].name, "all")) {
            g_assert_cmpuint(expect, <, n);
        }
        g_assert_cmpuint(removed, ==, expect);
        for (unsigned i = 0; i < n; i++) {
            vi_iotlb_entry e;
            bool present = vi_iotlb_lookup(t, &pop[i].tag, pop[i].iova, &e) &&
                           e.size_shift == pop[i].shift;

            /* A smaller entry may shadow... sizes here never overlap per tag. */
            if (present == expect_removed(&cases[c], &pop[i])) {
                g_test_message("%s: entry %u sid %u ssid %u asid %u vmid %u st %u "
                               "iova %" G_GINT64_MODIFIER "x shift %u g %d: %s",
                               cases[c].name, i, pop[i].tag.sid, pop[i].tag.ssid,
                               pop[i].tag.asid, pop[i].tag.vmid, pop[i].tag.stage,
                               pop[i].iova, pop[i].shift, pop[i].global,
                               present ? "kept" : "removed");
            }
            g_assert_cmpint(present, !=, expect_removed(&cases[c], &pop[i]));
        }
        g_assert_cmpuint(vi_iotlb_count(t), ==, n - expect);
        vi_iotlb_free(t);
    }
    g_free(pop);
}

static void test_smmu_range(void)
{
    vi_iotlb_scope sc = { .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID };

    g_assert_true(vi_iotlb_smmu_range(&sc, false, 0x12345678, 1, 2, 3, 0));
    g_assert_cmphex(sc.addr, ==, 0x12345000);
    g_assert_cmphex(sc.len, ==, 4 * 4 * 0x1000);
    g_assert_cmphex(sc.match, ==, VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR);
    g_assert_true(vi_iotlb_smmu_range(&sc, true, 0x12345678, 3, 0, 0, 3));
    g_assert_cmphex(sc.addr, ==, 0x12340000);
    g_assert_cmphex(sc.len, ==, 0x10000);
    g_assert_cmphex(sc.match, ==, VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_IPA |
                    VI_IOTLB_M_LEVEL);
    g_assert_cmpint(sc.level, ==, 3);
    g_assert_true(vi_iotlb_smmu_range(&sc, false, 0x4000, 2, 31, 31, 1));   /* 16K TTL 1 */
    g_assert_cmphex(sc.len, ==, 32ull << (31 + 14));
    g_assert_false(sc.match & VI_IOTLB_M_LEVEL);
    g_assert_true(vi_iotlb_smmu_range(&sc, false, 0x4321, 0, 5, 5, 2));     /* no range */
    g_assert_cmphex(sc.addr, ==, 0x4321);
    g_assert_cmphex(sc.len, ==, 1);
    g_assert_false(sc.match & VI_IOTLB_M_LEVEL);
    g_assert_false(vi_iotlb_smmu_range(&sc, false, 0, 4, 0, 0, 0));
}

/*
 * Differential check of every invalidation scope: random contents (every
 * tag field, stage, size, level, global flag, IPA), then scopes of every
 * shape both IOMMUs use (and random combinations of match bits, stages,
 * levels, ranges from one byte to the whole space), each compared with a
 * brute-force reference that applies the rules of iotlb.h to a plain list
 * of what was inserted: the same entries go, the others stay.
 */
typedef struct ref_entry {
    vi_iotlb_tag tag;
    uint64_t iova, ipa, out;
    unsigned shift;
    int level, s2_level;
    bool global, live;
} ref_entry;

#define REF_MAX 1500

static bool ref_ovl(uint64_t base, unsigned shift, uint64_t a, uint64_t last)
{
    return base <= last && a <= base + ((1ull << shift) - 1);
}

/* The rules of iotlb.h, applied to one entry. */
static bool ref_matches(const vi_iotlb_scope *s, const ref_entry *e)
{
    uint64_t len = s->len ? s->len : 1, last = s->addr + (len - 1);
    bool by_addr = s->match & (VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA);

    if (last < s->addr) {
        last = UINT64_MAX;
    }
    if ((s->match & VI_IOTLB_M_SID) && e->tag.sid != s->tag.sid) {
        return false;
    }
    if ((s->match & VI_IOTLB_M_VMID) && e->tag.vmid != s->tag.vmid) {
        return false;
    }
    if (s->stages && !(s->stages & (1u << e->tag.stage))) {
        return false;
    }
    if (e->global && !s->tagged_global) {
        /* Global: ASID / SSID ignored with an address, else not matched. */
        if ((s->match & (VI_IOTLB_M_ASID | VI_IOTLB_M_SSID)) && !by_addr) {
            return false;
        }
    } else {
        if ((s->match & VI_IOTLB_M_ASID) && e->tag.asid != s->tag.asid) {
            return false;
        }
        if ((s->match & VI_IOTLB_M_SSID) && e->tag.ssid != s->tag.ssid) {
            return false;
        }
    }
    if (s->match & VI_IOTLB_M_ADDR) {
        if (!ref_ovl(e->iova, e->shift, s->addr, last)) {
            return false;
        }
        if ((s->match & VI_IOTLB_M_LEVEL) && e->level != s->level) {
            return false;
        }
    }
    if (s->match & VI_IOTLB_M_IPA) {
        bool hit;

        switch (e->tag.stage) {
        case VI_IOTLB_STAGE2:
            hit = ref_ovl(e->iova, e->shift, s->addr, last);
            break;
        case VI_IOTLB_NESTED:
            hit = ref_ovl(e->ipa, e->shift, s->addr, last);
            break;
        default:
            hit = false;
        }
        if (!hit || ((s->match & VI_IOTLB_M_LEVEL) && e->s2_level != s->level)) {
            return false;
        }
    }
    return true;
}

static const unsigned diff_shifts[] = { 12, 12, 12, 13, 16, 21, 30 };

static uint64_t diff_window(unsigned shift)
{
    return (uint64_t)shift << 40;
}

/* Insert a random entry (same key as a live one: the reference replaces it). */
static void diff_insert(vi_iotlb *t, ref_entry *m, unsigned *n, GRand *r)
{
    ref_entry e = { 0 };
    vi_pt_result res;
    int s2l;

    e.tag = mktag(g_rand_int_range(r, 0, 3), g_rand_int_range(r, 0, 4),
                  (uint16_t)g_rand_int_range(r, 0, 6), (uint16_t)g_rand_int_range(r, 0, 3),
                  (uint8_t)g_rand_int_range(r, 1, 4));
    e.shift = diff_shifts[g_rand_int_range(r, 0, G_N_ELEMENTS(diff_shifts))];
    /*
     * Blocks in a window of 64 of their size, so that ranges overlap often;
     * one window per size, so that a lookup finds exactly the entry of its
     * key (no smaller entry of the same tag covers it).  IPAs share one
     * window.
     */
    e.iova = diff_window(e.shift) + ((uint64_t)g_rand_int_range(r, 0, 64) << e.shift);
    e.ipa = e.tag.stage == VI_IOTLB_NESTED ?
            diff_window(30) + ((uint64_t)g_rand_int_range(r, 0, 64) << e.shift) : 0;
    e.out = (uint64_t)g_rand_int(r) << 12;
    e.level = g_rand_int_range(r, -1, 4);
    e.s2_level = e.tag.stage == VI_IOTLB_NESTED ? g_rand_int_range(r, 0, 4) : e.level;
    e.global = g_rand_int_range(r, 0, 4) == 0;
    e.live = true;
    res = mkres(e.out, 1ull << e.shift, VI_PERM_R, e.level, e.global);
    res.ipa = e.ipa;
    s2l = e.tag.stage == VI_IOTLB_NESTED ? e.s2_level : -1;
    g_assert_true(vi_iotlb_insert(t, &e.tag, e.iova + (g_rand_int(r) & 0xfff), &res, s2l));
    for (unsigned i = 0; i < *n; i++) {
        if (m[i].live && !memcmp(&m[i].tag, &e.tag, sizeof(e.tag)) && m[i].iova == e.iova &&
            m[i].shift == e.shift) {
            m[i].live = false;
        }
    }
    g_assert_cmpuint(*n, <, REF_MAX);
    m[(*n)++] = e;
}

/* A range: one byte, a few pages, a big block, everything, the top. */
static void diff_range(vi_iotlb_scope *s, GRand *r)
{
    uint64_t w = diff_window(diff_shifts[g_rand_int_range(r, 0, G_N_ELEMENTS(diff_shifts))]);

    switch (g_rand_int_range(r, 0, 6)) {
    case 0:
        s->addr = w + g_rand_int_range(r, 0, 64 << 12);
        s->len = g_rand_int_range(r, 0, 2);
        break;
    case 1:
        s->addr = w + ((uint64_t)g_rand_int_range(r, 0, 64) << 12);
        s->len = (uint64_t)g_rand_int_range(r, 1, 9) << 12;
        break;
    case 2:
        s->addr = w + ((uint64_t)g_rand_int_range(r, 0, 64) << 16);
        s->len = 1ull << g_rand_int_range(r, 13, 23);
        break;
    case 3:
        s->addr = 0;
        s->len = UINT64_MAX;
        break;
    case 4:
        s->addr = UINT64_MAX - g_rand_int_range(r, 0, 0x3000);
        s->len = 0x10000;      /* wraps: up to the top */
        break;
    default:
        s->addr = w + ((uint64_t)g_rand_int_range(r, 0, 64) << 21);
        s->len = 1ull << g_rand_int_range(r, 21, 37);
        break;
    }
}

/* Scope shapes: the architected ones of both IOMMUs, then anything. */
static void diff_scope(vi_iotlb_scope *s, unsigned shape, GRand *r)
{
    static const uint32_t shapes[] = {
        0,                                                      /* all / stages */
        VI_IOTLB_M_VMID,                                        /* NH_ALL, S12_VMALL */
        VI_IOTLB_M_VMID | VI_IOTLB_M_ASID,                      /* NH_ASID */
        VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR,    /* NH_VA */
        VI_IOTLB_M_VMID | VI_IOTLB_M_ADDR,                      /* NH_VAA */
        VI_IOTLB_M_VMID | VI_IOTLB_M_IPA,                       /* S2_IPA */
        VI_IOTLB_M_ASID,                                        /* VT-d DSI */
        VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR,                      /* VT-d PSI */
        VI_IOTLB_M_ASID | VI_IOTLB_M_IPA,                       /* VT-d PSI, nested part */
        VI_IOTLB_M_ASID | VI_IOTLB_M_SSID,                      /* PASID-selective */
        VI_IOTLB_M_ASID | VI_IOTLB_M_SSID | VI_IOTLB_M_ADDR,    /* PASID page-selective */
        VI_IOTLB_M_SID,                                         /* by stream */
    };

    memset(s, 0, sizeof(*s));
    s->match = shape < G_N_ELEMENTS(shapes) ? shapes[shape] :
               (uint32_t)g_rand_int(r) & (VI_IOTLB_M_SID | VI_IOTLB_M_SSID | VI_IOTLB_M_ASID |
                                           VI_IOTLB_M_VMID | VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA |
                                           VI_IOTLB_M_LEVEL);
    if ((s->match & (VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA)) && g_rand_int_range(r, 0, 4) == 0) {
        s->match |= VI_IOTLB_M_LEVEL;
    }
    s->tag = mktag(g_rand_int_range(r, 0, 3), g_rand_int_range(r, 0, 4),
                   (uint16_t)g_rand_int_range(r, 0, 6), (uint16_t)g_rand_int_range(r, 0, 3), 0);
    s->level = (int8_t)g_rand_int_range(r, -1, 4);
    s->stages = g_rand_boolean(r) ? 0 : (uint8_t)(g_rand_int_range(r, 0, 8) << 1);
    if (shape == 0 && !s->stages && g_rand_int_range(r, 0, 8)) {
        s->stages = 1u << g_rand_int_range(r, 1, 4);    /* rarely "all" */
    }
    s->tagged_global = g_rand_boolean(r);
    s->leaf_only = g_rand_boolean(r);
    diff_range(s, r);
}

static void diff_check(vi_iotlb *t, ref_entry *m, unsigned n)
{
    unsigned live = 0;

    for (unsigned i = 0; i < n; i++) {
        vi_iotlb_entry e;
        bool hit = vi_iotlb_lookup(t, &m[i].tag, m[i].iova, &e) && e.size_shift == m[i].shift &&
                   e.iova == m[i].iova;

        if (m[i].live) {
            g_assert_true(hit);
            g_assert_cmphex(e.out, ==, m[i].out & ~((1ull << m[i].shift) - 1));
            g_assert_cmpint(e.global, ==, m[i].global);
            live++;
        } else if (hit) {
            /* Only a live entry of the same key may be there. */
            bool other = false;

            for (unsigned j = 0; j < n; j++) {
                other |= m[j].live && !memcmp(&m[j].tag, &m[i].tag, sizeof(m[i].tag)) &&
                         m[j].iova == m[i].iova && m[j].shift == m[i].shift;
            }
            g_assert_true(other);
        }
    }
    g_assert_cmpuint(vi_iotlb_count(t), ==, live);
}

static void test_inval_differential(void)
{
    GRand *r = g_rand_new_with_seed(0x5e1ec7);
    ref_entry *m = g_new0(ref_entry, REF_MAX);
    unsigned shapes = 13, scopes = 0, removed_total = 0;

    for (unsigned round = 0; round < 160; round++) {
        /* Roomy: nothing is evicted (checked), so the reference is exact. */
        vi_iotlb *t = vi_iotlb_new(round % 2 ? 65536 : 16384);
        unsigned n = 0, pop = g_rand_int_range(r, 1, 700);
        vi_iotlb_stats st;

        for (unsigned i = 0; i < pop; i++) {
            diff_insert(t, m, &n, r);
        }
        for (unsigned k = 0; k < 24; k++) {
            vi_iotlb_scope s;
            unsigned expect = 0, got;

            diff_scope(&s, (round * 24 + k) % (shapes + 4), r);
            for (unsigned i = 0; i < n; i++) {
                if (m[i].live && ref_matches(&s, &m[i])) {
                    m[i].live = false;
                    expect++;
                }
            }
            got = vi_iotlb_invalidate(t, &s);
            if (got != expect) {
                g_test_message("round %u scope %u: match 0x%x stages 0x%x tg %d addr 0x%"
                               G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x: %u "
                               "removed, %u expected", round, k, s.match, s.stages,
                               s.tagged_global, s.addr, s.len, got, expect);
            }
            g_assert_cmpuint(got, ==, expect);
            diff_check(t, m, n);
            removed_total += got;
            scopes++;
            /* Refill a little, so later scopes see fresh entries too. */
            for (unsigned i = 0, more = g_rand_int_range(r, 0, 20); i < more && n < REF_MAX; i++) {
                diff_insert(t, m, &n, r);
            }
        }
        vi_iotlb_get_stats(t, &st);
        g_assert_cmpuint(st.evictions, ==, 0);
        vi_iotlb_free(t);
    }
    g_test_message("%u scopes, %u entries removed", scopes, removed_total);
    g_assert_cmpuint(removed_total, >, 1000);
    g_rand_free(r);
    g_free(m);
}

/* Concurrent use with lock callbacks: no lost updates, the bound holds. */
typedef struct thr_arg {
    vi_iotlb *t;
    unsigned id;
    unsigned hits;
} thr_arg;

static void glock(void *m)
{
    g_mutex_lock(m);
}

static void gunlock(void *m)
{
    g_mutex_unlock(m);
}

static gpointer thr_fn(gpointer p)
{
    thr_arg *a = p;
    vi_iotlb_tag tag = mktag(a->id, 0, 1, 1, VI_IOTLB_STAGE1);

    for (uint64_t i = 0; i < 20000; i++) {
        vi_pt_result r = mkres(i << 12, 0x1000, VI_PERM_R, 3, false);
        vi_iotlb_entry e;

        vi_iotlb_insert(a->t, &tag, (i % 300) << 12, &r, -1);
        if (vi_iotlb_lookup(a->t, &tag, (i % 300) << 12, &e)) {
            a->hits++;
        }
        if (i % 1000 == 999) {
            vi_iotlb_inval_asid(a->t, 1, 1);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    GMutex m;
    vi_iotlb *t = vi_iotlb_new(256);
    thr_arg a[2] = { { t, 1, 0 }, { t, 2, 0 } };
    GThread *th[2];

    g_mutex_init(&m);
    vi_iotlb_set_lock(t, glock, gunlock, &m);
    for (int i = 0; i < 2; i++) {
        th[i] = g_thread_new("iotlb", thr_fn, &a[i]);
    }
    for (int i = 0; i < 2; i++) {
        g_thread_join(th[i]);
    }
    g_assert_cmpuint(vi_iotlb_count(t), <=, vi_iotlb_capacity(t));
    g_assert_cmpuint(a[0].hits + a[1].hits, >, 0);
    vi_iotlb_inval_all(t);
    g_assert_cmpuint(vi_iotlb_count(t), ==, 0);
    vi_iotlb_free(t);
    g_mutex_clear(&m);
}

/*
 * Random inserts, lookups and invalidations checked against a plain list of
 * what must be cached: a removed or replaced entry never hits again; in a
 * roomy IOTLB (exact: the test checks nothing was evicted) a live one always
 * does and the count is exact; in a crowded one (sets always full, so
 * fingerprints collide and freed ways keep being reused) a live entry may
 * have been evicted.
 */
#define MODEL_MAX 4096

typedef struct model_entry {
    vi_iotlb_tag tag;
    uint64_t base, out;
    unsigned shift;
    bool live;
} model_entry;

static void check_removed(uint32_t removed, unsigned expect, bool exact)
{
    if (exact) {
        g_assert_cmpuint(removed, ==, expect);
    } else {
        g_assert_cmpuint(removed, <=, expect);
    }
}

static void run_model(uint32_t max_entries, bool exact, unsigned nkeys, unsigned ops)
{
    vi_iotlb *t = vi_iotlb_new(max_entries);
    model_entry *m = g_new0(model_entry, MODEL_MAX);
    GRand *rnd = g_rand_new_with_seed(0x10b7);
    vi_iotlb_stats st;
    unsigned live = 0;

    for (unsigned op = 0; op < ops; op++) {
        unsigned k = g_rand_int_range(rnd, 0, nkeys), what = g_rand_int_range(rnd, 0, 16);
        model_entry *e = &m[k];
        vi_iotlb_entry got;

        if (what < 6) {                 /* (re)insert entry k with a new output */
            vi_pt_result r;

            /* Entry k's key is fixed by k: 4K blocks below 2^32, 2M above. */
            e->tag = mktag(k % 3, k % 2, (uint16_t)(k % 5), (uint16_t)(k % 2),
                           k % 7 == 0 ? VI_IOTLB_STAGE2 : VI_IOTLB_STAGE1);
            e->shift = k % 4 == 0 ? 21 : 12;
            e->base = e->shift == 21 ? (1ull << 32) + ((uint64_t)k << 21) : (uint64_t)k << 12;
            e->out = (uint64_t)g_rand_int(rnd) << e->shift;
            r = mkres(e->out, 1ull << e->shift, VI_PERM_R, e->shift == 21 ? 2 : 3, false);
            g_assert_true(vi_iotlb_insert(t, &e->tag, e->base + (op & 0xfff), &r, -1));
            live += !e->live;
            e->live = true;
        } else if (what < 14) {         /* look entry k up */
            bool hit = e->tag.stage && vi_iotlb_lookup(t, &e->tag, e->base + (op & 0xfff), &got);

            if (exact) {
                g_assert_cmpint(hit, ==, e->live);
            } else if (!e->live) {
                g_assert_false(hit);
            }
            if (hit) {
                g_assert_cmphex(got.out, ==, e->out);
                g_assert_cmpuint(got.size_shift, ==, e->shift);
            }
        } else if (what == 14) {        /* by address range, VMID and ASID */
            vi_iotlb_scope sc = {
                .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR,
                .tag.vmid = (uint16_t)(k % 2), .tag.asid = (uint16_t)(k % 5),
                .addr = e->base, .len = (uint64_t)g_rand_int_range(rnd, 1, 64) << 12,
            };
            unsigned n = 0;

            for (unsigned j = 0; j < nkeys; j++) {
                if (m[j].live && m[j].tag.vmid == sc.tag.vmid && m[j].tag.asid == sc.tag.asid &&
                    ovl(m[j].base, m[j].shift, sc.addr, sc.len)) {
                    m[j].live = false;
                    n++;
                }
            }
            check_removed(vi_iotlb_invalidate(t, &sc), n, exact);
            live -= n;
        } else {                        /* by stream */
            vi_iotlb_scope sc = { .match = VI_IOTLB_M_SID, .tag.sid = k % 3 };
            unsigned n = 0;

            for (unsigned j = 0; j < nkeys; j++) {
                if (m[j].live && m[j].tag.sid == sc.tag.sid) {
                    m[j].live = false;
                    n++;
                }
            }
            check_removed(vi_iotlb_invalidate(t, &sc), n, exact);
            live -= n;
        }
        if (exact) {
            g_assert_cmpuint(vi_iotlb_count(t), ==, live);
        } else {
            g_assert_cmpuint(vi_iotlb_count(t), <=, MIN(live, vi_iotlb_capacity(t)));
        }
    }
    vi_iotlb_get_stats(t, &st);
    if (exact) {
        g_assert_cmpuint(st.evictions, ==, 0);
    } else {
        g_assert_cmpuint(st.evictions, >, 100);
    }
    g_rand_free(rnd);
    g_free(m);
    vi_iotlb_free(t);
}

static void test_model(void)
{
    run_model(8192, true, 512, 50000);
    run_model(64, false, 1024, 400000);
}

/* For every size asked: capacity and memory within what was asked for. */
static void test_bound_sizes(void)
{
    for (uint32_t max = 1; max < 3000; max += max < 70 ? 1 : 97) {
        vi_iotlb *t = vi_iotlb_new(max);

        g_assert_nonnull(t);
        g_assert_cmpuint(vi_iotlb_capacity(t), <=, max);
        g_assert_cmpuint(vi_iotlb_capacity(t), >, max / 2);
        g_assert_cmpuint(vi_iotlb_mem_bytes(t), <=, vi_iotlb_mem_bound(max));
        vi_iotlb_free(t);
    }
}

/* Levels a slot holds exactly; stage values beyond nested are refused. */
static void test_fields(void)
{
    vi_iotlb *t = vi_iotlb_new(64);
    vi_iotlb_tag tag = mktag(0xfffffffe, 0xfffff, 0xffff, 0xfffe, VI_IOTLB_NESTED);
    vi_pt_result r = mkres(0xfffffffffffff000ull, 0x1000, VI_PERM_ALL, -1, true);
    vi_iotlb_entry e;

    r.attrs = 0xfedcba98;
    r.ipa = 0xffffffffffff5000ull;
    g_assert_true(vi_iotlb_insert(t, &tag, 0xffffffffffff7123ull, &r, 5));
    g_assert_true(vi_iotlb_lookup(t, &tag, 0xffffffffffff7fffull, &e));
    g_assert_cmpuint(e.tag.sid, ==, tag.sid);
    g_assert_cmpuint(e.tag.ssid, ==, tag.ssid);
    g_assert_cmpuint(e.tag.asid, ==, tag.asid);
    g_assert_cmpuint(e.tag.vmid, ==, tag.vmid);
    g_assert_cmpuint(e.tag.stage, ==, tag.stage);
    g_assert_cmphex(e.iova, ==, 0xffffffffffff7000ull);
    g_assert_cmphex(e.out, ==, 0xfffffffffffff000ull);
    g_assert_cmphex(e.ipa, ==, 0xffffffffffff5000ull);
    g_assert_cmphex(e.attrs, ==, 0xfedcba98);
    g_assert_cmphex(e.perm, ==, VI_PERM_ALL);
    g_assert_cmpint(e.level, ==, -1);
    g_assert_cmpint(e.s2_level, ==, 5);
    g_assert_true(e.global);
    r.level = 7;
    r.global = false;
    g_assert_true(vi_iotlb_insert(t, &tag, 0x1000, &r, -1));
    g_assert_true(vi_iotlb_lookup(t, &tag, 0x1000, &e));
    g_assert_cmpint(e.level, ==, 7);
    g_assert_cmpint(e.s2_level, ==, 7);
    g_assert_false(e.global);
    /* Out of what an entry can hold: not cached. */
    tag.stage = 4;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x2000, &r, -1));
    g_assert_false(vi_iotlb_lookup(t, &tag, 0x2000, &e));
    tag.stage = VI_IOTLB_STAGE1;
    r.level = 8;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x2000, &r, -1));
    r.level = 3;
    g_assert_false(vi_iotlb_insert(t, &tag, 0x2000, &r, 9));
    g_assert_cmpuint(vi_iotlb_count(t), ==, 2);
    vi_iotlb_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iotlb/basic", test_basic);
    g_test_add_func("/iotlb/dirty-tracked", test_dirty_tracked);
    g_test_add_func("/iotlb/block-sizes", test_block_sizes);
    g_test_add_func("/iotlb/bound-and-lru", test_bound_and_lru);
    g_test_add_func("/iotlb/inval-scopes", test_inval_scopes);
    g_test_add_func("/iotlb/inval-differential", test_inval_differential);
    g_test_add_func("/iotlb/smmu-range", test_smmu_range);
    g_test_add_func("/iotlb/threads", test_threads);
    g_test_add_func("/iotlb/model", test_model);
    g_test_add_func("/iotlb/bound-sizes", test_bound_sizes);
    g_test_add_func("/iotlb/fields", test_fields);
    return g_test_run();
}
