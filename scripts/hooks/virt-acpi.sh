# ACPI hook for viommu-smmuv3 on virt (sourced by scripts/graft.sh, which
# provides insert_after, insert_in_func, $Q and $TAG): the first statement of
# build_iort() lets our IORT builder (hw/viommu/smmuv3-iort.c) emit the whole
# table when one of our SMMUs is placed on the machine; otherwise it returns
# false and virt builds its own.  Plus the header for it.
insert_after "$Q/hw/arm/virt-acpi-build.c" '^#include "hw/acpi/viot.h"' \
    "#include \"hw/viommu/smmuv3-iort.h\" /* $TAG */"
insert_in_func "$Q/hw/arm/virt-acpi-build.c" '^build_iort\(GArray \*table_data' '^\{$' \
    "    if (viommu_smmuv3_virt_build_iort(table_data, linker, vms)) { return; } /* $TAG */"
