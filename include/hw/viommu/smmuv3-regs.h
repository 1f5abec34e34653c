/*
 * viommu-smmuv3 registers (IHI 0070 chapter 6), command opcodes (chapter 4)
 * and queue register formats: the one definition shared by the device model
 * and the qtest driver (tests/qtest/smmuv3-drv.h), so only qemu/osdep.h-level
 * headers here.  Registers are REG32()/REG64() with FIELD()s
 * (hw/registerfields.h); offsets are page 0's (page 1, at VISMMU_PAGE1,
 * repeats the queue pointers).  Structure layouts (STE, CD, event and PRI
 * records) are the core's, in hw/viommu/core/smmuv3-defs.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_SMMUV3_REGS_H
#define HW_VIOMMU_SMMUV3_REGS_H

#include "hw/registerfields.h"
#include "hw/viommu/core/smmuv3-defs.h"

#define VISMMU_MMIO_BASE_VIRT         0x09050000ull   /* virt's VIRT_SMMU */
REG32(VISMMU_IDR0, 0x0)
    FIELD(VISMMU_IDR0, S2P, 0, 1)
    FIELD(VISMMU_IDR0, S1P, 1, 1)
    FIELD(VISMMU_IDR0, TTF, 2, 2)
    FIELD(VISMMU_IDR0, COHACC, 4, 1)
    FIELD(VISMMU_IDR0, HTTU, 6, 2)
    FIELD(VISMMU_IDR0, HYP, 9, 1)
    FIELD(VISMMU_IDR0, ATS, 10, 1)
    FIELD(VISMMU_IDR0, NS1ATS, 11, 1)         /* 1: no split-stage ATS (EATS = 0b10) */
    FIELD(VISMMU_IDR0, PRI, 16, 1)
    FIELD(VISMMU_IDR0, ASID16, 12, 1)
    FIELD(VISMMU_IDR0, MSI, 13, 1)
    FIELD(VISMMU_IDR0, VMID16, 18, 1)
    FIELD(VISMMU_IDR0, CD2L, 19, 1)
    FIELD(VISMMU_IDR0, TTENDIAN, 21, 2)
    FIELD(VISMMU_IDR0, STALL_MODEL, 24, 2)
    FIELD(VISMMU_IDR0, TERM_MODEL, 26, 1)
    FIELD(VISMMU_IDR0, ST_LEVEL, 27, 2)
REG32(VISMMU_IDR1, 0x4)
    FIELD(VISMMU_IDR1, SIDSIZE, 0, 6)
    FIELD(VISMMU_IDR1, SSIDSIZE, 6, 5)
    FIELD(VISMMU_IDR1, PRIQS, 11, 5)
    FIELD(VISMMU_IDR1, EVENTQS, 16, 5)
    FIELD(VISMMU_IDR1, CMDQS, 21, 5)
REG32(VISMMU_IDR2, 0x8)
REG32(VISMMU_IDR3, 0xc)
    FIELD(VISMMU_IDR3, HAD, 2, 1)
    FIELD(VISMMU_IDR3, XNX, 4, 1)
    FIELD(VISMMU_IDR3, PPS, 5, 1)
    FIELD(VISMMU_IDR3, FWB, 8, 1)
    FIELD(VISMMU_IDR3, RIL, 10, 1)
    FIELD(VISMMU_IDR3, BBML, 11, 2)
REG32(VISMMU_IDR4, 0x10)
REG32(VISMMU_IDR5, 0x14)
    FIELD(VISMMU_IDR5, OAS, 0, 3)
    FIELD(VISMMU_IDR5, GRAN4K, 4, 1)
    FIELD(VISMMU_IDR5, GRAN16K, 5, 1)
    FIELD(VISMMU_IDR5, GRAN64K, 6, 1)
REG32(VISMMU_IIDR, 0x18)
REG32(VISMMU_AIDR, 0x1c)
REG32(VISMMU_CR0, 0x20)
    FIELD(VISMMU_CR0, SMMUEN, 0, 1)
    FIELD(VISMMU_CR0, PRIQEN, 1, 1)
    FIELD(VISMMU_CR0, EVENTQEN, 2, 1)
    FIELD(VISMMU_CR0, CMDQEN, 3, 1)
    FIELD(VISMMU_CR0, ATSCHK, 4, 1)
REG32(VISMMU_CR0ACK, 0x24)
REG32(VISMMU_CR1, 0x28)
REG32(VISMMU_CR2, 0x2c)
    FIELD(VISMMU_CR2, E2H, 0, 1)
    FIELD(VISMMU_CR2, RECINVSID, 1, 1)
    FIELD(VISMMU_CR2, PTM, 2, 1)
