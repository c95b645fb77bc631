import ProtocolModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Identifies one concrete directory (the root of a template with its variable segments filled in)
/// without keeping its path: the template and the values of its variable segments (a parameter's
/// number, or the index of the alternative taken), at most `Directory.maximumVariableSegments` of
/// them (the checker and the table decoder refuse more), inline: plain data, so that the lookups of
/// every message copy, hash and compare it without reference counting.
struct RootKey: Hashable {
    var template: Int32
    var count: Int32
    var v0: Int64 = 0
    var v1: Int64 = 0
    var v2: Int64 = 0
    var v3: Int64 = 0

    init(template: Int) {
        self.template = Int32(template)
        self.count = 0
    }

    /// Adds the next value; one past the capacity is dropped (`DirectoryIndex` never indexes a
    /// template with more variable segments).
    mutating func append(_ value: Int64) {
        switch count {
        case 0: v0 = value
        case 1: v1 = value
        case 2: v2 = value
        case 3: v3 = value
        default: return
        }
        count += 1
    }

    // Dictionaries of live and pending directories are asked for every message: one multiply-xor
    // mix instead of SipHash over the fields.
    func _rawHashValue(seed: Int) -> Int {
        var word = UInt64(UInt32(bitPattern: template)) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: Int64(seed))
        word ^= mixed
        word ^= word >> 31
        word &*= 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: word ^ (word >> 29))
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(UInt64(UInt32(bitPattern: template)) &* 0x9E37_79B9_7F4A_7C15 ^ mixed)
    }

    /// The values, each multiplied by its own odd constant and combined.
    private var mixed: UInt64 {
        UInt64(bitPattern: v0) &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(bitPattern: v1) &* 0x1656_67B1_9E37_79F9
            ^ UInt64(bitPattern: v2) &* 0x85EB_CA77_C2B2_AE63 ^ UInt64(bitPattern: v3) &* 0x27D4_EB2F_1656_67C5
    }

    subscript(index: Int) -> Int64 {
        switch index {
        case 0: v0
        case 1: v1
        case 2: v2
        case 3: v3
        default: 0
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
    /// The path below the root (`ring-ref`, `queue-0/ring-ref1`); empty for the root itself. A slice of
    /// the whole path, or (resolved from a batch's bytes) a string of its own, or a declared key's
    /// shared name.
    var relative: Substring
    /// The length of the root's path in bytes: `rootPath` is made only when needed (a new pending
    /// directory), not for every message.
    var rootLength: Int
    /// The declared key without index variables that `relative` names (-1: none), when already
    /// looked up (-2: not yet).
    var fixedKey = -2
    /// What the reading thread worked out about the key (with `fixedKey` looked up).
    var facts: KeyFacts

    init(template: Int, root: RootKey, relative: Substring, rootLength: Int, fixedKey: Int = -2, facts: KeyFacts = .unknown) {
        self.template = template
        self.root = root
        self.relative = relative
        self.rootLength = rootLength
        self.fixedKey = fixedKey
        self.facts = facts
    }

    /// The root's path (a prefix of the path), for a match made by `DirectoryIndex.locate(_:)` from a
    /// `String`, whose `relative` is a slice of the path. A match resolved from a batch's bytes has a
    /// `relative` of its own: take the root from the message's path (`MessagePath.prefix(_:)`).
    var rootPath: Substring {
        let path = relative.base
        return path[path.startIndex..<path.utf8.index(path.utf8.startIndex, offsetBy: rootLength)]
    }
}

/// The directory templates of all protocols compiled into a segment trie, so that a path is resolved
/// in one pass over its bytes: literal segments and alternatives are edges by name, parameters one
/// edge for a decimal number. The deepest template that matches wins. The trie is built once and
/// then only read: flat arrays, no per-lookup allocation.
final class DirectoryIndex {
    private struct Node {
        var literals: [(name: [UInt8], child: Int)] = []
        var number: Int? = nil
        var terminal: Int? = nil
    }

    let templates: [DirectoryTemplate]
    /// Per node: its literal edges (`edgeStart[n]..<edgeStart[n + 1]` into the edge arrays), its number
    /// edge (-1: none) and its template (-1: none). Frozen into unmanaged buffers: `locate` runs for
    /// every message, and array accesses through the class would each check bounds and ownership.
    private let edgeStart: UnsafeMutableBufferPointer<Int32>
    /// Per edge: the first eight bytes of its name as a word (`PathWord`), so that a segment is
    /// compared with a name in one comparison; a name longer than eight bytes compares the rest
    /// from `names`.
    private let edgeWord: UnsafeMutableBufferPointer<UInt64>
    private let edgeNameStart: UnsafeMutableBufferPointer<Int32>
    private let edgeNameLength: UnsafeMutableBufferPointer<Int32>
    private let edgeChild: UnsafeMutableBufferPointer<Int32>
    private let names: UnsafeMutableBufferPointer<UInt8>
    private let numberChild: UnsafeMutableBufferPointer<Int32>
    private let terminal: UnsafeMutableBufferPointer<Int32>
    /// Deepest template, in segments.
    private let maximumDepth: Int
    /// The path every template starts with, as far as it is one literal after another with nothing
    /// else to choose (`/local/domain` for the shipped protocols), its segments, and the node it
    /// leads to: a path that starts with it starts the walk there, two segments and two nodes on.
    private let prefix: UnsafeMutableBufferPointer<UInt8>
    private let prefixSegments: UnsafeMutableBufferPointer<PathSegment>
    private let prefixLength: Int
    private let prefixNode: Int
    private let prefixNodeDepth: Int
    /// Per template: its variable segments (position; the alternatives' names, or none for a parameter).
    /// Flat: template `t`'s variables are `variableStart[t]..<variableStart[t + 1]`; each has its
    /// segment position and its alternatives (`alternativeStart`, -1 for a parameter), whose names
    /// are `alternativeNameStart/Length` into `alternativeNames`.
    private let variableStart: UnsafeMutableBufferPointer<Int32>
    private let variablePosition: UnsafeMutableBufferPointer<Int32>
    private let variableAlternativeStart: UnsafeMutableBufferPointer<Int32>
    private let variableAlternativeCount: UnsafeMutableBufferPointer<Int32>
    private let alternativeNameStart: UnsafeMutableBufferPointer<Int32>
    private let alternativeNameLength: UnsafeMutableBufferPointer<Int32>
    /// Per alternative: the first eight bytes of its name as a word (`PathWord`), compared with the
    /// segment's word as the edges are.
    private let alternativeWord: UnsafeMutableBufferPointer<UInt64>
    private let alternativeNames: UnsafeMutableBufferPointer<UInt8>

    init(protocols: [ProtocolDefinition]) {
        var templates: [DirectoryTemplate] = []
        for (p, definition) in protocols.enumerated() {
            for (d, directory) in definition.directories.enumerated() {
                templates.append(DirectoryTemplate(protocolIndex: p, directory: d, segments: directory.segments))
            }
        }
        self.templates = templates
        var nodes = [Node()]
        func literalChild(_ node: Int, _ name: [UInt8]) -> Int {
            if let existing = nodes[node].literals.first(where: { $0.name == name }) { return existing.child }
            nodes.append(Node())
            nodes[node].literals.append((name, nodes.count - 1))
            return nodes.count - 1
        }
        func insert(_ segments: ArraySlice<Directory.Segment>, at node: Int, template: Int) {
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
        // A template with more variable segments than a `RootKey` holds cannot be told apart from
        // its neighbours; the checker and the table decoder refuse it, so only a definition made by
        // hand gets here, and its directory is never matched.
        for (index, template) in templates.enumerated()
        where Directory.variableSegmentCount(template.segments) <= Directory.maximumVariableSegments {
            insert(template.segments[...], at: 0, template: index)
        }
        var edgeStart: [Int32] = []
        var edgeWord: [UInt64] = []
        var edgeNameStart: [Int32] = []
        var edgeNameLength: [Int32] = []
        var edgeChild: [Int32] = []
        var names: [UInt8] = []
        for node in nodes {
            edgeStart.append(Int32(edgeChild.count))
            for edge in node.literals {
                edgeNameStart.append(Int32(names.count))
                edgeNameLength.append(Int32(edge.name.count))
                edgeWord.append(PathWord.word(edge.name))
                names += edge.name
                edgeChild.append(Int32(edge.child))
            }
        }
        edgeStart.append(Int32(edgeChild.count))
        self.edgeStart = Self.frozen(edgeStart)
        self.edgeWord = Self.frozen(edgeWord)
        self.edgeNameStart = Self.frozen(edgeNameStart)
        self.edgeNameLength = Self.frozen(edgeNameLength)
        self.edgeChild = Self.frozen(edgeChild)
        self.names = Self.frozen(names)
        numberChild = Self.frozen(nodes.map { Int32($0.number ?? -1) })
        terminal = Self.frozen(nodes.map { Int32($0.terminal ?? -1) })
        maximumDepth = templates.map(\.segments.count).max() ?? 0
        var prefix: [UInt8] = []
        var prefixSegments: [PathSegment] = []
        var prefixNode = 0
        while nodes[prefixNode].terminal == nil, nodes[prefixNode].number == nil, nodes[prefixNode].literals.count == 1 {
            let edge = nodes[prefixNode].literals[0]
            prefix.append(UInt8(ascii: "/"))
            prefixSegments.append(
                PathSegment(start: prefix.count, end: prefix.count + edge.name.count, word: PathWord.word(edge.name)))
            prefix += edge.name
            prefixNode = edge.child
        }
        self.prefix = Self.frozen(prefix)
        self.prefixSegments = Self.frozen(prefixSegments)
        prefixLength = prefix.count
        self.prefixNode = prefixNode
        prefixNodeDepth = prefixSegments.count
        var variableStart: [Int32] = []
        var variablePosition: [Int32] = []
        var variableAlternativeStart: [Int32] = []
        var variableAlternativeCount: [Int32] = []
        var alternativeNameStart: [Int32] = []
        var alternativeNameLength: [Int32] = []
        var alternativeWord: [UInt64] = []
        var alternativeNames: [UInt8] = []
        for template in templates {
            variableStart.append(Int32(variablePosition.count))
            for (position, segment) in template.segments.enumerated() {
                switch segment {
                case .literal:
                    continue
                case .parameter:
                    variableAlternativeStart.append(-1)
                    variableAlternativeCount.append(0)
                case .alternatives(let names):
                    variableAlternativeStart.append(Int32(alternativeNameStart.count))
                    variableAlternativeCount.append(Int32(names.count))
                    for name in names {
                        alternativeNameStart.append(Int32(alternativeNames.count))
                        alternativeNameLength.append(Int32(name.utf8.count))
                        alternativeWord.append(PathWord.word(name.utf8))
                        alternativeNames += Array(name.utf8)
                    }
                }
                variablePosition.append(Int32(position))
            }
        }
        variableStart.append(Int32(variablePosition.count))
        self.variableStart = Self.frozen(variableStart)
        self.variablePosition = Self.frozen(variablePosition)
        self.variableAlternativeStart = Self.frozen(variableAlternativeStart)
        self.variableAlternativeCount = Self.frozen(variableAlternativeCount)
        self.alternativeNameStart = Self.frozen(alternativeNameStart)
        self.alternativeNameLength = Self.frozen(alternativeNameLength)
        self.alternativeWord = Self.frozen(alternativeWord)
        self.alternativeNames = Self.frozen(alternativeNames)
    }

    deinit {
        for buffer in [
            edgeStart, edgeNameStart, edgeNameLength, edgeChild, numberChild, terminal, variableStart, variablePosition,
            variableAlternativeStart, variableAlternativeCount, alternativeNameStart, alternativeNameLength,
        ] { buffer.deallocate() }
        edgeWord.deallocate()
        names.deallocate()
        prefix.deallocate()
        prefixSegments.deallocate()
        alternativeWord.deallocate()
        alternativeNames.deallocate()
    }

    private static func frozen<Element>(_ array: [Element]) -> UnsafeMutableBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: max(1, array.count))
        _ = buffer.initialize(from: array)
        return buffer
    }

    /// Resolves an absolute path.
    func locate(_ path: String) -> PathLocation {
        var native = path
        native.makeContiguousUTF8()
        let location = native.utf8.withContiguousStorageIfAvailable { locate($0) } ?? .none
        switch location {
        case .none: return .none
        case .ancestor: return .ancestor
        case .directory(let found):
            let utf8 = native.utf8
            let relative = native[utf8.index(utf8.startIndex, offsetBy: found.relativeStart)...]
            return .directory(DirectoryMatch(template: found.template, root: found.root, relative: relative, rootLength: found.rootEnd))
        }
    }

    /// Where an absolute path lies, by byte offsets.
    enum ByteLocation {
        case directory(ByteMatch)
        case ancestor
        case none
    }

    /// A path resolved to a concrete directory: `bytes[..<rootEnd]` is its root, `bytes[relativeStart...]`
    /// the path below it (empty for the root itself).
    struct ByteMatch {
        var template: Int
        var root: RootKey
        var rootEnd: Int
        var relativeStart: Int
    }

    /// Resolves an absolute path given as bytes.
    ///
    /// One pass over the path: the walk reads each segment when it gets there and matches it at
    /// once (a path outside every directory, most of the unrelated traffic, stops at its first
    /// unknown segment). A segment's first eight bytes, loaded as one word (`PathWord`), both show
    /// where it ends and compare with the edge names in one comparison each. The rest of the path,
    /// after the deepest segment the walk read, is only checked for empty segments, which make the
    /// path invalid. At each node at most one edge matches, unless the segment is both an edge's name
    /// and a number: then the walk starts again in `locateBranching`, which tries both ways. Without
    /// that bookkeeping (segments read ahead of the walk, a stack of branches) the loop is about a
    /// third of the instructions it was.
    func locate(_ bytes: UnsafeBufferPointer<UInt8>) -> ByteLocation {
        guard let base = bytes.baseAddress, bytes.count > 0, base[0] == UInt8(ascii: "/") else { return .none }
        let length = bytes.count
        let edgeStart = self.edgeStart.baseAddress!
        let numberChild = self.numberChild.baseAddress!
        let terminal = self.terminal.baseAddress!
        return withUnsafeTemporaryAllocation(of: PathSegment.self, capacity: maximumDepth &+ 1) { segments -> ByteLocation in
            let stored = segments.baseAddress!
            // The last segment read ends at `scanned` (a `/`, or the end of the path); `/` alone has
            // no segment at all.
            var scanned = length == 1 ? 1 : 0
            var best = -1
            var bestDepth = -1
            var ancestor = false
            var node = 0
            var depth = 0
            // The common prefix matched at once (a path that differs from it anywhere takes the walk
            // from the root, which ends the same way, and the nodes skipped hold no template).
            if prefixLength > 0 && length >= prefixLength && (length == prefixLength || base[prefixLength] == UInt8(ascii: "/"))
                && memcmp(base, prefix.baseAddress!, prefixLength) == 0
            {
                depth = prefixNodeDepth
                stored.update(from: prefixSegments.baseAddress!, count: depth)
                node = prefixNode
                scanned = prefixLength
            }
            while true {
                let template = Int(terminal[node])
                if template >= 0 {
                    best = template
                    bestDepth = depth
                }
                let number = Int(numberChild[node])
                let edge = Int(edgeStart[node])
                let last = Int(edgeStart[node &+ 1])
                if edge == last && number < 0 { break }
                guard scanned < length else {
                    // The path ends at a node with templates below it.
                    ancestor = true
                    break
                }
                let segment = PathWord.segment(base, length, from: scanned &+ 1)
                let size = segment.end &- segment.start
                guard size > 0 else { return .none }  // empty: not a valid xenstore path
                stored[depth] = segment
                scanned = segment.end
                var next = literalChild(edge, last, segment, base)
                if number >= 0 && isNumber(segment, bytes) {
                    if next >= 0 { return locateBranching(bytes) }
                    next = number
                }
                guard next >= 0 else { break }
                node = next
                depth &+= 1
            }
            if PathWord.hasEmptySegment(base, length, from: scanned) { return .none }
            guard best >= 0 else { return ancestor ? .ancestor : .none }
            return match(bytes, segments, best: best, bestDepth: bestDepth)
        }
    }

    /// The walk of `locate(_:)` for a path that meets a branch point: a segment that is the name of
    /// a literal edge and also a number, where both ways must be tried (depth first, literal edges
    /// before the number edge: the order decides which of two templates of the same depth wins).
    func locateBranching(_ bytes: UnsafeBufferPointer<UInt8>) -> ByteLocation {
        guard let base = bytes.baseAddress, bytes.count > 0, base[0] == UInt8(ascii: "/") else { return .none }
        let length = bytes.count
        // The walk never goes deeper than the deepest template, so it reads at most that many
        // segments plus one.
        return withUnsafeTemporaryAllocation(of: PathSegment.self, capacity: maximumDepth + 1) { segments -> ByteLocation in
            // Segments `0..<known` have been read into `segments`; the last ends at `scanned` (a `/`,
            // or the end of the path). `/` alone has no segment at all.
            var known = 0
            var scanned = length == 1 ? 1 : 0
            var best = -1
            var bestDepth = -1
            var ancestor = false
            // Depth-first over the trie, literal edges before the number edge (the order decides
            // which of two templates of the same depth wins). A branch point (a segment that matches
            // a literal edge and is also a number) is rare, so only those go on a small stack.
            var branches: [(node: Int, depth: Int)] = []
            var node = 0
            var depth = 0
            while true {
                let template = Int(terminal[node])
                if template >= 0 && bestDepth < depth {
                    best = template
                    bestDepth = depth
                }
                let number = Int(numberChild[node])
                let edge = Int(edgeStart[node])
                let last = Int(edgeStart[node &+ 1])
                var next = -1
                if edge < last || number >= 0 {
                    let segment: PathSegment
                    if depth < known {
                        segment = segments[depth]
                    } else if scanned < length {
                        segment = PathWord.segment(base, length, from: scanned &+ 1)
                        guard segment.end > segment.start else { return .none }  // empty: not a valid xenstore path
                        segments[known] = segment
                        known &+= 1
                        scanned = segment.end
                    } else {
                        // The path ends at a node with templates below it.
                        segment = PathSegment(start: length, end: length, word: 0)
                        ancestor = true
                    }
                    if segment.end > segment.start {
                        next = literalChild(edge, last, segment, base)
                        if number >= 0 && isNumber(segment, bytes) {
                            if next >= 0 { branches.append((number, depth &+ 1)) } else { next = number }
                        }
                    }
                }
                if next >= 0 {
                    node = next
                    depth &+= 1
                } else if let branch = branches.popLast() {
                    node = branch.node
                    depth = branch.depth
                } else {
                    break
                }
            }
            if PathWord.hasEmptySegment(base, length, from: scanned) { return .none }
            guard best >= 0 else { return ancestor ? .ancestor : .none }
            return match(bytes, segments, best: best, bestDepth: bestDepth)
        }
    }

    /// The child of the literal edge among `edge..<last` whose name is `segment`, or -1. The
    /// segment's first eight bytes are compared as one word; a longer name compares the rest.
    @inline(__always)
    private func literalChild(_ edge: Int, _ last: Int, _ segment: PathSegment, _ base: UnsafePointer<UInt8>) -> Int {
        let size = segment.end &- segment.start
        var edge = edge
        while edge < last {
            if edgeWord[edge] == segment.word && Int(edgeNameLength[edge]) == size
                && (size <= 8 || memcmp(names.baseAddress! + Int(edgeNameStart[edge]) + 8, base + segment.start + 8, size &- 8) == 0)
            {
                return Int(edgeChild[edge])
            }
            edge &+= 1
        }
        return -1
    }

    /// Whether `segment` is a canonical decimal number, which a number edge takes.
    @inline(__always)
    private func isNumber(_ segment: PathSegment, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let size = segment.end &- segment.start
        return size <= 8 ? PathWord.isCanonicalDecimal(segment.word, size) : Self.decimal(bytes, segment.start..<segment.end) != nil
    }

    /// The match of template `best`, whose `bestDepth` segments are `segments[..<bestDepth]`.
    @inline(__always)
    private func match(
        _ bytes: UnsafeBufferPointer<UInt8>, _ segments: UnsafeMutableBufferPointer<PathSegment>, best: Int, bestDepth: Int
    ) -> ByteLocation {
        let length = bytes.count
        var root = RootKey(template: best)
        var variable = Int(variableStart[best])
        let end = Int(variableStart[best &+ 1])
        while variable < end {
            let segment = segments[Int(variablePosition[variable])]
            let size = segment.end &- segment.start
            let alternatives = Int(variableAlternativeStart[variable])
            if alternatives < 0 {
                root.append(
                    Int64(size <= 8 ? PathWord.decimalValue(segment.word, size) : Self.decimal(bytes, segment.start..<segment.end) ?? 0))
            } else {
                // The walk matched one of the names; which one, by word as the edges compare.
                var taken = 0
                let count = Int(variableAlternativeCount[variable])
                while taken < count {
                    let name = alternatives &+ taken
                    if alternativeWord[name] == segment.word && Int(alternativeNameLength[name]) == size
                        && (size <= 8
                            || memcmp(
                                alternativeNames.baseAddress! + Int(alternativeNameStart[name]) + 8, bytes.baseAddress! + segment.start + 8,
                                size &- 8) == 0)
                    {
                        break
                    }
                    taken &+= 1
                }
                root.append(Int64(taken < count ? taken : 0))
            }
            variable &+= 1
        }
        let rootEnd = bestDepth == 0 ? 1 : segments[bestDepth &- 1].end
        let relativeStart = bestDepth == 0 || rootEnd == length ? min(rootEnd, length) : rootEnd &+ 1
        return .directory(ByteMatch(template: best, root: root, rootEnd: rootEnd, relativeStart: relativeStart))
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
