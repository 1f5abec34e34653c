#!/usr/bin/env python3
"""Seed inputs for the device-level fuzzers (QEMU's generic-fuzz, scripts/fuzz.sh).

generic-fuzz reads an input as operations separated by "FUZZ": byte 0 is the
opcode (modulo 10), the rest its operands, in the layout of the structs of
QEMU 10.0's tests/qtest/fuzz/generic_fuzz.c (natural C alignment):

  OP_WRITE            u8 size (0..3: 1/2/4/8 bytes), u8 region, pad[2], u32 offset, u64 value
  OP_READ             u8 size, u8 region, pad[2], u32 offset
  OP_PCI_WRITE        u8 size (0..2), u8 device, u8 offset, pad, u32 value  (0xcf8/0xcfc)
  OP_ADD_DMA_PATTERN  u8 index, u8 stride, pattern bytes
  OP_CLEAR_DMA_PATTERNS

"region" is the index, in address order, of the fuzzable MMIO regions mapped
at that moment (QEMU_FUZZ_OBJECTS).  Guest memory is never written directly:
the fuzzer fills what a device reads by DMA with its patterns.  So each seed
builds its tables by having viommu-testdev copy a pattern (the table's exact
bytes) from a scratch page to the table, with the IOMMU still off (SMMUv3:
GBPA bypass; VT-d: TE=0), clears the patterns so the IOMMU then reads what is
in memory, enables the IOMMU and its queue with invalidation commands, and
runs DMA through the translation, mapped and unmapped.  From there the fuzzer
mutates register values, commands and table contents (any pattern it adds
overwrites what the IOMMU reads next).

Each seed's DMA through the translation is IOVA_SRC -> IOVA_DST; scripts/fuzz.sh
smoke checks with trace points that every seed reaches it and translates to
the expected address.

Usage: seeds.py OUTDIR TARGET   (TARGET: smmuv3, vtd, vtd-legacy)
"""
import os
import struct
import sys

OP_READ, OP_WRITE, OP_PCI_WRITE = 2, 3, 5
OP_ADD_DMA_PATTERN, OP_CLEAR_DMA_PATTERNS, OP_CLOCK_STEP = 7, 8, 9
SEP = b"FUZZ"
SIZES = {1: 0, 2: 1, 4: 2, 8: 3}

# viommu-testdev registers (include/hw/viommu/testdev-regs.h).
TD_SRC_LO, TD_SRC_HI, TD_DST_LO, TD_DST_HI = 0x10, 0x14, 0x18, 0x1c
TD_LEN, TD_OP, TD_CMD, TD_STATUS, TD_ERROR = 0x20, 0x24, 0x40, 0x44, 0x48
TD_OP_COPY, TD_CMD_GO = 0, 1
TD_DEVFN = 0x20                 # -device viommu-testdev,addr=04.0

IOVA_SRC, IOVA_DST = 0x80000000, 0x80001000


def q(*words):
    return b"".join(struct.pack("<Q", w & (2**64 - 1)) for w in words)


class Seed:
    def __init__(self, regions):
        self.ops = []
        self.regions = regions          # name -> index, updated as BARs map

    def op(self, code, payload=b""):
        data = bytes([code]) + payload
        if SEP in data:
            raise ValueError("operation contains the separator: %r" % data)
        self.ops.append(data)

    def write(self, region, off, val, size=4):
        self.op(OP_WRITE, struct.pack("<BBxxIQ", SIZES[size], self.regions[region], off, val))

    def read(self, region, off, size=4):
        self.op(OP_READ, struct.pack("<BBxxI", SIZES[size], self.regions[region], off))

    def pci_write(self, off, val, size=4, dev=0):
        self.op(OP_PCI_WRITE, struct.pack("<BBBxI", SIZES[size], dev, off, val))

    def step(self):
        self.op(OP_CLOCK_STEP)

    # viommu-testdev
    def td(self, reg, val):
        self.write("td", reg, val)

    def td_dma(self, src, dst, length):
        self.td(TD_SRC_LO, src & 0xffffffff)
        self.td(TD_SRC_HI, src >> 32)
        self.td(TD_DST_LO, dst & 0xffffffff)
        self.td(TD_DST_HI, dst >> 32)
        self.td(TD_LEN, length)
        self.td(TD_OP, TD_OP_COPY)
        self.td(TD_CMD, TD_CMD_GO)      # the engine runs in a bottom half: done here
        self.read("td", TD_STATUS)
        self.read("td", TD_ERROR)

    def mem(self, addr, data, scratch):
        """Guest memory at addr := data, copied by the test device (IOMMU off)."""
        self.op(OP_CLEAR_DMA_PATTERNS)
        self.op(OP_ADD_DMA_PATTERN, bytes([0, 0]) + data)
        self.td_dma(scratch, addr, len(data))
        self.op(OP_CLEAR_DMA_PATTERNS)

    def bytes(self):
        return SEP.join(self.ops)


