/*
 * viommu-vtd DMA remapping: the configuration lookup (the core's
 * vi_vtd_cfg_lookup_cached() through the context / PASID caches),
 * translation through the lock-free hit path, the IOTLB and the core's
 * walkers over guest RAM (viommu_ram), and the per-(device, PASID) address
 * spaces with their IOMMU memory regions.  Lock rules: vtd-internal.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci_bus.h"
#include "hw/viommu/vtd-internal.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/nested.h"
#include "hw/viommu/core/pt-vtd-ss.h"
#include "hw/viommu/core/pt-x86-fs.h"
#include "hw/viommu/core/vtd-cfg.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Translation
 */

uint16_t vivtd_as_sid(const VivtdAS *vas)
{
    if (vas->ioapic) {
        return vas->s->placement.ioapic_sid;
    }
    return viommu_rid(&vas->sp.rid);
}

typedef struct VivtdXlateCfg {
    enum { VIVTD_X_PT, VIVTD_X_LEGACY_SS, VIVTD_X_FS, VIVTD_X_SS, VIVTD_X_NESTED } mode;
    vi_x86_fs_cfg fs;
    vi_vtd_ss_cfg ss;
    uint16_t did;
    uint32_t pasid;     /* the PASID whose entry is used (0 in legacy mode) */
    bool fpd;
    bool scalable;
} VivtdXlateCfg;

/*
 * Configuration of a request, from the caches or the guest tables.  On an
 * error returns the fault reason with *fpd saying whether to record it.
 */
static unsigned vivtd_lookup_cfg_locked(ViommuVtdState *s, const vi_vtd_req *req,
                                        VivtdXlateCfg *x, bool *fpd)
{
    vi_vtd_fault vf;
    vi_vtd_cfg cfg;
    int r;

    memset(x, 0, sizeof(*x));
    r = vi_vtd_cfg_lookup_cached(&viommu_ram, s->cfg, &s->core_caps, s->rtaddr_act, req,
                                 &cfg, &vf);
    *fpd = vf.fpd;
    if (r) {
        return r;
    }
    x->fpd = cfg.fpd;
    x->pasid = cfg.pasid;
    x->scalable = cfg.ctx.scalable;
    if (!cfg.ctx.scalable) {
        x->did = cfg.ctx.did;
        if (cfg.ctx.tt == VI_VTD_TT_PASS_THROUGH) {
            x->mode = VIVTD_X_PT;
            return 0;
        }
        x->mode = VIVTD_X_LEGACY_SS;
        x->ss = (vi_vtd_ss_cfg) { .ptptr = cfg.ctx.slptptr, .aw_bits = cfg.ctx.aw_bits,
                                  .haw = vivtd_haw(s), .sllps = VIVTD_SLLPS };
        return 0;
    }
    x->did = cfg.pe.did;
    if (cfg.pe.pgtt == VI_VTD_PGTT_SS || cfg.pe.pgtt == VI_VTD_PGTT_NESTED) {
        x->ss = (vi_vtd_ss_cfg) { .ptptr = cfg.pe.slptptr, .aw_bits = cfg.pe.aw_bits,
                                  .haw = vivtd_haw(s), .sllps = VIVTD_SLLPS,
                                  .slee = cfg.pe.slee, .slade = cfg.pe.slade };
    }
    if (cfg.pe.pgtt == VI_VTD_PGTT_FS || cfg.pe.pgtt == VI_VTD_PGTT_NESTED) {
        x->fs = (vi_x86_fs_cfg) { .ptptr = cfg.pe.fsptptr, .levels = cfg.pe.fs_levels,
                                  .haw = vivtd_haw(s), .fl1gp = true, .wpe = cfg.pe.wpe,
                                  .eafe = cfg.pe.eafe };
    }
    switch (cfg.pe.pgtt) {
    case VI_VTD_PGTT_FS:
        x->mode = VIVTD_X_FS;
        break;
    case VI_VTD_PGTT_SS:
        x->mode = VIVTD_X_SS;
        break;
    case VI_VTD_PGTT_NESTED:
        /*
         * FS addresses are GPAs: the second stage checks them against its AW
         * (0x74 for a table, 0x83 for the output), so the first stage only
         * reserves the bits no address has (HAW and up).
         */
        x->mode = VIVTD_X_NESTED;
        break;
    default:
        x->mode = VIVTD_X_PT;
        break;
    }
    return 0;
}

