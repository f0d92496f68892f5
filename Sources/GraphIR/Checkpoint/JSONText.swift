import Foundation

/// Small JSON helpers for hand-written, deterministic JSON.
public enum JSONText {
    /// `s` as a JSON string literal.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    /// An integer from a JSONSerialization number, if it is one exactly.
    public static func int(_ v: Any) -> Int? {
        if let b = v as? Bool, type(of: v) == Bool.self { _ = b; return nil }
        if let i = v as? Int { return i }
        if let d = v as? Double, d.rounded() == d, abs(d) <= 9.0e15 { return Int(d) }
        return nil
    }
}
