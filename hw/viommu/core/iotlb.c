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
 * With one block size in use a hit is one hash, one header, one slot;
 * without lock callbacks it calls nothing.  The set of an entry is a hash
 * of (input block, block size, VMID, ASID), global and stage-2 entries
 * included, and the fingerprint comes from the same hash: probing the set
 * of (block, size, VMID, ASID) finds every entry of that domain and block
 * and (but for 1 in 128 fingerprint collisions) nothing else.
 *
 * Invalidation index (never read by lookups), so that an invalidation
 * visits the entries it matches rather than the whole array:
 *   - domains: one node per (VMID, ASID) in use, in a hash chain by ASID
 *     (so the domains of an ASID in every VMID are one chain) and in the
 *     list of live domains; it counts its entries, global, stage-2 and
 *     nested ones;
 *   - PASIDs: one node per (domain, SSID) in use, in its domain's list,
 *     holding the list of its entries (links[] per slot);
 *   - IPAs: nested entries chained by (IPA block, size).
 * A scope naming an ASID visits that ASID's domains; one naming a VMID
 * without ASID the live domains of that VMID (the domains with global
 * entries too, when a scope with an address ignores ASIDs for them); in a
 * domain, the entries of the named SSID only, or all of them.  With an
 * address, a domain is either probed block by block (one set per block
 * and size present) or has its entry list walked, whichever visits fewer
 * entries; nested entries are found by IPA through their chains.  So a
 * page-selective invalidation costs a few set probes, a domain-selective
 * one the domain's entries, whatever else is cached.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/viommu/core/iotlb.h"
#include "lock-cb.h"

#define IOTLB_WAYS          8u
#define IOTLB_MIN_SHIFT     12u
#define IOTLB_MAX_SHIFT     52u
#define NIL                 UINT32_MAX

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

/* Per slot: its PASID node, its neighbours there and in its IPA chain. */
typedef struct iotlb_link {
    uint32_t pas, next, prev, inext, iprev;
} iotlb_link;

/* A (VMID, ASID) in use. */
typedef struct iotlb_dom {
    uint32_t hnext;             /* hash chain (by ASID), or free list */
    uint32_t lnext, lprev;      /* live domains */
    uint32_t pasids;            /* its PASID nodes */
    uint32_t count, nglobal, ns2, nnested;
    uint16_t vmid, asid;
} iotlb_dom;

/* An SSID in use in a domain. */
typedef struct iotlb_pas {
    uint32_t hnext;             /* hash chain (by domain, SSID), or free list */
    uint32_t dom, ssid;
    uint32_t head;              /* its entries (slot indices) */
    uint32_t count;
    uint32_t snext, sprev;      /* the domain's PASID nodes */
} iotlb_pas;

struct vi_iotlb {
    void *mem;                  /* allocation holding sets[], slots[], ipas[] */
    void *imem;                 /* allocation holding the index */
    iotlb_set *sets;
    iotlb_slot *slots;          /* 64-byte aligned */
    uint64_t *ipas;             /* per slot: see iotlb_slot */
    iotlb_link *links;          /* per slot */
    iotlb_dom *doms;            /* nslots nodes */
    iotlb_pas *pas;             /* nslots nodes */
    uint32_t *dom_bkt, *pas_bkt, *ipa_bkt;  /* nslots chain heads each */
    uint32_t dom_free, pas_free, dom_live;
    uint32_t nsets;             /* power of two */
    uint32_t ways;
    uint64_t way_mask;          /* 0x80 in the byte of every way < ways */
    uint32_t count;
    uint32_t nested;            /* entries with stage NESTED */
    uint32_t nglobal;           /* global entries */
    uint64_t shift_mask;        /* bit s: some entry has size_shift s */
    unsigned fast_shift;        /* the one size shift present when lookups
                                 * can take the fast path (no lock callbacks),
                                 * else 0 */
    uint32_t shift_count[IOTLB_MAX_SHIFT + 1];
    vi_iotlb_stats stats;
    vi_lock_cb lock;
};

static size_t nslots_of(uint32_t nsets)
{
    return (size_t)nsets * IOTLB_WAYS;
}

/*
 * Bytes of the three arrays (plus alignment slack) for nsets sets; slots
 * are indexed set * IOTLB_WAYS + way whatever the number of ways in use
 * (fewer only when max_entries < IOTLB_WAYS), so no lookup divides.
 */
