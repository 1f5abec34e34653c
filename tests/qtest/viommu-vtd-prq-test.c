/*
 * qtests for viommu-vtd's page request services (VT-d rev 4, 7.5): the test
 * device's PCIe Page Requests in the page request queue with the page
 * request event, page group responses back to the device, the automatic
 * responses (queue full / overflow, PRE clear, a queue that cannot be
 * written), PECTL masking, queue wrap, reserved fields, page drain, the
 * capability and property, and migration.  Driven like Linux's prq.c
 * (vtd-drv.c) with viommu-testdev (testdev-drv.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "vtd-drv.h"

#define TD_ARGS     "-device viommu-testdev,addr=04.0"
#define SID         TD_DEVFN            /* bus 0 */
#define DID         7
#define CTX_FPD     (1ull << 1)         /* scalable context entry FPD */
#define CTX_PRE     (1ull << 4)         /* scalable context entry PRE */
#define IOVA_A      0x100000ull
#define IOVA_B      0x200000ull
#define IOVA_C      0x300000ull
#define PRI_ALLOC   8

typedef struct Env {
    TdMachine *m;
    QTestState *qts;
    Td *td;
    Vtd *v;
    uint64_t fs, fs5;           /* first-stage tables of RID_PASID 0 and PASID 5 */
    uint64_t dir;
} Env;

static TdMachine *start(const char *vtd_opts)
{
    g_autofree char *extra = g_strdup_printf("-device viommu-vtd%s%s " TD_ARGS,
                                             vtd_opts ? "," : "", vtd_opts ? vtd_opts : "");

    return td_machine_start("kernel-irqchip=split", extra);
}

/*
 * Scalable mode, first stage for RID_PASID 0 and PASID 5 (SRE), context
 * entry with ctx_bits (CTX_PRE...), translation on, a one-page page request
 * queue, PRI enabled in the device with PRI_ALLOC requests.
 */
static Env *env_start(const char *opts, uint64_t ctx_bits)
{
    Env *e = g_new0(Env, 1);
    uint64_t pe[8];

    e->m = start(opts);
    e->qts = e->m->qts;
    e->td = td_open(e->m, TD_DEVFN);
    e->v = vtd_new(e->m, true);
    e->fs = vtd_table(e->v);
    e->fs5 = vtd_table(e->v);
    e->dir = vtd_ctx_sm(e->v, SID, 0, 0, ctx_bits);
    vtd_pe_fs(pe, e->fs, false, DID, false);
    vtd_pasid_entry(e->v, e->dir, 0, pe);
    vtd_pe_fs(pe, e->fs5, false, DID + 1, true);
    vtd_pasid_entry(e->v, e->dir, 5, pe);
    vtd_enable(e->v);
    vtd_prq_enable(e->v, 0);
    td_pri_enable(e->td, PRI_ALLOC);
    return e;
}

static void env_stop(Env *e)
{
    td_close(e->td);
    vtd_free(e->v);
    td_machine_stop(e->m);
    g_free(e);
}

/* The page request event as an MSI to CPU 0 with vector vec, unmasked. */
static void prq_irq(Env *e, unsigned vec)
{
    vtd_wr32(e->v, VIVTD_PEDATA, vec);
    vtd_wr32(e->v, VIVTD_PEADDR, 0xfee00000);
    vtd_wr32(e->v, VIVTD_PEUADDR, 0);
    vtd_wr32(e->v, VIVTD_PECTL, 0);
}

static uint16_t pri_status(Env *e)
{
    return td_cfg_readw(e->td, TD_CFG_PRI + PCI_PRI_STATUS);
}

static uint32_t prs(Env *e)
{
    return vtd_rd32(e->v, VIVTD_PRS);
}

/* Start op with TD_OP_PRI and wait until the device waits for a PRG Response. */
static void pri_start(Env *e, uint32_t op, uint64_t src, uint64_t dst, uint32_t len)
{
    td_program(e->td, op | TD_OP_PRI, src, dst, len);
    td_start(e->td);
    g_assert_true(td_wait_pri(e->td));
}

/* The next descriptor: the device's last page request (sid, PRGI, LPIG, no private data). */
static void next_req(Env *e, uint64_t d[4])
{
    g_assert_true(vtd_prq_next(e->v, d));
    g_assert_cmpuint(FIELD_EX64(d[0], VIVTD_PRQ0, TYPE), ==, VIVTD_PRQ_TYPE_PAGE_REQ);
    g_assert_cmphex(FIELD_EX64(d[0], VIVTD_PRQ0, RID), ==, SID);
    g_assert_cmpuint(FIELD_EX64(d[1], VIVTD_PRQ1, PRGI), ==, td_readl(e->td, TD_PRI_PRGI));
    g_assert_true(FIELD_EX64(d[1], VIVTD_PRQ1, LPIG));
    g_assert_cmphex(d[2] | d[3], ==, 0);
}

