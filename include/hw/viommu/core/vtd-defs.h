/*
 * qemu-viommu translation core: Intel VT-d architected definitions.
 *
 * Field positions of the DMA-remapping translation structures (legacy root
 * and context entries, scalable-mode root and context entries, PASID
 * directory and PASID table entries) and the non-recoverable fault reason
 * codes, written from the Intel VT-d architecture specification (rev 4),
 * chapter 9 (translation structure formats) and chapter 7 (fault reasons).
 *
 * Each structure is an array of little-endian 64-bit words ("qw0" holds bits
 * 63:0, "qw1" bits 127:64 ...); a field is named by its word and its bit
 * range within that word.  This is the one place that spells them out.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_VTD_DEFS_H
#define VI_CORE_VTD_DEFS_H

#include <stdint.h>

#include "hw/viommu/core/bits.h"

/* Mask of the address bits at and above haw (host address width). */
static inline uint64_t vi_vtd_above(unsigned haw)
{
    return haw >= 64 ? 0 : ~0ull << haw;
}

/* ---------------------------------------------------------------------
 * Root table address register (RTADDR_REG): translation table mode.
 */
#define VI_VTD_RTADDR_TTM(r)            ((unsigned)vi_field((r), 11, 10))
#define VI_VTD_RTADDR_ADDR_MASK         VI_MASK(63, 12)
#define VI_VTD_TTM_LEGACY               0
#define VI_VTD_TTM_SCALABLE             1
#define VI_VTD_TTM_ABORT_DMA            2   /* rev 3.1+: abort DMA mode */

/* ---------------------------------------------------------------------
 * Legacy root entry (128 bits, 256 per 4KB root table, indexed by bus).
 */
#define VI_VTD_ROOT_SIZE                16
#define VI_VTD_RE0_P(w)                 ((unsigned)vi_field((w), 0, 0))
#define VI_VTD_RE0_CTP_MASK             VI_MASK(63, 12)
#define VI_VTD_RE0_RSVD                 VI_MASK(11, 1)
/* qw1 entirely reserved. */

/* Scalable-mode root entry: lower half for devfn 0x00-0x7f, upper for 0x80-0xff. */
#define VI_VTD_SRE_LP(w)                ((unsigned)vi_field((w), 0, 0))   /* qw0 */
#define VI_VTD_SRE_UP(w)                ((unsigned)vi_field((w), 0, 0))   /* qw1 */
#define VI_VTD_SRE_CTP_MASK             VI_MASK(63, 12)
#define VI_VTD_SRE_RSVD                 VI_MASK(11, 1)  /* in each half */

/* ---------------------------------------------------------------------
 * Legacy context entry (128 bits, 256 per 4KB table, indexed by devfn).
 */
#define VI_VTD_CTX_SIZE                 16
#define VI_VTD_CE0_P(w)                 ((unsigned)vi_field((w), 0, 0))
#define VI_VTD_CE0_FPD(w)               ((unsigned)vi_field((w), 1, 1))
#define VI_VTD_CE0_TT(w)                ((unsigned)vi_field((w), 3, 2))
#define VI_VTD_CE0_RSVD                 VI_MASK(11, 4)
#define VI_VTD_CE0_SLPTPTR_MASK         VI_MASK(63, 12)
#define VI_VTD_CE1_AW(w)                ((unsigned)vi_field((w), 2, 0))
#define VI_VTD_CE1_AVAIL(w)             ((unsigned)vi_field((w), 6, 3))   /* ignored */
#define VI_VTD_CE1_DID(w)               ((unsigned)vi_field((w), 23, 8))
#define VI_VTD_CE1_RSVD                 (VI_MASK(7, 7) | VI_MASK(63, 24))

/* Context entry TT (translation type), legacy mode. */
#define VI_VTD_TT_MULTI_LEVEL           0   /* untranslated requests, second-level */
#define VI_VTD_TT_DEV_TLB               1   /* as 0, plus ATS (device-TLB) */
#define VI_VTD_TT_PASS_THROUGH          2
/* 3 reserved */

