/*
 * qtest driver for viommu-vtd (see vtd-drv.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qobject/qdict.h"
#include "vtd-drv.h"
#include "pt-builder.h"

uint32_t vtd_rd32(Vtd *v, uint32_t reg)
{
    return qtest_readl(v->qts, VIVTD_MMIO_BASE + reg);
}

uint64_t vtd_rd64(Vtd *v, uint32_t reg)
{
    return qtest_readq(v->qts, VIVTD_MMIO_BASE + reg);
}

void vtd_wr32(Vtd *v, uint32_t reg, uint32_t val)
{
    qtest_writel(v->qts, VIVTD_MMIO_BASE + reg, val);
}

void vtd_wr64(Vtd *v, uint32_t reg, uint64_t val)
{
    qtest_writeq(v->qts, VIVTD_MMIO_BASE + reg, val);
}

/* Zeroed guest RAM for a table of size bytes: whole 4 KiB pages, at least one. */
static uint64_t vtd_alloc(Vtd *v, uint64_t size)
{
    return td_alloc(v->m, MAX(size, 4096));
}

Vtd *vtd_new(TdMachine *m, bool scalable)
{
    Vtd *v = g_new0(Vtd, 1);

    v->m = m;
    v->qts = m->qts;
    v->scalable = scalable;
    v->root = td_alloc(m, 4096);
    v->iq = td_alloc(m, 4096);
    v->status = td_alloc(m, 4096);
    return v;
}

void vtd_free(Vtd *v)
{
    g_free(v);
}

void vtd_gcmd(Vtd *v, uint32_t bit, bool on)
{
    const uint32_t persist = VIVTD_GCMD_TE | VIVTD_GCMD_QIE | VIVTD_GCMD_IRE | VIVTD_GCMD_CFI;
    uint32_t cmd = vtd_rd32(v, VIVTD_GSTS) & persist;

    cmd = on ? cmd | bit : cmd & ~bit;
    vtd_wr32(v, VIVTD_GCMD, cmd);
    if (on) {
        g_assert_true(vtd_rd32(v, VIVTD_GSTS) & bit);
    } else {
        g_assert_false(vtd_rd32(v, VIVTD_GSTS) & bit);
    }
}

void vtd_enable_qi(Vtd *v)
{
    vtd_wr64(v, VIVTD_IQT, 0);
    /* As Linux: 256-bit descriptors when scalable mode is supported. */
    v->wide = vtd_rd64(v, VIVTD_ECAP) & VIVTD_ECAP_SMTS;
    vtd_wr64(v, VIVTD_IQA, v->iq | (v->wide ? VIVTD_IQA_DW : 0));  /* one 4 KiB page */
    v->iq_tail = 0;
    vtd_gcmd(v, VIVTD_GCMD_QIE, true);
}

void vtd_enable(Vtd *v)
{
    vtd_wr64(v, VIVTD_RTADDR, v->root | (v->scalable ? VIVTD_RTADDR_SMT : 0));
    vtd_gcmd(v, VIVTD_GCMD_SRTP, true);
    vtd_enable_qi(v);
    /* What Linux does without ESRTPS, harmless with it. */
    vtd_qi_add(v, VIVTD_INV_CC | VIVTD_INV_G(1), 0);
    vtd_qi_add(v, VIVTD_INV_IOTLB | VIVTD_INV_G(1), 0);
    if (v->scalable) {
        vtd_qi_add(v, VIVTD_INV_PC | VIVTD_INV_G(3), 0);
    }
    vtd_qi_sync(v);
    vtd_gcmd(v, VIVTD_GCMD_TE, true);
}

void vtd_enable_ir(Vtd *v, unsigned s, bool eim)
{
    v->irt = vtd_alloc(v, 16u << (s + 1));
    vtd_wr64(v, VIVTD_IRTA, v->irt | (eim ? VIVTD_IRTA_EIME : 0) | s);
    vtd_gcmd(v, VIVTD_GCMD_SIRTP, true);
    vtd_qi_add(v, VIVTD_INV_IEC, 0);
    vtd_qi_sync(v);
    vtd_gcmd(v, VIVTD_GCMD_IRE, true);
}

