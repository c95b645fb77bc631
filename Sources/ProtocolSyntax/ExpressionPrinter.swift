/// Prints expressions back as source text, fully parenthesised only where precedence needs it.
public enum ExpressionPrinter {
    public static func print(_ expression: Expression) -> String { text(expression, 0) }

    private static func precedence(_ operation: Expression.BinaryOperator) -> Int {
        switch operation {
        case .implies: 1
        case .or: 2
        case .and: 3
        case .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual: 5
        case .add, .subtract: 6
        case .multiply, .remainder, .shiftLeft: 7
        }
    }

    private static func text(_ expression: Expression, _ context: Int) -> String {
        switch expression {
        case .integer(let value, _): return String(value)
        case .string(let value, _): return "\"\(value)\""
        case .name(let name): return name.name
        case .key(let key): return key.description
        case .set(let elements, _): return "{" + elements.map { text($0, 0) }.joined(separator: ", ") + "}"
        case .call(let name, let arguments): return name.name + "(" + arguments.map { text($0, 0) }.joined(separator: ", ") + ")"
        case .forall(let variable, let range, let body):
            return wrap("forall \(variable.name) in \(rangeText(range)) : \(text(body, 0))", context > 0)
        case .conditional(let condition, let then, let otherwise, _):
            return wrap("if \(text(condition, 0)) then \(text(then, 0)) else \(text(otherwise, 0))", context > 0)
        case .not(let operand, _): return "!" + text(operand, 8)
        case .binary(let operation, let lhs, let rhs):
            let own = precedence(operation)
            return wrap("\(text(lhs, own)) \(operation.rawValue) \(text(rhs, own + 1))", own < context)
        case .inRange(let value, let range): return wrap("\(text(value, 6)) in \(rangeText(range))", context > 5)
        case .inSet(let value, let set): return wrap("\(text(value, 6)) in \(text(set, 6))", context > 5)
        }
    }

    private static func rangeText(_ range: RangeExpression) -> String { "[\(text(range.lower, 0)) .. \(text(range.upper, 0)))" }

    private static func wrap(_ text: String, _ needed: Bool) -> String { needed ? "(\(text))" : text }
}
