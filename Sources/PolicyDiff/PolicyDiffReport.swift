import PolicyDiagnostics
import PolicyModel

/// The result of comparing two policies: what changed, what it does, and whether xend would accept
/// NEW as an update of OLD. Renderers turn it into text, JSON or Markdown.
public struct PolicyDiffReport: Sendable {
    /// One compared input.
    public struct Side: Equatable, Sendable {
        /// The input as the user named it (a path, or `REV:PATH`).
        public var displayName: String
        /// The format generation the input was written in, named by its newest target.
        public var generation: Target
        /// `PolicyName` (nil for Xen 3.0.2 policies).
        public var policyName: String?
        /// `Version` as written.
        public var version: String?
        /// Whether the input was a blob read with its label map (for protocols: a compiled rule table).
        public var isBlob: Bool
        /// For protocol descriptions (`.xpd`): the protocols the file defines, sorted; nil for policies
        /// (`generation` and `policyName` then mean nothing).
        public var protocols: [String]?

        public init(
            displayName: String, generation: Target, policyName: String?, version: String?, isBlob: Bool, protocols: [String]? = nil
        ) {
            self.displayName = displayName
            self.generation = generation
            self.policyName = policyName
            self.version = version
            self.isBlob = isBlob
            self.protocols = protocols
        }

        /// Whether the side is a protocol description.
        public var isProtocol: Bool { protocols != nil }
    }

    public var old: Side
    public var new: Side
    /// The target whose numbering the ssidref changes use and whose rules the effects follow.
    public var target: Target
    /// Structural changes, sorted by category, name (code point) and kind.
    public var changes: [PolicyChange]
    public var effects: PolicyEffects
    /// Update-validity findings (`W06xx`, `N06xx`): what xend or the hypervisor would refuse.
    public var diagnostics: [Diagnostic]
    /// For protocol descriptions: the changes that widen what a role may do (see `ProtocolWidening`).
    public var protocolWidenings: [ProtocolWidening]

    public init(
        old: Side, new: Side, target: Target, changes: [PolicyChange], effects: PolicyEffects, diagnostics: [Diagnostic],
        protocolWidenings: [ProtocolWidening] = []
    ) {
        self.old = old
        self.new = new
        self.target = target
        self.changes = changes
        self.effects = effects
        self.diagnostics = diagnostics
        self.protocolWidenings = protocolWidenings
    }

    /// Whether the report compares protocol descriptions rather than policies.
    public var isProtocol: Bool { old.isProtocol }

    /// Whether anything changed (structure or effects); update findings do not count.
    public var hasChanges: Bool { !changes.isEmpty || !effects.isEmpty || !protocolWidenings.isEmpty }

    /// Whether access widens (see `PolicyEffects.widensAccess`), or a protocol widens what a role may do.
    public var widensAccess: Bool { effects.widensAccess || !protocolWidenings.isEmpty }

    /// How many changes of each kind each category has, for summary tables.
    public func count(_ category: PolicyChange.Category, _ kind: PolicyChange.Kind) -> Int {
        changes.count { $0.category == category && $0.kind == kind }
    }
}
