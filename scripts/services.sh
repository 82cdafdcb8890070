#!/usr/bin/env bash
# Throwaway services for development and tests: a PostgreSQL 15 cluster and FerretDB v1.24
# (a MongoDB-compatible server on PostgreSQL), both on free loopback ports under .services/.
#
#   scripts/services.sh start    # idempotent: reuses what is already running
#   scripts/services.sh stop     # stops both; safe when nothing runs
#   scripts/services.sh status
#
# Connection URLs go to .services/env, which the tests read. If FerretDB cannot be built,
# the reason goes there too (FERRY_FERRETDB_UNAVAILABLE) so live-server tests can say why.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="$ROOT/.services"
PG_DIR="$STATE/pg"
PG_DATA="$PG_DIR/data"
FERRET_DIR="$STATE/ferretdb"
ENV_FILE="$STATE/env"
PG_USER=ferry

pg_bin() {
  local name=$1
  for dir in /usr/lib/postgresql/15/bin /usr/local/bin /usr/bin; do
    [[ -x "$dir/$name" ]] && { echo "$dir/$name"; return; }
  done
  command -v "$name" || { echo "services: $name (PostgreSQL 15) not found" >&2; exit 3; }
}

# PostgreSQL refuses to run as root; as root we run it as the 'postgres' system user.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

pg_running() { [[ -f "$PG_DATA/postmaster.pid" ]] && as_pg "$(pg_bin pg_ctl)" -D "$PG_DATA" status >/dev/null 2>&1; }

start_pg() {
  mkdir -p "$PG_DIR"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    rm -rf "$PG_DATA"
    # A fresh random password per cluster: it exists only in this git-ignored folder.
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$PG_DIR/password"
    [[ $(id -u) -eq 0 ]] && chown -R postgres "$PG_DIR"
    as_pg "$(pg_bin initdb)" -D "$PG_DATA" -U "$PG_USER" --pwfile="$PG_DIR/password" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
      || { cat "$PG_DIR/initdb.log" >&2; exit 3; }
  fi
  if ! pg_running; then
    free_port > "$PG_DIR/port"
    mkdir -p "$PG_DIR/socket"
    [[ $(id -u) -eq 0 ]] && chown -R postgres "$PG_DIR"
    as_pg "$(pg_bin pg_ctl)" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 60 start \
      -o "-p $(cat "$PG_DIR/port") -c listen_addresses=127.0.0.1 -k $PG_DIR/socket -c max_connections=200 -c fsync=off -c full_page_writes=off" \
      >/dev/null 9>&- || { tail -20 "$PG_DIR/server.log" >&2; exit 3; }
  fi
  local port; port=$(cat "$PG_DIR/port")
  for db in ferry_test ferretdb; do
    as_pg "$(pg_bin psql)" -h "$PG_DIR/socket" -p "$port" -U "$PG_USER" -d postgres -tAc \
      "select 1 from pg_database where datname = '$db'" | grep -q 1 \
      || as_pg "$(pg_bin createdb)" -h "$PG_DIR/socket" -p "$port" -U "$PG_USER" "$db"
  done
}

pg_url() { echo "postgres://$PG_USER:$(cat "$PG_DIR/password")@127.0.0.1:$(cat "$PG_DIR/port")/$1"; }

ferret_running() { [[ -f "$FERRET_DIR/pid" ]] && kill -0 "$(cat "$FERRET_DIR/pid")" 2>/dev/null; }

start_ferretdb() {
  mkdir -p "$FERRET_DIR"
  rm -f "$FERRET_DIR/unavailable"
  if ferret_running; then return 0; fi
  local bin
  if ! bin=$(bash "$ROOT/scripts/build-ferretdb.sh" 2>"$FERRET_DIR/build.log" | tail -n 1) || [[ ! -x "$bin" ]]; then
    { echo "FerretDB v1.24.2 could not be built:"; tail -n 15 "$FERRET_DIR/build.log"; } > "$FERRET_DIR/unavailable"
    cat "$FERRET_DIR/unavailable" >&2
    return 0
  fi
  free_port > "$FERRET_DIR/port"
  # setsid: FerretDB outlives this script and is stopped by `stop`, not by our shell's exit.
  setsid "$bin" --handler=postgresql --postgresql-url="$(pg_url ferretdb)" \
    --listen-addr="127.0.0.1:$(cat "$FERRET_DIR/port")" --telemetry=disable --debug-addr=- \
    --log-level=warn --state-dir="$FERRET_DIR" >"$FERRET_DIR/server.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$FERRET_DIR/pid"
  for _ in $(seq 1 100); do
    if (echo > "/dev/tcp/127.0.0.1/$(cat "$FERRET_DIR/port")") 2>/dev/null; then return 0; fi
    ferret_running || break
    sleep 0.1
  done
  { echo "FerretDB did not start:"; tail -n 15 "$FERRET_DIR/server.log"; } > "$FERRET_DIR/unavailable"
  cat "$FERRET_DIR/unavailable" >&2
}

write_env() {
  {
    echo "FERRY_TEST_PG_URL=$(pg_url ferry_test)"
    echo "FERRY_TEST_PG_ADMIN_URL=$(pg_url postgres)"
    if [[ -f "$FERRET_DIR/unavailable" ]]; then
      echo "FERRY_FERRETDB_UNAVAILABLE=$(tr '\n' ' ' < "$FERRET_DIR/unavailable")"
    else
      echo "FERRY_TEST_MONGO_URL=mongodb://127.0.0.1:$(cat "$FERRET_DIR/port")/"
    fi
  } > "$ENV_FILE.tmp"
  chmod 600 "$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

stop_all() {
  if ferret_running; then
    kill "$(cat "$FERRET_DIR/pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do ferret_running || break; sleep 0.1; done
    ferret_running && kill -9 "$(cat "$FERRET_DIR/pid")" 2>/dev/null || true
  fi
  rm -f "$FERRET_DIR/pid"
  if pg_running; then as_pg "$(pg_bin pg_ctl)" -D "$PG_DATA" -m fast -w stop >/dev/null; fi
  rm -f "$ENV_FILE"
}

status() {
  if pg_running; then echo "postgres: running on 127.0.0.1:$(cat "$PG_DIR/port")"; else echo "postgres: stopped"; fi
  if ferret_running; then echo "ferretdb: running on 127.0.0.1:$(cat "$FERRET_DIR/port")";
  elif [[ -f "$FERRET_DIR/unavailable" ]]; then echo "ferretdb: unavailable: $(head -n 1 "$FERRET_DIR/unavailable")";
  else echo "ferretdb: stopped"; fi
}

# Two concurrent `start`s (two terminals, two test runners) must not race on initdb.
# Servers started under the lock get `9>&-`, or they would inherit and hold it forever.
with_lock() { mkdir -p "$STATE"; exec 9>"$STATE/lock"; flock 9; "$@"; exec 9>&-; }

case "${1:-}" in
  start) with_lock start_pg; with_lock start_ferretdb; with_lock write_env; status ;;
  stop) with_lock stop_all; echo "services stopped" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
