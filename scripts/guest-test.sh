#!/usr/bin/env bash
# Boot a Linux guest per (architecture, vIOMMU) configuration in our QEMU build
# and run the guest suite (tests/guest/viommu-guest-test.c) against viommu-testdev.
#
#   scripts/guest-test.sh [--viommu NAME]... [--tests 1,5] [--timeout SECONDS]
#                         [--device QEMU-DEVICE-OPTS]... [--run FILE] [--list]
#
# --viommu NAME   a configuration of the table below (repeatable; default: all)
# --tests LIST    subtests by number or name, comma separated (default: all)
# --timeout S     wall-clock limit per guest (default 180)
# --device OPTS   extra -device for QEMU (repeatable), e.g. virtio-blk-pci,...
# --qemu-arg ARG  one more word of QEMU's command line (repeatable), e.g. -object
# --no-virtio     leave out the virtio-blk disk and virtio-net NIC (iommu_platform=on)
#                 that every guest gets for the DMA-API subtest
# --run FILE      instead of the suite, run FILE (a static guest program or a
#                 busybox shell script) in the guest; print its output and exit status
# --run-guest CMD like --run, for a program already in the initramfs
#                 (e.g. /usr/bin/viommu-guest-bench); CMD has no arguments
# --disk-mib N    give the guest an empty (sparse) N MiB virtio disk instead of the
#                 self-describing test disk (for --run programs such as the bench)
# --config 'NAME|ARCH|MACHINE-OPTS|DEVICE-OPTS'
#                 run an ad-hoc configuration instead of the table's (repeatable)
# --list          print the configuration table (--list-raw: the table's lines)
# --verbose       the guest narrates each step; its diagnostics are printed
#
# Configurations named upstream-* are reference columns for the comparison
# matrix: their subtests may skip (the guest is booted with
# viommu.column=reference), and their failures are recorded there (and printed
# as TAP "# TODO" lines) but do not make this script fail.  Every other
# configuration is ours: the guest program fails a subtest that would skip or
# pass only in part, and this script fails a SKIP line there too.
#
# Cross-checks of each guest run (each a failure on our columns):
#   every expected subtest (all, or --tests, less those whose tests[] row says
#   ".on" another IOMMU than the configuration's) has exactly one result line; the
#   guest's "done P passed F failed S skipped" and "exit N" agree with the lines;
#   QEMU exits 0 (not killed by --timeout); the kernel log (the guest's dmesg,
#   with the program's begin/end marks around each subtest) has no WARNING, BUG,
#   Oops or IOMMU command/invalidation timeout, and no IOMMU fault message
#   outside the subtests that provoke faults (rows "run" and "dmesg").
#
# Prints "ok N ARCH/VIOMMU/TEST" / "not ok N ... # reason" / "... # SKIP reason",
# then "N passed, M failed, K skipped" (skips: reference columns only); exits
# non-zero if anything failed.
# Writes the test x vIOMMU matrix to $VIOMMU_CACHE/guest/matrix.rst (matrix-adhoc.rst
# with --config) and the serial log of each guest to $VIOMMU_CACHE/guest/logs/.
set -uo pipefail
. "$(dirname "$0")/common.sh"

# UEFI firmware for arm64 ACPI guests (package qemu-efi-aarch64, scripts/install-deps.sh).
AAVMF_FD=${VIOMMU_AAVMF_FD:-/usr/share/qemu-efi-aarch64/QEMU_EFI.fd}

