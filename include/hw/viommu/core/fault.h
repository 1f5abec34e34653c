/*
 * qemu-viommu translation core: the fault record a walk returns.
 *
 * A walk either produces a translation or fills exactly one vi_fault.  The
 * record carries what both devices need to build their event / fault record:
 *   - SMMUv3 events: F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION,
 *     F_WALK_EABT with the S2 bit, CLASS (CD / TT / IN), the IPA of a stage-2
 *     fault and the access attributes (RnW, InD, PnU);
 *   - VT-d fault records: the fault reason is derived from kind + stage +
 *     level (reserved bit, not present, address beyond the AW...).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_FAULT_H
#define VI_CORE_FAULT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Access kinds (a bit set).  A data read sets VI_ACC_R, a write VI_ACC_W, an
 * instruction fetch VI_ACC_X (with or without VI_ACC_R: an instruction fetch
 * needs execute permission only, as in VMSAv8-64; add VI_ACC_R to also
 * require read permission).  VI_ACC_PRIV marks a privileged access; without it
 * the access is unprivileged (user / EL0).
 */
#define VI_ACC_R    0x1u
#define VI_ACC_W    0x2u
#define VI_ACC_X    0x4u
#define VI_ACC_PRIV 0x8u

typedef enum vi_fault_kind {
    VI_FAULT_NONE = 0,
    VI_FAULT_TRANSLATION,   /* invalid descriptor, input address out of range,
                             * table walk disabled (EPDx) */
    VI_FAULT_ADDR_SIZE,     /* table base or output address beyond the
                             * configured output size (OAS/IPS/PS) */
    VI_FAULT_ACCESS,        /* access flag clear and no hardware update */
    VI_FAULT_PERMISSION,    /* permissions do not allow the access */
    VI_FAULT_WALK_EABT,     /* external abort on a table fetch or on the
                             * write-back of a hardware A/D update */
    VI_FAULT_RESERVED,      /* reserved bit set in an entry (VT-d formats) */
    VI_FAULT_BAD_CONFIG,    /* walk configuration not valid (the device
                             * reports it as C_BAD_STE / C_BAD_CD or the VT-d
                             * equivalent; normally caught earlier by the
                             * format's validation function) */
} vi_fault_kind;

/* What was being translated when the fault hit (SMMUv3 event CLASS). */
typedef enum vi_fault_class {
    VI_FAULT_CLASS_IN = 0,  /* the input address of the transaction */
    VI_FAULT_CLASS_TT,      /* a stage-1 translation-table fetch (S1PTW) */
    VI_FAULT_CLASS_CD,      /* a context-descriptor fetch (set by the caller
                             * when it translates a CD address with stage 2) */
} vi_fault_class;

typedef struct vi_fault {
    vi_fault_kind kind;
    uint8_t stage;          /* 1 or 2: the stage whose walk faulted */
    int8_t level;           /* lookup level of the faulting walk (for a stage-2
                             * fault, the stage-2 level); the start level for
                             * faults raised before the first fetch */
    bool s1ptw;             /* stage-2 fault while translating the address of
                             * a stage-1 table entry (class == TT) */
    vi_fault_class cls;
    uint32_t access;        /* VI_ACC_* of the faulting access; for an S1PTW
                             * fault this is the table access (R, or W for a
                             * hardware update), for the rest the original */
    uint64_t addr;          /* input address of the whole translation (VA/IOVA) */
    uint64_t ipa;           /* stage-2 faults: the IPA that faulted */
    uint64_t fetch_pa;      /* WALK_EABT: physical address of the failed access */
    int8_t s1_level;        /* S1PTW faults: the stage-1 level whose table
                             * entry was being fetched; else -128 */
    bool update_lost;       /* VI_FAULT_ACCESS because every compare-and-swap
                             * of a hardware update lost its race (pt.h) */
} vi_fault;

static inline void vi_fault_clear(vi_fault *f)
{
    f->kind = VI_FAULT_NONE;
    f->stage = 0;
    f->level = 0;
    f->s1ptw = false;
    f->cls = VI_FAULT_CLASS_IN;
    f->access = 0;
    f->addr = 0;
    f->ipa = 0;
    f->fetch_pa = 0;
    f->s1_level = -128;
    f->update_lost = false;
}

const char *vi_fault_kind_name(vi_fault_kind kind);

#endif /* VI_CORE_FAULT_H */
