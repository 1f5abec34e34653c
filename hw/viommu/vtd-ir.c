/*
 * viommu-vtd interrupt remapping (VT-d spec rev 4, chapter 5): remappable and
 * compatibility-format interrupt requests, IRTE checks (9.10) and their fault
 * reasons (7.1.3), the interrupt window of each device's address space, and
 * the interrupt entry cache invalidation (6.5.2.7).  Lock rules:
 * vtd-internal.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "hw/registerfields.h"
#include "hw/i386/apic_internal.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "system/qtest.h"
#include "hw/viommu/vtd-internal.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Interrupt remapping
 */

/*
 * The IRTE of index: from the interrupt entry cache, else read from the
 * table (and cached when present: not-present entries are not cached, as
 * CAP.CM = 0).  False on a fetch error.
 */
static bool vivtd_irte_fetch_locked(ViommuVtdState *s, uint32_t index, uint64_t irte[2])
{
    VivtdIecEntry *c = &s->iec[index % VIVTD_IEC_ENTRIES];
    uint64_t irta = s->irta_act & ~0xfffull;

    if (c->valid && c->index == index) {
        irte[0] = c->irte[0];
        irte[1] = c->irte[1];
        return true;
    }
    if (vi_mem_read_le64s(&viommu_ram, irta + (uint64_t)index * VIVTD_IRTE_SIZE, irte, 2) !=
        VI_MEM_OK) {
        return false;
    }
    if (FIELD_EX64(irte[0], VIVTD_IRTE0, P)) {
        *c = (VivtdIecEntry) { .irte = { irte[0], irte[1] }, .index = index, .valid = true };
    }
    return true;
}

void vivtd_iec_flush_locked(ViommuVtdState *s)
{
    memset(s->iec, 0, sizeof(s->iec));
}

/* Index-selective: the 2^im entries from index, aligned (6.5.2.7). */
static void vivtd_iec_inv_index_locked(ViommuVtdState *s, uint32_t index, unsigned im)
{
    uint32_t first = index & ~((1u << im) - 1), count = 1u << im;

    for (unsigned i = 0; i < VIVTD_IEC_ENTRIES; i++) {
        if (s->iec[i].valid && s->iec[i].index - first < count) {
            s->iec[i].valid = false;
        }
    }
}

/*
 * Remap an interrupt request from sid.  Returns true with *out; false when it
 * is blocked (after recording the fault when request is true).
 *
 * request is false for a route fix-up (int_remap, from
 * kvm_arch_fixup_msi_route()): KVM translates a message once when it sets up
 * a route, for interrupts that may never be sent, so nothing is an
 * architected fault and nothing is recorded (7.1.3 lists faults of
 * interrupt requests only).  Its sid is X86_IOMMU_SID_INVALID for routes
 * without a PCI device (the IOAPIC's, under a split irqchip): no source to
 * verify, so source-id validation (9.10 SVT) is skipped; a request can never
 * carry that sid (only fix-ups do), which the caller guarantees.
 */
