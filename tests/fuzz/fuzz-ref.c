/*
 * Differential libFuzzer target for the VT-d page walks: every fuzzed walk
 * (first stage, second stage, nested) runs in the core and in the naive
 * reference model (tests/unit/ref-model-x86.c) on two identical copies of
 * guest memory.  Outcome, fault kind / stage / level / s1ptw, output
 * address, mapping size, permissions and every A/D update written to memory
 * must agree (ref_compare()); any difference aborts.
 *
 * Input: 24 bytes of parameters, then the memory image, present in both
 * copies at address 0 (so small table addresses in entries, easy for the
 * fuzzer to produce, land in it); every other address aborts in both.  The three walks
 * run in turn on the same memories, so the A/D updates of one are seen by
 * the next.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake-mem.h"
#include "hw/viommu/core/nested.h"
#include "ref-model-x86.h"

#define PARAMS      24

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
    fake_mem_free(a);
    fake_mem_free(b);
    return 0;
}
