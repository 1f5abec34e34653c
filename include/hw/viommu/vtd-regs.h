/*
 * viommu-vtd register interface (Intel VT-d spec rev 4, chapter 11) and
 * the invalidation descriptor / IRTE / remappable MSI layouts (5.1, 6.5,
 * 9.10): the one definition shared by the device model and the qtest driver
 * (tests/qtest/vtd-drv.h), so only qemu/osdep.h-level headers here.  Fields
 * are FIELD()s (hw/registerfields.h) of a named 64-bit word (e.g. IRTE0 is
 * bits 63:0 of an IRTE, INV1 bits 127:64 of a descriptor); the builder
 * macros below them, for the tests, are spelled through those FIELD()s.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VTD_REGS_H
#define HW_VIOMMU_VTD_REGS_H

#include "hw/registerfields.h"

#define VIVTD_MMIO_BASE       0xfed90000ull   /* q35's remapping unit address */
#define VIVTD_MMIO_SIZE       0x1000

/* Register offsets. */
#define VIVTD_VER             0x000   /* 32 */
#define VIVTD_CAP             0x008   /* 64 */
#define VIVTD_ECAP            0x010   /* 64 */
#define VIVTD_GCMD            0x018   /* 32 */
#define VIVTD_GSTS            0x01c   /* 32 */
#define VIVTD_RTADDR          0x020   /* 64 */
#define VIVTD_CCMD            0x028   /* 64 */
#define VIVTD_FSTS            0x034   /* 32 */
#define VIVTD_FECTL           0x038   /* 32 */
#define VIVTD_FEDATA          0x03c   /* 32 */
#define VIVTD_FEADDR          0x040   /* 32 */
#define VIVTD_FEUADDR         0x044   /* 32 */
#define VIVTD_AFLOG           0x058   /* 64, no advanced fault logging */
#define VIVTD_PMEN            0x064   /* 32 */
#define VIVTD_PLMBASE         0x068
#define VIVTD_PLMLIMIT        0x06c
#define VIVTD_PHMBASE         0x070
#define VIVTD_PHMLIMIT        0x078
#define VIVTD_IQH             0x080   /* 64 */
#define VIVTD_IQT             0x088   /* 64 */
#define VIVTD_IQA             0x090   /* 64 */
#define VIVTD_ICS             0x09c   /* 32 */
#define VIVTD_IECTL           0x0a0   /* 32 */
#define VIVTD_IEDATA          0x0a4   /* 32 */
#define VIVTD_IEADDR          0x0a8   /* 32 */
#define VIVTD_IEUADDR         0x0ac   /* 32 */
#define VIVTD_IQERCD          0x0b0   /* 64 */
#define VIVTD_IRTA            0x0b8   /* 64 */
#define VIVTD_PQH             0x0c0   /* 64, page request queue (ECAP.PRS) */
#define VIVTD_PQT             0x0c8   /* 64 */
#define VIVTD_PQA             0x0d0   /* 64 */
#define VIVTD_PRS             0x0dc   /* 32 */
#define VIVTD_PECTL           0x0e0   /* 32 */
#define VIVTD_PEDATA          0x0e4   /* 32 */
#define VIVTD_PEADDR          0x0e8   /* 32 */
#define VIVTD_PEUADDR         0x0ec   /* 32 */
#define VIVTD_IRO             0x20    /* ECAP.IRO: IOTLB registers at 0x200 */
#define VIVTD_IVA             (VIVTD_IRO * 16)          /* 64 */
#define VIVTD_IOTLB           (VIVTD_IRO * 16 + 8)      /* 64 */
#define VIVTD_FRO             0x22    /* CAP.FRO: fault records at 0x220 */
#define VIVTD_FRCD0           (VIVTD_FRO * 16)
#define VIVTD_NUM_FRCD        8
#define VIVTD_FRCD(i)         (VIVTD_FRCD0 + 16 * (i))

#define VIVTD_VER_VALUE       0x10

