import Foundation
import PolicyDiagnostics
import Testing

@testable import PolicyReader

// The reader builds its tree, the minidom digest and the validation from one stream of SAX events.
// These tests pin what the earlier reader, which validated and serialized a finished libxml2 tree,
// did in the cases where the two could differ.

private let ibm = "http://www.ibm.com"

private let minidomFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/minidom")

/// A small valid G3b policy; `$STE` and `$HEADER` mark where a test puts its change. Line 9 holds
/// the `<Type>` of `Red`, line 8 `<SimpleTypeEnforcementTypes>`.
private func policy(ste: String = "", header: String = "", red: String = "Red") -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>
    <SecurityPolicyDefinition xmlns="http://www.ibm.com">
      <PolicyHeader>\(header)
        <PolicyName>mini</PolicyName>
        <Version>1.0</Version>
      </PolicyHeader>
      <SimpleTypeEnforcement>
        <SimpleTypeEnforcementTypes>\(ste)
          <Type>\(red)</Type>
          <Type>SystemManagement</Type>
        </SimpleTypeEnforcementTypes>
      </SimpleTypeEnforcement>
      <ChineseWall>
        <ChineseWallTypes>
          <Type>Red</Type>
        </ChineseWallTypes>
      </ChineseWall>
      <SecurityLabelTemplate>
        <SubjectLabels bootstrap="SystemManagement">
          <VirtualMachineLabel>
            <Name>SystemManagement</Name>
            <SimpleTypeEnforcementTypes>
              <Type>SystemManagement</Type>
            </SimpleTypeEnforcementTypes>
          </VirtualMachineLabel>
        </SubjectLabels>
      </SecurityLabelTemplate>
    </SecurityPolicyDefinition>

    """
}

private func read(_ text: String, schema: ACMSchema? = .g3b, digest: Bool = false) -> XMLReader.Result {
    XMLReader(computesMinidomDigest: digest).read(bytes: Array(text.utf8), path: "s.xml", schema: schema)
}

@Suite("Streaming reader")
struct StreamingReaderTests {
    static let documents: [String] = [
        #"<r>a<![CDATA[<&>"]]>b<![CDATA[]]><![CDATA[p]]><![CDATA[q]]></r>"#,
        "<a><![CDATA[]]></a>",
        "<a>x<![CDATA[]]>y</a>",
        "<a><?pi?><?pi   x  y  ?><!----></a>",
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\n<!-- head --><?app go?>\n<r/>\n<!-- tail -->\n",
        #"<r a="x&amp;&lt;&gt;&quot;&apos;y">t&amp;&lt;&gt;"'u</r>"#,
        "<a b=\"&#9;&#10;&#13;x\">&#13;&#10;</a>",
        #"<r z="1" b="2" a="3" xmlns:q="urn:q" xmlns="urn:d" q:m="4"/>"#,
        #"<a xml:lang="en" xmlns:p="u" p:z="1" A="2"><p:b/></a>"#,
        "<r><e></e><f/><g> </g></r>",
        "<r>&#233;<s>\u{e9}</s></r>",
    ]

    @Test("the streamed minidom digest equals the digest of libxml2's tree", arguments: documents)
    func digestOfDocument(_ text: String) throws {
        let result = read(text, schema: nil, digest: true)
        let document = try #require(result.document, "\(result.diagnostics)")
        #expect(document.minidomDigest == MinidomSerializer.sha1(ofXML: Array(text.utf8)))
        let serialization = try #require(MinidomSerializer.serialization(ofXML: Array(text.utf8)))
        #expect(document.minidomIsASCII == serialization.allSatisfy { $0 < 0x80 })
    }

    @Test("the streamed minidom digest equals the tree's for the reference policies and a large document")
    func digestOfCorpus() throws {
        var texts: [[UInt8]] = []
        for name in ["mini", "xen410-client_v1", "xen410-test", "xen410-xm-test", "xen410-xm-test-new", "xen410-xm-test-update"] {
            texts.append(try [UInt8](Data(contentsOf: minidomFixtures.appendingPathComponent("\(name).xml"))))
        }
        var large = "<root a=\"&amp;\">"
        for index in 0..<20_000 { large += "<item n=\"\(index)\">t&amp;&lt;\(index)<![CDATA[c]]></item>\n<!-- \(index) -->" }
        texts.append(Array((large + "</root>").utf8))
        for bytes in texts {
            let result = XMLReader(computesMinidomDigest: true).read(bytes: bytes, path: "c.xml", schema: nil)
            let document = try #require(result.document, "\(result.diagnostics)")
            #expect(document.minidomDigest == MinidomSerializer.sha1(ofXML: bytes))
        }
    }

    @Test("a child that its parent's simple type does not allow is reported at the parent")
    func contentNotAllowedAtParent() throws {
        let result = read(policy(red: "Red<X/>"))
        #expect(result.document == nil)
        let first = try #require(result.diagnostics.first)
        #expect(first.code == "E0010")
        #expect(first.message.hasPrefix("Element 'Type': Element content is not allowed"))
        #expect(first.location == SourceLocation(file: "s.xml", line: 9, column: 7))
    }

    @Test("an unexpected child is reported at the child, an incomplete element at the element")
    func unexpectedAndMissing() throws {
        let unexpected = read(policy(ste: "\n      <Bogus a=\"1\"/>"))
        #expect(unexpected.diagnostics.map(\.location) == [SourceLocation(file: "s.xml", line: 9, column: 7)])
        #expect(unexpected.diagnostics.first?.message.contains("Bogus") == true)
        let missing = read(policy().replacingOccurrences(of: "    <Version>1.0</Version>\n", with: ""))
        #expect(missing.diagnostics.map(\.location) == [SourceLocation(file: "s.xml", line: 3, column: 3)])
    }

    @Test("an empty CDATA section in element-only content is no text, as libxml2's tree had no node for it")
    func emptyCDATAInElementContent() {
        let result = read(policy(ste: "<![CDATA[]]>"))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.document != nil)
    }

    @Test("text split by references is one text node for the validator: one error, at its element")
    func textRunValidatedOnce() {
        let result = read(policy(header: "a&amp;b&#65;c"))
        #expect(result.diagnostics.count == 1, "\(result.diagnostics)")
        #expect(result.diagnostics.first?.location == SourceLocation(file: "s.xml", line: 3, column: 3))
        // A comment between two runs makes two text nodes, and two errors.
        let split = read(policy(header: "a<!-- -->b"))
        #expect(split.diagnostics.count == 2, "\(split.diagnostics)")
    }

    @Test("validating on a second thread gives what validating in the same pass gives")
    func parallelValidation() {
        let documents = [
            policy(), policy(red: "Red<X/>"), policy(ste: "\n      <Bogus a=\"1\"/>"), policy(header: "a<!-- -->b"),
            policy(ste: "<![CDATA[]]>"), policy(red: "&undefined;"), policy(header: "<!DOCTYPE x>"),
            "<?xml version=\"1.0\"?>\n<!DOCTYPE SecurityPolicyDefinition>" + policy().drop { $0 != "\n" },
            policy().replacingOccurrences(of: "</SecurityPolicyDefinition>", with: ""),
            policy().replacingOccurrences(of: "xmlns=", with: "xmlns:ibm="), "<Type xmlns=\"http://www.ibm.com\">Red</Type>",
        ]
        for text in documents {
            for schema in [ACMSchema.g3b, .g2] {
                var sequential = XMLReader(computesMinidomDigest: true)
                sequential.parallelValidationMinimumSize = .max
                var parallel = sequential
                parallel.parallelValidationMinimumSize = 0
                let a = sequential.read(bytes: Array(text.utf8), path: "p.xml", schema: schema)
                let b = parallel.read(bytes: Array(text.utf8), path: "p.xml", schema: schema)
                #expect(a.diagnostics == b.diagnostics, "\(text)")
                #expect((a.document == nil) == (b.document == nil))
                #expect(a.document?.minidomDigest == b.document?.minidomDigest)
            }
        }
    }

    @Test("text, CDATA and comments become element text and leading comments")
    func treeContents() throws {
        let text = policy(ste: "\n      <!-- xen-policy-disable W0101: x --><!-- second -->", red: "R<![CDATA[e]]>&#100;")
        let root = try #require(read("<!-- top -->\n" + text.drop { $0 != "\n" }.dropFirst()).document?.root)
        #expect(root.leadingComments == [" top "])
        let types = try #require(root.child("SimpleTypeEnforcement", in: ibm)?.child("SimpleTypeEnforcementTypes", in: ibm))
        let first = try #require(types.children.first)
        #expect(first.text == "Red")
        #expect(first.leadingComments == [" xen-policy-disable W0101: x ", " second "])
        #expect(types.children[1].leadingComments.isEmpty)
    }
}
