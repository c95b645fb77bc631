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
///
/// The file is read in one streaming pass: libxml2's SAX2 parser reports each start tag, text,
/// comment and end tag to ``TreeBuilder``, which builds the ``XMLElement`` tree directly (no
/// libxml2 tree is ever built), hashes the minidom serialization from the same events when asked,
/// and hands the events on to libxml2's streaming XSD validator.
public struct XMLReader: Sendable {
    /// The largest input accepted, in bytes. A policy of 10,000 labels is a few MB.
    public var maximumInputSize: Int
    /// Whether to compute the minidom SHA-1 (needed only for Xen 3.3-4.1 blobs).
    public var computesMinidomDigest: Bool

    /// Documents at least this large are validated on a second thread (see ``read(bytes:path:schema:)``).
    var parallelValidationMinimumSize = 256 << 10

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
        // A large document is validated on a second thread, by a second pass of libxml2 over the
        // same bytes, while this one builds the tree and the digest: XSD validation takes as long
        // as parsing itself. The passes run the same code and find the same well-formedness errors.
        let validatesInParallel = schema != nil && bytes.count >= parallelValidationMinimumSize
        let validation = validatesInParallel ? ParallelPass { Self.pass(bytes, path: path, schema: schema, buildsTree: false) } : nil
        let main = Self.pass(
            bytes, path: path, schema: validatesInParallel ? nil : schema, buildsTree: true, hashing: computesMinidomDigest)
        let validationPass = validation.map { $0.wait() } ?? main
        guard let main else {
            result.diagnostics = [.error("E0004", "libxml2 could not allocate a parser", at: SourceLocation(file: path))]
            return result
        }

