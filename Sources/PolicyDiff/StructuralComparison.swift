import PolicyDiagnostics
import PolicyModel

/// The structural changes between two policies, every category but ssidrefs: header, declared
/// types, conflict sets, labels and the bootstrap label. Order and formatting never count: types
/// are compared as sets, elements are matched by name.
struct StructuralComparison {
    let old: PolicyDiffer.Input
    let new: PolicyDiffer.Input
    let vmLabels: LabelCorrespondence
    let resourceLabels: LabelCorrespondence

    func changes() -> [PolicyChange] {
        var changes = headerChanges()
        changes += typeChanges(
            .steType, old: old.policy.simpleTypeEnforcement, new: new.policy.simpleTypeEnforcement)
        changes += typeChanges(.chineseWallType, old: old.policy.chineseWall?.types, new: new.policy.chineseWall?.types)
        changes += conflictSetChanges()
        changes += labelChanges(.vmLabel, vmLabels)
        changes += labelChanges(.resourceLabel, resourceLabels)
        changes += bootstrapChanges()
        return changes
    }

    // MARK: Header

    func headerChanges() -> [PolicyChange] {
        var changes: [PolicyChange] = []
        func compare(_ field: String, _ a: String?, _ b: String?) {
            guard a != b else { return }
            let kind: PolicyChange.Kind = a == nil ? .added : b == nil ? .removed : .changed
            changes.append(PolicyChange(.header, kind, name: field, oldValue: a.map { .text($0) }, newValue: b.map { .text($0) }))
        }
        compare("name", old.policy.name, new.policy.name)
        // Versions compare as numbers: `1.0` and `1.00` are the same version to xend's ordering.
        if old.policy.header.version != new.policy.header.version {
            compare(
                "version", old.policy.header.versionText ?? old.policy.header.version?.description,
                new.policy.header.versionText ?? new.policy.header.version?.description)
        }
        // A blob does not carry FromPolicy, so it cannot be compared.
        if !old.isBlob && !new.isBlob {
            func reference(_ policy: Policy) -> String? {
                policy.header.fromPolicy.map { "\($0.name) \($0.versionText)" }
            }
            let a = old.policy.header.fromPolicy
            let b = new.policy.header.fromPolicy
            if a?.name != b?.name || a?.version != b?.version {
                compare("from_policy", reference(old.policy), reference(new.policy))
            }
        }
        return changes
    }

    // MARK: Types

    func typeChanges(_ category: PolicyChange.Category, old a: TypeSet?, new b: TypeSet?) -> [PolicyChange] {
        let oldTypes = Set(a?.types ?? [])
        let newTypes = Set(b?.types ?? [])
        var changes: [PolicyChange] = []
        for (index, type) in (a?.types ?? []).enumerated() where !newTypes.contains(type) {
            changes.append(PolicyChange(category, .removed, name: type, location: a?.locations.element(at: index)))
        }
        for (index, type) in (b?.types ?? []).enumerated() where !oldTypes.contains(type) {
            changes.append(PolicyChange(category, .added, name: type, location: b?.locations.element(at: index)))
        }
        return changes
    }

    // MARK: Conflict sets

    /// Conflict sets are matched by name, then unnamed ones (allowed before Xen 3.2) and renamed ones
    /// by their types. Sets decoded from blobs have generated names, so they match by types only.
    func conflictSetChanges() -> [PolicyChange] {
        let oldSets = old.policy.chineseWall?.conflictSets ?? []
        let newSets = new.policy.chineseWall?.conflictSets ?? []
        let ignoresNames = old.isBlob || new.isBlob
        func types(_ set: ConflictSet) -> [String] { sortedUnique(set.types) }
        func name(_ set: ConflictSet) -> String? { ignoresNames ? nil : set.name }
        func display(_ set: ConflictSet) -> String { name(set) ?? "{" + types(set).joined(separator: ", ") + "}" }

        var oldLeft = Array(oldSets.indices)
        var newLeft = Array(newSets.indices)
        var changes: [PolicyChange] = []
        /// Pairs up the remaining sets whose keys are equal, in document order within a key.
        func pair(by key: (ConflictSet) -> String?, _ matched: (Int, Int) -> Void) {
            var oldByKey: [String: [Int]] = [:]
            for i in oldLeft { if let k = key(oldSets[i]) { oldByKey[k, default: []].append(i) } }
            var usedOld: Set<Int> = []
            var usedNew: Set<Int> = []
            for j in newLeft {
                guard let k = key(newSets[j]), var candidates = oldByKey[k], !candidates.isEmpty else { continue }
                let i = candidates.removeFirst()
                oldByKey[k] = candidates
                usedOld.insert(i)
                usedNew.insert(j)
                matched(i, j)
            }
            oldLeft.removeAll { usedOld.contains($0) }
            newLeft.removeAll { usedNew.contains($0) }
        }
        let separator = "\u{0}"
        pair(by: { (name($0) ?? "\u{1}") + separator + types($0).joined(separator: separator) }) { _, _ in }
        pair(by: { name($0) }) { i, j in
            changes.append(
                PolicyChange(
                    .conflictSet, .typesChanged, name: display(newSets[j]), oldValue: .types(types(oldSets[i])),
                    newValue: .types(types(newSets[j])), location: newSets[j].location))
        }
        pair(by: { types($0).joined(separator: separator) }) { i, j in
            guard name(oldSets[i]) != name(newSets[j]) else { return }
            changes.append(
                PolicyChange(
                    .conflictSet, .renamed, name: display(newSets[j]), oldName: display(oldSets[i]),
                    oldValue: .types(types(oldSets[i])), newValue: .types(types(newSets[j])), location: newSets[j].location))
        }
        for i in oldLeft {
            changes.append(
                PolicyChange(
                    .conflictSet, .removed, name: display(oldSets[i]), oldValue: .types(types(oldSets[i])), location: oldSets[i].location))
        }
        for j in newLeft {
            changes.append(
                PolicyChange(
                    .conflictSet, .added, name: display(newSets[j]), newValue: .types(types(newSets[j])), location: newSets[j].location))
        }
        return changes
    }