static size_t arrays_bytes(uint32_t nsets)
{
    size_t n = nslots_of(nsets);

    return 64 + (((size_t)nsets * sizeof(iotlb_set) + 63) & ~(size_t)63) +
           n * sizeof(iotlb_slot) + n * sizeof(uint64_t);
}

/* Bytes of the invalidation index per slot. */
#define INDEX_BYTES_PER_SLOT \
    (sizeof(iotlb_link) + sizeof(iotlb_dom) + sizeof(iotlb_pas) + 3 * sizeof(uint32_t))

static size_t index_bytes(uint32_t nsets)
{
    return nslots_of(nsets) * INDEX_BYTES_PER_SLOT;
}

/* Empty index: every chain empty, every node free. */
static void index_reset(vi_iotlb *t)
{
    size_t n = nslots_of(t->nsets);

    memset(t->dom_bkt, 0xff, n * sizeof(uint32_t));
    memset(t->pas_bkt, 0xff, n * sizeof(uint32_t));
    memset(t->ipa_bkt, 0xff, n * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++) {
        t->doms[i].hnext = i + 1 < n ? (uint32_t)(i + 1) : NIL;
        t->pas[i].hnext = i + 1 < n ? (uint32_t)(i + 1) : NIL;
    }
    t->dom_free = 0;
    t->pas_free = 0;
    t->dom_live = NIL;
}

vi_iotlb *vi_iotlb_new(uint32_t max_entries)
{
    vi_iotlb *t;
    uint32_t ways, nsets = 1;
    uintptr_t p;
    size_t n;

    if (max_entries == 0) {
        return NULL;
    }
    ways = max_entries < IOTLB_WAYS ? max_entries : IOTLB_WAYS;
    while ((uint64_t)nsets * 2 * ways <= max_entries) {
        nsets *= 2;
    }
    n = nslots_of(nsets);
    t = calloc(1, sizeof(*t));
    if (!t) {
        return NULL;
    }
    t->mem = calloc(1, arrays_bytes(nsets));
    t->imem = malloc(index_bytes(nsets));
    if (!t->mem || !t->imem) {
        free(t->mem);
        free(t->imem);
        free(t);
        return NULL;
    }
    p = ((uintptr_t)t->mem + 63) & ~(uintptr_t)63;
    t->sets = (iotlb_set *)p;
    p += ((size_t)nsets * sizeof(iotlb_set) + 63) & ~(size_t)63;
    t->slots = (iotlb_slot *)p;
    t->ipas = (uint64_t *)(p + n * sizeof(iotlb_slot));
    t->doms = t->imem;
    t->pas = (iotlb_pas *)(t->doms + n);
    t->links = (iotlb_link *)(t->pas + n);
    t->dom_bkt = (uint32_t *)(t->links + n);
    t->pas_bkt = t->dom_bkt + n;
    t->ipa_bkt = t->pas_bkt + n;
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
    index_reset(t);
    return t;
}

void vi_iotlb_free(vi_iotlb *t)
{
    if (t) {
        free(t->mem);
        free(t->imem);
        free(t);
    }
}

/* After a change of shift_mask or of the lock callbacks. */
static void fast_update(vi_iotlb *t)
{
    uint64_t m = t->shift_mask;

    t->fast_shift = m && !(m & (m - 1)) && !t->lock.lock && !t->lock.unlock ?
                    (unsigned)__builtin_ctzll(m) : 0;
}

void vi_iotlb_set_lock(vi_iotlb *t, void (*lock)(void *), void (*unlock)(void *),
                       void *opaque)
{
    vi_lock_cb_set(&t->lock, lock, unlock, opaque);
    fast_update(t);
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
    return sizeof(*t) + arrays_bytes(t->nsets) + index_bytes(t->nsets);
}

