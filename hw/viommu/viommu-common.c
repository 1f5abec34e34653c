/*
 * qemu-viommu: glue shared by viommu-smmuv3 and viommu-vtd (what each part
 * does and its lock rules: include/hw/viommu/viommu-common.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <sched.h>
#include "qemu/log.h"
#include "qemu/rcu.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "exec/address-spaces.h"
#include "hw/viommu/viommu-common.h"
#include "trace.h"

/* ------------------------------------------------------------------------
 * Guest memory: RAM only
 */

/* The RAM block behind [pa, pa + len), or NULL.  Under RCU. */
static MemoryRegion *viommu_ram_region(uint64_t pa, size_t len, bool write, hwaddr *xlat)
{
    hwaddr l = len;
    MemoryRegion *mr = address_space_translate(&address_space_memory, pa, xlat, &l, write,
                                               MEMTXATTRS_UNSPECIFIED);

    if (l < len || !memory_region_is_ram(mr) || memory_region_is_ram_device(mr) ||
        (write && (mr->readonly || memory_region_is_rom(mr)))) {
        return NULL;
    }
    return mr;
}

/*
 * A read or write of RAM.  Not a plain copy of the host memory: a write
 * marks the page dirty and drops stale TCG code.
 */
static vi_mem_result viommu_ram_access(uint64_t pa, void *buf, size_t len, bool write)
{
    hwaddr xlat;

    RCU_READ_LOCK_GUARD();
    if (!viommu_ram_region(pa, len, write, &xlat)) {
        return VI_MEM_ABORT;
    }
    return address_space_rw(&address_space_memory, pa, MEMTXATTRS_UNSPECIFIED, buf, len,
                            write) == MEMTX_OK ? VI_MEM_OK : VI_MEM_ABORT;
}

static vi_mem_result viommu_ram_op_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
    return viommu_ram_access(pa, buf, len, false);
}

static vi_mem_result viommu_ram_op_write(void *opaque, uint64_t pa, const void *buf,
                                         size_t len)
{
    return viommu_ram_access(pa, (void *)buf, len, true);
}

static vi_mem_result viommu_ram_op_cmpxchg64(void *opaque, uint64_t pa, uint64_t *expected,
                                             uint64_t desired, bool *swapped)
{
    uint64_t *host, old, exp = cpu_to_le64(*expected);
    MemoryRegion *mr;
    hwaddr xlat;

    if (pa & 7) {
        return VI_MEM_ABORT;
    }
    RCU_READ_LOCK_GUARD();
    mr = viommu_ram_region(pa, 8, true, &xlat);
    if (!mr) {
        return VI_MEM_ABORT;
    }
    host = (uint64_t *)((uint8_t *)memory_region_get_ram_ptr(mr) + xlat);
    old = qatomic_cmpxchg__nocheck(host, exp, cpu_to_le64(desired));
    *swapped = old == exp;
    *expected = le64_to_cpu(old);
    if (*swapped) {
        memory_region_set_dirty(mr, xlat, 8);
    }
    return VI_MEM_OK;
}

static const vi_mem_ops viommu_ram_ops = {
    .read = viommu_ram_op_read,
    .write = viommu_ram_op_write,
    .cmpxchg64 = viommu_ram_op_cmpxchg64,
};

const vi_mem viommu_ram = { .ops = &viommu_ram_ops, .opaque = NULL };

bool viommu_ram_read(uint64_t pa, void *buf, size_t len)
{
    return viommu_ram_op_read(NULL, pa, buf, len) == VI_MEM_OK;
}

bool viommu_ram_write(uint64_t pa, const void *buf, size_t len)
{
    return viommu_ram_op_write(NULL, pa, buf, len) == VI_MEM_OK;
}

/* ------------------------------------------------------------------------
 * Requester IDs
 */
void viommu_rid_init(ViommuRid *r, PCIBus *bus, uint8_t devfn)
{
    *r = (ViommuRid) { .bus = bus, .devfn = devfn };
    if (pci_bus_is_root(bus)) {
        r->root_bus = pci_bus_num(bus);
    } else {
        r->bridge = bus->parent_dev;
    }
    r->bus_num_other = viommu_rid(r) != PCI_BUILD_BDF(pci_bus_num(bus), devfn);
}

