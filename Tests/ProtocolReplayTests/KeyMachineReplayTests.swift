import Foundation
import Testing

/// pci's per-device sub-state machine (`machine be/state-{n}` in pci.xpd), judged entry by entry on
/// variants of `Examples/traces/pci-hotplug.jsonl`.
@Suite struct KeyMachineReplayTests {
    static func hotplugLines() throws -> [String] {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("Examples/traces/pci-hotplug.jsonl"), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The trace with line `number` (1-based) replaced, or removed when `replacement` is nil.
    static func variant(_ number: Int, _ replacement: String?) throws -> String {
        var lines = try hotplugLines()
        let original = lines[number - 1]
        if let replacement {
            lines[number - 1] = replacement
            #expect(lines[number - 1] != original, "the variant changes line \(number)")
        } else {
            lines.remove(at: number - 1)
        }
        return lines.joined(separator: "\n")
    }

    @Test func theRealHotplugRoundIsClean() throws {
        let result = try replayExample("pci-hotplug.jsonl")
        #expect(result.findings.map { "\($0.line): \($0.rule): \($0.message)" } == [])
    }

    /// pciback reports a device Closed that nobody asked to detach (Initialising -> Closed is no transition).
    @Test func anIllegalTransitionOfOneEntry() throws {
        let line = try Self.hotplugLines()[25]
        #expect(line.contains("state-0\", \"value\": \"3\""))
        let result = replay(try Self.variant(26, line.replacingOccurrences(of: "\"value\": \"3\"", with: "\"value\": \"6\"")))
        let first = try #require(result.violations.first)
        #expect(first.line == 26)
        #expect(first.rule == "transition be/state-{n} Initialising -> Closed")
        #expect(first.message.hasPrefix("illegal transition Initialising -> Closed of be/state-0 by "))
        #expect(first.origin.contains("pci.xpd:"))
        #expect(first.path == "/local/domain/0/backend/pci/5/0/state-0")
    }

    /// Without pciback's InitWait (line 22) it exports the device while still Initialising: the guard
    /// of Initialising -> Initialised (be.state is InitWait or Reconfiguring) does not hold.
    @Test func aGuardThatDoesNotHoldForTheEntry() throws {
        let result = replay(try Self.variant(22, nil))
        let finding = try #require(result.violations.first { $0.rule.hasPrefix("transition be/state-{n}") })
        #expect(finding.line == 25)
        #expect(finding.rule == "transition be/state-{n} Initialising -> Initialised")
        #expect(finding.message.contains("takes be/state-0 Initialising -> Initialised when its guard does not hold"))
    }

    /// libxl renumbers after a detach by removing the entries and writing them one index lower in
    /// one transaction (line 97 writes state-0 = Initialised over the removed Closing entry): entries
    /// created anew are judged by the key's rules only. Writing over the entry without removing it
    /// first changes its value in place, Closing -> Initialised, which the machine does not allow.
    @Test func renumberingIsCreationButAnInPlaceChangeIsATransition() throws {
        let removal = try Self.hotplugLines()[90]
        #expect(removal.contains("\"op\": \"rm\"") && removal.contains("state-0"))
        let result = replay(try Self.variant(91, nil))
        #expect(result.violationKeys.contains { $0.hasPrefix("transition be/state-{n} Closing -> Initialised | ") })
    }
}
