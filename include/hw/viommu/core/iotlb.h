/*
 * qemu-viommu translation core: the IOTLB, a bounded cache of final
 * translations shared by the SMMUv3 and VT-d models.
 *
 * Entries: a translation of one naturally aligned input block (4 KiB up to
 * 2^52 bytes: every page and block size of every format) tagged by
 *   (StreamID / source-id, SubstreamID / PASID, ASID / DID, VMID, stage)
 * with its output base, size, permissions (VI_PERM_*, both privilege levels),
 * attributes, leaf level(s), global flag and, for nested entries, the IPA.
 * The device glue decides what it puts in each tag field (e.g. VT-d: DID in
 * asid, PASID in ssid, vmid 0).
 *
 * Size: fixed at creation from a maximum number of entries; memory never
 * grows afterwards (vi_iotlb_mem_bytes() <= vi_iotlb_mem_bound(max)).  It is
 * set-associative (8 ways, the set chosen by a hash of the input block,
 * block size, VMID and ASID); a full set evicts its least recently used
 * entry, it never flushes anything else.  An entry takes 32 bytes (plus 8
 * for the IPA of nested entries, and a 16-byte header per set of 8 holding
 * the ways' fingerprints and LRU order), so a hit reads one small header and
 * one cache line; the invalidation index adds 96 bytes per entry,
 * never read by lookups.
 *
 * Lookups are a hash probe per block size currently present in the cache
 * (a bit mask keeps track), so a hit costs one probe in the common case of
 * a single block size.
 *
 * Invalidation cost follows what matches, not what is cached: entries are
 * indexed by domain (VMID, ASID), by SSID within it, and nested ones by IPA
 * block.  A scope naming an ASID visits that ASID's domains (one naming an
 * SSID too, that SSID's entries), one naming a VMID the domains of that
 * VMID; with an address range a domain is probed set by set for the blocks
 * of the range, or its entries are walked when there are fewer of them;
 * an IPA range finds nested entries through their IPA chains.  So a
 * page-selective invalidation is a few set probes and a domain-selective one
 * visits that domain's entries, however full the IOTLB is with others;
 * only scopes naming neither ASID nor VMID (by stream, by stage) visit every
 * domain, and "all" resets the arrays.
 *
 * Invalidation: one function taking a vi_iotlb_scope, a set of field
 * matches; every scope the architectures define is a combination:
 *   all                       match = 0
 *   by VMID                   VMID                 (SMMU TLBI_S12_VMALL)
 *   by ASID (+VMID)           ASID | VMID          (TLBI_NH_ASID)
 *   by address, ASID          ADDR | ASID | VMID   (TLBI_NH_VA, range)
 *   by address, any ASID      ADDR | VMID          (TLBI_NH_VAA)
 *   by IPA                    IPA | VMID           (TLBI_S2_IPA)
 *   by PASID / SSID           SSID (| ASID for DID)   (VT-d PASID-selective)
 *   by domain                 ASID (= DID)          (VT-d domain-selective)
 *   by stream / source-id     SID
 * and any of them can be restricted to some stages (scope.stages: SMMU
 * TLBI_NH_* use stage 1 + nested, TLBI_S2_IPA stage 2 + nested).
 * plus a TTL level filter (VI_IOTLB_M_LEVEL) and the leaf-only flag.
 *
 * Rules of matching (each tested):
 *   - global entries (vi_pt_result.global, Arm nG == 0) ignore the ASID and
 *     SSID fields of a scope that has an address (ADDR); a scope with ASID or
 *     SSID but no address does not remove global entries (Arm TLBI by ASID
 *     and VT-d PASID-selective invalidation keep them); unless the scope sets
 *     tagged_global, which compares their ASID and SSID like any entry's
 *     (VT-d: G only exempts first-stage entries from non-global
 *     PASID-selective invalidation, 6.5.2.4; every DID-selective scope
 *     removes them, 6.5.2.3);
 *   - ADDR matches entries whose input block overlaps [addr, addr + len);
 *   - IPA matches stage-2 entries whose input block overlaps the range and
 *     nested entries whose IPA block (ipa, size) overlaps it (nested entries
 *     are removed by IPA too, which the architecture allows and the VT-d
 *     nested model needs);
 *   - LEVEL (TTL) keeps only entries whose leaf is at that level (the
 *     stage-1 level for ADDR, the stage-2 level for IPA);
 *   - leaf_only: the IOTLB holds only final translations (no walk-cache
 *     entries), so a leaf-only invalidation removes exactly the entries a
 *     non-leaf one removes; the flag is accepted for the day a walk cache is
 *     added, which a leaf-only invalidation would then leave alone.
 *
 * Threads: the IOTLB itself does no locking unless given lock callbacks
 * (vi_iotlb_set_lock); with them every public function takes the lock (one
 * lock for lookups and updates alike: a hit updates the LRU state).  Without
 * them the caller serialises all calls on one vi_iotlb (and a lookup calls
 * nothing).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_IOTLB_H
#define VI_CORE_IOTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/viommu/core/pt.h"

typedef enum vi_iotlb_stage {
    VI_IOTLB_STAGE1 = 1,
    VI_IOTLB_STAGE2 = 2,
    VI_IOTLB_NESTED = 3,
} vi_iotlb_stage;

typedef struct vi_iotlb_tag {
    uint32_t sid;               /* StreamID / source-id */
    uint32_t ssid;              /* SubstreamID / PASID */
    uint16_t asid;              /* ASID / domain id */
    uint16_t vmid;
    uint8_t stage;              /* vi_iotlb_stage */
} vi_iotlb_tag;

