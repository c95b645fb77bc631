import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// The syntax behind a definition that the static analysis evaluates abstractly.
struct SyntaxIndex {
    /// Per machine, per transition: the guard as written.
    var guards: [[Expression?]] = []
    /// Per machine, per transition: the keys its guard and obligation read.
    var guardKeys: [[[(KeyPattern, SourceLocation)]]] = []
    var obligationKeys: [[[(KeyPattern, SourceLocation)]]] = []
    var transitionLocations: [[SourceLocation]] = []
    /// The same for the key machines (`machine be/state-{n}`), in the order of `keyMachines`: per
    /// machine, per transition, the guard as written, the keys it reads, and where it is written.
    var keyMachineGuards: [[Expression?]] = []
    var keyMachineGuardKeys: [[[(KeyPattern, SourceLocation)]]] = []
    var keyMachineTransitionLocations: [[SourceLocation]] = []
    var expectationTriggers: [Expression] = []
    var expectationConditions: [Expression] = []
    var names = NameTable()
    var protocolLocation: SourceLocation
}

/// Resolves the flattened items of one protocol (its ancestors' first) into a `ProtocolDefinition`.
struct Resolution {
    let protocolUnit: Unit
    let items: [Item]
    var diagnostics: [Diagnostic] = []
    var syntaxIndex: SyntaxIndex

    init(protocolUnit: Unit, items: [Item]) {
        self.protocolUnit = protocolUnit
        self.items = items
        self.syntaxIndex = SyntaxIndex(protocolLocation: protocolUnit.name.location)
    }

