import PolicyDiagnostics
import ProtocolModel
import Testing

/// `link DIR` on a key: the value is the path of another directory of the instance (E0753).
@Suite struct LinkKeyTests {
    @Test func linksResolveToTheirDirectories() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              key fe/backend : string init toolstack link be;
              key be/frontend : string init toolstack link fe;
            }
            """)
        #expect(diagnostics.map(describe) == [])
        let definition = try #require(definitions.first)
        let links = definition.keys.filter { $0.link != nil }.map { "\($0.pattern.directory)/\($0.pattern) -> \($0.link!)" }
        #expect(links == ["0/backend -> 1", "1/frontend -> 0"])
    }

    @Test func e0753LinkToTheKeysOwnDirectory() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/backend : string init toolstack link fe;
                }
                """), "E0753", .error, line: 2, column: 47)
        #expect(diagnostic.message == "'fe/backend' cannot link its own directory")
    }

    @Test func e0753LinkWithIndexVariables() throws {
        try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/peer-{i} : string init toolstack link be for i in [0 .. 2);
                }
                """), "E0753", .error, line: 2, column: 48)
    }

    @Test func linkToAnUnknownDirectory() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/backend : string init toolstack link bee;
                }
                """), "E0734", .error, line: 2, column: 47)
        #expect(diagnostic.hint == "did you mean 'be'?")
    }
}

extension LinkKeyTests {
    /// Without a chain of `link` keys between its directories the checker never creates an instance.
    @Test func w0747DirectoriesNoLinkConnects() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir priv = "/local/domain/0/private/{devid}" owner toolstack;
                }
                """), "W0747", .warning, line: 1, column: 10)
        #expect(diagnostic.message == "no 'link' key connects 'priv' with 'fe', so no instance of this protocol can be created")
    }
}