        // The builder stops the parser at the first text over the limit: reading on would only feed
        // megabytes to the validator.
        if main.stoppedForText {
            result.diagnostics = main.parseDiagnostics + main.contentDiagnostics
            return result
        }
        // Our DOCTYPE hook stops the parser with xmlStopParser, which in libxml2 2.9 raises no error: it
        // only sets errNo and leaves a document without a root ("no root element", with no location).
        if let doctype = main.doctype {
            result.diagnostics =
                main.parseDiagnostics + [
                    .error(
                        "E0005", "document type declarations are not allowed in policy files", at: doctype,
                        hint:
                            "remove the <!DOCTYPE ...>; DTDs and entities are refused to rule out entity expansion and external entity attacks"
                    )
                ]
            return result
        }
        // Validity findings count only for a well-formed document, as when the reader validated a
        // finished tree.
        guard main.wellFormed, main.parseDiagnostics.isEmpty else {
            result.diagnostics = main.parseDiagnostics
            if result.diagnostics.isEmpty {
                result.diagnostics.append(.error("E0004", "'\(path)' is not well-formed XML", at: SourceLocation(file: path)))
            }
            return result
        }
        guard let root = main.root else {
            result.diagnostics = [.error("E0004", "'\(path)' has no root element", at: SourceLocation(file: path))]
            return result
        }
        if let schema {
            guard let validationPass, validationPass.validated else {
                result.diagnostics = [
                    .error("E0010", "internal error: the \(schema.rawValue) schema did not compile", at: SourceLocation(file: path))
                ]
                return result
            }
            var diagnostics = validationPass.validationDiagnostics
            if !validationPass.isValid && diagnostics.isEmpty {
                diagnostics.append(.error("E0010", "'\(path)' does not match the \(schema.rawValue) schema", at: root.location))
            }
            if !diagnostics.isEmpty {
                result.diagnostics = diagnostics
                return result
            }
        }
        var document = XMLDocument(file: path, root: root)
        if let digest = main.digest {
            document.minidomDigest = digest.sha1
            document.minidomIsASCII = digest.isASCII
        }
        result.document = document
        return result
    }

    /// What one pass of libxml2 over a document found.
    fileprivate struct Pass: Sendable {
        var parseDiagnostics: [Diagnostic]
        /// Text over the limit (the pass stopped there).
        var contentDiagnostics: [Diagnostic]
        var stoppedForText: Bool
        /// Where the DOCTYPE that stopped the pass is.
        var doctype: SourceLocation?
        var wellFormed: Bool
        var root: XMLElement?
        var digest: (sha1: [UInt8], isASCII: Bool)?
        /// Whether the document went through the schema's validator.
        var validated: Bool
        var validationDiagnostics: [Diagnostic]
        var isValid: Bool
    }

    /// Parses `bytes`, validating them against `schema` if given, building the tree if `buildsTree`
    /// and hashing the minidom serialization if `hashing`. Nil if libxml2 could not allocate a parser.
    fileprivate static func pass(
        _ bytes: [UInt8], path: String, schema: ACMSchema?, buildsTree: Bool, hashing: Bool = false
    ) -> Pass? {
        guard let context = xmlNewParserCtxt() else { return nil }
        defer { xmlFreeParserCtxt(context) }
        // The callbacks reach the builder through the context's `_private` slot. It lives behind an
        // unsafe pointer rather than in a class, which spares every event the runtime exclusivity
        // checks of class properties (a sixth of the reading time).
        let builder = UnsafeMutablePointer<TreeBuilder>.allocate(capacity: 1)
        builder.initialize(
            to: TreeBuilder(locator: SourceLocator(file: path, bytes: bytes), buildsTree: buildsTree, hashing: hashing))
        defer {
            builder.pointee.deallocateBuffers()
            builder.deinitialize(count: 1)
            builder.deallocate()
        }
        let builderPointer = UnsafeMutableRawPointer(builder)
        context.pointee._private = builderPointer
        // Our callbacks replace libxml2's tree builder; the user data stays the context itself.
        clibxml2_reset_sax(context)
        TreeBuilder.install(on: context.pointee.sax)

        // The builder hands each event to the validator after handling it itself, so that a validity
        // error can be placed at the element the builder has just located.
        var validator: xmlSchemaValidCtxtPtr? = nil
        var plug: xmlSchemaSAXPlugPtr? = nil
        let validatorHandler = UnsafeMutablePointer<UnsafeMutablePointer<xmlSAXHandler>?>.allocate(capacity: 1)
        let validatorData = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        validatorHandler.initialize(to: nil)
        validatorData.initialize(to: nil)
        if let schema, let compiled = schema.compiled, let created = xmlSchemaNewValidCtxt(compiled.pointer) {
            validator = created
            xmlSchemaSetValidStructuredErrors(created, onValidityError, builderPointer)
            plug = clibxml2_schema_handler(created, validatorHandler, validatorData)
            if plug != nil, let handler = validatorHandler.pointee {
                builder.pointee.validator = (handler, validatorData.pointee)
            }
        }
        defer {
            if let plug { xmlSchemaSAXUnplug(plug) }
            if let validator { xmlSchemaFreeValidCtxt(validator) }
            validatorHandler.deallocate()
            validatorData.deallocate()
        }

        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOWARNING.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            builder.pointee.input = buffer
            defer { builder.pointee.input = UnsafeBufferPointer(start: nil, count: 0) }
            return buffer.withMemoryRebound(to: CChar.self) { chars in
                xmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), path, nil, options)
            }
        }
        // No startDocument callback: libxml2 builds no document.
        if let parsed { xmlFreeDoc(parsed) }

        var doctype: SourceLocation? = nil
        if !builder.pointee.stoppedForText, context.pointee.errNo == Int32(XML_ERR_USER_STOP.rawValue) {
            doctype =
                builder.pointee.locator.doctype()
                ?? SourceLocation(file: path, line: Int(clibxml2_parser_line(context)))
        }
        return Pass(
            parseDiagnostics: builder.pointee.parseDiagnostics, contentDiagnostics: builder.pointee.contentDiagnostics,
            stoppedForText: builder.pointee.stoppedForText, doctype: doctype, wellFormed: context.pointee.wellFormed != 0,
            root: builder.pointee.root, digest: builder.pointee.finishDigest(), validated: builder.pointee.validator != nil,
            validationDiagnostics: builder.pointee.validationDiagnostics,
            isValid: validator.map { xmlSchemaIsValid($0) == 1 } ?? true)
    }

    /// Gives the heap memory of dropped documents back to the system.
    ///
    /// glibc keeps freed heap mapped, so the tens of MB that the tree of a large policy occupied
    /// would still count towards the process's memory while, say, the blob is built. Call once the
    /// documents are no longer referenced; it costs about a millisecond.
    public static func releaseFreedMemory() {
        clibxml2_release_free_heap()
    }

    private func isXMLSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// Receives libxml2's SAX2 events and errors for one read: builds the ``XMLElement`` tree, locates
/// every element in the source, hashes the minidom serialization, and places validity errors at the
/// element the validator is looking at.
///
/// Every event of a 10,000-label policy passes through here (90,000 elements), so the state of the
/// open elements is kept in plain values and reusable per-depth buffers: an element costs its
/// `XMLElement`, its children array and its text.
struct TreeBuilder {
    var locator: SourceLocator
    /// The source bytes, while libxml2 parses them.
    var input = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    /// Well-formedness errors (libxml2's parser).
    var parseDiagnostics: [Diagnostic] = []
    /// Our limit on the content: text too long (the parser is stopped there).
    var contentDiagnostics: [Diagnostic] = []
    /// Whether the builder stopped the parser because an element's text passed the limit.
    private(set) var stoppedForText = false
    /// The XSD validator's SAX handler block and the user data its callbacks take, if validating.
    var validator: (handler: UnsafeMutablePointer<xmlSAXHandler>, data: UnsafeMutableRawPointer?)?
    /// Text not yet handed to the validator. libxml2's tree builder joined adjacent text (split by
    /// character and entity references) into one node, and validated a finished tree node by node;
    /// the validator gets each such run of text in one piece, as it did then.
    private var pendingValidatorText = RawStack<UInt8>(capacity: 256)
    /// XSD validity errors.
    var validationDiagnostics: [Diagnostic] = []
    private(set) var root: XMLElement?

