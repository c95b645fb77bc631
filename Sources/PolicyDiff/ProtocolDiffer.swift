import PolicyDiagnostics
import PolicyModel
import ProtocolModel

/// Compares two sets of checked protocol descriptions (`.xpd`): protocols by name, and in each
/// protocol roles, directories, keys, transitions, guarantees, expectations, options and labels,
/// all matched by name or by content (never by position), and what widens.
///
/// Expressions (guards, obligations, conditions, index bounds, `unless`, `always`, expectations) are
/// compared as compiled programs with directory, parameter and role indices replaced by names, so a
/// reordered or reformatted description shows no change; a transition's guard is shown by its
/// printed text when the checker gave it.
public struct ProtocolDiffer: Sendable {
    /// One side of the comparison.
    public struct Input: Sendable {
        /// The protocols the input defines (not those only imported).
        public var definitions: [ProtocolDefinition]
        /// The printed guards per definition, machine and transition (`ProtocolChecker`'s `guardTexts`).
        public var guardTexts: [[[String?]]]
        /// The input as the user named it.
        public var displayName: String
        /// File names in origins to show as another name (a file read from git into a temporary file).
        public var fileAliases: [String: String]
        /// Whether the input is a compiled rule table (`.xsrt`) rather than a description.
        public var isRuleTable: Bool

        public init(
            definitions: [ProtocolDefinition], guardTexts: [[[String?]]] = [], displayName: String, fileAliases: [String: String] = [:],
            isRuleTable: Bool = false
        ) {
            self.definitions = definitions
            self.guardTexts = guardTexts
            self.displayName = displayName
            self.fileAliases = fileAliases
            self.isRuleTable = isRuleTable
        }
    }

    public init() {}

    /// Compares `old` with `new`.
    public func diff(old: Input, new: Input) -> PolicyDiffReport {
        var changes: [PolicyChange] = []
        var widenings: [ProtocolWidening] = []
        let oldByName = Dictionary(old.definitions.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newByName = Dictionary(new.definitions.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (name, index) in oldByName where newByName[name] == nil {
            let definition = old.definitions[index]
            changes.append(
                PolicyChange(
                    .protocol, .removed, name: name, location: location(definition.origin, old), protocolName: name))
        }
        for (name, newIndex) in newByName {
            let definition = new.definitions[newIndex]
            guard let oldIndex = oldByName[name] else {
                changes.append(
                    PolicyChange(.protocol, .added, name: name, location: location(definition.origin, new), protocolName: name))
                continue
            }
            var comparison = Comparison(
                old: View(old.definitions[oldIndex], guards: guards(old, oldIndex)),
                new: View(definition, guards: guards(new, newIndex)),
                oldInput: old, newInput: new)
            comparison.run()
            changes += comparison.changes
            widenings += comparison.widenings
        }
        changes.sort(by: PolicyChange.precedes)
        widenings.sort(by: ProtocolWidening.precedes)
        return PolicyDiffReport(
            old: Self.side(old), new: Self.side(new), target: .xen41, changes: changes, effects: PolicyEffects(), diagnostics: [],
            protocolWidenings: widenings)
    }

    private func guards(_ input: Input, _ index: Int) -> [[String?]] {
        index < input.guardTexts.count ? input.guardTexts[index] : []
    }

    private static func side(_ input: Input) -> PolicyDiffReport.Side {
        PolicyDiffReport.Side(
            displayName: input.displayName, generation: .xen41, policyName: nil, version: nil, isBlob: input.isRuleTable,
            protocols: input.definitions.map(\.name).sorted(by: codePointPrecedes))
    }
}

private func location(_ origin: Origin, _ input: ProtocolDiffer.Input) -> SourceLocation {
    SourceLocation(file: input.fileAliases[origin.file] ?? origin.file, line: origin.line, column: origin.column)
}

/// A definition with its names, for writing its elements without indices.
private struct View {
    var definition: ProtocolDefinition
    var guards: [[String?]]

    init(_ definition: ProtocolDefinition, guards: [[String?]]) {
        self.definition = definition
        self.guards = guards
    }

    func roles(_ mask: RoleMask) -> [String] { definition.roleNames(mask).sorted(by: codePointPrecedes) }
    func role(_ index: Int) -> String { index < definition.roles.count ? definition.roles[index].name : "#\(index)" }
    func directory(_ index: Int) -> String {
        index < definition.directories.count ? definition.directories[index].name : "#\(index)"
    }
    func parameter(_ index: Int) -> String { index < definition.parameters.count ? definition.parameters[index] : "#\(index)" }

    func states(_ mask: StateMask) -> [String] {
        if mask == .all { return ["*"] }
        return (0..<32).filter { mask.contains($0) }.map { definition.stateName($0) }
    }

    /// `fe/ring-ref{i}`, or `fe.state` for a state key.
    func keyName(_ key: Key) -> String {
        key.isState ? "\(directory(key.pattern.directory)).state" : pattern(key.pattern)
    }

    func pattern(_ pattern: KeyPattern) -> String {
        pattern.segments.isEmpty ? directory(pattern.directory) : "\(directory(pattern.directory))/\(pattern)"
    }

    func principal(_ role: Role) -> String {
        if let alias = role.aliasOf { return self.role(alias) }
        switch role.principal {
        case .parameter(let index): return "domain(\(parameter(index)))"
        case .privileged: return "privileged"
        }
    }

    func template(_ directory: Directory) -> String {
        directory.segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter(let index): "{\(parameter(index))}"
            case .alternatives(let names): "{" + names.joined(separator: "|") + "}"
            }
        }.joined(separator: "/")
    }