size_t vi_iotlb_mem_bound(uint32_t max_entries)
{
    /*
     * A slot, an IPA and the index's share per entry (at least one set's
     * worth); one set header per IOTLB_WAYS entries, or a single one when
     * max_entries < IOTLB_WAYS; alignment slack.
     */
    size_t n = max_entries < IOTLB_WAYS ? IOTLB_WAYS : max_entries;

    return sizeof(vi_iotlb) + 128 + sizeof(iotlb_set) +
           n * (sizeof(iotlb_slot) + sizeof(uint64_t) + INDEX_BYTES_PER_SLOT) +
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
                                uint16_t asid)
{
    uint64_t salt = shift | (uint64_t)vmid << 6 | (uint64_t)asid << 22;
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
    uint64_t cand;

    /* The set's first ways (the likely hit) load while its header does. */
    __builtin_prefetch(&t->slots[(size_t)set * IOTLB_WAYS]);
    if (tag->stage == VI_IOTLB_NESTED) {
        __builtin_prefetch(&t->ipas[(size_t)set * IOTLB_WAYS]);   /* read on a hit */
    }
    cand = fp_candidates(t, &t->sets[set], fp_of_hash(h));
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

/* ------------------------------------------------------------------------
 * The invalidation index
 */

static inline uint32_t bkt_mask(const vi_iotlb *t)
{
    return (uint32_t)nslots_of(t->nsets) - 1;
}

static inline uint32_t dom_bucket(const vi_iotlb *t, uint16_t asid)
{
    return (uint32_t)(((uint64_t)asid * 0x9e3779b97f4a7c15ull) >> 40) & bkt_mask(t);
}

static inline uint32_t pas_bucket(const vi_iotlb *t, uint32_t dom, uint32_t ssid)
{
    uint64_t h = ((uint64_t)dom << 32 | ssid) * 0xbf58476d1ce4e5b9ull;

    return (uint32_t)(h ^ (h >> 32)) & bkt_mask(t);
}

static inline uint32_t ipa_bucket(const vi_iotlb *t, uint64_t block, unsigned sh)
{
    uint64_t h = (block ^ ((uint64_t)sh << 58)) * 0x94d049bb133111ebull;

    return (uint32_t)(h ^ (h >> 32)) & bkt_mask(t);
}

static uint32_t dom_find(const vi_iotlb *t, uint16_t vmid, uint16_t asid)
{
    for (uint32_t d = t->dom_bkt[dom_bucket(t, asid)]; d != NIL; d = t->doms[d].hnext) {
        if (t->doms[d].asid == asid && t->doms[d].vmid == vmid) {
            return d;
        }
    }
    return NIL;
}

static uint32_t pas_find(const vi_iotlb *t, uint32_t dom, uint32_t ssid)
{
    for (uint32_t p = t->pas_bkt[pas_bucket(t, dom, ssid)]; p != NIL; p = t->pas[p].hnext) {
        if (t->pas[p].dom == dom && t->pas[p].ssid == ssid) {
            return p;
        }
    }
    return NIL;
}

/* The domain node of (vmid, asid), created if needed (a node is free: one
 * per slot). */
static uint32_t dom_get(vi_iotlb *t, uint16_t vmid, uint16_t asid)
{
    uint32_t d = dom_find(t, vmid, asid), b;
    iotlb_dom *n;

    if (d != NIL) {
        return d;
    }
    d = t->dom_free;
    n = &t->doms[d];
    t->dom_free = n->hnext;
    b = dom_bucket(t, asid);
    *n = (iotlb_dom) { .hnext = t->dom_bkt[b], .lnext = t->dom_live, .lprev = NIL,
                       .pasids = NIL, .vmid = vmid, .asid = asid };
    t->dom_bkt[b] = d;
    if (t->dom_live != NIL) {
        t->doms[t->dom_live].lprev = d;
    }
    t->dom_live = d;
    return d;
}

static uint32_t pas_get(vi_iotlb *t, uint32_t dom, uint32_t ssid)
{
    uint32_t p = pas_find(t, dom, ssid), b;
    iotlb_pas *n;
    iotlb_dom *d = &t->doms[dom];

    if (p != NIL) {
        return p;
    }
    p = t->pas_free;
    n = &t->pas[p];
    t->pas_free = n->hnext;
    b = pas_bucket(t, dom, ssid);
    *n = (iotlb_pas) { .hnext = t->pas_bkt[b], .dom = dom, .ssid = ssid, .head = NIL,
                       .snext = d->pasids, .sprev = NIL };
    t->pas_bkt[b] = p;
    if (d->pasids != NIL) {
        t->pas[d->pasids].sprev = p;
    }
    d->pasids = p;
    return p;
}

static void dom_put(vi_iotlb *t, uint32_t d)
{
    iotlb_dom *n = &t->doms[d];
    uint32_t *pp = &t->dom_bkt[dom_bucket(t, n->asid)];

    while (*pp != d) {
        pp = &t->doms[*pp].hnext;
    }
    *pp = n->hnext;
    if (n->lprev != NIL) {
        t->doms[n->lprev].lnext = n->lnext;
    } else {
        t->dom_live = n->lnext;
    }
    if (n->lnext != NIL) {
        t->doms[n->lnext].lprev = n->lprev;
    }
    n->hnext = t->dom_free;
    t->dom_free = d;
}

static void pas_put(vi_iotlb *t, uint32_t p)
{
    iotlb_pas *n = &t->pas[p];
    uint32_t *pp = &t->pas_bkt[pas_bucket(t, n->dom, n->ssid)];

    while (*pp != p) {
        pp = &t->pas[*pp].hnext;
    }
    *pp = n->hnext;
    if (n->sprev != NIL) {
        t->pas[n->sprev].snext = n->snext;
    } else {
        t->doms[n->dom].pasids = n->snext;
    }
    if (n->snext != NIL) {
        t->pas[n->snext].sprev = n->sprev;
    }
    n->hnext = t->pas_free;
    t->pas_free = p;
}

/* Slot i (just filled) joins its domain, PASID and (nested) IPA chain. */
static void index_add(vi_iotlb *t, uint32_t i)
{
    const iotlb_slot *s = &t->slots[i];
    unsigned stage = slot_stage(s), sh = slot_shift(s);
    uint32_t d = dom_get(t, (uint16_t)(s->k2 >> 16), (uint16_t)s->k2);
    uint32_t p = pas_get(t, d, (uint32_t)(s->k1 >> 32));
    iotlb_link *l = &t->links[i];
    iotlb_pas *pn = &t->pas[p];
    iotlb_dom *dn = &t->doms[d];

    l->pas = p;
    l->prev = NIL;
    l->next = pn->head;
    if (pn->head != NIL) {
        t->links[pn->head].prev = i;
    }
    pn->head = i;
    pn->count++;
    dn->count++;
    dn->nglobal += slot_global(s);
    dn->ns2 += stage == VI_IOTLB_STAGE2;
    if (stage == VI_IOTLB_NESTED) {
        uint32_t b = ipa_bucket(t, t->ipas[i] >> sh, sh);

        dn->nnested++;
        l->iprev = NIL;
        l->inext = t->ipa_bkt[b];
        if (l->inext != NIL) {
            t->links[l->inext].iprev = i;
        }
        t->ipa_bkt[b] = i;
    }
}

/* Slot i (still holding its key) leaves the index. */
static void index_del(vi_iotlb *t, uint32_t i)
{
    const iotlb_slot *s = &t->slots[i];
    unsigned stage = slot_stage(s), sh = slot_shift(s);
    iotlb_link *l = &t->links[i];
    uint32_t p = l->pas, d = t->pas[p].dom;
    iotlb_pas *pn = &t->pas[p];
    iotlb_dom *dn = &t->doms[d];

    if (l->prev != NIL) {
        t->links[l->prev].next = l->next;
    } else {
        pn->head = l->next;
    }
    if (l->next != NIL) {
        t->links[l->next].prev = l->prev;
    }
    if (stage == VI_IOTLB_NESTED) {
        if (l->iprev != NIL) {
            t->links[l->iprev].inext = l->inext;
        } else {
            t->ipa_bkt[ipa_bucket(t, t->ipas[i] >> sh, sh)] = l->inext;
        }
        if (l->inext != NIL) {
            t->links[l->inext].iprev = l->iprev;
        }
        dn->nnested--;
    }
    dn->nglobal -= slot_global(s);
    dn->ns2 -= stage == VI_IOTLB_STAGE2;
    dn->count--;
    if (--pn->count == 0) {
        pas_put(t, p);
    }
    if (dn->count == 0) {
        dom_put(t, d);
    }
}

static void slot_free(vi_iotlb *t, size_t i)
{
    const iotlb_slot *s = &t->slots[i];
    unsigned sh = slot_shift(s);
    unsigned w = (unsigned)(i % IOTLB_WAYS);

    index_del(t, (uint32_t)i);
    if (--t->shift_count[sh] == 0) {
        t->shift_mask &= ~(1ull << sh);
        fast_update(t);
    }
    if (slot_stage(s) == VI_IOTLB_NESTED) {
        t->nested--;
    }
    t->nglobal -= slot_global(s);
    t->count--;
    t->sets[i / IOTLB_WAYS].fp &= ~(0xffull << (8 * w));
    /* k0 all ones: a key no lookup builds, so a free slot never matches. */
    t->slots[i].nk0 = 0;
}

static inline bool slot_used(const vi_iotlb *t, size_t i)
{
    return (t->sets[i / IOTLB_WAYS].fp >> (8 * (i % IOTLB_WAYS))) & 0xff;
}

/* ------------------------------------------------------------------------
 * Lookup and insertion
 */

/* Every block size present: the slot index or -1. */
static ptrdiff_t __attribute__((noinline))
lookup_all(const vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova)
{
    uint64_t mask = t->shift_mask;

    while (mask) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);
        ptrdiff_t i = probe(t, key_hash(iova >> sh, sh, tag->vmid, tag->asid), tag,
                            iova & ~((1ull << sh) - 1), sh);

        if (i >= 0) {
            return i;
        }
        mask &= mask - 1;
    }
    return -1;
}

