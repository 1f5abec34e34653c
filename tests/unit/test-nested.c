/*
 * Unit tests of nested (stage 1 + stage 2) translation: faults injected at
 * every stage and level, with the reporting SMMUv3 events need.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/nested.h"
#include "hw/viommu/core/pt-armv8.h"

#define IPA_OFF     0x100000000ull      /* S1 tables: IPA = PA + IPA_OFF */
#define OUT_IPA     0x200000000ull      /* S1 output IPA region */
#define OUT_PA      0x300000000ull      /* ... mapped by S2 to here */
#define VA          0x0000123456789000ull
#define RD          (VI_ACC_R | VI_ACC_PRIV)
#define S2_RW       (VI_ARMV8_DESC_AP1 | VI_ARMV8_DESC_AP2 | PTB_ARMV8_AF)
#define S2_RO       (VI_ARMV8_DESC_AP1 | PTB_ARMV8_AF)

typedef struct env {
    fake_mem *fm;
    ptb m1, m2;
    vi_armv8_s1_cfg c1;
    vi_armv8_s2_cfg c2;
    vi_armv8_s1 s1;
    vi_armv8_s2 s2;
} env;

/* IPA of a stage-1 table entry, from its PA. */
static uint64_t ipa_of(uint64_t pa)
{
    return pa + IPA_OFF;
}

/*
 * Stage 1: 4K, 48-bit, 4 levels, VA -> OUT_IPA (page).  Stage 2: 4K, 40-bit
 * IPA from level 1 (2 concatenated tables); every S1 table page mapped with
 * a 4K page to its PA, the output IPA with a 4K page to OUT_PA.
 */
static void env_init(env *e, uint64_t s1_leaf_attrs, uint64_t s2_table_attrs)
{
    uint64_t tables[4];

    e->fm = fake_mem_new();
    ptb_init_armv8(&e->m1, fake_mem_builder_ops(e->fm), VI_ARMV8_4K, 0, 9, 0);
    e->m1.addr_offset = IPA_OFF;
    ptb_map(&e->m1, VA, OUT_IPA, 3, s1_leaf_attrs);
    for (int l = 0; l <= 3; l++) {
        tables[l] = ptb_entry(&e->m1, VA, l) & ~0xfffull;
    }
    memset(&e->c2, 0, sizeof(e->c2));
    e->c2.granule = VI_ARMV8_4K;
    e->c2.tsz = 24;
    e->c2.sl0 = 1;
    e->c2.oas = 48;
    ptb_init_armv8(&e->m2, fake_mem_builder_ops(e->fm), VI_ARMV8_4K, 1, 10, 0);
    e->c2.ttb = ptb_root(&e->m2);
    g_assert_cmpint(vi_armv8_s2_prepare(&e->c2, &e->s2), ==, VI_ARMV8_CFG_OK);
    for (int l = 0; l <= 3; l++) {
        ptb_map(&e->m2, ipa_of(tables[l]), tables[l], 3, s2_table_attrs);
    }
    ptb_map(&e->m2, OUT_IPA, OUT_PA, 3, S2_RW);

    memset(&e->c1, 0, sizeof(e->c1));
    e->c1.tt[0].ttb = ptb_root(&e->m1);
    e->c1.tt[0].tsz = 16;
    e->c1.tt[0].granule = VI_ARMV8_4K;
    e->c1.tt[1].epd = true;
    e->c1.oas = 48;
    g_assert_cmpint(vi_armv8_s1_prepare(&e->c1, &e->s1), ==, VI_ARMV8_CFG_OK);
}

static bool xlate(env *e, uint64_t va, uint32_t acc, vi_pt_result *r, vi_fault *f)
{
    return vi_armv8_nested_translate(&e->s1, &e->s2, fake_mem_vi(e->fm), va, acc, r, f);
}

static uint64_t s1_entry_ipa(env *e, int level)
{
    return ipa_of(ptb_entry(&e->m1, VA, level));
}

