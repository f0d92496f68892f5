/// Terminal renderings of grids (`trm-run --show`): one string per row. With `colour` the cells
/// are ANSI 256-colour backgrounds; without it, plain characters that still tell every cell apart,
/// so the output reads well in a log file. The caller decides `colour` (`--color`, a TTY, NO_COLOR).

/// `ESC [ 48;5;n m` followed by `text`: a 256-colour background.
private func background(_ code: Int, _ text: String) -> String { "\u{1B}[48;5;\(code)m" + text }

/// Resets the colours at the end of a coloured row.
private let reset = "\u{1B}[0m"

extension ARCTask {
    /// The usual ARC palette as 256-colour backgrounds (colour 0 black ... 9 maroon).
    public static let palette = [16, 27, 196, 40, 226, 244, 201, 208, 51, 88]

    /// Coloured: two-space cells in the ARC palette. Plain: the colour digit per cell.
    public static func render(_ grid: Grid, colour: Bool) -> [String] {
        (0..<grid.rows).map { r in
            let cells = (0..<grid.cols).map { Int(grid[r, $0]) }
            return colour
                ? cells.map { background(palette[$0 % 10], "  ") }.joined() + reset
                : cells.map { $0 < 10 ? String($0) : "?" }.joined()
        }
    }
}

extension SudokuTask {
    /// Digits with "." for blanks, each cell two wide; Sudoku has no colour, so `colour` changes nothing.
    public static func render(_ grid: Grid, colour: Bool) -> [String] {
        (0..<grid.rows).map { r in (0..<grid.cols).map { c in grid[r, c] == 0 ? " ." : " \(grid[r, c])" }.joined() }
    }
}

extension MazeTask {
    /// Backgrounds of wall, open, start, goal and path: grey, black, green, red, yellow.
    public static let palette = [244, 16, 40, 196, 226]

    /// Characters of wall, open, start, goal and path in plain output (the CSV's `# SGo`, with "."
    /// for open cells so that rows of open cells stay countable).
    public static let plainCharacters: [Character] = ["#", ".", "S", "G", "o"]

    /// Coloured: one-space cells in `palette`. Plain: `plainCharacters` ("?" for a code beyond them).
    public static func render(_ grid: Grid, colour: Bool) -> [String] {
        (0..<grid.rows).map { r in
            let cells = (0..<grid.cols).map { Int(grid[r, $0]) }
            return colour
                ? cells.map { background(palette[$0 % palette.count], " ") }.joined() + reset
                : String(cells.map { $0 < plainCharacters.count ? plainCharacters[$0] : "?" })
        }
    }
}
