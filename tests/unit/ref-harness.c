/*
 * Harness shared by the reference checks (see ref-harness.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref-harness.h"

/* ---------------------------------------------------------------------- */
/* Random numbers (xorshift64*), reproducible from the seed. */

static uint64_t rng_state;

void rnd_seed(uint64_t seed)
{
    rng_state = seed ? seed : 1;
}

uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

bool chance(unsigned percent)
{
    return rnd_below(100) < percent;
}

uint64_t rand_addr(unsigned bits)
{
    if (chance(5)) {
        return rnd() & ((1ull << 52) - 1);
    }
    if (chance(10)) {
        return rnd() & ((1ull << bits) - 1);
    }
    return rnd() & 0xffffffffull;
}

/* ---------------------------------------------------------------------- */
/* The model's answers and memory. */

ref_out model_fault(vi_fault_kind k, int stage, int level)
{
    ref_out o;

    memset(&o, 0, sizeof(o));
    o.kind = k;
    o.stage = stage;
    o.level = level;
    return o;
}

bool model_read(ref_mem *m, uint64_t pa, uint64_t *v)
{
    if (!fake_mem_is_mapped(m->fm, pa, 8)) {
        return false;
    }
    *v = fake_mem_peek64(m->fm, pa);
    return true;
}

ref_cas model_cas(ref_mem *m, uint64_t pa, uint64_t old, uint64_t new, uint64_t *cur)
{
    m->attempts++;
    if (!fake_mem_is_mapped(m->fm, pa, 8) || m->nwrites == G_N_ELEMENTS(m->writes)) {
        return REF_CAS_ABORT;
    }
    *cur = fake_mem_peek64(m->fm, pa);
    if (*cur != old) {
        return REF_CAS_CHANGED;
    }
    fake_mem_poke64(m->fm, pa, new);
    m->writes[m->nwrites][0] = pa;
    m->writes[m->nwrites][1] = new;
    m->nwrites++;
    return REF_CAS_DONE;
}

/* ---------------------------------------------------------------------- */
/* Random tables, written identically into two memories. */

ref_gen *ref_gen_new(void)
{
    ref_gen *gn = g_new0(ref_gen, 1);

    gn->a = fake_mem_new();
    gn->b = fake_mem_new();
    gn->s2_leaves = g_array_new(false, false, sizeof(ref_s2_leaf));
    return gn;
}

void ref_gen_free(ref_gen *gn)
{
    fake_mem_free(gn->a);
    fake_mem_free(gn->b);
    g_array_free(gn->s2_leaves, true);
    g_free(gn);
}

void poke2(ref_gen *gn, uint64_t pa, uint64_t v)
{
    fake_mem_poke64(gn->a, pa, v);
    fake_mem_poke64(gn->b, pa, v);
}

uint64_t alloc2(ref_gen *gn, uint64_t size)
{
    uint64_t pa = fake_mem_alloc(gn->a, size, size < 4096 ? 4096 : size);
    uint64_t pb = fake_mem_alloc(gn->b, size, size < 4096 ? 4096 : size);

    g_assert_cmphex(pa, ==, pb);
    if (gn->ntables < G_N_ELEMENTS(gn->tables)) {
        gn->tables[gn->ntables++] = pa;
    }
    return pa;
}

void add_in(ref_gen *gn, uint64_t in)
{
    if (gn->nins < G_N_ELEMENTS(gn->ins)) {
        gn->ins[gn->nins++] = in;
    } else {
        gn->ins[rnd_below(G_N_ELEMENTS(gn->ins))] = in;
    }
}

void ref_s2_add_leaf(ref_gen *gn, uint64_t ipa, uint64_t size, uint64_t pa, bool usable)
{
    ref_s2_leaf l = { ipa, size, pa, usable };

    g_array_append_val(gn->s2_leaves, l);
}

uint64_t ref_s2_rand_out(uint64_t size, unsigned bits)
{
    uint64_t lo = 1ull << 32, span = (1ull << bits) - lo;

    return (lo + rnd() % span) & ~(size - 1);
}

