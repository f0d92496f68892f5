import Foundation
import TRMCore

/// The block structure of `YAML.parse`: one pass over the non-blank lines, by indentation.
struct YAMLParser {
    struct Line {
        var number: Int
        var indent: Int
        var text: String
    }

    var lines: [Line]
    var i = 0

    static func fail(_ line: Int, _ why: String) -> TRMError { TRMError(.malformedFile, "YAML line \(line): \(why)") }

    mutating func document() throws -> YAMLValue {
        guard let first = lines.first else { return .null }
        let value = try block(indent: first.indent, parent: -1, depth: 1)
        if i < lines.count { throw Self.fail(lines[i].number, "unexpected indentation") }
        return value
    }

    static func isListItem(_ text: String) -> Bool { text == "-" || text.hasPrefix("- ") }

    /// The node whose first line is line `i`, at `indent`, inside a parent block at `parent`.
    mutating func block(indent: Int, parent: Int, depth: Int) throws -> YAMLValue {
        let line = lines[i]
        guard depth <= YAML.maxDepth else { throw Self.fail(line.number, "nested deeper than \(YAML.maxDepth) levels") }
        if Self.isListItem(line.text) { return try list(indent: indent, depth: depth) }
        if try Self.splitKey(line.text, line: line.number) != nil { return try mapping(indent: indent, depth: depth) }
        i += 1
        return try inline(line.text, line: line.number, parent: parent)
    }

    mutating func mapping(indent: Int, depth: Int) throws -> YAMLValue {
        var entries: [YAMLMapping.Entry] = []
        while i < lines.count, lines[i].indent >= indent {
            let line = lines[i]
            guard line.indent == indent else { throw Self.fail(line.number, "unexpected indentation") }
            guard !Self.isListItem(line.text) else { throw Self.fail(line.number, "a list item where a mapping key was expected") }
            guard let split = try Self.splitKey(line.text, line: line.number) else {
                throw Self.fail(line.number, "expected 'key: value' in a mapping")
            }
            let (key, rest) = split
            guard !entries.contains(where: { $0.key == key }) else { throw Self.fail(line.number, "duplicate key '\(key)'") }
            i += 1
            let value: YAMLValue
            if !rest.isEmpty {
                value = try inline(rest, line: line.number, parent: indent)
            } else if i < lines.count, lines[i].indent > indent {
                value = try block(indent: lines[i].indent, parent: indent, depth: depth + 1)
            } else if i < lines.count, lines[i].indent == indent, Self.isListItem(lines[i].text) {
                value = try list(indent: indent, depth: depth + 1)  // PyYAML writes a mapping's lists unindented
            } else {
                value = .null
            }
            entries.append(YAMLMapping.Entry(key: key, value: value, line: line.number))
        }
        return .mapping(YAMLMapping(entries: entries))
    }

    mutating func list(indent: Int, depth: Int) throws -> YAMLValue {
        guard depth <= YAML.maxDepth else { throw Self.fail(lines[i].number, "nested deeper than \(YAML.maxDepth) levels") }
        var items: [YAMLValue] = []
        while i < lines.count, lines[i].indent >= indent {
            let line = lines[i]
            guard line.indent == indent else { throw Self.fail(line.number, "unexpected indentation") }
            guard Self.isListItem(line.text) else { break }  // the rest of an unindented list's mapping
            let rest = YAML.trimmed(line.text.dropFirst())
            if rest.isEmpty {
                i += 1
                if i < lines.count, lines[i].indent > indent {
                    items.append(try block(indent: lines[i].indent, parent: indent, depth: depth + 1))
                } else {
                    items.append(.null)
                }
            } else {
                // The item's content is a node of its own, at the column where it starts.
                let column = indent + line.text.count - rest.count
                lines[i] = Line(number: line.number, indent: column, text: rest)
                items.append(try block(indent: column, parent: indent, depth: depth + 1))
            }
        }
        return .list(items)
    }

