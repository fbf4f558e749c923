#!/usr/bin/env bash
# Measures wall time and peak RSS of scanning each hostile input (committed fixtures plus a
# generated 50,000-entry zip), with the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin skillscan
bin=target/release/skillscan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 tests/fixtures/gen/hostile.py --large "$tmp" >/dev/null
printf '%-40s %8s %8s %s\n' input seconds "RSS MB" findings
for input in tests/fixtures/hostile/* "$tmp"/*; do
  case "$input" in *README.md) continue ;; esac
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" scan "$input" --format json -o "$tmp/out.json" || true
  read -r wall rss < <(tail -n 1 "$tmp/time")
  rules=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(",".join(sorted({f["rule_id"] for s in r["skills"] for f in s["findings"]})))' "$tmp/out.json")
  printf '%-40s %8s %8d %s\n' "$(basename "$input")" "$wall" $((rss / 1024)) "$rules"
done