# ---------------------------------------------------------------------------
# viommu-smmuv3 on virt (include/hw/viommu/smmuv3-regs.h, IHI 0070)
#
# Fuzzable regions in address order: the SMMU (0x09050000), then, once the
# seed has programmed and enabled the test device's BARs through ECAM, BAR 0
# (registers), BAR 1 (MSI-X table, PBA), then the ECAM window.
A_CR0, A_CR1, A_CR2, A_GBPA, A_IRQ_CTRL, A_GERRORN = 0x20, 0x28, 0x2c, 0x44, 0x50, 0x64
A_STRTAB_BASE, A_STRTAB_BASE_CFG = 0x80, 0x88
A_CMDQ_BASE, A_CMDQ_PROD, A_CMDQ_CONS = 0x90, 0x98, 0x9c
A_EVENTQ_BASE, A_EVENTQ_PROD, A_EVENTQ_CONS = 0xa0, 0x100a8, 0x100ac
A_PRIQ_BASE, A_PRIQ_PROD, A_PRIQ_CONS = 0xc0, 0x100c8, 0x100cc
CR0_SMMUEN, CR0_PRIQEN, CR0_EVENTQEN, CR0_CMDQEN = 1, 2, 4, 8
RA = 1 << 62
STE_CFG_BYPASS, STE_CFG_S1, STE_CFG_S2, STE_CFG_NESTED = 4, 5, 6, 7
CMD_CFGI_STE, CMD_CFGI_STE_RANGE, CMD_CFGI_CD, CMD_CFGI_CD_ALL = 0x03, 0x04, 0x05, 0x06
CMD_TLBI_NH_ALL, CMD_TLBI_NH_ASID, CMD_TLBI_NH_VA = 0x10, 0x11, 0x12
CMD_TLBI_S12_VMALL, CMD_TLBI_S2_IPA, CMD_TLBI_NSNH_ALL = 0x28, 0x2a, 0x30
CMD_PREFETCH_CONFIG, CMD_ATC_INV, CMD_PRI_RESP, CMD_SYNC = 0x01, 0x40, 0x41, 0x46
CMD_RESUME, CMD_STALL_TERM, RESUME_RETRY = 0x44, 0x45, 1 << 12
CD0_S = 1 << 44                 # stage-1 faults stall (the target runs stall=on)

ARM_RAM = 0x40000000
S_STRTAB, S_L1STRTAB = 0x40100000, 0x40108000
S_CMDQ, S_EVTQ, S_PRIQ, S_CD = 0x40110000, 0x40120000, 0x40128000, 0x40130000
S_S1PT, S_S2PT, S_SCRATCH, S_SYNC = 0x40140000, 0x40150000, 0x40300000, 0x40310000
S_SRC, S_DST = 0x40200000, 0x40201000
CMDQ_LOG2, EVTQ_LOG2 = 4, 4
ECAM_TD = TD_DEVFN << 12        # bus 0


def arm_pci_setup(s):
    """What firmware does: BAR 0 / BAR 1 in the 32-bit window, memory + bus master."""
    s.write("ecam", ECAM_TD + 0x10, 0x10000000)
    s.write("ecam", ECAM_TD + 0x14, 0x10001000)
    s.write("ecam", ECAM_TD + 0x04, 0x0006, 2)
    s.regions.update({"td": 1, "msix": 2, "ecam": 4})


def s1_leaf(pa, write=True):
    # Page, SH inner, AF, AP EL0 (RW or RO), nG; AttrIndx 0.
    return pa | 3 | (3 << 8) | (1 << 10) | (1 << 6) | (0 if write else 1 << 7) | (1 << 11)


def s2_leaf(pa, block=False):
    # MemAttr normal WB, S2AP RW, SH inner, AF.
    return pa | (1 if block else 3) | (0xf << 2) | (3 << 6) | (3 << 8) | (1 << 10)


