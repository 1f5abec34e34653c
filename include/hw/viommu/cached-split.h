/*
 * Page-crossing accesses through a MemoryRegionCache over an IOMMU region
 *
 * Included by QEMU's system/physmem.c (a graft hook, scripts/hooks/physmem.sh)
 * and called at the top of address_space_{read,write}_cached_slow().
 *
 * Why: a cache over an IOMMU region (virtio's vring caches with
 * iommu_platform=on) translates an access once, at its first byte, and
 * QEMU 10.0's slow path then carries on in the same target region
 * (address_space_{read,write}_continue_cached() only add the length done):
 * the rest of an access that crosses an IOMMU page goes to the next
 * *physical* page, not to the page the IOMMU maps next.  Linux allocates a
 * vring with dma_alloc_coherent(), whose pages are contiguous in IOVA space
 * only, and an 8-byte used-ring element is only 4-byte aligned: one element
 * in 512 straddles two pages, and its second half overwrote whatever the
 * physical page after the first one held (with Debian's 6.12 arm64 kernel on
 * viommu-smmuv3: the start of virtio-net's avail ring, which then read 0).
 *
 * Splitting such an access at the 4 KiB boundaries of the IOMMU's input
 * address space (the smallest granule of every IOMMU model here) gives each
 * part its own translation.  Accesses within one 4 KiB page, and caches that
 * are not over an IOMMU, take QEMU's own path unchanged.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_CACHED_SPLIT_H
#define HW_VIOMMU_CACHED_SPLIT_H

#include "exec/memory.h"

#define VIOMMU_CACHED_SPLIT_PAGE    4096ull

/*
 * If the access [addr, addr + len) of cache needs splitting, do it in parts
 * (each through the slow path again), store the combined result in *res and
 * return true; else return false and let the caller do it.
 */
static inline bool viommu_cached_split(MemoryRegionCache *cache, hwaddr addr,
                                       void *buf, hwaddr len, bool is_write,
                                       MemTxResult *res)
{
    /* The IOMMU's input address of byte addr of the cache. */
    hwaddr in = cache->xlat + addr;
    uint8_t *p = buf;

    if (len < 2 || !memory_region_get_iommu(cache->mrs.mr) ||
        !((in ^ (in + len - 1)) & ~(VIOMMU_CACHED_SPLIT_PAGE - 1))) {
        return false;
    }
    *res = MEMTX_OK;
    while (len) {
        hwaddr n = VIOMMU_CACHED_SPLIT_PAGE -
                   ((cache->xlat + addr) & (VIOMMU_CACHED_SPLIT_PAGE - 1));

        n = MIN(n, len);
        *res |= is_write ? address_space_write_cached_slow(cache, addr, p, n)
                         : address_space_read_cached_slow(cache, addr, p, n);
        addr += n;
        p += n;
        len -= n;
    }
    return true;
}

#endif
