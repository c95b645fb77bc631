import PolicyModel

/// Encodes a `BinaryPolicy` in the layout of its format, byte for byte as the historical tools did
/// (except that G1's NULL-primary secondary offset is written big-endian, as the hypervisor reads it).
public enum BlobEncoder {
    /// The size of the Chinese Wall component header (`struct acm_chwall_policy_buffer`).
    static let chineseWallHeaderSize = 36
    /// The size of the STE component header (`struct acm_ste_policy_buffer`).
    static let steHeaderSize = 20

    /// The blob bytes.
    public static func encode(_ policy: BinaryPolicy) -> [UInt8] {
        let format = policy.format
        let reference = format.hasPolicyReference ? referenceBlock(policy.policyName ?? "", format: format) : []
        let primary = pad(component(policy.primary), format.padsComponents)
        let secondary = pad(component(policy.secondary), format.padsComponents)
        let referenceOffset = format.headerSize
        let primaryOffset = referenceOffset + reference.count
        let secondaryOffset = primaryOffset + primary.count
        let length = secondaryOffset + secondary.count

        var out = ByteWriter(capacity: length)
        if format.magicFirst {
            out.u32(acmMagic)
            out.u32(format.policyVersion)
        } else {
            out.u32(format.policyVersion)
            out.u32(acmMagic)
        }
        out.u32(UInt32(length))
        if format.hasPolicyReference { out.u32(UInt32(referenceOffset)) }
        out.u32(policy.primary.code)
        out.u32(UInt32(primaryOffset))
        out.u32(policy.secondary.code)
        out.u32(UInt32(secondaryOffset))
        if format.hasVersion {
            out.u32(policy.version.major)
            out.u32(policy.version.minor)
        }
        if format == .g4 {
            precondition(policy.xmlHash.count == 20, "a G4 blob carries a 20-byte SHA-1")
            out.bytes(policy.xmlHash)
        }
        out.bytes(reference)
        out.bytes(primary)
        out.bytes(secondary)
        return out.buffer
    }

    /// `acm_policy_reference_buffer`: length (counting the NUL), name, NUL; padded to 8 except in
    /// Xen 3.0.3 (which we do not target: 3.0.4's tool padded).
    static func referenceBlock(_ name: String, format: BlobFormat) -> [UInt8] {
        var out = ByteWriter(capacity: name.utf8.count + 16)
        out.u32(UInt32(name.utf8.count + 1))
        out.bytes(Array(name.utf8))
        out.bytes([0])
        return pad(out.buffer, true)
    }

    static func component(_ component: PolicyComponent) -> [UInt8] {
        switch component {
        case .null:
            return []
        case .chineseWall(let matrices):
            let types = matrices.ssids.types
            let ssidBytes = 2 * matrices.ssids.values.count
            var out = ByteWriter(capacity: chineseWallHeaderSize + ssidBytes + 2 * matrices.conflictSets.values.count)
            out.u32(1)  // ACM_CHWALL_VERSION
            out.u32(1)  // ACM_CHINESE_WALL_POLICY
            out.u32(UInt32(types))
            out.u32(UInt32(matrices.ssids.rows))
            out.u32(UInt32(matrices.conflictSets.rows))
            out.u32(UInt32(chineseWallHeaderSize))
            out.u32(UInt32(chineseWallHeaderSize + ssidBytes))
            out.u32(0)  // running types: only filled in by the hypervisor's dump
            out.u32(0)  // conflict aggregate: likewise
            out.u16s(matrices.ssids.values)
            out.u16s(matrices.conflictSets.values)
            return out.buffer
        case .simpleTypeEnforcement(let matrix):
            var out = ByteWriter(capacity: steHeaderSize + 2 * matrix.values.count)
            out.u32(1)  // ACM_STE_VERSION
            out.u32(2)  // ACM_SIMPLE_TYPE_ENFORCEMENT_POLICY
            out.u32(UInt32(matrix.types))
            out.u32(UInt32(matrix.rows))
            out.u32(UInt32(steHeaderSize))
            out.u16s(matrix.values)
            return out.buffer
        }
    }

    static func pad(_ bytes: [UInt8], _ enabled: Bool) -> [UInt8] {
        guard enabled, bytes.count % 8 != 0 else { return bytes }
        return bytes + [UInt8](repeating: 0, count: 8 - bytes.count % 8)
    }
}

/// Appends big-endian integers, the byte order of every field in every format.
struct ByteWriter {
    var buffer: [UInt8]

    init(capacity: Int) {
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    mutating func u32(_ value: UInt32) {
        buffer.append(UInt8(truncatingIfNeeded: value >> 24))
        buffer.append(UInt8(truncatingIfNeeded: value >> 16))
        buffer.append(UInt8(truncatingIfNeeded: value >> 8))
        buffer.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u16s(_ values: [UInt16]) {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: 2 * values.count))
        buffer.withUnsafeMutableBufferPointer { out in
            for (index, value) in values.enumerated() {
                out[start + 2 * index] = UInt8(truncatingIfNeeded: value >> 8)
                out[start + 2 * index + 1] = UInt8(truncatingIfNeeded: value)
            }
        }
    }

    mutating func bytes(_ values: [UInt8]) {
        buffer.append(contentsOf: values)
    }
}
