import PolicyDiagnostics

/// One thing the reference checker found in a trace: a violation of a protocol description, blamed on
/// one party, or a lower-severity finding (an undeclared key under `unknown_keys = audit`, an
/// expression that could not be evaluated). See `docs/replay.md`.
public struct Finding: Sendable, Equatable {
    /// How serious the finding is.
    public enum Severity: String, Sendable, Equatable, CaseIterable {
        /// A rule of the description was broken; the trace is not clean.
        case violation
        /// `unknown_keys = audit`: an undeclared key was written; reported, allowed.
        case audit
        /// The checker could not evaluate an expression of the description (a loop ran too long, a
        /// value had the wrong kind); the expression was taken as false.
        case evaluation
    }

    public var severity: Severity
    /// The trace line of the message that broke the rule (for an expectation: the line whose commit
    /// armed the timer; `detectedLine` is the line whose time passed the deadline).
    public var line: Int
    /// The time of that line, milliseconds since the epoch, when the trace shows it.
    public var time: Int64?
    /// The domain blamed (a socket connection of the toolstack counts as domain 0).
    public var domid: Int
    /// The role blamed: `frontend`, `backend`, `toolstack`, ..., `dom0 (backend/toolstack)` when the
    /// domain plays several roles of the instance, `other` when it plays none.
    public var role: String
    /// The protocol (`vbd`); empty for findings outside any protocol.
    public var protocolName: String
    /// The instance, `vbd fe=5 be=0 devid=768` (parameters not yet known are left out).
    public var instance: String
    /// The rule: `key fe/ring-ref: phase`, `transition fe.state Initialising -> Connected`,
    /// `guarantee be_stays_out_of_fe`, `expect be.state == InitWait within 10s`, ...
    public var rule: String
    /// Where the rule was written: `file:line:column` of the description.
    public var origin: String
    /// What happened, in a sentence.
    public var message: String
    /// The xenstore path of the message, when there is one.
    public var path: String?
    /// For expectations: the line whose time showed that the deadline had passed.
    public var detectedLine: Int?
    /// How many more times the same party broke the same rule in the same instance (not reported again).
    public var repeats: Int

    public init(
        severity: Severity, line: Int, time: Int64?, domid: Int, role: String, protocolName: String, instance: String, rule: String,
        origin: String, message: String, path: String? = nil, detectedLine: Int? = nil, repeats: Int = 0
    ) {
        self.severity = severity
        self.line = line
        self.time = time
        self.domid = domid
        self.role = role
        self.protocolName = protocolName
        self.instance = instance
        self.rule = rule
        self.origin = origin
        self.message = message
        self.path = path
        self.detectedLine = detectedLine
        self.repeats = repeats
    }

    /// The JSON object `--format json` prints for this finding.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("line", .int(line)), ("domid", .int(domid)), ("role", .string(role)), ("protocol", .string(protocolName)),
            ("instance", .string(instance)), ("rule", .string(rule)), ("message", .string(message)), ("origin", .string(origin)),
            ("severity", .string(severity.rawValue)),
        ]
        if let time { members.append(("time", .string(ReplayTime.iso8601(time)))) }
        if let path { members.append(("path", .string(path))) }
        if let detectedLine { members.append(("detected_line", .int(detectedLine))) }
        if repeats > 0 { members.append(("repeats", .int(repeats))) }
        return .object(members)
    }
}

/// What a replay amounted to.
public struct ReplaySummary: Sendable, Equatable {
    /// Messages (trace events) replayed.
    public var messages = 0
    /// Instances created during the replay.
    public var instancesCreated = 0
    /// Instances still alive at the end of the trace.
    public var instancesLive = 0
    /// Expectation timers armed but not expired at the end of the trace (not reported: the trace ended
    /// before their deadline).
    public var pendingExpectations = 0
    /// Messages inside transactions that never ended (dropped: never committed as far as the trace shows).
    public var uncommittedMessages = 0

    public init() {}
}

/// Formatting of trace times.
public enum ReplayTime {
    /// `2026-11-27T10:00:05.000Z`.
    public static func iso8601(_ milliseconds: Int64) -> String {
        let ms = Int(((milliseconds % 1000) + 1000) % 1000)
        let totalSeconds = (milliseconds - Int64(ms)) / 1000
        var days = Int(totalSeconds >= 0 ? totalSeconds / 86_400 : (totalSeconds - 86_399) / 86_400)
        let secondsOfDay = Int(totalSeconds - Int64(days) * 86_400)
        // Civil from days (Howard Hinnant's algorithm).
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):"
            + "\(pad(secondsOfDay % 60, 2)).\(pad(ms, 3))Z"
    }

    /// `10s`, `1500ms`.
    public static func duration(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
