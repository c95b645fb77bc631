import CLibXML2
import Foundation
import Testing

@testable import PolicyReader

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/minidom")

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

private func sha1Hex(_ text: String) -> String {
    hex(SHA1.hash(Array(text.utf8)))
}

/// The minidom serialization of `xml` as a string, or nil if it does not parse.
private func toxml(_ xml: String) -> String? {
    MinidomSerializer.serialization(ofXML: Array(xml.utf8)).map { String(decoding: $0, as: UTF8.self) }
}

/// Runs `body` on a document parsed by plain `xmlReadMemory`, as other readers build it.
private func withDocument<R>(_ xml: String, _ body: (UnsafeMutablePointer<xmlDoc>) -> R) throws -> R {
    let bytes = Array(xml.utf8)
    let document = try #require(
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) {
                xmlReadMemory($0.baseAddress, Int32($0.count), nil, nil, Int32(bitPattern: XML_PARSE_NONET.rawValue))
            }
        })
    defer { xmlFreeDoc(document) }
    return body(document)
}

@Suite("SHA-1")
struct SHA1Tests {
    @Test(
        "FIPS 180-4 / RFC 3174 known answers",
        arguments: [
            ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ])
    func knownAnswer(message: String, digest: String) {
        #expect(sha1Hex(message) == digest)
    }

