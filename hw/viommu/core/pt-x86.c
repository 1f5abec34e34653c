/*
 * qemu-viommu translation core: VT-d first-stage (x86-64 paging) and
 * second-stage formats.  What is supported is listed in pt-x86.h; the walk
 * loop is the generic iterator of pt.c, this file only says where a walk
 * starts and what one entry means.
 *
 * Written from the Intel VT-d specification rev 4 (3.6 first-stage
 * translation, 3.7 second-stage translation, 3.8 nested translation, 9.7 and
 * 9.8 entry formats).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/viommu/core/pt-x86.h"

#include <string.h>

/* w->tbl: restrictions collected from the table entries walked so far. */
#define X86_TBL_NO_W    0x1u    /* FS: R/W = 0; SS: W = 0 */
#define X86_TBL_NO_U    0x2u    /* FS: U/S = 0 */
#define X86_TBL_NO_X    0x4u    /* FS: XD = 1; SS: X = 0 */
#define X86_TBL_NO_R    0x8u    /* SS: R = 0 */

static unsigned level_shift(int level)
{
    return 12u + 9u * (unsigned)(level - 1);
}

/* Address bits 51:12 at or above haw (haw <= 52). */
static uint64_t addr_rsvd(uint8_t haw)
{
    return haw >= 52 ? 0 : (VI_X86_ADDR_MASK & ~((1ull << haw) - 1));
}

static vi_pt_step fault(vi_pt_walk *w, vi_fault_kind kind)
{
    w->fault_kind = kind;
    return VI_PT_STEP_FAULT;
}

static vi_pt_step descend(vi_pt_walk *w, uint64_t e)
{
    w->table = e & VI_X86_ADDR_MASK;
    w->level--;
    w->shift -= 9;
    w->bits = 9;
    return VI_PT_STEP_TABLE;
}

static void fill_leaf(vi_pt_walk *w, uint64_t e, uint32_t perm, bool global)
{
    vi_pt_result *res = w->res;
    uint64_t size = 1ull << w->shift;

    res->out = (e & VI_X86_ADDR_MASK & ~(size - 1)) | (w->in & (size - 1));
    res->size = size;
    res->ipa = 0;
    res->perm = perm;
    res->attrs = VI_X86_ATTRS(e);
    res->level = (int8_t)w->level;
    res->global = global;
}

/* ------------------------------------------------------------------------
 * First stage
 */

static uint32_t fs_perm(const vi_x86_fs_cfg *c, uint32_t tbl, uint64_t e)
{
    bool rw = (e & VI_X86_FS_RW) && !(tbl & X86_TBL_NO_W);
    bool user = (e & VI_X86_FS_US) && !(tbl & X86_TBL_NO_U);
    bool x = !(e & VI_X86_FS_XD) && !(tbl & X86_TBL_NO_X);
    uint32_t p = VI_PERM_R;

    if (rw || !c->wpe) {
        p |= VI_PERM_W;
    }
    if (x && !user) {
        p |= VI_PERM_X;         /* never supervisor fetches from user pages */
    }
    if (user) {
        p |= VI_PERM_UR;
        if (rw) {
            p |= VI_PERM_UW;
        }
        if (x) {
            p |= VI_PERM_UX;
        }
    }
    return p;
}

