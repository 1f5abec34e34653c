/*
 * Unit tests of the VT-d first-stage (x86-64 paging) and second-stage
 * walkers and of nested translation, on real tables in a fake memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"
#include "hw/viommu/core/nested.h"
#include "hw/viommu/core/vtd-cfg.h"

#define RD      (VI_ACC_R | VI_ACC_PRIV)
#define WR      (VI_ACC_W | VI_ACC_PRIV)
#define URD     (VI_ACC_R)
#define UWR     (VI_ACC_W)
#define FS_TBL  (VI_X86_FS_P | VI_X86_FS_RW | VI_X86_FS_US)
#define FS_PG   (VI_X86_FS_P | VI_X86_FS_RW | VI_X86_FS_US)
#define SS_RW   (VI_VTD_SS_R | VI_VTD_SS_W)
#define SS_RWX  (VI_VTD_SS_R | VI_VTD_SS_W | VI_VTD_SS_X)

#define GPA_OFF 0x100000000ull      /* nested: FS tables at GPA = PA + GPA_OFF */

/* The shared builder over the tables at root (top level top). */
static ptb builder(fake_mem *fm, uint64_t root, int top, ptb_format fmt, uint64_t tbl_bits,
                   uint64_t off)
{
    ptb b;

    ptb_init_x86(&b, fake_mem_builder_ops(fm), fmt, top, tbl_bits, root);
    b.addr_offset = off;
    return b;
}

/*
 * Build the path to va from the table at root (top level top) of format fmt
 * down to a leaf at leaf_level holding the raw entry leaf; missing tables
 * are allocated with table entries tbl_bits.  Table entries hold PA + off.
 * tables[l] receives the PA of the level-l table.  Returns the PA of the
 * leaf entry.
 */
static uint64_t map(fake_mem *fm, uint64_t root, int top, uint64_t va, int leaf_level,
                    uint64_t leaf, ptb_format fmt, uint64_t tbl_bits, uint64_t off,
                    uint64_t *tables)
{
    ptb b = builder(fm, root, top, fmt, tbl_bits, off);
    uint64_t pa = ptb_entry(&b, va, leaf_level);

    g_assert_cmphex(pa, !=, 0);
    for (int l = top; tables && l >= leaf_level; l--) {
        tables[l] = ptb_lookup(&b, va, l) & ~0xfffull;
    }
    fake_mem_poke64(fm, pa, leaf);
    return pa;
}

/* PA of the level-l entry on va's path (after map()). */
static uint64_t entry_pa(fake_mem *fm, uint64_t root, int top, uint64_t va, int l,
                         uint64_t off)
{
    ptb b = builder(fm, root, top, PTB_X86_FS, 0, off);

    return ptb_lookup(&b, va, l);
}

static vi_x86_fs_cfg fs_cfg(uint64_t root, int levels)
{
    vi_x86_fs_cfg c = { .ptptr = root, .levels = (uint8_t)levels, .haw = 46,
                        .fl1gp = true };
    return c;
}

static vi_vtd_ss_cfg ss_cfg(uint64_t root, int aw)
{
    vi_vtd_ss_cfg c = { .ptptr = root, .aw_bits = (uint8_t)aw, .haw = 46, .sllps = 3 };
    return c;
}

/* ------------------------------------------------------------------------
 * First stage
 */

static void test_fs_levels(void)
{
    for (int levels = 4; levels <= 5; levels++) {
        fake_mem *fm = fake_mem_new();
        uint64_t root = fake_mem_alloc_page(fm, 4096);
        uint64_t va = levels == 5 ? 0x00f0123456789000ull : 0x00007f1234567000ull;
        vi_x86_fs_cfg c = fs_cfg(root, levels);
        uint64_t leaf;
        vi_pt_result r;
        vi_fault f;
        vi_pt_walk w;

        leaf = map(fm, root, levels, va, 1, 0x3456000ull | FS_PG, PTB_X86_FS, FS_TBL, 0, NULL);
        g_assert_true(vi_x86_fs_walk_init(&c, fake_mem_vi(fm), va + 0x123, RD, &w, &r, &f));
        g_assert_true(vi_pt_run(&w, &f));
        g_assert_cmphex(r.out, ==, 0x3456123ull);
        g_assert_cmphex(r.size, ==, 4096);
        g_assert_cmpint(r.level, ==, 1);
        g_assert_cmpuint(w.reads, ==, (unsigned)levels);
        /* A set in every entry; D not set by a read, so W is not granted yet. */
        for (int l = levels; l >= 1; l--) {
            g_assert_true(fake_mem_peek64(fm, entry_pa(fm, root, levels, va, l, 0)) &
                          VI_X86_FS_A);
        }
        g_assert_false(fake_mem_peek64(fm, leaf) & VI_X86_FS_D);
        g_assert_cmphex(r.perm & (VI_PERM_W | VI_PERM_UW), ==, 0);
        g_assert_true(r.perm & VI_PERM_R);
        /* A write sets D, and then W is granted. */
        g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, WR, &r, &f));
        g_assert_true(fake_mem_peek64(fm, leaf) & VI_X86_FS_D);
        g_assert_true(r.perm & VI_PERM_W);
        g_assert_true(r.perm & VI_PERM_UW);
        fake_mem_free(fm);
    }
}

