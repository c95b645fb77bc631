import PolicyDiagnostics

/// A recursive-descent parser for `.xpd` with error recovery: a malformed item is reported and
/// skipped up to the next `;` or closing brace, so one run reports every syntax error.
public struct Parser {
    /// Where the tokens come from, one at a time.
    private var lexer: Lexer
    /// The token being looked at, and where the one before it (the last consumed) is.
    private var current: Token
    private var previousLocation: SourceLocation
    /// How many tokens were consumed.
    private var index = 0
    private let file: String
    /// The parser's diagnostics so far, bounded (the lexer keeps its own).
    private var diagnosticSelection: DiagnosticSelection
    /// The extent of every unit, item and transition parsed so far.
    private(set) var spans: [SyntaxSpan] = []

    /// The parser's diagnostics kept so far, in the order reported.
    public var diagnostics: [Diagnostic] { diagnosticSelection.kept }

    /// Parses `source` read from `file`.
    public static func parse(source: [UInt8], file: String) -> (SourceFile, [Diagnostic]) {
        let parsed = parse(source: source, file: file, diagnosticLimit: .max)
        return (parsed.file, parsed.diagnostics.kept)
    }

    /// Parses like `parse(source:file:)`, also keeping the comments and the extent of every unit,
    /// item and transition (for lint suppressions).
    public static func parseWithTrivia(source: [UInt8], file: String) -> (file: SourceFile, diagnostics: [Diagnostic], trivia: SourceTrivia)
    {
        let parsed = parse(source: source, file: file, diagnosticLimit: .max)
        return (parsed.file, parsed.diagnostics.kept, parsed.trivia)
    }

    /// A parsed file with its diagnostics and trivia.
    public struct Parsed: Sendable {
        public var file: SourceFile
        /// The lexer's diagnostics, then the parser's, as reported.
        public var diagnostics: DiagnosticSelection
        public var trivia: SourceTrivia
    }

    /// Parses `source` read from `file`, keeping at most `diagnosticLimit` diagnostics and counting
    /// the rest, so that a file of junk does not hold one diagnostic per stray byte or token in memory.
    public static func parse(source: [UInt8], file: String, diagnosticLimit: Int) -> Parsed {
        var parser = Parser(lexer: Lexer(source: source, file: file, diagnosticLimit: diagnosticLimit), file: file)
        let syntax = parser.parseFile()
        // The lexer's first, as when the whole file was lexed before parsing.
        var diagnostics = parser.lexer.diagnosticSelection
        diagnostics.append(contentsOf: parser.diagnosticSelection)
        return Parsed(file: syntax, diagnostics: diagnostics, trivia: SourceTrivia(comments: parser.lexer.comments, spans: parser.spans))
    }

    init(lexer: Lexer, file: String) {
        self.lexer = lexer
        self.current = self.lexer.nextToken()
        self.previousLocation = current.location
        self.file = file
        self.diagnosticSelection = DiagnosticSelection(limit: lexer.diagnosticSelection.limit)
    }

    /// Thrown to abandon the current item; the caller recovers at the next `;` or `}`.
    struct Abandon: Error {}

    // MARK: - Token access

    private mutating func span(_ kind: SyntaxSpan.Kind, from start: SourceLocation, _ summary: String) {
        spans.append(SyntaxSpan(kind: kind, start: start, end: previousLocation, summary: summary))
    }

    /// Consumes the current token; at the end of the file, stays there.
    private mutating func advance() -> Token {
        let token = current
        if token.kind != .endOfFile {
            previousLocation = token.location
            current = lexer.nextToken()
            index += 1
        }
        return token
    }