    func type(_ type: ValueType) -> String {
        switch type {
        case .unsigned(let lower, let upper): "uint [\(lower) .. \(upper))"
        case .string(let pattern): pattern.map { "string ~ \"\($0)\"" } ?? "string"
        case .literals(let values): values.map { "\"\($0)\"" }.joined(separator: " | ")
        case .state: "state"
        }
    }

    func blame(_ blame: Blame) -> String {
        switch blame {
        case .role(let index): role(index)
        case .writer: "writer"
        case .turn: "turn"
        }
    }

    /// A program with indices replaced by names: equal texts mean the same compiled expression.
    func program(_ program: Program?) -> String {
        guard let program else { return "" }
        return program.instructions.map { instruction -> String in
            switch instruction {
            case .boolean(let value): "\(value)"
            case .integer(let value): "#\(value)"
            case .string(let value): "\"\(value)\""
            case .parameter(let index): "param(\(parameter(index)))"
            case .value(let key): "value(\(self.pattern(key)))"
            case .present(let key): "present(\(self.pattern(key)))"
            case .number(let key, let hasDefault): "number(\(self.pattern(key)),\(hasDefault))"
            case .state(let index): "state(\(directory(index)))"
            case .seen(let index, let state): "seen(\(directory(index)),\(state))"
            case .makeSet(let count): "set(\(count))"
            case .member: "member"
            case .inRange: "in"
            case .binary(let operation): "\(operation)"
            case .not: "not"
            case .powerOfTwo: "pow2"
            case .store(let slot): "store(\(slot))"
            case .load(let slot): "load(\(slot))"
            case .jump(let target): "jump(\(target))"
            case .jumpIfFalse(let target): "jf(\(target))"
            case .pop: "pop"
            }
        }.joined(separator: " ")
    }

    func glob(_ glob: PathGlob) -> String {
        ([directory(glob.directory)]
            + glob.segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .any: "*"
                case .anyDepth: "**"
                }
            }).joined(separator: "/")
    }

    func operations(_ mask: OperationMask) -> [String] {
        let names: [(OperationMask, String)] = [
            (.read, "read"), (.write, "write"), (.mkdir, "mkdir"), (.rm, "rm"), (.setPermissions, "setperms"), (.watch, "watch"),
        ]
        return names.filter { mask.contains($0.0) }.map(\.1)
    }

    /// `fe.state {Initialising, InitWait} -> Connected by {frontend}`.
    func transitionName(_ machine: Machine, _ transition: Transition, keyMachine: Bool = false) -> String {
        let key =
            keyMachine && definition.keys.indices.contains(machine.key)
            ? "\(directory(machine.directory))/\(definition.keys[machine.key].pattern)" : "\(directory(machine.directory)).state"
        return "\(key) {\(states(transition.from).joined(separator: ", "))} -> "
            + "\(definition.stateName(transition.to)) by {\(roles(transition.by).joined(separator: ", "))}"
    }

    func guardText(machine: Int, transition: Int) -> String? {
        machine < guards.count && transition < guards[machine].count ? guards[machine][transition] : nil
    }
}

