/*
 * qemu-viommu translation core: nested (stage 1 + stage 2) composition.
 * vi_nested_run() is independent of the page-table formats of either stage;
 * the two nestings the devices use (Arm stage 1 in Arm stage 2, VT-d first
 * stage in VT-d second stage) are thin wrappers around it, here too.
 *
 * Rules:
 *   - every stage-1 table access (an IPA) is translated by stage 2 with a
 *     privileged data read (a data write for the write-back of a stage-1
 *     hardware A/D update) before it is made;
 *   - the stage-1 output (an IPA) is translated by stage 2 with the access
 *     of the transaction;
 *   - a stage-2 fault on a stage-1 table access is reported with stage = 2,
 *     s1ptw = true, cls = VI_FAULT_CLASS_TT, ipa = the table-entry IPA,
 *     level = the stage-2 level, s1_level = the stage-1 level being fetched;
 *     a stage-2 fault on the output has cls = VI_FAULT_CLASS_IN and ipa = the
 *     stage-1 output; addr is always the input address of the transaction;
 *   - a stage-1 fault is reported as stage 1 (stage-1 faults take priority
 *     over the stage-2 translation of the output);
 *   - the combined permission is the intersection of both stages, the
 *     mapping size the smaller of the two, the attributes those of stage 1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_NESTED_H
#define VI_CORE_NESTED_H

#include "hw/viommu/core/pt.h"
#include "hw/viommu/core/pt-armv8.h"
#include "hw/viommu/core/pt-vtd-ss.h"
#include "hw/viommu/core/pt-x86-fs.h"

/* A one-stage translation function: a stage 2 as nesting sees it. */
typedef struct vi_stage {
    bool (*translate)(const void *ctx, const vi_mem *mem, uint64_t in,
                      uint32_t access, vi_pt_result *res, vi_fault *f);
    const void *ctx;
} vi_stage;

/*
 * Run the stage-1 walk s1 (set up by a format's walk_init, without a fetch
 * hook) nested in stage 2.  Returns true with *res filled, or false with *f.
 * s2_fetches, if not NULL, receives the number of stage-2 translations made.
 */
bool vi_nested_run(vi_pt_walk *s1, const vi_stage *s2, vi_pt_result *res,
                   vi_fault *f, unsigned *s2_fetches);

/* Arm: VMSAv8-64 stage 1 nested in stage 2 (SMMUv3 STE.Config 0b111). */
bool vi_armv8_nested_translate(const vi_armv8_s1 *s1, const vi_armv8_s2 *s2,
                               const vi_mem *mem, uint64_t va, uint32_t access,
                               vi_pt_result *res, vi_fault *f);

/*
 * VT-d (PASID entry PGTT 011b): the first stage's table pointer, every
 * first-stage table access and the first-stage output go through the second
 * stage.  s2_fetches may be NULL.
 */
bool vi_vtd_nested_translate(const vi_x86_fs_cfg *fs, const vi_vtd_ss_cfg *ss,
                             const vi_mem *mem, uint64_t va, uint32_t access,
                             vi_pt_result *res, vi_fault *f, unsigned *s2_fetches);

#endif /* VI_CORE_NESTED_H */
