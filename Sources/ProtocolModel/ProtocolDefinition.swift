/// A checked, resolved protocol description: what the rule table carries and the generic checker
/// interprets. Names are resolved to indices; expressions are compiled to `Program`s.
public struct ProtocolDefinition: Equatable, Sendable {
    public var name: String
    public var origin: Origin
    /// Instance parameters, e.g. `fe`, `be`, `devid`.
    public var parameters: [String]
    public var roles: [Role]
    /// The states of the state machines (`XenbusState`): names and values.
    public var states: [State]
    public var directories: [Directory]
    public var keys: [Key]
    /// The machines of the directories' `state` keys: the protocol's global state is theirs.
    public var machines: [Machine]
    /// Machines of other state-typed keys, such as pci's per-device `be/state-{n}`: one machine per
    /// key family, run separately for each entry; not part of the global state.
    public var keyMachines: [Machine]
    public var guarantees: [Guarantee]
    public var expectations: [Expectation]
    public var unknownKeys: UnknownKeyPolicy
    /// ACM VM labels allowed per role (empty: no restriction).
    public var labels: [RoleLabels]
    /// Whose turn it is in each reachable global state, computed by the static analysis.
    public var turns: [Turn]

    public init(
        name: String, origin: Origin, parameters: [String], roles: [Role], states: [State], directories: [Directory],
        keys: [Key], machines: [Machine], keyMachines: [Machine] = [], guarantees: [Guarantee], expectations: [Expectation],
        unknownKeys: UnknownKeyPolicy, labels: [RoleLabels], turns: [Turn]
    ) {
        self.name = name
        self.origin = origin
        self.parameters = parameters
        self.roles = roles
        self.states = states
        self.directories = directories
        self.keys = keys
        self.machines = machines
        self.keyMachines = keyMachines
        self.guarantees = guarantees
        self.expectations = expectations
        self.unknownKeys = unknownKeys
        self.labels = labels
        self.turns = turns
    }

    /// The name of a state value, or the number.
    public func stateName(_ value: Int) -> String {
        states.first { $0.value == value }?.name ?? String(value)
    }

    /// The roles of a mask, by name.
    public func roleNames(_ mask: RoleMask) -> [String] {
        roles.indices.filter { mask.contains($0) }.map { roles[$0].name }
    }
}

/// Where a construct was written: `file:line:column`, kept for violation reports.
public struct Origin: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A set of roles as bits (at most 32 roles per protocol).
public struct RoleMask: Hashable, Sendable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ roles: some Sequence<Int>) {
        rawValue = roles.reduce(0) { $0 | (1 << UInt32($1)) }
    }

    public func contains(_ role: Int) -> Bool { rawValue & (1 << UInt32(role)) != 0 }
    public var isEmpty: Bool { rawValue == 0 }
    public func intersects(_ other: RoleMask) -> Bool { rawValue & other.rawValue != 0 }
    public static let empty = RoleMask(rawValue: 0)
}

/// A set of state values 0-31 as bits.
public struct StateMask: Hashable, Sendable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public init(_ states: some Sequence<Int>) {
        rawValue = states.reduce(0) { $0 | (1 << UInt32($1)) }
    }

    public func contains(_ state: Int) -> Bool { state >= 0 && state < 32 && rawValue & (1 << UInt32(state)) != 0 }
    public static let all = StateMask(rawValue: UInt32.max)
}

/// A principal: which connection plays it.
public struct Role: Equatable, Sendable {
    public enum Principal: Equatable, Sendable {
        /// The domain whose id is instance parameter `index`.
        case parameter(Int)
        /// The privileged toolstack: dom0 and socket connections.
        case privileged
    }

    public var name: String
    public var principal: Principal
    /// For an alias such as `hotplug = backend`: the role it stands for.
    public var aliasOf: Int?

    public init(name: String, principal: Principal, aliasOf: Int? = nil) {
        self.name = name
        self.principal = principal
        self.aliasOf = aliasOf
    }
}

/// A state of the state machines.
public struct State: Equatable, Sendable {
    public var name: String
    public var value: Int

    public init(name: String, value: Int) {
        self.name = name
        self.value = value
    }
}

/// A directory template such as `/local/domain/{fe}/device/vbd/{devid}`.
public struct Directory: Equatable, Sendable {
    public enum Segment: Equatable, Sendable {
        case literal(String)
        /// An instance parameter: a decimal number in the path.
        case parameter(Int)
        /// One of several literal names (`{vbd|qdisk|tap}`).
        case alternatives([String])
    }

