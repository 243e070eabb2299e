#!python
# `orc` as installed from the binary wheel (scripts/build_wheel.sh puts this file in place of
# the launcher auditwheel writes). The native binary cannot live in the environment's bin/:
# it finds its bundled shared libraries relative to itself, so auditwheel moves it to
# site-packages/orc_dbt.scripts/orc, beside site-packages/orc_dbt.libs/. This launcher execs
# it with the same arguments. auditwheel's own launcher only looks in the interpreter's
# default site-packages, which misses `pip install --user`, `--prefix` and `--target`.
import os
import sys
import sysconfig

BINARY = os.path.join("orc_dbt.scripts", "orc")


def site_dirs():
    """Where the binary may be, most likely first."""
    # The site-packages of the prefix this launcher was installed into (venv, --user, --prefix;
    # realpath follows pipx's symlink into its venv).
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    yield sysconfig.get_path("platlib", vars={"base": prefix, "platbase": prefix})
    yield sysconfig.get_path("platlib")
    yield from sys.path


if __name__ == "__main__":
    for site in site_dirs():
        binary = os.path.join(site or ".", BINARY)
        if os.access(binary, os.X_OK):
            os.execv(binary, sys.argv)
    sys.exit(f"orc: the orc-dbt installation is incomplete: no {BINARY} in site-packages; "
             "reinstall it with pip install --force-reinstall orc-dbt")
