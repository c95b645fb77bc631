import CPrefetch
import XenstoreTrace

/// Who sent a message: the connection and, when the trace shows it, the daemon's handle of it
/// (cxenstored shows every toolstack socket as `d0`; the handle tells them apart).
struct ConnectionID: Hashable {
    var connection: Connection
    var handle: UInt64?

    /// The domain of the connection; a socket is in the privileged domain 0.
    var domid: Int {
        switch connection {
        case .domain(let domid): domid
        case .socket: 0
        }
    }

    var isPrivileged: Bool { connection.isPrivileged }
}

/// A node of a tracked directory: its value and who wrote it last.
struct Entry {
    var value: String
    var writerDomid: Int
    var writerPrivileged: Bool
    var line: Int
    /// A type violation of this value has been reported (by the write or by `val`).
    var typeReported = false
    /// The value is known to have the type of the key without index variables at its path
    /// (`KeyFacts.fixedFits`), so the checks when an instance is created need not check it again.
    var fitsFixedKey = false
}

/// One directory of an instance (or of a directory still waiting for its instance). Nodes that are
/// declared keys without index variables live in fixed slots (programs address them by slot); the
/// others (indexed keys, parents created implicitly, undeclared keys) in a dictionary.
final class DirectoryState {
    let root: RootKey
    let rootPath: String
    let layout: DirectoryLayout
    @exclusivity(unchecked) var exists: Bool
    /// Per slot of the layout (an `OwnedBuffer`, for the reasons it gives).
    let fixed: OwnedBuffer<Entry?>
    @exclusivity(unchecked) var other: [String: Entry] = [:]

    init(root: RootKey, rootPath: String, exists: Bool, layout: DirectoryLayout) {
        self.root = root
        self.rootPath = rootPath
        self.exists = exists
        self.layout = layout
        fixed = OwnedBuffer(emptySlots: layout.paths.count)
    }

    deinit {
        fixed.free()
    }

    /// Prefetches the object's fields (`ReplayEngine.prefetchAhead`).
    func prefetch() {
        let address = UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque())
        for line in stride(from: 0, to: 192, by: 64) { xp_prefetch(address + line) }
    }

    /// The node at a relative path.
    subscript(path: Substring) -> Entry? {
        get {
            if let slot = layout.lookup[path] { return fixed[slot] }
            return other.isEmpty ? nil : other[String(path)]
        }
        set {
            if let slot = layout.lookup[path] {
                fixed[slot] = newValue
            } else {
                other[String(path)] = newValue
            }
        }
    }

    subscript(path: String) -> Entry? {
        get { self[Substring(path)] }
        set { self[Substring(path)] = newValue }
    }

    /// Every node, in no particular order.
    var all: [(String, Entry)] {
        var result: [(String, Entry)] = []
        forEachNode { result.append(($0, $1)) }
        return result
    }

    /// Hands every node to `body`, in no particular order, without collecting them first.
    func forEachNode(_ body: (String, Entry) -> Void) {
        for slot in 0..<layout.paths.count { if let entry = fixed[slot] { body(layout.paths[slot], entry) } }
        for (path, entry) in other { body(path, entry) }
    }

    func removeAll() {
        for slot in fixed.indices { fixed[slot] = nil }
        other.removeAll()
    }

    /// Removes the node at `path` and everything below it; returns what was removed.
    func removeSubtree(_ path: Substring) -> [(String, Entry)] {
        var removed: [(String, Entry)] = []
        let prefix = path + "/"
        for (slot, entry) in fixed.enumerated() {
            guard let entry else { continue }
            let name = layout.paths[slot]
            if name == path || name.hasPrefix(prefix) {
                removed.append((name, entry))
                fixed[slot] = nil
            }
        }
        if !other.isEmpty {
            for (name, entry) in other where name == path || name.hasPrefix(prefix) { removed.append((name, entry)) }
            for (name, _) in removed where layout.lookup[Substring(name)] == nil { other[name] = nil }
        }
        return removed
    }

    /// Whether some node lies below `path`.
    func hasChildren(_ path: String) -> Bool {
        let prefix = path + "/"
        return all.contains { $0.0.hasPrefix(prefix) }
    }
}

/// The timer of one expectation of one instance.
struct TimerState {
    /// The deadline, while armed.
    var deadline: Int64?
    /// The line whose commit armed it.
    var armedLine = 0
    /// Fired in this episode: not reported again until it is disarmed.
    var fired = false
    /// Changes on every arm and disarm, so that stale heap entries are recognised.
    var generation: UInt32 = 0
}

/// A live protocol instance: the binding of the protocol's parameters, its directories, the tracked
/// state of each machine, and the checker's own bookkeeping.
final class Instance {
    /// How much of the object `ReplayEngine.prefetchAhead` prefetches: its fields (the allocation is
    /// 216 bytes; the connection roles cached at the end are read by every message).
    static let prefetchedBytes = 256

