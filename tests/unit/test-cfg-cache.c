/*
 * Tests of the configuration cache (cfg-cache.c): every invalidation scope
 * removes exactly what it names and nothing else, the size stays bounded
 * with LRU eviction, stale inserts are dropped, and the lock is honoured.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/smmuv3-cfg.h"
#include "hw/viommu/core/vtd-cfg.h"

/* Payloads used by most tests: they name their own key. */
typedef struct dev_pl {
    uint32_t sid;
    uint32_t magic;
} dev_pl;

typedef struct sub_pl {
    uint32_t sid, ssid;
    uint64_t fill[3];
} sub_pl;

/* The population every scope test starts from. */
static const uint32_t sids[] = { 0x10, 0x11, 0x13, 0x14, 0x17, 0x18, 0x100, 0x2ff };
static const uint32_t ssids[] = { 0, 1, 7, 0xfffff };

/* Tags: device tag (VT-d DID of the context entry) and substream tag. */
static uint32_t dev_tag_of(uint32_t sid)
{
    return sid == 0x2ff ? VI_CFG_TAG_ANY : (sid & 1) ? 5 : 6;
}

static uint32_t sub_tag_of(uint32_t sid, uint32_t ssid)
{
    return ssid == 7 ? VI_CFG_TAG_ANY : (ssid & 1) ? 9 : 8;
}

static vi_cfg_cache *populate(void)
{
    vi_cfg_cache *c = vi_cfg_cache_new(256, sizeof(dev_pl), 1024, sizeof(sub_pl));
    uint64_t gen;

    g_assert_nonnull(c);
    gen = vi_cfg_cache_gen(c);
    for (unsigned i = 0; i < G_N_ELEMENTS(sids); i++) {
        dev_pl d = { sids[i], 0xd0d0 };

        g_assert_true(vi_cfg_cache_insert_dev(c, sids[i], dev_tag_of(sids[i]), &d, gen));
        for (unsigned j = 0; j < G_N_ELEMENTS(ssids); j++) {
            sub_pl s = { sids[i], ssids[j], { 1, 2, 3 } };

            g_assert_true(vi_cfg_cache_insert_sub(c, sids[i], ssids[j], dev_tag_of(sids[i]),
                                                  sub_tag_of(sids[i], ssids[j]), &s, gen));
        }
    }
    g_assert_cmpuint(vi_cfg_cache_dev_count(c), ==, G_N_ELEMENTS(sids));
    g_assert_cmpuint(vi_cfg_cache_sub_count(c), ==, G_N_ELEMENTS(sids) * G_N_ELEMENTS(ssids));
    return c;
}

/* Expected survival of each entry after an invalidation. */
typedef bool (*dev_pred)(uint32_t sid);
typedef bool (*sub_pred)(uint32_t sid, uint32_t ssid);

static void check(vi_cfg_cache *c, dev_pred dev_gone, sub_pred sub_gone)
{
    unsigned ndev = 0, nsub = 0;

    for (unsigned i = 0; i < G_N_ELEMENTS(sids); i++) {
        dev_pl d = { 0 };
        bool want = !dev_gone(sids[i]);

        if (g_test_verbose()) {
            g_test_message("dev %#x want %d", sids[i], want);
        }
        g_assert_cmpint(vi_cfg_cache_lookup_dev(c, sids[i], &d), ==, want);
        if (want) {
            g_assert_cmpuint(d.sid, ==, sids[i]);
            g_assert_cmpuint(d.magic, ==, 0xd0d0);
            ndev++;
        }
        for (unsigned j = 0; j < G_N_ELEMENTS(ssids); j++) {
            sub_pl s = { 0 };

            want = !sub_gone(sids[i], ssids[j]);
            if (g_test_verbose()) {
                g_test_message("sub %#x/%#x want %d", sids[i], ssids[j], want);
            }
            g_assert_cmpint(vi_cfg_cache_lookup_sub(c, sids[i], ssids[j], &s), ==, want);
            if (want) {
                g_assert_cmpuint(s.sid, ==, sids[i]);
                g_assert_cmpuint(s.ssid, ==, ssids[j]);
                g_assert_cmpuint(s.fill[2], ==, 3);
                nsub++;
            }
        }
    }
    g_assert_cmpuint(vi_cfg_cache_dev_count(c), ==, ndev);
    g_assert_cmpuint(vi_cfg_cache_sub_count(c), ==, nsub);
    vi_cfg_cache_free(c);
}

