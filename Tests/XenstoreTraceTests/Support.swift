import Foundation
import PolicyDiagnostics
import Testing

@testable import XenstoreTrace

/// Helpers shared by the trace reader tests.
enum TraceTesting {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    /// All events, the diagnostics and the reader of `text`.
    static func read(_ text: String, format: TraceFormat? = nil) -> (events: [TraceEvent], diagnostics: [Diagnostic], reader: TraceReader) {
        let reader = TraceReader(bytes: Array(text.utf8), options: .init(format: format, fileName: "t"))
        let events = Array(reader)
        return (events, reader.diagnostics, reader)
    }

    /// All events of a fixture, with its diagnostics.
    static func readFixture(_ name: String, format: TraceFormat? = nil) throws -> (events: [TraceEvent], diagnostics: [Diagnostic], reader: TraceReader) {
        let reader = try TraceReader(path: path(name), options: .init(format: format))
        let events = Array(reader)
        return (events, reader.diagnostics, reader)
    }
}
