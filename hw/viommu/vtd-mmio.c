/*
 * viommu-vtd registers (VT-d spec rev 4, chapter 11): register reads and
 * writes, fault recording and the fault / invalidation-completion events
 * (7.3, 7.4), the invalidation queue and register-based invalidation (6.5).
 * Lock rules: vtd-internal.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "hw/registerfields.h"
#include "hw/i386/apic_internal.h"
#include "hw/viommu/vtd-internal.h"
#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/vtd-cfg.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Locking and deferred work
 */

void vivtd_lock(ViommuVtdState *s)
{
    qemu_mutex_lock(&s->lock);
}

void vivtd_send_msi(uint64_t addr, uint32_t data)
{
    MSIMessage msi = { .address = addr, .data = data };

    apic_get_class(NULL)->send_msi(&msi);
}

/* Pending fault / invalidation / page request events, delivered with the BQL held. */
static void vivtd_deliver_events(ViommuVtdState *s)
{
    bool fault, inv, prq;
    uint64_t faddr, iaddr, paddr;
    uint32_t fdata, idata, pdata;

    qemu_mutex_lock(&s->lock);
    fault = s->fault_irq_pending;
    inv = s->inv_irq_pending;
    prq = s->prq_irq_pending;
    s->fault_irq_pending = s->inv_irq_pending = s->prq_irq_pending = false;
    faddr = ((uint64_t)s->feuaddr << 32) | s->feaddr;
    fdata = s->fedata;
    iaddr = ((uint64_t)s->ieuaddr << 32) | s->ieaddr;
    idata = s->iedata;
    paddr = ((uint64_t)s->peuaddr << 32) | s->peaddr;
    pdata = s->pedata;
    qemu_mutex_unlock(&s->lock);
    if (fault) {
        trace_viommu_vtd_event("fault", faddr, fdata);
        vivtd_send_msi(faddr, fdata);
    }
    if (inv) {
        trace_viommu_vtd_event("inv-wait", iaddr, idata);
        vivtd_send_msi(iaddr, idata);
    }
    if (prq) {
        trace_viommu_vtd_event("page-request", paddr, pdata);
        vivtd_send_msi(paddr, pdata);
    }
}

void vivtd_irq_bh(void *opaque)
{
    vivtd_deliver_events(opaque);
}

static void vivtd_process_queue_locked(ViommuVtdState *s, VivtdDeferred *dd);

/*
 * Drop s->lock, then do what must not run under it.  Interrupts of a
 * translation go out from the bottom half, never inside the DMA it serves.
 */
static void vivtd_unlock_once(ViommuVtdState *s, const VivtdDeferred *d)
{
    bool events = s->fault_irq_pending || s->inv_irq_pending || s->prq_irq_pending;

    qemu_mutex_unlock(&s->lock);
    if (events) {
        if (bql_locked() && !(d && d->from_dma)) {
            vivtd_deliver_events(s);
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
        vivtd_unmap_all(s);
    }
    if (d && d->nprg) {
        vivtd_prg_send(s, d);
    }
    if (d && d->ats_port) {
        ViommuAtsInvalidate inv = d->ats_inv;

        /* The ITag was checked free under the BQL, which is still held. */
        viommu_ats_port_send(&s->ats_host, d->ats_port, &inv);
    }
}

/*
 * A wait descriptor that stopped the queue for the notifications of the
 * invalidations before it (d->requeue) continues it once they ran.
 */
void vivtd_unlock(ViommuVtdState *s, const VivtdDeferred *d)
{
    VivtdDeferred again;

    vivtd_unlock_once(s, d);
    while (d && d->requeue) {
        again = (VivtdDeferred) { 0 };
        qemu_mutex_lock(&s->lock);
        vivtd_process_queue_locked(s, &again);
        vivtd_unlock_once(s, &again);
        d = &again;
    }
}

/* The hits a wait descriptor waited for have returned: continue the queue. */
void vivtd_qi_bh(void *opaque)
{
    ViommuVtdState *s = opaque;
    VivtdDeferred dd = { 0 };

    vivtd_lock(s);
    vivtd_process_queue_locked(s, &dd);
    vivtd_unlock(s, &dd);
}

/* ------------------------------------------------------------------------
 * Fault reporting
 */

#define VIVTD_FSTS_EVENT_BITS (VIVTD_FSTS_PFO | VIVTD_FSTS_PPF | VIVTD_FSTS_IQE | \
                               VIVTD_FSTS_ICE | VIVTD_FSTS_ITE)

