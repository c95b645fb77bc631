import Foundation
import Testing
import XenstoreTrace

@testable import ProtocolReplay

/// `.live` finding retention (`replay --stream`): the same findings, counts and repeat notes as
/// `.all`, but only the findings of live instances stay in memory.
@Suite struct FindingRetentionTests {
    /// Replays with the given retention, collecting what the handler was given.
    static func run(_ reader: TraceReader, retention: ReplayEngine.FindingRetention, maximumEndedRepeats: Int = 1000) -> (
        engine: ReplayEngine, handed: [Finding]
    ) {
        let engine = ReplayEngine(
            protocols: exampleProtocols,
            options: ReplayEngine.Options(findingRetention: retention, maximumEndedRepeats: maximumEndedRepeats))
        var handed: [Finding] = []
        engine.findingHandler = { handed.append($0) }
        engine.replay(reader)
        engine.finish()
        return (engine, handed)
    }

    static let traces = try! FileManager.default.contentsOfDirectory(
        atPath: packageRoot.appendingPathComponent("Examples/traces").path
    ).sorted()

    @Test(arguments: traces) func liveRetentionReportsWhatAllRetentionDoes(_ name: String) throws {
        let path = packageRoot.appendingPathComponent("Examples/traces/\(name)").path
        let all = Self.run(try TraceReader(path: path), retention: .all)
        let live = Self.run(try TraceReader(path: path), retention: .live)
        #expect(live.engine.findings.isEmpty)
        #expect(live.handed == all.handed)
        #expect(live.engine.repeatedFindings == all.engine.findings.filter { $0.repeats > 0 })
        #expect(live.engine.repeatedFindings == all.engine.repeatedFindings)
        #expect(live.engine.violationCount == all.engine.findings.filter { $0.severity == .violation }.count)
        #expect(live.engine.otherFindingCount == all.engine.findings.filter { $0.severity != .violation }.count)
        #expect(all.engine.violationCount == live.engine.violationCount && all.engine.otherFindingCount == live.engine.otherFindingCount)
        #expect(live.engine.hasViolations == all.engine.hasViolations)
        #expect(live.engine.unlistedRepeatedFindings == 0)
    }

    /// `devices` vbd devices, each created, connected, written into twice by the frontend where only
    /// the backend may write (one violation, repeated once) and removed; and one more left live
    /// with the same repeated violation.
    static func repeatingDevices(_ devices: Int) -> String {
        var trace = TraceBuilder()
        for device in 0...devices {
            let fe = 5 + device
            trace.createVBD(fe: fe)
            trace.connectVBD(fe: fe)
            let backend = TraceBuilder.vbdBackend(0, fe, 51712)
            trace.write("D\(fe)", backend + "/sectors", "1")
            trace.write("D\(fe)", backend + "/sectors", "2")
            if device < devices {
                trace.operation("A1", "rm", TraceBuilder.vbdFrontend(fe, 51712))
                trace.operation("A1", "rm", backend)
            }
        }
        return trace.text
    }

    @Test func findingsOfEndedInstancesAreReleasedAndTheirRepeatsBounded() throws {
        let text = Self.repeatingDevices(5)
        let all = Self.run(TraceReader(bytes: Array(text.utf8)), retention: .all)
        let repeated = all.engine.findings.filter { $0.repeats > 0 }
        try #require(all.engine.findings.count == 6 && repeated.count == 6, "one violation a device, repeated once")

        let live = Self.run(TraceReader(bytes: Array(text.utf8)), retention: .live, maximumEndedRepeats: 2)
        // The five ended devices' findings are gone; the live one's stays, still counting repeats.
        #expect(live.engine.retainedFindings.count == 1)
        #expect(live.engine.retainedFindings.values.allSatisfy { $0.instance.contains("fe=10") })
        #expect(live.engine.endedInstances.isEmpty)
        // Two of the ended devices' repeats are listed, in the order found, then the live one's.
        #expect(live.engine.repeatedFindings == [repeated[0], repeated[1], repeated[5]])
        #expect(live.engine.unlistedRepeatedFindings == 3)
        #expect(live.engine.violationCount == all.engine.violationCount)
        #expect(live.handed.count == all.engine.findings.count)
    }

    /// A live vbd instance whose frontend writes and removes `keys` undeclared keys, one after the
    /// other (an audit finding each, repeated once by the removal).
    static func newFindingsOfOneInstance(_ keys: Int) -> String {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        for key in 0..<keys {
            trace.write("D5", TraceBuilder.vbdFrontend(5, 51712) + "/junk-\(key)", "x")
            trace.operation("D5", "rm", TraceBuilder.vbdFrontend(5, 51712) + "/junk-\(key)")
        }
        return trace.text
    }

    @Test func aLiveInstanceKeepsAtMostItsLimitOfFindings() throws {
        let text = Self.newFindingsOfOneInstance(30)
        let all = Self.run(TraceReader(bytes: Array(text.utf8)), retention: .all)
        try #require(all.engine.findings.count == 30 && all.engine.findings.allSatisfy { $0.repeats == 1 })

        let engine = ReplayEngine(
            protocols: exampleProtocols, options: ReplayEngine.Options(findingRetention: .live, maximumFindingsPerInstance: 10))
        var handed: [Finding] = []
        engine.findingHandler = { handed.append($0) }
        engine.replay(TraceReader(bytes: Array(text.utf8)))
        engine.finish()
        // Ten kept, counting their repeats; the other twenty handed over and counted twice each
        // (the write, and the removal that would have been their repeat), not kept.
        #expect(engine.retainedFindings.count == 10)
        #expect(engine.repeatedFindings == Array(all.engine.findings.prefix(10)))
        #expect(engine.findingsBeyondInstanceLimit == 40)
        #expect(handed.count == 50)
        #expect(engine.otherFindingCount == 50)
        // With `.all` retention there is no limit: the report lists every finding once.
        #expect(all.engine.findingsBeyondInstanceLimit == 0)
    }

    @Test func allRetentionKeepsEveryFinding() throws {
        let text = Self.repeatingDevices(3)
        let all = Self.run(TraceReader(bytes: Array(text.utf8)), retention: .all, maximumEndedRepeats: 0)
        #expect(all.engine.findings.count == all.handed.count)
        #expect(all.engine.repeatedFindings.count == 4)
        #expect(all.engine.unlistedRepeatedFindings == 0)
        #expect(all.engine.retainedFindings.isEmpty)
    }
}
