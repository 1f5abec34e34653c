/*
 * viommu-smmuv3: translation.  translate() may run in vCPU or I/O threads
 * without the BQL: a hit of the lock-free fast path (recent results,
 * validated by a generation that every invalidation bumps) takes no lock;
 * otherwise it takes s->mutex (never the BQL), runs the core's configuration
 * lookup (vi_smmu_cfg_lookup_cached()) and the IOTLB, and on a miss walks
 * the translation tables through vi_mem.  Also the per-requester (and
 * per-PASID) address spaces and the IOMMU notifiers.
 *
 * Guest memory for the core is the shared glue's RAM-only viommu_ram, the
 * fast path and the address-space table are the shared glue's too
 * (viommu-common.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "exec/address-spaces.h"
#include "hw/viommu/core/pt-armv8.h"
#include "hw/viommu/core/nested.h"
#include "hw/viommu/smmuv3-internal.h"
#include "trace.h"

/* PASID address spaces an SMMU creates at most (guest-driven growth bound). */
#define MAX_PASID_AS        4096

/* ------------------------------------------------------------------------
 * Guest memory for the core
 */
/*
 * Stage-2 translated CD fetches of nested streams: a vi_mem whose addresses
 * are IPAs.  A stage-2 fault is kept so that it can be reported as such
 * (CLASS = CD) instead of F_CD_FETCH.
 */
typedef struct S2Mem {
    const vi_armv8_s2 *s2;      /* the lookup's stage-2 walker */
    bool faulted;
    vi_fault fault;
    bool aborted;               /* a read of the translated PA aborted: */
    uint64_t abort_pa;          /* F_CD_FETCH reports this PA (IHI 0070 7.3.10) */
    vi_mem mem;
} S2Mem;

static vi_mem_result s2mem_read(void *opaque, uint64_t ipa, void *buf, size_t len)
{
    S2Mem *m = opaque;
    uint8_t *p = buf;

    while (len) {
        vi_pt_result r;
        size_t chunk;

        if (!vi_armv8_s2_translate(m->s2, &viommu_ram, ipa, VI_ACC_R | VI_ACC_PRIV, &r,
                                   &m->fault)) {
            m->faulted = true;
            return VI_MEM_ABORT;
        }
        chunk = MIN(len, r.size - (ipa & (r.size - 1)));
        if (!viommu_ram_read(r.out, p, chunk)) {
            m->aborted = true;
            m->abort_pa = r.out;
            return VI_MEM_ABORT;
        }
        p += chunk;
        ipa += chunk;
        len -= chunk;
    }
    return VI_MEM_OK;
}

static vi_mem_result s2mem_write(void *opaque, uint64_t pa, const void *buf, size_t len)
{
    return VI_MEM_ABORT;        /* CD fetches never write */
}

static vi_mem_result s2mem_cmpxchg(void *opaque, uint64_t pa, uint64_t *expected,
                                   uint64_t desired, bool *swapped)
{
    return VI_MEM_ABORT;
}

static const vi_mem_ops s2mem_ops = {
    .read = s2mem_read,
    .write = s2mem_write,
    .cmpxchg64 = s2mem_cmpxchg,
};

/* ------------------------------------------------------------------------
 * Translation
 */

/* One transaction as the SMMU sees it. */
typedef struct Txn {
    uint32_t sid;
    bool ssv;
    uint32_t ssid;
    uint64_t addr;
    bool write, read;
    bool priv, instr;       /* post-STE override */
    bool write_uncached;    /* out: the write permission is not to be cached
                             * (hardware-managed dirty state, core pt.h) */
    /*
     * An ATS Translation Request (IHI 0070 3.9.1.2): faults are not
     * recorded; the outcome is the completion status (UR / CA, or SC with
     * the permissions granted, none for a fault).
     */
    bool ats;
    ViommuAtsStatus ats_status;
    /*
     * A Translated transaction (3.9.1.3): checked against SMMUEN and, with
     * CR0.ATSCHK, STE.EATS; it passes untranslated or is aborted.
     */
    bool translated;
    /* The requester, for holding the transaction (stall); NULL: it cannot be held. */
    PCIBus *bus;
    int devfn;
} Txn;

static uint32_t txn_access(const Txn *t, bool write)
{
    uint32_t a = write ? VI_ACC_W : (t->instr ? VI_ACC_X : VI_ACC_R);

    return a | (t->priv ? VI_ACC_PRIV : 0);
}

static uint64_t txn_d1(const Txn *t)
{
    return (t->priv ? VI_SMMU_EVT1_PNU : 0) | (t->instr && !t->write ? VI_SMMU_EVT1_IND : 0) |
           (t->write ? 0 : VI_SMMU_EVT1_RNW);
}

static unsigned fault_event_type(const vi_fault *f)
{
    switch (f->kind) {
    case VI_FAULT_ADDR_SIZE: return VI_SMMU_EVT_F_ADDR_SIZE;
    case VI_FAULT_ACCESS: return VI_SMMU_EVT_F_ACCESS;
    case VI_FAULT_PERMISSION: return VI_SMMU_EVT_F_PERMISSION;
    case VI_FAULT_WALK_EABT: return VI_SMMU_EVT_F_WALK_EABT;
    case VI_FAULT_BAD_CONFIG:
        return f->stage == 2 ? VI_SMMU_EVT_C_BAD_STE : VI_SMMU_EVT_C_BAD_CD;
    default: return VI_SMMU_EVT_F_TRANSLATION;
    }
}