static inline bool lookup_done(vi_iotlb *t, ptrdiff_t i, vi_iotlb_entry *e)
{
    if (i < 0) {
        t->stats.misses++;
        return false;
    }
    touch(&t->sets[(size_t)i / IOTLB_WAYS], (unsigned)((size_t)i % IOTLB_WAYS));
    slot_decode(t, (size_t)i, e);
    t->stats.hits++;
    return true;
}

/* Every case: lock callbacks, several block sizes. */
static bool __attribute__((noinline))
lookup_slow(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova, vi_iotlb_entry *e)
{
    bool hit;

    vi_lock(&t->lock);
    hit = lookup_done(t, tag->stage > VI_IOTLB_NESTED ? -1 : lookup_all(t, tag, iova), e);
    vi_unlock(&t->lock);
    return hit;
}

bool vi_iotlb_lookup(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     vi_iotlb_entry *e)
{
    unsigned sh = t->fast_shift;

    /*
     * The fast path, which calls nothing: no lock callbacks and one block
     * size in the cache, so one set to probe.
     */
    if (!sh || tag->stage > VI_IOTLB_NESTED) {
        return lookup_slow(t, tag, iova, e);
    }
    return lookup_done(t, probe(t, key_hash(iova >> sh, sh, tag->vmid, tag->asid), tag,
                                iova & ~((1ull << sh) - 1), sh), e);
}

