import ProtocolModel
import XenstoreTrace

/// Pending directories and instance creation: links, the toolstack's initial keys and admission
/// control (`docs/replay.md`, "Instances" and "Admission control").
extension ReplayEngine {
    func applyToPending(
        _ compiled: CompiledProtocol, _ directory: Int, _ match: DirectoryMatch, path: MessagePath, event: TraceEvent,
        connection: ConnectionID
    ) {
        let relative = match.relative
        let existing = pending[match.root]
        if existing == nil, case .rm = event.operation { return }
        let directoryPending: PendingDirectory
        if let existing {
            directoryPending = existing
        } else {
            let parameters = index.parameters(of: match.root, count: compiled.definition.parameters.count)
            directoryPending = PendingDirectory(
                protocolDefinition: compiled, directory: directory, parameters: parameters,
                state: DirectoryState(
                    root: match.root, rootPath: path.prefix(match.rootLength), exists: true, layout: compiled.layouts[directory])
            )
            pending[match.root] = directoryPending
        }
        if journaling {
            journalPending = directoryPending
            journalPendingRoot = match.root
            journalPendingCreated = existing == nil
            journalPendingRemoved = false
            journalPendingLinks = nil
        }
        if !connection.isPrivileged && !directoryPending.reportedWriters.contains(connection) {
            directoryPending.reportedWriters.insert(connection)
            let roles = Self.roles(compiled, parameters: directoryPending.parameters, domid: connection.domid, privileged: false)
            let who = Self.label(compiled, roles, domid: connection.domid)
            report(
                nil, .violation, line: event.line, domid: connection.domid, role: who, protocolName: compiled.definition.name,
                instance: Self.instanceName(compiled, directoryPending.parameters), rule: "before instance",
                origin: compiled.definition.directories[directory].origin,
                message:
                    "\(who) \(Self.verb(event.operation)) \(path) before the toolstack created the \(compiled.definition.name) instance (the directory is not linked to its peer)",
                path: path.string)
        }
        let state = directoryPending.state
        // The slot of a declared key without index variables, when the reading thread found one: no
        // lookup by name, and no search of the links by name.
        let slot = match.fixedKey >= 0 ? compiled.slotOfKey[match.fixedKey] : -1
        let writer = Entry(value: "", writerDomid: connection.domid, writerPrivileged: connection.isPrivileged, line: event.line)
        // `XS_WRITE` and `XS_MKDIR` create missing parents (with empty values), as in an instance.
        func createParents() {
            guard slot < 0 || state.layout.nested[slot], relative.utf8.contains(UInt8(ascii: "/")) else { return }
            var parent = ""
            for segment in relative.split(separator: "/").dropLast() {
                parent += parent.isEmpty ? String(segment) : "/\(segment)"
                if state[parent] == nil {
                    state[parent] = writer
                    if journaling { journalEntries.append((-1, parent, nil)) }
                }
            }
        }
        switch event.operation {
        case .write:
            var entry = writer
            entry.value = event.value ?? ""
            entry.fitsFixedKey = match.facts.fixedFits == true
            if !relative.isEmpty {
                createParents()
                if slot >= 0 {
                    let old = state.fixed.exchange(slot, with: entry)
                    if journaling { journalEntries.append((slot, "", old)) }
                } else {
                    if journaling { journalEntries.append((-1, String(relative), state[relative])) }
                    state[relative] = entry
                }
            }
        case .mkdir:
            if !relative.isEmpty && state[relative] == nil {
                createParents()
                state[relative] = writer
                if journaling { journalEntries.append((-1, String(relative), nil)) }
            }
        case .rm:
            if relative.isEmpty {
                pending[match.root] = nil
                if journaling { journalPendingRemoved = true }
                return
            }
            let removed = state.removeSubtree(relative)
            if journaling { for (name, old) in removed { journalEntries.append((-1, name, old)) } }
            if let link = linkIndex(compiled, directory, slot: slot, relative) { setLink(directoryPending, link, nil) }
            return
        default:
            return
        }
        guard connection.isPrivileged else { return }
        if compiled.definition.directories.count == 1 {
            directoryPending.creator = connection
            tryCreate(directoryPending, event: event, connection: connection)
            return
        }
        guard case .write = event.operation, let linkIndex = linkIndex(compiled, directory, slot: slot, relative) else { return }
        let link = compiled.links[directory][linkIndex]
        let value = event.value ?? ""
        var target: RootKey? = nil
        if case .directory(let named) = index.locate(value), named.relative.isEmpty,
            index.templates[named.template].protocolIndex == compiled.index, index.templates[named.template].directory == link.target
        {
            // The target is usually pending already, with its parameters worked out.
            let targetParameters =
                pending[named.root]?.parameters ?? index.parameters(of: named.root, count: compiled.definition.parameters.count)
            if zip(targetParameters, directoryPending.parameters).allSatisfy({ $0 < 0 || $1 < 0 || $0 == $1 }) { target = named.root }
        }
        guard let target else {
            setLink(directoryPending, linkIndex, nil)
            let roles = Self.roles(compiled, parameters: directoryPending.parameters, domid: connection.domid, privileged: true)
            report(
                nil, .violation, line: event.line, domid: connection.domid, role: Self.label(compiled, roles, domid: connection.domid),
                protocolName: compiled.definition.name, instance: Self.instanceName(compiled, directoryPending.parameters),
                rule: "link \(compiled.directoryNames[directory])/\(link.name)", origin: compiled.keys[link.key].key.origin,
                message:
                    "\(compiled.directoryNames[directory])/\(link.name) = '\(Self.excerpt(value))' does not name the \(compiled.directoryNames[link.target]) directory of this device",
                path: path.string)
            return
        }
        setLink(directoryPending, linkIndex, target)
        directoryPending.creator = connection
        tryCreate(directoryPending, event: event, connection: connection)
    }

