/*
 * viommu-smmuv3 on the aarch64 "virt" machine: the placement function the
 * device asks at realize (see ViommuSmmuv3Placement) and what the machine
 * needs to describe the instances to the guest.
 *
 * One instance per PCIe root bus (primary-bus, default the main root bus
 * pcie.0; a pxb-pcie's bus for the others).  The one on the main root bus
 * takes the registers and GIC SPIs virt would give its own SMMU (free when
 * iommu=smmuv3 is not given); the others take the frames and SPIs of
 * include/hw/viommu/smmuv3-virt.h.  From a machine-init-done notifier (which
 * runs before virt_machine_done() loads the DTB) each gets its device-tree
 * node and the PCIe host bridge an iommu-map sending each host bridge's RID
 * range to its instance; the IORT (ACPI) is smmuv3-iort.c's, from the same
 * instances and ranges.  The dependency runs one way: this file uses the
 * device's public header, the device knows nothing of virt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qapi/error.h"
#include "hw/arm/virt.h"
#include "hw/arm/fdt.h"
#include "hw/boards.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_host.h"
#include "system/device_tree.h"
#include "system/system.h"
#include "hw/viommu/smmuv3-virt.h"

static struct {
    Notifier done;
    bool notifier_added;
    VismmuVirtInstance inst[VISMMU_VIRT_MAX_INSTANCES];
} vismmu_virt;

unsigned vismmu_virt_count(void)
{
    unsigned n = 0;

    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        n += vismmu_virt.inst[i].s != NULL;
    }
    return n;
}

const VismmuVirtInstance *vismmu_virt_instance(unsigned slot)
{
    if (slot >= VISMMU_VIRT_MAX_INSTANCES || !vismmu_virt.inst[slot].s) {
        return NULL;
    }
    return &vismmu_virt.inst[slot];
}

static int vismmu_virt_slot_of_bus(const PCIBus *bus)
{
    for (int i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        if (vismmu_virt.inst[i].s && vismmu_virt.inst[i].bus == bus) {
            return i;
        }
    }
    return -1;
}

/*
 * The instance translating requests from a root bus: as the PCI core finds
 * a device's IOMMU (pci_device_get_iommu_bus_devfn()), the first bus with
 * one on the way up from it, none for a host bridge with bypass_iommu.
 */
static int vismmu_virt_slot_for_root(PCIBus *bus)
{
    if (pci_bus_bypass_iommu(bus)) {
        return -1;
    }
    /* Bounded: PCI buses form a tree; 256 levels is more than bus numbers allow. */
    for (int depth = 0; bus && depth < 256; depth++) {
        int slot = vismmu_virt_slot_of_bus(bus);

        if (slot >= 0) {
            return slot;
        }
        if (bus->iommu_ops || !bus->parent_dev) {
            return -1;      /* someone else's IOMMU, or the top */
        }
        bus = pci_get_bus(bus->parent_dev);
    }
    return -1;
}

typedef struct {
    PCIBus *bus[256];
    unsigned n;
} VismmuRootBuses;

static int vismmu_virt_collect_root(Object *obj, void *opaque)
{
    VismmuRootBuses *rb = opaque;
    PCIHostState *h = (PCIHostState *)object_dynamic_cast(obj, TYPE_PCI_HOST_BRIDGE);

    if (h && h->bus && rb->n < ARRAY_SIZE(rb->bus)) {
        rb->bus[rb->n++] = h->bus;
    }
    return 0;
}

static int vismmu_virt_bus_cmp(const void *a, const void *b)
{
    return pci_bus_num(*(PCIBus *const *)a) - pci_bus_num(*(PCIBus *const *)b);
}

/*
 * Each host bridge owns the bus numbers from its root bus's up to the next
 * host bridge's (as firmware numbers them: a pxb-pcie's bus_nr starts its
 * range), so the ranges do not depend on the guest's enumeration.
 */
unsigned vismmu_virt_ranges(VismmuVirtRange *r, unsigned max)
{
    g_autofree VismmuRootBuses *rb = g_new0(VismmuRootBuses, 1);
    unsigned n = 0;

    object_child_foreach_recursive(object_get_root(), vismmu_virt_collect_root, rb);
    qsort(rb->bus, rb->n, sizeof(rb->bus[0]), vismmu_virt_bus_cmp);
    for (unsigned i = 0; i < rb->n && n < max; i++) {
        int first = pci_bus_num(rb->bus[i]);

        if (i + 1 < rb->n && pci_bus_num(rb->bus[i + 1]) == first) {
            continue;       /* two roots claiming one number: the later one */
        }
        if (n && r[n - 1].first_bus == first) {
            continue;
        }
        r[n].first_bus = first;
        r[n].last_bus = i + 1 < rb->n ? pci_bus_num(rb->bus[i + 1]) - 1 : 255;
        r[n].slot = vismmu_virt_slot_for_root(rb->bus[i]);
        n++;
    }
    return n;
}

