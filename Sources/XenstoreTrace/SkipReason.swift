/// Why a well-formed line yields no event. Every line is either an event, skipped for one of these
/// reasons (counted in `TraceStatistics.skipped`), empty, or malformed (with a diagnostic).
public enum SkipReason: String, Sendable, Hashable, CaseIterable {
    /// A cxenstored `OUT` line: a reply or watch event sent by the daemon, not a client request.
    case reply
    /// A cxenstored line that records the daemon's internals (`obj: CREATE ...`, `wrl: ...`, `acc: ...`,
    /// `tdb: ...`, `CONN ... ignored`), not a message.
    case daemonRecord
    /// An oxenstored line written by the daemon itself rather than for a connection: the text of a
    /// `xenstore-control print` (connection column `=======>`) or a live-update marker.
    case daemonAnnotation
    /// A line the reader does not recognise, reported with warning W0802.
    case unrecognised
}
