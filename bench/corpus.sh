#!/usr/bin/env bash
# Benchmark: scans the dev corpus (../shared/corpus/real-skills-dev.tar.gz) with the release
# binary and prints wall time, skills/s, MB/s and peak RSS (best of N runs), then the accuracy
# report: how many corpus skills get a high or critical finding, and from which rules.
#
#   bash bench/corpus.sh [RUNS] [--jobs N]
#   bash bench/corpus.sh [RUNS] --copies K [--jobs N]
#
# With `--copies K` it also scans a corpus K times larger (the dev corpus copied K times, each
# copy under its own folder, so every skill root is distinct) and prints the time and memory
# ratios against the single corpus: issue 15 asks a corpus 4 times larger to cost at most 4.5
# times the time, under the same memory bound (300 MB).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
shift || true
copies=1
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --copies) copies=${2:?--copies needs a number}; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- ${args[@]+"${args[@]}"}
corpus=${CORPUS:-../shared/corpus/real-skills-dev.tar.gz}
[ -f "$corpus" ] || { echo "corpus not found: $corpus" >&2; exit 2; }
cargo build --release --quiet --bin skillscan
bin=target/release/skillscan
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$corpus" -C "$tmp"
bytes=$(find "$tmp/skills" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$tmp/skills" -type f | wc -l)
skills=$(find "$tmp/skills" -mindepth 2 -maxdepth 2 -type d | wc -l)
echo "corpus: $skills skills, $files files, $bytes bytes; $(nproc) CPUs; $runs runs"

best=""
for i in $(seq "$runs"); do
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" scan "$tmp/skills" --format json -o "$tmp/report.json" "$@" || [ $? = 1 ]
  read -r wall rss < <(tail -n 1 "$tmp/time")
  echo "run $i: ${wall} s wall, peak RSS $((rss / 1024)) MB"
  if [ -z "$best" ] || awk "BEGIN {exit !($wall < $best)}"; then best=$wall; best_rss=$rss; fi
done
awk -v w="$best" -v s="$skills" -v b="$bytes" -v r="$best_rss" 'BEGIN {
  printf "best: %.2f s wall, %.0f skills/s, %.1f MB/s, peak RSS %d MB\n", w, s / w, b / w / 1048576, r / 1024 }'

if [ "$copies" -gt 1 ]; then
  mkdir -p "$tmp/larger"
  for c in $(seq "$copies"); do cp -r "$tmp/skills" "$tmp/larger/copy$c"; done
  big=""
  for i in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" scan "$tmp/larger" --format json -o /dev/null "$@" || [ $? = 1 ]
    read -r wall rss < <(tail -n 1 "$tmp/time")
    echo "corpus x$copies, run $i: ${wall} s wall, peak RSS $((rss / 1024)) MB"
    if [ -z "$big" ] || awk "BEGIN {exit !($wall < $big)}"; then big=$wall; big_rss=$rss; fi
  done
  rm -rf "$tmp/larger"
  awk -v k="$copies" -v w="$best" -v r="$best_rss" -v W="$big" -v R="$big_rss" 'BEGIN {
    printf "corpus x%d: best %.2f s wall (%.2f times the single corpus), peak RSS %d MB (%.2f times)\n", k, W, W / w, R / 1024, R / r }'
fi

python3 - "$tmp/report.json" "$tmp/skills" "$skills" <<'PY'
import collections, json, sys
report, root, total = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
flagged, rules = {}, collections.Counter()
for skill in report["skills"]:
    rel = skill["root"][len(root):].strip("/").split("/")
    key = "/".join(rel[:2])  # corpus layout: skills/<owner>/<slug>/...
    for f in skill["findings"]:
        if not f.get("suppressed") and f["severity"] in ("high", "critical"):
            flagged.setdefault(key, set()).add(f["rule_id"])
            rules[f["rule_id"]] += 1
print(f"accuracy: {len(flagged)} of {total} corpus skills ({100 * len(flagged) / total:.1f}%) have a high or critical finding (target: at most 2%, 25)")
for rule, n in rules.most_common():
    print(f"  {n:4d} {rule}")
if "--list" in sys.argv or True:
    with open("bench/last-flagged.txt", "w") as out:
        for key in sorted(flagged):
            out.write(f"{key}: {', '.join(sorted(flagged[key]))}\n")
    print("flagged skills written to bench/last-flagged.txt")
PY
