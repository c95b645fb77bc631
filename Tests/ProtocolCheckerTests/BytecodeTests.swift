import PolicyDiagnostics
import ProtocolModel
import Testing

/// The exact bytecode of expressions: short-circuit operators, `forall` loops, predicate inlining
/// (directory and key-prefix parameters, value parameters) and `val` with and without a default.
@Suite struct BytecodeTests {
    /// Directory 0 is `fe`, 1 is `be`.
    static let keys = """
        protocol p extends xb {
          key fe/a : u32 writer frontend;
          key fe/b : u32 writer frontend;
          key fe/order : u32 writer frontend;
          key fe/r{i} : u32 writer frontend for i in [0 .. 1 << val(fe/order, 0));
          key fe/event-channel : u32 writer frontend;
          key fe/ring-ref : u32 writer frontend;
          key fe/queue-{q}/event-channel : u32 writer frontend for q in [0 .. 4);
          key fe/queue-{q}/ring-ref : u32 writer frontend for q in [0 .. 4);
          pred ring(d) = present(d/event-channel) && present(d/ring-ref);
          pred big(n) = n > 2;

        """

    /// The program of `guarantee g: always <expression>`.
    static func compile(_ expression: String) throws -> Program {
        let (definitions, diagnostics) = checkWithLibrary(keys + "  guarantee g: always \(expression) blame writer;\n}\n")
        #expect(diagnostics.map(describe) == [])
        let definition = try #require(definitions.first)
        guard case .always(let program) = try #require(definition.guarantees.first).kind else {
            Issue.record("not an always guarantee")
            return Program(instructions: [], localCount: 0)
        }
        return program
    }

    static func key(_ directory: Int, _ segments: [KeyPattern.Part]...) -> KeyPattern {
        KeyPattern(directory: directory, segments: segments)
    }

    static let a = key(0, [.literal("a")])
    static let b = key(0, [.literal("b")])

    @Test func andShortCircuits() throws {
        #expect(
            try Self.compile("present(fe/a) && present(fe/b)").instructions == [
                .present(Self.a), .jumpIfFalse(4), .present(Self.b), .jump(5), .boolean(false),
            ])
    }

    @Test func orShortCircuits() throws {
        #expect(
            try Self.compile("present(fe/a) || present(fe/b)").instructions == [
                .present(Self.a), .jumpIfFalse(4), .boolean(true), .jump(5), .present(Self.b),
            ])
    }

    @Test func impliesIsNotLhsOrRhs() throws {
        #expect(
            try Self.compile("present(fe/a) => absent(fe/b)").instructions == [
                .present(Self.a), .not, .jumpIfFalse(5), .boolean(true), .jump(7), .present(Self.b), .not,
            ])
    }

    @Test func comparisonsAndStates() throws {
        let program = try Self.compile("fe.state == Connected && be/online != \"0\"")
        #expect(
            program.instructions == [
                .state(directory: 0), .integer(4), .binary(.equal), .jumpIfFalse(8),
                .value(Self.key(1, [.literal("online")])), .string("0"), .binary(.notEqual), .jump(9), .boolean(false),
            ])
        #expect(program.localCount == 0)
    }

    @Test func valWithAndWithoutDefault() throws {
        let order = Self.key(0, [.literal("order")])
        #expect(
            try Self.compile("val(fe/order, 1) < val(fe/order)").instructions == [
                .integer(1), .number(order, hasDefault: true), .number(order, hasDefault: false), .binary(.less),
            ])
    }

    @Test func forallIsALoopOverTwoLocals() throws {
        let program = try Self.compile("forall i in [0 .. 1 << val(fe/order, 0)) : present(fe/r{i})")
        #expect(
            program.instructions == [
                .integer(0), .store(slot: 0),
                .integer(1), .integer(0), .number(Self.key(0, [.literal("order")]), hasDefault: true), .binary(.shiftLeft),
                .store(slot: 1),
                // 7: loop head
                .load(slot: 0), .load(slot: 1), .binary(.less), .jumpIfFalse(18),
                .present(Self.key(0, [.literal("r"), .index(slot: 0, name: "i")])), .jumpIfFalse(20),
                .load(slot: 0), .integer(1), .binary(.add), .store(slot: 0), .jump(7),
                // 18: every element satisfied the body
                .boolean(true), .jump(21),
                // 20: one did not
                .boolean(false),
            ])
        #expect(program.localCount == 2)
    }

    @Test func predicateWithADirectoryParameterIsInlined() throws {
        #expect(
            try Self.compile("ring(fe)").instructions == [
                .present(Self.key(0, [.literal("event-channel")])), .jumpIfFalse(4),
                .present(Self.key(0, [.literal("ring-ref")])), .jump(5), .boolean(false),
            ])
    }

    @Test func predicateWithAKeyPrefixParameterIsInlinedInALoop() throws {
        let q: KeyPattern.Part = .index(slot: 0, name: "q")
        let program = try Self.compile("forall q in [0 .. 4) : ring(fe/queue-{q})")
        #expect(
            program.instructions == [
                .integer(0), .store(slot: 0), .integer(4), .store(slot: 1),
                .load(slot: 0), .load(slot: 1), .binary(.less), .jumpIfFalse(19),
                .present(Self.key(0, [.literal("queue-"), q], [.literal("event-channel")])), .jumpIfFalse(12),
                .present(Self.key(0, [.literal("queue-"), q], [.literal("ring-ref")])), .jump(13), .boolean(false),
                .jumpIfFalse(21),
                .load(slot: 0), .integer(1), .binary(.add), .store(slot: 0), .jump(4),
                .boolean(true), .jump(22),
                .boolean(false),
            ])
        #expect(program.localCount == 2)
    }

    @Test func predicateValueParametersAreComputedOnceIntoALocal() throws {
        let program = try Self.compile("big(val(fe/a) + 1)")
        #expect(
            program.instructions == [
                .number(Self.a, hasDefault: false), .integer(1), .binary(.add), .store(slot: 0),
                .load(slot: 0), .integer(2), .binary(.greater),
            ])
        #expect(program.localCount == 1)
    }

    @Test func setsConditionalsAndRanges() throws {
        #expect(
            try Self.compile("if present(fe/a) then fe.state in {Closing, Closed} else val(fe/a) in [1 .. 3)").instructions == [
                .present(Self.a), .jumpIfFalse(8),
                .state(directory: 0), .integer(5), .integer(6), .makeSet(count: 2), .member, .jump(12),
                .number(Self.a, hasDefault: false), .integer(1), .integer(3), .inRange,
            ])
    }

    /// Key index bounds compile with the key's index variables as reserved locals.
    @Test func indexBoundsOfKeys() throws {
        let (definitions, _) = checkWithLibrary(Self.keys + "}\n")
        let key = try #require(definitions.first?.keys.first { $0.pattern.description == "r{i}" })
        #expect(key.indices.map(\.name) == ["i"])
        #expect(key.indices.first?.lower == Program(instructions: [.integer(0)], localCount: 1))
        #expect(
            key.indices.first?.upper
                == Program(
                    instructions: [
                        .integer(1), .integer(0), .number(Self.key(0, [.literal("order")]), hasDefault: true), .binary(.shiftLeft),
                    ],
                    localCount: 1))
    }
}
