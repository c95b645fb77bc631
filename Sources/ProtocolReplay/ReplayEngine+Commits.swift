import ProtocolModel
import XenstoreTrace

/// Commits: obligations, `always` guarantees and expectations after each commit, and the timers of
/// expectations (`docs/replay.md`, "After each commit" and "Expectations").
extension ReplayEngine {
    func beginCommit(_ writer: ConnectionID, line: Int) {
        commitWriter = writer
        commitLine = line
        while touched.popLast() != nil {}
        if !obligations.isEmpty { obligations.removeAll(keepingCapacity: true) }
    }

    func touch(_ instance: Instance, key: Int? = nil, all: Bool = false) {
        if !instance.inCommit {
            instance.inCommit = true
            touched.append(Unmanaged.passUnretained(instance))
        }
        if all {
            instance.alwaysDue = .max
            instance.expectationsDue = .max
        } else if let key {
            let compiled = instance.protocolDefinition
            guard key >= 0 && key < compiled.alwaysReading.count else { return }
            instance.alwaysDue |= compiled.alwaysReading[key]
            instance.expectationsDue |= compiled.expectationsReading[key]
        }
    }

    func endCommit() {
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
                    path: obligation.path.string)
            }
        }
        for touchedInstance in touched {
            touchedInstance._withUnsafeGuaranteedRef { instance in
                instance.inCommit = false
                if instance.live { evaluateAfterCommit(instance, reporting: true) }
                instance.alwaysDue = 0
                instance.expectationsDue = 0
            }
        }
        while touched.popLast() != nil {}
        if !obligations.isEmpty { obligations.removeAll(keepingCapacity: true) }
        commitWriter = nil
    }

    /// `always` guarantees and expectations after a commit that touched the instance: those that read
    /// a key the commit changed.
    func evaluateAfterCommit(_ instance: Instance, reporting: Bool) {
        let compiled = instance.protocolDefinition
        let alwaysDue = compiled.alwaysReadingAll | instance.alwaysDue
        let expectationsDue = compiled.expectationsReadingAll | instance.expectationsDue
        let tables = compiled.stateTables
        let cell = tables?.index(of: instance) ?? -1
        let always = compiled.always
        if alwaysDue != 0 {
            for index in 0..<always.count where index >= 64 || alwaysDue & (1 << UInt64(index)) != 0 {
                // The rule is taken from the array only when it is needed: taking it retains it.
                let known = cell >= 0 ? tables!.always[index][cell] : .maybe
                let holds = known == .maybe ? holds(always[index].program, instance) : known == .yes
                if !holds && !instance.alwaysFailing[index] {
                    instance.alwaysFailing[index] = true
                    if reporting {
                        let guarantee = always[index].guarantee
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
            let triggered = knownTrigger == .maybe ? holds(expectations[index].trigger, instance) : true
            var satisfied = true
            if triggered {
                let knownCondition = cell >= 0 ? tables!.conditions[index][cell] : .maybe
                satisfied = knownCondition == .maybe ? holds(expectations[index].condition, instance) : knownCondition == .yes
            }
            if triggered && !satisfied {
                guard instance.timers[index].deadline == nil, !instance.timers[index].fired, let now else { continue }
                let deadline = now + Int64(max(0, expectations[index].expectation.milliseconds))
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

    func disarm(_ instance: Instance, _ index: Int) {
        if instance.timers[index].deadline != nil { armedTimers -= 1 }
        if instance.timers[index].deadline != nil || instance.timers[index].fired {
            instance.timers[index].deadline = nil
            instance.timers[index].fired = false
            instance.timers[index].generation &+= 1
        }
    }

    func compactTimers() {
        timers.compact { entry in
            guard let instance = instances[entry.instance], entry.expectation < instance.timers.count else { return false }
            let timer = instance.timers[entry.expectation]
            return timer.generation == entry.generation && timer.deadline != nil
        }
    }

    /// Moves trace time forward; fires the timers whose deadline it passed.
    func advance(to time: Int64) {
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

    func fire(_ instance: Instance, _ index: Int, deadline: Int64, armedLine: Int) {
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
        // Whose turn it was is the table's answer; the report says which row gave it.
        let reason = blame == .turn ? turnReason(instance).map { "; \($0)" } ?? "" : ""
        for (domid, role) in parties {
            report(
                instance, .violation, line: armedLine, time: deadline, domid: domid, role: role, rule: expectation.rule,
                origin: expectation.expectation.origin,
                message:
                    "\(expectation.expectation.summary) did not hold within \(ReplayTime.duration(expectation.expectation.milliseconds)) after line \(armedLine) (deadline \(ReplayTime.iso8601(deadline)), \(idleClock ? "passed while the trace was idle after line" : "passed at line") \(currentLine)\(reason))",
                detectedLine: currentLine, deduplicate: false)
        }
    }
}
