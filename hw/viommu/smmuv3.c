/*
 * viommu-smmuv3: an Arm SMMUv3 device model on the qemu-viommu translation
 * core.  Written from Arm IHI 0070 (SMMUv3): chapter 6 (registers), chapter 4
 * (commands), section 7.3 (event records), chapter 8 (PRI queue) and
 * chapter 3 (operation).
 *
 * Structure:
 *   - registers (page 0, page 1) and the GBPA update protocol;
 *   - the command queue, processed under the BQL when CMDQ_PROD is written,
 *     a bounded number of commands per kick (a bottom half continues);
 *   - translate(), which may run in vCPU or I/O threads without the BQL:
 *     a hit of the lock-free fast path (recent results, validated by a
 *     generation that every invalidation bumps) takes no lock; otherwise it
 *     takes s->mutex (never the BQL), looks up the configuration cache and
 *     the IOTLB, and on a miss reads the stream table, CDs and translation
 *     tables through vi_mem (address_space_memory);
 *   - events: a translation queues records under s->mutex; they are written
 *     to the guest's event queue and signalled under the BQL (at once when
 *     the caller holds it, else from a bottom half).
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
#include "qemu/atomic.h"
#include "qemu/rcu.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "exec/address-spaces.h"
#include "hw/irq.h"
#include "hw/qdev-properties.h"
#include "hw/registerfields.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/resettable.h"
#include "migration/vmstate.h"
#include "system/reset.h"
#include "hw/viommu/smmuv3.h"
#include "hw/viommu/pasid-dma.h"
#include "hw/viommu/core/pt-armv8.h"
#include "hw/viommu/core/nested.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Registers (IHI 0070 chapter 6)
 */
REG32(IDR0, 0x0)
    FIELD(IDR0, S2P, 0, 1)
    FIELD(IDR0, S1P, 1, 1)
    FIELD(IDR0, TTF, 2, 2)
    FIELD(IDR0, COHACC, 4, 1)
    FIELD(IDR0, HTTU, 6, 2)
    FIELD(IDR0, PRI, 16, 1)
    FIELD(IDR0, ASID16, 12, 1)
    FIELD(IDR0, MSI, 13, 1)
    FIELD(IDR0, VMID16, 18, 1)
    FIELD(IDR0, CD2L, 19, 1)
    FIELD(IDR0, TTENDIAN, 21, 2)
    FIELD(IDR0, STALL_MODEL, 24, 2)
    FIELD(IDR0, TERM_MODEL, 26, 1)
    FIELD(IDR0, ST_LEVEL, 27, 2)
REG32(IDR1, 0x4)
    FIELD(IDR1, SIDSIZE, 0, 6)
    FIELD(IDR1, SSIDSIZE, 6, 5)
    FIELD(IDR1, PRIQS, 11, 5)
    FIELD(IDR1, EVENTQS, 16, 5)
    FIELD(IDR1, CMDQS, 21, 5)
REG32(IDR2, 0x8)
REG32(IDR3, 0xc)
    FIELD(IDR3, HAD, 2, 1)
    FIELD(IDR3, PPS, 5, 1)
    FIELD(IDR3, FWB, 8, 1)
    FIELD(IDR3, RIL, 10, 1)
REG32(IDR4, 0x10)
REG32(IDR5, 0x14)
    FIELD(IDR5, OAS, 0, 3)
    FIELD(IDR5, GRAN4K, 4, 1)
    FIELD(IDR5, GRAN16K, 5, 1)
    FIELD(IDR5, GRAN64K, 6, 1)
REG32(IIDR, 0x18)
REG32(AIDR, 0x1c)
REG32(CR0, 0x20)
    FIELD(CR0, SMMUEN, 0, 1)
    FIELD(CR0, PRIQEN, 1, 1)
    FIELD(CR0, EVENTQEN, 2, 1)
    FIELD(CR0, CMDQEN, 3, 1)
REG32(CR0ACK, 0x24)
REG32(CR1, 0x28)
REG32(CR2, 0x2c)
    FIELD(CR2, RECINVSID, 1, 1)
    FIELD(CR2, PTM, 2, 1)
REG32(STATUSR, 0x40)
REG32(GBPA, 0x44)
    FIELD(GBPA, ABORT, 20, 1)
    FIELD(GBPA, UPDATE, 31, 1)
REG32(AGBPA, 0x48)
REG32(IRQ_CTRL, 0x50)
    FIELD(IRQ_CTRL, GERROR_IRQEN, 0, 1)
    FIELD(IRQ_CTRL, PRI_IRQEN, 1, 1)
    FIELD(IRQ_CTRL, EVENTQ_IRQEN, 2, 1)
REG32(IRQ_CTRLACK, 0x54)
REG32(GERROR, 0x60)
    FIELD(GERROR, CMDQ_ERR, 0, 1)
    FIELD(GERROR, EVENTQ_ABT_ERR, 2, 1)
    FIELD(GERROR, PRIQ_ABT_ERR, 3, 1)
    FIELD(GERROR, MSI_CMDQ_ABT_ERR, 4, 1)
    FIELD(GERROR, MSI_EVENTQ_ABT_ERR, 5, 1)
    FIELD(GERROR, MSI_PRIQ_ABT_ERR, 6, 1)
    FIELD(GERROR, MSI_GERROR_ABT_ERR, 7, 1)
REG32(GERRORN, 0x64)
REG64(GERROR_IRQ_CFG0, 0x68)
REG32(GERROR_IRQ_CFG1, 0x70)
REG32(GERROR_IRQ_CFG2, 0x74)
REG64(STRTAB_BASE, 0x80)
REG32(STRTAB_BASE_CFG, 0x88)
REG64(CMDQ_BASE, 0x90)
REG32(CMDQ_PROD, 0x98)
REG32(CMDQ_CONS, 0x9c)
    FIELD(CMDQ_CONS, ERR, 24, 7)
REG64(EVENTQ_BASE, 0xa0)
REG32(EVENTQ_PROD, 0xa8)
REG32(EVENTQ_CONS, 0xac)
REG64(EVENTQ_IRQ_CFG0, 0xb0)
REG32(EVENTQ_IRQ_CFG1, 0xb8)
REG32(EVENTQ_IRQ_CFG2, 0xbc)
REG64(PRIQ_BASE, 0xc0)
REG32(PRIQ_PROD, 0xc8)      /* page 1 (and its page-0 alias) */
REG32(PRIQ_CONS, 0xcc)
REG64(PRIQ_IRQ_CFG0, 0xd0)
REG32(PRIQ_IRQ_CFG1, 0xd8)
REG32(PRIQ_IRQ_CFG2, 0xdc)
    FIELD(PRIQ_IRQ_CFG2, LO, 31, 1)

#define SMMU_PAGE1                  0x10000
#define SMMU_IIDR_VALUE             0x0         /* no implementer errata */
#define SMMU_AIDR_VALUE             0x2         /* SMMUv3.2 */

#define CR0_MASK        (R_CR0_SMMUEN_MASK | R_CR0_EVENTQEN_MASK | R_CR0_CMDQEN_MASK)
#define CR1_MASK        0xfffu
#define CR2_MASK        (R_CR2_RECINVSID_MASK | R_CR2_PTM_MASK)
/* GBPA fields: ABORT, INSTCFG, PRIVCFG, SHCFG, ALLOCCFG, MTCFG, MEMATTR. */
#define GBPA_FIELDS     0x001f3f1fu
#define GBPA_RESET      0x00001000u     /* SHCFG = use incoming */
#define IRQ_CTRL_MASK   (R_IRQ_CTRL_GERROR_IRQEN_MASK | R_IRQ_CTRL_EVENTQ_IRQEN_MASK)
#define GERROR_MASK     0x3fdu
#define IRQ_ADDR_MASK   0x000ffffffffffffcull
#define IRQ_CFG2_MASK   0x3fu
#define PRIQ_CFG2_MASK  (IRQ_CFG2_MASK | R_PRIQ_IRQ_CFG2_LO_MASK)
#define STRTAB_BASE_MASK (VI_SMMU_STRTAB_BASE_RA | VI_SMMU_STRTAB_BASE_ADDR_MASK)
#define STRTAB_CFG_MASK 0x307ffu
#define Q_BASE_MASK     ((1ull << 62) | VI_MASK(51, 5) | 0x1f)
#define Q_BASE_ADDR(b)  ((b) & VI_MASK(51, 5))
#define Q_LOG2(b)       ((unsigned)((b) & 0x1f))
#define Q_PTR_MASK      0xfffffu
#define Q_OVF           (1u << 31)

