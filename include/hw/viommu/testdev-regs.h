/*
 * viommu-testdev register interface: the one definition shared by the device
 * model, the qtests and the guest test programs (so it includes no QEMU header).
 * docs/testdev.rst describes the behaviour behind each register.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VIOMMU_TESTDEV_REGS_H
#define VIOMMU_TESTDEV_REGS_H

#define VIOMMU_TESTDEV_VENDOR_ID       0x1234
#define VIOMMU_TESTDEV_DEVICE_ID       0x5669
#define VIOMMU_TESTDEV_REVISION        0x01

#define VIOMMU_TESTDEV_REG_BAR         0       /* 32-bit memory BAR, 4 KiB */
#define VIOMMU_TESTDEV_MSIX_BAR        1       /* exclusive MSI-X table + PBA */
#define VIOMMU_TESTDEV_REG_SIZE        0x1000
#define VIOMMU_TESTDEV_MSIX_VECTORS    4

/* Register offsets (32-bit registers; 64-bit ones are LO/HI pairs). */
#define TD_ID               0x000   /* RO: TD_ID_VALUE */
#define TD_VERSION          0x004   /* RO: TD_VERSION_VALUE */
#define TD_CAPS             0x008   /* RO: TD_CAPS_* */
#define TD_MAX_LEN          0x00c   /* RO: largest LEN accepted */
#define TD_SRC_LO           0x010   /* RW: source DMA address (IOVA) */
#define TD_SRC_HI           0x014
#define TD_DST_LO           0x018   /* RW: destination DMA address (IOVA) */
#define TD_DST_HI           0x01c
#define TD_LEN              0x020   /* RW: bytes to transfer, 1..MAX_LEN */
#define TD_OP               0x024   /* RW: TD_OP_* */
#define TD_PASID            0x028   /* RW: TD_PASID_* (PASID TLP prefix) */
#define TD_PATTERN          0x02c   /* RW: 32-bit fill pattern, little-endian */
#define TD_IRQ              0x030   /* RW: TD_IRQ_* completion interrupt */
#define TD_DELAY_NS         0x034   /* RW: completion delay in virtual-clock ns */
#define TD_CMD              0x040   /* WO: TD_CMD_* */
#define TD_STATUS           0x044   /* RO: TD_STATUS_* */
#define TD_ERROR            0x048   /* RO: TD_ERR_* of the last operation */
#define TD_RESULT_LO        0x050   /* RO: checksum, or first mismatch offset */
#define TD_RESULT_HI        0x054
#define TD_FAULT_ADDR_LO    0x058   /* RO: DMA address whose access failed */
#define TD_FAULT_ADDR_HI    0x05c
#define TD_COMPLETED        0x060   /* RO: operations completed since reset */
#define TD_PRI_REQUESTS     0x064   /* RO: page requests sent by the current/last operation */
#define TD_PRI_PRGI         0x068   /* RO: PRG index of the last page request sent */
#define TD_ATC_HITS         0x070   /* RO: translated requests issued from an ATC hit */
#define TD_ATC_MISSES       0x074   /* RO: Translation Requests sent */
#define TD_ATS_INVALS       0x078   /* RO: Invalidate Requests received */
#define TD_ATS_INV_DELAY_NS 0x07c   /* RW: delay of each Invalidate Completion (virtual ns) */
#define TD_ATC_VALID        0x080   /* RO: ATC entries valid now */
#define TD_STALLS           0x084   /* RO: accesses of the current/last operation the IOMMU held */

#define TD_ID_VALUE         0x44544d56u     /* "VMTD" in little-endian bytes */
#define TD_VERSION_VALUE    0x00010000u
#define TD_MAX_LEN_VALUE    (16u << 20)

#define TD_CAPS_PASID_PATH  (1u << 0)   /* an IOMMU in front routes PASID-tagged DMA */

#define TD_OP_COPY          0   /* SRC -> DST */
#define TD_OP_FILL          1   /* PATTERN -> DST */
#define TD_OP_COMPARE       2   /* SRC vs DST; RESULT = first differing offset */
#define TD_OP_CHECKSUM      3   /* RESULT = FNV-1a 64 of SRC */
#define TD_OP_TRANSLATE     4   /* one ATS Translation Request for SRC; RESULT = data entry */
#define TD_OP_TRANSLATE_RO  5   /* the same with NW (no write) set */
#define TD_OP_MAX           TD_OP_TRANSLATE_RO
#define TD_OP_ATS           (1u << 30)  /* flag: DMA as Translated requests through the ATC */
#define TD_OP_PRI           (1u << 31)  /* flag: a refused access sends a page request */

