import PolicyDiagnostics

/// One structural difference between two policies, matched by name (never by position).
///
/// The set of categories is closed on purpose: every renderer handles each one. The `protocol*`
/// categories come from diffing protocol descriptions (`.xpd`, see `ProtocolDiffer`).
public struct PolicyChange: Equatable, Sendable {
    /// What part of the policy changed, in the order reports list them.
    public enum Category: String, CaseIterable, Comparable, Sendable {
        /// `PolicyHeader`: `name`, `version` or `from_policy`.
        case header
        /// A declared Simple Type Enforcement type.
        case steType = "ste_type"
        /// A declared Chinese Wall type.
        case chineseWallType = "chinese_wall_type"
        /// A Chinese Wall conflict set.
        case conflictSet = "conflict_set"
        /// A VM (subject) label.
        case vmLabel = "vm_label"
        /// A resource (object) label.
        case resourceLabel = "resource_label"
        /// `SubjectLabels/@bootstrap`, the label Domain-0 runs with.
        case bootstrap
        /// The ssidref a label compiles to for the diff's target.
        case ssidref
        /// A whole protocol description (`.xpd`), matched by name.
        case `protocol`
        /// A role of a protocol: its principal.
        case protocolRole = "protocol_role"
        /// A directory template of a protocol: template, owner, readers.
        case protocolDirectory = "protocol_directory"
        /// A key of a protocol: type, writers, initialisers, phase, index bounds, condition, default, deprecated.
        case protocolKey = "protocol_key"
        /// A transition of a state machine, matched by (machine, from states, to, by).
        case protocolTransition = "protocol_transition"
        /// A `never` or `always` guarantee, by name.
        case protocolGuarantee = "protocol_guarantee"
        /// An `expect` rule, matched by its condition and trigger.
        case protocolExpectation = "protocol_expectation"
        /// An `option` (`unknown_keys`).
        case protocolOption = "protocol_option"
        /// The ACM VM labels allowed to act as a role.
        case protocolLabels = "protocol_labels"
        /// Whose turn it is in a global state (fe, be): the rows of the derived turn table.
        case protocolTurn = "protocol_turn"

        /// A short name for people.
        public var title: String {
            switch self {
            case .header: "header"
            case .steType: "STE type"
            case .chineseWallType: "Chinese Wall type"
            case .conflictSet: "conflict set"
            case .vmLabel: "VM label"
            case .resourceLabel: "resource label"
            case .bootstrap: "bootstrap label"
            case .ssidref: "ssidref"
            case .protocol: "protocol"
            case .protocolRole: "role"
            case .protocolDirectory: "directory"
            case .protocolKey: "key"
            case .protocolTransition: "transition"
            case .protocolGuarantee: "guarantee"
            case .protocolExpectation: "expectation"
            case .protocolOption: "option"
            case .protocolLabels: "role labels"
            case .protocolTurn: "turn"
            }
        }

        /// The plural heading for people.
        public var pluralTitle: String {
            switch self {
            case .header: "header"
            case .bootstrap: "bootstrap label"
            case .protocolLabels: "role labels"
            default: title + "s"
            }
        }

        /// Whether the category belongs to protocol descriptions.
        public var isProtocol: Bool { Self.allCases.firstIndex(of: self)! >= Self.allCases.firstIndex(of: .protocol)! }

        public static func < (lhs: Category, rhs: Category) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// How it changed.
    public enum Kind: String, CaseIterable, Comparable, Sendable {
        case added
        case removed
        /// Declared with `Name/@from` (labels), or the same types under another name (conflict sets).
        case renamed
        /// A label or conflict set with the same name has other types (compared as sets).
        case typesChanged = "types_changed"
        /// A value changed: a header field, the bootstrap label, an ssidref.
        case changed

        /// The kind in words (`types changed`).
        public var title: String { self == .typesChanged ? "types changed" : rawValue }

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// The value of a changed element on one side.
    public enum Value: Equatable, Sendable {
        /// A header field, or a label name (bootstrap).
        case text(String)
        /// The types of a label, each list sorted by code point; nil when the label has no such
        /// types element.
        case labelTypes(ste: [String]?, chineseWall: [String]?)
        /// The types of a conflict set, sorted by code point.
        case types([String])
        /// A domain's or resource's 32-bit ssidref; nil when the label gets none in the target.
        case ssidref(UInt32?)
    }

    public var category: Category
    public var kind: Kind
    /// The element's name: in NEW, or in OLD if it was removed. For the header: `name`, `version`
    /// or `from_policy`; for ssidrefs, the label's name in NEW.
    public var name: String
    /// The name in OLD when it differs (renames).
    public var oldName: String?
    /// For ssidref changes: whether the label is a VM label or a resource label.
    public var labelKind: String?
    public var oldValue: Value?
    public var newValue: Value?
    /// Where the element is written: in NEW, or in OLD for removals; nil when unknown (blobs, header).
    public var location: SourceLocation?
    /// A remark for the reviewer, such as a look-alike rename.
    public var hint: String?
    /// For protocol changes: the protocol's name (nil for policy changes).
    public var protocolName: String?
    /// For a changed protocol element: what changed (`writers`, `phase`, `guard`, `timeout`, ...).
    public var attribute: String?

    public init(
        _ category: Category, _ kind: Kind, name: String, oldName: String? = nil, labelKind: String? = nil,
        oldValue: Value? = nil, newValue: Value? = nil, location: SourceLocation? = nil, hint: String? = nil,
        protocolName: String? = nil, attribute: String? = nil
    ) {
        self.category = category
        self.kind = kind
        self.name = name
        self.oldName = oldName
        self.labelKind = labelKind
        self.oldValue = oldValue
        self.newValue = newValue
        self.location = location
        self.hint = hint
        self.protocolName = protocolName
        self.attribute = attribute
    }

    /// The order reports list changes in: by protocol (policy changes have none), category, then
    /// name (code point), then kind, then attribute.
    static func precedes(_ a: PolicyChange, _ b: PolicyChange) -> Bool {
        if a.protocolName != b.protocolName { return codePointPrecedes(a.protocolName ?? "", b.protocolName ?? "") }
        if a.category != b.category { return a.category < b.category }
        if a.name != b.name { return codePointPrecedes(a.name, b.name) }
        if a.labelKind != b.labelKind { return (a.labelKind ?? "") < (b.labelKind ?? "") }
        if a.kind != b.kind { return a.kind < b.kind }
        return codePointPrecedes(a.attribute ?? "", b.attribute ?? "")
    }
}

/// UTF-8 byte order, which equals code point order. Swift's `<` on `String` compares canonical
/// equivalents and would order some non-ASCII names differently from xend and from `sort -u` in C.
func codePointPrecedes(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
