#!/usr/bin/env bash
# make demo: the test device doing DMA through an IOMMU, narrated, on both machines.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$QEMU_BUILD"
for arch in x86_64 aarch64; do
    echo
    QTEST_QEMU_BINARY=./qemu-system-$arch tests/qtest/viommu/viommu-demo
done
