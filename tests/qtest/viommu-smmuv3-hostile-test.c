/*
 * viommu-smmuv3 hostile-input qtest: a fixed-seed run of random STE, CD and
 * page-table words, commands (mostly real opcodes with random operands),
 * register values anywhere in both register pages, test-device registers and
 * PCIe capabilities, and device DMA into the SMMU's own registers.  QEMU must
 * survive every one and the SMMU must still translate afterwards.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

#define SID             SMMU_TD_SID

/*
 * VIOMMU_HOSTILE_SEED, VIOMMU_HOSTILE_COUNT: seed and count for long soaks
 * (VIOMMU_HOSTILE_PROPS: the SMMU's properties).
 */
static uint32_t hostile_env(const char *name, uint32_t dflt)
{
    const char *s = getenv(name);

    return s && *s ? (uint32_t)strtoul(s, NULL, 0) : dflt;
}

/* The SMMU's register pages 0 and 1, mapped for the device to write. */
#define HOSTILE_REGS_IOVA   0x30000ull

static void hostile_map_regs(SmmuS1 *s)
{
    smmu_pt_map(&s->pt, HOSTILE_REGS_IOVA, SMMU_BASE, 4096, PT_R | PT_W);
    smmu_pt_map(&s->pt, HOSTILE_REGS_IOVA + 0x1000, SMMU_BASE + SMMU_PAGE1, 4096,
                PT_R | PT_W);
}

