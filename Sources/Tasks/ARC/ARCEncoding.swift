/// The reference's ARC sequence encoding (docs/tasks.md §2): a grid on a 30×30 canvas, row-major,
/// 900 tokens; PAD 0, EOS 1, colour c -> c + 2. EOS marks the right and bottom edges so that the
/// model states the output size itself.
public enum ARCEncoding {
    /// Canvas side.
    public static let side = 30
    /// Tokens per grid (30 × 30).
    public static let seqLen = side * side
    /// Vocabulary: PAD, EOS and 10 colours.
    public static let vocabSize = 12
    public static let pad: Int32 = 0
    public static let eos: Int32 = 1
    /// Token of colour 0.
    public static let colourBase: Int32 = 2

    /// Encodes `grid` placed with its top-left cell at `offset` (row, column). EOS fills column
    /// `col + cols` beside the grid's rows and row `row + rows` under its columns, each only when it is
    /// inside the canvas; the corner cell stays PAD. Inference and test queries use offset (0, 0);
    /// the trainer may translate demonstrations (same offset for input and output).
    public static func encode(_ grid: Grid, offset: (row: Int, col: Int) = (0, 0)) -> [Int32] {
        let (pr, pc) = offset
        precondition(
            pr >= 0 && pc >= 0 && pr + grid.rows <= side && pc + grid.cols <= side,
            "ARCEncoding: \(grid.rows)×\(grid.cols) grid at (\(pr), \(pc)) does not fit the 30×30 canvas")
        var tokens = [Int32](repeating: pad, count: seqLen)
        for r in 0..<grid.rows {
            for c in 0..<grid.cols {
                tokens[(pr + r) * side + pc + c] = Int32(grid[r, c]) + colourBase
            }
        }
        if pc + grid.cols < side {
            for r in pr..<(pr + grid.rows) { tokens[r * side + pc + grid.cols] = eos }
        }
        if pr + grid.rows < side {
            for c in pc..<(pc + grid.cols) { tokens[(pr + grid.rows) * side + c] = eos }
        }
        return tokens
    }

    /// Reads a grid back from a predicted sequence as the reference's evaluator does (docs/tasks.md §6):
    /// the largest top-left block of colour tokens, found by scanning rows downwards while the usable
    /// width only shrinks (a row's width ends at its first non-colour token); a strictly larger area
    /// replaces the best so far. Returns colours 0...9; a 0×0 grid when (0, 0) is not a colour.
    /// Only the block at the origin is read, so translated sequences need their offset removed first.
    public static func crop<S: RandomAccessCollection>(_ tokens: S) -> Grid where S.Element: BinaryInteger, S.Index == Int {
        precondition(tokens.count == seqLen, "ARCEncoding.crop: \(tokens.count) tokens, expected \(seqLen)")
        let base = tokens.startIndex
        func isColour(_ r: Int, _ c: Int) -> Bool {
            let t = Int(tokens[base + r * side + c])
            return t >= Int(colourBase) && t < Int(colourBase) + 10
        }
        var width = side
        var best = (rows: 0, cols: 0, area: 0)
        for rows in 1...side {
            // The first non-colour token of this row (within the width still open) closes the width.
            if let c = (0..<width).first(where: { !isColour(rows - 1, $0) }) { width = c }
            if rows * width > best.area { best = (rows, width, rows * width) }
        }
        var cells = [UInt8]()
        cells.reserveCapacity(best.area)
        for r in 0..<best.rows {
            for c in 0..<best.cols { cells.append(UInt8(Int(tokens[base + r * side + c]) - Int(colourBase))) }
        }
        return Grid(rows: best.rows, cols: best.cols, cells: cells)
    }

    /// `crop` for a decode closure: nil for a sequence of the wrong length or one with no grid.
    public static func decode<S: RandomAccessCollection>(_ tokens: S) -> Grid? where S.Element: BinaryInteger, S.Index == Int {
        guard tokens.count == seqLen else { return nil }
        let grid = crop(tokens)
        return grid.rows == 0 || grid.cols == 0 ? nil : grid
    }
}
