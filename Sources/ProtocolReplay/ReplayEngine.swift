import ProtocolModel
import XenstoreTrace

/// The generic reference checker: replays xenstore messages against protocol descriptions and reports
/// who broke which rule. It holds no protocol knowledge of its own; everything comes from the
/// `ProtocolDefinition`s. The semantics are written down in `docs/replay.md`.
///
///     let engine = ReplayEngine(protocols: definitions, options: .init(labels: [5: "red"]))
///     for event in reader { engine.process(event) }
///     engine.finish()
///     for finding in engine.findings { ... }
///
/// Memory grows with the live instances (and open transactions), not with the length of the trace;
/// the findings are kept, one per (instance, rule, party, path) with a repeat count.
public final class ReplayEngine {
    /// How to replay.
    public struct Options: Sendable {
        /// ACM VM labels of domains (`--label DOMID=LABEL`), for the protocols' `labels` admission rules.
        public var labels: [Int: String]
        /// Label pairs that may bind, per protocol (from a rule table compiled against a policy).
        public var admissions: [Admission]
        /// Backward jumps one evaluation may take before it is stopped (a `forall` over a huge range).
        public var maximumLoopIterations: Int

        public init(labels: [Int: String] = [:], admissions: [Admission] = [], maximumLoopIterations: Int = 65_536) {
            self.labels = labels
            self.admissions = admissions
            self.maximumLoopIterations = maximumLoopIterations
        }
    }

    /// Which (label of `firstRole`'s domain, label of `secondRole`'s domain) pairs may form an
    /// instance of a protocol; any other pair of known labels is refused.
    public struct Admission: Sendable {
        public var protocolIndex: Int
        public var firstRole: Int
        public var secondRole: Int
        public var pairs: [(String, String)]

        public init(protocolIndex: Int, firstRole: Int, secondRole: Int, pairs: [(String, String)]) {
            self.protocolIndex = protocolIndex
            self.firstRole = firstRole
            self.secondRole = secondRole
            self.pairs = pairs
        }
    }

    let protocols: [CompiledProtocol]
    let index: DirectoryIndex
    let options: Options

    /// Violations and findings, in the order they were found.
    @exclusivity(unchecked) public private(set) var findings: [Finding] = []
    @exclusivity(unchecked) public private(set) var summary = ReplaySummary()

    // MARK: State

    private struct LiveDirectory {
        var instance: Instance
        var directory: Int
    }

    private struct TransactionKey: Hashable {
        var connection: ConnectionID
        var transaction: Int
    }

    /// Whether a staged message passed the checks made when it arrived.
    private enum Judged {
        case notJudged
        case passed
        case deferred
        case violated
    }

    private struct StagedMessage {
        var event: TraceEvent
        var path: String
        var judged: Judged
    }

    private final class Staging {
        var messages: [StagedMessage] = []
    }

    @exclusivity(unchecked) private var roots: [RootKey: LiveDirectory] = [:]
    @exclusivity(unchecked) private var pending: [RootKey: PendingDirectory] = [:]
    @exclusivity(unchecked) private var instances: [Int: Instance] = [:]
    @exclusivity(unchecked) private var nextSerial = 1
    /// Instances still being created, by the transaction that creates them.
    @exclusivity(unchecked) private var creating: [TransactionKey: [Instance]] = [:]
    @exclusivity(unchecked) private var timers = TimerQueue()
    @exclusivity(unchecked) private var armedTimers = 0
    @exclusivity(unchecked) private var now: Int64?
    @exclusivity(unchecked) private var staged: [TransactionKey: Staging] = [:]
    @exclusivity(unchecked) private var awaitingOutcome: [ConnectionID: (transaction: Int, staging: Staging)] = [:]
    @exclusivity(unchecked) private var conflicted: Set<TransactionKey> = []
    /// What the previous message did, so that an error reply right after it (oxenstored logs a refused
    /// request's error on the next line) can undo it: the nodes it changed with their values before, and
    /// the directory's tracked state; or the transaction it was staged in. Kept in fields reused from
    /// message to message.
    @exclusivity(unchecked) private var journalValid = false
    @exclusivity(unchecked) private var journalConnection = ConnectionID(connection: .socket(0), handle: nil)
    @exclusivity(unchecked) private var journalStaged: TransactionKey?
    @exclusivity(unchecked) private var journalInstance: Instance?
    @exclusivity(unchecked) private var journalDirectory = 0
    @exclusivity(unchecked) private var journalEntries: [(String, Entry?)] = []
    @exclusivity(unchecked) private var journalState = 0
    @exclusivity(unchecked) private var journalSeen: UInt32 = 0
    @exclusivity(unchecked) private var journalExists = false
    /// Whether the message being applied is journalled.
    @exclusivity(unchecked) private var journaling = false
    private let evaluator: Evaluator

    /// The message being processed, for reports.
    @exclusivity(unchecked) private var currentLine = 0
    @exclusivity(unchecked) private var currentTime: Int64?

    // Per commit.
    @exclusivity(unchecked) private var touched: [Instance] = []
    @exclusivity(unchecked) private var obligations:
        [(instance: Instance, machine: Int, transition: Int, from: Int, writer: ConnectionID, roles: UInt32, line: Int, path: String)] = []
    @exclusivity(unchecked) private var commitWriter: ConnectionID?
    @exclusivity(unchecked) private var commitLine = 0

    public init(protocols: [ProtocolDefinition], options: Options = Options()) {
        self.protocols = protocols.enumerated().map { CompiledProtocol(index: $0, definition: $1) }
        index = DirectoryIndex(protocols: protocols)
        self.options = options
        evaluator = Evaluator(maximumIterations: max(1, options.maximumLoopIterations))
        evaluator.nonDecimal = { [unowned self] instance, directory, relative, entry in
            self.nonDecimal(instance, directory, relative, entry)
        }
    }

    // MARK: - Messages

