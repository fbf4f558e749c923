#!/usr/bin/env bash
# Where does a scan's time go? Records a sampling profile of one scan with `perf` (dwarf call
# graphs, a release build with line tables) and prints the engine functions that hold the most
# time, inclusive of what they call. This is how the issue-15 hot spots were found: the
# typosquat check of every distinct host, the registrable-domain walk and the host-list lookups
# in a skill naming 40,000 hosts.
#
#   bash bench/profile.sh PATH [PERCENT]    (PATH: what to scan; PERCENT: cut-off, default 3)
#   bash bench/profile.sh corpus            (the dev corpus, ../shared/corpus/real-skills-dev.tar.gz)
#
# Needs `perf` (Debian: linux-perf) with access to the CPU's sampling events; the raw profile is
# left in target/profile/perf.data for `perf report -i`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: bench/profile.sh PATH|corpus [PERCENT]}
cutoff=${2:-3}
command -v perf >/dev/null || { echo "perf is not installed (Debian: apt-get install linux-perf)" >&2; exit 2; }
out=target/profile
mkdir -p "$out"
# Line tables and symbols (release strips them): enough for perf to name inlined frames, without changing the optimised code.
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=$out/target \
  cargo build --release --quiet --bin skillscan
bin=$out/target/release/skillscan
if [ "$target" = corpus ]; then
  rm -rf "$out/corpus" && mkdir -p "$out/corpus"
  tar -xzf ../shared/corpus/real-skills-dev.tar.gz -C "$out/corpus"
  target=$out/corpus
fi
perf record --quiet --call-graph dwarf,16384 -F 499 -o "$out/perf.data" \
  "$bin" scan "$target" --format json -o /dev/null >/dev/null 2>&1 || [ $? = 1 ]
echo "inclusive share of samples, engine functions at or above ${cutoff}%:"
perf report -i "$out/perf.data" --children --percent-limit "$cutoff" --stdio -g none 2>/dev/null |
  grep -E '^ +[0-9]' | grep 'skillscan::' | grep -v 'rayon\|closure_env\|(inlined)' |
  awk '{ name = ""; for (i = 6; i <= NF; i++) name = name " " $i; printf "%8s %8s  %s\n", $1, $2, substr(name, 2, 120) }'
