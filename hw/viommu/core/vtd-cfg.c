/*
 * qemu-viommu translation core: VT-d root / context / PASID structure lookup
 * and decoding (see vtd-cfg.h).
 *
 * Written from the Intel VT-d specification rev 4: chapter 3 (root and
 * context tables, scalable-mode PASID tables), chapter 9 (formats) and
 * chapter 7 (non-recoverable fault reasons).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/vtd-cfg.h"

void vi_vtd_caps_default(vi_vtd_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->sagaw = (1u << VI_VTD_AW_39) | (1u << VI_VTD_AW_48);
    caps->haw = 46;
    caps->nd = 6;
    caps->pss = 19;
    caps->smts = true;
    caps->pt = true;
    caps->dt = true;
    caps->pasid = true;
    caps->flts = true;
    caps->slts = true;
    caps->nest = true;
    caps->srs = true;
    caps->slads = true;
}

static int fail(vi_vtd_fault *fault, uint8_t reason, uint64_t addr)
{
    if (fault) {
        fault->reason = reason;
        fault->addr = addr;
    }
    return reason;
}

/*
 * A fault that no FPD suppresses: the PASID directory / table fetch errors
 * are not qualified faults (7.1.3), whatever FPD the context entry has.
 */
static int unqualified(vi_vtd_fault *fault, uint8_t reason, uint64_t addr)
{
    if (fault) {
        fault->fpd = false;
    }
    return fail(fault, reason, addr);
}

static int ok(vi_vtd_fault *fault)
{
    return fail(fault, VI_VTD_FR_NONE, 0);
}

static uint64_t above_haw(const vi_vtd_caps *caps)
{
    return vi_vtd_above(caps->haw);
}

static bool did_ok(const vi_vtd_caps *caps, unsigned did)
{
    unsigned bits = 4 + 2 * caps->nd;

    return bits >= 16 || (did >> bits) == 0;
}

/* AW usable for a second-stage table: architected and in SAGAW. */
static bool aw_ok(const vi_vtd_caps *caps, unsigned aw)
{
    return aw >= VI_VTD_AW_39 && aw <= VI_VTD_AW_57 && (caps->sagaw >> aw) & 1;
}

/* ------------------------------------------------------------------------
 * Root entries
 */

int vi_vtd_root_decode(const vi_vtd_caps *caps, const uint64_t re[2],
                       uint64_t *ctp, vi_vtd_fault *fault)
{
    if (!VI_VTD_RE0_P(re[0])) {
        return fail(fault, VI_VTD_FR_ROOT_NOT_PRESENT, 0);
    }
    if ((re[0] & (VI_VTD_RE0_RSVD | above_haw(caps))) || re[1]) {
        return fail(fault, VI_VTD_FR_ROOT_RSVD, 0);
    }
    *ctp = re[0] & VI_VTD_RE0_CTP_MASK;
    return ok(fault);
}

