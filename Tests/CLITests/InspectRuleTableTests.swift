import Foundation
import Testing

/// `xen-policy inspect TABLE.xsrt`: rule tables are recognised by their magic and dumped; ACM blobs are not affected.
@Suite final class InspectRuleTableTests {
    let directory = ScratchDirectory("xen-policy-xsrt")
    var scratch: URL { directory.url }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    @Test func dumpsACompiledTable() throws {
        let table = path("vbd.xsrt")
        let compiled = try CommandRunner.run("xen-policyc", ["compile", "--rules", table, "Examples/protocols/vbd.xpd"])
        #expect(compiled.status == 0, "\(compiled.standardError)")

        let text = try CommandRunner.run("xen-policy", ["inspect", table])
        #expect(text.status == 0)
        #expect(text.standardOutput.contains("xenstore rule table, format version 3"))
        #expect(text.standardOutput.contains("protocol vbd ("))
        #expect(text.standardOutput.contains("guard:"))
        #expect(text.standardOutput.contains("(Initialised, InitWait) if device_ready: backend\n"))

        let json = try CommandRunner.run("xen-policy", ["inspect", table, "--format", "json"])
        #expect(json.status == 0)
        #expect(json.standardOutput.hasPrefix("{\n  \"file\": "))
        #expect(json.standardOutput.contains("\"format\": \"xsrt\""))
        #expect(json.standardOutput.contains("\"condition\": \"device_ready\""))

        let usage = try CommandRunner.run("xen-policy", ["inspect", table, "--map", "x.map"])
        #expect(usage.status == 2)
    }

    @Test func damagedTablesExitOne() throws {
        let table = path("vbd.xsrt")
        _ = try CommandRunner.run("xen-policyc", ["compile", "--rules", table, "Examples/protocols/vbd.xpd"])
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: table)))
        bytes[bytes.count / 2] ^= 0x01
        let damaged = path("damaged.xsrt")
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let text = try CommandRunner.run("xen-policy", ["inspect", damaged])
        #expect(text.status == 1)
        #expect(text.standardError.contains("[E0874]"))
        #expect(text.standardOutput.isEmpty)

        let truncated = path("truncated.xsrt")
        try Data(bytes.prefix(40)).write(to: URL(fileURLWithPath: truncated))
        let json = try CommandRunner.run("xen-policy", ["inspect", truncated, "--format", "json"])
        #expect(json.status == 1)
        #expect(json.standardOutput.contains("\"code\": \"E0870\""))
    }
}
