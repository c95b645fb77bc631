import PolicyDiagnostics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a xenstore trace one line at a time and yields its messages as `TraceEvent`s.
///
/// The reader streams: it holds one buffer (256 KiB, growing only for a line longer than that, up to
/// `Options.maximumLineLength`) and at most `Options.maximumDiagnostics` diagnostics, so its memory
/// does not grow with the length of the trace. It never stops at a bad line: a malformed line gives
/// an error diagnostic and no event, a well-formed line it cannot fully use gives a warning, and every
/// line is counted in `statistics` (an event, empty, skipped for a `SkipReason`, or malformed).
///
///     let reader = try TraceReader(path: "xenstored-access.log")
///     while let event = reader.next() { ... }
///     for diagnostic in reader.diagnostics { ... }
///
/// The format is detected from the first non-empty line unless `Options.format` names it. A default
/// oxenstored access log shows writes made inside a transaction but not the transaction's end: treat
/// them as committed (see `TraceEvent`).
public final class TraceReader: Sequence, IteratorProtocol {
    /// How to read.
    public struct Options: Sendable {
        /// The format, or `nil` to detect it from the first non-empty line.
        public var format: TraceFormat?
        /// The name diagnostics give the trace (a path, or `<stdin>`).
        public var fileName: String
        /// How many diagnostics to keep; further ones are only counted (note N0801).
        public var maximumDiagnostics: Int
        /// Longer lines are skipped with error E0807 and never held in memory whole.
        public var maximumLineLength: Int
        /// Seconds east of UTC of the time zone cxenstored ran in: its trace shows local time.
        public var cxenstoredUTCOffsetSeconds: Int

        /// Creates options.
        public init(
            format: TraceFormat? = nil, fileName: String = "<trace>", maximumDiagnostics: Int = 1000,
            maximumLineLength: Int = 1 << 20, cxenstoredUTCOffsetSeconds: Int = 0
        ) {
            self.format = format
            self.fileName = fileName
            self.maximumDiagnostics = maximumDiagnostics
            self.maximumLineLength = maximumLineLength
            self.cxenstoredUTCOffsetSeconds = cxenstoredUTCOffsetSeconds
        }
    }

    /// Why a trace file could not be opened; `diagnostic` renders it (code E0001, like other inputs).
    public struct OpenError: Error, Sendable {
        public var path: String
        public var reason: String

        /// The diagnostic for this failure.
        public var diagnostic: Diagnostic {
            .error("E0001", "cannot open '\(path)': \(reason)", at: SourceLocation(file: path))
        }
    }

    private let options: Options
    private let buffer: LineBuffer
    @exclusivity(unchecked) private var parser: Parser?
    private let sink: BoundedDiagnostics
    @exclusivity(unchecked) private var finished = false

    /// The format being read: given, or detected once the first non-empty line has been read.
    @exclusivity(unchecked) public private(set) var format: TraceFormat?
    /// What the lines read so far amounted to.
    @exclusivity(unchecked) public private(set) var statistics = TraceStatistics()
    /// After `forEachBatch` read ahead on a second thread: the processor time that thread used, in
    /// seconds (`nil` when no second thread read).
    @exclusivity(unchecked) public internal(set) var readingThreadProcessorTime: Double?

    /// While `forEachBatch(readAhead:batchSize:pathsAsBytes:prepare:_:)` runs: the batch being
    /// filled, which `appendNext()` adds to (the collector puts the next one here when it hands one
    /// over), and whether it keeps paths as bytes (see `EventBatch.pathBytes(at:)`).
    @exclusivity(unchecked) var fillingBatch: EventBatch? { didSet { fillingBatchChanges &+= 1 } }
    @exclusivity(unchecked) var keepsPathsAsBytes = false
    /// Counts the changes of `fillingBatch`, so that `fillBatch()` sees one (made while it waited for
    /// input) by comparing integers instead of loading and releasing the reference for every line.
    @exclusivity(unchecked) private var fillingBatchChanges = 0

    /// The diagnostics so far (at most `maximumDiagnostics`, plus a note if more were counted).
    public var diagnostics: [Diagnostic] { sink.all }

    /// Called with each diagnostic of a malformed line as soon as it is kept (within
    /// `Options.maximumDiagnostics`), on the thread that reads the trace: with read-ahead
    /// (`forEachBatch`), not the caller's. `diagnostics` still holds them all at the end.
    public var diagnosticHandler: ((Diagnostic) -> Void)? {
        get { sink.onKept }
        set { sink.onKept = newValue }
    }

    /// How many diagnostics were kept (the first ones of `diagnostics`; a note on those over the
    /// limit may follow).
    public var keptDiagnosticCount: Int { sink.kept.count }

