/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * viommu-testdev-sva: the ioctl interface of the guest kernel driver for
 * viommu-testdev (tests/guest/kdriver/viommu-testdev-sva.c), shared with the
 * guest test program.  Usable from the kernel and from user space.
 *
 * /dev/viommu-sva exists while the driver is bound to a test device (it binds
 * only through driver_override).  A file descriptor holds at most one bond:
 *
 *   VIOMMU_SVA_BIND    bind the calling process's address space to the device
 *                      (iommu_sva_bind_device); returns its PASID
 *   VIOMMU_SVA_DMA     run one operation of the device's DMA engine with that
 *                      PASID on user virtual addresses of the bound process;
 *                      waits for it to complete
 *   VIOMMU_SVA_UNBIND  end the bond (closing the descriptor does too)
 */
#ifndef VIOMMU_TESTDEV_SVA_H
#define VIOMMU_TESTDEV_SVA_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VIOMMU_SVA_DEVNAME      "viommu-sva"
#define VIOMMU_SVA_DRVNAME      "viommu-testdev-sva"   /* for driver_override */

struct viommu_sva_dma {
	/* in */
	__u32 op;           /* TD_OP_* of testdev-regs.h, TD_OP_PRI / TD_OP_ATS allowed */
	__u32 len;          /* bytes, 1..TD_MAX_LEN */
	__u64 src;          /* user virtual address (copy, compare, checksum) */
	__u64 dst;          /* user virtual address (copy, fill, compare) */
	__u32 pattern;      /* fill pattern */
	__u32 timeout_ms;   /* 0: 5000 */
	/* out */
	__u32 error;        /* TD_ERROR: TD_ERR_* */
	__u32 status;       /* TD_STATUS at completion */
	__u64 result;       /* TD_RESULT: checksum or first differing offset */
	__u64 fault_addr;   /* TD_FAULT_ADDR */
	__u32 pri_requests; /* TD_PRI_REQUESTS */
	__u32 pasid;        /* the PASID the operation was tagged with */
	__u32 atc_hits;     /* TD_ATC_HITS, TD_ATC_MISSES, TD_ATS_INVALS after it */
	__u32 atc_misses;
	__u32 ats_invals;
	__u32 stalls;       /* TD_STALLS: accesses the IOMMU held (stall) */
};

#define VIOMMU_SVA_IOC_MAGIC    0xb7
#define VIOMMU_SVA_BIND         _IOR(VIOMMU_SVA_IOC_MAGIC, 0, __u32)
#define VIOMMU_SVA_UNBIND       _IO(VIOMMU_SVA_IOC_MAGIC, 1)
#define VIOMMU_SVA_DMA          _IOWR(VIOMMU_SVA_IOC_MAGIC, 2, struct viommu_sva_dma)

#endif /* VIOMMU_TESTDEV_SVA_H */
