/*
 * qtests for viommu-smmuv3: replacing a live STE or CD the way Linux's
 * arm-smmu-v3 driver does (arm_smmu_write_entry()), with DMA at every state
 * the SMMU may observe.
 *
 * Linux updates a 64-byte STE or CD with 64-bit stores, separated by
 * CFGI_STE / CFGI_CD + CMD_SYNC.  It first works out which bits the current
 * and the target entry use (the rest the SMMU IGNORES, IHI 0070 5.2 / 5.4):
 *   - when the used bits of only one qword differ it is "hitless": set every
 *     bit the current entry does not use to its target value, then store the
 *     one critical qword, then clear what the target does not use;
 *   - when they differ in two or more qwords it breaks the entry: qword 0 (and
 *     V) to 0, the other qwords, then qword 0.
 * The rules (which fields each configuration uses, which may change
 * freely) are the ones that driver applies, restated from the architecture
 * (smmu_entry_update() in smmuv3-drv.c).
 *
 * At every store the test device DMAs twice: once while the SMMU may still
 * hold the entry in its configuration cache, and once after CFGI + CMD_SYNC
 * made it fetch what is in memory.  Any entry with V = 1 met on the way must
 * translate, to the old or the new destination (never a fault, never
 * anywhere else); an entry with V = 0 must be refused with C_BAD_STE /
 * C_BAD_CD.  Deterministic: every intermediate state is visited, none is
 * left to timing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

#define SID             TD_DEVFN
#define DMA_LEN         64
/* The STE fields the configurations below set beyond the driver's builders. */
#define SHCFG_INCOMING  (1ull << 44)
#define STE1_MEV        (1ull << 19)
#define STE0_CFG        (7ull << 1)
#define STE0_V          1ull

/* ------------------------------------------------------------------------
 * The environment: one stream, a DMA target, and what each config maps it to
 */
typedef struct Cfg {
    const char *name;
    uint64_t e[8];
    uint64_t dest;          /* where a fill of IOVA X lands */
} Cfg;

typedef struct Rig {
    SmmuEnv *env;
    uint64_t x;             /* the DMA address (also RAM: bypass writes it) */
    uint64_t entry;         /* the STE or CD being replaced */
    const SmmuEntryLayout *l;
    const char *kind;       /* "STE" or "CD" */
    unsigned bad_event;     /* what the entry with V = 0 raises */
    uint64_t inval_w0;      /* CFGI_STE or CFGI_CD for this entry */
    uint32_t pattern;
    unsigned dmas, faults, states;
} Rig;

static void clear_dest(Rig *r, uint64_t pa)
{
    qtest_memset(r->env->m->qts, pa, 0, DMA_LEN);
}

/*
 * One fill of X.  may_fault: the entry in memory has V = 0 (refused once the
 * SMMU looks, which it must after a CFGI: must_fault).
 */
static void dma_check(Rig *r, const Cfg *a, const Cfg *b, bool may_fault, bool must_fault)
{
    QTestState *qts = r->env->m->qts;
    uint32_t pat = ++r->pattern * 0x01010101u ^ 0x5a000000u;
    uint32_t err;
    uint64_t ev[4];
    bool in_a, in_b;

    clear_dest(r, a->dest);
    clear_dest(r, b->dest);
    td_writel(r->env->td, TD_PATTERN, pat);
    err = td_do(r->env->td, TD_OP_FILL, 0, r->x, DMA_LEN);
    r->dmas++;
    if (err != TD_ERR_NONE) {
        if (!may_fault) {
            g_test_message("%s %s -> %s: DMA fault (error %u) on a valid entry",
                           r->kind, a->name, b->name, err);
        }
        g_assert_true(may_fault);
        g_assert_cmpuint(err, ==, TD_ERR_WRITE_FAULT);
        g_assert_true(smmu_next_event(r->env->d, ev));
        g_assert_cmphex(EVT_TYPE(ev), ==, r->bad_event);
        g_assert_cmphex(EVT_SID(ev), ==, SID);
        g_assert_false(smmu_next_event(r->env->d, ev));
        r->faults++;
        return;
    }
    g_assert_false(must_fault);
    g_assert_false(smmu_next_event(r->env->d, ev));
    in_a = qtest_readl(qts, a->dest) == pat && qtest_readl(qts, a->dest + DMA_LEN - 4) == pat;
    in_b = qtest_readl(qts, b->dest) == pat && qtest_readl(qts, b->dest + DMA_LEN - 4) == pat;
    if (!in_a && !in_b) {
        g_test_message("%s %s -> %s: the fill reached neither destination",
                       r->kind, a->name, b->name);
    }
    g_assert_true(in_a || in_b);
}

