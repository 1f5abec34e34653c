#!/usr/bin/env bash
# Boot Debian's own LTS kernel (trixie's linux-image-6.12.*, unmodified, modules
# from the package) on each vIOMMU and check the DMA API with real devices:
# virtio-blk and nvme read and written back, virtio-net and igb (arm64) or
# e1000e (x86_64) fetching a file over DHCP'd slirp from an HTTP server on the
# host's loopback, everything checked by SHA-256 (tests/guest/lts/init.sh).
#
#   scripts/guest-lts-test.sh [--viommu NAME]... [--mib N] [--timeout S] [--list]
#
# --viommu NAME  a configuration below (repeatable; default: viommu-smmuv3 and
#                viommu-vtd); upstream-smmuv3, upstream-intel-iommu and
#                none-arm64 / none-x86_64 are references for comparisons
# --mib N        size of the fetched file in MiB (default 4)
# --timeout S    wall-clock limit per guest (default 300)
# --qemu-args A  extra QEMU options (word-split), e.g. '-d guest_errors -trace viommu_smmuv3_*'
#
# Needs only Debian's archive (the kernel and busybox-static packages, cached
# under $VIOMMU_CACHE/guest/lts keyed by version) and loopback.  Prints
# "ok N ARCH/CONFIG/CHECK" / "not ok N ... # reason", then "N passed, N failed";
# serial logs go to $VIOMMU_CACHE/guest/logs/lts-*.log.
set -uo pipefail
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/guest-apt.sh"

# NAME | ARCH | machine options | vIOMMU options | kernel options | second NIC model
CONFIGS=(
    "viommu-smmuv3|arm64|-M virt,gic-version=3 -cpu max|-device viommu-smmuv3||igb"
    "viommu-vtd|x86_64|-M q35,kernel-irqchip=split|-device viommu-vtd|intel_iommu=on|e1000e"
    "upstream-smmuv3|arm64|-M virt,gic-version=3,iommu=smmuv3 -cpu max|||igb"
    "upstream-intel-iommu|x86_64|-M q35,kernel-irqchip=split|-device intel-iommu,intremap=on|intel_iommu=on|e1000e"
    "none-arm64|arm64|-M virt,gic-version=3 -cpu max|||igb"
    "none-x86_64|x86_64|-M q35|||e1000e"
)
DEFAULT=(viommu-smmuv3 viommu-vtd)
LTS_SERIES=6.12             # Debian trixie's kernel series
LTS_SUITE=trixie

want=() mib=4 timeout=300 qemu_args=""
while [ $# -gt 0 ]; do
    case "$1" in
        --viommu)  want+=("${2:?--viommu needs a name}"); shift 2 ;;
        --mib)     mib=${2:?--mib needs a size}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --qemu-args) qemu_args=${2?--qemu-args needs options}; shift 2 ;;
        --list)    printf '%s\n' "${CONFIGS[@]}"; exit 0 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (--help lists them)" ;;
    esac
done
[ ${#want[@]} -gt 0 ] || want=("${DEFAULT[@]}")

n=0 pass=0 fail=0
report() { # ok|fail label [reason]
    n=$((n + 1))
    if [ "$1" = ok ]; then pass=$((pass + 1)); echo "ok $n $2"
    else fail=$((fail + 1)); echo "not ok $n $2 # ${3:-failed}"; fi
}

debarch_of() { case $1 in arm64) echo arm64 ;; x86_64) echo amd64 ;; esac; }

