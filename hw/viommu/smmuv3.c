/*
 * viommu-smmuv3: an Arm SMMUv3 device model on the qemu-viommu translation
 * core, written from Arm IHI 0070.  This file is the QOM device: properties,
 * the capabilities they select (SMMU_IDR*), realize, reset and migration.
 * The rest: see include/hw/viommu/smmuv3-internal.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "hw/qdev-properties.h"
#include "hw/resettable.h"
#include "migration/vmstate.h"
#include "system/reset.h"
#include "exec/address-spaces.h"
#include "hw/viommu/smmuv3-internal.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Device
 */
static void vismmu_reset_hold(Object *obj, ResetType type)
{
    ViommuSmmuv3State *s = VIOMMU_SMMUV3(obj);

    /* Held transactions end with an abort; the devices stay attached. */
    vismmu_stall_terminate_all(s);
    s->cr1 = s->cr2 = 0;
    s->gbpa = VISMMU_GBPA_RESET;
    s->irq_ctrl = 0;
    s->gerror = s->gerrorn = 0;
    s->gerror_irq_cfg0 = s->gerror_irq_cfg1 = s->gerror_irq_cfg2 = 0;
    s->strtab_base = 0;
    s->strtab_base_cfg = 0;
    s->cmdq = (ViommuSmmuv3Queue) { 0 };
    s->evtq = (ViommuSmmuv3Queue) { 0 };
    s->evtq_irq_cfg0 = s->evtq_irq_cfg1 = s->evtq_irq_cfg2 = 0;
    /* No configuration survives: the PASID spaces no device holds can go. */
    viommu_spaces_release_idle(&s->spaces);
    /* PRI attachments are the devices' (they detach at their own reset). */
    s->priq = (ViommuSmmuv3Queue) { 0 };
    s->priq_irq_cfg0 = s->priq_irq_cfg1 = s->priq_irq_cfg2 = 0;
    /* ATC invalidations in flight are not waited for; the devices stay attached. */
    viommu_ats_host_reset(&s->ats_host);
    qemu_mutex_lock(&s->mutex);
    s->cr0 = 0;
    s->caps.e2h = false;
    vismmu_gen_bump_locked(s);
    s->npending = 0;
    s->pending_lost = false;
    qemu_mutex_unlock(&s->mutex);
    vismmu_inval_all(s);
}

static int oas_enc(unsigned bits)
{
    static const uint8_t sizes[] = { 32, 36, 40, 42, 44, 48, 52 };

    for (int i = 0; i < ARRAY_SIZE(sizes); i++) {
        if (sizes[i] == bits) {
            return i;
        }
    }
    return -1;
}

