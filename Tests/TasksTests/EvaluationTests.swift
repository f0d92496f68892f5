import Foundation
import Testing
@testable import Tasks

@Suite struct EvaluationTests {
    let one = Grid([[1]])!, two = Grid([[2]])!, three = Grid([[3]])!

    func prediction(_ puzzle: String, _ test: Int, _ answer: Grid?, _ q: Float = 0) -> Prediction {
        Prediction(puzzle: puzzle, testIndex: test, answer: answer, qHalt: q)
    }

    func puzzle(_ name: String, _ truth: [Grid]?, tests: Int = 1) -> EvaluationPuzzle {
        EvaluationPuzzle(name: name, testInputs: Array(repeating: Grid([[0]])!, count: truth?.count ?? tests), testOutputs: truth)
    }

    func sigmoid(_ q: Float) -> Double { 1 / (1 + exp(-Double(q))) }

    @Test func votesAccumulateAcrossCallsAndUndecodablePredictionsCastNone() {
        var e = Evaluation(puzzles: [puzzle("p", [one, two])], ks: [1])
        e.add(prediction("p", 0, one, 2))
        e.add(contentsOf: [prediction("p", 0, two, 0), prediction("p", 0, one, -1), prediction("p", 0, nil, 9), prediction("p", 1, two)])
        let ranked = e.ranked(puzzle: "p")
        #expect(ranked.count == 2)
        #expect(ranked[0].map(\.answer) == [one, two] && ranked[0].map(\.count) == [2, 1])
        #expect(abs(ranked[0][0].meanConfidence - (sigmoid(2) + sigmoid(-1)) / 2) < 1e-15)
        #expect(ranked[1].map(\.answer) == [two])
        #expect(e.ranked(puzzle: "p", testIndex: 0).map(\.answer) == ranked[0].map(\.answer))
        #expect(e.unmatched == 0)
    }

    @Test func tiesGoToConfidenceThenToTheFirstSeenAnswer() {
        let stream = [
            prediction("p", 0, three, 0), prediction("p", 0, one, -1), prediction("p", 0, two, 1),
            prediction("p", 0, one, -1), prediction("p", 0, three, 0), prediction("p", 0, two, 1),
        ]
        var e = Evaluation(puzzles: [puzzle("p", [one])])
        e.add(contentsOf: stream)
        // Two votes each: two is the most confident; three and one tie on count, three is more confident.
        #expect(e.ranked(puzzle: "p")[0].map(\.answer) == [two, three, one])
        #expect(e.ranked(puzzle: "p")[0].map(\.answer) == Voting.rank(stream).map(\.answer))
        var tie = Evaluation(puzzles: [puzzle("p", [one])])
        tie.add(contentsOf: [prediction("p", 0, three, 0.5), prediction("p", 0, one, 0.5), prediction("p", 0, two, 0.5)])
        #expect(tie.ranked(puzzle: "p")[0].map(\.answer) == [three, one, two])
        #expect(tie.attempts()["p"]!.map { [$0.0, $0.1] } == [[three, one]])
    }

    @Test func passAtKGivesFractionalCreditAndNamesMetricsByTask() {
        var e = Evaluation(puzzles: [puzzle("a", [one, two]), puzzle("b", [three]), puzzle("c", [one])], ks: [1000, 1, 2])
        #expect(e.ks == [1, 2, 1000])
        e.add(contentsOf: [
            prediction("a", 0, one), prediction("a", 1, three), prediction("a", 1, three), prediction("a", 1, two),
            prediction("b", 0, one, 5), prediction("b", 0, three, -5),  // right answer at rank 2
        ])  // c: no candidate
        let p = e.passAtK()
        #expect(p.puzzles == 3 && e.unscoredPuzzles == 0)
        #expect(abs(p.rate(1) - 0.5 / 3) < 1e-12)
        #expect(abs(p.rate(2) - 2.0 / 3) < 1e-12)
        #expect(p.rate(1000) == p.rate(2))
        #expect(e.metrics(task: "Sudoku") == ["Sudoku/pass@1": p.rate(1), "Sudoku/pass@2": p.rate(2), "Sudoku/pass@1000": p.rate(1000)])
    }

