/*
 * qemu-viommu translation core: the configuration cache (see cfg-cache.h).
 *
 * Two set-associative tables (device, substream).  Each slot holds its key,
 * tags, an LRU stamp and a fixed-size payload stored in a parallel byte
 * array.  Lookups probe one set; invalidations scan a whole table, which is
 * bounded by the capacity fixed at creation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "hw/viommu/core/cfg-cache.h"
#include "lock-cb.h"

typedef struct cc_slot {
    uint64_t lru;           /* 0: slot empty */
    uint32_t sid, ssid;
    uint32_t tag, dev_tag;
} cc_slot;

typedef struct cc_table {
    cc_slot *slots;
    uint8_t *payload;
    size_t size;            /* payload bytes per slot */
    uint32_t nsets;         /* power of two */
    uint32_t count;
} cc_table;

struct vi_cfg_cache {
    cc_table dev, sub;
    uint64_t tick;
    uint64_t gen;
    vi_cfg_cache_stats stats;
    vi_lock_cb lock;
};

static bool table_init(cc_table *t, uint32_t entries, size_t size)
{
    uint32_t n = VI_CFG_CACHE_WAYS;

    if (!entries || entries > VI_CFG_CACHE_MAX_ENTRIES ||
        !size || size > VI_CFG_CACHE_MAX_PAYLOAD) {
        return false;
    }
    while (n < entries) {
        n <<= 1;
    }
    t->nsets = n / VI_CFG_CACHE_WAYS;
    t->size = size;
    t->count = 0;
    t->slots = calloc(n, sizeof(*t->slots));
    t->payload = calloc(n, size);
    return t->slots && t->payload;
}

static void table_destroy(cc_table *t)
{
    free(t->slots);
    free(t->payload);
    t->slots = NULL;
    t->payload = NULL;
}

static uint32_t table_capacity(const cc_table *t)
{
    return t->nsets * VI_CFG_CACHE_WAYS;
}

vi_cfg_cache *vi_cfg_cache_new(uint32_t dev_entries, size_t dev_size,
                               uint32_t sub_entries, size_t sub_size)
{
    vi_cfg_cache *c = calloc(1, sizeof(*c));

    if (!c) {
        return NULL;
    }
    if (!table_init(&c->dev, dev_entries, dev_size) ||
        !table_init(&c->sub, sub_entries, sub_size)) {
        vi_cfg_cache_free(c);
        return NULL;
    }
    return c;
}

void vi_cfg_cache_free(vi_cfg_cache *c)
{
    if (c) {
        table_destroy(&c->dev);
        table_destroy(&c->sub);
        free(c);
    }
}

void vi_cfg_cache_set_lock(vi_cfg_cache *c, void (*lock)(void *),
                           void (*unlock)(void *), void *opaque)
{
    vi_lock_cb_set(&c->lock, lock, unlock, opaque);
}

size_t vi_cfg_cache_mem_bytes(const vi_cfg_cache *c)
{
    size_t n = sizeof(*c);

    n += (size_t)table_capacity(&c->dev) * (sizeof(cc_slot) + c->dev.size);
    n += (size_t)table_capacity(&c->sub) * (sizeof(cc_slot) + c->sub.size);
    return n;
}

uint32_t vi_cfg_cache_dev_capacity(const vi_cfg_cache *c)
{
    return table_capacity(&c->dev);
}

uint32_t vi_cfg_cache_sub_capacity(const vi_cfg_cache *c)
{
    return table_capacity(&c->sub);
}

/* Entries in t, one of c's tables, read under c's lock. */
static uint32_t table_count(vi_cfg_cache *c, const cc_table *t)
{
    uint32_t n;

    vi_lock(&c->lock);
    n = t->count;
    vi_unlock(&c->lock);
    return n;
}

uint32_t vi_cfg_cache_dev_count(vi_cfg_cache *c)
{
    return table_count(c, &c->dev);
}

uint32_t vi_cfg_cache_sub_count(vi_cfg_cache *c)
{
    return table_count(c, &c->sub);
}

void vi_cfg_cache_get_stats(vi_cfg_cache *c, vi_cfg_cache_stats *stats)
{
    vi_lock(&c->lock);
    *stats = c->stats;
    vi_unlock(&c->lock);
}

