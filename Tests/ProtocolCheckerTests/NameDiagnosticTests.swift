import Foundation
import PolicyDiagnostics
import ProtocolChecker
import ProtocolModel
import Testing

/// One test per code of name resolution and type checking (E0720-E0739, W0720, W0721).
@Suite struct NameDiagnosticTests {
    @Test func theLibraryAloneIsClean() {
        let (definitions, diagnostics) = checkWithLibrary("protocol p extends xb { }")
        #expect(diagnostics.map(describe) == [])
        #expect(definitions.map(\.name) == ["p"])
        #expect(definitions.first?.roles.map(\.name) == ["frontend", "backend", "toolstack", "hotplug"])
    }

    @Test func e0720LibraryNotFound() throws {
        try withTemporaryDirectory { directory in
            let main = try write("import nowhere;\nprotocol p { }\n", to: "main.xpd", in: directory)
            let loaded = ProtocolLoader().load([main])
            let diagnostic = try expectSingle(loaded.diagnostics, "E0720", .error, line: 1, column: 8, file: main)
            #expect(diagnostic.message == "cannot find library 'nowhere' (looked for 'nowhere.xpd' beside '\(main)')")
            #expect(diagnostic.hint == "pass its directory with -I")
            #expect(loaded.files.count == 1)
            #expect(!loaded.hasIOFailure)
        }
    }

    @Test func e0721UnitDefinedTwice() throws {
        let diagnostic = try expectSingle(diagnose("library xb { }"), "E0721", .error, line: 1, column: 9)
        #expect(diagnostic.message == "'xb' is defined more than once")
        #expect(diagnostic.notes == [DiagnosticNote("first defined here", at: SourceLocation(file: "xb.xpd", line: 1, column: 9))])
    }

    @Test func e0722UnknownParent() throws {
        let diagnostic = try expectSingle(diagnose("protocol p extends xbb { }"), "E0722", .error, line: 1, column: 20)
        #expect(diagnostic.message == "'p' extends unknown 'xbb'")
        #expect(diagnostic.hint == "did you mean 'xb'?")
    }

    @Test func e0722InheritanceCycle() {
        let diagnostics = diagnose(
            """
            protocol a extends b { }
            protocol b extends a { }
            """)
        #expect(diagnostics.map(brief) == ["t.xpd:2:20 error E0722", "t.xpd:1:20 error E0722"], "\(diagnostics.map(describe))")
        #expect(diagnostics.first?.message == "'a' extends itself through 'a'")
    }

