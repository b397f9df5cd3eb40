#!/bin/sh
# An agent that is rate limited on its first launch (exit 75, EX_TEMPFAIL):
# the engine queues it again after a cool-down instead of counting a failure.
if [ "$MAESTRO_ATTEMPT" = 1 ]; then
  echo "[rate-limited-developer] rate limited, try again later" >&2
  exit 75
fi
echo "[rate-limited-developer] working on $1 (attempt $MAESTRO_ATTEMPT)"
mkdir -p src/web && echo "$1 done by rate-limited-developer" >> src/web/orders.txt
