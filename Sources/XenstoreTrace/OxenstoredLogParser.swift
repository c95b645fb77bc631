import PolicyDiagnostics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Parses lines of oxenstored's access log (`tools/ocaml/xenstored/logging.ml`, `access_logging`):
///
///     [20261127T10:00:00.000Z]  D5           write     /local/domain/5/device/vbd/768/state 4
///
/// The daemon prints `"[<date>] " ^ " " ^ <connection padded to 12> ^ " " ^ <operation padded to 9> ^
/// " " ^ <data>`, where the date is UTC with milliseconds, the connection is `D<domid>` (a domain's
/// ring), `A<n>` (local socket `n`: the privileged toolstack), either followed by `.<tid>` inside a
/// transaction, and prefixed with `r(<old tid>):` when oxenstored replays a conflicting transaction.
/// The data is the message payload with NULs shown as spaces and then OCaml-escaped (`String.escaped`:
/// `\\`, `\"`, `\n`, `\t`, `\r`, `\b`, `\ddd`), so `write` shows `path value`, `setperms` shows
/// `path n5 r0 ` and `watch` shows `path token `.
///
/// What a default log (no `access-log-read-ops`, `access-log-transaction-ops`, `access-log-special-ops`)
/// leaves out: reads, transaction starts and ends, and introduce/release/resume. Writes inside a
/// transaction do appear (on `D5.3`), so the replay must treat them as committed; the commit's result
/// (`commit`, `coalesce`, `conflict`) appears as `.transactionOutcome`, an abort not at all.
final class OxenstoredLogParser {
    /// oxenstored's default `access-log-nb-chars` is 180: longer lines are cut to 179 bytes ending `..`.
    static let truncatedLineLength = 179

    enum Kind {
        case write, mkdir, rm, setPermissions, read, directory, getPermissions, watch, unwatch
        case transactionStart, transactionEnd, commit, coalesce, conflict
        case introduce, release, resume, setTarget, resetWatches, newConnection, endConnection
        case watchEvent, error, otherNamed
    }

    /// The one-word operation names oxenstored prints (`string_of_access_type`), with the spellings of
    /// other versions, by length.
    private static let oneWordNames: [[(StaticString, Kind)]] = {
        let names: [(StaticString, Kind)] = [
            ("rm", .rm), ("read", .read), ("write", .write), ("mkdir", .mkdir), ("watch", .watch), ("error", .error),
            ("debug", .otherNamed), ("commit", .commit), ("resume", .resume), ("unwatch", .unwatch), ("release", .release),
            ("newconn", .newConnection), ("endconn", .endConnection), ("invalid", .otherNamed), ("isintro", .otherNamed),
            ("getperms", .getPermissions), ("setperms", .setPermissions), ("coalesce", .coalesce), ("conflict", .conflict),
            ("directory", .directory), ("introduce", .introduce), ("getdomain", .otherNamed), ("settarget", .setTarget),
            ("watchevent", .watchEvent),
        ]
        var table = [[(StaticString, Kind)]](repeating: [], count: 11)
        for entry in names { table[entry.0.utf8CodeUnitCount].append(entry) }
        return table
    }()

    /// The two-word operation names.
    private static let twoWordNames: [(StaticString, StaticString, Kind)] = [
        ("t", "start", .transactionStart), ("t", "end", .transactionEnd), ("w", "event", .watchEvent),
        ("w", "notfired", .otherNamed), ("is", "introduced", .otherNamed), ("reset", "watches", .resetWatches),
        ("set", "target", .setTarget),
    ]

    /// The last date seen (yyyymmdd) and its day number: consecutive lines almost always share it.
    @exclusivity(unchecked) private var cachedDate = -1
    @exclusivity(unchecked) private var cachedDays = 0
    /// The 24 bytes after the `[` of the last line whose timestamp lay within them, and what it gave:
    /// a busy log has many lines in the same millisecond.
    @exclusivity(unchecked) private var lastStamp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    @exclusivity(unchecked) private var lastStampResult: (Int64, Int)? = nil