static bool vismmu_validate(ViommuSmmuv3State *s, Error **errp)
{
    vi_smmu_caps *c = &s->caps;

    memset(c, 0, sizeof(*c));
    if (!s->stages || !strcmp(s->stages, "nested")) {
        c->s1 = c->s2 = true;
    } else if (!strcmp(s->stages, "s1")) {
        c->s1 = true;
    } else if (!strcmp(s->stages, "s2")) {
        c->s2 = true;
    } else {
        error_setg(errp, "viommu-smmuv3: stages must be s1, s2 or nested, not '%s'",
                   s->stages);
        return false;
    }
    if (s->ssidsize > 20) {
        error_setg(errp, "viommu-smmuv3: ssidsize must be 0..20, not %u", s->ssidsize);
        return false;
    }
    if (s->ssidsize && !c->s1) {
        error_setg(errp, "viommu-smmuv3: ssidsize > 0 needs stage 1 (stages=s1 or nested)");
        return false;
    }
    if (s->sidsize < 1 || s->sidsize > 16) {
        error_setg(errp, "viommu-smmuv3: sidsize must be 1..16 (PCI requester IDs), "
                   "not %u", s->sidsize);
        return false;
    }
    if (oas_enc(s->oas) < 0) {
        error_setg(errp, "viommu-smmuv3: oas must be one of 32, 36, 40, 42, 44, 48, 52 "
                   "(bits), not %u", s->oas);
        return false;
    }
    if (!s->gran4k && !s->gran16k && !s->gran64k) {
        error_setg(errp, "viommu-smmuv3: at least one of gran4k, gran16k, gran64k "
                   "must be on");
        return false;
    }
    if (s->fwb && !c->s2) {
        error_setg(errp, "viommu-smmuv3: fwb needs stage 2 (stages=s2 or nested)");
        return false;
    }
    if (s->st_2lvl && s->sidsize <= 8) {
        error_setg(errp, "viommu-smmuv3: st-2lvl needs sidsize > 8");
        return false;
    }
    if (s->cmdq_log2 < 7 || s->cmdq_log2 > 19) {
        error_setg(errp, "viommu-smmuv3: cmdq-log2size must be 7..19 (Linux needs more "
                   "than 64 entries), not %u", s->cmdq_log2);
        return false;
    }
    if (s->evtq_log2 < 1 || s->evtq_log2 > 19) {
        error_setg(errp, "viommu-smmuv3: evtq-log2size must be 1..19, not %u",
                   s->evtq_log2);
        return false;
    }
    if (s->pri && !s->ats) {
        error_setg(errp, "viommu-smmuv3: pri=on needs ats=on (IDR0.PRI only with ATS)");
        return false;
    }
    if (s->pri && (s->priq_log2 < 1 || s->priq_log2 > 19)) {
        error_setg(errp, "viommu-smmuv3: priq-log2size must be 1..19, not %u", s->priq_log2);
        return false;
    }
    if (s->iotlb_entries < 8 || s->iotlb_entries > (1u << 20)) {
        error_setg(errp, "viommu-smmuv3: iotlb-entries must be 8..1048576, not %u",
                   s->iotlb_entries);
        return false;
    }
    if (s->cfg_entries < 4 || s->cfg_entries > (1u << 16)) {
        error_setg(errp, "viommu-smmuv3: cfg-entries must be 4..65536, not %u",
                   s->cfg_entries);
        return false;
    }
    /*
     * What SMMUv3.1 makes mandatory is always there: HAD with stage 1, XNX
     * with stage 2 (IHI 0070 6.3.4).  SMMUv3.2 adds Hyp with both stages
     * (6.3.1), BBML 1 or 2, RIL and FWB (6.3.4): with ril=off, or fwb=off on
     * an SMMU with stage 2, the SMMU claims v3.1 instead.
     */
    c->hyp = c->s1 && c->s2;
    c->xnx = c->s2;
    c->st_2lvl = s->st_2lvl;
    c->cd_2lvl = s->cd_2lvl && c->s1;
    c->asid16 = true;
    c->vmid16 = true;
    c->httu_a = c->httu_d = s->httu;
    c->s2fwb = s->fwb;
    c->gran4k = s->gran4k;
    c->gran16k = s->gran16k;
    c->gran64k = s->gran64k;
    if (!s->stall || !strcmp(s->stall, "off")) {
        c->stall_model = VI_SMMU_STALL_MODEL_TERM;
    } else if (!strcmp(s->stall, "on")) {
        c->stall_model = VI_SMMU_STALL_MODEL_BOTH;
    } else if (!strcmp(s->stall, "force")) {
        c->stall_model = VI_SMMU_STALL_MODEL_FORCED;
    } else {
        error_setg(errp, "viommu-smmuv3: stall must be off, on or force");
        return false;
    }
    if (s->stall_max < 1 || s->stall_max > 4096) {
        error_setg(errp, "viommu-smmuv3: x-stall-max must be 1..4096");
        return false;
    }
    c->ttendian = VI_SMMU_TTENDIAN_LE;
    c->sidsize = s->sidsize;
    c->ssidsize = c->s1 ? s->ssidsize : 0;
    c->oas = s->oas;
    /* ATS, without split-stage ATS (IDR0.NS1ATS = 1: STE.EATS = 0b10 is ILLEGAL). */
    c->ats = s->ats;
    c->ats_s1chk = false;

    memset(s->idr, 0, sizeof(s->idr));
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, S2P, c->s2);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, S1P, c->s1);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, TTF, 2);           /* AArch64 */
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, COHACC, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, HTTU, s->httu ? 2 : 0);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, HYP, c->hyp);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, ATS, c->ats);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, NS1ATS, c->ats);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, PRI, s->pri);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, ASID16, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, MSI, s->msi);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, VMID16, c->s2);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, CD2L, c->cd_2lvl);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, TTENDIAN, VI_SMMU_TTENDIAN_LE);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, STALL_MODEL, c->stall_model);
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, TERM_MODEL, 1);    /* always abort */
    s->idr[0] = FIELD_DP32(s->idr[0], VISMMU_IDR0, ST_LEVEL, c->st_2lvl);
    s->idr[1] = FIELD_DP32(s->idr[1], VISMMU_IDR1, SIDSIZE, s->sidsize);
    s->idr[1] = FIELD_DP32(s->idr[1], VISMMU_IDR1, SSIDSIZE, c->ssidsize);
    s->idr[1] = FIELD_DP32(s->idr[1], VISMMU_IDR1, EVENTQS, s->evtq_log2);
    s->idr[1] = FIELD_DP32(s->idr[1], VISMMU_IDR1, PRIQS, s->pri ? s->priq_log2 : 0);
    s->idr[1] = FIELD_DP32(s->idr[1], VISMMU_IDR1, CMDQS, s->cmdq_log2);
    s->idr[3] = FIELD_DP32(s->idr[3], VISMMU_IDR3, HAD, c->s1);
    s->idr[3] = FIELD_DP32(s->idr[3], VISMMU_IDR3, XNX, c->xnx);
    /*
     * BBML2: a software IOTLB never reports a TLB conflict, and a lookup
     * returns one cached translation whole, old or new, whatever block sizes
     * the tables changed between (IHI 0070 3.21.1).
     */
    s->idr[3] = FIELD_DP32(s->idr[3], VISMMU_IDR3, BBML, 2);
    /* Overflow auto-responses carry the request's PASID; STE.PPAR is not read. */
    s->idr[3] = FIELD_DP32(s->idr[3], VISMMU_IDR3, PPS, s->pri && c->ssidsize);
    s->idr[3] = FIELD_DP32(s->idr[3], VISMMU_IDR3, FWB, s->fwb);
    s->idr[3] = FIELD_DP32(s->idr[3], VISMMU_IDR3, RIL, s->ril);
    s->idr[5] = FIELD_DP32(s->idr[5], VISMMU_IDR5, OAS, oas_enc(s->oas));
    s->idr[5] = FIELD_DP32(s->idr[5], VISMMU_IDR5, GRAN4K, s->gran4k);
    s->idr[5] = FIELD_DP32(s->idr[5], VISMMU_IDR5, GRAN16K, s->gran16k);
    s->idr[5] = FIELD_DP32(s->idr[5], VISMMU_IDR5, GRAN64K, s->gran64k);
    s->aidr = s->ril && (s->fwb || !c->s2) ? VISMMU_AIDR_V3_2 : VISMMU_AIDR_V3_1;
    return true;
}

