#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads input files whole, refusing oversized ones before reading a byte, so that a hostile
/// 1 GB file costs a `stat` and not a gigabyte of memory.
public enum InputFile {
    /// Why an input could not be read; each maps to one diagnostic code.
    public enum Failure: Error, Equatable, Sendable {
        case cannotOpen(String)
        case notARegularFile
        case tooLarge(size: Int, limit: Int)
        case readFailed(String)
    }

    /// The contents of `path`, at most `limit` bytes.
    public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO without a writer would otherwise block forever before we can
        // see it is not a regular file. Regular files ignore the flag.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .readFailed(String(cString: strerror(errno))) }
        // FIFOs and character devices (e.g. /dev/zero) would never end; only regular files are inputs.
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .notARegularFile }
        let size = Int(info.st_size)
        guard size <= limit else { throw .tooLarge(size: size, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + done, size - done)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw .readFailed(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            done += n
        }
        // A file that shrank while we read it is read as far as it goes.
        if done < size { bytes.removeLast(size - done) }
        return bytes
    }

    /// A diagnostic for a read failure, with the stable code of each case.
    public static func diagnostic(for failure: Failure, path: String) -> Diagnostic {
        let location = SourceLocation(file: path)
        switch failure {
        case .cannotOpen(let reason):
            return .error("E0001", "cannot open '\(path)': \(reason)", at: location)
        case .notARegularFile:
            return .error("E0001", "'\(path)' is not a regular file", at: location)
        case .readFailed(let reason):
            return .error("E0001", "cannot read '\(path)': \(reason)", at: location)
        case .tooLarge(let size, let limit):
            return .error(
                "E0002", "'\(path)' is \(size) bytes, more than the limit of \(limit) bytes", at: location,
                hint: "inputs are bounded so that a hostile file cannot exhaust memory")
        }
    }
}
