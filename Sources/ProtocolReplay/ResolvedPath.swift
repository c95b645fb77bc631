import CPrefetch
import ProtocolModel
import XenstoreTrace

/// The absolute path of a message: a `String`, or bytes of the batch it came in (which live as long
/// as the replay of that batch), made a `String` only for a report or to be kept longer. Reports
/// interpolate it as the path.
struct MessagePath: CustomStringConvertible {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let owned: String?

    init(_ string: String) {
        owned = string
        bytes = UnsafeBufferPointer(start: nil, count: 0)
    }

    /// Bytes that stay valid while the path is used (the batch being replayed).
    init(borrowing bytes: UnsafeBufferPointer<UInt8>) {
        owned = nil
        self.bytes = bytes
    }

    /// The path as a string.
    var string: String { owned ?? String(decoding: bytes, as: UTF8.self) }

    var description: String { string }

    /// The path with its own storage, to keep beyond the batch (a staged transaction's messages).
    var kept: MessagePath { owned == nil ? MessagePath(string) : self }

    /// Its first `count` bytes (a directory's root), as a string.
    func prefix(_ count: Int) -> String {
        if let owned {
            let utf8 = owned.utf8
            return String(owned[owned.startIndex..<utf8.index(utf8.startIndex, offsetBy: count)])
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<count]), as: UTF8.self)
    }
}

extension TraceEvent {
    /// The value a write stores (empty when the trace shows none), which the resolver checks against
    /// the key's type (`KeyFacts`); `nil` for every other operation.
    var writtenValue: String? {
        if case .write = operation { return value ?? "" }
        return nil
    }
}

/// The path of a mutating message resolved against the directory templates: the absolute path and
/// where it lies. It depends only on the message and the immutable templates, not on the replay's
/// state, so `ReplayEngine.replay(_:)` computes it on the reading thread, ahead of the replay.
struct ResolvedPath {
    /// The absolute path (a relative one is under the sender's `/local/domain/<domid>`), or `nil`
    /// when the message names none that can be resolved.
    var path: MessagePath?
    var location: PathLocation
}

/// A batch of events with their resolved paths, made on the reading thread and replayed on the
/// engine's. A class, so that the reader's generic batch handling only passes a reference; the
/// events stay in the reader's `EventBatch` and are moved out one by one for the replay, so no
/// event is copied and none is destroyed through generic value witnesses. Absolute paths the batch
/// holds as bytes are resolved and replayed as those bytes: no `String` is made for them.
final class ResolvedBatch: @unchecked Sendable {
    private let events: EventBatch
    private let paths: UnsafeMutablePointer<ResolvedPath>
    private var count: Int

    init(_ events: EventBatch, resolver: PathResolver) {
        self.events = events
        count = events.count
        paths = .allocate(capacity: max(1, count))
        events.withEvents { list in
            for index in list.indices {
                let resolved: ResolvedPath
                if !list[index].operation.isMutating {
                    resolved = ResolvedPath(path: nil, location: .none)
                } else {
                    let value = list[index].writtenValue
                    if let bytes = events.pathBytes(at: index) {
                        resolved = resolver.resolve(bytes: bytes, connection: list[index].connection, value: value)
                    } else {
                        resolved = resolver.resolve(path: list[index].path, connection: list[index].connection, value: value)
                    }
                }
                (paths + index).initialize(to: resolved)
            }
        }
    }

    deinit {
        paths.deinitialize(count: count)
        paths.deallocate()
    }

    /// Whether the batch only marks a second without input (`EventBatch.isIdleTick`).
    var isIdleTick: Bool { events.isIdleTick }

