#!/usr/bin/env bash
# make bench: print the project's performance figures (nothing here is a pass/fail test).
#  - the translation core: per walker, IOTLB hit / walk miss / nested miss (ns, reads)
#  - viommu-smmuv3: test-device DMA bandwidth, 1 MiB copies, no IOMMU vs ours vs upstream
set -euo pipefail
. "$(dirname "$0")/common.sh"
for b in "$CORE_BUILD"/tests/bench/bench-*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    note "$(basename "$b")"
    "$b"
done
note "DMA bandwidth through viommu-smmuv3 (qtest, 1 MiB copies)"
cd "$QEMU_BUILD"
QTEST_QEMU_BINARY=./qemu-system-aarch64 tests/qtest/viommu/viommu-smmuv3-perf-test \
    -p /aarch64/viommu-smmuv3/perf/dma-1m 2>&1 | sed -n 's/^# \(.*MiB\/s.*\|ours.*\)$/\1/p'
note "guest: virtio-blk O_DIRECT reads through the vIOMMUs (DMA API)"
"$VIOMMU_TOP/scripts/guest-bench.sh"
