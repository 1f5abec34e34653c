#!/usr/bin/env bash
# Guest I/O through the vIOMMU, for no IOMMU and every vIOMMU configuration of
# scripts/guest-test.sh, per architecture, in the same QEMU binary; each guest
# runs tests/guest/viommu-guest-bench.c (median of 5 runs per case, with the
# spread):
#   blk     virtio-blk (iommu_platform=on), 256 MiB of 64 KiB O_DIRECT reads;
#   blk-mq  a second virtio-blk disk with 2 queues on 2 iothreads, read by one
#           process per vCPU (-smp 2): its scaling over blk shows whether the
#           IOMMU's hit path serialises the iothreads (compare with no-IOMMU's);
#   nvme    the blk reads from an NVMe namespace (QEMU's nvme device; its queues
#           and PRP lists are DMA through the IOMMU too);
#   net     a third virtio-net NIC (user network) sends 32 MiB over TCP to a peer
#           this script runs on the host and receives 32 MiB from it (transmit
#           and receive DMA; the user network's cost is the same everywhere).
#
#   scripts/guest-bench.sh [--arch arm64|x86_64]... [--viommu NAME]...
#
# Prints one line per configuration and case: seconds, MiB/s, spread, the ratio
# to no-IOMMU and, for ours, to the upstream vIOMMU of the same architecture,
# and whether issue 14's goals are met (docs/performance.rst explains the
# figures); exits non-zero if a run failed.  viommu-smmuv3-acpi is left out (the
# same device as viommu-smmuv3, booted through UEFI: --viommu adds it back).
set -uo pipefail
. "$(dirname "$0")/common.sh"

# Baselines without an IOMMU, and bench-only variants (not in the test matrix).
BASELINES=(
    "no-iommu|arm64|-M virt,gic-version=3 -cpu max|"
    "no-iommu|x86_64|-M q35,kernel-irqchip=split|"
)
EXTRA=(
    "upstream-intel-iommu-legacy|x86_64|-M q35,kernel-irqchip=split|-device intel-iommu,intremap=on"
)
CASES=(blk blk-mq nvme net)
# Issue 14's goals for our vIOMMUs: vs no-IOMMU in strict (DMA) / lazy (DMA-FQ)
# domains, and vs upstream's vIOMMU in the same binary.
GOAL_STRICT=0.90 GOAL_LAZY=0.95 GOAL_UPSTREAM=1.30

archs=() want=()
while [ $# -gt 0 ]; do
    case "$1" in
        --arch)   archs+=("${2:?--arch needs arm64 or x86_64}"); shift 2 ;;
        --viommu) want+=("${2:?--viommu needs a name}"); shift 2 ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
