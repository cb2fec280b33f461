#!/usr/bin/env bash
# After the macOS release build: reads the entitlements back from the signed app and fails unless the app keeps
# library validation and only the Thunderbird login helper has it disabled (issue 23, M2; docs/installers.md).
# An unsigned build (no signing secrets: the linker's ad-hoc signature, no entitlements at all) is only reported.
# Usage: check-entitlements.sh "path/to/iCloud Mail Setup.app" ...
# Bash 3.2 (macOS's own) is enough; CODESIGN names a stand-in for the tests on Linux.
set -euo pipefail
codesign="${CODESIGN:-codesign}"
key=com.apple.security.cs.disable-library-validation
[ $# -gt 0 ] || {
  echo "check-entitlements: no app given (was the .app built?)" >&2
  exit 1
}
status=0
for app in "$@"; do
  main="$app/Contents/MacOS/icloud-mail-setup"
  helper="$app/Contents/MacOS/icloud-mail-setup-nss-helper"
  for binary in "$main" "$helper"; do
    [ -f "$binary" ] || {
      echo "check-entitlements: $binary is missing" >&2
      status=1
    }
  done
  [ "$status" -eq 0 ] || continue
  if ! "$codesign" --display --verbose=2 "$main" 2>&1 | grep -q '^Authority='; then
    echo "check-entitlements: $app is not signed with a certificate (no signing secrets): nothing to check"
    continue
  fi
  main_entitlements="$("$codesign" --display --entitlements - --xml "$main" 2>/dev/null || true)"
  helper_entitlements="$("$codesign" --display --entitlements - --xml "$helper" 2>/dev/null || true)"
  if printf '%s' "$main_entitlements" | grep -q "$key"; then
    echo "check-entitlements: $main carries $key: the app must keep library validation" >&2
    status=1
  fi
  if ! printf '%s' "$helper_entitlements" | grep -q "$key"; then
    echo "check-entitlements: $helper lacks $key: it could not load Thunderbird's NSS" >&2
    status=1
  fi
  for binary in "$main" "$helper"; do
    "$codesign" --display --verbose=2 "$binary" 2>&1 | grep -q 'flags=.*runtime' || {
      echo "check-entitlements: $binary is not signed with the hardened runtime" >&2
      status=1
    }
  done
  [ "$status" -ne 0 ] || echo "check-entitlements: $app: the app keeps library validation, only the helper disables it"
done
exit "$status"
