/// Seeded, deterministic mutations of an input's bytes, for the fuzz tests: bit flips, byte changes,
/// deleted, duplicated and swapped ranges and lines, inserted tokens, truncation.
/// Shared by the fuzz tests of the protocol front end (`ProtocolCheckerTests`) and of the trace
/// reader (`XenstoreTraceTests`), each with its own tokens.
public struct ByteMutator {
    private var random: SplitMix64
    /// What `insertToken` inserts: the language's words and punctuation, and hostile values.
    public let tokens: [[UInt8]]

    public init(seed: UInt64, tokens: [[UInt8]]) {
        random = SplitMix64(seed: seed)
        self.tokens = tokens
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 { random.next() }

    /// A number in `0..<n` (0 when `n` is 0).
    public mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }

    /// What one mutation did, for the message of a failing expectation (enough to reproduce it by hand).
    public enum Kind: String, CaseIterable, Sendable {
        case flipBit, setByte, deleteRange, duplicateRange, insertToken, repeatToken, swapLines, truncate
    }

    /// Applies one random mutation to `bytes` and says which.
    public mutating func mutate(_ bytes: inout [UInt8]) -> Kind {
        let kind = Kind.allCases[below(Kind.allCases.count)]
        let position = below(bytes.count + 1)
        switch kind {
        case .flipBit:
            guard !bytes.isEmpty else { break }
            bytes[min(position, bytes.count - 1)] ^= 1 << UInt8(below(8))
        case .setByte:
            guard !bytes.isEmpty else { break }
            bytes[min(position, bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
        case .deleteRange:
            let end = min(bytes.count, position + 1 + below(64))
            bytes.removeSubrange(position..<end)
        case .duplicateRange:
            let end = min(bytes.count, position + 1 + below(256))
            let copy = bytes[position..<end]
            bytes.insert(contentsOf: copy, at: below(bytes.count + 1))
        case .insertToken:
            bytes.insert(contentsOf: tokens[below(tokens.count)], at: position)
        case .repeatToken:
            // Deep nesting and long runs: a token repeated up to a few hundred times.
            let token = tokens[below(tokens.count)]
            let times = 2 + below(max(2, 2048 / max(1, token.count)))
            bytes.insert(contentsOf: Array([[UInt8]](repeating: token, count: times).joined()), at: position)
        case .swapLines:
            bytes = Self.swappingLines(bytes, below(1 << 16), below(1 << 16))
        case .truncate:
            bytes.removeSubrange((bytes.count * below(16) / 16)...)
        }
        return kind
    }

    /// Applies 1 to `maximum` random mutations; returns their names.
    public mutating func mutate(_ bytes: inout [UInt8], upTo maximum: Int) -> [Kind] {
        (0..<(1 + below(maximum))).map { _ in mutate(&bytes) }
    }

    /// `bytes` with lines `a` and `b` (modulo the number of lines) exchanged.
    public static func swappingLines(_ bytes: [UInt8], _ a: Int, _ b: Int) -> [UInt8] {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        guard lines.count > 1 else { return bytes }
        lines.swapAt(a % lines.count, b % lines.count)
        return Array(lines.joined(separator: [0x0A]))
    }

    /// `bytes` cut to `sixteenths`/16 of its length.
    public static func truncated(_ bytes: [UInt8], sixteenths: Int) -> [UInt8] {
        Array(bytes[..<(bytes.count * sixteenths / 16)])
    }
}
