/*
 * viommu-smmuv3: translation.  translate() may run in vCPU or I/O threads
 * without the BQL: a hit of the lock-free fast path (recent results,
 * validated by a generation that every invalidation bumps) takes no lock;
 * otherwise it takes s->mutex (never the BQL), runs the core's configuration
 * lookup (vi_smmu_cfg_lookup_cached()) and the IOTLB, and on a miss walks
 * the translation tables through vi_mem.  Also the per-requester (and
 * per-PASID) address spaces and the IOMMU notifiers.
 *
 * Guest memory for the core (vi_mem): reads and writes use
 * address_space_read/write on address_space_memory; the 64-bit
 * compare-and-swap of hardware access/dirty updates translates the address
 * to a RAM block under RCU and does an atomic cmpxchg on the host pointer
 * (anything that is not plain RAM is an external abort).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
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
 * Configuration and translation tables are fetched from RAM (or ROM) only.
 * Fetches run under s->mutex, possibly in an I/O thread: an MMIO access would
 * take the BQL (which a vCPU issuing commands may hold while it waits for
 * s->mutex) or run a device model that might DMA through this SMMU again.
 * A table in MMIO is a guest error and is treated as an external abort.
 */
static bool phys_ok(uint64_t pa, size_t len, bool write)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(&address_space_memory, pa, &xlat, &l, write,
                                 MEMTXATTRS_UNSPECIFIED);
    return memory_region_is_ram(mr) && !memory_region_is_ram_device(mr) && l >= len &&
           !(write && memory_region_is_rom(mr));
}

static vi_mem_result phys_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
    if (!phys_ok(pa, len, false)) {
        return VI_MEM_ABORT;
    }
    return address_space_read(&address_space_memory, pa, MEMTXATTRS_UNSPECIFIED,
                              buf, len) == MEMTX_OK ? VI_MEM_OK : VI_MEM_ABORT;
}

static vi_mem_result phys_write(void *opaque, uint64_t pa, const void *buf, size_t len)
{
    if (!phys_ok(pa, len, true)) {
        return VI_MEM_ABORT;
    }
    return address_space_write(&address_space_memory, pa, MEMTXATTRS_UNSPECIFIED,
                               buf, len) == MEMTX_OK ? VI_MEM_OK : VI_MEM_ABORT;
}

/*
 * The queues are guest memory the SMMU writes (event, PRI) and reads
 * (commands) too: RAM only as well (IHI 0070 7.2.2: a queue access that
 * aborts is EVENTQ_ABT_ERR / PRIQ_ABT_ERR / CERROR_ABT), so a queue placed
 * on a device's registers, or the SMMU's own, never runs an MMIO handler.
 */
bool vismmu_ram_read(uint64_t pa, void *buf, size_t len)
{
    return phys_read(NULL, pa, buf, len) == VI_MEM_OK;
}

bool vismmu_ram_write(uint64_t pa, const void *buf, size_t len)
{
    return phys_write(NULL, pa, buf, len) == VI_MEM_OK;
}

static vi_mem_result phys_cmpxchg64(void *opaque, uint64_t pa, uint64_t *expected,
                                    uint64_t desired, bool *swapped)
{
    MemoryRegion *mr;
    hwaddr xlat, len = 8;
    uint64_t *host, old;

    if (pa & 7) {
        return VI_MEM_ABORT;
    }
    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(&address_space_memory, pa, &xlat, &len, true,
                                 MEMTXATTRS_UNSPECIFIED);
    if (len < 8 || !memory_region_is_ram(mr) || memory_region_is_rom(mr) ||
        memory_region_is_ram_device(mr)) {
        return VI_MEM_ABORT;
    }
    host = (uint64_t *)((uint8_t *)memory_region_get_ram_ptr(mr) + xlat);
    old = qatomic_cmpxchg__nocheck(host, cpu_to_le64(*expected), cpu_to_le64(desired));
    *swapped = old == cpu_to_le64(*expected);
    *expected = le64_to_cpu(old);
    if (*swapped) {
        memory_region_set_dirty(mr, xlat, 8);
    }
    return VI_MEM_OK;
}

static const vi_mem_ops phys_mem_ops = {
    .read = phys_read,
    .write = phys_write,
    .cmpxchg64 = phys_cmpxchg64,
};

