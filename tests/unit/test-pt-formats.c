/*
 * Properties every page-table format must have, checked over a table of
 * formats: each row builds tables with the shared builder
 * (tests/common/pt-builder.h) and translates with the core's walker of that
 * format.  A new format is one more row.
 *
 *   map/translate   random leaves at every level that may hold one: each
 *                   address inside translates to its output, with the leaf's
 *                   size and level, after exactly one fetch per level;
 *   holes           addresses no leaf covers give a translation fault;
 *   read-only       a read-only leaf allows reads and refuses writes
 *                   (permission fault);
 *   fetch abort     an external abort on a table below the root ends the
 *                   walk at that level with a walk external abort;
 *   loops           a walk through a table pointing at itself ends after
 *                   at most VI_PT_MAX_LEVELS fetches.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/nested.h"

#define RD      (VI_ACC_R | VI_ACC_PRIV)
#define WR      (VI_ACC_W | VI_ACC_PRIV)
#define NMAP    48

typedef struct fmt_case fmt_case;

/* A prepared configuration of any of the formats. */
typedef union fmt_cfg {
    vi_armv8_s1 s1;
    vi_armv8_s2 s2;
    vi_x86_fs_cfg fs;
    vi_vtd_ss_cfg ss;
} fmt_cfg;

struct fmt_case {
    const char *name;
    ptb_format fmt;
    unsigned pgshift;
    int start_level;
    unsigned start_bits;        /* index bits of the root */
    unsigned ia;                /* input address bits */
    int leaf_levels[3];         /* levels that may hold leaves */
    uint64_t rw, ro;            /* leaf attributes: read-write, read-only */
    void (*prepare)(const fmt_case *fc, uint64_t root, fmt_cfg *c);
    bool (*translate)(const fmt_cfg *c, const vi_mem *mem, uint64_t in, uint32_t acc,
                      vi_pt_result *r, vi_fault *f);
};

static void prep_s1(const fmt_case *fc, uint64_t root, fmt_cfg *c)
{
    vi_armv8_s1_cfg v = { .oas = 48 };

    v.tt[0].ttb = root;
    v.tt[0].tsz = (uint8_t)(64 - fc->ia);
    v.tt[0].granule = (vi_armv8_granule)fc->pgshift;
    v.tt[1].epd = true;
    g_assert_cmpint(vi_armv8_s1_prepare(&v, &c->s1), ==, VI_ARMV8_CFG_OK);
    g_assert_cmpint(c->s1.tt[0].start_level, ==, fc->start_level);
    g_assert_cmpint(c->s1.tt[0].start_bits, ==, fc->start_bits);
}

static void prep_s2(const fmt_case *fc, uint64_t root, fmt_cfg *c)
{
    /* SL0 for the start level: 4K counts from level 2 down, others from 3. */
    unsigned sl0 = (unsigned)((fc->pgshift == 12 ? 2 : 3) - fc->start_level);
    vi_armv8_s2_cfg v = { .ttb = root, .tsz = (uint8_t)(64 - fc->ia), .sl0 = (uint8_t)sl0,
                          .granule = (vi_armv8_granule)fc->pgshift, .oas = 48 };

    g_assert_cmpint(vi_armv8_s2_prepare(&v, &c->s2), ==, VI_ARMV8_CFG_OK);
    g_assert_cmpint(c->s2.tt.start_bits, ==, fc->start_bits);
}

static void prep_fs(const fmt_case *fc, uint64_t root, fmt_cfg *c)
{
    c->fs = (vi_x86_fs_cfg) { .ptptr = root, .levels = (uint8_t)fc->start_level,
                              .haw = 48, .fl1gp = true, .wpe = true };
    g_assert_true(vi_x86_fs_cfg_ok(&c->fs));
}

static void prep_ss(const fmt_case *fc, uint64_t root, fmt_cfg *c)
{
    c->ss = (vi_vtd_ss_cfg) { .ptptr = root, .aw_bits = (uint8_t)fc->ia, .haw = 48,
                              .sllps = 3 };
    g_assert_true(vi_vtd_ss_cfg_ok(&c->ss));
}

