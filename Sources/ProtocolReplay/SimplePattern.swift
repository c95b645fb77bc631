/// A matcher for the simple regular expressions value types use (`^[0-9a-f]+:[0-9a-f]+$`,
/// `^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`, `^/[A-Za-z0-9/_@-]+$`): literals, `.`, classes with
/// ranges and negation, `\d \w \s` and escaped punctuation, groups, alternation, and the
/// quantifiers `* + ? {n} {n,} {n,m}`, anchored at both ends. It works on ASCII bytes and is much
/// faster than `Regex` for the short values of xenstore. `nil` from `init` (any other construct) or
/// from `matches` (a non-ASCII value, or a match that takes too many steps) means: use `Regex`.
struct SimplePattern {
    private indirect enum Node {
        case byte(UInt8)
        case set(ByteSet)
        case sequence([Node])
        case alternatives([Node])
        case repeated(Node, minimum: Int, maximum: Int?)
    }

    private let root: Node

    /// A set of ASCII bytes, as bits.
    private struct ByteSet {
        private var low: UInt64 = 0
        private var high: UInt64 = 0

        init(_ members: [Bool]) {
            for (byte, member) in members.enumerated() where member && byte < 128 {
                if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
            }
        }

        @inline(__always) func contains(_ byte: UInt8) -> Bool {
            byte < 64 ? low & (1 << UInt64(byte)) != 0 : byte < 128 && high & (1 << UInt64(byte - 64)) != 0
        }
    }

    init?(_ pattern: String) {
        var bytes = Array(pattern.utf8)
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        if bytes.first == UInt8(ascii: "^") { bytes.removeFirst() }
        if bytes.last == UInt8(ascii: "$"), bytes.count < 2 || bytes[bytes.count - 2] != UInt8(ascii: "\\") { bytes.removeLast() }
        var parser = Parser(bytes: bytes)
        guard let node = parser.alternatives(), parser.position == bytes.count else { return nil }
        root = node
    }

    /// Steps left for one match.
    private final class Budget {
        var left = 100_000
    }

    /// Whether the whole value matches; `nil` when this matcher cannot tell.
    func matches(_ value: String) -> Bool? {
        var value = value
        return value.withUTF8 { bytes -> Bool? in
            // Printable ASCII only (Regex matches characters: "\r\n" is one), and short values (the
            // matcher recurses once per repetition).
            guard bytes.count <= 512, bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            // Most values are short: follow the set of positions every way of matching can reach,
            // one bit each, without backtracking (`/local/domain/0/backend/vbd/5/768` against
            // `^/[A-Za-z0-9/_@-]+$` would otherwise recurse once per byte).
            if bytes.count < Positions.bitWidth {
                return Self.advance(root, 1, bytes) & (1 << Positions(bytes.count)) != 0
            }
            let budget = Budget()
            let matched = Self.match(root, bytes, 0, budget) { $0 == bytes.count }
            return budget.left > 0 ? matched : nil
        }
    }

    /// Positions of a value shorter than 64 bytes, as bits: bit `p` is set when a match can have
    /// consumed the first `p` bytes.
    private typealias Positions = UInt64

    /// The positions reachable by matching one member of `members` from any of `from`.
    private static func step(_ members: ByteSet, _ from: Positions, _ bytes: UnsafeBufferPointer<UInt8>) -> Positions {
        var reached: Positions = 0
        var left = from
        while left != 0 {
            let position = left.trailingZeroBitCount
            left &= left - 1
            if position < bytes.count && members.contains(bytes[position]) { reached |= 1 << Positions(position + 1) }
        }
        return reached
    }