/* The faults a stream configured to stall holds (IHI 0070 3.12.2). */
static bool fault_can_stall(unsigned type)
{
    return type == VI_SMMU_EVT_F_TRANSLATION || type == VI_SMMU_EVT_F_ADDR_SIZE ||
           type == VI_SMMU_EVT_F_ACCESS || type == VI_SMMU_EVT_F_PERMISSION;
}

/*
 * Turn a walk fault into its event record, honouring CD.R / STE.S2R; with
 * stall (CD.S / STE.S2S of the faulting stage) the transaction is held
 * instead when it can be, and its record, Stall = 1 with its STAG, is
 * always written.
 */
static void vismmu_fault_locked(ViommuSmmuv3State *s, Txn *t, const vi_fault *f,
                       bool record_s1, bool record_s2, bool stall)
{
    unsigned type = fault_event_type(f);
    bool s2 = f->stage == 2;
    unsigned cls;
    uint64_t d1, d3 = 0, held = 0;
    int stag;

    if (t->translated) {
        return;             /* 3.9.1.3: no event without CR2.REC_CFG_ATS */
    }
    if (t->ats) {
        /*
         * 3.9.1.2: translation, access and address-size faults (including a
         * stage-2 fault of a CD or table fetch) answer SC with R = W = 0;
         * illegal structures and external aborts answer CA.  No event.
         */
        if (type == VI_SMMU_EVT_C_BAD_STE || type == VI_SMMU_EVT_C_BAD_CD ||
            type == VI_SMMU_EVT_F_WALK_EABT) {
            t->ats_status = VIOMMU_ATS_CA;
        }
        trace_viommu_smmuv3_ats_fault(vi_smmu_event_name(type), t->sid, t->addr);
        return;
    }

    trace_viommu_smmuv3_fault(vi_fault_kind_name(f->kind), f->stage, t->sid, t->ssid,
                              t->addr, f->ipa);
    if (type == VI_SMMU_EVT_C_BAD_STE || type == VI_SMMU_EVT_C_BAD_CD) {
        vismmu_event_locked(s, type, t->sid, t->ssv, t->ssid, 0, 0, 0);
        return;
    }
    if (stall && fault_can_stall(type) && (s->cr0 & R_VISMMU_CR0_EVENTQEN_MASK) &&
        (stag = vismmu_stall_hold_locked(s, t->bus, t->devfn, t->sid)) >= 0) {
        held = VI_SMMU_EVT1_STALL | (uint64_t)stag;
    } else if (type != VI_SMMU_EVT_F_WALK_EABT && !(s2 ? record_s2 : record_s1)) {
        trace_viommu_smmuv3_event_suppressed(vi_smmu_event_name(type), t->sid, t->addr);
        return;
    }
    switch (f->cls) {
    case VI_FAULT_CLASS_CD:
        cls = VI_SMMU_EVT_CLASS_CD;
        break;
    case VI_FAULT_CLASS_TT:
        cls = VI_SMMU_EVT_CLASS_TTD;
        break;
    default:
        /* A stage-1 walk abort is reported with CLASS = TT. */
        cls = (type == VI_SMMU_EVT_F_WALK_EABT && !s2) ? VI_SMMU_EVT_CLASS_TTD :
              VI_SMMU_EVT_CLASS_IN;
        break;
    }
    d1 = txn_d1(t) | (s2 ? VI_SMMU_EVT1_S2 : 0) | ((uint64_t)cls << VI_SMMU_EVT1_CLASS_SHIFT) |
         held;
    if (cls == VI_SMMU_EVT_CLASS_TTD && s2 && !(f->access & VI_ACC_W)) {
        d1 |= VI_SMMU_EVT1_TTRNW;
    }
    if (type == VI_SMMU_EVT_F_WALK_EABT) {
        d3 = f->fetch_pa & VI_SMMU_EVT3_FETCH_MASK;
    } else if (s2) {
        d3 = f->ipa & VI_SMMU_EVT3_IPA_MASK;
    }
    vismmu_event_locked(s, type, t->sid, t->ssv, t->ssid, d1, t->addr, d3);
}

/* A configuration error event (C_BAD_*, F_*_FETCH, F_STREAM_DISABLED...). */
static void vismmu_cfg_event_locked(ViommuSmmuv3State *s, Txn *t, const vi_smmu_cfg_fault *cf)
{
    uint64_t d3 = 0;

    if (t->translated) {
        return;             /* 3.9.1.3: aborted, no event without CR2.REC_CFG_ATS */
    }
    if (t->ats) {
        /* 3.9.1.2: configuration errors answer CA; no event without CR2.REC_CFG_ATS. */
        t->ats_status = VIOMMU_ATS_CA;
        trace_viommu_smmuv3_ats_fault(vi_smmu_event_name(cf->event), t->sid, t->addr);
        return;
    }
    if (cf->event == VI_SMMU_EVT_C_BAD_STREAMID &&
        !(s->cr2 & R_VISMMU_CR2_RECINVSID_MASK)) {
        trace_viommu_smmuv3_event_suppressed("C_BAD_STREAMID", t->sid, t->addr);
        return;
    }
    if (cf->event == VI_SMMU_EVT_F_STE_FETCH || cf->event == VI_SMMU_EVT_F_CD_FETCH) {
        d3 = cf->addr & VI_SMMU_EVT3_FETCH_MASK;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: %s for StreamID 0x%x%s\n",
                  vi_smmu_event_name(cf->event), t->sid, t->ssv ? " (with SSID)" : "");
    /*
     * Configuration events carry no InputAddr and no RnW/PnU/InD: F_STE_FETCH
     * and F_CD_FETCH have FetchAddr only, the rest is RES0 (IHI 0070 7.3.4,
     * 7.3.10).
     */
    vismmu_event_locked(s, cf->event, t->sid, t->ssv, t->ssid, 0, 0, d3);
}

