import PolicyDiagnostics

/// The bound on what one run of the protocol front end reports (loading, parsing and checking the
/// files given and the libraries they import), as `RuleTableDecoder.errorLimit` and the trace
/// reader's `maximumDiagnostics` bound theirs.
///
/// A file of binary garbage or of stray punctuation yields a diagnostic every few bytes: hundreds of
/// thousands for a megabyte, each printed with its source line. Nobody reads past the first
/// screenful, and the rest only costs time and memory to render, so a run reports the first
/// `maximum` and one note (`N0701`) with the number of the others.
public enum ProtocolDiagnosticLimit {
    /// How many diagnostics a run reports at most (the note `N0701` comes on top).
    public static let maximum = 200

    /// The code of the note that counts the diagnostics left out.
    public static let suppressedCode: DiagnosticCode = "N0701"

    /// `diagnostics` cut to `limit`, in their original order, followed by an `N0701` note when any
    /// were left out.
    ///
    /// Errors are kept before warnings and notes: they are why the input is refused, and a flood of
    /// warnings must not hide them. Within a severity the ones that print first (by file, line and
    /// column) are kept. The note sits at the location of the last kept diagnostic, so that it
    /// prints last; the status of the run is unaffected, since an input with errors keeps some.
    public static func apply(_ diagnostics: [Diagnostic], limit: Int = maximum) -> [Diagnostic] {
        let limit = max(1, limit)
        guard diagnostics.count > limit else { return diagnostics }
        // A bounded max-heap of the best `limit` indices: a single pass, O(n log limit), where
        // sorting a million diagnostics would take seconds of a debug build.
        var heap = BoundedSelection(limit: limit) { a, b in Self.precedes(diagnostics[a], a, diagnostics[b], b) }
        for index in diagnostics.indices { heap.offer(index) }
        let kept = heap.elements.sorted()
        let keptSet = Set(kept)
        var errors = 0
        var warnings = 0
        var notes = 0
        for (index, diagnostic) in diagnostics.enumerated() where !keptSet.contains(index) {
            switch diagnostic.severity {
            case .error: errors += 1
            case .warning: warnings += 1
            case .note: notes += 1
            }
        }
        let last = kept.max { diagnostics[$0].location < diagnostics[$1].location } ?? 0
        var result = kept.map { diagnostics[$0] }
        let counts = [(errors, "error"), (warnings, "warning"), (notes, "note")].filter { $0.0 > 0 }
            .map { $0.0 == 1 ? "1 \($0.1)" : "\($0.0) \($0.1)s" }.joined(separator: ", ")
        result.append(
            Diagnostic(
                .note, suppressedCode,
                "\(diagnostics.count - kept.count) more diagnostics (\(counts)) were counted but not shown "
                    + "(at most \(limit) are reported a run)",
                at: diagnostics[last].location, hint: "fix the first ones and run again; later ones are often their consequences"))
        return result
    }

    /// Whether `a` (at index `i`) is kept before `b` (at `j`): errors first, then by location, then
    /// in the order reported.
    private static func precedes(_ a: Diagnostic, _ i: Int, _ b: Diagnostic, _ j: Int) -> Bool {
        let (rankA, rankB) = (rank(a.severity), rank(b.severity))
        if rankA != rankB { return rankA < rankB }
        if a.location != b.location { return a.location < b.location }
        return i < j
    }

    private static func rank(_ severity: Severity) -> Int {
        switch severity {
        case .error: 0
        case .warning: 1
        case .note: 2
        }
    }
}

/// The `limit` least elements offered, by `precedes`: a max-heap whose root is the greatest kept,
/// so an element that does not belong is refused with one comparison.
private struct BoundedSelection {
    let limit: Int
    let precedes: (Int, Int) -> Bool
    private(set) var elements: [Int] = []

    init(limit: Int, precedes: @escaping (Int, Int) -> Bool) {
        self.limit = limit
        self.precedes = precedes
    }

    mutating func offer(_ element: Int) {
        if elements.count < limit {
            elements.append(element)
            siftUp(elements.count - 1)
        } else if let root = elements.first, precedes(element, root) {
            elements[0] = element
            siftDown(0)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(elements[parent], elements[child]) else { return }
            elements.swapAt(parent, child)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            var largest = parent
            for child in [2 * parent + 1, 2 * parent + 2] where child < elements.count && precedes(elements[largest], elements[child]) {
                largest = child
            }
            guard largest != parent else { return }
            elements.swapAt(parent, largest)
            parent = largest
        }
    }
}