    /// An element whose end tag has not been seen yet: libxml2's interned names and where it is.
    private struct OpenElement {
        var localName: UnsafePointer<xmlChar>
        var prefix: UnsafePointer<xmlChar>?
        var namespaceURI: UnsafePointer<xmlChar>?
        var line: Int
        /// 0 when the locator did not find the start tag (``line`` is then libxml2's).
        var column: Int
        /// Where its attributes start in ``attributes``; -1 without attributes.
        var attributesStart: Int
        /// Whether its leading comments are the last list of ``leadingComments``.
        var hasLeadingComments: Bool
        /// Where the comments inside it start in ``comments``.
        var commentsStart: Int
        /// Where its text starts in ``text``.
        var textStart: Int
        /// The length of its text so far.
        var textLength = 0
    }

    private var open = RawStack<OpenElement>(capacity: 64)
    /// The finished children of the open element at each depth; moved into its `XMLElement` at its end.
    /// Depths once reached keep their (then empty) slot.
    private var childLists = RawStack<[XMLElement]>(capacity: 64)
    /// The text bytes of the open elements, innermost last.
    private var text = RawStack<UInt8>(capacity: 4096)
    /// Attributes of the open elements, innermost last.
    private var attributes: [XMLAttribute] = []
    /// Leading comments of the open elements that have some, innermost last.
    private var leadingComments: [[String]] = []
    /// Comments since the last element start at each level (document level first).
    private var comments: [String] = []

    /// What the parser reported last; libxml2's validator reports on the same event right after us.
    private enum Event {
        case none
        /// A start tag: the element is the innermost open one.
        case start
        /// An end tag: the element was at ``endedLine``:``endedColumn``.
        case end
        /// Text or CDATA in the innermost open element.
        case text
    }
    private var event = Event.none
    private var endedLine = 0
    private var endedColumn = 0

    /// Strings for libxml2's interned names (its dictionary gives each distinct name one address),
    /// so that equal names share one Swift string; a small direct-mapped cache in front of the
    /// dictionary answers the few names a policy repeats without hashing.
    private var names: [UnsafeRawPointer: String] = [:]
    private var recentNames = [(UnsafeRawPointer?, String)](repeating: (nil, ""), count: 64)
    private var qualifiedNames: [QualifiedNameKey: String] = [:]
    private struct QualifiedNameKey: Hashable {
        var prefix: UnsafeRawPointer
        var localName: UnsafeRawPointer
    }
    /// Whitespace-only texts (the indentation between child elements), shared: a policy repeats a
    /// handful of them tens of thousands of times. Keyed by a hash of the bytes, checked on use.
    private var whitespaceTexts: [UInt64: String] = [:]

    /// Whether the ``XMLElement`` tree is built; a pass that only validates locates the elements
    /// (for its diagnostics) and nothing more.
    private let buildsTree: Bool
    /// Whether the minidom serialization is hashed.
    private let hashing: Bool
    private var minidom: MinidomSerializer.Output
    /// Whether the innermost element's start tag is written up to its attributes: it ends in `>`
    /// once a child node follows, or in `/>` at the end tag.
    private var startTagOpen = false

    /// libxml2's limit on one text node. libxml2 2.9 enforces it only when its tree builder appends
    /// to a text node, so text that arrives in one piece (a run of ASCII) passes at any size; we
    /// apply it to each element's whole text so that no 20 MB "name" reaches the checker.
    static let maximumTextLength = Int(XML_MAX_TEXT_LENGTH)

    init(locator: SourceLocator, buildsTree: Bool = true, hashing: Bool) {
        self.locator = locator
        self.buildsTree = buildsTree
        self.hashing = hashing
        minidom = MinidomSerializer.Output(hashing: hashing)
        if hashing { minidom.write("<?xml version=\"1.0\" ?>") }
    }

    /// Frees the manually managed buffers; call once, when the parser is done.
    mutating func deallocateBuffers() {
        open.deallocate()
        childLists.deallocate()
        text.deallocate()
        pendingValidatorText.deallocate()
    }

