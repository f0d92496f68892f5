import Testing
@testable import Tasks
import TRMCore

@Suite struct SudokuAugmentationTests {
    func puzzle(_ size: Int, _ index: Int = 0) throws -> SudokuPuzzle {
        try SudokuGenerator(shape: SudokuShape(size: size)!).generate(index: index, seed: 17)
    }

    /// Each kind of transform on its own, for every shape: validity kept, inverse exact.
    @Test(arguments: [4, 6, 9])
    func everyTransformKindRoundTrips(size: Int) throws {
        let shape = SudokuShape(size: size)!
        let p = try puzzle(size)
        let id = SudokuTransform.identity(shape)
        var rng = SeededRandom(seed: 1)
        // One transform per kind, redrawn until it is not the identity (small boards have few orders).
        func kind(_ change: (inout SudokuTransform) -> Void) -> SudokuTransform {
            var t = id
            while t.isIdentity {
                t = id
                change(&t)
            }
            return t
        }
        var kinds = [
            kind { $0.digitMap = [0] + rng.permutation(size).map { UInt8($0 + 1) } },
            kind { t in t.rowOrder = rng.permutation(shape.bands).flatMap { b in (0..<shape.boxRows).map { b * shape.boxRows + $0 } } },
            kind { t in t.rowOrder = (0..<shape.bands).flatMap { b in rng.permutation(shape.boxRows).map { b * shape.boxRows + $0 } } },
            kind { t in t.colOrder = rng.permutation(shape.stacks).flatMap { s in (0..<shape.boxCols).map { s * shape.boxCols + $0 } } },
            kind { t in t.colOrder = (0..<shape.stacks).flatMap { s in rng.permutation(shape.boxCols).map { s * shape.boxCols + $0 } } },
        ]
        if shape.boxRows == shape.boxCols { kinds.append(kind { $0.transpose = true }) }
        let solver = SudokuSolver(shape: shape)
        for t in kinds + (0..<100).map({ _ in SudokuTransform.random(shape, rng: &rng) }) {
            let q = t.apply(p.question), a = t.apply(p.answer)
            #expect(t.invert(q) == p.question && t.invert(a) == p.answer)
            #expect(shape.isSolved(a))
            #expect(SudokuPuzzle(source: "", question: q, answer: a, rating: 0).problem() == nil)
            #expect(solver.solve(q).solution == a)
            #expect(q.cells.count(where: { $0 == 0 }) == p.question.cells.count(where: { $0 == 0 }))
        }
        #expect(id.isIdentity && id.apply(p.question) == p.question)
        #expect(kinds.allSatisfy { !$0.isIdentity && $0.apply(p.answer) != p.answer })
    }

    @Test func transpositionOnlyWithSquareBoxes() {
        var rng = SeededRandom(seed: 4)
        let six = (0..<200).map { _ in SudokuTransform.random(SudokuShape(size: 6)!, rng: &rng) }
        #expect(six.allSatisfy { !$0.transpose })
        let nine = (0..<200).map { _ in SudokuTransform.random(SudokuShape(size: 9)!, rng: &rng) }
        #expect(nine.contains { $0.transpose } && nine.contains { !$0.transpose })
        #expect(Set(nine).count == 200)
    }

    /// A perfect model answers every version with its transformed solution: all votes decode to the
    /// truth, which wins pass@1.
    @Test(arguments: [4, 6, 9])
    func queriesDecodeToTheOriginalFrame(size: Int) throws {
        let puzzles = try (0..<3).map { try puzzle(size, $0) }
        let queries = SudokuTask.queries(puzzles: puzzles, numAug: 7, seed: 5)
        let truth = SudokuTask.taskPuzzles(puzzles)
        #expect(queries.count == 24 && truth.map(\.name) == ["sudoku-0", "sudoku-1", "sudoku-2"])
        #expect(queries.allSatisfy { $0.identifier == "" && $0.testIndex == 0 && $0.tokens.count == size * size })
        #expect(queries[0].tokens == SudokuEncoding.encode(puzzles[0].question))  // version 0 = identity
        let transforms = SudokuTask.transforms(shape: SudokuShape(size: size)!, index: 1, numAug: 7, seed: 5)
        var passAtK = PassAtK(ks: [1, 2])
        for (i, p) in puzzles.enumerated() {
            let mine = queries.filter { $0.puzzle == SudokuTask.puzzleName(i) }
            #expect(mine.count == 8)
            let predictions = zip(mine, SudokuTask.transforms(shape: p.shape, index: i, numAug: 7, seed: 5)).map { q, t in
                // The transform's tokens are what the query holds, and its solution decodes back.
                #expect(q.tokens == SudokuTask.example(p, transform: t).input)
                return Prediction(puzzle: q.puzzle, testIndex: 0, answer: q.decode(SudokuTask.example(p, transform: t).label), qHalt: 1)
            }
            #expect(predictions.allSatisfy { $0.answer == p.answer })
            #expect(mine.allSatisfy { $0.decode($0.tokens) == nil })  // blanks never decode
            passAtK.add(pairs: [(Voting.rank(predictions), truth[i].testOutputs[0])])
        }
        #expect(passAtK.rate(1) == 1)
        // A puzzle's versions depend on (seed, index) only.
        #expect(SudokuTask.transforms(shape: SudokuShape(size: size)!, index: 1, numAug: 3, seed: 5) == Array(transforms.prefix(4)))
    }
}