/* CAP_REG fields. */
#define VIVTD_CAP_ND(x)       ((uint64_t)(x) << 0)
#define VIVTD_CAP_RWBF        (1ull << 4)
#define VIVTD_CAP_CM          (1ull << 7)
#define VIVTD_CAP_SAGAW(x)    ((uint64_t)(x) << 8)
#define VIVTD_CAP_MGAW(x)     ((uint64_t)((x) - 1) << 16)
#define VIVTD_CAP_FRO(x)      ((uint64_t)(x) << 24)
#define VIVTD_CAP_SLLPS(x)    ((uint64_t)(x) << 34)
#define VIVTD_CAP_PSI         (1ull << 39)
#define VIVTD_CAP_NFR(x)      ((uint64_t)((x) - 1) << 40)
#define VIVTD_CAP_MAMV(x)     ((uint64_t)(x) << 48)
#define VIVTD_CAP_DWD         (1ull << 54)
#define VIVTD_CAP_DRD         (1ull << 55)
#define VIVTD_CAP_FL1GP       (1ull << 56)
#define VIVTD_CAP_FL5LP       (1ull << 60)
#define VIVTD_CAP_ESIRTPS     (1ull << 62)
#define VIVTD_CAP_ESRTPS      (1ull << 63)

/* ECAP_REG fields. */
#define VIVTD_ECAP_C          (1ull << 0)
#define VIVTD_ECAP_QI         (1ull << 1)
#define VIVTD_ECAP_DT         (1ull << 2)
#define VIVTD_ECAP_IR         (1ull << 3)
#define VIVTD_ECAP_EIM        (1ull << 4)
#define VIVTD_ECAP_PT         (1ull << 6)
#define VIVTD_ECAP_SC         (1ull << 7)
#define VIVTD_ECAP_IRO(x)     ((uint64_t)(x) << 8)
#define VIVTD_ECAP_MHMV(x)    ((uint64_t)(x) << 20)
#define VIVTD_ECAP_NEST       (1ull << 26)
#define VIVTD_ECAP_PRS        (1ull << 29)
#define VIVTD_ECAP_SRS        (1ull << 31)
#define VIVTD_ECAP_EAFS       (1ull << 34)
#define VIVTD_ECAP_PSS(x)     ((uint64_t)(x) << 35)
#define VIVTD_ECAP_PASID      (1ull << 40)
#define VIVTD_ECAP_PDS        (1ull << 42)
#define VIVTD_ECAP_SMTS       (1ull << 43)
#define VIVTD_ECAP_SLADS      (1ull << 45)   /* SSADS since rev 4: second-stage A/D */
#define VIVTD_ECAP_SLTS       (1ull << 46)
#define VIVTD_ECAP_FLTS       (1ull << 47)
#define VIVTD_ECAP_SMPWC      (1ull << 48)

/* GCMD_REG / GSTS_REG. */
#define VIVTD_GCMD_CFI        (1u << 23)
#define VIVTD_GCMD_SIRTP      (1u << 24)
#define VIVTD_GCMD_IRE        (1u << 25)
#define VIVTD_GCMD_QIE        (1u << 26)
#define VIVTD_GCMD_WBF        (1u << 27)
#define VIVTD_GCMD_EAFL       (1u << 28)
#define VIVTD_GCMD_SFL        (1u << 29)
#define VIVTD_GCMD_SRTP       (1u << 30)
#define VIVTD_GCMD_TE         (1u << 31)
/* The one-shot commands (no persistent status). */
#define VIVTD_GCMD_ONESHOT    (VIVTD_GCMD_SRTP | VIVTD_GCMD_SIRTP | VIVTD_GCMD_WBF | \
                             VIVTD_GCMD_SFL)

/* RTADDR_REG TTM. */
#define VIVTD_RTADDR_SMT      (1ull << 10)

/* CCMD_REG. */
FIELD(VIVTD_CCMD, DID, 0, 16)
FIELD(VIVTD_CCMD, SID, 16, 16)
FIELD(VIVTD_CCMD, FM, 32, 2)
FIELD(VIVTD_CCMD, CAIG, 59, 2)
FIELD(VIVTD_CCMD, CIRG, 61, 2)
#define VIVTD_CCMD_ICC        (1ull << 63)
#define VIVTD_CCMD_CAIG_SHIFT R_VIVTD_CCMD_CAIG_SHIFT
#define VIVTD_CCMD_GLOBAL     (1ull << R_VIVTD_CCMD_CIRG_SHIFT)
#define VIVTD_CCMD_DOMAIN     (2ull << R_VIVTD_CCMD_CIRG_SHIFT)
#define VIVTD_CCMD_DEVICE     (3ull << R_VIVTD_CCMD_CIRG_SHIFT)