static uint64_t ctx_table(Vtd *v, uint16_t sid)
{
    uint64_t slot = v->root + (sid >> 8) * 16ull + (v->scalable && (sid & 0x80) ? 8 : 0);
    uint64_t re = qtest_readq(v->qts, slot);

    if (!(re & 1)) {
        re = td_alloc(v->m, 4096) | 1;
        qtest_writeq(v->qts, slot, re);
    }
    return re & ~0xfffull;
}

void vtd_ctx_legacy(Vtd *v, uint16_t sid, unsigned tt, uint64_t slpt, unsigned aw,
                    uint16_t did)
{
    uint64_t ce = ctx_table(v, sid) + (sid & 0xff) * 16ull;

    qtest_writeq(v->qts, ce + 8, aw | ((uint64_t)did << 8));
    qtest_writeq(v->qts, ce, slpt | (tt << 2) | 1);
}

uint64_t vtd_ctx_sm(Vtd *v, uint16_t sid, unsigned pdts, uint32_t rid_pasid, uint64_t extra)
{
    uint64_t ce = ctx_table(v, sid) + (sid & 0x7f) * 32ull;
    uint64_t dir = vtd_alloc(v, 8ull << (pdts + 7));

    qtest_writeq(v->qts, ce + 8, rid_pasid);
    qtest_writeq(v->qts, ce, dir | ((uint64_t)pdts << 9) | (1ull << 3) | extra | 1);
    return dir;
}

uint64_t vtd_pasid_entry(Vtd *v, uint64_t dir, uint32_t pasid, const uint64_t pe[8])
{
    uint64_t slot = dir + (pasid >> 6) * 8ull, de = qtest_readq(v->qts, slot), addr;

    if (!(de & 1)) {
        de = td_alloc(v->m, 4096) | 1;
        qtest_writeq(v->qts, slot, de);
    }
    addr = (de & ~0xfffull) + (pasid & 0x3f) * 64ull;
    for (int i = 7; i >= 0; i--) {
        qtest_writeq(v->qts, addr + 8 * i, pe[i]);     /* word 0 (P) last */
    }
    return addr;
}

void vtd_pe_fs(uint64_t pe[8], uint64_t fsptr, bool level5, uint16_t did, bool sre)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = 1 | (PGTT_FS << 6);
    pe[1] = did;
    pe[2] = fsptr | (level5 ? 1ull << 2 : 0) | (sre ? 1 : 0);
}

void vtd_pe_ss(uint64_t pe[8], uint64_t slptr, unsigned aw, uint16_t did)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = 1 | (aw << 2) | (PGTT_SS << 6) | slptr;
    pe[1] = did;
}

void vtd_pe_nested(uint64_t pe[8], uint64_t fsptr_gpa, uint64_t slptr, unsigned aw,
                   uint16_t did)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = 1 | (aw << 2) | (PGTT_NEST << 6) | slptr;
    pe[1] = did;
    pe[2] = fsptr_gpa;
}

void vtd_pe_pt(uint64_t pe[8], uint16_t did)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = 1 | (2 << 2) | (PGTT_PT << 6);
    pe[1] = did;
}

uint64_t vtd_table(Vtd *v)
{
    return td_alloc(v->m, 4096);
}

/* ptb callbacks: guest memory through qtest, tables from vtd_alloc(). */
static uint64_t pt_read64(void *opaque, uint64_t addr)
{
    Vtd *v = opaque;

    return qtest_readq(v->qts, addr);
}

static void pt_write64(void *opaque, uint64_t addr, uint64_t val)
{
    Vtd *v = opaque;

    qtest_writeq(v->qts, addr, val);
}

static uint64_t pt_alloc_table(void *opaque, uint64_t size)
{
    return vtd_alloc(opaque, size);
}

/*
 * A builder over the tables at root (top level top).  First-stage table
 * entries carry U/S (FS_PRW), second-stage ones never do (SS_RW): that picks
 * the format, which decides what counts as a present table entry.
 */
