/*
 * qemu-viommu translation core: the IOTLB.  Semantics in iotlb.h.
 *
 * Layout (chosen so that a hit touches one small header and one cache line
 * of payload):
 *   - sets[]: one 16-byte header per set (4 per cache line): an 8-bit
 *     fingerprint per way (0 = free way) and the LRU order of the ways
 *     (byte w = rank of way w, 0 = most recently used); a whole set's
 *     fingerprints are compared at once as one 64-bit word;
 *   - slots[]: nsets * 8 packed 32-byte slots (two per cache line, a set in
 *     256 aligned bytes) holding the full key -- compared before anything
 *     else is decoded -- and the payload but the IPA;
 *   - ipas[]: per slot, the IPA and stage-2 level of nested entries, read
 *     only for those.
 * With one block size in use and no global entries a hit is one hash, one
 * header, one slot; without lock callbacks it calls nothing.
 * The set of an entry is a hash of (input block, block size, VMID,
 * hash-ASID), where the hash-ASID is the ASID, or IOTLB_ANY_ASID for global
 * and stage-2-only entries (they must be found whatever ASID an
 * invalidation names).  So an invalidation by address within a VMID and
 * ASID probes two sets per block it covers; every other scope, and ranges
 * covering more blocks than there are sets, scan the array once.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>

#include "hw/viommu/core/iotlb.h"
#include "lock-cb.h"

#define IOTLB_WAYS          8u
#define IOTLB_MIN_SHIFT     12u
#define IOTLB_MAX_SHIFT     52u
#define IOTLB_ANY_ASID      0x10000u

#define BYTES_01            0x0101010101010101ull
#define BYTES_80            0x8080808080808080ull

/*
 * Packed slot: the whole key in k0..k2, compared before anything else is
 * decoded; block bases are 4K aligned, so their low 12 bits carry the small
 * fields and decoding is mostly masking.
 *   k0: input block base | [5:0] size shift - 12 | [7:6] stage | [8] global,
 *       stored complemented (nk0 = ~k0): zeroed memory is a free slot whose
 *       k0 (all ones: size field 63) no lookup builds, so nothing needs
 *       initialising and a free slot never matches a key
 *   k1: sid | ssid << 32
 *   k2: asid | vmid << 16 | attrs << 32
 *   p0: output block base | [5:0] perm | [9:6] leaf level + 8 | [10] S2X: ipas[] holds the IPA (nested entries) and
 *       the stage-2 level (nested entries, or whenever it is not the level)
 *   ipas[]: IPA block base | [3:0] stage-2 level + 8; read only when S2X.
 */
typedef struct iotlb_slot {
    uint64_t nk0, k1, k2, p0;
} iotlb_slot;

#define LOW_MASK            0xfffull
#define K0_STAGE_POS        6
#define K0_GLOBAL           (1ull << 8)
#define K2_KEY_MASK         0xffffffffull
#define P0_LEVEL_POS        6
#define P0_S2X              (1ull << 10)
#define LEVEL_MIN           (-8)        /* levels a slot can hold */
#define LEVEL_MAX           7

typedef struct iotlb_set {
    uint64_t fp;                /* byte w: fingerprint of way w, 0 = free */
    uint64_t rank;              /* byte w: LRU rank of way w (0 = newest);
                                 * bytes of ways >= t->ways hold 0x7f */
} iotlb_set;

struct vi_iotlb {
    void *mem;                  /* allocation holding sets[], slots[], ipas[] */
    iotlb_set *sets;
    iotlb_slot *slots;          /* 64-byte aligned */
    uint64_t *ipas;             /* per slot: see iotlb_slot */
    uint32_t nsets;             /* power of two */
    uint32_t ways;
    uint64_t way_mask;          /* 0x80 in the byte of every way < ways */
    uint32_t count;
    uint32_t nested;            /* entries with stage NESTED */
    uint32_t any;               /* entries hashed with IOTLB_ANY_ASID */
    uint64_t shift_mask;        /* bit s: some entry has size_shift s */
    uint32_t shift_count[IOTLB_MAX_SHIFT + 1];
    vi_iotlb_stats stats;
    vi_lock_cb lock;
};

/*
 * Bytes of the three arrays (plus alignment slack) for nsets sets; slots
 * are indexed set * IOTLB_WAYS + way whatever the number of ways in use
 * (fewer only when max_entries < IOTLB_WAYS), so no lookup divides.
 */
