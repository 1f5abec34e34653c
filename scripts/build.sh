#!/usr/bin/env bash
# Build our part of QEMU (both system emulators, our qtests) and the translation core.
set -euo pipefail
. "$(dirname "$0")/common.sh"

QEMU_TARGETS=(qemu-system-aarch64 qemu-system-x86_64
              tests/qtest/viommu/viommu-testdev-test
              tests/qtest/viommu/viommu-vtd-test
              tests/qtest/viommu/viommu-smmuv3-test
              tests/qtest/viommu/viommu-smmuv3-replace-test
              tests/qtest/viommu/viommu-smmuv3-hostile-test
              tests/qtest/viommu/viommu-smmuv3-lts-test
              tests/qtest/viommu/viommu-smmuv3-spec-test
              tests/qtest/viommu/viommu-smmuv3-config-test
              tests/qtest/viommu/viommu-vtd-config-test
              tests/qtest/viommu/viommu-vtd-prq-test
              tests/qtest/viommu/viommu-quiesce-test
              tests/qtest/viommu/viommu-smmuv3-virt-test
              tests/qtest/viommu/viommu-smmuv3-perf-test
              tests/qtest/viommu/viommu-smmuv3-ats-test
              tests/qtest/viommu/viommu-smmuv3-stall-test
              tests/qtest/viommu/viommu-vtd-ats-test)
start=$(date +%s)
need_space "$VIOMMU_CACHE" 1000
# One build at a time per cache: concurrent ninja runs in one tree corrupt its logs.
exec 9>"$VIOMMU_CACHE/.build.lock"
flock 9
note "building QEMU with qemu-viommu in $QEMU_BUILD"
if ! ninja -C "$QEMU_BUILD" "${QEMU_TARGETS[@]}" >"$VIOMMU_CACHE/build-qemu.log" 2>&1; then
    grep -E "FAILED:|error:" "$VIOMMU_CACHE/build-qemu.log" | head -n 20 >&2
    die "QEMU build failed: the full log is $VIOMMU_CACHE/build-qemu.log"
fi
note "building the translation core in $CORE_BUILD"
if ! ninja -C "$CORE_BUILD" >"$VIOMMU_CACHE/build-core.log" 2>&1; then
    grep -E "FAILED:|error:" "$VIOMMU_CACHE/build-core.log" | head -n 20 >&2
    die "core build failed: the full log is $VIOMMU_CACHE/build-core.log"
fi
end=$(date +%s)
hits=$(ccache -s 2>/dev/null | awk -F: '/Hits:/ {gsub(/^ +/, "", $2); print $2; exit}')
echo "build: done in $((end - start)) s (ccache hits: ${hits:-n/a})"
