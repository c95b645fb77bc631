import PolicyDiagnostics
import ProtocolModel

/// The header and section directory of a table, as `inspect` shows them.
public struct RuleTableLayout: Equatable, Sendable {
    public struct SectionEntry: Equatable, Sendable {
        public var id: UInt32
        public var offset: Int
        public var length: Int

        /// The section's name, or nil for an id this version does not know (skipped).
        public var name: String? { RuleTableFormat.Section(rawValue: id)?.name }
    }

    public var version: UInt16
    public var flags: UInt16
    public var length: Int
    public var checksum: UInt32
    public var sections: [SectionEntry]
}

/// Decodes `.xsrt` tables, refusing malformed ones with diagnostics (E0870-E0888): every offset,
/// count, index, tag and opcode is checked, and every program is verified statically. Linear in
/// the table's size; never traps, whatever the bytes.
public enum RuleTableDecoder {
    /// The outcome of decoding.
    public struct Result: Sendable {
        /// The table, when it has no errors.
        public var table: CompiledRuleTable?
        /// The header and directory, when they could be read.
        public var layout: RuleTableLayout?
        public var diagnostics: [Diagnostic]
    }

    /// At most this many errors are reported before decoding stops.
    public static let errorLimit = 20

    /// Whether `bytes` start with the table magic `XSRT`.
    public static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && Array(bytes[0..<4]) == RuleTableFormat.magic
    }

    /// Decodes `bytes`, read from `file` (named in diagnostics).
    public static func decode(_ bytes: [UInt8], file: String) -> (CompiledRuleTable?, [Diagnostic]) {
        let result = decodeWithLayout(bytes, file: file)
        return (result.table, result.diagnostics)
    }

    /// Decodes `bytes`, keeping the header and directory for dumps.
    public static func decodeWithLayout(_ bytes: [UInt8], file: String) -> Result {
        var decoding = Decoding(bytes: bytes, file: file)
        let table = decoding.run()
        return Result(table: decoding.errorCount == 0 ? table : nil, layout: decoding.layout, diagnostics: decoding.diagnostics)
    }
}

private typealias Section = RuleTableFormat.Section

/// One protocol's names and sizes, for checking the rows that refer to them.
private struct ProtocolContext {
    var name: String
    var parameterCount: Int
    var roleCount: Int
    var directoryCount: Int
    var stateValues: Set<Int>
    var programs: [Program] = []
    var keyDirectories: [Int] = []
}

private struct Decoding {
    let bytes: [UInt8]
    let file: String
    var diagnostics: [Diagnostic] = []
    var errorCount = 0
    var layout: RuleTableLayout?
    var sections: [Section: (start: Int, end: Int)] = [:]
    var strings: [String] = []
    var contexts: [ProtocolContext] = []

    /// Thrown once the error limit is reached (the diagnostics are already recorded).
    static let stop = DecodeFailure(code: "", message: "")

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    mutating func record(_ code: String, _ message: String) {
        errorCount += 1
        diagnostics.append(.error(DiagnosticCode(rawValue: code), message, at: SourceLocation(file: file)))
    }

    /// Records an error about a value that was read correctly, so decoding can go on.
    mutating func invalid(_ code: String, _ message: String, _ reader: TableReader, at offset: Int) throws(DecodeFailure) {
        record(code, "\(reader.section) section, byte \(offset): \(message)")
        if errorCount >= RuleTableDecoder.errorLimit { throw Self.stop }
    }

    mutating func run() -> CompiledRuleTable? {
        do {
            return try decode()
        } catch {
            if !error.code.isEmpty { record(error.code, error.message) }
            return nil
        }
    }

    func u16(_ offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }

    func u32(_ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    }

    // MARK: - Header and directory

