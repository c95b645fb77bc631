import ProtocolModel
import ProtocolReplay
import Testing

/// The replay semantics of docs/replay.md, one rule at a time, on small traces.
@Suite struct SemanticsTests {
    let f = TraceBuilder.vbdFrontend(5, 51712)
    let b = TraceBuilder.vbdBackend(0, 5, 51712)

    @Test func aFullHandshakeIsClean() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let result = replay(trace.text)
        #expect(result.findings.map(\.message) == [])
        #expect(result.summary.instancesCreated == 1)
    }

    @Test func aDom0BackendIsReportedAsBackendAndToolstack() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let line = trace.nextLine
        trace.write("D0", f + "/ring-ref", "9")  // the dom0 backend writes a frontend key
        let result = replay(trace.text)
        // `never backend ... on fe/**` cannot forbid what the toolstack (also dom0) may do; the key's
        // writer rule still catches it.
        #expect(result.violationKeys == ["key fe/ring-ref: writer | dom0 (backend/toolstack) | 0 | \(line)"])
    }

    @Test func writesBeforeTheInstanceExistsAreBlamedOnTheWriter() {
        var trace = TraceBuilder()
        let line = trace.nextLine
        trace.write("D5", f + "/state", "6")
        trace.write("D5", f + "/state", "1")
        let result = replay(trace.text)
        #expect(result.violationKeys == ["before instance | frontend | 5 | \(line)"])
        #expect(result.violations.first?.instance == "vbd fe=5 devid=51712")
        #expect(
            result.violations.first?.message
                == "frontend writes \(f)/state before the toolstack created the vbd instance (the directory is not linked to its peer)")
        #expect(result.summary.instancesCreated == 0)
    }

    @Test func writesBeforeTheInstanceExistsNameThePathInEveryTraceFormat() {
        // An oxenstored log's paths are replayed as bytes of the batch, not strings (`MessagePath`).
        let log = "[20261127T10:00:00.000Z]  D5           write     \(f)/state 6\n"
        let result = replay(log, format: .oxenstored)
        #expect(
            result.violations.map(\.message) == [
                "frontend writes \(f)/state before the toolstack created the vbd instance (the directory is not linked to its peer)"
            ])
    }

    @Test func theLinksMustNameEachOther() {
        var trace = TraceBuilder()
        trace.createVBD(linkFrontend: "/local/domain/6/device/vbd/51712")
        let result = replay(trace.text)
        #expect(result.violationKeys == ["link be/frontend | dom0 (backend/toolstack) | 0 | 3"])
        #expect(result.summary.instancesCreated == 0)
    }

    @Test func undeclaredKeysAreAuditedNotViolations() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.write("D5", f + "/x-vendor-extension", "1")
        let result = replay(trace.text)
        #expect(result.violations.isEmpty)
        #expect(result.findings.map { "\($0.severity.rawValue) \($0.rule) \($0.role)" } == ["audit unknown key frontend"])
    }

    @Test func anIllegalStateWriteIsReportedOnceAndTheStateFollowsTheStore() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let line = trace.nextLine
        trace.write("D5", f + "/state", "3")  // Connected -> Initialised is no transition of blkif
        trace.write("D5", f + "/state", "4")  // Initialised -> Connected (be is Connected) is
        let result = replay(trace.text)
        #expect(result.violationKeys == ["transition fe.state Connected -> Initialised | frontend | 5 | \(line)"])
    }

    @Test func repeatsOfTheSameViolationAreCounted() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let line = trace.nextLine
        trace.write("D5", f + "/backend-id", "7")
        trace.write("D5", f + "/backend-id", "8")
        trace.write("D5", f + "/backend-id", "9")
        let result = replay(trace.text)
        #expect(result.violationKeys == ["key fe/backend-id: writer | frontend | 5 | \(line)"])
        #expect(result.violations.first?.repeats == 2)
    }

    @Test func aTypeViolation() {
        var trace = TraceBuilder()
        trace.createVBD()
        let line = trace.nextLine
        trace.write("D0", b + "/max-ring-page-order", "four")
        let result = replay(trace.text)
        #expect(result.violationKeys == ["key be/max-ring-page-order: type | dom0 (backend/toolstack) | 0 | \(line)"])
    }

    @Test func theInitialValueIsChecked() {
        var trace = TraceBuilder()
        trace.operation("A1", "mkdir", f, tx: 1)
        trace.operation("A1", "mkdir", b, tx: 1)
        trace.write("A1", b + "/frontend", f, tx: 1)
        trace.write("A1", f + "/backend", b, tx: 1)
        let line = trace.nextLine
        trace.write("A1", f + "/state", "4", tx: 1)
        let result = replay(trace.text)
        #expect(result.violationKeys == ["key fe.state: init | dom0 (backend/toolstack) | 0 | \(line)"])
    }

    @Test func expectationsFireOnceWhenTracePassesTheDeadline() {
        var trace = TraceBuilder()
        trace.createVBD(be: 3)
        let armed = trace.lines.count  // be/state = 1 is the last state write before the wait
        trace.wait(11_000)
        let detected = trace.nextLine
        trace.write("D5", "/local/domain/5/data/x", "1")
        trace.wait(30_000)
        trace.write("D5", "/local/domain/5/data/x", "2")
        let result = replay(trace.text)
        #expect(
            result.violations.map { "\($0.rule) | \($0.role) | \($0.domid) | \($0.detectedLine ?? 0)" } == [
                "expect be.state != Initialising within 10s | backend | 3 | \(detected)"
            ])
        #expect(result.violations.first.map { $0.line <= armed } == true)
    }

    @Test func timersThatHaveNotExpiredAtTheEndAreNotReported() {
        var trace = TraceBuilder()
        trace.createVBD(be: 3)
        trace.wait(5_000)
        trace.write("D5", "/local/domain/5/data/x", "1")
        let result = replay(trace.text)
        #expect(result.violations.isEmpty)
        #expect(result.summary.pendingExpectations == 1)
    }

    @Test func obligationsAreCheckedAfterTheCommit() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.write("D0", b + "/state", "2")
        trace.write("A2", b + "/physical-device", "fd:3")
        trace.write("D5", f + "/event-channel", "17")  // no ring-ref: the transport is incomplete
        let line = trace.nextLine
        trace.write("D5", f + "/state", "3")
        let result = replay(trace.text)
        #expect(result.violationKeys == ["transition fe.state Initialising -> Initialised: requires | frontend | 5 | \(line)"])
    }

    @Test func stagedTransactionsAreJudgedAtTheCommitAndAbortsAreDropped() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.start("D5", tx: 9)
        trace.write("D5", f + "/state", "6", tx: 9)
        trace.end("D5", tx: 9, commit: false)  // aborted: the frontend is still Connected
        let line = trace.nextLine
        trace.write("D5", f + "/state", "1")  // Connected -> Initialising needs be=Closed
        let result = replay(trace.text)
        #expect(result.violationKeys == ["transition fe.state Connected -> Initialising | frontend | 5 | \(line)"])
    }

    @Test func writerChecksInsideATransactionHappenWhenTheMessageArrives() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.start("D5", tx: 9)
        let line = trace.nextLine
        trace.write("D5", f + "/backend-id", "3", tx: 9)
        trace.end("D5", tx: 9, commit: false)
        let result = replay(trace.text)
        #expect(result.violationKeys == ["key fe/backend-id: writer | frontend | 5 | \(line)"])
    }

    @Test func indexBoundsInsideATransactionFollowTheCommittedView() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.write("D0", b + "/max-ring-page-order", "4")
        trace.write("D0", b + "/state", "2")
        trace.write("A2", b + "/physical-device", "fd:3")
        // ring-ref0..3 before ring-page-order, in one transaction committed as seen (oxenstored style)
        for i in 0..<4 { trace.write("D5", f + "/ring-ref\(i)", "\(8 + i)", tx: 4) }
        trace.write("D5", f + "/ring-page-order", "2", tx: 4)
        trace.write("D5", f + "/event-channel", "17", tx: 4)
        trace.write("D5", f + "/state", "3")
        let result = replay(trace.text)
        #expect(result.findings.map(\.message) == [])
    }

    @Test func anErrorReplyUndoesTheRefusedRequest() {
        var trace = TraceBuilder()
        trace.createVBD(be: 3)
        trace.connectVBD(be: 3, backend: "D3", hotplug: "D3")
        let refused = trace.nextLine
        trace.write("D5", TraceBuilder.vbdBackend(3, 5, 51712) + "/online", "0")
        trace.error("D5", "EACCES")
        let line = trace.nextLine
        trace.write("A1", TraceBuilder.vbdBackend(3, 5, 51712) + "/state", "5")  // requires online == "0": still "1"
        let result = replay(trace.text)
        #expect(
            result.violationKeys == [
                "guarantee fe_stays_out_of_be | frontend | 5 | \(refused)",
                "transition be.state Connected -> Closing: requires | toolstack | 0 | \(line)",
            ])
    }

    @Test func removingAnAncestorEndsTheInstance() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.write("A1", b + "/online", "0")
        trace.write("A1", b + "/state", "5")
        trace.write("D5", f + "/state", "6")
        trace.write("D0", b + "/state", "6")
        trace.operation("A1", "rm", "/local/domain/5/device")
        trace.operation("A1", "rm", "/local/domain/0/backend/vbd/5")
        let result = replay(trace.text)
        #expect(result.findings.map(\.message) == [])
        #expect(result.summary.instancesLive == 0)
    }

    @Test func relativePathsAreUnderTheWritersHome() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        let line = trace.nextLine
        trace.write("D5", "device/vbd/51712/backend-id", "7")
        let result = replay(trace.text)
        #expect(result.violationKeys == ["key fe/backend-id: writer | frontend | 5 | \(line)"])
    }

    @Test func cxenstoredSocketsShowAsDom0() {
        let text = """
            io: IN 0x1 (d0) 20261127 10:00:00 MKDIR (/local/domain/5/device/vbd/51712 )
            io: IN 0x1 (d0) 20261127 10:00:00 MKDIR (/local/domain/3/backend/vbd/5/51712 )
            io: IN 0x1 (d0) 20261127 10:00:00 WRITE (/local/domain/3/backend/vbd/5/51712/frontend /local/domain/5/device/vbd/51712)
            io: IN 0x1 (d0) 20261127 10:00:00 WRITE (/local/domain/5/device/vbd/51712/backend /local/domain/3/backend/vbd/5/51712)
            io: IN 0x1 (d0) 20261127 10:00:00 WRITE (/local/domain/5/device/vbd/51712/state 1)
            io: IN 0x1 (d0) 20261127 10:00:00 WRITE (/local/domain/3/backend/vbd/5/51712/state 1)
            io: IN 0x1 (d0) 20261127 10:00:00 WRITE (/local/domain/3/backend/vbd/5/51712/online 1)
            io: IN 0x2 (d5) 20261127 10:00:01 WRITE (/local/domain/5/device/vbd/51712/backend-id 9)

            """
        let result = replay(text)
        #expect(result.violationKeys == ["key fe/backend-id: writer | frontend | 5 | 8"])
    }

    @Test func turnBlameUsesTheTurnTable() throws {
        var vbd = try #require(exampleProtocol("vbd"))
        for index in vbd.expectations.indices { vbd.expectations[index].blame = .turn }
        var trace = TraceBuilder()
        trace.createVBD(be: 3)
        trace.wait(11_000)
        trace.write("D5", "/local/domain/5/data/x", "1")
        let result = replay(trace.text, protocols: [vbd])
        let expected = vbd.turns.first { $0.frontendState == 1 && $0.backendState == 1 }.map { vbd.roleNames($0.roles) } ?? []
        #expect(!expected.isEmpty)
        #expect(Set(result.violations.map(\.role)).isSubset(of: Set(expected + expected.map { "dom3 (\($0))" })))
        #expect(!result.violations.isEmpty)
    }

    @Test func valOfANonDecimalValueBlamesItsWriter() throws {
        var vbd = try #require(exampleProtocol("vbd"))
        let index = try #require(vbd.keys.firstIndex { $0.pattern.description == "ring-page-order" && $0.pattern.directory == 0 })
        vbd.keys[index].type = .string(pattern: nil)
        var trace = TraceBuilder()
        trace.createVBD()
        trace.write("D0", b + "/state", "2")
        trace.write("A2", b + "/physical-device", "fd:3")
        let line = trace.nextLine
        trace.write("D5", f + "/ring-page-order", "two")
        trace.write("D5", f + "/event-channel", "17")
        trace.write("D5", f + "/state", "3")
        let result = replay(trace.text, protocols: [vbd])
        #expect(result.violationKeys.first == "key fe/ring-page-order: type | frontend | 5 | \(line)")
        #expect(result.violationKeys.filter { $0.hasPrefix("key fe/ring-page-order: type") }.count == 1)
    }
}