static vi_vtd_xlate_kind vivtd_kind(const VivtdXlateCfg *x)
{
    switch (x->mode) {
    case VIVTD_X_FS:
        return VI_VTD_XLATE_SM_FS;
    case VIVTD_X_SS:
        return VI_VTD_XLATE_SM_SS;
    case VIVTD_X_NESTED:
        return VI_VTD_XLATE_SM_NESTED;
    default:
        return VI_VTD_XLATE_LEGACY_SS;
    }
}

/*
 * Translated addresses in the interrupt range are blocked (3.14): DMA must
 * not reach the local APICs around interrupt remapping and its source-id
 * checks, whatever the page tables or pass-through say.  Returns false for
 * an output page inside the range; a block only overlapping it is narrowed
 * to the accessed 4 KiB page so that no access runs into the range.
 */
static bool vivtd_check_intr_range(vi_pt_result *res)
{
    uint64_t base = res->out & ~(res->size - 1), page = res->out & ~0xfffull;

    if (page >= VIVTD_IR_BASE && page < VIVTD_IR_BASE + VIVTD_IR_SIZE) {
        return false;
    }
    if (base < VIVTD_IR_BASE + VIVTD_IR_SIZE && VIVTD_IR_BASE < base + res->size) {
        res->size = 4096;
    }
    return true;
}

/*
 * Translate addr for a request of vas; called with s->lock held.  Returns
 * true with *out filled, or false after recording the fault (unless FPD).
 * With ats, the request is an ATS Translation Request (4.2.3): *ats gets the
 * completion status; a configuration error is UR (and recorded as for DMA),
 * a page that does not translate is SC with no permission and is not
 * recorded.
 */
