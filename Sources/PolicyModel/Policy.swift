import PolicyDiagnostics

/// A checked ACM policy: one immutable representation for every format generation.
///
/// Order is kept as written in the source: each generation's compiler numbers types and labels
/// differently (document order before Xen 3.2, sorted after), so the emitter decides.
public struct Policy: Equatable, Sendable {
    /// `PolicyHeader/PolicyName` (G2+); nil for G1, whose blobs carry no name.
    public var name: String?
    /// Informational header fields, kept so that decompiling and diffing lose nothing.
    public var header: PolicyHeader
    /// The declared Simple Type Enforcement types, or nil if the policy has no STE component.
    public var simpleTypeEnforcement: TypeSet?
    /// The Chinese Wall component, or nil if the policy has none.
    public var chineseWall: ChineseWall?
    /// `SubjectLabels/@bootstrap`: the label Domain-0 runs with.
    public var bootstrapLabel: String?
    /// Virtual machine (subject) labels in document order.
    public var vmLabels: [Label]
    /// Resource (object) labels in document order.
    public var resourceLabels: [Label]
    /// SHA-1 of the XML as xend serialised it (Python 2 minidom `toxml()`), for Xen 3.3-4.1 blobs.
    public var xmlDigest: [UInt8]?

    public init(
        name: String?, header: PolicyHeader = PolicyHeader(), simpleTypeEnforcement: TypeSet?,
        chineseWall: ChineseWall?, bootstrapLabel: String?, vmLabels: [Label], resourceLabels: [Label],
        xmlDigest: [UInt8]? = nil
    ) {
        self.name = name
        self.header = header
        self.simpleTypeEnforcement = simpleTypeEnforcement
        self.chineseWall = chineseWall
        self.bootstrapLabel = bootstrapLabel
        self.vmLabels = vmLabels
        self.resourceLabels = resourceLabels
        self.xmlDigest = xmlDigest
    }

    /// The VM label with the given name.
    public func vmLabel(named name: String) -> Label? { vmLabels.first { $0.name == name } }
}

/// `major.minor` of `PolicyHeader/Version` (G3a+), stored as two u32 in the blob header.
public struct PolicyVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: PolicyVersion, rhs: PolicyVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}

/// The header fields of a policy that do not reach the blob (except the version).
public struct PolicyHeader: Equatable, Sendable {
    /// `Version` as written (G3a+), parsed.
    public var version: PolicyVersion?
    /// The exact `Version` text, since xend compared versions as strings in `FromPolicy`.
    public var versionText: String?
    /// `FromPolicy`: the policy this one updates (G3a+; only G3b+ tools act on it).
    public var fromPolicy: PolicyReference?
    public var policyURL: String?
    public var reference: String?
    public var date: String?
    public var nameSpaceURL: String?
    /// G1 only: `PolicyHeader/Name` of the policy file.
    public var legacyName: String?
    /// G1 only: the header of the label template file.
    public var labelTemplate: LabelTemplateHeader?

    public init(
        version: PolicyVersion? = nil, versionText: String? = nil, fromPolicy: PolicyReference? = nil,
        policyURL: String? = nil, reference: String? = nil, date: String? = nil, nameSpaceURL: String? = nil,
        legacyName: String? = nil, labelTemplate: LabelTemplateHeader? = nil
    ) {
        self.version = version
        self.versionText = versionText
        self.fromPolicy = fromPolicy
        self.policyURL = policyURL
        self.reference = reference
        self.date = date
        self.nameSpaceURL = nameSpaceURL
        self.legacyName = legacyName
        self.labelTemplate = labelTemplate
    }
}

/// `FromPolicy`: name and version of the policy an update replaces.
public struct PolicyReference: Equatable, Sendable {
    public var name: String
    public var version: PolicyVersion
    public var versionText: String

    public init(name: String, version: PolicyVersion, versionText: String) {
        self.name = name
        self.version = version
        self.versionText = versionText
    }
}

/// G1's `LabelHeader` (informational).
public struct LabelTemplateHeader: Equatable, Sendable {
    public var name: String
    public var date: String
    public var policyURL: String
    public var reference: String

    public init(name: String, date: String, policyURL: String, reference: String) {
        self.name = name
        self.date = date
        self.policyURL = policyURL
        self.reference = reference
    }
}
