import ProtocolModel

/// Identifies one concrete directory (the root of a template with its variable segments filled in)
/// without keeping its path: the template and the values of its variable segments (a parameter's
/// number, or the index of the alternative taken).
struct RootKey: Hashable {
    var template: Int32
    var count: Int32
    var v0: Int64 = 0
    var v1: Int64 = 0
    var v2: Int64 = 0
    var v3: Int64 = 0
    var v4: Int64 = 0
    var v5: Int64 = 0
    /// Values beyond the sixth.
    var more: [Int64]? = nil

    init(template: Int) {
        self.template = Int32(template)
        self.count = 0
    }

    mutating func append(_ value: Int64) {
        switch count {
        case 0: v0 = value
        case 1: v1 = value
        case 2: v2 = value
        case 3: v3 = value
        case 4: v4 = value
        case 5: v5 = value
        default: more = (more ?? []) + [value]
        }
        count += 1
    }

    subscript(index: Int) -> Int64 {
        switch index {
        case 0: v0
        case 1: v1
        case 2: v2
        case 3: v3
        case 4: v4
        case 5: v5
        default: more?[index - 6] ?? 0
        }
    }
}

/// A directory template of one protocol, as the index uses it.
struct DirectoryTemplate {
    var protocolIndex: Int
    var directory: Int
    var segments: [Directory.Segment]
}

/// Where a path lies with respect to the directory templates.
enum PathLocation {
    /// Inside (or at the root of) a concrete directory.
    case directory(DirectoryMatch)
    /// Above the root of at least one template (`/local/domain/5` for `/local/domain/{fe}/device/...`):
    /// removing it removes directories.
    case ancestor
    /// Elsewhere.
    case none
}

/// A path resolved to a concrete directory.
struct DirectoryMatch {
    var template: Int
    var root: RootKey
    /// The root's path (a prefix of the path).
    var rootPath: Substring
    /// The path below the root (`ring-ref`, `queue-0/ring-ref1`); empty for the root itself.
    var relative: Substring
}

/// The directory templates of all protocols compiled into a segment trie, so that a path is resolved
/// in one pass over its bytes: literal segments and alternatives are edges by name, parameters one
/// edge for a decimal number. The deepest template that matches wins.
final class DirectoryIndex {
    private struct Node {
        var literals: [(name: [UInt8], child: Int)] = []
        var number: Int? = nil
        var terminal: Int? = nil
    }

    let templates: [DirectoryTemplate]
    private var nodes: [Node] = [Node()]
    /// Scratch: the byte ranges of the segments of the path being matched.
    private var starts: [Int] = []
    private var ends: [Int] = []

    init(protocols: [ProtocolDefinition]) {
        var templates: [DirectoryTemplate] = []
        for (p, definition) in protocols.enumerated() {
            for (d, directory) in definition.directories.enumerated() {
                templates.append(DirectoryTemplate(protocolIndex: p, directory: d, segments: directory.segments))
            }
        }
        self.templates = templates
        for (index, template) in templates.enumerated() {
            insert(template.segments[...], at: 0, template: index)
        }
    }

    private func insert(_ segments: ArraySlice<Directory.Segment>, at node: Int, template: Int) {
        guard let segment = segments.first else {
            if nodes[node].terminal == nil { nodes[node].terminal = template }
            return
        }
        let rest = segments.dropFirst()
        switch segment {
        case .literal(let name):
            insert(rest, at: literalChild(node, Array(name.utf8)), template: template)
        case .alternatives(let names):
            for name in names { insert(rest, at: literalChild(node, Array(name.utf8)), template: template) }
        case .parameter:
            if nodes[node].number == nil {
                nodes.append(Node())
                nodes[node].number = nodes.count - 1
            }
            insert(rest, at: nodes[node].number!, template: template)
        }
    }

    private func literalChild(_ node: Int, _ name: [UInt8]) -> Int {
        if let existing = nodes[node].literals.first(where: { $0.name == name }) { return existing.child }
        nodes.append(Node())
        nodes[node].literals.append((name, nodes.count - 1))
        return nodes.count - 1
    }

