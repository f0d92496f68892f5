/// The 8 symmetries of the square on H×W grids, numbered as the reference does (docs/tasks.md §2):
/// 0 identity, 1 rot90 CCW, 2 rot180, 3 rot270, 4 flip left-right, 5 flip up-down, 6 transpose,
/// 7 anti-transpose.
public enum Dihedral {
    /// `inverse[t]` undoes transform t.
    public static let inverse = [0, 3, 2, 1, 4, 5, 6, 7]

    /// Applies transform `t` (0...7).
    public static func apply(_ t: Int, _ a: Grid) -> Grid {
        let h = a.rows, w = a.cols
        let swaps = [1, 3, 6, 7].contains(t)
        let (rows, cols) = swaps ? (w, h) : (h, w)
        var cells = [UInt8](repeating: 0, count: rows * cols)
        for i in 0..<rows {
            for j in 0..<cols {
                let v: UInt8
                switch t {
                case 0: v = a[i, j]
                case 1: v = a[j, w - 1 - i]
                case 2: v = a[h - 1 - i, w - 1 - j]
                case 3: v = a[h - 1 - j, i]
                case 4: v = a[i, w - 1 - j]
                case 5: v = a[h - 1 - i, j]
                case 6: v = a[j, i]
                default: v = a[h - 1 - j, w - 1 - i]
                }
                cells[i * cols + j] = v
            }
        }
        return Grid(rows: rows, cols: cols, cells: cells)
    }

    /// Undoes transform `t`.
    public static func invert(_ t: Int, _ b: Grid) -> Grid { apply(inverse[t], b) }
}