/* Answer the group of request d (no PASID) with code, as the guest's driver does. */
static void respond(Env *e, const uint64_t d[4], uint32_t code)
{
    vtd_page_response(e->v, SID, false, 0, FIELD_EX64(d[1], VIVTD_PRQ1, PRGI), code);
}

static uint64_t req_addr(const uint64_t d[4])
{
    return d[1] & R_VIVTD_PRQ1_ADDR_MASK;
}

/* Which fault reasons are recorded (each once at most); the records are cleared. */
static unsigned take_faults(Vtd *v, unsigned *reasons, unsigned max)
{
    unsigned n = 0;

    for (int i = 0; i < VIVTD_NUM_FRCD; i++) {
        uint64_t hi = vtd_frcd_hi(v, i);

        if ((hi & VIVTD_FRCD_F) && n < max) {
            reasons[n++] = VIVTD_FRCD_FR(hi);
        }
    }
    vtd_frcd_clear_all(v);
    return n;
}

static bool has_reason(const unsigned *r, unsigned n, unsigned reason)
{
    for (unsigned i = 0; i < n; i++) {
        if (r[i] == reason) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Page requests and page group responses
 */

/*
 * A refused write: a page request in the queue with its fields and the page
 * request event; Success once the page is mapped completes the copy,
 * Invalid Request fails the operation, Response Failure stops PRI; only the
 * first request after PPR was cleared interrupts.
 */
static void test_request_response(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    const uint32_t len = 2 * 4096;
    uint64_t a = td_alloc(e->m, len), b = td_alloc(e->m, len), d[4];
    g_autofree uint8_t *data = g_malloc(len), *back = g_malloc(len);
    unsigned prgi, r[8], n;

    vtd_map(e->v, e->fs, 4, IOVA_A, 1, a, FS_PRW, FS_PRW);
    vtd_map(e->v, e->fs, 4, IOVA_A + 4096, 1, a + 4096, FS_PRW, FS_PRW);
    vtd_map(e->v, e->fs, 4, IOVA_B, 1, b, FS_PRW, FS_PRW);   /* IOVA_B + 4 KiB: not mapped */
    for (uint32_t i = 0; i < len; i++) {
        data[i] = i * 13 + 1;
    }
    qtest_memwrite(e->qts, a, data, len);
    prq_irq(e, 0x71);

    pri_start(e, TD_OP_COPY, IOVA_A, IOVA_B, len);
    g_assert_true(vtd_lapic_irr(e->qts, 0x71));
    g_assert_cmphex(prs(e), ==, VIVTD_PRS_PPR);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, 0);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, VIVTD_PRQ_DESC_SIZE);
    next_req(e, d);
    g_assert_false(FIELD_EX64(d[0], VIVTD_PRQ0, PP) || FIELD_EX64(d[0], VIVTD_PRQ0, PASID) ||
                   FIELD_EX64(d[0], VIVTD_PRQ0, EXE) || FIELD_EX64(d[0], VIVTD_PRQ0, PM));
    g_assert_true(FIELD_EX64(d[1], VIVTD_PRQ1, WR));
    g_assert_false(FIELD_EX64(d[1], VIVTD_PRQ1, RD));
    g_assert_cmphex(req_addr(d), ==, IOVA_B + 4096);
    g_assert_false(vtd_prq_next(e->v, d));
    /* The refused write is also a recorded fault (first stage, not present). */
    n = take_faults(e->v, r, 8);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmphex(r[0], ==, 0x71);
    /* No response, no progress. */
    qtest_clock_step(e->qts, 10000000);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);

    /* Success with the page mapped: the copy completes. */
    prgi = FIELD_EX64(d[1], VIVTD_PRQ1, PRGI);
    vtd_map(e->v, e->fs, 4, IOVA_B + 4096, 1, b + 4096, FS_PRW, FS_PRW);
    vtd_page_response(e->v, SID, false, 0, prgi, VIVTD_PGRP_SUCCESS);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    qtest_memread(e->qts, b, back, len);
    g_assert_cmpmem(back, len, data, len);
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, 1);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);

    /* PPR still set: the next request is queued without an interrupt. */
    vtd_wr32(e->v, VIVTD_PEDATA, 0x72);
    pri_start(e, TD_OP_CHECKSUM, IOVA_C + 8, 0, 64);
    g_assert_false(vtd_lapic_irr(e->qts, 0x72));
    next_req(e, d);
    g_assert_true(FIELD_EX64(d[1], VIVTD_PRQ1, RD) && !FIELD_EX64(d[1], VIVTD_PRQ1, WR));
    g_assert_cmphex(req_addr(d), ==, IOVA_C);
    /* Invalid Request: the operation fails at the refused read. */
    respond(e, d, VIVTD_PGRP_INVALID);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    g_assert_cmphex(td_readq(e->td, TD_FAULT_ADDR_LO), ==, IOVA_C + 8);

    /* Software cleared PPR (as prq_event_thread first does): a new event. */
    vtd_wr32(e->v, VIVTD_PRS, VIVTD_PRS_PPR);
    g_assert_cmphex(prs(e), ==, 0);
    pri_start(e, TD_OP_CHECKSUM, IOVA_C, 0, 64);
    g_assert_true(vtd_lapic_irr(e->qts, 0x72));
    next_req(e, d);
    /* A response to another requester or PRG index is not this group's. */
    vtd_page_response(e->v, SID + 1, false, 0, FIELD_EX64(d[1], VIVTD_PRQ1, PRGI),
                      VIVTD_PGRP_SUCCESS);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    vtd_page_response(e->v, SID, false, 0, (FIELD_EX64(d[1], VIVTD_PRQ1, PRGI) + 1) & 511,
                      VIVTD_PGRP_SUCCESS);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_UPRGI);
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS, PCI_PRI_STATUS_UPRGI);
    /* Response Failure: PRI stops (RF) until software clears it. */
    respond(e, d, VIVTD_PGRP_FAILURE);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_FAILURE);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_RF);
    take_faults(e->v, r, 8);
    env_stop(e);
}