bool vi_iotlb_insert(vi_iotlb *t, const vi_iotlb_tag *tag, uint64_t iova,
                     const vi_pt_result *res, int s2_level)
{
    unsigned sh, w;
    int l2 = s2_level >= 0 ? s2_level : res->level;
    uint64_t size = res->size, mask, base, h;
    /* Hardware-managed dirty state: a write must see the entry (pt.h). */
    uint32_t perm_cached = res->dirty_tracked ? VI_PERM_ALL & ~(VI_PERM_W | VI_PERM_UW)
                                              : VI_PERM_ALL;
    uint32_t set;
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
    h = key_hash(iova >> sh, sh, tag->vmid, tag->asid);
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
    s->p0 = (res->out & ~mask) | (res->perm & perm_cached) |
            level_encode(res->level) << P0_LEVEL_POS;
    if (tag->stage == VI_IOTLB_NESTED || l2 != res->level) {
        s->p0 |= P0_S2X;
        t->ipas[i] = (tag->stage == VI_IOTLB_NESTED ? res->ipa & ~mask : 0) | level_encode(l2);
    }
    st->fp |= fp_of_hash(h) << (8 * w);
    touch(st, w);
    index_add(t, (uint32_t)i);
    t->count++;
    if (tag->stage == VI_IOTLB_NESTED) {
        t->nested++;
    }
    t->nglobal += res->global;
    if (t->shift_count[sh]++ == 0) {
        t->shift_mask |= 1ull << sh;
        fast_update(t);
    }
    t->stats.inserts++;
    vi_unlock(&t->lock);
    return true;
}

/* ------------------------------------------------------------------------
 * Invalidation
 */

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

