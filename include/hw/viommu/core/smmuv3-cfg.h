/*
 * qemu-viommu translation core: SMMUv3 configuration lookup and decoding.
 *
 * From a StreamID (and optional SubstreamID) to decoded configuration:
 *
 *   vi_smmu_ste_fetch()     stream table (linear / 2-level) -> raw STE
 *   vi_smmu_ste_decode()    raw STE -> vi_smmu_ste, with every validity check
 *   vi_smmu_ste_select_cd() which CD a transaction uses (S1CDMax, S1DSS, SSID)
 *   vi_smmu_cd_fetch()      CD table (linear / 2-level with L1CD) -> raw CD
 *   vi_smmu_cd_decode()     raw CD -> vi_smmu_cd, with every validity check
 *   vi_smmu_cfg_lookup()    all of the above in one call, and the walkers
 *   vi_smmu_cfg_lookup_cached()  the same through a configuration cache: what
 *                           the device runs
 *
 * Every function either succeeds (returns VI_SMMU_EVT_NONE, i.e. 0) or
 * returns the SMMUv3 event type that the architecture requires (C_BAD_STE,
 * C_BAD_CD, C_BAD_STREAMID, C_BAD_SUBSTREAMID, F_STE_FETCH, F_CD_FETCH,
 * F_STREAM_DISABLED) and fills a vi_smmu_cfg_fault with what the event record
 * needs.  All input (table contents) is treated as hostile: nothing asserts,
 * nothing loops on guest data; each lookup does a bounded number of reads.
 *
 * Stage-2-translated CD fetches (nested configurations).  With stage 2
 * enabled, S1ContextPtr and L1CD.L2Ptr are IPAs.  The CD functions take the
 * vi_mem to fetch through; in that case the glue passes a vi_mem whose read
 * callback translates the IPA with the stream's stage 2 (e.g. with the part-A
 * walker) before reading.  When that translation faults the read callback
 * returns VI_MEM_ABORT, the CD functions report F_CD_FETCH with the IPA in
 * fault->addr, and the glue, which knows its vi_mem recorded a stage-2 fault,
 * must report that stage-2 fault instead (F_TRANSLATION etc. with S2=1,
 * CLASS=CD, IPA = fault->addr), as IHI 0070 requires.
 *
 * Not decoded / not supported: AArch32 (VMSAv8-32 LPAE) translation tables
 * (CD.AA64 = 0 and STE.S2AA64 = 0 are always C_BAD_CD / C_BAD_STE, i.e. the
 * model has SMMU_IDR0.TTF = AArch64 only), Secure state, MPAM, the STE
 * PARTID/VMSPtr words.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_SMMUV3_CFG_H
#define VI_CORE_SMMUV3_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/mem.h"
#include "hw/viommu/core/pt-armv8.h"
#include "hw/viommu/core/smmuv3-defs.h"

/* The capabilities of the modelled SMMU (SMMU_IDR0..5) the checks need. */
typedef struct vi_smmu_caps {
    bool s1;                /* IDR0.S1P: stage 1 implemented */
    bool s2;                /* IDR0.S2P: stage 2 implemented */
    bool st_2lvl;           /* IDR0.ST_LEVEL: 2-level stream table */
    bool cd_2lvl;           /* IDR0.CD2L: 2-level CD table */
    bool asid16;            /* IDR0.ASID16 */
    bool vmid16;            /* IDR0.VMID16 */
    bool hyp;               /* IDR0.Hyp: STE.STRW = EL2 allowed */
    bool e2h;               /* SMMU_CR2.E2H (with hyp): EL2 streams are
                             * EL2-E2H (two VA ranges, ASIDs) */
    bool xnx;               /* IDR3.XNX: two-bit stage-2 XN */
    bool ats;               /* IDR0.ATS */
    bool ats_s1chk;         /* split-stage ATS (EATS = 0b10) supported */
    bool httu_a;            /* IDR0.HTTU >= 1: hardware Access flag */
    bool httu_d;            /* IDR0.HTTU == 2: hardware dirty state */
    bool s2fwb;             /* IDR3.FWB */
    bool mev;               /* IDR3.MEV (event merging control) */
    bool ttst;              /* IDR3.STT: small translation tables */
    bool gran4k, gran16k, gran64k;  /* IDR5.GRAN4K/16K/64K */
    bool vax52;             /* IDR5.VAX: 52-bit VA with 64K granule */
    unsigned stall_model;   /* IDR0.STALL_MODEL (VI_SMMU_STALL_MODEL_*) */
    unsigned ttendian;      /* IDR0.TTENDIAN (VI_SMMU_TTENDIAN_*) */
    unsigned sidsize;       /* IDR1.SIDSIZE: StreamID bits, 0..32 */
    unsigned ssidsize;      /* IDR1.SSIDSIZE: SubstreamID bits, 0..20 */
    unsigned oas;           /* IDR5.OAS in bits: 32,36,40,42,44,48,52 */
} vi_smmu_caps;

