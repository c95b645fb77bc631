import PolicyDiagnostics
import RuleTable

/// `inspect` of xenstore rule tables (`.xsrt`): detect the magic, decode, and render.
public struct RuleTablePipeline: Sendable {
    /// Tables of real protocols are kilobytes; the bound keeps a hostile input from exhausting memory.
    public static let maximumTableSize = 256 << 20

    public init() {}

    /// A decoded table with its header and directory.
    public struct Loaded: Sendable {
        public var file: String
        public var diagnostics: [Diagnostic]
        public var layout: RuleTableLayout?
        public var table: CompiledRuleTable?
        /// `.inputError` when the table is malformed.
        public var status: ExitStatus

        /// The dump, when the table decoded: text, or JSON carrying the diagnostics too.
        public func report(json: Bool) -> String? {
            guard let layout, let table else { return nil }
            let dumper = RuleTableDumper(file: file, layout: layout, table: table)
            return json ? dumper.json(diagnostics: diagnostics).rendered() : dumper.text()
        }
    }

    /// Decodes `path` when it starts with the rule table magic; nil when it does not (or cannot be
    /// read), so that the caller treats it as an ACM policy blob and reports as before.
    public func loadIfRuleTable(path: String) -> Loaded? {
        guard let bytes = try? InputFile.read(path, limit: Self.maximumTableSize), RuleTableDecoder.hasMagic(bytes) else { return nil }
        let result = RuleTableDecoder.decodeWithLayout(bytes, file: path)
        return Loaded(
            file: path, diagnostics: result.diagnostics, layout: result.layout, table: result.table,
            status: result.table == nil ? .inputError : .success)
    }
}