/* Slot i goes if the scope matches it; 1 if it went. */
static inline uint32_t inval_slot(vi_iotlb *t, uint32_t i, const vi_iotlb_scope *sc)
{
    vi_iotlb_entry e;

    t->stats.inval_visited++;
    slot_decode(t, i, &e);
    if (!scope_matches(sc, &e)) {
        return 0;
    }
    slot_free(t, i);
    return 1;
}

/* Every entry (slot index list from head), as scope sc says. */
static uint32_t inval_list(vi_iotlb *t, uint32_t head, const vi_iotlb_scope *sc)
{
    uint32_t n = 0;

    for (uint32_t i = head, next; i != NIL; i = next) {
        next = t->links[i].next;
        n += inval_slot(t, i, sc);
    }
    return n;
}

/* Last byte of the range of an address scope. */
static uint64_t scope_last(const vi_iotlb_scope *sc)
{
    uint64_t len = sc->len ? sc->len : 1, last = sc->addr + (len - 1);

    return last < sc->addr ? UINT64_MAX : last;
}

/* Blocks of every size present that the range covers (saturating). */
static uint64_t range_blocks(const vi_iotlb *t, const vi_iotlb_scope *sc)
{
    uint64_t mask = t->shift_mask, last = scope_last(sc), n = 0;

    while (mask) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);
        uint64_t k = (last >> sh) - (sc->addr >> sh) + 1;

        mask &= mask - 1;
        n = k > UINT64_MAX / 2 - n ? UINT64_MAX / 2 : n + k;
    }
    return n;
}

/*
 * The entries of domain d at every block of the range, by set probes: a
 * probe's candidates are d's entries of that block (and, rarely, a
 * fingerprint collision, which the key check leaves alone: only d's
 * entries go, the caller's iteration relies on it).
 */
static uint32_t inval_dom_probe(vi_iotlb *t, uint32_t d, const vi_iotlb_scope *sc)
{
    uint16_t vmid = t->doms[d].vmid, asid = t->doms[d].asid;
    uint64_t mask = t->shift_mask, last = scope_last(sc);
    uint64_t dkey = asid | (uint64_t)vmid << 16;
    uint32_t n = 0;

    while (mask) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);

        mask &= mask - 1;
        for (uint64_t b = sc->addr >> sh;; b++) {
            uint64_t h = key_hash(b, sh, vmid, asid);
            uint32_t set = set_of_hash(t, h);
            uint64_t cand = fp_candidates(t, &t->sets[set], fp_of_hash(h));

            while (cand) {
                uint32_t i = set * IOTLB_WAYS + ((unsigned)__builtin_ctzll(cand) >> 3);

                cand &= cand - 1;
                if (slot_used(t, i) && (t->slots[i].k2 & K2_KEY_MASK) == dkey) {
                    n += inval_slot(t, i, sc);
                }
            }
            if (b == last >> sh) {
                break;
            }
        }
    }
    return n;
}

/* Nested entries whose IPA block overlaps the range, through the IPA chains. */
static uint32_t inval_ipa_chains(vi_iotlb *t, const vi_iotlb_scope *sc)
{
    uint64_t mask = t->shift_mask, last = scope_last(sc);
    uint32_t n = 0;

    while (mask) {
        unsigned sh = (unsigned)__builtin_ctzll(mask);

        mask &= mask - 1;
        for (uint64_t b = sc->addr >> sh;; b++) {
            for (uint32_t i = t->ipa_bkt[ipa_bucket(t, b, sh)], next; i != NIL; i = next) {
                next = t->links[i].inext;
                n += inval_slot(t, i, sc);
            }
            if (b == last >> sh) {
                break;
            }
        }
    }
    return n;
}

/*
 * What an invalidation looks at, decided once per scope:
 *   by_addr: ADDR or IPA given;
 *   any_global: global entries of every ASID / SSID may match (an address
 *     scope naming ASID or SSID without tagged_global);
 *   ipa_chains: the nested part of an IPA scope goes through the IPA
 *     chains (cheaper than walking the domains' lists), so a domain visit
 *     needs only its stage-2 entries for IPA;
 *   blocks: set probes per domain for the range.
 */
typedef struct inval_plan {
    const vi_iotlb_scope *sc;
    bool by_addr, any_global, ipa_chains;
    uint64_t blocks;
} inval_plan;

