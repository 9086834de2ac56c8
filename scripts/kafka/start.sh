#!/usr/bin/env bash
# Starts one Apache Kafka broker (KRaft, combined broker+controller) on 127.0.0.1 for tests,
# benchmarks and local runs. Jars come from Maven Central through pom.xml and are cached in
# scripts/kafka/lib (ignored by git). Idempotent: a broker already answering on the port is reused.
#
#   KAFKA_PORT      broker port (default 9092); the controller listens on KAFKA_PORT+1
#   KAFKA_DATA_DIR  log + metadata directory (default .kafka/data-$KAFKA_PORT, wiped at start)
#   KAFKA_KEEP_DATA 1 = keep a data directory an earlier start formatted (a restart on the same
#                   data, as after a broker outage); default 0 wipes it
#   KAFKA_HEAP_OPTS JVM heap (default -Xms256m -Xmx1g)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
port="${KAFKA_PORT:-9092}"
controller_port=$((port + 1))
run_dir="$root/.kafka"
data_dir="${KAFKA_DATA_DIR:-$run_dir/data-$port}"
pid_file="$run_dir/broker-$port.pid"
log_file="$run_dir/broker-$port.log"
mkdir -p "$run_dir"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open "$port"; then
  echo "kafka: a broker already answers on 127.0.0.1:$port, reusing it"
  exit 0
fi

command -v java >/dev/null || { echo "kafka: java not found (install a JDK 17+)" >&2; exit 1; }
if [ ! -f "$here/lib/.complete" ]; then
  command -v mvn >/dev/null || { echo "kafka: mvn not found (needed once to fetch broker jars)" >&2; exit 1; }
  echo "kafka: resolving broker jars from Maven Central (once)..."
  rm -rf "$here/lib"
  (cd "$here" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib -DincludeScope=runtime)
  touch "$here/lib/.complete"
fi

keep_data=0
# Only a directory StorageTool formatted can be kept; anything else starts over.
if [ "${KAFKA_KEEP_DATA:-0}" = "1" ] && [ -f "$data_dir/meta.properties" ]; then keep_data=1; fi
if [ "$keep_data" = "0" ]; then
  rm -rf "$data_dir"
  mkdir -p "$data_dir"
fi
config="$run_dir/server-$port.properties"
cat > "$config" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data_dir
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.cleaner.backoff.ms=1000
PROPS

classpath="$here/lib/*"
log4j="-Dlog4j2.configurationFile=$here/log4j2.properties"
if [ "$keep_data" = "0" ]; then
  cluster_id="$(java -cp "$classpath" $log4j kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  java -cp "$classpath" $log4j kafka.tools.StorageTool format -t "$cluster_id" -c "$config" >/dev/null
fi

# shellcheck disable=SC2086
nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true $log4j \
  -cp "$classpath" kafka.Kafka "$config" >"$log_file" 2>&1 &
echo $! > "$pid_file"

for _ in $(seq 1 120); do
  if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "kafka: broker exited during start; last log lines:" >&2
    tail -n 30 "$log_file" >&2
    exit 1
  fi
  if port_open "$port" && grep -q "Kafka Server started" "$log_file"; then
    echo "kafka: broker ready on 127.0.0.1:$port (pid $(cat "$pid_file"), log $log_file)"
    exit 0
  fi
  sleep 0.5
done
echo "kafka: broker did not become ready in 60 s; last log lines:" >&2
tail -n 30 "$log_file" >&2
exit 1