/* ------------------------------------------------------------------------
 * Address spaces
 */
static guint viommu_key_hash(gconstpointer p)
{
    const ViommuSpaceKey *k = p;

    return g_direct_hash(k->bus) ^ (k->devfn * 0x9e3779b1u) ^ (k->pasid * 31u) ^
           (k->has_pasid << 21) ^ (k->attrs << 22);
}

static gboolean viommu_key_equal(gconstpointer a, gconstpointer b)
{
    const ViommuSpaceKey *x = a, *y = b;

    return x->bus == y->bus && x->devfn == y->devfn && x->has_pasid == y->has_pasid &&
           x->pasid == y->pasid && x->attrs == y->attrs;
}

void viommu_spaces_init(ViommuSpaces *t, const char *name, unsigned max_pasid,
                        const ViommuSpaceOps *ops, void *opaque)
{
    *t = (ViommuSpaces) {
        .name = name, .max_pasid = max_pasid, .ops = ops, .opaque = opaque,
        .table = g_hash_table_new_full(viommu_key_hash, viommu_key_equal, g_free, NULL),
    };
    QLIST_INIT(&t->live);
    QLIST_INIT(&t->gone);
    QTAILQ_INIT(&t->idle);
}

/* The property a bus with spaces in t carries: its release prunes them. */
static char *viommu_bus_prop_name(const ViommuSpaces *t)
{
    return g_strdup_printf("x-viommu-spaces-%p", t);
}

static void viommu_bus_gone(Object *obj, const char *name, void *opaque)
{
    viommu_spaces_prune_bus(opaque, PCI_BUS(obj));
}

void viommu_spaces_destroy(ViommuSpaces *t)
{
    g_autofree char *prop = viommu_bus_prop_name(t);
    ViommuSpace *sp;

    if (!t->table) {
        return;
    }
    /* The buses outlive us: their properties must not call back. */
    VIOMMU_SPACES_FOREACH(sp, t) {
        if (object_property_find(OBJECT(sp->key.bus), prop)) {
            object_property_del(OBJECT(sp->key.bus), prop);
        }
    }
    g_clear_pointer(&t->table, g_hash_table_destroy);
}

ViommuSpace *viommu_spaces_find(ViommuSpaces *t, const ViommuSpaceKey *key)
{
    return g_hash_table_lookup(t->table, key);
}

ViommuSpace *viommu_spaces_get(ViommuSpaces *t, const ViommuSpaceKey *key)
{
    ViommuSpace *sp = g_hash_table_lookup(t->table, key);
    g_autofree char *prop = NULL;
    uint32_t id;

    if (sp) {
        if (key->has_pasid && !sp->users++) {
            QTAILQ_REMOVE(&t->idle, sp, idle_next);
            t->nidle--;
        }
        return sp;
    }
    /* Every space in use counts (idle ones were released first): bounded. */
    if (key->has_pasid && t->npasid >= t->max_pasid) {
        viommu_spaces_release_idle(t);
    }
    if (key->has_pasid && t->npasid >= t->max_pasid) {
        qemu_log_mask(LOG_GUEST_ERROR, "%s: more than %u PASID address spaces in use; PASID "
                      "0x%x refused\n", t->name, t->max_pasid, key->pasid);
        return NULL;
    }
    id = ++t->next_id;
    sp = t->ops->create(t->opaque, key, id);
    if (!sp) {
        return NULL;
    }
    t->npasid += key->has_pasid;
    sp->key = *key;
    viommu_rid_init(&sp->rid, key->bus, key->devfn);
    sp->id = id;
    sp->fast_rid = -1;
    sp->users = key->has_pasid;
    sp->free = t->ops->free;
    g_hash_table_insert(t->table, g_memdup2(key, sizeof(*key)), sp);
    QLIST_INSERT_HEAD(&t->live, sp, next);
    /* Forget the bus's spaces when it is finalized (hot-unplug of its bridge). */
    prop = viommu_bus_prop_name(t);
    if (!object_property_find(OBJECT(key->bus), prop)) {
        object_property_add(OBJECT(key->bus), prop, "none", NULL, NULL, viommu_bus_gone, t);
    }
    return sp;
}

