import CLibXML2

/// Our XSD of each ACM XML generation (`Grammar/acm/`), compiled once per process.
public enum ACMSchema: String, CaseIterable, Sendable {
    /// Xen 3.0.0-3.0.2: policy file and label template file.
    case g1
    /// Xen 3.0.3-3.0.4: one file with `PolicyName`.
    case g2
    /// Xen 3.1: optional `Version` and `FromPolicy`.
    case g3a
    /// Xen 3.2-4.1: required `Version`, `from=` renames, one STE type per resource label.
    case g3b

    /// The XSD text.
    var text: String {
        switch self {
        case .g1: EmbeddedSchemas.g1
        case .g2: EmbeddedSchemas.g2
        case .g3a: EmbeddedSchemas.g3a
        case .g3b: EmbeddedSchemas.g3b
        }
    }

    /// The compiled schema; nil only if our own XSD failed to compile (a build defect, caught by tests).
    var compiled: CompiledSchema? {
        switch self {
        case .g1: compiledG1
        case .g2: compiledG2
        case .g3a: compiledG3a
        case .g3b: compiledG3b
        }
    }
}

/// A parsed `xmlSchema`. libxml2 allows one schema to serve many validation contexts at once;
/// it is never mutated after parsing, which is what makes sharing it across threads sound.
final class CompiledSchema: @unchecked Sendable {
    let pointer: xmlSchemaPtr

    init?(_ text: String) {
        _ = libxml2Initialized
        var bytes = Array(text.utf8)
        guard
            let context = bytes.withUnsafeMutableBufferPointer({ buffer in
                buffer.withMemoryRebound(to: CChar.self) { xmlSchemaNewMemParserCtxt($0.baseAddress, Int32($0.count)) }
            })
        else { return nil }
        defer { xmlSchemaFreeParserCtxt(context) }
        xmlSchemaSetParserStructuredErrors(context, { _, _ in }, nil)
        guard let schema = xmlSchemaParse(context) else { return nil }
        pointer = schema
    }
}

private let compiledG1 = CompiledSchema(ACMSchema.g1.text)
private let compiledG2 = CompiledSchema(ACMSchema.g2.text)
private let compiledG3a = CompiledSchema(ACMSchema.g3a.text)
private let compiledG3b = CompiledSchema(ACMSchema.g3b.text)

/// libxml2's lazy global initialisation is not thread-safe; parallel callers (tests) could deadlock
/// in it. Swift runs a global's initialiser exactly once, so touching this first makes it safe.
let libxml2Initialized: Void = { xmlInitParser() }()
