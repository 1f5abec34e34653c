/*
 * viommu-vtd register interface (Intel VT-d spec rev 4, chapter 11) and
 * the invalidation descriptor / IRTE layouts (6.5, 9.9, 9.10): the one
 * definition shared by the device model and the qtest driver (so no QEMU
 * header here).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VTD_REGS_H
#define HW_VIOMMU_VTD_REGS_H

#define VTD_MMIO_BASE       0xfed90000ull   /* q35's remapping unit address */
#define VTD_MMIO_SIZE       0x1000

/* Register offsets. */
#define VTD_VER             0x000   /* 32 */
#define VTD_CAP             0x008   /* 64 */
#define VTD_ECAP            0x010   /* 64 */
#define VTD_GCMD            0x018   /* 32 */
#define VTD_GSTS            0x01c   /* 32 */
#define VTD_RTADDR          0x020   /* 64 */
#define VTD_CCMD            0x028   /* 64 */
#define VTD_FSTS            0x034   /* 32 */
#define VTD_FECTL           0x038   /* 32 */
#define VTD_FEDATA          0x03c   /* 32 */
#define VTD_FEADDR          0x040   /* 32 */
#define VTD_FEUADDR         0x044   /* 32 */
#define VTD_AFLOG           0x058   /* 64, no advanced fault logging */
#define VTD_PMEN            0x064   /* 32 */
#define VTD_PLMBASE         0x068
#define VTD_PLMLIMIT        0x06c
#define VTD_PHMBASE         0x070
#define VTD_PHMLIMIT        0x078
#define VTD_IQH             0x080   /* 64 */
#define VTD_IQT             0x088   /* 64 */
#define VTD_IQA             0x090   /* 64 */
#define VTD_ICS             0x09c   /* 32 */
#define VTD_IECTL           0x0a0   /* 32 */
#define VTD_IEDATA          0x0a4   /* 32 */
#define VTD_IEADDR          0x0a8   /* 32 */
#define VTD_IEUADDR         0x0ac   /* 32 */
#define VTD_IQERCD          0x0b0   /* 64 */
#define VTD_IRTA            0x0b8   /* 64 */
#define VTD_IRO             0x20    /* ECAP.IRO: IOTLB registers at 0x200 */
#define VTD_IVA             (VTD_IRO * 16)          /* 64 */
#define VTD_IOTLB           (VTD_IRO * 16 + 8)      /* 64 */
#define VTD_FRO             0x22    /* CAP.FRO: fault records at 0x220 */
#define VTD_FRCD0           (VTD_FRO * 16)
#define VTD_NUM_FRCD        8
#define VTD_FRCD(i)         (VTD_FRCD0 + 16 * (i))

#define VTD_VER_VALUE       0x10

/* CAP_REG fields. */
#define VTD_CAP_ND(x)       ((uint64_t)(x) << 0)
#define VTD_CAP_RWBF        (1ull << 4)
#define VTD_CAP_CM          (1ull << 7)
#define VTD_CAP_SAGAW(x)    ((uint64_t)(x) << 8)
#define VTD_CAP_MGAW(x)     ((uint64_t)((x) - 1) << 16)
#define VTD_CAP_FRO(x)      ((uint64_t)(x) << 24)
#define VTD_CAP_SLLPS(x)    ((uint64_t)(x) << 34)
#define VTD_CAP_PSI         (1ull << 39)
#define VTD_CAP_NFR(x)      ((uint64_t)((x) - 1) << 40)
#define VTD_CAP_MAMV(x)     ((uint64_t)(x) << 48)
#define VTD_CAP_DWD         (1ull << 54)
#define VTD_CAP_DRD         (1ull << 55)
#define VTD_CAP_FL1GP       (1ull << 56)
#define VTD_CAP_FL5LP       (1ull << 60)
#define VTD_CAP_ESIRTPS     (1ull << 62)
#define VTD_CAP_ESRTPS      (1ull << 63)

