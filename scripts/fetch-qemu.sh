#!/usr/bin/env bash
# Obtain QEMU 10.0.x as Debian's trixie source package, verified against its .dsc,
# unpacked with dpkg-source so Debian's own patches apply. Prints the source dir.
#
# With QEMU_SRC set, use that checkout instead after checking its version.
# --dry-run: only read the source index and print the version it would fetch.
set -euo pipefail
. "$(dirname "$0")/common.sh"
dry_run=0
case "${1:-}" in
    --dry-run) dry_run=1 ;;
    "") ;;
    *) die "usage: $0 [--dry-run]" ;;
esac

check_version() { # dir
    local v
    [ -f "$1/VERSION" ] || die "$1 is not a QEMU source tree (no VERSION file): set QEMU_SRC to a QEMU $QEMU_SERIES checkout"
    v=$(cat "$1/VERSION")
    case "$v" in
        "$QEMU_SERIES".*) ;;
        *) die "QEMU at $1 is version $v, qemu-viommu needs $QEMU_SERIES.x: point QEMU_SRC at a $QEMU_SERIES checkout or unset it" ;;
    esac
}

if [ -n "${QEMU_SRC:-}" ] && [ $dry_run = 0 ]; then
    check_version "$QEMU_SRC"
    echo "$QEMU_SRC"
    exit 0
fi

dl=$VIOMMU_CACHE/downloads
apt_dir=$VIOMMU_CACHE/apt
mkdir -p "$dl" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"

# Already unpacked and complete?  (.viommu-unpacked is written last.)
[ $dry_run = 1 ] ||
for d in "$VIOMMU_CACHE"/src/qemu-"$QEMU_SERIES".*; do
    if [ -f "$d/.viommu-unpacked" ]; then
        echo "$d"
        exit 0
    fi
done

need_space "$VIOMMU_CACHE" 3000

# A private apt configuration naming trixie's source index, on the archive the
# system's apt sources use (its mirror; apt.conf proxies apply); the system's
# sources stay untouched.
uri=$(debian_archive_uri)
cat > "$apt_dir/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $QEMU_SUITE main
SRC
APT_OPTS=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
APT=(apt-get -q "${APT_OPTS[@]}")
note "fetching the $QEMU_SUITE source index" >&2
"${APT[@]}" update >"$apt_dir/update.log" 2>&1 ||
    die "cannot read Debian's $QEMU_SUITE source index (see $apt_dir/update.log): is $uri reachable?"
ver=$(apt-cache "${APT_OPTS[@]}" showsrc qemu 2>/dev/null | awk '/^Version:/ {print $2}' |
      grep "^1:$QEMU_SERIES\.\|^$QEMU_SERIES\." | sort -V | tail -n 1)
[ -n "$ver" ] || die "Debian $QEMU_SUITE offers no qemu $QEMU_SERIES.x source package"
if [ $dry_run = 1 ]; then
    echo "qemu $ver from $uri $QEMU_SUITE"
    exit 0
fi
note "downloading qemu source $ver" >&2
# apt-get source checks every file against the .dsc checksums (and the .dsc against the signed index).
(cd "$dl" && "${APT[@]}" source --download-only "qemu=$ver" >"$dl/source.log" 2>&1) ||
    die "apt-get source qemu=$ver failed (see $dl/source.log)"
dsc=$(ls "$dl"/qemu_*"${ver#*:}".dsc)
upver=${ver#*:}; upver=${upver%%+*}; upver=${upver%%-*}
dest=$VIOMMU_CACHE/src/qemu-$upver
rm -rf "$dest"
mkdir -p "$VIOMMU_CACHE/src"
note "unpacking $dsc" >&2
# apt checked the .dsc against the signed index; dpkg-source checks every file against the .dsc.

dpkg-source -x "$dsc" "$dest" >"$dl/unpack.log" 2>&1 ||
    die "dpkg-source -x $dsc failed (see $dl/unpack.log)"
check_version "$dest"
touch "$dest/.viommu-unpacked"
echo "$dest"
