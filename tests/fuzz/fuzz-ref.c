/*
 * Differential libFuzzer target for the page walks of both IOMMUs: every
 * fuzzed walk (VT-d first stage, second stage, nested; VMSAv8-64 stage 1,
 * stage 2, nested) runs in the core and in the naive reference models of
 * the unit tests (tests/unit/ref-model-x86.c, ref-model-armv8.c) on two
 * identical copies of guest memory.  Outcome, fault kind / stage / level / s1ptw, output
 * address, mapping size, permissions and every A/D update written to memory
 * must agree (ref_compare()); any difference aborts.
 *
 * Input: 40 bytes of parameters, then the memory image, present in both
 * copies at address 0 (so small table addresses in entries, easy for the
 * fuzzer to produce, land in it); every other address aborts in both.  The
 * walks run in turn on the same memories, so the hardware updates of one
 * are seen by the next.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake-mem.h"
#include "hw/viommu/core/nested.h"
#include "ref-model-armv8.h"
#include "ref-model-x86.h"

#define PARAMS      40

static uint64_t get64(const uint8_t *p)
{
    return vi_le64_to_cpu(p);
}

/* Clamped to configurations the device can express (vi_*_cfg_ok()). */
static void decode(const uint8_t *data, ref_x86_cfg *c)
{
    static const unsigned aw[4] = { 39, 48, 57, 48 };

    memset(c, 0, sizeof(*c));
    c->fs_ptptr = (uint64_t)(data[0] & 7) << 12;
    c->ss_ptptr = (uint64_t)(data[1] & 7) << 12;
    if (data[4] & 0x10) {
        c->fs_ptptr |= (uint64_t)data[3] << 44;        /* maybe beyond the HAW */
    }
    c->fs_levels = (data[4] & 1) ? 5 : 4;
    c->fl1gp = data[4] & 2;
    c->wpe = data[4] & 4;
    c->eafe = data[4] & 8;
    c->ss_aw = aw[data[5] & 3];
    c->sllps = (data[5] >> 2) & 3;
    c->slee = data[5] & 0x10;
    c->slade = data[5] & 0x20;
    c->fs_haw = 32 + data[6] % 21;
    c->ss_haw = 32 + data[7] % 21;
}

static void to_core(const ref_x86_cfg *c, vi_x86_fs_cfg *fs, vi_vtd_ss_cfg *ss)
{
    *fs = (vi_x86_fs_cfg) { .ptptr = c->fs_ptptr, .levels = (uint8_t)c->fs_levels,
                            .haw = (uint8_t)c->fs_haw, .fl1gp = c->fl1gp, .wpe = c->wpe,
                            .eafe = c->eafe };
    *ss = (vi_vtd_ss_cfg) { .ptptr = c->ss_ptptr, .aw_bits = (uint8_t)c->ss_aw,
                            .haw = (uint8_t)c->ss_haw, .sllps = (uint8_t)c->sllps,
                            .slee = c->slee, .slade = c->slade };
    if (!vi_x86_fs_cfg_ok(fs) || !vi_vtd_ss_cfg_ok(ss)) {
        abort();                        /* decode() only makes valid ones */
    }
}

/*
 * VMSAv8-64: parameters 24..31, ranges as the reference check generates
 * them (its model assumes a configuration the core accepts); stage 2's
 * validity itself is compared too.  False: no valid configuration.
 */
static bool decode_armv8(const uint8_t *d, ref_armv8_cfg *c, vi_armv8_s1 *s1,
                         vi_armv8_s2 *s2)
{
    static const unsigned gran[4] = { 12, 14, 16, 12 };
    static const unsigned oas[8] = { 32, 36, 40, 42, 44, 48, 52, 48 };
    vi_armv8_s1_cfg v1;
    vi_armv8_s2_cfg v2;
    bool s2_ok;

    memset(c, 0, sizeof(*c));
    memset(&v1, 0, sizeof(v1));
    c->s1_oas = oas[d[3] & 7];
    for (int i = 0; i < 2; i++) {
        ref_armv8_range *r = &c->r[i];

        r->pgshift = gran[(d[2] >> (2 * i)) & 3];
        r->tsz = 16 + d[i] % 24;
        if (r->pgshift == 16 && c->s1_oas == 52 && (d[i] & 0x80)) {
            r->tsz = 12 + (d[i] & 3);
        }
        r->epd = d[2] & (0x10 << i);
        r->tbi = i ? d[3] & 0x80 : d[2] & 0x40;
        r->hpd = i ? d[6] & 0x08 : d[2] & 0x80;
        r->ttb = (uint64_t)((d[7] >> (2 * i)) & 3) << 12;
        v1.tt[i] = (vi_armv8_s1_range) { .ttb = r->ttb, .tsz = (uint8_t)r->tsz,
                                         .granule = (vi_armv8_granule)r->pgshift,
                                         .epd = r->epd, .tbi = r->tbi, .hpd = r->hpd };
    }
    c->s1_ha = d[3] & 0x08;
    c->s1_hd = d[3] & 0x10;
    c->s1_affd = d[3] & 0x20;
    c->wxn = d[3] & 0x40;
    v1.oas = (uint8_t)c->s1_oas;
    v1.ha = c->s1_ha;
    v1.hd = c->s1_hd;
    v1.affd = c->s1_affd;
    v1.wxn = c->wxn;
    v1.lva = true;
    c->s2_tsz = 16 + d[4] % 24;
    c->s2_sl0 = d[5] & 3;
    c->s2_pgshift = gran[(d[5] >> 2) & 3];
    c->s2_oas = oas[(d[5] >> 4) & 7];
    c->xnx = d[5] & 0x80;
    c->s2_ha = d[6] & 1;
    c->s2_hd = d[6] & 2;
    c->s2_affd = d[6] & 4;
    c->s2_ttb = (uint64_t)((d[7] >> 4) & 3) << 12;
    v2 = (vi_armv8_s2_cfg) { .ttb = c->s2_ttb, .tsz = (uint8_t)c->s2_tsz,
                             .sl0 = (uint8_t)c->s2_sl0,
                             .granule = (vi_armv8_granule)c->s2_pgshift,
                             .oas = (uint8_t)c->s2_oas, .ha = c->s2_ha, .hd = c->s2_hd,
                             .affd = c->s2_affd, .xnx = c->xnx };
    s2_ok = vi_armv8_s2_prepare(&v2, s2) == VI_ARMV8_CFG_OK;
    if (s2_ok != ref_armv8_s2_valid(c)) {
        abort();                        /* core and model disagree on validity */
    }
    return s2_ok && vi_armv8_s1_prepare(&v1, s1) == VI_ARMV8_CFG_OK;
}