static bool none_d(uint32_t sid) { return false; }
static bool none_s(uint32_t sid, uint32_t ssid) { return false; }
static bool all_d(uint32_t sid) { return true; }
static bool all_s(uint32_t sid, uint32_t ssid) { return true; }

static void test_basic(void)
{
    vi_cfg_cache *c = populate();
    dev_pl d = { 0x10, 0xbeef };
    sub_pl s;

    /* Unknown keys miss. */
    g_assert_false(vi_cfg_cache_lookup_dev(c, 0x12, &d));
    g_assert_false(vi_cfg_cache_lookup_sub(c, 0x10, 2, &s));
    g_assert_false(vi_cfg_cache_lookup_sub(c, 0x12, 0, &s));
    /* Replacing keeps one entry per key. */
    g_assert_true(vi_cfg_cache_insert_dev(c, 0x10, 6, &d, vi_cfg_cache_gen(c)));
    g_assert_cmpuint(vi_cfg_cache_dev_count(c), ==, G_N_ELEMENTS(sids));
    d.magic = 0;
    g_assert_true(vi_cfg_cache_lookup_dev(c, 0x10, &d));
    g_assert_cmpuint(d.magic, ==, 0xbeef);
    d.magic = 0xd0d0;
    g_assert_true(vi_cfg_cache_insert_dev(c, 0x10, 6, &d, vi_cfg_cache_gen(c)));
    check(c, none_d, none_s);
}

static void test_inv_all(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_all(c);
    check(c, all_d, all_s);
}

static bool sid11_d(uint32_t sid) { return sid == 0x11; }
static bool sid11_s(uint32_t sid, uint32_t ssid) { return sid == 0x11; }

static void test_inv_sid(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_sid(c, 0x11);
    vi_cfg_cache_inv_sid(c, 0x12);      /* nothing cached: no effect */
    check(c, sid11_d, sid11_s);
}

static bool range_d(uint32_t sid) { return sid >= 0x11 && sid <= 0x17; }
static bool range_s(uint32_t sid, uint32_t ssid) { return range_d(sid); }

static void test_inv_sid_range(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_sid_range(c, 0x11, 0x17);
    check(c, range_d, range_s);
    c = populate();
    vi_cfg_cache_inv_sid_range(c, 0, UINT32_MAX);
    check(c, all_d, all_s);
}

/* VT-d device-selective with FM = 2 (mask function bits 2:1) on sid 0x13. */
static bool fm2_d(uint32_t sid) { return (sid & ~6u) == (0x13 & ~6u); }
static bool fm2_s(uint32_t sid, uint32_t ssid) { return fm2_d(sid); }
static bool fm3_d(uint32_t sid) { return sid >= 0x10 && sid <= 0x17; }
static bool fm3_s(uint32_t sid, uint32_t ssid) { return fm3_d(sid); }

static void test_inv_sid_mask(void)
{
    vi_cfg_cache *c = populate();

    g_assert_cmpuint(vi_cfg_vtd_fm_mask(0), ==, 0);
    g_assert_cmpuint(vi_cfg_vtd_fm_mask(1), ==, 4);
    g_assert_cmpuint(vi_cfg_vtd_fm_mask(2), ==, 6);
    g_assert_cmpuint(vi_cfg_vtd_fm_mask(3), ==, 7);
    vi_cfg_cache_inv_sid_mask(c, 0x13, vi_cfg_vtd_fm_mask(2));
    check(c, fm2_d, fm2_s);     /* 0x11, 0x13, 0x17 go; 0x10, 0x14 stay */
    c = populate();
    vi_cfg_cache_inv_sid_mask(c, 0x15, vi_cfg_vtd_fm_mask(3));
    check(c, fm3_d, fm3_s);
    c = populate();
    vi_cfg_cache_inv_sid_mask(c, 0x11, vi_cfg_vtd_fm_mask(0));
    check(c, sid11_d, sid11_s);
}

