import PolicyDiagnostics

/// Parses our JSON-lines trace format: one JSON object per line, one message per object, able to say
/// everything `TraceEvent` can (see `docs/traces.md`):
///
///     {"time": "2026-11-27T10:00:00.000Z", "domid": 5, "tx": 3, "op": "write", "path": "...", "value": "4"}
///
/// Members: `time` (RFC 3339 string or integer milliseconds since the epoch), the connection as exactly
/// one of `domid`, `socket` or `"privileged": true` (socket 0), `tx` (0 or absent: none), `op`, and per
/// operation `path`, `value`, `token`, `perms`, `commit`, `subject`, `target`, `outcome`, `error`, `name`;
/// and optionally `handle`, `replay_of`, `truncated`. Unknown members are ignored with a warning once
/// per name; unknown operations become `.other(op)` with a warning once per name (`"op": "other"` with
/// a `name` says `.other(name)` without one). `TraceEvent.jsonLine` writes this format.
struct JSONLinesParser {
    private enum Kind {
        case write, mkdir, rm, setPermissions, read, directory, getPermissions, watch, unwatch
        case transactionStart, transactionEnd, transactionOutcome, introduce, release, resume, setTarget
        case resetWatches, newConnection, endConnection, watchEvent, error, other
    }

    /// The operation named `op`, or `nil`.
    private static func operation(_ op: String) -> Kind? {
        switch op {
        case "write": .write
        case "mkdir": .mkdir
        case "rm": .rm
        case "setperms": .setPermissions
        case "read": .read
        case "directory": .directory
        case "getperms": .getPermissions
        case "watch": .watch
        case "unwatch": .unwatch
        case "tx_start": .transactionStart
        case "tx_end": .transactionEnd
        case "tx_outcome": .transactionOutcome
        case "introduce": .introduce
        case "release": .release
        case "resume": .resume
        case "set_target": .setTarget
        case "reset_watches": .resetWatches
        case "newconn": .newConnection
        case "endconn": .endConnection
        case "watch_event": .watchEvent
        case "error": .error
        case "other": .other
        default: nil
        }
    }

    /// The members the format defines, in the order of `memberNames`.
    private enum Member: Int, CaseIterable {
        case time, domid, socket, privileged, tx, op, path, value, token, perms, commit, subject, target, outcome, error
        case handle, replayOf, truncated, name
    }

    private static let memberNames: [StaticString] = [
        "time", "domid", "socket", "privileged", "tx", "op", "path", "value", "token", "perms", "commit", "subject",
        "target", "outcome", "error", "handle", "replay_of", "truncated", "name",
    ]

    /// The member a key names, or `nil` for a key the format does not define.
    private static func member(_ line: LineBytes, _ key: JSONLineScanner.Key) -> Member? {
        switch key {
        case .plain(let range):
            for (index, name) in memberNames.enumerated() where Scan.equals(line, range, name) { return Member(rawValue: index) }
            return nil
        case .escaped(let text):
            for (index, name) in memberNames.enumerated() where text == name.description { return Member(rawValue: index) }
            return nil
        }
    }

    /// The members of one line, as read.
    private struct Members {
        var time: Int64?
        var domid: Int?
        var socket: Int?
        var privileged = false
        var transaction: Int?
        var op: String?
        var path: String?
        var value: String?
        var token: String?
        var perms: [String]?
        var commit: Bool?
        var subject: Int?
        var target: Int?
        var outcome: String?
        var error: String?
        var handle: UInt64?
        var replayOf: Int?
        var truncated = false
        var name: String?
    }

    /// Why a line was rejected after it parsed as JSON.
    private struct MemberError: Error {
        var message: String
        var offset: Int
    }