/* AW (adjusted guest address width) encoding; SAGAW bit n supports AW n. */
#define VI_VTD_AW_39                    1   /* 3-level */
#define VI_VTD_AW_48                    2   /* 4-level */
#define VI_VTD_AW_57                    3   /* 5-level */
static inline unsigned vi_vtd_aw_bits(unsigned aw)
{
    return 30 + 9 * aw;
}

/* ---------------------------------------------------------------------
 * Scalable-mode context entry (256 bits, 128 per 4KB table, devfn[6:0]).
 */
#define VI_VTD_SCTX_SIZE                32
#define VI_VTD_SCE0_P(w)                ((unsigned)vi_field((w), 0, 0))
#define VI_VTD_SCE0_FPD(w)              ((unsigned)vi_field((w), 1, 1))
#define VI_VTD_SCE0_DTE(w)              ((unsigned)vi_field((w), 2, 2))
#define VI_VTD_SCE0_PASIDE(w)           ((unsigned)vi_field((w), 3, 3))
#define VI_VTD_SCE0_PRE(w)              ((unsigned)vi_field((w), 4, 4))
#define VI_VTD_SCE0_RSVD                VI_MASK(8, 5)
#define VI_VTD_SCE0_PDTS(w)             ((unsigned)vi_field((w), 11, 9))
#define VI_VTD_SCE0_PASIDDIRPTR_MASK    VI_MASK(63, 12)
#define VI_VTD_SCE1_RID_PASID(w)        ((uint32_t)vi_field((w), 19, 0))
#define VI_VTD_SCE1_RID_PRIV(w)         ((unsigned)vi_field((w), 20, 20))
#define VI_VTD_SCE1_RSVD                VI_MASK(63, 21)
/* qw2, qw3 reserved. */

/* PASID directory size: 2^(PDTS + 7) entries. */
static inline unsigned vi_vtd_pdts_log2(unsigned pdts)
{
    return pdts + 7;
}

/* ---------------------------------------------------------------------
 * PASID directory entry (64 bits), indexed by PASID[19:6].
 */
#define VI_VTD_PDE_SIZE                 8
#define VI_VTD_PDE_P(w)                 ((unsigned)vi_field((w), 0, 0))
#define VI_VTD_PDE_FPD(w)               ((unsigned)vi_field((w), 1, 1))
#define VI_VTD_PDE_RSVD                 VI_MASK(11, 2)
#define VI_VTD_PDE_PTPTR_MASK           VI_MASK(63, 12)

/* ---------------------------------------------------------------------
 * Scalable-mode PASID table entry (512 bits), indexed by PASID[5:0].
 */
