import Foundation

/// Text from files (puzzle names, CSV fields, JSON in a model) is printed through `terminalEscaped`
/// so that it cannot drive the terminal: escape sequences could recolour it, retitle the window,
/// rewrite earlier lines (CR, backspace) or reorder what is shown (bidi overrides).
public enum TerminalText {
    /// How a replaced scalar is written.
    public enum Style: Sendable {
        /// `\x1b` for scalars below U+0100, `\u{202e}` above (Swift-like, for human-readable output).
        case visible
        /// `\u001b`, `\u202e`: a JSON string escape, so escaped JSON still parses to the same text.
        case json
    }

    /// True for the scalars that are never printed raw: C0 controls (U+0000-U+001F), DEL (U+007F),
    /// C1 controls (U+0080-U+009F) and the bidi embeddings, overrides and isolates (U+202A-U+202E,
    /// U+2066-U+2069).
    public static func isUnsafe(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    /// The escape written for `s`.
    public static func escape(_ s: Unicode.Scalar, style: Style) -> String {
        let hex = String(s.value, radix: 16)
        switch style {
        case .visible:
            return s.value < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{\(hex)}"
        case .json:
            return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
}

/// `text` with every unsafe scalar (`TerminalText.isUnsafe`) replaced by a visible escape, except
/// those in `keeping` (e.g. "\n" for a multi-line message we composed). Everything else, including
/// non-ASCII letters and backslashes, is unchanged. Data fields (names, identifiers) keep nothing.
public func terminalEscaped(
    _ text: String, keeping: Set<Unicode.Scalar> = [],
    style: TerminalText.Style = .visible
) -> String {
    // Fast path: most text has nothing to escape.
    guard text.unicodeScalars.contains(where: { TerminalText.isUnsafe($0) && !keeping.contains($0) }) else { return text }
    var out = String.UnicodeScalarView()
    for s in text.unicodeScalars {
        if TerminalText.isUnsafe(s) && !keeping.contains(s) {
            out.append(contentsOf: TerminalText.escape(s, style: style).unicodeScalars)
        } else {
            out.append(s)
        }
    }
    return String(out)
}

/// The `--color` option: whether output is coloured.
public enum ColorChoice: String, CaseIterable, Sendable {
    case auto, always, never

    /// The option to add to an executable's option list.
    public static let option = Arguments.Option(
        "color", "WHEN",
        help: "colour output: auto (default: only when stdout is a terminal and NO_COLOR is unset or empty), always or never")

    /// Whether to colour: `always` and `never` decide (a flag overrides NO_COLOR, as no-color.org
    /// asks); `auto` colours only a terminal, and only when `NO_COLOR` is absent or empty.
    public static func resolve(_ choice: ColorChoice, isTTY: Bool, environment: [String: String]) -> Bool {
        switch choice {
        case .always: return true
        case .never: return false
        case .auto: return isTTY && (environment["NO_COLOR"] ?? "").isEmpty
        }
    }

    /// Resolves `--color` (default auto) for standard output of this process.
    public static func forStandardOutput(_ args: Arguments) throws -> Bool {
        let choice = try args.choice("color", ColorChoice.self) ?? .auto
        return resolve(choice, isTTY: isatty(1) != 0, environment: ProcessInfo.processInfo.environment)
    }
}
