#!/usr/bin/env bash
# Run every test: the core's unit tests and short fuzz runs, our qtests in the
# grafted QEMU build, and the guest Linux tests.  Ends with
# "N passed, N failed, N skipped"; exits non-zero on any failure.
set -uo pipefail
. "$(dirname "$0")/common.sh"

start=$(date +%s)
pass=0 fail=0 skip=0
logdir=$VIOMMU_CACHE/test-logs
mkdir -p "$logdir"

# meson test writes a JSON line per test; count from it rather than scraping
# text, and let meson's own exit status fail the suite too (a crash of meson,
# a missing build directory, an interrupted run: results that never reach the
# JSON).  Anything but OK is a failure: FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS,
# INTERRUPT, and SKIP (a whole test program of ours that skips tested nothing).
run_suite() { # label build-dir meson-test-args...
    local label=$1 dir=$2
    shift 2
    note "$label"
    rm -f "$dir/meson-logs/testlog.json"
    meson test -C "$dir" --no-rebuild --print-errorlogs "$@"
    local rc=$? json=$dir/meson-logs/testlog.json p n f
    p=$(grep -c '"result": "OK"' "$json" 2>/dev/null)
    n=$(grep -c '"result": "' "$json" 2>/dev/null)
    f=$((${n:-0} - ${p:-0}))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$label: meson test exited $rc with no failed test in $json"
        f=1
    fi
    if [ "${n:-0}" -eq 0 ]; then
        echo "$label: no test ran"
        f=1
    fi
    pass=$((pass + ${p:-0})); fail=$((fail + f))
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

# Guest Linux (iommufd stack) on our vIOMMUs (arm64 both with a device tree and
# under UEFI with ACPI), plus upstream's as reference columns.
note "guest"
"$VIOMMU_TOP/scripts/guest-test.sh" 2>&1 | tee "$logdir/guest.log"
guest_rc=${PIPESTATUS[0]}
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$logdir/guest.log" | tail -n 1)
if [ -n "$summary" ]; then
    # shellcheck disable=SC2086  # "N passed, M failed, K skipped" into $1..$6
    set -- $summary
    pass=$((pass + $1)); fail=$((fail + $3)); skip=$((skip + $5))
    if [ "$guest_rc" -ne 0 ] && [ "$3" -eq 0 ]; then
        echo "guest: guest-test.sh exited $guest_rc with no failure counted"
        fail=$((fail + 1))
    fi
else
    echo "guest: no summary line (see $logdir/guest.log)"
    fail=$((fail + 1))
fi
# Keep the committed comparison matrix current on developer machines (not in CI).
if [ "${CI:-}" != true ] && [ -s "$VIOMMU_CACHE/guest/matrix.rst" ]; then
    cp "$VIOMMU_CACHE/guest/matrix.rst" "$VIOMMU_TOP/docs/guest-matrix.rst"
fi

# Debian's own LTS kernel (trixie's 6.12) on our vIOMMUs: DMA API with real disks and NICs.
note "guest-lts"
"$VIOMMU_TOP/scripts/guest-lts-test.sh" 2>&1 | tee "$logdir/guest-lts.log"
lts_rc=${PIPESTATUS[0]}
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logdir/guest-lts.log" | tail -n 1)
# shellcheck disable=SC2086  # "N passed, M failed" into $1..$4
if [ -n "$summary" ]; then set -- $summary; pass=$((pass + $1)); fail=$((fail + $3)); fi
[ -n "$summary" ] && [ "$lts_rc" -eq 0 -o "$3" -ne 0 ] || { echo "guest-lts: exit $lts_rc (see $logdir/guest-lts.log)"; fail=$((fail + 1)); }

# --- README.rst's own-guest command lines and libvirt XML (check-user-docs.sh)
note "user-docs"
"$VIOMMU_TOP/scripts/check-user-docs.sh" 2>&1 | tee "$logdir/user-docs.log"
ud_rc=${PIPESTATUS[0]}
ud=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logdir/user-docs.log" | tail -n 1)
if [ -n "$ud" ]; then
    ud_pass=${ud%% passed*} ud_fail=${ud#*passed, }
    pass=$((pass + ud_pass)); fail=$((fail + ${ud_fail%% failed}))
    [ "$ud_rc" -eq 0 ] || [ "${ud_fail%% failed}" -gt 0 ] || fail=$((fail + 1))
else
    echo "user-docs: no summary line (see $logdir/user-docs.log)"
    fail=$((fail + 1))
fi
# --- end of user-docs

end=$(date +%s)
echo "check: $((end - start)) s; logs in $logdir"
# Skips: only subtests of the upstream reference columns of the guest matrix
# (a skip of ours is a failure).
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
