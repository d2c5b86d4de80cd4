#!/usr/bin/env bash
# Install every engine the tests run on.  Idempotent; fast when done.
#
#  a) bookworm (the system's own apt): promtool/prometheus 2.42 and amtool 0.25,
#     installed with apt-get when missing (root only; otherwise print the command, exit 1);
#  b) Debian trixie: promtool/prometheus 2.53.3, alertmanager/amtool 0.28.1;
#  c) Debian sid: promtool/prometheus 3.5 LTS, alertmanager/amtool 0.33, and
#     victoria-metrics (victoria-metrics, vmalert, vmalert-tool).
#
# b) and c) are downloaded with a private apt configuration (its own sources list, lists,
# cache and status file under .tools/apt/<suite>), so nothing under /etc/apt, /var/lib/apt or
# /var/cache/apt is touched, and unpacked with `dpkg -x` into .tools/<suite>/.  The archive
# URL is read from this machine's apt configuration: a mirror or proxy keeps working, and no
# host name is written here.  generator/tools.py is the one place that knows where each
# engine's binaries end up.
#
# Usage: tests/install_tools.sh        (from anywhere)
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$PROJECT_ROOT/.tools"

# suite -> packages to download, and the binaries each must then provide.
declare -A PACKAGES=(
    [trixie]="prometheus promtool prometheus-alertmanager"
    [sid]="prometheus promtool prometheus-alertmanager victoria-metrics"
)
declare -A BINARIES=(
    [trixie]="promtool prometheus prometheus-alertmanager amtool"
    [sid]="promtool prometheus prometheus-alertmanager amtool victoria-metrics vmalert vmalert-tool"
)

log() { printf 'install_tools: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- a) system
missing=()
for t in promtool prometheus amtool; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        log "missing: ${missing[*]}; install them with:"
        echo "sudo apt-get install prometheus prometheus-alertmanager"
        exit 1
    fi
    log "installing system prometheus + alertmanager (missing: ${missing[*]})"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        prometheus prometheus-alertmanager
fi

# ---------------------------------------------------------------- b), c) other suites
# VictoriaMetrics' Debian builds print no version: `-h` proves they start.
runs() { "$1" --version >/dev/null 2>&1 || "$1" -h >/dev/null 2>&1; }

suite_ok() {
    local suite=$1 t
    [[ -s "$TOOLS/$suite/versions.txt" ]] || return 1
    for t in ${BINARIES[$suite]}; do
        [[ -x "$TOOLS/$suite/usr/bin/$t" ]] && runs "$TOOLS/$suite/usr/bin/$t" || return 1
    done
}

# The Debian archive this machine already uses (deb822 `URIs:` or a one-line `deb` entry).
mirror_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
             /etc/apt/sources.list.d/*.list; do
        [[ -r "$f" ]] || continue
        uri=$(sed -nE \
            -e 's#^[[:space:]]*URIs:[[:space:]]*([^[:space:]]+/debian)/?([[:space:]].*)?$#\1#p' \
            -e 's#^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+/debian)/?[[:space:]].*$#\2#p' \
            "$f" | head -n1)
        if [[ -n "$uri" ]]; then
            echo "$uri"
            return
        fi
    done
    log "ERROR: no Debian archive (a URIs: line ending in /debian) in /etc/apt; cannot fetch engines"
    exit 1
}

fetch_suite() {
    local suite=$1 mirror=$2
    local apt_dir="$TOOLS/apt/$suite" dest="$TOOLS/$suite"
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg signed_by=""
    log "fetching $suite: ${PACKAGES[$suite]}"
    rm -rf "$apt_dir/debs" "$dest"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$dest"
    : >"$apt_dir/status"
    [[ -r "$keyring" ]] && signed_by="[signed-by=$keyring] "
    echo "deb ${signed_by}$mirror $suite main" >"$apt_dir/sources.list"
    # Private configuration, read after the system one (-c), so it wins.  The #clear lines
    # drop system hooks (appstream/packagekit refreshes) that would touch system state.
    cat >"$apt_dir/apt.conf" <<EOF
Dir::Etc::sourcelist "$apt_dir/sources.list";
Dir::Etc::sourceparts "-";
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "$apt_dir/status";
Dir::State::extended_states "$apt_dir/extended_states";
Dir::Cache "$apt_dir/cache";
Dir::Cache::archives "$apt_dir/cache/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "$(id -un)";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
EOF
    apt-get -q -c "$apt_dir/apt.conf" update
    # shellcheck disable=SC2086
    (cd "$apt_dir/debs" && apt-get -q -c "$apt_dir/apt.conf" download ${PACKAGES[$suite]})
    local deb
    for deb in "$apt_dir"/debs/*.deb; do
        log "unpacking $(basename "$deb")"
        dpkg -x "$deb" "$dest"
        dpkg-deb --showformat='${Package} ${Version}\n' -W "$deb" >>"$dest/versions.txt"
    done
    local t
    for t in ${BINARIES[$suite]}; do
        if ! runs "$dest/usr/bin/$t"; then
            log "ERROR: $dest/usr/bin/$t does not run"
            exit 1
        fi
    done
    log "$suite: $(paste -sd';' "$dest/versions.txt")"
}

mirror=""
for suite in trixie sid; do
    suite_ok "$suite" && continue
    [[ -n "$mirror" ]] || mirror="$(mirror_uri)"
    fetch_suite "$suite" "$mirror"
done