static bool vivtd_ppf_locked(ViommuVtdState *s)
{
    for (int i = 0; i < VIVTD_NUM_FRCD; i++) {
        if (s->frcd_hi[i] & VIVTD_FRCD_F) {
            return true;
        }
    }
    return false;
}

/* FSTS as read: PPF follows the F bits. */
static uint32_t vivtd_fsts_locked(ViommuVtdState *s)
{
    return (s->fsts & ~VIVTD_FSTS_PPF) | (vivtd_ppf_locked(s) ? VIVTD_FSTS_PPF : 0);
}

/*
 * The event control registers (FECTL, IECTL) work alike: an event sets IP
 * while IM masks it, else it interrupts at once; clearing IM with IP set
 * interrupts and clears IP.  *irq_pending asks vivtd_deliver_events() for it.
 */
void vivtd_ctl_event(uint32_t *ctl, bool *irq_pending)
{
    *ctl |= VIVTD_CTL_IP;
    if (!(*ctl & VIVTD_CTL_IM)) {
        *ctl &= ~VIVTD_CTL_IP;
        *irq_pending = true;
    }
}

void vivtd_ctl_write(uint32_t *ctl, uint32_t val, bool *irq_pending)
{
    *ctl = (*ctl & ~VIVTD_CTL_IM) | (val & VIVTD_CTL_IM);
    if (!(val & VIVTD_CTL_IM) && (*ctl & VIVTD_CTL_IP)) {
        *ctl &= ~VIVTD_CTL_IP;
        *irq_pending = true;
    }
}

/*
 * Software serviced every fault-event condition (FSTS event bits and the F
 * bits all clear): a masked event still pending is dropped, IP clears (7.3.1).
 */
static void vivtd_fault_serviced_locked(ViommuVtdState *s)
{
    if (!(vivtd_fsts_locked(s) & VIVTD_FSTS_EVENT_BITS)) {
        s->fectl &= ~VIVTD_CTL_IP;
    }
}

/* A fault-event condition arose (some FSTS event bit went 0 -> 1). */
static void vivtd_fault_event_locked(ViommuVtdState *s, uint32_t fsts_before)
{
    if (fsts_before & VIVTD_FSTS_EVENT_BITS) {
        return;     /* software has not serviced the previous condition */
    }
    vivtd_ctl_event(&s->fectl, &s->fault_irq_pending);
}

void vivtd_record_fault_locked(ViommuVtdState *s, const VivtdFaultInfo *fi)
{
    uint32_t before = vivtd_fsts_locked(s);
    unsigned i = s->next_frcd % VIVTD_NUM_FRCD;
    uint64_t hi;

    trace_viommu_vtd_fault(fi->sid, fi->has_pasid ? fi->pasid : 0xffffffffu, fi->addr,
                           fi->reason, fi->is_write);
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: fault 0x%x (%s) sid %04x addr 0x%"
                  PRIx64 "%s\n", fi->reason, vi_vtd_fault_reason_name(fi->reason),
                  fi->sid, fi->addr, fi->is_write ? " write" : " read");
    if (s->fsts & VIVTD_FSTS_PFO) {
        return;                         /* overflowed: nothing more is logged */
    }
    hi = VIVTD_FRCD_F | fi->sid | ((uint64_t)fi->reason << VIVTD_FRCD_FR_SHIFT);
    hi |= fi->is_write ? 0 : VIVTD_FRCD_T;
    if (fi->has_pasid) {
        hi |= VIVTD_FRCD_PP | ((uint64_t)(fi->pasid & 0xfffff) << VIVTD_FRCD_PV_SHIFT);
        hi |= fi->exec ? VIVTD_FRCD_EXE : 0;
        hi |= fi->priv ? VIVTD_FRCD_PRIV : 0;
    }
    /*
     * A fault identical to one still pending (same source, page, reason and
     * request type) is collapsed into it, as the architecture allows: the
     * memory core retries a refused access piecewise, which must not fill
     * the records with copies of one request's fault.
     */
    for (int j = 0; j < VIVTD_NUM_FRCD; j++) {
        if (s->frcd_hi[j] == hi && s->frcd_lo[j] == (fi->addr & ~0xfffull)) {
            return;
        }
    }
    if (s->frcd_hi[i] & VIVTD_FRCD_F) {
        s->fsts |= VIVTD_FSTS_PFO;
        trace_viommu_vtd_fault_overflow(fi->sid);
        vivtd_fault_event_locked(s, before);
        return;
    }
    s->frcd_lo[i] = fi->addr & ~0xfffull;
    s->frcd_hi[i] = hi;
    if (!(before & VIVTD_FSTS_PPF)) {
        s->fsts = (s->fsts & ~(0xffu << VIVTD_FSTS_FRI_SHIFT)) | (i << VIVTD_FSTS_FRI_SHIFT);
    }
    s->next_frcd = (i + 1) % VIVTD_NUM_FRCD;
    vivtd_fault_event_locked(s, before);
}

