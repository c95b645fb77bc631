import CLibXML2

/// libxml2 initialises its globals lazily on the first parse; doing it once up front avoids a
/// race (seen as a deadlock) when several tests parse in parallel.
private let libxml2Ready: Void = { xmlInitParser() }()

/// Reproduces the bytes of Python 2.7 `xml.dom.minidom.parseString(text).toxml()` from a libxml2
/// tree, and their SHA-1.
///
/// The Xen 3.3–4.1 ("G4") policy binary stores the SHA-1 of the policy XML as xend serialized it
/// (acm-format.md §3.11.2 item 9), so a byte-exact G4 header needs that serialization. With
/// `indent`, `addindent` and `newl` all empty, minidom writes:
///
/// * `<?xml version="1.0" ?>` with no newline, whatever the source declaration said;
/// * the document's comments, processing instructions and root element in order, without
///   separators (expat never reports whitespace outside the root element);
/// * elements as `<qname` + attributes sorted by qualified name (namespace declarations
///   `xmlns` / `xmlns:p` included) as ` name="value"`, then `/>` if the element has no children,
///   else `>` children `</qname>`;
/// * text and attribute values with `&`, `<`, `"`, `>` escaped (not `'`), everything else verbatim,
///   including whitespace-only text and characters that came from character references;
/// * comments as `<!--data-->`, processing instructions as `<?target data?>` (the space is
///   written even when the data is empty);
/// * every CDATA section as its own `<![CDATA[data]]>`, unescaped. Python's expat builder keeps
///   CDATA sections (`Options.cdata_sections` is true) but creates no node for an empty one.
///
/// The document type declaration is skipped: minidom would write it back, but libxml2 does not keep
/// the internal subset's source text, and the policy reader refuses DOCTYPEs anyway.
///
/// Serialization walks libxml2's tree directly, so it depends on how the tree was built: libxml2's
/// default SAX handler merges adjacent CDATA sections (`<![CDATA[a]]><![CDATA[b]]>`) into one node,
/// which minidom keeps apart. Parsers that must match minidom exactly install
/// ``preserveCDATASections(in:)``, as ``sha1(ofXML:)`` does.
///
/// ``XMLReader`` builds no libxml2 tree: its `TreeBuilder` writes the same serialization from the
/// parser's events into an ``Output``, by the rules above (tests compare the two on the reference
/// policies). This tree walk remains the reference, for tests and tools.
enum MinidomSerializer {
    /// How many serialized bytes are collected before they are fed to the hasher.
    static let chunkSize = 64 * 1024

    /// Entity references nest at most this deep before the expansion is cut off. libxml2 already
    /// rejects entity loops at parse time; this only bounds the recursion on a hand-built tree.
    private static let maximumEntityDepth = 64

    /// Returns the SHA-1 of `document`'s minidom serialization, streamed in ``chunkSize`` pieces.
    ///
    /// `isASCII` is false when the serialization contains a non-ASCII byte. xend hashed a Python 2
    /// `unicode` string, which raises `UnicodeEncodeError` for such characters, so no original
    /// toolchain ever produced a digest for that document; the caller decides whether to accept the
    /// digest computed here over the UTF-8 bytes.
    static func digest(of document: UnsafeMutablePointer<xmlDoc>) -> (sha1: [UInt8], isASCII: Bool) {
        var output = Output(hashing: true)
        writeDocument(document, to: &output)
        return output.finishDigest()
    }

    /// Returns `document`'s minidom serialization as UTF-8 bytes.
    static func serialization(of document: UnsafeMutablePointer<xmlDoc>) -> [UInt8] {
        var output = Output(hashing: false)
        writeDocument(document, to: &output)
        return output.finishBytes()
    }

    /// Parses `bytes` and returns the SHA-1 of their minidom serialization, or nil if they are not
    /// well-formed XML.
    static func sha1(ofXML bytes: [UInt8]) -> [UInt8]? {
        withParsedDocument(bytes) { digest(of: $0).sha1 }
    }

    /// Parses `bytes` and returns their minidom serialization, or nil if they are not well-formed XML.
    static func serialization(ofXML bytes: [UInt8]) -> [UInt8]? {
        withParsedDocument(bytes) { serialization(of: $0) }
    }

