#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension TraceReader {
    /// Batches that may wait between the reading thread and the consumer: enough to ride out an
    /// uneven consumer, few enough that memory stays bounded (a few thousand events each).
    static let readAheadBatches = 4

    /// Reads the rest of the trace and hands its events to `body` in batches, in trace order.
    ///
    /// With `readAhead`, the lines are read and parsed on a second thread while `body` works on the
    /// batches before them; at most `readAheadBatches` batches wait, so memory does not grow with the
    /// trace. `body` must not use the reader: it belongs to the reading thread until the call
    /// returns. When it returns, the trace has been read to its end and `statistics`, `diagnostics`
    /// and `format` are final, exactly as after `next()` returned `nil`.
    public func forEachBatch(readAhead: Bool = true, batchSize: Int = 4096, _ body: ([TraceEvent]) -> Void) {
        let size = Swift.max(1, batchSize)
        guard readAhead else {
            var batch: [TraceEvent] = []
            batch.reserveCapacity(size)
            while let event = next() {
                batch.append(event)
                if batch.count == size {
                    body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { body(batch) }
            return
        }
        let channel = BatchChannel(capacity: Self.readAheadBatches)
        let reader = UncheckedReference(self)
        let thread = WorkerThread {
            var batch: [TraceEvent] = []
            batch.reserveCapacity(size)
            while let event = reader.value.next() {
                batch.append(event)
                if batch.count == size {
                    channel.put(batch)
                    batch = channel.recycled() ?? []
                    batch.reserveCapacity(size)
                }
            }
            if !batch.isEmpty { channel.put(batch) }
            channel.close()
        }
        guard thread.started else {
            // No second thread to be had: read on this one.
            forEachBatch(readAhead: false, batchSize: size, body)
            return
        }
        while var batch = channel.take() {
            body(batch)
            batch.removeAll(keepingCapacity: true)
            channel.recycle(batch)
        }
        thread.join()
    }
}

/// Hands a non-sendable object to the one other thread that uses it while its owner waits.
private final class UncheckedReference<Value: AnyObject>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A bounded, blocking queue of event batches from one producer thread to one consumer, with a
/// return path for emptied batches so that their storage is reused.
private final class BatchChannel: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let capacity: Int
    private var full: [[TraceEvent]] = []
    private var empty: [[TraceEvent]] = []
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

    /// Queues a batch; waits while `capacity` batches are waiting.
    func put(_ batch: [TraceEvent]) {
        pthread_mutex_lock(mutex)
        while full.count - head >= capacity { pthread_cond_wait(changed, mutex) }
        if head > 0 && head == full.count {
            full.removeAll(keepingCapacity: true)
            head = 0
        }
        full.append(batch)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// No more batches will come.
    func close() {
        pthread_mutex_lock(mutex)
        closed = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// The next batch, waiting for it; `nil` once the channel is closed and drained.
    func take() -> [TraceEvent]? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while head == full.count && !closed { pthread_cond_wait(changed, mutex) }
        guard head < full.count else { return nil }
        let batch = full[head]
        full[head] = []
        head += 1
        pthread_cond_broadcast(changed)
        return batch
    }

    /// Gives an emptied batch back for reuse.
    func recycle(_ batch: [TraceEvent]) {
        pthread_mutex_lock(mutex)
        if empty.count < capacity { empty.append(batch) }
        pthread_mutex_unlock(mutex)
    }

    /// An emptied batch to fill, if one came back.
    func recycled() -> [TraceEvent]? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return empty.popLast()
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
