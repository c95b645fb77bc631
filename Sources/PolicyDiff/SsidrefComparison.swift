import PolicyEmitter
import PolicyModel

/// Which labels compile to a different ssidref for the target: running domains would be relabelled
/// (Xen 3.2+), or keep a number that now means another label (Xen 3.0.x/3.1).
///
/// The numbers come from the emitter's label map, so they are exactly what the compiler writes:
/// the primary component's ssid in the low 16 bits, the secondary's in the high 16 bits
/// (`(ste << 16) | chwall` for Chinese Wall + STE policies; resources have no Chinese Wall half).
struct SsidrefComparison {
    let oldMap: LabelMap
    let newMap: LabelMap

    /// What the numbering of `target` depends on, to compile instead of the whole policy.
    ///
    /// xend (Xen 3.2+) and `secpol_xml2bin` of Xen 3.0.4/3.1 number labels by name, document order
    /// and which types elements a label has, never by the types in them: with every type list
    /// emptied the label map is the same, and the matrices (labels x types, 22 MB for 10,000 labels
    /// and 1,000 types) shrink to nothing. Xen 3.0.2 gives labels with equal type rows one ssid, so
    /// its policies are compiled whole.
    static func numberingSkeleton(of policy: Policy, for target: Target) -> Policy {
        guard target != .xen302 else { return policy }
        var skeleton = policy
        func strip(_ label: Label) -> Label {
            var label = label
            label.steTypes = label.steTypes.map { _ in [] }
            label.chineseWallTypes = label.chineseWallTypes.map { _ in [] }
            return label
        }
        skeleton.simpleTypeEnforcement = policy.simpleTypeEnforcement.map { _ in TypeSet(types: []) }
        skeleton.chineseWall = policy.chineseWall.map { _ in ChineseWall(types: TypeSet(types: []), conflictSets: []) }
        skeleton.vmLabels = policy.vmLabels.map(strip)
        skeleton.resourceLabels = policy.resourceLabels.map(strip)
        skeleton.xmlDigest = nil
        return skeleton
    }

    /// Every label's ssidref, by kind (`VM`, `RES`) and name.
    struct Ssidrefs {
        var byName: [String: [String: UInt32]] = ["VM": [:], "RES": [:]]

        init(_ map: LabelMap) {
            func ssids(_ component: ComponentLabels?) -> [String: [String: Int]] {
                var result: [String: [String: Int]] = ["VM": [:], "RES": [:], "ANY": [:]]
                for entry in component?.entries ?? [] where result[entry.kind]?[entry.name] == nil {
                    result[entry.kind, default: [:]][entry.name] = entry.ssid
                }
                return result
            }
            func component(named name: String) -> ComponentLabels? {
                switch name {
                case "CHWALL": map.chineseWall
                case "STE": map.ste
                default: nil
                }
            }
            let primary = ssids(component(named: map.primary))
            let secondary = ssids(component(named: map.secondary))
            for kind in ["VM", "RES"] {
                var names = Set(primary[kind]!.keys)
                names.formUnion(secondary[kind]!.keys)
                for name in names {
                    // The ssid-0 entry carries the `__UNLABELED__` label's name in xend's maps.
                    let low = primary[kind]![name] ?? primary["ANY"]![name] ?? 0
                    let high = secondary[kind]![name] ?? secondary["ANY"]![name] ?? 0
                    byName[kind]![name] = UInt32(high) << 16 | UInt32(low)
                }
                for (name, ssid) in primary["ANY"]! where byName[kind]![name] == nil {
                    byName[kind]![name] = UInt32(secondary["ANY"]![name] ?? 0) << 16 | UInt32(ssid)
                }
            }
        }

        func ssidref(of label: Label) -> UInt32? {
            byName[label.kind.rawValue]?[label.name]
        }
    }

    /// Changes for the labels that continue from OLD to NEW (kept or renamed).
    func changes(vmLabels: LabelCorrespondence, resourceLabels: LabelCorrespondence) -> [PolicyChange] {
        let old = Ssidrefs(oldMap)
        let new = Ssidrefs(newMap)
        var changes: [PolicyChange] = []
        for labels in [vmLabels, resourceLabels] {
            for link in labels.kept + labels.renamed {
                let before = labels.oldLabels[link.old]
                let after = labels.newLabels[link.new]
                let a = old.ssidref(of: before)
                let b = new.ssidref(of: after)
                guard a != b else { continue }
                changes.append(
                    PolicyChange(
                        .ssidref, .changed, name: after.name, oldName: before.name == after.name ? nil : before.name,
                        labelKind: after.kind.rawValue, oldValue: .ssidref(a), newValue: .ssidref(b), location: after.location))
            }
        }
        return changes
    }
}
