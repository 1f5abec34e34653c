/*
 * viommu-testdev: a PCIe endpoint with a programmable DMA engine, PASID, ATS,
 * PRI and MSI-X, for driving IOMMU models from qtests and guest tests.
 *
 * The register interface is include/hw/viommu/testdev-regs.h, described in
 * docs/testdev.rst.  Every DMA goes through the device's IOMMU address space
 * (pci_dma_rw with the requester ID), or, when tagged with a PASID, through the
 * address space our IOMMUs give for that PASID (hw/viommu/pasid-dma.c).  A
 * refused access ends the operation with a READ_FAULT/WRITE_FAULT error and
 * the failing address: the device never pretends to have read zeros.  With
 * PRI enabled and asked for (TD_OP_PRI), a refused access instead sends a
 * Page Request to the IOMMU (viommu_page_request()) and the operation waits
 * for the PRG Response: Success retries the refused piece, anything else ends
 * the operation.  With ATS enabled and asked for (TD_OP_ATS), DMA goes as
 * Translated requests through a small Address Translation Cache filled by
 * Translation Requests (viommu_ats_translate()) and emptied by the IOMMU's
 * Invalidate Requests.  Behind an IOMMU that stalls (Arm SMMUv3 stall
 * model), a refused access the IOMMU holds waits for software to resume it
 * (viommu_stall_attach()): Retry issues it again, anything else ends the
 * operation with the access's fault.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pcie.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "system/dma.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/testdev-regs.h"
#include "trace.h"

#define TYPE_VIOMMU_TESTDEV "viommu-testdev"
OBJECT_DECLARE_SIMPLE_TYPE(ViommuTestdevState, VIOMMU_TESTDEV)

/* DMA is done in pieces that never cross a 4 KiB boundary of either address,
 * so a fault is reported at the first byte of the page that was refused. */
#define TD_CHUNK 4096

/* td_run(): a page request was sent, the operation waits (not a TD_ERR_*). */
#define TD_RUN_WAIT 0xffffffffu

/* The operation code of OP, without its flags. */
#define TD_OP_FLAGS (TD_OP_PRI | TD_OP_ATS)

/* One Address Translation Cache entry: a Translation Completion (PCIe 6.0 10.2.3). */
typedef struct TdAtcEntry {
    bool valid;
    bool pasid_valid;
    uint32_t pasid;
    bool exec, priv;        /* the request's PASID attributes (part of the key) */
    uint64_t ubase;         /* untranslated range: ubase, 2^log2 bytes */
    uint64_t tbase;         /* translated base */
    unsigned log2;
    bool r, w;
} TdAtcEntry;

/* Where the operation stands with PRI (ViommuTestdevState.pri_state). */
enum {
    TD_PRI_IDLE = 0,
    TD_PRI_WAIT,            /* a page request is outstanding */
    TD_PRI_RESPONDED,       /* its response arrived; the engine continues */
};

/* Where the operation stands with a stall (ViommuTestdevState.stall_state). */
enum {
    TD_STALL_IDLE = 0,
    TD_STALL_WAIT,          /* an access is held by the IOMMU */
    TD_STALL_RESUMED,       /* its hold ended (stall_retry); the engine continues */
};

struct ViommuTestdevState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    QEMUTimer *timer;       /* completion after DELAY_NS */
    QEMUBH *bh;             /* completion with no delay */
    bool dma_active;        /* our own BAR refuses accesses made by our DMA */

    /* Registers (guest visible, migrated). */
    uint64_t src, dst;
    uint32_t len, op, pasid, pattern, irq, delay_ns;
    uint32_t status, error, completed;
    uint64_t result, fault_addr;

    /* PRI: the operation's progress and its outstanding request (migrated). */
    uint64_t run_off;       /* where the operation resumes after a page request */
    uint64_t pri_page;      /* page of the last request */
    uint32_t pri_state;     /* TD_PRI_* */
    uint32_t pri_prgi;      /* PRG index of the outstanding / last request */
    uint32_t pri_pasid;     /* TD_PASID of that request */
    uint32_t pri_code;      /* the response received (ViommuPrgCode) */
    uint32_t pri_next_prgi; /* 0..511, rolling */
    uint32_t pri_requests;  /* sent by this operation */
    uint32_t pri_page_tries;/* sent for pri_page by this operation */
    bool pri_attached;      /* our response handler is attached (not migrated) */

    /*
     * ATS.  The ATC is not migrated: it is empty after a load (and the
     * invalidations outstanding then are dropped, as the IOMMU's record of
     * them is not migrated either).  Counters and the delay are.
     */
    TdAtcEntry atc[TD_ATC_ENTRIES];
    uint32_t atc_next;      /* round-robin replacement */
    uint32_t atc_hits, atc_misses, ats_invals, ats_inv_delay_ns;
    ViommuAtsInvalidate inv[VIOMMU_ATS_ITAGS];  /* received, not yet completed */
    uint32_t ninv;
    QEMUTimer *ats_timer;   /* completes the invalidations received, after the delay */
    QEMUBH *ats_bh;         /* the same without delay */
    bool ats_attached;

    /* Stalls: the held access's fault and progress (migrated). */
    uint32_t stall_state;   /* TD_STALL_* */
    uint32_t stall_err;     /* the fault the held access ends with, if not retried */
    bool stall_retry;       /* the hold ended with Retry */
    uint32_t stalls;        /* accesses held during this operation */
    bool stall_attached;    /* the IOMMU may hold our accesses (not migrated) */

    /* Properties. */
    uint8_t pasid_width;
    bool ats, pri;
    bool dma_can_stall;
};

/* ------------------------------------------------------------------------
 * The DMA engine
 */

typedef struct TdDma {
    ViommuTestdevState *s;
    AddressSpace *as;       /* PASID address space, or NULL for pci_dma_rw */
    MemTxAttrs attrs;
    bool ats;               /* Translated requests through the ATC */
    uint32_t err;           /* why an access failed, when not a plain fault */
    uint32_t mmio_left;     /* of TD_MMIO_BUDGET, this run */
} TdDma;

static bool td_ats_rw(TdDma *d, uint64_t addr, void *buf, uint32_t len, DMADirection dir);

/* A non-RAM target (a peer's BAR, or the refusal QEMU maps to unassigned) in 1/2/4-byte steps. */
static bool td_mmio_rw(MemoryRegion *mr, hwaddr xlat, uint8_t *p, hwaddr len, bool write,
                       MemTxAttrs attrs)
{
    while (len) {
        unsigned sz = 4;
        uint64_t val;

        while (sz > len || (xlat & (sz - 1))) {
            sz >>= 1;
        }
        if (write) {
            val = ldn_he_p(p, sz);
            if (memory_region_dispatch_write(mr, xlat, val, size_memop(sz), attrs) != MEMTX_OK) {
                return false;
            }
        } else {
            if (memory_region_dispatch_read(mr, xlat, &val, size_memop(sz), attrs) != MEMTX_OK) {
                return false;
            }
            stn_he_p(p, sz, val);
        }
        xlat += sz;
        p += sz;
        len -= sz;
    }
    return true;
}

