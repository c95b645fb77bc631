import PolicyDiagnostics
import PolicyLint
import Testing

/// The output formats: the exact JSON shape, SARIF with rule descriptions, GitHub annotations, text.
@Suite struct RendererTests {
    static let findings = [
        Finding(
            rule: "unused-type", severity: .warning, message: "STE type 'Green' is not used by any label",
            at: SourceLocation(file: "p.xml", line: 5, column: 7), hint: "remove it"),
        Finding(
            rule: "E0102", severity: .error, message: "type 'X' is not declared", at: SourceLocation(file: "q,1:x.xml", line: 2, column: 3)),
        Finding(rule: "duplicate-conflict-set-name", severity: .info, message: "100% a copy\nreally", at: SourceLocation(file: "p.xml")),
    ]

    @Test func jsonHasExactlyTheDocumentedKeys() throws {
        let json = FindingRenderer.json(Self.findings)
        #expect(
            json.hasPrefix(
                """
                {
                  "findings": [
                    {
                      "rule": "unused-type",
                      "severity": "warning",
                      "file": "p.xml",
                      "line": 5,
                      "column": 7,
                      "message": "STE type 'Green' is not used by any label"
                    },
                """))
        #expect(json.contains(#""severity": "info""#))
        #expect(!json.contains("hint"))
        #expect(FindingRenderer.json([]) == "{\n  \"findings\": []\n}\n")
    }

    @Test func githubAnnotations() {
        let lines = FindingRenderer.github(Self.findings).split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "::warning file=p.xml,line=5,col=7,title=unused-type::STE type 'Green' is not used by any label (remove it)",
                "::error file=q%2C1%3Ax.xml,line=2,col=3,title=E0102::type 'X' is not declared",
                "::notice file=p.xml,title=duplicate-conflict-set-name::100%25 a copy%0Areally",
            ])
    }

    @Test func sarifDescribesRules() {
        let rules = RuleRegistry.descriptions.filter { ["unused-type", "duplicate-conflict-set-name"].contains($0.id) }
        let sarif = FindingRenderer.sarif(Self.findings, rules: rules, toolVersion: "9.9")
        #expect(sarif.contains(#""version": "2.1.0""#))
        #expect(sarif.contains(#""shortDescription": {"#))
        #expect(sarif.contains(#""text": "a declared STE or Chinese Wall type that no label uses""#))
        #expect(sarif.contains(#""help": {"#))
        #expect(!sarif.contains("Uri"))
        #expect(sarif.contains(#""level": "note""#))
        // Compiler codes that occur are listed too, so that every ruleIndex is valid.
        #expect(sarif.contains(#""id": "E0102""#))
        #expect(sarif.contains(#""ruleIndex": 2"#))
    }

    @Test func textLikeACompiler() {
        var sources = SourceLines()
        sources.add(file: "p.xml", contents: Array("1\n2\n3\n4\n      <Type>Green</Type>\n".utf8))
        let text = FindingRenderer.text([Self.findings[0]], sources: sources, colored: false, files: 1)
        #expect(
            text == """
                p.xml:5:7: warning: STE type 'Green' is not used by any label [unused-type]
                 5 |       <Type>Green</Type>
                   |       ^
                hint: remove it
                0 errors, 1 warning, 0 info in 1 file

                """)
        #expect(FindingRenderer.text([], sources: sources, colored: false, files: 3) == "")
    }
}
