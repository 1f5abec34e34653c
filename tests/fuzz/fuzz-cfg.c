/*
 * libFuzzer target: the configuration lookups and decoders (SMMUv3 stream
 * table / STE / CD table / CD, VT-d root / context / PASID directory / PASID
 * entry) and the configuration cache, fed arbitrary memory.
 *
 * Input layout: a 16-byte header (capability bits, StreamID, SubstreamID /
 * PASID, request flags, register values), then the guest memory image.  The
 * memory maps every address onto the image (address modulo its size), so
 * random pointers still lead to more tables; addresses with bit 40 set
 * abort, so fetch errors are reached too.  Reads go only to the image.
 *
 * Invariants checked beyond "no crash, no hang, no sanitizer report":
 *   - every function returns 0 or an architected code, and fills the fault
 *     record with the same code;
 *   - every STE / CD the decoder accepts is accepted by the walker's own
 *     validation (vi_armv8_s1/s2_prepare) with the same start levels.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hw/viommu/core/cfg-cache.h"
#include "hw/viommu/core/smmuv3-cfg.h"
#include "hw/viommu/core/vtd-cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) { __builtin_trap(); } } while (0)

typedef struct img {
    const uint8_t *p;
    size_t len;
    uint64_t xor;           /* "stage 2" for CD fetches: IPA ^ xor */
    bool force;             /* set the valid / present bits of what is read */
} img;

static vi_mem_result img_read(void *opaque, uint64_t pa, void *buf, size_t len)
{
    img *m = opaque;
    uint8_t *out = buf;

    pa ^= m->xor;
    if (!m->len || (pa >> 40) & 1) {
        return VI_MEM_ABORT;
    }
    for (size_t i = 0; i < len; i++) {
        out[i] = m->p[(pa + i) % m->len];
    }
    /*
     * Steering towards deep paths: every structure read starts at an entry,
     * whose bit 0 is its V / P bit (STE, L1STD span, L1CD, all VT-d entries);
     * a CD (64 bytes) has V in bit 31.
     */
    if (m->force && len) {
        out[0] |= 1;
        if (len == 64) {
            out[3] |= 0x80;
        }
    }
    return VI_MEM_OK;
}

static vi_mem_result img_write(void *opaque, uint64_t pa, const void *buf, size_t len)
{
    return VI_MEM_ABORT;
}

static vi_mem_result img_cmpxchg(void *opaque, uint64_t pa, uint64_t *expected,
                                 uint64_t desired, bool *swapped)
{
    *swapped = false;
    return VI_MEM_ABORT;
}

static const vi_mem_ops img_ops = { img_read, img_write, img_cmpxchg };

