/// One client message (or one daemon-side record) taken from a xenstore trace.
///
/// The three trace formats say different amounts about a message (see `docs/traces.md`): fields a
/// format cannot express are `nil` (`time`, `transaction`, `handle`) or have a documented fallback.
///
/// Transactions: a default oxenstored access log shows the writes made inside a transaction (on
/// connections `D5.3`) but not the transaction's start or end, because it logs `t start`/`t end` only
/// with `access-log-transaction-ops`. A replay must therefore treat such writes as committed when it
/// sees them. oxenstored does log a commit's result (`commit`, `coalesce` or `conflict`, see
/// `Operation.transactionOutcome`), but an aborted transaction (`XS_TRANSACTION_END F`) leaves no
/// trace at all. The cxenstored trace shows no transaction ids at all (`transaction` is always `nil`).
public struct TraceEvent: Sendable, Equatable {
    /// 1-based physical line of the trace.
    public var line: Int
    /// Milliseconds since the Unix epoch, UTC; `nil` when the line carries no time.
    public var time: Int64?
    /// Who sent the message.
    public var connection: Connection
    /// The transaction the message belongs to, or `nil` outside a transaction (and always for
    /// cxenstored traces, which do not show transaction ids). For `transactionStart` it is the id the
    /// daemon assigned, when the trace shows it.
    public var transaction: Int?
    /// What the message does.
    public var operation: Operation
    /// The node the message names, as written (relative paths stay relative), or `nil`.
    public var path: String?
    /// The value written (`write`), the watch token (`watch`, `unwatch`, `watchEvent`), the raw
    /// permission list (`setPermissions`) or the rest of the payload of other operations; `nil` when
    /// the operation has none.
    public var value: String?
    /// The daemon's own identifier of the connection when the trace shows one (cxenstored's
    /// connection pointer): it tells apart connections that share a domid, such as the toolstack's
    /// sockets, which cxenstored shows as `d0`.
    public var handle: UInt64?
    /// oxenstored only: the message is oxenstored re-executing, after a commit conflict, a message of
    /// transaction `replayOf` of the same connection (connection column `r(<tid>):D5.<new tid>`). The
    /// client did not send it again; the original appeared earlier in the trace.
    public var replayOf: Int?
    /// The trace line was probably cut short by the daemon (oxenstored truncates access log lines to
    /// `access-log-nb-chars` - 1 bytes, 179 by default, ending them with `..`): `value` may be
    /// incomplete.
    public var truncated: Bool

    /// Creates an event.
    public init(
        line: Int, time: Int64? = nil, connection: Connection, transaction: Int? = nil, operation: Operation,
        path: String? = nil, value: String? = nil, handle: UInt64? = nil, replayOf: Int? = nil, truncated: Bool = false
    ) {
        self.line = line
        self.time = time
        self.connection = connection
        self.transaction = transaction
        self.operation = operation
        self.path = path
        self.value = value
        self.handle = handle
        self.replayOf = replayOf
        self.truncated = truncated
    }

    /// Makes an event in uninitialised memory, field by field. `slot.initialize(to: TraceEvent(...))`
    /// built the event (too large to be passed in registers) on the stack twice, copied one
    /// (retaining its strings), destroyed the other and then copied it into place; the reading
    /// thread did that for every line. Every stored property must be initialised here
    /// (`XenstoreTraceTests` checks their number).
    @inline(__always)
    static func initialize(
        _ slot: UnsafeMutablePointer<TraceEvent>, line: Int, time: Int64? = nil, connection: Connection, transaction: Int? = nil,
        operation: Operation, path: String? = nil, value: String? = nil, handle: UInt64? = nil, replayOf: Int? = nil,
        truncated: Bool = false
    ) {
        slot.pointer(to: \.line)!.initialize(to: line)
        slot.pointer(to: \.time)!.initialize(to: time)
        slot.pointer(to: \.connection)!.initialize(to: connection)
        slot.pointer(to: \.transaction)!.initialize(to: transaction)
        slot.pointer(to: \.operation)!.initialize(to: operation)
        slot.pointer(to: \.path)!.initialize(to: path)
        slot.pointer(to: \.value)!.initialize(to: value)
        slot.pointer(to: \.handle)!.initialize(to: handle)
        slot.pointer(to: \.replayOf)!.initialize(to: replayOf)
        slot.pointer(to: \.truncated)!.initialize(to: truncated)
    }
}

/// A xenstore connection: xenstored identifies a domain (its ring) or a local socket, never a driver.
public enum Connection: Sendable, Hashable, CustomStringConvertible {
    /// The ring connection of domain `domid`. cxenstored shows every local socket as `d0` too.
    case domain(Int)
    /// Local socket connection number `n` (oxenstored's `A<n>`): the privileged toolstack.
    case socket(Int)

    /// `D5` or `A3`, as oxenstored writes it.
    public var description: String {
        switch self {
        case .domain(let domid): "D\(domid)"
        case .socket(let number): "A\(number)"
        }
    }

    /// Whether the connection is privileged: every socket, and domain 0.
    public var isPrivileged: Bool {
        switch self {
        case .domain(let domid): domid == 0
        case .socket: true
        }
    }
}

