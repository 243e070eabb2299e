#!/usr/bin/env bash
# Installs what building and testing orc needs, only what is missing: Debian packages and a
# Python venv (.venv) with dbt. Idempotent and fast when everything is present.
# Usage: install_deps.sh [system]   (`system`: the Debian packages only, what the build needs)
# Several may run at once (CI installs the venvs in the background while orc compiles, and a
# stage that needs a venv runs this again): each venv and the npm tools are installed under a
# lock, so a second caller waits for the first and then finds them installed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build pkg-config libsimdjson-dev libtomlplusplus-dev
  libfmt-dev libssl-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libxxhash-dev libyaml-cpp-dev postgresql python3-venv
  hyperfine chromium clang)
# Azurite (below) is installed with npm: take npm and nodejs from Debian when npm is missing.
command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)

exec {apt_lock}>.apt.lock
flock "$apt_lock"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

flock -u "$apt_lock"
[ "${1:-}" = system ] && exit 0

VENV=${VENV:-.venv}
REQ=${REQUIREMENTS:-requirements-dev.txt}
exec {venv_lock}>"$VENV.lock"
flock "$venv_lock"
stamp="$VENV/.orc-requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setting up Python venv $VENV from $REQ"
  python3 -m venv "$VENV"
  # A requirements file may name packages to install without their dependencies in a
  # comment line `# --no-deps: pkg==x pkg==y` (dbt-core 1.12, see requirements-dbt112.txt).
  no_deps=$(sed -n 's/^# --no-deps: *//p' "$REQ")
  if [ -n "$no_deps" ]; then
    # shellcheck disable=SC2086
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps $no_deps
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  echo "$want" > "$stamp"
fi
flock -u "$venv_lock"

# Azurite (Azure Blob emulator for the end-to-end tests), from npm into a repo-local prefix.
exec {npm_lock}>.npm-tools.lock
flock "$npm_lock"
if [ ! -x .npm-tools/node_modules/.bin/azurite-blob ]; then
  if command -v npm >/dev/null; then
    echo "installing azurite (npm) into .npm-tools"
    npm install --silent --prefix .npm-tools azurite >/dev/null
  else
    echo "npm not found: the Azure Blob end-to-end tests need azurite (apt-get install npm)" >&2
  fi
fi