    /// Records or forgets the root a pending directory's link names, journalling the links before.
    func setLink(_ directory: PendingDirectory, _ link: Int, _ root: RootKey?) {
        if journaling && journalPendingLinks == nil { journalPendingLinks = directory.links }
        directory.setLink(link, root)
    }

    /// The link a relative path names, if any: by the slot of its key when known, else by name.
    func linkIndex(_ compiled: CompiledProtocol, _ directory: Int, slot: Int, _ relative: Substring) -> Int? {
        if slot >= 0 {
            let link = compiled.linkOfSlot[directory][slot]
            return link >= 0 ? link : nil
        }
        return compiled.links[directory].firstIndex { $0.name == relative }
    }

    /// Creates the instance once every directory of the protocol is pending and their link keys name
    /// each other.
    func tryCreate(_ start: PendingDirectory, event: TraceEvent, connection: ConnectionID) {
        let compiled = start.protocolDefinition
        let directoryCount = compiled.definition.directories.count
        // The group found so far, searched by directory (a protocol has two or three). An array of
        // the class itself: one of optionals (`[PendingDirectory?]` by directory) is made by looking
        // up its generic metadata, ten times the cost of the search, and a dictionary costs more.
        // A pending directory's `directory` is its link target's: link values are accepted only
        // when they name a root of the target's template.
        guard start.directory < directoryCount else { return }
        var members = [start]
        var queue = [start]
        while let member = queue.popLast() {
            guard member.links.count == compiled.links[member.directory].count else { return }
            for (linkIndex, root) in member.links {
                let targetDirectory = compiled.links[member.directory][linkIndex].target
                guard let target = pending[root], targetDirectory < directoryCount else { return }
                if let known = members.first(where: { $0.directory == targetDirectory }) {
                    guard known === target else {
                        linkMismatch(compiled, member, linkIndex, known, event: event, connection: connection)
                        return
                    }
                } else {
                    members.append(target)
                    queue.append(target)
                }
            }
        }
        guard members.count == directoryCount else { return }
        members.sort { $0.directory < $1.directory }
        // Every link must name the group's directory (a back link to another device is the toolstack's error).
        for member in members {
            for (linkIndex, root) in member.links {
                let target = members[compiled.links[member.directory][linkIndex].target]
                guard target.state.root == root else {
                    linkMismatch(compiled, member, linkIndex, target, event: event, connection: connection)
                    return
                }
            }
        }
        var parameters = [Int](repeating: -1, count: compiled.definition.parameters.count)
        for member in members {
            for (index, value) in member.parameters.enumerated() where value >= 0 {
                if parameters[index] >= 0 && parameters[index] != value { return }
                parameters[index] = value
            }
        }
        let directories = members.map(\.state)
        let instance = Instance(
            serial: nextSerial, protocolDefinition: compiled, parameters: parameters, directories: directories, creator: connection,
            transaction: event.transaction)
        nextSerial += 1
        for (directory, member) in members.enumerated() {
            pending[member.state.root] = nil
            roots[member.state.root] = LiveDirectory(instance: instance, directory: directory)
        }
        instances[instance.serial] = instance
        if let transaction = event.transaction {
            creating[TransactionKey(connection: connection, transaction: transaction), default: []].append(instance)
        }
        summary.instancesCreated += 1
        for directory in 0..<directoryCount {
            if compiled.stateSlot[directory] >= 0, let entry = instance.directories[directory].fixed[compiled.stateSlot[directory]] {
                updateState(instance, directory, value: entry.value)
            }
            instance.seen[directory] = 1 << UInt32(instance.states[directory])
        }
        admission(instance, event: event, connection: connection)
        judgeInitialKeys(instance)
        touch(instance, all: true)
    }

