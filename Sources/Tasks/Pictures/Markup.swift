/// Text for the SVG and HTML files trm writes (training curves, pass@K plots, reports). Puzzle names
/// and titles come from data files, so every piece of text goes through `Markup.escape`: the result is
/// well-formed XML and HTML whatever the input holds.
public enum Markup {
    /// `text` with `& < > " '` as entities, so it can stand in element content and in quoted
    /// attribute values. Scalars that XML 1.0 cannot hold (C0 controls other than tab, LF and CR),
    /// DEL, the C1 controls and the bidi embeddings, overrides and isolates (which could reorder the
    /// text around them) are written visibly, as `\x1b` or `\u{202e}`.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars {
            switch s {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(s)
            default:
                if isShownEscaped(s) {
                    let hex = String(s.value, radix: 16)
                    out += s.value < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex : "\\u{\(hex)}"
                } else {
                    out.unicodeScalars.append(s)
                }
            }
        }
        return out
    }

    /// Scalars `escape` writes as visible escapes (see there).
    static func isShownEscaped(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069, 0xFFFE, 0xFFFF: return true
        default: return false
        }
    }

    /// A number for an SVG coordinate: one decimal, no exponent.
    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v.isFinite ? v : 0) }

    /// A count that may be fractional (pass@K's partial credit): "3", "2.5", "0.333".
    public static func count(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.3g", v)
    }
}
