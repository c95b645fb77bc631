import PolicyDiagnostics
import PolicyModel

/// Decodes hypervisor policy blobs of every format, making each check the hypervisor of that
/// generation made on load (spec §3.8) and more: no arithmetic overflows, every offset and matrix
/// inside the buffer, counts consistent with sizes and within a policy's 16-bit bounds, the policy name
/// NUL-terminated UTF-8.
public enum BlobDecoder {
    /// The raw header words, as `inspect` shows them.
    public struct Header: Equatable, Sendable {
        public var format: BlobFormat
        public var length: UInt32
        public var policyReferenceOffset: UInt32?
        public var primaryCode: UInt32
        public var primaryOffset: UInt32
        public var secondaryCode: UInt32
        public var secondaryOffset: UInt32
    }

    /// The outcome of decoding.
    public struct Result: Sendable {
        public var policy: BinaryPolicy?
        public var header: Header?
        public var diagnostics: [Diagnostic]
    }

    /// Decodes `bytes`, read from `file` (named in diagnostics).
    public static func decode(_ bytes: [UInt8], file: String) -> Result {
        var decoder = Decoding(bytes: bytes, file: file)
        let policy = decoder.run()
        return Result(
            policy: decoder.diagnostics.hasErrors ? nil : policy, header: decoder.header,
            diagnostics: decoder.diagnostics.diagnostics)
    }
}

private struct Decoding {
    let bytes: [UInt8]
    let file: String
    var diagnostics = DiagnosticCollector()
    var header: BlobDecoder.Header?

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    mutating func fail(_ code: DiagnosticCode, _ message: String, hint: String? = nil) {
        diagnostics.emit(.error(code, message, at: SourceLocation(file: file), hint: hint))
    }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func run() -> BinaryPolicy? {
        guard bytes.count >= 8 else {
            fail("E0401", "the blob is \(bytes.count) bytes, shorter than any policy header (28 bytes)")
            return nil
        }
        guard let format = detectFormat() else { return nil }
        guard bytes.count >= format.headerSize else {
            fail("E0401", "the blob is \(bytes.count) bytes, shorter than the \(format.headerSize)-byte \(format.target) header")
            return nil
        }
        var position = 8
        func next() -> UInt32 {
            defer { position += 4 }
            return u32(position)
        }
        let length = next()
        let referenceOffset = format.hasPolicyReference ? next() : nil
        let primaryCode = next()
        let primaryOffset = next()
        let secondaryCode = next()
        var secondaryOffset = next()
        var version = PolicyVersion(major: 0, minor: 0)
        if format.hasVersion { version = PolicyVersion(major: next(), minor: next()) }
        let hash = format == .g4 ? Array(bytes[40..<60]) : []

        if format == .g1, primaryCode == 0, secondaryOffset > length, secondaryOffset.byteSwapped == primaryOffset {
            // secpol_xml2bin up to Xen 3.0.4 wrote this one offset in host order for NULL-primary policies.
            diagnostics.emit(
                .warning(
                    "W0401", "the secondary buffer offset is byte-swapped (0x\(hex(secondaryOffset)))",
                    at: SourceLocation(file: file),
                    hint: "a known bug of the Xen 3.0.x compiler for NULL-primary policies; read as 0x\(hex(secondaryOffset.byteSwapped))"))
            secondaryOffset = secondaryOffset.byteSwapped
        }
        header = BlobDecoder.Header(
            format: format, length: length, policyReferenceOffset: referenceOffset, primaryCode: primaryCode,
            primaryOffset: primaryOffset, secondaryCode: secondaryCode, secondaryOffset: secondaryOffset)

        if Int(length) != bytes.count {
            fail(
                "E0403", "the header says the blob is \(length) bytes but it is \(bytes.count) bytes",
                hint: "the file is truncated or has trailing data; the hypervisor refuses it")
        }
        checkCodes(primaryCode, secondaryCode)
        let start = referenceOffset ?? primaryOffset
        guard Int(start) >= format.headerSize, start <= primaryOffset, primaryOffset <= secondaryOffset,
            Int(secondaryOffset) <= bytes.count
        else {
            fail(
                "E0406",
                "buffer offsets are out of order or outside the blob (reference \(referenceOffset.map(String.init) ?? "-"), primary \(primaryOffset), secondary \(secondaryOffset), size \(bytes.count))"
            )
            return nil
        }
        var name: String? = nil
        if let referenceOffset {
            name = policyName(from: Int(referenceOffset), to: Int(primaryOffset))
        }
        let primary = component(code: primaryCode, from: Int(primaryOffset), to: Int(secondaryOffset), which: "primary")
        let secondary = component(code: secondaryCode, from: Int(secondaryOffset), to: bytes.count, which: "secondary")
        guard let primary, let secondary, !diagnostics.hasErrors else { return nil }
        return BinaryPolicy(
            format: format, policyName: name, version: version, xmlHash: hash, primary: primary, secondary: secondary)
    }

