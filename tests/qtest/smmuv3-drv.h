/*
 * A small Arm SMMUv3 "driver" for qtests: what the Linux arm-smmu-v3 driver
 * does at probe and at run time (reset sequence, stream table linear or
 * 2-level, context descriptors linear or 2-level, commands with CMD_SYNC,
 * event queue), written against IHI 0070, plus a VMSAv8-64 page-table
 * builder for the 4K/16K/64K granules at stage 1 and stage 2.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VIOMMU_SMMUV3_DRV_H
#define VIOMMU_SMMUV3_DRV_H

#include "testdev-drv.h"
#include "hw/viommu/smmuv3-regs.h"

/*
 * The registers, commands and record layouts are the device's own
 * definitions (hw/viommu/smmuv3-regs.h, the core's smmuv3-defs.h); below are
 * the short names the tests use for them.
 */
#define SMMU_BASE               VISMMU_MMIO_BASE_VIRT
#define SMMU_PAGE1              VISMMU_PAGE1

/* Registers (the queue pointers the driver uses are page 1's). */
#define SMMU_IDR0               A_VISMMU_IDR0
#define SMMU_IDR1               A_VISMMU_IDR1
#define SMMU_IDR3               A_VISMMU_IDR3
#define SMMU_IDR5               A_VISMMU_IDR5
#define SMMU_AIDR               A_VISMMU_AIDR
#define SMMU_CR0                A_VISMMU_CR0
#define SMMU_CR0ACK             A_VISMMU_CR0ACK
#define SMMU_CR1                A_VISMMU_CR1
#define SMMU_CR2                A_VISMMU_CR2
#define SMMU_GBPA               A_VISMMU_GBPA
#define SMMU_IRQ_CTRL           A_VISMMU_IRQ_CTRL
#define SMMU_IRQ_CTRLACK        A_VISMMU_IRQ_CTRLACK
#define SMMU_GERROR             A_VISMMU_GERROR
#define SMMU_GERRORN            A_VISMMU_GERRORN
#define SMMU_GERROR_IRQ_CFG0    A_VISMMU_GERROR_IRQ_CFG0
#define SMMU_GERROR_IRQ_CFG1    A_VISMMU_GERROR_IRQ_CFG1
#define SMMU_STRTAB_BASE        A_VISMMU_STRTAB_BASE
#define SMMU_STRTAB_BASE_CFG    A_VISMMU_STRTAB_BASE_CFG
#define SMMU_CMDQ_BASE          A_VISMMU_CMDQ_BASE
#define SMMU_CMDQ_PROD          A_VISMMU_CMDQ_PROD
#define SMMU_CMDQ_CONS          A_VISMMU_CMDQ_CONS
#define SMMU_EVENTQ_BASE        A_VISMMU_EVENTQ_BASE
#define SMMU_EVENTQ_PROD        (VISMMU_PAGE1 + A_VISMMU_EVENTQ_PROD)
#define SMMU_EVENTQ_CONS        (VISMMU_PAGE1 + A_VISMMU_EVENTQ_CONS)
#define SMMU_EVENTQ_IRQ_CFG0    A_VISMMU_EVENTQ_IRQ_CFG0
#define SMMU_EVENTQ_IRQ_CFG1    A_VISMMU_EVENTQ_IRQ_CFG1
#define SMMU_PRIQ_BASE          A_VISMMU_PRIQ_BASE
#define SMMU_PRIQ_PROD          (VISMMU_PAGE1 + A_VISMMU_PRIQ_PROD)
#define SMMU_PRIQ_CONS          (VISMMU_PAGE1 + A_VISMMU_PRIQ_CONS)
#define SMMU_PRIQ_IRQ_CFG0      A_VISMMU_PRIQ_IRQ_CFG0
#define SMMU_PRIQ_IRQ_CFG1      A_VISMMU_PRIQ_IRQ_CFG1
#define SMMU_PRIQ_IRQ_CFG2      A_VISMMU_PRIQ_IRQ_CFG2

