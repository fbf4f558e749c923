#!/usr/bin/env bash
# The mirror's retro-hunt: imports N skills of the dev corpus into a fresh mirror (each scanned
# and decided by the default policy, as `sync` would), then times `rescan --all` over that store
# (best of RUNS, each on a fresh copy of it, since a rescan records its scans) and prints
# versions/s.
#
#   bash bench/mirror-rescan.sh [N] [RUNS]      (default: 300 skills, 3 runs)
#   SKILLSCAN_MIRROR_BIN=path bash bench/mirror-rescan.sh   (time that binary; no build)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
runs=${2:-3}
corpus=${CORPUS:-../shared/corpus/real-skills-dev.tar.gz}
[ -f "$corpus" ] || { echo "corpus not found: $corpus" >&2; exit 2; }
if [ -n "${SKILLSCAN_MIRROR_BIN:-}" ]; then
  bin=$(realpath "$SKILLSCAN_MIRROR_BIN")
else
  cargo build --release --quiet --bin skillscan-mirror
  bin=$PWD/target/release/skillscan-mirror
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$corpus" -C "$tmp"
export SKILLSCAN_MIRROR_DATA=$tmp/store
"$bin" key init >/dev/null

imported=0
while read -r dir; do
  [ "$imported" -ge "$n" ] && break
  # The corpus is skills/<owner>/<slug>; the mirror wants a slug of [a-z0-9-].
  slug=$(basename "$dir" | tr 'A-Z_.' 'a-z--' | tr -cd 'a-z0-9-' | cut -c1-60)
  slug="b${imported}-${slug:-skill}"
  if "$bin" import "$dir" --slug "$slug" --version 1.0.0 >/dev/null 2>>"$tmp/import.err"; then
    imported=$((imported + 1))
  fi
done < <(find "$tmp/skills" -mindepth 2 -maxdepth 2 -type d | sort)
states=$("$bin" list --json | python3 -c '
import collections, json, sys
counts = collections.Counter(json.loads(line).get("state", "?") for line in sys.stdin if line.strip())
print(", ".join(f"{n} {s}" for s, n in sorted(counts.items())))')
echo "store: $imported versions imported ($states); $(nproc) CPUs; best of $runs"

cp -a "$tmp/store" "$tmp/store.orig"
best=""
for i in $(seq "$runs"); do
  rm -rf "$tmp/store" && cp -a "$tmp/store.orig" "$tmp/store"
  /usr/bin/time -f '%U %S %e %M' -o "$tmp/time" "$bin" rescan --all >"$tmp/rescan.out" 2>"$tmp/rescan.err"
  read -r user sys wall rss < <(tail -n 1 "$tmp/time")
  count=$(wc -l <"$tmp/rescan.out")
  echo "run $i: $count versions rescanned in ${wall} s (CPU: ${user} s user, ${sys} s system), peak RSS $((rss / 1024)) MB"
  if [ -z "$best" ] || awk "BEGIN {exit !($wall < $best)}"; then best=$wall; best_count=$count; fi
done
awk -v w="$best" -v c="$best_count" 'BEGIN { printf "best: %d versions in %.2f s: %.0f versions/s\n", c, w, c / w }'
