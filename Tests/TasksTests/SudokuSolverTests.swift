import Testing
@testable import Tasks
import TRMCore

/// Sudoku fixtures and an independent solution counter for the Sudoku tests.
enum SudokuFixtures {
    /// The 9×9 example puzzle of Wikipedia's "Sudoku" article, and its solution.
    static let question = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"
    static let answer = "534678912672195348198342567859761423426853791713924856961537284287419635345286179"

    /// A board from CSV-style text ('.' or '0' = blank).
    static func board(_ text: String) -> Grid {
        let n = Int(Double(text.count).squareRoot())
        return Grid(rows: n, cols: n, cells: text.utf8.map { $0 == UInt8(ascii: ".") ? 0 : $0 - UInt8(ascii: "0") })
    }

    /// Solutions of `board` up to `limit`, by plain backtracking: fill the blank with the fewest legal
    /// digits, no propagation, sharing no code with `SudokuSolver`.
    static func naiveCount(_ board: Grid, shape: SudokuShape, limit: Int = 2) -> Int {
        var b = board
        var found = 0
        func legal(_ r: Int, _ c: Int, _ d: UInt8) -> Bool {
            for i in 0..<shape.size where b[r, i] == d || b[i, c] == d { return false }
            let r0 = r / shape.boxRows * shape.boxRows, c0 = c / shape.boxCols * shape.boxCols
            for i in r0..<r0 + shape.boxRows {
                for j in c0..<c0 + shape.boxCols where b[i, j] == d { return false }
            }
            return true
        }
        func recurse() {
            var best: (Int, Int, [UInt8])?
            for r in 0..<shape.size {
                for c in 0..<shape.size where b[r, c] == 0 {
                    let options = (1...UInt8(shape.size)).filter { legal(r, c, $0) }
                    if best == nil || options.count < best!.2.count { best = (r, c, options) }
                }
            }
            guard let (r, c, options) = best else {
                found += 1
                return
            }
            for d in options {
                b[r, c] = d
                recurse()
                b[r, c] = 0
                if found >= limit { return }
            }
        }
        recurse()
        return found
    }
}

@Suite struct SudokuSolverTests {
    let nine = SudokuShape(size: 9)!

    @Test func shapes() {
        #expect(SudokuShape.sizes.map { SudokuShape(size: $0)!.cellCount } == [16, 36, 81])
        let six = SudokuShape(size: 6)!
        #expect((six.boxRows, six.boxCols, six.bands, six.stacks, six.vocabSize) == (2, 3, 3, 2, 8))
        #expect(six.box(row: 1, col: 4) == 1 && six.box(row: 2, col: 0) == 2)
        #expect(SudokuShape(size: 5) == nil && SudokuShape(cellCount: 80) == nil && SudokuShape(cellCount: 36) == six)
    }

    @Test func solvesTheKnownPuzzle() {
        let q = SudokuFixtures.board(SudokuFixtures.question), a = SudokuFixtures.board(SudokuFixtures.answer)
        #expect(nine.isSolved(a))
        let r = SudokuSolver(shape: nine).solve(q)
        #expect(r.solutionCount == 1 && r.solution == a)
        #expect(r.nodes == 0)  // singles alone solve this easy one
        #expect(SudokuFixtures.naiveCount(q, shape: nine) == 1)
    }

    @Test func countsNoneOneOrMany() {
        let solver = SudokuSolver(shape: nine)
        let empty = Grid(rows: 9, cols: 9, cells: [UInt8](repeating: 0, count: 81))
        #expect(solver.solve(empty, limit: 2).solutionCount == 2)
        #expect(solver.solve(empty, limit: 5).solutionCount == 5)
        var conflict = empty
        conflict[0, 0] = 4
        conflict[0, 8] = 4
        #expect(solver.solve(conflict).solutionCount == 0)
        #expect(nine.conflict(conflict) == "digit 4 twice in row 1")
        // Givens that conflict through no single unit yet leave no solution: cell (0,0) has no digit.
        var dead = empty
        for (i, d) in [2, 3, 4, 5, 6, 7, 8, 9].enumerated() { dead[0, i + 1] = UInt8(d) }
        dead[5, 0] = 1
        #expect(solver.solve(dead).solutionCount == 0)
        // Two digits swappable in a rectangle: exactly 2 solutions.
        var q = SudokuFixtures.board(SudokuFixtures.answer)
        for (r, c) in [(0, 0), (0, 1), (1, 0), (1, 1), (0, 3), (1, 3), (0, 4), (1, 4)] { q[r, c] = 0 }
        #expect(solver.solve(q, limit: 10).solutionCount == SudokuFixtures.naiveCount(q, shape: nine, limit: 10))
    }

    @Test func ratingIgnoresDigitNamesAndHasSolutionMatchesCounting() throws {
        var rng = SeededRandom(seed: 11)
        let solver = SudokuSolver(shape: nine)
        var hard: SudokuPuzzle?
        while hard == nil {
            let p = SudokuGenerator(shape: nine).draw(rng: &rng)
            if p.rating >= 5 { hard = p }
        }
        let p = try #require(hard)
        // The rating is the size of the whole search tree, so relabelling digits cannot change it.
        for _ in 0..<5 {
            let perm = [0] + rng.permutation(9).map { UInt8($0 + 1) }
            let t = SudokuTransform(transpose: false, rowOrder: Array(0..<9), colOrder: Array(0..<9), digitMap: perm)
            #expect(solver.rating(t.apply(p.question)) == p.rating)
        }
        // Blanking any clue of a minimal puzzle adds solutions; both tests agree.
        for cell in p.question.cells.indices where p.question.cells[cell] != 0 {
            var q = p.question
            q.cells[cell] = 0
            #expect(solver.hasSolution(q, cell: cell, otherThan: p.question.cells[cell]))
            #expect(solver.solve(q).solutionCount == 2)
        }
    }

    @Test func encodingMatchesTheReference() {
        let q = SudokuFixtures.board(SudokuFixtures.question)
        let tokens = SudokuEncoding.encode(q)
        #expect(tokens.count == 81 && tokens[0] == 6 && tokens[2] == 1 && tokens.max()! == 10)  // '5' -> 6, blank -> 1
        let a = SudokuFixtures.board(SudokuFixtures.answer)
        #expect(SudokuEncoding.decode(SudokuEncoding.encode(a), shape: nine) == a)
        #expect(SudokuEncoding.decode(tokens, shape: nine) == nil)  // blanks are not an answer
        var bad = SudokuEncoding.encode(a)
        bad[40] = 11
        #expect(SudokuEncoding.decode(bad, shape: nine) == nil)
        bad[40] = 0
        #expect(SudokuEncoding.decode(bad, shape: nine) == nil)
        #expect(SudokuEncoding.decode(Array(bad.prefix(80)), shape: nine) == nil)
        let four = SudokuShape(size: 4)!
        #expect(SudokuEncoding.decode([Int32](repeating: 6, count: 16), shape: four) == nil)  // digit 5 on 4×4
    }
}