/*
 * One piece of an operation (never crossing a TD_CHUNK boundary) is one
 * transaction, as one PCIe request is: translated once, then done whole, or
 * refused with nothing written.  dma_memory_rw() is not: after a refused piece
 * it goes on in MMIO-sized steps to unassigned memory and translates the rest
 * again each time, so a write in flight across a domain replace could be
 * refused and still land partly through the new domain.  RAM is written
 * directly (its dirty bitmap updated like every DMA's; DMA'd guest code is not
 * a case this device serves).
 */
static bool td_dma_rw(TdDma *d, uint64_t addr, void *buf, uint32_t len, DMADirection dir)
{
    AddressSpace *as = d->as ? d->as : pci_get_address_space(PCI_DEVICE(d->s));
    bool write = dir == DMA_DIRECTION_FROM_DEVICE;
    uint8_t *p = buf;

    if (d->ats) {
        return td_ats_rw(d, addr, buf, len, dir);
    }

    smp_mb();       /* as dma_memory_rw(): earlier device state before the access */
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, write, d->attrs);

        if (!l) {
            return false;
        }
        if (memory_access_is_direct(mr, write, d->attrs)) {
            uint8_t *ram = (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;

            if (write) {
                memcpy(ram, p, l);
                memory_region_set_dirty(mr, xlat, l);
            } else {
                fuzz_dma_read_cb(addr, l, mr);      /* as flatview_read(): generic-fuzz fills it */
                memcpy(p, ram, l);
            }
        } else if (l > d->mmio_left) {
            d->err = TD_ERR_MMIO_LIMIT;
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: more than %u bytes of DMA to or "
                          "from MMIO in one run\n", TD_MMIO_BUDGET);
            return false;
        } else if ((d->mmio_left -= l, !td_mmio_rw(mr, xlat, p, l, write, d->attrs))) {
            return false;
        }
        addr += l;
        p += l;
        len -= l;
    }
    return true;
}

static uint32_t td_chunk(uint64_t a, uint64_t b, uint64_t left)
{
    uint64_t n = MIN(left, TD_CHUNK - (a & (TD_CHUNK - 1)));

    return MIN(n, TD_CHUNK - (b & (TD_CHUNK - 1)));
}

/* ------------------------------------------------------------------------
 * ATS (PCIe 6.0 10.1-10.3): the ATC, Translation Requests, Translated
 * requests and Invalidate Requests
 */

static uint16_t td_ats_ctrl(ViommuTestdevState *s)
{
    return s->ats ? pci_get_word(PCI_DEVICE(s)->config + TD_CFG_ATS + PCI_ATS_CTRL) : 0;
}

static void td_atc_flush(ViommuTestdevState *s)
{
    memset(s->atc, 0, sizeof(s->atc));
    s->atc_next = 0;
}

static uint32_t td_atc_valid(ViommuTestdevState *s)
{
    uint32_t n = 0;

    for (unsigned i = 0; i < TD_ATC_ENTRIES; i++) {
        n += s->atc[i].valid;
    }
    return n;
}

static bool td_atc_key_match(const TdAtcEntry *e, const ViommuAtsRequest *req)
{
    return e->pasid_valid == req->pasid_valid &&
           (!e->pasid_valid || (e->pasid == req->pasid && e->exec == req->exec &&
                                e->priv == req->priv));
}

static bool td_range_has(uint64_t base, unsigned log2, uint64_t addr)
{
    return log2 >= 64 || (addr & ~((1ull << log2) - 1)) == base;
}

static TdAtcEntry *td_atc_lookup(ViommuTestdevState *s, const ViommuAtsRequest *req)
{
    for (unsigned i = 0; i < TD_ATC_ENTRIES; i++) {
        TdAtcEntry *e = &s->atc[i];

        if (e->valid && td_atc_key_match(e, req) && td_range_has(e->ubase, e->log2, req->addr)) {
            return e;
        }
    }
    return NULL;
}

static void td_ats_request(ViommuTestdevState *s, ViommuAtsRequest *req, uint64_t addr,
                           bool no_write)
{
    unsigned stu = PCI_ATS_CTRL_STU(td_ats_ctrl(s)) + 12;

    /* A request names an STU-aligned range (PCIe 6.0 10.2.2, 10.5.1.3). */
    *req = (ViommuAtsRequest) { .addr = addr & ~((1ull << stu) - 1), .no_write = no_write };
    if (s->pasid & TD_PASID_VALID) {
        req->pasid_valid = true;
        req->pasid = s->pasid & TD_PASID_VALUE_MASK;
        req->exec = s->pasid & TD_PASID_EXEC;
        req->priv = s->pasid & TD_PASID_PRIV;
    }
}

/*
 * Send one Translation Request and cache what it grants.  Returns the
 * entry, or NULL with d->err set (UR, CA, no path) or clear (R = W = 0: not
 * cached, the access is refused).
 */
static TdAtcEntry *td_atc_fill(TdDma *d, const ViommuAtsRequest *req, uint64_t *raw)
{
    ViommuTestdevState *s = d->s;
    ViommuAtsCompletion cpl;
    TdAtcEntry *e;
    uint64_t tbase;
    unsigned log2;
    int r;

    s->atc_misses++;
    r = viommu_ats_translate(PCI_DEVICE(s), req, &cpl);
    trace_viommu_testdev_ats_translate(req->addr, req->no_write, req->pasid_valid ? req->pasid : -1,
                                       r, cpl.status, cpl.entry);
    if (r < 0) {
        d->err = r == -ENODEV ? TD_ERR_NO_ATS_PATH : TD_ERR_ATS_UR;
        return NULL;
    }
    if (raw) {
        *raw = cpl.entry;
    }
    if (cpl.status != VIOMMU_ATS_SC) {
        d->err = cpl.status == VIOMMU_ATS_CA ? TD_ERR_ATS_CA : TD_ERR_ATS_UR;
        return NULL;
    }
    if (!(cpl.entry & (VIOMMU_ATS_CPL_R | VIOMMU_ATS_CPL_W))) {
        return NULL;            /* no access: nothing to cache (PCIe 6.0 10.2.3.3) */
    }
    log2 = viommu_ats_range_decode(cpl.entry & ~0x7ffull, &tbase);
    /* An entry replacing one of the same key and range keeps the ATC free of duplicates. */
    e = td_atc_lookup(s, req);
    if (!e) {
        e = &s->atc[s->atc_next];
        s->atc_next = (s->atc_next + 1) % TD_ATC_ENTRIES;
    }
    *e = (TdAtcEntry) {
        .valid = true, .pasid_valid = req->pasid_valid, .pasid = req->pasid,
        .exec = req->exec, .priv = req->priv,
        .ubase = log2 >= 64 ? 0 : req->addr & ~((1ull << log2) - 1),
        .tbase = tbase, .log2 = log2,
        .r = cpl.entry & VIOMMU_ATS_CPL_R, .w = cpl.entry & VIOMMU_ATS_CPL_W,
    };
    return e;
}

