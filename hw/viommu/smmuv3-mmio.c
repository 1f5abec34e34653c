/*
 * viommu-smmuv3: the register file (IHI 0070 chapter 6), page 0 and page 1,
 * the GBPA update protocol, and the SMMU's own interrupts and global errors
 * (wired lines or MSIs).  BQL held throughout (MMIO and bottom halves).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/log.h"
#include "exec/address-spaces.h"
#include "hw/irq.h"
#include "hw/viommu/smmuv3-internal.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Interrupts and global errors (BQL held)
 */

/* Pulse one of the SMMU's wired interrupts. */
void vismmu_wire(ViommuSmmuv3State *s, int line)
{
    trace_viommu_smmuv3_irq(line, 0, 0);
    qemu_irq_pulse(s->irq[line]);
}

void vismmu_gerror_raise(ViommuSmmuv3State *s, uint32_t bits)
{
    uint32_t active = s->gerror ^ s->gerrorn;
    uint32_t newbits = bits & ~active & VISMMU_GERROR_MASK;

    if (!newbits) {
        return;             /* already active: nothing new to signal */
    }
    s->gerror ^= newbits;
    trace_viommu_smmuv3_gerror(s->gerror, s->gerrorn);
    if (s->irq_ctrl & R_VISMMU_IRQ_CTRL_GERROR_IRQEN_MASK) {
        vismmu_msi_write(s, VIOMMU_SMMUV3_IRQ_GERROR, s->gerror_irq_cfg0, s->gerror_irq_cfg1,
                       R_VISMMU_GERROR_MSI_GERROR_ABT_ERR_MASK);
    }
}

void vismmu_msi_write(ViommuSmmuv3State *s, int line, uint64_t cfg0, uint32_t cfg1,
                           uint32_t abt_err)
{
    uint64_t addr = cfg0 & VISMMU_IRQ_ADDR_MASK;

    if (s->msi && addr) {
        MemTxAttrs attrs = { .requester_id = s->msi_devid };
        MemTxResult r;

        trace_viommu_smmuv3_irq(line, addr, cfg1);
        address_space_stl_le(&address_space_memory, addr, cfg1, attrs, &r);
        if (r != MEMTX_OK && abt_err != R_VISMMU_GERROR_MSI_GERROR_ABT_ERR_MASK) {
            vismmu_gerror_raise(s, abt_err);
        } else if (r != MEMTX_OK) {
            /* An abort on the GERROR MSI itself only records the error. */
            uint32_t active = s->gerror ^ s->gerrorn;

            if (!(active & abt_err)) {
                s->gerror ^= abt_err;
            }
        }
        return;
    }
    vismmu_wire(s, line);
}

/* ------------------------------------------------------------------------
 * Register access (BQL held)
 */
static uint64_t vismmu_reg_read(ViommuSmmuv3State *s, hwaddr off)
{
    switch (off) {
    case A_VISMMU_IDR0 ... A_VISMMU_IDR5:
        return s->idr[off / 4];
    case A_VISMMU_IIDR:
        return VISMMU_IIDR_VALUE;
    case A_VISMMU_AIDR:
        return s->aidr;
    case A_VISMMU_CR0:
    case A_VISMMU_CR0ACK:
        return s->cr0;
    case A_VISMMU_CR1:
        return s->cr1;
    case A_VISMMU_CR2:
        return s->cr2;
    case A_VISMMU_STATUSR:
        return 0;
    case A_VISMMU_GBPA:
        return s->gbpa;
    case A_VISMMU_IRQ_CTRL:
    case A_VISMMU_IRQ_CTRLACK:
        return s->irq_ctrl;
    case A_VISMMU_GERROR:
        return s->gerror;
    case A_VISMMU_GERRORN:
        return s->gerrorn;
    case A_VISMMU_GERROR_IRQ_CFG0:
        return s->gerror_irq_cfg0;
    case A_VISMMU_GERROR_IRQ_CFG1:
        return s->gerror_irq_cfg1;
    case A_VISMMU_GERROR_IRQ_CFG2:
        return s->gerror_irq_cfg2;
    case A_VISMMU_STRTAB_BASE:
        return s->strtab_base;
    case A_VISMMU_STRTAB_BASE_CFG:
        return s->strtab_base_cfg;
    case A_VISMMU_CMDQ_BASE:
        return s->cmdq.base;
    case A_VISMMU_CMDQ_PROD:
        return s->cmdq.prod;
    case A_VISMMU_CMDQ_CONS:
        return s->cmdq.cons;
    case A_VISMMU_EVENTQ_BASE:
        return s->evtq.base;
    case A_VISMMU_EVENTQ_PROD:
    case VISMMU_PAGE1 + A_VISMMU_EVENTQ_PROD:
        return s->evtq.prod;
    case A_VISMMU_EVENTQ_CONS:
    case VISMMU_PAGE1 + A_VISMMU_EVENTQ_CONS:
        return s->evtq.cons;
    case A_VISMMU_EVENTQ_IRQ_CFG0:
        return s->evtq_irq_cfg0;
    case A_VISMMU_EVENTQ_IRQ_CFG1:
        return s->evtq_irq_cfg1;
    case A_VISMMU_EVENTQ_IRQ_CFG2:
        return s->evtq_irq_cfg2;
    case A_VISMMU_PRIQ_BASE:
        return s->pri ? s->priq.base : 0;
    case A_VISMMU_PRIQ_PROD:
    case VISMMU_PAGE1 + A_VISMMU_PRIQ_PROD:
        return s->pri ? s->priq.prod : 0;
    case A_VISMMU_PRIQ_CONS:
    case VISMMU_PAGE1 + A_VISMMU_PRIQ_CONS:
        return s->pri ? s->priq.cons : 0;
    case A_VISMMU_PRIQ_IRQ_CFG0:
        return s->priq_irq_cfg0;
    case A_VISMMU_PRIQ_IRQ_CFG1:
        return s->priq_irq_cfg1;
    case A_VISMMU_PRIQ_IRQ_CFG2:
        return s->priq_irq_cfg2;
    default:
        return 0;           /* reserved, ATOS, ID block (and PRI queue with pri=off): RAZ */
    }
}

