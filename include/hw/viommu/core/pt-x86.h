/*
 * qemu-viommu translation core: the Intel VT-d page-table formats.
 *
 *   - first stage ("FS"): x86-64 IA-32e paging as VT-d applies it to DMA
 *     requests with a PASID (VT-d spec rev 4, 3.6 and 9.7): 4-level (48-bit
 *     canonical input) or 5-level (57-bit canonical input), 4 KiB pages,
 *     2 MiB pages, 1 GiB pages when FL1GP, U/S and R/W (AND over all levels),
 *     XD (any level), WPE (supervisor writes honour R/W), supervisor
 *     instruction fetches never allowed from user pages, A flag set in every
 *     entry used and D in the leaf on a write (compare-and-swap), EA (bit 10)
 *     set with A when EAFE;
 *   - second stage ("SS"): the VT-d second-stage format (9.8): 3, 4 or
 *     5 levels (AW 39/48/57), R/W/X (X checked when SLEE; AND over all
 *     levels), 2 MiB / 1 GiB pages as CAP.SLLPS allows, A/D updates when
 *     SLADE, reserved bits.
 *
 * Levels are numbered the x86 way: the leaf level of a 4 KiB page is 1, a
 * 2 MiB page 2, a 1 GiB page 3; the top level is 4 or 5 (3 for a 39-bit
 * second stage).  An entry at level L maps 2^(12 + 9 (L - 1)) bytes.
 *
 * Faults (vi_fault.kind) and how VT-d reports them:
 *   VI_FAULT_ADDR_SIZE   before any fetch: FS input not canonical, SS input
 *                        beyond the AW (only ever raised by walk_init);
 *   VI_FAULT_TRANSLATION entry not present (FS P = 0, SS R = W = 0);
 *   VI_FAULT_RESERVED    reserved bit set, address bits at or above the
 *                        output width (haw) set, PS where no large page is
 *                        allowed;
 *   VI_FAULT_PERMISSION  R/W/X refused;
 *   VI_FAULT_ACCESS      FS only: a user (unprivileged) request reached a
 *                        supervisor page (U/S = 0 at some level), which VT-d
 *                        reports with its own fault reason;
 *   VI_FAULT_WALK_EABT   a table fetch or A/D write-back failed.
 * vi_x86_vtd_reason() turns a vi_fault into the VT-d fault reason.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_PT_X86_H
#define VI_CORE_PT_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/nested.h"
#include "hw/viommu/core/pt.h"
#include "hw/viommu/core/vtd-defs.h"

/* First-stage entry bits. */
#define VI_X86_FS_P         (1ull << 0)
#define VI_X86_FS_RW        (1ull << 1)
#define VI_X86_FS_US        (1ull << 2)
#define VI_X86_FS_PWT       (1ull << 3)
#define VI_X86_FS_PCD       (1ull << 4)
#define VI_X86_FS_A         (1ull << 5)
#define VI_X86_FS_D         (1ull << 6)
#define VI_X86_FS_PS        (1ull << 7)
#define VI_X86_FS_G         (1ull << 8)
#define VI_X86_FS_EA        (1ull << 10)
#define VI_X86_FS_XD        (1ull << 63)

/* Second-stage entry bits. */
#define VI_VTD_SS_R         (1ull << 0)
#define VI_VTD_SS_W         (1ull << 1)
#define VI_VTD_SS_X         (1ull << 2)
#define VI_VTD_SS_PS        (1ull << 7)
#define VI_VTD_SS_A         (1ull << 8)
#define VI_VTD_SS_D         (1ull << 9)
#define VI_VTD_SS_SNP       (1ull << 11)

/* Entry address field: bits 51:12 (bits at and above haw are reserved). */
#define VI_X86_ADDR_MASK    0x000ffffffffff000ull

/* vi_pt_result.attrs for these formats: the leaf's bits [11:0]. */
#define VI_X86_ATTRS(e)     ((uint32_t)((e) & 0xfff))

typedef struct vi_x86_fs_cfg {
    uint64_t ptptr;     /* FSPTPTR (a GPA when nested) */
    uint8_t levels;     /* 4 or 5 */
    uint8_t haw;        /* output / table address width in bits (<= 52):
                         * address bits at and above it are reserved; when
                         * nested, the second stage's AW */
    bool fl1gp;         /* 1 GiB pages (CAP.FL1GP) */
    bool wpe;           /* write protect enable (PASID entry WPE) */
    bool eafe;          /* extended accessed flag (PASID entry EAFE) */
} vi_x86_fs_cfg;

