#!/bin/sh
# An agent that always fails, so that the task's fallback agent takes over.
echo "[flaky-architect] cannot do $1 today" >&2
exit 3
