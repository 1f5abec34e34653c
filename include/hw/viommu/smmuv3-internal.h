/*
 * viommu-smmuv3 internals, shared by the device's files only.
 *
 *   smmuv3.c        QOM device: properties, capabilities (SMMU_IDR*),
 *                   realize, reset, migration
 *   smmuv3-mmio.c   registers (page 0 / page 1), GBPA, the SMMU's interrupts
 *                   and global errors
 *   smmuv3-cmdq.c   command queue, invalidations, event queue
 *   smmuv3-xlate.c  configuration lookup (the core's
 *                   vi_smmu_cfg_lookup_cached()), DMA translation, address
 *                   spaces, IOMMU notifiers; guest memory (RAM only), the
 *                   lock-free hit path and the address-space table are the
 *                   shared glue's (viommu-common.h)
 *   smmuv3-pri.c    PRI queue and PRG Responses
 *   smmuv3-stall.c  the stall model: held transactions, CMD_RESUME,
 *                   CMD_STALL_TERM
 *   smmuv3-virt.c   placement on the virt machine (MMIO, IRQs, PCIe bus, DT)
 * Registers and commands: include/hw/viommu/smmuv3-regs.h (shared with the
 * qtests); STE / CD / event / PRI record layouts: the core's smmuv3-defs.h.
 *
 * Lock rules (the only statement of them):
 *   - The BQL protects the architected registers, the queues' state, the
 *     address-space table and the PRI routing: MMIO handlers, command
 *     processing and the bottom halves run with it.
 *   - s->mutex protects the translation state: the configuration cache, the
 *     IOTLB, s->gen, the fast-path chunks, the pending event records and the
 *     fault-merging state.  Registers translate() reads (CR0, GBPA,
 *     STRTAB_BASE*) are written with both held.  Functions whose name ends in
 *     _locked are called with s->mutex held.
 *   - Order: the BQL before s->mutex.  translate() runs in vCPU and I/O
 *     threads without the BQL and never takes it: under s->mutex guest memory
 *     is read as RAM only (never MMIO), and events recorded there are written
 *     to the event queue and signalled under the BQL afterwards (at once when
 *     the caller holds it, else from a bottom half).
 *   - The fast path takes no lock: it reads chunks under their seqlock and
 *     uses a result only while its generation is current; CMD_SYNC waits
 *     for the hits in flight (viommu_fast_quiesce(), viommu-common.h).
 *
 * Errors: guest errors end in their architected outcome (an event record,
 * CERROR in CMDQ_CONS, a GERROR bit, an aborted transaction), are logged with
 * LOG_GUEST_ERROR and traced, never asserted; command handlers return a
 * VISMMU_CERROR_* value, configuration lookups a VI_SMMU_EVT_* type.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_SMMUV3_INTERNAL_H
#define HW_VIOMMU_SMMUV3_INTERNAL_H

#include "qemu/atomic.h"
#include "exec/memory.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/viommu/smmuv3.h"
#include "hw/viommu/smmuv3-regs.h"
#include "hw/viommu/pasid-dma.h"

/* Writable bits and reset values of the registers as modelled. */
#define VISMMU_CR0_MASK        (R_VISMMU_CR0_SMMUEN_MASK | R_VISMMU_CR0_EVENTQEN_MASK | \
                                R_VISMMU_CR0_CMDQEN_MASK)
/* CR0.ATSCHK exists with IDR0.ATS. */
#define VISMMU_CR0_ATSCHK      R_VISMMU_CR0_ATSCHK_MASK
#define VISMMU_CR1_MASK        0xfffu
#define VISMMU_CR2_MASK        (R_VISMMU_CR2_RECINVSID_MASK | R_VISMMU_CR2_PTM_MASK)
/* CR2.E2H exists with IDR0.Hyp. */
#define VISMMU_CR2_E2H         R_VISMMU_CR2_E2H_MASK
/* GBPA fields: ABORT, INSTCFG, PRIVCFG, SHCFG, ALLOCCFG, MTCFG, MEMATTR. */
#define VISMMU_GBPA_FIELDS     0x001f3f1fu
#define VISMMU_GBPA_RESET      0x00001000u     /* SHCFG = use incoming */
#define VISMMU_IRQ_CTRL_MASK   (R_VISMMU_IRQ_CTRL_GERROR_IRQEN_MASK | \
                                R_VISMMU_IRQ_CTRL_EVENTQ_IRQEN_MASK)
#define VISMMU_GERROR_MASK     0x3fdu
#define VISMMU_IRQ_ADDR_MASK   0x000ffffffffffffcull
#define VISMMU_IRQ_CFG2_MASK   0x3fu
#define VISMMU_PRIQ_CFG2_MASK  (VISMMU_IRQ_CFG2_MASK | R_VISMMU_PRIQ_IRQ_CFG2_LO_MASK)
#define VISMMU_STRTAB_BASE_MASK (VI_SMMU_STRTAB_BASE_RA | VI_SMMU_STRTAB_BASE_ADDR_MASK)
#define VISMMU_STRTAB_CFG_MASK 0x307ffu

/* Queue pointers: index and wrap bit of a queue of 2^log2 entries. */
static inline unsigned vismmu_q_log2(const ViommuSmmuv3Queue *q, unsigned max)
{
    return MIN(VISMMU_Q_LOG2(q->base), max);
}

static inline uint32_t vismmu_q_idx(uint32_t p, unsigned log2)
{
    return p & ((1u << log2) - 1);
}