/// The comparison of one protocol present on both sides.
private struct Comparison {
    var old: View
    var new: View
    var oldInput: ProtocolDiffer.Input
    var newInput: ProtocolDiffer.Input
    var changes: [PolicyChange] = []
    var widenings: [ProtocolWidening] = []

    var name: String { new.definition.name }

    init(old: View, new: View, oldInput: ProtocolDiffer.Input, newInput: ProtocolDiffer.Input) {
        self.old = old
        self.new = new
        self.oldInput = oldInput
        self.newInput = newInput
    }

    mutating func run() {
        compareRoles()
        compareDirectories()
        compareKeys()
        compareTransitions()
        compareGuarantees()
        compareExpectations()
        compareOptions()
        compareLabels()
        compareTurns()
    }

    private mutating func add(
        _ category: PolicyChange.Category, _ kind: PolicyChange.Kind, _ element: String, attribute: String? = nil,
        old oldValue: PolicyChange.Value? = nil, new newValue: PolicyChange.Value? = nil, at origin: Origin?, inNew: Bool = true,
        hint: String? = nil
    ) {
        let changeLocation = origin.map { location($0, inNew ? newInput : oldInput) }
        changes.append(
            PolicyChange(
                category, kind, name: element, oldValue: oldValue, newValue: newValue, location: changeLocation, hint: hint,
                protocolName: name, attribute: attribute))
    }

    private mutating func widen(_ kind: ProtocolWidening.Kind, _ subject: String, _ detail: String) {
        widenings.append(ProtocolWidening(protocolName: name, kind: kind, subject: subject, detail: detail))
    }

    /// Compares `old` and `new` elements matched by `key`: removed, added, and `changed` for pairs.
    private mutating func match<Element>(
        _ oldElements: [Element], _ newElements: [Element], key: (View, Element) -> String,
        removed: (inout Comparison, String, Element) -> Void, added: (inout Comparison, String, Element) -> Void,
        both: (inout Comparison, String, Element, Element) -> Void
    ) {
        var oldByKey: [String: Element] = [:]
        for element in oldElements where oldByKey[key(old, element)] == nil { oldByKey[key(old, element)] = element }
        var newByKey: [String: Element] = [:]
        for element in newElements where newByKey[key(new, element)] == nil { newByKey[key(new, element)] = element }
        for (name, element) in oldByKey where newByKey[name] == nil { removed(&self, name, element) }
        for (name, element) in newByKey {
            if let before = oldByKey[name] { both(&self, name, before, element) } else { added(&self, name, element) }
        }
    }

    // MARK: Roles and directories

    private mutating func compareRoles() {
        match(
            old.definition.roles, new.definition.roles, key: { $1.name },
            removed: { $0.add(.protocolRole, .removed, $1, old: .text($0.old.principal($2)), at: nil) },
            added: { $0.add(.protocolRole, .added, $1, new: .text($0.new.principal($2)), at: nil) },
            both: { comparison, name, before, after in
                let a = comparison.old.principal(before)
                let b = comparison.new.principal(after)
                if a != b { comparison.add(.protocolRole, .changed, name, attribute: "principal", old: .text(a), new: .text(b), at: nil) }
            })
    }