    /// Makes a parser context create one CDATA node per CDATA section, as minidom does.
    ///
    /// libxml2's default handler appends a section to a CDATA node that immediately precedes it,
    /// losing the `]]><![CDATA[` boundary that minidom writes back. Empty sections create no node.
    /// Call before parsing; meant for pull parsing (`xmlCtxtReadMemory` and friends), where
    /// libxml2 reports each section in one piece (the push parser may split a section into
    /// several callbacks).
    static func preserveCDATASections(in context: xmlParserCtxtPtr) {
        context.pointee.sax?.pointee.cdataBlock = { userData, value, length in
            guard let userData, let value, length > 0 else { return }
            let context = userData.assumingMemoryBound(to: xmlParserCtxt.self)
            guard let parent = context.pointee.node,
                let section = xmlNewCDataBlock(context.pointee.myDoc, value, length)
            else { return }
            // xmlAddChild only merges text nodes, so the new CDATA node stays separate.
            if xmlAddChild(parent, section) == nil {
                xmlFreeNode(section)
            }
        }
    }

    // MARK: - Parsing (tests and tools)

    private static func withParsedDocument<Result>(
        _ bytes: [UInt8],
        _ body: (UnsafeMutablePointer<xmlDoc>) -> Result
    ) -> Result? {
        _ = libxml2Ready
        guard !bytes.isEmpty, let size = Int32(exactly: bytes.count),
            let context = xmlNewParserCtxt()
        else { return nil }
        defer { xmlFreeParserCtxt(context) }
        preserveCDATASections(in: context)
        // NONET only (plus silence): no entity substitution, no DTD loading, no size lifting.
        let options = Int32(
            bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
                | XML_PARSE_NOWARNING.rawValue)
        let document = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(context, chars.baseAddress, size, nil, nil, options)
            }
        }
        guard let document else { return nil }
        defer { xmlFreeDoc(document) }
        return body(document)
    }

    // MARK: - Tree walk

    private static func writeDocument(_ document: UnsafeMutablePointer<xmlDoc>, to output: inout Output) {
        output.write("<?xml version=\"1.0\" ?>")
        var child = document.pointee.children
        while let node = child {
            switch node.pointee.type {
            case XML_ELEMENT_NODE, XML_COMMENT_NODE, XML_PI_NODE:
                writeNode(node, entityDepth: 0, to: &output)
            default:
                // DTD nodes (see the type's documentation) and XInclude markers have no minidom
                // counterpart at document level.
                break
            }
            child = node.pointee.next
        }
    }

    private static func writeNode(_ node: xmlNodePtr, entityDepth: Int, to output: inout Output) {
        switch node.pointee.type {
        case XML_ELEMENT_NODE:
            writeElement(node, entityDepth: entityDepth, to: &output)
        case XML_TEXT_NODE:
            output.writeEscaped(node.pointee.content)
        case XML_CDATA_SECTION_NODE:
            // An empty section produced no minidom node (expat reports no character data for it).
            guard let content = node.pointee.content, content.pointee != 0 else { return }
            output.write("<![CDATA[")
            output.write(content)
            output.write("]]>")
        case XML_COMMENT_NODE:
            output.write("<!--")
            output.write(node.pointee.content)
            output.write("-->")
        case XML_PI_NODE:
            output.write("<?")
            output.write(node.pointee.name)
            output.write(" ")
            output.write(node.pointee.content)
            output.write("?>")
        case XML_ENTITY_REF_NODE:
            // Only reachable for documents with an internal DTD; expat would have expanded the
            // entity in place, so write its parsed replacement as ordinary content.
            guard entityDepth < maximumEntityDepth else { return }
            if let replacement = entityReplacement(of: node) {
                writeSiblings(from: replacement, entityDepth: entityDepth + 1, to: &output)
            } else {
                output.writeEscaped(node.pointee.content)
            }
        default:
            break
        }
        output.flushIfFull()
    }

    private static func writeSiblings(from first: xmlNodePtr?, entityDepth: Int, to output: inout Output) {
        var child = first
        while let node = child {
            writeNode(node, entityDepth: entityDepth, to: &output)
            child = node.pointee.next
        }
    }

    private static func writeElement(_ element: xmlNodePtr, entityDepth: Int, to output: inout Output) {
        output.write("<")
        writeQualifiedName(prefix: element.pointee.ns?.pointee.prefix, local: element.pointee.name, to: &output)

        var attributes = collectAttributes(of: element)
        if attributes.count > 1 {
            // minidom sorts `attrs.keys()`, i.e. qualified names; UTF-8 byte order is code-point order.
            attributes.sort { $0.name.lexicographicallyPrecedes($1.name) }
        }
        for attribute in attributes {
            output.write(" ")
            output.write(attribute.name)
            output.write("=\"")
            output.writeEscaped(attribute.value)
            output.write("\"")
        }

        // minidom decides on `childNodes` being empty; children that map to no minidom node
        // (empty CDATA sections, empty entity expansions) must not count.
        guard hasSerializedChildren(element.pointee.children, entityDepth: entityDepth) else {
            output.write("/>")
            return
        }
        output.write(">")
        writeSiblings(from: element.pointee.children, entityDepth: entityDepth, to: &output)
        output.write("</")
        writeQualifiedName(prefix: element.pointee.ns?.pointee.prefix, local: element.pointee.name, to: &output)
        output.write(">")
    }

    private static func writeQualifiedName(
        prefix: UnsafePointer<xmlChar>?,
        local: UnsafePointer<xmlChar>?,
        to output: inout Output
    ) {
        if let prefix, prefix.pointee != 0 {
            output.write(prefix)
            output.write(":")
        }
        output.write(local)
    }

    /// Whether any node in the sibling list starting at `first` writes something.
    private static func hasSerializedChildren(_ first: xmlNodePtr?, entityDepth: Int) -> Bool {
        var child = first
        while let node = child {
            switch node.pointee.type {
            case XML_ELEMENT_NODE, XML_COMMENT_NODE, XML_PI_NODE:
                return true
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = node.pointee.content, content.pointee != 0 { return true }
            case XML_ENTITY_REF_NODE:
                guard entityDepth < maximumEntityDepth else { break }
                if let replacement = entityReplacement(of: node) {
                    if hasSerializedChildren(replacement, entityDepth: entityDepth + 1) { return true }
                } else if let content = node.pointee.content, content.pointee != 0 {
                    return true
                }
            default:
                break
            }
            child = node.pointee.next
        }
        return false
    }

    /// The first node of an entity reference's parsed replacement, if libxml2 built one.
    private static func entityReplacement(of reference: xmlNodePtr) -> xmlNodePtr? {
        // libxml2 links an entity reference to its xmlEntity declaration through `children`;
        // xmlEntity starts with the same fields as xmlNode, so its own `children` is readable here.
        guard let declaration = reference.pointee.children,
            declaration.pointee.type == XML_ENTITY_DECL
        else { return nil }
        return declaration.pointee.children
    }

    // MARK: - Attributes

    private struct Attribute {
        var name: [UInt8]
        var value: [UInt8]
    }

    private static func collectAttributes(of element: xmlNodePtr) -> [Attribute] {
        var attributes: [Attribute] = []

        // minidom stores namespace declarations as ordinary attributes named `xmlns` / `xmlns:p`.
        var declaration = element.pointee.nsDef
        while let namespace = declaration {
            var name = Array("xmlns".utf8)
            if let prefix = namespace.pointee.prefix, prefix.pointee != 0 {
                name.append(UInt8(ascii: ":"))
                name.append(contentsOf: cBytes(prefix))
            }
            attributes.append(Attribute(name: name, value: Array(cBytes(namespace.pointee.href))))
            declaration = namespace.pointee.next
        }

        var property = element.pointee.properties
        while let attribute = property {
            var name: [UInt8] = []
            if let prefix = attribute.pointee.ns?.pointee.prefix, prefix.pointee != 0 {
                name.append(contentsOf: cBytes(prefix))
                name.append(UInt8(ascii: ":"))
            }
            name.append(contentsOf: cBytes(attribute.pointee.name))
            attributes.append(Attribute(name: name, value: attributeValue(attribute)))
            property = attribute.pointee.next
        }
        return attributes
    }

    private static func attributeValue(_ attribute: UnsafeMutablePointer<xmlAttr>) -> [UInt8] {
        // Almost every value is a single text node; read it in place instead of asking libxml2
        // for a heap copy.
        if let text = attribute.pointee.children, text.pointee.next == nil, text.pointee.type == XML_TEXT_NODE {
            return Array(cBytes(text.pointee.content))
        }
        // Character and entity references split a value into several nodes; libxml2 joins them
        // (expanding entities) the way expat reported the value.
        let node = UnsafeRawPointer(attribute).assumingMemoryBound(to: xmlNode.self)
        guard let value = xmlNodeGetContent(node) else { return [] }
        defer { clibxml2_free(value) }
        return Array(cBytes(value))
    }

    /// The bytes of a NUL-terminated libxml2 string, empty for nil.
    static func cBytes(_ string: UnsafePointer<xmlChar>?) -> UnsafeBufferPointer<UInt8> {
        guard let string else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: string, count: Int(xmlStrlen(string)))
    }

    // MARK: - Output

    /// Collects serialized bytes in a ``chunkSize`` buffer and, when hashing, hands each full chunk
    /// to SHA-1, so a large document is never held in memory twice; otherwise it collects them all.
    struct Output {
        /// The chunk being filled; a class only so that the memory is freed with the last copy.
        private final class Chunk {
            let base = UnsafeMutablePointer<UInt8>.allocate(capacity: MinidomSerializer.chunkSize)
            deinit { base.deallocate() }
        }

        private let chunk = Chunk()
        private var count = 0
        private var hasher: SHA1?
        /// Everything written, when not hashing.
        private var collected: [UInt8] = []
        /// OR of every byte written; bit 7 set means a non-ASCII byte was written.
        private var seenBits: UInt8 = 0

        init(hashing: Bool) {
            hasher = hashing ? SHA1() : nil
        }

        mutating func finishDigest() -> (sha1: [UInt8], isASCII: Bool) {
            guard hasher != nil else { preconditionFailure("Output was created without a hasher") }
            flush()
            return (hasher!.finalize(), seenBits & 0x80 == 0)
        }

        /// Everything written (an output created without hashing).
        mutating func finishBytes() -> [UInt8] {
            flush()
            return collected
        }

        /// Feeds the collected bytes on once a chunk is full.
        @inline(__always)
        mutating func flushIfFull() {
            if count >= MinidomSerializer.chunkSize { flush() }
        }

        private mutating func flush() {
            guard count > 0 else { return }
            let bytes = UnsafeRawBufferPointer(start: chunk.base, count: count)
            if hasher != nil {
                hasher!.update(bytes)
            } else {
                collected.append(contentsOf: bytes)
            }
            count = 0
        }

        /// Appends bytes known to be ASCII (markup) or already accounted for in ``seenBits``.
        @inline(__always)
        private mutating func append(_ source: UnsafePointer<UInt8>, _ length: Int) {
            if length <= MinidomSerializer.chunkSize - count {
                (chunk.base + count).update(from: source, count: length)
                count += length
                return
            }
            var source = source
            var length = length
            while length > 0 {
                if count == MinidomSerializer.chunkSize { flush() }
                let step = min(length, MinidomSerializer.chunkSize - count)
                (chunk.base + count).update(from: source, count: step)
                count += step
                source += step
                length -= step
            }
        }

        /// Writes ASCII markup.
        mutating func write(_ markup: StaticString) {
            append(markup.utf8Start, markup.utf8CodeUnitCount)
        }

        mutating func write(_ string: UnsafePointer<xmlChar>?) {
            write(MinidomSerializer.cBytes(string))
        }

        mutating func write(_ raw: UnsafeBufferPointer<UInt8>) {
            guard let base = raw.baseAddress, !raw.isEmpty else { return }
            // OR the bytes eight at a time for the ASCII test.
            var bits: UInt64 = 0
            var index = 0
            while index + 8 <= raw.count {
                bits |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                index += 8
            }
            while index < raw.count {
                bits |= UInt64(base[index])
                index += 1
            }
            if bits & 0x8080_8080_8080_8080 != 0 { seenBits |= 0x80 }
            append(base, raw.count)
            flushIfFull()
        }

        mutating func write(_ raw: [UInt8]) {
            raw.withUnsafeBufferPointer { write($0) }
        }

        mutating func writeEscaped(_ string: UnsafePointer<xmlChar>?) {
            writeEscaped(MinidomSerializer.cBytes(string))
        }

        mutating func writeEscaped(_ value: [UInt8]) {
            value.withUnsafeBufferPointer { writeEscaped($0) }
        }

        /// Writes character data with minidom's `_write_data` escapes: `&`, `<`, `"`, `>`.
        mutating func writeEscaped(_ text: UnsafeBufferPointer<UInt8>) {
            guard let base = text.baseAddress, !text.isEmpty else { return }
            // The four special characters are below 64: one bit each in a mask.
            let special: UInt64 = 1 << 0x22 | 1 << 0x26 | 1 << 0x3C | 1 << 0x3E
            // Copy unescaped runs in bulk; text is mostly free of the four special characters.
            var bits: UInt8 = 0
            var runStart = 0
            for index in 0..<text.count {
                let byte = base[index]
                bits |= byte
                guard byte < 64, (special >> UInt64(byte)) & 1 != 0 else { continue }
                append(base + runStart, index - runStart)
                switch byte {
                case UInt8(ascii: "&"): write("&amp;")
                case UInt8(ascii: "<"): write("&lt;")
                case UInt8(ascii: "\""): write("&quot;")
                default: write("&gt;")
                }
                runStart = index + 1
            }
            append(base + runStart, text.count - runStart)
            seenBits |= bits
            flushIfFull()
        }
    }
}
