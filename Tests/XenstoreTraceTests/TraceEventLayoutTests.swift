import Testing

@testable import XenstoreTrace

/// `TraceEvent.initialize(_:line:...)` makes events field by field for the oxenstored parser: it
/// must set every stored property, and give what the initialiser gives.
@Suite struct TraceEventLayoutTests {
    @Test func fieldByFieldInitialisationCoversEveryProperty() {
        let event = TraceEvent(
            line: 7, time: 1_000, connection: .domain(5), transaction: 3, operation: .setPermissions([Permission(.read, 0)]),
            path: "/local/domain/5/device/vbd/768/state", value: "n5 r0", handle: 0xFF, replayOf: 2, truncated: true)
        // A property added to `TraceEvent` must be added to `initialize` too.
        #expect(Mirror(reflecting: event).children.count == 10)
        let slot = UnsafeMutablePointer<TraceEvent>.allocate(capacity: 1)
        defer { slot.deallocate() }
        TraceEvent.initialize(
            slot, line: 7, time: 1_000, connection: .domain(5), transaction: 3, operation: .setPermissions([Permission(.read, 0)]),
            path: "/local/domain/5/device/vbd/768/state", value: "n5 r0", handle: 0xFF, replayOf: 2, truncated: true)
        #expect(slot.move() == event)
        TraceEvent.initialize(slot, line: 1, connection: .socket(1), operation: .read)
        #expect(slot.move() == TraceEvent(line: 1, connection: .socket(1), operation: .read))
    }
}
