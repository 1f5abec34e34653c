/*
 * qemu-viommu translation core: the VT-d second-stage format (VT-d spec
 * rev 4, 3.7 and 9.8).
 *
 * Supported: 3, 4 or 5 levels (AW 39/48/57), R/W/X (X checked when SLEE;
 * AND over all levels), 2 MiB / 1 GiB pages as CAP.SLLPS allows, A/D updates
 * when SLADE (SSADE since rev 4: A on every entry used, D on the leaf of a
 * write; the results are then dirty_tracked, pt.h), reserved bits.  Geometry and level numbering: pt-x86.h.
 *
 * Faults (vi_fault.kind):
 *   VI_FAULT_ADDR_SIZE   input beyond the AW (only ever raised by walk_init);
 *   VI_FAULT_TRANSLATION entry not present (R = W = 0);
 *   VI_FAULT_RESERVED    reserved bit set, address bits at or above the
 *                        output width (haw) set, PS where no large page is
 *                        allowed;
 *   VI_FAULT_PERMISSION  R/W/X refused;
 *   VI_FAULT_WALK_EABT   a table fetch or A/D write-back failed.
 * vi_vtd_walk_fault_reason() (vtd-cfg.h) turns a vi_fault into the VT-d
 * fault reason.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_PT_VTD_SS_H
#define VI_CORE_PT_VTD_SS_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/viommu/core/pt-x86.h"

/* Second-stage entry bits. */
#define VI_VTD_SS_R         (1ull << 0)
#define VI_VTD_SS_W         (1ull << 1)
#define VI_VTD_SS_X         (1ull << 2)
#define VI_VTD_SS_PS        (1ull << 7)
#define VI_VTD_SS_A         (1ull << 8)
#define VI_VTD_SS_D         (1ull << 9)
#define VI_VTD_SS_SNP       (1ull << 11)

typedef struct vi_vtd_ss_cfg {
    uint64_t ptptr;     /* SLPTPTR */
    uint8_t aw_bits;    /* 39, 48 or 57: 3, 4 or 5 levels */
    uint8_t haw;        /* output / table address width in bits (<= 52) */
    uint8_t sllps;      /* CAP.SLLPS: bit 0 2 MiB pages, bit 1 1 GiB pages */
    bool slee;          /* X is checked (execute requests) */
    bool slade;         /* A/D flags are set by hardware (PASID entry SSADE) */
} vi_vtd_ss_cfg;

/* Is the configuration usable (levels / widths in range)?  */
bool vi_vtd_ss_cfg_ok(const vi_vtd_ss_cfg *c);

/*
 * Set up a walk for vi_pt_run().  False with *f filled when the input
 * faults before any fetch (or the configuration is bad:
 * VI_FAULT_BAD_CONFIG).  The cfg must outlive the walk.
 */
bool vi_vtd_ss_walk_init(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_walk *w, vi_pt_result *res,
                         vi_fault *f);

/* One-stage translation: true with *res, or false with *f. */
bool vi_vtd_ss_translate(const vi_vtd_ss_cfg *c, const vi_mem *mem, uint64_t gpa,
                         uint32_t access, vi_pt_result *res, vi_fault *f);

#endif /* VI_CORE_PT_VTD_SS_H */
