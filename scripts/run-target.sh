#!/usr/bin/env bash
# make demo / make check: set up, build, run TARGET, and print how long each
# phase took.  What does not depend on each other overlaps:
#   setup     Debian packages, then (side by side) the guest kernel source
#             download and unpack with the QEMU source, graft and configure;
#   build     the QEMU build side by side with the two guest kernels and their
#             initramfs images (which only need the kernel source);
#   tests     scripts/demo.sh or scripts/check.sh (guest kernels are cached by then).
# A warm run finds everything built and only runs the tests.
#
#   scripts/run-target.sh demo|check
set -uo pipefail
. "$(dirname "$0")/common.sh"

case "${1:-}" in
    demo)  run=("$VIOMMU_TOP/scripts/demo.sh") ;;
    check) run=("$VIOMMU_TOP/scripts/check.sh") ;;
    *) die "usage: $0 demo|check" ;;
esac
mkdir -p "$VIOMMU_CACHE/guest"
now() { date +%s; }
t0=$(now)

# --- setup
[ "${VIOMMU_NO_APT:-0}" = 1 ] || "$VIOMMU_TOP/scripts/install-deps.sh" || exit 1
fetch_log=$VIOMMU_CACHE/guest/kernel-fetch.log
"$VIOMMU_TOP/scripts/guest-kernel.sh" --fetch >"$fetch_log" 2>&1 &
fetch_pid=$!
VIOMMU_NO_APT=1 "$VIOMMU_TOP/configure" || { wait "$fetch_pid"; exit 1; }
t1=$(now)

# --- build: QEMU here, the guest kernels and initramfs images alongside.
# guest-kernel.sh waits for the source download (a lock) and builds nothing
# when its kernel is cached.
kernels_log=$VIOMMU_CACHE/guest/kernels.log
(
    s=$(now)
    for a in arm64 x86_64; do
        "$VIOMMU_TOP/scripts/guest-kernel.sh" "$a" >/dev/null &&
            "$VIOMMU_TOP/scripts/guest-initramfs.sh" "$a" >/dev/null || exit 1
    done
    echo "kernels: done in $(($(now) - s)) s"
) >"$kernels_log" 2>&1 &
kernels_pid=$!
"$VIOMMU_TOP/scripts/build.sh"
build_rc=$?
t2=$(now)
wait "$fetch_pid" || true
wait "$kernels_pid"
kernels_rc=$?
t3=$(now)
[ $build_rc = 0 ] || exit $build_rc
if [ $kernels_rc != 0 ]; then
    # The tests report the missing kernel as a failure of their own.
    echo "guest kernels or initramfs images failed to build (log: $kernels_log):" >&2
    tail -n 5 "$kernels_log" >&2
fi

# --- tests
"${run[@]}"
rc=$?
t4=$(now)

k=$(sed -n 's/^kernels: done in \([0-9]*\) s$/\1/p' "$kernels_log")
built=$(grep -oE 'guest kernel [^ ]+ \([a-z0-9_]+\) built in [0-9]+ s' "$kernels_log" |
        sed -E 's/guest kernel [^ ]+ \(([a-z0-9_]+)\) built in ([0-9]+) s/\1 \2 s/' | paste -sd, - | sed 's/,/, /g')
echo "phases: setup $((t1 - t0)) s; QEMU build $((t2 - t1)) s;" \
     "guest kernels ${k:-?} s alongside it${built:+ ($built)}, $((t3 - t2)) s waited for after it;" \
     "$1 $((t4 - t3)) s; total $((t4 - t0)) s"
exit $rc