    /// The positions reachable by matching `node` from any of `from`.
    private static func advance(_ node: Node, _ from: Positions, _ bytes: UnsafeBufferPointer<UInt8>) -> Positions {
        guard from != 0 else { return 0 }
        switch node {
        case .byte(let byte):
            var reached: Positions = 0
            var left = from
            while left != 0 {
                let position = left.trailingZeroBitCount
                left &= left - 1
                if position < bytes.count && bytes[position] == byte { reached |= 1 << Positions(position + 1) }
            }
            return reached
        case .set(let members):
            return step(members, from, bytes)
        case .sequence(let nodes):
            var current = from
            for node in nodes {
                current = advance(node, current, bytes)
                if current == 0 { return 0 }
            }
            return current
        case .alternatives(let options):
            var reached: Positions = 0
            for option in options { reached |= advance(option, from, bytes) }
            return reached
        case .repeated(.set(let members), let minimum, nil):
            // `[...]+`: from each position after the minimum, every position up to the end of the run
            // of members.
            var current = from
            for _ in 0..<minimum {
                current = step(members, current, bytes)
                if current == 0 { return 0 }
            }
            var reached = current
            var left = current
            while left != 0 {
                var position = left.trailingZeroBitCount
                left &= left - 1
                while position < bytes.count && members.contains(bytes[position]) {
                    position += 1
                    reached |= 1 << Positions(position)
                }
            }
            return reached
        case .repeated(let inner, let minimum, let maximum):
            var current = from
            for _ in 0..<minimum {
                current = advance(inner, current, bytes)
                if current == 0 { return 0 }
            }
            var reached = current
            var count = minimum
            while maximum.map({ count < $0 }) ?? true {
                let next = advance(inner, current, bytes)
                // Nothing new: further repetitions reach nothing new either.
                if next & ~reached == 0 && (maximum == nil || next == current) { break }
                reached |= next
                current = next
                count += 1
            }
            return reached
        }
    }

    /// Matches `node` at `start`, calling `next` with each possible end until it returns true.
    private static func match(_ node: Node, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ budget: Budget, _ next: (Int) -> Bool)
        -> Bool
    {
        budget.left -= 1
        guard budget.left > 0 else { return false }
        switch node {
        case .byte(let byte):
            return start < bytes.count && bytes[start] == byte && next(start + 1)
        case .set(let members):
            return start < bytes.count && members.contains(bytes[start]) && next(start + 1)
        case .sequence(let nodes):
            return sequence(nodes[...], bytes, start, budget, next)
        case .alternatives(let options):
            for option in options where match(option, bytes, start, budget, next) { return true }
            return false
        case .repeated(let inner, let minimum, let maximum):
            return repeated(inner, minimum, maximum, 0, bytes, start, budget, next)
        }
    }

    private static func sequence(
        _ nodes: ArraySlice<Node>, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ budget: Budget, _ next: (Int) -> Bool
    ) -> Bool {
        guard let first = nodes.first else { return next(start) }
        let rest = nodes.dropFirst()
        return match(first, bytes, start, budget) { end in sequence(rest, bytes, end, budget, next) }
    }

    /// Greedy: tries one more repetition before stopping (a repetition must consume input).
    private static func repeated(
        _ node: Node, _ minimum: Int, _ maximum: Int?, _ count: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ budget: Budget,
        _ next: (Int) -> Bool
    ) -> Bool {
        if maximum.map({ count < $0 }) ?? true {
            let more = match(node, bytes, start, budget) { end in
                end > start && repeated(node, minimum, maximum, count + 1, bytes, end, budget, next)
            }
            if more { return true }
        }
        return count >= minimum && budget.left > 0 && next(start)
    }

    private struct Parser {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func alternatives() -> Node? {
            var options: [Node] = []
            while true {
                guard let branch = sequence() else { return nil }
                options.append(branch)
                guard current == UInt8(ascii: "|") else { break }
                position += 1
            }
            return options.count == 1 ? options[0] : .alternatives(options)
        }

        mutating func sequence() -> Node? {
            var nodes: [Node] = []
            while let byte = current, byte != UInt8(ascii: "|"), byte != UInt8(ascii: ")") {
                guard let atom = atom(), let quantified = quantifier(atom) else { return nil }
                nodes.append(quantified)
            }
            return .sequence(nodes)
        }

        mutating func atom() -> Node? {
            guard let byte = current else { return nil }
            position += 1
            switch byte {
            case UInt8(ascii: "("):
                if current == UInt8(ascii: "?") {
                    // Only non-capturing groups.
                    guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: ":") else { return nil }
                    position += 2
                }
                guard let inner = alternatives(), current == UInt8(ascii: ")") else { return nil }
                position += 1
                return inner
            case UInt8(ascii: "["): return characterClass()
            case UInt8(ascii: "."):
                var members = [Bool](repeating: true, count: 128)
                members[10] = false
                return .set(ByteSet(members))
            case UInt8(ascii: "\\"): return escape(inClass: false).map { .set(ByteSet($0)) }
            case UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"), UInt8(ascii: "{"),
                UInt8(ascii: "]"), UInt8(ascii: "}"):
                return nil
            default: return .byte(byte)
            }
        }