def s1_tables(s, base, leaves):
    """4K granule, 48-bit, levels 0-3 at base + level * 4K; leaves: (iova, pte)."""
    for lvl in range(3):
        sh = 39 - 9 * lvl
        idx = set((iova >> sh) & 511 for iova, _ in leaves)
        for i in idx:
            s.mem(base + lvl * 0x1000 + i * 8, q((base + (lvl + 1) * 0x1000) | 3), S_SCRATCH)
    for iova, pte in leaves:
        s.mem(base + 3 * 0x1000 + ((iova >> 12) & 511) * 8, q(pte), S_SCRATCH)


def s2_tables(s, base, leaves):
    """4K granule, 39-bit IPA, start level 1 (SL0 = 1): levels 1-3."""
    for lvl in (1, 2):
        sh = 39 - 9 * lvl
        for i in set((ipa >> sh) & 511 for ipa, _ in leaves):
            s.mem(base + (lvl - 1) * 0x1000 + i * 8, q((base + lvl * 0x1000) | 3), S_SCRATCH)
    for ipa, pte in leaves:
        s.mem(base + 2 * 0x1000 + ((ipa >> 12) & 511) * 8, q(pte), S_SCRATCH)


def ste_s1(cdptr, cdmax=0, s1fmt=0, s1dss=0):
    w0 = 1 | (STE_CFG_S1 << 1) | (s1fmt << 4) | cdptr | (cdmax << 59)
    w1 = s1dss | (1 << 2) | (1 << 4) | (3 << 6)
    return [w0, w1, 0, 0, 0, 0, 0, 0]


def ste_add_s2(ste, root, vmid=1, t0sz=25, sl0=1):
    cfg = (ste[0] >> 1) & 7
    ste[0] = (ste[0] & ~0xe) | 1 | ((STE_CFG_NESTED if cfg == STE_CFG_S1 else STE_CFG_S2) << 1)
    ste[2] = (vmid | (t0sz << 32) | (sl0 << 38) | (1 << 40) | (1 << 42) | (3 << 44) |
              (5 << 48) | (1 << 51) | (1 << 58))
    ste[3] = root
    return ste


def cd_s1(ttb0, asid=1, stall=False):
    w0 = (16 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 30) | (1 << 31) | (5 << 32) |
          (1 << 41) | (1 << 45) | (1 << 46) | (asid << 48) | (CD0_S if stall else 0))
    return [w0, ttb0, 0, 0xff, 0, 0, 0, 0]


def sync_cmd(msi_addr):
    # CS = SIG_IRQ with an MSI of 0 to msi_addr (as Linux does for its SYNC entry).
    return (CMD_SYNC | (1 << 12) | (3 << 22) | (0xf << 24), msi_addr)


def smmu_enable(s, cmds, kick, st_2lvl=False, priq=False):
    """Commands into the queue, the reset sequence of a driver, PROD past kick of them."""
    for i, (w0, w1) in enumerate(cmds):
        s.mem(S_CMDQ + 16 * i, q(w0, w1), S_SCRATCH)
    s.write("smmu", A_CR0, 0)
    s.write("smmu", A_CR1, 0xd75)
    s.write("smmu", A_CR2, (1 << 1) | (1 << 2))
    if st_2lvl:
        s.write("smmu", A_STRTAB_BASE, S_L1STRTAB | RA, 8)
        s.write("smmu", A_STRTAB_BASE_CFG, (1 << 16) | (8 << 6) | 16)
    else:
        s.write("smmu", A_STRTAB_BASE, S_STRTAB | RA, 8)
        s.write("smmu", A_STRTAB_BASE_CFG, 8)
    s.write("smmu", A_CMDQ_BASE, S_CMDQ | RA | CMDQ_LOG2, 8)
    s.write("smmu", A_CMDQ_PROD, 0)
    s.write("smmu", A_CMDQ_CONS, 0)
    s.write("smmu", A_EVENTQ_BASE, S_EVTQ | RA | EVTQ_LOG2, 8)
    s.write("smmu", A_EVENTQ_PROD, 0)
    s.write("smmu", A_EVENTQ_CONS, 0)
    cr0 = CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN
    if priq:
        s.write("smmu", A_PRIQ_BASE, S_PRIQ | RA | 4, 8)
        s.write("smmu", A_PRIQ_PROD, 0)
        s.write("smmu", A_PRIQ_CONS, 0)
        cr0 |= CR0_PRIQEN
    s.write("smmu", A_IRQ_CTRL, 0x7)
    s.write("smmu", A_CR0, cr0)
    s.write("smmu", A_CMDQ_PROD, kick)
    s.read("smmu", A_CMDQ_CONS)


