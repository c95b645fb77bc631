#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension TraceReader {
    /// Batches that may wait between the reading thread and the consumer: enough to ride out an
    /// uneven consumer, few enough that memory stays bounded. With the default batch size (1,024
    /// events, about 150 KiB) the events in flight stay in the processors' shared cache; batches of
    /// 4,096 cost a tenth more processor time in the replay benchmark.
    static let readAheadBatches = 4

    /// Reads the rest of the trace and hands its events to `body` in batches, in trace order.
    ///
    /// With `readAhead`, the lines are read and parsed on a second thread while `body` works on the
    /// batches before them; at most `readAheadBatches` batches wait, so memory does not grow with the
    /// trace. `body` must not use the reader: it belongs to the reading thread until the call
    /// returns. When it returns, the trace has been read to its end and `statistics`, `diagnostics`
    /// and `format` are final, exactly as after `next()` returned `nil`.
    public func forEachBatch(readAhead: Bool = true, batchSize: Int = 1024, _ body: ([TraceEvent]) -> Void) {
        forEachBatch(readAhead: readAhead, batchSize: batchSize, prepare: { $0 }) { batch in
            var events: [TraceEvent] = []
            events.reserveCapacity(batch.count)
            batch.removeAll { events.append($0) }
            body(events)
        }
    }

    /// Like `forEachBatch(readAhead:batchSize:_:)`, and `prepare` turns each batch into what `body`
    /// gets. With `readAhead`, `prepare` runs on the reading thread, so it must only read state that
    /// nothing changes meanwhile (a consumer's work that depends on no earlier batch).
    ///
    /// With `pathsAsBytes`, the batches keep the paths of oxenstored messages as bytes where they
    /// can (`EventBatch.pathBytes(at:)`; those events have a `nil` path until `EventBatch.removeAll`
    /// moves them out), so that no `String` is made for them.
    ///
    /// With `handOverWhenIdle`, a batch is also handed over before it is full whenever the input has
    /// no more bytes ready (a pipe from `tail -F` that is waiting for xenstored), so that a live log's
    /// messages are replayed as they arrive instead of when 1,024 more have come. Regular files
    /// always have bytes ready, so it changes nothing for them. With `idleTicks` as well, every second
    /// the input stays idle hands over an empty batch marked `isIdleTick`, so that the consumer can
    /// let its clock run while nothing is written.
    public func forEachBatch<Prepared>(
        readAhead: Bool = true, batchSize: Int = 1024, pathsAsBytes: Bool = false, handOverWhenIdle: Bool = false,
        idleTicks: Bool = false, prepare: @escaping (EventBatch) -> Prepared, _ body: (Prepared) -> Void
    ) {
        let size = Swift.max(1, batchSize)
        defer {
            fillingBatch = nil
            keepsPathsAsBytes = false
            beforeWaiting = nil
            whileWaiting = nil
        }
        guard readAhead else {
            withoutActuallyEscaping(body) { body in
                let collector = BatchCollector(size: size, reader: self, pathsAsBytes: pathsAsBytes) { body(prepare($0)) }
                watchIdleness(collector, handOver: handOverWhenIdle, ticks: idleTicks)
                collector.readAll()
                beforeWaiting = nil
                whileWaiting = nil
            }
            return
        }
        let channel = BatchChannel<Prepared>(capacity: Self.readAheadBatches)
        // Batches the consumer is done with go back to be released here, where their events were
        // made: freeing memory on another thread than the one that allocated it makes both threads
        // contend for the allocator.
        let done = BatchChannel<Prepared>(capacity: Self.readAheadBatches + 2)
        let reader = UncheckedReference(self)
        let thread = WorkerThread {
            let collector = BatchCollector(size: size, reader: reader.value, pathsAsBytes: pathsAsBytes) { batch in
                channel.put(prepare(batch))
                done.drain()
            }
            reader.value.watchIdleness(collector, handOver: handOverWhenIdle, ticks: idleTicks)
            collector.readAll()
            reader.value.beforeWaiting = nil
            reader.value.whileWaiting = nil
            // Read by the consumer after `join()`, which orders it after this write.
            reader.value.readingThreadProcessorTime = ThreadProcessorTime.now()
            channel.close()
        }
        guard thread.started else {
            // No second thread to be had: read on this one.
            forEachBatch(
                readAhead: false, batchSize: size, pathsAsBytes: pathsAsBytes, handOverWhenIdle: handOverWhenIdle, idleTicks: idleTicks,
                prepare: prepare, body)
            return
        }
        while let batch = channel.take() {
            body(batch)
            done.offer(batch)
        }
        thread.join()
    }
}

