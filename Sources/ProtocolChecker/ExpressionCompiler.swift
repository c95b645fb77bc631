import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// What names mean while compiling one expression.
struct Scope {
    /// A predicate parameter bound to a directory, or to a key prefix below one (`ring(fe/queue-{q})`).
    struct PrefixBinding {
        var directory: Identifier
        var prefix: [String]
    }

    var locals: [String: Int] = [:]
    var prefixes: [String: PrefixBinding] = [:]
}

/// The names an expression can refer to, shared by all expressions of one protocol.
struct NameTable {
    var states: [String: Int] = [:]
    var parameters: [String: Int] = [:]
    var directories: [String: Int] = [:]
    var predicates: [String: PredicateDeclaration] = [:]
    /// Declared key shapes per directory: relative paths with index variables normalised to `{}`.
    var keyShapes: [Int: Set<String>] = [:]
    var keyNames: [Int: [String]] = [:]
}

/// Compiles expressions to `Program`s. Predicates are inlined; `forall` becomes a loop over locals.
struct ExpressionCompiler {
    let names: NameTable
    var diagnostics: [Diagnostic] = []
    private var instructions: [Instruction] = []
    private var localCount = 0
    /// Keys the expression reads, for the observability checks.
    private(set) var referencedKeys: [(KeyPattern, SourceLocation)] = []
    private var inlining: [String] = []

    init(names: NameTable) {
        self.names = names
    }

    /// Compiles `expression` in `scope`, with `localCount` slots already taken (key index variables).
    mutating func compile(_ expression: Expression, scope: Scope = Scope(), reservedLocals: Int = 0) -> Program {
        instructions = []
        localCount = reservedLocals
        referencedKeys = []
        tooLarge = false
        currentLocation = expression.location
        emit(expression, scope)
        return Program(instructions: instructions, localCount: localCount)
    }

    /// Predicates inlined into one another at most, counting from the expression compiled: each level
    /// is a recursion of the compiler. Real descriptions nest a few deep.
    static let maximumInliningDepth = 64

    /// Inlining can grow a program exponentially (`p2 = p1 && p1`, ...); past this size compilation stops.
    static let maximumInstructions = 200_000
    private var tooLarge = false

    private mutating func append(_ instruction: Instruction) {
        guard instructions.count < Self.maximumInstructions else {
            if !tooLarge {
                tooLarge = true
                diagnostics.append(
                    .error(
                        "E0713", "expression is too large after inlining its predicates (over \(Self.maximumInstructions) instructions)",
                        at: currentLocation, hint: "predicates that use another predicate several times multiply its size; simplify them"))
            }
            return
        }
        instructions.append(instruction)
    }

    /// The expression being compiled, for the size diagnostic.
    private var currentLocation = SourceLocation(file: "")

    private mutating func placeholder() -> Int {
        instructions.append(.jump(-1))
        return instructions.count - 1
    }

    private mutating func newLocal() -> Int {
        defer { localCount += 1 }
        return localCount
    }

    private mutating func error(_ code: DiagnosticCode, _ message: String, at location: SourceLocation, hint: String? = nil) {
        diagnostics.append(.error(code, message, at: location, hint: hint))
    }