/* IOTLB_REG and IVA_REG. */
FIELD(VIVTD_IOTLBR, DID, 32, 16)
FIELD(VIVTD_IOTLBR, IAIG, 57, 2)
FIELD(VIVTD_IOTLBR, IIRG, 60, 2)
FIELD(VIVTD_IVA, AM, 0, 6)
FIELD(VIVTD_IVA, IH, 6, 1)
#define VIVTD_IOTLB_IVT       (1ull << 63)
#define VIVTD_IOTLB_IAIG_SHIFT R_VIVTD_IOTLBR_IAIG_SHIFT
#define VIVTD_IOTLB_GLOBAL    (1ull << R_VIVTD_IOTLBR_IIRG_SHIFT)
#define VIVTD_IOTLB_DSI       (2ull << R_VIVTD_IOTLBR_IIRG_SHIFT)
#define VIVTD_IOTLB_PSI       (3ull << R_VIVTD_IOTLBR_IIRG_SHIFT)
#define VIVTD_IOTLB_DID(d)    ((uint64_t)(d) << R_VIVTD_IOTLBR_DID_SHIFT)

/* FSTS_REG. */
#define VIVTD_FSTS_PFO        (1u << 0)
#define VIVTD_FSTS_PPF        (1u << 1)
#define VIVTD_FSTS_IQE        (1u << 4)
#define VIVTD_FSTS_ICE        (1u << 5)
#define VIVTD_FSTS_ITE        (1u << 6)
#define VIVTD_FSTS_FRI_SHIFT  8
/* FECTL / IECTL. */
#define VIVTD_CTL_IM          (1u << 31)
#define VIVTD_CTL_IP          (1u << 30)
/* ICS. */
#define VIVTD_ICS_IWC         (1u << 0)

/* Fault recording register, high 64 bits. */
#define VIVTD_FRCD_F          (1ull << 63)
#define VIVTD_FRCD_T          (1ull << 62)    /* T1: 1 read, 0 write */
#define VIVTD_FRCD_PV_SHIFT   40
#define VIVTD_FRCD_FR_SHIFT   32
#define VIVTD_FRCD_PP         (1ull << 31)
#define VIVTD_FRCD_EXE        (1ull << 30)
#define VIVTD_FRCD_PRIV       (1ull << 29)
#define VIVTD_FRCD_FR(hi)     ((unsigned)(((hi) >> 32) & 0xff))

/* IQA_REG. */
FIELD(VIVTD_IQA, QS, 0, 3)
FIELD(VIVTD_IQA, DW, 11, 1)
#define VIVTD_IQA_DW          R_VIVTD_IQA_DW_MASK
#define VIVTD_IQA_QS_MASK     R_VIVTD_IQA_QS_MASK
/* IQERCD. */
#define VIVTD_IQEI_TAIL       1   /* IQT not 256-bit aligned with DW = 1 */
#define VIVTD_IQEI_FETCH      2   /* descriptor fetch failed */
#define VIVTD_IQEI_TYPE       3   /* invalid / unsupported descriptor type */
#define VIVTD_IQEI_RSVD       4   /* reserved field set */
#define VIVTD_IQEI_WIDTH      5   /* 128-bit descriptors while scalable mode is on */

/*
 * Page request queue (11.4.11): PQA = base | PQS (2^PQS 4 KiB pages, so
 * 2^(PQS + 7) descriptors of 32 bytes); PQH / PQT are byte offsets of a
 * descriptor; PRS_REG PPR / PRO are write-1-to-clear; PECTL as FECTL.
 */
FIELD(VIVTD_PQA, PQS, 0, 3)
FIELD(VIVTD_PQ, OFF, 5, 14)             /* PQH_REG / PQT_REG */
#define VIVTD_PQA_BASE_MASK   (~0xfffull)
#define VIVTD_PRQ_DESC_SIZE   32
#define VIVTD_PRS_PPR         (1u << 0)   /* pending page request */
#define VIVTD_PRS_PRO         (1u << 1)   /* page request overflow */
#define VIVTD_PEDATA_MASK     0xffffu     /* 31:16 reserved in rev 4 (EIMD before) */

/* Page request descriptor (7.5), qw0 PRQ0 and qw1 PRQ1; qw2/qw3 (private data) zero. */
FIELD(VIVTD_PRQ0, TYPE, 0, 8)
FIELD(VIVTD_PRQ0, PP, 8, 1)             /* PASID present */
FIELD(VIVTD_PRQ0, RID, 16, 16)
FIELD(VIVTD_PRQ0, PASID, 32, 20)
FIELD(VIVTD_PRQ0, EXE, 52, 1)           /* execute requested */
FIELD(VIVTD_PRQ0, PM, 53, 1)            /* privileged mode requested */
FIELD(VIVTD_PRQ1, RD, 0, 1)
FIELD(VIVTD_PRQ1, WR, 1, 1)
FIELD(VIVTD_PRQ1, LPIG, 2, 1)           /* last page in group */
FIELD(VIVTD_PRQ1, PRGI, 3, 9)
FIELD(VIVTD_PRQ1, ADDR, 12, 52)
#define VIVTD_PRQ_TYPE_PAGE_REQ 1