/* CD fetches of a stream with stage 2 go through its stage-2 walker. */
static const vi_mem *vismmu_cd_mem(void *opaque, const vi_smmu_ste *ste)
{
    return &((S2Mem *)opaque)->mem;
}

static bool stage2_translate(const void *ctx, const vi_mem *mem, uint64_t in,
                             uint32_t access, vi_pt_result *res, vi_fault *f)
{
    return vi_armv8_s2_translate(ctx, mem, in, access, res, f);
}

/*
 * Memory type of a stage-2-only translation, for the trace: with STE.S2FWB
 * the stage-2 MemAttr overrides (IHI 0070 13.x / Armv8.4 FEAT_S2FWB) instead
 * of combining with the incoming attributes.
 *   0: Device, 1: Normal non-cacheable, 2: Normal write-back,
 *   3: incoming attributes (FWB "use stage 1").
 */
static unsigned s2_memtype(uint32_t attrs, bool fwb)
{
    unsigned memattr = attrs & 0xf;

    if (fwb) {
        if (!(memattr & 4)) {
            return 0;
        }
        switch (memattr & 3) {
        case 1: return 1;
        case 2: return 3;
        case 3: return 2;
        default: return 0;
        }
    }
    if (!(memattr & 0xc)) {
        return 0;
    }
    return (memattr & 0xf) == 0xf ? 2 : 1;
}

/*
 * The IOTLB key of a stage-1 input address.  With TBI for its half (VA[55]
 * selects TTB0/TTB1) the top byte is not part of the address (IHI 0070
 * 3.4.1): VA[63:56] become copies of VA[55], so every tag of a page shares
 * one entry and TLBI_NH_VA on the untagged address finds it.
 */
static uint64_t vismmu_tlb_va(const vi_smmu_cd *cd, uint64_t va)
{
    return cd->tt[(va >> 55) & 1].tbi ? vismmu_va_untag(va) : va;
}

/*
 * Translate one transaction.  Fills *e; returns with events queued for any
 * fault.  s->mutex held.
 */
