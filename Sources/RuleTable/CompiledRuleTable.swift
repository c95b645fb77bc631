import ProtocolModel

/// Everything the generic checker loads: the checked protocols, the path index over their directory
/// templates, and (when compiled against an ACM policy) which label pairs may bind.
public struct CompiledRuleTable: Equatable, Sendable {
    /// The protocols, in the order given to the compiler; rows refer to them by index.
    public var protocols: [ProtocolDefinition] {
        didSet { pathIndex = PathIndex(protocols: protocols) }
    }
    /// The ACM policy the table was compiled against, if any.
    public var policyName: String?
    /// Per protocol, the (frontend label, backend label) pairs that may bind. The compiler fills it
    /// when a policy is given (see `LabelAdmission.compute`); empty otherwise.
    public var admissions: [LabelAdmission]
    /// The directory templates of all protocols, compiled into a segment trie. Derived from `protocols`.
    public private(set) var pathIndex: PathIndex

    public init(protocols: [ProtocolDefinition], policyName: String? = nil, admissions: [LabelAdmission] = []) {
        self.protocols = protocols
        self.policyName = policyName
        self.admissions = admissions
        self.pathIndex = PathIndex(protocols: protocols)
    }

    /// Whether the table carries an ADMISSION section (and sets the header's admission flag).
    public var hasAdmissionSection: Bool { policyName != nil || !admissions.isEmpty }

    /// The directories a xenstore path lies in or below, at the deepest matching depth, with the
    /// instance parameters the path binds. See `PathIndex` for the matching rules.
    public func directories(containing path: String) -> [PathMatch] {
        pathIndex.match(path, protocols: protocols)
    }
}

/// Which ACM VM label pairs may serve as one protocol's frontend and backend.
public struct LabelAdmission: Equatable, Sendable {
    /// One permitted pair.
    public struct Pair: Equatable, Sendable {
        public var frontend: String
        public var backend: String

        public init(frontend: String, backend: String) {
            self.frontend = frontend
            self.backend = backend
        }
    }

    public var protocolIndex: Int
    /// The role whose domain's label is the first of each pair.
    public var frontendRole: Int
    /// The role whose domain's label is the second of each pair.
    public var backendRole: Int
    /// Exactly the pairs that may bind; any other pair is refused.
    public var pairs: [Pair]
    /// Where the row comes from: the `labels` line of the frontend role, then that of the backend
    /// role, for each that has one (a binding's location is that of its first label, as in
    /// `RoleLabels.origins`). Empty when neither role has a `labels` line: the pairs then come from
    /// the policy alone.
    public var origins: [Origin]

    public init(protocolIndex: Int, frontendRole: Int, backendRole: Int, pairs: [Pair], origins: [Origin] = []) {
        self.protocolIndex = protocolIndex
        self.frontendRole = frontendRole
        self.backendRole = backendRole
        self.pairs = pairs
        self.origins = origins
    }

    /// The admission rows the compiler writes when a policy is given: for each protocol with two
    /// machines, the frontend and backend roles are the owners of the first and second machine's
    /// directories (the convention of the turn table); each role's candidate labels are its `labels`
    /// list, or every VM label of the policy when it has none; a pair is permitted when the two labels
    /// share an STE type (otherwise the hypervisor refuses the grant mapping and event channel).
    /// The row's origins are the `labels` lines the candidates came from.
    /// Deterministic: pairs in the order of the label lists.
    public static func compute(
        for protocols: [ProtocolDefinition], vmLabels: [String], sharesType: (String, String) -> Bool
    ) -> [LabelAdmission] {
        var admissions: [LabelAdmission] = []
        for (index, definition) in protocols.enumerated() where definition.machines.count >= 2 {
            let directories = definition.directories
            guard definition.machines[0].directory < directories.count, definition.machines[1].directory < directories.count else {
                continue
            }
            let frontend = directories[definition.machines[0].directory].owner
            let backend = directories[definition.machines[1].directory].owner
            func binding(_ role: Int) -> RoleLabels? { definition.labels.last { $0.role == role } }
            var pairs: [Pair] = []
            for frontendLabel in binding(frontend)?.labels ?? vmLabels {
                for backendLabel in binding(backend)?.labels ?? vmLabels where sharesType(frontendLabel, backendLabel) {
                    pairs.append(Pair(frontend: frontendLabel, backend: backendLabel))
                }
            }
            var origins: [Origin] = []
            for role in frontend == backend ? [frontend] : [frontend, backend] {
                if let origin = binding(role)?.origins.first { origins.append(origin) }
            }
            admissions.append(
                LabelAdmission(protocolIndex: index, frontendRole: frontend, backendRole: backend, pairs: pairs, origins: origins))
        }
        return admissions
    }
}