void viommu_space_detach(AddressSpace *as)
{
    MemoryRegion *root = as->root;

    memory_region_transaction_begin();
    address_space_destroy(as);
    /*
     * Make the commit rebuild the topology: that drops the memory core's
     * cached flat view of root, which address_space_destroy() alone leaves
     * behind (holding the space's regions) until some later commit.
     */
    memory_region_set_enabled(root, false);
    memory_region_transaction_commit();
}

/*
 * Two grace periods: the memory core's RCU work for the space (queued by
 * address_space_destroy() before ours) drops the space's last flat view
 * only when it runs, and that view's own destruction, which still touches
 * the space's regions, is queued then, after the first pass of ours.
 */
static void viommu_space_free_rcu(struct rcu_head *head)
{
    ViommuSpace *sp = container_of(head, ViommuSpace, rcu);

    if (!sp->free_queued) {
        sp->free_queued = true;
        call_rcu1(&sp->rcu, viommu_space_free_rcu);
        return;
    }
    sp->free(sp);
}

/* Take idle sp out of the table and release it; false if the device keeps it. */
static bool viommu_space_release(ViommuSpaces *t, ViommuSpace *sp)
{
    if (!t->ops->release(t->opaque, sp)) {
        return false;
    }
    trace_viommu_space_released(t->name, sp->key.devfn, sp->key.pasid, sp->id);
    QTAILQ_REMOVE(&t->idle, sp, idle_next);
    t->nidle--;
    QLIST_REMOVE(sp, next);
    t->npasid--;
    g_hash_table_remove(t->table, &sp->key);
    /* After the memory core's own RCU work queued by release(): callbacks run in order. */
    call_rcu1(&sp->rcu, viommu_space_free_rcu);
    return true;
}

void viommu_spaces_put(ViommuSpaces *t, ViommuSpace *sp)
{
    unsigned tries;

    if (!sp->key.has_pasid) {
        return;
    }
    assert(sp->users);
    if (--sp->users) {
        return;
    }
    if (!sp->key.bus) {         /* its bus is gone: it stays on t->gone */
        return;
    }
    QTAILQ_INSERT_TAIL(&t->idle, sp, idle_next);
    t->nidle++;
    /* Oldest first; one the device keeps moves to the back (each visited once). */
    for (tries = t->nidle; t->nidle > VIOMMU_SPACES_IDLE_MAX && tries; tries--) {
        ViommuSpace *old = QTAILQ_FIRST(&t->idle);

        if (!viommu_space_release(t, old)) {
            QTAILQ_REMOVE(&t->idle, old, idle_next);
            QTAILQ_INSERT_TAIL(&t->idle, old, idle_next);
        }
    }
}

void viommu_spaces_release_idle(ViommuSpaces *t)
{
    ViommuSpace *sp, *next;

    QTAILQ_FOREACH_SAFE(sp, &t->idle, idle_next, next) {
        viommu_space_release(t, sp);
    }
}

static void viommu_spaces_count_get(Object *obj, Visitor *v, const char *name, void *opaque,
                                    Error **errp)
{
    ViommuSpaces *t = opaque;
    uint32_t n = t->npasid;

    visit_type_uint32(v, name, &n, errp);
}

void viommu_spaces_add_test_props(Object *obj, ViommuSpaces *t)
{
    object_property_add(obj, "x-pasid-spaces", "uint32", viommu_spaces_count_get, NULL, NULL, t);
}

/*
 * The spaces of bus leave the table (a new bus at the same address gets new
 * ones) and keep no pointer into it.  They are not freed: the memory core
 * may still hold their regions until an RCU grace period, and the devices
 * that used them are gone.
 */
void viommu_spaces_prune_bus(ViommuSpaces *t, PCIBus *bus)
{
    ViommuSpace *sp, *next;

    if (!t->table) {
        return;
    }
    QLIST_FOREACH_SAFE(sp, &t->live, next, next) {
        if (sp->key.bus != bus) {
            continue;
        }
        trace_viommu_space_gone(t->name, sp->key.devfn, sp->key.has_pasid, sp->key.pasid);
        g_hash_table_remove(t->table, &sp->key);
        QLIST_REMOVE(sp, next);
        t->npasid -= sp->key.has_pasid;
        if (sp->key.has_pasid && !sp->users) {
            QTAILQ_REMOVE(&t->idle, sp, idle_next);
            t->nidle--;
        }
        sp->key.bus = NULL;
        sp->rid.bus = NULL;
        sp->rid.bridge = NULL;
        QLIST_INSERT_HEAD(&t->gone, sp, next);
    }
}

