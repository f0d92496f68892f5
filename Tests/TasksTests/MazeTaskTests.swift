import TRMCore
import Testing
@testable import Tasks

@Suite struct MazeTaskTests {
    @Test func encodingMatchesTheReference() {
        let q = MazeFixtures.grid(MazeFixtures.question), a = MazeFixtures.grid(MazeFixtures.answer)
        #expect(MazeEncoding.encode(q).prefix(5) == [3, 2, 2, 2, 1])  // S, ' ', ' ', ' ', '#'
        #expect(MazeEncoding.encode(a).contains(5) && !MazeEncoding.encode(q).contains(5))
        #expect(MazeEncoding.decode(MazeEncoding.encode(a), side: 5) == a)
        var bad = MazeEncoding.encode(a)
        bad[3] = 0
        #expect(MazeEncoding.decode(bad, side: 5) == nil)  // PAD
        bad[3] = 6
        #expect(MazeEncoding.decode(bad, side: 5) == nil)  // past the vocabulary
        #expect(MazeEncoding.decode(Array(MazeEncoding.encode(a).prefix(24)), side: 5) == nil)
        #expect(MazeCell.allCases.map(\.character) == ["#", " ", "S", "G", "o"])
    }

    /// Every dihedral transform maps a maze to a maze with the same shortest-path length, the
    /// transformed answer is the transformed maze's answer, and the inverse restores both.
    @Test func everyDihedralTransformRoundTrips() throws {
        let puzzles =
            try (0..<3).map { try MazeGenerator(size: 11, minPath: 12).generate(index: $0, seed: 6) }
            + [
                MazePuzzle(
                    source: "", question: MazeFixtures.grid(MazeFixtures.question), answer: MazeFixtures.grid(MazeFixtures.answer),
                    rating: 12)
            ]
        for p in puzzles {
            var seen: Set<Grid> = []
            for t in 0..<8 {
                let q = Dihedral.apply(t, p.question), a = Dihedral.apply(t, p.answer)
                #expect(Dihedral.invert(t, q) == p.question && Dihedral.invert(t, a) == p.answer)
                #expect(MazeSolver.shortestPath(q)?.length == p.rating)
                #expect(MazeSolver.solve(q) == a)
                #expect(MazePuzzle(source: "", question: q, answer: a, rating: p.rating).problem() == nil)
                seen.insert(q)
                let example = MazeTask.example(p, transform: t)
                #expect(example.input == MazeEncoding.encode(q) && example.label == MazeEncoding.encode(a))
            }
            #expect(seen.count == 8)
        }
    }

    /// A perfect model answers each version with its transformed solution; every vote decodes to the
    /// truth in the original frame.
    @Test func queriesDecodeToTheOriginalFrame() throws {
        let puzzles = try (0..<3).map { try MazeGenerator(size: 9).generate(index: $0, seed: 2) }
        #expect(MazeTask.transforms(numAug: 0) == [0] && MazeTask.transforms(numAug: 3) == [0, 1, 2, 3])
        #expect(MazeTask.transforms(numAug: 1000) == Array(0..<8))
        let queries = MazeTask.queries(puzzles: puzzles, numAug: 1000)
        let truth = MazeTask.taskPuzzles(puzzles)
        #expect(queries.count == 24 && truth.map(\.name) == ["maze-0", "maze-1", "maze-2"])
        #expect(queries.allSatisfy { $0.identifier == "" && $0.testIndex == 0 && $0.tokens.count == 81 })
        var passAtK = PassAtK(ks: [1])
        for (i, p) in puzzles.enumerated() {
            let mine = queries.filter { $0.puzzle == MazeTask.puzzleName(i) }
            #expect(mine[0].tokens == MazeEncoding.encode(p.question))
            let predictions = zip(mine, 0..<8).map { q, t in
                Prediction(puzzle: q.puzzle, testIndex: 0, answer: q.decode(MazeTask.example(p, transform: t).label), qHalt: 0)
            }
            #expect(predictions.allSatisfy { $0.answer == p.answer })
            // Echoing the input is a wrong answer but decodes (to the question in the original frame).
            #expect(mine.allSatisfy { $0.decode($0.tokens) == p.question })
            passAtK.add(pairs: [(Voting.rank(predictions), truth[i].testOutputs[0])])
        }
        #expect(passAtK.rate(1) == 1)
    }
}
