/// A `<!-- xen-policy-disable ID[, ID…]: reason -->` comment, parsed.
///
/// It stands immediately before an element (only other comments and whitespace between) and
/// suppresses the named rules' findings at that element and everything inside it; before the root
/// element, in the whole file.
public struct SuppressionDirective: Equatable, Sendable {
    /// The word that starts a directive.
    public static let keyword = "xen-policy-disable"

    public var ruleIDs: [String]
    /// The justification after the `:`, or nil if none was given.
    public var reason: String?

    /// Parses a comment's text; nil if it is not a directive at all.
    public init?(comment: String) {
        let text = comment.trimmingWhitespace()
        guard text.hasPrefix(Self.keyword) else { return nil }
        let rest = text.dropFirst(Self.keyword.count)
        // `xen-policy-disabled` or `xen-policy-disable-foo` are other words, not directives.
        guard rest.isEmpty || rest.first!.isWhitespace else { return nil }
        let idsPart: Substring
        if let colon = rest.firstIndex(of: ":") {
            idsPart = rest[..<colon]
            let reason = String(rest[rest.index(after: colon)...]).trimmingWhitespace()
            self.reason = reason.isEmpty ? nil : reason
        } else {
            idsPart = rest
            self.reason = nil
        }
        ruleIDs = idsPart.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }
}

extension String {
    /// The string without leading and trailing whitespace (Foundation-free).
    func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else {
            return ""
        }
        return String(self[first...last])
    }
}
