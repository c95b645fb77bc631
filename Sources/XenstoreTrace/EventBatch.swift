/// A batch of events in its own storage, handed from the reading thread to a consumer by
/// `TraceReader.forEachBatch(readAhead:batchSize:prepare:_:)`. Its events can be read in place and
/// then moved out one by one, so neither side copies an event (a copy retains its strings) and no
/// array destroys them through generic value witnesses.
public final class EventBatch: @unchecked Sendable {
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<TraceEvent>
    @exclusivity(unchecked) private var capacity: Int
    /// Events `start..<end` of `storage` are initialised.
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0

    /// An empty batch with room for `capacity` events.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        storage.advanced(by: start).deinitialize(count: end - start)
        storage.deallocate()
    }

    /// The number of events left in the batch.
    public var count: Int { end - start }
    /// Whether the batch has as many events as it was made for (it takes more, growing its storage).
    public var isFull: Bool { end >= capacity }

    /// Adds an event at the end.
    public func append(_ event: consuming TraceEvent) {
        if end == capacity { grow() }
        storage.advanced(by: end).initialize(to: consume event)
        end += 1
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<TraceEvent>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage + start, count: end - start)
        storage.deallocate()
        storage = bigger
        end -= start
        start = 0
        capacity *= 2
    }

    /// The events left in the batch, in order, to read in place.
    public func withEvents<Result>(_ body: (UnsafeBufferPointer<TraceEvent>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: storage + start, count: end - start))
    }

    /// Hands each event to `body`, in order, without copying it. The events stay in the batch, to be
    /// destroyed with it: on the thread that made them, when the batch goes back there.
    public func forEach(_ body: (TraceEvent) -> Void) {
        for index in start..<end {
            let event = storage.advanced(by: index).move()
            body(event)
            storage.advanced(by: index).initialize(to: event)
        }
    }

    /// Moves the events out of the batch, in order, handing each to `body`; the batch is then empty.
    public func removeAll(_ body: (consuming TraceEvent) -> Void) {
        while start < end {
            let event = storage.advanced(by: start).move()
            start += 1
            body(event)
        }
    }
}