    /// A value written after `key:` or `- `, with the lines that continue a plain scalar (indented
    /// deeper than `parent`).
    mutating func inline(_ text: String, line: Int, parent: Int) throws -> YAMLValue {
        let chars = Array(text)
        if Self.isListItem(text) { throw Self.fail(line, "a list must start on the line after its key") }
        switch chars[0] {
        case "[":
            return try Self.flowList(chars, line: line)
        case "{": throw Self.fail(line, "flow mappings ({...}) are not supported")
        case "&", "*": throw Self.fail(line, "YAML anchors and aliases are not supported")
        case "!": throw Self.fail(line, "YAML tags are not supported")
        case "|", ">": throw Self.fail(line, "block scalars (| and >) are not supported")
        case "@", "`", "?", "%": throw Self.fail(line, "'\(chars[0])' cannot start a plain value (quote it)")
        case "\"", "'":
            let (s, end) = try Self.quoted(chars, from: 0, line: line)
            guard end == chars.count else { throw Self.fail(line, "text after the closing quote") }
            return .string(s)
        default:
            var s = text
            while i < lines.count, lines[i].indent > parent {
                let next = lines[i]
                if try Self.isListItem(next.text) || Self.splitKey(next.text, line: next.number) != nil {
                    throw Self.fail(next.number, "unexpected indentation")
                }
                s += " " + next.text
                i += 1
            }
            guard !s.contains(": "), !s.hasSuffix(":") else { throw Self.fail(line, "': ' inside a plain value (quote the value)") }
            return try YAMLScalar.resolve(s, line: line)
        }
    }

    /// A `[a, b]` list of scalars, whole on its line.
    static func flowList(_ chars: [Character], line: Int) throws -> YAMLValue {
        var items: [YAMLValue] = []
        var j = 1
        while true {
            while j < chars.count, chars[j] == " " || chars[j] == "\t" { j += 1 }
            guard j < chars.count else { throw fail(line, "a flow list must end with ']' on its line") }
            let c = chars[j]
            if c == "]" {
                guard YAML.trimmed(chars[(j + 1)...]).isEmpty else { throw fail(line, "text after the closing ']'") }
                return .list(items)
            }
            if c == "[" || c == "{" { throw fail(line, "nested flow collections are not supported") }
            if c == "," { throw fail(line, "an empty item in a flow list") }
            if c == "\"" || c == "'" {
                let (s, end) = try quoted(chars, from: j, line: line)
                items.append(.string(s))
                j = end
            } else {
                var end = j
                while end < chars.count, !",[]{}".contains(chars[end]) { end += 1 }
                items.append(try YAMLScalar.resolve(YAML.trimmed(chars[j..<end]), line: line))
                j = end
            }
            while j < chars.count, chars[j] == " " || chars[j] == "\t" { j += 1 }
            if j < chars.count, chars[j] == "," {
                j += 1
            } else if j < chars.count, chars[j] != "]" {
                throw fail(line, "expected ',' or ']' in a flow list")
            }
        }
    }

    /// For `key: rest` (a plain or quoted key, then ':' and a space or the end), the key and the rest.
    static func splitKey(_ text: String, line: Int) throws -> (key: String, rest: String)? {
        let chars = Array(text)
        if chars.first == "\"" || chars.first == "'" {
            let (key, end) = try quoted(chars, from: 0, line: line)
            var j = end
            while j < chars.count, chars[j] == " " { j += 1 }
            guard j < chars.count, chars[j] == ":", j + 1 == chars.count || chars[j + 1] == " " else { return nil }
            return (key, YAML.trimmed(chars[(j + 1)...]))
        }
        if chars.first == "[" || chars.first == "{" { return nil }
        for j in chars.indices where chars[j] == ":" && (j + 1 == chars.count || chars[j + 1] == " " || chars[j + 1] == "\t") {
            let key = YAML.trimmed(chars[..<j])
            guard !key.isEmpty else { throw fail(line, "a mapping key is empty") }
            if key.hasPrefix("? ") || key == "?" { throw fail(line, "complex mapping keys ('? ') are not supported") }
            return (key, YAML.trimmed(chars[(j + 1)...]))
        }
        return nil
    }

    /// The quoted scalar starting at `start` (its quote) and the index after its closing quote.
    static func quoted(_ chars: [Character], from start: Int, line: Int) throws -> (String, Int) {
        let q = chars[start]
        var out = ""
        var j = start + 1
        while j < chars.count {
            let c = chars[j]
            if c == q {
                if q == "'", j + 1 < chars.count, chars[j + 1] == "'" {
                    out.append("'")
                    j += 2
                    continue
                }
                return (out, j + 1)
            }
            if q == "\"", c == "\\" {
                let (s, next) = try YAMLScalar.escape(chars, at: j + 1, line: line)
                out += s
                j = next
                continue
            }
            out.append(c)
            j += 1
        }
        throw fail(line, "a quoted string must end on its line")
    }
}