/* PASID-tagged requests: PP, the PASID and PM in the descriptor; the response names the PASID. */
static void test_request_pasid(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    uint64_t a = td_alloc(e->m, 4096), b = td_alloc(e->m, 4096), d[4];
    unsigned prgi;

    vtd_map(e->v, e->fs5, 4, IOVA_A, 1, a, FS_PRW, FS_PRW);
    qtest_writeq(e->qts, a, 0x5eed0fa5b1d0beefull);
    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL,
                  PCI_PASID_CTRL_ENABLE | PCI_PASID_CTRL_PRIV);
    td_writel(e->td, TD_PASID, TD_PASID_VALID | TD_PASID_PRIV | 5);
    pri_start(e, TD_OP_COPY, IOVA_A, IOVA_B + 0x40, 8);
    next_req(e, d);
    g_assert_true(FIELD_EX64(d[0], VIVTD_PRQ0, PP));
    g_assert_cmphex(FIELD_EX64(d[0], VIVTD_PRQ0, PASID), ==, 5);
    g_assert_true(FIELD_EX64(d[0], VIVTD_PRQ0, PM));
    g_assert_false(FIELD_EX64(d[0], VIVTD_PRQ0, EXE));
    g_assert_true(FIELD_EX64(d[1], VIVTD_PRQ1, WR));
    g_assert_cmphex(req_addr(d), ==, IOVA_B);
    prgi = FIELD_EX64(d[1], VIVTD_PRQ1, PRGI);

    vtd_map(e->v, e->fs5, 4, IOVA_B, 1, b, FS_PRW, FS_PRW);
    /* Another PASID: not this group's. */
    vtd_page_response(e->v, SID, true, 6, prgi, VIVTD_PGRP_SUCCESS);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_UPRGI);
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    vtd_page_response(e->v, SID, true, 5, prgi, VIVTD_PGRP_SUCCESS);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_NONE);
    g_assert_cmphex(qtest_readq(e->qts, b + 0x40), ==, 0x5eed0fa5b1d0beefull);
    td_writel(e->td, TD_PASID, 0);
    vtd_frcd_clear_all(e->v);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Automatic responses
 */

/*
 * A full queue (PQT + 1 == PQH) overflows: PRO, the event (PPR and PRO were
 * clear), nothing written, an automatic Success for the last request of the
 * group (the device asks again until its budget ends).  While PRO is set
 * requests are discarded even with room; once software cleared it they are
 * recorded again, and the tail wraps at the end of the queue.
 */
