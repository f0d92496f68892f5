import Foundation
import TRMCore

/// The CSV layout of the published Sudoku-Extreme and Maze-Hard sets (docs/tasks.md §3.4, §4.3): a header
/// `source,question,answer,rating`, then one puzzle per line. This type only splits lines into fields
/// and reports where they came from; each task validates the fields (`SudokuCSV`, `MazeCSV`).
///
/// Files are read in chunks, so the 3.8-million-row Sudoku-Extreme training file does not have to fit
/// in memory as text. Fields may be double-quoted (RFC 4180, `""` inside quotes); a quoted field may
/// not span lines, which neither published set needs.
public enum PuzzleCSV {
    /// The header line every file starts with.
    public static let header = "source,question,answer,rating"
    /// Longest line accepted: a 30×30 maze row is about 1.9 KB, so anything near this is not a puzzle.
    public static let maxLineBytes = 1 << 20

    /// One data row, its fields as written (quotes removed).
    public struct Row: Sendable {
        /// The file (or name) the row came from, for error messages.
        public var file: String
        /// 1-based line number; the header is line 1.
        public var line: Int
        public var source: String
        /// ASCII bytes of the question and answer fields: both are long and compared per character.
        public var question: [UInt8]
        public var answer: [UInt8]
        public var rating: String

        public init(file: String, line: Int, source: String, question: [UInt8], answer: [UInt8], rating: String) {
            (self.file, self.line, self.source, self.question, self.answer, self.rating) = (file, line, source, question, answer, rating)
        }

        /// `file:line`, the prefix of every error about this row.
        public var location: String { "\(file):\(line)" }

        /// An `invalidInput` error about this row.
        public func error(_ message: String) -> TRMError { TRMError(.invalidInput, "\(location): \(message)") }

        /// The rating as a non-negative integer; "12.0" counts as 12, as some exporters write numbers.
        public func integerRating() throws -> Int {
            let text = rating.trimmingCharacters(in: .whitespaces)
            if let v = Int(text), v >= 0 { return v }
            if let d = Double(text), d.isFinite, d >= 0, d < 1e15, d == d.rounded() { return Int(d) }
            throw error("rating '\(rating.prefix(40))' is not a non-negative integer")
        }
    }

    // MARK: Reading

    /// Calls `body` with every data row of the file at `path`, in order, until `body` returns false.
    /// Throws `TRMError` for an unreadable file, a missing or wrong header, a file with no puzzle, a line that is not four
    /// fields, or a line over `maxLineBytes`; errors thrown by `body` pass through.
    public static func forEachRow(path: String, _ body: (Row) throws -> Bool) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TRMError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { try? handle.close() }
        var splitter = Splitter(file: path)
        while true {
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 20)
            } catch {
                throw TRMError(.io, "cannot read \(path): \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            guard try splitter.feed([UInt8](chunk), body) else { return }
        }
        try splitter.finish(body)
    }

    /// As `forEachRow(path:_:)`, for CSV text already in memory; `name` stands for the file in errors.
    public static func forEachRow(bytes: [UInt8], name: String, _ body: (Row) throws -> Bool) throws {
        var splitter = Splitter(file: name)
        guard try splitter.feed(bytes, body) else { return }
        try splitter.finish(body)
    }

    /// Cuts a byte stream into lines, checks the header and turns the other lines into rows.
    private struct Splitter {
        let file: String
        var pending: [UInt8] = []
        var line = 0
        var sawHeader = false
        var rows = 0

        init(file: String) { self.file = file }

        /// Handles every complete line of `chunk`; false when `body` asked to stop.
        mutating func feed(_ chunk: [UInt8], _ body: (Row) throws -> Bool) throws -> Bool {
            var start = 0
            for i in chunk.indices where chunk[i] == UInt8(ascii: "\n") {
                pending.append(contentsOf: chunk[start..<i])
                start = i + 1
                guard try handleLine(body) else { return false }
            }
            pending.append(contentsOf: chunk[start...])
            if pending.count > PuzzleCSV.maxLineBytes {
                throw TRMError(.invalidInput, "\(file):\(line + 1): line longer than \(PuzzleCSV.maxLineBytes) bytes")
            }
            return true
        }

        /// Handles a last line without a newline, and reports a file without a header.
        mutating func finish(_ body: (Row) throws -> Bool) throws {
            if !pending.isEmpty { _ = try handleLine(body) }
            if !sawHeader { throw TRMError(.invalidInput, "\(file): empty file, expected the header '\(PuzzleCSV.header)'") }
            if rows == 0 { throw TRMError(.invalidInput, "\(file): no puzzles after the header") }
        }

        private mutating func handleLine(_ body: (Row) throws -> Bool) throws -> Bool {
            line += 1
            var bytes = pending
            pending.removeAll(keepingCapacity: true)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            if !sawHeader {
                // A UTF-8 byte-order mark is what spreadsheet programs put in front of CSV exports.
                if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
                let text = String(decoding: bytes, as: UTF8.self)
                guard text.trimmingCharacters(in: .whitespaces) == PuzzleCSV.header else {
                    throw TRMError(.invalidInput, "\(file):\(line): expected the header '\(PuzzleCSV.header)', found '\(text.prefix(80))'")
                }
                sawHeader = true
                return true
            }
            if bytes.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { return true }
            let fields = try PuzzleCSV.fields(bytes, location: "\(file):\(line)")
            guard fields.count == 4 else {
                throw TRMError(.invalidInput, "\(file):\(line): expected 4 fields (\(PuzzleCSV.header)), found \(fields.count)")
            }
            let row = Row(
                file: file, line: line, source: String(decoding: fields[0], as: UTF8.self), question: fields[1],
                answer: fields[2], rating: String(decoding: fields[3], as: UTF8.self))
            rows += 1
            return try body(row)
        }
    }

    /// Splits one line at commas outside double quotes.
    static func fields(_ line: [UInt8], location: String) throws -> [[UInt8]] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        var fields: [[UInt8]] = []
        var current: [UInt8] = []
        var quoted = false
        var i = 0
        while i < line.count {
            let b = line[i]
            if quoted {
                if b == quote {
                    if i + 1 < line.count, line[i + 1] == quote {
                        current.append(quote)
                        i += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(b)
                }
            } else if b == quote && current.isEmpty {
                quoted = true
            } else if b == comma {
                fields.append(current)
                current = []
            } else {
                current.append(b)
            }
            i += 1
        }
        if quoted { throw TRMError(.invalidInput, "\(location): unterminated quoted field") }
        fields.append(current)
        return fields
    }

    // MARK: Writing

    /// The CSV text of `rows` (header first, `\n` line ends); a source with a comma or quote is quoted,
    /// and line breaks in it become spaces so every puzzle stays on one line.
    public static func encode(_ rows: [(source: String, question: [UInt8], answer: [UInt8], rating: String)]) -> [UInt8] {
        var out = Array((header + "\n").utf8)
        out.reserveCapacity(out.count + rows.reduce(0) { $0 + $1.question.count + $1.answer.count + 32 })
        for row in rows {
            out += quoted(row.source.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "))
            out.append(UInt8(ascii: ","))
            out += row.question
            out.append(UInt8(ascii: ","))
            out += row.answer
            out.append(UInt8(ascii: ","))
            out += quoted(row.rating)
            out.append(UInt8(ascii: "\n"))
        }
        return out
    }

    private static func quoted(_ s: String) -> [UInt8] {
        guard s.contains(",") || s.contains("\"") else { return Array(s.utf8) }
        return Array(("\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"").utf8)
    }
}
