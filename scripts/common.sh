# shellcheck shell=bash
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

# The Debian archive this machine's apt already uses (its own mirror or proxy
# URI), read from the sources apt reads: one-line "deb URI SUITE COMPONENT..."
# entries in sources.list and sources.list.d/*.list, and deb822 stanzas
# (Types/URIs/Suites/Enabled) in sources.list.d/*.sources.  The archive is the
# first "deb" entry whose suites include this release's codename (or its
# -updates/-backports), so security and third-party repositories are passed
# over.  VIOMMU_APT_URI overrides the choice.  Prints the URI without a
# trailing slash; proxies set in apt.conf apply as usual.
debian_archive_uri() {
    if [ -n "${VIOMMU_APT_URI:-}" ]; then
        echo "${VIOMMU_APT_URI%/}"
        return 0
    fi
    local codename list parts files=() f uri
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || die "cannot tell this Debian release's codename from /etc/os-release: set VIOMMU_APT_URI to a Debian archive URI"
    list=/etc/apt/sources.list parts=/etc/apt/sources.list.d/
    if command -v apt-config >/dev/null; then
        eval "$(apt-config shell list Dir::Etc::sourcelist/f parts Dir::Etc::sourceparts/d)"
    fi
    [ ! -f "$list" ] || files+=("$list")
    for f in "$parts"*.list "$parts"*.sources; do [ -f "$f" ] && files+=("$f"); done
    uri=$(awk -v want="^$codename(-updates|-backports)?\$" '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false|0)$/) {
                ns = split(suites, s, " "); nu = split(uris, u, " ")
                for (i = 1; i <= ns; i++) if (s[i] ~ want && nu > 0 && !found) found = u[1]
            }
            types = uris = suites = enabled = ""
        }
        FNR == 1 { flush() }
        /^[ \t]*#/ { next }
        FILENAME ~ /\.sources$/ {
            if ($0 ~ /^[ \t]*$/) { flush(); next }
            if ($0 ~ /^[ \t]/) next                 # a continuation line (e.g. an inline key)
            key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^[ \t]+/, "")
            if (key == "types") types = $0; else if (key == "uris") uris = $0
            else if (key == "suites") suites = $0; else if (key == "enabled") enabled = tolower($0)
            next
        }
        $1 == "deb" {
            i = 2
            if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
            if ($(i + 1) ~ want && !found) found = $i
        }
        END { flush(); if (found != "") print found }
    ' "${files[@]}" /dev/null)
    case "$uri" in
        "") die "apt lists no Debian archive for $codename (no 'deb' entry for suite $codename in ${list} or ${parts}*.list/*.sources): add one, or set VIOMMU_APT_URI to a Debian archive URI" ;;
        cdrom:*) die "apt's Debian archive for $codename is a CD-ROM ($uri): add a network mirror to the apt sources, or set VIOMMU_APT_URI" ;;
    esac
    echo "${uri%/}"
}