    let serial: Int
    let protocolDefinition: CompiledProtocol
    let parameters: [Int]
    /// `vbd fe=5 be=0 devid=768`; built only for reports.
    var name: String { ReplayEngine.instanceName(protocolDefinition, parameters) }
    let directories: [DirectoryState]
    // The per-directory and per-rule fields below are `OwnedBuffer`s, freed in `deinit`.
    /// Per directory: the tracked state value (0, `Unknown`, when there is none).
    let states: OwnedBuffer<Int>
    /// Per directory: the states seen since creation or the last `Closed`, as bits.
    let seen: OwnedBuffer<UInt32>
    /// The toolstack is still creating the instance: initialisers may write.
    @exclusivity(unchecked) var creating = true
    let creator: ConnectionID
    let creatorTransaction: Int?
    /// Per expectation.
    let timers: OwnedBuffer<TimerState>
    /// Per `always` guarantee: currently failing (reported when it started failing).
    let alwaysFailing: OwnedBuffer<Bool>
    /// Findings already reported, by rule/party/path, to count repeats instead of reporting them again.
    @exclusivity(unchecked) var reported: [String: Int] = [:]
    @exclusivity(unchecked) var live = true
    /// Per commit: touched by the commit, and the `always` guarantees and expectations (as bits, the
    /// protocol's `alwaysReading` and `expectationsReading` of the keys it changed, or all) to
    /// evaluate after it. Masks rather than a list of keys: nothing to append to per write.
    @exclusivity(unchecked) var inCommit = false
    @exclusivity(unchecked) var alwaysDue: UInt64 = 0
    @exclusivity(unchecked) var expectationsDue: UInt64 = 0
    /// The roles of the last connection asked about (most messages come from the same one).
    @exclusivity(unchecked) private var cachedRoles: (domid: Int, privileged: Bool, roles: UInt32) = (-1, false, 0)

    init(
        serial: Int, protocolDefinition: CompiledProtocol, parameters: [Int], directories: [DirectoryState], creator: ConnectionID,
        transaction: Int?
    ) {
        self.serial = serial
        self.protocolDefinition = protocolDefinition
        self.parameters = parameters
        self.directories = directories
        states = OwnedBuffer(repeating: 0, count: directories.count)
        seen = OwnedBuffer(repeating: 0, count: directories.count)
        self.creator = creator
        creatorTransaction = transaction
        timers = OwnedBuffer(repeating: TimerState(), count: protocolDefinition.expectations.count)
        alwaysFailing = OwnedBuffer(repeating: false, count: protocolDefinition.always.count)
    }

    deinit {
        states.free()
        seen.free()
        timers.free()
        alwaysFailing.free()
    }

    /// The canonical roles a connection plays in this instance: the roles whose principal is an
    /// instance parameter equal to the connection's domain, and the privileged roles for a privileged
    /// connection (a socket, or domain 0).
    func roles(domid: Int, privileged: Bool) -> UInt32 {
        if cachedRoles.domid == domid && cachedRoles.privileged == privileged { return cachedRoles.roles }
        let roles = ReplayEngine.roles(protocolDefinition, parameters: parameters, domid: domid, privileged: privileged)
        cachedRoles = (domid, privileged, roles)
        return roles
    }

    /// The domain that plays a role in this instance (0 for a privileged role), if known.
    func domid(of role: Int) -> Int? {
        let roles = protocolDefinition.definition.roles
        guard role >= 0, role < roles.count else { return nil }
        switch roles[role].principal {
        case .parameter(let index):
            guard index >= 0, index < parameters.count, parameters[index] >= 0 else { return nil }
            return parameters[index]
        case .privileged:
            return 0
        }
    }
}

/// A directory that exists (the toolstack, or someone else, wrote into it) but whose instance has not
/// been created yet: its nodes are recorded so that the instance starts with them.
final class PendingDirectory {
    let protocolDefinition: CompiledProtocol
    let directory: Int
    /// The parameters this directory binds (`-1` for the others).
    let parameters: [Int]
    let state: DirectoryState
    /// Link key values written so far: the link's index (in `CompiledProtocol.links`) and the root
    /// it names, in link order. A short array: a directory has one or two links, and a dictionary
    /// would be made and destroyed for each.
    @exclusivity(unchecked) var links: [(link: Int, root: RootKey)] = []
    @exclusivity(unchecked) var creator: ConnectionID?
    /// Connections already reported for writing here before the instance existed.
    @exclusivity(unchecked) var reportedWriters: Set<ConnectionID> = []

    init(protocolDefinition: CompiledProtocol, directory: Int, parameters: [Int], state: DirectoryState) {
        self.protocolDefinition = protocolDefinition
        self.directory = directory
        self.parameters = parameters
        self.state = state
    }

    /// Records the root a link names (nil: forgets it).
    func setLink(_ link: Int, _ root: RootKey?) {
        let index = links.firstIndex { $0.link >= link } ?? links.endIndex
        if index < links.endIndex && links[index].link == link {
            if let root { links[index].root = root } else { links.remove(at: index) }
        } else if let root {
            links.insert((link, root), at: index)
        }
    }
}
