/// A batch of events in its own storage, handed from the reading thread to a consumer by
/// `TraceReader.forEachBatch(readAhead:batchSize:pathsAsBytes:prepare:_:)`. Its events can be read in
/// place and then moved out one by one, so neither side copies an event (a copy retains its strings)
/// and no array destroys them through generic value witnesses.
///
/// The batch also holds bytes: with `pathsAsBytes`, the reader copies the path of a mutating message
/// here instead of making it a `String` (`path` is then `nil`, and `pathBytes(at:)` gives it). Making
/// and freeing a path string (longer than a small string's 15 bytes, so on the heap) cost about a
/// fifth of the reading thread's work.
public final class EventBatch: @unchecked Sendable {
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<TraceEvent>
    /// Per event, where its path lies in `bytes`: start and length, or a start of -1 when `path` holds it.
    @exclusivity(unchecked) private var spans: UnsafeMutablePointer<Span>
    @exclusivity(unchecked) private var capacity: Int
    /// Events `start..<end` of `storage` are initialised.
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var bytes: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var byteCount = 0
    @exclusivity(unchecked) private var byteCapacity: Int
    /// The path bytes kept for the event being parsed, attached to it by `append(_:)`.
    @exclusivity(unchecked) var pendingSpan = Span.none

    struct Span {
        var start: Int32
        var count: Int32
        static let none = Span(start: -1, count: 0)
    }

    /// An empty batch with room for `capacity` events.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
        spans = .allocate(capacity: self.capacity)
        byteCapacity = 64 * self.capacity
        bytes = .allocate(capacity: byteCapacity)
    }

    deinit {
        storage.advanced(by: start).deinitialize(count: end - start)
        storage.deallocate()
        spans.deallocate()
        bytes.deallocate()
    }

    /// Whether this is no batch of events but the mark of a second without input
    /// (`forEachBatch(handOverWhenIdle: true, idleTicks: true)`, for a live log's clock).
    public internal(set) var isIdleTick = false

    /// The number of events left in the batch.
    public var count: Int { end - start }
    /// Whether the batch has as many events as it was made for (it takes more, growing its storage).
    public var isFull: Bool { end >= capacity }

    /// Adds an event at the end.
    public func append(_ event: consuming TraceEvent) {
        if end == capacity { grow() }
        storage.advanced(by: end).initialize(to: consume event)
        spans[end] = pendingSpan
        pendingSpan = .none
        end += 1
    }

    /// Where the next event goes: a parser initialises it in place (`OxenstoredLogParser.parse(_:number:diagnostics:pathSink:into:)`)
    /// and `commitSlot()` then adds it; left uninitialised, it is simply reused.
    func nextSlot() -> UnsafeMutablePointer<TraceEvent> {
        if end == capacity { grow() }
        return storage + end
    }

    /// Adds the event just initialised at `nextSlot()`, with the path kept for it.
    func commitSlot() {
        spans[end] = pendingSpan
        pendingSpan = .none
        end += 1
    }

    private func grow() {
        let bigger = UnsafeMutablePointer<TraceEvent>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage + start, count: end - start)
        storage.deallocate()
        storage = bigger
        let biggerSpans = UnsafeMutablePointer<Span>.allocate(capacity: capacity * 2)
        biggerSpans.moveInitialize(from: spans + start, count: end - start)
        spans.deallocate()
        spans = biggerSpans
        end -= start
        start = 0
        capacity *= 2
    }

    /// Keeps `text` as the path of the event `append(_:)` adds next. Only while the batch is being
    /// filled: growing the byte storage moves it.
    func keepPath(_ text: UnsafeBufferPointer<UInt8>) {
        if byteCount + text.count > byteCapacity {
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: max(2 * byteCapacity, byteCount + text.count))
            bigger.initialize(from: bytes, count: byteCount)
            bytes.deallocate()
            bytes = bigger
            byteCapacity = max(2 * byteCapacity, byteCount + text.count)
        }
        if let base = text.baseAddress { (bytes + byteCount).initialize(from: base, count: text.count) }
        pendingSpan = Span(start: Int32(byteCount), count: Int32(text.count))
        byteCount += text.count
    }

    /// The path of event `index` (counted from the first event left, as in `withEvents(_:)`) when the
    /// batch holds it as bytes, or `nil` when the event's `path` holds it. The bytes are ASCII
    /// without escapes, exactly the `String` the event would otherwise carry; they stay valid as long
    /// as the batch, provided nothing is appended to it.
    public func pathBytes(at index: Int) -> UnsafeBufferPointer<UInt8>? {
        let span = spans[start + index]
        guard span.start >= 0 else { return nil }
        return UnsafeBufferPointer(start: bytes + Int(span.start), count: Int(span.count))
    }

    /// The event with its path made a `String` if the batch holds it as bytes.
    private func materialized(_ event: consuming TraceEvent, _ index: Int) -> TraceEvent {
        var event = event
        if spans[index].start >= 0 {
            event.path = String(
                decoding: UnsafeBufferPointer(start: bytes + Int(spans[index].start), count: Int(spans[index].count)), as: UTF8.self)
        }
        return event
    }

    /// The events left in the batch, in order, to read in place. An event whose path the batch holds
    /// as bytes has a `nil` path here: see `pathBytes(at:)`.
    public func withEvents<Result>(_ body: (UnsafeBufferPointer<TraceEvent>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(start: storage + start, count: end - start))
    }

    /// Hands each event to `body`, in order, in place: `inout` only so that it is not copied (a
    /// borrowed one was copied defensively); what `body` changes stays in the batch. The events stay
    /// in the batch, to be destroyed with it: on the thread that made them, when the batch goes back
    /// there. An event whose path the batch holds as bytes has a `nil` path here: see `pathBytes(at:)`.
    public func forEach(_ body: (inout TraceEvent) -> Void) {
        // In place, through the pointer: moving each event out and back copied its 138 bytes twice.
        for index in start..<end { body(&storage[index]) }
    }

    /// Moves the events out of the batch, in order, handing each to `body`; the batch is then empty.
    /// Paths the batch holds as bytes are made `String`s: the events no longer need the batch.
    public func removeAll(_ body: (consuming TraceEvent) -> Void) {
        while start < end {
            let event = materialized(storage.advanced(by: start).move(), start)
            start += 1
            body(event)
        }
    }
}