    /// The SHA-1 of the minidom serialization and whether it was ASCII, if hashing was requested.
    mutating func finishDigest() -> (sha1: [UInt8], isASCII: Bool)? {
        hashing ? minidom.finishDigest() : nil
    }

    /// Sets the callbacks on a SAX2 handler block that ``clibxml2_reset_sax`` cleared.
    static func install(on handler: UnsafeMutablePointer<xmlSAXHandler>) {
        handler.pointee.startElementNs = onStartElement
        handler.pointee.endElementNs = onEndElement
        handler.pointee.characters = onCharacters
        // The same function for both, so that libxml2 does not try to tell ignorable whitespace apart.
        handler.pointee.ignorableWhitespace = onCharacters
        handler.pointee.cdataBlock = onCDATA
        handler.pointee.comment = onComment
        handler.pointee.processingInstruction = onProcessingInstruction
        handler.pointee.serror = onParserError
    }

    /// The builder of the parser context `context`.
    @inline(__always)
    static func of(_ context: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<TreeBuilder> {
        let parser = context.unsafelyUnwrapped.assumingMemoryBound(to: xmlParserCtxt.self)
        return parser.pointee._private.unsafelyUnwrapped.assumingMemoryBound(to: TreeBuilder.self)
    }

    // MARK: - Events

    mutating func startElement(
        parser: UnsafeMutablePointer<xmlParserCtxt>, localName: UnsafePointer<xmlChar>, prefix: UnsafePointer<xmlChar>?,
        uri: UnsafePointer<xmlChar>?, namespaceCount: Int, namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?,
        attributeCount: Int, attributes rawAttributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        flushValidatorText()
        let parserLine = Int(clibxml2_parser_line(parser))
        let localBytes = MinidomSerializer.cBytes(localName)
        let prefixBytes = MinidomSerializer.cBytes(prefix)
        var line = max(parserLine, 0)
        var column = 0
        var offset: Int? = nil
        if let found = locator.nextElement(in: input, prefix: prefixBytes, localName: localBytes, line: parserLine) {
            (line, column, offset) = (found.line, found.column, found.offset)
        }

        var attributesStart = -1
        if buildsTree, attributeCount > 0, let rawAttributes {
            attributesStart = attributes.count
            let location = SourceLocation(file: locator.file, line: line, column: column)
            for index in 0..<attributeCount {
                let base = rawAttributes + 5 * index
                guard let attributeLocal = base[0] else { continue }
                let attributeName = name(attributeLocal)
                let attributePrefix = base[1].flatMap { $0.pointee != 0 ? name($0) : nil }
                let value = Self.attributeValue(from: base[3], to: base[4])
                // The locator searches the source, where a namespaced attribute is written with its prefix.
                let writtenName = attributePrefix.map { "\($0):\(attributeName)" } ?? attributeName
                let attributeLocation = locator.attribute(named: writtenName, tagOffset: offset, fallback: location)
                attributes.append(
                    XMLAttribute(
                        namespaceURI: base[2].map { name($0) }, localName: attributeName,
                        value: String(decoding: value, as: UTF8.self), location: attributeLocation))
            }
        }

        // The comments since the previous element sibling (for the root, the document's comments
        // before it) carry lint suppressions.
        let commentsStart = open.isEmpty ? 0 : open[open.count - 1].commentsStart
        let hasLeadingComments = buildsTree && comments.count > commentsStart
        if hasLeadingComments {
            leadingComments.append(Array(comments[commentsStart...]))
            comments.removeLast(comments.count - commentsStart)
        }

        if hashing {
            writeStartTag(
                prefix: prefixBytes, localName: localBytes, namespaceCount: namespaceCount, namespaces: namespaces,
                attributeCount: attributeCount, attributes: rawAttributes)
        }

        open.push(
            OpenElement(
                localName: localName, prefix: prefix.flatMap { $0.pointee != 0 ? $0 : nil }, namespaceURI: uri,
                line: line, column: column, attributesStart: attributesStart, hasLeadingComments: hasLeadingComments,
                commentsStart: comments.count, textStart: text.count))
        if childLists.count < open.count { childLists.push([]) }
        event = .start
        if let validator {
            validator.handler.pointee.startElementNs?(
                validator.data, localName, prefix, uri, Int32(namespaceCount), namespaces, Int32(attributeCount), 0,
                rawAttributes)
        }
    }

    mutating func endElement(localName: UnsafePointer<xmlChar>?, prefix: UnsafePointer<xmlChar>?, uri: UnsafePointer<xmlChar>?) {
        guard !open.isEmpty else { return }
        flushValidatorText()
        let element = open.pop()
        let depth = open.count
        event = .end
        endedLine = element.line
        endedColumn = element.column
        guard buildsTree else {
            if let validator { validator.handler.pointee.endElementNs?(validator.data, localName, prefix, uri) }
            return
        }
        var elementChildren: [XMLElement] = []
        swap(&elementChildren, &childLists[depth])
        let elementText = elementText(from: element.textStart)
        var elementAttributes: [XMLAttribute] = []
        if element.attributesStart >= 0 {
            elementAttributes = Array(attributes[element.attributesStart...])
            attributes.removeLast(attributes.count - element.attributesStart)
        }
        let elementLeadingComments = element.hasLeadingComments ? leadingComments.removeLast() : []
        if comments.count > element.commentsStart { comments.removeLast(comments.count - element.commentsStart) }

        let localName = name(element.localName)
        let qualifiedName = element.prefix.map { prefixedName(prefix: $0, localName: element.localName) } ?? localName
        let location = SourceLocation(file: locator.file, line: element.line, column: element.column)
        let finished = XMLElement(
            namespaceURI: element.namespaceURI.map { name($0) }, localName: localName, qualifiedName: qualifiedName,
            attributes: elementAttributes, children: elementChildren, text: elementText, location: location,
            leadingComments: elementLeadingComments)
        if let validator { validator.handler.pointee.endElementNs?(validator.data, localName, prefix, uri) }
        if depth == 0 {
            root = finished
        } else {
            // Most containers have a few children: start with room for four.
            if childLists[depth - 1].capacity == 0 { childLists[depth - 1].reserveCapacity(4) }
            childLists[depth - 1].append(finished)
        }

        if hashing {
            if startTagOpen {
                minidom.write("/>")
                startTagOpen = false
            } else {
                minidom.write("</")
                if let prefix = element.prefix {
                    minidom.write(MinidomSerializer.cBytes(prefix))
                    minidom.write(":")
                }
                minidom.write(MinidomSerializer.cBytes(element.localName))
                minidom.write(">")
            }
            minidom.flushIfFull()
        }
    }

    /// The text of the element that ends, from `start` to the top of ``text``, which is popped.
    private mutating func elementText(from start: Int) -> String {
        guard text.count > start else { return "" }
        defer { text.truncate(to: start) }
        let bytes = text.bytes(from: start)
        // Up to 15 UTF-8 bytes a string is stored inline; longer whitespace-only text (the
        // indentation between child elements) is shared; other text is rarely repeated.
        guard bytes.count > 15, let hash = Self.whitespaceHash(bytes) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        if let known = whitespaceTexts[hash], Self.equal(known, bytes) { return known }
        let string = String(decoding: bytes, as: UTF8.self)
        if whitespaceTexts.count < 4096 { whitespaceTexts[hash] = string }
        return string
    }

    /// An FNV-1a hash of `bytes` if they are all XML whitespace, else nil. A collision only costs a
    /// fresh string.
    private static func whitespaceHash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            guard byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D else { return nil }
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        return hash
    }

