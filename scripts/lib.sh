# Shared helpers of scripts/run and scripts/test. Sourced, never executed.
# Everything the two commands need is installed here: Debian packages,
# a virtualenv with the project's Python packages, a local PostgreSQL
# cluster under .local/ (unless PG* variables point at a server).
# Odoo itself comes from the environment: an importable `odoo`, or ODOO_SRC
# (a source tree, or a .tar.gz/.tgz/.zip archive of one).

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$REPO/.local"
VENV="$REPO/.venv"
PGDIR="$LOCAL/pg"
ECRM_PGPORT="${ECRM_PGPORT:-54329}"
mkdir -p "$LOCAL"

say() { printf '%s\n' "ecrm: $*"; }
die() { printf '%s\n' "ecrm: error: $*" >&2; exit 2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root (or sudo) to run: $*"; fi
}

# ensure_debs PKG... : install the Debian packages that are missing.
ensure_debs() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get to install them"
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get could not install ${missing[*]}"
}

# find_odoo: sets ODOO_PY (a python that imports odoo) and ODOO_BIN, or
# ODOO_MISSING with the reason. Never fails.
ODOO_PY=""
ODOO_BIN=""
ODOO_MISSING=""
find_odoo() {
    local src="${ODOO_SRC:-}"
    if [ -n "$src" ]; then
        [ -e "$src" ] || die "ODOO_SRC=$src does not exist (give an Odoo 18.0 source tree or archive, or unset it)"
        if [ -f "$src" ]; then
            local dest="$LOCAL/odoo-src"
            if [ ! -f "$dest/.from" ] || [ "$(cat "$dest/.from")" != "$(realpath "$src")" ]; then
                say "unpacking $src"
                rm -rf "$dest" && mkdir -p "$dest"
                case "$src" in
                    *.zip) python3 -m zipfile -e "$src" "$dest" ;;
                    *.tar.gz|*.tgz|*.tar) tar -xf "$src" -C "$dest" ;;
                    *) die "ODOO_SRC=$src is a file but not a .zip, .tar, .tar.gz or .tgz archive" ;;
                esac
                realpath "$src" > "$dest/.from"
            fi
            src="$(dirname "$(find "$dest" -maxdepth 3 -name odoo-bin -print -quit)")"
            [ "$src" != "." ] || die "ODOO_SRC archive holds no odoo-bin"
        fi
        [ -f "$src/odoo-bin" ] && [ -d "$src/odoo" ] || die "ODOO_SRC=$src is not an Odoo source tree (no odoo-bin)"
        grep -q "version_info = (18, 0" "$src/odoo/release.py" || die "ODOO_SRC=$src is not Odoo 18.0"
        ensure_venv "$src"
        ODOO_PY="$VENV/bin/python"
        ODOO_BIN="$src/odoo-bin"
        return 0
    fi
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c "import odoo.release as r; assert r.version_info[0] == 18" >/dev/null 2>&1; then
            ensure_venv ""
            ODOO_PY="$VENV/bin/python"
            ODOO_BIN="$("$ODOO_PY" -c 'import odoo, os; print(os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin"))')"
            [ -f "$ODOO_BIN" ] || ODOO_BIN=""
            return 0
        fi
    done
    ODOO_MISSING="no importable Odoo 18 (python3 -c 'import odoo') and ODOO_SRC is not set"
    ensure_venv ""
}

# ensure_venv SRC: the project virtualenv. With an importable odoo it sees the
# system site-packages; with ODOO_SRC it gets Odoo's requirements and a .pth.
ensure_venv() {
    local src="$1" stamp want
    want="$(cat "$REPO/requirements-dev.txt")|$src|$(python3 -c 'import sys;print(sys.prefix)')"
    [ -n "$src" ] && want="$want|$(sha1sum "$src/requirements.txt")"
    stamp="$VENV/.ecrm-stamp"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    ensure_debs python3-venv libpq-dev
    say "preparing the virtualenv in .venv"
    rm -rf "$VENV"
    if [ -n "$src" ]; then
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip "setuptools<70" wheel > "$LOCAL/pip.log" 2>&1
        "$VENV/bin/python" "$REPO/scripts/odoo_requirements.py" "$src/requirements.txt" > "$LOCAL/odoo-requirements.txt"
        "$VENV/bin/pip" install -q --no-build-isolation -r "$LOCAL/odoo-requirements.txt" >> "$LOCAL/pip.log" 2>&1 \
            || { tail -n 20 "$LOCAL/pip.log" >&2; die "could not install Odoo's Python requirements (log: .local/pip.log)"; }
        "$VENV/bin/python" -c 'import site,sys; print(site.getsitepackages()[0])' | {
            read -r sp; echo "$src" > "$sp/ecrm-odoo-src.pth"; }
    elif python3 -c "import odoo" >/dev/null 2>&1; then
        python3 -m venv --system-site-packages "$VENV"
    else
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q -r "$REPO/requirements-dev.txt" > "$LOCAL/pip.log" 2>&1 \
        || { tail -n 20 "$LOCAL/pip.log" >&2; die "could not install requirements-dev.txt (log: .local/pip.log)"; }
    echo "$want" > "$stamp"
}

