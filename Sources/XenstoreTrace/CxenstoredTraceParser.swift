import PolicyDiagnostics

/// Parses lines of cxenstored's trace (`xenstored -T FILE`, `tools/xenstored/core.c`, `trace_io`):
///
///     io: IN 0x55d1c2a0 (d5) 20261127 10:00:00 WRITE (/local/domain/5/device/vbd/768/state 4 )
///
/// Fields: direction, the connection's address (`%p`), `(d<domid>)` (the connection's domain; every
/// local socket, the toolstack, is `d0` too), the date and time in the daemon's *local* time zone at
/// one-second resolution, the message type as in `xs_wire.h` without `XS_`, and the payload in
/// parentheses with each NUL printed as a space.
///
/// Only `IN` lines are client requests. `OUT`, `OUT(START)`, `OUT(END)` and `OUT(ERR)` lines are the
/// daemon's replies and watch events and are skipped (`SkipReason.reply`), so a request that failed
/// (`EACCES`, or `EAGAIN` for a commit) is not marked as such. The trace shows no transaction id:
/// `TraceEvent.transaction` is always `nil`, and a replay cannot tell a write inside a transaction from
/// one outside it, nor which of a connection's open transactions a `TRANSACTION_END` ends. Lines of
/// other kinds (`obj: CREATE ...`, `obj: DESTROY ...`, `wrl: ...`, `acc: ...`, `tdb: ...`,
/// `CONN ... ignored`, and the unprefixed `CREATE`/`DESTROY` of older versions) are skipped
/// (`SkipReason.daemonRecord`); anything else is skipped with
/// warning W0802.
struct CxenstoredTraceParser {
    /// Seconds east of UTC of the time zone the daemon ran in (its trace shows local time).
    let utcOffsetSeconds: Int

    /// Line kinds that record the daemon's internals.
    private static let recordPrefixes: [StaticString] = [
        "obj: ", "wrl: ", "acc: ", "tdb: ", "CREATE ", "DESTROY ", "CONN ",
    ]

    /// Whether `line` (from `start`) looks like a line of a cxenstored trace; used to detect the format.
    static func isTraceLine(_ line: LineBytes, from start: Int) -> Bool {
        if Scan.hasPrefix(line, "io: ", at: start) || Scan.hasPrefix(line, "IN 0x", at: start)
            || Scan.hasPrefix(line, "OUT", at: start)
        {
            return true
        }
        return recordPrefixes.contains { Scan.hasPrefix(line, $0, at: start) }
    }

    private enum Kind {
        case write, mkdir, rm, setPermissions, read, directory, getPermissions, watch, unwatch
        case transactionStart, transactionEnd, introduce, release, resume, setTarget, resetWatches, other
    }

    /// The message types of `xs_wire.h` (as cxenstored's `sockmsg_string` prints them).
    private static let types: [String: Kind] = [
        "WRITE": .write, "MKDIR": .mkdir, "RM": .rm, "SET_PERMS": .setPermissions, "READ": .read,
        "DIRECTORY": .directory, "DIRECTORY_PART": .directory, "GET_PERMS": .getPermissions, "WATCH": .watch,
        "UNWATCH": .unwatch, "TRANSACTION_START": .transactionStart, "TRANSACTION_END": .transactionEnd,
        "INTRODUCE": .introduce, "RELEASE": .release, "RESUME": .resume, "SET_TARGET": .setTarget,
        "RESET_WATCHES": .resetWatches, "GET_DOMAIN_PATH": .other, "IS_DOMAIN_INTRODUCED": .other,
        "CONTROL": .other, "DEBUG": .other, "GET_FEATURE": .other, "SET_FEATURE": .other, "GET_QUOTA": .other,
        "SET_QUOTA": .other, "WATCH_EVENT": .other, "ERROR": .other,
    ]

