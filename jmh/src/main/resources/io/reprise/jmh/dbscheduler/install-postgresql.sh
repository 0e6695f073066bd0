#!/usr/bin/env bash
# Installs PostgreSQL from the Debian package `postgresql` for the db-scheduler baseline of `reprise bench`
# (docs/benchmarks.md). The benchmark runs it when it finds no PostgreSQL binaries; run it by hand as
#   bash jmh/src/main/resources/io/reprise/jmh/dbscheduler/install-postgresql.sh
# The benchmark starts a server of its own on a temporary directory, so the package's default cluster is not
# created. Prints the directory of the binaries (initdb, pg_ctl, postgres) last.
set -euo pipefail

bindir()
{
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && echo "$dir"
}

if dir="$(bindir)"; then
    echo "$dir"
    exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
    echo "install-postgresql: PostgreSQL is not installed and this is not root; install the Debian package" \
        "'postgresql' (apt-get install postgresql), or name a directory of binaries with" \
        "-Dreprise.bench.postgres.bin=DIR" >&2
    exit 1
fi
if ! command -v apt-get > /dev/null; then
    echo "install-postgresql: no apt-get here; install PostgreSQL and name its binaries with" \
        "-Dreprise.bench.postgres.bin=DIR" >&2
    exit 1
fi
# No default cluster, and no service started by the package's scripts: the benchmark runs its own server.
mkdir -p /etc/postgresql-common
if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
    echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
fi
echo "install-postgresql: apt-get install postgresql" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends postgresql >&2
bindir || { echo "install-postgresql: installed, but no /usr/lib/postgresql/*/bin/initdb" >&2; exit 1; }
