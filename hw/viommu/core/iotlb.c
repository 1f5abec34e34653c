/*
 * qemu-viommu translation core: the IOTLB.  Semantics in iotlb.h.
 *
 * Layout: nsets * ways slots in one array allocated at creation.  The set of
 * an entry is a hash of (input block, block size, VMID, hash-ASID), where
 * the hash-ASID is the ASID, or IOTLB_ANY_ASID for global and stage-2-only
 * entries (they must be found whatever ASID an invalidation names).  So an
 * invalidation by address within a VMID and ASID probes two sets per block
 * it covers; every other scope, and ranges covering more blocks than there
 * are sets, scan the array once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>

#include "hw/viommu/core/iotlb.h"

#define IOTLB_WAYS          8u
#define IOTLB_MIN_SHIFT     12u
#define IOTLB_MAX_SHIFT     52u
#define IOTLB_ANY_ASID      0x10000u

typedef struct iotlb_slot {
    vi_iotlb_entry e;
    uint32_t lru;               /* last use; 0 = free slot */
} iotlb_slot;

struct vi_iotlb {
    void *mem;                  /* allocation holding fp[] and slots[] */
    iotlb_slot *slots;          /* 64-byte aligned: one slot per cache line */
    uint32_t *fp;               /* per slot: fingerprint of its set hash, 0 = free */
    uint32_t nsets;             /* power of two */
    uint32_t ways;
    uint32_t count;
    uint32_t nested;            /* entries with stage NESTED */
    uint32_t any;               /* entries hashed with IOTLB_ANY_ASID */
    uint32_t clock;
    uint64_t shift_mask;        /* bit s: some entry has size_shift s */
    uint32_t shift_count[IOTLB_MAX_SHIFT + 1];
    vi_iotlb_stats stats;
    void (*lock)(void *);
    void (*unlock)(void *);
    void *lock_opaque;
};

static void iotlb_lock(vi_iotlb *t)
{
    if (t->lock) {
        t->lock(t->lock_opaque);
    }
}

static void iotlb_unlock(vi_iotlb *t)
{
    if (t->unlock) {
        t->unlock(t->lock_opaque);
    }
}