# ---------------------------------------------------------------------------
# Configurations: NAME | ARCH | machine (+cpu, firmware) options | vIOMMU -device options
# [| SUBTESTS: the only subtests that run there, by name, comma-separated]
# Adding a vIOMMU column is one line here.  arm64 boots with a device tree
# (-kernel straight into Linux) unless the machine options give a -bios: then
# UEFI firmware (Debian's qemu-efi-aarch64) starts the kernel as an EFI
# application and Linux finds the SMMU in the ACPI IORT.
CONFIGS=(
    "viommu-smmuv3|arm64|-M virt,gic-version=3 -cpu max|-device viommu-smmuv3"
    "viommu-smmuv3-acpi|arm64|-M virt,gic-version=3,acpi=on -cpu max -bios $AAVMF_FD|-device viommu-smmuv3"
    "viommu-vtd|x86_64|-M q35,kernel-irqchip=split|-device viommu-vtd"
    # The stall model (stall=on, the test device marked dma-can-stall in the DT):
    # SVA's not-yet-faulted pages through stall events and Linux's IOPF.
    "viommu-smmuv3-stall|arm64|-M virt,gic-version=3 -cpu max|-device viommu-smmuv3,stall=on|dma-api,sva"
    "upstream-smmuv3|arm64|-M virt,gic-version=3,iommu=smmuv3 -cpu max|-global arm-smmuv3.stage=nested"
    "upstream-intel-iommu|x86_64|-M q35,kernel-irqchip=split|-device intel-iommu,intremap=on,x-scalable-mode=on,x-flts=on,x-pasid-mode=on"
)
# ---------------------------------------------------------------------------

# Per-architecture constants: QEMU binary, console, kernel image, extra options.
arch_qemu()    { case $1 in arm64) echo qemu-system-aarch64 ;; x86_64) echo qemu-system-x86_64 ;; esac; }
arch_console() { case $1 in arm64) echo ttyAMA0 ;; x86_64) echo ttyS0 ;; esac; }
arch_image()   { case $1 in arm64) echo Image ;; x86_64) echo bzImage ;; esac; }
# x86: SeaBIOS and its option ROMs from Debian's packages; no built-in AHCI
# (SeaBIOS spends ~30 s under TCG probing q35's SATA ports before booting).
arch_extra()   { case $1 in x86_64) echo "-L /usr/share/seabios -L /usr/share/qemu -machine sata=off" ;; *) echo ;; esac; }

# The IOMMU Linux finds on each architecture (a tests[] row's ".on = ON_VTD" /
# "ON_SMMUV3" says which ones a subtest applies to; the guest program decides
# the same from the device's sysfs iommu link).
arch_iommu()   { case $1 in arm64) echo smmuv3 ;; x86_64) echo vtd ;; esac; }

