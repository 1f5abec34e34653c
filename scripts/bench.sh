#!/usr/bin/env bash
# Print the project's performance figures.
set -euo pipefail
. "$(dirname "$0")/common.sh"
for b in "$CORE_BUILD"/tests/bench/bench-*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    note "$(basename "$b")"
    "$b"
done