    private func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol(symbol) }

    private func isKeyword(_ word: String) -> Bool { current.kind == .identifier(word) }

    private mutating func consume(symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        _ = advance()
        return true
    }

    private mutating func consume(keyword: String) -> Bool {
        guard isKeyword(keyword) else { return false }
        _ = advance()
        return true
    }

    private mutating func fail(_ expected: String) -> Abandon {
        diagnosticSelection.append(.error("E0710", "expected \(expected), found \(current.spelling)", at: current.location))
        return Abandon()
    }

    private mutating func expect(symbol: String) throws(Abandon) {
        guard consume(symbol: symbol) else { throw fail("'\(symbol)'") }
    }

    private mutating func expect(keyword: String) throws(Abandon) {
        guard consume(keyword: keyword) else { throw fail("'\(keyword)'") }
    }

    /// Words with a fixed meaning; they cannot name roles, keys or states.
    static let reserved: Set<String> = [
        "import", "library", "protocol", "extends", "params", "role", "type", "enum", "dir", "key", "pred", "machine",
        "guarantee", "expect", "option", "labels", "domain", "privileged", "uint", "string", "owner", "readers", "init",
        "writer", "phase", "for", "in", "if", "then", "else", "default", "deprecated", "link", "by", "when", "requires", "note",
        "never", "always", "on", "unless", "within", "after", "blame", "turn", "forall", "read", "write", "mkdir", "rm",
        "setperms", "watch",
    ]

    private mutating func identifier(_ what: String) throws(Abandon) -> Identifier {
        guard case .identifier(let name) = current.kind, !Self.reserved.contains(name) else { throw fail(what) }
        return Identifier(name, at: advance().location)
    }

    private mutating func string(_ what: String) throws(Abandon) -> (String, SourceLocation) {
        guard case .string(let value) = current.kind else { throw fail(what) }
        return (value, advance().location)
    }

    private mutating func integer(_ what: String) throws(Abandon) -> Int128 {
        guard case .integer(let value) = current.kind else { throw fail(what) }
        _ = advance()
        return value
    }

    /// Skips to just after the next `;` at this nesting level, or to a `}` that closes the enclosing block.
    private mutating func recover() {
        var depth = 0
        while current.kind != .endOfFile {
            if isSymbol("{") || isSymbol("(") || isSymbol("[") {
                depth += 1
            } else if isSymbol("}") || isSymbol(")") || isSymbol("]") {
                // Only a brace closes the enclosing block; a stray ')' or ']' is skipped (stopping
                // at it would parse the same token again, forever).
                if depth == 0 {
                    if isSymbol("}") { return }
                } else {
                    depth -= 1
                }
            } else if isSymbol(";"), depth == 0 {
                _ = advance()
                return
            }
            _ = advance()
        }
    }

    /// The declaration keywords: what an item of a library or protocol starts with.
    static let declarationKeywords: Set<String> = [
        "params", "role", "type", "enum", "dir", "key", "pred", "machine", "guarantee", "expect", "option", "labels",
    ]

    /// Whether the current token can start an item of a library or protocol.
    private var startsDeclaration: Bool {
        guard case .identifier(let word) = current.kind else { return false }
        return Self.declarationKeywords.contains(word)
    }

    /// What the message of a stray token in a library or protocol says was expected (as `item()` would).
    private var strayDeclarationExpectation: String {
        guard case .identifier = current.kind else { return "a declaration" }
        return "a declaration (params, role, type, enum, dir, key, pred, machine, guarantee, expect, option, labels)"
    }

    /// Whether the current token can start a transition of a machine: a state, `{` or `*`.
    private var startsTransition: Bool {
        switch current.kind {
        case .identifier(let name): !Self.reserved.contains(name)
        case .symbol("{"), .symbol("*"): true
        default: false
        }
    }

    /// Skips a run of stray tokens inside a block with one E0710 at its first: pieces (each up to
    /// and including its `;`, as `recover()` skips them) as long as the next one again starts with a
    /// token that cannot start what the block holds, up to the `}` that closes the block. Each piece
    /// was an error of its own, so a protocol body of a megabyte of `;` was a million errors.
    private mutating func skipStrayTokens(expected: String, until starts: (Self) -> Bool) {
        let first = current
        let startIndex = index
        repeat {
            recover()
        } while !isSymbol("}") && current.kind != .endOfFile && !starts(self)
        strayRun(expected: expected, first: first, skipped: index - startIndex)
    }

    /// The one E0710 of a run of `skipped` stray tokens starting with `first`.
    private mutating func strayRun(expected: String, first: Token, skipped: Int) {
        let run = skipped > 1 ? " (\(skipped) stray tokens skipped)" : ""
        diagnosticSelection.append(.error("E0710", "expected \(expected), found \(first.spelling)\(run)", at: first.location))
    }

    // MARK: - Files and units

    mutating func parseFile() -> SourceFile {
        var imports: [Identifier] = []
        var units: [Unit] = []
        while current.kind != .endOfFile {
            do throws(Abandon) {
                if consume(keyword: "import") {
                    imports.append(try identifier("a library name"))
                    try expect(symbol: ";")
                } else if isKeyword("library") || isKeyword("protocol") {
                    units.append(try unit())
                } else {
                    // Nothing else can start here: one error for the run of stray tokens, not one for
                    // each `;`-terminated piece of it (a megabyte of `};` was half a million).
                    let (first, startIndex) = (current, index)
                    skipToTopLevelKeyword()
                    strayRun(expected: "'import', 'library' or 'protocol'", first: first, skipped: index - startIndex)
                }
            } catch {
                recoverAtTopLevel()
            }
        }
        return SourceFile(path: file, imports: imports, units: units)
    }

    /// Skips to the next `import`, `library` or `protocol`, or to the end of the file.
    private mutating func skipToTopLevelKeyword() {
        while current.kind != .endOfFile, !(isKeyword("import") || isKeyword("library") || isKeyword("protocol")) {
            _ = advance()
        }
    }

    /// Skips a malformed import or unit header: to just after the next `;` or the `}` that closes a
    /// block opened here, or to the next `import`, `library` or `protocol`, whichever comes first
    /// (so the following units are still parsed).
    private mutating func recoverAtTopLevel() {
        var depth = 0
        while current.kind != .endOfFile {
            if depth == 0, isKeyword("import") || isKeyword("library") || isKeyword("protocol") { return }
            if isSymbol("{") || isSymbol("(") || isSymbol("[") {
                depth += 1
            } else if isSymbol("}") || isSymbol(")") || isSymbol("]") {
                if depth > 0 { depth -= 1 }
                if depth == 0 && isSymbol("}") {
                    _ = advance()
                    return
                }
            } else if isSymbol(";"), depth == 0 {
                _ = advance()
                return
            }
            _ = advance()
        }
    }

    private mutating func unit() throws(Abandon) -> Unit {
        let start = advance()
        let kind: Unit.Kind = start.kind == .identifier("library") ? .library : .protocol
        let name = try identifier("a \(kind.rawValue) name")
        var extends: Identifier? = nil
        if kind == .protocol, consume(keyword: "extends") {
            extends = try identifier("the name of the library or protocol to extend")
        }
        try expect(symbol: "{")
        var items: [Item] = []
        while !isSymbol("}") && current.kind != .endOfFile {
            guard startsDeclaration else {
                skipStrayTokens(expected: strayDeclarationExpectation) { $0.startsDeclaration }
                continue
            }
            do throws(Abandon) {
                let start = current.location
                let item = try item()
                span(.item, from: start, item.summary)
                items.append(item)
            } catch {
                recover()
            }
        }
        try expect(symbol: "}")
        span(.unit, from: start.location, "\(kind.rawValue) '\(name.name)'")
        return Unit(kind: kind, name: name, extends: extends, items: items, location: start.location)
    }

    // MARK: - Items

    private mutating func item() throws(Abandon) -> Item {
        let start = current.location
        guard case .identifier(let keyword) = current.kind else { throw fail("a declaration") }
        switch keyword {
        case "params":
            _ = advance()
            try expect(symbol: "(")
            var parameters: [Parameter] = []
            repeat {
                let name = try identifier("a parameter name")
                try expect(symbol: ":")
                parameters.append(Parameter(name: name, type: try typeExpression()))
            } while consume(symbol: ",")
            try expect(symbol: ")")
            try expect(symbol: ";")
            return .parameters(parameters, start)
        case "role":
            _ = advance()
            let name = try identifier("a role name")
            try expect(symbol: "=")
            let principal: RoleDeclaration.Principal
            if consume(keyword: "domain") {
                try expect(symbol: "(")
                principal = .domain(try identifier("a parameter name"))
                try expect(symbol: ")")
            } else if consume(keyword: "privileged") {
                principal = .privileged
            } else {
                principal = .alias(try identifier("'domain(param)', 'privileged' or a role name"))
            }
            try expect(symbol: ";")
            return .role(RoleDeclaration(name: name, principal: principal))
        case "type":
            _ = advance()
            let name = try identifier("a type name")
            try expect(symbol: "=")
            let type = try typeExpression()
            try expect(symbol: ";")
            return .typeAlias(name, type)
        case "enum":
            _ = advance()
            let name = try identifier("an enum name")
            try expect(symbol: "{")
            var cases: [(Identifier, Int128)] = []
            repeat {
                let caseName = try identifier("an enum case")
                try expect(symbol: "=")
                cases.append((caseName, try integer("the case's value")))
            } while consume(symbol: ",")
            try expect(symbol: "}")
            _ = consume(symbol: ";")
            return .enumeration(EnumDeclaration(name: name, cases: cases))
        case "dir":
            _ = advance()
            let name = try identifier("a directory name")
            try expect(symbol: "=")
            let (template, templateLocation) = try string("the directory's path template")
            try expect(keyword: "owner")
            let owner = try identifier("the owning role")
            var readers: [Identifier] = []
            if consume(keyword: "readers") {
                repeat { readers.append(try identifier("a role")) } while consume(symbol: ",")
            }
            try expect(symbol: ";")
            return .directory(
                DirectoryDeclaration(name: name, template: template, templateLocation: templateLocation, owner: owner, readers: readers))
        case "key":
            _ = advance()
            let key = try keyReference()
            try expect(symbol: ":")
            let type = try typeExpression()
            var attributes: [KeyDeclaration.Attribute] = []
            while !isSymbol(";") {
                attributes.append(try keyAttribute())
            }
            try expect(symbol: ";")
            return .key(KeyDeclaration(key: key, type: type, attributes: attributes))
        case "pred":
            _ = advance()
            let name = try identifier("a predicate name")
            var parameters: [Identifier] = []
            if consume(symbol: "(") {
                repeat { parameters.append(try identifier("a parameter")) } while consume(symbol: ",")
                try expect(symbol: ")")
            }
            try expect(symbol: "=")
            let body = try expression()
            try expect(symbol: ";")
            return .predicate(PredicateDeclaration(name: name, parameters: parameters, body: body))
        case "machine":
            _ = advance()
            let key = try keyReference()
            try expect(symbol: "{")
            var transitions: [Transition] = []
            while !isSymbol("}") && current.kind != .endOfFile {
                guard startsTransition else {
                    skipStrayTokens(expected: "a state, '{states}' or '*'") { $0.startsTransition }
                    continue
                }
                do throws(Abandon) {
                    let transitionStart = current.location
                    transitions.append(try transition())
                    span(.transition, from: transitionStart, "transition")
                } catch {
                    recover()
                }
            }
            try expect(symbol: "}")
            return .machine(MachineDeclaration(key: key, transitions: transitions, location: start))
        case "guarantee":
            _ = advance()
            let name = try identifier("a guarantee name")
            try expect(symbol: ":")
            let body: GuaranteeDeclaration.Body
            if consume(keyword: "never") {
                var roles = [try identifier("a role")]
                while consume(symbol: "|") { roles.append(try identifier("a role")) }
                var operations = [try operation()]
                while consume(symbol: "|") { operations.append(try operation()) }
                try expect(keyword: "on")
                var paths = [try pathPattern()]
                while consume(symbol: ",") { paths.append(try pathPattern()) }
                let unless = consume(keyword: "unless") ? try expression() : nil
                body = .never(roles: roles, operations: operations, paths: paths, unless: unless)
            } else if consume(keyword: "always") {
                body = .always(try expression())
            } else {
                throw fail("'never' or 'always'")
            }
            let blame = try blameClause()
            try expect(symbol: ";")
            return .guarantee(GuaranteeDeclaration(name: name, body: body, blame: blame))
        case "expect":
            _ = advance()
            let condition = try expression()
            try expect(keyword: "within")
            let milliseconds = try duration()
            try expect(keyword: "after")
            let trigger = try expression()
            let blame = try blameClause()
            try expect(symbol: ";")
            return .expectation(
                Expectation(condition: condition, milliseconds: milliseconds, trigger: trigger, blame: blame, location: start))
        case "option":
            _ = advance()
            let name = try identifier("an option name")
            try expect(symbol: "=")
            let value = try valueLiteral()
            try expect(symbol: ";")
            return .option(name, value)
        case "labels":
            _ = advance()
            let role = try identifier("a role")
            try expect(symbol: "=")
            var labels = [try string("an ACM VM label name")]
            while consume(symbol: "|") { labels.append(try string("an ACM VM label name")) }
            try expect(symbol: ";")
            return .labels(LabelBinding(role: role, labels: labels, location: start))
        default:
            throw fail("a declaration (params, role, type, enum, dir, key, pred, machine, guarantee, expect, option, labels)")
        }
    }

    private mutating func keyReference() throws(Abandon) -> KeyReference {
        let token = current
        switch token.kind {
        case .stateKey(let directory):
            _ = advance()
            return KeyReference(directory: Identifier(directory, at: token.location), segments: nil, location: token.location)
        case .path(let directory, let segments):
            _ = advance()
            return KeyReference(directory: Identifier(directory, at: token.location), segments: segments, location: token.location)
        default:
            throw fail("a key ('fe.state' or 'fe/name')")
        }
    }

    private mutating func typeExpression() throws(Abandon) -> TypeExpression {
        let location = current.location
        if consume(keyword: "uint") {
            return .unsigned(isSymbol("[") ? try range() : nil, location)
        }
        if consume(keyword: "string") {
            if consume(symbol: "~") { return .string(pattern: try string("a regular expression").0, location) }
            return .string(pattern: nil, location)
        }
        if consume(keyword: "enum") {
            return .enumeration(try identifier("an enum name"))
        }
        if case .string = current.kind {
            var literals = [try string("a literal").0]
            while consume(symbol: "|") { literals.append(try string("a literal").0) }
            return .literals(literals, location)
        }
        return .named(try identifier("a type"))
    }

    private mutating func keyAttribute() throws(Abandon) -> KeyDeclaration.Attribute {
        let location = current.location
        if consume(keyword: "init") {
            let role = try identifier("the role that creates the key")
            return .initializedBy(role, consume(symbol: "=") ? try valueLiteral() : nil)
        }
        if consume(keyword: "writer") {
            var roles = [try identifier("a role")]
            while consume(symbol: "|") { roles.append(try identifier("a role")) }
            return .writers(roles)
        }
        if consume(keyword: "phase") { return .phase(try stateSet()) }
        if consume(keyword: "for") {
            let variable = try identifier("an index variable")
            try expect(keyword: "in")
            return .index(variable, try range())
        }
        if consume(keyword: "if") { return .condition(try expression()) }
        if consume(keyword: "default") { return .defaultValue(try valueLiteral()) }
        if consume(keyword: "deprecated") { return .deprecated(location) }
        if consume(keyword: "link") { return .link(try identifier("the directory whose path the key holds")) }
        throw fail("a key attribute (init, writer, phase, for, if, default, deprecated, link) or ';'")
    }

    private mutating func stateSet() throws(Abandon) -> StateSet {
        let location = current.location
        if consume(symbol: "*") { return .any(location) }
        if consume(symbol: "{") {
            var states = [try identifier("a state")]
            while consume(symbol: ",") { states.append(try identifier("a state")) }
            try expect(symbol: "}")
            return .states(states)
        }
        return .states([try identifier("a state, '{states}' or '*'")])
    }

    private mutating func transition() throws(Abandon) -> Transition {
        let location = current.location
        let from = try stateSet()
        try expect(symbol: "->")
        let to = try identifier("the target state")
        try expect(keyword: "by")
        var by = [try identifier("a role")]
        while consume(symbol: "|") { by.append(try identifier("a role")) }
        let guardExpression = consume(keyword: "when") ? try expression() : nil
        let obligation = consume(keyword: "requires") ? try expression() : nil
        let note = consume(keyword: "note") ? try string("a note").0 : nil
        try expect(symbol: ";")
        return Transition(
            from: from, to: to, by: by, guardExpression: guardExpression, obligation: obligation, note: note, location: location)
    }

    private mutating func operation() throws(Abandon) -> Operation {
        guard case .identifier(let word) = current.kind, let operation = Operation(rawValue: word) else {
            throw fail("an operation (read, write, mkdir, rm, setperms, watch)")
        }
        _ = advance()
        return operation
    }

    private mutating func pathPattern() throws(Abandon) -> PathPattern {
        let token = current
        switch token.kind {
        case .identifier(let directory) where !Self.reserved.contains(directory):
            _ = advance()
            return PathPattern(directory: Identifier(directory, at: token.location), segments: nil)
        case .path(let directory, let segments):
            _ = advance()
            return PathPattern(directory: Identifier(directory, at: token.location), segments: segments)
        default:
            throw fail("a path pattern ('fe', 'fe/**', 'be/name')")
        }
    }

    private mutating func blameClause() throws(Abandon) -> Blame {
        try expect(keyword: "blame")
        let location = current.location
        if consume(keyword: "writer") { return .writer(location) }
        if consume(keyword: "turn") { return .turn(location) }
        return .role(try identifier("'writer', 'turn' or a role"))
    }

    private mutating func duration() throws(Abandon) -> Int {
        let value = try integer("a duration such as '10s' or '500ms'")
        let unit = current
        guard case .identifier(let name) = unit.kind, name == "s" || name == "ms" else { throw fail("'s' or 'ms' after the number") }
        _ = advance()
        let (milliseconds, overflow) = name == "s" ? value.multipliedReportingOverflow(by: 1000) : (value, false)
        guard !overflow, milliseconds <= Int128(Int32.max) else {
            diagnosticSelection.append(.error("E0711", "duration is too long", at: unit.location))
            return Int(Int32.max)
        }
        return Int(milliseconds)
    }

    private mutating func valueLiteral() throws(Abandon) -> Value {
        switch current.kind {
        case .integer(let value):
            _ = advance()
            return .integer(value)
        case .string(let value):
            _ = advance()
            return .string(value)
        case .identifier(let name) where !Self.reserved.contains(name):
            _ = advance()
            return .identifier(name)
        default:
            throw fail("a value (number, string or name)")
        }
    }

    // MARK: - Expressions

    private mutating func range() throws(Abandon) -> RangeExpression {
        try expect(symbol: "[")
        let lower = try expression()
        try expect(symbol: "..")
        let upper = try expression()
        try expect(symbol: ")")
        return RangeExpression(lower: lower, upper: upper)
    }

    /// Operands one expression may have. Expressions are trees that every later stage walks
    /// recursively, so their size is bounded to keep a hostile or generated file from exhausting
    /// the stack; real guards have a few dozen operands.
    static let maximumOperands = 1000
    private var expressionNesting = 0
    private var operandsLeft = 0

    mutating func expression() throws(Abandon) -> Expression {
        if expressionNesting == 0 { operandsLeft = Self.maximumOperands }
        expressionNesting += 1
        defer { expressionNesting -= 1 }
        let lhs = try disjunction()
        if consume(symbol: "=>") { return .binary(.implies, lhs, try disjunction()) }
        return lhs
    }

    private mutating func disjunction() throws(Abandon) -> Expression {
        var lhs = try conjunction()
        while consume(symbol: "||") { lhs = .binary(.or, lhs, try conjunction()) }
        return lhs
    }

    private mutating func conjunction() throws(Abandon) -> Expression {
        var lhs = try negation()
        while consume(symbol: "&&") { lhs = .binary(.and, lhs, try negation()) }
        return lhs
    }

    private mutating func negation() throws(Abandon) -> Expression {
        let location = current.location
        if consume(symbol: "!") { return .not(try relation(), location) }
        return try relation()
    }

    private mutating func relation() throws(Abandon) -> Expression {
        let lhs = try sum()
        for symbol in ["==", "!=", "<=", ">=", "<", ">"] where consume(symbol: symbol) {
            return .binary(Expression.BinaryOperator(rawValue: symbol)!, lhs, try sum())
        }
        if consume(keyword: "in") {
            if isSymbol("[") { return .inRange(lhs, try range()) }
            return .inSet(lhs, try sum())
        }
        return lhs
    }

    private mutating func sum() throws(Abandon) -> Expression {
        var lhs = try product()
        while true {
            if consume(symbol: "+") {
                lhs = .binary(.add, lhs, try product())
            } else if consume(symbol: "-") {
                lhs = .binary(.subtract, lhs, try product())
            } else {
                return lhs
            }
        }
    }

    private mutating func product() throws(Abandon) -> Expression {
        var lhs = try atom()
        while true {
            if consume(symbol: "*") {
                lhs = .binary(.multiply, lhs, try atom())
            } else if consume(symbol: "%") {
                lhs = .binary(.remainder, lhs, try atom())
            } else if consume(symbol: "<<") {
                lhs = .binary(.shiftLeft, lhs, try atom())
            } else {
                return lhs
            }
        }
    }

    private mutating func atom() throws(Abandon) -> Expression {
        let token = current
        operandsLeft -= 1
        guard operandsLeft >= 0 else {
            diagnosticSelection.append(
                .error("E0712", "expression is too large: more than \(Self.maximumOperands) operands or parentheses", at: token.location))
            throw Abandon()
        }
        switch token.kind {
        case .integer(let value):
            _ = advance()
            return .integer(value, token.location)
        case .string(let value):
            _ = advance()
            return .string(value, token.location)
        case .stateKey, .path:
            return .key(try keyReference())
        case .symbol("{"):
            _ = advance()
            var elements = [try expression()]
            while consume(symbol: ",") { elements.append(try expression()) }
            try expect(symbol: "}")
            return .set(elements, token.location)
        case .symbol("("):
            _ = advance()
            let inner = try expression()
            try expect(symbol: ")")
            return inner
        case .identifier("forall"):
            _ = advance()
            let variable = try identifier("a bound variable")
            try expect(keyword: "in")
            let bounds = try range()
            try expect(symbol: ":")
            return .forall(variable, bounds, try expression())
        case .identifier("if"):
            _ = advance()
            let condition = try expression()
            try expect(keyword: "then")
            let then = try expression()
            try expect(keyword: "else")
            return .conditional(condition, then, try expression(), token.location)
        case .identifier(let name) where !Self.reserved.contains(name):
            let identifier = Identifier(name, at: advance().location)
            if consume(symbol: "(") {
                var arguments: [Expression] = []
                if !isSymbol(")") {
                    repeat { arguments.append(try expression()) } while consume(symbol: ",")
                }
                try expect(symbol: ")")
                return .call(identifier, arguments)
            }
            return .name(identifier)
        default:
            throw fail("an expression")
        }
    }
}