    private static func equal(_ string: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var string = string
        return string.withUTF8 { $0.count == bytes.count && memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }
    }

    mutating func characters(parser: UnsafeMutablePointer<xmlParserCtxt>, _ bytes: UnsafeBufferPointer<UInt8>, isCDATA: Bool) {
        guard !open.isEmpty, !stoppedForText else { return }
        event = .text
        let depth = open.count - 1
        let length = open[depth].textLength + bytes.count
        open[depth].textLength = length
        guard length <= Self.maximumTextLength else {
            // libxml2's tree builder stopped at this limit too ("huge text node"); the rest of the
            // document is not read.
            let element = open[depth]
            let localName = name(element.localName)
            let qualifiedName = element.prefix.map { prefixedName(prefix: $0, localName: element.localName) } ?? localName
            contentDiagnostics.append(Self.textTooLong(qualifiedName, at: location(of: element)))
            stoppedForText = true
            // What libxml2 itself does on running out of memory. xmlStopParser would free the input
            // that the parser (and the validator, after us) still reads for this very event.
            parser.pointee.instate = XML_PARSER_EOF
            parser.pointee.disableSAX = 1
            return
        }
        if buildsTree { text.append(bytes) }
        if validator != nil {
            if isCDATA {
                // An empty CDATA section made no node in libxml2's tree, so the validator never saw it.
                if !bytes.isEmpty {
                    flushValidatorText()
                    validator!.handler.pointee.cdataBlock?(validator!.data, bytes.baseAddress, Int32(bytes.count))
                }
            } else {
                pendingValidatorText.append(bytes)
            }
        }

        // An empty CDATA section made no minidom node (expat reports no character data for it).
        guard hashing, !bytes.isEmpty else { return }
        closeStartTag()
        if isCDATA {
            minidom.write("<![CDATA[")
            minidom.write(bytes)
            minidom.write("]]>")
        } else {
            minidom.writeEscaped(bytes)
        }
        minidom.flushIfFull()
    }

