/*
 * viommu-smmuv3 stall model (IHI 0070 3.12.2, 4.6, 5.5): a translation
 * fault of a stream configured to stall holds viommu-testdev's access, the
 * event says so (Stall, STAG), and the access is retried or terminated by
 * CMD_RESUME / CMD_STALL_TERM; what cannot be held or recorded terminates;
 * CD.S / STE.S2S / STE.S1STALLD are checked against IDR0.STALL_MODEL.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "smmuv3-drv.h"

#define SID             SMMU_TD_SID
#define ASID            5
#define SRC_IOVA        0x100000ull
#define DST_IOVA        0x200000ull
#define CD0_S           (1ull << 44)
#define STE1_S1STALLD   (1ull << 27)
#define STE2_S2S        (1ull << 57)
#define EVT1_STALL      VI_SMMU_EVT1_STALL
#define EVT_STAG(e)     ((unsigned)((e)[1] & VI_SMMU_EVT1_STAG_MASK))

typedef struct StallEnv {
    SmmuEnv *e;
    SmmuS1 s;
    uint64_t src, dst;          /* PAs: a tagged page and a zeroed one */
} StallEnv;

/* CMD_RESUME (4.6.1) and CMD_STALL_TERM (4.6.2), each followed by a CMD_SYNC. */
static unsigned resume(SmmuDrv *d, uint32_t sid, unsigned action, unsigned stag)
{
    return smmu_cmd_sync(d, CMD_RESUME | ((uint64_t)action << 12) | ((uint64_t)sid << 32), stag);
}

static unsigned stall_term(SmmuDrv *d, uint32_t sid)
{
    return smmu_cmd_sync(d, VISMMU_CMD_STALL_TERM | ((uint64_t)sid << 32), 0);
}

/*
 * Stage 1 for the device with CD.S = cd_s: SRC_IOVA maps a tagged page,
 * DST_IOVA nothing yet.  The CD is written before the STE points at it.
 */
static StallEnv *stall_start_extra(const char *props, bool cd_s, unsigned evtq_log2,
                                   const char *extra)
{
    StallEnv *t = g_new0(StallEnv, 1);
    uint64_t ste[8];

    t->e = smmu_env_start(props, false, 8, evtq_log2, extra);
    smmu_pt_init(&t->s.pt, t->e->m, false, 12, 48, -1);
    t->s.cdtab = smmu_alloc(t->e->m, 64, 64);
    smmu_cd(t->s.cd, &t->s.pt, ASID);
    t->s.cd[0] |= cd_s ? CD0_S : 0;
    smmu_write_cd(t->e->d, t->s.cdtab, t->s.cd);
    smmu_ste_s1(ste, t->s.cdtab, 0, 0, 0);
    smmu_write_ste(t->e->d, SID, ste);
    t->src = td_page_tagged(t->e->m, 3);
    t->dst = td_alloc(t->e->m, 4096);
    smmu_pt_map(&t->s.pt, SRC_IOVA, t->src, 4096, PT_R);
    return t;
}

static StallEnv *stall_start(const char *props, bool cd_s, unsigned evtq_log2)
{
    return stall_start_extra(props, cd_s, evtq_log2, NULL);
}

static void stall_stop(StallEnv *t)
{
    smmu_env_stop(t->e);
    g_free(t);
}

/* Copy 64 bytes SRC_IOVA -> DST_IOVA; the write is held: returns its event. */
static void copy_held(StallEnv *t, uint64_t ev[4])
{
    Td *td = t->e->td;

    td_program(td, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64);
    td_start(td);
    g_assert_true(td_wait_stall(td));
    g_assert_cmphex(td_readl(td, TD_STATUS) & (TD_STATUS_BUSY | TD_STATUS_DONE), ==,
                    TD_STATUS_BUSY);
    smmu_expect_event(t->e, EVT_F_TRANSLATION, ev);
    g_assert_true(ev[1] & EVT1_STALL);
    g_assert_false(EVT_RNW(ev));                /* the write was held, the read went */
    g_assert_cmphex(EVT_ADDR(ev), ==, DST_IOVA);
}