def smmu_seed(kind):
    s = Seed({"smmu": 0, "ecam": 1})
    arm_pci_setup(s)
    sid = TD_DEVFN
    leaves = [(IOVA_SRC, s1_leaf(S_SRC, write=False)), (IOVA_DST, s1_leaf(S_DST))]
    st_2lvl = kind == "s1-2lvl"
    ste_addr = S_STRTAB + sid * 64
    if st_2lvl:
        # L1 descriptor for SIDs 0-255: Span 9, the L2 table at S_STRTAB.
        s.mem(S_L1STRTAB, q(S_STRTAB | 9), S_SCRATCH)
    if kind in ("s1", "s1-2lvl", "nested", "s1-ssid", "stall"):
        s1_tables(s, S_S1PT, leaves)
        if kind == "s1-ssid":
            # Two-entry linear CD table, SubstreamID 1 used by PASID-tagged DMA too.
            s.mem(S_CD, q(*cd_s1(S_S1PT)), S_SCRATCH)
            s.mem(S_CD + 64, q(*cd_s1(S_S1PT, asid=2)), S_SCRATCH)
            ste = ste_s1(S_CD, cdmax=1, s1dss=2)
        else:
            # "stall": CD.S, so the unmapped DMA below is held (IHI 0070 3.12.2).
            s.mem(S_CD, q(*cd_s1(S_S1PT, stall=kind == "stall")), S_SCRATCH)
            ste = ste_s1(S_CD)
        if kind == "nested":
            # Stage 2: IPA 0x40000000-0x7fffffff identity in one 1 GiB block.
            s.mem(S_S2PT + 1 * 8, q(s2_leaf(ARM_RAM, block=True)), S_SCRATCH)
            ste_add_s2(ste, S_S2PT)
    elif kind == "s2":
        s2_tables(s, S_S2PT, [(IOVA_SRC, s2_leaf(S_SRC)), (IOVA_DST, s2_leaf(S_DST))])
        ste = ste_add_s2([0] * 8, S_S2PT)
    elif kind == "bypass":
        ste = [1 | (STE_CFG_BYPASS << 1), 0, 0, 0, 0, 0, 0, 0]
    s.mem(ste_addr, q(*ste), S_SCRATCH)
    cmds = [(CMD_CFGI_STE_RANGE, 31), (CMD_TLBI_NSNH_ALL, 0), sync_cmd(S_SYNC)]
    # Run-time commands, queued behind PROD until the second kick below.
    later = [(CMD_CFGI_STE | (sid << 32), 1), (CMD_CFGI_CD | (sid << 32), 1),
             (CMD_TLBI_NH_VA | (1 << 48), IOVA_SRC | 1), (CMD_TLBI_S2_IPA | (1 << 32), IOVA_SRC),
             (CMD_TLBI_NH_ASID | (1 << 48), 0), (CMD_PREFETCH_CONFIG | (sid << 32), 0),
             (CMD_ATC_INV | (sid << 32), 0x3f), sync_cmd(S_SYNC)]
    if kind == "stall":
        # The held DMA's STAG is the first one (0): Retry it, then terminate what is held.
        later[-1:-1] = [(CMD_RESUME | RESUME_RETRY | (sid << 32), 0),
                        (CMD_STALL_TERM | (sid << 32), 0)]
    smmu_enable(s, cmds + later, len(cmds), st_2lvl=st_2lvl, priq=kind == "s1-ssid")
    if kind == "bypass":
        s.td_dma(S_SRC, S_DST, 0x100)
    else:
        s.td_dma(IOVA_SRC, IOVA_DST, 0x100)
        s.td_dma(IOVA_SRC, IOVA_DST + 0x100000, 0x10)     # unmapped: an event record
        s.read("smmu", A_EVENTQ_PROD)
    s.write("smmu", A_CMDQ_PROD, len(cmds) + len(later))
    s.read("smmu", A_CMDQ_CONS)
    s.td_dma(IOVA_SRC, IOVA_DST, 0x40)
    s.write("smmu", A_GERRORN, 0)
    return s


