#!/usr/bin/env bash
# Build (once) the guest Linux kernel for ARCH (arm64 | x86_64) from Debian's
# linux-source-7.3: the kernel's tinyconfig plus our config fragments
# tests/guest/kconfig/{common,ARCH}.config, nothing else, plus our own guest
# driver for viommu-testdev (tests/guest/kdriver/, CONFIG_VIOMMU_TESTDEV_SVA),
# copied into the source tree as drivers/misc/viommu-testdev/ with one hook line
# each in drivers/misc/{Kconfig,Makefile}.
#
#   scripts/guest-kernel.sh arm64|x86_64
#   scripts/guest-kernel.sh --fetch      only download and unpack the source
#
# The result lives in $VIOMMU_CACHE/guest/kernel-ARCH-VERSION-HASH/ (HASH = first
# 12 hex digits of the sha256 of the base's name, the fragments and the driver's
# files):
#   Image (arm64) or bzImage (x86_64), config, include/ (the UAPI headers
#   `make headers` exports), usr-gen_init_cpio (the kernel's cpio generator).
# A warm run builds nothing.  The last line printed is always that directory.
#
# Environment: GUEST_KERNEL_JOBS (default: number of CPUs), GUEST_KERNEL_CCACHE=0
# to build without ccache.
set -euo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/guest-apt.sh"

LINUX_SERIES=7.3
LINUX_PKG=linux-source-$LINUX_SERIES
LINUX_SUITE=trixie-backports
# The base configuration our fragments are merged over (part of the cache key).
KCONFIG_BASE=tinyconfig

arch=${1:-}
case "$arch" in
    --fetch) ;;
    arm64)  karch=arm64;  cross=aarch64-linux-gnu-; image=arch/arm64/boot/Image;   iname=Image ;;
    x86_64) karch=x86_64; cross=;                   image=arch/x86/boot/bzImage;   iname=bzImage ;;
    *) die "usage: $0 arm64|x86_64|--fetch" ;;
esac
mkdir -p "$VIOMMU_CACHE/guest" "$VIOMMU_CACHE/src"

