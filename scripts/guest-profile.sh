#!/usr/bin/env bash
# Where guest I/O time goes: run the guest bench (tests/guest/viommu-guest-bench.c,
# 256 MiB of 64 KiB O_DIRECT virtio-blk reads, 5 runs) without an IOMMU and
# through one vIOMMU configuration, sample the QEMU process with perf, and split
# the CPU time of the bench window into: the guest's IOMMU / DMA-API driver
# code, the guest's interrupt handling, the rest of the guest, the vIOMMU
# model's own code (QEMU side) and QEMU's other work.
#
#   scripts/guest-profile.sh [--viommu NAME] [--append KERNEL-ARGS]
#
# NAME is a configuration of scripts/guest-test.sh (default viommu-smmuv3);
# KERNEL-ARGS go to both guests (e.g. iommu.strict=0).  Needs perf (package
# linux-perf, installed by scripts/install-deps.sh) and the guest kernel's
# System.map in the build cache.  How it attributes TCG time: QEMU runs with
# -perfmap, which names each translated block by its guest PC; perf samples
# with DWARF call chains, and a sample counts for the guest function whose
# translated code is the innermost guest frame of its chain (a QEMU helper
# called from guest code, an MMIO handler for example, counts for that guest
# function).  Samples are CPU time, not wall time: per run of 4096 I/Os.
set -euo pipefail
. "$(dirname "$0")/common.sh"

viommu=viommu-smmuv3 extra=""
while [ $# -gt 0 ]; do
    case "$1" in
        --viommu) viommu=${2:?--viommu needs a name}; shift 2 ;;
        --append) extra=${2:?--append needs kernel arguments}; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
command -v perf >/dev/null || die "perf is not installed (scripts/install-deps.sh installs linux-perf)"
line=$("$VIOMMU_TOP/scripts/guest-test.sh" --list-raw | awk -F'|' -v n="$viommu" '$1 == n' | head -n 1)
[ -n "$line" ] || die "no configuration $viommu (scripts/guest-test.sh --list)"
IFS='|' read -r _ arch machine device _ <<<"$line"
case $arch in arm64) qemu=qemu-system-aarch64 ;; x86_64) qemu=qemu-system-x86_64 ;; esac
smap=$VIOMMU_CACHE/build/guest-kernel-$arch/System.map
[ -f "$smap" ] || die "no $smap: build the guest kernel first (make)"
work=$VIOMMU_CACHE/guest/profile
mkdir -p "$work"

profile_one() { # tag device-opts
    local tag=$1 dev=$2 pid="" i
    VIOMMU_GUEST_APPEND="$extra viommu.bench=blk" "$VIOMMU_TOP/scripts/guest-test.sh" \
        --config "profile-$tag|$arch|$machine -perfmap|$dev" --run-guest /usr/bin/viommu-guest-bench \
        --disk-mib 256 --timeout 900 > "$work/$tag.log" 2>&1 &
    local runner=$!
    for i in $(seq 1 600); do
        pid=$(pgrep -f "^$VIOMMU_CACHE/build/qemu/$qemu .*-perfmap" | head -n 1) && break
        sleep 0.1
    done
    [ -n "$pid" ] || die "the $tag guest did not start (see $work/$tag.log)"
    perf record -q -F 299 --call-graph dwarf,4096 -p "$pid" -o "$work/$tag.data" >/dev/null 2>&1 || true
    wait "$runner" || die "the $tag guest failed (see $work/$tag.log)"
    perf script -i "$work/$tag.data" -F tid,time,ip,sym 2>/dev/null > "$work/$tag.txt"
    rm -f "/tmp/perf-$pid.map"
}

note "profiling no-iommu and $viommu ($arch${extra:+, $extra}); about 2 minutes"
profile_one none ""
profile_one viommu "$device"
python3 "$VIOMMU_TOP/scripts/guest-profile.py" "$smap" "$work/none" "$work/viommu" "$viommu"
