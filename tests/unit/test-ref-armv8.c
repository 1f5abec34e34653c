/*
 * Reference check of the VMSAv8-64 walkers.
 *
 * A second, deliberately naive translation function (ref-model-armv8.c,
 * which the differential fuzzer fuzz-ref runs too), written straight from
 * the architecture's description (recursive, one function per rule, no code
 * shared with the core beyond mem.h and the fake memory), is compared
 * with the core on random translation tables and random configurations:
 * stage 1, stage 2 and nested.  Outcome, fault kind / stage / level / s1ptw,
 * output address, mapping size, permissions and every hardware update
 * written to memory must agree.
 * Stage 2 is never the identity: its leaves map IPAs to random output
 * addresses, with holes and random permissions, and nested stage-1 tables
 * sit at IPAs it maps, so a walker that confuses an IPA with a PA, or a
 * nesting that returns the wrong stage's output, disagrees with the model
 * (mutations tried: table fetch at the IPA, nested output = stage-1 output,
 * nested size = stage-1 size; each gives thousands of mismatches).
 * The harness around the model (random numbers, random tables, the
 * comparison) is ref-harness.c, shared with test-ref-x86.c.
 *
 * The seed is printed; VI_REF_SEED sets it, VI_REF_COUNT sets the number of
 * translations (default 100000), so a long run is VI_REF_COUNT=10000000.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw/viommu/core/nested.h"
#include "ref-model-armv8.h"

/* ---------------------------------------------------------------------- */
/* Random tables (ref-harness.h writes them into both memories). */

/* Encode address bits [51:0] into a descriptor's OA field. */
static uint64_t enc_oa(uint64_t a, unsigned pgshift, bool lpa)
{
    uint64_t d = a & 0x0000fffffffff000ull;

    if (pgshift == 16 && lpa) {
        d = (d & ~0xf000ull) | (((a >> 48) & 0xf) << 12);
    }
    return d;
}

static uint64_t rand_leaf_attrs(void)
{
    uint64_t d = rnd() & ((0xffull << 2) | (1ull << 11) | (0x7full << 51) | (0xfull << 55));

    /* mostly AF set */
    if (chance(80)) {
        d |= 1ull << 10;
    }
    return d;
}

/*
 * A new stage-1 table of size bytes: its address as stage 1 sees it (an IPA
 * that the random stage 2 maps when nested) and, in *pa, where it is.
 */
static uint64_t s1_table_alloc(ref_gen *gn, uint64_t size, bool nested, uint64_t *pa)
{
    if (nested) {
        return ref_s2_alloc(gn, size, pa);
    }
    *pa = alloc2(gn, size);
    return *pa;
}

/* Random entries in the stage-1 table at pa (nested: through stage 2). */
static void gen_table(ref_gen *gn, uint64_t table, int level, int start, unsigned width,
                      unsigned pgshift, unsigned oas, uint64_t va_prefix, unsigned depth,
                      bool nested)
{
    unsigned n = 1 + rnd_below(level == start ? 6 : 4);
    unsigned lsb = ref_armv8_lsb(pgshift, level);
    bool lpa = oas == 52;

    for (unsigned k = 0; k < n; k++) {
        uint64_t idx = rnd() & ((1ull << width) - 1);
        uint64_t epa = table + 8 * idx, va = va_prefix | (idx << lsb), d;
        unsigned what = rnd_below(100);

        add_in(gn, va | (rnd() & ((1ull << lsb) - 1)));
        if (level < 3 && what < 45 && depth < 4) {
            uint64_t next;
            if (chance(8) && gn->ntables) {
                next = gn->tables[rnd_below(gn->ntables)];     /* shared / loops */
            } else if (chance(3)) {
                next = rand_addr(oas) & ~((1ull << pgshift) - 1);   /* anywhere */
            } else {
                uint64_t next_pa;

                next = s1_table_alloc(gn, 1ull << pgshift, nested, &next_pa);
                gen_table(gn, next_pa, level + 1, start, pgshift - 3, pgshift, oas, va,
                          depth + 1, nested);
            }
            d = enc_oa(next, pgshift, lpa) | 3;
            if (chance(30)) {
                d |= (rnd() & 0xfull) << 59;        /* table attributes */
            }
            if (chance(10)) {
                d |= rnd() & 0xffcull & ~(lpa ? 0xf000ull : 0);  /* ignored low bits */
            }
        } else if (what < 85) {
            d = enc_oa(rand_addr(oas), pgshift, lpa) | rand_leaf_attrs() | (level == 3 ? 3 : 1);
            if (chance(10)) {
                d ^= 2;                              /* reserved / table-as-block */
            }
        } else {
            d = rnd() & ~1ull;                       /* invalid with junk */
        }
        poke2(gn, epa, d);
    }
}

