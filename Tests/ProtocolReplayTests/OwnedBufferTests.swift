import Testing

@testable import ProtocolReplay

/// `OwnedBuffer`: an instance's per-directory and per-rule values, with their bounds checked in
/// release builds too.
@Suite struct OwnedBufferTests {
    @Test func valuesAreKeptAndFreed() {
        let buffer = OwnedBuffer(repeating: "x", count: 3)
        buffer[1] = "y"
        #expect(Array(buffer) == ["x", "y", "x"])
        #expect(buffer.indices == 0..<3)
        let empty = OwnedBuffer<String?>(emptySlots: 2)
        #expect(empty.allSatisfy { $0 == nil })
        buffer.free()
        empty.free()
    }

    /// A wrong index stops the process instead of reading or writing past the buffer.
    @Test func anIndexOutOfTheBufferStops() async {
        await #expect(processExitsWith: .failure) {
            let buffer = OwnedBuffer(repeating: 0, count: 2)
            buffer[2] = 1
        }
        await #expect(processExitsWith: .failure) {
            let buffer = OwnedBuffer(repeating: 0, count: 2)
            _ = buffer[-1]
        }
    }
}
