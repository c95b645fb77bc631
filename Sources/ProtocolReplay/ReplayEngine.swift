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
/// the findings are kept, one per (instance, rule, party, path) with a repeat count, unless
/// `Options.findingRetention` is `.live` (a checker that runs for as long as xenstored does).
public final class ReplayEngine {
    /// Which findings the engine keeps once it has handed them to `findingHandler`.
    public enum FindingRetention: Sendable {
        /// Every finding, in `findings`, for a report at the end.
        case all
        /// Only the findings of live instances, whose repeats are still being counted: a finding
        /// outside any instance, or of an instance that has ended, is counted and dropped (and
        /// listed in `repeatedFindings` if it repeated, up to `Options.maximumEndedRepeats`).
        /// `findings` stays empty. Memory then grows with the live instances only, however many
        /// findings a long run makes.
        case live
    }

    /// How to replay.
    public struct Options: Sendable {
        /// ACM VM labels of domains (`--label DOMID=LABEL`), for the protocols' `labels` admission rules.
        public var labels: [Int: String]
        /// Label pairs that may bind, per protocol (from a rule table compiled against a policy).
        public var admissions: [Admission]
        /// Backward jumps one evaluation may take before it is stopped (a `forall` over a huge range).
        public var maximumLoopIterations: Int
        /// Which findings are kept (`.all` for a report at the end, `.live` for streaming).
        public var findingRetention: FindingRetention
        /// With `.live` retention: how many repeated findings of ended instances `repeatedFindings`
        /// lists at most; the rest are only counted (`unlistedRepeatedFindings`).
        public var maximumEndedRepeats: Int
        /// With `.live` retention: how many findings one live instance keeps to count their repeats.
        /// A further finding of it is handed over and counted but not kept, so that a guest making
        /// ever new findings (a new undeclared key, written and removed, again and again) cannot make
        /// memory grow with the trace; its repeats are handed over again
        /// (`findingsBeyondInstanceLimit`).
        public var maximumFindingsPerInstance: Int

        public init(
            labels: [Int: String] = [:], admissions: [Admission] = [], maximumLoopIterations: Int = 65_536,
            findingRetention: FindingRetention = .all, maximumEndedRepeats: Int = 1000, maximumFindingsPerInstance: Int = 1000
        ) {
            self.labels = labels
            self.admissions = admissions
            self.maximumLoopIterations = maximumLoopIterations
            self.findingRetention = findingRetention
            self.maximumEndedRepeats = maximumEndedRepeats
            self.maximumFindingsPerInstance = maximumFindingsPerInstance
        }
    }

    /// Which (label of `firstRole`'s domain, label of `secondRole`'s domain) pairs may form an
    /// instance of a protocol; any other pair of known labels is refused.
    public struct Admission: Sendable {
        public var protocolIndex: Int
        public var firstRole: Int
        public var secondRole: Int
        public var pairs: [(String, String)]
        /// Where the rule was written (the first `labels` line the row comes from), named by its
        /// findings; nil: the protocol's origin is named.
        public var origin: Origin?

        public init(protocolIndex: Int, firstRole: Int, secondRole: Int, pairs: [(String, String)], origin: Origin? = nil) {
            self.protocolIndex = protocolIndex
            self.firstRole = firstRole
            self.secondRole = secondRole
            self.pairs = pairs
            self.origin = origin
        }
    }

    let protocols: [CompiledProtocol]
    let index: DirectoryIndex
    let options: Options
    let resolver: PathResolver

