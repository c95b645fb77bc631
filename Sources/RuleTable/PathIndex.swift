import ProtocolModel

/// The directory templates of every protocol in a table, compiled into a segment trie so that a
/// checker finds the (protocol, directory, parameters) of a xenstore path in one walk.
///
/// Node 0 is the root (the path `/`). Each node has literal edges, sorted by the UTF-8 bytes of their
/// labels, and at most one number edge, which matches a decimal segment and stands for a template
/// parameter. A template's alternatives (`{vbd|qdisk|tap}`) become one literal edge each, so the trie
/// is a tree. A node where a template ends lists the (protocol, directory) pairs it ends, by protocol
/// then directory. Nodes are numbered in preorder, literal edges before the number edge.
public struct PathIndex: Equatable, Sendable {
    /// A template that ends at a node.
    public struct Entry: Equatable, Sendable {
        public var protocolIndex: Int
        public var directory: Int

        public init(protocolIndex: Int, directory: Int) {
            self.protocolIndex = protocolIndex
            self.directory = directory
        }
    }

    /// A literal edge.
    public struct Edge: Equatable, Sendable {
        public var label: String
        public var child: Int

        public init(label: String, child: Int) {
            self.label = label
            self.child = child
        }
    }

    public struct Node: Equatable, Sendable {
        public var entries: [Entry]
        public var literals: [Edge]
        public var number: Int?

        public init(entries: [Entry] = [], literals: [Edge] = [], number: Int? = nil) {
            self.entries = entries
            self.literals = literals
            self.number = number
        }
    }

    public var nodes: [Node]

    public init(nodes: [Node]) {
        self.nodes = nodes
    }

    /// The canonical index of `protocols`' directory templates.
    public init(protocols: [ProtocolDefinition]) {
        struct Building {
            var literals: [[UInt8]: Int] = [:]
            var number: Int? = nil
            var entries: [Entry] = []
        }
        var building = [Building()]
        func literalChild(_ node: Int, _ label: [UInt8]) -> Int {
            if let child = building[node].literals[label] { return child }
            building.append(Building())
            building[node].literals[label] = building.count - 1
            return building.count - 1
        }
        func numberChild(_ node: Int) -> Int {
            if let child = building[node].number { return child }
            building.append(Building())
            building[node].number = building.count - 1
            return building.count - 1
        }
        for (protocolIndex, definition) in protocols.enumerated() {
            for (directoryIndex, directory) in definition.directories.enumerated() {
                // Iterative, so that a template of any length cannot exhaust the call stack.
                var pending: [(node: Int, segment: Int)] = [(0, 0)]
                while let (node, segment) = pending.popLast() {
                    guard segment < directory.segments.count else {
                        building[node].entries.append(Entry(protocolIndex: protocolIndex, directory: directoryIndex))
                        continue
                    }
                    switch directory.segments[segment] {
                    case .literal(let text):
                        pending.append((literalChild(node, Array(text.utf8)), segment + 1))
                    case .parameter:
                        pending.append((numberChild(node), segment + 1))
                    case .alternatives(let names):
                        var seen: Set<[UInt8]> = []
                        for name in names where seen.insert(Array(name.utf8)).inserted {
                            pending.append((literalChild(node, Array(name.utf8)), segment + 1))
                        }
                    }
                }
            }
        }
        // Renumber in preorder, children in edge order.
        func children(_ node: Int) -> [(label: [UInt8]?, child: Int)] {
            let literal = building[node].literals.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { (Optional($0.key), $0.value) }
            return literal + (building[node].number.map { [(nil, $0)] } ?? [])
        }
        var order: [Int] = []
        var newIndex = [Int](repeating: 0, count: building.count)
        var pending = [0]
        while let node = pending.popLast() {
            newIndex[node] = order.count
            order.append(node)
            pending += children(node).reversed().map(\.child)
        }
        nodes = order.map { old in
            var node = Node(entries: building[old].entries)
            for (label, child) in children(old) {
                if let label {
                    node.literals.append(Edge(label: String(decoding: label, as: UTF8.self), child: newIndex[child]))
                } else {
                    node.number = newIndex[child]
                }
            }
            return node
        }
    }

