#!/usr/bin/env bash
# Run every test: the core's unit tests, our qtests in the grafted QEMU build,
# and (once they exist) the guest Linux tests.  Ends with "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/common.sh"

start=$(date +%s)
pass=0 fail=0
logdir=$VIOMMU_CACHE/test-logs
mkdir -p "$logdir"

# meson test writes a JSON line per test; count from it rather than scraping text.
run_suite() { # label build-dir meson-test-args...
    local label=$1 dir=$2
    shift 2
    note "$label"
    rm -f "$dir/meson-logs/testlog.json"
    meson test -C "$dir" --no-rebuild --print-errorlogs "$@"
    local json=$dir/meson-logs/testlog.json p f
    p=$(grep -c '"result": "OK"' "$json" 2>/dev/null || true)
    f=$(grep -c '"result": "\(FAIL\|TIMEOUT\|ERROR\|UNEXPECTEDPASS\)"' "$json" 2>/dev/null || true)
    pass=$((pass + p)); fail=$((fail + f))
    cp "$json" "$logdir/$label.json" 2>/dev/null || true
}

run_suite unit "$CORE_BUILD" --suite unit
# Short fuzz runs (a fixed number of inputs each); `make fuzz` runs them long.
if "$VIOMMU_TOP/scripts/fuzz.sh" build; then
    run_suite fuzz "$VIOMMU_CACHE/build/fuzz" --suite fuzz
else
    fail=$((fail + 1))
fi
run_suite qtest "$QEMU_BUILD" --suite viommu --num-processes 2

end=$(date +%s)
echo "check: $((end - start)) s; logs in $logdir"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
