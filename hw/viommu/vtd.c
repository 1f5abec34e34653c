/*
 * viommu-vtd: an Intel VT-d remapping unit (VT-d spec rev 4) for q35, on
 * top of the qemu-viommu translation core (hw/viommu/core).  This file is
 * the QOM device: properties, capabilities, realize, reset and migration;
 * vtd-internal.h lists the other files and states the lock rules, and
 * docs/vtd.rst describes the model.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci_bus.h"
#include "migration/vmstate.h"
#include "system/kvm.h"
#include "hw/viommu/vtd-internal.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/iotlb.h"
#include "hw/viommu/core/vtd-cfg.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Capabilities
 */

static void vivtd_core_caps(ViommuVtdState *s, vi_vtd_caps *c)
{
    X86IOMMUState *x = X86_IOMMU_DEVICE(s);

    memset(c, 0, sizeof(*c));
    c->sagaw = (1u << VI_VTD_AW_39) | (s->aw_bits >= 48 ? 1u << VI_VTD_AW_48 : 0) |
               (s->aw_bits >= 57 ? 1u << VI_VTD_AW_57 : 0);
    c->haw = vivtd_haw(s);
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
    /*
     * 5-level first stage whatever MGAW is: first-stage inputs are bounded by
     * canonicality, not MGAW (VT-d 3.6), and Linux's SVA binds a process
     * whose CPU paging is 5-level only with FL5LP (intel_svm_check()).
     */
    c->fs5lp = c->flts;
    c->prs = s->prs_on;
}

/* CAP_REG / ECAP_REG, and the same capabilities as the core's lookup takes them. */
static void vivtd_compute_caps(ViommuVtdState *s)
{
    vi_vtd_caps c;

    vivtd_core_caps(s, &c);
    s->core_caps = c;
    s->cap = VIVTD_CAP_ND(6) | VIVTD_CAP_SAGAW(c.sagaw) | VIVTD_CAP_MGAW(s->aw_bits) |
             VIVTD_CAP_FRO(VIVTD_FRO) | VIVTD_CAP_SLLPS(VIVTD_SLLPS) | VIVTD_CAP_PSI |
             VIVTD_CAP_NFR(VIVTD_NUM_FRCD) | VIVTD_CAP_MAMV(VIVTD_MAMV) | VIVTD_CAP_DWD |
             VIVTD_CAP_DRD | VIVTD_CAP_ESRTPS | VIVTD_CAP_ESIRTPS;
    if (c.flts) {
        s->cap |= VIVTD_CAP_FL1GP | (c.fs5lp ? VIVTD_CAP_FL5LP : 0);
    }
    s->ecap = VIVTD_ECAP_C | VIVTD_ECAP_QI | VIVTD_ECAP_IRO(VIVTD_IRO) | VIVTD_ECAP_MHMV(0xf);
    s->ecap |= c.pt ? VIVTD_ECAP_PT : 0;
    s->ecap |= c.dt ? VIVTD_ECAP_DT : 0;
    s->ecap |= s->snoop ? VIVTD_ECAP_SC : 0;
    if (s->ir_on) {
        s->ecap |= VIVTD_ECAP_IR | (s->eim_on ? VIVTD_ECAP_EIM : 0);
    }
    if (s->scalable) {
        s->ecap |= VIVTD_ECAP_SMTS | VIVTD_ECAP_SMPWC;
        s->ecap |= c.pasid ? VIVTD_ECAP_PASID | VIVTD_ECAP_PSS(c.pss) : 0;
        s->ecap |= c.flts ? VIVTD_ECAP_FLTS | VIVTD_ECAP_SRS | VIVTD_ECAP_EAFS : 0;
        s->ecap |= c.slts ? VIVTD_ECAP_SLTS | VIVTD_ECAP_SLADS : 0;
        s->ecap |= c.nest ? VIVTD_ECAP_NEST : 0;
        s->ecap |= c.prs ? VIVTD_ECAP_PRS | VIVTD_ECAP_PDS : 0;     /* vtd-prq.c */
    }
}

/* ------------------------------------------------------------------------
 * Device
 */

static void vivtd_reset_state(ViommuVtdState *s)
{
    vivtd_lock(s);
    s->gsts = 0;
    s->rtaddr = s->rtaddr_act = 0;
    s->ccmd = s->iotlb_reg = s->iva = 0;
    s->fsts = 0;
    s->fectl = VIVTD_CTL_IM;
    s->fedata = s->feaddr = s->feuaddr = 0;
    memset(s->frcd_lo, 0, sizeof(s->frcd_lo));
    memset(s->frcd_hi, 0, sizeof(s->frcd_hi));
    s->pmen = 0;
    s->iqh = s->iqt = s->iqa = s->iqercd = 0;
    s->ics = 0;
    s->iectl = VIVTD_CTL_IM;
    s->iedata = s->ieaddr = s->ieuaddr = 0;
    s->irta = s->irta_act = 0;
    s->next_frcd = 0;
    s->fault_irq_pending = s->inv_irq_pending = false;
    vivtd_prq_reset_locked(s);
    vivtd_flush_all_locked(s);
    vivtd_unlock(s, NULL);
    /* Device-TLB invalidations in flight are not waited for; the devices stay attached. */
    viommu_ats_host_reset(&s->ats_host);
}