static void pt_builder(Vtd *v, ptb *b, uint64_t root, int top, uint64_t table_bits)
{
    ptb_ops ops = {
        .read64 = pt_read64,
        .write64 = pt_write64,
        .alloc_table = pt_alloc_table,
        .opaque = v,
    };

    ptb_init_x86(b, ops, (table_bits & FS_US) ? PTB_X86_FS : PTB_VTD_SS, top,
                 table_bits, root);
    b->addr_offset = v->gpa_off;
}

uint64_t vtd_map(Vtd *v, uint64_t root, int top, uint64_t iova, int leaf, uint64_t pa,
                 uint64_t leaf_bits, uint64_t table_bits)
{
    uint64_t slot;
    ptb b;

    pt_builder(v, &b, root, top, table_bits);
    slot = ptb_entry(&b, iova, leaf);
    g_assert_cmpuint(slot, !=, 0);
    /* The leaf exactly as asked (tests write non-canonical leaves too). */
    qtest_writeq(v->qts, slot, pa | leaf_bits);
    return slot;
}

uint64_t vtd_entry(Vtd *v, uint64_t root, int top, uint64_t iova, int l)
{
    ptb b;

    pt_builder(v, &b, root, top, SS_RW);
    return ptb_lookup(&b, iova, l);
}

void vtd_qi_add(Vtd *v, uint64_t qw0, uint64_t qw1)
{
    unsigned dsize = v->wide ? 32 : 16;
    uint64_t slot = v->iq + v->iq_tail * dsize;

    qtest_writeq(v->qts, slot, qw0);
    qtest_writeq(v->qts, slot + 8, qw1);
    if (v->wide) {
        qtest_writeq(v->qts, slot + 16, 0);
        qtest_writeq(v->qts, slot + 24, 0);
    }
    v->iq_tail = (v->iq_tail + 1) % (4096 / dsize);
}

void vtd_qi_kick(Vtd *v)
{
    vtd_wr64(v, VIVTD_IQT, v->iq_tail * (v->wide ? 32ull : 16ull));
}

void vtd_qi_sync(Vtd *v)
{
    uint32_t seq = ++v->wait_seq;

    vtd_qi_add(v, VIVTD_INV_WAIT | VIVTD_WAIT_SW | VIVTD_WAIT_FN | VIVTD_WAIT_SDATA(seq), v->status);
    vtd_qi_kick(v);
    /* A wait after device-TLB invalidations completes once the device answered. */
    for (int i = 0; i < 1000 && qtest_readl(v->qts, v->status) != seq &&
                    !(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE); i++) {
        qtest_clock_step(v->qts, 100000);
    }
    g_assert_cmphex(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_IQE, ==, 0);
    g_assert_cmphex(qtest_readl(v->qts, v->status), ==, seq);
    g_assert_cmphex(vtd_rd64(v, VIVTD_IQH), ==, vtd_rd64(v, VIVTD_IQT));
}

void vtd_prq_enable(Vtd *v, unsigned pqs)
{
    v->prq_entries = 128ull << pqs;
    v->prq = td_alloc(v->m, 4096ull << pqs);
    vtd_wr64(v, VIVTD_PQH, 0);
    vtd_wr64(v, VIVTD_PQT, 0);
    vtd_wr64(v, VIVTD_PQA, v->prq | pqs);
}

bool vtd_prq_next(Vtd *v, uint64_t d[4])
{
    uint64_t head = vtd_rd64(v, VIVTD_PQH), tail = vtd_rd64(v, VIVTD_PQT);

    if (head == tail) {
        return false;
    }
    for (int i = 0; i < 4; i++) {
        d[i] = qtest_readq(v->qts, v->prq + head + 8 * i);
    }
    head = (head + VIVTD_PRQ_DESC_SIZE) % (v->prq_entries * VIVTD_PRQ_DESC_SIZE);
    vtd_wr64(v, VIVTD_PQH, head);
    return true;
}

