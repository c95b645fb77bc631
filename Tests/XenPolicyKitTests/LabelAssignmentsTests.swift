import PolicyDiagnostics
import Testing
import XenPolicyKit

/// `replay --labels FILE`: one domain a line, `DOMID=LABEL` or `DOMID LABEL`.
@Suite struct LabelAssignmentsTests {
    static func parse(_ text: String) -> (labels: [Int: String], diagnostics: [String]) {
        let (labels, diagnostics) = LabelAssignments.parse(Array(text.utf8), file: "labels")
        return (labels, diagnostics.map { "\($0.location.line):\($0.location.column) \($0.code) \($0.message)" })
    }

    @Test func bothFormsCommentsBlankLinesAndLineEnds() {
        let parsed = Self.parse("# the host's domains\n0=SystemManagement\r\n  5   green  \n\n7=red team\n5=blue\n\t# done")
        #expect(parsed.diagnostics == [])
        // The later line for domain 5 wins; a label may hold spaces (the rest of the line).
        #expect(parsed.labels == [0: "SystemManagement", 5: "blue", 7: "red team"])
    }

    @Test func everyMalformedLineIsReportedWhereItGoesWrong() {
        let parsed = Self.parse("x=blue\n8\n70000=red\n9=\n4\t\n3=a\u{1B}[31mb\n2=ok")
        #expect(
            parsed.diagnostics == [
                "1:1 E0991 expected a domain number from 0 to 65535",
                "2:2 E0991 expected '=' or a space and a label after domain 8",
                "3:1 E0991 expected a domain number from 0 to 65535",
                "4:3 E0991 expected '=' or a space and a label after domain 9",
                "5:3 E0991 expected '=' or a space and a label after domain 4",
                "6:3 E0991 the label of domain 3 must be UTF-8 text without control characters",
            ])
        // Nothing is taken from a file with errors.
        #expect(parsed.labels.isEmpty)
    }

    @Test func invalidUTF8AndHugeNumbersAreRefused() {
        let (labels, diagnostics) = LabelAssignments.parse(
            [0x35, 0x3D, 0xFF, 0xFE, 0x0A] + Array("99999999999999999999999 x".utf8), file: "f")
        #expect(labels.isEmpty)
        #expect(diagnostics.map(\.location.line) == [1, 2])
        #expect(diagnostics.allSatisfy { $0.code == "E0991" && $0.severity == .error })
    }

    @Test func anUnreadableFileIsAnIOError() {
        let (labels, diagnostics, _) = LabelAssignments.read("/nonexistent/labels")
        #expect(labels.isEmpty)
        #expect(diagnostics.map(\.code) == ["E0001"])
    }
}
