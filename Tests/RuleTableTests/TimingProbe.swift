import RuleTable
import Testing

@Suite struct TimingProbe {
    @Test func timing() throws {
        let table = try Support.referenceTable()
        let bytes = RuleTableEncoder.encode(table)
        let clock = ContinuousClock()
        let n = 200
        let decode = clock.measure { for _ in 0..<n { _ = RuleTableDecoder.decodeWithLayout(bytes, file: "x") } }
        let encode = clock.measure { for _ in 0..<n { _ = RuleTableEncoder.encode(table) } }
        let layout = RuleTableDecoder.decodeWithLayout(bytes, file: "x").layout!
        let dump = clock.measure { for _ in 0..<n { _ = RuleTableDumper(file: "x", layout: layout, table: table).text() } }
        let json = clock.measure { for _ in 0..<n { _ = RuleTableDumper(file: "x", layout: layout, table: table).json(diagnostics: []).rendered() } }
        print("TIMING bytes=\(bytes.count) decode=\(decode / n) encode=\(encode / n) text=\(dump / n) json=\(json / n)")
    }
}