static void test_fs_large_pages(void)
{
    fake_mem *fm = fake_mem_new();
    uint64_t root = fake_mem_alloc_page(fm, 4096);
    vi_x86_fs_cfg c = fs_cfg(root, 4);
    uint64_t va2m = 0x40200000ull, va1g = 0x80000000ull, leaf;
    vi_pt_result r;
    vi_fault f;

    map(fm, root, 4, va2m, 2, 0x7e00000ull | FS_PG | VI_X86_FS_PS, PTB_X86_FS, FS_TBL, 0, NULL);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va2m + 0x12345, RD, &r, &f));
    g_assert_cmphex(r.out, ==, 0x7e12345ull);
    g_assert_cmphex(r.size, ==, 2ull << 20);
    g_assert_cmpint(r.level, ==, 2);

    leaf = map(fm, root, 4, va1g, 3, 0xc0000000ull | FS_PG | VI_X86_FS_PS, PTB_X86_FS, FS_TBL, 0, NULL);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va1g + 0x1234567, RD, &r, &f));
    g_assert_cmphex(r.out, ==, 0xc1234567ull);
    g_assert_cmphex(r.size, ==, 1ull << 30);
    /* Without FL1GP a 1 GiB page is a reserved-bit fault. */
    c.fl1gp = false;
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va1g, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
    g_assert_cmpint(f.level, ==, 3);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_RSVD);
    c.fl1gp = true;
    /* Low address bits of a large page (above the PAT bit) are reserved. */
    fake_mem_poke64(fm, leaf, 0xc0000000ull | (1ull << 20) | FS_PG | VI_X86_FS_PS);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va1g, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
    /* PS in a PML4 entry is reserved. */
    fake_mem_poke64(fm, entry_pa(fm, root, 4, va2m, 4, 0),
                    fake_mem_peek64(fm, entry_pa(fm, root, 4, va2m, 4, 0)) | VI_X86_FS_PS);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va2m, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
    g_assert_cmpint(f.level, ==, 4);
    fake_mem_free(fm);
}

static void test_fs_faults(void)
{
    fake_mem *fm = fake_mem_new();
    uint64_t root = fake_mem_alloc_page(fm, 4096);
    vi_x86_fs_cfg c = fs_cfg(root, 4);
    uint64_t va = 0x12345000ull, leaf;
    vi_pt_result r;
    vi_fault f;

    leaf = map(fm, root, 4, va, 1, 0x5000ull | FS_PG, PTB_X86_FS, FS_TBL, 0, NULL);
    /* Non-canonical input. */
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), 0x0000800000000000ull, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_ADDR_SIZE);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_NON_CANONICAL);
    /* Canonical upper half is walked (and not mapped). */
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), 0xffff800000000000ull, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
    g_assert_cmpint(f.level, ==, 4);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_NOT_PRESENT);
    /* Not present at each level. */
    for (int l = 4; l >= 1; l--) {
        uint64_t pa = entry_pa(fm, root, 4, va, l, 0), e = fake_mem_peek64(fm, pa);

        fake_mem_poke64(fm, pa, e & ~VI_X86_FS_P);
        g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
        g_assert_cmpint(f.level, ==, l);
        g_assert_cmpint(f.stage, ==, 1);
        g_assert_cmphex(f.addr, ==, va);
        fake_mem_poke64(fm, pa, e);
    }
    /* Address bits above HAW are reserved, in tables and leaves. */
    fake_mem_poke64(fm, leaf, (1ull << 47) | 0x5000ull | FS_PG);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
    g_assert_cmpint(f.level, ==, 1);
    fake_mem_poke64(fm, leaf, 0x5000ull | FS_PG);
    /* External abort on a table fetch. */
    fake_mem_set_abort(fm, entry_pa(fm, root, 4, va, 2, 0), 8, true);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_WALK_EABT);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_ACCESS);
    fake_mem_set_abort(fm, entry_pa(fm, root, 4, va, 2, 0), 8, false);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    /* A bad configuration. */
    c.levels = 3;
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_BAD_CONFIG);
    fake_mem_free(fm);
}

