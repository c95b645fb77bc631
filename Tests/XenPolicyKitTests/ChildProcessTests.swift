import Testing

@testable import XenPolicyKit

/// The POSIX child runner behind `diff REV:PATH`: exit status, both streams, the output bound.
@Suite struct ChildProcessTests {
    @Test func collectsOutputErrorsAndStatus() throws {
        let result = try ChildProcess.run(["sh", "-c", "printf out; printf err >&2; exit 3"], outputLimit: 100)
        #expect(result.status == 3)
        #expect(result.output == Array("out".utf8))
        #expect(result.errors == Array("err".utf8))
        #expect(!result.outputTruncated)
    }

    @Test func drainsBothPipesWithoutBlocking() throws {
        // More than a pipe buffer (64 KiB) on each stream: reading one to its end first would hang.
        let script = "head -c 300000 /dev/zero >&2; head -c 300000 /dev/zero"
        let result = try ChildProcess.run(["sh", "-c", script], outputLimit: 1 << 20)
        #expect(result.status == 0)
        #expect(result.output.count == 300_000)
        #expect(result.errors.count == 65536, "standard error is kept up to 64 KiB")
    }

    @Test func stopsAChildThatWritesTooMuch() throws {
        let result = try ChildProcess.run(["sh", "-c", "exec cat /dev/zero"], outputLimit: 1000)
        #expect(result.outputTruncated)
        #expect(result.output.count == 1001)
        #expect(result.status == 128 + 9, "killed with SIGKILL")
    }

    @Test func standardInputIsEmpty() throws {
        let result = try ChildProcess.run(["sh", "-c", "wc -c"], outputLimit: 100)
        #expect(String(decoding: result.output, as: UTF8.self).trimmingPrefix(while: { $0 == " " }) == "0\n")
    }

    @Test func aMissingProgramIsAFailure() {
        #expect(throws: ChildProcess.Failure.self) {
            try ChildProcess.run(["xen-policy-no-such-program"], outputLimit: 100)
        }
    }
}