    private mutating func compareDirectories() {
        match(
            old.definition.directories, new.definition.directories, key: { $1.name },
            removed: { $0.add(.protocolDirectory, .removed, $1, old: .text($0.old.template($2)), at: $2.origin, inNew: false) },
            added: { $0.add(.protocolDirectory, .added, $1, new: .text($0.new.template($2)), at: $2.origin) },
            both: { comparison, name, before, after in
                let (o, n) = (comparison.old, comparison.new)
                if o.template(before) != n.template(after) {
                    comparison.add(
                        .protocolDirectory, .changed, name, attribute: "template", old: .text(o.template(before)),
                        new: .text(n.template(after)), at: after.origin)
                }
                if o.role(before.owner) != n.role(after.owner) {
                    comparison.add(
                        .protocolDirectory, .changed, name, attribute: "owner", old: .text(o.role(before.owner)),
                        new: .text(n.role(after.owner)), at: after.origin)
                }
                let readersBefore = before.readers.map(o.role).sorted(by: codePointPrecedes)
                let readersAfter = after.readers.map(n.role).sorted(by: codePointPrecedes)
                if readersBefore != readersAfter {
                    comparison.add(
                        .protocolDirectory, .changed, name, attribute: "readers", old: .types(readersBefore),
                        new: .types(readersAfter), at: after.origin)
                }
            })
    }

    // MARK: Keys

    private mutating func compareKeys() {
        match(
            old.definition.keys, new.definition.keys, key: { $0.keyName($1) },
            removed: { $0.add(.protocolKey, .removed, $1, old: .text($0.old.type($2.type)), at: $2.origin, inNew: false) },
            added: { comparison, name, key in
                comparison.add(.protocolKey, .added, name, new: .text(comparison.new.type(key.type)), at: key.origin)
                let writers = comparison.new.roles(key.writers)
                if !writers.isEmpty {
                    comparison.widen(.writerGained, name, "new key, writers " + writers.joined(separator: ", "))
                }
                let initializers = comparison.new.roles(key.initializers)
                if !initializers.isEmpty {
                    comparison.widen(.initializerGained, name, "new key, initialisers " + initializers.joined(separator: ", "))
                }
            },
            both: { $0.compareKey($1, $2, $3) })
    }

    private mutating func compareKey(_ name: String, _ before: Key, _ after: Key) {
        let (o, n) = (old, new)
        func attribute(_ attribute: String, _ a: PolicyChange.Value, _ b: PolicyChange.Value) {
            if a != b { add(.protocolKey, .changed, name, attribute: attribute, old: a, new: b, at: after.origin) }
        }
        attribute("type", .text(o.type(before.type)), .text(n.type(after.type)))
        let writersBefore = o.roles(before.writers)
        let writersAfter = n.roles(after.writers)
        attribute("writers", .types(writersBefore), .types(writersAfter))
        let writersGained = writersAfter.filter { !writersBefore.contains($0) }
        if !writersGained.isEmpty { widen(.writerGained, name, "writers gained " + writersGained.joined(separator: ", ")) }
        let initializersBefore = o.roles(before.initializers)
        let initializersAfter = n.roles(after.initializers)
        attribute("initialisers", .types(initializersBefore), .types(initializersAfter))
        let initializersGained = initializersAfter.filter { !initializersBefore.contains($0) }
        if !initializersGained.isEmpty {
            widen(.initializerGained, name, "initialisers gained " + initializersGained.joined(separator: ", "))
        }
        attribute("initial_value", .text(before.initialValue ?? "-"), .text(after.initialValue ?? "-"))
        let phaseBefore = before.phase.map(o.states) ?? ["*"]
        let phaseAfter = after.phase.map(n.states) ?? ["*"]
        attribute("phase", .types(phaseBefore), .types(phaseAfter))
        if let oldPhase = before.phase, after.phase.map({ $0.rawValue & ~oldPhase.rawValue != 0 }) ?? true {
            let detail =
                after.phase == nil
                ? "phase {\(phaseBefore.joined(separator: ", "))} removed"
                : "phase gained " + n.states(StateMask(rawValue: after.phase!.rawValue & ~oldPhase.rawValue)).joined(separator: ", ")
            widen(.phaseWidened, name, detail)
        }
        let boundsBefore = before.indices.map { "\($0.name) in [\(o.program($0.lower)) .. \(o.program($0.upper)))" }
        let boundsAfter = after.indices.map { "\($0.name) in [\(n.program($0.lower)) .. \(n.program($0.upper)))" }
        if boundsBefore != boundsAfter {
            add(.protocolKey, .changed, name, attribute: "index_bounds", at: after.origin, hint: "the `for` bounds compile differently")
        }
        if o.program(before.condition) != n.program(after.condition) {
            add(
                .protocolKey, .changed, name, attribute: "condition", old: before.condition == nil ? .text("-") : nil,
                new: after.condition == nil ? .text("-") : nil, at: after.origin, hint: "the `if` condition compiles differently")
        }
        attribute("default", .text(before.defaultValue ?? "-"), .text(after.defaultValue ?? "-"))
        attribute("deprecated", .text(String(before.deprecated)), .text(String(after.deprecated)))
    }

