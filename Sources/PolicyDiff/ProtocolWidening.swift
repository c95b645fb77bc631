/// A protocol change a reviewer should look at because it lets a role do more, or checks less.
public struct ProtocolWidening: Equatable, Sendable {
    /// How a protocol widens.
    public enum Kind: String, CaseIterable, Comparable, Sendable {
        /// A role may now write a key it could not: a writer gained, or a new key with writers.
        case writerGained = "writer_gained"
        /// A role now creates a key at instance creation: an initialiser gained, or a new key with one.
        case initializerGained = "initializer_gained"
        /// A key's phase admits states it did not (or no longer has a phase).
        case phaseWidened = "phase_widened"
        /// A state machine has a new transition.
        case transitionAdded = "transition_added"
        /// A transition lost its guard.
        case guardRemoved = "guard_removed"
        case guaranteeRemoved = "guarantee_removed"
        /// A `never` guarantee covers fewer roles, operations or paths, or gained or changed its
        /// `unless`; or a guarantee changed between `never` and `always`.
        case guaranteeWeakened = "guarantee_weakened"
        case expectationRemoved = "expectation_removed"
        /// An expectation allows more time.
        case timeoutIncreased = "timeout_increased"
        /// `option unknown_keys` moved towards `allow` (deny → audit → allow).
        case unknownKeysRelaxed = "unknown_keys_relaxed"
        /// A role admits VM labels it did not, or lost its `labels` restriction.
        case labelsWidened = "labels_widened"

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    public var protocolName: String
    public var kind: Kind
    /// The element: a key (`be/mode`), a transition, a guarantee's name, an expectation's text.
    public var subject: String
    /// What widened, in words (`writers gained frontend`).
    public var detail: String

    public init(protocolName: String, kind: Kind, subject: String, detail: String) {
        self.protocolName = protocolName
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }

    /// Report order: protocol, kind, subject (code point).
    static func precedes(_ a: ProtocolWidening, _ b: ProtocolWidening) -> Bool {
        if a.protocolName != b.protocolName { return codePointPrecedes(a.protocolName, b.protocolName) }
        if a.kind != b.kind { return a.kind < b.kind }
        if a.subject != b.subject { return codePointPrecedes(a.subject, b.subject) }
        return codePointPrecedes(a.detail, b.detail)
    }
}
