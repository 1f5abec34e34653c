/*
 * PASID-tagged DMA routing between our devices and our IOMMUs
 * (see include/hw/viommu/pasid-dma.h for why it exists).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/viommu/pasid-dma.h"

/* A handful of IOMMU models at most; registration happens at realize. */
#define VIOMMU_PASID_MAX_PROVIDERS 8

static struct {
    const PCIIOMMUOps *iommu_ops;
    const ViommuPasidOps *ops;
} providers[VIOMMU_PASID_MAX_PROVIDERS];

void viommu_pasid_register(const PCIIOMMUOps *iommu_ops, const ViommuPasidOps *ops)
{
    for (int i = 0; i < VIOMMU_PASID_MAX_PROVIDERS; i++) {
        if (providers[i].iommu_ops == iommu_ops || !providers[i].iommu_ops) {
            providers[i].iommu_ops = iommu_ops;
            providers[i].ops = ops;
            return;
        }
    }
    g_assert_not_reached();     /* a build-time count of our own IOMMU models */
}

AddressSpace *viommu_pasid_address_space(PCIDevice *dev, uint32_t pasid, unsigned attrs)
{
    PCIBus *bus = pci_get_bus(dev);
    PCIBus *iommu_bus = bus;

    if (pasid > VIOMMU_PASID_MAX || pci_bus_bypass_iommu(bus)) {
        return NULL;
    }
    /* Walk up to the bus an IOMMU sits on; PASID prefixes need PCIe all the way. */
    while (!iommu_bus->iommu_ops && iommu_bus->parent_dev) {
        if (!pci_bus_is_express(iommu_bus)) {
            return NULL;
        }
        iommu_bus = pci_get_bus(iommu_bus->parent_dev);
    }
    if (!iommu_bus->iommu_ops) {
        return NULL;
    }
    for (int i = 0; i < VIOMMU_PASID_MAX_PROVIDERS && providers[i].iommu_ops; i++) {
        if (providers[i].iommu_ops == iommu_bus->iommu_ops) {
            return providers[i].ops->get_address_space(bus, iommu_bus->iommu_opaque,
                                                       dev->devfn, pasid, attrs);
        }
    }
    return NULL;
}