static void test_overflow_and_wrap(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    const uint64_t last = (e->v->prq_entries - 1) * VIVTD_PRQ_DESC_SIZE;
    uint64_t d[4];
    unsigned r[8];

    prq_irq(e, 0x73);
    vtd_wr64(e->v, VIVTD_PQH, VIVTD_PRQ_DESC_SIZE);          /* 127 entries pending: full */
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_PRI_LIMIT);
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, TD_PRI_PAGE_TRIES);
    g_assert_cmphex(prs(e), ==, VIVTD_PRS_PRO);
    g_assert_true(vtd_lapic_irr(e->qts, 0x73));
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID);     /* Success: no RF */

    /* Room again, PRO still set: discarded, no second event. */
    vtd_wr32(e->v, VIVTD_PEDATA, 0x74);
    vtd_wr64(e->v, VIVTD_PQH, 0);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_PRI_LIMIT);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    g_assert_false(vtd_lapic_irr(e->qts, 0x74));
    /* Serviced: PRO cleared; the tail wraps from the last slot to 0. */
    vtd_wr32(e->v, VIVTD_PRS, VIVTD_PRS_PRO);
    g_assert_cmphex(prs(e), ==, 0);
    vtd_wr64(e->v, VIVTD_PQH, last);
    vtd_wr64(e->v, VIVTD_PQT, last);
    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    g_assert_true(vtd_lapic_irr(e->qts, 0x74));
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    next_req(e, d);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQH), ==, 0);
    g_assert_cmphex(req_addr(d), ==, IOVA_A);
    respond(e, d, VIVTD_PGRP_SUCCESS);
    g_assert_true(td_wait_pri(e->td));                      /* still unmapped: asks again */
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, VIVTD_PRQ_DESC_SIZE);
    next_req(e, d);
    respond(e, d, VIVTD_PGRP_INVALID);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    take_faults(e->v, r, 8);
    env_stop(e);
}

/*
 * PRE clear in the context entry: the page request is a recorded fault
 * (0x47) and gets an automatic Invalid Request; nothing reaches the queue.
 * With FPD nothing is recorded, the response is the same.
 */
static void test_pre_clear(void)
{
    Env *e = env_start(NULL, 0);
    uint64_t pe[8], dir;
    unsigned r[8], n;

    prq_irq(e, 0x75);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_PRI_DENIED);
    g_assert_cmpuint(td_readl(e->td, TD_PRI_REQUESTS), ==, 1);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    g_assert_cmphex(prs(e), ==, 0);
    g_assert_false(vtd_lapic_irr(e->qts, 0x75));
    n = take_faults(e->v, r, 8);
    g_assert_cmpuint(n, ==, 2);
    g_assert_true(has_reason(r, n, 0x71));                  /* the refused read */
    g_assert_true(has_reason(r, n, 0x47));                  /* the page request, PRE = 0 */

    /* FPD in the context entry (a fresh directory, the same PASID entry): no record. */
    dir = vtd_ctx_sm(e->v, SID, 0, 0, CTX_FPD);
    vtd_pe_fs(pe, e->fs, false, DID, false);
    vtd_pasid_entry(e->v, dir, 0, pe);
    vtd_qi_add(e->v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_add(e->v, VIVTD_INV_PC | VIVTD_INV_G(3), 0);
    vtd_qi_sync(e->v);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_PRI_DENIED);
    g_assert_cmpuint(take_faults(e->v, r, 8), ==, 0);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    env_stop(e);
}

/*
 * A queue that cannot be written: a base that is not RAM, or a tail beyond
 * the queue size: Response Failure (PRI stops), nothing recorded in PRS.
 */
static void test_bad_queue(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    unsigned r[8];

    /* Not RAM: the unit's own registers. */
    vtd_wr64(e->v, VIVTD_PQA, VIVTD_MMIO_BASE);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_PRI_FAILURE);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_RF);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    g_assert_cmphex(prs(e), ==, 0);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_GSTS) & VIVTD_GCMD_TE, ==, VIVTD_GCMD_TE);
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS, PCI_PRI_STATUS_RF);

    /* PQS 0 (128 entries) and PQT at entry 200. */
    vtd_wr64(e->v, VIVTD_PQA, e->v->prq);
    vtd_wr64(e->v, VIVTD_PQT, 200 * VIVTD_PRQ_DESC_SIZE);
    g_assert_cmpuint(td_do(e->td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_PRI_FAILURE);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 200 * VIVTD_PRQ_DESC_SIZE);
    td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS, PCI_PRI_STATUS_RF);

    /* Reserved register bits read as 0. */
    vtd_wr64(e->v, VIVTD_PQT, 0x1f | (1ull << 40));
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQT), ==, 0);
    vtd_wr64(e->v, VIVTD_PQA, e->v->prq | 0xff8 | 2);
    g_assert_cmphex(vtd_rd64(e->v, VIVTD_PQA), ==, e->v->prq | 2);
    vtd_wr32(e->v, VIVTD_PEDATA, 0xabcd1234);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PEDATA), ==, 0x1234);
    vtd_wr32(e->v, VIVTD_PECTL, 0x7fffffff);                 /* IP is read-only */
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, 0);
    take_faults(e->v, r, 8);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * The page request event: masking and servicing (PECTL like FECTL)
 */
