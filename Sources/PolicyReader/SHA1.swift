/// SHA-1 as specified in FIPS 180-4 §6.1.
///
/// Only used to reproduce the 20-byte digest that the Xen 3.3–4.1 ("G4") policy header carries;
/// the hypervisor merely stores it and xend compares it, so SHA-1's collision weakness is
/// irrelevant here. A private implementation keeps PolicyReader free of a crypto dependency
/// (CryptoKit is unavailable on Linux, swift-crypto would be a whole package for one hash).
///
/// ```swift
/// var hasher = SHA1()
/// hasher.update(Array("abc".utf8))
/// let digest = hasher.finalize()   // a9993e36…
/// ```
struct SHA1 {
    /// The five chaining variables H0…H4.
    private struct State {
        var h0: UInt32 = 0x6745_2301
        var h1: UInt32 = 0xEFCD_AB89
        var h2: UInt32 = 0x98BA_DCFE
        var h3: UInt32 = 0x1032_5476
        var h4: UInt32 = 0xC3D2_E1F0
    }

    /// The size of one message block in bytes.
    static let blockSize = 64

    /// The size of a digest in bytes.
    static let digestSize = 20

    private var state = State()
    /// Input that did not fill a whole block yet (always fewer than 64 bytes between calls).
    private var pending: [UInt8] = []
    /// Total message length in bytes; FIPS 180-4 limits messages to 2^64 − 1 bits, far beyond any policy.
    private var byteCount: UInt64 = 0

    /// Creates a hasher for an empty message.
    init() {
        pending.reserveCapacity(Self.blockSize)
    }

    /// Appends `bytes` to the message.
    ///
    /// Contiguous collections (arrays, slices, `Data`) are hashed in place; other collections are
    /// copied once into a temporary array.
    mutating func update(_ bytes: some Collection<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            update(UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            Array(bytes).withUnsafeBytes { update($0) }
        }
    }

    /// Appends the bytes of `buffer` to the message.
    mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard !buffer.isEmpty else { return }
        byteCount &+= UInt64(buffer.count)
        var rest = buffer[...]

        if !pending.isEmpty {
            let take = min(Self.blockSize - pending.count, rest.count)
            pending.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
            guard pending.count == Self.blockSize else { return }
            // Work on a copy of the state: `pending` is borrowed for the duration of the closure,
            // so `self` cannot also be mutated through it.
            var state = self.state
            pending.withUnsafeBytes { Self.compress(&state, blocks: $0) }
            self.state = state
            pending.removeAll(keepingCapacity: true)
        }

        // Whole blocks are hashed straight from the caller's memory; only the tail is copied.
        let wholeBlocks = rest.count - rest.count % Self.blockSize
        if wholeBlocks > 0 {
            Self.compress(&state, blocks: UnsafeRawBufferPointer(rebasing: rest.prefix(wholeBlocks)))
        }
        pending.append(contentsOf: rest.dropFirst(wholeBlocks))
    }

    /// Pads the message, returns its 20-byte digest and resets the hasher to the empty message.
    mutating func finalize() -> [UInt8] {
        let bitLength = byteCount &* 8
        // Padding: a single 1 bit, zeros up to 56 mod 64, then the 64-bit big-endian bit length.
        var padding: [UInt8] = [0x80]
        let afterMarker = (pending.count + 1) % Self.blockSize
        let zeros = afterMarker <= 56 ? 56 - afterMarker : 56 + Self.blockSize - afterMarker
        padding.append(contentsOf: repeatElement(0, count: zeros))
        for shift in stride(from: 56, through: 0, by: -8) {
            padding.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        update(padding)
        assert(pending.isEmpty, "padding must end on a block boundary")

        var digest: [UInt8] = []
        digest.reserveCapacity(Self.digestSize)
        for word in [state.h0, state.h1, state.h2, state.h3, state.h4] {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        self = SHA1()
        return digest
    }

    /// Returns the digest of `bytes` in one call.
    static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = SHA1()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// Runs the compression function over every whole 64-byte block in `blocks`.
    ///
    /// The message schedule is kept as a 16-word ring (`w[t & 15]`), and the 80 rounds run as four
    /// loops of 20, one per round function, so no round tests which function it needs.
    private static func compress(_ state: inout State, blocks: UnsafeRawBufferPointer) {
        guard let base = blocks.baseAddress else { return }
        // One stack-allocated schedule serves all blocks of this call, so hashing a large buffer
        // never touches the heap.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16) { schedule in
            let w = schedule.baseAddress!
            var h0 = state.h0, h1 = state.h1, h2 = state.h2, h3 = state.h3, h4 = state.h4
            var offset = 0
            while offset + blockSize <= blocks.count {
                let block = base + offset
                var a = h0, b = h1, c = h2, d = h3, e = h4

                @inline(__always)
                func word(_ t: Int) -> UInt32 {
                    if t < 16 {
                        let value = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self))
                        w[t] = value
                        return value
                    }
                    let value = rotateLeft(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], by: 1)
                    w[t & 15] = value
                    return value
                }

                // Five rounds per step with the roles of a...e rotating, so no value is moved
                // between variables: round t computes the new `a` into the variable that held `e`.
                @inline(__always)
                func step(_ t: Int, _ k: UInt32, _ f: (UInt32, UInt32, UInt32) -> UInt32) {
                    e &+= rotateLeft(a, by: 5) &+ f(b, c, d) &+ k &+ word(t)
                    b = rotateLeft(b, by: 30)
                    d &+= rotateLeft(e, by: 5) &+ f(a, b, c) &+ k &+ word(t + 1)
                    a = rotateLeft(a, by: 30)
                    c &+= rotateLeft(d, by: 5) &+ f(e, a, b) &+ k &+ word(t + 2)
                    e = rotateLeft(e, by: 30)
                    b &+= rotateLeft(c, by: 5) &+ f(d, e, a) &+ k &+ word(t + 3)
                    d = rotateLeft(d, by: 30)
                    a &+= rotateLeft(b, by: 5) &+ f(c, d, e) &+ k &+ word(t + 4)
                    c = rotateLeft(c, by: 30)
                }

                for t in stride(from: 0, to: 20, by: 5) { step(t, 0x5A82_7999) { b, c, d in d ^ (b & (c ^ d)) } }
                for t in stride(from: 20, to: 40, by: 5) { step(t, 0x6ED9_EBA1) { b, c, d in b ^ c ^ d } }
                for t in stride(from: 40, to: 60, by: 5) { step(t, 0x8F1B_BCDC) { b, c, d in (b & c) | (d & (b | c)) } }
                for t in stride(from: 60, to: 80, by: 5) { step(t, 0xCA62_C1D6) { b, c, d in b ^ c ^ d } }

                h0 &+= a
                h1 &+= b
                h2 &+= c
                h3 &+= d
                h4 &+= e
                offset += blockSize
            }
            state.h0 = h0
            state.h1 = h1
            state.h2 = h2
            state.h3 = h3
            state.h4 = h4
        }
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt32, by count: UInt32) -> UInt32 {
        (value &<< count) | (value &>> (32 - count))
    }
}