/* One piece of DMA as a Translated request, its translation from the ATC. */
static bool td_ats_rw(TdDma *d, uint64_t addr, void *buf, uint32_t len, DMADirection dir)
{
    ViommuTestdevState *s = d->s;
    bool write = dir == DMA_DIRECTION_FROM_DEVICE;
    ViommuAtsRequest req;
    TdAtcEntry *e;
    uint64_t taddr;
    TdDma t;
    bool ok;

    td_ats_request(s, &req, addr, !write);
    req.addr = addr;
    e = td_atc_lookup(s, &req);
    if (e && (write ? e->w : e->r)) {
        s->atc_hits++;
    } else {
        /* A miss, or a cached read-only entry for a write: translate (again). */
        td_ats_request(s, &req, addr, !write);
        e = td_atc_fill(d, &req, NULL);
        if (!e || !(write ? e->w : e->r)) {
            return false;
        }
    }
    taddr = e->tbase + (e->log2 >= 64 ? addr : addr & ((1ull << e->log2) - 1));
    t = (TdDma) { .s = s, .attrs = d->attrs, .mmio_left = d->mmio_left };
    t.as = viommu_ats_translated(PCI_DEVICE(s), taddr, write);
    trace_viommu_testdev_ats_dma(addr, taddr, write, t.as != NULL);
    if (!t.as) {
        return false;           /* the IOMMU refused the Translated request */
    }
    ok = td_dma_rw(&t, taddr, buf, len, dir);
    d->mmio_left = t.mmio_left;
    d->err = t.err;
    return ok;
}

/* Apply the invalidations received and send their completion (PCIe 6.0 10.3.2). */
static void td_ats_inv_complete(void *opaque)
{
    ViommuTestdevState *s = opaque;
    uint32_t vector = 0;

    for (uint32_t i = 0; i < s->ninv; i++) {
        const ViommuAtsInvalidate *inv = &s->inv[i];
        uint64_t base;
        unsigned log2 = viommu_ats_range_decode(inv->range, &base);

        for (unsigned j = 0; j < TD_ATC_ENTRIES; j++) {
            TdAtcEntry *e = &s->atc[j];
            unsigned big = MAX(log2, e->log2);

            if (!e->valid ||
                (!inv->global && (e->pasid_valid != inv->pasid_valid ||
                                  (e->pasid_valid && e->pasid != inv->pasid)))) {
                continue;
            }
            /* Two aligned power-of-two ranges overlap when the larger holds the smaller's base. */
            if (big >= 64 || ((base ^ e->ubase) & ~((1ull << big) - 1)) == 0) {
                e->valid = false;
            }
        }
        vector |= 1u << inv->itag;
    }
    s->ninv = 0;
    trace_viommu_testdev_ats_inv_complete(vector);
    if (vector && s->ats_attached) {
        viommu_ats_invalidate_complete(PCI_DEVICE(s), vector);
    }
}

/* An Invalidate Request from the IOMMU: recorded, applied and completed later. */
static void td_ats_invalidate(void *opaque, const ViommuAtsInvalidate *req)
{
    ViommuTestdevState *s = opaque;

    trace_viommu_testdev_ats_invalidate(req->range, req->pasid_valid ? req->pasid : -1,
                                        req->global, req->itag);
    s->ats_invals++;
    if (s->ninv == VIOMMU_ATS_ITAGS) {
        /* More than 32 outstanding: the IOMMU broke the ITag rule; drop it. */
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: Invalidate Request beyond 32 "
                      "outstanding ignored\n");
        return;
    }
    s->inv[s->ninv++] = *req;
    if (!s->ats_inv_delay_ns) {
        qemu_bh_schedule(s->ats_bh);
    } else if (!timer_pending(s->ats_timer)) {
        timer_mod(s->ats_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->ats_inv_delay_ns);
    }
}

/* ATS Enable changed, or reset / load: the ATC starts empty either way. */
static void td_ats_update(ViommuTestdevState *s)
{
    bool on = td_ats_ctrl(s) & PCI_ATS_CTRL_ENABLE;

    td_atc_flush(s);
    timer_del(s->ats_timer);
    qemu_bh_cancel(s->ats_bh);
    s->ninv = 0;
    if (s->ats_attached) {
        viommu_ats_detach(PCI_DEVICE(s));   /* outstanding invalidations end here */
        s->ats_attached = false;
    }
    if (on) {
        s->ats_attached = viommu_ats_attach(PCI_DEVICE(s), td_ats_invalidate, s);
    }
}

/* ------------------------------------------------------------------------
 * PRI (PCIe 6.0 10.4): page requests and PRG responses
 */

static uint16_t td_pri_ctrl(ViommuTestdevState *s)
{
    return s->pri ? pci_get_word(PCI_DEVICE(s)->config + TD_CFG_PRI + PCI_PRI_CTRL) : 0;
}

static uint16_t td_pri_status(ViommuTestdevState *s)
{
    return s->pri ? pci_get_word(PCI_DEVICE(s)->config + TD_CFG_PRI + PCI_PRI_STATUS) : 0;
}

static void td_pri_status_set(ViommuTestdevState *s, uint16_t set, uint16_t clear)
{
    if (s->pri) {
        pci_set_word(PCI_DEVICE(s)->config + TD_CFG_PRI + PCI_PRI_STATUS,
                     (td_pri_status(s) & ~clear) | set);
    }
}

/*
 * Stopped: Enable is clear and no page request is outstanding (undefined
 * while Enable is set: kept clear then).
 */
static void td_pri_update_stopped(ViommuTestdevState *s)
{
    bool stopped = !(td_pri_ctrl(s) & PCI_PRI_CTRL_ENABLE) && s->pri_state != TD_PRI_WAIT;

    td_pri_status_set(s, stopped ? PCI_PRI_STATUS_STOPPED : 0,
                      stopped ? 0 : PCI_PRI_STATUS_STOPPED);
}

/* Drop the outstanding request, if any, and our handler at the IOMMU. */
static void td_pri_cancel(ViommuTestdevState *s)
{
    if (s->pri_attached) {
        viommu_pri_detach(PCI_DEVICE(s));
        s->pri_attached = false;
    }
    s->pri_state = TD_PRI_IDLE;
    td_pri_update_stopped(s);
}

/* PRG Responses addressed to us: record, and let the engine continue. */
static void td_prg_response(void *opaque, const ViommuPrgResponse *rsp)
{
    ViommuTestdevState *s = opaque;
    bool had_pasid = s->pri_pasid & TD_PASID_VALID;

    trace_viommu_testdev_prg_response(rsp->prgi, rsp->pasid_valid, rsp->pasid, rsp->code,
                                      rsp->automatic);
    /*
     * PRG Response PASID Required is set: a response naming a PASID must
     * name the request's.  One without a PASID is matched by its PRG index
     * (the IOMMU's automatic Response Failure carries none).
     */
    if (s->pri_state != TD_PRI_WAIT || rsp->prgi != s->pri_prgi ||
        (rsp->pasid_valid &&
         (!had_pasid || rsp->pasid != (s->pri_pasid & TD_PASID_VALUE_MASK)))) {
        td_pri_status_set(s, PCI_PRI_STATUS_UPRGI, 0);
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: unexpected PRG response, PRGI %u "
                      "PASID %s0x%x\n", rsp->prgi, rsp->pasid_valid ? "" : "(none) ",
                      rsp->pasid);
        return;
    }
    s->pri_code = rsp->code;
    s->pri_state = TD_PRI_RESPONDED;
    if (rsp->code != VIOMMU_PRG_SUCCESS && rsp->code != VIOMMU_PRG_INVALID_REQUEST) {
        /* Response Failure (or a reserved code, treated alike). */
        td_pri_status_set(s, PCI_PRI_STATUS_RF, 0);
    }
    td_pri_update_stopped(s);
    qemu_bh_schedule(s->bh);
}

