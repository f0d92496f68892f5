import Foundation
import Testing
@testable import Tasks
import TestSupport

/// The reference ARC evaluator's results (evaluators/arc.py) on `OfficialFolder.arcFolder`, worked
/// out by hand from its rules:
/// - b2: [[9,9]] (1 vote, sigmoid(1)) beats the truth, which comes from the rotated and recoloured
///   version (1 vote, sigmoid(-1)) once its inverse is applied: pass@1 0, pass@2 1.
/// - a1: pair 0 has one candidate ([[6]], 2 votes; both attempts); pair 1 has [[7,8]] and [[8,7]]
///   tied on count and confidence, so the first seen leads: pass@1 1/2, pass@2 1.
/// - c3: no candidates (its only row has the blank identifier): 0, and no submission entry.
/// - d4: both pairs share the input [[3]], so both see the same votes: the 0×0 crop (2 votes,
///   sigmoid(3)), then [[5]] and [[4]] (tied, first seen first). Pair 0 (truth [[4]]) is third,
///   pair 1 (truth [[5]]) second: pass@1 0, pass@2 1/2, pass@5 1.
/// Over 4 puzzles: pass@1 0.5/4, pass@2 2.5/4, pass@5 and above 3/4.
@Suite struct OfficialARCTests {
    typealias Answer = (tokens: [UInt8], q: Float)
    static let arc = OfficialFolder.arc

    /// The model's output for each row, by identifier, in split order (in the version's frame).
    static let answers: [Int32: [Answer]] = [
        1: [(arc([[9, 9]]), 1)], 2: [(arc([[1, 2], [4, 3]]), -1)],
        3: [(arc([[6]]), 0), (arc([[7, 8]]), 0)], 4: [(arc([[6]]), 0), (arc([[7, 8]]), 0)],
        0: [(arc([[2]]), 5)], 5: [(arc([[2]]), 5)],
        7: [(arc([[5]]), 0), (arc([[4]]), 0)], 8: [(OfficialFolder.empty, 3), (OfficialFolder.empty, 3)],
    ]

    static let submission =
        #"{"b2": [{"attempt_1": [[9, 9]], "attempt_2": [[4, 3], [2, 1]]}], "#
        + #""a1": [{"attempt_1": [[6]], "attempt_2": [[6]]}, {"attempt_1": [[7, 8]], "attempt_2": [[8, 7]]}], "c3": [], "#
        + #""d4": [{"attempt_1": [], "attempt_2": [[5]]}, {"attempt_1": [], "attempt_2": [[5]]}]}"#

    /// Queries the folder as trm-run does (puzzle by puzzle, rows in split order) and answers each
    /// query from `answers`; returns the evaluation and the number of queries.
    func evaluate(_ folder: OfficialFolder) throws -> (evaluation: Evaluation, queries: Int, task: OfficialARCTask) {
        let dir = try folder.write()
        defer { ARCFixtures.remove(dir) }
        let task = try OfficialARCTask(try OfficialDataset.load(path: dir))
        var evaluation = Evaluation(puzzles: task.puzzles.map(\.evaluationPuzzle))
        var seen: [Int32: Int] = [:]
        var queries = 0
        for puzzle in task.puzzles {
            for (query, row) in task.queries(for: puzzle) {
                let answer = Self.answers[row]![seen[row, default: 0]]
                seen[row, default: 0] += 1
                queries += 1
                evaluation.add(
                    Prediction(
                        puzzle: query.puzzle, testIndex: query.testIndex, answer: query.decode(answer.tokens.map(Int32.init)),
                        qHalt: answer.q, input: query.voteInput))
            }
        }
        return (evaluation, queries, task)
    }

