/*
 * viommu-vtd: an Intel VT-d remapping unit (VT-d spec rev 4) for q35, on
 * top of the qemu-viommu translation core (hw/viommu/core).
 *
 * What lives here: the MMIO registers, the per-device address spaces and
 * their IOMMU memory regions, the configuration / IOTLB caches (core) under
 * one lock, the invalidation queue, fault recording and fault events, and
 * interrupt remapping.  Page walks, root / context / PASID decoding and the
 * caches themselves are the core's.  docs/vtd.rst describes the model.
 *
 * Locking: translate() runs on vCPU and I/O threads, possibly without the
 * BQL.  s->lock protects every cache and every architected register.  MMIO
 * handlers and the interrupt window run with the BQL and take s->lock; the
 * translation path never takes the BQL.  Guest memory is reached only as RAM
 * (vtd_mem_*), never as MMIO, so nothing under s->lock can re-enter a device.
 * Interrupts (fault events, invalidation completion, remapped MSIs) and the
 * IEC / unmap notifiers are sent after s->lock is dropped: directly when the
 * BQL is held, else from a bottom half.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/sysbus.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86.h"
#include "hw/i386/apic_internal.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci-host/q35.h"
#include "migration/vmstate.h"
#include "system/kvm.h"
#include "system/reset.h"
#include "exec/address-spaces.h"
#include "hw/viommu/vtd.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/nested.h"
#include "hw/viommu/core/pt-vtd-ss.h"
#include "hw/viommu/core/pt-x86-fs.h"
#include "hw/viommu/core/vtd-cfg.h"
#include "trace.h"

#define VTD_IR_BASE         0xfee00000ull
#define VTD_IR_SIZE         0x100000ull
#define VTD_IOAPIC_SID      ((Q35_PSEUDO_BUS_PLATFORM << 8) | Q35_PSEUDO_DEVFN_IOAPIC)
#define VTD_MAMV            18
#define VTD_SLLPS           3       /* 2 MiB and 1 GiB second-stage pages */
#define VTD_MAX_PASID_SPACES 4096   /* (device, PASID, attributes) address spaces */

/* Invalidation descriptor fields (qw0 / qw1). */
FIELD(INV0, TYPE_LO, 0, 4)
FIELD(INV0, G, 4, 2)
FIELD(INV0, TYPE_HI, 9, 3)
FIELD(INV0, DID, 16, 16)
FIELD(INV0, SID, 32, 16)
FIELD(INV0, FM, 48, 2)
FIELD(INV0, PASID, 32, 20)
FIELD(INV1, AM, 0, 6)
FIELD(INV1, IH, 6, 1)
FIELD(IEC0, G, 4, 1)
FIELD(IEC0, IM, 27, 5)
FIELD(IEC0, IIDX, 32, 16)
FIELD(WAIT0, IF, 4, 1)
FIELD(WAIT0, SW, 5, 1)
FIELD(WAIT0, SDATA, 32, 32)
/* IRTE (low / high qwords). */
FIELD(IRTE0, P, 0, 1)
FIELD(IRTE0, FPD, 1, 1)
FIELD(IRTE0, DM, 2, 1)
FIELD(IRTE0, RH, 3, 1)
FIELD(IRTE0, TM, 4, 1)
FIELD(IRTE0, DLM, 5, 3)
FIELD(IRTE0, IM, 15, 1)
FIELD(IRTE0, V, 16, 8)
FIELD(IRTE0, DST, 32, 32)
FIELD(IRTE1, SID, 0, 16)
FIELD(IRTE1, SQ, 16, 2)
FIELD(IRTE1, SVT, 18, 2)
/* Remappable-format MSI address. */
FIELD(MSIA, SHV, 3, 1)
FIELD(MSIA, IF, 4, 1)
FIELD(MSIA, HANDLE_LO, 5, 15)
FIELD(MSIA, HANDLE_HI, 2, 1)
/* Register fields. */
FIELD(IQA, QS, 0, 3)
FIELD(IQA, DW, 11, 1)
FIELD(CCMD, DID, 0, 16)
FIELD(CCMD, SID, 16, 16)
FIELD(CCMD, FM, 32, 2)
FIELD(CCMD, CIRG, 61, 2)
FIELD(IOTLBR, DID, 32, 16)
FIELD(IOTLBR, IIRG, 60, 2)
FIELD(IVA, AM, 0, 6)

#define IRTE0_RSVD          (MAKE_64BIT_MASK(12, 3) | MAKE_64BIT_MASK(24, 8))
#define IRTE1_RSVD          MAKE_64BIT_MASK(20, 44)

typedef struct VtdKey {
    PCIBus *bus;
    uint8_t devfn;
    uint32_t pasid;
    unsigned pattrs;
} VtdKey;

/* What vtd_unlock() must do once s->lock is dropped. */
typedef struct VtdDeferred {
    bool iec_global;
    bool iec;
    uint32_t iec_index, iec_mask;
    bool unmap_all;
} VtdDeferred;

/* ------------------------------------------------------------------------
 * Guest memory for the core: RAM only, atomic compare-and-swap for A/D.
 *
 * Table, descriptor and IRTE accesses resolve the guest physical address to
 * its RAM block and copy directly; anything else (MMIO, unassigned, a range
 * crossing the end of a block) is an external abort.  That keeps the walks
 * lock-free with respect to the BQL (no device callback can run), and makes
 * the A/D update a genuine 64-bit atomic compare-and-swap on guest RAM,
 * concurrent with vCPUs updating the same entries.  Writes mark the page
 * dirty for migration.
 */
static void *vtd_ram_ptr(uint64_t pa, size_t len, bool write, MemoryRegion **pmr,
                         hwaddr *pxlat)
{
    hwaddr xlat, l = len;
    MemoryRegion *mr = address_space_translate(&address_space_memory, pa, &xlat, &l,
                                               write, MEMTXATTRS_UNSPECIFIED);

    if (l < len || !memory_region_is_ram(mr) || (write && mr->readonly) ||
        memory_region_is_ram_device(mr)) {
        return NULL;
    }
    *pmr = mr;
    *pxlat = xlat;
    return (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
}

static vi_mem_result vtd_mem_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
    MemoryRegion *mr;
    hwaddr xlat;
    void *p;

    RCU_READ_LOCK_GUARD();
    p = vtd_ram_ptr(pa, len, false, &mr, &xlat);
    if (!p) {
        return VI_MEM_ABORT;
    }
    memcpy(buf, p, len);
    return VI_MEM_OK;
}

static vi_mem_result vtd_mem_write(void *opaque, uint64_t pa, const void *buf, size_t len)
{
    MemoryRegion *mr;
    hwaddr xlat;
    void *p;

    RCU_READ_LOCK_GUARD();
    p = vtd_ram_ptr(pa, len, true, &mr, &xlat);
    if (!p) {
        return VI_MEM_ABORT;
    }
    memcpy(p, buf, len);
    memory_region_set_dirty(mr, xlat, len);
    return VI_MEM_OK;
}

static vi_mem_result vtd_mem_cmpxchg64(void *opaque, uint64_t pa, uint64_t *expected,
                                       uint64_t desired, bool *swapped)
{
    MemoryRegion *mr;
    hwaddr xlat;
    uint64_t *p, old, exp = cpu_to_le64(*expected);

    if (pa & 7) {
        return VI_MEM_ABORT;
    }
    RCU_READ_LOCK_GUARD();
    p = vtd_ram_ptr(pa, 8, true, &mr, &xlat);
    if (!p) {
        return VI_MEM_ABORT;
    }
    old = qatomic_cmpxchg__nocheck(p, exp, cpu_to_le64(desired));
    *swapped = old == exp;
    *expected = le64_to_cpu(old);
    if (*swapped) {
        memory_region_set_dirty(mr, xlat, 8);
    }
    return VI_MEM_OK;
}

static const vi_mem_ops vtd_mem_ops = {
    .read = vtd_mem_read,
    .write = vtd_mem_write,
    .cmpxchg64 = vtd_mem_cmpxchg64,
};

static const vi_mem vtd_mem = { .ops = &vtd_mem_ops, .opaque = NULL };

/* ------------------------------------------------------------------------
 * Capabilities
 */

static unsigned vtd_haw(ViommuVtdState *s)
{
    return MIN(s->aw_bits, 52);
}