    func parse(_ line: LineBytes, number: Int, diagnostics: BoundedDiagnostics) -> TraceEvent? {
        var scanner = JSONLineScanner(line)
        var members = Members()
        var seen: UInt32 = 0
        var unknownSeen: [String] = []
        var opOffset = 0
        do throws(JSONLineScanner.SyntaxError) {
            try scanner.begin()
            while let (key, keyOffset) = try scanner.nextKey() {
                let value = try scanner.value()
                let member = Self.member(line, key)
                let duplicate: Bool
                if let member {
                    duplicate = seen & (1 << member.rawValue) != 0
                    seen |= 1 << member.rawValue
                } else {
                    let name = Self.keyText(line, key)
                    duplicate = unknownSeen.contains(name)
                    unknownSeen.append(name)
                }
                guard !duplicate else {
                    diagnostics.emit(
                        .error, TraceDiagnosticCode.badJSONMember, "duplicate member '\(Self.keyText(line, key))'", line: number,
                        column: keyOffset + 1)
                    return nil
                }
                if member == .op { opOffset = keyOffset }
                do throws(MemberError) {
                    try Self.store(
                        member, Self.keyText(line, key), value, at: keyOffset, into: &members, line: number, diagnostics: diagnostics)
                } catch {
                    diagnostics.emit(.error, TraceDiagnosticCode.badJSONMember, error.message, line: number, column: error.offset + 1)
                    return nil
                }
            }
            try scanner.end()
        } catch {
            diagnostics.emit(.error, TraceDiagnosticCode.invalidJSON, error.message, line: number, column: error.offset + 1)
            return nil
        }

        do throws(MemberError) {
            return try Self.event(members, line: number, opOffset: opOffset, diagnostics: diagnostics)
        } catch {
            diagnostics.emit(.error, TraceDiagnosticCode.badJSONMember, error.message, line: number, column: error.offset + 1)
            return nil
        }
    }

    private static func keyText(_ line: LineBytes, _ key: JSONLineScanner.Key) -> String {
        switch key {
        case .plain(let range): Scan.string(line, range)
        case .escaped(let text): text
        }
    }

    private static func store(
        _ member: Member?, _ key: @autoclosure () -> String, _ value: JSONLineScanner.Value, at offset: Int,
        into members: inout Members, line: Int, diagnostics: BoundedDiagnostics
    ) throws(MemberError) {
        /// The key, as messages name it (made only for a message).
        func name() -> String { member.map { memberNames[$0.rawValue].description } ?? key() }
        func integer() throws(MemberError) -> Int? {
            switch value {
            case .null: return nil
            case .integer(let number) where number >= 0: return Int(number)
            case .integer: throw MemberError(message: "'\(name())' must not be negative", offset: offset)
            default: throw MemberError(message: "'\(name())' must be an integer, not \(value.kindName)", offset: offset)
            }
        }
        func string() throws(MemberError) -> String? {
            switch value {
            case .null: return nil
            case .string(let text): return text
            default: throw MemberError(message: "'\(name())' must be a string, not \(value.kindName)", offset: offset)
            }
        }
        func boolean() throws(MemberError) -> Bool? {
            switch value {
            case .null: return nil
            case .bool(let flag): return flag
            default: throw MemberError(message: "'\(name())' must be true or false, not \(value.kindName)", offset: offset)
            }
        }

        switch member {
        case .time:
            switch value {
            case .null: break
            case .integer(let milliseconds): members.time = milliseconds
            case .string(let text):
                guard let time = Self.rfc3339(text) else {
                    throw MemberError(
                        message: "'time' must be an RFC 3339 time such as \"2026-11-27T10:00:00.000Z\", not \"\(text.prefix(40))\"",
                        offset: offset)
                }
                members.time = time
            default:
                throw MemberError(
                    message: "'time' must be an RFC 3339 string or integer milliseconds, not \(value.kindName)", offset: offset)
            }
        case .domid: members.domid = try integer()
        case .socket: members.socket = try integer()
        case .privileged: members.privileged = try boolean() ?? false
        case .tx:
            let tid = try integer()
            members.transaction = tid == 0 ? nil : tid
        case .op: members.op = try string()
        case .path: members.path = try string()
        case .value: members.value = try string()
        case .token: members.token = try string()
        case .perms:
            switch value {
            case .null: break
            case .string(let text): members.perms = text.split(separator: " ").map(String.init)
            case .array(let elements):
                var entries: [String] = []
                for element in elements {
                    guard case .string(let text) = element else {
                        throw MemberError(message: "'perms' must hold strings such as \"n5\"", offset: offset)
                    }
                    entries.append(text)
                }
                members.perms = entries
            default:
                throw MemberError(
                    message: "'perms' must be an array of strings such as [\"n5\", \"r0\"], not \(value.kindName)", offset: offset)
            }
        case .commit: members.commit = try boolean()
        case .subject: members.subject = try integer()
        case .target: members.target = try integer()
        case .outcome: members.outcome = try string()
        case .error: members.error = try string()
        case .handle: members.handle = try integer().map { UInt64($0) }
        case .replayOf: members.replayOf = try integer()
        case .truncated: members.truncated = try boolean() ?? false
        case .name: members.name = try string()
        case nil:
            if diagnostics.firstReport(of: "json-member:" + name()) {
                diagnostics.emit(
                    .warning, TraceDiagnosticCode.unknownJSONMember, "unknown member '\(name())' is ignored (reported once)", line: line,
                    column: offset + 1)
            }
        }
    }