# The subtests of the guest program (its tests[] table) as NUMBER:NAME:ON, ON
# being "all" or the row's ".on" IOMMUs (lower case, "+"-joined).  A row runs
# from its "{ N, "name"," line to the line ending in "},".
TEST_TABLE=$(awk '
    /^static const struct test tests\[\] = \{/ { t = 1; next }
    t && /^\};/ { t = 0 }
    !t { next }
    /^    \{ *[0-9]+, *"/ { row = "" }
    { row = row " " $0 }
    /\}, *$/ {
        if (match(row, /\{ *[0-9]+, *"[a-z0-9-]+"/)) {
            h = substr(row, RSTART, RLENGTH); gsub(/[{" ]/, "", h); split(h, f, ",")
            on = "all"
            if (match(row, /\.on *= *[A-Z0-9_| ]+/)) {
                on = substr(row, RSTART, RLENGTH); sub(/^\.on *= */, "", on)
                gsub(/ |ON_/, "", on); gsub(/\|/, "+", on); on = tolower(on)
            }
            print f[1] ":" f[2] ":" on
        }
        row = ""
    }' "$VIOMMU_TOP/tests/guest/viommu-guest-test.c" | xargs)
ALL_TESTS=$(for e in $TEST_TABLE; do echo "${e%:*}"; done | xargs)     # NUMBER:NAME
# Does a TEST_TABLE entry apply to IOMMU?
applies() { # entry iommu
    case "+${1##*:}+" in +all+|*"+$2+"*) return 0 ;; esac
    return 1
}

# Kernel log lines that fail a run anywhere, and IOMMU fault messages.
DMESG_BAD='(^|[^A-Za-z_])(WARNING|BUG|Oops)([^A-Za-z_]|$)|CMD_SYNC timeout|CMDQ timeout|Invalidation Time-out|Invalidation Queue Error|Unable to handle kernel|general protection fault'
DMESG_FAULT='event 0x[0-9a-f]+ received|DMAR: [[](DMA|INTR-REMAP)|DMAR: DRHD: handling fault'
# Print what is wrong with the guest's kernel log in LOG (nothing if all is
# well).  The guest program marks each subtest with "viommu-guest-test: begin
# N name faults=expected|none" (expected: it makes the IOMMU fault on purpose;
# on x86 replace too, see replace_storm() in the program) and "... end N name";
# lines after an end still belong to that subtest until the next begin (a
# fault interrupt may log a little late).
check_dmesg() { # log
    sed -n 's/^dmesg: //p' "$1" | awk '
        /^viommu-guest-test: begin / { cur = $4; ok = $5 == "faults=expected"; marks++; next }
        /^viommu-guest-test: end /   { next }
        $0 ~ ENVIRON["DMESG_BAD"] { if (!nb++) fb = $0 }
        $0 ~ ENVIRON["DMESG_FAULT"] && !ok {
            if (!nf++) { ff = $0; ft = cur == "" ? "before the first subtest" : "in " cur } }
        END {
            if (!marks) { print "no subtest marks in the kernel log (dmesg missing or overwritten)"; exit }
            if (nb) printf "%d kernel warning/error lines, first: %s", nb, fb
            if (nb && nf) printf "; "
            if (nf) printf "%d IOMMU fault lines %s, where no fault is expected (first: %s)", nf, ft, ff
        }'
}
export DMESG_BAD DMESG_FAULT

verbose=0 want=() adhoc=() tests="" timeout=180 devices=() qemu_args=() run_file="" run_guest="" disk_mib="" list=0 virtio=1
while [ $# -gt 0 ]; do
    case "$1" in
        --viommu)  want+=("${2:?--viommu needs a name}"); shift 2 ;;
        --tests)   tests=${2:?--tests needs a list}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        --device)  devices+=("${2:?--device needs options}"); shift 2 ;;
        --qemu-arg) qemu_args+=("${2?--qemu-arg needs an argument}"); shift 2 ;;
        --run)     run_file=${2:?--run needs a file}; shift 2 ;;
        --list)    list=1; shift ;;
        --list-raw) printf '%s\n' "${CONFIGS[@]}"; exit 0 ;;
        --run-guest) run_guest=${2:?--run-guest needs a path in the guest}; shift 2 ;;
        --disk-mib) disk_mib=${2:?--disk-mib needs a size}; shift 2 ;;
        --config)  adhoc+=("${2:?--config needs NAME|ARCH|MACHINE-OPTS|DEVICE-OPTS}"); shift 2 ;;
        --no-virtio) virtio=0; shift ;;
        --verbose) verbose=1; shift ;;
        -h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (--help lists them)" ;;
    esac
done

if [ $list = 1 ]; then
    for c in "${CONFIGS[@]}"; do
        IFS='|' read -r name arch mopts dopts only <<<"$c"
        printf '%-24s %-7s %s %s%s\n' "$name" "$arch" "$mopts" "$dopts" "${only:+ (subtests $only)}"
    done
    exit 0
fi