/* Domain-selective context-cache invalidation of DID 5 (odd sids, + ANY). */
static bool did5_d(uint32_t sid) { return dev_tag_of(sid) == 5 || sid == 0x2ff; }
static bool did5_s(uint32_t sid, uint32_t ssid) { return did5_d(sid); }

static void test_inv_dev_tag(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_dev_tag(c, 5);
    check(c, did5_d, did5_s);
}

/* Substream entries of a device whose device entry was evicted go as well. */
static void test_inv_dev_tag_orphan(void)
{
    vi_cfg_cache *c = vi_cfg_cache_new(4, sizeof(dev_pl), 64, sizeof(sub_pl));
    uint64_t gen = vi_cfg_cache_gen(c);
    sub_pl s = { 0x42, 3, { 0 } };
    dev_pl d = { 0 };

    g_assert_true(vi_cfg_cache_insert_dev(c, 0x42, 7, &d, gen));
    g_assert_true(vi_cfg_cache_insert_sub(c, 0x42, 3, 7, 1, &s, gen));
    /* Push the device entry out of the 4-entry device table. */
    for (uint32_t i = 0; i < 4; i++) {
        g_assert_true(vi_cfg_cache_insert_dev(c, 0x1000 + i, 1, &d, gen));
    }
    g_assert_false(vi_cfg_cache_lookup_dev(c, 0x42, &d));
    g_assert_true(vi_cfg_cache_lookup_sub(c, 0x42, 3, &s));
    vi_cfg_cache_inv_dev_tag(c, 7);
    g_assert_false(vi_cfg_cache_lookup_sub(c, 0x42, 3, &s));
    g_assert_cmpuint(vi_cfg_cache_dev_count(c), ==, 4);
    vi_cfg_cache_free(c);
}

static bool cd_s(uint32_t sid, uint32_t ssid) { return sid == 0x100 && ssid == 7; }

static void test_inv_ssid(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_ssid(c, 0x100, 7);
    vi_cfg_cache_inv_ssid(c, 0x100, 8);     /* not cached */
    check(c, none_d, cd_s);
}

static void test_inv_ssid_all(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_ssid_all(c, 0x11);
    check(c, none_d, sid11_s);              /* the STE stays */
}

static bool tag9_s(uint32_t sid, uint32_t ssid)
{
    return sub_tag_of(sid, ssid) == 9 || ssid == 7;
}

static void test_inv_sub_tag(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_sub_tag(c, 9);
    check(c, none_d, tag9_s);
}

static bool tag8_p0_s(uint32_t sid, uint32_t ssid) { return ssid == 0; }
static bool tag8_p7_s(uint32_t sid, uint32_t ssid) { return ssid == 7; }
static bool tag9_p0_s(uint32_t sid, uint32_t ssid) { return false; }

static void test_inv_sub_tag_ssid(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_sub_tag_ssid(c, 8, 0);     /* DID 8, PASID 0 */
    check(c, none_d, tag8_p0_s);
    c = populate();
    vi_cfg_cache_inv_sub_tag_ssid(c, 8, 7);     /* tag ANY entries */
    check(c, none_d, tag8_p7_s);
    c = populate();
    vi_cfg_cache_inv_sub_tag_ssid(c, 9, 0);     /* PASID 0 entries have tag 8 */
    check(c, none_d, tag9_p0_s);
}

static void test_inv_sub_all(void)
{
    vi_cfg_cache *c = populate();

    vi_cfg_cache_inv_sub_all(c);
    check(c, none_d, all_s);
}