int vi_vtd_sm_root_decode(const vi_vtd_caps *caps, const uint64_t re[2],
                          uint8_t devfn, uint64_t *ctp, vi_vtd_fault *fault)
{
    uint64_t half = re[devfn >> 7];

    if (!(half & 1)) {
        return fail(fault, VI_VTD_FR_SM_ROOT_NOT_PRESENT, 0);
    }
    if (half & (VI_VTD_SRE_RSVD | above_haw(caps))) {
        return fail(fault, VI_VTD_FR_SM_ROOT_RSVD, 0);
    }
    *ctp = half & VI_VTD_SRE_CTP_MASK;
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * Context entries
 */

int vi_vtd_ctx_decode(const vi_vtd_caps *caps, const uint64_t ce[2],
                      vi_vtd_ctx *out, vi_vtd_fault *fault)
{
    uint64_t lo = ce[0], hi = ce[1];

    memset(out, 0, sizeof(*out));
    if (fault) {
        fault->fpd = false;
    }
    if (!VI_VTD_CE0_P(lo)) {
        if (fault) {
            fault->fpd = VI_VTD_CE0_FPD(lo);    /* FPD is read whatever P says */
        }
        return fail(fault, VI_VTD_FR_CTX_NOT_PRESENT, 0);
    }
    out->tt = VI_VTD_CE0_TT(lo);
    out->did = VI_VTD_CE1_DID(hi);
    if ((lo & VI_VTD_CE0_RSVD) || (hi & VI_VTD_CE1_RSVD) || !did_ok(caps, out->did)) {
        return fail(fault, VI_VTD_FR_CTX_RSVD, 0);
    }
    switch (out->tt) {
    case VI_VTD_TT_MULTI_LEVEL:
        break;
    case VI_VTD_TT_DEV_TLB:
        if (!caps->dt) {
            return fail(fault, VI_VTD_FR_CTX_INVALID, 0);
        }
        break;
    case VI_VTD_TT_PASS_THROUGH:
        if (!caps->pt) {
            return fail(fault, VI_VTD_FR_CTX_INVALID, 0);
        }
        break;
    default:
        return fail(fault, VI_VTD_FR_CTX_INVALID, 0);
    }
    out->aw = VI_VTD_CE1_AW(hi);
    if (out->tt != VI_VTD_TT_PASS_THROUGH) {
        /* SLPTPTR and AW are used (ignored for pass-through). */
        if (lo & above_haw(caps)) {
            return fail(fault, VI_VTD_FR_CTX_RSVD, 0);
        }
        if (!aw_ok(caps, out->aw)) {
            return fail(fault, VI_VTD_FR_CTX_INVALID, 0);
        }
        out->slptptr = lo & VI_VTD_CE0_SLPTPTR_MASK;
        out->aw_bits = vi_vtd_aw_bits(out->aw);
        out->levels = out->aw + 2;
    }
    out->fpd = VI_VTD_CE0_FPD(lo);
    if (fault) {
        fault->fpd = out->fpd;
    }
    return ok(fault);
}

int vi_vtd_sm_ctx_decode(const vi_vtd_caps *caps, const uint64_t ce[4],
                         vi_vtd_ctx *out, vi_vtd_fault *fault)
{
    uint64_t w0 = ce[0], w1 = ce[1];

    memset(out, 0, sizeof(*out));
    out->scalable = true;
    if (fault) {
        fault->fpd = false;
    }
    if (!VI_VTD_SCE0_P(w0)) {
        if (fault) {
            fault->fpd = VI_VTD_SCE0_FPD(w0);
        }
        return fail(fault, VI_VTD_FR_SM_CTX_NOT_PRESENT, 0);
    }
    out->dte = VI_VTD_SCE0_DTE(w0);
    out->paside = VI_VTD_SCE0_PASIDE(w0);
    out->pre = VI_VTD_SCE0_PRE(w0);
    out->rid_priv = VI_VTD_SCE1_RID_PRIV(w1);
    /* Reserved bits, and controls of features the unit does not have. */
    if ((w0 & (VI_VTD_SCE0_RSVD | above_haw(caps))) || (w1 & VI_VTD_SCE1_RSVD) ||
        ce[2] || ce[3] ||
        (out->dte && !caps->dt) || (out->pre && !caps->prs) ||
        (out->paside && !caps->pasid) || (out->rid_priv && !caps->rpriv)) {
        return fail(fault, VI_VTD_FR_SM_CTX_RSVD, 0);
    }
    out->pdts = VI_VTD_SCE0_PDTS(w0);
    out->pasid_dir = w0 & VI_VTD_SCE0_PASIDDIRPTR_MASK;
    out->rid_pasid = VI_VTD_SCE1_RID_PASID(w1);
    out->fpd = VI_VTD_SCE0_FPD(w0);
    if (fault) {
        fault->fpd = out->fpd;
    }
    return ok(fault);
}

int vi_vtd_ctx_check_req(const vi_vtd_caps *caps, const vi_vtd_ctx *ctx,
                         const vi_vtd_req *req, uint32_t *pasid, vi_vtd_fault *fault)
{
    uint64_t pasid_limit = 1ull << (caps->pss >= 19 ? 20 : caps->pss + 1);

    *pasid = 0;
    if (!ctx->scalable) {
        if (req->has_pasid) {
            return fail(fault, VI_VTD_FR_SM_TTM_PASID, 0);
        }
        if (req->page_req) {
            return fail(fault, VI_VTD_FR_SM_TTM_PRQ, 0);
        }
        /* Translation requests only with TT = device-TLB. */
        if (req->ats && ctx->tt != VI_VTD_TT_DEV_TLB) {
            return fail(fault, VI_VTD_FR_TT_BLOCKED, 0);
        }
        return ok(fault);
    }
    if (req->ats && !ctx->dte) {
        return fail(fault, VI_VTD_FR_SM_CTX_DTE, 0);
    }
    if (req->page_req && !ctx->pre) {
        return fail(fault, VI_VTD_FR_SM_CTX_PRE, 0);
    }
    if (req->has_pasid) {
        if (!ctx->paside) {
            return fail(fault, VI_VTD_FR_SM_CTX_PASIDE, 0);
        }
        if (req->pasid >= pasid_limit) {
            return fail(fault, VI_VTD_FR_SM_CTX_PASID_RANGE, 0);
        }
        *pasid = req->pasid;
    } else {
        if (ctx->rid_pasid >= pasid_limit) {
            return fail(fault, VI_VTD_FR_SM_CTX_RID_PASID, 0);
        }
        *pasid = ctx->rid_pasid;
    }
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * PASID directory and table
 */

/*
 * A context or PASID entry (P in bit 0 of word 0) as one whole version of it,
 * though Linux may be rewriting it on another vCPU (vi_mem_read_entry()); an
 * entry that kept changing under the read is taken as the not-present state it
 * passes through (all zero: no FPD), never as a mix of two entries.
 */
static vi_mem_result read_entry(const vi_mem *mem, uint64_t addr, uint64_t *w, size_t n)
{
    bool stable;
    vi_mem_result r = vi_mem_read_entry(mem, addr, w, n, &stable);

    if (r == VI_MEM_OK && !stable) {
        memset(w, 0, n * sizeof(*w));
    }
    return r;
}

int vi_vtd_pasid_fetch(const vi_mem *mem, const vi_vtd_caps *caps,
                       const vi_vtd_ctx *ctx, uint32_t pasid,
                       uint64_t pe[VI_VTD_PE_WORDS], bool *pde_fpd,
                       vi_vtd_fault *fault)
{
    uint64_t dir_idx = pasid >> 6, pde, addr;
    bool fpd = ctx->fpd;

    if (fault) {
        fault->fpd = fpd;
    }
    *pde_fpd = false;
    if (pasid >> VI_VTD_PASID_BITS || dir_idx >> vi_vtd_pdts_log2(ctx->pdts)) {
        return fail(fault, VI_VTD_FR_SM_CTX_PASID_RANGE, 0);
    }
    addr = ctx->pasid_dir + dir_idx * VI_VTD_PDE_SIZE;
    if (vi_mem_read_le64(mem, addr, &pde) != VI_MEM_OK) {
        return unqualified(fault, VI_VTD_FR_SM_PDE_ACCESS, addr);
    }
    if (!VI_VTD_PDE_P(pde)) {
        if (fault) {
            fault->fpd = fpd || VI_VTD_PDE_FPD(pde);
        }
        return fail(fault, VI_VTD_FR_SM_PDE_NOT_PRESENT, 0);
    }
    if (pde & (VI_VTD_PDE_RSVD | above_haw(caps))) {
        return fail(fault, VI_VTD_FR_SM_PDE_RSVD, 0);
    }
    *pde_fpd = VI_VTD_PDE_FPD(pde);
    if (fault) {
        fault->fpd = fpd || *pde_fpd;
    }
    addr = (pde & VI_VTD_PDE_PTPTR_MASK) + (uint64_t)(pasid & 0x3f) * VI_VTD_PE_SIZE;
    if (read_entry(mem, addr, pe, VI_VTD_PE_WORDS) != VI_MEM_OK) {
        return unqualified(fault, VI_VTD_FR_SM_PE_ACCESS, addr);
    }
    return ok(fault);
}

int vi_vtd_pe_decode(const vi_vtd_caps *caps, const uint64_t pe[VI_VTD_PE_WORDS],
                     vi_vtd_pe *out, vi_vtd_fault *fault)
{
    uint64_t w0 = pe[0], w1 = pe[1], w2 = pe[2];
    bool ss, fs;

    memset(out, 0, sizeof(*out));
    if (!VI_VTD_PE0_P(w0)) {
        if (fault && VI_VTD_PE0_FPD(w0)) {
            fault->fpd = true;
        }
        return fail(fault, VI_VTD_FR_SM_PE_NOT_PRESENT, 0);
    }
    out->did = VI_VTD_PE1_DID(w1);
    if ((w0 & VI_VTD_PE0_RSVD) || (w1 & VI_VTD_PE1_RSVD) || (w2 & VI_VTD_PE2_RSVD) ||
        pe[3] || pe[4] || pe[5] || pe[6] || pe[7] || !did_ok(caps, out->did)) {
        return fail(fault, VI_VTD_FR_SM_PE_RSVD, 0);
    }
    out->pgtt = VI_VTD_PE0_PGTT(w0);
    switch (out->pgtt) {
    case VI_VTD_PGTT_FS:
        if (!caps->flts) {
            return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
        }
        break;
    case VI_VTD_PGTT_SS:
        if (!caps->slts) {
            return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
        }
        break;
    case VI_VTD_PGTT_NESTED:
        if (!caps->nest || !caps->flts || !caps->slts) {
            return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
        }
        break;
    case VI_VTD_PGTT_PT:
        if (!caps->pt) {
            return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
        }
        break;
    default:
        return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
    }
    ss = out->pgtt == VI_VTD_PGTT_SS || out->pgtt == VI_VTD_PGTT_NESTED;
    fs = out->pgtt == VI_VTD_PGTT_FS || out->pgtt == VI_VTD_PGTT_NESTED;

    if (ss) {
        out->aw = VI_VTD_PE0_AW(w0);
        out->slee = VI_VTD_PE0_SLEE(w0);
        out->slade = VI_VTD_PE0_SLADE(w0);
        if ((w0 & above_haw(caps)) || (out->slade && !caps->slads)) {
            return fail(fault, VI_VTD_FR_SM_PE_RSVD, 0);
        }
        if (!aw_ok(caps, out->aw)) {
            return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
        }
        out->slptptr = w0 & VI_VTD_PE0_SLPTPTR_MASK;
        out->aw_bits = vi_vtd_aw_bits(out->aw);
        out->ss_levels = out->aw + 2;
    }
    if (fs) {
        out->sre = VI_VTD_PE2_SRE(w2);
        out->ere = VI_VTD_PE2_ERE(w2);
        out->wpe = VI_VTD_PE2_WPE(w2);
        out->eafe = VI_VTD_PE2_EAFE(w2);
        out->flpm = VI_VTD_PE2_FLPM(w2);
        /*
         * FSPTPTR is a host physical address for first-stage-only; nested,
         * it is a guest physical address checked by the second-stage walk
         * (0x74 beyond its AW), but bits 63:52 are reserved either way.
         */
        if ((out->pgtt == VI_VTD_PGTT_FS && (w2 & above_haw(caps))) ||
            (w2 & VI_MASK(63, 52)) ||       /* beyond any address width, GPA or not */
            (out->sre && !caps->srs) || (out->ere && !caps->ers) ||
            (out->eafe && !caps->eafs)) {
            return fail(fault, VI_VTD_FR_SM_PE_RSVD, 0);
        }
        if (out->flpm > VI_VTD_FLPM_5LEVEL ||
            (out->flpm == VI_VTD_FLPM_5LEVEL && !caps->fs5lp)) {
            return fail(fault, VI_VTD_FR_SM_PE_INVALID, 0);
        }
        out->fs_levels = out->flpm == VI_VTD_FLPM_5LEVEL ? 5 : 4;
        out->fsptptr = w2 & VI_VTD_PE2_FSPTPTR_MASK;
    }
    out->pwsnp = VI_VTD_PE1_PWSNP(w1);
    out->pgsnp = VI_VTD_PE1_PGSNP(w1);
    out->cd = VI_VTD_PE1_CD(w1);
    out->emte = VI_VTD_PE1_EMTE(w1);
    out->emt = VI_VTD_PE1_EMT(w1);
    out->pwt = VI_VTD_PE1_PWT(w1);
    out->pcd = VI_VTD_PE1_PCD(w1);
    out->pat = VI_VTD_PE1_PAT(w1);
    out->fpd = VI_VTD_PE0_FPD(w0);
    if (fault && out->fpd) {
        fault->fpd = true;
    }
    return ok(fault);
}

int vi_vtd_pe_check_req(const vi_vtd_caps *caps, const vi_vtd_pe *pe,
                        const vi_vtd_req *req, vi_vtd_fault *fault)
{
    bool fs = pe->pgtt == VI_VTD_PGTT_FS || pe->pgtt == VI_VTD_PGTT_NESTED;

    /* Supervisor / execute qualifiers only mean something for first stage. */
    if (fs && req->priv && !pe->sre) {
        return fail(fault, VI_VTD_FR_SM_PE_SRE, 0);
    }
    if (fs && req->exec && !pe->ere) {
        return fail(fault, VI_VTD_FR_SM_PE_ERE, 0);
    }
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * Whole lookup
 */

/* Root and context entry of sid: the context-cache's payload. */
static int ctx_fetch(const vi_mem *mem, const vi_vtd_caps *caps, uint64_t rtaddr,
                     uint16_t sid, vi_vtd_ctx *ctx, vi_vtd_fault *fault)
{
    bool legacy = VI_VTD_RTADDR_TTM(rtaddr) == VI_VTD_TTM_LEGACY;
    uint64_t rta = rtaddr & VI_VTD_RTADDR_ADDR_MASK;
    uint8_t bus = sid >> 8, devfn = sid & 0xff;
    uint64_t re[2], ce[4], ctp, addr;
    int r;

    addr = rta + (uint64_t)bus * VI_VTD_ROOT_SIZE;
    if (vi_mem_read_le64s(mem, addr, re, 2) != VI_MEM_OK) {
        return fail(fault, legacy ? VI_VTD_FR_ROOT_ACCESS : VI_VTD_FR_SM_ROOT_ACCESS, addr);
    }
    if (legacy) {
        r = vi_vtd_root_decode(caps, re, &ctp, fault);
        if (r) {
            return r;
        }
        addr = ctp + (uint64_t)devfn * VI_VTD_CTX_SIZE;
        if (read_entry(mem, addr, ce, 2) != VI_MEM_OK) {
            return fail(fault, VI_VTD_FR_CTX_ACCESS, addr);
        }
        return vi_vtd_ctx_decode(caps, ce, ctx, fault);
    }
    r = vi_vtd_sm_root_decode(caps, re, devfn, &ctp, fault);
    if (r) {
        return r;
    }
    addr = ctp + (uint64_t)(devfn & 0x7f) * VI_VTD_SCTX_SIZE;
    if (read_entry(mem, addr, ce, 4) != VI_MEM_OK) {
        return fail(fault, VI_VTD_FR_SM_CTX_ACCESS, addr);
    }
    return vi_vtd_sm_ctx_decode(caps, ce, ctx, fault);
}

/* The PASID-cache's payload: the PASID entry and the FPD of its directory entry. */
typedef struct vi_vtd_pe_cached {
    vi_vtd_pe pe;
    bool pde_fpd;
} vi_vtd_pe_cached;

vi_cfg_cache *vi_vtd_cfg_cache_new(uint32_t ctx_entries, uint32_t pe_entries)
{
    return vi_cfg_cache_new(ctx_entries, sizeof(vi_vtd_ctx), pe_entries,
                            sizeof(vi_vtd_pe_cached));
}

int vi_vtd_cfg_lookup_cached(const vi_mem *mem, vi_cfg_cache *cache,
                             const vi_vtd_caps *caps, uint64_t rtaddr,
                             const vi_vtd_req *req, vi_vtd_cfg *cfg,
                             vi_vtd_fault *fault)
{
    unsigned ttm = VI_VTD_RTADDR_TTM(rtaddr);
    uint64_t pe[VI_VTD_PE_WORDS], gen;
    vi_vtd_pe_cached pc;
    vi_vtd_fault local;
    int r;

    if (!fault) {
        fault = &local;
    }
    memset(cfg, 0, sizeof(*cfg));
    memset(&pc, 0, sizeof(pc));
    fault->fpd = false;
    if (ttm != VI_VTD_TTM_LEGACY && (ttm != VI_VTD_TTM_SCALABLE || !caps->smts)) {
        return fail(fault, VI_VTD_FR_SM_RTADDR_INV, 0);
    }
    if (!cache || !vi_cfg_cache_lookup_dev(cache, req->sid, &cfg->ctx)) {
        gen = cache ? vi_cfg_cache_gen(cache) : 0;
        r = ctx_fetch(mem, caps, rtaddr, req->sid, &cfg->ctx, fault);
        if (r) {
            return r;
        }
        if (cache) {
            /* A scalable context entry has no DID: every DSI removes it. */
            vi_cfg_cache_insert_dev(cache, req->sid,
                                    cfg->ctx.scalable ? VI_CFG_TAG_ANY : cfg->ctx.did,
                                    &cfg->ctx, gen);
        }
    }
    cfg->fpd = fault->fpd = cfg->ctx.fpd;
    r = vi_vtd_ctx_check_req(caps, &cfg->ctx, req, &cfg->pasid, fault);
    if (r || !cfg->ctx.scalable) {
        return r;
    }
    /*
     * A page request is checked up to the context entry (PRE, PASIDE and the
     * PASID range its directory covers; 7.5): no PASID entry is read.
     */
    if (req->page_req) {
        if ((cfg->pasid >> 6) >> vi_vtd_pdts_log2(cfg->ctx.pdts)) {
            return fail(fault, VI_VTD_FR_SM_CTX_PASID_RANGE, 0);
        }
        return ok(fault);
    }
    if (!cache || !vi_cfg_cache_lookup_sub(cache, req->sid, cfg->pasid, &pc)) {
        gen = cache ? vi_cfg_cache_gen(cache) : 0;
        r = vi_vtd_pasid_fetch(mem, caps, &cfg->ctx, cfg->pasid, pe, &pc.pde_fpd, fault);
        if (!r) {
            r = vi_vtd_pe_decode(caps, pe, &pc.pe, fault);
        }
        if (r) {
            return r;
        }
        if (cache) {
            vi_cfg_cache_insert_sub(cache, req->sid, cfg->pasid, VI_CFG_TAG_ANY, pc.pe.did,
                                    &pc, gen);
        }
    }
    cfg->pe = pc.pe;
    cfg->fpd = fault->fpd = cfg->ctx.fpd || pc.pde_fpd || pc.pe.fpd;
    r = vi_vtd_pe_check_req(caps, &cfg->pe, req, fault);
    if (r) {
        return r;
    }
    cfg->has_pe = true;
    return ok(fault);
}

int vi_vtd_cfg_lookup(const vi_mem *mem, const vi_vtd_caps *caps, uint64_t rtaddr,
                      const vi_vtd_req *req, vi_vtd_cfg *cfg, vi_vtd_fault *fault)
{
    return vi_vtd_cfg_lookup_cached(mem, NULL, caps, rtaddr, req, cfg, fault);
}

const char *vi_vtd_fault_reason_name(unsigned reason)
{
    switch (reason) {
    case VI_VTD_FR_NONE: return "none";
    case VI_VTD_FR_ROOT_NOT_PRESENT: return "root entry not present";
    case VI_VTD_FR_CTX_NOT_PRESENT: return "context entry not present";
    case VI_VTD_FR_CTX_INVALID: return "context entry invalid";
    case VI_VTD_FR_ADDR_BEYOND_AW: return "address beyond AW";
    case VI_VTD_FR_WRITE: return "write not permitted";
    case VI_VTD_FR_READ: return "read not permitted";
    case VI_VTD_FR_SL_ACCESS: return "paging entry access error";
    case VI_VTD_FR_ROOT_ACCESS: return "root entry access error";
    case VI_VTD_FR_CTX_ACCESS: return "context entry access error";
    case VI_VTD_FR_ROOT_RSVD: return "root entry reserved bits";
    case VI_VTD_FR_CTX_RSVD: return "context entry reserved bits";
    case VI_VTD_FR_SL_RSVD: return "paging entry reserved bits";
    case VI_VTD_FR_TT_BLOCKED: return "request blocked by TT";
    case VI_VTD_FR_SM_RTADDR_INV: return "SM: root table address / mode invalid";
    case VI_VTD_FR_SM_TTM_PASID: return "SM: legacy mode, request with PASID";
    case VI_VTD_FR_SM_TTM_PRQ: return "SM: legacy mode, page request";
    case VI_VTD_FR_SM_ROOT_ACCESS: return "SM: root entry access error";
    case VI_VTD_FR_SM_ROOT_NOT_PRESENT: return "SM: root entry not present";
    case VI_VTD_FR_SM_ROOT_RSVD: return "SM: root entry reserved bits";
    case VI_VTD_FR_SM_CTX_ACCESS: return "SM: context entry access error";
    case VI_VTD_FR_SM_CTX_NOT_PRESENT: return "SM: context entry not present";
    case VI_VTD_FR_SM_CTX_RSVD: return "SM: context entry reserved bits";
    case VI_VTD_FR_SM_CTX_INVALID: return "SM: context entry invalid";
    case VI_VTD_FR_SM_CTX_DTE: return "SM: translation request, DTE clear";
    case VI_VTD_FR_SM_CTX_PASIDE: return "SM: request with PASID, PASIDE clear";
    case VI_VTD_FR_SM_CTX_PASID_RANGE: return "SM: PASID beyond directory size";
    case VI_VTD_FR_SM_CTX_PRE: return "SM: page request, PRE clear";
    case VI_VTD_FR_SM_CTX_RID_PASID: return "SM: RID_PASID error";
    case VI_VTD_FR_SM_PDE_ACCESS: return "SM: PASID directory entry access error";
    case VI_VTD_FR_SM_PDE_NOT_PRESENT: return "SM: PASID directory entry not present";
    case VI_VTD_FR_SM_PDE_RSVD: return "SM: PASID directory entry reserved bits";
    case VI_VTD_FR_SM_PE_ACCESS: return "SM: PASID entry access error";
    case VI_VTD_FR_SM_PE_NOT_PRESENT: return "SM: PASID entry not present";
    case VI_VTD_FR_SM_PE_RSVD: return "SM: PASID entry reserved bits";
    case VI_VTD_FR_SM_PE_INVALID: return "SM: PASID entry invalid";
    case VI_VTD_FR_SM_PE_ERE: return "SM: execute request, ERE clear";
    case VI_VTD_FR_SM_PE_SRE: return "SM: supervisor request, SRE clear";
    case VI_VTD_FR_INTR_ADDR: return "translated address in the interrupt range";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------------------
 * Page-walk fault reasons (VT-d spec rev 4, 7.1.3 and appendix A): what a
 * vi_fault of the first-stage / second-stage walkers (pt-x86-fs.h,
 * pt-vtd-ss.h, nested.h) is reported as.
 */

static unsigned walk_perm_reason(uint32_t access)
{
    if (access & VI_ACC_X) {
        return VI_VTD_FR_EXEC;
    }
    return (access & VI_ACC_W) ? VI_VTD_FR_SM_WRITE : VI_VTD_FR_SM_READ;
}

unsigned vi_vtd_walk_fault_reason_fs(const vi_fault *f, vi_vtd_xlate_kind k,
                                     unsigned fs_levels)
{
    /*
     * A hardware A/D update that kept losing its compare-and-swap race (the
     * entry changing under it every time) is the unit failing to access the
     * entry: the access-error reason of its stage, never the U/S reason
     * VI_FAULT_ACCESS otherwise stands for.
     */
    if (f->update_lost) {
        if (k == VI_VTD_XLATE_LEGACY_SS) {
            return VI_VTD_FR_SL_ACCESS;
        }
        return f->stage == 2 ? VI_VTD_FR_SS_ACCESS : VI_VTD_FR_FS_ACCESS;
    }
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
    if (f->stage == 2) {
        /* s1ptw: nested, the second stage refused a first-stage table access. */
        switch (f->kind) {
        case VI_FAULT_ADDR_SIZE:
            return f->s1ptw ? VI_VTD_FR_NEST_FS_ADDR_AW : VI_VTD_FR_SS_ADDR_AW;
        case VI_FAULT_TRANSLATION:
            return VI_VTD_FR_SS_NOT_PRESENT;
        case VI_FAULT_RESERVED:
            return VI_VTD_FR_SS_RSVD;
        case VI_FAULT_WALK_EABT:
            return VI_VTD_FR_SS_ACCESS;
        default:
            if (f->s1ptw) {
                /* Reading the root table FSPTPTR names is refused: SFS.6. */
                if (fs_levels && f->s1_level == (int)fs_levels && !(f->access & VI_ACC_W)) {
                    return VI_VTD_FR_NEST_FSPTR_READ;
                }
                return (f->access & VI_ACC_W) ? VI_VTD_FR_NEST_FS_WRITE :
                                                VI_VTD_FR_NEST_FS_READ;
            }
            return walk_perm_reason(f->access);
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
        /* The root table FSPTPTR names cannot be read: SFS.4. */
        if (fs_levels && f->level == (int)fs_levels) {
            return VI_VTD_FR_FS_PTPTR_ACCESS;
        }
        return VI_VTD_FR_FS_ACCESS;
    case VI_FAULT_ACCESS:
        return VI_VTD_FR_FS_USER;
    default:
        return walk_perm_reason(f->access);
    }
}

unsigned vi_vtd_walk_fault_reason(const vi_fault *f, vi_vtd_xlate_kind k)
{
    return vi_vtd_walk_fault_reason_fs(f, k, 0);
}