static void test_fs_permissions(void)
{
    fake_mem *fm = fake_mem_new();
    uint64_t root = fake_mem_alloc_page(fm, 4096);
    vi_x86_fs_cfg c = fs_cfg(root, 4);
    uint64_t va = 0x40000000ull, leaf, l3;
    vi_pt_result r;
    vi_fault f;

    leaf = map(fm, root, 4, va, 1, 0x9000ull | VI_X86_FS_P | VI_X86_FS_D, PTB_X86_FS, FS_TBL, 0, NULL);
    /* Supervisor page, read-only. */
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_cmphex(r.perm & (VI_PERM_UR | VI_PERM_UW | VI_PERM_UX), ==, 0);
    g_assert_true(r.perm & VI_PERM_X);
    /* WPE = 0: supervisor writes ignore R/W. */
    g_assert_true(r.perm & VI_PERM_W);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, WR, &r, &f));
    c.wpe = true;
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, WR, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_SM_WRITE);
    /* A user request to a supervisor page. */
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, URD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_ACCESS);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_USER);
    /* User page, read-only: user reads pass, user writes fault on R/W. */
    fake_mem_poke64(fm, leaf, 0x9000ull | VI_X86_FS_P | VI_X86_FS_US | VI_X86_FS_D);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, URD, &r, &f));
    g_assert_true(r.perm & VI_PERM_UX);
    g_assert_false(r.perm & VI_PERM_X);     /* no supervisor fetch from user pages */
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, UWR, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, VI_ACC_X | VI_ACC_PRIV, &r, &f));
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_EXEC);
    /* R/W = 0 in a table entry restricts everything below. */
    fake_mem_poke64(fm, leaf, 0x9000ull | FS_PG | VI_X86_FS_D);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, UWR, &r, &f));
    l3 = entry_pa(fm, root, 4, va, 3, 0);
    fake_mem_poke64(fm, l3, fake_mem_peek64(fm, l3) & ~VI_X86_FS_RW);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, UWR, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    /* U/S = 0 in a table entry: a supervisor region. */
    fake_mem_poke64(fm, l3, fake_mem_peek64(fm, l3) & ~VI_X86_FS_US);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, URD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_ACCESS);
    /* XD in a table entry: no execute below it. */
    fake_mem_poke64(fm, l3, fake_mem_peek64(fm, l3) | VI_X86_FS_XD | VI_X86_FS_US);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, URD, &r, &f));
    g_assert_false(r.perm & VI_PERM_UX);
    g_assert_false(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, VI_ACC_X, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    fake_mem_free(fm);
}

/* A memory whose compare-and-swap always loses (the entry "changed" meanwhile). */
static vi_mem_result losing_read(void *o, uint64_t pa, void *buf, size_t len)
{
    return vi_mem_read(fake_mem_vi(o), pa, buf, len);
}

static vi_mem_result losing_write(void *o, uint64_t pa, const void *buf, size_t len)
{
    const vi_mem *m = fake_mem_vi(o);

    return m->ops->write(m->opaque, pa, buf, len);
}

static vi_mem_result losing_cmpxchg(void *o, uint64_t pa, uint64_t *exp, uint64_t des,
                                    bool *swapped)
{
    *exp = fake_mem_peek64(o, pa);
    *swapped = false;
    return VI_MEM_OK;
}

static const vi_mem_ops losing_ops = { losing_read, losing_write, losing_cmpxchg };

/*
 * An A/D update that loses every race ends the walk; VT-d reports it as an
 * access error of the entry's stage (0x70 / 0x78), not as the U/S fault
 * 0x81 its VI_FAULT_ACCESS kind otherwise means.
 */
static void test_update_races(void)
{
    fake_mem *fm = fake_mem_new();
    vi_mem lm = { .ops = &losing_ops, .opaque = fm };
    uint64_t root = fake_mem_alloc_page(fm, 4096), ss = fake_mem_alloc_page(fm, 4096);
    vi_x86_fs_cfg c = fs_cfg(root, 4);
    vi_vtd_ss_cfg sc = ss_cfg(ss, 48);
    uint64_t va = 0x40000000ull;
    vi_pt_result r;
    vi_fault f;

    map(fm, root, 4, va, 1, 0x9000ull | FS_PG, PTB_X86_FS, FS_TBL | VI_X86_FS_A, 0, NULL);
    g_assert_false(vi_x86_fs_translate(&c, &lm, va, URD, &r, &f));
    g_assert_true(f.update_lost);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_ACCESS);
    /* A real U/S refusal is still 0x81. */
    map(fm, root, 4, va, 1, 0x9000ull | VI_X86_FS_P | VI_X86_FS_A, PTB_X86_FS,
        FS_TBL | VI_X86_FS_A, 0, NULL);
    g_assert_false(vi_x86_fs_translate(&c, &lm, va, URD, &r, &f));
    g_assert_false(f.update_lost);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_FS), ==, VI_VTD_FR_FS_USER);
    /* Second stage with SLADE. */
    sc.slade = true;
    map(fm, ss, 4, va, 1, 0x9000ull | SS_RW, PTB_VTD_SS, SS_RW | VI_VTD_SS_A, 0, NULL);
    g_assert_false(vi_vtd_ss_translate(&sc, &lm, va, RD, &r, &f));
    g_assert_true(f.update_lost);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_SS_ACCESS);
    fake_mem_free(fm);
}