/*
 * A refused access at addr while running from off: send a page request for
 * its page and wait (TD_RUN_WAIT), or say why not (TD_ERR_*).
 */
static uint32_t td_page_request(ViommuTestdevState *s, uint64_t addr, bool write,
                                uint64_t off)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint32_t alloc = MIN(pci_get_long(pdev->config + TD_CFG_PRI + PCI_PRI_ALLOC_REQ),
                         TD_PRI_CAPACITY);
    uint64_t page = addr & ~(uint64_t)(TD_CHUNK - 1);
    ViommuPageRequest req = {
        .addr = page,
        .pasid_valid = s->pasid & TD_PASID_VALID,
        .read = !write,
        .write = write,
        .last = true,
    };
    int r;

    if (page != s->pri_page || !s->pri_requests) {
        s->pri_page = page;
        s->pri_page_tries = 0;
    }
    if (s->pri_requests >= alloc || s->pri_page_tries >= TD_PRI_PAGE_TRIES) {
        return TD_ERR_PRI_LIMIT;
    }
    if (!s->pri_attached) {
        s->pri_attached = viommu_pri_attach(pdev, td_prg_response, s);
        if (!s->pri_attached) {
            return TD_ERR_NO_PRI_PATH;
        }
    }
    if (req.pasid_valid) {
        req.pasid = s->pasid & TD_PASID_VALUE_MASK;
        req.exec = s->pasid & TD_PASID_EXEC;
        req.priv = s->pasid & TD_PASID_PRIV;
    }
    req.prgi = s->pri_prgi = s->pri_next_prgi;
    s->pri_next_prgi = (s->pri_next_prgi + 1) & 511;
    s->pri_pasid = s->pasid;
    s->pri_requests++;
    s->pri_page_tries++;
    s->run_off = off;
    s->pri_state = TD_PRI_WAIT;
    td_pri_update_stopped(s);
    trace_viommu_testdev_page_request(page, req.prgi, s->pasid, write);
    /* An automatic response may arrive before this returns. */
    r = viommu_page_request(pdev, &req);
    if (r < 0) {
        s->pri_state = TD_PRI_IDLE;
        td_pri_update_stopped(s);
        return TD_ERR_NO_PRI_PATH;
    }
    return TD_RUN_WAIT;
}

/* ------------------------------------------------------------------------
 * Stalls (IHI 0070 3.12.2): accesses the IOMMU holds until software resumes them
 */

static void td_stall_resume(void *opaque, bool retry)
{
    ViommuTestdevState *s = opaque;

    trace_viommu_testdev_stall_resume(retry, s->stall_state);
    if (s->stall_state != TD_STALL_WAIT) {
        return;                 /* reset or ended meanwhile: nothing waits */
    }
    s->stall_state = TD_STALL_RESUMED;
    s->stall_retry = retry;
    s->status &= ~TD_STATUS_STALLED;
    qemu_bh_schedule(s->bh);
}

static void td_stall_detach(ViommuTestdevState *s)
{
    if (s->stall_attached) {
        viommu_stall_detach(PCI_DEVICE(s));
        s->stall_attached = false;
    }
    s->stall_state = TD_STALL_IDLE;
}

/* A refused access: the end of the operation, a hold by the IOMMU, or a page request. */
static uint32_t td_fail(ViommuTestdevState *s, uint32_t err, uint64_t addr, uint64_t off)
{
    s->fault_addr = addr;
    if (err != TD_ERR_READ_FAULT && err != TD_ERR_WRITE_FAULT) {
        return err;             /* a Translation Completion error: no page request */
    }
    if (s->stall_attached && viommu_stall_held(PCI_DEVICE(s))) {
        s->stall_state = TD_STALL_WAIT;
        s->stall_err = err;
        s->stalls++;
        s->run_off = off;
        s->status |= TD_STATUS_STALLED;
        trace_viommu_testdev_stalled(addr, s->stalls);
        return TD_RUN_WAIT;
    }
    /* PRI asked for, enabled, and not stopped by a Response Failure. */
    if (!(s->op & TD_OP_PRI) || !(td_pri_ctrl(s) & PCI_PRI_CTRL_ENABLE) ||
        (td_pri_status(s) & PCI_PRI_STATUS_RF)) {
        return err;
    }
    return td_page_request(s, addr, err == TD_ERR_WRITE_FAULT, off);
}

/*
 * Run the programmed operation from s->run_off; returns a TD_ERR_* code, or
 * TD_RUN_WAIT when a page request was sent (the operation resumes from the
 * refused piece when its response is Success).
 */
static uint32_t td_run(ViommuTestdevState *s, TdDma *d)
{
    uint8_t a[TD_CHUNK], b[TD_CHUNK];
    uint64_t off = s->run_off;
    /* FNV-1a 64 offset basis, or the running checksum of the part done. */
    uint64_t sum = off ? s->result : 0xcbf29ce484222325ull;

    if ((s->op & ~TD_OP_FLAGS) >= TD_OP_TRANSLATE) {
        ViommuAtsRequest req;
        TdAtcEntry *e;

        /* One Translation Request; RESULT is its data entry, cached if it grants access. */
        td_ats_request(s, &req, s->src, (s->op & ~TD_OP_FLAGS) == TD_OP_TRANSLATE_RO);
        s->result = 0;
        d->err = TD_ERR_NONE;
        e = td_atc_fill(d, &req, &s->result);
        if (!e && d->err == TD_ERR_NONE && !(s->result & (VIOMMU_ATS_CPL_R | VIOMMU_ATS_CPL_W))) {
            return TD_ERR_NONE;     /* SC, R = W = 0: a valid answer, no access */
        }
        return d->err;
    }
    while (off < s->len) {
        uint64_t src = s->src + off, dst = s->dst + off;
        uint32_t n;

        d->err = TD_ERR_NONE;
        switch (s->op & ~TD_OP_FLAGS) {
        case TD_OP_COPY:
            n = td_chunk(src, dst, s->len - off);
            if (!td_dma_rw(d, src, a, n, DMA_DIRECTION_TO_DEVICE)) {
                return td_fail(s, d->err ? d->err : TD_ERR_READ_FAULT, src, off);
            }
            if (!td_dma_rw(d, dst, a, n, DMA_DIRECTION_FROM_DEVICE)) {
                return td_fail(s, d->err ? d->err : TD_ERR_WRITE_FAULT, dst, off);
            }
            break;
        case TD_OP_FILL:
            n = td_chunk(dst, dst, s->len - off);
            for (uint32_t i = 0; i < n; i++) {
                a[i] = s->pattern >> (8 * ((off + i) & 3));
            }
            if (!td_dma_rw(d, dst, a, n, DMA_DIRECTION_FROM_DEVICE)) {
                return td_fail(s, d->err ? d->err : TD_ERR_WRITE_FAULT, dst, off);
            }
            break;
        case TD_OP_COMPARE:
            n = td_chunk(src, dst, s->len - off);
            if (!td_dma_rw(d, src, a, n, DMA_DIRECTION_TO_DEVICE)) {
                return td_fail(s, d->err ? d->err : TD_ERR_READ_FAULT, src, off);
            }
            if (!td_dma_rw(d, dst, b, n, DMA_DIRECTION_TO_DEVICE)) {
                return td_fail(s, d->err ? d->err : TD_ERR_READ_FAULT, dst, off);
            }
            for (uint32_t i = 0; i < n; i++) {
                if (a[i] != b[i]) {
                    s->result = off + i;
                    s->status |= TD_STATUS_MISMATCH;
                    return TD_ERR_NONE;
                }
            }
            break;
        case TD_OP_CHECKSUM:
            n = td_chunk(src, src, s->len - off);
            if (!td_dma_rw(d, src, a, n, DMA_DIRECTION_TO_DEVICE)) {
                return td_fail(s, d->err ? d->err : TD_ERR_READ_FAULT, src, off);
            }
            for (uint32_t i = 0; i < n; i++) {
                sum = (sum ^ a[i]) * 0x100000001b3ull;  /* FNV-1a 64 prime */
            }
            s->result = sum;
            break;
        default:
            return TD_ERR_BAD_OP;   /* checked at GO; kept for the invariant */
        }
        off += n;
    }
    return TD_ERR_NONE;
}