    mutating func header() throws(DecodeFailure) {
        if bytes.count >= 4, !RuleTableDecoder.hasMagic(bytes) {
            throw DecodeFailure(code: "E0871", message: "not a rule table: no magic 'XSRT' at offset 0")
        }
        guard bytes.count >= RuleTableFormat.headerSize else {
            throw DecodeFailure(
                code: "E0870", message: "the table is \(bytes.count) bytes, shorter than the \(RuleTableFormat.headerSize)-byte header")
        }
        let version = u16(4)
        guard version == RuleTableFormat.version else {
            throw DecodeFailure(
                code: "E0872",
                message:
                    "unsupported rule table format version \(version) (this tool reads version \(RuleTableFormat.version));"
                    + " compile the protocol descriptions again with this xen-policyc")
        }
        let flags = u16(6)
        let length = Int(u32(8))
        let checksum = u32(12)
        let sectionCount = Int(u32(16))
        layout = RuleTableLayout(version: version, flags: flags, length: length, checksum: checksum, sections: [])
        guard flags & ~RuleTableFormat.Flag.known == 0 else {
            throw DecodeFailure(code: "E0873", message: "unknown header flags 0x\(String(flags, radix: 16)) (known: 0x1, admission)")
        }
        guard length == bytes.count else {
            throw DecodeFailure(
                code: "E0870",
                message: "the header says the table is \(length) bytes but it is \(bytes.count) bytes (truncated or trailing data)")
        }
        let computed = RuleTableFormat.checksum(bytes)
        guard computed == checksum else {
            throw DecodeFailure(
                code: "E0874",
                message: "checksum mismatch: the header says 0x\(hex(checksum)), the bytes give 0x\(hex(computed)); the table is damaged")
        }
        guard sectionCount <= RuleTableFormat.maximumSections,
            sectionCount <= (bytes.count - RuleTableFormat.headerSize) / RuleTableFormat.directoryEntrySize
        else {
            throw DecodeFailure(
                code: "E0875",
                message:
                    "\(sectionCount) sections do not fit the section directory of a \(bytes.count)-byte table (at most \(RuleTableFormat.maximumSections))"
            )
        }
        let dataStart = RuleTableFormat.headerSize + RuleTableFormat.directoryEntrySize * sectionCount
        var entries: [RuleTableLayout.SectionEntry] = []
        var previousEnd = dataStart
        var seen: Set<UInt32> = []
        for index in 0..<sectionCount {
            let base = RuleTableFormat.headerSize + RuleTableFormat.directoryEntrySize * index
            let entry = RuleTableLayout.SectionEntry(id: u32(base), offset: Int(u32(base + 4)), length: Int(u32(base + 8)))
            entries.append(entry)
            layout?.sections = entries
            let sectionName = entry.name ?? "section \(entry.id)"
            guard seen.insert(entry.id).inserted else {
                throw DecodeFailure(
                    code: "E0875", message: "section id \(entry.id) (\(sectionName)) appears twice in the section directory")
            }
            guard entry.offset >= dataStart, entry.offset + entry.length <= bytes.count else {
                throw DecodeFailure(
                    code: "E0875",
                    message:
                        "\(sectionName) (offset \(entry.offset), length \(entry.length)) lies outside the table's data (bytes \(dataStart)..<\(bytes.count))"
                )
            }
            guard entry.offset >= previousEnd else {
                throw DecodeFailure(
                    code: "E0875",
                    message:
                        "\(sectionName) at offset \(entry.offset) overlaps the section before it (which ends at \(previousEnd)); sections must be in offset order"
                )
            }
            previousEnd = entry.offset + entry.length
            if let section = Section(rawValue: entry.id) {
                sections[section] = (entry.offset, entry.offset + entry.length)
            } else {
                diagnostics.append(
                    .warning(
                        "W0870", "unknown section id \(entry.id) (\(entry.length) bytes at offset \(entry.offset)) skipped",
                        at: SourceLocation(file: file), hint: "written by a newer compiler; this tool ignores it"))
            }
        }
        let missing = Section.allCases.filter { $0.isRequired && sections[$0] == nil }
        guard missing.isEmpty else {
            throw DecodeFailure(
                code: "E0876", message: "required section(s) missing: \(missing.map(\.name).joined(separator: ", "))")
        }
        let hasAdmission = sections[.admission] != nil
        guard hasAdmission == (flags & RuleTableFormat.Flag.admission != 0) else {
            throw DecodeFailure(
                code: "E0873",
                message: hasAdmission
                    ? "the table has an ADMISSION section but the header's admission flag is clear"
                    : "the header's admission flag is set but the table has no ADMISSION section")
        }
    }

    func reader(_ section: Section) -> TableReader {
        let range = sections[section] ?? (0, 0)
        return TableReader(bytes: bytes, start: range.start, end: range.end, section: section.name)
    }

    func finish(_ reader: TableReader) throws(DecodeFailure) {
        guard reader.isAtEnd else {
            throw reader.failure("E0877", "\(reader.remaining) trailing bytes after the section's content")
        }
    }

    // MARK: - Shared field readers

    mutating func string(_ reader: inout TableReader, _ what: @autoclosure () -> String) throws(DecodeFailure) -> String {
        let at = reader.position
        let index = try reader.uleb(what())
        guard index < strings.count else {
            try invalid("E0880", "\(what()): string \(index) is out of range (the table has \(strings.count) strings)", reader, at: at)
            return ""
        }
        return strings[index]
    }

    mutating func optionalString(_ reader: inout TableReader, _ what: @autoclosure () -> String) throws(DecodeFailure) -> String? {
        let at = reader.position
        let index = try reader.uleb(what())
        guard index > 0 else { return nil }
        guard index - 1 < strings.count else {
            try invalid("E0880", "\(what()): string \(index - 1) is out of range (the table has \(strings.count) strings)", reader, at: at)
            return ""
        }
        return strings[index - 1]
    }

    /// A uleb index that must be below `count`.
    mutating func index(_ reader: inout TableReader, below count: Int, _ what: @autoclosure () -> String, of things: String)
        throws(DecodeFailure) -> Int
    {
        let at = reader.position
        let value = try reader.uleb(what())
        if value >= count { try invalid("E0881", "\(what()) \(value) is out of range (\(count) \(things))", reader, at: at) }
        return value
    }

    mutating func origin(_ reader: inout TableReader, _ what: @autoclosure () -> String) throws(DecodeFailure) -> Origin {
        let file = try string(&reader, "\(what()): origin file")
        let line = try reader.uleb("\(what()): origin line")
        let column = try reader.uleb("\(what()): origin column")
        return Origin(file: file, line: line, column: column)
    }

    mutating func roleMask(_ reader: inout TableReader, _ context: ProtocolContext, _ what: @autoclosure () -> String) throws(DecodeFailure)
        -> RoleMask
    {
        let at = reader.position
        let raw = try reader.uleb32(what())
        if context.roleCount < 32, raw >> UInt32(context.roleCount) != 0 {
            let highest = 31 - raw.leadingZeroBitCount
            try invalid(
                "E0881", "\(what()) names role \(highest) but protocol '\(context.name)' has \(context.roleCount) roles", reader, at: at)
        }
        return RoleMask(rawValue: raw)
    }

