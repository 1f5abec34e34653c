/*
 * qemu-viommu translation core: Arm SMMUv3 architected definitions.
 *
 * Field positions of the in-memory configuration structures (Stream Table
 * Entry, Level-1 Stream Table Descriptor, Context Descriptor, Level-1 CD
 * descriptor), the stream-table base registers the lookup needs, and the
 * event record type numbers.  Written from Arm IHI 0070 (SMMUv3), section 5
 * (data structure formats) and section 7.3 (event records).
 *
 * Every structure is handled as an array of little-endian 64-bit words as
 * read by vi_mem_read_le64s(); a field is named by the word it lives in and
 * its bit range inside that word, extracted with vi_field() (bits.h).
 *
 * This is the only place these positions are spelled out; the decoders and
 * the device glue both use it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_SMMUV3_DEFS_H
#define VI_CORE_SMMUV3_DEFS_H

#include <stdint.h>

#include "hw/viommu/core/bits.h"

/* ---------------------------------------------------------------------
 * Event record type numbers (EVENT.TYPE, bits [7:0] of the first word).
 */
#define VI_SMMU_EVT_NONE                0x00  /* not an event: success */
#define VI_SMMU_EVT_F_UUT               0x01
#define VI_SMMU_EVT_C_BAD_STREAMID      0x02
#define VI_SMMU_EVT_F_STE_FETCH         0x03
#define VI_SMMU_EVT_C_BAD_STE           0x04
#define VI_SMMU_EVT_F_BAD_ATS_TREQ      0x05
#define VI_SMMU_EVT_F_STREAM_DISABLED   0x06
#define VI_SMMU_EVT_F_TRANSL_FORBIDDEN  0x07
#define VI_SMMU_EVT_C_BAD_SUBSTREAMID   0x08
#define VI_SMMU_EVT_F_CD_FETCH          0x09
#define VI_SMMU_EVT_C_BAD_CD            0x0a
#define VI_SMMU_EVT_F_WALK_EABT         0x0b
#define VI_SMMU_EVT_F_TRANSLATION       0x10
#define VI_SMMU_EVT_F_ADDR_SIZE         0x11
#define VI_SMMU_EVT_F_ACCESS            0x12
#define VI_SMMU_EVT_F_PERMISSION        0x13
#define VI_SMMU_EVT_F_TLB_CONFLICT      0x20
#define VI_SMMU_EVT_F_CFG_CONFLICT      0x21
#define VI_SMMU_EVT_E_PAGE_REQUEST      0x24
#define VI_SMMU_EVT_F_VMS_FETCH         0x25

/* EVENT.CLASS for stage-2 faults taken during another fetch. */
#define VI_SMMU_EVT_CLASS_CD            0   /* fetching a CD (or L1CD) */
#define VI_SMMU_EVT_CLASS_TTD           1   /* fetching a stage-1 descriptor */
#define VI_SMMU_EVT_CLASS_IN            2   /* the input address itself */

/* ---------------------------------------------------------------------
 * Event record (IHI 0070 7.3): 32 bytes, words 0..3.  The fault events put
 * InputAddr in word 2; word 3 holds the IPA (stage-2 faults, bits 55:12) or
 * the fetch address (F_WALK_EABT, F_STE_FETCH, F_CD_FETCH, bits 55:3).
 */
