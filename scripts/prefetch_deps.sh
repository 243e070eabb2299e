#!/usr/bin/env bash
# Starts installing Python venvs (and the npm tools) in the background and returns at once, so
# that pip and npm, mostly network-bound, overlap CPU-bound work (the compile, the tests).
# Usage: prefetch_deps.sh [CHAIN...]   each CHAIN is a space-separated list of venv names
# installed one after the other (`dev` is .venv from requirements-dev.txt, NAME is .venv-NAME
# from requirements-NAME.txt); chains run side by side. Default: every venv `make test` uses.
# install_deps.sh takes a lock per venv, so a later `install_deps.sh` for the same venv waits
# for the background install and then finds it done (or, if it failed, installs again with its
# errors shown); output here goes nowhere.
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- "dev orchestra15 snowflake" "dbt110 dbt112"
for chain in "$@"; do
  ( for name in $chain; do
      if [ "$name" = dev ]; then
        nice bash scripts/install_deps.sh
      else
        VENV=.venv-$name REQUIREMENTS=requirements-$name.txt nice bash scripts/install_deps.sh
      fi
    done ) >/dev/null 2>&1 &
done
