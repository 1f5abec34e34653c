#!/usr/bin/env bash
# The libFuzzer targets, built with clang in their own tree:
#   fuzz.sh build   configure and build them (make check runs their short meson tests)
#   fuzz.sh long    make fuzz: run each target for VIOMMU_FUZZ_SECONDS (default 1800) on a
#                   corpus kept in $VIOMMU_CACHE/fuzz-corpus
set -euo pipefail
. "$(dirname "$0")/common.sh"
mode=${1:-long}
FUZZ_BUILD=$VIOMMU_CACHE/build/fuzz

if [ "$(cat "$FUZZ_BUILD/.viommu-top" 2>/dev/null)" != "$VIOMMU_TOP" ]; then
    rm -rf "$FUZZ_BUILD"
fi
if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
    command -v clang >/dev/null || die "clang is missing: apt-get install clang libclang-rt-14-dev"
    CC=clang meson setup "$FUZZ_BUILD" "$VIOMMU_TOP" -Dfuzz=true --buildtype=debugoptimized \
        >"$VIOMMU_CACHE/fuzz-configure.log" 2>&1 ||
        die "meson setup of the fuzzers failed: see $VIOMMU_CACHE/fuzz-configure.log"
    echo "$VIOMMU_TOP" >"$FUZZ_BUILD/.viommu-top"
fi
ninja -C "$FUZZ_BUILD" >"$VIOMMU_CACHE/build-fuzz.log" 2>&1 ||
    die "fuzzer build failed: see $VIOMMU_CACHE/build-fuzz.log"
case "$mode" in
    build) exit 0 ;;
    long) ;;
    *) die "usage: fuzz.sh [build|long]" ;;
esac

secs=${VIOMMU_FUZZ_SECONDS:-1800}
rc=0
for f in "$FUZZ_BUILD"/tests/fuzz/fuzz-*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=$(basename "$f")
    corpus=$VIOMMU_CACHE/fuzz-corpus/$name
    mkdir -p "$corpus"
    note "$name: $secs s, corpus $corpus"
    if "$f" -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
            "$corpus" >"$VIOMMU_CACHE/$name.log" 2>&1; then
        grep -E "stat::number_of_executed_units|stat::peak_rss" "$VIOMMU_CACHE/$name.log" || true
    else
        rc=1
        tail -n 30 "$VIOMMU_CACHE/$name.log"
    fi
done
exit $rc
