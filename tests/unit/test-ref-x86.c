/*
 * Reference check of the VT-d page-table walkers (first stage, second
 * stage, nested).
 *
 * A second, deliberately naive translation function (ref-model-x86.c, which
 * the differential fuzzer fuzz-ref runs too), written from the Intel VT-d
 * specification's description of the translation (first stage:
 * IA-32e 4/5-level paging as VT-d applies it -- P, R/W, U/S, PS, XD, A/D,
 * EA, WPE, reserved bits; second stage: R/W/X, large pages, A/D, reserved
 * bits; nesting: every first-stage table access and the first-stage output
 * translated by the second stage), one plain loop per stage and no code
 * shared with the core beyond mem.h and the fake memory, is compared with
 * the core on random page tables and random configurations.  Outcome, fault
 * kind / stage / level / s1ptw, output address, mapping size, permissions
 * and every A/D update written to memory must agree.
 * The second stage under nesting is never the identity: its leaves map GPAs
 * to random host addresses, with holes and random permissions, and the
 * first-stage tables sit at GPAs it maps (ref_s2_alloc()), so output-address
 * and nesting bugs disagree with the model.
 * The harness around the model (random numbers, random tables, the
 * comparison) is ref-harness.c, shared with test-ref-armv8.c.
 *
 * The seed is printed; VI_REF_SEED sets it, VI_REF_COUNT sets the number of
 * translations (default 100000), so a long run is VI_REF_COUNT=10000000.
 *
 * Conventions the specification leaves to the implementation, taken the
 * way pt-x86-fs.h and pt-vtd-ss.h state them: a fault raised before the
 * first fetch (non-canonical input, input beyond the AW, table pointer
 * beyond the HAW) reports the top level; the A / EA flags of table entries
 * are set as the walk passes them, those of the leaf (and D) only once the
 * access is known to be allowed; a user request reaching a supervisor page is an
 * ACCESS fault (VT-d reports it with its own reason), every other refused
 * access a PERMISSION fault; without SLEE an execute request needs read
 * permission at the second stage; an A/D update is a compare-and-swap,
 * decided again when the entry changed under the walk and given up with an
 * ACCESS fault after REF_MAX_UPDATES tries (ref-harness.h).
 *
 * Not exercised (REF_SS_STRICT_RSVD = 0): bit 11 of second-stage non-leaf
 * entries and bit 62 of every second-stage entry, reserved in the
 * specification but not checked by the core at the time of writing; set
 * REF_SS_STRICT_RSVD to 1 to generate and check them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "hw/viommu/core/nested.h"
#include "ref-model-x86.h"

/* ---------------------------------------------------------------------- */
/* Random tables (ref-harness.h writes them into both memories). */

/*
 * Where a new table entry points: a new table, a shared one, or anywhere.
 * A new table is placed at a GPA the random second stage maps when nested
 * (ref_s2_alloc()); *pa is where it is in memory.
 */
static uint64_t rand_next_table(ref_gen *gn, unsigned haw, bool nested, bool *fresh,
                                uint64_t *pa)
{
    *fresh = false;
    if (chance(8) && gn->ntables) {
        return gn->tables[rnd_below(gn->ntables)];       /* shared / loops */
    }
    if (chance(3)) {
        return rand_addr(haw) & ~0xfffull;              /* anywhere */
    }
    *fresh = true;
    if (nested) {
        return ref_s2_alloc(gn, 4096, pa);
    }
    *pa = alloc2(gn, 4096);
    return *pa;
}