    @Test func passAtKAndSubmissionAreTheReferenceEvaluators() throws {
        let (e, queries, task) = try evaluate(OfficialFolder.arcFolder())
        #expect(task.puzzles.map(\.name) == ["b2", "a1", "c3", "d4"])  // test_puzzles.json order, not sorted
        #expect(queries == 10 && e.unmatched == 0)
        let p = e.passAtK()
        #expect(p.puzzles == 4)
        #expect(PassAtK.defaultKs.map { p.rate($0) } == [0.125, 0.625, 0.75, 0.75, 0.75, 0.75])
        #expect(String(decoding: try e.submissionJSON(style: .reference), as: UTF8.self) == Self.submission)
        let d4 = e.ranked(puzzle: "d4")
        #expect(d4[0].map(\.answer) == [Grid(rows: 0, cols: 0, cells: []), Grid([[5]])!, Grid([[4]])!])
        #expect(d4[1].map(\.answer) == d4[0].map(\.answer) && d4[0].map(\.count) == [2, 1, 1])
        // trm's own layout of the same votes: sorted, compact, a placeholder for c3's pair.
        let sorted = String(decoding: try e.submissionJSON(), as: UTF8.self)
        #expect(
            sorted.hasPrefix(#"{"a1":[{"attempt_1":[[6]],"attempt_2":[[6]]}"#)
                && sorted.contains(#""c3":[{"attempt_1":[[0]],"attempt_2":[[0]]}]"#))
    }

    @Test func theInverseOfTheRotatedRecolouredVersionIsApplied() throws {
        let (_, _, task) = try evaluate(OfficialFolder.arcFolder())
        let b2 = task.queries(for: task.puzzles[0])
        #expect(b2.map(\.row) == [1, 2] && b2.map(\.query.identifier) == ["b2", "b2|||t1|||0231456789"])
        // Rotated 90° and recoloured 1->2, 2->3, 3->1 in the file; back in the original frame here.
        #expect(b2[1].query.voteInput == Grid([[1, 2], [3, 4]])!)
        #expect(b2[1].query.decode(Self.arc([[1, 2], [4, 3]]).map(Int32.init)) == Grid([[4, 3], [2, 1]])!)
        #expect(b2[1].query.tokens == Self.arc([[3, 4], [2, 1]]).map(Int32.init))
    }

    @Test func rowsWithTheBlankIdentifierArePadding() throws {
        // The padding row, given c3's own identifier, votes for c3's answer: c3 passes.
        let voting = try evaluate(OfficialFolder.arcFolder(blankRowsIdentifier: 5))
        #expect(voting.queries == 11 && voting.task.queryCount("c3") == 1)
        #expect(voting.evaluation.passAtK().rate(1) == 1.5 / 4)
        // The same row when c3's identifier is the blank one: padding again.
        var folder = OfficialFolder.arcFolder(blankRowsIdentifier: 5)
        folder.metadata["blank_identifier_id"] = 5
        let padded = try evaluate(folder)
        #expect(padded.queries == 10 && padded.evaluation.passAtK().rate(1) == 0.125)
        #expect(padded.task.queryCount("c3") == 0 && padded.evaluation.ranked(puzzle: "c3").map(\.count) == [0])
    }

    @Test func sudokuExactAccuracyCountsOnlyLabelledPositionsAndRows() throws {
        let dir = try OfficialFolder.sudokuFolder().write()
        defer { ARCFixtures.remove(dir) }
        let task = OfficialGridTask(try OfficialDataset.load(path: dir), prefix: "sudoku")
        #expect(task.names == ["sudoku-0", "sudoku-1", "sudoku-2"])  // row 3 has no counted label
        var e = Evaluation(puzzles: (0..<task.count).map(task.puzzle), ks: [1])
        let solution = task.puzzle(0).testOutputs![0].cells.map(Int32.init)
        var wrong = solution
        wrong[3] = 2
        var wrongWhereIgnored = solution
        wrongWhereIgnored[15] = 9  // not even a token, but position 15 of row 2 is ignored
        for (i, tokens) in [solution, wrong, wrongWhereIgnored].enumerated() {
            let (query, row) = task.query(i)
            #expect(row == 0 && query.tokens.count == 16 && query.tokens[0] == 1)
            e.add(Prediction(puzzle: query.puzzle, testIndex: 0, answer: query.decode(tokens), qHalt: 0))
        }
        #expect(e.passAtK().puzzles == 3 && e.passAtK().rate(1) == 2.0 / 3)
        #expect(task.query(0).query.decode([300] + solution.dropFirst()) == nil)
    }
}
