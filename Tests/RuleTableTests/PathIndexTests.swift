import ProtocolModel
import RuleTable
import Testing

/// The path index finds the protocol, directory and parameters of a xenstore path.
@Suite struct PathIndexTests {
    static let origin = Origin(file: "t.xpd", line: 1, column: 1)

    @Test func referenceProtocolPaths() throws {
        let table = try Support.referenceTable()
        let vbd = table.protocols[0]
        let fe = try #require(vbd.directories.firstIndex { $0.name == "fe" })
        let be = try #require(vbd.directories.firstIndex { $0.name == "be" })
        let parameter = { (name: String) in vbd.parameters.firstIndex(of: name)! }

        let ring = table.directories(containing: "/local/domain/5/device/vbd/768/ring-ref")
        #expect(ring.map(\.directory) == [fe])
        #expect(ring.first?.keyPath == ["ring-ref"])
        #expect(ring.first?.arguments[parameter("fe")] == 5)
        #expect(ring.first?.arguments[parameter("devid")] == 768)
        #expect(ring.first?.arguments[parameter("be")] == .some(nil))

        for kind in ["vbd", "qdisk", "tap"] {
            let state = table.directories(containing: "/local/domain/0/backend/\(kind)/5/768/state")
            #expect(state.map(\.directory) == [be])
            var expected = [Int?](repeating: nil, count: vbd.parameters.count)
            expected[parameter("fe")] = 5
            expected[parameter("be")] = 0
            expected[parameter("devid")] = 768
            #expect(state.first?.arguments == expected)
            #expect(state.first?.keyPath == ["state"])
        }
        #expect(table.directories(containing: "/local/domain/0/backend/vbd/5/768").first?.keyPath == [])
        #expect(
            table.directories(containing: "/local/domain/0/backend/vbd/5/768/queue-0/ring-ref").first?.keyPath == ["queue-0", "ring-ref"])
        // Not protocol paths.
        for path in [
            "/local/domain/5/device/vbd/0768/state", "/local/domain/5/device/vif/0/state", "/local/domain/5/device/vbd",
            "local/domain/5/device/vbd/768", "/", "", "/local/domain/-1/device/vbd/768", "/local/domain/5/device/vbd/7x",
        ] {
            #expect(table.directories(containing: path) == [], "\(path)")
        }
    }

    static func definition(_ templates: [[Directory.Segment]]) -> ProtocolDefinition {
        ProtocolDefinition(
            name: "t", origin: origin, parameters: ["a", "b"], roles: [Role(name: "r", principal: .privileged)], states: [],
            directories: templates.enumerated().map {
                Directory(name: "d\($0.offset)", segments: $0.element, owner: 0, readers: [], origin: origin)
            },
            keys: [], machines: [], guarantees: [], expectations: [], unknownKeys: .audit, labels: [], turns: [])
    }

    @Test func repeatedParametersMustAgree() {
        let table = CompiledRuleTable(protocols: [Self.definition([[.literal("x"), .parameter(0), .literal("y"), .parameter(0)]])])
        #expect(table.directories(containing: "/x/3/y/3/k").first?.arguments == [3, nil])
        #expect(table.directories(containing: "/x/3/y/4/k") == [])
    }

    @Test func deepestMatchWinsAndLiteralsArePreferred() {
        let table = CompiledRuleTable(protocols: [
            Self.definition([
                [.literal("x"), .parameter(0)],
                [.literal("x"), .literal("5"), .literal("y")],
                [.literal("x"), .parameter(1), .literal("y")],
            ])
        ])
        // `/x/5` only matches through the number edge, although a literal edge `5` exists.
        #expect(table.directories(containing: "/x/5/k").map(\.directory) == [0])
        #expect(table.directories(containing: "/x/5/k").first?.keyPath == ["k"])
        // `/x/5/y` matches all three; the deepest are d1 and d2, and the literal one wins.
        #expect(table.directories(containing: "/x/5/y/k").map(\.directory) == [1])
        #expect(table.directories(containing: "/x/6/y").map(\.directory) == [2])
        #expect(table.directories(containing: "/x/6/y").first?.arguments == [nil, 6])
    }

    @Test func canonicalLayout() {
        // Preorder, literal edges sorted by bytes, then the number edge; alternatives expand to literal edges.
        let table = CompiledRuleTable(protocols: [
            Self.definition([[.literal("b"), .parameter(0)], [.alternatives(["b", "a", "b"]), .literal("z")]])
        ])
        let nodes = table.pathIndex.nodes
        #expect(nodes.count == 6)
        #expect(nodes[0].literals.map(\.label) == ["a", "b"])
        #expect(nodes[0].literals.map(\.child) == [1, 3])
        #expect(nodes[1].literals.map(\.label) == ["z"])
        #expect(nodes[2].entries == [PathIndex.Entry(protocolIndex: 0, directory: 1)])
        #expect(nodes[3].literals.map(\.label) == ["z"])
        #expect(nodes[3].number == 5)
        #expect(nodes[5].entries == [PathIndex.Entry(protocolIndex: 0, directory: 0)])
        #expect(PathIndex.expansion(of: table.protocols) == 3 + 1 + 3 + 3)
    }
}