vi_iotlb *vi_iotlb_new(uint32_t max_entries)
{
    vi_iotlb *t;
    uint32_t ways, nsets = 1;

    if (max_entries == 0) {
        return NULL;
    }
    ways = max_entries < IOTLB_WAYS ? max_entries : IOTLB_WAYS;
    while ((uint64_t)nsets * 2 * ways <= max_entries) {
        nsets *= 2;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    {
        size_t n = (size_t)nsets * ways;
        size_t fp_bytes = (n * sizeof(uint32_t) + 63) & ~(size_t)63;
        uintptr_t p;

        t->mem = calloc(1, 64 + fp_bytes + n * sizeof(iotlb_slot));
        if (!t->mem) {
            free(t);
            return NULL;
        }
        p = ((uintptr_t)t->mem + 63) & ~(uintptr_t)63;
        t->fp = (uint32_t *)p;
        t->slots = (iotlb_slot *)(p + fp_bytes);
    }
    t->nsets = nsets;
    t->ways = ways;
    return t;
}

void vi_iotlb_free(vi_iotlb *t)
{
    if (t) {
        free(t->mem);
        free(t);
    }
}

void vi_iotlb_set_lock(vi_iotlb *t, void (*lock)(void *), void (*unlock)(void *),
                       void *opaque)
{
    t->lock = lock;
    t->unlock = unlock;
    t->lock_opaque = opaque;
}

uint32_t vi_iotlb_capacity(const vi_iotlb *t)
{
    return t->nsets * t->ways;
}

uint32_t vi_iotlb_count(vi_iotlb *t)
{
    uint32_t n;

    iotlb_lock(t);
    n = t->count;
    iotlb_unlock(t);
    return n;
}

size_t vi_iotlb_mem_bytes(const vi_iotlb *t)
{
    size_t n = (size_t)t->nsets * t->ways;

    return sizeof(*t) + 64 + ((n * sizeof(uint32_t) + 63) & ~(size_t)63) +
           n * sizeof(iotlb_slot);
}

size_t vi_iotlb_mem_bound(uint32_t max_entries)
{
    return sizeof(vi_iotlb) + 128 + (size_t)max_entries * (sizeof(iotlb_slot) + sizeof(uint32_t));
}

void vi_iotlb_get_stats(vi_iotlb *t, vi_iotlb_stats *st)
{
    iotlb_lock(t);
    *st = t->stats;
    iotlb_unlock(t);
}

/*
 * Hash of what selects a set; its low bits pick the set, its high half is
 * the fingerprint kept per slot so a probe compares 8 words, not 8 entries.
 */
static uint64_t key_hash(uint64_t block, unsigned shift, uint16_t vmid, uint32_t hasid)
{
    uint64_t h = block ^ ((uint64_t)hasid << 40 | (uint64_t)vmid << 24 | shift) *
                 0x9e3779b97f4a7c15ull;

    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

static uint32_t set_of_hash(const vi_iotlb *t, uint64_t h)
{
    return (uint32_t)h & (t->nsets - 1);
}

static uint32_t fp_of_hash(uint64_t h)
{
    return (uint32_t)(h >> 32) | 1;
}

static uint32_t set_of(const vi_iotlb *t, uint64_t block, unsigned shift, uint16_t vmid,
                       uint32_t hasid)
{
    return set_of_hash(t, key_hash(block, shift, vmid, hasid));
}

static uint32_t hash_asid(const vi_iotlb_tag *tag, bool global)
{
    return (global || tag->stage == VI_IOTLB_STAGE2) ? IOTLB_ANY_ASID : tag->asid;
}

static iotlb_slot *set_slots(vi_iotlb *t, uint32_t set)
{
    return &t->slots[(size_t)set * t->ways];
}

static bool tag_equal(const vi_iotlb_tag *a, const vi_iotlb_tag *b)
{
    return a->sid == b->sid && a->ssid == b->ssid && a->asid == b->asid &&
           a->vmid == b->vmid && a->stage == b->stage;
}

static void slot_free(vi_iotlb *t, iotlb_slot *s)
{
    unsigned sh = s->e.size_shift;

    if (--t->shift_count[sh] == 0) {
        t->shift_mask &= ~(1ull << sh);
    }
    if (s->e.tag.stage == VI_IOTLB_NESTED) {
        t->nested--;
    }
    if (hash_asid(&s->e.tag, s->e.global) == IOTLB_ANY_ASID) {
        t->any--;
    }
    t->count--;
    s->lru = 0;
    t->fp[s - t->slots] = 0;
}

static uint32_t tick(vi_iotlb *t)
{
    if (++t->clock == 0) {
        /* Wrapped: restart ages (keeps 0 meaning free). */
        for (uint32_t i = 0; i < t->nsets * t->ways; i++) {
            if (t->slots[i].lru) {
                t->slots[i].lru = 1;
            }
        }
        t->clock = 2;
    }
    return t->clock;
}

/* Look for tag's entry of block size 2^sh at base, in the set of hash h. */
static iotlb_slot *probe(vi_iotlb *t, uint64_t h, const vi_iotlb_tag *tag,
                         uint64_t base, unsigned sh)
{
    size_t first = (size_t)set_of_hash(t, h) * t->ways;
    const uint32_t *fp = &t->fp[first];
    uint32_t want = fp_of_hash(h);

    for (uint32_t w = 0; w < t->ways; w++) {
        if (fp[w] == want) {
            iotlb_slot *s = &t->slots[first + w];
            if (s->e.iova == base && s->e.size_shift == sh && tag_equal(&s->e.tag, tag)) {
                return s;
            }
        }
    }
    return NULL;
}

bool vi_iotlb_lookup(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     vi_iotlb_entry *e)
{
    uint32_t first = tag->stage == VI_IOTLB_STAGE2 ? IOTLB_ANY_ASID : tag->asid;
    iotlb_slot *s = NULL;
    uint64_t mask;

    iotlb_lock(t);
    mask = t->shift_mask;
    while (mask && !s) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);
        uint64_t base = iova & ~((1ull << sh) - 1);

        mask &= mask - 1;
        s = probe(t, key_hash(iova >> sh, sh, tag->vmid, first), tag, base, sh);
        if (!s && first != IOTLB_ANY_ASID && t->any) {
            s = probe(t, key_hash(iova >> sh, sh, tag->vmid, IOTLB_ANY_ASID), tag, base, sh);
        }
    }
    if (s) {
        s->lru = tick(t);
        *e = s->e;
        t->stats.hits++;
    } else {
        t->stats.misses++;
    }
    iotlb_unlock(t);
    return s != NULL;
}

