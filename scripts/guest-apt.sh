# shellcheck shell=bash
# Private apt configurations for the guest images (sourced, not run).
#
# Binary packages the guest images need come from suites or architectures the
# system's sources do not list (linux-source-7.3 from trixie-backports,
# busybox-static for arm64).  As in fetch-qemu.sh, each suite/architecture gets
# its own sources file, lists and cache under $VIOMMU_CACHE, so the system's
# apt configuration stays untouched.  The archive is the one the system's apt
# sources name (debian_archive_uri in common.sh), so a local mirror is used and
# apt.conf's proxy settings apply.  Needs common.sh sourced first.

# guest_apt NAME ARCH SUITE...: set GUEST_APT (apt-get command) and
# GUEST_APT_CACHE (apt-cache command) for a private configuration called NAME
# listing SUITE... for architecture ARCH; the index is refreshed at most once a day.
guest_apt() {
    local name=$1 arch=$2 dir s uri
    shift 2
    uri=$(debian_archive_uri) || exit 1
    dir=$VIOMMU_CACHE/apt-$name
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
    : > "$dir/sources.list.new"
    for s in "$@"; do
        echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $s main" \
            >> "$dir/sources.list.new"
    done
    local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
                -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
                -o "Dir::State::status=$dir/status"
                -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
                -o APT::Sandbox::User=root)
    # An empty dpkg status: this configuration never installs, it only downloads.
    [ -f "$dir/status" ] || : > "$dir/status"
    GUEST_APT=(apt-get -q "${opts[@]}")
    GUEST_APT_CACHE=(apt-cache "${opts[@]}")
    if ! cmp -s "$dir/sources.list.new" "$dir/sources.list" ||
       [ -z "$(find "$dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
        mv "$dir/sources.list.new" "$dir/sources.list"
        note "fetching the package index of $* ($arch)" >&2
        "${GUEST_APT[@]}" update >"$dir/update.log" 2>&1 ||
            die "cannot read Debian's $* index for $arch (see $dir/update.log): is $uri reachable?"
    else
        rm -f "$dir/sources.list.new"
    fi
}

# guest_apt_download PKG DESTDIR: download the newest PKG .deb of the current
# private configuration into DESTDIR (apt checks it against the signed index);
# prints the .deb's path.  Reuses an already downloaded file of that version.
guest_apt_download() {
    local pkg=$1 dest=$2 ver deb
    ver=$("${GUEST_APT_CACHE[@]}" show "$pkg" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -V | tail -n 1)
    [ -n "$ver" ] || die "Debian offers no package $pkg in this configuration (${GUEST_APT[*]})"
    mkdir -p "$dest"
    deb=$(ls "$dest/${pkg}_"*"${ver#*:}_"*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        note "downloading $pkg $ver" >&2
        (cd "$dest" && "${GUEST_APT[@]}" download "$pkg=$ver" >"$dest/$pkg.download.log" 2>&1) ||
            die "apt-get download $pkg=$ver failed (see $dest/$pkg.download.log)"
        deb=$(ls "$dest/${pkg}_"*"${ver#*:}_"*.deb 2>/dev/null | head -n 1 || true)
        [ -n "$deb" ] || die "apt-get download $pkg=$ver left no .deb in $dest"
    fi
    echo "$deb"
}
