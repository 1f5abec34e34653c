/*
 * The naive reference model of the VMSAv8-64 walks (see ref-model-armv8.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "ref-model-armv8.h"

/* Bits [hi:lo] of v, as a number. */
uint64_t ref_field(uint64_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((2ull << (hi - lo)) - 1);
}

/* PA size: 52 only with 64K pages; otherwise at most 48. */
unsigned ref_armv8_oas(unsigned oas, unsigned pgshift)
{
    if (pgshift != 16 && oas == 52) {
        return 48;
    }
    return oas;
}

/* Level whose entries each cover 2^pgshift... : the level resolving bit n. */
int ref_armv8_s1_start(unsigned ia, unsigned pgshift)
{
    int level = 3;
    unsigned covered = pgshift + (pgshift - 3);

    while (covered < ia) {
        level--;
        covered += pgshift - 3;
    }
    return level;
}

unsigned ref_armv8_lsb(unsigned pgshift, int level)
{
    return pgshift + (pgshift - 3) * (unsigned)(3 - level);
}

bool ref_armv8_block_ok(unsigned pgshift, int level, unsigned oas)
{
    if (level == 3) {
        return true;        /* pages */
    }
    if (pgshift == 12) {
        return level == 1 || level == 2;
    }
    if (pgshift == 14) {
        return level == 2;
    }
    return level == 2 || (level == 1 && oas == 52);
}

static uint64_t model_addr(uint64_t d, unsigned lsb, unsigned pgshift, unsigned oas)
{
    uint64_t a = 0;

    for (unsigned b = lsb; b <= 47; b++) {
        if (d & (1ull << b)) {
            a |= 1ull << b;
        }
    }
    if (pgshift == 16 && oas == 52) {
        a |= ref_field(d, 15, 12) << 48;
    }
    return a;
}


/* ---- stage 2 ---- */

static uint32_t model_s2_perm(const ref_armv8_cfg *c, uint64_t d)
{
    uint32_t p = 0;
    unsigned xn = (unsigned)ref_field(d, 54, 53);
    bool el1x, el0x;

    if (d & (1ull << 6)) {
        p |= VI_PERM_R | VI_PERM_UR;
    }
    if (d & (1ull << 7)) {
        p |= VI_PERM_W | VI_PERM_UW;
    }
    if (c->xnx) {
        el1x = xn == 0 || xn == 3;
        el0x = xn == 0 || xn == 1;
    } else {
        el1x = el0x = (xn & 2) == 0;
    }
    if (el1x) {
        p |= VI_PERM_X;
    }
    if (el0x) {
        p |= VI_PERM_UX;
    }
    return p;
}

static bool model_allows(uint32_t p, bool rd, bool wr, bool ex, bool priv)
{
    if (rd && !(p & (priv ? VI_PERM_R : VI_PERM_UR))) {
        return false;
    }
    if (wr && !(p & (priv ? VI_PERM_W : VI_PERM_UW))) {
        return false;
    }
    if (ex && !(p & (priv ? VI_PERM_X : VI_PERM_UX))) {
        return false;
    }
    return true;
}

