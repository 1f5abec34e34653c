#!/bin/busybox sh
# shellcheck shell=dash
# Guest side of scripts/check-user-docs.sh: booted with README.rst's "Your own
# guest" command line, does the guest find the vIOMMU, are the virtio disk and
# NIC behind it (a DMA domain), and does DMA through it work (read the marker
# the host wrote to the disk, ping QEMU's user-network gateway)?
# Prints "user-docs: ..." lines; exits non-zero on the first missing piece.

say() { echo "user-docs: $*"; }
bad() { say "FAIL: $*"; exit 1; }

iommus=$(ls /sys/class/iommu 2>/dev/null)
[ -n "$iommus" ] || bad "/sys/class/iommu is empty: the guest found no IOMMU"
say "iommu: $(echo "$iommus" | xargs)"

n=0
for d in /sys/bus/pci/devices/*; do
    id="$(cat "$d/vendor"):$(cat "$d/device")"
    case "$id" in
        0x1af4:0x1041|0x1af4:0x1042) ;;         # modern virtio-net, virtio-blk
        *) continue ;;
    esac
    t=$(cat "$d/iommu_group/type" 2>/dev/null)
    case "$t" in
        DMA|DMA-FQ) ;;
        *) bad "${d##*/} ($id) is not behind the IOMMU in a DMA domain (type '${t:-no group}')" ;;
    esac
    # Without VIRTIO_F_ACCESS_PLATFORM (iommu_platform=on) the driver and QEMU
    # both bypass the IOMMU, so the group alone proves nothing.
    f=$(cat "$d"/virtio*/features 2>/dev/null)
    [ "$(echo "$f" | cut -c34)" = 1 ] ||
        bad "${d##*/} ($id) did not negotiate VIRTIO_F_ACCESS_PLATFORM (bit 33): iommu_platform=on missing?"
    g=$(readlink "$d/iommu_group")
    say "${d##*/} $id: iommu group ${g##*/}, domain $t"
    n=$((n + 1))
done
[ "$n" = 2 ] || bad "expected the virtio disk and NIC behind the IOMMU, found $n virtio device(s)"

marker=$(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -c 23)
[ "$marker" = "VIOMMU-USER-DOCS-MARKER" ] || bad "/dev/vda does not start with the host's marker (read '$marker')"
say "virtio-blk: read the host's marker from /dev/vda"

net=''
for i in /sys/class/net/*; do
    case "$(readlink "$i/device/driver")" in *virtio_net) net=${i##*/} ;; esac
done
[ -n "$net" ] || bad "no virtio-net interface"
if ! { ip link set "$net" up && ip addr add 10.0.2.15/24 dev "$net" &&
       ping -c 2 -W 5 10.0.2.2 >/tmp/ping.log 2>&1; }; then
    bad "virtio-net: ping 10.0.2.2 failed: $(cat /tmp/ping.log 2>/dev/null)"
fi
say "virtio-net: $net reached the gateway 10.0.2.2"
exit 0
