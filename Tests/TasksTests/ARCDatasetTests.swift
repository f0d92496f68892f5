import Foundation
import Testing
@testable import Tasks
import TRMCore

@Suite struct ARCDatasetTests {
    @Test func readsTheArckitLayoutBySplit() throws {
        let dir = try ARCFixtures.directory(["arc1.json": ARCFixtures.realSample])
        defer { ARCFixtures.remove(dir) }
        let training = try ARCDataset.load(path: dir + "/arc1.json", split: .training)
        #expect(training.map(\.name) == ["25ff71a9", "6150a2bd"])  // sorted by name
        let shift = training[0]
        #expect(shift.train.count == 4 && shift.test.count == 2 && shift.hasSolutions)
        #expect(shift.test[1].output == Grid([[0, 0, 0], [0, 0, 0], [0, 1, 0]]))
        let evaluation = try ARCDataset.load(path: dir + "/arc1.json", split: .evaluation)
        #expect(evaluation.map(\.name) == ["66e6c45b"])
        #expect(evaluation[0].test[0].input.rows == 4)
        #expect(ARCSplit(name: "eval") == .evaluation && ARCSplit(name: "training") == .training && ARCSplit(name: "x") == nil)
    }

    @Test func readsPerPuzzleDirectoriesAtEveryLevel() throws {
        let dir = try ARCFixtures.directory([
            "data/training/aaaa0001.json": ARCFixtures.recolour,
            "data/training/notes.txt": "not a puzzle",
            "data/evaluation/bbbb0002.json": ARCFixtures.recolour,
            "data/evaluation/aaaa0003.json": ARCFixtures.recolourNoSolution,
        ])
        defer { ARCFixtures.remove(dir) }
        // Repository root, the data/ folder and the split folder itself all work.
        for path in [dir, dir + "/data"] {
            #expect(try ARCDataset.load(path: path, split: .training).map(\.name) == ["aaaa0001"])
            #expect(try ARCDataset.load(path: path, split: .evaluation).map(\.name) == ["aaaa0003", "bbbb0002"])
        }
        let flat = try ARCDataset.load(path: dir + "/data/evaluation", split: .training)  // split ignored
        #expect(flat.map(\.name) == ["aaaa0003", "bbbb0002"])
        #expect(flat[0].test[0].output == nil && !flat[0].hasSolutions && flat[0].taskPuzzle == nil)
        #expect(flat[1].test[0].output == Grid([[2, 2, 0], [0, 0, 2]]))
        #expect(flat[1].taskPuzzle?.testOutputs == [Grid([[2, 2, 0], [0, 0, 2]])!])
        // A single puzzle file is named by its file name.
        #expect(try ARCDataset.load(path: dir + "/data/training/aaaa0001.json", split: .evaluation).map(\.name) == ["aaaa0001"])
    }

    @Test func readsKaggleChallengesWithSiblingSolutions() throws {
        let challenge = "{\"cccc0004\": \(ARCFixtures.recolourNoSolution)}"
        let dir = try ARCFixtures.directory([
            "arc-agi_evaluation_challenges.json": challenge,
            "arc-agi_evaluation_solutions.json": "{\"cccc0004\": [[[2, 2, 0], [0, 0, 2]]]}",
            "alone_challenges.json": challenge,
        ])
        defer { ARCFixtures.remove(dir) }
        let solved = try ARCDataset.load(path: dir + "/arc-agi_evaluation_challenges.json", split: .evaluation)
        #expect(solved.map(\.name) == ["cccc0004"] && solved[0].test[0].output == Grid([[2, 2, 0], [0, 0, 2]]))
        let unsolved = try ARCDataset.load(path: dir + "/alone_challenges.json", split: .evaluation)
        #expect(unsolved[0].test[0].output == nil)
    }

    /// Loads `text` as a per-puzzle file and returns the error message.
    func failure(_ text: String, file: String = "dddd0005.json") throws -> String {
        let dir = try ARCFixtures.directory([file: text])
        defer { ARCFixtures.remove(dir) }
        do {
            _ = try ARCDataset.load(path: dir + "/" + file, split: .training)
        } catch let error as TRMError {
            #expect(error.kind == .invalidInput)
            #expect(error.message.contains(file))
            return error.message
        }
        Issue.record("no error for \(text)")
        return ""
    }