#define CR0_SMMUEN              R_VISMMU_CR0_SMMUEN_MASK
#define CR0_PRIQEN              R_VISMMU_CR0_PRIQEN_MASK
#define CR0_EVENTQEN            R_VISMMU_CR0_EVENTQEN_MASK
#define CR0_CMDQEN              R_VISMMU_CR0_CMDQEN_MASK
#define CR2_RECINVSID           R_VISMMU_CR2_RECINVSID_MASK
#define GBPA_UPDATE             R_VISMMU_GBPA_UPDATE_MASK
#define GBPA_ABORT              R_VISMMU_GBPA_ABORT_MASK
#define IRQ_CTRL_GERROR         R_VISMMU_IRQ_CTRL_GERROR_IRQEN_MASK
#define IRQ_CTRL_PRIQ           R_VISMMU_IRQ_CTRL_PRI_IRQEN_MASK
#define IRQ_CTRL_EVENTQ         R_VISMMU_IRQ_CTRL_EVENTQ_IRQEN_MASK
#define GERROR_CMDQ_ERR         R_VISMMU_GERROR_CMDQ_ERR_MASK
#define GERROR_PRIQ_ABT_ERR     R_VISMMU_GERROR_PRIQ_ABT_ERR_MASK
#define Q_OVFLG                 VISMMU_Q_OVF
#define CMDQ_CONS_ERR(c)        FIELD_EX32((c), VISMMU_CMDQ_CONS, ERR)
#define CERROR_ILL              VISMMU_CERROR_ILL
#define CERROR_ABT              VISMMU_CERROR_ABT

/* Commands. */
#define CMD_PREFETCH_CONFIG     VISMMU_CMD_PREFETCH_CONFIG
#define CMD_CFGI_STE            VISMMU_CMD_CFGI_STE
#define CMD_CFGI_STE_RANGE      VISMMU_CMD_CFGI_STE_RANGE
#define CMD_CFGI_CD             VISMMU_CMD_CFGI_CD
#define CMD_CFGI_CD_ALL         VISMMU_CMD_CFGI_CD_ALL
#define CMD_TLBI_NH_ALL         VISMMU_CMD_TLBI_NH_ALL
#define CMD_TLBI_NH_ASID        VISMMU_CMD_TLBI_NH_ASID
#define CMD_TLBI_NH_VA          VISMMU_CMD_TLBI_NH_VA
#define CMD_TLBI_NH_VAA         VISMMU_CMD_TLBI_NH_VAA
#define CMD_TLBI_EL2_ALL        VISMMU_CMD_TLBI_EL2_ALL
#define CMD_TLBI_S12_VMALL      VISMMU_CMD_TLBI_S12_VMALL
#define CMD_TLBI_S2_IPA         VISMMU_CMD_TLBI_S2_IPA
#define CMD_TLBI_NSNH_ALL       VISMMU_CMD_TLBI_NSNH_ALL
#define CMD_ATC_INV             VISMMU_CMD_ATC_INV
#define CMD_PRI_RESP            VISMMU_CMD_PRI_RESP
#define CMD_RESUME              VISMMU_CMD_RESUME
#define CMD_SYNC                VISMMU_CMD_SYNC

/* Events. */
#define EVT_C_BAD_STREAMID      VI_SMMU_EVT_C_BAD_STREAMID
#define EVT_F_STE_FETCH         VI_SMMU_EVT_F_STE_FETCH
#define EVT_C_BAD_STE           VI_SMMU_EVT_C_BAD_STE
#define EVT_F_STREAM_DISABLED   VI_SMMU_EVT_F_STREAM_DISABLED
#define EVT_C_BAD_SUBSTREAMID   VI_SMMU_EVT_C_BAD_SUBSTREAMID
#define EVT_F_CD_FETCH          VI_SMMU_EVT_F_CD_FETCH
#define EVT_C_BAD_CD            VI_SMMU_EVT_C_BAD_CD
#define EVT_F_WALK_EABT         VI_SMMU_EVT_F_WALK_EABT
#define EVT_F_TRANSLATION       VI_SMMU_EVT_F_TRANSLATION
#define EVT_F_ADDR_SIZE         VI_SMMU_EVT_F_ADDR_SIZE
#define EVT_F_ACCESS            VI_SMMU_EVT_F_ACCESS
#define EVT_F_PERMISSION        VI_SMMU_EVT_F_PERMISSION
#define EVT_TYPE(e)             VI_SMMU_EVT0_TYPE((e)[0])
#define EVT_SSV(e)              (((e)[0] & VI_SMMU_EVT0_SSV) != 0)
#define EVT_SSID(e)             VI_SMMU_EVT0_SSID((e)[0])
#define EVT_SID(e)              VI_SMMU_EVT0_SID((e)[0])
#define EVT_RNW(e)              (((e)[1] & VI_SMMU_EVT1_RNW) != 0)
#define EVT_S2(e)               (((e)[1] & VI_SMMU_EVT1_S2) != 0)
#define EVT_CLASS(e)            VI_SMMU_EVT1_CLASS((e)[1])
#define EVT_ADDR(e)             ((e)[2])
#define EVT_IPA(e)              ((e)[3] & VI_SMMU_EVT3_IPA_MASK)

