#!/usr/bin/env bash
# Installs whatever is missing, builds iCloud Mail Setup, and opens the wizard.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh app
export PATH="$HOME/.cargo/bin:$PATH"
npm run --silent build:ui
cargo build --locked -p icloud-mail-setup
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "Built target/debug/icloud-mail-setup, but there is no display to open the window on (DISPLAY is unset)." >&2
  echo "Run it from a desktop session, or try the command line: target/debug/icloud-mail-setup --help" >&2
  exit 1
fi
exec target/debug/icloud-mail-setup "$@"