#define VI_SMMU_EVT_SIZE                32
#define VI_SMMU_EVT0_TYPE(w)            ((unsigned)vi_field((w), 7, 0))
#define VI_SMMU_EVT0_SSV                (1ull << 11)
#define VI_SMMU_EVT0_SSID(w)            ((uint32_t)vi_field((w), 31, 12))
#define VI_SMMU_EVT0_SSID_SHIFT         12
#define VI_SMMU_EVT0_SSID_MASK          VI_MASK(31, 12)
#define VI_SMMU_EVT0_SID(w)             ((uint32_t)vi_field((w), 63, 32))
#define VI_SMMU_EVT0_SID_SHIFT          32
#define VI_SMMU_EVT1_STAG_MASK          VI_MASK(15, 0)  /* stall tag */
#define VI_SMMU_EVT1_STALL              (1ull << 31)    /* the transaction is held */
#define VI_SMMU_EVT1_PNU                (1ull << 33)    /* privileged */
#define VI_SMMU_EVT1_IND                (1ull << 34)    /* instruction */
#define VI_SMMU_EVT1_RNW                (1ull << 35)    /* read */
#define VI_SMMU_EVT1_S2                 (1ull << 39)    /* stage-2 fault */
#define VI_SMMU_EVT1_CLASS(w)           ((unsigned)vi_field((w), 41, 40))
#define VI_SMMU_EVT1_CLASS_SHIFT        40
#define VI_SMMU_EVT1_TTRNW              (1ull << 44)    /* the walk's access was a read */
#define VI_SMMU_EVT3_IPA_MASK           VI_MASK(55, 12)
#define VI_SMMU_EVT3_FETCH_MASK         VI_MASK(55, 3)

/* ---------------------------------------------------------------------
 * PRI queue record (IHI 0070 8.1): 16 bytes, words 0..1.
 */
#define VI_SMMU_PRIQ_SIZE               16
#define VI_SMMU_PRIQ0_SID(w)            ((uint32_t)vi_field((w), 31, 0))
#define VI_SMMU_PRIQ0_SSID(w)           ((uint32_t)vi_field((w), 51, 32))
#define VI_SMMU_PRIQ0_SSID_SHIFT        32
#define VI_SMMU_PRIQ0_SSID_MASK         VI_MASK(51, 32)
#define VI_SMMU_PRIQ0_PRIV              (1ull << 58)
#define VI_SMMU_PRIQ0_EXEC              (1ull << 59)
#define VI_SMMU_PRIQ0_READ              (1ull << 60)
#define VI_SMMU_PRIQ0_WRITE             (1ull << 61)
#define VI_SMMU_PRIQ0_LAST              (1ull << 62)
#define VI_SMMU_PRIQ0_SSV               (1ull << 63)
#define VI_SMMU_PRIQ1_PRGI(w)           ((unsigned)vi_field((w), 8, 0))
#define VI_SMMU_PRIQ1_PRGI_MASK         VI_MASK(8, 0)
#define VI_SMMU_PRIQ1_ADDR_MASK         VI_MASK(63, 12)

/* ---------------------------------------------------------------------
 * SMMU_STRTAB_BASE and SMMU_STRTAB_BASE_CFG (register fields the stream
 * table lookup consumes).
 */
#define VI_SMMU_STRTAB_BASE_RA          (1ull << 62)
#define VI_SMMU_STRTAB_BASE_ADDR_MASK   VI_MASK(51, 6)

#define VI_SMMU_STRTAB_CFG_LOG2SIZE(c)  ((unsigned)vi_field((c), 5, 0))
#define VI_SMMU_STRTAB_CFG_SPLIT(c)     ((unsigned)vi_field((c), 10, 6))
#define VI_SMMU_STRTAB_CFG_FMT(c)       ((unsigned)vi_field((c), 17, 16))
#define VI_SMMU_STRTAB_FMT_LINEAR       0
#define VI_SMMU_STRTAB_FMT_2LVL         1

#define VI_SMMU_STE_SIZE                64  /* bytes */
#define VI_SMMU_STE_WORDS               8
#define VI_SMMU_CD_SIZE                 64
#define VI_SMMU_CD_WORDS                8

/* Level-1 Stream Table Descriptor (8 bytes). */
#define VI_SMMU_L1STD_SPAN(d)           ((unsigned)vi_field((d), 4, 0))
#define VI_SMMU_L1STD_L2PTR_MASK        VI_MASK(51, 6)

/* ---------------------------------------------------------------------
 * Stream Table Entry: word 0 (bits 63:0 of the STE).
 */
