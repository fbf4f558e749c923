#!/usr/bin/env bash
# Benchmark: detection quality on the labelled development set
# (../shared/corpus/atr-labelled.tar.gz: single-file skills `atr-labelled/samples/<id>/SKILL.md`,
# labels in `atr-labelled/labels.json`), measured the way an external judge does: a sample counts as
# detected when its highest *active* (unsuppressed) finding is high or critical.
#
#   bash bench/devset.sh [--json FILE] [--compare FILE] [--detected]
#
#   --json FILE     write the per-sample results (id, label, technique, origin, max severity, rules
#                   with their severities) to FILE, for diffing runs. Keep FILE outside the repo or at
#                   the git-ignored bench/last-devset.json: it names samples, which the repo must not.
#   --compare FILE  print the samples whose max severity changed since a FILE written by --json.
#   --detected      also list the detected malicious samples and the rules that caught them.
#
#   CORPUS=path/to/atr-labelled.tar.gz   (default ../shared/corpus/atr-labelled.tar.gz)
#   SKILLSCAN=path/to/binary             (default target/release/skillscan; build it first with
#                                         `cargo build --release --bin skillscan`)
#
# Prints recall at high+ and at critical, the false-positive rate at high+ and at critical, the
# misses and false positives by technique (benign samples: by origin) with each sample's max
# severity and the rules that fired, and the rules behind false positives. Sample text is never
# printed or written. One scan invocation covers every sample (skill roots are the sample folders,
# as for any folder of skills); a sample without exactly one report entry is an error, never
# dropped. Exit 0 whatever the figures (it is a measurement); 2 if the corpus or the binary is
# missing, or the scan produced no report.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
corpus=${CORPUS:-../shared/corpus/atr-labelled.tar.gz}
bin=${SKILLSCAN:-target/release/skillscan}
json_out="" compare="" detected=""
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json_out=${2:?--json needs a FILE}; shift 2 ;;
    --compare) compare=${2:?--compare needs a FILE}; shift 2 ;;
    --detected) detected=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -f "$corpus" ] || { echo "corpus not found: $corpus" >&2; exit 2; }
