import ProtocolModel

/// Matching relative paths against the path globs of `never` guarantees (`fe/**`, `be/*/state`).
extension ReplayEngine {
    /// Whether a glob of `rule` on `directory` matches the relative path. An ASCII path against
    /// globs whose names are ASCII is matched on its bytes, without splitting it into segments
    /// first (an array of substrings per message); otherwise as `String`s, since `Character`
    /// comparison then differs from bytes (canonical equivalence, grapheme clusters).
    static func anyGlobMatches(_ rule: NeverRule, _ directory: Int, _ relative: Substring) -> Bool {
        if rule.asciiNames,
            let matched = withBytes(
                relative,
                { bytes -> Bool? in
                    guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
                    return rule.globs.contains { $0.directory == directory && glob($0.segments[...], bytes, from: bytes.isEmpty ? -1 : 0) }
                })
        {
            return matched
        }
        let segments = segments(relative)
        return rule.globs.contains { $0.directory == directory && glob($0.segments[...], segments[...]) }
    }

    /// `glob(_:_:)` on the bytes of a path: `start` is where its next segment begins, -1 when no
    /// segment is left (an empty path has none; `a/` has two, the second empty).
    static func glob(_ glob: ArraySlice<PathGlob.Segment>, _ path: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        guard let first = glob.first else { return start < 0 }
        /// Where the segment at `start` ends, and where the one after it begins.
        func segment(at start: Int) -> (end: Int, next: Int) {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            return (end, end == path.count ? -1 : end + 1)
        }
        switch first {
        case .literal(let name):
            guard start >= 0 else { return false }
            let (end, next) = segment(at: start)
            guard name.utf8.elementsEqual(UnsafeBufferPointer(rebasing: path[start..<end])) else { return false }
            return Self.glob(glob.dropFirst(), path, from: next)
        case .any:
            guard start >= 0 else { return false }
            return Self.glob(glob.dropFirst(), path, from: segment(at: start).next)
        case .anyDepth:
            var position = start
            while true {
                if Self.glob(glob.dropFirst(), path, from: position) { return true }
                guard position >= 0 else { return false }
                position = segment(at: position).next
            }
        }
    }

    /// The `/`-separated segments of a relative path (empty segments kept). An ASCII path is split
    /// on bytes: splitting on the `Character` `/` walks grapheme clusters, which only matters (a
    /// combining mark after a `/`) when there are non-ASCII bytes.
    static func segments(_ relative: Substring) -> [Substring] {
        guard !relative.isEmpty else { return [] }
        let utf8 = relative.utf8
        guard utf8.allSatisfy({ $0 < 0x80 }) else { return relative.split(separator: "/", omittingEmptySubsequences: false) }
        var result: [Substring] = []
        var start = utf8.startIndex
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: "/") {
                result.append(Substring(utf8[start..<index]))
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        result.append(Substring(utf8[start..<utf8.endIndex]))
        return result
    }

    static func glob(_ glob: ArraySlice<PathGlob.Segment>, _ segments: ArraySlice<Substring>) -> Bool {
        guard let first = glob.first else { return segments.isEmpty }
        switch first {
        case .literal(let name):
            guard let segment = segments.first, segment == name else { return false }
            return Self.glob(glob.dropFirst(), segments.dropFirst())
        case .any:
            guard !segments.isEmpty else { return false }
            return Self.glob(glob.dropFirst(), segments.dropFirst())
        case .anyDepth:
            for skip in 0...segments.count where Self.glob(glob.dropFirst(), segments.dropFirst(skip)) { return true }
            return false
        }
    }
}