/* An invalidation-queue error: IQE with its info; the queue stops at head. */
static void vivtd_iq_error_locked(ViommuVtdState *s, unsigned iqei)
{
    uint32_t before = vivtd_fsts_locked(s);

    trace_viommu_vtd_qi_error(iqei, s->iqh);
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: invalidation queue error %u at head 0x%"
                  PRIx64 "\n", iqei, s->iqh);
    s->iqercd = (s->iqercd & ~0xfull) | iqei;
    s->fsts |= VIVTD_FSTS_IQE;
    vivtd_fault_event_locked(s, before);
}

/* ------------------------------------------------------------------------
 * Caches
 */

/* Every cache: context / PASID caches, IOTLB, interrupt entry cache. */
void vivtd_flush_all_locked(ViommuVtdState *s)
{
    viommu_fast_bump_locked(&s->fast);
    vi_cfg_cache_inv_all(s->cfg);
    vi_iotlb_inval_all(s->iotlb);
    vivtd_iec_flush_locked(s);
}

/* ------------------------------------------------------------------------
 * Invalidations
 */

static void vivtd_inv_context_locked(ViommuVtdState *s, unsigned g, uint16_t did, uint16_t sid,
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

/*
 * The range of a page-selective invalidation (6.5.2.3, 6.5.2.4): 2^am pages
 * at addr aligned to their size.  Any am the field holds is defined; from 52
 * on the range is the whole input space.
 */
static void vivtd_inv_range(vi_iotlb_scope *sc, uint64_t addr, unsigned am)
{
    uint64_t len;

    if (am >= 64 - 12) {
        sc->addr = 0;
        sc->len = UINT64_MAX;
        return;
    }
    len = 4096ull << am;
    sc->addr = addr & ~(len - 1);
    sc->len = len;
}

/*
 * IOTLB (second-stage, nested and pass-through mappings of a domain).  The
 * G bit of first-stage entries does not exempt them from anything here: a
 * domain-selective or page-selective invalidation names every mapping of the
 * DID (6.5.2.3), hence tagged_global.
 */
static void vivtd_inv_iotlb_locked(ViommuVtdState *s, unsigned g, uint16_t did, uint64_t addr,
                                   unsigned am)
{
    vi_iotlb_scope sc = { .tagged_global = true };

    switch (g) {
    case 1:
        vi_iotlb_inval_all(s->iotlb);
        return;
    case 2:
        sc.match = VI_IOTLB_M_ASID;
        break;
    default:
        sc.match = VI_IOTLB_M_ASID | VI_IOTLB_M_ADDR;
        vivtd_inv_range(&sc, addr, am);
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

/*
 * PASID-based IOTLB (first-stage and nested mappings of a PASID, 6.5.2.4).
 * Global (G) first-stage entries only survive the non-global
 * PASID-selective granularity.
 */
static void vivtd_inv_piotlb_locked(ViommuVtdState *s, unsigned g, uint16_t did, uint32_t pasid,
                                    uint64_t addr, unsigned am)
{
    vi_iotlb_scope sc = { .tag = { .asid = did, .ssid = pasid }, .tagged_global = g != 2 };

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
        vivtd_inv_range(&sc, addr, am);
        break;
    }
    vi_iotlb_invalidate(s->iotlb, &sc);
}

static void vivtd_inv_pasid_cache_locked(ViommuVtdState *s, unsigned g, uint16_t did,
                                         uint32_t pasid)
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

/*
 * A device-TLB / PASID-based device-TLB invalidate descriptor (6.5.2.5,
 * 6.5.2.6): an ATS Invalidate Request to the function SID, sent once s->lock
 * is dropped (vivtd_unlock(): it calls the device).  With all 32 ITags of
 * the function outstanding the descriptor waits (IQH stays; a completion
 * continues the queue).  A SID with no device-TLB attached has nothing cached.
 */
static unsigned vivtd_inv_devtlb_locked(ViommuVtdState *s, const uint64_t *d, bool pasid,
                                        VivtdDeferred *dd)
{
    uint16_t sid = pasid ? FIELD_EX64(d[0], VIVTD_PDTLB0, SID) : FIELD_EX64(d[0], VIVTD_DTLB0, SID);
    bool size = pasid ? FIELD_EX64(d[1], VIVTD_PDTLB1, S) : FIELD_EX64(d[1], VIVTD_DTLB1, S);
    ViommuAtsPort *p;

    if (!pasid && ((d[0] & VIVTD_DTLB0_RSVD) || (d[1] & VIVTD_DTLB1_RSVD))) {
        return VIVTD_IQEI_RSVD;
    }
    if (pasid && (d[1] & VIVTD_PDTLB1_RSVD)) {
        return VIVTD_IQEI_RSVD;
    }
    dd->ats_inv = (ViommuAtsInvalidate) {
        .range = (d[1] & ~0xfffull) | (size ? VIOMMU_ATS_S : 0),
        .pasid_valid = pasid,
        .pasid = pasid ? FIELD_EX64(d[0], VIVTD_INV0, PASID) : 0,
        .global = pasid && FIELD_EX64(d[1], VIVTD_PDTLB1, G),
    };
    trace_viommu_vtd_devtlb_inv(sid, pasid, dd->ats_inv.pasid, dd->ats_inv.range,
                                dd->ats_inv.global);
    QLIST_FOREACH(p, &s->ats_host.ports, next) {
        if (vivtd_as_sid(container_of(p, VivtdAS, ats_port)) != sid) {
            continue;
        }
        if (!viommu_ats_port_can_send(p)) {
            return VIVTD_QI_DEFER;
        }
        dd->ats_port = p;
        return 0;
    }
    return 0;
}

static void vivtd_inv_wait_locked(ViommuVtdState *s, const uint64_t *d)
{
    if (FIELD_EX64(d[0], VIVTD_WAIT0, SW)) {
        uint8_t buf[4];
        uint32_t v = FIELD_EX64(d[0], VIVTD_WAIT0, SDATA);
        uint64_t sa = d[1] & ~3ull;

        stl_le_p(buf, v);
        if (!viommu_ram_write(sa, buf, 4)) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: wait status address 0x%" PRIx64
                          " is not RAM\n", sa);
        }
    }
    if (FIELD_EX64(d[0], VIVTD_WAIT0, IF) && !(s->ics & VIVTD_ICS_IWC)) {
        s->ics |= VIVTD_ICS_IWC;
        vivtd_ctl_event(&s->iectl, &s->inv_irq_pending);
    }
}