    func linkMismatch(
        _ compiled: CompiledProtocol, _ member: PendingDirectory, _ linkIndex: Int, _ other: PendingDirectory, event: TraceEvent,
        connection: ConnectionID
    ) {
        guard !member.reportedWriters.contains(connection) else { return }
        member.reportedWriters.insert(connection)
        let link = compiled.links[member.directory][linkIndex]
        let roles = Self.roles(compiled, parameters: member.parameters, domid: connection.domid, privileged: true)
        report(
            nil, .violation, line: event.line, domid: connection.domid, role: Self.label(compiled, roles, domid: connection.domid),
            protocolName: compiled.definition.name, instance: Self.instanceName(compiled, member.parameters),
            rule: "link \(compiled.directoryNames[member.directory])/\(link.name)", origin: compiled.keys[link.key].key.origin,
            message:
                "\(member.state.rootPath)/\(link.name) and \(other.state.rootPath) do not name each other: the directories of one device must link to each other",
            path: member.state.rootPath + "/" + link.name)
    }

    /// The toolstack's own writes while it created the instance: writer, type and initial values.
    func judgeInitialKeys(_ instance: Instance) {
        let compiled = instance.protocolDefinition
        for directory in instance.directories.indices where !initialKeysAreFine(instance, directory) {
            let entries = instance.directories[directory].all.sorted { ($0.1.line, $0.0) < ($1.1.line, $1.0) }
            for (relative, entry) in entries where entry.writerPrivileged {
                let roles = instance.roles(domid: entry.writerDomid, privileged: true)
                // Built only for a report: most initial keys are fine.
                lazy var who = label(roles, domid: entry.writerDomid, instance: instance)
                lazy var path = instance.directories[directory].rootPath + "/" + relative
                lazy var shown = "\(compiled.directoryNames[directory])/\(relative)"
                guard let (keyIndex, _) = resolveKey(instance, directory, Substring(relative)) else {
                    // Parents created implicitly are not keys of their own.
                    if instance.directories[directory].hasChildren(relative) { continue }
                    switch compiled.definition.unknownKeys {
                    case .allow: break
                    case .audit, .deny:
                        report(
                            instance, compiled.definition.unknownKeys == .deny ? .violation : .audit, line: entry.line,
                            domid: entry.writerDomid,
                            role: who, rule: "unknown key", origin: compiled.definition.origin,
                            message: "\(who) writes \(shown), which the description does not declare", path: path)
                    }
                    continue
                }
                let key = compiled.keys[keyIndex]
                if roles & (key.writers | key.initializers) == 0 {
                    report(
                        instance, .violation, line: entry.line, domid: entry.writerDomid, role: who, rule: "key \(key.name): writer",
                        origin: key.key.origin,
                        message:
                            "\(who) writes \(key.name) while creating the instance, which only the \(compiled.roleNames(key.writers).joined(separator: "/")) may write",
                        path: path)
                } else if let problem = typeProblem(key, entry.value, compiled) {
                    instance.directories[directory][relative]?.typeReported = true
                    report(
                        instance, .violation, line: entry.line, domid: entry.writerDomid, role: who, rule: "key \(key.name): type",
                        origin: key.key.origin, message: "\(who) writes \(shown) = '\(Self.excerpt(entry.value))', which is not \(problem)",
                        path: path)
                } else if let initial = key.key.initialValue, roles & key.initializers != 0, entry.value != initial {
                    let expected = key.key.isState ? compiled.definition.stateName(Int(initial) ?? -1) : "'\(initial)'"
                    report(
                        instance, .violation, line: entry.line, domid: entry.writerDomid, role: who, rule: "key \(key.name): init",
                        origin: key.key.origin,
                        message: "\(who) initialises \(key.name) to '\(Self.excerpt(entry.value))' instead of \(expected)",
                        path: path)
                }
            }
        }
    }

