import PolicyChecker
import PolicyDiagnostics
import PolicyModel
import PolicyReader
import Testing

/// The file name every inline test document is read as.
let testFile = "test.xml"

/// Reads `xml` with the hardened reader (optionally validating it against `schema`); records an issue
/// and throws if it does not read.
func readDocument(
    _ xml: String, path: String = testFile, schema: ACMSchema? = nil, computesMinidomDigest: Bool = false
) throws -> XMLDocument {
    let result = XMLReader(computesMinidomDigest: computesMinidomDigest).read(bytes: Array(xml.utf8), path: path, schema: schema)
    #expect(result.diagnostics.isEmpty, "reading \(path): \(result.diagnostics.map(describe))")
    return try #require(result.document)
}

/// Reads and checks a policy (and, for `xen-3.0.2`, a label template) as the compile pipeline does.
func check(
    _ xml: String, target: Target = .xen41, schema: ACMSchema? = nil, labelTemplate: String? = nil,
    computesMinidomDigest: Bool = false
) throws -> (Policy?, [Diagnostic]) {
    let document = try readDocument(xml, schema: schema, computesMinidomDigest: computesMinidomDigest)
    let template = try labelTemplate.map { try readDocument($0, path: "labels.xml", schema: schema) }
    return PolicyChecker(target: target).check(policy: document, labelTemplate: template)
}

/// Checks an already built tree.
func check(root: XMLElement, target: Target = .xen41) -> (Policy?, [Diagnostic]) {
    PolicyChecker(target: target).check(policy: XMLDocument(file: testFile, root: root))
}

/// `file:line:col: severity: message [code]`, for failure messages.
func describe(_ diagnostic: Diagnostic) -> String {
    "\(diagnostic.location): \(diagnostic.severity.rawValue): \(diagnostic.message) [\(diagnostic.code)]"
}

/// Expects that `diagnostics` is exactly one diagnostic with this code and severity at `line:column`
/// of the test file, and returns it for further checks.
@discardableResult
func expectSingle(
    _ diagnostics: [Diagnostic], _ code: DiagnosticCode, _ severity: Severity, line: Int, column: Int,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) throws -> Diagnostic {
    #expect(diagnostics.count == 1, "expected only \(code), got \(diagnostics.map(describe))", sourceLocation: sourceLocation)
    let diagnostic = try #require(
        diagnostics.first { $0.code == code }, "no \(code) in \(diagnostics.map(describe))", sourceLocation: sourceLocation)
    expect(diagnostic, code, severity, line: line, column: column, sourceLocation: sourceLocation)
    return diagnostic
}

/// Expects one diagnostic's code, severity and location (in the test file).
func expect(
    _ diagnostic: Diagnostic, _ code: DiagnosticCode, _ severity: Severity, line: Int, column: Int,
    file: String = testFile, sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    #expect(diagnostic.code == code, sourceLocation: sourceLocation)
    #expect(diagnostic.severity == severity, "\(describe(diagnostic))", sourceLocation: sourceLocation)
    #expect(
        diagnostic.location == PolicyDiagnostics.SourceLocation(file: file, line: line, column: column),
        "\(describe(diagnostic)) is not at \(file):\(line):\(column)", sourceLocation: sourceLocation)
}

/// Expects a clean check: a policy and no diagnostics at all.
@discardableResult
func expectClean(_ result: (Policy?, [Diagnostic]), sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Policy {
    #expect(result.1.isEmpty, "unexpected \(result.1.map(describe))", sourceLocation: sourceLocation)
    return try #require(result.0, sourceLocation: sourceLocation)
}

/// The path of a file in the package, from this file's location.
func packagePath(_ relative: String, from file: String = #filePath) -> String {
    var components = file.split(separator: "/", omittingEmptySubsequences: false)
    components.removeLast(3)  // Tests/PolicyCheckerTests/CheckerTestSupport.swift
    return (components + [Substring(relative)]).joined(separator: "/")
}

// MARK: - Building trees without XML text

/// Builds `XMLElement`s in the ACM namespace at made-up locations, for documents too large to
/// write as text (65,536 labels).
enum Tree {
    static let location = PolicyDiagnostics.SourceLocation(file: testFile, line: 1, column: 1)

    static func element(
        _ name: String, _ children: [XMLElement] = [], text: String = "", attributes: [String: String] = [:]
    ) -> XMLElement {
        XMLElement(
            namespaceURI: PolicyChecker.namespace, localName: name,
            attributes: attributes.map { XMLAttribute(namespaceURI: nil, localName: $0.key, value: $0.value, location: location) },
            children: children, text: text, location: location)
    }

    static func types(_ elementName: String, _ names: [String]) -> XMLElement {
        element(elementName, names.map { element("Type", text: $0) })
    }

    /// A Xen 3.2+ policy with the given types and label counts; VM label 0 is the bootstrap label.
    static func policy(
        steTypes: [String], chineseWallTypes: [String], vmLabels: Int, resourceLabels: Int, conflictSets: Int = 0
    ) -> XMLElement {
        // Conflict set i holds Chinese Wall type i (modulo their number).
        let sets = (0..<conflictSets).map { index in
            element(
                "Conflict", [element("Type", text: chineseWallTypes[index % chineseWallTypes.count])], attributes: ["name": "c\(index)"])
        }
        let vms = (0..<vmLabels).map { index in
            element(
                "VirtualMachineLabel",
                [element("Name", text: "vm\(index)"), types("SimpleTypeEnforcementTypes", [steTypes[0]])])
        }
        let resources = (0..<resourceLabels).map { index in
            element(
                "ResourceLabel", [element("Name", text: "res\(index)"), types("SimpleTypeEnforcementTypes", [steTypes[0]])])
        }
        var template: [XMLElement] = [element("SubjectLabels", vms, attributes: ["bootstrap": "vm0"])]
        if !resources.isEmpty { template.append(element("ObjectLabels", resources)) }
        return element(
            "SecurityPolicyDefinition",
            [
                element("PolicyHeader", [element("PolicyName", text: "big"), element("Version", text: "1.0")]),
                element("SimpleTypeEnforcement", [types("SimpleTypeEnforcementTypes", steTypes)]),
                element(
                    "ChineseWall", [types("ChineseWallTypes", chineseWallTypes)] + (sets.isEmpty ? [] : [element("ConflictSets", sets)])),
                element("SecurityLabelTemplate", template),
            ])
    }
}