/* The entries of domain d the scope may match. */
static uint32_t inval_dom(vi_iotlb *t, uint32_t d, const inval_plan *pl)
{
    const vi_iotlb_scope *sc = pl->sc;
    iotlb_dom *dn = &t->doms[d];
    uint32_t m = sc->match, p = NIL, cost = dn->count, n = 0;
    bool one_pasid = false;

    /* Only the named SSID's entries, unless global ones of others match. */
    if ((m & VI_IOTLB_M_SSID) && (!pl->any_global || dn->nglobal == 0)) {
        p = pas_find(t, d, sc->tag.ssid);
        if (p == NIL) {
            return 0;
        }
        one_pasid = true;
        cost = t->pas[p].count;
    }
    if (pl->by_addr) {
        if ((m & VI_IOTLB_M_IPA) && !(m & VI_IOTLB_M_ADDR) && pl->ipa_chains && !dn->ns2) {
            return 0;           /* stage 1 never matches; nested done by IPA */
        }
        if (pl->blocks <= cost &&
            (!(m & VI_IOTLB_M_IPA) || (m & VI_IOTLB_M_ADDR) || pl->ipa_chains)) {
            /* Probing by input address finds what ADDR or stage-2 IPA match. */
            return inval_dom_probe(t, d, sc);
        }
    }
    if (one_pasid) {
        return inval_list(t, t->pas[p].head, sc);
    }
    for (uint32_t q = dn->pasids, qn; q != NIL; q = qn) {
        qn = t->pas[q].snext;
        n += inval_list(t, t->pas[q].head, sc);
    }
    return n;
}

/* Every slot, reset as new: the scope matches every entry. */
static uint32_t inval_everything(vi_iotlb *t)
{
    uint32_t n = t->count;

    if (!n) {
        return 0;
    }
    for (uint32_t s = 0; s < t->nsets; s++) {
        t->sets[s].fp = 0;
    }
    memset(t->slots, 0, nslots_of(t->nsets) * sizeof(iotlb_slot));
    memset(t->shift_count, 0, sizeof(t->shift_count));
    t->shift_mask = 0;
    fast_update(t);
    t->count = t->nested = t->nglobal = 0;
    index_reset(t);
    return n;
}

static uint32_t inval_indexed(vi_iotlb *t, const vi_iotlb_scope *sc)
{
    uint32_t m = sc->match, n = 0;
    inval_plan pl = { .sc = sc };

    if (!t->count) {
        return 0;
    }
    pl.by_addr = m & (VI_IOTLB_M_ADDR | VI_IOTLB_M_IPA);
    pl.any_global = pl.by_addr && !sc->tagged_global &&
                    (m & (VI_IOTLB_M_ASID | VI_IOTLB_M_SSID)) && t->nglobal;
    if (pl.by_addr) {
        pl.blocks = range_blocks(t, sc);
    }
    pl.ipa_chains = (m & VI_IOTLB_M_IPA) && !(m & VI_IOTLB_M_ADDR) &&
                    (!t->nested || pl.blocks <= t->nested);
    if (m & VI_IOTLB_M_ASID) {
        /* The ASID's domains, then (any_global) the others holding globals. */
        for (uint32_t d = t->dom_bkt[dom_bucket(t, sc->tag.asid)], dn; d != NIL; d = dn) {
            dn = t->doms[d].hnext;
            if (t->doms[d].asid == sc->tag.asid &&
                (!(m & VI_IOTLB_M_VMID) || t->doms[d].vmid == sc->tag.vmid)) {
                n += inval_dom(t, d, &pl);
            }
        }
    }
    if (!(m & VI_IOTLB_M_ASID) || pl.any_global) {
        for (uint32_t d = t->dom_live, dn; d != NIL; d = dn) {
            dn = t->doms[d].lnext;
            if ((!(m & VI_IOTLB_M_VMID) || t->doms[d].vmid == sc->tag.vmid) &&
                (!(m & VI_IOTLB_M_ASID) ||
                 (t->doms[d].asid != sc->tag.asid && t->doms[d].nglobal))) {
                n += inval_dom(t, d, &pl);
            }
        }
    }
    if (pl.ipa_chains && t->nested) {
        n += inval_ipa_chains(t, sc);
    }
    return n;
}

uint32_t vi_iotlb_invalidate(vi_iotlb *t, const vi_iotlb_scope *sc)
{
    uint32_t n;

    vi_lock(&t->lock);
    n = sc->match == 0 && sc->stages == 0 ? inval_everything(t) : inval_indexed(t, sc);
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
