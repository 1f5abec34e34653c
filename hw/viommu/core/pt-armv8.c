/*
 * qemu-viommu translation core: Arm VMSAv8-64 stage-1 and stage-2 formats.
 * What is supported is listed in pt-armv8.h.  The walk loop itself is the
 * generic iterator in pt.c; this file says where a walk starts and what one
 * descriptor means.
 *
 * Geometry used throughout: with a page shift g (12/14/16) every table level
 * resolves s = g - 3 input bits, and level L (L <= 3) resolves input bits
 * [g + s * (3 - L) + s - 1 : g + s * (3 - L)], so the lowest input bit of a
 * level is also the size shift of a block / page entry at that level.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/viommu/core/pt-armv8.h"

#define ARMV8_OA_HI         47          /* descriptor OA bits [47:g] */
#define ARMV8_TBL_PXN       0x1u        /* w->tbl: PXNTable seen */
#define ARMV8_TBL_UXN       0x2u        /* UXNTable */
#define ARMV8_TBL_NO_EL0    0x4u        /* APTable[0] */
#define ARMV8_TBL_RO        0x8u        /* APTable[1] */

const char *vi_armv8_cfg_err_name(vi_armv8_cfg_err err)
{
    switch (err) {
    case VI_ARMV8_CFG_OK:
        return "ok";
    case VI_ARMV8_CFG_BAD_GRANULE:
        return "bad-granule";
    case VI_ARMV8_CFG_BAD_TSZ:
        return "bad-tsz";
    case VI_ARMV8_CFG_BAD_OAS:
        return "bad-oas";
    case VI_ARMV8_CFG_BAD_SL0:
        return "bad-sl0";
    case VI_ARMV8_CFG_BAD_SL0_TSZ:
        return "sl0-inconsistent-with-tsz";
    }
    return "unknown";
}

static bool granule_valid(vi_armv8_granule g)
{
    return g == VI_ARMV8_4K || g == VI_ARMV8_16K || g == VI_ARMV8_64K;
}

static bool oas_valid(unsigned oas)
{
    switch (oas) {
    case 32: case 36: case 40: case 42: case 44: case 48: case 52:
        return true;
    default:
        return false;
    }
}

/* Largest TxSZ: 39 (25-bit range) unless small tables are enabled. */
static unsigned tsz_max(vi_armv8_granule g, bool ttst)
{
    if (!ttst) {
        return 39;
    }
    return g == VI_ARMV8_64K ? 47 : 48;
}

/* 52-bit addresses need the 64K granule (no FEAT_LPA2 support). */
static unsigned effective_oas(vi_armv8_granule g, unsigned oas)
{
    return (oas > 48 && g != VI_ARMV8_64K) ? 48 : oas;
}

static unsigned stride_of(const vi_armv8_table *t)
{
    return t->pgshift - 3u;
}

/* Lowest input bit resolved at level (also the entry size shift there). */
static unsigned level_shift(const vi_armv8_table *t, int level)
{
    return t->pgshift + stride_of(t) * (unsigned)(3 - level);
}

/* Base alignment of a table of 2^bits entries: its size, at least 64 bytes. */
static uint64_t table_base(uint64_t ttb, unsigned bits)
{
    uint64_t size = 8ull << bits;

    if (size < 64) {
        size = 64;
    }
    return ttb & ~(size - 1) & VI_MASK(51, 0);
}