/* Command opcodes (IHI 0070 chapter 4). */
enum {
    CMD_PREFETCH_CONFIG = 0x01,
    CMD_PREFETCH_ADDR   = 0x02,
    CMD_CFGI_STE        = 0x03,
    CMD_CFGI_STE_RANGE  = 0x04,
    CMD_CFGI_CD         = 0x05,
    CMD_CFGI_CD_ALL     = 0x06,
    CMD_TLBI_NH_ALL     = 0x10,
    CMD_TLBI_NH_ASID    = 0x11,
    CMD_TLBI_NH_VA      = 0x12,
    CMD_TLBI_NH_VAA     = 0x13,
    CMD_TLBI_EL3_ALL    = 0x18,
    CMD_TLBI_EL3_VA     = 0x1a,
    CMD_TLBI_EL2_ALL    = 0x20,
    CMD_TLBI_EL2_ASID   = 0x21,
    CMD_TLBI_EL2_VA     = 0x22,
    CMD_TLBI_EL2_VAA    = 0x23,
    CMD_TLBI_S12_VMALL  = 0x28,
    CMD_TLBI_S2_IPA     = 0x2a,
    CMD_TLBI_NSNH_ALL   = 0x30,
    CMD_ATC_INV         = 0x40,
    CMD_PRI_RESP        = 0x41,
    CMD_RESUME          = 0x44,
    CMD_STALL_TERM      = 0x45,
    CMD_SYNC            = 0x46,
};

enum {
    CERROR_NONE = 0,
    CERROR_ILL = 1,
    CERROR_ABT = 2,
};

/* Commands executed per CMDQ_PROD write before a bottom half takes over. */
#define CMDQ_BATCH          1024
/* PASID address spaces an SMMU creates at most (guest-driven growth bound). */
#define MAX_PASID_AS        4096

/* PRI queue record (IHI 0070 chapter 8): 16 bytes. */
#define PRIQ0_SSID_SHIFT    32
#define PRIQ0_PRIV          (1ull << 58)
#define PRIQ0_EXEC          (1ull << 59)
#define PRIQ0_READ          (1ull << 60)
#define PRIQ0_WRITE         (1ull << 61)
#define PRIQ0_LAST          (1ull << 62)
#define PRIQ0_SSV           (1ull << 63)
#define PRIQ1_ADDR_MASK     VI_MASK(63, 12)

/* CMD_PRI_RESP.Resp (IHI 0070 4.5.2) to PCIe PRG Response Codes; 3 is ILLEGAL. */
static const ViommuPrgCode pri_resp_code[3] = {
    VIOMMU_PRG_RESPONSE_FAILURE, VIOMMU_PRG_INVALID_REQUEST, VIOMMU_PRG_SUCCESS,
};

/* Event record fields (IHI 0070 7.3). */
#define EVT1_PNU            (1ull << 33)
#define EVT1_IND            (1ull << 34)
#define EVT1_RNW            (1ull << 35)
#define EVT1_S2             (1ull << 39)
#define EVT1_CLASS_SHIFT    40
#define EVT1_TTRNW          (1ull << 44)

static const char *cmd_name(unsigned op)
{
    switch (op) {
    case CMD_PREFETCH_CONFIG: return "PREFETCH_CONFIG";
    case CMD_PREFETCH_ADDR: return "PREFETCH_ADDR";
    case CMD_CFGI_STE: return "CFGI_STE";
    case CMD_CFGI_STE_RANGE: return "CFGI_STE_RANGE";
    case CMD_CFGI_CD: return "CFGI_CD";
    case CMD_CFGI_CD_ALL: return "CFGI_CD_ALL";
    case CMD_TLBI_NH_ALL: return "TLBI_NH_ALL";
    case CMD_TLBI_NH_ASID: return "TLBI_NH_ASID";
    case CMD_TLBI_NH_VA: return "TLBI_NH_VA";
    case CMD_TLBI_NH_VAA: return "TLBI_NH_VAA";
    case CMD_TLBI_EL3_ALL: return "TLBI_EL3_ALL";
    case CMD_TLBI_EL3_VA: return "TLBI_EL3_VA";
    case CMD_TLBI_EL2_ALL: return "TLBI_EL2_ALL";
    case CMD_TLBI_EL2_ASID: return "TLBI_EL2_ASID";
    case CMD_TLBI_EL2_VA: return "TLBI_EL2_VA";
    case CMD_TLBI_EL2_VAA: return "TLBI_EL2_VAA";
    case CMD_TLBI_S12_VMALL: return "TLBI_S12_VMALL";
    case CMD_TLBI_S2_IPA: return "TLBI_S2_IPA";
    case CMD_TLBI_NSNH_ALL: return "TLBI_NSNH_ALL";
    case CMD_ATC_INV: return "ATC_INV";
    case CMD_PRI_RESP: return "PRI_RESP";
    case CMD_RESUME: return "RESUME";
    case CMD_STALL_TERM: return "STALL_TERM";
    case CMD_SYNC: return "CMD_SYNC";
    default: return "unknown";
    }
}

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
 * Interrupts and global errors (BQL held)
 */

/* Pulse one of the SMMU's wired interrupts. */
static void smmu_wire(ViommuSmmuv3State *s, int line)
{
    trace_viommu_smmuv3_irq(line, 0, 0);
    qemu_irq_pulse(s->irq[line]);
}

static void smmu_msi_write(ViommuSmmuv3State *s, int line, uint64_t cfg0, uint32_t cfg1,
                           uint32_t abt_err);

static void smmu_gerror_raise(ViommuSmmuv3State *s, uint32_t bits)
{
    uint32_t active = s->gerror ^ s->gerrorn;
    uint32_t newbits = bits & ~active & GERROR_MASK;

    if (!newbits) {
        return;             /* already active: nothing new to signal */
    }
    s->gerror ^= newbits;
    trace_viommu_smmuv3_gerror(s->gerror, s->gerrorn);
    if (s->irq_ctrl & R_IRQ_CTRL_GERROR_IRQEN_MASK) {
        smmu_msi_write(s, VIOMMU_SMMUV3_IRQ_GERROR, s->gerror_irq_cfg0, s->gerror_irq_cfg1,
                       R_GERROR_MSI_GERROR_ABT_ERR_MASK);
    }
}

static void smmu_msi_write(ViommuSmmuv3State *s, int line, uint64_t cfg0, uint32_t cfg1,
                           uint32_t abt_err)
{
    uint64_t addr = cfg0 & IRQ_ADDR_MASK;

    if (s->msi && addr) {
        MemTxAttrs attrs = { .requester_id = s->msi_devid };
        MemTxResult r;

        trace_viommu_smmuv3_irq(line, addr, cfg1);
        address_space_stl_le(&address_space_memory, addr, cfg1, attrs, &r);
        if (r != MEMTX_OK && abt_err != R_GERROR_MSI_GERROR_ABT_ERR_MASK) {
            smmu_gerror_raise(s, abt_err);
        } else if (r != MEMTX_OK) {
            /* An abort on the GERROR MSI itself only records the error. */
            uint32_t active = s->gerror ^ s->gerrorn;

            if (!(active & abt_err)) {
                s->gerror ^= abt_err;
            }
        }
        return;
    }
    smmu_wire(s, line);
}

/* ------------------------------------------------------------------------
 * Queues
 */
static unsigned q_log2(const ViommuSmmuv3Queue *q, unsigned max)
{
    return MIN(Q_LOG2(q->base), max);
}

static uint32_t q_idx(uint32_t p, unsigned log2)
{
    return p & ((1u << log2) - 1);
}

static uint32_t q_wrap(uint32_t p, unsigned log2)
{
    return (p >> log2) & 1;
}

static bool q_empty(uint32_t prod, uint32_t cons, unsigned log2)
{
    return q_idx(prod, log2) == q_idx(cons, log2) && q_wrap(prod, log2) == q_wrap(cons, log2);
}

static bool q_full(uint32_t prod, uint32_t cons, unsigned log2)
{
    return q_idx(prod, log2) == q_idx(cons, log2) && q_wrap(prod, log2) != q_wrap(cons, log2);
}

static uint32_t q_inc(uint32_t p, unsigned log2)
{
    uint32_t mask = (2u << log2) - 1;   /* index + wrap bit */

    return (p & ~mask) | ((p + 1) & mask);
}

