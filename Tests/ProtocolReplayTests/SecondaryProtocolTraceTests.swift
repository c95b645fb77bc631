import ProtocolReplay
import Testing
import XenstoreTrace

/// The traces of the secondary protocols (console, vkbd, vfb, vtpm, pci, 9pfs) in `Examples/traces`: the real
/// handshakes of the Linux and QEMU drivers and libxl report nothing, and each planted violation is reported once, at
/// the right line, blamed on the right party (`Examples/traces/README.md` describes every trace).
@Suite struct SecondaryProtocolTraceTests {
    /// A clean trace, the protocol it exercises and the format it is written in.
    struct CleanTrace: Sendable, CustomTestStringConvertible {
        var file: String
        var protocolName: String
        var format: TraceFormat
        var testDescription: String { file }
    }

    static let cleanTraces: [CleanTrace] = [
        CleanTrace(file: "console-connect.log", protocolName: "console", format: .oxenstored),
        CleanTrace(file: "vkbd-reconnect.trace", protocolName: "vkbd", format: .cxenstored),
        CleanTrace(file: "vfb-connect.jsonl", protocolName: "vfb", format: .jsonLines),
        CleanTrace(file: "vtpm-connect.log", protocolName: "vtpm", format: .oxenstored),
        CleanTrace(file: "pci-hotplug.jsonl", protocolName: "pci", format: .jsonLines),
        CleanTrace(file: "9pfs-connect.trace", protocolName: "p9fs", format: .cxenstored),
        CleanTrace(file: "vkbd-unplug.log", protocolName: "vkbd", format: .oxenstored),
        CleanTrace(file: "9pfs-kexec.jsonl", protocolName: "p9fs", format: .jsonLines),
    ]

    /// A planted violation: the one finding its trace must give.
    struct PlantedViolation: Sendable, CustomTestStringConvertible {
        var file: String
        var line: Int
        var domid: Int
        var role: String
        var protocolName: String
        var instance: String
        var rule: String
        var path: String?
        /// For an expectation: the line whose time showed the deadline had passed.
        var detectedLine: Int? = nil
        var testDescription: String { file }
    }

    static let plantedViolations: [PlantedViolation] = [
        // hvc_xen declares Connected while QEMU is still in InitWait.
        PlantedViolation(
            file: "violation-console-fe-connects-early.jsonl", line: 58, domid: 5, role: "frontend", protocolName: "console",
            instance: "console fe=5 be=0 devid=1", rule: "transition fe.state Initialised -> Connected",
            path: "/local/domain/5/device/console/1/state"),
        // The guest rewrites the read-only limit libxl set for the backend; oxenstored refuses it (EACCES).
        PlantedViolation(
            file: "violation-console-guest-rewrites-limit.log", line: 60, domid: 5, role: "frontend", protocolName: "console",
            instance: "console fe=5 be=0 devid=1", rule: "key fe/limit: writer", path: "/local/domain/5/device/console/1/limit"),
        // kbdfront requests the raw pointer without the absolute pointer (kbdif.h), then connects.
        PlantedViolation(
            file: "violation-vkbd-raw-without-abs.log", line: 41, domid: 5, role: "frontend", protocolName: "vkbd",
            instance: "vkbd fe=5 be=0 devid=0", rule: "transition fe.state Initialised -> Connected: requires",
            path: "/local/domain/5/device/vkbd/0/state"),
        // fbfront publishes its page and goes to Initialised, then never connects.
        PlantedViolation(
            file: "violation-vfb-frontend-stalled.trace", line: 99, domid: 5, role: "frontend", protocolName: "vfb",
            instance: "vfb fe=5 be=0 devid=0", rule: "expect fe.state != Initialised within 10s", path: nil, detectedLine: 111),
        // A tpmback that never published feature-protocol-v2 connects anyway.
        PlantedViolation(
            file: "violation-vtpm-backend-without-v2.jsonl", line: 43, domid: 3, role: "backend", protocolName: "vtpm",
            instance: "vtpm fe=5 be=3 devid=0", rule: "transition be.state InitWait -> Connected: requires",
            path: "/local/domain/3/backend/vtpm/5/0/state"),
        // pcifront does not answer the toolstack's hot-plug (be/state = Reconfiguring).
        PlantedViolation(
            file: "violation-pci-frontend-ignores-hotplug.log", line: 50, domid: 5, role: "frontend", protocolName: "pci",
            instance: "pci fe=5 be=0 devid=0", rule: "expect fe.state != Connected within 10s", path: nil, detectedLine: 52),
        // The toolstack switches to Reconfiguring without an attach or detach pending.
        PlantedViolation(
            file: "violation-pci-empty-reconfigure.jsonl", line: 48, domid: 0, role: "toolstack", protocolName: "pci",
            instance: "pci fe=5 be=0 devid=0", rule: "transition be.state Connected -> Reconfiguring: requires",
            path: "/local/domain/0/backend/pci/5/0/state"),
        // The toolstack marks an attached pci device Closed itself instead of asking pciback to detach it
        // (Closing): the per-device machine has no Initialised -> Closed. pciback runs in dom0, so the
        // socket is both the backend and the toolstack.
        PlantedViolation(
            file: "violation-pci-toolstack-closes-device.jsonl", line: 75, domid: 0, role: "dom0 (backend/toolstack)",
            protocolName: "pci", instance: "pci fe=5 be=0 devid=0", rule: "transition be/state-{n} Initialised -> Closed",
            path: "/local/domain/0/backend/pci/5/0/state-0"),
        // The 9pfs frontend asks for more rings than the backend's max-rings.
        PlantedViolation(
            file: "violation-9pfs-too-many-rings.trace", line: 127, domid: 5, role: "frontend", protocolName: "p9fs",
            instance: "p9fs fe=5 be=0 devid=0", rule: "transition fe.state Initialising -> Initialised: requires",
            path: "/local/domain/5/device/9pfs/0/state"),
    ]