static ref_out model_s2_level(ref_armv8_ctx *x, uint64_t ipa, uint64_t table, int level, int start,
                              bool rd, bool wr, bool ex, bool priv)
{
    const ref_armv8_cfg *c = x->c;
    unsigned g = c->s2_pgshift, oas = ref_armv8_oas(c->s2_oas, g);
    unsigned lsb = ref_armv8_lsb(g, level);
    unsigned ia = 64 - c->s2_tsz;
    unsigned width = level == start ? ia - lsb : g - 3;
    uint64_t epa = table + 8 * ref_field(ipa, lsb + width - 1, lsb), d, oa, nd;
    uint32_t perm;
    ref_out o;

    unsigned tries = 0;

    if (!model_read(&x->m, epa, &d)) {
        return model_fault(VI_FAULT_WALK_EABT, 2, level);
    }
again:
    if (!(d & 1)) {
        return model_fault(VI_FAULT_TRANSLATION, 2, level);
    }
    if (level < 3 && (d & 2)) {
        uint64_t next = model_addr(d, g, g, oas);
        if (next >= (1ull << oas)) {
            return model_fault(VI_FAULT_ADDR_SIZE, 2, level);
        }
        return model_s2_level(x, ipa, next, level + 1, start, rd, wr, ex, priv);
    }
    if ((level == 3 && !(d & 2)) || !ref_armv8_block_ok(g, level, oas)) {
        return model_fault(VI_FAULT_TRANSLATION, 2, level);
    }
    oa = model_addr(d, lsb, g, oas);
    if (oa >= (1ull << oas)) {
        return model_fault(VI_FAULT_ADDR_SIZE, 2, level);
    }
    nd = d;
    if (!(d & (1ull << 10))) {
        if (c->s2_ha) {
            nd |= 1ull << 10;
        } else if (!c->s2_affd) {
            return model_fault(VI_FAULT_ACCESS, 2, level);
        }
    }
    perm = model_s2_perm(c, d);
    if (!model_allows(perm, rd, wr, ex, priv)) {
        /* Dirty state: DBM set, HD on, S2AP[1] clear, write: set S2AP[1]. */
        bool hd = c->s2_ha && c->s2_hd;
        uint32_t p2 = model_s2_perm(c, d | (1ull << 7));
        if (hd && (d & (1ull << 51)) && !(d & (1ull << 7)) && model_allows(p2, rd, wr, ex, priv)) {
            nd |= 1ull << 7;
            perm = p2;
        } else {
            return model_fault(VI_FAULT_PERMISSION, 2, level);
        }
    }
    if (nd != d) {
        if (tries++ >= REF_MAX_UPDATES) {
            return model_fault(VI_FAULT_ACCESS, 2, level);
        }
        switch (model_cas(&x->m, epa, d, nd, &d)) {
        case REF_CAS_ABORT:
            return model_fault(VI_FAULT_WALK_EABT, 2, level);
        case REF_CAS_CHANGED:
            goto again;
        case REF_CAS_DONE:
            break;
        }
    }
    memset(&o, 0, sizeof(o));
    o.ok = true;
    o.size = 1ull << lsb;
    o.out = oa | ref_field(ipa, lsb - 1, 0);
    o.perm = perm;
    o.level = level;
    return o;
}

int ref_armv8_s2_start(const ref_armv8_cfg *c)
{
    static const int start4k[4] = { 2, 1, 0, -1 };
    static const int start_other[4] = { 3, 2, 1, -1 };

    return c->s2_pgshift == 12 ? start4k[c->s2_sl0 & 3] : start_other[c->s2_sl0 & 3];
}

bool ref_armv8_s2_valid(const ref_armv8_cfg *c)
{
    int start = ref_armv8_s2_start(c);
    unsigned ia = 64 - c->s2_tsz, g = c->s2_pgshift, s = g - 3;
    unsigned min_tsz = (g == 16 && c->s2_oas == 52) ? 12 : 16;

    if (c->s2_tsz < min_tsz || c->s2_tsz > 39 || start < 0) {
        return false;
    }
    /* at least one bit at the start level, at most 16 concatenated tables */
    return ia > ref_armv8_lsb(g, start) && ia <= ref_armv8_lsb(g, start) + s + 4;
}

ref_out ref_armv8_s2(ref_armv8_ctx *x, uint64_t ipa, bool wr, bool priv, bool ex, bool rd)
{
    const ref_armv8_cfg *c = x->c;
    int start = ref_armv8_s2_start(c);
    unsigned ia = 64 - c->s2_tsz, oas = ref_armv8_oas(c->s2_oas, c->s2_pgshift);
    unsigned bytes = 8u << (ia - ref_armv8_lsb(c->s2_pgshift, start));
    uint64_t base = c->s2_ttb & ~(uint64_t)((bytes < 64 ? 64 : bytes) - 1) & ((1ull << 52) - 1);

    if (ipa >= (1ull << ia)) {
        return model_fault(VI_FAULT_TRANSLATION, 2, start);
    }
    if (base >= (1ull << oas)) {
        return model_fault(VI_FAULT_ADDR_SIZE, 2, start);
    }
    return model_s2_level(x, ipa, base, start, start, rd, wr, ex, priv);
}

