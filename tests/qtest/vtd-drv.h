/*
 * A qtest "driver" for viommu-vtd that does what Linux's intel-iommu driver
 * does: enable sequence (root table, queued invalidation, translation,
 * interrupt remapping), table builders (root, context, PASID directory and
 * table, first- and second-stage page tables, IRT) and queued invalidation
 * with a wait descriptor.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VIOMMU_VTD_DRV_H
#define VIOMMU_VTD_DRV_H

#include "testdev-drv.h"
#include "hw/viommu/vtd-regs.h"

/* Second-stage / first-stage leaf and table bits the builders use. */
#define SS_R        (1ull << 0)
#define SS_W        (1ull << 1)
#define SS_RW       (SS_R | SS_W)
#define SS_PS       (1ull << 7)
#define SS_A        (1ull << 8)     /* accessed, set by the unit when SSADE */
#define SS_D        (1ull << 9)     /* dirty, likewise */
#define FS_P        (1ull << 0)
#define FS_RW       (1ull << 1)
#define FS_US       (1ull << 2)
#define FS_A        (1ull << 5)
#define FS_D        (1ull << 6)
#define FS_PS       (1ull << 7)
#define FS_G        (1ull << 8)
#define FS_PRW      (FS_P | FS_RW | FS_US)

/* PASID entry word 0: SSADE (rev 3 SLADE), second-stage A/D flags enabled. */
#define PE0_SSADE   (1ull << 9)

/* PASID entry PGTT values. */
#define PGTT_FS     1
#define PGTT_SS     2
#define PGTT_NEST   3
#define PGTT_PT     4

typedef struct Vtd {
    TdMachine *m;
    QTestState *qts;
    bool scalable;
    uint64_t root;              /* root table */
    uint64_t iq;                /* invalidation queue (one 4 KiB page) */
    bool wide;                  /* 256-bit descriptors (ECAP.SMTS), else 128-bit */
    unsigned iq_tail;           /* next free slot */
    uint64_t status;            /* wait-descriptor status word */
    uint32_t wait_seq;
    uint64_t irt;               /* interrupt remapping table */
    uint64_t gpa_off;           /* builders: table entries hold PA + gpa_off */
    uint64_t prq;               /* page request queue */
    uint64_t prq_entries;
} Vtd;

uint32_t vtd_rd32(Vtd *v, uint32_t reg);
uint64_t vtd_rd64(Vtd *v, uint32_t reg);
void vtd_wr32(Vtd *v, uint32_t reg, uint32_t val);
void vtd_wr64(Vtd *v, uint32_t reg, uint64_t val);

/* A root table in guest RAM; nothing enabled yet. */
Vtd *vtd_new(TdMachine *m, bool scalable);
void vtd_free(Vtd *v);
/* Set or clear one GCMD command and wait for its GSTS status (as Linux does). */
void vtd_gcmd(Vtd *v, uint32_t bit, bool on);
/* SRTP with the root table (TTM per v->scalable), then QIE, then TE. */
void vtd_enable(Vtd *v);
void vtd_enable_qi(Vtd *v);
/* IRTA with 2^(s+1) entries (EIME if eim), SIRTP, then IRE. */
void vtd_enable_ir(Vtd *v, unsigned s, bool eim);

/* Legacy context entry for sid: translation type tt, second-stage table. */
/*
 * What a remappable interrupt (addr, data) from sid becomes, through the unit's
 * x-int-remap hook (the path KVM's route fix-up kvm_arch_fixup_msi_route()
 * takes, since a qtest runs without KVM): "RET ADDR DATA", g_free() it.
 */
char *vtd_int_remap_fixup(QTestState *qts, uint64_t addr, uint32_t data, uint16_t sid);

void vtd_ctx_legacy(Vtd *v, uint16_t sid, unsigned tt, uint64_t slpt, unsigned aw,
                    uint16_t did);
/*
 * Scalable context entry for sid with a fresh PASID directory of
 * 2^(pdts + 7) entries; PASIDE set.  Returns the PASID directory.
 */
uint64_t vtd_ctx_sm(Vtd *v, uint16_t sid, unsigned pdts, uint32_t rid_pasid, uint64_t extra);
/* Write the PASID entry of pasid (8 words) under a directory; tables allocated. */
uint64_t vtd_pasid_entry(Vtd *v, uint64_t dir, uint32_t pasid, const uint64_t pe[8]);
/* PASID entries. */
void vtd_pe_fs(uint64_t pe[8], uint64_t fsptr, bool level5, uint16_t did, bool sre);
void vtd_pe_ss(uint64_t pe[8], uint64_t slptr, unsigned aw, uint16_t did);
void vtd_pe_nested(uint64_t pe[8], uint64_t fsptr_gpa, uint64_t slptr, unsigned aw,
                   uint16_t did);
void vtd_pe_pt(uint64_t pe[8], uint16_t did);

/* A zeroed table page. */
uint64_t vtd_table(Vtd *v);
/*
 * Map iova at leaf level leaf (1: 4 KiB) with entry value pa | leaf_bits
 * under the table root of top level top; table entries get table_bits.
 * Returns the guest address of the leaf entry.
 */
uint64_t vtd_map(Vtd *v, uint64_t root, int top, uint64_t iova, int leaf, uint64_t pa,
                 uint64_t leaf_bits, uint64_t table_bits);
/* Guest address of the level-l entry on iova's path (tables must exist). */
uint64_t vtd_entry(Vtd *v, uint64_t root, int top, uint64_t iova, int l);

/* Queue descriptors; vtd_qi_sync() adds a wait descriptor and waits for it. */
void vtd_qi_add(Vtd *v, uint64_t qw0, uint64_t qw1);
void vtd_qi_sync(Vtd *v);
/* Same, without waiting: returns after the tail write. */
void vtd_qi_kick(Vtd *v);

/*
 * Page requests, as Linux's prq.c: a queue of 2^pqs pages (PQH, PQT, then
 * PQA), the next descriptor at PQH (false if PQH == PQT; PQH advances), and
 * a page group response to rid (queued with a wait).
 */
void vtd_prq_enable(Vtd *v, unsigned pqs);
bool vtd_prq_next(Vtd *v, uint64_t d[4]);
void vtd_page_response(Vtd *v, uint16_t rid, bool pp, uint32_t pasid, unsigned prgi,
                       unsigned code);

/* Fault records: the FRCD high word of record i, and clearing it. */
uint64_t vtd_frcd_hi(Vtd *v, int i);
uint64_t vtd_frcd_lo(Vtd *v, int i);
void vtd_frcd_clear_all(Vtd *v);
/* The reason of the only recorded fault (asserts exactly one), then clears it. */
unsigned vtd_take_fault(Vtd *v, uint64_t *hi_out, uint64_t *lo_out);

/* IRTE index i (remappable, physical destination dest, vector). */
void vtd_irte(Vtd *v, unsigned i, uint8_t vector, uint32_t dest, uint16_t sid,
              unsigned svt, bool present);

/* Is vector pending in CPU 0's local APIC (from "info lapic")? */
bool vtd_lapic_irr(QTestState *qts, unsigned vector);

#endif
