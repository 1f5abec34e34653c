/*
 * viommu-smmuv3 IORT hook, for builds without viommu-smmuv3: no SMMU of
 * ours, so virt builds its own IORT.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/viommu/smmuv3-iort.h"

bool viommu_smmuv3_virt_build_iort(GArray *table_data, BIOSLinker *linker,
                                   struct VirtMachineState *vms)
{
    return false;
}
