/*
 * Tests of the fake guest memory the other core tests rely on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <glib.h>

#include "fake-mem.h"

static void test_alloc_poke_peek(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    uint64_t pa = fake_mem_alloc_page(fm, 0x10000), v = 1;

    g_assert_cmpuint(pa & 0xffff, ==, 0);
    g_assert_true(fake_mem_is_mapped(fm, pa, 0x10000));
    g_assert_false(fake_mem_is_mapped(fm, pa, 0x10001));
    g_assert_cmpuint(fake_mem_peek64(fm, pa + 0xfff8), ==, 0);
    fake_mem_poke64(fm, pa + 0x1238, 0x1122334455667788ull);
    g_assert_cmpuint(fake_mem_peek64(fm, pa + 0x1238), ==, 0x1122334455667788ull);
    g_assert_cmpint(vi_mem_read_le64(m, pa + 0x1238, &v), ==, VI_MEM_OK);
    g_assert_cmpuint(v, ==, 0x1122334455667788ull);
    g_assert_cmpuint(fake_mem_reads(fm), ==, 1);
    /* Second allocation does not overlap the first. */
    g_assert_cmpuint(fake_mem_alloc_page(fm, 0x1000), >=, pa + 0x10000);
    fake_mem_free(fm);
}

static void test_unmapped_and_abort(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    uint64_t pa = fake_mem_alloc_page(fm, 0x1000), v;
    uint8_t buf[16];
    bool swapped;

    g_assert_cmpint(vi_mem_read_le64(m, pa + 0x1000, &v), ==, VI_MEM_ABORT);
    g_assert_cmpuint(fake_mem_get_stats(fm)->bad, ==, 1);
    /* A read straddling the end of the mapped frame aborts too. */
    g_assert_cmpint(vi_mem_read(m, pa + 0xff8, buf, 16), ==, VI_MEM_ABORT);
    g_assert_cmpuint(fake_mem_get_stats(fm)->bad, ==, 2);
    fake_mem_set_abort(fm, pa, 0x1000, true);
    g_assert_cmpint(vi_mem_read_le64(m, pa, &v), ==, VI_MEM_ABORT);
    g_assert_cmpuint(fake_mem_get_stats(fm)->bad, ==, 2);
    g_assert_cmpuint(fake_mem_get_stats(fm)->aborts, ==, 3);
    v = 0;
    g_assert_cmpint(vi_mem_cmpxchg64(m, pa, &v, 1, &swapped), ==, VI_MEM_ABORT);
    fake_mem_set_abort(fm, pa, 0x1000, false);
    g_assert_cmpint(vi_mem_read_le64(m, pa, &v), ==, VI_MEM_OK);
    fake_mem_free(fm);
}

static void test_cmpxchg(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);
    uint64_t pa = fake_mem_alloc_page(fm, 0x1000), exp = 5;
    bool swapped;

    fake_mem_poke64(fm, pa, 7);
    g_assert_cmpint(vi_mem_cmpxchg64(m, pa, &exp, 9, &swapped), ==, VI_MEM_OK);
    g_assert_false(swapped);
    g_assert_cmpuint(exp, ==, 7);
    g_assert_cmpint(vi_mem_cmpxchg64(m, pa, &exp, 9, &swapped), ==, VI_MEM_OK);
    g_assert_true(swapped);
    g_assert_cmpuint(fake_mem_peek64(fm, pa), ==, 9);
    fake_mem_free(fm);
}

static void test_many_frames(void)
{
    fake_mem *fm = fake_mem_new();
    const vi_mem *m = fake_mem_vi(fm);

    /* Force several rehashes; frames keep their contents. */
    for (uint64_t i = 0; i < 5000; i++) {
        fake_mem_poke64(fm, (i << 30) | 0x10, i * 3);
    }
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t v = 0;
        g_assert_cmpint(vi_mem_read_le64(m, (i << 30) | 0x10, &v), ==, VI_MEM_OK);
        g_assert_cmpuint(v, ==, i * 3);
    }
    fake_mem_free(fm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fake-mem/alloc-poke-peek", test_alloc_poke_peek);
    g_test_add_func("/fake-mem/unmapped-and-abort", test_unmapped_and_abort);
    g_test_add_func("/fake-mem/cmpxchg", test_cmpxchg);
    g_test_add_func("/fake-mem/many-frames", test_many_frames);
    return g_test_run();
}