static void td_complete(ViommuTestdevState *s, uint32_t err)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    s->error = err;
    s->status &= ~TD_STATUS_BUSY;
    s->status |= TD_STATUS_DONE | (err ? TD_STATUS_ERROR : 0);
    s->completed++;
    trace_viommu_testdev_done(s->op, err, s->fault_addr, s->result);
    if (err) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: operation %u failed: error %u "
                      "at 0x%" PRIx64 "\n", s->op, err, s->fault_addr);
    }
    if ((s->irq & TD_IRQ_ENABLE) && msix_enabled(pdev)) {
        msix_notify(pdev, s->irq & TD_IRQ_VECTOR_MASK);
    }
}

/* Check what can be checked before the engine starts; returns a TD_ERR_* code. */
static uint32_t td_prepare(ViommuTestdevState *s, TdDma *d)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    *d = (TdDma) { .s = s, .attrs = { .requester_id = pci_requester_id(pdev) },
                   .mmio_left = TD_MMIO_BUDGET };
    if ((s->op & ~TD_OP_FLAGS) > TD_OP_MAX) {
        return TD_ERR_BAD_OP;
    }
    if (s->len == 0 || s->len > TD_MAX_LEN_VALUE) {
        return TD_ERR_BAD_LEN;
    }
    if (s->src + s->len - 1 < s->src || s->dst + s->len - 1 < s->dst) {
        return TD_ERR_ADDR_WRAP;
    }
    if ((s->irq & TD_IRQ_ENABLE) &&
        (s->irq & TD_IRQ_VECTOR_MASK) >= VIOMMU_TESTDEV_MSIX_VECTORS) {
        return TD_ERR_BAD_VECTOR;
    }
    if (!(pci_get_word(pdev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return TD_ERR_NO_BUS_MASTER;
    }
    if (s->pasid & TD_PASID_VALID) {
        uint16_t ctrl = s->pasid_width ?
            pci_get_word(pdev->config + TD_CFG_PASID + PCI_PASID_CTRL) : 0;
        unsigned attrs = 0;

        if (!(ctrl & PCI_PASID_CTRL_ENABLE) ||
            ((s->pasid & TD_PASID_EXEC) && !(ctrl & PCI_PASID_CTRL_EXEC)) ||
            ((s->pasid & TD_PASID_PRIV) && !(ctrl & PCI_PASID_CTRL_PRIV)) ||
            (s->pasid & TD_PASID_VALUE_MASK) >= (1u << s->pasid_width)) {
            return TD_ERR_PASID_DISABLED;
        }
        attrs |= (s->pasid & TD_PASID_EXEC) ? VIOMMU_PASID_EXEC : 0;
        attrs |= (s->pasid & TD_PASID_PRIV) ? VIOMMU_PASID_PRIV : 0;
        d->as = viommu_pasid_address_space(pdev, s->pasid & TD_PASID_VALUE_MASK, attrs);
        if (!d->as) {
            return TD_ERR_NO_PASID_PATH;
        }
    }
    if (s->dma_can_stall && !s->stall_attached) {
        s->stall_attached = viommu_stall_attach(pdev, td_stall_resume, s);
    }
    if ((s->op & TD_OP_ATS) || (s->op & ~TD_OP_FLAGS) >= TD_OP_TRANSLATE) {
        if (!(td_ats_ctrl(s) & PCI_ATS_CTRL_ENABLE)) {
            return TD_ERR_ATS_DISABLED;
        }
        if (!s->ats_attached) {
            return TD_ERR_NO_ATS_PATH;
        }
        d->ats = s->op & TD_OP_ATS;
    }
    return TD_ERR_NONE;
}

static void td_execute(ViommuTestdevState *s)
{
    TdDma d;
    uint32_t err;

    if (!(s->status & TD_STATUS_BUSY) || s->pri_state == TD_PRI_WAIT ||
        s->stall_state == TD_STALL_WAIT) {
        return;                 /* reset meanwhile, or the response / resume calls again */
    }
    if (s->stall_state == TD_STALL_RESUMED) {
        s->stall_state = TD_STALL_IDLE;
        if (!s->stall_retry) {
            td_complete(s, s->stall_err);   /* terminated: the access's fault */
            return;
        }
        s->fault_addr = 0;      /* Retry: issue the held access again */
    }
    if (s->pri_state == TD_PRI_RESPONDED) {
        s->pri_state = TD_PRI_IDLE;
        if (s->pri_code == VIOMMU_PRG_INVALID_REQUEST) {
            td_complete(s, TD_ERR_PRI_DENIED);
            return;
        } else if (s->pri_code != VIOMMU_PRG_SUCCESS) {
            td_complete(s, TD_ERR_PRI_FAILURE);
            return;
        }
        s->fault_addr = 0;      /* Success: retry the refused piece */
    }
    err = td_prepare(s, &d);    /* again: config space may have changed meanwhile */
    if (err == TD_ERR_NONE) {
        s->dma_active = true;
        err = td_run(s, &d);
        s->dma_active = false;
    }
    if (d.as) {
        viommu_pasid_address_space_put(PCI_DEVICE(s), d.as);
    }
    if (err != TD_RUN_WAIT) {
        td_complete(s, err);
    }
}

static void td_timer_cb(void *opaque)
{
    td_execute(opaque);
}

static void td_bh_cb(void *opaque)
{
    td_execute(opaque);
}

static void td_go(ViommuTestdevState *s)
{
    TdDma d;
    uint32_t err;

    s->status = TD_STATUS_BUSY;
    s->error = TD_ERR_NONE;
    s->result = (s->op & ~TD_OP_FLAGS) == TD_OP_COMPARE ? TD_COMPARE_EQUAL : 0;
    s->fault_addr = 0;
    s->run_off = 0;
    s->pri_state = TD_PRI_IDLE;
    s->pri_requests = 0;
    s->pri_page_tries = 0;
    s->stall_state = TD_STALL_IDLE;
    s->stalls = 0;
    trace_viommu_testdev_start(s->op, s->src, s->dst, s->len, s->pasid);

    err = td_prepare(s, &d);
    if (d.as) {
        viommu_pasid_address_space_put(PCI_DEVICE(s), d.as);   /* each run takes it again */
    }
    if (err != TD_ERR_NONE) {
        td_complete(s, err);
    } else if (s->delay_ns) {
        timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + s->delay_ns);
    } else {
        qemu_bh_schedule(s->bh);
    }
}