/* A reasonable default: both stages, 4K+64K, 48-bit OAS, 16-bit SID, 20-bit SSID. */
void vi_smmu_caps_default(vi_smmu_caps *caps);

/* What the event record needs when a lookup fails. */
typedef struct vi_smmu_cfg_fault {
    uint8_t event;          /* VI_SMMU_EVT_*; VI_SMMU_EVT_NONE on success */
    uint64_t addr;          /* F_STE_FETCH / F_CD_FETCH: the fetch address
                             * (physical, or IPA for a stage-2-fetched CD) */
} vi_smmu_cfg_fault;

/* Stage-2 walk parameters, plain fields (VTCR-style, AArch64). */
typedef struct vi_smmu_s2_cfg {
    uint64_t ttb;           /* S2TTB (bits [51:4]; beyond the effective
                             * S2PS is C_BAD_STE) */
    unsigned granule_shift; /* 12, 14 or 16 */
    unsigned tsz;           /* S2T0SZ; input size = 64 - tsz */
    unsigned sl0;           /* S2SL0 as programmed */
    int start_level;        /* the starting level SL0 selects (0..3) */
    unsigned concat;        /* number of concatenated start tables (1..16) */
    unsigned oas;           /* effective output size: min(S2PS, OAS), bits */
    unsigned irgn, orgn, sh;    /* S2IR0/S2OR0/S2SH0 */
    bool affd, ptw, ha, hd, endi, fwb;
    bool stall;             /* S2S */
    bool record;            /* S2R: record faults even when stalling */
    uint16_t vmid;          /* S2VMID (8 bits unless caps->vmid16) */
} vi_smmu_s2_cfg;

/* Decoded STE. */
typedef struct vi_smmu_ste {
    unsigned config;        /* VI_SMMU_STE_CFG_* (ABORT/BYPASS/S1/S2/NESTED) */
    bool s1_enabled;        /* config S1 or NESTED */
    bool s2_enabled;        /* config S2 or NESTED */

    /* Stage 1 (valid when s1_enabled). */
    uint64_t s1_ctxptr;     /* CD table base (PA, or IPA when s2_enabled) */
    unsigned s1_fmt;        /* VI_SMMU_S1FMT_*; LINEAR when s1_cdmax == 0 */
    unsigned s1_cdmax;      /* log2 of the number of CDs (0: one CD, no SSIDs) */
    unsigned s1_dss;        /* VI_SMMU_S1DSS_* (only when s1_cdmax != 0) */
    unsigned s1_cir, s1_cor, s1_csh;
    bool s1_stalld;         /* S1STALLD: stall faults disabled for stage 1 */
    unsigned strw;          /* VI_SMMU_STRW_EL1 / EL2 (EL1 when s2_enabled) */

    /* Stage 2 (valid when s2_enabled; vmid also when only s1_enabled and
     * caps->s2, where it tags stage-1 TLB entries). */
    vi_smmu_s2_cfg s2;

    /* Attributes and controls for the device glue. */
    unsigned eats;          /* VI_SMMU_EATS_* (0 when !caps->ats) */
    bool mev;               /* merge events (0 when !caps->mev) */
    bool dcp, ppar, dre;
    unsigned cont;
    unsigned memattr, mtcfg, alloccfg, shcfg, nscfg, privcfg, instcfg;
} vi_smmu_ste;

