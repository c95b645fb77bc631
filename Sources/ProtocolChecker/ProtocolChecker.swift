import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax

/// Name resolution, type checking and static analysis of protocol descriptions: turns parsed files
/// into checked `ProtocolDefinition`s, reporting every problem in one pass.
public struct ProtocolChecker: Sendable {
    public init() {}

    /// Checks every `protocol` in `files` (libraries are used through `extends`).
    public func check(_ files: [SourceFile]) -> (definitions: [ProtocolDefinition], diagnostics: [Diagnostic]) {
        let result = checkDetailed(files)
        return (result.definitions, result.diagnostics)
    }

    /// The results of a check with what documentation renderers need beyond the model.
    public struct Result: Sendable {
        public var definitions: [ProtocolDefinition]
        public var diagnostics: [Diagnostic]
        /// Per definition, per machine, per transition: the guard as written.
        public var guardTexts: [[[String?]]]
        /// Per definition: what the static analysis found (reachable states, an evaluator), for lint.
        public var analyses: [ProtocolAnalysisResult] = []
    }

    /// Checks like `check`, also returning the guards' source text.
    ///
    /// - Parameter only: if given, the paths of the files whose protocols are checked and returned;
    ///   protocols of other (imported) files serve only as bases for `extends`.
    public func checkDetailed(_ files: [SourceFile], only: Set<String>? = nil) -> Result {
        var guardTexts: [[[String?]]] = []
        var diagnostics: [Diagnostic] = []
        var units: [String: Unit] = [:]
        var order: [String] = []
        for file in files {
            for unit in file.units {
                if let existing = units[unit.name.name] {
                    diagnostics.append(
                        .error(
                            "E0721", "'\(unit.name.name)' is defined more than once", at: unit.name.location,
                            notes: [DiagnosticNote("first defined here", at: existing.name.location)]))
                    continue
                }
                units[unit.name.name] = unit
                order.append(unit.name.name)
            }
        }
        var definitions: [ProtocolDefinition] = []
        var analyses: [ProtocolAnalysisResult] = []
        for name in order {
            guard let unit = units[name], unit.kind == .protocol else { continue }
            if let only, !only.contains(unit.location.file) { continue }
            guard let chain = inheritanceChain(of: unit, units: units, diagnostics: &diagnostics) else { continue }
            var resolution = Resolution(protocolUnit: unit, items: chain.flatMap(\.items))
            if let definition = resolution.resolve() {
                var analysis = ProtocolAnalysis(definition: definition, syntax: resolution.syntaxIndex)
                definitions.append(analysis.run())
                analyses.append(ProtocolAnalysisResult(analysis: analysis))
                guardTexts.append(resolution.syntaxIndex.guards.map { $0.map { $0.map(ExpressionPrinter.print) } })
                diagnostics += resolution.diagnostics + analysis.diagnostics
            } else {
                diagnostics += resolution.diagnostics
            }
        }
        diagnostics += ProtocolAnalysis.overlappingDirectories(definitions)
        return Result(definitions: definitions, diagnostics: diagnostics, guardTexts: guardTexts, analyses: analyses)
    }

    /// How many units one `extends` chain may hold (real protocols extend one library).
    static let maximumInheritanceDepth = 64

    /// The unit and its ancestors, oldest first.
    private func inheritanceChain(of unit: Unit, units: [String: Unit], diagnostics: inout [Diagnostic]) -> [Unit]? {
        var chain = [unit]
        var current = unit
        while let parent = current.extends {
            guard let next = units[parent.name] else {
                diagnostics.append(
                    .error(
                        "E0722", "'\(unit.name.name)' extends unknown '\(parent.name)'", at: parent.location,
                        hint: NameSuggestion.hint(for: parent.name, in: units.keys) ?? "import the file that defines it"))
                return nil
            }
            guard !chain.contains(where: { $0.name.name == next.name.name }) else {
                diagnostics.append(.error("E0722", "'\(unit.name.name)' extends itself through '\(parent.name)'", at: parent.location))
                return nil
            }
            // Every protocol of a file walks its own chain: unbounded, a file of thousands of
            // protocols each extending the next would take cubic time.
            guard chain.count < Self.maximumInheritanceDepth else {
                diagnostics.append(
                    .error(
                        "E0754",
                        "'\(unit.name.name)' extends a chain of more than \(Self.maximumInheritanceDepth) libraries and protocols",
                        at: unit.extends?.location ?? parent.location, hint: "extend the library directly"))
                return nil
            }
            chain.append(next)
            current = next
        }
        return chain.reversed()
    }
}

extension SourceLocation {
    /// The model's location type.
    var origin: Origin { Origin(file: file, line: line, column: column) }
}