/* A memory whose compare-and-swap is refused (the entry is not in RAM). */
static vi_mem_result abort_cmpxchg(void *o, uint64_t pa, uint64_t *exp, uint64_t des,
                                   bool *swapped)
{
    *exp = fake_mem_peek64(o, pa);
    *swapped = false;
    return VI_MEM_ABORT;
}

static const vi_mem_ops abort_cas_ops = { losing_read, losing_write, abort_cmpxchg };

/*
 * Second-stage dirty tracking (SSADE, VT-d rev 4 3.8; rev 3 called it
 * SLADE): a read sets A on every entry of the walk and no D, a write sets D
 * on the leaf; W is granted only with D set, and the result says its write
 * permission rests on hardware-managed dirty state (the IOTLB then caches it
 * without W, so a D software cleared is seen by the next write); a refused
 * write sets nothing on the leaf; SSADE = 0 sets nothing; an update the
 * memory refuses is the second-stage access error (0x78) and changes nothing.
 */
static void test_ss_dirty_tracking(void)
{
    fake_mem *fm = fake_mem_new();
    vi_mem am = { .ops = &abort_cas_ops, .opaque = fm };
    uint64_t root = fake_mem_alloc_page(fm, 4096), va = 0x7000ull, ro_va = 0x9000ull;
    vi_vtd_ss_cfg c = ss_cfg(root, 48);
    uint64_t leaf, ro_leaf;
    vi_pt_result r;
    vi_fault f;

    c.slade = true;
    leaf = map(fm, root, 4, va, 1, 0x55000ull | SS_RW, PTB_VTD_SS, SS_RW, 0, NULL);
    ro_leaf = map(fm, root, 4, ro_va, 1, 0x56000ull | VI_VTD_SS_R, PTB_VTD_SS, SS_RW, 0, NULL);
    /* An update the memory refuses: access error, nothing written. */
    g_assert_false(vi_vtd_ss_translate(&c, &am, va, WR, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_WALK_EABT);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_SS_ACCESS);
    g_assert_cmphex(fake_mem_peek64(fm, leaf), ==, 0x55000ull | SS_RW);
    g_assert_false(fake_mem_peek64(fm, entry_pa(fm, root, 4, va, 4, 0)) & VI_VTD_SS_A);

    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_true(r.dirty_tracked);
    g_assert_false(r.perm & VI_PERM_W);
    g_assert_cmphex(fake_mem_peek64(fm, leaf), ==, 0x55000ull | SS_RW | VI_VTD_SS_A);
    for (int l = 4; l >= 2; l--) {
        uint64_t e = fake_mem_peek64(fm, entry_pa(fm, root, 4, va, l, 0));

        g_assert_cmphex(e & (VI_VTD_SS_A | VI_VTD_SS_D), ==, VI_VTD_SS_A);
    }
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), va, WR, &r, &f));
    g_assert_true(r.perm & VI_PERM_W);
    g_assert_cmphex(fake_mem_peek64(fm, leaf), ==,
                    0x55000ull | SS_RW | VI_VTD_SS_A | VI_VTD_SS_D);
    /* Software cleans it (read-and-clear): the next write sets D again. */
    fake_mem_poke64(fm, leaf, fake_mem_peek64(fm, leaf) & ~VI_VTD_SS_D);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_false(fake_mem_peek64(fm, leaf) & VI_VTD_SS_D);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), va, WR, &r, &f));
    g_assert_true(fake_mem_peek64(fm, leaf) & VI_VTD_SS_D);
    /* Read-only leaf: the write is refused, the leaf untouched. */
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), ro_va, WR, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    g_assert_cmphex(fake_mem_peek64(fm, ro_leaf), ==, 0x56000ull | VI_VTD_SS_R);

    /* SSADE = 0: no A, no D, writes granted from the entry alone. */
    c.slade = false;
    fake_mem_poke64(fm, leaf, 0x55000ull | SS_RW);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), va, WR, &r, &f));
    g_assert_false(r.dirty_tracked);
    g_assert_true(r.perm & VI_PERM_W);
    g_assert_cmphex(fake_mem_peek64(fm, leaf), ==, 0x55000ull | SS_RW);
    fake_mem_free(fm);
}