static size_t arrays_bytes(uint32_t nsets)
{
    size_t n = (size_t)nsets * IOTLB_WAYS;

    return 64 + (((size_t)nsets * sizeof(iotlb_set) + 63) & ~(size_t)63) +
           n * sizeof(iotlb_slot) + n * sizeof(uint64_t);
}

vi_iotlb *vi_iotlb_new(uint32_t max_entries)
{
    vi_iotlb *t;
    uint32_t ways, nsets = 1;
    uintptr_t p;

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
    t->mem = calloc(1, arrays_bytes(nsets));
    if (!t->mem) {
        free(t);
        return NULL;
    }
    p = ((uintptr_t)t->mem + 63) & ~(uintptr_t)63;
    t->sets = (iotlb_set *)p;
    p += ((size_t)nsets * sizeof(iotlb_set) + 63) & ~(size_t)63;
    t->slots = (iotlb_slot *)p;
    t->ipas = (uint64_t *)(p + (size_t)nsets * IOTLB_WAYS * sizeof(iotlb_slot));
    t->nsets = nsets;
    t->ways = ways;
    for (uint32_t w = 0; w < IOTLB_WAYS; w++) {
        uint64_t r = w < ways ? w : 0x7f;

        if (w < ways) {
            t->way_mask |= 0x80ull << (8 * w);
        }
        for (uint32_t s = 0; s < nsets; s++) {
            t->sets[s].rank |= r << (8 * w);
        }
    }
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
    vi_lock_cb_set(&t->lock, lock, unlock, opaque);
}

uint32_t vi_iotlb_capacity(const vi_iotlb *t)
{
    return t->nsets * t->ways;
}

uint32_t vi_iotlb_count(vi_iotlb *t)
{
    uint32_t n;

    vi_lock(&t->lock);
    n = t->count;
    vi_unlock(&t->lock);
    return n;
}

size_t vi_iotlb_mem_bytes(const vi_iotlb *t)
{
    return sizeof(*t) + arrays_bytes(t->nsets);
}

size_t vi_iotlb_mem_bound(uint32_t max_entries)
{
    /*
     * A slot and an IPA per entry (at least one set's worth); one set header
     * per IOTLB_WAYS entries, or a single one when max_entries <
     * IOTLB_WAYS; alignment slack.
     */
    size_t n = max_entries < IOTLB_WAYS ? IOTLB_WAYS : max_entries;

    return sizeof(vi_iotlb) + 128 + sizeof(iotlb_set) +
           n * (sizeof(iotlb_slot) + sizeof(uint64_t)) +
           (size_t)max_entries / IOTLB_WAYS * sizeof(iotlb_set);
}

void vi_iotlb_get_stats(vi_iotlb *t, vi_iotlb_stats *st)
{
    vi_lock(&t->lock);
    *st = t->stats;
    vi_unlock(&t->lock);
}

/*
 * Hash of what selects a set: the block number mixed with the rest of the
 * key (39 bits, placed low so that every one of them reaches the set
 * index), one multiply, folded so that the low bits, which pick the set,
 * also depend on the product's high half.  The top 7 bits of the product,
 * with bit 7 set (never 0, which marks a free way), are the way's
 * fingerprint.  A guest choosing colliding addresses only evicts its own
 * entries.
 */
static inline uint64_t key_hash(uint64_t block, unsigned shift, uint16_t vmid,
                                uint32_t hasid)
{
    uint64_t salt = shift | (uint64_t)vmid << 6 | (uint64_t)hasid << 22;
    uint64_t h = (block ^ salt) * 0xbf58476d1ce4e5b9ull;

    return h ^ (h >> 32);
}

static inline uint32_t set_of_hash(const vi_iotlb *t, uint64_t h)
{
    return (uint32_t)h & (t->nsets - 1);
}