    @Test func secondaryProtocolsCompile() {
        for name in ["console", "vkbd", "vfb", "vtpm", "pci", "p9fs"] {
            #expect(exampleProtocol(name) != nil, "\(name)")
        }
    }

    @Test(arguments: cleanTraces)
    func cleanTraceReportsNothing(_ trace: CleanTrace) throws {
        let result = try replayExample(trace.file)
        #expect(result.readerErrors == 0)
        #expect(result.findings.map { "\($0.line): \($0.rule): \($0.message)" } == [])
        #expect(result.summary.instancesCreated == 1)
        #expect(result.summary.pendingExpectations == 0)
        #expect(result.summary.uncommittedMessages == 0)
    }

    /// The clean traces are judged by the protocol they are about: without it, none of them creates an instance.
    @Test(arguments: cleanTraces)
    func cleanTraceBelongsToItsProtocol(_ trace: CleanTrace) throws {
        #expect(exampleProtocol(trace.protocolName) != nil)
        let others = exampleProtocols.filter { $0.name != trace.protocolName }
        let result = try replayExample(trace.file, protocols: others)
        #expect(result.summary.instancesCreated == 0)
    }

    /// Between them the traces use all three formats, and each file is in the format its name says.
    @Test func tracesUseEveryFormat() throws {
        let formats = Set(Self.cleanTraces.map(\.format))
        #expect(formats == [.oxenstored, .cxenstored, .jsonLines])
        for trace in Self.cleanTraces {
            let reader = try TraceReader(path: packageRoot.appendingPathComponent("Examples/traces/\(trace.file)").path)
            while reader.next() != nil {}
            #expect(reader.format == trace.format, "\(trace.file)")
        }
    }

    @Test(arguments: plantedViolations)
    func plantedViolationIsReportedOnce(_ expected: PlantedViolation) throws {
        let result = try replayExample(expected.file)
        #expect(result.readerErrors == 0)
        #expect(result.violationKeys == ["\(expected.rule) | \(expected.role) | \(expected.domid) | \(expected.line)"])
        #expect(result.findings.count == 1)
        let violation = try #require(result.violations.first)
        #expect(violation.protocolName == expected.protocolName)
        #expect(violation.instance == expected.instance)
        #expect(violation.path == expected.path)
        #expect(violation.detectedLine == expected.detectedLine)
        #expect(violation.repeats == 0)
    }

