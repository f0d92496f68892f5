import Foundation

/// JSON laid out as Python's `json.dump` writes it with its defaults: `", "` between items, `": "`
/// after keys, every character outside printable ASCII as a `\uXXXX` escape (lower-case hex, UTF-16
/// surrogate pairs). The reference evaluator writes `submission.json` this way, so trm's file can be
/// compared with it byte for byte.
enum PythonJSON {
    /// A string literal as `json.dumps(s)` (ensure_ascii) writes it.
    static func string(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += String(format: "\\u%04x", unit)
            }
        }
        return out + "\""
    }

    /// A grid as nested lists: `[[1, 2], [3, 4]]`; a 0×0 grid is `[]`.
    static func grid(_ g: Grid) -> String {
        "[" + g.nested.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
    }

    /// `{"<puzzle>": [{"attempt_1": grid, "attempt_2": grid}, ...], ...}` in the order given.
    static func submission(_ puzzles: [(name: String, attempts: [(Grid, Grid)])]) -> [UInt8] {
        let members = puzzles.map { name, attempts in
            let pairs = attempts.map { "{\"attempt_1\": \(grid($0.0)), \"attempt_2\": \(grid($0.1))}" }
            return string(name) + ": [" + pairs.joined(separator: ", ") + "]"
        }
        return Array(("{" + members.joined(separator: ", ") + "}").utf8)
    }
}
