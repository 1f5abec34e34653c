/*
 * viommu-vtd: the ACPI DMAR table.  acpi_build() (hw/i386/acpi-build.c)
 * calls this through one hook line; it does nothing unless the machine's
 * IOMMU is a viommu-vtd.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VTD_ACPI_H
#define HW_VIOMMU_VTD_ACPI_H

#include "hw/acpi/bios-linker-loader.h"

void viommu_vtd_acpi_build(DeviceState *iommu, GArray *table_offsets,
                           GArray *tables_blob, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id);

#endif