/* ------------------------------------------------------------------------
 * IOMMU notifiers
 */
int viommu_notify_flag_check(IOMMUNotifierFlag new, const char *why, Error **errp)
{
    if (new & IOMMU_NOTIFIER_MAP) {
        error_setg(errp, "%s", why);
        return -EINVAL;
    }
    return 0;
}

void viommu_notify_unmap_all(IOMMUMemoryRegion *mr)
{
    IOMMUNotifier *n;

    if (!mr->iommu_notify_flags) {
        return;
    }
    IOMMU_NOTIFIER_FOREACH(n, mr) {
        if (n->notifier_flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) {
            IOMMUTLBEvent ev = {
                .type = IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
                .entry = {
                    .target_as = &address_space_memory,
                    .iova = 0,
                    .addr_mask = (1ull << 63) - 1,
                    .perm = IOMMU_NONE,
                },
            };

            memory_region_notify_iommu_one(n, &ev);
        } else {
            memory_region_unmap_iommu_notifier_range(n);
        }
    }
}

/* ------------------------------------------------------------------------
 * The lock-free hit path
 *
 * A reader takes no lock: it reads the chunk's header (space, base,
 * generation) inside the chunk's seqlock, and the page's word, a single
 * atomic load; a torn or changing chunk simply misses, and the miss takes
 * the device's lock.  Restarting a chunk for other pages (or a new
 * generation) changes its header and clears its words inside the seqlock;
 * filling a word of a current chunk needs no seqlock, as a word is read
 * whole and belongs to the header it is found under.
 *
 * So a hit returns a result computed since the last invalidation: a reader
 * that did not see a bump is ordered before that invalidation, and one that
 * starts after an invalidation cannot use what it made stale.  What a reader
 * that loaded the old generation is still doing when the invalidation
 * completes is the quiescence below: the hit runs in a reader section of
 * the current epoch, and the completion (CMD_SYNC, wait descriptor) waits
 * for the sections of the epochs before it.
 *
 * A page's word keeps the whole result (a block's output base and size).
 * The space stands for a requester (and PASID, attributes); its requester
 * ID's bus number is the guest's to change, so its results are used only
 * while the requester ID is the one they were made for.
 */
#define FAST_SHIFT          (12 + 4)        /* log2 of a chunk's span */
QEMU_BUILD_BUG_ON(1u << (FAST_SHIFT - 12) != VIOMMU_FAST_PAGES);
#define FAST_PERM_MASK      0x3ull          /* IOMMU_RO | IOMMU_WO */
#define FAST_SIZE_POS       2               /* log2(size) - 12, 6 bits */
#define FAST_OUT_MASK       (~0xfffull)
#define QUIESCE_YIELDS      1000

void viommu_fast_init(ViommuFast *f, uint32_t pages)
{
    uint32_t n = pow2ceil(MAX(MIN(pages, VIOMMU_FAST_MAX), VIOMMU_FAST_MIN)) /
                 VIOMMU_FAST_PAGES;

    memset(f, 0, sizeof(*f));
    f->bits = ctz32(n / VIOMMU_FAST_WAYS);
    f->chunks = qemu_memalign(64, n * sizeof(ViommuFastChunk));
    memset(f->chunks, 0, n * sizeof(ViommuFastChunk));
    qemu_mutex_init(&f->stall_lock);
    qemu_cond_init(&f->stall_cond);
}

void viommu_fast_destroy(ViommuFast *f)
{
    if (f->chunks) {
        g_clear_pointer(&f->chunks, qemu_vfree);
        qemu_cond_destroy(&f->stall_cond);
        qemu_mutex_destroy(&f->stall_lock);
    }
}

static inline ViommuFastChunk *fast_set(const ViommuFast *f, uint32_t id, uint64_t base)
{
    uint64_t h = (base ^ ((uint64_t)id << 44)) * 0x9e3779b97f4a7c15ull;

    return &f->chunks[(h >> (64 - f->bits)) * VIOMMU_FAST_WAYS];
}