/* ECAP_REG fields. */
#define VTD_ECAP_C          (1ull << 0)
#define VTD_ECAP_QI         (1ull << 1)
#define VTD_ECAP_DT         (1ull << 2)
#define VTD_ECAP_IR         (1ull << 3)
#define VTD_ECAP_EIM        (1ull << 4)
#define VTD_ECAP_PT         (1ull << 6)
#define VTD_ECAP_SC         (1ull << 7)
#define VTD_ECAP_IRO(x)     ((uint64_t)(x) << 8)
#define VTD_ECAP_MHMV(x)    ((uint64_t)(x) << 20)
#define VTD_ECAP_NEST       (1ull << 26)
#define VTD_ECAP_SRS        (1ull << 31)
#define VTD_ECAP_EAFS       (1ull << 34)
#define VTD_ECAP_PSS(x)     ((uint64_t)(x) << 35)
#define VTD_ECAP_PASID      (1ull << 40)
#define VTD_ECAP_SMTS       (1ull << 43)
#define VTD_ECAP_SLADS      (1ull << 45)
#define VTD_ECAP_SLTS       (1ull << 46)
#define VTD_ECAP_FLTS       (1ull << 47)
#define VTD_ECAP_SMPWC      (1ull << 48)

/* GCMD_REG / GSTS_REG. */
#define VTD_GCMD_CFI        (1u << 23)
#define VTD_GCMD_SIRTP      (1u << 24)
#define VTD_GCMD_IRE        (1u << 25)
#define VTD_GCMD_QIE        (1u << 26)
#define VTD_GCMD_WBF        (1u << 27)
#define VTD_GCMD_EAFL       (1u << 28)
#define VTD_GCMD_SFL        (1u << 29)
#define VTD_GCMD_SRTP       (1u << 30)
#define VTD_GCMD_TE         (1u << 31)
/* The one-shot commands (no persistent status). */
#define VTD_GCMD_ONESHOT    (VTD_GCMD_SRTP | VTD_GCMD_SIRTP | VTD_GCMD_WBF | \
                             VTD_GCMD_SFL)

/* RTADDR_REG TTM. */
#define VTD_RTADDR_SMT      (1ull << 10)

/* CCMD_REG. */
#define VTD_CCMD_ICC        (1ull << 63)
#define VTD_CCMD_CIRG_SHIFT 61
#define VTD_CCMD_CAIG_SHIFT 59
#define VTD_CCMD_GLOBAL     (1ull << 61)
#define VTD_CCMD_DOMAIN     (2ull << 61)
#define VTD_CCMD_DEVICE     (3ull << 61)

/* IOTLB_REG. */
#define VTD_IOTLB_IVT       (1ull << 63)
#define VTD_IOTLB_IIRG_SHIFT 60
#define VTD_IOTLB_GLOBAL    (1ull << 60)
#define VTD_IOTLB_DSI       (2ull << 60)
#define VTD_IOTLB_PSI       (3ull << 60)
#define VTD_IOTLB_IAIG_SHIFT 57
#define VTD_IOTLB_DID(d)    ((uint64_t)(d) << 32)

/* FSTS_REG. */
#define VTD_FSTS_PFO        (1u << 0)
#define VTD_FSTS_PPF        (1u << 1)
#define VTD_FSTS_IQE        (1u << 4)
#define VTD_FSTS_ICE        (1u << 5)
#define VTD_FSTS_ITE        (1u << 6)
#define VTD_FSTS_FRI_SHIFT  8
/* FECTL / IECTL. */
#define VTD_CTL_IM          (1u << 31)
#define VTD_CTL_IP          (1u << 30)
/* ICS. */
#define VTD_ICS_IWC         (1u << 0)

/* Fault recording register, high 64 bits. */
#define VTD_FRCD_F          (1ull << 63)
#define VTD_FRCD_T          (1ull << 62)    /* T1: 1 read, 0 write */
#define VTD_FRCD_PV_SHIFT   40
#define VTD_FRCD_FR_SHIFT   32
#define VTD_FRCD_PP         (1ull << 31)
#define VTD_FRCD_EXE        (1ull << 30)
#define VTD_FRCD_PRIV       (1ull << 29)
#define VTD_FRCD_FR(hi)     ((unsigned)(((hi) >> 32) & 0xff))