static void test_success(void)
{
    env e;
    vi_pt_result r;
    vi_fault f;

    env_init(&e, PTB_ARMV8_AF | VI_ARMV8_DESC_AP1, S2_RO);
    fake_mem_reset_stats(e.fm);
    g_assert_true(xlate(&e, VA + 0x7b8, VI_ACC_R, &r, &f));
    g_assert_cmphex(r.out, ==, OUT_PA + 0x7b8);
    g_assert_cmphex(r.ipa, ==, OUT_IPA + 0x7b8);
    g_assert_cmpuint(r.size, ==, 0x1000);
    /* S1 grants R W UR UW UX, S2 R W X: intersection. */
    g_assert_cmphex(r.perm, ==, VI_PERM_R | VI_PERM_W | VI_PERM_UR | VI_PERM_UW | VI_PERM_UX);
    /* 4 S1 fetches, each after a 3-level S2 walk, then a 3-level S2 walk. */
    g_assert_cmpuint(fake_mem_reads(e.fm), ==, 4 + 4 * 3 + 3);
    fake_mem_free(e.fm);
}

/* Mapping size = min of the two stages. */
static void test_sizes(void)
{
    env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t va = 0x40000000ull;

    env_init(&e, PTB_ARMV8_AF, S2_RO);
    /* S1 2M block -> OUT_IPA, S2 4K page: 4K. */
    ptb_map(&e.m1, va, OUT_IPA, 2, PTB_ARMV8_AF);
    for (int l = 0; l <= 2; l++) {
        uint64_t t = ptb_entry(&e.m1, va, l) & ~0xfffull;
        ptb_map(&e.m2, ipa_of(t), t, 3, S2_RO);
    }
    g_assert_true(xlate(&e, va + 0x123, RD, &r, &f));
    g_assert_cmpuint(r.size, ==, 0x1000);
    g_assert_cmphex(r.out, ==, OUT_PA + 0x123);
    /* Both leaf levels are kept (TLBI_S2_IPA's TTL names the stage-2 one). */
    g_assert_cmpint(r.level, ==, 2);
    g_assert_cmpint(r.s2_level, ==, 3);
    /* S2 1G block over the output: S1 2M wins. */
    ptb_map(&e.m2, 0x240000000ull, 0x340000000ull, 1, S2_RW);
    ptb_map(&e.m1, va + 0x200000, 0x240000000ull + 0x600000, 2, PTB_ARMV8_AF);
    g_assert_true(xlate(&e, va + 0x200000 + 0x5432, RD, &r, &f));
    g_assert_cmpuint(r.size, ==, 0x200000);
    g_assert_cmphex(r.out, ==, 0x340000000ull + 0x605432);
    g_assert_cmpint(r.level, ==, 2);
    g_assert_cmpint(r.s2_level, ==, 1);
    fake_mem_free(e.fm);
}

