/*
 * Test helper: builds VMSAv8-64 translation tables in a fake_mem.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "armv8-map.h"

void armv8_map_init(armv8_map *m, fake_mem *fm, unsigned pgshift, int start_level,
                    unsigned start_bits)
{
    uint64_t size = 8ull << start_bits;

    if (size < 64) {
        size = 64;
    }
    m->fm = fm;
    m->pgshift = pgshift;
    m->start_level = start_level;
    m->start_bits = start_bits;
    m->lpa = false;
    m->addr_offset = 0;
    m->root_pa = fake_mem_alloc(fm, size, size < 4096 ? 4096 : size);
    m->tables = 1;
}

uint64_t armv8_map_root(const armv8_map *m)
{
    return m->root_pa + m->addr_offset;
}

unsigned armv8_map_shift(const armv8_map *m, int level)
{
    return m->pgshift + (m->pgshift - 3) * (unsigned)(3 - level);
}

uint64_t armv8_map_oa(const armv8_map *m, uint64_t addr)
{
    uint64_t v = addr & 0x0000ffffffffffffull;

    if (m->lpa) {
        v |= ((addr >> 48) & 0xf) << 12;
    }
    return v;
}

static uint64_t desc_addr(const armv8_map *m, uint64_t d)
{
    uint64_t a = d & 0x0000ffffffffffffull & ~((1ull << m->pgshift) - 1);

    if (m->lpa) {
        a |= ((d >> 12) & 0xf) << 48;
    }
    return a;
}

static uint64_t index_of(const armv8_map *m, uint64_t in, int level)
{
    unsigned bits = level == m->start_level ? m->start_bits : m->pgshift - 3;

    return (in >> armv8_map_shift(m, level)) & ((1ull << bits) - 1);
}

uint64_t armv8_map_entry_pa(armv8_map *m, uint64_t in, int level)
{
    uint64_t table = m->root_pa;

    for (int l = m->start_level;; l++) {
        uint64_t epa = table + 8 * index_of(m, in, l), d;

        if (l == level) {
            return epa;
        }
        d = fake_mem_peek64(m->fm, epa);
        if ((d & 3) == 3) {
            table = desc_addr(m, d) - m->addr_offset;
            continue;
        }
        if (d & 1) {
            return 0;       /* a block above level */
        }
        table = fake_mem_alloc_page(m->fm, 1ull << m->pgshift);
        m->tables++;
        fake_mem_poke64(m->fm, epa, armv8_map_oa(m, table + m->addr_offset) | 3);
    }
}

uint64_t armv8_map_leaf(armv8_map *m, uint64_t in, uint64_t out, int level, uint64_t attrs)
{
    uint64_t epa = armv8_map_entry_pa(m, in, level);
    uint64_t size = 1ull << armv8_map_shift(m, level);

    if (epa) {
        fake_mem_poke64(m->fm, epa, armv8_map_oa(m, out & ~(size - 1)) | attrs |
                        (level == 3 ? 3 : 1));
    }
    return epa;
}

void armv8_map_table_bits(armv8_map *m, uint64_t in, int level, uint64_t bits)
{
    uint64_t epa = armv8_map_entry_pa(m, in, level);

    if (epa) {
        fake_mem_poke64(m->fm, epa, fake_mem_peek64(m->fm, epa) | bits);
    }
}
