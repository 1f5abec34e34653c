#!/usr/bin/env bash
# make check: README.rst's "Your own guest" section stays true, without network.
#
# Reads the named code blocks of README.rst (".. code-block::" with ":name:"):
#   user-guest-arm64, user-guest-x86_64   QEMU command lines for a user's guest
#   libvirt-arm64, libvirt-x86_64         libvirt domain XML
# - the XML is well-formed (xmllint) and valid against libvirt's domain schema
#   (virt-xml-validate), names our binary and machine, and passes QEMU the same
#   vIOMMU -device as the command line of its architecture;
# - each command line is started in our QEMU build as written, with only the
#   files swapped: our guest kernel for -kernel, our initramfs for -initrd
#   (running tests/guest/user-docs-probe.sh), a small raw disk for disk.qcow2;
#   the guest must find the vIOMMU, see the virtio disk and NIC behind it in a
#   DMA domain and DMA through both;
# - and once more with the vIOMMU's -device moved last, as libvirt orders
#   <qemu:commandline> after its own devices.
# Prints "ok N ..." / "not ok N ...", then "N passed, M failed".
set -uo pipefail
. "$(dirname "$0")/common.sh"

readme=$VIOMMU_TOP/README.rst
probe=$VIOMMU_TOP/tests/guest/user-docs-probe.sh
work=$VIOMMU_CACHE/user-docs
rm -rf "$work"
mkdir -p "$work/blocks"
n=0 pass=0 fail=0
report() { # pass|fail label [reason]
    n=$((n + 1))
    if [ "$1" = pass ]; then
        pass=$((pass + 1)); echo "ok $n $2"
    else
        fail=$((fail + 1)); echo "not ok $n $2 # $3"
    fi
}
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]; exit; }

# --- the named blocks, each into $work/blocks/NAME
python3 - "$readme" "$work/blocks" <<'PY' || { report fail "user-docs/extract" "cannot read the code blocks of $readme"; finish; }
import os, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
i = 0
while i < len(lines):
    m = re.match(r"\.\. code-block:: \S+\s*$", lines[i])
    n = m and i + 1 < len(lines) and re.match(r"   :name: (\S+)\s*$", lines[i + 1])
    if not n:
        i += 1
        continue
    j = i + 2
    while j < len(lines) and not lines[j].strip():
        j += 1
    body = []
    while j < len(lines) and (lines[j].startswith("   ") or not lines[j].strip()):
        body.append(lines[j][3:])
        j += 1
    while body and not body[-1].strip():
        body.pop()
    with open(os.path.join(sys.argv[2], n.group(1)), "w") as f:
        f.write("\n".join(body) + "\n")
    i = j
PY

arches=(arm64 x86_64)
qemu_of() { case $1 in arm64) echo qemu-system-aarch64 ;; x86_64) echo qemu-system-x86_64 ;; esac; }

# --- the command lines, as argument lists (one per line) with the files swapped
# cmdline ARCH ORDER KERNEL INITRD DISK: prints the argv, NUL-separated; ORDER is
# "readme" or "viommu-last".
cmdline() {
    python3 - "$work/blocks/user-guest-$1" "$2" "$QEMU_BUILD" "$3" "$4" "$5" <<'PY'
import re, shlex, sys
block, order, build, kernel, initrd, disk = sys.argv[1:]
text = open(block).read().replace("\\\n", " ")
cmds = [shlex.split(l) for l in text.split("\n") if l.strip() and not re.match(r"\s*Q=", l)]
if len(cmds) != 1 or not cmds[0][0].startswith("$Q/qemu-system-"):
    sys.exit(f"{block}: expected 'Q=...' and one '$Q/qemu-system-...' command")
argv = cmds[0]
argv[0] = build + "/" + argv[0][3:]
seen = {}
for i, a in enumerate(argv[:-1]):
    nxt = argv[i + 1]
    if a == "-kernel":
        argv[i + 1] = kernel
    elif a == "-initrd":
        argv[i + 1] = initrd
    elif a == "-append":
        argv[i + 1] = nxt + " panic=-1 viommu.run=/extra/user-docs-probe.sh"
    elif a == "-drive":
        if not re.search(r"(^|,)file=[^,]*\.qcow2(,|$)", nxt):
            sys.exit(f"{block}: -drive {nxt} names no file=....qcow2")
        argv[i + 1] = re.sub(r"(^|,)file=[^,]*", r"\1file=" + disk, nxt) + ",format=raw"
    else:
        continue
    seen[a] = seen.get(a, 0) + 1
for a in ("-kernel", "-initrd", "-append", "-drive"):
    if seen.get(a) != 1:
        sys.exit(f"{block}: expected one {a}, found {seen.get(a, 0)}")
viommu = [i for i in range(len(argv) - 1) if argv[i] == "-device" and argv[i + 1].startswith("viommu-")]
if len(viommu) != 1:
    sys.exit(f"{block}: expected one -device viommu-..., found {len(viommu)}")
if order == "viommu-last":
    i = viommu[0]
    argv = argv[:i] + argv[i + 2:] + argv[i:i + 2]
argv.append("-no-reboot")
sys.stdout.write("\0".join(argv) + "\0")
PY
}