static void vivtd_reset_hold(Object *obj, ResetType type)
{
    ViommuVtdState *s = VIOMMU_VTD(obj);

    vivtd_reset_state(s);
    /* No configuration survives: the PASID spaces no device holds can go. */
    viommu_spaces_release_idle(&s->spaces);
}

void viommu_vtd_set_placement(ViommuVtdState *s, const ViommuVtdPlacement *p)
{
    s->placement = *p;
    s->placed = true;
}

AddressSpace *viommu_vtd_ioapic_as(ViommuVtdState *s)
{
    return &s->ioapic_as->as;
}

/* Property checks; nothing is allocated before they pass. */
static bool vivtd_check_props(ViommuVtdState *s, Error **errp)
{
    if (!s->placed) {
        error_setg(errp, "viommu-vtd needs the q35 machine (nothing placed it)");
        return false;
    }
    if (s->aw_bits != 39 && s->aw_bits != 48 && s->aw_bits != 57) {
        error_setg(errp, "aw-bits must be 39, 48 or 57, not %u", s->aw_bits);
        return false;
    }
    if (s->pasid_bits > 20) {
        error_setg(errp, "pasid-bits must be 0 (no PASID) to 20, not %u", s->pasid_bits);
        return false;
    }
    if (s->scalable && !s->fs && !s->ss) {
        error_setg(errp, "scalable mode needs first-stage (fs=on) or second-stage "
                   "(ss=on) translation");
        return false;
    }
    if (s->scalable && s->nesting && !(s->fs && s->ss)) {
        error_setg(errp, "nesting=on needs fs=on and ss=on");
        return false;
    }
    if (!s->scalable && s->pasid_bits && s->pasid_bits != 20) {
        error_setg(errp, "pasid-bits needs scalable-mode=on");
        return false;
    }
    if (!s->iotlb_size || s->iotlb_size > 65536 || !s->ctx_cache_size ||
        s->ctx_cache_size > 65536 || !s->pasid_cache_size || s->pasid_cache_size > 65536) {
        error_setg(errp, "iotlb-size, context-cache-size and pasid-cache-size must be "
                   "1 to 65536");
        return false;
    }
    if (s->eim == ON_OFF_AUTO_ON && !s->ir_on) {
        error_setg(errp, "eim=on needs intremap=on");
        return false;
    }
    if (s->prs == ON_OFF_AUTO_ON && !s->scalable) {
        error_setg(errp, "prs=on needs scalable-mode=on (page requests need scalable-mode "
                   "context entries)");
        return false;
    }
    return true;
}

/*
 * Checks and the caches (the only allocations that can fail) come first and
 * undo what they did; from the mutex on nothing fails.
 */
static void vivtd_realize(DeviceState *dev, Error **errp)
{
    ViommuVtdState *s = VIOMMU_VTD(dev);
    X86IOMMUState *x = X86_IOMMU_DEVICE(dev);
    uint16_t isid;

    s->ir_on = x86_iommu_ir_supported(x);
    if (!vivtd_check_props(s, errp)) {
        return;
    }
    s->eim_on = s->eim == ON_OFF_AUTO_ON ||
                (s->eim == ON_OFF_AUTO_AUTO && s->ir_on && kvm_irqchip_is_split());
    s->prs_on = s->prs == ON_OFF_AUTO_ON || (s->prs == ON_OFF_AUTO_AUTO && s->scalable);
    vivtd_compute_caps(s);

    s->iotlb = vi_iotlb_new(s->iotlb_size);
    s->cfg = vi_vtd_cfg_cache_new(s->ctx_cache_size, s->pasid_cache_size);
    if (!s->iotlb || !s->cfg) {
        error_setg(errp, "viommu-vtd: cannot allocate the caches");
        g_clear_pointer(&s->iotlb, vi_iotlb_free);
        g_clear_pointer(&s->cfg, vi_cfg_cache_free);
        return;
    }

    qemu_mutex_init(&s->lock);
    viommu_fast_init(&s->fast, s->iotlb_size);
    viommu_fast_add_test_props(&s->fast, OBJECT(s));
    viommu_spaces_add_test_props(OBJECT(s), &s->spaces);
    viommu_add_notifier_probes(OBJECT(s), &s->spaces, &s->placement.bus,
                               offsetof(VivtdAS, iommu) - offsetof(VivtdAS, sp));
    s->irq_bh = viommu_bh_new(dev, vivtd_irq_bh, s);
    s->qi_bh = viommu_bh_new(dev, vivtd_qi_bh, s);
    /* A descriptor waiting for a device-TLB invalidation continues from s->qi_bh. */
    viommu_ats_host_init(&s->ats_host, s->qi_bh);
    vivtd_spaces_init(s);
    memory_region_init_io(&s->mmio, OBJECT(s), &vivtd_mmio_ops, s, "viommu-vtd",
                          VIVTD_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), s->placement.base, &s->mmio);
    pci_setup_iommu(s->placement.bus, &vivtd_pci_ops, s);
    viommu_pasid_register(&vivtd_pci_ops, &vivtd_pasid_ops);
    /*
     * The IOAPIC's interrupt requests, as source-id placement.ioapic_sid; its
     * key is apart from every real device's (pattrs 0x100 is no PASID
     * attribute).
     */
    isid = s->placement.ioapic_sid;
    s->ioapic_as = vivtd_find_as(s, s->placement.bus, PCI_BDF_TO_DEVFN(isid), VIVTD_NO_PASID,
                                 0x100, true);
    vivtd_reset_state(s);
}