# --- source: Debian's linux-source-7.3 (_all.deb ships the tarball under /usr/src)
unpack_source() {
    local d
    for d in "$VIOMMU_CACHE"/src/linux-"$LINUX_SERIES".*; do
        [ -f "$d/.viommu-unpacked" ] && { echo "$d"; return 0; }
    done
    need_space "$VIOMMU_CACHE" 4000
    guest_apt "$LINUX_SUITE" amd64 "$LINUX_SUITE"
    local deb ver upver tarball tmp
    deb=$(guest_apt_download "$LINUX_PKG" "$VIOMMU_CACHE/downloads")
    ver=$(dpkg-deb -f "$deb" Version)
    upver=${ver#*:}; upver=${upver%%-*}; upver=${upver%%+*}   # 7.3.4-1~bpo13+1 -> 7.3.4
    d=$VIOMMU_CACHE/src/linux-$upver
    tmp=$VIOMMU_CACHE/src/.linux-unpack.$$
    rm -rf "$tmp" "$d"
    mkdir -p "$tmp"
    note "unpacking $(basename "$deb")" >&2
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "./usr/src/$LINUX_PKG.tar.*" ||
        die "no usr/src/$LINUX_PKG.tar.* in $deb"
    tarball=$(ls "$tmp"/usr/src/"$LINUX_PKG".tar.*)
    tar -xf "$tarball" -C "$tmp" || die "cannot unpack $tarball"
    [ -f "$tmp/$LINUX_PKG/Makefile" ] || die "$tarball has no $LINUX_PKG/Makefile"
    mv "$tmp/$LINUX_PKG" "$d"
    rm -rf "$tmp"
    touch "$d/.viommu-unpacked"
    echo "$d"
}
# Our guest driver: tests/guest/kdriver/ plus the test device's register header,
# copied into SRC/drivers/misc/viommu-testdev/ (only what differs, so an
# unchanged driver rebuilds nothing), and the two hook lines, idempotently.
# Called with the source lock (fd 8) held.
kdriver_dir=$VIOMMU_TOP/tests/guest/kdriver
kdriver_files=("$kdriver_dir"/Kconfig "$kdriver_dir"/Makefile "$kdriver_dir"/*.[ch]
               "$VIOMMU_TOP/include/hw/viommu/testdev-regs.h")
install_kdriver() {
    local src=$1 dst=$1/drivers/misc/viommu-testdev f
    mkdir -p "$dst"
    for f in "${kdriver_files[@]}"; do
        cmp -s "$f" "$dst/$(basename "$f")" || cp "$f" "$dst/$(basename "$f")"
    done
    grep -qxF 'source "drivers/misc/viommu-testdev/Kconfig" # qemu-viommu' "$src/drivers/misc/Kconfig" ||
        echo 'source "drivers/misc/viommu-testdev/Kconfig" # qemu-viommu' >> "$src/drivers/misc/Kconfig"
    grep -qxF 'obj-y += viommu-testdev/ # qemu-viommu' "$src/drivers/misc/Makefile" ||
        echo 'obj-y += viommu-testdev/ # qemu-viommu' >> "$src/drivers/misc/Makefile"
}

exec 8>"$VIOMMU_CACHE/guest/.kernel-src.lock"
if [ "$arch" = --fetch ]; then
    flock 8
    unpack_source
    exit 0
fi

frag_dir=$VIOMMU_TOP/tests/guest/kconfig
frags=("$frag_dir/common.config" "$frag_dir/$arch.config")
for f in "${frags[@]}"; do [ -f "$f" ] || die "missing config fragment $f"; done
for f in "${kdriver_files[@]}"; do [ -f "$f" ] || die "missing guest driver file $f"; done
# The name covers what decides the kernel: the base, the fragments, our driver.
hash=$( { echo "$KCONFIG_BASE"; cat "${frags[@]}" "${kdriver_files[@]}"; } | sha256sum | cut -c1-12)

# One lock per output directory.
exec 9>"$VIOMMU_CACHE/guest/.kernel-$arch.lock"
flock 9

# Warm path: any already built kernel of this series with these fragments.
for d in "$VIOMMU_CACHE"/guest/kernel-"$arch"-"$LINUX_SERIES".*-"$hash"; do
    if [ -f "$d/.complete" ]; then
        note "guest kernel ($arch) is cached" >&2
        echo "$d"
        exit 0
    fi
done

flock 8
src=$(unpack_source)
install_kdriver "$src"
flock -u 8
kver=$(make -s -C "$src" kernelversion)
[ -n "$kver" ] || die "cannot read the kernel version of $src"

out=$VIOMMU_CACHE/guest/kernel-$arch-$kver-$hash
obj=$VIOMMU_CACHE/build/guest-kernel-$arch
need_space "$VIOMMU_CACHE" 2000

for t in bc flex bison; do command -v $t >/dev/null || die "$t is missing: run scripts/install-deps.sh"; done
[ -z "$cross" ] || command -v "${cross}gcc" >/dev/null ||
    die "${cross}gcc is missing: install gcc-aarch64-linux-gnu (scripts/install-deps.sh)"

cc="${cross}gcc"
if [ "${GUEST_KERNEL_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
    cc="ccache ${cross}gcc"
fi
jobs=${GUEST_KERNEL_JOBS:-$(nproc)}
KMAKE=(make -C "$src" O="$obj" ARCH="$karch" CROSS_COMPILE="$cross" CC="$cc" HOSTCC=gcc -j"$jobs")
log=$VIOMMU_CACHE/guest/kernel-$arch.log

start=$(date +%s)
note "building guest kernel $kver for $arch in $obj (log: $log)" >&2
mkdir -p "$obj"
: > "$log"

# `make tinyconfig` is allnoconfig over kernel/configs/tiny-base.config, then
# kernel/configs/tiny.config and arch/*/configs/tiny.config merged in.  We do
# the same in one allnoconfig pass with our fragments last (so they win), and
# every option nobody asked for stays off; olddefconfig then only settles what
# has no prompt.
merged=$obj/viommu-fragments.config
tiny=("$src/kernel/configs/tiny-base.config" "$src/kernel/configs/tiny.config")
[ ! -f "$src/arch/${karch/x86_64/x86}/configs/tiny.config" ] || tiny+=("$src/arch/${karch/x86_64/x86}/configs/tiny.config")
for f in "${tiny[@]:0:2}"; do [ -f "$f" ] || die "$src has no $f: not a Linux source tree?"; done
cat "${tiny[@]}" "${frags[@]}" > "$merged"
"${KMAKE[@]}" KCONFIG_ALLCONFIG="$merged" allnoconfig >>"$log" 2>&1 ||
    die "make allnoconfig failed (see $log)"
"${KMAKE[@]}" olddefconfig >>"$log" 2>&1 || die "make olddefconfig failed (see $log)"

# Every option of the fragments must have survived Kconfig's dependency rules.
missing=()
while IFS= read -r line; do
    case "$line" in
        CONFIG_*=*)
            grep -qxF "$line" "$obj/.config" || missing+=("$line (got: $(grep "^${line%%=*}=" "$obj/.config" || echo 'not set'))") ;;
        "# CONFIG_"*" is not set")
            opt=${line#"# "}; opt=${opt%% *}
            ! grep -q "^$opt=" "$obj/.config" || missing+=("$line (got: $(grep "^$opt=" "$obj/.config"))") ;;
    esac
done < <(cat "${frags[@]}")
if [ ${#missing[@]} -gt 0 ]; then
    printf '  %s\n' "${missing[@]}" >&2
    die "${#missing[@]} option(s) of tests/guest/kconfig/{common,$arch}.config did not end up in the $arch kernel config ($obj/.config): their dependencies are not met"
fi

"${KMAKE[@]}" "$(basename "$image")" >>"$log" 2>&1 || {
    grep -E "error|Error" "$log" | head -n 20 >&2
    die "kernel build failed (see $log)"
}
rm -rf "$out.tmp"
mkdir -p "$out.tmp"
# `make headers` is what headers_install copies from (that copy needs rsync).
"${KMAKE[@]}" headers >>"$log" 2>&1 || die "make headers failed (see $log)"
cp -a "$obj/usr/include" "$out.tmp/include"
"${KMAKE[@]}" usr/gen_init_cpio >>"$log" 2>&1 || die "building usr/gen_init_cpio failed (see $log)"
cp "$obj/$image" "$out.tmp/$iname"
cp "$obj/.config" "$out.tmp/config"
cp "$obj/usr/gen_init_cpio" "$out.tmp/usr-gen_init_cpio"
echo "$kver" > "$out.tmp/version"
touch "$out.tmp/.complete"
rm -rf "$out"
mv "$out.tmp" "$out"
end=$(date +%s)
note "guest kernel $kver ($arch) built in $((end - start)) s: $out/$iname, $(du -h "$out/$iname" | cut -f1)" >&2
echo "$out"
