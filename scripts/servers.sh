# Throwaway real servers for the store tests: Redis, PostgreSQL 15, MariaDB and a
# MongoDB-wire server (nx-27017), each on a free loopback port in one temp directory.
#
#   source scripts/servers.sh; servers_start   # installs what is missing, starts, exports
#   ... ASYNCZ_TEST_{REDIS,POSTGRES,MYSQL,MONGODB}_URL are set ...
#   servers_stop                               # stops each server by its pid
#
# Meant to be sourced (by scripts/test.sh). Works as root (CI: fresh clone, nothing
# running; PostgreSQL then runs as the postgres user) and as a normal user.

ASYNCZ_PGBIN=${ASYNCZ_PGBIN:-/usr/lib/postgresql/15/bin}

_servers_log() { echo "servers: $*" >&2; }

_servers_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# _servers_wait SECONDS NAME COMMAND...: retry COMMAND every 0.1 s until it succeeds
_servers_wait() {
  local limit=$(($1 * 10)) name=$2 i
  shift 2
  for ((i = 0; i < limit; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  _servers_log "$name did not become ready; its log follows"
  cat "$ASYNCZ_SERVERS_DIR/$name.log" >&2 2>/dev/null || true
  return 1
}

_servers_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

_servers_install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  if [ ${#missing[@]} -gt 0 ]; then
    _servers_log "installing ${missing[*]}"
    _servers_as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive _servers_as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! _servers_nx_bin >/dev/null; then
    _servers_log "installing nx-27017"
    "${ASYNCZ_PYTHON:-python3}" -m pip install -q nx-27017
  fi
}

_servers_nx_bin() {
  local candidate
  for candidate in "${VIRTUAL_ENV:-}/bin/nx-27017" "$PWD/.venv/bin/nx-27017" "$(command -v nx-27017 2>/dev/null)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

_servers_redis() {
  local port
  port=$(_servers_free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$D" \
    --pidfile "$D/redis.pid" --logfile "$D/redis.log" --daemonize yes >/dev/null
  _servers_wait 10 redis redis-cli -h 127.0.0.1 -p "$port" ping || return 1
  export ASYNCZ_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
}

_servers_postgres() {
  local port run=()
  port=$(_servers_free_port)
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$D"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$ASYNCZ_PGBIN/initdb" -D "$D/pg" -U postgres -A trust --no-sync -E UTF8 >"$D/initdb.log" 2>&1 || {
    cat "$D/initdb.log" >&2
    return 1
  }
  "${run[@]}" "$ASYNCZ_PGBIN/pg_ctl" -D "$D/pg" -l "$D/postgres.log" \
    -o "-p $port -k $D -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || return 1
  _servers_wait 20 postgres "$ASYNCZ_PGBIN/pg_isready" -h 127.0.0.1 -p "$port" -U postgres || return 1
  "$ASYNCZ_PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres asyncz_test || return 1
  export ASYNCZ_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/asyncz_test"
}

_servers_mariadb() {
  local port
  port=$(_servers_free_port)
  mariadb-install-db --no-defaults --datadir="$D/my" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db >"$D/install-db.log" 2>&1 || {
    cat "$D/install-db.log" >&2
    return 1
  }
  mariadbd --no-defaults --datadir="$D/my" --port="$port" --bind-address=127.0.0.1 \
    --socket="$D/my.sock" --pid-file="$D/my.pid" --user="$(id -un)" --log-error="$D/mariadb.log" \
    --skip-log-bin >/dev/null 2>&1 &
  _servers_wait 30 mariadb mariadb-admin --no-defaults --socket="$D/my.sock" -uroot ping || return 1
  mariadb --no-defaults --socket="$D/my.sock" -uroot -e "CREATE DATABASE asyncz_test" || return 1
  export ASYNCZ_TEST_MYSQL_URL="mysql+pymysql://root@127.0.0.1:$port/asyncz_test"
}

_servers_mongodb() {
  local port nx
  port=$(_servers_free_port)
  nx=$(_servers_nx_bin) || return 1
  "$nx" -d --db memory --host 127.0.0.1 -p "$port" --pid-file "$D/nx.pid" --log-file "$D/mongodb.log" \
    >/dev/null 2>&1 || return 1
  _servers_wait 10 mongodb bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" || return 1
  export ASYNCZ_TEST_MONGODB_URL="mongodb://127.0.0.1:$port/asyncz_test?directConnection=true"
}

servers_start() {
  local D
  _servers_install || return 1
  D=$(mktemp -d "${TMPDIR:-/tmp}/asyncz-servers.XXXXXX")
  chmod 755 "$D"
  export ASYNCZ_SERVERS_DIR=$D
  _servers_redis && _servers_postgres && _servers_mariadb && _servers_mongodb || {
    _servers_log "a server failed to start; stopping the others"
    servers_stop
    return 1
  }
  _servers_log "ready in $D: redis, postgres, mariadb, mongodb (nx-27017)"
}

_servers_kill_pidfile() {
  local file=$1 signal=${2:-TERM} pid i
  [ -f "$file" ] || return 0
  pid=$(head -1 "$file")
  [ -n "$pid" ] || return 0
  kill -"$signal" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

servers_stop() {
  local D=${ASYNCZ_SERVERS_DIR:-}
  [ -n "$D" ] && [ -d "$D" ] || return 0
  _servers_kill_pidfile "$D/redis.pid"
  _servers_kill_pidfile "$D/pg/postmaster.pid" INT
  _servers_kill_pidfile "$D/my.pid"
  _servers_kill_pidfile "$D/nx.pid"
  rm -rf "$D"
  unset ASYNCZ_SERVERS_DIR ASYNCZ_TEST_REDIS_URL ASYNCZ_TEST_POSTGRES_URL ASYNCZ_TEST_MYSQL_URL ASYNCZ_TEST_MONGODB_URL
}