static const vi_mem *s2_mem(void *opaque, const vi_smmu_ste *ste)
{
    return opaque;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static bool bit(uint32_t v, unsigned n)
{
    return (v >> n) & 1;
}

static void smmu_caps_from(uint32_t f, vi_smmu_caps *c)
{
    static const unsigned oas[] = { 32, 36, 40, 42, 44, 48, 52, 48 };

    vi_smmu_caps_default(c);
    c->s1 = !bit(f, 0);
    c->s2 = !bit(f, 1);
    c->st_2lvl = !bit(f, 2);
    c->cd_2lvl = !bit(f, 3);
    c->asid16 = bit(f, 4);
    c->vmid16 = bit(f, 5);
    c->hyp = bit(f, 6);
    c->ats = bit(f, 7);
    c->ats_s1chk = bit(f, 8);
    c->httu_a = bit(f, 9);
    c->httu_d = bit(f, 10);
    c->ttst = bit(f, 11);
    c->gran16k = bit(f, 12);
    c->gran4k = !bit(f, 13);
    c->gran64k = !bit(f, 14);
    c->vax52 = bit(f, 15);
    c->stall_model = (f >> 16) % 3;
    c->ttendian = bit(f, 18) ? VI_SMMU_TTENDIAN_MIXED : VI_SMMU_TTENDIAN_LE;
    c->sidsize = (f >> 19) & 31;
    c->ssidsize = ((f >> 24) & 31) % 21;
    c->oas = oas[(f >> 29) & 7];
}

static void vtd_caps_from(uint32_t f, vi_vtd_caps *c)
{
    vi_vtd_caps_default(c);
    c->sagaw = (f & 0xe) ? (f & 0xe) : 4;
    c->haw = 39 + ((f >> 4) & 15);
    c->nd = (f >> 8) % 7;
    c->pss = (f >> 11) & 31;
    c->pt = bit(f, 16);
    c->dt = bit(f, 17);
    c->prs = bit(f, 18);
    c->flts = !bit(f, 19);
    c->slts = !bit(f, 20);
    c->nest = bit(f, 21);
    c->srs = bit(f, 22);
    c->ers = bit(f, 23);
    c->eafs = bit(f, 24);
    c->slads = bit(f, 25);
    c->rpriv = bit(f, 26);
    c->fs5lp = bit(f, 27);
    c->pasid = !bit(f, 28);
}

static void check_cd_walker(const vi_smmu_caps *caps, const vi_smmu_cd *cd)
{
    vi_armv8_s1_cfg wc;
    vi_armv8_s1 w;

    vi_smmu_cd_to_armv8(caps, cd, &wc);
    CHECK(vi_armv8_s1_prepare(&wc, &w) == VI_ARMV8_CFG_OK);
    for (int i = 0; i < 2; i++) {
        CHECK(cd->tt[i].epd || w.tt[i].start_level == cd->tt[i].start_level);
    }
}

static void check_ste_walker(const vi_smmu_caps *caps, const vi_smmu_ste *ste)
{
    vi_armv8_s2_cfg wc;
    vi_armv8_s2 w;

    if (!ste->s2_enabled) {
        return;
    }
    vi_smmu_ste_to_armv8_s2(caps, ste, &wc);
    CHECK(vi_armv8_s2_prepare(&wc, &w) == VI_ARMV8_CFG_OK);
    CHECK(w.tt.start_level == ste->s2.start_level);
}

static void fuzz_smmu(const uint8_t *hdr, img *m, vi_cfg_cache *cc)
{
    vi_mem mem = { &img_ops, m };
    img m2 = *m;
    vi_mem mem2 = { &img_ops, &m2 };
    vi_smmu_caps caps;
    vi_smmu_cfg cfg;
    vi_smmu_cfg_fault f;
    uint64_t raw[8];
    uint32_t sid = (uint32_t)le(hdr + 4, 4), ssid = (uint32_t)le(hdr + 8, 4);
    bool ssv = hdr[12] & 1;
    uint64_t base = le(hdr + 13, 3) << 6;
    int r;

    smmu_caps_from((uint32_t)le(hdr, 4), &caps);
    m2.xor = (uint64_t)hdr[15] << 12;

    /* Direct decodes of the first bytes as an STE and as a CD. */
    if (vi_mem_read_le64s(&mem, 0, raw, 8) == VI_MEM_OK) {
        vi_smmu_ste ste;
        vi_smmu_cd cd;

        r = vi_smmu_ste_decode(&caps, raw, &ste, &f);
        CHECK(r == f.event && (r == 0 || r == VI_SMMU_EVT_C_BAD_STE));
        if (!r) {
            check_ste_walker(&caps, &ste);
        }
        r = vi_smmu_cd_decode(&caps, NULL, raw, &cd, &f);
        CHECK(r == f.event && (r == 0 || r == VI_SMMU_EVT_C_BAD_CD));
        if (!r) {
            check_cd_walker(&caps, &cd);
        }
    }

    /* Full lookup, with a "stage 2" CD fetch. */
    r = vi_smmu_cfg_lookup(&mem, s2_mem, &mem2, &caps, base, (uint32_t)le(hdr + 12, 3) >> 1,
                           sid, ssv, ssid, &cfg, &f);
    CHECK(r == f.event);
    switch (r) {
    case 0:
        check_ste_walker(&caps, &cfg.ste);
        if (cfg.s1_translate) {
            check_cd_walker(&caps, &cfg.cd);
            CHECK(cfg.cd_index >> cfg.ste.s1_cdmax == 0);
        }
        if (vi_cfg_cache_insert_dev(cc, sid, VI_CFG_TAG_ANY, &cfg, vi_cfg_cache_gen(cc))) {
            vi_smmu_cfg back;

            CHECK(vi_cfg_cache_lookup_dev(cc, sid, &back));
            CHECK(memcmp(&back, &cfg, sizeof(cfg)) == 0);
        }
        break;
    case VI_SMMU_EVT_C_BAD_STREAMID:
    case VI_SMMU_EVT_F_STE_FETCH:
    case VI_SMMU_EVT_C_BAD_STE:
    case VI_SMMU_EVT_F_STREAM_DISABLED:
    case VI_SMMU_EVT_C_BAD_SUBSTREAMID:
    case VI_SMMU_EVT_F_CD_FETCH:
    case VI_SMMU_EVT_C_BAD_CD:
        break;
    default:
        CHECK(0);
    }
}

static bool vtd_reason_ok(int r)
{
    return (r >= 0x01 && r <= 0x0d) || (r >= 0x30 && r <= 0x32) ||
           (r >= 0x38 && r <= 0x3a) || (r >= 0x40 && r <= 0x48) ||
           (r >= 0x50 && r <= 0x52) || (r >= 0x58 && r <= 0x5d);
}

static void fuzz_vtd(const uint8_t *hdr, img *m, vi_cfg_cache *cc)
{
    vi_mem mem = { &img_ops, m };
    vi_vtd_caps caps;
    vi_vtd_req req;
    vi_vtd_cfg cfg;
    vi_vtd_fault f;
    uint64_t raw[8];
    int r;

    vtd_caps_from((uint32_t)le(hdr, 4) * 2654435761u, &caps);
    memset(&req, 0, sizeof(req));
    req.sid = (uint16_t)le(hdr + 4, 2);
    req.pasid = (uint32_t)le(hdr + 8, 3) & 0xfffff;
    req.has_pasid = hdr[12] & 2;
    req.priv = hdr[12] & 4;
    req.exec = hdr[12] & 8;
    req.ats = hdr[12] & 16;
    req.page_req = hdr[12] & 32;

    if (vi_mem_read_le64s(&mem, 0, raw, 8) == VI_MEM_OK) {
        vi_vtd_ctx ctx;
        vi_vtd_pe pe;
        uint64_t ctp;

        r = vi_vtd_root_decode(&caps, raw, &ctp, &f);
        CHECK(r == f.reason && (r == 0 || vtd_reason_ok(r)));
        r = vi_vtd_sm_root_decode(&caps, raw, hdr[5], &ctp, &f);
        CHECK(r == f.reason && (r == 0 || vtd_reason_ok(r)));
        r = vi_vtd_ctx_decode(&caps, raw, &ctx, &f);
        CHECK(r == f.reason && (r == 0 || vtd_reason_ok(r)));
        r = vi_vtd_sm_ctx_decode(&caps, raw, &ctx, &f);
        CHECK(r == f.reason && (r == 0 || vtd_reason_ok(r)));
        r = vi_vtd_pe_decode(&caps, raw, &pe, &f);
        CHECK(r == f.reason && (r == 0 || vtd_reason_ok(r)));
        if (!r) {
            CHECK(pe.pgtt >= VI_VTD_PGTT_FS && pe.pgtt <= VI_VTD_PGTT_PT);
            r = vi_vtd_pe_check_req(&caps, &pe, &req, &f);
            CHECK(r == f.reason && (r == 0 || r == VI_VTD_FR_SM_PE_SRE ||
                                    r == VI_VTD_FR_SM_PE_ERE));
        }
    }

    for (unsigned ttm = 0; ttm < 4; ttm++) {
        uint64_t rtaddr = (le(hdr + 13, 3) << 12) | ((uint64_t)ttm << 10);

        r = vi_vtd_cfg_lookup(&mem, &caps, rtaddr, &req, &cfg, &f);
        CHECK(r == f.reason && (r == 0 || vtd_reason_ok(r)));
        if (!r && cfg.has_pe) {
            CHECK(cfg.pasid < (1u << 20));
            vi_vtd_cfg back;

            if (vi_cfg_cache_insert_sub(cc, req.sid, cfg.pasid, VI_CFG_TAG_ANY, cfg.pe.did,
                                        &cfg, vi_cfg_cache_gen(cc))) {
                CHECK(vi_cfg_cache_lookup_sub(cc, req.sid, cfg.pasid, &back));
                CHECK(memcmp(&back, &cfg, sizeof(cfg)) == 0);
            }
        }
    }
}

/* ------------------------------------------------------------------------
 * Invalidation: entries made from the image, one invalidation; afterwards
 * every entry its scope names is gone and (no eviction having happened)
 * every other one is still there with its payload -- the scopes of
 * cfg-cache.h, written again here, not taken from cfg-cache.c.
 */

#define CC_RECS     12

typedef struct cc_rec {
    bool sub;
    uint32_t sid, ssid, tag, dev_tag;
    uint64_t payload;
    bool live;
} cc_rec;

typedef struct cc_scope {
    unsigned op;
    uint32_t a, b;
} cc_scope;

static uint32_t small_tag(uint8_t v)
{
    return v % 5 == 4 ? VI_CFG_TAG_ANY : v % 5;
}

static bool tag_is(uint32_t have, uint32_t want)
{
    return have == want || have == VI_CFG_TAG_ANY;
}

static bool cc_named(const cc_scope *sc, const cc_rec *e)
{
    switch (sc->op) {
    case 0:
        return e->sid == sc->a;                                 /* inv_sid */
    case 1:
        return e->sid >= sc->a && e->sid <= sc->b;              /* inv_sid_range */
    case 2:
        return (e->sid & ~sc->b) == (sc->a & ~sc->b);           /* inv_sid_mask */
    case 3:
        return tag_is(e->sub ? e->dev_tag : e->tag, sc->a);     /* inv_dev_tag */
    case 4:
        return e->sub && e->sid == sc->a && e->ssid == sc->b;   /* inv_ssid */
    case 5:
        return e->sub && e->sid == sc->a;                       /* inv_ssid_all */
    case 6:
        return e->sub && tag_is(e->tag, sc->a);                 /* inv_sub_tag */
    case 7:
        return e->sub && tag_is(e->tag, sc->a) && e->ssid == sc->b;
    case 8:
        return e->sub;                                          /* inv_sub_all */
    default:
        return true;                                            /* inv_all */
    }
}

static void cc_invalidate(vi_cfg_cache *cc, const cc_scope *sc)
{
    switch (sc->op) {
    case 0: vi_cfg_cache_inv_sid(cc, sc->a); break;
    case 1: vi_cfg_cache_inv_sid_range(cc, sc->a, sc->b); break;
    case 2: vi_cfg_cache_inv_sid_mask(cc, sc->a, sc->b); break;
    case 3: vi_cfg_cache_inv_dev_tag(cc, sc->a); break;
    case 4: vi_cfg_cache_inv_ssid(cc, sc->a, sc->b); break;
    case 5: vi_cfg_cache_inv_ssid_all(cc, sc->a); break;
    case 6: vi_cfg_cache_inv_sub_tag(cc, sc->a); break;
    case 7: vi_cfg_cache_inv_sub_tag_ssid(cc, sc->a, sc->b); break;
    case 8: vi_cfg_cache_inv_sub_all(cc); break;
    default: vi_cfg_cache_inv_all(cc); break;
    }
}

static void fuzz_cfg_inval(const uint8_t *p, size_t len)
{
    vi_cfg_cache *cc = vi_cfg_cache_new(16, 8, 16, 8);
    cc_rec rec[CC_RECS];
    cc_scope sc;
    vi_cfg_cache_stats st;
    unsigned n = 0;

    CHECK(cc);
    if (len < 4) {
        vi_cfg_cache_free(cc);
        return;
    }
    sc.op = p[0] % 10;
    sc.a = sc.op == 3 || sc.op == 6 || sc.op == 7 ? small_tag(p[1]) : p[1] & 7;
    sc.b = sc.op == 2 ? vi_cfg_vtd_fm_mask(p[2]) : p[2] & 7;
    for (p += 4, len -= 4; n < CC_RECS && len >= 4; p += 4, len -= 4) {
        cc_rec *e = &rec[n];

        *e = (cc_rec) { .sub = p[0] & 1, .sid = (p[0] >> 1) & 7, .ssid = (p[0] >> 4) & 3,
                        .tag = small_tag(p[1]), .dev_tag = small_tag(p[2]),
                        .payload = 0x1000 + n, .live = true };
        if (e->sub) {
            CHECK(vi_cfg_cache_insert_sub(cc, e->sid, e->ssid, e->dev_tag, e->tag,
                                          &e->payload, vi_cfg_cache_gen(cc)));
        } else {
            CHECK(vi_cfg_cache_insert_dev(cc, e->sid, e->tag, &e->payload,
                                          vi_cfg_cache_gen(cc)));
        }
        /* Same key: the new entry replaces the old. */
        for (unsigned i = 0; i < n; i++) {
            if (rec[i].sub == e->sub && rec[i].sid == e->sid &&
                (!e->sub || rec[i].ssid == e->ssid)) {
                rec[i].live = false;
            }
        }
        n++;
    }
    cc_invalidate(cc, &sc);
    vi_cfg_cache_get_stats(cc, &st);
    for (unsigned i = 0; i < n; i++) {
        uint64_t got = 0;
        bool hit;

        if (!rec[i].live) {
            continue;
        }
        hit = rec[i].sub ? vi_cfg_cache_lookup_sub(cc, rec[i].sid, rec[i].ssid, &got) :
                           vi_cfg_cache_lookup_dev(cc, rec[i].sid, &got);
        if (cc_named(&sc, &rec[i])) {
            CHECK(!hit);                /* named by the scope: gone */
        } else if (!st.evictions) {
            CHECK(hit && got == rec[i].payload);    /* exactly the named ones */
        }
    }
    vi_cfg_cache_free(cc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static vi_cfg_cache *cc;
    vi_cfg_cache_stats st;
    img m;

    if (size < 16) {
        return 0;
    }
    if (!cc) {
        cc = vi_cfg_cache_new(16, sizeof(vi_smmu_cfg), 16, sizeof(vi_vtd_cfg));
        CHECK(cc);
    }
    m.p = data + 16;
    m.len = size - 16;
    m.xor = 0;
    m.force = data[12] & 0x40;
    fuzz_smmu(data, &m, cc);
    fuzz_vtd(data, &m, cc);

    /* Some invalidation chosen by the input; the cache stays bounded. */
    switch (data[15] & 7) {
    case 0: vi_cfg_cache_inv_sid(cc, (uint32_t)le(data + 4, 4)); break;
    case 1: vi_cfg_cache_inv_sid_range(cc, data[4], data[5]); break;
    case 2: vi_cfg_cache_inv_sid_mask(cc, data[4], vi_cfg_vtd_fm_mask(data[6])); break;
    case 3: vi_cfg_cache_inv_ssid(cc, data[4], data[8]); break;
    case 4: vi_cfg_cache_inv_sub_tag(cc, data[9]); break;
    case 5: vi_cfg_cache_inv_sub_tag_ssid(cc, data[9], data[8]); break;
    case 6: vi_cfg_cache_inv_dev_tag(cc, data[9]); break;
    default:
        switch (data[14] & 3) {
        case 0: vi_cfg_cache_inv_ssid_all(cc, data[4]); break;
        case 1: vi_cfg_cache_inv_sub_all(cc); break;
        default: vi_cfg_cache_inv_all(cc); break;
        }
        break;
    }
    CHECK(vi_cfg_cache_dev_count(cc) <= vi_cfg_cache_dev_capacity(cc));
    CHECK(vi_cfg_cache_sub_count(cc) <= vi_cfg_cache_sub_capacity(cc));
    vi_cfg_cache_get_stats(cc, &st);
    fuzz_cfg_inval(data + 16, size - 16);
    return 0;
}