    // MARK: Transitions

    private struct TransitionEntry {
        var machine: Machine
        var transition: Transition
        var guardText: String?
        /// The guard and obligation, compiled and named.
        var programs: String
    }

    private func entries(_ view: View) -> [String: [TransitionEntry]] {
        var result: [String: [TransitionEntry]] = [:]
        for (m, machine) in view.definition.machines.enumerated() {
            for (t, transition) in machine.transitions.enumerated() {
                let entry = TransitionEntry(
                    machine: machine, transition: transition, guardText: view.guardText(machine: m, transition: t),
                    programs: view.program(transition.guardProgram) + "\u{1}" + view.program(transition.obligation))
                result[view.transitionName(machine, transition), default: []].append(entry)
            }
        }
        // Key machines (pci's be/state-{n}); their guard texts are not kept, so changes show as compiled.
        for machine in view.definition.keyMachines {
            for transition in machine.transitions {
                let entry = TransitionEntry(
                    machine: machine, transition: transition, guardText: nil,
                    programs: view.program(transition.guardProgram) + "\u{1}" + view.program(transition.obligation))
                result[view.transitionName(machine, transition, keyMachine: true), default: []].append(entry)
            }
        }
        return result
    }

    private mutating func compareTransitions() {
        let before = entries(old)
        let after = entries(new)
        let names = Set(before.keys).union(after.keys).sorted(by: codePointPrecedes)
        for name in names {
            var olds = before[name] ?? []
            var news = after[name] ?? []
            // Identical transitions (same guard and obligation) pair up first.
            for entry in news where olds.contains(where: { $0.programs == entry.programs }) {
                olds.remove(at: olds.firstIndex { $0.programs == entry.programs }!)
                news.remove(at: news.firstIndex { $0.programs == entry.programs }!)
            }
            // Then one-to-one: the same transition with another guard or obligation.
            while let a = olds.first, let b = news.first {
                olds.removeFirst()
                news.removeFirst()
                let o = (old.program(a.transition.guardProgram), old.program(a.transition.obligation))
                let n = (new.program(b.transition.guardProgram), new.program(b.transition.obligation))
                if o.0 != n.0 {
                    add(
                        .protocolTransition, .changed, name, attribute: "guard", old: .text(a.guardText ?? (o.0.isEmpty ? "-" : "?")),
                        new: .text(b.guardText ?? (n.0.isEmpty ? "-" : "?")), at: b.transition.origin)
                    if n.0.isEmpty { widen(.guardRemoved, name, "guard \(a.guardText ?? "") removed") }
                }
                if o.1 != n.1 {
                    add(
                        .protocolTransition, .changed, name, attribute: "obligation",
                        old: o.1.isEmpty ? .text("-") : nil, new: n.1.isEmpty ? .text("-") : nil, at: b.transition.origin,
                        hint: "the `requires` obligation compiles differently")
                }
            }
            for entry in olds {
                add(
                    .protocolTransition, .removed, name, old: entry.guardText.map { .text("when " + $0) }, at: entry.transition.origin,
                    inNew: false)
            }
            for entry in news {
                add(.protocolTransition, .added, name, new: entry.guardText.map { .text("when " + $0) }, at: entry.transition.origin)
                widen(.transitionAdded, name, entry.guardText.map { "new transition when \($0)" } ?? "new transition")
            }
        }
    }