# --- PostgreSQL -----------------------------------------------------------
# use_pg: exports what Odoo needs to reach PostgreSQL in ODOO_DB_ARGS.
# PG* variables (PGHOST, PGPORT, PGUSER, PGPASSWORD) select a real server;
# otherwise a cluster under .local/pg is created and started.
ODOO_DB_ARGS=()
PG_RUNAS=()
use_pg() {
    ensure_debs postgresql postgresql-client
    if [ -n "${PGHOST:-}${PGPORT:-}${PGUSER:-}" ]; then
        ODOO_DB_ARGS=(--db_host "${PGHOST:-localhost}" --db_port "${PGPORT:-5432}" --db_user "${PGUSER:-$(id -un)}")
        [ -n "${PGPASSWORD:-}" ] && ODOO_DB_ARGS+=(--db_password "$PGPASSWORD")
        psql -d postgres -Atc "select 1" >/dev/null 2>&1 \
            || die "cannot reach PostgreSQL at ${PGHOST:-localhost}:${PGPORT:-5432} as ${PGUSER:-$(id -un)} (check the PG* variables)"
        say "using PostgreSQL at ${PGHOST:-localhost}:${PGPORT:-5432}"
        return 0
    fi
    local bindir
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    local owner
    owner="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: the cluster belongs to "postgres".
        owner=postgres
        PG_RUNAS=("$(PATH="$PATH:/usr/sbin:/sbin" command -v runuser)" -u postgres --)
    fi
    mkdir -p "$PGDIR"
    if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
        say "creating a PostgreSQL cluster in .local/pg"
        rm -rf "$PGDIR/data"
        mkdir -p "$PGDIR/data" "$PGDIR/run"
        chown "$owner" "$PGDIR" "$PGDIR/data" "$PGDIR/run"
        "${PG_RUNAS[@]}" "$bindir/initdb" -D "$PGDIR/data" -U odoo -A trust -E UTF8 --locale=C.UTF-8 \
            > "$LOCAL/initdb.log" 2>&1 || { cat "$LOCAL/initdb.log" >&2; die "initdb failed in $PGDIR/data"; }
        cat >> "$PGDIR/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDIR/run'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 512MB
work_mem = 64MB
maintenance_work_mem = 256MB
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
EOF
    fi
    # The cluster's port is fixed in the command line, so ECRM_PGPORT can change.
    if ! "${PG_RUNAS[@]}" "$bindir/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
        if port_taken "$ECRM_PGPORT"; then
            die "port $ECRM_PGPORT is taken by another program; set ECRM_PGPORT to a free port, or PGHOST/PGPORT to use that server"
        fi
        chown "$owner" "$PGDIR" "$PGDIR/run"
        "${PG_RUNAS[@]}" "$bindir/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgresql.log" -o "-p $ECRM_PGPORT" -w start >/dev/null \
            || die "PostgreSQL did not start; see .local/pg/postgresql.log"
        say "PostgreSQL started on 127.0.0.1:$ECRM_PGPORT (data in .local/pg)"
    else
        ECRM_PGPORT="$(sed -n 4p "$PGDIR/data/postmaster.pid")"
    fi
    export PGHOST="$PGDIR/run" PGPORT="$ECRM_PGPORT" PGUSER=odoo
    ODOO_DB_ARGS=(--db_host "$PGDIR/run" --db_port "$ECRM_PGPORT" --db_user odoo)
}

