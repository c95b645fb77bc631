import PolicyDiagnostics

/// The lint configuration file (`.xen-policy-lint.json`):
///
/// ```json
/// {
///   "disable": ["identical-label-types"],
///   "enable": ["vm-label-without-chinese-wall-type"],
///   "severity": { "duplicate-conflict-set-name": "warning" },
///   "fail-level": "error"
/// }
/// ```
///
/// Every key is optional; unknown keys and rule IDs are errors, so a typo cannot silently turn a rule off.
public struct LintConfiguration: Equatable, Sendable {
    /// The file `xen-policy lint` reads from the current directory when `--config` is not given.
    public static let defaultFileName = ".xen-policy-lint.json"

    public var enable: [String]
    public var disable: [String]
    public var severity: [String: LintSeverity]
    public var failLevel: LintSeverity?

    public init(enable: [String] = [], disable: [String] = [], severity: [String: LintSeverity] = [:], failLevel: LintSeverity? = nil) {
        self.enable = enable
        self.disable = disable
        self.severity = severity
        self.failLevel = failLevel
    }

    /// Parses the JSON text of a configuration file.
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigurationError) -> LintConfiguration {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw ConfigurationError("\(file):\(error.line):\(error.column): invalid JSON: \(error.message)")
        }
        guard case .object(let members) = value else { throw ConfigurationError("\(file): expected a JSON object") }
        var configuration = LintConfiguration()
        for (key, member) in members {
            switch key {
            case "enable": configuration.enable = try strings(member, key: key, file: file)
            case "disable": configuration.disable = try strings(member, key: key, file: file)
            case "severity":
                guard case .object(let levels) = member else {
                    throw ConfigurationError("\(file): 'severity' must map rule IDs to \"error\", \"warning\" or \"info\"")
                }
                for (rule, level) in levels {
                    configuration.severity[rule] = try severity(level, what: "the severity of '\(rule)'", file: file)
                }
            case "fail-level": configuration.failLevel = try severity(member, what: "'fail-level'", file: file)
            default:
                throw ConfigurationError(
                    "\(file): unknown key '\(key)' (the keys are \"enable\", \"disable\", \"severity\" and \"fail-level\")")
            }
        }
        return configuration
    }

    private static func strings(_ value: JSONValue, key: String, file: String) throws(ConfigurationError) -> [String] {
        guard case .array(let elements) = value else { throw ConfigurationError("\(file): '\(key)' must be an array of rule IDs") }
        var result: [String] = []
        for element in elements {
            guard case .string(let text) = element else { throw ConfigurationError("\(file): '\(key)' must be an array of rule IDs") }
            result.append(text)
        }
        return result
    }

    private static func severity(_ value: JSONValue, what: String, file: String) throws(ConfigurationError) -> LintSeverity {
        guard case .string(let text) = value, let level = LintSeverity(rawValue: text) else {
            throw ConfigurationError("\(file): \(what) must be \"error\", \"warning\" or \"info\"")
        }
        return level
    }
}

/// A configuration or command-line mistake (exit status 2).
public struct ConfigurationError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// Which rules run, at which severity, and which severity fails the run: the defaults, then the
/// configuration file, then the command line, each overriding the one before.
public struct RuleSelection: Sendable {
    public private(set) var enabled: Set<String>
    public private(set) var severities: [String: LintSeverity]
    /// A finding at or above this severity makes the run exit 1.
    public var failLevel: LintSeverity

    /// Every rule enabled by default at its default severity; fail at warnings.
    public init() {
        enabled = Set(RuleRegistry.descriptions.filter(\.isEnabledByDefault).map(\.id))
        severities = [:]
        failLevel = .warning
    }

    /// Resolves a configuration file and the command line's `--enable`/`--disable`/`--fail-level`.
    public init(
        configuration: LintConfiguration, enable: [String] = [], disable: [String] = [], failLevel: LintSeverity? = nil,
        configurationName: String = "the configuration"
    ) throws(ConfigurationError) {
        self.init()
        try apply(enable: configuration.enable, disable: configuration.disable, source: configurationName)
        for (rule, level) in configuration.severity {
            try Self.validate(rule, source: configurationName)
            severities[rule] = level
        }
        try apply(enable: enable, disable: disable, source: "the command line")
        self.failLevel = failLevel ?? configuration.failLevel ?? .warning
    }

    private mutating func apply(enable: [String], disable: [String], source: String) throws(ConfigurationError) {
        for rule in enable + disable { try Self.validate(rule, source: source) }
        if let both = enable.first(where: disable.contains) {
            throw ConfigurationError("\(source) both enables and disables '\(both)'")
        }
        enabled.formUnion(enable)
        enabled.subtract(disable)
    }

    private static func validate(_ rule: String, source: String) throws(ConfigurationError) {
        guard RuleRegistry.description(of: rule) == nil else { return }
        let hint = RuleRegistry.suggestion(for: rule).map { "; \($0)" } ?? ""
        throw ConfigurationError("\(source) names an unknown rule '\(rule)'\(hint) (see 'xen-policy lint --list-rules')")
    }

    /// Whether the rule runs.
    public func isEnabled(_ rule: String) -> Bool { enabled.contains(rule) }

    /// The severity the rule's findings get.
    public func severity(of rule: RuleDescription) -> LintSeverity { severities[rule.id] ?? rule.defaultSeverity }
}
