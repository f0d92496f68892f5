import Foundation
import Testing
@testable import Tasks

@Suite struct ARCEvaluationTests {
    func realPuzzles() throws -> [ARCPuzzle] {
        let dir = try ARCFixtures.directory(["arc1.json": ARCFixtures.realSample])
        defer { ARCFixtures.remove(dir) }
        return try ARCDataset.load(path: dir + "/arc1.json", split: .training)
            + ARCDataset.load(path: dir + "/arc1.json", split: .evaluation)
    }

    @Test func queriesWithoutATableUseSeededVersionsAndTheBlankId() throws {
        let puzzles = try realPuzzles()
        let queries = ARCTask.queries(puzzles: puzzles, numAug: 7, seed: 42, identifiers: nil)
        #expect(queries.count == 4 * 8)  // 4 test pairs × 8 versions
        #expect(queries.allSatisfy { $0.identifierIndex == 0 && $0.query.tokens.count == 900 })
        let first = queries[0]
        #expect(first.version == .identity && first.query.identifier == "25ff71a9" && first.query.testIndex == 0)
        #expect(first.query.tokens == ARCEncoding.encode(puzzles[0].test[0].input))
        #expect(queries[8].query.testIndex == 1 && queries[8].version == .identity)
        for q in queries {
            let puzzle = puzzles.first { $0.name == q.query.puzzle }!
            #expect(q.query.tokens == ARCEncoding.encode(q.version.apply(puzzle.test[q.query.testIndex].input)))
            #expect(ARCVersion.parse(q.query.identifier)! == (puzzle.name, q.version))
        }
    }

    /// A perfect model answers in each version's frame; every decoded answer is the truth.
    @Test func decodeUndoesEveryVersion() throws {
        let puzzles = try realPuzzles()
        var evaluation = Evaluation(puzzles: puzzles, ks: [1, 2])
        for q in ARCTask.queries(puzzles: puzzles, numAug: 15, seed: 1, identifiers: nil) {
            let truth = puzzles.first { $0.name == q.query.puzzle }!.test[q.query.testIndex].output!
            let answer = q.query.decode(ARCEncoding.encode(q.version.apply(truth)))
            #expect(answer == truth)
            #expect(q.query.decode([Int32](repeating: 0, count: 900)) == nil)
            evaluation.add(Prediction(puzzle: q.query.puzzle, testIndex: q.query.testIndex, answer: answer, qHalt: 0))
        }
        #expect(evaluation.passAtK().rate(1) == 1 && evaluation.metrics(task: "ARC")["ARC/pass@1"] == 1)
    }

    @Test func identifierTableSelectsKnownVersions() throws {
        let puzzles = try realPuzzles()
        let rot = ARCVersion(transform: 2, colourMap: [0, 2, 1, 3, 4, 5, 6, 7, 8, 9])
        let flip = ARCVersion(transform: 4, colourMap: Array(0...9))
        let names = ["<blank>", flip.name(of: "6150a2bd"), "not|||an|||id", "6150a2bd", rot.name(of: "6150a2bd"), "ffff0000"]
        let queries = ARCTask.queries(puzzles: puzzles, numAug: 7, seed: 42, identifiers: names)
        let known = queries.filter { $0.query.puzzle == "6150a2bd" }
        #expect(known.map(\.identifierIndex) == [3, 1, 4])  // identity first, then by index
        #expect(known.map(\.version) == [.identity, flip, rot])
        #expect(known.map(\.query.identifier) == ["6150a2bd", names[1], names[4]])
        let unknown = queries.filter { $0.query.puzzle == "66e6c45b" }
        #expect(unknown.count == 8 && unknown.allSatisfy { $0.identifierIndex == 0 })
        // numAug caps the known versions too.
        let capped = ARCTask.queries(puzzles: puzzles, numAug: 1, seed: 42, identifiers: names)
        #expect(capped.filter { $0.query.puzzle == "6150a2bd" }.map(\.identifierIndex) == [3, 1])
        #expect(ARCIdentifierTable(names).puzzleCount == 2)  // 6150a2bd and ffff0000
    }

