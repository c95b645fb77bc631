/// The documented exit codes of both executables.
public enum ExitStatus: Int32, Sendable {
    /// The command did what was asked and the input had no errors.
    case success = 0
    /// The input has errors (or, for checks, differs from what was expected).
    case inputError = 1
    /// Wrong usage or an I/O error.
    case usageOrIOError = 2
}
