/*
 * viommu-smmuv3: PRI (IHI 0070 chapter 8): PCIe page requests from devices
 * into the PRI queue, and CMD_PRI_RESP's PRG Responses back to them.  BQL
 * held throughout.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/viommu/smmuv3-internal.h"
#include "trace.h"

/* CMD_PRI_RESP.Resp (IHI 0070 4.5.2) to PCIe PRG Response Codes; 3 is ILLEGAL. */
static const ViommuPrgCode pri_resp_code[3] = {
    VIOMMU_PRG_RESPONSE_FAILURE, VIOMMU_PRG_INVALID_REQUEST, VIOMMU_PRG_SUCCESS,
};

/* ------------------------------------------------------------------------
 * PRI: page requests from devices into the PRI queue, PRG Responses back
 * (IHI 0070 chapter 8; BQL held)
 */
/* Send a PRG Response to the requester of sas (which has a handler). */
static void vismmu_prg_respond(ViommuSmmuv3State *s, ViommuSmmuv3AS *sas, unsigned prgi,
                             bool ssv, uint32_t ssid, ViommuPrgCode code, bool automatic)
{
    ViommuPrgResponse rsp = {
        .prgi = prgi,
        .pasid_valid = ssv,
        .pasid = ssv ? ssid : 0,
        .code = code,
        .automatic = automatic,
    };

    trace_viommu_smmuv3_prg_response(vismmu_as_sid(sas), prgi, ssv, ssid, code, automatic);
    sas->pri_respond(sas->pri_opaque, &rsp);
}

bool vismmu_pri_attach(PCIBus *bus, void *opaque, int devfn,
                            ViommuPrgResponseFn *respond, void *respond_opaque)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas;

    if (!s->pri) {
        return false;
    }
    sas = vismmu_find_add_as(s, bus, devfn, false, 0, 0);
    if (!sas->pri_respond) {
        QLIST_INSERT_HEAD(&s->pri_list, sas, pri_next);
    }
    sas->pri_respond = respond;
    sas->pri_opaque = respond_opaque;
    trace_viommu_smmuv3_pri_attach(vismmu_as_sid(sas), true);
    return true;
}

void vismmu_pri_detach(PCIBus *bus, void *opaque, int devfn)
{
    ViommuSmmuv3AS *sas = vismmu_find_rid_as(opaque, bus, devfn);

    if (sas && sas->pri_respond) {
        QLIST_REMOVE(sas, pri_next);
        sas->pri_respond = NULL;
        sas->pri_opaque = NULL;
        trace_viommu_smmuv3_pri_attach(vismmu_as_sid(sas), false);
    }
}

/* PRI queue interrupt, as MSI or on the wired "priq" line. */
static void vismmu_priq_irq(ViommuSmmuv3State *s)
{
    if (s->irq_ctrl & R_VISMMU_IRQ_CTRL_PRI_IRQEN_MASK) {
        vismmu_msi_write(s, VIOMMU_SMMUV3_IRQ_PRIQ, s->priq_irq_cfg0, s->priq_irq_cfg1,
                       R_VISMMU_GERROR_MSI_PRIQ_ABT_ERR_MASK);
    }
}

/*
 * One Page Request message.  It is not checked against the STE (IHI 0070
 * 8.2: PRI requests do not depend on CR0.ATSCHK or STE.EATS).
 */
