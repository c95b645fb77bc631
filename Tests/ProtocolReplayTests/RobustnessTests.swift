import ProtocolModel
import ProtocolReplay
import TestSupport
import Testing

/// The engine never traps, whatever the definitions or the trace: malformed bytecode, runaway loops,
/// odd values and paths become findings or are ignored.
@Suite struct RobustnessTests {
    /// A small deterministic generator (SplitMix64).
    typealias Generator = SplitMix64

    static func randomProgram(_ random: inout Generator, keys: [KeyPattern], directories: Int) -> Program {
        var instructions: [Instruction] = []
        let count = 1 + random.below(24)
        for _ in 0..<count {
            let key = keys.isEmpty ? KeyPattern(directory: 0, segments: [[.literal("state")]]) : keys[random.below(keys.count)]
            let instruction: Instruction
            switch random.below(22) {
            case 0: instruction = .boolean(random.chance(50))
            case 1: instruction = .integer(Int128(Int64(bitPattern: random.next())) * (random.chance(10) ? Int128(Int64.max) : 1))
            case 2: instruction = .string(["", "1", "abc", "connected", "-5"][random.below(5)])
            case 3: instruction = .parameter(random.below(5) - 1)
            case 4: instruction = .value(key)
            case 5: instruction = .present(key)
            case 6: instruction = .number(key, hasDefault: random.chance(50))
            case 7: instruction = .state(directory: random.below(directories + 2) - 1)
            case 8: instruction = .seen(directory: random.below(directories + 2) - 1, state: random.below(40) - 4)
            case 9: instruction = .makeSet(count: random.below(5) - 1)
            case 10: instruction = .member
            case 11: instruction = .inRange
            case 12: instruction = .binary(BinaryOperation.allCases[random.below(BinaryOperation.allCases.count)])
            case 13: instruction = .not
            case 14: instruction = .powerOfTwo
            case 15: instruction = .store(slot: random.below(6) - 1)
            case 16: instruction = .load(slot: random.below(6) - 1)
            case 17: instruction = .jump(random.below(count + 3) - 1)
            case 18: instruction = .jumpIfFalse(random.below(count + 3) - 1)
            case 19: instruction = .pop
            case 20:
                // An indexed key reference with a possibly unbound slot.
                instruction = .present(
                    KeyPattern(
                        directory: random.below(directories),
                        segments: [[.literal("ring-ref"), .index(slot: random.below(4) - 1, name: "i")]]))
            default: instruction = .integer(Int128(random.below(10)))
            }
            instructions.append(instruction)
        }
        return Program(instructions: instructions, localCount: random.below(4))
    }

    /// `vbd` with every program replaced by a random one, and some types and patterns scrambled.
    static func scrambled(_ seed: UInt64) -> ProtocolDefinition? {
        guard var vbd = exampleProtocol("vbd") else { return nil }
        var random = Generator(state: seed)
        let keys = vbd.keys.map(\.pattern)
        let directories = vbd.directories.count
        for m in vbd.machines.indices {
            for t in vbd.machines[m].transitions.indices {
                if random.chance(60) {
                    vbd.machines[m].transitions[t].guardProgram = randomProgram(&random, keys: keys, directories: directories)
                }
                if random.chance(60) {
                    vbd.machines[m].transitions[t].obligation = randomProgram(&random, keys: keys, directories: directories)
                }
            }
        }
        for e in vbd.expectations.indices {
            vbd.expectations[e].trigger = randomProgram(&random, keys: keys, directories: directories)
            vbd.expectations[e].condition = randomProgram(&random, keys: keys, directories: directories)
            vbd.expectations[e].milliseconds = random.below(3) == 0 ? 0 : random.below(20_000)
            vbd.expectations[e].blame = [Blame.writer, .turn, .role(random.below(6) - 1)][random.below(3)]
        }
        for g in vbd.guarantees.indices {
            switch vbd.guarantees[g].kind {
            case .always: vbd.guarantees[g].kind = .always(randomProgram(&random, keys: keys, directories: directories))
            case .never(let roles, let operations, let paths, _):
                vbd.guarantees[g].kind = .never(
                    roles: roles, operations: operations, paths: paths, unless: randomProgram(&random, keys: keys, directories: directories)
                )
            }
            if random.chance(30) { vbd.guarantees[g].blame = .role(random.below(8) - 2) }
        }
        for k in vbd.keys.indices {
            for i in vbd.keys[k].indices.indices {
                vbd.keys[k].indices[i].lower = randomProgram(&random, keys: keys, directories: directories)
                vbd.keys[k].indices[i].upper = randomProgram(&random, keys: keys, directories: directories)
            }
            if random.chance(10) { vbd.keys[k].condition = randomProgram(&random, keys: keys, directories: directories) }
            if random.chance(5) { vbd.keys[k].type = .string(pattern: ["(", "[a-", "^x*$", "a{2,1}"][random.below(4)]) }
            if random.chance(5) { vbd.keys[k].type = .unsigned(lower: 10, upper: 5) }
        }
        vbd.turns = vbd.turns.map {
            Turn(frontendState: $0.frontendState, backendState: $0.backendState, roles: RoleMask(rawValue: UInt32(random.below(1 << 8))))
        }
        // Conditions last, so that the draws above (and the seeds' traces) stay as they were.
        for t in vbd.turns.indices where random.chance(50) {
            vbd.turns[t].condition = Turn.Condition(program: randomProgram(&random, keys: keys, directories: directories), text: "random")
        }
        return vbd
    }