/*
 * Run one descriptor.  Returns 0 or the IQEI of the error.  Reserved-field
 * checks cover the fields this model defines for each type; descriptor
 * words beyond 128 bits are reserved for every type.
 */
static unsigned vivtd_run_desc_locked(ViommuVtdState *s, const uint64_t *d, bool wide,
                                      VivtdDeferred *dd)
{
    unsigned type = FIELD_EX64(d[0], VIVTD_INV0, TYPE_LO) |
                    (FIELD_EX64(d[0], VIVTD_INV0, TYPE_HI) << 4);
    unsigned g = FIELD_EX64(d[0], VIVTD_INV0, G);
    uint16_t did = FIELD_EX64(d[0], VIVTD_INV0, DID);
    uint32_t pasid = FIELD_EX64(d[0], VIVTD_INV0, PASID);

    trace_viommu_vtd_qi_desc(type, d[0], d[1]);
    if (type != VIVTD_INV_WAIT) {
        viommu_fast_bump_locked(&s->fast);      /* before the wait that follows */
    }
    if (wide && (d[2] || d[3])) {
        return VIVTD_IQEI_RSVD;
    }
    switch (type) {
    case VIVTD_INV_CC:
        if (!g || d[1] || (d[0] & (MAKE_64BIT_MASK(6, 3) | MAKE_64BIT_MASK(50, 14)))) {
            return VIVTD_IQEI_RSVD;
        }
        vivtd_inv_context_locked(s, g, did, FIELD_EX64(d[0], VIVTD_INV0, SID),
                                 FIELD_EX64(d[0], VIVTD_INV0, FM));
        break;
    case VIVTD_INV_IOTLB:
        if (!g || (d[0] & (MAKE_64BIT_MASK(8, 1) | MAKE_64BIT_MASK(32, 32))) ||
            (g == 3 && (FIELD_EX64(d[1], VIVTD_INV1, AM) > VIVTD_MAMV ||
                        (d[1] & MAKE_64BIT_MASK(7, 5))))) {
            return VIVTD_IQEI_RSVD;
        }
        vivtd_inv_iotlb_locked(s, g, did, d[1] & ~0xfffull, FIELD_EX64(d[1], VIVTD_INV1, AM));
        dd->unmap_all = true;
        break;
    case VIVTD_INV_PIOTLB:
        /* Granularities 00b and 01b are reserved (6.5.2.4). */
        if (g < 2) {
            return VIVTD_IQEI_RSVD;
        }
        /* Every AM is defined here (CAP.MAMV bounds only IOTLB_REG / IOTLB). */
        vivtd_inv_piotlb_locked(s, g, did, pasid, d[1] & ~0xfffull,
                                FIELD_EX64(d[1], VIVTD_INV1, AM));
        dd->unmap_all = true;
        break;
    case VIVTD_INV_PC:
        if (g == 2 || d[1]) {
            return VIVTD_IQEI_RSVD;
        }
        vivtd_inv_pasid_cache_locked(s, g, did, pasid);
        break;
    case VIVTD_INV_DEVTLB:
    case VIVTD_INV_PDEVTLB:
        /* Without ECAP.DT these types do not exist (6.5.2.5, 6.5.2.6). */
        if (!X86_IOMMU_DEVICE(s)->dt_supported) {
            return VIVTD_IQEI_TYPE;
        }
        return vivtd_inv_devtlb_locked(s, d, type == VIVTD_INV_PDEVTLB, dd);
    case VIVTD_INV_IEC:
        if ((d[0] & VIVTD_IEC0_RSVD) || d[1]) {
            return VIVTD_IQEI_RSVD;
        }
        return vivtd_inv_iec_locked(s, d, dd);
    case VIVTD_INV_PGRP:
        if (!s->prs_on) {
            return VIVTD_IQEI_TYPE;
        }
        return vivtd_inv_pgrp_locked(s, d, dd);
    case VIVTD_INV_WAIT:
        /*
         * PD (page-request drain) exists with ECAP.PDS only.  Page requests
         * are in the queue (or answered) when they arrive, so a drain only
         * needs the responses before the wait sent (7.10), as below.
         */
        if ((d[0] & VIVTD_WAIT0_RSVD & ~(s->prs_on ? VIVTD_WAIT_PD : 0)) || (d[1] & 3)) {
            return VIVTD_IQEI_RSVD;
        }
        /*
         * With CAP.DWD/DRD the status write comes after what the descriptors
         * before it caused: their notifications and page group responses
         * went out (vivtd_unlock() continues here), and translations that
         * started before have returned.
         */
        if (dd->unmap_all || dd->iec || dd->iec_global || dd->nprg) {
            dd->requeue = true;
            return VIVTD_QI_DEFER;
        }
        /*
         * The device-TLB invalidations before it completed (6.5.2.8: the
         * wait orders them too); their Invalidate Completions continue the
         * queue from s->qi_bh.
         */
        if (!viommu_ats_host_idle(&s->ats_host)) {
            trace_viommu_vtd_wait_devtlb(s->ats_host.pending);
            return VIVTD_QI_DEFER;
        }
        if (!viommu_fast_quiesce(&s->fast, s->qi_bh)) {
            return VIVTD_QI_DEFER;      /* s->qi_bh continues */
        }
        vivtd_inv_wait_locked(s, d);
        break;
    default:
        return VIVTD_IQEI_TYPE;
    }
    return 0;
}