    @Test func e0723UnknownParameter() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  role r = domain(fee);
                }
                """), "E0723", .error, line: 2, column: 19)
        #expect(diagnostic.message == "unknown parameter 'fee'")
        #expect(diagnostic.hint == "did you mean 'fe'?")
    }

    @Test func e0723UnknownParameterInTemplate() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir x = "/x/{fee}" owner toolstack;
                }
                """), "E0723", .error, line: 2, column: 11)
        #expect(diagnostic.message == "unknown parameter 'fee' in directory template")
    }

    @Test func e0724UnknownRole() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : u32 writer frontnd;
                }
                """), "E0724", .error, line: 2, column: 25)
        #expect(diagnostic.message == "unknown role 'frontnd'")
        #expect(diagnostic.hint == "did you mean 'frontend'?")
    }

    @Test func e0724AliasCycle() throws {
        let diagnostics = diagnose(
            """
            protocol p extends xb {
              role a = b;
              role b = a;
            }
            """)
        #expect(diagnostics.map(brief) == ["t.xpd:1:10 error E0724", "t.xpd:1:10 error E0724"], "\(diagnostics.map(describe))")
        #expect(diagnostics.map(\.message) == ["role 'a' is an alias of itself", "role 'b' is an alias of itself"])
    }

    @Test func e0725MalformedTemplate() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir x = "local/x" owner toolstack;
                }
                """), "E0725", .error, line: 2, column: 11)
        #expect(diagnostic.message == "directory template 'local/x' must be an absolute path without a trailing '/'")
    }

    @Test func e0725MixedTemplateSegment() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir x = "/x/dev-{devid}" owner toolstack;
                }
                """), "E0725", .error, line: 2, column: 11)
        #expect(diagnostic.message == "a template segment is either a literal or one {parameter}: 'dev-{devid}'")
    }

    /// The replay identifies a concrete directory by its variable segments' values, kept inline.
    @Test func e0755TooManyVariableSegments() throws {
        let five = String(repeating: "/{a|b}", count: 5)
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir x = "\(five)" owner toolstack;
                }
                """), "E0755", .error, line: 2, column: 11)
        #expect(diagnostic.message == "directory template '\(five)' has 5 variable segments; at most 4 are allowed")
        let four = String(repeating: "/{a|b}", count: 4)
        let accepted = try diagnose(
            """
            protocol p extends xb {
              dir x = "\(four)" owner toolstack;
            }
            """)
        #expect(!accepted.contains { $0.code.rawValue == "E0755" })
    }

    /// An empty segment makes the template unusable; it is reported, not dropped silently.
    @Test func e0725EmptyTemplateSegment() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir x = "/x//{devid}" owner toolstack;
                }
                """), "E0725", .error, line: 2, column: 11)
        #expect(diagnostic.message == "directory template '/x//{devid}' has an empty segment")
    }

    @Test func e0726StateKeyWithoutEnum() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe.state : string writer frontend;
                }
                """), "E0726", .error, line: 2, column: 18)
        #expect(diagnostic.message == "'fe.state' must have an enum type")
    }

    @Test func e0726TwoStateEnums() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  enum Other { Unknown = 0, Initialising = 1 }
                  key be.state : enum Other writer backend;
                }
                """), "E0726", .error, line: 3, column: 23)
        #expect(diagnostic.message == "all state keys must use one enum; 'be.state' uses 'Other', others 'XenbusState'")
    }

    @Test func e0726StateValueOutOfRange() {
        let diagnostics = diagnose(
            """
            protocol p extends xb {
              enum XenbusState { Unknown = 0, Initialising = 1, Closed = 6, Big = 32 }
            }
            """)
        #expect(diagnostics.map(brief) == ["t.xpd:2:8 warning W0720", "t.xpd:2:65 error E0726"], "\(diagnostics.map(describe))")
        #expect(diagnostics.last?.message == "state 'Big' = 32: state values must be 0 to 31")
    }

    /// A state value too large for any integer type is reported, not a crash, also when used.
    @Test func e0726HugeStateValue() {
        let diagnostics = diagnose(
            """
            protocol p extends xb {
              enum XenbusState { Unknown = 0, Initialising = 1, Huge = 100000000000000000000 }
              key fe/n : u32 writer frontend phase {Huge};
              machine fe.state { Initialising -> Huge by frontend; }
            }
            """)
        #expect(diagnostics.map(brief) == ["t.xpd:2:8 warning W0720", "t.xpd:2:53 error E0726"], "\(diagnostics.map(describe))")
    }

    @Test func e0727UnknownType() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : u33 writer frontend;
                }
                """), "E0727", .error, line: 2, column: 14)
        #expect(diagnostic.message == "unknown type 'u33'")
        #expect(diagnostic.hint == "did you mean 'u32'?")
    }

    @Test func e0727UnknownParameterType() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  params (fe: domd, be: domid, devid: u32);
                }
                """), "E0727", .error, line: 2, column: 15)
        #expect(diagnostic.hint == "did you mean 'domid'?")
    }

    /// A state key's type is resolved for its enum and for its value type; reported once.
    @Test func e0727UnknownStateKeyTypeIsReportedOnce() {
        let diagnostics = diagnose(
            """
            protocol p extends xb {
              key fe.state : Xenbus writer frontend;
            }
            """)
        #expect(diagnostics.map(brief) == ["t.xpd:2:18 error E0727", "t.xpd:2:18 error E0726"], "\(diagnostics.map(describe))")
    }

    @Test func e0727RecursiveType() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  type a = b;
                  type b = a;
                  key fe/n : a writer frontend;
                }
                """), "E0727", .error, line: 3, column: 12)
        #expect(diagnostic.message == "type 'a' is defined in terms of itself")
    }

    @Test func e0727EmptyRange() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : uint [4 .. 4) writer frontend;
                }
                """), "E0727", .error, line: 2, column: 14)
        #expect(diagnostic.message == "a uint range must be two constants with lower < upper")
    }

    @Test func e0727InvalidRegularExpression() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : string ~ "[a-" writer frontend;
                }
                """), "E0727", .error, line: 2, column: 14)
        #expect(diagnostic.message == "invalid regular expression '[a-'")
    }

    @Test func e0727UnknownEnum() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : enum XenbusStat writer frontend;
                }
                """), "E0727", .error, line: 2, column: 19)
        #expect(diagnostic.message == "unknown enum 'XenbusStat'")
        #expect(diagnostic.hint == "did you mean 'XenbusState'?")
    }

    @Test func e0728UnknownState() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/n : u32 writer frontend phase {Initialising, Connectd};
                }
                """), "E0728", .error, line: 2, column: 55)
        #expect(diagnostic.message == "unknown state 'Connectd'")
        #expect(diagnostic.hint == "did you mean 'Connected'?")
    }

    @Test func e0728UnknownInitialState() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe.state : enum XenbusState init toolstack = Starting writer frontend;
                }
                """), "E0728", .error, line: 2, column: 7)
        #expect(diagnostic.message == "initial state 'Starting' is not a state")
    }

    @Test func e0728UnknownTargetState() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  machine fe.state { Initialising -> Conected by frontend; }
                }
                """), "E0728", .error, line: 2, column: 38)
        #expect(diagnostic.hint == "did you mean 'Connected'?")
    }

    @Test func e0729MachineOnAnOrdinaryKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  machine be/online { Initialising -> Closed by backend; }
                }
                """), "E0729", .error, line: 2, column: 11)
        #expect(diagnostic.message == "'be/online' is not of the state type, so no machine can drive it")
    }

    @Test func e0729MachineOnAnUndeclaredKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  machine be/state-{n} { Initialising -> Closed by backend; }
                }
                """), "E0729", .error, line: 2, column: 11)
        #expect(diagnostic.message == "'be/state-{n}' is not declared as a key")
    }

    @Test func e0729UndeclaredStateKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  dir x = "/x/{devid}" owner toolstack;
                  machine x.state { Initialising -> Closed by toolstack; }
                  key x/device : string init toolstack link fe;
                }
                """), "E0729", .error, line: 3, column: 11)
        #expect(diagnostic.message == "'x.state' is not declared as a key")
    }

    @Test func e0730UnknownName() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: always fe.state == Conected blame writer;
                }
                """), "E0730", .error, line: 2, column: 35)
        #expect(diagnostic.message == "unknown name 'Conected'")
        #expect(diagnostic.hint == "did you mean 'Connected'?")
    }

    @Test func e0731WrongArgumentCount() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: always present(be/online, be/online) blame writer;
                }
                """), "E0731", .error, line: 2, column: 23)
        #expect(diagnostic.message == "'present' takes 1 argument(s), given 2")
    }

    @Test func e0731KeyArgumentExpected() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: always val(fe.state) == 1 blame writer;
                }
                """), "E0731", .error, line: 2, column: 27)
        #expect(diagnostic.message == "val takes a key such as 'fe/ring-ref'")
    }

    @Test func e0731SeenArguments() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: always seen(fe.state, 4) blame writer;
                }
                """), "E0731", .error, line: 2, column: 38)
        #expect(diagnostic.message == "seen's second argument must be a state name")
    }

    @Test func e0731PredicateArity() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  pred up(d) = d/online == "1";
                  guarantee g: always up blame writer;
                }
                """), "E0731", .error, line: 3, column: 23)
        #expect(diagnostic.message == "predicate 'up' takes 1 argument(s), given 0")
    }

    @Test func e0732UnknownFunction() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: always presnt(be/online) blame writer;
                }
                """), "E0732", .error, line: 2, column: 23)
        #expect(diagnostic.message == "unknown function or predicate 'presnt'")
        #expect(diagnostic.hint == "did you mean 'present'?")
    }

    @Test func e0733RecursivePredicate() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  pred up = be/online == "1" && down;
                  pred down = !up;
                  guarantee g: always up blame writer;
                }
                """), "E0733", .error, line: 3, column: 16)
        #expect(diagnostic.message == "predicate 'up' refers to itself")
    }

    @Test func e0734UnknownDirectoryOfAKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key bee/n : u32 writer backend;
                }
                """), "E0734", .error, line: 2, column: 7)
        #expect(diagnostic.message == "unknown directory 'bee'")
        #expect(diagnostic.hint == "did you mean 'be'?")
    }

    @Test func e0734UnknownDirectoryInAGuarantee() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: never frontend write on bee/** blame writer;
                }
                """), "E0734", .error, line: 2, column: 40)
        #expect(diagnostic.message == "unknown directory 'bee'")
    }

    @Test func e0734PrefixIsNotADirectory() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key be/q/online : "0" | "1" writer backend;
                  pred closed(d) = d.state == Closed;
                  guarantee g: always closed(be/q) blame writer;
                }
                """), "E0734", .error, line: 3, column: 20)
        #expect(diagnostic.message == "'d' stands for a key prefix here, not a directory")
    }

    @Test func e0735MalformedKeyPath() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/ring-ref{i : u32 writer frontend;
                }
                """), "E0735", .error, line: 2, column: 7)
        #expect(diagnostic.message == "malformed key path 'fe/ring-ref{i'")
    }

    @Test func e0736UnboundIndexOfAKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/ring-ref{i} : u32 writer frontend;
                }
                """), "E0736", .error, line: 2, column: 7)
        #expect(diagnostic.message == "index variable 'i' of 'fe/ring-ref{i}' has no 'for i in [..)'")
    }

    @Test func e0736UnboundIndexInAnExpression() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  key fe/ring-ref{i} : u32 writer frontend for i in [0 .. 4);
                  guarantee g: always present(fe/ring-ref{i}) blame writer;
                }
                """), "E0736", .error, line: 3, column: 31)
        #expect(diagnostic.hint == "bind it with 'forall i in [..) : ...'")
    }

    @Test func e0737UndeclaredKey() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  guarantee g: always be/onlin == "1" blame writer;
                }
                """), "E0737", .error, line: 2, column: 23)
        #expect(diagnostic.message == "key 'be/onlin' is not declared")
        #expect(diagnostic.hint == "did you mean 'online'?")
    }

    @Test func e0738BadUnknownKeysValue() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  option unknown_keys = maybe;
                }
                """), "E0738", .error, line: 2, column: 10)
        #expect(diagnostic.message == "unknown_keys must be audit, deny or allow")
    }

    @Test func e0739TooManyRoles() throws {
        let roles = (0...32).map { "  role r\($0) = privileged;" }.joined(separator: "\n")
        let diagnostic = try expectSingle(
            checkProtocols([(testFile, "protocol big {\n\(roles)\n}")]).1, "E0739", .error, line: 1, column: 10)
        #expect(diagnostic.message == "a protocol may declare at most 32 roles")
        // 32 roles are fine.
        let fewer = (0...31).map { "  role r\($0) = privileged;" }.joined(separator: "\n")
        #expect(checkProtocols([(testFile, "protocol big {\n\(fewer)\n}")]).1.map(describe) == [])
    }

    @Test func w0720EnumRedefined() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  enum XenbusState { Unknown = 0, Initialising = 1, Closed = 6 }
                }
                """), "W0720", .warning, line: 2, column: 8)
        #expect(diagnostic.message == "enum 'XenbusState' is redefined")
    }

    @Test func w0721UnknownOption() throws {
        let diagnostic = try expectSingle(
            diagnose(
                """
                protocol p extends xb {
                  option unknown_key = deny;
                }
                """), "W0721", .warning, line: 2, column: 10)
        #expect(diagnostic.message == "unknown option 'unknown_key'")
    }
}
