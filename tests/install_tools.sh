#!/usr/bin/env bash
# Install the Prometheus tooling the tests need.  Idempotent; fast when done.
#
#  a) system tools (Debian bookworm: promtool/prometheus 2.42, amtool 0.25)
#     via apt-get when missing (root only; otherwise print the command, exit 1);
#  b) Debian trixie's prometheus/promtool 2.53 + alertmanager 0.28 binaries, unpacked
#     into <project>/.tools/trixie/usr/bin with a private apt configuration
#     (own sources list, lists, cache and status file) so that nothing under
#     /etc/apt, /var/lib/apt or /var/cache/apt is touched.
#
# Usage: tests/install_tools.sh        (from anywhere)
set -euo pipefail

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$PROJECT_ROOT/.tools"
APT_DIR="$TOOLS/apt"
TRIXIE="$TOOLS/trixie"
TRIXIE_BIN="$TRIXIE/usr/bin"
TRIXIE_TOOLS=(promtool prometheus prometheus-alertmanager amtool)
# trixie ships promtool as its own package (bookworm: inside "prometheus").
TRIXIE_PKGS="prometheus promtool prometheus-alertmanager"

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

# ---------------------------------------------------------------- b) trixie
trixie_ok() {
    local t
    for t in "${TRIXIE_TOOLS[@]}"; do
        [[ -x "$TRIXIE_BIN/$t" ]] || return 1
        "$TRIXIE_BIN/$t" --version >/dev/null 2>&1 || return 1
    done
}

if trixie_ok; then
    exit 0
fi

# Use the same Debian mirror host as the system sources (may be a local mirror).
mirror_uri() {
    local f uri
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
             /etc/apt/sources.list.d/*.sources; do
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
    echo "http://deb.debian.org/debian"
}

MIRROR="$(mirror_uri)"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
log "fetching trixie prometheus + alertmanager from $MIRROR"

rm -rf "$APT_DIR/debs" "$TRIXIE"
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" \
         "$APT_DIR/debs" "$TRIXIE"
: >"$APT_DIR/status"
signed_by=""
[[ -r "$KEYRING" ]] && signed_by="[signed-by=$KEYRING] "
echo "deb ${signed_by}$MIRROR trixie main" >"$APT_DIR/sources.list"

# Private configuration: read after the system one (-c), so it wins.  The
# #clear lines drop system hooks (appstream/packagekit refreshes) that would
# otherwise run after "apt-get update" and touch system state.
cat >"$APT_DIR/apt.conf" <<EOF
Dir::Etc::sourcelist "$APT_DIR/sources.list";
Dir::Etc::sourceparts "-";
Dir::State::Lists "$APT_DIR/lists";
Dir::State::status "$APT_DIR/status";
Dir::State::extended_states "$APT_DIR/extended_states";
Dir::Cache "$APT_DIR/cache";
Dir::Cache::archives "$APT_DIR/cache/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "$(id -un)";
#clear APT::Update::Pre-Invoke;
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
EOF

apt_private() { apt-get -q -c "$APT_DIR/apt.conf" "$@"; }

apt_private update
(cd "$APT_DIR/debs" && apt_private download $TRIXIE_PKGS)

for deb in "$APT_DIR"/debs/*.deb; do
    log "unpacking $(basename "$deb")"
    dpkg -x "$deb" "$TRIXIE"
done

for t in "${TRIXIE_TOOLS[@]}"; do
    if ! "$TRIXIE_BIN/$t" --version >/dev/null 2>&1; then
        log "ERROR: $TRIXIE_BIN/$t does not run"
        exit 1
    fi
    log "$t: $("$TRIXIE_BIN/$t" --version 2>&1 | head -n1)"
done