    private mutating func error(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation, hint: String? = nil, notes: [DiagnosticNote] = []
    ) {
        // A type is resolved more than once (a state key's for its enum, then for its value type).
        let diagnostic = Diagnostic.error(code, message, at: location, hint: hint, notes: notes)
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    private mutating func warning(_ code: DiagnosticCode, _ message: String, at location: SourceLocation, hint: String? = nil) {
        diagnostics.append(.warning(code, message, at: location, hint: hint))
    }

    // MARK: - Tables built in passes

    private var enums: [String: EnumDeclaration] = [:]
    private var typeAliases: [String: TypeExpression] = [:]
    private var roleIndex: [String: Int] = [:]
    private var roles: [Role] = []
    private var directories: [Directory] = []

    mutating func resolve() -> ProtocolDefinition? {
        let errorsBefore = diagnostics.count
        // Declarations first, so that order inside a file does not matter.
        var parameters: [Parameter] = []
        for item in items {
            switch item {
            case .enumeration(let declaration):
                if enums[declaration.name.name] != nil {
                    warning("W0720", "enum '\(declaration.name.name)' is redefined", at: declaration.name.location)
                }
                enums[declaration.name.name] = declaration
            case .typeAlias(let name, let type):
                typeAliases[name.name] = type
            case .parameters(let list, _):
                parameters = list
            default:
                break
            }
        }
        syntaxIndex.names.parameters = Dictionary(parameters.enumerated().map { ($1.name.name, $0) }, uniquingKeysWith: { a, _ in a })
        for parameter in parameters { _ = valueType(parameter.type) }
        resolveRoles()
        resolveDirectories()
        let stateEnum = stateEnumeration()
        // Out-of-range values are reported by stateEnumeration(); clamping keeps them from trapping.
        let states = stateEnum.map { $0.cases.map { State(name: $0.0.name, value: Int(clamping: $0.1)) } } ?? []
        syntaxIndex.names.states = Dictionary(states.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for item in items {
            if case .predicate(let predicate) = item { syntaxIndex.names.predicates[predicate.name.name] = predicate }
        }
        var keys = resolveKeys()
        let machines = resolveMachines(keys: &keys)
        let keyMachines = resolveKeyMachines(keys: keys)
        let guarantees = resolveGuarantees()
        let expectations = resolveExpectations()
        var unknownKeys = UnknownKeyPolicy.audit
        var labels: [RoleLabels] = []
        for item in items {
            switch item {
            case .option(let name, let value):
                guard name.name == "unknown_keys" else {
                    warning("W0721", "unknown option '\(name.name)'", at: name.location, hint: "the only option is 'unknown_keys'")
                    continue
                }
                guard let policy = UnknownKeyPolicy(rawValue: value.text) else {
                    error("E0738", "unknown_keys must be audit, deny or allow", at: name.location)
                    continue
                }
                unknownKeys = policy
            case .labels(let binding):
                guard let role = role(binding.role) else { continue }
                labels.removeAll { $0.role == role }
                labels.append(RoleLabels(role: role, labels: binding.labels.map(\.0), origins: binding.labels.map(\.1.origin)))
            default:
                break
            }
        }
        if protocolUnit.kind == .protocol { checkLinks(keys, directories: directories, at: protocolUnit.name.location) }
        guard diagnostics[errorsBefore...].allSatisfy({ $0.severity != .error }) else { return nil }
        return ProtocolDefinition(
            name: protocolUnit.name.name, origin: protocolUnit.name.location.origin, parameters: parameters.map(\.name.name),
            roles: roles, states: states, directories: directories, keys: keys, machines: machines, keyMachines: keyMachines,
            guarantees: guarantees, expectations: expectations, unknownKeys: unknownKeys, labels: labels, turns: [])
    }

    // MARK: - Roles and directories

    private mutating func resolveRoles() {
        var declarations: [RoleDeclaration] = []
        for item in items {
            guard case .role(let declaration) = item else { continue }
            if let existing = declarations.firstIndex(where: { $0.name.name == declaration.name.name }) {
                declarations[existing] = declaration
            } else {
                declarations.append(declaration)
            }
        }
        guard declarations.count <= 32 else {
            error("E0739", "a protocol may declare at most 32 roles", at: protocolUnit.name.location)
            return
        }
        for (index, declaration) in declarations.enumerated() { roleIndex[declaration.name.name] = index }
        for declaration in declarations {
            switch declaration.principal {
            case .domain(let parameter):
                guard let index = syntaxIndex.names.parameters[parameter.name] else {
                    error(
                        "E0723", "unknown parameter '\(parameter.name)'", at: parameter.location,
                        hint: NameSuggestion.hint(for: parameter.name, in: syntaxIndex.names.parameters.keys))
                    roles.append(Role(name: declaration.name.name, principal: .privileged))
                    continue
                }
                roles.append(Role(name: declaration.name.name, principal: .parameter(index)))
            case .privileged:
                roles.append(Role(name: declaration.name.name, principal: .privileged))
            case .alias(let other):
                // Aliases are resolved after all roles exist; a placeholder keeps indices stable.
                roles.append(Role(name: declaration.name.name, principal: .privileged, aliasOf: roleIndex[other.name]))
                if roleIndex[other.name] == nil {
                    error(
                        "E0724", "unknown role '\(other.name)'", at: other.location,
                        hint: NameSuggestion.hint(for: other.name, in: roleIndex.keys))
                }
            }
        }
        for index in roles.indices {
            var seen: Set<Int> = [index]
            var target = roles[index].aliasOf
            while let next = target, roles[next].aliasOf != nil {
                guard seen.insert(next).inserted else {
                    error("E0724", "role '\(roles[index].name)' is an alias of itself", at: protocolUnit.name.location)
                    break
                }
                target = roles[next].aliasOf
            }
            if let target {
                roles[index].aliasOf = target
                roles[index].principal = roles[target].principal
            }
        }
    }

    /// The role index of a name, reporting unknown roles.
    private mutating func role(_ name: Identifier) -> Int? {
        guard let index = roleIndex[name.name] else {
            error("E0724", "unknown role '\(name.name)'", at: name.location, hint: NameSuggestion.hint(for: name.name, in: roleIndex.keys))
            return nil
        }
        return index
    }

    private mutating func roleMask(_ names: [Identifier]) -> RoleMask {
        RoleMask(names.compactMap { role($0) })
    }

    private mutating func resolveDirectories() {
        var declarations: [DirectoryDeclaration] = []
        for item in items {
            guard case .directory(let declaration) = item else { continue }
            if let existing = declarations.firstIndex(where: { $0.name.name == declaration.name.name }) {
                declarations[existing] = declaration
            } else {
                declarations.append(declaration)
            }
        }
        for declaration in declarations {
            guard declaration.template.hasPrefix("/"), !declaration.template.hasSuffix("/") else {
                error(
                    "E0725", "directory template '\(declaration.template)' must be an absolute path without a trailing '/'",
                    at: declaration.templateLocation)
                continue
            }
            var segments: [Directory.Segment] = []
            var valid = true
            for part in declaration.template.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
                if part.isEmpty {
                    error("E0725", "directory template '\(declaration.template)' has an empty segment", at: declaration.templateLocation)
                    valid = false
                } else if part.hasPrefix("{"), part.hasSuffix("}") {
                    let inner = part.dropFirst().dropLast()
                    if inner.contains("|") {
                        segments.append(.alternatives(inner.split(separator: "|").map(String.init)))
                    } else if let parameter = syntaxIndex.names.parameters[String(inner)] {
                        segments.append(.parameter(parameter))
                    } else {
                        error(
                            "E0723", "unknown parameter '\(inner)' in directory template", at: declaration.templateLocation,
                            hint: NameSuggestion.hint(for: String(inner), in: syntaxIndex.names.parameters.keys))
                        valid = false
                    }
                } else if part.contains("{") || part.contains("}") {
                    error("E0725", "a template segment is either a literal or one {parameter}: '\(part)'", at: declaration.templateLocation)
                    valid = false
                } else {
                    segments.append(.literal(String(part)))
                }
            }
            let variables = Directory.variableSegmentCount(segments)
            if valid && variables > Directory.maximumVariableSegments {
                error(
                    "E0755",
                    "directory template '\(declaration.template)' has \(variables) variable segments; at most \(Directory.maximumVariableSegments) are allowed",
                    at: declaration.templateLocation,
                    hint: "make some segments literal, or split the directory: the replay identifies a directory by these values")
                valid = false
            }
            guard valid, let owner = role(declaration.owner) else { continue }
            let readers = declaration.readers.compactMap { role($0) }
            syntaxIndex.names.directories[declaration.name.name] = directories.count
            directories.append(
                Directory(
                    name: declaration.name.name, segments: segments, owner: owner, readers: readers,
                    origin: declaration.name.location.origin))
        }
    }

    // MARK: - Types

    /// The enumeration the `state` keys use (all must use the same one).
    private mutating func stateEnumeration() -> EnumDeclaration? {
        var found: EnumDeclaration? = nil
        var declarations: [KeyDeclaration] = []
        for item in items {
            guard case .key(let declaration) = item, declaration.key.segments == nil else { continue }
            // A state key declared again replaces the inherited declaration, and its enum with it.
            declarations.removeAll { $0.key == declaration.key }
            declarations.append(declaration)
        }
        for declaration in declarations {
            guard case .enumeration(let name) = resolvedType(declaration.type), let declared = enums[name.name] else {
                error("E0726", "'\(declaration.key)' must have an enum type", at: declaration.type.location)
                continue
            }
            if let found, found.name.name != declared.name.name {
                error(
                    "E0726",
                    "all state keys must use one enum; '\(declaration.key)' uses '\(declared.name.name)', others '\(found.name.name)'",
                    at: declaration.type.location)
            }
            found = declared
        }
        if let found {
            for (name, value) in found.cases where value < 0 || value > 31 {
                error("E0726", "state '\(name.name)' = \(value): state values must be 0 to 31", at: name.location)
            }
        }
        return found
    }

    /// Follows named aliases to a structural type.
    private mutating func resolvedType(_ type: TypeExpression, depth: Int = 0) -> TypeExpression {
        guard case .named(let name) = type else { return type }
        guard depth < 16, let target = typeAliases[name.name] else {
            if depth >= 16 {
                error("E0727", "type '\(name.name)' is defined in terms of itself", at: name.location)
            } else {
                error(
                    "E0727", "unknown type '\(name.name)'", at: name.location,
                    hint: NameSuggestion.hint(for: name.name, in: Array(typeAliases.keys) + ["uint", "string"]))
            }
            return .string(pattern: nil, name.location)
        }
        return resolvedType(target, depth: depth + 1)
    }

    private mutating func valueType(_ type: TypeExpression) -> ValueType {
        var compiler = ExpressionCompiler(names: syntaxIndex.names)
        switch resolvedType(type) {
        case .unsigned(let range, let location):
            guard let range else { return .unsigned(lower: 0, upper: Int128.max) }
            let lower = constant(range.lower, &compiler)
            let upper = constant(range.upper, &compiler)
            guard let lower, let upper, lower < upper else {
                error("E0727", "a uint range must be two constants with lower < upper", at: location)
                return .unsigned(lower: 0, upper: Int128.max)
            }
            return .unsigned(lower: lower, upper: upper)
        case .string(let pattern, let location):
            if let pattern, (try? Regex(pattern)) == nil {
                error("E0727", "invalid regular expression '\(pattern)'", at: location)
                return .string(pattern: nil)
            }
            return .string(pattern: pattern)
        case .literals(let values, _):
            return .literals(values)
        case .enumeration(let name):
            if enums[name.name] == nil {
                error("E0727", "unknown enum '\(name.name)'", at: name.location, hint: NameSuggestion.hint(for: name.name, in: enums.keys))
            }
            return .state
        case .named:
            return .string(pattern: nil)
        }
    }

    /// Evaluates a constant integer expression (type bounds).
    private mutating func constant(_ expression: Expression, _ compiler: inout ExpressionCompiler) -> Int128? {
        switch expression {
        case .integer(let value, _): return value
        case .binary(let operation, let lhs, let rhs):
            guard let a = constant(lhs, &compiler), let b = constant(rhs, &compiler) else { return nil }
            switch operation {
            case .add: return a.addingReportingOverflow(b).overflow ? nil : a + b
            case .subtract: return a.subtractingReportingOverflow(b).overflow ? nil : a - b
            case .multiply: return a.multipliedReportingOverflow(by: b).overflow ? nil : a * b
            case .shiftLeft: return b >= 0 && b < 126 ? a << b : nil
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: - Keys

    private mutating func resolveKeys() -> [Key] {
        var declarations: [KeyDeclaration] = []
        var position: [KeyReference: Int] = [:]
        for item in items {
            guard case .key(let declaration) = item else { continue }
            if let existing = position[declaration.key] {
                declarations[existing] = declaration
            } else {
                position[declaration.key] = declarations.count
                declarations.append(declaration)
            }
        }
        // Shapes first: key conditions and bounds may refer to any key.
        for declaration in declarations {
            guard let directory = syntaxIndex.names.directories[declaration.key.directory.name],
                let segments = parsedSegments(declaration.key)
            else { continue }
            let pattern = KeyPattern(directory: directory, segments: segments)
            syntaxIndex.names.keyShapes[directory, default: []].insert(KeySegments.shape(of: pattern))
            syntaxIndex.names.keyNames[directory, default: []].append(pattern.description)
        }
        var keys: [Key] = []
        for declaration in declarations {
            guard let directory = syntaxIndex.names.directories[declaration.key.directory.name] else {
                error(
                    "E0734", "unknown directory '\(declaration.key.directory.name)'", at: declaration.key.location,
                    hint: NameSuggestion.hint(for: declaration.key.directory.name, in: syntaxIndex.names.directories.keys))
                continue
            }
            guard var segments = parsedSegments(declaration.key) else {
                error("E0735", "malformed key path '\(declaration.key)'", at: declaration.key.location)
                continue
            }
            var compiler = ExpressionCompiler(names: syntaxIndex.names)
            var scope = Scope()
            var indices: [IndexVariable] = []
            var initializers: [Identifier] = []
            var initialValue: String? = nil
            var writers: [Identifier] = []
            var phase: StateMask? = nil
            var condition: Expression? = nil
            var defaultValue: String? = nil
            var deprecated = false
            var link: Identifier? = nil
            var ranges: [(Identifier, RangeExpression)] = []
            for attribute in declaration.attributes {
                switch attribute {
                case .initializedBy(let role, let value):
                    initializers.append(role)
                    initialValue = value.map { literalText($0) }
                case .writers(let roles): writers += roles
                case .phase(let set): phase = stateMask(set)
                case .index(let variable, let range): ranges.append((variable, range))
                case .condition(let expression): condition = expression
                case .defaultValue(let value): defaultValue = literalText(value)
                case .deprecated: deprecated = true
                case .link(let target): link = target
                }
            }
            for (slot, (variable, _)) in ranges.enumerated() { scope.locals[variable.name] = slot }
            for (slot, (variable, range)) in ranges.enumerated() {
                // Bounds may use earlier indices but not their own.
                var boundsScope = scope
                for later in ranges[slot...] { boundsScope.locals[later.0.name] = nil }
                let lower = compiler.compile(range.lower, scope: boundsScope, reservedLocals: ranges.count)
                let upper = compiler.compile(range.upper, scope: boundsScope, reservedLocals: ranges.count)
                indices.append(IndexVariable(name: variable.name, slot: slot, lower: lower, upper: upper))
            }
            var bound = true
            for (segmentIndex, parts) in segments.enumerated() {
                for (partIndex, part) in parts.enumerated() {
                    guard case .index(_, let name) = part else { continue }
                    guard let slot = scope.locals[name] else {
                        error(
                            "E0736", "index variable '\(name)' of '\(declaration.key)' has no 'for \(name) in [..)'",
                            at: declaration.key.location)
                        bound = false
                        continue
                    }
                    segments[segmentIndex][partIndex] = .index(slot: slot, name: name)
                }
            }
            let conditionProgram = condition.map { compiler.compile($0, scope: scope, reservedLocals: ranges.count) }
            diagnostics += compiler.diagnostics
            guard bound else { continue }
            let isState = declaration.key.segments == nil
            let type = valueType(declaration.type)
            if let initialValue, isState, syntaxIndex.names.states[initialValue] == nil {
                error("E0728", "initial state '\(initialValue)' is not a state", at: declaration.key.location)
            }
            let stateValues = syntaxIndex.names.states
            let isEnumeration = if case .state = type { true } else { false }
            // Enum-typed keys hold the decimal value in xenstore; state names in `init` and `default` become it.
            func stateValue(_ text: String?) -> String? {
                guard let text, isEnumeration, let value = stateValues[text] else { return text }
                return String(value)
            }
            for (what, text) in [("initial value", stateValue(initialValue)), ("default", stateValue(defaultValue))] {
                // An unknown state name was reported as E0728 already.
                guard let text, !(isState && Int(text) == nil), !Self.inhabits(text, type, states: Set(stateValues.values)) else {
                    continue
                }
                error("E0747", "\(what) '\(text)' of '\(declaration.key)' is not a value of its type", at: declaration.key.location)
            }
            var linkTarget: Int? = nil
            if let link {
                if let target = syntaxIndex.names.directories[link.name] {
                    if target == directory {
                        error("E0753", "'\(declaration.key)' cannot link its own directory", at: link.location)
                    } else if !ranges.isEmpty || isState {
                        error(
                            "E0753", "'\(declaration.key)' cannot be a link: a link is one key without index variables", at: link.location)
                    } else {
                        linkTarget = target
                    }
                } else {
                    error(
                        "E0734", "unknown directory '\(link.name)'", at: link.location,
                        hint: NameSuggestion.hint(for: link.name, in: syntaxIndex.names.directories.keys))
                }
            }
            keys.append(
                Key(
                    pattern: KeyPattern(directory: directory, segments: segments), isState: isState, type: type,
                    initializers: roleMask(initializers), initialValue: stateValue(initialValue), writers: roleMask(writers),
                    phase: phase, indices: indices, condition: conditionProgram, defaultValue: stateValue(defaultValue),
                    deprecated: deprecated, link: linkTarget, origin: declaration.key.location.origin))
        }
        return keys
    }

    private func literalText(_ value: Value) -> String { value.text }

    /// Whether a literal value belongs to a type (the checker tests written values the same way).
    static func inhabits(_ text: String, _ type: ValueType, states: Set<Int>) -> Bool {
        switch type {
        case .unsigned(let lower, let upper):
            guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int128(text) else { return false }
            return lower <= value && value < upper
        case .string(let pattern):
            guard let pattern, let regex = try? Regex(pattern) else { return true }
            return (try? regex.wholeMatch(in: text)) != nil
        case .literals(let values):
            return values.contains(text)
        case .state:
            return Int(text).map(states.contains) ?? false
        }
    }

    private func parsedSegments(_ reference: KeyReference) -> [[KeyPattern.Part]]? {
        guard let written = reference.segments else { return [[.literal("state")]] }
        var segments: [[KeyPattern.Part]] = []
        for segment in written {
            guard segment != "*", segment != "**", let parts = KeySegments.parse(segment) else { return nil }
            segments.append(parts)
        }
        return segments
    }

    private mutating func stateMask(_ set: StateSet) -> StateMask {
        switch set {
        case .any: return .all
        case .states(let names):
            return StateMask(
                names.compactMap { name in
                    guard let value = syntaxIndex.names.states[name.name] else {
                        error(
                            "E0728", "unknown state '\(name.name)'", at: name.location,
                            hint: NameSuggestion.hint(for: name.name, in: syntaxIndex.names.states.keys))
                        return nil
                    }
                    // A value outside 0-31 was reported with its enum (E0726) and has no mask bit.
                    return (0..<32).contains(value) ? value : nil
                })
        }
    }

    // MARK: - Machines

    private mutating func resolveMachines(keys: inout [Key]) -> [Machine] {
        var machines: [Machine] = []
        for item in items {
            // Machines of other keys (`be/state-{n}`) are resolved by resolveKeyMachines.
            guard case .machine(let declaration) = item, declaration.key.segments == nil else { continue }
            guard let directory = machineDirectory(declaration) else { continue }
            guard let keyIndex = keys.firstIndex(where: { $0.isState && $0.pattern.directory == directory }) else {
                error(
                    "E0729", "'\(declaration.key)' is not declared as a key", at: declaration.key.location,
                    hint: "declare it: key \(declaration.key) : enum XenbusState init toolstack = Initialising writer ...;")
                continue
            }
            let machineIndex: Int
            if let existing = machines.firstIndex(where: { $0.directory == directory }) {
                machineIndex = existing
            } else {
                machineIndex = machines.count
                machines.append(Machine(directory: directory, key: keyIndex, transitions: [], origin: declaration.location.origin))
                syntaxIndex.guards.append([])
                syntaxIndex.guardKeys.append([])
                syntaxIndex.obligationKeys.append([])
                syntaxIndex.transitionLocations.append([])
            }
            for transition in declaration.transitions {
                let from = stateMask(transition.from)
                guard let to = targetState(transition) else { continue }
                var compiler = ExpressionCompiler(names: syntaxIndex.names)
                let guardProgram = transition.guardExpression.map { compiler.compile($0) }
                let guardKeys = compiler.referencedKeys
                let obligation = transition.obligation.map { compiler.compile($0) }
                let obligationKeys = compiler.referencedKeys
                diagnostics += compiler.diagnostics
                machines[machineIndex].transitions.append(
                    ProtocolModel.Transition(
                        from: from, to: to, by: roleMask(transition.by), guardProgram: guardProgram, obligation: obligation,
                        note: transition.note, origin: transition.location.origin))
                syntaxIndex.guards[machineIndex].append(transition.guardExpression)
                syntaxIndex.guardKeys[machineIndex].append(guardKeys)
                syntaxIndex.obligationKeys[machineIndex].append(transition.obligation == nil ? [] : obligationKeys)
                syntaxIndex.transitionLocations[machineIndex].append(transition.location)
            }
        }
        return machines
    }

    /// The directory of the key a machine drives; nil (reported) when it is not declared.
    private mutating func machineDirectory(_ declaration: MachineDeclaration) -> Int? {
        if let directory = syntaxIndex.names.directories[declaration.key.directory.name] { return directory }
        error(
            "E0734", "unknown directory '\(declaration.key.directory.name)'", at: declaration.key.directory.location,
            hint: NameSuggestion.hint(for: declaration.key.directory.name, in: syntaxIndex.names.directories.keys))
        return nil
    }

    /// The value of a transition's target state; nil (reported) when it is not a state.
    private mutating func targetState(_ transition: ProtocolSyntax.Transition) -> Int? {
        if let to = syntaxIndex.names.states[transition.to.name] { return to }
        error(
            "E0728", "unknown state '\(transition.to.name)'", at: transition.to.location,
            hint: NameSuggestion.hint(for: transition.to.name, in: syntaxIndex.names.states.keys))
        return nil
    }

    /// The checker creates an instance only when the toolstack has linked all the directories through
    /// their `link` keys, so directories that no chain of links connects would never make one.
    private mutating func checkLinks(_ keys: [Key], directories: [Directory], at location: SourceLocation) {
        guard directories.count > 1 else { return }
        var component = Array(directories.indices)
        func root(_ index: Int) -> Int {
            var index = index
            while component[index] != index { index = component[index] }
            return index
        }
        for key in keys {
            guard let target = key.link, directories.indices.contains(target), directories.indices.contains(key.pattern.directory) else {
                continue
            }
            component[root(key.pattern.directory)] = root(target)
        }
        let unlinked = directories.indices.filter { root($0) != root(0) }.map { directories[$0].name }
        guard !unlinked.isEmpty else { return }
        warning(
            "W0747",
            "no 'link' key connects \(unlinked.map { "'\($0)'" }.joined(separator: ", ")) with '\(directories[0].name)', so no instance of this protocol can be created",
            at: location, hint: "declare the toolstack's links, e.g. key be/frontend : xspath init toolstack link fe;")
    }

    /// Machines of state-typed keys other than a directory's `state` (`machine be/state-{n} {...}`).
    ///
    /// Each drives every entry of its key family separately: a write that changes an existing entry's
    /// value must be one of the transitions, judged with the entry's indices bound (guards may say
    /// `val(be/dev-{n})`). Creating and removing entries are judged by the key's own rules, which is
    /// what lets a toolstack renumber a family by removing and rewriting its entries.
    private mutating func resolveKeyMachines(keys: [Key]) -> [Machine] {
        var machines: [Machine] = []
        for item in items {
            guard case .machine(let declaration) = item, declaration.key.segments != nil else { continue }
            guard let directory = machineDirectory(declaration) else { continue }
            let written = parsedSegments(declaration.key).map { KeyPattern(directory: directory, segments: $0).description }
            guard let keyIndex = keys.firstIndex(where: { $0.pattern.directory == directory && $0.pattern.description == written })
            else {
                error(
                    "E0729", "'\(declaration.key)' is not declared as a key", at: declaration.key.location,
                    hint: "a machine drives a declared key of the state type, such as 'fe.state' or 'be/state-{n}'")
                continue
            }
            let key = keys[keyIndex]
            guard case .state = key.type else {
                error(
                    "E0729", "'\(declaration.key)' is not of the state type, so no machine can drive it", at: declaration.key.location,
                    hint: "declare it with the protocol's state enumeration: key \(declaration.key) : enum XenbusState ...;")
                continue
            }
            let machineIndex: Int
            if let existing = machines.firstIndex(where: { $0.key == keyIndex }) {
                machineIndex = existing
            } else {
                machineIndex = machines.count
                machines.append(Machine(directory: directory, key: keyIndex, transitions: [], origin: declaration.location.origin))
                syntaxIndex.keyMachineGuards.append([])
                syntaxIndex.keyMachineGuardKeys.append([])
                syntaxIndex.keyMachineTransitionLocations.append([])
            }
            var scope = Scope()
            for index in key.indices { scope.locals[index.name] = index.slot }
            for transition in declaration.transitions {
                guard let to = targetState(transition) else { continue }
                if let obligation = transition.obligation {
                    error(
                        "E0752", "a transition of '\(declaration.key)' cannot have an obligation", at: obligation.location,
                        hint: "obligations belong to the machines of directory state keys; write the condition as a 'when' guard")
                }
                let by = roleMask(transition.by)
                let allowed = RoleMask(rawValue: key.writers.rawValue | key.initializers.rawValue)
                // A role may write the key itself, or through the role it is an alias of (or that aliases it).
                func mayWrite(_ role: Int) -> Bool {
                    allowed.contains(role) || roles[role].aliasOf.map { allowed.contains($0) } == true
                        || roles.indices.contains { allowed.contains($0) && roles[$0].aliasOf == role }
                }
                let names = transition.by.map(\.name).filter { name in
                    roles.firstIndex { $0.name == name }.map { !mayWrite($0) } ?? false
                }
                if !names.isEmpty {
                    warning(
                        "W0746",
                        "\(names.map { "'\($0)'" }.joined(separator: ", ")) may not write '\(declaration.key)', so this transition can never be taken by it",
                        at: transition.location, hint: "add the role to the key's writers, or drop it from 'by'")
                }
                var compiler = ExpressionCompiler(names: syntaxIndex.names)
                let guardProgram = transition.guardExpression.map {
                    compiler.compile($0, scope: scope, reservedLocals: key.indices.count)
                }
                diagnostics += compiler.diagnostics
                machines[machineIndex].transitions.append(
                    ProtocolModel.Transition(
                        from: stateMask(transition.from), to: to, by: by, guardProgram: guardProgram, obligation: nil,
                        note: transition.note, origin: transition.location.origin))
                syntaxIndex.keyMachineGuards[machineIndex].append(transition.guardExpression)
                syntaxIndex.keyMachineGuardKeys[machineIndex].append(guardProgram == nil ? [] : compiler.referencedKeys)
                syntaxIndex.keyMachineTransitionLocations[machineIndex].append(transition.location)
            }
        }
        return machines
    }

    // MARK: - Guarantees and expectations

    private mutating func resolveGuarantees() -> [Guarantee] {
        var guarantees: [Guarantee] = []
        for item in items {
            guard case .guarantee(let declaration) = item else { continue }
            var compiler = ExpressionCompiler(names: syntaxIndex.names)
            let kind: Guarantee.Kind
            switch declaration.body {
            case .never(let roleNames, let operations, let paths, let unless):
                var mask = OperationMask(rawValue: 0)
                for operation in operations {
                    switch operation {
                    case .read: mask.rawValue |= OperationMask.read.rawValue
                    case .write: mask.rawValue |= OperationMask.write.rawValue
                    case .mkdir: mask.rawValue |= OperationMask.mkdir.rawValue
                    case .rm: mask.rawValue |= OperationMask.rm.rawValue
                    case .setperms: mask.rawValue |= OperationMask.setPermissions.rawValue
                    case .watch: mask.rawValue |= OperationMask.watch.rawValue
                    }
                }
                let globs = paths.compactMap { path -> PathGlob? in
                    guard let directory = syntaxIndex.names.directories[path.directory.name] else {
                        error(
                            "E0734", "unknown directory '\(path.directory.name)'", at: path.directory.location,
                            hint: NameSuggestion.hint(for: path.directory.name, in: syntaxIndex.names.directories.keys))
                        return nil
                    }
                    return PathGlob(
                        directory: directory,
                        segments: (path.segments ?? []).map { segment in
                            if segment == "**" { return .anyDepth }
                            if segment == "*" || segment.contains("{") { return .any }
                            return .literal(segment)
                        })
                }
                kind = .never(roles: roleMask(roleNames), operations: mask, paths: globs, unless: unless.map { compiler.compile($0) })
            case .always(let expression):
                kind = .always(compiler.compile(expression))
            }
            diagnostics += compiler.diagnostics
            guarantees.removeAll { $0.name == declaration.name.name }
            guarantees.append(
                Guarantee(
                    name: declaration.name.name, kind: kind, blame: blame(declaration.blame), origin: declaration.name.location.origin))
        }
        return guarantees
    }

    private mutating func blame(_ blame: ProtocolSyntax.Blame) -> ProtocolModel.Blame {
        switch blame {
        case .writer: return .writer
        case .turn: return .turn
        case .role(let name): return role(name).map { .role($0) } ?? .writer
        }
    }

    private mutating func resolveExpectations() -> [ProtocolModel.Expectation] {
        var expectations: [ProtocolModel.Expectation] = []
        for item in items {
            guard case .expectation(let declaration) = item else { continue }
            var compiler = ExpressionCompiler(names: syntaxIndex.names)
            let condition = compiler.compile(declaration.condition)
            let trigger = compiler.compile(declaration.trigger)
            diagnostics += compiler.diagnostics
            syntaxIndex.expectationConditions.append(declaration.condition)
            syntaxIndex.expectationTriggers.append(declaration.trigger)
            expectations.append(
                ProtocolModel.Expectation(
                    condition: condition, trigger: trigger, milliseconds: declaration.milliseconds, blame: blame(declaration.blame),
                    origin: declaration.location.origin, summary: ExpressionPrinter.print(declaration.condition)))
        }
        return expectations
    }
}
