/*
 * qemu-viommu translation core: the one bit-field helper.
 *
 * Architected structures (page-table descriptors, STE/CD, VT-d root, context
 * and PASID entries) are handled as little-endian 64-bit words; a field is
 * named by its word and its bit range [hi:lo] inside it, as the specs print
 * them.  Every core header and file extracts and masks fields with these two,
 * so there is one spelling of "bits hi..lo" for both IOMMUs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_BITS_H
#define VI_CORE_BITS_H

#include <stdint.h>

/* Mask covering bits [hi:lo] (63 >= hi >= lo); a constant expression. */
#define VI_MASK(hi, lo)  ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* Bits [hi:lo] of v, right-aligned (63 >= hi >= lo). */
static inline uint64_t vi_field(uint64_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & (~0ull >> (63 - (hi - lo)));
}

#endif /* VI_CORE_BITS_H */
