import Testing
@testable import Tasks

@Suite struct ARCEncodingTests {
    let grid = Grid([[0, 1, 2], [7, 8, 9]])!

    func at(_ tokens: [Int32], _ r: Int, _ c: Int) -> Int32 { tokens[r * 30 + c] }

    /// docs/model.md §11: a 2×3 grid at (0, 0): colours in rows 0-1, cols 0-2; EOS at (0,3), (1,3), (2,0),
    /// (2,1), (2,2); (2,3) stays PAD; crop returns the grid.
    @Test func specExampleTwoByThree() {
        let t = ARCEncoding.encode(grid)
        #expect(t.count == 900 && ARCEncoding.seqLen == 900 && ARCEncoding.vocabSize == 12)
        #expect((0..<2).flatMap { r in (0..<3).map { at(t, r, $0) } } == [2, 3, 4, 9, 10, 11])
        for (r, c) in [(0, 3), (1, 3), (2, 0), (2, 1), (2, 2)] { #expect(at(t, r, c) == 1) }
        #expect(at(t, 2, 3) == 0)
        #expect(t.filter { $0 == 1 }.count == 5 && t.filter { $0 >= 2 }.count == 6)
        #expect(ARCEncoding.crop(t) == grid)
        #expect(ARCEncoding.decode(t) == grid)
    }

    @Test func offsetsAndCanvasEdges() {
        let t = ARCEncoding.encode(grid, offset: (row: 4, col: 27))
        #expect(at(t, 4, 27) == 2 && at(t, 5, 29) == 11)
        #expect(at(t, 6, 27) == 1 && at(t, 6, 29) == 1)  // bottom EOS row; no EOS column (col 30 is off-canvas)
        #expect(t.filter { $0 == 1 }.count == 3)
        let full = Grid(rows: 30, cols: 30, cells: (0..<900).map { UInt8($0 % 10) })
        let f = ARCEncoding.encode(full)
        #expect(!f.contains(0) && !f.contains(1))
        #expect(ARCEncoding.crop(f) == full)
        let tall = Grid(rows: 30, cols: 1, cells: [UInt8](repeating: 5, count: 30))
        #expect(ARCEncoding.crop(ARCEncoding.encode(tall)) == tall)
        let wide = Grid(rows: 1, cols: 30, cells: [UInt8](repeating: 3, count: 30))
        #expect(ARCEncoding.crop(ARCEncoding.encode(wide)) == wide)
    }

    @Test func cropFollowsTheReferenceScan() {
        var t = [Int32](repeating: 0, count: 900)
        #expect(ARCEncoding.crop(t) == Grid(rows: 0, cols: 0, cells: []))  // PAD at (0, 0): empty
        #expect(ARCEncoding.decode(t) == nil)
        t[0] = 1
        #expect(ARCEncoding.decode(t) == nil)  // EOS at (0, 0): empty
        #expect(ARCEncoding.decode([Int32](repeating: 2, count: 899)) == nil)  // wrong length
        // Row 0 has 4 colours, row 1 has 2, row 2 has 3 (but the width only shrinks), row 3 none:
        // areas 4, 4, 6, 0 -> the 3×2 block (strictly larger wins, so 2×2 never replaces 1×4 early).
        for c in 0..<4 { t[c] = 3 }
        for c in 0..<2 { t[30 + c] = 4 }
        for c in 0..<3 { t[60 + c] = 5 }
        #expect(ARCEncoding.crop(t) == Grid([[1, 1], [2, 2], [3, 3]]))
        // A 1×4 row over one colour cell: areas 4 then 2 -> the first row wins.
        var u = [Int32](repeating: 0, count: 900)
        for c in 0..<4 { u[c] = 6 }
        u[30] = 7
        #expect(ARCEncoding.crop(u) == Grid([[4, 4, 4, 4]]))
        // Tokens above 11 are not colours.
        u[2] = 12
        #expect(ARCEncoding.crop(u) == Grid([[4, 4]]))
        // Slices crop the same as arrays.
        let padded = [Int32](repeating: 9, count: 5) + ARCEncoding.encode(grid)
        #expect(ARCEncoding.crop(padded[5...]) == grid)
    }
}
