#!/usr/bin/env bash
# Install, by name, the Debian packages the build and tests need.
# meson >= 1.5 (QEMU 10.0 needs it) and python3-pycotap come from bookworm-backports.
# libvirt-clients is only for virt-xml-validate (scripts/check-user-docs.sh).
# clang + libclang-rt-14-dev give -fsanitize=fuzzer,address,undefined: the core fuzzers
# (make check) and QEMU's --enable-fuzzing tree of scripts/fuzz.sh (make fuzz).
# qemu-efi-aarch64 is the UEFI firmware of the arm64 ACPI guest column (scripts/guest-test.sh).
set -euo pipefail
. "$(dirname "$0")/common.sh"

PKGS=(
    build-essential dpkg-dev ccache pkg-config ninja-build flex bison bc
    python3 python3-venv python3-setuptools python3-pip
    libglib2.0-dev libfdt-dev libpixman-1-dev zlib1g-dev libslirp-dev
    clang lld libclang-rt-14-dev
    seabios ipxe-qemu qemu-system-data qemu-efi-aarch64
    cpio gzip xz-utils busybox-static
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross
    libelf-dev libssl-dev
    libxml2-utils libvirt-clients
    linux-perf
)
BPO_PKGS=(meson python3-pycotap)

missing=()
for p in "${PKGS[@]}" "${BPO_PKGS[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# meson must also be new enough, whatever provides it.
if dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson 2>/dev/null || echo 0)" lt 1.5; then
    missing+=(meson)
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

SUDO=
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null ||
        die "installing ${missing[*]} needs root: run as root, install sudo, or install them yourself and set VIOMMU_NO_APT=1"
    SUDO=sudo
fi
note "installing Debian packages: ${missing[*]}"

# bookworm-backports through a sources file of our own, so the system's list
# stays as it is, on the archive that list already uses (its mirror).
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(debian_archive_uri)
    $SUDO tee /etc/apt/sources.list.d/qemu-viommu-backports.sources >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -qq >/dev/null 2>&1 ||
    die "apt-get update failed: check that the archives in the apt sources are reachable (apt-get update shows why)"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${PKGS[@]}" >/dev/null ||
    die "apt-get install of the build packages failed: run 'apt-get install ${PKGS[*]}' to see why"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -t bookworm-backports "${BPO_PKGS[@]}" >/dev/null ||
    die "apt-get install -t bookworm-backports ${BPO_PKGS[*]} failed: meson >= 1.5 is needed"
