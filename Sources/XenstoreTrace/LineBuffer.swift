#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a trace's bytes come from.
enum ByteSource {
    /// Bytes in memory.
    case bytes([UInt8], position: Int)
    /// A file descriptor, read until end of file; closed when done if `owned`.
    case descriptor(Int32, owned: Bool)
}

/// Splits a byte stream into lines with a fixed-size buffer: memory stays bounded by the longest line
/// (itself bounded by `maximumLineLength`), however long the trace is.
final class LineBuffer {
    /// What `next()` found.
    enum Next {
        /// A line without its `\n` (nor a `\r` before it), valid until the next call.
        case line(LineBytes, number: Int)
        /// A line longer than the limit, skipped without being buffered.
        case tooLong(number: Int, length: Int)
        /// The end of the input, or a read error (`readError`).
        case end
    }

    private static let chunkSize = 256 * 1024

    @exclusivity(unchecked) private var source: ByteSource
    private let maximumLineLength: Int
    @exclusivity(unchecked) private var storage: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var atEnd = false
    @exclusivity(unchecked) private var lineNumber = 0
    /// The reason reading stopped early, if it did.
    private(set) var readError: String?
    /// Called before a read that would wait for more input (a pipe or terminal the writer has not
    /// filled yet), so that whoever collects lines can hand over what it has (`replay --stream`).
    @exclusivity(unchecked) var beforeWaiting: (() -> Void)?
    /// Called once a second while the input stays idle, after `beforeWaiting`.
    @exclusivity(unchecked) var whileWaiting: (() -> Void)?
    static let idleTickMilliseconds: Int32 = 1000

    init(source: ByteSource, maximumLineLength: Int) {
        self.source = source
        self.maximumLineLength = max(1, maximumLineLength)
        capacity = min(Self.chunkSize, self.maximumLineLength + 1)
        capacity = max(capacity, 4096)
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deallocate()
        closeSource()
    }

    private func closeSource() {
        if case .descriptor(let fd, true) = source {
            close(fd)
            source = .bytes([], position: 0)
        }
    }

    /// Reads more bytes after `end`; sets `atEnd` at end of file or on an error.
    private func fill() {
        let room = capacity - end
        guard room > 0 else { return }
        switch source {
        case .bytes(let bytes, let position):
            let count = min(room, bytes.count - position)
            if count <= 0 {
                atEnd = true
                return
            }
            bytes.withUnsafeBufferPointer { buffer in
                (storage + end).update(from: buffer.baseAddress! + position, count: count)
            }
            source = .bytes(bytes, position: position + count)
            end += count
        case .descriptor(let fd, _):
            if let beforeWaiting, !Self.readable(fd, within: 0) {
                beforeWaiting()
                if let whileWaiting { while !Self.readable(fd, within: Self.idleTickMilliseconds) { whileWaiting() } }
            }
            while true {
                let count = read(fd, storage + end, room)
                if count > 0 {
                    end += count
                    return
                }
                if count == 0 {
                    atEnd = true
                    closeSource()
                    return
                }
                if errno == EINTR { continue }
                readError = String(cString: strerror(errno))
                atEnd = true
                closeSource()
                return
            }
        }
    }

    /// Moves the unread bytes to the front of the buffer.
    /// Whether a read of `fd` would return at once (data, end of input or an error: `read` tells
    /// which), waiting up to `milliseconds` for it to become so.
    private static func readable(_ fd: Int32, within milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) != 0
    }

    private func compact() {
        guard start > 0 else { return }
        let count = end - start
        if count > 0 { storage.update(from: storage + start, count: count) }
        start = 0
        end = count
    }

    /// The next line.
    func next() -> Next {
        var searchFrom = start
        while true {
            if searchFrom < end, let found = memchr(storage + searchFrom, 0x0A, end - searchFrom) {
                let newline = storage.distance(to: found.assumingMemoryBound(to: UInt8.self))
                return take(upTo: newline, consumed: newline + 1)
            }
            if atEnd {
                guard start < end else { return .end }
                return take(upTo: end, consumed: end)
            }
            if end - start > maximumLineLength { return skipLongLine() }
            compact()
            if end == capacity {
                let grown = min(capacity * 2, maximumLineLength + 1)
                if grown > capacity {
                    let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
                    bigger.update(from: storage, count: end)
                    storage.deallocate()
                    storage = bigger
                    capacity = grown
                }
            }
            searchFrom = end
            fill()
        }
    }

    private func take(upTo lineEnd: Int, consumed: Int) -> Next {
        var stop = lineEnd
        if stop > start, storage[stop - 1] == 0x0D { stop -= 1 }
        var first = start
        lineNumber += 1
        // A UTF-8 byte order mark before the first line.
        if lineNumber == 1, stop - first >= 3, storage[first] == 0xEF, storage[first + 1] == 0xBB, storage[first + 2] == 0xBF {
            first += 3
        }
        if lineEnd - start > maximumLineLength {
            start = consumed
            return .tooLong(number: lineNumber, length: lineEnd - first)
        }
        start = consumed
        return .line(LineBytes(start: storage + first, count: stop - first), number: lineNumber)
    }

    /// Discards the rest of a line that is longer than the limit, reading on without buffering it.
    private func skipLongLine() -> Next {
        var length = end - start
        start = 0
        end = 0
        while true {
            fill()
            if let found = memchr(storage, 0x0A, end) {
                let newline = storage.distance(to: found.assumingMemoryBound(to: UInt8.self))
                length += newline
                start = newline + 1
                lineNumber += 1
                return .tooLong(number: lineNumber, length: length)
            }
            length += end
            end = 0
            if atEnd {
                lineNumber += 1
                return .tooLong(number: lineNumber, length: length)
            }
            // A device or a binary file can go on for ever without a line end (`/dev/zero`): give up
            // rather than read it to the end of time.
            if length >= maximumSkip {
                lineNumber += 1
                readError = "no line end in the \(length) bytes of line \(lineNumber): this is not a text trace"
                atEnd = true
                closeSource()
                return .tooLong(number: lineNumber, length: length)
            }
        }
    }

    /// How much of one over-long line is read before giving up on the input.
    private var maximumSkip: Int { max(64 << 20, 64 * maximumLineLength) }
}