uint64_t ref_s2_alloc(ref_gen *gn, uint64_t size, uint64_t *pa)
{
    unsigned n = gn->s2_leaves->len;

    if (n && !gn->next_ipa) {
        /* Start somewhere random so tables are not always at low IPAs. */
        gn->next_ipa = g_array_index(gn->s2_leaves, ref_s2_leaf, rnd_below(n)).ipa;
    }
    for (unsigned tries = 0; tries < 2 * n; tries++) {
        unsigned i = 0;
        ref_s2_leaf *l;
        uint64_t ipa;

        while (i < n && g_array_index(gn->s2_leaves, ref_s2_leaf, i).ipa +
                        g_array_index(gn->s2_leaves, ref_s2_leaf, i).size <= gn->next_ipa) {
            i++;
        }
        if (i == n) {
            gn->next_ipa = g_array_index(gn->s2_leaves, ref_s2_leaf, 0).ipa;   /* wrap */
            continue;
        }
        l = &g_array_index(gn->s2_leaves, ref_s2_leaf, i);
        ipa = gn->next_ipa > l->ipa ? gn->next_ipa : l->ipa;
        ipa = (ipa + size - 1) & ~(size - 1);
        if ((l->usable || chance(10)) && ipa + size <= l->ipa + l->size) {
            *pa = l->pa + (ipa - l->ipa);
            gn->next_ipa = ipa + size;
            fake_mem_map(gn->a, *pa, size);
            fake_mem_map(gn->b, *pa, size);
            if (gn->ntables < G_N_ELEMENTS(gn->tables)) {
                gn->tables[gn->ntables++] = ipa;
            }
            return ipa;
        }
        gn->next_ipa = l->ipa + l->size;
    }
    *pa = alloc2(gn, size);
    return *pa;
}

/* ---------------------------------------------------------------------- */
/* The comparison. */

uint32_t ref_rand_access(void)
{
    uint32_t acc = (uint32_t)rnd_below(16);

    if (!(acc & (VI_ACC_R | VI_ACC_W | VI_ACC_X))) {
        acc |= VI_ACC_R;
    }
    return acc;
}

void ref_tally(ref_stats *st, int mode, bool ok, const vi_pt_result *r, const vi_fault *f,
               const ref_mem *m)
{
    st->per_mode[mode]++;
    st->updates += m->nwrites;
    if (ok) {
        st->okays++;
        st->large += r->size > 4096;
    } else {
        st->faults++;
        st->per_kind[f->kind]++;
        st->s1ptw += f->s1ptw;
    }
}

static uint64_t seed;
unsigned long ref_mismatches;

unsigned long ref_start(uint64_t default_seed)
{
    const char *s = getenv("VI_REF_SEED"), *n = getenv("VI_REF_COUNT");
    unsigned long count = n ? strtoul(n, NULL, 0) : 100000;

    seed = s ? strtoull(s, NULL, 0) : default_seed;
    printf("# reference check: seed %" PRIu64 " (VI_REF_SEED), %lu translations "
           "(VI_REF_COUNT)\n", seed, count);
    rnd_seed(seed);
    ref_mismatches = 0;
    return count;
}

void ref_compare(const char *what, uint64_t in, uint32_t acc, bool ok, const vi_pt_result *r,
                 const vi_fault *f, const ref_out *o, fake_mem *ma, const ref_mem *m,
                 uint64_t cas_before)
{
    bool same = ok == o->ok;
    uint64_t cas = fake_mem_get_stats(ma)->cmpxchgs - cas_before;

    if (same && ok) {
        same = r->out == o->out && r->size == o->size && r->perm == o->perm &&
               r->level == o->level;
    } else if (same) {
        same = f->kind == o->kind && f->stage == o->stage && f->level == o->level &&
               f->s1ptw == o->s1ptw;
    }
    if (same) {
        same = cas == m->attempts;
        for (unsigned i = 0; same && i < m->nwrites; i++) {
            bool last = true;

            /* An entry updated twice (A, then D) holds the later value. */
            for (unsigned j = i + 1; j < m->nwrites; j++) {
                last = last && m->writes[j][0] != m->writes[i][0];
            }
            same = !last || fake_mem_peek64(ma, m->writes[i][0]) == m->writes[i][1];
        }
    }
    if (!same && ref_mismatches++ < 10) {
        fprintf(stderr, "MISMATCH (seed %" PRIu64 ") %s in %016" PRIx64 " acc %x:\n"
                "  core:  %s out %" PRIx64 " size %" PRIx64 " perm %x lvl %d | "
                "%s st %d lvl %d ptw %d, %" PRIu64 " updates\n"
                "  model: %s out %" PRIx64 " size %" PRIx64 " perm %x lvl %d | "
                "%s st %d lvl %d ptw %d, %u updates\n",
                seed, what, in, acc,
                ok ? "ok" : "fault", ok ? r->out : 0, ok ? r->size : 0,
                ok ? r->perm : 0, ok ? r->level : 0,
                vi_fault_kind_name(ok ? VI_FAULT_NONE : f->kind), ok ? 0 : f->stage,
                ok ? 0 : f->level, ok ? 0 : f->s1ptw, cas,
                o->ok ? "ok" : "fault", o->out, o->size, o->perm, o->level,
                vi_fault_kind_name(o->kind), o->stage, o->level, o->s1ptw, m->attempts);
    }
}