#define VI_VTD_PE_SIZE                  64
#define VI_VTD_PE_WORDS                 8
/* qw0 */
#define VI_VTD_PE0_P(w)                 ((unsigned)vi_field((w), 0, 0))
#define VI_VTD_PE0_FPD(w)               ((unsigned)vi_field((w), 1, 1))
#define VI_VTD_PE0_AW(w)                ((unsigned)vi_field((w), 4, 2))
#define VI_VTD_PE0_SLEE(w)              ((unsigned)vi_field((w), 5, 5))
#define VI_VTD_PE0_PGTT(w)              ((unsigned)vi_field((w), 8, 6))
#define VI_VTD_PE0_SLADE(w)             ((unsigned)vi_field((w), 9, 9))  /* SSADE (rev 4+) */
#define VI_VTD_PE0_RSVD                 VI_MASK(11, 10)
#define VI_VTD_PE0_SLPTPTR_MASK         VI_MASK(63, 12)
/* qw1 */
#define VI_VTD_PE1_DID(w)               ((unsigned)vi_field((w), 15, 0))
#define VI_VTD_PE1_RSVD                 VI_MASK(22, 16)
#define VI_VTD_PE1_PWSNP(w)             ((unsigned)vi_field((w), 23, 23))
#define VI_VTD_PE1_PGSNP(w)             ((unsigned)vi_field((w), 24, 24))
#define VI_VTD_PE1_CD(w)                ((unsigned)vi_field((w), 25, 25))
#define VI_VTD_PE1_EMTE(w)              ((unsigned)vi_field((w), 26, 26))
#define VI_VTD_PE1_EMT(w)               ((unsigned)vi_field((w), 29, 27))
#define VI_VTD_PE1_PWT(w)               ((unsigned)vi_field((w), 30, 30))
#define VI_VTD_PE1_PCD(w)               ((unsigned)vi_field((w), 31, 31))
#define VI_VTD_PE1_PAT(w)               ((uint32_t)vi_field((w), 63, 32))
/* qw2 */
#define VI_VTD_PE2_SRE(w)               ((unsigned)vi_field((w), 0, 0))
#define VI_VTD_PE2_ERE(w)               ((unsigned)vi_field((w), 1, 1))
#define VI_VTD_PE2_FLPM(w)              ((unsigned)vi_field((w), 3, 2))
#define VI_VTD_PE2_WPE(w)               ((unsigned)vi_field((w), 4, 4))
#define VI_VTD_PE2_EAFE(w)              ((unsigned)vi_field((w), 7, 7))
/*
 * Bits 6:5 are not checked: revision 3 of the specification defines them
 * (NXE, SMEP), later revisions no longer use them; a guest written against
 * either must not see a reserved-field fault for them, so they are ignored.
 */
#define VI_VTD_PE2_RSVD                 VI_MASK(11, 8)
#define VI_VTD_PE2_FSPTPTR_MASK         VI_MASK(63, 12)
/* qw3..qw7 reserved. */

/* PASID entry PGTT (PASID granular translation type). */
#define VI_VTD_PGTT_FS                  1   /* first-stage only */
#define VI_VTD_PGTT_SS                  2   /* second-stage only */
#define VI_VTD_PGTT_NESTED              3
#define VI_VTD_PGTT_PT                  4   /* pass-through */
/* 0, 5, 6, 7 reserved */

/* First-stage paging mode (FLPM). */
#define VI_VTD_FLPM_4LEVEL              0
#define VI_VTD_FLPM_5LEVEL              1

#define VI_VTD_PASID_BITS               20

/* ---------------------------------------------------------------------
 * Non-recoverable fault reasons (fault recording register FR field).
 */
