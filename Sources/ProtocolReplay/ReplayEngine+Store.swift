import ProtocolModel
import XenstoreTrace

/// Applying a message to the tracked store of an instance: nodes, tracked states, removal of
/// directories and instances, and the undo journal of the last message.
extension ReplayEngine {
    /// Applies a message to the tracked store: judges it (unless judged already), changes the store,
    /// creates and destroys instances; journals what it changed while `journaling` is set.
    func apply(_ event: TraceEvent, path: MessagePath, location: PathLocation, connection: ConnectionID, judged: Judged) {
        switch location {
        case .none:
            return
        case .ancestor:
            guard case .rm = event.operation else { return }
            if journaling {
                deferredRemoval = DeferredRemoval(event: event, path: path.string, connection: connection)
            } else {
                removeBelow(path.string, event: event, connection: connection)
            }
        case .directory(let match):
            let template = index.templates[match.template]
            if let live = liveDirectory(match.root) {
                if case .rm = event.operation, match.relative.isEmpty, journaling,
                    deferIfLast(live, root: match.root, event: event, path: path, connection: connection)
                {
                    return
                }
                applyToInstance(
                    live.instance, live.directory, relative: match.relative, fixedKey: match.fixedKey, facts: match.facts, path: path,
                    event: event, connection: connection, judged: judged)
                return
            }
            applyToPending(protocols[template.protocolIndex], template.directory, match, path: path, event: event, connection: connection)
        }
    }

    /// Defers the `rm` of an instance's last directory (`deferredRemoval`): removing it ends the
    /// instance, which the undo journal cannot bring back, so it waits for the next message, as an `rm`
    /// above directory roots does. Out of line: `apply` runs for every message.
    @inline(never)
    func deferIfLast(_ live: LiveDirectory, root: RootKey, event: TraceEvent, path: MessagePath, connection: ConnectionID) -> Bool {
        let directories = live.instance.directories
        guard !directories.indices.contains(where: { $0 != live.directory && directories[$0].exists }) else { return false }
        deferredRemoval = DeferredRemoval(event: event, path: "", connection: connection, root: root)
        return true
    }

    func applyToInstance(
        _ instance: Instance, _ directory: Int, relative: Substring, fixedKey: Int = -2, facts: KeyFacts = .unknown, path: MessagePath,
        event: TraceEvent, connection: ConnectionID, judged: Judged
    ) {
        let compiled = instance.protocolDefinition
        if instance.creating && (connection != instance.creator || event.transaction != instance.creatorTransaction) {
            instance.creating = false
        }
        var transition: (machine: Int, transition: Int, roles: UInt32, from: Int)? = nil
        var typeViolated = false
        var resolvedKey = -1
        let checks: Checks
        switch judged {
        case .notJudged: checks = [.never, .key, .state]
        case .passed: checks = [.state]
        case .deferred: checks = [.key, .state]
        case .violated: checks = []
        }
        if !checks.isEmpty {
            _ = judge(
                instance, directory, relative: relative, fixedKey: fixedKey, facts: facts, path: path, event: event,
                connection: connection, checks: checks, transition: &transition, typeViolated: &typeViolated, resolvedKey: &resolvedKey)
        }

        let state = instance.directories[directory]
        if journaling {
            journalInstance = instance
            journalDirectory = directory
            journalState = instance.states[directory]
            journalSeen = instance.seen[directory]
            journalExists = state.exists
        }
        let writer = Entry(value: "", writerDomid: connection.domid, writerPrivileged: connection.isPrivileged, line: event.line)
        switch event.operation {
        case .write:
            var entry = writer
            entry.value = event.value ?? ""
            entry.typeReported = typeViolated
            entry.fitsFixedKey = facts.fixedFits == true
            let knownKey = fixedKey != -2 ? fixedKey : resolvedKey >= 0 && compiled.slotOfKey[resolvedKey] >= 0 ? resolvedKey : -2
            let knownSlot = knownKey >= 0 ? compiled.slotOfKey[knownKey] : -1
            // Most writes are to a declared key whose path has no `/`: no parents to look for.
            if knownSlot < 0 || state.layout.nested[knownSlot] { createParents(instance, directory, relative, writer: writer) }
            if let slot = knownSlot >= 0 ? knownSlot : knownKey == -1 ? nil : state.layout.lookup[relative] {
                // Moved out and in: a copy and an assignment would count the strings of both entries.
                let old = state.fixed.exchange(slot, with: entry)
                if journaling { journalEntries.append((slot, "", old)) }
                touch(instance, key: state.layout.keys[slot])
                if slot == compiled.stateSlot[directory] { updateState(instance, directory, value: entry.value) }
            } else {
                let name = String(relative)
                let old = state.other.updateValue(entry, forKey: name)
                if journaling { journalEntries.append((-1, name, old)) }
                markDirty(instance, directory, relative, shapes: fixedKey == -1 ? facts.shapes : nil)
            }
            state.exists = true
        case .mkdir:
            state.exists = true
            if !relative.isEmpty {
                createParents(instance, directory, relative, writer: writer)
                if state[relative] == nil {
                    state[relative] = writer
                    if journaling { journalEntries.append((-1, String(relative), nil)) }
                    markDirty(instance, directory, relative)
                }
            }
        case .rm:
            if relative.isEmpty {
                // Removing the last directory, which ends the instance, waits for the next message
                // (`apply`, `applyDeferredRemoval`) and is not journalled: only a directory whose peer
                // still exists needs its nodes journalled.
                if journaling && instance.directories.indices.contains(where: { $0 != directory && instance.directories[$0].exists }) {
                    state.forEachNode { journalEntries.append((-1, $0, $1)) }
                }
                state.removeAll()
                state.exists = false
                instance.states[directory] = 0
                instance.seen[directory] = 0
                touch(instance, all: true)
                if instance.directories.allSatisfy({ !$0.exists }) {
                    destroy(instance)
                    journalInstance = nil
                    return
                }
            } else {
                let removed = state.removeSubtree(relative)
                for (name, old) in removed {
                    if journaling { journalEntries.append((-1, name, old)) }
                    markDirty(instance, directory, Substring(name))
                }
                if compiled.stateSlot[directory] >= 0, removed.contains(where: { $0.0 == "state" }) { instance.states[directory] = 0 }
            }
        default:
            break
        }
        if let transition, compiled.obligations[transition.machine][transition.transition] != nil {
            obligations.append(
                (instance, transition.machine, transition.transition, transition.from, connection, transition.roles, event.line, path))
        }
    }

