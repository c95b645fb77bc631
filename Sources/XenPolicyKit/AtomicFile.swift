#if canImport(Glibc)
    import Glibc
#endif

/// Writes output files so that a failed run never leaves a partial file or replaces a good one:
/// everything is written to temporary files beside the targets and renamed only when all are complete.
public enum AtomicFile {
    /// Why an output could not be written.
    public struct Failure: Error, Equatable, Sendable {
        public var path: String
        public var reason: String
    }

    /// Writes every `(path, bytes)` pair, or none of them.
    public static func write(_ files: [(path: String, bytes: [UInt8])]) throws(Failure) {
        var temporaries: [(temporary: String, path: String)] = []
        func cleanUp() { for entry in temporaries { unlink(entry.temporary) } }
        for file in files {
            let temporary = temporaryPath(for: file.path)
            let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                cleanUp()
                throw Failure(path: file.path, reason: reason)
            }
            temporaries.append((temporary, file.path))
            var written = 0
            var failure: String? = nil
            file.bytes.withUnsafeBytes { buffer in
                while written < buffer.count {
                    let n = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failure = String(cString: strerror(errno))
                        return
                    }
                    written += n
                }
            }
            if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
            if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
            if let failure {
                cleanUp()
                throw Failure(path: file.path, reason: failure)
            }
        }
        for (index, entry) in temporaries.enumerated() {
            if rename(entry.temporary, entry.path) != 0 {
                let reason = String(cString: strerror(errno))
                for rest in temporaries[index...] { unlink(rest.temporary) }
                throw Failure(path: entry.path, reason: reason)
            }
        }
    }

    private static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return "\(directory).\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }
}