static void test_fs_eafe(void)
{
    fake_mem *fm = fake_mem_new();
    uint64_t root = fake_mem_alloc_page(fm, 4096);
    vi_x86_fs_cfg c = fs_cfg(root, 4);
    uint64_t va = 0x1000ull, leaf;
    vi_pt_result r;
    vi_fault f;

    leaf = map(fm, root, 4, va, 1, 0x9000ull | FS_PG, PTB_X86_FS, FS_TBL, 0, NULL);
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_false(fake_mem_peek64(fm, leaf) & VI_X86_FS_EA);
    fake_mem_poke64(fm, leaf, 0x9000ull | FS_PG);
    c.eafe = true;
    g_assert_true(vi_x86_fs_translate(&c, fake_mem_vi(fm), va, RD, &r, &f));
    g_assert_true(fake_mem_peek64(fm, leaf) & VI_X86_FS_EA);
    g_assert_true(fake_mem_peek64(fm, leaf) & VI_X86_FS_A);
    for (int l = 4; l >= 2; l--) {
        g_assert_true(fake_mem_peek64(fm, entry_pa(fm, root, 4, va, l, 0)) & VI_X86_FS_EA);
    }
    fake_mem_free(fm);
}

/* ------------------------------------------------------------------------
 * Second stage
 */

static void test_ss_levels(void)
{
    static const int aws[] = { 39, 48, 57 };

    for (unsigned i = 0; i < G_N_ELEMENTS(aws); i++) {
        fake_mem *fm = fake_mem_new();
        uint64_t root = fake_mem_alloc_page(fm, 4096);
        int top = (aws[i] - 12) / 9;
        uint64_t gpa = (1ull << (aws[i] - 1)) | 0x3000ull, leaf;
        vi_vtd_ss_cfg c = ss_cfg(root, aws[i]);
        vi_pt_result r;
        vi_fault f;
        vi_pt_walk w;

        g_assert_cmpint(top, ==, 3 + (int)i);
        leaf = map(fm, root, top, gpa, 1, 0x77000ull | SS_RW, PTB_VTD_SS, SS_RW, 0, NULL);
        g_assert_true(vi_vtd_ss_walk_init(&c, fake_mem_vi(fm), gpa + 5, WR, &w, &r, &f));
        g_assert_true(vi_pt_run(&w, &f));
        g_assert_cmpuint(w.reads, ==, (unsigned)top);
        g_assert_cmphex(r.out, ==, 0x77005ull);
        g_assert_cmphex(r.perm, ==, VI_PERM_ALL);
        /* No A/D updates without SLADE. */
        g_assert_cmphex(fake_mem_peek64(fm, leaf), ==, 0x77000ull | SS_RW);
        /* Beyond the AW. */
        g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), 1ull << aws[i], RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_ADDR_SIZE);
        g_assert_cmpint(f.stage, ==, 2);
        g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_LEGACY_SS), ==,
                        VI_VTD_FR_ADDR_BEYOND_AW);
        g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_SS_ADDR_AW);
        fake_mem_free(fm);
    }
}

