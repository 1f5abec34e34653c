/*
 * qemu-viommu translation core: the VT-d first-stage format (x86-64
 * paging).  What is supported is listed in pt-x86-fs.h; the walk loop is the
 * generic iterator of pt.c, this file only says where a walk starts and
 * what one entry means.
 *
 * Written from the Intel VT-d specification rev 4 (3.6 first-stage
 * translation, 9.7 entry formats).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/viommu/core/pt-x86-fs.h"

/* w->tbl: restrictions collected from the table entries walked so far. */
#define X86_FS_TBL_NO_W     0x1u    /* R/W = 0 */
#define X86_FS_TBL_NO_U     0x2u    /* U/S = 0 */
#define X86_FS_TBL_NO_X     0x4u    /* XD = 1 */

static uint32_t fs_perm(const vi_x86_fs_cfg *c, uint32_t tbl, uint64_t e)
{
    bool rw = (e & VI_X86_FS_RW) && !(tbl & X86_FS_TBL_NO_W);
    bool user = (e & VI_X86_FS_US) && !(tbl & X86_FS_TBL_NO_U);
    bool x = !(e & VI_X86_FS_XD) && !(tbl & X86_FS_TBL_NO_X);
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
        return vi_pt_step_fault(w, VI_FAULT_TRANSLATION);
    }
    if (e & vi_x86_addr_rsvd(c->haw)) {
        return vi_pt_step_fault(w, VI_FAULT_RESERVED);
    }
    if (w->level > 1 && ps) {
        /* Large pages: 2 MiB at level 2, 1 GiB at level 3 with FL1GP. */
        if (w->level > 3 || (w->level == 3 && !c->fl1gp) ||
            (e & VI_MASK(w->shift - 1, 13))) {
            return vi_pt_step_fault(w, VI_FAULT_RESERVED);
        }
    }
    if (w->level > 1 && !ps) {
        if (want != e) {
            w->update = want;
            return VI_PT_STEP_UPDATE;
        }
        w->tbl |= (e & VI_X86_FS_RW) ? 0 : X86_FS_TBL_NO_W;
        w->tbl |= (e & VI_X86_FS_US) ? 0 : X86_FS_TBL_NO_U;
        w->tbl |= (e & VI_X86_FS_XD) ? X86_FS_TBL_NO_X : 0;
        return vi_x86_descend(w, e);
    }
    /* Leaf.  The dirty flag is part of what a write needs. */
    perm = fs_perm(c, w->tbl, e);
    if (!vi_perm_allows(perm, w->access)) {
        if (!(w->access & VI_ACC_PRIV) && !(perm & VI_PERM_UR)) {
            return vi_pt_step_fault(w, VI_FAULT_ACCESS);
        }
        return vi_pt_step_fault(w, VI_FAULT_PERMISSION);
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
    return vi_x86_leaf(w, e, perm, e & VI_X86_FS_G);
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

bool vi_x86_fs_walk_init(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f)
{
    unsigned top;
    uint64_t hi;

    if (!vi_x86_fs_cfg_ok(c)) {
        vi_pt_walk_setup(w, &x86_fs_fmt, c, mem, va, access, res, vi_x86_start(0, 4));
        vi_pt_set_fault(w, f, VI_FAULT_BAD_CONFIG);
        return false;
    }
    vi_pt_walk_setup(w, &x86_fs_fmt, c, mem, va, access, res,
                     vi_x86_start(c->ptptr, c->levels));
    /* Canonical: bits 63..(top - 1) all equal. */
    top = c->levels == 5 ? 57 : 48;
    hi = va >> (top - 1);
    return vi_x86_walk_checks(w, hi == 0 || hi == (~0ull >> (top - 1)), c->ptptr, c->haw, f);
}

bool vi_x86_fs_translate(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_result *res, vi_fault *f)
{
    vi_pt_walk w;

    return vi_x86_fs_walk_init(c, mem, va, access, &w, res, f) && vi_pt_run(&w, f);
}