    /// Replays one message.
    public func process(_ event: TraceEvent) {
        summary.messages += 1
        currentLine = event.line
        currentTime = event.time
        if let time = event.time { advance(to: time) }
        let connection = ConnectionID(connection: event.connection, handle: event.handle)
        let previousJournal = journalValid
        journalValid = false

        if !awaitingOutcome.isEmpty, let waiting = awaitingOutcome[connection] {
            awaitingOutcome[connection] = nil
            if case .transactionOutcome(let outcome) = event.operation, event.transaction == nil || event.transaction == waiting.transaction
            {
                if outcome == .conflict {
                    conflicted.insert(TransactionKey(connection: connection, transaction: waiting.transaction))
                } else {
                    commit(waiting.staging, connection: connection, transaction: waiting.transaction, event: event)
                }
                return
            }
            // No outcome line: the transaction was aborted (oxenstored logs only commits' results).
            endCreation(connection: connection, transaction: waiting.transaction)
        }

        switch event.operation {
        case .write, .mkdir, .rm, .setPermissions:
            mutation(event, connection: connection)
        case .transactionStart:
            if let transaction = event.transaction {
                staged[TransactionKey(connection: connection, transaction: transaction)] = Staging()
            }
        case .transactionEnd(let commitFlag):
            guard let transaction = event.transaction else { return }
            let key = TransactionKey(connection: connection, transaction: transaction)
            guard let staging = staged.removeValue(forKey: key) else {
                endCreation(connection: connection, transaction: transaction)
                return
            }
            switch commitFlag {
            case true?: commit(staging, connection: connection, transaction: transaction, event: event)
            case false?:
                endCreation(connection: connection, transaction: transaction)
            case nil: awaitingOutcome[connection] = (transaction, staging)
            }
        case .transactionOutcome(let outcome):
            guard let transaction = event.transaction else { return }
            let key = TransactionKey(connection: connection, transaction: transaction)
            if let staging = staged.removeValue(forKey: key) {
                if outcome == .conflict {
                    conflicted.insert(key)
                } else {
                    commit(staging, connection: connection, transaction: transaction, event: event)
                }
            } else {
                endCreation(connection: connection, transaction: transaction)
            }
        case .errorReply:
            if previousJournal, journalConnection == connection { undoJournal() }
        case .endConnection:
            for key in staged.keys where key.connection == connection {
                summary.uncommittedMessages += staged[key]?.messages.count ?? 0
                staged[key] = nil
            }
            conflicted = conflicted.filter { $0.connection != connection }
        default:
            break
        }
    }

    /// Ends the replay: counts what is still pending. Timers that have not expired are not reported.
    public func finish() {
        var pendingTimers = 0
        for instance in instances.values {
            for timer in instance.timers where timer.deadline != nil { pendingTimers += 1 }
        }
        for (_, staging) in staged { summary.uncommittedMessages += staging.messages.count }
        for (_, waiting) in awaitingOutcome { summary.uncommittedMessages += waiting.staging.messages.count }
        staged = [:]
        awaitingOutcome = [:]
        summary.pendingExpectations = pendingTimers
        summary.instancesLive = instances.count
    }

    /// Whether any finding is a violation.
    public var hasViolations: Bool { findings.contains { $0.severity == .violation } }

    private func absolutePath(_ event: TraceEvent) -> String? {
        guard let path = event.path, !path.isEmpty else { return nil }
        if path.utf8.first == UInt8(ascii: "/") { return path }
        guard case .domain(let domid) = event.connection else { return nil }
        return "/local/domain/\(domid)/\(path)"
    }

    private func mutation(_ event: TraceEvent, connection: ConnectionID) {
        guard let path = absolutePath(event) else {
            return
        }
        // oxenstored re-executing a conflicting transaction: the client's messages were seen already.
        if let original = event.replayOf {
            let key = TransactionKey(connection: connection, transaction: original)
            guard conflicted.contains(key) else { return }
            let replay = TransactionKey(connection: connection, transaction: event.transaction ?? original)
            let staging = staged[replay] ?? Staging()
            staged[replay] = staging
            staging.messages.append(StagedMessage(event: event, path: path, judged: .violated))
            return
        }
        if let transaction = event.transaction, !staged.isEmpty,
            let staging = staged[TransactionKey(connection: connection, transaction: transaction)]
        {
            // Inside a transaction whose start the trace shows: judge what can be judged now, stage.
            var judged = Judged.notJudged
            if case .directory(let match) = index.locate(path), let live = roots[match.root] {
                judged = judge(
                    live.instance, live.directory, relative: match.relative, path: path, event: event, connection: connection,
                    checks: [.never, .key], transition: nil)
            }
            staging.messages.append(StagedMessage(event: event, path: path, judged: judged))
            journalConnection = connection
            journalStaged = TransactionKey(connection: connection, transaction: transaction)
            journalInstance = nil
            journalValid = true
            return
        }
        beginCommit(connection, line: event.line)
        journalConnection = connection
        journalStaged = nil
        journalInstance = nil
        if !journalEntries.isEmpty { journalEntries.removeAll(keepingCapacity: true) }
        journaling = true
        apply(event, path: path, connection: connection, judged: .notJudged)
        journaling = false
        journalValid = true
        endCommit()
    }

    private func commit(_ staging: Staging, connection: ConnectionID, transaction: Int, event: TraceEvent) {
        conflicted.remove(TransactionKey(connection: connection, transaction: transaction))
        guard !staging.messages.isEmpty else {
            endCreation(connection: connection, transaction: transaction)
            return
        }
        beginCommit(connection, line: event.line)
        for message in staging.messages {
            currentLine = message.event.line
            apply(message.event, path: message.path, connection: connection, judged: message.judged)
        }
        currentLine = event.line
        endCommit()
        endCreation(connection: connection, transaction: transaction)
    }

    private func undoJournal() {
        if let key = journalStaged {
            _ = staged[key]?.messages.popLast()
            return
        }
        guard let instance = journalInstance, instance.live, journalDirectory < instance.directories.count else { return }
        let state = instance.directories[journalDirectory]
        for (path, entry) in journalEntries.reversed() { state[path] = entry }
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
        instance.dirty.removeAll(keepingCapacity: true)
        instance.dirtyAll = false
        commitWriter = nil
    }

    // MARK: - Commits

    private func beginCommit(_ writer: ConnectionID, line: Int) {
        commitWriter = writer
        commitLine = line
        if !touched.isEmpty { touched.removeAll(keepingCapacity: true) }
        if !obligations.isEmpty { obligations.removeAll(keepingCapacity: true) }
    }

    private func touch(_ instance: Instance, key: Int? = nil, all: Bool = false) {
        if !instance.inCommit {
            instance.inCommit = true
            touched.append(instance)
        }
        if all {
            instance.dirtyAll = true
        } else if let key {
            instance.dirty.append(key)
        }
    }

