#!/bin/sh
# Node as agentrec runs best (README, "Tuning"): V8's young generation sized to hold a batch
# (--max-semi-space-size=128), allocation-site pretenuring off (it sometimes moved the pipeline's
# short-lived objects to the old generation for a whole run) and, where installed, jemalloc
# instead of glibc's malloc (the Kafka client copies every record into a Buffer of its own, which
# jemalloc serves more cheaply; bench/README.md, "A young generation that holds a batch"). exec:
# the PID, signals and exit code stay node's. AGENTREC_MALLOC=system keeps glibc's malloc;
# AGENTREC_SEMI_SPACE_MB sets the young generation's semi-spaces (default 128; README, "Memory");
# AGENTREC_NODE_FLAGS adds node or V8 flags that NODE_OPTIONS refuses (e.g. --heap-growing-percent=30).
#   sh scripts/node.sh [node options] script [args]
# ldconfig lives in /sbin, which a non-root user's PATH may lack.
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
if [ "${AGENTREC_MALLOC:-jemalloc}" = jemalloc ] && "$ldconfig" -p 2>/dev/null | grep -q 'libjemalloc\.so\.2 '; then
  LD_PRELOAD="libjemalloc.so.2${LD_PRELOAD:+ $LD_PRELOAD}"
  export LD_PRELOAD
fi
# shellcheck disable=SC2086 # AGENTREC_NODE_FLAGS is a list of flags, split on spaces.
exec node --max-semi-space-size="${AGENTREC_SEMI_SPACE_MB:-128}" --no-allocation-site-pretenuring ${AGENTREC_NODE_FLAGS:-} "$@"