static void vtd_core_caps(ViommuVtdState *s, vi_vtd_caps *c)
{
    X86IOMMUState *x = X86_IOMMU_DEVICE(s);

    memset(c, 0, sizeof(*c));
    c->sagaw = (1u << VI_VTD_AW_39) | (s->aw_bits >= 48 ? 1u << VI_VTD_AW_48 : 0) |
               (s->aw_bits >= 57 ? 1u << VI_VTD_AW_57 : 0);
    c->haw = vtd_haw(s);
    c->nd = 6;
    c->pss = s->pasid_bits ? s->pasid_bits - 1 : 0;
    c->smts = s->scalable;
    c->pt = x->pt_supported;
    c->dt = x->dt_supported;
    c->pasid = s->scalable && s->pasid_bits;
    c->flts = s->scalable && s->fs;
    c->slts = s->scalable && s->ss;
    c->nest = s->scalable && s->nesting;
    c->srs = c->flts;
    c->eafs = c->flts;
    c->slads = c->slts;
    c->fs5lp = c->flts && s->aw_bits == 57;
}

static void vtd_compute_caps(ViommuVtdState *s)
{
    vi_vtd_caps c;

    vtd_core_caps(s, &c);
    s->cap = VTD_CAP_ND(6) | VTD_CAP_SAGAW(c.sagaw) | VTD_CAP_MGAW(s->aw_bits) |
             VTD_CAP_FRO(VTD_FRO) | VTD_CAP_SLLPS(VTD_SLLPS) | VTD_CAP_PSI |
             VTD_CAP_NFR(VTD_NUM_FRCD) | VTD_CAP_MAMV(VTD_MAMV) | VTD_CAP_DWD |
             VTD_CAP_DRD | VTD_CAP_ESRTPS | VTD_CAP_ESIRTPS;
    if (c.flts) {
        s->cap |= VTD_CAP_FL1GP | (c.fs5lp ? VTD_CAP_FL5LP : 0);
    }
    s->ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_IRO(VTD_IRO) | VTD_ECAP_MHMV(0xf);
    s->ecap |= c.pt ? VTD_ECAP_PT : 0;
    s->ecap |= c.dt ? VTD_ECAP_DT : 0;
    s->ecap |= s->snoop ? VTD_ECAP_SC : 0;
    if (s->ir_on) {
        s->ecap |= VTD_ECAP_IR | (s->eim_on ? VTD_ECAP_EIM : 0);
    }
    if (s->scalable) {
        s->ecap |= VTD_ECAP_SMTS | VTD_ECAP_SMPWC;
        s->ecap |= c.pasid ? VTD_ECAP_PASID | VTD_ECAP_PSS(c.pss) : 0;
        s->ecap |= c.flts ? VTD_ECAP_FLTS | VTD_ECAP_SRS | VTD_ECAP_EAFS : 0;
        s->ecap |= c.slts ? VTD_ECAP_SLTS | VTD_ECAP_SLADS : 0;
        s->ecap |= c.nest ? VTD_ECAP_NEST : 0;
    }
}

/* ------------------------------------------------------------------------
 * Locking and deferred work
 */

static void vtd_lock(ViommuVtdState *s)
{
    qemu_mutex_lock(&s->lock);
}

static void vtd_send_msi(uint64_t addr, uint32_t data)
{
    MSIMessage msi = { .address = addr, .data = data };

    apic_get_class(NULL)->send_msi(&msi);
}

/* Pending fault / invalidation events, delivered with the BQL held. */
static void vtd_deliver_events(ViommuVtdState *s)
{
    bool fault, inv;
    uint64_t faddr, iaddr;
    uint32_t fdata, idata;

    qemu_mutex_lock(&s->lock);
    fault = s->fault_irq_pending;
    inv = s->inv_irq_pending;
    s->fault_irq_pending = s->inv_irq_pending = false;
    faddr = ((uint64_t)s->feuaddr << 32) | s->feaddr;
    fdata = s->fedata;
    iaddr = ((uint64_t)s->ieuaddr << 32) | s->ieaddr;
    idata = s->iedata;
    qemu_mutex_unlock(&s->lock);
    if (fault) {
        trace_viommu_vtd_event("fault", faddr, fdata);
        vtd_send_msi(faddr, fdata);
    }
    if (inv) {
        trace_viommu_vtd_event("inv-wait", iaddr, idata);
        vtd_send_msi(iaddr, idata);
    }
}

static void vtd_irq_bh(void *opaque)
{
    vtd_deliver_events(opaque);
}

static void vtd_unmap_all(ViommuVtdState *s)
{
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, s->spaces);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        VtdAS *vas = value;
        IOMMUNotifier *n;

        IOMMU_NOTIFIER_FOREACH(n, &vas->iommu) {
            memory_region_unmap_iommu_notifier_range(n);
        }
    }
}

/* Drop s->lock, then do what must not run under it. */
static void vtd_unlock(ViommuVtdState *s, const VtdDeferred *d)
{
    bool events = s->fault_irq_pending || s->inv_irq_pending;

    qemu_mutex_unlock(&s->lock);
    if (events) {
        if (bql_locked()) {
            vtd_deliver_events(s);
        } else {
            qemu_bh_schedule(s->irq_bh);
        }
    }
    if (d && d->iec_global) {
        x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), true, 0, 0);
    } else if (d && d->iec) {
        x86_iommu_iec_notify_all(X86_IOMMU_DEVICE(s), false, d->iec_index, d->iec_mask);
    }
    if (d && d->unmap_all) {
        vtd_unmap_all(s);
    }
}

/* ------------------------------------------------------------------------
 * Fault reporting
 */

#define VTD_FSTS_EVENT_BITS (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE | \
                             VTD_FSTS_ICE | VTD_FSTS_ITE)

static bool vtd_ppf(ViommuVtdState *s)
{
    for (int i = 0; i < VTD_NUM_FRCD; i++) {
        if (s->frcd_hi[i] & VTD_FRCD_F) {
            return true;
        }
    }
    return false;
}

/* FSTS as read: PPF follows the F bits. */
static uint32_t vtd_fsts(ViommuVtdState *s)
{
    return (s->fsts & ~VTD_FSTS_PPF) | (vtd_ppf(s) ? VTD_FSTS_PPF : 0);
}

/*
 * The event control registers (FECTL, IECTL) work alike: an event sets IP
 * while IM masks it, else it interrupts at once; clearing IM with IP set
 * interrupts and clears IP.  *irq_pending asks vtd_deliver_events() for it.
 */
static void vtd_ctl_event(uint32_t *ctl, bool *irq_pending)
{
    *ctl |= VTD_CTL_IP;
    if (!(*ctl & VTD_CTL_IM)) {
        *ctl &= ~VTD_CTL_IP;
        *irq_pending = true;
    }
}

static void vtd_ctl_write(uint32_t *ctl, uint32_t val, bool *irq_pending)
{
    *ctl = (*ctl & ~VTD_CTL_IM) | (val & VTD_CTL_IM);
    if (!(val & VTD_CTL_IM) && (*ctl & VTD_CTL_IP)) {
        *ctl &= ~VTD_CTL_IP;
        *irq_pending = true;
    }
}

/* A fault-event condition arose (some FSTS event bit went 0 -> 1). */
static void vtd_fault_event(ViommuVtdState *s, uint32_t fsts_before)
{
    if (fsts_before & VTD_FSTS_EVENT_BITS) {
        return;     /* software has not serviced the previous condition */
    }
    vtd_ctl_event(&s->fectl, &s->fault_irq_pending);
}

typedef struct VtdFaultInfo {
    uint16_t sid;
    uint64_t addr;
    uint8_t reason;
    bool is_write;
    bool has_pasid;
    uint32_t pasid;
    bool exec, priv;
} VtdFaultInfo;