    private func endCommit() {
        for obligation in obligations where obligation.instance.live {
            let instance = obligation.instance
            let compiled = instance.protocolDefinition
            guard let program = compiled.obligations[obligation.machine][obligation.transition] else { continue }
            if !holds(program, instance) {
                let machine = compiled.definition.machines[obligation.machine]
                let transition = machine.transitions[obligation.transition]
                let name =
                    "transition \(compiled.directoryNames[machine.directory]).state \(compiled.definition.stateName(obligation.from)) -> \(compiled.definition.stateName(transition.to))"
                let roles = obligation.roles
                report(
                    instance, .violation, line: obligation.line, domid: obligation.writer.domid,
                    role: label(roles, domid: obligation.writer.domid, instance: instance), rule: "\(name): requires",
                    origin: transition.origin,
                    message:
                        "the obligation of \(name) does not hold after the write commits (the \(compiled.roleNames(roles).joined(separator: "/")) must publish what it requires first)",
                    path: obligation.path)
            }
        }
        for instance in touched {
            instance.inCommit = false
            if instance.live { evaluateAfterCommit(instance, reporting: true) }
            if !instance.dirty.isEmpty { instance.dirty.removeAll(keepingCapacity: true) }
            instance.dirtyAll = false
        }
        if !touched.isEmpty { touched.removeAll(keepingCapacity: true) }
        if !obligations.isEmpty { obligations.removeAll(keepingCapacity: true) }
        commitWriter = nil
    }

    /// `always` guarantees and expectations after a commit that touched the instance: those that read
    /// a key the commit changed.
    private func evaluateAfterCommit(_ instance: Instance, reporting: Bool) {
        let compiled = instance.protocolDefinition
        var alwaysDue = compiled.alwaysReadingAll
        var expectationsDue = compiled.expectationsReadingAll
        if instance.dirtyAll {
            alwaysDue = .max
            expectationsDue = .max
        } else {
            for key in instance.dirty where key >= 0 && key < compiled.alwaysReading.count {
                alwaysDue |= compiled.alwaysReading[key]
                expectationsDue |= compiled.expectationsReading[key]
            }
        }
        let tables = compiled.stateTables
        let cell = tables?.index(of: instance) ?? -1
        let always = compiled.always
        if alwaysDue != 0 {
            for index in 0..<always.count where index >= 64 || alwaysDue & (1 << UInt64(index)) != 0 {
                let rule = always[index]
                let known = cell >= 0 ? tables!.always[index][cell] : .maybe
                let holds = known == .maybe ? holds(rule.program, instance) : known == .yes
                if !holds && !instance.alwaysFailing[index] {
                    instance.alwaysFailing[index] = true
                    if reporting {
                        let guarantee = rule.guarantee
                        for (domid, role) in blamed(guarantee.blame, instance, writer: commitWriter) {
                            report(
                                instance, .violation, line: commitLine, domid: domid, role: role, rule: "guarantee \(guarantee.name)",
                                origin: guarantee.origin, message: "guarantee \(guarantee.name) no longer holds after this commit")
                        }
                    }
                } else if holds {
                    instance.alwaysFailing[index] = false
                }
            }
        }
        guard expectationsDue != 0 else { return }
        let expectations = compiled.expectations
        for index in 0..<expectations.count where index >= 64 || expectationsDue & (1 << UInt64(index)) != 0 {
            let knownTrigger = cell >= 0 ? tables!.triggers[index][cell] : .maybe
            if knownTrigger == .no {
                disarm(instance, index)
                continue
            }
            let expectation = expectations[index]
            let triggered = knownTrigger == .maybe ? holds(expectation.trigger, instance) : true
            var satisfied = true
            if triggered {
                let knownCondition = cell >= 0 ? tables!.conditions[index][cell] : .maybe
                satisfied = knownCondition == .maybe ? holds(expectation.condition, instance) : knownCondition == .yes
            }
            if triggered && !satisfied {
                guard instance.timers[index].deadline == nil, !instance.timers[index].fired, let now else { continue }
                let deadline = now + Int64(max(0, expectation.expectation.milliseconds))
                instance.timers[index].deadline = deadline
                instance.timers[index].armedLine = commitLine
                instance.timers[index].generation &+= 1
                armedTimers += 1
                timers.push(
                    TimerQueue.Entry(
                        deadline: deadline, instance: instance.serial, expectation: index, generation: instance.timers[index].generation))
                if timers.count > 4096 && timers.count > 4 * armedTimers { compactTimers() }
            } else {
                disarm(instance, index)
            }
        }
    }

    private func disarm(_ instance: Instance, _ index: Int) {
        if instance.timers[index].deadline != nil { armedTimers -= 1 }
        if instance.timers[index].deadline != nil || instance.timers[index].fired {
            instance.timers[index].deadline = nil
            instance.timers[index].fired = false
            instance.timers[index].generation &+= 1
        }
    }

    private func compactTimers() {
        timers.compact { entry in
            guard let instance = instances[entry.instance], entry.expectation < instance.timers.count else { return false }
            let timer = instance.timers[entry.expectation]
            return timer.generation == entry.generation && timer.deadline != nil
        }
    }

    /// Moves trace time forward; fires the timers whose deadline it passed.
    private func advance(to time: Int64) {
        if let now, time <= now { return }
        now = time
        while let earliest = timers.earliest, earliest < time {
            guard let entry = timers.pop() else { break }
            guard let instance = instances[entry.instance], instance.live, entry.expectation < instance.timers.count else { continue }
            let timer = instance.timers[entry.expectation]
            guard timer.generation == entry.generation, timer.deadline == entry.deadline else { continue }
            instance.timers[entry.expectation].deadline = nil
            instance.timers[entry.expectation].fired = true
            armedTimers -= 1
            fire(instance, entry.expectation, deadline: entry.deadline, armedLine: timer.armedLine)
        }
    }

    private func fire(_ instance: Instance, _ index: Int, deadline: Int64, armedLine: Int) {
        let compiled = instance.protocolDefinition
        let expectation = compiled.expectations[index]
        var blame = expectation.expectation.blame
        var parties: [(Int, String)]
        if case .writer = blame {
            // The roles that may write what the condition reads, the toolstack only if nobody else may.
            var writers = expectation.conditionWriters
            if writers & ~compiled.privilegedRoles != 0 { writers &= ~compiled.privilegedRoles }
            if writers != 0 && writers & (writers - 1) == 0 {
                blame = .role(writers.trailingZeroBitCount)
            } else {
                blame = .turn
            }
        }
        parties = blamed(blame, instance, writer: nil)
        for (domid, role) in parties {
            report(
                instance, .violation, line: armedLine, time: deadline, domid: domid, role: role, rule: expectation.rule,
                origin: expectation.expectation.origin,
                message:
                    "\(expectation.expectation.summary) did not hold within \(ReplayTime.duration(expectation.expectation.milliseconds)) after line \(armedLine) (deadline \(ReplayTime.iso8601(deadline)), passed at line \(currentLine))",
                detectedLine: currentLine, deduplicate: false)
        }
    }

