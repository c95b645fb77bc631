import PolicyDiagnostics

/// An XML element as read from a policy file, with its source location.
///
/// The checker walks these by namespace URI and local name, so `<ibm:Type>` and `<Type>` in the
/// default namespace are the same element.
///
/// A final class with immutable fields: the checker and lint pass elements around and filter
/// children lists constantly, and a reference costs one retain where a struct of eight
/// reference-counted fields cost eight.
public final class XMLElement: Sendable {
    public let namespaceURI: String?
    public let localName: String
    /// The name as written, with its prefix (`ibm:Type`).
    public let qualifiedName: String
    public let attributes: [XMLAttribute]
    public let children: [XMLElement]
    /// The element's own text (text and CDATA children joined, verbatim: nothing is trimmed).
    public let text: String
    public let location: SourceLocation
    /// The text of the comments among the element's preceding siblings since the previous element
    /// (for the root element: the comments before it), in document order. Lint reads its suppression
    /// directives (`<!-- xen-policy-disable ID: reason -->`) from here.
    public let leadingComments: [String]

    public init(
        namespaceURI: String?, localName: String, qualifiedName: String? = nil, attributes: [XMLAttribute] = [],
        children: [XMLElement] = [], text: String = "", location: SourceLocation, leadingComments: [String] = []
    ) {
        self.namespaceURI = namespaceURI
        self.localName = localName
        self.qualifiedName = qualifiedName ?? localName
        self.attributes = attributes
        self.children = children
        self.text = text
        self.location = location
        self.leadingComments = leadingComments
    }

    /// The attribute with this local name and no namespace.
    public func attribute(_ localName: String) -> XMLAttribute? {
        attributes.first { $0.localName == localName && $0.namespaceURI == nil }
    }

    /// Child elements in the given namespace with the given local name.
    public func children(_ localName: String, in namespace: String) -> [XMLElement] {
        children.filter { $0.isNamed(localName, in: namespace) }
    }

    /// The first child element in the given namespace with the given local name.
    public func child(_ localName: String, in namespace: String) -> XMLElement? {
        children.first { $0.isNamed(localName, in: namespace) }
    }

    /// Whether this element has the given local name in the given namespace.
    @inlinable
    public func isNamed(_ localName: String, in namespace: String) -> Bool {
        self.localName == localName && self.namespaceURI == namespace
    }
}

/// An attribute with the location of its name.
public struct XMLAttribute: Sendable {
    public var namespaceURI: String?
    public var localName: String
    public var value: String
    public var location: SourceLocation

    public init(namespaceURI: String?, localName: String, value: String, location: SourceLocation) {
        self.namespaceURI = namespaceURI
        self.localName = localName
        self.value = value
        self.location = location
    }
}

/// A parsed XML file: its root element and what the later stages need from the raw document.
public struct XMLDocument: Sendable {
    public var file: String
    public var root: XMLElement
    /// SHA-1 of the Python 2 minidom `toxml()` serialization, when requested.
    public var minidomDigest: [UInt8]?
    /// False when that serialization holds non-ASCII characters (xend could not hash those).
    public var minidomIsASCII: Bool

    public init(file: String, root: XMLElement, minidomDigest: [UInt8]? = nil, minidomIsASCII: Bool = true) {
        self.file = file
        self.root = root
        self.minidomDigest = minidomDigest
        self.minidomIsASCII = minidomIsASCII
    }
}