static void test_ss_perms_and_faults(void)
{
    fake_mem *fm = fake_mem_new();
    uint64_t root = fake_mem_alloc_page(fm, 4096);
    vi_vtd_ss_cfg c = ss_cfg(root, 48);
    uint64_t gpa = 0x12345000ull, leaf, l2;
    vi_pt_result r;
    vi_fault f;

    leaf = map(fm, root, 4, gpa, 1, 0x8000ull | VI_VTD_SS_R, PTB_VTD_SS, SS_RW, 0, NULL);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
    g_assert_cmphex(r.perm, ==, VI_PERM_R | VI_PERM_UR | VI_PERM_X | VI_PERM_UX);
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, WR, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_LEGACY_SS), ==, VI_VTD_FR_WRITE);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_SM_WRITE);
    /* Write-only leaf: reads fault. */
    fake_mem_poke64(fm, leaf, 0x8000ull | VI_VTD_SS_W);
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_LEGACY_SS), ==, VI_VTD_FR_READ);
    /* Permissions are the AND over the levels. */
    fake_mem_poke64(fm, leaf, 0x8000ull | SS_RWX);
    l2 = entry_pa(fm, root, 4, gpa, 2, 0);
    fake_mem_poke64(fm, l2, (fake_mem_peek64(fm, l2) & ~VI_VTD_SS_W));
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
    g_assert_false(r.perm & VI_PERM_W);
    fake_mem_poke64(fm, l2, fake_mem_peek64(fm, l2) | VI_VTD_SS_W);
    /* SLEE: X checked, from the X bits of every level. */
    c.slee = true;
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, VI_ACC_X | VI_ACC_PRIV,
                                       &r, &f));
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_EXEC);
    fake_mem_poke64(fm, l2, fake_mem_peek64(fm, l2) | VI_VTD_SS_X);
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, VI_ACC_X | VI_ACC_PRIV,
                                       &r, &f));
    for (int l = 4; l >= 2; l--) {
        uint64_t pa = entry_pa(fm, root, 4, gpa, l, 0);
        fake_mem_poke64(fm, pa, fake_mem_peek64(fm, pa) | VI_VTD_SS_X);
    }
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, VI_ACC_X | VI_ACC_PRIV,
                                      &r, &f));
    c.slee = false;
    /* Not present (R = W = 0, X alone does not make it present). */
    fake_mem_poke64(fm, leaf, 0x8000ull | VI_VTD_SS_X);
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
    g_assert_cmpint(f.level, ==, 1);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_SS_NOT_PRESENT);
    /* Reserved: address above HAW; PS at level 4. */
    fake_mem_poke64(fm, leaf, (1ull << 50) | 0x8000ull | SS_RW);
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_LEGACY_SS), ==, VI_VTD_FR_SL_RSVD);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_SS), ==, VI_VTD_FR_SS_RSVD);
    fake_mem_poke64(fm, leaf, 0x8000ull | SS_RW);
    {
        uint64_t l4 = entry_pa(fm, root, 4, gpa, 4, 0), e = fake_mem_peek64(fm, l4);

        fake_mem_poke64(fm, l4, e | VI_VTD_SS_PS);
        g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
        g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
        g_assert_cmpint(f.level, ==, 4);
        fake_mem_poke64(fm, l4, e);
    }
    /* External abort. */
    fake_mem_set_abort(fm, leaf, 8, true);
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), gpa, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_WALK_EABT);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_LEGACY_SS), ==, VI_VTD_FR_SL_ACCESS);
    fake_mem_free(fm);
}

static void test_ss_large_and_ad(void)
{
    fake_mem *fm = fake_mem_new();
    uint64_t root = fake_mem_alloc_page(fm, 4096);
    vi_vtd_ss_cfg c = ss_cfg(root, 48);
    uint64_t g2m = 0x200000ull, g1g = 0x40000000ull, leaf;
    vi_pt_result r;
    vi_fault f;

    map(fm, root, 4, g2m, 2, 0x600000ull | SS_RW | VI_VTD_SS_PS, PTB_VTD_SS, SS_RW, 0, NULL);
    leaf = map(fm, root, 4, g1g, 3, 0x80000000ull | SS_RW | VI_VTD_SS_PS, PTB_VTD_SS, SS_RW, 0, NULL);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g2m + 0x1234, RD, &r, &f));
    g_assert_cmphex(r.out, ==, 0x601234ull);
    g_assert_cmphex(r.size, ==, 2ull << 20);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g1g + 0x2345678, RD, &r, &f));
    g_assert_cmphex(r.out, ==, 0x82345678ull);
    g_assert_cmphex(r.size, ==, 1ull << 30);
    /* SLLPS without 1 GiB: reserved. */
    c.sllps = 1;
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g1g, RD, &r, &f));
    g_assert_cmpint(f.kind, ==, VI_FAULT_RESERVED);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g2m, RD, &r, &f));
    c.sllps = 0;
    g_assert_false(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g2m, RD, &r, &f));
    c.sllps = 3;
    /* SLADE: A on every entry, D on a write; W only once D is set. */
    c.slade = true;
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g1g, RD, &r, &f));
    g_assert_true(fake_mem_peek64(fm, leaf) & VI_VTD_SS_A);
    g_assert_false(fake_mem_peek64(fm, leaf) & VI_VTD_SS_D);
    g_assert_false(r.perm & VI_PERM_W);
    g_assert_true(fake_mem_peek64(fm, entry_pa(fm, root, 4, g1g, 4, 0)) & VI_VTD_SS_A);
    g_assert_true(vi_vtd_ss_translate(&c, fake_mem_vi(fm), g1g, WR, &r, &f));
    g_assert_true(fake_mem_peek64(fm, leaf) & VI_VTD_SS_D);
    g_assert_true(r.perm & VI_PERM_W);
    fake_mem_free(fm);
}

/* ------------------------------------------------------------------------
 * Nested
 */

typedef struct nenv {
    fake_mem *fm;
    uint64_t fs_root, ss_root;
    uint64_t fs_tables[6];      /* PA of the FS table at each level */
    vi_x86_fs_cfg fs;
    vi_vtd_ss_cfg ss;
    uint64_t va, out_gpa, out_pa;
} nenv;

