#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A private directory under `$TMPDIR` (or `/tmp`) for files that a run needs only while it lasts.
enum TemporaryDirectory {
    /// Creates a new directory, readable only by the user, named `PREFIX-XXXXXX`.
    static func create(prefix: String) throws(AtomicFile.Failure) -> String {
        var base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        if base.isEmpty { base = "/tmp" }
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw AtomicFile.Failure(path: base, reason: String(cString: strerror(errno)))
        }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Removes `file` and the directory it was created in.
    static func remove(_ directory: String, file: String) {
        unlink(file)
        rmdir(directory)
    }
}