static inline uint64_t fp_of_hash(uint64_t h)
{
    return (h >> 56) | 0x80;
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

static inline unsigned slot_stage(const iotlb_slot *s)
{
    return (unsigned)(~s->nk0 >> K0_STAGE_POS) & 3;
}

static inline unsigned slot_shift(const iotlb_slot *s)
{
    return (unsigned)(~s->nk0 & 63) + IOTLB_MIN_SHIFT;
}

static inline bool slot_global(const iotlb_slot *s)
{
    return (~s->nk0 & K0_GLOBAL) != 0;
}

/* The key words of (tag, block base, size shift); k0 without the global bit. */
static inline uint64_t key_k0(const vi_iotlb_tag *tag, uint64_t base, unsigned sh)
{
    return base | (sh - IOTLB_MIN_SHIFT) | (uint64_t)tag->stage << K0_STAGE_POS;
}

static inline uint64_t key_k1(const vi_iotlb_tag *tag)
{
    return tag->sid | (uint64_t)tag->ssid << 32;
}

static inline uint64_t key_k2(const vi_iotlb_tag *tag)
{
    return tag->asid | (uint64_t)tag->vmid << 16;
}

/* Levels are stored biased: level + 8 in 4 bits. */
static inline uint64_t level_encode(int level)
{
    return (uint64_t)(level - LEVEL_MIN);
}

static inline int8_t level_decode(uint64_t v)
{
    return (int8_t)((int)(v & 15) + LEVEL_MIN);
}

static inline void slot_decode(const vi_iotlb *t, size_t i, vi_iotlb_entry *e)
{
    const iotlb_slot *s = &t->slots[i];
    uint64_t k0 = ~s->nk0, k1 = s->k1, k2 = s->k2, p0 = s->p0;
    unsigned stage = (unsigned)(k0 >> K0_STAGE_POS) & 3;
    int8_t level = level_decode(p0 >> P0_LEVEL_POS);
    uint64_t x = (p0 & P0_S2X) ? t->ipas[i] : 0;
    /* Built whole, then copied out. */
    vi_iotlb_entry d = {
        .tag = {
            .sid = (uint32_t)k1,
            .ssid = (uint32_t)(k1 >> 32),
            .asid = (uint16_t)k2,
            .vmid = (uint16_t)(k2 >> 16),
            .stage = (uint8_t)stage,
        },
        .iova = k0 & ~LOW_MASK,
        .out = p0 & ~LOW_MASK,
        .ipa = x & ~LOW_MASK,
        .attrs = (uint32_t)(k2 >> 32),
        .size_shift = (uint8_t)((k0 & 63) + IOTLB_MIN_SHIFT),
        .perm = (uint8_t)(p0 & VI_PERM_ALL),
        .level = level,
        .s2_level = (p0 & P0_S2X) ? level_decode(x) : level,
        .global = (k0 & K0_GLOBAL) != 0,
    };

    *e = d;
}

/* Mark way w of set st most recently used. */
static inline void touch(iotlb_set *st, unsigned w)
{
    uint64_t rank = st->rank, r = (rank >> (8 * w)) & 0xff, ge;

    if (r == 0) {
        return;                 /* already the newest: no store */
    }
    /* High bit of each byte: its rank is >= r (ranks are < 0x80). */
    ge = ((rank | BYTES_80) - r * BYTES_01) & BYTES_80;
    rank += (~ge & BYTES_80) >> 7;
    st->rank = rank & ~(0xffull << (8 * w));
}

/*
 * Ways of a set whose fingerprint may equal fp (0x80 in their byte).  Used
 * ways have bit 7 of their fingerprint set, like fp, so their byte of x is
 * below 0x80 and adding 0x7f sets bit 7 exactly when it is not zero, with
 * no carry into the next byte.  A free way (byte 0) can come out as a
 * candidate (when fp is 0x80): its key never matches (slot_free).
 */
static inline uint64_t fp_candidates(const vi_iotlb *t, const iotlb_set *st, uint64_t fp)
{
    uint64_t x = st->fp ^ (fp * BYTES_01);

    return ~((x & ~BYTES_80) + ~BYTES_80) & t->way_mask;
}

/* Index of tag's slot of block size 2^sh at base in the set of hash h, or -1. */
static inline ptrdiff_t probe(const vi_iotlb *t, uint64_t h, const vi_iotlb_tag *tag,
                              uint64_t base, unsigned sh)
{
    uint32_t set = set_of_hash(t, h);
    uint64_t cand = fp_candidates(t, &t->sets[set], fp_of_hash(h));

    if (cand) {
        /* ~k0 has the global bit set: compare with it forced in nk0. */
        uint64_t nk0 = ~key_k0(tag, base, sh), k1 = key_k1(tag), k2 = key_k2(tag);
        size_t first = (size_t)set * IOTLB_WAYS;

        do {
            size_t i = first + ((unsigned)__builtin_ctzll(cand) >> 3);
            const iotlb_slot *s = &t->slots[i];

            if ((s->nk0 | K0_GLOBAL) == nk0 && s->k1 == k1 &&
                (s->k2 & K2_KEY_MASK) == k2) {
                return (ptrdiff_t)i;
            }
            cand &= cand - 1;
        } while (cand);
    }
    return -1;
}

static void slot_free(vi_iotlb *t, size_t i)
{
    const iotlb_slot *s = &t->slots[i];
    unsigned sh = slot_shift(s);
    unsigned w = (unsigned)(i % IOTLB_WAYS);
    vi_iotlb_tag tag = { .asid = (uint16_t)s->k2, .stage = (uint8_t)slot_stage(s) };

    if (--t->shift_count[sh] == 0) {
        t->shift_mask &= ~(1ull << sh);
    }
    if (tag.stage == VI_IOTLB_NESTED) {
        t->nested--;
    }
    if (hash_asid(&tag, slot_global(s)) == IOTLB_ANY_ASID) {
        t->any--;
    }
    t->count--;
    t->sets[i / IOTLB_WAYS].fp &= ~(0xffull << (8 * w));
    /* k0 all ones: a key no lookup builds, so a free slot never matches. */
    t->slots[i].nk0 = 0;
}

static inline bool slot_used(const vi_iotlb *t, size_t i)
{
    return (t->sets[i / IOTLB_WAYS].fp >> (8 * (i % IOTLB_WAYS))) & 0xff;
}

/*
 * The hash-ASIDs a lookup of tag must probe: its own (unless no entry is
 * hashed by ASID), then IOTLB_ANY_ASID (if some entry is).  Returns how
 * many (0..2) and fills hasids[].
 */
static inline unsigned lookup_hasids(const vi_iotlb *t, const vi_iotlb_tag *tag,
                                     uint32_t hasids[2])
{
    unsigned n = 0;

    if (tag->stage == VI_IOTLB_STAGE2) {
        hasids[n++] = IOTLB_ANY_ASID;
        return n;
    }
    if (t->count != t->any) {
        hasids[n++] = tag->asid;
    }
    if (t->any) {
        hasids[n++] = IOTLB_ANY_ASID;
    }
    return n;
}

/* Every block size present, every hash-ASID: the slot index or -1. */
static ptrdiff_t __attribute__((noinline))
lookup_all(const vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
           const uint32_t *hasids, unsigned nh)
{
    uint64_t mask = t->shift_mask;

    while (mask) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);
        uint64_t base = iova & ~((1ull << sh) - 1);

        mask &= mask - 1;
        for (unsigned k = 0; k < nh; k++) {
            ptrdiff_t i = probe(t, key_hash(iova >> sh, sh, tag->vmid, hasids[k]), tag,
                                base, sh);
            if (i >= 0) {
                return i;
            }
        }
    }
    return -1;
}