typedef struct Step {
    Rig *r;
    const Cfg *a, *b;
} Step;

/* After each 64-bit store of Linux's sequence: DMA before and after a CFGI. */
static void after_store(void *opaque, bool valid)
{
    Step *st = opaque;
    Rig *r = st->r;

    r->states++;
    dma_check(r, st->a, st->b, !valid, false);
    g_assert_cmpuint(smmu_cmd_sync(r->env->d, r->inval_w0, 1), ==, 0);
    dma_check(r, st->a, st->b, !valid, !valid);
}

/* Replace a by b as Linux does; returns true when that was hitless. */
static bool replace(Rig *r, const Cfg *a, const Cfg *b)
{
    Step st = { .r = r, .a = a, .b = b };
    bool hitless;

    for (int i = 0; i < 8; i++) {
        g_assert_cmphex(qtest_readq(r->env->m->qts, r->entry + 8 * i), ==, a->e[i]);
    }
    hitless = smmu_entry_update(r->env->m->qts, r->l, r->entry, b->e, after_store, &st);
    /* Done: the new configuration, and only it. */
    dma_check(r, b, b, false, false);
    return hitless;
}

/* a -> b -> a; checks Linux would call both directions hitless (or not). */
static void round_trip(Rig *r, const Cfg *a, const Cfg *b, bool hitless)
{
    unsigned faults = r->faults, dmas = r->dmas, states = r->states;

    g_assert_cmpint(replace(r, a, b), ==, hitless);
    g_assert_cmpint(replace(r, b, a), ==, hitless);
    if (hitless) {
        g_assert_cmpuint(r->faults, ==, faults);
    } else {
        g_assert_cmpuint(r->faults, >, faults);     /* V = 0 was met, and refused */
    }
    g_test_message("%s %s <-> %s: %u states, %u DMAs, %u refused while V = 0",
                   r->kind, a->name, b->name, r->states - states, r->dmas - dmas,
                   r->faults - faults);
}

/* ------------------------------------------------------------------------
 * Configurations, written as Linux's arm_smmu_make_*_ste() / _cd() write them
 */
static void ste_bypass(Cfg *c)
{
    memset(c->e, 0, sizeof(c->e));
    c->e[0] = STE0_V | ((uint64_t)STE_CFG_BYPASS << 1);
    c->e[1] = SHCFG_INCOMING;
}

static void ste_cdtable(Cfg *c, uint64_t cdtab)
{
    smmu_ste_s1(c->e, cdtab, 0, 0, S1DSS_SSID0);
}

static void ste_s2(Cfg *c, const SmmuPt *s2, uint16_t vmid)
{
    memset(c->e, 0, sizeof(c->e));
    smmu_ste_s2(c->e, s2, vmid);
    c->e[1] |= SHCFG_INCOMING;
}

/* Linux's nested STE: the S2 parent's, with the guest's S1 fields and MEV. */
static void ste_nested(Cfg *c, const SmmuPt *s2, uint16_t vmid, uint64_t cdtab_ipa)
{
    uint64_t s1[8];

    ste_s2(c, s2, vmid);
    smmu_ste_s1(s1, cdtab_ipa, 0, 0, S1DSS_SSID0);
    c->e[0] = s1[0];                /* V, Config = S1 becomes nested below */
    c->e[0] = (c->e[0] & ~STE0_CFG) | ((uint64_t)STE_CFG_NESTED << 1);
    c->e[1] |= s1[1] | STE1_MEV;
}