    /// Violations and findings, in the order they were found (empty with `.live` retention).
    @exclusivity(unchecked) public internal(set) var findings: [Finding] = []
    /// Violations found so far (each counted once, however often it repeated).
    @exclusivity(unchecked) public internal(set) var violationCount = 0
    /// Findings other than violations found so far (audits, evaluation failures).
    @exclusivity(unchecked) public internal(set) var otherFindingCount = 0
    /// With `.live` retention: repeated findings of ended instances that `repeatedFindings` does not
    /// list (over `Options.maximumEndedRepeats`).
    @exclusivity(unchecked) public internal(set) var unlistedRepeatedFindings = 0
    /// With `.live` retention: findings handed over but not kept, their instance keeping
    /// `Options.maximumFindingsPerInstance` already (each repeat of one counts again).
    @exclusivity(unchecked) public internal(set) var findingsBeyondInstanceLimit = 0
    /// Findings reported so far, repeats not counted: the next finding's place in the order found.
    @exclusivity(unchecked) var findingSequence = 0
    /// With `.live` retention: the findings of live instances, by their place in the order found.
    @exclusivity(unchecked) var retainedFindings: [Int: Finding] = [:]
    /// With `.live` retention: repeated findings of ended instances, in the order found.
    @exclusivity(unchecked) var endedRepeats: [(sequence: Int, finding: Finding)] = []
    /// With `.live` retention: instances ended since the last message, whose findings are released
    /// when the next message starts (until then a report on them still counts as a repeat).
    @exclusivity(unchecked) var endedInstances: [Instance] = []
    /// While a batch is replayed: the live directories `prefetchAhead` found for the messages ahead,
    /// by index in the batch modulo 16.
    /// Plain memory, not an array: it is read four times and written once per message, always at
    /// an index masked into it, and an array checked bounds and uniqueness on each access.
    let prefetchRing: UnsafeMutablePointer<RootLookup?> = {
        let ring = UnsafeMutablePointer<RootLookup?>.allocate(capacity: ReplayEngine.prefetchRingSize)
        ring.initialize(repeating: nil, count: ReplayEngine.prefetchRingSize)
        return ring
    }()
    /// The lookup `prefetchAhead` made for the message being replayed, if any (`liveDirectory(_:)`).
    @exclusivity(unchecked) var currentLookup: RootLookup?
    /// Whether a batch is being replayed (`prefetchAhead` runs).
    @exclusivity(unchecked) var prefetching = false
    /// The instances that ended during the batch being replayed (or the message, outside a batch),
    /// kept to its end, so that neither `prefetchRing` nor `touched`, which do not count their
    /// references, ever names freed memory.
    @exclusivity(unchecked) var graveyard: [Instance] = []
    @exclusivity(unchecked) public internal(set) var summary = ReplaySummary()
    /// Called with each finding when it is found, before later repeats of it are counted (they
    /// only raise `repeats` in `findings`): for reporting while the trace is still being read.
    public var findingHandler: ((Finding) -> Void)?
    /// Whether time is advancing by the clock of `replay(_:readAhead:live:clock:)`, not a message.
    var idleClock = false

    // MARK: State

    struct LiveDirectory {
        /// Not counted: `instances` keeps every instance that `roots` names alive (`destroy` removes
        /// both), and a lookup that counts a reference writes to the instance's object, which is
        /// rarely in the cache (`prefetchAhead`).
        unowned(unsafe) var instance: Instance
        var directory: Int
    }

    struct TransactionKey: Hashable {
        var connection: ConnectionID
        var transaction: Int
    }

    /// Whether a staged message passed the checks made when it arrived.
    enum Judged {
        case notJudged
        case passed
        case deferred
        case violated
    }

    struct StagedMessage {
        var event: TraceEvent
        var path: MessagePath
        var location: PathLocation
        var judged: Judged
    }

    final class Staging {
        var messages: [StagedMessage] = []
    }

