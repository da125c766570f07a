#!/usr/bin/env bash
# A private PostgreSQL cluster in a folder of the checkout, for the launcher, the tests and the
# benchmark. Source it, then: pg_up DIR PORT; pg_down DIR.
# Installs PostgreSQL from Debian's packages when it is missing. As root, the server runs as the
# 'postgres' system user (PostgreSQL refuses to run as root).

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

pg_install() {
  pg_bin >/dev/null && return 0
  echo "PostgreSQL is not installed; installing it from Debian's packages..." >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: run as root (or install the 'postgresql' package) to get PostgreSQL" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >&2
  # Debian's package starts its own cluster on 5432; ours never uses it.
  pg_bin >/dev/null
}

# Runs a command as the cluster's owner.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_up DIR PORT: initialise (once) and start a cluster listening on 127.0.0.1:PORT, with a
# superuser 'tierdesk' (trust on loopback: it is private to this machine and folder). PG_OPTIONS
# adds server settings (`-c name=value ...`).
pg_up() {
  local dir="$1" port="$2" bin
  pg_install || return 1
  bin="$(pg_bin)"
  mkdir -p "$(dirname "$dir")"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    pg_as_owner "$bin/initdb" -D "$dir" -U tierdesk --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null || return 1
  fi
  if pg_as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    return 0
  fi
  pg_as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300 -c shared_buffers=256MB -c fsync=on -c log_min_messages=warning ${PG_OPTIONS:-}" >/dev/null || {
    echo "error: PostgreSQL did not start; see $dir/server.log" >&2
    return 1
  }
}

pg_down() {
  local dir="$1" bin
  bin="$(pg_bin)" || return 0
  [ -f "$dir/PG_VERSION" ] || return 0
  pg_as_owner "$bin/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_createdb PORT NAME: creates a database if it is missing.
pg_createdb() {
  local port="$1" name="$2" bin
  bin="$(pg_bin)"
  "$bin/psql" -h 127.0.0.1 -p "$port" -U tierdesk -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 ||
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U tierdesk "$name"
}

# pg_role_url URL SERVICE: the database URL with the service's own role as its user
# (tierdesk_intake, tierdesk_tier_queue, ...): migrations create the roles, each granted only what its
# service owns and reads; a trust-authenticated local cluster needs no password for them.
pg_role_url() {
  local url="$1" role="tierdesk_${2//-/_}"
  echo "$url" | sed -E "s#^(postgres(ql)?://)[^@/]*@#\1$role@#"
}