static inline bool lookup_unlocked(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                                   vi_iotlb_entry *e)
{
    uint64_t mask = t->shift_mask;
    ptrdiff_t i = -1;
    uint32_t hasids[2];
    unsigned nh = lookup_hasids(t, tag, hasids);

    if (tag->stage > VI_IOTLB_NESTED || !mask || !nh) {
        /* never inserted, or empty */
    } else if (!(mask & (mask - 1)) && nh == 1) {
        /*
         * The common case: one block size, and entries hashed either all by
         * ASID or all without (global, stage 2): one set to probe.
         */
        unsigned sh = (unsigned)__builtin_ctzll(mask);

        i = probe(t, key_hash(iova >> sh, sh, tag->vmid, hasids[0]), tag,
                  iova & ~((1ull << sh) - 1), sh);
    } else {
        i = lookup_all(t, tag, iova, hasids, nh);
    }
    if (i >= 0) {
        touch(&t->sets[(size_t)i / IOTLB_WAYS], (unsigned)((size_t)i % IOTLB_WAYS));
        slot_decode(t, (size_t)i, e);
        t->stats.hits++;
        return true;
    }
    t->stats.misses++;
    return false;
}

/* Every case: lock callbacks, several block sizes, both hash-ASIDs. */
static bool __attribute__((noinline))
lookup_slow(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova, vi_iotlb_entry *e)
{
    bool hit;

    vi_lock(&t->lock);
    hit = lookup_unlocked(t, tag, iova, e);
    vi_unlock(&t->lock);
    return hit;
}

bool vi_iotlb_lookup(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     vi_iotlb_entry *e)
{
    uint64_t mask;
    uint32_t hasid;
    unsigned sh;
    ptrdiff_t i;

    /*
     * The fast path, which calls nothing: no lock callbacks, one block size
     * in the cache, and entries hashed either all by ASID or all without
     * (global, stage 2), so one set to probe.
     */
    if (t->lock.lock || t->lock.unlock) {
        return lookup_slow(t, tag, iova, e);
    }
    mask = t->shift_mask;
    if (!mask || (mask & (mask - 1)) || tag->stage > VI_IOTLB_NESTED) {
        return lookup_slow(t, tag, iova, e);
    }
    if (tag->stage == VI_IOTLB_STAGE2 || t->count == t->any) {
        hasid = IOTLB_ANY_ASID;
    } else if (!t->any) {
        hasid = tag->asid;
    } else {
        return lookup_slow(t, tag, iova, e);
    }
    sh = (unsigned)__builtin_ctzll(mask);
    i = probe(t, key_hash(iova >> sh, sh, tag->vmid, hasid), tag, iova & ~((1ull << sh) - 1),
              sh);
    if (i < 0) {
        t->stats.misses++;
        return false;
    }
    touch(&t->sets[(size_t)i / IOTLB_WAYS], (unsigned)((size_t)i % IOTLB_WAYS));
    slot_decode(t, (size_t)i, e);
    t->stats.hits++;
    return true;
}