/* Stage-1 faults at every stage-1 level are reported as stage 1. */
static void test_s1_faults(void)
{
    for (int level = 0; level <= 3; level++) {
        env e;
        vi_pt_result r;
        vi_fault f;
        uint64_t epa;

        env_init(&e, PTB_ARMV8_AF, S2_RO);
        epa = ptb_entry(&e.m1, VA, level);
        fake_mem_poke64(e.fm, epa, 0);
        g_assert_false(xlate(&e, VA, RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
        g_assert_cmpuint(f.stage, ==, 1);
        g_assert_cmpint(f.level, ==, level);
        g_assert_false(f.s1ptw);
        g_assert_cmphex(f.addr, ==, VA);
        fake_mem_free(e.fm);
    }
    /* Stage-1 permission fault beats the stage-2 walk of the output. */
    {
        env e;
        vi_pt_result r;
        vi_fault f;

        env_init(&e, PTB_ARMV8_AF | VI_ARMV8_DESC_AP2, S2_RO);
        g_assert_false(xlate(&e, VA, VI_ACC_W | VI_ACC_PRIV, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
        g_assert_cmpuint(f.stage, ==, 1);
        fake_mem_free(e.fm);
    }
}

/*
 * Stage-2 faults on the fetch of each stage-1 level's entry, at each
 * stage-2 level: translation faults (entry removed), permission (no S2
 * read), external abort on the S2 table fetch, address size.
 */
static void test_s2_faults_on_s1ptw(void)
{
    for (int s1l = 0; s1l <= 3; s1l++) {
        for (int s2l = 1; s2l <= 3; s2l++) {
            env e;
            vi_pt_result r;
            vi_fault f;
            uint64_t ipa, s2e;

            env_init(&e, PTB_ARMV8_AF, S2_RO);
            ipa = s1_entry_ipa(&e, s1l);
            /*
             * Stage-2 tables are shared by the S1 tables' IPAs, so a fault
             * injected there would hit the first S1 fetch (level 0).
             * Isolate the S1 table at s1l by moving its IPA into a 1G
             * region of its own, in the second concatenated S2 table.
             */
            if (s1l > 0) {
                uint64_t tpa = ipa - IPA_OFF;
                uint64_t new_ipa_base = 0x8000000000ull + (uint64_t)s1l * 0x40000000ull;
                uint64_t parent = ptb_entry(&e.m1, VA, s1l - 1);
                uint64_t d = fake_mem_peek64(e.fm, parent);
                fake_mem_poke64(e.fm, parent, (d & 0xfff) | new_ipa_base);
                ptb_map(&e.m2, new_ipa_base, tpa & ~0xfffull, 3, S2_RO);
                ipa = new_ipa_base | (tpa & 0xfff);
                g_assert_true(xlate(&e, VA, RD, &r, &f));
            }
            s2e = ptb_entry(&e.m2, ipa, s2l);
            g_assert_cmpuint(s2e, !=, 0);
            fake_mem_poke64(e.fm, s2e, fake_mem_peek64(e.fm, s2e) & ~1ull);
            g_assert_false(xlate(&e, VA, RD, &r, &f));
            g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
            g_assert_cmpuint(f.stage, ==, 2);
            g_assert_true(f.s1ptw);
            g_assert_cmpint(f.cls, ==, VI_FAULT_CLASS_TT);
            g_assert_cmpint(f.level, ==, s2l);
            g_assert_cmpint(f.s1_level, ==, s1l);
            g_assert_cmphex(f.ipa, ==, ipa);
            g_assert_cmphex(f.addr, ==, VA);
            g_assert_cmphex(f.access, ==, VI_ACC_R | VI_ACC_PRIV);
            /* External abort on the stage-2 table fetch itself. */
            fake_mem_poke64(e.fm, s2e, fake_mem_peek64(e.fm, s2e) | 1);
            g_assert_true(xlate(&e, VA, RD, &r, &f));
            fake_mem_set_abort(e.fm, s2e, 8, true);
            g_assert_false(xlate(&e, VA, RD, &r, &f));
            g_assert_cmpint(f.kind, ==, VI_FAULT_WALK_EABT);
            g_assert_cmpuint(f.stage, ==, 2);
            g_assert_true(f.s1ptw);
            g_assert_cmpint(f.level, ==, s2l);
            g_assert_cmphex(f.fetch_pa, ==, s2e);
            fake_mem_set_abort(e.fm, s2e, 8, false);
            if (s2l == 3) {
                /* No stage-2 read permission for the table. */
                fake_mem_poke64(e.fm, s2e, fake_mem_peek64(e.fm, s2e) & ~VI_ARMV8_DESC_AP1);
                g_assert_false(xlate(&e, VA, RD, &r, &f));
                g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
                g_assert_true(f.s1ptw);
                g_assert_cmpint(f.s1_level, ==, s1l);
                /* The table's PA beyond the stage-2 output size. */
                fake_mem_poke64(e.fm, s2e, fake_mem_peek64(e.fm, s2e) | VI_ARMV8_DESC_AP1 |
                                (1ull << 46));
                e.c2.oas = 44;
                g_assert_cmpint(vi_armv8_s2_prepare(&e.c2, &e.s2), ==, VI_ARMV8_CFG_OK);
                g_assert_false(xlate(&e, VA, RD, &r, &f));
                g_assert_cmpint(f.kind, ==, VI_FAULT_ADDR_SIZE);
                g_assert_cmpuint(f.stage, ==, 2);
                g_assert_true(f.s1ptw);
            }
            fake_mem_free(e.fm);
        }
    }
}

/* Stage-2 faults on the final output. */
static void test_s2_faults_on_output(void)
{
    for (int s2l = 1; s2l <= 3; s2l++) {
        env e;
        vi_pt_result r;
        vi_fault f;
        uint64_t s2e;

        env_init(&e, PTB_ARMV8_AF, S2_RO);
        /* The output IPA region has S2 tables of its own below level 1. */
        s2e = ptb_entry(&e.m2, OUT_IPA, s2l);
        fake_mem_poke64(e.fm, s2e, 0);
        g_assert_false(xlate(&e, VA + 0x10, RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
        g_assert_cmpuint(f.stage, ==, 2);
        g_assert_false(f.s1ptw);
        g_assert_cmpint(f.cls, ==, VI_FAULT_CLASS_IN);
        g_assert_cmpint(f.level, ==, s2l);
        g_assert_cmphex(f.ipa, ==, OUT_IPA + 0x10);
        g_assert_cmphex(f.addr, ==, VA + 0x10);
        fake_mem_free(e.fm);
    }
    {
        env e;
        vi_pt_result r;
        vi_fault f;

        env_init(&e, PTB_ARMV8_AF, S2_RO);
        ptb_map(&e.m2, OUT_IPA, OUT_PA, 3, S2_RO);
        g_assert_false(xlate(&e, VA, VI_ACC_W | VI_ACC_PRIV, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
        g_assert_cmpuint(f.stage, ==, 2);
        g_assert_false(f.s1ptw);
        g_assert_cmphex(f.access, ==, VI_ACC_W | VI_ACC_PRIV);
        g_assert_true(xlate(&e, VA, RD, &r, &f));
        g_assert_cmphex(r.perm & VI_PERM_W, ==, 0);
        fake_mem_free(e.fm);
    }
}

/* A stage-1 AF update is a write through stage 2: it needs S2 write. */
static void test_s1_update_needs_s2_write(void)
{
    env e;
    vi_pt_result r;
    vi_fault f;
    uint64_t leaf;

    env_init(&e, 0, S2_RO);
    e.c1.ha = true;
    g_assert_cmpint(vi_armv8_s1_prepare(&e.c1, &e.s1), ==, VI_ARMV8_CFG_OK);
    leaf = ptb_entry(&e.m1, VA, 3);
    g_assert_false(xlate(&e, VA, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    g_assert_cmpuint(f.stage, ==, 2);
    g_assert_true(f.s1ptw);
    g_assert_cmphex(f.access, ==, VI_ACC_W | VI_ACC_PRIV);
    g_assert_cmpint(f.s1_level, ==, 3);
    g_assert_cmphex(fake_mem_peek64(e.fm, leaf) & PTB_ARMV8_AF, ==, 0);
    /* Writable S2 mapping of the leaf table: AF set in memory at the PA. */
    ptb_map(&e.m2, ipa_of(leaf & ~0xfffull), leaf & ~0xfffull, 3, S2_RW);
    g_assert_true(xlate(&e, VA, RD, &r, &f));
    g_assert_cmphex(fake_mem_peek64(e.fm, leaf) & PTB_ARMV8_AF, ==, PTB_ARMV8_AF);
    fake_mem_free(e.fm);
}

/* The format-independent composition with a stage 2 that always faults. */
static bool failing_s2(const void *ctx, const vi_mem *mem, uint64_t in, uint32_t access,
                       vi_pt_result *res, vi_fault *f)
{
    vi_fault_clear(f);
    f->kind = VI_FAULT_ADDR_SIZE;
    f->stage = 2;
    f->level = 2;
    f->addr = in;
    f->ipa = in;
    return false;
}

static void test_generic_stage(void)
{
    env e;
    vi_pt_result r1, r;
    vi_fault f;
    vi_pt_walk w;
    vi_stage st = { failing_s2, NULL };
    unsigned fetches = 99;

    env_init(&e, PTB_ARMV8_AF, S2_RO);
    g_assert_true(vi_armv8_s1_walk_init(&e.s1, fake_mem_vi(e.fm), VA, RD, &w, &r1, &f));
    g_assert_false(vi_nested_run(&w, &st, &r, &f, &fetches));
    g_assert_cmpuint(fetches, ==, 1);
    g_assert_cmpint(f.kind, ==, VI_FAULT_ADDR_SIZE);
    g_assert_true(f.s1ptw);
    g_assert_cmphex(f.ipa, ==, s1_entry_ipa(&e, 0));
    g_assert_cmphex(f.addr, ==, VA);
    g_assert_cmpint(f.s1_level, ==, 0);
    fake_mem_free(e.fm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nested/success", test_success);
    g_test_add_func("/nested/sizes", test_sizes);
    g_test_add_func("/nested/s1-faults", test_s1_faults);
    g_test_add_func("/nested/s2-faults-on-s1ptw", test_s2_faults_on_s1ptw);
    g_test_add_func("/nested/s2-faults-on-output", test_s2_faults_on_output);
    g_test_add_func("/nested/s1-update-needs-s2-write", test_s1_update_needs_s2_write);
    g_test_add_func("/nested/generic-stage", test_generic_stage);
    return g_test_run();
}