/* Write the pending events to the event queue and signal them (BQL held). */
static void smmu_flush_events(ViommuSmmuv3State *s)
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

    if (!(s->cr0 & R_CR0_SMMUEN_MASK) || !(s->cr0 & R_CR0_EVENTQEN_MASK)) {
        return;             /* events are discarded while the queue is off */
    }
    log2 = q_log2(&s->evtq, s->evtq_log2);
    for (unsigned i = 0; i < n + lost; i++) {
        uint32_t prod = s->evtq.prod & Q_PTR_MASK, cons = s->evtq.cons & Q_PTR_MASK;
        uint8_t rec[32];
        hwaddr a;

        if (i == n || q_full(prod, cons, log2)) {
            /* Overflow: the record is lost, PROD.OVFLG flags it. */
            if ((s->evtq.prod & Q_OVF) == (s->evtq.cons & Q_OVF)) {
                s->evtq.prod ^= Q_OVF;
            }
            trace_viommu_smmuv3_evtq_write(s->evtq.prod, true);
            written = true;
            continue;
        }
        for (int w = 0; w < 4; w++) {
            vi_cpu_to_le64(rec + 8 * w, ev[i][w]);
        }
        a = Q_BASE_ADDR(s->evtq.base) + (hwaddr)q_idx(prod, log2) * 32;
        if (address_space_write(&address_space_memory, a, MEMTXATTRS_UNSPECIFIED,
                                rec, sizeof(rec)) != MEMTX_OK) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: event queue write to 0x%"
                          HWADDR_PRIx " aborted\n", a);
            smmu_gerror_raise(s, R_GERROR_EVENTQ_ABT_ERR_MASK);
            return;
        }
        s->evtq.prod = (s->evtq.prod & Q_OVF) | q_inc(prod, log2);
        s->stats_events++;
        trace_viommu_smmuv3_evtq_write(s->evtq.prod, false);
        written = true;
    }
    if (written && (s->irq_ctrl & R_IRQ_CTRL_EVENTQ_IRQEN_MASK)) {
        smmu_msi_write(s, VIOMMU_SMMUV3_IRQ_EVTQ, s->evtq_irq_cfg0, s->evtq_irq_cfg1,
                       R_GERROR_MSI_EVENTQ_ABT_ERR_MASK);
    }
}

static void smmu_evt_bh(void *opaque)
{
    smmu_flush_events(opaque);
}

/* Queue one event record (s->mutex held). */
static void smmu_event(ViommuSmmuv3State *s, unsigned type, uint32_t sid, bool ssv,
                       uint32_t ssid, uint64_t d1, uint64_t addr, uint64_t d3)
{
    uint64_t *ev;

    trace_viommu_smmuv3_event(vi_smmu_event_name(type), sid, ssv, ssid, addr, d1, d3);
    if (s->npending == VIOMMU_SMMUV3_PENDING_EVENTS) {
        s->pending_lost = true;
        return;
    }
    ev = s->pending[s->npending++];
    ev[0] = type | ((uint64_t)ssv << 11) | ((uint64_t)(ssid & 0xfffff) << 12) |
            ((uint64_t)sid << 32);
    ev[1] = d1;
    ev[2] = addr;
    ev[3] = d3;
}

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
    return (t->priv ? EVT1_PNU : 0) | (t->instr && !t->write ? EVT1_IND : 0) |
           (t->write ? 0 : EVT1_RNW);
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
static void smmu_fault(ViommuSmmuv3State *s, const Txn *t, const vi_fault *f,
                       bool record_s1, bool record_s2)
{
    unsigned type = fault_event_type(f);
    bool s2 = f->stage == 2;
    unsigned cls;
    uint64_t d1, d3 = 0;

    trace_viommu_smmuv3_fault(vi_fault_kind_name(f->kind), f->stage, t->sid, t->ssid,
                              t->addr, f->ipa);
    if (type == VI_SMMU_EVT_C_BAD_STE || type == VI_SMMU_EVT_C_BAD_CD) {
        smmu_event(s, type, t->sid, t->ssv, t->ssid, 0, 0, 0);
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
    d1 = txn_d1(t) | (s2 ? EVT1_S2 : 0) | ((uint64_t)cls << EVT1_CLASS_SHIFT);
    if (cls == VI_SMMU_EVT_CLASS_TTD && s2 && !(f->access & VI_ACC_W)) {
        d1 |= EVT1_TTRNW;
    }
    if (type == VI_SMMU_EVT_F_WALK_EABT) {
        d3 = f->fetch_pa & VI_MASK(55, 3);
    } else if (s2) {
        d3 = f->ipa & VI_MASK(55, 12);
    }
    smmu_event(s, type, t->sid, t->ssv, t->ssid, d1, t->addr, d3);
}

/* A configuration error event (C_BAD_*, F_*_FETCH, F_STREAM_DISABLED...). */
static void smmu_cfg_event(ViommuSmmuv3State *s, const Txn *t, const vi_smmu_cfg_fault *cf)
{
    uint64_t d3 = 0;

    if (cf->event == VI_SMMU_EVT_C_BAD_STREAMID &&
        !(s->cr2 & R_CR2_RECINVSID_MASK)) {
        trace_viommu_smmuv3_event_suppressed("C_BAD_STREAMID", t->sid, t->addr);
        return;
    }
    if (cf->event == VI_SMMU_EVT_F_STE_FETCH || cf->event == VI_SMMU_EVT_F_CD_FETCH) {
        d3 = cf->addr & VI_MASK(55, 3);
    }
    qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: %s for StreamID 0x%x%s\n",
                  vi_smmu_event_name(cf->event), t->sid, t->ssv ? " (with SSID)" : "");
    smmu_event(s, cf->event, t->sid, t->ssv, t->ssid,
               cf->event == VI_SMMU_EVT_F_CD_FETCH || cf->event == VI_SMMU_EVT_F_STE_FETCH ?
               txn_d1(t) : 0,
               cf->event == VI_SMMU_EVT_F_CD_FETCH ? t->addr : 0, d3);
}

/* CD fetches of a stream with stage 2 go through its stage-2 walker. */
static const vi_mem *smmu_cd_mem(void *opaque, const vi_smmu_ste *ste)
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
 * Translate one transaction.  Fills *e; returns with events queued for any
 * fault.  s->mutex held.
 */