/// Legal behaviour of real drivers listed in the protocol reference (§1.8) is not flagged by the
/// shipped descriptions.
@Suite struct LegalBehaviourTests {
    let f = TraceBuilder.vbdFrontend(5, 51712)
    let b = TraceBuilder.vbdBackend(0, 5, 51712)

    @Test func theFrontendSkipsInitWaitWithDefaultParameters() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.write("D5", f + "/ring-ref", "8")
        trace.write("D5", f + "/event-channel", "17")
        trace.write("D5", f + "/state", "3")  // before the backend's InitWait: allowed with defaults
        trace.write("D0", b + "/state", "2")
        trace.write("A2", b + "/physical-device", "fd:3")
        trace.write("D0", b + "/sectors", "8")
        trace.write("D0", b + "/info", "0")
        trace.write("D0", b + "/sector-size", "512")
        trace.write("D0", b + "/state", "4")
        trace.write("D5", f + "/state", "4")
        #expect(replay(trace.text).findings.map(\.message) == [])
    }

    @Test func theBackendBypassesInitWaitWithDefaultParameters() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.write("A2", b + "/physical-device", "fd:3")
        trace.write("D0", b + "/state", "3")  // Initialising -> Initialised, no limits published
        trace.write("D5", f + "/ring-ref", "8")
        trace.write("D5", f + "/event-channel", "17")
        trace.write("D5", f + "/state", "3")
        trace.write("D0", b + "/sectors", "8")
        trace.write("D0", b + "/info", "0")
        trace.write("D0", b + "/sector-size", "512")
        trace.write("D0", b + "/state", "4")
        trace.write("D5", f + "/state", "4")
        #expect(replay(trace.text).findings.map(\.message) == [])
    }

    @Test func theToolstackClosesTheBackendOnAQemuTimeout() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.connectVBD()
        trace.write("A1", b + "/online", "0")
        trace.write("A1", b + "/state", "5")
        trace.write("A1", b + "/state", "6")  // device_qemu_timeout
        trace.write("D5", f + "/state", "6")
        #expect(replay(trace.text).findings.map(\.message) == [])
    }

    @Test func aFrontendClosesFromInitialisingOnProbeFailure() {
        var trace = TraceBuilder()
        trace.createVBD()
        trace.write("D0", b + "/state", "2")
        trace.write("D5", f + "/state", "6")
        trace.write("D0", b + "/state", "6")
        #expect(replay(trace.text).findings.map(\.message) == [])
    }

    @Test func netfrontShortcutAndTheHotplugGate() throws {
        let result = try replayExample("vif-connect.jsonl")
        #expect(result.findings.isEmpty)
    }

    @Test func netbackMayNotConnectBeforeTheHotplugScript() {
        let f = "/local/domain/5/device/vif/0"
        let b = "/local/domain/2/backend/vif/5/0"
        var trace = TraceBuilder()
        trace.operation("A1", "mkdir", f, tx: 1)
        trace.operation("A1", "mkdir", b, tx: 1)
        trace.write("A1", b + "/frontend", f, tx: 1)
        trace.write("A1", f + "/backend", b, tx: 1)
        trace.write("A1", f + "/state", "1", tx: 1)
        trace.write("A1", b + "/state", "1", tx: 1)
        trace.write("A1", b + "/online", "1", tx: 1)
        trace.write("A1", b + "/hotplug-status", "", tx: 1)
        trace.write("D2", b + "/feature-rx-copy", "1")
        trace.write("D2", b + "/state", "2")
        trace.write("D5", f + "/tx-ring-ref", "1")
        trace.write("D5", f + "/rx-ring-ref", "2")
        trace.write("D5", f + "/event-channel", "3")
        trace.write("D5", f + "/request-rx-copy", "1")
        trace.write("D5", f + "/state", "4")
        let line = trace.nextLine
        trace.write("D2", b + "/state", "4")  // hotplug-status is still ""
        let result = replay(trace.text)
        #expect(result.violationKeys == ["transition be.state InitWait -> Connected | backend | 2 | \(line)"])
    }
}