static ViommuSmmuv3PlaceFn *vismmu_place;

void viommu_smmuv3_set_placement_fn(ViommuSmmuv3PlaceFn *fn)
{
    vismmu_place = fn;
}

/* What realize allocated, freed on its failure paths (NULL members skipped). */
static void vismmu_free(ViommuSmmuv3State *s)
{
    g_clear_pointer(&s->cmdq_bh, qemu_bh_delete);
    g_clear_pointer(&s->evt_bh, qemu_bh_delete);
    viommu_spaces_destroy(&s->spaces);
    viommu_fast_destroy(&s->fast);
    g_clear_pointer(&s->cfg, vi_cfg_cache_free);
    g_clear_pointer(&s->iotlb, vi_iotlb_free);
    g_clear_pointer(&s->stalls, g_free);
    qemu_mutex_destroy(&s->mutex);
}

static void vismmu_realize(DeviceState *dev, Error **errp)
{
    ViommuSmmuv3State *s = VIOMMU_SMMUV3(dev);
    ViommuSmmuv3Placement p = { 0 };

    if (!vismmu_validate(s, errp)) {
        return;
    }
    if (!vismmu_place) {
        error_setg(errp, "viommu-smmuv3 needs the 'virt' machine (-M virt,gic-version=3)");
        return;
    }
    qemu_mutex_init(&s->mutex);
    s->iotlb = vi_iotlb_new(s->iotlb_entries);
    s->cfg = vi_smmu_cfg_cache_new(s->cfg_entries, s->cfg_entries * 4);
    /* The fast path covers about as many pages as the IOTLB, within bounds. */
    viommu_fast_init(&s->fast, s->iotlb_entries);
    if (!s->iotlb || !s->cfg) {
        error_setg(errp, "viommu-smmuv3: cannot allocate the translation caches");
        vismmu_free(s);
        return;
    }
    vismmu_spaces_init(s);
    s->stalls = g_new0(ViommuSmmuv3Stall, s->stall_max);
    s->evt_bh = viommu_bh_new(dev, vismmu_evt_bh, s);
    s->cmdq_bh = viommu_bh_new(dev, vismmu_cmdq_bh, s);
    /* A command waiting for an ATC invalidation continues in the queue's bottom half. */
    viommu_ats_host_init(&s->ats_host, s->cmdq_bh);
    /* Last: the machine side commits to the device (its DT node) on success. */
    if (!vismmu_place(s, &p, errp)) {
        vismmu_free(s);
        return;
    }
    viommu_fast_add_test_props(&s->fast, OBJECT(s));
    viommu_spaces_add_test_props(OBJECT(s), &s->spaces);
    viommu_add_notifier_probes(OBJECT(s), &s->spaces, &s->bus,
                               offsetof(ViommuSmmuv3AS, iommu) - offsetof(ViommuSmmuv3AS, sp));
    memory_region_init_io(&s->mmio, OBJECT(s), &vismmu_mmio_ops, s, "viommu-smmuv3",
                          VIOMMU_SMMUV3_MMIO_SIZE);
    memory_region_add_subregion(get_system_memory(), p.base, &s->mmio);
    memcpy(s->irq, p.irq, sizeof(s->irq));
    vismmu_attach_bus(s, p.bus);
    qemu_register_resettable(OBJECT(s));
    vismmu_reset_hold(OBJECT(s), RESET_TYPE_COLD);
}

