/*
 * qemu-viommu translation core: the configuration cache, a bounded cache of
 * decoded configuration structures shared by the SMMUv3 and VT-d models.
 *
 * Two kinds of entries, each in its own fixed-size table:
 *   - device entries, keyed by stream / source-id (sid): a decoded STE
 *     (vi_smmu_ste) or context entry (vi_vtd_ctx), with a tag the VT-d
 *     domain-selective invalidation matches (legacy context entry: its DID);
 *   - substream entries, keyed by (sid, ssid): a decoded CD (vi_smmu_cd) or
 *     PASID-table entry (vi_vtd_pe), with a tag (VT-d: the PASID entry's
 *     DID).  ssid is the index of the structure used: the SMMU CD index
 *     (0 for a stream without substreams and for S1DSS = substream0), the
 *     VT-d PASID whose entry was used (RID_PASID for requests without PASID).
 * Payloads are opaque bytes of the sizes given at creation; lookups copy
 * them out, so nothing points into the cache after a call returns.
 *
 * Bounded: the tables are set-associative (4 ways, sets chosen by a hash of
 * the key) with a fixed number of entries chosen at creation; a full set
 * evicts its least recently used entry.  Memory never grows after creation
 * and no guest action can make it do so.
 *
 * Invalidation scopes (each removes exactly the entries its scope names):
 *   vi_cfg_cache_inv_all            everything (SMMU CFGI_ALL, VT-d global
 *                                   context-cache invalidation)
 *   vi_cfg_cache_inv_sid            device entry of sid + all its substream
 *                                   entries (CFGI_STE; VT-d device-selective
 *                                   without function mask)
 *   vi_cfg_cache_inv_sid_range      the same for sid in [first, last]
 *                                   (CFGI_STE_RANGE)
 *   vi_cfg_cache_inv_sid_mask       the same for every sid equal to sid on the
 *                                   bits outside mask (VT-d device-selective
 *                                   with function mask FM: mask 0, 4, 6, 7)
 *   vi_cfg_cache_inv_dev_tag        device entries with that tag + substream
 *                                   entries inserted with that dev_tag (VT-d
 *                                   domain-selective context-cache
 *                                   invalidation)
 *   vi_cfg_cache_inv_ssid           substream entry (sid, ssid) (CFGI_CD, leaf
 *                                   or not: L1CD descriptors are not cached,
 *                                   so both remove the same entry)
 *   vi_cfg_cache_inv_ssid_all       all substream entries of sid, keeping the
 *                                   device entry (CFGI_CD_ALL)
 *   vi_cfg_cache_inv_sub_tag        substream entries with that tag (VT-d
 *                                   PASID-cache domain-selective)
 *   vi_cfg_cache_inv_sub_tag_ssid   substream entries with that tag and ssid
 *                                   (VT-d PASID-cache PASID-selective)
 *   vi_cfg_cache_inv_sub_all        every substream entry (VT-d global
 *                                   PASID-cache invalidation)
 * An entry inserted with tag VI_CFG_TAG_ANY (e.g. a scalable-mode context
 * entry, which has no DID) is removed by every tag-based scope.
 *
 * Invalidation racing a miss: a translation that misses, reads guest memory
 * and then inserts could insert a decode made from memory read before an
 * invalidation that completed in between.  To prevent that, take
 * vi_cfg_cache_gen() before reading the guest structures and pass it to the
 * insert: every invalidation bumps the generation and an insert carrying an
 * older one is dropped.
 *
 * Threads: no locking of its own unless given lock callbacks
 * (vi_cfg_cache_set_lock); with them every public function runs under the
 * lock (lookups too: a hit updates the LRU state).  Without them the caller
 * serialises all calls on one cache.  Translations run from vCPU and I/O
 * threads, so the QEMU glue passes a QemuMutex.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_CFG_CACHE_H
#define VI_CORE_CFG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VI_CFG_TAG_ANY          UINT32_MAX
#define VI_CFG_CACHE_WAYS       4
#define VI_CFG_CACHE_MAX_ENTRIES (1u << 20)     /* per table */
#define VI_CFG_CACHE_MAX_PAYLOAD 4096           /* bytes per entry */

typedef struct vi_cfg_cache vi_cfg_cache;

