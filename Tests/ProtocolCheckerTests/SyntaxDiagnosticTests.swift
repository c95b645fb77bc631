import PolicyDiagnostics
import ProtocolModel
import ProtocolSyntax
import Testing

/// One test per code of the lexer and parser (E0701-E0712), and recovery: every syntax error of a
/// file in one run.
@Suite struct SyntaxDiagnosticTests {
    @Test func e0701IntegerTooLarge() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : u32 writer frontend default 1000000000000000000000000000000000000000000;
                }
                """), "E0701", .error, line: 2, column: 42)
        #expect(diagnostic.message == "integer '1000000000000000000000000000000000000000000' is too large")
    }

    @Test func e0702UnexpectedCharacter() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : u32 writer frontend $;
                }
                """), "E0702", .error, line: 2, column: 34)
        #expect(diagnostic.message == "unexpected character '$'")
    }

    @Test func e0703UnterminatedString() throws {
        // The string ends at the end of the line; the declaration goes on on the next one.
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : string writer frontend default "abc
                  ;
                }
                """), "E0703", .error, line: 2, column: 45)
        #expect(diagnostic.message == "unterminated string literal")
    }

    @Test func e0710UnexpectedToken() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  role r = ;
                }
                """), "E0710", .error, line: 2, column: 12)
        #expect(diagnostic.message == "expected 'domain(param)', 'privileged' or a role name, found ';'")
    }

    @Test func e0711DurationTooLong() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  expect fe.state == Connected within 3000000s after fe.state == Initialising blame frontend;
                }
                """), "E0711", .error, line: 2, column: 46)
        #expect(diagnostic.message == "duration is too long")
    }

    /// A number of seconds whose milliseconds overflow even 128 bits is too long, not a crash.
    @Test func e0711DurationOverflowingMilliseconds() throws {
        try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  expect fe.state == Connected within 100000000000000000000000000000000000000s
                    after fe.state == Initialising blame frontend;
                }
                """), "E0711", .error, line: 2, column: 78)
    }

    @Test func e0712ExpressionTooLong() throws {
        let operands = String(repeating: " + 1", count: 1000)
        let diagnostic = try expectSingle(
            diagnose("protocol p extends xb {\n  guarantee g: always 1\(operands) > 0 blame writer;\n}\n"), "E0712", .error,
            line: 2, column: 4023)
        #expect(diagnostic.message == "expression is too large: more than 1000 operands or parentheses")
        // 1000 operands are fine (1, 998 more, and 0).
        let most = String(repeating: " + 1", count: 998)
        #expect(diagnose("protocol p extends xb {\n  guarantee g: always 1\(most) > 0 blame writer;\n}\n").isEmpty)
    }

    /// Deep nesting is refused before it can exhaust the stack of the parser or of the later stages.
    @Test func e0712ExpressionTooDeep() throws {
        let depth = 20000
        let nested = String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth)
        try expectSingle(
            diagnose("protocol p extends xb {\n  guarantee g: always \(nested) == 1 blame writer;\n}\n"), "E0712", .error,
            line: 2, column: 1023)
    }

    /// Consecutive stray characters are one diagnostic at the first, with the run's length.
    @Test func e0702RunOfUnexpectedCharacters() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : u32 writer frontend $$$;
                }
                """), "E0702", .error, line: 2, column: 34)
        #expect(diagnostic.message == "unexpected characters '$$$' (3 bytes)")
    }

    /// A megabyte of one stray character was a million diagnostics; it is one, which shows the run's
    /// first 16 bytes.
    @Test func aLongRunOfUnexpectedCharactersIsOneDiagnostic() throws {
        let diagnostic = try expectSingle(diagnose(String(repeating: "#", count: 1 << 20)), "E0702", .error, line: 1, column: 1)
        #expect(diagnostic.message == "unexpected characters '################…' (1048576 bytes)")
    }

    /// A run ends at whatever `next()` would take: trivia, a comment, a token (`&&` is one, `&` is not).
    @Test(arguments: [
        ("$$ $$", ["1:1 '$$' (2 bytes)", "1:4 '$$' (2 bytes)"]),
        ("$$\n$", ["1:1 '$$' (2 bytes)", "2:1 '$'"]),
        ("$$// a comment $$", ["1:1 '$$' (2 bytes)"]),
        ("$/$", ["1:1 '$/$' (3 bytes)"]),
        ("@&&", ["1:1 '@'"]),
        ("@&@", ["1:1 '@&@' (3 bytes)"]),
        ("$$a$$", ["1:1 '$$' (2 bytes)", "1:4 '$$' (2 bytes)"]),
        ("$\"x\"$", ["1:1 '$'", "1:5 '$'"]),
        ("$$7", ["1:1 '$$' (2 bytes)"]),
        ("$$->", ["1:1 '$$' (2 bytes)"]),
    ])
    func whereARunOfUnexpectedCharactersEnds(_ source: String, _ expected: [String]) {
        let (_, diagnostics) = Parser.parse(source: Array(source.utf8), file: testFile)
        let runs = diagnostics.filter { $0.code == "E0702" }.map { diagnostic in
            let spelled = diagnostic.message.replacingOccurrences(of: "unexpected characters ", with: "")
                .replacingOccurrences(of: "unexpected character ", with: "")
            return "\(diagnostic.location.line):\(diagnostic.location.column) \(spelled)"
        }
        #expect(runs == expected, "\(diagnostics.map(describe))")
    }

    /// Bytes that are not ASCII are spelled `\xNN` (a run may cut a UTF-8 sequence), a single one as before.
    @Test func unexpectedBytesThatAreNotASCII() {
        let (_, diagnostics) = Parser.parse(source: [0xC3, 0xA9, 0x20, 0xFF], file: testFile)
        #expect(
            diagnostics.map(\.message) == ["unexpected characters '\\xc3\\xa9' (2 bytes)", "unexpected character '\\xff'"],
            "\(diagnostics.map(describe))")
    }

    /// Outside a unit, stray tokens up to the next `import`, `library` or `protocol` are one E0710, and
    /// what follows is parsed.
    @Test func strayTokensBetweenUnitsAreOneError() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            }; }; key fe/x : u32 writer frontend; ;
            ) ; 1 2 "three" @
            protocol p extends xb { }
            key fe/y : u32;
            protocol q extends xb { dir fe = "/q/{fe}" owner frontend; dir be = "/q/{be}/b" owner backend; }
            """)
        #expect(
            diagnostics.map(brief) == ["t.xpd:2:17 error E0702", "t.xpd:1:1 error E0710", "t.xpd:4:1 error E0710"],
            "\(diagnostics.map(describe))")
        #expect(definitions.map(\.name) == ["p", "q"])
        #expect(
            diagnostics.filter { $0.code == "E0710" }.map(\.message) == [
                "expected 'import', 'library' or 'protocol', found '}' (17 stray tokens skipped)",
                "expected 'import', 'library' or 'protocol', found 'key' (5 stray tokens skipped)",
            ])
    }

    /// Inside a library, a protocol or a machine, a run of stray tokens (pieces up to their `;` that
    /// each start with a token that cannot start a declaration or transition) is one E0710 that
    /// says how many tokens it skipped. A megabyte of `;` in a protocol body was a million errors.
    /// The declarations after the run are parsed, and later errors are still reported.
    @Test func strayTokensInABlockAreOneError() throws {
        let (definitions, checked) = checkWithLibrary(
            """
            protocol p extends xb {
              ;;;;;; ; ;
              key fe/a : u32 writer frontend;
              a; b c; 1 ; "x" ) ] ;
              role r = ;
              key fe/b : u32 writer frontend;
              machine fe.state { ; ; -> ;; Initialising -> Closed by frontend; key ; }
              nonsense
            }
            """)
        let diagnostics = checked.filter { $0.severity == .error }
        #expect(
            diagnostics.map(brief) == [
                "t.xpd:2:3 error E0710",
                "t.xpd:4:3 error E0710",
                "t.xpd:5:12 error E0710",
                "t.xpd:7:22 error E0710",
                "t.xpd:7:68 error E0710",
                "t.xpd:8:3 error E0710",
            ], "\(diagnostics.map(describe))")
        #expect(
            diagnostics.map(\.message) == [
                "expected a declaration, found ';' (8 stray tokens skipped)",
                "expected a declaration (params, role, type, enum, dir, key, pred, machine, guarantee, expect, option, labels), "
                    + "found 'a' (11 stray tokens skipped)",
                "expected 'domain(param)', 'privileged' or a role name, found ';'",
                "expected a state, '{states}' or '*', found ';' (5 stray tokens skipped)",
                "expected a state, '{states}' or '*', found 'key' (2 stray tokens skipped)",
                "expected a declaration (params, role, type, enum, dir, key, pred, machine, guarantee, expect, option, labels), "
                    + "found 'nonsense'",
            ])
        let p = try #require(definitions.first)
        #expect(Set(p.keys.map(\.pattern.description)).isSuperset(of: ["a", "b"]))
        #expect(p.machines.first?.transitions.count == 1)
    }

    /// A megabyte of `;` in a protocol body is one error, and the declaration after it is parsed.
    @Test func aMegabyteOfSemicolonsInABlockIsOneError() throws {
        let semicolons = String(repeating: ";", count: 1 << 20)
        let (definitions, diagnostics) = checkWithLibrary(
            "protocol p extends xb {\n\(semicolons)\n  key fe/n : u32 writer frontend;\n  role ;\n}\n")
        #expect(diagnostics.map(brief) == ["t.xpd:2:1 error E0710", "t.xpd:4:8 error E0710"], "\(diagnostics.map(describe))")
        #expect(diagnostics.first?.message == "expected a declaration, found ';' (1048576 stray tokens skipped)")
        #expect(definitions.first?.keys.contains { $0.pattern.description == "n" } == true)
    }

    /// A stray ')' or ']' inside a block is skipped, not parsed again forever.
    @Test func strayClosingBracketsAreSkipped() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              ) ;
              key fe/n : u32 writer frontend;
              machine fe.state { ] ; Initialising -> Closed by frontend; }
              expect fe.state == Closed within 10s after fe.state == Initialising blame frontend;
            }
            """)
        #expect(diagnostics.map(brief) == ["t.xpd:2:3 error E0710", "t.xpd:4:22 error E0710"], "\(diagnostics.map(describe))")
        let p = try #require(definitions.first)
        #expect(p.keys.contains { $0.pattern.description == "n" })
        #expect(p.machines.first?.transitions.count == 1)
    }

    /// Lexer and parser errors in different declarations, machines and units are all reported, and
    /// the well-formed declarations between them survive.
    @Test func everySyntaxErrorOfAFileInOneRun() throws {
        let (definitions, diagnostics) = checkWithLibrary(
            """
            protocol p extends xb {
              key fe/a : u32 writer ;
              key fe/b : u32 writer frontend # ;
              machine fe.state {
                Initialising -> by frontend;
                Initialising -> Closed by frontend;
              }
              expect fe.state == Closed within 10 after fe.state == Initialising blame frontend;
              expect fe.state == Closed within 10s after fe.state == Initialising blame frontend;
            }
            protocol q extends { }
            library r {
              dir x = "/x" ;
            }
            """)
        #expect(
            diagnostics.map(brief) == [
                "t.xpd:3:34 error E0702",
                "t.xpd:2:25 error E0710",
                "t.xpd:5:21 error E0710",
                "t.xpd:8:39 error E0710",
                "t.xpd:11:20 error E0710",
                "t.xpd:13:16 error E0710",
            ], "\(diagnostics.map(describe))")
        // p keeps fe/b, the well-formed transition and the well-formed expectation.
        let p = try #require(definitions.first { $0.name == "p" })
        #expect(p.keys.contains { $0.pattern.description == "b" })
        #expect(p.machines.first?.transitions.count == 1)
        #expect(p.expectations.count == 1)
    }
}