    /// The state writes of a trace, in order: `who fe=value` or `who be=value`, the connection as oxenstored writes it.
    static func stateWrites(_ file: String) throws -> [String] {
        let reader = try TraceReader(path: packageRoot.appendingPathComponent("Examples/traces/\(file)").path)
        var writes: [String] = []
        while let event = reader.next() {
            guard event.operation == .write, let path = event.path, path.hasPrefix("/local/domain/"), path.hasSuffix("/state")
            else { continue }
            writes.append("\(event.connection) \(path.contains("/backend/") ? "be" : "fe")=\(event.value ?? "")")
        }
        return writes
    }

    /// The legal behaviour of the real drivers that the clean traces contain, so that "reports nothing" covers it: the
    /// Linux frontends of vkbd and vfb connect before their QEMU backend, QEMU rewrites Initialising (and, for vfb,
    /// Connected), the toolstack writes `be/state` (vkbd unplug, pci hot-plug and unplug rounds), kbdfront is unloaded
    /// and loaded again (4 -> 6 directly, then a reconnect through Closed), and a 9pfs guest is reset by kexec.
    @Test func cleanTracesContainTheLegalCornerCases() throws {
        // In the cxenstored trace every dom0 socket (libxl, QEMU) is D0; D5 is the guest.
        #expect(
            try Self.stateWrites("vkbd-reconnect.trace") == [
                "D0 fe=1", "D0 be=1", "D0 be=1", "D0 be=2", "D5 fe=3", "D5 fe=4", "D0 be=4", "D5 fe=6", "D0 be=6", "D5 fe=1", "D0 be=1",
                "D0 be=2", "D5 fe=3", "D5 fe=4", "D0 be=4",
            ])
        #expect(
            try Self.stateWrites("vfb-connect.jsonl") == [
                "A1 fe=1", "A1 be=1", "A3 be=1", "A3 be=2", "D5 fe=3", "D5 fe=4", "A3 be=4", "A3 be=4",
            ])
        // xl vkb-detach: the toolstack writes Closing, the frontend closes directly, QEMU follows, libxl removes both
        // directories (the instance ends).
        #expect(try Self.stateWrites("vkbd-unplug.log").suffix(3) == ["A1 be=5", "D5 fe=6", "A3 be=6"])
        #expect(try replayExample("vkbd-unplug.log").summary.instancesLive == 0)
        // The Linux kexec reset (plain writes 5, 6, 1 by the new kernel, QEMU following each), then a new connection.
        #expect(
            try Self.stateWrites("9pfs-kexec.jsonl") == [
                "A1 fe=1", "A1 be=1", "A3 be=1", "A3 be=2", "D5 fe=3", "A3 be=4", "D5 fe=4",
                "D5 fe=5", "A3 be=5", "D5 fe=6", "A3 be=6", "D5 fe=1", "A3 be=1", "A3 be=2", "D5 fe=3", "A3 be=4", "D5 fe=4",
            ])
        let pci = try Self.stateWrites("pci-hotplug.jsonl")
        #expect(pci.filter { $0 == "A1 be=7" }.count == 2)
        #expect(pci.filter { $0 == "D5 fe=7" }.count == 2)
        #expect(pci.filter { $0 == "D0 be=8" }.count == 2)
    }

    /// `xl vtpm-detach` with a driver-domain backend: dom0's libxl removes only the frontend (and `/libxl`) paths, the
    /// backend path is the driver domain's to remove (a Mini-OS vTPM domain never does). The removed frontend
    /// directory reads as state Unknown; xenbus.xpd's closing expectations wait only on a directory that still
    /// exists (`present(fe/state)`), so nobody is blamed for the wait that follows the removal.
    @Test func driverDomainUnplugIsClean() throws {
        let result = try replayExample("vtpm-unplug.log")
        #expect(result.readerErrors == 0)
        #expect(result.findings.map { "\($0.line): \($0.rule): \($0.message)" } == [])
        #expect(result.summary.pendingExpectations == 0)
    }
}
