import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import Testing

/// `import` (beside the importing file, then the search paths; cycles) and `extends` (keys and
/// directories replaced, transitions added).
@Suite struct ImportAndInheritanceTests {
    static let protocolUsingTheLibrary = "import xb;\nprotocol p extends xb { }\n"

    @Test func importsResolveBesideTheImportingFile() throws {
        try withTemporaryDirectory { directory in
            let library = try write(xenbusLibrary, to: "protocols/xb.xpd", in: directory)
            let main = try write(Self.protocolUsingTheLibrary, to: "protocols/main.xpd", in: directory)
            let loaded = ProtocolLoader().load([main])
            #expect(loaded.diagnostics.map(describe) == [])
            #expect(loaded.files.map(\.path) == [main, library])
            #expect(loaded.givenCount == 1)
            let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
            #expect(diagnostics.map(describe) == [])
            #expect(definitions.map(\.name) == ["p"])
        }
    }

    @Test func importsResolveThroughSearchPaths() throws {
        try withTemporaryDirectory { directory in
            let library = try write(xenbusLibrary, to: "lib/xb.xpd", in: directory)
            let main = try write(Self.protocolUsingTheLibrary, to: "protocols/main.xpd", in: directory)
            // Not beside the file: not found without a search path ...
            #expect(ProtocolLoader().load([main]).diagnostics.map(\.code) == ["E0720"])
            // ... found through one, after directories that do not have it.
            let searchPaths = [directory.appendingPathComponent("empty").path, directory.appendingPathComponent("lib").path]
            let loaded = ProtocolLoader(searchPaths: searchPaths).load([main])
            #expect(loaded.diagnostics.map(describe) == [])
            #expect(loaded.files.map(\.path) == [main, library])
            #expect(ProtocolChecker().check(loaded.files).diagnostics.map(describe) == [])
        }
    }

    @Test func theFileBesideTheImporterWinsOverTheSearchPath() throws {
        try withTemporaryDirectory { directory in
            let beside = try write(xenbusLibrary, to: "protocols/xb.xpd", in: directory)
            try write("library xb { }", to: "lib/xb.xpd", in: directory)
            let main = try write(Self.protocolUsingTheLibrary, to: "protocols/main.xpd", in: directory)
            let loaded = ProtocolLoader(searchPaths: [directory.appendingPathComponent("lib").path]).load([main])
            #expect(loaded.files.map(\.path) == [main, beside])
        }
    }

    @Test func importCyclesAreHarmless() throws {
        try withTemporaryDirectory { directory in
            let a = try write("import b;\nlibrary a { }\n", to: "a.xpd", in: directory)
            let b = try write("import a;\nimport b;\nlibrary b { }\n", to: "b.xpd", in: directory)
            let main = try write("import a;\nimport b;\nprotocol p extends a { }\n", to: "main.xpd", in: directory)
            let loaded = ProtocolLoader().load([main])
            #expect(loaded.diagnostics.map(describe) == [])
            // Each file once, however often and however circularly it is imported.
            #expect(loaded.files.map(\.path) == [main, a, b])
            let (definitions, diagnostics) = ProtocolChecker().check(loaded.files)
            #expect(diagnostics.map(describe) == [])
            #expect(definitions.map(\.name) == ["p"])
        }
    }

    @Test func aFileGivenTwiceIsReadOnce() throws {
        try withTemporaryDirectory { directory in
            let library = try write(xenbusLibrary, to: "xb.xpd", in: directory)
            let main = try write(Self.protocolUsingTheLibrary, to: "main.xpd", in: directory)
            let loaded = ProtocolLoader().load([library, main, directory.path + "/./xb.xpd"])
            #expect(loaded.files.map(\.path) == [library, main])
            #expect(ProtocolChecker().check(loaded.files).diagnostics.map(describe) == [])
        }
    }

    /// library xb <- protocol base <- protocol derived: a key declared again replaces the inherited one,
    /// machine transitions are added to the inherited ones, everything else is inherited.
    @Test func extendsChainsMerge() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol base extends xb {
              key fe/mode : "r" | "w" writer frontend;
              key fe/size : u32 writer frontend;
              machine fe.state {
                Initialising -> Connected by frontend;
                Connected -> Closed by frontend;
              }
              expect fe.state == Connected within 10s after fe.state == Initialising blame frontend;
            }
            protocol derived extends base {
              dir fe = "/local/domain/{fe}/device/d/{devid}" owner frontend readers backend;
              dir be = "/local/domain/{be}/backend/d/{fe}/{devid}" owner backend readers frontend;
              key fe/mode : "r" | "w" | "x" writer frontend phase {Initialising};
              machine fe.state {
                Closed -> Initialising by frontend;
              }
            }
            """)
        #expect(diagnostics.map(describe) == [])
        #expect(definitions.map(\.name) == ["base", "derived"])
        let base = try #require(definitions.first)
        let derived = try #require(definitions.last)
        #expect(derived.roles == base.roles)
        #expect(derived.parameters == ["fe", "be", "devid"])
        // Keys: same order, the replaced one in its inherited place with the new type and phase.
        #expect(derived.keys.map(\.pattern.description) == ["state", "state", "online", "backend", "frontend", "mode", "size"])
        #expect(base.keys[5].type == .literals(["r", "w"]))
        #expect(base.keys[5].phase == nil)
        #expect(derived.keys[5].type == .literals(["r", "w", "x"]))
        #expect(derived.keys[5].phase == StateMask([1]))
        #expect(derived.keys[6] == base.keys[6])
        // Directories: replaced.
        #expect(derived.directories.map(\.name) == ["fe", "be"])
        #expect(derived.directories[0].segments[4] == .literal("d"))
        // Machines: the derived transition is added after the inherited one.
        #expect(base.machines.map { $0.transitions.map(\.to) } == [[4, 6]])
        #expect(derived.machines.map { $0.transitions.map(\.to) } == [[4, 6, 1]])
        #expect(derived.expectations.count == 1)
    }

    /// A state key declared again may use another enum: the inherited declaration no longer counts.
    @Test func replacedStateKeysMayChangeTheirEnum() {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              enum Phase { Unknown = 0, Up = 1, Down = 2 }
              key fe.state : enum Phase init toolstack = Up writer frontend;
              key be.state : enum Phase init toolstack = Up writer backend;
            }
            """)
        #expect(diagnostics.map(describe) == [])
        #expect(definitions.first?.states.map(\.name) == ["Unknown", "Up", "Down"])
    }

    /// A protocol extending another keeps the inherited directories; checked together, the two claim
    /// the same paths (E0746).
    @Test func aProtocolAndItsExtensionOverlap() {
        let diagnostics = diagnose(
            """
            protocol base extends xb { }
            protocol derived extends base { }
            """)
        #expect(diagnostics.map(brief) == ["xb.xpd:11:7 error E0746", "xb.xpd:12:7 error E0746"], "\(diagnostics.map(describe))")
    }
}
