/*
 * qemu-viommu: glue shared by the device models (viommu-smmuv3, viommu-vtd),
 * the part of QEMU integration that does not depend on the architecture.
 *
 *   - Guest memory for the core (viommu_ram): RAM only.
 *   - Requester IDs (ViommuRid): a requester's bus number without
 *     pci_bus_num() on every translation.
 *   - The address-space table (ViommuSpaces): one space per (bus, devfn,
 *     PASID, attributes), PASID-tagged ones counted by their users and
 *     released when idle ones pile up, pruned when a bus goes.
 *   - IOMMU notifiers: unmap-all, DEVIOTLB_UNMAP included.
 *   - The lock-free hit path (ViommuFast): recent results validated by a
 *     generation, and the reader epochs that make an invalidation's
 *     completion (CMD_SYNC, a VT-d wait descriptor) wait for the hits in
 *     flight.
 * Deferred interrupts are bottom halves made with qemu_bh_new_guarded() on
 * the device's reentrancy guard (viommu_bh_new()).
 *
 * Lock rules: the table, notifiers and viommu_fast_quiesce() run under the
 * BQL; viommu_fast_insert_locked() / _bump_locked() under the device's
 * translation lock; viommu_fast_hit() takes no lock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_VIOMMU_VIOMMU_COMMON_H
#define HW_VIOMMU_VIOMMU_COMMON_H

#include "qemu/atomic.h"
#include "qemu/queue.h"
#include "qemu/rcu.h"
#include "qemu/seqlock.h"
#include "qemu/thread.h"
#include "qemu/main-loop.h"
#include "exec/memory.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/viommu/core/mem.h"

/* ------------------------------------------------------------------------
 * Guest memory: RAM only
 *
 * Tables, queues and descriptors are read and written as RAM (ROM: read
 * only); an MMIO, unassigned or RAM-device address, or a range leaving its
 * RAM block, is an external abort.  No device callback can run from inside
 * a translation, and the A/D compare-and-swap is atomic on guest RAM.
 */
extern const vi_mem viommu_ram;
bool viommu_ram_read(uint64_t pa, void *buf, size_t len);
bool viommu_ram_write(uint64_t pa, const void *buf, size_t len);

/* ------------------------------------------------------------------------
 * Requester IDs
 *
 * A root bus's number is fixed by the machine; any other bus's is the
 * Secondary Bus Number of the bridge above it, a config register the guest
 * may rewrite at any time (read it each time); anything else asks
 * pci_bus_num().
 */
typedef struct ViommuRid {
    PCIBus *bus;
    PCIDevice *bridge;      /* NULL for a root bus */
    uint8_t devfn;
    uint8_t root_bus;
    bool bus_num_other;     /* a bus numbered otherwise: ask pci_bus_num() */
} ViommuRid;

void viommu_rid_init(ViommuRid *r, PCIBus *bus, uint8_t devfn);

static inline uint16_t viommu_rid(const ViommuRid *r)
{
    uint8_t bus;

    if (unlikely(r->bus_num_other)) {
        bus = pci_bus_num(r->bus);
    } else if (r->bridge) {
        bus = qatomic_read(&r->bridge->config[PCI_SECONDARY_BUS]);
    } else {
        bus = r->root_bus;
    }
    return PCI_BUILD_BDF(bus, r->devfn);
}

/* ------------------------------------------------------------------------
 * Address spaces
 */
typedef struct ViommuSpaceKey {
    PCIBus *bus;
    uint8_t devfn;
    bool has_pasid;
    uint32_t pasid;
    unsigned attrs;         /* VIOMMU_PASID_PRIV / _EXEC, device-private bits */
} ViommuSpaceKey;

/* The common part of a device's address space (its first member). */
typedef struct ViommuSpace {
    struct rcu_head rcu;    /* freeing a released PASID space */
    ViommuSpaceKey key;     /* key.bus is NULL once the bus is gone */
    ViommuRid rid;
    uint32_t id;            /* tags its fast-path results; never 0, never reused */
    /*
     * The requester ID its fast-path results were made for (the bus number
     * is the guest's to change): written under the translation lock, read
     * by the hit path; -1 until the first translation.
     */
    int32_t fast_rid;
    /*
     * PASID spaces only (BQL): the devices' references (viommu_spaces_get()
     * takes one, viommu_spaces_put() drops it); at 0 the space is idle, on
     * ViommuSpaces.idle, and may be released.  Requester spaces are never
     * released: PCIIOMMUOps hands them out for good.
     */
    unsigned users;
    QTAILQ_ENTRY(ViommuSpace) idle_next;
    void (*free)(struct ViommuSpace *sp);
    bool free_queued;       /* the second grace period of its freeing began */
    QLIST_ENTRY(ViommuSpace) next;
} ViommuSpace;

