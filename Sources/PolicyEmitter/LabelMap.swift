/// The label-mapping (`.map`) file: which ssid each label got, which types each ssid holds, and
/// each type's index. Xen's tools looked labels up in it; we also read it back for `inspect` and
/// `decompile`.
public struct LabelMap: Equatable, Sendable {
    /// The three layouts the historical tools wrote.
    public enum Dialect: String, Sendable {
        /// `secpol_xml2bin` of Xen 3.0.2: `POLICY`/`BINARY` lines, `DEFAULT` entry, shared ssids.
        case g1
        /// `secpol_xml2bin` of Xen 3.0.4 and 3.1: `POLICYREFERENCENAME`, `POLICY FILE`, `__NULL_LABEL__`.
        case secpol
        /// `acmpolicy.py` of Xen 3.2-4.1: `POLICFILE` (sic), 20-column names, decimal type indices.
        case xend
    }

    public var dialect: Dialect
    public var policyName: String?
    /// The path printed on the policy file line (not compared by conformance tests).
    public var policyFile: String
    /// The path printed on the binary file line.
    public var binaryFile: String
    public var primary: String
    public var secondary: String
    public var chineseWall: ComponentLabels?
    public var ste: ComponentLabels?

    public init(
        dialect: Dialect, policyName: String?, policyFile: String, binaryFile: String, primary: String,
        secondary: String, chineseWall: ComponentLabels?, ste: ComponentLabels?
    ) {
        self.dialect = dialect
        self.policyName = policyName
        self.policyFile = policyFile
        self.binaryFile = binaryFile
        self.primary = primary
        self.secondary = secondary
        self.chineseWall = chineseWall
        self.ste = ste
    }
}

/// The map lines of one component.
public struct ComponentLabels: Equatable, Sendable {
    /// One `LABEL->SSID` line.
    public struct Entry: Equatable, Sendable {
        /// `ANY` (the ssid-0 entry), `VM` or `RES`.
        public var kind: String
        public var name: String
        public var ssid: Int

        public init(kind: String, name: String, ssid: Int) {
            self.kind = kind
            self.name = name
            self.ssid = ssid
        }
    }

    /// One `SSID->TYPE` line.
    public struct SsidTypes: Equatable, Sendable {
        public var ssid: Int
        public var types: [String]

        public init(ssid: Int, types: [String]) {
            self.ssid = ssid
            self.types = types
        }
    }

    /// One `TYPE` line.
    public struct TypeEntry: Equatable, Sendable {
        public var name: String
        public var index: Int

        public init(name: String, index: Int) {
            self.name = name
            self.index = index
        }
    }

    public var maxTypes: Int
    public var maxSsids: Int
    public var maxLabels: Int
    public var entries: [Entry]
    public var ssidTypes: [SsidTypes]
    public var types: [TypeEntry]

    public init(maxTypes: Int, maxSsids: Int, maxLabels: Int, entries: [Entry], ssidTypes: [SsidTypes], types: [TypeEntry]) {
        self.maxTypes = maxTypes
        self.maxSsids = maxSsids
        self.maxLabels = maxLabels
        self.entries = entries
        self.ssidTypes = ssidTypes
        self.types = types
    }

    /// The ssid of the label `name` of the given kind (`VM` also matches the `ANY` entry's name).
    public func ssid(of name: String, kind: String) -> Int? {
        entries.first { $0.name == name && ($0.kind == kind || $0.kind == "ANY") }?.ssid
    }

    /// Type names by index.
    public var typeNamesByIndex: [Int: String] {
        Dictionary(types.map { ($0.index, $0.name) }, uniquingKeysWith: { first, _ in first })
    }
}
