/// GitHub Actions workflow commands (`::error file=F,line=L,title=T::message`), which `lint` and
/// `replay` print with `--format github`: the runner reads one command a line and undoes this
/// escaping, so a message or a property cannot end the command early or split it.
public enum GitHubAnnotation {
    /// One command: `::KIND PROPERTIES::MESSAGE` and a newline, with the properties (`name=value`,
    /// in order) and the message escaped.
    public static func command(_ kind: String, _ properties: [(String, String)], _ message: String) -> String {
        let list = properties.map { "\($0.0)=\(escapeProperty($0.1))" }.joined(separator: ",")
        return "::\(kind) \(list)::\(escapeData(message))\n"
    }

    /// The escaping the runner undoes in a command's message.
    public static func escapeData(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.append(character)
            }
        }
        return out
    }

    /// Property values also escape the separators `:` and `,`.
    public static func escapeProperty(_ text: String) -> String {
        var out = ""
        for character in escapeData(text) {
            switch character {
            case ":": out += "%3A"
            case ",": out += "%2C"
            default: out.append(character)
            }
        }
        return out
    }
}