typedef struct ViommuSpaceOps {
    /*
     * Make the device's address space for key (BQL).  id is the space's
     * (unique over the IOMMU's life: memory-region names built from it do
     * not clash with a released space whose regions still await RCU).
     */
    ViommuSpace *(*create)(void *opaque, const ViommuSpaceKey *key, uint32_t id);
    /*
     * Detach an idle PASID space from the memory core (BQL) with
     * viommu_space_detach(), and forget any pointer to it; false keeps it
     * (notifiers are registered on its region).  free() runs after an RCU
     * grace period, once no translation can be using it.
     */
    bool (*release)(void *opaque, ViommuSpace *sp);
    void (*free)(ViommuSpace *sp);
} ViommuSpaceOps;

/*
 * Idle PASID spaces kept for reuse, per IOMMU: a device cycling through
 * PASIDs costs the memory core (every transaction commit rebuilds each
 * address space's flat view) and memory only for the spaces in use plus
 * these, instead of growing to max_pasid.
 */
#define VIOMMU_SPACES_IDLE_MAX  32

typedef struct ViommuSpaces {
    const char *name;           /* the device, for messages */
    GHashTable *table;          /* ViommuSpaceKey -> ViommuSpace (live only) */
    QLIST_HEAD(, ViommuSpace) live;
    QLIST_HEAD(, ViommuSpace) gone;     /* their bus was removed */
    QTAILQ_HEAD(, ViommuSpace) idle;    /* PASID spaces without users, oldest first */
    unsigned npasid, max_pasid, nidle;
    uint32_t next_id;
    const ViommuSpaceOps *ops;
    void *opaque;
} ViommuSpaces;

void viommu_spaces_init(ViommuSpaces *t, const char *name, unsigned max_pasid,
                        const ViommuSpaceOps *ops, void *opaque);
/* For ViommuSpaceOps.release: take as (and its root region) out of the memory core. */
void viommu_space_detach(AddressSpace *as);
void viommu_spaces_destroy(ViommuSpaces *t);
ViommuSpace *viommu_spaces_find(ViommuSpaces *t, const ViommuSpaceKey *key);
/*
 * Find or make; NULL (logged) beyond max_pasid PASID spaces in use.  A
 * PASID space comes with a reference the caller drops with
 * viommu_spaces_put().
 */
ViommuSpace *viommu_spaces_get(ViommuSpaces *t, const ViommuSpaceKey *key);
void viommu_spaces_put(ViommuSpaces *t, ViommuSpace *sp);
/* Release every idle PASID space (IOMMU reset: nothing of them survives). */
void viommu_spaces_release_idle(ViommuSpaces *t);
/* Forget every space of bus (also done by itself when the bus is finalized). */
void viommu_spaces_prune_bus(ViommuSpaces *t, PCIBus *bus);
/* x-pasid-spaces (read-only): PASID spaces in the table, for tests. */
void viommu_spaces_add_test_props(Object *obj, ViommuSpaces *t);

#define VIOMMU_SPACES_FOREACH(sp, t) QLIST_FOREACH(sp, &(t)->live, next)

/* ------------------------------------------------------------------------
 * IOMMU notifiers
 */
/* Only translate-on-demand consumers: a MAP notifier is refused with why. */
int viommu_notify_flag_check(IOMMUNotifierFlag new, const char *why, Error **errp);
/*
 * Everything of mr went away: UNMAP notifiers get their whole range, and
 * DEVIOTLB_UNMAP notifiers (device IOTLBs: vhost with ATS) a device-TLB
 * invalidation of the whole input space.
 */
void viommu_notify_unmap_all(IOMMUMemoryRegion *mr);

/*
 * Test hook properties on obj: x-deviotlb-probe / x-deviotlb-events (a
 * DEVIOTLB_UNMAP notifier, as vhost with ATS registers) and x-map-probe (a
 * MAP+UNMAP notifier, as vfio registers) on a root-bus requester's space
 * (*bus), whose IOMMUMemoryRegion is mr_off bytes after its ViommuSpace.
 */
