#!/bin/sh
# The demo's test suite: every file the tasks were to write exists.
status=0
for f in src/api/users.txt src/api/orders.txt src/db/schema.txt; do
  if [ -f "$f" ]; then echo "ok   $f"; else echo "FAIL $f missing"; status=1; fi
done
exit $status
