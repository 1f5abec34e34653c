/*
 * viommu-vtd: page request services (VT-d spec rev 4, 7.5, and the page
 * request registers of 11.4.11).  PCIe Page Requests from our devices
 * (viommu_page_request()) go into the page request queue with its event
 * interrupt; page group response descriptors of the invalidation queue go
 * back to the requester as PRG Responses (viommu_pri_attach()); requests the
 * unit cannot report get the response it generates itself.  The unit keeps
 * no per-request state: a response names the requester and PRG index, the
 * device matches it (and flags an unexpected one).  Lock rules:
 * vtd-internal.h (BQL, then s->lock; PRG Responses are sent by
 * vivtd_unlock() with the BQL only).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/bswap.h"
#include "hw/registerfields.h"
#include "migration/vmstate.h"
#include "hw/viommu/vtd-internal.h"
#include "hw/viommu/core/vtd-cfg.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Registers (11.4.11)
 */

/* 2^PQS pages of 4 KiB, 32-byte descriptors. */
static uint64_t vivtd_prq_entries(const ViommuVtdState *s)
{
    return 1ull << (FIELD_EX64(s->pqa, VIVTD_PQA, PQS) + 7);
}

void vivtd_prq_reset_locked(ViommuVtdState *s)
{
    s->pqh = s->pqt = s->pqa = 0;
    s->prs_reg = 0;
    s->pectl = VIVTD_CTL_IM;
    s->pedata = s->peaddr = s->peuaddr = 0;
    s->prq_irq_pending = false;
}

/*
 * PPR or PRO is set.  A page request event is generated only when neither
 * was set before (7.5): software that has not serviced the queue yet gets
 * no second interrupt.
 */
static void vivtd_prq_status_locked(ViommuVtdState *s, uint32_t bit)
{
    uint32_t before = s->prs_reg;

    s->prs_reg |= bit;
    if (!(before & (VIVTD_PRS_PPR | VIVTD_PRS_PRO))) {
        vivtd_ctl_event(&s->pectl, &s->prq_irq_pending);
    }
}

static void vivtd_prq_rsvd(hwaddr off, uint64_t val, uint64_t kept)
{
    if (val != kept) {
        trace_viommu_vtd_prq_reg_rsvd(off, val);
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: reserved bits 0x%" PRIx64 " written to "
                      "page request register 0x%" HWADDR_PRIx " (ignored)\n", val & ~kept,
                      (hwaddr)(off & ~7ull));
    }
}

/* Registers exist with ECAP.PRS only; false for any other offset. */
bool vivtd_prq_read32_locked(ViommuVtdState *s, hwaddr off, uint32_t *val)
{
    uint64_t v;

    if (!s->prs_on) {
        return false;
    }
    switch (off & ~7ull) {
    case VIVTD_PQH:
        v = s->pqh;
        break;
    case VIVTD_PQT:
        v = s->pqt;
        break;
    case VIVTD_PQA:
        v = s->pqa;
        break;
    default:
        switch (off) {
        case VIVTD_PRS:
            *val = s->prs_reg;
            return true;
        case VIVTD_PECTL:
            *val = s->pectl;
            return true;
        case VIVTD_PEDATA:
            *val = s->pedata;
            return true;
        case VIVTD_PEADDR:
            *val = s->peaddr;
            return true;
        case VIVTD_PEUADDR:
            *val = s->peuaddr;
            return true;
        default:
            return false;
        }
    }
    *val = off & 4 ? v >> 32 : (uint32_t)v;
    return true;
}

/* Write one half of a 64-bit register; reserved bits read as 0. */
static void vivtd_prq_write64(uint64_t *reg, hwaddr off, uint32_t val, uint64_t mask)
{
    uint64_t v = deposit64(*reg, off & 4 ? 32 : 0, 32, val);

    vivtd_prq_rsvd(off, v, v & mask);
    *reg = v & mask;
}