    // MARK: - Applying one message

    /// Applies a message to the tracked store: judges it (unless judged already), changes the store,
    /// creates and destroys instances; journals what it changed while `journaling` is set.
    private func apply(_ event: TraceEvent, path: String, connection: ConnectionID, judged: Judged) {
        switch index.locate(path) {
        case .none:
            return
        case .ancestor:
            if case .rm = event.operation { removeBelow(path, event: event, connection: connection) }
        case .directory(let match):
            let template = index.templates[match.template]
            if let live = roots[match.root] {
                applyToInstance(
                    live.instance, live.directory, relative: match.relative, path: path, event: event, connection: connection,
                    judged: judged)
                return
            }
            applyToPending(protocols[template.protocolIndex], template.directory, match, path: path, event: event, connection: connection)
        }
    }

    private func applyToInstance(
        _ instance: Instance, _ directory: Int, relative: Substring, path: String, event: TraceEvent, connection: ConnectionID,
        judged: Judged
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
                instance, directory, relative: relative, path: path, event: event, connection: connection, checks: checks,
                transition: &transition, typeViolated: &typeViolated, resolvedKey: &resolvedKey)
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
            createParents(instance, directory, relative, writer: writer)
            let knownSlot = resolvedKey >= 0 ? compiled.slotOfKey[resolvedKey] : -1
            if let slot = knownSlot >= 0 ? knownSlot : state.layout.lookup[relative] {
                let old = state.fixed[slot]
                state.fixed[slot] = entry
                if journaling { journalEntries.append((state.layout.paths[slot], old)) }
                touch(instance, key: state.layout.keys[slot])
                if slot == compiled.stateSlot[directory] { updateState(instance, directory, value: entry.value) }
            } else {
                let name = String(relative)
                let old = state.other.updateValue(entry, forKey: name)
                if journaling { journalEntries.append((name, old)) }
                markDirty(instance, directory, relative)
            }
            state.exists = true
        case .mkdir:
            state.exists = true
            if !relative.isEmpty {
                createParents(instance, directory, relative, writer: writer)
                if state[relative] == nil {
                    state[relative] = writer
                    if journaling { journalEntries.append((String(relative), nil)) }
                    markDirty(instance, directory, relative)
                }
            }
        case .rm:
            if relative.isEmpty {
                if journaling { for (name, entry) in state.all { journalEntries.append((name, entry)) } }
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
                    if journaling { journalEntries.append((name, old)) }
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
    private func createParents(_ instance: Instance, _ directory: Int, _ relative: Substring, writer: Entry) {
        let utf8 = relative.utf8
        guard var slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return }
        let state = instance.directories[directory]
        while true {
            let parent = relative[relative.startIndex..<slash]
            if state[parent] == nil {
                state[parent] = writer
                if journaling { journalEntries.append((String(parent), nil)) }
                markDirty(instance, directory, parent)
            }
            guard let next = utf8[utf8.index(after: slash)...].firstIndex(of: UInt8(ascii: "/")) else { return }
            slash = next
        }
    }

    /// Marks the declared keys a relative path may be an instance of as changed.
    private func markDirty(_ instance: Instance, _ directory: Int, _ relative: Substring) {
        let compiled = instance.protocolDefinition
        if let key = compiled.fixedKeys[directory][relative] {
            touch(instance, key: key)
            return
        }
        var found = false
        for key in compiled.patternKeys[directory] where structurallyMatches(compiled.keys[key], relative) != nil {
            touch(instance, key: key)
            found = true
        }
        if !found { touch(instance) }
    }

