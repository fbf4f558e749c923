#!/usr/bin/env bash
# Benchmark: tree digests of the whole dev corpus (../shared/corpus/real-skills-dev.tar.gz) with
# the release binary: `skillscan digest` over the unpacked corpus, best of N runs, wall time and
# MB/s of file content hashed (issue 3's target: well under 1 s on 2 cores).
#
#   bash bench/digest.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
corpus=${CORPUS:-../shared/corpus/real-skills-dev.tar.gz}
[ -f "$corpus" ] || { echo "corpus not found: $corpus" >&2; exit 2; }
cargo build --release --quiet --bin skillscan
bin=target/release/skillscan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$corpus" -C "$tmp"
bytes=$(find "$tmp/skills" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$tmp/skills" -type f | wc -l)
echo "corpus: $files files, $bytes bytes; $(nproc) CPUs; $runs runs (page cache warm after the first)"

best=""
for i in $(seq "$runs"); do
  start=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$tmp/time" "$bin" digest "$tmp/skills" --format json >"$tmp/digests.json"
  end=$EPOCHREALTIME
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')
  rss=$(tail -n 1 "$tmp/time")
  echo "run $i: ${wall} s wall, peak RSS $((rss / 1024)) MB"
  if [ -z "$best" ] || awk "BEGIN {exit !($wall < $best)}"; then best=$wall; best_rss=$rss; fi
done
# (More skill roots than the corpus's 1,244 skills: nested folders with their own SKILL.md count too.)
skills=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["skills"]), len(r["errors"]))' "$tmp/digests.json")
read -r digested errors <<<"$skills"
awk -v w="$best" -v b="$bytes" -v r="$best_rss" -v s="$digested" -v e="$errors" 'BEGIN {
  printf "best: %.3f s wall for %d skills (%d errors), %.1f MB/s, peak RSS %d MB\n", w, s, e, b / (w > 0 ? w : 0.001) / 1048576, r / 1024 }'
