import Testing

@testable import ProtocolReplay

/// `RootTable`, the open-addressing table of live directories, against a `Dictionary` doing the same.
@Suite struct RootTableTests {
    /// A few templates and small values: many keys share a home slot or a run, so that lookups
    /// probe past other keys and removals shift entries back across the end of the buffer.
    static func key(_ random: inout RobustnessTests.Generator) -> RootKey {
        var key = RootKey(template: random.below(3))
        for _ in 0..<random.below(5) { key.append(Int64(random.below(40))) }
        return key
    }

    @Test func insertsFindsAndRemovesLikeADictionary() {
        let instance = Instance(
            serial: 1, protocolDefinition: CompiledProtocol(index: 0, definition: exampleProtocols[0]), parameters: [], directories: [],
            creator: ConnectionID(connection: .socket(1), handle: nil), transaction: nil)
        var random = RobustnessTests.Generator(state: 7)
        let table = RootTable()
        var model: [RootKey: Int] = [:]
        for step in 0..<60_000 {
            let key = Self.key(&random)
            switch random.below(10) {
            case 0..<5:
                table[key] = ReplayEngine.LiveDirectory(instance: instance, directory: step)
                model[key] = step
            case 5..<8:
                table[key] = nil
                model[key] = nil
            default:
                #expect(table[key]?.directory == model[key], "lookup at step \(step)")
            }
            // Every so often the whole table: nothing lost by a shift, nothing left behind.
            if step % 5_000 == 0 || step == 59_999 {
                #expect(table.count == model.count)
                for (key, value) in model { #expect(table[key]?.directory == value, "entry at step \(step)") }
                #expect(table.values.map(\.directory).sorted() == model.values.sorted())
            }
        }
        // Emptied, it finds nothing.
        for key in model.keys { table[key] = nil }
        #expect(table.count == 0)
        #expect(table.values.isEmpty)
    }
}
