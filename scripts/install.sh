#!/usr/bin/env bash
# Installs whatever is missing for iCloud Mail Setup on Debian 12 / Ubuntu 22.04+, and nothing that is already
# there: system packages, Rust, Node.js, the npm packages from the lock file, tauri-driver (for tests).
# Usage: scripts/install.sh [app|test]   — "app" (default) for building and launching, "test" adds the test tools.
# Sourced by scripts/launch.sh and scripts/test.sh; safe to run again and again.
set -euo pipefail

profile="${1:-app}"
root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Packages to build and run the Tauri app (WebKitGTK 4.1), then those the tests start for real.
app_packages=(build-essential curl file pkg-config libssl-dev libgtk-3-dev libwebkit2gtk-4.1-dev libxdo-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev ca-certificates git)
test_packages=(xvfb xauth dbus dbus-x11 webkit2gtk-driver dovecot-imapd dovecot-submissiond dovecot-lmtpd
  gnome-keyring libsecret-tools neomutt aerc msmtp isync thunderbird libnss3-tools tmux iproute2 chromium imagemagick
  xclip rpm rpm2cpio cpio desktop-file-utils x11-utils locales sqlite3 zbar-tools librsvg2-bin
  radicale vdirsyncer khal khard)
# The Windows build under Wine (scripts/test-windows.sh): Debian's second Rust toolchain with the standard library's
# sources (Debian 12's bookworm-security), the mingw-w64 linker, Wine and NSIS. Asked for only where the system's
# package lists have them, so installing never fails on a system without them; test-windows.sh then names what is
# missing.
windows_packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine64 nsis)

wanted=("${app_packages[@]}")
[ "$profile" = test ] && wanted+=("${test_packages[@]}")
if [ "$profile" = test ]; then
  for p in "${windows_packages[@]}"; do
    apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]' && wanted+=("$p")
  done
fi

node_major() { node -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 18 ]; then wanted+=(nodejs npm); fi

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  # Dovecot must not start system-wide while installing: the tests start their own on loopback. A temporary
  # policy-rc.d says so to the package scripts, and is removed again unless the machine already had one.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  [ "$own_policy" -eq 1 ] && as_root rm -f /usr/sbin/policy-rc.d
fi
# A German locale, for the end-to-end test that runs the app under LANG=de_DE.UTF-8. Generated only when missing.
if [ "$profile" = test ] && ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
  say "Generating the de_DE.UTF-8 locale"
  as_root sed -i 's/^#[[:space:]]*\(de_DE\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^de_DE\.UTF-8 UTF-8' /etc/locale.gen || echo 'de_DE.UTF-8 UTF-8' | as_root tee -a /etc/locale.gen >/dev/null
  as_root locale-gen
fi
if [ "$(node_major)" -lt 18 ]; then
  echo "Node.js 18 or newer is needed (found $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

# Rust (rustup's stable toolchain; Tauri 2.12 needs 1.90 or newer).
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo >/dev/null; then
  say "Installing Rust"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
fi
rust_minor="$(rustc --version | awk '{split($2,v,"."); print v[2]}')"
if [ "${rust_minor:-0}" -lt 90 ] && command -v rustup >/dev/null; then
  say "Updating Rust (found $(rustc --version))"
  rustup update stable
fi
if [ "$profile" = test ]; then
  for c in rustfmt clippy; do
    cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1 || rustup component add "$c"
  done
fi

# npm packages, exactly as locked; again only when the lock file changed since the last install.
cd "$root_dir"
stamp=node_modules/.lock-hash
want_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want_hash" ]; then
  say "Installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund
  echo "$want_hash" > "$stamp"
fi

# tauri-driver (WebDriver for Tauri apps), for the end-to-end tests.
if [ "$profile" = test ] && ! command -v tauri-driver >/dev/null; then
  say "Installing tauri-driver"
  cargo install tauri-driver --version 2.1.0 --locked
fi
