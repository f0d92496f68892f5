import Foundation
import TRMCore

/// One maze: the question (walls, open cells, S and G), the answer (the question with the shortest
/// path marked) and a rating (generated mazes: the shortest path's length in moves).
public struct MazePuzzle: Hashable, Sendable {
    /// Where the maze came from (the CSV `source` column).
    public var source: String
    public var question: Grid
    public var answer: Grid
    public var rating: Int

    public init(source: String, question: Grid, answer: Grid, rating: Int) {
        self.source = source
        self.question = question
        self.answer = answer
        self.rating = rating
    }

    /// Side of the (square) grid.
    public var side: Int { question.rows }

    /// Why the puzzle is not a square maze with one shortest path marked, or nil
    /// (`MazeSolver.answerProblem`). A unique shortest path is not required here.
    public func problem() -> String? {
        guard question.rows == question.cols else { return "maze is \(question.rows)×\(question.cols), not square" }
        if let bad = (question.cells + answer.cells).first(where: { $0 > MazeCell.path.rawValue }) {
            return "cell code \(bad) is not a maze cell"
        }
        return MazeSolver.answerProblem(question: question, answer: answer)
    }
}

/// Reads and writes mazes in the published Maze-Hard CSV layout (`PuzzleCSV`): question and answer
/// are n² characters of `# SGo`, row-major. The rating should be an integer; a fractional one is
/// rounded, since nothing downstream uses the published mazes' ratings.
public enum MazeCSV: PuzzleCSVFormat {
    /// A maze file's layout is its side.
    public static func layout(side: Int) -> Int { side }

    /// Cells as `# SGo`.
    public static func row(_ p: MazePuzzle) -> (source: String, question: [UInt8], answer: [UInt8], rating: String) {
        (p.source, MazeEncoding.text(p.question), MazeEncoding.text(p.answer), String(p.rating))
    }

    /// The maze of one row. `side` is the file's grid side, set from this row when nil. Errors name
    /// the row and say what is wrong: a length that is not side², a character outside `# SGo`, not
    /// exactly one S and one G, an answer that changes more than path marks or whose marks are not a
    /// shortest S-G path, a rating that is not a number.
    public static func puzzle(from row: PuzzleCSV.Row, layout side: inout Int?) throws -> MazePuzzle {
        try puzzle(from: row, layout: &side, checkAnswer: true)
    }

    /// `puzzle(from:layout:)`; without `checkAnswer` (a maze to solve, whose row carries the question
    /// again as its answer) only the question's characters are checked.
    public static func puzzle(from row: PuzzleCSV.Row, layout side: inout Int?, checkAnswer: Bool) throws -> MazePuzzle {
        if side == nil {
            let n = Int(Double(row.question.count).squareRoot().rounded())
            guard n >= 2, n * n == row.question.count else {
                throw row.error("question has \(row.question.count) characters, not the cells of a square maze")
            }
            side = n
        }
        let n = side!
        for (field, text) in [("question", row.question), ("answer", row.answer)] where text.count != n * n {
            throw row.error("\(field) has \(text.count) characters, expected \(n * n) for a \(n)×\(n) maze")
        }
        let question = try cells(row.question, field: "question", side: n, row: row)
        guard checkAnswer else { return MazePuzzle(source: row.source, question: question, answer: question, rating: 0) }
        let answer = try cells(row.answer, field: "answer", side: n, row: row)
        let rating: Int
        if let v = try? row.integerRating() {
            rating = v
        } else if let d = Double(row.rating.trimmingCharacters(in: .whitespaces)), d.isFinite, d >= 0, d < 1e15 {
            rating = Int(d.rounded())
        } else {
            throw row.error("rating '\(row.rating.prefix(40))' is not a non-negative number")
        }
        let puzzle = MazePuzzle(source: row.source, question: question, answer: answer, rating: rating)
        if let p = puzzle.problem() { throw row.error(p) }
        return puzzle
    }

    private static func cells(_ text: [UInt8], field: String, side: Int, row: PuzzleCSV.Row) throws -> Grid {
        var cells = [UInt8](repeating: 0, count: text.count)
        for (i, ch) in text.enumerated() {
            guard let cell = MazeCell(byte: ch) else {
                let shown = (32..<127).contains(ch) ? "'\(Character(Unicode.Scalar(ch)))'" : "byte \(ch)"
                throw row.error("\(field) character \(i + 1) (\(cellName(i, side))) is \(shown); expected one of '#', ' ', 'S', 'G', 'o'")
            }
            cells[i] = cell.rawValue
        }
        return Grid(rows: side, cols: side, cells: cells)
    }
}
