import Foundation
import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// Helpers shared by the trace reader tests.
enum TraceTesting {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// The result of reading a whole trace.
    struct Read {
        var events: [TraceEvent]
        var diagnostics: [Diagnostic]
        var reader: TraceReader

        /// One line per event (see `TraceTesting.summary`).
        var summaries: [String] { events.map(TraceTesting.summary) }
        /// `line:column code` per diagnostic.
        var diagnosticSummaries: [String] { diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code)" } }
    }

    /// Reads `text` to the end.
    static func read(_ text: String, format: TraceFormat? = nil, options: TraceReader.Options? = nil) -> Read {
        var options = options ?? TraceReader.Options(fileName: "t")
        if let format { options.format = format }
        let reader = TraceReader(bytes: Array(text.utf8), options: options)
        let events = Array(reader)
        return Read(events: events, diagnostics: reader.diagnostics, reader: reader)
    }

    /// Reads a fixture to the end, through the file API.
    static func readFixture(_ name: String, format: TraceFormat? = nil) throws -> Read {
        let reader = try TraceReader(path: path(name), options: .init(format: format, fileName: name))
        let events = Array(reader)
        return Read(events: events, diagnostics: reader.diagnostics, reader: reader)
    }

    /// `6 A1.1 write /local/x = "v"`: line, connection (with `.tid`), operation, path, value, and
    /// `h=`, `replay=`, `truncated` when set. Times are checked separately.
    static func summary(_ event: TraceEvent) -> String {
        var text = "\(event.line) \(event.connection)"
        if let transaction = event.transaction { text += ".\(transaction)" }
        text += " \(operationName(event.operation))"
        if let path = event.path { text += " \(path)" }
        if let value = event.value { text += " = \(value.debugDescription)" }
        if let handle = event.handle { text += " h=\(String(handle, radix: 16))" }
        if let replayOf = event.replayOf { text += " replay=\(replayOf)" }
        if event.truncated { text += " truncated" }
        return text
    }

    static func operationName(_ operation: XenstoreTrace.Operation) -> String {
        switch operation {
        case .write: "write"
        case .mkdir: "mkdir"
        case .rm: "rm"
        case .setPermissions(let permissions): "setperms[\(permissions.map(\.description).joined(separator: ","))]"
        case .read: "read"
        case .directory: "directory"
        case .getPermissions: "getperms"
        case .watch: "watch"
        case .unwatch: "unwatch"
        case .transactionStart: "tx_start"
        case .transactionEnd(let commit): "tx_end(\(commit.map { $0 ? "T" : "F" } ?? "?"))"
        case .transactionOutcome(let outcome): "tx_outcome(\(outcome.rawValue))"
        case .introduce(let domid): "introduce(\(domid))"
        case .release(let domid): "release(\(domid))"
        case .resume(let domid): "resume(\(domid))"
        case .setTarget(let domid, let target): "set_target(\(domid),\(target))"
        case .resetWatches: "reset_watches"
        case .newConnection: "newconn"
        case .endConnection: "endconn"
        case .watchEvent: "watch_event"
        case .errorReply(let name): "error(\(name))"
        case .other(let name): "other(\(name))"
        }
    }

    /// Milliseconds since the epoch of 2026-11-27T10:00:00Z.
    static let base: Int64 = 1_795_773_600_000
}