    mutating func state(_ reader: inout TableReader, _ context: ProtocolContext, _ what: @autoclosure () -> String) throws(DecodeFailure)
        -> Int
    {
        let at = reader.position
        let value = try reader.sleb(what())
        if !context.stateValues.contains(value) {
            try invalid("E0888", "\(what()) \(value) is not a state of protocol '\(context.name)'", reader, at: at)
        }
        return value
    }

    mutating func program(_ reader: inout TableReader, _ context: ProtocolContext, _ what: @autoclosure () -> String) throws(DecodeFailure)
        -> Program
    {
        let at = reader.position
        let index = try reader.uleb(what())
        guard index < context.programs.count else {
            try invalid(
                "E0881", "\(what()): program \(index) is out of range (protocol '\(context.name)' has \(context.programs.count) programs)",
                reader, at: at)
            return Program(instructions: [], localCount: 0)
        }
        return context.programs[index]
    }

    mutating func blame(_ reader: inout TableReader, _ context: ProtocolContext, _ what: @autoclosure () -> String) throws(DecodeFailure)
        -> Blame
    {
        let at = reader.position
        let value = try reader.uleb("\(what()): blame")
        switch value {
        case 0: return .writer
        case 1: return .turn
        default:
            if value - 2 >= context.roleCount {
                try invalid(
                    "E0881",
                    "\(what()): blamed role \(value - 2) is out of range (protocol '\(context.name)' has \(context.roleCount) roles)",
                    reader, at: at)
            }
            return .role(value - 2)
        }
    }

    /// A key pattern; index parts must name slots below `slots`.
    mutating func keyPattern(_ reader: inout TableReader, _ context: ProtocolContext, slots: Int, _ what: @autoclosure () -> String)
        throws(DecodeFailure)
        -> KeyPattern
    {
        let directory = try index(&reader, below: context.directoryCount, "\(what()): directory", of: "directories")
        let segmentCount = try reader.count("key segments", minimumSize: 1)
        var segments: [[KeyPattern.Part]] = []
        for _ in 0..<segmentCount {
            let partCount = try reader.count("key segment parts", minimumSize: 2)
            var parts: [KeyPattern.Part] = []
            for _ in 0..<partCount {
                let at = reader.position
                switch try reader.u8("a key part tag") {
                case 0:
                    parts.append(.literal(try string(&reader, "\(what()): literal")))
                case 1:
                    let slotAt = reader.position
                    let slot = try reader.uleb("\(what()): index slot")
                    if slot >= slots {
                        try invalid("E0886", "\(what()): index slot \(slot) is beyond the \(slots) local slot(s)", reader, at: slotAt)
                    }
                    parts.append(.index(slot: slot, name: try string(&reader, "\(what()): index name")))
                case let tag:
                    throw reader.failure("E0882", "\(what()): invalid key part tag \(tag) (0 literal, 1 index)", at: at)
                }
            }
            segments.append(parts)
        }
        return KeyPattern(directory: directory, segments: segments)
    }

    // MARK: - Sections

    mutating func decode() throws(DecodeFailure) -> CompiledRuleTable? {
        try header()
        try decodeStrings()
        var definitions = try decodeProtocols()
        try decodeCode()
        try decodeKeys(&definitions)
        try decodeMachines(&definitions)
        try decodeGuarantees(&definitions)
        try decodeExpectations(&definitions)
        try decodeTurns(&definitions)
        let index = try decodePaths()
        var table: CompiledRuleTable? = nil
        if errorCount == 0 {
            table = try verifyPaths(index, definitions)
        }
        let (policyName, admissions) = try decodeAdmission()
        guard errorCount == 0, var table else { return nil }
        table.policyName = policyName
        table.admissions = admissions
        return table
    }

    mutating func decodeStrings() throws(DecodeFailure) {
        var reader = reader(.strings)
        let count = try reader.count("strings", minimumSize: 1)
        strings.reserveCapacity(count)
        for number in 0..<count {
            let length = try reader.count("bytes of string \(number)", minimumSize: 1)
            let at = reader.position
            let utf8 = try reader.raw(length, "string \(number)")
            if let string = String(validating: utf8, as: UTF8.self) {
                strings.append(string)
            } else {
                try invalid("E0880", "string \(number) is not valid UTF-8", reader, at: at)
                strings.append("")
            }
        }
        try finish(reader)
    }

