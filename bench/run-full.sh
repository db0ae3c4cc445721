#!/usr/bin/env bash
# The full benchmark sweep into bench/results/: every workload and every scheme
# (CSV, JSON, SVG plot, RESULTS.md), the machine's description, a getput sweep
# with lockhammer-style delay knobs, and (where valgrind exists) callgrind
# instruction counts per single-thread operation.
#
#   bench/run-full.sh                                   # PROFILE=full, built with cargo
#   bench/run-full.sh --dry-run                         # the plan and its estimate; measures nothing
#   PROFILE=16core BIN=path/to/pageref bench/run-full.sh  # a 16-core machine without Rust
#   NOTE="which machine, how loaded" bench/run-full.sh  # a note at the end of RESULTS.md
#
# Profiles (every value can be overridden by its variable):
#
#   full    DURATION=1 WARMUP=0.2 RUNS=5, threads 1, 2, 4, ... up to the cores,
#           CALLGRIND=auto. 2 cores: 152 points x 5 runs x 1.2 s = 912 s,
#           about 15 min 12 s, plus about 1 min of callgrind.
#   16core  DURATION=0.25 WARMUP=0.05 RUNS=3, THREADS=1,2,4,8,16, CALLGRIND=0.
#           380 points x 3 runs x 0.30 s = 342 s, about 5 min 42 s on 16
#           cores: the profile is sized to finish within 6 minutes on 16
#           cores. (The measured time was 0.4 s until the arc-* workloads
#           joined, and 0.35 s until pread-fast and churn-fast joined.)
#
# A point is one (workload, contestant, thread count); its runs keep the
# min/median/max method of `pageref bench` in every profile. The counts above
# are for the 9 schemes of the registry plus the floor on the 6 per-scheme
# workloads (the floor skips churn and churn-fast), the running kernel's
# 2 workloads, and std's and pageref's Arc on the 3 arc-* workloads; the
# script prints its own estimate at the start (points x runs x (warm-up +
# duration), from `pageref bench --dry-run`), before anything is measured.
#
# Variables:
#
#   BIN=path     a prebuilt `pageref` (`cargo build --release -p pageref-bench`
#                gives target/release/pageref): then no cargo, rustc or git is
#                run; machine.txt records the binary's own `--version` (its
#                rustc, profile, target) and COMMIT if given.
#   PROFILE      full (default) or 16core
#   OUT          where the results go (default bench/results)
#   DURATION, WARMUP, RUNS, THREADS   as `pageref bench`'s options
#   CALLGRIND    auto (if valgrind is installed), 1 or 0
#   COMMIT       the commit the binary was built from (BIN mode)
#   NOTE         appended to RESULTS.md: name the machine and its load
#
# Bad settings end the script with one line and status 2 before anything is
# measured. Nothing else should run on the machine meanwhile: every other
# process competes for the same cores and caches.
set -euo pipefail

die() { echo "run-full.sh: error: $*" >&2; exit 2; }

DRY_RUN=0
for arg in "$@"; do
    case "$arg" in
        --dry-run) DRY_RUN=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$arg' (known: --dry-run, --help)" ;;
    esac
done

# A BIN relative to where the script was started from.
MODE=cargo
if [ -n "${BIN:-}" ]; then
    MODE=bin
    case "$BIN" in
        /*) ;;
        *) BIN="$PWD/$BIN" ;;
    esac
    [ -f "$BIN" ] && [ -x "$BIN" ] || die "BIN=${BIN##*/}: not an executable file"
fi
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-full}
case "$PROFILE" in
    full)
        : "${DURATION:=1}" "${WARMUP:=0.2}" "${RUNS:=5}" "${THREADS:=}" "${CALLGRIND:=auto}" ;;
    16core)
        : "${DURATION:=0.25}" "${WARMUP:=0.05}" "${RUNS:=3}" "${THREADS:=1,2,4,8,16}" "${CALLGRIND:=0}" ;;
    *) die "PROFILE=$PROFILE: unknown profile (known: full, 16core)" ;;
