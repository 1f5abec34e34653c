/*
 * viommu-smmuv3's IORT on the aarch64 "virt" machine (hw/viommu/smmuv3-iort.c;
 * smmuv3-iort-stub.c when the device is not built), called from the one hook
 * line at the top of virt-acpi-build.c's build_iort() (scripts/hooks/virt-acpi.sh).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_SMMUV3_IORT_H
#define HW_VIOMMU_SMMUV3_IORT_H

#include "hw/acpi/bios-linker-loader.h"

struct VirtMachineState;

/*
 * When a viommu-smmuv3 is placed on the machine: appends the whole IORT to
 * table_data (ITS group, one SMMUv3 node per instance, the root complex) and
 * returns true, so the caller builds none of its own; false otherwise.
 */
bool viommu_smmuv3_virt_build_iort(GArray *table_data, BIOSLinker *linker,
                                   struct VirtMachineState *vms);

#endif /* HW_VIOMMU_SMMUV3_IORT_H */