/* Legacy mode. */
#define VI_VTD_FR_NONE                  0x00
#define VI_VTD_FR_ROOT_NOT_PRESENT      0x01
#define VI_VTD_FR_CTX_NOT_PRESENT       0x02
#define VI_VTD_FR_CTX_INVALID           0x03    /* invalid programming */
#define VI_VTD_FR_ADDR_BEYOND_AW        0x04
#define VI_VTD_FR_WRITE                 0x05
#define VI_VTD_FR_READ                  0x06
#define VI_VTD_FR_SL_ACCESS             0x07    /* error fetching a paging entry */
#define VI_VTD_FR_ROOT_ACCESS           0x08
#define VI_VTD_FR_CTX_ACCESS            0x09
#define VI_VTD_FR_ROOT_RSVD             0x0a
#define VI_VTD_FR_CTX_RSVD              0x0b
#define VI_VTD_FR_SL_RSVD               0x0c
#define VI_VTD_FR_TT_BLOCKED            0x0d    /* request type blocked by TT */
/* Scalable mode: root table. */
#define VI_VTD_FR_SM_RTADDR_INV         0x30    /* invalid root table address / TTM */
#define VI_VTD_FR_SM_TTM_PASID          0x31    /* legacy mode, request with PASID */
#define VI_VTD_FR_SM_TTM_PRQ            0x32    /* legacy mode, page request */
#define VI_VTD_FR_SM_ROOT_ACCESS        0x38
#define VI_VTD_FR_SM_ROOT_NOT_PRESENT   0x39
#define VI_VTD_FR_SM_ROOT_RSVD          0x3a
/* Scalable mode: context entry. */
#define VI_VTD_FR_SM_CTX_ACCESS         0x40
#define VI_VTD_FR_SM_CTX_NOT_PRESENT    0x41
#define VI_VTD_FR_SM_CTX_RSVD           0x42
#define VI_VTD_FR_SM_CTX_INVALID        0x43
#define VI_VTD_FR_SM_CTX_DTE            0x44    /* translation request, DTE = 0 */
#define VI_VTD_FR_SM_CTX_PASIDE         0x45    /* request with PASID, PASIDE = 0 */
#define VI_VTD_FR_SM_CTX_PASID_RANGE    0x46    /* PASID beyond the directory (PDTS) */
#define VI_VTD_FR_SM_CTX_PRE            0x47    /* page request, PRE = 0 */
#define VI_VTD_FR_SM_CTX_RID_PASID      0x48    /* RID_PASID not usable */
/* Scalable mode: PASID directory entry. */
#define VI_VTD_FR_SM_PDE_ACCESS         0x50
#define VI_VTD_FR_SM_PDE_NOT_PRESENT    0x51
#define VI_VTD_FR_SM_PDE_RSVD           0x52
/* Scalable mode: PASID table entry. */
#define VI_VTD_FR_SM_PE_ACCESS          0x58
#define VI_VTD_FR_SM_PE_NOT_PRESENT     0x59
#define VI_VTD_FR_SM_PE_RSVD            0x5a
#define VI_VTD_FR_SM_PE_INVALID         0x5b    /* invalid programming (PGTT, AW...) */
#define VI_VTD_FR_SM_PE_ERE             0x5c    /* execute request, ERE = 0 */
#define VI_VTD_FR_SM_PE_SRE             0x5d    /* supervisor request, SRE = 0 */

/* Scalable mode: first-stage, second-stage and nested page walks. */
#define VI_VTD_FR_FS_ACCESS             0x70    /* error fetching an FS entry */
#define VI_VTD_FR_FS_NOT_PRESENT        0x71
#define VI_VTD_FR_FS_RSVD               0x72
#define VI_VTD_FR_FS_PTPTR_ACCESS       0x73    /* error fetching the FS root table */
#define VI_VTD_FR_NEST_FS_ADDR_AW       0x74    /* nested: FS table GPA beyond SS AW */
#define VI_VTD_FR_NEST_FSPTR_READ       0x75    /* nested: SS refuses reading the FS root */
#define VI_VTD_FR_NEST_FS_READ          0x76    /* nested: SS refuses reading an FS entry */
#define VI_VTD_FR_NEST_FS_WRITE         0x77    /* nested: SS refuses the FS A/D write */
#define VI_VTD_FR_SS_ACCESS             0x78    /* error fetching an SS entry */
#define VI_VTD_FR_SS_NOT_PRESENT        0x79
#define VI_VTD_FR_SS_RSVD               0x7a
#define VI_VTD_FR_FS_NON_CANONICAL      0x80
#define VI_VTD_FR_FS_USER               0x81    /* user request, U/S = 0 */
#define VI_VTD_FR_EXEC                  0x82
#define VI_VTD_FR_SS_ADDR_AW            0x83    /* input beyond the SS AW */
#define VI_VTD_FR_SS_OUT_HAW            0x84
#define VI_VTD_FR_SM_WRITE              0x85
#define VI_VTD_FR_SM_READ               0x86
#define VI_VTD_FR_INTR_ADDR             0x87    /* translated address in 0xFEEx_xxxx (3.14) */

#endif /* VI_CORE_VTD_DEFS_H */