extension TraceReader {
    /// What the collector does when the input pauses: nothing, hand over its batch, or also tick.
    fileprivate func watchIdleness(_ collector: BatchCollector, handOver: Bool, ticks: Bool) {
        guard handOver else { return }
        beforeWaiting = { [unowned collector] in collector.handOver() }
        if ticks { whileWaiting = { [unowned collector] in collector.tick() } }
    }
}

/// Fills batches of events and hands each over when it is full, or earlier when asked to.
fileprivate final class BatchCollector {
    private let size: Int
    // Strong: an unowned reference is checked on every use, once per line here. The reader holds
    // the collector only unowned (`beforeWaiting`), so there is no cycle.
    private let reader: TraceReader
    private let pathsAsBytes: Bool
    private let handOverBatch: (EventBatch) -> Void
    @exclusivity(unchecked) private var batch: EventBatch

    init(size: Int, reader: TraceReader, pathsAsBytes: Bool, handOver: @escaping (EventBatch) -> Void) {
        self.size = size
        self.reader = reader
        self.pathsAsBytes = pathsAsBytes
        handOverBatch = handOver
        batch = EventBatch(capacity: size)
        reader.fillingBatch = batch
        reader.keepsPathsAsBytes = pathsAsBytes
    }

    /// Reads the trace to its end, handing over each full batch and then the last one.
    func readAll() {
        // The reader adds each event to `reader.fillingBatch` (built in place there) until it is
        // full; `beforeWaiting` may hand it over earlier, while the reader waits for input.
        let reader = self.reader
        while reader.fillBatch() { handOver() }
        handOver()
    }

    /// Hands over the batch being filled, then an empty one marked as an idle tick.
    func tick() {
        handOver()
        let mark = EventBatch(capacity: 1)
        mark.isIdleTick = true
        handOverBatch(mark)
    }

    /// Hands over the batch being filled, if it holds any event, and starts the next one.
    func handOver() {
        guard batch.count > 0 else { return }
        let full = batch
        batch = EventBatch(capacity: size)
        reader.fillingBatch = batch
        handOverBatch(full)
    }
}

/// Hands a non-sendable object to the one other thread that uses it while its owner waits.
private final class UncheckedReference<Value: AnyObject>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A bounded, blocking queue of batches from one producer thread to one consumer.
private final class BatchChannel<Item>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let capacity: Int
    private var items: [Item?] = []
    private var head = 0
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Queues an item; waits while `capacity` items are waiting.
    func put(_ item: Item) {
        pthread_mutex_lock(mutex)
        while items.count - head >= capacity { pthread_cond_wait(changed, mutex) }
        if head > 0 && head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
        items.append(item)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// No more items will come.
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Queues an item if there is room, without waiting; otherwise drops it here.
    func offer(_ item: Item) {
        pthread_mutex_lock(mutex)
        if items.count - head < capacity {
            if head > 0 && head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            }
            items.append(item)
        }
        pthread_mutex_unlock(mutex)
    }

    /// Drops every waiting item, without waiting for more.
    func drain() {
        pthread_mutex_lock(mutex)
        let taken = items[head...]
        items.removeAll(keepingCapacity: true)
        head = 0
        pthread_mutex_unlock(mutex)
        _ = taken
    }

    /// The next item, waiting for it; `nil` once the channel is closed and drained.
    func take() -> Item? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == items.count && !closed { pthread_cond_wait(changed, mutex) }
        guard head < items.count else { return nil }
        let item = items[head]
        items[head] = nil
        head += 1
        pthread_cond_broadcast(changed)
        return item
    }
}

/// A POSIX thread running one closure; `join()` waits for it.
private final class WorkerThread: @unchecked Sendable {
    private let body: () -> Void
    #if canImport(Glibc)
        private var thread = pthread_t()
    #else
        private var thread: pthread_t? = nil
    #endif
    /// Whether the thread could be created; if not, `body` has not run.
    private(set) var started = false

    init(_ body: @escaping () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { context in
                #if canImport(Glibc)
                    let worker = Unmanaged<WorkerThread>.fromOpaque(context!).takeRetainedValue()
                #else
                    let worker = Unmanaged<WorkerThread>.fromOpaque(context).takeRetainedValue()
                #endif
                worker.body()
                return nil
            }, context)
        if status == 0 {
            started = true
        } else {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
        }
    }

    func join() {
        guard started else { return }
        started = false
        #if canImport(Glibc)
            pthread_join(thread, nil)
        #else
            if let thread { pthread_join(thread, nil) }
        #endif
    }
}

/// The processor time the calling thread has used, for the benchmarks: which of the two threads of a
/// replay sets its wall time (`docs/benchmarks.md`, "The replaying thread waits for memory").
public enum ThreadProcessorTime {
    /// Seconds of processor time of the calling thread so far.
    public static func now() -> Double {
        var time = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time) == 0 else { return 0 }
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
