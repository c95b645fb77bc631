import PolicyDiagnostics

/// A `//` comment, kept for tools that read comments (lint suppressions).
public struct SourceComment: Equatable, Sendable {
    /// The text after the `//`, up to the end of the line (without the line terminator).
    public var text: String
    /// Where the `//` is.
    public var location: SourceLocation
    /// Where the first token after the comment starts (the end-of-file position if none follows):
    /// the declaration a comment stands before starts there.
    public var nextTokenLocation: SourceLocation

    public init(text: String, location: SourceLocation, nextTokenLocation: SourceLocation) {
        self.text = text
        self.location = location
        self.nextTokenLocation = nextTokenLocation
    }
}

/// The source extent of one declaration: a unit, an item of a unit, or a transition of a machine.
public struct SyntaxSpan: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case unit, item, transition
    }

    public var kind: Kind
    /// The first token (`protocol`, `key`, the source state of a transition).
    public var start: SourceLocation
    /// The last token (the closing `;` or `}`).
    public var end: SourceLocation
    /// How the declaration reads in a message: `protocol 'vbd'`, `key 'be/mode'`, `transition`.
    public var summary: String

    public init(kind: Kind, start: SourceLocation, end: SourceLocation, summary: String) {
        self.kind = kind
        self.start = start
        self.end = end
        self.summary = summary
    }

    /// Whether `location` lies within the declaration (same file, between its first and last token).
    public func contains(_ location: SourceLocation) -> Bool {
        location.file == start.file && start <= location && location <= end
    }
}

/// What a parse keeps beside the syntax tree: the comments and where each declaration starts and ends.
public struct SourceTrivia: Sendable {
    /// Every `//` comment, in source order.
    public var comments: [SourceComment]
    /// Units, items and transitions that parsed, in the order they ended.
    public var spans: [SyntaxSpan]

    public init(comments: [SourceComment] = [], spans: [SyntaxSpan] = []) {
        self.comments = comments
        self.spans = spans
    }
}

extension Item {
    /// How the item reads in a message: its keyword and name.
    public var summary: String {
        switch self {
        case .parameters: "params"
        case .role(let role): "role '\(role.name.name)'"
        case .typeAlias(let name, _): "type '\(name.name)'"
        case .enumeration(let declaration): "enum '\(declaration.name.name)'"
        case .directory(let declaration): "dir '\(declaration.name.name)'"
        case .key(let declaration): "key '\(declaration.key)'"
        case .predicate(let declaration): "pred '\(declaration.name.name)'"
        case .machine(let declaration): "machine '\(declaration.key)'"
        case .guarantee(let declaration): "guarantee '\(declaration.name.name)'"
        case .expectation: "expect"
        case .option(let name, _): "option '\(name.name)'"
        case .labels(let binding): "labels '\(binding.role.name)'"
        }
    }
}
