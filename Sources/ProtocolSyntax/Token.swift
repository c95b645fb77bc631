import PolicyDiagnostics

/// A lexical token of the protocol description language (`.xpd`).
public struct Token: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        case identifier(String)
        case integer(Int128)
        case string(String)
        /// `fe.state`: the state key of a directory.
        case stateKey(directory: String)
        /// `fe/ring-ref{i}` or `fe/**`: a path below a directory, segments as written.
        case path(directory: String, segments: [String])
        /// Punctuation and operators, spelled as in the source (`{`, `->`, `<=`, `..`, ...).
        case symbol(String)
        case endOfFile
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// How the token reads in a diagnostic.
    public var spelling: String {
        switch kind {
        case .identifier(let name): "'\(name)'"
        case .integer(let value): "'\(value)'"
        case .string(let value): "string \"\(value)\""
        case .stateKey(let directory): "'\(directory).state'"
        case .path(let directory, let segments): "'\(([directory] + segments).joined(separator: "/"))'"
        case .symbol(let symbol): "'\(symbol)'"
        case .endOfFile: "end of file"
        }
    }
}