bool vivtd_prq_write32_locked(ViommuVtdState *s, hwaddr off, uint32_t val)
{
    if (!s->prs_on) {
        return false;
    }
    switch (off) {
    case VIVTD_PQH:
    case VIVTD_PQH + 4:
        vivtd_prq_write64(&s->pqh, off, val, R_VIVTD_PQ_OFF_MASK);
        return true;
    case VIVTD_PQT:
    case VIVTD_PQT + 4:
        vivtd_prq_write64(&s->pqt, off, val, R_VIVTD_PQ_OFF_MASK);
        return true;
    case VIVTD_PQA:
    case VIVTD_PQA + 4:
        vivtd_prq_write64(&s->pqa, off, val, (VIVTD_PQA_BASE_MASK &
                          MAKE_64BIT_MASK(0, vivtd_haw(s))) | R_VIVTD_PQA_PQS_MASK);
        return true;
    case VIVTD_PRS:
        /* Write 1 to clear; with both clear the pending event is serviced. */
        s->prs_reg &= ~(val & (VIVTD_PRS_PPR | VIVTD_PRS_PRO));
        if (!(s->prs_reg & (VIVTD_PRS_PPR | VIVTD_PRS_PRO))) {
            s->pectl &= ~VIVTD_CTL_IP;
        }
        return true;
    case VIVTD_PECTL:
        vivtd_ctl_write(&s->pectl, val, &s->prq_irq_pending);
        return true;
    case VIVTD_PEDATA:
        vivtd_prq_rsvd(off, val, val & VIVTD_PEDATA_MASK);
        s->pedata = val & VIVTD_PEDATA_MASK;
        return true;
    case VIVTD_PEADDR:
        s->peaddr = val & ~3u;
        return true;
    case VIVTD_PEUADDR:
        s->peuaddr = val;
        return true;
    default:
        return false;
    }
}

/* ------------------------------------------------------------------------
 * PRG Responses to the devices
 */

bool vivtd_pri_attach(PCIBus *bus, void *opaque, int devfn, ViommuPrgResponseFn *respond,
                      void *respond_opaque)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas;

    if (!s->prs_on) {
        return false;
    }
    vas = vivtd_find_as(s, bus, devfn, VIVTD_NO_PASID, 0, false);
    if (!vas) {
        return false;
    }
    if (!vas->pri_respond) {
        QLIST_INSERT_HEAD(&s->pri_list, vas, pri_next);
    }
    vas->pri_respond = respond;
    vas->pri_opaque = respond_opaque;
    trace_viommu_vtd_pri_attach(vivtd_as_sid(vas), true);
    return true;
}

void vivtd_pri_forget(VivtdAS *vas)
{
    if (vas->pri_respond) {
        QLIST_REMOVE(vas, pri_next);
        vas->pri_respond = NULL;
        vas->pri_opaque = NULL;
        trace_viommu_vtd_pri_attach(vivtd_as_sid(vas), false);
    }
}

void vivtd_pri_detach(PCIBus *bus, void *opaque, int devfn)
{
    ViommuVtdState *s = opaque;
    ViommuSpaceKey key = { .bus = bus, .devfn = devfn, .pasid = VIVTD_NO_PASID };
    ViommuSpace *sp = viommu_spaces_find(&s->spaces, &key);

    if (sp) {
        vivtd_pri_forget(container_of(sp, VivtdAS, sp));
    }
}

/*
 * Send the PRG Responses d collected (vivtd_unlock(), s->lock dropped, BQL
 * held): each to the function with its requester ID, nobody if none of
 * ours attached with it.
 */
void vivtd_prg_send(ViommuVtdState *s, const VivtdDeferred *d)
{
    for (unsigned i = 0; i < d->nprg; i++) {
        const VivtdPrgOut *o = &d->prg[i];
        VivtdAS *vas;

        QLIST_FOREACH(vas, &s->pri_list, pri_next) {
            if (vivtd_as_sid(vas) == o->sid) {
                break;
            }
        }
        trace_viommu_vtd_prg_response(o->sid, o->rsp.prgi, o->rsp.pasid_valid, o->rsp.pasid,
                                      o->rsp.code, o->rsp.automatic, vas != NULL);
        if (vas) {
            vas->pri_respond(vas->pri_opaque, &o->rsp);
        }
    }
}

/*
 * Page group response descriptor (6.5.2): a PRG Response to requester RID,
 * with PASID when PP.  Response codes other than Success, Invalid Request
 * and Response Failure are reserved.  At most VIVTD_PRG_BATCH go out per
 * pass: the queue then stops here until vivtd_unlock() sent them.
 */
unsigned vivtd_inv_pgrp_locked(ViommuVtdState *s, const uint64_t *d, VivtdDeferred *dd)
{
    unsigned rc = FIELD_EX64(d[0], VIVTD_PGRP0, RC);
    VivtdPrgOut *o;

    if ((d[0] & VIVTD_PGRP0_RSVD) || (d[1] & VIVTD_PGRP1_RSVD) ||
        (rc != VIVTD_PGRP_SUCCESS && rc != VIVTD_PGRP_INVALID && rc != VIVTD_PGRP_FAILURE)) {
        return VIVTD_IQEI_RSVD;
    }
    if (dd->nprg == VIVTD_PRG_BATCH) {
        dd->requeue = true;
        return VIVTD_QI_DEFER;
    }
    o = &dd->prg[dd->nprg++];
    o->sid = FIELD_EX64(d[0], VIVTD_PGRP0, RID);
    o->rsp = (ViommuPrgResponse) {
        .prgi = FIELD_EX64(d[1], VIVTD_PGRP1, PRGI),
        .pasid_valid = FIELD_EX64(d[0], VIVTD_PGRP0, PP),
        .code = rc == VIVTD_PGRP_SUCCESS ? VIOMMU_PRG_SUCCESS :
                rc == VIVTD_PGRP_INVALID ? VIOMMU_PRG_INVALID_REQUEST :
                VIOMMU_PRG_RESPONSE_FAILURE,
    };
    o->rsp.pasid = o->rsp.pasid_valid ? FIELD_EX64(d[0], VIVTD_INV0, PASID) : 0;
    return 0;
}