static void vismmu_xlate_locked(ViommuSmmuv3State *s, Txn *t, unsigned pasid_attrs,
                       IOMMUAccessFlags flag, IOMMUTLBEntry *e)
{
    vi_smmu_cfg_fault cf = { 0 };
    vi_smmu_cfg cfg;
    S2Mem s2m = { .s2 = &cfg.s2w, .mem = { .ops = &s2mem_ops, .opaque = &s2m } };
    vi_iotlb_tag tag = { .sid = t->sid };
    vi_iotlb_entry te;
    vi_pt_result res;
    vi_fault f;
    uint32_t acc_r, acc_w, need = 0;
    bool s1 = false, s2 = false, ok;
    uint64_t size, key;

    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK) && t->translated) {
        /* 3.9.1.3: F_TRANSL_FORBIDDEN, aborted. */
        vismmu_event_locked(s, VI_SMMU_EVT_F_TRANSL_FORBIDDEN, t->sid, false, 0,
                            t->write ? 0 : VI_SMMU_EVT1_RNW, t->addr, 0);
        return;
    }
    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK) && t->ats) {
        /* 3.9.1.2: ATS is off with SMMUEN = 0: UR and F_BAD_ATS_TREQ. */
        t->ats_status = VIOMMU_ATS_UR;
        vismmu_event_locked(s, VI_SMMU_EVT_F_BAD_ATS_TREQ, t->sid, t->ssv, t->ssid, 0,
                            t->addr, 0);
        return;
    }
    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK)) {
        bool abort = s->gbpa & R_VISMMU_GBPA_ABORT_MASK;

        trace_viommu_smmuv3_bypass(t->sid, t->addr, abort);
        e->perm = abort ? IOMMU_NONE : IOMMU_RW;
        return;
    }
    if (vi_smmu_cfg_lookup_cached(&viommu_ram, vismmu_cd_mem, &s2m, s->cfg, &s->caps,
                                  s->strtab_base, s->strtab_base_cfg, t->sid, t->ssv,
                                  t->ssid, &cfg, &cf)) {
        if (s2m.faulted) {
            /* A stage-2 fault of the CD fetch is reported as such (CLASS = CD). */
            f = s2m.fault;
            f.stage = 2;
            f.cls = VI_FAULT_CLASS_CD;
            f.ipa = cf.addr;
            f.addr = t->addr;
            f.access = VI_ACC_R | VI_ACC_PRIV;
            vismmu_fault_locked(s, t, &f, true, cfg.ste.s2.record, false);
        } else {
            if (cf.event == VI_SMMU_EVT_F_CD_FETCH && s2m.aborted) {
                cf.addr = s2m.abort_pa;     /* the PA, not the IPA (nested) */
            }
            vismmu_cfg_event_locked(s, t, &cf);
        }
        return;
    }
    if (cfg.ste_fetched) {
        trace_viommu_smmuv3_ste(t->sid, cfg.ste.config, cfg.ste.s1_cdmax, cfg.ste.s2.vmid,
                                cfg.ste.s2.fwb);
    }
    if (cfg.cd_fetched) {
        trace_viommu_smmuv3_cd(t->sid, cfg.cd_index, cfg.cd.asid,
                               cfg.cd.tt[0].granule_shift, cfg.cd.tt[0].tsz);
    }
    if (cfg.ste.config == VI_SMMU_STE_CFG_ABORT) {
        t->ats_status = VIOMMU_ATS_UR;  /* for ATS: UR, no event (3.9.1.2) */
        return;             /* terminated, no event */
    }
    if (t->translated) {
        /* 3.9.1.3, ATSCHK = 1: a bypass STE or EATS = 0b00 forbids Translated traffic. */
        if (cfg.ste.config == VI_SMMU_STE_CFG_BYPASS || cfg.ste.eats == VI_SMMU_EATS_ABORT) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: Translated request from StreamID "
                          "0x%x with ATS not enabled in its STE\n", t->sid);
            vismmu_event_locked(s, VI_SMMU_EVT_F_TRANSL_FORBIDDEN, t->sid, false, 0,
                                t->write ? 0 : VI_SMMU_EVT1_RNW, t->addr, 0);
            return;
        }
        e->perm = IOMMU_RW;
        return;
    }
    if (t->ats && (cfg.ste.config == VI_SMMU_STE_CFG_BYPASS ||
                   cfg.ste.eats == VI_SMMU_EATS_ABORT)) {
        /* 3.9.1.2: a bypass STE or EATS = 0b00: UR and F_BAD_ATS_TREQ. */
        t->ats_status = VIOMMU_ATS_UR;
        vismmu_event_locked(s, VI_SMMU_EVT_F_BAD_ATS_TREQ, t->sid, t->ssv, t->ssid, 0,
                            t->addr, 0);
        return;
    }
    /* Attribute overrides. */
    if (cfg.ste.privcfg == 2) {
        t->priv = false;
    } else if (cfg.ste.privcfg == 3) {
        t->priv = true;
    }
    if (cfg.ste.instcfg == 2) {
        t->instr = false;
    } else if (cfg.ste.instcfg == 3) {
        t->instr = true;
    }
    s2 = cfg.ste.s2_enabled;
    if (cfg.s1_translate) {
        s1 = true;
        tag.ssid = cfg.cd_index;
        tag.asid = cfg.cd.asid;
    }
    acc_r = txn_access(t, false);
    acc_w = txn_access(t, true);
    if (flag & IOMMU_RO) {
        need |= acc_r;
    }
    if (flag & IOMMU_WO) {
        need |= acc_w;
    }
    /*
     * Stage 1 bypassed: an input beyond the IAS (= OAS, AArch64 tables only)
     * is a stage-1 Address Size fault, with or without stage 2 (IHI 0070
     * 3.4); within it, stage 2 checks the IPA against S2T0SZ.
     */
    if (!s1 && s->caps.oas < 64 && (t->addr >> s->caps.oas)) {
        vi_fault_clear(&f);
        f.kind = VI_FAULT_ADDR_SIZE;
        f.stage = 1;
        f.addr = t->addr;
        vismmu_fault_locked(s, t, &f, true, true, false);
        return;
    }
    if (!s1 && !s2) {
        /* Stage 1 bypassed, no stage 2: the input is the output. */
        e->perm = IOMMU_RW;
        return;
    }
    tag.vmid = cfg.ste.s2.vmid;
    if (cfg.ste.strw == VI_SMMU_STRW_EL2) {
        /* EL2 entries: no VMID, never used by (or for) an EL1 stream. */
        tag.vmid = 0;
        tag.ssid |= VISMMU_TAG_EL2;
    }
    tag.stage = s1 && s2 ? VI_IOTLB_NESTED : s1 ? VI_IOTLB_STAGE1 : VI_IOTLB_STAGE2;

    key = s1 ? vismmu_tlb_va(&cfg.cd, t->addr) : t->addr;
    ok = vi_iotlb_lookup(s->iotlb, &tag, key, &te) && vi_perm_allows(te.perm, need);
    if (ok) {
        res.out = vi_iotlb_entry_out(&te, key);
        res.size = 1ull << te.size_shift;
        res.perm = te.perm;
    } else {
        vi_fault_clear(&f);
        if (s1 && s2) {
            vi_stage st = { .translate = stage2_translate, .ctx = &cfg.s2w };
            vi_pt_walk w;
            vi_pt_result r1;

            ok = vi_armv8_s1_walk_init(&cfg.s1w, &viommu_ram, t->addr, need, &w, &r1, &f) &&
                 vi_nested_run(&w, &st, &res, &f, NULL);
        } else if (s1) {
            ok = vi_armv8_s1_translate(&cfg.s1w, &viommu_ram, t->addr, need, &res, &f);
        } else {
            ok = vi_armv8_s2_translate(&cfg.s2w, &viommu_ram, t->addr, need, &res, &f);
            if (!ok) {
                f.stage = 2;
                f.ipa = t->addr;
            }
        }
        if (ok && !vi_perm_allows(res.perm, need)) {
            ok = false;
            vi_fault_clear(&f);
            f.kind = VI_FAULT_PERMISSION;
            f.stage = s1 ? 1 : 2;
            f.ipa = t->addr;
        }
        if (!ok) {
            f.addr = t->addr;
            vismmu_fault_locked(s, t, &f, s1 ? cfg.cd.record : true, cfg.ste.s2.record,
                                f.stage == 2 ? s2 && cfg.ste.s2.stall : s1 && cfg.cd.stall);
            return;
        }
        /* Nested entries keep the stage-2 leaf level for TLBI_S2_IPA's TTL. */
        vi_iotlb_insert(s->iotlb, &tag, key, &res, s1 && s2 ? res.s2_level : -1);
        t->write_uncached = res.dirty_tracked;
        if (!s1) {
            trace_viommu_smmuv3_memtype(t->sid, t->addr, s2_memtype(res.attrs,
                                                                    cfg.ste.s2.fwb));
        }
    }
    size = res.size >= 4096 ? res.size : 4096;
    e->iova = t->addr & ~(size - 1);
    e->translated_addr = res.out & ~(size - 1);
    e->addr_mask = size - 1;
    e->perm = (vi_perm_allows(res.perm, acc_r) ? IOMMU_RO : 0) |
              (vi_perm_allows(res.perm, acc_w) ? IOMMU_WO : 0);
    trace_viommu_smmuv3_translate(t->sid, t->ssv, t->ssid, t->addr, res.out, e->addr_mask,
                                  e->perm, ok);
}

