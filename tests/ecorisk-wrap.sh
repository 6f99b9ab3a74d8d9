#!/bin/sh
# ecorisk-wrap.sh — the CLI as end-to-end scripts see it when ECORISK_WRAP is
# set (tests/run.sh stage 5 sets it to valgrind): scripts that opt in with
#   . "$ECORISK_SRC/tests/wrap.sh"
# call this in place of the binary, which runs the real one under the wrapper.
exec $ECORISK_WRAP "$ECORISK_REAL" "$@"