    /// Hands each event and its path to `body`, in order, in place (`inout` only so that they are not
    /// copied); they are destroyed with the batch, which `TraceReader.forEachBatch` releases on the
    /// reading thread, where their strings were allocated (freeing them on the replay's thread makes
    /// the two threads contend for the allocator's arena). Before each event it calls `ahead` with the
    /// resolved paths, their number and the event's index, so that the replay can prefetch what the
    /// events after it will need; the events themselves, written by the reading thread, it prefetches
    /// `eventDistance` places ahead.
    func forEach(
        ahead: (UnsafePointer<ResolvedPath>, Int, Int) -> Void, _ body: (inout TraceEvent, inout ResolvedPath) -> Void
    ) {
        var index = 0
        let count = count
        let paths = paths
        events.forEach { event in
            guard index < count else { return }
            if index &+ Self.eventDistance < count {
                withUnsafeMutablePointer(to: &event) { pointer in
                    let ahead = UnsafeRawPointer(pointer + Self.eventDistance)
                    for line in stride(from: 0, to: MemoryLayout<TraceEvent>.stride, by: 64) { xp_prefetch(ahead + line) }
                }
                let path = UnsafeRawPointer(paths + (index &+ Self.eventDistance))
                for line in stride(from: 0, to: MemoryLayout<ResolvedPath>.stride, by: 64) { xp_prefetch(path + line) }
            }
            ahead(UnsafePointer(paths), count, index)
            body(&event, &paths[index])
            index += 1
        }
    }

    /// How many events ahead `forEach(ahead:_:)` prefetches the events.
    static let eventDistance = 16
}

/// Resolves paths with the engine's immutable tables; safe to use from another thread while the
/// engine replays, since it changes nothing.
final class PathResolver: @unchecked Sendable {
    let index: DirectoryIndex
    /// Per directory template: the declared keys without index variables of its directory, by
    /// relative path.
    let fixedKeys: [ByteTable]
    /// `fixedKeys` (which keeps them) unretained, for the lookup of every message: taken from the
    /// array, each table was retained and released around it.
    private let unretainedFixedKeys: UnsafeMutableBufferPointer<Unmanaged<ByteTable>>
    /// Per template: its directory's pattern keys (`CompiledProtocol.patternKeys`) and matchers of
    /// them; per protocol, per key: a check of values against its type. The resolver's own, for
    /// `KeyFacts`: the engine's keep a cache of matches and are counted by its thread.
    private let patternKeys: [[Int]]
    private let patternMatchers: [[KeyMatcher]]
    private let valueChecks: [[ValueTypeCheck]]

    /// The resolver gets its own index and tables, equal to the engine's: objects that both
    /// threads retain and release would bounce their reference counts between the processors.
    init(definitions: [ProtocolDefinition], protocols: [CompiledProtocol]) {
        index = DirectoryIndex(protocols: definitions)
        let tables = protocols.map { $0.fixedKeys.map { ByteTable($0.entries) } }
        fixedKeys = index.templates.map { tables[$0.protocolIndex][$0.directory] }
        unretainedFixedKeys = .allocate(capacity: max(1, fixedKeys.count))
        _ = unretainedFixedKeys.initialize(from: fixedKeys.map { Unmanaged.passUnretained($0) })
        patternKeys = index.templates.map { protocols[$0.protocolIndex].patternKeys[$0.directory] }
        patternMatchers = index.templates.map { template in
            let compiled = protocols[template.protocolIndex]
            return compiled.patternKeys[template.directory].map {
                KeyMatcher(segments: compiled.keys[$0].segments, slotCount: compiled.keys[$0].slotCount)
            }
        }
        valueChecks = protocols.map { compiled in
            compiled.keys.map { ValueTypeCheck($0.key.type, states: compiled.definition.states.map(\.value)) }
        }
    }

    /// What the path below a directory's root and, for a write, the value tell about the key they
    /// name (`KeyFacts`); nothing for the root itself and for a directory with more pattern keys
    /// than the facts hold.
    func facts(template: Int, relative: UnsafeBufferPointer<UInt8>, fixedKey: Int, value: String?) -> KeyFacts {
        let matchers = patternMatchers[template]
        guard !relative.isEmpty, matchers.count <= KeyFacts.maximumPatternKeys else { return .unknown }
        var facts = KeyFacts.known
        let checks = valueChecks[index.templates[template].protocolIndex]
        if fixedKey >= 0 {
            if let value { facts.fixedFits = checks[fixedKey].fits(value) }
            return facts
        }
        let keys = patternKeys[template]
        for position in matchers.indices where matchers[position].match(relative, values: nil) {
            facts.addShape(position, fits: value.map { checks[keys[position]].fits($0) } ?? false)
        }
        return facts
    }

