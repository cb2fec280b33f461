#!/usr/bin/env bash
# Hands the release build the signing secrets that are set, and only those (through $GITHUB_ENV, read by the later
# steps of the job). tauri-bundler signs as soon as a signing variable is in its environment at all: an unset
# secret passed on as an empty APPLE_CERTIFICATE or APPLE_SIGNING_IDENTITY makes it try to sign, and fail. With no
# secret set, nothing is written and the installers are built unsigned.
#
# macOS: APPLE_CERTIFICATE (base64 of the .p12), APPLE_CERTIFICATE_PASSWORD, APPLE_SIGNING_IDENTITY; notarization with
#   APPLE_ID, APPLE_PASSWORD (app-specific) and APPLE_TEAM_ID, or with an App Store Connect key: APPLE_API_ISSUER,
#   APPLE_API_KEY (its id) and APPLE_API_KEY_P8 (the .p8 file's text, written to a file for APPLE_API_KEY_PATH).
# Windows: WINDOWS_CERTIFICATE (base64 of the .pfx) and WINDOWS_CERTIFICATE_PASSWORD: the certificate is imported
#   into the runner's certificate store and its thumbprint handed to the bundler (bundle.windows.certificateThumbprint)
#   as an extra configuration file, named in TAURI_SIGNING_ARGS.
set -euo pipefail
: "${GITHUB_ENV:?this runs in a GitHub Actions job}"
: "${RUNNER_TEMP:?this runs in a GitHub Actions job}"

# Appends NAME=value for each named variable that is set and not empty; multi-line values are kept whole.
pass_on() {
  local name value delimiter
  for name in "$@"; do
    value="${!name:-}"
    [ -n "$value" ] || continue
    delimiter="END_OF_${name}_$RANDOM$RANDOM"
    printf '%s<<%s\n%s\n%s\n' "$name" "$delimiter" "$value" "$delimiter" >>"$GITHUB_ENV"
    echo "signing: $name is set"
  done
}

case "${RUNNER_OS:-}" in
  macOS)
    pass_on APPLE_CERTIFICATE APPLE_CERTIFICATE_PASSWORD APPLE_SIGNING_IDENTITY
    pass_on APPLE_ID APPLE_PASSWORD APPLE_TEAM_ID
    if [ -n "${APPLE_API_KEY:-}" ] && [ -n "${APPLE_API_KEY_P8:-}" ]; then
      mkdir -p "$RUNNER_TEMP/private_keys"
      APPLE_API_KEY_PATH="$RUNNER_TEMP/private_keys/AuthKey_${APPLE_API_KEY}.p8"
      printf '%s\n' "$APPLE_API_KEY_P8" >"$APPLE_API_KEY_PATH"
      chmod 600 "$APPLE_API_KEY_PATH"
      export APPLE_API_KEY_PATH
      pass_on APPLE_API_ISSUER APPLE_API_KEY APPLE_API_KEY_PATH
    fi
    ;;
  Windows)
    if [ -n "${WINDOWS_CERTIFICATE:-}" ]; then
      pfx="$RUNNER_TEMP/windows-signing.pfx"
      printf '%s' "$WINDOWS_CERTIFICATE" | tr -d '\r\n ' | base64 -d >"$pfx"
      # shellcheck disable=SC2016 # $env: is PowerShell's, not this shell's
      thumbprint=$(PFX="$pfx" powershell -NoProfile -NonInteractive -Command '
        $password = ConvertTo-SecureString -String $env:WINDOWS_CERTIFICATE_PASSWORD -Force -AsPlainText
        (Import-PfxCertificate -FilePath $env:PFX -CertStoreLocation Cert:\CurrentUser\My -Password $password).Thumbprint' |
        tr -d '\r\n')
      rm -f "$pfx"
      [ -n "$thumbprint" ] || { echo "signing: the Windows certificate could not be imported" >&2; exit 1; }
      config="$RUNNER_TEMP/windows-signing.conf.json"
      printf '{"bundle":{"windows":{"certificateThumbprint":"%s"}}}\n' "$thumbprint" >"$config"
      echo "TAURI_SIGNING_ARGS=--config $config" >>"$GITHUB_ENV"
      echo "signing: Windows certificate $thumbprint imported"
    fi
    ;;
esac
