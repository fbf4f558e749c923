#!/usr/bin/env bash
# Speed must not cost a finding: scans the dev corpus, the labelled development set and every
# committed fixture with a base build and with this checkout's build, and diffs the JSON reports
# (timings removed). Exits 1 on any difference and prints the first lines of the diff.
#
#   bash bench/same-findings.sh BASE            BASE: a git revision (built in a worktree under
#                                               target/same-findings) or a skillscan binary
#   SKILLSCAN_BIN=path bash bench/same-findings.sh BASE   (compare against that binary; no build)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: bench/same-findings.sh BASE-REVISION-OR-BINARY}
work=$PWD/target/same-findings
mkdir -p "$work"

if [ -x "$base" ] && [ -f "$base" ]; then
  base_bin=$(realpath "$base")
else
  rev=$(git rev-parse --verify "$base^{commit}")
  tree=$work/tree-$rev
  if [ ! -x "$work/bin-$rev" ]; then
    rm -rf "$tree"
    git worktree add --detach --force "$tree" "$rev" >/dev/null
    # Its own target directory: the two builds would otherwise evict each other's artefacts.
    CARGO_TARGET_DIR=$work/target cargo build --release --quiet --bin skillscan --manifest-path "$tree/Cargo.toml"
    cp "$work/target/release/skillscan" "$work/bin-$rev"
    git worktree remove --force "$tree"
  fi
  base_bin=$work/bin-$rev
fi
if [ -n "${SKILLSCAN_BIN:-}" ]; then
  new_bin=$(realpath "$SKILLSCAN_BIN")
else
  cargo build --release --quiet --bin skillscan
  new_bin=$PWD/target/release/skillscan
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inputs=()
if [ -f ../shared/corpus/real-skills-dev.tar.gz ]; then
  mkdir -p "$tmp/corpus" && tar -xzf ../shared/corpus/real-skills-dev.tar.gz -C "$tmp/corpus"
  inputs+=("dev-corpus:$tmp/corpus")
else
  echo "SKIPPED: the dev corpus (../shared/corpus/real-skills-dev.tar.gz is not here)"
fi
if [ -f ../shared/corpus/atr-labelled.tar.gz ]; then
  mkdir -p "$tmp/devset" && tar -xzf ../shared/corpus/atr-labelled.tar.gz -C "$tmp/devset"
  inputs+=("devset:$tmp/devset")
else
  echo "SKIPPED: the development set (../shared/corpus/atr-labelled.tar.gz is not here)"
fi
inputs+=("fixtures:tests/fixtures" "examples:examples/skills")

# normalise REPORT: the report without what differs from run to run (timings, temporary paths).
normalise() {
  python3 - "$1" "$2" <<'PY'
import json, sys
report, prefix = json.load(open(sys.argv[1])), sys.argv[2]
# Timings vary run to run; the rule-set hash changes with any rule file, even one that adds a
# rule firing nowhere here. What must not change is every finding and verdict.
IGNORED = ("elapsed_ms", "scanned_at", "duration_ms", "rules_version")
def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in IGNORED}
    if isinstance(value, list):
        return [strip(v) for v in value]
    if isinstance(value, str):
        return value.replace(prefix, "<input>")
    return value
json.dump(strip(report), sys.stdout, indent=1, sort_keys=True)
PY
}

fail=0
for entry in "${inputs[@]}"; do
  name=${entry%%:*}
  path=${entry#*:}
  for side in base new; do
    bin=$base_bin
    [ "$side" = new ] && bin=$new_bin
    "$bin" scan "$path" --format json -o "$tmp/$name-$side.raw.json" >/dev/null 2>&1 || [ $? = 1 ]
    normalise "$tmp/$name-$side.raw.json" "$path" >"$tmp/$name-$side.json"
  done
  findings=$(python3 -c "import json,sys; print(sum(len(s['findings']) for s in json.load(open(sys.argv[1]))['skills']))" "$tmp/$name-new.raw.json")
  if cmp -s "$tmp/$name-base.json" "$tmp/$name-new.json"; then
    echo "$name: identical ($findings findings)"
  else
    echo "$name: DIFFERENT"
    diff "$tmp/$name-base.json" "$tmp/$name-new.json" | head -40 || true
    fail=1
  fi
done
exit "$fail"