static void td_stop(ViommuTestdevState *s)
{
    timer_del(s->timer);
    qemu_bh_cancel(s->bh);
    td_pri_cancel(s);
    td_stall_detach(s);         /* a held access is forgotten by the IOMMU too */
    s->status = 0;
    s->error = TD_ERR_NONE;
}

/* ------------------------------------------------------------------------
 * Registers
 */

static uint64_t td_reg_read(ViommuTestdevState *s, hwaddr addr)
{
    switch (addr) {
    case TD_ID:             return TD_ID_VALUE;
    case TD_VERSION:        return TD_VERSION_VALUE;
    case TD_CAPS:
        return viommu_pasid_address_space(PCI_DEVICE(s), 0, 0) ? TD_CAPS_PASID_PATH : 0;
    case TD_MAX_LEN:        return TD_MAX_LEN_VALUE;
    case TD_SRC_LO:         return (uint32_t)s->src;
    case TD_SRC_HI:         return s->src >> 32;
    case TD_DST_LO:         return (uint32_t)s->dst;
    case TD_DST_HI:         return s->dst >> 32;
    case TD_LEN:            return s->len;
    case TD_OP:             return s->op;
    case TD_PASID:          return s->pasid;
    case TD_PATTERN:        return s->pattern;
    case TD_IRQ:            return s->irq;
    case TD_DELAY_NS:       return s->delay_ns;
    case TD_STATUS:
        return s->status | (s->pri_state == TD_PRI_WAIT ? TD_STATUS_PRI_WAIT : 0);
    case TD_ERROR:          return s->error;
    case TD_RESULT_LO:      return (uint32_t)s->result;
    case TD_RESULT_HI:      return s->result >> 32;
    case TD_FAULT_ADDR_LO:  return (uint32_t)s->fault_addr;
    case TD_FAULT_ADDR_HI:  return s->fault_addr >> 32;
    case TD_COMPLETED:      return s->completed;
    case TD_PRI_REQUESTS:   return s->pri_requests;
    case TD_PRI_PRGI:       return s->pri_prgi;
    case TD_ATC_HITS:       return s->atc_hits;
    case TD_ATC_MISSES:     return s->atc_misses;
    case TD_ATS_INVALS:     return s->ats_invals;
    case TD_ATS_INV_DELAY_NS: return s->ats_inv_delay_ns;
    case TD_ATC_VALID:      return td_atc_valid(s);
    case TD_STALLS:         return s->stalls;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: read of unknown register 0x%"
                      HWADDR_PRIx "\n", addr);
        return 0;
    }
}

static void td_reg_write(ViommuTestdevState *s, hwaddr addr, uint32_t val)
{
    bool busy = s->status & TD_STATUS_BUSY;

    /* While busy only RESET is taken: the engine owns its parameters. */
    if (busy && !(addr == TD_CMD && (val & TD_CMD_RESET))) {
        s->status |= TD_STATUS_REJECTED;
        trace_viommu_testdev_rejected(addr);
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: write to 0x%" HWADDR_PRIx
                      " while busy ignored\n", addr);
        return;
    }
    switch (addr) {
    case TD_SRC_LO:     s->src = deposit64(s->src, 0, 32, val); break;
    case TD_SRC_HI:     s->src = deposit64(s->src, 32, 32, val); break;
    case TD_DST_LO:     s->dst = deposit64(s->dst, 0, 32, val); break;
    case TD_DST_HI:     s->dst = deposit64(s->dst, 32, 32, val); break;
    case TD_LEN:        s->len = val; break;
    case TD_OP:         s->op = val; break;
    case TD_PASID:
        s->pasid = val & (TD_PASID_VALID | TD_PASID_PRIV | TD_PASID_EXEC | TD_PASID_VALUE_MASK);
        break;
    case TD_PATTERN:    s->pattern = val; break;
    case TD_IRQ:        s->irq = val & (TD_IRQ_ENABLE | TD_IRQ_VECTOR_MASK); break;
    case TD_DELAY_NS:   s->delay_ns = val; break;
    case TD_ATS_INV_DELAY_NS: s->ats_inv_delay_ns = val; break;
    case TD_CMD:
        if (val & TD_CMD_RESET) {
            td_stop(s);
        } else if (val & TD_CMD_GO) {
            td_go(s);
        }
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-testdev: write of read-only or unknown "
                      "register 0x%" HWADDR_PRIx "\n", addr);
        break;
    }
}

static MemTxResult td_mmio_read(void *opaque, hwaddr addr, uint64_t *data,
                                unsigned size, MemTxAttrs attrs)
{
    ViommuTestdevState *s = opaque;

    if (s->dma_active) {
        return MEMTX_ACCESS_ERROR;  /* peer-to-peer into our own BAR: refused */
    }
    *data = td_reg_read(s, addr & ~3);
    if (size == 8) {
        *data |= td_reg_read(s, (addr & ~3) + 4) << 32;
    }
    trace_viommu_testdev_mmio_read(addr, *data);
    return MEMTX_OK;
}

static MemTxResult td_mmio_write(void *opaque, hwaddr addr, uint64_t data,
                                 unsigned size, MemTxAttrs attrs)
{
    ViommuTestdevState *s = opaque;

    if (s->dma_active) {
        return MEMTX_ACCESS_ERROR;
    }
    trace_viommu_testdev_mmio_write(addr, data);
    /* A 64-bit write is its low half, then its high half. */
    td_reg_write(s, addr & ~3, data);
    if (size == 8) {
        td_reg_write(s, (addr & ~3) + 4, data >> 32);
    }
    return MEMTX_OK;
}

static const MemoryRegionOps td_mmio_ops = {
    .read_with_attrs = td_mmio_read,
    .write_with_attrs = td_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8, .unaligned = false },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

/* ------------------------------------------------------------------------
 * Config space: PCIe, ATS, PASID, PRI, MSI-X
 */

static void td_init_pasid_cap(ViommuTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint16_t off = TD_CFG_PASID;

    pcie_add_capability(pdev, PCI_EXT_CAP_ID_PASID, 1, off, PCI_EXT_CAP_PASID_SIZEOF);
    /* PCIe 6.0 7.8.8.2: Max PASID Width in bits 12:8, EXEC and PRIV supported. */
    pci_set_word(pdev->config + off + PCI_PASID_CAP,
                 PCI_PASID_CAP_EXEC | PCI_PASID_CAP_PRIV | (s->pasid_width << 8));
    pci_set_word(pdev->wmask + off + PCI_PASID_CTRL,
                 PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_EXEC | PCI_PASID_CTRL_PRIV);
}