static inline uint32_t vismmu_q_wrap(uint32_t p, unsigned log2)
{
    return (p >> log2) & 1;
}

static inline bool vismmu_q_empty(uint32_t prod, uint32_t cons, unsigned log2)
{
    return vismmu_q_idx(prod, log2) == vismmu_q_idx(cons, log2) &&
           vismmu_q_wrap(prod, log2) == vismmu_q_wrap(cons, log2);
}

static inline bool vismmu_q_full(uint32_t prod, uint32_t cons, unsigned log2)
{
    return vismmu_q_idx(prod, log2) == vismmu_q_idx(cons, log2) &&
           vismmu_q_wrap(prod, log2) != vismmu_q_wrap(cons, log2);
}

static inline uint32_t vismmu_q_inc(uint32_t p, unsigned log2)
{
    uint32_t mask = (2u << log2) - 1;   /* index + wrap bit */

    return (p & ~mask) | ((p + 1) & mask);
}


/* The StreamID of an address space: its requester ID (viommu-common.h). */
static inline uint32_t vismmu_as_sid(const ViommuSmmuv3AS *sas)
{
    return viommu_rid(&sas->sp.rid);
}

/* Everything the fast path holds is stale.  s->mutex held. */
static inline void vismmu_gen_bump_locked(ViommuSmmuv3State *s)
{
    viommu_fast_bump_locked(&s->fast);
}

/*
 * IOTLB tag SubstreamID bit of EL2 (StreamWorld NS-EL2 / NS-EL2-E2H) stage-1
 * entries: SubstreamIDs have 20 bits, and no SMMU invalidation matches it.
 */
#define VISMMU_TAG_EL2         (1u << 31)

/* VA[55] copied into VA[63:56]: a stage-1 address without its top-byte tag. */
static inline uint64_t vismmu_va_untag(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 8) >> 8);
}

/* smmuv3-mmio.c */
extern const MemoryRegionOps vismmu_mmio_ops;
void vismmu_wire(ViommuSmmuv3State *s, int line);
void vismmu_msi_write(ViommuSmmuv3State *s, int line, uint64_t cfg0, uint32_t cfg1,
                      uint32_t abt_err);
void vismmu_gerror_raise(ViommuSmmuv3State *s, uint32_t bits);

/* smmuv3-cmdq.c */
void vismmu_event_locked(ViommuSmmuv3State *s, unsigned type, uint32_t sid, bool ssv,
                         uint32_t ssid, uint64_t d1, uint64_t addr, uint64_t d3);
void vismmu_flush_events(ViommuSmmuv3State *s);
void vismmu_evt_bh(void *opaque);
bool vismmu_cmdq_error_active(ViommuSmmuv3State *s);
void vismmu_process_cmdq(ViommuSmmuv3State *s);
void vismmu_cmdq_bh(void *opaque);
void vismmu_inval_all(ViommuSmmuv3State *s);

/* smmuv3-xlate.c */
void vismmu_notify_unmap_all(ViommuSmmuv3State *s);
void vismmu_spaces_init(ViommuSmmuv3State *s);
ViommuSmmuv3AS *vismmu_find_add_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn,
                                   bool ssv, uint32_t ssid, unsigned attrs);
ViommuSmmuv3AS *vismmu_find_rid_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn);
void vismmu_attach_bus(ViommuSmmuv3State *s, PCIBus *bus);
void vismmu_iommu_mr_class_init(ObjectClass *klass, void *data);

/* smmuv3-pri.c */
bool vismmu_pri_attach(PCIBus *bus, void *opaque, int devfn,
                       ViommuPrgResponseFn *respond, void *respond_opaque);
void vismmu_pri_detach(PCIBus *bus, void *opaque, int devfn);
int vismmu_page_request(PCIBus *bus, void *opaque, int devfn, const ViommuPageRequest *req);
int vismmu_cmd_pri_resp(ViommuSmmuv3State *s, const uint64_t *cmd);

/* smmuv3-xlate.c: ATS (IHI 0070 3.9.1); VISMMU_CMD_WAIT: the command waits, CONS stays. */
#define VISMMU_CMD_WAIT        (-1)
int vismmu_cmd_atc_inv(ViommuSmmuv3State *s, const uint64_t *cmd);

/* smmuv3-stall.c (IHI 0070 3.12.2) */
bool vismmu_stall_attach(PCIBus *bus, void *opaque, int devfn, ViommuStallResumeFn *resume,
                         void *resume_opaque);
void vismmu_stall_detach(PCIBus *bus, void *opaque, int devfn);
bool vismmu_stall_held(PCIBus *bus, void *opaque, int devfn);
/* Hold a transaction of (bus, devfn) from StreamID sid: its STAG, or -1 (terminate it). */
int vismmu_stall_hold_locked(ViommuSmmuv3State *s, PCIBus *bus, int devfn, uint32_t sid);
/* Terminate the held transactions whose stall records were not written (n records). */
void vismmu_stall_records_lost(ViommuSmmuv3State *s, uint64_t (*ev)[4], unsigned n);
/* Terminate every held transaction (SMMUEN cleared, reset). */
void vismmu_stall_terminate_all(ViommuSmmuv3State *s);
int vismmu_cmd_resume(ViommuSmmuv3State *s, const uint64_t *cmd);
int vismmu_cmd_stall_term(ViommuSmmuv3State *s, const uint64_t *cmd);

#endif /* HW_VIOMMU_SMMUV3_INTERNAL_H */