static vi_pt_step fs_decode(vi_pt_walk *w, uint64_t e)
{
    const vi_x86_fs_cfg *c = w->cfg;
    uint64_t want = e | VI_X86_FS_A | (c->eafe ? VI_X86_FS_EA : 0);
    bool ps = e & VI_X86_FS_PS;
    uint32_t perm;

    if (!(e & VI_X86_FS_P)) {
        return fault(w, VI_FAULT_TRANSLATION);
    }
    if (e & addr_rsvd(c->haw)) {
        return fault(w, VI_FAULT_RESERVED);
    }
    if (w->level > 1 && ps) {
        /* Large pages: 2 MiB at level 2, 1 GiB at level 3 with FL1GP. */
        if (w->level > 3 || (w->level == 3 && !c->fl1gp) ||
            (e & VI_MASK(w->shift - 1, 13))) {
            return fault(w, VI_FAULT_RESERVED);
        }
    }
    if (w->level > 1 && !ps) {
        if (want != e) {
            w->update = want;
            return VI_PT_STEP_UPDATE;
        }
        w->tbl |= (e & VI_X86_FS_RW) ? 0 : X86_TBL_NO_W;
        w->tbl |= (e & VI_X86_FS_US) ? 0 : X86_TBL_NO_U;
        w->tbl |= (e & VI_X86_FS_XD) ? X86_TBL_NO_X : 0;
        return descend(w, e);
    }
    /* Leaf.  The dirty flag is part of what a write needs. */
    perm = fs_perm(c, w->tbl, e);
    if (!vi_perm_allows(perm, w->access)) {
        if (!(w->access & VI_ACC_PRIV) && !(perm & VI_PERM_UR)) {
            return fault(w, VI_FAULT_ACCESS);
        }
        return fault(w, VI_FAULT_PERMISSION);
    }
    if (w->access & VI_ACC_W) {
        want |= VI_X86_FS_D;
    }
    if (want != e) {
        w->update = want;
        return VI_PT_STEP_UPDATE;
    }
    if (!(e & VI_X86_FS_D)) {
        perm &= ~(VI_PERM_W | VI_PERM_UW);  /* a write must set D first */
    }
    fill_leaf(w, e, perm, e & VI_X86_FS_G);
    return VI_PT_STEP_LEAF;
}

static const vi_pt_fmt x86_fs_fmt = {
    .name = "vtd-fs",
    .stage = 1,
    .decode = fs_decode,
};

bool vi_x86_fs_cfg_ok(const vi_x86_fs_cfg *c)
{
    return (c->levels == 4 || c->levels == 5) && c->haw >= 32 && c->haw <= 52;
}

static void walk_setup(vi_pt_walk *w, const vi_pt_fmt *fmt, const void *cfg,
                       const vi_mem *mem, uint64_t in, uint32_t access,
                       vi_pt_result *res, uint64_t table, int levels)
{
    memset(w, 0, sizeof(*w));
    w->fmt = fmt;
    w->cfg = cfg;
    w->mem = mem;
    w->in = in;
    w->access = access;
    w->res = res;
    w->table = table;
    w->level = levels;
    w->shift = level_shift(levels);
    w->bits = 9;
}

bool vi_x86_fs_walk_init(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f)
{
    unsigned top;
    uint64_t hi;

    if (!vi_x86_fs_cfg_ok(c)) {
        walk_setup(w, &x86_fs_fmt, c, mem, va, access, res, 0, 4);
        vi_pt_set_fault(w, f, VI_FAULT_BAD_CONFIG);
        return false;
    }
    walk_setup(w, &x86_fs_fmt, c, mem, va, access, res,
               c->ptptr & VI_X86_ADDR_MASK, c->levels);
    /* Canonical: bits 63..(top - 1) all equal. */
    top = c->levels == 5 ? 57 : 48;
    hi = va >> (top - 1);
    if (hi != 0 && hi != (~0ull >> (top - 1))) {
        vi_pt_set_fault(w, f, VI_FAULT_ADDR_SIZE);
        return false;
    }
    if (c->ptptr & addr_rsvd(c->haw)) {
        vi_pt_set_fault(w, f, VI_FAULT_RESERVED);
        return false;
    }
    return true;
}

bool vi_x86_fs_translate(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_result *res, vi_fault *f)
{
    vi_pt_walk w;

    return vi_x86_fs_walk_init(c, mem, va, access, &w, res, f) && vi_pt_run(&w, f);
}

/* ------------------------------------------------------------------------
 * Second stage
 */

