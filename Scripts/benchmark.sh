#!/usr/bin/env bash
# Scale benchmark of xen-policyc (see docs/benchmarks.md).
#
#     bash Scripts/benchmark.sh [--labels N] [--types T] [--runs R] [--seed S] [--map] [--no-build] [--keep]
#
# Builds the release binary, generates a synthetic policy (default 10,000 labels, 1,000 types) in a
# temporary directory, then runs `xmllint --noout --schema Grammar/acm/acm-g3b.xsd` and
# `xen-policyc compile` on it R times each (after one untimed warm-up run of each) and reports the
# median wall time, CPU time (user + system) and peak RSS of each, the ratios against the goals and
# the blob size. Other processes on the machine inflate wall times: it prints the load average
# before and after so that a disturbed run can be recognised.
#
# It is a measurement, not a test: it exits 0 whether or not the goals are met. It exits 2 only when
# it cannot measure (bad arguments, a missing tool, a failed build, generation or run).
# It installs nothing; it needs python3, xmllint (Debian: libxml2-utils) and GNU time (/usr/bin/time,
# Debian: time).
set -euo pipefail

labels=10000
types=1000
runs=5
seed=1
with_map=0
build=1
keep=0

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

die() {
    echo "benchmark: $*" >&2
    exit 2
}

positive() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"; }

