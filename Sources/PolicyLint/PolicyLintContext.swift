import PolicyDiagnostics
import PolicyModel
import PolicyReader

/// What a policy rule examines: the checked policy, the XML it came from, and the Xen release it is for.
///
/// Rules get everything through here so that each can be written as one or two linear passes over
/// labels and types with dictionaries, never comparing every label with every other.
public struct PolicyLintContext: Sendable {
    /// The ACM namespace every policy element lives in.
    public static let namespace = "http://www.ibm.com"

    /// The checked policy (labels, type sets and conflict sets carry their source locations).
    public let policy: Policy
    /// The newest target the policy compiles for. Rules whose concern exists only in some Xen
    /// releases consult it (authorization to run exists from Xen 3.2).
    public let target: Target
    /// The policy document and, for Xen 3.0.2, the label template document.
    public let documents: [XMLDocument]
    public let elements: ElementIndex
    /// The input files' bytes, by path, for `--fix` edits.
    public let sources: [String: SourceText]
    /// The bootstrap (Domain-0) VM label, if the policy names one that exists.
    public let bootstrapLabel: Label?

    public init(policy: Policy, target: Target, documents: [XMLDocument], sources: [SourceText]) {
        self.policy = policy
        self.target = target
        self.documents = documents
        self.elements = ElementIndex(documents: documents)
        self.sources = Dictionary(sources.map { ($0.file, $0) }, uniquingKeysWith: { first, _ in first })
        self.bootstrapLabel = policy.bootstrapLabel.flatMap { policy.vmLabel(named: $0) }
    }

    /// VM labels, then resource labels.
    public var labels: [Label] { policy.vmLabels + policy.resourceLabels }

    /// The `VirtualMachineLabel` or `ResourceLabel` element of `label`.
    public func element(of label: Label) -> XMLElement? {
        label.location.flatMap { elements.element(at: $0) }
    }

    /// The `Name` element of `label`, where naming findings point.
    public func nameElement(of label: Label) -> XMLElement? {
        element(of: label)?.child("Name", in: Self.namespace)
    }

    /// The `Type` elements a label lists for `component`, in document order (including repetitions).
    public func typeElements(of label: Label, _ component: Component) -> [XMLElement] {
        guard let element = element(of: label) else { return [] }
        return element.children(component.labelTypesElement, in: Self.namespace).flatMap {
            $0.children("Type", in: Self.namespace)
        }
    }

    /// The `Type` elements of a conflict set.
    public func typeElements(of conflictSet: ConflictSet) -> [XMLElement] {
        conflictSet.location.flatMap { elements.element(at: $0) }?.children("Type", in: Self.namespace) ?? []
    }

    /// The first `Type` element of `label` naming `type` in `component`, or the label's element.
    public func location(of type: String, in label: Label, _ component: Component) -> SourceLocation? {
        typeElements(of: label, component).first { $0.text == type }?.location ?? label.location
    }

    /// A policy component: its types live in separate namespaces with separate elements.
    public enum Component: String, CaseIterable, Sendable {
        case simpleTypeEnforcement = "SimpleTypeEnforcement"
        case chineseWall = "ChineseWall"

        /// The element that lists a label's types of this component.
        public var labelTypesElement: String { rawValue + "Types" }
    }

    /// The declared types of `component`, or nil if the policy has no such component.
    public func declaredTypes(_ component: Component) -> TypeSet? {
        switch component {
        case .simpleTypeEnforcement: policy.simpleTypeEnforcement
        case .chineseWall: policy.chineseWall?.types
        }
    }

    /// A label's types of `component` (nil: the label has no types element for it).
    public func types(of label: Label, _ component: Component) -> [String]? {
        switch component {
        case .simpleTypeEnforcement: label.steTypes
        case .chineseWall: label.chineseWallTypes
        }
    }
}

extension Label {
    /// "VM label" or "resource label", for messages.
    public var kindDescription: String { kind == .virtualMachine ? "VM label" : "resource label" }
}
