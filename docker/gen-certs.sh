#!/usr/bin/env bash
# gen-certs.sh — a throw-away CA and a server certificate for the demo
# receiver, so the nightly job pushes over verified TLS exactly as in
# production (push refuses plain http:// outside loopback tests).
#   docker/gen-certs.sh DIR [NAME...]   (names: DNS names or IPs; default receiver localhost 127.0.0.1)
# Writes DIR/ca.pem, DIR/server.pem, DIR/server-key.pem; keeps them if present.
case "${1:-}" in -h|--help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0"; exit 0 ;; esac   # the comment above
set -euo pipefail
dir=${1:?usage: docker/gen-certs.sh DIR [NAME...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(receiver localhost 127.0.0.1)
mkdir -p "$dir"
if [ -s "$dir/ca.pem" ] && [ -s "$dir/server.pem" ] && [ -s "$dir/server-key.pem" ]; then exit 0; fi
san=""
for n in "${names[@]}"; do
  if [[ "$n" =~ ^[0-9.]+$ ]]; then san+="${san:+,}IP:$n"; else san+="${san:+,}DNS:$n"; fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=ecorisk demo CA" \
  -keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=${names[0]}" \
  -keyout "$tmp/server-key.pem" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" >"$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca-key.pem" -CAcreateserial \
  -days 825 -extfile "$tmp/ext" -out "$tmp/server.pem" 2>/dev/null
chmod 0644 "$tmp/ca.pem" "$tmp/server.pem"
chmod 0640 "$tmp/server-key.pem"
mv "$tmp/ca.pem" "$tmp/server.pem" "$tmp/server-key.pem" "$dir/"
