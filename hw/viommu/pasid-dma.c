/*
 * PASID-tagged DMA routing between our devices and our IOMMUs
 * (see include/hw/viommu/pasid-dma.h for why it exists).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/host-utils.h"
#include "qemu/main-loop.h"
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

/* ------------------------------------------------------------------------
 * ATS (PCIe 6.0 chapter 10): the device side's entry points
 */

int viommu_ats_translate(PCIDevice *dev, const ViommuAtsRequest *req, ViommuAtsCompletion *cpl)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops;

    if ((req->pasid_valid && req->pasid > VIOMMU_PASID_MAX) ||
        (!req->pasid_valid && (req->exec || req->priv))) {
        return -EINVAL;
    }
    ops = pasid_provider(dev, &iommu_bus);
    if (!ops || !ops->ats_translate) {
        return -ENODEV;
    }
    *cpl = (ViommuAtsCompletion) { .status = VIOMMU_ATS_UR };
    return ops->ats_translate(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn, req, cpl);
}

AddressSpace *viommu_ats_translated(PCIDevice *dev, uint64_t addr, bool write)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (!ops || !ops->ats_translated) {
        return NULL;
    }
    return ops->ats_translated(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn, addr,
                               write);
}

bool viommu_ats_attach(PCIDevice *dev, ViommuAtsInvalidateFn *fn, void *opaque)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (!ops || !ops->ats_attach || !fn) {
        return false;
    }
    return ops->ats_attach(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn, fn, opaque);
}

void viommu_ats_detach(PCIDevice *dev)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (ops && ops->ats_detach) {
        ops->ats_detach(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn);
    }
}

void viommu_ats_invalidate_complete(PCIDevice *dev, uint32_t itag_vector)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (ops && ops->ats_complete) {
        ops->ats_complete(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn, itag_vector);
    }
}

/* ------------------------------------------------------------------------
 * Stalls: the device side's entry points
 */

bool viommu_stall_attach(PCIDevice *dev, ViommuStallResumeFn *resume, void *opaque)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (!ops || !ops->stall_attach || !resume) {
        return false;
    }
    return ops->stall_attach(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn, resume,
                             opaque);
}

void viommu_stall_detach(PCIDevice *dev)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    if (ops && ops->stall_detach) {
        ops->stall_detach(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn);
    }
}

bool viommu_stall_held(PCIDevice *dev)
{
    PCIBus *iommu_bus;
    const ViommuPasidOps *ops = pasid_provider(dev, &iommu_bus);

    return ops && ops->stall_held &&
           ops->stall_held(pci_get_bus(dev), iommu_bus->iommu_opaque, dev->devfn);
}

/* ------------------------------------------------------------------------
 * ATS: the IOMMU side's bookkeeping of Invalidate Requests (BQL held)
 */

void viommu_ats_host_init(ViommuAtsHost *h, QEMUBH *resume)
{
    QLIST_INIT(&h->ports);
    h->pending = 0;
    h->resume = resume;
}

void viommu_ats_port_attach(ViommuAtsHost *h, ViommuAtsPort *p,
                            ViommuAtsInvalidateFn *fn, void *opaque)
{
    if (!p->fn) {
        QLIST_INSERT_HEAD(&h->ports, p, next);
        p->itags = 0;
    }
    p->fn = fn;
    p->opaque = opaque;
}

void viommu_ats_port_detach(ViommuAtsHost *h, ViommuAtsPort *p)
{
    if (!p->fn) {
        return;
    }
    QLIST_REMOVE(p, next);
    /* What the function never answered is not waited for any more. */
    h->pending -= ctpop32(p->itags);
    p->itags = 0;
    p->fn = NULL;
    p->opaque = NULL;
    qemu_bh_schedule(h->resume);
}

void viommu_ats_host_reset(ViommuAtsHost *h)
{
    ViommuAtsPort *p;

    QLIST_FOREACH(p, &h->ports, next) {
        p->itags = 0;
    }
    h->pending = 0;
}

bool viommu_ats_port_can_send(const ViommuAtsPort *p)
{
    return p->itags != UINT32_MAX;
}

void viommu_ats_port_send(ViommuAtsHost *h, ViommuAtsPort *p, ViommuAtsInvalidate *req)
{
    unsigned tag = ctz32(~p->itags);

    assert(tag < VIOMMU_ATS_ITAGS);     /* the caller checked viommu_ats_port_can_send() */
    req->itag = tag;
    p->itags |= 1u << tag;
    h->pending++;
    p->fn(p->opaque, req);
}

void viommu_ats_port_complete(ViommuAtsHost *h, ViommuAtsPort *p, uint32_t itag_vector)
{
    uint32_t done = p->itags & itag_vector;

    /* ITags not outstanding are ignored (a confused or late completion). */
    if (!done) {
        return;
    }
    p->itags &= ~done;
    h->pending -= ctpop32(done);
    qemu_bh_schedule(h->resume);
}
