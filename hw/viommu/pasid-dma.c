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

/*
 * The provider of the IOMMU in front of dev and the bus it sits on, or NULL
 * when none of ours routes TLP-prefixed requests and messages from dev.
 */
static const ViommuPasidOps *pasid_provider(PCIDevice *dev, PCIBus **iommu_bus)
{
    PCIBus *bus = pci_get_bus(dev);
    PCIBus *b = bus;

    if (pci_bus_bypass_iommu(bus)) {
        return NULL;
    }
    /* Walk up to the bus an IOMMU sits on; PASID prefixes need PCIe all the way. */
    while (!b->iommu_ops && b->parent_dev) {
        if (!pci_bus_is_express(b)) {
            return NULL;
        }
        b = pci_get_bus(b->parent_dev);
    }
    if (!b->iommu_ops) {
        return NULL;
    }
    for (int i = 0; i < VIOMMU_PASID_MAX_PROVIDERS && providers[i].iommu_ops; i++) {
        if (providers[i].iommu_ops == b->iommu_ops) {
            *iommu_bus = b;
            return providers[i].ops;
        }
    }
    return NULL;
}

AddressSpace *viommu_pasid_address_space(PCIDevice *dev, uint32_t pasid, unsigned attrs)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops;

    if (pasid > VIOMMU_PASID_MAX) {
        return NULL;
    }
    ops = pasid_provider(dev, &iommu_bus);
    if (!ops) {
        return NULL;
    }
    return ops->get_address_space(pci_get_bus(dev), iommu_bus->iommu_opaque,
                                  dev->devfn, pasid, attrs);
}

void viommu_pasid_address_space_put(PCIDevice *dev, AddressSpace *as)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    /* The provider cannot change while the device holds the space (BQL, no hotplug of IOMMUs). */
    assert(ops);
    ops->put_address_space(pci_get_bus(dev), iommu_bus->iommu_opaque, as);
}

bool viommu_pri_attach(PCIDevice *dev, ViommuPrgResponseFn *respond, void *opaque)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (!ops || !ops->pri_attach || !respond) {
        return false;
    }
    return ops->pri_attach(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn,
                           respond, opaque);
}

void viommu_pri_detach(PCIDevice *dev)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    /* The route found at attach time: bus topology and bypass are fixed. */
    if (ops && ops->pri_detach) {
        ops->pri_detach(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn);
    }
}

int viommu_page_request(PCIDevice *dev, const ViommuPageRequest *req)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops;

    if (req->prgi > 511 || (req->pasid_valid && req->pasid > VIOMMU_PASID_MAX) ||
        (!req->pasid_valid && (req->exec || req->priv))) {
        return -EINVAL;
    }
    ops = pasid_provider(dev, &iommu_bus);
    if (!ops || !ops->page_request) {
        return -ENODEV;
    }
    return ops->page_request(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn, req);
}