esac
case "$CALLGRIND" in
    auto) if command -v valgrind >/dev/null; then CALLGRIND=1; else CALLGRIND=0; fi ;;
    0|1) ;;
    *) die "CALLGRIND=$CALLGRIND: expected auto, 0 or 1" ;;
esac
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
    die "CALLGRIND=1 but valgrind is not installed"
fi
OUT=${OUT:-bench/results}
NOTE=${NOTE:-}

# How the reports name this run: the settings a user would type, no path.
run_by="bench/run-full.sh"
for v in THREADS RUNS WARMUP DURATION; do
    # Only what differs from the profile's defaults was given by hand.
    case "$PROFILE:$v:${!v}" in
        full:DURATION:1|full:WARMUP:0.2|full:RUNS:5|full:THREADS:) ;;
        16core:DURATION:0.25|16core:WARMUP:0.05|16core:RUNS:3|16core:THREADS:1,2,4,8,16) ;;
        *) run_by="$v=${!v} $run_by" ;;
    esac
done
if [ "$MODE" = bin ]; then run_by="BIN=path/to/pageref $run_by"; fi
if [ "$PROFILE" != full ]; then run_by="PROFILE=$PROFILE $run_by"; fi

if [ "$MODE" = cargo ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
    cargo build --release -p pageref-bench
    BIN="$CARGO_TARGET_DIR/release/pageref"
fi

threads=()
if [ -n "$THREADS" ]; then threads=(--threads "$THREADS"); fi
timing=(--duration "$DURATION" --warmup "$WARMUP" --runs "$RUNS")
sweep=(--workloads all --schemes all ${threads[@]+"${threads[@]}"} "${timing[@]}")
delays=(--workloads getput --schemes all ${threads[@]+"${threads[@]}"} --critical 50 --parallel 200 "${timing[@]}")

# The plan and its estimate, from the program itself (`--dry-run` measures
# nothing); a bad value stops the script here with pageref's one line.
est=0
plan() { # pageref bench options -> prints the plan, sets $est (seconds)
    local out
    if ! out=$("$BIN" bench "$@" --dry-run 2>&1); then
        die "$(printf '%s\n' "$out" | tail -n 1 | sed 's/^pageref: error: //')"
    fi
    printf '%s\n' "$out" | sed 's/^/  /'
    est=$(printf '%s\n' "$out" | awk '/^estimate:/ { for (i = 1; i < NF; i++) if ($i == "=") print $(i + 1) }')
    [ -n "$est" ] || die "no estimate in the output of pageref bench --dry-run"
}
echo "== run-full.sh: $run_by (profile $PROFILE, $MODE mode, pageref $("$BIN" --version | cut -d' ' -f2-))"
echo "== full sweep, every workload and every scheme:"
plan "${sweep[@]}"
total=$est
echo "== getput with delay knobs:"
plan "${delays[@]}"
total=$((total + est))
ncallgrind=0
if [ "$CALLGRIND" = 1 ]; then
    nschemes=$("$BIN" list | awk '/^schemes/ {s=1; next} /^workloads/ {s=0} s {n++} END {print n}')
    ncallgrind=$((2 * 2 * nschemes))
fi
echo "== estimate: $total s of measurement (about $((total / 60)) min $((total % 60)) s)$(
    [ "$ncallgrind" -gt 0 ] && echo ", plus $ncallgrind callgrind runs of a few seconds each")"

if [ "$DRY_RUN" = 1 ]; then
    echo "== dry run: nothing measured, nothing written (OUT=$OUT)"
    exit 0
fi

mkdir -p "$OUT"
loadavg() { awk '{print $1, $2, $3}' /proc/loadavg 2>/dev/null || echo unknown; }
load_before=$(loadavg)
# The commit, before anything in OUT (machine.txt is tracked) changes.
if [ -n "${COMMIT:-}" ]; then
    commit=$COMMIT
