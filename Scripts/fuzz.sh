#!/usr/bin/env bash
# Builds the libFuzzer harnesses in Fuzz/ (with AddressSanitizer) and runs them (docs/fuzzing.md).
#
#   Scripts/fuzz.sh [--seconds N] [--corpus DIR] [--no-build] [--jobs N] [HARNESS...]
#
# HARNESS is one of trace, rule-table, blob, map, protocol, policy-xml, lint, diff (default: all, one
# after the other).
# Each runs for N seconds (default 300) with a 5 s timeout per input and a 2 GB memory limit. The
# corpus of harness H is DIR/H (default DIR: a new temporary directory), seeded from the repository's
# examples and fixtures when empty; crashes, timeouts and out-of-memory inputs are written to
# DIR/H-artifacts/. FUZZ_SCRATCH names the build directory (default /tmp/xen-policy-fuzz-scratch);
# --jobs N builds with N compiler processes (`swift build -j N`; default: one per processor).
# Extra libFuzzer options may follow `--` (e.g. `-- -jobs=2 -workers=2`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=300
corpus=""
build=1
jobs=()
harnesses=()
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --corpus) corpus="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --jobs) jobs=(-j "$2"); shift 2 ;;
    --help | -h) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    trace | rule-table | blob | map | protocol | policy-xml | lint | diff) harnesses+=("$1"); shift ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=(trace rule-table blob map protocol policy-xml lint diff)
[ -n "$corpus" ] || corpus=$(mktemp -d /tmp/xen-policy-fuzz-corpus.XXXXXX)
scratch=${FUZZ_SCRATCH:-/tmp/xen-policy-fuzz-scratch}

product() {
    case "$1" in
    trace) echo FuzzTrace ;;
    rule-table) echo FuzzRuleTable ;;
    blob) echo FuzzBlob ;;
    map) echo FuzzMap ;;
    protocol) echo FuzzProtocol ;;
    policy-xml) echo FuzzPolicyXML ;;
    lint) echo FuzzLint ;;
    diff) echo FuzzDiff ;;
    esac
}

if [ "$build" = 1 ]; then
    # Both spellings are needed. `--sanitize fuzzer` makes SwiftPM compile executables with
    # -parse-as-library and link libFuzzer's main (with only `-Xswiftc -sanitize=fuzzer` it renames an
    # entry point the harnesses do not have, and the link fails); but SwiftPM compiles with
    # -sanitize=address only, so `-Xswiftc -sanitize=fuzzer,address` adds the coverage instrumentation
    # (without it libFuzzer runs blind: "no interesting inputs were found"). One product at a time:
    # building the whole package would build the root package's executables as libraries too, and
    # their top-level code does not compile that way.
    for harness in "${harnesses[@]}"; do
        (cd Fuzz && swift build -c release ${jobs[@]+"${jobs[@]}"} --scratch-path "$scratch" --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address \
            --product "$(product "$harness")")
    done
fi
bin="$scratch/release"

seeds() {
    case "$1" in
    trace) ls Examples/traces/* Tests/XenstoreTraceTests/Fixtures/* ;;
    rule-table) ls Fuzz/Seeds/rule-table/*.xsrt ;;
    blob) ls Tests/XenPolicyKitTests/Conformance/expected/*.bin ;;
    map) ls Tests/XenPolicyKitTests/Conformance/expected/*.map ;;
    protocol) ls Examples/protocols/*.xpd Tests/*/Fixtures/*.xpd ;;
    policy-xml)
        ls Examples/policies/*.xml Examples/policies/xen302/*.xml Tests/XenPolicyKitTests/Conformance/cases/*.xml \
            Tests/*/Fixtures/*.xml Tests/PolicyReaderTests/Fixtures/minidom/*.xml
        ;;
    lint)
        ls Examples/policies/*.xml Tests/XenPolicyKitTests/Conformance/cases/xen3[01]*.xml \
            Tests/XenPolicyKitTests/Conformance/cases/xen410-*.xml Tests/*/Fixtures/*.xml Examples/protocols/*.xpd \
            Tests/*/Fixtures/*.xpd Fuzz/Seeds/lint/*
        ;;
    diff) ls Examples/policies/*.xml Examples/protocols/*.xpd Fuzz/Seeds/rule-table/*.xsrt ;;
    esac
}

# Seeds of two inputs, joined with the line the harnesses split at (FuzzSupport.separator): one pair
# a line, "FIRST SECOND".
pairs() {
    local cases=Tests/XenPolicyKitTests/Conformance/cases
    case "$1" in
    lint)
        for policy in "$cases"/xen302-*-security_policy.xml Examples/policies/xen302/*-security_policy.xml; do
            echo "$policy ${policy%-security_policy.xml}-security_label_template.xml"
        done
        ;;
    diff)
        echo "Examples/policies/mini.xml Tests/PolicyDiffTests/Fixtures/mini-widened.xml"
        echo "Examples/policies/xm-test.xml Examples/policies/xm-test-update.xml"
        echo "Examples/policies/xm-test.xml Tests/PolicyDiffTests/Fixtures/xm-test-reordered.xml"
        echo "$cases/xen410-xm-test.xml $cases/xen410-xm-test-new.xml"
        echo "$cases/xen304-ste-client_v1.xml $cases/xen304-chwall_ste-client_v1.xml"
        echo "$cases/xen410-client_v1.xml Examples/policies/client_v1-xen304.xml"
        echo "Examples/protocols/vbd.xpd Tests/ProtocolCheckerTests/Fixtures/vbd.xpd"
        echo "Examples/protocols/xenbus.xpd Tests/ProtocolCheckerTests/Fixtures/xenbus.xpd"
        echo "Examples/protocols/vif.xpd Examples/protocols/vbd.xpd"
        echo "Fuzz/Seeds/rule-table/vbd.xsrt Examples/protocols/vbd.xpd"
        echo "Fuzz/Seeds/rule-table/vbd.xsrt Fuzz/Seeds/rule-table/all-xm-test.xsrt"
        echo "Fuzz/Seeds/rule-table/console.xsrt Fuzz/Seeds/rule-table/vfb.xsrt"
        ;;
    esac
}

for harness in "${harnesses[@]}"; do
    dir="$corpus/$harness"
    artifacts="$corpus/$harness-artifacts"
    mkdir -p "$dir" "$artifacts"
    if [ -z "$(ls -A "$dir")" ]; then
        seeds "$harness" | while read -r seed; do cp "$seed" "$dir/"; done
        pairs "$harness" | while read -r first second; do
            { cat "$first"; printf '\n--8<--\n'; cat "$second"; } >"$dir/pair-$(basename "$first")-$(basename "$second")"
        done
    fi
    echo "fuzz.sh: $harness for ${seconds}s, corpus $dir, artifacts $artifacts" >&2
    # The harnesses find Examples/ through XEN_POLICY_ROOT. Leak checking is off: LeakSanitizer
    # cannot see the references Swift keeps in the spare bits of enum payloads and reports the
    # objects behind them (docs/fuzzing.md); set ASAN_OPTIONS to override. Swift's own backtracer is
    # off: libFuzzer and AddressSanitizer report the crash, and the backtracer can take minutes.
    status=0
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0} SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no} XEN_POLICY_ROOT="$root" "$bin/$(product "$harness")" "$dir" \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -detect_leaks=0 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 ${extra[@]+"${extra[@]}"} || status=$?
    if [ "$status" != 0 ]; then
        echo "fuzz.sh: $harness stopped with status $status; the input is in $artifacts" >&2
        exit "$status"
    fi
done
echo "fuzz.sh: done; corpora in $corpus" >&2