/* ---- stage 1 ---- */

typedef struct s1_walk {
    uint64_t va;
    bool rd, wr, ex, priv;
    const ref_armv8_range *r;
    int start;
} s1_walk;

/* AP[2:1] as the architecture tabulates it, after APTable. */
static uint32_t model_s1_perm(const ref_armv8_cfg *c, uint64_t d, bool no_el0, bool ro,
                              bool pxn_t, bool uxn_t)
{
    unsigned ap = (unsigned)ref_field(d, 7, 6);
    bool pr = true, pw, ur, uw, px, ux;
    uint32_t p = 0;

    if (ro) {
        ap |= 2;
    }
    if (no_el0) {
        ap &= ~1u;
    }
    switch (ap) {
    case 0: pw = true; ur = false; uw = false; break;     /* priv RW */
    case 1: pw = true; ur = true; uw = true; break;       /* RW both */
    case 2: pw = false; ur = false; uw = false; break;    /* priv RO */
    default: pw = false; ur = true; uw = false; break;    /* RO both */
    }
    px = !(d & (1ull << 53)) && !pxn_t && !uw;
    ux = !(d & (1ull << 54)) && !uxn_t;
    if (c->wxn && pw) {
        px = false;
    }
    /* WXN: writable in the regime (EL1 or EL0) -> XN at EL0 too (DDI 0487 D8.4). */
    if (c->wxn && (pw || uw)) {
        ux = false;
    }
    p |= pr ? VI_PERM_R : 0;
    p |= pw ? VI_PERM_W : 0;
    p |= px ? VI_PERM_X : 0;
    p |= ur ? VI_PERM_UR : 0;
    p |= uw ? VI_PERM_UW : 0;
    p |= ux ? VI_PERM_UX : 0;
    return p;
}

/* Turn a stage-1 table IPA into a PA (nested) or keep it. */
static bool model_s1_table_pa(ref_armv8_ctx *x, uint64_t ipa, bool write, uint64_t *pa, ref_out *f)
{
    ref_out o;

    if (!x->nested) {
        *pa = ipa;
        return true;
    }
    o = ref_armv8_s2(x, ipa, write, true, false, !write);
    if (!o.ok) {
        *f = o;
        f->s1ptw = true;
        return false;
    }
    *pa = o.out;
    return true;
}