/* ------------------------------------------------------------------------
 * Page requests from the devices (7.5)
 */

/* An automatic response to the last request of a group (the others get none). */
static void vivtd_prg_auto(VivtdDeferred *dd, uint16_t sid, const ViommuPageRequest *req,
                           ViommuPrgCode code, const char *why)
{
    trace_viommu_vtd_prq_discard(sid, req->prgi, why);
    if (!req->last) {
        return;
    }
    dd->prg[dd->nprg++] = (VivtdPrgOut) {
        .sid = sid,
        .rsp = {
            .prgi = req->prgi,
            .pasid_valid = req->pasid_valid,
            .pasid = req->pasid_valid ? req->pasid : 0,
            .code = code,
            .automatic = true,
        },
    };
}

/*
 * Report req from sid in the page request queue, or answer it: the request
 * is checked against the root and context entries (PRE; a failed check is
 * recorded as a fault unless FPD and answered Invalid Request), then written
 * at PQT unless the queue is full or in overflow (PRO: Success, the device
 * asks again) or cannot be written (Response Failure: a queue that does not
 * work ends PRI for the function).
 */
static void vivtd_prq_put_locked(ViommuVtdState *s, uint16_t sid, const ViommuPageRequest *req,
                                 VivtdDeferred *dd)
{
    vi_vtd_req vreq = {
        .sid = sid, .has_pasid = req->pasid_valid, .pasid = req->pasid,
        .priv = req->priv, .exec = req->exec, .page_req = true,
    };
    uint64_t entries = vivtd_prq_entries(s);
    uint64_t head = FIELD_EX64(s->pqh, VIVTD_PQ, OFF), tail = FIELD_EX64(s->pqt, VIVTD_PQ, OFF);
    uint64_t desc[4] = { 0 }, addr;
    uint8_t raw[VIVTD_PRQ_DESC_SIZE];
    vi_vtd_fault vf;
    vi_vtd_cfg cfg;
    int r;

    /*
     * With translation off no context entry is in use to enable page
     * requests (model choice; nothing faults then, so nothing asks).
     */
    if (!(s->gsts & VIVTD_GCMD_TE)) {
        vivtd_prg_auto(dd, sid, req, VIOMMU_PRG_INVALID_REQUEST, "translation disabled");
        return;
    }
    r = vi_vtd_cfg_lookup_cached(&viommu_ram, s->cfg, &s->core_caps, s->rtaddr_act, &vreq,
                                 &cfg, &vf);
    if (r) {
        VivtdFaultInfo fi = {
            .sid = sid, .addr = req->addr, .reason = r, .is_write = req->write && !req->read,
            .has_pasid = req->pasid_valid, .pasid = req->pasid, .exec = req->exec,
            .priv = req->priv,
        };

        if (!vf.fpd) {
            vivtd_record_fault_locked(s, &fi);
        }
        vivtd_prg_auto(dd, sid, req, VIOMMU_PRG_INVALID_REQUEST, vi_vtd_fault_reason_name(r));
        return;
    }
    if (s->prs_reg & VIVTD_PRS_PRO) {
        /* Overflow not serviced yet: requests are discarded (7.5). */
        vivtd_prg_auto(dd, sid, req, VIOMMU_PRG_SUCCESS, "page request overflow");
        return;
    }
    if (head >= entries || tail >= entries) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: page request queue head 0x%" PRIx64
                      " or tail 0x%" PRIx64 " beyond its %" PRIu64 " entries\n", s->pqh,
                      s->pqt, entries);
        vivtd_prg_auto(dd, sid, req, VIOMMU_PRG_RESPONSE_FAILURE, "head or tail beyond PQS");
        return;
    }
    if ((tail + 1) % entries == head) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: page request queue full (sid %04x "
                      "PRGI %u): overflow\n", sid, req->prgi);
        vivtd_prq_status_locked(s, VIVTD_PRS_PRO);
        vivtd_prg_auto(dd, sid, req, VIOMMU_PRG_SUCCESS, "page request queue full");
        return;
    }
    desc[0] = FIELD_DP64(0, VIVTD_PRQ0, TYPE, VIVTD_PRQ_TYPE_PAGE_REQ);
    desc[0] = FIELD_DP64(desc[0], VIVTD_PRQ0, RID, sid);
    if (req->pasid_valid) {
        desc[0] = FIELD_DP64(desc[0], VIVTD_PRQ0, PP, 1);
        desc[0] = FIELD_DP64(desc[0], VIVTD_PRQ0, PASID, req->pasid);
        desc[0] = FIELD_DP64(desc[0], VIVTD_PRQ0, EXE, req->exec);
        desc[0] = FIELD_DP64(desc[0], VIVTD_PRQ0, PM, req->priv);
    }
    desc[1] = FIELD_DP64(0, VIVTD_PRQ1, RD, req->read);
    desc[1] = FIELD_DP64(desc[1], VIVTD_PRQ1, WR, req->write);
    desc[1] = FIELD_DP64(desc[1], VIVTD_PRQ1, LPIG, req->last);
    desc[1] = FIELD_DP64(desc[1], VIVTD_PRQ1, PRGI, req->prgi);
    desc[1] |= req->addr & R_VIVTD_PRQ1_ADDR_MASK;
    for (int i = 0; i < 4; i++) {
        stq_le_p(raw + 8 * i, desc[i]);
    }
    addr = (s->pqa & VIVTD_PQA_BASE_MASK) + tail * VIVTD_PRQ_DESC_SIZE;
    if (!viommu_ram_write(addr, raw, sizeof(raw))) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-vtd: page request queue write to 0x%"
                      PRIx64 " is not RAM\n", addr);
        vivtd_prg_auto(dd, sid, req, VIOMMU_PRG_RESPONSE_FAILURE, "queue is not RAM");
        return;
    }
    s->pqt = ((tail + 1) % entries) * VIVTD_PRQ_DESC_SIZE;
    trace_viommu_vtd_prq_write(s->pqt, desc[0], desc[1]);
    vivtd_prq_status_locked(s, VIVTD_PRS_PPR);
}

