import PolicyDiagnostics

/// A name as written, with where it was written.
public struct Identifier: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var location: SourceLocation

    public init(_ name: String, at location: SourceLocation) {
        self.name = name
        self.location = location
    }

    public var description: String { name }
}

/// One `.xpd` file: imports, then libraries and protocols.
public struct SourceFile: Sendable {
    public var path: String
    public var imports: [Identifier]
    public var units: [Unit]

    public init(path: String, imports: [Identifier], units: [Unit]) {
        self.path = path
        self.imports = imports
        self.units = units
    }
}

/// A `library` (shared definitions) or a `protocol` (one split-driver protocol).
public struct Unit: Sendable {
    public enum Kind: String, Sendable {
        case library, `protocol`
    }

    public var kind: Kind
    public var name: Identifier
    public var extends: Identifier?
    public var items: [Item]
    public var location: SourceLocation

    public init(kind: Kind, name: Identifier, extends: Identifier?, items: [Item], location: SourceLocation) {
        self.kind = kind
        self.name = name
        self.extends = extends
        self.items = items
        self.location = location
    }
}

/// A declaration inside a library or protocol.
public enum Item: Sendable {
    case parameters([Parameter], SourceLocation)
    case role(RoleDeclaration)
    case typeAlias(Identifier, TypeExpression)
    case enumeration(EnumDeclaration)
    case directory(DirectoryDeclaration)
    case key(KeyDeclaration)
    case predicate(PredicateDeclaration)
    case machine(MachineDeclaration)
    case guarantee(GuaranteeDeclaration)
    case expectation(Expectation)
    case option(Identifier, Value)
    case labels(LabelBinding)

    public var location: SourceLocation {
        switch self {
        case .parameters(_, let location): location
        case .role(let role): role.name.location
        case .typeAlias(let name, _): name.location
        case .enumeration(let declaration): declaration.name.location
        case .directory(let declaration): declaration.name.location
        case .key(let declaration): declaration.key.location
        case .predicate(let declaration): declaration.name.location
        case .machine(let declaration): declaration.location
        case .guarantee(let declaration): declaration.name.location
        case .expectation(let expectation): expectation.location
        case .option(let name, _): name.location
        case .labels(let binding): binding.location
        }
    }
}

/// `name: type` in `params (...)`.
public struct Parameter: Sendable {
    public var name: Identifier
    public var type: TypeExpression
}

/// `role frontend = domain(fe);`
public struct RoleDeclaration: Sendable {
    public enum Principal: Sendable {
        /// The domain whose id is the parameter.
        case domain(Identifier)
        /// The privileged toolstack (dom0 and its socket clients).
        case privileged
        /// The same principal as another role.
        case alias(Identifier)
    }

    public var name: Identifier
    public var principal: Principal
}

/// A type: unsigned integers in a range, strings matching a regular expression, literal alternatives,
/// an enumeration, or a named type.
public indirect enum TypeExpression: Sendable {
    case unsigned(RangeExpression?, SourceLocation)
    case string(pattern: String?, SourceLocation)
    case literals([String], SourceLocation)
    case enumeration(Identifier)
    case named(Identifier)

    public var location: SourceLocation {
        switch self {
        case .unsigned(_, let location), .string(_, let location), .literals(_, let location): location
        case .enumeration(let name), .named(let name): name.location
        }
    }
}

/// `enum XenbusState { Unknown = 0, ... }`
public struct EnumDeclaration: Sendable {
    public var name: Identifier
    public var cases: [(Identifier, Int128)]
}

/// `dir fe = "/local/domain/{fe}/device/vbd/{devid}" owner frontend readers backend;`
public struct DirectoryDeclaration: Sendable {
    public var name: Identifier
    public var template: String
    public var templateLocation: SourceLocation
    public var owner: Identifier
    public var readers: [Identifier]
}

/// A key reference: `fe.state`, or `fe/ring-ref{i}` (segments as written, variables in braces).
public struct KeyReference: Hashable, Sendable, CustomStringConvertible {
    public var directory: Identifier
    /// nil for `.state`.
    public var segments: [String]?
    public var location: SourceLocation

    public init(directory: Identifier, segments: [String]?, location: SourceLocation) {
        self.directory = directory
        self.segments = segments
        self.location = location
    }

    /// The path below the directory: `state` for `.state`.
    public var relativePath: String { segments?.joined(separator: "/") ?? "state" }

    public var description: String {
        segments.map { "\(directory.name)/\($0.joined(separator: "/"))" } ?? "\(directory.name).state"
    }

    public static func == (lhs: KeyReference, rhs: KeyReference) -> Bool {
        lhs.directory.name == rhs.directory.name && lhs.relativePath == rhs.relativePath
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(directory.name)
        hasher.combine(relativePath)
    }
}