int vismmu_page_request(PCIBus *bus, void *opaque, int devfn,
                             const ViommuPageRequest *req)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas = vismmu_find_rid_as(s, bus, devfn);
    bool ssv, was_empty;
    uint32_t sid, prod, cons;
    unsigned log2;
    uint64_t rec[2];
    uint8_t raw[16];
    hwaddr a;

    if (!sas || !sas->pri_respond) {
        return -EINVAL;
    }
    sid = vismmu_as_sid(sas);
    /* Without substreams SSV is 0, and so are X and Priv. */
    ssv = req->pasid_valid && s->caps.ssidsize;
    rec[0] = sid | (req->read ? VI_SMMU_PRIQ0_READ : 0) |
             (req->write ? VI_SMMU_PRIQ0_WRITE : 0) | (req->last ? VI_SMMU_PRIQ0_LAST : 0);
    if (ssv) {
        rec[0] |= VI_SMMU_PRIQ0_SSV |
                  (((uint64_t)req->pasid << VI_SMMU_PRIQ0_SSID_SHIFT) & VI_SMMU_PRIQ0_SSID_MASK) |
                  (req->priv ? VI_SMMU_PRIQ0_PRIV : 0) | (req->exec ? VI_SMMU_PRIQ0_EXEC : 0);
    }
    rec[1] = (req->prgi & VI_SMMU_PRIQ1_PRGI_MASK) | (req->addr & VI_SMMU_PRIQ1_ADDR_MASK);
    trace_viommu_smmuv3_page_request(sid, ssv, req->pasid, req->addr, req->prgi, rec[0]);
    s->stats_page_requests++;

    /*
     * IHI 0070 8.2: with the PRI queue off (SMMUEN implies it) or a
     * PRIQ_ABT_ERR active, the request is discarded; a Last one gets an
     * automatic Response Failure without PASID.
     */
    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK) || !(s->cr0 & R_VISMMU_CR0_PRIQEN_MASK) ||
        ((s->gerror ^ s->gerrorn) & R_VISMMU_GERROR_PRIQ_ABT_ERR_MASK)) {
        trace_viommu_smmuv3_priq_discard(sid, req->prgi, "PRI queue disabled or in error");
        if (req->last) {
            vismmu_prg_respond(s, sas, req->prgi, false, 0, VIOMMU_PRG_RESPONSE_FAILURE, true);
        }
        return 0;
    }
    log2 = vismmu_q_log2(&s->priq, s->priq_log2);
    prod = s->priq.prod & VISMMU_Q_PTR_MASK;
    cons = s->priq.cons & VISMMU_Q_PTR_MASK;
    if ((s->priq.prod & VISMMU_Q_OVF) != (s->priq.cons & VISMMU_Q_OVF) ||
        vismmu_q_full(prod, cons, log2)) {
        /*
         * IHI 0070 8.1: a full queue enters the overflow condition (OVFLG
         * toggles once); while it lasts nothing is written, and a Last
         * request gets an automatic Success, with its PASID (IDR3.PPS = 1).
         * With PRIQ_IRQ_CFG2.LO the discarded Last request interrupts.
         */
        if ((s->priq.prod & VISMMU_Q_OVF) == (s->priq.cons & VISMMU_Q_OVF)) {
            s->priq.prod ^= VISMMU_Q_OVF;
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: PRI queue overflow (StreamID "
                          "0x%x PRGI %u)\n", sid, req->prgi);
        }
        trace_viommu_smmuv3_priq_discard(sid, req->prgi, "PRI queue overflow");
        if (req->last) {
            if (s->priq_irq_cfg2 & R_VISMMU_PRIQ_IRQ_CFG2_LO_MASK) {
                vismmu_priq_irq(s);
            }
            vismmu_prg_respond(s, sas, req->prgi, ssv, req->pasid, VIOMMU_PRG_SUCCESS, true);
        }
        return 0;
    }
    vi_cpu_to_le64(raw, rec[0]);
    vi_cpu_to_le64(raw + 8, rec[1]);
    a = VISMMU_Q_BASE_ADDR(s->priq.base) + (hwaddr)vismmu_q_idx(prod, log2) * sizeof(raw);
    if (!viommu_ram_write(a, raw, sizeof(raw))) {
        /* IHI 0070 8.2: a synchronous abort; the request gets Response Failure. */
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: PRI queue write to 0x%"
                      HWADDR_PRIx " aborted\n", a);
        vismmu_gerror_raise(s, R_VISMMU_GERROR_PRIQ_ABT_ERR_MASK);
        if (req->last) {
            vismmu_prg_respond(s, sas, req->prgi, false, 0, VIOMMU_PRG_RESPONSE_FAILURE, true);
        }
        return 0;
    }
    was_empty = vismmu_q_empty(prod, cons, log2);
    s->priq.prod = (s->priq.prod & VISMMU_Q_OVF) | vismmu_q_inc(prod, log2);
    trace_viommu_smmuv3_priq_write(s->priq.prod);
    /* Interrupt on empty -> non-empty, or (LO) on each Last request. */
    if ((s->priq_irq_cfg2 & R_VISMMU_PRIQ_IRQ_CFG2_LO_MASK) ? req->last : was_empty) {
        vismmu_priq_irq(s);
    }
    return 0;
}

/*
 * CMD_PRI_RESP (IHI 0070 4.5.2): a PRG Response to the requester with this
 * StreamID.  The device matches it to its outstanding group (PRGI, PASID);
 * a StreamID with no attached requester gets nothing.
 */
int vismmu_cmd_pri_resp(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    uint32_t sid = FIELD_EX64(cmd[0], VISMMU_CMD0, SID);
    bool ssv = FIELD_EX64(cmd[0], VISMMU_CMD0, SSV);
    uint32_t ssid = FIELD_EX64(cmd[0], VISMMU_CMD0, SSID);
    unsigned prgi = FIELD_EX64(cmd[1], VISMMU_CMD1, PRGI);
    unsigned resp = FIELD_EX64(cmd[1], VISMMU_CMD1, RESP);
    ViommuSmmuv3AS *sas;

    if (resp == 3) {
        return VISMMU_CERROR_ILL;
    }
    /* Without substreams SSV == 1 behaves as SSV == 0 (a permitted choice). */
    ssv = ssv && s->caps.ssidsize;
    trace_viommu_smmuv3_cmd_pri_resp(sid, ssv, ssid, prgi, resp);
    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK)) {
        trace_viommu_smmuv3_pri_resp_dropped(sid, prgi, "SMMUEN is 0: ignored");
        return VISMMU_CERROR_NONE;
    }
    QLIST_FOREACH(sas, &s->pri_list, pri_next) {
        if (vismmu_as_sid(sas) == sid) {
            vismmu_prg_respond(s, sas, prgi, ssv, ssid, pri_resp_code[resp], false);
            return VISMMU_CERROR_NONE;
        }
    }
    trace_viommu_smmuv3_pri_resp_dropped(sid, prgi, "no requester with this StreamID");
    return VISMMU_CERROR_NONE;
}