static void vtd_record_fault(ViommuVtdState *s, const VtdFaultInfo *fi)
{
    uint32_t before = vtd_fsts(s);
    unsigned i = s->next_frcd % VTD_NUM_FRCD;
    uint64_t hi;

    trace_viommu_vtd_fault(fi->sid, fi->has_pasid ? fi->pasid : 0xffffffffu, fi->addr,
                           fi->reason, fi->is_write);
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: fault 0x%x (%s) sid %04x addr 0x%"
                  PRIx64 "%s\n", fi->reason, vi_vtd_fault_reason_name(fi->reason),
                  fi->sid, fi->addr, fi->is_write ? " write" : " read");
    if (s->fsts & VTD_FSTS_PFO) {
        return;                         /* overflowed: nothing more is logged */
    }
    hi = VTD_FRCD_F | fi->sid | ((uint64_t)fi->reason << VTD_FRCD_FR_SHIFT);
    hi |= fi->is_write ? 0 : VTD_FRCD_T;
    if (fi->has_pasid) {
        hi |= VTD_FRCD_PP | ((uint64_t)(fi->pasid & 0xfffff) << VTD_FRCD_PV_SHIFT);
        hi |= fi->exec ? VTD_FRCD_EXE : 0;
        hi |= fi->priv ? VTD_FRCD_PRIV : 0;
    }
    /*
     * A fault identical to one still pending (same source, page, reason and
     * request type) is collapsed into it, as the architecture allows: the
     * memory core retries a refused access piecewise, which must not fill
     * the records with copies of one request's fault.
     */
    for (int j = 0; j < VTD_NUM_FRCD; j++) {
        if (s->frcd_hi[j] == hi && s->frcd_lo[j] == (fi->addr & ~0xfffull)) {
            return;
        }
    }
    if (s->frcd_hi[i] & VTD_FRCD_F) {
        s->fsts |= VTD_FSTS_PFO;
        trace_viommu_vtd_fault_overflow(fi->sid);
        vtd_fault_event(s, before);
        return;
    }
    s->frcd_lo[i] = fi->addr & ~0xfffull;
    s->frcd_hi[i] = hi;
    if (!(before & VTD_FSTS_PPF)) {
        s->fsts = (s->fsts & ~(0xffu << VTD_FSTS_FRI_SHIFT)) | (i << VTD_FSTS_FRI_SHIFT);
    }
    s->next_frcd = (i + 1) % VTD_NUM_FRCD;
    vtd_fault_event(s, before);
}

/* An invalidation-queue error: IQE with its info; the queue stops at head. */
static void vtd_iq_error(ViommuVtdState *s, unsigned iqei)
{
    uint32_t before = vtd_fsts(s);

    trace_viommu_vtd_qi_error(iqei, s->iqh);
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: invalidation queue error %u at head 0x%"
                  PRIx64 "\n", iqei, s->iqh);
    s->iqercd = (s->iqercd & ~0xfull) | iqei;
    s->fsts |= VTD_FSTS_IQE;
    vtd_fault_event(s, before);
}

/* ------------------------------------------------------------------------
 * Caches
 */

static void vtd_flush_all(ViommuVtdState *s)
{
    vi_cfg_cache_inv_all(s->cfg);
    vi_iotlb_inval_all(s->iotlb);
}

/* ------------------------------------------------------------------------
 * Translation
 */

static uint16_t vtd_as_sid(VtdAS *vas)
{
    if (vas->ioapic) {
        return VTD_IOAPIC_SID;
    }
    return PCI_BUILD_BDF(pci_bus_num(vas->bus), vas->devfn);
}

typedef struct VtdXlateCfg {
    enum { VTD_X_PT, VTD_X_LEGACY_SS, VTD_X_FS, VTD_X_SS, VTD_X_NESTED } mode;
    vi_x86_fs_cfg fs;
    vi_vtd_ss_cfg ss;
    uint16_t did;
    uint32_t pasid;     /* the PASID whose entry is used (0 in legacy mode) */
    bool fpd;
} VtdXlateCfg;

/*
 * Configuration of a request, from the caches or the guest tables.  On an
 * error returns the fault reason with *fpd saying whether to record it.
 */
static unsigned vtd_lookup_cfg(ViommuVtdState *s, const vi_vtd_req *req, VtdXlateCfg *x,
                               bool *fpd)
{
    vi_vtd_caps caps;
    vi_vtd_fault vf;
    vi_vtd_cfg cfg;
    int r;

    memset(x, 0, sizeof(*x));
    vtd_core_caps(s, &caps);
    r = vi_vtd_cfg_lookup_cached(&vtd_mem, s->cfg, &caps, s->rtaddr_act, req, &cfg, &vf);
    *fpd = vf.fpd;
    if (r) {
        return r;
    }
    x->fpd = cfg.fpd;
    x->pasid = cfg.pasid;
    if (!cfg.ctx.scalable) {
        x->did = cfg.ctx.did;
        if (cfg.ctx.tt == VI_VTD_TT_PASS_THROUGH) {
            x->mode = VTD_X_PT;
            return 0;
        }
        x->mode = VTD_X_LEGACY_SS;
        x->ss = (vi_vtd_ss_cfg) { .ptptr = cfg.ctx.slptptr, .aw_bits = cfg.ctx.aw_bits,
                                  .haw = vtd_haw(s), .sllps = VTD_SLLPS };
        return 0;
    }
    x->did = cfg.pe.did;
    if (cfg.pe.pgtt == VI_VTD_PGTT_SS || cfg.pe.pgtt == VI_VTD_PGTT_NESTED) {
        x->ss = (vi_vtd_ss_cfg) { .ptptr = cfg.pe.slptptr, .aw_bits = cfg.pe.aw_bits,
                                  .haw = vtd_haw(s), .sllps = VTD_SLLPS,
                                  .slee = cfg.pe.slee, .slade = cfg.pe.slade };
    }
    if (cfg.pe.pgtt == VI_VTD_PGTT_FS || cfg.pe.pgtt == VI_VTD_PGTT_NESTED) {
        x->fs = (vi_x86_fs_cfg) { .ptptr = cfg.pe.fsptptr, .levels = cfg.pe.fs_levels,
                                  .haw = vtd_haw(s), .fl1gp = true, .wpe = cfg.pe.wpe,
                                  .eafe = cfg.pe.eafe };
    }
    switch (cfg.pe.pgtt) {
    case VI_VTD_PGTT_FS:
        x->mode = VTD_X_FS;
        break;
    case VI_VTD_PGTT_SS:
        x->mode = VTD_X_SS;
        break;
    case VI_VTD_PGTT_NESTED:
        x->mode = VTD_X_NESTED;
        x->fs.haw = MIN(cfg.pe.aw_bits, 52);     /* FS addresses are GPAs */
        break;
    default:
        x->mode = VTD_X_PT;
        break;
    }
    return 0;
}

static vi_vtd_xlate_kind vtd_kind(const VtdXlateCfg *x)
{
    switch (x->mode) {
    case VTD_X_FS:
        return VI_VTD_XLATE_SM_FS;
    case VTD_X_SS:
        return VI_VTD_XLATE_SM_SS;
    case VTD_X_NESTED:
        return VI_VTD_XLATE_SM_NESTED;
    default:
        return VI_VTD_XLATE_LEGACY_SS;
    }
}

/*
 * Translate addr for a request of vas; called with s->lock held.  Returns
 * true with *out filled, or false after recording the fault (unless FPD).
 */
static bool vtd_do_translate(ViommuVtdState *s, VtdAS *vas, uint64_t addr, bool is_write,
                             IOMMUTLBEntry *out)
{
    uint16_t sid = vtd_as_sid(vas);
    bool has_pasid = vas->pasid != VTD_NO_PASID;
    vi_vtd_req req = {
        .sid = sid, .has_pasid = has_pasid, .pasid = has_pasid ? vas->pasid : 0,
        .priv = vas->pattrs & VIOMMU_PASID_PRIV, .exec = vas->pattrs & VIOMMU_PASID_EXEC,
    };
    uint32_t access = (is_write ? VI_ACC_W : VI_ACC_R) |
                      (req.priv ? VI_ACC_PRIV : 0) | (req.exec && !is_write ? VI_ACC_X : 0);
    VtdFaultInfo fi = {
        .sid = sid, .addr = addr, .is_write = is_write, .has_pasid = has_pasid,
        .pasid = req.pasid, .exec = req.exec, .priv = req.priv,
    };
    VtdXlateCfg x;
    vi_iotlb_tag tag;
    vi_iotlb_entry e;
    vi_pt_result res;
    vi_fault f;
    unsigned reason;
    bool fpd, ok;

    out->iova = addr & ~0xfffull;
    out->addr_mask = 0xfff;
    out->perm = IOMMU_NONE;
    if (!(s->gsts & VTD_GCMD_TE)) {
        /* Translation disabled: requests pass untranslated. */
        out->translated_addr = addr & ~0xfffull;
        out->perm = IOMMU_RW;
        return true;
    }
    reason = vtd_lookup_cfg(s, &req, &x, &fpd);
    if (reason) {
        fi.reason = reason;
        if (!fpd) {
            vtd_record_fault(s, &fi);
        }
        return false;
    }
    if (x.mode == VTD_X_PT) {
        out->translated_addr = addr & ~0xfffull;
        out->perm = IOMMU_RW;
        return true;
    }
    tag = (vi_iotlb_tag) {
        .sid = sid, .ssid = x.pasid, .asid = x.did,
        .stage = x.mode == VTD_X_FS ? VI_IOTLB_STAGE1 :
                 x.mode == VTD_X_NESTED ? VI_IOTLB_NESTED : VI_IOTLB_STAGE2,
    };
    if (vi_iotlb_lookup(s->iotlb, &tag, addr, &e) && vi_perm_allows(e.perm, access)) {
        res.out = vi_iotlb_entry_out(&e, addr);
        res.size = 1ull << e.size_shift;
        res.perm = e.perm;
    } else {
        switch (x.mode) {
        case VTD_X_FS:
            ok = vi_x86_fs_translate(&x.fs, &vtd_mem, addr, access, &res, &f);
            break;
        case VTD_X_NESTED:
            ok = vi_vtd_nested_translate(&x.fs, &x.ss, &vtd_mem, addr, access, &res, &f,
                                         NULL);
            break;
        default:
            ok = vi_vtd_ss_translate(&x.ss, &vtd_mem, addr, access, &res, &f);
            break;
        }
        if (!ok) {
            fi.reason = vi_vtd_walk_fault_reason(&f, vtd_kind(&x));
            if (!x.fpd) {
                vtd_record_fault(s, &fi);
            }
            return false;
        }
        vi_iotlb_insert(s->iotlb, &tag, addr, &res, -1);
    }
    {
        unsigned shift = MIN(ctz64(res.size), 30);
        uint32_t pr = req.priv ? VI_PERM_R : VI_PERM_UR;
        uint32_t pw = req.priv ? VI_PERM_W : VI_PERM_UW;

        /* Report at most 1 GiB; QEMU clamps the access to the mask anyway. */
        out->addr_mask = (1ull << shift) - 1;
        out->iova = addr & ~out->addr_mask;
        out->translated_addr = res.out & ~out->addr_mask;
        out->perm = ((res.perm & pr) ? IOMMU_RO : 0) | ((res.perm & pw) ? IOMMU_WO : 0);
    }
    return true;
}