/* Process the queue from IQH to IQT (at most one pass over the queue). */
static void vivtd_process_queue_locked(ViommuVtdState *s, VivtdDeferred *dd)
{
    bool wide = FIELD_EX64(s->iqa, VIVTD_IQA, DW);
    unsigned dsize = wide ? 32 : 16;
    uint64_t entries = (4096ull << FIELD_EX64(s->iqa, VIVTD_IQA, QS)) / dsize;
    uint64_t base = s->iqa & ~0xfffull;
    uint64_t head = (s->iqh & 0x7fff0) / dsize, tail = (s->iqt & 0x7fff0) / dsize;

    if (!(s->gsts & VIVTD_GCMD_QIE) || (s->fsts & VIVTD_FSTS_IQE)) {
        return;
    }
    if (wide && (s->iqt & 0x10)) {
        vivtd_iq_error_locked(s, VIVTD_IQEI_TAIL);
        return;
    }
    if (wide && !s->scalable) {
        vivtd_iq_error_locked(s, VIVTD_IQEI_WIDTH);
        return;
    }
    if (!wide && (s->rtaddr_act & VIVTD_RTADDR_SMT)) {
        vivtd_iq_error_locked(s, VIVTD_IQEI_WIDTH);
        return;
    }
    if (tail >= entries) {
        vivtd_iq_error_locked(s, VIVTD_IQEI_TAIL);
        return;
    }
    for (uint64_t n = 0; n < entries && head != tail; n++) {
        uint64_t d[4] = { 0 };
        unsigned err;

        s->iqh = head * dsize;
        if (vi_mem_read_le64s(&viommu_ram, base + head * dsize, d, dsize / 8) != VI_MEM_OK) {
            vivtd_iq_error_locked(s, VIVTD_IQEI_FETCH);
            return;
        }
        err = vivtd_run_desc_locked(s, d, wide, dd);
        if (err == VIVTD_QI_DEFER) {
            return;             /* IQH stays at the wait (or device-TLB) descriptor */
        }
        if (err) {
            vivtd_iq_error_locked(s, err);
            return;
        }
        head = (head + 1) % entries;
        if (dd->ats_port) {
            /* Sent by vivtd_unlock(), which continues the queue after it. */
            s->iqh = head * dsize;
            dd->requeue = true;
            return;
        }
    }
    s->iqh = head * dsize;
}