static bool vivtd_translate_locked(ViommuVtdState *s, VivtdAS *vas, uint64_t addr,
                                   bool is_write, IOMMUTLBEntry *out, bool *write_uncached,
                                   ViommuAtsStatus *ats)
{
    uint16_t sid = vivtd_as_sid(vas);
    bool has_pasid = vas->sp.key.has_pasid;
    unsigned pattrs = vas->sp.key.attrs;
    vi_vtd_req req = {
        .sid = sid, .has_pasid = has_pasid, .pasid = has_pasid ? vas->sp.key.pasid : 0,
        .priv = pattrs & VIOMMU_PASID_PRIV, .exec = pattrs & VIOMMU_PASID_EXEC,
        .ats = ats != NULL,
    };
    uint32_t access = (is_write ? VI_ACC_W : VI_ACC_R) |
                      (req.priv ? VI_ACC_PRIV : 0) | (req.exec && !is_write ? VI_ACC_X : 0);
    VivtdFaultInfo fi = {
        .sid = sid, .addr = addr, .is_write = is_write, .has_pasid = has_pasid,
        .pasid = req.pasid, .exec = req.exec, .priv = req.priv,
    };
    VivtdXlateCfg x;
    vi_iotlb_tag tag;
    vi_iotlb_entry e;
    vi_pt_result res;
    vi_fault f;
    unsigned reason;
    bool fpd, ok;

    out->iova = addr & ~0xfffull;
    out->addr_mask = 0xfff;
    out->perm = IOMMU_NONE;
    *write_uncached = false;
    if (!(s->gsts & VIVTD_GCMD_TE) && ats) {
        *ats = VIOMMU_ATS_UR;   /* remapping disabled: no translation to give */
        return false;
    }
    if (ats) {
        *ats = VIOMMU_ATS_SC;
        /* Only configuration faults are recorded for a Translation Request. */
        fi.is_write = false;
    }
    if (!(s->gsts & VIVTD_GCMD_TE)) {
        /* Translation disabled: requests pass untranslated. */
        out->translated_addr = addr & ~0xfffull;
        out->perm = IOMMU_RW;
        return true;
    }
    reason = vivtd_lookup_cfg_locked(s, &req, &x, &fpd);
    if (reason) {
        if (ats) {
            *ats = VIOMMU_ATS_UR;
        }
        fi.reason = reason;
        if (!fpd) {
            vivtd_record_fault_locked(s, &fi);
        }
        return false;
    }
    if (x.mode == VIVTD_X_PT) {
        if (x.scalable && (addr >> vivtd_haw(s))) {
            /* PASID pass-through: the output (= input) is beyond HAW. */
            fi.reason = VI_VTD_FR_SS_OUT_HAW;
            if (!x.fpd && !ats) {
                vivtd_record_fault_locked(s, &fi);
            }
            return false;
        }
        res = (vi_pt_result) { .out = addr, .size = 4096 };
        if (!vivtd_check_intr_range(&res)) {
            goto intr_range;
        }
        out->translated_addr = addr & ~0xfffull;
        out->perm = IOMMU_RW;
        return true;
    }
    tag = (vi_iotlb_tag) {
        .sid = sid, .ssid = x.pasid, .asid = x.did,
        .stage = x.mode == VIVTD_X_FS ? VI_IOTLB_STAGE1 :
                 x.mode == VIVTD_X_NESTED ? VI_IOTLB_NESTED : VI_IOTLB_STAGE2,
    };
    if (vi_iotlb_lookup(s->iotlb, &tag, addr, &e) && vi_perm_allows(e.perm, access)) {
        res.out = vi_iotlb_entry_out(&e, addr);
        res.size = 1ull << e.size_shift;
        res.perm = e.perm;
    } else {
        switch (x.mode) {
        case VIVTD_X_FS:
            ok = vi_x86_fs_translate(&x.fs, &viommu_ram, addr, access, &res, &f);
            break;
        case VIVTD_X_NESTED:
            ok = vi_vtd_nested_translate(&x.fs, &x.ss, &viommu_ram, addr, access, &res, &f,
                                         NULL);
            break;
        default:
            ok = vi_vtd_ss_translate(&x.ss, &viommu_ram, addr, access, &res, &f);
            break;
        }
        if (!ok) {
            fi.reason = vi_vtd_walk_fault_reason_fs(&f, vivtd_kind(&x), x.fs.levels);
            if (!x.fpd && !ats) {
                vivtd_record_fault_locked(s, &fi);
            }
            return false;
        }
        vi_iotlb_insert(s->iotlb, &tag, addr, &res, -1);
        *write_uncached = res.dirty_tracked;    /* SSADE: D is re-read (core pt.h) */
    }
    if (!vivtd_check_intr_range(&res)) {
        goto intr_range;
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

intr_range:
    fi.reason = VI_VTD_FR_INTR_ADDR;
    if (!x.fpd && !ats) {
        vivtd_record_fault_locked(s, &fi);
    }
    return false;
}

/* A translation the hit path could not answer: under s->lock. */
static IOMMUTLBEntry __attribute__((noinline))
vivtd_translate_slow(VivtdAS *vas, hwaddr addr, IOMMUAccessFlags flag, uint16_t sid)
{
    ViommuVtdState *s = vas->s;
    IOMMUTLBEntry e = { .target_as = &address_space_memory };
    VivtdDeferred dd = { .from_dma = true };
    bool ok, write_uncached;

    vivtd_lock(s);
    viommu_fast_set_rid_locked(&s->fast, &vas->sp, sid);
    ok = vivtd_translate_locked(s, vas, addr, flag == IOMMU_WO || flag == IOMMU_RW, &e,
                                &write_uncached, NULL);
    if (ok) {
        IOMMUTLBEntry fe = e;

        if (write_uncached) {
            fe.perm &= ~IOMMU_WO;
        }
        viommu_fast_insert_locked(&s->fast, &vas->sp, addr, &fe);
    }
    if (ok && flag == IOMMU_RW && !(e.perm & IOMMU_RO)) {
        ok = false;
    }
    vivtd_unlock(s, &dd);
    trace_viommu_vtd_translate(sid, vas->sp.key.pasid, addr, e.translated_addr, e.perm, ok);
    return e;
}

static IOMMUTLBEntry vivtd_translate(IOMMUMemoryRegion *iommu, hwaddr addr,
                                     IOMMUAccessFlags flag, int iommu_idx)
{
    VivtdAS *vas = container_of(iommu, VivtdAS, iommu);
    uint16_t sid = vivtd_as_sid(vas);
    IOMMUTLBEntry e;

    if (viommu_fast_hit(&vas->s->fast, &vas->sp, sid, addr,
                        flag == IOMMU_NONE ? IOMMU_RO : flag, &e)) {
        return e;
    }
    return vivtd_translate_slow(vas, addr, flag, sid);
}

static int vivtd_notify_flag_changed(IOMMUMemoryRegion *iommu, IOMMUNotifierFlag old,
                                     IOMMUNotifierFlag new, Error **errp)
{
    return viommu_notify_flag_check(new, "viommu-vtd does not support MAP notifiers (no "
                                    "shadowing for device assignment)", errp);
}

static void vivtd_replay(IOMMUMemoryRegion *iommu, IOMMUNotifier *n)
{
    /* Only UNMAP notifiers exist (MAP is refused): nothing to replay. */
}

/* ------------------------------------------------------------------------
 * ATS (4.2.3, 4.2.4; ECAP.DT): Translation Requests, Translated requests and
 * the device-TLBs attached for invalidation (BQL held)
 */

static int vivtd_ats_translate(PCIBus *bus, void *opaque, int devfn,
                               const ViommuAtsRequest *req, ViommuAtsCompletion *cpl)
{
    ViommuVtdState *s = opaque;
    bool pasid = req->pasid_valid;
    unsigned attrs = (req->priv ? VIOMMU_PASID_PRIV : 0) | (req->exec ? VIOMMU_PASID_EXEC : 0);
    VivtdDeferred dd = { 0 };
    IOMMUTLBEntry e = { 0 };
    ViommuAtsStatus st;
    VivtdAS *vas;
    bool ok, wu;

    if (!X86_IOMMU_DEVICE(s)->dt_supported) {
        return -ENODEV;
    }
    if (pasid && (!s->scalable || !s->pasid_bits || req->pasid >> s->pasid_bits)) {
        cpl->status = VIOMMU_ATS_UR;
        return 0;
    }
    vas = vivtd_find_as(s, bus, devfn, pasid ? req->pasid : VIVTD_NO_PASID,
                        pasid ? attrs : 0, false);
    if (!vas) {
        cpl->status = VIOMMU_ATS_UR;
        return 0;
    }
    vivtd_lock(s);
    ok = vivtd_translate_locked(s, vas, req->addr, !req->no_write, &e, &wu, &st);
    if (!ok && st == VIOMMU_ATS_SC && !req->no_write) {
        /* Read and write refused together: a read-only page grants read alone. */
        ok = vivtd_translate_locked(s, vas, req->addr, false, &e, &wu, &st);
    }
    vivtd_unlock(s, &dd);
    if (pasid) {
        viommu_spaces_put(&s->spaces, &vas->sp);
    }
    cpl->status = st;
    cpl->entry = 0;
    if (st == VIOMMU_ATS_SC) {
        if (!ok || e.perm == IOMMU_NONE) {
            /* No access (also for the interrupt range): one 4 KiB STU. */
            cpl->entry = viommu_ats_range_encode(req->addr, 12);
        } else {
            cpl->entry = viommu_ats_range_encode(e.translated_addr, ctz64(e.addr_mask + 1)) |
                         ((e.perm & IOMMU_RO) ? VIOMMU_ATS_CPL_R : 0) |
                         ((e.perm & IOMMU_WO) && !req->no_write ? VIOMMU_ATS_CPL_W : 0) |
                         (pasid && req->priv ? VIOMMU_ATS_CPL_PRIV : 0);
        }
    }
    trace_viommu_vtd_ats_translate(vivtd_as_sid(vas), pasid ? req->pasid : 0, req->addr,
                                   req->no_write, cpl->status, cpl->entry);
    return 0;
}

/*
 * A Translated request: with remapping enabled it passes only when the
 * context allows translated requests (legacy: TT = 01b, device-TLBs;
 * scalable: DTE), else it is blocked and the fault recorded (4.2.4;
 * reasons 0xD / SCT.4 from the core's lookup).  Translated addresses in the
 * interrupt range are blocked as well (3.14).
 */
static AddressSpace *vivtd_ats_translated(PCIBus *bus, void *opaque, int devfn,
                                          uint64_t addr, bool write)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas = vivtd_find_as(s, bus, devfn, VIVTD_NO_PASID, 0, false);
    VivtdDeferred dd = { 0 };
    uint16_t sid = vivtd_as_sid(vas);
    vi_vtd_req req = { .sid = sid, .ats = true };
    VivtdFaultInfo fi = { .sid = sid, .addr = addr, .is_write = write };
    VivtdXlateCfg x;
    bool fpd, pass = true;

    if (!X86_IOMMU_DEVICE(s)->dt_supported) {
        return NULL;
    }
    vivtd_lock(s);
    if (s->gsts & VIVTD_GCMD_TE) {
        fi.reason = vivtd_lookup_cfg_locked(s, &req, &x, &fpd);
        if (!fi.reason && (addr & ~0xfffull) >= VIVTD_IR_BASE &&
            (addr & ~0xfffull) < VIVTD_IR_BASE + VIVTD_IR_SIZE) {
            fi.reason = VI_VTD_FR_INTR_ADDR;
            fpd = x.fpd;
        }
        if (fi.reason) {
            pass = false;
            if (!fpd) {
                vivtd_record_fault_locked(s, &fi);
            }
        }
    }
    vivtd_unlock(s, &dd);
    trace_viommu_vtd_ats_translated(sid, addr, write, pass);
    return pass ? &address_space_memory : NULL;
}