static IOMMUTLBEntry vtd_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                   IOMMUAccessFlags flag, int iommu_idx)
{
    VtdAS *vas = container_of(iommu, VtdAS, iommu);
    ViommuVtdState *s = vas->s;
    IOMMUTLBEntry e = { .target_as = &address_space_memory };
    bool ok;

    vtd_lock(s);
    ok = vtd_do_translate(s, vas, addr, flag == IOMMU_WO || flag == IOMMU_RW, &e);
    if (ok && flag == IOMMU_RW && !(e.perm & IOMMU_RO)) {
        ok = false;
    }
    vtd_unlock(s, NULL);
    trace_viommu_vtd_translate(vtd_as_sid(vas), vas->pasid, addr, e.translated_addr,
                               e.perm, ok);
    return e;
}

static int vtd_notify_flag_changed(IOMMUMemoryRegion *iommu, IOMMUNotifierFlag old,
                                   IOMMUNotifierFlag new, Error **errp)
{
    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "viommu-vtd does not support MAP notifiers (no shadowing "
                   "for device assignment)");
        return -EINVAL;
    }
    return 0;
}

static void vtd_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n)
{
    /* Only UNMAP notifiers exist (MAP is refused): nothing to replay. */
}

/* ------------------------------------------------------------------------
 * Interrupt remapping
 */

/*
 * Remap an interrupt request from sid.  Called with s->lock held.  Returns
 * true with *out; false when it is blocked (after recording the fault).
 */
static bool vtd_irq_remap(ViommuVtdState *s, uint16_t sid, const MSIMessage *in,
                          MSIMessage *out)
{
    uint64_t addr = in->address, irte[2] = { 0 }, irta = s->irta_act & ~0xfffull;
    uint32_t data = in->data, index, size;
    VtdFaultInfo fi = { .sid = sid, .is_write = true };
    X86IOMMUIrq irq = { 0 };
    unsigned reason = 0;
    bool eime = s->irta_act & VTD_IRTA_EIME;

    if (!(s->gsts & VTD_GCMD_IRE)) {
        *out = *in;
        return true;
    }
    if (!FIELD_EX64(addr, MSIA, IF)) {
        /* Compatibility format: passes only with CFI set (and no x2APIC mode). */
        if ((s->gsts & VTD_GCMD_CFI) && !eime) {
            *out = *in;
            return true;
        }
        fi.reason = VTD_FR_IR_COMPAT;
        vtd_record_fault(s, &fi);
        return false;
    }
    index = FIELD_EX64(addr, MSIA, HANDLE_LO) | (FIELD_EX64(addr, MSIA, HANDLE_HI) << 15);
    if (FIELD_EX64(addr, MSIA, SHV)) {
        if (data >> 16) {
            reason = VTD_FR_IR_REQ_RSVD;
        }
        index += data & 0xffff;
    }
    fi.addr = (uint64_t)index << 48;    /* FI[63:48] holds the interrupt index */
    size = 2u << (s->irta_act & VTD_IRTA_S_MASK);
    if (!reason && index >= size) {
        reason = VTD_FR_IR_INDEX;
    }
    if (!reason && vi_mem_read_le64s(&vtd_mem, irta + index * 16ull, irte, 2) != VI_MEM_OK) {
        reason = VTD_FR_IR_ACCESS;
    }
    if (!reason && !FIELD_EX64(irte[0], IRTE0, P)) {
        if (FIELD_EX64(irte[0], IRTE0, FPD)) {
            return false;
        }
        reason = VTD_FR_IR_NOT_PRESENT;
    }
    if (!reason && ((irte[0] & IRTE0_RSVD) || (irte[1] & IRTE1_RSVD) ||
                    FIELD_EX64(irte[0], IRTE0, IM) || FIELD_EX64(irte[1], IRTE1, SVT) == 3 ||
                    (!eime && (FIELD_EX64(irte[0], IRTE0, DST) & 0xffff00ffu)))) {
        reason = VTD_FR_IR_IRTE_RSVD;
    }
    if (!reason) {
        uint16_t isid = FIELD_EX64(irte[1], IRTE1, SID);
        static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

        switch (FIELD_EX64(irte[1], IRTE1, SVT)) {
        case 1:
            if ((sid & sq_mask[FIELD_EX64(irte[1], IRTE1, SQ)]) !=
                (isid & sq_mask[FIELD_EX64(irte[1], IRTE1, SQ)])) {
                reason = VTD_FR_IR_SID;
            }
            break;
        case 2:
            if ((sid >> 8) < (isid >> 8) || (sid >> 8) > (isid & 0xff)) {
                reason = VTD_FR_IR_SID;
            }
            break;
        }
    }
    if (reason) {
        fi.reason = reason;
        if (!(reason != VTD_FR_IR_INDEX && reason != VTD_FR_IR_ACCESS &&
              FIELD_EX64(irte[0], IRTE0, FPD))) {
            vtd_record_fault(s, &fi);
        }
        trace_viommu_vtd_irq_fault(sid, index, reason);
        return false;
    }
    irq.trigger_mode = FIELD_EX64(irte[0], IRTE0, TM);
    irq.vector = FIELD_EX64(irte[0], IRTE0, V);
    irq.delivery_mode = FIELD_EX64(irte[0], IRTE0, DLM);
    irq.dest_mode = FIELD_EX64(irte[0], IRTE0, DM);
    irq.redir_hint = FIELD_EX64(irte[0], IRTE0, RH);
    irq.dest = FIELD_EX64(irte[0], IRTE0, DST);
    if (!eime) {
        irq.dest = (irq.dest >> 8) & 0xff;
    }
    x86_iommu_irq_to_msi_message(&irq, out);
    trace_viommu_vtd_irq_remap(sid, index, irq.vector, irq.dest, irq.delivery_mode);
    return true;
}

static MemTxResult vtd_ir_read(void *opaque, hwaddr addr, uint64_t *data, unsigned size,
                               MemTxAttrs attrs)
{
    *data = 0;
    return MEMTX_ERROR;     /* reads of the interrupt window are not requests */
}

static MemTxResult vtd_ir_write(void *opaque, hwaddr addr, uint64_t value, unsigned size,
                                MemTxAttrs attrs)
{
    VtdAS *vas = opaque;
    ViommuVtdState *s = vas->s;
    MSIMessage in = { .address = VTD_IR_BASE + addr, .data = value }, out;
    bool ok;

    vtd_lock(s);
    ok = vtd_irq_remap(s, vtd_as_sid(vas), &in, &out);
    vtd_unlock(s, NULL);
    if (ok) {
        apic_get_class(NULL)->send_msi(&out);
    }
    return MEMTX_OK;
}