selected=()
for c in "${CONFIGS[@]}"; do
    name=${c%%|*}
    if [ ${#want[@]} -eq 0 ] && [ ${#adhoc[@]} -eq 0 ]; then
        selected+=("$c")
    else
        for w in "${want[@]}"; do [ "$w" = "$name" ] && selected+=("$c"); done
    fi
done
for c in "${adhoc[@]}"; do
    IFS='|' read -r name arch mopts dopts _ <<<"$c"
    [ -n "$name" ] && { [ "$arch" = arm64 ] || [ "$arch" = x86_64 ]; } ||
        die "--config '$c': expected NAME|arm64 or x86_64|MACHINE-OPTS|DEVICE-OPTS"
    selected+=("$c")
done
for w in "${want[@]}"; do
    printf '%s\n' "${CONFIGS[@]}" | grep -q "^$w|" ||
        die "no configuration '$w' (known: $(printf '%s\n' "${CONFIGS[@]}" | cut -d'|' -f1 | xargs))"
done
[ -z "$run_file" ] || [ -f "$run_file" ] || die "--run: no file $run_file"

# The subtests asked for (all, or --tests), as TEST_TABLE entries; each
# configuration expects a result line from those that apply to its IOMMU.
wanted=""
for e in $TEST_TABLE; do
    nt=${e%:*}
    if [ -z "$tests" ]; then wanted+="$e "; continue; fi
    for w in ${tests//,/ }; do
        [ "$w" = "${nt%%:*}" ] || [ "$w" = "${nt#*:}" ] && wanted+="$e "
    done
done
[ -n "$ALL_TESTS" ] || die "no subtests found in tests/guest/viommu-guest-test.c"
for w in ${tests//,/ }; do
    case " $ALL_TESTS " in *" $w:"*|*":$w "*) ;; *) die "--tests: no subtest '$w' (known: $ALL_TESTS)" ;; esac
done

logdir=$VIOMMU_CACHE/guest/logs
mkdir -p "$logdir"
n=0 pass=0 fail=0 skip=0 ref_fail=0 reference=0
results=$logdir/results.$$           # config|test|status|reason, for the matrix
: > "$results"
# Each run writes its own serial log and disk (other runs may be going on at
# the same time: QEMU would refuse a disk image another QEMU holds); at exit
# the logs take the stable names ARCH-CONFIG.log and the disks are removed.
finish() {
    local f
    rm -f "$results" "$logdir"/*."$$".disk
    for f in "$logdir"/*."$$".log; do [ -e "$f" ] && mv -f "$f" "${f%."$$".log}.log"; done
}
trap finish EXIT

# A self-describing test disk for virtio-blk: header (magic, data length, FNV-1a 64
# of the data) in the first 4 KiB, then deterministic data; the guest checks it.
make_disk() { # file
    python3 - "$1" <<'PY'
import struct, sys, random
n = 4 << 20
data = random.Random(20261122).randbytes(n)
h = 0xcbf29ce484222325
for b in data:
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
hdr = b"VIOMMU-GUEST-DISK-1".ljust(32, b"\0") + struct.pack("<QQ", n, h)
with open(sys.argv[1], "wb") as f:
    f.write(hdr.ljust(4096, b"\0") + data)
PY
}

report() { # status label reason
    n=$((n + 1))
    case "$1" in
        pass) pass=$((pass + 1)); echo "ok $n $2${3:+ # $3}" ;;
        skip) skip=$((skip + 1)); echo "ok $n $2 # SKIP $3" ;;
        fail)
            if [ "$reference" = 1 ]; then
                ref_fail=$((ref_fail + 1)); echo "not ok $n $2 # TODO reference column: $3"
            else
                fail=$((fail + 1)); echo "not ok $n $2 # $3"
            fi ;;
    esac
}

for c in "${selected[@]}"; do
    IFS='|' read -r name arch mopts dopts only <<<"$c"
    label=$arch/$name
    case "$name" in upstream-*) reference=1 ;; *) reference=0 ;; esac
    # The result lines this guest run must print, by name, and the subtests
    # that do not apply to its IOMMU (the guest prints nothing for those).
    expect="" notapply=""
    for e in $wanted; do
        t=${e#*:}; t=${t%%:*}
        if applies "$e" "$(arch_iommu "$arch")" &&
           { [ -z "$only" ] || [[ ",$only," == *",$t,"* ]]; }; then
            expect+="$t "
        else
            notapply+="$t "
        fi
    done
    expect=${expect% } notapply=${notapply% }
    # A configuration for some subtests only: the guest runs just those.
    runtests=$tests
    if [ -n "$only" ]; then
        [ -n "$expect" ] || continue
        runtests=${expect// /,}
    fi
    qemu=$QEMU_BUILD/$(arch_qemu "$arch")
    [ -x "$qemu" ] || { report fail "$label/boot" "no $qemu: run make"; continue; }
    case " $mopts " in
        *" -bios "*) fw=${mopts#*-bios }; fw=${fw%% *}
            [ -f "$fw" ] || { report fail "$label/boot" "no firmware $fw: install qemu-efi-aarch64 (scripts/install-deps.sh)"; continue; } ;;
    esac

    kdir=$("$VIOMMU_TOP/scripts/guest-kernel.sh" "$arch" | tail -n 1) &&
        [ -f "$kdir/.complete" ] || { report fail "$label/boot" "guest kernel build failed"; continue; }
    extra=()
    [ -z "$run_file" ] || extra=(--extra "$run_file")
    initrd=$("$VIOMMU_TOP/scripts/guest-initramfs.sh" "$arch" "${extra[@]}" | tail -n 1) &&
        [ -f "$initrd" ] || { report fail "$label/boot" "guest initramfs build failed"; continue; }

    append="console=$(arch_console "$arch") panic=-1 viommu.timeout=60"
    if [ "$reference" = 1 ]; then append+=" viommu.column=reference"; else append+=" viommu.column=ours"; fi
    [ -z "$runtests" ] || append+=" viommu.tests=$runtests"
    # An SMMU that stalls where the device tree says dma-can-stall (stall=on).
    case ",$dopts," in *,stall=on,*) append+=" viommu.stall=1" ;; esac
    # x86 check_timer() wants 4 IOAPIC timer ticks inside a TSC-timed window: a
    # wall-clock race under TCG on a loaded host (it panicked 1 boot in 20 with the
    # machine at load 20).  Remapped IOAPIC interrupts are checked by the qtest
    # viommu-vtd-test (interrupt-remapping/ioapic), and every guest IRQ goes through remapping.
    [ "$arch" != x86_64 ] || append+=" no_timer_check"
    [ "$verbose" = 0 ] || append+=" viommu.verbose=1"
    # Extra kernel arguments from the caller (scripts/guest-bench.sh: iommu.strict=0/1).
    [ -z "${VIOMMU_GUEST_APPEND:-}" ] || append+=" $VIOMMU_GUEST_APPEND"
    [ -z "$run_file" ] || append+=" viommu.run=/extra/$(basename "$run_file")"
    [ -z "$run_guest" ] || append+=" viommu.run=$run_guest"
    devargs=()
    for d in "${devices[@]}"; do devargs+=(-device "$d"); done
    devargs+=("${qemu_args[@]}")
    log=$logdir/$arch-$name.$$.log
    if [ $virtio = 1 ]; then
        disk=$logdir/$arch-$name.$$.disk
        if [ -n "$disk_mib" ]; then
            rm -f "$disk" && truncate -s "${disk_mib}M" "$disk"
        else
            make_disk "$disk"
        fi || { report fail "$label/boot" "cannot create the test disk $disk"; continue; }
        # shellcheck disable=SC2054  # commas belong to QEMU's option syntax
        devargs+=(-drive "file=$disk,if=none,format=raw,id=vd0"
                  -device virtio-blk-pci,drive=vd0,iommu_platform=on,disable-legacy=on,romfile=
                  -netdev user,id=vn0
                  -device virtio-net-pci,netdev=vn0,iommu_platform=on,disable-legacy=on,romfile=)
    else
        devargs+=(-nic none)        # no default NIC (it would want an option ROM)
    fi
    # shellcheck disable=SC2046,SC2086,SC2206,SC2207  # table option strings are word-split on purpose
    # Two vCPUs: the replace subtest DMAs from one thread while another attaches.
    cmd=("$qemu" $mopts $dopts -m 1G -smp 2 -nographic -no-reboot $(arch_extra "$arch")
         -kernel "$kdir/$(arch_image "$arch")" -initrd "$initrd" -append "$append"
         -device viommu-testdev "${devargs[@]}")
    echo "# $label: ${cmd[*]}" > "$log"
    t0=$(date +%s.%N)
    timeout -k 5 "$timeout" "${cmd[@]}" </dev/null >>"$log" 2>&1
    rc=$?
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    tr -d '\r' < "$log" > "$log.clean" && mv "$log.clean" "$log"
    echo "# $label: guest ran $secs s (qemu exit $rc), log ${log%."$$".log}.log"

    if [ -n "$run_file$run_guest" ]; then
        what=${run_file:-$run_guest}
        sed -n '/^VIOMMU-RUN: begin/,/^VIOMMU-RUN: exit/p' "$log" | sed '1d; $d'
        st=$(sed -n 's/^VIOMMU-RUN: exit \([0-9]*\)$/\1/p' "$log" | tail -n 1)
        if [ -z "$st" ]; then
            report fail "$label/run" "the guest program did not finish (qemu exit $rc, ${secs}s)"
        elif [ "$rc" != 0 ]; then
            report fail "$label/run $(basename "$what")" "exit status $st, but QEMU exited $rc (timeout: ${timeout}s)"
        elif [ "$st" = 0 ]; then
            report pass "$label/run $(basename "$what")" ""
        else
            report fail "$label/run $(basename "$what")" "exit status $st"
        fi
        continue
    fi

    grep -q '^VIOMMU-TEST: begin' "$log" ||
        { report fail "$label/boot" "the guest never reached the test suite (qemu exit $rc after ${secs}s)";
          echo "$name|boot|fail|never reached the suite (qemu exit $rc)" >> "$results"
          tail -n 15 "$log" | sed 's/^/#   /'; continue; }
    seen=" " np=0 nf=0 ns=0 runerr=()
    while IFS= read -r line; do
        line=${line#VIOMMU-TEST: }
        case "$line" in
            "not ok "*) st=fail; rest=${line#not ok } ;;
            *)          st=pass; rest=${line#ok } ;;
        esac
        rest=${rest#* }                               # drop the guest's number
        t=${rest%% *}; why=${rest#"$t"}; why=${why# \# }
        case "$st:$why" in pass:"SKIP "*) st=skip; why=${why#SKIP } ;; esac
        case "$st" in pass) np=$((np + 1)) ;; fail) nf=$((nf + 1)) ;; skip) ns=$((ns + 1)) ;; esac
        case "$seen" in *" $t "*) runerr+=("two result lines for $t") ;; esac
        case " $expect " in *" $t "*) ;; *) runerr+=("unexpected result line for '$t'") ;; esac
        seen+="$t "
        if [ "$st" = skip ] && [ "$reference" = 0 ]; then
            st=fail why="skipped on our vIOMMU (only reference columns may skip): $why"
        fi
        [ "$st" = fail ] && why=${why:-failed}
        report "$st" "$label/$t" "$why"; echo "$name|$t|$st|$why" >> "$results"
    done < <(grep -E '^VIOMMU-TEST: (ok|not ok) ' "$log")
    for t in $expect; do
        case "$seen" in
            *" $t "*) ;;
            *) report fail "$label/$t" "no result line (the guest program crashed or left it out)"
               echo "$name|$t|fail|no result line" >> "$results" ;;
        esac
    done
    for t in $notapply; do
        echo "# $label/$t: does not apply to $(arch_iommu "$arch") (tests[].on), not run"
        echo "$name|$t|na|" >> "$results"
    done
    # The guest's own count, the program's exit status and QEMU's must agree.
    done_line=$(sed -n 's/^VIOMMU-TEST: done \([0-9]* passed [0-9]* failed [0-9]* skipped\)$/\1/p' "$log" | tail -n 1)
    exit_line=$(sed -n 's/^VIOMMU-TEST: exit \([0-9]*\)$/\1/p' "$log" | tail -n 1)
    if [ -z "$done_line" ]; then
        runerr+=("the guest suite did not finish (no 'done' line: timeout or crash)")
        grep -v '^dmesg: ' "$log" | tail -n 15 | sed 's/^/#   /'
    elif [ "$done_line" != "$np passed $nf failed $ns skipped" ]; then
        runerr+=("the guest says '$done_line' but printed $np ok, $nf not ok, $ns skipped lines")
    fi
    if [ -z "$exit_line" ]; then
        runerr+=("no exit status of the guest program")
    elif [ "$exit_line" != "$((nf > 0 ? 1 : 0))" ]; then
        runerr+=("the guest program exited $exit_line with $nf failed subtests")
    fi
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        runerr+=("QEMU killed after the ${timeout}s timeout")
    elif [ "$rc" != 0 ]; then
        runerr+=("QEMU exit status $rc")
    fi
    if [ ${#runerr[@]} -eq 0 ]; then
        report pass "$label/run" ""; echo "$name|run|pass|" >> "$results"
    else
        why=$(printf '%s; ' "${runerr[@]}"); why=${why%; }
        report fail "$label/run" "$why"; echo "$name|run|fail|$why" >> "$results"
    fi
    # The kernel's log: no warning or IOMMU timeout anywhere, IOMMU faults only
    # inside subtests that provoke them.
    why=$(check_dmesg "$log")
    if [ -z "$why" ]; then
        report pass "$label/dmesg" ""; echo "$name|dmesg|pass|" >> "$results"
    else
        report fail "$label/dmesg" "$why"; echo "$name|dmesg|fail|$why" >> "$results"
        grep '^dmesg: ' "$log" | grep -E "$DMESG_BAD|$DMESG_FAULT" | head -n 10 | sed 's/^/#   /'
    fi
    if [ "$verbose" = 1 ]; then
        grep -E '^# |^VIOMMU-TEST: (ok|not ok)' "$log" | grep -v '^# pci:' | sed 's/^/#   /'
    elif grep -qE '^VIOMMU-TEST: not ok' "$log"; then
        grep -E '^# ' "$log" | grep -v '^# pci:\|^# iommu:\|^# guest:' | tail -n 20 | sed 's/^/#   /'
    fi
done

# The matrix: one row per test, one column per configuration that ran.
if [ -z "$run_file$run_guest" ] && [ -s "$results" ]; then
    matrix=$VIOMMU_CACHE/guest/matrix.rst
    [ ${#adhoc[@]} -eq 0 ] || matrix=$VIOMMU_CACHE/guest/matrix-adhoc.rst
    awk -F'|' -v cfgs="$(for c in "${selected[@]}"; do echo -n "${c%%|*} "; done)" '
        BEGIN { nc = split(cfgs, cfg, " ") }
        { key = $2 SUBSEP $1; st[key] = $3; why[key] = $4
          if (!($2 in seen)) { seen[$2] = 1; order[++nt] = $2 } }
        function cell(t, c,   k, s) {
            k = t SUBSEP c
            if (!(k in st)) return "not run"
            s = st[k] == "pass" ? "pass" : st[k] == "skip" ? "unsupported" : st[k] == "na" ? "n/a" : "FAIL"
            if (why[k] != "") { notes[++nn] = sprintf("[%d] %s, %s: %s", nn, c, t, why[k]); s = s " [" nn "]" }
            return s
        }
        END {
            w = 14
            for (i = 1; i <= nc; i++) width[i] = length(cfg[i]) > 28 ? length(cfg[i]) : 28
            sep = sprintf("%" w "s", ""); gsub(/ /, "=", sep)
            for (i = 1; i <= nc; i++) { s = sprintf("%" width[i] "s", ""); gsub(/ /, "=", s); sep = sep "  " s }
            print "Guest suite: test x vIOMMU"
            print "==========================="
            print ""
            print sep
            line = sprintf("%-" w "s", "test")
            for (i = 1; i <= nc; i++) line = line "  " sprintf("%-" width[i] "s", cfg[i])
            print line
            print sep
            for (j = 1; j <= nt; j++) {
                line = sprintf("%-" w "s", order[j])
                for (i = 1; i <= nc; i++) line = line "  " sprintf("%-" width[i] "s", cell(order[j], cfg[i]))
                print line
            }
            print sep
            print ""
            print "n/a: the subtest does not apply to the IOMMU of the column (its tests[] row), or the"
            print "column runs only some subtests (the SUBTESTS field of its row in scripts/guest-test.sh)."
            print ""
            for (k = 1; k <= nn; k++) print notes[k] "\n"
        }' "$results" | sed 's/ *$//' > "$matrix"
    echo "# matrix written to $matrix"
fi

[ "$ref_fail" -eq 0 ] || echo "# $ref_fail failures in reference (upstream) columns, recorded in the matrix"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ $((pass + skip)) -gt 0 ]