/* PRI queue records and CMD_PRI_RESP.Resp (IHI 0070 4.5.2). */
#define PRIQ_SID(r)             VI_SMMU_PRIQ0_SID((r)[0])
#define PRIQ_SSID(r)            VI_SMMU_PRIQ0_SSID((r)[0])
#define PRIQ_PRIV(r)            (((r)[0] & VI_SMMU_PRIQ0_PRIV) != 0)
#define PRIQ_EXEC(r)            (((r)[0] & VI_SMMU_PRIQ0_EXEC) != 0)
#define PRIQ_READ(r)            (((r)[0] & VI_SMMU_PRIQ0_READ) != 0)
#define PRIQ_WRITE(r)           (((r)[0] & VI_SMMU_PRIQ0_WRITE) != 0)
#define PRIQ_LAST(r)            (((r)[0] & VI_SMMU_PRIQ0_LAST) != 0)
#define PRIQ_SSV(r)             (((r)[0] & VI_SMMU_PRIQ0_SSV) != 0)
#define PRIQ_PRGI(r)            VI_SMMU_PRIQ1_PRGI((r)[1])
#define PRIQ_ADDR(r)            ((r)[1] & VI_SMMU_PRIQ1_ADDR_MASK)
#define PRI_RESP_FAILURE        0   /* Linux calls it DENY */
#define PRI_RESP_INVALID        1
#define PRI_RESP_SUCCESS        2

/* STE / CD encodings. */
#define STE_CFG_ABORT           VI_SMMU_STE_CFG_ABORT
#define STE_CFG_BYPASS          VI_SMMU_STE_CFG_BYPASS
#define STE_CFG_S1              VI_SMMU_STE_CFG_S1
#define STE_CFG_S2              VI_SMMU_STE_CFG_S2
#define STE_CFG_NESTED          VI_SMMU_STE_CFG_NESTED
#define S1DSS_TERMINATE         VI_SMMU_S1DSS_TERMINATE
#define S1DSS_BYPASS            VI_SMMU_S1DSS_BYPASS
#define S1DSS_SSID0             VI_SMMU_S1DSS_SUBSTREAM0

/* Page-table entry permissions for the builder. */
#define PT_R                    1u
#define PT_W                    2u
#define PT_NOAF                 4u      /* leave the Access flag clear */

typedef struct SmmuDrv {
    TdMachine *m;
    QTestState *qts;
    bool st_2lvl;
    uint64_t strtab;            /* linear table, or the L1 table */
    unsigned sid_bits;
    uint64_t cmdq;
    unsigned cmdq_log2;
    uint32_t cmdq_prod;
    uint64_t evtq;
    unsigned evtq_log2;
    uint32_t evtq_cons;
    uint64_t priq;
    unsigned priq_log2;
    uint32_t priq_cons;
    bool lenient;               /* hostile tests: report, do not assert */
} SmmuDrv;

/* A translation table being built (stage 1 or stage 2). */
typedef struct SmmuPt {
    TdMachine *m;
    bool s2;
    unsigned gshift;            /* 12, 14, 16 */
    unsigned ia;                /* input address bits */
    int start_level;
    uint64_t root;              /* start-level table(s), concatenated */
    uint64_t tables[256];       /* every table page, root first */
    size_t table_size[256];
    unsigned ntables;
} SmmuPt;

/*
 * A test machine: viommu-smmuv3 (with smmu_props, comma-separated), the test
 * device at TD_DEVFN, extra on the command line, and, when cmdq_log2 is not
 * 0, the driver initialised with those queue sizes.
 */
typedef struct SmmuEnv {
    TdMachine *m;
    SmmuDrv *d;
    Td *td;
} SmmuEnv;

SmmuEnv *smmu_env_start(const char *smmu_props, bool st_2lvl, unsigned cmdq_log2,
                        unsigned evtq_log2, const char *extra);
void smmu_env_stop(SmmuEnv *e);

/* The StreamID of the test device: bus 0, TD_DEVFN. */
#define SMMU_TD_SID             TD_DEVFN

/* Stage 1 for the test device: a linear CD table with one CD, tables in pt. */
typedef struct SmmuS1 {
    SmmuPt pt;
    uint64_t cdtab;
    uint64_t cd[8];
} SmmuS1;

void smmu_s1_setup(SmmuEnv *e, SmmuS1 *s, unsigned gshift, uint16_t asid);
/* The next event is type, from the test device's StreamID, and no other one follows. */
void smmu_expect_event(SmmuEnv *e, unsigned type, uint64_t ev[4]);
void smmu_expect_no_event(SmmuEnv *e);
/* What the device reads at iova: 8 bytes copied to scratch_iova, which maps to scratch_pa. */
uint64_t smmu_dma_read(SmmuEnv *e, uint64_t iova, uint64_t scratch_iova, uint64_t scratch_pa);
/* A copy of 8 known bytes from iova src to iova dst must land at pa dst_pa. */
void smmu_check_copy(SmmuEnv *e, uint64_t src, uint64_t src_pa, uint64_t dst, uint64_t dst_pa,
                     uint64_t val);

