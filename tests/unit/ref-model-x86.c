/*
 * The naive reference model of the VT-d page walks (see ref-model-x86.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>
#include <string.h>

#include "ref-model-x86.h"

/* ---------------------------------------------------------------------- */
/* The naive model. */

/* ---- second stage ---- */

int ref_x86_ss_levels(unsigned aw)
{
    return aw == 39 ? 3 : aw == 48 ? 4 : 5;
}

/* Reserved bits of a present second-stage entry at level (leaf or not). */
static bool model_ss_reserved(const ref_x86_cfg *c, uint64_t e, int level, bool leaf)
{
    if (entry_addr(e) >> c->ss_haw) {
        return true;                /* address beyond the host address width */
    }
    if (e & SS_PS) {
        if (level >= 4) {
            return true;            /* no PS in SL-PML5E / SL-PML4E */
        }
        if (level == 3 && !(c->sllps & 2)) {
            return true;            /* 1-GByte pages not supported */
        }
        if (level == 2 && !(c->sllps & 1)) {
            return true;            /* 2-MByte pages not supported */
        }
        if (level >= 2 && (e & mask_of(level_shift(level) - 1, 12))) {
            return true;            /* address bits below the page size */
        }
    }
    if (REF_SS_STRICT_RSVD) {
        if (!leaf && (e & SS_SNP)) {
            return true;
        }
        if (e & SS_B62) {
            return true;
        }
    }
    return false;
}

/* Translate gpa with the access acc (VI_ACC_*) through the second stage. */
ref_out ref_x86_ss(ref_x86_ctx *x, uint64_t gpa, uint32_t acc)
{
    const ref_x86_cfg *c = x->c;
    int levels = ref_x86_ss_levels(c->ss_aw);
    bool r_all = true, w_all = true, x_all = true;
    uint64_t table;

    if (gpa >> c->ss_aw) {
        return model_fault(VI_FAULT_ADDR_SIZE, 2, levels);
    }
    if (entry_addr(c->ss_ptptr) >> c->ss_haw) {
        return model_fault(VI_FAULT_RESERVED, 2, levels);
    }
    table = entry_addr(c->ss_ptptr);
    for (int level = levels; level >= 1; level--) {
        unsigned shift = level_shift(level);
        uint64_t epa = table + 8 * ((gpa >> shift) & 511), e;
        bool r_above = r_all, w_above = w_all, x_above = x_all, leaf;
        unsigned tries = 0;

        if (!model_read(&x->m, epa, &e)) {
            return model_fault(VI_FAULT_WALK_EABT, 2, level);
        }
again_ss:
        r_all = r_above;
        w_all = w_above;
        x_all = x_above;
        if (!(e & (SS_R | SS_W))) {
            return model_fault(VI_FAULT_TRANSLATION, 2, level);
        }
        leaf = level == 1 || (e & SS_PS);
        if (model_ss_reserved(c, e, level, leaf)) {
            return model_fault(VI_FAULT_RESERVED, 2, level);
        }
        r_all = r_all && (e & SS_R);
        w_all = w_all && (e & SS_W);
        x_all = x_all && (e & SS_X);
        if (!leaf) {
            if (c->slade && !(e & SS_A)) {
                if (tries++ >= REF_MAX_UPDATES) {
                    return model_fault(VI_FAULT_ACCESS, 2, level);
                }
                switch (model_cas(&x->m, epa, e, e | SS_A, &e)) {
                case REF_CAS_ABORT:
                    return model_fault(VI_FAULT_WALK_EABT, 2, level);
                case REF_CAS_CHANGED:
                    goto again_ss;
                case REF_CAS_DONE:
                    break;
                }
            }
            table = entry_addr(e);
            continue;
        }
        {
            bool xok = c->slee ? x_all : r_all;
            uint64_t size = 1ull << shift, ne = e;
            ref_out o;

            if (((acc & VI_ACC_R) && !r_all) || ((acc & VI_ACC_W) && !w_all) ||
                ((acc & VI_ACC_X) && !xok)) {
                return model_fault(VI_FAULT_PERMISSION, 2, level);
            }
            if (c->slade) {
                ne |= SS_A;
                if (acc & VI_ACC_W) {
                    ne |= SS_D;
                }
                if (ne != e) {
                    if (tries++ >= REF_MAX_UPDATES) {
                        return model_fault(VI_FAULT_ACCESS, 2, level);
                    }
                    switch (model_cas(&x->m, epa, e, ne, &e)) {
                    case REF_CAS_ABORT:
                        return model_fault(VI_FAULT_WALK_EABT, 2, level);
                    case REF_CAS_CHANGED:
                        goto again_ss;
                    case REF_CAS_DONE:
                        break;
                    }
                }
            }
            memset(&o, 0, sizeof(o));
            o.ok = true;
            o.level = level;
            o.size = size;
            o.out = (entry_addr(e) & ~(size - 1)) | (gpa & (size - 1));
            o.perm = (r_all ? VI_PERM_R | VI_PERM_UR : 0) |
                     (w_all ? VI_PERM_W | VI_PERM_UW : 0) |
                     (xok ? VI_PERM_X | VI_PERM_UX : 0);
            if (c->slade && !(ne & SS_D)) {
                o.perm &= ~(VI_PERM_W | VI_PERM_UW);    /* a write sets D first */
            }
            return o;
        }
    }
    g_assert_not_reached();
}

