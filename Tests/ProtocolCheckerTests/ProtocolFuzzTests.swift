import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolSyntax
import TestSupport
import Testing

/// The shipped protocol descriptions, mutated a few thousand times with a fixed seed, through the
/// parser and the checker as `ProtocolPipeline` runs them: whatever the bytes, the front end returns
/// quickly, every diagnostic has a stable code and a location inside the input, and an input without
/// errors gives a definition whose indices hold together.
@Suite struct ProtocolFuzzTests {
    /// `Tests/ProtocolCheckerTests/<this file>` -> the package root -> `Examples/protocols`.
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Examples").appendingPathComponent("protocols")

    /// The shipped descriptions by file name (`vbd.xpd`); `xenbus.xpd` is the library the others import.
    static let sources: [String: [UInt8]] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []
        return Dictionary(
            uniqueKeysWithValues: names.filter { $0.hasSuffix(".xpd") }.map { name in
                (name, (try? Array(Data(contentsOf: examples.appendingPathComponent(name)))) ?? [])
            })
    }()

    /// The library, parsed once: protocols that import it are checked with it.
    static let library = Parser.parse(source: sources["xenbus.xpd"] ?? [], file: "xenbus.xpd").0

    /// What mutations insert: the language's words and punctuation, and hostile values.
    static let tokens: [[UInt8]] =
        [
            "import", "library", "protocol", "extends", "params", "role", "type", "enum", "dir", "key", "pred", "machine",
            "guarantee", "expect", "option", "labels", "domain", "privileged", "uint", "string", "owner", "readers", "init",
            "writer", "phase", "for", "in", "if", "then", "else", "default", "deprecated", "link", "by", "when", "requires",
            "note", "never", "always", "on", "unless", "within", "after", "blame", "turn", "forall", "read", "write", "mkdir",
            "rm", "setperms", "watch", "xenbus", "XenbusState", "Initialising", "Connected", "Closed", "frontend", "backend",
            "toolstack", "fe", "be", "fe.state", "be.state", "fe/ring-ref{i}", "be/**", "fe/*", "seen", "val", "present",
            "absent", "{", "}", "(", ")", "[", "]", ";", ":", ",", "->", "..", "==", "!=", "<=", ">=", "&&", "||", "=>", "<<",
            "=", "|", "~", "*", "<", ">", "!", "+", "-", "%", ".", "\"", "\\", "//", "/", "\n", "\r\n", "\t", " ",
            "\"/local/domain/{fe}/device/x/{devid}\"", "\"\\\"", "\"(a*)*b\"", "\"[a-\"", "0", "1", "31", "32", "63", "64",
            "127", "128", "4294967296", "18446744073709551616", "170141183460469231731687303715884105727",
            "170141183460469231731687303715884105728", "340282366920938463463374607431768211456",
            "99999999999999999999999999999999999999999999999999", "10s", "500ms", "2147483648ms",
            String(repeating: "(", count: 64), String(repeating: ")", count: 64), String(repeating: "{", count: 64),
            String(repeating: "x", count: 5000), "forall i in [0 .. 4294967296) : ", "if fe.state == Closed then ",
        ].map { Array($0.utf8) } + [[0x00], [0xFF], [0xC3], [0xE2, 0x80, 0xAE], [0xF0, 0x9F, 0x98], [0x1B]]

    /// One front-end run's results.
    struct Outcome {
        var diagnostics: [Diagnostic]
        var definitions: [ProtocolDefinition]
        var time: Duration
    }

    /// Parses and checks `bytes` as the file `name` the way `ProtocolPipeline.check([name])` does, from
    /// memory: with the library when the file imports it, checking only the file's protocols. A mutated
    /// library is checked through `vbd.xpd`, which extends it.
    static func run(_ bytes: [UInt8], as name: String) -> (Outcome, lines: [String: LineTable], given: SourceFile) {
        let clock = ContinuousClock()
        var diagnostics: [Diagnostic] = []
        var definitions: [ProtocolDefinition] = []
        var files: [SourceFile] = []
        var given = SourceFile(path: name, imports: [], units: [])
        var lines = [name: LineTable(bytes)]
        let time = clock.measure {
            let parsed = Parser.parseWithTrivia(source: bytes, file: name)
            diagnostics = parsed.diagnostics
            given = parsed.file
            files = [parsed.file]
            var only: Set<String> = [name]
            if name == "xenbus.xpd" {
                let vbd = sources["vbd.xpd"] ?? []
                let extending = Parser.parse(source: vbd, file: "vbd.xpd")
                files.insert(extending.0, at: 0)
                only = ["vbd.xpd"]
                lines["vbd.xpd"] = LineTable(vbd)
            } else if parsed.file.imports.contains(where: { $0.name == "xenbus" }) {
                files.append(library)
                lines["xenbus.xpd"] = LineTable(sources["xenbus.xpd"] ?? [])
            }
            let result = ProtocolChecker().checkDetailed(files, only: only)
            diagnostics += result.diagnostics
            definitions = result.definitions
        }
        return (Outcome(diagnostics: diagnostics, definitions: definitions, time: time), lines, given)
    }

    /// `E0712`, `W0741`, `N0801`: a letter for the severity and four digits.
    static func isStableCode(_ code: DiagnosticCode) -> Bool {
        let scalars = Array(code.rawValue.unicodeScalars)
        return scalars.count == 5 && "EWN".unicodeScalars.contains(scalars[0])
            && scalars.dropFirst().allSatisfy { ("0"..."9").contains($0) }
    }

    /// Expects every diagnostic to have a stable code of its severity, a message, and a location (and
    /// note locations) inside one of the inputs.
    static func expectWellFormed(
        _ diagnostics: [Diagnostic], in lines: [String: LineTable], _ label: @autoclosure () -> String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        for diagnostic in diagnostics {
            let context = "\(label()): \(diagnostic.location): \(diagnostic.code) \(diagnostic.message.prefix(200))"
            #expect(isStableCode(diagnostic.code), "\(context)", sourceLocation: sourceLocation)
            let letter: Character = diagnostic.severity == .error ? "E" : diagnostic.severity == .warning ? "W" : "N"
            #expect(diagnostic.code.rawValue.first == letter, "\(context)", sourceLocation: sourceLocation)
            #expect(!diagnostic.message.isEmpty, "\(context)", sourceLocation: sourceLocation)
            let locations = [diagnostic.location] + diagnostic.notes.compactMap(\.location)
            for location in locations {
                let inside = lines[location.file]?.contains(line: location.line, column: location.column) ?? false
                #expect(inside, "\(context) (at \(location))", sourceLocation: sourceLocation)
            }
        }
    }

    /// Expects a definition's indices (roles, directories, keys, states) to refer to what it holds,
    /// and its origins to lie in the inputs: what the rule table encoder and the replay rely on.
    static func expectUsable(
        _ definition: ProtocolDefinition, in lines: [String: LineTable], _ label: @autoclosure () -> String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        var problems: [String] = []
        func check(_ condition: Bool, _ what: @autoclosure () -> String) { if !condition { problems.append(what()) } }
        func check(_ origin: Origin, _ what: String) {
            check(lines[origin.file]?.contains(line: origin.line, column: origin.column) ?? false, "\(what) at \(origin)")
        }
        let states = Set(definition.states.map(\.value))
        check(!definition.name.isEmpty, "no name")
        check(definition.origin, "the protocol")
        check(definition.roles.count <= 32, "\(definition.roles.count) roles")
        for role in definition.roles { check(role.aliasOf.map(definition.roles.indices.contains) ?? true, "role \(role.name)") }
        for directory in definition.directories {
            check(definition.roles.indices.contains(directory.owner), "owner of \(directory.name)")
            check(directory.readers.allSatisfy(definition.roles.indices.contains), "readers of \(directory.name)")
            check(directory.origin, "directory \(directory.name)")
        }
        for key in definition.keys {
            check(definition.directories.indices.contains(key.pattern.directory), "directory of a key")
            check(key.link.map(definition.directories.indices.contains) ?? true, "link of a key")
            check(key.origin, "key")
        }
        for machine in definition.machines + definition.keyMachines {
            check(definition.directories.indices.contains(machine.directory), "directory of a machine")
            check(definition.keys.indices.contains(machine.key), "key of a machine")
            check(machine.origin, "machine")
            for transition in machine.transitions {
                check(states.contains(transition.to), "transition to \(transition.to)")
                check(transition.origin, "transition")
            }
        }
        for turn in definition.turns {
            check(states.contains(turn.frontendState) && states.contains(turn.backendState), "turn row")
        }
        #expect(problems.isEmpty, "\(label()): \(problems)", sourceLocation: sourceLocation)
    }

    /// Runs the front end on `bytes` and checks its outcome; returns how long it took.
    @discardableResult
    static func probe(
        _ bytes: [UInt8], as name: String, _ label: @autoclosure () -> String, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) -> Duration {
        let (outcome, lines, given) = run(bytes, as: name)
        // A guard against pathological slowness, not a speed test (the benchmarks are): inputs of a few
        // kilobytes take tens of milliseconds, and a machine busy with parallel tests may be ten times slower.
        #expect(outcome.time < .seconds(10), "\(label()) took \(outcome.time)", sourceLocation: sourceLocation)
        expectWellFormed(outcome.diagnostics, in: lines, label(), sourceLocation: sourceLocation)
        let errors = outcome.diagnostics.filter { $0.severity == .error }
        if errors.isEmpty {
            // Every protocol of the file given (vbd's for a mutated library) is checked and returned.
            let expected = name == "xenbus.xpd" ? 1 : given.units.filter { $0.kind == .protocol }.count
            #expect(outcome.definitions.count == expected, "\(label()): no errors but no definition", sourceLocation: sourceLocation)
            for definition in outcome.definitions { expectUsable(definition, in: lines, label(), sourceLocation: sourceLocation) }
        }
        return outcome.time
    }

    /// The shipped files, with `xenbus.xpd` first.
    static let names = sources.keys.sorted { ($0 == "xenbus.xpd" ? "" : $0) < ($1 == "xenbus.xpd" ? "" : $1) }

    @Test func theExamplesAreThereAndCheckCleanly() throws {
        #expect(Self.names.count >= 9, "\(Self.names)")
        for name in Self.names {
            let (outcome, _, _) = Self.run(try #require(Self.sources[name]), as: name)
            #expect(!outcome.diagnostics.contains { $0.severity == .error }, "\(name): \(outcome.diagnostics.map(describe))")
            #expect(!outcome.definitions.isEmpty, "\(name)")
        }
    }

    @Test func everySixteenthTruncation() throws {
        for name in Self.names {
            let bytes = try #require(Self.sources[name])
            for sixteenths in 0..<16 {
                Self.probe(ByteMutator.truncated(bytes, sixteenths: sixteenths), as: name, "\(name) cut at \(sixteenths)/16")
            }
        }
    }

    /// Random mutations, a few at a time, spread over the shipped files.
    @Test(arguments: 0..<4)
    func randomMutations(_ shard: Int) throws {
        var mutator = ByteMutator(seed: 0x5eed_0000 + UInt64(shard), tokens: Self.tokens)
        var slowest = Duration.zero
        for round in 0..<Self.roundsPerShard {
            let name = Self.names[mutator.below(Self.names.count)]
            var bytes = try #require(Self.sources[name])
            let kinds = mutator.mutate(&bytes, upTo: 4)
            slowest = max(slowest, Self.probe(bytes, as: name, "shard \(shard) round \(round) (\(name): \(kinds))"))
        }
        print("ProtocolFuzzTests shard \(shard): \(Self.roundsPerShard) inputs, slowest \(slowest)")
    }

    /// Mutated inputs per shard of `randomMutations` (four shards).
    static let roundsPerShard = 400
}