    private mutating func emit(_ expression: Expression, _ scope: Scope) {
        guard !tooLarge else { return }
        switch expression {
        case .integer(let value, _):
            append(.integer(value))
        case .string(let value, _):
            append(.string(value))
        case .name(let name):
            emitName(name, scope)
        case .key(let reference):
            if reference.segments == nil {
                if let directory = directory(of: reference.directory, scope) {
                    append(.state(directory: directory))
                    referencedKeys.append((KeyPattern(directory: directory, segments: [[.literal("state")]]), reference.location))
                } else {
                    append(.integer(0))
                }
            } else if let pattern = keyPattern(reference, scope) {
                append(.value(pattern))
            } else {
                append(.string(""))
            }
        case .set(let elements, _):
            for element in elements { emit(element, scope) }
            append(.makeSet(count: elements.count))
        case .call(let name, let arguments):
            emitCall(name, arguments, scope)
        case .forall(let variable, let range, let body):
            var inner = scope
            let slot = newLocal()
            let upper = newLocal()
            inner.locals[variable.name] = slot
            emit(range.lower, scope)
            append(.store(slot: slot))
            emit(range.upper, scope)
            append(.store(slot: upper))
            let loop = instructions.count
            append(.load(slot: slot))
            append(.load(slot: upper))
            append(.binary(.less))
            let exitTrue = placeholder()
            emit(body, inner)
            let exitFalse = placeholder()
            append(.load(slot: slot))
            append(.integer(1))
            append(.binary(.add))
            append(.store(slot: slot))
            append(.jump(loop))
            instructions[exitTrue] = .jumpIfFalse(instructions.count)
            append(.boolean(true))
            let end = placeholder()
            instructions[exitFalse] = .jumpIfFalse(instructions.count)
            append(.boolean(false))
            instructions[end] = .jump(instructions.count)
        case .conditional(let condition, let then, let otherwise, _):
            emit(condition, scope)
            let toElse = placeholder()
            emit(then, scope)
            let toEnd = placeholder()
            instructions[toElse] = .jumpIfFalse(instructions.count)
            emit(otherwise, scope)
            instructions[toEnd] = .jump(instructions.count)
        case .not(let operand, _):
            emit(operand, scope)
            append(.not)
        case .binary(let operation, let lhs, let rhs):
            switch operation {
            case .and:
                emit(lhs, scope)
                let toFalse = placeholder()
                emit(rhs, scope)
                let toEnd = placeholder()
                instructions[toFalse] = .jumpIfFalse(instructions.count)
                append(.boolean(false))
                instructions[toEnd] = .jump(instructions.count)
            case .or, .implies:
                emit(lhs, scope)
                if operation == .implies { append(.not) }
                let toRight = placeholder()
                append(.boolean(true))
                let toEnd = placeholder()
                instructions[toRight] = .jumpIfFalse(instructions.count)
                emit(rhs, scope)
                instructions[toEnd] = .jump(instructions.count)
            default:
                emit(lhs, scope)
                emit(rhs, scope)
                append(.binary(Self.operations[operation]!))
            }
        case .inRange(let value, let range):
            emit(value, scope)
            emit(range.lower, scope)
            emit(range.upper, scope)
            append(.inRange)
        case .inSet(let value, let set):
            emit(value, scope)
            emit(set, scope)
            append(.member)
        }
    }

    static let operations: [Expression.BinaryOperator: BinaryOperation] = [
        .equal: .equal, .notEqual: .notEqual, .less: .less, .lessEqual: .lessEqual, .greater: .greater,
        .greaterEqual: .greaterEqual, .add: .add, .subtract: .subtract, .multiply: .multiply, .remainder: .remainder,
        .shiftLeft: .shiftLeft,
    ]

    private mutating func emitName(_ name: Identifier, _ scope: Scope) {
        if let slot = scope.locals[name.name] {
            append(.load(slot: slot))
        } else if let value = names.states[name.name] {
            append(.integer(Int128(value)))
        } else if let parameter = names.parameters[name.name] {
            append(.parameter(parameter))
        } else if names.predicates[name.name] != nil {
            emitCall(name, [], scope)
        } else {
            let candidates =
                Array(names.states.keys) + Array(names.parameters.keys) + Array(names.predicates.keys) + Array(scope.locals.keys)
            error("E0730", "unknown name '\(name.name)'", at: name.location, hint: NameSuggestion.hint(for: name.name, in: candidates))
            append(.boolean(false))
        }
    }