    let roots = RootTable()
    @exclusivity(unchecked) var pending: [RootKey: PendingDirectory] = [:]
    @exclusivity(unchecked) var instances: [Int: Instance] = [:]
    @exclusivity(unchecked) var nextSerial = 1
    /// Instances still being created, by the transaction that creates them.
    @exclusivity(unchecked) var creating: [TransactionKey: [Instance]] = [:]
    @exclusivity(unchecked) var timers = TimerQueue()
    @exclusivity(unchecked) var armedTimers = 0
    @exclusivity(unchecked) var now: Int64?
    @exclusivity(unchecked) var staged: [TransactionKey: Staging] = [:]
    @exclusivity(unchecked) var awaitingOutcome: [ConnectionID: (transaction: Int, staging: Staging)] = [:]
    @exclusivity(unchecked) var conflicted: Set<TransactionKey> = []
    /// What the previous message did, so that an error reply right after it (oxenstored logs a refused
    /// request's error on the next line) can undo it: the nodes it changed with their values before, and
    /// the directory's tracked state; or the transaction it was staged in. Kept in fields reused from
    /// message to message.
    @exclusivity(unchecked) var journalValid = false
    @exclusivity(unchecked) var journalConnection = ConnectionID(connection: .socket(0), handle: nil)
    @exclusivity(unchecked) var journalStaged: TransactionKey?
    @exclusivity(unchecked) var journalInstance: Instance?
    @exclusivity(unchecked) var journalDirectory = 0
    /// The nodes changed, with their entries before: a fixed slot (and no name), or (slot -1) a
    /// relative path.
    @exclusivity(unchecked) var journalEntries: [(slot: Int, name: String, old: Entry?)] = []
    @exclusivity(unchecked) var journalState = 0
    @exclusivity(unchecked) var journalSeen: UInt32 = 0
    @exclusivity(unchecked) var journalExists = false
    /// The pending directory the previous message changed (its nodes in `journalEntries`), when it
    /// changed one rather than an instance; its root; whether the message made it or removed its root;
    /// and its links before, when the message changed them. Fields rather than an optional struct:
    /// clearing one of those per message went through the runtime's generic witnesses.
    @exclusivity(unchecked) var journalPending: PendingDirectory?
    @exclusivity(unchecked) var journalPendingRoot = RootKey(template: 0)
    @exclusivity(unchecked) var journalPendingCreated = false
    @exclusivity(unchecked) var journalPendingRemoved = false
    @exclusivity(unchecked) var journalPendingLinks: [(link: Int, root: RootKey)]?
    /// An `rm` above directory roots, or of an instance's last directory, applied when the next
    /// message shows that xenstored did not refuse it (`applyDeferredRemoval`): it may remove many
    /// directories and end instances, more than the undo journal takes back, and a guest's refused
    /// `rm /local/domain/0/backend` must not wipe every backend from the checker's view.
    @exclusivity(unchecked) var deferredRemoval: DeferredRemoval?

    /// The message of a deferred removal. A class: testing an optional of a tuple that holds an event
    /// goes through the runtime's generic witnesses, and `process` tests it for every message.
    final class DeferredRemoval {
        let event: TraceEvent
        let path: String
        let connection: ConnectionID
        /// The directory, when the message removes an instance's last one (`path` is then unused; nil:
        /// `path` is above directory roots).
        let root: RootKey?

        init(event: TraceEvent, path: String, connection: ConnectionID, root: RootKey? = nil) {
            self.event = event
            self.path = path
            self.connection = connection
            self.root = root
        }
    }
    /// Whether the message being applied is journalled.
    @exclusivity(unchecked) var journaling = false
    let evaluator: Evaluator

    /// The message being processed, for reports.
    @exclusivity(unchecked) var currentLine = 0
    @exclusivity(unchecked) var currentTime: Int64?

    // Per commit. The instances are not counted: each is live when touched, and `graveyard` keeps
    // one that ends during the commit; counting costs two atomic operations per message.
    @exclusivity(unchecked) var touched: [Unmanaged<Instance>] = []
    @exclusivity(unchecked) var obligations:
        [(instance: Instance, machine: Int, transition: Int, from: Int, writer: ConnectionID, roles: UInt32, line: Int, path: MessagePath)] =
            []
    @exclusivity(unchecked) var commitWriter: ConnectionID?
    @exclusivity(unchecked) var commitLine = 0

