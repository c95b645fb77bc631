import PolicyDiagnostics
import PolicyModel
import PolicyReader

/// Name resolution and type checking of ACM XML: turns read documents into a checked `Policy`,
/// reporting every problem in one pass.
///
/// It makes every check the historical compilers made (duplicate types, undeclared types, bootstrap
/// label, empty names, `:` in names for Xen 3.2+, duplicate label names for Xen 3.3+) and those they missed (duplicate label names before 3.3,
/// two types elements of one kind in a label, whitespace in names, `Version` syntax, counts that
/// overflow the 16-bit ssid and type fields, undeclared conflict set types).
public struct PolicyChecker: Sendable {
    /// The ACM namespace every policy element lives in.
    public static let namespace = "http://www.ibm.com"

    /// The largest blob a policy may compile to, and the largest `inspect`, `decompile` and `diff`
    /// read (`E0116`, `E0002`). Its matrices grow with the product of two counts (labels or conflict
    /// sets times types), so a policy of a few megabytes could otherwise ask for gigabytes: a blob of
    /// more than 4 GiB, whose length its 32-bit header field cannot even state.
    public static let maximumBlobSize = 512 << 20

    public let target: Target

    public init(target: Target) {
        self.target = target
    }

    /// Checks a policy file (and, for `xen-3.0.2`, its label template file).
    ///
    /// - Returns: the checked policy, or nil if any error was found; and all diagnostics.
    public func check(policy document: XMLDocument, labelTemplate: XMLDocument? = nil) -> (Policy?, [Diagnostic]) {
        var run = CheckRun(target: target)
        let policy = run.check(document: document, labelTemplate: labelTemplate)
        return (run.diagnostics.hasErrors ? nil : policy, run.diagnostics.diagnostics)
    }
}

/// The state of one check: diagnostics so far and the names declared.
struct CheckRun {
    let target: Target
    var diagnostics = DiagnosticCollector()
    /// ``PolicyChecker/namespace``; once the root is known to be in it, the root's own copy of the
    /// string, so that comparing each element's namespace with it is an identity test.
    private(set) var ns = PolicyChecker.namespace

    init(target: Target) { self.target = target }

    mutating func check(document: XMLDocument, labelTemplate: XMLDocument?) -> Policy {
        let root = document.root
        if let namespace = root.namespaceURI, namespace == ns { ns = namespace }
        // Below a wrong root nothing is in the ACM namespace; checking on would only add noise.
        var rootsAreRight = expectRoot(root, "SecurityPolicyDefinition", file: document.file)
        if target == .xen302, let labelTemplate, !expectRoot(labelTemplate.root, "SecurityLabelTemplate", file: labelTemplate.file) {
            rootsAreRight = false
        }
        guard rootsAreRight else {
            return Policy(name: nil, simpleTypeEnforcement: nil, chineseWall: nil, bootstrapLabel: nil, vmLabels: [], resourceLabels: [])
        }
        var header = PolicyHeader()
        var name: String? = nil
        if let headerElement = root.child("PolicyHeader", in: ns) {
            if target == .xen302 {
                header.legacyName = headerElement.child("Name", in: ns)?.text
                header.date = headerElement.child("Date", in: ns)?.text
            } else {
                (name, header) = checkHeader(headerElement)
            }
        }
        let ste = root.child("SimpleTypeEnforcement", in: ns).map { component in
            declaredTypes(component.child("SimpleTypeEnforcementTypes", in: ns), component: "SimpleTypeEnforcement", marker: component)
        }
        var chineseWall: ChineseWall? = nil
        if let component = root.child("ChineseWall", in: ns) {
            let types = declaredTypes(component.child("ChineseWallTypes", in: ns), component: "ChineseWall", marker: component)
            let setsElement = component.child("ConflictSets", in: ns)
            let declared = Set(types.types)
            let sets = (setsElement?.children("Conflict", in: ns) ?? []).map {
                conflictSet($0, declared: types.types, declaredSet: declared)
            }
            chineseWall = ChineseWall(types: types, conflictSets: sets, hasConflictSetsElement: setsElement != nil)
        }
        let template: XMLElement?
        if target == .xen302 {
            if let labelTemplate {
                template = labelTemplate.root
                if let labelHeader = labelTemplate.root.child("LabelHeader", in: ns) {
                    let reference = labelHeader.child("PolicyName", in: ns)
                    header.labelTemplate = LabelTemplateHeader(
                        name: labelHeader.child("Name", in: ns)?.text ?? "",
                        date: labelHeader.child("Date", in: ns)?.text ?? "",
                        policyURL: reference?.child("Url", in: ns)?.text ?? "",
                        reference: reference?.child("Reference", in: ns)?.text ?? "")
                }
            } else {
                template = nil
            }
        } else {
            template = root.child("SecurityLabelTemplate", in: ns)
        }
        var policy = Policy(
            name: name, header: header, simpleTypeEnforcement: ste, chineseWall: chineseWall, bootstrapLabel: nil,
            vmLabels: [], resourceLabels: [], xmlDigest: document.minidomDigest)
        if let template {
            checkLabels(template, into: &policy)
        }
        checkBootstrap(policy, template: template, fallback: (template ?? root).location)
        checkCounts(policy, at: root.location)
        checkTargetExpressibility(policy, document: document)
        return policy
    }

