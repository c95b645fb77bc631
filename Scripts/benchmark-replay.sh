#!/usr/bin/env bash
# Scale benchmark of the reference checker, `xen-policy replay` (see docs/benchmarks.md, "replay").
#
#     bash Scripts/benchmark-replay.sh [--messages N] [--live L] [--runs R] [--seed S] [--pause P] [--no-build] [--keep]
#
# Builds the release binaries, compiles Examples/protocols/*.xpd into a rule table, generates an
# oxenstored access log of N messages (default 1,000,000) over many concurrently live device
# instances (default 2,000 at a time) with Scripts/generate-trace.py, and a second one of 2N
# messages with the same number of live instances. Then it runs `awk '{n++} END {print n}'` (the
# system's awk, and also mawk and gawk when they are installed) and `xen-policy replay --rules` on
# the N-message trace R times each (after an untimed warm-up), and the replay once more on the
# 2N-message trace, and reports the median wall time, CPU time (user + system) and peak RSS, the
# time ratios against awk (goal: at most 3x) and the peak RSS for N against 2N messages (goal: it
# does not grow with the length of the trace). It prints the load average before and after, since
# other processes inflate wall times. Before each timed run it pauses P seconds (default 0.5; 0 for
# none): on a virtual machine whose processors the host takes away when both stay busy, runs back
# to back measure that, not the replay (docs/benchmarks.md, "Latest").
#
# It is a measurement, not a test: it exits 0 whether or not the goals are met. It exits 2 only when
# it cannot measure (bad arguments, a missing tool, a failed build, generation or run, or a replay
# that finds violations in the generated trace, which is clean by construction).
# It installs nothing; it needs python3, awk and GNU time (/usr/bin/time, Debian: time).
set -euo pipefail

messages=1000000
live=2000
runs=3
seed=1
build=1
keep=0
pause=0.5

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

die() {
    echo "benchmark-replay: $*" >&2
    exit 2
}

positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }

while (($#)); do
    case "$1" in
    --messages) [[ $# -ge 2 ]] || die "--messages needs a value"; positive "$1" "$2"; messages=$2; shift 2 ;;
    --live) [[ $# -ge 2 ]] || die "--live needs a value"; positive "$1" "$2"; live=$2; shift 2 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; positive "$1" "$2"; runs=$2; shift 2 ;;
    --seed) [[ $# -ge 2 && "$2" =~ ^-?[0-9]+$ ]] || die "--seed needs an integer"; seed=$2; shift 2 ;;
    --pause) [[ $# -ge 2 && "$2" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--pause needs a number of seconds"; pause=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# --- Tools -----------------------------------------------------------------------------------------
missing=0
if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time -f '%e %M' true >/dev/null 2>&1; then
    echo "benchmark-replay: GNU time (/usr/bin/time) not found; install it with: apt-get install -y time" >&2
    missing=1
fi
command -v python3 >/dev/null 2>&1 || { echo "benchmark-replay: python3 not found" >&2; missing=1; }
command -v awk >/dev/null 2>&1 || { echo "benchmark-replay: awk not found" >&2; missing=1; }
command -v swift >/dev/null 2>&1 || { echo "benchmark-replay: swift not found (Swift 6.3 toolchain)" >&2; missing=1; }
((missing == 0)) || exit 2

# --- Build -----------------------------------------------------------------------------------------
cd "$root"
if ((build)); then
    echo "== swift build -c release"
    build_log="$(mktemp "${TMPDIR:-/tmp}/xen-policy-build.XXXXXX")"
    if ! swift build -c release --product xen-policy >"$build_log" 2>&1 || ! swift build -c release --product xen-policyc >>"$build_log" 2>&1; then
        cat "$build_log" >&2
        rm -f "$build_log"
        die "release build failed"
    fi
    tail -n 1 "$build_log"
    rm -f "$build_log"
fi
bin="$(swift build -c release --show-bin-path)"
[[ -x "$bin/xen-policy" && -x "$bin/xen-policyc" ]] || die "no release binaries in $bin (run without --no-build)"

# --- Input -----------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/xen-policy-replay-bench.XXXXXX")"
if ((keep)); then
    echo "== keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
"$bin/xen-policyc" compile --rules "$work/rules.xsrt" Examples/protocols/*.xpd 2>"$work/compile.err" ||
    { cat "$work/compile.err" >&2; die "compiling the rule table failed"; }
trace="$work/trace.log"
double="$work/trace-2x.log"
python3 "$root/Scripts/generate-trace.py" --messages "$messages" --live "$live" --seed "$seed" -o "$trace" ||
    die "generating the trace failed"
python3 "$root/Scripts/generate-trace.py" --messages $((2 * messages)) --live "$live" --seed "$seed" -o "$double" ||
    die "generating the trace failed"

# --- Measurement -----------------------------------------------------------------------------------
# One run: wall time from a nanosecond clock around the process; peak RSS (%M, KiB) and CPU seconds
# (%U + %S) from GNU time. Appends "wall-seconds peak-kib cpu-seconds" to $1. Exit status 1 of the
# replay (violations) is accepted here and checked separately.
measure() {
    local results=$1
    shift
    local start end status=0
    sleep "$pause"
    start=$(date +%s%N)
    /usr/bin/time -f '%e %M %U %S' -o "$work/time.out" "$@" >"$work/run.out" 2>"$work/run.err" || status=$?
    end=$(date +%s%N)
    if ((status > 1)); then
        cat "$work/run.err" >&2
        die "command failed ($status): $*"
    fi
    tail -n 1 "$work/time.out" |
        awk -v ns=$((end - start)) '{ printf "%.4f %d %.2f\n", ns / 1e9, $2, $3 + $4 }' >>"$results"
}

# The median of column $2 of file $1 (the mean of the two middle values for an even count).
median() {
    sort -g -k "$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# XEN_POLICY_THREAD_TIMES makes the replay print each thread's processor time on stderr.
replay_command=(env XEN_POLICY_THREAD_TIMES=1 "$bin/xen-policy" replay --rules "$work/rules.xsrt" "$trace")
declare -a awks=(awk)
awk_names=("awk ($(basename "$(readlink -f "$(command -v awk)")"))")
for other in mawk gawk; do
    if command -v "$other" >/dev/null 2>&1 && [[ "$(readlink -f "$(command -v "$other")")" != "$(readlink -f "$(command -v awk)")" ]]; then
        awks+=("$other")
        awk_names+=("$other")
    fi
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== input: $messages messages ($(stat -c %s "$trace") bytes), $live live instances, seed $seed; 2x: $(stat -c %s "$double") bytes"
for ((a = 0; a < ${#awks[@]}; a++)); do : >"$work/awk$a.times"; done
: >"$work/replay.times"
: >"$work/replay2x.times"
: >"$work/threads.times"
# Warm-up (page cache, dynamic loader), not counted.
for tool in "${awks[@]}"; do measure "$work/warmup" "$tool" '{n++} END {print n}' "$trace"; done
measure "$work/warmup" "${replay_command[@]}"
tail -n 1 "$work/run.out" | grep -q ': 0 violations' || { cat "$work/run.out" >&2; die "the generated trace should replay clean"; }
replay_summary=$(tail -n 1 "$work/run.out")
for ((i = 1; i <= runs; i++)); do
    for ((a = 0; a < ${#awks[@]}; a++)); do measure "$work/awk$a.times" "${awks[$a]}" '{n++} END {print n}' "$trace"; done
    measure "$work/replay.times" "${replay_command[@]}"
    # "replaying-seconds reading-seconds" of the run.
    sed -n 's/^thread times: replaying \([0-9.]*\) s, reading \([0-9.]*\).*/\1 \2/p' "$work/run.err" >>"$work/threads.times"
done
measure "$work/replay2x.times" "$bin/xen-policy" replay --rules "$work/rules.xsrt" "$double"
tail -n 1 "$work/run.out" | grep -q ': 0 violations' || { cat "$work/run.out" >&2; die "the generated 2x trace should replay clean"; }
replay2x_summary=$(tail -n 1 "$work/run.out")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
replay_time=$(median "$work/replay.times" 1)
replay_kib=$(median "$work/replay.times" 2)
replay_cpu=$(median "$work/replay.times" 3)
replay2x_time=$(median "$work/replay2x.times" 1)
replay2x_kib=$(median "$work/replay2x.times" 2)
replay2x_cpu=$(median "$work/replay2x.times" 3)

echo "== machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "   $(swift --version 2>/dev/null | head -n 1)"
echo "   load average: $load_before before, $load_after after"
echo "   replay: $replay_summary"
echo "   replay 2x: $replay2x_summary"
echo
echo "medians of $runs runs:"
printf '  %-36s %9s %9s %14s\n' "" "wall" "CPU" "peak RSS"
for ((a = 0; a < ${#awks[@]}; a++)); do
    printf '  %-36s %7.3f s %7.2f s %10s MiB\n' "${awk_names[$a]} '{n++}' (N)" "$(median "$work/awk$a.times" 1)" \
        "$(median "$work/awk$a.times" 3)" "$(mib "$(median "$work/awk$a.times" 2)")"
done
printf '  %-36s %7.3f s %7.2f s %10s MiB\n' "xen-policy replay (N)" "$replay_time" "$replay_cpu" "$(mib "$replay_kib")"
printf '  %-36s %7.3f s %7.2f s %10s MiB\n' "xen-policy replay (2N, one run)" "$replay2x_time" "$replay2x_cpu" "$(mib "$replay2x_kib")"
if [[ -s "$work/threads.times" ]]; then
    echo "  replay (N), processor time of each thread (medians): replaying $(median "$work/threads.times" 1) s, reading $(median "$work/threads.times" 2) s"
fi
echo "every run (wall s, peak KiB, CPU s):"
for ((a = 0; a < ${#awks[@]}; a++)); do
    echo "  ${awk_names[$a]}: $(awk '{ printf "%s(%s %s %s)", (NR > 1 ? " " : ""), $1, $2, $3 }' "$work/awk$a.times")"
done
echo "  replay: $(awk '{ printf "%s(%s %s %s)", (NR > 1 ? " " : ""), $1, $2, $3 }' "$work/replay.times")"
echo
for ((a = 0; a < ${#awks[@]}; a++)); do
    awk_time=$(median "$work/awk$a.times" 1)
    ratio=$(awk -v a="$replay_time" -v b="$awk_time" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
    ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 3 ? "met" : "NOT met") }')
    echo "time:   replay / ${awk_names[$a]} = ${ratio}x wall   (goal <= 3x: $ok)"
done
growth=$(awk -v a="$replay2x_kib" -v b="$replay_kib" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
flat=$(awk -v g="$growth" 'BEGIN { print (g <= 1.10 ? "met" : "NOT met") }')
echo "memory: peak RSS $(mib "$replay_kib") MiB for N, $(mib "$replay2x_kib") MiB for 2N messages (x$growth; goal: no growth with trace length: $flat)"
exit 0
