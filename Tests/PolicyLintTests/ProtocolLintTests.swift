import Foundation
import PolicyDiagnostics
import PolicyLint
import Testing
import XenPolicyKit

/// Linting `.xpd` protocol descriptions: loading with imports, descriptions that do not check, the
/// `//` suppressions and their scopes, libraries, and what lint leaves to the checker.
@Suite struct ProtocolLintTests {
    /// A small library and a protocol extending it; the protocol's handshake is the examples' clean one.
    static let library = """
        library xb {
          enum XenbusState { Unknown = 0, Initialising = 1, InitWait = 2, Initialised = 3,
                             Connected = 4, Closing = 5, Closed = 6 }
          type u32 = uint [0 .. 4294967296);
          params (fe: u32, be: u32, devid: u32);
          role frontend = domain(fe);
          role backend = domain(be);
          role toolstack = privileged;
          key fe.state : enum XenbusState init toolstack = Initialising writer frontend;
          key be.state : enum XenbusState init toolstack = Initialising writer backend;
          key be/sectors : u32;
        }

        """

    /// The clean example protocol, renamed, extending `xb` (whose `be/sectors` nobody writes).
    static func protocolExtendingLibrary(name: String = "p", directory: String = "x", before: String = "") -> String {
        let own = ExampleSource.description(name: name, directory: directory)
        return "import xb;\n\n\(before)" + own.replacingOccurrences(of: "protocol \(name) {", with: "protocol \(name) extends xb {")
    }

    func rules(_ result: LintPipeline.Result) -> [String] { result.findings.map(\.rule) }

    func lint(_ source: String, selection: RuleSelection = RuleSelection()) -> LintPipeline.Result {
        LintTestSupport.lint(protocolDescription: source, selection: selection)
    }

    // MARK: - Checking

    @Test func aCleanDescriptionHasNoFindings() {
        let result = lint(ExampleSource.description())
        #expect(result.status == .success)
        #expect(result.protocols == ["p"])
        #expect(result.findings.isEmpty, "\(result.findings)")
    }

    /// E0742 is the checker's: lint reports the diagnostic (once) and runs no rule.
    @Test func aDescriptionWithCheckerErrorsGetsTheCheckersDiagnostics() {
        let source = ExampleSource.description(
            extra: [
                "dir priv = \"/local/domain/0/private/{devid}\" owner toolstack;",
                "key priv/secret : string init toolstack;",
                "key priv/device : string init toolstack link fe;",
                "key be/sectors : u32;",
            ],
            frontendGuard: "be.state == Connected && present(priv/secret)")
        let result = lint(source)
        #expect(result.status == .inputError)
        #expect(result.protocols.isEmpty)
        #expect(rules(result) == ["E0742"], "\(result.findings)")
        #expect(result.findings.first?.severity == .error)
    }

    @Test func syntaxErrorsAreReported() {
        let result = lint("protocol p { key ; }\n")
        #expect(result.status == .inputError)
        #expect(rules(result).allSatisfy { $0.hasPrefix("E07") } && !result.findings.isEmpty)
    }

    /// A hundred thousand malformed declarations were a finding each; lint reports what `compile --rules`
    /// does: the first 200 and a note (N0701) counting the rest. (A run of empty declarations is one
    /// finding: stray tokens in a block are one E0710.)
    @Test func aFloodOfSyntaxErrorsIsBounded() throws {
        let result = lint("protocol p { " + String(repeating: "key ; ", count: 100_000) + "}\n")
        #expect(result.status == .inputError)
        #expect(result.findings.count == 201)
        let note = try #require(result.findings.last)
        #expect(note.rule == "N0701")
        #expect(note.severity == .info)
        #expect(note.message.hasPrefix("99800 more diagnostics (99800 errors) were counted but not shown"))
        #expect(result.findings.dropLast().allSatisfy { $0.rule == "E0710" })
    }

    /// The checker's warnings are left to `xen-policyc compile --rules`; W0744's counterpart is a rule.
    @Test func checkerWarningsAreLeftToTheCompiler() {
        let source = ExampleSource.description(expectations: Array(ExampleSource.expectations.dropLast()))
        let result = lint(source)
        #expect(result.status == .success)
        #expect(rules(result) == ["state-without-expectation"])
        #expect(result.findings.first?.message == "reachable state (fe=Connected, be=Closed) of 'p' has no liveness expectation")
    }

