import Foundation
import TRMCore

/// A value of the YAML subset that `YAML.parse` reads (docs/formats.md §1.5).
public indirect enum YAMLValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([YAMLValue])
    case mapping(YAMLMapping)

    public var int: Int? { if case .int(let v) = self { return v } else { return nil } }
    /// A number: a float, or an integer read as one.
    public var double: Double? {
        switch self {
        case .int(let v): return Double(v)
        case .double(let v): return v
        default: return nil
        }
    }
    public var bool: Bool? { if case .bool(let v) = self { return v } else { return nil } }
    public var string: String? { if case .string(let v) = self { return v } else { return nil } }
    public var list: [YAMLValue]? { if case .list(let v) = self { return v } else { return nil } }
    public var mapping: YAMLMapping? { if case .mapping(let v) = self { return v } else { return nil } }

    /// The value as a message shows it: scalars as written, collections by kind.
    public var shown: String {
        switch self {
        case .null: return "null"
        case .bool(let v): return String(v)
        case .int(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let v): return "'\(v)'"
        case .list(let v): return "a list of \(v.count)"
        case .mapping: return "a mapping"
        }
    }
}

/// A block mapping: its entries in file order, each with the line of its key.
public struct YAMLMapping: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var key: String
        public var value: YAMLValue
        public var line: Int
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public subscript(key: String) -> YAMLValue? { entries.first { $0.key == key }?.value }

    /// The line of `key`, if present.
    public func line(of key: String) -> Int? { entries.first { $0.key == key }?.line }

    public var keys: [String] { entries.map(\.key) }
}

/// A reader for the block-mapping subset of YAML that PyYAML's `yaml.dump` writes (an official
/// TinyRecursiveModels run's `all_config.yaml`): mappings nested by indentation, `- item` block lists
/// (also at their key's indentation, as PyYAML writes them, and holding mappings), `[a, b]` flow
/// lists of scalars, comments, and scalars: null, booleans, integers, floats (`1e-4`, `1.0e-05`,
/// `.inf`), plain, single- and double-quoted strings. Anchors, aliases, tags, block scalars, flow
/// mappings and several documents are refused by name. Every error names its line.
public enum YAML {
    /// Largest file read.
    public static let maxBytes = 1 << 20
    /// Deepest nesting of mappings and lists.
    public static let maxDepth = 32

    /// Reads and parses the YAML file at `path`.
    public static func read(path: String) throws -> YAMLValue {
        let bytes = try AtomicFile.read(path, limit: maxBytes)
        return try TRMError.within(path) { try parse(bytes) }
    }

    /// Parses YAML text.
    public static func parse(_ bytes: [UInt8]) throws -> YAMLValue {
        guard bytes.count <= maxBytes else {
            throw TRMError(.malformedFile, "YAML: \(bytes.count) bytes, over the limit of \(maxBytes)")
        }
        var parser = YAMLParser(lines: try lines(bytes))
        return try parser.document()
    }

    /// The non-blank lines with their indentation, comments removed.
    static func lines(_ bytes: [UInt8]) throws -> [YAMLParser.Line] {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        var result: [YAMLParser.Line] = []
        for (index, raw) in body.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var row = raw
            if row.last == 0x0D { row = row.dropLast() }
            guard let text = String(bytes: row, encoding: .utf8) else { throw YAMLParser.fail(number, "not valid UTF-8") }
            if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
                throw YAMLParser.fail(number, "control character U+\(String(format: "%04X", bad.value))")
            }
            let chars = Array(text)
            var indent = 0
            while indent < chars.count, chars[indent] == " " { indent += 1 }
            if indent < chars.count, chars[indent] == "\t" {
                throw YAMLParser.fail(number, "a tab in the indentation (YAML indents with spaces)")
            }
            let content = trimmed(withoutComment(Array(chars[indent...])))
            if content.isEmpty { continue }
            if indent == 0, content == "---" {
                guard result.isEmpty else { throw YAMLParser.fail(number, "a second YAML document ('---') is not supported") }
                continue
            }
            if indent == 0, content == "..." || content.hasPrefix("%") {
                throw YAMLParser.fail(number, "YAML directives and document end markers are not supported")
            }
            result.append(YAMLParser.Line(number: number, indent: indent, text: content))
        }
        return result
    }

    /// `chars` up to a `#` that starts a comment: at the start or after a space, outside quotes.
    static func withoutComment(_ chars: [Character]) -> [Character] {
        var quote: Character?
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if q == "\"", c == "\\" {
                    i += 1
                } else if c == q {
                    if q == "'", i + 1 < chars.count, chars[i + 1] == "'" { i += 1 } else { quote = nil }
                }
            } else if c == "#", i == 0 || chars[i - 1] == " " || chars[i - 1] == "\t" {
                return Array(chars[..<i])
            } else if c == "\"" || c == "'", i == 0 || " \t[,".contains(chars[i - 1]) {
                quote = c
            }
            i += 1
        }
        return chars
    }

    static func trimmed<S: Sequence>(_ s: S) -> String where S.Element == Character {
        String(s).trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
    }
}