/* IRTA_REG. */
#define VIVTD_IRTA_EIME       (1ull << 11)
#define VIVTD_IRTA_S_MASK     0xfull

/* Invalidation descriptor types (6.5.2: bits 3:0, and 11:9 as type[6:4]). */
#define VIVTD_INV_CC          0x1     /* context-cache */
#define VIVTD_INV_IOTLB       0x2
#define VIVTD_INV_DEVTLB      0x3
#define VIVTD_INV_IEC         0x4
#define VIVTD_INV_WAIT        0x5
#define VIVTD_INV_PIOTLB      0x6
#define VIVTD_INV_PC          0x7     /* PASID-cache */
#define VIVTD_INV_PDEVTLB     0x8
#define VIVTD_INV_PGRP        0x9     /* page group response (ECAP.PRS) */

/* Descriptor fields, qw0 (INV0) and qw1 (INV1), common to the types using them. */
FIELD(VIVTD_INV0, TYPE_LO, 0, 4)
FIELD(VIVTD_INV0, G, 4, 2)              /* granularity */
FIELD(VIVTD_INV0, TYPE_HI, 9, 3)
FIELD(VIVTD_INV0, DID, 16, 16)
FIELD(VIVTD_INV0, SID, 32, 16)          /* context-cache */
FIELD(VIVTD_INV0, FM, 48, 2)            /* context-cache function mask */
FIELD(VIVTD_INV0, PASID, 32, 20)        /* PASID-based descriptors */
FIELD(VIVTD_INV1, AM, 0, 6)             /* address mask */
FIELD(VIVTD_INV1, IH, 6, 1)             /* invalidation hint */
FIELD(VIVTD_INV1, ADDR, 12, 52)
/* IOTLB descriptor (6.5.2.3). */
FIELD(VIVTD_IOTLB0, DW, 6, 1)
FIELD(VIVTD_IOTLB0, DR, 7, 1)
/* Interrupt entry cache descriptor (6.5.2.7). */
FIELD(VIVTD_IEC0, G, 4, 1)              /* 0 global, 1 index-selective */
FIELD(VIVTD_IEC0, IM, 27, 5)            /* index mask */
FIELD(VIVTD_IEC0, IIDX, 32, 16)
#define VIVTD_IEC0_RSVD       (MAKE_64BIT_MASK(5, 4) | MAKE_64BIT_MASK(12, 15) | \
                               MAKE_64BIT_MASK(48, 16))
/*
 * Device-TLB invalidate descriptors (6.5.2.5, 6.5.2.6): the ATS Invalidate
 * Request sent to the function SID, its range S-encoded as ATS does (ADDR
 * with S: bit 0 of qw1 for the device-TLB type, bit 11 for the PASID-based
 * one, which adds G, Global Invalidate).  PFSID and MIP are for hardware
 * that tracks physical functions and queue depths; not used here.
 */
FIELD(VIVTD_DTLB0, MIP, 16, 5)          /* device-TLB: max invalidations pending */
FIELD(VIVTD_DTLB0, SID, 32, 16)
FIELD(VIVTD_DTLB1, S, 0, 1)
FIELD(VIVTD_PDTLB0, SID, 16, 16)
FIELD(VIVTD_PDTLB1, G, 0, 1)
FIELD(VIVTD_PDTLB1, S, 11, 1)
#define VIVTD_DTLB0_RSVD      (MAKE_64BIT_MASK(4, 5) | MAKE_64BIT_MASK(21, 11) | \
                               MAKE_64BIT_MASK(48, 4))