/* ---- first stage ---- */

/* Reserved bits of a present first-stage entry at level. */
static bool model_fs_reserved(const ref_x86_cfg *c, uint64_t e, int level)
{
    if (entry_addr(e) >> c->fs_haw) {
        return true;
    }
    if (level >= 4 && (e & FS_PS)) {
        return true;                /* PML5E / PML4E: bit 7 reserved */
    }
    if (level == 3 && (e & FS_PS)) {
        return !c->fl1gp || (e & mask_of(29, 13));  /* 1-GByte page */
    }
    if (level == 2 && (e & FS_PS)) {
        return (e & mask_of(20, 13)) != 0;          /* 2-MByte page */
    }
    return false;
}

/* Where a first-stage table entry is: nested, through the second stage. */
static bool model_fs_entry_pa(ref_x86_ctx *x, uint64_t gpa, bool write, int fs_level,
                              uint64_t *pa, ref_out *f)
{
    ref_out o;

    if (!x->nested) {
        *pa = gpa;
        return true;
    }
    o = ref_x86_ss(x, gpa, (write ? VI_ACC_W : VI_ACC_R) | VI_ACC_PRIV);
    if (!o.ok) {
        o.s1ptw = true;
        *f = o;
        return false;
    }
    (void)fs_level;
    *pa = o.out;
    return true;
}