while (($#)); do
    case "$1" in
    --labels) [[ $# -ge 2 ]] || die "--labels needs a value"; positive "$1" "$2"; labels=$2; shift 2 ;;
    --types) [[ $# -ge 2 ]] || die "--types needs a value"; positive "$1" "$2"; types=$2; shift 2 ;;
    --runs) [[ $# -ge 2 ]] || die "--runs needs a value"; positive "$1" "$2"; runs=$2; shift 2 ;;
    --seed) [[ $# -ge 2 && "$2" =~ ^-?[0-9]+$ ]] || die "--seed needs an integer"; seed=$2; shift 2 ;;
    --map) with_map=1; shift ;;
    --no-build) build=0; shift ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
    esac
done
((types >= 2)) || die "--types must be at least 2"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
schema="$root/Grammar/acm/acm-g3b.xsd"

# --- Tools -----------------------------------------------------------------------------------------
missing=0
if ! command -v xmllint >/dev/null 2>&1; then
    echo "benchmark: xmllint not found; install it with: apt-get install -y libxml2-utils" >&2
    missing=1
fi
if [[ ! -x /usr/bin/time ]] || ! /usr/bin/time -f '%e %M' true >/dev/null 2>&1; then
    echo "benchmark: GNU time (/usr/bin/time) not found; install it with: apt-get install -y time" >&2
    missing=1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "benchmark: python3 not found; install it with: apt-get install -y python3" >&2
    missing=1
fi
command -v swift >/dev/null 2>&1 || { echo "benchmark: swift not found (Swift 6.3 toolchain)" >&2; missing=1; }
((missing == 0)) || exit 2

# --- Build -----------------------------------------------------------------------------------------
cd "$root"
if ((build)); then
    echo "== swift build -c release"
    build_log="$(mktemp "${TMPDIR:-/tmp}/xen-policy-build.XXXXXX")"
    if ! swift build -c release >"$build_log" 2>&1; then
        cat "$build_log" >&2
        rm -f "$build_log"
        die "release build failed"
    fi
    tail -n 1 "$build_log"
    rm -f "$build_log"
fi
compiler="$(swift build -c release --show-bin-path)/xen-policyc"
[[ -x "$compiler" ]] || die "no release binary at $compiler (run without --no-build)"

# --- Input -----------------------------------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/xen-policy-bench.XXXXXX")"
if ((keep)); then
    echo "== keeping $work"
else
    trap 'rm -rf "$work"' EXIT
fi
policy="$work/policy.xml"
python3 "$root/Scripts/generate-synthetic-policy.py" --labels "$labels" --types "$types" --seed "$seed" -o "$policy" ||
    die "generating the policy failed"

xmllint_command=(xmllint --noout --schema "$schema" "$policy")
compile_command=("$compiler" compile "$policy" -o "$work/policy.bin")
((with_map)) && compile_command+=(--map "$work/policy.map")

# --- Measurement -----------------------------------------------------------------------------------
# One run: wall time from a nanosecond clock around the process (GNU time's %e has only 10 ms
# resolution); peak RSS (%M, KiB) and CPU seconds (%U + %S) from GNU time.
# Appends "wall-seconds peak-kib cpu-seconds" to $1.
measure() {
    local results=$1
    shift
    local start end
    start=$(date +%s%N)
    if ! /usr/bin/time -f '%e %M %U %S' -o "$work/time.out" "$@" >"$work/run.out" 2>&1; then
        cat "$work/run.out" >&2
        die "command failed: $*"
    fi
    end=$(date +%s%N)
    tail -n 1 "$work/time.out" |
        awk -v ns=$((end - start)) '{ printf "%.4f %d %.2f\n", ns / 1e9, $2, $3 + $4 }' >>"$results"
}

# The median of column $2 of file $1 (the mean of the two middle values for an even count).
median() {
    sort -g -k "$2,$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== input: $labels labels, $types types, seed $seed: $(stat -c %s "$policy") bytes of XML"
for name in xmllint compile; do
    : >"$work/$name.times"
done
# Warm-up (page cache, dynamic loader), not counted.
measure "$work/warmup" "${xmllint_command[@]}"
measure "$work/warmup" "${compile_command[@]}"
for ((i = 1; i <= runs; i++)); do
    measure "$work/xmllint.times" "${xmllint_command[@]}"
    measure "$work/compile.times" "${compile_command[@]}"
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

xmllint_time=$(median "$work/xmllint.times" 1)
xmllint_kib=$(median "$work/xmllint.times" 2)
xmllint_cpu=$(median "$work/xmllint.times" 3)
compile_time=$(median "$work/compile.times" 1)
compile_kib=$(median "$work/compile.times" 2)
compile_cpu=$(median "$work/compile.times" 3)
blob_bytes=$(stat -c %s "$work/policy.bin")
ratio=$(awk -v a="$compile_time" -v b="$xmllint_time" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
cpu_ratio=$(awk -v a="$compile_cpu" -v b="$xmllint_cpu" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a (xmllint under 10 ms CPU)" }')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "== machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
echo "   $(swift --version 2>/dev/null | head -n 1)"
echo "   $(xmllint --version 2>&1 | head -n 1)"
echo "   load average: $load_before before, $load_after after"
echo
label="xen-policyc compile"
((with_map)) && label="xen-policyc compile --map"
echo "medians of $runs runs:"
printf '  %-32s %9s %9s %14s\n' "" "wall" "CPU" "peak RSS"
printf '  %-32s %7.3f s %7.2f s %10s MiB\n' "xmllint --noout --schema (G3b)" "$xmllint_time" "$xmllint_cpu" "$(mib "$xmllint_kib")"
printf '  %-32s %7.3f s %7.2f s %10s MiB\n' "$label" "$compile_time" "$compile_cpu" "$(mib "$compile_kib")"
echo "every run (wall s, peak KiB, CPU s):"
echo "  xmllint: $(awk '{ printf "%s(%s %s %s)", (NR > 1 ? " " : ""), $1, $2, $3 }' "$work/xmllint.times")"
echo "  compile: $(awk '{ printf "%s(%s %s %s)", (NR > 1 ? " " : ""), $1, $2, $3 }' "$work/compile.times")"
echo
echo "blob: $blob_bytes bytes ($(awk -v b="$blob_bytes" 'BEGIN { printf "%.1f MB, %.1f MiB", b / 1e6, b / 1048576 }'))"
time_ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 3 ? "met" : "NOT met") }')
memory_ok=$(awk -v k="$compile_kib" 'BEGIN { print (k < 64 * 1024 ? "met" : "NOT met") }')
echo "time:   compile / xmllint = ${ratio}x wall   (goal <= 3x: $time_ok); CPU time ratio $cpu_ratio"
echo "memory: compile peak RSS = $(mib "$compile_kib") MiB   (goal < 64 MiB: $memory_ok)"
exit 0