uint64_t vi_cfg_cache_gen(vi_cfg_cache *c)
{
    uint64_t g;

    vi_lock(&c->lock);
    g = c->gen;
    vi_unlock(&c->lock);
    return g;
}

/* ------------------------------------------------------------------------
 * Set lookup and replacement
 */

static uint32_t hash_key(uint32_t sid, uint32_t ssid)
{
    uint64_t h = ((uint64_t)sid << 32 | ssid) * 0x9e3779b97f4a7c15ull;

    return (uint32_t)(h >> 32);
}

static cc_slot *set_of(cc_table *t, uint32_t sid, uint32_t ssid)
{
    return &t->slots[(size_t)(hash_key(sid, ssid) & (t->nsets - 1)) * VI_CFG_CACHE_WAYS];
}

static uint8_t *payload_of(cc_table *t, const cc_slot *s)
{
    return t->payload + (size_t)(s - t->slots) * t->size;
}

static cc_slot *find(cc_table *t, uint32_t sid, uint32_t ssid)
{
    cc_slot *set = set_of(t, sid, ssid);

    for (unsigned w = 0; w < VI_CFG_CACHE_WAYS; w++) {
        if (set[w].lru && set[w].sid == sid && set[w].ssid == ssid) {
            return &set[w];
        }
    }
    return NULL;
}

static bool lookup(vi_cfg_cache *c, cc_table *t, uint32_t sid, uint32_t ssid, void *out)
{
    cc_slot *s;

    vi_lock(&c->lock);
    s = find(t, sid, ssid);
    if (s) {
        s->lru = ++c->tick;
        memcpy(out, payload_of(t, s), t->size);
        c->stats.hits++;
    } else {
        c->stats.misses++;
    }
    vi_unlock(&c->lock);
    return s != NULL;
}

static bool insert(vi_cfg_cache *c, cc_table *t, uint32_t sid, uint32_t ssid,
                   uint32_t dev_tag, uint32_t tag, const void *payload, uint64_t gen)
{
    cc_slot *s;

    vi_lock(&c->lock);
    if (gen != c->gen) {
        c->stats.stale_drops++;
        vi_unlock(&c->lock);
        return false;
    }
    s = find(t, sid, ssid);
    if (!s) {
        cc_slot *set = set_of(t, sid, ssid);

        /* An empty way, else the least recently used one. */
        s = &set[0];
        for (unsigned w = 0; w < VI_CFG_CACHE_WAYS; w++) {
            if (!set[w].lru) {
                s = &set[w];
                break;
            }
            if (set[w].lru < s->lru) {
                s = &set[w];
            }
        }
        if (s->lru) {
            c->stats.evictions++;
        } else {
            t->count++;
        }
    }
    s->sid = sid;
    s->ssid = ssid;
    s->tag = tag;
    s->dev_tag = dev_tag;
    s->lru = ++c->tick;
    memcpy(payload_of(t, s), payload, t->size);
    c->stats.inserts++;
    vi_unlock(&c->lock);
    return true;
}

bool vi_cfg_cache_lookup_dev(vi_cfg_cache *c, uint32_t sid, void *out)
{
    return lookup(c, &c->dev, sid, 0, out);
}

bool vi_cfg_cache_lookup_sub(vi_cfg_cache *c, uint32_t sid, uint32_t ssid, void *out)
{
    return lookup(c, &c->sub, sid, ssid, out);
}

bool vi_cfg_cache_insert_dev(vi_cfg_cache *c, uint32_t sid, uint32_t tag,
                             const void *payload, uint64_t gen)
{
    return insert(c, &c->dev, sid, 0, tag, tag, payload, gen);
}

bool vi_cfg_cache_insert_sub(vi_cfg_cache *c, uint32_t sid, uint32_t ssid,
                             uint32_t dev_tag, uint32_t tag, const void *payload,
                             uint64_t gen)
{
    return insert(c, &c->sub, sid, ssid, dev_tag, tag, payload, gen);
}

/* ------------------------------------------------------------------------
 * Invalidation: one scan per table with a predicate.
 */

typedef struct cc_scope {
    enum {
        SC_ALL,             /* every entry */
        SC_SID_RANGE,       /* first <= sid <= last */
        SC_SID_MASK,        /* (sid & ~mask) == (a & ~mask) */
        SC_SID_SSID,        /* sid == a && ssid == b */
        SC_TAG,             /* tag == a (or ANY) */
        SC_DEV_TAG,         /* dev_tag == a (or ANY) */
        SC_TAG_SSID,        /* tag == a (or ANY) && ssid == b */
    } kind;
    uint32_t a, b;
} cc_scope;