/* ------------------------------------------------------------------------
 * Registers
 */

static void vivtd_handle_gcmd_locked(ViommuVtdState *s, uint32_t val, VivtdDeferred *dd)
{
    const uint32_t persist = VIVTD_GCMD_TE | VIVTD_GCMD_QIE | VIVTD_GCMD_IRE | VIVTD_GCMD_CFI;
    uint32_t changed = (val ^ s->gsts) & persist;

    if (val & VIVTD_GCMD_SRTP) {
        s->rtaddr_act = s->rtaddr;
        s->gsts |= VIVTD_GCMD_SRTP;
        vivtd_flush_all_locked(s);               /* ESRTPS: caches flushed by SRTP */
        dd->unmap_all = true;
    }
    if (val & VIVTD_GCMD_SIRTP) {
        s->irta_act = s->irta;
        s->gsts |= VIVTD_GCMD_SIRTP;
        vivtd_iec_flush_locked(s);      /* ESIRTPS */
        dd->iec_global = true;          /* ESIRTPS */
    }
    if (changed & VIVTD_GCMD_QIE) {
        if (val & VIVTD_GCMD_QIE) {
            s->iqh = 0;
            s->gsts |= VIVTD_GCMD_QIE;
        } else {
            s->gsts &= ~VIVTD_GCMD_QIE;
        }
    }
    if (changed & VIVTD_GCMD_TE) {
        s->gsts ^= VIVTD_GCMD_TE;
        dd->unmap_all = true;
    }
    if (changed & VIVTD_GCMD_IRE) {
        if ((val & VIVTD_GCMD_IRE) && !s->ir_on) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: IRE without interrupt remapping\n");
        } else {
            s->gsts ^= VIVTD_GCMD_IRE;
            dd->iec_global = true;
        }
    }
    if (changed & VIVTD_GCMD_CFI) {
        s->gsts ^= VIVTD_GCMD_CFI;
    }
    trace_viommu_vtd_gcmd(val, s->gsts);
}

static void vivtd_handle_ccmd_locked(ViommuVtdState *s)
{
    unsigned g = FIELD_EX64(s->ccmd, VIVTD_CCMD, CIRG);

    if (!(s->ccmd & VIVTD_CCMD_ICC)) {
        return;
    }
    if (s->gsts & VIVTD_GCMD_QIE) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: CCMD while queued invalidation is on\n");
    } else {
        vivtd_inv_context_locked(s, g, FIELD_EX64(s->ccmd, VIVTD_CCMD, DID),
                                 FIELD_EX64(s->ccmd, VIVTD_CCMD, SID),
                                 FIELD_EX64(s->ccmd, VIVTD_CCMD, FM));
    }
    /* Done: ICC clear, CAIG = the granularity performed. */
    s->ccmd = (s->ccmd & ~(VIVTD_CCMD_ICC | (3ull << VIVTD_CCMD_CAIG_SHIFT))) |
              ((uint64_t)g << VIVTD_CCMD_CAIG_SHIFT);
}

