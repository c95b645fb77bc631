import PolicyDiagnostics
import ProtocolSyntax

/// Runs the enabled protocol rules over the checked protocols of one input, applies configured
/// severities and the `//` suppressions of every loaded file, and reports the suppression rules'
/// own findings for the input file.
public struct ProtocolLinter: Sendable {
    public var selection: RuleSelection

    public init(selection: RuleSelection = RuleSelection()) {
        self.selection = selection
    }

    /// One loaded `.xpd` file: the input or a library it imports.
    public struct File: Sendable {
        public var path: String
        public var trivia: SourceTrivia

        public init(path: String, trivia: SourceTrivia) {
            self.path = path
            self.trivia = trivia
        }
    }

    /// The findings that remain after suppression, in source order.
    ///
    /// - Parameters:
    ///   - contexts: the protocols the input defines (they may inherit declarations from imported files).
    ///   - files: the input and the files it imports, with their comments.
    ///   - input: the input's path. Only its suppression comments are judged by `invalid-suppression`
    ///     and `unused-suppression` (the imported files' are judged when they are linted); its
    ///     suppressions' use is judged only if it defines a protocol (a library's rules run only
    ///     through the protocols that extend it).
    public func lint(_ contexts: [ProtocolLintContext], files: [File], input: String) -> [Finding] {
        var findings: [Finding] = []
        // Declarations inherited from a library are judged once per protocol that extends it.
        var seen: Set<FindingKey> = []
        for context in contexts {
            for rule in RuleRegistry.protocolRules where selection.isEnabled(rule.description.id) {
                var sink = FindingSink(rule: rule.description)
                rule.check(context, into: &sink)
                for finding in sink.findings where seen.insert(FindingKey(finding)).inserted { findings.append(finding) }
            }
        }
        var suppressions = ProtocolSuppressions(files: files, input: input, judgesUse: !contexts.isEmpty)
        var kept = findings.filter { !suppressions.suppresses($0) }
        let problems = suppressions.problems(selection: selection)
        kept += problems.filter { !suppressions.suppresses($0, countingUse: false) }
        return Self.sorted(PolicyLinter.applyingSeverities(kept, selection: selection))
    }

    /// By location; findings at one location keep the order they were reported in.
    static func sorted(_ findings: [Finding]) -> [Finding] {
        findings.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }
}

/// What makes two findings the same report: rule, place and message (notes may name the protocol).
public struct FindingKey: Hashable, Sendable {
    var rule: String
    var location: SourceLocation
    var message: String

    public init(_ finding: Finding) {
        rule = finding.rule
        location = finding.location
        message = finding.message
    }
}

/// The `// xen-policy-disable` comments of the loaded `.xpd` files, each with the declaration it
/// covers: the unit, item or transition that starts at the first token after it, or the whole file
/// when it stands before the file's first unit.
struct ProtocolSuppressions {
    enum Scope {
        case file(String)
        case span(SyntaxSpan)
        /// Before no declaration (inside an expression, before a `}`): it covers nothing.
        case nothing
    }

    struct Entry {
        var directive: SuppressionDirective
        var comment: SourceComment
        var scope: Scope
        var inInput: Bool
        var used: Set<String> = []

        func covers(_ location: SourceLocation) -> Bool {
            switch scope {
            case .file(let file): location.file == file
            case .span(let span): span.contains(location)
            case .nothing: false
            }
        }
    }

    private var entries: [Entry] = []
    private var entriesOfFile: [String: [Int]] = [:]
    private let judgesUse: Bool

    init(files: [ProtocolLinter.File], input: String, judgesUse: Bool) {
        self.judgesUse = judgesUse
        for file in files {
            let directives = file.trivia.comments.compactMap { comment in
                SuppressionDirective(comment: comment.text).map { ($0, comment) }
            }
            guard !directives.isEmpty else { continue }
            var spansByStart: [SourceLocation: SyntaxSpan] = [:]
            var firstUnit: SourceLocation? = nil
            for span in file.trivia.spans {
                // A unit and its first item never share a first token, nor an item and its first transition.
                if spansByStart[span.start] == nil { spansByStart[span.start] = span }
                if span.kind == .unit, firstUnit.map({ span.start < $0 }) ?? true { firstUnit = span.start }
            }
            for (directive, comment) in directives {
                let scope: Scope
                if firstUnit.map({ comment.nextTokenLocation <= $0 }) ?? true {
                    scope = .file(file.path)
                } else if let span = spansByStart[comment.nextTokenLocation] {
                    scope = .span(span)
                } else {
                    scope = .nothing
                }
                entriesOfFile[file.path, default: []].append(entries.count)
                entries.append(Entry(directive: directive, comment: comment, scope: scope, inInput: file.path == input))
            }
        }
    }

    /// Whether a directive covering the finding's location names the finding's rule.
    mutating func suppresses(_ finding: Finding, countingUse: Bool = true) -> Bool {
        for index in entriesOfFile[finding.location.file] ?? []
        where entries[index].directive.ruleIDs.contains(finding.rule) && entries[index].covers(finding.location) {
            if countingUse { entries[index].used.insert(finding.rule) }
            return true
        }
        return false
    }

    /// `invalid-suppression` and `unused-suppression` findings for the input's directives.
    func problems(selection: RuleSelection) -> [Finding] {
        let records: [SuppressionRecord] = entries.filter(\.inInput).map { entry in
            switch entry.scope {
            case .file:
                return SuppressionRecord(
                    directive: entry.directive, location: entry.comment.location, before: "the file-wide suppression",
                    used: entry.used, judgesUse: judgesUse)
            case .span(let span):
                // Reported at the declaration, like a policy's at the element, so that a directive
                // stacked before the same declaration can excuse it.
                return SuppressionRecord(
                    directive: entry.directive, location: span.start, before: "the suppression before \(span.summary)",
                    used: entry.used, judgesUse: judgesUse)
            case .nothing:
                return SuppressionRecord(
                    directive: entry.directive, location: entry.comment.location, before: "the suppression", used: entry.used,
                    judgesUse: judgesUse,
                    misplaced: "the suppression stands before no declaration, so it suppresses nothing")
            }
        }
        return SuppressionRecord.problems(
            records, subject: .protocolDescription, selection: selection, template: "// xen-policy-disable RULE-ID: reason")
    }
}
