/*
 * viommu-vtd: the ACPI DMAR table (VT-d spec rev 4, chapter 8), built when
 * the machine's IOMMU is a viommu-vtd.
 *
 * One DRHD for the unit at 0xfed90000 with INCLUDE_PCI_ALL (every PCI device
 * of segment 0 is behind it), plus the IOAPIC's device scope as q35 wires it
 * (bus 0xff, device 0, function 0: the source-id the IOAPIC's interrupt
 * requests carry), and an ATSR for all root ports when device-TLBs are on.
 * DMAR flags: INTR_REMAP when interrupt remapping is on, X2APIC_OPT_OUT when
 * it is on without EIM (the guest must then stay in xAPIC mode).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
#include "hw/pci-host/q35.h"
#include "hw/viommu/vtd.h"

#define DMAR_FLAG_INTR_REMAP        0x1
#define DMAR_FLAG_X2APIC_OPT_OUT    0x2
#define DMAR_TYPE_DRHD              0
#define DMAR_TYPE_ATSR              2
#define DRHD_INCLUDE_PCI_ALL        0x1
#define DMAR_SCOPE_IOAPIC           3
#define DMAR_IOAPIC_ENUM_ID         0       /* q35's IOAPIC id (MADT) */

void viommu_vtd_acpi_build(DeviceState *iommu, GArray *table_offsets,
                           GArray *tables_blob, BIOSLinker *linker,
                           const char *oem_id, const char *oem_table_id)
{
    ViommuVtdState *s = (ViommuVtdState *)object_dynamic_cast(OBJECT(iommu),
                                                              TYPE_VIOMMU_VTD);
    AcpiTable table = { .sig = "DMAR", .rev = 1, .oem_id = oem_id,
                        .oem_table_id = oem_table_id };
    uint8_t flags = 0;

    if (!s) {
        return;
    }
    if (s->ir_on) {
        flags |= DMAR_FLAG_INTR_REMAP | (s->eim_on ? 0 : DMAR_FLAG_X2APIC_OPT_OUT);
    }
    acpi_add_table(table_offsets, tables_blob);
    acpi_table_begin(&table, tables_blob);
    build_append_int_noprefix(tables_blob, MIN(s->aw_bits, 52) - 1, 1); /* HAW - 1 */
    build_append_int_noprefix(tables_blob, flags, 1);
    build_append_int_noprefix(tables_blob, 0, 10);                     /* reserved */

    /* DRHD: 16 bytes + one 8-byte device scope. */
    build_append_int_noprefix(tables_blob, DMAR_TYPE_DRHD, 2);
    build_append_int_noprefix(tables_blob, 16 + 8, 2);
    build_append_int_noprefix(tables_blob, DRHD_INCLUDE_PCI_ALL, 1);
    build_append_int_noprefix(tables_blob, 0, 1);                      /* reserved */
    build_append_int_noprefix(tables_blob, 0, 2);                      /* segment */
    build_append_int_noprefix(tables_blob, VIVTD_MMIO_BASE, 8);
    /* Device scope: the IOAPIC at ff:00.0. */
    build_append_int_noprefix(tables_blob, DMAR_SCOPE_IOAPIC, 1);
    build_append_int_noprefix(tables_blob, 8, 1);
    build_append_int_noprefix(tables_blob, 0, 2);                      /* reserved */
    build_append_int_noprefix(tables_blob, DMAR_IOAPIC_ENUM_ID, 1);
    build_append_int_noprefix(tables_blob, Q35_PSEUDO_BUS_PLATFORM, 1);
    build_append_int_noprefix(tables_blob, PCI_SLOT(Q35_PSEUDO_DEVFN_IOAPIC), 1);
    build_append_int_noprefix(tables_blob, PCI_FUNC(Q35_PSEUDO_DEVFN_IOAPIC), 1);

    if (X86_IOMMU_DEVICE(s)->dt_supported) {
        build_append_int_noprefix(tables_blob, DMAR_TYPE_ATSR, 2);
        build_append_int_noprefix(tables_blob, 8, 2);
        build_append_int_noprefix(tables_blob, 1, 1);                  /* ALL_PORTS */
        build_append_int_noprefix(tables_blob, 0, 1);
        build_append_int_noprefix(tables_blob, 0, 2);                  /* segment */
    }
    acpi_table_end(linker, &table);
}
