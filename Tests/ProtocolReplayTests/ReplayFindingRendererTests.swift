import Testing

@testable import ProtocolReplay

/// The pieces of the SARIF and GitHub forms that the CLI tests do not reach on their own.
@Suite struct ReplayFindingRendererTests {
    static func finding(rule: String, message: String, origin: String = "vbd.xpd:3:4") -> Finding {
        Finding(
            severity: .violation, line: 7, time: nil, domid: 5, role: "frontend", protocolName: "vbd", instance: "vbd fe=5",
            rule: rule, origin: origin, message: message)
    }

    @Test func anOriginIsSplitFromTheRight() {
        #expect(ReplayFindingRenderer.sourceLocation("a/vbd.xpd:12:3")! == ("a/vbd.xpd", 12, 3))
        #expect(ReplayFindingRenderer.sourceLocation("C:/x:y.xpd:1:2")! == ("C:/x:y.xpd", 1, 2))
        #expect(ReplayFindingRenderer.sourceLocation("vbd.xpd") == nil)
        #expect(ReplayFindingRenderer.sourceLocation(":1:2") == nil)
        #expect(ReplayFindingRenderer.sourceLocation("vbd.xpd:x:2") == nil)
    }

    /// Separators and newlines in a rule or a message cannot break the command apart.
    @Test func annotationsAreEscaped() {
        let line = ReplayFindingRenderer.github(
            Self.finding(rule: "key a,b: writer", message: "writes 'x\ny' (100%)"), trace: "t:1,2.log")
        #expect(
            line
                == "::error file=t%3A1%2C2.log,line=7,title=key a%2Cb%3A writer::writes 'x%0Ay' (100%25); blamed on frontend (domain 5), vbd fe=5\n"
        )
    }

    @Test func aFindingWithoutSourceHasNoRelatedLocation() throws {
        let sarif = ReplayFindingRenderer.sarif(
            [Self.finding(rule: "r", message: "m", origin: "nowhere")], trace: "-", messages: 1, toolVersion: "0")
        #expect(!sarif.contains("relatedLocations"))
        #expect(sarif.contains("\"uri\": \"-\""))
    }
}