static void smmu_xlate(ViommuSmmuv3State *s, Txn *t, unsigned pasid_attrs,
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
    uint64_t size;

    if (!(s->cr0 & R_CR0_SMMUEN_MASK)) {
        bool abort = s->gbpa & R_GBPA_ABORT_MASK;

        trace_viommu_smmuv3_bypass(t->sid, t->addr, abort);
        e->perm = abort ? IOMMU_NONE : IOMMU_RW;
        return;
    }
    if (vi_smmu_cfg_lookup_cached(&phys_mem, smmu_cd_mem, &s2m, s->cfg, &s->caps,
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
            smmu_fault(s, t, &f, true, cfg.ste.s2.record);
        } else {
            smmu_cfg_event(s, t, &cf);
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
    if (!s1 && !s2) {
        /* Stage 1 bypassed, no stage 2: the input is the output. */
        if (s->caps.oas < 64 && (t->addr >> s->caps.oas)) {
            vi_fault_clear(&f);
            f.kind = VI_FAULT_ADDR_SIZE;
            f.stage = 1;
            f.addr = t->addr;
            smmu_fault(s, t, &f, true, true);
            return;
        }
        e->perm = IOMMU_RW;
        return;
    }
    tag.vmid = cfg.ste.s2.vmid;
    tag.stage = s1 && s2 ? VI_IOTLB_NESTED : s1 ? VI_IOTLB_STAGE1 : VI_IOTLB_STAGE2;

    ok = vi_iotlb_lookup(s->iotlb, &tag, t->addr, &te) && vi_perm_allows(te.perm, need);
    if (ok) {
        res.out = vi_iotlb_entry_out(&te, t->addr);
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
            smmu_fault(s, t, &f, s1 ? cfg.cd.record : true, cfg.ste.s2.record);
            return;
        }
        vi_iotlb_insert(s->iotlb, &tag, t->addr, &res, -1);
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

/*
 * The StreamID of an address space: its requester ID, without the cost of
 * pci_bus_num() (two QOM class checks) on every translation.  What that
 * returns is, for a root bus, a number fixed by the machine and, for any
 * other bus, the Secondary Bus Number of the bridge above it (a config
 * register the guest may rewrite at any time: read it each time).
 */
static inline uint32_t smmu_as_sid(const ViommuSmmuv3AS *sas)
{
    uint8_t bus;

    if (unlikely(sas->bus_num_other)) {
        bus = pci_bus_num(sas->bus);
    } else if (sas->bridge) {
        bus = qatomic_read(&sas->bridge->config[PCI_SECONDARY_BUS]);
    } else {
        bus = sas->root_bus;
    }
    return PCI_BUILD_BDF(bus, sas->devfn);
}

static inline ViommuSmmuv3Fast *fast_set(const ViommuSmmuv3State *s, uint32_t as_id,
                                         uint64_t base)
{
    uint64_t h = (base ^ ((uint64_t)as_id << 44)) * 0x9e3779b97f4a7c15ull;

    return &s->fast[(h >> (64 - s->fast_bits)) * VIOMMU_SMMUV3_FAST_WAYS];
}

/* Bump the generation: everything the fast path holds is stale.  s->mutex held. */
static void smmu_gen_bump(ViommuSmmuv3State *s)
{
    qatomic_set_u64(&s->gen, s->gen + 1);
}

/*
 * The fast path's word for addr, if it has one for this address space in
 * the current generation (else 0).  No lock taken.
 */
static inline uint64_t smmu_fast_lookup(ViommuSmmuv3State *s, const ViommuSmmuv3AS *sas,
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
static void smmu_fast_insert(ViommuSmmuv3State *s, const ViommuSmmuv3AS *sas,
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
smmu_translate_slow(ViommuSmmuv3AS *sas, hwaddr addr, IOMMUAccessFlags flag, uint32_t sid)
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
            smmu_gen_bump(s);
        }
        qatomic_store_release(&sas->fast_sid, (int32_t)sid);
    }
    before = s->npending;
    smmu_xlate(s, &t, sas->attrs, flag, &e);
    if (e.perm != IOMMU_NONE) {
        qatomic_set(&s->last_fault_as, NULL);
        smmu_fast_insert(s, sas, addr, &e);
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
    if (flush) {
        if (bql_locked()) {
            smmu_flush_events(s);
        } else {
            qemu_bh_schedule(s->evt_bh);
        }
    }
    return e;
}

/* A successful translation: the next fault is not merged with the last. */
static void __attribute__((noinline)) smmu_fault_merge_end(ViommuSmmuv3State *s)
{
    qemu_mutex_lock(&s->mutex);
    qatomic_set(&s->last_fault_as, NULL);
    qemu_mutex_unlock(&s->mutex);
}

static IOMMUTLBEntry smmu_translate(IOMMUMemoryRegion *mr, hwaddr addr,
                                    IOMMUAccessFlags flag, int iommu_idx)
{
    ViommuSmmuv3AS *sas = container_of(mr, ViommuSmmuv3AS, iommu);
    ViommuSmmuv3State *s = sas->s;
    uint32_t sid = smmu_as_sid(sas);

    if (flag == IOMMU_NONE) {
        flag = IOMMU_RO;
    }
    /* Acquire: a StreamID published with a new generation sees that one. */
    if (qatomic_load_acquire(&sas->fast_sid) == (int32_t)sid) {
        uint64_t v = smmu_fast_lookup(s, sas, addr);

        if ((v & flag) == flag) {
            uint64_t mask = (0x1000ull << ((v >> FAST_SIZE_POS) & 63)) - 1;

            if (unlikely(qatomic_read(&s->last_fault_as))) {
                smmu_fault_merge_end(s);
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
    return smmu_translate_slow(sas, addr, flag, sid);
}

static int smmu_notify_flag_changed(IOMMUMemoryRegion *mr, IOMMUNotifierFlag old,
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
static void smmu_notify_unmap_all(ViommuSmmuv3State *s)
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

static ViommuSmmuv3AS *smmu_find_add_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn,
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
    sas->bus_num_other = smmu_as_sid(sas) != PCI_BUILD_BDF(pci_bus_num(bus), devfn);
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

static AddressSpace *smmu_get_as(PCIBus *bus, void *opaque, int devfn)
{
    return &smmu_find_add_as(opaque, bus, devfn, false, 0, 0)->as;
}

static AddressSpace *smmu_get_pasid_as(PCIBus *bus, void *opaque, int devfn,
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
    sas = smmu_find_add_as(s, bus, devfn, true, pasid, attrs);
    return sas ? &sas->as : NULL;
}

static const PCIIOMMUOps smmu_iommu_ops = {
    .get_address_space = smmu_get_as,
};

static bool smmu_pri_attach(PCIBus *bus, void *opaque, int devfn,
                            ViommuPrgResponseFn *respond, void *respond_opaque);
static void smmu_pri_detach(PCIBus *bus, void *opaque, int devfn);
static int smmu_page_request(PCIBus *bus, void *opaque, int devfn,
                             const ViommuPageRequest *req);

static const ViommuPasidOps smmu_pasid_ops = {
    .get_address_space = smmu_get_pasid_as,
    .pri_attach = smmu_pri_attach,
    .pri_detach = smmu_pri_detach,
    .page_request = smmu_page_request,
};

void viommu_smmuv3_attach_bus(ViommuSmmuv3State *s, PCIBus *bus)
{
    s->bus = bus;
    pci_setup_iommu(bus, &smmu_iommu_ops, s);
    viommu_pasid_register(&smmu_iommu_ops, &smmu_pasid_ops);
}

/* ------------------------------------------------------------------------
 * PRI: page requests from devices into the PRI queue, PRG Responses back
 * (IHI 0070 chapter 8; BQL held)
 */
static ViommuSmmuv3AS *smmu_find_rid_as(ViommuSmmuv3State *s, PCIBus *bus, int devfn)
{
    AsKey key = { .bus = bus, .devfn = devfn };

    return g_hash_table_lookup(s->as_table, &key);
}

/* Send a PRG Response to the requester of sas (which has a handler). */
static void smmu_prg_respond(ViommuSmmuv3State *s, ViommuSmmuv3AS *sas, unsigned prgi,
                             bool ssv, uint32_t ssid, ViommuPrgCode code, bool automatic)
{
    ViommuPrgResponse rsp = {
        .prgi = prgi,
        .pasid_valid = ssv,
        .pasid = ssv ? ssid : 0,
        .code = code,
        .automatic = automatic,
    };

    trace_viommu_smmuv3_prg_response(smmu_as_sid(sas), prgi, ssv, ssid, code, automatic);
    sas->pri_respond(sas->pri_opaque, &rsp);
}

static bool smmu_pri_attach(PCIBus *bus, void *opaque, int devfn,
                            ViommuPrgResponseFn *respond, void *respond_opaque)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas;

    if (!s->pri) {
        return false;
    }
    sas = smmu_find_add_as(s, bus, devfn, false, 0, 0);
    if (!sas->pri_respond) {
        QLIST_INSERT_HEAD(&s->pri_list, sas, pri_next);
    }
    sas->pri_respond = respond;
    sas->pri_opaque = respond_opaque;
    trace_viommu_smmuv3_pri_attach(smmu_as_sid(sas), true);
    return true;
}

static void smmu_pri_detach(PCIBus *bus, void *opaque, int devfn)
{
    ViommuSmmuv3AS *sas = smmu_find_rid_as(opaque, bus, devfn);

    if (sas && sas->pri_respond) {
        QLIST_REMOVE(sas, pri_next);
        sas->pri_respond = NULL;
        sas->pri_opaque = NULL;
        trace_viommu_smmuv3_pri_attach(smmu_as_sid(sas), false);
    }
}

/* PRI queue interrupt, as MSI or on the wired "priq" line. */
static void smmu_priq_irq(ViommuSmmuv3State *s)
{
    if (s->irq_ctrl & R_IRQ_CTRL_PRI_IRQEN_MASK) {
        smmu_msi_write(s, VIOMMU_SMMUV3_IRQ_PRIQ, s->priq_irq_cfg0, s->priq_irq_cfg1,
                       R_GERROR_MSI_PRIQ_ABT_ERR_MASK);
    }
}

/*
 * One Page Request message.  It is not checked against the STE (IHI 0070
 * 8.2: PRI requests do not depend on CR0.ATSCHK or STE.EATS).
 */
static int smmu_page_request(PCIBus *bus, void *opaque, int devfn,
                             const ViommuPageRequest *req)
{
    ViommuSmmuv3State *s = opaque;
    ViommuSmmuv3AS *sas = smmu_find_rid_as(s, bus, devfn);
    bool ssv, was_empty;
    uint32_t sid, prod, cons;
    unsigned log2;
    uint64_t rec[2];
    uint8_t raw[16];
    hwaddr a;

    if (!sas || !sas->pri_respond) {
        return -EINVAL;
    }
    sid = smmu_as_sid(sas);
    /* Without substreams SSV is 0, and so are X and Priv. */
    ssv = req->pasid_valid && s->caps.ssidsize;
    rec[0] = sid | (req->read ? PRIQ0_READ : 0) | (req->write ? PRIQ0_WRITE : 0) |
             (req->last ? PRIQ0_LAST : 0);
    if (ssv) {
        rec[0] |= PRIQ0_SSV | ((uint64_t)(req->pasid & 0xfffff) << PRIQ0_SSID_SHIFT) |
                  (req->priv ? PRIQ0_PRIV : 0) | (req->exec ? PRIQ0_EXEC : 0);
    }
    rec[1] = (req->prgi & 0x1ff) | (req->addr & PRIQ1_ADDR_MASK);
    trace_viommu_smmuv3_page_request(sid, ssv, req->pasid, req->addr, req->prgi, rec[0]);
    s->stats_page_requests++;

    /*
     * IHI 0070 8.2: with the PRI queue off (SMMUEN implies it) or a
     * PRIQ_ABT_ERR active, the request is discarded; a Last one gets an
     * automatic Response Failure without PASID.
     */
    if (!(s->cr0 & R_CR0_SMMUEN_MASK) || !(s->cr0 & R_CR0_PRIQEN_MASK) ||
        ((s->gerror ^ s->gerrorn) & R_GERROR_PRIQ_ABT_ERR_MASK)) {
        trace_viommu_smmuv3_priq_discard(sid, req->prgi, "PRI queue disabled or in error");
        if (req->last) {
            smmu_prg_respond(s, sas, req->prgi, false, 0, VIOMMU_PRG_RESPONSE_FAILURE, true);
        }
        return 0;
    }
    log2 = q_log2(&s->priq, s->priq_log2);
    prod = s->priq.prod & Q_PTR_MASK;
    cons = s->priq.cons & Q_PTR_MASK;
    if ((s->priq.prod & Q_OVF) != (s->priq.cons & Q_OVF) || q_full(prod, cons, log2)) {
        /*
         * IHI 0070 8.1: a full queue enters the overflow condition (OVFLG
         * toggles once); while it lasts nothing is written, and a Last
         * request gets an automatic Success, with its PASID (IDR3.PPS = 1).
         * With PRIQ_IRQ_CFG2.LO the discarded Last request interrupts.
         */
        if ((s->priq.prod & Q_OVF) == (s->priq.cons & Q_OVF)) {
            s->priq.prod ^= Q_OVF;
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: PRI queue overflow (StreamID "
                          "0x%x PRGI %u)\n", sid, req->prgi);
        }
        trace_viommu_smmuv3_priq_discard(sid, req->prgi, "PRI queue overflow");
        if (req->last) {
            if (s->priq_irq_cfg2 & R_PRIQ_IRQ_CFG2_LO_MASK) {
                smmu_priq_irq(s);
            }
            smmu_prg_respond(s, sas, req->prgi, ssv, req->pasid, VIOMMU_PRG_SUCCESS, true);
        }
        return 0;
    }
    vi_cpu_to_le64(raw, rec[0]);
    vi_cpu_to_le64(raw + 8, rec[1]);
    a = Q_BASE_ADDR(s->priq.base) + (hwaddr)q_idx(prod, log2) * sizeof(raw);
    if (address_space_write(&address_space_memory, a, MEMTXATTRS_UNSPECIFIED, raw,
                            sizeof(raw)) != MEMTX_OK) {
        /* IHI 0070 8.2: a synchronous abort; the request gets Response Failure. */
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: PRI queue write to 0x%"
                      HWADDR_PRIx " aborted\n", a);
        smmu_gerror_raise(s, R_GERROR_PRIQ_ABT_ERR_MASK);
        if (req->last) {
            smmu_prg_respond(s, sas, req->prgi, false, 0, VIOMMU_PRG_RESPONSE_FAILURE, true);
        }
        return 0;
    }
    was_empty = q_empty(prod, cons, log2);
    s->priq.prod = (s->priq.prod & Q_OVF) | q_inc(prod, log2);
    trace_viommu_smmuv3_priq_write(s->priq.prod);
    /* Interrupt on empty -> non-empty, or (LO) on each Last request. */
    if ((s->priq_irq_cfg2 & R_PRIQ_IRQ_CFG2_LO_MASK) ? req->last : was_empty) {
        smmu_priq_irq(s);
    }
    return 0;
}

/*
 * CMD_PRI_RESP (IHI 0070 4.5.2): a PRG Response to the requester with this
 * StreamID.  The device matches it to its outstanding group (PRGI, PASID);
 * a StreamID with no attached requester gets nothing.
 */
static int smmu_cmd_pri_resp(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    uint32_t sid = cmd[0] >> 32;
    bool ssv = cmd[0] & (1u << 11);
    uint32_t ssid = vi_field(cmd[0], 31, 12);
    unsigned prgi = vi_field(cmd[1], 8, 0);
    unsigned resp = vi_field(cmd[1], 13, 12);
    ViommuSmmuv3AS *sas;

    if (resp == 3) {
        return CERROR_ILL;
    }
    /* Without substreams SSV == 1 behaves as SSV == 0 (a permitted choice). */
    ssv = ssv && s->caps.ssidsize;
    trace_viommu_smmuv3_cmd_pri_resp(sid, ssv, ssid, prgi, resp);
    if (!(s->cr0 & R_CR0_SMMUEN_MASK)) {
        trace_viommu_smmuv3_pri_resp_dropped(sid, prgi, "SMMUEN is 0: ignored");
        return CERROR_NONE;
    }
    QLIST_FOREACH(sas, &s->pri_list, pri_next) {
        if (smmu_as_sid(sas) == sid) {
            smmu_prg_respond(s, sas, prgi, ssv, ssid, pri_resp_code[resp], false);
            return CERROR_NONE;
        }
    }
    trace_viommu_smmuv3_pri_resp_dropped(sid, prgi, "no requester with this StreamID");
    return CERROR_NONE;
}

/* ------------------------------------------------------------------------
 * Commands (BQL held)
 */
static void inval_tlb(ViommuSmmuv3State *s, const char *what, const vi_iotlb_scope *sc)
{
    uint32_t n;

    qemu_mutex_lock(&s->mutex);
    n = vi_iotlb_invalidate(s->iotlb, sc);
    smmu_gen_bump(s);
    qemu_mutex_unlock(&s->mutex);
    trace_viommu_smmuv3_inval(what, n);
    smmu_notify_unmap_all(s);
}

#define STAGE_BIT(x)    (1u << (x))
#define STAGES_NH       (STAGE_BIT(VI_IOTLB_STAGE1) | STAGE_BIT(VI_IOTLB_NESTED))
#define STAGES_S2       (STAGE_BIT(VI_IOTLB_STAGE2) | STAGE_BIT(VI_IOTLB_NESTED))

static int smmu_cmd_tlbi_range(ViommuSmmuv3State *s, const uint64_t *cmd, bool ipa,
                               uint32_t match, uint8_t stages, const char *what)
{
    vi_iotlb_scope sc = { 0 };
    uint64_t addr = ipa ? (cmd[1] & VI_MASK(51, 12)) : (cmd[1] & VI_MASK(63, 12));
    unsigned num = vi_field(cmd[0], 16, 12), scale = vi_field(cmd[0], 24, 20);
    unsigned ttl = vi_field(cmd[1], 9, 8), tg = vi_field(cmd[1], 11, 10);

    if (!s->ril) {
        tg = 0;
    }
    if (!vi_iotlb_smmu_range(&sc, ipa, addr, tg, scale, num, tg ? ttl : 0)) {
        return CERROR_ILL;
    }
    sc.match |= match;
    sc.tag.vmid = vi_field(cmd[0], 47, 32);
    sc.tag.asid = vi_field(cmd[0], 63, 48);
    sc.stages = stages;
    sc.leaf_only = cmd[1] & 1;
    inval_tlb(s, what, &sc);
    return CERROR_NONE;
}

static int smmu_cmd_sync(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    unsigned cs = vi_field(cmd[0], 13, 12);
    uint64_t msi_addr = cmd[1] & VI_MASK(51, 2);
    uint32_t msi_data = cmd[0] >> 32;

    trace_viommu_smmuv3_cmd_sync(cs, msi_addr, msi_data);
    if (cs == 3) {
        return CERROR_ILL;
    }
    /* Translations run under s->mutex: taking it waits for those in flight. */
    qemu_mutex_lock(&s->mutex);
    qemu_mutex_unlock(&s->mutex);
    if (cs == 1) {
        if (s->msi && msi_addr) {
            MemTxAttrs attrs = { .requester_id = s->msi_devid };
            MemTxResult r;

            address_space_stl_le(&address_space_memory, msi_addr, msi_data, attrs, &r);
            if (r != MEMTX_OK) {
                smmu_gerror_raise(s, R_GERROR_MSI_CMDQ_ABT_ERR_MASK);
            }
        } else {
            smmu_wire(s, VIOMMU_SMMUV3_IRQ_CMD_SYNC);
        }
    }
    return CERROR_NONE;
}

static int smmu_cmd_exec(ViommuSmmuv3State *s, const uint64_t *cmd)
{
    unsigned op = cmd[0] & 0xff;
    uint32_t sid = cmd[0] >> 32;
    vi_iotlb_scope sc = { 0 };

    /* SSec: no Secure state is implemented, Secure commands are illegal. */
    if (op != CMD_SYNC && op < CMD_ATC_INV && (cmd[0] & (1u << 10))) {
        return CERROR_ILL;
    }
    switch (op) {
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
    case CMD_ATC_INV:           /* no ATC state is modelled */
        return CERROR_NONE;
    case CMD_CFGI_STE:
        qemu_mutex_lock(&s->mutex);
        vi_cfg_cache_inv_sid(s->cfg, sid);
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        smmu_notify_unmap_all(s);
        return CERROR_NONE;
    case CMD_CFGI_STE_RANGE: {
        unsigned range = vi_field(cmd[1], 4, 0);
        uint64_t span = 2ull << range;
        uint64_t first = sid & ~(span - 1);
        uint64_t last = MIN(first + span - 1, UINT32_MAX);

        qemu_mutex_lock(&s->mutex);
        if (range == 31) {
            vi_cfg_cache_inv_all(s->cfg);
        } else {
            vi_cfg_cache_inv_sid_range(s->cfg, first, last);
        }
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        smmu_notify_unmap_all(s);
        return CERROR_NONE;
    }
    case CMD_CFGI_CD:
        qemu_mutex_lock(&s->mutex);
        vi_cfg_cache_inv_ssid(s->cfg, sid, vi_field(cmd[0], 31, 12));
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        smmu_notify_unmap_all(s);
        return CERROR_NONE;
    case CMD_CFGI_CD_ALL:
        qemu_mutex_lock(&s->mutex);
        vi_cfg_cache_inv_ssid_all(s->cfg, sid);
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        smmu_notify_unmap_all(s);
        return CERROR_NONE;
    case CMD_TLBI_NH_ALL:
        sc.match = VI_IOTLB_M_VMID;
        sc.tag.vmid = vi_field(cmd[0], 47, 32);
        sc.stages = STAGES_NH;
        inval_tlb(s, "nh_all", &sc);
        return CERROR_NONE;
    case CMD_TLBI_NH_ASID:
        sc.match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID;
        sc.tag.vmid = vi_field(cmd[0], 47, 32);
        sc.tag.asid = vi_field(cmd[0], 63, 48);
        sc.stages = STAGES_NH;
        inval_tlb(s, "nh_asid", &sc);
        return CERROR_NONE;
    case CMD_TLBI_NH_VA:
        return smmu_cmd_tlbi_range(s, cmd, false, VI_IOTLB_M_VMID | VI_IOTLB_M_ASID,
                                   STAGES_NH, "nh_va");
    case CMD_TLBI_NH_VAA:
        return smmu_cmd_tlbi_range(s, cmd, false, VI_IOTLB_M_VMID, STAGES_NH, "nh_vaa");
    case CMD_TLBI_S12_VMALL:
        sc.match = VI_IOTLB_M_VMID;
        sc.tag.vmid = vi_field(cmd[0], 47, 32);
        inval_tlb(s, "s12_vmall", &sc);
        return CERROR_NONE;
    case CMD_TLBI_S2_IPA:
        if (!s->caps.s2) {
            return CERROR_ILL;
        }
        return smmu_cmd_tlbi_range(s, cmd, true, VI_IOTLB_M_VMID, STAGES_S2, "s2_ipa");
    case CMD_TLBI_NSNH_ALL:
        inval_tlb(s, "nsnh_all", &sc);
        return CERROR_NONE;
    case CMD_SYNC:
        return smmu_cmd_sync(s, cmd);
    case CMD_PRI_RESP:              /* ILLEGAL unless IDR0.PRI */
        return s->pri ? smmu_cmd_pri_resp(s, cmd) : CERROR_ILL;
    case CMD_TLBI_EL2_ALL:          /* IDR0.HYP == 0 */
    case CMD_TLBI_EL2_ASID:
    case CMD_TLBI_EL2_VA:
    case CMD_TLBI_EL2_VAA:
    case CMD_TLBI_EL3_ALL:          /* no EL3 / Secure */
    case CMD_TLBI_EL3_VA:
    case CMD_RESUME:                /* IDR0.STALL_MODEL == terminate only */
    case CMD_STALL_TERM:
    default:
        return CERROR_ILL;
    }
}

static bool cmdq_error_active(ViommuSmmuv3State *s)
{
    return (s->gerror ^ s->gerrorn) & R_GERROR_CMDQ_ERR_MASK;
}

static void smmu_process_cmdq(ViommuSmmuv3State *s)
{
    unsigned log2 = q_log2(&s->cmdq, s->cmdq_log2);

    qemu_mutex_lock(&s->mutex);
    qatomic_set(&s->last_fault_as, NULL);  /* a new guest action: no more merging */
    qemu_mutex_unlock(&s->mutex);

    for (unsigned n = 0; ; n++) {
        uint32_t prod = s->cmdq.prod & Q_PTR_MASK;
        uint32_t cons = s->cmdq.cons & Q_PTR_MASK;
        uint8_t raw[16];
        uint64_t cmd[2];
        hwaddr a;
        int err;

        if (!(s->cr0 & R_CR0_CMDQEN_MASK) || cmdq_error_active(s) ||
            q_empty(prod, cons, log2)) {
            return;
        }
        if (n == CMDQ_BATCH) {
            qemu_bh_schedule(s->cmdq_bh);
            return;
        }
        a = Q_BASE_ADDR(s->cmdq.base) + (hwaddr)q_idx(cons, log2) * 16;
        if (address_space_read(&address_space_memory, a, MEMTXATTRS_UNSPECIFIED, raw,
                               sizeof(raw)) != MEMTX_OK) {
            err = CERROR_ABT;
            cmd[0] = cmd[1] = 0;
        } else {
            cmd[0] = vi_le64_to_cpu(raw);
            cmd[1] = vi_le64_to_cpu(raw + 8);
            trace_viommu_smmuv3_cmd(cons, cmd_name(cmd[0] & 0xff), cmd[0], cmd[1]);
            err = smmu_cmd_exec(s, cmd);
        }
        if (err != CERROR_NONE) {
            qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: command 0x%02x (%s) at CONS "
                          "0x%x: %s\n", (unsigned)(cmd[0] & 0xff),
                          cmd_name(cmd[0] & 0xff), cons,
                          err == CERROR_ABT ? "CERROR_ABT" : "CERROR_ILL");
            trace_viommu_smmuv3_cmd_error(cons, cmd[0] & 0xff, err);
            s->cmdq.cons = FIELD_DP32(s->cmdq.cons, CMDQ_CONS, ERR, err);
            smmu_gerror_raise(s, R_GERROR_CMDQ_ERR_MASK);
            return;
        }
        s->stats_cmds++;
        s->cmdq.cons = (s->cmdq.cons & ~Q_PTR_MASK) | q_inc(cons, log2);
    }
}

static void smmu_cmdq_bh(void *opaque)
{
    smmu_process_cmdq(opaque);
}

/* ------------------------------------------------------------------------
 * Register access (BQL held)
 */
static void smmu_inval_all(ViommuSmmuv3State *s)
{
    qemu_mutex_lock(&s->mutex);
    vi_iotlb_inval_all(s->iotlb);
    vi_cfg_cache_inv_all(s->cfg);
    smmu_gen_bump(s);
    qemu_mutex_unlock(&s->mutex);
    smmu_notify_unmap_all(s);
}

static uint64_t smmu_reg_read(ViommuSmmuv3State *s, hwaddr off)
{
    switch (off) {
    case A_IDR0 ... A_IDR5:
        return s->idr[off / 4];
    case A_IIDR:
        return SMMU_IIDR_VALUE;
    case A_AIDR:
        return SMMU_AIDR_VALUE;
    case A_CR0:
    case A_CR0ACK:
        return s->cr0;
    case A_CR1:
        return s->cr1;
    case A_CR2:
        return s->cr2;
    case A_STATUSR:
        return 0;
    case A_GBPA:
        return s->gbpa;
    case A_IRQ_CTRL:
    case A_IRQ_CTRLACK:
        return s->irq_ctrl;
    case A_GERROR:
        return s->gerror;
    case A_GERRORN:
        return s->gerrorn;
    case A_GERROR_IRQ_CFG0:
        return s->gerror_irq_cfg0;
    case A_GERROR_IRQ_CFG1:
        return s->gerror_irq_cfg1;
    case A_GERROR_IRQ_CFG2:
        return s->gerror_irq_cfg2;
    case A_STRTAB_BASE:
        return s->strtab_base;
    case A_STRTAB_BASE_CFG:
        return s->strtab_base_cfg;
    case A_CMDQ_BASE:
        return s->cmdq.base;
    case A_CMDQ_PROD:
        return s->cmdq.prod;
    case A_CMDQ_CONS:
        return s->cmdq.cons;
    case A_EVENTQ_BASE:
        return s->evtq.base;
    case A_EVENTQ_PROD:
    case SMMU_PAGE1 + A_EVENTQ_PROD:
        return s->evtq.prod;
    case A_EVENTQ_CONS:
    case SMMU_PAGE1 + A_EVENTQ_CONS:
        return s->evtq.cons;
    case A_EVENTQ_IRQ_CFG0:
        return s->evtq_irq_cfg0;
    case A_EVENTQ_IRQ_CFG1:
        return s->evtq_irq_cfg1;
    case A_EVENTQ_IRQ_CFG2:
        return s->evtq_irq_cfg2;
    case A_PRIQ_BASE:
        return s->pri ? s->priq.base : 0;
    case A_PRIQ_PROD:
    case SMMU_PAGE1 + A_PRIQ_PROD:
        return s->pri ? s->priq.prod : 0;
    case A_PRIQ_CONS:
    case SMMU_PAGE1 + A_PRIQ_CONS:
        return s->pri ? s->priq.cons : 0;
    case A_PRIQ_IRQ_CFG0:
        return s->priq_irq_cfg0;
    case A_PRIQ_IRQ_CFG1:
        return s->priq_irq_cfg1;
    case A_PRIQ_IRQ_CFG2:
        return s->priq_irq_cfg2;
    default:
        return 0;           /* reserved, ATOS, ID block (and PRI queue with pri=off): RAZ */
    }
}

static bool reg_is_64(hwaddr off)
{
    switch (off) {
    case A_GERROR_IRQ_CFG0:
    case A_STRTAB_BASE:
    case A_CMDQ_BASE:
    case A_EVENTQ_BASE:
    case A_EVENTQ_IRQ_CFG0:
    case A_PRIQ_BASE:
    case A_PRIQ_IRQ_CFG0:
        return true;
    default:
        return false;
    }
}

/* Side effects to run once the register is written. */
enum { SE_NONE = 0, SE_CMDQ = 1, SE_EVT = 2 };

static int smmu_reg_write(ViommuSmmuv3State *s, hwaddr off, uint64_t v)
{
    bool smmuen = s->cr0 & R_CR0_SMMUEN_MASK;
    uint32_t old;

    switch (off) {
    case A_CR0:
        old = s->cr0;
        qemu_mutex_lock(&s->mutex);
        s->cr0 = v & (CR0_MASK | (s->pri ? R_CR0_PRIQEN_MASK : 0));
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        if ((old ^ s->cr0) & R_CR0_SMMUEN_MASK) {
            smmu_notify_unmap_all(s);
        }
        return SE_CMDQ | SE_EVT;
    case A_CR1:
        s->cr1 = v & CR1_MASK;
        return SE_NONE;
    case A_CR2:
        s->cr2 = v & CR2_MASK;
        return SE_NONE;
    case A_GBPA:
        if (v & R_GBPA_UPDATE_MASK) {
            qemu_mutex_lock(&s->mutex);
            s->gbpa = v & GBPA_FIELDS;      /* update completes at once */
            smmu_gen_bump(s);
            qemu_mutex_unlock(&s->mutex);
        }
        return SE_NONE;
    case A_IRQ_CTRL:
        s->irq_ctrl = v & (IRQ_CTRL_MASK | (s->pri ? R_IRQ_CTRL_PRI_IRQEN_MASK : 0));
        return SE_NONE;
    case A_GERRORN: {
        bool was = cmdq_error_active(s);

        s->gerrorn = v & GERROR_MASK;
        trace_viommu_smmuv3_gerror(s->gerror, s->gerrorn);
        if (was && !cmdq_error_active(s)) {
            /* Acknowledged: the command queue resumes. */
            s->cmdq.cons = FIELD_DP32(s->cmdq.cons, CMDQ_CONS, ERR, 0);
            return SE_CMDQ;
        }
        return SE_NONE;
    }
    case A_GERROR_IRQ_CFG0:
        s->gerror_irq_cfg0 = s->msi ? v & IRQ_ADDR_MASK : 0;
        return SE_NONE;
    case A_GERROR_IRQ_CFG1:
        s->gerror_irq_cfg1 = s->msi ? v : 0;
        return SE_NONE;
    case A_GERROR_IRQ_CFG2:
        s->gerror_irq_cfg2 = s->msi ? v & IRQ_CFG2_MASK : 0;
        return SE_NONE;
    case A_STRTAB_BASE:
        if (smmuen) {
            goto ignored;
        }
        qemu_mutex_lock(&s->mutex);
        s->strtab_base = v & STRTAB_BASE_MASK;
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        return SE_NONE;
    case A_STRTAB_BASE_CFG:
        if (smmuen) {
            goto ignored;
        }
        qemu_mutex_lock(&s->mutex);
        s->strtab_base_cfg = v & STRTAB_CFG_MASK;
        smmu_gen_bump(s);
        qemu_mutex_unlock(&s->mutex);
        return SE_NONE;
    case A_CMDQ_BASE:
        if (s->cr0 & R_CR0_CMDQEN_MASK) {
            goto ignored;
        }
        s->cmdq.base = v & Q_BASE_MASK;
        return SE_NONE;
    case A_CMDQ_PROD:
        s->cmdq.prod = v & Q_PTR_MASK;
        return SE_CMDQ;
    case A_CMDQ_CONS:
        if (s->cr0 & R_CR0_CMDQEN_MASK) {
            goto ignored;
        }
        s->cmdq.cons = v & (Q_PTR_MASK | R_CMDQ_CONS_ERR_MASK);
        return SE_NONE;
    case A_EVENTQ_BASE:
        if (s->cr0 & R_CR0_EVENTQEN_MASK) {
            goto ignored;
        }
        s->evtq.base = v & Q_BASE_MASK;
        return SE_NONE;
    case A_EVENTQ_PROD:
    case SMMU_PAGE1 + A_EVENTQ_PROD:
        if (s->cr0 & R_CR0_EVENTQEN_MASK) {
            goto ignored;
        }
        s->evtq.prod = v & (Q_PTR_MASK | Q_OVF);
        return SE_NONE;
    case A_EVENTQ_CONS:
    case SMMU_PAGE1 + A_EVENTQ_CONS:
        s->evtq.cons = v & (Q_PTR_MASK | Q_OVF);
        return SE_NONE;
    case A_EVENTQ_IRQ_CFG0:
        s->evtq_irq_cfg0 = s->msi ? v & IRQ_ADDR_MASK : 0;
        return SE_NONE;
    case A_EVENTQ_IRQ_CFG1:
        s->evtq_irq_cfg1 = s->msi ? v : 0;
        return SE_NONE;
    case A_EVENTQ_IRQ_CFG2:
        s->evtq_irq_cfg2 = s->msi ? v & IRQ_CFG2_MASK : 0;
        return SE_NONE;
    case A_PRIQ_BASE:
        if (!s->pri) {
            break;
        }
        if (s->cr0 & R_CR0_PRIQEN_MASK) {
            goto ignored;
        }
        s->priq.base = v & Q_BASE_MASK;
        return SE_NONE;
    case A_PRIQ_PROD:
    case SMMU_PAGE1 + A_PRIQ_PROD:
        if (!s->pri) {
            break;
        }
        if (s->cr0 & R_CR0_PRIQEN_MASK) {
            goto ignored;
        }
        s->priq.prod = v & (Q_PTR_MASK | Q_OVF);
        return SE_NONE;
    case A_PRIQ_CONS:
    case SMMU_PAGE1 + A_PRIQ_CONS:
        if (!s->pri) {
            break;
        }
        /* OVACKFLG equal to OVFLG ends an overflow condition. */
        s->priq.cons = v & (Q_PTR_MASK | Q_OVF);
        return SE_NONE;
    case A_PRIQ_IRQ_CFG0:
    case A_PRIQ_IRQ_CFG1:
    case A_PRIQ_IRQ_CFG2:
        /* Present with MSI and PRI; Guarded by IRQ_CTRL.PRIQ_IRQEN. */
        if (!s->pri || !s->msi) {
            break;
        }
        if (s->irq_ctrl & R_IRQ_CTRL_PRI_IRQEN_MASK) {
            goto ignored;
        }
        if (off == A_PRIQ_IRQ_CFG0) {
            s->priq_irq_cfg0 = v & IRQ_ADDR_MASK;
        } else if (off == A_PRIQ_IRQ_CFG1) {
            s->priq_irq_cfg1 = v;
        } else {
            s->priq_irq_cfg2 = v & PRIQ_CFG2_MASK;
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

static uint64_t smmu_mmio_read(void *opaque, hwaddr off, unsigned size)
{
    ViommuSmmuv3State *s = opaque;
    uint64_t v;

    if (off & (size - 1)) {
        qemu_log_mask(LOG_GUEST_ERROR, "viommu-smmuv3: unaligned read at 0x%"
                      HWADDR_PRIx "\n", off);
        return 0;
    }
    if (reg_is_64(off & ~7ull)) {
        v = smmu_reg_read(s, off & ~7ull);
        if (size == 4) {
            v = (off & 4) ? v >> 32 : (uint32_t)v;
        }
    } else if (size == 8) {
        v = smmu_reg_read(s, off) | (smmu_reg_read(s, off + 4) << 32);
    } else {
        v = smmu_reg_read(s, off);
    }
    trace_viommu_smmuv3_reg_read(off, v, size);
    return v;
}

static void smmu_mmio_write(void *opaque, hwaddr off, uint64_t v, unsigned size)
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
            uint64_t cur = smmu_reg_read(s, base);

            v = (off & 4) ? deposit64(cur, 32, 32, v) : deposit64(cur, 0, 32, v);
        }
        se = smmu_reg_write(s, base, v);
    } else if (size == 8) {
        se = smmu_reg_write(s, off, (uint32_t)v);
        se |= smmu_reg_write(s, off + 4, v >> 32);
    } else {
        se = smmu_reg_write(s, off, v);
    }
    if (se & SE_CMDQ) {
        smmu_process_cmdq(s);
    }
    if (se & SE_EVT) {
        smmu_flush_events(s);
    }
}

static const MemoryRegionOps smmu_mmio_ops = {
    .read = smmu_mmio_read,
    .write = smmu_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 4, .max_access_size = 8 },
    .impl = { .min_access_size = 4, .max_access_size = 8 },
};

/* ------------------------------------------------------------------------
 * Device
 */
static void smmu_reset_hold(Object *obj, ResetType type)
{
    ViommuSmmuv3State *s = VIOMMU_SMMUV3(obj);

    s->cr1 = s->cr2 = 0;
    s->gbpa = GBPA_RESET;
    s->irq_ctrl = 0;
    s->gerror = s->gerrorn = 0;
    s->gerror_irq_cfg0 = s->gerror_irq_cfg1 = s->gerror_irq_cfg2 = 0;
    s->strtab_base = 0;
    s->strtab_base_cfg = 0;
    s->cmdq = (ViommuSmmuv3Queue) { 0 };
    s->evtq = (ViommuSmmuv3Queue) { 0 };
    s->evtq_irq_cfg0 = s->evtq_irq_cfg1 = s->evtq_irq_cfg2 = 0;
    /* PRI attachments are the devices' (they detach at their own reset). */
    s->priq = (ViommuSmmuv3Queue) { 0 };
    s->priq_irq_cfg0 = s->priq_irq_cfg1 = s->priq_irq_cfg2 = 0;
    qemu_mutex_lock(&s->mutex);
    s->cr0 = 0;
    smmu_gen_bump(s);
    s->npending = 0;
    s->pending_lost = false;
    qemu_mutex_unlock(&s->mutex);
    smmu_inval_all(s);
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

static bool smmu_validate(ViommuSmmuv3State *s, Error **errp)
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
    c->st_2lvl = s->st_2lvl;
    c->cd_2lvl = s->cd_2lvl && c->s1;
    c->asid16 = true;
    c->vmid16 = true;
    c->httu_a = c->httu_d = s->httu;
    c->s2fwb = s->fwb;
    c->gran4k = s->gran4k;
    c->gran16k = s->gran16k;
    c->gran64k = s->gran64k;
    c->stall_model = VI_SMMU_STALL_MODEL_TERM;
    c->ttendian = VI_SMMU_TTENDIAN_LE;
    c->sidsize = s->sidsize;
    c->ssidsize = c->s1 ? s->ssidsize : 0;
    c->oas = s->oas;

    memset(s->idr, 0, sizeof(s->idr));
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, S2P, c->s2);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, S1P, c->s1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TTF, 2);           /* AArch64 */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, COHACC, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, HTTU, s->httu ? 2 : 0);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, PRI, s->pri);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ASID16, 1);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, MSI, s->msi);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, VMID16, c->s2);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, CD2L, c->cd_2lvl);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TTENDIAN, VI_SMMU_TTENDIAN_LE);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, STALL_MODEL, VI_SMMU_STALL_MODEL_TERM);
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, TERM_MODEL, 1);    /* always abort */
    s->idr[0] = FIELD_DP32(s->idr[0], IDR0, ST_LEVEL, c->st_2lvl);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, SIDSIZE, s->sidsize);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, SSIDSIZE, c->ssidsize);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, EVENTQS, s->evtq_log2);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, PRIQS, s->pri ? s->priq_log2 : 0);
    s->idr[1] = FIELD_DP32(s->idr[1], IDR1, CMDQS, s->cmdq_log2);
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, HAD, 1);
    /* Overflow auto-responses carry the request's PASID; STE.PPAR is not read. */
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, PPS, s->pri && c->ssidsize);
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, FWB, s->fwb);
    s->idr[3] = FIELD_DP32(s->idr[3], IDR3, RIL, s->ril);
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, OAS, oas_enc(s->oas));
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN4K, s->gran4k);
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN16K, s->gran16k);
    s->idr[5] = FIELD_DP32(s->idr[5], IDR5, GRAN64K, s->gran64k);
    return true;
}