    func prediction(_ puzzle: String, _ test: Int, _ grid: [[Int]]?, _ q: Float = 0) -> Prediction {
        Prediction(puzzle: puzzle, testIndex: test, answer: grid.map { Grid($0)! }, qHalt: q)
    }

    @Test func passAtKGivesFractionalCreditForSeveralTestPairs() throws {
        let puzzles = try realPuzzles()  // 25ff71a9 (2 tests), 6150a2bd, 66e6c45b
        var e = Evaluation(puzzles: puzzles, ks: [1, 2, 1000])
        let wrong = [[9]]
        e.add(contentsOf: [
            prediction("25ff71a9", 0, [[0, 0, 0], [2, 0, 0], [2, 0, 0]]),  // test 0 right at rank 1
            prediction("25ff71a9", 1, wrong), prediction("25ff71a9", 1, wrong),
            prediction("25ff71a9", 1, [[0, 0, 0], [0, 0, 0], [0, 1, 0]]),  // test 1 right at rank 2
            prediction("66e6c45b", 0, [[2, 0, 0, 3], [0, 0, 0, 0], [0, 0, 0, 0], [4, 0, 0, 9]], -2),
            prediction("66e6c45b", 0, wrong, 3),  // same count, more confident
            prediction("6150a2bd", 0, nil),  // undecodable: no vote
            prediction("zzzz9999", 0, wrong), prediction("66e6c45b", 1, wrong),  // unknown puzzle / pair
        ])
        #expect(e.unmatched == 2)
        let p = e.passAtK()
        #expect(p.puzzles == 3)
        #expect(abs(p.rate(1) - 0.5 / 3) < 1e-12)  // only half of 25ff71a9
        #expect(abs(p.rate(2) - 2.0 / 3) < 1e-12)  // 25ff71a9 whole, 66e6c45b at rank 2
        #expect(p.rate(1000) == p.rate(2))
        #expect(e.ranked(puzzle: "66e6c45b", testIndex: 0).map(\.answer.nested).first == wrong)
        #expect(e.ranked(puzzle: "6150a2bd", testIndex: 0).isEmpty)
    }

    @Test func puzzlesWithoutSolutionsAreSubmittedButNotScored() throws {
        let hidden = ARCFixtures.puzzle("hidden", train: [([[1]], [[2]])], test: [([[1, 1]], nil)])
        var e = Evaluation(puzzles: try realPuzzles() + [hidden], ks: [1])
        e.add(prediction("hidden", 0, [[2, 2]]))
        #expect(e.passAtK().puzzles == 3 && e.unscoredPuzzles == 1)
        #expect(e.attempts()["hidden"]!.map { [$0.0, $0.1] } == [[Grid([[2, 2]])!, Grid([[2, 2]])!]])
    }

    @Test func submissionIsValidKaggleJSON() throws {
        var e = Evaluation(puzzles: try realPuzzles())
        e.add(contentsOf: [
            prediction("25ff71a9", 0, [[1]]), prediction("25ff71a9", 0, [[2]]), prediction("25ff71a9", 0, [[2]]),
            prediction("25ff71a9", 0, [[3]]), prediction("66e6c45b", 0, [[4, 5]]),
        ])
        let dir = try ARCFixtures.directory([:])
        defer { ARCFixtures.remove(dir) }
        try e.writeSubmission(to: dir + "/submission.json")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/submission.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [[String: [[Int]]]]])
        #expect(Set(json.keys) == ["25ff71a9", "6150a2bd", "66e6c45b"])
        #expect(json["25ff71a9"]!.count == 2 && json["6150a2bd"]!.count == 1)
        #expect(json["25ff71a9"]![0] == ["attempt_1": [[2]], "attempt_2": [[1]]])  // top two by votes
        #expect(json["25ff71a9"]![1] == ["attempt_1": [[0]], "attempt_2": [[0]]])  // no candidate: placeholder
        #expect(json["66e6c45b"]![0] == ["attempt_1": [[4, 5]], "attempt_2": [[4, 5]]])  // one candidate repeated
        #expect(Set(json.values.flatMap { $0 }.flatMap(\.keys)) == ["attempt_1", "attempt_2"])
    }
}
