/// "Did you mean" suggestions for misspelt names, shared by every front end.
/// "Did you mean" suggestions for misspelt type and label names.
public enum NameSuggestion {
    /// The candidate closest to `name` by edit distance, if within `limit` (default: a third of the
    /// name's length, at least 1) edits. Ties go to the candidate first in code point order, so the
    /// suggestion does not depend on the order of a dictionary.
    public static func closest(to name: String, in candidates: some Sequence<String>, limit: Int? = nil) -> String? {
        let limit = limit ?? max(1, name.count / 3)
        var best: (String, Int)? = nil
        for candidate in candidates where candidate != name {
            let distance = editDistance(Array(name.lowercased()), Array(candidate.lowercased()), limit: limit)
            guard distance <= limit else { continue }
            if let current = best,
                distance > current.1 || (distance == current.1 && !candidate.utf8.lexicographicallyPrecedes(current.0.utf8))
            {
                continue
            }
            best = (candidate, distance)
        }
        return best?.0
    }

    /// A hint text for `closest`, or nil.
    public static func hint(for name: String, in candidates: some Sequence<String>, limit: Int? = nil) -> String? {
        closest(to: name, in: candidates, limit: limit).map { "did you mean '\($0)'?" }
    }

    /// Edit distance counting insertions, deletions, substitutions and adjacent transpositions
    /// (the commonest typo, "Rde" for "Red"), giving up early once it must exceed `limit`.
    private static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            var rowMinimum = Int.max
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, table[i - 2][j - 2] + 1)
                }
                table[i][j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return limit + 1 }
        }
        return table[a.count][b.count]
    }
}