static const unsigned oas_list[] = { 32, 36, 40, 42, 44, 48, 52 };
static const unsigned gran_list[] = { 12, 14, 16 };

/*
 * Stage 2 over IPAs [0, 4G): leaves of random sizes at random output
 * addresses (so every output-address and nesting bug shows), some holes,
 * some leaves with random permissions / AF / DBM / XN.  Each leaf is
 * recorded so nested stage-1 tables can be placed at IPAs it maps.
 */
static void gen_s2(ref_gen *gn, ref_armv8_cfg *c)
{
    unsigned g, ia;
    int start;

    do {
        g = gran_list[rnd_below(3)];
        c->s2_pgshift = g;
        c->s2_oas = oas_list[2 + rnd_below(5)];      /* >= 40: tables fit */
        c->s2_tsz = 24 + rnd_below(9);               /* 32..40-bit IPA */
        c->s2_sl0 = rnd_below(3);
    } while (!ref_armv8_s2_valid(c));
    start = ref_armv8_s2_start(c);
    ia = 64 - c->s2_tsz;
    c->s2_ha = chance(50);
    c->s2_hd = chance(50);
    c->s2_affd = chance(20);
    c->xnx = chance(50);
    {
        unsigned width = ia - ref_armv8_lsb(g, start);
        uint64_t root = alloc2(gn, 8ull << width);
        /* Leaves, each at a random level (>= the start, block-legal). */
        for (uint64_t a = 0; a < (1ull << 32) && a < (1ull << ia);) {
            int level;
            uint64_t size, table = root, d;

            do {
                level = start + (int)rnd_below((unsigned)(4 - start));
            } while (!ref_armv8_block_ok(g, level, 48) ||
                     (level == 3 && !chance(g == 16 ? 2 : 10)));
            while (a & ((1ull << ref_armv8_lsb(g, level)) - 1)) {
                level++;                /* after smaller leaves: stay aligned */
            }
            size = 1ull << ref_armv8_lsb(g, level);
            /* walk / create tables down to level */
            for (int l = start; l < level; l++) {
                unsigned lsb = ref_armv8_lsb(g, l), w = l == start ? width : g - 3;
                uint64_t epa = table + 8 * ref_field(a, lsb + w - 1, lsb);
                d = fake_mem_peek64(gn->a, epa);
                if ((d & 3) != 3) {
                    uint64_t t = alloc2(gn, 1ull << g);
                    poke2(gn, epa, t | 3);
                    table = t;
                } else {
                    table = d & 0x0000fffffffff000ull & ~((1ull << g) - 1);
                }
            }
            {
                unsigned lsb = ref_armv8_lsb(g, level), w = level == start ? width : g - 3;
                uint64_t epa = table + 8 * ref_field(a, lsb + w - 1, lsb);
                uint64_t attrs = (1ull << 10) | (3ull << 6);
                uint64_t out = ref_s2_rand_out(size, 40);
                unsigned what = rnd_below(100);

                if (what < 6) {
                    poke2(gn, epa, rnd() & ~1ull);  /* hole: invalid, junk */
                } else {
                    bool usable = what >= 15;

                    if (!usable) {
                        attrs = rand_leaf_attrs();  /* perms, AF, DBM, XN */
                    }
                    poke2(gn, epa, enc_oa(out, g, c->s2_oas == 52) | attrs |
                                   (level == 3 ? 3 : 1));
                    ref_s2_add_leaf(gn, a, size, out, usable);
                    add_in(gn, a | (rnd() & (size - 1)));
                }
            }
            a += size;
        }
        c->s2_ttb = root;
    }
}