    /// `XS_WRITE` and `XS_MKDIR` create missing parents (with empty values).
    func createParents(_ instance: Instance, _ directory: Int, _ relative: Substring, writer: Entry) {
        var relative = relative
        // Offsets of the slashes: most keys have none, so this is one scan of the bytes.
        let slashes = relative.withUTF8 { bytes -> [Int] in
            guard bytes.contains(UInt8(ascii: "/")) else { return [] }
            return bytes.indices.filter { bytes[$0] == UInt8(ascii: "/") }
        }
        guard !slashes.isEmpty else { return }
        let state = instance.directories[directory]
        let utf8 = relative.utf8
        for slash in slashes {
            let parent = relative[relative.startIndex..<utf8.index(utf8.startIndex, offsetBy: slash)]
            if state[parent] == nil {
                state[parent] = writer
                if journaling { journalEntries.append((-1, String(parent), nil)) }
                markDirty(instance, directory, parent)
            }
        }
    }

    /// Marks the declared keys a relative path may be an instance of as changed. `shapes`: the
    /// pattern keys it has the shape of, when the reading thread worked them out for a path that
    /// names no key without index variables (`KeyFacts`).
    func markDirty(_ instance: Instance, _ directory: Int, _ relative: Substring, shapes: UInt64? = nil) {
        let compiled = instance.protocolDefinition
        let candidates = compiled.patternKeys[directory]
        if let shapes, candidates.count <= KeyFacts.maximumPatternKeys {
            guard shapes != 0 else { return touch(instance) }
            var remaining = shapes
            while remaining != 0 {
                let position = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                touch(instance, key: candidates[position])
            }
            return
        }
        if let key = compiled.fixedKeys[directory][relative] {
            touch(instance, key: key)
            return
        }
        var found = false
        for key in candidates where hasShape(compiled.keys[key], relative) {
            touch(instance, key: key)
            found = true
        }
        if !found { touch(instance) }
    }

    func updateState(_ instance: Instance, _ directory: Int, value: String) {
        let compiled = instance.protocolDefinition
        guard let number = Evaluator.decimal(value), number < 32, compiled.validStates & (1 << UInt32(number)) != 0 else { return }
        let state = Int(number)
        instance.states[directory] = state
        if state == compiled.closedState {
            instance.seen[directory] = 1 << UInt32(state)
        } else {
            instance.seen[directory] |= 1 << UInt32(state)
        }
    }

    func destroy(_ instance: Instance) {
        instance.live = false
        graveyard.append(instance)
        if options.findingRetention == .live && !instance.reported.isEmpty { endedInstances.append(instance) }
        for (directory, state) in instance.directories.enumerated() {
            if let live = roots[state.root], live.instance === instance, live.directory == directory { roots[state.root] = nil }
        }
        for timer in instance.timers where timer.deadline != nil { armedTimers -= 1 }
        instances[instance.serial] = nil
        if instance.creating, let transaction = instance.creatorTransaction {
            let key = TransactionKey(connection: instance.creator, transaction: transaction)
            creating[key]?.removeAll { $0 === instance }
            if creating[key]?.isEmpty == true { creating[key] = nil }
        }
    }

