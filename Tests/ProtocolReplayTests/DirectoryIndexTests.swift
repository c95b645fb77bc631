import ProtocolModel
import Testing

@testable import ProtocolReplay

/// The directory index's trie walk, which reads a path a word at a time, against a plain
/// reference written from the rules in `docs/replay.md` ("Paths and directories").
@Suite struct DirectoryIndexTests {
    /// What a path resolves to, in words: `none`, `ancestor`, or the template, its variables, the
    /// root's end and the start of the relative path.
    static func describe(_ location: DirectoryIndex.ByteLocation, _ index: DirectoryIndex) -> String {
        switch location {
        case .none: return "none"
        case .ancestor: return "ancestor"
        case .directory(let match):
            let count = index.templates[match.template].segments.filter { if case .literal = $0 { false } else { true } }.count
            let values = (0..<count).map { String(match.root[$0]) }.joined(separator: ",")
            return "\(match.template) [\(values)] \(match.rootEnd) \(match.relativeStart)"
        }
    }

    /// The reference: split the path, try every template on its first segments, keep the deepest (of
    /// equal depths, the one whose first difference is a literal rather than a parameter, then the
    /// first declared); a path that is a proper prefix of a template is an ancestor.
    static func reference(_ path: [UInt8], _ templates: [DirectoryTemplate]) -> String {
        guard path.first == UInt8(ascii: "/") else { return "none" }
        let segments: [ArraySlice<UInt8>] =
            path.count == 1 ? [] : path[1...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if segments.contains(where: \.isEmpty) { return "none" }
        func canonical(_ bytes: ArraySlice<UInt8>) -> Int? {
            guard !bytes.isEmpty, bytes.count <= 18, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            if bytes.count > 1 && bytes.first == 48 { return nil }
            return Int(String(decoding: bytes, as: UTF8.self))
        }
        // Per template that matches: its depth, the kind of each segment (0 literal, 1 parameter) and its values.
        var matches: [(template: Int, depth: Int, kinds: [Int], values: [Int])] = []
        var ancestor = false
        for (number, template) in templates.enumerated() {
            var kinds: [Int] = []
            var values: [Int] = []
            var matched = true
            for (position, segment) in template.segments.enumerated() {
                guard position < segments.count else {
                    if matched { ancestor = true }
                    matched = false
                    break
                }
                let bytes = segments[position]
                switch segment {
                case .literal(let name):
                    matched = Array(name.utf8) == Array(bytes)
                    kinds.append(0)
                case .alternatives(let names):
                    let taken = names.firstIndex { Array($0.utf8) == Array(bytes) }
                    matched = taken != nil
                    values.append(taken ?? 0)
                    kinds.append(0)
                case .parameter:
                    let value = canonical(bytes)
                    matched = value != nil
                    values.append(value ?? 0)
                    kinds.append(1)
                }
                if !matched { break }
            }
            if matched { matches.append((number, template.segments.count, kinds, values)) }
        }
        guard
            let best = matches.min(by: { a, b in
                if a.depth != b.depth { return a.depth > b.depth }
                if a.kinds != b.kinds { return a.kinds.lexicographicallyPrecedes(b.kinds) }
                return a.template < b.template
            })
        else { return ancestor ? "ancestor" : "none" }
        var rootEnd = 1
        for segment in segments.prefix(best.depth) { rootEnd = segment.endIndex }
        let relativeStart = best.depth < segments.count ? segments[best.depth].startIndex : path.count
        return "\(best.template) [\(best.values.map(String.init).joined(separator: ","))] \(rootEnd) \(relativeStart)"
    }

    /// Templates with names around eight bytes (where a name stops fitting one word), a literal and a
    /// parameter at the same place, alternatives, and one nested in another.
    static var syntheticProtocols: [ProtocolDefinition] {
        var definition = exampleProtocols[0]
        let origin = definition.directories[0].origin
        func directory(_ segments: [Directory.Segment]) -> Directory {
            Directory(name: "d", segments: segments, owner: 0, readers: [], origin: origin)
        }
        definition.directories = [
            directory([.literal("local"), .literal("domain"), .parameter(0), .literal("device-model"), .parameter(1)]),
            directory([.literal("local"), .literal("domain"), .parameter(0), .literal("12345678"), .parameter(1)]),
            directory([.literal("local"), .literal("domain"), .literal("7"), .literal("x")]),
            directory([.literal("local"), .literal("domain"), .parameter(0), .literal("x")]),
            directory([.alternatives(["a", "abcdefgh", "abcdefghi", "abcdefghijklmnopq"]), .parameter(0)]),
            directory([.alternatives(["a", "abcdefgh", "abcdefghi", "abcdefghijklmnopq"]), .parameter(0), .literal("in"), .parameter(1)]),
            directory([.literal("vm"), .parameter(0)]),
            directory([.literal("vm"), .parameter(1)]),
        ]
        return exampleProtocols + [definition]
    }

    /// The synthetic templates (alternatives at the root: no common prefix); the shipped ones, which
    /// all start with `/local/domain` (the walk jumps over it); and a template that ends inside that
    /// prefix (`/local`), which stops the jump there.
    static let templateSets: [(String, [ProtocolDefinition])] = [
        ("synthetic", syntheticProtocols), ("shipped", exampleProtocols), ("prefix-terminal", prefixTerminalProtocols),
    ]

    static var prefixTerminalProtocols: [ProtocolDefinition] {
        var definition = exampleProtocols[0]
        let origin = definition.directories[0].origin
        definition.directories = [
            Directory(name: "l", segments: [.literal("local")], owner: 0, readers: [], origin: origin),
            Directory(
                name: "d", segments: [.literal("local"), .literal("domain"), .parameter(0), .literal("x")], owner: 0, readers: [],
                origin: origin),
        ]
        return [definition]
    }

    @Test(arguments: templateSets.indices) func theWalkAgreesWithTheReference(_ set: Int) {
        let index = DirectoryIndex(protocols: Self.templateSets[set].1)
        var random = RobustnessTests.Generator(state: 7)
        var pieces = [
            "local", "domain", "device", "backend", "vbd", "qdisk", "vif", "console", "9pfs", "xen_9pfs", "device-model", "12345678",
            "1234567", "123456789", "a", "abcdefgh", "abcdefghi", "abcdefghijklmnopq", "abcdefghijklmnop", "vm", "in", "x", "7", "state",
            "ring-ref", "queue-0", ".", "..", "/", "", "0", "5", "05", "00", "768", "51712", "999999999999999999", "1000000000000000000",
            "12345678901234567", "-1", "+1", "1a", "a1", "\u{7F}", "9/", "/.", "./",
        ]
        pieces += (0..<20).map { _ in String(random.below(100_000)) }
        var paths: [String] = [
            "", "/", "//", "/local", "/local/", "local/domain/5", "/local/domain/5/device/vbd/768/state", "/local/domain",
            "/local/domain/", "/local/domainx/5", "/local/domai", "/local//domain/5", "/local/domain//5",
        ]
        for _ in 0..<20_000 {
            var path = random.chance(95) ? "/" : ""
            let count = random.below(9)
            for position in 0..<count {
                if position > 0 { path += "/" }
                path += pieces[random.below(pieces.count)]
            }
            if random.chance(30) {
                path = "/local/domain/\(random.below(40))/" + (random.chance(50) ? "device/vbd/768" : "backend/qdisk/3/51712") + path
            }
            paths.append(path)
        }
        for path in paths {
            let bytes = Array(path.utf8)
            let expected = Self.reference(bytes, index.templates)
            let found = bytes.withUnsafeBufferPointer { Self.describe(index.locate($0), index) }
            #expect(found == expected, "\(path)")
            // At every distance from the end of the memory the path lies in (the walk reads words).
            let padded = bytes + [UInt8(ascii: "/"), UInt8(ascii: "/")]
            let inPadding = padded.withUnsafeBufferPointer {
                Self.describe(index.locate(UnsafeBufferPointer(rebasing: $0[0..<bytes.count])), index)
            }
            #expect(inPadding == expected, "\(path) followed by slashes")
        }
    }

    /// A definition made by hand with more variable segments than a directory key holds (the checker
    /// and the table decoder refuse it): its directory is never matched, rather than confused with
    /// another that differs only in the values past the fourth.
    @Test func aTemplateWithTooManyVariablesIsNotIndexed() {
        var definition = exampleProtocols[0]
        let origin = definition.directories[0].origin
        let wide = Array(repeating: Directory.Segment.alternatives(["a", "b"]), count: Directory.maximumVariableSegments + 1)
        definition.directories = [
            Directory(name: "wide", segments: [.literal("w")] + wide, owner: 0, readers: [], origin: origin),
            Directory(name: "four", segments: [.literal("s")] + wide.dropLast(), owner: 0, readers: [], origin: origin),
        ]
        let index = DirectoryIndex(protocols: [definition])
        let widePath = Array(("/w" + String(repeating: "/a", count: 5) + "/key").utf8)
        let fourPath = Array(("/s" + String(repeating: "/b", count: 4) + "/key").utf8)
        #expect(widePath.withUnsafeBufferPointer { Self.describe(index.locate($0), index) } == "none")
        #expect(fourPath.withUnsafeBufferPointer { Self.describe(index.locate($0), index) } == "1 [1,1,1,1] 10 11")
    }
}
