import Foundation
import ProtocolModel
import Testing
import XenstoreTrace

@testable import ProtocolReplay

/// The engine's shortcuts give the same answers as the slow paths they stand in for.
@Suite struct InternalsTests {
    static let patterns = [
        "^[0-9a-f]+:[0-9a-f]+$", "^/[A-Za-z0-9/_@-]+$", "^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$", "^[0-9]+,[0-9]+$", "^(a|ab)(c|bcd)(d*)$",
        "^x*$", "^[^:]+:\\d{1,3}$", "^(foo|bar)?baz$", "^a.c$", "^[-a-z]+$", "^\\w+\\.\\w+$", "^(a+)+b$", "^[a\\-z]$", "^(?:ab){2,}$",
        "^\\s?x$", "^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}[.][0-7]$", "^[0-9]+(,[0-9]+)*$",
    ]

    @Test func theSimpleMatcherAgreesWithRegex() throws {
        var random = RobustnessTests.Generator(state: 42)
        let alphabet = Array("abcdfxz0129:/_-@.,ABF ]\\")
        for pattern in Self.patterns {
            let regex = try Regex(pattern)
            let simple = SimplePattern(pattern)
            var values = [
                "", "a", "ab", "abcd", "abcdd", "fd:3", "00:16:3e:5a:01:02", "/local/domain/5", "12,34", "foo.bar", "xxxx", "aaaaab", "b",
            ]
            for _ in 0..<400 {
                values.append(String((0..<random.below(14)).map { _ in alphabet[random.below(alphabet.count)] }))
            }
            // Around 64 bytes, where the matcher changes method.
            for length in 60..<70 {
                values.append(String(repeating: "a", count: length - 1) + "b")
                values.append("/local/domain/" + String(repeating: "0", count: length - 14))
                values.append(String(repeating: "12,", count: length / 3) + "4")
            }
            for value in values {
                let expected = try regex.wholeMatch(in: value) != nil
                if let simple, let answer = simple.matches(value) {
                    #expect(answer == expected, "\(pattern) on '\(value)'")
                }
            }
        }
        // Every pattern of the shipped descriptions takes the fast path.
        for pattern in Self.patterns.prefix(4) { #expect(SimplePattern(pattern) != nil, "\(pattern)") }
        // Constructs the simple matcher leaves to Regex.
        for pattern in ["^(?=a)a$", "^a*?$", "^[[:alpha:]]+$", "^\\bx$", "^é$", "^a{2,1}$", "^[]a]+$"] {
            #expect(SimplePattern(pattern) == nil, "\(pattern)")
        }
    }

    @Test func stateTablesAgreeWithEvaluation() throws {
        for definition in exampleProtocols {
            let compiled = CompiledProtocol(index: 0, definition: definition)
            guard let tables = compiled.stateTables else { continue }
            let evaluator = Evaluator(maximumIterations: 65_536)
            let states = definition.states.map(\.value)
            for a in states {
                for b in tables.directories.count == 2 ? states : [0] {
                    let combination = tables.directories.count == 2 ? [a, b] : [a]
                    // A few stores: empty, and every declared fixed key set to "1" / "0".
                    for fill in ["", "0", "1"] {
                        let directories = compiled.layouts.enumerated().map { index, layout in
                            let state = DirectoryState(root: RootKey(template: index), rootPath: "/d\(index)", exists: true, layout: layout)
                            if !fill.isEmpty {
                                for slot in layout.paths.indices {
                                    state.fixed[slot] = Entry(value: fill, writerDomid: 0, writerPrivileged: true, line: 1)
                                }
                            }
                            return state
                        }
                        let instance = Instance(
                            serial: 1, protocolDefinition: compiled, parameters: [5, 0, 1], directories: directories,
                            creator: ConnectionID(connection: .socket(1), handle: nil), transaction: nil)
                        for (directory, state) in zip(tables.directories, combination) {
                            instance.states[directory] = state
                            instance.seen[directory] = 1 << UInt32(state)
                        }
                        let cell = tables.index(of: instance)
                        func check(_ program: CompiledProgram, _ truth: Truth, _ what: String) {
                            guard truth != .maybe, case .success(let value) = evaluator.evaluate(program, instance) else { return }
                            #expect(Evaluator.truth(value) == (truth == .yes), "\(definition.name) \(what) in \(combination)")
                        }
                        for (index, expectation) in compiled.expectations.enumerated() {
                            check(expectation.trigger, tables.triggers[index][cell], "trigger of \(expectation.rule)")
                            check(expectation.condition, tables.conditions[index][cell], "condition of \(expectation.rule)")
                        }
                        for (index, rule) in compiled.always.enumerated() {
                            check(rule.program, tables.always[index][cell], "guarantee \(rule.guarantee.name)")
                        }
                    }
                }
            }
        }
    }

    @Test func theDirectoryIndexResolvesPaths() throws {
        let index = DirectoryIndex(protocols: exampleProtocols)
        guard case .directory(let backend) = index.locate("/local/domain/0/backend/qdisk/5/768/queue-0/ring-ref") else {
            Issue.record("backend path not resolved")
            return
        }
        #expect(backend.rootPath == "/local/domain/0/backend/qdisk/5/768")
        #expect(backend.relative == "queue-0/ring-ref")
        guard case .directory(let root) = index.locate("/local/domain/5/device/vbd/768") else {
            Issue.record("frontend root not resolved")
            return
        }
        #expect(root.relative.isEmpty)
        if case .ancestor = index.locate("/local/domain/5") {} else { Issue.record("ancestor not recognised") }
        if case .none = index.locate("/local/domain/05/device/vbd/768") {} else { Issue.record("non-canonical number matched") }
        if case .none = index.locate("/local/domain/5//device") {} else { Issue.record("empty segment matched") }
        if case .none = index.locate("/vm/1234") {} else { Issue.record("unrelated path matched") }
    }

    /// `replay(_:)` (paths resolved ahead on the reading thread, or on this one) finds exactly what
    /// `process(_:)` finds message by message, on every example trace.
    @Test func replayingAReaderIsProcessingEachMessage() throws {
        let directory = packageRoot.appendingPathComponent("Examples/traces")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names.count >= 10)
        func findings(_ name: String, _ mode: Int) throws -> [String] {
            let reader = try TraceReader(path: directory.appendingPathComponent(name).path)
            let engine = ReplayEngine(protocols: exampleProtocols)
            switch mode {
            case 0: while let event = reader.next() { engine.process(event) }
            case 1: engine.replay(reader, readAhead: false)
            default: engine.replay(reader)
            }
            engine.finish()
            return engine.findings.map { "\($0.line) \($0.rule) \($0.role) \($0.domid) \($0.repeats) \($0.message) \($0.path ?? "-")" }
                + ["\(engine.summary)"]
        }
        for name in names {
            let expected = try findings(name, 0)
            #expect(try findings(name, 1) == expected, "\(name)")
            #expect(try findings(name, 2) == expected, "\(name)")
        }
    }

