/*
 * qemu-viommu translation core: nested composition.  The rules are in
 * nested.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/viommu/core/nested.h"

typedef struct nested_ctx {
    const vi_stage *s2;
    unsigned fetches;
} nested_ctx;

/* Stage-1 table accesses go through stage 2. */
static bool nested_fetch(void *opaque, const vi_pt_walk *w, uint64_t addr,
                         bool write, uint64_t *pa, vi_fault *f)
{
    nested_ctx *n = opaque;
    vi_pt_result r2;

    n->fetches++;
    if (!n->s2->translate(n->s2->ctx, w->mem, addr,
                          (write ? VI_ACC_W : VI_ACC_R) | VI_ACC_PRIV, &r2, f)) {
        f->s1ptw = true;
        f->cls = VI_FAULT_CLASS_TT;
        f->stage = 2;
        f->ipa = addr;
        f->addr = w->in;
        f->s1_level = (int8_t)w->level;
        return false;
    }
    *pa = r2.out;
    return true;
}

bool vi_nested_run(vi_pt_walk *s1, const vi_stage *s2, vi_pt_result *res,
                   vi_fault *f, unsigned *s2_fetches)
{
    nested_ctx n = { .s2 = s2, .fetches = 0 };
    vi_pt_result r1, r2;
    bool ok;

    s1->fetch = nested_fetch;
    s1->fetch_opaque = &n;
    s1->res = &r1;
    ok = vi_pt_run(s1, f);
    s1->fetch = NULL;
    s1->fetch_opaque = NULL;
    if (ok) {
        n.fetches++;
        ok = s2->translate(s2->ctx, s1->mem, r1.out, s1->access, &r2, f);
        if (!ok) {
            f->stage = 2;
            f->s1ptw = false;
            f->cls = VI_FAULT_CLASS_IN;
            f->ipa = r1.out;
            f->addr = s1->in;
        }
    }
    if (s2_fetches) {
        *s2_fetches = n.fetches;
    }
    if (!ok) {
        return false;
    }
    res->out = r2.out;
    res->size = r1.size < r2.size ? r1.size : r2.size;
    res->ipa = r1.out;
    res->perm = r1.perm & r2.perm;
    res->attrs = r1.attrs;
    res->level = r1.level;
    res->s2_level = r2.level;       /* for TLBI_S2_IPA's TTL (IOTLB s2_level) */
    res->global = r1.global;
    res->dirty_tracked = r1.dirty_tracked || r2.dirty_tracked;
    return true;
}

static bool armv8_s2_stage(const void *ctx, const vi_mem *mem, uint64_t in,
                           uint32_t access, vi_pt_result *res, vi_fault *f)
{
    return vi_armv8_s2_translate(ctx, mem, in, access, res, f);
}

bool vi_armv8_nested_translate(const vi_armv8_s1 *s1, const vi_armv8_s2 *s2,
                               const vi_mem *mem, uint64_t va, uint32_t access,
                               vi_pt_result *res, vi_fault *f)
{
    vi_stage st = { .translate = armv8_s2_stage, .ctx = s2 };
    vi_pt_result r1;
    vi_pt_walk w;

    if (!vi_armv8_s1_walk_init(s1, mem, va, access, &w, &r1, f)) {
        return false;
    }
    return vi_nested_run(&w, &st, res, f, NULL);
}

static bool vtd_ss_stage(const void *ctx, const vi_mem *mem, uint64_t in,
                         uint32_t access, vi_pt_result *res, vi_fault *f)
{
    return vi_vtd_ss_translate(ctx, mem, in, access, res, f);
}

bool vi_vtd_nested_translate(const vi_x86_fs_cfg *fs, const vi_vtd_ss_cfg *ss,
                             const vi_mem *mem, uint64_t va, uint32_t access,
                             vi_pt_result *res, vi_fault *f, unsigned *s2_fetches)
{
    vi_stage st = { .translate = vtd_ss_stage, .ctx = ss };
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