    // MARK: - Inputs and imports

    @Test func importsAreFoundBesideTheFileAndWithSearchPaths() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let libraries = directory.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: libraries, withIntermediateDirectories: true)
        try Self.library.write(to: libraries.appendingPathComponent("xb.xpd"), atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("p.xpd").path
        try Self.protocolExtendingLibrary().write(toFile: path, atomically: true, encoding: .utf8)
        let input = LintInput(kind: .protocolDescription, path: path)

        let missing = LintPipeline().lint(input)
        #expect(missing.status == .inputError)
        #expect(rules(missing).contains("E0720"))

        let found = LintPipeline(searchPaths: [libraries.path]).lint(input)
        #expect(found.status == .success)
        // The library's key nobody writes is reported where it is declared.
        #expect(rules(found) == ["unwritten-key"])
        #expect(found.findings.first?.location == SourceLocation(file: libraries.path + "/xb.xpd", line: 11, column: 7))
        // Excerpts can show the library's lines.
        #expect(found.sources.text(ofLine: 11, in: libraries.path + "/xb.xpd")?.contains("be/sectors") == true)
    }

    /// A library's suppressions cover the findings in it for every protocol that extends it, and are
    /// judged (unknown rules, reasons) only when the library itself is linted, which runs no rule.
    @Test func librarySuppressionsAndLibrariesOnTheirOwn() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let suppressed = Self.library.replacingOccurrences(
            of: "  key be/sectors : u32;",
            with: "  // xen-policy-disable unwritten-key, unused-role: sized by hand\n  key be/sectors : u32;")
        let library = directory.appendingPathComponent("xb.xpd").path
        try suppressed.write(toFile: library, atomically: true, encoding: .utf8)
        let path = directory.appendingPathComponent("p.xpd").path
        try Self.protocolExtendingLibrary().write(toFile: path, atomically: true, encoding: .utf8)

        let result = LintPipeline().lint(LintInput(kind: .protocolDescription, path: path))
        #expect(result.status == .success)
        #expect(result.findings.isEmpty, "\(result.findings)")

        // On its own the library runs no rule, so 'unused-role' (which suppresses nothing there) is not
        // reported; nor is anything else.
        let alone = LintPipeline().lint(LintInput(kind: .protocolDescription, path: library))
        #expect(alone.status == .success)
        #expect(alone.protocols.isEmpty)
        #expect(alone.findings.isEmpty, "\(alone.findings)")
    }

    /// Two protocols of one file extending one library report a finding in it once.
    @Test func findingsInASharedLibraryAreReportedOnce() {
        let source =
            Self.library
            + Self.protocolExtendingLibrary(name: "p", directory: "x").replacingOccurrences(of: "import xb;\n\n", with: "")
            + Self.protocolExtendingLibrary(name: "q", directory: "y").replacingOccurrences(of: "import xb;\n\n", with: "")
        let result = lint(source)
        #expect(result.protocols == ["p", "q"])
        #expect(rules(result) == ["unwritten-key"], "\(result.findings)")
    }

    @Test func directoriesHoldPoliciesAndProtocolDescriptions() throws {
        let directory = try LintTestSupport.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("protocols"), withIntermediateDirectories: true)
        for name in ["a.xml", "protocols/b.xpd", "protocols/xb.xpd", "notes.md"] {
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data("x".utf8))
        }
        let (inputs, problems) = LintInput.expand([directory.path])
        #expect(problems.isEmpty)
        let base = directory.path
        #expect(
            inputs == [
                LintInput(path: base + "/a.xml"), LintInput(kind: .protocolDescription, path: base + "/protocols/b.xpd"),
                LintInput(kind: .protocolDescription, path: base + "/protocols/xb.xpd"),
            ])
    }

    // MARK: - Suppression

    /// `unwritten-key` at `be/sectors` and `be/debug`, `unused-role` at `hotplug`.
    static func findings(before sectors: String = "", before debug: String = "", top: String = "", beforeHotplug: String = "")
        -> String
    {
        top
            + ExampleSource.description(extra: [
                "\(sectors)key be/sectors : u32;",
                "\(debug)key be/debug : string;",
                "\(beforeHotplug)role hotplug = backend;",
            ])
    }

    @Test func unsuppressedDescriptionHasItsFindings() {
        #expect(rules(lint(Self.findings())) == ["unwritten-key", "unwritten-key", "unused-role"])
    }

    @Test func commentBeforeAnItemSuppressesThatItemOnly() {
        let result = lint(Self.findings(before: "// xen-policy-disable unwritten-key: resized by hand\n  "))
        #expect(rules(result) == ["unwritten-key", "unused-role"])
        #expect(result.findings.first?.message.contains("be/debug") == true)
    }

    @Test func commentsAndWhitespaceMayStandBetween() {
        let comment = "// xen-policy-disable unwritten-key: resized by hand\n\n  // the disk size, in sectors\n  "
        #expect(rules(lint(Self.findings(before: comment))) == ["unwritten-key", "unused-role"])
    }

    @Test func commentBeforeTheFirstUnitCoversTheFile() {
        let result = lint(Self.findings(top: "// xen-policy-disable unwritten-key, unused-role: generated\n"))
        #expect(result.findings.isEmpty, "\(result.findings)")
        // Also above the imports, with other comments between.
        let withHeader = lint(
            Self.findings(top: "// xen-policy-disable unwritten-key, unused-role: generated\n// The p protocol.\n\n"))
        #expect(withHeader.findings.isEmpty, "\(withHeader.findings)")
    }

    /// Before a unit that is not the file's first, the comment covers that unit only.
    @Test func commentBeforeALaterUnitCoversThatUnit() {
        let source =
            "library empty { }\n\n// xen-policy-disable unwritten-key, unused-role: generated\n"
            + ExampleSource.description(extra: [
                "key be/sectors : u32;", "role hotplug = backend;",
            ])
        #expect(lint(source).findings.isEmpty, "\(lint(source).findings)")
    }

    @Test func commentBeforeATransitionSuppressesIt() {
        let source = ExampleSource.description(
            frontend: ExampleSource.frontendTransitions + [
                "// xen-policy-disable unreachable-state: for the v2 frontend", "Closing -> Closed by frontend;",
                "InitWait -> Closed by frontend;",
            ])
        let result = lint(source)
        #expect(rules(result) == ["unreachable-state"])
        #expect(result.findings.first?.message == "state 'InitWait' of 'fe.state' is never reached, so this transition can never be taken")
    }

    /// A comment before a machine covers its transitions.
    @Test func commentBeforeAMachineCoversItsTransitions() {
        let source = ExampleSource.description(frontend: ExampleSource.frontendTransitions + ["Closing -> Closed by frontend;"])
            .replacingOccurrences(
                of: "  machine fe.state {", with: "  // xen-policy-disable unreachable-state: for the v2 frontend\n  machine fe.state {")
        #expect(lint(source).findings.isEmpty, "\(lint(source).findings)")
    }

    @Test func commentForAnotherRuleDoesNotSuppress() {
        let result = lint(Self.findings(before: "// xen-policy-disable unread-key: no\n  "))
        #expect(rules(result) == ["unused-suppression", "unwritten-key", "unwritten-key", "unused-role"])
        #expect(
            result.findings.first?.message == "the suppression before key 'be/sectors' suppresses 'unread-key', which reports nothing there"
        )
    }

    @Test func suppressionWithoutReasonStillSuppressesButIsReported() {
        let result = lint(Self.findings(before: "// xen-policy-disable unwritten-key\n  "))
        #expect(rules(result) == ["invalid-suppression", "unwritten-key", "unused-role"])
        #expect(result.findings.first?.message == "the suppression before key 'be/sectors' gives no reason")
    }

    @Test func unknownAndPolicyRulesAreInvalid() {
        let result = lint(Self.findings(before: "// xen-policy-disable unwriten-key, unused-type: typo\n  "))
        let invalid = result.findings.filter { $0.rule == "invalid-suppression" }
        #expect(
            invalid.map(\.message) == [
                "the suppression before key 'be/sectors' names an unknown rule 'unwriten-key'",
                "the suppression before key 'be/sectors' names 'unused-type', a rule for policy files",
            ])
        #expect(invalid.first?.hint == "did you mean 'unwritten-key'?")
        #expect(rules(result).filter { $0 == "unwritten-key" }.count == 2)
    }

    /// A comment that stands before no declaration covers nothing and says so, at the comment.
    @Test func misplacedCommentIsInvalid() {
        let source = ExampleSource.description(extra: ["key be/sectors : u32 writer backend;"])
            .replacingOccurrences(of: "\n}\n", with: "\n  // xen-policy-disable unwritten-key: stray\n}\n")
        let result = lint(source)
        #expect(rules(result) == ["invalid-suppression"])
        let finding = result.findings.first
        #expect(finding?.message == "the suppression stands before no declaration, so it suppresses nothing")
        #expect(finding?.location.column == 3)
    }

    /// Like a policy's, the suppression rules' findings can be suppressed by a comment stacked before the same declaration.
    @Test func suppressionProblemsCanBeSuppressed() {
        let stacked = "// xen-policy-disable unused-suppression: applies from release 2\n  // xen-policy-disable unread-key: no\n  "
        #expect(rules(lint(Self.findings(before: stacked))) == ["unwritten-key", "unwritten-key", "unused-role"])
    }

    @Test func configurationAndCommandLineSelectProtocolRules() throws {
        let disabled = try RuleSelection(configuration: LintConfiguration(disable: ["unwritten-key"]))
        #expect(rules(lint(Self.findings(), selection: disabled)) == ["unused-role"])
        let severity = try RuleSelection(configuration: LintConfiguration(severity: ["unused-role": .info]))
        #expect(lint(Self.findings(), selection: severity).findings.map(\.severity) == [.warning, .warning, .info])
    }
}

