import Foundation
import Testing

/// Compares command output with the golden files in `Tests/CLITests/Goldens/`.
///
/// Run with `XEN_POLICY_RECORD_GOLDENS=1` to write the current output as the new golden files
/// (then review the change with `git diff` before committing it); a recording run records an issue
/// for each file it rewrote, so that it cannot pass unnoticed.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    static var recording: Bool { ProcessInfo.processInfo.environment["XEN_POLICY_RECORD_GOLDENS"] == "1" }

    /// Expects `actual` to equal the golden file `name`; reports the first differing line.
    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = directory.appendingPathComponent(name)
        let expected = try? String(contentsOf: file, encoding: .utf8)
        if recording {
            if expected != actual {
                try actual.write(to: file, atomically: true, encoding: .utf8)
                Issue.record("re-recorded \(name)", sourceLocation: sourceLocation)
            }
            return
        }
        guard let expected else {
            Issue.record(
                "no golden file \(name); run the tests with XEN_POLICY_RECORD_GOLDENS=1 to create it", sourceLocation: sourceLocation)
            return
        }
        guard expected != actual else { return }
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let common = min(expectedLines.count, actualLines.count)
        let line = (0..<common).first { expectedLines[$0] != actualLines[$0] } ?? common
        Issue.record(
            """
            output differs from \(name) at line \(line + 1):
              expected: \(line < expectedLines.count ? String(expectedLines[line]) : "(end of file)")
              actual:   \(line < actualLines.count ? String(actualLines[line]) : "(end of output)")
            (XEN_POLICY_RECORD_GOLDENS=1 re-records it)
            """, sourceLocation: sourceLocation)
    }
}