[ -x "$bin" ] || { echo "binary not found: $bin (cargo build --release --bin skillscan)" >&2; exit 2; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
[ -z "$compare" ] || [ -f "$compare" ] || { echo "--compare: no such file: $compare" >&2; exit 2; }
if [ -n "$json_out" ]; then
  case "$json_out" in /*) ;; *) json_out=$repo/$json_out ;; esac
  case "$json_out" in
    "$repo"/*) git check-ignore -q "$json_out" 2>/dev/null \
      || { echo "--json: $json_out is inside the repo and not git-ignored; use bench/last-devset.json or a path outside" >&2; exit 2; } ;;
  esac
fi
case "$compare" in ""|/*) ;; *) compare=$repo/$compare ;; esac
# A binary older than the rules or the engine measures old code: say so, do not rebuild.
if [ "$bin" = "$repo/target/release/skillscan" ] \
  && [ -n "$(find scanner/src rules -newer "$bin" -type f -print -quit 2>/dev/null)" ]; then
  echo "warning: $bin is older than scanner/src or rules/; rebuild for current figures" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$corpus" -C "$tmp"
set_dir=$tmp/atr-labelled
[ -f "$set_dir/labels.json" ] && [ -d "$set_dir/samples" ] \
  || { echo "corpus layout unexpected: no atr-labelled/labels.json or samples/" >&2; exit 2; }

# Run from the temp dir so that no ./skillscan.toml changes the policy: the judge uses the defaults.
start=$(date +%s.%N)
rc=0
(cd "$tmp" && "$bin" scan "$set_dir/samples" --format json -o "$tmp/report.json") 2>"$tmp/stderr" || rc=$?
end=$(date +%s.%N)
if [ "$rc" -gt 1 ] || [ ! -s "$tmp/report.json" ]; then
  echo "scan failed (exit $rc):" >&2; head -n 20 "$tmp/stderr" >&2; exit 2
fi

python3 - "$tmp/report.json" "$set_dir" "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')" \
  "$json_out" "$compare" "$detected" <<'PY'
import collections, json, os, sys

report_path, set_dir, elapsed, json_out, compare, show_detected = sys.argv[1:7]
ORDER = ["none", "info", "low", "medium", "high", "critical"]
RANK = {s: i for i, s in enumerate(ORDER)}
labels = json.load(open(os.path.join(set_dir, "labels.json")))
samples_dir = os.path.realpath(os.path.join(set_dir, "samples"))
report = json.load(open(report_path))

# Map each report entry to a sample: its root is <samples>/<id> (absolute or as given on the command
# line); anything else (a nested root, a root outside the samples) is an error.
entries, errors = collections.defaultdict(list), []
for skill in report["skills"]:
    root = os.path.realpath(skill["root"])
    rel = os.path.relpath(root, samples_dir).split(os.sep)
    if rel[0] in ("..", ".") or rel[0] not in labels:
        errors.append(f"report entry with root outside any sample: {skill['root']}")
        continue
    if len(rel) > 1:
        errors.append(f"{rel[0]}: nested skill root {'/'.join(rel)} (merged into the sample)")
    entries[rel[0]].append(skill)

results = {}
for sid, lab in sorted(labels.items()):
    rec = {"id": sid, "label": lab["label"], "technique": lab.get("technique", "?"),
           "origin": lab.get("origin", "?"), "max_severity": "none", "rules": {}, "suppressed": {},
           "error": None}
    skills = entries.get(sid, [])
    if not skills:
        rec["error"] = "no report entry"
        errors.append(f"{sid}: no report entry (sample not scanned)")
    elif len(skills) > 1:
        errors.append(f"{sid}: {len(skills)} report entries (merged)")
    for skill in skills:
        for f in skill["findings"]:
            bucket = rec["suppressed"] if f.get("suppressed") else rec["rules"]
            if RANK[f["severity"]] > RANK.get(bucket.get(f["rule_id"], "none"), 0):
                bucket[f["rule_id"]] = f["severity"]
    if rec["rules"]:
        rec["max_severity"] = max(rec["rules"].values(), key=RANK.get)
    results[sid] = rec

def high(r): return RANK[r["max_severity"]] >= RANK["high"]
def crit(r): return r["max_severity"] == "critical"
def pct(n, d): return f"{100 * n / d:5.1f}%" if d else "  n/a"
def rules_str(r, floor="info"):
    rs = sorted(((s, k) for k, s in r["rules"].items() if RANK[s] >= RANK[floor]),
                key=lambda x: (-RANK[x[0]], x[1]))
    return ", ".join(f"{k}({s[0].upper() if s != 'info' else 'i'})" for s, k in rs) or "-"
def group_key(r): return r["technique"] if r["label"] == "malicious" else r["origin"]

mal = [r for r in results.values() if r["label"] == "malicious"]
ben = [r for r in results.values() if r["label"] == "benign"]
other = [r for r in results.values() if r["label"] not in ("malicious", "benign")]
print(f"devset: {len(results)} samples ({len(mal)} malicious, {len(ben)} benign"
      + (f", {len(other)} with another label" if other else "") + f"), "
      f"{len(report['skills'])} report entries, scan {elapsed} s")
n_h, n_c = sum(map(high, mal)), sum(map(crit, mal))
f_h, f_c = sum(map(high, ben)), sum(map(crit, ben))
print(f"recall     high+    {n_h:4d} / {len(mal):<4d} {pct(n_h, len(mal))}")
print(f"recall     critical {n_c:4d} / {len(mal):<4d} {pct(n_c, len(mal))}")
print(f"FP rate    high+    {f_h:4d} / {len(ben):<4d} {pct(f_h, len(ben))}")
print(f"FP rate    critical {f_c:4d} / {len(ben):<4d} {pct(f_c, len(ben))}")
for name, group in (("malicious", mal), ("benign", ben)):
    dist = collections.Counter(r["max_severity"] for r in group)
    print(f"max severity, {name:9s}: " + ", ".join(f"{s} {dist[s]}" for s in reversed(ORDER)))
if errors:
    print(f"\nERRORS ({len(errors)}): samples without exactly one result")
    for e in errors:
        print(f"  {e}")

def listing(title, rows, floor="info"):
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    by = collections.defaultdict(list)
    for r in rows:
        by[group_key(r)].append(r)
    totals = collections.Counter(group_key(r) for r in results.values())
    for key in sorted(by, key=lambda k: (-len(by[k]), k)):
        print(f"  {key}: {len(by[key])} of {totals[key]}")
        for r in sorted(by[key], key=lambda r: (-RANK[r['max_severity']], r["id"])):
            extra = f"  [suppressed: {', '.join(sorted(r['suppressed']))}]" if r["suppressed"] else ""
            extra += f"  [ERROR: {r['error']}]" if r["error"] else ""
            print(f"    {r['id']:58s} {r['max_severity']:8s} {rules_str(r, floor)}{extra}")

listing("MISSES (malicious, max active severity below high), by technique",
        [r for r in mal if not high(r)])
listing("HIGH BUT NOT CRITICAL (malicious), by technique",
        [r for r in mal if high(r) and not crit(r)])
listing("FALSE POSITIVES (benign with a high+ finding), by origin; rules at medium+",
        [r for r in ben if high(r)], floor="medium")
if show_detected:
    listing("DETECTED (malicious at high+), by technique", [r for r in mal if high(r)], floor="high")

fp_rules = collections.Counter()
fp_crit = collections.Counter()
for r in ben:
    for k, s in r["rules"].items():
        if RANK[s] >= RANK["high"]:
            fp_rules[k] += 1
            fp_crit[k] += s == "critical"
print("\nRULES BEHIND FALSE POSITIVES (benign samples with the rule at high+; of them critical)")
for k, n in fp_rules.most_common() or [("(none)", 0)]:
    print(f"  {n:4d} {fp_crit[k]:4d}  {k}")
tp_rules = collections.Counter(k for r in mal for k, s in r["rules"].items() if RANK[s] >= RANK["high"])
print("RULES BEHIND DETECTIONS (malicious samples with the rule at high+)")
for k, n in tp_rules.most_common() or [("(none)", 0)]:
    print(f"  {n:4d}  {k}")

hidden = [r for r in results.values()
          if r["suppressed"] and max(RANK[s] for s in r["suppressed"].values()) >= RANK["high"]
          and not high(r)]
if hidden:
    print("\nNOTE: samples below high only because an inline ignore suppressed a high+ finding:")
    for r in hidden:
        print(f"  {r['label']:9s} {r['id']}: {', '.join(sorted(r['suppressed']))}")

if compare:
    old = {r["id"]: r for r in json.load(open(compare))["samples"]}
    changed = [(sid, old[sid]["max_severity"], r["max_severity"], r["label"])
               for sid, r in sorted(results.items())
               if sid in old and old[sid]["max_severity"] != r["max_severity"]]
    print(f"\nCHANGED SINCE {compare}: {len(changed)} sample(s); + better, - worse, ! crosses high")
    for sid, a, b, lab in changed:
        better = (RANK[b] > RANK[a]) == (lab == "malicious")
        crossing = (RANK[a] >= RANK["high"]) != (RANK[b] >= RANK["high"])
        print(f"  {'+' if better else '-'}{'!' if crossing else ' '} {lab:9s} {sid:58s} {a} -> {b}")
    for sid in sorted(set(old) ^ set(results)):
        print(f"  ?  {sid}: only in {'the old run' if sid in old else 'this run'}")

if json_out:
    with open(json_out, "w") as out:
        json.dump({"tool": report.get("tool"), "samples": [
            {k: r[k] for k in ("id", "label", "technique", "origin", "max_severity", "rules",
                               "suppressed", "error")}
            for r in results.values()]}, out, indent=1, sort_keys=True)
    print(f"\nper-sample results written to {json_out}")
PY