static void vivtd_handle_iotlb_reg_locked(ViommuVtdState *s, VivtdDeferred *dd)
{
    unsigned g = FIELD_EX64(s->iotlb_reg, VIVTD_IOTLBR, IIRG);

    if (!(s->iotlb_reg & VIVTD_IOTLB_IVT)) {
        return;
    }
    if (s->gsts & VIVTD_GCMD_QIE) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: IOTLB_REG while queued invalidation "
                      "is on\n");
        g = 0;
    } else if (g) {
        vivtd_inv_iotlb_locked(s, g, FIELD_EX64(s->iotlb_reg, VIVTD_IOTLBR, DID),
                               s->iva & ~0xfffull,
                               MIN(FIELD_EX64(s->iva, VIVTD_IVA, AM), VIVTD_MAMV));
        dd->unmap_all = true;
    }
    s->iotlb_reg = (s->iotlb_reg & ~(VIVTD_IOTLB_IVT | (3ull << VIVTD_IOTLB_IAIG_SHIFT))) |
                   ((uint64_t)g << VIVTD_IOTLB_IAIG_SHIFT);
}

static uint32_t vivtd_read32_locked(ViommuVtdState *s, hwaddr off)
{
    uint32_t v32;
    uint64_t v;

    if (vivtd_prq_read32_locked(s, off, &v32)) {
        return v32;
    }

    if (off >= VIVTD_FRCD0 && off < VIVTD_FRCD(VIVTD_NUM_FRCD)) {
        unsigned i = (off - VIVTD_FRCD0) / 16, w = (off & 0xf) / 4;

        v = w < 2 ? s->frcd_lo[i] : s->frcd_hi[i];
        return w & 1 ? v >> 32 : (uint32_t)v;
    }
    switch (off & ~7ull) {
    case VIVTD_CAP:
        v = s->cap;
        break;
    case VIVTD_ECAP:
        v = s->ecap;
        break;
    case VIVTD_RTADDR:
        v = s->rtaddr;
        break;
    case VIVTD_CCMD:
        v = s->ccmd;
        break;
    case VIVTD_IQH:
        v = s->iqh;
        break;
    case VIVTD_IQT:
        v = s->iqt;
        break;
    case VIVTD_IQA:
        v = s->iqa;
        break;
    case VIVTD_IQERCD:
        v = s->iqercd;
        break;
    case VIVTD_IRTA:
        v = s->irta;
        break;
    case VIVTD_IVA:
        v = s->iva;
        break;
    case VIVTD_IOTLB:
        v = s->iotlb_reg;
        break;
    default:
        switch (off) {
        case VIVTD_VER:
            return VIVTD_VER_VALUE;
        case VIVTD_GSTS:
            return s->gsts;
        case VIVTD_FSTS:
            return vivtd_fsts_locked(s);
        case VIVTD_FECTL:
            return s->fectl;
        case VIVTD_FEDATA:
            return s->fedata;
        case VIVTD_FEADDR:
            return s->feaddr;
        case VIVTD_FEUADDR:
            return s->feuaddr;
        case VIVTD_PMEN:
            return s->pmen;
        case VIVTD_ICS:
            return s->ics;
        case VIVTD_IECTL:
            return s->iectl;
        case VIVTD_IEDATA:
            return s->iedata;
        case VIVTD_IEADDR:
            return s->ieaddr;
        case VIVTD_IEUADDR:
            return s->ieuaddr;
        default:
            return 0;
        }
    }
    return off & 4 ? v >> 32 : (uint32_t)v;
}

/* Merge a 32-bit write into half of a 64-bit register. */
static uint64_t vivtd_merge(uint64_t reg, hwaddr off, uint32_t val)
{
    return off & 4 ? deposit64(reg, 32, 32, val) : deposit64(reg, 0, 32, val);
}