bool vi_iotlb_insert(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     const vi_pt_result *res, int s2_level)
{
    unsigned sh;
    uint64_t size = res->size, mask, base;
    uint32_t hasid = hash_asid(tag, res->global);
    iotlb_slot *set, *victim = NULL, *old;
    uint64_t h;

    if (size == 0 || (size & (size - 1))) {
        return false;
    }
    sh = (unsigned)__builtin_ctzll(size);
    if (sh < IOTLB_MIN_SHIFT || sh > IOTLB_MAX_SHIFT) {
        return false;
    }
    mask = size - 1;
    base = iova & ~mask;
    iotlb_lock(t);
    /* The same key may sit in the other set if its global flag changed. */
    if (tag->stage != VI_IOTLB_STAGE2) {
        uint32_t other = hasid == IOTLB_ANY_ASID ? tag->asid : IOTLB_ANY_ASID;
        old = probe(t, key_hash(iova >> sh, sh, tag->vmid, other), tag, base, sh);
        if (old) {
            slot_free(t, old);
        }
    }
    h = key_hash(iova >> sh, sh, tag->vmid, hasid);
    set = set_slots(t, set_of_hash(t, h));
    victim = probe(t, h, tag, base, sh);
    if (!victim) {
        for (uint32_t w = 0; w < t->ways; w++) {
            if (!set[w].lru) {
                victim = &set[w];
                break;
            }
            if (!victim || set[w].lru < victim->lru) {
                victim = &set[w];
            }
        }
        if (victim->lru) {
            t->stats.evictions++;
        }
    }
    if (victim->lru) {
        slot_free(t, victim);
    }
    victim->e.tag = *tag;
    victim->e.iova = base;
    victim->e.out = res->out & ~mask;
    victim->e.ipa = tag->stage == VI_IOTLB_NESTED ? res->ipa & ~mask : 0;
    victim->e.attrs = res->attrs;
    victim->e.size_shift = (uint8_t)sh;
    victim->e.perm = (uint8_t)(res->perm & VI_PERM_ALL);
    victim->e.level = res->level;
    victim->e.s2_level = (int8_t)(s2_level >= 0 ? s2_level : res->level);
    victim->e.global = res->global;
    victim->lru = tick(t);
    t->fp[victim - t->slots] = fp_of_hash(h);
    t->count++;
    if (tag->stage == VI_IOTLB_NESTED) {
        t->nested++;
    }
    if (hasid == IOTLB_ANY_ASID) {
        t->any++;
    }
    if (t->shift_count[sh]++ == 0) {
        t->shift_mask |= 1ull << sh;
    }
    t->stats.inserts++;
    iotlb_unlock(t);
    return true;
}

/* Does [base, base + 2^sh) overlap [a, a + len)? (len >= 1) */
static bool overlaps(uint64_t base, unsigned sh, uint64_t a, uint64_t len)
{
    uint64_t last = base + ((1ull << sh) - 1);
    uint64_t alast = a + (len - 1);

    if (alast < a) {
        alast = UINT64_MAX;
    }
    return base <= alast && a <= last;
}

static bool scope_matches(const vi_iotlb_scope *sc, const vi_iotlb_entry *e)
{
    uint32_t m = sc->match;
    uint64_t len = sc->len ? sc->len : 1;
    bool by_addr = m & (VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA);

    if ((m & VI_IOTLB_M_SID) && e->tag.sid != sc->tag.sid) {
        return false;
    }
    if ((m & VI_IOTLB_M_VMID) && e->tag.vmid != sc->tag.vmid) {
        return false;
    }
    if (sc->stages && !(sc->stages & (1u << e->tag.stage))) {
        return false;
    }
    if (m & (VI_IOTLB_M_ASID | VI_IOTLB_M_SSID)) {
        if (e->global) {
            if (!by_addr) {
                return false;
            }
        } else if (((m & VI_IOTLB_M_ASID) && e->tag.asid != sc->tag.asid) ||
                   ((m & VI_IOTLB_M_SSID) && e->tag.ssid != sc->tag.ssid)) {
            return false;
        }
    }
    if (m & VI_IOTLB_M_ADDR) {
        if (!overlaps(e->iova, e->size_shift, sc->addr, len)) {
            return false;
        }
        if ((m & VI_IOTLB_M_LEVEL) && e->level != sc->level) {
            return false;
        }
    }
    if (m & VI_IOTLB_M_IPA) {
        if (e->tag.stage == VI_IOTLB_STAGE2) {
            if (!overlaps(e->iova, e->size_shift, sc->addr, len)) {
                return false;
            }
        } else if (e->tag.stage == VI_IOTLB_NESTED) {
            if (!overlaps(e->ipa, e->size_shift, sc->addr, len)) {
                return false;
            }
        } else {
            return false;       /* stage-1 entries hold no IPA */
        }
        if ((m & VI_IOTLB_M_LEVEL) && e->s2_level != sc->level) {
            return false;
        }
    }
    return true;
}

static uint32_t inval_set(vi_iotlb *t, uint32_t set, const vi_iotlb_scope *sc)
{
    iotlb_slot *s = set_slots(t, set);
    uint32_t n = 0;

    for (uint32_t w = 0; w < t->ways; w++) {
        if (s[w].lru && scope_matches(sc, &s[w].e)) {
            slot_free(t, &s[w]);
            n++;
        }
    }
    return n;
}

