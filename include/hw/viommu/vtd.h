/*
 * viommu-vtd: an Intel VT-d (rev 4) remapping unit for q35, built on the
 * qemu-viommu translation core.  docs/vtd.rst describes it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VTD_H
#define HW_VIOMMU_VTD_H

#include "qemu/thread.h"
#include "hw/i386/x86-iommu.h"
#include "hw/pci/pci.h"
#include "exec/memory.h"
#include "hw/viommu/vtd-regs.h"
#include "hw/viommu/core/vtd-cfg.h"
#include "hw/viommu/viommu-common.h"
#include "hw/viommu/pasid-dma.h"

#define TYPE_VIOMMU_VTD "viommu-vtd"
#define TYPE_VIOMMU_VTD_MR "viommu-vtd-iommu-memory-region"
OBJECT_DECLARE_SIMPLE_TYPE(ViommuVtdState, VIOMMU_VTD)

#define VIVTD_NO_PASID        UINT32_MAX

typedef struct vi_iotlb vi_iotlb;

/*
 * Where the machine puts the unit (as ViommuSmmuv3Placement for the SMMU):
 * its register page in system memory (the address the machine's DMAR table
 * gives), the PCI bus whose requests it remaps and the source-id of the
 * IOAPIC's interrupt requests.  The machine glue (vtd-q35.c) hands it over
 * before realize, which fails without it and applies it; the machine then
 * sends IOAPIC interrupts through viommu_vtd_ioapic_as().  The device never
 * looks at the machine.
 */
typedef struct ViommuVtdPlacement {
    hwaddr base;
    PCIBus *bus;
    uint16_t ioapic_sid;
} ViommuVtdPlacement;

/* One address space: requests from (bus, devfn), untagged or with a PASID. */
typedef struct VivtdAS {
    /*
     * key: bus, devfn, pasid (VIVTD_NO_PASID: requests without PASID), attrs
     * (VIOMMU_PASID_PRIV / _EXEC)
     */
    ViommuSpace sp;
    ViommuVtdState *s;
    bool ioapic;                /* the IOAPIC's pseudo device (placement.ioapic_sid) */
    MemoryRegion root;
    IOMMUMemoryRegion iommu;
    MemoryRegion ir;            /* interrupt window (requests without PASID) */
    AddressSpace as;
    /* PRI (vtd-prq.c, BQL): the device's PRG Response handler, if attached. */
    ViommuPrgResponseFn *pri_respond;
    void *pri_opaque;
    QLIST_ENTRY(VivtdAS) pri_next;
    ViommuAtsPort ats_port;     /* requests without PASID: the device-TLB behind it (BQL) */
} VivtdAS;

/*
 * The interrupt entry cache (vtd-ir.c): present IRTEs as read, direct-mapped
 * by the low bits of the interrupt index; emptied by IEC invalidations,
 * SIRTP, reset and migration.
 */
#define VIVTD_IEC_ENTRIES   256

typedef struct VivtdIecEntry {
    uint64_t irte[2];
    uint32_t index;
    bool valid;
} VivtdIecEntry;

struct ViommuVtdState {
    X86IOMMUState parent_obj;

    /* Properties. */
    uint8_t aw_bits;
    bool scalable;
    bool fs, ss, nesting, snoop;
    uint8_t pasid_bits;
    OnOffAuto eim;
    OnOffAuto prs;              /* page requests (ECAP.PRS/PDS); auto: scalable mode */
    uint32_t iotlb_size, ctx_cache_size, pasid_cache_size;

    bool placed;
    ViommuVtdPlacement placement;

    /* Derived at realize. */
    uint64_t cap, ecap;
    vi_vtd_caps core_caps;      /* cap / ecap as the core's lookup takes them */
    bool eim_on, ir_on, prs_on;
    MemoryRegion mmio;
    ViommuSpaces spaces;        /* of VivtdAS */
    VivtdAS *ioapic_as;
    QEMUBH *irq_bh;
    QEMUBH *qi_bh;              /* resumes a wait descriptor (vtd-mmio.c) */
    QLIST_HEAD(, VivtdAS) pri_list;     /* untagged spaces with a PRI handler (BQL) */
    ViommuAtsHost ats_host;     /* device-TLB invalidations outstanding (BQL) */

    /* Everything below is protected by lock (rules: vtd-internal.h). */
    QemuMutex lock;
    ViommuFast fast;            /* the lock-free hit path (viommu-common.h) */
    vi_iotlb *iotlb;
    vi_cfg_cache *cfg;
    VivtdIecEntry iec[VIVTD_IEC_ENTRIES];
    bool fault_irq_pending, inv_irq_pending, prq_irq_pending;

    /* Architected state (migrated). */
    uint32_t gsts;
    uint64_t rtaddr;            /* RTADDR_REG as written */
    uint64_t rtaddr_act;        /* latched by SRTP */
    uint64_t ccmd, iotlb_reg, iva;
    uint32_t fsts, fectl, fedata, feaddr, feuaddr;
    uint64_t frcd_lo[VIVTD_NUM_FRCD], frcd_hi[VIVTD_NUM_FRCD];
    uint32_t pmen;
    uint64_t iqh, iqt, iqa, iqercd;
    uint32_t ics, iectl, iedata, ieaddr, ieuaddr;
    uint64_t irta, irta_act;
    uint32_t next_frcd;         /* next fault recording register to fill */
    /* Page request queue (vtd-prq.c; migrated in a subsection). */
    uint64_t pqh, pqt, pqa;
    uint32_t prs_reg, pectl, pedata, peaddr, peuaddr;

    /* The x-int-remap qtest hook's last result (vtd-ir.c). */
    int x_int_remap_ret;
    MSIMessage x_int_remap_dst;
};

void viommu_vtd_set_placement(ViommuVtdState *s, const ViommuVtdPlacement *p);
AddressSpace *viommu_vtd_ioapic_as(ViommuVtdState *s);

/* The DMAR table, from hw/i386/acpi-build.c's acpi_build() (hook line). */
#include "hw/viommu/vtd-acpi.h"

#endif