# ---------------------------------------------------------------------------
# viommu-vtd on q35 (include/hw/viommu/vtd-regs.h, VT-d spec rev 4)
#
# generic-fuzz maps the test device's BARs itself (0xcf8 config cycles):
# regions in address order are BAR 0 at 0xe0000000, the MSI-X table and PBA
# of BAR 1, then the remapping unit at 0xfed90000.
V_GCMD, V_GSTS, V_RTADDR, V_FSTS, V_FECTL = 0x18, 0x1c, 0x20, 0x34, 0x38
V_IQT, V_IQA, V_IRTA = 0x88, 0x90, 0xb8
GCMD_TE, GCMD_SRTP, GCMD_QIE, GCMD_IRE, GCMD_SIRTP = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24
RTADDR_SMT, IQA_DW = 1 << 10, 1 << 11
INV_CC, INV_IOTLB, INV_IEC, INV_WAIT, INV_PIOTLB, INV_PC = 1, 2, 4, 5, 6, 7
PGTT_FS, PGTT_SS, PGTT_NEST, PGTT_PT = 1, 2, 3, 4

V_ROOT, V_CTX, V_PT, V_IQ, V_STATUS = 0x1000000, 0x1001000, 0x1002000, 0x1010000, 0x1011000
V_DIR, V_PTBL, V_SSPT, V_IRT = 0x1020000, 0x1021000, 0x1030000, 0x1040000
V_SCRATCH, V_SRC, V_DST = 0x1100000, 0x1200000, 0x1201000


def vtd_tables(s, base, leaves, table_bits, top=4):
    """x86-style 4-level tables at base + (top - level) * 4K; leaves: (iova, pte)."""
    for lvl in range(top, 1, -1):
        sh = 12 + 9 * (lvl - 1)
        for i in set((iova >> sh) & 511 for iova, _ in leaves):
            nxt = base + (top - lvl + 1) * 0x1000
            s.mem(base + (top - lvl) * 0x1000 + i * 8, q(nxt | table_bits), V_SCRATCH)
    for iova, pte in leaves:
        s.mem(base + (top - 1) * 0x1000 + ((iova >> 12) & 511) * 8, q(pte), V_SCRATCH)