    private func updateState(_ instance: Instance, _ directory: Int, value: String) {
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

    private func destroy(_ instance: Instance) {
        instance.live = false
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

    /// `rm` of a path above directory roots: every directory below it goes.
    private func removeBelow(_ path: String, event: TraceEvent, connection: ConnectionID) {
        let prefix = path == "/" ? "/" : path + "/"
        var affected: [(Instance, Int)] = []
        for (_, live) in roots where live.instance.directories[live.directory].rootPath.hasPrefix(prefix) {
            affected.append((live.instance, live.directory))
        }
        affected.sort { ($0.0.serial, $0.1) < ($1.0.serial, $1.1) }
        // Removing several directories at once is not undone by an error reply.
        journaling = false
        journalInstance = nil
        for (instance, directory) in affected where instance.live {
            let rootPath = instance.directories[directory].rootPath
            applyToInstance(
                instance, directory, relative: rootPath[rootPath.endIndex...], path: rootPath, event: event, connection: connection,
                judged: .notJudged)
        }
        for key in pending.keys where pending[key]!.state.rootPath.hasPrefix(prefix) { pending[key] = nil }
    }

    // MARK: - Judging

    private struct Checks: OptionSet {
        let rawValue: Int
        /// `never` guarantees.
        static let never = Checks(rawValue: 1)
        /// Key resolution (`unknown_keys`), writer and type.
        static let key = Checks(rawValue: 2)
        /// Phase and, for `state` keys, the transition.
        static let state = Checks(rawValue: 4)
    }

    private func judge(
        _ instance: Instance, _ directory: Int, relative: Substring, path: String, event: TraceEvent, connection: ConnectionID,
        checks: Checks,
        transition: (machine: Int, transition: Int, roles: UInt32, from: Int)?
    ) -> Judged {
        var transition = transition
        var typeViolated = false
        var resolvedKey = -1
        return judge(
            instance, directory, relative: relative, path: path, event: event, connection: connection, checks: checks,
            transition: &transition, typeViolated: &typeViolated, resolvedKey: &resolvedKey)
    }

    /// Judges a mutating message in the order never, key (unknown keys), writer, phase, type, transition;
    /// reports the first rule it breaks.
    private func judge(
        _ instance: Instance, _ directory: Int, relative: Substring, path: String, event: TraceEvent, connection: ConnectionID,
        checks: Checks,
        transition: inout (machine: Int, transition: Int, roles: UInt32, from: Int)?, typeViolated: inout Bool,
        resolvedKey: inout Int
    ) -> Judged {
        let compiled = instance.protocolDefinition
        let roles = instance.roles(domid: connection.domid, privileged: connection.isPrivileged)
        let operation: OperationMask
        let verb: String
        switch event.operation {
        case .write:
            operation = .write
            verb = "writes"
        case .mkdir:
            operation = .mkdir
            verb = "creates"
        case .rm:
            operation = .rm
            verb = "removes"
        case .setPermissions:
            operation = .setPermissions
            verb = "sets the permissions of"
        default: return .passed
        }
        lazy var who = label(roles, domid: connection.domid, instance: instance)
        let directoryName = compiled.directoryNames[directory]
        lazy var shown = relative.isEmpty ? directoryName : "\(directoryName)/\(relative)"

        if checks.contains(.never), roles != 0 {
            var segments: [Substring]? = nil
            for rule in compiled.nevers
            where rule.operations.contains(operation) && roles & ~rule.roles == 0
                && rule.globs.contains(where: { $0.directory == directory })
            {
                if segments == nil { segments = relative.isEmpty ? [] : relative.split(separator: "/", omittingEmptySubsequences: false) }
                guard rule.globs.contains(where: { $0.directory == directory && Self.glob($0.segments[...], segments![...]) }) else {
                    continue
                }
                if let unless = rule.unless, holds(unless, instance) { continue }
                let guarantee = rule.guarantee
                for (domid, role) in blamed(guarantee.blame, instance, writer: connection, writerRoles: roles) {
                    report(
                        instance, .violation, line: event.line, domid: domid, role: role, rule: "guarantee \(guarantee.name)",
                        origin: guarantee.origin, message: "\(who) \(verb) \(shown), which guarantee \(guarantee.name) forbids", path: path)
                }
                return .violated
            }
        }
        // The directory node itself is governed by the guarantees only.
        guard !relative.isEmpty, checks.contains(.key) || checks.contains(.state) else { return .passed }

        // Inside a transaction the bounds of index variables and key conditions are a property of the
        // committed view, which the trace may not show: match the pattern only (docs/replay.md).
        guard let (keyIndex, _) = resolveKey(instance, directory, relative, strict: event.transaction == nil) else {
            guard checks.contains(.key) else { return .passed }
            if !checks.contains(.state) { return .deferred }
            switch compiled.definition.unknownKeys {
            case .allow: break
            case .audit:
                report(
                    instance, .audit, line: event.line, domid: connection.domid, role: who, rule: "unknown key",
                    origin: compiled.definition.origin, message: "\(who) \(verb) \(shown), which the description does not declare",
                    path: path)
            case .deny:
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "unknown key",
                    origin: compiled.definition.origin,
                    message: "\(who) \(verb) \(shown), which the description does not declare (unknown_keys = deny)", path: path)
                return .violated
            }
            return .passed
        }
        resolvedKey = keyIndex
        let key = compiled.keys[keyIndex]
        let writerRoles = roles & key.writers
        let initialiserRoles = instance.creating ? roles & key.initializers : 0

        if checks.contains(.key), writerRoles == 0 && initialiserRoles == 0 {
            let allowed = compiled.roleNames(key.writers)
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): writer",
                origin: key.key.origin,
                message: "\(who) \(verb) \(key.name)\(key.fixed == nil ? " (\(relative))" : ""), which "
                    + (allowed.isEmpty
                        ? "only the \(compiled.roleNames(key.initializers).joined(separator: "/")) initialises"
                        : "only the \(allowed.joined(separator: "/")) may change"),
                path: path)
            return .violated
        }
        // While the toolstack creates the instance, an initialiser's write sets the initial value: no
        // phase, no transition, but the declared initial value.
        if initialiserRoles != 0 {
            if checks.contains(.key), case .write = event.operation, let initial = key.key.initialValue, (event.value ?? "") != initial,
                !event.truncated, typeProblem(key, event.value ?? "", compiled) == nil
            {
                let expected = key.key.isState ? compiled.definition.stateName(Int(initial) ?? -1) : "'\(initial)'"
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): init",
                    origin: key.key.origin,
                    message: "\(who) initialises \(key.name) to '\(Self.excerpt(event.value ?? ""))' instead of \(expected)",
                    path: path)
                return .violated
            }
            if checks.contains(.key), case .write = event.operation, !event.truncated,
                let problem = typeProblem(key, event.value ?? "", compiled)
            {
                typeViolated = true
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): type",
                    origin: key.key.origin,
                    message:
                        "\(who) \(verb) \(key.fixed == nil ? String(relative) : key.name) = '\(Self.excerpt(event.value ?? ""))', which is not \(problem)",
                    path: path)
                return .violated
            }
            return .passed
        }
        if checks.contains(.state), let phase = key.key.phase, writerRoles != 0 {
            var allowed = false
            var states: [String] = []
            var remaining = writerRoles
            while remaining != 0 {
                let role = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                guard let own = compiled.ownedDirectory[role], compiled.stateKey[own] != nil else {
                    allowed = true
                    break
                }
                let state = instance.states[own]
                if phase.contains(state) {
                    allowed = true
                    break
                }
                states.append("\(compiled.directoryNames[own]).state is \(compiled.definition.stateName(state))")
            }
            if !allowed {
                let permitted = compiled.definition.states.filter { phase.contains($0.value) }.map(\.name).joined(separator: ", ")
                report(
                    instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): phase",
                    origin: key.key.origin,
                    message:
                        "\(who) \(verb) \(key.fixed == nil ? String(relative) : key.name) while \(states.joined(separator: " and ")) (allowed in \(permitted))",
                    path: path)
                return .violated
            }
        }
        guard case .write = event.operation else { return .passed }
        let value = event.value ?? ""
        if checks.contains(.key), !event.truncated, let problem = typeProblem(key, value, compiled) {
            typeViolated = true
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "key \(key.name): type",
                origin: key.key.origin,
                message:
                    "\(who) \(verb) \(key.fixed == nil ? String(relative) : key.name) = '\(Self.excerpt(value))', which is not \(problem)",
                path: path)
            return .violated
        }
        guard checks.contains(.state), key.key.isState, let machineIndex = compiled.machineOfDirectory[directory],
            let number = Evaluator.decimal(value), number < 32, compiled.definition.states.contains(where: { $0.value == Int(number) })
        else { return .passed }
        let to = Int(number)
        let from = instance.states[directory]
        let machine = compiled.definition.machines[machineIndex]
        let name = "\(directoryName).state \(compiled.definition.stateName(from)) -> \(compiled.definition.stateName(to))"
        let candidates = machine.transitions.indices.filter {
            machine.transitions[$0].from.contains(from) && machine.transitions[$0].to == to
        }
        if from == to && candidates.isEmpty { return .passed }  // rewriting the current state is not a transition
        let byRole = candidates.filter { compiled.canonicalMask(machine.transitions[$0].by) & roles != 0 }
        guard !byRole.isEmpty else {
            let origin = candidates.first.map { machine.transitions[$0].origin } ?? key.key.origin
            let others =
                candidates.isEmpty
                ? ""
                : " (only the \(compiled.roleNames(candidates.reduce(0) { $0 | compiled.canonicalMask(machine.transitions[$1].by) }).joined(separator: "/")) may take it)"
            report(
                instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "transition \(name)", origin: origin,
                message:
                    "illegal transition \(compiled.definition.stateName(from)) -> \(compiled.definition.stateName(to)) of \(directoryName).state by \(who)\(others)",
                path: path)
            return .violated
        }
        for candidate in byRole {
            if let guardProgram = compiled.guards[machineIndex][candidate], !holds(guardProgram, instance) { continue }
            transition = (machineIndex, candidate, compiled.canonicalMask(machine.transitions[candidate].by) & roles, from)
            return .passed
        }
        let first = machine.transitions[byRole[0]]
        report(
            instance, .violation, line: event.line, domid: connection.domid, role: who, rule: "transition \(name)", origin: first.origin,
            message:
                "\(who) takes \(directoryName).state \(compiled.definition.stateName(from)) -> \(compiled.definition.stateName(to)) when its guard does not hold (\(stateSummary(instance)))",
            path: path)
        return .violated
    }

    private func stateSummary(_ instance: Instance) -> String {
        let compiled = instance.protocolDefinition
        return compiled.definition.machines.map {
            "\(compiled.directoryNames[$0.directory]).state is \(compiled.definition.stateName(instance.states[$0.directory]))"
        }.joined(separator: ", ")
    }

    static func excerpt(_ value: String) -> String {
        value.count <= 64 ? value : String(value.prefix(61)) + "..."
    }

    private static func glob(_ glob: ArraySlice<PathGlob.Segment>, _ segments: ArraySlice<Substring>) -> Bool {
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

    /// What a value should have been, if it does not have the key's type.
    private func typeProblem(_ key: CompiledKey, _ value: String, _ compiled: CompiledProtocol) -> String? {
        switch key.key.type {
        case .unsigned(let lower, let upper):
            guard let number = Evaluator.decimal(value), number >= lower, number < upper else {
                return "a decimal number in [\(lower), \(upper))"
            }
            return nil
        case .string(let pattern):
            guard let pattern else { return nil }
            guard key.regex != nil else { return "a string matching \(pattern) (the pattern does not compile)" }
            return key.matches(value) ? nil : "a string matching \(pattern)"
        case .literals(let values):
            return values.contains(value) ? nil : "one of \(values.map { "'\($0)'" }.joined(separator: ", "))"
        case .state:
            guard let number = Evaluator.decimal(value), compiled.definition.states.contains(where: { Int128($0.value) == number }) else {
                return "a state (\(compiled.definition.states.map { "\($0.value) \($0.name)" }.joined(separator: ", ")))"
            }
            return nil
        }
    }

    // MARK: - Keys

    /// The index values of a relative path matching a key pattern, ignoring bounds and condition.
    private func structurallyMatches(_ key: CompiledKey, _ relative: Substring) -> [Int]? {
        var relative = relative
        return relative.withUTF8 { bytes -> [Int]? in
            var values = [Int](repeating: -1, count: key.slotCount)
            var position = 0
            for (segmentIndex, parts) in key.segments.enumerated() {
                if segmentIndex > 0 {
                    guard position < bytes.count, bytes[position] == UInt8(ascii: "/") else { return nil }
                    position += 1
                }
                var end = position
                while end < bytes.count && bytes[end] != UInt8(ascii: "/") { end += 1 }
                var i = position
                for part in parts {
                    switch part {
                    case .literal(let text):
                        guard end - i >= text.count else { return nil }
                        for byte in text {
                            guard bytes[i] == byte else { return nil }
                            i += 1
                        }
                    case .index(let slot):
                        let start = i
                        while i < end && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9") { i += 1 }
                        guard let value = DirectoryIndex.decimal(bytes, start..<i), slot >= 0, slot < values.count else { return nil }
                        values[slot] = value
                    }
                }
                guard i == end else { return nil }
                position = end
            }
            return position == bytes.count ? values : nil
        }
    }

    /// The declared key a relative path is an instance of: its pattern matches, its index variables
    /// are within their bounds and its condition holds.
    private func resolveKey(_ instance: Instance, _ directory: Int, _ relative: Substring, strict: Bool = true) -> (Int, [Int])? {
        let compiled = instance.protocolDefinition
        if let key = compiled.fixedKeys[directory][relative] {
            if strict, let condition = compiled.keys[key].condition, !holds(condition, instance) { return nil }
            return (key, [])
        }
        for keyIndex in compiled.patternKeys[directory] {
            let key = compiled.keys[keyIndex]
            guard let values = structurallyMatches(key, relative) else { continue }
            if !strict { return (keyIndex, values) }
            var inBounds = true
            for bound in key.bounds {
                guard bound.slot >= 0, bound.slot < values.count else {
                    inBounds = false
                    break
                }
                let value = Int128(values[bound.slot])
                guard let lower = number(bound.lower, instance, presets: values),
                    let upper = number(bound.upper, instance, presets: values),
                    lower <= value, value < upper
                else {
                    inBounds = false
                    break
                }
            }
            guard inBounds else { continue }
            if let condition = key.condition, !holds(condition, instance, presets: values) { continue }
            return (keyIndex, values)
        }
        return nil
    }

    // MARK: - Evaluation

    /// Evaluates a boolean program; an evaluation error is reported once per instance and counts as false.
    private func holds(_ program: CompiledProgram, _ instance: Instance, presets: [Int] = []) -> Bool {
        switch evaluator.evaluate(program, instance, presets: presets) {
        case .success(let value):
            if let truth = Evaluator.truth(value) { return truth }
            evaluationFailed(program, instance, "the result is not a boolean")
            return false
        case .failure(let error):
            evaluationFailed(program, instance, error.message)
            return false
        }
    }

    private func number(_ program: CompiledProgram, _ instance: Instance, presets: [Int]) -> Int128? {
        switch evaluator.evaluate(program, instance, presets: presets) {
        case .success(let value):
            if case .absent = value { return nil }
            if let number = Evaluator.numeric(value) { return number }
            evaluationFailed(program, instance, "the result is not a number")
            return nil
        case .failure(let error):
            evaluationFailed(program, instance, error.message)
            return nil
        }
    }

    /// `val(k)` read a value that is not a decimal number: a type violation of the key's last writer.
    private func nonDecimal(_ instance: Instance, _ directory: Int, _ relative: String, _ entry: Entry) {
        let state = instance.directories[directory]
        guard !entry.typeReported, var stored = state[relative] else { return }
        stored.typeReported = true
        state[relative] = stored
        let compiled = instance.protocolDefinition
        let roles = instance.roles(domid: entry.writerDomid, privileged: entry.writerPrivileged)
        let who = label(roles, domid: entry.writerDomid, instance: instance)
        var name = "\(compiled.directoryNames[directory])/\(relative)"
        var origin = compiled.definition.origin
        if let key = compiled.fixedKeys[directory][Substring(relative)]
            ?? compiled.patternKeys[directory].first(where: {
                structurallyMatches(compiled.keys[$0], Substring(relative)) != nil
            })
        {
            name = compiled.keys[key].name
            origin = compiled.keys[key].key.origin
        }
        report(
            instance, .violation, line: entry.line, domid: entry.writerDomid, role: who, rule: "key \(name): type", origin: origin,
            message:
                "\(who) wrote \(compiled.directoryNames[directory])/\(relative) = '\(Self.excerpt(entry.value))', which the description reads as a decimal number (noticed at line \(currentLine))",
            path: instance.directories[directory].rootPath + "/" + relative)
    }

    private func evaluationFailed(_ program: CompiledProgram, _ instance: Instance, _ message: String) {
        report(
            instance, .evaluation, line: currentLine, domid: -1, role: "none", rule: "evaluation", origin: program.origin,
            message: "cannot evaluate the \(program.context): \(message); taken as false", deduplicationKey: "evaluation|\(program.context)"
        )
    }

    // MARK: - Pending directories and instance creation

    private func applyToPending(
        _ compiled: CompiledProtocol, _ directory: Int, _ match: DirectoryMatch, path: String, event: TraceEvent, connection: ConnectionID
    ) {
        let relative = String(match.relative)
        let existing = pending[match.root]
        if existing == nil, case .rm = event.operation { return }
        let directoryPending: PendingDirectory
        if let existing {
            directoryPending = existing
        } else {
            let parameters = index.parameters(of: match.root, count: compiled.definition.parameters.count)
            directoryPending = PendingDirectory(
                protocolDefinition: compiled, directory: directory, parameters: parameters,
                state: DirectoryState(root: match.root, rootPath: String(match.rootPath), exists: true, layout: compiled.layouts[directory])
            )
            pending[match.root] = directoryPending
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
                path: path)
        }
        let writer = Entry(value: "", writerDomid: connection.domid, writerPrivileged: connection.isPrivileged, line: event.line)
        switch event.operation {
        case .write:
            var entry = writer
            entry.value = event.value ?? ""
            if !relative.isEmpty {
                var parent = ""
                for segment in relative.utf8.contains(UInt8(ascii: "/")) ? relative.split(separator: "/").dropLast() : [] {
                    parent += parent.isEmpty ? String(segment) : "/\(segment)"
                    if directoryPending.state[parent] == nil { directoryPending.state[parent] = writer }
                }
                directoryPending.state[relative] = entry
            }
        case .mkdir:
            if !relative.isEmpty && directoryPending.state[relative] == nil { directoryPending.state[relative] = writer }
        case .rm:
            if relative.isEmpty {
                pending[match.root] = nil
                return
            }
            _ = directoryPending.state.removeSubtree(Substring(relative))
            if let link = compiled.links[directory].firstIndex(where: { $0.name == relative }) { directoryPending.links[link] = nil }
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
        guard case .write = event.operation, let linkIndex = compiled.links[directory].firstIndex(where: { $0.name == relative }) else {
            return
        }
        let link = compiled.links[directory][linkIndex]
        let value = event.value ?? ""
        var target: RootKey? = nil
        if case .directory(let named) = index.locate(value), named.relative.isEmpty,
            index.templates[named.template].protocolIndex == compiled.index, index.templates[named.template].directory == link.target
        {
            let targetParameters = index.parameters(of: named.root, count: compiled.definition.parameters.count)
            if zip(targetParameters, directoryPending.parameters).allSatisfy({ $0 < 0 || $1 < 0 || $0 == $1 }) { target = named.root }
        }
        guard let target else {
            directoryPending.links[linkIndex] = nil
            let roles = Self.roles(compiled, parameters: directoryPending.parameters, domid: connection.domid, privileged: true)
            report(
                nil, .violation, line: event.line, domid: connection.domid, role: Self.label(compiled, roles, domid: connection.domid),
                protocolName: compiled.definition.name, instance: Self.instanceName(compiled, directoryPending.parameters),
                rule: "link \(compiled.directoryNames[directory])/\(link.name)", origin: compiled.keys[link.key].key.origin,
                message:
                    "\(compiled.directoryNames[directory])/\(link.name) = '\(Self.excerpt(value))' does not name the \(compiled.directoryNames[link.target]) directory of this device",
                path: path)
            return
        }
        directoryPending.links[linkIndex] = target
        directoryPending.creator = connection
        tryCreate(directoryPending, event: event, connection: connection)
    }

    /// Creates the instance once every directory of the protocol is pending and their link keys name
    /// each other.
    private func tryCreate(_ start: PendingDirectory, event: TraceEvent, connection: ConnectionID) {
        let compiled = start.protocolDefinition
        let directoryCount = compiled.definition.directories.count
        var group: [Int: PendingDirectory] = [start.directory: start]
        var queue = [start]
        while let member = queue.popLast() {
            guard member.links.count == compiled.links[member.directory].count else { return }
            for (linkIndex, root) in member.links {
                let targetDirectory = compiled.links[member.directory][linkIndex].target
                guard let target = pending[root] else { return }
                if let known = group[targetDirectory] {
                    guard known === target else {
                        linkMismatch(compiled, member, linkIndex, known, event: event, connection: connection)
                        return
                    }
                } else {
                    group[targetDirectory] = target
                    queue.append(target)
                }
            }
        }
        guard group.count == directoryCount else { return }
        // Every link must name the group's directory (a back link to another device is the toolstack's error).
        for (_, member) in group {
            for (linkIndex, root) in member.links {
                let targetDirectory = compiled.links[member.directory][linkIndex].target
                guard let target = group[targetDirectory], target.state.root == root else {
                    if let target = group[targetDirectory] {
                        linkMismatch(compiled, member, linkIndex, target, event: event, connection: connection)
                    }
                    return
                }
            }
        }
        var parameters = [Int](repeating: -1, count: compiled.definition.parameters.count)
        for (_, member) in group {
            for (index, value) in member.parameters.enumerated() where value >= 0 {
                if parameters[index] >= 0 && parameters[index] != value { return }
                parameters[index] = value
            }
        }
        let directories = (0..<directoryCount).map { group[$0]!.state }
        let instance = Instance(
            serial: nextSerial, protocolDefinition: compiled, parameters: parameters, directories: directories, creator: connection,
            transaction: event.transaction)
        nextSerial += 1
        for (directory, member) in group {
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

    private func linkMismatch(
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
    private func judgeInitialKeys(_ instance: Instance) {
        let compiled = instance.protocolDefinition
        for directory in instance.directories.indices {
            let entries = instance.directories[directory].all.sorted { ($0.1.line, $0.0) < ($1.1.line, $1.0) }
            for (relative, entry) in entries where entry.writerPrivileged {
                let roles = instance.roles(domid: entry.writerDomid, privileged: true)
                let who = label(roles, domid: entry.writerDomid, instance: instance)
                let path = instance.directories[directory].rootPath + "/" + relative
                let shown = "\(compiled.directoryNames[directory])/\(relative)"
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

    /// ACM admission control: each role's domain must carry one of the labels the protocol allows.
    private func admission(_ instance: Instance, event: TraceEvent, connection: ConnectionID) {
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
                rule: "labels \(role)", origin: compiled.definition.origin,
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
                rule: "labels \(roles[rule.firstRole].name)/\(roles[rule.secondRole].name)", origin: compiled.definition.origin,
                message:
                    "\(roles[rule.firstRole].name) domain \(first) ('\(firstLabel)') and \(roles[rule.secondRole].name) domain \(second) ('\(secondLabel)') may not bind: the policy gives them no common STE type"
            )
        }
    }

    private func endCreation(connection: ConnectionID, transaction: Int) {
        guard !creating.isEmpty,
            let instances = creating.removeValue(forKey: TransactionKey(connection: connection, transaction: transaction))
        else { return }
        for instance in instances { instance.creating = false }
    }

    // MARK: - Blame and reports

    private static func roles(_ compiled: CompiledProtocol, parameters: [Int], domid: Int, privileged: Bool) -> UInt32 {
        var mask: UInt32 = 0
        for (role, value) in compiled.definition.roles.enumerated() where role < 32 {
            switch value.principal {
            case .parameter(let index):
                if index >= 0, index < parameters.count, parameters[index] == domid { mask |= 1 << UInt32(compiled.canonical[role]) }
            case .privileged:
                if privileged { mask |= 1 << UInt32(compiled.canonical[role]) }
            }
        }
        return mask
    }

    static func label(_ compiled: CompiledProtocol, _ roles: UInt32, domid: Int) -> String {
        let names = compiled.roleNames(roles)
        switch names.count {
        case 0: return "other"
        case 1: return names[0]
        default: return "dom\(domid) (\(names.joined(separator: "/")))"
        }
    }

    private func label(_ roles: UInt32, domid: Int, instance: Instance) -> String {
        Self.label(instance.protocolDefinition, roles, domid: domid)
    }

    static func instanceName(_ compiled: CompiledProtocol, _ parameters: [Int]) -> String {
        var name = compiled.definition.name
        for (index, parameter) in compiled.definition.parameters.enumerated() where index < parameters.count && parameters[index] >= 0 {
            name += " \(parameter)=\(parameters[index])"
        }
        return name
    }

    static func verb(_ operation: XenstoreTrace.Operation) -> String {
        switch operation {
        case .write: "writes"
        case .mkdir: "creates"
        case .rm: "removes"
        case .setPermissions: "sets the permissions of"
        default: "uses"
        }
    }

    /// The parties a rule blames: the writer, a named role (its domain; "dom0 (backend/toolstack)" when
    /// that domain plays several roles), or whose turn it is in the current global state.
    private func blamed(_ blame: Blame, _ instance: Instance, writer: ConnectionID?, writerRoles: UInt32? = nil) -> [(Int, String)] {
        let compiled = instance.protocolDefinition
        switch blame {
        case .writer:
            guard let writer else { return blamed(.turn, instance, writer: nil) }
            let roles = writerRoles ?? instance.roles(domid: writer.domid, privileged: writer.isPrivileged)
            return [(writer.domid, label(roles, domid: writer.domid, instance: instance))]
        case .role(let role):
            return [party(role, instance)]
        case .turn:
            let machines = compiled.definition.machines
            var roles: UInt32 = 0
            if machines.count >= 2, machines[0].directory < instance.states.count, machines[1].directory < instance.states.count {
                let frontend = instance.states[machines[0].directory]
                let backend = instance.states[machines[1].directory]
                if let turn = compiled.definition.turns.first(where: { $0.frontendState == frontend && $0.backendState == backend }) {
                    roles = compiled.canonicalMask(turn.roles)
                }
            }
            if roles == 0 { roles = compiled.privilegedRoles }
            var parties: [(Int, String)] = []
            var remaining = roles
            while remaining != 0 {
                let role = remaining.trailingZeroBitCount
                remaining &= remaining - 1
                let candidate = party(role, instance)
                if !parties.contains(where: { $0.0 == candidate.0 && $0.1 == candidate.1 }) { parties.append(candidate) }
            }
            return parties
        }
    }

    private func party(_ role: Int, _ instance: Instance) -> (Int, String) {
        let compiled = instance.protocolDefinition
        guard role >= 0, role < compiled.definition.roles.count else { return (-1, "other") }
        let domid = instance.domid(of: role) ?? -1
        let held = domid >= 0 ? instance.roles(domid: domid, privileged: domid == 0) : 0
        if held.nonzeroBitCount > 1 { return (domid, label(held, domid: domid, instance: instance)) }
        return (domid, compiled.definition.roles[role].name)
    }

    private func report(
        _ instance: Instance?, _ severity: Finding.Severity, line: Int, time: Int64? = nil, domid: Int, role: String,
        protocolName: String? = nil, instance instanceName: String? = nil, rule: String, origin: Origin, message: String,
        path: String? = nil, detectedLine: Int? = nil, deduplicate: Bool = true, deduplicationKey: String? = nil
    ) {
        let finding = Finding(
            severity: severity, line: line, time: time ?? currentTime, domid: domid, role: role,
            protocolName: protocolName ?? instance?.protocolDefinition.definition.name ?? "",
            instance: instanceName ?? instance?.name ?? "",
            rule: rule, origin: origin.description, message: message, path: path, detectedLine: detectedLine)
        if let instance, deduplicate {
            let key = deduplicationKey ?? "\(rule)|\(role)|\(path ?? "")"
            if let existing = instance.reported[key] {
                findings[existing].repeats += 1
                return
            }
            instance.reported[key] = findings.count
        }
        findings.append(finding)
    }
}