/// Plain-scalar resolution and double-quote escapes.
enum YAMLScalar {
    /// A plain scalar's value: null, a boolean (YAML 1.1's words, as PyYAML reads them), an
    /// integer (decimal, `0x`, `0o`), a float (`1e-4`, `1.0e-05`, `.5`, `.inf`, `.nan`) or a string.
    static func resolve(_ s: String, line: Int) throws -> YAMLValue {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return .bool(true)
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        let body = s.first == "-" || s.first == "+" ? s.dropFirst() : s[...]
        if !body.isEmpty, body.allSatisfy(isDigit) {
            guard let v = Int(s) else { throw YAMLParser.fail(line, "the integer \(s) is out of range") }
            return .int(v)
        }
        for (prefix, radix) in [("0x", 16), ("0o", 8)] where s.hasPrefix(prefix) {
            if let v = Int(s.dropFirst(2), radix: radix) { return .int(v) }
        }
        if isFloat(body), let v = Double(s) { return .double(v) }
        return .string(s)
    }

    static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }

    /// digits with a '.' or an exponent: `1.5`, `.5`, `1.`, `1e-4`, `2.5E+3`.
    static func isFloat(_ s: Substring) -> Bool {
        let chars = Array(s)
        var j = 0
        var mantissa = 0
        while j < chars.count, isDigit(chars[j]) { j += 1; mantissa += 1 }
        var marked = false
        if j < chars.count, chars[j] == "." {
            marked = true
            j += 1
            while j < chars.count, isDigit(chars[j]) { j += 1; mantissa += 1 }
        }
        guard mantissa > 0 else { return false }
        if j < chars.count, chars[j] == "e" || chars[j] == "E" {
            marked = true
            j += 1
            if j < chars.count, chars[j] == "-" || chars[j] == "+" { j += 1 }
            let digits = j
            while j < chars.count, isDigit(chars[j]) { j += 1 }
            guard j > digits else { return false }
        }
        return marked && j == chars.count
    }

    /// The escape after a backslash at `at` in a double-quoted string, and the index after it.
    static func escape(_ chars: [Character], at j: Int, line: Int) throws -> (String, Int) {
        guard j < chars.count else { throw YAMLParser.fail(line, "a quoted string must end on its line") }
        let simple: [Character: String] = [
            "\\": "\\", "\"": "\"", "/": "/", " ": " ", "n": "\n", "t": "\t", "\t": "\t", "r": "\r", "0": "\0",
            "a": "\u{07}", "b": "\u{08}", "e": "\u{1B}", "f": "\u{0C}", "v": "\u{0B}", "N": "\u{85}", "_": "\u{A0}",
            "L": "\u{2028}", "P": "\u{2029}",
        ]
        if let s = simple[chars[j]] { return (s, j + 1) }
        let width: [Character: Int] = ["x": 2, "u": 4, "U": 8]
        guard let n = width[chars[j]], j + n < chars.count,
            let code = UInt32(String(chars[(j + 1)...(j + n)]), radix: 16), let scalar = Unicode.Scalar(code)
        else {
            throw YAMLParser.fail(line, "unknown escape '\\\(chars[j])' in a double-quoted string")
        }
        return (String(Character(scalar)), j + n + 1)
    }
}
