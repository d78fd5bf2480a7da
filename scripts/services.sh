#!/usr/bin/env bash
# Real servers for the scale-out tests, run with the machine's Java from jars on Maven Central
# (no Docker): Apache Kafka (single-node KRaft), QuestDB, and Apicurio Registry (a
# Confluent-compatible Schema Registry, in-memory); and Chroma (the vector store), the server
# inside the `chromadb` npm package, run with node.
#
#   scripts/services.sh up [NAME...]      start (default: all); already running ones are left alone
#   scripts/services.sh down [NAME...]    stop (TERM, then KILL after a grace period)
#   scripts/services.sh status [NAME...]  what runs, and where
#   scripts/services.sh clean [NAME...]   stop and delete the data (jars stay cached)
#   scripts/services.sh env               the client settings, as shell exports
#
# Everything lives under .services/NAME/ (gitignored): lib/ or build/ (jars from ~/.m2), data/,
# log (the server's output), pid. The first `up` downloads the jars with mvn (and builds the
# registry, about 2 minutes); later ones reuse them until services/NAME/ changes. Chroma needs
# only `npm install` (chromadb is a dependency).
#
# Ports (high, so they do not clash with a developer's own servers), all from the environment:
#   KAFKA_PORT=19092  KAFKA_CONTROLLER_PORT=19093
#   QUESTDB_HTTP_PORT=19000  QUESTDB_PG_PORT=18812
#   SCHEMA_REGISTRY_PORT=18081  CHROMA_PORT=18000
# SERVICES_TIMEOUT (s, default 120) bounds the wait for a server to answer.
# KAFKA_SERVER_PROPERTIES: extra broker settings, lines appended to server.properties.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${SERVICES_DIR:-$ROOT/.services}"
TIMEOUT="${SERVICES_TIMEOUT:-120}"
ALL_SERVICES=(kafka questdb schema-registry chroma)

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"

QUESTDB_VERSION="${QUESTDB_VERSION:-9.3.4}"
QUESTDB_HTTP_PORT="${QUESTDB_HTTP_PORT:-19000}"
QUESTDB_PG_PORT="${QUESTDB_PG_PORT:-18812}"
QUESTDB_HEAP="${QUESTDB_HEAP:--Xms128m -Xmx512m}"

SCHEMA_REGISTRY_PORT="${SCHEMA_REGISTRY_PORT:-18081}"
SCHEMA_REGISTRY_HEAP="${SCHEMA_REGISTRY_HEAP:--Xms64m -Xmx384m}"

CHROMA_PORT="${CHROMA_PORT:-18000}"
# Started with node directly, not through npx: stopping npx would leave the server running.
CHROMA_CLI="$ROOT/node_modules/chromadb/dist/cli.mjs"

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf 'services: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# ---------------------------------------------------------------- shared helpers

# What a service needs on the machine: node and the chromadb package for chroma, Java and Maven
# for the others.
need_tools() {
  if [[ $1 == chroma ]]; then
    command -v node >/dev/null || die "node not found: Chroma runs from the chromadb npm package"
    [[ -f "$CHROMA_CLI" ]] || die "chroma: $CHROMA_CLI not found: run npm install first"
    return
  fi
  command -v "$JAVA" >/dev/null || die "java not found: install a JDK 17+ (apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME"
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install -y maven); it fetches the server jars from Maven Central"
  local major
  major="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  [[ "${major%%.*}" -ge 17 ]] || die "java $major is too old: Kafka 4 and QuestDB need Java 17+ (set JAVA_HOME)"
}

# What services/NAME/ holds (pom, sources) plus extra words: a build or fetch is redone when it changes.
stamp() {
  local name=$1
  shift
  echo "$* $(cd "$ROOT/services/$name" && find . -type f ! -name '*.md' | sort | xargs sha1sum | sha1sum)"
}

