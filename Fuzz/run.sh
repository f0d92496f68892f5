#!/usr/bin/env bash
# Runs one libFuzzer campaign (or a smoke pass) of trm-fuzz on one target.
#   Fuzz/run.sh TARGET SECONDS [RUNS]
# The working corpus grows in .build-fuzz/corpus/TARGET, started from the committed seeds,
# corpus and regression inputs under Fuzz/. Crashing, leaking, hanging (>10 s) or over-allocating
# (>2 GiB; one allocation over 256 MiB for the structure-aware targets) inputs go to
# .build-fuzz/artifacts/TARGET/ and fail the run; a failing input belongs in
# Fuzz/regressions/TARGET/ once fixed. Prints libFuzzer's final statistics. Swift's own crash
# backtracer is switched off so that a trap reaches libFuzzer's handler, which saves the input.
set -uo pipefail
TARGET=${1:?usage: run.sh TARGET SECONDS [RUNS]}
SECONDS_LIMIT=${2:?usage: run.sh TARGET SECONDS [RUNS]}
RUNS=${3:--1}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${TRM_FUZZ_BIN:-$ROOT/.build-fuzz/release/trm-fuzz}
WORK=$ROOT/.build-fuzz
[ -x "$BIN" ] || { echo "run.sh: $BIN is not built (make fuzz-build)" >&2; exit 2; }
[ -d "$HERE/seeds/$TARGET" ] || { echo "run.sh: no target '$TARGET' (Fuzz/seeds/ has: $(ls "$HERE/seeds" | tr '\n' ' '))" >&2; exit 2; }
mkdir -p "$WORK/corpus/$TARGET" "$WORK/artifacts/$TARGET" "$WORK/logs"
INPUTS=("$WORK/corpus/$TARGET" "$HERE/seeds/$TARGET")
for extra in corpus regressions; do [ -d "$HERE/$extra/$TARGET" ] && INPUTS+=("$HERE/$extra/$TARGET"); done
# The structure-aware targets mutate a model of a few KB whose every size the readers validate: any
# single allocation over 256 MiB there is a size that slipped past the checks (the harness caps the
# runtime's own allocations at 1 GiB, which would let a 1 GiB arena through).
MALLOC_LIMIT_MB=2048
case "$TARGET" in ckpt-config|trmg-plan) MALLOC_LIMIT_MB=256 ;; esac
LOG=$WORK/logs/$TARGET.log
start=$(date +%s)
SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no} TRM_FUZZ_TARGET=$TARGET ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$BIN" -max_total_time="$SECONDS_LIMIT" -runs="$RUNS" \
  -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb="$MALLOC_LIMIT_MB" -print_final_stats=1 -artifact_prefix="$WORK/artifacts/$TARGET/" "${INPUTS[@]}" > "$LOG" 2>&1
status=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$LOG" | grep -o '[0-9]*$')
rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$LOG" | grep -o '[0-9]*$')
cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$LOG" | grep -o 'cov: [0-9]*' | tail -1)
echo "$TARGET: ${runs:-?} executions in $(( $(date +%s) - start )) s (${rate:-?}/s), ${cov:-cov: ?}, exit $status (log: $LOG)"
if [ $status -ne 0 ]; then
  grep -E "ERROR|SUMMARY|Test unit written" "$LOG" | head -5 >&2
  exit 1
fi
