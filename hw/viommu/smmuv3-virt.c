/*
 * viommu-smmuv3 on the aarch64 "virt" machine, without upstream hooks: the
 * placement function the device asks at realize (see ViommuSmmuv3Placement):
 * the registers where virt would put its own SMMU (free when iommu=smmuv3 is
 * not given), the same GIC SPIs, the PCIe root bus; and, from a
 * machine-init-done notifier (which runs before virt_machine_done() loads
 * the DTB), the SMMU's device-tree node and the iommu-map of the PCIe host
 * bridge.  The dependency runs one way: this file uses the device's public
 * header, the device knows nothing of virt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/arm/virt.h"
#include "hw/arm/fdt.h"
#include "hw/boards.h"
#include "hw/pci/pci_bus.h"
#include "system/device_tree.h"
#include "system/system.h"
#include "hw/viommu/smmuv3.h"

static struct {
    Notifier done;
    const ViommuSmmuv3State *smmu;
} vismmu_virt;

static void vismmu_virt_fdt(Notifier *n, void *data)
{
    const ViommuSmmuv3State *s = vismmu_virt.smmu;
    VirtMachineState *vms = VIRT_MACHINE(qdev_get_machine());
    MachineState *ms = MACHINE(vms);
    void *fdt = ms->fdt;
    hwaddr base = vms->memmap[VIRT_SMMU].base;
    int irq = vms->irqmap[VIRT_SMMU];
    const char compat[] = "arm,smmu-v3";
    const char names[] = "eventq\0priq\0cmdq-sync\0gerror";
    g_autofree char *node = NULL;
    uint32_t phandle;

    if (!fdt) {
        return;
    }
    node = g_strdup_printf("/smmuv3@%" PRIx64, base);
    phandle = qemu_fdt_alloc_phandle(fdt);
    qemu_fdt_add_subnode(fdt, node);
    qemu_fdt_setprop(fdt, node, "compatible", compat, sizeof(compat));
    qemu_fdt_setprop_sized_cells(fdt, node, "reg", 2, base, 2, VIOMMU_SMMUV3_MMIO_SIZE);
    qemu_fdt_setprop_cells(fdt, node, "interrupts",
                           GIC_FDT_IRQ_TYPE_SPI, irq, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
                           GIC_FDT_IRQ_TYPE_SPI, irq + 1, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
                           GIC_FDT_IRQ_TYPE_SPI, irq + 2, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI,
                           GIC_FDT_IRQ_TYPE_SPI, irq + 3, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI);
    qemu_fdt_setprop(fdt, node, "interrupt-names", names, sizeof(names));
    qemu_fdt_setprop(fdt, node, "dma-coherent", NULL, 0);
    qemu_fdt_setprop_cell(fdt, node, "#iommu-cells", 1);
    qemu_fdt_setprop_cell(fdt, node, "phandle", phandle);
    if (s->msi && vms->msi_controller == VIRT_MSI_CTRL_ITS && vms->msi_phandle) {
        /* The SMMU's own queue MSIs reach the ITS with DeviceID msi-devid. */
        qemu_fdt_setprop_cells(fdt, node, "msi-parent", vms->msi_phandle, s->msi_devid);
    }
    if (vms->pciehb_nodename) {
        qemu_fdt_setprop_cells(fdt, vms->pciehb_nodename, "iommu-map",
                               0x0, phandle, 0x0, 0x10000);
    }
}

static bool vismmu_virt_place(const ViommuSmmuv3State *s, ViommuSmmuv3Placement *p,
                              Error **errp)
{
    Object *m = qdev_get_machine();
    VirtMachineState *vms = (VirtMachineState *)object_dynamic_cast(m, TYPE_VIRT_MACHINE);

    if (!vms) {
        error_setg(errp, "viommu-smmuv3 needs the 'virt' machine (-M virt,gic-version=3)");
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
    if (vms->bus->iommu_ops || vismmu_virt.smmu) {
        error_setg(errp, "viommu-smmuv3: the PCIe root bus already has an IOMMU "
                   "(only one viommu-smmuv3 or virtio-iommu can be used)");
        return false;
    }
    p->base = vms->memmap[VIRT_SMMU].base;
    for (int i = 0; i < VIOMMU_SMMUV3_NUM_IRQS; i++) {
        p->irq[i] = qdev_get_gpio_in(vms->gic, vms->irqmap[VIRT_SMMU] + i);
    }
    p->bus = vms->bus;
    vismmu_virt.smmu = s;
    vismmu_virt.done.notify = vismmu_virt_fdt;
    qemu_add_machine_init_done_notifier(&vismmu_virt.done);
    return true;
}

static void vismmu_virt_register(void)
{
    viommu_smmuv3_set_placement_fn(vismmu_virt_place);
}

type_init(vismmu_virt_register)