static bool reg_is_64(hwaddr off)
{
    switch (off) {
    case A_VISMMU_GERROR_IRQ_CFG0:
    case A_VISMMU_STRTAB_BASE:
    case A_VISMMU_CMDQ_BASE:
    case A_VISMMU_EVENTQ_BASE:
    case A_VISMMU_EVENTQ_IRQ_CFG0:
    case A_VISMMU_PRIQ_BASE:
    case A_VISMMU_PRIQ_IRQ_CFG0:
        return true;
    default:
        return false;
    }
}

/* Side effects to run once the register is written. */
enum { SE_NONE = 0, SE_CMDQ = 1, SE_EVT = 2 };

static int vismmu_reg_write(ViommuSmmuv3State *s, hwaddr off, uint64_t v)
{
    bool smmuen = s->cr0 & R_VISMMU_CR0_SMMUEN_MASK;
    uint32_t old;

    switch (off) {
    case A_VISMMU_CR0:
        old = s->cr0;
        if ((old & R_VISMMU_CR0_EVENTQEN_MASK) && !(v & R_VISMMU_CR0_EVENTQEN_MASK)) {
            /* Committed records are written before the queue stops (7.2.1). */
            vismmu_flush_events(s);
        }
        qemu_mutex_lock(&s->mutex);
        s->cr0 = v & (VISMMU_CR0_MASK | (s->pri ? R_VISMMU_CR0_PRIQEN_MASK : 0) |
                      (s->caps.ats ? VISMMU_CR0_ATSCHK : 0));
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        if ((old ^ s->cr0) & R_VISMMU_CR0_SMMUEN_MASK) {
            vismmu_notify_unmap_all(s);
        }
        if ((old & R_VISMMU_CR0_SMMUEN_MASK) && !(s->cr0 & R_VISMMU_CR0_SMMUEN_MASK)) {
            vismmu_stall_terminate_all(s);     /* 3.12.2: nothing stays held */
        }
        return SE_CMDQ | SE_EVT;
    case A_VISMMU_CR1:
        s->cr1 = v & VISMMU_CR1_MASK;
        return SE_NONE;
    case A_VISMMU_CR2: {
        uint32_t was = s->cr2;

        s->cr2 = v & (VISMMU_CR2_MASK | (s->caps.hyp ? VISMMU_CR2_E2H : 0));
        if ((was ^ s->cr2) & VISMMU_CR2_E2H) {
            /*
             * E2H changes what an EL2 stream's CD means (one range without
             * ASID, or EL2-E2H): nothing decoded under the old value is used.
             */
            qemu_mutex_lock(&s->mutex);
            s->caps.e2h = s->cr2 & VISMMU_CR2_E2H;
            qemu_mutex_unlock(&s->mutex);
            vismmu_inval_all(s);
        }
        return SE_NONE;
    }
    case A_VISMMU_GBPA:
        if (v & R_VISMMU_GBPA_UPDATE_MASK) {
            qemu_mutex_lock(&s->mutex);
            s->gbpa = v & VISMMU_GBPA_FIELDS;      /* update completes at once */
            vismmu_gen_bump_locked(s);
            qemu_mutex_unlock(&s->mutex);
        }
        return SE_NONE;
    case A_VISMMU_IRQ_CTRL:
        s->irq_ctrl = v & (VISMMU_IRQ_CTRL_MASK | (s->pri ? R_VISMMU_IRQ_CTRL_PRI_IRQEN_MASK : 0));
        return SE_NONE;
    case A_VISMMU_GERRORN: {
        bool was = vismmu_cmdq_error_active(s);

        s->gerrorn = v & VISMMU_GERROR_MASK;
        trace_viommu_smmuv3_gerror(s->gerror, s->gerrorn);
        if (was && !vismmu_cmdq_error_active(s)) {
            /* Acknowledged: the command queue resumes. */
            s->cmdq.cons = FIELD_DP32(s->cmdq.cons, VISMMU_CMDQ_CONS, ERR, 0);
            return SE_CMDQ;
        }
        return SE_NONE;
    }
    case A_VISMMU_GERROR_IRQ_CFG0:
        s->gerror_irq_cfg0 = s->msi ? v & VISMMU_IRQ_ADDR_MASK : 0;
        return SE_NONE;
    case A_VISMMU_GERROR_IRQ_CFG1:
        s->gerror_irq_cfg1 = s->msi ? v : 0;
        return SE_NONE;
    case A_VISMMU_GERROR_IRQ_CFG2:
        s->gerror_irq_cfg2 = s->msi ? v & VISMMU_IRQ_CFG2_MASK : 0;
        return SE_NONE;
    case A_VISMMU_STRTAB_BASE:
        if (smmuen) {
            goto ignored;
        }
        qemu_mutex_lock(&s->mutex);
        s->strtab_base = v & VISMMU_STRTAB_BASE_MASK;
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        return SE_NONE;
    case A_VISMMU_STRTAB_BASE_CFG:
        if (smmuen) {
            goto ignored;
        }
        qemu_mutex_lock(&s->mutex);
        s->strtab_base_cfg = v & VISMMU_STRTAB_CFG_MASK;
        vismmu_gen_bump_locked(s);
        qemu_mutex_unlock(&s->mutex);
        return SE_NONE;
    case A_VISMMU_CMDQ_BASE:
        if (s->cr0 & R_VISMMU_CR0_CMDQEN_MASK) {
            goto ignored;
        }
        s->cmdq.base = v & VISMMU_Q_BASE_MASK;
        return SE_NONE;
    case A_VISMMU_CMDQ_PROD:
        s->cmdq.prod = v & VISMMU_Q_PTR_MASK;
        return SE_CMDQ;
    case A_VISMMU_CMDQ_CONS:
        if (s->cr0 & R_VISMMU_CR0_CMDQEN_MASK) {
            goto ignored;
        }
        s->cmdq.cons = v & (VISMMU_Q_PTR_MASK | R_VISMMU_CMDQ_CONS_ERR_MASK);
        return SE_NONE;
    case A_VISMMU_EVENTQ_BASE:
        if (s->cr0 & R_VISMMU_CR0_EVENTQEN_MASK) {
            goto ignored;
        }
        s->evtq.base = v & VISMMU_Q_BASE_MASK;
        return SE_NONE;
    case A_VISMMU_EVENTQ_PROD:
    case VISMMU_PAGE1 + A_VISMMU_EVENTQ_PROD:
        if (s->cr0 & R_VISMMU_CR0_EVENTQEN_MASK) {
            goto ignored;
        }
        s->evtq.prod = v & (VISMMU_Q_PTR_MASK | VISMMU_Q_OVF);
        return SE_NONE;
    case A_VISMMU_EVENTQ_CONS:
    case VISMMU_PAGE1 + A_VISMMU_EVENTQ_CONS:
        s->evtq.cons = v & (VISMMU_Q_PTR_MASK | VISMMU_Q_OVF);
        return SE_NONE;
    case A_VISMMU_EVENTQ_IRQ_CFG0:
        s->evtq_irq_cfg0 = s->msi ? v & VISMMU_IRQ_ADDR_MASK : 0;
        return SE_NONE;
    case A_VISMMU_EVENTQ_IRQ_CFG1:
        s->evtq_irq_cfg1 = s->msi ? v : 0;
        return SE_NONE;
    case A_VISMMU_EVENTQ_IRQ_CFG2:
        s->evtq_irq_cfg2 = s->msi ? v & VISMMU_IRQ_CFG2_MASK : 0;
        return SE_NONE;
    case A_VISMMU_PRIQ_BASE:
        if (!s->pri) {
            break;
        }
        if (s->cr0 & R_VISMMU_CR0_PRIQEN_MASK) {
            goto ignored;
        }
        s->priq.base = v & VISMMU_Q_BASE_MASK;
        return SE_NONE;
    case A_VISMMU_PRIQ_PROD:
    case VISMMU_PAGE1 + A_VISMMU_PRIQ_PROD:
        if (!s->pri) {
            break;
        }
        if (s->cr0 & R_VISMMU_CR0_PRIQEN_MASK) {
            goto ignored;
        }
        s->priq.prod = v & (VISMMU_Q_PTR_MASK | VISMMU_Q_OVF);
        return SE_NONE;
    case A_VISMMU_PRIQ_CONS:
    case VISMMU_PAGE1 + A_VISMMU_PRIQ_CONS:
        if (!s->pri) {
            break;
        }
        /* OVACKFLG equal to OVFLG ends an overflow condition. */
        s->priq.cons = v & (VISMMU_Q_PTR_MASK | VISMMU_Q_OVF);
        return SE_NONE;
    case A_VISMMU_PRIQ_IRQ_CFG0:
    case A_VISMMU_PRIQ_IRQ_CFG1:
    case A_VISMMU_PRIQ_IRQ_CFG2:
        /* Present with MSI and PRI; Guarded by IRQ_CTRL.PRIQ_IRQEN. */
        if (!s->pri || !s->msi) {
            break;
        }
        if (s->irq_ctrl & R_VISMMU_IRQ_CTRL_PRI_IRQEN_MASK) {
            goto ignored;
        }
        if (off == A_VISMMU_PRIQ_IRQ_CFG0) {
            s->priq_irq_cfg0 = v & VISMMU_IRQ_ADDR_MASK;
        } else if (off == A_VISMMU_PRIQ_IRQ_CFG1) {
            s->priq_irq_cfg1 = v;
        } else {
            s->priq_irq_cfg2 = v & VISMMU_PRIQ_CFG2_MASK;
        }
        return SE_NONE;
    default:
        break;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: write 0x%" PRIx64 " to read-only "
                  "or reserved offset 0x%" HWADDR_PRIx "\n", v, off);
    return SE_NONE;
ignored:
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: write to 0x%" HWADDR_PRIx
                  " ignored while the unit using it is enabled\n", off);
    return SE_NONE;
}