/* ------------------------------------------------------------------------
 * The fast path: translations that hit take no lock (viommu_fast_hit(),
 * viommu-common.c).  Every invalidation command and every change of
 * configuration (CR0, GBPA, STRTAB_BASE*, reset, migration) bumps its
 * generation under s->mutex, and CMD_SYNC waits for the hits in flight.
 */

/* A translation the fast path could not answer: under s->mutex. */
static IOMMUTLBEntry __attribute__((noinline))
vismmu_translate_slow(ViommuSmmuv3AS *sas, hwaddr addr, IOMMUAccessFlags flag, uint32_t sid)
{
    ViommuSmmuv3State *s = sas->s;
    IOMMUTLBEntry e = {
        .target_as = &address_space_memory,
        .iova = addr & ~0xfffull,
        .translated_addr = addr & ~0xfffull,
        .addr_mask = 0xfff,
        .perm = IOMMU_NONE,
    };
    Txn t = {
        .sid = sid,
        .ssv = sas->sp.key.has_pasid,
        .ssid = sas->sp.key.pasid,
        .addr = addr,
        .write = flag & IOMMU_WO,
        .read = flag & IOMMU_RO,
        .priv = sas->sp.key.attrs & VIOMMU_PASID_PRIV,
        .instr = sas->sp.key.attrs & VIOMMU_PASID_EXEC,
        .bus = sas->sp.key.bus,
        .devfn = sas->sp.key.devfn,
    };
    unsigned before;
    bool flush;

    qemu_mutex_lock(&s->mutex);
    viommu_fast_set_rid_locked(&s->fast, &sas->sp, sid);
    before = s->npending;
    vismmu_xlate_locked(s, &t, sas->sp.key.attrs, flag, &e);
    if (e.perm != IOMMU_NONE) {
        IOMMUTLBEntry fe = e;

        if (t.write_uncached) {
            fe.perm &= ~IOMMU_WO;
        }
        qatomic_set(&s->last_fault_as, NULL);
        viommu_fast_insert_locked(&s->fast, &sas->sp, addr, &fe);
    } else if (s->npending == before + 1) {
        /*
         * QEMU's memory core splits one refused access into 4-byte pieces
         * and translates each: the pieces of one transaction (same page,
         * increasing address, nothing translated in between) give one
         * record.  IHI 0070 7.3.1 lets identical events that differ only in
         * InputAddr[11:0] be merged.
         */
        uint64_t *ev = s->pending[before];

        if (s->last_fault_as == sas && ev[0] == s->last_fault_ev0 &&
            !(ev[1] & VI_SMMU_EVT1_STALL) &&
            (addr & ~0xfffull) == (s->last_fault_addr & ~0xfffull) &&
            addr > s->last_fault_addr) {
            s->npending = before;
        }
        /* A held transaction's record is its own: nothing merges into it either. */
        qatomic_set(&s->last_fault_as, (ev[1] & VI_SMMU_EVT1_STALL) ? NULL : sas);
        s->last_fault_addr = addr;
        s->last_fault_ev0 = ev[0];
    }
    flush = s->npending || s->pending_lost;
    qemu_mutex_unlock(&s->mutex);
    /*
     * Records reach the guest from the bottom half, never from inside the
     * DMA that faulted: the queue and its MSI are guest-chosen addresses, and
     * writing them here would run other code in the middle of a device's
     * access (CMD_SYNC flushes what is pending, smmuv3-cmdq.c).
     */
    if (flush) {
        qemu_bh_schedule(s->evt_bh);
    }
    return e;
}

