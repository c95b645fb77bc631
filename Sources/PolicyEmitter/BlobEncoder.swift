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
        encode(
            format: policy.format, policyName: policy.policyName, version: policy.version, xmlHash: policy.xmlHash,
            primary: policy.primary, secondary: policy.secondary)
    }

    /// The blob of a policy whose matrices are sparse; the same bytes as ``encode(_:)`` of its
    /// ``SparseBinaryPolicy/dense`` form, without the dense matrices ever existing.
    static func encode(_ policy: SparseBinaryPolicy) -> [UInt8] {
        encode(
            format: policy.format, policyName: policy.policyName, version: policy.version, xmlHash: policy.xmlHash,
            primary: policy.primary, secondary: policy.secondary)
    }

    private static func encode(
        format: BlobFormat, policyName: String?, version: PolicyVersion, xmlHash: [UInt8], primary: some BlobComponent,
        secondary: some BlobComponent
    ) -> [UInt8] {
        let name = Array((policyName ?? "").utf8)
        let referenceSize = format.hasPolicyReference ? padded(4 + name.count + 1, true) : 0
        let primarySize = padded(primary.byteCount, format.padsComponents)
        let secondarySize = padded(secondary.byteCount, format.padsComponents)
        let referenceOffset = format.headerSize
        let primaryOffset = referenceOffset + referenceSize
        let secondaryOffset = primaryOffset + primarySize
        let length = secondaryOffset + secondarySize
        if format == .g4 {
            precondition(xmlHash.count == 20, "a G4 blob carries a 20-byte SHA-1")
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
            out.u32(primary.code)
            out.u32(UInt32(primaryOffset))
            out.u32(secondary.code)
            out.u32(UInt32(secondaryOffset))
            if format.hasVersion {
                out.u32(version.major)
                out.u32(version.minor)
            }
            if format == .g4 { out.bytes(xmlHash) }
            precondition(out.position == referenceOffset, "header size of \(format)")
            if format.hasPolicyReference {
                // `acm_policy_reference_buffer`: length (counting the NUL), name, NUL; padded to 8
                // except in Xen 3.0.3 (which we do not target: 3.0.4's tool padded).
                out.u32(UInt32(name.count + 1))
                out.bytes(name)
                out.zeros(1)
                out.zeros(upTo: primaryOffset)
            }
            primary.write(to: &out)
            out.zeros(upTo: secondaryOffset)
            secondary.write(to: &out)
            out.zeros(upTo: length)
            initialized = out.position
        }
    }

    /// `size` rounded up to a multiple of 8 when padding is `enabled`.
    static func padded(_ size: Int, _ enabled: Bool) -> Int {
        enabled ? (size + 7) & ~7 : size
    }
}

/// A policy component as the encoder writes it: its code, its size and its bytes.
protocol BlobComponent {
    var code: UInt32 { get }
    /// The unpadded size.
    var byteCount: Int { get }
    func write(to out: inout BlobWriter)
}

/// A `rows x types` matrix of flags given by the set columns of each row, as the label model has
/// them (a label names a handful of types). Writes the same bytes as the dense `TypeMatrix`.
struct SparseTypeMatrix: Equatable {
    var types: Int
    var rows: Int
    /// The set columns of row `r` are `columns[rowStarts[r]..<rowStarts[r + 1]]` (repeats allowed).
    private(set) var columns: [Int] = []
    private(set) var rowStarts: [Int] = [0]

    /// A matrix of `types` columns and no rows yet.
    init(types: Int) {
        self.types = types
        rows = 0
    }

    /// Appends a row with flags set in `columns`.
    mutating func appendRow(_ set: some Sequence<Int>) {
        for column in set {
            precondition(column >= 0 && column < types, "column out of range")
            columns.append(column)
        }
        rowStarts.append(columns.count)
        rows += 1
    }

    /// The matrix as a dense `TypeMatrix` (huge-page backed when large).
    var dense: TypeMatrix {
        var matrix = TypeMatrix.zeros(types: types, rows: rows)
        for row in 0..<rows {
            for index in rowStarts[row]..<rowStarts[row + 1] { matrix[row, columns[index]] = 1 }
        }
        return matrix
    }

    /// Writes the matrix as big-endian u16 flags: zeros, then a 1 in the low byte of each set flag.
    func write(to out: inout BlobWriter) {
        let start = out.position
        out.zeros(2 * types * rows)
        for row in 0..<rows {
            for index in rowStarts[row]..<rowStarts[row + 1] {
                out.setByte(at: start + 2 * (row * types + columns[index]) + 1, to: 1)
            }
        }
    }
}

/// A blob's content with sparse matrices: a `BinaryPolicy` without its dense matrices.
struct SparseBinaryPolicy: Equatable {
    enum Component: Equatable, BlobComponent {
        case null
        case chineseWall(ssids: SparseTypeMatrix, conflictSets: SparseTypeMatrix)
        case simpleTypeEnforcement(SparseTypeMatrix)

