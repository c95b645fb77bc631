extension TraceEvent {
    /// The event as one line of our JSON-lines format (without a newline), which reads back as the
    /// same event (`line` aside): members in a fixed order, `time` as an RFC 3339 UTC string.
    public var jsonLine: String {
        var out = "{"
        var first = true
        func member(_ name: String, _ value: String) {
            out += first ? "\"" : ", \""
            out += name
            out += "\": "
            out += value
            first = false
        }
        func string(_ text: String) -> String { Self.quoted(text) }

        if let time { member("time", string(CivilTime.rfc3339(milliseconds: time))) }
        switch connection {
        case .domain(let domid): member("domid", String(domid))
        case .socket(let number): member("socket", String(number))
        }
        if let transaction { member("tx", String(transaction)) }
        var valueName = "value"
        var writesValue = true
        switch operation {
        case .write: member("op", "\"write\"")
        case .mkdir: member("op", "\"mkdir\"")
        case .rm: member("op", "\"rm\"")
        case .setPermissions(let permissions):
            member("op", "\"setperms\"")
            member("perms", "[" + permissions.map { "\"\($0)\"" }.joined(separator: ", ") + "]")
            writesValue = false
        case .read: member("op", "\"read\"")
        case .directory: member("op", "\"directory\"")
        case .getPermissions: member("op", "\"getperms\"")
        case .watch:
            member("op", "\"watch\"")
            valueName = "token"
        case .unwatch:
            member("op", "\"unwatch\"")
            valueName = "token"
        case .watchEvent:
            member("op", "\"watch_event\"")
            valueName = "token"
        case .transactionStart: member("op", "\"tx_start\"")
        case .transactionEnd(let commit):
            member("op", "\"tx_end\"")
            if let commit { member("commit", commit ? "true" : "false") }
        case .transactionOutcome(let outcome):
            member("op", "\"tx_outcome\"")
            member("outcome", string(outcome.rawValue))
        case .introduce(let domid):
            member("op", "\"introduce\"")
            member("subject", String(domid))
        case .release(let domid):
            member("op", "\"release\"")
            member("subject", String(domid))
        case .resume(let domid):
            member("op", "\"resume\"")
            member("subject", String(domid))
        case .setTarget(let domid, let target):
            member("op", "\"set_target\"")
            member("subject", String(domid))
            member("target", String(target))
        case .resetWatches: member("op", "\"reset_watches\"")
        case .newConnection: member("op", "\"newconn\"")
        case .endConnection: member("op", "\"endconn\"")
        case .errorReply(let name):
            member("op", "\"error\"")
            member("error", string(name))
        case .other(let name):
            member("op", "\"other\"")
            member("name", string(name))
        }
        if let path { member("path", string(path)) }
        if writesValue, let value { member(valueName, string(value)) }
        if let handle { member("handle", String(handle)) }
        if let replayOf { member("replay_of", String(replayOf)) }
        if truncated { member("truncated", "true") }
        return out + "}"
    }

    /// `text` as a JSON string.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