REG32(VISMMU_STATUSR, 0x40)
REG32(VISMMU_GBPA, 0x44)
    FIELD(VISMMU_GBPA, ABORT, 20, 1)
    FIELD(VISMMU_GBPA, UPDATE, 31, 1)
REG32(VISMMU_AGBPA, 0x48)
REG32(VISMMU_IRQ_CTRL, 0x50)
    FIELD(VISMMU_IRQ_CTRL, GERROR_IRQEN, 0, 1)
    FIELD(VISMMU_IRQ_CTRL, PRI_IRQEN, 1, 1)
    FIELD(VISMMU_IRQ_CTRL, EVENTQ_IRQEN, 2, 1)
REG32(VISMMU_IRQ_CTRLACK, 0x54)
REG32(VISMMU_GERROR, 0x60)
    FIELD(VISMMU_GERROR, CMDQ_ERR, 0, 1)
    FIELD(VISMMU_GERROR, EVENTQ_ABT_ERR, 2, 1)
    FIELD(VISMMU_GERROR, PRIQ_ABT_ERR, 3, 1)
    FIELD(VISMMU_GERROR, MSI_CMDQ_ABT_ERR, 4, 1)
    FIELD(VISMMU_GERROR, MSI_EVENTQ_ABT_ERR, 5, 1)
    FIELD(VISMMU_GERROR, MSI_PRIQ_ABT_ERR, 6, 1)
    FIELD(VISMMU_GERROR, MSI_GERROR_ABT_ERR, 7, 1)
REG32(VISMMU_GERRORN, 0x64)
REG64(VISMMU_GERROR_IRQ_CFG0, 0x68)
REG32(VISMMU_GERROR_IRQ_CFG1, 0x70)
REG32(VISMMU_GERROR_IRQ_CFG2, 0x74)
REG64(VISMMU_STRTAB_BASE, 0x80)
REG32(VISMMU_STRTAB_BASE_CFG, 0x88)
REG64(VISMMU_CMDQ_BASE, 0x90)
REG32(VISMMU_CMDQ_PROD, 0x98)
REG32(VISMMU_CMDQ_CONS, 0x9c)
    FIELD(VISMMU_CMDQ_CONS, ERR, 24, 7)
REG64(VISMMU_EVENTQ_BASE, 0xa0)
REG32(VISMMU_EVENTQ_PROD, 0xa8)
REG32(VISMMU_EVENTQ_CONS, 0xac)
REG64(VISMMU_EVENTQ_IRQ_CFG0, 0xb0)
REG32(VISMMU_EVENTQ_IRQ_CFG1, 0xb8)
REG32(VISMMU_EVENTQ_IRQ_CFG2, 0xbc)
REG64(VISMMU_PRIQ_BASE, 0xc0)
REG32(VISMMU_PRIQ_PROD, 0xc8)      /* page 1 (and its page-0 alias) */
REG32(VISMMU_PRIQ_CONS, 0xcc)
REG64(VISMMU_PRIQ_IRQ_CFG0, 0xd0)
REG32(VISMMU_PRIQ_IRQ_CFG1, 0xd8)
REG32(VISMMU_PRIQ_IRQ_CFG2, 0xdc)
    FIELD(VISMMU_PRIQ_IRQ_CFG2, LO, 31, 1)

#define VISMMU_PAGE1                  0x10000
#define VISMMU_IIDR_VALUE             0x0         /* no implementer errata */
/* SMMU_AIDR: ArchMinorRev (the ID registers decide which, smmuv3.c). */
#define VISMMU_AIDR_V3_1              0x1
#define VISMMU_AIDR_V3_2              0x2

/* SMMU_xQ_BASE, SMMU_xQ_PROD / _CONS. */
#define VISMMU_Q_BASE_MASK     ((1ull << 62) | VI_MASK(51, 5) | 0x1f)
#define VISMMU_Q_BASE_ADDR(b)  ((b) & VI_MASK(51, 5))
#define VISMMU_Q_LOG2(b)       ((unsigned)((b) & 0x1f))
#define VISMMU_Q_PTR_MASK      0xfffffu
#define VISMMU_Q_OVF           (1u << 31)

