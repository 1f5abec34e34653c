/*
 * viommu-vtd machine hooks, for builds without viommu-vtd: nothing to build
 * and no device to place.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/viommu/vtd-acpi.h"
#include "hw/viommu/vtd-q35.h"

void viommu_vtd_acpi_build(DeviceState *iommu, GArray *table_offsets,
                           GArray *tables_blob, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id)
{
}

void viommu_vtd_q35_pre_plug(MachineState *ms, DeviceState *dev, Error **errp)
{
}
