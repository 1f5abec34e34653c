/*
 * qemu-viommu translation core: VT-d configuration lookup and decoding.
 *
 * From a request (source-id, optional PASID) to decoded configuration:
 *
 *   legacy mode (RTADDR.TTM = 00):
 *     root entry (bus) -> context entry (devfn): TT, SLPTPTR, AW, DID
 *   scalable mode (RTADDR.TTM = 01):
 *     scalable root entry (bus; lower/upper half by devfn[7])
 *       -> scalable context entry (devfn[6:0]): PASID directory, PDTS, RID_PASID
 *       -> PASID directory entry (PASID[19:6]) -> PASID table entry (PASID[5:0])
 *
 * Each step is also available on its own (decode functions that take the
 * raw entry words) for the fuzzers and the glue.  Every function returns
 * VI_VTD_FR_NONE (0) on success or the architected fault reason, and fills a
 * vi_vtd_fault.  Entries are hostile input: no asserts, bounded reads.
 *
 * Fault processing disable: fault->fpd is set when a present, well-formed
 * entry already used for this request (context entry, PASID directory entry
 * or PASID table entry) had FPD = 1, or when the entry that is not present
 * has FPD = 1 (FPD is read whatever P says: Linux tears entries down to
 * FPD-only); the glue then does not record the fault (the request is still
 * blocked).  An entry's own FPD is not trusted for faults in that very entry
 * (reserved bits, invalid programming), and no FPD suppresses the PASID
 * directory / table entry access errors (not qualified faults).
 *
 * All table addresses are host physical (VT-d has no stage-2-translated
 * configuration fetches); mem reads them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_VTD_CFG_H
#define VI_CORE_VTD_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/fault.h"
#include "hw/viommu/core/mem.h"
#include "hw/viommu/core/vtd-defs.h"

/* Capabilities of the modelled remapping unit (CAP_REG / ECAP_REG). */
typedef struct vi_vtd_caps {
    unsigned sagaw;     /* CAP.SAGAW bitmap: bit n set -> AW n supported */
    unsigned haw;       /* host address width in bits: table-pointer bits
                         * at and above it are reserved */
    unsigned nd;        /* CAP.ND: domain-ids are 4 + 2 * nd bits */
    unsigned pss;       /* ECAP.PSS: PASID width is pss + 1 bits */
    bool smts;          /* ECAP.SMTS: scalable mode */
    bool pt;            /* ECAP.PT: pass-through */
    bool dt;            /* ECAP.DT: device-TLB (ATS) */
    bool pasid;         /* ECAP.PASID */
    bool prs;           /* ECAP.PRS: page requests */
    bool flts;          /* ECAP.FLTS (FSTS): first-stage translation */
    bool slts;          /* ECAP.SLTS (SSTS): second-stage translation */
    bool nest;          /* ECAP.NEST: nested translation */
    bool srs;           /* ECAP.SRS: supervisor requests */
    bool ers;           /* ECAP.ERS: execute requests */
    bool eafs;          /* ECAP.EAFS: extended accessed flag */
    bool slads;         /* ECAP.SLADS (SSADS): second-stage A/D */
    bool rpriv;         /* ECAP.RPRIV: RID_PRIV in scalable context entries */
    bool fs5lp;         /* CAP.FL5LP (FS5LP): 5-level first stage */
} vi_vtd_caps;

/* A scalable-mode unit with 3/4-level second stage, 20-bit PASIDs, 16-bit DIDs. */
void vi_vtd_caps_default(vi_vtd_caps *caps);

typedef struct vi_vtd_fault {
    uint8_t reason;     /* VI_VTD_FR_*; VI_VTD_FR_NONE on success */
    bool fpd;           /* recording suppressed by an FPD bit (see above) */
    uint64_t addr;      /* *_ACCESS reasons: address of the failed fetch */
} vi_vtd_fault;

/* The request being translated (what the configuration checks depend on). */
typedef struct vi_vtd_req {
    uint16_t sid;       /* source-id: bus << 8 | devfn */
    bool has_pasid;
    uint32_t pasid;
    bool priv;          /* privileged (supervisor) request */
    bool exec;          /* execute request */
    bool ats;           /* ATS translation request */
    bool page_req;      /* page request (PRS) */
} vi_vtd_req;

