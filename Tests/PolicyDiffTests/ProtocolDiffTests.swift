import Foundation
import PolicyDiff
import Testing
import XenPolicyKit

/// `xen-policy diff` of protocol descriptions: a test per change category and per widening kind.
@Suite struct ProtocolDiffTests {
    static let base = """
        import xenbus;
        protocol demo extends xenbus {
          dir fe = "/local/domain/{fe}/device/demo/{devid}" owner frontend readers backend;
          dir be = "/local/domain/{be}/backend/demo/{fe}/{devid}" owner backend readers frontend;
          labels backend = "SystemManagement";
          key fe/ring-ref : gref writer frontend phase {Initialising};
          key be/feature : bool01 writer backend phase {Initialising, InitWait} default "0";
          key be/mode : "r" | "w" init toolstack;
          machine fe.state {
            Initialising -> Connected by frontend when seen(be.state, InitWait);
          }
          machine be.state {
            Initialising -> InitWait by backend;
          }
          guarantee fe_private: never backend write | rm on fe/ring-ref, fe/x blame writer;
          expect fe.state == Connected within 10s after be.state == InitWait blame frontend;
          option unknown_keys = deny;
        }
        """

    /// Diffs `old` against `new` (both importing the shipped xenbus library), through the pipeline.
    static func diff(_ old: String, _ new: String) throws -> PolicyDiffReport {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pdiff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let xenbus = Paths.packageRoot.appendingPathComponent("Examples/protocols/xenbus.xpd")
        try FileManager.default.copyItem(at: xenbus, to: directory.appendingPathComponent("xenbus.xpd"))
        let oldPath = directory.appendingPathComponent("old.xpd").path
        let newPath = directory.appendingPathComponent("new.xpd").path
        try old.write(toFile: oldPath, atomically: true, encoding: .utf8)
        try new.write(toFile: newPath, atomically: true, encoding: .utf8)
        let outcome = DiffPipeline().run(.init(old: oldPath, new: newPath))
        let errors = outcome.diagnostics.filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors.map(\.message))")
        return try #require(outcome.report)
    }

    static func diff(replacing target: String, with replacement: String) throws -> PolicyDiffReport {
        #expect(base.contains(target))
        return try diff(base, base.replacingOccurrences(of: target, with: replacement))
    }

    /// `kind name attribute` of each change of a category.
    static func lines(_ report: PolicyDiffReport, _ category: PolicyChange.Category) -> [String] {
        report.changes.filter { $0.category == category }.map { "\($0.kind.rawValue) \($0.name)" + ($0.attribute.map { " " + $0 } ?? "") }
    }

    static func widenings(_ report: PolicyDiffReport) -> [String] {
        report.protocolWidenings.map { "\($0.kind.rawValue) \($0.subject)" }
    }

    @Test func identicalAndReorderedDescriptionsShowNoChange() throws {
        let reordered = """
            import xenbus;
            // Same protocol, other order and layout.
            protocol demo extends xenbus {
              option unknown_keys = deny;
              expect fe.state == Connected   within 10000ms after be.state == InitWait blame frontend;
              guarantee fe_private: never backend rm | write on fe/x, fe/ring-ref blame writer;
              machine be.state { Initialising -> InitWait by backend; }
              machine fe.state { Initialising -> Connected by frontend when seen(be.state, InitWait); }
              key be/mode : "r" | "w" init toolstack;
              key be/feature : bool01 writer backend phase {InitWait, Initialising} default "0";
              key fe/ring-ref : gref writer frontend phase {Initialising};
              labels backend = "SystemManagement";
              dir be = "/local/domain/{be}/backend/demo/{fe}/{devid}" owner backend readers frontend;
              dir fe = "/local/domain/{fe}/device/demo/{devid}" owner frontend readers backend;
            }
            """
        let report = try Self.diff(Self.base, reordered)
        #expect(report.changes.isEmpty, "\(report.changes)")
        #expect(!report.hasChanges)
        #expect(!report.widensAccess)
        #expect(DiffTextRenderer().render(report).contains("\nno changes\n"))
    }

    @Test func protocolAddedAndRemoved() throws {
        let report = try Self.diff(Self.base, Self.base.replacingOccurrences(of: "protocol demo", with: "protocol demo2"))
        #expect(Self.lines(report, .protocol) == ["removed demo", "added demo2"])
    }

    @Test func keyAddedRemovedAndWriterGained() throws {
        let report = try Self.diff(
            replacing: "key be/mode : \"r\" | \"w\" init toolstack;", with: "key be/speed : u32 writer backend;")
        #expect(Self.lines(report, .protocolKey) == ["removed be/mode", "added be/speed"])
        #expect(Self.widenings(report) == ["writer_gained be/speed"])
    }

    @Test func keyWritersAndInitialisersGainedWiden() throws {
        let report = try Self.diff(
            replacing: "key fe/ring-ref : gref writer frontend phase {Initialising};",
            with: "key fe/ring-ref : gref init toolstack writer frontend | toolstack phase {Initialising};")
        #expect(Self.lines(report, .protocolKey) == ["changed fe/ring-ref initialisers", "changed fe/ring-ref writers"])
        #expect(Self.widenings(report) == ["writer_gained fe/ring-ref", "initializer_gained fe/ring-ref"])
        let writers = try #require(report.changes.first { $0.attribute == "writers" })
        #expect(writers.oldValue == .types(["frontend"]))
        #expect(writers.newValue == .types(["frontend", "toolstack"]))
        #expect(report.widensAccess)
    }

    @Test func keyPhaseWidenedAndNarrowed() throws {
        let widened = try Self.diff(replacing: "phase {Initialising};", with: "phase {Initialising, InitWait};")
        #expect(Self.lines(widened, .protocolKey) == ["changed fe/ring-ref phase"])
        #expect(widened.protocolWidenings.map(\.detail) == ["phase gained InitWait"])
        let dropped = try Self.diff(replacing: "gref writer frontend phase {Initialising};", with: "gref writer frontend;")
        #expect(Self.widenings(dropped) == ["phase_widened fe/ring-ref"])
        let narrowed = try Self.diff(replacing: "phase {Initialising, InitWait}", with: "phase {Initialising}")
        #expect(Self.lines(narrowed, .protocolKey) == ["changed be/feature phase"])
        #expect(narrowed.protocolWidenings.isEmpty)
        #expect(!narrowed.widensAccess)
    }

    @Test func keyTypeDefaultDeprecatedAndCondition() throws {
        let report = try Self.diff(
            replacing: "key be/feature : bool01 writer backend phase {Initialising, InitWait} default \"0\";",
            with: "key be/feature : u32 writer backend phase {Initialising, InitWait} default \"1\" deprecated if present(be/mode);")
        #expect(
            Self.lines(report, .protocolKey) == [
                "changed be/feature condition", "changed be/feature default", "changed be/feature deprecated", "changed be/feature type",
            ])
        #expect(report.protocolWidenings.isEmpty)
    }

    @Test func directoryTemplateOwnerAndReaders() throws {
        let report = try Self.diff(
            replacing: "\"/local/domain/{be}/backend/demo/{fe}/{devid}\" owner backend readers frontend;",
            with: "\"/local/domain/{be}/backend/demo2/{fe}/{devid}\" owner backend readers frontend, toolstack;")
        #expect(Self.lines(report, .protocolDirectory) == ["changed be readers", "changed be template"])
    }

    @Test func transitionAddedRemovedAndGuardChanged() throws {
        let added = try Self.diff(
            replacing: "Initialising -> InitWait by backend;",
            with: "Initialising -> InitWait by backend;\n    InitWait -> Connected by backend;")
        #expect(Self.lines(added, .protocolTransition) == ["added be.state {InitWait} -> Connected by {backend}"])
        #expect(Self.widenings(added) == ["transition_added be.state {InitWait} -> Connected by {backend}"])

        let removed = try Self.diff(replacing: "Initialising -> InitWait by backend;", with: "")
        #expect(Self.lines(removed, .protocolTransition) == ["removed be.state {Initialising} -> InitWait by {backend}"])
        #expect(removed.protocolWidenings.isEmpty)

        let guarded = try Self.diff(replacing: "seen(be.state, InitWait)", with: "seen(be.state, Connected)")
        #expect(Self.lines(guarded, .protocolTransition) == ["changed fe.state {Initialising} -> Connected by {frontend} guard"])
        #expect(guarded.protocolWidenings.isEmpty)

        let unguarded = try Self.diff(replacing: " when seen(be.state, InitWait)", with: "")
        #expect(Self.widenings(unguarded) == ["guard_removed fe.state {Initialising} -> Connected by {frontend}"])
    }

    /// The turn table is derived: a changed guard shows what it does to `blame turn`, state by state.
    @Test func turnTableChangesFollowGuards() throws {
        let report = try Self.diff(replacing: "seen(be.state, InitWait)", with: "seen(be.state, InitWait) && present(be/feature)")
        let turns = report.changes.filter { $0.category == .protocolTurn }
        #expect(
            turns.map { "\($0.kind.rawValue) \($0.name) \($0.attribute ?? "")" } == [
                "changed (Initialising, Closed) whose_turn", "changed (Initialising, Initialising) whose_turn",
            ])
        // The frontend's move now also waits for be/feature: while it is missing, only the backend can
        // act, and a stall is the backend's alone.
        let change = try #require(turns.first { $0.name == "(Initialising, Initialising)" })
        #expect(change.oldValue == .text("if seen(be.state, InitWait): backend, frontend; otherwise: backend"))
        #expect(change.newValue == .text("if seen(be.state, InitWait) && present(be/feature): backend, frontend; otherwise: backend"))
        // The same guard written another way compiles the same: no change to the table either.
        let reworded = try Self.diff(
            replacing: "seen(be.state, InitWait)", with: "(seen(be.state, InitWait))")
        #expect(Self.lines(reworded, .protocolTurn).isEmpty)
    }

    /// A key machine's transitions are compared like a directory machine's, named after the key family.
    @Test func keyMachineTransitionAdded() throws {
        let family = """
              key be/num : u32 init toolstack writer toolstack;
              key be/state-{n} : enum XenbusState init toolstack = Initialising writer toolstack | backend
                                 for n in [0 .. val(be/num, 0));
              machine be/state-{n} { Initialising -> Initialised by backend; }
            """
        let old = Self.base.replacingOccurrences(of: "  option unknown_keys = deny;", with: family + "\n  option unknown_keys = deny;")
        let new = old.replacingOccurrences(
            of: "Initialising -> Initialised by backend; }",
            with: "Initialising -> Initialised by backend;\n    Initialised -> Closing by toolstack; }")
        #expect(new != old)
        let report = try Self.diff(old, new)
        #expect(Self.lines(report, .protocolTransition) == ["added be/state-{n} {Initialised} -> Closing by {toolstack}"])
        #expect(Self.widenings(report) == ["transition_added be/state-{n} {Initialised} -> Closing by {toolstack}"])
    }

    @Test func guaranteeRemovedAddedAndWeakened() throws {
        let removed = try Self.diff(
            replacing: "guarantee fe_private: never backend write | rm on fe/ring-ref, fe/x blame writer;", with: "")
        #expect(Self.lines(removed, .protocolGuarantee) == ["removed fe_private"])
        #expect(Self.widenings(removed) == ["guarantee_removed fe_private"])

        let weakerOps = try Self.diff(replacing: "never backend write | rm on", with: "never backend write on")
        #expect(Self.lines(weakerOps, .protocolGuarantee) == ["changed fe_private"])
        #expect(weakerOps.protocolWidenings.map(\.detail) == ["operations lost rm"])

        let weakerPaths = try Self.diff(replacing: "on fe/ring-ref, fe/x blame", with: "on fe/ring-ref blame")
        #expect(weakerPaths.protocolWidenings.map(\.detail) == ["paths lost fe/x"])

        let weakerRoles = try Self.diff(replacing: "never backend write | rm", with: "never backend | toolstack write | rm")
        #expect(Self.lines(weakerRoles, .protocolGuarantee) == ["changed fe_private"])
        #expect(weakerRoles.protocolWidenings.isEmpty, "more roles is stronger")

        let unless = try Self.diff(replacing: "fe/x blame writer", with: "fe/x unless be.state == Closed blame writer")
        #expect(unless.protocolWidenings.map(\.detail) == ["unless added"])
    }

    @Test func expectationRemovedAndTimeout() throws {
        let line = "expect fe.state == Connected within 10s after be.state == InitWait blame frontend;"
        let removed = try Self.diff(replacing: line, with: "")
        #expect(Self.lines(removed, .protocolExpectation).count == 1)
        #expect(Self.widenings(removed).map { $0.hasPrefix("expectation_removed ") } == [true])

        let slower = try Self.diff(replacing: "within 10s", with: "within 30s")
        #expect(Self.lines(slower, .protocolExpectation).map { $0.hasSuffix(" timeout") } == [true])
        #expect(slower.protocolWidenings.map(\.kind) == [.timeoutIncreased])

        let faster = try Self.diff(replacing: "within 10s", with: "within 5s")
        #expect(faster.protocolWidenings.isEmpty)

        let blame = try Self.diff(replacing: "InitWait blame frontend", with: "InitWait blame turn")
        #expect(Self.lines(blame, .protocolExpectation).map { $0.hasSuffix(" blame") } == [true])
    }

    @Test func unknownKeysRelaxedAndTightened() throws {
        let relaxed = try Self.diff(replacing: "unknown_keys = deny", with: "unknown_keys = audit")
        #expect(Self.lines(relaxed, .protocolOption) == ["changed unknown_keys"])
        #expect(Self.widenings(relaxed) == ["unknown_keys_relaxed unknown_keys"])
        let tightened = try Self.diff(Self.base.replacingOccurrences(of: "unknown_keys = deny", with: "unknown_keys = allow"), Self.base)
        #expect(tightened.protocolWidenings.isEmpty)
    }

    @Test func labelsAndRoles() throws {
        let labels = try Self.diff(
            replacing: "labels backend = \"SystemManagement\";", with: "labels backend = \"SystemManagement\" | \"red\";")
        #expect(Self.lines(labels, .protocolLabels) == ["changed backend"])
        #expect(Self.widenings(labels) == ["labels_widened backend"])
        let role = try Self.diff(
            replacing: "protocol demo extends xenbus {", with: "protocol demo extends xenbus {\n  role hotplug = toolstack;")
        #expect(Self.lines(role, .protocolRole) == ["changed hotplug principal"])
    }

    @Test func jsonShape() throws {
        let report = try Self.diff(replacing: "unknown_keys = deny", with: "unknown_keys = allow")
        let text = DiffJSONRenderer().render(report)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.count == 1)
        #expect(changes[0]["category"] as? String == "protocol_option")
        #expect(changes[0]["protocol"] as? String == "demo")
        #expect(changes[0]["name"] as? String == "unknown_keys")
        #expect(changes[0]["old"] as? String == "deny")
        #expect(changes[0]["new"] as? String == "allow")
        let widened = try #require(object["protocol_widened"] as? [[String: String]])
        #expect(widened == [["protocol": "demo", "kind": "unknown_keys_relaxed", "subject": "unknown_keys", "detail": "deny -> allow"]])
        #expect(object["access_widens"] as? Bool == true)
        #expect(object["target"] is NSNull)
        let old = try #require(object["old"] as? [String: Any])
        #expect(old["protocols"] as? [String] == ["demo"])
        #expect((object["effects"] as? [String: Any])?["share_gained"] as? [Any] != nil)
    }

    @Test func textAndMarkdown() throws {
        let report = try Self.diff(replacing: "phase {Initialising};", with: "phase {Initialising, InitWait};")
        let text = DiffTextRenderer().render(report)
        #expect(text.contains("protocol demo\n  keys\n    ~ fe/ring-ref phase {Initialising} -> {Initialising, InitWait}"))
        #expect(text.contains("widened phase_widened: demo: fe/ring-ref: phase gained InitWait"))
        #expect(text.contains("1 change; access widens: protocol widened 1"))
        let markdown = DiffMarkdownRenderer().render(report)
        #expect(markdown.hasPrefix("### Protocol diff: "))
        #expect(markdown.contains("**Access widens.**"))
        #expect(markdown.contains("- `phase_widened` `demo` `fe/ring-ref`: phase gained InitWait"))
    }

    @Test func mixingAPolicyAndAProtocolIsAUsageError() {
        let outcome = DiffPipeline().run(.init(old: Paths.example("mini.xml"), new: "Examples/protocols/vbd.xpd"))
        #expect(outcome.report == nil)
        #expect(outcome.status == .usageOrIOError)
        #expect(outcome.diagnostics.map(\.code.rawValue) == ["E0602"])
    }
}