    public var name: String
    public var segments: [Segment]
    public var owner: Int
    public var readers: [Int]
    public var origin: Origin

    /// Parameters and alternatives one template may have: as many as a xenbus device path has
    /// (`/local/domain/{be}/backend/{vbd|qdisk|tap}/{fe}/{devid}`: the backend, the device type, the
    /// frontend, the device). The replay identifies a concrete directory by their values, kept inline
    /// so that the key of every lookup is plain data; two more cost it 1% of its time.
    public static let maximumVariableSegments = 4

    /// How many of the segments are parameters or alternatives.
    public var variableSegmentCount: Int { Self.variableSegmentCount(segments) }

    /// How many of `segments` are parameters or alternatives.
    public static func variableSegmentCount(_ segments: [Segment]) -> Int {
        segments.reduce(0) { count, segment in
            if case .literal = segment { return count }
            return count + 1
        }
    }

    public init(name: String, segments: [Segment], owner: Int, readers: [Int], origin: Origin) {
        self.name = name
        self.segments = segments
        self.owner = owner
        self.readers = readers
        self.origin = origin
    }
}

/// A path below a directory, with index variables (`queue-{q}/ring-ref{i}`).
public struct KeyPattern: Hashable, Sendable, CustomStringConvertible {
    public enum Part: Hashable, Sendable {
        case literal(String)
        /// A decimal index bound to local slot `slot`.
        case index(slot: Int, name: String)
    }

    public var directory: Int
    /// One array of parts per path segment; empty for the directory node itself.
    public var segments: [[Part]]

    public init(directory: Int, segments: [[Part]]) {
        self.directory = directory
        self.segments = segments
    }

    public var description: String {
        segments.map { parts in
            parts.map {
                switch $0 {
                case .literal(let text): text
                case .index(_, let name): "{\(name)}"
                }
            }.joined()
        }.joined(separator: "/")
    }
}

/// A declared key.
public struct Key: Equatable, Sendable {
    public var pattern: KeyPattern
    /// Whether this is the directory's `state` key (driven by a machine).
    public var isState: Bool
    public var type: ValueType
    /// Roles that create it at instance creation.
    public var initializers: RoleMask
    public var initialValue: String?
    /// Roles that may change it later.
    public var writers: RoleMask
    /// States of the writer's own side in which it may change (nil: any).
    public var phase: StateMask?
    /// Index variables and their half-open bounds, in slot order.
    public var indices: [IndexVariable]
    /// The key family exists only while this holds.
    public var condition: Program?
    public var defaultValue: String?
    public var deprecated: Bool
    /// `link DIR`: the value is the path of that directory of the same instance (`be/frontend`
    /// names the frontend directory); the toolstack's links between the directories make an instance.
    public var link: Int?
    public var origin: Origin

    public init(
        pattern: KeyPattern, isState: Bool, type: ValueType, initializers: RoleMask, initialValue: String?, writers: RoleMask,
        phase: StateMask?, indices: [IndexVariable], condition: Program?, defaultValue: String?, deprecated: Bool, link: Int? = nil,
        origin: Origin
    ) {
        self.pattern = pattern
        self.isState = isState
        self.type = type
        self.initializers = initializers
        self.initialValue = initialValue
        self.writers = writers
        self.phase = phase
        self.indices = indices
        self.condition = condition
        self.defaultValue = defaultValue
        self.deprecated = deprecated
        self.link = link
        self.origin = origin
    }
}

/// `for i in [lower .. upper)` on a key.
public struct IndexVariable: Equatable, Sendable {
    public var name: String
    public var slot: Int
    public var lower: Program
    public var upper: Program

    public init(name: String, slot: Int, lower: Program, upper: Program) {
        self.name = name
        self.slot = slot
        self.lower = lower
        self.upper = upper
    }
}

/// What values a key may hold.
public enum ValueType: Equatable, Sendable {
    /// A decimal number in `[lower, upper)`.
    case unsigned(lower: Int128, upper: Int128)
    /// Any string, or one matching the anchored regular expression.
    case string(pattern: String?)
    /// One of these strings.
    case literals([String])
    /// A state: a decimal value that is one of the protocol's states.
    case state
}

/// The state machine of one directory's `state` key, or of another state-typed key family (a key
/// machine: its guards may use the key's index variables, and its transitions have no obligations).
public struct Machine: Equatable, Sendable {
    public var directory: Int
    public var key: Int
    public var transitions: [Transition]
    /// The first `machine` declaration of this key (a protocol that extends another adds
    /// transitions to the base's machine); reports of a transition no rule allows point here.
    public var origin: Origin

