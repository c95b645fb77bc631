import PolicyDiagnostics
import PolicyReader

/// Every element of the lint input's XML documents in document order, findable by location, with
/// parent links: findings point at elements, and suppressions before an element cover its subtree.
public struct ElementIndex: Sendable {
    /// The elements in document order (each document's root, then its descendants depth first).
    public private(set) var elements: [XMLElement] = []
    /// The index of each element's parent in `elements`, or nil for a document root.
    public private(set) var parents: [Int?] = []
    private var indexByLocation: [SourceLocation: Int] = [:]

    public init(documents: [XMLDocument]) {
        for document in documents {
            add(document.root, parent: nil)
        }
    }

    private mutating func add(_ element: XMLElement, parent: Int?) {
        let index = elements.count
        elements.append(element)
        parents.append(parent)
        // An element's location is the position of its `<`, unique within its file.
        indexByLocation[element.location] = index
        for child in element.children {
            add(child, parent: index)
        }
    }

    /// The index of the element whose `<` is at `location`.
    public func index(at location: SourceLocation) -> Int? { indexByLocation[location] }

    /// The element whose `<` is at `location`.
    public func element(at location: SourceLocation) -> XMLElement? { index(at: location).map { elements[$0] } }

    /// `index` and the indices of its ancestors, innermost first.
    public func selfAndAncestors(of index: Int) -> [Int] {
        var chain = [index]
        while let parent = parents[chain[chain.count - 1]] { chain.append(parent) }
        return chain
    }
}
