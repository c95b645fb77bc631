/// A binary min-heap of expectation deadlines. Entries are never removed early: disarming changes the
/// timer's generation, and a popped entry whose generation no longer matches is ignored.
struct TimerQueue {
    struct Entry {
        var deadline: Int64
        var instance: Int
        var expectation: Int
        var generation: UInt32
    }

    private var heap: [Entry] = []

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    /// The earliest deadline.
    var earliest: Int64? { heap.first?.deadline }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].deadline < heap[smallest].deadline { smallest = left }
                if right < heap.count && heap[right].deadline < heap[smallest].deadline { smallest = right }
                guard smallest != parent else { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }

    /// Drops stale entries when they make up most of the heap, so that it does not grow with the
    /// number of arms and disarms over a long trace.
    mutating func compact(isLive: (Entry) -> Bool) {
        let kept = heap.filter(isLive)
        heap = []
        heap.reserveCapacity(kept.count)
        for entry in kept { push(entry) }
    }
}
