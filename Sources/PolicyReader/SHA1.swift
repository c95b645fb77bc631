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
    private static func compress(_ state: inout State, blocks: UnsafeRawBufferPointer) {
        // One stack-allocated message schedule serves all blocks of this call, so hashing a large
        // buffer never touches the heap.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            var offset = 0
            while offset + blockSize <= blocks.count {
                for t in 0..<16 {
                    w[t] = UInt32(bigEndian: blocks.loadUnaligned(fromByteOffset: offset + 4 * t, as: UInt32.self))
                }
                for t in 16..<80 {
                    w[t] = rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], by: 1)
                }

                var a = state.h0, b = state.h1, c = state.h2, d = state.h3, e = state.h4
                for t in 0..<80 {
                    let f: UInt32
                    let k: UInt32
                    switch t {
                    case 0..<20:
                        f = (b & c) | (~b & d)
                        k = 0x5A82_7999
                    case 20..<40:
                        f = b ^ c ^ d
                        k = 0x6ED9_EBA1
                    case 40..<60:
                        f = (b & c) | (b & d) | (c & d)
                        k = 0x8F1B_BCDC
                    default:
                        f = b ^ c ^ d
                        k = 0xCA62_C1D6
                    }
                    let temp = rotateLeft(a, by: 5) &+ f &+ e &+ k &+ w[t]
                    e = d
                    d = c
                    c = rotateLeft(b, by: 30)
                    b = a
                    a = temp
                }
                state.h0 &+= a
                state.h1 &+= b
                state.h2 &+= c
                state.h3 &+= d
                state.h4 &+= e
                offset += blockSize
            }
        }
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt32, by count: UInt32) -> UInt32 {
        (value &<< count) | (value &>> (32 - count))
    }
}
