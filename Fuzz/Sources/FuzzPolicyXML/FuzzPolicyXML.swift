import FuzzSupport
import PolicyChecker
import PolicyEmitter
import PolicyModel
import PolicyReader
import PolicyTools
import XenPolicyKit

/// Bytes -> the policy XML reader (libxml2, XSD validation) with each generation's schema -> the
/// policy checker for each target of that generation -> for a policy that checks, the blob it
/// compiles to, decoded again and decompiled with its map.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var documents: [ACMSchema: XMLDocument?] = [:]
    for target in [Target.xen41, .xen32, .xen31, .xen304, .xen302] {
        let schema = PolicyCompiler.schema(for: target)
        if documents[schema] == nil {
            let reader = XMLReader(computesMinidomDigest: target == .xen41)
            documents[schema] = .some(reader.read(bytes: bytes, path: "fuzz.xml", schema: schema).document)
        }
        guard let document = documents[schema] ?? nil else { continue }
        let (policy, diagnostics) = PolicyChecker(target: target).check(policy: document)
        FuzzSupport.blackHole(diagnostics.count)
        guard let policy else { continue }
        let compiled = PolicyEmitter.compile(policy, for: target)
        let decoded = BlobDecoder.decode(compiled.blob, file: "fuzz.bin")
        if let binary = decoded.policy {
            FuzzSupport.blackHole(Decompiler.decompile(binary, map: compiled.map, file: "fuzz.bin").0?.policyXML.count)
        }
    }
    return 0
}