typedef struct vi_iotlb_entry {
    vi_iotlb_tag tag;
    uint64_t iova;              /* input block base */
    uint64_t out;               /* output block base */
    uint64_t ipa;               /* nested: IPA block base (else 0) */
    uint32_t attrs;
    uint8_t size_shift;         /* block size = 1 << size_shift */
    uint8_t perm;               /* VI_PERM_* */
    int8_t level;               /* leaf level (stage 1 for nested) */
    int8_t s2_level;            /* nested: stage-2 leaf level; else = level */
    bool global;
} vi_iotlb_entry;

/* Output address of iova through entry e (iova inside e's block). */
static inline uint64_t vi_iotlb_entry_out(const vi_iotlb_entry *e, uint64_t iova)
{
    return e->out | (iova & ((1ull << e->size_shift) - 1));
}

#define VI_IOTLB_M_SID      (1u << 0)
#define VI_IOTLB_M_SSID     (1u << 1)
#define VI_IOTLB_M_ASID     (1u << 2)
#define VI_IOTLB_M_VMID     (1u << 3)
#define VI_IOTLB_M_ADDR     (1u << 5)
#define VI_IOTLB_M_IPA      (1u << 6)
#define VI_IOTLB_M_LEVEL    (1u << 7)

typedef struct vi_iotlb_scope {
    uint32_t match;             /* VI_IOTLB_M_* */
    vi_iotlb_tag tag;           /* values of the matched tag fields */
    uint64_t addr;              /* ADDR / IPA: range start */
    uint64_t len;               /* ADDR / IPA: range length (0 = 1 byte) */
    int8_t level;               /* LEVEL: the TTL level */
    uint8_t stages;             /* 0: any; else bit (1 << stage) per stage */
    bool leaf_only;             /* see above */
    bool tagged_global;         /* global entries match ASID / SSID like the
                                 * others (see the rules above) */
} vi_iotlb_scope;

typedef struct vi_iotlb_stats {
    uint64_t hits, misses, inserts, evictions, invalidated;
    uint64_t inval_visited;     /* entries invalidations compared with a scope */
} vi_iotlb_stats;

typedef struct vi_iotlb vi_iotlb;

/*
 * Create an IOTLB holding at most max_entries entries (>= 1; the actual
 * capacity is the largest sets * ways arrangement not above it).  NULL if
 * max_entries is 0 or memory is short.
 */
vi_iotlb *vi_iotlb_new(uint32_t max_entries);
void vi_iotlb_free(vi_iotlb *t);
void vi_iotlb_set_lock(vi_iotlb *t, void (*lock)(void *), void (*unlock)(void *),
                       void *opaque);

uint32_t vi_iotlb_capacity(const vi_iotlb *t);
uint32_t vi_iotlb_count(vi_iotlb *t);
/* Bytes the IOTLB uses, and the most an IOTLB of max_entries may use. */
size_t vi_iotlb_mem_bytes(const vi_iotlb *t);
size_t vi_iotlb_mem_bound(uint32_t max_entries);
void vi_iotlb_get_stats(vi_iotlb *t, vi_iotlb_stats *st);

/*
 * Find the entry of tag covering iova; true and a copy in *e on a hit.
 * The caller checks e->perm against its access (vi_perm_allows); when it
 * does not allow the access, the caller walks again (the entry may predate
 * a hardware dirty-state update) and re-inserts the result.
 */
bool vi_iotlb_lookup(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     vi_iotlb_entry *e);

/*
 * Cache the translation res of iova for tag (a successful walk's result;
 * nested results carry res->ipa, and s2_level is the stage-2 leaf level or
 * -1 when not nested).  An entry with the same tag and block is replaced.
 * With res->dirty_tracked the entry is cached without write permission, so
 * a write misses and walks (the dirty state may have been cleaned).
 * False (nothing cached) if res->size is not a power of two in [4K, 2^52],
 * tag->stage is not a vi_iotlb_stage (or 0), or a leaf level is outside
 * [-8, 7] (no format has one).
 */
bool vi_iotlb_insert(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     const vi_pt_result *res, int s2_level);

/* Remove every entry the scope matches; returns how many. */
uint32_t vi_iotlb_invalidate(vi_iotlb *t, const vi_iotlb_scope *scope);

/* Shorthands for common scopes. */
uint32_t vi_iotlb_inval_all(vi_iotlb *t);
uint32_t vi_iotlb_inval_vmid(vi_iotlb *t, uint16_t vmid);
uint32_t vi_iotlb_inval_asid(vi_iotlb *t, uint16_t vmid, uint16_t asid);

/*
 * SMMUv3 range invalidation operands -> a byte range and level filter.
 * tg: 0 (no range: the one address), 1 (4K), 2 (16K), 3 (64K); scale, num:
 * the range is (num + 1) << scale granules from addr (aligned down to the
 * granule); ttl: 0 (no level hint) or the leaf level 1..3 (a level the
 * granule cannot have a leaf at is treated as no hint).  Fills the ADDR /
 * IPA range and the LEVEL filter of *scope (match bits included; which of
 * ADDR / IPA is given by ipa).  False if tg is not 0..3.
 */
bool vi_iotlb_smmu_range(vi_iotlb_scope *scope, bool ipa, uint64_t addr, unsigned tg,
                         unsigned scale, unsigned num, unsigned ttl);

#endif /* VI_CORE_IOTLB_H */
