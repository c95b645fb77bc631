import CLibXML2
import PolicyDiagnostics

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads policy XML with libxml2, hardened for hostile input, and validates it against our XSD.
///
/// No network, no DTD (a DOCTYPE is refused before its internal subset is read, so neither
/// external entities nor entity expansion can happen), bounded size; libxml2's own limits bound
/// nesting depth (256) and attribute values, and we apply its text limit to every element's text.
public struct XMLReader: Sendable {
    /// The largest input accepted, in bytes. A policy of 10,000 labels is a few MB.
    public var maximumInputSize: Int
    /// Whether to compute the minidom SHA-1 (needed only for Xen 3.3-4.1 blobs).
    public var computesMinidomDigest: Bool

    public init(maximumInputSize: Int = 256 << 20, computesMinidomDigest: Bool = false) {
        // libxml2 takes the buffer length as a C int.
        self.maximumInputSize = min(maximumInputSize, Int(Int32.max))
        self.computesMinidomDigest = computesMinidomDigest
    }

    /// The outcome of reading one file.
    public struct Result: Sendable {
        public var document: XMLDocument?
        public var diagnostics: [Diagnostic]
        /// The bytes that were parsed, for source excerpts under diagnostics.
        public var contents: [UInt8]?
        /// Whether the file could not be read at all (an I/O error rather than bad input).
        public var isIOFailure: Bool
    }

    /// Reads, parses and (if `schema` is given) validates `path`.
    public func read(file path: String, schema: ACMSchema?) -> Result {
        // InputFile.read checks the file type only after open(2), and opening a FIFO that has no
        // writer blocks forever. Refuse such paths by stat(2) before they are opened; a FIFO swapped
        // in between stat and open can still block, which only O_NONBLOCK in InputFile would close.
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
            return Result(
                document: nil, diagnostics: [InputFile.diagnostic(for: .notARegularFile, path: path)], contents: nil,
                isIOFailure: true)
        }
        let bytes: [UInt8]
        do {
            bytes = try InputFile.read(path, limit: maximumInputSize)
        } catch {
            let isIO = if case .tooLarge = error { false } else { true }
            return Result(document: nil, diagnostics: [InputFile.diagnostic(for: error, path: path)], contents: nil, isIOFailure: isIO)
        }
        return read(bytes: bytes, path: path, schema: schema)
    }

    /// Parses and validates `bytes` as if read from `path`.
    public func read(bytes: [UInt8], path: String, schema: ACMSchema?) -> Result {
        var result = Result(document: nil, diagnostics: [], contents: bytes, isIOFailure: false)
        guard bytes.count <= maximumInputSize else {
            result.diagnostics = [
                InputFile.diagnostic(for: .tooLarge(size: bytes.count, limit: maximumInputSize), path: path)
            ]
            return result
        }
        guard bytes.contains(where: { !isXMLSpace($0) }) else {
            result.diagnostics = [.error("E0003", "'\(path)' is empty", at: SourceLocation(file: path))]
            return result
        }
        // libxml2 guesses UTF-16 (or UCS-4) from a `<?` without a byte order mark and would accept
        // the document, though XML 1.0 (4.3.3) requires the mark for UTF-16. A document in an
        // ASCII-compatible encoding starts with `<`, whitespace or a UTF-8 mark, never with NUL.
        if let nul = bytes.prefix(4).firstIndex(of: 0), !bytes.starts(with: [0xFE, 0xFF]), !bytes.starts(with: [0xFF, 0xFE]) {
            result.diagnostics = [
                .error(
                    "E0004", "'\(path)' is not UTF-8: byte \(nul + 1) is NUL", at: SourceLocation(file: path, line: 1, column: nul + 1),
                    hint: "this is UTF-16 or UCS-4 without a byte order mark, or not text at all; save the policy as UTF-8")
            ]
            return result
        }
        _ = libxml2Initialized
        let sink = ErrorSink(locator: SourceLocator(file: path, bytes: bytes))
        guard let context = xmlNewParserCtxt() else {
            result.diagnostics = [.error("E0004", "libxml2 could not allocate a parser", at: SourceLocation(file: path))]
            return result
        }
        defer { xmlFreeParserCtxt(context) }
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        context.pointee._private = sinkPointer
        context.pointee.sax.pointee.serror = onParserError
        clibxml2_harden(context)
        MinidomSerializer.preserveCDATASections(in: context)
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOWARNING.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), path, nil, options)
            }
        }
        // Our DOCTYPE hook stops the parser with xmlStopParser, which in libxml2 2.9 raises no error: it
        // only sets errNo and leaves a document without a root ("no root element", with no location).
        if context.pointee.errNo == Int32(XML_ERR_USER_STOP.rawValue) {
            if let parsed { xmlFreeDoc(parsed) }
            let line = context.pointee.input.map { Int($0.pointee.line) } ?? 0
            let location = sink.locator.doctype() ?? SourceLocation(file: path, line: line)
            result.diagnostics =
                sink.diagnostics + [
                    .error(
                        "E0005", "document type declarations are not allowed in policy files", at: location,
                        hint:
                            "remove the <!DOCTYPE ...>; DTDs and entities are refused to rule out entity expansion and external entity attacks"
                    )
                ]
            return result
        }
        guard let doc = parsed, context.pointee.wellFormed != 0, sink.diagnostics.isEmpty else {
            if let parsed { xmlFreeDoc(parsed) }
            if sink.diagnostics.isEmpty {
                sink.diagnostics.append(.error("E0004", "'\(path)' is not well-formed XML", at: SourceLocation(file: path)))
            }
            result.diagnostics = sink.diagnostics
            return result
        }
        defer { xmlFreeDoc(doc) }
        guard let rootNode = xmlDocGetRootElement(doc) else {
            result.diagnostics = [.error("E0004", "'\(path)' has no root element", at: SourceLocation(file: path))]
            return result
        }
        let root = sink.convert(rootNode)
        if !sink.diagnostics.isEmpty {
            result.diagnostics = sink.diagnostics
            return result
        }
        if let schema {
            guard let compiled = schema.compiled, let validator = xmlSchemaNewValidCtxt(compiled.pointer) else {
                result.diagnostics = [
                    .error("E0010", "internal error: the \(schema.rawValue) schema did not compile", at: SourceLocation(file: path))
                ]
                return result
            }
            defer { xmlSchemaFreeValidCtxt(validator) }
            xmlSchemaSetValidStructuredErrors(validator, onValidityError, sinkPointer)
            let status = xmlSchemaValidateDoc(validator, doc)
            if status != 0 && sink.diagnostics.isEmpty {
                sink.diagnostics.append(.error("E0010", "'\(path)' does not match the \(schema.rawValue) schema", at: root.location))
            }
            if !sink.diagnostics.isEmpty {
                result.diagnostics = sink.diagnostics
                return result
            }
        }
        var document = XMLDocument(file: path, root: root)
        if computesMinidomDigest {
            let digest = MinidomSerializer.digest(of: doc)
            document.minidomDigest = digest.sha1
            document.minidomIsASCII = digest.isASCII
        }
        result.document = document
        return result
    }

    private func isXMLSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// Receives libxml2's errors through the context's user data and builds our tree, so that