    /// G3b/G4 put `magic` first; earlier formats put `policy_version` first.
    mutating func detectFormat() -> BlobFormat? {
        let first = u32(0)
        let second = u32(4)
        if first == acmMagic {
            switch second {
            case 3: return .g3b
            case 4: return .g4
            default:
                fail("E0404", "unsupported policy version \(second) (magic first: Xen 3.2 is version 3, Xen 3.3-4.1 version 4)")
                return nil
            }
        }
        if second == acmMagic {
            switch first {
            case 1: return .g1
            case 2: return .g2
            case 3: return .g3a
            default:
                fail("E0404", "unsupported policy version \(first) (Xen 3.0.2 is 1, 3.0.4 is 2, 3.1 is 3)")
                return nil
            }
        }
        fail("E0402", "not an ACM policy blob: no magic 0x0001debc at offset 0 or 4")
        return nil
    }

    /// `acm_init_binary_policy`: primary in {NULL, CHWALL, STE}; secondary likewise and different unless NULL.
    mutating func checkCodes(_ primary: UInt32, _ secondary: UInt32) {
        guard primary <= 2, secondary <= 2, secondary == 0 || secondary != primary else {
            fail(
                "E0405", "invalid policy combination: primary code \(primary), secondary code \(secondary)",
                hint: secondary == 15
                    ? "code 15 (undefined) is what xend wrote for STE-only policies; no hypervisor loads it"
                    : "primary and secondary must be 0 (NULL), 1 (Chinese Wall) or 2 (STE), and differ unless NULL")
            return
        }
    }

    mutating func policyName(from start: Int, to end: Int) -> String? {
        guard end - start >= 4 else {
            fail("E0411", "the policy reference block is \(end - start) bytes, too short for its length field")
            return nil
        }
        let length = Int(u32(start))
        guard length >= 1, length <= end - start - 4 else {
            fail("E0411", "the policy name length \(length) does not fit its \(end - start)-byte block")
            return nil
        }
        let nameBytes = bytes[(start + 4)..<(start + 4 + length)]
        guard nameBytes.last == 0, !nameBytes.dropLast().contains(0) else {
            fail("E0411", "the policy name is not a NUL-terminated string of \(length) bytes")
            return nil
        }
        guard let name = String(validating: nameBytes.dropLast(), as: UTF8.self) else {
            fail("E0411", "the policy name is not valid UTF-8")
            return nil
        }
        return name
    }

    mutating func component(code: UInt32, from start: Int, to end: Int, which: String) -> PolicyComponent? {
        let size = end - start
        switch code {
        case 0:
            return .null
        case 1:
            guard size >= 36 else {
                fail("E0407", "the \(which) Chinese Wall component is \(size) bytes, shorter than its 36-byte header")
                return nil
            }
            guard checkComponentHeader(at: start, code: 1, which: which, name: "Chinese Wall") else { return nil }
            let types = Int(u32(start + 8))
            let ssids = Int(u32(start + 12))
            let sets = Int(u32(start + 16))
            guard checkDimensions(types: types, ssids: ssids, conflictSets: sets, which: which, name: "Chinese Wall") else { return nil }
            guard
                let ssidMatrix = matrix(
                    at: start, offsetField: start + 20, size: size, rows: ssids, types: types, what: "\(which) Chinese Wall ssid matrix"),
                let conflictMatrix = matrix(
                    at: start, offsetField: start + 24, size: size, rows: sets, types: types,
                    what: "\(which) Chinese Wall conflict set matrix")
            else { return nil }
            return .chineseWall(ChineseWallMatrices(ssids: ssidMatrix, conflictSets: conflictMatrix))
        case 2:
            guard size >= 20 else {
                fail("E0407", "the \(which) STE component is \(size) bytes, shorter than its 20-byte header")
                return nil
            }
            guard checkComponentHeader(at: start, code: 2, which: which, name: "STE") else { return nil }
            let types = Int(u32(start + 8))
            let ssids = Int(u32(start + 12))
            guard checkDimensions(types: types, ssids: ssids, conflictSets: 0, which: which, name: "STE") else { return nil }
            guard
                let ssidMatrix = matrix(
                    at: start, offsetField: start + 16, size: size, rows: ssids, types: types, what: "\(which) STE ssid matrix")
            else { return nil }
            return .simpleTypeEnforcement(ssidMatrix)
        default:
            return nil
        }
    }