static bool vivtd_irq_remap_locked(ViommuVtdState *s, uint16_t sid, const MSIMessage *in,
                                   MSIMessage *out, bool request)
{
    uint64_t addr = in->address, irte[2] = { 0 };
    uint32_t data = in->data, index, size;
    VivtdFaultInfo fi = { .sid = sid, .is_write = true };
    X86IOMMUIrq irq = { 0 };
    unsigned reason = 0;
    bool eime = s->irta_act & VIVTD_IRTA_EIME;

    if (!(s->gsts & VIVTD_GCMD_IRE)) {
        *out = *in;
        return true;
    }
    if (!FIELD_EX64(addr, VIVTD_MSIA, IF)) {
        /* Compatibility format: passes only with CFI set (and no x2APIC mode). */
        if ((s->gsts & VIVTD_GCMD_CFI) && !eime) {
            *out = *in;
            return true;
        }
        fi.reason = VIVTD_FR_IR_COMPAT;
        if (request) {
            vivtd_record_fault_locked(s, &fi);
        }
        return false;
    }
    index = FIELD_EX64(addr, VIVTD_MSIA, HANDLE_LO) |
            (FIELD_EX64(addr, VIVTD_MSIA, HANDLE_HI) << 15);
    if (FIELD_EX64(addr, VIVTD_MSIA, SHV)) {
        if (data >> 16) {
            reason = VIVTD_FR_IR_REQ_RSVD;
        }
        index += data & 0xffff;
    }
    fi.addr = (uint64_t)index << 48;    /* FI[63:48] holds the interrupt index */
    size = 2u << (s->irta_act & VIVTD_IRTA_S_MASK);
    if (!reason && index >= size) {
        reason = VIVTD_FR_IR_INDEX;
    }
    if (!reason && !vivtd_irte_fetch_locked(s, index, irte)) {
        reason = VIVTD_FR_IR_ACCESS;
    }
    if (!reason && !FIELD_EX64(irte[0], VIVTD_IRTE0, P)) {
        if (FIELD_EX64(irte[0], VIVTD_IRTE0, FPD)) {
            return false;
        }
        reason = VIVTD_FR_IR_NOT_PRESENT;
    }
    if (!reason && ((irte[0] & VIVTD_IRTE0_RSVD) || (irte[1] & VIVTD_IRTE1_RSVD) ||
                    FIELD_EX64(irte[0], VIVTD_IRTE0, IM) ||
                    FIELD_EX64(irte[1], VIVTD_IRTE1, SVT) == 3 ||
                    (!eime && (FIELD_EX64(irte[0], VIVTD_IRTE0, DST) & 0xffff00ffu)))) {
        reason = VIVTD_FR_IR_IRTE_RSVD;
    }
    if (!reason && (request || sid != X86_IOMMU_SID_INVALID)) {
        uint16_t isid = FIELD_EX64(irte[1], VIVTD_IRTE1, SID);
        static const uint16_t sq_mask[4] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };

        switch (FIELD_EX64(irte[1], VIVTD_IRTE1, SVT)) {
        case 1:
            if ((sid & sq_mask[FIELD_EX64(irte[1], VIVTD_IRTE1, SQ)]) !=
                (isid & sq_mask[FIELD_EX64(irte[1], VIVTD_IRTE1, SQ)])) {
                reason = VIVTD_FR_IR_SID;
            }
            break;
        case 2:
            if ((sid >> 8) < (isid >> 8) || (sid >> 8) > (isid & 0xff)) {
                reason = VIVTD_FR_IR_SID;
            }
            break;
        }
    }
    if (reason) {
        fi.reason = reason;
        if (request && !(reason != VIVTD_FR_IR_INDEX && reason != VIVTD_FR_IR_ACCESS &&
                         FIELD_EX64(irte[0], VIVTD_IRTE0, FPD))) {
            vivtd_record_fault_locked(s, &fi);
        }
        trace_viommu_vtd_irq_fault(sid, index, reason);
        return false;
    }
    irq.trigger_mode = FIELD_EX64(irte[0], VIVTD_IRTE0, TM);
    irq.vector = FIELD_EX64(irte[0], VIVTD_IRTE0, V);
    irq.delivery_mode = FIELD_EX64(irte[0], VIVTD_IRTE0, DLM);
    irq.dest_mode = FIELD_EX64(irte[0], VIVTD_IRTE0, DM);
    irq.redir_hint = FIELD_EX64(irte[0], VIVTD_IRTE0, RH);
    irq.dest = FIELD_EX64(irte[0], VIVTD_IRTE0, DST);
    if (!eime) {
        irq.dest = (irq.dest >> 8) & 0xff;
    }
    x86_iommu_irq_to_msi_message(&irq, out);
    trace_viommu_vtd_irq_remap(sid, index, irq.vector, irq.dest, irq.delivery_mode);
    return true;
}

static MemTxResult vivtd_ir_read(void *opaque, hwaddr addr, uint64_t *data, unsigned size,
                                 MemTxAttrs attrs)
{
    *data = 0;
    return MEMTX_ERROR;     /* reads of the interrupt window are not requests */
}

static MemTxResult vivtd_ir_write(void *opaque, hwaddr addr, uint64_t value, unsigned size,
                                  MemTxAttrs attrs)
{
    VivtdAS *vas = opaque;
    ViommuVtdState *s = vas->s;
    MSIMessage in = { .address = VIVTD_IR_BASE + addr, .data = value }, out;
    bool ok;

    vivtd_lock(s);
    ok = vivtd_irq_remap_locked(s, vivtd_as_sid(vas), &in, &out, true);
    vivtd_unlock(s, NULL);
    if (ok) {
        apic_get_class(NULL)->send_msi(&out);
    }
    return MEMTX_OK;
}

static const MemoryRegionOps vivtd_ir_ops = {
    .read_with_attrs = vivtd_ir_read,
    .write_with_attrs = vivtd_ir_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 4 },
};