/* The word for addr in the current generation, or 0.  Inside a reader section. */
static inline uint64_t fast_lookup(const ViommuFast *f, uint32_t id, hwaddr addr)
{
    uint64_t base = addr >> FAST_SHIFT;
    unsigned idx = (addr >> 12) & (VIOMMU_FAST_PAGES - 1);
    ViommuFastChunk *set = fast_set(f, id, base);
    uint64_t gen = qatomic_read_u64(&f->gen);

    for (int w = 0; w < VIOMMU_FAST_WAYS; w++) {
        ViommuFastChunk *c = &set[w];
        unsigned seq = seqlock_read_begin(&c->seq);
        uint32_t cid = qatomic_read(&c->id);
        uint64_t cbase = qatomic_read_u64(&c->base);
        uint64_t cgen = qatomic_read_u64(&c->gen);
        uint64_t v = qatomic_read_u64(&c->page[idx]);

        if (!seqlock_read_retry(&c->seq, seq) && cid == id && cbase == base && cgen == gen) {
            return v;
        }
    }
    return 0;
}

/*
 * Enter a reader section: counted in the epoch it was read in, and that
 * epoch is still current after the count (else a quiesce that flipped it in
 * between might not wait for us).  Full barriers (sequentially consistent
 * read-modify-writes) order the count before the generation's load.
 */
static inline unsigned fast_read_begin(ViommuFast *f)
{
    for (;;) {
        unsigned e = qatomic_read(&f->epoch);

        qatomic_inc(&f->readers[e & 1]);
        if (likely(qatomic_read(&f->epoch) == e)) {
            return e & 1;
        }
        qatomic_dec(&f->readers[e & 1]);
    }
}

static inline void fast_read_end(ViommuFast *f, unsigned p)
{
    if (qatomic_fetch_dec(&f->readers[p]) == 1) {
        QEMUBH *w = qatomic_read(&f->waiter);

        if (unlikely(w)) {
            qemu_bh_schedule(w);
        }
    }
}

/*
 * Test hook: hold a hit (in its reader section, after the lookup) while
 * x-fast-stall is set; threads without the BQL only.
 */
static void __attribute__((noinline)) fast_stall(ViommuFast *f)
{
    qemu_mutex_lock(&f->stall_lock);
    qatomic_inc(&f->stalled);
    while (qatomic_read(&f->stall)) {
        qemu_cond_wait(&f->stall_cond, &f->stall_lock);
    }
    qatomic_dec(&f->stalled);
    qemu_mutex_unlock(&f->stall_lock);
}

bool viommu_fast_hit(ViommuFast *f, ViommuSpace *sp, uint32_t rid, hwaddr addr,
                     IOMMUAccessFlags flag, IOMMUTLBEntry *e)
{
    unsigned p = fast_read_begin(f);
    uint64_t v, mask;

    /* Acquire: a requester ID published with a new generation sees that one. */
    if (qatomic_load_acquire(&sp->fast_rid) != (int32_t)rid) {
        fast_read_end(f, p);
        return false;
    }
    v = fast_lookup(f, sp->id, addr);
    if ((v & flag) != flag || !v) {
        fast_read_end(f, p);
        return false;
    }
    if (unlikely(qatomic_read(&f->stall)) && !bql_locked()) {
        fast_stall(f);          /* never the main loop: it must release us */
    }
    mask = (0x1000ull << ((v >> FAST_SIZE_POS) & 63)) - 1;
    e->target_as = &address_space_memory;
    e->iova = addr & ~mask;
    e->translated_addr = v & FAST_OUT_MASK;
    e->addr_mask = mask;
    e->perm = v & FAST_PERM_MASK;
    fast_read_end(f, p);
    return true;
}

void viommu_fast_set_rid_locked(ViommuFast *f, ViommuSpace *sp, uint32_t rid)
{
    if (sp->fast_rid != (int32_t)rid) {
        if (sp->fast_rid >= 0) {
            viommu_fast_bump_locked(f);
        }
        qatomic_store_release(&sp->fast_rid, (int32_t)rid);
    }
}

