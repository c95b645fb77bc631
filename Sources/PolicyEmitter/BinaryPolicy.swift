import PolicyModel

/// The on-disk layout generation of a hypervisor policy blob (`struct acm_policy_buffer`).
public enum BlobFormat: String, CaseIterable, Sendable {
    /// Xen 3.0.0-3.0.2: 28-byte header, `policy_version` 1, no policy name, no padding.
    case g1
    /// Xen 3.0.3-3.0.4: 32-byte header, version 2, policy name block padded to 8, components unpadded.
    case g2
    /// Xen 3.1: 40-byte header, version 3, `policy_version` first, every part padded to 8.
    case g3a
    /// Xen 3.2: 40-byte header, version 3, `magic` first.
    case g3b
    /// Xen 3.3-4.1: 60-byte header, version 4, SHA-1 of the XML.
    case g4

    /// The format each target emits.
    public init(_ target: Target) {
        switch target {
        case .xen302: self = .g1
        case .xen304: self = .g2
        case .xen31: self = .g3a
        case .xen32: self = .g3b
        case .xen41: self = .g4
        }
    }

    /// The target that emits this format.
    public var target: Target {
        switch self {
        case .g1: .xen302
        case .g2: .xen304
        case .g3a: .xen31
        case .g3b: .xen32
        case .g4: .xen41
        }
    }

    /// `sizeof(struct acm_policy_buffer)`.
    public var headerSize: Int {
        switch self {
        case .g1: 28
        case .g2: 32
        case .g3a, .g3b: 40
        case .g4: 60
        }
    }

    /// `ACM_POLICY_VERSION`.
    public var policyVersion: UInt32 {
        switch self {
        case .g1: 1
        case .g2: 2
        case .g3a, .g3b: 3
        case .g4: 4
        }
    }

    /// Whether `magic` is the first word (the XSM check-in swapped the first two words in Xen 3.2).
    public var magicFirst: Bool { self == .g3b || self == .g4 }
    /// Whether the header carries a policy reference (name) block.
    public var hasPolicyReference: Bool { self != .g1 }
    /// Whether the header carries `xml_pol_version`.
    public var hasVersion: Bool { self == .g3a || self == .g3b || self == .g4 }
    /// Whether each part after the header is padded to 8 bytes.
    public var padsComponents: Bool { self == .g3a || self == .g3b || self == .g4 }
}

/// `ACM_MAGIC`.
public let acmMagic: UInt32 = 0x0001_debc

/// A decoded (or to-be-encoded) hypervisor policy: header values and both components.
public struct BinaryPolicy: Equatable, Sendable {
    public var format: BlobFormat
    /// The policy reference name (G2+).
    public var policyName: String?
    /// `xml_pol_version` (G3a+; 0.0 when the XML had none).
    public var version: PolicyVersion
    /// `xml_policy_hash` (G4): 20 bytes.
    public var xmlHash: [UInt8]
    public var primary: PolicyComponent
    public var secondary: PolicyComponent

    public init(
        format: BlobFormat, policyName: String?, version: PolicyVersion = PolicyVersion(major: 0, minor: 0),
        xmlHash: [UInt8] = [], primary: PolicyComponent, secondary: PolicyComponent
    ) {
        self.format = format
        self.policyName = policyName
        self.version = version
        self.xmlHash = xmlHash
        self.primary = primary
        self.secondary = secondary
    }
}

/// One policy component of a blob.
public enum PolicyComponent: Equatable, Sendable {
    case null
    case chineseWall(ChineseWallMatrices)
    case simpleTypeEnforcement(TypeMatrix)

    /// `ACM_NULL_POLICY` 0, `ACM_CHINESE_WALL_POLICY` 1, `ACM_SIMPLE_TYPE_ENFORCEMENT_POLICY` 2.
    public var code: UInt32 {
        switch self {
        case .null: 0
        case .chineseWall: 1
        case .simpleTypeEnforcement: 2
        }
    }

    /// The name `.map` files and `xensec_tool` use.
    public var mapName: String {
        switch self {
        case .null: "NULL"
        case .chineseWall: "CHWALL"
        case .simpleTypeEnforcement: "STE"
        }
    }
}

/// A `rows x types` matrix of u16 flags, row-major, as `acm_chwall/ste_policy_buffer` carry them.
public struct TypeMatrix: Equatable, Sendable {
    public var types: Int
    public var rows: Int
    public var values: [UInt16]

    public init(types: Int, rows: Int, values: [UInt16]) {
        precondition(values.count == types * rows, "matrix size must be rows x types")
        self.types = types
        self.rows = rows
        self.values = values
    }

    /// An all-zero matrix.
    public init(types: Int, rows: Int) {
        self.init(types: types, rows: rows, values: [UInt16](repeating: 0, count: types * rows))
    }

    public subscript(row: Int, type: Int) -> UInt16 {
        get { values[row * types + type] }
        set { values[row * types + type] = newValue }
    }

    /// The type indices set in `row`.
    public func typeIndices(ofRow row: Int) -> [Int] {
        (0..<types).filter { self[row, $0] != 0 }
    }
}

/// The Chinese Wall component: ssid x type matrix and conflict set x type matrix.
public struct ChineseWallMatrices: Equatable, Sendable {
    public var ssids: TypeMatrix
    public var conflictSets: TypeMatrix

    public init(ssids: TypeMatrix, conflictSets: TypeMatrix) {
        precondition(ssids.types == conflictSets.types, "both matrices index the same types")
        self.ssids = ssids
        self.conflictSets = conflictSets
    }
}
