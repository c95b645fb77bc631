/// Constants of the `.xsrt` format (docs/rule-table.md), shared by the encoder, decoder and dumper.
public enum RuleTableFormat {
    /// `"XSRT"` at offset 0.
    public static let magic: [UInt8] = [0x58, 0x53, 0x52, 0x54]
    /// The only format version this code reads and writes.
    public static let version: UInt16 = 3
    /// Header: magic, version, flags, length, checksum, section count.
    public static let headerSize = 20
    /// A section directory entry: id, offset, length (three `u32`).
    public static let directoryEntrySize = 12
    /// Byte offset of the CRC-32 field in the header.
    static let checksumOffset = 12
    /// More sections than this cannot be a table of this format family.
    public static let maximumSections = 256
    /// Directory templates may expand (alternatives times segments) to at most this many path-index
    /// visits, so that verifying the path index is bounded however the templates are written.
    public static let maximumPathExpansion = 1 << 20
    /// A protocol has at most 32 roles (role masks are 32 bits).
    public static let maximumRoles = 32

    /// Header flag bits.
    public enum Flag {
        /// The table was compiled against an ACM policy: the ADMISSION section is present.
        public static let admission: UInt16 = 1
        public static let known: UInt16 = admission
    }

    /// Section identifiers.
    public enum Section: UInt32, CaseIterable, Sendable {
        case strings = 1
        case protocols = 2
        case code = 3
        case keys = 4
        case machines = 5
        case guarantees = 6
        case expectations = 7
        case turns = 8
        case paths = 9
        case admission = 10

        public var name: String {
            switch self {
            case .strings: "STRINGS"
            case .protocols: "PROTOCOLS"
            case .code: "CODE"
            case .keys: "KEYS"
            case .machines: "MACHINES"
            case .guarantees: "GUARANTEES"
            case .expectations: "EXPECTATIONS"
            case .turns: "TURNS"
            case .paths: "PATHS"
            case .admission: "ADMISSION"
            }
        }

        /// Every section but ADMISSION must be present.
        public var isRequired: Bool { self != .admission }
    }

    /// Bytecode opcodes (one byte, then the operands).
    enum Opcode: UInt8 {
        case pushFalse = 0x01
        case pushTrue = 0x02
        case integer = 0x03
        case string = 0x04
        case parameter = 0x05
        case value = 0x06
        case present = 0x07
        case number = 0x08
        case numberWithDefault = 0x09
        case state = 0x0A
        case seen = 0x0B
        case makeSet = 0x0C
        case member = 0x0D
        case inRange = 0x0E
        case not = 0x0F
        case powerOfTwo = 0x10
        case store = 0x11
        case load = 0x12
        case jump = 0x13
        case jumpIfFalse = 0x14
        case pop = 0x15
        /// `0x20 + BinaryOperation.rawValue`, up to `0x2A`.
        case binaryBase = 0x20
    }

    /// CRC-32 (IEEE 802.3, as zlib's `crc32`) of `bytes`, with the header's checksum field read as zeros.
    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        bytes.withUnsafeBufferPointer { buffer in
            for index in buffer.indices {
                let byte = index >= checksumOffset && index < checksumOffset + 4 ? 0 : buffer[index]
                crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 != 0 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }
}
