/// A Xen release line whose hypervisor policy format we emit; each is one format generation.
public enum Target: String, CaseIterable, Sendable, CustomStringConvertible {
    /// G1: Xen 3.0.0-3.0.2, `secpol_xml2bin`, policy + label template files, 28-byte header.
    case xen302 = "xen-3.0.2"
    /// G2: Xen 3.0.3-3.0.4, one file with `PolicyName`, 32-byte header.
    case xen304 = "xen-3.0.4"
    /// G3a: Xen 3.1, `Version`, 40-byte header with the version word first, 8-byte padding.
    case xen31 = "xen-3.1"
    /// G3b: Xen 3.2, `acmpolicy.py`, sorted numbering, magic word first.
    case xen32 = "xen-3.2"
    /// G4: Xen 3.3-4.1, 60-byte header with the SHA-1 of the XML.
    case xen41 = "xen-4.1"

    /// The default: the last release that shipped ACM.
    public static let `default` = Target.xen41

    public var description: String { rawValue }

    /// Whether the xend compiler (`acmpolicy.py`, sorted numbering) or `secpol_xml2bin` made this format.
    public var usesXendNumbering: Bool { self == .xen32 || self == .xen41 }
    /// Whether the XML carries `PolicyHeader/PolicyName` (G2+).
    public var hasPolicyName: Bool { self != .xen302 }
    /// Whether the blob and XML carry a version (G3a+).
    public var hasVersion: Bool { self == .xen31 || usesXendNumbering }
    /// Whether `Name/@from` renames exist (G3b+).
    public var hasRenames: Bool { usesXendNumbering }
}