    @Test("one million 'a'")
    func millionA() {
        // FIPS 180-2 appendix A.3 / RFC 3174 test 3.
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hex(SHA1.hash(message)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("split updates equal one-shot hashing")
    func incremental() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let expected = SHA1.hash(message)
        // Split sizes straddle the 64-byte block and the 56-byte padding boundary.
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 500, 999, 1000] {
            var hasher = SHA1()
            hasher.update(message[..<split])
            hasher.update(message[split...])
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
        var byteAtATime = SHA1()
        for byte in message { byteAtATime.update(CollectionOfOne(byte)) }
        #expect(byteAtATime.finalize() == expected)

        var raw = SHA1()
        message.withUnsafeBytes { raw.update($0) }
        #expect(raw.finalize() == expected)

        // A non-contiguous collection takes the copying path.
        var lazy = SHA1()
        lazy.update(message.lazy.map { $0 })
        #expect(lazy.finalize() == expected)
    }

    @Test("finalize resets the hasher")
    func reuse() {
        var hasher = SHA1()
        hasher.update(Array("abc".utf8))
        _ = hasher.finalize()
        #expect(hex(hasher.finalize()) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }
}

@Suite("minidom toxml() digest")
struct MinidomDigestTests {
    static let corpus = [
        "mini", "xen410-client_v1", "xen410-test", "xen410-xm-test", "xen410-xm-test-new", "xen410-xm-test-update",
    ]

    /// case → expected hex digest, from `digests.tsv`.
    static func expectedDigests() throws -> [String: String] {
        let table = try String(contentsOf: fixtures.appendingPathComponent("digests.tsv"), encoding: .utf8)
        var digests: [String: String] = [:]
        for line in table.split(separator: "\n") where !line.hasPrefix("#") {
            let columns = line.split(separator: "\t")
            try #require(columns.count == 2, "malformed line: \(line)")
            digests[String(columns[0])] = String(columns[1])
        }
        return digests
    }

    @Test("digests.tsv covers exactly the corpus")
    func tableCoversCorpus() throws {
        #expect(try Set(Self.expectedDigests().keys) == Set(Self.corpus))
    }

    @Test("digest matches the G4 header of the reference binary", arguments: corpus)
    func corpusDigest(name: String) throws {
        let expected = try #require(try Self.expectedDigests()[name])
        let xml = try [UInt8](Data(contentsOf: fixtures.appendingPathComponent("\(name).xml")))
        let digest = try #require(MinidomSerializer.sha1(ofXML: xml))
        #expect(hex(digest) == expected)

        let text = String(decoding: xml, as: UTF8.self)
        let (sha1, isASCII) = try withDocument(text) { MinidomSerializer.digest(of: $0) }
        #expect(hex(sha1) == expected)
        #expect(isASCII)
    }

    @Test("mini.xml: declaration replaced, final newline dropped (spec §3.11.2 item 9)")
    func miniSerialization() throws {
        let source = try String(contentsOf: fixtures.appendingPathComponent("mini.xml"), encoding: .utf8)
        let firstNewline = try #require(source.firstIndex(of: "\n"))
        #expect(source.last == "\n")
        let expected = #"<?xml version="1.0" ?>"# + source[source.index(after: firstNewline)...].dropLast()

        let serialized = try #require(MinidomSerializer.serialization(ofXML: Array(source.utf8)))
        #expect(serialized.count == 2087)
        #expect(String(decoding: serialized, as: UTF8.self) == expected)
    }

    // Expected strings below were produced by Python 2.7.18 `minidom.parseString(s).toxml()`.

    @Test("attributes sorted by qualified name, namespace declarations included")
    func attributeOrder() {
        #expect(
            toxml(#"<r z="1" b="2" a="3" xmlns:q="urn:q" xmlns="urn:d" q:m="4"/>"#)
                == #"<?xml version="1.0" ?><r a="3" b="2" q:m="4" xmlns="urn:d" xmlns:q="urn:q" z="1"/>"#)
        #expect(
            toxml(#"<a xml:lang="en" xmlns:p="u" p:z="1" A="2"><p:b/></a>"#)
                == #"<?xml version="1.0" ?><a A="2" p:z="1" xml:lang="en" xmlns:p="u"><p:b/></a>"#)
    }

    @Test("& < > \" escaped in text and attributes, apostrophe kept")
    func escaping() {
        #expect(
            toxml(#"<r a="x&amp;&lt;&gt;&quot;&apos;y">t&amp;&lt;&gt;"'u</r>"#)
                == #"<?xml version="1.0" ?><r a="x&amp;&lt;&gt;&quot;'y">t&amp;&lt;&gt;&quot;'u</r>"#)
        // Character references arrive as the characters themselves and are written raw.
        #expect(
            toxml("<a b=\"&#9;&#10;&#13;x\">&#13;&#10;</a>")
                == "<?xml version=\"1.0\" ?><a b=\"\t\n\rx\">\r\n</a>")
    }

    @Test("childless elements written <x/>, whitespace text kept")
    func emptyElements() {
        #expect(toxml("<r><e></e><f/><g> </g></r>") == #"<?xml version="1.0" ?><r><e/><f/><g> </g></r>"#)
    }

    @Test("prolog and epilog: declaration normalised, comments and PIs kept, whitespace dropped")
    func prologAndEpilog() {
        let source = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>

            <!-- head --><?app go?>
            <r/>
            <!-- tail -->

            """
        #expect(toxml(source) == #"<?xml version="1.0" ?><!-- head --><?app go?><r/><!-- tail -->"#)
        #expect(
            toxml("<a><?pi?><?pi   x  y  ?><!----></a>")
                == #"<?xml version="1.0" ?><a><?pi ?><?pi x  y  ?><!----></a>"#)
    }

    @Test("CDATA sections kept one by one, empty ones dropped")
    func cdataSections() throws {
        #expect(
            toxml(#"<r>a<![CDATA[<&>"]]>b<![CDATA[]]><![CDATA[p]]><![CDATA[q]]></r>"#)
                == #"<?xml version="1.0" ?><r>a<![CDATA[<&>"]]>b<![CDATA[p]]><![CDATA[q]]></r>"#)
        #expect(toxml("<a><![CDATA[]]></a>") == #"<?xml version="1.0" ?><a/>"#)
        #expect(toxml("<a>x<![CDATA[]]>y</a>") == #"<?xml version="1.0" ?><a>xy</a>"#)
        // libxml2's default handler merges adjacent sections; the serializer still writes what it has.
        let merged = try withDocument("<a><![CDATA[p]]><![CDATA[q]]></a>") {
            String(decoding: MinidomSerializer.serialization(of: $0), as: UTF8.self)
        }
        #expect(merged == #"<?xml version="1.0" ?><a><![CDATA[pq]]></a>"#)
    }

    @Test("internal entities expanded like expat, DOCTYPE not written")
    func entities() {
        #expect(
            toxml(#"<!DOCTYPE a [<!ENTITY e "E&amp;<b>q</b>">]><a>&e;</a>"#)
                == #"<?xml version="1.0" ?><a>E&amp;<b>q</b></a>"#)
    }

    @Test("non-ASCII content hashed as UTF-8 and flagged")
    func nonASCII() throws {
        let (sha1, isASCII) = try withDocument("<r>&#233;</r>") { MinidomSerializer.digest(of: $0) }
        #expect(!isASCII)
        #expect(sha1 == SHA1.hash(Array("<?xml version=\"1.0\" ?><r>\u{e9}</r>".utf8)))
    }

    @Test("streamed digest equals the hash of the full serialization for multi-chunk documents")
    func streaming() throws {
        var xml = "<root a=\"&amp;\">"
        for index in 0..<20_000 {
            xml += "<item n=\"\(index)\">t&amp;&lt;\(index)</item>\n"
        }
        xml += "<big>" + String(repeating: "x&amp;", count: 100_000) + "</big></root>"
        let bytes = try #require(MinidomSerializer.serialization(ofXML: Array(xml.utf8)))
        #expect(bytes.count > 4 * MinidomSerializer.chunkSize)
        #expect(MinidomSerializer.sha1(ofXML: Array(xml.utf8)) == SHA1.hash(bytes))
    }

    @Test("malformed XML yields nil")
    func malformed() {
        #expect(MinidomSerializer.sha1(ofXML: Array("<a><b></a>".utf8)) == nil)
        #expect(MinidomSerializer.sha1(ofXML: []) == nil)
    }
}