static int vismmu_pre_save(void *opaque)
{
    vismmu_flush_events(opaque);
    return 0;
}

static int vismmu_post_load(void *opaque, int version_id)
{
    ViommuSmmuv3State *s = opaque;

    /* Caches start empty: everything is fetched again from guest memory. */
    qemu_mutex_lock(&s->mutex);
    s->caps.e2h = s->caps.hyp && (s->cr2 & VISMMU_CR2_E2H);
    qemu_mutex_unlock(&s->mutex);
    vismmu_inval_all(s);
    return 0;
}

static const VMStateDescription vmstate_smmu_queue = {
    .name = "viommu-smmuv3-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(base, ViommuSmmuv3Queue),
        VMSTATE_UINT32(prod, ViommuSmmuv3Queue),
        VMSTATE_UINT32(cons, ViommuSmmuv3Queue),
        VMSTATE_END_OF_LIST()
    },
};

static bool vismmu_priq_needed(void *opaque)
{
    return ((ViommuSmmuv3State *)opaque)->pri;
}

static const VMStateDescription vmstate_smmu_priq = {
    .name = TYPE_VIOMMU_SMMUV3 "/priq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vismmu_priq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(priq, ViommuSmmuv3State, 0, vmstate_smmu_queue, ViommuSmmuv3Queue),
        VMSTATE_UINT64(priq_irq_cfg0, ViommuSmmuv3State),
        VMSTATE_UINT32(priq_irq_cfg1, ViommuSmmuv3State),
        VMSTATE_UINT32(priq_irq_cfg2, ViommuSmmuv3State),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_smmu = {
    .name = TYPE_VIOMMU_SMMUV3,
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .pre_save = vismmu_pre_save,
    .post_load = vismmu_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_EQUAL(idr[0], ViommuSmmuv3State, NULL),
        VMSTATE_UINT32_EQUAL(idr[1], ViommuSmmuv3State, NULL),
        VMSTATE_UINT32_EQUAL(idr[2], ViommuSmmuv3State, NULL),
        VMSTATE_UINT32_EQUAL(idr[3], ViommuSmmuv3State, NULL),
        VMSTATE_UINT32_EQUAL(idr[4], ViommuSmmuv3State, NULL),
        VMSTATE_UINT32_EQUAL(idr[5], ViommuSmmuv3State, NULL),
        VMSTATE_UINT32(cr0, ViommuSmmuv3State),
        VMSTATE_UINT32(cr1, ViommuSmmuv3State),
        VMSTATE_UINT32(cr2, ViommuSmmuv3State),
        VMSTATE_UINT32(gbpa, ViommuSmmuv3State),
        VMSTATE_UINT32(irq_ctrl, ViommuSmmuv3State),
        VMSTATE_UINT32(gerror, ViommuSmmuv3State),
        VMSTATE_UINT32(gerrorn, ViommuSmmuv3State),
        VMSTATE_UINT64(gerror_irq_cfg0, ViommuSmmuv3State),
        VMSTATE_UINT32(gerror_irq_cfg1, ViommuSmmuv3State),
        VMSTATE_UINT32(gerror_irq_cfg2, ViommuSmmuv3State),
        VMSTATE_UINT64(strtab_base, ViommuSmmuv3State),
        VMSTATE_UINT32(strtab_base_cfg, ViommuSmmuv3State),
        VMSTATE_STRUCT(cmdq, ViommuSmmuv3State, 0, vmstate_smmu_queue, ViommuSmmuv3Queue),
        VMSTATE_STRUCT(evtq, ViommuSmmuv3State, 0, vmstate_smmu_queue, ViommuSmmuv3Queue),
        VMSTATE_UINT64(evtq_irq_cfg0, ViommuSmmuv3State),
        VMSTATE_UINT32(evtq_irq_cfg1, ViommuSmmuv3State),
        VMSTATE_UINT32(evtq_irq_cfg2, ViommuSmmuv3State),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_smmu_priq,
        NULL
    },
};

