import Foundation

/// Runs a built executable of this package and captures what it prints.
struct CommandRunner {
    struct Result {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    /// The directory holding the built executables: the test bundle's own directory.
    static let binaries: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
            packageRoot.appendingPathComponent(".build/debug"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("xen-policyc").path) }
            ?? candidates[candidates.count - 1]
    }()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Runs `tool` with `arguments` in the package root, with `variables` added to the environment.
    static func run(_ tool: String, _ arguments: [String], input: String? = nil, variables: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = binaries.appendingPathComponent(tool)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.merge(variables) { _, added in added }
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let inputPipe = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
        try process.run()
        if let input {
            // Written from another thread: a child that answers while it reads must not block on us.
            let handle = inputPipe.fileHandleForWriting
            Thread {
                handle.write(Data(input.utf8))
                try? handle.close()
            }.start()
        }
        // Read both pipes before waiting, stderr on another thread: a child that fills either pipe
        // while the other is being read would otherwise block for good.
        let errorReader = PipeReader(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = errorReader.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeReader: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: Data? = nil

    init(_ handle: FileHandle) {
        Thread {
            let value = handle.readDataToEndOfFile()
            self.condition.lock()
            self.data = value
            self.condition.signal()
            self.condition.unlock()
        }.start()
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}
