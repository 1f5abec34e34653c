/*
 * qemu-viommu translation core: the VT-d first-stage format, x86-64 IA-32e
 * paging as VT-d applies it to DMA requests with a PASID (VT-d spec rev 4,
 * 3.6 and 9.7).
 *
 * Supported: 4-level (48-bit canonical input) or 5-level (57-bit canonical
 * input), 4 KiB pages, 2 MiB pages, 1 GiB pages when FL1GP, U/S and R/W (AND
 * over all levels), XD (any level), WPE (supervisor writes honour R/W),
 * supervisor instruction fetches never allowed from user pages, A flag set
 * in every entry used and D in the leaf on a write (compare-and-swap), EA
 * (bit 10) set with A when EAFE.  Geometry and level numbering: pt-x86.h.
 *
 * Faults (vi_fault.kind):
 *   VI_FAULT_ADDR_SIZE   input not canonical (only ever raised by walk_init);
 *   VI_FAULT_TRANSLATION entry not present (P = 0);
 *   VI_FAULT_RESERVED    reserved bit set, address bits at or above the
 *                        output width (haw) set, PS where no large page is
 *                        allowed;
 *   VI_FAULT_PERMISSION  R/W/X refused;
 *   VI_FAULT_ACCESS      a user (unprivileged) request reached a supervisor
 *                        page (U/S = 0 at some level), which VT-d reports
 *                        with its own fault reason;
 *   VI_FAULT_WALK_EABT   a table fetch or A/D write-back failed.
 * vi_vtd_walk_fault_reason() (vtd-cfg.h) turns a vi_fault into the VT-d
 * fault reason.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_PT_X86_FS_H
#define VI_CORE_PT_X86_FS_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/pt-x86.h"

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

/* Is the configuration usable (levels / widths in range)?  */
bool vi_x86_fs_cfg_ok(const vi_x86_fs_cfg *c);

/*
 * Set up a walk for vi_pt_run() / vi_nested_run().  False with *f filled
 * when the input faults before any fetch (or the configuration is bad:
 * VI_FAULT_BAD_CONFIG).  The cfg must outlive the walk.
 */
bool vi_x86_fs_walk_init(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f);

/* One-stage translation: true with *res, or false with *f. */
bool vi_x86_fs_translate(const vi_x86_fs_cfg *c, const vi_mem *mem, uint64_t va,
                         uint32_t access, vi_pt_result *res, vi_fault *f);

#endif /* VI_CORE_PT_X86_FS_H */