static void gen_fs_table(ref_gen *gn, const ref_x86_cfg *c, uint64_t table, int level,
                         uint64_t prefix, unsigned depth, bool nested)
{
    unsigned n = 1 + rnd_below(level == (int)c->fs_levels ? 6 : 4);
    unsigned shift = level_shift(level);

    for (unsigned k = 0; k < n; k++) {
        uint64_t idx = rnd() & 511, in = prefix | (idx << shift), e;
        unsigned what = rnd_below(100);

        if (level >= 4 && what < 85 && !chance(5)) {
            what = 0;                   /* no pages at the top levels: tables */
        }
        if (level > 1 && what < 45 && depth < 5) {
            bool fresh;
            uint64_t next_pa = 0;
            uint64_t next = rand_next_table(gn, c->fs_haw, nested, &fresh, &next_pa);

            e = next | FS_P;
            e |= chance(92) ? FS_RW : 0;
            e |= chance(90) ? FS_US : 0;
            e |= chance(50) ? FS_A : 0;
            e |= chance(20) ? FS_EA : 0;
            e |= chance(5) ? FS_XD : 0;
            e |= rnd() & (FS_PWT | FS_PCD | (3ull << 8) | (1ull << 11));
            if (chance(10)) {
                e |= rnd() & mask_of(62, 52);           /* ignored */
            }
            if (chance(3)) {
                e |= FS_PS;                             /* large page / reserved */
            }
            if (chance(3)) {
                e |= 1ull << (c->fs_haw + rnd_below(52 - c->fs_haw + 1));  /* maybe rsvd */
            }
            poke2(gn, table + 8 * idx, e);
            if (fresh) {
                gen_fs_table(gn, c, next_pa, level - 1, in, depth + 1, nested);
            }
            if (!fresh || chance(15)) {
                add_in(gn, in | (rnd() & ((1ull << shift) - 1)));
            }
            continue;
        }
        if (what < 85) {
            uint64_t size = 1ull << shift;

            e = rand_addr(c->fs_haw) & ~(size - 1) & mask_of(51, 12);
            if (level > 1) {
                e |= FS_PS;
                if (chance(10)) {
                    e |= rnd() & mask_of(shift - 1, 12);  /* PAT / reserved */
                }
            }
            e |= FS_P;
            e |= chance(70) ? FS_RW : 0;
            e |= chance(70) ? FS_US : 0;
            e |= chance(60) ? FS_A : 0;
            e |= chance(50) ? FS_D : 0;
            e |= chance(20) ? FS_XD : 0;
            e |= chance(20) ? FS_G : 0;
            e |= chance(20) ? FS_EA : 0;
            e |= rnd() & (FS_PWT | FS_PCD | (1ull << 9) | (1ull << 11));
            if (chance(10)) {
                e |= rnd() & mask_of(62, 52);
            }
        } else {
            e = rnd() & ~FS_P;                          /* not present, junk */
        }
        poke2(gn, table + 8 * idx, e);
        add_in(gn, in | (rnd() & ((1ull << shift) - 1)));
    }
}

static uint64_t rand_ss_perm(void)
{
    uint64_t e = 0;

    e |= chance(85) ? SS_R : 0;
    e |= chance(75) ? SS_W : 0;
    e |= chance(70) ? SS_X : 0;
    return e;
}

