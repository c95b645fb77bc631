import RuleTable
import Testing

@Suite struct TimingProbe {
    @Test func timing() throws {
        let table = try Support.referenceTable()
        let bytes = RuleTableEncoder.encode(table)
        print("SECTIONS", Support.sections(of: bytes).map { ($0.id, $0.payload.count) })
        let small = FuzzTests.smallTable()
        print("SMALL", small.count)
        let clock = ContinuousClock()
        let n = 200
        let decode = clock.measure { for _ in 0..<n { _ = RuleTableDecoder.decodeWithLayout(bytes, file: "x") } }
        print("TIMING decode=\(decode / n)")
    }
}