static uint32_t ss_perm(const vi_vtd_ss_cfg *c, uint32_t tbl, uint64_t e)
{
    bool r = (e & VI_VTD_SS_R) && !(tbl & X86_TBL_NO_R);
    bool wr = (e & VI_VTD_SS_W) && !(tbl & X86_TBL_NO_W);
    bool x = c->slee ? ((e & VI_VTD_SS_X) && !(tbl & X86_TBL_NO_X)) : r;
    uint32_t p = 0;

    if (r) {
        p |= VI_PERM_R | VI_PERM_UR;
    }
    if (wr) {
        p |= VI_PERM_W | VI_PERM_UW;
    }
    if (x) {
        p |= VI_PERM_X | VI_PERM_UX;
    }
    return p;
}

static vi_pt_step ss_decode(vi_pt_walk *w, uint64_t e)
{
    const vi_vtd_ss_cfg *c = w->cfg;
    uint64_t want = c->slade ? (e | VI_VTD_SS_A) : e;
    bool ps = e & VI_VTD_SS_PS;
    uint32_t perm;

    if (!(e & (VI_VTD_SS_R | VI_VTD_SS_W))) {
        return fault(w, VI_FAULT_TRANSLATION);
    }
    if (e & addr_rsvd(c->haw)) {
        return fault(w, VI_FAULT_RESERVED);
    }
    if (w->level > 1 && ps) {
        if (w->level > 3 || !((c->sllps >> (w->level - 2)) & 1) ||
            (e & VI_MASK(w->shift - 1, 12))) {
            return fault(w, VI_FAULT_RESERVED);
        }
    }
    if (w->level > 1 && !ps) {
        if (want != e) {
            w->update = want;
            return VI_PT_STEP_UPDATE;
        }
        w->tbl |= (e & VI_VTD_SS_R) ? 0 : X86_TBL_NO_R;
        w->tbl |= (e & VI_VTD_SS_W) ? 0 : X86_TBL_NO_W;
        w->tbl |= (e & VI_VTD_SS_X) ? 0 : X86_TBL_NO_X;
        return descend(w, e);
    }
    perm = ss_perm(c, w->tbl, e);
    if (!vi_perm_allows(perm, w->access)) {
        return fault(w, VI_FAULT_PERMISSION);
    }
    if (c->slade && (w->access & VI_ACC_W)) {
        want |= VI_VTD_SS_D;
    }
    if (want != e) {
        w->update = want;
        return VI_PT_STEP_UPDATE;
    }
    if (c->slade && !(e & VI_VTD_SS_D)) {
        perm &= ~(VI_PERM_W | VI_PERM_UW);
    }
    fill_leaf(w, e, perm, false);
    return VI_PT_STEP_LEAF;
}

static const vi_pt_fmt vtd_ss_fmt = {
    .name = "vtd-ss",
    .stage = 2,
    .decode = ss_decode,
};

bool vi_vtd_ss_cfg_ok(const vi_vtd_ss_cfg *c)
{
    return (c->aw_bits == 39 || c->aw_bits == 48 || c->aw_bits == 57) &&
           c->haw >= 32 && c->haw <= 52;
}

bool vi_vtd_ss_walk_init(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f)
{
    if (!vi_vtd_ss_cfg_ok(c)) {
        walk_setup(w, &vtd_ss_fmt, c, mem, gpa, access, res, 0, 3);
        vi_pt_set_fault(w, f, VI_FAULT_BAD_CONFIG);
        return false;
    }
    walk_setup(w, &vtd_ss_fmt, c, mem, gpa, access, res,
               c->ptptr & VI_X86_ADDR_MASK, (c->aw_bits - 12) / 9);
    if (gpa >> c->aw_bits) {
        vi_pt_set_fault(w, f, VI_FAULT_ADDR_SIZE);
        return false;
    }
    if (c->ptptr & addr_rsvd(c->haw)) {
        vi_pt_set_fault(w, f, VI_FAULT_RESERVED);
        return false;
    }
    return true;
}

bool vi_vtd_ss_translate(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_result *res, vi_fault *f)
{
    vi_pt_walk w;

    return vi_vtd_ss_walk_init(c, mem, gpa, access, &w, res, f) && vi_pt_run(&w, f);
}

/* ------------------------------------------------------------------------
 * Nested
 */