#define VIVTD_DTLB1_RSVD      MAKE_64BIT_MASK(1, 11)
#define VIVTD_PDTLB1_RSVD     MAKE_64BIT_MASK(1, 10)
#define VIVTD_DTLB_SID(s)     ((uint64_t)(s) << R_VIVTD_DTLB0_SID_SHIFT)
#define VIVTD_PDTLB_SID(s)    ((uint64_t)(s) << R_VIVTD_PDTLB0_SID_SHIFT)
#define VIVTD_DTLB_S          R_VIVTD_DTLB1_S_MASK
#define VIVTD_PDTLB_S         R_VIVTD_PDTLB1_S_MASK
#define VIVTD_PDTLB_G         R_VIVTD_PDTLB1_G_MASK
/* Invalidation wait descriptor (6.5.2.8). */
FIELD(VIVTD_WAIT0, IF, 4, 1)
FIELD(VIVTD_WAIT0, SW, 5, 1)
FIELD(VIVTD_WAIT0, FN, 6, 1)
FIELD(VIVTD_WAIT0, PD, 7, 1)            /* page-request drain (ECAP.PDS only) */
FIELD(VIVTD_WAIT0, SDATA, 32, 32)
#define VIVTD_WAIT0_RSVD      (R_VIVTD_WAIT0_PD_MASK | MAKE_64BIT_MASK(8, 1) | \
                               MAKE_64BIT_MASK(12, 20))

/*
 * Page group response descriptor (6.5.2, 7.5).  qw1 bit 2 was LPIG before rev
 * 4.0 and is ignored (as by all hardware: Linux set it until 6.18); the
 * other bits outside the fields are reserved.
 */
FIELD(VIVTD_PGRP0, PP, 4, 1)
FIELD(VIVTD_PGRP0, RC, 12, 4)           /* response code */
FIELD(VIVTD_PGRP0, RID, 16, 16)
FIELD(VIVTD_PGRP1, OLD_LPIG, 2, 1)
FIELD(VIVTD_PGRP1, PRGI, 3, 9)
#define VIVTD_PGRP0_RSVD      (MAKE_64BIT_MASK(5, 4) | MAKE_64BIT_MASK(52, 12))
#define VIVTD_PGRP1_RSVD      (MAKE_64BIT_MASK(0, 2) | MAKE_64BIT_MASK(12, 52))
#define VIVTD_PGRP_SUCCESS    0x0
#define VIVTD_PGRP_INVALID    0x1
#define VIVTD_PGRP_FAILURE    0xf

/* Descriptor builders (tests). */
#define VIVTD_INV_G(g)        ((uint64_t)(g) << R_VIVTD_INV0_G_SHIFT)
#define VIVTD_INV_DID(d)      ((uint64_t)(d) << R_VIVTD_INV0_DID_SHIFT)
#define VIVTD_CC_SID(s)       ((uint64_t)(s) << R_VIVTD_INV0_SID_SHIFT)
#define VIVTD_CC_FM(f)        ((uint64_t)(f) << R_VIVTD_INV0_FM_SHIFT)
#define VIVTD_IOTLB_DR        R_VIVTD_IOTLB0_DR_MASK
#define VIVTD_IOTLB_DW        R_VIVTD_IOTLB0_DW_MASK
#define VIVTD_INV_PASID(p)    ((uint64_t)(p) << R_VIVTD_INV0_PASID_SHIFT)
#define VIVTD_INV_AM(a)       ((uint64_t)(a) << R_VIVTD_INV1_AM_SHIFT)
#define VIVTD_IEC_G_INDEX     R_VIVTD_IEC0_G_MASK
#define VIVTD_IEC_IDX(i)      ((uint64_t)(i) << R_VIVTD_IEC0_IIDX_SHIFT)
#define VIVTD_IEC_IM(m)       ((uint64_t)(m) << R_VIVTD_IEC0_IM_SHIFT)
#define VIVTD_WAIT_IF         R_VIVTD_WAIT0_IF_MASK
#define VIVTD_WAIT_SW         R_VIVTD_WAIT0_SW_MASK
#define VIVTD_WAIT_FN         R_VIVTD_WAIT0_FN_MASK
#define VIVTD_WAIT_SDATA(d)   ((uint64_t)(d) << R_VIVTD_WAIT0_SDATA_SHIFT)
#define VIVTD_WAIT_PD         R_VIVTD_WAIT0_PD_MASK
#define VIVTD_PGRP_PP         R_VIVTD_PGRP0_PP_MASK
#define VIVTD_PGRP_RC(c)      ((uint64_t)(c) << R_VIVTD_PGRP0_RC_SHIFT)
#define VIVTD_PGRP_RID(r)     ((uint64_t)(r) << R_VIVTD_PGRP0_RID_SHIFT)
#define VIVTD_PGRP_PRGI(i)    ((uint64_t)(i) << R_VIVTD_PGRP1_PRGI_SHIFT)

