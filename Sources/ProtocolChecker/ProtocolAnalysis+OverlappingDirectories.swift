import PolicyDiagnostics
import ProtocolModel

/// Across protocols: no two may claim the same xenstore paths (`E0746`), or the checker could not
/// tell which rules apply to a path.
///
/// Comparing every directory with every directory of every other protocol is quadratic: a file of
/// 5,000 one-line protocols took a minute of a debug build, and 5,000 that claim the same paths gave
/// 25 million diagnostics. So the earlier protocols' directories are indexed by their segments, each
/// directory is compared only with those that could overlap it at its most selective segment, and
/// each is reported once.
extension ProtocolAnalysis {
    /// Pairs of directories compared at most; past it, `W0750` says which protocols were not
    /// compared. With the index, a file of 5,000 protocols of their own device types compares
    /// none, and one of 5,000 identical protocols compares one pair per directory.
    static let directoryComparisons = 1_000_000

    /// `E0746` for each directory that overlaps one of a protocol checked before it, against the
    /// first such protocol (in the order read).
    static func overlappingDirectories(_ definitions: [ProtocolDefinition]) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var index = DirectoryIndex()
        var comparisonsLeft = directoryComparisons
        for (p, definition) in definitions.enumerated() {
            for directory in definition.directories {
                for candidate in index.candidates(for: directory.segments) {
                    guard comparisonsLeft > 0 else {
                        diagnostics.append(
                            .warning(
                                "W0750",
                                "the check of overlapping directories compared \(directoryComparisons) pairs of directories; "
                                    + "the directories of '\(definition.name)' and of the protocols after it were not all compared",
                                at: definition.origin.sourceLocation,
                                hint: "check fewer protocols together, or give each its own literal path segments"))
                        return diagnostics
                    }
                    comparisonsLeft -= 1
                    let (q, other) = index.entries[candidate]
                    guard overlap(other.segments, directory.segments) else { continue }
                    diagnostics.append(
                        .error(
                            "E0746",
                            "directory '\(other.name)' of '\(definitions[q].name)' overlaps directory '\(directory.name)' of '\(definition.name)'",
                            at: directory.origin.sourceLocation,
                            hint: "a path must belong to one protocol so that the checker knows which rules apply"))
                    break
                }
            }
            // Added after the protocol's own directories were compared: those never conflict.
            for directory in definition.directories { index.insert(directory, of: p) }
        }
        return diagnostics
    }

    /// Whether some path matches both templates: a parameter is a decimal number, so it overlaps a
    /// numeric literal; alternatives overlap their members.
    static func overlap(_ a: [Directory.Segment], _ b: [Directory.Segment]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            switch (x, y) {
            case (.parameter, .parameter): continue
            case (.literal(let s), .parameter), (.parameter, .literal(let s)): if !isNumeric(s) { return false }
            case (.literal(let s), .literal(let t)): if s != t { return false }
            case (.literal(let s), .alternatives(let options)), (.alternatives(let options), .literal(let s)):
                if !options.contains(s) { return false }
            case (.alternatives(let p), .alternatives(let q)): if Set(p).isDisjoint(with: q) { return false }
            case (.parameter, .alternatives(let options)), (.alternatives(let options), .parameter):
                if !options.contains(where: isNumeric) { return false }
            }
        }
        return true
    }

    /// Whether a literal could be the decimal number a parameter stands for.
    static func isNumeric(_ literal: String) -> Bool { literal.allSatisfy(\.isNumber) }
}

/// The directories of the protocols checked so far, indexed so that those that may overlap a
/// template are found without looking at the others.
///
/// For each segment count and position: the entries with each literal there, the entries whose
/// alternatives there include each name, and the entries with a parameter there. A template's
/// literal at a position can only overlap an entry with that literal or those alternatives there
/// (or a parameter, if the literal is numeric); the position whose lists are shortest gives the
/// candidates.
private struct DirectoryIndex {
    private struct Slot: Hashable {
        var count: Int
        var position: Int
    }

    private struct Name: Hashable {
        var slot: Slot
        var name: String
    }

    /// Each directory indexed, with its protocol's index; candidates are indices into it.
    private(set) var entries: [(protocolIndex: Int, directory: Directory)] = []
    private var byCount: [Int: [Int]] = [:]
    private var literals: [Name: [Int]] = [:]
    private var alternatives: [Name: [Int]] = [:]
    private var parameters: [Slot: [Int]] = [:]

    mutating func insert(_ directory: Directory, of protocolIndex: Int) {
        let id = entries.count
        entries.append((protocolIndex, directory))
        let count = directory.segments.count
        byCount[count, default: []].append(id)
        for (position, segment) in directory.segments.enumerated() {
            let slot = Slot(count: count, position: position)
            switch segment {
            case .literal(let name): literals[Name(slot: slot, name: name), default: []].append(id)
            case .alternatives(let names):
                for name in Set(names) { alternatives[Name(slot: slot, name: name), default: []].append(id) }
            case .parameter: parameters[slot, default: []].append(id)
            }
        }
    }

    /// The entries that may overlap `segments`, in the order inserted; every entry that does is
    /// among them.
    func candidates(for segments: [Directory.Segment]) -> [Int] {
        let count = segments.count
        var best: [[Int]]?
        var bestSize = Int.max
        for (position, segment) in segments.enumerated() {
            let slot = Slot(count: count, position: position)
            let names: [String]
            switch segment {
            case .literal(let name): names = [name]
            case .alternatives(let options): names = Array(Set(options))
            // A parameter overlaps every parameter and numeric literal: not selective.
            case .parameter: continue
            }
            var lists = names.flatMap { name in
                [literals[Name(slot: slot, name: name)] ?? [], alternatives[Name(slot: slot, name: name)] ?? []]
            }
            if names.contains(where: ProtocolAnalysis.isNumeric) { lists.append(parameters[slot] ?? []) }
            let size = lists.reduce(0) { $0 + $1.count }
            if size < bestSize {
                best = lists
                bestSize = size
            }
        }
        guard let best else { return byCount[count] ?? [] }
        let nonEmpty = best.filter { !$0.isEmpty }
        // Alternatives may be in several lists; in order of insertion, so that the first protocol overlapped is named.
        return nonEmpty.count <= 1 ? nonEmpty.first ?? [] : Set(nonEmpty.joined()).sorted()
    }
}

extension Origin {
    /// The diagnostics' location type.
    var sourceLocation: SourceLocation { SourceLocation(file: file, line: line, column: column) }
}
