import Foundation
import PolicyDiagnostics
import Testing

@testable import ProtocolSyntax

/// The protocol descriptions shipped in `Examples/protocols/` parse without diagnostics, and the names
/// their machines use are the ones the library declares.
@Suite struct ExampleProtocolsTests {
    /// `Tests/ProtocolSyntaxTests/<this file>` -> the package root -> `Examples/protocols`.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Examples")
        .appendingPathComponent("protocols")

    /// Every `*.xpd` in the directory, sorted.
    static let files: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".xpd") }
        .sorted()

    static let shipped = [
        "xenbus.xpd", "vbd.xpd", "vif.xpd", "console.xpd", "vkbd.xpd", "vfb.xpd", "vtpm.xpd", "pci.xpd", "9pfs.xpd",
    ]

    static func parse(_ name: String) throws -> (SourceFile, [Diagnostic]) {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return Parser.parse(source: Array(data), file: name)
    }

    static func describe(_ diagnostics: [Diagnostic]) -> String {
        diagnostics.map { "\($0.location): \($0.code): \($0.message)" }.joined(separator: "\n")
    }

    @Test func theIssuesDescriptionsAreAllThere() {
        #expect(Set(Self.files).isSuperset(of: Self.shipped), "missing: \(Set(Self.shipped).subtracting(Self.files).sorted())")
    }

    @Test(arguments: files)
    func parsesWithoutDiagnostics(_ name: String) throws {
        let (file, diagnostics) = try Self.parse(name)
        #expect(diagnostics.isEmpty, "\(Self.describe(diagnostics))")
        #expect(!file.units.isEmpty)
        #expect(file.units.allSatisfy { !$0.items.isEmpty })
    }

    /// `xenbus.xpd` is the library; every other file imports it and defines one protocol extending it.
    @Test(arguments: files.filter { $0 != "xenbus.xpd" })
    func protocolsExtendTheLibrary(_ name: String) throws {
        let (file, _) = try Self.parse(name)
        #expect(file.imports.map(\.name) == ["xenbus"])
        #expect(file.units.count == 1)
        let unit = try #require(file.units.first)
        #expect(unit.kind == .protocol)
        #expect(unit.extends?.name == "xenbus")
        // Each protocol places its two directories itself.
        let directories = unit.items.compactMap { item -> String? in
            if case .directory(let declaration) = item { return declaration.name.name }
            return nil
        }
        #expect(directories.sorted() == ["be", "fe"])
    }

    @Test func theLibraryDeclaresTheStatesAndRoles() throws {
        let library = try #require(try Self.parse("xenbus.xpd").0.units.first)
        #expect(library.kind == .library)
        #expect(library.name.name == "xenbus")
        let states = Self.states(in: library)
        #expect(
            states == [
                "Unknown": 0, "Initialising": 1, "InitWait": 2, "Initialised": 3, "Connected": 4, "Closing": 5, "Closed": 6,
                "Reconfiguring": 7, "Reconfigured": 8,
            ])
        #expect(Set(Self.roles(in: library)) == ["frontend", "backend", "toolstack", "hotplug"])
    }

    /// Every state a machine or a `phase` names is a XenbusState case, and every role a transition, key or
    /// guarantee names is declared (by the library or the protocol).
    @Test(arguments: files)
    func machinesUseDeclaredStatesAndRoles(_ name: String) throws {
        let library = try #require(try Self.parse("xenbus.xpd").0.units.first)
        let unit = try #require(try Self.parse(name).0.units.first)
        let states = Set(Self.states(in: library).keys)
        let roles = Set(Self.roles(in: library) + Self.roles(in: unit))
        var unknownStates: [String] = []
        var unknownRoles: [String] = []
        func check(states set: StateSet) {
            if case .states(let names) = set { unknownStates += names.map(\.name).filter { !states.contains($0) } }
        }
        func check(roles names: [Identifier]) {
            unknownRoles += names.map(\.name).filter { !roles.contains($0) }
        }
        for item in unit.items {
            switch item {
            case .machine(let machine):
                // A directory's state key, or a key family the unit declares (pci's be/state-{n}).
                let declared = unit.items.contains { if case .key(let key) = $0 { key.key == machine.key } else { false } }
                #expect(machine.key.segments == nil || declared, "\(machine.key): a machine drives a declared state key")
                for transition in machine.transitions {
                    check(states: transition.from)
                    if !states.contains(transition.to.name) { unknownStates.append(transition.to.name) }
                    check(roles: transition.by)
                }
            case .key(let key):
                for attribute in key.attributes {
                    switch attribute {
                    case .phase(let set): check(states: set)
                    case .writers(let names): check(roles: names)
                    case .initializedBy(let role, _): check(roles: [role])
                    default: break
                    }
                }
            case .guarantee(let guarantee):
                if case .never(let names, _, _, _) = guarantee.body { check(roles: names) }
                if case .role(let role) = guarantee.blame { check(roles: [role]) }
            case .expectation(let expectation):
                if case .role(let role) = expectation.blame { check(roles: [role]) }
            case .labels(let binding):
                check(roles: [binding.role])
            case .directory(let directory):
                check(roles: [directory.owner] + directory.readers)
            default:
                break
            }
        }
        #expect(unknownStates.isEmpty, "unknown states: \(unknownStates)")
        #expect(unknownRoles.isEmpty, "unknown roles: \(unknownRoles)")
    }

    /// Key paths with `{i}` parts bind each variable with a `for` attribute.
    @Test(arguments: files)
    func indexedKeysBindTheirVariables(_ name: String) throws {
        let unit = try #require(try Self.parse(name).0.units.first)
        for item in unit.items {
            guard case .key(let key) = item, let segments = key.key.segments else { continue }
            let used = Set(segments.flatMap { Self.indexVariables(in: $0) })
            let bound = Set(
                key.attributes.compactMap { attribute -> String? in
                    if case .index(let variable, _) = attribute { return variable.name }
                    return nil
                })
            #expect(used == bound, "\(key.key): uses \(used.sorted()), binds \(bound.sorted())")
        }
    }

    /// The vbd description shows the ACM binding: label lists for both roles.
    @Test func vbdBindsLabels() throws {
        let unit = try #require(try Self.parse("vbd.xpd").0.units.first)
        let bindings = unit.items.compactMap { item -> (String, [String])? in
            if case .labels(let binding) = item { return (binding.role.name, binding.labels.map(\.0)) }
            return nil
        }
        #expect(bindings.map(\.0) == ["backend", "frontend"])
        #expect(bindings.allSatisfy { !$0.1.isEmpty })
    }

    // MARK: - Helpers

    static func states(in unit: ProtocolSyntax.Unit) -> [String: Int128] {
        for item in unit.items {
            if case .enumeration(let declaration) = item, declaration.name.name == "XenbusState" {
                return Dictionary(declaration.cases.map { ($0.0.name, $0.1) }, uniquingKeysWith: { a, _ in a })
            }
        }
        return [:]
    }

    static func roles(in unit: ProtocolSyntax.Unit) -> [String] {
        unit.items.compactMap { item in
            if case .role(let declaration) = item { return declaration.name.name }
            return nil
        }
    }

    /// `queue-{q}` -> ["q"].
    static func indexVariables(in segment: String) -> [String] {
        var names: [String] = []
        var current: String? = nil
        for character in segment {
            if character == "{" {
                current = ""
            } else if character == "}" {
                if let name = current { names.append(name) }
                current = nil
            } else if current != nil {
                current!.append(character)
            }
        }
        return names
    }
}