    /// The keys the rules evaluated after commits read, and the states, take a directory's first
    /// slots (what the prefetching brings in); the other keys come after them.
    @Test func theKeysTheRulesReadComeFirst() throws {
        let vbd = try #require(exampleProtocol("vbd"))
        let compiled = CompiledProtocol(index: 0, definition: vbd)
        let backend = try #require(compiled.directoryNames.firstIndex(of: "be"))
        let paths = compiled.layouts[backend].paths
        let hot = compiled.hotSlots[backend]
        // `expect present(be/physical-device) || be/hotplug-status == "error"`, `always be.state == Connected && be/mode == "r" ...`
        for path in ["state", "physical-device", "hotplug-status", "mode", "info", "sector-size"] {
            let slot = try #require(paths.firstIndex(of: path), "\(path)")
            #expect(slot < hot, "\(path)")
        }
        // Read by no `always` guarantee or expectation.
        for path in ["discard-enable", "removable", "bootable"] {
            let slot = try #require(paths.firstIndex(of: path), "\(path)")
            #expect(slot >= hot, "\(path)")
        }
        #expect(hot < paths.count)
        // The layouts and the programs agree on every slot, in every protocol.
        for (index, definition) in exampleProtocols.enumerated() {
            let compiled = CompiledProtocol(index: index, definition: definition)
            for (directory, layout) in compiled.layouts.enumerated() {
                for (slot, key) in layout.keys.enumerated() { #expect(compiled.slotOfKey[key] == slot) }
                #expect(compiled.hotSlots[directory] <= layout.paths.count)
            }
            let programs = compiled.always.map(\.program) + compiled.expectations.flatMap { [$0.trigger, $0.condition] }
            for program in programs {
                for reference in program.keys where reference.slot >= 0 {
                    #expect(compiled.layouts[reference.directory].paths[reference.slot] == reference.fixed, "\(definition.name)")
                    #expect(reference.slot < compiled.hotSlots[reference.directory], "\(definition.name) \(reference.fixed ?? "")")
                }
            }
        }
    }

    /// Over many batches, with instances ending and the same directories made again within a batch
    /// and across batches (what `prefetchAhead` must survive: its ring names instances that ended),
    /// `replay(_:)` still finds what `process(_:)` finds.
    @Test func replayingManyBatchesIsProcessingEachMessage() throws {
        let lines = try String(contentsOf: packageRoot.appendingPathComponent("Examples/traces/vbd-unplug.log"), encoding: .utf8)
            .split(separator: "\n")
        var trace = ""
        // 60 connect-and-unplug cycles of one device, 59 lines each: four batches of 1,024 messages.
        for cycle in 0..<60 {
            let hour = 10 + cycle / 30
            for line in lines {
                // `[20261127T10:0M:SS.mmmZ]`: each cycle gets its own minutes, in order.
                let minute = (cycle % 30) * 2 + Int(line.dropFirst(14).prefix(1))!
                trace += line.replacingOccurrences(
                    of: "T10:0\(line.dropFirst(14).prefix(1)):", with: "T\(hour):\(minute < 10 ? "0" : "")\(minute):")
                trace += "\n"
            }
        }
        func findings(_ whole: Bool) -> (findings: [String], created: Int) {
            let reader = TraceReader(bytes: Array(trace.utf8))
            let engine = ReplayEngine(protocols: exampleProtocols)
            if whole {
                engine.replay(reader)
            } else {
                while var event = reader.next() { engine.process(event) }
            }
            engine.finish()
            return (engine.findings.map { "\($0.line) \($0.rule) \($0.message)" } + ["\(engine.summary)"], engine.summary.instancesCreated)
        }
        let expected = findings(false)
        #expect(findings(true).findings == expected.findings)
        #expect(expected.created == 60)
    }

    /// What the reading thread works out about keys (`KeyFacts`: pattern shapes, and whether a written
    /// value has the key's type) changes no finding: every example trace, and traces with values of
    /// the wrong type and indexed keys, replayed with the facts and with the facts taken away.
    @Test func keyFactsChangeNoFinding() throws {
        let directory = packageRoot.appendingPathComponent("Examples/traces")
        var traces = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map {
            try Data(contentsOf: directory.appendingPathComponent($0))
        }
        var wrong = TraceBuilder()
        wrong.createVBD()
        let f = TraceBuilder.vbdFrontend(5, 51712)
        wrong.write("D5", f + "/ring-ref", "not-a-number")
        wrong.write("D5", f + "/event-channel", "12")
        wrong.write("D5", f + "/protocol", "x86_65-abi")
        wrong.write("D5", f + "/queue-0/ring-ref", "8")
        wrong.write("D5", f + "/ring-ref0", "x")
        wrong.write("D5", f + "/state", "9")
        wrong.connectVBD()
        traces.append(Data(wrong.text.utf8))
        var factsSeen = 0
        for trace in traces {
            func findings(keepingFacts: Bool) -> [String] {
                let reader = TraceReader(bytes: Array(trace))
                let engine = ReplayEngine(protocols: exampleProtocols)
                while var event = reader.next() {
                    var resolved = event.operation.isMutating ? engine.resolver.resolve(event) : ResolvedPath(path: nil, location: .none)
                    if case .directory(var match) = resolved.location {
                        if match.facts.isKnown { factsSeen += 1 }
                        if !keepingFacts { match.facts = .unknown }
                        resolved.location = .directory(match)
                    }
                    engine.process(&event, resolved: &resolved)
                }
                engine.finish()
                return engine.findings.map { "\($0.line) \($0.rule) \($0.role) \($0.message)" } + ["\(engine.summary)"]
            }
            #expect(findings(keepingFacts: true) == findings(keepingFacts: false))
        }
        #expect(factsSeen > 100)
    }

    /// The reading thread's own pattern matchers and type checks agree with the engine's: each
    /// relative path's shapes and each value's fit, for every directory of every example protocol.
    @Test func keyFactsAgreeWithTheEngine() {
        let compiled = exampleProtocols.enumerated().map { CompiledProtocol(index: $0, definition: $1) }
        let resolver = PathResolver(definitions: exampleProtocols, protocols: compiled)
        let engine = ReplayEngine(protocols: exampleProtocols)
        let relatives = [
            "state", "ring-ref", "ring-ref0", "ring-ref17", "queue-0/ring-ref", "queue-3/event-channel-tx", "event-channel", "protocol",
            "mac", "feature-persistent", "multi-queue-num-queues", "x", "dev-0", "vdev-1", "state-2", "a/b", "request-rx-copy",
        ]
        let values = ["", "0", "1", "4", "6", "17", "65536", "x86_64-abi", "00:16:3e:00:00:01", "zz", "-1", "99999999999999999999999999"]
        var compared = 0
        for (template, located) in resolver.index.templates.enumerated() {
            let protocolDefinition = compiled[located.protocolIndex]
            for relative in relatives {
                let bytes = Array(relative.utf8)
                let fixedKey = bytes.withUnsafeBufferPointer { resolver.fixedKeys[template].value($0) } ?? -1
                for value in values {
                    let facts = bytes.withUnsafeBufferPointer {
                        resolver.facts(template: template, relative: $0, fixedKey: fixedKey, value: value)
                    }
                    guard facts.isKnown else { continue }
                    if fixedKey >= 0 {
                        let expected = engine.typeProblem(protocolDefinition.keys[fixedKey], value, protocolDefinition) == nil
                        #expect(facts.fixedFits == expected, "\(relative) = \(value)")
                        continue
                    }
                    for (position, key) in protocolDefinition.patternKeys[located.directory].enumerated() {
                        let shaped = engine.hasShape(protocolDefinition.keys[key], Substring(relative))
                        #expect((facts.shapes.map { $0 & (1 << UInt64(position)) != 0 }) == shaped, "\(relative)")
                        guard shaped else { continue }
                        let fits = engine.typeProblem(protocolDefinition.keys[key], value, protocolDefinition) == nil
                        #expect(facts.fits(position: position) == fits, "\(relative) = \(value)")
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 50)
    }

    /// The reading thread's resolver (its own index, key tables and byte-level path handling) gives the
    /// answers the engine's index gives: directory roots, keys, nested keys, ancestors, unrelated
    /// paths, empty segments, numbers that are not canonical.
    @Test func resolvedPathsLieWhereTheTrieSays() {
        let compiled = exampleProtocols.enumerated().map { CompiledProtocol(index: $0, definition: $1) }
        let resolver = PathResolver(definitions: exampleProtocols, protocols: compiled)
        let index = DirectoryIndex(protocols: exampleProtocols)
        func describe(_ location: PathLocation) -> String {
            switch location {
            case .none: "none"
            case .ancestor: "ancestor"
            case .directory(let match): "\(match.template) \(match.root.hashValue) \(match.rootPath) | \(match.relative)"
            }
        }
        let roots = [
            "/local/domain/5/device/vbd/768", "/local/domain/0/backend/vbd/5/768", "/local/domain/0/backend/qdisk/5/768",
            "/local/domain/7/device/vif/0", "/local/domain/3/backend/vif/7/0", "/local/domain/5/device/console/0",
            "/local/domain/5/console", "/local/domain/0/backend/pci/5/0", "/local/domain/5/device/9pfs/1", "/local/domain/5",
            "/local/domain/05/device/vbd/768", "/vm/1234", "/local/domain/5/device",
        ]
        let leaves = ["state", "ring-ref", "queue-0/ring-ref1", "x", "0", "05", "", "a/b/c", "feature-persistent", "vbd", "768"]
        var paths: [String] = []
        for root in roots {
            for leaf in leaves { paths.append(leaf.isEmpty ? root + "/" : root + "/" + leaf) }
            paths.append(root)
        }
        // Resolved from a batch's bytes, the match has its own `relative`: compare everything else.
        func describeBytes(_ location: PathLocation, _ path: String) -> String {
            guard case .directory(let match) = location else { return describe(location) }
            return "\(match.template) \(match.root.hashValue) \(path.prefix(match.rootLength)) | \(match.relative) \(match.fixedKey)"
        }
        for path in paths + paths.reversed() {
            let resolved = resolver.resolve(path: path, connection: .socket(1))
            #expect(describe(resolved.location) == describe(index.locate(path)), "\(path)")
            #expect(resolved.path?.string == path)
            let fromBytes = Array(path.utf8).withUnsafeBufferPointer { bytes in
                let found = resolver.resolve(bytes: bytes, connection: .socket(1))
                return (describeBytes(found.location, path), found.path?.string)
            }
            #expect(fromBytes.0 == describeBytes(resolved.location, path), "\(path)")
            #expect(fromBytes.1 == path)
        }
        // A relative path is under the sender's domain, from bytes too.
        let relative = Array("device/vbd/768/state".utf8).withUnsafeBufferPointer { resolver.resolve(bytes: $0, connection: .domain(5)) }
        #expect(relative.path?.string == "/local/domain/5/device/vbd/768/state")
    }
}

/// An error reply undoes a refused `rm` of a directory root: the directory's nodes are journalled
/// while its peer still exists (the removal of the last one ends the instance, with no journal).
@Suite struct RootRemovalJournalTests {
    static func replayed(_ trace: TraceBuilder) -> ReplayEngine {
        let engine = ReplayEngine(protocols: exampleProtocols)
        engine.replay(TraceReader(bytes: Array(trace.text.utf8)))
        engine.finish()
        return engine
    }

    static func backendNodes(_ engine: ReplayEngine) throws -> [String: String] {
        let instance = try #require(engine.instances.values.first)
        var nodes: [String: String] = [:]
        instance.directories[1].forEachNode { nodes[$0] = $1.value }
        return nodes
    }

    @Test func aRefusedRemovalOfADirectoryRootIsUndone() throws {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let before = try Self.backendNodes(Self.replayed(trace))
        #expect(before["online"] == "1" && before["state"] == "4" && before.count > 8)
        trace.operation("D5", "rm", TraceBuilder.vbdBackend(0, 5, 51712))
        trace.error("D5", "EACCES")
        let engine = Self.replayed(trace)
        #expect(try Self.backendNodes(engine) == before)
        #expect(engine.instances.values.first?.directories[1].exists == true)
        #expect(engine.instances.values.first?.states[1] == 4)
    }

    /// A guest's `rm` of a path above the directories, refused by xenstored, leaves every instance
    /// below it as it was; the attempt is still reported.
    @Test func aRefusedRemovalOfAnAncestorIsUndone() throws {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let before = try Self.backendNodes(Self.replayed(trace))
        let line = trace.nextLine
        trace.operation("D5", "rm", "/local/domain/0/backend")
        trace.error("D5", "EACCES")
        let engine = Self.replayed(trace)
        #expect(engine.instances.count == 1)
        #expect(try Self.backendNodes(engine) == before)
        #expect(engine.instances.values.first?.states[1] == 4)
        #expect(engine.findings.contains { $0.line == line && $0.domid == 5 })
    }

    /// Not refused, the same removal ends the instance (the trace ends right after it: nothing follows
    /// that could refuse it).
    @Test func anAncestorRemovalAtTheEndOfTheTraceTakesEffect() throws {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.operation("A1", "rm", "/local/domain/5/device")
        trace.operation("A1", "rm", "/local/domain/0/backend/vbd/5")
        let engine = Self.replayed(trace)
        #expect(engine.instances.isEmpty)
    }

    @Test func removingBothRootsEndsTheInstance() throws {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.operation("A1", "rm", TraceBuilder.vbdFrontend(5, 51712))
        trace.operation("A1", "rm", TraceBuilder.vbdBackend(0, 5, 51712))
        trace.write("D7", "/local/domain/7/data/x", "1")
        let engine = Self.replayed(trace)
        #expect(engine.instances.isEmpty)
        #expect(engine.summary.instancesLive == 0)
    }

    /// The removal of an instance's last directory, refused, leaves the instance live with its nodes.
    @Test func aRefusedRemovalOfTheLastRootKeepsTheInstance() throws {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.operation("A1", "rm", TraceBuilder.vbdBackend(0, 5, 51712))
        trace.operation("D5", "rm", TraceBuilder.vbdFrontend(5, 51712))
        trace.error("D5", "EACCES")
        let engine = Self.replayed(trace)
        let instance = try #require(engine.instances.values.first)
        #expect(instance.directories[0].exists && instance.states[0] == 4)
        var nodes: [String: String] = [:]
        instance.directories[0].forEachNode { nodes[$0] = $1.value }
        #expect(nodes["ring-ref"] == "8" && nodes["state"] == "4")
    }
}
