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
#
# Secured listeners for tests of authenticated clients (opt-in; the PLAINTEXT listener stays for
# inter-broker traffic, and the controller listener stays plaintext):
#   KAFKA_SASL          1 = also a SASL_PLAINTEXT listener with the PLAIN mechanism on KAFKA_PORT+2
#   KAFKA_SSL           1 = also a SASL_SSL listener (PLAIN over TLS) on KAFKA_PORT+3, with a
#                       self-signed certificate for 127.0.0.1/localhost made by keytool; clients
#                       trust it with ssl.ca.location=.kafka/tls-$KAFKA_PORT/ca.pem (implies KAFKA_SASL)
#   KAFKA_SASL_USER     the one client user (default agentrec)
#   KAFKA_SASL_PASSWORD its password (default: generated, written to .kafka/sasl-$KAFKA_PORT.password)
# The users live in a JAAS config the script writes (.kafka/sasl-$KAFKA_PORT.jaas, mode 600), so
# the password never appears on a command line; the broker's log shows it as [hidden].
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
ssl="${KAFKA_SSL:-0}"
sasl="${KAFKA_SASL:-$ssl}"
sasl_port=$((port + 2))
ssl_port=$((port + 3))

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open "$port"; then
  # A reused broker must offer what was asked for, or a secured test would silently run in the clear.
  if [ "$sasl" = "1" ] && ! port_open "$sasl_port"; then
    echo "kafka: a broker answers on 127.0.0.1:$port without a SASL listener on $sasl_port; stop it first" >&2
    exit 1
  fi
  if [ "$ssl" = "1" ] && ! port_open "$ssl_port"; then
    echo "kafka: a broker answers on 127.0.0.1:$port without a SASL_SSL listener on $ssl_port; stop it first" >&2
    exit 1
  fi
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
listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port"
advertised="PLAINTEXT://127.0.0.1:$port"
protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
secured_props=""
if [ "$sasl" = "1" ]; then
  user="${KAFKA_SASL_USER:-agentrec}"
  jaas_file="$run_dir/sasl-$port.jaas"
  password="${KAFKA_SASL_PASSWORD:-}"
  password_note=""
  if [ -z "$password" ]; then
    password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    (umask 077 && printf '%s\n' "$password" > "$run_dir/sasl-$port.password")
    password_note=", password in $run_dir/sasl-$port.password"
  fi
  case "$user$password" in *'"'*|*'\\'*) echo "kafka: KAFKA_SASL_USER/PASSWORD may not hold '\"' or '\\'" >&2; exit 1 ;; esac
  # The server side of PLAIN: one user_<name>="<password>" entry per user it accepts.
  (umask 077 && cat > "$jaas_file" <<JAAS
KafkaServer {
  org.apache.kafka.common.security.plain.PlainLoginModule required
  user_$user="$password";
};
JAAS
)
  listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$sasl_port"
  advertised="$advertised,SASL_PLAINTEXT://127.0.0.1:$sasl_port"
  protocols="$protocols,SASL_PLAINTEXT:SASL_PLAINTEXT"
  secured_props="sasl.enabled.mechanisms=PLAIN"
fi
if [ "$ssl" = "1" ]; then
  command -v keytool >/dev/null || { echo "kafka: keytool not found (part of the JDK)" >&2; exit 1; }
  tls_dir="$run_dir/tls-$port"
  store_password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  rm -rf "$tls_dir"
  mkdir -p "$tls_dir"
  # Self-signed, valid for the address clients dial, so librdkafka's hostname check passes as is.
  umask 077
  keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 30 -dname "CN=localhost" \
    -ext "SAN=IP:127.0.0.1,DNS:localhost" -storetype PKCS12 -keystore "$tls_dir/broker.p12" \
    -storepass "$store_password" -keypass "$store_password" >/dev/null 2>&1
  keytool -exportcert -rfc -alias broker -keystore "$tls_dir/broker.p12" -storetype PKCS12 \
    -storepass "$store_password" -file "$tls_dir/ca.pem" >/dev/null 2>&1
  umask 022
  chmod 644 "$tls_dir/ca.pem"
  listeners="$listeners,SASL_SSL://127.0.0.1:$ssl_port"
  advertised="$advertised,SASL_SSL://127.0.0.1:$ssl_port"
  protocols="$protocols,SASL_SSL:SASL_SSL"
  secured_props="$secured_props
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$tls_dir/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$store_password
listener.name.sasl_ssl.ssl.key.password=$store_password"
fi
config="$run_dir/server-$port.properties"
(umask 077 && cat > "$config" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
$secured_props
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
)

classpath="$here/lib/*"
log4j="-Dlog4j2.configurationFile=$here/log4j2.properties"
if [ "$keep_data" = "0" ]; then
  cluster_id="$(java -cp "$classpath" $log4j kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  java -cp "$classpath" $log4j kafka.tools.StorageTool format -t "$cluster_id" -c "$config" >/dev/null
fi

# shellcheck disable=SC2086
jaas_opt=""
[ "$sasl" = "1" ] && jaas_opt="-Djava.security.auth.login.config=$jaas_file"
nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true $log4j $jaas_opt \
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
    if [ "$sasl" = "1" ]; then
      echo "kafka: SASL_PLAINTEXT (PLAIN) on 127.0.0.1:$sasl_port, user '$user'$password_note"
    fi
    [ "$ssl" = "1" ] && echo "kafka: SASL_SSL (PLAIN) on 127.0.0.1:$ssl_port, CA certificate $tls_dir/ca.pem"
    exit 0
  fi
  sleep 0.5
done
echo "kafka: broker did not become ready in 60 s; last log lines:" >&2
tail -n 30 "$log_file" >&2
exit 1
