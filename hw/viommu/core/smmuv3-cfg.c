/*
 * qemu-viommu translation core: SMMUv3 stream table / CD table lookup and
 * STE / CD decoding (see smmuv3-cfg.h).
 *
 * Written from Arm IHI 0070, section 3.3 (stream table and CD table
 * structure), 5.2-5.5 (L1STD, STE, L1CD, CD) and 7.3 (events).  Where the
 * architecture leaves a choice (CONSTRAINED UNPREDICTABLE), the choice made
 * here is written next to the code.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "hw/viommu/core/smmuv3-cfg.h"
#include "hw/viommu/core/cfg-cache.h"

void vi_smmu_caps_default(vi_smmu_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->s1 = true;
    caps->s2 = true;
    caps->st_2lvl = true;
    caps->cd_2lvl = true;
    caps->asid16 = true;
    caps->vmid16 = true;
    caps->gran4k = true;
    caps->gran64k = true;
    caps->stall_model = VI_SMMU_STALL_MODEL_TERM;
    caps->ttendian = VI_SMMU_TTENDIAN_LE;
    caps->sidsize = 16;
    caps->ssidsize = 20;
    caps->oas = 48;
}

static int fail(vi_smmu_cfg_fault *fault, uint8_t event, uint64_t addr)
{
    if (fault) {
        fault->event = event;
        fault->addr = addr;
    }
    return event;
}

static int ok(vi_smmu_cfg_fault *fault)
{
    return fail(fault, VI_SMMU_EVT_NONE, 0);
}

/* ------------------------------------------------------------------------
 * Stream table
 */