/// schema errors can be placed at the exact element we already located.
private final class ErrorSink {
    var locator: SourceLocator
    var diagnostics: [Diagnostic] = []
    var elementLocations: [UnsafeMutableRawPointer: SourceLocation] = [:]

    init(locator: SourceLocator) { self.locator = locator }

    /// libxml2's limit on one text node. libxml2 2.9 enforces it only when it appends to a text node,
    /// so text that arrives in one piece (a run of ASCII, a CDATA section) passes at any size; we
    /// apply it to each element's whole text so that no 20 MB "name" reaches the checker.
    static let maximumTextLength = Int(XML_MAX_TEXT_LENGTH)

    func convert(_ node: xmlNodePtr) -> XMLElement {
        let localName = string(node.pointee.name)
        let prefix = node.pointee.ns.flatMap { $0.pointee.prefix.map { String(cString: $0) } }
        let qualifiedName = prefix.map { "\($0):\(localName)" } ?? localName
        let (location, offset) = locator.element(named: qualifiedName, line: clibxml2_node_line(node))
        elementLocations[UnsafeMutableRawPointer(node)] = location
        // The comments since the previous element sibling (for the root, the document's comments before
        // it) carry lint suppressions. Each sibling is visited by one element only, so this stays linear.
        var leadingComments: [String] = []
        var previous = node.pointee.prev
        while let sibling = previous, sibling.pointee.type != XML_ELEMENT_NODE {
            if sibling.pointee.type == XML_COMMENT_NODE, let content = sibling.pointee.content {
                leadingComments.append(String(cString: content))
            }
            previous = sibling.pointee.prev
        }
        leadingComments.reverse()
        var attributes: [XMLAttribute] = []
        var attribute = node.pointee.properties
        while let current = attribute {
            let name = string(current.pointee.name)
            let namespace = current.pointee.ns.flatMap { $0.pointee.href.map { String(cString: $0) } }
            var value = ""
            if let raw = xmlNodeListGetString(node.pointee.doc, current.pointee.children, 1) {
                value = String(cString: raw)
                clibxml2_free(raw)
            }
            // The locator searches the source, where a namespaced attribute is written with its prefix.
            let attributePrefix = current.pointee.ns.flatMap { $0.pointee.prefix.map { String(cString: $0) } }
            let writtenName = attributePrefix.map { "\($0):\(name)" } ?? name
            let attributeLocation = locator.attribute(named: writtenName, tagOffset: offset, fallback: location)
            attributes.append(XMLAttribute(namespaceURI: namespace, localName: name, value: value, location: attributeLocation))
            attribute = current.pointee.next
        }
        var children: [XMLElement] = []
        var text = ""
        var textLength = 0
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_ELEMENT_NODE:
                children.append(convert(current))
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content {
                    textLength += Int(xmlStrlen(content))
                    if textLength <= Self.maximumTextLength { text += String(cString: content) }
                }
            default:
                break
            }
            child = current.pointee.next
        }
        if textLength > Self.maximumTextLength {
            diagnostics.append(Self.textTooLong(qualifiedName, at: location))
        }
        let namespace = node.pointee.ns.flatMap { $0.pointee.href.map { String(cString: $0) } }
        return XMLElement(
            namespaceURI: namespace, localName: localName, qualifiedName: qualifiedName, attributes: attributes,
            children: children, text: text, location: location, leadingComments: leadingComments)
    }

    /// The refusal of text over ``maximumTextLength``, whether our check or libxml2's found it.
    static func textTooLong(_ element: String, at location: SourceLocation) -> Diagnostic {
        .error(
            "E0004", "the text of '\(element)' is longer than the limit of \(maximumTextLength) bytes", at: location,
            hint: "names in a policy are short; text this long is refused so that it cannot exhaust memory")
    }

    private func string(_ pointer: UnsafePointer<xmlChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}