    func parse(_ line: LineBytes, number: Int, diagnostics: BoundedDiagnostics) -> TraceEvent? {
        var i: Int
        if Scan.hasPrefix(line, "io: ") {
            i = 4
        } else if Scan.hasPrefix(line, "IN ") || Scan.hasPrefix(line, "OUT") {
            i = 0  // traces older than the "io: " prefix
        } else if Self.recordPrefixes.contains(where: { Scan.hasPrefix(line, $0) }) {
            return diagnostics.skip(.daemonRecord)
        } else {
            diagnostics.emit(
                .warning, TraceDiagnosticCode.unrecognisedLine,
                "unrecognised cxenstored trace line '\(Scan.excerpt(line, 0..<line.count))' skipped", line: number, column: 1,
                hint: "cxenstored also writes its log messages into the trace; a value containing a newline splits a line")
            return diagnostics.skip(.unrecognised)
        }

        // Direction.
        let directionEnd = Scan.tokenEnd(line, from: i)
        if Scan.hasPrefix(line, "OUT", at: i) { return diagnostics.skip(.reply) }
        guard Scan.equals(line, i..<directionEnd, "IN") else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine,
                "expected IN or OUT, found '\(Scan.excerpt(line, i..<directionEnd))'", line: number, column: i + 1)
            return nil
        }

        // Connection address: 0x55d1c2a0, or (nil).
        i = Scan.skipBlanks(line, from: directionEnd)
        let pointerEnd = Scan.tokenEnd(line, from: i)
        var handle: UInt64?
        if Scan.hasPrefix(line, "0x", at: i), let value = Scan.hexadecimal(line, (i + 2)..<pointerEnd) {
            handle = value
        } else if Scan.equals(line, i..<pointerEnd, "(nil)") {
            handle = 0
        } else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.badConnection,
                i < line.count
                    ? "malformed connection address '\(Scan.excerpt(line, i..<pointerEnd))'" : "line ends before the connection address",
                line: number, column: i + 1, hint: "expected a pointer such as 0x55d1c2a0")
            return nil
        }

        // Domain: (d5).
        i = Scan.skipBlanks(line, from: pointerEnd)
        let domainEnd = Scan.tokenEnd(line, from: i)
        guard Scan.hasPrefix(line, "(d", at: i), domainEnd - i >= 4, line[domainEnd - 1] == UInt8(ascii: ")"),
            let domid = Scan.decimal(line, (i + 2)..<(domainEnd - 1))
        else {
            let hasDate = Scan.digits(line, at: i, count: 8) != nil
            diagnostics.emit(
                .error, TraceDiagnosticCode.badConnection,
                hasDate
                    ? "the line has no domain id '(d<domid>)', so the message cannot be attributed"
                    : "malformed domain id '\(Scan.excerpt(line, i..<domainEnd))'",
                line: number, column: i + 1,
                hint: hasDate
                    ? "older cxenstored versions do not print the domain id; trace with a newer xenstored"
                    : "expected (d<domid>), such as (d5)")
            return nil
        }

        // Date and time: 20261127 10:00:00, local time.
        i = Scan.skipBlanks(line, from: domainEnd)
        guard let year = Scan.digits(line, at: i, count: 4), let month = Scan.digits(line, at: i + 4, count: 2),
            let day = Scan.digits(line, at: i + 6, count: 2), i + 8 < line.count, line[i + 8] == Scan.space,
            let hour = Scan.digits(line, at: i + 9, count: 2), i + 11 < line.count, line[i + 11] == UInt8(ascii: ":"),
            let minute = Scan.digits(line, at: i + 12, count: 2), i + 14 < line.count, line[i + 14] == UInt8(ascii: ":"),
            let second = Scan.digits(line, at: i + 15, count: 2),
            let local = CivilTime.epochMilliseconds(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second),
            i + 17 == line.count || line[i + 17] == Scan.space
        else {
            let end = min(line.count, i + 17)
            diagnostics.emit(
                .error, TraceDiagnosticCode.badTimestamp,
                i < line.count ? "malformed cxenstored date and time '\(Scan.excerpt(line, i..<end))'" : "line ends before the date",
                line: number, column: i + 1, hint: "cxenstored writes local times as 20261127 10:00:00")
            return nil
        }
        let time = local - Int64(utcOffsetSeconds) * 1000

        // Message type.
        i = Scan.skipBlanks(line, from: i + 17)
        let typeEnd = Scan.tokenEnd(line, from: i)
        guard i < typeEnd else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine, "line ends before the message type", line: number, column: i + 1)
            return nil
        }
        let typeName = Scan.string(line, i..<typeEnd)

        // Payload: everything between " (" and the ")" that ends the line.
        let open = Scan.skipBlanks(line, from: typeEnd)
        guard open < line.count, line[open] == UInt8(ascii: "("), line.count - open >= 2,
            line[line.count - 1] == UInt8(ascii: ")")
        else {
            diagnostics.emit(
                .error, TraceDiagnosticCode.malformedLine,
                open < line.count && line[open] == UInt8(ascii: "(")
                    ? "the payload has no closing ')': the line is truncated" : "expected the payload in parentheses after '\(typeName)'",
                line: number, column: open + 1,
                hint: "a value containing a newline splits a cxenstored trace line in two")
            return nil
        }
        let payload = (open + 1)..<(line.count - 1)

        var event = TraceEvent(line: number, time: time, connection: .domain(domid), operation: .other(typeName), handle: handle)
        guard let kind = Self.types[typeName] else {
            if diagnostics.firstReport(of: "cxenstored-op:" + typeName) {
                diagnostics.emit(
                    .warning, TraceDiagnosticCode.unknownOperation,
                    "unknown cxenstored message type '\(typeName)' is passed on as other (reported once)", line: number,
                    column: i + 1)
            }
            event.value = Self.text(line, OxenstoredLogParser.droppingOneTrailingSpace(line, payload))
            return event
        }
        let (pathRange, rest) = OxenstoredLogParser.splitFirstField(line, payload)
        let restText = OxenstoredLogParser.droppingOneTrailingSpace(line, rest)

        switch kind {
        case .write:
            event.operation = .write
            event.path = Scan.string(line, pathRange)
            event.value = Scan.string(line, restText)
        case .mkdir, .rm, .read, .getPermissions:
            event.operation = kind == .mkdir ? .mkdir : kind == .rm ? .rm : kind == .read ? .read : .getPermissions
            event.path = Scan.string(line, pathRange)
        case .directory:
            event.operation = .directory
            event.path = Scan.string(line, pathRange)
            event.value = Self.text(line, restText)
        case .setPermissions:
            event.path = Scan.string(line, pathRange)
            let text = Scan.string(line, restText)
            event.value = text
            if let permissions = Permission.list(text), !pathRange.isEmpty {
                event.operation = .setPermissions(permissions)
            } else {
                Self.malformedPayload(typeName, "a path and a permission list such as 'n5 r0'", line, payload, number, diagnostics)
            }
        case .watch, .unwatch:
            event.operation = kind == .watch ? .watch : .unwatch
            event.path = Scan.string(line, pathRange)
            event.value = Scan.string(line, restText)
        case .transactionStart:
            event.operation = .transactionStart
        case .transactionEnd:
            let flag = OxenstoredLogParser.droppingOneTrailingSpace(line, payload)
            if Scan.equals(line, flag, "T") {
                event.operation = .transactionEnd(commit: true)
            } else if Scan.equals(line, flag, "F") {
                event.operation = .transactionEnd(commit: false)
            } else {
                event.value = Scan.string(line, flag)
                Self.malformedPayload(typeName, "T or F", line, payload, number, diagnostics)
            }
        case .introduce, .release, .resume:
            event.value = Scan.string(line, OxenstoredLogParser.droppingOneTrailingSpace(line, payload))
            if let subject = Scan.decimal(line, pathRange) {
                event.operation =
                    kind == .introduce ? .introduce(domid: subject) : kind == .release ? .release(domid: subject) : .resume(domid: subject)
            } else {
                Self.malformedPayload(typeName, "a domid", line, payload, number, diagnostics)
            }
        case .setTarget:
            event.value = Scan.string(line, OxenstoredLogParser.droppingOneTrailingSpace(line, payload))
            if let subject = Scan.decimal(line, pathRange),
                let target = Scan.decimal(line, OxenstoredLogParser.splitFirstField(line, rest).0)
            {
                event.operation = .setTarget(domid: subject, target: target)
            } else {
                Self.malformedPayload(typeName, "two domids", line, payload, number, diagnostics)
            }
        case .resetWatches:
            event.operation = .resetWatches
        case .other:
            event.value = Self.text(line, OxenstoredLogParser.droppingOneTrailingSpace(line, payload))
        }
        return event
    }

    private static func text(_ line: LineBytes, _ range: Range<Int>) -> String? {
        range.isEmpty ? nil : Scan.string(line, range)
    }

    private static func malformedPayload(
        _ name: String, _ expected: String, _ line: LineBytes, _ payload: Range<Int>, _ number: Int,
        _ diagnostics: BoundedDiagnostics
    ) {
        diagnostics.emit(
            .warning, TraceDiagnosticCode.malformedPayload,
            "'\(name)' needs \(expected), found '\(Scan.excerpt(line, payload))'; passed on as other", line: number,
            column: payload.lowerBound + 1, hint: "xenstored rejects such a message with EINVAL, so it changes nothing")
    }
}