static void gen_ss_table(ref_gen *gn, const ref_x86_cfg *c, uint64_t table, int level,
                         uint64_t prefix, unsigned depth)
{
    unsigned n = 1 + rnd_below(level == ref_x86_ss_levels(c->ss_aw) ? 6 : 4);
    unsigned shift = level_shift(level);

    for (unsigned k = 0; k < n; k++) {
        uint64_t idx = rnd() & 511, in = prefix | (idx << shift), e;
        unsigned what = rnd_below(100);

        if (level >= 4 && what < 85 && !chance(5)) {
            what = 0;                   /* no pages at the top levels: tables */
        }
        if (level > 1 && what < 45 && depth < 5) {
            bool fresh;
            uint64_t next_pa = 0;
            uint64_t next = rand_next_table(gn, c->ss_haw, false, &fresh, &next_pa);

            e = next | rand_ss_perm();
            if (chance(95)) {
                e |= SS_R | SS_W | (chance(90) ? SS_X : 0);
            }
            e |= chance(40) ? SS_A : 0;
            e |= rnd() & (mask_of(6, 3) | SS_D | (1ull << 10) | (1ull << 63));
            if (chance(10)) {
                e |= rnd() & mask_of(61, 52);           /* ignored */
            }
            if (chance(3)) {
                e |= SS_PS;
            }
            if (chance(3)) {
                e |= 1ull << (c->ss_haw + rnd_below(52 - c->ss_haw + 1));
            }
            if (REF_SS_STRICT_RSVD && chance(3)) {
                e |= chance(50) ? SS_SNP : SS_B62;
            }
            poke2(gn, table + 8 * idx, e);
            if (fresh) {
                gen_ss_table(gn, c, next_pa, level - 1, in, depth + 1);
            }
            if (!fresh || chance(15)) {
                add_in(gn, in | (rnd() & ((1ull << shift) - 1)));
            }
            continue;
        }
        if (what < 85) {
            uint64_t size = 1ull << shift;

            e = rand_addr(c->ss_haw) & ~(size - 1) & mask_of(51, 12);
            if (level > 1) {
                e |= SS_PS;
                if (chance(10)) {
                    e |= rnd() & mask_of(shift - 1, 12);
                }
            }
            e |= rand_ss_perm();
            e |= chance(50) ? SS_A : 0;
            e |= chance(40) ? SS_D : 0;
            e |= rnd() & (mask_of(6, 3) | SS_SNP | (1ull << 10) | (1ull << 63));
            if (chance(10)) {
                e |= rnd() & mask_of(61, 52);
            }
            if (REF_SS_STRICT_RSVD && chance(3)) {
                e |= SS_B62;
            }
        } else {
            e = rnd() & ~(SS_R | SS_W);                 /* not present, junk */
        }
        poke2(gn, table + 8 * idx, e);
        add_in(gn, in | (rnd() & ((1ull << shift) - 1)));
    }
}

/*
 * Second stage for nesting: GPAs [0, 4G) in 2M / 1G leaves (4K now and
 * then) at random output addresses below the HAW, so every output-address
 * and nesting bug shows; some holes and some leaves with random
 * permissions.  Each leaf is recorded so the first-stage tables can be
 * placed at GPAs it maps (ref_s2_alloc()).
 */
static void gen_ss_nested(ref_gen *gn, ref_x86_cfg *c)
{
    int levels = ref_x86_ss_levels(c->ss_aw);
    uint64_t root = alloc2(gn, 4096);
    unsigned out_bits = c->ss_haw < 40 ? c->ss_haw : 40;

    c->ss_ptptr = root;
    for (uint64_t a = 0; a < (1ull << 32);) {
        int level;
        uint64_t table = root, e, size, out;
        unsigned what = rnd_below(100);

        do {
            level = 1 + (int)rnd_below(3);
        } while ((level == 3 && !(c->sllps & 2)) || (level == 2 && !(c->sllps & 1)) ||
                 (level == 1 && !chance(3)));
        while (a & ((1ull << level_shift(level)) - 1)) {
            level--;                    /* after smaller pages: stay aligned */
        }
        size = 1ull << level_shift(level);
        for (int l = levels; l > level; l--) {
            uint64_t epa = table + 8 * ((a >> level_shift(l)) & 511);

            e = fake_mem_peek64(gn->a, epa);
            if (!e) {
                uint64_t t = alloc2(gn, 4096);
                e = t | SS_R | SS_W | SS_X | (chance(50) ? SS_A : 0);
                poke2(gn, epa, e);
            }
            table = entry_addr(e);
        }
        out = ref_s2_rand_out(size, out_bits);
        e = out | SS_R | SS_W | SS_X | (level > 1 ? SS_PS : 0) | (chance(50) ? SS_A : 0) |
            (chance(30) ? SS_D : 0);
        if (what < 6) {
            e = rnd() & ~(SS_R | SS_W);                 /* hole: not present, junk */
        } else if (what < 15) {
            e = (e & ~(SS_R | SS_W | SS_X | SS_A | SS_D)) | rand_ss_perm() |
                (rnd() & (SS_A | SS_D | SS_SNP));       /* random permissions */
        }
        poke2(gn, table + 8 * ((a >> level_shift(level)) & 511), e);
        if (what >= 6) {
            ref_s2_add_leaf(gn, a, size, out, what >= 15);
        }
        a += size;
    }
}

