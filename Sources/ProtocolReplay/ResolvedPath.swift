import XenstoreTrace

/// The path of a mutating message resolved against the directory templates: the absolute path and
/// where it lies. It depends only on the message and the immutable templates, not on the replay's
/// state, so `ReplayEngine.replay(_:)` computes it on the reading thread, ahead of the replay.
struct ResolvedPath {
    /// The absolute path (a relative one is under the sender's `/local/domain/<domid>`), or `nil`
    /// when the message names none that can be resolved.
    var path: String?
    var location: PathLocation
}

/// A batch of events with their resolved paths. A class, so that the reader's generic batch
/// handling only passes a reference and the arrays are destroyed by code specialised for them.
final class ResolvedBatch: @unchecked Sendable {
    private(set) var events: [TraceEvent]
    private(set) var paths: [ResolvedPath]

    init(events: [TraceEvent], paths: [ResolvedPath]) {
        self.events = events
        self.paths = paths
    }

    /// Destroys the events here, where their type is known: the array's own deinit would destroy
    /// each element through generic value witnesses, several times slower.
    func clear() {
        events.removeAll(keepingCapacity: true)
        paths.removeAll(keepingCapacity: true)
    }
}

/// Resolves paths with the engine's immutable tables; safe to use from another thread while the
/// engine replays, since it changes nothing.
final class PathResolver: @unchecked Sendable {
    let index: DirectoryIndex

    init(index: DirectoryIndex) {
        self.index = index
    }

    func resolve(_ event: TraceEvent) -> ResolvedPath {
        guard let path = Self.absolutePath(event) else { return ResolvedPath(path: nil, location: .none) }
        return ResolvedPath(path: path, location: index.locate(path))
    }

    /// The resolved paths of a batch: for each mutating message, its path; none for the others.
    /// Not optional: an array of optionals of a non-trivial type is destroyed element by element
    /// through generic value witnesses, which cost more than the resolution.
    func resolve(_ events: [TraceEvent]) -> [ResolvedPath] {
        events.map { $0.operation.isMutating ? resolve($0) : ResolvedPath(path: nil, location: .none) }
    }

    static func absolutePath(_ event: TraceEvent) -> String? {
        guard let path = event.path, !path.isEmpty else { return nil }
        if path.utf8.first == UInt8(ascii: "/") { return path }
        guard case .domain(let domid) = event.connection else { return nil }
        return "/local/domain/\(domid)/\(path)"
    }
}