static const MemoryRegionOps vtd_ir_ops = {
    .read_with_attrs = vtd_ir_read,
    .write_with_attrs = vtd_ir_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

static int vtd_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst,
                         uint16_t sid)
{
    ViommuVtdState *s = VIOMMU_VTD(iommu);
    bool ok;

    vtd_lock(s);
    ok = vtd_irq_remap(s, sid, src, dst);
    vtd_unlock(s, NULL);
    return ok ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------------
 * Address spaces
 */

static guint vtd_key_hash(gconstpointer k)
{
    const VtdKey *key = k;

    return g_direct_hash(key->bus) ^ (key->devfn * 0x9e3779b1u) ^ (key->pasid * 31u) ^
           key->pattrs;
}

static gboolean vtd_key_equal(gconstpointer a, gconstpointer b)
{
    const VtdKey *x = a, *y = b;

    return x->bus == y->bus && x->devfn == y->devfn && x->pasid == y->pasid &&
           x->pattrs == y->pattrs;
}

static VtdAS *vtd_find_as(ViommuVtdState *s, PCIBus *bus, int devfn, uint32_t pasid,
                          unsigned pattrs, bool ioapic)
{
    VtdKey key = { .bus = bus, .devfn = devfn, .pasid = pasid, .pattrs = pattrs };
    VtdAS *vas = g_hash_table_lookup(s->spaces, &key);
    g_autofree char *name = NULL;

    if (vas) {
        return vas;
    }
    vas = g_new0(VtdAS, 1);
    vas->s = s;
    vas->bus = bus;
    vas->devfn = devfn;
    vas->pasid = pasid;
    vas->pattrs = pattrs;
    vas->ioapic = ioapic;
    if (pasid == VTD_NO_PASID) {
        name = g_strdup_printf("viommu-vtd-%02x.%x", PCI_SLOT(devfn), PCI_FUNC(devfn));
    } else {
        name = g_strdup_printf("viommu-vtd-%02x.%x-pasid-%x-%x", PCI_SLOT(devfn),
                               PCI_FUNC(devfn), pasid, pattrs);
    }
    memory_region_init(&vas->root, OBJECT(s), name, UINT64_MAX);
    memory_region_init_iommu(&vas->iommu, sizeof(vas->iommu), TYPE_VIOMMU_VTD_MR,
                             OBJECT(s), name, UINT64_MAX);
    memory_region_add_subregion_overlap(&vas->root, 0, MEMORY_REGION(&vas->iommu), 0);
    if (pasid == VTD_NO_PASID) {
        /* Untagged writes to 0xfeex_xxxx are interrupt requests. */
        memory_region_init_io(&vas->ir, OBJECT(s), &vtd_ir_ops, vas, "viommu-vtd-ir",
                              VTD_IR_SIZE);
        memory_region_add_subregion_overlap(&vas->root, VTD_IR_BASE, &vas->ir, 1);
    }
    address_space_init(&vas->as, &vas->root, name);
    g_hash_table_insert(s->spaces, g_memdup2(&key, sizeof(key)), vas);
    return vas;
}

static AddressSpace *vtd_get_as(PCIBus *bus, void *opaque, int devfn)
{
    return &vtd_find_as(opaque, bus, devfn, VTD_NO_PASID, 0, false)->as;
}

static AddressSpace *vtd_get_pasid_as(PCIBus *bus, void *opaque, int devfn,
                                      uint32_t pasid, unsigned attrs)
{
    ViommuVtdState *s = opaque;

    VtdKey key = { .bus = bus, .devfn = devfn, .pasid = pasid,
                   .pattrs = attrs & (VIOMMU_PASID_PRIV | VIOMMU_PASID_EXEC) };

    if (!s->scalable || !s->pasid_bits || pasid >> s->pasid_bits) {
        return NULL;
    }
    /*
     * Address spaces live as long as the IOMMU (devices keep the pointer),
     * so a guest cycling through PASIDs must not create them without bound.
     */
    if (!g_hash_table_lookup(s->spaces, &key)) {
        if (s->pasid_spaces >= VTD_MAX_PASID_SPACES) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: more than %u PASID address "
                          "spaces, PASID 0x%x refused\n", VTD_MAX_PASID_SPACES, pasid);
            return NULL;
        }
        s->pasid_spaces++;
    }
    return &vtd_find_as(s, bus, devfn, pasid, attrs & (VIOMMU_PASID_PRIV | VIOMMU_PASID_EXEC),
                        false)->as;
}

static const PCIIOMMUOps vtd_pci_ops = {
    .get_address_space = vtd_get_as,
};

static const ViommuPasidOps vtd_pasid_ops = {
    .get_address_space = vtd_get_pasid_as,
};

/* ------------------------------------------------------------------------
 * Invalidations
 */

static void vtd_inv_context(ViommuVtdState *s, unsigned g, uint16_t did, uint16_t sid,
                            unsigned fm)
{
    switch (g) {
    case 1:
        vi_cfg_cache_inv_all(s->cfg);
        break;
    case 2:
        vi_cfg_cache_inv_dev_tag(s->cfg, did);
        break;
    case 3:
        vi_cfg_cache_inv_sid_mask(s->cfg, sid, vi_cfg_vtd_fm_mask(fm));
        break;
    }
}

/* IOTLB (second-stage, nested and pass-through mappings of a domain). */
static void vtd_inv_iotlb(ViommuVtdState *s, unsigned g, uint16_t did, uint64_t addr,
                          unsigned am)
{
    vi_iotlb_scope sc = { 0 };

    switch (g) {
    case 1:
        vi_iotlb_inval_all(s->iotlb);
        return;
    case 2:
        sc.match = VI_IOTLB_M_ASID;
        break;
    default:
        sc.match = VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR;
        sc.addr = addr & ~((4096ull << am) - 1);
        sc.len = 4096ull << am;
        break;
    }
    sc.tag.asid = did;
    vi_iotlb_invalidate(s->iotlb, &sc);
    if (g == 3) {
        /*
         * The address is a second-stage input (GPA): nested entries built
         * on a second-stage mapping of that GPA go too, whatever their IOVA.
         */
        sc.match = VI_IOTLB_M_ASID | VI_IOTLB_M_IPA;
        vi_iotlb_invalidate(s->iotlb, &sc);
    }
}

/* PASID-based IOTLB (first-stage and nested mappings of a PASID). */
static void vtd_inv_piotlb(ViommuVtdState *s, unsigned g, uint16_t did, uint32_t pasid,
                           uint64_t addr, unsigned am)
{
    vi_iotlb_scope sc = { .tag = { .asid = did, .ssid = pasid } };

    switch (g) {
    case 0:
    case 1:     /* the whole domain (more than asked is allowed) */
        sc.match = VI_IOTLB_M_ASID;
        break;
    case 2:     /* non-global mappings of the PASID */
        sc.match = VI_IOTLB_M_ASID | VI_IOTLB_M_SSID;
        break;
    default:    /* pages of the PASID, global ones included */
        sc.match = VI_IOTLB_M_ASID | VI_IOTLB_M_SSID | VI_IOTLB_M_ADDR;
        sc.addr = addr & ~((4096ull << am) - 1);
        sc.len = 4096ull << am;
        break;
    }
    vi_iotlb_invalidate(s->iotlb, &sc);
}

static void vtd_inv_pasid_cache(ViommuVtdState *s, unsigned g, uint16_t did, uint32_t pasid)
{
    switch (g) {
    case 0:
        vi_cfg_cache_inv_sub_tag(s->cfg, did);
        break;
    case 1:
        vi_cfg_cache_inv_sub_tag_ssid(s->cfg, did, pasid);
        break;
    default:
        vi_cfg_cache_inv_sub_all(s->cfg);
        break;
    }
}

static void vtd_inv_wait(ViommuVtdState *s, const uint64_t *d)
{
    if (FIELD_EX64(d[0], WAIT0, SW)) {
        uint8_t buf[4];
        uint32_t v = FIELD_EX64(d[0], WAIT0, SDATA);
        uint64_t sa = d[1] & ~3ull;

        stl_le_p(buf, v);
        if (vtd_mem.ops->write(NULL, sa, buf, 4) != VI_MEM_OK) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: wait status address 0x%" PRIx64
                          " is not RAM\n", sa);
        }
    }
    if (FIELD_EX64(d[0], WAIT0, IF) && !(s->ics & VTD_ICS_IWC)) {
        s->ics |= VTD_ICS_IWC;
        vtd_ctl_event(&s->iectl, &s->inv_irq_pending);
    }
}