/* A successful translation: the next fault is not merged with the last. */
static void __attribute__((noinline)) vismmu_fault_merge_end(ViommuSmmuv3State *s)
{
    qemu_mutex_lock(&s->mutex);
    qatomic_set(&s->last_fault_as, NULL);
    qemu_mutex_unlock(&s->mutex);
}

static IOMMUTLBEntry vismmu_translate(IOMMUMemoryRegion *mr, hwaddr addr,
                                    IOMMUAccessFlags flag, int iommu_idx)
{
    ViommuSmmuv3AS *sas = container_of(mr, ViommuSmmuv3AS, iommu);
    ViommuSmmuv3State *s = sas->s;
    uint32_t sid = vismmu_as_sid(sas);
    IOMMUTLBEntry e;

    if (flag == IOMMU_NONE) {
        flag = IOMMU_RO;
    }
    if (viommu_fast_hit(&s->fast, &sas->sp, sid, addr, flag, &e)) {
        if (unlikely(qatomic_read(&s->last_fault_as))) {
            vismmu_fault_merge_end(s);
        }
        return e;
    }
    return vismmu_translate_slow(sas, addr, flag, sid);
}

static int vismmu_notify_flag_changed(IOMMUMemoryRegion *mr, IOMMUNotifierFlag old,
                                    IOMMUNotifierFlag new, Error **errp)
{
    return viommu_notify_flag_check(new, "viommu-smmuv3 does not send MAP notifications "
                                    "(device assignment with vfio through this SMMU is not "
                                    "supported); use translate-on-demand consumers only",
                                    errp);
}

/* Tell UNMAP notifiers (vhost device IOTLBs...) that translations went away. */
void vismmu_notify_unmap_all(ViommuSmmuv3State *s)
{
    ViommuSpace *sp;

    VIOMMU_SPACES_FOREACH(sp, &s->spaces) {
        viommu_notify_unmap_all(&container_of(sp, ViommuSmmuv3AS, sp)->iommu);
    }
}

/* ------------------------------------------------------------------------
 * ATS (IHI 0070 3.9.1): Translation Requests, Translated transactions and
 * ATC invalidation (BQL held)
 */

/* A Translation Request: the same translation as DMA, its faults turned into a status. */
static void vismmu_ats_xlate(ViommuSmmuv3State *s, uint32_t sid, const ViommuAtsRequest *req,
                             IOMMUAccessFlags flag, Txn *t, IOMMUTLBEntry *e)
{
    bool ssv = req->pasid_valid && s->caps.ssidsize;

    *t = (Txn) {
        .sid = sid, .ssv = ssv, .ssid = ssv ? req->pasid : 0, .addr = req->addr & ~0xfffull,
        .read = true, .write = flag & IOMMU_WO, .priv = ssv && req->priv,
        .ats = true, .ats_status = VIOMMU_ATS_SC,
    };
    *e = (IOMMUTLBEntry) {
        .target_as = &address_space_memory, .iova = t->addr, .translated_addr = t->addr,
        .addr_mask = 0xfff, .perm = IOMMU_NONE,
    };
    vismmu_xlate_locked(s, t, 0, flag, e);
}

static int vismmu_ats_translate(PCIBus *bus, void *opaque, int devfn,
                                const ViommuAtsRequest *req, ViommuAtsCompletion *cpl)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas;
    IOMMUTLBEntry e;
    uint32_t sid;
    bool flush;
    Txn t;

    if (!s->caps.ats) {
        return -ENODEV;
    }
    sas = vismmu_find_add_as(s, bus, devfn, false, 0, 0);
    sid = vismmu_as_sid(sas);
    qemu_mutex_lock(&s->mutex);
    qatomic_set(&s->last_fault_as, NULL);
    vismmu_ats_xlate(s, sid, req, req->no_write ? IOMMU_RO : IOMMU_RW, &t, &e);
    if (t.ats_status == VIOMMU_ATS_SC && e.perm == IOMMU_NONE && !req->no_write) {
        /* Read and write refused together: a read-only page grants read alone (13.7). */
        vismmu_ats_xlate(s, sid, req, IOMMU_RO, &t, &e);
    }
    flush = s->npending || s->pending_lost;
    qemu_mutex_unlock(&s->mutex);
    if (flush) {
        qemu_bh_schedule(s->evt_bh);
    }
    cpl->status = t.ats_status;
    cpl->entry = 0;
    if (t.ats_status == VIOMMU_ATS_SC) {
        if (e.perm == IOMMU_NONE) {
            /* No access: one STU (4 KiB, the smallest granule) at the request's page. */
            cpl->entry = viommu_ats_range_encode(t.addr, 12);
        } else {
            /* The whole leaf; Exe is never granted (a subset of what was asked, 3.9.1). */
            cpl->entry = viommu_ats_range_encode(e.translated_addr, ctz64(e.addr_mask + 1)) |
                         ((e.perm & IOMMU_RO) ? VIOMMU_ATS_CPL_R : 0) |
                         ((e.perm & IOMMU_WO) && !req->no_write ? VIOMMU_ATS_CPL_W : 0) |
                         (t.priv ? VIOMMU_ATS_CPL_PRIV : 0);
        }
    }
    trace_viommu_smmuv3_ats_translate(sid, t.ssv, t.ssid, req->addr, req->no_write,
                                      cpl->status, cpl->entry);
    return 0;
}