static void test_bounded_lru(void)
{
    vi_cfg_cache *c = vi_cfg_cache_new(4, sizeof(dev_pl), 100, sizeof(sub_pl));
    size_t bytes = vi_cfg_cache_mem_bytes(c);
    vi_cfg_cache_stats st;
    uint64_t gen = vi_cfg_cache_gen(c);
    dev_pl d;
    sub_pl s = { 0 };

    /* 4 device entries: one set of 4 ways; exact LRU order. */
    g_assert_cmpuint(vi_cfg_cache_dev_capacity(c), ==, 4);
    g_assert_cmpuint(vi_cfg_cache_sub_capacity(c), ==, 128);
    for (uint32_t i = 0; i < 4; i++) {
        d.sid = i;
        g_assert_true(vi_cfg_cache_insert_dev(c, i, 0, &d, gen));
    }
    g_assert_true(vi_cfg_cache_lookup_dev(c, 0, &d));   /* 1 is now the oldest */
    d.sid = 4;
    g_assert_true(vi_cfg_cache_insert_dev(c, 4, 0, &d, gen));
    g_assert_false(vi_cfg_cache_lookup_dev(c, 1, &d));
    for (uint32_t i = 0; i < 5; i++) {
        if (i != 1) {
            g_assert_true(vi_cfg_cache_lookup_dev(c, i, &d));
            g_assert_cmpuint(d.sid, ==, i);
        }
    }
    /* A flood of substream entries never grows the cache. */
    for (uint32_t i = 0; i < 100000; i++) {
        s.sid = i % 97;
        s.ssid = i;
        g_assert_true(vi_cfg_cache_insert_sub(c, s.sid, i, 0, 0, &s, gen));
        g_assert_cmpuint(vi_cfg_cache_sub_count(c), <=, 128);
    }
    g_assert_cmpuint(vi_cfg_cache_sub_count(c), >, 64);
    g_assert_cmpuint(vi_cfg_cache_mem_bytes(c), ==, bytes);
    /* The most recent insert is there. */
    g_assert_true(vi_cfg_cache_lookup_sub(c, 99999 % 97, 99999, &s));
    g_assert_cmpuint(s.ssid, ==, 99999);
    vi_cfg_cache_get_stats(c, &st);
    g_assert_cmpuint(st.evictions, ==, 1 + 100000 - vi_cfg_cache_sub_count(c));
    g_assert_cmpuint(st.inserts, ==, 5 + 100000);
    vi_cfg_cache_free(c);

    /* Bad parameters. */
    g_assert_null(vi_cfg_cache_new(0, 8, 8, 8));
    g_assert_null(vi_cfg_cache_new(8, 0, 8, 8));
    g_assert_null(vi_cfg_cache_new(8, 8, VI_CFG_CACHE_MAX_ENTRIES + 1, 8));
    g_assert_null(vi_cfg_cache_new(8, 8, 8, VI_CFG_CACHE_MAX_PAYLOAD + 1));
    vi_cfg_cache_free(NULL);
}

static void test_stale_insert(void)
{
    vi_cfg_cache *c = vi_cfg_cache_new(16, sizeof(dev_pl), 16, sizeof(sub_pl));
    uint64_t gen = vi_cfg_cache_gen(c);
    vi_cfg_cache_stats st;
    dev_pl d = { 1, 2 };
    sub_pl s = { 0 };

    /* A miss walks memory; meanwhile an (unrelated) invalidation completes. */
    vi_cfg_cache_inv_ssid(c, 99, 99);
    g_assert_false(vi_cfg_cache_insert_dev(c, 1, 0, &d, gen));
    g_assert_false(vi_cfg_cache_insert_sub(c, 1, 0, 0, 0, &s, gen));
    g_assert_false(vi_cfg_cache_lookup_dev(c, 1, &d));
    g_assert_cmpuint(vi_cfg_cache_dev_count(c), ==, 0);
    vi_cfg_cache_get_stats(c, &st);
    g_assert_cmpuint(st.stale_drops, ==, 2);
    /* With a fresh generation it goes in. */
    gen = vi_cfg_cache_gen(c);
    g_assert_true(vi_cfg_cache_insert_dev(c, 1, 0, &d, gen));
    g_assert_true(vi_cfg_cache_lookup_dev(c, 1, &d));
    vi_cfg_cache_free(c);
}