/*
 * Run one descriptor.  Returns 0 or the IQEI of the error.  Reserved-field
 * checks cover the fields this model defines for each type; descriptor
 * words beyond 128 bits are reserved for every type.
 */
static unsigned vtd_run_desc(ViommuVtdState *s, const uint64_t *d, bool wide,
                             VtdDeferred *dd)
{
    unsigned type = FIELD_EX64(d[0], INV0, TYPE_LO) | (FIELD_EX64(d[0], INV0, TYPE_HI) << 4);
    unsigned g = FIELD_EX64(d[0], INV0, G);
    uint16_t did = FIELD_EX64(d[0], INV0, DID);
    uint32_t pasid = FIELD_EX64(d[0], INV0, PASID);

    trace_viommu_vtd_qi_desc(type, d[0], d[1]);
    if (wide && (d[2] || d[3])) {
        return VTD_IQEI_RSVD;
    }
    switch (type) {
    case VTD_INV_CC:
        if (!g || d[1] || (d[0] & (MAKE_64BIT_MASK(6, 3) | MAKE_64BIT_MASK(50, 14)))) {
            return VTD_IQEI_RSVD;
        }
        vtd_inv_context(s, g, did, FIELD_EX64(d[0], INV0, SID), FIELD_EX64(d[0], INV0, FM));
        break;
    case VTD_INV_IOTLB:
        if (!g || (d[0] & (MAKE_64BIT_MASK(8, 1) | MAKE_64BIT_MASK(32, 32))) ||
            (g == 3 && (FIELD_EX64(d[1], INV1, AM) > VTD_MAMV ||
                        (d[1] & MAKE_64BIT_MASK(7, 5))))) {
            return VTD_IQEI_RSVD;
        }
        vtd_inv_iotlb(s, g, did, d[1] & ~0xfffull, FIELD_EX64(d[1], INV1, AM));
        dd->unmap_all = true;
        break;
    case VTD_INV_PIOTLB:
        if (g == 3 && FIELD_EX64(d[1], INV1, AM) > VTD_MAMV) {
            return VTD_IQEI_RSVD;
        }
        vtd_inv_piotlb(s, g, did, pasid, d[1] & ~0xfffull, FIELD_EX64(d[1], INV1, AM));
        dd->unmap_all = true;
        break;
    case VTD_INV_PC:
        if (g == 2 || d[1]) {
            return VTD_IQEI_RSVD;
        }
        vtd_inv_pasid_cache(s, g, did, pasid);
        break;
    case VTD_INV_DEVTLB:
    case VTD_INV_PDEVTLB:
        /* No device exposes a device-TLB to us (no ATS path): nothing cached. */
        break;
    case VTD_INV_IEC:
        /* IRTEs are not cached; tell the interrupt controllers. */
        if (FIELD_EX64(d[0], IEC0, G)) {
            if (!dd->iec_global) {
                if (dd->iec) {
                    dd->iec_global = true;
                } else {
                    dd->iec = true;
                    dd->iec_index = FIELD_EX64(d[0], IEC0, IIDX);
                    dd->iec_mask = FIELD_EX64(d[0], IEC0, IM);
                }
            }
        } else {
            dd->iec_global = true;
        }
        break;
    case VTD_INV_WAIT:
        vtd_inv_wait(s, d);
        break;
    default:
        return VTD_IQEI_TYPE;
    }
    return 0;
}

/* Process the queue from IQH to IQT (at most one pass over the queue). */
static void vtd_process_queue(ViommuVtdState *s, VtdDeferred *dd)
{
    bool wide = FIELD_EX64(s->iqa, IQA, DW);
    unsigned dsize = wide ? 32 : 16;
    uint64_t entries = (4096ull << FIELD_EX64(s->iqa, IQA, QS)) / dsize;
    uint64_t base = s->iqa & ~0xfffull;
    uint64_t head = (s->iqh & 0x7fff0) / dsize, tail = (s->iqt & 0x7fff0) / dsize;

    if (!(s->gsts & VTD_GCMD_QIE) || (s->fsts & VTD_FSTS_IQE)) {
        return;
    }
    if (wide && (s->iqt & 0x10)) {
        vtd_iq_error(s, VTD_IQEI_TAIL);
        return;
    }
    if (wide && !s->scalable) {
        vtd_iq_error(s, VTD_IQEI_WIDTH);
        return;
    }
    if (!wide && (s->rtaddr_act & VTD_RTADDR_SMT)) {
        vtd_iq_error(s, VTD_IQEI_WIDTH);
        return;
    }
    if (tail >= entries) {
        vtd_iq_error(s, VTD_IQEI_TAIL);
        return;
    }
    for (uint64_t n = 0; n < entries && head != tail; n++) {
        uint64_t d[4] = { 0 };
        unsigned err;

        s->iqh = head * dsize;
        if (vi_mem_read_le64s(&vtd_mem, base + head * dsize, d, dsize / 8) != VI_MEM_OK) {
            vtd_iq_error(s, VTD_IQEI_FETCH);
            return;
        }
        err = vtd_run_desc(s, d, wide, dd);
        if (err) {
            vtd_iq_error(s, err);
            return;
        }
        head = (head + 1) % entries;
    }
    s->iqh = head * dsize;
}

/* ------------------------------------------------------------------------
 * Registers
 */

static void vtd_handle_gcmd(ViommuVtdState *s, uint32_t val, VtdDeferred *dd)
{
    const uint32_t persist = VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI;
    uint32_t changed = (val ^ s->gsts) & persist;

    if (val & VTD_GCMD_SRTP) {
        s->rtaddr_act = s->rtaddr;
        s->gsts |= VTD_GCMD_SRTP;
        vtd_flush_all(s);               /* ESRTPS: caches flushed by SRTP */
        dd->unmap_all = true;
    }
    if (val & VTD_GCMD_SIRTP) {
        s->irta_act = s->irta;
        s->gsts |= VTD_GCMD_SIRTP;
        dd->iec_global = true;          /* ESIRTPS */
    }
    if (changed & VTD_GCMD_QIE) {
        if (val & VTD_GCMD_QIE) {
            s->iqh = 0;
            s->gsts |= VTD_GCMD_QIE;
        } else {
            s->gsts &= ~VTD_GCMD_QIE;
        }
    }
    if (changed & VTD_GCMD_TE) {
        s->gsts ^= VTD_GCMD_TE;
        dd->unmap_all = true;
    }
    if (changed & VTD_GCMD_IRE) {
        if ((val & VTD_GCMD_IRE) && !s->ir_on) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: IRE without interrupt remapping\n");
        } else {
            s->gsts ^= VTD_GCMD_IRE;
            dd->iec_global = true;
        }
    }
    if (changed & VTD_GCMD_CFI) {
        s->gsts ^= VTD_GCMD_CFI;
    }
    trace_viommu_vtd_gcmd(val, s->gsts);
}

static void vtd_handle_ccmd(ViommuVtdState *s)
{
    unsigned g = FIELD_EX64(s->ccmd, CCMD, CIRG);

    if (!(s->ccmd & VTD_CCMD_ICC)) {
        return;
    }
    if (s->gsts & VTD_GCMD_QIE) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: CCMD while queued invalidation is on\n");
    } else {
        vtd_inv_context(s, g, FIELD_EX64(s->ccmd, CCMD, DID), FIELD_EX64(s->ccmd, CCMD, SID),
                        FIELD_EX64(s->ccmd, CCMD, FM));
    }
    /* Done: ICC clear, CAIG = the granularity performed. */
    s->ccmd = (s->ccmd & ~(VTD_CCMD_ICC | (3ull << VTD_CCMD_CAIG_SHIFT))) |
              ((uint64_t)g << VTD_CCMD_CAIG_SHIFT);
}

static void vtd_handle_iotlb_reg(ViommuVtdState *s, VtdDeferred *dd)
{
    unsigned g = FIELD_EX64(s->iotlb_reg, IOTLBR, IIRG);

    if (!(s->iotlb_reg & VTD_IOTLB_IVT)) {
        return;
    }
    if (s->gsts & VTD_GCMD_QIE) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: IOTLB_REG while queued invalidation "
                      "is on\n");
        g = 0;
    } else if (g) {
        vtd_inv_iotlb(s, g, FIELD_EX64(s->iotlb_reg, IOTLBR, DID), s->iva & ~0xfffull,
                      MIN(FIELD_EX64(s->iva, IVA, AM), VTD_MAMV));
        dd->unmap_all = true;
    }
    s->iotlb_reg = (s->iotlb_reg & ~(VTD_IOTLB_IVT | (3ull << VTD_IOTLB_IAIG_SHIFT))) |
                   ((uint64_t)g << VTD_IOTLB_IAIG_SHIFT);
}