/* Command opcodes (IHI 0070 chapter 4). */
#define VISMMU_CMD_PREFETCH_CONFIG   0x01
#define VISMMU_CMD_PREFETCH_ADDR     0x02
#define VISMMU_CMD_CFGI_STE          0x03
#define VISMMU_CMD_CFGI_STE_RANGE    0x04
#define VISMMU_CMD_CFGI_CD           0x05
#define VISMMU_CMD_CFGI_CD_ALL       0x06
#define VISMMU_CMD_TLBI_NH_ALL       0x10
#define VISMMU_CMD_TLBI_NH_ASID      0x11
#define VISMMU_CMD_TLBI_NH_VA        0x12
#define VISMMU_CMD_TLBI_NH_VAA       0x13
#define VISMMU_CMD_TLBI_EL3_ALL      0x18
#define VISMMU_CMD_TLBI_EL3_VA       0x1a
#define VISMMU_CMD_TLBI_EL2_ALL      0x20
#define VISMMU_CMD_TLBI_EL2_ASID     0x21
#define VISMMU_CMD_TLBI_EL2_VA       0x22
#define VISMMU_CMD_TLBI_EL2_VAA      0x23
#define VISMMU_CMD_TLBI_S12_VMALL    0x28
#define VISMMU_CMD_TLBI_S2_IPA       0x2a
#define VISMMU_CMD_TLBI_NSNH_ALL     0x30
#define VISMMU_CMD_ATC_INV           0x40
#define VISMMU_CMD_PRI_RESP          0x41
#define VISMMU_CMD_RESUME            0x44
#define VISMMU_CMD_STALL_TERM        0x45

/* CMD_RESUME Action (IHI 0070 4.6.1). */
#define VISMMU_RESUME_TERM           0   /* terminate as CD.A / the fault says */
#define VISMMU_RESUME_RETRY          1
#define VISMMU_RESUME_ABORT          2
#define VISMMU_CMD_SYNC              0x46

#define VISMMU_CERROR_NONE           0
#define VISMMU_CERROR_ILL            1
#define VISMMU_CERROR_ABT            2

/*
 * Command fields (IHI 0070 4.1-4.7): a command is two little-endian 64-bit
 * words, CMD0 (bits 63:0) and CMD1 (bits 127:64).  Where commands place a
 * field differently, the FIELD() is named after the commands using it.
 */
REG64(VISMMU_CMD0, 0)
    FIELD(VISMMU_CMD0, OP, 0, 8)
    FIELD(VISMMU_CMD0, ATC_GLOBAL, 9, 1)        /* ATC_INV */
    FIELD(VISMMU_CMD0, SSEC, 10, 1)
    FIELD(VISMMU_CMD0, SSV, 11, 1)
    FIELD(VISMMU_CMD0, SSID, 12, 20)            /* CFGI_CD, PRI_RESP, ATC_INV */
    FIELD(VISMMU_CMD0, ACTION, 12, 2)           /* RESUME: VISMMU_RESUME_* */
    FIELD(VISMMU_CMD0, NUM, 12, 5)              /* TLBI ranges */
    FIELD(VISMMU_CMD0, CS, 12, 2)               /* CMD_SYNC */
    FIELD(VISMMU_CMD0, SCALE, 20, 5)            /* TLBI ranges */
    FIELD(VISMMU_CMD0, SID, 32, 32)             /* CFGI_*, PRI_RESP, ATC_INV, RESUME */
    FIELD(VISMMU_CMD0, VMID, 32, 16)            /* TLBI */
    FIELD(VISMMU_CMD0, MSIDATA, 32, 32)         /* CMD_SYNC */
    FIELD(VISMMU_CMD0, ASID, 48, 16)            /* TLBI */
REG64(VISMMU_CMD1, 8)
    FIELD(VISMMU_CMD1, LEAF, 0, 1)              /* CFGI_STE/CD, TLBI by address */
    FIELD(VISMMU_CMD1, RANGE, 0, 5)             /* CFGI_STE_RANGE */
    FIELD(VISMMU_CMD1, ATC_SIZE, 0, 6)          /* ATC_INV: 2^Size 4 KiB pages */
    FIELD(VISMMU_CMD1, PRGI, 0, 9)              /* PRI_RESP */
    FIELD(VISMMU_CMD1, STAG, 0, 16)             /* RESUME */
    FIELD(VISMMU_CMD1, MSIADDR, 2, 50)          /* CMD_SYNC: bits 51:2 */
    FIELD(VISMMU_CMD1, TTL, 8, 2)               /* TLBI by address */
    FIELD(VISMMU_CMD1, TG, 10, 2)
    FIELD(VISMMU_CMD1, RESP, 12, 2)             /* PRI_RESP */
    FIELD(VISMMU_CMD1, ADDR, 12, 52)            /* TLBI: VA[63:12] / IPA[51:12]; ATC_INV */

/* CMD_SYNC.CS (completion signal). */
#define VISMMU_SYNC_CS_NONE           0
#define VISMMU_SYNC_CS_IRQ            1
#define VISMMU_SYNC_CS_SEV            2

#endif /* HW_VIOMMU_SMMUV3_REGS_H */