        mutating func escape(inClass: Bool) -> [Bool]? {
            guard let byte = current else { return nil }
            position += 1
            var members = [Bool](repeating: false, count: 128)
            func add(_ range: ClosedRange<UInt8>) { for b in range { members[Int(b)] = true } }
            switch byte {
            case UInt8(ascii: "d"): add(UInt8(ascii: "0")...UInt8(ascii: "9"))
            case UInt8(ascii: "w"):
                add(UInt8(ascii: "0")...UInt8(ascii: "9"))
                add(UInt8(ascii: "a")...UInt8(ascii: "z"))
                add(UInt8(ascii: "A")...UInt8(ascii: "Z"))
                members[Int(UInt8(ascii: "_"))] = true
            case UInt8(ascii: "s"): for b: UInt8 in [9, 10, 11, 12, 13, 32] { members[Int(b)] = true }
            default:
                // Escaped punctuation stands for itself; escaped letters are other constructs.
                guard !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte), !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte),
                    !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                else { return nil }
                members[Int(byte)] = true
            }
            return members
        }

        mutating func characterClass() -> Node? {
            var members = [Bool](repeating: false, count: 128)
            var negated = false
            if current == UInt8(ascii: "^") {
                negated = true
                position += 1
            }
            guard current != UInt8(ascii: "]") else { return nil }  // `[]...]`: Regex rejects it
            while let byte = current, byte != UInt8(ascii: "]") {
                position += 1
                if byte == UInt8(ascii: "[") { return nil }  // POSIX classes and nesting: not here
                if byte == UInt8(ascii: "\\") {
                    guard let escaped = escape(inClass: true) else { return nil }
                    for (index, member) in escaped.enumerated() where member { members[index] = true }
                    continue
                }
                if current == UInt8(ascii: "-"), position + 1 < bytes.count, bytes[position + 1] != UInt8(ascii: "]") {
                    let upper = bytes[position + 1]
                    guard upper != UInt8(ascii: "\\"), upper != UInt8(ascii: "["), byte <= upper else { return nil }
                    for b in byte...upper { members[Int(b)] = true }
                    position += 2
                } else {
                    members[Int(byte)] = true
                }
            }
            guard current == UInt8(ascii: "]") else { return nil }
            position += 1
            if negated { members = members.map { !$0 } }
            return .set(ByteSet(members))
        }

        mutating func quantifier(_ atom: Node) -> Node? {
            switch current {
            case UInt8(ascii: "*")?:
                position += 1
                return lazySuffix(.repeated(atom, minimum: 0, maximum: nil))
            case UInt8(ascii: "+")?:
                position += 1
                return lazySuffix(.repeated(atom, minimum: 1, maximum: nil))
            case UInt8(ascii: "?")?:
                position += 1
                return lazySuffix(.repeated(atom, minimum: 0, maximum: 1))
            case UInt8(ascii: "{")?:
                position += 1
                guard let minimum = number() else { return nil }
                var maximum: Int? = minimum
                if current == UInt8(ascii: ",") {
                    position += 1
                    maximum = current == UInt8(ascii: "}") ? nil : number()
                    if maximum == nil && current != UInt8(ascii: "}") { return nil }
                }
                guard current == UInt8(ascii: "}"), maximum.map({ $0 >= minimum }) ?? true, minimum <= 1000 else { return nil }
                position += 1
                return lazySuffix(.repeated(atom, minimum: minimum, maximum: maximum))
            default:
                return atom
            }
        }

        /// Lazy and possessive quantifiers (`*?`, `++`) are left to `Regex`.
        mutating func lazySuffix(_ node: Node) -> Node? {
            if current == UInt8(ascii: "?") || current == UInt8(ascii: "+") { return nil }
            return node
        }

        mutating func number() -> Int? {
            var value = 0
            var digits = 0
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), digits < 5 {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                position += 1
            }
            return digits > 0 ? value : nil
        }
    }
}
