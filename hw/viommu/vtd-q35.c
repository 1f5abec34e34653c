/*
 * viommu-vtd on q35 (see vtd-q35.h): the machine decides where the unit
 * sits; the device only takes what it is given (ViommuVtdPlacement) and
 * never looks at the machine.
 *
 *   before realize:  its registers at q35's remapping unit address (the
 *                    DMAR table's, VIVTD_MMIO_BASE), the PCI root bus it
 *                    translates for and the IOAPIC's source-id (q35's
 *                    pseudo device ff:00.0);
 *   machine done:    the IOAPIC's interrupt requests sent through its
 *                    address space (like smmuv3-virt.c's device-tree
 *                    fix-up, a machine-init-done notifier of the glue).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86.h"
#include "hw/pci-host/q35.h"
#include "system/system.h"
#include "hw/viommu/vtd.h"
#include "hw/viommu/vtd-q35.h"

static struct {
    Notifier done;
    ViommuVtdState *vtd;
} vivtd_q35;

static void vivtd_q35_machine_done(Notifier *n, void *data)
{
    X86MachineState *x86ms = X86_MACHINE(qdev_get_machine());

    x86ms->ioapic_as = viommu_vtd_ioapic_as(vivtd_q35.vtd);
}

void viommu_vtd_q35_pre_plug(MachineState *ms, DeviceState *dev, Error **errp)
{
    PCMachineState *pcms = PC_MACHINE(object_dynamic_cast(OBJECT(ms), TYPE_PC_MACHINE));
    ViommuVtdPlacement p;

    if (!object_dynamic_cast(OBJECT(dev), TYPE_VIOMMU_VTD)) {
        return;
    }
    if (!pcms || !pcms->pcibus) {
        error_setg(errp, "viommu-vtd needs a PC machine with a PCI bus (q35)");
        return;
    }
    if (vivtd_q35.vtd) {
        error_setg(errp, "only one viommu-vtd per machine");
        return;
    }
    p = (ViommuVtdPlacement) {
        .base = VIVTD_MMIO_BASE,
        .bus = pcms->pcibus,
        .ioapic_sid = PCI_BUILD_BDF(Q35_PSEUDO_BUS_PLATFORM, Q35_PSEUDO_DEVFN_IOAPIC),
    };
    viommu_vtd_set_placement(VIOMMU_VTD(dev), &p);
    vivtd_q35.vtd = VIOMMU_VTD(dev);
    vivtd_q35.done.notify = vivtd_q35_machine_done;
    qemu_add_machine_init_done_notifier(&vivtd_q35.done);
}