# Copies an artifact and its runtime dependencies from Maven Central (through ~/.m2) into a lib
# folder, once per version and pom: a stamp file says what the folder holds.
fetch_jars() {
  local name=$1 version=$2 lib="$STATE/$1/lib" want
  want="$(stamp "$name" "$version")"
  if [[ -f "$lib/.stamp" && "$(cat "$lib/.stamp")" == "$want" ]]; then return; fi
  log "$name $version: fetching jars with mvn (first run only)"
  rm -rf "$lib"
  mkdir -p "$lib"
  if ! mvn -q -B -f "$ROOT/services/$name/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$lib" "-D$name.version=$version" >"$STATE/$name/mvn.log" 2>&1; then
    tail -n 30 "$STATE/$name/mvn.log" >&2
    die "$name: mvn could not fetch the jars (full output in $STATE/$name/mvn.log)"
  fi
  echo "$want" >"$lib/.stamp"
}

# Whether pid is this checkout's server NAME: its command line carries paths under this
# .services/NAME/ and, for a java server, -Dtickcast.service=NAME; for chroma, the chromadb CLI
# (another checkout's servers, or a process that reused the pid, are never taken for ours; nor
# is a server that has exited but not been reaped yet: its command line is empty).
is_ours() {
  local cmdline
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$2/cmdline")" || return 1
  [[ "$cmdline" == *"$STATE/$1/"* ]] || return 1
  case $1 in
  chroma) [[ "$cmdline" == *"chromadb/dist/cli.mjs run "* ]] ;;
  *) [[ "$cmdline" == *"-Dtickcast.service=$1 "* ]] ;;
  esac
}