/// What a message does. Client requests first, then the records the daemons log on their own.
public enum Operation: Sendable, Equatable {
    /// `XS_WRITE`: `path` gets `value`; creates missing parents.
    case write
    /// `XS_MKDIR`: creates `path` and its parents.
    case mkdir
    /// `XS_RM`: removes `path` recursively.
    case rm
    /// `XS_SET_PERMS`: `path` gets this ACL (owner and default first); `value` holds the raw list.
    case setPermissions([Permission])
    /// `XS_READ`.
    case read
    /// `XS_DIRECTORY` (and `XS_DIRECTORY_PART`, whose offset is in `value`).
    case directory
    /// `XS_GET_PERMS`.
    case getPermissions
    /// `XS_WATCH` on `path`; `value` is the token (and the depth, if given).
    case watch
    /// `XS_UNWATCH` of `path`; `value` is the token.
    case unwatch
    /// `XS_TRANSACTION_START`.
    case transactionStart
    /// `XS_TRANSACTION_END`: commit (`T`) or abort (`F`); `nil` when the trace does not say
    /// (oxenstored's `t end` line looks the same for both).
    case transactionEnd(commit: Bool?)
    /// oxenstored only: the daemon's result of committing the connection's transaction.
    case transactionOutcome(TransactionOutcome)
    /// `XS_INTRODUCE` of domain `domid` (sent by the toolstack).
    case introduce(domid: Int)
    /// `XS_RELEASE` of domain `domid`.
    case release(domid: Int)
    /// `XS_RESUME` of domain `domid`.
    case resume(domid: Int)
    /// `XS_SET_TARGET`: `domid` gets the rights of `target` (device models).
    case setTarget(domid: Int, target: Int)
    /// `XS_RESET_WATCHES`: drops the caller's watches and transactions.
    case resetWatches
    /// oxenstored only: a connection was opened.
    case newConnection
    /// oxenstored only: a connection was closed.
    case endConnection
    /// oxenstored only: the daemon sent a watch event for `path` with token `value` (not a request).
    case watchEvent
    /// oxenstored only: the daemon answered the connection's previous request with this error
    /// (`EACCES`, `EINVAL`, ...), so that request changed nothing.
    case errorReply(String)
    /// Any other operation, by the name the trace gives it (`getdomain`, `GET_DOMAIN_PATH`,
    /// `is introduced`, `CONTROL`, ...). None of them changes the tree.
    case other(String)

    /// Whether the operation may change the tree (the four mutating message types).
    public var isMutating: Bool {
        switch self {
        case .write, .mkdir, .rm, .setPermissions: true
        default: false
        }
    }
}

/// The result of a transaction commit, as oxenstored logs it.
public enum TransactionOutcome: String, Sendable, Equatable {
    /// `commit`: committed on the fast path.
    case committed
    /// `coalesce`: committed by merging (`path` names the merged subtree).
    case coalesced
    /// `conflict`: not committed (`EAGAIN`, unless oxenstored's replay then succeeds).
    case conflict
}

/// One entry of a node's ACL: `<letter><domid>`.
public struct Permission: Sendable, Hashable, CustomStringConvertible {
    /// The access the entry grants.
    public enum Access: Character, Sendable, Hashable {
        case none = "n"
        case read = "r"
        case write = "w"
        case both = "b"
    }

    public var access: Access
    public var domid: Int

    /// Creates an entry.
    public init(_ access: Access, _ domid: Int) {
        self.access = access
        self.domid = domid
    }

    /// Parses `r0`, `b5`, `n12`; `nil` if the text is not an entry.
    public init?(_ text: Substring) {
        let bytes = text.utf8
        guard let letter = bytes.first, let access = Access(rawValue: Character(Unicode.Scalar(letter))) else { return nil }
        var domid = 0
        var count = 0
        for byte in bytes.dropFirst() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < 9 else { return nil }
            domid = domid * 10 + Int(byte - UInt8(ascii: "0"))
            count += 1
        }
        guard count > 0 else { return nil }
        self.init(access, domid)
    }

    /// `r0`.
    public var description: String { "\(access.rawValue)\(domid)" }

    /// Parses a space-separated permission list such as `n5 r0`; `nil` if it is empty or an entry is bad.
    public static func list(_ text: String) -> [Permission]? {
        var text = text
        // Byte by byte: `split` and `Character` cost more than the rest of a line's parse.
        return text.withUTF8 { bytes -> [Permission]? in
            var result: [Permission] = []
            var i = 0
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: " ") {
                    i += 1
                    continue
                }
                let access: Access
                switch bytes[i] {
                case UInt8(ascii: "n"): access = .none
                case UInt8(ascii: "r"): access = .read
                case UInt8(ascii: "w"): access = .write
                case UInt8(ascii: "b"): access = .both
                default: return nil
                }
                i += 1
                var domid = 0
                var count = 0
                while i < bytes.count, bytes[i] != UInt8(ascii: " ") {
                    let digit = bytes[i] &- UInt8(ascii: "0")
                    guard digit < 10, count < 9 else { return nil }
                    domid = domid * 10 + Int(digit)
                    count += 1
                    i += 1
                }
                guard count > 0 else { return nil }
                result.append(Permission(access, domid))
            }
            return result.isEmpty ? nil : result
        }
    }
}