    // MARK: Labels

    func labelChanges(_ category: PolicyChange.Category, _ labels: LabelCorrespondence) -> [PolicyChange] {
        var changes: [PolicyChange] = []
        let oldLabels = labels.oldLabels
        let newLabels = labels.newLabels
        func typesChanged(_ i: Int, _ j: Int) {
            guard !Self.sameTypes(oldLabels[i], newLabels[j]) else { return }
            changes.append(
                PolicyChange(
                    category, .typesChanged, name: newLabels[j].name, oldValue: Self.types(of: oldLabels[i]),
                    newValue: Self.types(of: newLabels[j]), location: newLabels[j].location))
        }
        for link in labels.kept { typesChanged(link.old, link.new) }
        for link in labels.renamed {
            changes.append(
                PolicyChange(
                    category, .renamed, name: newLabels[link.new].name, oldName: oldLabels[link.old].name,
                    oldValue: Self.types(of: oldLabels[link.old]), newValue: Self.types(of: newLabels[link.new]),
                    location: newLabels[link.new].location))
            if !labels.merged.contains(link) { typesChanged(link.old, link.new) }
        }
        // Look-alike renames: a removed and an added label with the same (non-empty) types.
        var removedBySignature: [String: [Int]] = [:]
        for i in labels.removed {
            if let signature = Self.signature(of: oldLabels[i]) { removedBySignature[signature, default: []].append(i) }
        }
        var lookAlikeOfOld: [Int: Int] = [:]
        var lookAlikeOfNew: [Int: Int] = [:]
        for j in labels.added.sorted(by: { codePointPrecedes(newLabels[$0].name, newLabels[$1].name) }) {
            guard let signature = Self.signature(of: newLabels[j]), var candidates = removedBySignature[signature], !candidates.isEmpty
            else { continue }
            candidates.sort { codePointPrecedes(oldLabels[$0].name, oldLabels[$1].name) }
            let i = candidates.removeFirst()
            removedBySignature[signature] = candidates
            lookAlikeOfOld[i] = j
            lookAlikeOfNew[j] = i
        }
        let declaresRenames = new.generation.hasRenames
        for i in labels.removed {
            changes.append(
                PolicyChange(
                    category, .removed, name: oldLabels[i].name, oldValue: Self.types(of: oldLabels[i]), location: oldLabels[i].location,
                    hint: lookAlikeOfOld[i].map { "the added '\(newLabels[$0].name)' has the same types: a rename?" }))
        }
        for j in labels.added {
            let hint = lookAlikeOfNew[j].map { i in
                let old = oldLabels[i].name
                return declaresRenames
                    ? "same types as the removed '\(old)': if this is a rename, declare it with <Name from=\"\(old)\">"
                    : "same types as the removed '\(old)': a rename?"
            }
            changes.append(
                PolicyChange(
                    category, .added, name: newLabels[j].name, newValue: Self.types(of: newLabels[j]), location: newLabels[j].location,
                    hint: hint))
        }
        return changes
    }

    /// A label's types, sorted, as a change value (resource labels have no Chinese Wall types).
    static func types(of label: Label) -> PolicyChange.Value {
        .labelTypes(
            ste: label.steTypes.map(sortedUnique),
            chineseWall: label.kind == .resource ? nil : label.chineseWallTypes.map(sortedUnique))
    }

    /// Types compare as sets; a missing types element is the same as an empty one here (the
    /// difference matters only for numbering, which the ssidref comparison reports).
    static func sameTypes(_ a: Label, _ b: Label) -> Bool {
        Set(a.steTypes ?? []) == Set(b.steTypes ?? [])
            && (a.kind == .resource || Set(a.chineseWallTypes ?? []) == Set(b.chineseWallTypes ?? []))
    }

    /// A key equal for labels with the same types; nil for labels without types (too weak a hint).
    static func signature(of label: Label) -> String? {
        let ste = sortedUnique(label.steTypes ?? [])
        let chineseWall = label.kind == .resource ? [] : sortedUnique(label.chineseWallTypes ?? [])
        guard !ste.isEmpty || !chineseWall.isEmpty else { return nil }
        return ste.joined(separator: "\u{0}") + "\u{1}" + chineseWall.joined(separator: "\u{0}")
    }

    // MARK: Bootstrap

    func bootstrapChanges() -> [PolicyChange] {
        let oldName = old.policy.bootstrapLabel
        // The old bootstrap label under its name in NEW (a renamed bootstrap label is unchanged).
        let mapped = oldName.map { name in
            vmLabels.oldLabels.firstIndex { $0.name == name }.flatMap { vmLabels.oldIdentity[$0] } ?? name
        }
        let newName = new.policy.bootstrapLabel
        guard mapped != newName else { return [] }
        let location = newName.flatMap { name in new.policy.vmLabels.first { $0.name == name }?.location }
        return [
            PolicyChange(
                .bootstrap, .changed, name: newName ?? oldName ?? "", oldValue: oldName.map { .text($0) },
                newValue: newName.map { .text($0) }, location: location,
                hint: "Domain-0 runs with the bootstrap label, and its STE types bound which domains may run")
        ]
    }
}

/// The distinct names, sorted by code point.
func sortedUnique(_ names: [String]) -> [String] {
    Array(Set(names)).sorted(by: codePointPrecedes)
}

extension Array {
    /// The element at `index`, or nil outside the array.
    func element(at index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