static const unsigned aw_list[] = { 39, 48, 57 };

static void gen_ss_cfg(ref_x86_cfg *c)
{
    c->ss_aw = aw_list[rnd_below(3)];
    c->ss_haw = 36 + rnd_below(17);              /* 36..52 */
    c->sllps = rnd_below(4);
    c->slee = chance(50);
    c->slade = chance(50);
}

static void gen_fs(ref_gen *gn, ref_x86_cfg *c, bool nested)
{
    uint64_t root;

    c->fs_levels = chance(50) ? 4 : 5;
    c->fs_haw = nested ? (c->ss_aw < 52 ? c->ss_aw : 52) : 32 + rnd_below(21);
    c->fl1gp = chance(50);
    c->wpe = chance(50);
    c->eafe = chance(30);
    {
        uint64_t root_pa;

        root = nested ? ref_s2_alloc(gn, 4096, &root_pa) : (root_pa = alloc2(gn, 4096));
        gen_fs_table(gn, c, root_pa, (int)c->fs_levels, 0, 0, nested);
    }
    c->fs_ptptr = root;
    if (chance(3)) {
        c->fs_ptptr |= 1ull << (40 + rnd_below(12));        /* maybe beyond the HAW */
    }
}

static void gen_ss(ref_gen *gn, ref_x86_cfg *c)
{
    uint64_t root = alloc2(gn, 4096);

    gen_ss_table(gn, c, root, ref_x86_ss_levels(c->ss_aw), 0, 0);
    c->ss_ptptr = root;
    if (chance(3)) {
        c->ss_ptptr |= 1ull << (40 + rnd_below(12));
    }
}

static void to_core_fs(const ref_x86_cfg *c, vi_x86_fs_cfg *v)
{
    memset(v, 0, sizeof(*v));
    v->ptptr = c->fs_ptptr;
    v->levels = (uint8_t)c->fs_levels;
    v->haw = (uint8_t)c->fs_haw;
    v->fl1gp = c->fl1gp;
    v->wpe = c->wpe;
    v->eafe = c->eafe;
}

static void to_core_ss(const ref_x86_cfg *c, vi_vtd_ss_cfg *v)
{
    memset(v, 0, sizeof(*v));
    v->ptptr = c->ss_ptptr;
    v->aw_bits = (uint8_t)c->ss_aw;
    v->haw = (uint8_t)c->ss_haw;
    v->sllps = (uint8_t)c->sllps;
    v->slee = c->slee;
    v->slade = c->slade;
}

static uint64_t rand_input(ref_gen *gn, const ref_x86_cfg *c, int mode)
{
    uint64_t in = gn->nins && !chance(5) ? gn->ins[rnd_below(gn->nins)] : rnd();

    if (mode == 1) {
        if (chance(95)) {
            in &= (1ull << c->ss_aw) - 1;
        }
        return in;
    }
    /* First stage: sign-extend from the top input bit, sometimes not. */
    {
        unsigned width = c->fs_levels == 5 ? 57 : 48;

        in &= (1ull << width) - 1;
        if (in >> (width - 1)) {
            in |= ~0ull << width;
        }
        if (chance(3)) {
            in ^= 1ull << rnd_below(64);
        }
    }
    return in;
}