    deinit { unretainedFixedKeys.deallocate() }

    func resolve(_ event: TraceEvent) -> ResolvedPath {
        resolve(path: event.path, connection: event.connection, value: event.writtenValue)
    }

    /// Resolves a path that a batch holds as bytes (ASCII, see `EventBatch.pathBytes(at:)`), from
    /// `connection`. An absolute one is located in place; the rest as strings. `value`: a write's.
    func resolve(bytes: UnsafeBufferPointer<UInt8>, connection: Connection, value: String? = nil) -> ResolvedPath {
        guard bytes.first == UInt8(ascii: "/") else {
            return resolve(path: String(decoding: bytes, as: UTF8.self), connection: connection, value: value)
        }
        let path = MessagePath(borrowing: bytes)
        switch index.locate(bytes) {
        case .none: return ResolvedPath(path: path, location: .none)
        case .ancestor: return ResolvedPath(path: path, location: .ancestor)
        case .directory(let found):
            let relativeBytes = UnsafeBufferPointer(rebasing: bytes[found.relativeStart...])
            // A declared key's name (the table's key) is shared; any other path gets its own string
            // (mostly short enough to be stored inline, without allocating).
            let (fixedKey, name) = unretainedFixedKeys[found.template]._withUnsafeGuaranteedRef { table -> (Int, String?) in
                let entry = table.entry(relativeBytes)
                return entry < 0 ? (-1, nil) : (table.entries[entry].value, table.entries[entry].key)
            }
            let relative = Substring(name ?? String(decoding: relativeBytes, as: UTF8.self))
            let match = DirectoryMatch(
                template: found.template, root: found.root, relative: relative, rootLength: found.rootEnd, fixedKey: fixedKey,
                facts: facts(template: found.template, relative: relativeBytes, fixedKey: fixedKey, value: value))
            return ResolvedPath(path: path, location: .directory(match))
        }
    }

    /// Resolves the path of a message (`TraceEvent.path`) from `connection`; `value`: a write's.
    func resolve(path: String?, connection: Connection, value: String? = nil) -> ResolvedPath {
        guard var path = Self.absolutePath(path, connection) else { return ResolvedPath(path: nil, location: .none) }
        path.makeContiguousUTF8()
        var fixedKey = -1
        var facts = KeyFacts.unknown
        let location = path.utf8.withContiguousStorageIfAvailable { bytes -> DirectoryIndex.ByteLocation in
            let location = index.locate(bytes)
            if case .directory(let found) = location {
                let relative = UnsafeBufferPointer(rebasing: bytes[found.relativeStart...])
                fixedKey = fixedKeys[found.template].value(relative) ?? -1
                facts = self.facts(template: found.template, relative: relative, fixedKey: fixedKey, value: value)
            }
            return location
        }
        switch location ?? .none {
        case .none: return ResolvedPath(path: MessagePath(path), location: .none)
        case .ancestor: return ResolvedPath(path: MessagePath(path), location: .ancestor)
        case .directory(let found):
            let utf8 = path.utf8
            let relative = path[utf8.index(utf8.startIndex, offsetBy: found.relativeStart)...]
            let match = DirectoryMatch(
                template: found.template, root: found.root, relative: relative, rootLength: found.rootEnd, fixedKey: fixedKey,
                facts: facts)
            return ResolvedPath(path: MessagePath(path), location: .directory(match))
        }
    }

    static func absolutePath(_ path: String?, _ connection: Connection) -> String? {
        guard let path, !path.isEmpty else { return nil }
        if path.utf8.first == UInt8(ascii: "/") { return path }
        guard case .domain(let domid) = connection else { return nil }
        return "/local/domain/\(domid)/\(path)"
    }
}
