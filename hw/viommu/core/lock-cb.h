/*
 * The optional lock callbacks of the core's caches (iotlb.c, cfg-cache.c):
 * the caller's lock and unlock functions, or none.  Internal to the core.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_CORE_LOCK_CB_H
#define VI_CORE_LOCK_CB_H

typedef struct vi_lock_cb {
    void (*lock)(void *);
    void (*unlock)(void *);
    void *opaque;
} vi_lock_cb;

static inline void vi_lock_cb_set(vi_lock_cb *l, void (*lock)(void *),
                                  void (*unlock)(void *), void *opaque)
{
    l->lock = lock;
    l->unlock = unlock;
    l->opaque = opaque;
}

static inline void vi_lock(const vi_lock_cb *l)
{
    if (l->lock) {
        l->lock(l->opaque);
    }
}

static inline void vi_unlock(const vi_lock_cb *l)
{
    if (l->unlock) {
        l->unlock(l->opaque);
    }
}

#endif