    mutating func decodeProtocols() throws(DecodeFailure) -> [ProtocolDefinition] {
        var reader = reader(.protocols)
        let count = try reader.count("protocols", minimumSize: 10)
        var definitions: [ProtocolDefinition] = []
        for number in 0..<count {
            let name = try string(&reader, "protocol \(number): name")
            let what = { "protocol '\(name)'" }
            let origin = try origin(&reader, what())
            let parameterCount = try reader.count("parameters", minimumSize: 1)
            var parameters: [String] = []
            for _ in 0..<parameterCount { parameters.append(try string(&reader, "\(what()): parameter name")) }
            let unknownAt = reader.position
            let unknownKeys: UnknownKeyPolicy
            switch try reader.u8("the unknown-keys policy") {
            case 0: unknownKeys = .audit
            case 1: unknownKeys = .deny
            case 2: unknownKeys = .allow
            case let value:
                try invalid("E0882", "\(what()): invalid unknown-keys policy \(value) (0 audit, 1 deny, 2 allow)", reader, at: unknownAt)
                unknownKeys = .audit
            }
            let roleAt = reader.position
            let roleCount = try reader.count("roles", minimumSize: 3)
            if roleCount > RuleTableFormat.maximumRoles {
                try invalid(
                    "E0881", "\(what()) has \(roleCount) roles; at most \(RuleTableFormat.maximumRoles) are allowed", reader, at: roleAt)
            }
            var roles: [Role] = []
            for _ in 0..<roleCount {
                let roleName = try string(&reader, "\(what()): role name")
                let principalAt = reader.position
                let principalValue = try reader.uleb("\(what()): role '\(roleName)': principal")
                let principal: Role.Principal = principalValue == 0 ? .privileged : .parameter(principalValue - 1)
                if principalValue > parameterCount {
                    try invalid(
                        "E0881",
                        "\(what()): role '\(roleName)': parameter \(principalValue - 1) is out of range (\(parameterCount) parameters)",
                        reader, at: principalAt)
                }
                let aliasAt = reader.position
                let aliasValue = try reader.uleb("\(what()): role '\(roleName)': alias")
                if aliasValue > roleCount {
                    try invalid(
                        "E0881", "\(what()): role '\(roleName)' is an alias of role \(aliasValue - 1), out of range (\(roleCount) roles)",
                        reader, at: aliasAt)
                }
                roles.append(Role(name: roleName, principal: principal, aliasOf: aliasValue == 0 ? nil : aliasValue - 1))
            }
            let stateCount = try reader.count("states", minimumSize: 2)
            var states: [State] = []
            for _ in 0..<stateCount {
                let stateName = try string(&reader, "\(what()): state name")
                states.append(State(name: stateName, value: try reader.sleb("\(what()): state '\(stateName)': value")))
            }
            let directoryCount = try reader.count("directories", minimumSize: 7)
            var directories: [Directory] = []
            for _ in 0..<directoryCount {
                let directoryName = try string(&reader, "\(what()): directory name")
                let label = { "\(what()): directory '\(directoryName)'" }
                let directoryOrigin = try self.origin(&reader, label())
                let owner = try index(&reader, below: roleCount, "\(label()): owner role", of: "roles")
                let readerCount = try reader.count("directory readers", minimumSize: 1)
                var readers: [Int] = []
                for _ in 0..<readerCount { readers.append(try index(&reader, below: roleCount, "\(label()): reader role", of: "roles")) }
                let segmentCount = try reader.count("template segments", minimumSize: 2)
                var segments: [Directory.Segment] = []
                for _ in 0..<segmentCount {
                    let at = reader.position
                    switch try reader.u8("a template segment tag") {
                    case 0:
                        segments.append(.literal(try string(&reader, "\(label()): literal segment")))
                    case 1:
                        segments.append(.parameter(try index(&reader, below: parameterCount, "\(label()): parameter", of: "parameters")))
                    case 2:
                        let alternativeCount = try reader.count("alternatives", minimumSize: 1)
                        var names: [String] = []
                        for _ in 0..<alternativeCount { names.append(try string(&reader, "\(label()): alternative")) }
                        segments.append(.alternatives(names))
                    case let tag:
                        throw reader.failure(
                            "E0882", "\(label()): invalid segment tag \(tag) (0 literal, 1 parameter, 2 alternatives)", at: at)
                    }
                }
                let directory = Directory(name: directoryName, segments: segments, owner: owner, readers: readers, origin: directoryOrigin)
                guard directory.variableSegmentCount <= Directory.maximumVariableSegments else {
                    throw reader.failure(
                        "E0889",
                        "\(label()): the template has \(directory.variableSegmentCount) variable segments, more than the \(Directory.maximumVariableSegments) a directory may have",
                        at: reader.position)
                }
                directories.append(directory)
            }
            let bindingCount = try reader.count("label bindings", minimumSize: 2)
            var labels: [RoleLabels] = []
            for _ in 0..<bindingCount {
                let role = try index(&reader, below: roleCount, "\(what()): labels role", of: "roles")
                // A label is a string index and an origin (file, line, column): at least 4 bytes.
                let labelCount = try reader.count("labels", minimumSize: 4)
                var names: [String] = []
                var origins: [Origin] = []
                for _ in 0..<labelCount {
                    names.append(try string(&reader, "\(what()): label"))
                    origins.append(try self.origin(&reader, "\(what()): label '\(names[names.count - 1])'"))
                }
                labels.append(RoleLabels(role: role, labels: names, origins: origins))
            }
            definitions.append(
                ProtocolDefinition(
                    name: name, origin: origin, parameters: parameters, roles: roles, states: states, directories: directories,
                    keys: [], machines: [], guarantees: [], expectations: [], unknownKeys: unknownKeys, labels: labels, turns: []))
            contexts.append(
                ProtocolContext(
                    name: name, parameterCount: parameterCount, roleCount: roleCount, directoryCount: directoryCount,
                    stateValues: Set(states.map(\.value))))
        }
        try finish(reader)
        return definitions
    }