void vtd_page_response(Vtd *v, uint16_t rid, bool pp, uint32_t pasid, unsigned prgi,
                       unsigned code)
{
    vtd_qi_add(v, VIVTD_INV_PGRP | (pp ? VIVTD_PGRP_PP | VIVTD_INV_PASID(pasid) : 0) |
               VIVTD_PGRP_RC(code) | VIVTD_PGRP_RID(rid), VIVTD_PGRP_PRGI(prgi));
    vtd_qi_sync(v);
}

uint64_t vtd_frcd_hi(Vtd *v, int i)
{
    return vtd_rd64(v, VIVTD_FRCD(i) + 8);
}

uint64_t vtd_frcd_lo(Vtd *v, int i)
{
    return vtd_rd64(v, VIVTD_FRCD(i));
}

void vtd_frcd_clear_all(Vtd *v)
{
    for (int i = 0; i < VIVTD_NUM_FRCD; i++) {
        vtd_wr32(v, VIVTD_FRCD(i) + 12, 1u << 31);
    }
    vtd_wr32(v, VIVTD_FSTS, VIVTD_FSTS_PFO | VIVTD_FSTS_IQE | VIVTD_FSTS_ICE | VIVTD_FSTS_ITE);
}

unsigned vtd_take_fault(Vtd *v, uint64_t *hi_out, uint64_t *lo_out)
{
    int found = -1;
    uint64_t hi = 0;

    g_assert_true(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    for (int i = 0; i < VIVTD_NUM_FRCD; i++) {
        if (vtd_frcd_hi(v, i) & VIVTD_FRCD_F) {
            g_assert_cmpint(found, ==, -1);
            found = i;
            hi = vtd_frcd_hi(v, i);
        }
    }
    g_assert_cmpint(found, >=, 0);
    if (hi_out) {
        *hi_out = hi;
    }
    if (lo_out) {
        *lo_out = vtd_frcd_lo(v, found);
    }
    vtd_frcd_clear_all(v);
    g_assert_false(vtd_rd32(v, VIVTD_FSTS) & VIVTD_FSTS_PPF);
    return VIVTD_FRCD_FR(hi);
}

void vtd_irte(Vtd *v, unsigned i, uint8_t vector, uint32_t dest, uint16_t sid,
              unsigned svt, bool present)
{
    uint64_t lo = (present ? VIVTD_IRTE_P : 0) | VIVTD_IRTE_V(vector) | VIVTD_IRTE_DST(dest << 8);
    uint64_t hi = VIVTD_IRTE_SID(sid) | VIVTD_IRTE_SVT(svt);

    qtest_writeq(v->qts, v->irt + i * 16ull + 8, hi);
    qtest_writeq(v->qts, v->irt + i * 16ull, lo);
}

bool vtd_lapic_irr(QTestState *qts, unsigned vector)
{
    g_autofree char *out = qtest_hmp(qts, "info lapic");
    g_autofree char *needle = g_strdup_printf(" %u ", vector);
    char *irr = strstr(out, "IRR");
    char *eol;

    g_assert_nonnull(irr);
    eol = strchr(irr, '\n');
    if (eol) {
        *eol = ' ';
        eol[1] = 0;
    }
    /* "IRR\t 33 92 \n": look for the number surrounded by blanks. */
    for (char *p = irr; *p; p++) {
        if (*p == '\t') {
            *p = ' ';
        }
    }
    return strstr(irr, needle) != NULL;
}

char *vtd_int_remap_fixup(QTestState *qts, uint64_t addr, uint32_t data, uint16_t sid)
{
    g_autofree char *arg = g_strdup_printf("0x%" PRIx64 " 0x%x 0x%x", addr, data, sid);
    QDict *r;
    char *res;

    r = qtest_qmp(qts, "{'execute': 'qom-set', 'arguments': {'path': '/machine/peripheral/iommu',"
                  " 'property': 'x-int-remap', 'value': %s}}", arg);
    g_assert_true(qdict_haskey(r, "return"));
    qobject_unref(r);
    r = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {'path': '/machine/peripheral/iommu',"
                  " 'property': 'x-int-remap'}}");
    res = g_strdup(qdict_get_str(r, "return"));
    qobject_unref(r);
    return res;
}