/* A Translated transaction: system memory, or NULL when aborted (3.9.1.3). */
static AddressSpace *vismmu_ats_translated(PCIBus *bus, void *opaque, int devfn,
                                           uint64_t addr, bool write)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas;
    IOMMUTLBEntry e = { .perm = IOMMU_NONE };
    bool flush;
    Txn t;

    if (!s->caps.ats) {
        return NULL;
    }
    sas = vismmu_find_add_as(s, bus, devfn, false, 0, 0);
    t = (Txn) { .sid = vismmu_as_sid(sas), .addr = addr, .write = write, .read = !write,
                .translated = true };
    /* An address beyond the OAS: aborted without an event (3.9.1.1, a permitted choice). */
    if (s->caps.oas < 64 && (addr >> s->caps.oas)) {
        trace_viommu_smmuv3_ats_translated(t.sid, addr, write, false);
        return NULL;
    }
    qemu_mutex_lock(&s->mutex);
    if ((s->cr0 & R_VISMMU_CR0_SMMUEN_MASK) && !(s->cr0 & VISMMU_CR0_ATSCHK)) {
        e.perm = IOMMU_RW;      /* ATSCHK = 0: passes with no further check */
    } else {
        vismmu_xlate_locked(s, &t, 0, write ? IOMMU_WO : IOMMU_RO, &e);
    }
    flush = s->npending || s->pending_lost;
    qemu_mutex_unlock(&s->mutex);
    if (flush) {
        qemu_bh_schedule(s->evt_bh);
    }
    trace_viommu_smmuv3_ats_translated(t.sid, addr, write, e.perm != IOMMU_NONE);
    return e.perm != IOMMU_NONE ? &address_space_memory : NULL;
}

static bool vismmu_ats_attach(PCIBus *bus, void *opaque, int devfn, ViommuAtsInvalidateFn *fn,
                              void *fn_opaque)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas;

    if (!s->caps.ats) {
        return false;
    }
    sas = vismmu_find_add_as(s, bus, devfn, false, 0, 0);
    viommu_ats_port_attach(&s->ats_host, &sas->ats_port, fn, fn_opaque);
    trace_viommu_smmuv3_ats_attach(vismmu_as_sid(sas), true);
    return true;
}

static void vismmu_ats_detach(PCIBus *bus, void *opaque, int devfn)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas = vismmu_find_rid_as(s, bus, devfn);

    if (sas && sas->ats_port.fn) {
        viommu_ats_port_detach(&s->ats_host, &sas->ats_port);
        trace_viommu_smmuv3_ats_attach(vismmu_as_sid(sas), false);
    }
}

static void vismmu_ats_complete(PCIBus *bus, void *opaque, int devfn, uint32_t itag_vector)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas = vismmu_find_rid_as(s, bus, devfn);

    trace_viommu_smmuv3_atc_inv_complete(sas ? vismmu_as_sid(sas) : 0, itag_vector);
    if (sas && sas->ats_port.fn) {
        viommu_ats_port_complete(&s->ats_host, &sas->ats_port, itag_vector);
    }
}

/*
 * CMD_ATC_INV (IHI 0070 4.5.1): an ATS Invalidate Request to the function
 * behind the StreamID, for 2^Size 4 KiB pages at Address (Size >= 52: all),
 * of SubstreamID SSID (SSV) or of every PASID (Global).  CMD_SYNC waits for
 * its completion.  A StreamID with no ATC attached has nothing to invalidate.
 */
int vismmu_cmd_atc_inv(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    uint32_t sid = FIELD_EX64(cmd[0], VISMMU_CMD0, SID);
    bool ssv = FIELD_EX64(cmd[0], VISMMU_CMD0, SSV) && s->caps.ssidsize;
    uint32_t ssid = FIELD_EX64(cmd[0], VISMMU_CMD0, SSID);
    unsigned size = FIELD_EX64(cmd[1], VISMMU_CMD1, ATC_SIZE);
    uint64_t addr = cmd[1] & R_VISMMU_CMD1_ADDR_MASK;
    ViommuAtsInvalidate inv = {
        .range = viommu_ats_range_encode(addr, size >= 52 ? 64 : 12 + size),
        .pasid_valid = ssv,
        .pasid = ssv ? ssid : 0,
        .global = FIELD_EX64(cmd[0], VISMMU_CMD0, ATC_GLOBAL),
    };
    ViommuAtsPort *p;

    trace_viommu_smmuv3_cmd_atc_inv(sid, ssv, ssid, addr, size, inv.global);
    QLIST_FOREACH(p, &s->ats_host.ports, next) {
        ViommuSmmuv3AS *sas = container_of(p, ViommuSmmuv3AS, ats_port);

        if (vismmu_as_sid(sas) != sid) {
            continue;
        }
        if (!viommu_ats_port_can_send(p)) {
            return VISMMU_CMD_WAIT;     /* 32 outstanding: a completion continues the queue */
        }
        viommu_ats_port_send(&s->ats_host, p, &inv);
        return VISMMU_CERROR_NONE;
    }
    trace_viommu_smmuv3_atc_inv_dropped(sid);
    return VISMMU_CERROR_NONE;
}