/* The same copy, not held: it ends with the write's fault, recorded with Stall = 0. */
static void copy_terminated(StallEnv *t)
{
    uint64_t ev[4];

    g_assert_cmpuint(td_do(t->e->td, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64), ==,
                     TD_ERR_WRITE_FAULT);
    smmu_expect_event(t->e, EVT_F_TRANSLATION, ev);
    g_assert_false(ev[1] & EVT1_STALL);
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 0);
}

/* The copy meets an ILLEGAL configuration: its first access (the read) ends, event type. */
static void copy_bad_config(StallEnv *t, unsigned type)
{
    uint64_t ev[4];

    g_assert_cmpuint(td_do(t->e->td, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64), ==,
                     TD_ERR_READ_FAULT);
    smmu_expect_event(t->e, type, ev);
}

static void assert_copied(StallEnv *t)
{
    for (int i = 0; i < 16; i++) {
        g_assert_cmphex(qtest_readl(t->e->m->qts, t->dst + 4 * i), ==, 3 * 0x10001u + i);
    }
}

/* What a driver's fault handler does for a held write: map the page, resume with Retry. */
static void map_and_retry(StallEnv *t, const uint64_t ev[4])
{
    smmu_pt_map(&t->s.pt, DST_IOVA, t->dst, 4096, PT_R | PT_W);
    g_assert_cmpuint(resume(t->e->d, SID, VISMMU_RESUME_RETRY, EVT_STAG(ev)), ==, 0);
    g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_NONE);
    assert_copied(t);
}

static void test_idr(void)
{
    static const struct { const char *props; unsigned model; } c[] = {
        { NULL, VI_SMMU_STALL_MODEL_TERM },
        { "stall=on", VI_SMMU_STALL_MODEL_BOTH },
        { "stall=force", VI_SMMU_STALL_MODEL_FORCED },
    };

    for (unsigned i = 0; i < ARRAY_SIZE(c); i++) {
        SmmuEnv *e = smmu_env_start(c[i].props, false, 8, 6, NULL);

        g_assert_cmpuint(FIELD_EX32(smmu_readl(e->d, SMMU_IDR0), VISMMU_IDR0, STALL_MODEL), ==,
                         c[i].model);
        /* Without stalls both commands are ILLEGAL (4.6); with them, nothing held is fine. */
        g_assert_cmpuint(resume(e->d, SID, VISMMU_RESUME_RETRY, 0), ==,
                         c[i].model == VI_SMMU_STALL_MODEL_TERM ? CERROR_ILL : 0);
        smmu_env_stop(e);
        e = smmu_env_start(c[i].props, false, 8, 6, NULL);
        g_assert_cmpuint(stall_term(e->d, SID), ==,
                         c[i].model == VI_SMMU_STALL_MODEL_TERM ? CERROR_ILL : 0);
        smmu_env_stop(e);
    }
}

/* Held, the page mapped, Retry: the copy completes with the data; one event. */
static void test_retry(void)
{
    StallEnv *t = stall_start("stall=on", true, 6);
    uint64_t ev[4];

    copy_held(t, ev);
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 1);
    map_and_retry(t, ev);
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 1);
    smmu_expect_no_event(t->e);
    stall_stop(t);
}

/* Retry without a mapping faults again: a new hold with a different STAG. */
static void test_retry_refaults(void)
{
    StallEnv *t = stall_start("stall=on", true, 6);
    uint64_t ev[4], ev2[4];

    copy_held(t, ev);
    g_assert_cmpuint(resume(t->e->d, SID, VISMMU_RESUME_RETRY, EVT_STAG(ev)), ==, 0);
    g_assert_true(td_wait_stall(t->e->td));
    smmu_expect_event(t->e, EVT_F_TRANSLATION, ev2);
    g_assert_true(ev2[1] & EVT1_STALL);
    g_assert_cmpuint(EVT_STAG(ev2), !=, EVT_STAG(ev));
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 2);
    /* The old tag matches nothing any more: ignored, still held. */
    g_assert_cmpuint(resume(t->e->d, SID, VISMMU_RESUME_RETRY, EVT_STAG(ev)), ==, 0);
    g_assert_true(td_wait_stall(t->e->td));
    g_assert_cmpuint(resume(t->e->d, SID, VISMMU_RESUME_ABORT, EVT_STAG(ev2)), ==, 0);
    g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_WRITE_FAULT);
    stall_stop(t);
}

