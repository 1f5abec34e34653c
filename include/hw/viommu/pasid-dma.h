/*
 * PASID-tagged DMA between qemu-viommu's PCIe devices and its IOMMUs.
 *
 * QEMU 10.0's PCIIOMMUOps hands a device one address space per requester ID;
 * MemTxAttrs has only 8 PASID bits and never reaches IOMMUMemoryRegion's
 * translate().  PASID-tagged requests therefore take a path of their own: an
 * IOMMU registers, next to its PCIIOMMUOps, a hook returning a distinct
 * AddressSpace per (requester, PASID, request attributes), and a device asks
 * for it with viommu_pasid_address_space().  Ordinary DMA keeps using
 * pci_dma_*() unchanged, so upstream IOMMUs and devices are unaffected.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_PASID_DMA_H
#define HW_VIOMMU_PASID_DMA_H

#include "hw/pci/pci.h"

#define VIOMMU_PASID_MAX        ((1u << 20) - 1)

/* Request attributes carried in the PASID TLP prefix. */
#define VIOMMU_PASID_PRIV       (1u << 0)   /* Privileged Mode Requested */
#define VIOMMU_PASID_EXEC       (1u << 1)   /* Execute Requested */

typedef struct ViommuPasidOps {
    /*
     * The address space for requests from (bus, devfn) tagged with pasid and
     * the VIOMMU_PASID_* attrs, or NULL if the IOMMU cannot take them.  Called
     * with the BQL held; the result must stay valid while the IOMMU lives.
     */
    AddressSpace *(*get_address_space)(PCIBus *bus, void *opaque, int devfn,
                                       uint32_t pasid, unsigned attrs);
} ViommuPasidOps;

/* Called by an IOMMU once, next to its pci_setup_iommu(..., iommu_ops, ...). */
void viommu_pasid_register(const PCIIOMMUOps *iommu_ops, const ViommuPasidOps *ops);

/*
 * The address space for dev's DMA with this PASID, or NULL when no IOMMU in
 * front of dev routes PASID-tagged requests (none, an upstream one, bypass,
 * or a conventional PCI bus on the way, which cannot carry TLP prefixes).
 */
AddressSpace *viommu_pasid_address_space(PCIDevice *dev, uint32_t pasid, unsigned attrs);

#endif /* HW_VIOMMU_PASID_DMA_H */
