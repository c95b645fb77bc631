import ArgumentParser
import PolicyDiagnostics
import XenPolicyKit

#if canImport(Glibc)
    import Glibc
#endif

/// The version both executables report.
public let xenPolicyVersion = "0.1.0"

/// How diagnostics are printed.
enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
}

/// When to colour text output.
enum ColorMode: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

/// Options every command that reports diagnostics shares.
struct DiagnosticOptions: ParsableArguments {
    @Option(help: "Diagnostic output: text (on stderr), json or sarif (on stdout).")
    var format: DiagnosticFormat = .text

    @Option(help: "Colour text diagnostics: auto (a terminal without NO_COLOR), always or never.")
    var color: ColorMode = .auto

    /// The printer these options describe.
    var printer: DiagnosticPrinter { DiagnosticPrinter(format: format, color: color) }

    /// Prints diagnostics in the chosen format.
    func emit(_ diagnostics: [Diagnostic], sources: SourceLines, tool: String) {
        printer.emit(diagnostics, sources: sources, tool: tool)
    }
}

/// Prints diagnostics in one of the formats, sorted by location.
struct DiagnosticPrinter {
    var format: DiagnosticFormat
    var color: ColorMode

    var colored: Bool {
        switch color {
        case .always: true
        case .never: false
        case .auto:
            isatty(STDERR_FILENO) != 0 && getenv("NO_COLOR") == nil
                && getenv("TERM").map { String(cString: $0) != "dumb" } ?? false
        }
    }

    func emit(_ diagnostics: [Diagnostic], sources: SourceLines, tool: String) {
        var collector = DiagnosticCollector()
        collector.emit(contentsOf: diagnostics)
        let ordered = collector.sorted
        switch format {
        case .text:
            guard !ordered.isEmpty else { return }
            Output.standardError(TextDiagnosticRenderer(colored: colored, sources: sources).render(ordered))
        case .json:
            Output.standardOutput(StructuredDiagnosticRenderer.json(ordered))
        case .sarif:
            Output.standardOutput(StructuredDiagnosticRenderer.sarif(ordered, toolName: tool, toolVersion: xenPolicyVersion))
        }
    }
}

/// Writes to the standard streams (the only place that prints).
enum Output {
    static func standardOutput(_ text: String) { write(text, to: STDOUT_FILENO) }

    static func standardError(_ text: String) { write(text, to: STDERR_FILENO) }

    /// Unbuffered writes: the C `stdout`/`stderr` globals are shared mutable state to Swift 6.
    private static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            bytes = bytes.dropFirst(n)
        }
    }
}

/// Thrown by a command to end with a documented exit status after it printed what it had to say.
struct Exit: Error {
    var status: ExitStatus
}

extension ParsableCommand {
    /// Parses and runs, mapping every outcome onto the documented exit codes:
    /// 0 success, 1 the input has errors, 2 usage or I/O error.
    static func runMain() -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Glibc.exit(0)
        } catch let failure as Exit {
            Glibc.exit(failure.status.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                Output.standardOutput(fullMessage(for: error) + "\n")
                Glibc.exit(0)
            }
            Output.standardError(usageDiagnostic(fullMessage(for: error)) + "\n")
            Glibc.exit(ExitStatus.usageOrIOError.rawValue)
        }
    }

    /// swift-argument-parser's report of a wrong command line (`Error: ...`, then help and usage
    /// lines), with its first line in the form of every other diagnostic: the command as the
    /// location, and the stable code E0990 for scripts to match on.
    static func usageDiagnostic(_ report: String) -> String {
        var lines = report.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first else { return report }
        let message = first.hasPrefix("Error: ") ? String(first.dropFirst("Error: ".count)) : first
        lines[0] = "\(_commandName): error: \(message) [E0990]"
        return lines.joined(separator: "\n")
    }
}