static void smmu_realize(DeviceState *dev, Error **errp)
{
    ViommuSmmuv3State *s = VIOMMU_SMMUV3(dev);

    if (!smmu_validate(s, errp)) {
        return;
    }
    qemu_mutex_init(&s->mutex);
    s->iotlb = vi_iotlb_new(s->iotlb_entries);
    s->cfg = vi_smmu_cfg_cache_new(s->cfg_entries, s->cfg_entries * 4);
    /* The fast path covers about as many pages as the IOTLB, within bounds. */
    {
        uint32_t n = pow2ceil(MAX(MIN(s->iotlb_entries, VIOMMU_SMMUV3_FAST_MAX),
                                  VIOMMU_SMMUV3_FAST_MIN)) / VIOMMU_SMMUV3_FAST_PAGES;
        size_t bytes = n * sizeof(ViommuSmmuv3Fast);

        s->fast_bits = ctz32(n / VIOMMU_SMMUV3_FAST_WAYS);
        s->fast = qemu_memalign(64, bytes);
        memset(s->fast, 0, bytes);
    }
    if (!s->iotlb || !s->cfg) {
        error_setg(errp, "viommu-smmuv3: cannot allocate the translation caches");
        return;
    }
    s->as_table = g_hash_table_new_full(as_key_hash, as_key_equal, g_free, NULL);
    s->evt_bh = qemu_bh_new_guarded(smmu_evt_bh, s, &dev->mem_reentrancy_guard);
    s->cmdq_bh = qemu_bh_new_guarded(smmu_cmdq_bh, s, &dev->mem_reentrancy_guard);
    memory_region_init_io(&s->mmio, OBJECT(s), &smmu_mmio_ops, s, "viommu-smmuv3",
                          VIOMMU_SMMUV3_MMIO_SIZE);
    if (!viommu_smmuv3_machine_attach(s, errp)) {
        return;
    }
    qemu_register_resettable(OBJECT(s));
    smmu_reset_hold(OBJECT(s), RESET_TYPE_COLD);
}

