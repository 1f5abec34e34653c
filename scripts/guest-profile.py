#!/usr/bin/env python3
# The analysis half of scripts/guest-profile.sh (see there):
#   guest-profile.py SYSTEM.MAP NONE-PREFIX VIOMMU-PREFIX NAME
# Each prefix names PREFIX.txt (perf script -F tid,time,ip,sym with call
# chains) and PREFIX.log (the guest's output with "VIOMMU-BENCH: blk run N SECONDS").
import bisect
import collections
import re
import sys

RATE = 299                 # perf -F: samples per second of a busy thread
# Guest functions of the IOMMU / DMA-API paths (Linux 7.x: arm-smmu-v3 with
# io-pgtable-arm, intel-iommu with generic_pt, dma-iommu, the IOVA allocator).
IOMMU = ('arm_lpae', 'iopte', 'arm_smmu', '__arm_smmu', 'queue_', 'iommu', '__iommu', 'iova',
         'alloc_iova', 'free_iova', 'fq_', 'dma_', '__dma', 'dev_dma', 'intel_', 'qi_', 'domain_',
         'cache_tag', 'pt_', '__pt_', 'x86_64_pt', 'vtdss_pt', 'dmar', 'pfn_to', '__map_range',
         '__unmap_range', 'make_range')
IRQ = ('gic_', 'handle_irq', 'handle_fasteoi', 'handle_edge', 'sysvec', 'asm_sysvec',
       'common_interrupt', 'apic_', 'x2apic', 'lapic', 'irq_', '__irq', 'generic_handle')
MODEL = ('vismmu_', 'vivtd_', 'viommu_', 'vi_')
CATS = ('guest IOMMU / DMA-API driver', 'guest interrupt handling', 'guest other',
        'vIOMMU model (QEMU)', 'QEMU other (devices, I/O, TCG runtime)')


def load_symbols(path):
    syms = []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 3 and p[1] in 'tTwW':
                syms.append((int(p[0], 16), p[2]))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def guest_function(addrs, names, frame):
    pc = int(frame[len('guest-0x'):], 16)
    if pc < 0xffff000000000000:
        return 'user space'
    i = bisect.bisect_right(addrs, pc) - 1
    return names[i] if i >= 0 else '?'


def samples(path):
    cur = None
    with open(path) as f:
        for line in f:
            if not line.strip():
                if cur:
                    yield cur
                cur = None
                continue
            p = line.split()
            if not line[0].isspace():
                cur = (p[0], float(p[1].rstrip(':')), [p[3]] if len(p) >= 4 else [])
            elif cur is not None and len(p) >= 2:
                cur[2].append(p[1])
    if cur:
        yield cur


def category(addrs, names, chain, top):
    for frame in chain:                     # innermost first
        if frame.startswith(MODEL):
            return CATS[3]
        if frame.startswith('guest-0x'):
            fn = guest_function(addrs, names, frame)
            top[fn] += 1
            if fn.startswith(IOMMU) or 'iommu' in fn:
                return CATS[0]
            if fn.startswith(IRQ):
                return CATS[1]
            return CATS[2]
    return CATS[4]


def profile(addrs, names, prefix):
    runs = [float(x) for x in re.findall(r'VIOMMU-BENCH: blk run \d+ ([0-9.]+)', open(prefix + '.log').read())]
    if not runs:
        sys.exit('%s.log: no bench runs (did the guest fail?)' % prefix)
    all_s = list(samples(prefix + '.txt'))
    end = max(t for _, t, _ in all_s) - 0.3          # the guest powers off ~0.3 s after
    start = end - sum(runs)
    cats, top = collections.Counter(), collections.Counter()
    for _, t, chain in all_s:
        if start <= t <= end:
            cats[category(addrs, names, chain, top)] += 1
    n = len(runs)
    return {k: cats[k] / RATE / n for k in CATS}, sum(runs) / n, top, n


def main():
    smap, none, viommu, name = sys.argv[1:5]
    addrs, names = load_symbols(smap)
    a, wa, _, na = profile(addrs, names, none)
    b, wb, top, nb = profile(addrs, names, viommu)
    gap = sum(b.values()) - sum(a.values())
    print('CPU seconds per run of 4096 x 64 KiB reads (%d and %d runs; wall %.2f s vs %.2f s, %.2fx)'
          % (na, nb, wa, wb, wa / wb))
    print('%-42s %10s %10s %10s %8s' % ('', 'no-iommu', name, 'delta', 'share'))
    for k in CATS:
        d = b[k] - a[k]
        print('%-42s %10.3f %10.3f %+10.3f %7.0f%%' % (k, a[k], b[k], d, 100 * d / gap if gap > 0 else 0))
    print('%-42s %10.3f %10.3f %+10.3f' % ('total', sum(a.values()), sum(b.values()), gap))
    print('per I/O: %+.1f us of CPU, of which the model %+.1f us' % (gap / 4096 * 1e6, (b[CATS[3]] - a[CATS[3]]) / 4096 * 1e6))
    print('busiest guest functions with %s: %s' % (name, ', '.join(
        '%s %.0f' % (k, v / RATE / nb / 4096 * 1e6) for k, v in top.most_common(10))) + ' (us per I/O)')


main()
