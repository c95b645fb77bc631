import Foundation
import PolicyDiagnostics
import PolicyDiff
import PolicyModel
import XenPolicyKit

/// Small policies written as values, so each test states exactly what differs.
enum PolicyBuilder {
    /// A VM label: `vm("Red", ste: ["Red"], cw: ["Red"])`.
    static func vm(_ name: String, ste: [String]?, cw: [String]? = [], from: String? = nil) -> Label {
        Label(kind: .virtualMachine, name: name, renamedFrom: from, steTypes: ste, chineseWallTypes: cw)
    }

    /// A resource label.
    static func res(_ name: String, ste: [String]?, from: String? = nil) -> Label {
        Label(kind: .resource, name: name, renamedFrom: from, steTypes: ste, chineseWallTypes: nil)
    }

    /// A policy; the declared types default to those the labels use.
    static func policy(
        name: String? = "p", version: String? = "1.0", from: (String, String)? = nil, ste: [String]? = nil, cw: [String]? = nil,
        conflictSets: [ConflictSet] = [], bootstrap: String? = "dom0", vms: [Label], resources: [Label] = []
    ) -> Policy {
        let steTypes = ste ?? ordered((vms + resources).flatMap { $0.steTypes ?? [] })
        let cwTypes = cw ?? ordered(vms.flatMap { $0.chineseWallTypes ?? [] } + conflictSets.flatMap(\.types))
        return Policy(
            name: name,
            header: PolicyHeader(
                version: version.map(parse), versionText: version,
                fromPolicy: from.map { PolicyReference(name: $0.0, version: parse($0.1), versionText: $0.1) }),
            simpleTypeEnforcement: TypeSet(types: steTypes),
            chineseWall: ChineseWall(types: TypeSet(types: cwTypes.isEmpty ? ["dom0"] : cwTypes), conflictSets: conflictSets),
            bootstrapLabel: bootstrap, vmLabels: vms, resourceLabels: resources)
    }

    static func parse(_ version: String) -> PolicyVersion {
        let parts = version.split(separator: ".").map { UInt32($0)! }
        return PolicyVersion(major: parts[0], minor: parts[1])
    }

    private static func ordered(_ names: [String]) -> [String] {
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    /// Diffs two policies as inputs of the given generation.
    static func diff(
        _ old: Policy, _ new: Policy, target: Target = .xen41, generation: Target = .xen41, isBlob: Bool = false
    ) -> PolicyDiffReport {
        PolicyDiffer(target: target).diff(
            old: .init(policy: old, displayName: "old.xml", generation: generation, isBlob: isBlob),
            new: .init(policy: new, displayName: "new.xml", generation: generation))
    }
}

/// Paths of the shipped examples and of this target's fixtures.
enum Paths {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func example(_ name: String) -> String { packageRoot.appendingPathComponent("Examples/policies/\(name)").path }

    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    static func conformance(_ name: String) -> String {
        packageRoot.appendingPathComponent("Tests/XenPolicyKitTests/Conformance/expected/\(name)").path
    }
}

extension PolicyDiffReport {
    /// The changes of one category as `kind name` strings (`renamed green->GREEN` for renames).
    func summary(_ category: PolicyChange.Category) -> [String] {
        changes.filter { $0.category == category }.map { change in
            let name = change.oldName.map { "\($0)->\(change.name)" } ?? change.name
            return "\(change.kind.rawValue) \(name)"
        }
    }

    /// The codes of the findings.
    var codes: [String] { diagnostics.map(\.code.rawValue) }
}

/// `[a, b]` pairs as strings for compact expectations.
func strings(_ pairs: [PolicyEffects.Pair]) -> [String] { pairs.map(\.description) }