/* Abort and Terminate end the access with its fault; a wrong StreamID or STAG does nothing. */
static void test_abort_term(void)
{
    for (unsigned action = VISMMU_RESUME_TERM; action <= VISMMU_RESUME_ABORT; action += 2) {
        StallEnv *t = stall_start("stall=on", true, 6);
        uint64_t ev[4];

        copy_held(t, ev);
        g_assert_cmpuint(resume(t->e->d, SID + 1, VISMMU_RESUME_RETRY, EVT_STAG(ev)), ==, 0);
        g_assert_cmpuint(resume(t->e->d, SID, VISMMU_RESUME_RETRY, EVT_STAG(ev) ^ 1), ==, 0);
        g_assert_true(td_wait_stall(t->e->td));
        /* Action 0b11 is reserved: CERROR_ILL, the access stays held. */
        g_assert_cmpuint(resume(t->e->d, SID, 3, EVT_STAG(ev)), ==, CERROR_ILL);
        g_assert_true(td_wait_stall(t->e->td));
        stall_stop(t);

        t = stall_start("stall=on", true, 6);
        copy_held(t, ev);
        g_assert_cmpuint(resume(t->e->d, SID, action, EVT_STAG(ev)), ==, 0);
        g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_WRITE_FAULT);
        g_assert_cmphex(td_readq(t->e->td, TD_FAULT_ADDR_LO), ==, DST_IOVA);
        g_assert_cmphex(qtest_readl(t->e->m->qts, t->dst), ==, 0);
        stall_stop(t);
    }
}

/* CMD_STALL_TERM ends every hold of the StreamID; clearing SMMUEN ends them all. */
static void test_stall_term_smmuen(void)
{
    StallEnv *t = stall_start("stall=on", true, 6);
    uint64_t ev[4];

    copy_held(t, ev);
    g_assert_cmpuint(stall_term(t->e->d, SID + 1), ==, 0);
    g_assert_true(td_wait_stall(t->e->td));
    g_assert_cmpuint(stall_term(t->e->d, SID), ==, 0);
    g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_WRITE_FAULT);

    copy_held(t, ev);
    smmu_writel(t->e->d, SMMU_CR0, smmu_readl(t->e->d, SMMU_CR0) & ~CR0_SMMUEN);
    g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_WRITE_FAULT);
    stall_stop(t);
}

/* CD.S = 0 on an SMMU that can stall: the fault terminates, recorded without Stall. */
static void test_cd_s_clear(void)
{
    StallEnv *t = stall_start("stall=on", false, 6);

    copy_terminated(t);
    stall_stop(t);
}

/* No event queue: a stall cannot be recorded, so the access terminates at once. */
static void test_eventq_off(void)
{
    StallEnv *t = stall_start("stall=on", true, 6);

    smmu_writel(t->e->d, SMMU_CR0, smmu_readl(t->e->d, SMMU_CR0) & ~CR0_EVENTQEN);
    g_assert_cmpuint(td_do(t->e->td, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64), ==,
                     TD_ERR_WRITE_FAULT);
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 0);
    stall_stop(t);
}

/* A full event queue: the stall record is lost (overflow) and the access terminated. */
static void test_eventq_full(void)
{
    StallEnv *t = stall_start("stall=on", true, 1);     /* two entries */
    uint64_t ste[8] = { 0 };

    /* Two C_BAD_STE records fill the queue. */
    smmu_write_ste(t->e->d, SID, (uint64_t[8]) { 1 | (1 << 1) });   /* Config 0b001: reserved */
    for (int i = 0; i < 2; i++) {
        g_assert_cmpuint(td_do(t->e->td, TD_OP_FILL, DST_IOVA, DST_IOVA, 4), ==,
                         TD_ERR_WRITE_FAULT);
    }
    smmu_ste_s1(ste, t->s.cdtab, 0, 0, 0);
    smmu_write_ste(t->e->d, SID, ste);
    td_program(t->e->td, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64);
    td_start(t->e->td);
    g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 1);     /* held, then terminated */
    g_assert_true(smmu_readl(t->e->d, SMMU_EVENTQ_PROD) & Q_OVFLG);
    stall_stop(t);
}