/*
 * PRI Control writes (PCIe 6.0 7.8.11.2): Reset, with Enable clear (or being
 * cleared), drops the outstanding request, whose operation then ends with
 * PRI_FAILURE; Reset always reads as 0.  Clearing Enable stops new requests
 * (an outstanding one still gets its response).
 */
static void td_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val, int len)
{
    ViommuTestdevState *s = VIOMMU_TESTDEV(pdev);
    uint8_t *ctrl = pdev->config + TD_CFG_PRI + PCI_PRI_CTRL;
    uint16_t ats_old = td_ats_ctrl(s);

    pci_default_write_config(pdev, addr, val, len);
    /* ATS Enable or STU changed: the ATC's content is no longer valid (PCIe 6.0 7.8.3.3). */
    if (s->ats && td_ats_ctrl(s) != ats_old) {
        trace_viommu_testdev_ats_ctrl(td_ats_ctrl(s));
        td_ats_update(s);
    }
    if (!s->pri || !ranges_overlap(addr, len, TD_CFG_PRI + PCI_PRI_CTRL, 2)) {
        return;
    }
    if (pci_get_word(ctrl) & PCI_PRI_CTRL_RESET) {
        pci_set_word(ctrl, pci_get_word(ctrl) & ~PCI_PRI_CTRL_RESET);
        if (!(pci_get_word(ctrl) & PCI_PRI_CTRL_ENABLE)) {
            bool waiting = s->pri_state != TD_PRI_IDLE && (s->status & TD_STATUS_BUSY);

            trace_viommu_testdev_pri_reset(waiting);
            td_pri_cancel(s);
            if (waiting) {
                qemu_bh_cancel(s->bh);
                td_complete(s, TD_ERR_PRI_FAILURE);
            }
        }
    }
    td_pri_update_stopped(s);
}

static void td_reset_ext_caps(ViommuTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (s->pasid_width) {
        pci_set_word(pdev->config + TD_CFG_PASID + PCI_PASID_CTRL, 0);
    }
    if (s->ats) {
        pci_set_word(pdev->config + TD_CFG_ATS + PCI_ATS_CTRL, 0);
    }
    if (s->pri) {
        pci_set_word(pdev->config + TD_CFG_PRI + PCI_PRI_CTRL, 0);
        pci_set_long(pdev->config + TD_CFG_PRI + PCI_PRI_ALLOC_REQ, 0);
        /* Stopped while disabled; responses must carry the PASID of the request. */
        pci_set_word(pdev->config + TD_CFG_PRI + PCI_PRI_STATUS,
                     PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
    }
}

static void td_init_pri_cap(ViommuTestdevState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint16_t off = TD_CFG_PRI;

    pcie_add_capability(pdev, PCI_EXT_CAP_ID_PRI, 1, off, PCI_EXT_CAP_PRI_SIZEOF);
    pci_set_word(pdev->wmask + off + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE | PCI_PRI_CTRL_RESET);
    pci_set_word(pdev->config + off + PCI_PRI_STATUS,
                 PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
    pci_set_word(pdev->w1cmask + off + PCI_PRI_STATUS,
                 PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI);
    /* Stopped is device state, not a constant: a migration may carry either value. */
    pci_word_test_and_clear_mask(pdev->cmask + off + PCI_PRI_STATUS, PCI_PRI_STATUS_STOPPED);
    pci_set_long(pdev->config + off + PCI_PRI_MAX_REQ, TD_PRI_CAPACITY);
    pci_set_long(pdev->wmask + off + PCI_PRI_ALLOC_REQ, UINT32_MAX);
}

static void td_realize(PCIDevice *pdev, Error **errp)
{
    ViommuTestdevState *s = VIOMMU_TESTDEV(pdev);

    if (s->pasid_width > 20) {
        error_setg(errp, "pasid-width must be 0 (no PASID) to 20, not %u", s->pasid_width);
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 0);
    if (pcie_endpoint_cap_init(pdev, TD_CFG_PCIE_CAP) < 0) {
        error_setg(errp, "viommu-testdev: cannot add the PCI Express capability");
        return;
    }
    /* One End-End TLP Prefix supported: what carries the PASID (PCIe 6.0 7.5.3.15). */
    pci_long_test_and_set_mask(pdev->config + TD_CFG_PCIE_CAP + PCI_EXP_DEVCAP2,
                               PCI_EXP_DEVCAP2_EE_PREFIX | (1u << 22));
    if (s->ats) {
        pcie_ats_init(pdev, TD_CFG_ATS, true);
        /* STU is bits 4:0 (PCIe 6.0 7.8.3.3); upstream's helper makes 3:0 writable. */
        pci_set_word(pdev->wmask + TD_CFG_ATS + PCI_ATS_CTRL,
                     PCI_ATS_CTRL_ENABLE | PCI_ATS_CTRL_STU(0x1f));
    } else if (s->pasid_width || s->pri) {
        /*
         * Extended capabilities start at 0x100 (PCIe 6.0 7.6.3): without ATS
         * a Null Extended Capability (ID 0) heads the list, so PASID and PRI
         * keep their offsets.
         */
        pcie_add_capability(pdev, 0, 1, TD_CFG_ATS, 8);
    }
    if (s->pasid_width) {
        td_init_pasid_cap(s);
    }
    if (s->pri) {
        td_init_pri_cap(s);
    }

    memory_region_init_io(&s->mmio, OBJECT(s), &td_mmio_ops, s, "viommu-testdev-regs",
                          VIOMMU_TESTDEV_REG_SIZE);
    pci_register_bar(pdev, VIOMMU_TESTDEV_REG_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
    if (msix_init_exclusive_bar(pdev, VIOMMU_TESTDEV_MSIX_VECTORS,
                                VIOMMU_TESTDEV_MSIX_BAR, errp)) {
        pcie_cap_exit(pdev);
        return;
    }
    for (unsigned v = 0; v < VIOMMU_TESTDEV_MSIX_VECTORS; v++) {
        msix_vector_use(pdev, v);
    }
    s->timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, td_timer_cb, s);
    s->ats_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, td_ats_inv_complete, s);
    s->ats_bh = qemu_bh_new_guarded(td_ats_inv_complete, s, &DEVICE(s)->mem_reentrancy_guard);
    s->bh = qemu_bh_new_guarded(td_bh_cb, s, &DEVICE(s)->mem_reentrancy_guard);
}

static void td_exit(PCIDevice *pdev)
{
    ViommuTestdevState *s = VIOMMU_TESTDEV(pdev);

    td_pri_cancel(s);           /* the IOMMU keeps no pointer to us */
    td_stall_detach(s);
    if (s->ats_attached) {
        viommu_ats_detach(pdev);
        s->ats_attached = false;
    }
    timer_free(s->ats_timer);
    qemu_bh_delete(s->ats_bh);
    timer_free(s->timer);
    qemu_bh_delete(s->bh);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    pcie_cap_exit(pdev);
}

static void td_reset(DeviceState *dev)
{
    ViommuTestdevState *s = VIOMMU_TESTDEV(dev);

    td_stop(s);
    s->src = s->dst = 0;
    s->len = s->op = s->pasid = s->pattern = s->irq = s->delay_ns = 0;
    s->completed = 0;
    s->result = s->fault_addr = 0;
    s->run_off = s->pri_page = 0;
    s->pri_prgi = s->pri_pasid = s->pri_code = s->pri_next_prgi = 0;
    s->pri_requests = s->pri_page_tries = 0;
    s->atc_hits = s->atc_misses = s->ats_invals = s->ats_inv_delay_ns = 0;
    s->stalls = s->stall_err = 0;
    td_reset_ext_caps(s);
    td_ats_update(s);           /* ATS Enable is clear: detached, ATC empty */
}

static int td_post_load(void *opaque, int version_id)
{
    ViommuTestdevState *s = opaque;

    if (s->pri_state > TD_PRI_RESPONDED || s->pri_prgi > 511 || s->pri_next_prgi > 511 ||
        s->run_off > s->len || s->stall_state > TD_STALL_RESUMED ||
        (s->stall_state != TD_STALL_IDLE && s->pri_state != TD_PRI_IDLE)) {
        return -EINVAL;
    }
    /*
     * The IOMMU's holds are not migrated: an access held at migration ends
     * terminated, with its fault, as the destination's IOMMU knows nothing
     * of it (a later CMD_RESUME for it matches nothing there).
     */
    s->stall_attached = false;
    if (s->stall_state == TD_STALL_WAIT) {
        s->stall_state = TD_STALL_RESUMED;
        s->stall_retry = false;
        s->status &= ~TD_STATUS_STALLED;
    }
    /*
     * An outstanding page request stays outstanding: its record is in the
     * IOMMU's queue in guest memory (or was read already), so software's
     * response after the migration completes it.  The IOMMU's routing of
     * responses to us is not migrated: attach again.
     */
    s->pri_attached = false;
    /* The ATC is not migrated: it starts empty; attach again if ATS is enabled. */
    s->ats_attached = false;
    td_ats_update(s);
    if (s->pri_state == TD_PRI_WAIT) {
        s->pri_attached = viommu_pri_attach(PCI_DEVICE(s), td_prg_response, s);
    }
    /* A completion scheduled by bottom half is not migrated: schedule it again. */
    if ((s->status & TD_STATUS_BUSY) && !timer_pending(s->timer)) {
        qemu_bh_schedule(s->bh);
    }
    return 0;
}

/* PRI progress, sent only once PRI has been used. */
static bool td_pri_needed(void *opaque)
{
    ViommuTestdevState *s = opaque;

    return s->pri_state != TD_PRI_IDLE || s->pri_requests || s->pri_next_prgi || s->run_off;
}

static const VMStateDescription vmstate_viommu_testdev_pri = {
    .name = TYPE_VIOMMU_TESTDEV "/pri",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = td_pri_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(run_off, ViommuTestdevState),
        VMSTATE_UINT64(pri_page, ViommuTestdevState),
        VMSTATE_UINT32(pri_state, ViommuTestdevState),
        VMSTATE_UINT32(pri_prgi, ViommuTestdevState),
        VMSTATE_UINT32(pri_pasid, ViommuTestdevState),
        VMSTATE_UINT32(pri_code, ViommuTestdevState),
        VMSTATE_UINT32(pri_next_prgi, ViommuTestdevState),
        VMSTATE_UINT32(pri_requests, ViommuTestdevState),
        VMSTATE_UINT32(pri_page_tries, ViommuTestdevState),
        VMSTATE_END_OF_LIST()
    },
};