typedef struct vi_vtd_ss_cfg {
    uint64_t ptptr;     /* SLPTPTR */
    uint8_t aw_bits;    /* 39, 48 or 57: 3, 4 or 5 levels */
    uint8_t haw;        /* output / table address width in bits (<= 52) */
    uint8_t sllps;      /* CAP.SLLPS: bit 0 2 MiB pages, bit 1 1 GiB pages */
    bool slee;          /* X is checked (execute requests) */
    bool slade;         /* A/D flags are set by hardware */
} vi_vtd_ss_cfg;

/* Is the configuration usable (levels / widths in range)?  */
bool vi_x86_fs_cfg_ok(const vi_x86_fs_cfg *c);
bool vi_vtd_ss_cfg_ok(const vi_vtd_ss_cfg *c);

/*
 * Set up a walk for vi_pt_run() / vi_nested_run().  False with *f filled
 * when the input faults before any fetch (or the configuration is bad:
 * VI_FAULT_BAD_CONFIG).  The cfg must outlive the walk.
 */
bool vi_x86_fs_walk_init(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f);
bool vi_vtd_ss_walk_init(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f);

/* One-stage translations: true with *res, or false with *f. */
bool vi_x86_fs_translate(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_result *res, vi_fault *f);
bool vi_vtd_ss_translate(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_result *res, vi_fault *f);

/*
 * Nested (PGTT 011b): the first stage's table pointer, every first-stage
 * table access and the first-stage output go through the second stage
 * (nested.h gives the fault reporting).  s2_fetches may be NULL.
 */
bool vi_vtd_nested_translate(const vi_x86_fs_cfg *fs, const vi_vtd_ss_cfg *ss,
                             const vi_mem *mem, uint64_t va, uint32_t access,
                             vi_pt_result *res, vi_fault *f, unsigned *s2_fetches);

/* Which translation produced a fault, for vi_x86_vtd_reason(). */
typedef enum vi_vtd_xlate_kind {
    VI_VTD_XLATE_LEGACY_SS,     /* legacy mode, second stage */
    VI_VTD_XLATE_SM_FS,         /* scalable mode, first stage only */
    VI_VTD_XLATE_SM_SS,         /* scalable mode, second stage only */
    VI_VTD_XLATE_SM_NESTED,     /* scalable mode, nested */
} vi_vtd_xlate_kind;

/* VT-d fault reasons of page walks (the rest are in vtd-defs.h). */
#define VI_VTD_FR_FS_ACCESS         0x70    /* error fetching an FS entry */
#define VI_VTD_FR_FS_NOT_PRESENT    0x71
#define VI_VTD_FR_FS_RSVD           0x72
#define VI_VTD_FR_FS_PTPTR_ACCESS   0x73    /* error fetching the FS root table */
#define VI_VTD_FR_NEST_FS_ADDR_AW   0x74    /* nested: FS table GPA beyond SS AW */
#define VI_VTD_FR_NEST_FSPTR_READ   0x75    /* nested: SS refuses reading the FS root */
#define VI_VTD_FR_NEST_FS_READ      0x76    /* nested: SS refuses reading an FS entry */
#define VI_VTD_FR_NEST_FS_WRITE     0x77    /* nested: SS refuses the FS A/D write */
#define VI_VTD_FR_SS_ACCESS         0x78    /* error fetching an SS entry */
#define VI_VTD_FR_SS_NOT_PRESENT    0x79
#define VI_VTD_FR_SS_RSVD           0x7a
#define VI_VTD_FR_FS_NON_CANONICAL  0x80
#define VI_VTD_FR_FS_USER           0x81    /* user request, U/S = 0 */
#define VI_VTD_FR_EXEC              0x82
#define VI_VTD_FR_SS_ADDR_AW        0x83    /* input beyond the SS AW */
#define VI_VTD_FR_SS_OUT_HAW        0x84
#define VI_VTD_FR_SM_WRITE          0x85
#define VI_VTD_FR_SM_READ           0x86

/* The VT-d fault reason of a page-walk fault of a translation of kind k. */
unsigned vi_x86_vtd_reason(const vi_fault *f, vi_vtd_xlate_kind k);

#endif /* VI_CORE_PT_X86_H */