vi_armv8_cfg_err vi_armv8_s1_prepare(const vi_armv8_s1_cfg *cfg, vi_armv8_s1 *out)
{
    vi_armv8_s1 s1;

    memset(&s1, 0, sizeof(s1));
    if (!oas_valid(cfg->oas)) {
        return VI_ARMV8_CFG_BAD_OAS;
    }
    for (int i = 0; i < 2; i++) {
        const vi_armv8_s1_range *r = &cfg->tt[i];
        vi_armv8_table *t = &s1.tt[i];
        unsigned stride, levels, tsz_min;

        t->tbi = r->tbi;
        if (r->epd) {
            /* Nothing else about a disabled range is used. */
            t->disabled = true;
            continue;
        }
        if (!granule_valid(r->granule)) {
            return VI_ARMV8_CFG_BAD_GRANULE;
        }
        tsz_min = (r->granule == VI_ARMV8_64K && cfg->lva) ? 12 : 16;
        if (r->tsz < tsz_min || r->tsz > tsz_max(r->granule, cfg->ttst)) {
            return VI_ARMV8_CFG_BAD_TSZ;
        }
        t->pgshift = (uint8_t)r->granule;
        t->ia = (uint8_t)(64 - r->tsz);
        stride = stride_of(t);
        levels = (t->ia - t->pgshift + stride - 1) / stride;
        t->start_level = (int8_t)(4 - (int)levels);
        t->start_bits = (uint8_t)(t->ia - level_shift(t, t->start_level));
        t->base = table_base(r->ttb, t->start_bits);
        t->oas = (uint8_t)effective_oas(r->granule, cfg->oas);
        t->hpd = r->hpd;
        t->wxn = cfg->wxn;
        t->pan = cfg->pan;
        t->one_el = cfg->one_el;
        t->ha = cfg->ha;
        t->hd = cfg->ha && cfg->hd;
        t->affd = cfg->affd;
    }
    *out = s1;
    return VI_ARMV8_CFG_OK;
}

vi_armv8_cfg_err vi_armv8_s2_prepare(const vi_armv8_s2_cfg *cfg, vi_armv8_s2 *out)
{
    vi_armv8_table t;
    unsigned stride, after, min_ia, max_ia, tsz_min;
    int start;

    memset(&t, 0, sizeof(t));
    if (!oas_valid(cfg->oas)) {
        return VI_ARMV8_CFG_BAD_OAS;
    }
    if (!granule_valid(cfg->granule)) {
        return VI_ARMV8_CFG_BAD_GRANULE;
    }
    /* A 52-bit IPA needs the 64K granule and a 52-bit output size. */
    tsz_min = (cfg->granule == VI_ARMV8_64K && cfg->oas == 52) ? 12 : 16;
    if (cfg->tsz < tsz_min || cfg->tsz > tsz_max(cfg->granule, cfg->ttst)) {
        return VI_ARMV8_CFG_BAD_TSZ;
    }
    /* SL0 -> starting level, per granule. */
    switch (cfg->sl0) {
    case 0:
        start = cfg->granule == VI_ARMV8_4K ? 2 : 3;
        break;
    case 1:
        start = cfg->granule == VI_ARMV8_4K ? 1 : 2;
        break;
    case 2:
        start = cfg->granule == VI_ARMV8_4K ? 0 : 1;
        break;
    case 3:
        /* 4K: level 3 with small tables; 16K: level 0 needs FEAT_LPA2. */
        if (cfg->granule == VI_ARMV8_4K && cfg->ttst) {
            start = 3;
            break;
        }
        return VI_ARMV8_CFG_BAD_SL0;
    default:
        return VI_ARMV8_CFG_BAD_SL0;
    }
    t.pgshift = (uint8_t)cfg->granule;
    t.ia = (uint8_t)(64 - cfg->tsz);
    stride = stride_of(&t);
    /*
     * The start level must resolve at least one bit and at most one full
     * table plus 16-way concatenation (4 more bits).
     */
    after = (unsigned)(3 - start);
    min_ia = t.pgshift + after * stride + 1;
    max_ia = t.pgshift + (after + 1) * stride + 4;
    if (t.ia < min_ia || t.ia > max_ia) {
        return VI_ARMV8_CFG_BAD_SL0_TSZ;
    }
    t.start_level = (int8_t)start;
    t.start_bits = (uint8_t)(t.ia - level_shift(&t, start));
    t.base = table_base(cfg->ttb, t.start_bits);
    t.oas = (uint8_t)effective_oas(cfg->granule, cfg->oas);
    t.xnx = cfg->xnx;
    t.ha = cfg->ha;
    t.hd = cfg->ha && cfg->hd;
    t.affd = cfg->affd;
    out->tt = t;
    return VI_ARMV8_CFG_OK;
}

/* With a 64K granule and 52-bit output, descriptor [15:12] is OA[51:48]. */
static bool lpa(const vi_armv8_table *t)
{
    return t->pgshift == VI_ARMV8_64K && t->oas == 52;
}

/* Output address of a descriptor whose entry covers 2^shift bytes. */
static uint64_t desc_oa(const vi_armv8_table *t, uint64_t d, unsigned shift)
{
    uint64_t oa = d & VI_MASK(ARMV8_OA_HI, shift);

    if (lpa(t)) {
        oa |= ((d >> 12) & 0xf) << 48;
    }
    return oa;
}