# lts_kernel ARCH: unpack (once) the newest trixie linux-image-6.12.*-ARCH and
# busybox-static into $VIOMMU_CACHE/guest/lts/DEBARCH-VERSION; prints that dir.
lts_kernel() {
    local debarch pkg dir deb bbdeb flavour
    debarch=$(debarch_of "$1")
    guest_apt "lts-$LTS_SUITE-$debarch" "$debarch" "$LTS_SUITE" >&2
    # The flavour's meta package names the current ABI (linux-image-6.12.N+debM-ARCH).
    flavour=linux-image-$debarch
    pkg=$("${GUEST_APT_CACHE[@]}" depends "$flavour" 2>/dev/null |
          sed -n "s/^ *Depends: \(linux-image-$LTS_SERIES\.[^ ]*-$debarch\)\( .*\)\{0,1\}$/\1/p" | sort -V | tail -n 1)
    [ -n "$pkg" ] || die "Debian's $LTS_SUITE has no $flavour depending on a $LTS_SERIES kernel"
    dir=$VIOMMU_CACHE/guest/lts/$debarch-${pkg#linux-image-}
    if [ ! -f "$dir/.complete" ]; then
        deb=$(guest_apt_download "$pkg" "$VIOMMU_CACHE/downloads/$debarch" | tail -n 1) || exit 1
        bbdeb=$(guest_apt_download busybox-static "$VIOMMU_CACHE/downloads/$debarch" | tail -n 1) || exit 1
        rm -rf "$dir" && mkdir -p "$dir/pkg" "$dir/bb"
        dpkg-deb -x "$deb" "$dir/pkg" && dpkg-deb -x "$bbdeb" "$dir/bb" || die "cannot unpack $deb / $bbdeb"
        ls "$dir"/pkg/boot/vmlinuz-* >/dev/null 2>&1 || die "$deb has no /boot/vmlinuz-*"
        [ -x "$dir/bb/usr/bin/busybox" ] || [ -x "$dir/bb/bin/busybox" ] || die "$bbdeb has no busybox"
        touch "$dir/.complete"
    fi
    echo "$dir"
}

# The modules the guest needs, dependencies first, from each module's
# .modinfo "depends=" (the package ships no modules.dep: depmod runs on install).
MODULES="virtio_blk virtio_net nvme igb e1000e"
mod_path() { # moddir name: the .ko* of NAME ('-' and '_' are one)
    local pat
    pat=$(echo "$2" | sed 's/[-_]/[-_]/g')
    find "$1" -name "$pat.ko" -o -name "$pat.ko.xz" -o -name "$pat.ko.zst" | head -n 1
}
mod_depends() { # file
    case "$1" in
        *.xz)  xz -dc "$1" ;;
        *.zst) zstd -dc "$1" ;;
        *)     cat "$1" ;;
    esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' '
}
mod_order() { # moddir: prints relative .ko paths, dependencies first
    local moddir=$1 seen=" " m
    visit() {
        local f d
        case "$seen" in *" $1 "*) return ;; esac
        seen="$seen$1 "
        f=$(mod_path "$moddir" "$1")
        [ -n "$f" ] || return 0             # built in
        for d in $(mod_depends "$f"); do visit "$d"; done
        echo "${f#"$moddir"/}"
    }
    for m in $MODULES; do visit "$m"; done
}

# lts_initramfs DIR: the initramfs for the kernel in DIR (cached by content).
lts_initramfs() {
    local dir=$1 kver moddir bb out work list f key
    kver=$(basename "$(ls -d "$dir"/pkg/usr/lib/modules/* "$dir"/pkg/lib/modules/* 2>/dev/null | head -n 1)")
    moddir=$(ls -d "$dir"/pkg/usr/lib/modules/"$kver" "$dir"/pkg/lib/modules/"$kver" 2>/dev/null | head -n 1)
    [ -d "$moddir" ] || die "no modules in $dir/pkg"
    bb=$dir/bb/usr/bin/busybox
    [ -x "$bb" ] || bb=$dir/bb/bin/busybox
    key=$(cat "$VIOMMU_TOP/tests/guest/lts/init.sh" "$VIOMMU_TOP/tests/guest/lts/mkcpio.py" "$0" | sha256sum | cut -c1-12)
    out=$dir/initramfs-$key.cpio.gz
    [ -f "$out" ] && { echo "$out"; return; }
    work=$dir/initramfs.work
    rm -rf "$work" && mkdir -p "$work/mod"
    list=$work/files.list
    {
        for d in /dev /bin /sbin /usr /usr/bin /usr/sbin /proc /sys /tmp /run /lib /lib/modules; do
            echo "dir $d 0755"
        done
        echo "nod /dev/console 0600 c 5 1"
        echo "nod /dev/null 0666 c 1 3"
        echo "file /bin/busybox $bb 0755"
        echo "file /init $VIOMMU_TOP/tests/guest/lts/init.sh 0755"
        : > "$work/order"
        while read -r rel; do
            f=$(basename "$rel"); f=${f%.xz}; f=${f%.zst}
            case "$rel" in
                *.xz)  xz -dc "$moddir/$rel" > "$work/mod/$f" ;;
                *.zst) zstd -qdc "$moddir/$rel" > "$work/mod/$f" ;;
                *)     cp "$moddir/$rel" "$work/mod/$f" ;;
            esac || die "cannot unpack $rel"
            echo "file /lib/modules/$f $work/mod/$f 0644"
            echo "$f" >> "$work/order"
        done < <(mod_order "$moddir")
        echo "file /lib/modules/order $work/order 0644"
    } > "$list"
    python3 "$VIOMMU_TOP/tests/guest/lts/mkcpio.py" "$list" "$out.tmp" || die "cannot pack $list"
    mv "$out.tmp" "$out"
    rm -rf "$work"
    ls -t "$dir"/initramfs-*.cpio.gz | tail -n +3 | xargs -r rm -f
    echo "$out"
}

