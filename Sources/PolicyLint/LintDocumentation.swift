/// The lint documentation of `docs/lint/`, compiled in so that `--explain` and SARIF need no files at run time.
public enum LintDocumentation {
    /// The page `docs/lint/<id>.md`, byte for byte, or nil if there is none.
    public static func page(for id: String) -> String? { EmbeddedLintDocumentation.pages[id] }

    /// The catalogue, `docs/lint/README.md`.
    public static var catalogue: String { EmbeddedLintDocumentation.pages["README"] ?? "" }

    /// The names of all embedded pages (rule IDs and `README`).
    public static var pageNames: [String] { EmbeddedLintDocumentation.pages.keys.sorted() }
}