static void test_event_mask(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    uint64_t d[4];
    unsigned r[8];

    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, VIVTD_CTL_IM);     /* masked at reset */
    vtd_wr32(e->v, VIVTD_PEDATA, 0x76);
    vtd_wr32(e->v, VIVTD_PEADDR, 0xfee00000);
    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, VIVTD_CTL_IM | VIVTD_CTL_IP);
    g_assert_false(vtd_lapic_irr(e->qts, 0x76));
    /* Unmasked with IP set: the interrupt now, IP clear. */
    vtd_wr32(e->v, VIVTD_PECTL, 0);
    g_assert_true(vtd_lapic_irr(e->qts, 0x76));
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, 0);
    next_req(e, d);
    respond(e, d, VIVTD_PGRP_INVALID);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);

    /* Masked again; the event is serviced (PPR cleared) before unmasking: nothing. */
    vtd_wr32(e->v, VIVTD_PECTL, VIVTD_CTL_IM);
    vtd_wr32(e->v, VIVTD_PRS, VIVTD_PRS_PPR);
    vtd_wr32(e->v, VIVTD_PEDATA, 0x77);
    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, VIVTD_CTL_IM | VIVTD_CTL_IP);
    vtd_wr32(e->v, VIVTD_PRS, VIVTD_PRS_PPR);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, VIVTD_CTL_IM);
    vtd_wr32(e->v, VIVTD_PECTL, 0);
    g_assert_false(vtd_lapic_irr(e->qts, 0x77));
    next_req(e, d);
    respond(e, d, VIVTD_PGRP_INVALID);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    take_faults(e->v, r, 8);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Descriptors: reserved fields, the former LPIG bit, page drain
 */

static void expect_iqe(Vtd *v, const uint64_t qw[4], unsigned iqei)
{
    uint64_t slot = v->iq + v->iq_tail * 32ull, h;

    vtd_qi_add(v, qw[0], qw[1]);
    qtest_writeq(v->qts, slot + 16, qw[2]);
    qtest_writeq(v->qts, slot + 24, qw[3]);
    vtd_qi_kick(v);
    g_assert_true(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE);
    g_assert_cmpuint(vtd_rd64(v, VIVTD_IQERCD) & 0xf, ==, iqei);
    h = vtd_rd64(v, VIVTD_IQH);
    g_assert_cmphex(v->iq + h, ==, slot);
    /* Replace it by an IEC invalidation and go on. */
    qtest_writeq(v->qts, slot, VIVTD_INV_IEC);
    for (int i = 1; i < 4; i++) {
        qtest_writeq(v->qts, slot + 8 * i, 0);
    }
    vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_IQE);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), ==, vtd_rd64(v, VIVTD_IQT));
}

static void test_descriptors(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    const uint64_t ok0 = VIVTD_INV_PGRP | VIVTD_PGRP_RID(SID);      /* Success */
    static const struct { unsigned word; uint64_t bits; } rsvd[] = {
        { 0, 1ull << 5 }, { 0, 1ull << 8 }, { 0, 1ull << 52 }, { 0, 1ull << 63 },
        { 0, VIVTD_PGRP_RC(2) }, { 0, VIVTD_PGRP_RC(0xe) },
        { 1, 1ull << 0 }, { 1, 1ull << 1 }, { 1, 1ull << 12 }, { 1, 1ull << 63 },
        { 2, 1 }, { 3, 1ull << 40 },
    };
    uint64_t d[4];
    unsigned prgi, r[8];

    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    next_req(e, d);
    prgi = FIELD_EX64(d[1], VIVTD_PRQ1, PRGI);
    for (unsigned i = 0; i < G_N_ELEMENTS(rsvd); i++) {
        uint64_t qw[4] = { ok0, VIVTD_PGRP_PRGI(prgi), 0, 0 };

        qw[rsvd[i].word] |= rsvd[i].bits;
        expect_iqe(e->v, qw, VIVTD_IQEI_RSVD);
        /* Nothing reached the device. */
        g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    }
    /* Bit 66, LPIG before rev 4.0 (older Linux sets it), is ignored. */
    vtd_qi_add(e->v, ok0 | VIVTD_PGRP_RC(VIVTD_PGRP_INVALID),
               VIVTD_PGRP_PRGI(prgi) | R_VIVTD_PGRP1_OLD_LPIG_MASK);
    /* A drain (PD, ECAP.PDS) after it: the response went out before the status write. */
    vtd_qi_add(e->v, VIVTD_INV_WAIT | VIVTD_WAIT_FN | VIVTD_WAIT_PD, 0);
    vtd_qi_sync(e->v);
    g_assert_cmphex(td_readl(e->td, TD_STATUS) & TD_STATUS_BUSY, ==, 0);
    g_assert_cmpuint(td_readl(e->td, TD_ERROR), ==, TD_ERR_PRI_DENIED);
    take_faults(e->v, r, 8);
    env_stop(e);
}