/* FS (levels) maps va -> out_gpa; SS (48-bit) maps each FS table GPA and out_gpa. */
static void nenv_init(nenv *e, int levels, uint64_t ss_table_perm)
{
    memset(e, 0, sizeof(*e));
    e->fm = fake_mem_new();
    e->va = 0x7654321000ull;
    e->out_gpa = 0x200000000ull;
    e->out_pa = 0x5000000ull;
    e->fs_root = fake_mem_alloc_page(e->fm, 4096);
    e->ss_root = fake_mem_alloc_page(e->fm, 4096);
    map(e->fm, e->fs_root, levels, e->va, 1, e->out_gpa | FS_PG, PTB_X86_FS, FS_TBL, GPA_OFF,
        e->fs_tables);
    for (int l = levels; l >= 1; l--) {
        map(e->fm, e->ss_root, 4, e->fs_tables[l] + GPA_OFF, 1,
            e->fs_tables[l] | ss_table_perm, PTB_VTD_SS, SS_RW, 0, NULL);
    }
    map(e->fm, e->ss_root, 4, e->out_gpa, 1, e->out_pa | SS_RW, PTB_VTD_SS, SS_RW, 0, NULL);
    e->fs = fs_cfg(e->fs_root + GPA_OFF, levels);
    e->fs.haw = 48;
    e->ss = ss_cfg(e->ss_root, 48);
}

static bool nxlate(nenv *e, uint32_t acc, vi_pt_result *r, vi_fault *f, unsigned *n)
{
    return vi_vtd_nested_translate(&e->fs, &e->ss, fake_mem_vi(e->fm), e->va + 0x42, acc,
                                   r, f, n);
}

static void test_nested_ok(void)
{
    for (int levels = 4; levels <= 5; levels++) {
        nenv e;
        vi_pt_result r;
        vi_fault f;
        unsigned n;

        nenv_init(&e, levels, SS_RW);
        g_assert_true(nxlate(&e, WR, &r, &f, &n));
        g_assert_cmphex(r.out, ==, e.out_pa + 0x42);
        g_assert_cmphex(r.ipa, ==, e.out_gpa + 0x42);
        g_assert_cmpuint(n, >=, (unsigned)levels + 1);   /* every FS fetch + output */
        /* A/D written through the second stage into the FS tables. */
        g_assert_true(fake_mem_peek64(e.fm, e.fs_tables[1] + ((e.va >> 12) & 511) * 8) &
                      VI_X86_FS_D);
        fake_mem_free(e.fm);
    }
}

static void test_nested_faults(void)
{
    nenv e;
    vi_pt_result r;
    vi_fault f;

    /* Second stage refuses each FS table fetch in turn. */
    for (int l = 4; l >= 1; l--) {
        uint64_t gpa;
        uint64_t pa;

        nenv_init(&e, 4, SS_RW);
        gpa = e.fs_tables[l] + GPA_OFF;
        pa = entry_pa(e.fm, e.ss_root, 4, gpa, 1, 0);
        fake_mem_poke64(e.fm, pa, 0);
        g_assert_false(nxlate(&e, RD, &r, &f, NULL));
        g_assert_cmpint(f.stage, ==, 2);
        g_assert_true(f.s1ptw);
        g_assert_cmpint(f.s1_level, ==, l);
        g_assert_cmpint(f.kind, ==, VI_FAULT_TRANSLATION);
        g_assert_cmphex(f.ipa & ~0xfffull, ==, gpa);
        g_assert_cmphex(f.addr, ==, e.va + 0x42);
        g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_NESTED), ==,
                        VI_VTD_FR_SS_NOT_PRESENT);
        fake_mem_free(e.fm);
    }
    /* FS tables read-only in SS: the A/D write-back faults. */
    nenv_init(&e, 4, VI_VTD_SS_R);
    g_assert_false(nxlate(&e, RD, &r, &f, NULL));
    g_assert_true(f.s1ptw);
    g_assert_cmpint(f.kind, ==, VI_FAULT_PERMISSION);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_NESTED), ==,
                    VI_VTD_FR_NEST_FS_WRITE);
    fake_mem_free(e.fm);
    /* FS table pointer beyond the SS AW. */
    nenv_init(&e, 4, SS_RW);
    e.fs.ptptr = 1ull << 49;
    e.fs.haw = 52;
    g_assert_false(nxlate(&e, RD, &r, &f, NULL));
    g_assert_true(f.s1ptw);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_NESTED), ==,
                    VI_VTD_FR_NEST_FS_ADDR_AW);
    fake_mem_free(e.fm);
    /* First-stage fault: reported as stage 1. */
    nenv_init(&e, 4, SS_RW);
    fake_mem_poke64(e.fm, e.fs_tables[1] + ((e.va >> 12) & 511) * 8, 0);
    g_assert_false(nxlate(&e, RD, &r, &f, NULL));
    g_assert_cmpint(f.stage, ==, 1);
    g_assert_false(f.s1ptw);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_NESTED), ==,
                    VI_VTD_FR_FS_NOT_PRESENT);
    fake_mem_free(e.fm);
    /* Second stage refuses the output: stage 2, not a table fetch. */
    nenv_init(&e, 4, SS_RW);
    fake_mem_poke64(e.fm, entry_pa(e.fm, e.ss_root, 4, e.out_gpa, 1, 0),
                    e.out_pa | VI_VTD_SS_R);
    g_assert_true(nxlate(&e, RD, &r, &f, NULL));
    g_assert_false(r.perm & VI_PERM_W);
    g_assert_false(nxlate(&e, WR, &r, &f, NULL));
    g_assert_cmpint(f.stage, ==, 2);
    g_assert_false(f.s1ptw);
    g_assert_cmphex(f.ipa, ==, e.out_gpa + 0x42);
    g_assert_cmphex(vi_vtd_walk_fault_reason(&f, VI_VTD_XLATE_SM_NESTED), ==, VI_VTD_FR_SM_WRITE);
    fake_mem_free(e.fm);
}