/* Real payloads: decoded STE + CD and context + PASID entry round-trip. */
static void test_real_payloads(void)
{
    vi_cfg_cache *smmu = vi_cfg_cache_new(64, sizeof(vi_smmu_ste), 256, sizeof(vi_smmu_cd));
    vi_cfg_cache *vtd = vi_cfg_cache_new(64, sizeof(vi_vtd_ctx), 256, sizeof(vi_vtd_pe));
    vi_smmu_ste ste = { .config = VI_SMMU_STE_CFG_NESTED, .s1_cdmax = 5 }, ste2;
    vi_smmu_cd cd = { .asid = 0x1234, .oas = 44 }, cd2;
    vi_vtd_ctx ctx = { .scalable = true, .rid_pasid = 3 }, ctx2;
    vi_vtd_pe pe = { .pgtt = VI_VTD_PGTT_NESTED, .did = 77 }, pe2;

    ste.s2.vmid = 9;
    g_assert_true(vi_cfg_cache_insert_dev(smmu, 8, VI_CFG_TAG_ANY, &ste, 0));
    g_assert_true(vi_cfg_cache_insert_sub(smmu, 8, 3, VI_CFG_TAG_ANY, VI_CFG_TAG_ANY, &cd, 0));
    g_assert_true(vi_cfg_cache_lookup_dev(smmu, 8, &ste2));
    g_assert_true(vi_cfg_cache_lookup_sub(smmu, 8, 3, &cd2));
    g_assert_cmpmem(&ste, sizeof(ste), &ste2, sizeof(ste2));
    g_assert_cmpmem(&cd, sizeof(cd), &cd2, sizeof(cd2));
    g_assert_true(vi_cfg_cache_insert_dev(vtd, 0x308, VI_CFG_TAG_ANY, &ctx, 0));
    g_assert_true(vi_cfg_cache_insert_sub(vtd, 0x308, 3, VI_CFG_TAG_ANY, pe.did, &pe, 0));
    g_assert_true(vi_cfg_cache_lookup_dev(vtd, 0x308, &ctx2));
    g_assert_true(vi_cfg_cache_lookup_sub(vtd, 0x308, 3, &pe2));
    g_assert_cmpmem(&ctx, sizeof(ctx), &ctx2, sizeof(ctx2));
    g_assert_cmpmem(&pe, sizeof(pe), &pe2, sizeof(pe2));
    /* PASID-selective invalidation of another DID keeps it; its DID removes it. */
    vi_cfg_cache_inv_sub_tag_ssid(vtd, 78, 3);
    g_assert_true(vi_cfg_cache_lookup_sub(vtd, 0x308, 3, &pe2));
    vi_cfg_cache_inv_sub_tag_ssid(vtd, 77, 3);
    g_assert_false(vi_cfg_cache_lookup_sub(vtd, 0x308, 3, &pe2));
    g_assert_true(vi_cfg_cache_lookup_dev(vtd, 0x308, &ctx2));
    vi_cfg_cache_free(smmu);
    vi_cfg_cache_free(vtd);
}

/* Locking: callbacks wrap every call; concurrent use stays consistent. */
typedef struct lock_state {
    GMutex mutex;
    gint depth;
    gint calls;
} lock_state;

static void t_lock(void *opaque)
{
    lock_state *ls = opaque;

    g_mutex_lock(&ls->mutex);
    g_assert_cmpint(g_atomic_int_add(&ls->depth, 1), ==, 0);
    g_atomic_int_inc(&ls->calls);
}

static void t_unlock(void *opaque)
{
    lock_state *ls = opaque;

    g_assert_cmpint(g_atomic_int_add(&ls->depth, -1), ==, 1);
    g_mutex_unlock(&ls->mutex);
}

