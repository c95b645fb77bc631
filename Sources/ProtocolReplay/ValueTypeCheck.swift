import ProtocolModel

/// Whether a value has a declared key's type (`ValueType`). The engine keeps one per key
/// (`CompiledKey.valueCheck`) and the reading thread one of its own (`PathResolver`), which checks
/// the values of writes before the replay needs them (`KeyFacts`): the two give the same answer,
/// and neither touches the other's regular-expression cache.
final class ValueTypeCheck {
    let type: ValueType
    /// The protocol's state values, for `.state`.
    private let states: [Int]
    /// The pattern for the fast matcher, when it is simple enough.
    private let simple: SimplePattern?
    /// The key's regular expression, compiled when a value is first checked against it (compiling
    /// one takes about as long as replaying a thousand messages, and most keys of most protocols
    /// are never written in a given trace).
    private lazy var regex: Regex<AnyRegexOutput>? = {
        guard case .string(let pattern?) = type else { return nil }
        return try? Regex(pattern)
    }()
    /// Values recently checked against `regex`, with the result (bounded).
    private var regexCache: [String: Bool] = [:]

    init(_ type: ValueType, states: [Int]) {
        self.type = type
        self.states = states
        if case .string(let pattern?) = type { simple = SimplePattern(pattern) } else { simple = nil }
    }

    /// Whether the key's pattern compiles, asked once: reading `regex` copies the `Regex` out of
    /// its lazy storage (about a thousand instructions) and this is asked for every string write.
    private(set) lazy var patternCompiles: Bool = regex != nil

    /// Whether `value` has the type: a decimal number in range, a string matching the pattern
    /// (whole match; never when the pattern does not compile), one of the literals, a state value.
    func fits(_ value: String) -> Bool {
        switch type {
        case .unsigned(let lower, let upper):
            guard let number = Evaluator.decimal(value) else { return false }
            return number >= lower && number < upper
        case .string(let pattern):
            return pattern == nil || matches(value)
        case .literals(let values):
            return values.contains(value)
        case .state:
            guard let number = Evaluator.decimal(value) else { return false }
            return states.contains { Int128($0) == number }
        }
    }

    /// Whether `value` matches the pattern (whole match).
    private func matches(_ value: String) -> Bool {
        guard patternCompiles else { return false }
        if let simple, let result = simple.matches(value) { return result }
        guard let regex else { return false }
        if let known = regexCache[value] { return known }
        let result = ((try? regex.wholeMatch(in: value)) ?? nil) != nil
        if regexCache.count >= 1024 { regexCache.removeAll(keepingCapacity: true) }
        regexCache[value] = result
        return result
    }
}