void viommu_fast_insert_locked(ViommuFast *f, const ViommuSpace *sp, hwaddr addr,
                               const IOMMUTLBEntry *e)
{
    uint64_t base = addr >> FAST_SHIFT;
    unsigned idx = (addr >> 12) & (VIOMMU_FAST_PAGES - 1);
    ViommuFastChunk *set = fast_set(f, sp->id, base), *c;
    uint64_t v;
    int w;

    if (!(e->perm & FAST_PERM_MASK) || e->addr_mask < 0xfff ||
        !is_power_of_2(e->addr_mask + 1) || (e->translated_addr & e->addr_mask)) {
        return;                 /* not a result a word can hold */
    }
    v = (e->translated_addr & FAST_OUT_MASK) | (e->perm & FAST_PERM_MASK) |
        (uint64_t)(ctz64(e->addr_mask + 1) - 12) << FAST_SIZE_POS;
    for (w = 0; w < VIOMMU_FAST_WAYS; w++) {
        c = &set[w];
        if (c->id == sp->id && c->base == base && c->gen == f->gen) {
            /*
             * The chunk is current: no seqlock.  The barrier orders the word
             * after the stores that (re)started the chunk, so a reader that
             * sees the word and an even sequence sees this chunk's header.
             */
            smp_wmb();
            qatomic_set_u64(&c->page[idx], v);
            return;
        }
    }
    /* Restart a chunk: one that is stale, else round robin. */
    for (w = 0; w < VIOMMU_FAST_WAYS && set[w].gen == f->gen; w++) {
        /* look on */
    }
    c = &set[w < VIOMMU_FAST_WAYS ? w : f->victim++ % VIOMMU_FAST_WAYS];
    seqlock_write_begin(&c->seq);
    qatomic_set(&c->id, sp->id);
    qatomic_set_u64(&c->base, base);
    qatomic_set_u64(&c->gen, f->gen);
    for (unsigned i = 0; i < VIOMMU_FAST_PAGES; i++) {
        qatomic_set_u64(&c->page[i], i == idx ? v : 0);
    }
    seqlock_write_end(&c->seq);
}

/*
 * One quiesce at a time (the BQL, and the caller stops its queue until this
 * returns true).  The epoch flips once per quiesce; readers of the new one
 * load the generation after the flip, hence after the bumps before it.  A
 * quiesce the caller gave up (its queue was disabled) is finished by the
 * next one, which flips again if the generation moved since.
 */
bool viommu_fast_quiesce(ViommuFast *f, QEMUBH *resume)
{
    if (f->draining && qatomic_read_u64(&f->gen) != f->drain_gen &&
        !qatomic_read(&f->readers[f->drain_parity])) {
        f->draining = false;
    }
    if (!f->draining) {
        smp_mb();   /* the generation bumps before the flip */
        f->drain_gen = qatomic_read_u64(&f->gen);
        f->drain_parity = f->epoch & 1;
        qatomic_set(&f->epoch, f->epoch + 1);
        f->draining = true;
    }
    /*
     * A hit is a few loads: unless a reader was preempted (or the test hook
     * holds it) the count drops at once.  Yield a bounded number of times
     * before leaving the rest to resume, so that a completion the guest
     * polls for right away is usually done.
     */
    for (int i = 0; i < QUIESCE_YIELDS && qatomic_read(&f->readers[f->drain_parity]) &&
                    !qatomic_read(&f->stalled); i++) {
        sched_yield();
    }
    qatomic_set(&f->waiter, resume);
    smp_mb();       /* waiter before the count: the last reader sees one or we see 0 */
    if (qatomic_read(&f->readers[f->drain_parity])) {
        trace_viommu_fast_quiesce_wait(qatomic_read(&f->readers[f->drain_parity]));
        return false;
    }
    qatomic_set(&f->waiter, NULL);
    f->draining = false;
    return true;
}

/* ------------------------------------------------------------------------
 * Test hook properties (inert unless a qtest sets x-fast-stall)
 */
static void fast_stall_get(Object *obj, Visitor *v, const char *name, void *opaque,
                           Error **errp)
{
    ViommuFast *f = opaque;
    bool val = qatomic_read(&f->stall);

    visit_type_bool(v, name, &val, errp);
}