static void gen_s1(ref_gen *gn, ref_armv8_cfg *c, bool nested)
{
    c->s1_oas = nested ? 32 : oas_list[rnd_below(7)];
    c->s1_ha = chance(50);
    c->s1_hd = chance(50);
    c->s1_affd = chance(20);
    c->wxn = chance(20);
    for (int i = 0; i < 2; i++) {
        ref_armv8_range *r = &c->r[i];
        unsigned ia, width;
        int start;

        r->pgshift = gran_list[rnd_below(3)];
        r->tsz = 16 + rnd_below(24);
        if (r->pgshift == 16 && c->s1_oas == 52 && chance(30)) {
            r->tsz = 12 + rnd_below(4);
        }
        r->epd = chance(10);
        r->tbi = chance(30);
        r->hpd = chance(30);
        ia = 64 - r->tsz;
        start = ref_armv8_s1_start(ia, r->pgshift);
        width = ia - ref_armv8_lsb(r->pgshift, start);
        {
            uint64_t root_pa;

            r->ttb = s1_table_alloc(gn, 8ull << width, nested, &root_pa);
            gen_table(gn, root_pa, start, start, width, r->pgshift,
                      ref_armv8_oas(c->s1_oas, r->pgshift), 0, 0, nested);
        }
        if (chance(3)) {
            r->ttb |= 1ull << (40 + rnd_below(12));         /* maybe beyond oas */
        }
    }
}

static void to_core_s1(const ref_armv8_cfg *c, vi_armv8_s1_cfg *v)
{
    memset(v, 0, sizeof(*v));
    for (int i = 0; i < 2; i++) {
        v->tt[i].ttb = c->r[i].ttb;
        v->tt[i].tsz = (uint8_t)c->r[i].tsz;
        v->tt[i].granule = (vi_armv8_granule)c->r[i].pgshift;
        v->tt[i].epd = c->r[i].epd;
        v->tt[i].tbi = c->r[i].tbi;
        v->tt[i].hpd = c->r[i].hpd;
    }
    v->oas = (uint8_t)c->s1_oas;
    v->ha = c->s1_ha;
    v->hd = c->s1_hd;
    v->affd = c->s1_affd;
    v->wxn = c->wxn;
    v->lva = true;
}

static void to_core_s2(const ref_armv8_cfg *c, vi_armv8_s2_cfg *v)
{
    memset(v, 0, sizeof(*v));
    v->ttb = c->s2_ttb;
    v->tsz = (uint8_t)c->s2_tsz;
    v->sl0 = (uint8_t)c->s2_sl0;
    v->granule = (vi_armv8_granule)c->s2_pgshift;
    v->oas = (uint8_t)c->s2_oas;
    v->ha = c->s2_ha;
    v->hd = c->s2_hd;
    v->affd = c->s2_affd;
    v->xnx = c->xnx;
}

static uint64_t rand_input(ref_gen *gn, const ref_armv8_cfg *c, int mode)
{
    uint64_t va = gn->nins && !chance(5) ? gn->ins[rnd_below(gn->nins)] : rnd();

    if (mode == 1) {
        return chance(95) ? va & 0xffffffffull : va;          /* IPA */
    }
    /* Stage 1: pick a range, sign-extend from its size, maybe a top byte. */
    {
        unsigned sel = rnd_below(2), ia = 64 - c->r[sel].tsz;
        if (ia < 64) {
            va &= (1ull << ia) - 1;
        }
        if (sel) {
            va |= ~0ull << ia;
        }
        if (chance(20)) {
            va ^= (uint64_t)rnd_below(256) << 56;
        }
        if (chance(3)) {
            va ^= 1ull << rnd_below(64);
        }
    }
    return va;
}