/// The examples' protocol, rebuilt here with a few more knobs (directory names, guards).
enum ExampleSource {
    static let frontendTransitions = [
        "Initialising -> Connected by frontend when be.state == Connected;",
        "{Initialising, Connected} -> Closed by frontend;",
    ]

    static let expectations = [
        "expect be.state != Initialising within 10s after be.state == Initialising blame backend;",
        "expect fe.state != Initialising within 30s after fe.state == Initialising && be.state != Initialising blame frontend;",
        "expect be.state == Closed within 10s after fe.state == Closed && be.state != Closed blame backend;",
        "expect fe.state == Closed within 10s after be.state == Closed && fe.state != Closed blame frontend;",
    ]

    /// Without `extends`, the protocol declares the library's part itself.
    static func description(
        name: String = "p", directory: String = "x", extra: [String] = [], frontend: [String] = frontendTransitions,
        frontendGuard: String? = nil, expectations: [String] = expectations
    ) -> String {
        var frontend = frontend
        if let frontendGuard {
            frontend[0] = "Initialising -> Connected by frontend when \(frontendGuard);"
        }
        var lines = [
            "protocol \(name) {",
            "  enum XenbusState { Unknown = 0, Initialising = 1, InitWait = 2, Initialised = 3,",
            "                     Connected = 4, Closing = 5, Closed = 6 }",
            "  type u32 = uint [0 .. 4294967296);",
            "  params (fe: u32, be: u32, devid: u32);",
            "  role frontend = domain(fe);",
            "  role backend = domain(be);",
            "  role toolstack = privileged;",
            "  dir fe = \"/local/domain/{fe}/device/\(directory)/{devid}\" owner frontend readers backend;",
            "  dir be = \"/local/domain/{be}/backend/\(directory)/{fe}/{devid}\" owner backend readers frontend;",
            "  key fe.state : enum XenbusState init toolstack = Initialising writer frontend;",
            "  key be.state : enum XenbusState init toolstack = Initialising writer backend;",
            "  key fe/backend : string init toolstack link be;",
            "  key be/frontend : string init toolstack link fe;",
        ]
        lines += extra.map { "  " + $0 }
        lines += ["  machine fe.state {"] + frontend.map { "    " + $0 } + ["  }"]
        lines += [
            "  machine be.state {", "    Initialising -> Connected by backend;", "    {Initialising, Connected} -> Closed by backend;",
            "  }",
        ]
        lines += expectations.map { "  " + $0 }
        lines += ["}", ""]
        return lines.joined(separator: "\n")
    }
}