    // MARK: - Header

    /// Whether `root` is the expected element; reports E0011 if not.
    mutating func expectRoot(_ root: XMLElement, _ expected: String, file: String) -> Bool {
        guard root.localName != expected || root.namespaceURI != ns else { return true }
        let found = root.namespaceURI.map { "{\($0)}\(root.localName)" } ?? root.localName
        let hint =
            root.localName == "SecurityLabelTemplate"
            ? "this is a label template; give it with --label-template and the policy file as the input"
            : "an ACM policy's root element is <\(expected) xmlns=\"\(ns)\">"
        diagnostics.emit(
            .error("E0011", "expected root element '\(expected)' in namespace '\(ns)', found '\(found)'", at: root.location, hint: hint))
        return false
    }

    mutating func checkHeader(_ element: XMLElement) -> (String?, PolicyHeader) {
        var header = PolicyHeader()
        var name: String? = nil
        if let nameElement = element.child("PolicyName", in: ns) {
            name = nameElement.text
            checkName(nameElement.text, kind: "policy name", at: nameElement.location)
        }
        header.policyURL = element.child("PolicyUrl", in: ns)?.text
        header.reference = element.child("Reference", in: ns)?.text
        header.date = element.child("Date", in: ns)?.text
        header.nameSpaceURL = element.child("NameSpaceUrl", in: ns)?.text
        if let versionElement = element.child("Version", in: ns) {
            header.versionText = versionElement.text
            header.version = parseVersion(versionElement)
        }
        if let from = element.child("FromPolicy", in: ns) {
            let fromName = from.child("PolicyName", in: ns)
            let fromVersion = from.child("Version", in: ns)
            if let fromName {
                checkName(fromName.text, kind: "FromPolicy name", at: fromName.location)
            }
            if let fromName, let fromVersion, let version = parseVersion(fromVersion) {
                header.fromPolicy = PolicyReference(name: fromName.text, version: version, versionText: fromVersion.text)
            }
        }
        return (name, header)
    }