/* Decoded CD. */
typedef struct vi_smmu_cd {
    /* Per translation table (index 0: TTB0 / VA[55] == 0, 1: TTB1). */
    struct {
        uint64_t ttb;           /* TTBx (bits [51:4]) */
        unsigned granule_shift; /* 12, 14, 16 (0 when disabled) */
        unsigned tsz;           /* TxSZ; input size 64 - tsz */
        int start_level;        /* derived from tsz and granule */
        bool epd;               /* walks disabled: translation fault */
        unsigned irgn, orgn, sh;
        bool had;               /* hierarchical attributes disabled */
        bool tbi;               /* top byte ignored for this half */
    } tt[2];
    unsigned oas;           /* effective output size: min(IPS, OAS), bits */
    uint16_t asid;          /* 8 bits unless caps->asid16 */
    uint64_t mair, amair;
    bool aa64, endi, affd, wxn, uwxn, pan, aset;
    bool one_el;            /* EL2 stream without E2H: one privilege level,
                             * TTB0 only, no ASID (asid 0) */
    bool ha, hd;            /* effective (masked by caps->httu_*) */
    bool stall;             /* S: stage-1 faults stall */
    bool record;            /* R: record faults */
    bool abort;             /* A: abort (vs. RAZ/WI) on terminated faults */
} vi_smmu_cd;

/*
 * Fetch the raw STE of sid from the stream table described by the
 * SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG register values.  Errors:
 * C_BAD_STREAMID (sid beyond LOG2SIZE or SIDSIZE, L1STD.Span invalid or too
 * small, format not supported), F_STE_FETCH (abort on the L1STD or the STE).
 */
int vi_smmu_ste_fetch(const vi_mem *mem, const vi_smmu_caps *caps,
                      uint64_t strtab_base, uint32_t strtab_cfg, uint32_t sid,
                      uint64_t ste[VI_SMMU_STE_WORDS], vi_smmu_cfg_fault *fault);

/* Decode and validate a raw STE.  Error: C_BAD_STE. */
int vi_smmu_ste_decode(const vi_smmu_caps *caps,
                       const uint64_t ste[VI_SMMU_STE_WORDS],
                       vi_smmu_ste *out, vi_smmu_cfg_fault *fault);

/* How a transaction of a stage-1 stream is to be handled at stage 1. */
typedef enum vi_smmu_s1_sel {
    VI_SMMU_S1_SEL_CD,      /* translate with CD *cd_index */
    VI_SMMU_S1_SEL_BYPASS,  /* S1DSS = bypass: stage 1 bypassed */
} vi_smmu_s1_sel;

/*
 * For a stream with stage 1 enabled, choose the CD a transaction uses: ssv
 * says whether it carries a SubstreamID.  Errors: C_BAD_SUBSTREAMID (SSID
 * with S1CDMax == 0, SSID >= 2^S1CDMax, SSID 0 with S1DSS = substream0),
 * F_STREAM_DISABLED (no SSID, S1DSS = terminate).
 */
int vi_smmu_ste_select_cd(const vi_smmu_ste *ste, bool ssv, uint32_t ssid,
                          vi_smmu_s1_sel *sel, uint32_t *cd_index,
                          vi_smmu_cfg_fault *fault);

/*
 * Fetch raw CD number cd_index of the stream's CD table (linear, or 2-level
 * through an L1CD).  mem: see "Stage-2-translated CD fetches" above.
 * Errors: C_BAD_SUBSTREAMID (index beyond the table, L1CD.V == 0, L1CD.L2Ptr
 * beyond caps->oas), F_CD_FETCH (abort on the L1CD or the CD).
 */
int vi_smmu_cd_fetch(const vi_mem *mem, const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                     uint32_t cd_index, uint64_t cd[VI_SMMU_CD_WORDS],
                     vi_smmu_cfg_fault *fault);

/*
 * Decode and validate a raw CD for a stream decoded as ste (may be NULL).
 * With ste->strw == EL2 the CD describes one range (TTB0); TTB1 is treated
 * as disabled and its fields are not checked.  CD.S must agree with the
 * stall model and ste->s1_stalld (IHI 0070 5.5).  Error: C_BAD_CD.
 */
int vi_smmu_cd_decode(const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                      const uint64_t cd[VI_SMMU_CD_WORDS],
                      vi_smmu_cd *out, vi_smmu_cfg_fault *fault);

/*
 * The full configuration of one transaction, with the walkers prepared from
 * it (vi_armv8_s1_prepare() / vi_armv8_s2_prepare() of the conversions
 * below): what the device translates with.
 */
