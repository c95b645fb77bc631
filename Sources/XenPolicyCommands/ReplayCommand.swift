import ArgumentParser
import PolicyDiagnostics
import ProtocolReplay
import XenPolicyKit
import XenstoreTrace

#if canImport(Glibc)
    import Glibc
#endif

/// Output formats of `replay`.
enum ReplayFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif, github
}

/// `--trace-format`.
enum TraceFormatOption: String, ExpressibleByArgument, CaseIterable {
    case auto, oxenstored, cxenstored, jsonl

    var format: TraceFormat? {
        switch self {
        case .auto: nil
        case .oxenstored: .oxenstored
        case .cxenstored: .cxenstored
        case .jsonl: .jsonLines
        }
    }
}

/// `xen-policy replay`.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a xenstore trace against protocol rules and report who broke them.",
        discussion: """
            The rules are a rule table (xen-policyc compile --rules OUT.xsrt PROTO.xpd...) or protocol \
            descriptions (.xpd, given with --protocols or among the arguments), compiled on the fly. The \
            trace is an oxenstored access log, a cxenstored trace (xenstored -T) or JSON lines, from a file \
            or, as '-', from standard input, read to its end (zcat log.gz | xen-policy replay --rules T -); the \
            format is detected from the first line unless --trace-format names it. Each violation names the trace \
            line, the domain and its role, the protocol instance, the rule and where the rule was written. \
            See docs/replay.md for the semantics.

            With --stream, each finding is printed as soon as it is found, and messages are replayed as they \
            arrive: follow a live log with tail -F /var/log/xenstored-access.log | xen-policy replay --stream \
            --rules T -. With --format json it prints JSON lines: one object per finding, then one with the counts; \
            with --format github, one workflow annotation per finding as found.

            --format sarif prints a SARIF 2.1.0 log (each finding at its trace line, with the rule's place in \
            the description as a related location); --format github prints GitHub workflow annotations, then \
            the summary line.

            Exit status: 0 the trace is clean (audit findings do not count), 1 it has violations, 2 \
            unreadable rules or trace, or malformed trace lines (their diagnostics are printed on stderr).
            """
    )

    @Option(help: "The rule table, or a protocol description (.xpd); repeatable for descriptions.")
    var rules: [String] = []

    @Option(
        name: .customLong("protocols"), parsing: .upToNextOption,
        help: "Protocol descriptions (.xpd) to compile on the fly instead of a rule table.")
    var protocols: [String] = []

    @Option(name: .customShort("I"), help: "A directory to search for imported libraries (with .xpd rules).")
    var searchPaths: [String] = []

    @Option(name: .customLong("label"), help: "The ACM VM label of a domain, DOMID=LABEL (repeatable), for admission checks.")
    var labels: [String] = []

    @Option(
        name: .customLong("labels"),
        help: "A file of domain labels, a DOMID=LABEL line each (repeatable; --label overrides it).")
    var labelFiles: [String] = []

    @Option(help: "Output: text, json, sarif or github (workflow annotations) (on stdout).")
    var format: ReplayFormat = .text

    @Flag(help: "Print each finding when it is found (a live log); with --format json, as JSON lines.")
    var stream = false

    @Flag(
        name: .customLong("live-clock"),
        help: "With --stream: while the input is idle, let time run with this host's clock (2 s behind), for a log written here now.")
    var liveClock = false

    @Option(name: .customLong("trace-format"), help: "The trace format: auto, oxenstored, cxenstored or jsonl.")
    var traceFormat: TraceFormatOption = .auto

    @Option(help: "Colour diagnostics on stderr: auto, always or never.")
    var color: ColorMode = .auto

    @Argument(help: "The trace, '-' for standard input (and, optionally, protocol descriptions ending in .xpd).")
    var inputs: [String] = []

    // `--protocols` takes every argument up to the next option, so a trace written after the
    // descriptions lands there too: sort by extension.
    private var descriptions: [String] { rules + (protocols + inputs).filter { $0.hasSuffix(".xpd") } }
    private var traces: [String] { (protocols + inputs).filter { !$0.hasSuffix(".xpd") } }

    func validate() throws {
        guard traces.count == 1 else {
            throw ValidationError(traces.isEmpty ? "give the trace to replay" : "give one trace (found \(traces.count))")
        }
        guard !descriptions.isEmpty else { throw ValidationError("give the rules: --rules TABLE or --protocols PROTO.xpd...") }
        guard !liveClock || stream else { throw ValidationError("--live-clock needs --stream: it is for a live log") }
        guard !stream || format != .sarif else {
            throw ValidationError("--format sarif is one document, written at the end: with --stream use json or github")
        }
        for label in labels { _ = try Self.parseLabel(label) }
    }

    /// Seconds with three decimals, without Foundation's formatting.
    static func seconds(_ value: Double) -> String {
        let milliseconds = Int((value * 1000).rounded())
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    static func parseLabel(_ text: String) throws -> (Int, String) {
        guard let equals = text.firstIndex(of: "="), let domid = Int(text[..<equals]), domid >= 0, domid < 65_536,
            text.index(after: equals) < text.endIndex
        else { throw ValidationError("--label takes DOMID=LABEL, such as 5=red; got '\(text)'") }
        return (domid, String(text[text.index(after: equals)...]))
    }

    func run() throws {
        var labelMap: [Int: String] = [:]
        for file in labelFiles {
            let (assigned, diagnostics, sources) = LabelAssignments.read(file)
            guard diagnostics.isEmpty else {
                DiagnosticPrinter(format: .text, color: color).emit(diagnostics, sources: sources, tool: "xen-policy")
                throw Exit(status: .usageOrIOError)
            }
            labelMap.merge(assigned) { _, later in later }
        }
        for label in labels {
            let (domid, name) = try Self.parseLabel(label)
            labelMap[domid] = name
        }
        let trace = traces[0]
        let shownTrace = trace == "-" ? "<stdin>" : trace
        let printer = DiagnosticPrinter(format: .text, color: color)
        let outcome = ReplayPipeline(searchPaths: searchPaths).run(
            ReplayPipeline.Request(
                rules: descriptions, trace: trace, traceFormat: traceFormat.format, labels: labelMap,
                stream: stream
                    ? Self.stream(
                        format: format, trace: shownTrace, annotatedTrace: trace, colored: printer.colored,
                        clock: liveClock ? ReplayPipeline.Stream.hostClock() : nil) : nil))
        if stream {
            // The trace's diagnostics went out as they were found; what is left is the rules' and the
            // note on diagnostics over the limit, and the count of them all.
            let renderer = TextDiagnosticRenderer(colored: printer.colored, sources: outcome.sources)
            Output.standardError(
                outcome.diagnostics.map(renderer.render).joined()
                    + TextDiagnosticRenderer.summary(of: outcome.streamedDiagnostics + outcome.diagnostics))
        } else {
            printer.emit(outcome.diagnostics, sources: outcome.sources, tool: "xen-policy")
        }
        if outcome.status == .usageOrIOError && outcome.traceFormat == nil && outcome.summary.messages == 0 {
            throw Exit(status: outcome.status)
        }
        switch (format, stream) {
        case (.json, false):
            let violations = outcome.findings.filter { $0.severity == .violation }
            let others = outcome.findings.filter { $0.severity != .violation }
            let document: JSONValue = .object([
                ("messages", .int(outcome.summary.messages)),
                ("violations", .array(violations.map(\.json))),
                ("findings", .array(others.map(\.json))),
                ("summary", Self.summaryJSON(outcome)),
            ])
            Output.standardOutput(document.rendered())
        case (.json, true):
            let repeated = outcome.repeated.map { finding -> JSONValue in
                .object([("line", .int(finding.line)), ("rule", .string(finding.rule)), ("repeats", .int(finding.repeats))])
            }
            var fields: [(String, JSONValue)] = [
                ("messages", .int(outcome.summary.messages)), ("violations", .int(outcome.violationCount)),
                ("findings", .int(outcome.otherFindingCount)), ("repeated", .array(repeated)),
            ]
            if outcome.unlistedRepeated > 0 { fields.append(("repeated_unlisted", .int(outcome.unlistedRepeated))) }
            if outcome.beyondInstanceLimit > 0 { fields.append(("beyond_instance_limit", .int(outcome.beyondInstanceLimit))) }
            fields.append(("summary", Self.summaryJSON(outcome)))
            let end: JSONValue = .object(fields)
            Output.standardOutput(end.renderedOnOneLine())
        case (.text, false):
            Output.standardOutput(outcome.findings.map { Self.text($0, trace: shownTrace) }.joined() + Self.summaryText(outcome))
        case (.sarif, _):
            Output.standardOutput(
                ReplayFindingRenderer.sarif(
                    outcome.findings, trace: trace, messages: outcome.summary.messages, toolVersion: xenPolicyVersion))
        case (.github, false):
            Output.standardOutput(
                outcome.findings.map { ReplayFindingRenderer.github($0, trace: trace) }.joined() + Self.summaryText(outcome))
        case (.github, true):
            var out = outcome.repeated.map { ReplayFindingRenderer.githubRepeat($0, trace: trace) }.joined()
            out += Self.unlistedNote(outcome, trace: shownTrace)
            Output.standardOutput(out + Self.summaryText(outcome))
        case (.text, true):
            var out = ""
            for finding in outcome.repeated {
                out +=
                    "\(TerminalText.visible(shownTrace)):\(finding.line): note: \(finding.rule) (\(finding.severity.rawValue)) "
                    + "repeated \(finding.repeats) more time\(finding.repeats == 1 ? "" : "s")\n"
            }
            out += Self.unlistedNote(outcome, trace: shownTrace)
            Output.standardOutput(out + Self.summaryText(outcome))
        }
        if getenv("XEN_POLICY_THREAD_TIMES") != nil {
            // For the benchmarks (docs/benchmarks.md): which thread sets the wall time.
            let reading = outcome.readingThreadSeconds.map { "\(Self.seconds($0)) s" } ?? "none"
            Output.standardError(
                "thread times: replaying \(Self.seconds(outcome.replayingThreadSeconds)) s, reading \(reading) (processor time)\n")
        }
        if outcome.status != .success { throw Exit(status: outcome.status) }
    }

    /// With `--stream`: the notes on repeated findings of ended instances beyond those listed, and on
    /// findings not kept to count repeats (their instance had too many), if any.
    static func unlistedNote(_ outcome: ReplayPipeline.Outcome, trace: String) -> String {
        var note = ""
        if outcome.unlistedRepeated > 0 {
            note +=
                "\(TerminalText.visible(trace)): note: \(outcome.unlistedRepeated) more repeated finding"
                + "\(outcome.unlistedRepeated == 1 ? "" : "s") of ended instances not listed\n"
        }
        if outcome.beyondInstanceLimit > 0 {
            let count = outcome.beyondInstanceLimit
            note +=
                "\(TerminalText.visible(trace)): note: \(count) finding\(count == 1 ? "" : "s") printed without counting "
                + "\(count == 1 ? "its" : "their") repeats: \(count == 1 ? "its instance" : "their instances") had "
                + "\(ReplayEngine.Options().maximumFindingsPerInstance) findings already\n"
        }
        return note
    }

    /// What `--stream` prints as the replay goes: findings on stdout, trace diagnostics on stderr.
    static func stream(
        format: ReplayFormat, trace: String, annotatedTrace: String, colored: Bool, clock: (@Sendable () -> Int64)?
    ) -> ReplayPipeline.Stream {
        ReplayPipeline.Stream(
            finding: { finding in
                switch format {
                case .json: Output.standardOutput(finding.json.renderedOnOneLine())
                case .text: Output.standardOutput(text(finding, trace: trace))
                case .github: Output.standardOutput(ReplayFindingRenderer.github(finding, trace: annotatedTrace))
                case .sarif: break  // refused with --stream by `validate()`
                }
            },
            diagnostic: { diagnostic in
                // A trace line's diagnostic has no source excerpt: the trace is not kept.
                Output.standardError(TextDiagnosticRenderer(colored: colored, sources: SourceLines()).render(diagnostic))
            }, clock: clock)
    }

    static func summaryJSON(_ outcome: ReplayPipeline.Outcome) -> JSONValue {
        let summary = outcome.summary
        return .object([
            ("instances_created", .int(summary.instancesCreated)), ("instances_live", .int(summary.instancesLive)),
            ("pending_expectations", .int(summary.pendingExpectations)),
            ("uncommitted_messages", .int(summary.uncommittedMessages)),
            ("trace_format", outcome.traceFormat.map { .string($0.rawValue) } ?? .null),
        ])
    }

    /// One finding: where, what, whom it blames and which rule says so.
    static func text(_ finding: Finding, trace: String) -> String {
        // Messages quote paths and values from the trace: shown with their control characters visible.
        var out =
            "\(TerminalText.visible(trace)):\(finding.line): \(finding.severity.rawValue): \(TerminalText.visible(finding.message))\n"
        let domain = finding.domid >= 0 ? " (domain \(finding.domid))" : ""
        let instance = finding.instance.isEmpty ? "" : ", \(finding.instance)"
        out += "    blame: \(TerminalText.visible(finding.role))\(domain)\(TerminalText.visible(instance))\n"
        out += "    rule: \(finding.rule) (\(finding.origin))"
        if finding.repeats > 0 { out += "; repeated \(finding.repeats) more time\(finding.repeats == 1 ? "" : "s")" }
        return out + "\n"
    }

    /// The closing line: messages, instances, violations, other findings, pending expectations.
    static func summaryText(_ outcome: ReplayPipeline.Outcome) -> String {
        var out = ""
        let summary = outcome.summary
        let violations = outcome.violationCount
        let others = outcome.otherFindingCount
        out +=
            "\(summary.messages) message\(summary.messages == 1 ? "" : "s"), \(summary.instancesCreated) instance"
            + "\(summary.instancesCreated == 1 ? "" : "s"): \(violations) violation\(violations == 1 ? "" : "s")"
        if others > 0 { out += ", \(others) other finding\(others == 1 ? "" : "s")" }
        if summary.pendingExpectations > 0 {
            out +=
                "; \(summary.pendingExpectations) expectation\(summary.pendingExpectations == 1 ? "" : "s") still pending at the end of the trace"
        }
        out += "\n"
        return out
    }
}