static uint64_t vismmu_mmio_read(void *opaque, hwaddr off, unsigned size)
{
    ViommuSmmuv3State *s = opaque;
    uint64_t v;

    if (off & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: unaligned read at 0x%"
                      HWADDR_PRIx "\n", off);
        return 0;
    }
    if (reg_is_64(off & ~7ull)) {
        v = vismmu_reg_read(s, off & ~7ull);
        if (size == 4) {
            v = (off & 4) ? v >> 32 : (uint32_t)v;
        }
    } else if (size == 8) {
        v = vismmu_reg_read(s, off) | (vismmu_reg_read(s, off + 4) << 32);
    } else {
        v = vismmu_reg_read(s, off);
    }
    trace_viommu_smmuv3_reg_read(off, v, size);
    return v;
}

static void vismmu_mmio_write(void *opaque, hwaddr off, uint64_t v, unsigned size)
{
    ViommuSmmuv3State *s = opaque;
    int se = 0;

    trace_viommu_smmuv3_reg_write(off, v, size);
    if (off & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: unaligned write at 0x%"
                      HWADDR_PRIx "\n", off);
        return;
    }
    if (reg_is_64(off & ~7ull)) {
        hwaddr base = off & ~7ull;

        if (size == 4) {
            uint64_t cur = vismmu_reg_read(s, base);

            v = (off & 4) ? deposit64(cur, 32, 32, v) : deposit64(cur, 0, 32, v);
        }
        se = vismmu_reg_write(s, base, v);
    } else if (size == 8) {
        se = vismmu_reg_write(s, off, (uint32_t)v);
        se |= vismmu_reg_write(s, off + 4, v >> 32);
    } else {
        se = vismmu_reg_write(s, off, v);
    }
    if (se & SE_CMDQ) {
        vismmu_process_cmdq(s);
    }
    if (se & SE_EVT) {
        vismmu_flush_events(s);
    }
}

const MemoryRegionOps vismmu_mmio_ops = {
    .read = vismmu_mmio_read,
    .write = vismmu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};