/*
 * More page group responses than one batch (VIVTD_PRG_BATCH) before a wait:
 * the queue hands them over in order and the wait completes after all.
 */
static void test_many_responses(void)
{
    Env *e = env_start(NULL, CTX_PRE);
    uint64_t d[4];
    unsigned prgi, r[8];

    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    next_req(e, d);
    prgi = FIELD_EX64(d[1], VIVTD_PRQ1, PRGI);
    /* 40 responses for other groups (Unexpected PRG Index), then this group's. */
    for (int i = 0; i < 40; i++) {
        vtd_qi_add(e->v, VIVTD_INV_PGRP | VIVTD_PGRP_RID(SID), VIVTD_PGRP_PRGI(prgi ^ 0x100));
    }
    vtd_qi_add(e->v, VIVTD_INV_PGRP | VIVTD_PGRP_RID(SID) | VIVTD_PGRP_RC(VIVTD_PGRP_INVALID),
               VIVTD_PGRP_PRGI(prgi));
    vtd_qi_sync(e->v);
    g_assert_cmpuint(td_readl(e->td, TD_ERROR), ==, TD_ERR_PRI_DENIED);
    g_assert_cmphex(td_readl(e->td, TD_STATUS) & TD_STATUS_BUSY, ==, 0);
    g_assert_cmphex(pri_status(e), ==, PCI_PRI_STATUS_PASID | PCI_PRI_STATUS_UPRGI);
    take_faults(e->v, r, 8);
    env_stop(e);
}

/* ------------------------------------------------------------------------
 * Capability, property, migration
 */

static void test_prs_off(void)
{
    TdMachine *m = start("prs=off");
    Td *td = td_open(m, TD_DEVFN);
    Vtd *v = vtd_new(m, true);
    uint64_t qw[4] = { VIVTD_INV_PGRP | VIVTD_PGRP_RID(SID), 0, 0, 0 };

    g_assert_false(vtd_rd64(v, VIVTD_ECAP) & (VIVTD_ECAP_PRS | VIVTD_ECAP_PDS));
    vtd_enable(v);
    /* No page request registers. */
    vtd_wr64(v, VIVTD_PQA, 0x100000 | 3);
    g_assert_cmphex(vtd_rd64(v, VIVTD_PQA), ==, 0);
    g_assert_cmphex(vtd_rd32(v, VIVTD_PECTL), ==, 0);
    /* No page group response type, PD reserved. */
    expect_iqe(v, qw, VIVTD_IQEI_TYPE);
    qw[0] = VIVTD_INV_WAIT | VIVTD_WAIT_SW | VIVTD_WAIT_PD;
    qw[1] = v->status;
    expect_iqe(v, qw, VIVTD_IQEI_RSVD);
    /* The device finds no IOMMU taking page requests. */
    td_pri_enable(td, PRI_ALLOC);
    g_assert_cmpuint(td_do(td, TD_OP_CHECKSUM | TD_OP_PRI, IOVA_A, 0, 8), ==,
                     TD_ERR_NO_PRI_PATH);
    vtd_frcd_clear_all(v);
    td_close(td);
    vtd_free(v);
    td_machine_stop(m);

    /* Legacy-only units have none either (prs=auto). */
    m = start("scalable-mode=off");
    v = vtd_new(m, false);
    g_assert_false(vtd_rd64(v, VIVTD_ECAP) & (VIVTD_ECAP_PRS | VIVTD_ECAP_PDS));
    vtd_free(v);
    td_machine_stop(m);
}

/*
 * The registers migrate; a device waiting for its response at migration
 * gets it on the destination (it attaches again there).
 */
