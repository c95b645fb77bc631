import PolicyLint
import Testing

/// The configuration file format and the resolution of rule selections.
@Suite struct ConfigurationTests {
    func parse(_ text: String) throws(ConfigurationError) -> LintConfiguration {
        try LintConfiguration.parse(Array(text.utf8), file: "lint.json")
    }

    @Test func parsesEveryKey() throws {
        let configuration = try parse(
            """
            {
              "enable": ["vm-label-without-chinese-wall-type"],
              "disable": ["identical-label-types", "unused-type"],
              "severity": {"duplicate-conflict-set-name": "warning", "unused-type": "info"},
              "fail-level": "error"
            }
            """)
        #expect(configuration.enable == ["vm-label-without-chinese-wall-type"])
        #expect(configuration.disable == ["identical-label-types", "unused-type"])
        #expect(configuration.severity == ["duplicate-conflict-set-name": .warning, "unused-type": .info])
        #expect(configuration.failLevel == .error)
        #expect(try parse("{}") == LintConfiguration())
    }

    @Test(arguments: [
        ("[]", "expected a JSON object"),
        (#"{"disabled": []}"#, "unknown key 'disabled'"),
        (#"{"disable": "unused-type"}"#, "must be an array"),
        (#"{"fail-level": "fatal"}"#, "'fail-level' must be"),
        (#"{"severity": {"unused-type": 2}}"#, "the severity of 'unused-type'"),
        (#"{"disable": [}"#, "lint.json:1:14: invalid JSON"),
        ("{\"enable\": [\"a\"]} x", "unexpected text after the JSON value"),
    ])
    func rejects(_ text: String, _ expected: String) {
        #expect {
            _ = try parse(text)
        } throws: { error in
            (error as? ConfigurationError)?.message.contains(expected) == true
        }
    }

    @Test func unknownRulesAreErrorsWithSuggestions() {
        #expect {
            _ = try RuleSelection(configuration: LintConfiguration(disable: ["unused-types"]), configurationName: "'lint.json'")
        } throws: { error in
            (error as? ConfigurationError)?.message
                == "'lint.json' names an unknown rule 'unused-types'; did you mean 'unused-type'? (see 'xen-policy lint --list-rules')"
        }
        #expect(throws: ConfigurationError.self) { try RuleSelection(configuration: LintConfiguration(), enable: ["nope"]) }
        #expect(throws: ConfigurationError.self) {
            try RuleSelection(configuration: LintConfiguration(severity: ["nope": .error]))
        }
    }

    @Test func enablingAndDisablingOneRuleInOnePlaceIsAnError() {
        #expect(throws: ConfigurationError.self) {
            try RuleSelection(configuration: LintConfiguration(), enable: ["unused-type"], disable: ["unused-type"])
        }
    }

    @Test func defaultsEnableAllButOptInRules() {
        let selection = RuleSelection()
        for rule in RuleRegistry.descriptions {
            #expect(selection.isEnabled(rule.id) == rule.isEnabledByDefault, "\(rule.id)")
        }
        #expect(RuleRegistry.descriptions.contains { !$0.isEnabledByDefault })
    }
}
