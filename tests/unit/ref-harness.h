/*
 * Harness shared by the reference checks (test-ref-armv8.c, test-ref-x86.c):
 * a reproducible random number generator, random tables written identically
 * into the core's memory and the model's, the model's memory accesses, and
 * the comparison of the core's answer with the model's.
 *
 * The models themselves stay in their test files, written from the
 * specifications, and share no code with the core.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VI_REF_HARNESS_H
#define VI_REF_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/pt.h"

/* Random numbers (xorshift64*), reproducible from the seed (0 counts as 1). */
void rnd_seed(uint64_t seed);
uint64_t rnd(void);
unsigned rnd_below(unsigned n);
bool chance(unsigned percent);

/* A random address: mostly below 4G, sometimes below 2^bits or anywhere in 52 bits. */
uint64_t rand_addr(unsigned bits);

/* What a model answers. */
typedef struct ref_out {
    bool ok;
    vi_fault_kind kind;
    int stage, level;
    bool s1ptw;
    uint64_t out, size;
    uint32_t perm;
} ref_out;

ref_out model_fault(vi_fault_kind k, int stage, int level);

/* The model's own copy of memory, and the updates it made there in order. */
typedef struct ref_mem {
    fake_mem *fm;
    uint64_t writes[32][2]; /* (pa, value) */
    unsigned nwrites;
    unsigned attempts;      /* updates tried, made or not */
} ref_mem;

/* Read a 64-bit entry; false on an external abort. */
bool model_read(ref_mem *m, uint64_t pa, uint64_t *v);

/*
 * A hardware update of the entry at pa read as old: atomic, so it is made
 * only if the entry still holds old (REF_CAS_DONE); else *cur is what it
 * holds now and the walk decides again from it (REF_CAS_CHANGED) -- under
 * nesting the stage-2 walk of the write itself may have changed the entry,
 * when a stage-1 entry and a stage-2 entry are the same memory.  A walk
 * retries an entry at most REF_MAX_UPDATES times, then takes an access
 * fault (the core's bound, pt.h).
 */
typedef enum ref_cas {
    REF_CAS_DONE,
    REF_CAS_CHANGED,
    REF_CAS_ABORT,          /* external abort (or too many updates) */
} ref_cas;

#define REF_MAX_UPDATES 8

ref_cas model_cas(ref_mem *m, uint64_t pa, uint64_t old, uint64_t new, uint64_t *cur);

/* A leaf of a random (non-identity) second stage, as generated. */
typedef struct ref_s2_leaf {
    uint64_t ipa, size, pa;
    bool usable;            /* full permissions, accessed: fit for tables */
} ref_s2_leaf;

/* Random tables, written identically into two memories. */
typedef struct ref_gen {
    fake_mem *a, *b;        /* core memory, model memory */
    uint64_t tables[512];
    unsigned ntables;
    uint64_t ins[2048];     /* inputs that reach the tables */
    unsigned nins;
    GArray *s2_leaves;      /* ref_s2_leaf, in IPA order */
    uint64_t next_ipa;      /* ref_s2_alloc()'s cursor */
} ref_gen;

ref_gen *ref_gen_new(void);
void ref_gen_free(ref_gen *gn);
void poke2(ref_gen *gn, uint64_t pa, uint64_t v);
/* size bytes aligned to size (at least 4 KiB), recorded as a table. */
uint64_t alloc2(ref_gen *gn, uint64_t size);
void add_in(ref_gen *gn, uint64_t in);

/*
 * Nesting over a random stage 2: the generator of the second stage records
 * each leaf it writes (in IPA order), and first-stage tables are then placed
 * at IPAs that the second stage maps: ref_s2_alloc() returns the IPA of
 * size zeroed bytes aligned to size (mapped in both memories at *pa), inside
 * a usable leaf (now and then any mapped leaf, so table fetches also meet
 * stage-2 permission and access-flag faults).  Falls back to IPA = PA from
 * alloc2() when the stage 2 has no room.
 */
void ref_s2_add_leaf(ref_gen *gn, uint64_t ipa, uint64_t size, uint64_t pa, bool usable);
uint64_t ref_s2_alloc(ref_gen *gn, uint64_t size, uint64_t *pa);
/* A random leaf output: size-aligned in [4G, 2^bits) (bits > 32), off the tables. */
uint64_t ref_s2_rand_out(uint64_t size, unsigned bits);

/* A random access: VI_ACC_* bits with at least one of R, W and X. */
uint32_t ref_rand_access(void);

/* What a run covered. */
typedef struct ref_stats {
    unsigned long okays, faults, large, s1ptw, updates;
    unsigned long per_mode[3];                          /* by the caller's mode */
    unsigned long per_kind[VI_FAULT_BAD_CONFIG + 1];    /* faults by kind */
} ref_stats;

/* Count one translation of the core (ok, r or f) and the model's updates m. */
void ref_tally(ref_stats *st, int mode, bool ok, const vi_pt_result *r, const vi_fault *f,
               const ref_mem *m);

/*
 * Start a run: the seed from VI_REF_SEED (else default_seed), printed and
 * given to the generator; returns the number of translations, VI_REF_COUNT
 * (default 100000).
 */
unsigned long ref_start(uint64_t default_seed);

/* Mismatches since ref_start(). */
extern unsigned long ref_mismatches;

/*
 * Compare the core's answer (ok, r or f, the memory ma it updated with
 * compare-and-swap, cas_before being the count before the translation) with
 * the model's (o, and its updates m); print the first ten mismatches.
 */
void ref_compare(const char *what, uint64_t in, uint32_t acc, bool ok, const vi_pt_result *r,
                 const vi_fault *f, const ref_out *o, fake_mem *ma, const ref_mem *m,
                 uint64_t cas_before);

#endif