    mutating func decodeCode() throws(DecodeFailure) {
        var reader = reader(.code)
        for protocolIndex in contexts.indices {
            let context = contexts[protocolIndex]
            let count = try reader.count("programs", minimumSize: 3)
            var programs: [Program] = []
            for number in 0..<count {
                let what = { "protocol '\(context.name)': program \(number)" }
                let start = reader.position
                let localCount = try reader.uleb("\(what()): local count")
                let declaredDepth = try reader.uleb("\(what()): maximum stack depth")
                let instructionCount = try reader.count("instructions", minimumSize: 1)
                var instructions: [Instruction] = []
                instructions.reserveCapacity(instructionCount)
                for position in 0..<instructionCount {
                    instructions.append(
                        try instruction(&reader, context, localCount: localCount, "\(what()), instruction \(position)"))
                }
                let program = Program(instructions: instructions, localCount: localCount)
                switch ProgramAnalysis.maximumStackDepth(program) {
                case .failure(let problem):
                    try invalid(problem.code, "\(what()): \(problem.message)", reader, at: start)
                case .success(let depth) where depth != declaredDepth:
                    try invalid(
                        "E0885", "\(what()) declares a maximum stack depth of \(declaredDepth) but reaches \(depth)", reader, at: start)
                case .success:
                    break
                }
                programs.append(program)
            }
            contexts[protocolIndex].programs = programs
        }
        try finish(reader)
    }

    mutating func instruction(_ reader: inout TableReader, _ context: ProtocolContext, localCount: Int, _ what: @autoclosure () -> String)
        throws(DecodeFailure) -> Instruction
    {
        typealias Op = RuleTableFormat.Opcode
        let at = reader.position
        let byte = try reader.u8("an opcode")
        if byte >= Op.binaryBase.rawValue, let operation = BinaryOperation(rawValue: byte - Op.binaryBase.rawValue) {
            return .binary(operation)
        }
        guard let opcode = Op(rawValue: byte), opcode != .binaryBase else {
            throw reader.failure("E0883", "\(what()): invalid opcode 0x\(String(byte, radix: 16))", at: at)
        }
        switch opcode {
        case .pushFalse: return .boolean(false)
        case .pushTrue: return .boolean(true)
        case .integer: return .integer(try reader.sleb128("\(what()): integer"))
        case .string: return .string(try string(&reader, "\(what()): string"))
        case .parameter:
            return .parameter(try index(&reader, below: context.parameterCount, "\(what()): parameter", of: "parameters"))
        case .value: return .value(try keyPattern(&reader, context, slots: localCount, what()))
        case .present: return .present(try keyPattern(&reader, context, slots: localCount, what()))
        case .number: return .number(try keyPattern(&reader, context, slots: localCount, what()), hasDefault: false)
        case .numberWithDefault: return .number(try keyPattern(&reader, context, slots: localCount, what()), hasDefault: true)
        case .state:
            return .state(directory: try index(&reader, below: context.directoryCount, "\(what()): directory", of: "directories"))
        case .seen:
            let directory = try index(&reader, below: context.directoryCount, "\(what()): directory", of: "directories")
            return .seen(directory: directory, state: try state(&reader, context, "\(what()): state"))
        case .makeSet: return .makeSet(count: try reader.uleb("\(what()): set size"))
        case .member: return .member
        case .inRange: return .inRange
        case .not: return .not
        case .powerOfTwo: return .powerOfTwo
        case .store: return .store(slot: try localSlot(&reader, localCount: localCount, what()))
        case .load: return .load(slot: try localSlot(&reader, localCount: localCount, what()))
        case .jump: return .jump(try reader.uleb("\(what()): jump target"))
        case .jumpIfFalse: return .jumpIfFalse(try reader.uleb("\(what()): jump target"))
        case .pop: return .pop
        case .binaryBase: throw reader.failure("E0883", "\(what()): invalid opcode 0x\(String(byte, radix: 16))", at: at)
        }
    }

    mutating func localSlot(_ reader: inout TableReader, localCount: Int, _ what: @autoclosure () -> String) throws(DecodeFailure) -> Int {
        let at = reader.position
        let value = try reader.uleb("\(what()): slot")
        if value >= localCount {
            try invalid("E0886", "\(what()): local slot \(value) is beyond the program's \(localCount) local slot(s)", reader, at: at)
        }
        return value
    }

