# Shared settings for the qemu-viommu set-up scripts (sourced, not run).
#
# Everything downloaded or built lives in $VIOMMU_CACHE, outside the checkout, so
# that a fresh clone reuses the QEMU source, its build tree and ccache.

VIOMMU_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VIOMMU_CACHE=${VIOMMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/qemu-viommu}
QEMU_SERIES=10.0            # the only upstream series we graft onto
QEMU_SUITE=trixie           # Debian suite that carries it
QEMU_BUILD=${QEMU_BUILD:-$VIOMMU_CACHE/build/qemu}
CORE_BUILD=${CORE_BUILD:-$VIOMMU_CACHE/build/core}
export CCACHE_DIR=${CCACHE_DIR:-$VIOMMU_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
export CCACHE_BASEDIR=$VIOMMU_CACHE

die() { echo "error: $*" >&2; exit 1; }
note() { echo "==> $*"; }

# One-line diagnosis of a full disk before a long step fails obscurely.
need_space() { # dir MiB
    local avail
    mkdir -p "$1" 2>/dev/null || die "cannot create $1: set VIOMMU_CACHE to a writable directory"
    avail=$(df -Pm "$1" | awk 'NR==2 {print $4}')
    [ "${avail:-0}" -ge "$2" ] ||
        die "only ${avail} MiB free under $1, need $2 MiB: free some space or set VIOMMU_CACHE to a larger disk"
}