static void test_migration(void)
{
    g_autofree char *file = g_strdup_printf("%s/viommu-vtd-prq-mig-%d", g_get_tmp_dir(),
                                            getpid());
    g_autofree char *uri = g_strdup_printf("file:%s", file);
    g_autofree char *incoming = g_strdup_printf("-device viommu-vtd " TD_ARGS " -incoming %s",
                                                uri);
    static const uint32_t offs[] = { VIVTD_PQH, VIVTD_PQT, VIVTD_PQA, VIVTD_PRS, VIVTD_PECTL,
                                     VIVTD_PEDATA, VIVTD_PEADDR, VIVTD_PEUADDR };
    Env *e = env_start(NULL, CTX_PRE);
    uint32_t regs[G_N_ELEMENTS(offs)];
    uint64_t d[4];
    unsigned r[8];

    vtd_wr32(e->v, VIVTD_PEDATA, 0x78);
    vtd_wr32(e->v, VIVTD_PEADDR, 0xfee00000);
    vtd_wr32(e->v, VIVTD_PEUADDR, 0x1);
    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_PECTL), ==, VIVTD_CTL_IM | VIVTD_CTL_IP);
    for (unsigned i = 0; i < G_N_ELEMENTS(offs); i++) {
        regs[i] = vtd_rd32(e->v, offs[i]);
    }
    qtest_qmp_assert_success(e->qts, "{ 'execute': 'migrate', 'arguments': { 'uri': %s } }",
                             uri);
    td_wait_migration(e->qts);
    td_close(e->td);
    td_machine_stop(e->m);

    e->m = td_machine_start("kernel-irqchip=split", incoming);
    td_wait_migration(e->m->qts);
    e->qts = e->m->qts;
    e->td = td_open(e->m, TD_DEVFN);
    e->v->m = e->m;
    e->v->qts = e->qts;
    for (unsigned i = 0; i < G_N_ELEMENTS(offs); i++) {
        g_assert_cmphex(vtd_rd32(e->v, offs[i]), ==, regs[i]);
    }
    g_assert_cmphex(td_readl(e->td, TD_STATUS), ==, TD_STATUS_BUSY | TD_STATUS_PRI_WAIT);
    next_req(e, d);
    respond(e, d, VIVTD_PGRP_INVALID);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    take_faults(e->v, r, 8);
    env_stop(e);
    unlink(file);
}

/* ------------------------------------------------------------------------
 * Hostile programming: random page request registers, page group response
 * descriptors and context entries (PRE, FPD) between PRI-enabled DMA from
 * anywhere; the unit ends every request in an architected outcome and still
 * works once the registers are sane again.
 */
static uint32_t hostile_env(const char *name, uint32_t def)
{
    const char *v = getenv(name);

    return v && *v ? strtoul(v, NULL, 0) : def;
}

/* After an IQE: the descriptor at IQH becomes an IEC invalidation, the queue goes on. */
static void qi_unstick(Vtd *v)
{
    uint64_t h = vtd_rd64(v, VIVTD_IQH);

    if (vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE) {
        qtest_writeq(v->qts, v->iq + h, VIVTD_INV_IEC);
        for (int i = 1; i < 4; i++) {
            qtest_writeq(v->qts, v->iq + h + 8 * i, 0);
        }
        vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_IQE);
    }
}

