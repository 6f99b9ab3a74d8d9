# wrap.sh — sourced by an end-to-end script to run every call of "$ECORISK"
# under $ECORISK_WRAP (e.g. valgrind) when it is set; a no-op otherwise.
# tests/run.sh puts the scripts that source this (or read ECORISK_WRAP:-
# themselves) under valgrind memcheck.
if [ -n "${ECORISK_WRAP:-}" ] && [ -z "${ECORISK_REAL:-}" ]; then
    export ECORISK_REAL="$ECORISK" ECORISK="$ECORISK_SRC/tests/ecorisk-wrap.sh"
fi
