import Foundation
import Testing

/// `xen-policyc compile --rules`: protocol descriptions alone and bound to a policy.
@Suite final class ProtocolCompileTests {
    let directory = ScratchDirectory("xen-policyc-rules")
    var scratch: URL { directory.url }

    func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    static var examples: [String] {
        let directory = CommandRunner.packageRoot.appendingPathComponent("Examples/protocols")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".xpd") }.sorted().map { "Examples/protocols/\($0)" }
    }

    @Test func theShippedDescriptionsCompileIntoOneTableWithThePolicy() throws {
        #expect(Self.examples.count == 9)
        let result = try CommandRunner.run(
            "xen-policyc",
            ["compile"] + Self.examples + ["--rules", path("all.xsrt"), "Examples/policies/xm-test.xml", "-o", path("x.bin")])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(!result.standardError.contains("error:"))
        let inspect = try CommandRunner.run("xen-policy", ["inspect", path("all.xsrt")])
        #expect(inspect.status == 0)
        #expect(inspect.standardOutput.contains("vbd"))
        #expect(FileManager.default.fileExists(atPath: path("x.bin")))
    }

    @Test func labelsAreCheckedAgainstThePolicyAndNothingIsWritten() throws {
        let library = try String(
            contentsOf: CommandRunner.packageRoot.appendingPathComponent("Examples/protocols/xenbus.xpd"), encoding: .utf8)
        try library.write(toFile: path("xenbus.xpd"), atomically: true, encoding: .utf8)
        var vbd = try String(contentsOf: CommandRunner.packageRoot.appendingPathComponent("Examples/protocols/vbd.xpd"), encoding: .utf8)
        // xm-test's green and red share no STE type; "purple" is no label of it.
        vbd = vbd.replacingOccurrences(of: #"labels backend  = "SystemManagement";"#, with: #"labels backend  = "green" | "purple";"#)
        vbd = vbd.replacingOccurrences(
            of: #"labels frontend = "SystemManagement" | "green" | "red" | "blue";"#, with: #"labels frontend = "red";"#)
        try vbd.write(toFile: path("vbd.xpd"), atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(
            "xen-policyc", ["compile", path("vbd.xpd"), "--rules", path("vbd.xsrt"), "Examples/policies/xm-test.xml", "-o", path("x.bin")])
        #expect(result.status == 1)
        #expect(result.standardError.contains("[E0750]"))
        #expect(result.standardError.contains("[E0751]"))
        #expect(!FileManager.default.fileExists(atPath: path("vbd.xsrt")))
        #expect(!FileManager.default.fileExists(atPath: path("x.bin")))
    }

    @Test func usageErrors() throws {
        #expect(try CommandRunner.run("xen-policyc", ["compile", "Examples/protocols/vbd.xpd"]).status == 2)
        #expect(
            try CommandRunner.run("xen-policyc", ["compile", "--rules", path("r.xsrt"), "Examples/policies/mini.xml", "-o", path("m.bin")])
                .status == 2)
        #expect(try CommandRunner.run("xen-policyc", ["compile"]).status == 2)
    }

    @Test func graphPrintsDot() throws {
        let result = try CommandRunner.run("xen-policy", ["graph", "Examples/protocols/vbd.xpd"])
        #expect(result.status == 0)
        #expect(result.standardOutput.hasPrefix("digraph \"vbd\""))
        #expect(result.standardOutput.contains("turns [shape=plaintext"))
    }

    /// A megabyte of junk on one line: 200 diagnostics and the N0701 note, each with a window of
    /// the line. It was 350,000 diagnostics, and then 200 each printing the whole megabyte line.
    @Test func aMegabyteOfJunkPrintsABoundedReport() throws {
        try Data(String(repeating: "@a ", count: 350_000).utf8).write(to: URL(fileURLWithPath: path("junk.xpd")))
        let result = try CommandRunner.run("xen-policyc", ["compile", path("junk.xpd"), "--rules", path("junk.xsrt")])
        #expect(result.status == 1)
        #expect(result.standardError.utf8.count < 100_000, "\(result.standardError.utf8.count) bytes")
        #expect(result.standardError.contains("[N0701]"))
        #expect(result.standardError.hasSuffix("200 errors, 0 warnings generated\n"))
        #expect(!FileManager.default.fileExists(atPath: path("junk.xsrt")))
    }
}