static uint32_t vtd_read32(ViommuVtdState *s, hwaddr off)
{
    uint64_t v;

    if (off >= VTD_FRCD0 && off < VTD_FRCD(VTD_NUM_FRCD)) {
        unsigned i = (off - VTD_FRCD0) / 16, w = (off & 0xf) / 4;

        v = w < 2 ? s->frcd_lo[i] : s->frcd_hi[i];
        return w & 1 ? v >> 32 : (uint32_t)v;
    }
    switch (off & ~7ull) {
    case VTD_CAP:
        v = s->cap;
        break;
    case VTD_ECAP:
        v = s->ecap;
        break;
    case VTD_RTADDR:
        v = s->rtaddr;
        break;
    case VTD_CCMD:
        v = s->ccmd;
        break;
    case VTD_IQH:
        v = s->iqh;
        break;
    case VTD_IQT:
        v = s->iqt;
        break;
    case VTD_IQA:
        v = s->iqa;
        break;
    case VTD_IQERCD:
        v = s->iqercd;
        break;
    case VTD_IRTA:
        v = s->irta;
        break;
    case VTD_IVA:
        v = s->iva;
        break;
    case VTD_IOTLB:
        v = s->iotlb_reg;
        break;
    default:
        switch (off) {
        case VTD_VER:
            return VTD_VER_VALUE;
        case VTD_GSTS:
            return s->gsts;
        case VTD_FSTS:
            return vtd_fsts(s);
        case VTD_FECTL:
            return s->fectl;
        case VTD_FEDATA:
            return s->fedata;
        case VTD_FEADDR:
            return s->feaddr;
        case VTD_FEUADDR:
            return s->feuaddr;
        case VTD_PMEN:
            return s->pmen;
        case VTD_ICS:
            return s->ics;
        case VTD_IECTL:
            return s->iectl;
        case VTD_IEDATA:
            return s->iedata;
        case VTD_IEADDR:
            return s->ieaddr;
        case VTD_IEUADDR:
            return s->ieuaddr;
        default:
            return 0;
        }
    }
    return off & 4 ? v >> 32 : (uint32_t)v;
}

/* Merge a 32-bit write into half of a 64-bit register. */
static uint64_t vtd_merge(uint64_t reg, hwaddr off, uint32_t val)
{
    return off & 4 ? deposit64(reg, 32, 32, val) : deposit64(reg, 0, 32, val);
}

static void vtd_write32(ViommuVtdState *s, hwaddr off, uint32_t val, VtdDeferred *dd)
{
    if (off >= VTD_FRCD0 && off < VTD_FRCD(VTD_NUM_FRCD)) {
        unsigned i = (off - VTD_FRCD0) / 16;

        /* Only F (bit 127) is writable: write 1 to clear. */
        if ((off & 0xf) == 12 && (val & (1u << 31))) {
            s->frcd_hi[i] &= ~VTD_FRCD_F;
        }
        return;
    }
    switch (off) {
    case VTD_GCMD:
        vtd_handle_gcmd(s, val, dd);
        return;
    case VTD_RTADDR:
    case VTD_RTADDR + 4:
        s->rtaddr = vtd_merge(s->rtaddr, off, val) & (~0xfffull | (3ull << 10));
        return;
    case VTD_CCMD:
    case VTD_CCMD + 4:
        s->ccmd = vtd_merge(s->ccmd, off, val);
        if (off & 4) {
            vtd_handle_ccmd(s);
        }
        return;
    case VTD_IVA:
    case VTD_IVA + 4:
        s->iva = vtd_merge(s->iva, off, val) & (~0xfffull | 0x7f);
        return;
    case VTD_IOTLB:
    case VTD_IOTLB + 4:
        s->iotlb_reg = vtd_merge(s->iotlb_reg, off, val);
        if (off & 4) {
            vtd_handle_iotlb_reg(s, dd);
        }
        return;
    case VTD_FSTS:
        /* PFO, IQE, ICE, ITE are write-1-to-clear; the IQERCD goes with IQE. */
        s->fsts &= ~(val & (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE));
        if (val & VTD_FSTS_IQE) {
            s->iqercd &= ~0xfull;
            vtd_process_queue(s, dd);     /* the queue resumes at IQH */
        }
        return;
    case VTD_FECTL:
        vtd_ctl_write(&s->fectl, val, &s->fault_irq_pending);
        return;
    case VTD_FEDATA:
        s->fedata = val;
        return;
    case VTD_FEADDR:
        s->feaddr = val & ~3u;
        return;
    case VTD_FEUADDR:
        s->feuaddr = val;
        return;
    case VTD_PMEN:
        /* No protected memory regions (PLMR = PHMR = 0): PRS mirrors EPM. */
        s->pmen = (val & (1u << 31)) ? (1u << 31) | 1 : 0;
        return;
    case VTD_IQT:
    case VTD_IQT + 4:
        s->iqt = vtd_merge(s->iqt, off, val) & 0x7fff0;
        if (!(off & 4)) {
            vtd_process_queue(s, dd);
        }
        return;
    case VTD_IQA:
    case VTD_IQA + 4:
        s->iqa = vtd_merge(s->iqa, off, val) &
                 (~0xfffull | VTD_IQA_QS_MASK | (s->scalable ? VTD_IQA_DW : 0));
        s->iqa &= VI_MASK(vtd_haw(s) - 1, 0) | VTD_IQA_QS_MASK | VTD_IQA_DW;
        return;
    case VTD_ICS:
        if (val & VTD_ICS_IWC) {
            s->ics &= ~VTD_ICS_IWC;
            s->iectl &= ~VTD_CTL_IP;
        }
        return;
    case VTD_IECTL:
        vtd_ctl_write(&s->iectl, val, &s->inv_irq_pending);
        return;
    case VTD_IEDATA:
        s->iedata = val;
        return;
    case VTD_IEADDR:
        s->ieaddr = val & ~3u;
        return;
    case VTD_IEUADDR:
        s->ieuaddr = val;
        return;
    case VTD_IRTA:
    case VTD_IRTA + 4:
        s->irta = vtd_merge(s->irta, off, val) &
                  (~0xfffull | VTD_IRTA_S_MASK | (s->eim_on ? VTD_IRTA_EIME : 0));
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: write 0x%x to read-only or "
                      "reserved register 0x%" HWADDR_PRIx "\n", val, off);
        return;
    }
}

static MemTxResult vtd_mmio_read(void *opaque, hwaddr off, uint64_t *data, unsigned size,
                                 MemTxAttrs attrs)
{
    ViommuVtdState *s = opaque;

    vtd_lock(s);
    *data = vtd_read32(s, off);
    vtd_unlock(s, NULL);
    trace_viommu_vtd_mmio_read(off, *data);
    return MEMTX_OK;
}

static MemTxResult vtd_mmio_write(void *opaque, hwaddr off, uint64_t data, unsigned size,
                                  MemTxAttrs attrs)
{
    ViommuVtdState *s = opaque;
    VtdDeferred dd = { 0 };

    trace_viommu_vtd_mmio_write(off, data);
    vtd_lock(s);
    vtd_write32(s, off, data, &dd);
    vtd_unlock(s, &dd);
    return MEMTX_OK;
}

