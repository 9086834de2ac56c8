#!/usr/bin/env bash
# Stops the broker started by start.sh on KAFKA_PORT (default 9092): SIGTERM, then SIGKILL after 20 s.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${KAFKA_PORT:-9092}"
pid_file="$here/../../.kafka/broker-$port.pid"
[ -f "$pid_file" ] || { echo "kafka: no broker started on port $port"; exit 0; }
pid="$(cat "$pid_file")"
if kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pid_file"
echo "kafka: broker on port $port stopped"