typedef struct vi_smmu_cfg {
    vi_smmu_ste ste;
    bool s1_translate;      /* a CD was used (cd is valid) */
    uint32_t cd_index;      /* which one */
    vi_smmu_cd cd;
    vi_armv8_s2 s2w;        /* ste.s2_enabled: the stage-2 walker */
    vi_armv8_s1 s1w;        /* s1_translate: the stage-1 walker */
    bool ste_fetched;       /* this lookup read (and decoded) the STE ... */
    bool cd_fetched;        /* ... the CD: they were not cached (for traces) */
} vi_smmu_cfg;

/*
 * Which vi_mem fetches the CD table of a stream that has stage 2 enabled
 * (then S1ContextPtr and L1CD.L2Ptr are IPAs): the glue returns a vi_mem that
 * translates with ste->s2 before reading (the lookup's cfg->s2w is prepared
 * when this is called).  NULL: fetch physically.
 */
typedef const vi_mem *(*vi_smmu_cd_mem_fn)(void *opaque, const vi_smmu_ste *ste);

/*
 * The configuration cache of an SMMU: a vi_cfg_cache whose device entries
 * are decoded STEs with their stage-2 walker (keyed by StreamID) and whose
 * substream entries are decoded CDs with their stage-1 walker (keyed by
 * StreamID and CD index); entries are untagged (VI_CFG_TAG_ANY): CFGI_*
 * invalidate by StreamID / SubstreamID.  NULL as vi_cfg_cache_new() fails.
 */
typedef struct vi_cfg_cache vi_cfg_cache;
vi_cfg_cache *vi_smmu_cfg_cache_new(uint32_t ste_entries, uint32_t cd_entries);

/*
 * Whole lookup: STE fetch + decode, CD selection, CD fetch + decode, and the
 * walkers, through cache (from vi_smmu_cfg_cache_new(), or NULL for none).
 * mem fetches the stream table and, when stage 2 is bypassed, the CD table;
 * with stage 2 enabled the CD table is fetched through cd_mem_fn(opaque,
 * ste) when cd_mem_fn is not NULL.  Hits skip the fetches and decodes of the
 * cached entries; misses insert what they decoded, tagged with the cache
 * generation taken before reading guest memory (an invalidation in between
 * drops the insert).  Same results as without a cache while the guest
 * invalidates what it changes.
 *
 * With STE.Config = abort the call succeeds with cfg->ste.config ==
 * VI_SMMU_STE_CFG_ABORT: the glue terminates the transaction without
 * recording an event, as the architecture says.  A transaction with a
 * SubstreamID to a stream without stage 1 is C_BAD_SUBSTREAMID.  Bypass and
 * stage-2-only streams succeed with cfg->s1_translate == false.  A
 * configuration the walkers refuse (never one the decoders accept: tested)
 * is C_BAD_STE / C_BAD_CD.
 */
int vi_smmu_cfg_lookup_cached(const vi_mem *mem, vi_smmu_cd_mem_fn cd_mem_fn, void *opaque,
                              vi_cfg_cache *cache, const vi_smmu_caps *caps,
                              uint64_t strtab_base, uint32_t strtab_cfg,
                              uint32_t sid, bool ssv, uint32_t ssid,
                              vi_smmu_cfg *cfg, vi_smmu_cfg_fault *fault);

/* vi_smmu_cfg_lookup_cached() without a cache. */
int vi_smmu_cfg_lookup(const vi_mem *mem, vi_smmu_cd_mem_fn cd_mem_fn, void *opaque,
                       const vi_smmu_caps *caps,
                       uint64_t strtab_base, uint32_t strtab_cfg,
                       uint32_t sid, bool ssv, uint32_t ssid,
                       vi_smmu_cfg *cfg, vi_smmu_cfg_fault *fault);

/*
 * Walker configurations (pt-armv8.h) from decoded structures, for
 * vi_armv8_s1_prepare() / vi_armv8_s2_prepare().  Both prepare functions
 * accept every configuration the decoders accept (tested); they are the
 * walker's own validation, not a second source of C_BAD_* events.
 */
void vi_smmu_cd_to_armv8(const vi_smmu_caps *caps, const vi_smmu_cd *cd,
                         vi_armv8_s1_cfg *out);
void vi_smmu_ste_to_armv8_s2(const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                             vi_armv8_s2_cfg *out);

/* Human-readable name of an event type (for traces); never NULL. */
const char *vi_smmu_event_name(unsigned event);

#endif /* VI_CORE_SMMUV3_CFG_H */