/* ------------------------------------------------------------------------
 * Address spaces
 */
static ViommuSpace *vismmu_space_new(void *opaque, const ViommuSpaceKey *key, uint32_t id)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas = g_new0(ViommuSmmuv3AS, 1);
    g_autofree char *name = NULL;

    sas->s = s;
    if (key->has_pasid) {
        name = g_strdup_printf("viommu-smmuv3-%p-%02x-pasid%x-%u-%u", key->bus, key->devfn,
                               key->pasid, key->attrs, id);
    } else {
        name = g_strdup_printf("viommu-smmuv3-%p-%02x", key->bus, key->devfn);
    }
    memory_region_init_iommu(&sas->iommu, sizeof(sas->iommu), TYPE_VIOMMU_SMMUV3_IOMMU_MR,
                             OBJECT(s), name, UINT64_MAX);
    address_space_init(&sas->as, MEMORY_REGION(&sas->iommu), name);
    return &sas->sp;
}

static bool vismmu_space_release(void *opaque, ViommuSpace *sp)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas = container_of(sp, ViommuSmmuv3AS, sp);

    if (sas->iommu.iommu_notify_flags) {
        return false;
    }
    /* Fault merging compares this pointer: a new space may get the same memory. */
    if (qatomic_read(&s->last_fault_as) == sas) {
        qatomic_set(&s->last_fault_as, NULL);
    }
    viommu_space_detach(&sas->as);
    return true;
}

static void vismmu_space_free(ViommuSpace *sp)
{
    ViommuSmmuv3AS *sas = container_of(sp, ViommuSmmuv3AS, sp);

    object_unparent(OBJECT(&sas->iommu));
    g_free(sas);
}

static const ViommuSpaceOps vismmu_space_ops = {
    .create = vismmu_space_new,
    .release = vismmu_space_release,
    .free = vismmu_space_free,
};

void vismmu_spaces_init(ViommuSmmuv3State *s)
{
    viommu_spaces_init(&s->spaces, "viommu-smmuv3", MAX_PASID_AS, &vismmu_space_ops, s);
}

ViommuSmmuv3AS *vismmu_find_add_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn,
                                   bool ssv, uint32_t ssid, unsigned attrs)
{
    ViommuSpaceKey key = { .bus = bus, .devfn = devfn, .has_pasid = ssv, .pasid = ssid,
                           .attrs = attrs };
    ViommuSpace *sp = viommu_spaces_get(&s->spaces, &key);

    return sp ? container_of(sp, ViommuSmmuv3AS, sp) : NULL;
}

static AddressSpace *vismmu_get_as(PCIBus *bus, void *opaque, int devfn)
{
    return &vismmu_find_add_as(opaque, bus, devfn, false, 0, 0)->as;
}

static AddressSpace *vismmu_get_pasid_as(PCIBus *bus, void *opaque, int devfn,
                                       uint32_t pasid, unsigned attrs)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas;

    /*
     * Any 20-bit PASID gets an address space; one the stream's STE/CD
     * configuration does not cover (including beyond IDR1.SSIDSIZE) is then
     * refused there with C_BAD_SUBSTREAMID, as the architecture says.
     */
    if (pasid > VIOMMU_PASID_MAX) {
        return NULL;
    }
    sas = vismmu_find_add_as(s, bus, devfn, true, pasid, attrs);
    return sas ? &sas->as : NULL;
}

static void vismmu_put_pasid_as(PCIBus *bus, void *opaque, AddressSpace *as)
{
    ViommuSmmuv3State *s = opaque;

    viommu_spaces_put(&s->spaces, &container_of(as, ViommuSmmuv3AS, as)->sp);
}

static const PCIIOMMUOps vismmu_iommu_ops = {
    .get_address_space = vismmu_get_as,
};

static const ViommuPasidOps vismmu_pasid_ops = {
    .get_address_space = vismmu_get_pasid_as,
    .put_address_space = vismmu_put_pasid_as,
    .pri_attach = vismmu_pri_attach,
    .pri_detach = vismmu_pri_detach,
    .page_request = vismmu_page_request,
    .ats_translate = vismmu_ats_translate,
    .ats_translated = vismmu_ats_translated,
    .ats_attach = vismmu_ats_attach,
    .ats_detach = vismmu_ats_detach,
    .ats_complete = vismmu_ats_complete,
    .stall_attach = vismmu_stall_attach,
    .stall_detach = vismmu_stall_detach,
    .stall_held = vismmu_stall_held,
};

void vismmu_attach_bus(ViommuSmmuv3State *s, PCIBus *bus)
{
    s->bus = bus;
    pci_setup_iommu(bus, &vismmu_iommu_ops, s);
    viommu_pasid_register(&vismmu_iommu_ops, &vismmu_pasid_ops);
}

ViommuSmmuv3AS *vismmu_find_rid_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn)
{
    ViommuSpaceKey key = { .bus = bus, .devfn = devfn };
    ViommuSpace *sp = viommu_spaces_find(&s->spaces, &key);

    return sp ? container_of(sp, ViommuSmmuv3AS, sp) : NULL;
}

void vismmu_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vismmu_translate;
    imrc->notify_flag_changed = vismmu_notify_flag_changed;
}
