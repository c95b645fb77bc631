import Foundation
import PolicyEmitter
import PolicyModel
import PolicyTools
import TestSupport
import Testing
import XenPolicyKit

/// Round trips over generated policies, for every target: printing a policy and reading it back gives the
/// same policy; compiling, decompiling and compiling again gives the same blob.
@Suite struct GeneratedPolicyTests {
    typealias Generator = SplitMix64

    /// Names that exercise code point ordering (upper case before `_` before lower case).
    static let pool = ["alpha", "Beta", "gamma", "Delta", "_under", "zeta", "Eta", "theta", "Iota", "kappa"]

    static func policy(_ generator: inout Generator, target: Target) -> Policy {
        let steTypes = Array(pool.shuffled(using: &generator).prefix(generator.int(1...6)))
        let chineseWallTypes = Array(pool.shuffled(using: &generator).prefix(generator.int(1...4)))
        // Xen 3.0.2's schema requires at least one conflict set.
        let conflictSets = (0..<generator.int((target == .xen302 ? 1 : 0)...2)).map { index in
            ConflictSet(name: "set\(generator.int(0...9))-\(index)", types: generator.subset(chineseWallTypes, atLeast: 1))
        }
        let labelNames = pool.shuffled(using: &generator).prefix(generator.int(1...6)).map { "vm_" + $0 }
        var vmLabels: [Label] = []
        for (index, name) in labelNames.enumerated() {
            let isBootstrap = index == 0
            vmLabels.append(
                Label(
                    kind: .virtualMachine, name: name,
                    steTypes: isBootstrap ? steTypes : generator.subset(steTypes, atLeast: 1),
                    chineseWallTypes: isBootstrap || generator.int(0...3) > 0 ? generator.subset(chineseWallTypes, atLeast: 1) : nil))
        }
        let bootstrap = vmLabels.first!.name
        vmLabels.shuffle(using: &generator)
        let resources = pool.shuffled(using: &generator).prefix(generator.int(0...3)).map { name in
            Label(
                kind: .resource, name: "res_" + name, steTypes: [steTypes[generator.int(0...(steTypes.count - 1))]], chineseWallTypes: nil)
        }
        let version = target.hasVersion ? PolicyVersion(major: UInt32(generator.int(1...9)), minor: UInt32(generator.int(0...9))) : nil
        return Policy(
            name: target.hasPolicyName ? "generated.policy\(generator.int(0...99))" : nil,
            header: PolicyHeader(version: version, versionText: version?.description, date: target == .xen302 ? "2026-11-27" : nil),
            simpleTypeEnforcement: TypeSet(types: steTypes),
            chineseWall: ChineseWall(
                types: TypeSet(types: chineseWallTypes, markedPrimary: true), conflictSets: conflictSets,
                hasConflictSetsElement: !conflictSets.isEmpty),
            bootstrapLabel: bootstrap, vmLabels: vmLabels, resourceLabels: Array(resources))
    }

    /// The parts of a policy that printing must keep (locations and digests aside).
    static func essence(_ policy: Policy) -> String {
        func label(_ label: Label) -> String {
            "\(label.kind.rawValue) \(label.name) ste=\(label.steTypes ?? ["-"]) cw=\(label.chineseWallTypes ?? ["-"])"
        }
        var lines = [
            "name=\(policy.name ?? "-") version=\(policy.header.version?.description ?? "-")",
            "ste=\(policy.simpleTypeEnforcement?.types ?? [])",
            "cw=\(policy.chineseWall?.types.types ?? []) sets=\(policy.chineseWall?.conflictSets.map { "\($0.name ?? "-"):\($0.types)" } ?? [])",
            "bootstrap=\(policy.bootstrapLabel ?? "-")",
        ]
        lines += policy.vmLabels.map(label) + policy.resourceLabels.map(label)
        return lines.joined(separator: "\n")
    }

    @Test(arguments: Target.allCases)
    func printReadCompileDecompileRoundTrips(_ target: Target) throws {
        var generator = Generator(state: UInt64(target.rawValue.count) * 7919)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("xen-policy-generated-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        for iteration in 0..<40 {
            let policy = Self.policy(&generator, target: target)
            let printed = PolicyPrinter.print(policy, target: target)
            let xml = scratch.appendingPathComponent("p\(iteration).xml").path
            let labels = scratch.appendingPathComponent("l\(iteration).xml").path
            try printed.policyXML.write(toFile: xml, atomically: true, encoding: .utf8)
            try printed.labelTemplateXML?.write(toFile: labels, atomically: true, encoding: .utf8)
            let template = target == .xen302 ? labels : nil
            let blob = scratch.appendingPathComponent("p\(iteration).bin").path
            let map = scratch.appendingPathComponent("p\(iteration).map").path
            let first = PolicyCompiler().run(
                PolicyCompiler.Request(policyPath: xml, labelTemplatePath: template, target: target, outputPath: blob, mapPath: map))
            try #require(first.status == .success, "\(first.diagnostics)\n\(printed.policyXML)")

            let reread = try #require(
                PolicyCompiler().checkedPolicy(PolicyCompiler.Request(policyPath: xml, labelTemplatePath: template, target: target)).policy)
            #expect(Self.essence(reread) == Self.essence(policy))

            let again = scratch.appendingPathComponent("d\(iteration).xml").path
            let againLabels = scratch.appendingPathComponent("dl\(iteration).xml").path
            let decompiled = BlobPipelines().decompile(
                blobPath: blob, mapPath: map, outputPath: again, labelTemplateOutputPath: template == nil ? nil : againLabels)
            try #require(decompiled.status == .success, "\(decompiled.diagnostics)")
            let secondBlob = scratch.appendingPathComponent("d\(iteration).bin").path
            let second = PolicyCompiler().run(
                PolicyCompiler.Request(
                    policyPath: again, labelTemplatePath: template == nil ? nil : againLabels, target: target, outputPath: secondBlob))
            try #require(second.status == .success, "\(second.diagnostics)")
            var a = Array(try Data(contentsOf: URL(fileURLWithPath: blob)))
            var b = Array(try Data(contentsOf: URL(fileURLWithPath: secondBlob)))
            if target == .xen41 {
                a.replaceSubrange(40..<60, with: repeatElement(0, count: 20))
                b.replaceSubrange(40..<60, with: repeatElement(0, count: 20))
            }
            #expect(a == b, "iteration \(iteration)")
        }
    }
}

extension SplitMix64 {
    /// Some of `items` (each with even odds), at least `minimum`, without repeats.
    fileprivate mutating func subset(_ items: [String], atLeast minimum: Int) -> [String] {
        var chosen = items.filter { _ in next() & 1 == 0 }
        while chosen.count < minimum { chosen.append(items[int(0...(items.count - 1))]) }
        var seen: Set<String> = []
        return chosen.filter { seen.insert($0).inserted }
    }
}