elif [ "$MODE" = cargo ] && git rev-parse HEAD >/dev/null 2>&1; then
    commit="$(git rev-parse HEAD)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
else
    commit="unknown (prebuilt binary; pass COMMIT=...)"
fi
echo "== machine description -> $OUT/machine.txt"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "uname: $(uname -a)"
    echo "binary: pageref $("$BIN" --version | cut -d' ' -f2-) ($MODE mode)"
    echo "commit: $commit"
    echo "load average before the run: $load_before"
    echo "command: $run_by"
    echo "settings: PROFILE=$PROFILE DURATION=$DURATION WARMUP=$WARMUP RUNS=$RUNS THREADS=${THREADS:-default} CALLGRIND=$CALLGRIND"
    echo "estimate: $total s of measurement"
    echo
    if command -v lscpu >/dev/null; then lscpu; else grep -m1 'model name' /proc/cpuinfo; nproc; fi
} > "$OUT/machine.txt"

export PAGEREF_RUN_BY="$run_by"
started=$(date +%s)
status=0
echo "== full sweep: every workload, every scheme"
"$BIN" bench "${sweep[@]}" \
    --csv "$OUT/sweep.csv" --json "$OUT/sweep.json" --plot "$OUT/sweep.svg" \
    --markdown "$OUT/RESULTS.md" | tee "$OUT/sweep.txt" || status=$?

echo "== getput with delay knobs: --critical 50 --parallel 200"
"$BIN" bench "${delays[@]}" \
    --csv "$OUT/getput-delays.csv" --json "$OUT/getput-delays.json" \
    --plot "$OUT/getput-delays.svg" --markdown "$OUT/getput-delays.md" | tee "$OUT/getput-delays.txt" || status=$?
measured=$(($(date +%s) - started))

{
    echo
    echo "## getput with delay knobs (--critical 50 --parallel 200)"
    echo
    echo "50 spin steps of work while holding the reference, 200 between two gets (ARM lockhammer's"
    echo "knobs); full report in \`getput-delays.md\`, data in \`getput-delays.csv\` / \`.json\` / \`.svg\`."
    echo
    sed -n '/^### getput/,$p' "$OUT/getput-delays.md"
} >> "$OUT/RESULTS.md"

rm -f "$OUT/instructions.csv"
if [ "$CALLGRIND" = 1 ]; then
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
        echo "Total instructions of \`cargo run --release -- bench --iterations N\` at N = $N1 and N = $N2,"
        echo "differenced and divided by $((N2 - N1)), so that start-up cancels out: one getput op is"
        echo "try_get + put, one pread op is one 64-byte read through the page-cache model. See"
        echo "\`instructions.csv\`."
        echo
        echo "| workload | scheme | instructions / op |"
        echo "|---|---|---:|"
        tail -n +2 "$csv" | awk -F, '{printf "| %s | %s | %s |\n", $1, $2, $3}'
    } >> "$OUT/RESULTS.md"
else
    echo "== callgrind skipped (CALLGRIND=0 or no valgrind): no instruction counts"
fi

load_after=$(loadavg)
echo "load average after the run: $load_after" >> "$OUT/machine.txt"
{
    echo
    echo "## Conditions"
    echo
    echo "- run by \`$run_by\` (profile $PROFILE), $measured s of measurement against an estimate of $total s"
    echo "- load average (1, 5, 15 min) before the run: $load_before; after: $load_after"
    echo "- machine details: \`machine.txt\`"
    if [ -n "$NOTE" ]; then
        echo
        echo "## Note from whoever ran it"
        echo
        echo "$NOTE"
    fi
} >> "$OUT/RESULTS.md"

echo "== done: $OUT ($measured s of measurement, estimated $total s)"
ls -l "$OUT"
if [ "$status" != 0 ]; then
    echo "run-full.sh: a sweep exited with status $status (see the notes columns)" >&2
fi
exit "$status"