    /// Hands the text since the last other node to the validator, as one piece.
    private mutating func flushValidatorText() {
        guard !pendingValidatorText.isEmpty, let validator else { return }
        event = .text
        let pending = pendingValidatorText.bytes(from: 0)
        validator.handler.pointee.characters?(validator.data, pending.baseAddress, Int32(pending.count))
        pendingValidatorText.truncate(to: 0)
    }

    mutating func comment(_ value: UnsafePointer<xmlChar>?) {
        // A comment ends a text node.
        flushValidatorText()
        // Comments after the root element belong to no element.
        if buildsTree, root == nil {
            comments.append(value.map { String(cString: $0) } ?? "")
        }
        guard hashing else { return }
        closeStartTag()
        minidom.write("<!--")
        minidom.write(value)
        minidom.write("-->")
        minidom.flushIfFull()
    }

    mutating func processingInstruction(target: UnsafePointer<xmlChar>?, data: UnsafePointer<xmlChar>?) {
        // So does a processing instruction.
        flushValidatorText()
        guard hashing else { return }
        closeStartTag()
        minidom.write("<?")
        minidom.write(target)
        minidom.write(" ")
        minidom.write(data)
        minidom.write("?>")
        minidom.flushIfFull()
    }

    // MARK: - Minidom serialization

    private mutating func closeStartTag() {
        if startTagOpen {
            minidom.write(">")
            startTagOpen = false
        }
    }

    /// `<qname` and the attributes, sorted by qualified name with the namespace declarations
    /// (`xmlns`, `xmlns:p`) among them, as minidom writes them.
    private mutating func writeStartTag(
        prefix: UnsafeBufferPointer<UInt8>, localName: UnsafeBufferPointer<UInt8>, namespaceCount: Int,
        namespaces: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, attributeCount: Int,
        attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    ) {
        closeStartTag()
        minidom.write("<")
        if !prefix.isEmpty {
            minidom.write(prefix)
            minidom.write(":")
        }
        minidom.write(localName)
        let total = namespaceCount + attributeCount
        if total > 0 {
            var written: [(name: [UInt8], value: [UInt8])] = []
            written.reserveCapacity(total)
            if let namespaces {
                for index in 0..<namespaceCount {
                    var name = Array("xmlns".utf8)
                    if let declared = namespaces[2 * index], declared.pointee != 0 {
                        name.append(UInt8(ascii: ":"))
                        name.append(contentsOf: MinidomSerializer.cBytes(declared))
                    }
                    written.append((name, Array(MinidomSerializer.cBytes(namespaces[2 * index + 1]))))
                }
            }
            if let attributes {
                for index in 0..<attributeCount {
                    let base = attributes + 5 * index
                    var name: [UInt8] = []
                    if let attributePrefix = base[1], attributePrefix.pointee != 0 {
                        name.append(contentsOf: MinidomSerializer.cBytes(attributePrefix))
                        name.append(UInt8(ascii: ":"))
                    }
                    name.append(contentsOf: MinidomSerializer.cBytes(base[0]))
                    written.append((name, Self.attributeValue(from: base[3], to: base[4])))
                }
            }
            if written.count > 1 {
                // minidom sorts `attrs.keys()`, i.e. qualified names; UTF-8 byte order is code-point order.
                written.sort { $0.name.lexicographicallyPrecedes($1.name) }
            }
            for attribute in written {
                minidom.write(" ")
                minidom.write(attribute.name)
                minidom.write("=\"")
                minidom.writeEscaped(attribute.value)
                minidom.write("\"")
            }
        }
        startTagOpen = true
        minidom.flushIfFull()
    }