static void test_hostile(void)
{
    static const uint32_t regs[] = {
        VIVTD_PQH, VIVTD_PQH + 4, VIVTD_PQT, VIVTD_PQT + 4, VIVTD_PQA, VIVTD_PQA + 4,
        VIVTD_PRS, VIVTD_PECTL, VIVTD_PEDATA, VIVTD_PEADDR, VIVTD_PEUADDR,
    };
    uint32_t seed = hostile_env("VIOMMU_HOSTILE_SEED", 0x9e7);
    uint32_t count = hostile_env("VIOMMU_HOSTILE_COUNT", 1500);
    Env *e = env_start(NULL, CTX_PRE);
    GRand *r = g_rand_new_with_seed(seed);
    uint64_t ctx = (qtest_readq(e->qts, e->v->root) & ~0xfffull) + (SID & 0x7f) * 32ull;
    uint64_t ce0 = qtest_readq(e->qts, ctx), d[4];
    unsigned fr[8];

    g_test_message("hostile seed 0x%x count %u", seed, count);
    prq_irq(e, 0x79);
    td_cfg_writew(e->td, TD_CFG_PASID + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE |
                  PCI_PASID_CTRL_PRIV | PCI_PASID_CTRL_EXEC);
    for (uint32_t i = 0; i < count; i++) {
        uint64_t val = ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r);

        switch (g_rand_int_range(r, 0, 6)) {
        case 0: {   /* page request registers; the base mostly our queue */
            uint32_t off = regs[g_rand_int_range(r, 0, G_N_ELEMENTS(regs))];

            if (off == VIVTD_PQA && g_rand_int_range(r, 0, 4)) {
                val = e->v->prq | (val & 0xfff);
            } else if ((off == VIVTD_PQH || off == VIVTD_PQT) && g_rand_int_range(r, 0, 4)) {
                val &= 0xfe0;       /* within a one-page queue */
            } else if (off < VIVTD_PRS && (off & 4) && g_rand_int_range(r, 0, 4)) {
                val = 0;            /* upper halves mostly 0 */
            }
            vtd_wr32(e->v, off, off & 4 ? val >> 32 : val);
            break;
        }
        case 1:     /* page group responses, mostly well-typed */
            if (g_rand_int_range(r, 0, 4)) {
                val = (val & ~0xe0full) | VIVTD_INV_PGRP;
            }
            vtd_qi_add(e->v, val, g_rand_boolean(r) ? VIVTD_PGRP_PRGI(g_rand_int(r)) :
                       ((uint64_t)g_rand_int(r) << 32) | g_rand_int(r));
            vtd_qi_kick(e->v);
            qi_unstick(e->v);
            break;
        case 2:     /* the context entry's PRE and FPD; now and then any low bits */
            qtest_writeq(e->qts, ctx, g_rand_int_range(r, 0, 4) ?
                         (ce0 & ~(CTX_PRE | CTX_FPD)) | (val & CTX_FPD) |
                         (g_rand_int_range(r, 0, 4) ? CTX_PRE : 0) :
                         (ce0 & ~0x1ffull) | (val & 0x1ff));
            vtd_qi_add(e->v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
            vtd_qi_kick(e->v);
            qi_unstick(e->v);
            break;
        default: {  /* PRI DMA, with or without PASID; its outstanding request answered or not */
            uint64_t a = g_rand_boolean(r) ? IOVA_A : val & ~0xfffull;

            td_writel(e->td, TD_PASID, g_rand_boolean(r) ? 0 : TD_PASID_VALID |
                      (g_rand_boolean(r) ? 5 : g_rand_int_range(r, 0, 1 << 20)) |
                      (g_rand_boolean(r) ? TD_PASID_PRIV : 0));
            td_program(e->td, TD_OP_CHECKSUM | TD_OP_PRI, a, 0, 64);
            td_start(e->td);
            if (td_wait_pri(e->td)) {
                switch (g_rand_int_range(r, 0, 3)) {
                case 0:
                    vtd_qi_add(e->v, VIVTD_INV_PGRP | VIVTD_PGRP_RID(SID) |
                               VIVTD_PGRP_RC(g_rand_boolean(r) ? VIVTD_PGRP_INVALID : 0),
                               VIVTD_PGRP_PRGI(td_readl(e->td, TD_PRI_PRGI)));
                    vtd_qi_kick(e->v);
                    qi_unstick(e->v);
                    break;
                case 1:
                    vtd_prq_next(e->v, d);
                    break;
                default:
                    break;
                }
            }
            td_writel(e->td, TD_CMD, TD_CMD_RESET);
            td_cfg_writew(e->td, TD_CFG_PRI + PCI_PRI_STATUS,
                          PCI_PRI_STATUS_RF | PCI_PRI_STATUS_UPRGI);
            break;
        }
        }
    }
    g_rand_free(r);
    /* Sane again: the queue, the status, the context entry; one round trip. */
    g_assert_cmphex(vtd_rd32(e->v, VIVTD_VER), ==, VIVTD_VER_VALUE);
    qi_unstick(e->v);
    qtest_writeq(e->qts, ctx, ce0);
    vtd_qi_add(e->v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_sync(e->v);
    vtd_prq_enable(e->v, 0);
    vtd_wr32(e->v, VIVTD_PRS, VIVTD_PRS_PPR | VIVTD_PRS_PRO);
    td_writel(e->td, TD_PASID, 0);
    pri_start(e, TD_OP_CHECKSUM, IOVA_A, 0, 8);
    next_req(e, d);
    respond(e, d, VIVTD_PGRP_INVALID);
    g_assert_cmpuint(td_wait(e->td), ==, TD_ERR_PRI_DENIED);
    take_faults(e->v, fr, 8);
    env_stop(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/viommu-vtd/prq/request-response", test_request_response);
    qtest_add_func("/viommu-vtd/prq/request-pasid", test_request_pasid);
    qtest_add_func("/viommu-vtd/prq/overflow-and-wrap", test_overflow_and_wrap);
    qtest_add_func("/viommu-vtd/prq/pre-clear", test_pre_clear);
    qtest_add_func("/viommu-vtd/prq/bad-queue", test_bad_queue);
    qtest_add_func("/viommu-vtd/prq/event-mask", test_event_mask);
    qtest_add_func("/viommu-vtd/prq/descriptors", test_descriptors);
    qtest_add_func("/viommu-vtd/prq/many-responses", test_many_responses);
    qtest_add_func("/viommu-vtd/prq/prs-off", test_prs_off);
    qtest_add_func("/viommu-vtd/prq/migration", test_migration);
    qtest_add_func("/viommu-vtd/prq/hostile", test_hostile);
    return g_test_run();
}
