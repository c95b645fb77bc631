import Foundation
import Testing

/// A protocol description of 4 MiB (the input limit) that is a diagnostic every few bytes: the front
/// end keeps the 200 it reports and counts the others as they come, and the parser takes the tokens
/// one at a time, so the memory of the run does not grow with them. It held every diagnostic and
/// every token until the end: a release build peaked at 480 MB for `@a ` repeated (1.4 million
/// diagnostics), 350 MB for `key ; ` repeated in a protocol and 1.5 GB for a protocol body of `;`.
/// Each input is checked under a data limit (`ulimit -d`, which bounds what `malloc` can have)
/// that such a run cannot stay within; the bounded front end runs within a quarter of it, in a debug build.
@Suite final class ProtocolFloodMemoryTests {
    let directory = ScratchDirectory("xen-policy-flood-memory")
    var scratch: URL { directory.url }

    /// The data limit of a run, in KiB.
    static let dataLimit = 128 << 10

    static let inputSize = 4 << 20

    /// 4 MiB: `prefix`, then `pattern` repeated, then `suffix`.
    static func flood(_ prefix: String, _ pattern: String, _ suffix: String) -> [UInt8] {
        let room = inputSize - prefix.utf8.count - suffix.utf8.count
        return Array(prefix.utf8) + Array(Array(repeating: pattern, count: room / pattern.utf8.count).joined().utf8) + Array(suffix.utf8)
    }

    static let inputs: [(String, [UInt8])] = [
        // Lexer errors (E0702) between units, and the parser's run of stray tokens.
        ("'@a ' repeated", flood("", "@a ", "")),
        // A malformed declaration (E0710) after another in a protocol body.
        ("'key ; ' repeated in a protocol", flood("protocol p {\n", "key ; ", "\n}\n")),
        // One run of stray tokens in a protocol body: four million tokens.
        ("';' repeated in a protocol", flood("protocol p {\n", ";", "\n}\n")),
    ]

    @Test(arguments: inputs.indices)
    func aFloodOfDiagnosticsRunsInBoundedMemory(_ index: Int) throws {
        let (what, bytes) = Self.inputs[index]
        #expect(bytes.count <= Self.inputSize)
        let path = scratch.appendingPathComponent("flood.xpd").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "ulimit -d \(Self.dataLimit) && exec \"$0\" \"$@\"", CommandRunner.binaries.appendingPathComponent("xen-policy").path,
            "graph", path, "--color", "never",
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        // Out of memory, the run traps (a signal); within the limit it reports the errors (status 1).
        #expect(process.terminationReason == .exit, "\(what): ended by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 1, "\(what)")
    }
}