    public init(protocols: [ProtocolDefinition], options: Options = Options()) {
        self.protocols = protocols.enumerated().map { CompiledProtocol(index: $0, definition: $1) }
        index = DirectoryIndex(protocols: protocols)
        resolver = PathResolver(definitions: protocols, protocols: self.protocols)
        self.options = options
        evaluator = Evaluator(maximumIterations: max(1, options.maximumLoopIterations))
        evaluator.nonDecimal = { [unowned self] instance, directory, relative, entry in
            self.nonDecimal(instance, directory, relative, entry)
        }
    }

    deinit {
        // `RootLookup` holds no counted reference: nothing to destroy.
        prefetchRing.deallocate()
    }

    // MARK: - Messages

    /// Replays every message of `reader` (call `finish()` after the last trace). Reading, parsing
    /// and resolving paths against the directory templates run on a second thread with `readAhead`
    /// (`TraceReader.forEachBatch`): they need nothing the replay changes.
    ///
    /// With `live`, messages are replayed as soon as they are read rather than in batches of 1,024,
    /// whenever the input pauses (a log followed with `tail -F`); pair it with `findingHandler`. With
    /// a `clock` as well (milliseconds since the epoch, in the trace's time), every second the input
    /// stays idle the replay's time advances to what it says, so that an expectation whose deadline
    /// passes while nothing is logged is reported then, not when the next message comes.
    public func replay(_ reader: TraceReader, readAhead: Bool = true, live: Bool = false, clock: (() -> Int64)? = nil) {
        let resolver = self.resolver
        reader.forEachBatch(
            readAhead: readAhead, pathsAsBytes: true, handOverWhenIdle: live, idleTicks: live && clock != nil,
            prepare: { ResolvedBatch($0, resolver: resolver) }
        ) { batch in
            if batch.isIdleTick {
                if let clock {
                    // The refusal of a request is logged right after it: none came.
                    applyDeferredRemoval(refused: false)
                    idleClock = true
                    advance(to: clock())
                    idleClock = false
                }
                return
            }
            prefetching = true
            batch.forEach(ahead: { prefetchAhead($0, count: $1, index: $2) }) { event, resolved in
                process(&event, resolved: &resolved)
                currentLookup = nil
            }
            prefetching = false
            // The instances that ended during the batch may be freed now that no prefetch refers to them.
            if !graveyard.isEmpty { graveyard.removeAll(keepingCapacity: true) }
        }
    }

    /// Replays one message. An `rm` above directory roots or of an instance's last directory takes
    /// effect (and reports) with the next message, or `finish()`, once that shows xenstored did not
    /// refuse it (`docs/replay.md`).
    public func process(_ event: TraceEvent) {
        var event = event
        var resolved = event.operation.isMutating ? resolver.resolve(event) : ResolvedPath(path: nil, location: .none)
        process(&event, resolved: &resolved)
        if !graveyard.isEmpty { graveyard.removeAll() }
    }

