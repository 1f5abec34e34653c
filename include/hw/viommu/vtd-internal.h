/*
 * viommu-vtd internals, shared by the device's files only.
 *
 *   vtd.c        QOM device: properties, capabilities, realize, reset, migration
 *   vtd-mmio.c   registers, fault recording, fault / completion events, the
 *                invalidation queue and register-based invalidation
 *   vtd-xlate.c  configuration lookup (the core's vi_vtd_cfg_lookup_cached()),
 *                DMA translation, address spaces; guest memory (RAM only),
 *                the lock-free hit path and the address-space table are the
 *                shared glue's (viommu-common.h)
 *   vtd-ir.c     interrupt remapping, the interrupt entry cache
 *   vtd-prq.c    page requests (PRI) into the page request queue, page group
 *                responses from the invalidation queue back to the devices
 *   vtd-acpi.c   the DMAR table
 *
 * Lock rules (the only statement of them):
 *   - s->lock protects every cache (IOTLB, context / PASID caches,
 *     interrupt entry cache), every architected register and the pending-interrupt
 *     flags.  Functions whose name ends in _locked are called with it held.
 *   - Order: the BQL (MMIO handlers, queue processing) before s->lock; the
 *     translation and interrupt paths may run without the BQL (vCPU and I/O
 *     threads) and never take it.
 *   - Under s->lock nothing may call out of the device: guest memory is read
 *     only as RAM (viommu_ram), never as MMIO; interrupts (fault events, wait
 *     completion, remapped MSIs), IEC notifiers and IOMMU unmap notifiers are
 *     recorded in a VivtdDeferred and run by vivtd_unlock() after it drops
 *     the lock: directly from a register access, interrupts from the guarded
 *     bottom half s->irq_bh otherwise (translations, no BQL).
 *   - translate() hits of the lock-free path take no lock (viommu_fast_hit());
 *     every MMIO write, every cache flush and every wait descriptor bumps its
 *     generation under s->lock, and a wait descriptor completes only after
 *     the hits in flight returned (viommu_fast_quiesce()).
 *
 * Errors: functions return false / a fault reason / an IQEI value; guest
 * errors are recorded architecturally (fault record, IQE) and logged with
 * LOG_GUEST_ERROR, never asserted.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VTD_INTERNAL_H
#define HW_VIOMMU_VTD_INTERNAL_H

#include "hw/viommu/vtd.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/core/mem.h"

#define VIVTD_MAMV            18      /* CAP.MAMV: largest IOTLB_REG address mask */
#define VIVTD_SLLPS           3       /* 2 MiB and 1 GiB second-stage pages */
#define VIVTD_MAX_PASID_SPACES 4096   /* (device, PASID, attributes) address spaces */

/* A PRG Response for requester sid, sent by vivtd_unlock() (vtd-prq.c). */
typedef struct VivtdPrgOut {
    uint16_t sid;
    ViommuPrgResponse rsp;
} VivtdPrgOut;

/* Page group responses one queue pass hands over at most before it waits. */
#define VIVTD_PRG_BATCH       16

/* What vivtd_unlock() must do once s->lock is dropped. */
typedef struct VivtdDeferred {
    bool iec_global;
    bool iec;
    uint32_t iec_index, iec_mask;
    bool unmap_all;
    bool from_dma;      /* a translation: interrupts only from the bottom half */
    bool requeue;       /* a wait descriptor waits for the notifications above */
    unsigned nprg;      /* PRG Responses to send (BQL held) */
    VivtdPrgOut prg[VIVTD_PRG_BATCH];
    ViommuAtsPort *ats_port;        /* a device-TLB invalidation to send (BQL held) */
    ViommuAtsInvalidate ats_inv;
} VivtdDeferred;

/* vivtd_run_desc_locked() / handlers: the descriptor waits (not an IQEI). */
#define VIVTD_QI_DEFER 0x100

/* A fault to record (a fault recording register's contents). */
typedef struct VivtdFaultInfo {
    uint16_t sid;
    uint64_t addr;
    uint8_t reason;
    bool is_write;
    bool has_pasid;
    uint32_t pasid;
    bool exec, priv;
} VivtdFaultInfo;

static inline unsigned vivtd_haw(const ViommuVtdState *s)
{
    return MIN(s->aw_bits, 52);
}

/* vtd-mmio.c */
extern const MemoryRegionOps vivtd_mmio_ops;
void vivtd_lock(ViommuVtdState *s);
void vivtd_unlock(ViommuVtdState *s, const VivtdDeferred *d);
void vivtd_irq_bh(void *opaque);
void vivtd_qi_bh(void *opaque);
void vivtd_record_fault_locked(ViommuVtdState *s, const VivtdFaultInfo *fi);
void vivtd_flush_all_locked(ViommuVtdState *s);
void vivtd_send_msi(uint64_t addr, uint32_t data);
void vivtd_ctl_event(uint32_t *ctl, bool *irq_pending);
void vivtd_ctl_write(uint32_t *ctl, uint32_t val, bool *irq_pending);

/* vtd-xlate.c */
extern const PCIIOMMUOps vivtd_pci_ops;
extern const ViommuPasidOps vivtd_pasid_ops;
void vivtd_spaces_init(ViommuVtdState *s);
VivtdAS *vivtd_find_as(ViommuVtdState *s, PCIBus *bus, int devfn, uint32_t pasid,
                       unsigned pattrs, bool ioapic);
uint16_t vivtd_as_sid(const VivtdAS *vas);
void vivtd_unmap_all(ViommuVtdState *s);

/* vtd-ir.c */
void vivtd_ir_window_init(VivtdAS *vas);
int vivtd_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst, uint16_t sid);
void vivtd_ir_class_init(ObjectClass *klass);
unsigned vivtd_inv_iec_locked(ViommuVtdState *s, const uint64_t *d, VivtdDeferred *dd);
void vivtd_iec_flush_locked(ViommuVtdState *s);

/* vtd-prq.c */
extern const VMStateDescription vivtd_prq_vmstate;
bool vivtd_pri_attach(PCIBus *bus, void *opaque, int devfn, ViommuPrgResponseFn *respond,
                      void *respond_opaque);
void vivtd_pri_detach(PCIBus *bus, void *opaque, int devfn);
void vivtd_pri_forget(VivtdAS *vas);
int vivtd_page_request(PCIBus *bus, void *opaque, int devfn, const ViommuPageRequest *req);
void vivtd_prq_reset_locked(ViommuVtdState *s);
bool vivtd_prq_read32_locked(ViommuVtdState *s, hwaddr off, uint32_t *val);
bool vivtd_prq_write32_locked(ViommuVtdState *s, hwaddr off, uint32_t val);
unsigned vivtd_inv_pgrp_locked(ViommuVtdState *s, const uint64_t *d, VivtdDeferred *dd);
void vivtd_prg_send(ViommuVtdState *s, const VivtdDeferred *d);

#endif