    /// The operation whose name starts at `start`: its kind and the end of its name (`nil` if unknown).
    private static func operation(_ line: LineBytes, at start: Int) -> (Kind, Int)? {
        let wordEnd = Scan.tokenEnd(line, from: start)
        let length = wordEnd - start
        // One-word names first (`write` is most lines): none of them is the first word of a two-word name.
        if length < oneWordNames.count {
            for (name, kind) in oneWordNames[length] where Scan.equals(line, start..<wordEnd, name) { return (kind, wordEnd) }
        }
        if length <= 5, wordEnd < line.count {
            for (first, second, kind) in twoWordNames where Scan.equals(line, start..<wordEnd, first) {
                let secondEnd = wordEnd + 1 + second.utf8CodeUnitCount
                if Scan.hasPrefix(line, second, at: wordEnd + 1), secondEnd == line.count || line[secondEnd] == Scan.space {
                    return (kind, secondEnd)
                }
            }
        }
        return nil
    }

    /// Parses `line` into an event, initialising `slot` with it (a batch's next place, so that the
    /// event of about 150 bytes is written once where it stays instead of being returned and copied
    /// on the way); `false`, with `slot` left uninitialised, when the line gives no event.
    func parse(
        _ line: LineBytes, number: Int, diagnostics: BoundedDiagnostics, pathSink: EventBatch? = nil,
        into slot: UnsafeMutablePointer<TraceEvent>
    ) -> Bool {
        // [20261127T10:00:00.000Z]
        guard line.count > 0, line[0] == UInt8(ascii: "[") else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.badTimestamp, "expected '[' and an oxenstored timestamp such as '[20261127T10:00:00.000Z]'",
                line: number, column: 1)
            return false
        }
        guard let (time, afterTime) = timestamp(line, from: 1) else {
            let end = Scan.find(UInt8(ascii: "]"), in: line, from: 1)
            diagnostics.emit(
                .error, TraceDiagnosticCode.badTimestamp,
                "malformed oxenstored timestamp '\(Scan.excerpt(line, 1..<end))'", line: number, column: 2,
                hint: "oxenstored writes UTC times as 20261127T10:00:00.000Z")
            return false
        }
        if afterTime < line.count, line[afterTime] == UInt8(ascii: "|") {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine, "this is a line of oxenstored's own log, not of its access log",
                line: number, column: afterTime + 1, hint: "replay xenstored-access.log, not xenstored.log")
            return false
        }
        guard afterTime < line.count else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine, "line ends inside the timestamp: it is truncated", line: number,
                column: afterTime + 1)
            return false
        }
        guard line[afterTime] == UInt8(ascii: "]") else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.badTimestamp, "expected ']' after the timestamp", line: number, column: afterTime + 1)
            return false
        }

        // Connection column.
        let connectionStart = LineWord.skipBlanks(line, from: afterTime + 1)
        let connection: Connection
        let transaction: Int?
        let replayOf: Int?
        let connectionEnd: Int
        if let (common, tid, end) = Self.commonConnection(line, at: connectionStart) {
            (connection, transaction, replayOf, connectionEnd) = (common, tid, nil, end)
        } else if let (other, tid, old, end) = otherConnection(line, number: number, at: connectionStart, diagnostics: diagnostics) {
            (connection, transaction, replayOf, connectionEnd) = (other, tid, old, end)
        } else {
            return false
        }

        // Operation column.
        let operationStart = LineWord.skipBlanks(line, from: connectionEnd)
        guard operationStart < line.count else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine, "line ends after the connection: no operation", line: number,
                column: operationStart + 1)
            return false
        }
        let kind: Kind
        let nameEnd: Int
        if let (known, end) = Self.commonOperation(line, at: operationStart) ?? Self.operation(line, at: operationStart) {
            kind = known
            nameEnd = end
        } else {
            kind = .otherNamed
            nameEnd = Scan.tokenEnd(line, from: operationStart)
            let name = Scan.string(line, operationStart..<nameEnd)
            if diagnostics.firstReport(of: "oxenstored-op:" + name) {
                diagnostics.emit(
                    .warning, TraceDiagnosticCode.unknownOperation,
                    "unknown oxenstored operation '\(name)' is passed on as other (reported once)", line: number,
                    column: operationStart + 1)
            }
        }
        let nameRange = operationStart..<nameEnd
        // The name is padded to 9 columns, then one space separates it from the data; the data itself
        // may start with a space (a payload starting with NUL), so skip no more than the padding.
        let dataLimit = min(operationStart + max(9, nameEnd - operationStart) + 1, line.count)
        var dataStart = nameEnd
        if dataStart < dataLimit {
            // Eight bytes of padding at once; a longer run (after a one-letter name) byte by byte.
            let others = ~ByteWord.matches(LineWord.load(line, at: dataStart), Scan.space) & LineWord.highs
            dataStart = Swift.min(dataStart + LineWord.before(others), dataLimit)
        }
        while dataStart < dataLimit, line[dataStart] == Scan.space { dataStart += 1 }
        let data = dataStart..<line.count

        var truncated = false
        if line.count == Self.truncatedLineLength, Scan.equals(line, (line.count - 2)..<line.count, "..") {
            truncated = true
            if diagnostics.firstReport(of: "oxenstored-truncated") {
                diagnostics.emit(
                    .warning, TraceDiagnosticCode.truncatedByDaemon,
                    "line is \(Self.truncatedLineLength) bytes and ends with '..': oxenstored probably truncated it, so its value may be incomplete (reported once)",
                    line: number, column: line.count - 1,
                    hint: "set access-log-nb-chars = 0 in oxenstored.conf to log whole lines")
            }
        }

        // From here on the line gives an event: it is made in its slot with the fields every message
        // has, and the rest are stored into it there. Made from locals at the end instead, the
        // event was built on the stack, copied (retaining its strings) and the original destroyed.
        TraceEvent.initialize(
            slot, line: number, time: time, connection: connection, transaction: transaction, operation: .read, replayOf: replayOf,
            truncated: truncated)
        let (fieldEnd, plain) = Self.firstField(line, data)
        let pathRange = data.lowerBound..<fieldEnd
        let rest = Swift.min(fieldEnd + 1, data.upperBound)..<data.upperBound

        switch kind {
        case .write:
            slot.pointee.operation = .write
            slot.pointee.path = Self.path(line, pathRange, plain: plain, pathSink)
            slot.pointee.value = Self.unescaped(line, rest)
        case .mkdir, .rm, .read, .directory, .getPermissions:
            slot.pointee.operation =
                switch kind {
                case .mkdir: .mkdir
                case .rm: .rm
                case .read: .read
                case .directory: .directory
                default: .getPermissions
                }
            slot.pointee.path = Self.path(line, pathRange, plain: plain, pathSink)
        case .setPermissions:
            slot.pointee.path = Self.path(line, pathRange, plain: plain, pathSink)
            let text = Self.unescaped(line, Self.droppingOneTrailingSpace(line, rest))
            slot.pointee.value = text
            if let permissions = Permission.list(text), !pathRange.isEmpty {
                slot.pointee.operation = .setPermissions(permissions)
            } else {
                slot.pointee.operation = Self.malformedPayload(
                    number, line, nameRange, "a path and a permission list such as 'n5 r0'", data, diagnostics)
            }
        case .watch, .unwatch, .watchEvent:
            slot.pointee.operation = kind == .watch ? .watch : kind == .unwatch ? .unwatch : .watchEvent
            slot.pointee.path = plain ? Scan.string(line, pathRange) : Self.unescaped(line, pathRange)
            slot.pointee.value = Self.unescaped(line, Self.droppingOneTrailingSpace(line, rest))
        case .transactionStart:
            slot.pointee.operation = .transactionStart
        case .transactionEnd:
            slot.pointee.operation = .transactionEnd(commit: nil)
        case .commit:
            slot.pointee.operation = .transactionOutcome(.committed)
        case .conflict:
            slot.pointee.operation = .transactionOutcome(.conflict)
        case .coalesce:
            // "write /path" or "read /path": the subtree that was merged.
            slot.pointee.operation = .transactionOutcome(.coalesced)
            let (whatRange, pathPart) = Self.splitFirstField(line, data)
            slot.pointee.value = Scan.string(line, whatRange)
            slot.pointee.path = Self.unescaped(line, Self.splitFirstField(line, pathPart).0)
        case .introduce, .release, .resume:
            slot.pointee.value = Self.unescaped(line, Self.droppingOneTrailingSpace(line, data))
            if let domid = Scan.decimal(line, pathRange) {
                slot.pointee.operation =
                    kind == .introduce ? .introduce(domid: domid) : kind == .release ? .release(domid: domid) : .resume(domid: domid)
            } else {
                slot.pointee.operation = Self.malformedPayload(number, line, nameRange, "a domid", data, diagnostics)
            }
        case .setTarget:
            slot.pointee.value = Self.unescaped(line, Self.droppingOneTrailingSpace(line, data))
            let targetRange = Self.splitFirstField(line, rest).0
            if let domid = Scan.decimal(line, pathRange), let target = Scan.decimal(line, targetRange) {
                slot.pointee.operation = .setTarget(domid: domid, target: target)
            } else {
                slot.pointee.operation = Self.malformedPayload(number, line, nameRange, "two domids", data, diagnostics)
            }
        case .resetWatches:
            slot.pointee.operation = .resetWatches
        case .newConnection:
            slot.pointee.operation = .newConnection
        case .endConnection:
            slot.pointee.operation = .endConnection
        case .error:
            slot.pointee.operation = .errorReply(Scan.string(line, pathRange))
            slot.pointee.value = Self.unescaped(line, Self.droppingOneTrailingSpace(line, data))
        case .otherNamed:
            slot.pointee.operation = .other(Scan.string(line, nameRange))
            let payload = Self.droppingOneTrailingSpace(line, data)
            if !payload.isEmpty { slot.pointee.value = Self.unescaped(line, payload) }
        }
        return true
    }

    /// The connection column at `start` that `commonConnection` did not read: the connection, the
    /// transaction, the transaction replayed and the end of the column; `nil`, with its diagnostic or
    /// skip reason, when the line gives no event.
    private func otherConnection(_ line: LineBytes, number: Int, at connectionStart: Int, diagnostics: BoundedDiagnostics)
        -> (Connection, Int?, Int?, Int)?
    {
        let connectionEnd = Scan.tokenEnd(line, from: connectionStart)
        guard connectionStart < connectionEnd else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine, "line ends after the timestamp: no connection and operation",
                line: number, column: connectionStart + 1)
            return nil
        }
        // `xenstore-control print` text (connection "=======>") and the live-update marker (empty
        // connection, operation "debug") are the daemon's own annotations.
        if Scan.equals(line, connectionStart..<connectionEnd, "=======>")
            || Scan.equals(line, connectionStart..<connectionEnd, "debug")
        {
            _ = diagnostics.skip(.daemonAnnotation)
            return nil
        }
        guard let (connection, transaction, replayOf) = Self.connection(line, connectionStart..<connectionEnd) else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.badConnection,
                "malformed oxenstored connection '\(Scan.excerpt(line, connectionStart..<connectionEnd))'", line: number,
                column: connectionStart + 1, hint: "expected D<domid>, A<n> or either with .<transaction>, such as D5 or D5.3")
            return nil
        }
        return (connection, transaction, replayOf, connectionEnd)
    }

    /// Parses `line` into an event, or `nil` when it gives none.
    func parse(_ line: LineBytes, number: Int, diagnostics: BoundedDiagnostics, pathSink: EventBatch? = nil) -> TraceEvent? {
        withUnsafeTemporaryAllocation(of: TraceEvent.self, capacity: 1) { slot in
            parse(line, number: number, diagnostics: diagnostics, pathSink: pathSink, into: slot.baseAddress!)
                ? slot.baseAddress!.move() : nil
        }
    }

    /// Passes a message with a malformed payload on as `.other(name)`, with warning W0803.
    /// (It returns the operation instead of changing the event in place: an `inout` use of the event
    /// would keep it in memory and make the parser copy it to return it.)
    private static func malformedPayload(
        _ number: Int, _ line: LineBytes, _ name: Range<Int>, _ expected: String, _ data: Range<Int>, _ diagnostics: BoundedDiagnostics
    ) -> Operation {
        let name = Scan.string(line, name)
        diagnostics.emit(
            .warning, TraceDiagnosticCode.malformedPayload,
            "'\(name)' needs \(expected), found '\(Scan.excerpt(line, data))'; passed on as other", line: number,
            column: data.lowerBound + 1, hint: "xenstored rejects such a message with EINVAL, so it changes nothing")
        return .other(name)
    }

    /// `20261127T10:00:00.000Z` at `index`: the time in milliseconds and the offset after it. The
    /// fraction (any number of digits) and the `Z` are optional.
    func timestamp(_ line: LineBytes, from index: Int) -> (Int64, Int)? {
        guard index + 24 <= line.count else { return parseTimestamp(line, from: index) }
        // The same 24 bytes give the same time when the stamp and the byte after it (which the parse
        // looks at) lie within them: three comparisons where the stamp took a `memchr` and a copy.
        let raw = UnsafeRawPointer(line.baseAddress! + index)
        let stamp = (
            raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
            raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        )
        if let lastStampResult, stamp == lastStamp { return (lastStampResult.0, lastStampResult.1 + index) }
        guard let result = parseTimestamp(line, from: index) else { return nil }
        if result.1 < index + 24 {
            lastStamp = stamp
            lastStampResult = (result.0, result.1 - index)
        }
        return result
    }

    private func parseTimestamp(_ line: LineBytes, from index: Int) -> (Int64, Int)? {
        guard let date = Scan.digits(line, at: index, count: 8), index + 8 < line.count, line[index + 8] == UInt8(ascii: "T"),
            let hour = Scan.digits(line, at: index + 9, count: 2), index + 11 < line.count,
            line[index + 11] == UInt8(ascii: ":"), let minute = Scan.digits(line, at: index + 12, count: 2),
            index + 14 < line.count, line[index + 14] == UInt8(ascii: ":"),
            let second = Scan.digits(line, at: index + 15, count: 2)
        else { return nil }
        var i = index + 17
        var millisecond = 0
        if i < line.count, line[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[i]) {
                if i - fractionStart < 3 { millisecond = millisecond * 10 + Int(line[i] - UInt8(ascii: "0")) }
                i += 1
            }
            guard i > fractionStart else { return nil }
            for _ in min(3, i - fractionStart)..<3 { millisecond *= 10 }
        }
        if i < line.count, line[i] == UInt8(ascii: "Z") { i += 1 }
        guard hour < 24, minute < 60, second < 60 else { return nil }
        if date != cachedDate {
            let year = date / 10000
            let month = date / 100 % 100
            let day = date % 100
            guard CivilTime.epochMilliseconds(year: year, month: month, day: day, hour: 0, minute: 0, second: 0) != nil else {
                return nil
            }
            cachedDate = date
            cachedDays = CivilTime.daysFromCivil(year: year, month: month, day: day)
        }
        let seconds = Int64(cachedDays) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return (seconds * 1000 + Int64(millisecond), i)
    }

    /// `[r(<old tid>):](D<domid>|A<n>)[.<tid>]`.
    static func connection(_ line: LineBytes, _ range: Range<Int>) -> (Connection, Int?, Int?)? {
        var i = range.lowerBound
        var replayOf: Int?
        if Scan.hasPrefix(line, "r(", at: i) {
            let close = Scan.find(UInt8(ascii: ")"), in: line, from: i + 2)
            guard close + 1 < range.upperBound, line[close + 1] == UInt8(ascii: ":"),
                let old = Scan.decimal(line, (i + 2)..<close)
            else { return nil }
            replayOf = old
            i = close + 2
        }
        guard i < range.upperBound else { return nil }
        let letter = line[i]
        guard letter == UInt8(ascii: "D") || letter == UInt8(ascii: "A") else { return nil }
        let dot = Scan.find(UInt8(ascii: "."), in: LineBytes(rebasing: line[..<range.upperBound]), from: i + 1)
        guard let id = Scan.decimal(line, (i + 1)..<dot) else { return nil }
        var transaction: Int?
        if dot < range.upperBound {
            guard let tid = Scan.decimal(line, (dot + 1)..<range.upperBound) else { return nil }
            transaction = tid == 0 ? nil : tid
        }
        return (letter == UInt8(ascii: "D") ? .domain(id) : .socket(id), transaction, replayOf)
    }

    /// The first space-separated field of `range` and the rest after the one space that ends it.
    @inline(__always)
    static func splitFirstField(_ line: LineBytes, _ range: Range<Int>) -> (Range<Int>, Range<Int>) {
        let i = Scan.first(Scan.space, in: line, range)
        let first = range.lowerBound..<i
        return (first, min(i + 1, range.upperBound)..<range.upperBound)
    }

    /// `range` without one trailing space (the NUL that ends the payload's last string).
    @inline(__always)
    static func droppingOneTrailingSpace(_ line: LineBytes, _ range: Range<Int>) -> Range<Int> {
        guard !range.isEmpty, line[range.upperBound - 1] == Scan.space else { return range }
        return range.lowerBound..<(range.upperBound - 1)
    }

    /// The path of a mutating message: `nil` when `pathSink` keeps it as bytes (it is `plain`: no
    /// escape, ASCII, so the bytes are exactly the string's), otherwise the unescaped string.
    @inline(__always)
    static func path(_ line: LineBytes, _ range: Range<Int>, plain: Bool, _ pathSink: EventBatch?) -> String? {
        guard plain else { return unescaped(line, range) }
        if let pathSink, !range.isEmpty {
            pathSink.keepPath(LineBytes(rebasing: line[range]))
            return nil
        }
        return Scan.string(line, range)
    }

    /// Undoes OCaml's `String.escaped`. A malformed or cut-off escape is kept as it is.
    static func unescaped(_ line: LineBytes, _ range: Range<Int>) -> String {
        var i = Scan.first(UInt8(ascii: "\\"), in: line, range)
        if i == range.upperBound { return Scan.string(line, range) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count)
        bytes.append(contentsOf: LineBytes(rebasing: line[range.lowerBound..<i]))
        while i < range.upperBound {
            let byte = line[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < range.upperBound else {
                bytes.append(byte)
                i += 1
                continue
            }
            let next = line[i + 1]
            switch next {
            case UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "'"):
                bytes.append(next)
                i += 2
            case UInt8(ascii: "n"):
                bytes.append(0x0A)
                i += 2
            case UInt8(ascii: "t"):
                bytes.append(0x09)
                i += 2
            case UInt8(ascii: "r"):
                bytes.append(0x0D)
                i += 2
            case UInt8(ascii: "b"):
                bytes.append(0x08)
                i += 2
            default:
                if i + 3 < range.upperBound, let code = Scan.digits(line, at: i + 1, count: 3), code < 256 {
                    bytes.append(UInt8(code))
                    i += 4
                } else {
                    bytes.append(byte)
                    i += 1
                }
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
