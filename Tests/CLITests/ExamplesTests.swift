import Foundation
import Testing

/// Every shipped example compiles, for the target its README names.
@Suite struct ExamplesTests {
    static let examples: [[String]] = [
        ["Examples/policies/mini.xml"],
        ["--target", "xen-3.1", "Examples/policies/mini.xml"],
        ["Examples/policies/xm-test.xml"],
        ["Examples/policies/xm-test-update.xml"],
        ["--target", "xen-3.0.4", "Examples/policies/client_v1-xen304.xml"],
        [
            "Examples/policies/xen302/chwall_ste-security_policy.xml", "--label-template",
            "Examples/policies/xen302/chwall_ste-security_label_template.xml",
        ],
    ]

    @Test(arguments: examples)
    func compiles(_ arguments: [String]) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("example-\(UUID().uuidString).bin").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let result = try CommandRunner.run("xen-policyc", ["compile", "-o", output] + arguments)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(FileManager.default.fileExists(atPath: output))
    }
}