# The host side: a random file served on loopback, and the disk images.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/viommu-lts.XXXXXX")
http_pid=""
cleanup() { [ -z "$http_pid" ] || kill "$http_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
head -c "$((mib << 20))" /dev/urandom > "$tmp/data"
sha=$(sha256sum "$tmp/data" | cut -d' ' -f1)
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$tmp" > "$tmp/http.log" 2>&1 &
http_pid=$!
port=""
for _ in $(seq 50); do
    port=$(sed -n 's/.*127\.0\.0\.1 port \([0-9]*\).*/\1/p' "$tmp/http.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || die "the loopback HTTP server did not start: $(cat "$tmp/http.log")"
disk_mib=2
head -c "$((disk_mib << 20))" /dev/urandom > "$tmp/disk-data"
dsha=$(sha256sum "$tmp/disk-data" | cut -d' ' -f1)

logdir=$VIOMMU_CACHE/guest/logs
mkdir -p "$logdir"
CHECKS="iommu/dma-domains disk/vda-read disk/vda-write disk/nvme0n1-read disk/nvme0n1-write"
for w in "${want[@]}"; do
    c=$(printf '%s\n' "${CONFIGS[@]}" | grep "^$w|") ||
        die "no configuration '$w' (known: $(printf '%s\n' "${CONFIGS[@]}" | cut -d'|' -f1 | xargs))"
    IFS='|' read -r name arch mopts dopts kopts nic2 <<<"$c"
    label=$arch/$name
    case $arch in
        arm64)  qemu=$QEMU_BUILD/qemu-system-aarch64; console=ttyAMA0; firmware=() ;;
        x86_64) qemu=$QEMU_BUILD/qemu-system-x86_64; console=ttyS0
                firmware=(-L /usr/share/seabios -L /usr/share/qemu -machine sata=off) ;;
    esac
    [ -x "$qemu" ] || { report fail "$label/boot" "no $qemu: run make"; continue; }
    kdir=$(lts_kernel "$arch") && initrd=$(lts_initramfs "$kdir") ||
        { report fail "$label/boot" "cannot prepare Debian's $LTS_SERIES kernel"; continue; }
    kernel=$(ls "$kdir"/pkg/boot/vmlinuz-* | head -n 1)
    for d in vda nvme; do
        cp "$tmp/disk-data" "$tmp/$name-$d.img" && truncate -s $((4 * disk_mib))M "$tmp/$name-$d.img"
    done
    # shellcheck disable=SC2054  # commas belong to QEMU's option syntax
    devs=(-drive "file=$tmp/$name-vda.img,if=none,format=raw,id=vd0"
          -device virtio-blk-pci,drive=vd0,iommu_platform=on,disable-legacy=on,romfile=
          -drive "file=$tmp/$name-nvme.img,if=none,format=raw,id=nv0"
          -device nvme,drive=nv0,serial=lts0
          -netdev user,id=n0 -device virtio-net-pci,netdev=n0,iommu_platform=on,disable-legacy=on,romfile=
          -netdev user,id=n1 -device "$nic2,netdev=n1,romfile=")
    append="console=$console panic=-1 $kopts lts.url=http://10.0.2.2:$port/data lts.sha=$sha"
    append+=" lts.disk=$disk_mib:$dsha lts.step=60"
    log=$logdir/lts-$arch-$name.log
    # shellcheck disable=SC2086  # table option strings are word-split on purpose
    cmd=("$qemu" $mopts $dopts -m 1G -smp 1 -nographic -no-reboot "${firmware[@]}"
         -kernel "$kernel" -initrd "$initrd" -append "$append" "${devs[@]}" $qemu_args)
    echo "# $label: ${cmd[*]}" > "$log"
    t0=$(date +%s)
    timeout -k 5 "$timeout" "${cmd[@]}" </dev/null >>"$log" 2>&1
    rc=$?
    tr -d '\r' < "$log" > "$log.clean" && mv "$log.clean" "$log"
    echo "# $label: $(basename "$kernel") ran $(($(date +%s) - t0)) s (qemu exit $rc), log $log"
    nets="net/virtio_net net/$nic2"
    for t in $CHECKS $(for x in $nets; do echo "$x-dhcp $x-fetch"; done); do
        if grep -qx "LTS: ok $t" "$log"; then
            report ok "$label/$t"
        else
            why=$(sed -n "s|^LTS: not ok $t # ||p" "$log" | head -n 1)
            report fail "$label/$t" "${why:-no result (qemu exit $rc: timeout or crash)}"
        fi
    done
    # What the guest wrote must have reached the image files.
    for d in vda nvme; do
        got=$(dd if="$tmp/$name-$d.img" bs=1M skip="$disk_mib" count="$disk_mib" 2>/dev/null | sha256sum | cut -d' ' -f1)
        if [ "$got" = "$dsha" ]; then report ok "$label/disk/$d-image"
        else report fail "$label/disk/$d-image" "the image's copy has sha256 $got"; fi
    done
    grep -q '^LTS: done' "$log" || grep -v '^LTS: # dmesg' "$log" | tail -n 15 | sed 's/^/#   /'
    rm -f "$tmp/$name-"*.img
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