void viommu_add_notifier_probes(Object *obj, ViommuSpaces *t, PCIBus **bus, size_t mr_off);

/* ------------------------------------------------------------------------
 * Deferred work
 */
/* A bottom half guarded against re-entering dev's MMIO from its own DMA. */
static inline QEMUBH *viommu_bh_new(DeviceState *dev, QEMUBHFunc *cb, void *opaque)
{
    return qemu_bh_new_guarded(cb, opaque, &dev->mem_reentrancy_guard);
}

/* ------------------------------------------------------------------------
 * The lock-free hit path
 *
 * Recent successful results of all of a device's address spaces in chunks,
 * each for VIOMMU_FAST_PAGES consecutive 4 KiB pages of one space (one word
 * a page), in sets of VIOMMU_FAST_WAYS chunks.  Written under the device's
 * translation lock only; a result is used only while its generation equals
 * the device's, which every invalidation and configuration change bumps.
 */
#define VIOMMU_FAST_PAGES   16
#define VIOMMU_FAST_WAYS    2
#define VIOMMU_FAST_MIN     64      /* pages, at least */
#define VIOMMU_FAST_MAX     4096    /* pages, at most */

typedef struct ViommuFastChunk {
    QemuSeqLock seq;
    uint32_t id;            /* ViommuSpace.id; 0: never used */
    uint64_t gen;           /* the generation when the chunk was (re)started */
    uint64_t base;          /* input address >> (12 + log2 VIOMMU_FAST_PAGES) */
    uint64_t pad;
    /* Per page: output block base | perm (bits 1:0) | (log2 size - 12) << 2; 0: none. */
    uint64_t page[VIOMMU_FAST_PAGES];
} ViommuFastChunk;

typedef struct ViommuFast {
    ViommuFastChunk *chunks;
    uint32_t bits;          /* log2 of the number of sets */
    uint32_t victim;        /* round-robin replacement */
    uint64_t gen;
    /*
     * Quiescence: a hit runs inside a reader section counted in
     * readers[epoch & 1].  viommu_fast_quiesce() advances the epoch and
     * waits (without blocking) until the previous one's count is 0.
     */
    uint32_t epoch;
    uint32_t readers[2];
    bool draining;          /* BQL: a quiesce waits for readers[drain_parity] */
    unsigned drain_parity;
    uint64_t drain_gen;     /* the generation the drain started at */
    QEMUBH *waiter;         /* scheduled by the last reader of a drained epoch */
    /* Test hook (x-fast-stall): a hit waits here while stall is set. */
    bool stall;
    uint32_t stalled;
    QemuMutex stall_lock;
    QemuCond stall_cond;
} ViommuFast;

/* pages: about how many pages to hold (clamped to MIN..MAX). */
void viommu_fast_init(ViommuFast *f, uint32_t pages);
void viommu_fast_destroy(ViommuFast *f);
/* x-fast-stall (bool) and x-fast-stalled (uint32, read-only) on obj. */
void viommu_fast_add_test_props(ViommuFast *f, Object *obj);

/* Everything the hit path holds is stale (translation lock held). */
static inline void viommu_fast_bump_locked(ViommuFast *f)
{
    qatomic_set_u64(&f->gen, f->gen + 1);
}

/*
 * The result for addr if the hit path has one allowing flag, for requester
 * ID rid: fills *e and returns true.  No lock taken.
 */
bool viommu_fast_hit(ViommuFast *f, ViommuSpace *sp, uint32_t rid, hwaddr addr,
                     IOMMUAccessFlags flag, IOMMUTLBEntry *e);
/*
 * Before the slow path of sp under the translation lock: results made for
 * another requester ID (the bus number changed) become stale.
 */
void viommu_fast_set_rid_locked(ViommuFast *f, ViommuSpace *sp, uint32_t rid);
/* Remember a successful result (translation lock held). */
void viommu_fast_insert_locked(ViommuFast *f, const ViommuSpace *sp, hwaddr addr,
                               const IOMMUTLBEntry *e);
/*
 * BQL, after the invalidations (generation bumps) to complete: true when
 * every hit that started before has returned; else false, and resume is
 * scheduled once they have (call again from it).
 */
bool viommu_fast_quiesce(ViommuFast *f, QEMUBH *resume);

#endif /* HW_VIOMMU_VIOMMU_COMMON_H */