/* ATS counters and the invalidation delay, sent once ATS has been used. */
static bool td_ats_needed(void *opaque)
{
    ViommuTestdevState *s = opaque;

    return s->atc_hits || s->atc_misses || s->ats_invals || s->ats_inv_delay_ns;
}

static const VMStateDescription vmstate_viommu_testdev_ats = {
    .name = TYPE_VIOMMU_TESTDEV "/ats",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = td_ats_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(atc_hits, ViommuTestdevState),
        VMSTATE_UINT32(atc_misses, ViommuTestdevState),
        VMSTATE_UINT32(ats_invals, ViommuTestdevState),
        VMSTATE_UINT32(ats_inv_delay_ns, ViommuTestdevState),
        VMSTATE_END_OF_LIST()
    },
};

/* Stall progress, sent once an access of the operation was held. */
static bool td_stall_needed(void *opaque)
{
    ViommuTestdevState *s = opaque;

    return s->stall_state != TD_STALL_IDLE || s->stalls;
}

static const VMStateDescription vmstate_viommu_testdev_stall = {
    .name = TYPE_VIOMMU_TESTDEV "/stall",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = td_stall_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(stall_state, ViommuTestdevState),
        VMSTATE_UINT32(stall_err, ViommuTestdevState),
        VMSTATE_BOOL(stall_retry, ViommuTestdevState),
        VMSTATE_UINT32(stalls, ViommuTestdevState),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_viommu_testdev = {
    .name = TYPE_VIOMMU_TESTDEV,
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = td_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, ViommuTestdevState),
        VMSTATE_MSIX(parent_obj, ViommuTestdevState),
        VMSTATE_UINT64(src, ViommuTestdevState),
        VMSTATE_UINT64(dst, ViommuTestdevState),
        VMSTATE_UINT32(len, ViommuTestdevState),
        VMSTATE_UINT32(op, ViommuTestdevState),
        VMSTATE_UINT32(pasid, ViommuTestdevState),
        VMSTATE_UINT32(pattern, ViommuTestdevState),
        VMSTATE_UINT32(irq, ViommuTestdevState),
        VMSTATE_UINT32(delay_ns, ViommuTestdevState),
        VMSTATE_UINT32(status, ViommuTestdevState),
        VMSTATE_UINT32(error, ViommuTestdevState),
        VMSTATE_UINT32(completed, ViommuTestdevState),
        VMSTATE_UINT64(result, ViommuTestdevState),
        VMSTATE_UINT64(fault_addr, ViommuTestdevState),
        VMSTATE_TIMER_PTR(timer, ViommuTestdevState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_viommu_testdev_pri,
        &vmstate_viommu_testdev_ats,
        &vmstate_viommu_testdev_stall,
        NULL
    },
};

static const Property td_properties[] = {
    DEFINE_PROP_UINT8("pasid-width", ViommuTestdevState, pasid_width, 20),
    DEFINE_PROP_BOOL("ats", ViommuTestdevState, ats, true),
    DEFINE_PROP_BOOL("pri", ViommuTestdevState, pri, true),
    DEFINE_PROP_BOOL("dma-can-stall", ViommuTestdevState, dma_can_stall, true),
};

static void td_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = td_realize;
    k->exit = td_exit;
    k->config_write = td_config_write;
    k->vendor_id = VIOMMU_TESTDEV_VENDOR_ID;
    k->device_id = VIOMMU_TESTDEV_DEVICE_ID;
    k->revision = VIOMMU_TESTDEV_REVISION;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "qemu-viommu PCIe DMA test device (PASID, ATS, PRI, MSI-X)";
    dc->vmsd = &vmstate_viommu_testdev;
    device_class_set_legacy_reset(dc, td_reset);
    device_class_set_props(dc, td_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo td_info = {
    .name = TYPE_VIOMMU_TESTDEV,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(ViommuTestdevState),
    .class_init = td_class_init,
    .interfaces = (const InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void td_register_types(void)
{
    type_register_static(&td_info);
}

type_init(td_register_types)
