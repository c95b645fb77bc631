import PolicyDiagnostics

/// The declared types of one policy component, in document order.
public struct TypeSet: Equatable, Sendable {
    public var types: [String]
    /// Where each type is declared (parallel to `types`; empty for decoded blobs).
    public var locations: [SourceLocation]
    /// Whether the component carries `priority="PrimaryPolicyComponent"` (informational: no tool honoured it).
    public var markedPrimary: Bool

    public init(types: [String], locations: [SourceLocation] = [], markedPrimary: Bool = false) {
        self.types = types
        self.locations = locations
        self.markedPrimary = markedPrimary
    }
}

/// The Chinese Wall component: its types and the conflict sets among them.
public struct ChineseWall: Equatable, Sendable {
    public var types: TypeSet
    public var conflictSets: [ConflictSet]
    /// Whether a `ConflictSets` element was written (G2+ allow leaving it out).
    public var hasConflictSetsElement: Bool

    public init(types: TypeSet, conflictSets: [ConflictSet], hasConflictSetsElement: Bool = true) {
        self.types = types
        self.conflictSets = conflictSets
        self.hasConflictSetsElement = hasConflictSetsElement || !conflictSets.isEmpty
    }
}

/// A set of Chinese Wall types of which no two may run at the same time.
public struct ConflictSet: Equatable, Sendable {
    /// `Conflict/@name` (optional before Xen 3.2).
    public var name: String?
    public var types: [String]
    public var location: SourceLocation?

    public init(name: String?, types: [String], location: SourceLocation? = nil) {
        self.name = name
        self.types = types
        self.location = location
    }
}

/// A VM (subject) or resource (object) label.
public struct Label: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case virtualMachine = "VM"
        case resource = "RES"
    }

    public var kind: Kind
    public var name: String
    /// `Name/@from` (G3b+): the label of the running policy this one renames.
    public var renamedFrom: String?
    /// STE types, or nil when the label has no `SimpleTypeEnforcementTypes` element.
    public var steTypes: [String]?
    /// Chinese Wall types, or nil when the label has no `ChineseWallTypes` element.
    public var chineseWallTypes: [String]?
    public var location: SourceLocation?

    public init(
        kind: Kind, name: String, renamedFrom: String? = nil, steTypes: [String]?, chineseWallTypes: [String]?,
        location: SourceLocation? = nil
    ) {
        self.kind = kind
        self.name = name
        self.renamedFrom = renamedFrom
        self.steTypes = steTypes
        self.chineseWallTypes = chineseWallTypes
        self.location = location
    }
}