    mutating func decodeKeys(_ definitions: inout [ProtocolDefinition]) throws(DecodeFailure) {
        var reader = reader(.keys)
        for protocolIndex in contexts.indices {
            let context = contexts[protocolIndex]
            let count = try reader.count("keys", minimumSize: 10)
            var keys: [Key] = []
            for number in 0..<count {
                let what = { "protocol '\(context.name)': key \(number)" }
                let flagsAt = reader.position
                let flags = try reader.u8("key flags")
                if flags & ~0x7F != 0 {
                    try invalid(
                        "E0882", "\(what()): reserved key flag bits 0x\(String(flags & ~0x7F, radix: 16)) are set", reader, at: flagsAt)
                }
                let patternAt = reader.position
                let pattern = try keyPattern(&reader, context, slots: Int.max, what())
                let typeAt = reader.position
                let type: ValueType
                switch try reader.u8("a value type tag") {
                case 0:
                    let lower = try reader.sleb128("\(what()): lower bound")
                    type = .unsigned(lower: lower, upper: try reader.sleb128("\(what()): upper bound"))
                case 1: type = .string(pattern: nil)
                case 2: type = .string(pattern: try string(&reader, "\(what()): pattern"))
                case 3:
                    let literalCount = try reader.count("literal values", minimumSize: 1)
                    var values: [String] = []
                    for _ in 0..<literalCount { values.append(try string(&reader, "\(what()): literal value")) }
                    type = .literals(values)
                case 4: type = .state
                case let tag:
                    throw reader.failure(
                        "E0882", "\(what()): invalid value type tag \(tag) (0 unsigned, 1 string, 2 pattern, 3 literals, 4 state)",
                        at: typeAt)
                }
                let initializers = try roleMask(&reader, context, "\(what()): initialisers")
                let initialValue = flags & 8 != 0 ? try string(&reader, "\(what()): initial value") : nil
                let writers = try roleMask(&reader, context, "\(what()): writers")
                let phase = flags & 2 != 0 ? StateMask(rawValue: try reader.uleb32("\(what()): phase")) : nil
                let indexCount = try reader.count("index variables", minimumSize: 4)
                var indices: [IndexVariable] = []
                for _ in 0..<indexCount {
                    let name = try string(&reader, "\(what()): index variable name")
                    let slot = try index(&reader, below: indexCount, "\(what()): index variable '\(name)': slot", of: "index variables")
                    let lower = try program(&reader, context, "\(what()): lower bound")
                    let upper = try program(&reader, context, "\(what()): upper bound")
                    indices.append(IndexVariable(name: name, slot: slot, lower: lower, upper: upper))
                }
                for parts in pattern.segments {
                    for case .index(let slot, let name) in parts where slot >= indexCount {
                        try invalid(
                            "E0886", "\(what()): index '\(name)' uses slot \(slot) but the key has \(indexCount) index variable(s)",
                            reader, at: patternAt)
                    }
                }
                let condition = flags & 4 != 0 ? try program(&reader, context, "\(what()): condition") : nil
                let defaultValue = flags & 16 != 0 ? try string(&reader, "\(what()): default value") : nil
                let linkAt = reader.position
                let link = flags & 64 != 0 ? try index(&reader, below: context.directoryCount, "\(what()): link", of: "directories") : nil
                if let link, link == pattern.directory || !indices.isEmpty || flags & 1 != 0 {
                    try invalid(
                        "E0888", "\(what()): a link must be one key without index variables naming another directory", reader, at: linkAt)
                }
                let origin = try origin(&reader, what())
                keys.append(
                    Key(
                        pattern: pattern, isState: flags & 1 != 0, type: type, initializers: initializers, initialValue: initialValue,
                        writers: writers, phase: phase, indices: indices, condition: condition, defaultValue: defaultValue,
                        deprecated: flags & 32 != 0, link: link, origin: origin))
            }
            contexts[protocolIndex].keyDirectories = keys.map(\.pattern.directory)
            definitions[protocolIndex].keys = keys
        }
        try finish(reader)
    }

    mutating func decodeMachines(_ definitions: inout [ProtocolDefinition]) throws(DecodeFailure) {
        var reader = reader(.machines)
        for protocolIndex in contexts.indices {
            definitions[protocolIndex].machines = try machines(&reader, contexts[protocolIndex], kind: "machine")
            definitions[protocolIndex].keyMachines = try machines(&reader, contexts[protocolIndex], kind: "key machine")
        }
        try finish(reader)
    }

    /// One protocol's list of machines (directory state machines, then key machines).
    private mutating func machines(_ reader: inout TableReader, _ context: ProtocolContext, kind: String) throws(DecodeFailure)
        -> [Machine]
    {
        // Directory, key, origin (3 bytes at least) and transition count.
        let count = try reader.count("\(kind)s", minimumSize: 6)
        var machines: [Machine] = []
        for number in 0..<count {
            let what = { "protocol '\(context.name)': \(kind) \(number)" }
            let directory = try index(&reader, below: context.directoryCount, "\(what()): directory", of: "directories")
            let keyAt = reader.position
            let key = try index(&reader, below: context.keyDirectories.count, "\(what()): key", of: "keys")
            if key < context.keyDirectories.count, directory < context.directoryCount, context.keyDirectories[key] != directory {
                try invalid("E0888", "\(what()): key \(key) is not in the machine's directory \(directory)", reader, at: keyAt)
            }
            let machineOrigin = try origin(&reader, what())
            let transitionCount = try reader.count("transitions", minimumSize: 7)
            var transitions: [Transition] = []
            for position in 0..<transitionCount {
                let label = { "\(what()), transition \(position)" }
                let flagsAt = reader.position
                let flags = try reader.u8("transition flags")
                if flags & ~0x07 != 0 {
                    try invalid(
                        "E0882", "\(label()): reserved flag bits 0x\(String(flags & ~0x07, radix: 16)) are set", reader, at: flagsAt)
                }
                if kind == "key machine", flags & 2 != 0 {
                    try invalid("E0888", "\(label()): a key machine's transition has an obligation", reader, at: flagsAt)
                }
                let from = StateMask(rawValue: try reader.uleb32("\(label()): source states"))
                let to = try state(&reader, context, "\(label()): target state")
                let by = try roleMask(&reader, context, "\(label()): roles")
                let guardProgram = flags & 1 != 0 ? try program(&reader, context, "\(label()): guard") : nil
                let obligation = flags & 2 != 0 ? try program(&reader, context, "\(label()): obligation") : nil
                let note = flags & 4 != 0 ? try string(&reader, "\(label()): note") : nil
                let origin = try origin(&reader, label())
                transitions.append(
                    Transition(from: from, to: to, by: by, guardProgram: guardProgram, obligation: obligation, note: note, origin: origin))
            }
            machines.append(Machine(directory: directory, key: key, transitions: transitions, origin: machineOrigin))
        }
        return machines
    }