static void fast_stall_set(Object *obj, Visitor *v, const char *name, void *opaque,
                           Error **errp)
{
    ViommuFast *f = opaque;
    bool val;

    if (!visit_type_bool(v, name, &val, errp)) {
        return;
    }
    qemu_mutex_lock(&f->stall_lock);
    qatomic_set(&f->stall, val);
    qemu_cond_broadcast(&f->stall_cond);
    qemu_mutex_unlock(&f->stall_lock);
}

static void fast_stalled_get(Object *obj, Visitor *v, const char *name, void *opaque,
                             Error **errp)
{
    ViommuFast *f = opaque;
    uint32_t val = qatomic_read(&f->stalled);

    visit_type_uint32(v, name, &val, errp);
}

void viommu_fast_add_test_props(ViommuFast *f, Object *obj)
{
    object_property_add(obj, "x-fast-stall", "bool", fast_stall_get, fast_stall_set,
                        NULL, f);
    object_property_add(obj, "x-fast-stalled", "uint32", fast_stalled_get, NULL, NULL, f);
}

/*
 * Notifier probes (test hooks), as no qtest-visible device registers IOMMU
 * notifiers itself (vhost needs a kernel or vhost-user backend, vfio a host
 * device):
 * x-deviotlb-probe: writing a devfn registers an IOMMU_NOTIFIER_DEVIOTLB_UNMAP
 * notifier, as vhost with ATS does, on that requester's space of the root
 * bus; x-deviotlb-events counts what it got.
 * x-map-probe: writing a devfn registers a MAP+UNMAP notifier, as vfio does;
 * the IOMMU's refusal is the property's error.
 */
typedef struct ViommuNotifierProbe {
    IOMMUNotifier n;
    IOMMUNotifierFlag flags;
    ViommuSpaces *t;
    PCIBus **bus;
    size_t mr_off;
    bool registered;
    uint32_t events;
} ViommuNotifierProbe;

static void notifier_probe_notify(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    ViommuNotifierProbe *p = container_of(n, ViommuNotifierProbe, n);

    qatomic_inc(&p->events);
}

static void notifier_probe_set(Object *obj, Visitor *v, const char *name, void *opaque,
                               Error **errp)
{
    ViommuNotifierProbe *p = opaque;
    ViommuSpaceKey key = { 0 };
    ViommuSpace *sp;
    uint32_t devfn;

    if (!visit_type_uint32(v, name, &devfn, errp)) {
        return;
    }
    if (p->registered || devfn > 0xff || !*p->bus) {
        error_setg(errp, "%s: one devfn (0-255) once, after realize", name);
        return;
    }
    key.bus = *p->bus;
    key.devfn = devfn;
    sp = viommu_spaces_get(p->t, &key);
    iommu_notifier_init(&p->n, notifier_probe_notify, p->flags, 0, HWADDR_MAX, 0);
    if (memory_region_register_iommu_notifier(
            MEMORY_REGION((IOMMUMemoryRegion *)((char *)sp + p->mr_off)), &p->n, errp)) {
        return;
    }
    p->registered = true;
}

static void notifier_probe_events(Object *obj, Visitor *v, const char *name, void *opaque,
                                  Error **errp)
{
    ViommuNotifierProbe *p = opaque;
    uint32_t val = qatomic_read(&p->events);

    visit_type_uint32(v, name, &val, errp);
}

static void add_notifier_probe(Object *obj, const char *set_name, const char *events_name,
                               IOMMUNotifierFlag flags, ViommuSpaces *t, PCIBus **bus,
                               size_t mr_off)
{
    ViommuNotifierProbe *p = g_new0(ViommuNotifierProbe, 1);

    p->flags = flags;
    p->t = t;
    p->bus = bus;
    p->mr_off = mr_off;
    object_property_add(obj, set_name, "uint32", NULL, notifier_probe_set, NULL, p);
    if (events_name) {
        object_property_add(obj, events_name, "uint32", notifier_probe_events, NULL, NULL, p);
    }
}

void viommu_add_notifier_probes(Object *obj, ViommuSpaces *t, PCIBus **bus, size_t mr_off)
{
    add_notifier_probe(obj, "x-deviotlb-probe", "x-deviotlb-events",
                       IOMMU_NOTIFIER_DEVIOTLB_UNMAP, t, bus, mr_off);
    add_notifier_probe(obj, "x-map-probe", NULL, IOMMU_NOTIFIER_IOTLB_EVENTS, t, bus, mr_off);
}
