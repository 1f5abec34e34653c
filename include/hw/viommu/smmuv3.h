/*
 * viommu-smmuv3: an Arm SMMUv3 (IHI 0070) device model on the qemu-viommu
 * translation core, for the aarch64 "virt" machine.  See docs/smmuv3.rst.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_SMMUV3_H
#define HW_VIOMMU_SMMUV3_H

#include "exec/memory.h"
#include "hw/qdev-core.h"
#include "hw/pci/pci.h"
#include "qemu/notify.h"
#include "qemu/thread.h"
#include "qemu/seqlock.h"
#include "hw/viommu/core/smmuv3-cfg.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/viommu-common.h"

#define TYPE_VIOMMU_SMMUV3              "viommu-smmuv3"
#define TYPE_VIOMMU_SMMUV3_IOMMU_MR     "viommu-smmuv3-iommu-memory-region"
OBJECT_DECLARE_SIMPLE_TYPE(ViommuSmmuv3State, VIOMMU_SMMUV3)

#define VIOMMU_SMMUV3_MMIO_SIZE         0x20000
#define VIOMMU_SMMUV3_NUM_IRQS          4
enum {
    VIOMMU_SMMUV3_IRQ_EVTQ = 0,
    VIOMMU_SMMUV3_IRQ_PRIQ = 1,
    VIOMMU_SMMUV3_IRQ_CMD_SYNC = 2,
    VIOMMU_SMMUV3_IRQ_GERROR = 3,
};

/* Events raised by translations, waiting to be written to the event queue. */
#define VIOMMU_SMMUV3_PENDING_EVENTS    128

typedef struct ViommuSmmuv3Queue {
    uint64_t base;          /* SMMU_xQ_BASE as written */
    uint32_t prod;
    uint32_t cons;
} ViommuSmmuv3Queue;

/*
 * Stalls (IHI 0070 3.12.2): the requesters whose transactions may be held
 * (viommu_stall_attach()) and the transactions held, each until CMD_RESUME
 * / CMD_STALL_TERM.  Written under s->mutex (translate() holds a
 * transaction), ended under the BQL.
 */
#define VIOMMU_SMMUV3_STALL_CLIENTS     8

typedef struct ViommuSmmuv3StallClient {
    PCIBus *bus;            /* NULL: a free slot */
    uint8_t devfn;
    ViommuStallResumeFn *resume;
    void *opaque;
} ViommuSmmuv3StallClient;

typedef struct ViommuSmmuv3Stall {
    uint32_t sid;
    uint16_t stag;
    uint8_t client;         /* index in stall_clients */
    bool claimed;           /* the device learnt it is held (viommu_stall_held()) */
} ViommuSmmuv3Stall;

/* The address space of one requester (and PASID, for PASID-tagged DMA). */
typedef struct ViommuSmmuv3AS {
    ViommuSpace sp;         /* key: bus, devfn, SubstreamID (has_pasid), attrs */
    IOMMUMemoryRegion iommu;
    AddressSpace as;
    struct ViommuSmmuv3State *s;
    /*
     * PRI (requester address spaces only, BQL): where PRG Responses to this
     * requester go, attached by the device (viommu_pri_attach()); on
     * s->pri_list while attached.
     */
    ViommuPrgResponseFn *pri_respond;
    void *pri_opaque;
    QLIST_ENTRY(ViommuSmmuv3AS) pri_next;
    /* ATS (requester address spaces only, BQL): where Invalidate Requests go. */
    ViommuAtsPort ats_port;
} ViommuSmmuv3AS;

struct ViommuSmmuv3State {
    DeviceState parent_obj;

    MemoryRegion mmio;
    qemu_irq irq[VIOMMU_SMMUV3_NUM_IRQS];
    PCIBus *bus;
    QEMUBH *evt_bh;         /* flushes pending events outside the BQL */
    QEMUBH *cmdq_bh;        /* continues a long command queue */