static bool block_allowed(const vi_armv8_table *t, int level)
{
    switch (t->pgshift) {
    case VI_ARMV8_4K:
        return level == 1 || level == 2;
    case VI_ARMV8_16K:
        return level == 2;
    case VI_ARMV8_64K:
        return level == 2 || (level == 1 && lpa(t));
    }
    return false;
}

/*
 * The part of decoding both stages share: invalid / table / block / page
 * classification, table descent, output address and its size check.
 * Returns VI_PT_STEP_LEAF with *oa set when d is a valid leaf.
 */
static vi_pt_step classify(vi_pt_walk *w, const vi_armv8_table *t, uint64_t d,
                           uint64_t *oa)
{
    if (!(d & VI_ARMV8_DESC_VALID)) {
        return vi_pt_step_fault(w, VI_FAULT_TRANSLATION);
    }
    if (w->level < 3 && (d & VI_ARMV8_DESC_TABLE)) {
        uint64_t next = desc_oa(t, d, t->pgshift);

        if (next >> t->oas) {
            return vi_pt_step_fault(w, VI_FAULT_ADDR_SIZE);
        }
        w->table = next;
        w->level++;
        w->shift -= stride_of(t);
        w->bits = stride_of(t);
        return VI_PT_STEP_TABLE;
    }
    if (w->level == 3 ? !(d & VI_ARMV8_DESC_TABLE) : !block_allowed(t, w->level)) {
        return vi_pt_step_fault(w, VI_FAULT_TRANSLATION);
    }
    *oa = desc_oa(t, d, w->shift);
    if (*oa >> t->oas) {
        return vi_pt_step_fault(w, VI_FAULT_ADDR_SIZE);
    }
    return VI_PT_STEP_LEAF;
}

/*
 * The access-flag and permission rules common to both stages.  perm is
 * what the descriptor grants as it is; perm_dirty what it would grant after a
 * dirty-state update (0 when no update is possible).  Either fills the result
 * (LEAF), asks for an update (UPDATE) or faults.
 */
static vi_pt_step finish_leaf(vi_pt_walk *w, const vi_armv8_table *t, uint64_t d,
                              uint64_t oa, uint32_t perm, uint32_t perm_dirty,
                              uint64_t dirty_update)
{
    uint64_t nd = d;
    vi_pt_result *res = w->res;
    uint64_t size = 1ull << w->shift;

    if (!(d & VI_ARMV8_DESC_AF)) {
        if (t->ha) {
            nd |= VI_ARMV8_DESC_AF;
        } else if (!t->affd) {
            return vi_pt_step_fault(w, VI_FAULT_ACCESS);
        }
    }
    if (!vi_perm_allows(perm, w->access)) {
        if (!perm_dirty || !vi_perm_allows(perm_dirty, w->access)) {
            return vi_pt_step_fault(w, VI_FAULT_PERMISSION);
        }
        nd = (nd & ~VI_ARMV8_DESC_AP2) | dirty_update;
    }
    if (nd != d) {
        w->update = nd;
        return VI_PT_STEP_UPDATE;
    }
    res->out = oa | (w->in & (size - 1));
    res->size = size;
    res->ipa = 0;
    res->perm = perm;
    res->attrs = VI_ARMV8_ATTRS(d);
    res->level = (int8_t)w->level;
    res->s2_level = res->level;
    res->global = w->fmt->stage == 1 && !(d & VI_ARMV8_DESC_NG);  /* S2: no ASIDs */
    /*
     * Writable-clean or writable-dirty (DBM under HD): software cleans it by
     * setting AP[2] (clearing S2AP[1]) and Linux 7.3's arm-smmu-v3 does so
     * without a TLB invalidation (its gather has no page size, so
     * arm_smmu_iotlb_sync() returns early); not caching the write
     * permission keeps every later write recorded (caching a translation is
     * permitted, never required: IHI 0070 3.13, DDI 0487 D8.4).
     */
    res->dirty_tracked = t->hd && (d & VI_ARMV8_DESC_DBM);
    return VI_PT_STEP_LEAF;
}

/*
 * A regime with one Exception level (EL2 without E2H, DDI 0487 D8.4.1):
 * AP[2] alone gives write permission, XN (bit 54, XNTable) execute; AP[1],
 * PXN and their table forms are not used.  The SMMU applies that level's
 * permissions to privileged and unprivileged transactions alike.
 */