/// `key fe/ring-ref{i} : gref writer frontend phase {Initialising} for i in [0 .. n);`
public struct KeyDeclaration: Sendable {
    public enum Attribute: Sendable {
        case initializedBy(Identifier, Value?)
        case writers([Identifier])
        case phase(StateSet)
        case index(Identifier, RangeExpression)
        case condition(Expression)
        case defaultValue(Value)
        case deprecated(SourceLocation)
        /// `link be`: the key's value is the path of that directory of the same instance.
        case link(Identifier)
    }

    public var key: KeyReference
    public var type: TypeExpression
    public var attributes: [Attribute]
}

/// `*`, one state, or `{A, B}`.
public enum StateSet: Sendable {
    case any(SourceLocation)
    case states([Identifier])
}

/// `pred ring(d) = expr;`
public struct PredicateDeclaration: Sendable {
    public var name: Identifier
    public var parameters: [Identifier]
    public var body: Expression
}

/// `machine fe.state { transitions }`
public struct MachineDeclaration: Sendable {
    public var key: KeyReference
    public var transitions: [Transition]
    public var location: SourceLocation
}

/// `from -> to by roles [when guard] [requires obligation] [note "..."];`
public struct Transition: Sendable {
    public var from: StateSet
    public var to: Identifier
    public var by: [Identifier]
    public var guardExpression: Expression?
    public var obligation: Expression?
    public var note: String?
    public var location: SourceLocation
}

/// Xenstore operations a `never` guarantee can forbid.
public enum Operation: String, CaseIterable, Sendable {
    case read, write, mkdir, rm, setperms, watch
}

/// `fe`, `fe/**`, `be/queue-*/ring-ref`.
public struct PathPattern: Sendable {
    public var directory: Identifier
    /// nil: the directory node itself.
    public var segments: [String]?
}

/// Who is blamed when a rule is broken.
public enum Blame: Sendable {
    case role(Identifier)
    /// The authenticated writer of the offending message.
    case writer(SourceLocation)
    /// The role(s) whose turn it is in the current global state.
    case turn(SourceLocation)
}

/// `guarantee name: never ... | always ... blame b;`
public struct GuaranteeDeclaration: Sendable {
    public enum Body: Sendable {
        case never(roles: [Identifier], operations: [Operation], paths: [PathPattern], unless: Expression?)
        case always(Expression)
    }

    public var name: Identifier
    public var body: Body
    public var blame: Blame
}

/// `expect cond within 10s after trigger blame role;`
public struct Expectation: Sendable {
    public var condition: Expression
    public var milliseconds: Int
    public var trigger: Expression
    public var blame: Blame
    public var location: SourceLocation
}

/// `labels backend = "SystemManagement" | "StorageDomain";`: which ACM VM labels may play a role.
public struct LabelBinding: Sendable {
    public var role: Identifier
    public var labels: [(String, SourceLocation)]
    public var location: SourceLocation
}

/// A literal value in `init`, `default` and `option`.
public enum Value: Sendable, Equatable {
    case integer(Int128)
    case string(String)
    case identifier(String)

    /// The text stored in xenstore for this value (enum names resolve later).
    public var text: String {
        switch self {
        case .integer(let value): String(value)
        case .string(let value): value
        case .identifier(let value): value
        }
    }
}

/// `[lower .. upper)`, half-open.
public struct RangeExpression: Sendable {
    public var lower: Expression
    public var upper: Expression
}

/// A side-effect-free expression.
public indirect enum Expression: Sendable {
    public enum BinaryOperator: String, Sendable {
        case implies = "=>", or = "||", and = "&&"
        case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
        case add = "+", subtract = "-", multiply = "*", remainder = "%", shiftLeft = "<<"
    }

    case integer(Int128, SourceLocation)
    case string(String, SourceLocation)
    /// An enum case, predicate without arguments, parameter or bound variable.
    case name(Identifier)
    case key(KeyReference)
    case set([Expression], SourceLocation)
    case call(Identifier, [Expression])
    case forall(Identifier, RangeExpression, Expression)
    case conditional(Expression, Expression, Expression, SourceLocation)
    case not(Expression, SourceLocation)
    case binary(BinaryOperator, Expression, Expression)
    case inRange(Expression, RangeExpression)
    case inSet(Expression, Expression)

    public var location: SourceLocation {
        switch self {
        case .integer(_, let location), .string(_, let location), .set(_, let location), .conditional(_, _, _, let location),
            .not(_, let location):
            location
        case .name(let name), .call(let name, _), .forall(let name, _, _): name.location
        case .key(let key): key.location
        case .binary(_, let lhs, _), .inRange(let lhs, _), .inSet(let lhs, _): lhs.location
        }
    }
}
