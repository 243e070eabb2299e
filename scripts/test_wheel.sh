#!/usr/bin/env bash
# Tests the binary wheel as a user gets it: builds it (make wheel), installs it into a fresh
# venv that holds nothing else but dbt (.venv-wheel-test), checks that the venv's `orc` is the
# wheel's binary running on the wheel's bundled libraries, then runs a subset of the
# end-to-end suite against it, including an S3 round trip through the bundled libcurl.
# pytest itself, moto and boto3 come from the development venv (.venv).
# Usage: scripts/test_wheel.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
TVENV=$REPO/.venv-wheel-test
DEV_VENV=$REPO/${VENV:-.venv}

fail() { echo "test_wheel: $*" >&2; exit 1; }

echo "== make wheel =="
make --no-print-directory wheel
wheel=$(ls dist/orc_dbt-*.whl)
echo "test_wheel: wheel built after ${SECONDS}s"

echo "== fresh venv $TVENV: dbt (pins from requirements-dev.txt) and $wheel =="
rm -rf "$TVENV"
python3 -m venv "$TVENV"
mapfile -t dbt_pins < <(grep -E '^dbt-(core|duckdb)\b' requirements-dev.txt)
"$TVENV/bin/pip" install -q --disable-pip-version-check "${dbt_pins[@]}" "$wheel"

echo "== the venv's orc is the wheel's =="
ORC=$TVENV/bin/orc
[ "$(PATH="$TVENV/bin:$PATH" command -v orc)" = "$ORC" ] || fail "orc on the venv's PATH is not $ORC"
want="orc $(sed -n 's/^project(orc VERSION \([^ )]*\).*/\1/p' CMakeLists.txt)"
got=$("$ORC" --version)
[ "$got" = "$want" ] || fail "$ORC --version says '$got', expected '$want'"
site=$("$TVENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("platlib"))')
binary=$site/orc_dbt.scripts/orc
libs=$(realpath "$site/orc_dbt.libs")
[ -x "$binary" ] || fail "no binary at $binary"
deps=$(ldd "$binary")
if grep -q "not found" <<<"$deps"; then fail "unresolved libraries:"$'\n'"$deps"; fi
for lib in libcurl libssl libcrypto libfmt libsimdjson libtomlplusplus; do
  path=$(awk -v lib="$lib" '$1 ~ "^"lib"[-.]" {print $3; exit}' <<<"$deps")
  [ -n "$path" ] || fail "$binary does not load $lib:"$'\n'"$deps"
  [ "$(dirname "$(realpath "$path")")" = "$libs" ] || fail "$lib is loaded from $path, not from $libs"
  echo "$lib: $(realpath "$path")"
done

echo "== end-to-end subset against $ORC =="
# The binary's code is the one `make test` covers in full; this checks what the wheel adds: a
# stateful build twice (reuse) with its state in S3, a state save without dbt, passthrough to
# the venv's dbt, is_warn on a real run. Node ids rather than -k, so that a renamed test
# fails here instead of silently dropping out.
E2E=tests/e2e
ORC_E2E_FORK=0 ORC_BIN=$ORC ORC_TEST_VENV=$TVENV "$DEV_VENV/bin/python" -m pytest -q -p no:cacheprovider \
  -n "${PYTEST_WORKERS:-2}" \
  "$E2E/test_remote_state_s3.py::test_build_twice_with_s3_state_reuses" \
  "$E2E/test_remote_state_s3.py::test_save_to_missing_object_creates_it_then_reload_merges" \
  "$E2E/test_passthrough.py::test_version_matches_dbt" \
  "$E2E/test_is_warn.py::test_warn_from_a_real_dbt_run" \
  "$@"
echo "test_wheel: passed in ${SECONDS}s"
