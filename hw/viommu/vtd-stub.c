/*
 * viommu-vtd DMAR hook, for builds without viommu-vtd: nothing to build.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/viommu/vtd-acpi.h"

void viommu_vtd_acpi_build(DeviceState *iommu, GArray *table_offsets,
                           GArray *tables_blob, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id)
{
}