[ ${#archs[@]} -gt 0 ] || archs=(arm64 x86_64)

mapfile -t table < <("$VIOMMU_TOP/scripts/guest-test.sh" --list-raw)
table+=("${EXTRA[@]}")
failed=0
logdir=$VIOMMU_CACHE/guest/logs
mkdir -p "$logdir"
mqdisk=$logdir/bench-mq.disk
nvmedisk=$logdir/bench-nvme.disk

# The bench's own devices next to guest-test.sh's virtio-blk and virtio-net.
# shellcheck disable=SC2054  # commas belong to QEMU's option syntax
bench_devices=(
    --qemu-arg -object --qemu-arg iothread,id=bio0 --qemu-arg -object --qemu-arg iothread,id=bio1
    --qemu-arg -drive --qemu-arg "file=$mqdisk,if=none,format=raw,id=vmq,cache=none,aio=threads"
    --qemu-arg -device
    --qemu-arg '{"driver":"virtio-blk-pci","drive":"vmq","serial":"viommu-mq","num-queues":2,"iothread-vq-mapping":[{"iothread":"bio0"},{"iothread":"bio1"}],"iommu_platform":true,"disable-legacy":"on","romfile":""}'
    --qemu-arg -drive --qemu-arg "file=$nvmedisk,if=none,format=raw,id=vnv,cache=none,aio=threads"
    --device nvme,serial=viommu-nvme,drive=vnv
    --qemu-arg -netdev --qemu-arg user,id=bn0,net=10.7.0.0/24
    --device virtio-net-pci,netdev=bn0,mac=52:54:00:76:6e:01,iommu_platform=on,disable-legacy=on,romfile=
)

# The net case's peer: per connection, an 8-byte big-endian length, that many
# bytes from the guest, one byte back, then as many bytes to the guest.
peer_py='
import socket, struct, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
print(s.getsockname()[1], flush=True)
buf = b"\xa5" * (256 << 10)
while True:
    c, _ = s.accept()
    try:
        hdr = b""
        while len(hdr) < 8:
            d = c.recv(8 - len(hdr))
            if not d: raise EOFError
            hdr += d
        n = left = struct.unpack(">Q", hdr)[0]
        while left > 0:
            d = c.recv(min(left, 1 << 20))
            if not d: raise EOFError
            left -= len(d)
        c.sendall(b"\x01")
        while n > 0:
            k = min(n, len(buf)); c.sendall(buf[:k]); n -= k
    except (EOFError, OSError):
        pass
    c.close()
'
coproc PEER { exec python3 -c "$peer_py"; }
read -r peer_port <&"${PEER[0]}" || die "the net case's peer did not start"
trap 'kill $PEER_PID 2>/dev/null' EXIT

# One guest per configuration: "CASE median min max mib_s" lines and "domain D".
bench_one() { # config-line
    local out
    rm -f "$mqdisk" "$nvmedisk" && truncate -s 256M "$mqdisk" "$nvmedisk" || return
    out=$(VIOMMU_GUEST_APPEND="${VIOMMU_GUEST_APPEND:-} viommu.bench-peer=10.7.0.2:$peer_port" \
          "$VIOMMU_TOP/scripts/guest-test.sh" --config "$1" --run-guest /usr/bin/viommu-guest-bench \
          --disk-mib 256 --timeout 900 "${bench_devices[@]}" 2>&1)
    echo "$out" > "$logdir/bench-${1%%|*}-$(cut -d'|' -f2 <<<"$1").out"
    awk '/^VIOMMU-BENCH: domain / { print "domain", $3 }
         $1 == "VIOMMU-BENCH:" && $3 == "median" { print $2, $4, $6, $7, $5 }' <<<"$out"
}

declare -A med lo hi rate dom
configs=()
for arch in "${archs[@]}"; do
    for c in "${BASELINES[@]}" "${table[@]}"; do
        IFS='|' read -r name carch _ _ <<<"$c"
        [ "$carch" = "$arch" ] || continue
        if [ ${#want[@]} -gt 0 ]; then
            [ "$name" = no-iommu ] || printf '%s\n' "${want[@]}" | grep -qx "$name" || continue
        elif [ "$name" = viommu-smmuv3-acpi ] || [ "$name" = viommu-smmuv3-stall ]; then
            continue
        fi
        k=$arch/$name
        configs+=("$k")
        while read -r what a b x y; do
            if [ "$what" = domain ]; then dom[$k]=$a; continue; fi
            med[$k/$what]=$a lo[$k/$what]=$b hi[$k/$what]=$x rate[$k/$what]=$y
        done < <(bench_one "$c")
    done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "-"; else printf "%.2fx", a / b }'; }
printf '%-7s %-28s %-7s %-6s %8s %9s %15s %8s %8s  %s\n' \
    arch configuration domain case seconds MiB/s min-max vs-none vs-upstr goals
for k in "${configs[@]}"; do
    arch=${k%%/*} name=${k#*/}
    upstream=""
    for u in "${configs[@]}"; do
        case "$u" in "$arch"/upstream-*) upstream=$u; break ;; esac
    done
    for cs in "${CASES[@]}"; do
        if [ -z "${med[$k/$cs]:-}" ]; then
            printf '%-7s %-28s %s\n' "$arch" "$name" "$cs: FAILED (see $logdir/bench-$name-$arch.out)"
            failed=1
            continue
        fi
        base=${med[$arch/no-iommu/$cs]:-}
        vs_none=$(ratio "$base" "${med[$k/$cs]}")
        vs_up=-
        [ -n "$upstream" ] && [ "$k" != "$upstream" ] && [[ $name == viommu-* ]] &&
            vs_up=$(ratio "${med[$upstream/$cs]:-}" "${med[$k/$cs]}")
        goals=""
        if [[ $name == viommu-* ]]; then
            case "${dom[$k]:-}" in DMA) g=$GOAL_STRICT ;; DMA-FQ) g=$GOAL_LAZY ;; *) g="" ;; esac
            goals=$(awk -v n="${vs_none%x}" -v u="${vs_up%x}" -v g="$g" -v gu="$GOAL_UPSTREAM" 'BEGIN {
                if (g != "" && n != "-") out = sprintf("%.2fx none: %s", g, (n >= g ? "met" : "not met"))
                if (u != "-") out = out (out == "" ? "" : "; ") sprintf("%.2fx upstream: %s", gu, (u >= gu ? "met" : "not met"))
                printf "%s", out }')
        fi
        if [ "$cs" = blk-mq ] && [ -n "${rate[$k/blk]:-}" ]; then
            goals+="${goals:+; }scales $(ratio "${rate[$k/blk-mq]}" "${rate[$k/blk]}") over blk"
        fi
        printf '%-7s %-28s %-7s %-6s %8s %9s %15s %8s %8s  %s\n' "$arch" "$name" "${dom[$k]:-?}" \
            "$cs" "${med[$k/$cs]}" "${rate[$k/$cs]}" "${lo[$k/$cs]}-${hi[$k/$cs]}" "$vs_none" "$vs_up" "$goals"
    done
done
echo "(goals: docs/performance.rst; seconds are medians of 5 runs, min-max their spread)"
rm -f "$mqdisk" "$nvmedisk"
exit $failed