int vi_smmu_ste_fetch(const vi_mem *mem, const vi_smmu_caps *caps,
                      uint64_t strtab_base, uint32_t strtab_cfg, uint32_t sid,
                      uint64_t ste[VI_SMMU_STE_WORDS], vi_smmu_cfg_fault *fault)
{
    uint64_t base = strtab_base & VI_SMMU_STRTAB_BASE_ADDR_MASK;
    unsigned log2size = VI_SMMU_STRTAB_CFG_LOG2SIZE(strtab_cfg);
    unsigned fmt = VI_SMMU_STRTAB_CFG_FMT(strtab_cfg);
    unsigned sidsize = caps->sidsize > 32 ? 32 : caps->sidsize;
    uint64_t addr;

    /* LOG2SIZE beyond SIDSIZE behaves as SIDSIZE. */
    if (log2size > sidsize) {
        log2size = sidsize;
    }
    if ((uint64_t)sid >> log2size) {
        return fail(fault, VI_SMMU_EVT_C_BAD_STREAMID, 0);
    }

    if (fmt == VI_SMMU_STRTAB_FMT_LINEAR) {
        addr = base + (uint64_t)sid * VI_SMMU_STE_SIZE;
    } else if (fmt == VI_SMMU_STRTAB_FMT_2LVL && caps->st_2lvl) {
        unsigned split = VI_SMMU_STRTAB_CFG_SPLIT(strtab_cfg);
        uint64_t l1d, l1addr, l2idx;
        unsigned span;

        /*
         * SPLIT is architected as 6, 8 or 10; other values are reserved and
         * CONSTRAINED UNPREDICTABLE: here they behave as the next smaller
         * legal value (anything above 10 as 10).
         */
        if (split < 8) {
            split = 6;
        } else if (split < 10) {
            split = 8;
        } else {
            split = 10;
        }
        l1addr = base + ((uint64_t)sid >> split) * 8;
        if (vi_mem_read_le64(mem, l1addr, &l1d) != VI_MEM_OK) {
            return fail(fault, VI_SMMU_EVT_F_STE_FETCH, l1addr);
        }
        span = VI_SMMU_L1STD_SPAN(l1d);
        /*
         * Span 0: the L2 table is invalid.  Span above SPLIT + 1 is reserved;
         * it is treated as invalid too (one of the allowed behaviours).
         */
        if (span == 0 || span > split + 1) {
            return fail(fault, VI_SMMU_EVT_C_BAD_STREAMID, 0);
        }
        l2idx = sid & ((1u << split) - 1);
        if (l2idx >> (span - 1)) {
            return fail(fault, VI_SMMU_EVT_C_BAD_STREAMID, 0);
        }
        addr = (l1d & VI_SMMU_L1STD_L2PTR_MASK) + l2idx * VI_SMMU_STE_SIZE;
    } else {
        /*
         * Reserved FMT, or 2-level without IDR0.ST_LEVEL: no StreamID can be
         * looked up in a table the SMMU cannot walk.
         */
        return fail(fault, VI_SMMU_EVT_C_BAD_STREAMID, 0);
    }

    if (vi_mem_read_le64s(mem, addr, ste, VI_SMMU_STE_WORDS) != VI_MEM_OK) {
        return fail(fault, VI_SMMU_EVT_F_STE_FETCH, addr);
    }
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * Translation-regime helpers shared by STE (stage 2) and CD (stage 1)
 */

/* Encoded PA size -> bits, limited to the SMMU's OAS. */
static unsigned eff_pa_size(unsigned enc, unsigned oas)
{
    unsigned bits = vi_smmu_pa_size_bits(enc);

    return bits > oas ? oas : bits;
}

static bool granule_supported(const vi_smmu_caps *caps, unsigned shift)
{
    switch (shift) {
    case 12: return caps->gran4k;
    case 14: return caps->gran16k;
    case 16: return caps->gran64k;
    default: return false;
    }
}

/* Largest input size for a granule: 52 bits only for 64K with VAX / OAS 52. */
static unsigned max_input_bits(unsigned shift, bool big)
{
    return (shift == 16 && big) ? 52 : 48;
}

/* Smallest input size: 25 bits (TxSZ 39), 16/17 with small tables. */
static unsigned min_input_bits(const vi_smmu_caps *caps, unsigned shift)
{
    if (!caps->ttst) {
        return 25;
    }
    return shift == 16 ? 17 : 16;
}

/* Stage-1 start level from input size and granule (4 - number of levels). */
static int s1_start_level(unsigned ias, unsigned shift)
{
    unsigned stride = shift - 3;
    unsigned levels = (ias - shift + stride - 1) / stride;

    return 4 - (int)levels;
}

/*
 * Stage-2 start level from SL0, and the validity of the S2T0SZ / SL0 / TG
 * combination: the start level must resolve at least one input bit and at
 * most stride + 4 bits (16 concatenated tables).
 */
static bool s2_geometry(const vi_smmu_caps *caps, vi_smmu_s2_cfg *s2)
{
    unsigned shift = s2->granule_shift, stride = shift - 3;
    unsigned ias = 64 - s2->tsz;
    unsigned below, top;
    int start;

    /*
     * A 52-bit IPA (64K granule) is only walked with a 52-bit output size
     * (STE.S2PS): the stage-2 walker (pt-armv8.c) requires it.  The
     * architecture bounds the IPA by the SMMU's IAS only, but no driver pairs
     * a 52-bit IPA with a smaller S2PS; refusing the STE here is the safe
     * side of that difference (a C_BAD_STE rather than a walk that cannot
     * be set up).
     */
    if (s2->tsz > 64 - min_input_bits(caps, shift) ||
        ias > max_input_bits(shift, caps->oas >= 52) || ias > caps->oas ||
        (ias > 48 && s2->oas < 52)) {
        return false;
    }
    switch (shift) {
    case 12:
        /* SL0 0/1/2 -> level 2/1/0; 3 -> level 3 only with small tables. */
        if (s2->sl0 == 3) {
            if (!caps->ttst) {
                return false;
            }
            start = 3;
        } else {
            start = 2 - (int)s2->sl0;
        }
        break;
    default:
        /* 16K, 64K: SL0 0/1/2 -> level 3/2/1; 3 is reserved here. */
        if (s2->sl0 == 3) {
            return false;
        }
        start = 3 - (int)s2->sl0;
        break;
    }
    below = shift + stride * (unsigned)(3 - start);
    if (ias <= below) {
        return false;
    }
    top = ias - below;
    if (top > stride + 4) {
        return false;
    }
    s2->start_level = start;
    s2->concat = top > stride ? 1u << (top - stride) : 1;
    return true;
}

static bool endian_ok(const vi_smmu_caps *caps, bool big)
{
    switch (caps->ttendian) {
    case VI_SMMU_TTENDIAN_LE:
        return !big;
    case VI_SMMU_TTENDIAN_BE:
        return big;
    default:
        return true;
    }
}

/* ------------------------------------------------------------------------
 * STE
 */

static int bad_ste(vi_smmu_cfg_fault *fault)
{
    return fail(fault, VI_SMMU_EVT_C_BAD_STE, 0);
}

static int decode_s2(const vi_smmu_caps *caps, const uint64_t *ste, vi_smmu_ste *out,
                     vi_smmu_cfg_fault *fault)
{
    uint64_t w2 = ste[2];
    vi_smmu_s2_cfg *s2 = &out->s2;

    switch (VI_SMMU_STE2_S2TG(w2)) {
    case VI_SMMU_TG0_4K:
        s2->granule_shift = 12;
        break;
    case VI_SMMU_TG0_16K:
        s2->granule_shift = 14;
        break;
    case VI_SMMU_TG0_64K:
        s2->granule_shift = 16;
        break;
    default:
        return bad_ste(fault);
    }
    if (!granule_supported(caps, s2->granule_shift)) {
        return bad_ste(fault);
    }
    /* Only AArch64 stage-2 tables are implemented (IDR0.TTF). */
    if (!VI_SMMU_STE2_S2AA64(w2)) {
        return bad_ste(fault);
    }
    s2->endi = VI_SMMU_STE2_S2ENDI(w2);
    if (!endian_ok(caps, s2->endi)) {
        return bad_ste(fault);
    }
    s2->tsz = VI_SMMU_STE2_S2T0SZ(w2);
    s2->sl0 = VI_SMMU_STE2_S2SL0(w2);
    s2->oas = eff_pa_size(VI_SMMU_STE2_S2PS(w2), caps->oas);
    if (!s2_geometry(caps, s2)) {
        return bad_ste(fault);
    }
    s2->irgn = VI_SMMU_STE2_S2IR0(w2);
    s2->orgn = VI_SMMU_STE2_S2OR0(w2);
    s2->sh = VI_SMMU_STE2_S2SH0(w2);
    s2->affd = VI_SMMU_STE2_S2AFFD(w2);
    s2->ptw = VI_SMMU_STE2_S2PTW(w2);
    /* HTTU bits are ignored when not implemented; dirty needs access flag. */
    s2->ha = VI_SMMU_STE2_S2HA(w2) && caps->httu_a;
    s2->hd = VI_SMMU_STE2_S2HD(w2) && caps->httu_d && s2->ha;
    s2->fwb = VI_SMMU_STE1_S2FWB(ste[1]) && caps->s2fwb;
    s2->record = VI_SMMU_STE2_S2R(w2);
    s2->stall = VI_SMMU_STE2_S2S(w2);
    /* IHI 0070 5.5: S2S = 1 without stalls, or 0 with stalls forced, is ILLEGAL. */
    if (s2->stall ? caps->stall_model == VI_SMMU_STALL_MODEL_TERM :
                    caps->stall_model == VI_SMMU_STALL_MODEL_FORCED) {
        return bad_ste(fault);
    }
    s2->ttb = ste[3] & VI_SMMU_STE3_S2TTB_MASK;
    /* An S2TTB beyond the effective S2PS is ILLEGAL (IHI 0070 5.2, S2TTB). */
    if (s2->oas < 64 && (s2->ttb >> s2->oas)) {
        return bad_ste(fault);
    }
    return ok(fault);
}

int vi_smmu_ste_decode(const vi_smmu_caps *caps,
                       const uint64_t ste[VI_SMMU_STE_WORDS],
                       vi_smmu_ste *out, vi_smmu_cfg_fault *fault)
{
    uint64_t w0 = ste[0], w1 = ste[1];
    unsigned config;
    int r;

    memset(out, 0, sizeof(*out));
    if (!VI_SMMU_STE0_V(w0)) {
        return bad_ste(fault);
    }
    config = VI_SMMU_STE0_CONFIG(w0);
    out->config = config;
    switch (config) {
    case VI_SMMU_STE_CFG_ABORT:
        /* Abort, no event: nothing else in the STE matters. */
        return ok(fault);
    case VI_SMMU_STE_CFG_BYPASS:
    case VI_SMMU_STE_CFG_S1:
    case VI_SMMU_STE_CFG_S2:
    case VI_SMMU_STE_CFG_NESTED:
        break;
    default:
        return bad_ste(fault);      /* 0b001..0b011 reserved */
    }
    out->s1_enabled = config & 1;
    out->s2_enabled = (config & 2) != 0;
    if ((out->s1_enabled && !caps->s1) || (out->s2_enabled && !caps->s2)) {
        return bad_ste(fault);
    }

    /* Attribute overrides and controls (used for bypass as well). */
    out->memattr = VI_SMMU_STE1_MEMATTR(w1);
    out->mtcfg = VI_SMMU_STE1_MTCFG(w1);
    out->alloccfg = VI_SMMU_STE1_ALLOCCFG(w1);
    out->shcfg = VI_SMMU_STE1_SHCFG(w1);
    out->nscfg = VI_SMMU_STE1_NSCFG(w1);
    out->privcfg = VI_SMMU_STE1_PRIVCFG(w1);
    out->instcfg = VI_SMMU_STE1_INSTCFG(w1);
    out->dcp = VI_SMMU_STE1_DCP(w1);
    out->ppar = VI_SMMU_STE1_PPAR(w1);
    out->dre = VI_SMMU_STE1_DRE(w1);
    out->cont = VI_SMMU_STE1_CONT(w1);
    out->mev = VI_SMMU_STE1_MEV(w1) && caps->mev;
    if (caps->s2) {
        out->s2.vmid = VI_SMMU_STE2_S2VMID(ste[2]) & (caps->vmid16 ? 0xffff : 0xff);
    }
    if (config == VI_SMMU_STE_CFG_BYPASS) {
        return ok(fault);
    }

    /*
     * ATS: ignored when the SMMU has no ATS.  0b11 (full ATS with DPT
     * checks) is reserved and behaves as 0b00 without DPT, which this model
     * does not implement: not an illegal STE.
     */
    if (caps->ats) {
        out->eats = VI_SMMU_STE1_EATS(w1);
        if (out->eats == 3) {
            out->eats = VI_SMMU_EATS_ABORT;
        }
        if (out->eats == VI_SMMU_EATS_S1CHK &&
            (!caps->ats_s1chk || config != VI_SMMU_STE_CFG_NESTED)) {
            return bad_ste(fault);
        }
    }

    if (out->s1_enabled) {
        out->s1_cdmax = VI_SMMU_STE0_S1CDMAX(w0);
        if (out->s1_cdmax > caps->ssidsize) {
            return bad_ste(fault);
        }
        out->s1_fmt = VI_SMMU_S1FMT_LINEAR;
        if (out->s1_cdmax) {
            /* S1Fmt and S1DSS only matter when there are substreams. */
            out->s1_fmt = VI_SMMU_STE0_S1FMT(w0);
            if (out->s1_fmt == 3 ||
                (out->s1_fmt != VI_SMMU_S1FMT_LINEAR && !caps->cd_2lvl)) {
                return bad_ste(fault);
            }
            out->s1_dss = VI_SMMU_STE1_S1DSS(w1);
            if (out->s1_dss == 3) {
                return bad_ste(fault);
            }
        }
        out->s1_ctxptr = w0 & VI_SMMU_STE0_S1CTXPTR_MASK;
        /* A physical CD pointer beyond the OAS cannot be fetched. */
        if (!out->s2_enabled && caps->oas < 64 && (out->s1_ctxptr >> caps->oas)) {
            return bad_ste(fault);
        }
        out->s1_cir = VI_SMMU_STE1_S1CIR(w1);
        out->s1_cor = VI_SMMU_STE1_S1COR(w1);
        out->s1_csh = VI_SMMU_STE1_S1CSH(w1);
        out->s1_stalld = VI_SMMU_STE1_S1STALLD(w1);
        if (out->s1_stalld && caps->stall_model == VI_SMMU_STALL_MODEL_FORCED) {
            return bad_ste(fault);
        }
        out->strw = VI_SMMU_STRW_EL1;
        if (!out->s2_enabled) {
            unsigned strw = VI_SMMU_STE1_STRW(w1);

            if (strw == VI_SMMU_STRW_EL2 ? !caps->hyp : strw != VI_SMMU_STRW_EL1) {
                return bad_ste(fault);
            }
            out->strw = strw;
        }
    }

    if (out->s2_enabled) {
        r = decode_s2(caps, ste, out, fault);
        if (r) {
            return r;
        }
        /* A Translation Request cannot stall: S2S with EATS is ILLEGAL (IHI 0070 5.2). */
        if (out->s2.stall && out->eats != VI_SMMU_EATS_ABORT) {
            return bad_ste(fault);
        }
    }
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * CD selection and CD table
 */

int vi_smmu_ste_select_cd(const vi_smmu_ste *ste, bool ssv, uint32_t ssid,
                          vi_smmu_s1_sel *sel, uint32_t *cd_index,
                          vi_smmu_cfg_fault *fault)
{
    *sel = VI_SMMU_S1_SEL_CD;
    *cd_index = 0;
    if (ste->s1_cdmax == 0) {
        /* One CD, no substreams: an SSID-tagged transaction is bad. */
        if (ssv) {
            return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
        }
        return ok(fault);
    }
    if (!ssv) {
        switch (ste->s1_dss) {
        case VI_SMMU_S1DSS_BYPASS:
            *sel = VI_SMMU_S1_SEL_BYPASS;
            return ok(fault);
        case VI_SMMU_S1DSS_SUBSTREAM0:
            return ok(fault);
        default:
            return fail(fault, VI_SMMU_EVT_F_STREAM_DISABLED, 0);
        }
    }
    if ((uint64_t)ssid >> ste->s1_cdmax) {
        return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
    }
    /* CD 0 belongs to the non-substream traffic with S1DSS = substream0. */
    if (ssid == 0 && ste->s1_dss == VI_SMMU_S1DSS_SUBSTREAM0) {
        return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
    }
    *cd_index = ssid;
    return ok(fault);
}

int vi_smmu_cd_fetch(const vi_mem *mem, const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                     uint32_t cd_index, uint64_t cd[VI_SMMU_CD_WORDS],
                     vi_smmu_cfg_fault *fault)
{
    uint64_t addr;

    if ((uint64_t)cd_index >> ste->s1_cdmax) {
        return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
    }
    if (ste->s1_fmt == VI_SMMU_S1FMT_LINEAR) {
        addr = ste->s1_ctxptr + (uint64_t)cd_index * VI_SMMU_CD_SIZE;
    } else {
        /* 2-level: L2 tables of 64 (4KB) or 1024 (64KB) CDs. */
        unsigned l2bits = ste->s1_fmt == VI_SMMU_S1FMT_2LVL_4K ? 6 : 10;
        uint64_t l1addr = ste->s1_ctxptr + (uint64_t)(cd_index >> l2bits) * 8;
        uint64_t l1d;

        if (vi_mem_read_le64(mem, l1addr, &l1d) != VI_MEM_OK) {
            return fail(fault, VI_SMMU_EVT_F_CD_FETCH, l1addr);
        }
        if (!VI_SMMU_L1CD_V(l1d)) {
            return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
        }
        /*
         * An L2Ptr beyond the OAS (a PA) or the IAS (an IPA, nested; IAS =
         * OAS with AArch64 tables only) cannot be fetched: the L1CD is
         * invalid, C_BAD_SUBSTREAMID (IHI 0070 5.3).
         */
        if (caps->oas < 64 && ((l1d & VI_SMMU_L1CD_L2PTR_MASK) >> caps->oas)) {
            return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
        }
        addr = (l1d & VI_SMMU_L1CD_L2PTR_MASK) +
               (uint64_t)(cd_index & ((1u << l2bits) - 1)) * VI_SMMU_CD_SIZE;
    }
    if (vi_mem_read_le64s(mem, addr, cd, VI_SMMU_CD_WORDS) != VI_MEM_OK) {
        return fail(fault, VI_SMMU_EVT_F_CD_FETCH, addr);
    }
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * CD
 */

static bool decode_tt(const vi_smmu_caps *caps, vi_smmu_cd *out, int i,
                      unsigned tg, unsigned tsz)
{
    unsigned shift, ias;

    if (out->tt[i].epd) {
        /* Walks disabled: TGx and TxSZ are not used (kept for information). */
        out->tt[i].tsz = tsz;
        return true;
    }
    if (i == 0) {
        shift = tg == VI_SMMU_TG0_4K ? 12 : tg == VI_SMMU_TG0_16K ? 14 :
                tg == VI_SMMU_TG0_64K ? 16 : 0;
    } else {
        shift = tg == VI_SMMU_TG1_4K ? 12 : tg == VI_SMMU_TG1_16K ? 14 :
                tg == VI_SMMU_TG1_64K ? 16 : 0;
    }
    if (!shift || !granule_supported(caps, shift)) {
        return false;
    }
    ias = 64 - tsz;
    if (tsz > 64 - min_input_bits(caps, shift) ||
        ias > max_input_bits(shift, caps->vax52)) {
        return false;
    }
    out->tt[i].granule_shift = shift;
    out->tt[i].tsz = tsz;
    out->tt[i].start_level = s1_start_level(ias, shift);
    return true;
}

int vi_smmu_cd_decode(const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                      const uint64_t cd[VI_SMMU_CD_WORDS],
                      vi_smmu_cd *out, vi_smmu_cfg_fault *fault)
{
    uint64_t w0 = cd[0];

    memset(out, 0, sizeof(*out));
    if (!VI_SMMU_CD0_V(w0)) {
        return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
    }
    /* Only VMSAv8-64 translation tables. */
    out->aa64 = VI_SMMU_CD0_AA64(w0);
    if (!out->aa64) {
        return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
    }
    out->endi = VI_SMMU_CD0_ENDI(w0);
    if (!endian_ok(caps, out->endi)) {
        return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
    }

    out->tt[0].epd = VI_SMMU_CD0_EPD0(w0);
    out->tt[1].epd = VI_SMMU_CD0_EPD1(w0);
    /*
     * An EL2 stream without SMMU_CR2.E2H has one privilege level and a
     * single range, TTB0, without ASIDs; EL2-E2H has both ranges and ASIDs,
     * like EL1 (IHI 0070 5.2 STRW, 5.4).
     */
    out->one_el = ste && ste->strw == VI_SMMU_STRW_EL2 && !caps->e2h;
    if (out->one_el) {
        out->tt[1].epd = true;
    }
    if (!decode_tt(caps, out, 0, VI_SMMU_CD0_TG0(w0), VI_SMMU_CD0_T0SZ(w0)) ||
        !decode_tt(caps, out, 1, VI_SMMU_CD0_TG1(w0), VI_SMMU_CD0_T1SZ(w0))) {
        return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
    }
    out->tt[0].irgn = VI_SMMU_CD0_IR0(w0);
    out->tt[0].orgn = VI_SMMU_CD0_OR0(w0);
    out->tt[0].sh = VI_SMMU_CD0_SH0(w0);
    out->tt[1].irgn = VI_SMMU_CD0_IR1(w0);
    out->tt[1].orgn = VI_SMMU_CD0_OR1(w0);
    out->tt[1].sh = VI_SMMU_CD0_SH1(w0);
    out->tt[0].tbi = VI_SMMU_CD0_TBI(w0) & 1;
    out->tt[1].tbi = (VI_SMMU_CD0_TBI(w0) >> 1) & 1;
    out->tt[0].ttb = cd[1] & VI_SMMU_CDT_TTB_MASK;
    out->tt[1].ttb = cd[2] & VI_SMMU_CDT_TTB_MASK;
    out->tt[0].had = VI_SMMU_CDT_HAD(cd[1]);
    out->tt[1].had = VI_SMMU_CDT_HAD(cd[2]);

    out->oas = eff_pa_size(VI_SMMU_CD0_IPS(w0), caps->oas);
    /*
     * A TTBx of an enabled range beyond the effective IPS is ILLEGAL: C_BAD_CD
     * (IHI 0070 5.4, TTB0 / TTB1), not an Address Size fault of the walk.
     */
    for (int i = 0; i < 2; i++) {
        if (!out->tt[i].epd && out->oas < 64 && (out->tt[i].ttb >> out->oas)) {
            return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
        }
    }
    out->affd = VI_SMMU_CD0_AFFD(w0);
    out->wxn = VI_SMMU_CD0_WXN(w0);
    out->uwxn = VI_SMMU_CD0_UWXN(w0);
    out->pan = VI_SMMU_CD0_PAN(w0);
    out->aset = VI_SMMU_CD0_ASET(w0);
    out->ha = VI_SMMU_CD0_HA(w0) && caps->httu_a;
    out->hd = VI_SMMU_CD0_HD(w0) && caps->httu_d && out->ha;
    out->record = VI_SMMU_CD0_R(w0);
    out->abort = VI_SMMU_CD0_A(w0);
    out->stall = VI_SMMU_CD0_S(w0);
    /*
     * IHI 0070 5.4.2 / 5.5: S = 1 without stalls or under STE.S1STALLD, or
     * S = 0 with stalls forced, is ILLEGAL.
     */
    if (out->stall ? caps->stall_model == VI_SMMU_STALL_MODEL_TERM || (ste && ste->s1_stalld) :
                     caps->stall_model == VI_SMMU_STALL_MODEL_FORCED) {
        return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
    }
    out->asid = out->one_el ? 0 : VI_SMMU_CD0_ASID(w0) & (caps->asid16 ? 0xffff : 0xff);
    out->mair = cd[3];
    out->amair = cd[4];
    return ok(fault);
}

/* ------------------------------------------------------------------------
 * Whole lookup
 */

/* What the configuration cache keeps: decoded entries with their walkers. */
typedef struct ste_entry {
    vi_smmu_ste ste;
    vi_armv8_s2 s2w;
} ste_entry;

typedef struct cd_entry {
    vi_smmu_cd cd;
    vi_armv8_s1 s1w;
} cd_entry;

vi_cfg_cache *vi_smmu_cfg_cache_new(uint32_t ste_entries, uint32_t cd_entries)
{
    return vi_cfg_cache_new(ste_entries, sizeof(ste_entry), cd_entries, sizeof(cd_entry));
}

/* Fetch, decode and prepare the STE of sid (cache miss). */
static int ste_load(const vi_mem *mem, const vi_smmu_caps *caps, uint64_t strtab_base,
                    uint32_t strtab_cfg, uint32_t sid, ste_entry *se,
                    vi_smmu_cfg_fault *fault)
{
    uint64_t raw[VI_SMMU_STE_WORDS];
    int r;

    memset(se, 0, sizeof(*se));
    r = vi_smmu_ste_fetch(mem, caps, strtab_base, strtab_cfg, sid, raw, fault);
    if (!r) {
        r = vi_smmu_ste_decode(caps, raw, &se->ste, fault);
    }
    if (!r && se->ste.s2_enabled) {
        vi_armv8_s2_cfg c;

        vi_smmu_ste_to_armv8_s2(caps, &se->ste, &c);
        if (vi_armv8_s2_prepare(&c, &se->s2w) != VI_ARMV8_CFG_OK) {
            r = bad_ste(fault);
        }
    }
    return r;
}

/* Fetch, decode and prepare CD cd_index of the stream decoded as ste (miss). */
static int cd_load(const vi_mem *mem, const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                   uint32_t cd_index, cd_entry *ce, vi_smmu_cfg_fault *fault)
{
    uint64_t raw[VI_SMMU_CD_WORDS];
    vi_armv8_s1_cfg c;
    int r;

    memset(ce, 0, sizeof(*ce));
    r = vi_smmu_cd_fetch(mem, caps, ste, cd_index, raw, fault);
    if (!r) {
        r = vi_smmu_cd_decode(caps, ste, raw, &ce->cd, fault);
    }
    if (r) {
        return r;
    }
    vi_smmu_cd_to_armv8(caps, &ce->cd, &c);
    if (vi_armv8_s1_prepare(&c, &ce->s1w) != VI_ARMV8_CFG_OK) {
        return fail(fault, VI_SMMU_EVT_C_BAD_CD, 0);
    }
    return ok(fault);
}

int vi_smmu_cfg_lookup_cached(const vi_mem *mem, vi_smmu_cd_mem_fn cd_mem_fn, void *opaque,
                              vi_cfg_cache *cache, const vi_smmu_caps *caps,
                              uint64_t strtab_base, uint32_t strtab_cfg,
                              uint32_t sid, bool ssv, uint32_t ssid,
                              vi_smmu_cfg *cfg, vi_smmu_cfg_fault *fault)
{
    const vi_mem *cd_mem = mem;
    vi_smmu_s1_sel sel;
    ste_entry se;
    cd_entry ce;
    uint64_t gen;
    int r;

    memset(cfg, 0, sizeof(*cfg));
    if (!cache || !vi_cfg_cache_lookup_dev(cache, sid, &se)) {
        gen = cache ? vi_cfg_cache_gen(cache) : 0;
        r = ste_load(mem, caps, strtab_base, strtab_cfg, sid, &se, fault);
        if (r) {
            return r;
        }
        cfg->ste_fetched = true;
        if (cache) {
            vi_cfg_cache_insert_dev(cache, sid, VI_CFG_TAG_ANY, &se, gen);
        }
    }
    cfg->ste = se.ste;
    cfg->s2w = se.s2w;
    if (cfg->ste.config == VI_SMMU_STE_CFG_ABORT) {
        return ok(fault);
    }
    /* A SubstreamID needs stage 1 (IHI 0070 3.9): bypass and S2 refuse it. */
    if (ssv && !cfg->ste.s1_enabled) {
        return fail(fault, VI_SMMU_EVT_C_BAD_SUBSTREAMID, 0);
    }
    if (!cfg->ste.s1_enabled) {
        return ok(fault);
    }
    r = vi_smmu_ste_select_cd(&cfg->ste, ssv, ssid, &sel, &cfg->cd_index, fault);
    if (r || sel == VI_SMMU_S1_SEL_BYPASS) {
        return r;
    }
    if (!cache || !vi_cfg_cache_lookup_sub(cache, sid, cfg->cd_index, &ce)) {
        gen = cache ? vi_cfg_cache_gen(cache) : 0;
        if (cfg->ste.s2_enabled && cd_mem_fn) {
            const vi_mem *m = cd_mem_fn(opaque, &cfg->ste);

            if (m) {
                cd_mem = m;
            }
        }
        r = cd_load(cd_mem, caps, &cfg->ste, cfg->cd_index, &ce, fault);
        if (r) {
            return r;
        }
        cfg->cd_fetched = true;
        if (cache) {
            vi_cfg_cache_insert_sub(cache, sid, cfg->cd_index, VI_CFG_TAG_ANY,
                                    VI_CFG_TAG_ANY, &ce, gen);
        }
    }
    cfg->cd = ce.cd;
    cfg->s1w = ce.s1w;
    cfg->s1_translate = true;
    return ok(fault);
}

int vi_smmu_cfg_lookup(const vi_mem *mem, vi_smmu_cd_mem_fn cd_mem_fn, void *opaque,
                       const vi_smmu_caps *caps,
                       uint64_t strtab_base, uint32_t strtab_cfg,
                       uint32_t sid, bool ssv, uint32_t ssid,
                       vi_smmu_cfg *cfg, vi_smmu_cfg_fault *fault)
{
    return vi_smmu_cfg_lookup_cached(mem, cd_mem_fn, opaque, NULL, caps, strtab_base,
                                     strtab_cfg, sid, ssv, ssid, cfg, fault);
}

/* ------------------------------------------------------------------------
 * Conversion to the walker's configuration
 */

void vi_smmu_cd_to_armv8(const vi_smmu_caps *caps, const vi_smmu_cd *cd,
                         vi_armv8_s1_cfg *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 2; i++) {
        out->tt[i].ttb = cd->tt[i].ttb;
        out->tt[i].tsz = (uint8_t)cd->tt[i].tsz;
        out->tt[i].granule = cd->tt[i].granule_shift == 16 ? VI_ARMV8_64K :
                             cd->tt[i].granule_shift == 14 ? VI_ARMV8_16K : VI_ARMV8_4K;
        out->tt[i].epd = cd->tt[i].epd;
        out->tt[i].tbi = cd->tt[i].tbi;
        out->tt[i].hpd = cd->tt[i].had;
    }
    out->oas = (uint8_t)cd->oas;
    out->ha = cd->ha;
    out->hd = cd->hd;
    out->affd = cd->affd;
    out->wxn = cd->wxn;
    out->pan = cd->pan && !cd->one_el;    /* no EL0 in a one-level regime */
    out->one_el = cd->one_el;
    out->lva = caps->vax52;
    out->ttst = caps->ttst;
}

void vi_smmu_ste_to_armv8_s2(const vi_smmu_caps *caps, const vi_smmu_ste *ste,
                             vi_armv8_s2_cfg *out)
{
    const vi_smmu_s2_cfg *s2 = &ste->s2;

    memset(out, 0, sizeof(*out));
    out->ttb = s2->ttb;
    out->tsz = (uint8_t)s2->tsz;
    out->sl0 = (uint8_t)s2->sl0;
    out->granule = s2->granule_shift == 16 ? VI_ARMV8_64K :
                   s2->granule_shift == 14 ? VI_ARMV8_16K : VI_ARMV8_4K;
    out->oas = (uint8_t)s2->oas;
    out->ha = s2->ha;
    out->hd = s2->hd;
    out->affd = s2->affd;
    out->xnx = caps->xnx;
    out->ttst = caps->ttst;
}

const char *vi_smmu_event_name(unsigned event)
{
    switch (event) {
    case VI_SMMU_EVT_NONE: return "none";
    case VI_SMMU_EVT_F_UUT: return "F_UUT";
    case VI_SMMU_EVT_C_BAD_STREAMID: return "C_BAD_STREAMID";
    case VI_SMMU_EVT_F_STE_FETCH: return "F_STE_FETCH";
    case VI_SMMU_EVT_C_BAD_STE: return "C_BAD_STE";
    case VI_SMMU_EVT_F_BAD_ATS_TREQ: return "F_BAD_ATS_TREQ";
    case VI_SMMU_EVT_F_STREAM_DISABLED: return "F_STREAM_DISABLED";
    case VI_SMMU_EVT_F_TRANSL_FORBIDDEN: return "F_TRANSL_FORBIDDEN";
    case VI_SMMU_EVT_C_BAD_SUBSTREAMID: return "C_BAD_SUBSTREAMID";
    case VI_SMMU_EVT_F_CD_FETCH: return "F_CD_FETCH";
    case VI_SMMU_EVT_C_BAD_CD: return "C_BAD_CD";
    case VI_SMMU_EVT_F_WALK_EABT: return "F_WALK_EABT";
    case VI_SMMU_EVT_F_TRANSLATION: return "F_TRANSLATION";
    case VI_SMMU_EVT_F_ADDR_SIZE: return "F_ADDR_SIZE";
    case VI_SMMU_EVT_F_ACCESS: return "F_ACCESS";
    case VI_SMMU_EVT_F_PERMISSION: return "F_PERMISSION";
    case VI_SMMU_EVT_F_TLB_CONFLICT: return "F_TLB_CONFLICT";
    case VI_SMMU_EVT_F_CFG_CONFLICT: return "F_CFG_CONFLICT";
    case VI_SMMU_EVT_E_PAGE_REQUEST: return "E_PAGE_REQUEST";
    case VI_SMMU_EVT_F_VMS_FETCH: return "F_VMS_FETCH";
    default: return "unknown";
    }
}
