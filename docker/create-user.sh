#!/usr/bin/env bash
# create-user.sh — the unprivileged account the image runs as, with its
# working directories (feeds in, run outputs, the outbox). Runs in the final
# image stage; tests run it against a scratch root with ROOT=<dir>
# (useradd --prefix), so it is exercised without touching the host's users.
#   docker/create-user.sh [NAME] [UID]     (default: ecorisk 10001)
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
name=${1:-ecorisk} uid=${2:-10001}
root=${ROOT:-}
home=/var/lib/ecorisk
prefix_opt=()
if [ -n "$root" ]; then prefix_opt=(--prefix "$root"); fi
groupadd "${prefix_opt[@]}" --gid "$uid" "$name"
useradd "${prefix_opt[@]}" --uid "$uid" --gid "$uid" --home-dir "$home" \
        --no-create-home --shell /usr/sbin/nologin "$name"
for d in "$home" "$home/in" "$home/runs" "$home/outbox"; do
  mkdir -p "$root$d"
  chown "$uid:$uid" "$root$d"
  chmod 0750 "$root$d"
done
