/// How the HTML report draws a task's grids: a background colour per cell value and, for tasks whose
/// cells are digits, the text written in each cell. Grids become HTML tables with one class per
/// value (`v0`, `v1`, ...), coloured by the page's style sheet (`css`).
public struct GridStyle: Sendable {
    /// CSS background of each cell value; values past the end use the last colour.
    public var colours: [String]
    /// Text of each cell value (values past the end: the number); nil draws no text.
    public var text: [String]?
    /// CSS colour of the cell text.
    public var ink: String

    public init(colours: [String], text: [String]? = nil, ink: String = "#000") {
        precondition(!colours.isEmpty, "GridStyle: no colours")
        self.colours = colours
        self.text = text
        self.ink = ink
    }

    /// ARC's colours 0-9 as the ARC-AGI viewer draws them (black, blue, red, green, yellow, grey,
    /// magenta, orange, azure, maroon).
    public static let arc = GridStyle(colours: [
        "#000000", "#0074d9", "#ff4136", "#2ecc40", "#ffdc00", "#aaaaaa", "#f012be", "#ff851b", "#7fdbff", "#870c25",
    ])

    /// Sudoku: white cells with their digit, blanks (0) empty.
    public static let sudoku = GridStyle(colours: ["#ffffff"], text: [""] + (1...16).map(String.init))

    /// Maze cell codes wall, open, start, goal, path: dark grey, white, green, red, yellow.
    public static let maze = GridStyle(colours: ["#444444", "#ffffff", "#2ecc40", "#ff4136", "#ffdc00"])

    /// The style for grids of tokens `value + shift` (the official datasets' encoding): token t is
    /// drawn as value t - shift, and tokens below `shift` (PAD) as value 0.
    public func shifted(by shift: Int) -> GridStyle {
        precondition(shift >= 0, "GridStyle.shifted: negative shift")
        let c = Array(repeating: colours[0], count: shift) + colours
        return GridStyle(colours: c, text: text.map { Array(repeating: $0.first ?? "", count: shift) + $0 }, ink: ink)
    }

    /// The value class of a cell.
    func valueClass(_ v: UInt8) -> String { "v\(min(Int(v), colours.count - 1))" }

    /// The text of a cell (already safe for markup).
    func cellText(_ v: UInt8) -> String {
        guard let text else { return "" }
        return Int(v) < text.count ? Markup.escape(text[Int(v)]) : String(v)
    }

    /// The style sheet rules of the value classes, scoped to `table.grid`.
    public var css: String {
        colours.enumerated().map { "table.grid td.v\($0.offset){background:\($0.element)}" }.joined(separator: "\n")
            + "\ntable.grid td{color:\(ink)}"
    }

    /// A grid as an HTML table of `rows` × `cols` cells, with its size as the title.
    public func html(_ grid: Grid) -> String {
        var s = "<table class=\"grid\" title=\"\(grid.rows)×\(grid.cols)\">"
        for r in 0..<grid.rows {
            s += "<tr>"
            for c in 0..<grid.cols {
                let v = grid[r, c]
                s += "<td class=\"\(valueClass(v))\">\(cellText(v))</td>"
            }
            s += "</tr>"
        }
        // A 0×0 grid still needs a row to be valid HTML.
        if grid.rows == 0 || grid.cols == 0 { s += "<tr><td class=\"empty\">(empty)</td></tr>" }
        return s + "</table>"
    }
}