#define VI_SMMU_STE0_V(w)               ((unsigned)vi_field((w), 0, 0))
#define VI_SMMU_STE0_CONFIG(w)          ((unsigned)vi_field((w), 3, 1))
#define VI_SMMU_STE0_S1FMT(w)           ((unsigned)vi_field((w), 5, 4))
#define VI_SMMU_STE0_S1CTXPTR_MASK      VI_MASK(51, 6)
#define VI_SMMU_STE0_S1CDMAX(w)         ((unsigned)vi_field((w), 63, 59))

/* STE.Config values. */
#define VI_SMMU_STE_CFG_ABORT           0x0     /* 0b000 */
#define VI_SMMU_STE_CFG_BYPASS          0x4     /* 0b100 */
#define VI_SMMU_STE_CFG_S1              0x5     /* 0b101: S1 translate, S2 bypass */
#define VI_SMMU_STE_CFG_S2              0x6     /* 0b110: S1 bypass, S2 translate */
#define VI_SMMU_STE_CFG_NESTED          0x7     /* 0b111: S1 + S2 */
/* 0b001..0b011 are reserved. */

/* STE.S1Fmt values. */
#define VI_SMMU_S1FMT_LINEAR            0
#define VI_SMMU_S1FMT_2LVL_4K           1       /* L2 tables of 64 CDs */
#define VI_SMMU_S1FMT_2LVL_64K          2       /* L2 tables of 1024 CDs */

/* Word 1 (bits 127:64). */
#define VI_SMMU_STE1_S1DSS(w)           ((unsigned)vi_field((w), 1, 0))
#define VI_SMMU_STE1_S1CIR(w)           ((unsigned)vi_field((w), 3, 2))
#define VI_SMMU_STE1_S1COR(w)           ((unsigned)vi_field((w), 5, 4))
#define VI_SMMU_STE1_S1CSH(w)           ((unsigned)vi_field((w), 7, 6))
#define VI_SMMU_STE1_S2HWU(w)           ((unsigned)vi_field((w), 11, 8))
#define VI_SMMU_STE1_DRE(w)             ((unsigned)vi_field((w), 12, 12))
#define VI_SMMU_STE1_CONT(w)            ((unsigned)vi_field((w), 16, 13))
#define VI_SMMU_STE1_DCP(w)             ((unsigned)vi_field((w), 17, 17))
#define VI_SMMU_STE1_PPAR(w)            ((unsigned)vi_field((w), 18, 18))
#define VI_SMMU_STE1_MEV(w)             ((unsigned)vi_field((w), 19, 19))
/* Bits 23:20 (STE 87:84) SW_RESERVED, for software: never checked.  Bit 24
 * (STE 88) S1PIE: no stage-1 permission indirection here, ignored. */
#define VI_SMMU_STE1_S2FWB(w)           ((unsigned)vi_field((w), 25, 25))
#define VI_SMMU_STE1_S1MPAM(w)          ((unsigned)vi_field((w), 26, 26))
#define VI_SMMU_STE1_S1STALLD(w)        ((unsigned)vi_field((w), 27, 27))
#define VI_SMMU_STE1_EATS(w)            ((unsigned)vi_field((w), 29, 28))
#define VI_SMMU_STE1_STRW(w)            ((unsigned)vi_field((w), 31, 30))
#define VI_SMMU_STE1_MEMATTR(w)         ((unsigned)vi_field((w), 35, 32))
#define VI_SMMU_STE1_MTCFG(w)           ((unsigned)vi_field((w), 36, 36))
#define VI_SMMU_STE1_ALLOCCFG(w)        ((unsigned)vi_field((w), 40, 37))
#define VI_SMMU_STE1_SHCFG(w)           ((unsigned)vi_field((w), 45, 44))
#define VI_SMMU_STE1_NSCFG(w)           ((unsigned)vi_field((w), 47, 46))
#define VI_SMMU_STE1_PRIVCFG(w)         ((unsigned)vi_field((w), 49, 48))
#define VI_SMMU_STE1_INSTCFG(w)         ((unsigned)vi_field((w), 51, 50))