    /// `major.minor`, decimal digits each. The historical XSD's unescaped `.` let any character
    /// through between the numbers; xend then failed in `int()`, so we require the dot. The XSD
    /// bounds each number to 8 digits; without it (library use) E0112 catches what the blob cannot hold.
    mutating func parseVersion(_ element: XMLElement) -> PolicyVersion? {
        let parts = element.text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            diagnostics.emit(
                .error(
                    "E0111", "version '\(element.text)' is not of the form MAJOR.MINOR", at: element.location,
                    hint: "write two decimal numbers of at most 8 digits separated by a dot, e.g. '1.0'"))
            return nil
        }
        guard let major = UInt32(parts[0]), let minor = UInt32(parts[1]) else {
            diagnostics.emit(.error("E0112", "version '\(element.text)' does not fit in two 32-bit numbers", at: element.location))
            return nil
        }
        return PolicyVersion(major: major, minor: minor)
    }

    // MARK: - Names

    /// Empty names, `:` (Xen 3.2+ label strings are `ACM:policy:label`) and whitespace (breaks every `.map` reader).
    mutating func checkName(_ name: String, kind: String, at location: SourceLocation) {
        if name.isEmpty {
            diagnostics.emit(.error("E0107", "empty \(kind)", at: location))
            return
        }
        // Names are almost always ASCII: test their bytes, and leave other names to Character's rules.
        var isASCII = true
        var asciiColon = false
        var asciiWhitespace = false
        for byte in name.utf8 {
            if byte >= 0x80 {
                isASCII = false
                break
            }
            if byte == UInt8(ascii: ":") { asciiColon = true }
            if byte == 0x20 || (0x09...0x0D).contains(byte) { asciiWhitespace = true }
        }
        let hasColon = isASCII ? asciiColon : name.contains(":")
        if target.usesXendNumbering, hasColon {
            diagnostics.emit(
                .error(
                    "E0108", "\(kind) '\(name)' contains ':'", at: location,
                    hint: "Xen 3.2 and later write labels as 'ACM:<policy>:<label>', so names cannot contain ':'"))
        }
        let hasWhitespace = isASCII ? asciiWhitespace : name.contains(where: \.isWhitespace)
        if hasWhitespace {
            diagnostics.emit(
                .warning(
                    "W0101", "\(kind) '\(name)' contains whitespace", at: location,
                    hint: "the .map file is read by splitting on whitespace; such a name cannot be looked up"))
        }
    }

    // MARK: - Types

    mutating func declaredTypes(_ element: XMLElement?, component: String, marker: XMLElement) -> TypeSet {
        guard let element else { return TypeSet(types: []) }
        var types: [String] = []
        var locations: [SourceLocation] = []
        var seen: [String: SourceLocation] = [:]
        for typeElement in element.children("Type", in: ns) {
            let name = typeElement.text
            checkName(name, kind: "type name", at: typeElement.location)
            if let first = seen[name] {
                diagnostics.emit(
                    .error(
                        "E0101", "\(component) type '\(name)' is declared more than once", at: typeElement.location,
                        notes: [DiagnosticNote("first declared here", at: first)]))
                continue
            }
            seen[name] = typeElement.location
            types.append(name)
            locations.append(typeElement.location)
        }
        let primary = marker.attribute("priority")?.value == "PrimaryPolicyComponent"
        return TypeSet(types: types, locations: locations, markedPrimary: primary)
    }

    mutating func conflictSet(_ element: XMLElement, declared: [String], declaredSet: Set<String>) -> ConflictSet {
        let nameAttribute = element.attribute("name")
        if target.usesXendNumbering, let nameAttribute, nameAttribute.value.isEmpty {
            diagnostics.emit(.error("E0114", "conflict set has an empty name", at: nameAttribute.location))
        }
        var types: [String] = []
        var seen: Set<String> = []
        for typeElement in element.children("Type", in: ns) {
            let name = typeElement.text
            if !declaredSet.contains(name) {
                diagnostics.emit(
                    .error(
                        "E0103", "conflict set type '\(name)' is not a declared ChineseWall type", at: typeElement.location,
                        hint: NameSuggestion.hint(for: name, in: declared)
                            ?? "Xen 3.2+'s compiler silently dropped such types, leaving the conflict set weaker than written"))
            }
            if !seen.insert(name).inserted {
                diagnostics.emit(.error("E0104", "type '\(name)' appears twice in one conflict set", at: typeElement.location))
                continue
            }
            types.append(name)
        }
        return ConflictSet(name: nameAttribute?.value, types: types, location: element.location)
    }

    // MARK: - Labels

    mutating func checkLabels(_ template: XMLElement, into policy: inout Policy) {
        let subjects = template.child("SubjectLabels", in: ns)
        if let bootstrap = subjects?.attribute("bootstrap") {
            policy.bootstrapLabel = bootstrap.value
        }
        // Each component's declared types, as an array (for suggestions) and a set, built once.
        let declared = DeclaredTypes(
            simpleTypeEnforcement: policy.simpleTypeEnforcement.map { ($0.types, Set($0.types)) },
            chineseWall: policy.chineseWall.map { ($0.types.types, Set($0.types.types)) })
        var vmNames: [String: SourceLocation] = [:]
        for element in subjects?.children ?? [] where element.isNamed("VirtualMachineLabel", in: ns) {
            if let label = label(element, kind: .virtualMachine, declared: declared, seen: &vmNames) {
                policy.vmLabels.append(label)
            }
        }
        var resourceNames: [String: SourceLocation] = [:]
        for element in template.child("ObjectLabels", in: ns)?.children ?? [] where element.isNamed("ResourceLabel", in: ns) {
            if let label = label(element, kind: .resource, declared: declared, seen: &resourceNames) {
                policy.resourceLabels.append(label)
            }
        }
    }

    /// The declared types of each component that a label's types are checked against.
    struct DeclaredTypes {
        var simpleTypeEnforcement: (list: [String], set: Set<String>)?
        var chineseWall: (list: [String], set: Set<String>)?
    }

    mutating func label(
        _ element: XMLElement, kind: Label.Kind, declared: DeclaredTypes, seen: inout [String: SourceLocation]
    ) -> Label? {
        let what = kind == .virtualMachine ? "VM label" : "resource label"
        guard let nameElement = element.child("Name", in: ns) else {
            diagnostics.emit(.error("E0107", "\(what) has no name", at: element.location))
            return nil
        }
        let name = nameElement.text
        checkName(name, kind: kind == .virtualMachine ? "VM label name" : "resource label name", at: nameElement.location)
        if let first = seen[name] {
            diagnostics.emit(
                .error(
                    "E0109", "\(what) '\(name)' is defined more than once", at: nameElement.location,
                    hint: "the historical compilers numbered both and tools looking the name up found either",
                    notes: [DiagnosticNote("first defined here", at: first)]))
        } else {
            seen[name] = nameElement.location
        }
        var renamedFrom: String? = nil
        if let from = nameElement.attribute("from") {
            checkName(from.value, kind: "'from' label name", at: from.location)
            renamedFrom = from.value
        }
        // One pass finds each component's first types element and whether there are more.
        var ste: (first: XMLElement?, more: Bool) = (nil, false)
        var chineseWall: (first: XMLElement?, more: Bool) = (nil, false)
        for child in element.children where child.namespaceURI == ns {
            if child.localName == "SimpleTypeEnforcementTypes" {
                if ste.first == nil { ste.first = child } else { ste.more = true }
            } else if child.localName == "ChineseWallTypes" {
                if chineseWall.first == nil { chineseWall.first = child } else { chineseWall.more = true }
            }
        }
        let steTypes = typesOfLabel(
            element, "SimpleTypeEnforcementTypes", first: ste.first, more: ste.more, labelName: name,
            declared: declared.simpleTypeEnforcement, component: "SimpleTypeEnforcement")
        let chineseWallTypes = typesOfLabel(
            element, "ChineseWallTypes", first: chineseWall.first, more: chineseWall.more, labelName: name,
            declared: declared.chineseWall, component: "ChineseWall")
        return Label(
            kind: kind, name: name, renamedFrom: renamedFrom, steTypes: steTypes, chineseWallTypes: chineseWallTypes,
            location: element.location)
    }

    /// The types a label lists for one component, or nil without a types element. `first` is the
    /// label's first `elementName` child, `more` whether it has others (E0110; their types count too).
    mutating func typesOfLabel(
        _ element: XMLElement, _ elementName: String, first: XMLElement?, more: Bool, labelName: String,
        declared: (list: [String], set: Set<String>)?, component: String
    ) -> [String]? {
        guard let first else { return nil }
        var groups: [XMLElement] = []
        if more {
            groups = element.children.filter { $0.isNamed(elementName, in: ns) }
            for extra in groups.dropFirst() {
                diagnostics.emit(
                    .error(
                        "E0110", "label '\(labelName)' has more than one \(elementName) element", at: extra.location,
                        hint: "list all its types in one element; Xen 3.0.x made a second label of it and xend ignored it",
                        notes: [DiagnosticNote("first one here", at: first.location)]))
            }
        }
        var types: [String] = []
        types.reserveCapacity(first.children.count)
        // The distinct names in `types`; a label lists a handful of types, so a set is built only
        // for long lists (such as a bootstrap label with every type).
        var seen: Set<String>? = nil
        for group in more ? groups : [] {
            for typeElement in group.children where typeElement.isNamed("Type", in: ns) {
                checkLabelType(
                    typeElement, labelName: labelName, declared: declared, component: component, seen: &seen, into: &types)
            }
        }
        if !more {
            for typeElement in first.children where typeElement.isNamed("Type", in: ns) {
                checkLabelType(
                    typeElement, labelName: labelName, declared: declared, component: component, seen: &seen, into: &types)
            }
        }
        return types
    }

    /// One `Type` of a label: E0107 for an empty name (before Xen 3.2), E0102 for an undeclared one,
    /// W0102 for a repetition; appended to `types` unless refused.
    mutating func checkLabelType(
        _ typeElement: XMLElement, labelName: String, declared: (list: [String], set: Set<String>)?, component: String,
        seen: inout Set<String>?, into types: inout [String]
    ) {
        let name = typeElement.text
        if name.isEmpty {
            // xend skipped `<Type/>`: its DEFAULT policy writes `<ChineseWallTypes><Type/></ChineseWallTypes>`
            // for "no type". secpol_xml2bin rejected it.
            if !target.usesXendNumbering {
                diagnostics.emit(.error("E0107", "empty type name in label '\(labelName)'", at: typeElement.location))
            }
            return
        }
        guard let declared else {
            diagnostics.emit(
                .error(
                    "E0102", "label '\(labelName)' uses \(component) type '\(name)' but the policy has no \(component) component",
                    at: typeElement.location))
            return
        }
        guard declared.set.contains(name) else {
            diagnostics.emit(
                .error(
                    "E0102", "type '\(name)' in label '\(labelName)' is not a declared \(component) type",
                    at: typeElement.location, hint: NameSuggestion.hint(for: name, in: declared.list)))
            return
        }
        let listedBefore: Bool
        if seen != nil {
            listedBefore = !seen!.insert(name).inserted
        } else {
            listedBefore = types.contains(name)
            if types.count >= 16 { seen = Set(types + [name]) }
        }
        if listedBefore {
            diagnostics.emit(.warning("W0102", "type '\(name)' is listed twice in label '\(labelName)'", at: typeElement.location))
        }
        types.append(name)
    }

    // MARK: - Bootstrap

    mutating func checkBootstrap(_ policy: Policy, template: XMLElement?, fallback: SourceLocation) {
        let hasComponent = policy.simpleTypeEnforcement != nil || policy.chineseWall != nil
        let subjects = template?.child("SubjectLabels", in: ns)
        let location = subjects?.attribute("bootstrap")?.location ?? subjects?.location ?? fallback
        guard let bootstrap = policy.bootstrapLabel else {
            if hasComponent || target.usesXendNumbering {
                diagnostics.emit(
                    .error(
                        "E0105", "no bootstrap label is defined", at: location,
                        hint: "add <SubjectLabels bootstrap=\"...\"> naming the VM label Domain-0 runs with"))
            }
            return
        }
        guard let label = policy.vmLabel(named: bootstrap) else {
            let isResource = policy.resourceLabels.contains { $0.name == bootstrap }
            diagnostics.emit(
                .error(
                    "E0106", "bootstrap label '\(bootstrap)' is not a VM label", at: location,
                    hint: isResource
                        ? "'\(bootstrap)' is a resource label; Domain-0 needs a VirtualMachineLabel"
                        : NameSuggestion.hint(for: bootstrap, in: policy.vmLabels.map(\.name))))
            return
        }
        // secpol_xml2bin gives Domain-0 ssid 1 in each component; that needs the bootstrap label
        // to carry the component's types element.
        if !target.usesXendNumbering {
            if policy.simpleTypeEnforcement != nil, label.steTypes == nil {
                diagnostics.emit(
                    .error(
                        "E0115", "bootstrap label '\(bootstrap)' has no SimpleTypeEnforcementTypes", at: label.location ?? location,
                        hint: "\(target) gives Domain-0 ssid 1 of every component, so the bootstrap label needs types in each"))
            }
            if policy.chineseWall != nil, label.chineseWallTypes == nil {
                diagnostics.emit(
                    .error(
                        "E0115", "bootstrap label '\(bootstrap)' has no ChineseWallTypes", at: label.location ?? location,
                        hint: "\(target) gives Domain-0 ssid 1 of every component, so the bootstrap label needs types in each"))
            }
        }
    }

    // MARK: - Limits and target

    /// ssidrefs carry two 16-bit ssids and types are 16-bit indices (0-65535), so neither count may pass 65,536.
    mutating func checkCounts(_ policy: Policy, at location: SourceLocation) {
        let limit = 1 << 16
        for (component, count) in [
            ("SimpleTypeEnforcement", policy.simpleTypeEnforcement?.types.count ?? 0),
            ("ChineseWall", policy.chineseWall?.types.types.count ?? 0),
        ] where count > limit {
            diagnostics.emit(.error("E0113", "\(count) \(component) types exceed the limit of \(limit)", at: location))
        }
        let ssids = 1 + policy.vmLabels.count + policy.resourceLabels.count
        if ssids > limit {
            diagnostics.emit(
                .error(
                    "E0113", "\(ssids) ssids (labels plus the null label) exceed the limit of \(limit) 16-bit ssids",
                    at: location))
        }
        // Conflict sets are rows of a matrix like ssids: no policy needs more, and each costs the tools
        // that read the blob back a name and a line (the decoder refuses more, E0409).
        let conflictSets = policy.chineseWall?.conflictSets.count ?? 0
        if conflictSets > limit {
            diagnostics.emit(.error("E0113", "\(conflictSets) conflict sets exceed the limit of \(limit)", at: location))
        }
        guard !diagnostics.diagnostics.contains(where: { $0.code == "E0113" }) else { return }
        checkMatrixSize(policy, conflictSets: conflictSets, at: location)
    }

    /// E0116 when the blob's matrices would pass ``PolicyChecker/maximumBlobSize``: checked before
    /// the emitter allocates them. Each is rows x types u16 cells: the Chinese Wall conflict sets,
    /// and the ssid matrices, counted at their largest (a row for the null label and each label that
    /// any target gives one: VM labels in Chinese Wall, all labels in STE).
    mutating func checkMatrixSize(_ policy: Policy, conflictSets: Int, at location: SourceLocation) {
        let chineseWallTypes = policy.chineseWall?.types.types.count ?? 0
        let steTypes = policy.simpleTypeEnforcement?.types.count ?? 0
        let conflictBytes = 2 * conflictSets * chineseWallTypes
        let chineseWallSsidBytes = policy.chineseWall == nil ? 0 : 2 * (1 + policy.vmLabels.count) * chineseWallTypes
        let steSsidBytes = 2 * (1 + policy.vmLabels.count + policy.resourceLabels.count) * steTypes
        let total = conflictBytes + chineseWallSsidBytes + steSsidBytes
        let limit = PolicyChecker.maximumBlobSize
        guard total > limit else { return }
        let largest =
            conflictBytes >= max(chineseWallSsidBytes, steSsidBytes)
            ? "\(conflictSets) conflict sets x \(chineseWallTypes) ChineseWall types take \(conflictBytes)"
            : chineseWallSsidBytes >= steSsidBytes
                ? "\(1 + policy.vmLabels.count) ssids x \(chineseWallTypes) ChineseWall types take \(chineseWallSsidBytes)"
                : "\(1 + policy.vmLabels.count + policy.resourceLabels.count) ssids x \(steTypes) SimpleTypeEnforcement types "
                    + "take \(steSsidBytes)"
        diagnostics.emit(
            .error(
                "E0116", "the policy's matrices would take \(total) bytes, more than the limit of \(limit) for a blob (\(largest))",
                at: location,
                hint: "each matrix has a 16-bit cell for every row (ssid or conflict set) and type; no real policy comes near"))
    }

    mutating func checkTargetExpressibility(_ policy: Policy, document: XMLDocument) {
        if target.usesXendNumbering, (policy.chineseWall?.types.types.isEmpty ?? true) {
            diagnostics.emit(
                .error(
                    "E0303", "\(target) needs a ChineseWall component with at least one type", at: document.root.location,
                    hint: "the Xen 3.2+ hypervisor only loads Chinese Wall + STE policies; xend emitted an unloadable blob "
                        + "for STE-only policies. Add <ChineseWall><ChineseWallTypes><Type>SystemManagement</Type>... "
                        + "or use --target xen-3.1"))
        }
        if target == .xen41, policy.xmlDigest != nil, !document.minidomIsASCII {
            diagnostics.emit(
                .warning(
                    "W0301", "the policy contains non-ASCII characters; xend could not hash it", at: document.root.location,
                    hint: "the blob carries the SHA-1 of the UTF-8 serialization, which xend 4.1 never produced"))
        }
    }
}
