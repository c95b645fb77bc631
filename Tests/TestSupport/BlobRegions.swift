/// Where the parts of a well-formed ACM policy blob lie, read from its raw words so that mutation
/// tests can aim at the matrices and tables (and not only at the header, which a random mutation
/// of a small blob hits most of the time).
///
/// Shared by the decoder's mutation tests (`PolicyEmitterTests`) and those of `inspect` and
/// `decompile` (`XenPolicyKitTests`).
public struct BlobRegions: Sendable {
    /// One part of the blob.
    public struct Region: Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            /// The u16 cells of an ssid or conflict-set matrix.
            case matrix
            /// A component header's counts and matrix offsets (types, ssids, conflict sets, offsets).
            case counts
            /// The policy reference block: the name's length and bytes.
            case policyName
        }

        public var kind: Kind
        /// Which matrix or component, for messages (`primary STE ssid matrix`).
        public var name: String
        public var range: Range<Int>

        public var description: String { "\(name) [\(range.lowerBound)..<\(range.upperBound)]" }
    }

    public private(set) var regions: [Region] = []

    /// The regions of `bytes`, which must be a well-formed blob (such as one of the conformance corpus).
    public init(_ bytes: [UInt8]) {
        func u32(_ offset: Int) -> Int {
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        }
        let magic = 0x0001_debc
        // The policy version decides the layout: 1 (Xen 3.0.2) has no policy reference block.
        let version = u32(0) == magic ? u32(4) : u32(0)
        var words = 3  // version, magic, length
        var referenceOffset: Int? = nil
        if version > 1 {
            referenceOffset = u32(4 * words)
            words += 1
        }
        let primaryCode = u32(4 * words)
        let primaryOffset = u32(4 * words + 4)
        let secondaryCode = u32(4 * words + 8)
        var secondaryOffset = u32(4 * words + 12)
        // Xen 3.0.2's NULL-primary blobs carried this offset in host order (W0401).
        if secondaryOffset > bytes.count { secondaryOffset = Int(UInt32(secondaryOffset).byteSwapped) }
        if let referenceOffset {
            regions.append(Region(kind: .policyName, name: "policy name", range: referenceOffset..<primaryOffset))
        }
        for (which, code, start) in [("primary", primaryCode, primaryOffset), ("secondary", secondaryCode, secondaryOffset)] {
            switch code {
            case 1:
                let (types, ssids, sets) = (u32(start + 8), u32(start + 12), u32(start + 16))
                regions.append(Region(kind: .counts, name: "\(which) Chinese Wall counts", range: (start + 8)..<(start + 28)))
                let ssidStart = start + u32(start + 20)
                let setStart = start + u32(start + 24)
                regions.append(
                    Region(kind: .matrix, name: "\(which) Chinese Wall ssid matrix", range: ssidStart..<(ssidStart + 2 * types * ssids)))
                regions.append(
                    Region(kind: .matrix, name: "\(which) Chinese Wall conflict sets", range: setStart..<(setStart + 2 * types * sets)))
            case 2:
                let (types, ssids) = (u32(start + 8), u32(start + 12))
                regions.append(Region(kind: .counts, name: "\(which) STE counts", range: (start + 8)..<(start + 20)))
                let ssidStart = start + u32(start + 16)
                regions.append(Region(kind: .matrix, name: "\(which) STE ssid matrix", range: ssidStart..<(ssidStart + 2 * types * ssids)))
            default: break
            }
        }
        regions.removeAll { $0.range.isEmpty }
    }

    /// The regions of `kind`.
    public func regions(_ kind: Region.Kind) -> [Region] { regions.filter { $0.kind == kind } }
}