    /// Resolves an absolute path.
    func locate(_ path: String) -> PathLocation {
        if let location = path.utf8.withContiguousStorageIfAvailable({ locate(bytes: $0, path: path) }) { return location }
        let native = String(decoding: Array(path.utf8), as: UTF8.self)
        return native.utf8.withContiguousStorageIfAvailable { locate(bytes: $0, path: native) } ?? .none
    }

    private func locate(bytes: UnsafeBufferPointer<UInt8>, path: String) -> PathLocation {
        guard bytes.count > 0, bytes[0] == UInt8(ascii: "/") else { return .none }
        starts.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        if bytes.count > 1 {
            var start = 1
            var i = 1
            while i <= bytes.count {
                if i == bytes.count || bytes[i] == UInt8(ascii: "/") {
                    guard i > start else { return .none }  // empty segment: not a valid xenstore path
                    starts.append(start)
                    ends.append(i)
                    start = i + 1
                }
                i += 1
            }
        }
        var best: (template: Int, depth: Int)? = nil
        var ancestor = false
        walk(0, depth: 0, bytes, &best, &ancestor)
        guard let (template, depth) = best else { return ancestor ? .ancestor : .none }
        var root = RootKey(template: template)
        for (position, segment) in templates[template].segments.enumerated() {
            let range = starts[position]..<ends[position]
            switch segment {
            case .literal: continue
            case .parameter: root.append(Int64(Self.decimal(bytes, range) ?? 0))
            case .alternatives(let names):
                let index = names.firstIndex { Self.equals(bytes, range, Array($0.utf8)) } ?? 0
                root.append(Int64(index))
            }
        }
        let rootEnd = depth == 0 ? 1 : ends[depth - 1]
        let utf8 = path.utf8
        let rootIndex = utf8.index(utf8.startIndex, offsetBy: rootEnd)
        let rootPath = path[path.startIndex..<rootIndex]
        let relative: Substring
        if depth < starts.count {
            relative = path[utf8.index(utf8.startIndex, offsetBy: starts[depth])...]
        } else {
            relative = path[path.endIndex...]
        }
        return .directory(DirectoryMatch(template: template, root: root, rootPath: rootPath, relative: relative))
    }

    private func walk(
        _ node: Int, depth: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ best: inout (template: Int, depth: Int)?, _ ancestor: inout Bool
    ) {
        let current = nodes[node]
        if let terminal = current.terminal, best == nil || best!.depth < depth { best = (terminal, depth) }
        guard depth < starts.count else {
            if !current.literals.isEmpty || current.number != nil { ancestor = true }
            return
        }
        let range = starts[depth]..<ends[depth]
        for edge in current.literals where Self.equals(bytes, range, edge.name) {
            walk(edge.child, depth: depth + 1, bytes, &best, &ancestor)
        }
        if let number = current.number, Self.decimal(bytes, range) != nil {
            walk(number, depth: depth + 1, bytes, &best, &ancestor)
        }
    }

    @inline(__always)
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: [UInt8]) -> Bool {
        guard range.count == name.count else { return false }
        var i = range.lowerBound
        for byte in name {
            if bytes[i] != byte { return false }
            i += 1
        }
        return true
    }

    /// A canonical decimal number (no sign, no leading zero except `0` itself, at most 18 digits).
    @inline(__always)
    static func decimal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        if range.count > 1 && bytes[range.lowerBound] == UInt8(ascii: "0") { return nil }
        var value = 0
        for i in range {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// The instance parameters a concrete directory binds (`-1`: not bound by this directory).
    func parameters(of root: RootKey, count: Int) -> [Int] {
        var values = [Int](repeating: -1, count: count)
        var capture = 0
        for segment in templates[Int(root.template)].segments {
            switch segment {
            case .literal: continue
            case .parameter(let index):
                if index >= 0 && index < count { values[index] = Int(root[capture]) }
                capture += 1
            case .alternatives:
                capture += 1
            }
        }
        return values
    }
}