/* Decoded context entry (legacy or scalable). */
typedef struct vi_vtd_ctx {
    bool scalable;
    bool fpd;
    /* Legacy. */
    unsigned tt;        /* VI_VTD_TT_* */
    uint64_t slptptr;   /* second-level table (not for pass-through) */
    unsigned aw;        /* AW encoding (VI_VTD_AW_*) */
    unsigned aw_bits;   /* 39, 48, 57 */
    unsigned levels;    /* 3, 4, 5 */
    uint16_t did;
    /* Scalable. */
    bool dte, paside, pre, rid_priv;
    unsigned pdts;      /* directory has 2^(pdts + 7) entries */
    uint64_t pasid_dir; /* PASID directory base */
    uint32_t rid_pasid;
} vi_vtd_ctx;

/* Decoded scalable-mode PASID table entry. */
typedef struct vi_vtd_pe {
    unsigned pgtt;      /* VI_VTD_PGTT_* */
    bool fpd;
    uint16_t did;
    /* Second stage (PGTT SS and NESTED). */
    uint64_t slptptr;
    unsigned aw, aw_bits, ss_levels;
    bool slee, slade;
    /* First stage (PGTT FS and NESTED). */
    uint64_t fsptptr;   /* a GPA when nested */
    unsigned flpm;      /* VI_VTD_FLPM_* */
    unsigned fs_levels; /* 4 or 5 */
    bool sre, ere, wpe, eafe;
    /* Memory type and snoop controls. */
    bool pwsnp, pgsnp, cd, emte, pwt, pcd;
    unsigned emt;
    uint32_t pat;
} vi_vtd_pe;

/* ---- Step functions on raw entries. ---- */

/*
 * Legacy root entry: *ctp = context table.  Reasons: ROOT_NOT_PRESENT,
 * ROOT_RSVD.
 */
int vi_vtd_root_decode(const vi_vtd_caps *caps, const uint64_t re[2],
                       uint64_t *ctp, vi_vtd_fault *fault);
/*
 * Scalable root entry, the half that devfn selects.  Reasons:
 * SM_ROOT_NOT_PRESENT, SM_ROOT_RSVD.
 */
int vi_vtd_sm_root_decode(const vi_vtd_caps *caps, const uint64_t re[2],
                          uint8_t devfn, uint64_t *ctp, vi_vtd_fault *fault);
/* Legacy context entry.  Reasons: CTX_NOT_PRESENT, CTX_RSVD, CTX_INVALID. */
int vi_vtd_ctx_decode(const vi_vtd_caps *caps, const uint64_t ce[2],
                      vi_vtd_ctx *out, vi_vtd_fault *fault);
/* Scalable context entry.  Reasons: SM_CTX_NOT_PRESENT, SM_CTX_RSVD. */
int vi_vtd_sm_ctx_decode(const vi_vtd_caps *caps, const uint64_t ce[4],
                         vi_vtd_ctx *out, vi_vtd_fault *fault);
/*
 * Checks of a request against a decoded context entry; for scalable mode
 * also picks the PASID whose entry is used (*pasid: the request's, or
 * RID_PASID for requests without one).  Reasons: legacy SM_TTM_PASID,
 * TT_BLOCKED; scalable SM_CTX_PASIDE, SM_CTX_DTE, SM_CTX_PRE,
 * SM_CTX_PASID_RANGE, SM_CTX_RID_PASID.
 */
int vi_vtd_ctx_check_req(const vi_vtd_caps *caps, const vi_vtd_ctx *ctx,
                         const vi_vtd_req *req, uint32_t *pasid, vi_vtd_fault *fault);
/*
 * PASID directory + table walk of a scalable context entry: raw PASID
 * entry.  Reasons: SM_CTX_PASID_RANGE, SM_PDE_ACCESS, SM_PDE_NOT_PRESENT,
 * SM_PDE_RSVD, SM_PE_ACCESS.  fault->fpd follows the context and PDE FPDs.
 */
int vi_vtd_pasid_fetch(const vi_mem *mem, const vi_vtd_caps *caps,
                       const vi_vtd_ctx *ctx, uint32_t pasid,
                       uint64_t pe[VI_VTD_PE_WORDS], bool *pde_fpd,
                       vi_vtd_fault *fault);
/*
 * PASID table entry.  Reasons: SM_PE_NOT_PRESENT, SM_PE_RSVD,
 * SM_PE_INVALID.
 */
