import TRMCore

/// A backtracking Sudoku solver for the shapes of `SudokuShape`: at every search node it fills naked
/// singles (a cell with one candidate) and hidden singles (a digit with one place in a row, column or
/// box) until nothing more follows, then branches on a cell with the fewest candidates.
///
/// Its search effort is the difficulty rating used by `SudokuGenerator` and written to CSV files: the
/// number of guesses (branch nodes) in the complete search tree of the puzzle. Counting with
/// `limit: 2` explores that whole tree for a puzzle with one solution, so the rating does not depend
/// on the order in which digits are tried; a puzzle that the two singles rules solve rates 0.
public struct SudokuSolver: Sendable {
    public let shape: SudokuShape
    /// Row, column and box of every cell.
    private let rowOf: [Int], colOf: [Int], boxOf: [Int]
    /// The 3n units (rows, columns, boxes) as cell lists.
    private let units: [[Int]]

    /// The outcome of a search.
    public struct Result: Sendable {
        /// Solutions found, at most the limit.
        public var solutionCount: Int
        /// The first solution found (ascending digit order unless randomised).
        public var solution: Grid?
        /// Guesses made: branch nodes visited.
        public var nodes: Int
    }

    public init(shape: SudokuShape) {
        self.shape = shape
        let n = shape.size
        rowOf = (0..<n * n).map { $0 / n }
        colOf = (0..<n * n).map { $0 % n }
        boxOf = (0..<n * n).map { shape.box(row: $0 / n, col: $0 % n) }
        var units: [[Int]] = (0..<n).map { r in (0..<n).map { r * n + $0 } }
        units += (0..<n).map { c in (0..<n).map { $0 * n + c } }
        units += (0..<n).map { b in (0..<n * n).filter { shape.box(row: $0 / n, col: $0 % n) == b } }
        self.units = units
    }

    /// Counts the solutions of `board` up to `limit`. A board whose givens conflict has none.
    public func solve(_ board: Grid, limit: Int = 2) -> Result {
        var rng: SeededRandom? = nil
        return solve(board, limit: limit, rng: &rng)
    }

    /// One solution of `board` found trying digits in random order, or nil when it has none; on the
    /// empty board this draws a random full board.
    public func randomSolution(_ board: Grid, rng: inout SeededRandom) -> Grid? {
        var random: SeededRandom? = rng
        defer { rng = random! }
        return solve(board, limit: 1, rng: &random).solution
    }

    private func solve(_ board: Grid, limit: Int, rng: inout SeededRandom?) -> Result {
        precondition(shape.shapeProblem(board) == nil, "SudokuSolver: \(shape.shapeProblem(board)!)")
        var result = Result(solutionCount: 0, solution: nil, nodes: 0)
        guard shape.conflict(board) == nil, limit > 0 else { return result }
        var state = State(size: shape.size)
        for (i, d) in board.cells.enumerated() where d != 0 { place(&state, i, d) }
        search(state, limit: limit, rng: &rng, &result)
        return result
    }

    /// True when `board` has a solution with a digit other than `digit` at `cell` (which must be blank).
    /// For a board that was uniquely solvable with `digit` given at `cell`, this is exactly "blanking
    /// the cell adds solutions": any new solution must differ there. Cheaper than counting to 2,
    /// because the search stops at the first solution and starts on a narrower board.
    public func hasSolution(_ board: Grid, cell: Int, otherThan digit: UInt8) -> Bool {
        precondition(shape.shapeProblem(board) == nil, "SudokuSolver: \(shape.shapeProblem(board)!)")
        precondition(
            board.cells[cell] == 0 && (1...shape.size).contains(Int(digit)),
            "SudokuSolver: cell \(cell) is not blank or digit \(digit) out of range")
        guard shape.conflict(board) == nil else { return false }
        var state = State(size: shape.size)
        for (i, d) in board.cells.enumerated() where d != 0 { place(&state, i, d) }
        let others = candidates(state, cell) & ~(UInt16(1) << (digit - 1))
        var rng: SeededRandom? = nil
        var result = Result(solutionCount: 0, solution: nil, nodes: 0)
        for d in 1...UInt8(shape.size) where others & (1 << (d - 1)) != 0 {
            var next = state
            place(&next, cell, d)
            search(next, limit: 1, rng: &rng, &result)
            if result.solutionCount > 0 { return true }
        }
        return false
    }

