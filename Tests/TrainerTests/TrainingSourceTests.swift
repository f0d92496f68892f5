import Foundation
import Testing
import GraphIR
import Tasks
@testable import Trainer
import TRMCore

@Suite struct TrainingSourceTests {
    static let puzzle = ARCPuzzle(
        name: "abc",
        train: [
            ARCPair(input: Grid([[1, 2], [3, 0]])!, output: Grid([[2, 1], [0, 3]])!),
            ARCPair(input: Grid([[4, 5, 6]])!, output: Grid([[6, 5, 4]])!),
        ], test: [ARCPair(input: Grid([[7, 8]])!, output: Grid([[8, 7]])!)])

    @Test func arcVersionsAreIdentifiersAndPairsStayOnTheCanvas() throws {
        let held = ARCTrainingSource(puzzles: [Self.puzzle], withTestPairs: [], numAug: 3, seed: 0)
        let ids = try #require(held.identifiers)
        #expect(ids[0] == "<blank>" && ids[1] == ARCVersion.identity.name(of: "abc") && ids.count == 5)
        #expect(held.count == 2 * 4, "two demonstrations under four versions")
        let all = ARCTrainingSource(puzzles: [Self.puzzle], withTestPairs: ["abc"], numAug: 3, seed: 0)
        #expect(all.count == 3 * 4)
        var rng = SeededRandom(seed: 9)
        var translated = 0
        for i in 0..<held.count {
            for _ in 0..<20 {
                let e = held.example(i, rng: &rng)
                #expect(e.tokens.count == 900 && e.labels.count == 900 && (1...4).contains(e.puzzleId))
                #expect(!e.labels.contains(0), "PAD labels are ignored (−100)")
                // The input grid's first colour cell sits at the translation offset; (0, 0) when untranslated.
                if ARCEncoding.decode(e.tokens) == nil { translated += 1 }
            }
        }
        #expect(translated > 0 && translated < held.count * 20, "most draws are translated, some are not")
    }

    @Test func sudokuAndMazeExamplesSuperviseEveryCell() throws {
        let p = try SudokuGenerator(shape: SudokuShape(size: 4)!).generate(index: 0, seed: 1)
        var rng = SeededRandom(seed: 2)
        let e = SudokuTrainingSource(puzzles: [p]).example(0, rng: &rng)
        #expect(e.labels.allSatisfy { $0 >= 2 } && e.tokens.count == 16)
        let m = try MazeGenerator(size: 5).generate(index: 0, seed: 1)
        let plain = MazeTrainingSource(puzzles: [m]).example(0, rng: &rng)
        #expect(plain.tokens == MazeEncoding.encode(m.question) && plain.labels == MazeEncoding.encode(m.answer))
    }
}