static const MemoryRegionOps vtd_mmio_ops = {
    .read_with_attrs = vtd_mmio_read,
    .write_with_attrs = vtd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/* ------------------------------------------------------------------------
 * Device
 */

static void vtd_reset_state(ViommuVtdState *s)
{
    vtd_lock(s);
    s->gsts = 0;
    s->rtaddr = s->rtaddr_act = 0;
    s->ccmd = s->iotlb_reg = s->iva = 0;
    s->fsts = 0;
    s->fectl = VTD_CTL_IM;
    s->fedata = s->feaddr = s->feuaddr = 0;
    memset(s->frcd_lo, 0, sizeof(s->frcd_lo));
    memset(s->frcd_hi, 0, sizeof(s->frcd_hi));
    s->pmen = 0;
    s->iqh = s->iqt = s->iqa = s->iqercd = 0;
    s->ics = 0;
    s->iectl = VTD_CTL_IM;
    s->iedata = s->ieaddr = s->ieuaddr = 0;
    s->irta = s->irta_act = 0;
    s->next_frcd = 0;
    s->fault_irq_pending = s->inv_irq_pending = false;
    vtd_flush_all(s);
    vtd_unlock(s, NULL);
}

static void vtd_reset_hold(Object *obj, ResetType type)
{
    vtd_reset_state(VIOMMU_VTD(obj));
}

static void vtd_realize(DeviceState *dev, Error **errp)
{
    ViommuVtdState *s = VIOMMU_VTD(dev);
    X86IOMMUState *x = X86_IOMMU_DEVICE(dev);
    MachineState *ms = MACHINE(qdev_get_machine());
    PCMachineState *pcms = PC_MACHINE(object_dynamic_cast(OBJECT(ms), TYPE_PC_MACHINE));
    X86MachineState *x86ms = X86_MACHINE(ms);

    if (!pcms || !pcms->pcibus) {
        error_setg(errp, "viommu-vtd needs a PC machine with a PCI bus (q35)");
        return;
    }
    if (s->aw_bits != 39 && s->aw_bits != 48 && s->aw_bits != 57) {
        error_setg(errp, "aw-bits must be 39, 48 or 57, not %u", s->aw_bits);
        return;
    }
    if (s->pasid_bits > 20) {
        error_setg(errp, "pasid-bits must be 0 (no PASID) to 20, not %u", s->pasid_bits);
        return;
    }
    if (s->scalable && !s->fs && !s->ss) {
        error_setg(errp, "scalable mode needs first-stage (fs=on) or second-stage "
                   "(ss=on) translation");
        return;
    }
    if (s->scalable && s->nesting && !(s->fs && s->ss)) {
        error_setg(errp, "nesting=on needs fs=on and ss=on");
        return;
    }
    if (!s->scalable && s->pasid_bits && s->pasid_bits != 20) {
        error_setg(errp, "pasid-bits needs scalable-mode=on");
        return;
    }
    if (!s->iotlb_size || s->iotlb_size > 65536 || !s->ctx_cache_size ||
        s->ctx_cache_size > 65536 || !s->pasid_cache_size || s->pasid_cache_size > 65536) {
        error_setg(errp, "iotlb-size, context-cache-size and pasid-cache-size must be "
                   "1 to 65536");
        return;
    }
    s->ir_on = x86_iommu_ir_supported(x);
    if (s->eim == ON_OFF_AUTO_ON && !s->ir_on) {
        error_setg(errp, "eim=on needs intremap=on");
        return;
    }
    s->eim_on = s->eim == ON_OFF_AUTO_ON ||
                (s->eim == ON_OFF_AUTO_AUTO && s->ir_on && kvm_irqchip_is_split());
    vtd_compute_caps(s);

    qemu_mutex_init(&s->lock);
    s->iotlb = vi_iotlb_new(s->iotlb_size);
    s->cfg = vi_vtd_cfg_cache_new(s->ctx_cache_size, s->pasid_cache_size);
    if (!s->iotlb || !s->cfg) {
        error_setg(errp, "viommu-vtd: cannot allocate the caches");
        return;
    }
    s->irq_bh = qemu_bh_new(vtd_irq_bh, s);
    s->spaces = g_hash_table_new_full(vtd_key_hash, vtd_key_equal, g_free, g_free);
    s->pci_bus = pcms->pcibus;

    memory_region_init_io(&s->mmio, OBJECT(s), &vtd_mmio_ops, s, "viommu-vtd", VTD_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), VTD_MMIO_BASE, &s->mmio);
    pci_setup_iommu(s->pci_bus, &vtd_pci_ops, s);
    viommu_pasid_register(&vtd_pci_ops, &vtd_pasid_ops);
    /* The IOAPIC's interrupts go through remapping as source-id ff:00.0. */
    s->ioapic_as = vtd_find_as(s, s->pci_bus, Q35_PSEUDO_DEVFN_IOAPIC, VTD_NO_PASID,
                               0x100, true);
    x86ms->ioapic_as = &s->ioapic_as->as;
    vtd_reset_state(s);
}

static int vtd_post_load(void *opaque, int version_id)
{
    ViommuVtdState *s = opaque;

    /* Caches start empty; the architected state came with the stream. */
    vtd_lock(s);
    vtd_flush_all(s);
    s->next_frcd %= VTD_NUM_FRCD;
    s->iqt &= 0x7fff0;
    s->iqh &= 0x7fff0;
    vtd_unlock(s, NULL);
    return 0;
}

static const VMStateDescription vtd_vmstate = {
    .name = "viommu-vtd",
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .post_load = vtd_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(gsts, ViommuVtdState),
        VMSTATE_UINT64(rtaddr, ViommuVtdState),
        VMSTATE_UINT64(rtaddr_act, ViommuVtdState),
        VMSTATE_UINT64(ccmd, ViommuVtdState),
        VMSTATE_UINT64(iotlb_reg, ViommuVtdState),
        VMSTATE_UINT64(iva, ViommuVtdState),
        VMSTATE_UINT32(fsts, ViommuVtdState),
        VMSTATE_UINT32(fectl, ViommuVtdState),
        VMSTATE_UINT32(fedata, ViommuVtdState),
        VMSTATE_UINT32(feaddr, ViommuVtdState),
        VMSTATE_UINT32(feuaddr, ViommuVtdState),
        VMSTATE_UINT64_ARRAY(frcd_lo, ViommuVtdState, VTD_NUM_FRCD),
        VMSTATE_UINT64_ARRAY(frcd_hi, ViommuVtdState, VTD_NUM_FRCD),
        VMSTATE_UINT32(pmen, ViommuVtdState),
        VMSTATE_UINT64(iqh, ViommuVtdState),
        VMSTATE_UINT64(iqt, ViommuVtdState),
        VMSTATE_UINT64(iqa, ViommuVtdState),
        VMSTATE_UINT64(iqercd, ViommuVtdState),
        VMSTATE_UINT32(ics, ViommuVtdState),
        VMSTATE_UINT32(iectl, ViommuVtdState),
        VMSTATE_UINT32(iedata, ViommuVtdState),
        VMSTATE_UINT32(ieaddr, ViommuVtdState),
        VMSTATE_UINT32(ieuaddr, ViommuVtdState),
        VMSTATE_UINT64(irta, ViommuVtdState),
        VMSTATE_UINT64(irta_act, ViommuVtdState),
        VMSTATE_UINT32(next_frcd, ViommuVtdState),
        VMSTATE_END_OF_LIST()
    },
};

static const Property vtd_properties[] = {
    DEFINE_PROP_UINT8("aw-bits", ViommuVtdState, aw_bits, 48),
    DEFINE_PROP_BOOL("scalable-mode", ViommuVtdState, scalable, true),
    DEFINE_PROP_BOOL("fs", ViommuVtdState, fs, true),
    DEFINE_PROP_BOOL("ss", ViommuVtdState, ss, true),
    DEFINE_PROP_BOOL("nesting", ViommuVtdState, nesting, true),
    DEFINE_PROP_UINT8("pasid-bits", ViommuVtdState, pasid_bits, 20),
    DEFINE_PROP_BOOL("snoop-control", ViommuVtdState, snoop, true),
    DEFINE_PROP_ON_OFF_AUTO("eim", ViommuVtdState, eim, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_UINT32("iotlb-size", ViommuVtdState, iotlb_size, 4096),
    DEFINE_PROP_UINT32("context-cache-size", ViommuVtdState, ctx_cache_size, 256),
    DEFINE_PROP_UINT32("pasid-cache-size", ViommuVtdState, pasid_cache_size, 1024),
};

static void vtd_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    X86IOMMUClass *xc = X86_IOMMU_DEVICE_CLASS(klass);

    xc->realize = vtd_realize;
    xc->int_remap = vtd_int_remap;
    rc->phases.hold = vtd_reset_hold;
    dc->vmsd = &vtd_vmstate;
    dc->user_creatable = true;
    dc->desc = "qemu-viommu Intel VT-d remapping unit (scalable mode, nesting, IR)";
    device_class_set_props(dc, vtd_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static void vtd_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vtd_translate;
    imrc->notify_flag_changed = vtd_notify_flag_changed;
    imrc->replay = vtd_replay;
}

static const TypeInfo vtd_types[] = {
    {
        .name = TYPE_VIOMMU_VTD,
        .parent = TYPE_X86_IOMMU_DEVICE,
        .instance_size = sizeof(ViommuVtdState),
        .class_init = vtd_class_init,
    }, {
        .name = TYPE_VIOMMU_VTD_MR,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = vtd_mr_class_init,
    },
};

DEFINE_TYPES(vtd_types)
