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