static int smmu_pre_save(void *opaque)
{
    smmu_flush_events(opaque);
    return 0;
}

static int smmu_post_load(void *opaque, int version_id)
{
    ViommuSmmuv3State *s = opaque;

    /* Caches start empty: everything is fetched again from guest memory. */
    smmu_inval_all(s);
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

static bool smmu_priq_needed(void *opaque)
{
    return ((ViommuSmmuv3State *)opaque)->pri;
}

static const VMStateDescription vmstate_smmu_priq = {
    .name = TYPE_VIOMMU_SMMUV3 "/priq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = smmu_priq_needed,
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
    .pre_save = smmu_pre_save,
    .post_load = smmu_post_load,
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

static const Property smmu_props[] = {
    DEFINE_PROP_STRING("stages", ViommuSmmuv3State, stages),
    DEFINE_PROP_UINT8("ssidsize", ViommuSmmuv3State, ssidsize, 20),
    DEFINE_PROP_UINT8("sidsize", ViommuSmmuv3State, sidsize, 16),
    DEFINE_PROP_UINT8("oas", ViommuSmmuv3State, oas, 48),
    DEFINE_PROP_BOOL("gran4k", ViommuSmmuv3State, gran4k, true),
    DEFINE_PROP_BOOL("gran16k", ViommuSmmuv3State, gran16k, true),
    DEFINE_PROP_BOOL("gran64k", ViommuSmmuv3State, gran64k, true),
    DEFINE_PROP_BOOL("ril", ViommuSmmuv3State, ril, true),
    DEFINE_PROP_BOOL("st-2lvl", ViommuSmmuv3State, st_2lvl, true),
    DEFINE_PROP_BOOL("cd-2lvl", ViommuSmmuv3State, cd_2lvl, true),
    DEFINE_PROP_BOOL("httu", ViommuSmmuv3State, httu, false),
    DEFINE_PROP_BOOL("fwb", ViommuSmmuv3State, fwb, true),
    DEFINE_PROP_BOOL("msi", ViommuSmmuv3State, msi, true),
    DEFINE_PROP_UINT8("cmdq-log2size", ViommuSmmuv3State, cmdq_log2, 19),
    DEFINE_PROP_UINT8("evtq-log2size", ViommuSmmuv3State, evtq_log2, 19),
    DEFINE_PROP_BOOL("pri", ViommuSmmuv3State, pri, true),
    DEFINE_PROP_UINT8("priq-log2size", ViommuSmmuv3State, priq_log2, 12),
    DEFINE_PROP_UINT32("iotlb-entries", ViommuSmmuv3State, iotlb_entries, 4096),
    DEFINE_PROP_UINT32("cfg-entries", ViommuSmmuv3State, cfg_entries, 256),
    DEFINE_PROP_UINT16("msi-devid", ViommuSmmuv3State, msi_devid, 0xff00),
};

static void smmu_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    dc->realize = smmu_realize;
    dc->vmsd = &vmstate_smmu;
    dc->desc = "Arm SMMUv3 with substreams (qemu-viommu), for -M virt";
    dc->user_creatable = true;
    dc->hotpluggable = false;
    rc->phases.hold = smmu_reset_hold;
    device_class_set_props(dc, smmu_props);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static void smmu_iommu_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = smmu_translate;
    imrc->notify_flag_changed = smmu_notify_flag_changed;
}

static const TypeInfo smmu_types[] = {
    {
        .name = TYPE_VIOMMU_SMMUV3,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(ViommuSmmuv3State),
        .class_init = smmu_class_init,
    }, {
        .name = TYPE_VIOMMU_SMMUV3_IOMMU_MR,
        .parent = TYPE_IOMMU_MEMORY_REGION,
        .class_init = smmu_iommu_mr_class_init,
    },
};

DEFINE_TYPES(smmu_types)