    private mutating func emitCall(_ name: Identifier, _ arguments: [Expression], _ scope: Scope) {
        func arity(_ allowed: ClosedRange<Int>) -> Bool {
            guard allowed.contains(arguments.count) else {
                error(
                    "E0731",
                    "'\(name.name)' takes \(allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" : "\(allowed.lowerBound) or \(allowed.upperBound)") argument(s), given \(arguments.count)",
                    at: name.location)
                append(.boolean(false))
                return false
            }
            return true
        }
        switch name.name {
        case "present", "absent":
            guard arity(1...1), let pattern = keyArgument(arguments[0], scope, function: name.name) else { return }
            append(.present(pattern))
            if name.name == "absent" { append(.not) }
        case "val":
            guard arity(1...2), let pattern = keyArgument(arguments[0], scope, function: "val") else { return }
            if arguments.count == 2 { emit(arguments[1], scope) }
            append(.number(pattern, hasDefault: arguments.count == 2))
        case "pow2":
            guard arity(1...1) else { return }
            emit(arguments[0], scope)
            append(.powerOfTwo)
        case "seen":
            guard arity(2...2) else { return }
            guard case .key(let reference) = arguments[0], reference.segments == nil,
                let directory = directory(of: reference.directory, scope)
            else {
                error("E0731", "seen's first argument must be a state key such as 'fe.state'", at: arguments[0].location)
                append(.boolean(false))
                return
            }
            guard case .name(let state) = arguments[1], let value = names.states[state.name] else {
                error("E0731", "seen's second argument must be a state name", at: arguments[1].location)
                append(.boolean(false))
                return
            }
            append(.seen(directory: directory, state: value))
            referencedKeys.append((KeyPattern(directory: directory, segments: [[.literal("state")]]), reference.location))
        default:
            guard let predicate = names.predicates[name.name] else {
                error(
                    "E0732", "unknown function or predicate '\(name.name)'", at: name.location,
                    hint: NameSuggestion.hint(
                        for: name.name, in: Array(names.predicates.keys) + ["present", "absent", "val", "pow2", "seen"]))
                append(.boolean(false))
                return
            }
            guard !inlining.contains(name.name) else {
                error("E0733", "predicate '\(name.name)' refers to itself", at: name.location)
                append(.boolean(false))
                return
            }
            guard inlining.count < Self.maximumInliningDepth else {
                // Inlining recurses once per predicate: a long chain (p0 = p1; p1 = p2; ...) would
                // otherwise exhaust the stack.
                error(
                    "E0714", "predicates nest too deeply: '\(name.name)' would be inlined more than \(Self.maximumInliningDepth) deep",
                    at: name.location, hint: "a predicate used by a predicate is expanded into it; shorten the chain")
                append(.boolean(false))
                return
            }
            guard arguments.count == predicate.parameters.count else {
                error(
                    "E0731", "predicate '\(name.name)' takes \(predicate.parameters.count) argument(s), given \(arguments.count)",
                    at: name.location)
                append(.boolean(false))
                return
            }
            // Parameters bound to a directory or key prefix substitute into key references; others
            // are values computed once into a local.
            var inner = Scope(locals: scope.locals, prefixes: scope.prefixes)
            for (parameter, argument) in zip(predicate.parameters, arguments) {
                inner.locals[parameter.name] = nil
                inner.prefixes[parameter.name] = nil
                switch argument {
                case .name(let identifier) where directory(of: identifier, scope, report: false) != nil:
                    inner.prefixes[parameter.name] = binding(of: identifier, prefix: [], scope)
                case .key(let reference) where reference.segments != nil:
                    inner.prefixes[parameter.name] = binding(of: reference.directory, prefix: reference.segments ?? [], scope)
                default:
                    emit(argument, scope)
                    let slot = newLocal()
                    append(.store(slot: slot))
                    inner.locals[parameter.name] = slot
                }
            }
            inlining.append(name.name)
            emit(predicate.body, inner)
            inlining.removeLast()
        }
    }

    private func binding(of directory: Identifier, prefix: [String], _ scope: Scope) -> Scope.PrefixBinding {
        if let outer = scope.prefixes[directory.name] {
            return Scope.PrefixBinding(directory: outer.directory, prefix: outer.prefix + prefix)
        }
        return Scope.PrefixBinding(directory: directory, prefix: prefix)
    }

    private mutating func keyArgument(_ argument: Expression, _ scope: Scope, function: String) -> KeyPattern? {
        guard case .key(let reference) = argument, reference.segments != nil else {
            error("E0731", "\(function) takes a key such as 'fe/ring-ref'", at: argument.location)
            append(.boolean(false))
            return nil
        }
        guard let pattern = keyPattern(reference, scope) else {
            append(.boolean(false))
            return nil
        }
        return pattern
    }

    /// The directory index a name denotes (through predicate bindings).
    private mutating func directory(of name: Identifier, _ scope: Scope, report: Bool = true) -> Int? {
        if let bound = scope.prefixes[name.name] {
            guard bound.prefix.isEmpty else {
                if report { error("E0734", "'\(name.name)' stands for a key prefix here, not a directory", at: name.location) }
                return nil
            }
            return names.directories[bound.directory.name]
        }
        if let index = names.directories[name.name] { return index }
        if report {
            error(
                "E0734", "unknown directory '\(name.name)'", at: name.location,
                hint: NameSuggestion.hint(for: name.name, in: names.directories.keys))
        }
        return nil
    }

    /// Resolves `dir/seg/...` (through predicate prefixes) to a declared key's pattern.
    private mutating func keyPattern(_ reference: KeyReference, _ scope: Scope) -> KeyPattern? {
        var directoryName = reference.directory
        var segments = reference.segments ?? []
        if let bound = scope.prefixes[reference.directory.name] {
            directoryName = bound.directory
            segments = bound.prefix + segments
        }
        guard let directory = names.directories[directoryName.name] else {
            error(
                "E0734", "unknown directory '\(directoryName.name)'", at: reference.location,
                hint: NameSuggestion.hint(for: directoryName.name, in: names.directories.keys))
            return nil
        }
        var parts: [[KeyPattern.Part]] = []
        for segment in segments {
            guard let parsed = KeySegments.parse(segment) else {
                error("E0735", "malformed key segment '\(segment)'", at: reference.location)
                return nil
            }
            var resolved: [KeyPattern.Part] = []
            for part in parsed {
                switch part {
                case .literal(let text): resolved.append(.literal(text))
                case .index(_, let variable):
                    guard let slot = scope.locals[variable] else {
                        error(
                            "E0736", "index variable '\(variable)' is not bound here", at: reference.location,
                            hint: "bind it with 'forall \(variable) in [..) : ...'")
                        return nil
                    }
                    resolved.append(.index(slot: slot, name: variable))
                }
            }
            parts.append(resolved)
        }
        let pattern = KeyPattern(directory: directory, segments: parts)
        let shape = KeySegments.shape(of: pattern)
        if !(names.keyShapes[directory]?.contains(shape) ?? false) {
            error(
                "E0737", "key '\(directoryName.name)/\(pattern)' is not declared", at: reference.location,
                hint: NameSuggestion.hint(for: pattern.description, in: names.keyNames[directory] ?? []))
            return nil
        }
        referencedKeys.append((pattern, reference.location))
        return pattern
    }
}

/// Parsing of key path segments with `{variable}` parts.
enum KeySegments {
    /// `ring-ref{i}` -> literal "ring-ref", index i. Slots are filled in by the caller.
    static func parse(_ segment: String) -> [KeyPattern.Part]? {
        var parts: [KeyPattern.Part] = []
        var text = ""
        var variable: String? = nil
        for character in segment {
            if character == "{" {
                guard variable == nil else { return nil }
                if !text.isEmpty { parts.append(.literal(text)) }
                text = ""
                variable = ""
            } else if character == "}" {
                guard let name = variable, !name.isEmpty else { return nil }
                parts.append(.index(slot: -1, name: name))
                variable = nil
            } else if variable != nil {
                variable! += String(character)
            } else {
                text += String(character)
            }
        }
        guard variable == nil else { return nil }
        if !text.isEmpty { parts.append(.literal(text)) }
        return parts
    }

    /// The pattern with index variables written `{}`, to compare declarations and references.
    static func shape(of pattern: KeyPattern) -> String {
        pattern.segments.map { parts in
            parts.map {
                switch $0 {
                case .literal(let text): text
                case .index: "{}"
                }
            }.joined()
        }.joined(separator: "/")
    }
}
