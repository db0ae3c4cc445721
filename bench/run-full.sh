#!/usr/bin/env bash
# The full benchmark sweep, for a quiet machine: every workload, every scheme,
# the default thread list (1, 2, 4, ... up to the cores), CSV + JSON + SVG +
# RESULTS.md into bench/results/, the machine's description, a getput sweep
# with lockhammer-style delay knobs, and (where valgrind exists) callgrind
# instruction counts per single-thread operation.
#
#   bench/run-full.sh                 # defaults: 1 s points, 5 runs
#   DURATION=0.5 RUNS=3 bench/run-full.sh
#   THREADS=1,2,4,8,16 OUT=/tmp/r bench/run-full.sh
#   NOTE="2-core development VM; no 16-core machine was available" bench/run-full.sh
#
# Nothing else should run on the machine meanwhile: every other process
# competes for the same cores and caches. About 6 minutes on 2 cores, about
# 15 on 16 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-bench/results}
DURATION=${DURATION:-1}
WARMUP=${WARMUP:-0.2}
RUNS=${RUNS:-5}
THREADS=${THREADS:-}
NOTE=${NOTE:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}

cargo build --release -p pageref-bench
BIN="$CARGO_TARGET_DIR/release/pageref"
mkdir -p "$OUT"
threads=()
if [ -n "$THREADS" ]; then threads=(--threads "$THREADS"); fi

echo "== machine description -> $OUT/machine.txt"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "uname: $(uname -a)"
    echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "rustc: $(rustc --version)"
    echo "load average before the run: $(cat /proc/loadavg)"
    echo "command: DURATION=$DURATION WARMUP=$WARMUP RUNS=$RUNS THREADS=${THREADS:-default} bench/run-full.sh"
    echo
    if command -v lscpu >/dev/null; then lscpu; else grep -m1 'model name' /proc/cpuinfo; nproc; fi
} > "$OUT/machine.txt"

echo "== full sweep: every workload, every scheme"
"$BIN" bench --workloads all --schemes all "${threads[@]}" \
    --duration "$DURATION" --warmup "$WARMUP" --runs "$RUNS" \
    --csv "$OUT/sweep.csv" --json "$OUT/sweep.json" --plot "$OUT/sweep.svg" \
    --markdown "$OUT/RESULTS.md" | tee "$OUT/sweep.txt"

echo "== getput with delay knobs: --critical 50 --parallel 200"
"$BIN" bench --workloads getput --schemes all "${threads[@]}" --critical 50 --parallel 200 \
    --duration "$DURATION" --warmup "$WARMUP" --runs "$RUNS" \
    --csv "$OUT/getput-delays.csv" --json "$OUT/getput-delays.json" \
    --plot "$OUT/getput-delays.svg" --markdown "$OUT/getput-delays.md" | tee "$OUT/getput-delays.txt"

{
    echo
    echo "## getput with delay knobs (--critical 50 --parallel 200)"
    echo
    echo "50 spin steps of work while holding the reference, 200 between two gets (ARM lockhammer's"
    echo "knobs); full report in \`getput-delays.md\`, data in \`getput-delays.csv\` / \`.json\` / \`.svg\`."
    echo
    sed -n '/^### getput/,$p' "$OUT/getput-delays.md"
} >> "$OUT/RESULTS.md"

if command -v valgrind >/dev/null; then
    echo "== callgrind: instructions per single-thread operation"
    N1=1000000
    N2=2000000
    csv="$OUT/instructions.csv"
    echo "workload,scheme,instructions_per_op,iterations_low,iterations_high,ir_low,ir_high" > "$csv"
    ir() { # workload scheme iterations -> total instructions executed
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" bench \
            --workloads "$1" --schemes "$2" --iterations "$3" 2>&1 >/dev/null |
            awk '/Collected :/ {print $NF}'
    }
    schemes=$("$BIN" list | awk '/^schemes/ {s=1; next} /^workloads/ {s=0} s {print $1}')
    for w in getput pread; do
        for s in $schemes; do
            lo=$(ir "$w" "$s" "$N1")
            hi=$(ir "$w" "$s" "$N2")
            per=$(awk -v a="$lo" -v b="$hi" -v n=$((N2 - N1)) 'BEGIN {printf "%.2f", (b - a) / n}')
            echo "$w,$s,$per,$N1,$N2,$lo,$hi" >> "$csv"
            echo "  $w $s: $per instructions per op"
        done
    done
    {
        echo
        echo "## Instructions per single-thread operation (valgrind --tool=callgrind)"
        echo
        echo "Total instructions of \`pageref bench --iterations N\` at N = $N1 and N = $N2, differenced and"
        echo "divided by $((N2 - N1)), so that start-up cancels out: one getput op is try_get + put, one pread"
        echo "op is one 64-byte read through the page-cache model. See \`instructions.csv\`."
        echo
        echo "| workload | scheme | instructions / op |"
        echo "|---|---|---:|"
        tail -n +2 "$csv" | awk -F, '{printf "| %s | %s | %s |\n", $1, $2, $3}'
    } >> "$OUT/RESULTS.md"
else
    echo "== valgrind not found: no instruction counts"
fi

if [ -n "$NOTE" ]; then
    printf '\n## Note from whoever ran it\n\n%s\n' "$NOTE" >> "$OUT/RESULTS.md"
fi

echo "== done: $OUT"
ls -l "$OUT"