# The pid of our server NAME if it runs: from .services/NAME/pid, or, if that file is gone or
# stale, by looking for the process itself (so `down` stops a server whatever happened to it).
running_pid() {
  local pidfile="$STATE/$1/pid" pid f
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && is_ours "$1" "$pid"; then
    echo "$pid"
    return 0
  fi
  rm -f "$pidfile"
  for f in /proc/[0-9]*; do
    pid="${f#/proc/}"
    if is_ours "$1" "$pid"; then
      echo "$pid" >"$pidfile"
      echo "$pid"
      return 0
    fi
  done
  return 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts `COMMAND ARGS...` detached from this shell (its own session, so closing the terminal or
# interrupting npm does not kill it), output appended to .services/NAME/log.
launch_command() {
  local name=$1
  shift
  local dir="$STATE/$name"
  {
    echo
    echo "==== $(date -u +%FT%TZ) starting $name"
  } >>"$dir/log"
  (cd "$dir" && exec setsid "$@" >>"$dir/log" 2>&1 </dev/null) &
  local pid=$!
  echo "$pid" >"$dir/pid"
  # Until the subshell has exec'd the server, the pid does not look like our server yet.
  for _ in $(seq 1 40); do
    is_ours "$name" "$pid" && break
    sleep 0.05
  done
}

# Starts `java ARGS...` as server NAME (marked with -Dtickcast.service=NAME).
launch() {
  local name=$1
  shift
  launch_command "$name" "$JAVA" "-Dtickcast.service=$name" "$@"
}

# Waits until `check` succeeds; fails with the log tail when the server exits or the time runs out.
wait_until() {
  local name=$1 check=$2 started=$SECONDS
  while ! $check; do
    if ! running_pid "$name" >/dev/null; then
      tail -n 40 "$STATE/$name/log" >&2
      die "$name exited while starting (log: $STATE/$name/log)"
    fi
    if ((SECONDS - started >= TIMEOUT)); then
      tail -n 40 "$STATE/$name/log" >&2
      stop "$name"
      die "$name did not answer within ${TIMEOUT}s (log: $STATE/$name/log)"
    fi
    sleep 0.5
  done
  log "$name up in $((SECONDS - started))s"
}

stop() {
  local name=$1 pid
  pid="$(running_pid "$name")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  # Kafka needs a few seconds for a controlled shutdown; past the grace period, force it.
  for _ in $(seq 1 60); do
    is_ours "$name" "$pid" || break
    sleep 0.5
  done
  if is_ours "$name" "$pid"; then
    log "$name (pid $pid) ignored TERM for 30s: killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name/pid"
  log "$name stopped"
}

port_free_or_die() {
  local name=$1 port=$2 var=$3
  if port_open "$port"; then
    die "$name: port $port is taken by another process; set $var to a free port"
  fi
}

# ---------------------------------------------------------------- Kafka

kafka_ready() {
  port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$STATE/kafka/log"
}

kafka_up() {
  local dir="$STATE/kafka"
  mkdir -p "$dir/data"
  fetch_jars kafka "$KAFKA_VERSION"
  port_free_or_die kafka "$KAFKA_PORT" KAFKA_PORT
  port_free_or_die kafka "$KAFKA_CONTROLLER_PORT" KAFKA_CONTROLLER_PORT
  # Small internal topics and no rebalance delay: a one-broker test cluster on two cores.
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
${KAFKA_SERVER_PROPERTIES:-}
EOF
  cat >"$dir/log4j2.xml" <<'EOF'
<Configuration status="WARN">
  <Appenders>
    <Console name="out" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Root level="INFO"><AppenderRef ref="out"/></Root>
  </Loggers>
</Configuration>
EOF
  # KRaft needs its storage formatted once with a cluster id (a base64url 16-byte uuid).
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local id
    id="$(node -e "process.stdout.write(require('node:crypto').randomBytes(16).toString('base64url'))")"
    if ! "$JAVA" -Dlog4j2.configurationFile="$dir/log4j2.xml" -cp "$dir/lib/*" kafka.tools.StorageTool \
      format -t "$id" -c "$dir/server.properties" >>"$dir/log" 2>&1; then
      tail -n 20 "$dir/log" >&2
      die "kafka: formatting the storage in $dir/data failed"
    fi
  fi
  # shellcheck disable=SC2086 # the heap flags are meant to split into words
  launch kafka $KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.xml" -cp "$dir/lib/*" kafka.Kafka "$dir/server.properties"
  wait_until kafka kafka_ready
}

# ---------------------------------------------------------------- QuestDB

questdb_ready() {
  port_open "$QUESTDB_PG_PORT" &&
    curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$QUESTDB_HTTP_PORT/exec?query=select%201"
}

questdb_up() {
  local dir="$STATE/questdb"
  mkdir -p "$dir/root/conf"
  fetch_jars questdb "$QUESTDB_VERSION"
  port_free_or_die questdb "$QUESTDB_HTTP_PORT" QUESTDB_HTTP_PORT
  port_free_or_die questdb "$QUESTDB_PG_PORT" QUESTDB_PG_PORT
  # Writes use ILP over HTTP (on the HTTP port), so the ILP TCP/UDP listeners stay off; the
  # health endpoint (min HTTP server) is off too, so only the two ports above are opened.
  cat >"$dir/root/conf/server.conf" <<EOF
http.net.bind.to=127.0.0.1:$QUESTDB_HTTP_PORT
http.min.enabled=false
pg.net.bind.to=127.0.0.1:$QUESTDB_PG_PORT
line.tcp.enabled=false
line.udp.enabled=false
telemetry.enabled=false
shared.worker.count=2
EOF
  # shellcheck disable=SC2086
  launch questdb $QUESTDB_HEAP -Djava.awt.headless=true -cp "$dir/lib/*" io.questdb.ServerMain -d "$dir/root"
  wait_until questdb questdb_ready
}

# ---------------------------------------------------------------- Schema Registry (Apicurio)

schema_registry_ready() {
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7/subjects"
}

schema_registry_up() {
  local dir="$STATE/schema-registry" want
  mkdir -p "$dir"
  # Central has the app's jar and dependencies but no runnable jar: build one with Quarkus.
  want="$(stamp schema-registry)"
  if [[ ! -f "$dir/build/.stamp" || "$(cat "$dir/build/.stamp")" != "$want" ]]; then
    log "schema-registry: building Apicurio Registry with mvn (first run only, ~2 min)"
    rm -rf "$dir/build"
    if ! mvn -q -B -f "$ROOT/services/schema-registry/pom.xml" package -DskipTests \
      -Dbuild.dir="$dir/build" >"$dir/mvn.log" 2>&1; then
      tail -n 30 "$dir/mvn.log" >&2
      die "schema-registry: the build failed (full output in $dir/mvn.log)"
    fi
    echo "$want" >"$dir/build/.stamp"
  fi
  port_free_or_die schema-registry "$SCHEMA_REGISTRY_PORT" SCHEMA_REGISTRY_PORT
  # In-memory storage (H2): every start is an empty registry.
  # shellcheck disable=SC2086
  launch schema-registry $SCHEMA_REGISTRY_HEAP -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$SCHEMA_REGISTRY_PORT" \
    -jar "$dir/build/schema-registry-1-runner.jar"
  wait_until schema-registry schema_registry_ready
}

# ---------------------------------------------------------------- Chroma

chroma_ready() {
  curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$CHROMA_PORT/api/v2/heartbeat"
}

chroma_up() {
  local dir="$STATE/chroma"
  mkdir -p "$dir/data"
  port_free_or_die chroma "$CHROMA_PORT" CHROMA_PORT
  # The server runs inside this node process (Rust, through the package's native bindings).
  launch_command chroma node "$CHROMA_CLI" run --path "$dir/data" --host 127.0.0.1 --port "$CHROMA_PORT"
  wait_until chroma chroma_ready
}

# The chromadb package's version, and the server's (its bindings package).
chroma_version() {
  local pkg
  for pkg in chromadb chromadb-js-bindings-linux-x64-gnu; do
    sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/node_modules/$pkg/package.json" 2>/dev/null | head -n 1
  done | paste -sd / -
}

# ---------------------------------------------------------------- commands

addresses() {
  cat <<EOF
export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export QUESTDB_URL=http://127.0.0.1:$QUESTDB_HTTP_PORT
export QUESTDB_PG=postgres://admin:quest@127.0.0.1:$QUESTDB_PG_PORT/qdb
export SCHEMA_REGISTRY_URL=http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7
export CHROMA_URL=http://127.0.0.1:$CHROMA_PORT
EOF
}

describe() {
  case $1 in
  kafka) echo "kafka    $KAFKA_VERSION  KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT)" ;;
  questdb) echo "questdb  $QUESTDB_VERSION  QUESTDB_URL=http://127.0.0.1:$QUESTDB_HTTP_PORT  QUESTDB_PG=postgres://admin:quest@127.0.0.1:$QUESTDB_PG_PORT/qdb" ;;
  schema-registry) echo "schema-registry (Apicurio 2.4.2, in-memory)  SCHEMA_REGISTRY_URL=http://127.0.0.1:$SCHEMA_REGISTRY_PORT/apis/ccompat/v7" ;;
  chroma) echo "chroma   $(chroma_version)  CHROMA_URL=http://127.0.0.1:$CHROMA_PORT" ;;
  esac
}

pick() {
  local name
  if (($# == 0)); then
    printf '%s\n' "${ALL_SERVICES[@]}"
    return
  fi
  for name in "$@"; do
    [[ " ${ALL_SERVICES[*]} " == *" $name "* ]] || die "unknown service '$name' (known: ${ALL_SERVICES[*]})"
    echo "$name"
  done
}

cmd=${1:-}
shift || true
mkdir -p "$STATE"
case $cmd in
up)
  for name in $(pick "$@"); do
    mkdir -p "$STATE/$name"
    need_tools "$name"
    if pid="$(running_pid "$name")"; then
      log "$name already running (pid $pid)"
    else
      "${name//-/_}_up"
    fi
    describe "$name"
  done
  addresses >"$STATE/env"
  ;;
down)
  for name in $(pick "$@"); do stop "$name"; done
  ;;
clean)
  for name in $(pick "$@"); do
    stop "$name"
    rm -rf "$STATE/$name/data" "$STATE/$name/root" "$STATE/$name/log"
  done
  ;;
status)
  for name in $(pick "$@"); do
    if pid="$(running_pid "$name")"; then
      echo "up    (pid $pid)  $(describe "$name")"
    else
      echo "down             $(describe "$name")"
    fi
  done
  ;;
env) addresses ;;
*)
  sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
