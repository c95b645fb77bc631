import PolicyDiagnostics
import PolicyLint
import Testing
import XenPolicyKit

/// The protocol rules on key machines (`machine priv/stage`, `machine be/state-{n}`): their states,
/// the keys their guards read and the roles that take their transitions.
@Suite struct KeyMachineLintTests {
    /// A backend-private stage key driven by a key machine whose guard may read `priv/ready`.
    static func description(guardText: String? = "priv/ready == \"1\"", by role: String = "backend", extra: [String] = []) -> String {
        ExampleSource.description(
            extra: [
                "dir priv = \"/local/domain/{be}/private/x/{devid}\" owner backend;",
                "key priv/ready : \"0\" | \"1\" writer backend;",
                "key priv/stage : enum XenbusState init backend = Initialising writer backend;",
            ] + extra + [
                "machine priv/stage {",
                "  Initialising -> Initialised by \(role)\(guardText.map { " when \($0)" } ?? "");",
                "  Initialised -> Closing by backend;",
                "  Closing -> Closed by backend;",
                "}",
            ])
    }

    func findings(_ source: String, rule: String) throws -> [Finding] {
        let selection = try RuleSelection(configuration: LintConfiguration(), enable: [rule])
        let result = LintTestSupport.lint(protocolDescription: source, selection: selection)
        #expect(result.status != .inputError, "\(result.findings)")
        return result.findings.filter { $0.rule == rule }
    }

    @Test func aKeyMachineThatLintsClean() throws {
        let result = LintTestSupport.lint(protocolDescription: Self.description())
        #expect(result.findings.map(\.rule) == [], "\(result.findings)")
    }

    @Test func unreachableStateOfAKeyMachine() throws {
        // The backend never reaches Closing, so no entry is ever attached.
        let found = try findings(Self.description(guardText: "be.state == Closing"), rule: "unreachable-state")
        #expect(
            found.map(\.message) == [
                "state 'Initialised' of 'priv/stage' is never reached, so this transition can never be taken",
                "state 'Closing' of 'priv/stage' is never reached, so this transition can never be taken",
            ])
        #expect(found.map(\.location.line) == [20, 21])
        #expect(try findings(Self.description(guardText: "be.state == Connected"), rule: "unreachable-state").isEmpty)
    }

    /// A key read only by a key machine's guard is read.
    @Test func unreadKeyCountsKeyMachineGuards() throws {
        #expect(try findings(Self.description(), rule: "unread-key").isEmpty)
        let found = try findings(Self.description(guardText: nil), rule: "unread-key")
        #expect(
            found.map(\.message) == ["key 'priv/ready' is read by nothing: no expression mentions it, and only its writers may read 'priv'"]
        )
    }

    /// A role named only in a key machine's `by` is used (an alias of the key's writer may take it).
    @Test func unusedRoleCountsKeyMachineTransitions() throws {
        #expect(try findings(Self.description(by: "pciback", extra: ["role pciback = backend;"]), rule: "unused-role").isEmpty)
        let found = try findings(Self.description(extra: ["role pciback = backend;"]), rule: "unused-role")
        #expect(found.map(\.message) == ["role 'pciback' is never used"])
    }
}
