import PolicyDiagnostics
import ProtocolModel
import ProtocolReplay
import RuleTable
import XenstoreTrace

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `xen-policy replay`: loads the rules (a compiled rule table, or protocol descriptions compiled on
/// the fly), streams the trace through the reference checker and collects what it found.
public struct ReplayPipeline: Sendable {
    public var searchPaths: [String]
    /// Rule tables are small; the bound stops a hostile input early.
    public var maximumTableSize = 64 << 20

    public init(searchPaths: [String] = []) {
        self.searchPaths = searchPaths
    }

    /// What to replay.
    public struct Request: Sendable {
        /// A rule table (`.xsrt`) or protocol descriptions (`.xpd`).
        public var rules: [String]
        public var trace: String
        public var traceFormat: TraceFormat?
        public var labels: [Int: String]
        /// Where to report while the trace is read, for a live log; `nil` to report at the end only.
        public var stream: Stream?

        public init(
            rules: [String], trace: String, traceFormat: TraceFormat? = nil, labels: [Int: String] = [:], stream: Stream? = nil
        ) {
            self.rules = rules
            self.trace = trace
            self.traceFormat = traceFormat
            self.labels = labels
            self.stream = stream
        }
    }

    /// Reporting while the trace is read (`replay --stream`): messages are replayed as soon as the
    /// input pauses, not in batches of 1,024, and each finding and each diagnostic of a malformed
    /// line is handed over when it is found. The outcome still lists them all.
    public struct Stream: Sendable {
        /// Called with each finding when it is found, on the thread that called `run`.
        public var finding: @Sendable (Finding) -> Void
        /// Called with each diagnostic of a malformed trace line (up to the reader's limit), on the
        /// thread that reads the trace.
        public var diagnostic: @Sendable (Diagnostic) -> Void
        /// The trace's time now (milliseconds since the epoch), read once a second while the input
        /// is idle so that expectations expire on time in a quiet log; `nil` lets time pass only
        /// with the messages' timestamps.
        public var clock: (@Sendable () -> Int64)?

        public init(
            finding: @escaping @Sendable (Finding) -> Void, diagnostic: @escaping @Sendable (Diagnostic) -> Void,
            clock: (@Sendable () -> Int64)? = nil
        ) {
            self.finding = finding
            self.diagnostic = diagnostic
            self.clock = clock
        }

        /// This host's clock, `lag` milliseconds behind: a log's lines reach the reader a little after
        /// their timestamps (buffering, the timestamps' granularity), and a deadline must not pass
        /// before the message that meets it has been read.
        public static func hostClock(lag: Int64 = 2000) -> @Sendable () -> Int64 {
            {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000 - lag
            }
        }
    }

    /// What the replay found.
    public struct Outcome: Sendable {
        public var findings: [Finding]
        public var summary: ReplaySummary
        /// Diagnostics of the rules and of the trace (malformed lines).
        public var diagnostics: [Diagnostic]
        public var sources: SourceLines
        /// 0 clean, 1 violations, 2 unreadable rules or trace, or malformed trace lines.
        public var status: ExitStatus
        /// The trace format read (given or detected).
        public var traceFormat: TraceFormat?
        /// With `Request.stream`: the trace's diagnostics that went to `Stream.diagnostic` already,
        /// and so are not in `diagnostics` (which keeps the rules' and the note on those over the limit).
        public var streamedDiagnostics: [Diagnostic] = []
        /// Violations found (each once, however often it repeated); with `Request.stream` the
        /// findings themselves went to `Stream.finding` and `findings` is empty.
        public var violationCount = 0
        /// Other findings found (audits, evaluation failures).
        public var otherFindingCount = 0
        /// The findings that repeated, in the order found (with `Request.stream`, at most
        /// `ReplayEngine.Options.maximumEndedRepeats` of instances that ended).
        public var repeated: [Finding] = []
        /// With `Request.stream`: repeated findings of ended instances over that limit, not listed.
        public var unlistedRepeated = 0
        /// With `Request.stream`: findings printed but not kept to count their repeats, their
        /// instance keeping `ReplayEngine.Options.maximumFindingsPerInstance` already.
        public var beyondInstanceLimit = 0
        /// Processor time, in seconds, of the thread that ran the pipeline (loading the rules and
        /// replaying) and of the thread that read the trace ahead of it (`nil` if none did): the
        /// slower of the two sets the wall time (`docs/benchmarks.md`).
        public var replayingThreadSeconds = 0.0
        public var readingThreadSeconds: Double?
    }

    /// Loads the protocol definitions (and label admissions) the rules name.
    public func loadRules(_ paths: [String]) -> (
        protocols: [ProtocolDefinition], admissions: [ReplayEngine.Admission], diagnostics: [Diagnostic], sources: SourceLines,
        status: ExitStatus
    ) {
        guard !paths.isEmpty else {
            return ([], [], [.error("E0001", "no rules given", at: SourceLocation(file: "<command line>"))], SourceLines(), .usageOrIOError)
        }
        if paths.allSatisfy({ $0.hasSuffix(".xpd") }) {
            let checked = ProtocolPipeline(searchPaths: searchPaths).check(paths)
            let status: ExitStatus = checked.status == .success ? .success : .usageOrIOError
            // Warnings of the descriptions are the compiler's business; replay shows them only with errors.
            let diagnostics = status == .success ? [] : checked.diagnostics
            return (checked.definitions, [], diagnostics, checked.sources, status)
        }
        guard paths.count == 1 else {
            return (
                [], [],
                [.error("E0001", "give one rule table, or protocol descriptions (.xpd)", at: SourceLocation(file: paths[0]))],
                SourceLines(), .usageOrIOError
            )
        }
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(paths[0], limit: maximumTableSize)
        } catch {
            return ([], [], [InputFile.diagnostic(for: error, path: paths[0])], SourceLines(), .usageOrIOError)
        }
        let (table, diagnostics) = RuleTableDecoder.decode(bytes, file: paths[0])
        guard let table else { return ([], [], diagnostics, SourceLines(), .usageOrIOError) }
        let admissions = table.admissions.map { admission in
            ReplayEngine.Admission(
                protocolIndex: admission.protocolIndex, firstRole: admission.frontendRole, secondRole: admission.backendRole,
                pairs: admission.pairs.map { ($0.frontend, $0.backend) }, origin: admission.origins.first)
        }
        return (table.protocols, admissions, diagnostics, SourceLines(), .success)
    }

    /// Replays the trace.
    public func run(_ request: Request) -> Outcome {
        let started = ThreadProcessorTime.now()
        let rules = loadRules(request.rules)
        guard rules.status == .success else {
            return Outcome(
                findings: [], summary: ReplaySummary(), diagnostics: rules.diagnostics, sources: rules.sources, status: rules.status)
        }
        let reader: TraceReader
        do {
            if request.trace == "-" {
                // Standard input, read to its end (`zcat access.log.1.gz | xen-policy replay ... -`).
                reader = TraceReader(fileDescriptor: 0, options: TraceReader.Options(format: request.traceFormat, fileName: "<stdin>"))
            } else {
                reader = try TraceReader(path: request.trace, options: TraceReader.Options(format: request.traceFormat))
            }
        } catch {
            return Outcome(
                findings: [], summary: ReplaySummary(), diagnostics: rules.diagnostics + [error.diagnostic], sources: rules.sources,
                status: .usageOrIOError)
        }
        // A stream may run as long as xenstored does: its findings are printed as found, so the
        // engine keeps only those of live instances (whose repeats are still counted).
        let engine = ReplayEngine(
            protocols: rules.protocols,
            options: ReplayEngine.Options(
                labels: request.labels, admissions: rules.admissions, findingRetention: request.stream == nil ? .all : .live))
        if let stream = request.stream {
            engine.findingHandler = stream.finding
            reader.diagnosticHandler = stream.diagnostic
        }
        // The trace is parsed on a second thread while the engine replays the events before it.
        engine.replay(reader, live: request.stream != nil, clock: request.stream?.clock)
        engine.finish()
        let traceDiagnostics = reader.diagnostics
        let status: ExitStatus =
            reader.errorCount > 0 ? .usageOrIOError : engine.hasViolations ? .inputError : .success
        var outcome = Outcome(
            findings: engine.findings, summary: engine.summary, diagnostics: rules.diagnostics + traceDiagnostics, sources: rules.sources,
            status: status, traceFormat: reader.format)
        outcome.violationCount = engine.violationCount
        outcome.otherFindingCount = engine.otherFindingCount
        outcome.repeated = engine.repeatedFindings
        outcome.unlistedRepeated = engine.unlistedRepeatedFindings
        outcome.beyondInstanceLimit = engine.findingsBeyondInstanceLimit
        if request.stream != nil {
            let streamed = reader.keptDiagnosticCount
            outcome.streamedDiagnostics = Array(traceDiagnostics.prefix(streamed))
            outcome.diagnostics = rules.diagnostics + traceDiagnostics.dropFirst(streamed)
        }
        outcome.replayingThreadSeconds = ThreadProcessorTime.now() - started
        outcome.readingThreadSeconds = reader.readingThreadProcessorTime
        return outcome
    }
}