    private static func event(
        _ members: Members, line: Int, opOffset: Int, diagnostics: BoundedDiagnostics
    ) throws(MemberError) -> TraceEvent {
        let connection: Connection
        switch (members.domid, members.socket, members.privileged) {
        case (let domid?, nil, false): connection = .domain(domid)
        case (nil, let socket?, _): connection = .socket(socket)
        case (nil, nil, true): connection = .socket(0)
        case (nil, nil, false):
            throw MemberError(message: "the line needs a connection: 'domid', 'socket' or \"privileged\": true", offset: 0)
        default:
            throw MemberError(message: "give only one of 'domid', 'socket' and \"privileged\": true", offset: 0)
        }
        guard let op = members.op else { throw MemberError(message: "the line needs an 'op'", offset: 0) }

        var event = TraceEvent(
            line: line, time: members.time, connection: connection, transaction: members.transaction, operation: .other(op),
            path: members.path, value: members.value, handle: members.handle, replayOf: members.replayOf,
            truncated: members.truncated)

        guard let kind = Self.operation(op) else {
            if diagnostics.firstReport(of: "json-op:" + op) {
                diagnostics.emit(
                    .warning, TraceDiagnosticCode.unknownOperation, "unknown operation '\(op)' is passed on as other (reported once)",
                    line: line, column: opOffset + 1)
            }
            return event
        }
        func require<T>(_ member: T?, _ name: String) throws(MemberError) -> T {
            guard let member else { throw MemberError(message: "'\(op)' needs '\(name)'", offset: opOffset) }
            return member
        }
        switch kind {
        case .write:
            _ = try require(members.path, "path")
            event.operation = .write
            if event.value == nil { event.value = "" }
        case .mkdir, .rm, .read, .directory, .getPermissions:
            _ = try require(members.path, "path")
            event.operation =
                switch kind {
                case .mkdir: .mkdir
                case .rm: .rm
                case .read: .read
                case .directory: .directory
                default: .getPermissions
                }
        case .setPermissions:
            _ = try require(members.path, "path")
            let entries = try require(members.perms, "perms")
            event.value = entries.joined(separator: " ")
            var permissions: [Permission] = []
            for entry in entries {
                guard let permission = Permission(Substring(entry)) else {
                    diagnostics.emit(
                        .warning, TraceDiagnosticCode.malformedPayload,
                        "'setperms' has the malformed entry '\(entry.prefix(40))'; passed on as other", line: line,
                        column: opOffset + 1, hint: "an entry is a letter n, r, w or b and a domid, such as \"r0\"")
                    return event
                }
                permissions.append(permission)
            }
            guard !permissions.isEmpty else {
                diagnostics.emit(
                    .warning, TraceDiagnosticCode.malformedPayload, "'setperms' has an empty permission list; passed on as other",
                    line: line, column: opOffset + 1, hint: "xenstored rejects such a message with EINVAL, so it changes nothing")
                return event
            }
            event.operation = .setPermissions(permissions)
        case .watch, .unwatch, .watchEvent:
            _ = try require(members.path, "path")
            event.operation = kind == .watch ? .watch : kind == .unwatch ? .unwatch : .watchEvent
            event.value = try require(members.token ?? members.value, "token")
        case .transactionStart:
            event.operation = .transactionStart
        case .transactionEnd:
            event.operation = .transactionEnd(commit: members.commit)
        case .transactionOutcome:
            let outcome = try require(members.outcome, "outcome")
            guard let value = TransactionOutcome(rawValue: outcome) else {
                throw MemberError(message: "'outcome' must be \"committed\", \"coalesced\" or \"conflict\"", offset: opOffset)
            }
            event.operation = .transactionOutcome(value)
        case .introduce:
            event.operation = .introduce(domid: try require(members.subject, "subject"))
        case .release:
            event.operation = .release(domid: try require(members.subject, "subject"))
        case .resume:
            event.operation = .resume(domid: try require(members.subject, "subject"))
        case .setTarget:
            event.operation = .setTarget(domid: try require(members.subject, "subject"), target: try require(members.target, "target"))
        case .resetWatches:
            event.operation = .resetWatches
        case .newConnection:
            event.operation = .newConnection
        case .endConnection:
            event.operation = .endConnection
        case .error:
            event.operation = .errorReply(try require(members.error, "error"))
        case .other:
            event.operation = .other(try require(members.name, "name"))
        }
        return event
    }

