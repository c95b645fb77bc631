import ProtocolModel
import XenstoreTrace

/// Resolving relative paths to declared keys, and evaluating programs against an instance.
extension ReplayEngine {
    /// The index values of a relative path matching a key pattern, ignoring bounds and condition.
    /// With `knownShape`, the path is known to match (`KeyFacts.shapes`): it is matched once, for the values.
    func structurallyMatches(_ key: CompiledKey, _ relative: Substring, knownShape: Bool = false) -> [Int]? {
        Self.withBytes(relative) { bytes -> [Int]? in
            guard knownShape || key.matcher.match(bytes, values: nil) else { return nil }
            var values = [Int](repeating: -1, count: key.slotCount)
            let matched = values.withUnsafeMutableBufferPointer { key.matcher.match(bytes, values: $0) }
            return matched ? values : nil
        }
    }

    /// Whether a relative path matches a key pattern, ignoring bounds and condition.
    func hasShape(_ key: CompiledKey, _ relative: Substring) -> Bool {
        Self.withBytes(relative) { key.matcher.match($0, values: nil) }
    }

    static func withBytes<Result>(_ text: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// The declared key a relative path is an instance of: its pattern matches, its index variables
    /// are within their bounds and its condition holds. `fixedKey` is the key without index variables
    /// `relative` names when the caller looked it up already (-1: none; -2: not looked up).
    func resolveKey(_ instance: Instance, _ directory: Int, _ relative: Substring, fixedKey: Int = -2, strict: Bool = true) -> (
        Int, [Int]
    )? {
        resolveKeyAndPosition(instance, directory, relative, fixedKey: fixedKey, strict: strict).map { ($0.0, $0.1) }
    }

    /// `resolveKey`, also saying where the key is among the directory's pattern keys (-1: a key
    /// without index variables). `shapes` (`KeyFacts.shapes`, with `fixedKey` -1): the pattern keys
    /// the path has the shape of, when the reading thread worked them out.
    func resolveKeyAndPosition(
        _ instance: Instance, _ directory: Int, _ relative: Substring, fixedKey: Int = -2, shapes: UInt64? = nil, strict: Bool = true
    ) -> (Int, [Int], Int)? {
        let compiled = instance.protocolDefinition
        if let key = fixedKey == -2 ? compiled.fixedKeys[directory][relative] : fixedKey >= 0 ? fixedKey : nil {
            if strict, let condition = compiled.keys[key].condition, !holds(condition, instance) { return nil }
            return (key, [], -1)
        }
        let candidates = compiled.patternKeys[directory]
        for position in candidates.indices {
            if let shapes, position < KeyFacts.maximumPatternKeys, shapes & (1 << UInt64(position)) == 0 { continue }
            let keyIndex = candidates[position]
            let key = compiled.keys[keyIndex]
            guard let values = structurallyMatches(key, relative, knownShape: shapes != nil && position < KeyFacts.maximumPatternKeys)
            else { continue }
            if !strict { return (keyIndex, values, position) }
            var inBounds = true
            for bound in key.bounds {
                guard bound.slot >= 0, bound.slot < values.count else {
                    inBounds = false
                    break
                }
                let value = Int128(values[bound.slot])
                guard let lower = number(bound.lower, instance, presets: values),
                    let upper = number(bound.upper, instance, presets: values),
                    lower <= value, value < upper
                else {
                    inBounds = false
                    break
                }
            }
            guard inBounds else { continue }
            if let condition = key.condition, !holds(condition, instance, presets: values) { continue }
            return (keyIndex, values, position)
        }
        return nil
    }

    // MARK: - Evaluation

    /// Evaluates a boolean program; an evaluation error is reported once per instance and counts as false.
    func holds(_ program: CompiledProgram, _ instance: Instance, presets: [Int] = []) -> Bool {
        switch evaluator.evaluate(program, instance, presets: presets) {
        case .success(let value):
            if let truth = Evaluator.truth(value) { return truth }
            evaluationFailed(program, instance, "the result is not a boolean")
            return false
        case .failure(let error):
            evaluationFailed(program, instance, error.message)
            return false
        }
    }

    func number(_ program: CompiledProgram, _ instance: Instance, presets: [Int]) -> Int128? {
        switch evaluator.evaluate(program, instance, presets: presets) {
        case .success(let value):
            if case .absent = value { return nil }
            if let number = Evaluator.numeric(value) { return number }
            evaluationFailed(program, instance, "the result is not a number")
            return nil
        case .failure(let error):
            evaluationFailed(program, instance, error.message)
            return nil
        }
    }

    /// `val(k)` read a value that is not a decimal number: a type violation of the key's last writer.
    func nonDecimal(_ instance: Instance, _ directory: Int, _ relative: String, _ entry: Entry) {
        let state = instance.directories[directory]
        guard !entry.typeReported, var stored = state[relative] else { return }
        stored.typeReported = true
        state[relative] = stored
        let compiled = instance.protocolDefinition
        let roles = instance.roles(domid: entry.writerDomid, privileged: entry.writerPrivileged)
        let who = label(roles, domid: entry.writerDomid, instance: instance)
        var name = "\(compiled.directoryNames[directory])/\(relative)"
        var origin = compiled.definition.origin
        if let key = compiled.fixedKeys[directory][Substring(relative)]
            ?? compiled.patternKeys[directory].first(where: {
                structurallyMatches(compiled.keys[$0], Substring(relative)) != nil
            })
        {
            name = compiled.keys[key].name
            origin = compiled.keys[key].key.origin
        }
        report(
            instance, .violation, line: entry.line, domid: entry.writerDomid, role: who, rule: "key \(name): type", origin: origin,
            message:
                "\(who) wrote \(compiled.directoryNames[directory])/\(relative) = '\(Self.excerpt(entry.value))', which the description reads as a decimal number (noticed at line \(currentLine))",
            path: instance.directories[directory].rootPath + "/" + relative)
    }

    func evaluationFailed(_ program: CompiledProgram, _ instance: Instance, _ message: String) {
        report(
            instance, .evaluation, line: currentLine, domid: -1, role: "none", rule: "evaluation", origin: program.origin,
            message: "cannot evaluate the \(program.context): \(message); taken as false", deduplicationKey: "evaluation|\(program.context)"
        )
    }
}