static bool tag_match(uint32_t have, uint32_t want)
{
    return have == want || have == VI_CFG_TAG_ANY;
}

static bool scope_match(const cc_scope *sc, const cc_slot *s)
{
    switch (sc->kind) {
    case SC_ALL:
        return true;
    case SC_SID_RANGE:
        return s->sid >= sc->a && s->sid <= sc->b;
    case SC_SID_MASK:
        return ((s->sid ^ sc->a) & ~sc->b) == 0;
    case SC_SID_SSID:
        return s->sid == sc->a && s->ssid == sc->b;
    case SC_TAG:
        return tag_match(s->tag, sc->a);
    case SC_DEV_TAG:
        return tag_match(s->dev_tag, sc->a);
    case SC_TAG_SSID:
        return tag_match(s->tag, sc->a) && s->ssid == sc->b;
    }
    return false;
}

static void table_inv(vi_cfg_cache *c, cc_table *t, const cc_scope *sc)
{
    uint32_t n = table_capacity(t);

    for (uint32_t i = 0; i < n; i++) {
        cc_slot *s = &t->slots[i];

        if (s->lru && scope_match(sc, s)) {
            s->lru = 0;
            t->count--;
            c->stats.invalidated++;
        }
    }
}

/* Invalidate: dev and/or sub tables with the given scopes (NULL: skip). */
static void inv(vi_cfg_cache *c, const cc_scope *dev, const cc_scope *sub)
{
    vi_lock(&c->lock);
    c->gen++;
    if (dev) {
        table_inv(c, &c->dev, dev);
    }
    if (sub) {
        table_inv(c, &c->sub, sub);
    }
    vi_unlock(&c->lock);
}

void vi_cfg_cache_inv_all(vi_cfg_cache *c)
{
    cc_scope sc = { .kind = SC_ALL };

    inv(c, &sc, &sc);
}

void vi_cfg_cache_inv_sid(vi_cfg_cache *c, uint32_t sid)
{
    cc_scope sc = { .kind = SC_SID_RANGE, .a = sid, .b = sid };

    inv(c, &sc, &sc);
}

void vi_cfg_cache_inv_sid_range(vi_cfg_cache *c, uint32_t first, uint32_t last)
{
    cc_scope sc = { .kind = SC_SID_RANGE, .a = first, .b = last };

    inv(c, &sc, &sc);
}

void vi_cfg_cache_inv_sid_mask(vi_cfg_cache *c, uint32_t sid, uint32_t mask)
{
    cc_scope sc = { .kind = SC_SID_MASK, .a = sid, .b = mask };

    inv(c, &sc, &sc);
}

void vi_cfg_cache_inv_dev_tag(vi_cfg_cache *c, uint32_t tag)
{
    cc_scope sc = { .kind = SC_DEV_TAG, .a = tag };

    /* Device entries carry their tag in both fields. */
    inv(c, &sc, &sc);
}

void vi_cfg_cache_inv_ssid(vi_cfg_cache *c, uint32_t sid, uint32_t ssid)
{
    cc_scope sc = { .kind = SC_SID_SSID, .a = sid, .b = ssid };

    inv(c, NULL, &sc);
}

void vi_cfg_cache_inv_ssid_all(vi_cfg_cache *c, uint32_t sid)
{
    cc_scope sc = { .kind = SC_SID_RANGE, .a = sid, .b = sid };

    inv(c, NULL, &sc);
}

void vi_cfg_cache_inv_sub_tag(vi_cfg_cache *c, uint32_t tag)
{
    cc_scope sc = { .kind = SC_TAG, .a = tag };

    inv(c, NULL, &sc);
}

void vi_cfg_cache_inv_sub_tag_ssid(vi_cfg_cache *c, uint32_t tag, uint32_t ssid)
{
    cc_scope sc = { .kind = SC_TAG_SSID, .a = tag, .b = ssid };

    inv(c, NULL, &sc);
}

void vi_cfg_cache_inv_sub_all(vi_cfg_cache *c)
{
    cc_scope sc = { .kind = SC_ALL };

    inv(c, NULL, &sc);
}