    mutating func decodeGuarantees(_ definitions: inout [ProtocolDefinition]) throws(DecodeFailure) {
        var reader = reader(.guarantees)
        for protocolIndex in contexts.indices {
            let context = contexts[protocolIndex]
            let count = try reader.count("guarantees", minimumSize: 7)
            var guarantees: [Guarantee] = []
            for number in 0..<count {
                let name = try string(&reader, "protocol '\(context.name)': guarantee \(number): name")
                let what = { "protocol '\(context.name)': guarantee '\(name)'" }
                let kindAt = reader.position
                let kind: Guarantee.Kind
                switch try reader.u8("a guarantee kind") {
                case let tag where tag <= 1:
                    let roles = try roleMask(&reader, context, "\(what()): roles")
                    let operationsAt = reader.position
                    let operations = OperationMask(rawValue: try reader.u8("an operation mask"))
                    if operations.rawValue & ~0x3F != 0 {
                        try invalid(
                            "E0882", "\(what()): operation mask 0x\(String(operations.rawValue, radix: 16)) has reserved bits", reader,
                            at: operationsAt)
                    }
                    let pathCount = try reader.count("path patterns", minimumSize: 2)
                    var paths: [PathGlob] = []
                    for _ in 0..<pathCount {
                        let directory = try index(&reader, below: context.directoryCount, "\(what()): path directory", of: "directories")
                        let segmentCount = try reader.count("path pattern segments", minimumSize: 1)
                        var segments: [PathGlob.Segment] = []
                        for _ in 0..<segmentCount {
                            let at = reader.position
                            switch try reader.u8("a path pattern segment tag") {
                            case 0: segments.append(.literal(try string(&reader, "\(what()): path literal")))
                            case 1: segments.append(.any)
                            case 2: segments.append(.anyDepth)
                            case let segmentTag:
                                throw reader.failure(
                                    "E0882", "\(what()): invalid path segment tag \(segmentTag) (0 literal, 1 *, 2 **)", at: at)
                            }
                        }
                        paths.append(PathGlob(directory: directory, segments: segments))
                    }
                    let unless = tag == 1 ? try program(&reader, context, "\(what()): unless") : nil
                    kind = .never(roles: roles, operations: operations, paths: paths, unless: unless)
                case 2:
                    kind = .always(try program(&reader, context, "\(what()): condition"))
                case let tag:
                    throw reader.failure(
                        "E0882", "\(what()): invalid guarantee kind \(tag) (0 never, 1 never-unless, 2 always)", at: kindAt)
                }
                let blame = try blame(&reader, context, what())
                let origin = try origin(&reader, what())
                guarantees.append(Guarantee(name: name, kind: kind, blame: blame, origin: origin))
            }
            definitions[protocolIndex].guarantees = guarantees
        }
        try finish(reader)
    }

    mutating func decodeExpectations(_ definitions: inout [ProtocolDefinition]) throws(DecodeFailure) {
        var reader = reader(.expectations)
        for protocolIndex in contexts.indices {
            let context = contexts[protocolIndex]
            let count = try reader.count("expectations", minimumSize: 8)
            var expectations: [Expectation] = []
            for number in 0..<count {
                let what = { "protocol '\(context.name)': expectation \(number)" }
                let condition = try program(&reader, context, "\(what()): condition")
                let trigger = try program(&reader, context, "\(what()): trigger")
                let milliseconds = try reader.uleb("\(what()): timeout")
                let blame = try blame(&reader, context, what())
                let origin = try origin(&reader, what())
                let summary = try string(&reader, "\(what()): summary")
                expectations.append(
                    Expectation(
                        condition: condition, trigger: trigger, milliseconds: milliseconds, blame: blame, origin: origin, summary: summary))
            }
            definitions[protocolIndex].expectations = expectations
        }
        try finish(reader)
    }

    mutating func decodeTurns(_ definitions: inout [ProtocolDefinition]) throws(DecodeFailure) {
        var reader = reader(.turns)
        for protocolIndex in contexts.indices {
            let context = contexts[protocolIndex]
            let count = try reader.count("turns", minimumSize: 4)
            var turns: [Turn] = []
            // The global states whose fallback row (no condition) has been read: no row may follow it.
            var ended: Set<[Int]> = []
            for number in 0..<count {
                let what = { "protocol '\(context.name)': turn \(number)" }
                let flagsAt = reader.position
                let flags = try reader.u8("turn flags")
                if flags & ~0x01 != 0 {
                    try invalid(
                        "E0882", "\(what()): reserved flag bits 0x\(String(flags & ~0x01, radix: 16)) are set", reader, at: flagsAt)
                }
                let frontend = try state(&reader, context, "\(what()): frontend state")
                let backend = try state(&reader, context, "\(what()): backend state")
                let roles = try roleMask(&reader, context, "\(what()): roles")
                var condition: Turn.Condition? = nil
                if flags & 1 != 0 {
                    let program = try program(&reader, context, "\(what()): condition")
                    condition = Turn.Condition(program: program, text: try string(&reader, "\(what()): condition text"))
                }
                if ended.contains([frontend, backend]) {
                    try invalid(
                        "E0888",
                        "\(what()) follows the row without condition of (\(frontend), \(backend)), which always decides: it is never reached",
                        reader, at: flagsAt)
                }
                if condition == nil { ended.insert([frontend, backend]) }
                turns.append(Turn(frontendState: frontend, backendState: backend, condition: condition, roles: roles))
            }
            definitions[protocolIndex].turns = turns
        }
        try finish(reader)
    }