static ref_out model_s1_level(ref_armv8_ctx *x, const s1_walk *w, uint64_t table, int level,
                              bool no_el0, bool ro, bool pxn_t, bool uxn_t)
{
    const ref_armv8_cfg *c = x->c;
    const ref_armv8_range *r = w->r;
    unsigned g = r->pgshift, oas = ref_armv8_oas(c->s1_oas, g);
    unsigned lsb = ref_armv8_lsb(g, level), ia = 64 - r->tsz;
    unsigned width = level == w->start ? ia - lsb : g - 3;
    uint64_t eaddr = table + 8 * ref_field(w->va, lsb + width - 1, lsb), epa, d, oa, nd;
    uint32_t perm;
    ref_out o;

    if (!model_s1_table_pa(x, eaddr, false, &epa, &o)) {
        return o;
    }
    unsigned tries = 0;

    if (!model_read(&x->m, epa, &d)) {
        return model_fault(VI_FAULT_WALK_EABT, 1, level);
    }
again:
    if (!(d & 1)) {
        return model_fault(VI_FAULT_TRANSLATION, 1, level);
    }
    if (level < 3 && (d & 2)) {
        uint64_t next = model_addr(d, g, g, oas);
        if (next >= (1ull << oas)) {
            return model_fault(VI_FAULT_ADDR_SIZE, 1, level);
        }
        if (!r->hpd) {
            pxn_t |= (d >> 59) & 1;
            uxn_t |= (d >> 60) & 1;
            no_el0 |= (d >> 61) & 1;
            ro |= (d >> 62) & 1;
        }
        return model_s1_level(x, w, next, level + 1, no_el0, ro, pxn_t, uxn_t);
    }
    if ((level == 3 && !(d & 2)) || !ref_armv8_block_ok(g, level, oas)) {
        return model_fault(VI_FAULT_TRANSLATION, 1, level);
    }
    oa = model_addr(d, lsb, g, oas);
    if (oa >= (1ull << oas)) {
        return model_fault(VI_FAULT_ADDR_SIZE, 1, level);
    }
    nd = d;
    if (!(d & (1ull << 10))) {
        if (c->s1_ha) {
            nd |= 1ull << 10;
        } else if (!c->s1_affd) {
            return model_fault(VI_FAULT_ACCESS, 1, level);
        }
    }
    perm = model_s1_perm(c, d, no_el0, ro, pxn_t, uxn_t);
    if (!model_allows(perm, w->rd, w->wr, w->ex, w->priv)) {
        bool hd = c->s1_ha && c->s1_hd;
        uint32_t p2 = model_s1_perm(c, d & ~(1ull << 7), no_el0, ro, pxn_t, uxn_t);
        if (hd && (d & (1ull << 51)) && (d & (1ull << 7)) &&
            model_allows(p2, w->rd, w->wr, w->ex, w->priv)) {
            nd &= ~(1ull << 7);
            perm = p2;
        } else {
            return model_fault(VI_FAULT_PERMISSION, 1, level);
        }
    }
    if (nd != d) {
        uint64_t wpa;

        if (tries++ >= REF_MAX_UPDATES) {
            return model_fault(VI_FAULT_ACCESS, 1, level);
        }
        if (!model_s1_table_pa(x, eaddr, true, &wpa, &o)) {
            return o;
        }
        switch (model_cas(&x->m, wpa, d, nd, &d)) {
        case REF_CAS_ABORT:
            return model_fault(VI_FAULT_WALK_EABT, 1, level);
        case REF_CAS_CHANGED:
            goto again;
        case REF_CAS_DONE:
            break;
        }
    }
    memset(&o, 0, sizeof(o));
    o.ok = true;
    o.size = 1ull << lsb;
    o.out = oa | ref_field(w->va, lsb - 1, 0);
    o.perm = perm;
    o.level = level;
    return o;
}

ref_out ref_armv8_s1(ref_armv8_ctx *x, uint64_t va, bool rd, bool wr, bool ex, bool priv)
{
    const ref_armv8_cfg *c = x->c;
    unsigned sel = (unsigned)ref_field(va, 55, 55);
    const ref_armv8_range *r = &c->r[sel];
    s1_walk w = { va, rd, wr, ex, priv, r, 0 };
    unsigned ia, top, oas, bytes;
    uint64_t base;
    ref_out o, o2;

    if (r->epd) {
        return model_fault(VI_FAULT_TRANSLATION, 1, 0);
    }
    ia = 64 - r->tsz;
    w.start = ref_armv8_s1_start(ia, r->pgshift);
    top = r->tbi ? 55 : 63;
    for (unsigned b = ia; b <= top; b++) {
        if (ref_field(va, b, b) != sel) {
            return model_fault(VI_FAULT_TRANSLATION, 1, w.start);
        }
    }
    oas = ref_armv8_oas(c->s1_oas, r->pgshift);
    bytes = 8u << (ia - ref_armv8_lsb(r->pgshift, w.start));
    base = r->ttb & ~(uint64_t)((bytes < 64 ? 64 : bytes) - 1) & ((1ull << 52) - 1);
    if (base >= (1ull << oas)) {
        return model_fault(VI_FAULT_ADDR_SIZE, 1, w.start);
    }
    o = model_s1_level(x, &w, base, w.start, false, false, false, false);
    if (!o.ok || !x->nested) {
        return o;
    }
    o2 = ref_armv8_s2(x, o.out, wr, priv, ex, rd);
    if (!o2.ok) {
        return o2;
    }
    o2.size = o.size < o2.size ? o.size : o2.size;
    o2.perm &= o.perm;
    o2.level = o.level;
    return o2;
}

