/*
 * qemu-viommu translation core: the VT-d second-stage format.  What is
 * supported is listed in pt-vtd-ss.h; the walk loop is the generic iterator
 * of pt.c, this file only says where a walk starts and what one entry means.
 *
 * Written from the Intel VT-d specification rev 4 (3.7 second-stage
 * translation, 9.8 entry format).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/viommu/core/pt-vtd-ss.h"

/* w->tbl: restrictions collected from the table entries walked so far. */
#define VTD_SS_TBL_NO_R     0x1u    /* R = 0 */
#define VTD_SS_TBL_NO_W     0x2u    /* W = 0 */
#define VTD_SS_TBL_NO_X     0x4u    /* X = 0 */

static uint32_t ss_perm(const vi_vtd_ss_cfg *c, uint32_t tbl, uint64_t e)
{
    bool r = (e & VI_VTD_SS_R) && !(tbl & VTD_SS_TBL_NO_R);
    bool wr = (e & VI_VTD_SS_W) && !(tbl & VTD_SS_TBL_NO_W);
    bool x = c->slee ? ((e & VI_VTD_SS_X) && !(tbl & VTD_SS_TBL_NO_X)) : r;
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
        return vi_pt_step_fault(w, VI_FAULT_TRANSLATION);
    }
    if (e & vi_x86_addr_rsvd(c->haw)) {
        return vi_pt_step_fault(w, VI_FAULT_RESERVED);
    }
    if (w->level > 1 && ps) {
        if (w->level > 3 || !((c->sllps >> (w->level - 2)) & 1) ||
            (e & VI_MASK(w->shift - 1, 12))) {
            return vi_pt_step_fault(w, VI_FAULT_RESERVED);
        }
    }
    if (w->level > 1 && !ps) {
        if (want != e) {
            w->update = want;
            return VI_PT_STEP_UPDATE;
        }
        w->tbl |= (e & VI_VTD_SS_R) ? 0 : VTD_SS_TBL_NO_R;
        w->tbl |= (e & VI_VTD_SS_W) ? 0 : VTD_SS_TBL_NO_W;
        w->tbl |= (e & VI_VTD_SS_X) ? 0 : VTD_SS_TBL_NO_X;
        return vi_x86_descend(w, e);
    }
    perm = ss_perm(c, w->tbl, e);
    if (!vi_perm_allows(perm, w->access)) {
        return vi_pt_step_fault(w, VI_FAULT_PERMISSION);
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
    vi_x86_leaf(w, e, perm, false);
    /* Software clears D at any time (read-and-clear): writes re-read it. */
    w->res->dirty_tracked = c->slade;
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
        vi_pt_walk_setup(w, &vtd_ss_fmt, c, mem, gpa, access, res, vi_x86_start(0, 3));
        vi_pt_set_fault(w, f, VI_FAULT_BAD_CONFIG);
        return false;
    }
    vi_pt_walk_setup(w, &vtd_ss_fmt, c, mem, gpa, access, res,
                     vi_x86_start(c->ptptr, (c->aw_bits - 12) / 9));
    return vi_x86_walk_checks(w, !(gpa >> c->aw_bits), c->ptptr, c->haw, f);
}

bool vi_vtd_ss_translate(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_result *res, vi_fault *f)
{
    vi_pt_walk w;

    return vi_vtd_ss_walk_init(c, mem, gpa, access, &w, res, f) && vi_pt_run(&w, f);
}