    mutating func checkComponentHeader(at start: Int, code: UInt32, which: String, name: String) -> Bool {
        let version = u32(start)
        let actualCode = u32(start + 4)
        guard version == 1 else {
            fail("E0407", "the \(which) \(name) component has version \(version); every Xen release used 1")
            return false
        }
        guard actualCode == code else {
            fail("E0407", "the \(which) component's header says policy code \(actualCode) but the blob header says \(code)")
            return false
        }
        return true
    }

    /// The most types, ssids or conflict sets a component may have: a compiled policy has at most
    /// 65,536 of each (E0113), since ssidrefs name ssids and types in 16 bits. The size check (E0408)
    /// cannot bound a matrix of no types or no rows, whose cells take no bytes: a blob of 200 bytes
    /// could claim four billion of the other dimension, and `inspect` and `decompile` trapped
    /// allocating a name or a line for each. Nor does it bound conflict sets of one or two types,
    /// whose rows take two or four bytes: a 64 MB blob of 16 million made `inspect` take 2 GB and
    /// print 437 MB, and `decompile` run out of memory (a 512 MiB one would have wanted 60 GB).
    static let largestDimension = 65_536

    /// E0409 when a component's counts exceed `largestDimension`.
    mutating func checkDimensions(types: Int, ssids: Int, conflictSets: Int, which: String, name: String) -> Bool {
        let limit = Self.largestDimension
        let excess =
            types > limit
            ? "\(types) types"
            : ssids > limit ? "\(ssids) ssids" : conflictSets > limit ? "\(conflictSets) conflict sets" : nil
        guard let excess else { return true }
        fail(
            "E0409", "the \(which) \(name) component claims \(excess), more than the \(limit) a policy can have",
            hint: "ssidrefs and type indices are 16-bit, and no compiler writes more; the blob is damaged")
        return false
    }

    /// A `rows x types` u16 matrix at the offset stored in `offsetField`, relative to the component.
    mutating func matrix(at start: Int, offsetField: Int, size: Int, rows: Int, types: Int, what: String) -> TypeMatrix? {
        let offset = Int(u32(offsetField))
        let (cells, overflow1) = rows.multipliedReportingOverflow(by: types)
        let (byteCount, overflow2) = cells.multipliedReportingOverflow(by: 2)
        let (end, overflow3) = offset.addingReportingOverflow(byteCount)
        guard !overflow1, !overflow2, !overflow3, end <= size else {
            fail(
                "E0408", "the \(what) (\(rows) x \(types) at offset \(offset)) does not fit in its \(size)-byte component",
                hint: "the hypervisor checks offset + 2 x types x rows <= size")
            return nil
        }
        var values = [UInt16](repeating: 0, count: cells)
        var nonBinary = 0
        bytes.withUnsafeBufferPointer { buffer in
            let base = start + offset
            for index in 0..<cells {
                let value = UInt16(buffer[base + 2 * index]) << 8 | UInt16(buffer[base + 2 * index + 1])
                if value > 1 { nonBinary += 1 }
                values[index] = value
            }
        }
        if nonBinary > 0 {
            diagnostics.emit(
                .warning(
                    "W0402", "the \(what) holds \(nonBinary) values other than 0 and 1", at: SourceLocation(file: file),
                    hint: "the hypervisor only tests for non-zero; no compiler wrote such values"))
        }
        return TypeMatrix(types: types, rows: rows, values: values)
    }

    func hex(_ value: UInt32) -> String { String(value, radix: 16) }
}