static void vismmu_virt_fdt_node(void *fdt, VirtMachineState *vms, VismmuVirtInstance *in)
{
    const char compat[] = "arm,smmu-v3";
    const char names[] = "eventq\0priq\0cmdq-sync\0gerror";
    g_autofree char *node = g_strdup_printf("/smmuv3@%" PRIx64, in->base);
    int irq = in->spi;

    in->phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, in->base, 2, VIOMMU_SMMUV3_MMIO_SIZE);
    qemu_fdt_setprop_cells(fdt, node, "interrupts",
                           GIC_FDT_IRQ_TYPE_SPI, irq, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
                           GIC_FDT_IRQ_TYPE_SPI, irq + 1, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
                           GIC_FDT_IRQ_TYPE_SPI, irq + 2, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
                           GIC_FDT_IRQ_TYPE_SPI, irq + 3, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
    qemu_fdt_setprop(fdt, node, "interrupt-names", names, sizeof(names));
    qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    qemu_fdt_setprop_cell(fdt, node, "#iommu-cells", 1);
    qemu_fdt_setprop_cell(fdt, node, "phandle", in->phandle);
    if (in->s->msi && vms->msi_controller == VIRT_MSI_CTRL_ITS && vms->msi_phandle) {
        /* The SMMU's own queue MSIs reach the ITS with DeviceID msi-devid. */
        qemu_fdt_setprop_cells(fdt, node, "msi-parent", vms->msi_phandle, in->s->msi_devid);
    }
}

/*
 * A device on the main root bus that says it tolerates stalls (its
 * "dma-can-stall" property) gets a node of its own under the PCIe host
 * bridge node with that property (PCI bus binding: reg's phys.hi holds the
 * device and function; Linux's arm-smmu-v3 reads "dma-can-stall" from the
 * device's node), when the SMMU in front stalls only where asked
 * (STALL_MODEL 0b00).  Devices behind bridges have no node: they terminate.
 */
static void vismmu_virt_fdt_stall_dev(PCIBus *bus, PCIDevice *d, void *opaque)
{
    void *fdt = opaque;
    VirtMachineState *vms = VIRT_MACHINE(qdev_get_machine());
    g_autofree char *node = NULL;

    if (!object_property_find(OBJECT(d), "dma-can-stall") ||
        !object_property_get_bool(OBJECT(d), "dma-can-stall", NULL)) {
        return;
    }
    node = g_strdup_printf("%s/dev@%x,%x", vms->pciehb_nodename, PCI_SLOT(d->devfn),
                           PCI_FUNC(d->devfn));
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop_cells(fdt, node, "reg", d->devfn << 8, 0, 0, 0, 0);
    qemu_fdt_setprop(fdt, node, "dma-can-stall", NULL, 0);
}

static void vismmu_virt_fdt(Notifier *n, void *data)
{
    VirtMachineState *vms = VIRT_MACHINE(qdev_get_machine());
    void *fdt = MACHINE(vms)->fdt;
    VismmuVirtRange r[256];     /* one per host bridge, at most one per bus number */
    uint32_t map[ARRAY_SIZE(r) * 4];
    unsigned nr, nmap = 0;

    if (!fdt) {
        return;
    }
    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        if (vismmu_virt.inst[i].s) {
            vismmu_virt_fdt_node(fdt, vms, &vismmu_virt.inst[i]);
        }
    }
    if (!vms->pciehb_nodename) {
        return;
    }
    /*
     * virt's one PCIe host bridge node spans every bus; each host bridge's
     * RID range goes to its instance (PCI iommu binding: rid-base, iommu,
     * iommu-base, length); ranges nobody translates are left out.
     */
    nr = vismmu_virt_ranges(r, ARRAY_SIZE(r));
    for (unsigned i = 0; i < nr; i++) {
        uint32_t rid = r[i].first_bus << 8;

        if (r[i].slot < 0) {
            continue;
        }
        map[nmap++] = cpu_to_be32(rid);
        map[nmap++] = cpu_to_be32(vismmu_virt.inst[r[i].slot].phandle);
        map[nmap++] = cpu_to_be32(rid);
        map[nmap++] = cpu_to_be32((r[i].last_bus - r[i].first_bus + 1) << 8);
    }
    if (nmap) {
        qemu_fdt_setprop(fdt, vms->pciehb_nodename, "iommu-map", map, nmap * sizeof(map[0]));
    }
    /*
     * The root complex forwards ATS (Translation Requests, Invalidate
     * messages) between its endpoints and the SMMUs (pci-host-ecam binding:
     * "ats-supported"), when an SMMU behind it has IDR0.ATS; each SMMU's
     * IDR0.ATS still decides for its own streams.
     */
    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        if (vismmu_virt.inst[i].s && vismmu_virt.inst[i].s->caps.ats) {
            qemu_fdt_setprop(fdt, vms->pciehb_nodename, "ats-supported", NULL, 0);
            break;
        }
    }
    for (unsigned i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        const ViommuSmmuv3State *smmu = vismmu_virt.inst[i].s;

        if (smmu && smmu->caps.stall_model == VI_SMMU_STALL_MODEL_BOTH &&
            smmu->bus && pci_bus_is_root(smmu->bus) && !pci_bus_num(smmu->bus)) {
            pci_for_each_device_under_bus(smmu->bus, vismmu_virt_fdt_stall_dev, fdt);
        }
    }
}

