#!/usr/bin/env bash
# Build (once) the guest initramfs for ARCH (arm64 | x86_64):
#   Debian's busybox-static for that architecture, our /init (tests/guest/init.sh)
#   and the statically linked guest test programs (tests/guest/*.c), compiled
#   against the UAPI headers of the guest kernel from scripts/guest-kernel.sh.
# Packed without root privileges by the kernel's own usr/gen_init_cpio from a
# file list (owners root:root, device node /dev/console), then gzip'ed.
#
#   scripts/guest-initramfs.sh ARCH [--extra FILE]...
#
# --extra FILE adds FILE (a static program or a script) as /extra/NAME.
# The last line printed is the path of the .cpio.gz; a warm run builds nothing.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/guest-apt.sh"

arch=${1:-}
shift || true
case "$arch" in
    arm64)  cc=aarch64-linux-gnu-gcc; debarch=arm64 ;;
    x86_64) cc=gcc;                   debarch=amd64 ;;
    *) die "usage: $0 arm64|x86_64 [--extra FILE]..." ;;
esac
extras=()
while [ $# -gt 0 ]; do
    case "$1" in
        --extra) [ -f "${2:-}" ] || die "--extra needs an existing file, not '${2:-}'"
                 extras+=("$(realpath "$2")"); shift 2 ;;
        *) die "unknown argument $1" ;;
    esac
done
command -v "$cc" >/dev/null || die "$cc is missing: run scripts/install-deps.sh"

guest_dir=$VIOMMU_TOP/tests/guest
kdir=$("$(dirname "$0")/guest-kernel.sh" "$arch" | tail -n 1)
[ -f "$kdir/.complete" ] || die "no guest kernel for $arch"
gen_cpio=$kdir/usr-gen_init_cpio

# busybox-static for the guest's architecture, from bookworm (same as the host's).
exec 9>"$VIOMMU_CACHE/guest/.busybox-$debarch.lock"
flock 9
bb_dir=$VIOMMU_CACHE/guest/busybox-$debarch
if [ ! -x "$bb_dir/bin/busybox" ]; then
    guest_apt "bookworm-$debarch" "$debarch" bookworm
    deb=$(guest_apt_download busybox-static "$VIOMMU_CACHE/downloads/$debarch")
    rm -rf "$bb_dir.tmp"
    dpkg-deb -x "$deb" "$bb_dir.tmp" || die "cannot unpack $deb"
    [ -x "$bb_dir.tmp/bin/busybox" ] || die "$deb has no bin/busybox"
    rm -rf "$bb_dir"
    mv "$bb_dir.tmp" "$bb_dir"
fi
flock -u 9

# Everything that goes into the image decides its name.
progs=("$guest_dir"/*.c)
common_dir=$VIOMMU_TOP/tests/common
key=$( { cat "$guest_dir/init.sh" "${progs[@]}" "$VIOMMU_TOP/include/hw/viommu/testdev-regs.h" \
              "$guest_dir"/kdriver/*.h \
              "$common_dir/pt-builder.h" "$common_dir/pt-builder.c" \
              "$0" "$bb_dir/bin/busybox" "$kdir/version" "${extras[@]}";
         echo "$kdir"; "$cc" --version | head -n 1; } | sha256sum | cut -c1-12)
out=$VIOMMU_CACHE/guest/initramfs-$arch-$key.cpio.gz
exec 7>"$VIOMMU_CACHE/guest/.initramfs-$arch.lock"
flock 7
if [ -f "$out" ]; then
    note "guest initramfs ($arch) is cached" >&2
    echo "$out"
    exit 0
fi

start=$(date +%s)
work=$VIOMMU_CACHE/guest/initramfs-$arch.work
rm -rf "$work"
mkdir -p "$work/bin"
CFLAGS=(-O2 -g0 -static -Wall -Wextra -Wno-format-truncation -Werror
        -isystem "$kdir/include" -I "$VIOMMU_TOP/include" -I "$common_dir"
        -I "$guest_dir/kdriver")
for src in "${progs[@]}"; do
    name=$(basename "$src" .c)
    srcs=("$src")
    # The test program builds its stage-1 tables with the shared page-table builder.
    [ "$name" = viommu-guest-test ] && srcs+=("$common_dir/pt-builder.c")
    "$cc" "${CFLAGS[@]}" -o "$work/bin/$name" "${srcs[@]}" -lpthread 2>"$work/$name.log" || {
        cat "$work/$name.log" >&2
        die "compiling $src for $arch failed"
    }
done

list=$work/files.list
{
    echo "dir /dev 0755 0 0"
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "nod /dev/null 0666 0 0 c 1 3"
    for d in /bin /sbin /usr /usr/bin /usr/sbin /proc /sys /tmp /run /extra; do
        echo "dir $d 0755 0 0"
    done
    echo "file /bin/busybox $bb_dir/bin/busybox 0755 0 0"
    echo "file /init $guest_dir/init.sh 0755 0 0"
    for src in "${progs[@]}"; do
        name=$(basename "$src" .c)
        echo "file /usr/bin/$name $work/bin/$name 0755 0 0"
    done
    for f in "${extras[@]}"; do
        echo "file /extra/$(basename "$f") $f 0755 0 0"
    done
} > "$list"
"$gen_cpio" "$list" > "$work/initramfs.cpio" || die "gen_init_cpio failed on $list"
gzip -9n < "$work/initramfs.cpio" > "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$work"
# Keep the cache bounded: the newest few images per architecture.
ls -t "$VIOMMU_CACHE"/guest/initramfs-"$arch"-*.cpio.gz 2>/dev/null | tail -n +5 | xargs -r rm -f
end=$(date +%s)
note "guest initramfs ($arch) built in $((end - start)) s: $(du -h "$out" | cut -f1)" >&2
echo "$out"