    @Test func unscoredPuzzlesAreRankedAndSubmittedButNotScored() {
        var e = Evaluation(puzzles: [puzzle("known", [one]), puzzle("hidden", nil, tests: 2)], ks: [1])
        e.add(contentsOf: [prediction("known", 0, one), prediction("hidden", 1, two), prediction("hidden", 2, two)])
        #expect(e.unscoredPuzzles == 1 && !e.puzzles[1].isScored)
        #expect(e.passAtK().puzzles == 1 && e.passAtK().rate(1) == 1)
        #expect(e.ranked(puzzle: "hidden").map { $0.map(\.answer) } == [[], [two]])
        #expect(e.attempts()["hidden"]!.map { [$0.0, $0.1] } == [[Evaluation.placeholder, Evaluation.placeholder], [two, two]])
        #expect(e.unmatched == 1)  // test pair 2 does not exist
    }

    @Test func unknownPuzzlesAreCountedNotScored() {
        var e = Evaluation(puzzles: [puzzle("a", [one])], ks: [1])
        e.add(contentsOf: [prediction("zzz", 0, one), prediction("a", -1, one), prediction("a", 1, one)])
        #expect(e.unmatched == 3 && e.ranked(puzzle: "zzz").isEmpty && e.ranked(puzzle: "a", testIndex: 1).isEmpty)
        #expect(e.ranked(puzzle: "a").map(\.count) == [0])  // one test pair, no votes
        #expect(e.passAtK().rate(1) == 0)
    }

    @Test func puzzlesListedTwiceShareOneVotingGroup() {
        var e = Evaluation(puzzles: [puzzle("a", [one]), puzzle("b", [two]), puzzle("a", [one])], ks: [1])
        e.add(contentsOf: [prediction("a", 0, one), prediction("b", 0, three)])
        #expect(e.passAtK().puzzles == 3 && abs(e.passAtK().rate(1) - 2.0 / 3) < 1e-12)
        #expect(e.attempts().keys.sorted() == ["a", "b"])
    }

    @Test func submissionBytesAreCompactWithSortedKeys() throws {
        var e = Evaluation(puzzles: [puzzle("b", [one, two]), puzzle("a", nil, tests: 1)])
        e.add(contentsOf: [
            prediction("b", 0, three), prediction("b", 0, two), prediction("b", 0, two),
            prediction("a", 0, Grid([[1, 2], [3, 4]])!),
        ])
        let expected =
            #"{"a":[{"attempt_1":[[1,2],[3,4]],"attempt_2":[[1,2],[3,4]]}],"#
            + #""b":[{"attempt_1":[[2]],"attempt_2":[[3]]},{"attempt_1":[[0]],"attempt_2":[[0]]}]}"#
        #expect(String(decoding: try e.submissionJSON(), as: UTF8.self) == expected)
        let dir = try ARCFixtures.directory([:])
        defer { ARCFixtures.remove(dir) }
        try e.writeSubmission(to: dir + "/submission.json")
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/submission.json"))) == Array(expected.utf8))
    }

    @Test func arcPuzzlesWithoutEverySolutionAreUnscored() {
        let solved = ARCFixtures.puzzle("solved", train: [([[1]], [[2]])], test: [([[1]], [[2]]), ([[3]], [[4]])])
        let partial = ARCFixtures.puzzle("partial", train: [([[1]], [[2]])], test: [([[1]], [[2]]), ([[3]], nil)])
        #expect(solved.evaluationPuzzle.testOutputs == [two, Grid([[4]])!])
        #expect(solved.evaluationPuzzle.testInputs == [one, three])
        #expect(partial.evaluationPuzzle.testOutputs == nil && partial.evaluationPuzzle.testInputs.count == 2)
        #expect(Evaluation(puzzles: [solved, partial]).unscoredPuzzles == 1)
    }
}
