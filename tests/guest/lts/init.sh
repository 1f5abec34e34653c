#!/bin/busybox sh
# shellcheck shell=dash
# /init of the LTS-guest initramfs (scripts/guest-lts-test.sh packs it with
# Debian's busybox-static and the modules of Debian's own kernel package).
#
# Exercises the DMA API of an unmodified distribution kernel through the vIOMMU:
# every disk is read and checked, then written and checked again; every NIC is
# brought up alone with DHCP on slirp and fetches a file from the host's
# loopback HTTP server, checked by SHA-256.  Kernel command line:
#   lts.url=URL        the file to fetch (through slirp's host address)
#   lts.sha=HEX        its SHA-256
#   lts.disk=MIB:HEX   the first MIB MiB of every disk and their SHA-256
#   lts.step=SECONDS   time limit of one step (default 60)
# Prints "LTS: ok NAME" / "LTS: not ok NAME # reason" per check, "LTS: # ..."
# diagnostics, "LTS: done" at the end; the host adds the missing checks.

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp /run
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/sbin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
dmesg -n 1

url='' sha='' disk='' step=60
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        lts.url=*)  url=${arg#lts.url=} ;;
        lts.sha=*)  sha=${arg#lts.sha=} ;;
        lts.disk=*) disk=${arg#lts.disk=} ;;
        lts.step=*) step=${arg#lts.step=} ;;
    esac
done
ok()    { echo "LTS: ok $1"; }
notok() { echo "LTS: not ok $1 # $2"; }
info()  { echo "LTS: # $*"; }

info "Linux $(uname -r) $(uname -m)"
# Modules of the kernel package, dependencies first (the host ordered them).
while read -r m; do
    [ -n "$m" ] || continue
    insmod "/lib/modules/$m" 2>/tmp/insmod.err || info "insmod $m: $(cat /tmp/insmod.err)"
done < /lib/modules/order
# Devices probe asynchronously: wait (bounded) for the block devices and NICs.
i=0
while [ $i -lt "$step" ]; do
    [ -e /sys/block/vda ] && [ -e /sys/block/nvme0n1 ] && ls /sys/class/net | grep -q eth1 && break
    sleep 1; i=$((i + 1))
done
for d in /sys/bus/pci/devices/*; do
    g=$(readlink "$d/iommu_group" 2>/dev/null)
    drv=$(readlink "$d/driver" 2>/dev/null)
    info "pci $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") group ${g##*/} driver ${drv##*/}"
done
for i in /sys/class/iommu/*; do [ -e "$i" ] && info "iommu $(basename "$i")"; done
# The DMA API must go through the vIOMMU: every tested device sits in a group
# whose default domain translates (DMA or DMA-FQ), not identity or none.
bad=''
for drv in virtio-pci nvme igb e1000e; do
    for d in /sys/bus/pci/drivers/$drv/0000:*; do
        [ -e "$d" ] || continue
        t=$(cat "$d/iommu_group/type" 2>/dev/null)
        case "$t" in DMA|DMA-FQ) ;; *) bad="$bad $(basename "$d"):${t:-no-group}" ;; esac
    done
done
if [ -z "$bad" ] && [ -n "$(ls /sys/class/iommu 2>/dev/null)" ]; then ok iommu/dma-domains
else notok iommu/dma-domains "not translated:${bad:- no IOMMU}"; fi

# Disks: the host's data reads back, a copy written behind it reads back too
# (after dropping the page cache); the host checks the copy in the image file.
mib=${disk%%:*} dsha=${disk#*:}
for b in vda nvme0n1; do
    name=disk/$b
    if [ ! -b "/dev/$b" ]; then notok "$name-read" "no /dev/$b"; notok "$name-write" "no /dev/$b"; continue; fi
    got=$(timeout "$step" dd if="/dev/$b" bs=1M count="$mib" 2>/dev/null | sha256sum | cut -d' ' -f1)
    if [ "$got" = "$dsha" ]; then ok "$name-read"; else notok "$name-read" "sha256 $got, want $dsha"; fi
    timeout "$step" dd if="/dev/$b" of="/dev/$b" bs=1M count="$mib" seek="$mib" conv=fsync 2>/dev/null
    sync; echo 3 > /proc/sys/vm/drop_caches
    got=$(timeout "$step" dd if="/dev/$b" bs=1M count="$mib" skip="$mib" 2>/dev/null | sha256sum | cut -d' ' -f1)
    if [ "$got" = "$dsha" ]; then ok "$name-write"; else notok "$name-write" "sha256 $got, want $dsha"; fi
done

# udhcpc's hook: configure the lease on the one interface that is up.
cat > /tmp/dhcp.sh <<'EOF'
#!/bin/sh
case "$1" in
    bound|renew) ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
                 route add default gw "$router" dev "$interface" ;;
    deconfig)    ifconfig "$interface" 0.0.0.0 ;;
esac
exit 0
EOF
chmod +x /tmp/dhcp.sh
# NICs one at a time: each is on its own slirp network with the same addresses.
for n in /sys/class/net/eth*; do
    [ -e "$n" ] || continue
    dev=$(basename "$n")
    drv=$(readlink "$n/device/driver"); drv=${drv##*/}
    name=net/$drv
    ifconfig "$dev" up
    if ! timeout "$step" udhcpc -i "$dev" -n -q -f -t 10 -T 2 -s /tmp/dhcp.sh >/tmp/dhcp.log 2>&1; then
        notok "$name-dhcp" "no lease: $(tail -n 1 /tmp/dhcp.log)"
        notok "$name-fetch" "no lease"
    else
        ok "$name-dhcp"
        rm -f /tmp/fetch
        timeout "$step" wget -q -T "$step" -O /tmp/fetch "$url" 2>/tmp/wget.err
        rc=$?
        got=$(sha256sum /tmp/fetch 2>/dev/null | cut -d' ' -f1)
        if [ "$got" = "$sha" ]; then ok "$name-fetch"
        else notok "$name-fetch" "wget exit $rc, $(wc -c < /tmp/fetch 2>/dev/null) bytes, sha256 $got"; fi
        rm -f /tmp/fetch
    fi
    ifconfig "$dev" 0.0.0.0 down
    grep -E "$dev|virtio|igb|e1000e" /proc/interrupts | sed 's/  */ /g' | while read -r l; do info "irq $l"; done
done
echo "LTS: done"
dmesg | grep -iE 'smmu|iommu|dmar|virtio|igb|e1000e|nvme|its|msi|timeout|watchdog|error|warn' | sed 's/^/LTS: # dmesg: /'
sync
poweroff -f
