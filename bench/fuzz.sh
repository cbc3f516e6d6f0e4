#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz, as built in BUILD_DIR) for at least
# EXECS executions or MAX_SECONDS, whichever comes first, one target at a
# time, and prints per target: executions, coverage (libFuzzer's cov: edges
# and ft: features), corpus size, seconds and findings (crash/leak/oom/timeout
# artifacts). Each target runs with the arguments its ctest test uses
# (ctest --show-only=json-v1 is the one source of them: -max_len, memory
# limits, seeds), with -runs replaced and a growing corpus kept in OUT.
#
#   BUILD_DIR=build bench/fuzz.sh                 # 10 M execs or 30 min each
#   EXECS=2000000 MAX_SECONDS=180 bench/fuzz.sh   # a shorter run
#   TARGETS="blk_backend ide" bench/fuzz.sh       # a subset
#
# Environment: BUILD_DIR (default ./build), EXECS (10000000), MAX_SECONDS
# (1800), TARGETS (all fuzz.* tests), OUT (default BUILD_DIR/fuzz-bench: per
# target corpus/, artifacts and the full log), NICE (default 10), FUZZ_BIN (run
# the fuzz_* binaries from this directory instead, e.g. a copy, so that a
# rebuild of BUILD_DIR meanwhile does not touch them).
# Exit status: 0 when no target found anything, 1 when one did, 2 on usage.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${BUILD_DIR:-$top/build}" 2>/dev/null && pwd) || { echo "fuzz.sh: no build dir ${BUILD_DIR:-$top/build}" >&2; exit 2; }
execs=${EXECS:-10000000}
secs=${MAX_SECONDS:-1800}
out=${OUT:-$build/fuzz-bench}
nice_lvl=${NICE:-10}
mkdir -p "$out"

# target name -> its ctest command line (one JSON array per line)
cmds=$(cd "$build" && ctest --show-only=json-v1 -L fuzz | python3 -c '
import json, sys
for t in json.load(sys.stdin)["tests"]:
    if t["name"].startswith("fuzz.") and "command" in t:
        print(t["name"][5:] + "\t" + json.dumps(t["command"]))')
[[ -n $cmds ]] || { echo "fuzz.sh: no fuzz.* tests in $build (configure with clang / MYVMM_FUZZ=ON)" >&2; exit 2; }

printf "%-13s %10s %7s %8s %6s %7s %s\n" target execs cov ft corpus seconds findings
found=0
while IFS=$'\t' read -r name json; do
  if [[ -n ${TARGETS:-} && " $TARGETS " != *" $name "* ]]; then continue; fi
  d=$out/$name
  mkdir -p "$d/corpus"
  rm -f "$d"/crash-* "$d"/leak-* "$d"/oom-* "$d"/timeout-* "$d"/slow-unit-*
  mapfile -t argv < <(python3 -c '
import json, os, sys
a = json.loads(sys.argv[1])
print(os.path.join(sys.argv[2], os.path.basename(a[0])) if sys.argv[2] else a[0])
for x in a[1:]:
    if not x.startswith(("-runs=", "-seed=")):
        print(x)' "$json" "${FUZZ_BIN:-}")
  t0=$(date +%s)
  set +e
  (cd "$d" && nice -n "$nice_lvl" "${argv[@]}" -runs="$execs" -max_total_time="$secs" \
     -print_final_stats=1 -artifact_prefix="$d/" "$d/corpus" > "$d/log" 2>&1)
  rc=$?
  set -e
  el=$(( $(date +%s) - t0 ))
  # "#N DONE cov: C ft: F corp: K/..." or the last status line before a crash
  last=$(grep -E '^#[0-9]+' "$d/log" | tail -1 || true)
  n=$(grep -oE '^stat::number_of_executed_units: [0-9]+' "$d/log" | awk '{print $2}' | tail -1)
  [[ -n $n ]] || n=$(echo "$last" | sed -nE 's/^#([0-9]+).*/\1/p')
  cov=$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
  ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
  corp=$(echo "$last" | sed -nE 's/.*corp: ([0-9]+).*/\1/p')
  arts=$(ls "$d" | grep -cE '^(crash|leak|oom|timeout)-' || true)
  what="$arts"
  if [[ $arts != 0 || $rc != 0 ]]; then
    found=1
    what="$arts ($(ls "$d" | grep -E '^(crash|leak|oom|timeout)-' | head -3 | tr '\n' ' ')rc $rc; see $d/log)"
  fi
  printf "%-13s %10s %7s %8s %6s %7s %s\n" "$name" "${n:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$el" "$what"
done <<< "$cmds"
exit $found
