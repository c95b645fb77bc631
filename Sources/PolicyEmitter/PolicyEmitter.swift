import PolicyModel

/// The output of compiling a checked policy for one target.
public struct CompiledPolicy: Sendable {
    /// The blob's content with matrices in whichever form the target's numbering produced: dense
    /// for the secpol targets (small by nature), sparse for Xen 3.2+ where a 10,000-label policy's
    /// dense matrices would be as large as the blob itself.
    private let content: Content
    public var map: LabelMap
    /// The blob bytes.
    public var blob: [UInt8]

    enum Content: Sendable {
        case dense(BinaryPolicy)
        case sparse(SparseBinaryPolicy)
    }

    init(content: Content, map: LabelMap, blob: [UInt8]) {
        self.content = content
        self.map = map
        self.blob = blob
    }

    /// The blob's content with dense matrices, built on demand for the sparse targets.
    public var binary: BinaryPolicy {
        switch content {
        case .dense(let binary): binary
        case .sparse(let sparse): sparse.dense
        }
    }

    /// The `.map` text, with the given paths on its file lines (they are informational).
    public func mapText(policyFile: String, binaryFile: String) -> String {
        String(decoding: mapBytes(policyFile: policyFile, binaryFile: binaryFile), as: UTF8.self)
    }

    /// The `.map` file's bytes, with the given paths on its file lines.
    public func mapBytes(policyFile: String, binaryFile: String) -> [UInt8] {
        var map = map
        map.policyFile = policyFile
        map.binaryFile = binaryFile
        return MapWriter.bytes(map)
    }
}

/// Numbers labels and types the way each target's historical compiler did and encodes the blob.
public enum PolicyEmitter {
    /// Compiles a checked policy. The checker has already refused what the target cannot express.
    public static func compile(_ policy: Policy, for target: Target) -> CompiledPolicy {
        if target.usesXendNumbering {
            let (sparse, map) = XendAssignment(policy: policy, target: target).compileSparse()
            return CompiledPolicy(content: .sparse(sparse), map: map, blob: BlobEncoder.encode(sparse))
        }
        let (binary, map) = SecpolAssignment(policy: policy, target: target).compile()
        return CompiledPolicy(content: .dense(binary), map: map, blob: BlobEncoder.encode(binary))
    }
}
