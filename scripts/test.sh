#!/usr/bin/env bash
# Installs whatever is missing, then runs every test: formatting, lints, Rust unit and real-component tests
# (Dovecot, gnome-keyring, the app under Xvfb through WebDriver), the TypeScript type-check and UI tests.
# Every step runs even when an earlier one failed; a summary line closes the run; the exit code is non-zero on
# any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
# The calendar, contact and Thunderbird suites give programs a private /etc/hosts (a mount namespace) and run
# Thunderbird in a loopback-only network namespace: both need root.
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need root (private mount and network namespaces for the DAV and Thunderbird suites): run it as root" >&2
  echo "summary: 0 passed, 1 failed (not root)"
  exit 1
fi
bash scripts/install.sh test || { echo "summary: 0 passed, 1 failed (installing what is missing)"; exit 1; }
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

passed=0
failed=0
failures=()
step() {
  local name="$1"
  shift
  printf '\n\033[1m==> %s\033[0m\n' "$name"
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    printf '\033[32mPASS\033[0m %s (%ss)\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1))
    failures+=("$name")
    printf '\033[31mFAIL\033[0m %s (%ss)\n' "$name" $((SECONDS - start))
  fi
}

step "ui build (vite)" npm run --silent build:ui
step "cargo fmt" cargo fmt --all --check
step "cargo clippy" cargo clippy --locked --workspace --all-targets -- -D warnings
step "app build" cargo build --locked -p icloud-mail-setup
# The installers from the release build (LTO: the slowest step when the app changed). The UI was built above, so
# the Tauri CLI is told not to build it again (that would only touch ui/dist and force another compile).
# Old packages go first, so a failed build can never leave the package tests an earlier run's files.
build_packages() {
  rm -rf target/release/bundle/deb target/release/bundle/rpm
  npx --no-install tauri build --ci --bundles deb,rpm --config '{"build":{"beforeBuildCommand":""}}'
}
step "packages (.deb, .rpm)" build_packages
# The suites start their own D-Bus, Xvfb, Dovecot and gnome-keyring; dbus-run-session keeps GTK's helpers from
# outliving the run.
step "rust tests" dbus-run-session -- cargo test --locked --workspace --exclude tauri-hello-baseline --no-fail-fast
# The packages built above, unpacked into throwaway roots: metadata, libraries, desktop entry, icons, licence,
# --version, and the unpacked app under Xvfb through WebDriver (ignored by plain `cargo test`: needs the packages).
step "package tests" dbus-run-session -- cargo test --locked --workspace --exclude tauri-hello-baseline --test package -- --ignored
# The Windows build under Wine: the core's tests and the exe's command line (scripts/test-windows.sh, docs/windows.md).
step "windows (under Wine)" env ICLOUD_MAIL_SETUP_INSTALLED=1 bash scripts/test-windows.sh
step "typescript" npm run --silent typecheck
step "prettier" npm run --silent format:check
step "ui tests (vitest)" npm run --silent test:ui
step "accessibility (axe-core in Chromium)" npm run --silent test:a11y
step "workflow lint (actionlint)" npm run --silent lint:workflows

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