/*
 * Which hash-ASIDs an address scope's entries can have, when probing is
 * possible: an input (ADDR) range naming VMID and ASID (the ASID's sets and
 * the ANY sets), or an IPA range naming the VMID while no nested entry
 * exists (stage-2 entries: the ANY sets).  Returns the number of hash-ASIDs
 * (0: scan instead) and fills hasids[].
 */
static unsigned probe_plan(const vi_iotlb *t, const vi_iotlb_scope *sc, uint64_t len,
                           uint32_t hasids[2])
{
    uint32_t m = sc->match;
    uint64_t mask = t->shift_mask, blocks = 0;
    unsigned n;

    if (!(m & VI_IOTLB_M_VMID) || sc->addr + (len - 1) < sc->addr) {
        return 0;
    }
    if ((m & VI_IOTLB_M_ADDR) && (m & VI_IOTLB_M_ASID) && !(m & VI_IOTLB_M_IPA)) {
        hasids[0] = sc->tag.asid;
        hasids[1] = IOTLB_ANY_ASID;
        n = 2;
    } else if ((m & VI_IOTLB_M_IPA) && !(m & VI_IOTLB_M_ADDR) && !t->nested) {
        hasids[0] = IOTLB_ANY_ASID;
        n = 1;
    } else {
        return 0;
    }
    while (mask) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);
        mask &= mask - 1;
        blocks += (((sc->addr + len - 1) >> sh) - (sc->addr >> sh) + 1) * n;
        if (blocks > t->nsets) {
            return 0;
        }
    }
    return n;
}

uint32_t vi_iotlb_invalidate(vi_iotlb *t, const vi_iotlb_scope *sc)
{
    uint64_t len = sc->len ? sc->len : 1;
    uint32_t n = 0, hasids[2];
    unsigned nh;

    iotlb_lock(t);
    if (sc->match == 0 && sc->stages == 0) {
        for (uint32_t i = 0; i < t->nsets * t->ways; i++) {
            if (t->slots[i].lru) {
                slot_free(t, &t->slots[i]);
                n++;
            }
        }
    } else if ((nh = probe_plan(t, sc, len, hasids)) != 0) {
        uint64_t mask = t->shift_mask;

        while (mask) {
            unsigned sh = (unsigned)__builtin_ctzll(mask);
            uint64_t b = sc->addr >> sh, last = (sc->addr + len - 1) >> sh;

            mask &= mask - 1;
            for (;; b++) {
                for (unsigned h = 0; h < nh; h++) {
                    n += inval_set(t, set_of(t, b, sh, sc->tag.vmid, hasids[h]), sc);
                }
                if (b == last) {
                    break;
                }
            }
        }
    } else {
        for (uint32_t set = 0; set < t->nsets; set++) {
            n += inval_set(t, set, sc);
        }
    }
    t->stats.invalidated += n;
    iotlb_unlock(t);
    return n;
}

uint32_t vi_iotlb_inval_all(vi_iotlb *t)
{
    vi_iotlb_scope sc = { .match = 0 };

    return vi_iotlb_invalidate(t, &sc);
}

uint32_t vi_iotlb_inval_vmid(vi_iotlb *t, uint16_t vmid)
{
    vi_iotlb_scope sc = { .match = VI_IOTLB_M_VMID, .tag.vmid = vmid };

    return vi_iotlb_invalidate(t, &sc);
}

uint32_t vi_iotlb_inval_asid(vi_iotlb *t, uint16_t vmid, uint16_t asid)
{
    vi_iotlb_scope sc = {
        .match = VI_IOTLB_M_VMID | VI_IOTLB_M_ASID,
        .tag.vmid = vmid,
        .tag.asid = asid,
    };

    return vi_iotlb_invalidate(t, &sc);
}

bool vi_iotlb_smmu_range(vi_iotlb_scope *sc, bool ipa, uint64_t addr, unsigned tg,
                         unsigned scale, unsigned num, unsigned ttl)
{
    static const unsigned tg_shift[4] = { 0, 12, 14, 16 };
    unsigned sh;

    if (tg > 3) {
        return false;
    }
    sc->match &= ~(VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA | VI_IOTLB_M_LEVEL);
    sc->match |= ipa ? VI_IOTLB_M_IPA : VI_IOTLB_M_ADDR;
    if (tg == 0) {
        sc->addr = addr;
        sc->len = 1;
        return true;
    }
    sh = tg_shift[tg];
    scale &= 31;
    num &= 31;
    sc->addr = addr & ~((1ull << sh) - 1);
    sc->len = ((uint64_t)num + 1) << (scale + sh);
    /* A leaf level the granule has: 1..3 for 4K and 64K (LPA), 2..3 for 16K. */
    if (ttl >= 1 && ttl <= 3 && !(tg == 2 && ttl == 1)) {
        sc->match |= VI_IOTLB_M_LEVEL;
        sc->level = (int8_t)ttl;
    }
    return true;
}