    public init(directory: Int, key: Int, transitions: [Transition], origin: Origin) {
        self.directory = directory
        self.key = key
        self.transitions = transitions
        self.origin = origin
    }
}

/// `from -> to by roles when guard requires obligation`.
public struct Transition: Equatable, Sendable {
    public var from: StateMask
    public var to: Int
    public var by: RoleMask
    public var guardProgram: Program?
    public var obligation: Program?
    public var note: String?
    public var origin: Origin

    public init(
        from: StateMask, to: Int, by: RoleMask, guardProgram: Program?, obligation: Program?, note: String?, origin: Origin
    ) {
        self.from = from
        self.to = to
        self.by = by
        self.guardProgram = guardProgram
        self.obligation = obligation
        self.note = note
        self.origin = origin
    }
}

/// Xenstore operations, as bits.
public struct OperationMask: Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = OperationMask(rawValue: 1)
    public static let write = OperationMask(rawValue: 2)
    public static let mkdir = OperationMask(rawValue: 4)
    public static let rm = OperationMask(rawValue: 8)
    public static let setPermissions = OperationMask(rawValue: 16)
    public static let watch = OperationMask(rawValue: 32)
    public func contains(_ other: OperationMask) -> Bool { rawValue & other.rawValue != 0 }
}

/// A path pattern of a `never` guarantee.
public struct PathGlob: Equatable, Sendable {
    public enum Segment: Equatable, Sendable {
        case literal(String)
        /// `*` (or an index variable): exactly one segment.
        case any
        /// `**`: any number of segments, including none.
        case anyDepth
    }

    public var directory: Int
    /// Empty: the directory node itself.
    public var segments: [Segment]

    public init(directory: Int, segments: [Segment]) {
        self.directory = directory
        self.segments = segments
    }
}

/// Who is blamed.
public enum Blame: Equatable, Sendable {
    case role(Int)
    case writer
    case turn
}

/// A `never` or `always` guarantee.
public struct Guarantee: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case never(roles: RoleMask, operations: OperationMask, paths: [PathGlob], unless: Program?)
        case always(Program)
    }

    public var name: String
    public var kind: Kind
    public var blame: Blame
    public var origin: Origin

    public init(name: String, kind: Kind, blame: Blame, origin: Origin) {
        self.name = name
        self.kind = kind
        self.blame = blame
        self.origin = origin
    }
}

/// `expect condition within T after trigger blame b`.
public struct Expectation: Equatable, Sendable {
    public var condition: Program
    public var trigger: Program
    public var milliseconds: Int
    public var blame: Blame
    public var origin: Origin
    /// The source text, for reports.
    public var summary: String

    public init(condition: Program, trigger: Program, milliseconds: Int, blame: Blame, origin: Origin, summary: String) {
        self.condition = condition
        self.trigger = trigger
        self.milliseconds = milliseconds
        self.blame = blame
        self.origin = origin
        self.summary = summary
    }
}

/// `option unknown_keys = ...`: what happens to writes of undeclared keys.
public enum UnknownKeyPolicy: String, Equatable, Sendable, CaseIterable {
    case audit, deny, allow
}

/// `labels role = "A" | "B";`
public struct RoleLabels: Equatable, Sendable {
    public var role: Int
    public var labels: [String]
    /// Where each label was written, parallel to ``labels``.
    public var origins: [Origin]

    public init(role: Int, labels: [String], origins: [Origin]) {
        precondition(labels.count == origins.count, "one origin per label")
        self.role = role
        self.labels = labels
        self.origins = origins
    }
}

/// One row of the turn table: in global state (frontend state, backend state), while `condition`
/// holds, these roles can progress. A global state may have several rows, in order: the first whose
/// condition holds decides, and a row without a condition is the state's fallback.
public struct Turn: Equatable, Sendable {
    /// What a row asks of the keys: a boolean program, evaluated on the instance's store like a
    /// transition guard, and its source text for dumps and drawings.
    public struct Condition: Equatable, Sendable {
        public var program: Program
        /// The condition as an expression of the description (`present(be/physical-device)`).
        public var text: String

        public init(program: Program, text: String) {
            self.program = program
            self.text = text
        }
    }

    public var frontendState: Int
    public var backendState: Int
    /// Nil: the row holds whatever the keys are.
    public var condition: Condition?
    public var roles: RoleMask

    public init(frontendState: Int, backendState: Int, condition: Condition? = nil, roles: RoleMask) {
        self.frontendState = frontendState
        self.backendState = backendState
        self.condition = condition
        self.roles = roles
    }
}