static const Property vismmu_props[] = {
    DEFINE_PROP_STRING("stages", ViommuSmmuv3State, stages),
    DEFINE_PROP_UINT8("ssidsize", ViommuSmmuv3State, ssidsize, 20),
    DEFINE_PROP_UINT8("sidsize", ViommuSmmuv3State, sidsize, 16),
    /*
     * OAS 52 (FEAT_LPA's PARange of -cpu max): Linux shares a process's page
     * tables with the SMMU (SVA) only if OAS covers every CPU's PARange
     * (arm_smmu_sva_supported()).  4K/16K walks still output 48 bits (no DS).
     */
    DEFINE_PROP_UINT8("oas", ViommuSmmuv3State, oas, 52),
    DEFINE_PROP_BOOL("gran4k", ViommuSmmuv3State, gran4k, true),
    DEFINE_PROP_BOOL("gran16k", ViommuSmmuv3State, gran16k, true),
    DEFINE_PROP_BOOL("gran64k", ViommuSmmuv3State, gran64k, true),
    DEFINE_PROP_BOOL("ril", ViommuSmmuv3State, ril, true),
    DEFINE_PROP_BOOL("st-2lvl", ViommuSmmuv3State, st_2lvl, true),
    DEFINE_PROP_BOOL("cd-2lvl", ViommuSmmuv3State, cd_2lvl, true),
    DEFINE_PROP_BOOL("httu", ViommuSmmuv3State, httu, true),
    DEFINE_PROP_BOOL("fwb", ViommuSmmuv3State, fwb, true),
    DEFINE_PROP_BOOL("msi", ViommuSmmuv3State, msi, true),
    DEFINE_PROP_UINT8("cmdq-log2size", ViommuSmmuv3State, cmdq_log2, 19),
    DEFINE_PROP_UINT8("evtq-log2size", ViommuSmmuv3State, evtq_log2, 19),
    DEFINE_PROP_BOOL("pri", ViommuSmmuv3State, pri, true),
    DEFINE_PROP_BOOL("ats", ViommuSmmuv3State, ats, true),
    DEFINE_PROP_STRING("stall", ViommuSmmuv3State, stall),
    DEFINE_PROP_UINT16("x-stall-max", ViommuSmmuv3State, stall_max, 64),
    DEFINE_PROP_UINT8("priq-log2size", ViommuSmmuv3State, priq_log2, 12),
    DEFINE_PROP_UINT32("iotlb-entries", ViommuSmmuv3State, iotlb_entries, 4096),
    DEFINE_PROP_UINT32("cfg-entries", ViommuSmmuv3State, cfg_entries, 256),
    DEFINE_PROP_UINT16("msi-devid", ViommuSmmuv3State, msi_devid, 0xff00),
    DEFINE_PROP_LINK("primary-bus", ViommuSmmuv3State, primary_bus, TYPE_PCI_BUS, PCIBus *),
};

static void vismmu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = vismmu_realize;
    dc->vmsd = &vmstate_smmu;
    dc->desc = "Arm SMMUv3 with substreams (qemu-viommu), for -M virt";
    dc->user_creatable = true;
    dc->hotpluggable = false;
    rc->phases.hold = vismmu_reset_hold;
    device_class_set_props(dc, vismmu_props);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo vismmu_types[] = {
    {
        .name = TYPE_VIOMMU_SMMUV3,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(ViommuSmmuv3State),
        .class_init = vismmu_class_init,
    }, {
        .name = TYPE_VIOMMU_SMMUV3_IOMMU_MR,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = vismmu_iommu_mr_class_init,
    },
};

DEFINE_TYPES(vismmu_types)