    /// `2026-11-27T10:00:00.000Z`, `2026-11-27T11:00:00+01:00`: milliseconds since the epoch. The
    /// fraction is optional and may have any number of digits (cut to milliseconds).
    static func rfc3339(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { line -> Int64? in
            guard let year = Scan.digits(line, at: 0, count: 4), line.count >= 20, line[4] == UInt8(ascii: "-"),
                let month = Scan.digits(line, at: 5, count: 2), line[7] == UInt8(ascii: "-"),
                let day = Scan.digits(line, at: 8, count: 2),
                line[10] == UInt8(ascii: "T") || line[10] == UInt8(ascii: "t") || line[10] == Scan.space,
                let hour = Scan.digits(line, at: 11, count: 2), line[13] == UInt8(ascii: ":"),
                let minute = Scan.digits(line, at: 14, count: 2), line[16] == UInt8(ascii: ":"),
                let second = Scan.digits(line, at: 17, count: 2)
            else { return nil }
            var i = 19
            var millisecond = 0
            if i < line.count, line[i] == UInt8(ascii: ".") {
                i += 1
                let start = i
                while i < line.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(line[i]) {
                    if i - start < 3 { millisecond = millisecond * 10 + Int(line[i] - UInt8(ascii: "0")) }
                    i += 1
                }
                guard i > start else { return nil }
                for _ in min(3, i - start)..<3 { millisecond *= 10 }
            }
            guard i < line.count else { return nil }
            var offsetMinutes = 0
            if line[i] == UInt8(ascii: "Z") || line[i] == UInt8(ascii: "z") {
                i += 1
            } else if line[i] == UInt8(ascii: "+") || line[i] == UInt8(ascii: "-") {
                guard let hours = Scan.digits(line, at: i + 1, count: 2), i + 3 < line.count, line[i + 3] == UInt8(ascii: ":"),
                    let minutes = Scan.digits(line, at: i + 4, count: 2), hours < 24, minutes < 60
                else { return nil }
                offsetMinutes = (hours * 60 + minutes) * (line[i] == UInt8(ascii: "-") ? -1 : 1)
                i += 6
            } else {
                return nil
            }
            guard i == line.count,
                let local = CivilTime.epochMilliseconds(
                    year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: millisecond)
            else { return nil }
            return local - Int64(offsetMinutes) * 60_000
        }
    }
}
