/// What the reading thread tells the replay about the declared key a mutating message names, from
/// the message and the protocol's declarations alone (`PathResolver`): which of its directory's
/// pattern keys the relative path has the shape of, and, for a write, whether the value has the
/// type of the key it may turn out to be. Which key the path resolves to still depends on the
/// instance (index bounds and key conditions), so the replay picks among these, but it neither
/// matches patterns nor checks types again (`docs/benchmarks.md`, "Work moved to the reading thread, and fewer reference counts").
///
/// One word, since every message's resolved path carries it through the replay: bits 0-29 the
/// shapes, 30-59 the fits, 60-61 the key without index variables, 63 whether anything is known.
struct KeyFacts {
    private var bits: UInt64

    /// The most pattern keys of a directory the facts can speak of.
    static let maximumPatternKeys = 30
    /// Nothing known: the replay works it out.
    static let unknown = KeyFacts(bits: 0)
    private static let knownBit: UInt64 = 1 << 63
    private static let fixedKnownBit: UInt64 = 1 << 61
    private static let fixedFitsBit: UInt64 = 1 << 60
    private static let fieldMask: UInt64 = (1 << 30) - 1

    private init(bits: UInt64) { self.bits = bits }

    /// Known facts, none set yet.
    static var known: KeyFacts { KeyFacts(bits: knownBit) }

    /// Whether the reading thread worked the facts out.
    var isKnown: Bool { bits & Self.knownBit != 0 }

    /// Bit i: the path (not a key without index variables) has the shape of the i-th key of
    /// `CompiledProtocol.patternKeys` of its directory; `nil` when not known.
    var shapes: UInt64? { isKnown ? bits & Self.fieldMask : nil }

    /// For a write to a key without index variables (`DirectoryMatch.fixedKey`): whether the value
    /// has its type.
    var fixedFits: Bool? {
        get { bits & Self.fixedKnownBit != 0 ? bits & Self.fixedFitsBit != 0 : nil }
        set {
            bits &= ~(Self.fixedKnownBit | Self.fixedFitsBit)
            if let newValue { bits |= Self.fixedKnownBit | (newValue ? Self.fixedFitsBit : 0) }
        }
    }

    /// Records that the path has the shape of the pattern key at `position` (below
    /// `maximumPatternKeys`) and whether a written value has its type.
    mutating func addShape(_ position: Int, fits: Bool) {
        bits |= 1 << UInt64(position)
        if fits { bits |= 1 << UInt64(position + 30) }
    }

    /// Whether the value of a write has the type of the key `resolveKey` found: at `position` of
    /// the pattern keys, or (-1) the key without index variables. `nil`: not known here.
    func fits(position: Int) -> Bool? {
        guard isKnown else { return nil }
        if position < 0 { return fixedFits }
        guard position < Self.maximumPatternKeys, bits & (1 << UInt64(position)) != 0 else { return nil }
        return bits & (1 << UInt64(position + 30)) != 0
    }
}