static void test_hostile(void)
{
    uint32_t seed = hostile_env("VIOMMU_HOSTILE_SEED", 0x5eed5);
    uint32_t count = hostile_env("VIOMMU_HOSTILE_COUNT", 400);
    /* httu=on: also the A/D-flag update path. */
    const char *props = getenv("VIOMMU_HOSTILE_PROPS");
    SmmuEnv *e = smmu_env_start(props && *props ? props : "httu=on", false, 8, 6, NULL);
    GRand *r = g_rand_new_with_seed(seed);
    SmmuS1 s;
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096);
    uint64_t ste_addr = smmu_ste_addr(e->d, SID);
    static const uint32_t regs[] = {
        0x20, 0x28, 0x2c, 0x44, 0x50, 0x64, 0x68, 0x6c, 0x70, 0x74, 0x80, 0x84, 0x88,
        0x90, 0x94, 0x98, 0x9c, 0xa0, 0xa4, 0xa8, 0xac, 0xb0, 0xb8, 0xbc, 0x100a8, 0x100ac,
        0xc0, 0xc8, 0xd0, 0x1000, 0xfd0, 0x1fffc,
    };
    static const uint8_t ops[] = {
        CMD_PREFETCH_CONFIG, 0x02, CMD_CFGI_STE, CMD_CFGI_STE_RANGE, CMD_CFGI_CD,
        CMD_CFGI_CD_ALL, CMD_TLBI_NH_ALL, CMD_TLBI_NH_ASID, CMD_TLBI_NH_VA, CMD_TLBI_NH_VAA,
        CMD_TLBI_EL2_ALL, CMD_TLBI_S12_VMALL, CMD_TLBI_S2_IPA, CMD_TLBI_NSNH_ALL,
        CMD_ATC_INV, CMD_PRI_RESP, CMD_RESUME, CMD_SYNC,
    };

    smmu_s1_setup(e, &s, 12, 1);
    smmu_pt_map(&s.pt, 0x10000, a, 4096, PT_R | PT_W);
    hostile_map_regs(&s);
    e->d->lenient = true;
    g_test_message("hostile seed 0x%x count %u props %s", seed, count,
                   props && *props ? props : "httu=on");
    for (uint32_t i = 0; i < count; i++) {
        uint64_t v = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);
        /* Table and queue contents anywhere in the first RAM pages or random. */
        uint64_t ram = 0x40000000ull + (g_rand_int(r) & 0x0ffff000u);

        switch (g_rand_int_range(r, 0, 8)) {
        case 0:     /* a random STE word (sometimes a plausible pointer) */
            qtest_writeq(e->m->qts, ste_addr + 8 * g_rand_int_range(r, 0, 8),
                         g_rand_boolean(r) ? v : (v & 0xfffull) | ram | 1);
            smmu_cmd_sync(e->d, CMD_CFGI_STE | ((uint64_t)SID << 32), 1);
            break;
        case 1:     /* a random CD word */
            qtest_writeq(e->m->qts, s.cdtab + 8 * g_rand_int_range(r, 0, 4), v);
            smmu_cmd_sync(e->d, CMD_CFGI_CD_ALL | ((uint64_t)SID << 32), 0);
            break;
        case 2:     /* random commands */
            for (int j = 0; j < 4; j++) {
                uint64_t w0 = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);

                /* Mostly real opcodes with random operands. */
                if (g_rand_int_range(r, 0, 4)) {
                    w0 = (w0 & ~0x4ffull) | ops[g_rand_int_range(r, 0, ARRAY_SIZE(ops))];
                }
                smmu_cmd(e->d, w0, ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r));
            }
            if (smmu_sync(e->d)) {
                smmu_writel(e->d, SMMU_GERRORN, smmu_readl(e->d, SMMU_GERROR));
            }
            break;
        case 3:     /* a random register value */
            if (g_rand_boolean(r)) {
                qtest_writel(e->m->qts, SMMU_BASE + regs[g_rand_int_range(r, 0,
                                                               ARRAY_SIZE(regs))], v);
            } else {
                qtest_writeq(e->m->qts, SMMU_BASE + (regs[g_rand_int_range(r, 0,
                                                               ARRAY_SIZE(regs))] & ~7u),
                             (v & 0xfff0000000000fffull) | ram);
            }
            break;
        case 4:     /* DMA, with or without PASID */
            td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE);
            td_writel(e->td, TD_PASID, g_rand_boolean(r) ? 0 :
                      TD_PASID_VALID | (g_rand_int(r) & 0xfffff));
            if (g_rand_int_range(r, 0, 4)) {
                td_do(e->td, TD_OP_COPY, g_rand_boolean(r) ? 0x10000 : v, b, 64);
            } else {
                /* the device writes the SMMU's own registers (pages 0 and 1) */
                td_writel(e->td, TD_PATTERN, v >> 32);
                td_do(e->td, TD_OP_FILL, 0, HOSTILE_REGS_IOVA + (v & 0x1ffc),
                      g_rand_int_range(r, 1, 17) * 4);
            }
            break;
        case 6:     /* anything anywhere in the register window, page 1 included */
            if (g_rand_boolean(r)) {
                qtest_writel(e->m->qts, SMMU_BASE + g_rand_int_range(r, 0, 0x20000 / 4) * 4,
                             g_rand_boolean(r) ? v : (v & 0xffff001fu));
            } else {
                qtest_writeq(e->m->qts, SMMU_BASE + g_rand_int_range(r, 0, 0x20000 / 8) * 8,
                             g_rand_boolean(r) ? v : (v & 0xfff000000000001full) | ram);
            }
            break;
        case 7:     /* test device registers and PASID/PRI/ATS capabilities */
            if (g_rand_boolean(r)) {
                td_writel(e->td, g_rand_int_range(r, 0, 0x80 / 4) * 4, v);
            } else {
                td_cfg_writel(e->td, TD_CFG_ATS + g_rand_int_range(r, 0, 0x30 / 4) * 4, v);
            }
            td_writel(e->td, TD_CMD, TD_CMD_RESET);
            td_writel(e->td, TD_DELAY_NS, 0);
            td_writel(e->td, TD_IRQ, 0);
            break;
        default:    /* random page-table entries */
            qtest_writeq(e->m->qts, s.pt.tables[g_rand_int_range(r, 0, s.pt.ntables)] +
                         8 * g_rand_int_range(r, 0, 512), v);
            smmu_cmd_sync(e->d, CMD_TLBI_NSNH_ALL, 0);
            break;
        }
        /* Something sane to resynchronise the driver's view of the queues. */
        if (i % 50 == 49) {
            smmu_drv_free(e->d);
            e->d = smmu_drv_init(e->m, g_rand_boolean(r), 8, 6);
            smmu_s1_setup(e, &s, 12, 1);
            smmu_pt_map(&s.pt, 0x10000, a, 4096, PT_R | PT_W);
            hostile_map_regs(&s);
            ste_addr = smmu_ste_addr(e->d, SID);
            e->d->lenient = true;
        }
    }
    /* QEMU is alive and the SMMU still works. */
    smmu_drv_free(e->d);
    e->d = smmu_drv_init(e->m, false, 8, 6);
    smmu_s1_setup(e, &s, 12, 1);
    smmu_pt_map(&s.pt, 0x10000, a, 4096, PT_R | PT_W);
    smmu_pt_map(&s.pt, 0x20000, b, 4096, PT_R | PT_W);
    td_writel(e->td, TD_PASID, 0);
    smmu_check_copy(e, 0x10000, a, 0x20000, b, 0xa1a1);
    g_rand_free(r);
    smmu_env_stop(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-smmuv3/hostile", test_hostile);
    return g_test_run();
}