static const vi_mem phys_mem = { .ops = &phys_mem_ops, .opaque = NULL };

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

        if (!vi_armv8_s2_translate(m->s2, &phys_mem, ipa, VI_ACC_R | VI_ACC_PRIV, &r,
                                   &m->fault)) {
            m->faulted = true;
            return VI_MEM_ABORT;
        }
        chunk = MIN(len, r.size - (ipa & (r.size - 1)));
        if (phys_read(NULL, r.out, p, chunk) != VI_MEM_OK) {
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

/* Turn a walk fault into its event record, honouring CD.R / STE.S2R. */
static void vismmu_fault_locked(ViommuSmmuv3State *s, const Txn *t, const vi_fault *f,
                       bool record_s1, bool record_s2)
{
    unsigned type = fault_event_type(f);
    bool s2 = f->stage == 2;
    unsigned cls;
    uint64_t d1, d3 = 0;

    trace_viommu_smmuv3_fault(vi_fault_kind_name(f->kind), f->stage, t->sid, t->ssid,
                              t->addr, f->ipa);
    if (type == VI_SMMU_EVT_C_BAD_STE || type == VI_SMMU_EVT_C_BAD_CD) {
        vismmu_event_locked(s, type, t->sid, t->ssv, t->ssid, 0, 0, 0);
        return;
    }
    if (type != VI_SMMU_EVT_F_WALK_EABT && !(s2 ? record_s2 : record_s1)) {
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
    d1 = txn_d1(t) | (s2 ? VI_SMMU_EVT1_S2 : 0) | ((uint64_t)cls << VI_SMMU_EVT1_CLASS_SHIFT);
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
static void vismmu_cfg_event_locked(ViommuSmmuv3State *s, const Txn *t, const vi_smmu_cfg_fault *cf)
{
    uint64_t d3 = 0;

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

    if (!(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK)) {
        bool abort = s->gbpa & R_VISMMU_GBPA_ABORT_MASK;

        trace_viommu_smmuv3_bypass(t->sid, t->addr, abort);
        e->perm = abort ? IOMMU_NONE : IOMMU_RW;
        return;
    }
    if (vi_smmu_cfg_lookup_cached(&phys_mem, vismmu_cd_mem, &s2m, s->cfg, &s->caps,
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
            vismmu_fault_locked(s, t, &f, true, cfg.ste.s2.record);
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
        return;             /* terminated, no event */
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
        vismmu_fault_locked(s, t, &f, true, true);
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

            ok = vi_armv8_s1_walk_init(&cfg.s1w, &phys_mem, t->addr, need, &w, &r1, &f) &&
                 vi_nested_run(&w, &st, &res, &f, NULL);
        } else if (s1) {
            ok = vi_armv8_s1_translate(&cfg.s1w, &phys_mem, t->addr, need, &res, &f);
        } else {
            ok = vi_armv8_s2_translate(&cfg.s2w, &phys_mem, t->addr, need, &res, &f);
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
            vismmu_fault_locked(s, t, &f, s1 ? cfg.cd.record : true, cfg.ste.s2.record);
            return;
        }
        /* Nested entries keep the stage-2 leaf level for TLBI_S2_IPA's TTL. */
        vi_iotlb_insert(s->iotlb, &tag, key, &res, s1 && s2 ? res.s2_level : -1);
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
 * The fast path: translations that hit take no lock
 *
 * s->fast holds recent successful results of all the SMMU's address spaces
 * in chunks, each for VIOMMU_SMMUV3_FAST_PAGES consecutive 4K pages of one
 * address space (one 64-bit word per page, so that a sequential DMA finds
 * the next page's result in the cache line it just used), in sets of
 * VIOMMU_SMMUV3_FAST_WAYS chunks chosen by a hash of (address space, input
 * address / chunk span).
 *
 * Everything is written under s->mutex only.  A reader takes no lock: it
 * reads the chunk's header (address space, base, generation) inside the
 * chunk's seqlock, and the page's word, a single atomic load; a torn or
 * changing chunk simply misses, and the miss takes the mutex.  Restarting a
 * chunk for other pages (or a new generation) changes its header and clears
 * its words inside the seqlock; filling a word of a current chunk needs no
 * seqlock, as a word is read whole and belongs to the header it is found
 * under.
 *
 * A chunk is used only while its generation equals s->gen, and every
 * invalidation command and every change of configuration (CR0, GBPA,
 * STRTAB_BASE*, reset, migration) bumps s->gen under the mutex.  So a hit
 * returns a result computed from the state since the last invalidation: a
 * reader that did not see a bump is ordered before that invalidation, like a
 * translation that held the mutex before the invalidation took it, and a
 * translation that starts after an invalidation command has run cannot use
 * what it made stale.  The mutex still orders the slow path (walks, and the
 * results they insert) against invalidations and CMD_SYNC.
 *
 * A page's word keeps the whole result (a block's output base and size), so
 * a hit needs no configuration or IOTLB lookup.  The address space stands
 * for a StreamID, SubstreamID and access attributes; the StreamID is the
 * requester ID, whose bus number the guest may change, so an address
 * space's results are used only while its StreamID is the one they were
 * made for.
 */
#define FAST_SHIFT          (12 + 4)        /* log2 of a chunk's span */
QEMU_BUILD_BUG_ON(1u << (FAST_SHIFT - 12) != VIOMMU_SMMUV3_FAST_PAGES);
#define FAST_PERM_MASK      0x3ull          /* IOMMU_RO | IOMMU_WO */
#define FAST_SIZE_POS       2               /* log2(size) - 12, 6 bits */
#define FAST_OUT_MASK       (~0xfffull)


static inline ViommuSmmuv3Fast *fast_set(const ViommuSmmuv3State *s, uint32_t as_id,
                                         uint64_t base)
{
    uint64_t h = (base ^ ((uint64_t)as_id << 44)) * 0x9e3779b97f4a7c15ull;

    return &s->fast[(h >> (64 - s->fast_bits)) * VIOMMU_SMMUV3_FAST_WAYS];
}

/* Bump the generation: everything the fast path holds is stale.  s->mutex held. */
void vismmu_gen_bump_locked(ViommuSmmuv3State *s)
{
    qatomic_set_u64(&s->gen, s->gen + 1);
}

/*
 * The fast path's word for addr, if it has one for this address space in
 * the current generation (else 0).  No lock taken.
 */
static inline uint64_t vismmu_fast_lookup(ViommuSmmuv3State *s, const ViommuSmmuv3AS *sas,
                                        hwaddr addr)
{
    uint64_t base = addr >> FAST_SHIFT;
    unsigned idx = (addr >> 12) & (VIOMMU_SMMUV3_FAST_PAGES - 1);
    ViommuSmmuv3Fast *set = fast_set(s, sas->id, base);
    uint64_t gen = qatomic_read_u64(&s->gen);

    for (int w = 0; w < VIOMMU_SMMUV3_FAST_WAYS; w++) {
        ViommuSmmuv3Fast *c = &set[w];
        unsigned seq = seqlock_read_begin(&c->seq);
        uint32_t id = qatomic_read(&c->as_id);
        uint64_t cbase = qatomic_read_u64(&c->base);
        uint64_t cgen = qatomic_read_u64(&c->gen);
        uint64_t v = qatomic_read_u64(&c->page[idx]);

        if (!seqlock_read_retry(&c->seq, seq) && id == sas->id && cbase == base &&
            cgen == gen) {
            return v;
        }
    }
    return 0;
}

/* Remember a successful result for the fast path.  s->mutex held. */
static void vismmu_fast_insert_locked(ViommuSmmuv3State *s, const ViommuSmmuv3AS *sas,
                             hwaddr addr, const IOMMUTLBEntry *e)
{
    uint64_t base = addr >> FAST_SHIFT;
    unsigned idx = (addr >> 12) & (VIOMMU_SMMUV3_FAST_PAGES - 1);
    ViommuSmmuv3Fast *set = fast_set(s, sas->id, base), *c;
    uint64_t v = (e->translated_addr & FAST_OUT_MASK) | (e->perm & FAST_PERM_MASK) |
                 (uint64_t)(ctz64(e->addr_mask + 1) - 12) << FAST_SIZE_POS;
    int w;

    if (!(e->perm & FAST_PERM_MASK) || e->addr_mask < 0xfff ||
        !is_power_of_2(e->addr_mask + 1) || (e->translated_addr & e->addr_mask)) {
        return;                 /* not a result a word can hold */
    }
    for (w = 0; w < VIOMMU_SMMUV3_FAST_WAYS; w++) {
        c = &set[w];
        if (c->as_id == sas->id && c->base == base && c->gen == s->gen) {
            /*
             * The chunk is current: no seqlock.  The barrier orders the word
             * after the stores that (re)started the chunk, so a reader that
             * sees the word and an even sequence sees this chunk's header.
             */
            smp_wmb();
            qatomic_set_u64(&c->page[idx], v);
            return;
        }
    }
    /* Restart a chunk: one that is stale, else round robin. */
    for (w = 0; w < VIOMMU_SMMUV3_FAST_WAYS && set[w].gen == s->gen; w++) {
        /* look on */
    }
    c = &set[w < VIOMMU_SMMUV3_FAST_WAYS ? w :
             s->fast_victim++ % VIOMMU_SMMUV3_FAST_WAYS];
    seqlock_write_begin(&c->seq);
    qatomic_set(&c->as_id, sas->id);
    qatomic_set_u64(&c->base, base);
    qatomic_set_u64(&c->gen, s->gen);
    for (unsigned i = 0; i < VIOMMU_SMMUV3_FAST_PAGES; i++) {
        qatomic_set_u64(&c->page[i], i == idx ? v : 0);
    }
    seqlock_write_end(&c->seq);
}

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
        .ssv = sas->ssv,
        .ssid = sas->ssid,
        .addr = addr,
        .write = flag & IOMMU_WO,
        .read = flag & IOMMU_RO,
        .priv = sas->attrs & VIOMMU_PASID_PRIV,
        .instr = sas->attrs & VIOMMU_PASID_EXEC,
    };
    unsigned before;
    bool flush;

    qemu_mutex_lock(&s->mutex);
    if (sas->fast_sid != (int32_t)sid) {
        /* The bus number changed: this address space's results are stale. */
        if (sas->fast_sid >= 0) {
            vismmu_gen_bump_locked(s);
        }
        qatomic_store_release(&sas->fast_sid, (int32_t)sid);
    }
    before = s->npending;
    vismmu_xlate_locked(s, &t, sas->attrs, flag, &e);
    if (e.perm != IOMMU_NONE) {
        qatomic_set(&s->last_fault_as, NULL);
        vismmu_fast_insert_locked(s, sas, addr, &e);
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
            (addr & ~0xfffull) == (s->last_fault_addr & ~0xfffull) &&
            addr > s->last_fault_addr) {
            s->npending = before;
        }
        qatomic_set(&s->last_fault_as, sas);
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

    if (flag == IOMMU_NONE) {
        flag = IOMMU_RO;
    }
    /* Acquire: a StreamID published with a new generation sees that one. */
    if (qatomic_load_acquire(&sas->fast_sid) == (int32_t)sid) {
        uint64_t v = vismmu_fast_lookup(s, sas, addr);

        if ((v & flag) == flag) {
            uint64_t mask = (0x1000ull << ((v >> FAST_SIZE_POS) & 63)) - 1;

            if (unlikely(qatomic_read(&s->last_fault_as))) {
                vismmu_fault_merge_end(s);
            }
            /* Built whole in the return slot. */
            return (IOMMUTLBEntry) {
                .target_as = &address_space_memory,
                .iova = addr & ~mask,
                .translated_addr = v & FAST_OUT_MASK,
                .addr_mask = mask,
                .perm = v & FAST_PERM_MASK,
            };
        }
    }
    return vismmu_translate_slow(sas, addr, flag, sid);
}

static int vismmu_notify_flag_changed(IOMMUMemoryRegion *mr, IOMMUNotifierFlag old,
                                    IOMMUNotifierFlag new, Error **errp)
{
    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "viommu-smmuv3 does not send MAP notifications (device "
                   "assignment with vfio through this SMMU is not supported); "
                   "use translate-on-demand consumers only");
        return -EINVAL;
    }
    return 0;
}

/* Tell UNMAP notifiers (vhost device IOTLBs...) that translations went away. */
void vismmu_notify_unmap_all(ViommuSmmuv3State *s)
{
    ViommuSmmuv3AS *sas;

    QLIST_FOREACH(sas, &s->as_list, next) {
        IOMMUNotifier *n;

        if (!sas->iommu.iommu_notify_flags) {
            continue;
        }
        IOMMU_NOTIFIER_FOREACH(n, &sas->iommu) {
            if (n->notifier_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
                /* Device IOTLBs (vhost): drop everything they cached. */
                IOMMUTLBEvent ev = {
                    .type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
                    .entry = {
                        .target_as = &address_space_memory,
                        .iova = 0,
                        .addr_mask = (1ull << 63) - 1,
                        .perm = IOMMU_NONE,
                    },
                };

                memory_region_notify_iommu_one(n, &ev);
            } else {
                memory_region_unmap_iommu_notifier_range(n);
            }
        }
    }
}

/* ------------------------------------------------------------------------
 * Address spaces
 */
typedef struct AsKey {
    PCIBus *bus;
    uint8_t devfn;
    bool ssv;
    uint32_t ssid;
    unsigned attrs;
} AsKey;

static guint as_key_hash(gconstpointer p)
{
    const AsKey *k = p;

    return g_direct_hash(k->bus) ^ (k->devfn << 24) ^ k->ssid ^ (k->ssv << 21) ^
           (k->attrs << 22);
}

static gboolean as_key_equal(gconstpointer a, gconstpointer b)
{
    const AsKey *x = a, *y = b;

    return x->bus == y->bus && x->devfn == y->devfn && x->ssv == y->ssv &&
           x->ssid == y->ssid && x->attrs == y->attrs;
}

GHashTable *vismmu_as_table_new(void)
{
    return g_hash_table_new_full(as_key_hash, as_key_equal, g_free, NULL);
}

ViommuSmmuv3AS *vismmu_find_add_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn,
                                        bool ssv, uint32_t ssid, unsigned attrs)
{
    AsKey key = { .bus = bus, .devfn = devfn, .ssv = ssv, .ssid = ssid, .attrs = attrs };
    ViommuSmmuv3AS *sas = g_hash_table_lookup(s->as_table, &key);
    g_autofree char *name = NULL;

    if (sas) {
        return sas;
    }
    if (ssv && s->npasid_as >= MAX_PASID_AS) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: more than %d PASID address "
                      "spaces requested; refusing PASID 0x%x\n", MAX_PASID_AS, ssid);
        return NULL;
    }
    s->npasid_as += ssv;
    sas = g_new0(ViommuSmmuv3AS, 1);
    sas->s = s;
    sas->bus = bus;
    sas->devfn = devfn;
    sas->ssv = ssv;
    sas->ssid = ssid;
    sas->attrs = attrs;
    sas->id = ++s->next_as_id;
    sas->fast_sid = -1;
    if (pci_bus_is_root(bus)) {
        sas->root_bus = pci_bus_num(bus);
    } else {
        sas->bridge = bus->parent_dev;
    }
    sas->bus_num_other = vismmu_as_sid(sas) != PCI_BUILD_BDF(pci_bus_num(bus), devfn);
    if (ssv) {
        name = g_strdup_printf("viommu-smmuv3-%p-%02x-pasid%x-%u", bus, devfn, ssid, attrs);
    } else {
        name = g_strdup_printf("viommu-smmuv3-%p-%02x", bus, devfn);
    }
    memory_region_init_iommu(&sas->iommu, sizeof(sas->iommu), TYPE_VIOMMU_SMMUV3_IOMMU_MR,
                             OBJECT(s), name, UINT64_MAX);
    address_space_init(&sas->as, MEMORY_REGION(&sas->iommu), name);
    g_hash_table_insert(s->as_table, g_memdup2(&key, sizeof(key)), sas);
    QLIST_INSERT_HEAD(&s->as_list, sas, next);
    return sas;
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

static const PCIIOMMUOps vismmu_iommu_ops = {
    .get_address_space = vismmu_get_as,
};

static const ViommuPasidOps vismmu_pasid_ops = {
    .get_address_space = vismmu_get_pasid_as,
    .pri_attach = vismmu_pri_attach,
    .pri_detach = vismmu_pri_detach,
    .page_request = vismmu_page_request,
};

void vismmu_attach_bus(ViommuSmmuv3State *s, PCIBus *bus)
{
    s->bus = bus;
    pci_setup_iommu(bus, &vismmu_iommu_ops, s);
    viommu_pasid_register(&vismmu_iommu_ops, &vismmu_pasid_ops);
}

ViommuSmmuv3AS *vismmu_find_rid_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn)
{
    AsKey key = { .bus = bus, .devfn = devfn };

    return g_hash_table_lookup(s->as_table, &key);
}

void vismmu_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vismmu_translate;
    imrc->notify_flag_changed = vismmu_notify_flag_changed;
}
