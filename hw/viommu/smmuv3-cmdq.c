/*
 * viommu-smmuv3: the command queue (IHI 0070 chapter 4), processed under the
 * BQL when CMDQ_PROD is written, a bounded number of commands per kick (a
 * bottom half continues); invalidations; and the event queue (7.2): records
 * queued by translations under s->mutex, written and signalled under the BQL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "exec/address-spaces.h"
#include "hw/viommu/smmuv3-internal.h"
#include "trace.h"

/* Commands executed per CMDQ_PROD write before a bottom half takes over. */
#define CMDQ_BATCH          1024
/* vismmu_cmd_exec(): CMD_SYNC waits for translations in flight (not a CERROR). */
#define CMD_SYNC_WAIT       VISMMU_CMD_WAIT

/* ------------------------------------------------------------------------
 * Event queue
 */
/* Write the pending events to the event queue and signal them (BQL held). */
void vismmu_flush_events(ViommuSmmuv3State *s)
{
    uint64_t ev[VIOMMU_SMMUV3_PENDING_EVENTS][4];
    unsigned n, log2 = s->evtq_log2;
    bool lost, written = false;

    qemu_mutex_lock(&s->mutex);
    n = s->npending;
    memcpy(ev, s->pending, n * sizeof(ev[0]));
    lost = s->pending_lost;
    s->npending = 0;
    s->pending_lost = false;
    qemu_mutex_unlock(&s->mutex);

    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK) || !(s->cr0 & R_VISMMU_CR0_EVENTQEN_MASK)) {
        vismmu_stall_records_lost(s, ev, n);
        return;             /* events are discarded while the queue is off */
    }
    if ((s->gerror ^ s->gerrorn) & R_VISMMU_GERROR_EVENTQ_ABT_ERR_MASK) {
        /* IHI 0070 7.2.2: no record is written until software acknowledges. */
        trace_viommu_smmuv3_evtq_discard("EVENTQ_ABT_ERR active", n + lost);
        vismmu_stall_records_lost(s, ev, n);
        return;
    }
    log2 = vismmu_q_log2(&s->evtq, s->evtq_log2);
    for (unsigned i = 0; i < n + lost; i++) {
        uint32_t prod = s->evtq.prod & VISMMU_Q_PTR_MASK, cons = s->evtq.cons & VISMMU_Q_PTR_MASK;
        uint8_t rec[32];
        hwaddr a;

        if (i == n || vismmu_q_full(prod, cons, log2)) {
            /* Overflow: the record is lost, PROD.OVFLG flags it. */
            if ((s->evtq.prod & VISMMU_Q_OVF) == (s->evtq.cons & VISMMU_Q_OVF)) {
                s->evtq.prod ^= VISMMU_Q_OVF;
            }
            trace_viommu_smmuv3_evtq_write(s->evtq.prod, true);
            written = true;
            if (i < n) {
                vismmu_stall_records_lost(s, &ev[i], 1);
            }
            continue;
        }
        for (int w = 0; w < 4; w++) {
            vi_cpu_to_le64(rec + 8 * w, ev[i][w]);
        }
        a = VISMMU_Q_BASE_ADDR(s->evtq.base) + (hwaddr)vismmu_q_idx(prod, log2) * 32;
        if (!viommu_ram_write(a, rec, sizeof(rec))) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: event queue write to 0x%"
                          HWADDR_PRIx " aborted\n", a);
            vismmu_gerror_raise(s, R_VISMMU_GERROR_EVENTQ_ABT_ERR_MASK);
            vismmu_stall_records_lost(s, &ev[i], n - i);
            return;
        }
        s->evtq.prod = (s->evtq.prod & VISMMU_Q_OVF) | vismmu_q_inc(prod, log2);
        s->stats_events++;
        trace_viommu_smmuv3_evtq_write(s->evtq.prod, false);
        written = true;
    }
    if (written && (s->irq_ctrl & R_VISMMU_IRQ_CTRL_EVENTQ_IRQEN_MASK)) {
        vismmu_msi_write(s, VIOMMU_SMMUV3_IRQ_EVTQ, s->evtq_irq_cfg0, s->evtq_irq_cfg1,
                       R_VISMMU_GERROR_MSI_EVENTQ_ABT_ERR_MASK);
    }
}