/* Stage 2 with STE.S2S: a stage-2 fault is held (S2 = 1, the IPA), Retry completes it. */
static void test_stage2(void)
{
    SmmuEnv *e = smmu_env_start("stall=on", false, 8, 6, NULL);
    uint64_t ste[8] = { 0 }, ev[4], src = td_page_tagged(e->m, 3), dst = td_alloc(e->m, 4096);
    SmmuPt s2;

    smmu_pt_init(&s2, e->m, true, 12, 48, 0);
    smmu_ste_s2(ste, &s2, 9);
    ste[2] |= STE2_S2S;
    smmu_write_ste(e->d, SID, ste);
    smmu_pt_map(&s2, SRC_IOVA, src, 4096, PT_R);
    td_program(e->td, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64);
    td_start(e->td);
    g_assert_true(td_wait_stall(e->td));
    smmu_expect_event(e, EVT_F_TRANSLATION, ev);
    g_assert_true(ev[1] & EVT1_STALL);
    g_assert_true(EVT_S2(ev));
    g_assert_cmphex(EVT_IPA(ev), ==, DST_IOVA);
    smmu_pt_map(&s2, DST_IOVA, dst, 4096, PT_R | PT_W);
    g_assert_cmpuint(resume(e->d, SID, VISMMU_RESUME_RETRY, EVT_STAG(ev)), ==, 0);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readl(e->m->qts, dst), ==, 3 * 0x10001u);
    smmu_env_stop(e);
}

/* IHI 0070 5.5: what each stall model makes ILLEGAL. */
static void test_illegal(void)
{
    uint64_t ev[4], ste[8];
    StallEnv *t;

    /* Terminate only: CD.S = 1 is ILLEGAL. */
    t = stall_start(NULL, true, 6);
    copy_bad_config(t, EVT_C_BAD_CD);
    stall_stop(t);

    /* Stall model 0b00: CD.S = 1 under STE.S1STALLD is ILLEGAL. */
    t = stall_start("stall=on", true, 6);
    smmu_ste_s1(ste, t->s.cdtab, 0, 0, 0);
    ste[1] |= STE1_S1STALLD;
    smmu_write_ste(t->e->d, SID, ste);
    copy_bad_config(t, EVT_C_BAD_CD);
    stall_stop(t);

    /* Forced: CD.S = 0 is ILLEGAL, S1STALLD = 1 is ILLEGAL, S2S = 0 is ILLEGAL. */
    t = stall_start("stall=force", false, 6);
    copy_bad_config(t, EVT_C_BAD_CD);
    smmu_ste_s1(ste, t->s.cdtab, 0, 0, 0);
    ste[1] |= STE1_S1STALLD;
    smmu_write_ste(t->e->d, SID, ste);
    copy_bad_config(t, EVT_C_BAD_STE);
    {
        SmmuPt s2;

        smmu_pt_init(&s2, t->e->m, true, 12, 48, 0);
        memset(ste, 0, sizeof(ste));
        smmu_ste_s2(ste, &s2, 9);
        smmu_write_ste(t->e->d, SID, ste);
        copy_bad_config(t, EVT_C_BAD_STE);
    }
    stall_stop(t);

    /* Forced with CD.S = 1: held like stall=on. */
    t = stall_start("stall=force", true, 6);
    copy_held(t, ev);
    map_and_retry(t, ev);
    stall_stop(t);
}

/* A device with dma-can-stall=off is never held: its fault terminates, Stall clear. */
static void test_device_cannot_stall(void)
{
    StallEnv *t = stall_start_extra("stall=on", true, 6,
                                    "-global viommu-testdev.dma-can-stall=off");

    copy_terminated(t);
    stall_stop(t);
}