    // MARK: Guarantees and expectations

    private func describe(_ view: View, _ guarantee: Guarantee) -> String {
        switch guarantee.kind {
        case .never(let roles, let operations, let paths, let unless):
            "never {\(view.roles(roles).joined(separator: ", "))} {\(view.operations(operations).joined(separator: ", "))} on "
                + "{\(paths.map(view.glob).sorted(by: codePointPrecedes).joined(separator: ", "))}"
                + (unless == nil ? "" : " unless ...") + " blame \(view.blame(guarantee.blame))"
        case .always: "always ... blame \(view.blame(guarantee.blame))"
        }
    }

    private mutating func compareGuarantees() {
        match(
            old.definition.guarantees, new.definition.guarantees, key: { $1.name },
            removed: { comparison, name, guarantee in
                comparison.add(
                    .protocolGuarantee, .removed, name, old: .text(comparison.describe(comparison.old, guarantee)), at: guarantee.origin,
                    inNew: false)
                comparison.widen(.guaranteeRemoved, name, "guarantee removed")
            },
            added: { $0.add(.protocolGuarantee, .added, $1, new: .text($0.describe($0.new, $2)), at: $2.origin) },
            both: { $0.compareGuarantee($1, $2, $3) })
    }

    private mutating func compareGuarantee(_ name: String, _ before: Guarantee, _ after: Guarantee) {
        let (o, n) = (old, new)
        let a = describe(o, before)
        let b = describe(n, after)
        var weakened: [String] = []
        var programsDiffer = false
        switch (before.kind, after.kind) {
        case (.never(let rolesA, let opsA, let pathsA, let unlessA), .never(let rolesB, let opsB, let pathsB, let unlessB)):
            let lostRoles = o.roles(rolesA).filter { !n.roles(rolesB).contains($0) }
            if !lostRoles.isEmpty { weakened.append("roles lost " + lostRoles.joined(separator: ", ")) }
            let lostOps = o.operations(opsA).filter { !n.operations(opsB).contains($0) }
            if !lostOps.isEmpty { weakened.append("operations lost " + lostOps.joined(separator: ", ")) }
            let globsB = pathsB.map(n.glob)
            let lostPaths = pathsA.map(o.glob).filter { !globsB.contains($0) }
            if !lostPaths.isEmpty { weakened.append("paths lost " + lostPaths.joined(separator: ", ")) }
            if o.program(unlessA) != n.program(unlessB) {
                programsDiffer = true
                if unlessB != nil { weakened.append(unlessA == nil ? "unless added" : "unless changed") }
            }
        case (.always(let programA), .always(let programB)):
            programsDiffer = o.program(programA) != n.program(programB)
        default:
            weakened.append("changed between never and always")
        }
        guard a != b || programsDiffer else { return }
        add(
            .protocolGuarantee, .changed, name, old: .text(a), new: .text(b), at: after.origin,
            hint: programsDiffer ? "a condition compiles differently" : nil)
        if !weakened.isEmpty { widen(.guaranteeWeakened, name, weakened.joined(separator: "; ")) }
    }

    private mutating func compareExpectations() {
        match(
            old.definition.expectations, new.definition.expectations,
            key: { view, expectation in view.program(expectation.condition) + "\u{1}" + view.program(expectation.trigger) },
            removed: { comparison, _, expectation in
                comparison.add(.protocolExpectation, .removed, expectation.summary, at: expectation.origin, inNew: false)
                comparison.widen(.expectationRemoved, expectation.summary, "expectation removed")
            },
            added: { $0.add(.protocolExpectation, .added, $2.summary, at: $2.origin) },
            both: { comparison, _, before, after in
                if before.milliseconds != after.milliseconds {
                    comparison.add(
                        .protocolExpectation, .changed, after.summary, attribute: "timeout", old: .text("\(before.milliseconds) ms"),
                        new: .text("\(after.milliseconds) ms"), at: after.origin)
                    if after.milliseconds > before.milliseconds {
                        comparison.widen(
                            .timeoutIncreased, after.summary, "timeout \(before.milliseconds) ms -> \(after.milliseconds) ms")
                    }
                }
                let a = comparison.old.blame(before.blame)
                let b = comparison.new.blame(after.blame)
                if a != b {
                    comparison.add(
                        .protocolExpectation, .changed, after.summary, attribute: "blame", old: .text(a), new: .text(b), at: after.origin)
                }
            })
    }