static uint32_t s1_perm_one_el(const vi_armv8_table *t, uint32_t tbl, uint64_t d)
{
    bool ro = (d & VI_ARMV8_DESC_AP2) || (tbl & ARMV8_TBL_RO);
    bool x = !(d & VI_ARMV8_DESC_UXN) && !(tbl & ARMV8_TBL_UXN);
    uint32_t p = VI_PERM_R | VI_PERM_UR;

    if (!ro) {
        p |= VI_PERM_W | VI_PERM_UW;
    }
    if (x && !(t->wxn && !ro)) {
        p |= VI_PERM_X | VI_PERM_UX;
    }
    return p;
}

static uint32_t s1_perm(const vi_armv8_table *t, uint32_t tbl, uint64_t d)
{
    bool ro = (d & VI_ARMV8_DESC_AP2) || (tbl & ARMV8_TBL_RO);
    bool el0 = (d & VI_ARMV8_DESC_AP1) && !(tbl & ARMV8_TBL_NO_EL0);
    bool px = !(d & VI_ARMV8_DESC_PXN) && !(tbl & ARMV8_TBL_PXN);
    bool ux = !(d & VI_ARMV8_DESC_UXN) && !(tbl & ARMV8_TBL_UXN);
    uint32_t p = VI_PERM_R;

    if (t->one_el) {
        return s1_perm_one_el(t, tbl, d);
    }
    if (!ro) {
        p |= VI_PERM_W;
    }
    if (el0) {
        p |= VI_PERM_UR;
        if (!ro) {
            p |= VI_PERM_UW;
            px = false;         /* EL0-writable memory is never privileged-executable */
        }
    }
    /*
     * WXN: a location writable in the regime (at EL1 or EL0) is
     * execute-never at both EL1 and EL0 (DDI 0487 D8.4.1.2, SCTLR_EL1.WXN).
     */
    if (t->wxn && !ro) {
        px = ux = false;
    }
    if (px) {
        p |= VI_PERM_X;
    }
    if (ux) {
        p |= VI_PERM_UX;
    }
    /*
     * PAN: privileged data accesses to a location EL0 can access fault;
     * instruction fetches are not affected (DDI 0487 D8.4.1.3).
     */
    if (t->pan && el0) {
        p &= ~(VI_PERM_R | VI_PERM_W);
    }
    return p;
}

static vi_pt_step s1_decode(vi_pt_walk *w, uint64_t d)
{
    const vi_armv8_table *t = w->cfg;
    uint32_t perm, perm_dirty = 0;
    uint64_t oa = 0;
    vi_pt_step st = classify(w, t, d, &oa);

    if (st == VI_PT_STEP_TABLE && !t->hpd) {
        w->tbl |= (uint32_t)(d >> 59) & 0xf;    /* PXNTable..APTable[1] */
    }
    if (st != VI_PT_STEP_LEAF) {
        return st;
    }
    perm = s1_perm(t, w->tbl, d);
    if (t->hd && (d & VI_ARMV8_DESC_DBM) && (d & VI_ARMV8_DESC_AP2)) {
        perm_dirty = s1_perm(t, w->tbl, d & ~VI_ARMV8_DESC_AP2);
    }
    return finish_leaf(w, t, d, oa, perm, perm_dirty, 0);
}

static uint32_t s2_perm(const vi_armv8_table *t, uint64_t d)
{
    unsigned xn = (unsigned)(d >> 53) & 3;
    bool px, ux;
    uint32_t p = 0;

    if (d & VI_ARMV8_DESC_AP1) {
        p |= VI_PERM_R | VI_PERM_UR;
    }
    if (d & VI_ARMV8_DESC_AP2) {
        p |= VI_PERM_W | VI_PERM_UW;
    }
    if (t->xnx) {
        /* XN[1:0]: 0 both, 1 EL0 only, 2 none, 3 EL1 only may execute. */
        px = xn == 0 || xn == 3;
        ux = xn == 0 || xn == 1;
    } else {
        px = ux = !(xn & 2);
    }
    if (px) {
        p |= VI_PERM_X;
    }
    if (ux) {
        p |= VI_PERM_UX;
    }
    return p;
}

