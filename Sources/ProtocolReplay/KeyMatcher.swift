/// A key pattern (`ring-ref{i}`, `queue-{q}/ring-ref{i}`) compiled into flat operations in
/// unmanaged buffers: matching a relative path against every pattern key of a directory happens for
/// each write of a node that is not a fixed key, and walking the nested arrays of `KeyPart`s would
/// allocate and count references for each one.
final class KeyMatcher {
    private enum Code: Int32 {
        /// A `/` between segments.
        case slash = 0
        /// Literal bytes: offset and length in `literals`.
        case literal = 1
        /// An index variable: its slot.
        case index = 2
        /// The end of a segment: the next byte is `/` or the end of the path.
        case segmentEnd = 3
    }

    /// Triples: code and two arguments.
    private let operations: UnsafeMutableBufferPointer<Int32>
    private let literals: UnsafeMutableBufferPointer<UInt8>
    /// Index variables: values written by `match` go to `0..<slotCount`.
    let slotCount: Int

    init(segments: [[KeyPart]], slotCount: Int) {
        self.slotCount = slotCount
        var operations: [Int32] = []
        var literals: [UInt8] = []
        for (position, parts) in segments.enumerated() {
            if position > 0 { operations += [Code.slash.rawValue, 0, 0] }
            for part in parts {
                switch part {
                case .literal(let text):
                    operations += [Code.literal.rawValue, Int32(literals.count), Int32(text.count)]
                    literals += text
                case .index(let slot):
                    operations += [Code.index.rawValue, Int32(clamping: slot), 0]
                }
            }
            operations += [Code.segmentEnd.rawValue, 0, 0]
        }
        self.operations = .allocate(capacity: max(1, operations.count))
        _ = self.operations.initialize(from: operations)
        self.literals = .allocate(capacity: max(1, literals.count))
        _ = self.literals.initialize(from: literals)
        operationCount = operations.count
    }

    private let operationCount: Int

    deinit {
        operations.deallocate()
        literals.deallocate()
    }

    /// Whether the relative path has the pattern's shape: its literals, and canonical decimal
    /// numbers for its index variables (bounds and conditions are not looked at). The index values
    /// go to `values` (at least `slotCount` of them) when it is given.
    func match(_ path: UnsafeBufferPointer<UInt8>, values: UnsafeMutableBufferPointer<Int>?) -> Bool {
        var i = 0
        var end = segmentEnd(path, from: 0)
        var operation = 0
        while operation < operationCount {
            let code = operations[operation]
            let first = Int(operations[operation + 1])
            let second = Int(operations[operation + 2])
            operation += 3
            switch code {
            case Code.slash.rawValue:
                guard i < path.count, path[i] == UInt8(ascii: "/") else { return false }
                i += 1
                end = segmentEnd(path, from: i)
            case Code.literal.rawValue:
                guard end - i >= second else { return false }
                for k in 0..<second where path[i + k] != literals[first + k] { return false }
                i += second
            case Code.index.rawValue:
                let start = i
                while i < end && path[i] >= UInt8(ascii: "0") && path[i] <= UInt8(ascii: "9") { i += 1 }
                guard let value = DirectoryIndex.decimal(path, start..<i), first >= 0, first < slotCount else { return false }
                if let values { values[first] = value }
            default:
                guard i == end else { return false }
            }
        }
        return i == path.count
    }

    @inline(__always)
    private func segmentEnd(_ path: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
        return end
    }
}