    // MARK: Options and labels

    private mutating func compareOptions() {
        let a = old.definition.unknownKeys
        let b = new.definition.unknownKeys
        guard a != b else { return }
        add(.protocolOption, .changed, "unknown_keys", old: .text(a.rawValue), new: .text(b.rawValue), at: nil)
        let order: [UnknownKeyPolicy] = [.deny, .audit, .allow]
        if order.firstIndex(of: b)! > order.firstIndex(of: a)! {
            widen(.unknownKeysRelaxed, "unknown_keys", "\(a.rawValue) -> \(b.rawValue)")
        }
    }

    private mutating func compareLabels() {
        func table(_ view: View) -> [String: [String]] {
            var result: [String: [String]] = [:]
            for entry in view.definition.labels { result[view.role(entry.role), default: []] += entry.labels }
            return result.mapValues { Array(Set($0)).sorted(by: codePointPrecedes) }
        }
        let before = table(old)
        let after = table(new)
        for role in Set(before.keys).union(after.keys).sorted(by: codePointPrecedes) {
            switch (before[role], after[role]) {
            case (let a?, nil):
                add(.protocolLabels, .removed, role, old: .types(a), at: nil)
                widen(.labelsWidened, role, "labels restriction removed: any VM label may act as \(role)")
            case (nil, let b?):
                add(.protocolLabels, .added, role, new: .types(b), at: nil)
            case (let a?, let b?) where a != b:
                add(.protocolLabels, .changed, role, old: .types(a), new: .types(b), at: nil)
                let gained = b.filter { !a.contains($0) }
                if !gained.isEmpty { widen(.labelsWidened, role, "labels gained " + gained.joined(separator: ", ")) }
            default:
                break
            }
        }
    }

    // MARK: Turn table

    /// Whose turn it is in each global state, as `xen-policy inspect` prints a state's rows:
    /// `if CONDITION: roles; ...; otherwise: roles`, and the same rows with the conditions compiled,
    /// which is what is compared (a condition written differently but compiling the same is no change).
    /// The table is derived from the machines, guards and expectations, so comparing it shows what a
    /// change of those does to `blame turn`.
    private func turnRows(_ view: View) -> [String: (shown: String, compared: String)] {
        let definition = view.definition
        var rows: [String: [Turn]] = [:]
        for turn in definition.turns {
            rows["(\(definition.stateName(turn.frontendState)), \(definition.stateName(turn.backendState)))", default: []].append(turn)
        }
        return rows.mapValues { turns in
            var shown: [String] = []
            var compared: [String] = []
            for turn in turns {
                let roles = view.roles(turn.roles)
                let who = roles.isEmpty ? "nobody" : roles.joined(separator: ", ")
                if let condition = turn.condition {
                    shown.append("if \(condition.text): \(who)")
                    compared.append(view.program(condition.program) + "\u{1}" + who)
                } else {
                    shown.append(turns.count > 1 ? "otherwise: \(who)" : who)
                    compared.append(who)
                }
            }
            return (shown.joined(separator: "; "), compared.joined(separator: "\u{2}"))
        }
    }

    private mutating func compareTurns() {
        let before = turnRows(old)
        let after = turnRows(new)
        for state in Set(before.keys).union(after.keys).sorted(by: codePointPrecedes) {
            switch (before[state], after[state]) {
            case (let a?, nil): add(.protocolTurn, .removed, state, old: .text(a.shown), at: nil)
            case (nil, let b?): add(.protocolTurn, .added, state, new: .text(b.shown), at: nil)
            case (let a?, let b?) where a.compared != b.compared:
                add(.protocolTurn, .changed, state, attribute: "whose_turn", old: .text(a.shown), new: .text(b.shown), at: nil)
            default: break
            }
        }
    }
}
