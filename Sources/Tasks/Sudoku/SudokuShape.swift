/// The geometry of an n×n Sudoku: n = 4 (2×2 boxes), 6 (boxes of 2 rows × 3 columns) or 9 (3×3).
/// Boards are `Grid`s of digits with 0 for a blank cell.
public struct SudokuShape: Hashable, Sendable, CustomStringConvertible {
    /// Side of the board and number of digits.
    public let size: Int
    /// Rows of one box (and rows of one band).
    public let boxRows: Int
    /// Columns of one box (and columns of one stack).
    public let boxCols: Int

    /// The supported sides.
    public static let sizes = [4, 6, 9]

    /// The shape for side 4, 6 or 9; nil for any other side.
    public init?(size: Int) {
        switch size {
        case 4: (self.size, boxRows, boxCols) = (4, 2, 2)
        case 6: (self.size, boxRows, boxCols) = (6, 2, 3)
        case 9: (self.size, boxRows, boxCols) = (9, 3, 3)
        default: return nil
        }
    }

    /// The shape whose board has `cellCount` cells (16, 36 or 81), as a CSV question implies it.
    public init?(cellCount: Int) {
        guard let side = SudokuShape.sizes.first(where: { $0 * $0 == cellCount }) else { return nil }
        self.init(size: side)
    }

    /// Cells of the board, and tokens of the model's sequence (L).
    public var cellCount: Int { size * size }
    /// PAD, blank and the n digits.
    public var vocabSize: Int { size + 2 }
    /// Bands (horizontal groups of boxes); each has `boxRows` rows.
    public var bands: Int { size / boxRows }
    /// Stacks (vertical groups of boxes); each has `boxCols` columns.
    public var stacks: Int { size / boxCols }
    /// Bitmask of all digits 1...n (bit d-1 for digit d).
    var allDigits: UInt16 { UInt16((1 << size) - 1) }

    /// Index of the box holding (row, col), boxes numbered row-major.
    public func box(row: Int, col: Int) -> Int { (row / boxRows) * stacks + col / boxCols }

    public var description: String { "\(size)×\(size) (boxes \(boxRows)×\(boxCols))" }

    // MARK: Board checks

    /// Why `board` is not a board of this shape with digits 0...n, or nil when it is.
    public func shapeProblem(_ board: Grid) -> String? {
        guard board.rows == size, board.cols == size else { return "board is \(board.rows)×\(board.cols), expected \(size)×\(size)" }
        if let bad = board.cells.firstIndex(where: { Int($0) > size }) {
            return "cell \(bad) holds \(board.cells[bad]), digits are 1...\(size)"
        }
        return nil
    }

    /// Why the givens of `board` break a Sudoku rule (a digit twice in a row, column or box), or nil.
    public func conflict(_ board: Grid) -> String? {
        var rowsUsed = [UInt16](repeating: 0, count: size), colsUsed = rowsUsed, boxesUsed = rowsUsed
        for r in 0..<size {
            for c in 0..<size where board[r, c] != 0 {
                let bit = UInt16(1) << (board[r, c] - 1), b = box(row: r, col: c)
                if rowsUsed[r] & bit != 0 { return "digit \(board[r, c]) twice in row \(r + 1)" }
                if colsUsed[c] & bit != 0 { return "digit \(board[r, c]) twice in column \(c + 1)" }
                if boxesUsed[b] & bit != 0 { return "digit \(board[r, c]) twice in box \(b + 1)" }
                rowsUsed[r] |= bit
                colsUsed[c] |= bit
                boxesUsed[b] |= bit
            }
        }
        return nil
    }

    /// True when `board` is completely filled and breaks no rule.
    public func isSolved(_ board: Grid) -> Bool {
        shapeProblem(board) == nil && !board.cells.contains(0) && conflict(board) == nil
    }
}

/// The reference's Sudoku sequence encoding (docs/tasks.md §3): the board row-major, token = digit + 1,
/// so PAD 0, blank 1 and digits 1...n -> 2...n+1; vocabulary n + 2, L = n².
public enum SudokuEncoding {
    public static let pad: Int32 = 0
    public static let blank: Int32 = 1

    /// Tokens of `board` (digits 0...n, 0 = blank).
    public static func encode(_ board: Grid) -> [Int32] { board.cells.map { Int32($0) + 1 } }

    /// The digit grid of predicted `tokens`, or nil when their count is not n² or any token is not a
    /// digit (PAD, blank or out of range): an answer must fill every cell.
    public static func decode(_ tokens: [Int32], shape: SudokuShape) -> Grid? {
        guard tokens.count == shape.cellCount else { return nil }
        var cells = [UInt8](repeating: 0, count: tokens.count)
        for (i, t) in tokens.enumerated() {
            guard t >= 2, t <= Int32(shape.size) + 1 else { return nil }
            cells[i] = UInt8(t - 1)
        }
        return Grid(rows: shape.size, cols: shape.size, cells: cells)
    }
}
