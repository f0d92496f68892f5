import TRMCore

/// A task's puzzle CSV (Sudoku-Extreme, Maze-Hard) on top of the shared `PuzzleCSV` layout: how a
/// row becomes a validated puzzle and a puzzle a row. Reading, parsing and writing are the same for
/// every task, and live here once.
public protocol PuzzleCSVFormat {
    associatedtype Puzzle
    /// What the first row fixes for the whole file: the board's side, or its shape.
    associatedtype Layout

    /// The layout of boards of side `side` (an error if the task has no such board).
    static func layout(side: Int) throws -> Layout

    /// The puzzle of one row, validated; `layout` is set from this row when nil. Errors name the row
    /// and say what is wrong.
    static func puzzle(from row: PuzzleCSV.Row, layout: inout Layout?) throws -> Puzzle

    /// The row of one puzzle: question and answer as the file's characters.
    static func row(_ puzzle: Puzzle) -> (source: String, question: [UInt8], answer: [UInt8], rating: String)
}

extension PuzzleCSVFormat {
    /// Calls `body` with every puzzle of the file, validated, until it returns false. With `side` nil
    /// the first row fixes the board side for the whole file. Throws `TRMError(.invalidInput)` naming
    /// file and line for a malformed row.
    public static func forEach(path: String, side: Int? = nil, _ body: (Puzzle) throws -> Bool) throws {
        var layout = try side.map(layout(side:))
        try PuzzleCSV.forEachRow(path: path) { try body(puzzle(from: $0, layout: &layout)) }
    }

    /// Every puzzle of the file (at most `limit`), validated.
    public static func read(path: String, side: Int? = nil, limit: Int = .max) throws -> [Puzzle] {
        var out: [Puzzle] = []
        try forEach(path: path, side: side) {
            out.append($0)
            return out.count < limit
        }
        return out
    }

    /// The puzzles of CSV text in memory; `name` stands for the file in error messages.
    public static func parse(bytes: [UInt8], name: String = "<csv>", side: Int? = nil) throws -> [Puzzle] {
        var layout = try side.map(layout(side:))
        var out: [Puzzle] = []
        try PuzzleCSV.forEachRow(bytes: bytes, name: name) {
            out.append(try puzzle(from: $0, layout: &layout))
            return true
        }
        return out
    }

    /// CSV text of `puzzles` (header included).
    public static func encode(_ puzzles: [Puzzle]) -> [UInt8] { PuzzleCSV.encode(puzzles.map(row)) }

    /// Writes `puzzles` to `path` atomically.
    public static func write(_ puzzles: [Puzzle], to path: String) throws {
        try AtomicFile.write(encode(puzzles), to: path)
    }
}