    /// Set by `forEachBatch(handOverWhenIdle: true)` while it runs.
    var beforeWaiting: (() -> Void)? {
        get { buffer.beforeWaiting }
        set { buffer.beforeWaiting = newValue }
    }

    /// Set by `forEachBatch(handOverWhenIdle: true, idleTicks: true)` while it runs.
    var whileWaiting: (() -> Void)? {
        get { buffer.whileWaiting }
        set { buffer.whileWaiting = newValue }
    }

    private enum Parser {
        case oxenstored(OxenstoredLogParser)
        case cxenstored(CxenstoredTraceParser)
        case jsonLines(JSONLinesParser)
    }

    /// Reads a trace held in memory.
    public init(bytes: [UInt8], options: Options = Options()) {
        self.options = options
        buffer = LineBuffer(source: .bytes(bytes, position: 0), maximumLineLength: options.maximumLineLength)
        sink = BoundedDiagnostics(file: options.fileName, limit: options.maximumDiagnostics)
        select(options.format)
    }

    /// Reads from a file descriptor (a file, pipe or standard input) until end of file.
    /// - Parameter closeWhenDone: close `fileDescriptor` at end of file or when the reader goes away.
    public init(fileDescriptor: Int32, closeWhenDone: Bool = false, options: Options = Options()) {
        self.options = options
        buffer = LineBuffer(source: .descriptor(fileDescriptor, owned: closeWhenDone), maximumLineLength: options.maximumLineLength)
        sink = BoundedDiagnostics(file: options.fileName, limit: options.maximumDiagnostics)
        select(options.format)
    }

    /// Opens and reads the file at `path`; diagnostics name it `path` unless `options.fileName` is set.
    public convenience init(path: String, options: Options = Options()) throws(OpenError) {
        var options = options
        if options.fileName == Options().fileName { options.fileName = path }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OpenError(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw OpenError(path: path, reason: "it is a directory")
        }
        self.init(fileDescriptor: fd, closeWhenDone: true, options: options)
    }

    private func select(_ format: TraceFormat?) {
        self.format = format
        switch format {
        case .oxenstored: parser = .oxenstored(OxenstoredLogParser())
        case .cxenstored: parser = .cxenstored(CxenstoredTraceParser(utcOffsetSeconds: options.cxenstoredUTCOffsetSeconds))
        case .jsonLines: parser = .jsonLines(JSONLinesParser())
        case nil: parser = nil
        }
    }

    /// The next event, or `nil` at the end of the trace (or when its format cannot be recognised).
    public func next() -> TraceEvent? {
        while let (line, number) = nextLine() {
            // Returning straight from each case lets the event be built in place.
            switch parser! {
            case .oxenstored(let parser):
                if let event = parser.parse(line, number: number, diagnostics: sink) {
                    statistics.events += 1
                    return event
                }
            case .cxenstored(let parser):
                if let event = parser.parse(line, number: number, diagnostics: sink) {
                    statistics.events += 1
                    return event
                }
            case .jsonLines(let parser):
                if let event = parser.parse(line, number: number, diagnostics: sink) {
                    statistics.events += 1
                    return event
                }
            }
            countLineWithoutEvent()
        }
        return nil
    }

    /// Reads on to the next event and adds it to `fillingBatch`; `false` at the end of the trace
    /// (or when its format cannot be recognised). An oxenstored event is built in the batch's own
    /// storage: returning it, as `next()` does, and appending it copied the event twice and retained
    /// and released its strings, about a tenth of the reading thread's work.
    func appendNext() -> Bool {
        while let (line, number) = nextLine() {
            // The batch is taken after the line is read: waiting for input may have handed the
            // previous one over (`beforeWaiting`).
            let batch = fillingBatch!
            switch parser! {
            case .oxenstored(let parser):
                // A path kept for a line that then gives no event must not go to the next one.
                batch.pendingSpan = .none
                if parser.parse(line, number: number, diagnostics: sink, pathSink: keepsPathsAsBytes ? batch : nil, into: batch.nextSlot())
                {
                    batch.commitSlot()
                    statistics.events += 1
                    return true
                }
            case .cxenstored(let parser):
                if let event = parser.parse(line, number: number, diagnostics: sink) {
                    batch.append(event)
                    statistics.events += 1
                    return true
                }
            case .jsonLines(let parser):
                if let event = parser.parse(line, number: number, diagnostics: sink) {
                    batch.append(event)
                    statistics.events += 1
                    return true
                }
            }
            countLineWithoutEvent()
        }
        return false
    }

