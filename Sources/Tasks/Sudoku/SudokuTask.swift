import TRMCore

// MARK: Augmentation

/// One validity-preserving rearrangement of a Sudoku (docs/tasks.md §3, generalised to 4×4 and 6×6):
/// optionally transpose the board, reorder rows and columns, then relabel the digits. Row orders only
/// permute bands and the rows inside each band (columns likewise with stacks), so every box stays a
/// box; transposition needs square boxes, so 6×6 boards (2×3 boxes) never transpose.
public struct SudokuTransform: Hashable, Sendable {
    /// Transpose first.
    public var transpose: Bool
    /// Row r of the result is row `rowOrder[r]` of the (transposed) board.
    public var rowOrder: [Int]
    /// Column c of the result is column `colOrder[c]` of the (transposed) board.
    public var colOrder: [Int]
    /// `digitMap[d]` replaces digit d; `digitMap[0] == 0` so blanks stay blank.
    public var digitMap: [UInt8]

    public init(transpose: Bool, rowOrder: [Int], colOrder: [Int], digitMap: [UInt8]) {
        let n = rowOrder.count
        precondition(
            colOrder.count == n && rowOrder.sorted() == Array(0..<n) && colOrder.sorted() == Array(0..<n),
            "SudokuTransform: row and column orders must be permutations of 0..<\(n)")
        precondition(
            digitMap.count == n + 1 && digitMap[0] == 0 && digitMap.sorted() == (0...n).map(UInt8.init),
            "SudokuTransform: digit map must fix 0 and permute 1...\(n)")
        self.transpose = transpose
        self.rowOrder = rowOrder
        self.colOrder = colOrder
        self.digitMap = digitMap
    }

    /// The transform that changes nothing.
    public static func identity(_ shape: SudokuShape) -> SudokuTransform {
        SudokuTransform(
            transpose: false, rowOrder: Array(0..<shape.size), colOrder: Array(0..<shape.size),
            digitMap: (0...shape.size).map(UInt8.init))
    }

    public var isIdentity: Bool {
        !transpose && rowOrder == Array(rowOrder.indices) && colOrder == Array(colOrder.indices)
            && digitMap == (0..<digitMap.count).map(UInt8.init)
    }

    /// A random transform, drawn as the reference does: a digit permutation, a fair coin for
    /// transposition (square boxes only), then for each band in a random band order a fresh random
    /// order of its rows, and the same for stacks and columns.
    public static func random(_ shape: SudokuShape, rng: inout SeededRandom) -> SudokuTransform {
        let digits = rng.permutation(shape.size).map { UInt8($0 + 1) }
        let transpose = shape.boxRows == shape.boxCols && rng.uniform(2) == 1
        // Transposition swaps the roles of bands and stacks, which have the same sizes when allowed.
        let rows = rng.permutation(shape.bands).flatMap { b in rng.permutation(shape.boxRows).map { b * shape.boxRows + $0 } }
        let cols = rng.permutation(shape.stacks).flatMap { s in rng.permutation(shape.boxCols).map { s * shape.boxCols + $0 } }
        return SudokuTransform(transpose: transpose, rowOrder: rows, colOrder: cols, digitMap: [0] + digits)
    }

    /// `digitMap` inverted: the original digit of each new digit.
    public var inverseDigitMap: [UInt8] {
        var inverse = [UInt8](repeating: 0, count: digitMap.count)
        for (d, mapped) in digitMap.enumerated() { inverse[Int(mapped)] = UInt8(d) }
        return inverse
    }

    /// The board as this transform shows it (digits 0...n).
    public func apply(_ board: Grid) -> Grid {
        let n = rowOrder.count
        precondition(board.rows == n && board.cols == n, "SudokuTransform: \(board.rows)×\(board.cols) board for a \(n)×\(n) transform")
        let x = transpose ? Dihedral.apply(6, board) : board
        var out = board
        for r in 0..<n {
            for c in 0..<n { out[r, c] = digitMap[Int(x[rowOrder[r], colOrder[c]])] }
        }
        return out
    }

    /// Undoes `apply`: the board in the original frame (digits 0...n).
    public func invert(_ board: Grid) -> Grid {
        let n = rowOrder.count
        precondition(board.rows == n && board.cols == n, "SudokuTransform: \(board.rows)×\(board.cols) board for a \(n)×\(n) transform")
        let inverse = inverseDigitMap
        var x = board
        for r in 0..<n {
            for c in 0..<n { x[rowOrder[r], colOrder[c]] = inverse[Int(board[r, c])] }
        }
        return transpose ? Dihedral.apply(6, x) : x
    }
}

// MARK: Queries

/// Builds Sudoku model inputs for inference (docs/tasks.md §5): every puzzle under its identity and
/// `numAug` random transforms; each query decodes its prediction back to the original frame so that
/// votes from all versions agree. All versions use the one blank puzzle identifier (docs/tasks.md §3).
public enum SudokuTask {
    /// The voting-group name of puzzle `index` of a set (`TaskQuery.puzzle`, `TaskPuzzle.name`).
    public static func puzzleName(_ index: Int) -> String { "sudoku-\(index)" }

    /// Queries for all puzzles, in puzzle order, then version (version 0 is the identity). Puzzle i
    /// is named `puzzleName(i)`, so the names match `taskPuzzles(puzzles)`.
    public static func queries(puzzles: [SudokuPuzzle], numAug: Int, seed: UInt64) -> [TaskQuery] {
        puzzles.enumerated().flatMap { queries(for: $1, index: $0, numAug: numAug, seed: seed) }
    }

    /// The `numAug + 1` queries of puzzle `index` (see `transforms(shape:index:numAug:seed:)`).
    public static func queries(for puzzle: SudokuPuzzle, index: Int, numAug: Int, seed: UInt64) -> [TaskQuery] {
        let shape = puzzle.shape
        let name = puzzleName(index)
        return transforms(shape: shape, index: index, numAug: numAug, seed: seed).map { t in
            TaskQuery(
                puzzle: name, testIndex: 0, identifier: "", tokens: SudokuEncoding.encode(t.apply(puzzle.question)),
                decode: { SudokuEncoding.decode($0, shape: shape).map(t.invert) })
        }
    }

    /// The identity followed by `numAug` random transforms for puzzle `index`, drawn from a stream of
    /// `seed` forked by the index, so a puzzle's versions do not depend on the rest of the set.
    /// Draws are not deduplicated: boards have far more symmetries than versions are asked for
    /// (9×9: 9! × 2 × 6⁸), and the reference does not deduplicate either.
    public static func transforms(shape: SudokuShape, index: Int, numAug: Int, seed: UInt64) -> [SudokuTransform] {
        var rng = SeededRandom(seed: seed).fork(UInt64(index))
        return [.identity(shape)] + (0..<max(numAug, 0)).map { _ in SudokuTransform.random(shape, rng: &rng) }
    }

    /// The ground truth of every puzzle, named as `queries` names them.
    public static func taskPuzzles(_ puzzles: [SudokuPuzzle]) -> [TaskPuzzle] {
        puzzles.enumerated().map { i, p in TaskPuzzle(name: puzzleName(i), testInputs: [p.question], testOutputs: [p.answer]) }
    }

    /// A training example: input and label tokens of `puzzle` under `transform` (labels are the full
    /// solution, givens included, as the reference supervises every cell).
    public static func example(_ puzzle: SudokuPuzzle, transform: SudokuTransform) -> (input: [Int32], label: [Int32]) {
        (SudokuEncoding.encode(transform.apply(puzzle.question)), SudokuEncoding.encode(transform.apply(puzzle.answer)))
    }
}