/* STE.S1DSS values (stream without SubstreamID, S1CDMax != 0). */
#define VI_SMMU_S1DSS_TERMINATE         0
#define VI_SMMU_S1DSS_BYPASS            1
#define VI_SMMU_S1DSS_SUBSTREAM0        2

/* STE.EATS values. */
#define VI_SMMU_EATS_ABORT              0       /* ATS translation requests refused */
#define VI_SMMU_EATS_TRANS              1       /* full ATS */
#define VI_SMMU_EATS_S1CHK              2       /* split-stage ATS */
/* 3: full ATS with DPT checks (RME DA); without DPT reserved, behaves as 0. */

/* STE.STRW values (stream world, stage 1 only configurations). */
#define VI_SMMU_STRW_EL1                0
#define VI_SMMU_STRW_EL2                2

/* Word 2 (bits 191:128). */
#define VI_SMMU_STE2_S2VMID(w)          ((unsigned)vi_field((w), 15, 0))
#define VI_SMMU_STE2_S2T0SZ(w)          ((unsigned)vi_field((w), 37, 32))
#define VI_SMMU_STE2_S2SL0(w)           ((unsigned)vi_field((w), 39, 38))
#define VI_SMMU_STE2_S2IR0(w)           ((unsigned)vi_field((w), 41, 40))
#define VI_SMMU_STE2_S2OR0(w)           ((unsigned)vi_field((w), 43, 42))
#define VI_SMMU_STE2_S2SH0(w)           ((unsigned)vi_field((w), 45, 44))
#define VI_SMMU_STE2_S2TG(w)            ((unsigned)vi_field((w), 47, 46))
#define VI_SMMU_STE2_S2PS(w)            ((unsigned)vi_field((w), 50, 48))
#define VI_SMMU_STE2_S2AA64(w)          ((unsigned)vi_field((w), 51, 51))
#define VI_SMMU_STE2_S2ENDI(w)          ((unsigned)vi_field((w), 52, 52))
#define VI_SMMU_STE2_S2AFFD(w)          ((unsigned)vi_field((w), 53, 53))
#define VI_SMMU_STE2_S2PTW(w)           ((unsigned)vi_field((w), 54, 54))
#define VI_SMMU_STE2_S2HD(w)            ((unsigned)vi_field((w), 55, 55))
#define VI_SMMU_STE2_S2HA(w)            ((unsigned)vi_field((w), 56, 56))
#define VI_SMMU_STE2_S2S(w)             ((unsigned)vi_field((w), 57, 57))
#define VI_SMMU_STE2_S2R(w)             ((unsigned)vi_field((w), 58, 58))

/* Word 3 (bits 255:192). */
#define VI_SMMU_STE3_S2TTB_MASK         VI_MASK(51, 4)

/* Stage-2 translation granule (STE.S2TG, same coding as CD.TG0). */
#define VI_SMMU_TG0_4K                  0
#define VI_SMMU_TG0_64K                 1
#define VI_SMMU_TG0_16K                 2
/* CD.TG1 uses a different coding. */
#define VI_SMMU_TG1_16K                 1
#define VI_SMMU_TG1_4K                  2
#define VI_SMMU_TG1_64K                 3

/* Physical/intermediate address size coding (CD.IPS, STE.S2PS, SMMU_IDR5.OAS). */
static inline unsigned vi_smmu_pa_size_bits(unsigned enc)
{
    switch (enc) {
    case 0: return 32;
    case 1: return 36;
    case 2: return 40;
    case 3: return 42;
    case 4: return 44;
    case 5: return 48;
    default: return 52;     /* 0b110; 0b111 is reserved */
    }
}

/* ---------------------------------------------------------------------
 * Level-1 Context Descriptor (8 bytes).
 */
#define VI_SMMU_L1CD_V(d)               ((unsigned)vi_field((d), 0, 0))
#define VI_SMMU_L1CD_L2PTR_MASK         VI_MASK(51, 12)

/* ---------------------------------------------------------------------
 * Context Descriptor: word 0.
 */
