#!/usr/bin/env bash
# Type-checks and lints the two crates that ship (the core and the app) for Windows (x86_64-pc-windows-msvc) and
# macOS (aarch64-apple-darwin) on this Linux machine, where no rustup target can be downloaded. It compiles every
# `#[cfg(windows)]` and `#[cfg(target_os = "macos")]` line, tests included, but links and runs nothing: the Windows
# and macOS jobs of .github/workflows/test.yml run the tests.
#
# How: Debian's rustc-web toolchain and its standard library's sources (bookworm-security; installed here when
# missing) build the standard library for those targets (-Zbuild-std, enabled with RUSTC_BOOTSTRAP on this one
# command), and clippy-driver lints the workspace's crates with -D warnings, as CI does. There is no C compiler for
# those targets here, so the C build scripts whose output the Rust code does not need (ring's, objc2's exception
# helper) are skipped by cargo's build-script overrides. Not part of scripts/test.sh: it takes about 25 minutes the
# first time (the standard library and every dependency, twice), a few seconds after a change.
#
# Usage: scripts/check-other-platforms.sh [TARGET...]   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in rustc-web cargo-web rust-web-src rust-web-clippy; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> Installing Debian's second Rust toolchain for cross-checking: ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Debian's toolchain by its full path: rustup's stays first on PATH for everything else.
rustc=/usr/bin/rustc
cargo=/usr/bin/cargo
[ -d "$("$rustc" --print sysroot)/lib/rustlib/src/rust/library" ] || {
  echo "rust-web-src did not install the standard library's sources where $rustc looks" >&2
  exit 1
}

# The `links` names of the C build scripts to skip, as this Cargo.lock resolves them.
links_of() {
  "$cargo" metadata --locked --format-version 1 2>/dev/null |
    node -e 'const names = process.argv.slice(1); let json = "";
      process.stdin.on("data", (d) => (json += d)).on("end", () => {
        const links = JSON.parse(json).packages.filter((p) => names.includes(p.name) && p.links).map((p) => p.links);
        console.log([...new Set(links)].sort().join("\n"));
      });' "$@"
}
mapfile -t skipped < <(links_of ring objc2-exception-helper)

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64-pc-windows-msvc aarch64-apple-darwin)
failed=0
for target in "${targets[@]}"; do
  overrides=()
  for links in "${skipped[@]}"; do
    overrides+=(--config "target.$target.$links.rustc-link-search=[]")
  done
  echo "==> $target: cargo check + clippy -D warnings, core and app, all targets"
  if RUSTC_BOOTSTRAP=1 RUSTC="$rustc" RUSTC_WORKSPACE_WRAPPER=/usr/bin/clippy-driver \
    CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__" CARGO_TARGET_DIR=target/other-platforms \
    "$cargo" "${overrides[@]}" check --locked -Zbuild-std=std,panic_abort --target "$target" \
    -p icloud-mail-core -p icloud-mail-setup --all-targets; then
    echo "PASS $target"
  else
    echo "FAIL $target"
    failed=1
  fi
done
exit "$failed"
