import Foundation
import PolicyDiagnostics
import PolicyDiff
import PolicyModel
import Testing
import XenPolicyKit

/// Whole files through `DiffPipeline`: generations, blobs with maps, and the no-change property.
@Suite struct DiffPipelineTests {
    func run(_ old: String, _ new: String, target: Target? = nil) -> DiffPipeline.Outcome {
        DiffPipeline().run(DiffPipeline.Request(old: old, new: new, target: target))
    }

    @Test func reorderedAndReformattedPolicyShowsNoChange() throws {
        let outcome = run(Paths.example("xm-test.xml"), Paths.fixture("xm-test-reordered.xml"))
        let report = try #require(outcome.report, "\(outcome.diagnostics)")
        #expect(report.changes.isEmpty, "\(report.changes)")
        #expect(report.effects.isEmpty)
        #expect(report.diagnostics.isEmpty)
        #expect(!report.hasChanges)
        #expect(report.target == .xen41)
    }

    @Test func xmTestUpdate() throws {
        let outcome = run(Paths.example("xm-test.xml"), Paths.example("xm-test-update.xml"))
        let report = try #require(outcome.report, "\(outcome.diagnostics)")
        #expect(report.summary(.header) == ["added from_policy", "changed name", "changed version"])
        // Changes are sorted by name (code point), so a rename and its type change stay together.
        #expect(
            report.summary(.vmLabel) == [
                "renamed green->GREEN", "types_changed GREEN", "types_changed SystemManagement", "added __UNLABELED__", "removed blue",
            ])
        #expect(
            report.summary(.resourceLabel) == [
                "renamed green->GREEN", "types_changed GREEN", "renamed red->RED", "added __UNLABELED__", "removed blue",
            ])
        #expect(report.summary(.steType) == ["added GREEN", "added __UNLABELED__", "removed blue", "removed green"])
        #expect(report.summary(.conflictSet) == ["types_changed RER"])
        // The label green became GREEN, with the type GREEN: ssid 3 -> 2 in xend's sorted numbering.
        #expect(report.summary(.ssidref).contains("changed green->GREEN"))
        // red and GREEN are now in conflict; red and blue were.
        #expect(strings(report.effects.blockGained) == ["[GREEN, red]", "[red, GREEN]"])
        #expect(strings(report.effects.blockLost) == ["[blue, red]", "[red, blue]"])
        // __UNLABELED__'s type is among the bootstrap label's: it may run and share with Domain-0.
        #expect(report.effects.runGained == ["__UNLABELED__"] && report.effects.runLost == ["blue"])
        #expect(strings(report.effects.shareGained) == ["[SystemManagement, __UNLABELED__]"])
        #expect(strings(report.effects.shareLost) == ["[SystemManagement, blue]"])
        #expect(report.widensAccess)
        // xm-test-update names xm-test 1.0 and grows the version; blue is removed.
        #expect(report.codes == ["N0601"])
        // The renamed label keeps its location in NEW.
        let green = try #require(report.changes.first { $0.category == .vmLabel && $0.kind == .renamed })
        #expect(green.location?.file == Paths.example("xm-test-update.xml"))
        #expect((green.location?.line ?? 0) > 0)
    }

    @Test func widenedExample() throws {
        let report = try #require(run(Paths.example("mini.xml"), Paths.fixture("mini-widened.xml")).report)
        #expect(strings(report.effects.shareGained) == ["[Blue, Red]", "[Green, SystemManagement]"])
        #expect(strings(report.effects.blockLost) == ["[Blue, Red]", "[Red, Blue]"])
        #expect(strings(report.effects.resourceGained) == ["[Blue, RedDisk]"])
        #expect(report.effects.runGained == ["Green"])
        #expect(report.widensAccess)
        #expect(report.diagnostics.isEmpty)
    }

    @Test func blobWithItsMapEqualsItsPolicy() throws {
        for (blob, policy) in [
            ("mini.xen-4.1.bin", "Examples/policies/mini.xml"), ("mini.xen-3.1.bin", "Examples/policies/mini.xml"),
        ] {
            let outcome = run(Paths.conformance(blob), Paths.packageRoot.appendingPathComponent(policy).path)
            let report = try #require(outcome.report, "\(outcome.diagnostics)")
            #expect(report.old.isBlob)
            #expect(!report.hasChanges, "\(blob): \(report.changes)")
        }
    }

    @Test func generationIsDetectedAndTheNewerOneIsTheTarget() throws {
        let g2 = Paths.example("client_v1-xen304.xml")
        let outcome = run(g2, Paths.example("mini.xml"))
        let report = try #require(outcome.report, "\(outcome.diagnostics)")
        // The G2 file also fits the Xen 3.1 schema, the newest that accepts it.
        #expect(report.old.generation == .xen31)
        #expect(report.new.generation == .xen41)
        #expect(report.target == .xen41)
        let forced = try #require(run(g2, Paths.example("mini.xml"), target: .xen304).report)
        #expect(forced.target == .xen304)
    }

    @Test func xen302PolicyFindsItsLabelTemplate() throws {
        let policy = Paths.example("xen302/chwall_ste-security_policy.xml")
        let labels = Paths.example("xen302/chwall_ste-security_label_template.xml")
        let outcome = run(policy, policy + "+" + labels)
        let report = try #require(outcome.report, "\(outcome.diagnostics)")
        #expect(report.old.generation == .xen302 && report.target == .xen302)
        #expect(!report.hasChanges)
    }

    @Test func inputErrors() {
        let xpd = run(Paths.example("mini.xml"), "vbd.xpd")
        #expect(xpd.report == nil && xpd.status == .usageOrIOError && xpd.diagnostics.map(\.code) == ["E0602"])
        let missing = run("/nonexistent/p.xml", Paths.example("mini.xml"))
        #expect(missing.report == nil && missing.diagnostics.map(\.code) == ["E0001"])
        let template = Paths.example("xen302/chwall_ste-security_label_template.xml")
        // A label template alone is a G1 document but not a policy.
        #expect(run(template, Paths.example("mini.xml")).report == nil)
    }

    @Test func blobWithoutMap() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let blob = directory.appendingPathComponent("lonely.bin").path
        try FileManager.default.copyItem(atPath: Paths.conformance("mini.xen-4.1.bin"), toPath: blob)
        let outcome = run(blob, Paths.example("mini.xml"))
        #expect(outcome.report == nil)
        #expect(outcome.diagnostics.map(\.code) == ["E0603"])
    }
}