#define VI_SMMU_CD0_T0SZ(w)             ((unsigned)vi_field((w), 5, 0))
#define VI_SMMU_CD0_TG0(w)              ((unsigned)vi_field((w), 7, 6))
#define VI_SMMU_CD0_IR0(w)              ((unsigned)vi_field((w), 9, 8))
#define VI_SMMU_CD0_OR0(w)              ((unsigned)vi_field((w), 11, 10))
#define VI_SMMU_CD0_SH0(w)              ((unsigned)vi_field((w), 13, 12))
#define VI_SMMU_CD0_EPD0(w)             ((unsigned)vi_field((w), 14, 14))
#define VI_SMMU_CD0_ENDI(w)             ((unsigned)vi_field((w), 15, 15))
#define VI_SMMU_CD0_T1SZ(w)             ((unsigned)vi_field((w), 21, 16))
#define VI_SMMU_CD0_TG1(w)              ((unsigned)vi_field((w), 23, 22))
#define VI_SMMU_CD0_IR1(w)              ((unsigned)vi_field((w), 25, 24))
#define VI_SMMU_CD0_OR1(w)              ((unsigned)vi_field((w), 27, 26))
#define VI_SMMU_CD0_SH1(w)              ((unsigned)vi_field((w), 29, 28))
#define VI_SMMU_CD0_EPD1(w)             ((unsigned)vi_field((w), 30, 30))
#define VI_SMMU_CD0_V(w)                ((unsigned)vi_field((w), 31, 31))
#define VI_SMMU_CD0_IPS(w)              ((unsigned)vi_field((w), 34, 32))
#define VI_SMMU_CD0_AFFD(w)             ((unsigned)vi_field((w), 35, 35))
#define VI_SMMU_CD0_WXN(w)              ((unsigned)vi_field((w), 36, 36))
#define VI_SMMU_CD0_UWXN(w)             ((unsigned)vi_field((w), 37, 37))
#define VI_SMMU_CD0_TBI(w)              ((unsigned)vi_field((w), 39, 38))
#define VI_SMMU_CD0_PAN(w)              ((unsigned)vi_field((w), 40, 40))
#define VI_SMMU_CD0_AA64(w)             ((unsigned)vi_field((w), 41, 41))
#define VI_SMMU_CD0_HD(w)               ((unsigned)vi_field((w), 42, 42))
#define VI_SMMU_CD0_HA(w)               ((unsigned)vi_field((w), 43, 43))
#define VI_SMMU_CD0_S(w)                ((unsigned)vi_field((w), 44, 44))
#define VI_SMMU_CD0_R(w)                ((unsigned)vi_field((w), 45, 45))
#define VI_SMMU_CD0_A(w)                ((unsigned)vi_field((w), 46, 46))
#define VI_SMMU_CD0_ASET(w)             ((unsigned)vi_field((w), 47, 47))
#define VI_SMMU_CD0_ASID(w)             ((unsigned)vi_field((w), 63, 48))

/* Words 1 and 2: TTB0 / TTB1 (and their NSCFG, HAD, HWU bits). */
#define VI_SMMU_CDT_NSCFG(w)            ((unsigned)vi_field((w), 0, 0))
#define VI_SMMU_CDT_HAD(w)              ((unsigned)vi_field((w), 1, 1))
#define VI_SMMU_CDT_TTB_MASK            VI_MASK(51, 4)

/* Word 3: MAIR (MAIR0 in bits 31:0, MAIR1 in 63:32); word 4: AMAIR. */

/* SMMU_IDR0.STALL_MODEL. */
#define VI_SMMU_STALL_MODEL_BOTH        0   /* stall and terminate supported */
#define VI_SMMU_STALL_MODEL_TERM        1   /* stall not supported */
#define VI_SMMU_STALL_MODEL_FORCED      2   /* stall forced */

/* SMMU_IDR0.TTENDIAN. */
#define VI_SMMU_TTENDIAN_MIXED          0
#define VI_SMMU_TTENDIAN_LE             2
#define VI_SMMU_TTENDIAN_BE             3

#endif /* VI_CORE_SMMUV3_DEFS_H */