static int vivtd_post_load(void *opaque, int version_id)
{
    ViommuVtdState *s = opaque;

    /* Caches start empty; the architected state came with the stream. */
    vivtd_lock(s);
    vivtd_flush_all_locked(s);
    s->next_frcd %= VIVTD_NUM_FRCD;
    s->iqt &= 0x7fff0;
    s->iqh &= 0x7fff0;
    vivtd_unlock(s, NULL);
    return 0;
}

static const VMStateDescription vivtd_vmstate = {
    .name = "viommu-vtd",
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .post_load = vivtd_post_load,
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
        VMSTATE_UINT64_ARRAY(frcd_lo, ViommuVtdState, VIVTD_NUM_FRCD),
        VMSTATE_UINT64_ARRAY(frcd_hi, ViommuVtdState, VIVTD_NUM_FRCD),
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
    .subsections = (const VMStateDescription * const []) {
        &vivtd_prq_vmstate,
        NULL
    },
};

static const Property vivtd_properties[] = {
    DEFINE_PROP_UINT8("aw-bits", ViommuVtdState, aw_bits, 48),
    DEFINE_PROP_BOOL("scalable-mode", ViommuVtdState, scalable, true),
    DEFINE_PROP_BOOL("fs", ViommuVtdState, fs, true),
    DEFINE_PROP_BOOL("ss", ViommuVtdState, ss, true),
    DEFINE_PROP_BOOL("nesting", ViommuVtdState, nesting, true),
    DEFINE_PROP_UINT8("pasid-bits", ViommuVtdState, pasid_bits, 20),
    DEFINE_PROP_BOOL("snoop-control", ViommuVtdState, snoop, true),
    DEFINE_PROP_ON_OFF_AUTO("eim", ViommuVtdState, eim, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_ON_OFF_AUTO("prs", ViommuVtdState, prs, ON_OFF_AUTO_AUTO),
    DEFINE_PROP_UINT32("iotlb-size", ViommuVtdState, iotlb_size, 4096),
    DEFINE_PROP_UINT32("context-cache-size", ViommuVtdState, ctx_cache_size, 256),
    DEFINE_PROP_UINT32("pasid-cache-size", ViommuVtdState, pasid_cache_size, 1024),
};

static void vivtd_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);
    X86IOMMUClass *xc = X86_IOMMU_DEVICE_CLASS(klass);

    xc->realize = vivtd_realize;
    xc->int_remap = vivtd_int_remap;
    rc->phases.hold = vivtd_reset_hold;
    dc->vmsd = &vivtd_vmstate;
    dc->user_creatable = true;
    dc->desc = "qemu-viommu Intel VT-d remapping unit (scalable mode, nesting, IR)";
    device_class_set_props(dc, vivtd_properties);
    vivtd_ir_class_init(klass);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

/*
 * device-iotlb (the base class's property) defaults to on here: Linux binds a
 * process address space (SVA) only to a device whose ATS it enabled, which
 * needs ECAP.DT (intel_iommu_sva_supported()).  Runs after the class defaults
 * and before -device/-global values.
 */
static void vivtd_instance_init(Object *obj)
{
    X86_IOMMU_DEVICE(obj)->dt_supported = true;
}

static const TypeInfo vivtd_types[] = {
    {
        .name = TYPE_VIOMMU_VTD,
        .parent = TYPE_X86_IOMMU_DEVICE,
        .instance_size = sizeof(ViommuVtdState),
        .instance_init = vivtd_instance_init,
        .class_init = vivtd_class_init,
    },
};

DEFINE_TYPES(vivtd_types)
