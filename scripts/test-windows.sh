#!/usr/bin/env bash
# The Windows build, run for real on this Linux machine under Wine: builds the app and the core's tests for
# x86_64-pc-windows-gnu, makes a throwaway Wine prefix, and runs
#   - the core's own unit and integration tests as Windows programs (Known Folders, Thunderbird's Windows profile
#     roots, the share-mode lock, the keychain round trip in Wine's Credential Manager, the TLS verifier, …);
#   - tests/tests/windows.rs: the exe's command line as a Windows user runs it (console and exit codes, keychain,
#     every export to a user folder, the .reg through Wine's reg, Thunderbird under %APPDATA%, a probe of the
#     harness's Dovecot on the host's loopback with a Windows --ca-file path).
# Ends with "N passed, N failed" (tests counted) and a non-zero exit on any failure. Part of scripts/test.sh.
# What Wine proves and what it does not: docs/windows.md.
#
# How it builds: Debian's second toolchain (rustc-web 1.96, at /usr/bin, behind rustup's on PATH) builds the
# standard library for the target from rust-web-src (-Zbuild-std, enabled by RUSTC_BOOTSTRAP for these commands
# only); Debian's mingw-w64 links. Cold: the standard library and the whole app once (see docs/windows.md for the
# time); afterwards only what changed. Wine 8.0 lacks bcryptprimitives.dll's ProcessPrng, which every Rust exe
# imports: scripts/windows/processprng.c is that DLL, built here and copied into the prefix only.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

[ "${ICLOUD_MAIL_SETUP_INSTALLED:-}" = 1 ] || bash scripts/install.sh test || {
  echo "0 passed, 1 failed (installing what is missing)"
  exit 1
}
export PATH="$HOME/.cargo/bin:$PATH"

target=x86_64-pc-windows-gnu
wine=/usr/lib/wine/wine64
wineserver=/usr/lib/wine/wineserver
missing=()
[ -x /usr/bin/cargo ] && [ -d "$(/usr/bin/rustc --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library" ] ||
  missing+=("Debian's rustc-web, cargo-web and rust-web-src")
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=("gcc-mingw-w64-x86-64")
[ -x "$wine" ] || missing+=("wine64 ($wine)")
if [ ${#missing[@]} -gt 0 ]; then
  printf 'missing: %s\n' "${missing[@]}"
  echo "0 passed, 1 failed (the Windows tools are missing: scripts/install.sh test installs them on Debian 12)"
  exit 1
fi
# Debian's toolchain by its full path, for the Windows commands only.
wincargo() {
  RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine" /usr/bin/cargo "$1" --locked -Zbuild-std --target "$target" "${@:2}"
}

passed=0
failed=0
failures=()
# Adds a libtest run's counts ("test result: ok. 12 passed; 0 failed; …") to the totals; a run that printed no
# result (it did not build, or crashed) counts as one failure.
count() {
  local name="$1" log="$2" status="$3" p f
  read -r p f < <(awk '/^test result:/ { for (i = 1; i < NF; i++) { if ($(i + 1) ~ /^passed/) p += $i; if ($(i + 1) ~ /^failed/) f += $i } }
    END { print p + 0, f + 0 }' "$log")
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" -eq 0 ] || failures+=("$name")
  printf '%s: %s passed, %s failed\n' "$name" "$p" "$f"
}

logs="$(mktemp -d)"
export WINEPREFIX="$logs/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() {
  "$wineserver" -k 2>/dev/null
  rm -rf "$logs"
}
trap cleanup EXIT

echo "==> Building the app and the core's tests for $target"
start=$SECONDS
if ! wincargo build -p icloud-mail-setup || ! wincargo test -p icloud-mail-core --lib --tests --no-run; then
  echo "0 passed, 1 failed (the Windows build)"
  exit 1
fi
echo "(built in $((SECONDS - start)) s)"

echo "==> A throwaway Wine prefix, with the ProcessPrng shim and a stand-in outlook.exe under App Paths"
shims="target/$target/shims"
mkdir -p "$shims"
# mingw_build OUTPUT SOURCE FLAGS…: compiles SOURCE when OUTPUT is missing or older.
mingw_build() {
  local output="$1" source="$2"
  shift 2
  [ -f "$output" ] && [ "$output" -nt "$source" ] || x86_64-w64-mingw32-gcc -O2 -o "$output" "$source" "$@"
}
mingw_build "$shims/bcryptprimitives.dll" scripts/windows/processprng.c -shared -ladvapi32 &&
  mingw_build "$shims/outlook.exe" scripts/windows/outlook-standin.c -lshell32 || {
  echo "0 passed, 1 failed (the shims)"
  exit 1
}
"$wine" wineboot --init >/dev/null 2>&1 || { echo "0 passed, 1 failed (wineboot)"; exit 1; }
"$wineserver" -w
cp "$shims/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
office='C:\Program Files\Microsoft Office\root\Office16'
mkdir -p "$("$wine" winepath -u "$office")"
cp "$shims/outlook.exe" "$("$wine" winepath -u "$office")/"
"$wine" reg add 'HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths\OUTLOOK.EXE' /ve /d "$office\outlook.exe" /f >/dev/null ||
  { echo "0 passed, 1 failed (registering the stand-in outlook.exe)"; exit 1; }
# Where the stand-in writes the arguments it got (core/src/mail_apps.rs reads them back).
export ICLOUD_MAIL_SETUP_OUTLOOK_RECORD='C:\users\Public\outlook-arguments.txt'

echo "==> The core's tests, as Windows programs"
# A certificate from an unknown CA is accepted by Wine's chain policy when revocation checking is off (Wine's limit,
# not ours): Windows' own job runs that test.
# (--lib --tests: the doctests would need rustdoc to cross-compile, which is unstable.)
wincargo test -p icloud-mail-core --lib --tests --no-fail-fast -- \
  --skip a_certificate_from_another_ca_is_refused 2>&1 | tee "$logs/core.log"
count "core under Wine" "$logs/core.log" "${PIPESTATUS[0]}"
# The keychain round trip writes to the real store, here the throwaway prefix's Credential Manager.
ICLOUD_MAIL_SETUP_REAL_KEYCHAIN=1 wincargo test -p icloud-mail-core --test keychain_native -- --ignored 2>&1 |
  tee "$logs/keychain.log"
count "keychain round trip under Wine" "$logs/keychain.log" "${PIPESTATUS[0]}"

echo "==> The app's command line under Wine (tests/tests/windows.rs)"
cargo test --locked -p icloud-mail-tests --test windows -- --ignored 2>&1 | tee "$logs/app.log"
count "command line under Wine" "$logs/app.log" "${PIPESTATUS[0]}"

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