    @Test(arguments: 0..<40)
    func randomProgramsNeverTrap(_ seed: Int) throws {
        let vbd = try #require(Self.scrambled(UInt64(seed) &* 7919 &+ 1))
        for trace in ["vbd-connect.log", "vbd-reconnect.trace", "vbd-kexec.jsonl", "violation-backend-stalled.log"] {
            let result = try replayExample(trace, protocols: [vbd])
            #expect(result.summary.messages > 0)
        }
    }

    @Test(arguments: 0..<20)
    func randomTracesNeverTrap(_ seed: Int) {
        var random = Generator(state: UInt64(seed) &+ 99)
        let bases = [
            "/local/domain/5/device/vbd/51712", "/local/domain/0/backend/vbd/5/51712", "/local/domain/5/device/vif/0",
            "/local/domain/2/backend/vif/5/0", "/local/domain/5", "/local/domain", "/", "/local/domain/05/device/vbd/1", "device/vbd/51712",
        ]
        let leaves = [
            "", "state", "backend", "frontend", "ring-ref", "ring-ref0", "ring-ref99", "queue-0/ring-ref", "queue-x", "a/b/c", "online",
        ]
        let values = [
            "1", "2", "3", "4", "5", "6", "0", "", "x", "99999999999999999999999999999999999999999", "/local/domain/5/device/vbd/51712",
            "/local/domain/0/backend/vbd/5/51712", "connected",
        ]
        var trace = TraceBuilder()
        for _ in 0..<400 {
            let base = bases[random.below(bases.count)]
            let leaf = leaves[random.below(leaves.count)]
            let path = leaf.isEmpty ? base : base == "/" ? "/" + leaf : base + "/" + leaf
            let who = ["A1", "A2", "D0", "D5", "D2", "D7"][random.below(6)]
            let tx: Int? = random.chance(20) ? random.below(3) + 1 : nil
            switch random.below(10) {
            case 0: trace.operation(who, "rm", path, tx: tx)
            case 1: trace.operation(who, "mkdir", path, tx: tx)
            case 2: if let tx { trace.start(who, tx: tx) }
            case 3: if let tx { trace.end(who, tx: tx, commit: random.chance(70)) }
            case 4: trace.error(who, "EACCES")
            case 5: trace.wait(Int64(random.below(30_000)))
            default: trace.write(who, path, values[random.below(values.count)], tx: tx)
            }
        }
        let result = replay(trace.text)
        #expect(result.summary.messages > 0)
    }

    @Test func aRunawayLoopIsAnEvaluationFindingReportedOnce() throws {
        var vbd = try #require(exampleProtocol("vbd"))
        // forall i in [0 .. 10^9) : i >= 0
        let loop = Program(
            instructions: [
                .integer(0), .store(slot: 0), .integer(1_000_000_000), .store(slot: 1), .load(slot: 0), .load(slot: 1), .binary(.less),
                .jumpIfFalse(17), .load(slot: 0), .integer(0), .binary(.greaterEqual), .jumpIfFalse(19), .load(slot: 0), .integer(1),
                .binary(.add), .store(slot: 0), .jump(4), .boolean(true), .jump(20), .boolean(false),
            ], localCount: 2)
        vbd.guarantees.append(
            Guarantee(name: "runaway", kind: .always(loop), blame: .writer, origin: Origin(file: "test.xpd", line: 1, column: 1)))
        let result = try replayExample("vbd-connect.log", protocols: [vbd])
        let evaluations = result.findings.filter { $0.severity == .evaluation }
        #expect(evaluations.count == 1)
        #expect(evaluations.first?.message.contains("65536") == true)
        #expect(evaluations.first?.origin == "test.xpd:1:1")
        // The failing evaluation counts as false: the guarantee is reported as not holding, once.
        #expect(result.violations.map(\.rule) == ["guarantee runaway"])
    }

    @Test func emptyAndUnrelatedInputs() {
        #expect(replay("").findings.isEmpty)
        #expect(replay("", protocols: []).summary.messages == 0)
        var trace = TraceBuilder()
        trace.write("D5", "/local/domain/5/data/x", "1")
        trace.operation("A1", "rm", "/")
        #expect(replay(trace.text).findings.isEmpty)
        #expect(replay(trace.text, protocols: []).findings.isEmpty)
    }
}