    /// Replays one message whose path (if it mutates) has been resolved. `inout` only so that the
    /// batch's event and path are used in place: passed by value, both were copied for each message.
    func process(_ event: inout TraceEvent, resolved: inout ResolvedPath) {
        if let removal = deferredRemoval {
            var refused = false
            if case .errorReply = event.operation {
                refused = removal.connection == ConnectionID(connection: event.connection, handle: event.handle)
            }
            applyDeferredRemoval(refused: refused)
        }
        summary.messages += 1
        if !endedInstances.isEmpty { releaseEndedInstances() }
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
            mutation(&event, connection: connection, resolved: &resolved)
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
        applyDeferredRemoval(refused: false)
        if !endedInstances.isEmpty { releaseEndedInstances() }
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
    public var hasViolations: Bool { violationCount > 0 }

    /// The findings that repeated, in the order found: with `.all` retention those of `findings`
    /// whose `repeats` is not zero; with `.live` retention those of live instances and at most
    /// `Options.maximumEndedRepeats` of ended ones.
    public var repeatedFindings: [Finding] {
        switch options.findingRetention {
        case .all:
            return findings.filter { $0.repeats > 0 }
        case .live:
            let live = retainedFindings.filter { $0.value.repeats > 0 }.map { (sequence: $0.key, finding: $0.value) }
            return (endedRepeats + live).sorted { $0.sequence < $1.sequence }.map(\.finding)
        }
    }

    /// With `.live` retention: drops the findings of the instances that ended, keeping those that
    /// repeated (up to the limit) for the notes at the end.
    func releaseEndedInstances() {
        for instance in endedInstances {
            for sequence in instance.reported.values.sorted() {
                guard let finding = retainedFindings.removeValue(forKey: sequence), finding.repeats > 0 else { continue }
                if endedRepeats.count < options.maximumEndedRepeats {
                    endedRepeats.append((sequence, finding))
                } else {
                    unlistedRepeatedFindings += 1
                }
            }
            instance.reported = [:]
        }
        endedInstances.removeAll()
    }

    /// `inout` only so that the batch's event and path are used in place (as in `process`): passed
    /// by value or borrowed, both were copied for each message.
    func mutation(_ event: inout TraceEvent, connection: ConnectionID, resolved: inout ResolvedPath) {
        guard let path = resolved.path else { return }
        // oxenstored re-executing a conflicting transaction: the client's messages were seen already.
        if let original = event.replayOf {
            let key = TransactionKey(connection: connection, transaction: original)
            guard conflicted.contains(key) else { return }
            let replay = TransactionKey(connection: connection, transaction: event.transaction ?? original)
            let staging = staged[replay] ?? Staging()
            staged[replay] = staging
            staging.messages.append(StagedMessage(event: event, path: path.kept, location: resolved.location, judged: .violated))
            return
        }
        if let transaction = event.transaction, !staged.isEmpty,
            let staging = staged[TransactionKey(connection: connection, transaction: transaction)]
        {
            // Inside a transaction whose start the trace shows: judge what can be judged now, stage.
            var judged = Judged.notJudged
            if case .directory(let match) = resolved.location, let live = liveDirectory(match.root) {
                judged = judge(
                    live.instance, live.directory, relative: match.relative, fixedKey: match.fixedKey, facts: match.facts, path: path,
                    event: event, connection: connection,
                    checks: [.never, .key], transition: nil)
            }
            staging.messages.append(StagedMessage(event: event, path: path.kept, location: resolved.location, judged: judged))
            journalConnection = connection
            journalStaged = TransactionKey(connection: connection, transaction: transaction)
            journalInstance = nil
            journalPending = nil
            journalValid = true
            return
        }
        beginCommit(connection, line: event.line)
        journalConnection = connection
        journalStaged = nil
        journalInstance = nil
        journalPending = nil
        // One by one: `removeAll` destroys tuples through the runtime's generic tuple witnesses.
        while journalEntries.popLast() != nil {}
        journaling = true
        apply(event, path: path, location: resolved.location, connection: connection, judged: .notJudged)
        journaling = false
        journalValid = true
        endCommit()
    }

    func commit(_ staging: Staging, connection: ConnectionID, transaction: Int, event: TraceEvent) {
        conflicted.remove(TransactionKey(connection: connection, transaction: transaction))
        guard !staging.messages.isEmpty else {
            endCreation(connection: connection, transaction: transaction)
            return
        }
        beginCommit(connection, line: event.line)
        for message in staging.messages {
            currentLine = message.event.line
            apply(message.event, path: message.path, location: message.location, connection: connection, judged: message.judged)
        }
        currentLine = event.line
        endCommit()
        endCreation(connection: connection, transaction: transaction)
    }
}
