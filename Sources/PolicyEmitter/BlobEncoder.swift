import PolicyModel

#if canImport(Glibc)
    import Glibc
#endif

/// Encodes a `BinaryPolicy` in the layout of its format, byte for byte as the historical tools did
/// (except that G1's NULL-primary secondary offset is written big-endian, as the hypervisor reads it).
public enum BlobEncoder {
    /// The size of the Chinese Wall component header (`struct acm_chwall_policy_buffer`).
    static let chineseWallHeaderSize = 36
    /// The size of the STE component header (`struct acm_ste_policy_buffer`).
    static let steHeaderSize = 20

    /// The blob bytes.
    ///
    /// The size of every part is known before a byte is written, so the blob is written into one
    /// buffer of its final size: a 10,000-label policy's matrices are 22 MB, and copying them
    /// through intermediate buffers cost as much memory again, twice.
    public static func encode(_ policy: BinaryPolicy) -> [UInt8] {
        let format = policy.format
        let name = Array((policy.policyName ?? "").utf8)
        let referenceSize = format.hasPolicyReference ? padded(4 + name.count + 1, true) : 0
        let primarySize = padded(componentSize(policy.primary), format.padsComponents)
        let secondarySize = padded(componentSize(policy.secondary), format.padsComponents)
        let referenceOffset = format.headerSize
        let primaryOffset = referenceOffset + referenceSize
        let secondaryOffset = primaryOffset + primarySize
        let length = secondaryOffset + secondarySize
        if format == .g4 {
            precondition(policy.xmlHash.count == 20, "a G4 blob carries a 20-byte SHA-1")
        }

        return [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            adviseHugePages(UnsafeMutableRawBufferPointer(buffer))
            var out = BlobWriter(buffer)
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
            if format == .g4 { out.bytes(policy.xmlHash) }
            precondition(out.position == referenceOffset, "header size of \(format)")
            if format.hasPolicyReference {
                // `acm_policy_reference_buffer`: length (counting the NUL), name, NUL; padded to 8
                // except in Xen 3.0.3 (which we do not target: 3.0.4's tool padded).
                out.u32(UInt32(name.count + 1))
                out.bytes(name)
                out.zeros(1)
                out.zeros(upTo: primaryOffset)
            }
            write(policy.primary, to: &out)
            out.zeros(upTo: secondaryOffset)
            write(policy.secondary, to: &out)
            out.zeros(upTo: length)
            initialized = out.position
        }
    }

    /// `size` rounded up to a multiple of 8 when padding is `enabled`.
    static func padded(_ size: Int, _ enabled: Bool) -> Int {
        enabled ? (size + 7) & ~7 : size
    }

    /// The unpadded size of a component.
    static func componentSize(_ component: PolicyComponent) -> Int {
        switch component {
        case .null:
            0
        case .chineseWall(let matrices):
            chineseWallHeaderSize + 2 * matrices.ssids.values.count + 2 * matrices.conflictSets.values.count
        case .simpleTypeEnforcement(let matrix):
            steHeaderSize + 2 * matrix.values.count
        }
    }

    static func write(_ component: PolicyComponent, to out: inout BlobWriter) {
        switch component {
        case .null:
            return
        case .chineseWall(let matrices):
            let ssidBytes = 2 * matrices.ssids.values.count
            out.u32(1)  // ACM_CHWALL_VERSION
            out.u32(1)  // ACM_CHINESE_WALL_POLICY
            out.u32(UInt32(matrices.ssids.types))
            out.u32(UInt32(matrices.ssids.rows))
            out.u32(UInt32(matrices.conflictSets.rows))
            out.u32(UInt32(chineseWallHeaderSize))
            out.u32(UInt32(chineseWallHeaderSize + ssidBytes))
            out.u32(0)  // running types: only filled in by the hypervisor's dump
            out.u32(0)  // conflict aggregate: likewise
            out.u16s(matrices.ssids.values)
            out.u16s(matrices.conflictSets.values)
        case .simpleTypeEnforcement(let matrix):
            out.u32(1)  // ACM_STE_VERSION
            out.u32(2)  // ACM_SIMPLE_TYPE_ENFORCEMENT_POLICY
            out.u32(UInt32(matrix.types))
            out.u32(UInt32(matrix.rows))
            out.u32(UInt32(steHeaderSize))
            out.u16s(matrix.values)
        }
    }
}

/// Writes big-endian integers, the byte order of every field in every format, into a buffer of
/// the blob's final size.
struct BlobWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var position = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    mutating func u32(_ value: UInt32) {
        precondition(position + 4 <= buffer.count, "blob overflow")
        UnsafeMutableRawPointer(buffer.baseAddress! + position).storeBytes(of: value.bigEndian, as: UInt32.self)
        position += 4
    }

    mutating func u16s(_ values: [UInt16]) {
        precondition(position + 2 * values.count <= buffer.count, "blob overflow")
        let out = UnsafeMutableRawPointer(buffer.baseAddress! + position)
        values.withUnsafeBufferPointer { values in
            for index in values.indices {
                out.storeBytes(of: values[index].bigEndian, toByteOffset: 2 * index, as: UInt16.self)
            }
        }
        position += 2 * values.count
    }

    mutating func bytes(_ values: [UInt8]) {
        precondition(position + values.count <= buffer.count, "blob overflow")
        values.withUnsafeBufferPointer { values in
            guard let source = values.baseAddress else { return }
            (buffer.baseAddress! + position).initialize(from: source, count: values.count)
        }
        position += values.count
    }

    mutating func zeros(_ count: Int) {
        precondition(position + count <= buffer.count, "blob overflow")
        (buffer.baseAddress! + position).initialize(repeating: 0, count: count)
        position += count
    }

    /// Zeros up to offset `end` (padding).
    mutating func zeros(upTo end: Int) {
        precondition(position <= end, "blob part overran its size")
        zeros(end - position)
    }
}

/// Asks the kernel to back the 2 MiB-aligned part of a large, not yet touched buffer with huge pages
/// (Linux, where transparent huge pages are enabled for `madvise`), so that writing a 22 MB matrix
/// takes a dozen page faults instead of five thousand. Elsewhere, and for small buffers, it does nothing.
func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
        let hugePage = 2 << 20
        guard buffer.count >= 4 * hugePage, let base = buffer.baseAddress else { return }
        let start = (Int(bitPattern: base) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(hugePage - 1)
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
    #endif
}