    @Test func rejectsMalformedDataWithClearMessages() throws {
        let pair = #"{"input": [[1]], "output": [[2]]}"#
        func puzzle(train: String = pair, test: String = pair) -> String { "{\"train\": [\(train)], \"test\": [\(test)]}" }
        #expect(try failure("{\"train\": [").contains("not valid JSON at line 1, column 12: unexpected end of file"))
        #expect(try failure("{\"train\":\n  [1,, 2]}").contains("line 2, column 6"))
        #expect(try failure(puzzle(test: #"{"input": [[1.5]]}"#)).contains("test[0].input[0][0] is a number, expected a colour 0 to 9"))
        #expect(try failure(puzzle(test: #"{"input": [[true]]}"#)).contains("is a boolean"))
        #expect(try failure("[1, 2]").contains("top level"))
        let ragged = try failure(puzzle(test: #"{"input": [[1, 2], [3]], "output": [[1]]}"#))
        #expect(ragged.contains("puzzle dddd0005") && ragged.contains("test[0].input") && ragged.contains("not rectangular"))
        let tall = [[Int]](repeating: [0], count: 31)
        #expect(try failure(puzzle(train: "{\"input\": \(tall), \"output\": [[1]]}")).contains("train[0].input has 31 rows"))
        #expect(try failure(puzzle(train: #"{"input": [[]], "output": [[1]]}"#)).contains("0 columns"))
        #expect(try failure(puzzle(train: #"{"input": [], "output": [[1]]}"#)).contains("0 rows"))
        let colour = try failure(puzzle(test: #"{"input": [[1, 10]], "output": [[1]]}"#))
        #expect(colour.contains("colour 10 at row 0, column 1"))
        #expect(try failure(puzzle(test: #"{"input": [[-1]]}"#)).contains("colour -1"))
        #expect(try failure(puzzle(train: #"{"input": [[1]]}"#)).contains("train[0] has no output"))
        #expect(try failure(#"{"train": [], "test": [{"input": [[1]]}]}"#).contains("no demonstration"))
        #expect(try failure("{\"train\": [\(pair)], \"test\": []}").contains("no \"test\" pairs"))
        let typed = try failure(puzzle(train: #"{"input": [["a"]], "output": [[1]]}"#))
        #expect(typed.contains("train[0].input[0][0] is a string"))
        #expect(try failure(#"{"train": [{"output": [[1]]}], "test": []}"#).contains("puzzle dddd0005: train[0] has no input"))
        #expect(try failure(#"{"train": [[1]], "test": []}"#).contains("train[0] is an array, expected an object"))
    }

    @Test func namesThePuzzleInsideCombinedFiles() throws {
        let bad = #"{"train": {"eeee0006": {"train": [{"input": [[1, 2]], "output": "x"}], "test": []}}, "eval": {}}"#
        let message = try failure(bad, file: "arc1.json")
        #expect(message.contains("puzzle eeee0006") && message.contains("train[0].output"))
        #expect(try failure(#"{"train": {}}"#, file: "arc1.json").contains("no ARC puzzles"))
        let twice = "{\"ffff0007\": \(ARCFixtures.recolour), \"ffff0007\": \(ARCFixtures.recolour)}"
        #expect(try failure(twice, file: "x_challenges.json").contains("puzzle ffff0007 appears more than once"))
        let dir = try ARCFixtures.directory([:])
        defer { ARCFixtures.remove(dir) }
        #expect(throws: TRMError.self) { try ARCDataset.load(path: dir, split: .training) }
        #expect(throws: TRMError.self) { try ARCDataset.load(path: dir + "/missing.json", split: .training) }
    }

    @Test func jsonReaderHandlesStringsNumbersAndNesting() throws {
        let doc = try ARCJSON.parse(
            Array(#" {"a\"b\u00e9\ud83d\ude00": [-0, 12, 1e2, 2.5, true, false, null, {}, []], "c": "\n/\/"} "#.utf8))
        guard case .object(let members) = doc, members.count == 2 else { Issue.record("not an object"); return }
        #expect(members[0].key == "a\"b\u{e9}\u{1F600}" && members[1].key == "c")
        guard case .array(let list) = members[0].value, list.count == 9 else { Issue.record("not an array"); return }
        if case .int(let zero) = list[0], case .int(let twelve) = list[1] {
            #expect(zero == 0 && twelve == 12)
        } else {
            Issue.record("ints")
        }
        if case .number(let e) = list[2], case .number(let f) = list[3] {
            #expect(e == "1e2" && f == "2.5")
        } else {
            Issue.record("numbers")
        }
        if case .string(let c) = members[1].value { #expect(c == "\n//") } else { Issue.record("string") }
        #expect(doc["c"]?.kind == "a string" && doc["x"] == nil)
        for bad in ["", "01", "[1 2]", "{\"a\" 1}", #"["\u12"]"#, "tru", "[1]]", "-", "1.", "\"\\x\"", String(repeating: "[", count: 100)] {
            #expect(throws: ARCJSON.SyntaxError.self, "\(bad)") { try ARCJSON.parse(Array(bad.utf8)) }
        }
    }

    /// The full ARC-AGI-1 set, only where `make data` has fetched it (never needed by `swift test`).
    static let fullData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("data/arc/arc1.json").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ARCDatasetTests.fullData)))
    func readsTheFullArc1File() throws {
        for (split, tests) in [(ARCSplit.training, 416), (.evaluation, 419)] {
            let puzzles = try ARCDataset.load(path: Self.fullData, split: split)
            #expect(puzzles.count == 400)
            #expect(puzzles.map(\.test.count).reduce(0, +) == tests)
            #expect(puzzles.allSatisfy { $0.hasSolutions })
        }
    }
}