typedef struct World {
    Rig r;
    SmmuPt ta, tb, tn1, tn2, s2;
    uint64_t cdtab, cdtab_n1, cdtab_n2;
    uint64_t pa_a, pa_b, pa_c, pa_n1, pa_n2;
} World;

static void world_init(World *w)
{
    SmmuEnv *e = smmu_env_start(NULL, false, 8, 6, NULL);
    TdMachine *m = e->m;
    uint64_t cd[8];

    memset(w, 0, sizeof(*w));
    w->r.env = e;
    w->r.x = td_alloc(m, 4096);
    w->pa_a = td_alloc(m, 4096);
    w->pa_b = td_alloc(m, 4096);
    w->pa_c = td_alloc(m, 4096);
    w->pa_n1 = td_alloc(m, 4096);
    w->pa_n2 = td_alloc(m, 4096);
    w->cdtab = smmu_alloc(m, 4096, 4096);
    w->cdtab_n1 = smmu_alloc(m, 4096, 4096);
    w->cdtab_n2 = smmu_alloc(m, 4096, 4096);

    /* Stage 1 (physical): X -> A or X -> B. */
    smmu_pt_init(&w->ta, m, false, 12, 48, -1);
    smmu_pt_map(&w->ta, w->r.x, w->pa_a, 4096, PT_R | PT_W);
    smmu_pt_init(&w->tb, m, false, 12, 48, -1);
    smmu_pt_map(&w->tb, w->r.x, w->pa_b, 4096, PT_R | PT_W);
    /* Nested stage 1 (IPA == PA for its tables and outputs): X -> N1 or N2. */
    smmu_pt_init(&w->tn1, m, false, 12, 48, -1);
    smmu_pt_map(&w->tn1, w->r.x, w->pa_n1, 4096, PT_R | PT_W);
    smmu_pt_init(&w->tn2, m, false, 12, 48, -1);
    smmu_pt_map(&w->tn2, w->r.x, w->pa_n2, 4096, PT_R | PT_W);
    /* Stage 2: X -> C; identity for what nested stage 1 reaches. */
    smmu_pt_init(&w->s2, m, true, 12, 48, 0);
    smmu_pt_map(&w->s2, w->r.x, w->pa_c, 4096, PT_R | PT_W);
    for (unsigned i = 0; i < w->tn1.ntables; i++) {
        smmu_pt_map(&w->s2, w->tn1.tables[i], w->tn1.tables[i], 4096, PT_R);
    }
    for (unsigned i = 0; i < w->tn2.ntables; i++) {
        smmu_pt_map(&w->s2, w->tn2.tables[i], w->tn2.tables[i], 4096, PT_R);
    }
    smmu_pt_map(&w->s2, w->cdtab_n1, w->cdtab_n1, 4096, PT_R);
    smmu_pt_map(&w->s2, w->cdtab_n2, w->cdtab_n2, 4096, PT_R);
    smmu_pt_map(&w->s2, w->pa_n1, w->pa_n1, 4096, PT_R | PT_W);
    smmu_pt_map(&w->s2, w->pa_n2, w->pa_n2, 4096, PT_R | PT_W);

    smmu_cd(cd, &w->tn1, 3);
    smmu_write_cd(e->d, w->cdtab_n1, cd);
    smmu_cd(cd, &w->tn2, 4);
    smmu_write_cd(e->d, w->cdtab_n2, cd);
}

static void world_stop(World *w)
{
    g_assert_cmpuint(smmu_drain_events(w->r.env->d), ==, 0);
    smmu_env_stop(w->r.env);
}

/* Replace the STE of SID, starting from first (installed as Linux would). */
static void rig_ste(World *w, const Cfg *first)
{
    w->r.l = &smmu_ste_layout;
    w->r.kind = "STE";
    w->r.bad_event = EVT_C_BAD_STE;
    w->r.entry = smmu_ste_addr(w->r.env->d, SID);
    w->r.inval_w0 = CMD_CFGI_STE | ((uint64_t)SID << 32);
    smmu_write_ste(w->r.env->d, SID, first->e);
}