ref_out ref_x86_fs(ref_x86_ctx *x, uint64_t va, uint32_t acc)
{
    const ref_x86_cfg *c = x->c;
    int levels = (int)c->fs_levels;
    unsigned width = levels == 5 ? 57 : 48;
    bool user = !(acc & VI_ACC_PRIV);
    bool rw_all = true, us_all = true, xd_any = false;
    uint64_t top = va >> (width - 1), table;
    ref_out f;

    /* Canonical: bits 63:width-1 all equal. */
    if (top != 0 && top != (~0ull >> (width - 1))) {
        return model_fault(VI_FAULT_ADDR_SIZE, 1, levels);
    }
    if (entry_addr(c->fs_ptptr) >> c->fs_haw) {
        return model_fault(VI_FAULT_RESERVED, 1, levels);
    }
    table = entry_addr(c->fs_ptptr);
    for (int level = levels; level >= 1; level--) {
        unsigned shift = level_shift(level);
        uint64_t egpa = table + 8 * ((va >> shift) & 511), epa, e, want;
        bool rw_above = rw_all, us_above = us_all, xd_above = xd_any, leaf;
        unsigned tries = 0;

        if (!model_fs_entry_pa(x, egpa, false, level, &epa, &f)) {
            return f;
        }
        if (!model_read(&x->m, epa, &e)) {
            return model_fault(VI_FAULT_WALK_EABT, 1, level);
        }
again_fs:
        rw_all = rw_above;
        us_all = us_above;
        xd_any = xd_above;
        if (!(e & FS_P)) {
            return model_fault(VI_FAULT_TRANSLATION, 1, level);
        }
        if (model_fs_reserved(c, e, level)) {
            return model_fault(VI_FAULT_RESERVED, 1, level);
        }
        leaf = level == 1 || (e & FS_PS);
        rw_all = rw_all && (e & FS_RW);
        us_all = us_all && (e & FS_US);
        xd_any = xd_any || (e & FS_XD);
        want = e | FS_A | (c->eafe ? FS_EA : 0);
        if (!leaf) {
            /* Accessed (and extended-accessed) flags of a table entry. */
            if (want != e) {
                if (tries++ >= REF_MAX_UPDATES) {
                    return model_fault(VI_FAULT_ACCESS, 1, level);
                }
                if (!model_fs_entry_pa(x, egpa, true, level, &epa, &f)) {
                    return f;
                }
                switch (model_cas(&x->m, epa, e, want, &e)) {
                case REF_CAS_ABORT:
                    return model_fault(VI_FAULT_WALK_EABT, 1, level);
                case REF_CAS_CHANGED:
                    goto again_fs;
                case REF_CAS_DONE:
                    break;
                }
            }
            table = entry_addr(e);
            continue;
        }
        {
            /* Access rights (user requests need U/S at every level). */
            bool rd_ok = user ? us_all : true;
            bool wr_ok = user ? us_all && rw_all : rw_all || !c->wpe;
            bool ex_ok = user ? us_all && !xd_any : !xd_any && !us_all;
            uint64_t size = 1ull << shift;
            ref_out o;

            if (user && !us_all) {
                return model_fault(VI_FAULT_ACCESS, 1, level);
            }
            if (((acc & VI_ACC_R) && !rd_ok) || ((acc & VI_ACC_W) && !wr_ok) ||
                ((acc & VI_ACC_X) && !ex_ok)) {
                return model_fault(VI_FAULT_PERMISSION, 1, level);
            }
            if (acc & VI_ACC_W) {
                want |= FS_D;
            }
            if (want != e) {
                if (tries++ >= REF_MAX_UPDATES) {
                    return model_fault(VI_FAULT_ACCESS, 1, level);
                }
                if (!model_fs_entry_pa(x, egpa, true, level, &epa, &f)) {
                    return f;
                }
                switch (model_cas(&x->m, epa, e, want, &e)) {
                case REF_CAS_ABORT:
                    return model_fault(VI_FAULT_WALK_EABT, 1, level);
                case REF_CAS_CHANGED:
                    goto again_fs;
                case REF_CAS_DONE:
                    break;
                }
            }
            memset(&o, 0, sizeof(o));
            o.ok = true;
            o.stage = 1;
            o.level = level;
            o.size = size;
            o.out = (entry_addr(e) & ~(size - 1)) | (va & (size - 1));
            o.perm = VI_PERM_R;
            if (rw_all || !c->wpe) {
                o.perm |= VI_PERM_W;
            }
            if (!xd_any && !us_all) {
                o.perm |= VI_PERM_X;
            }
            if (us_all) {
                o.perm |= VI_PERM_UR | (rw_all ? VI_PERM_UW : 0) | (!xd_any ? VI_PERM_UX : 0);
            }
            if (!(want & FS_D)) {
                o.perm &= ~(VI_PERM_W | VI_PERM_UW);    /* a write sets D first */
            }
            if (x->nested) {
                ref_out o2 = ref_x86_ss(x, o.out, acc);

                if (!o2.ok) {
                    return o2;
                }
                o2.size = o.size < o2.size ? o.size : o2.size;
                o2.perm &= o.perm;
                o2.level = o.level;
                return o2;
            }
            return o;
        }
    }
    g_assert_not_reached();
}

