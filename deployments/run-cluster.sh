#!/usr/bin/env bash
# Three replicas of database-service sharing the machine's RabbitMQ and
# Redis, on ports 8089, 8090 and 8091. Ctrl-C stops them all.
#
#   make run-cluster
#   # in another shell: watch what downstream services see
#   rabbitmqadmin declare queue name=watch auto_delete=true
#   rabbitmqadmin declare binding source=db.health destination=watch routing_key='db.health.#'
#
# Override any variable from the environment, e.g. BUS_URL, STORE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./bin/database-service}
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }

export BUS_URL=${BUS_URL:-amqp://guest:guest@127.0.0.1:5672/}
export STORE_URL=${STORE_URL:-redis://127.0.0.1:6379/0}
export POSTGRES_HOST=${POSTGRES_HOST:-127.0.0.1} POSTGRES_DB=${POSTGRES_DB:-test}
export REDIS_HOST=${REDIS_HOST:-127.0.0.1} RABBITMQ_HOST=${RABBITMQ_HOST:-127.0.0.1}
export ELASTICSEARCH_ENABLED=${ELASTICSEARCH_ENABLED:-false} MILVUS_ENABLED=${MILVUS_ENABLED:-false}
export NACOS_ENABLED=${NACOS_ENABLED:-false} REGISTRY_ENABLED=${REGISTRY_ENABLED:-false}
export PROBE_INTERVAL=${PROBE_INTERVAL:-5s}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
for i in 1 2 3; do
  REPLICA_ID="replica-$i" DB_SERVICE_PORT=$((8088 + i)) "$BIN" &
  pids+=($!)
done
echo "replicas on :8089 :8090 :8091 (pids ${pids[*]})"
wait