    /// An attribute value as libxml2's SAX2 interface hands it over: without entity substitution
    /// (which we never ask for) it writes each `&` of the value as `&#38;`; the tree builder and the
    /// XSD validator decode those, and so do we.
    static func attributeValue(from start: UnsafePointer<xmlChar>?, to end: UnsafePointer<xmlChar>?) -> [UInt8] {
        guard let start, let end, end > start else { return [] }
        let raw = UnsafeBufferPointer(start: start, count: end - start)
        guard raw.contains(UInt8(ascii: "&")) else { return Array(raw) }
        var value: [UInt8] = []
        value.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "&"), index + 4 < raw.count, raw[index + 1] == UInt8(ascii: "#"),
                raw[index + 2] == UInt8(ascii: "3"), raw[index + 3] == UInt8(ascii: "8"), raw[index + 4] == UInt8(ascii: ";")
            {
                value.append(UInt8(ascii: "&"))
                index += 5
            } else {
                value.append(raw[index])
                index += 1
            }
        }
        return value
    }

    // MARK: - Names

    /// The string of an interned libxml2 name.
    @inline(__always)
    private mutating func name(_ pointer: UnsafePointer<xmlChar>) -> String {
        let key = UnsafeRawPointer(pointer)
        let slot = Int(truncatingIfNeeded: (UInt(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 58)
        if recentNames[slot].0 == key { return recentNames[slot].1 }
        let string: String
        if let known = names[key] {
            string = known
        } else {
            string = String(cString: pointer)
            names[key] = string
        }
        recentNames[slot] = (key, string)
        return string
    }

    /// `prefix:localName`, one string per pair of interned names.
    private mutating func prefixedName(prefix: UnsafePointer<xmlChar>, localName: UnsafePointer<xmlChar>) -> String {
        let key = QualifiedNameKey(prefix: UnsafeRawPointer(prefix), localName: UnsafeRawPointer(localName))
        if let known = qualifiedNames[key] { return known }
        let string = name(prefix) + ":" + name(localName)
        qualifiedNames[key] = string
        return string
    }

    // MARK: - Errors

    /// The refusal of text over ``maximumTextLength``.
    static func textTooLong(_ element: String, at location: SourceLocation) -> Diagnostic {
        .error(
            "E0004", "the text of '\(element)' is longer than the limit of \(maximumTextLength) bytes", at: location,
            hint: "names in a policy are short; text this long is refused so that it cannot exhaust memory")
    }

    /// Where a validity error belongs: the element the validator reports on, which is the element of
    /// the current event, except for a child that its parent's type does not allow, which libxml2
    /// reports on the parent (`Element content is not allowed ...`).
    func validityErrorLocation(message: String, fallbackLine: Int) -> SourceLocation {
        let fallback = SourceLocation(file: locator.file, line: fallbackLine)
        switch event {
        case .none:
            return fallback
        case .end:
            return SourceLocation(file: locator.file, line: endedLine, column: endedColumn)
        case .text:
            return open.isEmpty ? fallback : location(of: open[open.count - 1])
        case .start:
            guard !open.isEmpty else { return fallback }
            let element = open[open.count - 1]
            guard open.count >= 2 else { return location(of: element) }
            let parent = open[open.count - 2]
            let named = Self.elementName(inValidityMessage: message)
            let elementName = Self.expandedName(element)
            let parentName = Self.expandedName(parent)
            if let named, named != parentName || named == elementName && !Self.isAboutParent(message) {
                return location(of: element)
            }
            return location(of: named == parentName ? parent : element)
        }
    }

    private func location(of element: OpenElement) -> SourceLocation {
        SourceLocation(file: locator.file, line: element.line, column: element.column)
    }

    /// libxml2's name of an element in messages: `{uri}local`, or `local` without a namespace.
    private static func expandedName(_ element: OpenElement) -> String {
        let localName = String(cString: element.localName)
        return element.namespaceURI.map { "{\(String(cString: $0))}\(localName)" } ?? localName
    }

    /// The `X` of a message that starts `Element 'X'`.
    private static func elementName(inValidityMessage message: String) -> String? {
        let prefix = "Element '"
        guard message.hasPrefix(prefix) else { return nil }
        let rest = message.dropFirst(prefix.count)
        guard let close = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<close])
    }

    /// Whether a validity error raised at a child's start tag is about the parent's content.
    private static func isAboutParent(_ message: String) -> Bool {
        guard let body = message.firstRange(of: "': ").map({ message[$0.upperBound...] }) else { return false }
        return body.hasPrefix("Element content is not allowed") || body.hasPrefix("Neither character nor element content")
    }
}

// MARK: - libxml2 callbacks

private let onStartElement: startElementNsSAX2Func = {
    context, localName, prefix, uri, namespaceCount, namespaces, attributeCount, _, attributes in
    guard let context, let localName else { return }
    TreeBuilder.of(context).pointee.startElement(
        parser: context.assumingMemoryBound(to: xmlParserCtxt.self), localName: localName, prefix: prefix, uri: uri,
        namespaceCount: Int(namespaceCount), namespaces: namespaces, attributeCount: Int(attributeCount),
        attributes: attributes)
}

private let onEndElement: endElementNsSAX2Func = { context, localName, prefix, uri in
    guard let context else { return }
    TreeBuilder.of(context).pointee.endElement(localName: localName, prefix: prefix, uri: uri)
}

private let onCharacters: charactersSAXFunc = { context, characters, length in
    guard let context, let characters, length >= 0 else { return }
    TreeBuilder.of(context).pointee.characters(
        parser: context.assumingMemoryBound(to: xmlParserCtxt.self), UnsafeBufferPointer(start: characters, count: Int(length)),
        isCDATA: false)
}

