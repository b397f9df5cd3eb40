#!/bin/sh
# A stand-in coding agent: "implements" a task by writing the files its
# description names, with a short pause so that the limits are visible.
# Usage: agent.sh TASK-ID AGENT FILE...
set -eu
id=$1 agent=$2
shift 2
echo "[$agent] working on $id (attempt $MAESTRO_ATTEMPT, skills: ${MAESTRO_SKILLS:-none})"
# demo-6 fails its first attempt, as if a tool were not ready yet; the
# retry succeeds.
if [ "$id" = demo-6 ] && [ "$MAESTRO_ATTEMPT" = 1 ]; then
  echo "[$agent] coverage tool not ready, giving up this attempt" >&2
  exit 1
fi
sleep 0.3
for f in "$@"; do
  mkdir -p "$(dirname "$f")"
  echo "$id done by $agent at $(date -u +%H:%M:%S)" >> "$f"
  echo "[$agent] wrote $f"
done