int vivtd_page_request(PCIBus *bus, void *opaque, int devfn, const ViommuPageRequest *req)
{
    ViommuVtdState *s = opaque;
    ViommuSpaceKey key = { .bus = bus, .devfn = devfn, .pasid = VIVTD_NO_PASID };
    ViommuSpace *sp = viommu_spaces_find(&s->spaces, &key);
    VivtdAS *vas = sp ? container_of(sp, VivtdAS, sp) : NULL;
    VivtdDeferred dd = { 0 };
    uint16_t sid;

    if (!vas || !vas->pri_respond) {
        return -EINVAL;
    }
    sid = vivtd_as_sid(vas);
    trace_viommu_vtd_page_request(sid, req->pasid_valid ? req->pasid : UINT32_MAX, req->addr,
                                  req->prgi, req->read, req->write, req->last);
    vivtd_lock(s);
    vivtd_prq_put_locked(s, sid, req, &dd);
    vivtd_unlock(s, &dd);       /* the event interrupt, an automatic response */
    return 0;
}

/* ------------------------------------------------------------------------
 * Migration: the registers, with PRS only (a subsection of vivtd_vmstate)
 */

static bool vivtd_prq_needed(void *opaque)
{
    ViommuVtdState *s = opaque;

    return s->prs_on;
}

static int vivtd_prq_post_load(void *opaque, int version_id)
{
    ViommuVtdState *s = opaque;

    /* The same values a register write could leave (hostile streams). */
    s->pqh &= R_VIVTD_PQ_OFF_MASK;
    s->pqt &= R_VIVTD_PQ_OFF_MASK;
    s->pqa &= VIVTD_PQA_BASE_MASK | R_VIVTD_PQA_PQS_MASK;
    s->prs_reg &= VIVTD_PRS_PPR | VIVTD_PRS_PRO;
    s->pectl &= VIVTD_CTL_IM | VIVTD_CTL_IP;
    s->pedata &= VIVTD_PEDATA_MASK;
    s->peaddr &= ~3u;
    return 0;
}

const VMStateDescription vivtd_prq_vmstate = {
    .name = "viommu-vtd/prq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vivtd_prq_needed,
    .post_load = vivtd_prq_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(pqh, ViommuVtdState),
        VMSTATE_UINT64(pqt, ViommuVtdState),
        VMSTATE_UINT64(pqa, ViommuVtdState),
        VMSTATE_UINT32(prs_reg, ViommuVtdState),
        VMSTATE_UINT32(pectl, ViommuVtdState),
        VMSTATE_UINT32(pedata, ViommuVtdState),
        VMSTATE_UINT32(peaddr, ViommuVtdState),
        VMSTATE_UINT32(peuaddr, ViommuVtdState),
        VMSTATE_END_OF_LIST()
    },
};
