/*
 * viommu-smmuv3 on the aarch64 "virt" machine: the instances placed by
 * hw/viommu/smmuv3-virt.c (one per PCIe root bus they serve) and the RID
 * ranges of the machine's PCIe host bridges with the instance translating
 * each, shared by the device-tree code there and the IORT builder
 * (hw/viommu/smmuv3-iort.c).  See docs/smmuv3.rst, "Several instances".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_SMMUV3_VIRT_H
#define HW_VIOMMU_SMMUV3_VIRT_H

#include "hw/viommu/smmuv3.h"

/*
 * At most this many instances: the one on the main root bus sits where virt
 * puts its own SMMU (VIRT_SMMU, SPIs 74..77); the others take 128 KiB frames
 * from VISMMU_VIRT_EXTRA_BASE and four SPIs each from VISMMU_VIRT_EXTRA_SPI,
 * which virt leaves free with a GICv3 (the GICv2m range 48..111 exists only
 * with a GICv2).
 */
#define VISMMU_VIRT_MAX_INSTANCES   9
#define VISMMU_VIRT_EXTRA_BASE      0x090c0000ull
#define VISMMU_VIRT_EXTRA_SPI       78

typedef struct VismmuVirtInstance {
    const ViommuSmmuv3State *s;
    hwaddr base;
    int spi;            /* first of its VIOMMU_SMMUV3_NUM_IRQS SPIs (GSIV - 32) */
    PCIBus *bus;        /* the root bus it translates for */
    uint32_t phandle;   /* its device-tree node, once written */
} VismmuVirtInstance;

/*
 * How many instances are placed, and the one in a slot (slot 0 is the main
 * root bus's, the others in the order they were created): NULL if the slot
 * is free or out of range.
 */
unsigned vismmu_virt_count(void);
const VismmuVirtInstance *vismmu_virt_instance(unsigned slot);

/*
 * One PCIe host bridge's RID range (bus numbers first..last, last = the next
 * host bridge's first bus - 1, or 255) and the slot of the instance that
 * translates its requests, or -1 when none does (bypass_iommu, or no
 * viommu-smmuv3 on its root bus nor on a bus above it).
 */
typedef struct VismmuVirtRange {
    uint8_t first_bus, last_bus;
    int slot;
} VismmuVirtRange;

/* Fills r[] (sorted by bus number), returns how many; at most max. */
unsigned vismmu_virt_ranges(VismmuVirtRange *r, unsigned max);

#endif /* HW_VIOMMU_SMMUV3_VIRT_H */
