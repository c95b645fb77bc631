import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// `deprecated-key-required`: a transition's obligation or an expectation's condition that holds
/// only if a deprecated key is present, so drivers must keep writing it.
public struct DeprecatedKeyRequiredRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "deprecated-key-required", category: .correctness, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "an obligation or expectation that requires a deprecated key to be present",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    [
                        "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                        "key fe/num-ring-pages : u32 writer frontend phase {Initialising} deprecated;",
                        "pred ring = present(fe/ring-ref) && present(fe/num-ring-pages);",
                    ],
                    frontend: [
                        "↓Initialising -> Connected by frontend when be.state == Connected requires ring;",
                        "{Initialising, Connected} -> Closed by frontend;",
                    ],
                    expectations: ExampleProtocol.expectations + [
                        "↓expect !absent(fe/num-ring-pages) within 10s after be.state == Connected blame frontend;"
                    ]))
        ],
        nonTriggeringExamples: [
            // Reading a deprecated key with a default, or allowing it, is how old drivers stay accepted.
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    [
                        "key fe/ring-ref : u32 writer frontend phase {Initialising};",
                        "key fe/num-ring-pages : u32 writer frontend phase {Initialising} deprecated;",
                        "pred ring = present(fe/ring-ref) && val(fe/num-ring-pages, 1) == 1;",
                    ],
                    frontend: [
                        "Initialising -> Connected by frontend when be.state == Connected requires ring;",
                        "{Initialising, Connected} -> Closed by frontend;",
                    ],
                    expectations: ExampleProtocol.expectations + [
                        "expect present(fe/ring-ref) || present(fe/num-ring-pages) within 10s after be.state == Connected blame frontend;"
                    ]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        let definition = context.definition
        var deprecated: [String: Key] = [:]
        for key in definition.keys where key.deprecated { deprecated[ProtocolLintContext.shape(of: key.pattern)] = key }
        guard !deprecated.isEmpty else { return }
        var directories: [String: Int] = [:]
        for (index, directory) in definition.directories.enumerated() { directories[directory.name] = index }
        func report(_ expression: Expression?, what: String, at origin: Origin) {
            guard let expression else { return }
            var walker = RequirementWalker(context: context, directories: directories, deprecated: deprecated)
            let needed = walker.needs(expression, toBe: true, RequirementWalker.Bindings())
            for (key, location) in needed.values.sorted(by: { $0.location < $1.location }) {
                sink.report(
                    "\(what) requires the deprecated key '\(context.name(of: key))' to be present", at: context.location(origin),
                    hint: "drivers that follow the current protocol no longer write it; accept its absence (val(k, default), or "
                        + "an alternative with the key that replaces it)",
                    notes: [DiagnosticNote("required here", at: location)])
            }
        }
        for machine in definition.machines {
            for transition in machine.transitions where transition.obligation != nil {
                report(
                    context.transitions[context.location(transition.origin)]?.obligation, what: "the obligation of this transition",
                    at: transition.origin)
            }
        }
        for expectation in definition.expectations {
            report(
                context.expectations[context.location(expectation.origin)]?.condition, what: "this expectation",
                at: expectation.origin)
        }
    }
}

/// Finds the deprecated keys without which an expression cannot have the value it needs (true for
/// an obligation or an expectation's condition): `present(k)` needed true, `absent(k)` needed false,
/// through `&&`, `||`, `!`, `=>` and `if` (a key both sides of an `||` need is needed; one side of
/// an `&&` suffices). Predicates are expanded (a bounded number of steps, like the analysis), with
/// their directory and key-prefix parameters substituted; comparisons and `forall` need nothing.
struct RequirementWalker {
    /// Predicate parameters bound to a directory or a key prefix (`ring(fe/queue-{q})`), and those
    /// that are plain values.
    struct Bindings {
        var prefixes: [String: (directory: String, segments: [String])] = [:]
        var values: Set<String> = []
    }

    /// Deprecated keys by shape, with where the first reference that needs each is.
    typealias Needs = [String: (key: Key, location: SourceLocation)]

    let context: ProtocolLintContext
    let directories: [String: Int]
    let deprecated: [String: Key]
    private var budget = 100_000

    init(context: ProtocolLintContext, directories: [String: Int], deprecated: [String: Key]) {
        self.context = context
        self.directories = directories
        self.deprecated = deprecated
    }

