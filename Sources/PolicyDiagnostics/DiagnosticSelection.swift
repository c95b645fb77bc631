/// The diagnostics of a run, bounded while they are reported: the `limit` that matter most and a
/// count of all of them by severity, in memory that does not grow with their number.
///
/// What matters most: errors before warnings before notes (errors are why an input is refused, and a
/// flood of warnings must not hide them), then those that print first (by file, line and column),
/// then those reported first. A file of junk yields a diagnostic every few bytes; holding them all
/// until a bound was applied at the end took 480 MB for 4 MiB of `@a `.
///
/// Selections merge exactly: the best `limit` of a whole are among the best `limit` of each of its
/// parts, so a stage may collect its own and the run append them in the order the stages report.
public struct DiagnosticSelection: Sendable {
    /// How many diagnostics are kept at most.
    public let limit: Int
    /// How many were added, kept or not.
    public private(set) var count = 0
    /// Per severity, how many were added.
    private var errors = 0
    private var warnings = 0
    private var notes = 0
    /// Up to `limit` entries: in the order added while there is room, then a max-heap by
    /// `precedes`, whose root is the kept one that matters least (a newcomer that does not belong is
    /// refused with one comparison).
    private var entries: [Entry] = []
    private var isHeap = false

    private struct Entry: Sendable {
        var diagnostic: Diagnostic
        /// The diagnostic's position among all those added (ties are kept in that order).
        var sequence: Int
    }

    /// An empty selection keeping at most `limit` (at least one).
    public init(limit: Int = .max) {
        self.limit = max(1, limit)
    }

    /// Adds one diagnostic.
    public mutating func append(_ diagnostic: Diagnostic) {
        switch diagnostic.severity {
        case .error: errors += 1
        case .warning: warnings += 1
        case .note: notes += 1
        }
        offer(Entry(diagnostic: diagnostic, sequence: count))
        count += 1
    }

    /// Adds diagnostics in order.
    public mutating func append(contentsOf diagnostics: some Sequence<Diagnostic>) {
        for diagnostic in diagnostics { append(diagnostic) }
    }

    /// Adds what `other` collected, as if its diagnostics had been added here one by one in the order
    /// `other` was given them. Exact when `other` keeps at least as many as this one does.
    public mutating func append(contentsOf other: DiagnosticSelection) {
        precondition(other.limit >= limit || other.count <= other.limit, "a selection keeping fewer cannot be merged exactly")
        for entry in other.entries {
            offer(Entry(diagnostic: entry.diagnostic, sequence: count + entry.sequence))
        }
        count += other.count
        errors += other.errors
        warnings += other.warnings
        notes += other.notes
    }

    /// The kept diagnostics, in the order they were added.
    public var kept: [Diagnostic] {
        (isHeap ? entries.sorted { $0.sequence < $1.sequence } : entries).map(\.diagnostic)
    }

    /// How many were added that are not kept.
    public var omittedCount: Int { count - entries.count }

    /// How many of `severity` were added, kept or not.
    public func count(of severity: Severity) -> Int {
        switch severity {
        case .error: errors
        case .warning: warnings
        case .note: notes
        }
    }

    /// Whether any error was added, kept or not.
    public var hasErrors: Bool { errors > 0 }

    private mutating func offer(_ entry: Entry) {
        if entries.count < limit {
            entries.append(entry)
            return
        }
        if !isHeap {
            // Full for the first time: order the entries as a heap, once (it stays full from now on).
            for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
            isHeap = true
        }
        guard Self.precedes(entry, entries[0]) else { return }
        entries[0] = entry
        siftDown(0)
    }

    /// Whether `a` matters more than `b`: errors first, then by location, then in the order added.
    private static func precedes(_ a: Entry, _ b: Entry) -> Bool {
        let (rankA, rankB) = (rank(a.diagnostic.severity), rank(b.diagnostic.severity))
        if rankA != rankB { return rankA < rankB }
        if a.diagnostic.location != b.diagnostic.location { return a.diagnostic.location < b.diagnostic.location }
        return a.sequence < b.sequence
    }

    private static func rank(_ severity: Severity) -> Int {
        switch severity {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var largest = parent
            for child in (2 * parent + 1)...(2 * parent + 2)
            where child < entries.count && Self.precedes(entries[largest], entries[child]) {
                largest = child
            }
            guard largest != parent else { return }
            entries.swapAt(parent, largest)
            parent = largest
        }
    }
}
