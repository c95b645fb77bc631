import ProtocolSyntax

/// `unused-predicate`: a `pred` that no expression of the protocol uses.
public struct UnusedPredicateRule: ProtocolLintRule {
    public static let description = RuleDescription(
        id: "unused-predicate", category: .redundancy, defaultSeverity: .warning, subject: .protocolDescription,
        summary: "a predicate that no key, transition, guarantee, expectation or used predicate refers to",
        triggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description([
                    "key fe/ring-ref : u32 writer frontend;", "pred ↓ring = present(fe/ring-ref);",
                ]))
        ],
        nonTriggeringExamples: [
            RuleExample(
                protocolDescription: ExampleProtocol.description(
                    ["key fe/ring-ref : u32 writer frontend;", "pred ring = present(fe/ring-ref);"],
                    frontend: [
                        "Initialising -> Connected by frontend when be.state == Connected requires ring;",
                        "{Initialising, Connected} -> Closed by frontend;",
                    ]))
        ])

    public init() {}

    public func check(_ context: ProtocolLintContext, into sink: inout FindingSink) {
        // A protocol that others extend is a library for them: its predicates are theirs to use.
        guard !context.isExtended else { return }
        var bodies: [String: Expression] = [:]
        var roots: [Expression] = []
        for item in context.items {
            switch item {
            case .predicate(let declaration): bodies[declaration.name.name] = declaration.body
            case .key(let declaration):
                for attribute in declaration.attributes {
                    switch attribute {
                    case .index(_, let range): roots += [range.lower, range.upper]
                    case .condition(let condition): roots.append(condition)
                    default: break
                    }
                }
            case .machine(let machine):
                for transition in machine.transitions {
                    roots += [transition.guardExpression, transition.obligation].compactMap { $0 }
                }
            case .guarantee(let declaration):
                switch declaration.body {
                case .never(_, _, _, let unless): if let unless { roots.append(unless) }
                case .always(let expression): roots.append(expression)
                }
            case .expectation(let expectation): roots += [expectation.condition, expectation.trigger]
            default: break
            }
        }
        // Used: named from the other declarations, or from the body of a used predicate.
        var used = Set<String>()
        var pending = roots
        while let expression = pending.popLast() {
            Self.forEachName(in: expression) { name in
                guard let body = bodies[name], used.insert(name).inserted else { return }
                pending.append(body)
            }
        }
        for item in context.ownItems {
            guard case .predicate(let declaration) = item, !used.contains(declaration.name.name) else { continue }
            sink.report(
                "predicate '\(declaration.name.name)' is never used", at: declaration.name.location,
                hint:
                    "no key, transition, guarantee or expectation refers to it, directly or through another predicate; use it or delete it")
        }
    }

    /// Calls `body` with every name and called function in `expression`.
    static func forEachName(in expression: Expression, _ body: (String) -> Void) {
        switch expression {
        case .integer, .string, .key: return
        case .name(let name): body(name.name)
        case .set(let elements, _): for element in elements { forEachName(in: element, body) }
        case .call(let name, let arguments):
            body(name.name)
            for argument in arguments { forEachName(in: argument, body) }
        case .forall(_, let range, let inner):
            forEachName(in: range.lower, body)
            forEachName(in: range.upper, body)
            forEachName(in: inner, body)
        case .conditional(let condition, let then, let otherwise, _):
            forEachName(in: condition, body)
            forEachName(in: then, body)
            forEachName(in: otherwise, body)
        case .not(let inner, _): forEachName(in: inner, body)
        case .binary(_, let lhs, let rhs), .inSet(let lhs, let rhs):
            forEachName(in: lhs, body)
            forEachName(in: rhs, body)
        case .inRange(let lhs, let range):
            forEachName(in: lhs, body)
            forEachName(in: range.lower, body)
            forEachName(in: range.upper, body)
        }
    }
}
