/// Builds the small protocol descriptions of the protocol rules' examples: one self-contained file
/// (no imports) with a protocol `p` holding the xenbus states, the parameters `fe`, `be` and `devid`,
/// the roles `frontend`, `backend` and `toolstack`, the directories `fe` (read by the backend) and
/// `be` (read by the frontend), their state keys, and a handshake that lints clean: both sides
/// connect and close, and an expectation is armed in every unfinished state. A `↓` in a line puts
/// the expected-finding marker there.
enum ExampleProtocol {
    /// The frontend's transitions of the clean handshake.
    static let frontendTransitions = [
        "Initialising -> Connected by frontend when be.state == Connected;",
        "{Initialising, Connected} -> Closed by frontend;",
    ]

    /// The backend's transitions of the clean handshake.
    static let backendTransitions = [
        "Initialising -> Connected by backend;",
        "{Initialising, Connected} -> Closed by backend;",
    ]

    /// Expectations covering every reachable state of the clean handshake but (Connected, Connected)
    /// and (Closed, Closed), which are finished.
    static let expectations = [
        "expect be.state != Initialising within 10s after be.state == Initialising blame backend;",
        "expect fe.state != Initialising within 30s after fe.state == Initialising && be.state != Initialising blame frontend;",
        "expect be.state == Closed within 10s after fe.state == Closed && be.state != Closed blame backend;",
        "expect fe.state == Closed within 10s after be.state == Closed && fe.state != Closed blame frontend;",
    ]

    /// The description: `declarations` after the standard ones, then the two machines (nil: no
    /// machines, and no expectations unless given), then `expectations`.
    static func description(
        _ declarations: [String] = [], frontend: [String]? = frontendTransitions, backend: [String]? = backendTransitions,
        expectations: [String]? = nil, name: String = "p"
    ) -> String {
        var lines = [
            "protocol \(name) {",
            "  enum XenbusState { Unknown = 0, Initialising = 1, InitWait = 2, Initialised = 3,",
            "                     Connected = 4, Closing = 5, Closed = 6 }",
            "  type u32 = uint [0 .. 4294967296);",
            "  params (fe: u32, be: u32, devid: u32);",
            "  role frontend = domain(fe);",
            "  role backend = domain(be);",
            "  role toolstack = privileged;",
            "  dir fe = \"/local/domain/{fe}/device/x/{devid}\" owner frontend readers backend;",
            "  dir be = \"/local/domain/{be}/backend/x/{fe}/{devid}\" owner backend readers frontend;",
            "  key fe.state : enum XenbusState init toolstack = Initialising writer frontend;",
            "  key be.state : enum XenbusState init toolstack = Initialising writer backend;",
            "  key fe/backend : string init toolstack link be;",
            "  key be/frontend : string init toolstack link fe;",
        ]
        lines += declarations.map { "  " + $0 }
        if let frontend {
            lines.append("  machine fe.state {")
            lines += frontend.map { "    " + $0 }
            lines.append("  }")
        }
        if let backend {
            lines.append("  machine be.state {")
            lines += backend.map { "    " + $0 }
            lines.append("  }")
        }
        let machines = frontend != nil || backend != nil
        lines += (expectations ?? (machines ? Self.expectations : [])).map { "  " + $0 }
        lines += ["}", ""]
        return lines.joined(separator: "\n")
    }
}