/* Replace CD 0 of SID (its STE a stage-1 CD-table STE), starting from first. */
static void rig_cd(World *w, const Cfg *first)
{
    Cfg ste;

    w->r.l = &smmu_cd_layout;
    w->r.kind = "CD";
    w->r.bad_event = EVT_C_BAD_CD;
    w->r.entry = w->cdtab;
    w->r.inval_w0 = CMD_CFGI_CD | ((uint64_t)SID << 32);
    smmu_write_cd(w->r.env->d, w->cdtab, first->e);
    ste_cdtable(&ste, w->cdtab);
    smmu_write_ste(w->r.env->d, SID, ste.e);
}

/*
 * CD: a new ASID on the same tables (e.g. arm_smmu_share_asid()) is hitless;
 * a new ASID *and* new tables (replacing one S1 paging domain by another, as
 * iommufd's HWPT replace does) needs two qwords and breaks the CD: a DMA in
 * that window is refused with C_BAD_CD, by the architecture.
 */
static void test_cd(void)
{
    World w;
    Cfg a = { .name = "S1(ASID 1, tables A)" }, a2 = { .name = "S1(ASID 2, tables A)" };
    Cfg b = { .name = "S1(ASID 3, tables B)" };

    world_init(&w);
    smmu_cd(a.e, &w.ta, 1);
    a.dest = w.pa_a;
    smmu_cd(a2.e, &w.ta, 2);
    a2.dest = w.pa_a;
    smmu_cd(b.e, &w.tb, 3);      /* a fresh ASID: 2 has TLB entries for A */
    b.dest = w.pa_b;
    rig_cd(&w, &a);
    round_trip(&w.r, &a, &a2, true);
    round_trip(&w.r, &a, &b, false);
    world_stop(&w);
}

/* STE transitions between the configurations Linux installs. */
static void test_ste(void)
{
    World w;
    Cfg byp = { .name = "bypass" }, s1 = { .name = "S1 CD table" };
    Cfg s2_0 = { .name = "S2(VMID 0)" }, s2 = { .name = "S2(VMID 5)" };
    Cfg n1 = { .name = "nested(CD table 1)" }, n2 = { .name = "nested(CD table 2)" };
    uint64_t cd[8];

    world_init(&w);
    smmu_cd(cd, &w.ta, 1);
    smmu_write_cd(w.r.env->d, w.cdtab, cd);
    ste_bypass(&byp);
    byp.dest = w.r.x;
    ste_cdtable(&s1, w.cdtab);
    s1.dest = w.pa_a;
    ste_s2(&s2_0, &w.s2, 0);
    s2_0.dest = w.pa_c;
    ste_s2(&s2, &w.s2, 5);
    s2.dest = w.pa_c;
    ste_nested(&n1, &w.s2, 5, w.cdtab_n1);
    n1.dest = w.pa_n1;
    ste_nested(&n2, &w.s2, 5, w.cdtab_n2);
    n2.dest = w.pa_n2;

    rig_ste(&w, &byp);
    round_trip(&w.r, &byp, &s1, true);
    replace(&w.r, &byp, &s1);
    round_trip(&w.r, &s1, &s2_0, true);
    /* A stage-1 STE has VMID 0, a stage-2 domain's is >= 1: two qwords. */
    round_trip(&w.r, &s1, &s2, false);
    replace(&w.r, &s1, &s2);
    round_trip(&w.r, &s2, &n1, true);
    replace(&w.r, &s2, &n1);
    round_trip(&w.r, &n1, &n2, true);
    round_trip(&w.r, &n1, &s2, true);
    world_stop(&w);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-smmuv3/replace/cd", test_cd);
    qtest_add_func("/viommu-smmuv3/replace/ste", test_ste);
    return g_test_run();
}