static void test_reference(void)
{
    unsigned long count = ref_start(0x78367e57ull), done = 0;
    unsigned long moved = 0, nested_ok = 0;
    ref_stats st = { 0 };

    while (done < count) {
        int mode = (int)rnd_below(3);          /* 0: first stage, 1: second, 2: nested */
        ref_gen *gn = ref_gen_new();
        ref_x86_cfg c;
        vi_x86_fs_cfg vf;
        vi_vtd_ss_cfg vs;

        memset(&c, 0, sizeof(c));
        if (mode >= 1) {
            gen_ss_cfg(&c);
            if (mode == 2) {
                c.sllps |= 1;                   /* keep the map small */
                gen_ss_nested(gn, &c);
            } else {
                gen_ss(gn, &c);
            }
            to_core_ss(&c, &vs);
            g_assert_true(vi_vtd_ss_cfg_ok(&vs));
        }
        if (mode != 1) {
            gn->nins = 0;
            gen_fs(gn, &c, mode == 2);
            to_core_fs(&c, &vf);
            g_assert_true(vi_x86_fs_cfg_ok(&vf));
        }
        for (unsigned i = 0; i < 500 && done < count; i++, done++) {
            uint32_t acc = ref_rand_access();
            uint64_t in = rand_input(gn, &c, mode), cas0;
            vi_pt_result r;
            vi_fault f;
            ref_out o;
            ref_x86_ctx x = { &c, mode == 2, { gn->b, { { 0 } }, 0 } };
            bool ok;

            o = mode == 1 ? ref_x86_ss(&x, in, acc) : ref_x86_fs(&x, in, acc);
            cas0 = fake_mem_get_stats(gn->a)->cmpxchgs;
            if (mode == 0) {
                ok = vi_x86_fs_translate(&vf, fake_mem_vi(gn->a), in, acc, &r, &f);
            } else if (mode == 1) {
                ok = vi_vtd_ss_translate(&vs, fake_mem_vi(gn->a), in, acc, &r, &f);
            } else {
                ok = vi_vtd_nested_translate(&vf, &vs, fake_mem_vi(gn->a), in, acc, &r, &f,
                                             NULL);
            }
            ref_compare(mode == 0 ? "fs" : mode == 1 ? "ss" : "nested", in, acc, ok, &r, &f,
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
    printf("# %lu translations: %lu ok (%lu large pages), %lu faults (translation %lu, "
           "addr-size %lu, access %lu, permission %lu, eabt %lu, reserved %lu); "
           "%lu mismatches\n",
           done, st.okays, st.large, st.faults, st.per_kind[VI_FAULT_TRANSLATION],
           st.per_kind[VI_FAULT_ADDR_SIZE], st.per_kind[VI_FAULT_ACCESS],
           st.per_kind[VI_FAULT_PERMISSION], st.per_kind[VI_FAULT_WALK_EABT],
           st.per_kind[VI_FAULT_RESERVED], ref_mismatches);
    printf("# fs %lu, ss %lu, nested %lu; %lu second-stage faults on first-stage table "
           "fetches; %lu A/D updates\n", st.per_mode[0], st.per_mode[1], st.per_mode[2],
           st.s1ptw, st.updates);
    printf("# %lu nested translations succeeded; %lu second-stage outputs differ from "
           "their input\n", nested_ok, moved);
    g_assert_cmpuint(ref_mismatches, ==, 0);
    g_assert_cmpuint(nested_ok, >, count / 50);
    g_assert_cmpuint(moved, >, count / 20);
    /* The random tables must exercise every outcome substantially. */
    g_assert_cmpuint(st.okays, >, count / 20);
    g_assert_cmpuint(st.faults, >, count / 20);
    g_assert_cmpuint(st.large, >, count / 200);
    g_assert_cmpuint(st.updates, >, count / 50);
    for (int k = VI_FAULT_TRANSLATION; k <= VI_FAULT_RESERVED; k++) {
        g_assert_cmpuint(st.per_kind[k], >, count / 1000);
    }
    g_assert_cmpuint(st.s1ptw, >, count / 1000);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ref-x86/random-translations", test_reference);
    return g_test_run();
}
