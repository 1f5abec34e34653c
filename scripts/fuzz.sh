#!/usr/bin/env bash
# Build the libFuzzer targets with clang and run them: "short" (in make check) or "long".
set -euo pipefail
. "$(dirname "$0")/common.sh"
mode=${1:-short}
FUZZ_BUILD=$VIOMMU_CACHE/build/fuzz
case "$mode" in
    short) secs=${VIOMMU_FUZZ_SECONDS:-20} ;;
    long)  secs=${VIOMMU_FUZZ_SECONDS:-1800} ;;
    *) die "usage: fuzz.sh [short|long]" ;;
esac
if [ "$(cat "$FUZZ_BUILD/.viommu-top" 2>/dev/null)" != "$VIOMMU_TOP" ]; then
    rm -rf "$FUZZ_BUILD"
fi
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
    CC=clang meson setup "$FUZZ_BUILD" "$VIOMMU_TOP" -Dfuzz=true --buildtype=debugoptimized \
        >"$VIOMMU_CACHE/fuzz-configure.log" 2>&1 ||
        die "meson setup of the fuzzers failed: see $VIOMMU_CACHE/fuzz-configure.log"
    echo "$VIOMMU_TOP" >"$FUZZ_BUILD/.viommu-top"
fi
ninja -C "$FUZZ_BUILD" >"$VIOMMU_CACHE/build-fuzz.log" 2>&1 ||
    die "fuzzer build failed: see $VIOMMU_CACHE/build-fuzz.log"
rc=0
for f in "$FUZZ_BUILD"/tests/fuzz/fuzz-*; do
    [ -x "$f" ] || continue
    corpus=$VIOMMU_CACHE/fuzz-corpus/$(basename "$f")
    mkdir -p "$corpus"
    note "$(basename "$f"): ${secs} s"
    "$f" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
        >"$VIOMMU_CACHE/$(basename "$f").log" 2>&1 || { rc=1; tail -n 30 "$VIOMMU_CACHE/$(basename "$f").log"; }
done
exit $rc