/* Random entries everywhere: every walk ends with a result or one fault. */
static void test_random_tables(void)
{
    GRand *rnd = g_rand_new_with_seed(4242);
    fake_mem *fm = fake_mem_new();
    uint64_t pages[8];

    fake_mem_set_alloc_base(fm, 0x10000000ull);
    for (int i = 0; i < 8; i++) {
        pages[i] = fake_mem_alloc_page(fm, 4096);
    }
    for (int iter = 0; iter < 20000; iter++) {
        uint64_t page = pages[g_rand_int_range(rnd, 0, 8)];
        uint64_t v = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);
        vi_x86_fs_cfg fc = fs_cfg(pages[iter & 7], 4 + (iter & 1));
        vi_vtd_ss_cfg sc = ss_cfg(pages[(iter >> 1) & 7], 39 + 9 * (iter % 3));
        uint64_t in = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);
        vi_pt_result r;
        vi_fault f;

        /* Point table entries mostly at our pages so walks go deep. */
        if (v & 1) {
            v = (v & ~VI_X86_ADDR_MASK) | pages[(v >> 20) & 7];
        }
        fake_mem_poke64(fm, page + (g_rand_int(rnd) & 511) * 8, v);
        in &= (iter & 2) ? 0x0000ffffffffffffull : ~0ull;
        if (!vi_x86_fs_translate(&fc, fake_mem_vi(fm), in, g_rand_int(rnd) & 0xf, &r, &f)) {
            g_assert_cmpint(f.kind, !=, VI_FAULT_NONE);
        }
        if (!vi_vtd_ss_translate(&sc, fake_mem_vi(fm), in & 0xffffffffffull,
                                 g_rand_int(rnd) & 0xf, &r, &f)) {
            g_assert_cmpint(f.kind, !=, VI_FAULT_NONE);
        }
        if (!vi_vtd_nested_translate(&fc, &sc, fake_mem_vi(fm), in, VI_ACC_R, &r, &f, NULL)) {
            g_assert_cmpint(f.kind, !=, VI_FAULT_NONE);
        }
    }
    fake_mem_free(fm);
    g_rand_free(rnd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pt-x86/fs/levels", test_fs_levels);
    g_test_add_func("/pt-x86/fs/large-pages", test_fs_large_pages);
    g_test_add_func("/pt-x86/fs/faults", test_fs_faults);
    g_test_add_func("/pt-x86/fs/permissions", test_fs_permissions);
    g_test_add_func("/pt-x86/fs/eafe", test_fs_eafe);
    g_test_add_func("/pt-x86/update-races", test_update_races);
    g_test_add_func("/pt-x86/ss/levels", test_ss_levels);
    g_test_add_func("/pt-x86/ss/perms-faults", test_ss_perms_and_faults);
    g_test_add_func("/pt-x86/ss/large-ad", test_ss_large_and_ad);
    g_test_add_func("/pt-x86/ss/dirty-tracking", test_ss_dirty_tracking);
    g_test_add_func("/pt-x86/nested/ok", test_nested_ok);
    g_test_add_func("/pt-x86/nested/faults", test_nested_faults);
    g_test_add_func("/pt-x86/random-tables", test_random_tables);
    return g_test_run();
}