#define TD_PASID_VALUE_MASK 0x000fffffu
#define TD_PASID_EXEC       (1u << 29)  /* Execute-Requested */
#define TD_PASID_PRIV       (1u << 30)  /* Privileged-Mode-Requested */
#define TD_PASID_VALID      (1u << 31)

#define TD_IRQ_VECTOR_MASK  0x000000ffu
#define TD_IRQ_ENABLE       (1u << 31)

#define TD_CMD_GO           (1u << 0)
#define TD_CMD_RESET        (1u << 1)   /* drop a pending operation, clear status */

#define TD_STATUS_BUSY      (1u << 0)
#define TD_STATUS_DONE      (1u << 1)
#define TD_STATUS_ERROR     (1u << 2)
#define TD_STATUS_MISMATCH  (1u << 3)   /* COMPARE found a difference */
#define TD_STATUS_REJECTED  (1u << 4)   /* a write while BUSY was ignored */
#define TD_STATUS_PRI_WAIT  (1u << 5)   /* BUSY, waiting for a PRG Response */
#define TD_STATUS_STALLED   (1u << 6)   /* BUSY, an access held (stalled) by the IOMMU */

#define TD_COMPARE_EQUAL    UINT64_MAX  /* RESULT of a COMPARE with no difference */

enum td_error {
    TD_ERR_NONE = 0,
    TD_ERR_BAD_LEN,         /* LEN is 0 or above MAX_LEN */
    TD_ERR_BAD_OP,          /* OP unknown */
    TD_ERR_READ_FAULT,      /* a DMA read was refused (IOMMU fault, no memory) */
    TD_ERR_WRITE_FAULT,     /* a DMA write was refused */
    TD_ERR_NO_BUS_MASTER,   /* Bus Master Enable is clear */
    TD_ERR_PASID_DISABLED,  /* PASID (or its EXEC/PRIV) not enabled in config space */
    TD_ERR_NO_PASID_PATH,   /* no IOMMU in front that routes PASID-tagged DMA */
    TD_ERR_BAD_VECTOR,      /* TD_IRQ enabled with a vector >= VIOMMU_TESTDEV_MSIX_VECTORS */
    TD_ERR_ADDR_WRAP,       /* SRC+LEN or DST+LEN passes 2^64 */
    TD_ERR_NO_PRI_PATH,     /* page request needed, no IOMMU in front takes them */
    TD_ERR_PRI_DENIED,      /* PRG Response "Invalid Request" */
    TD_ERR_PRI_FAILURE,     /* PRG Response "Response Failure" (PRI Status.RF), or PRI reset */
    TD_ERR_PRI_LIMIT,       /* page request budget of the operation used up */
    TD_ERR_ATS_DISABLED,    /* ATS operation with ATS Control.Enable clear */
    TD_ERR_NO_ATS_PATH,     /* no IOMMU in front takes ATS */
    TD_ERR_ATS_UR,          /* Translation Completion: Unsupported Request */
    TD_ERR_ATS_CA,          /* Translation Completion: Completer Abort */
    TD_ERR_MMIO_LIMIT,      /* more than TD_MMIO_BUDGET bytes to or from non-RAM in one run */
};

/*
 * Bytes one run of the engine moves to or from targets that are not RAM
 * (a peer's BAR, MMIO): each is a device access in 1/2/4-byte steps under
 * the BQL, and some reshape the memory map (a flash leaving ROM mode), so
 * the budget bounds the work of one main-loop iteration.  The device
 * fuzzer found 16 MiB of DMA into virt's flash exhausting memory.
 */
#define TD_MMIO_BUDGET      (4u << 10)

/* PCI Express extended capabilities, at fixed offsets. */
#define TD_CFG_PCIE_CAP     0x80
#define TD_CFG_ATS          0x100
#define TD_CFG_PASID        0x110
#define TD_CFG_PRI          0x120
#define TD_PRI_CAPACITY     32      /* Outstanding Page Request Capacity */
#define TD_PRI_PAGE_TRIES   4       /* page requests for one page, per operation */
#define TD_ATC_ENTRIES      32      /* Address Translation Cache entries */

#endif /* VIOMMU_TESTDEV_REGS_H */