static void test_reference(void)
{
    unsigned long count = ref_start(0x5eed0f7e57ull), done = 0;
    unsigned long moved = 0, nested_ok = 0;
    ref_stats st = { 0 };

    while (done < count) {
        int mode = (int)rnd_below(3);          /* 0: S1, 1: S2, 2: nested */
        ref_gen *gn = ref_gen_new();
        ref_armv8_cfg c;
        vi_armv8_s1_cfg v1;
        vi_armv8_s2_cfg v2;
        vi_armv8_s1 s1;
        vi_armv8_s2 s2;

        memset(&c, 0, sizeof(c));
        if (mode >= 1) {
            gen_s2(gn, &c);
            to_core_s2(&c, &v2);
            g_assert_cmpint(vi_armv8_s2_prepare(&v2, &s2), ==, VI_ARMV8_CFG_OK);
        }
        if (mode != 1) {
            gn->nins = 0;                       /* inputs: stage-1 VAs */
            gen_s1(gn, &c, mode == 2);
            to_core_s1(&c, &v1);
            g_assert_cmpint(vi_armv8_s1_prepare(&v1, &s1), ==, VI_ARMV8_CFG_OK);
        }
        for (unsigned i = 0; i < 500 && done < count; i++, done++) {
            uint32_t acc = ref_rand_access();
            uint64_t in = rand_input(gn, &c, mode), cas0;
            vi_pt_result r;
            vi_fault f;
            ref_out o;
            ref_armv8_ctx x = { &c, mode == 2, { gn->b, { { 0 } }, 0 } };
            bool ok;

            if (mode == 1) {
                o = ref_armv8_s2(&x, in, acc & VI_ACC_W, acc & VI_ACC_PRIV, acc & VI_ACC_X,
                             acc & VI_ACC_R);
            } else {
                o = ref_armv8_s1(&x, in, acc & VI_ACC_R, acc & VI_ACC_W, acc & VI_ACC_X,
                             acc & VI_ACC_PRIV);
            }
            cas0 = fake_mem_get_stats(gn->a)->cmpxchgs;
            if (mode == 0) {
                ok = vi_armv8_s1_translate(&s1, fake_mem_vi(gn->a), in, acc, &r, &f);
            } else if (mode == 1) {
                ok = vi_armv8_s2_translate(&s2, fake_mem_vi(gn->a), in, acc, &r, &f);
            } else {
                ok = vi_armv8_nested_translate(&s1, &s2, fake_mem_vi(gn->a), in, acc, &r, &f);
            }
            ref_compare(mode == 0 ? "s1" : mode == 1 ? "s2" : "nested", in, acc, ok, &r, &f,
                        &o, gn->a, &x.m, cas0);
            ref_tally(&st, mode, ok, &r, &f, &x.m);
            if (ok && mode >= 1) {
                /* The second stage really moves addresses. */
                moved += r.out != (mode == 1 ? in : r.ipa);
                nested_ok += mode == 2;
            }
        }
        ref_gen_free(gn);
    }
    printf("# %lu translations: %lu ok, %lu faults (translation %lu, addr-size %lu, "
           "access %lu, permission %lu, eabt %lu); %lu mismatches\n",
           done, st.okays, st.faults, st.per_kind[VI_FAULT_TRANSLATION],
           st.per_kind[VI_FAULT_ADDR_SIZE], st.per_kind[VI_FAULT_ACCESS],
           st.per_kind[VI_FAULT_PERMISSION], st.per_kind[VI_FAULT_WALK_EABT], ref_mismatches);
    printf("# s1 %lu, s2 %lu, nested %lu; %lu s2 faults on s1 table walks; %lu hardware "
           "updates\n", st.per_mode[0], st.per_mode[1], st.per_mode[2], st.s1ptw, st.updates);
    printf("# %lu nested translations succeeded; %lu second-stage outputs differ from "
           "their input\n", nested_ok, moved);
    g_assert_cmpuint(ref_mismatches, ==, 0);
    g_assert_cmpuint(nested_ok, >, count / 100);
    g_assert_cmpuint(moved, >, count / 20);
    /* The random tables must exercise both outcomes substantially. */
    g_assert_cmpuint(st.okays, >, count / 20);
    g_assert_cmpuint(st.faults, >, count / 20);
}

/* Configuration validity: the core agrees with the model on random S2 configs. */
static void test_reference_s2_validity(void)
{
    rnd_seed(12345);
    for (unsigned i = 0; i < 20000; i++) {
        ref_armv8_cfg c;
        vi_armv8_s2_cfg v;
        vi_armv8_s2 s2;

        memset(&c, 0, sizeof(c));
        c.s2_pgshift = gran_list[rnd_below(3)];
        c.s2_tsz = rnd_below(64);
        c.s2_sl0 = rnd_below(4);
        c.s2_oas = oas_list[rnd_below(7)];
        to_core_s2(&c, &v);
        g_assert_cmpint(vi_armv8_s2_prepare(&v, &s2) == VI_ARMV8_CFG_OK, ==,
                        ref_armv8_s2_valid(&c));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ref-armv8/random-translations", test_reference);
    g_test_add_func("/ref-armv8/s2-config-validity", test_reference_s2_validity);
    return g_test_run();
}