# --- libvirt XML
for a in "${arches[@]}"; do
    x=$work/blocks/libvirt-$a
    label=user-docs/libvirt-$a
    if [ ! -s "$x" ]; then
        report fail "$label" "README.rst has no code block named libvirt-$a"; continue
    fi
    cp "$x" "$x.xml"
    if ! out=$(xmllint --noout "$x.xml" 2>&1); then
        report fail "$label/well-formed" "$(echo "$out" | head -n 3 | tr '\n' ' ')"; continue
    fi
    report pass "$label/well-formed"
    if ! command -v virt-xml-validate >/dev/null; then
        report fail "$label/valid" "virt-xml-validate is missing: run scripts/install-deps.sh (package libvirt-clients)"
    elif out=$(virt-xml-validate "$x.xml" domain 2>&1); then
        report pass "$label/valid"
    else
        report fail "$label/valid" "$(echo "$out" | head -n 3 | tr '\n' ' ')"
    fi
    # What the XML hands QEMU must match the command line of the same architecture.
    why=$(python3 - "$x.xml" "$a" "$(qemu_of "$a")" "$work/blocks/user-guest-$a" <<'PY'
import shlex, sys
import xml.etree.ElementTree as ET
path, arch, qemu, block = sys.argv[1:]
ns = {"q": "http://libvirt.org/schemas/domain/qemu/1.0"}
d = ET.parse(path).getroot()
args = [a.get("value") for a in d.findall("q:commandline/q:arg", ns)]
try:
    cmd = shlex.split(open(block).read().replace("\\\n", " "))
except OSError:
    cmd = []
pairs = set(zip(cmd, cmd[1:]))
extra = [f"{o} {v}" for o, v in zip(args[::2], args[1::2]) if (o, v) not in pairs]
dev = [v for o, v in zip(args[::2], args[1::2]) if o == "-device" and v.startswith("viommu-")]
emu = (d.findtext("devices/emulator") or "").strip()
mach = d.find("os/type").get("machine", "")
if len(args) % 2 or extra:
    print(f"<qemu:commandline> passes {extra or args}, which the {arch} command line does not have")
elif len(dev) != 1:
    print(f"<qemu:commandline> passes {len(dev)} viommu devices")
elif not emu.endswith("/build/qemu/" + qemu):
    print(f"<emulator> is {emu}, not our build's {qemu}")
elif d.find("devices/iommu") is not None:
    print("<iommu> would add upstream's IOMMU next to ours")
elif len(d.findall("devices/*/driver[@iommu='on']")) != 2:
    print("the virtio disk and NIC need <driver iommu='on'/>")
elif mach != {"arm64": "virt", "x86_64": "q35"}[arch]:
    print(f"machine '{mach}'")
PY
)
    if [ -z "$why" ]; then
        report pass "$label/matches-command-line"
    else
        report fail "$label/matches-command-line" "$why"
    fi
done

# --- the command lines, booted
for a in "${arches[@]}"; do
    label=user-docs/user-guest-$a
    if [ ! -s "$work/blocks/user-guest-$a" ]; then
        report fail "$label" "README.rst has no code block named user-guest-$a"; continue
    fi
    if ! kdir=$("$VIOMMU_TOP/scripts/guest-kernel.sh" "$a" | tail -n 1) || [ ! -f "$kdir/.complete" ]; then
        report fail "$label" "guest kernel build failed"; continue
    fi
    if ! initrd=$("$VIOMMU_TOP/scripts/guest-initramfs.sh" "$a" --extra "$probe" | tail -n 1) ||
       [ ! -f "$initrd" ]; then
        report fail "$label" "guest initramfs build failed"; continue
    fi
    kernel=$kdir/$(case $a in arm64) echo Image ;; x86_64) echo bzImage ;; esac)
    for order in readme viommu-last; do
        disk=$work/disk-$a-$order.raw
        { printf 'VIOMMU-USER-DOCS-MARKER'; head -c 1048576 /dev/zero; } > "$disk"
        if ! cmdline "$a" "$order" "$kernel" "$initrd" "$disk" > "$work/argv-$a-$order" 2>"$work/argv-$a-$order.err"; then
            report fail "$label/$order" "$(cat "$work/argv-$a-$order.err")"; continue
        fi
        mapfile -d '' argv < "$work/argv-$a-$order"
        log=$work/$a-$order.log
        echo "# ${argv[*]}" > "$log"
        timeout -k 5 180 "${argv[@]}" </dev/null >>"$log" 2>&1
        rc=$?
        tr -d '\r' < "$log" > "$log.clean" && mv "$log.clean" "$log"
        st=$(sed -n 's/^VIOMMU-RUN: exit \([0-9]*\)$/\1/p' "$log" | tail -n 1)
        if [ "$st" = 0 ]; then
            report pass "$label/$order $(grep -m1 '^user-docs: iommu:' "$log" | cut -d' ' -f2-)"
        else
            report fail "$label/$order" "$(grep -m1 '^user-docs: FAIL' "$log" || echo "the probe did not finish (qemu exit $rc)"); log $log"
            grep -v '^dmesg: ' "$log" | tail -n 10 | sed 's/^/#   /'
        fi
    done
done
finish
