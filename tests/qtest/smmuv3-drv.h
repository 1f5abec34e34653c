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

#define SMMU_BASE               0x09050000ull
#define SMMU_PAGE1              0x10000ull

/* Registers. */
#define SMMU_IDR0               0x00
#define SMMU_IDR1               0x04
#define SMMU_IDR3               0x0c
#define SMMU_IDR5               0x14
#define SMMU_AIDR               0x1c
#define SMMU_CR0                0x20
#define SMMU_CR0ACK             0x24
#define SMMU_CR1                0x28
#define SMMU_CR2                0x2c
#define SMMU_GBPA               0x44
#define SMMU_IRQ_CTRL           0x50
#define SMMU_IRQ_CTRLACK        0x54
#define SMMU_GERROR             0x60
#define SMMU_GERRORN            0x64
#define SMMU_GERROR_IRQ_CFG0    0x68
#define SMMU_GERROR_IRQ_CFG1    0x70
#define SMMU_STRTAB_BASE        0x80
#define SMMU_STRTAB_BASE_CFG    0x88
#define SMMU_CMDQ_BASE          0x90
#define SMMU_CMDQ_PROD          0x98
#define SMMU_CMDQ_CONS          0x9c
#define SMMU_EVENTQ_BASE        0xa0
#define SMMU_EVENTQ_PROD        0x100a8
#define SMMU_EVENTQ_CONS        0x100ac
#define SMMU_EVENTQ_IRQ_CFG0    0xb0
#define SMMU_EVENTQ_IRQ_CFG1    0xb8
#define SMMU_PRIQ_BASE          0xc0
#define SMMU_PRIQ_PROD          0x100c8
#define SMMU_PRIQ_CONS          0x100cc
#define SMMU_PRIQ_IRQ_CFG0      0xd0
#define SMMU_PRIQ_IRQ_CFG1      0xd8
#define SMMU_PRIQ_IRQ_CFG2      0xdc

#define CR0_SMMUEN              (1u << 0)
#define CR0_PRIQEN              (1u << 1)
#define CR0_EVENTQEN            (1u << 2)
#define CR0_CMDQEN              (1u << 3)
#define CR2_RECINVSID           (1u << 1)
#define GBPA_UPDATE             (1u << 31)
#define GBPA_ABORT              (1u << 20)
#define IRQ_CTRL_GERROR         (1u << 0)
#define IRQ_CTRL_PRIQ           (1u << 1)
#define IRQ_CTRL_EVENTQ         (1u << 2)
#define GERROR_CMDQ_ERR         (1u << 0)
#define GERROR_PRIQ_ABT_ERR     (1u << 3)
#define Q_OVFLG                 (1u << 31)
#define CMDQ_CONS_ERR(c)        (((c) >> 24) & 0x7f)
#define CERROR_ILL              1
#define CERROR_ABT              2

/* Commands. */
#define CMD_PREFETCH_CONFIG     0x01
#define CMD_CFGI_STE            0x03
#define CMD_CFGI_STE_RANGE      0x04
#define CMD_CFGI_CD             0x05
#define CMD_CFGI_CD_ALL         0x06
#define CMD_TLBI_NH_ALL         0x10
#define CMD_TLBI_NH_ASID        0x11
#define CMD_TLBI_NH_VA          0x12
#define CMD_TLBI_NH_VAA         0x13
#define CMD_TLBI_EL2_ALL        0x20
#define CMD_TLBI_S12_VMALL      0x28
#define CMD_TLBI_S2_IPA         0x2a
#define CMD_TLBI_NSNH_ALL       0x30
#define CMD_ATC_INV             0x40
#define CMD_PRI_RESP            0x41
#define CMD_RESUME              0x44
#define CMD_SYNC                0x46

/* Events. */
#define EVT_C_BAD_STREAMID      0x02
#define EVT_F_STE_FETCH         0x03
#define EVT_C_BAD_STE           0x04
#define EVT_F_STREAM_DISABLED   0x06
#define EVT_C_BAD_SUBSTREAMID   0x08
#define EVT_F_CD_FETCH          0x09
#define EVT_C_BAD_CD            0x0a
#define EVT_F_WALK_EABT         0x0b
#define EVT_F_TRANSLATION       0x10
#define EVT_F_ADDR_SIZE         0x11
#define EVT_F_ACCESS            0x12
#define EVT_F_PERMISSION        0x13
#define EVT_TYPE(e)             ((unsigned)((e)[0] & 0xff))
#define EVT_SSV(e)              (((e)[0] >> 11) & 1)
#define EVT_SSID(e)             ((uint32_t)(((e)[0] >> 12) & 0xfffff))
#define EVT_SID(e)              ((uint32_t)((e)[0] >> 32))
#define EVT_RNW(e)              (((e)[1] >> 35) & 1)
#define EVT_S2(e)               (((e)[1] >> 39) & 1)
#define EVT_CLASS(e)            (((e)[1] >> 40) & 3)
#define EVT_ADDR(e)             ((e)[2])
#define EVT_IPA(e)              ((e)[3] & 0x00fffffffffff000ull)

/* PRI queue records (IHI 0070 chapter 8) and CMD_PRI_RESP.Resp (4.5.2). */
#define PRIQ_SID(r)             ((uint32_t)(r)[0])
#define PRIQ_SSID(r)            ((uint32_t)(((r)[0] >> 32) & 0xfffff))
#define PRIQ_PRIV(r)            (((r)[0] >> 58) & 1)
#define PRIQ_EXEC(r)            (((r)[0] >> 59) & 1)
#define PRIQ_READ(r)            (((r)[0] >> 60) & 1)
#define PRIQ_WRITE(r)           (((r)[0] >> 61) & 1)
#define PRIQ_LAST(r)            (((r)[0] >> 62) & 1)
#define PRIQ_SSV(r)             (((r)[0] >> 63) & 1)
#define PRIQ_PRGI(r)            ((unsigned)((r)[1] & 0x1ff))
#define PRIQ_ADDR(r)            ((r)[1] & ~0xfffull)
#define PRI_RESP_FAILURE        0   /* Linux calls it DENY */
#define PRI_RESP_INVALID        1
#define PRI_RESP_SUCCESS        2

/* STE / CD encodings. */
#define STE_CFG_ABORT           0
#define STE_CFG_BYPASS          4
#define STE_CFG_S1              5
#define STE_CFG_S2              6
#define STE_CFG_NESTED          7
#define S1DSS_TERMINATE         0
#define S1DSS_BYPASS            1
#define S1DSS_SSID0             2

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
