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
    /// Per protocol and directory: the declared keys without index variables, by relative path.
    let fixedKeys: [[ByteTable]]

    init(index: DirectoryIndex, protocols: [CompiledProtocol]) {
        self.index = index
        fixedKeys = protocols.map(\.fixedKeys)
    }

    func resolve(_ event: TraceEvent) -> ResolvedPath {
        guard var path = Self.absolutePath(event) else { return ResolvedPath(path: nil, location: .none) }
        path.makeContiguousUTF8()
        var fixedKey = -1
        let location = path.utf8.withContiguousStorageIfAvailable { bytes -> DirectoryIndex.ByteLocation in
            let location = index.locate(bytes)
            if case .directory(let found) = location {
                let template = index.templates[found.template]
                let relative = UnsafeBufferPointer(rebasing: bytes[found.relativeStart...])
                fixedKey = fixedKeys[template.protocolIndex][template.directory].value(relative) ?? -1
            }
            return location
        }
        switch location ?? .none {
        case .none: return ResolvedPath(path: path, location: .none)
        case .ancestor: return ResolvedPath(path: path, location: .ancestor)
        case .directory(let found):
            let utf8 = path.utf8
            let rootPath = path[path.startIndex..<utf8.index(utf8.startIndex, offsetBy: found.rootEnd)]
            let relative = path[utf8.index(utf8.startIndex, offsetBy: found.relativeStart)...]
            let match = DirectoryMatch(
                template: found.template, root: found.root, rootPath: rootPath, relative: relative, fixedKey: fixedKey)
            return ResolvedPath(path: path, location: .directory(match))
        }
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
