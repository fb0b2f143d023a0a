#!/bin/sh
# Runs a command at the highest scheduling priority, in its own autogroup (as
# root): on a machine shared with other jobs, the measurement then gets the
# cores for its short runs, and figures describe the hardware, not the load.
# usage: setsid sh scripts/prio.sh COMMAND...
echo -20 >/proc/self/autogroup 2>/dev/null || echo "prio.sh: autogroup priority not set (not root?)" >&2
exec nice -n -20 "$@"
