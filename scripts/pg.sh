#!/usr/bin/env bash
# Starts (or reuses) a throw-away PostgreSQL server on loopback for the tests, running as a
# non-root user, and creates the test database. Prints the PG* variables to export.
#   scripts/pg.sh start | stop | env
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGDATA=${ORC_PGDATA:-/tmp/orc-pg-data}
export PGHOST=127.0.0.1 PGPORT=${ORC_PGPORT:-55432} PGUSER=postgres PGPASSWORD=postgres \
  PGDATABASE=orc_test

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    [ -n "$PGBIN" ] || { echo "pg.sh: PostgreSQL is not installed" >&2; exit 1; }
    if ! "$PGBIN/pg_isready" -q -h "$PGHOST" -p "$PGPORT"; then
      if [ ! -f "$PGDATA/PG_VERSION" ]; then
        mkdir -p "$PGDATA"
        [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$PGDATA"
        as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres >/dev/null
      fi
      as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k /tmp -c fsync=off" start >/dev/null
    fi
    psql -qtA -d postgres -c "select 1 from pg_database where datname='$PGDATABASE'" | grep -q 1 ||
      psql -q -d postgres -c "create database $PGDATABASE" >/dev/null
    ;;
  stop)
    [ -f "$PGDATA/PG_VERSION" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null || true
    ;;
  env) ;;
esac
echo "export PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=$PGUSER PGPASSWORD=$PGPASSWORD PGDATABASE=$PGDATABASE"