private let onCDATA: cdataBlockSAXFunc = { context, value, length in
    guard let context, let value, length >= 0 else { return }
    TreeBuilder.of(context).pointee.characters(
        parser: context.assumingMemoryBound(to: xmlParserCtxt.self), UnsafeBufferPointer(start: value, count: Int(length)),
        isCDATA: true)
}

private let onComment: commentSAXFunc = { context, value in
    guard let context else { return }
    TreeBuilder.of(context).pointee.comment(value)
}

private let onProcessingInstruction: processingInstructionSAXFunc = { context, target, data in
    guard let context else { return }
    TreeBuilder.of(context).pointee.processingInstruction(target: target, data: data)
}

/// libxml2's messages end in a newline and name elements as `{namespace}local`; ours are one line.
private func cleanMessage(_ raw: UnsafeMutablePointer<CChar>?) -> String {
    cleanMessage(raw.map { String(cString: $0) } ?? "unknown error")
}

private func cleanMessage(_ raw: String) -> String {
    var message = raw
    while message.last == "\n" || message.last == " " || message.last == "." { message.removeLast() }
    message = message.replacingAll("{http://www.ibm.com}", with: "")
    // Some messages continue on a second line (the bytes of an encoding error); the renderers put
    // the source excerpt under the message, so it must be one line.
    message = message.replacingAll("\n", with: " ")
    // Limit messages advise an option that the reader deliberately never sets.
    message = message.replacingAll(" use XML_PARSE_HUGE option", with: "").replacingAll(", use XML_PARSE_HUGE", with: "")
    return message
}

/// Parser errors. `xmlError.ctxt` is the parser context (which is also their user data).
private let onParserError: xmlStructuredErrorFunc = { _, error in
    guard let error, let parser = error.pointee.ctxt?.assumingMemoryBound(to: xmlParserCtxt.self),
        let builderPointer = parser.pointee._private
    else { return }
    let builder = builderPointer.assumingMemoryBound(to: TreeBuilder.self)
    let e = error.pointee
    let location = SourceLocation(file: builder.pointee.locator.file, line: Int(e.line), column: Int(e.int2))
    guard e.level.rawValue >= XML_ERR_ERROR.rawValue else { return }
    // Only our DOCTYPE hook stops the parser; read(bytes:) reports that (E0005) from errNo, since
    // libxml2 2.9 raises no error for it.
    guard e.code != Int32(XML_ERR_USER_STOP.rawValue) else { return }
    builder.pointee.parseDiagnostics.append(.error("E0004", cleanMessage(e.message), at: location))
}

private let onValidityError: xmlStructuredErrorFunc = { userData, error in
    guard let userData, let error else { return }
    let builder = userData.assumingMemoryBound(to: TreeBuilder.self)
    let e = error.pointee
    let raw = e.message.map { String(cString: $0) } ?? "unknown error"
    let location = builder.pointee.validityErrorLocation(message: raw, fallbackLine: Int(e.line))
    builder.pointee.validationDiagnostics.append(.error("E0010", cleanMessage(raw), at: location))
}

/// Runs a pass of the reader on a thread of its own, for ``XMLReader`` to wait for its result.
///
/// A plain POSIX thread rather than a Dispatch queue or a task: the caller blocks until the result is
/// there, which must never wait on a thread pool that the caller itself may be occupying.
private final class ParallelPass: @unchecked Sendable {
    private let work: @Sendable () -> XMLReader.Pass?
    /// Written by the thread, read after joining it.
    private var value: XMLReader.Pass?
    private var done = false
    #if canImport(Glibc)
        private var thread: pthread_t?
    #endif

    init(_ work: @escaping @Sendable () -> XMLReader.Pass?) {
        self.work = work
        start()
    }

    private func start() {
        #if canImport(Glibc)
            var created = pthread_t()
            let retained = Unmanaged.passRetained(self).toOpaque()
            if pthread_create(&created, nil, runParallelPass, retained) == 0 {
                thread = created
            } else {
                // No thread: wait() runs the work itself.
                Unmanaged<ParallelPass>.fromOpaque(retained).release()
            }
        #endif
    }

    fileprivate func run() {
        value = work()
        done = true
    }

    /// The result, once the thread has finished (or, if none could be started, computed now).
    func wait() -> XMLReader.Pass? {
        #if canImport(Glibc)
            if let thread {
                pthread_join(thread, nil)
                self.thread = nil
            }
        #endif
        if !done { run() }
        return value
    }
}

#if canImport(Glibc)
    /// The thread function of ``ParallelPass``; its argument is the retained pass.
    private func runParallelPass(_ argument: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        guard let argument else { return nil }
        Unmanaged<ParallelPass>.fromOpaque(argument).takeRetainedValue().run()
        return nil
    }
#endif

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
