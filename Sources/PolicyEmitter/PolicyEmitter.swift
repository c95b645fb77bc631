import PolicyModel

/// The output of compiling a checked policy for one target.
public struct CompiledPolicy: Sendable {
    public var binary: BinaryPolicy
    public var map: LabelMap
    /// The blob bytes.
    public var blob: [UInt8]

    /// The `.map` text, with the given paths on its file lines (they are informational).
    public func mapText(policyFile: String, binaryFile: String) -> String {
        var map = map
        map.policyFile = policyFile
        map.binaryFile = binaryFile
        return MapWriter.render(map)
    }
}

/// Numbers labels and types the way each target's historical compiler did and encodes the blob.
public enum PolicyEmitter {
    /// Compiles a checked policy. The checker has already refused what the target cannot express.
    public static func compile(_ policy: Policy, for target: Target) -> CompiledPolicy {
        let (binary, map) =
            target.usesXendNumbering
            ? XendAssignment(policy: policy, target: target).compile()
            : SecpolAssignment(policy: policy, target: target).compile()
        return CompiledPolicy(binary: binary, map: map, blob: BlobEncoder.encode(binary))
    }
}
