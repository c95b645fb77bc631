/// What a policy change does to access, as gained and lost relations between labels.
///
/// Labels are named as in NEW: OLD's labels are mapped through NEW's `Name/@from` renames first,
/// so a renamed label is the same label on both sides. A label that exists on one side only takes
/// part in that side's relations (its pairs are gained or lost).
public struct PolicyEffects: Equatable, Sendable {
    /// Two label names. For `share` the pair is unordered and written with `first < second` in code
    /// point order; for `resource` it is (VM label, resource label); for `block` it is ordered.
    public struct Pair: Hashable, Sendable, CustomStringConvertible {
        public var first: String
        public var second: String

        public init(_ first: String, _ second: String) {
            self.first = first
            self.second = second
        }

        public var description: String { "[\(first), \(second)]" }
    }

    /// Distinct VM labels that now have a common STE type: their domains may newly share event
    /// channels and grant tables.
    public var shareGained: [Pair] = []
    /// Distinct VM labels that no longer have a common STE type.
    public var shareLost: [Pair] = []
    /// (VM label, resource label) pairs that now have a common STE type: xend lets the domain use
    /// the resource.
    public var resourceGained: [Pair] = []
    public var resourceLost: [Pair] = []
    /// Ordered (a, b): while a domain labelled a runs, one labelled b can newly not start (Chinese Wall).
    public var blockGained: [Pair] = []
    /// Ordered (a, b) that no longer block: b may now start while a runs.
    public var blockLost: [Pair] = []
    /// VM labels newly authorised to run (Xen 3.2+): all their STE types are the bootstrap
    /// label's, and at least one is.
    public var runGained: [String] = []
    public var runLost: [String] = []

    public init() {}

    /// Whether access widens: sharing, resource access or authorisation to run gained, or a
    /// Chinese Wall block lost.
    public var widensAccess: Bool {
        !shareGained.isEmpty || !resourceGained.isEmpty || !runGained.isEmpty || !blockLost.isEmpty
    }

    /// Whether nothing changed.
    public var isEmpty: Bool {
        shareGained.isEmpty && shareLost.isEmpty && resourceGained.isEmpty && resourceLost.isEmpty && blockGained.isEmpty
            && blockLost.isEmpty && runGained.isEmpty && runLost.isEmpty
    }

    /// The four relations with their lists, in report order, for renderers.
    public var relations: [Relation] {
        [
            Relation(name: "share", gained: shareGained, lost: shareLost),
            Relation(name: "resource", gained: resourceGained, lost: resourceLost),
            Relation(name: "block", gained: blockGained, lost: blockLost),
            Relation(
                name: "run", gained: runGained.map { Pair($0, "") }, lost: runLost.map { Pair($0, "") }, isLabelList: true),
        ]
    }

    /// One relation's gained and lost members (for `run`, only `first` of each pair is used).
    public struct Relation: Sendable {
        public var name: String
        public var gained: [Pair]
        public var lost: [Pair]
        /// Whether the members are single labels (`run`) rather than pairs.
        public var isLabelList = false

        /// Whether gaining members of this relation widens access (for `block`, losing them does).
        public var gainWidens: Bool { name != "block" }
    }
}