static bool vivtd_ats_attach(PCIBus *bus, void *opaque, int devfn, ViommuAtsInvalidateFn *fn,
                             void *fn_opaque)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas;

    if (!X86_IOMMU_DEVICE(s)->dt_supported) {
        return false;
    }
    vas = vivtd_find_as(s, bus, devfn, VIVTD_NO_PASID, 0, false);
    viommu_ats_port_attach(&s->ats_host, &vas->ats_port, fn, fn_opaque);
    trace_viommu_vtd_ats_attach(vivtd_as_sid(vas), true);
    return true;
}

static void vivtd_ats_detach(PCIBus *bus, void *opaque, int devfn)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas = vivtd_find_as(s, bus, devfn, VIVTD_NO_PASID, 0, false);

    if (vas && vas->ats_port.fn) {
        viommu_ats_port_detach(&s->ats_host, &vas->ats_port);
        trace_viommu_vtd_ats_attach(vivtd_as_sid(vas), false);
    }
}

static void vivtd_ats_complete(PCIBus *bus, void *opaque, int devfn, uint32_t itag_vector)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas = vivtd_find_as(s, bus, devfn, VIVTD_NO_PASID, 0, false);

    trace_viommu_vtd_devtlb_complete(vas ? vivtd_as_sid(vas) : 0, itag_vector);
    if (vas && vas->ats_port.fn) {
        viommu_ats_port_complete(&s->ats_host, &vas->ats_port, itag_vector);
    }
}