/* IQA_REG. */
#define VTD_IQA_DW          (1ull << 11)
#define VTD_IQA_QS_MASK     0x7ull
/* IQERCD. */
#define VTD_IQEI_TAIL       1   /* IQT not 256-bit aligned with DW = 1 */
#define VTD_IQEI_FETCH      2   /* descriptor fetch failed */
#define VTD_IQEI_TYPE       3   /* invalid / unsupported descriptor type */
#define VTD_IQEI_RSVD       4   /* reserved field set */
#define VTD_IQEI_WIDTH      5   /* 128-bit descriptors while scalable mode is on */

/* IRTA_REG. */
#define VTD_IRTA_EIME       (1ull << 11)
#define VTD_IRTA_S_MASK     0xfull

/* Invalidation descriptor types (bits 3:0, 11:9 are type[6:4]). */
#define VTD_INV_CC          0x1     /* context-cache */
#define VTD_INV_IOTLB       0x2
#define VTD_INV_DEVTLB      0x3
#define VTD_INV_IEC         0x4
#define VTD_INV_WAIT        0x5
#define VTD_INV_PIOTLB      0x6
#define VTD_INV_PC          0x7     /* PASID-cache */
#define VTD_INV_PDEVTLB     0x8
#define VTD_INV_G(g)        ((uint64_t)(g) << 4)
#define VTD_INV_DID(d)      ((uint64_t)(d) << 16)
/* Context-cache descriptor. */
#define VTD_CC_SID(s)       ((uint64_t)(s) << 32)
#define VTD_CC_FM(f)        ((uint64_t)(f) << 48)
/* IOTLB descriptor. */
#define VTD_IOTLB_DR        (1ull << 7)
#define VTD_IOTLB_DW        (1ull << 6)
/* PASID-based descriptors: PASID in bits 51:32 of qw0. */
#define VTD_INV_PASID(p)    ((uint64_t)(p) << 32)
/* IEC descriptor. */
#define VTD_IEC_IDX(i)      ((uint64_t)(i) << 32)
#define VTD_IEC_IM(m)       ((uint64_t)(m) << 27)
/* Wait descriptor. */
#define VTD_WAIT_IF         (1ull << 4)
#define VTD_WAIT_SW         (1ull << 5)
#define VTD_WAIT_FN         (1ull << 6)
#define VTD_WAIT_SDATA(d)   ((uint64_t)(d) << 32)

/* Interrupt remapping table entry (128 bits). */
#define VTD_IRTE_P          (1ull << 0)
#define VTD_IRTE_FPD        (1ull << 1)
#define VTD_IRTE_DM         (1ull << 2)
#define VTD_IRTE_RH         (1ull << 3)
#define VTD_IRTE_TM         (1ull << 4)
#define VTD_IRTE_DLM(x)     ((uint64_t)(x) << 5)
#define VTD_IRTE_IM         (1ull << 15)
#define VTD_IRTE_V(v)       ((uint64_t)(v) << 16)
#define VTD_IRTE_DST(d)     ((uint64_t)(d) << 32)
#define VTD_IRTE_SID(s)     ((uint64_t)(s) << 0)    /* high qword */
#define VTD_IRTE_SQ(q)      ((uint64_t)(q) << 16)
#define VTD_IRTE_SVT(v)     ((uint64_t)(v) << 18)

/* Remappable-format MSI address. */
#define VTD_MSI_REMAP_ADDR(handle, shv) \
    (0xfee00000u | (((handle) & 0x7fffu) << 5) | (1u << 4) | \
     ((shv) ? (1u << 3) : 0) | ((((handle) >> 15) & 1u) << 2))

/* Interrupt-remapping fault reasons. */
#define VTD_FR_IR_REQ_RSVD  0x20
#define VTD_FR_IR_INDEX     0x21
#define VTD_FR_IR_NOT_PRESENT 0x22
#define VTD_FR_IR_ACCESS    0x23
#define VTD_FR_IR_IRTE_RSVD 0x24
#define VTD_FR_IR_COMPAT    0x25
#define VTD_FR_IR_SID       0x26

#endif