    /// Reads on, adding events to `fillingBatch`, until it is full (`true`) or the trace ends
    /// (`false`). The parser and the batch are held in locals for the whole batch: taken from their
    /// properties for every line (`appendNext()`), they were retained and released each time, about
    /// a twentieth of the reading thread's work.
    func fillBatch() -> Bool {
        guard case .oxenstored(let parser)? = parser else {
            // Another format, or none detected yet: line by line.
            while appendNext() { if fillingBatch!.isFull { return true } }
            return false
        }
        var batch = fillingBatch!
        var seen = fillingBatchChanges
        let sink = self.sink
        let pathsAsBytes = keepsPathsAsBytes
        // Made once per batch: made per line, the optional retained the batch each time.
        var pathSink = pathsAsBytes ? batch : nil
        while let (line, number) = nextLine() {
            // Waiting for input may have handed the batch over (`beforeWaiting`).
            if seen != fillingBatchChanges {
                batch = fillingBatch!
                pathSink = pathsAsBytes ? batch : nil
                seen = fillingBatchChanges
            }
            batch.pendingSpan = .none
            if parser.parse(line, number: number, diagnostics: sink, pathSink: pathSink, into: batch.nextSlot()) {
                batch.commitSlot()
                statistics.events += 1
                if batch.isFull { return true }
            } else {
                countLineWithoutEvent()
            }
        }
        return false
    }

    /// The next line that is not blank, once the trace's format is known (detected from this line
    /// if need be), or `nil` at the end of the trace (or when its format cannot be recognised). The
    /// lines read on the way are counted in `statistics`.
    private func nextLine() -> (LineBytes, Int)? {
        while !finished {
            switch buffer.next() {
            case .end:
                finish()
            case .tooLong(let number, let length):
                statistics.lines = number
                statistics.malformedLines += 1
                reportTooLong(number, length)
            case .line(let line, let number):
                statistics.lines = number
                if Scan.skipBlanks(line, from: 0) == line.count {
                    statistics.emptyLines += 1
                    continue
                }
                if parser == nil {
                    guard let detected = TraceFormat.detect(line) else {
                        reportUnknownFormat(line, number)
                        statistics.malformedLines += 1
                        finished = true
                        return nil
                    }
                    select(detected)
                }
                return (line, number)
            }
        }
        return nil
    }

    // The two diagnostics of `nextLine()` are emitted out of line: inlined, the diagnostics' list
    // got an exclusivity check at the top of `nextLine()`, paid for every line (a tenth of its cost).
    @inline(never)
    private func reportTooLong(_ number: Int, _ length: Int) {
        sink.emit(
            .error, TraceDiagnosticCode.lineTooLong,
            "line is \(length) bytes, more than the limit of \(options.maximumLineLength); skipped", line: number, column: 1,
            hint: "a xenstore message is at most 4096 bytes, so this is probably not a trace")
    }

    @inline(never)
    private func reportUnknownFormat(_ line: LineBytes, _ number: Int) {
        sink.emit(
            .error, TraceDiagnosticCode.unknownFormat,
            "cannot tell the trace format from its first line '\(Scan.excerpt(line, 0..<line.count))'", line: number, column: 1,
            hint:
                "expected an oxenstored access log ([20261127T10:00:00.000Z] D5 write ...), a cxenstored trace (io: IN 0x... (d5) ...) or JSON lines ({...}); or name the format"
        )
    }

    /// Counts a line that gave no event: skipped for a reason, or malformed.
    private func countLineWithoutEvent() {
        if let reason = sink.skipReason {
            sink.skipReason = nil
            statistics.skipped[reason, default: 0] += 1
        } else {
            statistics.malformedLines += 1
        }
    }

    private func finish() {
        finished = true
        if let reason = buffer.readError {
            sink.emit(
                .error, TraceDiagnosticCode.readFailed, "reading stopped after line \(statistics.lines): \(reason)",
                line: statistics.lines + 1, column: 0)
        }
    }

    /// The number of error diagnostics so far (kept or not).
    public var errorCount: Int { sink.errors }
    /// The number of warnings so far (kept or not).
    public var warningCount: Int { sink.warnings }
}

/// What the lines of a trace amounted to. Every line read is counted exactly once among `events`,
/// `emptyLines`, `skipped` and `malformedLines`.
public struct TraceStatistics: Sendable, Equatable {
    /// Lines read (the number of the last line).
    public var lines = 0
    /// Lines that gave an event.
    public var events = 0
    /// Empty or blank lines.
    public var emptyLines = 0
    /// Well-formed lines that are not client messages, by reason.
    public var skipped: [SkipReason: Int] = [:]
    /// Lines that gave an error diagnostic and no event.
    public var malformedLines = 0

    /// Creates statistics.
    public init(lines: Int = 0, events: Int = 0, emptyLines: Int = 0, skipped: [SkipReason: Int] = [:], malformedLines: Int = 0) {
        self.lines = lines
        self.events = events
        self.emptyLines = emptyLines
        self.skipped = skipped
        self.malformedLines = malformedLines
    }

    /// All skipped lines.
    public var skippedLines: Int { skipped.values.reduce(0, +) }
}