    /// Whether every node the toolstack wrote into a directory while creating the instance is a
    /// declared key without index variables or condition that it may write, with a value of the
    /// key's type and the declared initial value: then `judgeInitialKeys` has nothing to report,
    /// and the sorting and key resolution it does to report in line order can be skipped. Nothing
    /// here reports or evaluates a program.
    func initialKeysAreFine(_ instance: Instance, _ directory: Int) -> Bool {
        let compiled = instance.protocolDefinition
        let state = instance.directories[directory]
        func fine(_ relative: String, _ entry: Entry, _ key: Int) -> Bool {
            guard entry.writerPrivileged else { return true }
            let compiledKey = compiled.keys[key]
            guard compiledKey.condition == nil else { return false }
            let roles = instance.roles(domid: entry.writerDomid, privileged: true)
            guard roles & (compiledKey.writers | compiledKey.initializers) != 0,
                entry.fitsFixedKey || typeProblem(compiledKey, entry.value, compiled) == nil
            else { return false }
            if let initial = compiledKey.key.initialValue, roles & compiledKey.initializers != 0, entry.value != initial { return false }
            return true
        }
        for (slot, entry) in state.fixed.enumerated() {
            guard let entry else { continue }
            guard fine(state.layout.paths[slot], entry, state.layout.keys[slot]) else { return false }
        }
        for (_, entry) in state.other where entry.writerPrivileged { return false }
        return true
    }

    /// ACM admission control: each role's domain must carry one of the labels the protocol allows.
    func admission(_ instance: Instance, event: TraceEvent, connection: ConnectionID) {
        let compiled = instance.protocolDefinition
        guard !options.labels.isEmpty else { return }
        for binding in compiled.definition.labels where !binding.labels.isEmpty {
            guard let domid = instance.domid(of: binding.role), let label = options.labels[domid], !binding.labels.contains(label) else {
                continue
            }
            let role = compiled.definition.roles[binding.role].name
            let toolstack = compiled.roleNames(compiled.privilegedRoles)
            report(
                instance, .violation, line: event.line, domid: connection.domid,
                role: toolstack.isEmpty ? "toolstack" : toolstack.joined(separator: "/"),
                rule: "labels \(role)", origin: binding.origins.first ?? compiled.definition.origin,
                message:
                    "domain \(domid) has label '\(label)', which may not act as \(role) of \(compiled.definition.name) (allowed: \(binding.labels.joined(separator: ", "))); the toolstack should not have connected it"
            )
        }
        for rule in options.admissions where rule.protocolIndex == compiled.index {
            guard let first = instance.domid(of: rule.firstRole), let second = instance.domid(of: rule.secondRole),
                let firstLabel = options.labels[first], let secondLabel = options.labels[second],
                !rule.pairs.contains(where: { $0.0 == firstLabel && $0.1 == secondLabel })
            else { continue }
            let roles = compiled.definition.roles
            guard rule.firstRole >= 0, rule.firstRole < roles.count, rule.secondRole >= 0, rule.secondRole < roles.count else { continue }
            let toolstack = compiled.roleNames(compiled.privilegedRoles)
            report(
                instance, .violation, line: event.line, domid: connection.domid,
                role: toolstack.isEmpty ? "toolstack" : toolstack.joined(separator: "/"),
                rule: "labels \(roles[rule.firstRole].name)/\(roles[rule.secondRole].name)",
                origin: rule.origin ?? compiled.definition.origin,
                message:
                    "\(roles[rule.firstRole].name) domain \(first) ('\(firstLabel)') and \(roles[rule.secondRole].name) domain \(second) ('\(secondLabel)') may not bind: the policy gives them no common STE type"
            )
        }
    }

    func endCreation(connection: ConnectionID, transaction: Int) {
        guard !creating.isEmpty,
            let instances = creating.removeValue(forKey: TransactionKey(connection: connection, transaction: transaction))
        else { return }
        for instance in instances { instance.creating = false }
    }
}
