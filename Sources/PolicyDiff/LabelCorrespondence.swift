import PolicyDiagnostics
import PolicyModel

/// How the labels of one kind (VM or resource) of OLD and NEW correspond: by name, or through a
/// `Name/@from` rename in NEW, applied the way xend's update applied it (spec §2.7).
///
/// xend renamed an old label only if the new policy no longer has a label of the old name; a label
/// kept by name wins over a rename. Each old label gets an *identity*, the name it has in NEW's
/// namespace, under which effects are computed.
struct LabelCorrespondence {
    /// Old and new label indices.
    struct Link: Equatable {
        var old: Int
        var new: Int
    }

    let oldLabels: [Label]
    let newLabels: [Label]
    /// Labels with the same name on both sides.
    private(set) var kept: [Link] = []
    /// Effective `from=` renames (including merges).
    private(set) var renamed: [Link] = []
    /// Renames into a name that OLD also has and NEW keeps: both old labels become one.
    private(set) var merged: [Link] = []
    /// Old labels without a counterpart.
    private(set) var removed: [Int] = []
    /// New labels without a counterpart.
    private(set) var added: [Int] = []
    /// For each old label, its name in NEW's namespace; nil for a label merged into another (it is
    /// left out of the effects, which compare with the label kept by name).
    private(set) var oldIdentity: [String?] = []
    /// Problems with the renames as xend's update would see them.
    private(set) var findings: [Diagnostic] = []

    init(old oldLabels: [Label], new newLabels: [Label], kind: String, newFile: String) {
        self.oldLabels = oldLabels
        self.newLabels = newLabels
        let oldByName = Self.firstIndexByName(oldLabels)
        let newByName = Self.firstIndexByName(newLabels)
        var oldPartner = [Int?](repeating: nil, count: oldLabels.count)
        var newPartner = [Int?](repeating: nil, count: newLabels.count)
        var renameSource = [Int?](repeating: nil, count: newLabels.count)
        for (j, label) in newLabels.enumerated() {
            if let i = oldByName[label.name], oldPartner[i] == nil {
                kept.append(Link(old: i, new: j))
                oldPartner[i] = j
                newPartner[j] = i
            }
        }
        var renamedBy: [Int: Int] = [:]
        for (j, label) in newLabels.enumerated() {
            guard let from = label.renamedFrom, from != label.name else { continue }
            let location = label.location ?? SourceLocation(file: newFile)
            if newByName[from] != nil {
                findings.append(
                    .warning(
                        "W0607", "\(kind) label '\(label.name)' is renamed from '\(from)', but the new policy still has a label '\(from)'",
                        at: location,
                        hint: "xend renames only labels that the new policy no longer has; this rename has no effect"))
                continue
            }
            guard let i = oldByName[from] else {
                findings.append(
                    .warning(
                        "W0605", "\(kind) label '\(label.name)' is renamed from '\(from)', which is not a label of the old policy",
                        at: location, hint: "xend refuses the update (XSERR_BAD_LABEL); correct the 'from' name or remove it"))
                continue
            }
            if let earlier = renamedBy[i] {
                findings.append(
                    .warning(
                        "W0608", "\(kind) labels '\(newLabels[earlier].name)' and '\(label.name)' are both renamed from '\(from)'",
                        at: location, hint: "an old label can become only one new label; the first rename is used",
                        notes: newLabels[earlier].location.map { [DiagnosticNote("the first rename", at: $0)] } ?? []))
                continue
            }
            renamedBy[i] = j
            renameSource[j] = i
            let link = Link(old: i, new: j)
            renamed.append(link)
            oldPartner[i] = j
            if newPartner[j] != nil {
                merged.append(link)
                findings.append(
                    .warning(
                        "W0606",
                        "\(kind) labels '\(from)' and '\(label.name)' of the old policy both become '\(label.name)'",
                        at: location,
                        hint: "domains of both would run with one label; effects are compared with the old '\(label.name)'"))
            } else {
                newPartner[j] = i
            }
        }
        removed = oldLabels.indices.filter { oldPartner[$0] == nil }
        added = newLabels.indices.filter { newPartner[$0] == nil && renameSource[$0] == nil }
        oldIdentity = oldLabels.map { $0.name }
        for link in renamed { oldIdentity[link.old] = newLabels[link.new].name }
        for link in merged { oldIdentity[link.old] = nil }
    }

    /// The old label each new label continues (kept by name, else renamed), if any.
    var predecessorOfNew: [Int?] {
        var result = [Int?](repeating: nil, count: newLabels.count)
        for link in renamed where !merged.contains(link) { result[link.new] = link.old }
        for link in kept { result[link.new] = link.old }
        return result
    }

    private static func firstIndexByName(_ labels: [Label]) -> [String: Int] {
        var result: [String: Int] = [:]
        for (index, label) in labels.enumerated() where result[label.name] == nil { result[label.name] = index }
        return result
    }
}