static void run_armv8(const uint8_t *data, fake_mem *a, fake_mem *b, uint64_t in,
                      uint32_t acc)
{
    static const char *const what[3] = { "armv8-s1", "armv8-s2", "armv8-nested" };
    ref_armv8_cfg c;
    vi_armv8_s1 s1;
    vi_armv8_s2 s2;
    bool rd = acc & VI_ACC_R, wr = acc & VI_ACC_W, ex = acc & VI_ACC_X;
    bool priv = acc & VI_ACC_PRIV;

    if (!decode_armv8(data + 24, &c, &s1, &s2)) {
        return;
    }
    for (int mode = 0; mode < 3; mode++) {
        ref_armv8_ctx x = { &c, mode == 2, { b, { { 0 } }, 0 } };
        uint64_t cas0 = fake_mem_get_stats(a)->cmpxchgs;
        ref_out o = mode == 1 ? ref_armv8_s2(&x, in, wr, priv, ex, rd) :
                                ref_armv8_s1(&x, in, rd, wr, ex, priv);
        vi_pt_result r;
        vi_fault f;
        bool ok;

        if (mode == 0) {
            ok = vi_armv8_s1_translate(&s1, fake_mem_vi(a), in, acc, &r, &f);
        } else if (mode == 1) {
            ok = vi_armv8_s2_translate(&s2, fake_mem_vi(a), in, acc, &r, &f);
        } else {
            ok = vi_armv8_nested_translate(&s1, &s2, fake_mem_vi(a), in, acc, &r, &f);
        }
        ref_compare(what[mode], in, acc, ok, &r, &f, &o, a, &x.m, cas0);
        if (ref_mismatches) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const what[3] = { "fs", "ss", "nested" };
    ref_x86_cfg c;
    vi_x86_fs_cfg fs;
    vi_vtd_ss_cfg ss;
    fake_mem *a, *b;
    uint64_t in;
    uint32_t acc;

    if (size < PARAMS) {
        return 0;
    }
    decode(data, &c);
    to_core(&c, &fs, &ss);
    in = get64(data + 8);
    acc = data[16] & 15;
    if (!(acc & (VI_ACC_R | VI_ACC_W | VI_ACC_X))) {
        acc |= VI_ACC_R;                /* a request reads, writes or fetches */
    }
    a = fake_mem_new();
    b = fake_mem_new();
    if (size > PARAMS) {
        fake_mem_poke(a, 0, data + PARAMS, size - PARAMS);
        fake_mem_poke(b, 0, data + PARAMS, size - PARAMS);
    }
    for (int mode = 0; mode < 3; mode++) {
        ref_x86_ctx x = { &c, mode == 2, { b, { { 0 } }, 0 } };
        uint64_t cas0 = fake_mem_get_stats(a)->cmpxchgs;
        ref_out o = mode == 1 ? ref_x86_ss(&x, in, acc) : ref_x86_fs(&x, in, acc);
        vi_pt_result r;
        vi_fault f;
        bool ok;

        if (mode == 0) {
            ok = vi_x86_fs_translate(&fs, fake_mem_vi(a), in, acc, &r, &f);
        } else if (mode == 1) {
            ok = vi_vtd_ss_translate(&ss, fake_mem_vi(a), in, acc, &r, &f);
        } else {
            ok = vi_vtd_nested_translate(&fs, &ss, fake_mem_vi(a), in, acc, &r, &f, NULL);
        }
        ref_compare(what[mode], in, acc, ok, &r, &f, &o, a, &x.m, cas0);
        if (ref_mismatches) {
            abort();
        }
    }
    run_armv8(data, a, b, in, acc);
    fake_mem_free(a);
    fake_mem_free(b);
    return 0;
}