static bool xl_s1(const fmt_cfg *c, const vi_mem *mem, uint64_t in, uint32_t acc,
                  vi_pt_result *r, vi_fault *f)
{
    return vi_armv8_s1_translate(&c->s1, mem, in, acc, r, f);
}

static bool xl_s2(const fmt_cfg *c, const vi_mem *mem, uint64_t in, uint32_t acc,
                  vi_pt_result *r, vi_fault *f)
{
    return vi_armv8_s2_translate(&c->s2, mem, in, acc, r, f);
}

static bool xl_fs(const fmt_cfg *c, const vi_mem *mem, uint64_t in, uint32_t acc,
                  vi_pt_result *r, vi_fault *f)
{
    return vi_x86_fs_translate(&c->fs, mem, in, acc, r, f);
}

static bool xl_ss(const fmt_cfg *c, const vi_mem *mem, uint64_t in, uint32_t acc,
                  vi_pt_result *r, vi_fault *f)
{
    return vi_vtd_ss_translate(&c->ss, mem, in, acc, r, f);
}

#define S1_RW   (VI_ARMV8_DESC_AF)
#define S1_RO   (VI_ARMV8_DESC_AF | VI_ARMV8_DESC_AP2)
#define S2_RW   (VI_ARMV8_DESC_AF | VI_ARMV8_DESC_AP1 | VI_ARMV8_DESC_AP2)
#define S2_RO   (VI_ARMV8_DESC_AF | VI_ARMV8_DESC_AP1)
#define FS_RW   (VI_X86_FS_RW | VI_X86_FS_A | VI_X86_FS_D)
#define FS_RO   (VI_X86_FS_A | VI_X86_FS_D)
#define SS_RW   (VI_VTD_SS_R | VI_VTD_SS_W)
#define SS_RO   (VI_VTD_SS_R)

static const fmt_case formats[] = {
    { "armv8-s1-4k", PTB_ARMV8, 12, 0, 9, 48, { 1, 2, 3 }, S1_RW, S1_RO, prep_s1, xl_s1 },
    { "armv8-s1-16k", PTB_ARMV8, 14, 1, 11, 47, { 2, 3, 3 }, S1_RW, S1_RO, prep_s1, xl_s1 },
    { "armv8-s1-64k", PTB_ARMV8, 16, 1, 6, 48, { 2, 3, 3 }, S1_RW, S1_RO, prep_s1, xl_s1 },
    { "armv8-s2-4k-concat", PTB_ARMV8, 12, 1, 10, 40, { 1, 2, 3 }, S2_RW, S2_RO, prep_s2,
      xl_s2 },
    { "armv8-s2-64k", PTB_ARMV8, 16, 2, 13, 42, { 2, 3, 3 }, S2_RW, S2_RO, prep_s2, xl_s2 },
    { "x86-fs-4level", PTB_X86_FS, 12, 4, 9, 48, { 1, 2, 3 }, FS_RW, FS_RO, prep_fs, xl_fs },
    { "x86-fs-5level", PTB_X86_FS, 12, 5, 9, 57, { 1, 2, 3 }, FS_RW, FS_RO, prep_fs, xl_fs },
    { "vtd-ss-3level", PTB_VTD_SS, 12, 3, 9, 39, { 1, 2, 3 }, SS_RW, SS_RO, prep_ss, xl_ss },
    { "vtd-ss-4level", PTB_VTD_SS, 12, 4, 9, 48, { 1, 2, 3 }, SS_RW, SS_RO, prep_ss, xl_ss },
    { "vtd-ss-5level", PTB_VTD_SS, 12, 5, 9, 57, { 1, 2, 3 }, SS_RW, SS_RO, prep_ss, xl_ss },
};

typedef struct mapping {
    uint64_t in, out, size;
    int level;
    bool ro;
} mapping;

typedef struct fenv {
    const fmt_case *fc;
    fake_mem *fm;
    ptb b;
    fmt_cfg cfg;
    mapping m[NMAP];
    unsigned n;
    GRand *rnd;
} fenv;

static uint64_t rnd64(fenv *e)
{
    return ((uint64_t)g_rand_int(e->rnd) << 32) | g_rand_int(e->rnd);
}