/* Interrupt remapping table entry (9.10, 128 bits): low qword IRTE0, high IRTE1. */
#define VIVTD_IRTE_SIZE       16
FIELD(VIVTD_IRTE0, P, 0, 1)
FIELD(VIVTD_IRTE0, FPD, 1, 1)
FIELD(VIVTD_IRTE0, DM, 2, 1)
FIELD(VIVTD_IRTE0, RH, 3, 1)
FIELD(VIVTD_IRTE0, TM, 4, 1)
FIELD(VIVTD_IRTE0, DLM, 5, 3)
FIELD(VIVTD_IRTE0, AVAIL, 8, 4)
FIELD(VIVTD_IRTE0, IM, 15, 1)           /* 1: posted format (not supported) */
FIELD(VIVTD_IRTE0, V, 16, 8)
FIELD(VIVTD_IRTE0, DST, 32, 32)
FIELD(VIVTD_IRTE1, SID, 0, 16)
FIELD(VIVTD_IRTE1, SQ, 16, 2)
FIELD(VIVTD_IRTE1, SVT, 18, 2)
#define VIVTD_IRTE0_RSVD      (MAKE_64BIT_MASK(12, 3) | MAKE_64BIT_MASK(24, 8))
#define VIVTD_IRTE1_RSVD      MAKE_64BIT_MASK(20, 44)
/* IRTE builders (tests). */
#define VIVTD_IRTE_P          R_VIVTD_IRTE0_P_MASK
#define VIVTD_IRTE_FPD        R_VIVTD_IRTE0_FPD_MASK
#define VIVTD_IRTE_DM         R_VIVTD_IRTE0_DM_MASK
#define VIVTD_IRTE_RH         R_VIVTD_IRTE0_RH_MASK
#define VIVTD_IRTE_TM         R_VIVTD_IRTE0_TM_MASK
#define VIVTD_IRTE_DLM(x)     ((uint64_t)(x) << R_VIVTD_IRTE0_DLM_SHIFT)
#define VIVTD_IRTE_IM         R_VIVTD_IRTE0_IM_MASK
#define VIVTD_IRTE_V(v)       ((uint64_t)(v) << R_VIVTD_IRTE0_V_SHIFT)
#define VIVTD_IRTE_DST(d)     ((uint64_t)(d) << R_VIVTD_IRTE0_DST_SHIFT)
#define VIVTD_IRTE_SID(s)     ((uint64_t)(s) << R_VIVTD_IRTE1_SID_SHIFT)
#define VIVTD_IRTE_SQ(q)      ((uint64_t)(q) << R_VIVTD_IRTE1_SQ_SHIFT)
#define VIVTD_IRTE_SVT(v)     ((uint64_t)(v) << R_VIVTD_IRTE1_SVT_SHIFT)

/*
 * The interrupt address range (3.14, 5.1): untranslated DMA writes here are
 * interrupt requests; translated addresses here are blocked.
 */
#define VIVTD_IR_BASE         0xfee00000ull
#define VIVTD_IR_SIZE         0x100000ull

/* Remappable-format MSI address (5.1.2.2), as a 32-bit word. */
FIELD(VIVTD_MSIA, HANDLE_HI, 2, 1)      /* handle[15] */
FIELD(VIVTD_MSIA, SHV, 3, 1)
FIELD(VIVTD_MSIA, IF, 4, 1)             /* 1: remappable format */
FIELD(VIVTD_MSIA, HANDLE_LO, 5, 15)     /* handle[14:0] */
#define VIVTD_MSI_REMAP_ADDR(handle, shv) \
    ((uint32_t)VIVTD_IR_BASE | \
     (((handle) & 0x7fffu) << R_VIVTD_MSIA_HANDLE_LO_SHIFT) | R_VIVTD_MSIA_IF_MASK | \
     ((shv) ? R_VIVTD_MSIA_SHV_MASK : 0) | \
     ((((handle) >> 15) & 1u) << R_VIVTD_MSIA_HANDLE_HI_SHIFT))

/* Interrupt-remapping fault reasons. */
#define VIVTD_FR_IR_REQ_RSVD  0x20
#define VIVTD_FR_IR_INDEX     0x21
#define VIVTD_FR_IR_NOT_PRESENT 0x22
#define VIVTD_FR_IR_ACCESS    0x23
#define VIVTD_FR_IR_IRTE_RSVD 0x24
#define VIVTD_FR_IR_COMPAT    0x25
#define VIVTD_FR_IR_SID       0x26

#endif