typedef struct vi_cfg_cache_stats {
    uint64_t hits, misses;
    uint64_t inserts;
    uint64_t evictions;     /* valid entries replaced to make room */
    uint64_t stale_drops;   /* inserts dropped: an invalidation happened */
    uint64_t invalidated;   /* entries removed by invalidations */
} vi_cfg_cache_stats;

/*
 * A cache of at most dev_entries device entries of dev_size bytes and
 * sub_entries substream entries of sub_size bytes (each count rounded up to
 * a power of two, at least VI_CFG_CACHE_WAYS, at most
 * VI_CFG_CACHE_MAX_ENTRIES).  NULL if a size is 0 or too large, or if memory
 * runs out.
 */
vi_cfg_cache *vi_cfg_cache_new(uint32_t dev_entries, size_t dev_size,
                               uint32_t sub_entries, size_t sub_size);
void vi_cfg_cache_free(vi_cfg_cache *c);
void vi_cfg_cache_set_lock(vi_cfg_cache *c, void (*lock)(void *),
                           void (*unlock)(void *), void *opaque);

/* Bytes of memory the cache uses (constant after creation). */
size_t vi_cfg_cache_mem_bytes(const vi_cfg_cache *c);
uint32_t vi_cfg_cache_dev_capacity(const vi_cfg_cache *c);
uint32_t vi_cfg_cache_sub_capacity(const vi_cfg_cache *c);
uint32_t vi_cfg_cache_dev_count(vi_cfg_cache *c);
uint32_t vi_cfg_cache_sub_count(vi_cfg_cache *c);
void vi_cfg_cache_get_stats(vi_cfg_cache *c, vi_cfg_cache_stats *stats);

/* Current generation: take it before reading guest structures on a miss. */
uint64_t vi_cfg_cache_gen(vi_cfg_cache *c);

/* Lookups: true and the payload copied to out (dev_size / sub_size bytes). */
bool vi_cfg_cache_lookup_dev(vi_cfg_cache *c, uint32_t sid, void *out);
bool vi_cfg_cache_lookup_sub(vi_cfg_cache *c, uint32_t sid, uint32_t ssid, void *out);

/*
 * Inserts (replacing an entry with the same key).  False, and nothing
 * stored, if an invalidation happened since gen was taken.
 */
bool vi_cfg_cache_insert_dev(vi_cfg_cache *c, uint32_t sid, uint32_t tag,
                             const void *payload, uint64_t gen);
/*
 * dev_tag: the tag of the device entry the substream entry was reached
 * through (so a domain-selective context-cache invalidation also removes
 * substream entries whose device entry was already evicted).
 */
bool vi_cfg_cache_insert_sub(vi_cfg_cache *c, uint32_t sid, uint32_t ssid,
                             uint32_t dev_tag, uint32_t tag, const void *payload,
                             uint64_t gen);

/* Invalidations (see the table above). */
void vi_cfg_cache_inv_all(vi_cfg_cache *c);
void vi_cfg_cache_inv_sid(vi_cfg_cache *c, uint32_t sid);
void vi_cfg_cache_inv_sid_range(vi_cfg_cache *c, uint32_t first, uint32_t last);
void vi_cfg_cache_inv_sid_mask(vi_cfg_cache *c, uint32_t sid, uint32_t mask);
void vi_cfg_cache_inv_dev_tag(vi_cfg_cache *c, uint32_t tag);
void vi_cfg_cache_inv_ssid(vi_cfg_cache *c, uint32_t sid, uint32_t ssid);
void vi_cfg_cache_inv_ssid_all(vi_cfg_cache *c, uint32_t sid);
void vi_cfg_cache_inv_sub_tag(vi_cfg_cache *c, uint32_t tag);
void vi_cfg_cache_inv_sub_tag_ssid(vi_cfg_cache *c, uint32_t tag, uint32_t ssid);
void vi_cfg_cache_inv_sub_all(vi_cfg_cache *c);

/* VT-d context-cache function mask (FM field, 0..3) as a sid mask. */
static inline uint32_t vi_cfg_vtd_fm_mask(unsigned fm)
{
    static const uint8_t masks[4] = { 0, 4, 6, 7 };

    return masks[fm & 3];
}

#endif /* VI_CORE_CFG_CACHE_H */
