# Machine hooks for viommu-vtd on q35 (sourced by scripts/graft.sh, which
# provides insert_after, $Q and $TAG).  One line each:
#  - allow -device viommu-vtd as a dynamic sysbus device on q35;
#  - place it: pc.c's pre-plug handler of IOMMU devices hands a viommu-vtd its
#    placement (register address, PCI bus, IOAPIC source-id) and, when the
#    machine is done, routes the IOAPIC through it (hw/viommu/vtd-q35.c; the
#    function does nothing for other devices), plus the header for it;
#  - build its DMAR table from acpi_build() (the function does nothing unless
#    the machine's IOMMU is a viommu-vtd), plus the header for it.
insert_after "$Q/hw/i386/pc_q35.c" \
    "machine_class_allow_dynamic_sysbus_dev\(m, TYPE_INTEL_IOMMU_DEVICE\);" \
    "    machine_class_allow_dynamic_sysbus_dev(m, \"viommu-vtd\"); /* $TAG */"
insert_after "$Q/hw/i386/pc.c" '^#include "hw/i386/intel_iommu.h"' \
    "#include \"hw/viommu/vtd-q35.h\" /* $TAG */"
insert_after "$Q/hw/i386/pc.c" '^        pcms->iommu = dev;$' \
    "        viommu_vtd_q35_pre_plug(MACHINE(hotplug_dev), dev, errp); /* $TAG */"
insert_after "$Q/hw/i386/acpi-build.c" '^#include "hw/acpi/viot.h"' \
    "#include \"hw/viommu/vtd-acpi.h\" /* $TAG */"
insert_after "$Q/hw/i386/acpi-build.c" '^    vmgenid_dev = find_vmgenid_dev\(\);' \
    "    viommu_vtd_acpi_build(iommu, table_offsets, tables_blob, tables->linker, x86ms->oem_id, x86ms->oem_table_id); /* $TAG */"