/* An input address the format accepts (x86 first stage: canonical, low half). */
static uint64_t rand_in(fenv *e)
{
    unsigned bits = e->fc->fmt == PTB_X86_FS ? e->fc->ia - 1 : e->fc->ia;

    return rnd64(e) & ((1ull << bits) - 1);
}

static int covering(const fenv *e, uint64_t in, uint64_t size)
{
    for (unsigned i = 0; i < e->n; i++) {
        if (in < e->m[i].in + e->m[i].size && e->m[i].in < in + size) {
            return (int)i;
        }
    }
    return -1;
}

/* Tables and NMAP random leaves at random levels, a few read-only. */
static void fenv_init(fenv *e, const fmt_case *fc, uint32_t seed)
{
    memset(e, 0, sizeof(*e));
    e->fc = fc;
    e->fm = fake_mem_new();
    e->rnd = g_rand_new_with_seed(seed);
    if (fc->fmt == PTB_ARMV8) {
        ptb_init_armv8(&e->b, fake_mem_builder_ops(e->fm), fc->pgshift, fc->start_level,
                       fc->start_bits, 0);
    } else {
        ptb_init_x86(&e->b, fake_mem_builder_ops(e->fm), fc->fmt, fc->start_level, 0, 0);
    }
    fc->prepare(fc, ptb_root(&e->b), &e->cfg);
    for (unsigned tries = 0; e->n < NMAP && tries < 10 * NMAP; tries++) {
        int level = fc->leaf_levels[g_rand_int_range(e->rnd, 0, 3)];
        uint64_t size = 1ull << ptb_shift(&e->b, level);
        /* Inputs cluster in a few top-level slots so tables are shared. */
        uint64_t in = rand_in(e) & ~(size - 1) & ((1ull << (fc->ia - 6)) - 1);
        uint64_t out = rnd64(e) & 0xffffffffffull & ~(size - 1);
        mapping *m = &e->m[e->n];

        if (covering(e, in, size) >= 0 ||
            !ptb_map(&e->b, in, out, level, 0)) {
            continue;                   /* overlaps, or a leaf sits above */
        }
        *m = (mapping) { in, out, size, level, g_rand_int_range(e->rnd, 0, 8) == 0 };
        ptb_map(&e->b, in, out, level, m->ro ? fc->ro : fc->rw);
        e->n++;
    }
    g_assert_cmpuint(e->n, >, NMAP / 2);
}

static void fenv_free(fenv *e)
{
    g_rand_free(e->rnd);
    fake_mem_free(e->fm);
}

/* Fetches from the root to level. */
static unsigned depth_of(const fenv *e, int level)
{
    int d = level - e->fc->start_level;

    return (unsigned)(d < 0 ? -d : d) + 1;
}

static void test_map_translate(gconstpointer data)
{
    fenv e;

    fenv_init(&e, data, 1);
    for (unsigned i = 0; i < e.n; i++) {
        const mapping *m = &e.m[i];

        for (int k = 0; k < 4; k++) {
            uint64_t off = k == 0 ? 0 : k == 1 ? m->size - 1 : rnd64(&e) & (m->size - 1);
            uint64_t reads = fake_mem_reads(e.fm);
            vi_pt_result r;
            vi_fault f;

            g_assert_true(e.fc->translate(&e.cfg, fake_mem_vi(e.fm), m->in + off, RD, &r, &f));
            g_assert_cmphex(r.out, ==, m->out + off);
            g_assert_cmphex(r.size, ==, m->size);
            g_assert_cmpint(r.level, ==, m->level);
            g_assert_true(r.perm & VI_PERM_R);
            g_assert_cmpuint(fake_mem_reads(e.fm) - reads, ==, depth_of(&e, m->level));
        }
    }
    fenv_free(&e);
}