/// libxml2's messages end in a newline and name elements as `{namespace}local`; ours are one line.
private func cleanMessage(_ raw: UnsafeMutablePointer<CChar>?) -> String {
    var message = raw.map { String(cString: $0) } ?? "unknown error"
    while message.last == "\n" || message.last == " " || message.last == "." { message.removeLast() }
    message = message.replacingAll("{http://www.ibm.com}", with: "")
    // Some messages continue on a second line (the bytes of an encoding error); the renderers put
    // the source excerpt under the message, so it must be one line.
    message = message.replacingAll("\n", with: " ")
    // Limit messages advise an option that the reader deliberately never sets.
    message = message.replacingAll(" use XML_PARSE_HUGE option", with: "").replacingAll(", use XML_PARSE_HUGE", with: "")
    return message
}

private let onParserError: xmlStructuredErrorFunc = { userData, error in
    guard let context = userData?.assumingMemoryBound(to: xmlParserCtxt.self),
        let sinkPointer = context.pointee._private, let error
    else { return }
    let sink = Unmanaged<ErrorSink>.fromOpaque(sinkPointer).takeUnretainedValue()
    let e = error.pointee
    let location = SourceLocation(file: sink.locator.file, line: Int(e.line), column: Int(e.int2))
    guard e.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    // Only our DOCTYPE hook stops the parser; read(bytes:) reports that (E0005) from errNo, since
    // libxml2 2.9 raises no error for it.
    guard e.code != Int32(XML_ERR_USER_STOP.rawValue) else { return }
    if e.code == Int32(XML_ERR_NO_MEMORY.rawValue), cleanMessage(e.message).hasSuffix("huge text node") {
        // libxml2's own text limit, reported as if memory had run out; say what it is.
        let element = context.pointee.node.flatMap { $0.pointee.name.map { String(cString: $0) } } ?? "an element"
        sink.diagnostics.append(ErrorSink.textTooLong(element, at: location))
        return
    }
    sink.diagnostics.append(.error("E0004", cleanMessage(e.message), at: location))
}

private let onValidityError: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error else { return }
    let sink = Unmanaged<ErrorSink>.fromOpaque(userData).takeUnretainedValue()
    let e = error.pointee
    var location = SourceLocation(file: sink.locator.file, line: Int(e.line))
    if let node = e.node {
        if let known = sink.elementLocations[node] {
            location = known
        } else {
            location.line = clibxml2_node_line(node.assumingMemoryBound(to: xmlNode.self))
        }
    }
    sink.diagnostics.append(.error("E0010", cleanMessage(e.message), at: location))
}

extension String {
    /// Foundation-free replacement of every occurrence of `target`.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