static vi_pt_step s2_decode(vi_pt_walk *w, uint64_t d)
{
    const vi_armv8_table *t = w->cfg;
    uint32_t perm_dirty = 0;
    uint64_t oa = 0;
    vi_pt_step st = classify(w, t, d, &oa);

    if (st != VI_PT_STEP_LEAF) {
        return st;
    }
    if (t->hd && (d & VI_ARMV8_DESC_DBM) && !(d & VI_ARMV8_DESC_AP2)) {
        perm_dirty = s2_perm(t, d | VI_ARMV8_DESC_AP2);
    }
    /* For stage 2 the dirty update sets S2AP[1] (bit 7). */
    return finish_leaf(w, t, d, oa, s2_perm(t, d), perm_dirty, VI_ARMV8_DESC_AP2);
}

static const vi_pt_fmt armv8_s1_fmt = {
    .name = "armv8-s1",
    .stage = 1,
    .decode = s1_decode,
};

static const vi_pt_fmt armv8_s2_fmt = {
    .name = "armv8-s2",
    .stage = 2,
    .decode = s2_decode,
};

static void walk_setup(vi_pt_walk *w, const vi_pt_fmt *fmt, const vi_armv8_table *t,
                       const vi_mem *mem, uint64_t in, uint32_t access,
                       vi_pt_result *res)
{
    vi_pt_start start = {
        .table = t->base,
        .level = t->start_level,
        .shift = level_shift(t, t->start_level),
        .bits = t->start_bits,
    };

    vi_pt_walk_setup(w, fmt, t, mem, in, access, res, start);
}

static bool walk_prepared(vi_pt_walk *w, const vi_armv8_table *t, vi_fault *f)
{
    if (t->pgshift == 0) {          /* never prepared */
        vi_pt_set_fault(w, f, VI_FAULT_BAD_CONFIG);
        return false;
    }
    return true;
}

/* The start table must lie inside the output address space. */
static bool walk_base_ok(vi_pt_walk *w, const vi_armv8_table *t, vi_fault *f)
{
    if (t->base >> t->oas) {
        vi_pt_set_fault(w, f, VI_FAULT_ADDR_SIZE);
        return false;
    }
    return true;
}

bool vi_armv8_s1_walk_init(const vi_armv8_s1 *s1, const vi_mem *mem, uint64_t va,
                           uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                           vi_fault *f)
{
    unsigned sel = (unsigned)(va >> 55) & 1;
    const vi_armv8_table *t = &s1->tt[sel];
    uint64_t top;

    walk_setup(w, &armv8_s1_fmt, t, mem, va, access, res);
    if (t->disabled) {
        vi_pt_set_fault(w, f, VI_FAULT_TRANSLATION);
        return false;
    }
    if (!walk_prepared(w, t, f)) {
        return false;
    }
    /* Bits above the range (below the top byte with TBI) must equal VA[55]. */
    top = VI_MASK(t->tbi ? 55 : 63, t->ia);
    if ((va & top) != (sel ? top : 0)) {
        vi_pt_set_fault(w, f, VI_FAULT_TRANSLATION);
        return false;
    }
    return walk_base_ok(w, t, f);
}

bool vi_armv8_s2_walk_init(const vi_armv8_s2 *s2, const vi_mem *mem, uint64_t ipa,
                           uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                           vi_fault *f)
{
    const vi_armv8_table *t = &s2->tt;

    walk_setup(w, &armv8_s2_fmt, t, mem, ipa, access, res);
    if (!walk_prepared(w, t, f)) {
        return false;
    }
    if (ipa >> t->ia) {
        vi_pt_set_fault(w, f, VI_FAULT_TRANSLATION);
        return false;
    }
    return walk_base_ok(w, t, f);
}

bool vi_armv8_s1_translate(const vi_armv8_s1 *s1, const vi_mem *mem, uint64_t va,
                           uint32_t access, vi_pt_result *res, vi_fault *f)
{
    vi_pt_walk w;

    return vi_armv8_s1_walk_init(s1, mem, va, access, &w, res, f) && vi_pt_run(&w, f);
}

bool vi_armv8_s2_translate(const vi_armv8_s2 *s2, const vi_mem *mem, uint64_t ipa,
                           uint32_t access, vi_pt_result *res, vi_fault *f)
{
    vi_pt_walk w;

    return vi_armv8_s2_walk_init(s2, mem, ipa, access, &w, res, f) && vi_pt_run(&w, f);
}