typedef struct worker {
    vi_cfg_cache *c;
    unsigned id;
    unsigned bad;
} worker;

static gpointer work(gpointer opaque)
{
    worker *w = opaque;
    GRand *r = g_rand_new_with_seed(w->id);

    for (unsigned i = 0; i < 20000; i++) {
        uint32_t sid = g_rand_int_range(r, 0, 64), ssid = g_rand_int_range(r, 0, 16);
        sub_pl s = { sid, ssid, { sid * 3, ssid * 5, 7 } };
        uint64_t gen = vi_cfg_cache_gen(w->c);

        switch (g_rand_int_range(r, 0, 8)) {
        case 0:
            vi_cfg_cache_inv_sid(w->c, sid);
            break;
        case 1:
            vi_cfg_cache_inv_ssid(w->c, sid, ssid);
            break;
        case 2:
        case 3:
            vi_cfg_cache_insert_sub(w->c, sid, ssid, 0, 0, &s, gen);
            break;
        default:
            memset(&s, 0, sizeof(s));
            if (vi_cfg_cache_lookup_sub(w->c, sid, ssid, &s) &&
                (s.sid != sid || s.ssid != ssid || s.fill[0] != sid * 3 ||
                 s.fill[1] != ssid * 5 || s.fill[2] != 7)) {
                w->bad++;
            }
            break;
        }
    }
    g_rand_free(r);
    return NULL;
}

static void test_locking(void)
{
    vi_cfg_cache *c = vi_cfg_cache_new(64, sizeof(dev_pl), 256, sizeof(sub_pl));
    lock_state ls = { 0 };
    worker w[4];
    GThread *th[4];

    g_mutex_init(&ls.mutex);
    vi_cfg_cache_set_lock(c, t_lock, t_unlock, &ls);
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (worker){ c, i + 1, 0 };
        th[i] = g_thread_new("cfg-cache", work, &w[i]);
    }
    for (unsigned i = 0; i < 4; i++) {
        g_thread_join(th[i]);
        g_assert_cmpuint(w[i].bad, ==, 0);
    }
    /* Each of the 4 x 20000 operations took the lock at least once. */
    g_assert_cmpint(ls.calls, >=, 80000);
    g_assert_cmpint(ls.depth, ==, 0);
    g_assert_cmpuint(vi_cfg_cache_sub_count(c), <=, 256);
    vi_cfg_cache_free(c);
    g_mutex_clear(&ls.mutex);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cfg-cache/basic", test_basic);
    g_test_add_func("/cfg-cache/inv/all", test_inv_all);
    g_test_add_func("/cfg-cache/inv/sid", test_inv_sid);
    g_test_add_func("/cfg-cache/inv/sid-range", test_inv_sid_range);
    g_test_add_func("/cfg-cache/inv/sid-mask", test_inv_sid_mask);
    g_test_add_func("/cfg-cache/inv/dev-tag", test_inv_dev_tag);
    g_test_add_func("/cfg-cache/inv/dev-tag-orphan", test_inv_dev_tag_orphan);
    g_test_add_func("/cfg-cache/inv/ssid", test_inv_ssid);
    g_test_add_func("/cfg-cache/inv/ssid-all", test_inv_ssid_all);
    g_test_add_func("/cfg-cache/inv/sub-tag", test_inv_sub_tag);
    g_test_add_func("/cfg-cache/inv/sub-tag-ssid", test_inv_sub_tag_ssid);
    g_test_add_func("/cfg-cache/inv/sub-all", test_inv_sub_all);
    g_test_add_func("/cfg-cache/bounded-lru", test_bounded_lru);
    g_test_add_func("/cfg-cache/stale-insert", test_stale_insert);
    g_test_add_func("/cfg-cache/real-payloads", test_real_payloads);
    g_test_add_func("/cfg-cache/locking", test_locking);
    return g_test_run();
}