    /// The difficulty rating of `board`: `solve(board, limit: 2).nodes`.
    public func rating(_ board: Grid) -> Int { solve(board, limit: 2).nodes }

    // MARK: Search

    /// Cells and the digits already used in each row, column and box (bit d-1 for digit d).
    private struct State {
        var cells: [UInt8]
        var rowUsed: [UInt16], colUsed: [UInt16], boxUsed: [UInt16]

        init(size: Int) {
            cells = [UInt8](repeating: 0, count: size * size)
            rowUsed = [UInt16](repeating: 0, count: size)
            colUsed = rowUsed
            boxUsed = rowUsed
        }
    }

    private enum Step {
        case contradiction, solved
        case branch(cell: Int, candidates: UInt16)
    }

    private func place(_ s: inout State, _ cell: Int, _ digit: UInt8) {
        let bit = UInt16(1) << (digit - 1)
        s.cells[cell] = digit
        s.rowUsed[rowOf[cell]] |= bit
        s.colUsed[colOf[cell]] |= bit
        s.boxUsed[boxOf[cell]] |= bit
    }

    private func candidates(_ s: borrowing State, _ cell: Int) -> UInt16 {
        shape.allDigits & ~(s.rowUsed[rowOf[cell]] | s.colUsed[colOf[cell]] | s.boxUsed[boxOf[cell]])
    }

    private func search(_ start: State, limit: Int, rng: inout SeededRandom?, _ result: inout Result) {
        var s = start
        switch propagate(&s) {
        case .contradiction:
            return
        case .solved:
            result.solutionCount += 1
            if result.solution == nil { result.solution = Grid(rows: shape.size, cols: shape.size, cells: s.cells) }
        case .branch(let cell, let mask):
            var digits = (1...UInt8(shape.size)).filter { mask & (1 << ($0 - 1)) != 0 }
            if rng != nil { rng!.shuffle(&digits) }
            for d in digits {
                result.nodes += 1
                var next = s
                place(&next, cell, d)
                search(next, limit: limit, rng: &rng, &result)
                if result.solutionCount >= limit { return }
            }
        }
    }

    /// Applies the two singles rules until neither fires. Returns the branch cell (fewest candidates,
    /// lowest index on ties) when the board is neither solved nor contradictory.
    private func propagate(_ s: inout State) -> Step {
        let cellCount = s.cells.count
        while true {
            var progress = false
            var best = -1, bestMask: UInt16 = 0, bestCount = Int.max, empty = 0
            for cell in 0..<cellCount where s.cells[cell] == 0 {
                let m = candidates(s, cell)
                if m == 0 { return .contradiction }
                if m & (m - 1) == 0 {
                    place(&s, cell, UInt8(m.trailingZeroBitCount + 1))
                    progress = true
                    continue
                }
                empty += 1
                let count = m.nonzeroBitCount
                if count < bestCount { (best, bestMask, bestCount) = (cell, m, count) }
            }
            if progress { continue }
            if empty == 0 { return .solved }
            // Hidden singles: `once` collects digits possible somewhere in the unit, `twice` those
            // possible in at least two cells; a digit in neither and not placed has no room left.
            for unit in units {
                var once: UInt16 = 0, twice: UInt16 = 0, used: UInt16 = 0
                for cell in unit {
                    if s.cells[cell] != 0 {
                        used |= 1 << (s.cells[cell] - 1)
                    } else {
                        let m = candidates(s, cell)
                        twice |= once & m
                        once |= m
                    }
                }
                if (once | used) != shape.allDigits { return .contradiction }
                let singles = once & ~twice & ~used
                guard singles != 0 else { continue }
                for cell in unit where s.cells[cell] == 0 {
                    let m = candidates(s, cell) & singles
                    if m == 0 { continue }
                    if m & (m - 1) != 0 { return .contradiction }  // one cell would need two digits
                    place(&s, cell, UInt8(m.trailingZeroBitCount + 1))
                }
                progress = true
                break
            }
            if !progress { return .branch(cell: best, candidates: bestMask) }
        }
    }
}