static bool ss_stage(const void *ctx, const vi_mem *mem, uint64_t in, uint32_t access,
                     vi_pt_result *res, vi_fault *f)
{
    return vi_vtd_ss_translate(ctx, mem, in, access, res, f);
}

bool vi_vtd_nested_translate(const vi_x86_fs_cfg *fs, const vi_vtd_ss_cfg *ss,
                             const vi_mem *mem, uint64_t va, uint32_t access,
                             vi_pt_result *res, vi_fault *f, unsigned *s2_fetches)
{
    vi_stage st = { .translate = ss_stage, .ctx = ss };
    vi_pt_result r1;
    vi_pt_walk w;

    if (s2_fetches) {
        *s2_fetches = 0;
    }
    if (!vi_x86_fs_walk_init(fs, mem, va, access, &w, &r1, f)) {
        return false;
    }
    return vi_nested_run(&w, &st, res, f, s2_fetches);
}

/* ------------------------------------------------------------------------
 * Fault reasons
 */

static unsigned perm_reason(uint32_t access)
{
    if (access & VI_ACC_X) {
        return VI_VTD_FR_EXEC;
    }
    return (access & VI_ACC_W) ? VI_VTD_FR_SM_WRITE : VI_VTD_FR_SM_READ;
}

unsigned vi_x86_vtd_reason(const vi_fault *f, vi_vtd_xlate_kind k)
{
    if (k == VI_VTD_XLATE_LEGACY_SS) {
        switch (f->kind) {
        case VI_FAULT_ADDR_SIZE:
            return VI_VTD_FR_ADDR_BEYOND_AW;
        case VI_FAULT_RESERVED:
            return VI_VTD_FR_SL_RSVD;
        case VI_FAULT_WALK_EABT:
            return VI_VTD_FR_SL_ACCESS;
        case VI_FAULT_BAD_CONFIG:
            return VI_VTD_FR_CTX_INVALID;
        default:
            /* Not present and permission faults: by the request type. */
            return (f->access & VI_ACC_W) ? VI_VTD_FR_WRITE : VI_VTD_FR_READ;
        }
    }
    if (f->kind == VI_FAULT_BAD_CONFIG) {
        return VI_VTD_FR_SM_PE_INVALID;
    }
    if (f->stage == 2 && f->s1ptw) {
        /* Nested: the second stage refused a first-stage table access. */
        switch (f->kind) {
        case VI_FAULT_ADDR_SIZE:
            return VI_VTD_FR_NEST_FS_ADDR_AW;
        case VI_FAULT_TRANSLATION:
            return VI_VTD_FR_SS_NOT_PRESENT;
        case VI_FAULT_RESERVED:
            return VI_VTD_FR_SS_RSVD;
        case VI_FAULT_WALK_EABT:
            return VI_VTD_FR_SS_ACCESS;
        default:
            return (f->access & VI_ACC_W) ? VI_VTD_FR_NEST_FS_WRITE :
                                            VI_VTD_FR_NEST_FS_READ;
        }
    }
    if (f->stage == 2) {
        switch (f->kind) {
        case VI_FAULT_ADDR_SIZE:
            return VI_VTD_FR_SS_ADDR_AW;
        case VI_FAULT_TRANSLATION:
            return VI_VTD_FR_SS_NOT_PRESENT;
        case VI_FAULT_RESERVED:
            return VI_VTD_FR_SS_RSVD;
        case VI_FAULT_WALK_EABT:
            return VI_VTD_FR_SS_ACCESS;
        default:
            return perm_reason(f->access);
        }
    }
    switch (f->kind) {
    case VI_FAULT_ADDR_SIZE:
        return VI_VTD_FR_FS_NON_CANONICAL;
    case VI_FAULT_TRANSLATION:
        return VI_VTD_FR_FS_NOT_PRESENT;
    case VI_FAULT_RESERVED:
        return VI_VTD_FR_FS_RSVD;
    case VI_FAULT_WALK_EABT:
        return VI_VTD_FR_FS_ACCESS;
    case VI_FAULT_ACCESS:
        return VI_VTD_FR_FS_USER;
    default:
        return perm_reason(f->access);
    }
}