void vismmu_evt_bh(void *opaque)
{
    vismmu_flush_events(opaque);
}

/* Queue one event record (s->mutex held). */
void vismmu_event_locked(ViommuSmmuv3State *s, unsigned type, uint32_t sid, bool ssv,
                       uint32_t ssid, uint64_t d1, uint64_t addr, uint64_t d3)
{
    uint64_t *ev;

    trace_viommu_smmuv3_event(vi_smmu_event_name(type), sid, ssv, ssid, addr, d1, d3);
    if (s->npending == VIOMMU_SMMUV3_PENDING_EVENTS) {
        s->pending_lost = true;
        return;
    }
    ev = s->pending[s->npending++];
    ev[0] = type | (ssv ? VI_SMMU_EVT0_SSV : 0) |
            (((uint64_t)ssid << VI_SMMU_EVT0_SSID_SHIFT) & VI_SMMU_EVT0_SSID_MASK) |
            ((uint64_t)sid << VI_SMMU_EVT0_SID_SHIFT);
    ev[1] = d1;
    ev[2] = addr;
    ev[3] = d3;
}

static const char *vismmu_cmd_name(unsigned op)
{
    switch (op) {
    case VISMMU_CMD_PREFETCH_CONFIG: return "PREFETCH_CONFIG";
    case VISMMU_CMD_PREFETCH_ADDR: return "PREFETCH_ADDR";
    case VISMMU_CMD_CFGI_STE: return "CFGI_STE";
    case VISMMU_CMD_CFGI_STE_RANGE: return "CFGI_STE_RANGE";
    case VISMMU_CMD_CFGI_CD: return "CFGI_CD";
    case VISMMU_CMD_CFGI_CD_ALL: return "CFGI_CD_ALL";
    case VISMMU_CMD_TLBI_NH_ALL: return "TLBI_NH_ALL";
    case VISMMU_CMD_TLBI_NH_ASID: return "TLBI_NH_ASID";
    case VISMMU_CMD_TLBI_NH_VA: return "TLBI_NH_VA";
    case VISMMU_CMD_TLBI_NH_VAA: return "TLBI_NH_VAA";
    case VISMMU_CMD_TLBI_EL3_ALL: return "TLBI_EL3_ALL";
    case VISMMU_CMD_TLBI_EL3_VA: return "TLBI_EL3_VA";
    case VISMMU_CMD_TLBI_EL2_ALL: return "TLBI_EL2_ALL";
    case VISMMU_CMD_TLBI_EL2_ASID: return "TLBI_EL2_ASID";
    case VISMMU_CMD_TLBI_EL2_VA: return "TLBI_EL2_VA";
    case VISMMU_CMD_TLBI_EL2_VAA: return "TLBI_EL2_VAA";
    case VISMMU_CMD_TLBI_S12_VMALL: return "TLBI_S12_VMALL";
    case VISMMU_CMD_TLBI_S2_IPA: return "TLBI_S2_IPA";
    case VISMMU_CMD_TLBI_NSNH_ALL: return "TLBI_NSNH_ALL";
    case VISMMU_CMD_ATC_INV: return "ATC_INV";
    case VISMMU_CMD_PRI_RESP: return "PRI_RESP";
    case VISMMU_CMD_RESUME: return "RESUME";
    case VISMMU_CMD_STALL_TERM: return "STALL_TERM";
    case VISMMU_CMD_SYNC: return "CMD_SYNC";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------------------
 * Commands (BQL held)
 */
void vismmu_inval_all(ViommuSmmuv3State *s)
{
    qemu_mutex_lock(&s->mutex);
    vi_iotlb_inval_all(s->iotlb);
    vi_cfg_cache_inv_all(s->cfg);
    vismmu_gen_bump_locked(s);
    qemu_mutex_unlock(&s->mutex);
    vismmu_notify_unmap_all(s);
}

static void vismmu_inval_tlb(ViommuSmmuv3State *s, const char *what, const vi_iotlb_scope *sc)
{
    uint32_t n;

    qemu_mutex_lock(&s->mutex);
    n = vi_iotlb_invalidate(s->iotlb, sc);
    vismmu_gen_bump_locked(s);
    qemu_mutex_unlock(&s->mutex);
    trace_viommu_smmuv3_inval(what, n);
    vismmu_notify_unmap_all(s);
}

#define STAGE_BIT(x)    (1u << (x))
#define STAGES_NH       (STAGE_BIT(VI_IOTLB_STAGE1) | STAGE_BIT(VI_IOTLB_NESTED))
#define STAGES_S2       (STAGE_BIT(VI_IOTLB_STAGE2) | STAGE_BIT(VI_IOTLB_NESTED))
/*
 * EL2 entries are stage-1 only (STRW = EL2 needs Config = S1); the TLBI_EL2_*
 * scopes cover every stage-1-only entry, which over-invalidates EL1 ones as
 * IHI 0070 4.4 allows.
 */
#define STAGES_EL2      STAGE_BIT(VI_IOTLB_STAGE1)

static int vismmu_cmd_tlbi_range(ViommuSmmuv3State *s, const uint64_t *cmd, bool ipa,
                               uint32_t match, uint8_t stages, const char *what)
{
    vi_iotlb_scope sc = { 0 };
    uint64_t addr = cmd[1] & R_VISMMU_CMD1_ADDR_MASK;
    unsigned num = FIELD_EX64(cmd[0], VISMMU_CMD0, NUM);
    unsigned scale = FIELD_EX64(cmd[0], VISMMU_CMD0, SCALE);
    unsigned ttl = FIELD_EX64(cmd[1], VISMMU_CMD1, TTL);
    unsigned tg = FIELD_EX64(cmd[1], VISMMU_CMD1, TG);

    /*
     * An IPA has 52 bits.  A VA names its page without any top-byte tag:
     * IOTLB entries of TBI ranges are keyed so (smmuv3-xlate.c), and without
     * TBI a valid VA has VA[63:56] equal to VA[55] already.
     */
    addr = ipa ? addr & VI_MASK(51, 12) : vismmu_va_untag(addr);

    /* IHI 0070 4.4.1.1: TG, TTL, NUM and SCALE are RES0 without RIL. */
    if (!s->ril) {
        tg = 0;
    }
    if (tg) {
        /* 16K has no level-1 leaf without DS: TTL 0b01 is treated as 0b00. */
        if (tg == 2 && ttl == 1) {
            ttl = 0;
        }
        /* A one-granule "range" without a level hint is Reserved: CERROR_ILL. */
        if (!num && !scale && !ttl) {
            return VISMMU_CERROR_ILL;
        }
    }
    if (!vi_iotlb_smmu_range(&sc, ipa, addr, tg, scale, num, tg ? ttl : 0)) {
        return VISMMU_CERROR_ILL;
    }
    sc.match |= match;
    sc.tag.vmid = FIELD_EX64(cmd[0], VISMMU_CMD0, VMID);
    sc.tag.asid = FIELD_EX64(cmd[0], VISMMU_CMD0, ASID);
    sc.stages = stages;
    sc.leaf_only = FIELD_EX64(cmd[1], VISMMU_CMD1, LEAF);
    vismmu_inval_tlb(s, what, &sc);
    return VISMMU_CERROR_NONE;
}

static int vismmu_cmd_sync(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    unsigned cs = FIELD_EX64(cmd[0], VISMMU_CMD0, CS);
    uint64_t msi_addr = cmd[1] & R_VISMMU_CMD1_MSIADDR_MASK;
    uint32_t msi_data = FIELD_EX64(cmd[0], VISMMU_CMD0, MSIDATA);

    trace_viommu_smmuv3_cmd_sync(cs, msi_addr, msi_data);
    if (cs > VISMMU_SYNC_CS_SEV) {      /* 0b11 is reserved */
        return VISMMU_CERROR_ILL;
    }
    /*
     * The ATC invalidations before the SYNC complete first (4.7.3, 3.9.1):
     * their Invalidate Completions continue the queue (s->cmdq_bh).
     */
    if (!viommu_ats_host_idle(&s->ats_host)) {
        trace_viommu_smmuv3_sync_ats_wait(s->ats_host.pending);
        return CMD_SYNC_WAIT;
    }
    /*
     * Translations in flight finish first (4.7.3): slow ones run under
     * s->mutex (taking it waits for them), hits of the fast path in reader
     * sections that viommu_fast_quiesce() waits for; until then CONS stays
     * at the SYNC and s->cmdq_bh continues.
     */
    qemu_mutex_lock(&s->mutex);
    qemu_mutex_unlock(&s->mutex);
    if (!viommu_fast_quiesce(&s->fast, s->cmdq_bh)) {
        return CMD_SYNC_WAIT;
    }
    /*
     * The records of transactions terminated before the SYNC are visible
     * when it completes (IHI 0070 4.7.3): write out what the bottom half has
     * not yet.
     */
    vismmu_flush_events(s);
    if (cs == VISMMU_SYNC_CS_IRQ) {
        if (s->msi && msi_addr) {
            MemTxAttrs attrs = { .requester_id = s->msi_devid };
            MemTxResult r;

            address_space_stl_le(&address_space_memory, msi_addr, msi_data, attrs, &r);
            if (r != MEMTX_OK) {
                vismmu_gerror_raise(s, R_VISMMU_GERROR_MSI_CMDQ_ABT_ERR_MASK);
            }
        }
        /*
         * The wired CMD_SYNC interrupt is this SMMU's, whatever MSIAddress
         * says (IHI 0070 4.7.3, 3.18): software that uses the wire may leave
         * a stale or polling MSIAddress in the command.
         */
        vismmu_wire(s, VIOMMU_SMMUV3_IRQ_CMD_SYNC);
    }
    return VISMMU_CERROR_NONE;
}

/*
 * Commands that need a stage or feature the SMMU lacks are ILLEGAL: TLBI_NH_*
 * without stage 1 (IHI 0070 4.4.2), TLBI_S12_VMALL / TLBI_S2_IPA without
 * stage 2 (4.4.3), CFGI_CD / CFGI_CD_ALL without stage 1 (4.3.3, 4.3.4),
 * ATC_INV without ATS (4.5.1), TLBI_EL2_* without Hyp (4.4.2).
 */
static bool vismmu_cmd_supported(const ViommuSmmuv3State *s, unsigned op)
{
    switch (op) {
    case VISMMU_CMD_TLBI_NH_ALL:
    case VISMMU_CMD_TLBI_NH_ASID:
    case VISMMU_CMD_TLBI_NH_VA:
    case VISMMU_CMD_TLBI_NH_VAA:
    case VISMMU_CMD_CFGI_CD:
    case VISMMU_CMD_CFGI_CD_ALL:
        return s->caps.s1;
    case VISMMU_CMD_TLBI_S12_VMALL:
    case VISMMU_CMD_TLBI_S2_IPA:
        return s->caps.s2;
    case VISMMU_CMD_ATC_INV:
        return s->caps.ats;
    case VISMMU_CMD_TLBI_EL2_ALL:          /* 4.4.2.7-10: IDR0.Hyp */
    case VISMMU_CMD_TLBI_EL2_ASID:
    case VISMMU_CMD_TLBI_EL2_VA:
    case VISMMU_CMD_TLBI_EL2_VAA:
        return s->caps.hyp;
    default:
        return true;
    }
}

static int vismmu_cmd_exec(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    unsigned op = FIELD_EX64(cmd[0], VISMMU_CMD0, OP);
    uint32_t sid = FIELD_EX64(cmd[0], VISMMU_CMD0, SID);
    vi_iotlb_scope sc = { 0 };

    /* SSec: no Secure state is implemented, Secure commands are illegal. */
    if (op != VISMMU_CMD_SYNC && op < VISMMU_CMD_ATC_INV && FIELD_EX64(cmd[0], VISMMU_CMD0, SSEC)) {
        return VISMMU_CERROR_ILL;
    }
    if (!vismmu_cmd_supported(s, op)) {
        return VISMMU_CERROR_ILL;
    }
    switch (op) {
    case VISMMU_CMD_PREFETCH_CONFIG:
    case VISMMU_CMD_PREFETCH_ADDR:
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_ATC_INV:
        return vismmu_cmd_atc_inv(s, cmd);
    case VISMMU_CMD_CFGI_STE:
        qemu_mutex_lock(&s->mutex);
        vi_cfg_cache_inv_sid(s->cfg, sid);
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        vismmu_notify_unmap_all(s);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_CFGI_STE_RANGE: {
        unsigned range = FIELD_EX64(cmd[1], VISMMU_CMD1, RANGE);
        uint64_t span = 2ull << range;
        uint64_t first = sid & ~(span - 1);
        uint64_t last = MIN(first + span - 1, UINT32_MAX);

        qemu_mutex_lock(&s->mutex);
        if (range == 31) {
            vi_cfg_cache_inv_all(s->cfg);
        } else {
            vi_cfg_cache_inv_sid_range(s->cfg, first, last);
        }
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        vismmu_notify_unmap_all(s);
        return VISMMU_CERROR_NONE;
    }
    case VISMMU_CMD_CFGI_CD:
        qemu_mutex_lock(&s->mutex);
        vi_cfg_cache_inv_ssid(s->cfg, sid, FIELD_EX64(cmd[0], VISMMU_CMD0, SSID));
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        vismmu_notify_unmap_all(s);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_CFGI_CD_ALL:
        qemu_mutex_lock(&s->mutex);
        vi_cfg_cache_inv_ssid_all(s->cfg, sid);
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        vismmu_notify_unmap_all(s);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_TLBI_NH_ALL:
        sc.match = VI_IOTLB_M_VMID;
        sc.tag.vmid = FIELD_EX64(cmd[0], VISMMU_CMD0, VMID);
        sc.stages = STAGES_NH;
        vismmu_inval_tlb(s, "nh_all", &sc);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_TLBI_NH_ASID:
        sc.match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID;
        sc.tag.vmid = FIELD_EX64(cmd[0], VISMMU_CMD0, VMID);
        sc.tag.asid = FIELD_EX64(cmd[0], VISMMU_CMD0, ASID);
        sc.stages = STAGES_NH;
        vismmu_inval_tlb(s, "nh_asid", &sc);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_TLBI_NH_VA:
        return vismmu_cmd_tlbi_range(s, cmd, false, VI_IOTLB_M_VMID | VI_IOTLB_M_ASID,
                                   STAGES_NH, "nh_va");
    case VISMMU_CMD_TLBI_NH_VAA:
        return vismmu_cmd_tlbi_range(s, cmd, false, VI_IOTLB_M_VMID, STAGES_NH, "nh_vaa");
    case VISMMU_CMD_TLBI_S12_VMALL:
        sc.match = VI_IOTLB_M_VMID;
        sc.tag.vmid = FIELD_EX64(cmd[0], VISMMU_CMD0, VMID);
        vismmu_inval_tlb(s, "s12_vmall", &sc);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_TLBI_S2_IPA:
        return vismmu_cmd_tlbi_range(s, cmd, true, VI_IOTLB_M_VMID, STAGES_S2, "s2_ipa");
    case VISMMU_CMD_TLBI_NSNH_ALL:
        vismmu_inval_tlb(s, "nsnh_all", &sc);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_SYNC:
        return vismmu_cmd_sync(s, cmd);
    case VISMMU_CMD_PRI_RESP:              /* ILLEGAL unless IDR0.PRI */
        return s->pri ? vismmu_cmd_pri_resp(s, cmd) : VISMMU_CERROR_ILL;
    case VISMMU_CMD_TLBI_EL2_ALL:
        sc.stages = STAGES_EL2;
        vismmu_inval_tlb(s, "el2_all", &sc);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_TLBI_EL2_ASID:
        sc.match = VI_IOTLB_M_ASID;
        sc.tag.asid = FIELD_EX64(cmd[0], VISMMU_CMD0, ASID);
        sc.stages = STAGES_EL2;
        vismmu_inval_tlb(s, "el2_asid", &sc);
        return VISMMU_CERROR_NONE;
    case VISMMU_CMD_TLBI_EL2_VA:
        /* The ASID is matched in EL2-E2H only (SMMU_CR2.E2H, 4.4.2.8). */
        return vismmu_cmd_tlbi_range(s, cmd, false, s->caps.e2h ? VI_IOTLB_M_ASID : 0,
                                   STAGES_EL2, "el2_va");
    case VISMMU_CMD_TLBI_EL2_VAA:
        return vismmu_cmd_tlbi_range(s, cmd, false, 0, STAGES_EL2, "el2_vaa");
    case VISMMU_CMD_TLBI_EL3_ALL:          /* no EL3 / Secure */
    case VISMMU_CMD_TLBI_EL3_VA:
    case VISMMU_CMD_RESUME:                /* ILLEGAL with STALL_MODEL terminate only */
        return vismmu_cmd_resume(s, cmd);
    case VISMMU_CMD_STALL_TERM:
        return vismmu_cmd_stall_term(s, cmd);
    default:
        return VISMMU_CERROR_ILL;
    }
}

bool vismmu_cmdq_error_active(ViommuSmmuv3State *s)
{
    return (s->gerror ^ s->gerrorn) & R_VISMMU_GERROR_CMDQ_ERR_MASK;
}

void vismmu_process_cmdq(ViommuSmmuv3State *s)
{
    unsigned log2 = vismmu_q_log2(&s->cmdq, s->cmdq_log2);

    qemu_mutex_lock(&s->mutex);
    qatomic_set(&s->last_fault_as, NULL);  /* a new guest action: no more merging */
    qemu_mutex_unlock(&s->mutex);

    for (unsigned n = 0; ; n++) {
        uint32_t prod = s->cmdq.prod & VISMMU_Q_PTR_MASK;
        uint32_t cons = s->cmdq.cons & VISMMU_Q_PTR_MASK;
        uint8_t raw[16];
        uint64_t cmd[2];
        hwaddr a;
        int err;

        if (!(s->cr0 & R_VISMMU_CR0_CMDQEN_MASK) || vismmu_cmdq_error_active(s) ||
            vismmu_q_empty(prod, cons, log2)) {
            return;
        }
        if (n == CMDQ_BATCH) {
            qemu_bh_schedule(s->cmdq_bh);
            return;
        }
        a = VISMMU_Q_BASE_ADDR(s->cmdq.base) + (hwaddr)vismmu_q_idx(cons, log2) * 16;
        if (!viommu_ram_read(a, raw, sizeof(raw))) {
            err = VISMMU_CERROR_ABT;
            cmd[0] = cmd[1] = 0;
        } else {
            cmd[0] = vi_le64_to_cpu(raw);
            cmd[1] = vi_le64_to_cpu(raw + 8);
            trace_viommu_smmuv3_cmd(cons, vismmu_cmd_name(FIELD_EX64(cmd[0], VISMMU_CMD0, OP)),
                                    cmd[0], cmd[1]);
            err = vismmu_cmd_exec(s, cmd);
        }
        if (err == CMD_SYNC_WAIT) {
            return;
        }
        if (err != VISMMU_CERROR_NONE) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: command 0x%02x (%s) at CONS "
                          "0x%x: %s\n", (unsigned)FIELD_EX64(cmd[0], VISMMU_CMD0, OP),
                          vismmu_cmd_name(FIELD_EX64(cmd[0], VISMMU_CMD0, OP)), cons,
                          err == VISMMU_CERROR_ABT ? "VISMMU_CERROR_ABT" : "VISMMU_CERROR_ILL");
            trace_viommu_smmuv3_cmd_error(cons, FIELD_EX64(cmd[0], VISMMU_CMD0, OP), err);
            s->cmdq.cons = FIELD_DP32(s->cmdq.cons, VISMMU_CMDQ_CONS, ERR, err);
            vismmu_gerror_raise(s, R_VISMMU_GERROR_CMDQ_ERR_MASK);
            return;
        }
        s->stats_cmds++;
        s->cmdq.cons = (s->cmdq.cons & ~VISMMU_Q_PTR_MASK) | vismmu_q_inc(cons, log2);
    }
}

void vismmu_cmdq_bh(void *opaque)
{
    vismmu_process_cmdq(opaque);
}
