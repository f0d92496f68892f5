/// A rectangular grid of small integers: ARC colours 0-9, Sudoku digits (0 = blank), Maze cell codes.
public struct Grid: Hashable, Sendable, CustomStringConvertible {
    public var rows: Int
    public var cols: Int
    /// Row-major cells.
    public var cells: [UInt8]

    public init(rows: Int, cols: Int, cells: [UInt8]) {
        precondition(rows >= 0 && cols >= 0 && cells.count == rows * cols, "Grid: \(cells.count) cells for \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.cells = cells
    }

    /// A grid from nested rows (all rows the same length; values 0...255).
    public init?(_ nested: [[Int]]) {
        let cols = nested.first?.count ?? 0
        guard nested.allSatisfy({ $0.count == cols }), nested.allSatisfy({ $0.allSatisfy { (0...255).contains($0) } }) else { return nil }
        self.init(rows: nested.count, cols: cols, cells: nested.flatMap { $0.map(UInt8.init) })
    }

    public subscript(r: Int, c: Int) -> UInt8 {
        get { cells[r * cols + c] }
        set { cells[r * cols + c] = newValue }
    }

    /// Nested rows, as ARC JSON writes them.
    public var nested: [[Int]] { (0..<rows).map { r in (0..<cols).map { Int(self[r, $0]) } } }

    /// The grid with every cell mapped through `table` (e.g. a colour permutation).
    public func mapped(_ table: [UInt8]) -> Grid {
        Grid(rows: rows, cols: cols, cells: cells.map { table[Int($0)] })
    }

    public var description: String { nested.map { $0.map(String.init).joined() }.joined(separator: "/") }
}
