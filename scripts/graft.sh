#!/usr/bin/env bash
# Graft the qemu-viommu tree into a QEMU 10.0 source tree, idempotently.
#
# Our directories are linked in as QEMU subdirectories of their own; upstream files only
# gain single hook lines, each tagged "qemu-viommu" so a rerun finds and keeps them.
set -euo pipefail
. "$(dirname "$0")/common.sh"
Q=${1:?usage: graft.sh QEMU_SOURCE_DIR}
TAG="qemu-viommu"

link() { # ours theirs
    if [ -e "$2" ] && [ ! -L "$2" ]; then
        die "$2 exists in the QEMU tree and is not our link: remove it or use a clean QEMU tree"
    fi
    ln -sfn "$1" "$2"
}

# insert_after FILE ANCHOR_REGEX LINE: add LINE after the first line matching ANCHOR, once.
insert_after() {
    local file=$1 anchor=$2 line=$3
    grep -qF -- "$line" "$file" && return 0
    grep -qE -- "$anchor" "$file" || die "graft: anchor '$anchor' not found in $file (QEMU tree not 10.0?)"
    awk -v a="$anchor" -v l="$line" '{ print } !done && $0 ~ a { print l; done = 1 }' "$file" >"$file.viommu.tmp"
    mv "$file.viommu.tmp" "$file"
}
# insert_in_func FILE FUNC_REGEX ANCHOR_REGEX LINE: add LINE after the first line
# matching ANCHOR that follows the first line matching FUNC, once.
insert_in_func() {
    local file=$1 func=$2 anchor=$3 line=$4
    grep -qF -- "$line" "$file" && return 0
    awk -v f="$func" -v a="$anchor" -v l="$line" '
        { print }
        !infunc && $0 ~ f { infunc = 1; next }
        infunc == 1 && $0 ~ a { print l; infunc = 2; found = 1 }
        END { exit !found }' "$file" >"$file.viommu.tmp" ||
        { rm -f "$file.viommu.tmp"; die "graft: '$anchor' after '$func' not found in $file (QEMU tree not 10.0?)"; }
    mv "$file.viommu.tmp" "$file"
}
append() { # FILE LINE
    grep -qF -- "$2" "$1" || printf '%s\n' "$2" >>"$1"
}

link "$VIOMMU_TOP/hw/viommu" "$Q/hw/viommu"
link "$VIOMMU_TOP/include/hw/viommu" "$Q/include/hw/viommu"
link "$VIOMMU_TOP/tests/qtest" "$Q/tests/qtest/viommu"
link "$VIOMMU_TOP/tests/common" "$Q/tests/qtest/viommu-common"

insert_after "$Q/hw/meson.build" "^subdir\('misc'\)" "subdir('viommu') # $TAG"
insert_after "$Q/hw/Kconfig" "^source misc/Kconfig" "source viommu/Kconfig" # minikconf has no trailing comments
insert_after "$Q/meson.build" "^ *'hw/misc',$" "    'hw/viommu', # $TAG"
append "$Q/tests/qtest/meson.build" "subdir('viommu') # $TAG"

# Machine hooks: one line each, calling into our code (see docs/design.rst).
for h in "$VIOMMU_TOP"/scripts/hooks/*.sh; do
    [ -e "$h" ] || continue
    . "$h"
done