/* ------------------------------------------------------------------------
 * Address spaces
 */

static ViommuSpace *vivtd_space_new(void *opaque, const ViommuSpaceKey *key, uint32_t id)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas = g_new0(VivtdAS, 1);
    g_autofree char *name = NULL;

    vas->s = s;
    if (!key->has_pasid) {
        name = g_strdup_printf("viommu-vtd-%02x.%x", PCI_SLOT(key->devfn),
                               PCI_FUNC(key->devfn));
    } else {
        name = g_strdup_printf("viommu-vtd-%02x.%x-pasid-%x-%x-%u", PCI_SLOT(key->devfn),
                               PCI_FUNC(key->devfn), key->pasid, key->attrs, id);
    }
    memory_region_init(&vas->root, OBJECT(s), name, UINT64_MAX);
    memory_region_init_iommu(&vas->iommu, sizeof(vas->iommu), TYPE_VIOMMU_VTD_MR,
                             OBJECT(s), name, UINT64_MAX);
    memory_region_add_subregion_overlap(&vas->root, 0, MEMORY_REGION(&vas->iommu), 0);
    if (!key->has_pasid) {
        vivtd_ir_window_init(vas);
    }
    address_space_init(&vas->as, &vas->root, name);
    return &vas->sp;
}

static bool vivtd_space_release(void *opaque, ViommuSpace *sp)
{
    VivtdAS *vas = container_of(sp, VivtdAS, sp);

    if (vas->iommu.iommu_notify_flags) {
        return false;
    }
    viommu_space_detach(&vas->as);
    return true;
}

