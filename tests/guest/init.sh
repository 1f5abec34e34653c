#!/bin/busybox sh
# shellcheck shell=dash
# /init of the qemu-viommu guest initramfs (scripts/guest-initramfs.sh packs it).
#
# Mounts the pseudo file systems, runs the guest test suite and powers off.
# Kernel command line (read from /proc/cmdline; dotted names the kernel ignores):
#   viommu.tests=1,5        subtests to run (numbers or names; default: all)
#   viommu.timeout=SECONDS  per-subtest timeout (default 60)
#   viommu.verbose=1        more diagnostics
#   viommu.column=KIND      ours (default: a qemu-viommu vIOMMU, where a skipped
#                           or partial subtest fails) or reference (upstream's)
#   viommu.stall=1          the vIOMMU stalls the test device's faults (SVA must
#                           fault pages in through stalls)
#   viommu.run=PATH         run PATH (a program or script in the initramfs) instead
#                           of the suite; its output and "VIOMMU-RUN: exit N" follow
# Everything the host reads starts with "VIOMMU-TEST: " or "VIOMMU-RUN: "; kernel
# messages are kept off the console while tests print, and dumped afterwards as
# lines starting with "dmesg: ".

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/sbin:/usr/sbin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Kernel messages go to the log buffer only, so they cannot split our lines.
dmesg -n 1

tests='' timeout=60 verbose='' run='' column=ours
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        viommu.tests=*)   tests=$(echo "${arg#viommu.tests=}" | tr ',' ' ') ;;
        viommu.timeout=*) timeout=${arg#viommu.timeout=} ;;
        viommu.verbose=1) verbose=-v ;;
        viommu.run=*)     run=${arg#viommu.run=} ;;
        viommu.column=*)  column=${arg#viommu.column=} ;;
        viommu.stall=1)   export VIOMMU_EXPECT_STALL=1 ;;
    esac
done

echo "# guest: Linux $(uname -r) $(uname -m)"
for i in /sys/class/iommu/*; do
    [ -e "$i" ] && echo "# iommu: $(basename "$i")"
done
for d in /sys/bus/pci/devices/*; do
    g=$(readlink "$d/iommu_group" 2>/dev/null)
    echo "# pci: $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") group ${g##*/}"
done
[ -c /dev/iommu ] || echo "# /dev/iommu is missing"

if [ -n "$run" ]; then
    echo "VIOMMU-RUN: begin $run"
    "$run"
    echo "VIOMMU-RUN: exit $?"
else
    echo "VIOMMU-TEST: begin"
    # shellcheck disable=SC2086  # word splitting of the test list is intended
    /usr/bin/viommu-guest-test -t "$timeout" -c "$column" $verbose $tests
    echo "VIOMMU-TEST: exit $?"
fi

# The kernel's view of what happened, for the host's log.
dmesg | sed 's/^/dmesg: /'
echo "VIOMMU-TEST: poweroff"
sync
poweroff -f