static bool vismmu_virt_place(const ViommuSmmuv3State *s, ViommuSmmuv3Placement *p,
                              Error **errp)
{
    Object *m = qdev_get_machine();
    VirtMachineState *vms = (VirtMachineState *)object_dynamic_cast(m, TYPE_VIRT_MACHINE);
    PCIBus *bus;
    int slot = -1;

    if (!vms) {
        error_setg(errp, "viommu-smmuv3 needs the 'virt' machine (-M virt,gic-version=3)");
        return false;
    }
    if (phase_check(PHASE_MACHINE_READY)) {
        error_setg(errp, "viommu-smmuv3 cannot be hot-plugged: give it on the command line");
        return false;
    }
    if (vms->iommu != VIRT_IOMMU_NONE) {
        error_setg(errp, "viommu-smmuv3 conflicts with -M virt,iommu=... (another IOMMU "
                   "already sits on the PCIe root bus): drop one of them");
        return false;
    }
    if (vms->gic_version != VIRT_GIC_VERSION_3 && vms->gic_version != VIRT_GIC_VERSION_4) {
        error_setg(errp, "viommu-smmuv3 needs a GICv3 with ITS (-M virt,gic-version=3)");
        return false;
    }
    if (!vms->bus) {
        error_setg(errp, "viommu-smmuv3: the virt machine has no PCIe root bus");
        return false;
    }
    bus = s->primary_bus ? s->primary_bus : vms->bus;
    if (!pci_bus_is_root(bus) || !pci_bus_is_express(bus)) {
        error_setg(errp, "viommu-smmuv3: primary-bus must be a PCIe root bus (pcie.0 or a "
                   "pxb-pcie's bus), not '%s'", BUS(bus)->name);
        return false;
    }
    if (bus->iommu_ops) {
        error_setg(errp, "viommu-smmuv3: the PCIe root bus '%s' already has an IOMMU "
                   "(one viommu-smmuv3 per root bus; virtio-iommu counts too)",
                   BUS(bus)->name);
        return false;
    }
    if (bus == vms->bus) {
        slot = 0;
    } else {
        for (int i = 1; i < VISMMU_VIRT_MAX_INSTANCES && slot < 0; i++) {
            slot = vismmu_virt.inst[i].s ? -1 : i;
        }
        if (slot < 0) {
            error_setg(errp, "viommu-smmuv3: at most %d instances besides pcie.0's",
                       VISMMU_VIRT_MAX_INSTANCES - 1);
            return false;
        }
    }
    for (int i = 0; i < VISMMU_VIRT_MAX_INSTANCES; i++) {
        const ViommuSmmuv3State *o = vismmu_virt.inst[i].s;

        if (o && o->msi && s->msi && o->msi_devid == s->msi_devid) {
            error_setg(errp, "viommu-smmuv3: msi-devid 0x%x is another viommu-smmuv3's: "
                       "give each instance its own ITS DeviceID (e.g. msi-devid=0x%x)",
                       s->msi_devid, (s->msi_devid + 1) & 0xffff);
            return false;
        }
    }
    if (slot == 0) {
        p->base = vms->memmap[VIRT_SMMU].base;
        vismmu_virt.inst[0].spi = vms->irqmap[VIRT_SMMU];
    } else {
        p->base = VISMMU_VIRT_EXTRA_BASE + (slot - 1) * (hwaddr)VIOMMU_SMMUV3_MMIO_SIZE;
        vismmu_virt.inst[slot].spi = VISMMU_VIRT_EXTRA_SPI + (slot - 1) * VIOMMU_SMMUV3_NUM_IRQS;
    }
    for (int i = 0; i < VIOMMU_SMMUV3_NUM_IRQS; i++) {
        p->irq[i] = qdev_get_gpio_in(vms->gic, vismmu_virt.inst[slot].spi + i);
    }
    p->bus = bus;
    vismmu_virt.inst[slot].s = s;
    vismmu_virt.inst[slot].base = p->base;
    vismmu_virt.inst[slot].bus = bus;
    if (!vismmu_virt.notifier_added) {
        vismmu_virt.done.notify = vismmu_virt_fdt;
        qemu_add_machine_init_done_notifier(&vismmu_virt.done);
        vismmu_virt.notifier_added = true;
    }
    return true;
}

static void vismmu_virt_register(void)
{
    viommu_smmuv3_set_placement_fn(vismmu_virt_place);
}

type_init(vismmu_virt_register)