    /// Applies the deferred removal (`deferredRemoval`) as a commit of its own, or, when the message
    /// after it was its refusal, only judges it: the attempt is still reported.
    func applyDeferredRemoval(refused: Bool) {
        guard let removal = deferredRemoval else { return }
        deferredRemoval = nil
        beginCommit(removal.connection, line: removal.event.line)
        if let root = removal.root {
            journaling = false
            journalInstance = nil
            if let live = roots[root] {
                removeDirectory(live.instance, live.directory, event: removal.event, connection: removal.connection, refused: refused)
            }
        } else {
            removeBelow(removal.path, event: removal.event, connection: removal.connection, refused: refused)
        }
        endCommit()
    }

    /// `rm` of a path above directory roots: every directory below it goes (unless `refused`: then
    /// each is judged and left as it is).
    func removeBelow(_ path: String, event: TraceEvent, connection: ConnectionID, refused: Bool = false) {
        let prefix = path == "/" ? "/" : path + "/"
        var affected: [(Instance, Int)] = []
        for live in roots.values where live.instance.directories[live.directory].rootPath.hasPrefix(prefix) {
            affected.append((live.instance, live.directory))
        }
        affected.sort { ($0.0.serial, $0.1) < ($1.0.serial, $1.1) }
        removeDirectories(affected, event: event, connection: connection, refused: refused)
        guard !refused else { return }
        for key in pending.keys where pending[key]!.state.rootPath.hasPrefix(prefix) { pending[key] = nil }
    }

    /// Removes whole directories of live instances, in the order given (`removeDirectory`).
    func removeDirectories(_ affected: [(Instance, Int)], event: TraceEvent, connection: ConnectionID, refused: Bool) {
        // Applied once no refusal followed (`applyDeferredRemoval`): nothing to journal.
        journaling = false
        journalInstance = nil
        for (instance, directory) in affected {
            removeDirectory(instance, directory, event: event, connection: connection, refused: refused)
        }
    }

    /// Removes a whole directory of a live instance, judged as an `rm` of its root; `refused`: only
    /// judges it.
    func removeDirectory(_ instance: Instance, _ directory: Int, event: TraceEvent, connection: ConnectionID, refused: Bool) {
        guard instance.live else { return }
        let rootPath = instance.directories[directory].rootPath
        let relative = rootPath[rootPath.endIndex...]
        if refused {
            _ = judge(
                instance, directory, relative: relative, path: MessagePath(rootPath), event: event, connection: connection,
                checks: [.never, .key, .state], transition: nil)
        } else {
            applyToInstance(
                instance, directory, relative: relative, path: MessagePath(rootPath), event: event, connection: connection,
                judged: .notJudged)
        }
    }

    /// Undoes a refused message's change to a pending directory. A directory that became part of an
    /// instance stays so (instance creation is not undone).
    func undoPending(_ directory: PendingDirectory) {
        let root = journalPendingRoot
        if journalPendingRemoved {
            if pending[root] == nil { pending[root] = directory }
            return
        }
        guard pending[root] === directory else { return }
        if journalPendingCreated {
            pending[root] = nil
            return
        }
        let state = directory.state
        for (slot, name, entry) in journalEntries.reversed() {
            if slot >= 0 { state.fixed[slot] = entry } else { state[name] = entry }
        }
        if let links = journalPendingLinks { directory.links = links }
    }

    func undoJournal() {
        if let key = journalStaged {
            _ = staged[key]?.messages.popLast()
            return
        }
        if let directory = journalPending {
            journalPending = nil
            undoPending(directory)
            return
        }
        guard let instance = journalInstance, instance.live, journalDirectory < instance.directories.count else { return }
        let state = instance.directories[journalDirectory]
        for (slot, name, entry) in journalEntries.reversed() {
            if slot >= 0 { state.fixed[slot] = entry } else { state[name] = entry }
        }
        instance.states[journalDirectory] = journalState
        instance.seen[journalDirectory] = journalSeen
        state.exists = journalExists
        journalInstance = nil
        beginCommit(journalConnection, line: currentLine)
        touch(instance, all: true)
        touched.removeAll()
        instance.inCommit = false
        // Re-evaluate without reporting again: the state is as before the message.
        evaluateAfterCommit(instance, reporting: false)
        instance.alwaysDue = 0
        instance.expectationsDue = 0
        commitWriter = nil
    }
}