    /// How many trie visits building the index of `protocols` takes at most: per template, one for
    /// the root plus, per segment, the product of the alternatives so far. Saturates at `Int.max`.
    public static func expansion(of protocols: [ProtocolDefinition]) -> Int {
        var total = 0
        for definition in protocols {
            for directory in definition.directories {
                var product = 1
                var visits = 1
                for segment in directory.segments {
                    if case .alternatives(let names) = segment {
                        let (next, overflow) = product.multipliedReportingOverflow(by: names.count)
                        product = overflow ? Int.max : next
                    }
                    let (sum, overflow) = visits.addingReportingOverflow(product)
                    visits = overflow ? Int.max : sum
                }
                let (sum, overflow) = total.addingReportingOverflow(visits)
                total = overflow ? Int.max : sum
            }
        }
        return total
    }

    /// The templates `path` lies in or below, at the deepest node on the path where templates end.
    ///
    /// Matching walks one segment at a time: a literal edge matches a segment with the same bytes,
    /// the number edge a segment of decimal digits without a leading zero (or `0`). Where both match,
    /// both are explored; since the index is a tree, each node is visited at most once. The deepest
    /// node with entries wins; among equally deep ones, the one whose path takes a literal edge where
    /// the other takes the number edge. A template whose parameter occurs twice matches only when both
    /// segments carry the same number.
    public func match(_ path: String, protocols: [ProtocolDefinition]) -> [PathMatch] {
        guard path.hasPrefix("/"), !nodes.isEmpty else { return [] }
        let segments = Array(path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst())
        var best: (node: Int, depth: Int, numbers: [Int])? = nil
        // Depth-first, literal edges before the number edge, so the first node found at a depth is the preferred one.
        var pending: [(node: Int, depth: Int, numbers: [Int])] = [(0, 0, [])]
        while let (node, depth, numbers) = pending.popLast() {
            guard node >= 0, node < nodes.count else { continue }
            if depth > (best?.depth ?? -1), !nodes[node].entries.isEmpty { best = (node, depth, numbers) }
            guard depth < segments.count else { continue }
            let segment = segments[depth]
            if let child = nodes[node].number, let value = Self.decimal(segment) {
                pending.append((child, depth + 1, numbers + [value]))
            }
            if let child = literalChild(of: node, segment) {
                pending.append((child, depth + 1, numbers))
            }
        }
        guard let best else { return [] }
        let keyPath = segments.dropFirst(best.depth).map { String(decoding: $0, as: UTF8.self) }
        var matches: [PathMatch] = []
        for entry in nodes[best.node].entries {
            guard entry.protocolIndex < protocols.count, entry.directory < protocols[entry.protocolIndex].directories.count else {
                continue
            }
            let definition = protocols[entry.protocolIndex]
            var arguments = [Int?](repeating: nil, count: definition.parameters.count)
            var next = 0
            var consistent = true
            for segment in definition.directories[entry.directory].segments {
                guard case .parameter(let parameter) = segment else { continue }
                guard next < best.numbers.count, parameter >= 0, parameter < arguments.count else {
                    consistent = false
                    break
                }
                if let bound = arguments[parameter], bound != best.numbers[next] { consistent = false }
                arguments[parameter] = best.numbers[next]
                next += 1
            }
            if consistent {
                matches.append(
                    PathMatch(protocolIndex: entry.protocolIndex, directory: entry.directory, arguments: arguments, keyPath: keyPath))
            }
        }
        return matches
    }

    private func literalChild(of node: Int, _ segment: String.UTF8View.SubSequence) -> Int? {
        let edges = nodes[node].literals
        var low = 0
        var high = edges.count
        while low < high {
            let middle = (low + high) / 2
            let label = edges[middle].label.utf8
            if label.lexicographicallyPrecedes(segment) {
                low = middle + 1
            } else if segment.lexicographicallyPrecedes(label) {
                high = middle
            } else {
                return edges[middle].child
            }
        }
        return nil
    }

    private static func decimal(_ segment: String.UTF8View.SubSequence) -> Int? {
        guard let first = segment.first, segment.count <= 18, segment.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard first != 0x30 || segment.count == 1 else { return nil }
        return segment.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}

/// A directory a path lies in or below.
public struct PathMatch: Equatable, Sendable {
    public var protocolIndex: Int
    public var directory: Int
    /// Instance parameter values the path binds, by parameter index (nil: not in the template).
    public var arguments: [Int?]
    /// The path's segments below the directory; empty for the directory node itself.
    public var keyPath: [String]
}