static void vivtd_space_free(ViommuSpace *sp)
{
    VivtdAS *vas = container_of(sp, VivtdAS, sp);

    vivtd_pri_forget(vas);
    /* PASID spaces have no interrupt window: root holds the IOMMU region only. */
    memory_region_del_subregion(&vas->root, MEMORY_REGION(&vas->iommu));
    object_unparent(OBJECT(&vas->iommu));
    object_unparent(OBJECT(&vas->root));
    g_free(vas);
}

static const ViommuSpaceOps vivtd_space_ops = {
    .create = vivtd_space_new,
    .release = vivtd_space_release,
    .free = vivtd_space_free,
};

void vivtd_spaces_init(ViommuVtdState *s)
{
    viommu_spaces_init(&s->spaces, "viommu-vtd", VIVTD_MAX_PASID_SPACES, &vivtd_space_ops, s);
}

VivtdAS *vivtd_find_as(ViommuVtdState *s, PCIBus *bus, int devfn, uint32_t pasid,
                       unsigned pattrs, bool ioapic)
{
    ViommuSpaceKey key = { .bus = bus, .devfn = devfn, .has_pasid = pasid != VIVTD_NO_PASID,
                           .pasid = pasid, .attrs = pattrs };
    ViommuSpace *sp = viommu_spaces_get(&s->spaces, &key);
    VivtdAS *vas = sp ? container_of(sp, VivtdAS, sp) : NULL;

    if (vas && ioapic) {
        vas->ioapic = true;
    }
    return vas;
}

/* Tell every unmap notifier that everything is gone (after any invalidation). */
void vivtd_unmap_all(ViommuVtdState *s)
{
    ViommuSpace *sp;

    VIOMMU_SPACES_FOREACH(sp, &s->spaces) {
        viommu_notify_unmap_all(&container_of(sp, VivtdAS, sp)->iommu);
    }
}

static AddressSpace *vivtd_get_as(PCIBus *bus, void *opaque, int devfn)
{
    return &vivtd_find_as(opaque, bus, devfn, VIVTD_NO_PASID, 0, false)->as;
}

static AddressSpace *vivtd_get_pasid_as(PCIBus *bus, void *opaque, int devfn,
                                        uint32_t pasid, unsigned attrs)
{
    ViommuVtdState *s = opaque;
    VivtdAS *vas;

    if (!s->scalable || !s->pasid_bits || pasid >> s->pasid_bits) {
        return NULL;
    }
    vas = vivtd_find_as(s, bus, devfn, pasid, attrs & (VIOMMU_PASID_PRIV | VIOMMU_PASID_EXEC),
                        false);
    return vas ? &vas->as : NULL;
}

static void vivtd_put_pasid_as(PCIBus *bus, void *opaque, AddressSpace *as)
{
    ViommuVtdState *s = opaque;

    viommu_spaces_put(&s->spaces, &container_of(as, VivtdAS, as)->sp);
}

const PCIIOMMUOps vivtd_pci_ops = {
    .get_address_space = vivtd_get_as,
};

const ViommuPasidOps vivtd_pasid_ops = {
    .get_address_space = vivtd_get_pasid_as,
    .put_address_space = vivtd_put_pasid_as,
    .pri_attach = vivtd_pri_attach,         /* vtd-prq.c */
    .pri_detach = vivtd_pri_detach,
    .page_request = vivtd_page_request,
    .ats_translate = vivtd_ats_translate,
    .ats_translated = vivtd_ats_translated,
    .ats_attach = vivtd_ats_attach,
    .ats_detach = vivtd_ats_detach,
    .ats_complete = vivtd_ats_complete,
};


static void vivtd_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = vivtd_translate;
    imrc->notify_flag_changed = vivtd_notify_flag_changed;
    imrc->replay = vivtd_replay;
}

static const TypeInfo vivtd_mr_type = {
    .name = TYPE_VIOMMU_VTD_MR,
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .class_init = vivtd_mr_class_init,
};

static void vivtd_mr_register_types(void)
{
    type_register_static(&vivtd_mr_type);
}

type_init(vivtd_mr_register_types)