int vi_vtd_pe_decode(const vi_vtd_caps *caps, const uint64_t pe[VI_VTD_PE_WORDS],
                     vi_vtd_pe *out, vi_vtd_fault *fault);
/* Request checks against a PASID entry.  Reasons: SM_PE_SRE, SM_PE_ERE. */
int vi_vtd_pe_check_req(const vi_vtd_caps *caps, const vi_vtd_pe *pe,
                        const vi_vtd_req *req, vi_vtd_fault *fault);

/* ---- Whole lookup. ---- */

typedef struct vi_vtd_cfg {
    vi_vtd_ctx ctx;
    bool has_pe;        /* scalable mode: pe is valid */
    uint32_t pasid;     /* the PASID whose entry was used */
    vi_vtd_pe pe;
    bool fpd;           /* faults of the translation itself are not recorded
                         * (FPD of the context, PASID directory or PASID
                         * table entry used) */
} vi_vtd_cfg;

/*
 * rtaddr: the RTADDR_REG value (TTM selects legacy/scalable; TTM 10b/11b and
 * scalable without caps->smts give SM_RTADDR_INV).  Reasons: all of the
 * above plus ROOT_ACCESS / CTX_ACCESS / SM_ROOT_ACCESS / SM_CTX_ACCESS.  A
 * page request (req->page_req) stops after the context entry checks (PRE,
 * PASIDE, PASID range): has_pe stays false.
 */
int vi_vtd_cfg_lookup(const vi_mem *mem, const vi_vtd_caps *caps, uint64_t rtaddr,
                      const vi_vtd_req *req, vi_vtd_cfg *cfg, vi_vtd_fault *fault);

/*
 * The context-cache and PASID-cache of a remapping unit: a vi_cfg_cache whose
 * device entries are decoded context entries (keyed by source-id, tagged by
 * the legacy DID) and whose substream entries are decoded PASID table
 * entries (keyed by source-id and PASID, tagged by the entry's DID).  NULL
 * as vi_cfg_cache_new() fails.
 */
typedef struct vi_cfg_cache vi_cfg_cache;
vi_cfg_cache *vi_vtd_cfg_cache_new(uint32_t ctx_entries, uint32_t pe_entries);

/*
 * vi_vtd_cfg_lookup() through cache (from vi_vtd_cfg_cache_new(), or NULL
 * for none): what the device runs.  Hits skip the fetches and decodes of the
 * cached entries; the request checks run on every lookup.  Misses insert
 * what they decoded, tagged with the cache generation taken before reading
 * guest memory (an invalidation in between drops the insert).  Same results
 * as without a cache while the guest invalidates what it changes.
 */
int vi_vtd_cfg_lookup_cached(const vi_mem *mem, vi_cfg_cache *cache,
                             const vi_vtd_caps *caps, uint64_t rtaddr,
                             const vi_vtd_req *req, vi_vtd_cfg *cfg,
                             vi_vtd_fault *fault);

/* Name of a fault reason (for traces); never NULL. */
const char *vi_vtd_fault_reason_name(unsigned reason);

/* ---- Page-walk faults. ---- */

/* Which translation produced a fault, for vi_vtd_walk_fault_reason(). */
typedef enum vi_vtd_xlate_kind {
    VI_VTD_XLATE_LEGACY_SS,     /* legacy mode, second stage */
    VI_VTD_XLATE_SM_FS,         /* scalable mode, first stage only */
    VI_VTD_XLATE_SM_SS,         /* scalable mode, second stage only */
    VI_VTD_XLATE_SM_NESTED,     /* scalable mode, nested */
} vi_vtd_xlate_kind;

/*
 * The VT-d fault reason of a page-walk fault f of a translation of kind k
 * whose first stage has fs_levels levels (4 or 5; 0 when there is none or
 * it is unknown, which gives up the reasons of the FSPTPTR root table access:
 * 0x73, 0x75).
 */
unsigned vi_vtd_walk_fault_reason_fs(const vi_fault *f, vi_vtd_xlate_kind k,
                                     unsigned fs_levels);
/* The same without first-stage levels (vi_vtd_walk_fault_reason_fs(f, k, 0)). */
unsigned vi_vtd_walk_fault_reason(const vi_fault *f, vi_vtd_xlate_kind k);

#endif /* VI_CORE_VTD_CFG_H */
