import TRMCore

/// One Sudoku: the board to solve (0 = blank), its solution and a difficulty rating.
public struct SudokuPuzzle: Hashable, Sendable {
    /// Where the puzzle came from (the CSV `source` column).
    public var source: String
    public var question: Grid
    public var answer: Grid
    /// Search effort of `SudokuSolver` for generated puzzles; the file's own value for read ones.
    public var rating: Int

    public init(source: String, question: Grid, answer: Grid, rating: Int) {
        self.source = source
        self.question = question
        self.answer = answer
        self.rating = rating
    }

    /// The board's shape (the question's side must be 4, 6 or 9).
    public var shape: SudokuShape {
        guard let s = SudokuShape(size: question.rows) else { preconditionFailure("SudokuPuzzle: side \(question.rows) is not 4, 6 or 9") }
        return s
    }

    /// Number of givens.
    public var clues: Int { question.cells.count(where: { $0 != 0 }) }

    /// Why the puzzle is not a consistent (question, solution) pair, or nil: both boards of one shape,
    /// the answer a solved board that keeps every given. Uniqueness is not checked here (`SudokuSolver`).
    public func problem() -> String? {
        guard let shape = SudokuShape(size: question.rows) else { return "board side \(question.rows) is not 4, 6 or 9" }
        if let p = shape.shapeProblem(question) { return "question: \(p)" }
        if let p = shape.shapeProblem(answer) { return "answer: \(p)" }
        if let blank = answer.cells.firstIndex(of: 0) { return "answer has a blank at \(cellName(blank, shape.size))" }
        if let p = shape.conflict(answer) { return "answer is not a solved board: \(p)" }
        for i in question.cells.indices where question.cells[i] != 0 && question.cells[i] != answer.cells[i] {
            return "answer has \(answer.cells[i]) at \(cellName(i, shape.size)) where the question gives \(question.cells[i])"
        }
        return nil
    }
}

func cellName(_ index: Int, _ cols: Int) -> String { "row \(index / cols + 1), column \(index % cols + 1)" }

/// Reads and writes Sudoku sets in the published Sudoku-Extreme CSV layout (`PuzzleCSV`): question and
/// answer are n² characters row-major, '.' (or '0') for a blank in the question, '1'...'9' for digits;
/// the rating is a non-negative integer.
public enum SudokuCSV: PuzzleCSVFormat {
    /// Blanks as '.', digits as '1'...'9'.
    public static func row(_ p: SudokuPuzzle) -> (source: String, question: [UInt8], answer: [UInt8], rating: String) {
        (
            p.source, p.question.cells.map { $0 == 0 ? UInt8(ascii: ".") : UInt8(ascii: "0") + $0 },
            p.answer.cells.map { UInt8(ascii: "0") + $0 }, String(p.rating)
        )
    }

    /// The shape of boards of side `size` (4, 6 or 9).
    public static func layout(side size: Int) throws -> SudokuShape {
        guard let s = SudokuShape(size: size) else { throw TRMError(.invalidInput, "Sudoku side \(size) is not 4, 6 or 9") }
        return s
    }

    /// The puzzle of one row. `shape` is the file's board shape, set from this row when nil.
    /// Errors name the row and say what is wrong: length, a character that is not a blank or a digit
    /// in range, an answer that is not a solved board or changes a given, a rating that is not an integer.
    public static func puzzle(from row: PuzzleCSV.Row, layout shape: inout SudokuShape?) throws -> SudokuPuzzle {
        try puzzle(from: row, layout: &shape, checkAnswer: true)
    }

    /// `puzzle(from:layout:)`; without `checkAnswer` (a puzzle to solve, whose row carries the question
    /// again as its answer) only the question is checked: its characters and that no two givens conflict.
    public static func puzzle(from row: PuzzleCSV.Row, layout shape: inout SudokuShape?, checkAnswer: Bool) throws -> SudokuPuzzle {
        if shape == nil {
            guard let s = SudokuShape(cellCount: row.question.count) else {
                throw row.error("question has \(row.question.count) characters; a 4×4, 6×6 or 9×9 board has 16, 36 or 81")
            }
            shape = s
        }
        let s = shape!
        for (field, text) in [("question", row.question), ("answer", row.answer)] where text.count != s.cellCount {
            throw row.error("\(field) has \(text.count) characters, expected \(s.cellCount) for a \(s.size)×\(s.size) board")
        }
        let question = try digits(row.question, field: "question", blanks: true, shape: s, row: row)
        guard checkAnswer else {
            if let p = s.shapeProblem(question) ?? s.conflict(question) { throw row.error("question: \(p)") }
            return SudokuPuzzle(source: row.source, question: question, answer: question, rating: 0)
        }
        let answer = try digits(row.answer, field: "answer", blanks: false, shape: s, row: row)
        let puzzle = SudokuPuzzle(source: row.source, question: question, answer: answer, rating: try row.integerRating())
        if let p = puzzle.problem() { throw row.error(p) }
        return puzzle
    }

    private static func digits(_ text: [UInt8], field: String, blanks: Bool, shape: SudokuShape, row: PuzzleCSV.Row) throws -> Grid {
        var cells = [UInt8](repeating: 0, count: text.count)
        for (i, ch) in text.enumerated() {
            if blanks && (ch == UInt8(ascii: ".") || ch == UInt8(ascii: "0")) { continue }
            let d = Int(ch) - Int(UInt8(ascii: "0"))
            guard (1...shape.size).contains(d) else {
                let shown = (32..<127).contains(ch) ? "'\(Character(Unicode.Scalar(ch)))'" : "byte \(ch)"
                let allowed = (blanks ? "'.', '0' or " : "") + "digits 1...\(shape.size)"
                throw row.error("\(field) character \(i + 1) (\(cellName(i, shape.size))) is \(shown); expected \(allowed)")
            }
            cells[i] = UInt8(d)
        }
        return Grid(rows: shape.size, cols: shape.size, cells: cells)
    }
}