static void test_holes(gconstpointer data)
{
    fenv e;
    unsigned holes = 0;

    fenv_init(&e, data, 2);
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t in = rand_in(&e);
        vi_pt_result r;
        vi_fault f;

        if (i & 1) {
            /* Next to a mapping: shares its tables. */
            const mapping *m = &e.m[g_rand_int_range(e.rnd, 0, (gint32)e.n)];
            in = m->in + m->size + (rnd64(&e) & 0xfff);
        }
        if (covering(&e, in, 1) >= 0 || in >> (e.fc->fmt == PTB_X86_FS ? e.fc->ia - 1 :
                                                                         e.fc->ia)) {
            continue;
        }
        holes++;
        g_assert_false(e.fc->translate(&e.cfg, fake_mem_vi(e.fm), in, RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
        g_assert_cmphex(f.addr, ==, in);
    }
    g_assert_cmpuint(holes, >, 500);
    fenv_free(&e);
}

static void test_read_only(gconstpointer data)
{
    fenv e;

    fenv_init(&e, data, 3);
    for (unsigned i = 0; i < e.n; i++) {
        const mapping *m = &e.m[i];
        vi_pt_result r;
        vi_fault f;
        bool ok = e.fc->translate(&e.cfg, fake_mem_vi(e.fm), m->in, WR, &r, &f);

        g_assert_cmpint(ok, ==, !m->ro);
        if (m->ro) {
            g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
            g_assert_cmpint(f.level, ==, m->level);
        } else {
            g_assert_true(r.perm & VI_PERM_W);
        }
    }
    fenv_free(&e);
}

static void test_fetch_abort(gconstpointer data)
{
    fenv e;
    unsigned tried = 0;

    fenv_init(&e, data, 4);
    for (unsigned i = 0; i < e.n; i++) {
        const mapping *m = &e.m[i];
        int level = ptb_next_level(&e.b, e.fc->start_level);
        uint64_t pa;
        vi_pt_result r;
        vi_fault f;

        if (m->level == e.fc->start_level || depth_of(&e, m->level) < 2) {
            continue;
        }
        pa = ptb_lookup(&e.b, m->in, level);
        fake_mem_set_abort(e.fm, pa, 8, true);
        g_assert_false(e.fc->translate(&e.cfg, fake_mem_vi(e.fm), m->in, RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_WALK_EABT);
        g_assert_cmpint(f.level, ==, level);
        g_assert_cmphex(f.fetch_pa, ==, pa);
        fake_mem_set_abort(e.fm, pa, 8, false);
        g_assert_true(e.fc->translate(&e.cfg, fake_mem_vi(e.fm), m->in, RD, &r, &f));
        tried++;
    }
    g_assert_cmpuint(tried, >, 0);
    fenv_free(&e);
}

static void test_loop(gconstpointer data)
{
    fenv e;

    fenv_init(&e, data, 5);
    for (unsigned i = 0; i < e.n; i++) {
        const mapping *m = &e.m[i];
        int level = ptb_next_level(&e.b, e.fc->start_level);
        uint64_t ea = ptb_lookup(&e.b, m->in, e.fc->start_level), saved, reads;
        uint64_t table = ptb_lookup(&e.b, m->in, level) & ~((1ull << e.fc->pgshift) - 1);
        uint64_t amask = ptb_oa(&e.b, ~0ull) & ~((1ull << e.fc->pgshift) - 1);
        vi_pt_result r;
        vi_fault f;

        if (m->level == e.fc->start_level) {
            continue;
        }
        /*
         * The entry on this path in the table below the root becomes a table
         * entry (the root's, re-aimed) pointing back at its own table.
         */
        saved = fake_mem_peek64(e.fm, ea);
        fake_mem_poke64(e.fm, ptb_lookup(&e.b, m->in, level),
                        (saved & ~amask) | ptb_oa(&e.b, table));
        reads = fake_mem_reads(e.fm);
        e.fc->translate(&e.cfg, fake_mem_vi(e.fm), m->in, RD, &r, &f);
        g_assert_cmpuint(fake_mem_reads(e.fm) - reads, <=, VI_PT_MAX_LEVELS);
        break;      /* the tables are broken now */
    }
    fenv_free(&e);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        GTestDataFunc fn;
    } props[] = {
        { "map-translate", test_map_translate },
        { "holes", test_holes },
        { "read-only", test_read_only },
        { "fetch-abort", test_fetch_abort },
        { "loop", test_loop },
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t p = 0; p < G_N_ELEMENTS(props); p++) {
        for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
            g_autofree char *path = g_strdup_printf("/pt-formats/%s/%s", props[p].name,
                                                    formats[i].name);

            g_test_add_data_func(path, &formats[i], props[p].fn);
        }
    }
    return g_test_run();
}
