import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import ProtocolReplay
import XenstoreTrace

/// The package's root directory.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped protocol descriptions, checked once.
let exampleProtocols: [ProtocolDefinition] = {
    let directory = packageRoot.appendingPathComponent("Examples/protocols")
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".xpd") }.sorted()
    let paths = files.map { directory.appendingPathComponent($0).path }
    let loaded = ProtocolLoader().load(paths)
    let (definitions, _) = ProtocolChecker().check(loaded.files)
    return definitions
}()

/// A protocol of the examples, by name.
func exampleProtocol(_ name: String) -> ProtocolDefinition? {
    exampleProtocols.first { $0.name == name }
}

/// What one replay found, and its summary.
struct ReplayResult {
    var findings: [Finding]
    var summary: ReplaySummary
    var readerErrors: Int

    var violations: [Finding] { findings.filter { $0.severity == .violation } }

    /// `rule | role | domid | line` of each violation, for exact comparisons.
    var violationKeys: [String] { violations.map { "\($0.rule) | \($0.role) | \($0.domid) | \($0.line)" } }
}

/// Replays a trace file of `Examples/traces`.
func replayExample(_ name: String, protocols: [ProtocolDefinition] = exampleProtocols, options: ReplayEngine.Options = .init()) throws
    -> ReplayResult
{
    let reader = try TraceReader(path: packageRoot.appendingPathComponent("Examples/traces/\(name)").path)
    return replay(reader, protocols: protocols, options: options)
}

/// Replays trace text.
func replay(
    _ text: String, format: TraceFormat? = nil, protocols: [ProtocolDefinition] = exampleProtocols, options: ReplayEngine.Options = .init()
)
    -> ReplayResult
{
    replay(TraceReader(bytes: Array(text.utf8), options: TraceReader.Options(format: format)), protocols: protocols, options: options)
}

func replay(_ reader: TraceReader, protocols: [ProtocolDefinition], options: ReplayEngine.Options) -> ReplayResult {
    let engine = ReplayEngine(protocols: protocols, options: options)
    engine.replay(reader)
    engine.finish()
    return ReplayResult(findings: engine.findings, summary: engine.summary, readerErrors: reader.errorCount)
}

/// Builds JSON-lines traces: one line per call, times advancing by `step` milliseconds.
struct TraceBuilder {
    var time: Int64 = 1_795_773_600_000
    var step: Int64 = 10
    var lines: [String] = []

    /// The line number the next message gets.
    var nextLine: Int { lines.count + 1 }

    private mutating func add(_ members: [String]) {
        time += step
        lines.append("{\"time\": \(time), " + members.joined(separator: ", ") + "}")
    }

    private static func connection(_ who: String) -> String {
        who.hasPrefix("A") ? "\"socket\": \(who.dropFirst())" : "\"domid\": \(who.dropFirst())"
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    mutating func write(_ who: String, _ path: String, _ value: String, tx: Int? = nil) {
        add(
            [Self.connection(who)] + (tx.map { ["\"tx\": \($0)"] } ?? []) + [
                "\"op\": \"write\"", "\"path\": \(Self.quoted(path))", "\"value\": \(Self.quoted(value))",
            ])
    }

    mutating func operation(_ who: String, _ op: String, _ path: String, tx: Int? = nil) {
        add([Self.connection(who)] + (tx.map { ["\"tx\": \($0)"] } ?? []) + ["\"op\": \"\(op)\"", "\"path\": \(Self.quoted(path))"])
    }

    mutating func start(_ who: String, tx: Int) { add([Self.connection(who), "\"tx\": \(tx)", "\"op\": \"tx_start\""]) }

    mutating func end(_ who: String, tx: Int, commit: Bool) {
        add([Self.connection(who), "\"tx\": \(tx)", "\"op\": \"tx_end\"", "\"commit\": \(commit)"])
    }

    mutating func error(_ who: String, _ name: String) { add([Self.connection(who), "\"op\": \"error\"", "\"error\": \"\(name)\""]) }

    /// Lets trace time pass (the next message carries the later time).
    mutating func wait(_ milliseconds: Int64) { time += milliseconds }

    var text: String { lines.joined(separator: "\n") + "\n" }

    // MARK: - The real handshakes of the protocol reference

    static func vbdFrontend(_ fe: Int, _ devid: Int) -> String { "/local/domain/\(fe)/device/vbd/\(devid)" }
    static func vbdBackend(_ be: Int, _ fe: Int, _ devid: Int) -> String { "/local/domain/\(be)/backend/vbd/\(fe)/\(devid)" }

    /// libxl creating both directories (one transaction, committed as seen), state 1 on both sides.
    mutating func createVBD(fe: Int = 5, be: Int = 0, devid: Int = 51712, toolstack: String = "A1", linkFrontend: String? = nil) {
        let f = Self.vbdFrontend(fe, devid)
        let b = Self.vbdBackend(be, fe, devid)
        operation(toolstack, "mkdir", f, tx: 1)
        operation(toolstack, "mkdir", b, tx: 1)
        write(toolstack, b + "/frontend", linkFrontend ?? f, tx: 1)
        write(toolstack, f + "/backend", b, tx: 1)
        write(toolstack, f + "/backend-id", "\(be)", tx: 1)
        write(toolstack, f + "/virtual-device", "\(devid)", tx: 1)
        write(toolstack, f + "/state", "1", tx: 1)
        write(toolstack, b + "/frontend-id", "\(fe)", tx: 1)
        write(toolstack, b + "/online", "1", tx: 1)
        write(toolstack, b + "/state", "1", tx: 1)
        write(toolstack, b + "/type", "phy", tx: 1)
        write(toolstack, b + "/mode", "w", tx: 1)
    }

    /// The backend probes, the hotplug script publishes the device, the frontend its ring, both connect.
    mutating func connectVBD(fe: Int = 5, be: Int = 0, devid: Int = 51712, backend: String = "D0", hotplug: String = "A2") {
        let f = Self.vbdFrontend(fe, devid)
        let b = Self.vbdBackend(be, fe, devid)
        write(backend, b + "/max-ring-page-order", "4")
        write(backend, b + "/state", "2")
        write(hotplug, b + "/physical-device", "fd:3")
        write(hotplug, b + "/hotplug-status", "connected")
        write("D\(fe)", f + "/ring-ref", "8")
        write("D\(fe)", f + "/event-channel", "17")
        write("D\(fe)", f + "/state", "3")
        write(backend, b + "/sectors", "41943040")
        write(backend, b + "/info", "0")
        write(backend, b + "/sector-size", "512")
        write(backend, b + "/state", "4")
        write("D\(fe)", f + "/state", "4")
    }
}
