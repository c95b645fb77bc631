import ProtocolModel
import ProtocolReplay
import Testing

/// The shipped traces: the clean handshakes report nothing, each planted violation is reported once,
/// blamed on the right party, at the right line.
@Suite struct ExampleTraceTests {
    @Test func examplesCompile() {
        #expect(exampleProtocol("vbd") != nil)
        #expect(exampleProtocol("vif") != nil)
    }

    @Test(arguments: ["vbd-connect.log", "vbd-unplug.log", "vbd-reconnect.trace", "vbd-kexec.jsonl", "vif-connect.jsonl"])
    func cleanTraceReportsNothing(_ name: String) throws {
        let result = try replayExample(name)
        #expect(result.readerErrors == 0)
        #expect(result.findings.map { "\($0.line): \($0.rule): \($0.message)" } == [])
        #expect(result.summary.instancesCreated == 1)
        #expect(result.summary.pendingExpectations == 0)
    }

    @Test func unplugRemovesTheInstance() throws {
        let result = try replayExample("vbd-unplug.log")
        #expect(result.summary.instancesLive == 0)
    }

    @Test func frontendRewritingARingReferenceWhileConnected() throws {
        let result = try replayExample("violation-fe-ring-ref-while-connected.log")
        #expect(result.violationKeys == ["key fe/ring-ref{i}: phase | frontend | 5 | 53"])
        let violation = try #require(result.violations.first)
        #expect(violation.instance == "vbd fe=5 be=0 devid=51712")
        #expect(violation.origin.hasSuffix("vbd.xpd:111:7"))
        #expect(violation.path == "/local/domain/5/device/vbd/51712/ring-ref0")
    }

    @Test func backendWritingUnderTheFrontendDirectory() throws {
        let result = try replayExample("violation-be-writes-fe.trace")
        #expect(result.violationKeys == ["guarantee be_stays_out_of_fe | backend | 3 | 99"])
        #expect(result.violations.first?.instance == "vbd fe=5 be=3 devid=51712")
    }

    @Test func illegalTransition() throws {
        let result = try replayExample("violation-illegal-transition.jsonl")
        #expect(result.violationKeys == ["transition fe.state Initialising -> Connected | frontend | 5 | 40"])
    }

    @Test func stalledBackend() throws {
        let result = try replayExample("violation-backend-stalled.log")
        #expect(result.violationKeys == ["expect be.state != Initialising within 10s | backend | 3 | 17"])
        #expect(result.violations.first?.detectedLine == 27)
    }

    @Test func guestRewritingAToolstackKey() throws {
        let result = try replayExample("violation-guest-rewrites-toolstack-key.jsonl")
        #expect(result.violationKeys == ["key fe/backend-id: writer | frontend | 5 | 56"])
    }

    @Test func labelsRefuseAFrontendTheProtocolDoesNotAllow() throws {
        let result = try replayExample("vbd-connect.log", options: .init(labels: [5: "black", 0: "SystemManagement"]))
        #expect(result.violationKeys == ["labels frontend | toolstack | 0 | 8"])
        #expect(result.violations.first?.origin.hasSuffix("Examples/protocols/vbd.xpd:24:21") == true, "the `labels frontend` line")
        let allowed = try replayExample("vbd-connect.log", options: .init(labels: [5: "green", 0: "SystemManagement"]))
        #expect(allowed.findings.isEmpty)
    }

    /// A refused label pair is reported at the origin of its admission row (the `labels` line it
    /// comes from), or at the protocol when the row has none.
    @Test func admissionFindingsNameTheOriginOfTheirRow() throws {
        let vbd = try #require(exampleProtocol("vbd"))
        let index = try #require(exampleProtocols.firstIndex { $0.name == "vbd" })
        let backendLine = try #require(vbd.labels.first { vbd.roles[$0.role].name == "backend" }?.origins.first)
        let frontend = try #require(vbd.roles.firstIndex { $0.name == "frontend" })
        let backend = try #require(vbd.roles.firstIndex { $0.name == "backend" })
        func replayed(origin: Origin?) throws -> ReplayResult {
            let row = ReplayEngine.Admission(
                protocolIndex: index, firstRole: frontend, secondRole: backend, pairs: [("SystemManagement", "SystemManagement")],
                origin: origin)
            return try replayExample(
                "vbd-connect.log", options: .init(labels: [5: "green", 0: "SystemManagement"], admissions: [row]))
        }
        let result = try replayed(origin: backendLine)
        #expect(result.violationKeys == ["labels frontend/backend | toolstack | 0 | 8"])
        #expect(result.violations.first?.origin == backendLine.description)
        #expect(try replayed(origin: nil).violations.first?.origin == vbd.origin.description)
    }
}