uint32_t smmu_readl(SmmuDrv *d, uint64_t off);
void smmu_writel(SmmuDrv *d, uint64_t off, uint32_t v);
void smmu_writeq(SmmuDrv *d, uint64_t off, uint64_t v);
uint64_t smmu_alloc(TdMachine *m, size_t size, size_t align);

/* Probe + reset as Linux does; all STEs start as Abort. */
SmmuDrv *smmu_drv_init(TdMachine *m, bool st_2lvl, unsigned cmdq_log2, unsigned evtq_log2);
/* The same, not asserting on CMD_SYNC completion (SMMUs without SYNC MSIs). */
SmmuDrv *smmu_drv_init_lenient(TdMachine *m, unsigned cmdq_log2, unsigned evtq_log2);
void smmu_drv_free(SmmuDrv *d);

/* Commands: queue one, then SYNC (MSI-polled on its own entry); returns CONS.ERR. */
void smmu_cmd(SmmuDrv *d, uint64_t w0, uint64_t w1);
unsigned smmu_sync(SmmuDrv *d);
unsigned smmu_cmd_sync(SmmuDrv *d, uint64_t w0, uint64_t w1);

/* Stream table: address of sid's STE (allocating its L2 table); write + CFGI_STE + SYNC. */
uint64_t smmu_ste_addr(SmmuDrv *d, uint32_t sid);
void smmu_write_ste(SmmuDrv *d, uint32_t sid, const uint64_t ste[8]);
void smmu_ste_s1(uint64_t ste[8], uint64_t cdptr, unsigned s1fmt, unsigned cdmax, unsigned s1dss);
void smmu_ste_s2(uint64_t ste[8], const SmmuPt *s2, uint16_t vmid);
void smmu_cd(uint64_t cd[8], const SmmuPt *s1, uint16_t asid);
void smmu_write_cd(SmmuDrv *d, uint64_t addr, const uint64_t cd[8]);

/*
 * Live STE / CD updates the way Linux's arm-smmu-v3 driver makes them
 * (arm_smmu_write_entry()): from the bits each configuration uses (the rest
 * the SMMU IGNORES, IHI 0070 5.2 / 5.4), either hitless -- set what the
 * current entry does not use, store the one critical qword, clear what the
 * target does not use -- or, when the used bits of two or more qwords
 * differ, breaking: qword 0 (V) to 0, the other qwords, then qword 0.  The
 * rules are the ones that driver applies, restated from the architecture.
 *
 * smmu_entry_update() stores the sequence into the entry at addr one 64-bit
 * word at a time and calls fn after each store (valid: V of the entry now in
 * memory); fn issues the CFGI + CMD_SYNC Linux would (and may DMA).
 * Returns true when the update was hitless.
 */
typedef struct SmmuEntryLayout SmmuEntryLayout;
extern const SmmuEntryLayout smmu_ste_layout, smmu_cd_layout;
typedef void SmmuStoreFn(void *opaque, bool valid);
bool smmu_entry_update(QTestState *qts, const SmmuEntryLayout *l, uint64_t addr,
                       const uint64_t target[8], SmmuStoreFn *fn, void *opaque);

/* PRI queue: allocate, program and enable it (PRIQEN, PRIQ_IRQEN) as Linux does. */
void smmu_priq_init(SmmuDrv *d, unsigned log2);
/* True and the record if one is pending; consumes it (and acknowledges overflow). */
bool smmu_next_ppr(SmmuDrv *d, uint64_t rec[2]);
/* CMD_PRI_RESP + SYNC; returns CONS.ERR. */
unsigned smmu_pri_resp(SmmuDrv *d, uint32_t sid, bool ssv, uint32_t ssid, unsigned prgi,
                       unsigned resp);

/* Event queue: true and the record if one is pending. */
bool smmu_next_event(SmmuDrv *d, uint64_t ev[4]);
unsigned smmu_drain_events(SmmuDrv *d);

/* Page tables. */
void smmu_pt_init(SmmuPt *pt, TdMachine *m, bool s2, unsigned gshift, unsigned ia,
                  int start_level);
/* Map [va, va + size) to pa with PT_* permissions, in pages of the granule. */
void smmu_pt_map(SmmuPt *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned perm);
/* Map one block of the size of a level-'level' entry (e.g. 2 MiB at level 2 with 4K). */
void smmu_pt_map_block(SmmuPt *pt, int level, uint64_t va, uint64_t pa, unsigned perm);
/* Address of the leaf entry of va (it must be mapped). */
uint64_t smmu_pt_leaf(SmmuPt *pt, uint64_t va);
unsigned smmu_pt_sl0(const SmmuPt *pt);  /* STE.S2SL0 for pt->start_level */

#endif