bool vi_iotlb_insert(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     const vi_pt_result *res, int s2_level)
{
    unsigned sh, w;
    int l2 = s2_level >= 0 ? s2_level : res->level;
    uint64_t size = res->size, mask, base, h;
    uint32_t hasid = hash_asid(tag, res->global), set;
    iotlb_set *st;
    iotlb_slot *s;
    ptrdiff_t i;

    if (size == 0 || (size & (size - 1))) {
        return false;
    }
    sh = (unsigned)__builtin_ctzll(size);
    if (sh < IOTLB_MIN_SHIFT || sh > IOTLB_MAX_SHIFT ||
        tag->stage > VI_IOTLB_NESTED || res->level < LEVEL_MIN || res->level > LEVEL_MAX ||
        l2 < LEVEL_MIN || l2 > LEVEL_MAX) {
        return false;
    }
    mask = size - 1;
    base = iova & ~mask;
    vi_lock(&t->lock);
    /* The same key may sit in the other set if its global flag changed. */
    if (tag->stage != VI_IOTLB_STAGE2) {
        uint32_t other = hasid == IOTLB_ANY_ASID ? tag->asid : IOTLB_ANY_ASID;
        i = probe(t, key_hash(iova >> sh, sh, tag->vmid, other), tag, base, sh);
        if (i >= 0) {
            slot_free(t, (size_t)i);
        }
    }
    h = key_hash(iova >> sh, sh, tag->vmid, hasid);
    set = set_of_hash(t, h);
    st = &t->sets[set];
    i = probe(t, h, tag, base, sh);
    if (i >= 0) {
        slot_free(t, (size_t)i);
        w = (unsigned)((size_t)i % IOTLB_WAYS);
    } else {
        /* A free way, else the least recently used one. */
        for (w = 0; w < t->ways; w++) {
            if (!((st->fp >> (8 * w)) & 0xff)) {
                break;
            }
        }
        if (w == t->ways) {
            for (w = 0; w < t->ways; w++) {
                if (((st->rank >> (8 * w)) & 0xff) == t->ways - 1) {
                    break;
                }
            }
            t->stats.evictions++;
            slot_free(t, (size_t)set * IOTLB_WAYS + w);
        }
    }
    i = (ptrdiff_t)((size_t)set * IOTLB_WAYS + w);
    s = &t->slots[i];
    s->nk0 = ~(key_k0(tag, base, sh) | (res->global ? K0_GLOBAL : 0));
    s->k1 = key_k1(tag);
    s->k2 = key_k2(tag) | (uint64_t)res->attrs << 32;
    s->p0 = (res->out & ~mask) | (res->perm & VI_PERM_ALL) |
            level_encode(res->level) << P0_LEVEL_POS;
    if (tag->stage == VI_IOTLB_NESTED || l2 != res->level) {
        s->p0 |= P0_S2X;
        t->ipas[i] = (tag->stage == VI_IOTLB_NESTED ? res->ipa & ~mask : 0) | level_encode(l2);
    }
    st->fp |= fp_of_hash(h) << (8 * w);
    touch(st, w);
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
    vi_unlock(&t->lock);
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
        if (e->global && !sc->tagged_global) {
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
    size_t first = (size_t)set * IOTLB_WAYS;
    uint32_t n = 0;

    for (uint32_t w = 0; w < t->ways; w++) {
        vi_iotlb_entry e;

        if (slot_used(t, first + w)) {
            slot_decode(t, first + w, &e);
            if (scope_matches(sc, &e)) {
                slot_free(t, first + w);
                n++;
            }
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

    vi_lock(&t->lock);
    if (sc->match == 0 && sc->stages == 0) {
        for (size_t i = 0; i < (size_t)t->nsets * IOTLB_WAYS; i++) {
            if (slot_used(t, i)) {
                slot_free(t, i);
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
    vi_unlock(&t->lock);
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