/*
 * X86IOMMUClass.int_remap: only kvm_arch_fixup_msi_route() calls it, to set up
 * a KVM route (a fix-up, not a request: see vivtd_irq_remap_locked()).
 */
int vivtd_int_remap(X86IOMMUState *iommu, MSIMessage *src, MSIMessage *dst,
                    uint16_t sid)
{
    ViommuVtdState *s = VIOMMU_VTD(iommu);
    bool ok;

    vivtd_lock(s);
    ok = vivtd_irq_remap_locked(s, sid, src, dst, false);
    vivtd_unlock(s, NULL);
    return ok ? 0 : -EINVAL;
}

/*
 * Test hook "x-int-remap" (qtest only): setting "ADDR DATA SID" calls
 * int_remap exactly as kvm_arch_fixup_msi_route() does (through the class,
 * with the route's message and the device's requester id or
 * X86_IOMMU_SID_INVALID), which a qtest cannot reach otherwise as it runs
 * without KVM; reading returns "RET ADDR DATA" of the last call.
 */
static void vivtd_x_int_remap_set(Object *obj, const char *value, Error **errp)
{
    ViommuVtdState *s = VIOMMU_VTD(obj);
    X86IOMMUClass *xc = X86_IOMMU_DEVICE_GET_CLASS(obj);
    g_auto(GStrv) f = g_strsplit(value, " ", 0);
    MSIMessage src, dst = { 0 };
    uint64_t sid;
    unsigned data;

    if (!qtest_enabled()) {
        error_setg(errp, "viommu-vtd: x-int-remap is a qtest hook");
        return;
    }
    if (g_strv_length(f) != 3 ||
        qemu_strtou64(f[0], NULL, 0, &src.address) || qemu_strtoui(f[1], NULL, 0, &data) ||
        qemu_strtou64(f[2], NULL, 0, &sid) || sid > UINT16_MAX) {
        error_setg(errp, "viommu-vtd: x-int-remap takes \"ADDR DATA SID\"");
        return;
    }
    src.data = data;
    s->x_int_remap_ret = xc->int_remap(X86_IOMMU_DEVICE(obj), &src, &dst, sid);
    s->x_int_remap_dst = dst;
}

static char *vivtd_x_int_remap_get(Object *obj, Error **errp)
{
    ViommuVtdState *s = VIOMMU_VTD(obj);

    return g_strdup_printf("%d 0x%" PRIx64 " 0x%" PRIx32, s->x_int_remap_ret,
                           s->x_int_remap_dst.address, s->x_int_remap_dst.data);
}

void vivtd_ir_class_init(ObjectClass *klass)
{
    object_class_property_add_str(klass, "x-int-remap", vivtd_x_int_remap_get,
                                  vivtd_x_int_remap_set);
}

/* The interrupt window of a device's address space (requests without PASID). */
void vivtd_ir_window_init(VivtdAS *vas)
{
    /* Untagged writes to 0xfeex_xxxx are interrupt requests (5.1). */
    memory_region_init_io(&vas->ir, OBJECT(vas->s), &vivtd_ir_ops, vas, "viommu-vtd-ir",
                          VIVTD_IR_SIZE);
    memory_region_add_subregion_overlap(&vas->root, VIVTD_IR_BASE, &vas->ir, 1);
}

/*
 * Interrupt entry cache invalidation descriptor: the cached IRTEs of its
 * scope go now; the interrupt controllers' caches (KVM routes) are told
 * after the lock is dropped.  Returns 0 or the IQEI of the error.
 */
unsigned vivtd_inv_iec_locked(ViommuVtdState *s, const uint64_t *d, VivtdDeferred *dd)
{
    if (FIELD_EX64(d[0], VIVTD_IEC0, G)) {
        vivtd_iec_inv_index_locked(s, FIELD_EX64(d[0], VIVTD_IEC0, IIDX),
                                   FIELD_EX64(d[0], VIVTD_IEC0, IM));
        if (!dd->iec_global) {
            if (dd->iec) {
                dd->iec_global = true;
            } else {
                dd->iec = true;
                dd->iec_index = FIELD_EX64(d[0], VIVTD_IEC0, IIDX);
                dd->iec_mask = FIELD_EX64(d[0], VIVTD_IEC0, IM);
            }
        }
    } else {
        vivtd_iec_flush_locked(s);
        dd->iec_global = true;
    }
    return 0;
}
