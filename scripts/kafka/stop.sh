#!/usr/bin/env bash
# Stops the broker start.sh started on a port: `stop.sh [port]` (default KAFKA_PORT, else 9092).
# SIGTERM, then SIGKILL after 20 s; KAFKA_KILL=1 sends SIGKILL at once (a crash, for outage tests).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${1:-${KAFKA_PORT:-9092}}"
pid_file="$here/../../.kafka/broker-$port.pid"
[ -f "$pid_file" ] || { echo "kafka: no broker started on port $port"; exit 0; }
pid="$(cat "$pid_file")"
if [ "${KAFKA_KILL:-0}" = "1" ]; then
  kill -9 "$pid" 2>/dev/null
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
elif kill "$pid" 2>/dev/null; then
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pid_file"
echo "kafka: broker on port $port stopped"
