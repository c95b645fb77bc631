import PolicyDiagnostics
import ProtocolModel
import TestSupport
import Testing

/// The check that no two protocols claim the same paths (E0746): indexed instead of pairwise, each
/// directory reported once, against the first protocol it overlaps, and bounded (W0750).
@Suite struct OverlappingDirectoryTests {
    /// `count` protocols extending the compact library, each with the directories `templates(i)`
    /// (as `fe` and `be`).
    static func protocols(_ count: Int, _ templates: (Int) -> (String, String)) -> String {
        (0..<count).map { i in
            let (fe, be) = templates(i)
            return "protocol p\(i) extends xb { dir fe = \"\(fe)\" owner frontend readers backend;"
                + " dir be = \"\(be)\" owner backend readers frontend; }"
        }.joined(separator: "\n") + "\n"
    }

    static func overlaps(_ diagnostics: [Diagnostic]) -> [Diagnostic] { diagnostics.filter { $0.code == "E0746" } }

    /// The paths a template segment matches, over a universe where `7` stands for every number no
    /// literal names: an oracle independent of the checker's rules.
    static func values(_ segment: Directory.Segment) -> Set<String> {
        switch segment {
        case .literal(let name): [name]
        case .parameter: ["1", "2", "7"]
        case .alternatives(let names): Set(names)
        }
    }

    static func overlap(_ a: Directory, _ b: Directory) -> Bool {
        a.segments.count == b.segments.count
            && zip(a.segments, b.segments).allSatisfy { !values($0).isDisjoint(with: values($1)) }
    }

    /// Random templates over a few literals, numbers, parameters and alternatives: the check reports
    /// exactly, in order, each directory that overlaps one of an earlier protocol, against the first.
    @Test(arguments: 0..<8)
    func theIndexFindsWhatComparingEveryPairFinds(_ seed: Int) throws {
        var random = SplitMix64(seed: 0x0dd_0000 + UInt64(seed))
        let segments = ["a", "b", "1", "2", "{fe}", "{devid}", "{a|1}", "{b|2}", "{a|b}", "{1|2}", "{a|a}"]
        func template() -> String {
            "/" + (0..<random.int(1...3)).map { _ in segments[random.below(segments.count)] }.joined(separator: "/")
        }
        let source = Self.protocols(60) { _ in (template(), template()) }
        let (definitions, diagnostics) = checkWithLibrary(source)
        #expect(definitions.count == 60, "\(diagnostics.filter { $0.severity == .error }.map(describe))")
        var expected: [String] = []
        for (j, second) in definitions.enumerated() {
            for b in second.directories {
                let first = definitions[..<j].lazy.flatMap { p in p.directories.map { (p, $0) } }.first { Self.overlap($0.1, b) }
                guard let (p, a) = first.map({ ($0.0, $0.1) }) else { continue }
                let location = "\(b.origin.file):\(b.origin.line):\(b.origin.column)"
                expected.append("\(location) directory '\(a.name)' of '\(p.name)' overlaps directory '\(b.name)' of '\(second.name)'")
            }
        }
        #expect(expected.count > 20, "a seed whose templates hardly overlap tests little")
        let reported = Self.overlaps(diagnostics).map { "\($0.location) \($0.message)" }
        #expect(reported == expected)
    }

    /// 5,000 protocols of their own device types: compared pairwise, a minute of a debug build.
    @Test func fiveThousandProtocolsOfTheirOwnPathsAreQuick() {
        let source = Self.protocols(5000) { i in
            ("/local/domain/{fe}/device/t\(i)/{devid}", "/local/domain/{be}/backend/t\(i)/{fe}/{devid}")
        }
        let (definitions, diagnostics) = HostileProtocolTests.hostile(source, budget: .seconds(60))
        #expect(definitions.count == 5000)
        #expect(HostileProtocolTests.errors(diagnostics) == [])
        #expect(!diagnostics.contains { $0.code == "W0750" })
    }

    /// 5,000 protocols claiming the library's paths: 25 million E0746 pairwise, now one per directory.
    @Test func fiveThousandProtocolsOfTheSamePathsAreReportedOncePerDirectory() {
        let source = (0..<5000).map { "protocol p\($0) extends xb { }" }.joined(separator: "\n") + "\n"
        let (_, diagnostics) = HostileProtocolTests.hostile(source, budget: .seconds(60))
        let overlaps = Self.overlaps(diagnostics)
        #expect(overlaps.count == 2 * 4999)
        // Inherited directories are located in the library; each is reported against the first protocol.
        #expect(Set(overlaps.map(brief)) == ["xb.xpd:11:7 error E0746", "xb.xpd:12:7 error E0746"])
        #expect(
            overlaps.allSatisfy {
                $0.message.hasPrefix("directory 'fe' of 'p0' overlaps") || $0.message.hasPrefix("directory 'be' of 'p0' overlaps")
            })
    }

    /// Twelve segments of `a` or `b`: 4,096 distinct templates, none overlapping, yet each segment
    /// shared with half of the others, so no position is selective. The comparisons stop at their
    /// bound with W0750 at the first protocol not compared.
    @Test func comparisonsStopAtTheirBound() throws {
        func template(_ n: Int) -> String { "/" + (0..<12).map { n >> $0 & 1 == 0 ? "a" : "b" }.joined(separator: "/") }
        let source = Self.protocols(2048) { i in (template(2 * i), template(2 * i + 1)) }
        let (definitions, diagnostics) = HostileProtocolTests.hostile(source, budget: .seconds(60))
        #expect(definitions.count == 2048)
        #expect(Self.overlaps(diagnostics).isEmpty)
        let bound = try #require(diagnostics.first { $0.code == "W0750" }, "\(diagnostics.map(describe))")
        #expect(diagnostics.filter { $0.code == "W0750" }.count == 1)
        #expect(
            bound.message.hasPrefix(
                "the check of overlapping directories compared 1000000 pairs of directories; the directories of 'p"))
        #expect(bound.location.line > 1 && bound.location.column == 10)
    }
}