/* x-stall-max: with the one hold allowed taken, another device's fault terminates (Stall = 0). */
static void test_stall_max(void)
{
    StallEnv *t = stall_start_extra("stall=on,x-stall-max=1", true, 6,
                                    "-device viommu-testdev,addr=05.0");
    Td *td2 = td_open(t->e->m, TD_DEVFN + 8);
    uint64_t ste[8], ev[4], ev2[4];

    smmu_ste_s1(ste, t->s.cdtab, 0, 0, 0);
    smmu_write_ste(t->e->d, TD_DEVFN + 8, ste);
    copy_held(t, ev);
    g_assert_cmpuint(td_do(td2, TD_OP_COPY, SRC_IOVA, DST_IOVA, 64), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmpuint(td_readl(td2, TD_STALLS), ==, 0);
    g_assert_true(smmu_next_event(t->e->d, ev2));
    g_assert_cmphex(EVT_TYPE(ev2), ==, EVT_F_TRANSLATION);
    g_assert_cmphex(EVT_SID(ev2), ==, TD_DEVFN + 8);
    g_assert_false(ev2[1] & EVT1_STALL);
    /* The held one is still held, and resumes. */
    g_assert_true(td_wait_stall(t->e->td));
    map_and_retry(t, ev);
    td_close(td2);
    stall_stop(t);
}

/*
 * Migration: a hold is not migrated.  The access held at migration ends on
 * the destination with its fault, a CMD_RESUME for its STAG matches nothing
 * there, and the device is held again by the destination's SMMU.
 */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-smmuv3-stall-mig-%d", g_get_tmp_dir(),
                                            getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-incoming %s", uri);
    StallEnv *t = stall_start("stall=on", true, 6);
    uint64_t ev[4];
    SmmuDrv saved;
    unsigned stag;

    /* The leaf table DST_IOVA needs, made now: the destination's allocator knows nothing. */
    smmu_pt_map(&t->s.pt, DST_IOVA + 0x1000, t->dst, 4096, PT_R);
    copy_held(t, ev);
    stag = EVT_STAG(ev);
    qtest_qmp_assert_success(t->e->m->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(t->e->m->qts);
    saved = *t->e->d;
    smmu_env_stop(t->e);

    t->e = smmu_env_start("stall=on", false, 0, 0, incoming);
    td_wait_migration(t->e->m->qts);
    t->e->d = g_new(SmmuDrv, 1);
    *t->e->d = saved;
    t->e->d->qts = t->e->m->qts;
    t->e->d->m = t->e->m;
    t->s.pt.m = t->e->m;
    g_assert_cmpuint(td_wait(t->e->td), ==, TD_ERR_WRITE_FAULT);
    g_assert_cmpuint(td_readl(t->e->td, TD_STALLS), ==, 1);
    g_assert_cmpuint(resume(t->e->d, SID, VISMMU_RESUME_RETRY, stag), ==, 0);
    smmu_expect_no_event(t->e);

    copy_held(t, ev);
    map_and_retry(t, ev);
    stall_stop(t);
    unlink(file);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-smmuv3/stall/idr", test_idr);
    qtest_add_func("/viommu-smmuv3/stall/retry", test_retry);
    qtest_add_func("/viommu-smmuv3/stall/retry-refaults", test_retry_refaults);
    qtest_add_func("/viommu-smmuv3/stall/abort-term", test_abort_term);
    qtest_add_func("/viommu-smmuv3/stall/stall-term-smmuen", test_stall_term_smmuen);
    qtest_add_func("/viommu-smmuv3/stall/cd-s-clear", test_cd_s_clear);
    qtest_add_func("/viommu-smmuv3/stall/eventq-off", test_eventq_off);
    qtest_add_func("/viommu-smmuv3/stall/eventq-full", test_eventq_full);
    qtest_add_func("/viommu-smmuv3/stall/stage2", test_stage2);
    qtest_add_func("/viommu-smmuv3/stall/illegal", test_illegal);
    qtest_add_func("/viommu-smmuv3/stall/device-cannot-stall", test_device_cannot_stall);
    qtest_add_func("/viommu-smmuv3/stall/stall-max", test_stall_max);
    qtest_add_func("/viommu-smmuv3/stall/migration", test_migration);
    return g_test_run();
}