    /// The deprecated keys `expression` needs present to be `value`.
    mutating func needs(_ expression: Expression, toBe value: Bool, _ bindings: Bindings, depth: Int = 0) -> Needs {
        budget -= 1
        guard budget > 0, depth < 32 else { return [:] }
        switch expression {
        case .integer, .string, .key, .set, .forall, .inRange, .inSet: return [:]
        case .name(let name):
            guard !bindings.values.contains(name.name), bindings.prefixes[name.name] == nil,
                let predicate = context.predicates[name.name], predicate.parameters.isEmpty
            else { return [:] }
            return needs(predicate.body, toBe: value, Bindings(), depth: depth + 1)
        case .call(let name, let arguments):
            switch name.name {
            case "present", "absent":
                // present(k) is true, and absent(k) false, only if k is there.
                guard value == (name.name == "present"), arguments.count == 1, case .key(let reference) = arguments[0],
                    let found = key(reference, bindings)
                else { return [:] }
                return [found.shape: (found.key, reference.location)]
            case "val", "pow2", "seen":
                return [:]
            default:
                guard !bindings.values.contains(name.name), let predicate = context.predicates[name.name],
                    predicate.parameters.count == arguments.count
                else { return [:] }
                var inner = Bindings()
                for (parameter, argument) in zip(predicate.parameters, arguments) {
                    switch argument {
                    case .name(let identifier) where bindings.prefixes[identifier.name] != nil:
                        inner.prefixes[parameter.name] = bindings.prefixes[identifier.name]
                    case .name(let identifier) where directories[identifier.name] != nil && !bindings.values.contains(identifier.name):
                        inner.prefixes[parameter.name] = (identifier.name, [])
                    case .key(let reference) where reference.segments != nil:
                        let outer = bindings.prefixes[reference.directory.name] ?? (reference.directory.name, [])
                        inner.prefixes[parameter.name] = (outer.directory, outer.segments + (reference.segments ?? []))
                    default:
                        inner.values.insert(parameter.name)
                    }
                }
                return needs(predicate.body, toBe: value, inner, depth: depth + 1)
            }
        case .conditional(_, let then, let otherwise, _):
            return both(needs(then, toBe: value, bindings, depth: depth), needs(otherwise, toBe: value, bindings, depth: depth))
        case .not(let operand, _):
            return needs(operand, toBe: !value, bindings, depth: depth)
        case .binary(let operation, let lhs, let rhs):
            switch operation {
            // a && b is true only if both are; a || b is false only if both are.
            case .and, .or:
                let a = needs(lhs, toBe: value, bindings, depth: depth)
                let b = needs(rhs, toBe: value, bindings, depth: depth)
                return (operation == .and) == value ? either(a, b) : both(a, b)
            // a => b is !a || b.
            case .implies:
                let a = needs(lhs, toBe: !value, bindings, depth: depth)
                let b = needs(rhs, toBe: value, bindings, depth: depth)
                return value ? both(a, b) : either(a, b)
            default:
                return [:]
            }
        }
    }

    /// Needed by both alternatives.
    private func both(_ a: Needs, _ b: Needs) -> Needs { a.filter { b[$0.key] != nil } }

    /// Needed by either of two conditions that must both hold.
    private func either(_ a: Needs, _ b: Needs) -> Needs { a.merging(b) { first, _ in first } }

    /// The deprecated key a reference denotes, if it denotes one.
    private func key(_ reference: KeyReference, _ bindings: Bindings) -> (key: Key, shape: String)? {
        guard let written = reference.segments else { return nil }
        let bound = bindings.prefixes[reference.directory.name] ?? (reference.directory.name, [])
        guard let directory = directories[bound.directory] else { return nil }
        let shape = "\(directory):" + (bound.segments + written).map(Self.shape).joined(separator: "/")
        return deprecated[shape].map { ($0, shape) }
    }

    /// `ring-ref{i}` -> `ring-ref{}`.
    private static func shape(_ segment: String) -> String {
        var out = ""
        var inVariable = false
        for character in segment {
            if character == "{" {
                inVariable = true
                out += "{}"
            } else if character == "}" {
                inVariable = false
            } else if !inVariable {
                out.append(character)
            }
        }
        return out
    }
}
