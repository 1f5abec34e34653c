/*
 * qemu-viommu translation core: the generic page-table walk iterator.
 * The rules it keeps are stated in pt.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hw/viommu/core/pt.h"

#include <string.h>

const char *vi_fault_kind_name(vi_fault_kind kind)
{
    switch (kind) {
    case VI_FAULT_NONE:
        return "none";
    case VI_FAULT_TRANSLATION:
        return "translation";
    case VI_FAULT_ADDR_SIZE:
        return "address-size";
    case VI_FAULT_ACCESS:
        return "access-flag";
    case VI_FAULT_PERMISSION:
        return "permission";
    case VI_FAULT_WALK_EABT:
        return "walk-external-abort";
    case VI_FAULT_RESERVED:
        return "reserved-bit";
    case VI_FAULT_BAD_CONFIG:
        return "bad-config";
    }
    return "unknown";
}

void vi_pt_set_fault(const vi_pt_walk *w, vi_fault *f, vi_fault_kind kind)
{
    vi_fault_clear(f);
    f->kind = kind;
    f->stage = w->fmt->stage;
    f->level = (int8_t)w->level;
    f->access = w->access;
    f->addr = w->in;
    if (f->stage == 2) {
        f->ipa = w->in;
    }
}

void vi_pt_walk_setup(vi_pt_walk *w, const vi_pt_fmt *fmt, const void *cfg,
                      const vi_mem *mem, uint64_t in, uint32_t access,
                      vi_pt_result *res, vi_pt_start start)
{
    memset(w, 0, sizeof(*w));
    w->fmt = fmt;
    w->cfg = cfg;
    w->mem = mem;
    w->in = in;
    w->access = access;
    w->res = res;
    w->table = start.table;
    w->level = start.level;
    w->shift = start.shift;
    w->bits = start.bits;
}

/* Is the iterator state one that indexes a table without undefined shifts? */
static bool walk_state_sane(const vi_pt_walk *w)
{
    return w->bits >= 1 && w->bits <= 20 && w->shift + w->bits <= 64;
}

bool vi_pt_run(vi_pt_walk *w, vi_fault *f)
{
    for (unsigned step = 0; step < VI_PT_MAX_LEVELS; step++) {
        uint64_t idx, addr, pa, pte;
        unsigned retries = 0;

        if (!walk_state_sane(w)) {
            vi_pt_set_fault(w, f, VI_FAULT_BAD_CONFIG);
            return false;
        }
        idx = (w->in >> w->shift) & ((1ull << w->bits) - 1);
        addr = w->table + idx * 8;
        pa = addr;
        if (w->fetch && !w->fetch(w->fetch_opaque, w, addr, false, &pa, f)) {
            return false;
        }
        w->reads++;
        if (vi_mem_read_le64(w->mem, pa, &pte) != VI_MEM_OK) {
            vi_pt_set_fault(w, f, VI_FAULT_WALK_EABT);
            f->fetch_pa = pa;
            return false;
        }

        for (;;) {
            uint64_t wpa = pa, expected = pte;
            bool swapped = false;

            switch (w->fmt->decode(w, pte)) {
            case VI_PT_STEP_TABLE:
                goto next_level;
            case VI_PT_STEP_LEAF:
                return true;
            case VI_PT_STEP_FAULT:
                vi_pt_set_fault(w, f, w->fault_kind);
                return false;
            case VI_PT_STEP_UPDATE:
                break;
            }
            /* Hardware update of the entry: a bounded compare-and-swap loop. */
            if (retries++ >= VI_PT_MAX_UPDATE_RETRIES) {
                vi_pt_set_fault(w, f, VI_FAULT_ACCESS);
                f->update_lost = true;
                return false;
            }
            if (w->fetch && !w->fetch(w->fetch_opaque, w, addr, true, &wpa, f)) {
                return false;
            }
            if (vi_mem_cmpxchg64(w->mem, wpa, &expected, w->update, &swapped)
                != VI_MEM_OK) {
                vi_pt_set_fault(w, f, VI_FAULT_WALK_EABT);
                f->fetch_pa = wpa;
                return false;
            }
            if (swapped) {
                w->updates++;
                pte = w->update;
            } else {
                pte = expected;     /* lost a race: decode what is there now */
            }
        }
next_level:
        ;
    }
    /* More levels than any format has: only a broken format gets here. */
    vi_pt_set_fault(w, f, VI_FAULT_TRANSLATION);
    return false;
}