    /* Properties. */
    char *stages;           /* "s1", "s2" or "nested" */
    uint8_t ssidsize;
    uint8_t sidsize;
    uint8_t oas;
    bool gran4k, gran16k, gran64k;
    bool ril;
    bool st_2lvl;
    bool cd_2lvl;
    bool httu;
    bool fwb;
    bool msi;
    uint8_t cmdq_log2;
    uint8_t evtq_log2;
    bool pri;
    bool ats;
    uint8_t priq_log2;
    uint32_t iotlb_entries;
    uint32_t cfg_entries;
    uint16_t msi_devid;     /* DeviceID of the SMMU's own MSIs at the ITS */
    char *stall;            /* "off", "on" or "force": IDR0.STALL_MODEL */
    uint16_t stall_max;     /* transactions held at once; beyond, faults terminate */
    PCIBus *primary_bus;    /* the root bus it serves; NULL: the machine's main one */

    /* Derived at realize. */
    vi_smmu_caps caps;
    uint32_t idr[6];
    uint32_t aidr;              /* SMMU_AIDR: the version the IDRs meet */

    /* Architected register state (migrated). */
    uint32_t cr0, cr1, cr2;
    uint32_t gbpa;
    uint32_t irq_ctrl;
    uint32_t gerror, gerrorn;
    uint64_t gerror_irq_cfg0;
    uint32_t gerror_irq_cfg1, gerror_irq_cfg2;
    uint64_t strtab_base;
    uint32_t strtab_base_cfg;
    ViommuSmmuv3Queue cmdq, evtq;
    uint64_t evtq_irq_cfg0;
    uint32_t evtq_irq_cfg1, evtq_irq_cfg2;
    ViommuSmmuv3Queue priq;
    uint64_t priq_irq_cfg0;
    uint32_t priq_irq_cfg1, priq_irq_cfg2;

    /*
     * Translation state, shared with translate() which runs without the BQL:
     * everything below is protected by mutex (fast and last_fault_as
     * are also read, atomically, by the lock-free fast path).
     */
    QemuMutex mutex;
    vi_iotlb *iotlb;
    vi_cfg_cache *cfg;
    /* The lock-free hit path (viommu-common.h); its generation is bumped by
     * every invalidation / config change. */
    ViommuFast fast;
    uint64_t pending[VIOMMU_SMMUV3_PENDING_EVENTS][4];
    unsigned npending;
    bool pending_lost;
    /* The last fault recorded (merging of one transaction's pieces). */
    struct ViommuSmmuv3AS *last_fault_as;
    uint64_t last_fault_addr;
    uint64_t last_fault_ev0;
    ViommuSmmuv3StallClient stall_clients[VIOMMU_SMMUV3_STALL_CLIENTS];
    ViommuSmmuv3Stall *stalls;      /* stall_max entries, the first nstalls in use */
    unsigned nstalls;
    uint16_t next_stag;

    /* BQL-protected. */
    ViommuSpaces spaces;    /* of ViommuSmmuv3AS */
    QLIST_HEAD(, ViommuSmmuv3AS) pri_list;     /* requesters with a PRI handler */
    ViommuAtsHost ats_host;     /* ATC invalidations outstanding (CMD_ATC_INV) */
    uint64_t stats_events, stats_cmds, stats_page_requests;
};

/*
 * Where a machine puts the SMMU: its register frame in system memory, its
 * interrupt lines (VIOMMU_SMMUV3_IRQ_* order) and the PCIe bus it translates
 * for.  The machine's glue (smmuv3-virt.c for virt) registers the one
 * function that decides it, and owns whatever else the machine needs (the
 * device-tree node); realize asks it and applies the answer, so the device
 * never looks at the machine.  False with errp set if the machine cannot
 * take the device.
 */
typedef struct ViommuSmmuv3Placement {
    hwaddr base;
    qemu_irq irq[VIOMMU_SMMUV3_NUM_IRQS];
    PCIBus *bus;
} ViommuSmmuv3Placement;

typedef bool ViommuSmmuv3PlaceFn(const ViommuSmmuv3State *s, ViommuSmmuv3Placement *p,
                                 Error **errp);
void viommu_smmuv3_set_placement_fn(ViommuSmmuv3PlaceFn *fn);

#endif /* HW_VIOMMU_SMMUV3_H */
