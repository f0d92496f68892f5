import TRMCore

/// Draws Sudoku puzzles with exactly one solution and their difficulty rating (`SudokuSolver`).
///
/// A draw fills a random full board, then visits the cells in random order and blanks each one whose
/// removal keeps the solution unique. Blanking only adds solutions, so a clue that could not go when
/// it was visited cannot go later either: every puzzle is minimal (no clue can be removed).
/// "Extreme" sets keep drawing until the rating reaches `minRating`.
public struct SudokuGenerator: Sendable {
    public var shape: SudokuShape
    /// Lowest rating accepted.
    public var minRating: Int
    /// Draws per puzzle before giving up on `minRating`.
    public var maxAttempts: Int
    /// The `source` column of generated puzzles.
    public var source: String

    /// Default draws per puzzle: at 9×9, about 1 in 30 minimal puzzles rates ≥ 20, 1 in 400 ≥ 50 and
    /// 1 in 5000 ≥ 100 (measured over 10,000 draws), so the default reaches 100 almost always.
    public static let defaultMaxAttempts = 20_000

    public init(
        shape: SudokuShape, minRating: Int = 0, maxAttempts: Int = SudokuGenerator.defaultMaxAttempts,
        source: String = "trm-data"
    ) {
        self.shape = shape
        self.minRating = minRating
        self.maxAttempts = maxAttempts
        self.source = source
    }

    /// Puzzle number `index` of the set drawn with `seed`. Each index has its own random stream, so a
    /// puzzle does not depend on how many others are generated, in what order, or on which thread.
    /// Throws `TRMError(.invalidInput)` when `maxAttempts` draws all rate below `minRating`.
    public func generate(index: Int, seed: UInt64) throws -> SudokuPuzzle {
        var rng = SeededRandom(seed: seed).fork(UInt64(index))
        let solver = SudokuSolver(shape: shape)
        var highest = 0
        for _ in 0..<max(maxAttempts, 1) {
            let puzzle = draw(solver: solver, rng: &rng)
            if puzzle.rating >= minRating { return puzzle }
            highest = max(highest, puzzle.rating)
        }
        throw TRMError(
            .invalidInput,
            "no \(shape) Sudoku rated ≥ \(minRating) in \(maxAttempts) draws "
                + "(highest rating drawn: \(highest)); lower the minimum rating or allow more attempts")
    }

    /// One minimal puzzle with a unique solution, rated.
    public func draw(rng: inout SeededRandom) -> SudokuPuzzle {
        draw(solver: SudokuSolver(shape: shape), rng: &rng)
    }

    private func draw(solver: SudokuSolver, rng: inout SeededRandom) -> SudokuPuzzle {
        let n = shape.size
        let empty = Grid(rows: n, cols: n, cells: [UInt8](repeating: 0, count: n * n))
        // The empty board always has a solution; a randomised search finds one in a few nodes.
        guard let answer = solver.randomSolution(empty, rng: &rng) else { preconditionFailure("empty \(shape) board has no solution") }
        var question = answer
        for cell in rng.permutation(n * n) {
            let digit = question.cells[cell]
            question.cells[cell] = 0
            if solver.hasSolution(question, cell: cell, otherThan: digit) { question.cells[cell] = digit }
        }
        return SudokuPuzzle(source: source, question: question, answer: answer, rating: solver.rating(question))
    }
}
