import PolicyDiagnostics
import PolicyModel
import ProtocolChecker
import ProtocolModel
import Testing

/// `labels` checked against an ACM policy (E0750, E0751).
@Suite struct LabelBindingTests {
    /// Blue and Red share no STE type; SystemManagement has both.
    static let policy = Policy(
        name: "mini", simpleTypeEnforcement: TypeSet(types: ["B", "R"]), chineseWall: nil, bootstrapLabel: "SystemManagement",
        vmLabels: [
            Label(kind: .virtualMachine, name: "SystemManagement", steTypes: ["B", "R"], chineseWallTypes: nil),
            Label(kind: .virtualMachine, name: "Blue", steTypes: ["B"], chineseWallTypes: nil),
            Label(kind: .virtualMachine, name: "Red", steTypes: ["R"], chineseWallTypes: nil),
        ],
        resourceLabels: [Label(kind: .resource, name: "Disk", steTypes: ["B"], chineseWallTypes: nil)])

    static func bind(_ labels: String) throws -> [Diagnostic] {
        let (definitions, diagnostics) = checkWithLibrary("protocol p extends xb {\n\(labels)\n}\n")
        #expect(diagnostics.map(describe) == [])
        #expect(definitions.count == 1)
        return LabelBindingCheck.check(definitions, against: policy)
    }

    @Test func compatibleLabelsAreAccepted() throws {
        #expect(
            try Self.bind(
                """
                  labels frontend = "Blue" | "Red" | "SystemManagement";
                  labels backend = "SystemManagement";
                """
            ).map(describe) == [])
    }

    @Test func e0750UnknownLabel() throws {
        let diagnostic = try expectSingle(
            Self.bind(#"  labels frontend = "Blu" | "Blue";"#), "E0750", .error, line: 2, column: 21)
        #expect(diagnostic.message == "protocol 'p' lets VM label 'Blu' act as frontend, but 'mini' has no such VM label")
        #expect(diagnostic.hint == "did you mean 'Blue'?")
    }

    /// A resource label is not a VM label.
    @Test func e0750ResourceLabel() throws {
        let diagnostic = try expectSingle(Self.bind(#"  labels backend = "Disk";"#), "E0750", .error, line: 2, column: 20)
        #expect(diagnostic.hint == nil)
    }

    @Test func e0751NoCommonSTEType() throws {
        let diagnostic = try expectSingle(
            Self.bind(
                """
                  labels frontend = "Blue";
                  labels backend = "Red" | "SystemManagement";
                """), "E0751", .error, line: 2, column: 21)
        #expect(
            diagnostic.message == "protocol 'p' pairs frontend label 'Blue' with backend label 'Red', which share no STE type")
        #expect(diagnostic.notes.map(\.message) == ["backend label 'Red' is permitted here"])
        #expect(diagnostic.notes.first?.location?.line == 3)
        #expect(diagnostic.notes.first?.location?.column == 20)
    }

    /// The last `labels` of a role replaces earlier ones.
    @Test func labelsDeclaredAgainReplace() throws {
        #expect(
            try Self.bind(
                """
                  labels frontend = "Blue";
                  labels backend = "Red";
                  labels backend = "SystemManagement";
                """
            ).map(describe) == [])
    }
}
