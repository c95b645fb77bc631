import Foundation
import Testing

/// `xen-policy diff` of compiled rule tables (`.xsrt`): what a reviewer approving a new table for the
/// checker reads, the same as for the descriptions it was compiled from.
@Suite struct RuleTableDiffTests {
    static let shipped: [String] = ReplayCommandTests.protocols.filter { !$0.hasSuffix("/xenbus.xpd") }

    static func compile(_ descriptions: [String], to table: String) throws {
        let result = try CommandRunner.run("xen-policyc", ["compile", "-I", "Examples/protocols", "--rules", table] + descriptions)
        try #require(result.status == 0, "\(result.standardError)")
    }

    /// A table compiled from a description holds what the description says: no change between them,
    /// in either order.
    @Test(arguments: shipped) func aTableMatchesItsDescription(_ description: String) throws {
        let table = ReplayCommandTests.temporary("one.xsrt")
        defer { try? FileManager.default.removeItem(atPath: table) }
        try Self.compile([description], to: table)
        for (old, new) in [(description, table), (table, description)] {
            let result = try CommandRunner.run("xen-policy", ["diff", "--fail-on", "any", old, new])
            #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
            #expect(result.standardOutput.hasSuffix("\nno changes\n"), "\(result.standardOutput)")
        }
    }

    /// The same edit seen in two descriptions and in the two tables compiled from them: the same
    /// changes and the same widening (a table keeps no guard texts, but none changed here).
    @Test func tablesShowTheEditsOfTheirDescriptions() throws {
        let directory = try DiffCommandTests.protocolScratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let modified = directory.appendingPathComponent("vbd-new.xpd").path
        let original = try String(contentsOf: directory.appendingPathComponent("vbd.xpd"), encoding: .utf8)
        try original.replacingOccurrences(of: DiffCommandTests.vbdWidening.0, with: DiffCommandTests.vbdWidening.1)
            .replacingOccurrences(of: "within 10s", with: "within 20s")
            .write(toFile: modified, atomically: true, encoding: .utf8)
        let oldTable = directory.appendingPathComponent("old.xsrt").path
        let newTable = directory.appendingPathComponent("new.xsrt").path
        try Self.compile(["Examples/protocols/vbd.xpd"], to: oldTable)
        try Self.compile([modified], to: newTable)

        func changes(_ old: String, _ new: String) throws -> (Int32, [String], [String]) {
            let result = try CommandRunner.run("xen-policy", ["diff", "--format", "json", "--fail-on", "widened", old, new])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let changes = (object["changes"] as? [[String: Any]] ?? []).map {
                "\($0["category"] ?? "") \($0["kind"] ?? "") \($0["name"] ?? "") \($0["attribute"] ?? "")"
            }
            let widened = (object["protocol_widened"] as? [[String: String]] ?? []).map { $0["kind"] ?? "" }
            return (result.status, changes.sorted(), widened.sorted())
        }
        let descriptions = try changes("Examples/protocols/vbd.xpd", modified)
        let tables = try changes(oldTable, newTable)
        #expect(descriptions.0 == 1 && tables.0 == 1)
        #expect(!descriptions.1.isEmpty)
        #expect(tables.1 == descriptions.1)
        #expect(tables.2 == descriptions.2 && tables.2.contains("phase_widened"))

        let text = try CommandRunner.run("xen-policy", ["diff", oldTable, newTable])
        #expect(text.standardOutput.hasPrefix("old: \(oldTable) (rule table: vbd)\nnew: \(newTable) (rule table: vbd)\n"))
    }

    /// A table with more protocols than the description: the others show as added.
    @Test func protocolsOnlyInTheTableAreAdded() throws {
        let table = ReplayCommandTests.temporary("two.xsrt")
        defer { try? FileManager.default.removeItem(atPath: table) }
        try Self.compile(["Examples/protocols/vbd.xpd", "Examples/protocols/vif.xpd"], to: table)
        let result = try CommandRunner.run("xen-policy", ["diff", "--format", "json", "Examples/protocols/vbd.xpd", table])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(
            changes.contains {
                $0["category"] as? String == "protocol" && $0["kind"] as? String == "added" && $0["name"] as? String == "vif"
            })
        #expect((object["new"] as? [String: Any])?["rule_table"] as? Bool == true)
        #expect((object["old"] as? [String: Any])?["rule_table"] as? Bool == false)
    }

    /// A damaged table is refused with the decoder's diagnostic, exit 2; a table and a policy cannot be compared.
    @Test func aDamagedTableIsAnError() throws {
        let table = ReplayCommandTests.temporary("whole.xsrt")
        let damaged = ReplayCommandTests.temporary("damaged.xsrt")
        defer {
            try? FileManager.default.removeItem(atPath: table)
            try? FileManager.default.removeItem(atPath: damaged)
        }
        try Self.compile(["Examples/protocols/vbd.xpd"], to: table)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: table)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let result = try CommandRunner.run("xen-policy", ["diff", table, damaged])
        #expect(result.status == 2)
        #expect(result.standardError.contains("[E0874]"), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)

        let mixed = try CommandRunner.run("xen-policy", ["diff", "Examples/policies/xm-test.xml", table])
        #expect(mixed.status == 2)
        #expect(mixed.standardError.contains("[E0602]"))
    }
}
