/// A matcher for the simple regular expressions value types use (`^[0-9a-f]+:[0-9a-f]+$`,
/// `^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$`, `^/[A-Za-z0-9/_@-]+$`): literals, `.`, classes with
/// ranges and negation, `\d \w \s` and escaped punctuation, groups, alternation, and the
/// quantifiers `* + ? {n} {n,} {n,m}`, anchored at both ends. It works on ASCII bytes and is much
/// faster than `Regex` for the short values of xenstore: a deterministic automaton built as values
/// need its states (`PatternAutomaton`). `nil` from `init` (any other construct) or from `matches`
/// (a non-ASCII value, or a pattern whose automaton would be too large) means: use `Regex`.
struct SimplePattern {
    indirect enum Node {
        case byte(UInt8)
        case set(ByteSet)
        case sequence([Node])
        case alternatives([Node])
        case repeated(Node, minimum: Int, maximum: Int?)
    }

    /// The pattern's automaton; a class, so that the states it builds are kept across matches.
    private let automaton: PatternAutomaton

    /// A set of ASCII bytes, as bits.
    struct ByteSet {
        private var low: UInt64 = 0
        private var high: UInt64 = 0

        init(_ members: [Bool]) {
            for (byte, member) in members.enumerated() where member && byte < 128 {
                if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
            }
        }

        init(byte: UInt8) {
            if byte < 64 { low = 1 << UInt64(byte) } else if byte < 128 { high = 1 << UInt64(byte - 64) }
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
        automaton = PatternAutomaton(node)
    }

    /// Whether the whole value matches; `nil` when this matcher cannot tell.
    func matches(_ value: String) -> Bool? {
        var value = value
        return value.withUTF8 { bytes -> Bool? in
            // Printable ASCII only: Regex matches characters ("\r\n" is one, and so is a letter
            // with a combining mark after it), which are bytes only there.
            guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return nil }
            return automaton.matches(bytes)
        }
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