        var code: UInt32 {
            switch self {
            case .null: PolicyComponent.null.code
            case .chineseWall: 1
            case .simpleTypeEnforcement: 2
            }
        }

        var byteCount: Int {
            switch self {
            case .null: 0
            case .chineseWall(let ssids, let conflictSets):
                BlobEncoder.chineseWallHeaderSize + 2 * ssids.types * ssids.rows + 2 * conflictSets.types * conflictSets.rows
            case .simpleTypeEnforcement(let matrix): BlobEncoder.steHeaderSize + 2 * matrix.types * matrix.rows
            }
        }

        func write(to out: inout BlobWriter) {
            switch self {
            case .null:
                return
            case .chineseWall(let ssids, let conflictSets):
                writeChineseWallHeader(types: ssids.types, ssidRows: ssids.rows, conflictRows: conflictSets.rows, to: &out)
                ssids.write(to: &out)
                conflictSets.write(to: &out)
            case .simpleTypeEnforcement(let matrix):
                writeSimpleTypeEnforcementHeader(types: matrix.types, rows: matrix.rows, to: &out)
                matrix.write(to: &out)
            }
        }

        /// The component with dense matrices.
        var dense: PolicyComponent {
            switch self {
            case .null: .null
            case .chineseWall(let ssids, let conflictSets):
                .chineseWall(ChineseWallMatrices(ssids: ssids.dense, conflictSets: conflictSets.dense))
            case .simpleTypeEnforcement(let matrix): .simpleTypeEnforcement(matrix.dense)
            }
        }
    }

    var format: BlobFormat
    var policyName: String?
    var version: PolicyVersion
    var xmlHash: [UInt8]
    var primary: Component
    var secondary: Component

    /// The policy with dense matrices.
    var dense: BinaryPolicy {
        BinaryPolicy(
            format: format, policyName: policyName, version: version, xmlHash: xmlHash, primary: primary.dense,
            secondary: secondary.dense)
    }
}

extension PolicyComponent: BlobComponent {
    var byteCount: Int {
        switch self {
        case .null:
            0
        case .chineseWall(let matrices):
            BlobEncoder.chineseWallHeaderSize + 2 * matrices.ssids.values.count + 2 * matrices.conflictSets.values.count
        case .simpleTypeEnforcement(let matrix):
            BlobEncoder.steHeaderSize + 2 * matrix.values.count
        }
    }

    func write(to out: inout BlobWriter) {
        switch self {
        case .null:
            return
        case .chineseWall(let matrices):
            writeChineseWallHeader(
                types: matrices.ssids.types, ssidRows: matrices.ssids.rows, conflictRows: matrices.conflictSets.rows, to: &out)
            out.u16s(matrices.ssids.values)
            out.u16s(matrices.conflictSets.values)
        case .simpleTypeEnforcement(let matrix):
            writeSimpleTypeEnforcementHeader(types: matrix.types, rows: matrix.rows, to: &out)
            out.u16s(matrix.values)
        }
    }
}

/// `struct acm_chwall_policy_buffer`.
private func writeChineseWallHeader(types: Int, ssidRows: Int, conflictRows: Int, to out: inout BlobWriter) {
    let ssidBytes = 2 * types * ssidRows
    out.u32(1)  // ACM_CHWALL_VERSION
    out.u32(1)  // ACM_CHINESE_WALL_POLICY
    out.u32(UInt32(types))
    out.u32(UInt32(ssidRows))
    out.u32(UInt32(conflictRows))
    out.u32(UInt32(BlobEncoder.chineseWallHeaderSize))
    out.u32(UInt32(BlobEncoder.chineseWallHeaderSize + ssidBytes))
    out.u32(0)  // running types: only filled in by the hypervisor's dump
    out.u32(0)  // conflict aggregate: likewise
}

/// `struct acm_ste_policy_buffer`.
private func writeSimpleTypeEnforcementHeader(types: Int, rows: Int, to out: inout BlobWriter) {
    out.u32(1)  // ACM_STE_VERSION
    out.u32(2)  // ACM_SIMPLE_TYPE_ENFORCEMENT_POLICY
    out.u32(UInt32(types))
    out.u32(UInt32(rows))
    out.u32(UInt32(BlobEncoder.steHeaderSize))
}

extension TypeMatrix {
    /// An all-zero matrix; a large one is backed by huge pages where the system allows (see
    /// ``adviseHugePages(_:)``): the STE matrix of a 10,000-label policy is 22 MB.
    static func zeros(types: Int, rows: Int) -> TypeMatrix {
        let count = types * rows
        let values = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            adviseHugePages(bytes)
            bytes.initializeMemory(as: UInt8.self, repeating: 0)
            initialized = count
        }
        return TypeMatrix(types: types, rows: rows, values: values)
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

    /// Sets the byte at `offset`, which an earlier write already covered.
    mutating func setByte(at offset: Int, to value: UInt8) {
        precondition(offset >= 0 && offset < position, "blob byte not yet written")
        buffer[offset] = value
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