# use_pg_replica: after use_pg on the embedded cluster, a streaming replica of it
# in .local/pg-replica on port ECRM_PGPORT+1 (pg_basebackup -R, hot standby),
# started if needed; sets ODOO_REPLICA_ARGS for Odoo's --db_replica_host/port.
# The primary gets wal_level replica and pg_stat_statements (restarted once).
ODOO_REPLICA_ARGS=()
use_pg_replica() {
    local bindir conf="$PGDIR/data/postgresql.conf" rdir="$LOCAL/pg-replica"
    local rport=$((ECRM_PGPORT + 1))
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    if [ "$(psql -d postgres -Atc "SHOW shared_preload_libraries")" != pg_stat_statements ] \
        || [ "$(psql -d postgres -Atc "SHOW wal_level")" = minimal ]; then
        say "primary: wal_level replica and pg_stat_statements (restarting PostgreSQL)"
        grep -q "^shared_preload_libraries = 'pg_stat_statements'" "$conf" \
            || echo "shared_preload_libraries = 'pg_stat_statements'" >> "$conf"
        echo "wal_level = replica" >> "$conf"
        "${PG_RUNAS[@]}" "$bindir/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/postgresql.log" -o "-p $ECRM_PGPORT" -w restart >/dev/null \
            || die "PostgreSQL did not restart; see .local/pg/postgresql.log"
    fi
    mkdir -p "$rdir/run"
    if [ ! -f "$rdir/data/PG_VERSION" ]; then
        say "creating a streaming replica of .local/pg in .local/pg-replica (pg_basebackup)"
        rm -rf "$rdir/data"
        [ "${#PG_RUNAS[@]}" -gt 0 ] && chown postgres "$rdir" "$rdir/run"
        "${PG_RUNAS[@]}" "$bindir/pg_basebackup" -h "$PGDIR/run" -p "$ECRM_PGPORT" -U odoo -D "$rdir/data" -R -X stream \
            > "$LOCAL/pg-basebackup.log" 2>&1 || { cat "$LOCAL/pg-basebackup.log" >&2; die "pg_basebackup failed"; }
    fi
    if ! "${PG_RUNAS[@]}" "$bindir/pg_ctl" -D "$rdir/data" status >/dev/null 2>&1; then
        port_taken "$rport" && die "port $rport (the replica's, ECRM_PGPORT+1) is taken by another program; set ECRM_PGPORT"
        "${PG_RUNAS[@]}" "$bindir/pg_ctl" -D "$rdir/data" -l "$rdir/postgresql.log" -o "-p $rport -k $rdir/run" -w start >/dev/null \
            || die "the replica did not start; see .local/pg-replica/postgresql.log"
        say "PostgreSQL replica started on 127.0.0.1:$rport (data in .local/pg-replica)"
    else
        rport="$(sed -n 4p "$rdir/data/postmaster.pid")"
    fi
    [ "$(psql -h "$rdir/run" -p "$rport" -d postgres -Atc "SELECT pg_is_in_recovery()")" = t ] \
        || die "the server on port $rport is not a standby (remove .local/pg-replica to rebuild it)"
    export ECRM_REPLICA_PGHOST="$rdir/run" ECRM_REPLICA_PGPORT="$rport"
    ODOO_REPLICA_ARGS=(--db_replica_host "$rdir/run" --db_replica_port "$rport")
}

port_taken() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

db_exists() { [ "$(psql -d postgres -Atc "select 1 from pg_database where datname = '$1'")" = 1 ]; }

addons_path() {
    local base
    base="$("$ODOO_PY" -c 'import odoo, os; r = os.path.dirname(os.path.dirname(odoo.__file__)); print(",".join(p for p in (os.path.join(r, "addons"), os.path.join(r, "odoo", "addons")) if os.path.isdir(p)))')"
    echo "$base,$REPO"
}

# ecrm_addons: the addons of this repository, comma-separated: ecrm_addon, then
# every directory beside it holding a __manifest__.py (the bridge addons,
# ecrm_livechat...), in name order.
ecrm_addons() {
    local list=ecrm_addon dir name
    for dir in "$REPO"/*/; do
        name="$(basename "$dir")"
        [ "$name" != ecrm_addon ] && [ -f "$dir/__manifest__.py" ] && list="$list,$name"
    done
    echo "$list"
}

# ecrm_addons_deps ADDONS: the union of their manifests' depends, themselves
# left out, comma-separated in order of appearance.
ecrm_addons_deps() {
    python3 - "$1" "$REPO" <<'PY'
import ast, os, sys
addons = sys.argv[1].split(",")
deps = []
for addon in addons:
    with open(os.path.join(sys.argv[2], addon, "__manifest__.py"), encoding="utf-8") as manifest:
        for dep in ast.literal_eval(manifest.read()).get("depends", []):
            if dep not in addons and dep not in deps:
                deps.append(dep)
print(",".join(deps))
PY
}

odoo_cmd() {
    if [ -n "$ODOO_BIN" ]; then ODOO_CMD=("$ODOO_PY" "$ODOO_BIN")
    else ODOO_CMD=("$ODOO_PY" -c 'import sys, odoo.cli; sys.argv[0] = "odoo"; odoo.cli.main()'); fi
}
odoo() { odoo_cmd; "${ODOO_CMD[@]}" "$@"; }
