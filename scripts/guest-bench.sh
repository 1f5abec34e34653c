#!/usr/bin/env bash
# Guest I/O through the vIOMMU: a virtio-blk disk (iommu_platform=on) read with
# 256 MiB of 64 KiB O_DIRECT reads in the guest (median of 5 runs, by
# tests/guest/viommu-guest-bench.c), for no IOMMU and every vIOMMU configuration
# of scripts/guest-test.sh, per architecture, in the same QEMU binary.
#
#   scripts/guest-bench.sh [--arch arm64|x86_64]... [--viommu NAME]...
#
# Prints one line per configuration: seconds, MiB/s and the ratio of its
# throughput to no-IOMMU on the same architecture; exits non-zero if a run failed.
set -uo pipefail
. "$(dirname "$0")/common.sh"

# Baselines without an IOMMU, and bench-only variants (not in the test matrix).
BASELINES=(
    "no-iommu|arm64|-M virt,gic-version=3 -cpu max|"
    "no-iommu|x86_64|-M q35,kernel-irqchip=split|"
)
EXTRA=(
    "upstream-intel-iommu-legacy|x86_64|-M q35,kernel-irqchip=split|-device intel-iommu,intremap=on"
)

archs=() want=()
while [ $# -gt 0 ]; do
    case "$1" in
        --arch)   archs+=("${2:?--arch needs arm64 or x86_64}"); shift 2 ;;
        --viommu) want+=("${2:?--viommu needs a name}"); shift 2 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
[ ${#archs[@]} -gt 0 ] || archs=(arm64 x86_64)

mapfile -t table < <("$VIOMMU_TOP/scripts/guest-test.sh" --list-raw)
table+=("${EXTRA[@]}")
failed=0
logdir=$VIOMMU_CACHE/guest/logs
mkdir -p "$logdir"

bench_one() { # config-line -> prints "seconds mib_s domain" or nothing
    local out
    out=$("$VIOMMU_TOP/scripts/guest-test.sh" --config "$1" --run-guest /usr/bin/viommu-guest-bench \
          --disk-mib 256 --timeout 900 2>&1)
    echo "$out" > "$logdir/bench-${1%%|*}-$(cut -d'|' -f2 <<<"$1").out"
    awk '/^VIOMMU-BENCH: domain / { d = $3 } /^VIOMMU-BENCH: median / { m = $3; r = $4 }
         END { if (m != "") print m, r, d }' <<<"$out"
}

printf '%-8s %-30s %-8s %10s %10s %8s  %s\n' arch configuration domain seconds MiB/s ratio goal
for arch in "${archs[@]}"; do
    base=""
    for c in "${BASELINES[@]}" "${table[@]}"; do
        IFS='|' read -r name carch _ _ <<<"$c"
        [ "$carch" = "$arch" ] || continue
        if [ ${#want[@]} -gt 0 ] && [ "$name" != no-iommu ]; then
            printf '%s\n' "${want[@]}" | grep -qx "$name" || continue
        fi
        read -r secs rate dom < <(bench_one "$c")
        if [ -z "${secs:-}" ]; then
            printf '%-8s %-30s %s\n' "$arch" "$name" "FAILED (see $logdir/bench-$name-$arch.out)"
            failed=1
            continue
        fi
        [ "$name" = no-iommu ] && base=$secs
        ratio=$(awk -v b="$base" -v s="$secs" 'BEGIN { if (b == "") print "-"; else printf "%.2fx", b / s }')
        # Issue 14's goals for our vIOMMUs: >= 0.9x no-IOMMU strict, >= 0.95x lazy (DMA-FQ).
        goal=""
        case "$name:$dom" in
            viommu-*:DMA)    goal=0.90 ;;
            viommu-*:DMA-FQ) goal=0.95 ;;
        esac
        verdict=$(awk -v b="$base" -v s="$secs" -v g="$goal" 'BEGIN {
            if (g == "" || b == "") exit
            printf "goal %.2fx: %s", g, (b / s >= g ? "met" : "not met (docs/performance.rst)") }')
        printf '%-8s %-30s %-8s %10s %10s %8s  %s\n' "$arch" "$name" "$dom" "$secs" "$rate" "$ratio" "$verdict"
    done
done
exit $failed
