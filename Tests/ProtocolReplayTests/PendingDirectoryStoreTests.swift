import Testing
import XenstoreTrace

@testable import ProtocolReplay

/// The nodes of a directory whose instance does not exist yet are xenstore's: a request xenstored
/// refuses changes nothing there (the store the instance starts with must not hold what a guest tried
/// to write), and `mkdir` creates parents as it does in an instance.
@Suite struct PendingDirectoryStoreTests {
    let f = TraceBuilder.vbdFrontend(5, 51712)
    let b = TraceBuilder.vbdBackend(0, 5, 51712)

    /// The toolstack makes both directories outside a transaction, so that other connections can
    /// write into them before it links them.
    func makeDirectories(_ trace: inout TraceBuilder) {
        trace.operation("A1", "mkdir", f)
        trace.operation("A1", "mkdir", b)
    }

    /// The rest of libxl's creation, outside a transaction: the links make the instance.
    func linkAndInitialise(_ trace: inout TraceBuilder) {
        trace.write("A1", b + "/frontend", f)
        trace.write("A1", f + "/backend", b)
        for (key, value) in [("backend-id", "0"), ("virtual-device", "51712"), ("state", "1")] { trace.write("A1", f + "/" + key, value) }
        for (key, value) in [("frontend-id", "5"), ("online", "1"), ("state", "1"), ("type", "phy"), ("mode", "w")] {
            trace.write("A1", b + "/" + key, value)
        }
    }

    static func engine(_ trace: TraceBuilder) -> ReplayEngine {
        let engine = ReplayEngine(protocols: exampleProtocols)
        engine.replay(TraceReader(bytes: Array(trace.text.utf8)))
        engine.finish()
        return engine
    }

    static func nodes(_ engine: ReplayEngine, directory: Int) throws -> [String: String] {
        let instance = try #require(engine.instances.values.first)
        var nodes: [String: String] = [:]
        instance.directories[directory].forEachNode { nodes[$0] = $1.value }
        return nodes
    }

    @Test func aRefusedWriteIntoAPendingDirectoryLeavesNoNode() throws {
        var trace = TraceBuilder()
        makeDirectories(&trace)
        let refused = trace.nextLine
        trace.write("D5", b + "/sectors", "41943040")
        trace.error("D5", "EACCES")
        trace.write("D5", b + "/info", "0")  // not refused: it stays
        linkAndInitialise(&trace)
        let engine = Self.engine(trace)
        let backend = try Self.nodes(engine, directory: 1)
        #expect(backend["sectors"] == nil)
        #expect(backend["info"] == "0")
        // The attempt is still what the checker polices.
        #expect(engine.findings.filter { $0.rule == "before instance" }.map(\.line) == [refused])
    }

    @Test func aRefusedWriteOfANestedKeyLeavesNoParent() throws {
        var trace = TraceBuilder()
        makeDirectories(&trace)
        trace.write("D5", f + "/queue-0/ring-ref", "8")
        trace.error("D5", "EACCES")
        linkAndInitialise(&trace)
        let frontend = try Self.nodes(Self.engine(trace), directory: 0)
        #expect(frontend["queue-0"] == nil && frontend["queue-0/ring-ref"] == nil)
        #expect(frontend["backend-id"] == "0")
    }

    /// Not about refusals: `mkdir` before the instance exists creates the parents, as xenstored does
    /// and as it does in an instance.
    @Test func aMkdirIntoAPendingDirectoryCreatesItsParents() throws {
        var trace = TraceBuilder()
        makeDirectories(&trace)
        trace.operation("A1", "mkdir", f + "/queue-0/extra")
        linkAndInitialise(&trace)
        let frontend = try Self.nodes(Self.engine(trace), directory: 0)
        #expect(frontend["queue-0"] == "" && frontend["queue-0/extra"] == "")
    }

    @Test func aRefusedWriteThatStartedAPendingDirectoryIsForgotten() throws {
        var trace = TraceBuilder()
        trace.write("D5", f + "/ring-ref", "8")
        trace.error("D5", "EACCES")
        let engine = Self.engine(trace)
        #expect(engine.pending.isEmpty)
        #expect(engine.findings.map(\.rule) == ["before instance"])
    }

    /// A refused `rm` of a node, or of the directory's root, brings the node back.
    @Test(arguments: ["/physical-device", ""]) func aRefusedRemovalInAPendingDirectoryIsUndone(_ removed: String) throws {
        var trace = TraceBuilder()
        makeDirectories(&trace)
        trace.write("A1", b + "/physical-device", "fd:3")
        trace.operation("D5", "rm", b + removed)
        trace.error("D5", "EACCES")
        linkAndInitialise(&trace)
        #expect(try Self.nodes(Self.engine(trace), directory: 1)["physical-device"] == "fd:3")
    }

    @Test func aRefusedLinkIsForgotten() throws {
        var trace = TraceBuilder()
        makeDirectories(&trace)
        trace.write("A1", b + "/frontend", f)
        trace.error("A1", "EINVAL")
        trace.write("A1", f + "/backend", b)
        let engine = Self.engine(trace)
        // Only one of the two links holds: no instance yet.
        #expect(engine.instances.isEmpty)
        #expect(engine.pending.count == 2)
    }

    /// End to end: the refused writes do not satisfy the backend's obligation to publish the disk's
    /// properties before it connects.
    @Test func aRefusedWriteDoesNotSatisfyAnObligation() {
        var trace = TraceBuilder()
        makeDirectories(&trace)
        for key in ["sectors", "info", "sector-size"] {
            trace.write("D5", b + "/" + key, "1")
            trace.error("D5", "EACCES")
        }
        linkAndInitialise(&trace)
        trace.write("D0", b + "/state", "2")
        trace.write("A2", b + "/physical-device", "fd:3")
        trace.write("D5", f + "/ring-ref", "8")
        trace.write("D5", f + "/event-channel", "17")
        trace.write("D5", f + "/state", "3")
        let connect = trace.nextLine
        trace.write("D0", b + "/state", "4")
        let result = replay(trace.text)
        // Nor the geometry guarantee, which reads the sector size the backend never published.
        #expect(
            result.violations.filter { $0.line == connect }.map(\.rule) == [
                "transition be.state InitWait -> Connected: requires", "guarantee sector_geometry",
            ])
    }
}