    mutating func decodePaths() throws(DecodeFailure) -> PathIndex {
        var reader = reader(.paths)
        let countAt = reader.position
        let count = try reader.count("path index nodes", minimumSize: 3)
        if count == 0 { try invalid("E0887", "the path index has no root node", reader, at: countAt) }
        var nodes: [PathIndex.Node] = []
        nodes.reserveCapacity(count)
        for number in 0..<count {
            let what = { "path index node \(number)" }
            var node = PathIndex.Node()
            let entryCount = try reader.count("path index entries", minimumSize: 2)
            for _ in 0..<entryCount {
                let protocolIndex = try index(&reader, below: contexts.count, "\(what()): protocol", of: "protocols")
                // An unknown protocol is reported once; its directory is not checked as well.
                let directoryCount = protocolIndex < contexts.count ? contexts[protocolIndex].directoryCount : Int.max
                let directory = try index(&reader, below: directoryCount, "\(what()): directory", of: "directories")
                node.entries.append(PathIndex.Entry(protocolIndex: protocolIndex, directory: directory))
            }
            let edgeCount = try reader.count("path index edges", minimumSize: 2)
            for _ in 0..<edgeCount {
                let edgeLabel = try string(&reader, "\(what()): edge label")
                let childAt = reader.position
                let child = try reader.uleb("\(what()): child")
                if child <= number || child >= count {
                    try invalid(
                        "E0887", "\(what()): child \(child) must come after its parent and before node \(count)", reader, at: childAt)
                }
                node.literals.append(PathIndex.Edge(label: edgeLabel, child: child))
            }
            let numberAt = reader.position
            let numberChild = try reader.uleb("\(what()): number child")
            if numberChild != 0 {
                if numberChild <= number || numberChild >= count {
                    try invalid(
                        "E0887", "\(what()): number child \(numberChild) must come after its parent and before node \(count)", reader,
                        at: numberAt)
                }
                node.number = numberChild
            }
            nodes.append(node)
        }
        try finish(reader)
        return PathIndex(nodes: nodes)
    }

    /// The stored index must be exactly the one the directory templates compile to.
    mutating func verifyPaths(_ index: PathIndex, _ definitions: [ProtocolDefinition]) throws(DecodeFailure) -> CompiledRuleTable? {
        let reader = reader(.paths)
        let expansion = PathIndex.expansion(of: definitions)
        guard expansion <= RuleTableFormat.maximumPathExpansion else {
            try invalid(
                "E0887",
                "the directory templates expand to \(expansion) path index visits, more than the limit of \(RuleTableFormat.maximumPathExpansion)",
                reader, at: reader.position)
            return nil
        }
        let table = CompiledRuleTable(protocols: definitions)
        guard table.pathIndex != index else { return table }
        let expected = table.pathIndex.nodes
        let first =
            zip(expected, index.nodes).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(expected.count, index.nodes.count)
        try invalid(
            "E0887",
            "the path index does not match the directory templates (first difference at node \(first); \(index.nodes.count) nodes stored, \(expected.count) expected)",
            reader, at: reader.position)
        return nil
    }

    mutating func decodeAdmission() throws(DecodeFailure) -> (String?, [LabelAdmission]) {
        guard sections[.admission] != nil else { return (nil, []) }
        var reader = reader(.admission)
        let policyName = try optionalString(&reader, "policy name")
        // Protocol, two roles, pair count and origin count: at least 5 bytes.
        let count = try reader.count("admission rows", minimumSize: 5)
        var admissions: [LabelAdmission] = []
        var listed = Set<Int>()
        for number in 0..<count {
            let what = { "admission row \(number)" }
            let protocolAt = reader.position
            let protocolIndex = try index(&reader, below: contexts.count, "\(what()): protocol", of: "protocols")
            if !listed.insert(protocolIndex).inserted {
                try invalid("E0888", "\(what()): protocol \(protocolIndex) has more than one admission row", reader, at: protocolAt)
            }
            let roleCount = protocolIndex < contexts.count ? contexts[protocolIndex].roleCount : Int.max
            let frontendRole = try index(&reader, below: roleCount, "\(what()): frontend role", of: "roles")
            let backendRole = try index(&reader, below: roleCount, "\(what()): backend role", of: "roles")
            let pairCount = try reader.count("label pairs", minimumSize: 2)
            var pairs: [LabelAdmission.Pair] = []
            for _ in 0..<pairCount {
                let frontend = try string(&reader, "\(what()): frontend label")
                pairs.append(LabelAdmission.Pair(frontend: frontend, backend: try string(&reader, "\(what()): backend label")))
            }
            // An origin is a string index, a line and a column: at least 3 bytes.
            let originCount = try reader.count("admission origins", minimumSize: 3)
            var origins: [Origin] = []
            for _ in 0..<originCount { origins.append(try origin(&reader, "\(what()): labels line")) }
            admissions.append(
                LabelAdmission(
                    protocolIndex: protocolIndex, frontendRole: frontendRole, backendRole: backendRole, pairs: pairs, origins: origins))
        }
        try finish(reader)
        return (policyName, admissions)
    }

    func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