static void vivtd_write32_locked(ViommuVtdState *s, hwaddr off, uint32_t val, VivtdDeferred *dd)
{
    if (off >= VIVTD_FRCD0 && off < VIVTD_FRCD(VIVTD_NUM_FRCD)) {
        unsigned i = (off - VIVTD_FRCD0) / 16;

        /* Only F (bit 127) is writable: write 1 to clear. */
        if ((off & 0xf) == 12 && (val & (1u << 31))) {
            s->frcd_hi[i] &= ~VIVTD_FRCD_F;
            vivtd_fault_serviced_locked(s);
        }
        return;
    }
    if (vivtd_prq_write32_locked(s, off, val)) {
        return;
    }
    switch (off) {
    case VIVTD_GCMD:
        vivtd_handle_gcmd_locked(s, val, dd);
        return;
    case VIVTD_RTADDR:
    case VIVTD_RTADDR + 4:
        s->rtaddr = vivtd_merge(s->rtaddr, off, val) & (~0xfffull | (3ull << 10));
        return;
    case VIVTD_CCMD:
    case VIVTD_CCMD + 4:
        s->ccmd = vivtd_merge(s->ccmd, off, val);
        if (off & 4) {
            vivtd_handle_ccmd_locked(s);
        }
        return;
    case VIVTD_IVA:
    case VIVTD_IVA + 4:
        s->iva = vivtd_merge(s->iva, off, val) & (~0xfffull | 0x7f);
        return;
    case VIVTD_IOTLB:
    case VIVTD_IOTLB + 4:
        s->iotlb_reg = vivtd_merge(s->iotlb_reg, off, val);
        if (off & 4) {
            vivtd_handle_iotlb_reg_locked(s, dd);
        }
        return;
    case VIVTD_FSTS:
        /* PFO, IQE, ICE, ITE are write-1-to-clear; the IQERCD goes with IQE. */
        s->fsts &= ~(val & (VIVTD_FSTS_PFO | VIVTD_FSTS_IQE | VIVTD_FSTS_ICE | VIVTD_FSTS_ITE));
        vivtd_fault_serviced_locked(s);
        if (val & VIVTD_FSTS_IQE) {
            s->iqercd &= ~0xfull;
            vivtd_process_queue_locked(s, dd);     /* the queue resumes at IQH */
        }
        return;
    case VIVTD_FECTL:
        vivtd_ctl_write(&s->fectl, val, &s->fault_irq_pending);
        return;
    case VIVTD_FEDATA:
        s->fedata = val;
        return;
    case VIVTD_FEADDR:
        s->feaddr = val & ~3u;
        return;
    case VIVTD_FEUADDR:
        s->feuaddr = val;
        return;
    case VIVTD_PMEN:
        /* No protected memory regions (PLMR = PHMR = 0): PRS mirrors EPM. */
        s->pmen = (val & (1u << 31)) ? (1u << 31) | 1 : 0;
        return;
    case VIVTD_IQT:
    case VIVTD_IQT + 4:
        s->iqt = vivtd_merge(s->iqt, off, val) & 0x7fff0;
        if (!(off & 4)) {
            vivtd_process_queue_locked(s, dd);
        }
        return;
    case VIVTD_IQA:
    case VIVTD_IQA + 4:
        s->iqa = vivtd_merge(s->iqa, off, val) &
                 (~0xfffull | VIVTD_IQA_QS_MASK | (s->scalable ? VIVTD_IQA_DW : 0));
        s->iqa &= VI_MASK(vivtd_haw(s) - 1, 0) | VIVTD_IQA_QS_MASK | VIVTD_IQA_DW;
        return;
    case VIVTD_ICS:
        if (val & VIVTD_ICS_IWC) {
            s->ics &= ~VIVTD_ICS_IWC;
            s->iectl &= ~VIVTD_CTL_IP;
        }
        return;
    case VIVTD_IECTL:
        vivtd_ctl_write(&s->iectl, val, &s->inv_irq_pending);
        return;
    case VIVTD_IEDATA:
        s->iedata = val;
        return;
    case VIVTD_IEADDR:
        s->ieaddr = val & ~3u;
        return;
    case VIVTD_IEUADDR:
        s->ieuaddr = val;
        return;
    case VIVTD_IRTA:
    case VIVTD_IRTA + 4:
        s->irta = vivtd_merge(s->irta, off, val) &
                  (~0xfffull | VIVTD_IRTA_S_MASK | (s->eim_on ? VIVTD_IRTA_EIME : 0));
        return;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: write 0x%x to read-only or "
                      "reserved register 0x%" HWADDR_PRIx "\n", val, off);
        return;
    }
}

static MemTxResult vivtd_mmio_read(void *opaque, hwaddr off, uint64_t *data, unsigned size,
                                   MemTxAttrs attrs)
{
    ViommuVtdState *s = opaque;

    vivtd_lock(s);
    *data = vivtd_read32_locked(s, off);
    vivtd_unlock(s, NULL);
    trace_viommu_vtd_mmio_read(off, *data);
    return MEMTX_OK;
}

static MemTxResult vivtd_mmio_write(void *opaque, hwaddr off, uint64_t data, unsigned size,
                                    MemTxAttrs attrs)
{
    ViommuVtdState *s = opaque;
    VivtdDeferred dd = { 0 };

    trace_viommu_vtd_mmio_write(off, data);
    vivtd_lock(s);
    vivtd_write32_locked(s, off, data, &dd);
    /* Any register may change translations: the hit path starts over. */
    viommu_fast_bump_locked(&s->fast);
    vivtd_unlock(s, &dd);
    return MEMTX_OK;
}

const MemoryRegionOps vivtd_mmio_ops = {
    .read_with_attrs = vivtd_mmio_read,
    .write_with_attrs = vivtd_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

