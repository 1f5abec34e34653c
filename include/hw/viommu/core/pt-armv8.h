/*
 * qemu-viommu translation core: Arm VMSAv8-64 translation table formats
 * (Arm DDI 0487, "The AArch64 Virtual Memory System Architecture"), stage 1
 * as an SMMUv3 context descriptor configures it and stage 2 as an SMMUv3
 * stream table entry configures it.
 *
 * Supported:
 *   - 4 KiB, 16 KiB and 64 KiB granules, stage 1 and stage 2;
 *   - stage 1 with two VA ranges (TTB0 for VA[55] == 0, TTB1 for VA[55] == 1,
 *     the bits above the range size must all equal VA[55], top byte excluded
 *     when TBIx is set), EPD0/EPD1, HPD0/HPD1, WXN, AFFD;
 *   - stage 2 starting level from SL0 per granule (incl. 4 KiB SL0 = 3 ->
 *     level 3 when small translation tables are enabled) and up to 16
 *     concatenated tables at the starting level;
 *   - block entries at level 1 and 2 (4 KiB), level 2 (16 KiB), level 2 and,
 *     with 52-bit output (FEAT_LPA), level 1 (64 KiB); page entries at level 3;
 *   - 48-bit addresses for every granule; 52-bit output addresses (and 52-bit
 *     input with lva) with the 64 KiB granule, descriptor bits [15:12]
 *     giving OA[51:48] (FEAT_LPA / FEAT_LVA);
 *   - AP[2:1], UXN, PXN, APTable, UXNTable, PXNTable (stage 1), S2AP and XN
 *     (with FEAT_XNX two-bit XN when xnx is set) (stage 2);
 *   - access flag: Access fault when AF == 0, unless AFFD (no fault) or HA
 *     (hardware sets AF with a compare-and-swap); dirty state with HD: a
 *     write to a DBM (bit 51) entry clears AP[2] (stage 1) or sets S2AP[1]
 *     (stage 2) with a compare-and-swap; a DBM leaf under HD gives a
 *     dirty_tracked result (pt.h);
 *   - WXN (a location writable in the regime is execute-never at both
 *     EL1 and EL0, DDI 0487 D8.4) and PAN (privileged data accesses to a
 *     location EL0 can access are refused);
 *   - the contiguous hint is accepted and ignored (each entry reports its own
 *     size, which is always correct);
 *   - Address Size faults for a table base (TTB), a next-level table address
 *     or an output address beyond the output size.
 * Not supported: FEAT_LPA2 (DS = 1: 52-bit with 4K/16K, level -1), AArch32
 * formats, hierarchical attributes other than permissions.  A configuration
 * asking for them fails validation.
 *
 * Use: fill a *_cfg from the CD / STE, call *_prepare() once (that is the
 * validation: an error is C_BAD_CD for stage 1, C_BAD_STE for stage 2),
 * cache the prepared form, translate with it as often as needed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_PT_ARMV8_H
#define VI_CORE_PT_ARMV8_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/pt.h"

/* Translation granule, by its page shift. */
typedef enum vi_armv8_granule {
    VI_ARMV8_4K = 12,
    VI_ARMV8_16K = 14,
    VI_ARMV8_64K = 16,
} vi_armv8_granule;

/* Descriptor bits. */
#define VI_ARMV8_DESC_VALID     (1ull << 0)
#define VI_ARMV8_DESC_TABLE     (1ull << 1)     /* table / page (vs block) */
#define VI_ARMV8_DESC_AP1       (1ull << 6)     /* S1: EL0 access; S2AP[0]: read */
#define VI_ARMV8_DESC_AP2       (1ull << 7)     /* S1: read-only; S2AP[1]: write */
#define VI_ARMV8_DESC_AF        (1ull << 10)
#define VI_ARMV8_DESC_NG        (1ull << 11)
#define VI_ARMV8_DESC_DBM       (1ull << 51)
#define VI_ARMV8_DESC_CONT      (1ull << 52)
#define VI_ARMV8_DESC_PXN       (1ull << 53)    /* S2: XN[0] */
#define VI_ARMV8_DESC_UXN       (1ull << 54)    /* S2: XN[1] (XN) */
#define VI_ARMV8_DESC_PXNTABLE  (1ull << 59)
#define VI_ARMV8_DESC_UXNTABLE  (1ull << 60)
#define VI_ARMV8_DESC_APTABLE0  (1ull << 61)    /* no EL0 access below */
#define VI_ARMV8_DESC_APTABLE1  (1ull << 62)    /* no write access below */

/*
 * vi_pt_result.attrs for Arm formats: descriptor bits [11:2] as they are
 * (stage 1: AttrIndx[2:0], NS, AP, SH[1:0], AF, nG; stage 2: MemAttr[3:0],
 * S2AP, SH[1:0], AF).  The nested result carries the stage-1 attributes.
 */
#define VI_ARMV8_ATTRS(desc)    ((uint32_t)(((desc) >> 2) & 0x3ff))

