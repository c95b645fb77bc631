#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a program found on `PATH` and collects what it writes, with POSIX calls only.
///
/// This is what `diff REV:PATH` needs to run `git show`. Foundation's `Process` would do it too,
/// but linking Foundation costs every command about 6 ms of start-up and 13 MiB of memory (its ICU
/// data), which the compiler's benchmark counts against xmllint.
enum ChildProcess {
    /// What the program did.
    struct Result {
        /// The exit status, or 128 + the signal number when a signal ended it.
        var status: Int32
        var output: [UInt8]
        var errors: [UInt8]
        /// Whether standard output exceeded the limit (the child was then killed, and `output`
        /// holds only the first `limit + 1` bytes).
        var outputTruncated: Bool
    }

    /// Why the program could not be run at all.
    struct Failure: Error {
        var reason: String
    }

    /// Runs `arguments[0]` (looked up on `PATH`) with the rest as its arguments, standard input
    /// from `/dev/null`, and waits for it. Standard output is kept up to `outputLimit` bytes,
    /// standard error up to 64 KiB; both pipes are drained together, so a child that fills one of
    /// them while the other is read never blocks.
    static func run(_ arguments: [String], outputLimit: Int) throws(Failure) -> Result {
        precondition(!arguments.isEmpty, "a program to run")
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&outputPipe) == 0 else { throw Failure(reason: lastError()) }
        guard pipe(&errorPipe) == 0 else {
            let reason = lastError()
            close(outputPipe[0])
            close(outputPipe[1])
            throw Failure(reason: reason)
        }
        var readEnds = [outputPipe[0], errorPipe[0]]
        defer { for fd in readEnds where fd >= 0 { close(fd) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        for fd in [outputPipe[0], outputPipe[1], errorPipe[0], errorPipe[1]] {
            posix_spawn_file_actions_addclose(&actions, fd)
        }

        var child = pid_t()
        let arguments = arguments.map { strdup($0) } + [nil]
        defer { for argument in arguments { free(argument) } }
        let spawned = posix_spawnp(&child, arguments[0]!, &actions, nil, arguments, environ)
        close(outputPipe[1])
        close(errorPipe[1])
        guard spawned == 0 else { throw Failure(reason: String(cString: strerror(spawned))) }

        var output: [UInt8] = []
        var errors: [UInt8] = []
        var truncated = false
        var chunk = [UInt8](repeating: 0, count: 65536)
        while readEnds.contains(where: { $0 >= 0 }) {
            var polled = readEnds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polled, nfds_t(polled.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in polled.indices where polled[index].fd >= 0 && polled[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(polled[index].fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 {
                    close(readEnds[index])
                    readEnds[index] = -1
                    continue
                }
                if index == 0 {
                    output += chunk[..<min(count, outputLimit + 1 - output.count)]
                    if output.count > outputLimit, !truncated {
                        truncated = true
                        kill(child, SIGKILL)
                    }
                } else if errors.count < 65536 {
                    errors += chunk[..<min(count, 65536 - errors.count)]
                }
            }
        }

        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        // The wait status layout (WIFEXITED and friends are macros Swift does not import).
        let signal = status & 0x7f
        let exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return Result(status: exitStatus, output: output, errors: errors, outputTruncated: truncated)
    }

    private static func lastError() -> String {
        String(cString: strerror(errno))
    }
}