def vtd_qi(s, descs, wide):
    size = 32 if wide else 16
    for i, d in enumerate(descs):
        s.mem(V_IQ + i * size, q(*(d + [0, 0])[:size // 8]), V_SCRATCH)


def wait_desc(seq):
    return [INV_WAIT | (1 << 5) | (1 << 6) | (seq << 32), V_STATUS]


def vtd_seed(kind):
    s = Seed({"td": 0, "msix": 1, "vtd": 3})
    scalable = kind != "legacy"
    sid = TD_DEVFN
    ss_leaves = [(IOVA_SRC, V_SRC | 3), (IOVA_DST, V_DST | 3)]
    fs_leaves = [(IOVA_SRC, V_SRC | 0x65), (IOVA_DST, V_DST | 0x67)]     # P (RW) US A D
    if not scalable:
        s.mem(V_ROOT, q(V_CTX | 1, 0), V_SCRATCH)
        vtd_tables(s, V_PT, ss_leaves, 3)
        s.mem(V_CTX + sid * 16, q(V_PT | 1, 2 | (1 << 8)), V_SCRATCH)   # TT 0, AW 48-bit, DID 1
    else:
        s.mem(V_ROOT, q(V_CTX | 1, 0), V_SCRATCH)                       # devfn < 0x80
        # PASID enabled, PDTS 0 (128 entries), RID_PASID 0.
        s.mem(V_CTX + sid * 32, q(V_DIR | (1 << 3) | 1, 0, 0, 0), V_SCRATCH)
        s.mem(V_DIR, q(V_PTBL | 1), V_SCRATCH)
        if kind == "fs":
            vtd_tables(s, V_PT, fs_leaves, 0x27)
            pe = [1 | (PGTT_FS << 6), 1, V_PT, 0, 0, 0, 0, 0]
        elif kind == "ss":
            vtd_tables(s, V_PT, ss_leaves, 3)
            pe = [1 | (2 << 2) | (PGTT_SS << 6) | V_PT, 1, 0, 0, 0, 0, 0, 0]
        elif kind == "nested":
            # Stage 1 over stage 2, the second stage identity for 0-1 GiB in a 1 GiB page.
            vtd_tables(s, V_PT, fs_leaves, 0x27)
            s.mem(V_SSPT, q((V_SSPT + 0x1000) | 3), V_SCRATCH)
            s.mem(V_SSPT + 0x1000, q(0 | (1 << 7) | 3), V_SCRATCH)
            pe = [1 | (2 << 2) | (PGTT_NEST << 6) | V_SSPT, 1, V_PT, 0, 0, 0, 0, 0]
        else:  # pass-through
            pe = [1 | (2 << 2) | (PGTT_PT << 6), 1, 0, 0, 0, 0, 0, 0]
        s.mem(V_PTBL, q(*pe), V_SCRATCH)
    # Interrupt remapping table: one entry (vector 0x30, APIC 0) for MSIs.
    s.mem(V_IRT, q(1 | (0x30 << 16), sid), V_SCRATCH)
    descs = [[INV_CC | (1 << 4), 0], [INV_IOTLB | (1 << 4), 0]]
    if scalable:
        descs += [[INV_PC | (3 << 4), 0], [INV_PIOTLB | (3 << 4) | (1 << 16), 0]]
    descs += [[INV_IEC, 0], wait_desc(1)]
    later = [[INV_CC | (3 << 4) | (1 << 16) | (sid << 32), 0],
             [INV_IOTLB | (3 << 4) | (1 << 16), IOVA_SRC],
             [INV_PIOTLB | (3 << 4) | (1 << 16), IOVA_SRC] if scalable else [INV_IOTLB | (2 << 4) | (1 << 16), 0],
             [INV_PC | (1 << 4) | (1 << 16), 0] if scalable else [INV_IEC | (1 << 4), 0],
             wait_desc(2)]
    vtd_qi(s, descs + later, scalable)
    dsz = 32 if scalable else 16
    s.write("vtd", V_RTADDR, V_ROOT | (RTADDR_SMT if scalable else 0), 8)
    s.write("vtd", V_GCMD, GCMD_SRTP)
    s.write("vtd", V_IQT, 0, 8)
    s.write("vtd", V_IQA, V_IQ | (IQA_DW if scalable else 0), 8)
    s.write("vtd", V_GCMD, GCMD_QIE)
    s.write("vtd", V_IRTA, V_IRT | 3, 8)
    s.write("vtd", V_GCMD, GCMD_QIE | GCMD_SIRTP)
    s.write("vtd", V_IQT, len(descs) * dsz, 8)
    s.read("vtd", V_FSTS)
    s.write("vtd", V_GCMD, GCMD_QIE | GCMD_IRE | GCMD_TE)
    src, dst = (V_SRC, V_DST) if kind == "pt" else (IOVA_SRC, IOVA_DST)
    s.td_dma(src, dst, 0x100)
    s.td_dma(IOVA_SRC, IOVA_DST + 0x100000, 0x10)     # unmapped: a fault record
    s.read("vtd", V_FSTS)
    s.write("vtd", V_IQT, (len(descs) + len(later)) * dsz, 8)
    s.td_dma(src, dst, 0x40)
    return s


SEEDS = {
    "smmuv3": {k: lambda k=k: smmu_seed(k)
               for k in ("s1", "s1-2lvl", "s1-ssid", "s2", "nested", "bypass", "stall")},
    "vtd": {k: lambda k=k: vtd_seed(k) for k in ("fs", "ss", "nested", "pt")},
    "vtd-legacy": {"legacy": lambda: vtd_seed("legacy")},
}

# The trace point, and a line of it, each seed must produce (fuzz.sh smoke):
# its DMA translated to the expected address (bypass: the STE decoded).
def expect(target, kind):
    if target == "smmuv3":
        if kind == "bypass":
            return "viommu_smmuv3_ste", "sid 0x%x config %d " % (TD_DEVFN, STE_CFG_BYPASS)
        if kind == "stall":
            return "viommu_smmuv3_stall_hold", "sid 0x%x held" % TD_DEVFN
        return "viommu_smmuv3_translate", "-> 0x%x " % S_SRC
    return "viommu_vtd_translate", "-> 0x%x .* ok 1" % V_SRC


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--expect":
        print(*expect(sys.argv[2], sys.argv[3]))
        return
    if len(sys.argv) != 3 or sys.argv[2] not in SEEDS:
        sys.exit("usage: seeds.py OUTDIR {%s} | seeds.py --expect TARGET" % ",".join(SEEDS))
    out, target = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, make in SEEDS[target].items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(make().bytes())


if __name__ == "__main__":
    main()