/* Why a configuration is not valid (0 = valid). */
typedef enum vi_armv8_cfg_err {
    VI_ARMV8_CFG_OK = 0,
    VI_ARMV8_CFG_BAD_GRANULE,   /* not 4K/16K/64K */
    VI_ARMV8_CFG_BAD_TSZ,       /* TxSZ out of the range the options allow */
    VI_ARMV8_CFG_BAD_OAS,       /* output size not 32/36/40/42/44/48/52 */
    VI_ARMV8_CFG_BAD_SL0,       /* reserved SL0 for the granule */
    VI_ARMV8_CFG_BAD_SL0_TSZ,   /* SL0 inconsistent with T0SZ (needs fewer
                                 * than 1 or more than 16 concatenated tables) */
} vi_armv8_cfg_err;

const char *vi_armv8_cfg_err_name(vi_armv8_cfg_err err);

/* One stage-1 VA range (TTB0 or TTB1). */
typedef struct vi_armv8_s1_range {
    uint64_t ttb;               /* table base address (IPA when nested) */
    uint8_t tsz;                /* TxSZ: the range is 64 - tsz bits */
    vi_armv8_granule granule;
    bool epd;                   /* EPDx: walks disabled -> Translation fault */
    bool tbi;                   /* TBIx: top byte ignored */
    bool hpd;                   /* HPDx: ignore hierarchical permissions */
} vi_armv8_s1_range;

/* Stage-1 configuration, as an SMMUv3 CD (AA64 = 1) sets it. */
typedef struct vi_armv8_s1_cfg {
    vi_armv8_s1_range tt[2];
    uint8_t oas;                /* output size in bits: min(CD.IPS, SMMU OAS) */
    bool ha;                    /* hardware access-flag update */
    bool hd;                    /* hardware dirty-state update (needs ha) */
    bool affd;                  /* access flag faults disabled */
    bool wxn;                   /* writable implies execute-never */
    bool pan;                   /* privileged access never: no privileged
                                 * data access to EL0-accessible pages */
    bool one_el;                /* a regime of one Exception level (EL2
                                 * without E2H): AP[1], PXN, APTable[0] and
                                 * PXNTable unused, XN is bit 54, every
                                 * access gets that level's permissions */
    bool lva;                   /* 52-bit VA ranges (TxSZ >= 12) with 64K */
    bool ttst;                  /* small ranges: TxSZ up to 48 (47 for 64K) */
} vi_armv8_s1_cfg;

/* Stage-2 configuration, as an SMMUv3 STE sets it. */
typedef struct vi_armv8_s2_cfg {
    uint64_t ttb;               /* S2TTB */
    uint8_t tsz;                /* S2T0SZ */
    uint8_t sl0;                /* S2SL0 */
    vi_armv8_granule granule;   /* S2TG */
    uint8_t oas;                /* output size in bits: min(S2PS, SMMU OAS) */
    bool ha, hd, affd;          /* S2HA, S2HD, S2AFFD */
    bool xnx;                   /* two-bit XN (FEAT_XNX) */
    bool ttst;                  /* small tables: TxSZ up to 48/47, and 4K
                                 * SL0 = 3 -> start at level 3 */
} vi_armv8_s2_cfg;

/*
 * A prepared translation table (a stage-1 VA range or the stage-2 table):
 * everything a walk needs, derived once from a configuration.
 */
typedef struct vi_armv8_table {
    uint64_t base;              /* start-level table base, aligned */
    uint8_t pgshift;            /* 12, 14 or 16 */
    uint8_t ia;                 /* input size in bits */
    int8_t start_level;
    uint8_t start_bits;         /* index bits at the start level */
    uint8_t oas;                /* effective output size in bits */
    bool disabled;              /* stage 1 EPDx */
    bool tbi, hpd, wxn, pan, one_el;    /* stage 1 */
    bool xnx;                   /* stage 2 */
    bool ha, hd, affd;
} vi_armv8_table;

typedef struct vi_armv8_s1 {
    vi_armv8_table tt[2];
} vi_armv8_s1;

typedef struct vi_armv8_s2 {
    vi_armv8_table tt;
} vi_armv8_s2;

/* Validate cfg and derive the walk parameters; *out untouched on error. */
vi_armv8_cfg_err vi_armv8_s1_prepare(const vi_armv8_s1_cfg *cfg, vi_armv8_s1 *out);
vi_armv8_cfg_err vi_armv8_s2_prepare(const vi_armv8_s2_cfg *cfg, vi_armv8_s2 *out);

/*
 * Set up a walk of va (stage 1) / ipa (stage 2) for vi_pt_run().  Returns
 * false with *f filled when the address faults before any fetch (out of
 * range, EPD, TTB beyond the output size).
 */
bool vi_armv8_s1_walk_init(const vi_armv8_s1 *s1, const vi_mem *mem, uint64_t va,
                           uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                           vi_fault *f);
bool vi_armv8_s2_walk_init(const vi_armv8_s2 *s2, const vi_mem *mem, uint64_t ipa,
                           uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                           vi_fault *f);

/* One-stage translations.  True: *res filled.  False: *f filled. */
bool vi_armv8_s1_translate(const vi_armv8_s1 *s1, const vi_mem *mem, uint64_t va,
                           uint32_t access, vi_pt_result *res, vi_fault *f);
bool vi_armv8_s2_translate(const vi_armv8_s2 *s2, const vi_mem *mem, uint64_t ipa,
                           uint32_t access, vi_pt_result *res, vi_fault *f);

#endif /* VI_CORE_PT_ARMV8_H */
